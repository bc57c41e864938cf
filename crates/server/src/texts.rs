//! Sentences the server writes to people (e-mails, refusals), in Italian.

/// Why an e-mail was refused and what to do, by reason code.
pub fn rejection_explanation(reason: &str) -> &'static str {
    match reason {
        "unknown_sender" => "Il messaggio non proviene dall'indirizzo e-mail di riferimento di un account: scrivi dall'indirizzo di riferimento del tuo account, oppure apri un ticket dal sito.",
        "attachments_too_large" => "Gli allegati superano 1 MB in tutto: invia file più piccoli, oppure apri o aggiorna il ticket dal sito, dove puoi caricare file fino a 10 MB.",
        "too_many_attachments" => "Il messaggio ha più di 10 allegati: inviane al massimo 10 per messaggio (ad esempio riunendoli in un archivio zip), oppure caricali dal sito.",
        "unknown_ticket" => "Nessuno dei tuoi ticket ha il codice indicato nell'oggetto: controlla il codice, rispondi alle e-mail dei tuoi ticket lasciandolo inalterato, oppure scrivi senza codice per aprire un nuovo ticket.",
        "several_senders" => "Il messaggio ha più mittenti o nessun mittente: invialo dal solo indirizzo di riferimento del tuo account.",
        "unauthenticated" => "Non è stato possibile verificare che il messaggio provenga davvero dal tuo dominio (SPF/DKIM): è stato messo in quarantena.",
        "automatic" => "Il messaggio è una risposta automatica e non è stato aggiunto ai ticket.",
        "malformed" => "Il messaggio non è leggibile: invialo di nuovo, oppure apri un ticket dal sito.",
        "unknown_recipient" => "L'indirizzo a cui hai scritto non è quello dell'assistenza: usa hd@smacloud.it (assistenza tecnica) o sales@smacloud.it (informazioni commerciali).",
        _ => "Il messaggio non è stato accettato: apri un ticket dal sito, oppure scrivi di nuovo dall'indirizzo di riferimento del tuo account.",
    }
}

pub fn department_label(d: helpdesk_core::api::Department) -> &'static str {
    match d {
        helpdesk_core::api::Department::Helpdesk => "Helpdesk (Assistenza Tecnica)",
        helpdesk_core::api::Department::Sales => {
            "Sales & Marketing (Informazioni Commerciali ed amministrative)"
        }
    }
}

/// The subject of a ticket opened by an e-mail without one.
pub const MAIL_NO_SUBJECT: &str = "(senza oggetto)";
/// The text of a message whose e-mail had none.
pub const MAIL_NO_TEXT: &str = "(il messaggio non conteneva testo)";

/// Advice in the acknowledgment when the subject names none of the customer's services.
pub fn advice_name_service(examples: &[&str]) -> String {
    let mut s = String::from(
        "Nell'oggetto delle prossime e-mail indica il servizio o il dominio a cui si riferisce la richiesta",
    );
    if !examples.is_empty() {
        s.push_str(" (ad esempio ");
        s.push_str(&examples.join(", "));
        s.push(')');
    }
    s.push_str(": così il ticket arriva subito al tecnico giusto.");
    s
}

/// Advice in the acknowledgment when the message names several of the customer's services.
pub fn advice_one_service(named: &[&str]) -> String {
    format!(
        "Il messaggio nomina più servizi ({}): in un ticket affronta un solo problema e un solo servizio; per gli altri apri ticket separati.",
        named.join(", ")
    )
}

/// The answer to a refused e-mail: subject and body (plain text).
pub fn refusal_email(
    reason: &str,
    subject: &str,
    public_url: &str,
    attachments_bytes: u64,
) -> (String, String) {
    let shown = if subject.trim().is_empty() {
        MAIL_NO_SUBJECT
    } else {
        subject
    };
    let mut body = format!(
        "Buongiorno,\n\nil messaggio con oggetto \"{shown}\" inviato all'assistenza non è stato accettato.\n\n{}\n",
        rejection_explanation(reason)
    );
    match reason {
        "attachments_too_large" => body.push_str(&format!(
            "\nPer e-mail gli allegati possono arrivare al massimo a 1 MB (1.048.576 byte) in tutto per messaggio; \
             quelli del tuo messaggio erano {attachments_bytes} byte. Il messaggio non è stato registrato in nessun ticket.\n"
        )),
        "too_many_attachments" => body.push_str(
            "\nPer e-mail si possono allegare al massimo 10 file per messaggio, come sul sito. \
             Il messaggio non è stato registrato in nessun ticket.\n",
        ),
        "unknown_sender" => body.push_str(
            "\nPer aprire un ticket per e-mail scrivi dall'indirizzo e-mail di riferimento del tuo account \
             (lo stesso con cui accedi al pannello di controllo).\n",
        ),
        _ => {}
    }
    body.push_str(&format!(
        "\nPuoi sempre aprire o aggiornare un ticket dal sito, accedendo con i dati del pannello: {public_url}\n\n\
         Questa è una risposta automatica.\n"
    ));
    (format!("Messaggio non accettato: {shown}"), body)
}

/// Why the API refuses to open a ticket or add a reply: each reason has its stable code (the
/// contract) and its sentence (for people; a second language is a second `sentence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownService,
    ServiceRequired,
    SubjectTooLong,
    SubjectTooShort,
    SubjectGeneric,
    TextTooShort,
    TextTooLong,
    TooManyFiles,
    StaffReplyLength,
    IdempotencyKeyReused,
    UploadUnavailable,
}

impl Refusal {
    /// The code in the error's `fields`, stable across languages.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UnknownService => "unknown_service",
            Refusal::ServiceRequired => "service_required",
            Refusal::SubjectTooLong | Refusal::TextTooLong => "too_long",
            Refusal::SubjectTooShort | Refusal::TextTooShort => "too_short",
            Refusal::SubjectGeneric => "subject_generic",
            Refusal::TooManyFiles => "too_many",
            Refusal::StaffReplyLength => "invalid_length",
            Refusal::IdempotencyKeyReused => "idempotency_key_reused",
            Refusal::UploadUnavailable => "upload_unavailable",
        }
    }

    /// The sentence, in Italian; `n` is the limit the reason is about, where it has one.
    pub fn sentence(self, n: usize) -> String {
        match self {
            Refusal::UnknownService => "Il servizio scelto non è tra i tuoi servizi.".into(),
            Refusal::ServiceRequired => {
                "Per l'assistenza tecnica indica il servizio o il dominio interessato.".into()
            }
            Refusal::SubjectTooLong => {
                format!("L'oggetto è troppo lungo: al massimo {n} caratteri.")
            }
            Refusal::SubjectTooShort => {
                format!("L'oggetto è troppo breve: scrivi almeno {n} caratteri.")
            }
            Refusal::SubjectGeneric => {
                "L'oggetto è troppo generico: di' cosa non funziona e dove.".into()
            }
            Refusal::TextTooShort => {
                format!("Il testo è troppo breve: scrivi almeno {n} caratteri.")
            }
            Refusal::TextTooLong => format!("Il testo è troppo lungo: al massimo {n} caratteri."),
            Refusal::TooManyFiles => format!("Al massimo {n} allegati per messaggio."),
            Refusal::StaffReplyLength => "Il testo della risposta è vuoto o troppo lungo.".into(),
            Refusal::IdempotencyKeyReused => {
                "Questa chiave di idempotenza è già stata usata per una richiesta diversa.".into()
            }
            Refusal::UploadUnavailable => {
                "Un allegato non è più disponibile (scaduto o già usato): caricalo di nuovo.".into()
            }
        }
    }
}
