//! E-mail notifications: composed when a message is written, queued in the same transaction,
//! and sent by a background worker (SMTP relay, or `.eml` files in the outbox folder).

use crate::config::Config;
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::storage::{Notification, NotifyContext, OutboxItem, RecentMessage};
use crate::texts::{self, Language};
use crate::util::{now_us, random_id};
use helpdesk_core::api::{AuthorKind, Department, Status};
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::message::{MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

pub fn intake_address(config: &Config, d: Department) -> &str {
    match d {
        Department::Helpdesk => &config.mail_tech,
        Department::Sales => &config.mail_sales,
    }
}

fn new_message_id(config: &Config) -> String {
    format!("<{}@{}>", random_id(), config.mail_domain)
}

fn ticket_link(config: &Config, code: &str) -> String {
    format!("{}/tickets/{}", config.public_url, code)
}

/// The website's form for a new ticket (the app's wizard).
fn new_ticket_link(config: &Config) -> String {
    format!("{}/nuovo", config.public_url)
}

/// What the acknowledgment of a ticket opened by e-mail adds to that of a web ticket.
#[derive(Debug, Clone, Default)]
pub struct ByEmail {
    /// The service the ticket was filed under, as the customer knows it ("blog-mario.it
    /// (Hosting WordPress)"); `None` when the subject named none of theirs.
    pub service: Option<String>,
    /// What to add when the subject or the service left something out.
    pub advice: Vec<String>,
}

/// A service as an acknowledgment names it: its domain or identifier, then its product.
pub fn service_name(identifier: &str, product: &str) -> String {
    format!("{identifier} ({product})")
}

/// The acknowledgment of a new ticket (one e-mail), in the customer's language: what the customer
/// wrote and, for a ticket opened by e-mail (`by_email`), the service it was filed under, its
/// priority (always *bassa* by e-mail, the seed's rule), how to open the right ticket when the
/// service is wrong, and what to add when the subject or the service left something out.
pub fn acknowledgment(
    config: &Config,
    ctx: &NotifyContext<'_>,
    by_email: Option<&ByEmail>,
) -> Notification {
    let lang = ctx.language;
    let t = texts::mail_texts(lang);
    let opened = texts::ticket_opened(ctx.code.as_str(), ctx.department, lang);
    let mut text = format!(
        "{greeting}\n\n{opened}\n{label}: {subject}\n",
        greeting = texts::greeting(ctx.customer_name, lang),
        label = t.subject_label,
        subject = ctx.subject,
    );
    let service = by_email.map(|b| b.service.as_deref().unwrap_or(t.service_none));
    if let Some(service) = service {
        text.push_str(&format!(
            "{service_label}: {service}\n{priority_label}: {priority}\n",
            service_label = t.service_label,
            priority_label = t.priority_label,
            priority = t.priority_by_mail,
        ));
    }
    text.push('\n');
    if let Some(first) = ctx.recent.first() {
        text.push_str(&format!("{}:\n", t.you_wrote));
        text.push_str(&quoted(&without_quotes(&first.body, lang)));
        text.push_str("\n\n");
    }
    let advice = by_email.map_or(&[][..], |b| &b.advice[..]);
    if !advice.is_empty() {
        text.push_str(t.to_help_us);
        text.push('\n');
        for a in advice {
            text.push_str("- ");
            text.push_str(a);
            text.push('\n');
        }
        text.push('\n');
    }
    let link = ticket_link(config, ctx.code.as_str());
    let form = new_ticket_link(config);
    if by_email.is_some() {
        text.push_str(&format!("{} {form}\n\n", t.wrong_service));
    }
    text.push_str(&format!(
        "{answers} {keep}\n{follow}\n",
        answers = t.answers_by_mail,
        keep = t.keep_code,
        follow = texts::follow_here(&link, lang),
    ));

    let mut html = Html::new(ctx);
    html.para(&opened);
    html.labelled(t.subject_label, ctx.subject);
    if let Some(service) = service {
        html.labelled(t.service_label, service);
        html.labelled(t.priority_label, t.priority_by_mail);
    }
    html.thread(t.you_wrote, ctx.recent);
    if !advice.is_empty() {
        html.list(t.to_help_us, advice);
    }
    if by_email.is_some() {
        html.para_with_link(t.wrong_service, &form);
    }
    html.para(&format!("{} {}", t.answers_by_mail, t.keep_code));
    html.link(t.open_ticket, &link);
    about_ticket(config, ctx, text, html.finish())
}

/// An e-mail about a ticket: from its department's intake (so an answer comes back in), to the
/// customer's reference address, with the code in the subject.
fn about_ticket(
    config: &Config,
    ctx: &NotifyContext<'_>,
    body: String,
    html: String,
) -> Notification {
    Notification {
        message_id: new_message_id(config),
        from: intake_address(config, ctx.department).to_string(),
        to: ctx.customer_email.to_string(),
        subject: helpdesk_core::code::mail_subject(ctx.code, ctx.subject),
        body,
        html: Some(html),
    }
}

/// A staff answer, sent to the customer's reference address, saying what the ticket waits for.
pub fn staff_reply(
    config: &Config,
    ctx: &NotifyContext<'_>,
    staff_name: &str,
    text: &str,
) -> Notification {
    let lang = ctx.language;
    let t = texts::mail_texts(lang);
    let link = ticket_link(config, ctx.code.as_str());
    let answered = texts::staff_answered(staff_name, ctx.code.as_str(), lang);
    let next = match ctx.status {
        Status::AwaitingCustomer => Some(t.awaiting_you),
        Status::Closed => Some(t.closed_now),
        Status::Open => None,
    };
    let mut body = format!(
        "{greeting}\n\n{answered}\n\n{text}\n\n",
        greeting = texts::greeting(ctx.customer_name, lang),
    );
    if let Some(n) = next {
        body.push_str(n);
        body.push_str("\n\n");
    }
    body.push_str(&format!(
        "-- \n{keep}\n{history}: {link}\n",
        keep = t.keep_code,
        history = t.history_label,
    ));

    let mut html = Html::new(ctx);
    html.para(&answered);
    html.quote(text);
    if let Some(n) = next {
        html.strong_para(n);
    }
    // The reply itself is shown above: the thread shows what came before it.
    let earlier = &ctx.recent[..ctx.recent.len().saturating_sub(1)];
    html.thread(t.earlier_messages, earlier);
    html.para(t.keep_code);
    html.link(t.open_history, &link);
    about_ticket(config, ctx, body, html.finish())
}

fn quoted(text: &str) -> String {
    text.lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A message as a notification repeats it: without the text it quotes from earlier messages,
/// which the app folds away and the e-mail's own thread already shows. Each quoted run becomes
/// one line saying so; a message that is nothing but a quote stays whole, as the app shows it.
/// Signatures stay: they are the author's own.
fn without_quotes(body: &str, lang: Language) -> String {
    use helpdesk_core::quote::{segments, SegmentKind};
    let segs = segments(body);
    let has_text = segs
        .iter()
        .any(|s| s.kind == SegmentKind::Text && !s.text.trim().is_empty());
    if !has_text || segs.iter().all(|s| s.kind != SegmentKind::Quoted) {
        return body.to_string();
    }
    let mut out = String::with_capacity(body.len().min(4096));
    for s in segs {
        if s.kind != SegmentKind::Quoted {
            out.push_str(s.text);
            continue;
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(texts::mail_texts(lang).quoted_omitted);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// The HTML alternative of a notification. Everything a customer or staff wrote goes through
/// `escape`: the HTML part never carries markup that did not come from here. Times are written
/// in the customer's zone and language.
struct Html {
    out: String,
    lang: Language,
    zone: jiff::tz::TimeZone,
}

fn escape(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// Text with its line breaks kept.
fn escape_lines(s: &str) -> String {
    escape(s).replace('\n', "<br>\n")
}

impl Html {
    fn new(ctx: &NotifyContext<'_>) -> Self {
        let out = format!(
            "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\n\
             <body style=\"margin:0;padding:16px;background:#f4f5f7;color:#1f2328;font:16px/1.5 Arial,Helvetica,sans-serif\">\n\
             <div style=\"max-width:600px;margin:0 auto;background:#ffffff;padding:24px;border-radius:8px\">\n\
             <p style=\"margin:0 0 8px;color:#57606a;font-size:14px\">Ticket <strong>{code}</strong></p>\n\
             <p>{greeting}</p>\n",
            lang = ctx.language.code(),
            title = escape(&helpdesk_core::code::mail_subject(ctx.code, ctx.subject)),
            code = escape(ctx.code.as_str()),
            greeting = escape(&texts::greeting(ctx.customer_name, ctx.language)),
        );
        Html {
            out,
            lang: ctx.language,
            zone: crate::zone::of_saved(ctx.time_zone),
        }
    }

    fn para(&mut self, text: &str) {
        self.out
            .push_str(&format!("<p>{}</p>\n", escape_lines(text)));
    }

    /// A sentence that ends with an address, as a link.
    fn para_with_link(&mut self, text: &str, url: &str) {
        self.out.push_str(&format!(
            "<p>{} <a href=\"{}\">{}</a></p>\n",
            escape(text),
            html_escape::encode_double_quoted_attribute(url),
            escape(url)
        ));
    }

    fn strong_para(&mut self, text: &str) {
        self.out
            .push_str(&format!("<p><strong>{}</strong></p>\n", escape_lines(text)));
    }

    fn labelled(&mut self, label: &str, text: &str) {
        self.out.push_str(&format!(
            "<p><strong>{}:</strong> {}</p>\n",
            escape(label),
            escape(text)
        ));
    }

    fn quote(&mut self, text: &str) {
        self.out.push_str(&format!(
            "<blockquote style=\"margin:0 0 16px;padding:8px 16px;border-left:4px solid #0b5cad;background:#f6f8fa\">{}</blockquote>\n",
            escape_lines(text)
        ));
    }

    fn list(&mut self, intro: &str, items: &[String]) {
        self.out
            .push_str(&format!("<p>{}</p>\n<ul>\n", escape(intro)));
        for i in items {
            self.out.push_str(&format!("<li>{}</li>\n", escape(i)));
        }
        self.out.push_str("</ul>\n");
    }

    /// Messages with their author and time, each without the text it quotes.
    fn thread(&mut self, title: &str, messages: &[RecentMessage]) {
        let lang = self.lang;
        if messages.is_empty() {
            return;
        }
        self.out.push_str(&format!(
            "<h2 style=\"font-size:16px;margin:24px 0 8px\">{}</h2>\n",
            escape(title)
        ));
        for m in messages {
            let who = match m.author_kind {
                AuthorKind::Staff => texts::staff_author(&m.author_name, lang),
                AuthorKind::Customer => m.author_name.clone(),
            };
            self.out.push_str(&format!(
                "<p style=\"margin:16px 0 4px;color:#57606a;font-size:14px\"><strong>{}</strong> · {}</p>\n",
                escape(&who),
                escape(&crate::zone::when(m.created_us, &self.zone, lang))
            ));
            self.quote(&without_quotes(&m.body, lang));
        }
    }

    fn link(&mut self, label: &str, url: &str) {
        self.out.push_str(&format!(
            "<p><a href=\"{}\" style=\"display:inline-block;padding:10px 16px;background:#0b5cad;color:#ffffff;border-radius:6px;text-decoration:none\">{}</a></p>\n",
            html_escape::encode_double_quoted_attribute(url),
            escape(label)
        ));
    }

    fn finish(mut self) -> String {
        self.out.push_str("</div>\n</body></html>\n");
        self.out
    }
}

/// Builds the MIME message of a queued notification.
pub fn build_email(item: &OutboxItem) -> anyhow::Result<lettre::Message> {
    let from: Mailbox = format!("{} <{}>", texts::SENDER_NAME, item.from).parse()?;
    let to: Mailbox = item.to.parse()?;
    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .raw_header(subject_header(&item.subject))
        .message_id(Some(item.message_id.clone()));
    if let Some(irt) = &item.in_reply_to {
        b = b.in_reply_to(irt.clone());
    }
    if let Some(refs) = &item.references {
        b = b.references(refs.clone());
    }
    // The text part is the reference and comes first (readers show the last part they can);
    // quoted-printable keeps it readable where a mailer shows the source.
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(item.body.clone());
    let mut msg = match &item.html {
        Some(html) => b.multipart(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .header(ContentTransferEncoding::QuotedPrintable)
                    .body(html.clone()),
            ),
        )?,
        None => b.singlepart(text)?,
    };
    // Our notifications are automatic: mailers must not answer them with out-of-office replies.
    msg.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-replied".into(),
    ));
    Ok(msg)
}

/// The `Subject:` header of every outgoing e-mail (acknowledgments, notifications, refusals), so
/// that a reader shows exactly the text written. lettre encodes only the words that are not ASCII
/// and passes the rest as written, so a customer's `=?utf-8?q?Bcc=3A_a@b?=` would reach the
/// reader as an encoded-word and be shown decoded ("Bcc: a@b"). Here, from the first word that
/// is not plain ASCII or that holds `=?`, the subject is RFC 2047-encoded to its end (base64,
/// folded); the words before it (our `[#CODE]:` prefix) stay as they are, so a plain subject reads
/// the same in the raw message.
fn subject_header(subject: &str) -> HeaderValue {
    let name = HeaderName::new_from_ascii_str("Subject");
    match encoded_subject(subject) {
        Some(encoded) => HeaderValue::dangerous_new_pre_encoded(name, subject.to_string(), encoded),
        None => HeaderValue::new(name, subject.to_string()),
    }
}

/// A word a reader shows as written: printable ASCII (tabs too), with nothing that could open an
/// encoded-word.
fn plain_word(word: &str) -> bool {
    !word.contains("=?")
        && word
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// The encoded, folded value of a subject that needs encoding; `None` when it reads as written.
fn encoded_subject(subject: &str) -> Option<String> {
    use email_encoding::headers::{rfc2047, writer::EmailWriter};
    use std::fmt::Write;
    let plain: usize = subject
        .split_inclusive(' ')
        .take_while(|w| plain_word(w))
        .map(str::len)
        .sum();
    let (head, rest) = subject.split_at(plain);
    if rest.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(subject.len() * 2);
    {
        // Writing to a String cannot fail: the results say nothing.
        let mut w = EmailWriter::new(&mut out, "Subject: ".len(), 0, false);
        for word in head.split_inclusive(' ') {
            let _ = w.folding().write_str(word);
        }
        let _ = rfc2047::encode(rest, &mut w);
    }
    Some(out)
}

enum Sender {
    Relay(AsyncSmtpTransport<Tokio1Executor>),
    Folder(std::path::PathBuf),
}

impl Sender {
    fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(match &config.smtp_relay {
            Some(url) => {
                let (host, port) = parse_relay(url)?;
                // A relay without TLS: the intended one is the local MTA on the same host or LAN.
                Sender::Relay(
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                        .port(port)
                        .timeout(Some(Duration::from_secs(20)))
                        .build(),
                )
            }
            None => Sender::Folder(config.outbox_dir()),
        })
    }

    async fn send(&self, item: &OutboxItem) -> anyhow::Result<()> {
        let msg = build_email(item)?;
        match self {
            Sender::Relay(t) => {
                t.send(msg).await?;
            }
            Sender::Folder(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                // Named by queue id: writing the same one twice overwrites, never duplicates.
                let name = format!("{:08}.eml", item.id);
                let tmp = dir.join(format!(".{name}.tmp"));
                tokio::fs::write(&tmp, msg.formatted()).await?;
                tokio::fs::rename(&tmp, dir.join(name)).await?;
            }
        }
        Ok(())
    }
}

/// `smtp://host:port`, `host:port` or `host` (port 25).
fn parse_relay(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .trim()
        .trim_start_matches("smtp://")
        .trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) => Ok((
            host.to_string(),
            port.parse()
                .map_err(|_| anyhow::anyhow!("HELPDESK_SMTP_RELAY: bad port in {url:?}"))?,
        )),
        None if !rest.is_empty() => Ok((rest.to_string(), 25)),
        None => anyhow::bail!("HELPDESK_SMTP_RELAY is empty"),
    }
}

/// Delay before the next try: 2 s doubling, at most 10 minutes.
pub fn backoff(attempts: i64) -> Duration {
    let secs = 2u64.saturating_pow(attempts.clamp(1, 20) as u32).min(600);
    Duration::from_secs(secs)
}

/// Other processes (the `staff reply` command, the MTA's pipe) queue notifications too and cannot
/// wake this worker: it looks at the queue at least this often.
const IDLE_POLL_US: i64 = 2_000_000;

/// Sends what is due, forever; wakes when a notification is queued or a retry is due.
pub async fn worker(state: AppState, shutdown: tokio_util::sync::CancellationToken) {
    let sender = match Sender::from_config(&state.config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "HELPDESK_SMTP_RELAY is not usable; notifications stay queued");
            return;
        }
    };
    loop {
        if let Err(e) = send_due(&state, &sender).await {
            tracing::warn!(error = %e, "outbox pass failed");
        }
        let wait = match state.store.next_notification_due().await {
            Ok(Some(due)) => Duration::from_micros((due - now_us()).clamp(0, IDLE_POLL_US) as u64),
            _ => Duration::from_micros(IDLE_POLL_US as u64),
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = state.outbox_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// How long one notification may take to hand over; one that takes longer is tried again later.
const SEND_BUDGET: Duration = Duration::from_secs(5);
/// Notifications claimed at a time: few, so that what one instance claimed and has not yet sent
/// waits little when another instance could send it.
const CLAIM_BATCH: i64 = 10;

async fn send_due(state: &AppState, sender: &Sender) -> anyhow::Result<()> {
    let lease = Duration::from_micros(crate::storage::OUTBOX_LEASE_US.unsigned_abs());
    loop {
        let claimed = std::time::Instant::now();
        let due = state.store.due_notifications(now_us(), CLAIM_BATCH).await?;
        if due.is_empty() {
            return Ok(());
        }
        for item in due {
            // Only while the claim surely lasts: another instance takes what is left once the
            // lease ends, and must not find a notification this one is still handing over.
            if claimed.elapsed() + SEND_BUDGET > lease {
                break;
            }
            let sent = match tokio::time::timeout(SEND_BUDGET, sender.send(&item)).await {
                Ok(sent) => sent,
                Err(_) => Err(anyhow::anyhow!("no answer within {SEND_BUDGET:?}")),
            };
            match sent {
                Ok(()) => {
                    state.store.mark_sent(item.id, now_us()).await?;
                    tracing::info!(to = ?item.to, subject = ?item.subject, "notification sent");
                }
                Err(e) => {
                    let next = now_us() + backoff(item.attempts + 1).as_micros() as i64;
                    tracing::warn!(error = %e, attempts = item.attempts + 1, "notification not sent; will retry");
                    state
                        .store
                        .mark_failed(item.id, next, &e.to_string())
                        .await?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(50), Duration::from_secs(600));
    }

    fn sample_ctx<'a>(
        code: &'a helpdesk_core::TicketCode,
        recent: &'a [RecentMessage],
        status: Status,
    ) -> NotifyContext<'a> {
        NotifyContext {
            code,
            subject: "Errore 500 <script>alert(1)</script>",
            department: Department::Helpdesk,
            customer_email: "demo@example.it",
            customer_name: "Mario <b>Rossi</b>",
            language: crate::texts::Language::It,
            time_zone: "Europe/Rome",
            status,
            recent,
        }
    }

    /// A customer's message at 2025-12-01 18:37 UTC and Giulia's answer an hour later.
    fn customer_then_staff(customer: &str, staff: &str) -> [RecentMessage; 2] {
        [
            RecentMessage {
                author_name: "Mario Rossi".into(),
                author_kind: AuthorKind::Customer,
                created_us: 1_764_614_220_000_000,
                body: customer.into(),
            },
            RecentMessage {
                author_name: "Giulia".into(),
                author_kind: AuthorKind::Staff,
                created_us: 1_764_617_820_000_000,
                body: staff.into(),
            },
        ]
    }

    // The MIME structure and the escaping are checked on the real outbox by the server tests
    // (tests/api/notifications.rs); here, what each text says.
    #[test]
    fn an_acknowledgment_names_the_department_once_and_repeats_what_was_written() {
        let config = Config::for_tests(std::path::PathBuf::from("/tmp/unused"));
        let code = helpdesk_core::TicketCode::parse("FPL-809-43017").unwrap();
        let recent = [RecentMessage {
            author_name: "Mario <b>Rossi</b>".into(),
            author_kind: AuthorKind::Customer,
            created_us: 1_764_614_220_000_000,
            body: "Da stamattina il sito dà errore 500.\n<img src=x onerror=alert(1)>".into(),
        }];
        let n = acknowledgment(&config, &sample_ctx(&code, &recent, Status::Open), None);
        assert!(
            n.body
                .contains("per il reparto Helpdesk (Assistenza Tecnica)."),
            "{}",
            n.body
        );
        assert!(
            !n.body.contains("(Helpdesk (Assistenza Tecnica))"),
            "{}",
            n.body
        );
        assert!(
            n.body
                .contains("Hai scritto:\n> Da stamattina il sito dà errore 500.\n> <img"),
            "{}",
            n.body
        );
        let html = n.html.unwrap();
        for written in ["<script>", "<img", "<b>Rossi"] {
            assert!(!html.contains(written), "{written} in {html}");
        }
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        assert!(
            html.contains("href=\"http://127.0.0.1/tickets/FPL-809-43017\""),
            "{html}"
        );
    }

    #[test]
    fn a_staff_reply_says_the_ticket_now_waits_for_the_customer() {
        let config = Config::for_tests(std::path::PathBuf::from("/tmp/unused"));
        let code = helpdesk_core::TicketCode::parse("FPL-809-43017").unwrap();
        let recent = customer_then_staff(
            "Il sito non risponde.",
            "Abbiamo riavviato il server: ci confermi?",
        );
        let n = staff_reply(
            &config,
            &sample_ctx(&code, &recent, Status::AwaitingCustomer),
            "Giulia",
            "Abbiamo riavviato il server: ci confermi?",
        );
        assert!(
            n.body.contains("in attesa di una tua risposta"),
            "{}",
            n.body
        );
        let html = n.html.unwrap();
        assert!(html.contains("in attesa di una tua risposta"), "{html}");
        assert!(html.contains("Messaggi precedenti"), "{html}");
        assert!(html.contains("Il sito non risponde."), "{html}");
        let closed = staff_reply(
            &config,
            &sample_ctx(&code, &recent, Status::Closed),
            "Giulia",
            "Chiudiamo il ticket.",
        );
        assert!(!closed.body.contains("in attesa di una tua risposta"));
        assert!(closed.body.contains("Il ticket è stato chiuso"));
    }

    #[test]
    fn quoted_text_is_left_out_of_both_parts_with_a_note() {
        let config = Config::for_tests(std::path::PathBuf::from("/tmp/unused"));
        let code = helpdesk_core::TicketCode::parse("FPL-809-43017").unwrap();
        let answer = "Ecco il log richiesto.\n\nIl giorno lun 1 dic 2025 alle 10:00 Assistenza <hd@smacloud.it> ha scritto:\n> Ci mandi il log degli errori?\n> Grazie";
        let recent = customer_then_staff(answer, "Grazie, lo guardiamo.");
        let ctx = sample_ctx(&code, &recent, Status::AwaitingCustomer);
        let reply = staff_reply(&config, &ctx, "Giulia", "Grazie, lo guardiamo.");
        let ack = acknowledgment(&config, &ctx, None);
        for html in [reply.html.unwrap(), ack.html.unwrap()] {
            assert!(html.contains("Ecco il log richiesto."), "{html}");
            assert!(html.contains("[testo citato omesso]"), "{html}");
            for quoted in ["Ci mandi il log", "ha scritto:"] {
                assert!(!html.contains(quoted), "{quoted} in {html}");
            }
        }
        assert!(
            ack.body
                .contains("> Ecco il log richiesto.\n> \n> [testo citato omesso]"),
            "{}",
            ack.body
        );
        assert!(!ack.body.contains("Ci mandi il log"), "{}", ack.body);
        // A message that is nothing but a quote is shown whole, as the app shows it.
        assert_eq!(
            without_quotes("> solo citazione", Language::It),
            "> solo citazione"
        );
        assert_eq!(
            without_quotes("Sì.\n> Funziona?", Language::En),
            "Sì.\n[quoted text omitted]"
        );
    }

    #[test]
    fn times_are_the_customer_zone_never_utc() {
        let config = Config::for_tests(std::path::PathBuf::from("/tmp/unused"));
        let code = helpdesk_core::TicketCode::parse("FPL-809-43017").unwrap();
        // 2025-12-01 18:37 UTC, then the staff answer an hour later.
        let recent = customer_then_staff("Il sito non risponde.", "Riavviato.");
        let rome = sample_ctx(&code, &recent, Status::AwaitingCustomer);
        let html = staff_reply(&config, &rome, "Giulia", "Riavviato.")
            .html
            .unwrap();
        assert!(html.contains("01/12/2025 19:37 CET"), "{html}");
        assert!(!html.contains("UTC"), "{html}");
        let new_york = NotifyContext {
            time_zone: "America/New_York",
            language: Language::En,
            ..sample_ctx(&code, &recent, Status::AwaitingCustomer)
        };
        let html = staff_reply(&config, &new_york, "Giulia", "Riavviato.")
            .html
            .unwrap();
        assert!(html.contains("1 Dec 2025, 13:37 EST"), "{html}");
        assert!(!html.contains("UTC"), "{html}");
    }

    #[test]
    fn an_acknowledgment_by_email_names_the_service_the_low_priority_and_the_form() {
        let config = Config::for_tests(std::path::PathBuf::from("/tmp/unused"));
        let code = helpdesk_core::TicketCode::parse("FPL-809-43017").unwrap();
        let recent = [RecentMessage {
            author_name: "Mario Rossi".into(),
            author_kind: AuthorKind::Customer,
            created_us: 1_764_614_220_000_000,
            body: "Il sito non risponde.".into(),
        }];
        let ctx = sample_ctx(&code, &recent, Status::Open);
        let by_email = ByEmail {
            service: Some(service_name("blog-mario.it", "Hosting WordPress")),
            advice: Vec::new(),
        };
        let n = acknowledgment(&config, &ctx, Some(&by_email));
        for line in [
            "Servizio: blog-mario.it (Hosting WordPress)\n",
            "Priorità: bassa (i ticket aperti per e-mail hanno sempre priorità bassa",
            "Se il servizio non è quello giusto, apri un nuovo ticket dal sito scegliendo il servizio corretto: http://127.0.0.1/nuovo\n",
            "http://127.0.0.1/tickets/FPL-809-43017",
        ] {
            assert!(n.body.contains(line), "{line} in {}", n.body);
        }
        let html = n.html.unwrap();
        for part in [
            "<strong>Servizio:</strong> blog-mario.it (Hosting WordPress)",
            "<strong>Priorità:</strong> bassa",
            "<a href=\"http://127.0.0.1/nuovo\">http://127.0.0.1/nuovo</a>",
        ] {
            assert!(html.contains(part), "{part} in {html}");
        }
        // No service named: it says so; in English, in English.
        let en = NotifyContext {
            language: Language::En,
            ..sample_ctx(&code, &recent, Status::Open)
        };
        let n = acknowledgment(&config, &en, Some(&ByEmail::default()));
        assert!(
            n.body
                .contains("Service: none of your services is named in the subject\nPriority: low"),
            "{}",
            n.body
        );
        // A web ticket's acknowledgment says nothing of either.
        let web = acknowledgment(&config, &ctx, None);
        assert!(!web.body.contains("Priorità") && !web.body.contains("/nuovo"));
    }

    #[test]
    fn a_notification_threads_under_the_ticket_and_says_it_is_automatic() {
        let item = OutboxItem {
            id: 1,
            message_id: "<abc@helpdesk.smacloud.it>".into(),
            from: "hd@smacloud.it".into(),
            to: "demo@example.it".into(),
            subject: "[#FPL-809-43017]: Sito lento".into(),
            body: "Ciao".into(),
            html: None,
            in_reply_to: Some("<first@helpdesk.smacloud.it>".into()),
            references: Some("<first@helpdesk.smacloud.it>".into()),
            attempts: 0,
        };
        let raw = String::from_utf8(build_email(&item).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("Subject: [#FPL-809-43017]: Sito lento"),
            "{raw}"
        );
        assert!(
            raw.contains("Message-ID: <abc@helpdesk.smacloud.it>"),
            "{raw}"
        );
        assert!(
            raw.contains("In-Reply-To: <first@helpdesk.smacloud.it>"),
            "{raw}"
        );
        assert!(raw.contains("Auto-Submitted: auto-replied"), "{raw}");
    }

    fn formatted_with_subject(subject: &str) -> String {
        let item = OutboxItem {
            id: 1,
            message_id: "<abc@helpdesk.smacloud.it>".into(),
            from: "hd@smacloud.it".into(),
            to: "demo@example.it".into(),
            subject: subject.into(),
            body: "Ciao".into(),
            html: None,
            in_reply_to: None,
            references: None,
            attempts: 0,
        };
        String::from_utf8(build_email(&item).unwrap().formatted()).unwrap()
    }

    #[test]
    fn every_subject_reads_back_exactly_as_written() {
        let long_ascii = "parola ".repeat(40);
        let cases = [
            "[#FPL-809-43017]: =?utf-8?q?Bcc=3A_a@b?=".to_string(),
            "[#FPL-809-43017]: Re:=?utf-8?b?QmNjOiBhQGI=?=".to_string(),
            "[#FPL-809-43017]: Rinnovo già pagato — fattura n° 12".to_string(),
            "[#FPL-809-43017]: =?iso-8859-1?q?caf=E9?= e caffè".to_string(),
            "[#FPL-809-43017]: solo ?= e =? sparsi".to_string(),
            format!("[#FPL-809-43017]: {long_ascii}=?utf-8?q?Bcc=3A_a@b?= {long_ascii}"),
            format!("[#FPL-809-43017]: {}", "è".repeat(300)),
            "[#FPL-809-43017]: 🙂 emoji".to_string(),
            "[#FPL-809-43017]: a\tb".to_string(),
        ];
        for subject in &cases {
            let raw = formatted_with_subject(subject);
            let m = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap();
            assert_eq!(m.subject(), Some(subject.as_str()), "{raw}");
            assert!(m.bcc().is_none(), "{raw}");
            let head = &raw[..raw.find("\r\n\r\n").unwrap()];
            assert!(head.is_ascii(), "{head}");
            assert!(head.lines().all(|l| l.len() <= 78), "folded: {head}");
            assert!(
                head.contains("Subject: [#FPL-809-43017]: "),
                "the code reads as written: {head}"
            );
            assert!(
                !head.contains("?q?Bcc") && !head.contains("?b?QmNj") && !head.contains("?q?caf"),
                "{head}"
            );
        }
        // A plain subject is written as it is.
        let raw = formatted_with_subject("[#FPL-809-43017]: Errore 500 su blog-mario.it");
        assert!(
            raw.contains("\r\nSubject: [#FPL-809-43017]: Errore 500 su blog-mario.it\r\n"),
            "{raw}"
        );
    }

    #[test]
    fn a_staff_reply_to_an_english_customer_is_english_from_greeting_to_link() {
        let config = Config::for_tests(std::path::PathBuf::from("/tmp/unused"));
        let code = helpdesk_core::TicketCode::parse("FPL-809-43017").unwrap();
        let recent = customer_then_staff("The site does not answer.", "We restarted the server.");
        let ctx = NotifyContext {
            language: crate::texts::Language::En,
            ..sample_ctx(&code, &recent, Status::AwaitingCustomer)
        };
        let n = staff_reply(&config, &ctx, "Giulia", "We restarted the server.");
        assert!(n.body.starts_with("Dear Mario <b>Rossi</b>,"), "{}", n.body);
        assert!(
            n.body
                .contains("Giulia has answered your ticket FPL-809-43017:"),
            "{}",
            n.body
        );
        assert!(
            n.body.contains("The ticket is now waiting for your reply"),
            "{}",
            n.body
        );
        let html = n.html.unwrap();
        for english in [
            "<html lang=\"en\">",
            "Earlier messages",
            "Open the ticket history",
        ] {
            assert!(html.contains(english), "{english} in {html}");
        }
        for italian in ["Gentile", "risposto", "Assistenza", "Messaggi precedenti"] {
            assert!(
                !n.body.contains(italian) && !html.contains(italian),
                "{italian}"
            );
        }
    }
}
