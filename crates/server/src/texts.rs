//! Sentences the server writes to people (e-mails, refusals), in Italian.

/// Why an e-mail was refused and what to do, by reason code.
pub fn rejection_explanation(reason: &str) -> &'static str {
    match reason {
        "unknown_sender" => "Il messaggio non proviene dall'indirizzo e-mail di riferimento di un account: scrivi dall'indirizzo di riferimento del tuo account, oppure apri un ticket dal sito.",
        "attachments_too_large" => "Gli allegati superano 1 MB in tutto: invia file più piccoli, oppure apri o aggiorna il ticket dal sito, dove puoi caricare file fino a 10 MB.",
        "foreign_ticket" => "Il codice nell'oggetto appartiene a un ticket che non è tuo: apri un nuovo ticket o rispondi alle e-mail dei tuoi ticket lasciando inalterato il codice.",
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
