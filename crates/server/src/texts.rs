//! Every sentence the server writes to people (API errors, e-mails, refusals), keyed, in Italian
//! and English. A sentence with variable parts is one `format!` with named parameters per
//! language, never pieces glued in one language's word order.

use helpdesk_core::api::Department;

/// A language the server speaks: the one type of `helpdesk_core`, which the subject-quality
/// hints are written in too. Italian is the default: the provider's customers are Italian.
pub use helpdesk_core::lang::Lang as Language;

/// The language of an `Accept-Language` header: the first of the client's languages, by
/// preference, that the server speaks (`en` of any region is English); Italian when none.
pub fn from_accept_language(header: &str) -> Language {
    for (tag, quality) in accept_language::parse_with_quality(header) {
        // `q=0` means "not this one".
        if quality <= 0.0 || quality.is_nan() {
            continue;
        }
        let primary = primary_subtag(&tag);
        if primary.eq_ignore_ascii_case("en") {
            return Language::En;
        }
        if primary.eq_ignore_ascii_case("it") {
            return Language::It;
        }
    }
    Language::It
}

fn primary_subtag(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or(tag).trim()
}

/// Picks the sentence of `lang` among the two written beside each other.
fn pick<T>(lang: Language, it: T, en: T) -> T {
    lang.pick(it, en)
}

/// "10 MB", "4 KB", "1,5 MB" (Italian) or "1.5 MB" (English): sizes as the seed counts them
/// (1 MB = 1,048,576 bytes).
pub fn human_size(bytes: u64, lang: Language) -> String {
    let (unit, name) = match bytes {
        b if b >= 1 << 20 => (1u64 << 20, "MB"),
        b if b >= 1 << 10 => (1 << 10, "KB"),
        b => return pick(lang, format!("{b} byte"), format!("{b} bytes")),
    };
    if bytes.is_multiple_of(unit) {
        format!("{} {name}", bytes / unit)
    } else {
        let n = format!("{:.1}", bytes as f64 / unit as f64);
        let n = pick(lang, n.replace('.', ","), n);
        format!("{n} {name}")
    }
}

// ----- the API's error messages -----

/// The `message` of an API error, by key. The error's `code` is the contract and never depends
/// on the language; this is only what a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Unauthorized,
    Forbidden,
    NotFound,
    InvalidCredentials,
    /// A wrong password with few attempts left before logins for the e-mail are refused (`left`
    /// of them; none left: refused from now on) for `secs`.
    InvalidCredentialsWarn {
        left: u32,
        secs: u64,
    },
    TooManyAttempts,
    TooManyStreams,
    Internal,
    /// A refusal of a ticket or a reply; `n` is the limit it is about, where it has one.
    Refusal(Refusal, usize),
    JsonFieldInvalid,
    JsonMalformed,
    JsonContentType,
    RequestTooLarge,
    /// Another malformed request; `status` is the HTTP status it got.
    RequestInvalid {
        status: u16,
    },
    /// Query parameters that do not parse; `detail` is the parser's own words (not translated).
    QueryInvalid {
        detail: String,
    },
    StatusUnknown,
    PageSize {
        max: u32,
    },
    CursorInvalid,
    IdempotencyKeyInvalid,
    ServiceUnknown,
    FileTooLarge {
        limit_bytes: u64,
    },
    UploadsPending {
        max: i64,
    },
    NotMultipart,
    OneFilePart,
    NoFile,
    FileEmpty {
        name: String,
    },
    FileRefused {
        name: String,
        why: FileRefusal,
    },
    /// A multipart body that does not parse; `detail` is the parser's own words.
    MultipartInvalid {
        detail: String,
    },
    LanguageUnsupported,
    /// A time zone that is not an IANA name the server knows.
    TimeZoneUnknown,
    /// An account's allowance of `what` is used up for `secs` more seconds.
    RateLimited {
        what: crate::storage::UsageKind,
        secs: u64,
    },
    /// The account keeps as many bytes as its quota allows.
    QuotaExceeded {
        quota: u64,
    },
    /// The disk is (nearly) full: nothing was written.
    StorageFull,
}

/// A wait as a person says it: seconds under a minute, then minutes (rounded up, so nobody
/// retries too early), then hours.
pub fn wait_text(secs: u64, lang: Language) -> String {
    use Language::{En, It};
    let (n, it_one, it_many, en_one, en_many) = match secs {
        0..=59 => (
            secs.max(1),
            "un secondo",
            "secondi",
            "one second",
            "seconds",
        ),
        60..=3600 => (
            secs.div_ceil(60),
            "un minuto",
            "minuti",
            "one minute",
            "minutes",
        ),
        _ => (secs.div_ceil(3600), "un'ora", "ore", "one hour", "hours"),
    };
    match (lang, n) {
        (It, 1) => it_one.into(),
        (It, n) => format!("{n} {it_many}"),
        (En, 1) => en_one.into(),
        (En, n) => format!("{n} {en_many}"),
    }
}

impl Msg {
    pub fn text(&self, lang: Language) -> String {
        use Language::{En, It};
        match (self, lang) {
            (Msg::Unauthorized, It) => "Sessione assente o scaduta: accedi di nuovo.".into(),
            (Msg::Unauthorized, En) => "No session, or it has expired: please log in again.".into(),
            (Msg::Forbidden, It) => "Non hai i permessi per questa operazione.".into(),
            (Msg::Forbidden, En) => "You are not allowed to do this.".into(),
            (Msg::NotFound, It) => "Non trovato.".into(),
            (Msg::NotFound, En) => "Not found.".into(),
            (Msg::InvalidCredentials, It) => "E-mail o password non corretti.".into(),
            (Msg::InvalidCredentials, En) => "Wrong e-mail or password.".into(),
            (Msg::InvalidCredentialsWarn { left, secs }, lang) => {
                let wait = wait_text(*secs, lang);
                match (left, lang) {
                    (0, It) => format!(
                        "E-mail o password non corretti. L'accesso è bloccato per {wait}: se non ricordi la password, reimpostala dal pannello di controllo."
                    ),
                    (0, En) => format!(
                        "Wrong e-mail or password. Sign-in is blocked for {wait}: if you do not remember your password, reset it in the control panel."
                    ),
                    (1, It) => format!(
                        "E-mail o password non corretti. Ancora un tentativo, poi l'accesso si blocca per {wait}."
                    ),
                    (1, En) => format!(
                        "Wrong e-mail or password. One more attempt, then sign-in is blocked for {wait}."
                    ),
                    (n, It) => format!(
                        "E-mail o password non corretti. Ancora {n} tentativi, poi l'accesso si blocca per {wait}."
                    ),
                    (n, En) => format!(
                        "Wrong e-mail or password. {n} more attempts, then sign-in is blocked for {wait}."
                    ),
                }
            }
            (Msg::TooManyAttempts, It) => "Troppi tentativi: riprova più tardi.".into(),
            (Msg::TooManyAttempts, En) => "Too many attempts: please try again later.".into(),
            (Msg::TooManyStreams, It) => {
                "Troppe finestre aperte sugli aggiornamenti: chiudine qualcuna.".into()
            }
            (Msg::TooManyStreams, En) => "Too many windows open on live updates: close some.".into(),
            (Msg::Internal, It) => "Errore interno del server: riprova tra poco.".into(),
            (Msg::Internal, En) => "Internal server error: please try again shortly.".into(),
            (Msg::Refusal(why, n), lang) => why.sentence(*n, lang),
            (Msg::JsonFieldInvalid, It) => {
                "Richiesta non valida: un campo manca, è sconosciuto o ha un valore non ammesso."
                    .into()
            }
            (Msg::JsonFieldInvalid, En) => {
                "Invalid request: a field is missing, unknown, or has a value that is not allowed."
                    .into()
            }
            (Msg::JsonMalformed, It) => "Richiesta non valida: il JSON non è ben formato.".into(),
            (Msg::JsonMalformed, En) => "Invalid request: the JSON is not well formed.".into(),
            (Msg::JsonContentType, It) => {
                "La richiesta deve essere in JSON (Content-Type: application/json).".into()
            }
            (Msg::JsonContentType, En) => {
                "The request must be JSON (Content-Type: application/json).".into()
            }
            (Msg::RequestTooLarge, It) => "La richiesta è troppo grande.".into(),
            (Msg::RequestTooLarge, En) => "The request is too large.".into(),
            (Msg::RequestInvalid { status }, It) => format!("Richiesta non valida ({status})."),
            (Msg::RequestInvalid { status }, En) => format!("Invalid request ({status})."),
            (Msg::QueryInvalid { detail }, It) => format!("Parametri non validi: {detail}"),
            (Msg::QueryInvalid { detail }, En) => format!("Invalid parameters: {detail}"),
            (Msg::StatusUnknown, It) => {
                "Stato sconosciuto: usa open, awaiting_customer o closed.".into()
            }
            (Msg::StatusUnknown, En) => {
                "Unknown status: use open, awaiting_customer or closed.".into()
            }
            (Msg::PageSize { max }, It) => {
                format!("Il numero di ticket per pagina va da 1 a {max}.")
            }
            (Msg::PageSize { max }, En) => {
                format!("The number of tickets per page goes from 1 to {max}.")
            }
            (Msg::CursorInvalid, It) => {
                "Il segnaposto della pagina non è valido: ricarica l'elenco.".into()
            }
            (Msg::CursorInvalid, En) => "The page cursor is not valid: reload the list.".into(),
            (Msg::IdempotencyKeyInvalid, It) => "Idempotency-Key non valida.".into(),
            (Msg::IdempotencyKeyInvalid, En) => "Invalid Idempotency-Key.".into(),
            (Msg::ServiceUnknown, It) => "Servizio sconosciuto.".into(),
            (Msg::ServiceUnknown, En) => "Unknown service.".into(),
            (Msg::FileTooLarge { limit_bytes }, It) => format!(
                "Il file è troppo grande: il limite è {limit} per file.",
                limit = human_size(*limit_bytes, It)
            ),
            (Msg::FileTooLarge { limit_bytes }, En) => format!(
                "The file is too large: the limit is {limit} per file.",
                limit = human_size(*limit_bytes, En)
            ),
            (Msg::UploadsPending { max }, It) => format!(
                "Hai già {max} file caricati e non ancora inviati: invia il messaggio che li contiene, oppure riprova domani."
            ),
            (Msg::UploadsPending { max }, En) => format!(
                "You already have {max} files uploaded and not yet sent: send the message they belong to, or try again tomorrow."
            ),
            (Msg::NotMultipart, It) => {
                "Invia il file come multipart/form-data, in una parte chiamata «file».".into()
            }
            (Msg::NotMultipart, En) => {
                "Send the file as multipart/form-data, in a part named \"file\".".into()
            }
            (Msg::OneFilePart, It) => {
                "Invia un solo file per richiesta, nella parte chiamata «file».".into()
            }
            (Msg::OneFilePart, En) => {
                "Send one file per request, in the part named \"file\".".into()
            }
            (Msg::NoFile, It) => "Nessun file ricevuto: scegli un file da allegare.".into(),
            (Msg::NoFile, En) => "No file received: choose a file to attach.".into(),
            (Msg::FileEmpty { name }, It) => format!("Il file «{name}» è vuoto."),
            (Msg::FileEmpty { name }, En) => format!("The file \"{name}\" is empty."),
            (Msg::FileRefused { name, why }, It) => format!(
                "Il file «{name}» non è stato accettato: {why}.",
                why = why.text(It)
            ),
            (Msg::FileRefused { name, why }, En) => format!(
                "The file \"{name}\" was not accepted: {why}.",
                why = why.text(En)
            ),
            (Msg::MultipartInvalid { detail }, It) => {
                format!("Richiesta multipart non valida: {detail}")
            }
            (Msg::MultipartInvalid { detail }, En) => format!("Invalid multipart request: {detail}"),
            (Msg::LanguageUnsupported, It) => {
                "Lingua non disponibile: scegli \"it\" (italiano) o \"en\" (inglese), oppure null per nessuna."
                    .into()
            }
            (Msg::LanguageUnsupported, En) => {
                "Language not available: choose \"it\" (Italian) or \"en\" (English), or null for none."
                    .into()
            }
            (Msg::TimeZoneUnknown, It) => {
                "Fuso orario sconosciuto: indica un nome IANA come \"Europe/Rome\", oppure null per quello predefinito."
                    .into()
            }
            (Msg::TimeZoneUnknown, En) => {
                "Unknown time zone: give an IANA name such as \"Europe/Rome\", or null for the default."
                    .into()
            }
            (Msg::RateLimited { what, secs }, lang) => {
                use crate::storage::UsageKind;
                let wait = wait_text(*secs, lang);
                match (what, lang) {
                    (UsageKind::Tickets, It) => format!(
                        "Hai aperto molti ticket in poco tempo: potrai aprirne un altro tra {wait}. Intanto la bozza resta salvata."
                    ),
                    (UsageKind::Tickets, En) => format!(
                        "You have opened many tickets in a short time: you can open another in {wait}. Your draft is kept meanwhile."
                    ),
                    (UsageKind::Replies, It) => format!(
                        "Hai inviato molte risposte in poco tempo: potrai inviarne un'altra tra {wait}. Il testo resta salvato."
                    ),
                    (UsageKind::Replies, En) => format!(
                        "You have sent many replies in a short time: you can send another in {wait}. Your text is kept."
                    ),
                    (UsageKind::UploadBytes, It) => format!(
                        "Hai caricato molti file in poco tempo: potrai caricarne altri tra {wait}."
                    ),
                    (UsageKind::UploadBytes, En) => format!(
                        "You have uploaded a lot in a short time: you can upload more in {wait}."
                    ),
                }
            }
            (Msg::QuotaExceeded { quota }, It) => format!(
                "Lo spazio per i tuoi allegati ({}) è esaurito: il file non è stato salvato. Scrivi senza allegato o chiedi all'assistenza di liberare spazio.",
                human_size(*quota, It)
            ),
            (Msg::QuotaExceeded { quota }, En) => format!(
                "The space for your attachments ({}) is used up: the file was not saved. Write without the attachment, or ask support to free some space.",
                human_size(*quota, En)
            ),
            (Msg::StorageFull, It) => {
                "Il servizio di assistenza ha esaurito lo spazio di archiviazione: non è stato salvato nulla. La bozza resta qui: riprova più tardi."
                    .into()
            }
            (Msg::StorageFull, En) => {
                "The helpdesk has run out of storage space: nothing was saved. Your draft stays here: please try again later."
                    .into()
            }
        }
    }
}

// ----- uploads -----

/// A kind of file, as a refusal names it (with its article, which differs by kind in Italian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Heic,
    HeicHeif,
    Pdf,
    Zip,
    Office,
    OpenDocument,
    Word,
    Excel,
    PowerPoint,
    OdfText,
    OdfSpreadsheet,
    OdfPresentation,
    OdfDrawing,
    Eml,
    Text,
    Html,
    Svg,
    Executable,
    /// Content that is active in some way the server does not name.
    Active,
}

impl FileKind {
    pub fn name(self, lang: Language) -> &'static str {
        use FileKind::*;
        match self {
            Png => pick(lang, "un'immagine PNG", "a PNG image"),
            Jpeg => pick(lang, "un'immagine JPEG", "a JPEG image"),
            Gif => pick(lang, "un'immagine GIF", "a GIF image"),
            Webp => pick(lang, "un'immagine WebP", "a WebP image"),
            Heic => pick(lang, "un'immagine HEIC", "a HEIC image"),
            HeicHeif => pick(lang, "un'immagine HEIC/HEIF", "a HEIC/HEIF image"),
            Pdf => pick(lang, "un documento PDF", "a PDF document"),
            Zip => pick(lang, "un archivio ZIP", "a ZIP archive"),
            Office => pick(lang, "un documento Office", "an Office document"),
            OpenDocument => pick(
                lang,
                "un documento OpenDocument",
                "an OpenDocument document",
            ),
            Word => pick(lang, "un documento Word (.docx)", "a Word document (.docx)"),
            Excel => pick(
                lang,
                "un foglio Excel (.xlsx)",
                "an Excel spreadsheet (.xlsx)",
            ),
            PowerPoint => pick(
                lang,
                "una presentazione PowerPoint (.pptx)",
                "a PowerPoint presentation (.pptx)",
            ),
            OdfText => pick(
                lang,
                "un documento OpenDocument (.odt)",
                "an OpenDocument text (.odt)",
            ),
            OdfSpreadsheet => pick(
                lang,
                "un foglio di calcolo OpenDocument (.ods)",
                "an OpenDocument spreadsheet (.ods)",
            ),
            OdfPresentation => pick(
                lang,
                "una presentazione OpenDocument (.odp)",
                "an OpenDocument presentation (.odp)",
            ),
            OdfDrawing => pick(
                lang,
                "un disegno OpenDocument (.odg)",
                "an OpenDocument drawing (.odg)",
            ),
            Eml => pick(lang, "un messaggio e-mail", "an e-mail message"),
            Text => pick(lang, "un file di testo", "a text file"),
            Html => pick(lang, "una pagina HTML", "an HTML page"),
            Svg => pick(lang, "un'immagine SVG", "an SVG image"),
            Executable => pick(lang, "un programma eseguibile", "an executable program"),
            Active => pick(lang, "un file attivo", "an active file"),
        }
    }
}

/// Why an uploaded file was refused (the reason after "the file was not accepted: ").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRefusal {
    Empty,
    /// An extension that can run code.
    ExtensionForbidden {
        ext: String,
    },
    /// The content is not what the name's extension says; what it looks like, when known.
    Mismatch {
        claimed: FileKind,
        looks_like: Option<FileKind>,
    },
    /// Active content (a page, an SVG, a program).
    ContentForbidden {
        found: FileKind,
    },
    /// A type outside the accepted ones.
    TypeUnknown,
}

impl FileRefusal {
    pub fn text(&self, lang: Language) -> String {
        use Language::{En, It};
        match (self, lang) {
            (FileRefusal::Empty, It) => "il file è vuoto".into(),
            (FileRefusal::Empty, En) => "the file is empty".into(),
            (FileRefusal::ExtensionForbidden { ext }, It) => format!(
                "i file .{ext} non sono ammessi perché possono eseguire codice; se devi inviarne uno, comprimilo in un archivio ZIP"
            ),
            (FileRefusal::ExtensionForbidden { ext }, En) => format!(
                ".{ext} files are not accepted because they can run code; if you must send one, compress it into a ZIP archive"
            ),
            (FileRefusal::Mismatch { claimed, looks_like: None }, lang) => match lang {
                It => format!("il contenuto non è {claimed}", claimed = claimed.name(It)),
                En => format!("the content is not {claimed}", claimed = claimed.name(En)),
            },
            (FileRefusal::Mismatch { claimed, looks_like: Some(like) }, lang) => match lang {
                It => format!(
                    "il contenuto non è {claimed} (sembra {like})",
                    claimed = claimed.name(It),
                    like = like.name(It)
                ),
                En => format!(
                    "the content is not {claimed} (it looks like {like})",
                    claimed = claimed.name(En),
                    like = like.name(En)
                ),
            },
            (FileRefusal::ContentForbidden { found }, It) => format!(
                "il contenuto è {found}, che non è ammesso come allegato; se devi inviarlo, comprimilo in un archivio ZIP",
                found = found.name(It)
            ),
            (FileRefusal::ContentForbidden { found }, En) => format!(
                "the content is {found}, which is not accepted as an attachment; if you must send it, compress it into a ZIP archive",
                found = found.name(En)
            ),
            (FileRefusal::TypeUnknown, It) => "questo tipo di file non è tra quelli ammessi: immagini (PNG, JPEG, GIF, WebP, HEIC), PDF, testo e log, ZIP, e-mail (.eml), documenti Office e OpenDocument".into(),
            (FileRefusal::TypeUnknown, En) => "this type of file is not among those accepted: images (PNG, JPEG, GIF, WebP, HEIC), PDF, text and logs, ZIP, e-mail (.eml), Office and OpenDocument documents".into(),
        }
    }
}

// ----- refused e-mails -----

/// Why an e-mail was refused and what to do, by reason code.
pub fn rejection_explanation(reason: &str, lang: Language) -> &'static str {
    match (reason, lang) {
        ("unknown_sender", Language::It) => "Il messaggio non proviene dall'indirizzo e-mail di riferimento di un account: scrivi dall'indirizzo di riferimento del tuo account, oppure apri un ticket dal sito.",
        ("unknown_sender", Language::En) => "The message does not come from the reference e-mail address of an account: write from your account's reference address, or open a ticket on the website.",
        ("attachments_too_large", Language::It) => "Gli allegati superano 1 MB in tutto: invia file più piccoli, oppure apri o aggiorna il ticket dal sito, dove puoi caricare file fino a 10 MB.",
        ("attachments_too_large", Language::En) => "The attachments exceed 1 MB in total: send smaller files, or open or update the ticket on the website, where you can upload files of up to 10 MB.",
        ("too_many_attachments", Language::It) => "Il messaggio ha più di 10 allegati: inviane al massimo 10 per messaggio (ad esempio riunendoli in un archivio zip), oppure caricali dal sito.",
        ("too_many_attachments", Language::En) => "The message has more than 10 attachments: send at most 10 per message (for example by putting them together in a zip archive), or upload them on the website.",
        ("unknown_ticket", Language::It) => "Nessuno dei tuoi ticket ha il codice indicato nell'oggetto: controlla il codice, rispondi alle e-mail dei tuoi ticket lasciandolo inalterato, oppure scrivi senza codice per aprire un nuovo ticket.",
        ("unknown_ticket", Language::En) => "None of your tickets has the code given in the subject: check the code, reply to your tickets' e-mails leaving it unchanged, or write without a code to open a new ticket.",
        ("several_senders", Language::It) => "Il messaggio ha più mittenti o nessun mittente: invialo dal solo indirizzo di riferimento del tuo account.",
        ("several_senders", Language::En) => "The message has several senders or none: send it from your account's reference address alone.",
        ("unauthenticated", Language::It) => "Non è stato possibile verificare che il messaggio provenga davvero dal tuo dominio (SPF/DKIM): è stato messo in quarantena.",
        ("unauthenticated", Language::En) => "It was not possible to verify that the message really comes from your domain (SPF/DKIM): it has been quarantined.",
        ("automatic", Language::It) => "Il messaggio è stato inviato automaticamente (risposta di assenza, ricevuta di lettura, avviso di mancato recapito o simile) e non è stato aggiunto ai ticket.",
        ("automatic", Language::En) => "The message was sent automatically (an out-of-office reply, a read receipt, a delivery notice or the like) and was not added to the tickets.",
        ("encrypted", Language::It) => "Il messaggio è cifrato (S/MIME o PGP) e non possiamo leggerlo: scrivici di nuovo senza cifratura, oppure apri o aggiorna il ticket dal sito.",
        ("encrypted", Language::En) => "The message is encrypted (S/MIME or PGP) and we cannot read it: write to us again without encryption, or open or update the ticket on the website.",
        ("malformed", Language::It) => "Il messaggio non è leggibile: invialo di nuovo, oppure apri un ticket dal sito.",
        ("malformed", Language::En) => "The message cannot be read: send it again, or open a ticket on the website.",
        ("unknown_recipient", Language::It) => "L'indirizzo a cui hai scritto non è quello dell'assistenza: usa hd@smacloud.it (assistenza tecnica) o sales@smacloud.it (informazioni commerciali).",
        ("unknown_recipient", Language::En) => "The address you wrote to is not the helpdesk's: use hd@smacloud.it (technical support) or sales@smacloud.it (sales information).",
        ("rate_limited", Language::It) => "Hai scritto molti messaggi in poco tempo e hai raggiunto il limite del tuo account: il messaggio non è stato aggiunto. Riprova tra qualche minuto, oppure scrivi dal sito.",
        ("rate_limited", Language::En) => "You have written many messages in a short time and reached your account's limit: the message was not added. Try again in a few minutes, or write on the website.",
        ("quota_exceeded", Language::It) => "Lo spazio per gli allegati del tuo account è esaurito: il messaggio non è stato aggiunto. Scrivi senza allegati, oppure chiedi all'assistenza dal sito di liberare spazio.",
        ("quota_exceeded", Language::En) => "The space for your account's attachments is used up: the message was not added. Write without attachments, or ask support on the website to free some space.",
        (_, Language::It) => "Il messaggio non è stato accettato: apri un ticket dal sito, oppure scrivi di nuovo dall'indirizzo di riferimento del tuo account.",
        (_, Language::En) => "The message was not accepted: open a ticket on the website, or write again from your account's reference address.",
    }
}

/// The note that ends an e-mail's text cut at the length limit. Written when the e-mail is read,
/// before its sender is known, and kept in the thread: in both languages.
pub const BODY_TRUNCATED: &str =
    "[… testo troncato: il messaggio completo è nell'e-mail originale allegata / \
     text cut short: the whole message is in the original e-mail, attached]";

/// The note added to a message whose Outlook `winmail.dat` could not be read (it is attached as
/// it is). Written before the sender is known: in both languages.
pub const TNEF_DAMAGED: &str =
    "[winmail.dat: il file di Outlook che contiene gli allegati è danneggiato e non è stato possibile \
     estrarli; è allegato così com'è / Outlook's file holding the attachments is damaged and they \
     could not be extracted; it is attached as it is]";

/// The subject of a ticket opened by an e-mail without one.
pub fn mail_no_subject(lang: Language) -> &'static str {
    pick(lang, "(senza oggetto)", "(no subject)")
}

/// The text of a message whose e-mail had none.
pub fn mail_no_text(lang: Language) -> &'static str {
    pick(
        lang,
        "(il messaggio non conteneva testo)",
        "(the message contained no text)",
    )
}

/// The answer to a refused e-mail in one language: subject and body (plain text).
pub fn refusal_email(
    reason: &str,
    subject: &str,
    public_url: &str,
    attachments_bytes: u64,
    lang: Language,
) -> (String, String) {
    let shown = shown_subject(subject, lang);
    let subject_line = pick(
        lang,
        format!("Messaggio non accettato: {shown}"),
        format!("Message not accepted: {shown}"),
    );
    (
        subject_line,
        refusal_body(
            reason,
            Named::Subject(&shown),
            public_url,
            attachments_bytes,
            lang,
        ),
    )
}

/// The answer to a refused e-mail from an address that is no customer's: the Italian text, then
/// the English one below it. It repeats nothing the sender wrote (no subject, no text, no link of
/// theirs): whoever forges a victim's address as the sender must not have it carry their words.
/// `window_hours`: how long the address gets no other such answer.
pub fn refusal_email_both(reason: &str, public_url: &str, window_hours: i64) -> (String, String) {
    let named = Named::Nothing { window_hours };
    let body = format!(
        "{italian}\n-- English below --\n\n{english}",
        italian = refusal_body(reason, named, public_url, 0, Language::It),
        english = refusal_body(reason, named, public_url, 0, Language::En),
    );
    (
        "Messaggio non accettato / Message not accepted".to_string(),
        body,
    )
}

fn shown_subject(subject: &str, lang: Language) -> String {
    if subject.trim().is_empty() {
        mail_no_subject(lang).to_string()
    } else {
        subject.to_string()
    }
}

/// What a refusal names of the message it answers.
#[derive(Clone, Copy)]
enum Named<'a> {
    /// Its subject (a customer's own message).
    Subject(&'a str),
    /// Nothing (an unknown sender's): the address gets no other answer for `window_hours`.
    Nothing { window_hours: i64 },
}

fn refusal_body(
    reason: &str,
    named: Named<'_>,
    public_url: &str,
    attachments_bytes: u64,
    lang: Language,
) -> String {
    // An unknown sender is told what to do once, in the sentence below that gives the website's
    // address: here only why.
    let explanation = match reason {
        "unknown_sender" => pick(
            lang,
            "Questo indirizzo non è l'indirizzo e-mail di riferimento di nessun account.",
            "This address is not the reference e-mail address of any account.",
        ),
        _ => rejection_explanation(reason, lang),
    };
    let mut body = match named {
        Named::Subject(shown) => pick(
            lang,
            format!("Buongiorno,\n\nil messaggio con oggetto \"{shown}\" inviato all'assistenza non è stato accettato.\n\n{explanation}\n"),
            format!("Hello,\n\nthe message with subject \"{shown}\" sent to the helpdesk was not accepted.\n\n{explanation}\n"),
        ),
        Named::Nothing { .. } => pick(
            lang,
            format!("Buongiorno,\n\nun messaggio inviato all'assistenza da questo indirizzo non è stato accettato.\n\n{explanation}\n"),
            format!("Hello,\n\na message sent to the helpdesk from this address was not accepted.\n\n{explanation}\n"),
        ),
    };
    let more = match (reason, lang) {
        ("attachments_too_large", Language::It) => Some(format!(
            "\nPer e-mail gli allegati possono arrivare al massimo a 1 MB (1.048.576 byte) in tutto per messaggio; \
             quelli del tuo messaggio erano {attachments_bytes} byte. Il messaggio non è stato registrato in nessun ticket.\n"
        )),
        ("attachments_too_large", Language::En) => Some(format!(
            "\nBy e-mail, attachments may reach at most 1 MB (1,048,576 bytes) in total per message; \
             those of your message were {attachments_bytes} bytes. The message was not recorded in any ticket.\n"
        )),
        ("too_many_attachments", Language::It) => Some(
            "\nPer e-mail si possono allegare al massimo 10 file per messaggio, come sul sito. \
             Il messaggio non è stato registrato in nessun ticket.\n"
                .to_string(),
        ),
        ("too_many_attachments", Language::En) => Some(
            "\nBy e-mail you can attach at most 10 files per message, as on the website. \
             The message was not recorded in any ticket.\n"
                .to_string(),
        ),
        ("unknown_sender", Language::It) => Some(format!(
            "\nPer aprire un ticket scrivi dall'indirizzo e-mail di riferimento del tuo account \
             (lo stesso con cui accedi al pannello di controllo), oppure aprilo dal sito accedendo \
             con i dati del pannello: {public_url}\n"
        )),
        ("unknown_sender", Language::En) => Some(format!(
            "\nTo open a ticket, write from your account's reference e-mail address (the one you \
             log in to the control panel with), or open it on the website, logging in with your \
             control panel credentials: {public_url}\n"
        )),
        _ => None,
    };
    if let Some(more) = more {
        body.push_str(&more);
    }
    if reason != "unknown_sender" {
        body.push_str(&pick(
        lang,
        format!(
            "\nPuoi sempre aprire o aggiornare un ticket dal sito, accedendo con i dati del pannello: {public_url}\n"
        ),
        format!(
            "\nYou can always open or update a ticket on the website, logging in with your control panel credentials: {public_url}\n"
        ),
    ));
    }
    if let Named::Nothing { window_hours } = named {
        body.push_str(&pick(
            lang,
            format!(
                "\nSe non l'hai inviato tu, ignora questa e-mail: a questo indirizzo non ne manderemo altre per {window_hours} ore.\n"
            ),
            format!(
                "\nIf you did not send it, ignore this e-mail: we will send no other to this address for {window_hours} hours.\n"
            ),
        ));
    }
    body.push_str(pick(
        lang,
        "\nQuesta è una risposta automatica.\n",
        "\nThis is an automatic reply.\n",
    ));
    body
}

// ----- notifications -----

pub fn department_label(d: Department, lang: Language) -> &'static str {
    match d {
        Department::Helpdesk => pick(
            lang,
            "Helpdesk (Assistenza Tecnica)",
            "Helpdesk (Technical Support)",
        ),
        Department::Sales => pick(
            lang,
            "Sales & Marketing (Informazioni Commerciali ed amministrative)",
            "Sales & Marketing (Sales and billing information)",
        ),
    }
}

/// Advice in the acknowledgment when the subject names none of the customer's services.
pub fn advice_name_service(examples: &[&str], lang: Language) -> String {
    if examples.is_empty() {
        return pick(
            lang,
            "Nell'oggetto delle prossime e-mail indica il servizio o il dominio a cui si riferisce la richiesta: così il ticket arriva subito al tecnico giusto.",
            "In the subject of your next e-mails, name the service or domain the request is about: that way the ticket reaches the right technician at once.",
        )
        .to_string();
    }
    let examples = examples.join(", ");
    pick(
        lang,
        format!("Nell'oggetto delle prossime e-mail indica il servizio o il dominio a cui si riferisce la richiesta (ad esempio {examples}): così il ticket arriva subito al tecnico giusto."),
        format!("In the subject of your next e-mails, name the service or domain the request is about (for example {examples}): that way the ticket reaches the right technician at once."),
    )
}

/// Advice in the acknowledgment when the message names several of the customer's services.
pub fn advice_one_service(named: &[&str], lang: Language) -> String {
    let named = named.join(", ");
    pick(
        lang,
        format!("Il messaggio nomina più servizi ({named}): in un ticket affronta un solo problema e un solo servizio; per gli altri apri ticket separati."),
        format!("The message names several services ({named}): keep one problem and one service per ticket; open separate tickets for the others."),
    )
}

/// The short test e-mail sent when a customer whose address bounced our e-mails says the problem
/// is solved ("Ho risolto, riprova"): subject and body (plain text).
pub fn delivery_test_email(name: &str, public_url: &str, lang: Language) -> (String, String) {
    let greeting = greeting(name, lang);
    pick(
        lang,
        (
            "Prova di recapito dall'assistenza".to_string(),
            format!(
                "{greeting}\n\nquesta è un'e-mail di prova: se la stai leggendo, le e-mail dell'assistenza \
                 ti arrivano di nuovo. Non serve rispondere.\n\nSe non ti arrivasse, te lo segnaleremo \
                 di nuovo su {public_url}\n"
            ),
        ),
        (
            "Delivery test from the helpdesk".to_string(),
            format!(
                "{greeting}\n\nthis is a test e-mail: if you are reading it, the helpdesk's e-mails reach \
                 you again. There is no need to reply.\n\nIf it does not reach you, we will tell you \
                 again on {public_url}\n"
            ),
        ),
    )
}

/// The display name of the sender of every e-mail, in either language: the outbox sends it
/// later without the customer at hand, and the name is the department's, like a signature.
pub const SENDER_NAME: &str = "Assistenza";

/// The fixed sentences of the notifications about a ticket, in one language.
pub struct MailTexts {
    pub keep_code: &'static str,
    pub awaiting_you: &'static str,
    pub closed_now: &'static str,
    pub you_wrote: &'static str,
    pub subject_label: &'static str,
    pub to_help_us: &'static str,
    pub answers_by_mail: &'static str,
    pub open_ticket: &'static str,
    pub history_label: &'static str,
    pub open_history: &'static str,
    pub earlier_messages: &'static str,
    /// The line that stands for text a message quotes from earlier ones, left out of e-mails as
    /// the app folds it away.
    pub quoted_omitted: &'static str,
    pub service_label: &'static str,
    /// The service of a ticket opened by e-mail whose subject named none of the customer's.
    pub service_none: &'static str,
    pub priority_label: &'static str,
    /// The priority of a ticket opened by e-mail, with the seed's rule.
    pub priority_by_mail: &'static str,
    /// What to do when a ticket opened by e-mail was filed under the wrong service; the address
    /// of the website's form follows it.
    pub wrong_service: &'static str,
}

const MAIL_IT: MailTexts = MailTexts {
    keep_code: "Per rispondere, rispondi a questa e-mail lasciando inalterato il codice del ticket nell'oggetto.",
    awaiting_you: "Il ticket ora è in attesa di una tua risposta: rispondi a questa e-mail o dalla pagina del ticket.",
    closed_now: "Il ticket è stato chiuso. Se rispondi, verrà riaperto.",
    you_wrote: "Hai scritto",
    subject_label: "Oggetto",
    to_help_us: "Per aiutarci a risolvere il problema fin dalla prima risposta:",
    answers_by_mail: "Le risposte ti arriveranno per e-mail.",
    open_ticket: "Apri il ticket",
    history_label: "Storico del ticket",
    open_history: "Apri lo storico del ticket",
    earlier_messages: "Messaggi precedenti",
    quoted_omitted: "[testo citato omesso]",
    service_label: "Servizio",
    service_none: "nessuno dei tuoi servizi è nominato nell'oggetto",
    priority_label: "Priorità",
    priority_by_mail: "bassa (i ticket aperti per e-mail hanno sempre priorità bassa; aprendo il ticket dal sito puoi scegliere anche la priorità normale)",
    wrong_service: "Se il servizio non è quello giusto, apri un nuovo ticket dal sito scegliendo il servizio corretto:",
};

const MAIL_EN: MailTexts = MailTexts {
    keep_code: "To answer, reply to this e-mail leaving the ticket code in the subject unchanged.",
    awaiting_you:
        "The ticket is now waiting for your reply: reply to this e-mail or on the ticket's page.",
    closed_now: "The ticket has been closed. If you reply, it will be reopened.",
    you_wrote: "You wrote",
    subject_label: "Subject",
    to_help_us: "To help us solve the problem from the first answer:",
    answers_by_mail: "Answers will reach you by e-mail.",
    open_ticket: "Open the ticket",
    history_label: "Ticket history",
    open_history: "Open the ticket history",
    earlier_messages: "Earlier messages",
    quoted_omitted: "[quoted text omitted]",
    service_label: "Service",
    service_none: "none of your services is named in the subject",
    priority_label: "Priority",
    priority_by_mail: "low (tickets opened by e-mail always have low priority; opening the ticket on the website you can also choose normal priority)",
    wrong_service: "If the service is not the right one, open a new ticket on the website choosing the right service:",
};

pub fn mail_texts(lang: Language) -> &'static MailTexts {
    pick(lang, &MAIL_IT, &MAIL_EN)
}

/// "Dear {name},": the greeting of a notification.
pub fn greeting(name: &str, lang: Language) -> String {
    pick(lang, format!("Gentile {name},"), format!("Dear {name},"))
}

/// The first sentence of an acknowledgment.
pub fn ticket_opened(code: &str, department: Department, lang: Language) -> String {
    let dept = department_label(department, lang);
    pick(
        lang,
        format!(
            "abbiamo ricevuto la tua richiesta e aperto il ticket {code} per il reparto {dept}."
        ),
        format!(
            "we have received your request and opened ticket {code} for the {dept} department."
        ),
    )
}

/// Where the customer follows a ticket, with its address.
pub fn follow_here(link: &str, lang: Language) -> String {
    pick(
        lang,
        format!("Puoi seguire il ticket qui: {link}"),
        format!("You can follow the ticket here: {link}"),
    )
}

/// The first sentence of a staff reply's notification.
pub fn staff_answered(staff_name: &str, code: &str, lang: Language) -> String {
    pick(
        lang,
        format!("{staff_name} ha risposto al tuo ticket {code}:"),
        format!("{staff_name} has answered your ticket {code}:"),
    )
}

/// A staff member's name in a quoted thread.
pub fn staff_author(name: &str, lang: Language) -> String {
    pick(
        lang,
        format!("{name} (Assistenza)"),
        format!("{name} (Helpdesk)"),
    )
}

// ----- refusals of a ticket or a reply -----

/// Why the API refuses to open a ticket or add a reply: each reason has its stable code (the
/// contract) and its sentence in each language (for people).
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

    /// The key of its message, with `n`, the limit the reason is about (where it has one).
    pub fn msg(self, n: usize) -> Msg {
        Msg::Refusal(self, n)
    }

    /// The sentence; `n` is the limit the reason is about, where it has one.
    pub fn sentence(self, n: usize, lang: Language) -> String {
        use Language::{En, It};
        match (self, lang) {
            (Refusal::UnknownService, It) => "Il servizio scelto non è tra i tuoi servizi.".into(),
            (Refusal::UnknownService, En) => "The chosen service is not one of yours.".into(),
            (Refusal::ServiceRequired, It) => {
                "Per l'assistenza tecnica indica il servizio o il dominio interessato.".into()
            }
            (Refusal::ServiceRequired, En) => {
                "For technical support, name the service or domain concerned.".into()
            }
            (Refusal::SubjectTooLong, It) => {
                format!("L'oggetto è troppo lungo: al massimo {n} caratteri.")
            }
            (Refusal::SubjectTooLong, En) => {
                format!("The subject is too long: at most {n} characters.")
            }
            (Refusal::SubjectTooShort, It) => {
                format!("L'oggetto è troppo breve: scrivi almeno {n} caratteri.")
            }
            (Refusal::SubjectTooShort, En) => {
                format!("The subject is too short: write at least {n} characters.")
            }
            (Refusal::SubjectGeneric, It) => {
                "L'oggetto è troppo generico: di' cosa non funziona e dove.".into()
            }
            (Refusal::SubjectGeneric, En) => {
                "The subject is too generic: say what does not work, and where.".into()
            }
            (Refusal::TextTooShort, It) => {
                format!("Il testo è troppo breve: scrivi almeno {n} caratteri.")
            }
            (Refusal::TextTooShort, En) => {
                format!("The text is too short: write at least {n} characters.")
            }
            (Refusal::TextTooLong, It) => {
                format!("Il testo è troppo lungo: al massimo {n} caratteri.")
            }
            (Refusal::TextTooLong, En) => format!("The text is too long: at most {n} characters."),
            (Refusal::TooManyFiles, It) => format!("Al massimo {n} allegati per messaggio."),
            (Refusal::TooManyFiles, En) => format!("At most {n} attachments per message."),
            (Refusal::StaffReplyLength, It) => {
                "Il testo della risposta è vuoto o troppo lungo.".into()
            }
            (Refusal::StaffReplyLength, En) => "The reply's text is empty or too long.".into(),
            (Refusal::IdempotencyKeyReused, It) => {
                "Questa chiave di idempotenza è già stata usata per una richiesta diversa.".into()
            }
            (Refusal::IdempotencyKeyReused, En) => {
                "This idempotency key was already used for a different request.".into()
            }
            (Refusal::UploadUnavailable, It) => {
                "Un allegato non è più disponibile (scaduto o già usato): caricalo di nuovo.".into()
            }
            (Refusal::UploadUnavailable, En) => {
                "An attachment is no longer available (expired or already used): upload it again."
                    .into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_of_any_region_is_english_and_anything_else_italian() {
        for h in [
            "en",
            "en-GB",
            "EN-us",
            "en-US,en;q=0.9",
            "fr, en;q=0.5",
            "de-CH, en-GB;q=0.7, it;q=0.3",
        ] {
            assert_eq!(from_accept_language(h), Language::En, "{h}");
        }
        for h in [
            "",
            "it",
            "it-IT,it;q=0.9,en;q=0.8",
            "fr",
            "de-DE",
            "*",
            "en;q=0",
            "garbage;;,",
        ] {
            assert_eq!(from_accept_language(h), Language::It, "{h}");
        }
    }

    #[test]
    fn a_saved_language_is_italian_when_none() {
        assert_eq!(Language::of_saved(None), Language::It);
        assert_eq!(Language::of_saved(Some("it")), Language::It);
        assert_eq!(Language::of_saved(Some("en")), Language::En);
        assert_eq!(Language::of_saved(Some("en-GB")), Language::En);
        assert_eq!(Language::of_saved(Some("fr")), Language::It);
    }

    #[test]
    fn limits_read_as_people_write_them() {
        assert_eq!(human_size(10 * 1024 * 1024, Language::It), "10 MB");
        assert_eq!(human_size(4096, Language::It), "4 KB");
        assert_eq!(human_size(1_572_864, Language::It), "1,5 MB");
        assert_eq!(human_size(1_572_864, Language::En), "1.5 MB");
        assert_eq!(human_size(100, Language::It), "100 byte");
        assert_eq!(human_size(100, Language::En), "100 bytes");
    }

    #[test]
    fn every_rejection_reason_has_its_own_words_in_both_languages() {
        for reason in [
            "unknown_sender",
            "attachments_too_large",
            "too_many_attachments",
            "unknown_ticket",
            "several_senders",
            "unauthenticated",
            "automatic",
            "encrypted",
            "malformed",
            "unknown_recipient",
        ] {
            let (it, en) = (
                rejection_explanation(reason, Language::It),
                rejection_explanation(reason, Language::En),
            );
            assert_ne!(it, en, "{reason}");
            assert_ne!(it, rejection_explanation("?", Language::It), "{reason}");
            assert_ne!(en, rejection_explanation("?", Language::En), "{reason}");
        }
    }

    #[test]
    fn an_answer_to_an_unknown_sender_is_italian_then_english() {
        let (subject, body) = refusal_email_both("unknown_sender", "https://h.example", 24);
        assert_eq!(subject, "Messaggio non accettato / Message not accepted");
        let it = body.find("non è stato accettato").expect("Italian");
        let en = body.find("was not accepted").expect("English");
        assert!(it < en, "{body}");
        assert!(
            body.contains("altre per 24 ore") && body.contains("for 24 hours"),
            "{body}"
        );
        assert!(body.contains("https://h.example"), "{body}");
        // One instruction, once in each language: where to write from, or the website.
        for once in [
            "dall'indirizzo e-mail di riferimento",
            "dal sito",
            "from your account's reference e-mail address",
            "on the website",
            "https://h.example",
        ] {
            let n = body.matches(once).count();
            let want = if once.starts_with("https") { 2 } else { 1 };
            assert_eq!(n, want, "{once:?} {n} times in {body}");
        }
    }
}
