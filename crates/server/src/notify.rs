//! E-mail notifications: composed when a message is written, queued in the same transaction,
//! and sent by a background worker (SMTP relay, or `.eml` files in the outbox folder).

use crate::config::Config;
use crate::state::AppState;
use crate::storage::{Notification, NotifyContext, OutboxItem};
use crate::util::{now_us, random_id};
use helpdesk_core::api::Department;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
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

const KEEP_CODE: &str = "Per rispondere, rispondi a questa e-mail lasciando inalterato il codice del ticket nell'oggetto.";

/// The acknowledgment of a new ticket (one e-mail), with what to add when the subject or the
/// service left something out.
pub fn acknowledgment(config: &Config, ctx: &NotifyContext<'_>, advice: &[String]) -> Notification {
    let mut body = format!(
        "Gentile {name},\n\nabbiamo ricevuto la tua richiesta e aperto il ticket {code} ({dept}).\n\
         Oggetto: {subject}\n\n",
        name = ctx.customer_name,
        code = ctx.code,
        dept = crate::texts::department_label(ctx.department),
        subject = ctx.subject,
    );
    if !advice.is_empty() {
        body.push_str("Per aiutarci a risolvere il problema fin dalla prima risposta:\n");
        for a in advice {
            body.push_str("- ");
            body.push_str(a);
            body.push('\n');
        }
        body.push('\n');
    }
    body.push_str(&format!(
        "Le risposte ti arriveranno per e-mail. {KEEP_CODE}\nPuoi seguire il ticket qui: {}\n",
        ticket_link(config, ctx.code.as_str())
    ));
    about_ticket(config, ctx, body)
}

/// An e-mail about a ticket: from its department's intake (so an answer comes back in), to the
/// customer's reference address, with the code in the subject.
fn about_ticket(config: &Config, ctx: &NotifyContext<'_>, body: String) -> Notification {
    Notification {
        message_id: new_message_id(config),
        from: intake_address(config, ctx.department).to_string(),
        to: ctx.customer_email.to_string(),
        subject: helpdesk_core::code::mail_subject(ctx.code, ctx.subject),
        body,
    }
}

/// A staff answer, sent to the customer's reference address.
pub fn staff_reply(
    config: &Config,
    ctx: &NotifyContext<'_>,
    staff_name: &str,
    text: &str,
) -> Notification {
    let body = format!(
        "Gentile {name},\n\n{staff_name} ha risposto al tuo ticket {code}:\n\n{text}\n\n-- \n{KEEP_CODE}\nStorico del ticket: {link}\n",
        name = ctx.customer_name,
        code = ctx.code,
        link = ticket_link(config, ctx.code.as_str()),
    );
    about_ticket(config, ctx, body)
}

/// Builds the MIME message of a queued notification.
pub fn build_email(item: &OutboxItem) -> anyhow::Result<lettre::Message> {
    let from: Mailbox = format!("Assistenza <{}>", item.from).parse()?;
    let to: Mailbox = item.to.parse()?;
    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(item.subject.clone())
        .message_id(Some(item.message_id.clone()))
        .header(ContentType::TEXT_PLAIN);
    if let Some(irt) = &item.in_reply_to {
        b = b.in_reply_to(irt.clone());
    }
    if let Some(refs) = &item.references {
        b = b.references(refs.clone());
    }
    let mut msg = b.body(item.body.clone())?;
    // Our notifications are automatic: mailers must not answer them with out-of-office replies.
    msg.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-replied".into(),
    ));
    Ok(msg)
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

async fn send_due(state: &AppState, sender: &Sender) -> anyhow::Result<()> {
    loop {
        let due = state.store.due_notifications(now_us(), 50).await?;
        if due.is_empty() {
            return Ok(());
        }
        for item in due {
            match sender.send(&item).await {
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

    #[test]
    fn a_notification_threads_under_the_ticket_and_says_it_is_automatic() {
        let item = OutboxItem {
            id: 1,
            message_id: "<abc@helpdesk.smacloud.it>".into(),
            from: "hd@smacloud.it".into(),
            to: "demo@example.it".into(),
            subject: "[#FPL-809-43017]: Sito lento".into(),
            body: "Ciao".into(),
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
}
