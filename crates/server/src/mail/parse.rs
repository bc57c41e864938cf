//! Reading one incoming e-mail: who sent it, to whom, what it says and what it carries. No I/O.

use helpdesk_core::api::MailDeliveryReason;
use helpdesk_core::limits::{
    BODY_MAX_CHARS, MAX_EMAIL_ATTACHMENT_BYTES, MAX_FILES_PER_MESSAGE, SUBJECT_MAX_CHARS,
};
use helpdesk_core::text;
use mail_parser::{
    Address, HeaderName, HeaderValue, Message, MessageParser, MimeHeaders, PartType,
};

/// What the intake needs from a message, owned, so that the raw bytes can go.
#[derive(Debug, Default)]
pub struct Analysis {
    /// False when the bytes are not an e-mail at all (no headers could be read).
    pub parsed: bool,
    /// Every address of every `From` header, normalised (see [`normalise_address`]); invalid
    /// ones are kept as `None` so that they still count.
    pub from: Vec<Option<String>>,
    /// The `From` header as written, for the record when there is no single sender.
    pub from_raw: String,
    /// The subject after decoding, one line, without control characters.
    pub subject: String,
    /// `<id>`, as our own notifications refer to it.
    pub message_id: Option<String>,
    /// In-Reply-To then References, each `<id>`, most recent first.
    pub references: Vec<String>,
    /// Addresses the message names as its recipients (Delivered-To, X-Original-To, To, Cc).
    pub header_recipients: Vec<String>,
    /// What kind of automatic mail this is and by which sign (see [`Automatic`]); `None` for a
    /// person's mail.
    pub automatic: Option<Automatic>,
    /// What a delivery-status notification says of the message it returns; `None` for any
    /// other mail (and for a report whose parts were not read).
    pub bounce: Option<Bounce>,
    /// Encrypted (S/MIME enveloped data or PGP/MIME): nothing of it can be read.
    pub encrypted: bool,
    /// Carries an S/MIME or PGP/MIME signature (the signature itself is no attachment).
    pub signed: bool,
    /// `Authentication-Results` header values above the first `Received` header, topmost first,
    /// unfolded; none when the message has no `Received` header. Our MTA prepends its results
    /// above the `Received` header it adds on delivery, so one written by the sender always sits
    /// below that `Received` and is never among these.
    pub auth_results: Vec<String>,
    /// The text the customer wrote (HTML-only mail converted to text).
    pub body: String,
    /// Decoded attachments; empty when they are over the limit.
    pub attachments: Vec<MailAttachment>,
    /// Decoded size of all attachments, counted even past the limit.
    pub attachments_bytes: u64,
    pub attachments_over_limit: bool,
    /// Attachments counted, even past the limits.
    pub attachments_count: usize,
    /// More than the web allows on one message ([`MAX_FILES_PER_MESSAGE`]).
    pub too_many_attachments: bool,
    /// The names of the attachments, even past the limits (at most [`MAX_ATTACHMENT_NAMES`]):
    /// a refused message's list says what to attach again.
    pub attachment_names: Vec<String>,
}

/// Attachment names read from one message; a message with more is refused anyway.
pub const MAX_ATTACHMENT_NAMES: usize = 100;

/// Mail sent by a program on someone's behalf: never a message of the thread, never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Automatic {
    /// `read_receipt`, `delivery_status`, `out_of_office`, `challenge_response`,
    /// `mailing_list`, `bulk`, `auto_generated`, `null_sender` or `system_sender`.
    pub kind: &'static str,
    /// The sign it was recognised by (a header, the report's type, the subject's form).
    pub by: &'static str,
}

impl Automatic {
    const fn new(kind: &'static str, by: &'static str) -> Self {
        Self { kind, by }
    }
}

impl std::fmt::Display for Automatic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.kind, self.by)
    }
}

/// A delivery-status notification (RFC 3464): which message came back, for whom, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bounce {
    /// The Message-IDs of the returned message (its headers, or the whole of it), each `<id>`.
    pub returned_ids: Vec<String>,
    /// The first recipient the report is about (`Final-Recipient`, else `Original-Recipient`).
    pub recipient: Option<String>,
    /// `failed`, `delayed`, `delivered`, ... (lowercase), of that recipient.
    pub action: Option<String>,
    /// The enhanced status code (RFC 3463), e.g. `5.1.1`.
    pub status: Option<String>,
    /// The receiving server's own words (`Diagnostic-Code` without its type).
    pub diagnostic: Option<String>,
}

impl Bounce {
    /// Whether the message was given up on: a report of a delay (or of a delivery) is not a bounce.
    pub fn failed(&self) -> bool {
        !matches!(
            self.action.as_deref(),
            Some("delayed" | "delivered" | "relayed" | "expanded")
        )
    }

    /// The status code; the first one the diagnostic names when the report gave none or only a
    /// generic one (`5.0.0`, which some servers write while their diagnostic says `5.1.1`).
    pub fn code(&self) -> Option<String> {
        let status = self.status.as_deref().and_then(enhanced_code);
        let named = || {
            self.diagnostic.as_deref().and_then(|d| {
                d.split(|c: char| !c.is_ascii_digit() && c != '.')
                    .find_map(enhanced_code)
            })
        };
        match status {
            Some(s) if s.ends_with(".0.0") => named().or(Some(s)),
            Some(s) => Some(s),
            None => named(),
        }
    }

    /// Why the address does not take our mail.
    pub fn reason(&self) -> MailDeliveryReason {
        match self.code().as_deref() {
            Some("4.2.2" | "5.2.2") => MailDeliveryReason::MailboxFull,
            Some("5.1.1") => MailDeliveryReason::UnknownUser,
            Some(c) if c.starts_with("5.7.") => MailDeliveryReason::Rejected,
            _ => MailDeliveryReason::Other,
        }
    }

    /// One line for staff: the code and the diagnostic, cut short.
    pub fn summary(&self) -> String {
        let code = self.code().unwrap_or_else(|| "no status".into());
        match &self.diagnostic {
            Some(d) => format!("{code} {}: {}", self.reason().as_str(), one_line(d, 300)),
            None => format!("{code} {}", self.reason().as_str()),
        }
    }
}

/// `class.subject.detail` of RFC 3463 (class 2, 4 or 5), as written.
fn enhanced_code(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('.');
    let mut parts = s.split('.');
    let class = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let digits = |p: &str| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
    (matches!(class, "2" | "4" | "5") && rest.len() == 2 && rest.iter().all(|p| digits(p)))
        .then(|| s.to_string())
}

/// Reads a delivery-status notification's parts: the per-recipient fields of its
/// `message/delivery-status` part and the Message-ID of the message it returns (a
/// `message/rfc822` part, or a `text/rfc822-headers` one).
fn read_bounce(msg: &Message<'_>) -> Bounce {
    let mut b = Bounce::default();
    for part in msg.parts.iter().skip(1) {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let sub = ct.subtype().unwrap_or("").to_ascii_lowercase();
        let ctype = ct.ctype().to_ascii_lowercase();
        match (ctype.as_str(), sub.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                read_status_fields(&String::from_utf8_lossy(part.contents()), &mut b);
            }
            ("message", "rfc822" | "global") => {
                if let PartType::Message(m) = &part.body {
                    b.returned_ids.extend(m.message_id().and_then(bracket_id));
                }
            }
            ("text", "rfc822-headers") | ("message", "rfc822-headers") => {
                if let Some(h) = MessageParser::default().parse_headers(part.contents()) {
                    b.returned_ids.extend(h.message_id().and_then(bracket_id));
                }
            }
            _ => {}
        }
    }
    b.returned_ids.dedup();
    b
}

/// The fields of a `message/delivery-status` body (unfolded): the first recipient's.
fn read_status_fields(text: &str, b: &mut Bounce) {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    // `type; value`: the address or the words after the type.
    let typed = |v: &str| match v.split_once(';') {
        Some((_, rest)) => rest.trim().to_string(),
        None => v.trim().to_string(),
    };
    for (name, value) in fields {
        match name.as_str() {
            "final-recipient" if b.recipient.is_none() => {
                b.recipient = normalise_address(typed(&value).trim_matches(['<', '>']));
            }
            "original-recipient" if b.recipient.is_none() => {
                b.recipient = normalise_address(typed(&value).trim_matches(['<', '>']));
            }
            "action" if b.action.is_none() => b.action = Some(value.to_ascii_lowercase()),
            "status" if b.status.is_none() => b.status = Some(value),
            "diagnostic-code" if b.diagnostic.is_none() => b.diagnostic = Some(typed(&value)),
            _ => {}
        }
    }
}

#[derive(Debug, Clone)]
pub struct MailAttachment {
    /// Cleaned for display; never a path.
    pub name: String,
    /// The type the sender declared, reduced to a safe one (see [`safe_content_type`]).
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Most In-Reply-To/References ids looked at: the recent ones are enough to thread.
const MAX_REFERENCES: usize = 40;
/// HTML beyond this is not converted (its text would be cut at `BODY_MAX_CHARS` anyway).
const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;

/// Reads a message. Never panics: a parser panic on hostile input is caught and the message is
/// treated as unreadable. `complete` is false when only the start of an oversized message was
/// kept: then only its headers are read and its attachments count as over the limit.
pub fn analyse(raw: &[u8], complete: bool) -> Analysis {
    match std::panic::catch_unwind(|| analyse_inner(raw, complete)) {
        Ok(a) => a,
        Err(_) => {
            tracing::warn!("the e-mail parser panicked; the message is recorded as malformed");
            Analysis::default()
        }
    }
}

fn analyse_inner(raw: &[u8], complete: bool) -> Analysis {
    let parser = MessageParser::default();
    let parsed = if complete {
        parser.parse(raw)
    } else {
        parser.parse_headers(raw)
    };
    let Some(msg) = parsed else {
        return Analysis::default();
    };
    // Anything yields "headers" to a lenient parser: an e-mail has at least one we know.
    let known = msg
        .headers()
        .iter()
        .any(|h| !matches!(h.name, HeaderName::Other(_)));
    if !known {
        return Analysis::default();
    }
    let mut a = Analysis {
        parsed: true,
        ..Analysis::default()
    };
    read_headers(&msg, &mut a);
    if complete {
        read_body(&msg, &mut a);
    } else {
        a.attachments_over_limit = true;
        a.attachments_bytes = raw.len() as u64;
    }
    a
}

fn read_headers(msg: &Message<'_>, a: &mut Analysis) {
    for value in msg.header_values(HeaderName::From) {
        if let Some(addr) = value.as_address() {
            for one in addr.iter() {
                a.from.push(one.address().and_then(normalise_address));
            }
        }
    }
    a.from_raw = msg
        .header_raw(HeaderName::From)
        .map(|v| one_line(v, 300))
        .unwrap_or_default();
    a.subject = msg.subject().map(|s| one_line(s, 1000)).unwrap_or_default();
    a.message_id = msg.message_id().and_then(bracket_id);
    let mut refs = ids_of(msg.in_reply_to());
    let mut older = ids_of(msg.references());
    older.reverse();
    refs.extend(older);
    refs.dedup();
    refs.truncate(MAX_REFERENCES);
    a.references = refs;

    let mut below_received = false;
    for (name, value) in msg.headers_raw() {
        if name.eq_ignore_ascii_case("Received") {
            below_received = true;
        } else if name.eq_ignore_ascii_case("Delivered-To")
            || name.eq_ignore_ascii_case("X-Original-To")
        {
            if let Some(addr) =
                normalise_address(value.trim().trim_start_matches('<').trim_end_matches('>'))
            {
                a.header_recipients.push(addr);
            }
        } else if name.eq_ignore_ascii_case("Authentication-Results") && !below_received {
            a.auth_results.push(one_line(value, 4000));
        }
    }
    if !below_received {
        // Not delivered by our MTA, which adds a Received header: no result can be its.
        a.auth_results.clear();
    }
    for addr in msg.to().into_iter().chain(msg.cc()) {
        for one in address_list(addr) {
            a.header_recipients.push(one);
        }
    }
    a.automatic = automatic_reason(msg, a);
    if a.automatic.is_some_and(|k| k.kind == "delivery_status") {
        a.bounce = Some(read_bounce(msg));
    }
    a.encrypted = is_encrypted(msg);
}

fn address_list(addr: &Address<'_>) -> Vec<String> {
    addr.iter()
        .filter_map(|one| one.address().and_then(normalise_address))
        .collect()
}

/// Why a message is automatic: first by its headers and MIME type (RFC 3834 `Auto-Submitted`,
/// the reports of RFC 8098 and RFC 3464, the headers of Exchange and of vacation programs, list
/// headers), then by the well-known subject forms of out-of-office replies, receipts and
/// challenge-response systems; `None` for a person's mail.
fn automatic_reason(msg: &Message<'_>, a: &Analysis) -> Option<Automatic> {
    let raw = |name: &str| msg.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let subject = subject_form(&a.subject);
    // Reports first: a read receipt or a bounce also carries Auto-Submitted and a null sender.
    if let Some(kind) = report_kind(msg) {
        return Some(kind);
    }
    if let Some(cr) = challenge_response(msg, a, subject) {
        return Some(cr);
    }
    if let Some(v) = raw("Auto-Submitted") {
        let kind = v
            .split(|c: char| c == ';' || c == '(' || c.is_whitespace())
            .next()
            .unwrap_or("");
        if kind != "no" {
            let by = "Auto-Submitted";
            return Some(match subject {
                Some(form) => Automatic::new(form, by),
                None if kind == "auto-replied" => Automatic::new("out_of_office", by),
                None => Automatic::new("auto_generated", by),
            });
        }
    }
    if msg.header_raw("X-Autoreply").is_some()
        || msg.header_raw("X-Autorespond").is_some()
        || msg.header_raw("X-Autoresponder").is_some()
    {
        return Some(Automatic::new("out_of_office", "X-Autoreply"));
    }
    if let Some(v) = raw("Precedence") {
        if v.starts_with("auto_reply") {
            return Some(Automatic::new("out_of_office", "Precedence"));
        }
        if v.starts_with("list") {
            return Some(Automatic::new("mailing_list", "Precedence"));
        }
        if v.starts_with("bulk") || v.starts_with("junk") {
            let kind = subject.unwrap_or("bulk");
            return Some(Automatic::new(kind, "Precedence"));
        }
    }
    if msg.header_raw("List-Id").is_some() || msg.header_raw("List-Unsubscribe").is_some() {
        return Some(Automatic::new("mailing_list", "List-Id"));
    }
    // Exchange marks what its servers generate, and Outlook's out-of-office asks for no answer.
    let suppress = msg
        .header_raw("X-Auto-Response-Suppress")
        .is_some_and(|v| !v.trim().is_empty());
    if suppress
        && msg
            .header_raw("X-MS-Exchange-Generated-Message-Source")
            .is_some()
    {
        return Some(Automatic::new(
            subject.unwrap_or("out_of_office"),
            "X-MS-Exchange-Generated-Message-Source",
        ));
    }
    if let Some(form) = subject {
        let by = if suppress {
            "X-Auto-Response-Suppress and subject"
        } else {
            "subject"
        };
        return Some(Automatic::new(form, by));
    }
    if let Some(rp) = msg.header_raw("Return-Path") {
        if rp
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim()
            .is_empty()
        {
            return Some(Automatic::new(
                bounce_subject(&a.subject).unwrap_or("null_sender"),
                "Return-Path: <>",
            ));
        }
    }
    for addr in a.from.iter().flatten() {
        if is_system_sender(addr) {
            return Some(Automatic::new(
                bounce_subject(&a.subject).unwrap_or("system_sender"),
                "sender",
            ));
        }
    }
    None
}

/// A `multipart/report` (or a bare report part) by its type: RFC 8098 receipts, RFC 3464
/// delivery-status notifications, anything else reported by a program.
fn report_kind(msg: &Message<'_>) -> Option<Automatic> {
    let root = msg.content_type()?;
    let is = |t: &str, s: &str| {
        root.ctype().eq_ignore_ascii_case(t)
            && root.subtype().is_some_and(|x| x.eq_ignore_ascii_case(s))
    };
    if is("multipart", "report") {
        let report_type = attribute(root, "report-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let kind = match report_type.as_str() {
            "disposition-notification" => "read_receipt",
            "delivery-status" | "delivery-status-notification" => "delivery_status",
            _ => {
                // The type of the report's own part says what the attribute did not.
                let part_is = |s: &str| {
                    msg.parts.iter().any(|p| {
                        p.content_type().is_some_and(|ct| {
                            ct.ctype().eq_ignore_ascii_case("message")
                                && ct.subtype().is_some_and(|x| x.eq_ignore_ascii_case(s))
                        })
                    })
                };
                if part_is("disposition-notification") {
                    "read_receipt"
                } else {
                    "delivery_status"
                }
            }
        };
        return Some(Automatic::new(kind, "multipart/report"));
    }
    if is("message", "disposition-notification") {
        return Some(Automatic::new(
            "read_receipt",
            "message/disposition-notification",
        ));
    }
    if is("message", "delivery-status") {
        return Some(Automatic::new("delivery_status", "message/delivery-status"));
    }
    None
}

/// Challenge-response systems (TMDA, SpamArrest, Boxbe and the like): they ask the helpdesk to
/// prove it is a person before the customer's mailbox takes our mail.
fn challenge_response(
    msg: &Message<'_>,
    a: &Analysis,
    subject: Option<&'static str>,
) -> Option<Automatic> {
    if subject == Some("challenge_response") {
        return Some(Automatic::new("challenge_response", "subject"));
    }
    let header = msg.headers_raw().any(|(name, value)| {
        let name = name.to_ascii_lowercase();
        name.starts_with("x-tmda")
            || name.starts_with("x-spamarrest")
            || name.starts_with("x-boxbe")
            || name == "x-challenge"
            || name == "x-challenge-response"
            || (name == "x-delivery-agent" && value.to_ascii_lowercase().contains("tmda"))
    });
    if header {
        return Some(Automatic::new("challenge_response", "header"));
    }
    const SERVICES: &[&str] = &[
        "spamarrest.com",
        "boxbe.com",
        "mailinblack.com",
        "choicemail.com",
    ];
    let service = a.from.iter().flatten().any(|addr| {
        let domain = addr.rsplit('@').next().unwrap_or("");
        SERVICES
            .iter()
            .any(|s| domain == *s || domain.ends_with(&format!(".{s}")))
    });
    service.then_some(Automatic::new("challenge_response", "sender"))
}

/// An attribute of a MIME header, its name compared without case.
fn attribute<'m>(ct: &'m mail_parser::ContentType<'_>, name: &str) -> Option<&'m str> {
    ct.attributes()?
        .iter()
        .find(|at| at.name.eq_ignore_ascii_case(name))
        .map(|at| at.value.as_ref())
}

/// The kind of automatic mail a subject announces, by its well-known forms, anchored at its
/// start (a reply's `Re:` in front of them is a person's, and "Re: Risposta automatica" is not).
fn subject_form(subject: &str) -> Option<&'static str> {
    const FORMS: &[(&str, &str)] = &[
        // Exchange/Outlook, Italian and English.
        ("risposta automatica:", "out_of_office"),
        ("risposta automatica di", "out_of_office"),
        ("automatic reply:", "out_of_office"),
        ("auto reply:", "out_of_office"),
        ("auto-reply:", "out_of_office"),
        ("autoreply:", "out_of_office"),
        ("auto-response:", "out_of_office"),
        ("autoresponse:", "out_of_office"),
        // Dovecot (Pigeonhole) vacation's default subject.
        ("auto:", "out_of_office"),
        ("out of office", "out_of_office"),
        ("out-of-office", "out_of_office"),
        ("ooo:", "out_of_office"),
        ("fuori sede", "out_of_office"),
        ("fuori ufficio", "out_of_office"),
        ("assente dall'ufficio", "out_of_office"),
        ("messaggio di assenza", "out_of_office"),
        ("risposta di assenza", "out_of_office"),
        ("vacation reply", "out_of_office"),
        ("away from the office", "out_of_office"),
        ("away from my desk", "out_of_office"),
        // Receipts written as text (Outlook's "Letto:", "Read:").
        ("letto:", "read_receipt"),
        ("non letto:", "read_receipt"),
        ("read:", "read_receipt"),
        ("not read:", "read_receipt"),
        ("ricevuta di ritorno", "read_receipt"),
        ("return receipt", "read_receipt"),
        ("read receipt", "read_receipt"),
        ("conferma di lettura", "read_receipt"),
        ("recapitato:", "read_receipt"),
        ("delivered:", "read_receipt"),
        // Challenge-response systems.
        ("please confirm your message", "challenge_response"),
        ("please confirm your e-mail", "challenge_response"),
        ("please confirm your email", "challenge_response"),
        ("confirm your message", "challenge_response"),
        ("verify your email", "challenge_response"),
        ("verify your e-mail", "challenge_response"),
        ("conferma il tuo messaggio", "challenge_response"),
        ("conferma il messaggio", "challenge_response"),
        ("richiesta di verifica del mittente", "challenge_response"),
        ("sender verification", "challenge_response"),
        ("[tmda]", "challenge_response"),
    ];
    let lower = subject.trim_start().to_lowercase();
    FORMS
        .iter()
        .find(|(form, _)| lower.starts_with(form))
        .map(|(_, kind)| *kind)
}

/// A bounce's subject, for mail a system sender or a null return path already marks as automatic.
fn bounce_subject(subject: &str) -> Option<&'static str> {
    const FORMS: &[&str] = &[
        "undelivered mail",
        "undeliverable",
        "delivery status notification",
        "delivery failure",
        "mail delivery failed",
        "returned mail",
        "failure notice",
        "non recapitabile",
        "mancato recapito",
        "messaggio non recapitato",
        "impossibile recapitare",
    ];
    let lower = subject.trim_start().to_lowercase();
    FORMS
        .iter()
        .any(|f| lower.starts_with(f))
        .then_some("delivery_status")
}

/// Encrypted mail: S/MIME enveloped data (`application/pkcs7-mime` with `smime-type`
/// enveloped-data or auth-enveloped-data, or none at all, as old clients send it) or PGP/MIME
/// (`multipart/encrypted`), at the root or as the signed content. A `.p7m` file attached to a
/// readable message (an Italian digitally signed invoice) is an ordinary attachment.
fn is_encrypted(msg: &Message<'_>) -> bool {
    let encrypted = |part: &mail_parser::MessagePart<'_>| {
        let Some(ct) = part.content_type() else {
            return false;
        };
        let (t, s) = (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase(),
        );
        if t == "multipart" && s == "encrypted" {
            return true;
        }
        if t == "application" && (s == "pkcs7-mime" || s == "x-pkcs7-mime") {
            return match attribute(ct, "smime-type").map(str::to_ascii_lowercase) {
                Some(kind) => kind.contains("enveloped"),
                // Without a smime-type, only the file every client names so is the message.
                None => part
                    .attachment_name()
                    .is_none_or(|n| n.trim().eq_ignore_ascii_case("smime.p7m")),
            };
        }
        false
    };
    let Some(root) = msg.parts.first() else {
        return false;
    };
    if encrypted(root) {
        return true;
    }
    // Signed, then encrypted inside: the first child of multipart/signed.
    if is_type(root, "multipart", "signed") {
        if let PartType::Multipart(children) = &root.body {
            if let Some(first) = children.first().and_then(|&c| msg.parts.get(c as usize)) {
                return encrypted(first);
            }
        }
    }
    false
}

fn is_type(part: &mail_parser::MessagePart<'_>, t: &str, s: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(t)
            && ct.subtype().is_some_and(|x| x.eq_ignore_ascii_case(s))
    })
}

/// The signature parts of `multipart/signed` (S/MIME's `smime.p7s`, PGP/MIME's
/// `signature.asc`): they prove who wrote the message and are not the customer's files.
fn signature_parts(msg: &Message<'_>) -> Vec<usize> {
    let mut out = Vec::new();
    for part in &msg.parts {
        if !is_type(part, "multipart", "signed") {
            continue;
        }
        let PartType::Multipart(children) = &part.body else {
            continue;
        };
        for &c in children.iter().skip(1) {
            let Some(child) = msg.parts.get(c as usize) else {
                continue;
            };
            if is_type(child, "application", "pkcs7-signature")
                || is_type(child, "application", "x-pkcs7-signature")
                || is_type(child, "application", "pgp-signature")
            {
                out.push(c as usize);
            }
        }
    }
    out
}

/// MAILER-DAEMON, postmaster and the like: never a person to answer.
pub fn is_system_sender(addr: &str) -> bool {
    let local = addr.split('@').next().unwrap_or("").to_ascii_lowercase();
    matches!(
        local.as_str(),
        "mailer-daemon"
            | "postmaster"
            | "mail-daemon"
            | "mailerdaemon"
            | "noreply"
            | "no-reply"
            | "do-not-reply"
            | "donotreply"
    )
}

fn read_body(msg: &Message<'_>, a: &mut Analysis) {
    let mut texts: Vec<&str> = Vec::new();
    for &i in &msg.text_body {
        if let Some(PartType::Text(t)) = msg.parts.get(i as usize).map(|p| &p.body) {
            texts.push(t.as_ref());
        }
    }
    let mut body = String::new();
    if texts.is_empty() {
        for &i in &msg.html_body {
            if let Some(PartType::Html(h)) = msg.parts.get(i as usize).map(|p| &p.body) {
                if !body.is_empty() {
                    body.push_str("\n\n");
                }
                body.push_str(&html_to_text(h));
            }
        }
    } else {
        body = texts.join("\n\n");
    }
    a.body = clean_body(&body);

    let mut tnef_damaged = false;
    let in_body = |i: usize| {
        msg.text_body
            .iter()
            .chain(&msg.html_body)
            .any(|&b| b as usize == i)
    };
    let signatures = signature_parts(msg);
    a.signed = !signatures.is_empty();
    // Every file the message carries, Outlook's winmail.dat opened into the files inside it.
    let mut found: Vec<Found<'_>> = Vec::new();
    for (i, part) in msg.parts.iter().enumerate() {
        if a.encrypted || signatures.contains(&i) {
            // Nothing of an encrypted message is kept, and a signature is not a file.
            continue;
        }
        let (data, default_name): (&[u8], &'static str) = match &part.body {
            PartType::Multipart(_) => continue,
            PartType::Text(_) | PartType::Html(_) if in_body(i) => continue,
            // The root of a one-part message is its body, whatever its type says.
            _ if i == 0
                && msg.parts.len() == 1
                && !matches!(part.body, PartType::Binary(_) | PartType::InlineBinary(_)) =>
            {
                continue
            }
            PartType::Text(t) => (t.as_bytes(), "testo.txt"),
            PartType::Html(t) => (t.as_bytes(), "pagina.html"),
            PartType::Binary(b) | PartType::InlineBinary(b) => (b.as_ref(), "allegato"),
            PartType::Message(m) => (m.raw_message(), "messaggio-inoltrato.eml"),
        };
        let declared = part.attachment_name().map(str::to_string);
        if matches!(part.body, PartType::Binary(_) | PartType::InlineBinary(_)) && is_tnef(part) {
            match super::tnef::decode(data) {
                Ok(t) if !t.files.is_empty() || t.body.is_some() => {
                    if a.body.is_empty() {
                        if let Some(text) = &t.body {
                            a.body = clean_body(text);
                        }
                    }
                    for f in t.files {
                        found.push(Found {
                            data: f.data,
                            default_name: "allegato",
                            declared: f.name,
                            message: false,
                        });
                    }
                    continue;
                }
                // Read, but nothing inside: kept as it is.
                Ok(_) => {}
                Err(super::tnef::Damaged) => tnef_damaged = true,
            }
        }
        found.push(Found {
            data,
            default_name,
            declared,
            message: matches!(part.body, PartType::Message(_)),
        });
    }
    if tnef_damaged {
        if !a.body.is_empty() {
            a.body.push_str("\n\n");
        }
        a.body.push_str(crate::texts::TNEF_DAMAGED);
    }
    let mut total: u64 = 0;
    let mut files = Vec::new();
    for f in found {
        let data = f.data;
        total = total.saturating_add(data.len() as u64);
        a.attachments_count += 1;
        // Keep counting, stop copying: a message with too many is refused whole, and nothing of
        // an over-limit message is stored.
        if a.attachments_count > MAX_FILES_PER_MESSAGE || total > MAX_EMAIL_ATTACHMENT_BYTES {
            files.clear();
            // Named for the list of refused e-mails, by the name it came with: its content is
            // not looked at, since nothing of it is kept.
            if a.attachment_names.len() < MAX_ATTACHMENT_NAMES {
                let name = attachment_name(
                    f.declared.as_deref(),
                    f.default_name,
                    "",
                    a.attachments_count,
                );
                a.attachment_names.push(name);
            }
            continue;
        }
        let content_type = if f.message {
            "message/rfc822".to_string()
        } else {
            safe_content_type("", data)
        };
        let name = attachment_name(
            f.declared.as_deref(),
            f.default_name,
            &content_type,
            files.len() + 1,
        );
        if a.attachment_names.len() < MAX_ATTACHMENT_NAMES {
            a.attachment_names.push(name.clone());
        }
        files.push(MailAttachment {
            name,
            content_type,
            data: data.to_vec(),
        });
    }
    a.attachments_bytes = total;
    a.attachments_over_limit = total > MAX_EMAIL_ATTACHMENT_BYTES;
    a.too_many_attachments = a.attachments_count > MAX_FILES_PER_MESSAGE;
    if !a.attachments_over_limit && !a.too_many_attachments {
        a.attachments = files;
    }
}

/// A file found in a message, before the limits are applied.
struct Found<'x> {
    data: &'x [u8],
    default_name: &'static str,
    declared: Option<String>,
    /// A forwarded message (`message/rfc822`).
    message: bool,
}

/// Outlook's `winmail.dat`: by its declared type, or by its name when the type is generic.
fn is_tnef(part: &mail_parser::MessagePart<'_>) -> bool {
    is_type(part, "application", "ms-tnef")
        || is_type(part, "application", "vnd.ms-tnef")
        || part
            .attachment_name()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case("winmail.dat"))
}

/// HTML as plain text: scripts, styles and remote references never survive, nothing is fetched.
pub fn html_to_text(html: &str) -> String {
    let html = if html.len() > MAX_HTML_BYTES {
        let mut end = MAX_HTML_BYTES;
        while !html.is_char_boundary(end) {
            end -= 1;
        }
        &html[..end]
    } else {
        html
    };
    // The converter's time grows with nesting: hostile depth gets the crude reading instead.
    if nesting_depth(html) > MAX_HTML_DEPTH {
        return strip_tags(html);
    }
    html2text::config::plain()
        .no_link_wrapping()
        .string_from_read(html.as_bytes(), 100)
        .unwrap_or_else(|_| strip_tags(html))
}

const MAX_HTML_DEPTH: usize = 200;

/// The deepest nesting of elements, roughly (void and self-closed elements do not nest).
fn nesting_depth(html: &str) -> usize {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "!",
    ];
    let b = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let closing = b.get(i + 1) == Some(&b'/');
        let start = if closing { i + 2 } else { i + 1 };
        let end = b[start..]
            .iter()
            .position(|&c| c == b'>')
            .map_or(b.len(), |p| start + p);
        let tag = &html[start.min(end)..end];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect::<String>()
            .to_ascii_lowercase();
        if !name.is_empty() {
            if closing {
                depth = depth.saturating_sub(1);
            } else if !tag.ends_with('/') && !VOID.iter().any(|v| name.starts_with(v)) {
                depth += 1;
                max = max.max(depth);
            }
        }
        i = end + 1;
    }
    max
}

/// Text without tags, scripts or styles: the fallback for HTML the converter should not see.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    while i < html.len() {
        let rest = &lower[i..];
        if rest.starts_with("<script") || rest.starts_with("<style") {
            let close = if rest.starts_with("<script") {
                "</script"
            } else {
                "</style"
            };
            i = rest.find(close).map_or(html.len(), |p| i + p + close.len());
            continue;
        }
        if rest.starts_with('<') {
            if rest.starts_with("<br")
                || rest.starts_with("<p")
                || rest.starts_with("</p")
                || rest.starts_with("<div")
                || rest.starts_with("</div")
            {
                out.push('\n');
            }
            i = rest.find('>').map_or(html.len(), |p| i + p + 1);
            continue;
        }
        let next = rest.find('<').map_or(html.len(), |p| i + p);
        out.push_str(&html[i..next]);
        i = next;
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The body as the core rule cleans every body ([`text::multi_line`]: line ends as `\n`, no
/// control or invisible characters but tabs and newlines), trimmed, at most `BODY_MAX_CHARS`.
fn clean_body(s: &str) -> String {
    let cleaned = text::multi_line(s);
    let cleaned = cleaned.trim();
    let mut out: String = cleaned.chars().take(BODY_MAX_CHARS).collect();
    if out.len() < cleaned.len() {
        out.truncate(out.trim_end().len());
        out.push_str("\n\n");
        out.push_str(crate::texts::BODY_TRUNCATED);
    }
    out
}

/// One line as the core rule makes it ([`text::single_line`]), at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let cleaned = text::single_line(s);
    if cleaned.chars().count() <= max {
        return cleaned;
    }
    // Cleaned again: a cut may end in a space or split an emoji after its joiner.
    text::single_line(&cleaned.chars().take(max).collect::<String>())
}

/// `local@domain`, lower-case; `None` when it is not a plain address.
pub fn normalise_address(s: &str) -> Option<String> {
    let s = s
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_lowercase();
    let (local, domain) = s.rsplit_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && s.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>(),;:\\[]".contains(c))
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    ok.then_some(s)
}

/// A Message-ID as `<id>`; `None` when empty, too long or with characters no id has.
pub fn bracket_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if id.is_empty()
        || id.len() > 500
        || id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return None;
    }
    Some(format!("<{id}>"))
}

fn ids_of(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => t.split_whitespace().filter_map(bracket_id).collect(),
        HeaderValue::TextList(list) => list
            .iter()
            .flat_map(|t| t.split_whitespace())
            .filter_map(bracket_id)
            .collect(),
        _ => Vec::new(),
    }
}

/// The type an e-mail attachment is served with: detected from its bytes by the same rule as web
/// uploads (`files::sniff`); what the sender declared is never trusted, and anything outside the
/// allowlist is served as plain bytes to download.
pub fn safe_content_type(_declared: &str, data: &[u8]) -> String {
    crate::files::sniff(data, "")
        .map(str::to_string)
        .unwrap_or_else(|_| "application/octet-stream".into())
}

/// A file name fit to show: no path, no control or direction characters, not empty, not too long.
fn attachment_name(declared: Option<&str>, default: &str, content_type: &str, n: usize) -> String {
    let base = declared
        .map(|d| d.rsplit(['/', '\\']).next().unwrap_or(""))
        .map(|d| one_line(d, 200))
        .map(|d| {
            d.trim_matches(|c: char| c == '.' || c.is_whitespace())
                .to_string()
        })
        .filter(|d| !d.is_empty());
    match base {
        Some(b) => b,
        None => {
            let ext = match content_type {
                "image/png" => ".png",
                "image/jpeg" => ".jpg",
                "image/gif" => ".gif",
                "application/pdf" => ".pdf",
                _ => "",
            };
            if default == "allegato" {
                format!("allegato-{n}{ext}")
            } else {
                default.to_string()
            }
        }
    }
}

/// Cuts a subject for a ticket and strips the reply and forward prefixes mailers add.
pub fn ticket_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let stripped = [
            "re:",
            "r:",
            "rif:",
            "fwd:",
            "fw:",
            "i:",
            "tr:",
            "aw:",
            "wg:",
            "sv:",
            "vs:",
            "inoltro:",
            "risposta:",
        ]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| s[p.len()..].trim_start());
        match stripped {
            Some(rest) => s = rest,
            None => break,
        }
    }
    s.chars()
        .take(SUBJECT_MAX_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eml(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\n{body}")
            .replace("\n", "\r\n")
            .replace("\r\r\n", "\r\n")
            .into_bytes()
    }

    #[test]
    fn a_delivery_status_notification_says_which_message_came_back_and_why() {
        let head = "From: MAILER-DAEMON@mx.example.it\nSubject: Undelivered\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"";
        let body = "--r\nContent-Type: text/plain\n\nSorry.\n\
--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.it\n\n\
Final-Recipient: rfc822; <Mario@Example.it>\nAction: failed\nStatus: 5.0.0\n\
Diagnostic-Code: smtp; 550 5.1.1 <mario@example.it>:\n  Recipient address rejected: User unknown\n\n\
--r\nContent-Type: message/rfc822\n\nFrom: hd@smacloud.it\nTo: mario@example.it\n\
Message-ID: <abc123@helpdesk.smacloud.it>\nSubject: x\n\nhello\n--r--\n";
        let a = analyse(&eml(head, body), true);
        let b = a.bounce.expect("a bounce");
        assert_eq!(b.returned_ids, ["<abc123@helpdesk.smacloud.it>"]);
        assert_eq!(b.recipient.as_deref(), Some("mario@example.it"));
        assert!(b.failed());
        assert_eq!(b.reason(), MailDeliveryReason::UnknownUser);
        assert!(b.diagnostic.as_deref().unwrap().ends_with("User unknown"));

        let with = |action: &str, status: &str, diag: Option<&str>| Bounce {
            action: Some(action.into()),
            status: Some(status.into()),
            diagnostic: diag.map(String::from),
            ..Bounce::default()
        };
        let full = with("failed", "4.2.2", None);
        assert_eq!(full.reason(), MailDeliveryReason::MailboxFull);
        assert_eq!(
            with("failed", "5.2.2", None).reason(),
            MailDeliveryReason::MailboxFull
        );
        assert_eq!(
            with("failed", "5.1.1", None).reason(),
            MailDeliveryReason::UnknownUser
        );
        assert_eq!(
            with("failed", "5.7.1", None).reason(),
            MailDeliveryReason::Rejected
        );
        // No usable status: the code the diagnostic names.
        assert_eq!(
            with("failed", "x", Some("552 5.2.2 mailbox full")).reason(),
            MailDeliveryReason::MailboxFull
        );
        assert_eq!(
            with("failed", "5.0.0", Some("550 rejected")).reason(),
            MailDeliveryReason::Other
        );
        assert!(!with("delayed", "4.4.1", None).failed());
    }

    #[test]
    fn only_authentication_results_above_the_first_received_are_read() {
        let ours = "Authentication-Results: mx.smacloud.it; dkim=pass header.d=example.it";
        let forged = "Authentication-Results: mx.smacloud.it; dkim=pass header.d=forged.example";
        let received = "Received: from a.example by mx.smacloud.it";
        let rest = "From: demo@example.it\nSubject: x";
        let read = |h: String| analyse(&eml(&h, "x"), true).auth_results;
        assert_eq!(
            read(format!("{ours}\n{received}\n{forged}\n{rest}")),
            vec![ours["Authentication-Results: ".len()..].to_string()]
        );
        assert!(read(format!("{received}\n{forged}\n{rest}")).is_empty());
        // No Received at all: not delivered by our MTA.
        assert!(read(format!("{ours}\n{rest}")).is_empty());
    }

    #[test]
    fn attachments_past_the_webs_count_are_counted_and_none_kept() {
        let mut body = String::new();
        for i in 0..(MAX_FILES_PER_MESSAGE + 2) {
            body.push_str(&format!(
                "--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"f{i}.txt\"\n\nx{i}\n"
            ));
        }
        body.push_str("--b--\n");
        let head = "From: demo@example.it\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"";
        let a = analyse(&eml(head, &body), true);
        assert_eq!(a.attachments_count, MAX_FILES_PER_MESSAGE + 2);
        assert!(a.too_many_attachments);
        assert!(a.attachments.is_empty());
        // Named all the same, for the list of refused e-mails.
        let names: Vec<String> = (0..MAX_FILES_PER_MESSAGE + 2)
            .map(|i| format!("f{i}.txt"))
            .collect();
        assert_eq!(a.attachment_names, names);
        let just = body.replace(&format!("--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"f{}.txt\"\n\nx{}\n", MAX_FILES_PER_MESSAGE + 1, MAX_FILES_PER_MESSAGE + 1), "")
            .replace(&format!("--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"f{}.txt\"\n\nx{}\n", MAX_FILES_PER_MESSAGE, MAX_FILES_PER_MESSAGE), "");
        let a = analyse(&eml(head, &just), true);
        assert_eq!(
            (a.attachments.len(), a.too_many_attachments),
            (MAX_FILES_PER_MESSAGE, false)
        );
    }

    #[test]
    fn addresses_are_normalised_and_junk_is_not_an_address() {
        assert_eq!(
            normalise_address(" <Mario.Rossi@Example.IT> ").as_deref(),
            Some("mario.rossi@example.it")
        );
        assert_eq!(normalise_address("mario"), None);
        assert_eq!(normalise_address("a b@example.it"), None);
        assert_eq!(normalise_address("a@localhost"), None);
        assert_eq!(normalise_address("a@ex ample.it"), None);
    }

    #[test]
    fn an_encoded_subject_and_display_name_are_decoded() {
        let raw = eml(
            "From: =?UTF-8?Q?Mario_Ross=C3=AC?= <MARIO@Example.it>\nTo: hd@smacloud.it\nSubject: =?ISO-8859-1?Q?Il_sito_=E8_lento?=\nMessage-ID: <abc@x.it>",
            "ciao",
        );
        let a = analyse(&raw, true);
        assert!(a.parsed);
        assert_eq!(a.from, vec![Some("mario@example.it".to_string())]);
        assert_eq!(a.subject, "Il sito è lento");
        assert_eq!(a.message_id.as_deref(), Some("<abc@x.it>"));
        assert_eq!(a.header_recipients, vec!["hd@smacloud.it".to_string()]);
        assert_eq!(a.body, "ciao");
        assert!(a.automatic.is_none());
    }

    #[test]
    fn several_from_headers_and_lists_all_count() {
        let raw = eml(
            "From: a@example.it, b@example.it\nFrom: c@example.it\nSubject: x",
            "y",
        );
        assert_eq!(analyse(&raw, true).from.len(), 3);
    }

    #[test]
    fn automatic_mail_is_recognised_by_its_headers() {
        for h in [
            "Auto-Submitted: auto-replied",
            "Auto-Submitted: auto-generated (vacation)",
            "Precedence: bulk",
            "List-Id: <x.lists.example.it>",
            "Return-Path: <>",
        ] {
            let raw = eml(&format!("From: a@example.it\nSubject: x\n{h}"), "y");
            assert!(analyse(&raw, true).automatic.is_some(), "{h}");
        }
        let raw = eml("From: MAILER-DAEMON@mx.example.it\nSubject: x", "y");
        assert!(analyse(&raw, true).automatic.is_some());
        let raw = eml("From: a@example.it\nSubject: x\nAuto-Submitted: no", "y");
        assert!(analyse(&raw, true).automatic.is_none());
    }

    #[test]
    fn automatic_mail_is_recognised_by_its_kind() {
        let kind = |h: &str, subject: &str| {
            let raw = eml(&format!("From: a@example.it\nSubject: {subject}\n{h}"), "y");
            analyse(&raw, true).automatic.map(|a| a.kind)
        };
        let mdn = "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b";
        assert_eq!(kind(mdn, "Letto: x"), Some("read_receipt"));
        let dsn = "Content-Type: multipart/report; report-type=delivery-status; boundary=b";
        assert_eq!(kind(dsn, "x"), Some("delivery_status"));
        // Outlook: no Auto-Submitted, only its subject and X-Auto-Response-Suppress.
        let outlook = "X-Auto-Response-Suppress: All";
        assert_eq!(
            kind(outlook, "Risposta automatica: ciao"),
            Some("out_of_office")
        );
        assert_eq!(kind("", "Automatic reply: hi"), Some("out_of_office"));
        assert_eq!(kind("", "Out of Office: hi"), Some("out_of_office"));
        assert_eq!(kind("", "Fuori sede fino a lunedì"), Some("out_of_office"));
        assert_eq!(kind("", "Auto: [#ABC] x"), Some("out_of_office"));
        assert_eq!(
            kind("Auto-Submitted: auto-replied (zimbra; vacation)", "Re: x"),
            Some("out_of_office")
        );
        assert_eq!(
            kind("Auto-Submitted: auto-generated", "Report"),
            Some("auto_generated")
        );
        assert_eq!(
            kind("X-Delivery-Agent: TMDA/1.1", "Re: x"),
            Some("challenge_response")
        );
        assert_eq!(
            kind("", "Please confirm your message"),
            Some("challenge_response")
        );
        assert_eq!(
            kind("Return-Path: <>", "Undelivered Mail Returned to Sender"),
            Some("delivery_status")
        );
        // Anchored at the start: a person answering an automatic reply, or talking about one;
        // and a phrase a person could begin a subject with is no form (a silent refusal is costly).
        assert_eq!(kind("", "In ferie il sito non va"), None);
        assert_eq!(kind("", "Re: Risposta automatica: ciao"), None);
        assert_eq!(kind("", "La risposta automatica non funziona"), None);
        assert_eq!(kind(outlook, "Sito lento"), None);
    }

    #[test]
    fn a_signature_is_no_attachment_and_encrypted_mail_is_not_read() {
        let signed = "From: a@example.it\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=s";
        let body = "--s\nContent-Type: text/plain\n\nciao\n--s\nContent-Type: application/x-pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: base64\n\nMIAG\n--s--\n";
        let a = analyse(&eml(signed, body), true);
        assert_eq!(
            (a.body.as_str(), a.attachments_count, a.signed),
            ("ciao", 0, true)
        );
        assert!(!a.encrypted);

        let enc = |ct: &str| {
            let head =
                format!("From: a@example.it\nSubject: x\nMIME-Version: 1.0\nContent-Type: {ct}");
            analyse(&eml(&head, "MIAGCSqGSIb3DQEHA6CAMIACAQAx"), true)
        };
        let a = enc("application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m");
        assert!(a.encrypted && a.attachments.is_empty());
        assert!(enc("application/x-pkcs7-mime; name=smime.p7m").encrypted);
        assert!(
            enc("multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e")
                .encrypted
        );
        // Opaque-signed data is not encrypted (nor is an Italian signed invoice, .p7m, attached).
        assert!(!enc("application/pkcs7-mime; smime-type=signed-data; name=smime.p7m").encrypted);
        let mixed = "From: a@example.it\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m";
        let body = "--m\nContent-Type: text/plain\n\nla fattura\n--m\nContent-Type: application/pkcs7-mime; name=fattura.xml.p7m\nContent-Disposition: attachment; filename=fattura.xml.p7m\n\nxxx\n--m--\n";
        let a = analyse(&eml(mixed, body), true);
        assert!(!a.encrypted);
        assert_eq!(a.attachments.len(), 1);
    }

    fn with_winmail_dat(tnef: &[u8]) -> Vec<u8> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(tnef);
        let head = "From: a@example.it\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m";
        eml(head, &format!("--m\nContent-Type: text/plain\n\nallego\n--m\nContent-Type: application/ms-tnef; name=winmail.dat\nContent-Transfer-Encoding: base64\n\n{b64}\n--m--\n"))
    }

    #[test]
    fn files_inside_winmail_dat_are_attachments_under_the_same_rules() {
        let a = analyse(
            &with_winmail_dat(&super::super::tnef::build::tnef(&[(
                "log.txt",
                b"riga 1\n",
            )])),
            true,
        );
        assert_eq!(a.attachments.len(), 1);
        assert_eq!(a.attachments[0].name, "log.txt");
        assert_eq!(a.attachments[0].content_type, "text/plain; charset=utf-8");
        assert_eq!(a.body, "allego");
        // The 1 MB rule counts what they decode to: exactly 1 MB inside a larger winmail.dat.
        let mb = vec![b'x'; MAX_EMAIL_ATTACHMENT_BYTES as usize];
        let t = super::super::tnef::build::tnef(&[("grande.txt", &mb)]);
        assert!(t.len() as u64 > MAX_EMAIL_ATTACHMENT_BYTES);
        let a = analyse(&with_winmail_dat(&t), true);
        assert!(!a.attachments_over_limit);
        assert_eq!(a.attachments.len(), 1);
        let t = super::super::tnef::build::tnef(&[("a.txt", &mb), ("b.txt", b"1")]);
        let a = analyse(&with_winmail_dat(&t), true);
        assert!(a.attachments_over_limit && a.attachments.is_empty());
        // A damaged one stays as it is, and the text says so.
        let mut bad = super::super::tnef::build::tnef(&[("log.txt", b"riga 1\n")]);
        bad.truncate(bad.len() - 3);
        let a = analyse(&with_winmail_dat(&bad), true);
        assert_eq!(a.attachments.len(), 1);
        assert_eq!(a.attachments[0].name, "winmail.dat");
        assert!(a.body.starts_with("allego\n\n[winmail.dat"), "{}", a.body);

        // Only a winmail.dat, its text in attBody: that text is the message's.
        let mut t = 0x223E_9F78u32.to_le_bytes().to_vec();
        t.extend_from_slice(&[0, 0]);
        t.extend(super::super::tnef::build::attribute(
            1,
            0x0002_800C,
            b"Il sito d\xe0 errore\0",
        ));
        t.extend(super::super::tnef::build::attribute(
            2,
            0x0006_9002,
            &[0; 14],
        ));
        t.extend(super::super::tnef::build::attribute(
            2,
            0x0001_8010,
            b"log.txt\0",
        ));
        t.extend(super::super::tnef::build::attribute(
            2,
            0x0006_800F,
            b"riga\n",
        ));
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&t);
        let head = "From: a@example.it\nSubject: x\nMIME-Version: 1.0\nContent-Type: application/ms-tnef; name=winmail.dat\nContent-Transfer-Encoding: base64";
        let a = analyse(&eml(head, &b64), true);
        assert_eq!(a.body, "Il sito dà errore");
        assert_eq!(a.attachments.len(), 1);
        assert_eq!(a.attachments[0].name, "log.txt");
    }

    #[test]
    fn html_only_mail_becomes_text_without_scripts_or_styles() {
        let raw = eml(
            "From: a@example.it\nSubject: x\nContent-Type: text/html; charset=utf-8",
            "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body><p>Il sito <b>non</b> va</p><img src=\"https://tracker.example/p.gif\"></body></html>",
        );
        let a = analyse(&raw, true);
        assert!(a.body.contains("Il sito"), "{}", a.body);
        assert!(!a.body.contains("alert"), "{}", a.body);
        assert!(!a.body.contains("color:red"), "{}", a.body);
    }

    #[test]
    fn reply_and_forward_prefixes_are_stripped_from_a_new_tickets_subject() {
        assert_eq!(ticket_subject("R: I: Fwd: Errore 500"), "Errore 500");
        assert_eq!(ticket_subject("RIF: TR: sito lento"), "sito lento");
        assert_eq!(ticket_subject("Informazioni"), "Informazioni");
    }

    #[test]
    fn a_declared_type_is_kept_only_when_the_bytes_agree() {
        assert_eq!(
            safe_content_type("image/png", b"\x89PNG\r\n\x1a\nxxx"),
            "image/png"
        );
        assert_eq!(
            safe_content_type("image/png", b"<html>"),
            "application/octet-stream"
        );
        assert_eq!(
            safe_content_type("text/html", b"<html>"),
            "application/octet-stream"
        );
    }

    #[test]
    fn attachment_names_lose_paths_and_controls() {
        assert_eq!(
            attachment_name(Some("../../etc/passwd"), "allegato", "x", 1),
            "passwd"
        );
        assert_eq!(
            attachment_name(Some("C:\\a\\fattura\u{202E}fdp.exe"), "allegato", "x", 1),
            "fatturafdp.exe"
        );
        assert_eq!(
            attachment_name(None, "allegato", "image/png", 2),
            "allegato-2.png"
        );
        assert_eq!(
            attachment_name(Some(".."), "allegato", "x", 3),
            "allegato-3"
        );
    }

    #[test]
    fn a_message_that_makes_the_mime_parser_panic_is_read_as_malformed() {
        // Found by the fuzz target (a mutation of a corpus message from mail-parser's own test
        // suite, MIT/Apache-2.0): mail-parser 0.11.9 panics ("Invalid part ID") on it.
        let raw = include_bytes!("../../tests/fixtures/mail/mail-parser-panic.bin");
        assert!(!analyse(raw, true).parsed);
    }

    #[test]
    fn bytes_that_are_not_mail_are_not_parsed() {
        assert!(!analyse(b"", true).parsed);
        assert!(!analyse(b"\x00\x01\x02", true).parsed);
    }

    #[test]
    fn deeply_nested_html_is_read_quickly_without_scripts() {
        let html = format!(
            "{}ciao<script>x()</script>{}",
            "<div>".repeat(50_000),
            "</div>".repeat(50_000)
        );
        let started = std::time::Instant::now();
        let text = html_to_text(&html);
        assert!(text.contains("ciao") && !text.contains("x()"), "{text}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(nesting_depth("<p>a<br><img src=x><b>b</b></p>"), 2);
    }
}
