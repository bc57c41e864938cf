//! Every sentence the app shows, in one place (Italian now; another language is another `Texts`).

use helpdesk_core::api::{Department, Priority, ServiceFamily, ServiceStatus, Status};

pub struct Texts {
    pub app_title: &'static str,
    pub skip_to_content: &'static str,
    pub main_nav: &'static str,
    pub not_found_title: &'static str,
    pub not_found_back: &'static str,
    // login
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub login_submit: &'static str,
    pub login_busy: &'static str,
    pub forgot_password: &'static str,
    pub demo_hint: &'static str,
    pub sso_busy: &'static str,
    pub sso_failed: &'static str,
    pub sso_retry: &'static str,
    pub sso_ended: &'static str,
    pub err_credentials: &'static str,
    pub err_network: &'static str,
    pub err_server: &'static str,
    pub err_session_expired: &'static str,
    pub err_not_found: &'static str,
    pub err_forbidden: &'static str,
    pub err_too_large: &'static str,
    pub err_invalid: &'static str,
    pub err_conflict: &'static str,
    pub missing_fields: &'static str,
    // top bar
    pub logout: &'static str,
    pub my_tickets: &'static str,
    pub new_ticket: &'static str,
    pub rejected_mail: &'static str,
    // list
    pub tickets_title: &'static str,
    pub search_label: &'static str,
    pub search_placeholder: &'static str,
    pub all: &'static str,
    pub loading: &'static str,
    pub empty_list: &'static str,
    pub empty_search: &'static str,
    pub empty_tab: &'static str,
    pub load_more: &'static str,
    pub retry: &'static str,
    pub col_code: &'static str,
    pub col_subject: &'static str,
    pub col_service: &'static str,
    pub col_status: &'static str,
    pub col_priority: &'static str,
    pub col_activity: &'static str,
    pub no_service: &'static str,
    pub via_email: &'static str,
    // ticket page
    pub back_to_list: &'static str,
    pub copy_code: &'static str,
    pub copied: &'static str,
    pub show_quoted: &'static str,
    pub hide_quoted: &'static str,
    pub reply_label: &'static str,
    pub reply_submit: &'static str,
    pub reply_sending: &'static str,
    pub reply_failed: &'static str,
    pub reply_reopens: &'static str,
    pub close_ticket: &'static str,
    pub reopen_ticket: &'static str,
    pub closed_notice: &'static str,
    pub event_closed: &'static str,
    pub event_reopened: &'static str,
    pub event_awaiting: &'static str,
    pub staff: &'static str,
    pub you: &'static str,
    pub automatic_mail: &'static str,
    pub original_email: &'static str,
    pub attachments: &'static str,
    pub download_failed: &'static str,
    pub older_messages: &'static str,
    pub keep_code_hint: &'static str,
    pub via_web: &'static str,
    pub show_older_prefix: &'static str,
    pub copy_fallback: &'static str,
    pub thread_title: &'static str,
    pub reply_title: &'static str,
    pub reply_hint: &'static str,
    pub reply_empty: &'static str,
    pub status_change_failed: &'static str,
    pub col_department: &'static str,
    pub col_created: &'static str,
    pub ticket_not_found_title: &'static str,
    pub ticket_not_found: &'static str,
    pub ticket_load_failed: &'static str,
    // rejected mail
    pub rejections_title: &'static str,
    pub rejections_intro: &'static str,
    pub rejections_empty: &'static str,
    pub received: &'static str,
    pub reason: &'static str,
    // wizard
    pub wizard_title: &'static str,
    pub step: &'static str,
    pub of: &'static str,
    pub back: &'static str,
    pub next: &'static str,
    pub step_department: &'static str,
    pub step_service: &'static str,
    pub step_subject: &'static str,
    pub step_description: &'static str,
    pub step_priority: &'static str,
    pub step_attachments: &'static str,
    pub step_review: &'static str,
    pub department_question: &'static str,
    pub helpdesk_help: &'static str,
    pub sales_help: &'static str,
    pub service_question: &'static str,
    pub service_filter: &'static str,
    pub service_none: &'static str,
    pub service_none_help: &'static str,
    pub service_required: &'static str,
    pub service_no_match: &'static str,
    pub one_problem_rule: &'static str,
    pub subject_label: &'static str,
    pub subject_help: &'static str,
    pub subject_quality: &'static str,
    pub verdict_generic: &'static str,
    pub verdict_weak: &'static str,
    pub verdict_good: &'static str,
    pub subject_blocked: &'static str,
    pub description_label: &'static str,
    pub description_checklist: &'static str,
    pub description_min_prefix: &'static str,
    pub description_min_suffix: &'static str,
    pub other_service_prefix: &'static str,
    pub other_service_suffix: &'static str,
    pub remember_separate: &'static str,
    pub priority_question: &'static str,
    pub priority_low_help: &'static str,
    pub priority_normal_help: &'static str,
    pub attachments_help: &'static str,
    pub attachments_wait: &'static str,
    pub att_pick: &'static str,
    pub att_drop: &'static str,
    pub att_limits_prefix: &'static str,
    pub att_limits_mid: &'static str,
    pub att_limits_suffix: &'static str,
    pub att_uploading: &'static str,
    pub att_done: &'static str,
    pub att_failed: &'static str,
    pub att_refused: &'static str,
    pub att_cancel: &'static str,
    pub att_remove: &'static str,
    pub att_too_large_prefix: &'static str,
    pub att_too_large_suffix: &'static str,
    pub att_too_many_prefix: &'static str,
    pub att_too_many_suffix: &'static str,
    pub att_empty: &'static str,
    pub att_forbidden_prefix: &'static str,
    pub att_forbidden_suffix: &'static str,
    pub att_screenshot: &'static str,
    pub uploads_expired: &'static str,
    pub services_loading_failed: &'static str,
    pub subject_counter_suffix: &'static str,
    pub review_intro: &'static str,
    pub open_tickets_warning: &'static str,
    pub submit: &'static str,
    pub submitting: &'static str,
    pub submit_failed: &'static str,
    pub draft_restored: &'static str,
    pub discard_draft: &'static str,
    pub success_title: &'static str,
    pub success_code_label: &'static str,
    pub success_email: &'static str,
    pub success_keep_code: &'static str,
    pub open_separate_for: &'static str,
    pub view_ticket: &'static str,
    pub chars: &'static str,
}

pub static IT: Texts = Texts {
    app_title: "Assistenza clienti",
    skip_to_content: "Vai al contenuto",
    main_nav: "Principale",
    not_found_title: "Pagina non trovata",
    not_found_back: "Torna ai tuoi ticket",
    login_title: "Accedi all'assistenza",
    login_intro: "Usa la stessa e-mail e la stessa password del pannello di controllo.",
    email: "E-mail",
    password: "Password",
    login_submit: "Accedi",
    login_busy: "Accesso in corso…",
    forgot_password: "Password dimenticata?",
    sso_busy: "Accesso con il tuo account del pannello di controllo…",
    sso_failed: "Non è stato possibile accedere con il tuo account del pannello di controllo. Riprova tra poco; se non funziona, ricarica la pagina del pannello.",
    sso_retry: "Riprova",
    sso_ended: "Sei uscito dal pannello di controllo: per vedere i tuoi ticket accedi di nuovo al pannello.",
    demo_hint: "Demo: demo@example.it (oppure altro@example.it), password demo-password",
    err_credentials: "E-mail o password non corretti. Controlla e riprova.",
    err_network: "Il server non risponde. Controlla la connessione e riprova.",
    err_server: "Si è verificato un errore sul server. Riprova tra poco.",
    err_session_expired: "La sessione è scaduta: accedi di nuovo per continuare da dove eri.",
    err_not_found: "Non trovato: il ticket non esiste o non è tuo.",
    err_forbidden: "Non hai i permessi per questa operazione.",
    err_too_large: "La richiesta è troppo grande.",
    err_invalid: "Alcuni dati non sono validi: controlla i campi evidenziati.",
    err_conflict: "Questa richiesta è già stata inviata con contenuti diversi.",
    missing_fields: "Compila e-mail e password.",
    logout: "Esci",
    my_tickets: "I miei ticket",
    new_ticket: "Apri un ticket",
    rejected_mail: "E-mail non accettate",
    tickets_title: "I miei ticket",
    search_label: "Cerca per codice o oggetto",
    search_placeholder: "es. FPL-809-43017 oppure errore 500",
    all: "Tutti",
    loading: "Caricamento…",
    empty_list: "Non hai ancora aperto ticket. Quando avrai bisogno di aiuto, apri un ticket: ti guideremo passo passo.",
    empty_search: "Nessun ticket corrisponde alla ricerca.",
    empty_tab: "Nessun ticket in questa scheda.",
    load_more: "Mostra altri",
    retry: "Riprova",
    col_code: "Codice",
    col_subject: "Oggetto",
    col_service: "Servizio",
    col_status: "Stato",
    col_priority: "Priorità",
    col_activity: "Ultima attività",
    no_service: "Nessun servizio",
    via_email: "via e-mail",
    back_to_list: "← I miei ticket",
    copy_code: "Copia codice",
    copied: "Codice copiato",
    show_quoted: "mostra testo citato",
    hide_quoted: "nascondi testo citato",
    reply_label: "La tua risposta",
    reply_submit: "Invia risposta",
    reply_sending: "Invio…",
    reply_failed: "La risposta non è stata inviata: il testo è ancora qui, riprova.",
    reply_reopens: "Il ticket è chiuso: rispondendo lo riaprirai.",
    close_ticket: "Chiudi il ticket",
    reopen_ticket: "Riapri il ticket",
    closed_notice: "Questo ticket è chiuso.",
    event_closed: "ha chiuso il ticket",
    event_reopened: "ha riaperto il ticket",
    event_awaiting: "ha messo il ticket in attesa di una tua risposta",
    staff: "Assistenza",
    you: "Tu",
    automatic_mail: "Risposta automatica",
    original_email: "E-mail originale (.eml)",
    attachments: "Allegati",
    download_failed: "Download non riuscito: riprova.",
    older_messages: "messaggi precedenti",
    keep_code_hint: "Rispondendo per e-mail, lascia inalterato il codice del ticket nell'oggetto.",
    via_web: "dal sito",
    show_older_prefix: "Mostra ",
    copy_fallback: "Copia automatica non disponibile: il codice è selezionato, premi Ctrl+C (⌘+C su Mac).",
    thread_title: "Conversazione",
    reply_title: "Rispondi",
    reply_hint: "Ctrl+Invio (⌘+Invio su Mac) per inviare. La bozza resta salvata in questo browser finché non la invii.",
    reply_empty: "Scrivi il testo della risposta prima di inviarla.",
    status_change_failed: "Non è stato possibile cambiare lo stato del ticket.",
    col_department: "Reparto",
    col_created: "Aperto il",
    ticket_not_found_title: "Ticket non trovato",
    ticket_not_found: "Non troviamo questo ticket tra i tuoi: controlla il codice. Se il ticket è stato aperto con un altro account, accedi con quello.",
    ticket_load_failed: "Non è stato possibile caricare il ticket.",
    rejections_title: "E-mail non accettate",
    rejections_intro: "Le e-mail che ci hai scritto e che non abbiamo potuto aggiungere a un ticket, con il motivo e cosa fare.",
    rejections_empty: "Nessuna e-mail rifiutata. Ottimo!",
    received: "Ricevuta",
    reason: "Motivo",
    wizard_title: "Apri un ticket",
    step: "Passo",
    of: "di",
    back: "Indietro",
    next: "Avanti",
    step_department: "Tipo di assistenza",
    step_service: "Servizio o dominio",
    step_subject: "Oggetto",
    step_description: "Descrizione",
    step_priority: "Priorità",
    step_attachments: "Allegati",
    step_review: "Riepilogo",
    department_question: "Di che tipo di assistenza hai bisogno?",
    helpdesk_help: "Problemi tecnici: sito, posta, server, DNS, backup…",
    sales_help: "Offerte, acquisti, rinnovi, fatture, pagamenti, dati dell'account.",
    service_question: "Per quale servizio o dominio?",
    service_filter: "Filtra i servizi",
    service_none: "Nessun servizio esistente",
    service_none_help: "Per esempio un nuovo acquisto o una domanda generale.",
    service_required: "Scegli il servizio o il dominio interessato.",
    service_no_match: "Nessun servizio corrisponde al filtro.",
    one_problem_rule: "Un ticket per ogni problema e per ogni servizio: se hai più richieste, apri più ticket.",
    subject_label: "Oggetto della richiesta",
    subject_help: "In poche parole: cosa non funziona (o cosa ti serve) e dove.",
    subject_quality: "Qualità dell'oggetto",
    verdict_generic: "Troppo generico",
    verdict_weak: "Migliorabile",
    verdict_good: "Chiaro",
    subject_blocked: "L'oggetto è troppo generico per proseguire: segui i suggerimenti.",
    description_label: "Descrivi il problema",
    description_checklist: "Cosa aiuta il tecnico:",
    description_min_prefix: "Scrivi almeno ",
    description_min_suffix: " caratteri.",
    other_service_prefix: "La descrizione cita anche ",
    other_service_suffix: ": un ticket riguarda un solo servizio. Dopo l'invio potrai aprirne uno separato.",
    remember_separate: "Aprirò un ticket separato",
    priority_question: "Quanto è urgente?",
    priority_low_help: "Una domanda o un problema che non blocca il lavoro.",
    priority_normal_help: "Un problema che impedisce di usare il servizio.",
    attachments_help: "Puoi aggiungere screenshot, log o documenti (facoltativo).",
    attachments_wait: "Attendi la fine del caricamento degli allegati, oppure annullalo.",
    att_pick: "Scegli i file da allegare",
    att_drop: "Trascina qui i file, oppure incolla uno screenshot (Ctrl+V).",
    att_limits_prefix: "Fino a ",
    att_limits_mid: " file, al massimo ",
    att_limits_suffix: " ciascuno: immagini, PDF, testo e log, ZIP, e-mail, documenti Office e OpenDocument.",
    att_uploading: "In caricamento",
    att_done: "Caricato",
    att_failed: "Non caricato: ",
    att_refused: "Non inviato: ",
    att_cancel: "Annulla",
    att_remove: "Rimuovi",
    att_too_large_prefix: "il file è troppo grande, il limite è ",
    att_too_large_suffix: " per file.",
    att_too_many_prefix: "puoi allegare al massimo ",
    att_too_many_suffix: " file per messaggio.",
    att_empty: "il file è vuoto.",
    att_forbidden_prefix: "i file .",
    att_forbidden_suffix: " non sono ammessi perché possono eseguire codice; se devi inviarne uno, comprimilo in un archivio ZIP.",
    att_screenshot: "screenshot-",
    uploads_expired: "Alcuni allegati della bozza sono scaduti (si conservano per un giorno): caricali di nuovo.",
    services_loading_failed: "Non è stato possibile caricare i tuoi servizi.",
    subject_counter_suffix: " caratteri al massimo",
    review_intro: "Controlla la richiesta prima di inviarla.",
    open_tickets_warning: "Hai già un ticket aperto su questo servizio: se è lo stesso problema, rispondi lì.",
    submit: "Invia la richiesta",
    submitting: "Invio in corso…",
    submit_failed: "Invio non riuscito: la richiesta è ancora qui, puoi riprovare.",
    draft_restored: "Abbiamo ripreso la bozza che avevi iniziato.",
    discard_draft: "Ricomincia da capo",
    success_title: "Richiesta inviata",
    success_code_label: "Codice del ticket",
    success_email: "Ti abbiamo inviato una conferma per e-mail. Le risposte arriveranno per e-mail: potrai rispondere direttamente, oppure da qui.",
    success_keep_code: "Rispondendo, lascia inalterato il codice nell'oggetto dell'e-mail: serve a collegare la risposta al ticket.",
    open_separate_for: "Apri un ticket per ",
    view_ticket: "Vai al ticket",
    chars: "caratteri",
};

/// The texts of the current language.
pub fn tx() -> &'static Texts {
    &IT
}

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Open => "aperto",
        Status::AwaitingCustomer => "in attesa di una tua risposta",
        Status::Closed => "chiuso",
    }
}

pub fn status_tab(s: Status) -> &'static str {
    match s {
        Status::Open => "Aperti",
        Status::AwaitingCustomer => "In attesa di una tua risposta",
        Status::Closed => "Chiusi",
    }
}

/// What a tab of the list holds, in the customer's terms.
pub fn tab_help(s: Option<Status>) -> &'static str {
    match s {
        None => "Tutti i tuoi ticket, dal più recente.",
        Some(Status::Open) => "I ticket su cui stiamo lavorando noi. Quelli che aspettano una tua risposta sono nella scheda «In attesa di una tua risposta».",
        Some(Status::AwaitingCustomer) => "I ticket in cui ti abbiamo risposto: aspettiamo una tua risposta.",
        Some(Status::Closed) => "I ticket chiusi: se rispondi, il ticket si riapre.",
    }
}

pub fn priority_label(p: Priority) -> &'static str {
    match p {
        Priority::Low => "bassa",
        Priority::Normal => "normale",
    }
}

pub fn department_label(d: Department) -> &'static str {
    match d {
        Department::Helpdesk => "Helpdesk (Assistenza Tecnica)",
        Department::Sales => "Sales & Marketing (Informazioni Commerciali ed amministrative)",
    }
}

pub fn family_label(f: ServiceFamily) -> &'static str {
    match f {
        ServiceFamily::HostingShared => "Hosting Shared",
        ServiceFamily::Cronuscloud => "CronusCloud",
        ServiceFamily::Colocation => "Colocation",
        ServiceFamily::Dedicated => "Server dedicati",
        ServiceFamily::Domain => "Domini",
    }
}

pub fn service_status_label(s: ServiceStatus) -> &'static str {
    match s {
        ServiceStatus::Active => "attivo",
        ServiceStatus::Suspended => "sospeso",
        ServiceStatus::Expired => "scaduto",
    }
}

/// What helps the technician, per department (the description step's checklist).
pub fn checklist(d: Department) -> &'static [&'static str] {
    match d {
        Department::Helpdesk => &[
            "Cosa succede, esattamente",
            "Da quando (data e ora)",
            "Dove: indirizzo della pagina, casella e-mail, IP",
            "Il messaggio di errore, parola per parola",
            "Cosa hai già provato",
        ],
        Department::Sales => &[
            "Quale offerta, servizio o fattura (con il numero)",
            "Cosa ti serve: preventivo, rinnovo, modifica, chiarimento",
            "Eventuali scadenze",
        ],
    }
}

/// "Troppi tentativi…" with the wait in the unit a person thinks in: seconds under a minute,
/// then minutes (rounded up, so the customer never retries too early), then hours.
pub fn too_many_attempts(seconds: u64) -> String {
    let wait = match seconds {
        0..=1 => "tra un secondo".to_string(),
        2..=59 => format!("tra {seconds} secondi"),
        60 => "tra un minuto".to_string(),
        61..=3600 => format!("tra {} minuti", seconds.div_ceil(60)),
        _ => format!("tra {} ore", seconds.div_ceil(3600)),
    };
    format!("Troppi tentativi di accesso. Riprova {wait}.")
}

#[cfg(test)]
mod tests {
    use super::too_many_attempts;

    #[test]
    fn a_lockout_says_the_wait_in_minutes_or_hours_not_hundreds_of_seconds() {
        assert_eq!(
            too_many_attempts(894),
            "Troppi tentativi di accesso. Riprova tra 15 minuti."
        );
        assert_eq!(
            too_many_attempts(1),
            "Troppi tentativi di accesso. Riprova tra un secondo."
        );
        assert_eq!(
            too_many_attempts(42),
            "Troppi tentativi di accesso. Riprova tra 42 secondi."
        );
        assert_eq!(
            too_many_attempts(61),
            "Troppi tentativi di accesso. Riprova tra 2 minuti."
        );
        assert_eq!(
            too_many_attempts(60),
            "Troppi tentativi di accesso. Riprova tra un minuto."
        );
        assert_eq!(
            too_many_attempts(5400),
            "Troppi tentativi di accesso. Riprova tra 2 ore."
        );
    }
}
