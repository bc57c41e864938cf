//! The subject-quality rule on subjects as customers write them, in Italian and English, on the
//! web and by e-mail.

use helpdesk_core::api::{
    Assessment, Channel, Department, Service, ServiceFamily, ServiceStatus, Verdict,
};
use helpdesk_core::lang::Lang;
use helpdesk_core::subject::*;

fn service(id: &str, family: ServiceFamily, product: &str, identifier: &str) -> Service {
    Service {
        panel_id: None,
        id: id.to_string(),
        family,
        product: product.to_string(),
        identifier: identifier.to_string(),
        status: ServiceStatus::Active,
    }
}

fn customer() -> Vec<Service> {
    vec![
        service(
            "h1",
            ServiceFamily::HostingShared,
            "Hosting WordPress",
            "pizzeria-da-mario.it",
        ),
        service(
            "h2",
            ServiceFamily::HostingShared,
            "Hosting Pro",
            "studio-rossi.it",
        ),
        service("v1", ServiceFamily::Cronuscloud, "CronusVPS", "vps-0042"),
        service(
            "m1",
            ServiceFamily::Cronuscloud,
            "CronusMail",
            "studio-rossi.it",
        ),
        service(
            "d1",
            ServiceFamily::Domain,
            "Dominio",
            "pizzeria-da-mario.it",
        ),
        service("x1", ServiceFamily::Dedicated, "Server dedicato", "ded-17"),
    ]
}

/// Where a subject is written.
#[derive(Debug, Clone, Copy)]
enum At {
    /// The wizard, technical help, with the hosting of pizzeria-da-mario.it chosen.
    Web,
    /// The wizard, commercial questions, no existing service chosen.
    WebSales,
    /// An e-mail to the technical address.
    Mail,
    /// An e-mail to the sales address.
    MailSales,
}

fn assess_at(at: At, subject: &str, services: &[Service]) -> Assessment {
    let (department, channel, chosen) = match at {
        At::Web => (Department::Helpdesk, Channel::Web, services.first()),
        At::WebSales => (Department::Sales, Channel::Web, None),
        At::Mail => (Department::Helpdesk, Channel::Email, None),
        At::MailSales => (Department::Sales, Channel::Email, None),
    };
    assess(
        subject,
        &SubjectContext {
            department: Some(department),
            chosen_service: chosen,
            services,
            channel,
            lang: Lang::It,
        },
    )
}

fn codes(a: &Assessment) -> Vec<&str> {
    a.hints.iter().map(|h| h.code.as_str()).collect()
}

use At::*;
use Verdict::{Generic as G, Good as OK, Weak as W};

/// (where, subject, verdict, hint codes that must be among the hints)
const TABLE: &[(At, &str, Verdict, &[&str])] = &[
    // Says nothing about what is wrong or wanted.
    (Web, "aiuto!", G, &[DESCRIBE_SYMPTOM, TOO_SHORT]),
    (Web, "richiesta assistenza", G, &[DESCRIBE_SYMPTOM]),
    (Web, "apertura ticket", G, &[DESCRIBE_SYMPTOM]),
    (Web, "urgente", G, &[DESCRIBE_SYMPTOM]),
    (Web, "problema", G, &[DESCRIBE_SYMPTOM]),
    (Web, "help", G, &[]),
    (Web, "info", G, &[]),
    (Web, "informazioni", G, &[]),
    (Web, "ciao", G, &[DESCRIBE_SYMPTOM]),
    (
        Web,
        "buongiorno, avrei bisogno di assistenza",
        G,
        &[DESCRIBE_SYMPTOM, DROP_GREETINGS],
    ),
    (Web, "non funziona", G, &[DESCRIBE_SYMPTOM]),
    (
        Web,
        "problema urgente!!!",
        G,
        &[DESCRIBE_SYMPTOM, NO_URGENCY],
    ),
    (Web, "HELP ME", G, &[NO_SHOUTING]),
    (Web, "supporto", G, &[]),
    (Web, "ticket", G, &[]),
    (Web, "domanda", G, &[]),
    (Web, "segnalazione", G, &[]),
    (Web, "richiesta", G, &[]),
    (Web, "assistenza tecnica", G, &[]),
    (Web, "Re:", G, &[TOO_SHORT]),
    (Web, "", G, &[TOO_SHORT]),
    (Web, "   ", G, &[TOO_SHORT]),
    (Web, "Buongiorno!!! 🙏🙏", G, &[]),
    (
        Web,
        "Salve, vorrei delle informazioni",
        G,
        &[DROP_GREETINGS],
    ),
    (Web, "Gentili signori, per favore aiutatemi", G, &[]),
    (Web, "Fwd: R: I: problema", G, &[]),
    (
        Web,
        "Richiesta di supporto tecnico URGENTE",
        G,
        &[NO_URGENCY],
    ),
    (Web, "RICHIESTA ASSISTENZA!!!", G, &[NO_SHOUTING]),
    (Web, "Perché non funziona???", G, &[]),
    (Web, "Ciao, ho un problema", G, &[]),
    (Web, "Non riesco", G, &[]),
    (Web, "Errore", G, &[]),
    (Web, "Hello, I have a problem", G, &[]),
    (Web, "Support request", G, &[]),
    (Web, "Question", G, &[]),
    (Web, "URGENT!!!", G, &[NO_URGENCY]),
    (Web, "Doesn't work", G, &[]),
    (Web, "Richiesta del 03/06/2024", G, &[]),
    (Web, "Aggiornamento ticket", G, &[]),
    (Web, "Sollecito", G, &[]),
    (Web, "Malfunzionamento", G, &[]),
    (
        Mail,
        "Help needed ASAP",
        G,
        &[DESCRIBE_SYMPTOM, NAME_SERVICE],
    ),
    (Mail, "Assistenza", G, &[NAME_SERVICE]),
    (WebSales, "informazioni commerciali", G, &[DESCRIBE_REQUEST]),
    (MailSales, "Richiesta informazioni", G, &[DESCRIBE_REQUEST]),
    // Unknown-looking words that still say nothing: qualifiers, contact requests, follow-ups.
    (Web, "AIUTOOOO", G, &[NO_SHOUTING]),
    (Web, "Heeelp", G, &[]),
    (Web, "Quick question", G, &[]),
    (Web, "domanda veloce", G, &[]),
    (Web, "piccola domanda", G, &[]),
    (Web, "Problema grave", G, &[]),
    (Web, "Problemi vari", G, &[]),
    (Web, "Problema da risolvere", G, &[]),
    (Web, "Il problema persiste", G, &[]),
    (Web, "Problema non risolto", G, &[]),
    (Web, "Ulteriore problema", G, &[]),
    (Web, "Mi serve aiuto", G, &[]),
    (Web, "Assistenza clienti", G, &[]),
    (Web, "Helpdesk", G, &[]),
    (Web, "General inquiry", G, &[]),
    (Web, "Richiesta di essere ricontattati", G, &[]),
    (Web, "Contattatemi", G, &[]),
    (Web, "Please call me back", G, &[]),
    (
        Web,
        "Buongiorno, ho bisogno di parlare con un tecnico",
        G,
        &[DROP_GREETINGS],
    ),
    (
        Web,
        "Abbiamo bisogno di assistenza al più presto",
        G,
        &[NO_URGENCY],
    ),
    (Web, "Something is wrong", G, &[]),
    (Web, "Something went wrong", G, &[]),
    (Web, "Reclamo", G, &[]),
    (Web, "Comunicazione importante", G, &[]),
    (Web, "Novità?", G, &[]),
    (Web, "Buon pomeriggio", G, &[DROP_GREETINGS]),
    (Web, "Grazie mille", G, &[]),
    (Web, "Please advise", G, &[]),
    (Web, "nn funziona", G, &[]),
    (Web, "Fwd: Segnalazione problema", G, &[]),
    (Web, "R: I: R: richiesta di supporto", G, &[]),
    (
        Web,
        "Richiesta intervento tecnico urgente",
        G,
        &[NO_URGENCY],
    ),
    (Web, "Segnalazione malfunzionamento", G, &[]),
    (Web, "Problema 🙁", G, &[]),
    (Web, "(nessun oggetto)", G, &[]),
    (Mail, "R: ticket", G, &[]),
    (MailSales, "Domanda amministrativa", G, &[]),
    (MailSales, "Contatto commerciale", G, &[]),
    // Says what, roughly, but not enough to route or act on.
    (Web, "problema con il sito", W, &[DESCRIBE_SYMPTOM]),
    (Web, "la posta non va", W, &[DESCRIBE_SYMPTOM]),
    (Web, "problemi email", W, &[DESCRIBE_SYMPTOM]),
    (Web, "Sito web non funzionante", W, &[DESCRIBE_SYMPTOM]),
    (Web, "C'è un errore sul sito", W, &[DESCRIBE_SYMPTOM]),
    (Web, "Problema di accesso", W, &[]),
    (Web, "Problema con la newsletter", W, &[]),
    (Web, "Email", W, &[TOO_SHORT]),
    (Web, "My website is not working", W, &[DESCRIBE_SYMPTOM]),
    (Web, "Help with email", W, &[]),
    (Web, "Domanda sulla fatturazione", W, &[]),
    (Mail, "il server è lento", W, &[NAME_SERVICE]),
    (Mail, "errore 500 sulla home", W, &[NAME_SERVICE]),
    (Mail, "certificato SSL scaduto", W, &[NAME_SERVICE]),
    (
        Mail,
        "cannot send mail: 550 relay denied",
        W,
        &[NAME_SERVICE],
    ),
    (Mail, "Website down", W, &[NAME_SERVICE]),
    (Mail, "disdetta servizio", W, &[NAME_SERVICE]),
    (Mail, "pizzeria-da-mario.it", W, &[DESCRIBE_SYMPTOM]),
    (Mail, "192.168.10.20", W, &[DESCRIBE_SYMPTOM]),
    (
        Mail,
        "Problema posta studio-rossi.it",
        W,
        &[DESCRIBE_SYMPTOM],
    ),
    (MailSales, "Rinnovo", W, &[DESCRIBE_REQUEST, NAME_SERVICE]),
    (WebSales, "richiesta preventivo", W, &[DESCRIBE_REQUEST]),
    (Web, "Modifica", W, &[]),
    (Web, "Configurazione", W, &[DESCRIBE_REQUEST]),
    (Web, "Problema con il database", W, &[]),
    (Web, "Problema PEC", W, &[]),
    (Web, "Domanda sul dominio", W, &[]),
    (Web, "issue with my server", W, &[]),
    (Web, "Something wrong with my website", W, &[]),
    (Web, "Il sito non va 😭", W, &[]),
    (Web, "PROBLEMA SITO WEB", W, &[NO_SHOUTING]),
    (Web, "Perché nessuno risponde?", W, &[]),
    (Mail, "Richiesta authcode", W, &[NAME_SERVICE]),
    (Mail, "VPS non raggiungibile via SSH", W, &[NAME_SERVICE]),
    (Mail, "Problema dominio miosito.it", W, &[DESCRIBE_SYMPTOM]),
    (MailSales, "fattura", W, &[]),
    (WebSales, "Informazioni su hosting WordPress", W, &[]),
    // Two problems, or two services, in one subject.
    (Web, "sito lento e fattura sbagliata", W, &[ONE_PROBLEM]),
    (Web, "email non arriva + rinnovo dominio", W, &[ONE_PROBLEM]),
    (
        Web,
        "errore 500 su pizzeria-da-mario.it; cambio password email",
        W,
        &[ONE_PROBLEM],
    ),
    (Web, "Fattura errata e sito lento", W, &[ONE_PROBLEM]),
    (
        Web,
        "Certificato SSL scaduto; la posta non arriva",
        W,
        &[ONE_PROBLEM],
    ),
    (Web, "Website slow and wrong invoice", W, &[ONE_PROBLEM]),
    (
        Web,
        "pizzeria-da-mario.it lento e studio-rossi.it irraggiungibile",
        W,
        &[ONE_SERVICE],
    ),
    // Names another of the customer's services than the one chosen.
    (Web, "errore 500 su studio-rossi.it", W, &[OTHER_SERVICE]),
    // A symptom or request, and where (on the web the chosen service says where).
    (Web, "errore 500", OK, &[]),
    (Web, "pagina bianca", OK, &[]),
    (Web, "non ricevo email", OK, &[]),
    (Web, "certificato SSL scaduto", OK, &[]),
    (Web, "DNS non propaga", OK, &[]),
    (Web, "timeout FTP", OK, &[]),
    (Web, "login wp-admin impossibile", OK, &[]),
    (Web, "backup non completato", OK, &[]),
    (Web, "server non raggiungibile", OK, &[]),
    (Web, "disk full", OK, &[]),
    (Web, "il server è lento", OK, &[]),
    (Web, "Il sito E' down", OK, &[]),
    (Web, "Sito lentissimo", OK, &[]),
    (Web, "Modulo contatti non invia", OK, &[]),
    (Web, "Outlook chiede continuamente la password", OK, &[]),
    (Web, "Configurazione Outlook", OK, &[]),
    (Web, "errore plugin", OK, &[]),
    (Web, "FTP non funziona", OK, &[]),
    (Web, "sito lento, pagina bianca", OK, &[]),
    (Web, "disco pieno e sito lento", OK, &[]),
    (Web, "Errore 500 e 503", OK, &[]),
    (Web, "ERR_TOO_MANY_REDIRECTS", OK, &[]),
    (Web, "0x80070005 su Outlook", OK, &[]),
    (Web, "Sito hackerato", OK, &[]),
    (
        Web,
        "Le email inviate finiscono nello spam di Gmail",
        OK,
        &[],
    ),
    (Web, "Come configurare la PEC su Thunderbird", OK, &[]),
    (
        Web,
        "Errore \"Error establishing a database connection\"",
        OK,
        &[],
    ),
    (Web, "R: [#FPL-809-43017]: errore 500", OK, &[]),
    (Web, "Password dimenticata", OK, &[]),
    (Web, "Non riesco ad accedere al pannello", OK, &[]),
    (
        Web,
        "Impossibile inviare email da Outlook: errore 0x800CCC0F",
        OK,
        &[],
    ),
    (Web, "Il certificato non è valido", OK, &[]),
    (Web, "Quota casella superata", OK, &[]),
    (Web, "Spazio disco esaurito", OK, &[]),
    (Web, "Aggiornamento PHP a 8.2", OK, &[]),
    (Web, "upgrade piano hosting", OK, &[]),
    (Web, "disdetta servizio", OK, &[]),
    (Web, "Buongiorno, il sito è lento", OK, &[DROP_GREETINGS]),
    (
        Web,
        "URGENTE!!! SITO DOWN!!!",
        OK,
        &[NO_SHOUTING, NO_URGENCY],
    ),
    (Web, "The website is down", OK, &[]),
    (Web, "Can't login to webmail", OK, &[]),
    (Web, "I can't receive emails", OK, &[]),
    (Web, "SSL certificate expired", OK, &[]),
    (Web, "DNS not propagating", OK, &[]),
    (Web, "Cannot access cPanel", OK, &[]),
    (Web, "Email not received since yesterday", OK, &[]),
    (Web, "Renew domain pizzeria-da-mario.it", OK, &[]),
    (Web, "Trasferimento dominio pizzeria-da-mario.it", OK, &[]),
    (Web, "Rinnovo", OK, &[]),
    (Web, "Riavvio", OK, &[]),
    (Web, "Troppe connessioni MySQL", OK, &[]),
    (Web, "Email bouncing back", OK, &[]),
    (Web, "IP in blacklist", OK, &[]),
    (Web, "Wordpress non si aggiorna", OK, &[]),
    (WebSales, "Richiesta copia fattura", OK, &[]),
    (WebSales, "cambio intestatario", OK, &[]),
    (WebSales, "preventivo per server dedicato", OK, &[]),
    (WebSales, "Quanto costa un VPS?", OK, &[]),
    (WebSales, "Need a quote for a dedicated server", OK, &[]),
    (WebSales, "Nuova casella email", OK, &[]),
    (WebSales, "Addebito doppio sulla carta", OK, &[]),
    (WebSales, "Invoice #1234 wrong amount", OK, &[]),
    (MailSales, "fattura 2024/118", OK, &[]),
    (MailSales, "fattura n. 345", OK, &[]),
    (MailSales, "Preventivo per un server dedicato", OK, &[]),
    (Mail, "rinnovo dominio esempio.it", OK, &[]),
    (Mail, "pizzeria-da-mario.it: errore 500 sulla home", OK, &[]),
    (Mail, "CronusVPS non raggiungibile", OK, &[]),
    (Mail, "vps-0042 non risponde al ping", OK, &[]),
    (Mail, "www.pizzeria-da-mario.it pagina bianca", OK, &[]),
    (Mail, "mario@pizzeria-da-mario.it non riceve posta", OK, &[]),
    (
        Mail,
        "Errore 550 5.7.1 inviando da info@studio-rossi.it",
        OK,
        &[],
    ),
    (
        Mail,
        "Re: [#FPL-809-43017] studio-rossi.it: DNS non propaga",
        OK,
        &[],
    ),
    (
        Mail,
        "email non arriva e dominio scaduto su pizzeria-da-mario.it",
        OK,
        &[],
    ),
    (Mail, "Server 185.23.44.10 unreachable", OK, &[]),
    (
        Mail,
        "https://pizzeria-da-mario.it/wp-admin risponde 403",
        OK,
        &[],
    ),
    // Verb forms, elongated letters, "richiesta" of a concrete thing, texting shorthand.
    (Web, "Le email rimbalzano", OK, &[]),
    (Web, "Import dump SQL fallito", OK, &[]),
    (Web, "Il dominio punta al vecchio server", OK, &[]),
    (Web, "Reinstallazione sistema operativo", OK, &[]),
    (Web, "Passaggio a PHP 8", OK, &[]),
    (Web, "Inoltro email a Gmail", OK, &[]),
    (Web, "Richiesta authcode", OK, &[]),
    (Web, "Richiesta codice EPP", OK, &[]),
    (Web, "Request EPP code", OK, &[]),
    (Web, "Richiesta backup completo", OK, &[]),
    (Web, "Authcode dominio", OK, &[]),
    (
        Web,
        "Gentili signori, richiesta authcode",
        OK,
        &[DROP_GREETINGS],
    ),
    (Web, "nn ricevo mail", OK, &[]),
    (Web, "sito nn si apre", OK, &[]),
    (Web, "Limite memoria PHP", OK, &[]),
    (Web, "Load altissimo sul server", OK, &[]),
    (Web, "RAM insufficiente", OK, &[]),
    (Web, "IP bannato", OK, &[]),
    (Web, "Sito in manutenzione da ore", OK, &[]),
    (Web, "Critical error WordPress", OK, &[]),
    (Web, "Outlook continua a chiedere la password", OK, &[]),
    (Web, "Outlook keeps asking for password", OK, &[]),
    (Web, "SITO HACKERATO!!! AIUTO", OK, &[NO_SHOUTING]),
    (Web, "perche il sito e lento?", OK, &[]),
    (Web, "Il sito e' lentissimo", OK, &[]),
    (Web, "la pec non funziona piu", OK, &[]),
    (Web, "certifcato ssl scadutto", OK, &[]),
    (Web, "eror 500", OK, &[]),
    (Web, "🔥 sito down 🔥", OK, &[]),
    (Web, "Re: I: Errore 500", OK, &[]),
    (Web, "URGENTE: sito down", OK, &[NO_URGENCY]),
    (Web, "Errore 503 Service Unavailable", OK, &[]),
    (Web, "404 su tutte le pagine tranne la home", OK, &[]),
    (Web, "Il sito risulta non sicuro", OK, &[]),
    (Web, "Troppi reindirizzamenti", OK, &[]),
    (Web, "Reset password casella info@", OK, &[]),
    (Web, "PEC piena", OK, &[]),
    (Web, "Dominio in blacklist Spamhaus", OK, &[]),
    (Web, "Cambio nameserver", OK, &[]),
    (Web, "DNS_PROBE_FINISHED_NXDOMAIN", OK, &[]),
    (Web, "Disattivare rinnovo automatico", OK, &[]),
    (Web, "Cron job non parte", OK, &[]),
    (Web, "Aumentare memory_limit", OK, &[]),
    (Web, "CPU al 100%", OK, &[]),
    (Web, "Aprire porta 3306 sul firewall", OK, &[]),
    (Web, "Errore NET::ERR_CERT_DATE_INVALID", OK, &[]),
    (Web, "Chiave SSH non accettata", OK, &[]),
    (Web, "Website not loading", OK, &[]),
    (Web, "How to point my domain to another server", OK, &[]),
    (Web, "403 forbidden when uploading images", OK, &[]),
    (Web, "Mailbox quota exceeded", OK, &[]),
    (WebSales, "Richiesta fattura elettronica", OK, &[]),
    (WebSales, "Richiesta nota di credito", OK, &[]),
    (WebSales, "Fattura non ricevuta", OK, &[]),
    (WebSales, "Pagamento non andato a buon fine", OK, &[]),
    (WebSales, "Upgrade da Hosting Basic a Hosting Pro", OK, &[]),
    (WebSales, "Quanto costa passare a Hosting Pro?", OK, &[]),
    (WebSales, "Pricing for dedicated servers", OK, &[]),
    (MailSales, "Fattura 2024/456 non pagata", OK, &[]),
    (MailSales, "Pagamento fattura FT-2024-0087", OK, &[]),
    (MailSales, "Disdetta hosting miosito.it", OK, &[]),
    (Mail, "Authcode per miosito.it", OK, &[]),
    (Mail, "miosito.it - richiesta authcode", OK, &[]),
    (Mail, "info@studio-rossi.it casella piena", OK, &[]),
    (Mail, "ded-17 non raggiungibile", OK, &[]),
    (Mail, "Hosting WordPress: sito lento", OK, &[]),
    (
        Mail,
        "Gentili signori, il sito ferramenta-bianchi.it non si apre",
        OK,
        &[DROP_GREETINGS],
    ),
    (Mail, "Fwd: Mail delivery failed: studio-rossi.it", OK, &[]),
    // Follow-ups, references and qualifiers: a customer or ticket number is not an error code.
    (Web, "secondo sollecito", G, &[]),
    (Web, "nessuna risposta al ticket", G, &[]),
    (Web, "Follow up", G, &[]),
    (Web, "Still waiting", G, &[]),
    (Web, "Attendo vostre notizie", G, &[]),
    (Web, "It doesn't work anymore", G, &[]),
    (Web, "come da accordi telefonici", G, &[]),
    (Web, "Vorrei parlare con qualcuno", G, &[]),
    (Web, "chiudere ticket", G, &[]),
    (Web, "Re: Ticket #12345", G, &[]),
    (Web, "Ticket n. 45678", G, &[]),
    (Web, "Codice cliente 10234", G, &[]),
    (Web, "Cod. cliente 889900 assistenza", G, &[]),
    (Web, "Aggiornamento pratica 7788", G, &[]),
    (Web, "Re: Case #998877", G, &[]),
    (Mail, "Customer ID 445566", G, &[]),
    (Web, "strano comportamento sito", W, &[]),
    (Mail, "Ticket 55231 ferramentabianchi.it", W, &[]),
    (Mail, "403 Forbidden", W, &[NAME_SERVICE]),
    (Web, "Cliente 10234: sito lento", OK, &[]),
    (Web, "Ticket 4567 errore 500", OK, &[]),
    (Web, "Codice errore 17", OK, &[]),
    // Telegraphic symptoms, slang and bounce subjects pasted from the customer's mailbox.
    (Web, "sito giù", OK, &[]),
    (Mail, "pizzeria-da-mario.it sito giù", OK, &[]),
    (Web, "sito bucato", OK, &[]),
    (Web, "le mail tornano indietro", OK, &[]),
    (Mail, "Fwd: Undeliverable: info@studio-rossi.it", OK, &[]),
    (Web, "sito rimanda a un altro sito", OK, &[]),
    (Web, "account email violato", OK, &[]),
    (Web, "Sito clonato", OK, &[]),
    (Web, "Locked out of cPanel", OK, &[]),
    (Web, "Forbidden", OK, &[]),
    (Web, "quota superata casella info@", OK, &[]),
    (Web, "pagato due volte", OK, &[]),
    (Web, "Need a backup restored", OK, &[]),
    (Web, "impostare inoltro", OK, &[]),
    (Web, "Trasloco sito", OK, &[]),
    (Web, "Chiusura casella info@", OK, &[]),
    (WebSales, "prova gratuita vps", OK, &[]),
];

#[test]
fn every_subject_of_the_table_gets_its_verdict_and_hints() {
    let services = customer();
    let mut wrong = Vec::new();
    for &(at, subject, verdict, hints) in TABLE {
        let a = assess_at(at, subject, &services);
        let got = codes(&a);
        if a.verdict != verdict || !hints.iter().all(|h| got.contains(h)) {
            wrong.push(format!(
                "{at:?} {subject:?}: expected {verdict:?} with {hints:?}, got {:?} {} with {got:?}",
                a.verdict, a.score
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} wrong:\n{}",
        wrong.len(),
        TABLE.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_table_covers_all_three_verdicts_on_both_channels() {
    assert!(TABLE.len() >= 60);
    for verdict in [G, W, OK] {
        for mail in [false, true] {
            assert!(TABLE
                .iter()
                .any(|(at, _, v, _)| *v == verdict && matches!(at, Mail | MailSales) == mail));
        }
    }
}

#[test]
fn the_score_always_falls_in_its_verdicts_band() {
    let services = customer();
    for &(at, subject, _, _) in TABLE {
        let a = assess_at(at, subject, &services);
        let band = match a.verdict {
            Verdict::Generic => 0..=WEAK_MIN_SCORE - 1,
            Verdict::Weak => WEAK_MIN_SCORE..=GOOD_MIN_SCORE - 1,
            Verdict::Good => GOOD_MIN_SCORE..=100,
        };
        assert!(band.contains(&a.score), "{subject:?}: {a:?}");
    }
}

#[test]
fn naming_the_service_raises_the_score() {
    let services = customer();
    let bare = assess_at(Web, "errore 500 sulla home", &services);
    let named = assess_at(
        Web,
        "pizzeria-da-mario.it: errore 500 sulla home",
        &services,
    );
    assert!(named.score > bare.score, "{bare:?} {named:?}");
}

#[test]
fn shouting_lowers_the_score_and_asks_to_write_normally() {
    let services = customer();
    let calm = assess_at(Web, "Sito lento da stamattina", &services);
    let loud = assess_at(Web, "SITO LENTO DA STAMATTINA", &services);
    assert_eq!(calm.verdict, loud.verdict);
    assert!(loud.score < calm.score);
    assert!(codes(&loud).contains(&NO_SHOUTING));
    assert!(!codes(&calm).contains(&NO_SHOUTING));
}

#[test]
fn acronyms_in_capitals_are_not_shouting() {
    let a = assess_at(Web, "Record MX e SPF per DNS", &customer());
    assert!(!codes(&a).contains(&NO_SHOUTING), "{a:?}");
    let a = assess_at(Web, "Errore SSL su WP", &customer());
    assert!(!codes(&a).contains(&NO_SHOUTING), "{a:?}");
}

#[test]
fn accents_case_and_punctuation_do_not_change_the_verdict() {
    let services = customer();
    for (a, b) in [
        ("perché non funziona", "PERCHE' NON FUNZIONA!!!"),
        ("il server è lento", "Il Server E' Lento..."),
        ("richiesta assistenza", "Richiesta   Assistenza ?!?"),
        ("pagina bianca", "«Pagina bianca» 😱"),
    ] {
        assert_eq!(
            assess_at(Web, a, &services).verdict,
            assess_at(Web, b, &services).verdict,
            "{a:?} vs {b:?}"
        );
    }
}

#[test]
fn name_service_suggests_the_customers_own_domain_with_their_own_words() {
    let a = assess_at(Mail, "errore 500 sulla home", &customer());
    let hint = a.hints.iter().find(|h| h.code == NAME_SERVICE).unwrap();
    assert_eq!(
        hint.message,
        "Indica il dominio o il servizio, per esempio «pizzeria-da-mario.it: errore 500 sulla home»"
    );
}

#[test]
fn describe_symptom_shows_an_example_with_the_chosen_service() {
    let services = customer();
    let a = assess(
        "richiesta assistenza",
        &SubjectContext {
            department: Some(Department::Helpdesk),
            chosen_service: Some(&services[2]),
            services: &services,
            channel: Channel::Web,
            lang: Lang::It,
        },
    );
    let hint = a.hints.iter().find(|h| h.code == DESCRIBE_SYMPTOM).unwrap();
    assert!(hint
        .message
        .starts_with("Descrivi il sintomo: cosa non funziona e dove"));
    assert!(hint.message.contains("«vps-0042: "), "{}", hint.message);
}

#[test]
fn a_customer_without_services_gets_a_placeholder_example() {
    let a = assess_at(Mail, "aiuto", &[]);
    assert!(a.hints.iter().any(|h| h.message.contains("tuodominio.it")));
}

#[test]
fn a_product_the_customer_has_twice_does_not_say_which_service() {
    let services = vec![
        service("a", ServiceFamily::Cronuscloud, "CronusVPS", "vps-0001"),
        service("b", ServiceFamily::Cronuscloud, "CronusVPS", "vps-0002"),
    ];
    let a = assess_at(Mail, "CronusVPS non raggiungibile", &services);
    assert_eq!(a.verdict, Verdict::Weak);
    let hint = a.hints.iter().find(|h| h.code == NAME_SERVICE).unwrap();
    assert!(hint.message.contains("vps-0001"), "{}", hint.message);
    let a = assess_at(Mail, "vps-0002 non raggiungibile", &services);
    assert_eq!(a.verdict, Verdict::Good);
}

#[test]
fn a_request_without_its_object_is_completed_with_the_customers_service() {
    let a = assess_at(MailSales, "Rinnovo", &customer());
    let hint = a.hints.iter().find(|h| h.code == DESCRIBE_REQUEST).unwrap();
    assert!(
        hint.message.contains("«Rinnovo pizzeria-da-mario.it»"),
        "{}",
        hint.message
    );
}

#[test]
fn two_problems_get_the_one_ticket_per_problem_sentence() {
    let a = assess_at(Web, "sito lento e fattura sbagliata", &customer());
    let hint = a.hints.iter().find(|h| h.code == ONE_PROBLEM).unwrap();
    assert_eq!(
        hint.message,
        "Un ticket per ogni problema: apri un ticket separato per ciascuna richiesta"
    );
}

#[test]
fn another_service_than_the_chosen_one_is_pointed_out_by_name() {
    let a = assess_at(Web, "errore 500 su studio-rossi.it", &customer());
    let hint = a.hints.iter().find(|h| h.code == OTHER_SERVICE).unwrap();
    assert!(hint.message.contains("«studio-rossi.it»"));
    assert!(hint.message.contains("«pizzeria-da-mario.it»"));
}

#[test]
fn by_email_a_chosen_service_does_not_excuse_a_subject_without_it() {
    let services = customer();
    let a = assess(
        "errore 500 sulla home",
        &SubjectContext {
            department: Some(Department::Helpdesk),
            chosen_service: Some(&services[0]),
            services: &services,
            channel: Channel::Email,
            lang: Lang::It,
        },
    );
    assert_eq!(a.verdict, Verdict::Weak);
    assert!(codes(&a).contains(&NAME_SERVICE));
}

#[test]
fn without_a_department_requests_get_request_examples() {
    let services = customer();
    let a = assess(
        "preventivo",
        &SubjectContext {
            department: None,
            chosen_service: None,
            services: &services,
            channel: Channel::Web,
            lang: Lang::It,
        },
    );
    assert!(codes(&a).contains(&DESCRIBE_REQUEST), "{a:?}");
}

#[test]
fn a_long_subject_is_told_to_move_details_to_the_description() {
    let subject = "Errore 500 sulla home ".repeat(10);
    let a = assess_at(Web, &subject, &customer());
    assert!(codes(&a).contains(&TOO_LONG));
    assert!(a.hints.iter().any(|h| h.message.contains("150")));
}

#[test]
fn hints_are_few_distinct_and_all_declared() {
    let services = customer();
    for &(at, subject, _, _) in TABLE {
        let a = assess_at(at, subject, &services);
        let got = codes(&a);
        assert!(got.len() <= 3, "{subject:?}: {got:?}");
        for (i, code) in got.iter().enumerate() {
            assert!(HINT_CODES.contains(code));
            assert!(!got[..i].contains(code));
        }
        assert!(a.hints.iter().all(|h| !h.message.is_empty()));
    }
}

#[test]
fn hint_codes_are_stable_snake_case_and_unique() {
    assert_eq!(hint_codes(), HINT_CODES);
    for (i, code) in HINT_CODES.iter().enumerate() {
        assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        assert!(!HINT_CODES[..i].contains(code));
    }
}

/// Small deterministic generator, so that the robustness test needs no extra crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn any_input_gets_an_assessment_without_panicking() {
    const PIECES: &[&str] = &[
        " ",
        "e",
        "è",
        "E'",
        "non",
        "!",
        "?",
        ".",
        ",",
        ";",
        "+",
        "-",
        "/",
        ":",
        "@",
        "_",
        "'",
        "’",
        "0x",
        "500",
        "5.7.1",
        "2024/118",
        "03/06/2024",
        "10:12",
        "::1",
        "192.168.0.1",
        "https://",
        "www.",
        ".it",
        "pizzeria-da-mario.it",
        "vps-0042",
        "İ",
        "ß",
        "ﬁ",
        "🙂",
        "日本",
        "\u{0}",
        "\u{200b}",
        "\u{feff}",
        "\t",
        "\n",
        "Re:",
        "[#FPL-809-43017]",
        "aiuto",
        "sito",
        "lento",
        "fattura",
        "rinnovo",
        "URGENTE",
        "CronusVPS",
        "Hosting",
        "WordPress",
    ];
    let services = customer();
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for round in 0..20_000 {
        let mut subject = String::new();
        for _ in 0..(rng.next() % 24) {
            if rng.next().is_multiple_of(6) {
                let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('\u{fffd}');
                subject.push(c);
            } else {
                subject.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
            }
        }
        let at = [Web, WebSales, Mail, MailSales][round % 4];
        let a = assess_at(at, &subject, &services);
        assert!(a.score <= 100);
    }
}

#[test]
fn a_huge_pasted_subject_is_assessed_too() {
    let subject = "errore 500 e fattura sbagliata, non funziona, ".repeat(50_000);
    let a = assess_at(Web, &subject, &customer());
    assert!(codes(&a).contains(&TOO_LONG) || a.hints.len() == 3);
}

/// (subject, whether it greets): words such as "morning", "buon", "giorno", "staff" greet only
/// where a greeting stands (at the head of the subject or of a phrase, or after another
/// greeting), in Italian and English.
const GREETING_PLACES: &[(&str, bool)] = &[
    ("very slow since this morning", false),
    ("Website very slow since this morning", false),
    ("Site down every morning at 9", false),
    ("Website slow in the evening", false),
    ("Staff area login fails", false),
    ("Good morning, the website is down", true),
    ("Morning: site down since 9", true),
    ("Hi team, website very slow", true),
    ("Website very slow, good evening", true),
    ("Pagamento non andato a buon fine", false),
    ("Sito lento da un giorno", false),
    ("Sito lento da stamattina", false),
    ("Errore 500 ogni pomeriggio", false),
    ("Buongiorno, sito lento da stamattina", true),
    ("Sito lento da stamattina, buongiorno", true),
    ("Sito lento, buon pomeriggio", true),
    ("Buon giorno, errore 500 sulla home", true),
    ("Gentile staff, certificato scaduto", true),
];

fn assess_in(lang: Lang, subject: &str, services: &[Service]) -> Assessment {
    assess(
        subject,
        &SubjectContext {
            department: Some(Department::Helpdesk),
            chosen_service: services.first(),
            services,
            channel: Channel::Web,
            lang,
        },
    )
}

#[test]
fn words_that_greet_only_in_a_greetings_place_are_plain_words_elsewhere() {
    let services = customer();
    for &(subject, greets) in GREETING_PLACES {
        for lang in [Lang::It, Lang::En] {
            let a = assess_in(lang, subject, &services);
            assert_eq!(
                codes(&a).contains(&DROP_GREETINGS),
                greets,
                "{subject:?}: {a:?}"
            );
        }
    }
    // The report: a clear subject, and nothing to change in it.
    let a = assess_in(Lang::En, "very slow since this morning", &services);
    assert_eq!(a.verdict, Verdict::Good, "{a:?}");
    assert!(a.hints.is_empty(), "{a:?}");
    let a = assess_in(Lang::It, "Sito lento da un giorno", &services);
    assert_eq!(a.verdict, Verdict::Good, "{a:?}");
    assert!(a.hints.is_empty(), "{a:?}");
}

#[test]
fn a_clear_verdict_never_comes_with_a_hint_that_says_otherwise() {
    // A clear subject may still get advice on its form (a greeting, capitals, "urgente", the
    // length), never a hint that it lacks what, where, or one problem and one service.
    const FORM: &[&str] = &[NO_URGENCY, NO_SHOUTING, DROP_GREETINGS, TOO_LONG];
    let services = customer();
    let subjects = TABLE
        .iter()
        .map(|&(at, s, ..)| (at, s))
        .chain(GREETING_PLACES.iter().map(|&(s, _)| (Web, s)))
        .chain([(Web, "500"), (Web, "404"), (Mail, "ok")]);
    for (at, subject) in subjects {
        let a = assess_at(at, subject, &services);
        if a.verdict == Verdict::Good {
            let got = codes(&a);
            assert!(
                got.iter().all(|c| FORM.contains(c)),
                "{at:?} {subject:?}: {a:?}"
            );
        }
    }
}
