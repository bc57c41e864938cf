//! The subject-quality hints' sentences and example subjects, keyed, in Italian and English: the
//! one table of them, read by [`crate::subject::assess`] (and so by the app's live hints, the
//! server's check and the e-mail intake's answers alike).
//!
//! Every entry is a whole sentence per language with named placeholders (`{example}`,
//! `{service}`, `{subject}`, `{named}`, `{chosen}`, `{max}`), filled by [`fill`]; no sentence is
//! glued from pieces in one language's word order. The customer's own words and identifiers go
//! into the placeholders untouched.

use crate::lang::Lang;

/// One entry of [`TABLE`]: a hint's sentence in one of its forms, or an example subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// `name_service` with a whole example subject: `{example}`.
    NameService,
    /// `name_service` beside a describe hint, which already shows an example: `{service}`.
    NameServiceOnly,
    /// `name_service` when the subject already says what is wrong: `{service}`, `{subject}`.
    NameServiceWithSubject,
    /// `describe_symptom`: `{example}`.
    DescribeSymptom,
    /// `describe_request`: `{example}`.
    DescribeRequest,
    /// `describe_request` for a request without its object ("Rinnovo"), completed with the
    /// customer's own words: `{subject}`, `{service}`.
    DescribeRequestEcho,
    /// `one_problem`.
    OneProblem,
    /// `one_service`.
    OneService,
    /// `other_service`: `{named}` (in the subject), `{chosen}` (in the wizard).
    OtherService,
    /// `too_short` for a problem.
    TooShort,
    /// `too_short` for a request.
    TooShortAsks,
    /// `too_long`: `{max}` characters.
    TooLong,
    /// `no_shouting`.
    NoShouting,
    /// `no_urgency` for a problem.
    NoUrgency,
    /// `no_urgency` for a request.
    NoUrgencyAsks,
    /// `drop_greetings`.
    DropGreetings,
    /// Example subject: an invoice the subject does not identify.
    ExampleBilling,
    /// Example subject: a commercial question about a domain, `{service}`.
    ExampleSalesDomain,
    /// Example subject: a commercial question without a service.
    ExampleSalesNoService,
    /// Example subjects, `{service}`: commercial questions by family.
    ExampleSalesHosting,
    ExampleSalesCloud,
    ExampleSalesOther,
    /// Example subjects, `{service}`: technical requests by family and product.
    ExampleRequestSmtp,
    ExampleRequestMail,
    ExampleRequestCloud,
    ExampleRequestColocation,
    ExampleRequestDedicated,
    ExampleRequestDomain,
    ExampleRequestOther,
    /// Example subjects, `{service}`: symptoms by family and product.
    ExampleSymptomSmtp,
    ExampleSymptomMail,
    ExampleSymptomCloud,
    ExampleSymptomColocation,
    ExampleSymptomDedicated,
    ExampleSymptomDomain,
    ExampleSymptomOther,
    /// The domain shown when the customer has no service to show.
    PlaceholderDomain,
}

impl Key {
    /// How many keys there are: [`Key::PlaceholderDomain`] is the last.
    pub const COUNT: usize = Key::PlaceholderDomain as usize + 1;
}

/// A row of the table: the key, the hint code it belongs to ([`EXAMPLE`] for example subjects
/// and the placeholder), and the sentence in each language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub key: Key,
    pub code: &'static str,
    pub it: &'static str,
    pub en: &'static str,
}

impl Entry {
    pub fn text(&self, lang: Lang) -> &'static str {
        lang.pick(self.it, self.en)
    }
}

/// The `code` of the rows that are example subjects rather than hints.
pub const EXAMPLE: &str = "example";

const fn row(key: Key, code: &'static str, it: &'static str, en: &'static str) -> Entry {
    Entry { key, code, it, en }
}

use crate::subject::{
    DESCRIBE_REQUEST, DESCRIBE_SYMPTOM, DROP_GREETINGS, NAME_SERVICE, NO_SHOUTING, NO_URGENCY,
    ONE_PROBLEM, ONE_SERVICE, OTHER_SERVICE, TOO_LONG, TOO_SHORT,
};
use Key::*;

/// Every hint sentence and example subject, in the order of [`Key`].
#[rustfmt::skip]
pub const TABLE: &[Entry] = &[
    row(NameService, NAME_SERVICE,
        "Indica il dominio o il servizio, per esempio «{example}»",
        "Name the domain or the service, for example “{example}”"),
    row(NameServiceOnly, NAME_SERVICE,
        "Indica il dominio o il servizio, per esempio «{service}»",
        "Name the domain or the service, for example “{service}”"),
    row(NameServiceWithSubject, NAME_SERVICE,
        "Indica il dominio o il servizio, per esempio «{service}: {subject}»",
        "Name the domain or the service, for example “{service}: {subject}”"),
    row(DescribeSymptom, DESCRIBE_SYMPTOM,
        "Descrivi il sintomo: cosa non funziona e dove, per esempio «{example}»",
        "Describe the symptom: what is not working and where, for example “{example}”"),
    row(DescribeRequest, DESCRIBE_REQUEST,
        "Scrivi cosa ti serve e per quale servizio, per esempio «{example}»",
        "Say what you need and for which service, for example “{example}”"),
    row(DescribeRequestEcho, DESCRIBE_REQUEST,
        "Scrivi cosa ti serve e per quale servizio, per esempio «{subject} {service}»",
        "Say what you need and for which service, for example “{subject} {service}”"),
    row(OneProblem, ONE_PROBLEM,
        "Un ticket per ogni problema: apri un ticket separato per ciascuna richiesta",
        "One ticket for each problem: open a separate ticket for each request"),
    row(OneService, ONE_SERVICE,
        "Un ticket per ogni servizio: apri un ticket separato per ciascun dominio o servizio",
        "One ticket for each service: open a separate ticket for each domain or service"),
    row(OtherService, OTHER_SERVICE,
        "L'oggetto parla di «{named}», ma il servizio scelto è «{chosen}»: scegli il servizio giusto, o apri un ticket per ciascuno",
        "The subject is about “{named}”, but the chosen service is “{chosen}”: choose the right service, or open a ticket for each"),
    row(TooShort, TOO_SHORT,
        "L'oggetto è troppo breve: scrivi in poche parole cosa non funziona e dove",
        "The subject is too short: say in a few words what is not working and where"),
    row(TooShortAsks, TOO_SHORT,
        "L'oggetto è troppo breve: scrivi in poche parole cosa ti serve e per quale servizio",
        "The subject is too short: say in a few words what you need and for which service"),
    row(TooLong, TOO_LONG,
        "L'oggetto è lungo: tienilo entro {max} caratteri e sposta i dettagli nella descrizione",
        "The subject is long: keep it within {max} characters and move the details to the description"),
    row(NoShouting, NO_SHOUTING,
        "Scrivi normalmente, senza tutto maiuscolo: si legge meglio e il ticket non arriva prima",
        "Write normally, not all in capitals: it is easier to read, and the ticket does not arrive any sooner"),
    row(NoUrgency, NO_URGENCY,
        "Non serve scrivere «urgente»: il ticket arriva prima al tecnico giusto se l'oggetto dice cosa non funziona",
        "No need to write “urgent”: the ticket reaches the right technician sooner if the subject says what is not working"),
    row(NoUrgencyAsks, NO_URGENCY,
        "Non serve scrivere «urgente»: il ticket arriva prima al tecnico giusto se l'oggetto dice cosa ti serve",
        "No need to write “urgent”: the ticket reaches the right technician sooner if the subject says what you need"),
    row(DropGreetings, DROP_GREETINGS,
        "Saluti e formule di cortesia vanno nella descrizione: nell'oggetto bastano il problema e il servizio",
        "Greetings and courtesy phrases belong in the description: the subject only needs the problem and the service"),
    row(ExampleBilling, EXAMPLE,
        "fattura n. 345 del 2024: partita IVA da correggere",
        "invoice no. 345 of 2024: wrong VAT number"),
    row(ExampleSalesDomain, EXAMPLE,
        "rinnovo dominio {service}",
        "renewal of the domain {service}"),
    row(ExampleSalesNoService, EXAMPLE,
        "preventivo per un server dedicato",
        "quote for a dedicated server"),
    row(ExampleSalesHosting, EXAMPLE,
        "{service}: passaggio a un piano superiore",
        "{service}: upgrade to a bigger plan"),
    row(ExampleSalesCloud, EXAMPLE,
        "{service}: preventivo per più spazio",
        "{service}: quote for more disk space"),
    row(ExampleSalesOther, EXAMPLE,
        "{service}: rinnovo del contratto",
        "{service}: contract renewal"),
    row(ExampleRequestSmtp, EXAMPLE,
        "{service}: aumento del limite di invio",
        "{service}: raise the sending limit"),
    row(ExampleRequestMail, EXAMPLE,
        "{service}: creazione di una nuova casella",
        "{service}: create a new mailbox"),
    row(ExampleRequestCloud, EXAMPLE,
        "{service}: aumento della RAM a 8 GB",
        "{service}: upgrade the RAM to 8 GB"),
    row(ExampleRequestColocation, EXAMPLE,
        "{service}: accesso al rack per sostituire un disco",
        "{service}: rack access to replace a disk"),
    row(ExampleRequestDedicated, EXAMPLE,
        "{service}: reinstallazione del sistema operativo",
        "{service}: reinstall the operating system"),
    row(ExampleRequestDomain, EXAMPLE,
        "{service}: modifica dei record DNS",
        "{service}: change the DNS records"),
    row(ExampleRequestOther, EXAMPLE,
        "{service}: attivazione del certificato SSL",
        "{service}: activate the SSL certificate"),
    row(ExampleSymptomSmtp, EXAMPLE,
        "{service}: invio rifiutato con errore 550",
        "{service}: sending refused with error 550"),
    row(ExampleSymptomMail, EXAMPLE,
        "{service}: non ricevo email da ieri",
        "{service}: no incoming e-mail since yesterday"),
    row(ExampleSymptomCloud, EXAMPLE,
        "{service}: non raggiungibile via SSH",
        "{service}: unreachable over SSH"),
    row(ExampleSymptomColocation, EXAMPLE,
        "{service}: server non raggiungibile dalla rete",
        "{service}: server unreachable from the network"),
    row(ExampleSymptomDedicated, EXAMPLE,
        "{service}: disco pieno, servizi fermi",
        "{service}: disk full, services down"),
    row(ExampleSymptomDomain, EXAMPLE,
        "{service}: il DNS non punta al nuovo server",
        "{service}: DNS not pointing to the new server"),
    row(ExampleSymptomOther, EXAMPLE,
        "{service}: errore 500 sulla home",
        "{service}: error 500 on the home page"),
    row(PlaceholderDomain, EXAMPLE,
        "tuodominio.it",
        "yourdomain.com"),
];

/// The entry of `key`.
pub fn entry(key: Key) -> &'static Entry {
    // The table is written in the order of `Key`, as a test checks.
    &TABLE[key as usize]
}

/// The template of `key` in `lang`, placeholders unfilled.
pub fn template(key: Key, lang: Lang) -> &'static str {
    entry(key).text(lang)
}

/// The sentence of `key` in `lang` with its placeholders filled.
pub fn text(key: Key, lang: Lang, params: &[(&str, &str)]) -> String {
    fill(template(key, lang), params)
}

/// Replaces each `{name}` of `template` by the value of `name` in `params`, in one pass (a value
/// is never read again for placeholders). A `{` that opens no known name stays as it is.
pub fn fill(template: &str, params: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 48);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, v)| (v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholder names a template uses, in order of appearance.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                names.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Channel, Department, Service, ServiceFamily, ServiceStatus};
    use crate::subject::{assess, SubjectContext, HINT_CODES};
    use std::collections::BTreeSet;

    /// The names a placeholder may have.
    const NAMES: &[&str] = &["example", "service", "subject", "named", "chosen", "max"];

    #[test]
    fn the_table_is_in_the_order_of_its_keys_and_complete() {
        assert_eq!(TABLE.len(), Key::COUNT);
        for (i, e) in TABLE.iter().enumerate() {
            assert_eq!(e.key as usize, i, "{:?} out of place", e.key);
            assert_eq!(entry(e.key), e);
        }
    }

    #[test]
    fn every_hint_code_has_a_sentence_in_both_languages() {
        for code in HINT_CODES {
            let rows: Vec<&Entry> = TABLE.iter().filter(|e| e.code == *code).collect();
            assert!(!rows.is_empty(), "{code} has no sentence");
            for e in rows {
                for lang in Lang::ALL {
                    assert!(!e.text(lang).trim().is_empty(), "{:?} in {lang:?}", e.key);
                }
            }
        }
        for e in TABLE {
            assert!(
                e.code == EXAMPLE || HINT_CODES.contains(&e.code),
                "{:?}: unknown code {}",
                e.key,
                e.code
            );
            assert!(
                !e.it.trim().is_empty() && !e.en.trim().is_empty(),
                "{:?}",
                e.key
            );
        }
    }

    #[test]
    fn both_languages_of_an_entry_take_the_same_known_placeholders() {
        for e in TABLE {
            let it: BTreeSet<&str> = placeholders(e.it).into_iter().collect();
            let en: BTreeSet<&str> = placeholders(e.en).into_iter().collect();
            assert_eq!(it, en, "{:?}", e.key);
            for name in &it {
                assert!(NAMES.contains(name), "{:?}: {{{name}}}", e.key);
            }
            // Filled with every name, no brace is left: each one opens a known placeholder.
            let params: Vec<(&str, &str)> = NAMES.iter().map(|n| (*n, "x")).collect();
            for lang in Lang::ALL {
                let filled = fill(e.text(lang), &params);
                assert!(
                    !filled.contains('{') && !filled.contains('}'),
                    "{:?} in {lang:?}: {filled}",
                    e.key
                );
            }
        }
    }

    #[test]
    fn fill_replaces_known_names_once_and_leaves_the_rest() {
        assert_eq!(
            fill("a {x} b {y}", &[("x", "{y}"), ("y", "2")]),
            "a {y} b 2"
        );
        assert_eq!(fill("{nope} {", &[("x", "1")]), "{nope} {");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("è {x}»", &[("x", "ü")]), "è ü»");
    }

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

    fn services() -> Vec<Service> {
        vec![
            service(
                "h1",
                ServiceFamily::HostingShared,
                "Hosting WordPress",
                "pizzeria-da-mario.it",
            ),
            service("v1", ServiceFamily::Cronuscloud, "CronusVPS", "vps-0042"),
            service(
                "m1",
                ServiceFamily::Cronuscloud,
                "CronusMail",
                "studio-rossi.it",
            ),
            service("s1", ServiceFamily::Cronuscloud, "CronusSMTP", "smtp-7"),
            service(
                "d1",
                ServiceFamily::Domain,
                "Dominio",
                "pizzeria-da-mario.it",
            ),
            service("x1", ServiceFamily::Dedicated, "Server dedicato", "ded-17"),
            service("c1", ServiceFamily::Colocation, "Colocation", "rack-3"),
        ]
    }

    /// Words of the Italian sentences and examples, but for the few that are English too.
    fn italian_words() -> BTreeSet<String> {
        const BOTH: &[&str] = &[
            "dns", "home", "rack", "ram", "server", "ssh", "ssl", "ticket",
        ];
        TABLE
            .iter()
            .flat_map(|e| words(e.it))
            .filter(|w| !BOTH.contains(&w.as_str()))
            .collect()
    }

    /// The words of a template, placeholders left out, in lower case: three letters or more.
    fn words(template: &str) -> BTreeSet<String> {
        let mut bare = template.to_string();
        for name in NAMES {
            bare = bare.replace(&format!("{{{name}}}"), " ");
        }
        bare.split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect()
    }

    #[test]
    fn no_english_template_has_an_italian_word() {
        let italian = italian_words();
        for w in [
            "servizio",
            "dominio",
            "oggetto",
            "esempio",
            "per",
            "tuodominio",
            "errore",
        ] {
            assert!(italian.contains(w), "{w}");
        }
        for e in TABLE {
            let en = words(e.en);
            let common: Vec<&String> = en.intersection(&italian).collect();
            assert!(common.is_empty(), "{:?}: {common:?} in {:?}", e.key, e.en);
        }
    }

    #[test]
    fn english_hints_have_no_italian_word_and_no_brace() {
        let italian = italian_words();
        let all = services();
        let sets: Vec<&[Service]> = vec![
            &all,
            &[],
            &all[1..2],
            &all[2..3],
            &all[3..4],
            &all[4..5],
            &all[5..6],
            &all[6..7],
        ];
        let subjects = [
            "Problema",
            "problema urgente!!!",
            "aiuto",
            "help",
            "URGENT: SITE DOWN NOW",
            "Hello, I have a question",
            "Renewal",
            "invoice",
            "quote",
            "error 500 on the home page",
            "slow site and wrong invoice",
            "error 500 on studio-rossi.it",
            "pizzeria-da-mario.it slow and studio-rossi.it unreachable",
            &"error 500 on the home page ".repeat(8),
        ];
        let mut contexts = Vec::new();
        for set in sets {
            let mut chosen: Vec<Option<&Service>> = vec![None];
            chosen.extend(set.iter().map(Some));
            for department in [None, Some(Department::Helpdesk), Some(Department::Sales)] {
                for channel in [Channel::Web, Channel::Email] {
                    for &chosen_service in &chosen {
                        contexts.push(SubjectContext {
                            department,
                            chosen_service,
                            services: set,
                            channel,
                            lang: Lang::En,
                        });
                    }
                }
            }
        }
        let mut seen = BTreeSet::new();
        for ctx in &contexts {
            // The customer's own words and identifiers are theirs, whatever their language.
            let identifiers: Vec<String> = ctx
                .services
                .iter()
                .map(|s| s.identifier.to_lowercase())
                .collect();
            for subject in subjects {
                let own = format!("{} {}", subject.to_lowercase(), identifiers.join(" "));
                for h in assess(subject, ctx).hints {
                    assert!(!h.message.contains('{'), "{subject:?}: {}", h.message);
                    let lower = h.message.to_lowercase();
                    let leaked: Vec<&str> = lower
                        .split(|c: char| !c.is_alphanumeric())
                        .filter(|w| italian.contains(*w) && !own.contains(*w))
                        .collect();
                    assert!(
                        leaked.is_empty(),
                        "Italian {leaked:?} in {subject:?}: {}",
                        h.message
                    );
                    seen.insert(h.code);
                }
            }
        }
        // The subjects above reach every hint.
        let all_codes: BTreeSet<String> = HINT_CODES.iter().map(|c| c.to_string()).collect();
        assert_eq!(seen, all_codes);
    }

    #[test]
    fn problema_in_english_gets_english_hints_and_in_italian_the_same_italian_ones() {
        let all = services();
        let ctx = |lang| SubjectContext {
            department: Some(Department::Helpdesk),
            chosen_service: None,
            services: &all,
            channel: Channel::Email,
            lang,
        };
        let en = assess("Problema", &ctx(Lang::En));
        let it = assess("Problema", &ctx(Lang::It));
        assert_eq!((en.score, en.verdict), (it.score, it.verdict));
        let codes = |a: &crate::api::Assessment| -> Vec<String> {
            a.hints.iter().map(|h| h.code.clone()).collect()
        };
        assert_eq!(codes(&en), codes(&it));
        assert_eq!(
            en.hints[0].message,
            "Describe the symptom: what is not working and where, for example \
             “pizzeria-da-mario.it: error 500 on the home page”"
        );
        assert_eq!(
            it.hints[0].message,
            "Descrivi il sintomo: cosa non funziona e dove, per esempio \
             «pizzeria-da-mario.it: errore 500 sulla home»"
        );
        let no_services = SubjectContext {
            services: &[],
            ..ctx(Lang::En)
        };
        let a = assess("aiuto", &no_services);
        assert!(
            a.hints.iter().any(|h| h.message.contains("yourdomain.com")),
            "{a:?}"
        );
        assert!(
            a.hints.iter().all(|h| !h.message.contains("tuodominio")),
            "{a:?}"
        );
    }
}
