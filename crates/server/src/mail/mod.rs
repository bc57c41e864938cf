//! E-mail intake: the one path every incoming message takes, over SMTP or through an MTA's pipe.
//! Each message is kept as received and recorded, then opens a ticket, joins one, or is refused
//! with its reason (answered when answering is safe).

pub mod auth;
pub mod cli;
pub mod parse;
pub mod smtp;
pub mod tnef;

use crate::config::Config;
use crate::file_store::{write_durably, FileStore};
use crate::storage::delivery::Undeliverable;
use crate::storage::mail::{Answer, Claim, IntakeClaim, IntakeFinish};
use crate::storage::prelude::*;
use crate::storage::{Created, Notification, Store, StoreError, StoredFile};
use crate::texts::{self, Language};
use crate::tickets::{self, EmailMessage};
use crate::util::{now_us, random_id};
use auth::{AuthVerdict, Connection, SenderAuth};
use helpdesk_core::api::{Channel, Customer, Department, Role};
use helpdesk_core::limits::MAX_FILES_PER_MESSAGE;
use helpdesk_core::mentions::{distinct_names, service_for, services_named_in};
use helpdesk_core::subject::{assess, SubjectContext};
use helpdesk_core::TicketCode;
use parse::{analyse, Analysis};
use std::path::PathBuf;
use std::sync::Arc;

/// Raw bytes kept of one message; past this only its start is kept and it is refused as too large
/// (its attachments are necessarily over the 1 MB limit).
pub const MAX_RAW_BYTES: usize = 8 * 1024 * 1024;
/// Refusal answers per customer's address per hour.
pub const REFUSALS_PER_HOUR: i64 = 3;
/// Refusals of a customer over one of their limits (issue 19): a single answer an hour.
pub const LIMIT_ANSWERS_PER_HOUR: i64 = 1;
/// An address that is no customer's gets at most one refusal answer in this many hours: anyone
/// can write a victim's address as the sender, and the answer goes to the victim.
pub const UNKNOWN_SENDER_ANSWER_HOURS: i64 = 24;
/// Acknowledgments of new e-mail tickets per address per hour (the tickets are opened anyway).
pub const ACKS_PER_HOUR: i64 = 20;

/// How the sender is authenticated.
pub enum AuthSource<'a> {
    /// Through the SMTP listener: SPF and DKIM checked here.
    Smtp {
        checker: &'a SenderAuth,
        conn: Connection,
    },
    /// Through the pipe: the topmost `Authentication-Results` header of our own MTA.
    Headers,
}

/// What the transport knows besides the message.
pub struct Envelope<'a> {
    /// The envelope recipients (SMTP `RCPT TO`, or the pipe's `--to`); when empty the message's
    /// own headers say.
    pub recipients: Vec<String>,
    /// The envelope sender (`MAIL FROM`); empty for a bounce; `None` when not known (the pipe).
    pub return_path: Option<String>,
    pub auth: AuthSource<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    NewTicket {
        code: String,
    },
    Reply {
        code: String,
        /// Always false now: automatic mail is recorded, never added to a thread (issue 21).
        automatic: bool,
    },
    Refused {
        reason: &'static str,
        answered: bool,
    },
    /// Seen before from the same sender with the same Message-ID: taken, nothing done.
    Duplicate,
}

#[derive(Debug, Clone)]
pub struct Ingested {
    /// The `mail_intake` record (for a duplicate, the id this delivery would have had).
    pub id: String,
    pub outcome: Outcome,
    /// Something was queued in the outbox: wake the worker.
    pub queued_mail: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("another delivery of this message is being processed; try again later")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Records one message and acts on it. `complete` is false when only its first
/// [`MAX_RAW_BYTES`] were kept. An `Err` means nothing was recorded: the sender should retry.
pub async fn ingest(
    store: &Store,
    config: &Config,
    raw: Vec<u8>,
    complete: bool,
    env: Envelope<'_>,
) -> Result<Ingested, IngestError> {
    let id = random_id();
    let received_us = now_us();
    let raw_file = config.mail_dir().join(format!("{id}.eml"));
    // Durable before the claim, and the claim before the SMTP `250`.
    write_durably(&raw_file, &raw).await?;
    let raw = Arc::new(raw);

    let analysis = {
        let raw = Arc::clone(&raw);
        tokio::task::spawn_blocking(move || analyse(&raw, complete))
            .await
            .unwrap_or_default()
    };
    let sender = match analysis.from.as_slice() {
        [Some(one)] => Some(one.clone()),
        _ => None,
    };
    let sender_key = sender
        .clone()
        .unwrap_or_else(|| analysis.from_raw.to_lowercase());
    let recipient = pick_recipient(config, &env.recipients, &analysis.header_recipients);

    let claim = IntakeClaim {
        id: &id,
        sender: &sender_key,
        recipient: recipient
            .map(|(addr, _)| addr)
            .or(env.recipients.first().map(String::as_str))
            .unwrap_or(""),
        subject: &analysis.subject,
        message_id: analysis.message_id.as_deref(),
        raw_path: &format!("mail/{id}.eml"),
        received_us,
    };
    match store.claim_intake(&claim).await {
        Ok(Claim::Claimed) => {}
        Ok(Claim::Duplicate) => {
            let _ = tokio::fs::remove_file(&raw_file).await;
            return Ok(Ingested {
                id,
                outcome: Outcome::Duplicate,
                queued_mail: false,
            });
        }
        Ok(Claim::Busy) => {
            let _ = tokio::fs::remove_file(&raw_file).await;
            return Err(IngestError::Busy);
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&raw_file).await;
            return Err(e.into());
        }
    }

    let job = Job {
        store,
        config,
        id: &id,
        raw: &raw,
        raw_file: &raw_file,
        a: &analysis,
        sender: sender.as_deref(),
        recipient,
        env: &env,
        stored: Vec::new(),
    };
    match job.run().await {
        Ok(ingested) => Ok(ingested),
        Err(e) => {
            if let Err(e2) = store.abandon_intake(&id).await {
                tracing::warn!(error = %e2, "could not release the claim of a failed e-mail");
            }
            let _ = tokio::fs::remove_file(&raw_file).await;
            Err(e)
        }
    }
}

/// Deletes the raw mail of refused messages received before `now_us` less the configured
/// retention; their records (with the reason) stay. Returns how many were deleted.
pub async fn expire_refused_raw(
    store: &Store,
    config: &Config,
    now_us: i64,
) -> Result<usize, IngestError> {
    let cutoff = now_us - i64::from(config.mail_raw_retention_days) * 24 * 3600 * 1_000_000;
    let expired = store.refused_raw_before(cutoff).await?;
    let kept = FileStore::refused_mail(store, config);
    let mut gone = Vec::with_capacity(expired.len());
    for (id, raw_path) in expired {
        let Some(name) = kept_name(&raw_path) else {
            continue;
        };
        // Where it is kept, and the intake's own file (the same one on SQLite).
        let removed = match kept.delete(&[name.to_string()]).await {
            Ok(()) => tokio::fs::remove_file(config.mail_dir().join(name)).await,
            Err(e) => Err(e),
        };
        match removed {
            Ok(()) => gone.push(id),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => gone.push(id),
            Err(e) => {
                tracing::warn!(error = %e, %raw_path, "could not delete an expired raw e-mail")
            }
        }
    }
    store.forget_raw(&gone).await?;
    if !gone.is_empty() {
        tracing::info!(deleted = gone.len(), "raw mail of refused messages expired");
    }
    Ok(gone.len())
}

/// The name a raw mail the intake recorded is kept under. The path is ours
/// (`mail/<random id>.eml`); anything else is never touched.
pub fn kept_name(raw_path: &str) -> Option<&str> {
    raw_path
        .strip_prefix("mail/")
        .filter(|n| !n.is_empty() && !n.contains(['/', '\\']))
}

/// Raw mail read back for one list of refused e-mails, in all: the list holds at most 100, each
/// kept up to `MAX_RAW_BYTES`, and one request must not read them all. Past it the older ones
/// show no text, as if their raw mail were gone.
const REFUSED_READ_BUDGET: u64 = 48 * 1024 * 1024;

/// A customer's refused e-mails (newest first) with what they wrote, read back from the raw mail
/// while it is kept: the text as plain text (HTML converted, at most
/// `MAIL_REJECTION_TEXT_MAX_CHARS` characters) and the attachments' names. Nothing of an
/// encrypted or unreadable message.
pub async fn refused_with_text(
    store: &Store,
    config: &Config,
    refused: Vec<crate::storage::mail::RefusedMail>,
) -> Vec<helpdesk_core::api::MailRejection> {
    use helpdesk_core::api::MAIL_REJECTION_TEXT_MAX_CHARS;
    let kept = FileStore::refused_mail(store, config);
    let mut budget = REFUSED_READ_BUDGET;
    let mut items = Vec::with_capacity(refused.len());
    for r in refused {
        let mut item = r.rejection;
        let Some(name) = r.raw_path.as_deref().and_then(kept_name) else {
            items.push(item);
            continue;
        };
        let raw = match kept.read_at_most(name, budget).await {
            Ok(Some(raw)) => raw,
            Ok(None) => {
                items.push(item);
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, %name, "could not read a refused e-mail");
                items.push(item);
                continue;
            }
        };
        budget -= raw.len() as u64;
        // What was kept of an oversized message is its start: read as far as it goes. Parsing
        // is CPU work: off the async threads.
        let a = tokio::task::spawn_blocking(move || analyse(&raw, true))
            .await
            .unwrap_or_default();
        if a.parsed && !a.encrypted {
            // The intake's own reading already stops at `BODY_MAX_CHARS`; the bound is the
            // API's promise whatever that limit becomes.
            item.text = Some(a.body.chars().take(MAIL_REJECTION_TEXT_MAX_CHARS).collect());
            item.attachment_names = a.attachment_names;
        }
        items.push(item);
    }
    items
}

/// The intake address the message was sent to, and its department: the envelope's first, else
/// the first the headers name.
fn pick_recipient<'c>(
    config: &'c Config,
    envelope: &[String],
    headers: &[String],
) -> Option<(&'c str, Department)> {
    let department_of = |addr: &str| {
        let addr = addr.trim().to_lowercase();
        if addr == config.mail_tech {
            Some((config.mail_tech.as_str(), Department::Helpdesk))
        } else if addr == config.mail_sales {
            Some((config.mail_sales.as_str(), Department::Sales))
        } else {
            None
        }
    };
    if envelope.is_empty() {
        headers.iter().find_map(|a| department_of(a))
    } else {
        envelope.iter().find_map(|a| department_of(a))
    }
}

/// One message being decided on, after it was claimed.
struct Job<'a> {
    store: &'a Store,
    config: &'a Config,
    id: &'a str,
    raw: &'a Arc<Vec<u8>>,
    raw_file: &'a PathBuf,
    a: &'a Analysis,
    sender: Option<&'a str>,
    recipient: Option<(&'a str, Department)>,
    env: &'a Envelope<'a>,
    /// Files written for this message (ids in the file store), removed again if it fails.
    stored: Vec<String>,
}

/// A refusal about to be recorded.
struct Refusal<'a> {
    reason: &'static str,
    account: Option<&'a Customer>,
    detail: Option<String>,
    answer: bool,
}

impl<'a> Job<'a> {
    /// Removes the files written for this message (it failed, or they joined nothing).
    async fn remove_stored(&mut self) {
        let ids = std::mem::take(&mut self.stored);
        if let Err(e) = FileStore::of(self.store, self.config).delete(&ids).await {
            tracing::warn!(error = %e, "could not remove the files of a failed e-mail");
        }
    }

    async fn run(mut self) -> Result<Ingested, IngestError> {
        let result = self.decide().await;
        if result.is_err() {
            self.remove_stored().await;
        }
        result
    }

    async fn decide(&mut self) -> Result<Ingested, IngestError> {
        let a = self.a;
        if !a.parsed {
            return self
                .refuse(Refusal {
                    reason: "malformed",
                    account: None,
                    detail: None,
                    answer: false,
                })
                .await;
        }
        let Some(sender) = self.sender else {
            let detail = format!("From: {}", a.from_raw);
            return self
                .refuse(Refusal {
                    reason: "several_senders",
                    account: None,
                    detail: Some(detail),
                    answer: false,
                })
                .await;
        };
        let account = self
            .store
            .account_by_email(sender)
            .await?
            .map(|row| row.customer)
            .filter(|c| c.role == Role::Customer);
        let account = account.as_ref();

        let automatic = a.automatic.or(match self.env.return_path.as_deref() {
            Some(rp) if rp.trim().is_empty() => Some(parse::Automatic {
                kind: "null_sender",
                by: "MAIL FROM:<>",
            }),
            _ => None,
        });

        if self.config.mail_require_auth {
            let verdict = self.authenticate(sender).await;
            if !verdict.pass {
                tracing::info!(?sender, detail = ?verdict.detail, "e-mail quarantined: sender not authenticated");
                return self
                    .refuse(Refusal {
                        reason: "unauthenticated",
                        account,
                        detail: Some(verdict.detail),
                        answer: false,
                    })
                    .await;
            }
        }
        let answerable = automatic.is_none() && self.may_answer(sender);

        let Some((_, department)) = self.recipient else {
            return self
                .refuse(Refusal {
                    reason: "unknown_recipient",
                    account,
                    detail: None,
                    answer: answerable,
                })
                .await;
        };

        if let Some(why) = automatic {
            if let Some(bounce) = &a.bounce {
                return self.bounced(why, bounce, account).await;
            }
            // Automatic mail (receipts, bounces, out-of-office, challenges, lists) is recorded
            // with its kind for staff and nothing else: no message in a thread, no reopening,
            // no answer, whatever ticket code its subject carries.
            let detail = match TicketCode::find_in(&a.subject) {
                Some(code) => format!("{why}; about {code}"),
                None => why.to_string(),
            };
            return self
                .refuse(Refusal {
                    reason: "automatic",
                    account,
                    detail: Some(detail),
                    answer: false,
                })
                .await;
        }

        let Some(customer) = account else {
            return self
                .refuse(Refusal {
                    reason: "unknown_sender",
                    account: None,
                    detail: None,
                    answer: answerable,
                })
                .await;
        };
        if a.encrypted {
            // Nothing of it can be read, so nothing of it is kept in a thread: the customer is
            // told to write again without encryption or on the website.
            return self
                .refuse(Refusal {
                    reason: "encrypted",
                    account,
                    detail: None,
                    answer: answerable,
                })
                .await;
        }
        if a.attachments_over_limit {
            let detail = Some(format!("{} bytes of attachments", a.attachments_bytes));
            return self
                .refuse(Refusal {
                    reason: "attachments_too_large",
                    account,
                    detail,
                    answer: answerable,
                })
                .await;
        }
        if a.too_many_attachments {
            let detail = Some(format!(
                "{} attachments (at most {MAX_FILES_PER_MESSAGE})",
                a.attachments_count
            ));
            return self
                .refuse(Refusal {
                    reason: "too_many_attachments",
                    account,
                    detail,
                    answer: answerable,
                })
                .await;
        }
        if let Some(code) = TicketCode::find_in(&a.subject) {
            if let Some(done) = self.reply(customer, code.as_str()).await? {
                return Ok(done);
            }
            // Someone else's ticket answers exactly as a missing one.
            return self
                .refuse(Refusal {
                    reason: "unknown_ticket",
                    account,
                    detail: Some(code.to_string()),
                    answer: answerable,
                })
                .await;
        }
        if let Some(code) = self
            .store
            .ticket_for_references(&customer.id, &a.references)
            .await?
        {
            if let Some(done) = self.reply(customer, &code).await? {
                return Ok(done);
            }
        }
        self.open_ticket(customer, department, answerable).await
    }

    async fn authenticate(&self, sender: &str) -> AuthVerdict {
        use futures_util::FutureExt;
        let from_domain = auth::domain_of(sender);
        match &self.env.auth {
            // A panic inside the checker on hostile input fails the check instead of the session.
            AuthSource::Smtp { checker, conn } => {
                std::panic::AssertUnwindSafe(checker.check(conn, self.raw, from_domain))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| {
                        AuthVerdict::fail("the sender check failed on this message")
                    })
            }
            AuthSource::Headers => auth::verdict_from_headers(
                &self.a.auth_results,
                &self.config.mail_authserv_id,
                from_domain,
            ),
        }
    }

    /// A delivery-status notification. One that quotes one of our notifications' Message-IDs
    /// (the returned message's, or in its own In-Reply-To/References) and reports a failure
    /// marks the account that notification went to as not receiving our mail; any other is
    /// recorded as automatic mail and marks nothing: whoever forges a bounce cannot guess the
    /// random ids of our messages. Either way it is never answered and joins no ticket.
    async fn bounced(
        &mut self,
        why: parse::Automatic,
        b: &parse::Bounce,
        sender_account: Option<&Customer>,
    ) -> Result<Ingested, IngestError> {
        let mut ids = b.returned_ids.clone();
        ids.extend(self.a.references.iter().cloned());
        let ours = match b.failed() {
            true => self.store.outbox_recipient(&ids).await?,
            false => None,
        };
        let summary = b.summary();
        let Some(address) = ours else {
            let why_not = if b.failed() {
                "quotes none of our messages"
            } else {
                "not a failure"
            };
            return self
                .refuse(Refusal {
                    reason: "automatic",
                    account: sender_account,
                    detail: Some(format!("{why}; {why_not}; {summary}")),
                    answer: false,
                })
                .await;
        };
        let marked = self
            .store
            .mark_undeliverable(&Undeliverable {
                address: &address,
                since_us: now_us(),
                reason: b.reason(),
                detail: &summary,
            })
            .await?;
        let whose = if marked.is_some() {
            ""
        } else {
            " (no account)"
        };
        tracing::info!(id = %self.id, %address, %summary, "one of our e-mails bounced");
        // Kept off the customer's own list of refused e-mails: they did not send it.
        self.refuse(Refusal {
            reason: "bounce",
            account: None,
            detail: Some(format!("{why}; {address}{whose}: {summary}")),
            answer: false,
        })
        .await
    }

    /// Never answer ourselves, system senders, or anything at our own domain: that is how loops start.
    fn may_answer(&self, sender: &str) -> bool {
        let c = self.config;
        let domain = auth::domain_of(sender);
        sender != c.mail_tech
            && sender != c.mail_sales
            && !domain.eq_ignore_ascii_case(&c.mail_domain)
            && !domain.eq_ignore_ascii_case(auth::domain_of(&c.mail_tech))
            && !domain.eq_ignore_ascii_case(auth::domain_of(&c.mail_sales))
            && !parse::is_system_sender(sender)
    }

    async fn refuse(&mut self, r: Refusal<'_>) -> Result<Ingested, IngestError> {
        let answer = match (r.answer, self.sender) {
            (true, Some(to)) => {
                let public_url = &self.config.public_url;
                // A customer's own language, their subject named, threaded under their message.
                // To an address that is no customer's: Italian then English, nothing of what the
                // message said (not even its Message-ID), once a day at most. With sender checks
                // on, only mail that passed them gets this far.
                let (subject, body, in_reply_to, limit, window_us) = match r.account {
                    Some(c) => {
                        let (subject, body) = texts::refusal_email(
                            r.reason,
                            &self.a.subject,
                            public_url,
                            self.a.attachments_bytes,
                            Language::of_saved(c.language.as_deref()),
                        );
                        let hour_us = 3600 * 1_000_000;
                        let irt = self.a.message_id.clone();
                        // A customer over a limit writes again and again: one answer says it.
                        let limit = match r.reason {
                            "rate_limited" | "quota_exceeded" => LIMIT_ANSWERS_PER_HOUR,
                            _ => REFUSALS_PER_HOUR,
                        };
                        (subject, body, irt, limit, hour_us)
                    }
                    None => {
                        let hours = UNKNOWN_SENDER_ANSWER_HOURS;
                        let (subject, body) =
                            texts::refusal_email_both(r.reason, public_url, hours);
                        (subject, body, None, 1, hours * 3600 * 1_000_000)
                    }
                };
                let from = self
                    .recipient
                    .map_or(self.config.mail_tech.as_str(), |(addr, _)| addr);
                Some(Answer {
                    notification: Notification {
                        message_id: format!("<{}@{}>", random_id(), self.config.mail_domain),
                        from: from.to_string(),
                        to: to.to_string(),
                        subject,
                        body,
                        html: None,
                    },
                    in_reply_to,
                    limit,
                    window_us,
                })
            }
            _ => None,
        };
        // Mail that failed sender authentication was not sent by the customer it names: it is
        // kept for staff under the account it claims, never in that customer's own list (an
        // attacker would fill it with subjects of their choosing).
        let (account, claimed) = if r.reason == "unauthenticated" {
            (None, r.account)
        } else {
            (r.account, None)
        };
        // Kept where any instance reads it back while its retention lasts (see
        // `FileStore::refused_mail`), before the refusal that points to it is recorded.
        FileStore::refused_mail(self.store, self.config)
            .put_file(&format!("{}.eml", self.id), self.raw_file)
            .await?;
        let finish = IntakeFinish {
            account_id: account.map(|c| c.id.as_str()),
            claimed_account_id: claimed.map(|c| c.id.as_str()),
            outcome: "refused",
            reason: Some(r.reason),
            detail: r.detail.as_deref(),
            ticket_code: None,
            answer,
            acknowledged_to: None,
        };
        let answered = self.store.finish_intake(self.id, &finish).await?;
        tracing::info!(id = %self.id, reason = r.reason, answered, "e-mail refused");
        Ok(Ingested {
            id: self.id.to_string(),
            outcome: Outcome::Refused {
                reason: r.reason,
                answered,
            },
            queued_mail: answered,
        })
    }

    /// Keeps the attachments and the raw message as files of the customer.
    async fn store_files(
        &mut self,
        customer: &Customer,
    ) -> Result<(Vec<StoredFile>, String), IngestError> {
        let store = FileStore::of(self.store, self.config);
        let mut files = Vec::with_capacity(self.a.attachments.len());
        for att in &self.a.attachments {
            let fid = random_id();
            self.stored.push(fid.clone());
            store.put_bytes(&fid, &att.data).await?;
            files.push(StoredFile {
                id: fid,
                name: att.name.clone(),
                size: att.data.len() as u64,
                content_type: att.content_type.clone(),
            });
        }
        let raw_id = random_id();
        self.stored.push(raw_id.clone());
        store.put_file(&raw_id, self.raw_file).await?;
        let raw_row = StoredFile {
            id: raw_id.clone(),
            name: "messaggio-originale.eml".into(),
            size: self.raw.len() as u64,
            content_type: "message/rfc822".into(),
        };
        self.store
            .insert_raw_email_file(&customer.id, &raw_row)
            .await?;
        Ok((files, raw_id))
    }

    /// A message that was already written before its record was lost (a crash in between).
    async fn already_written(&self, customer: &Customer) -> Result<Option<String>, IngestError> {
        match &self.a.message_id {
            Some(mid) => Ok(self.store.ticket_with_email(&customer.id, mid).await?),
            None => Ok(None),
        }
    }

    async fn accepted(
        &self,
        customer: &Customer,
        outcome: Outcome,
        code: &str,
        acked: bool,
    ) -> Result<Ingested, IngestError> {
        let finish = IntakeFinish {
            account_id: Some(&customer.id),
            outcome: "accepted",
            ticket_code: Some(code),
            acknowledged_to: acked.then_some(customer.email.as_str()),
            ..IntakeFinish::default()
        };
        self.store.finish_intake(self.id, &finish).await?;
        tracing::info!(id = %self.id, code, "e-mail accepted");
        // The customer writes from their address again: whatever bounced our mail is taken as
        // solved, and the next bounce marks it anew.
        if let Err(e) = self.store.clear_mail_delivery(&customer.id, None).await {
            tracing::warn!(error = %e, "could not clear the account's delivery mark");
        }
        Ok(Ingested {
            id: self.id.to_string(),
            outcome,
            queued_mail: acked,
        })
    }

    /// Appends the message to the customer's own ticket `code`; `None` when there is no such
    /// ticket of theirs. Automatic mail never gets here (see `decide`).
    async fn reply(
        &mut self,
        customer: &Customer,
        code: &str,
    ) -> Result<Option<Ingested>, IngestError> {
        if let Some(done) = self.already_written(customer).await? {
            let outcome = Outcome::Reply {
                code: done.clone(),
                automatic: false,
            };
            return self
                .accepted(customer, outcome, &done, false)
                .await
                .map(Some);
        }
        let (files, raw_id) = self.store_files(customer).await?;
        let body = if self.a.body.is_empty() {
            texts::mail_no_text(Language::of_saved(customer.language.as_deref()))
        } else {
            self.a.body.as_str()
        };
        let mail = EmailMessage {
            body,
            message_id: self.a.message_id.as_deref(),
            raw_email_id: &raw_id,
            files: &files,
            automatic: false,
            signed: self.a.signed,
        };
        let result = match TicketCode::parse(code) {
            Some(code) => {
                tickets::reply_by_email(self.store, &self.config.limits, customer, &code, &mail)
                    .await
            }
            None => Ok(None),
        };
        match result {
            Ok(Some(ticket)) => {
                // Committed: the files belong to the ticket now, whatever happens next.
                self.stored.clear();
                let outcome = Outcome::Reply {
                    code: ticket.code.clone(),
                    automatic: false,
                };
                self.accepted(customer, outcome, &ticket.code, false)
                    .await
                    .map(Some)
            }
            Ok(None) => {
                self.forget_files(&raw_id).await;
                Ok(None)
            }
            Err(e) => {
                self.forget_files(&raw_id).await;
                let answer = self.sender.is_some_and(|s| self.may_answer(s));
                self.limited(customer, e, answer).await.map(Some)
            }
        }
    }

    /// A message the customer's limits refuse (too many tickets or replies in the window, or
    /// the quota of stored bytes) is refused with the reason, answered at most once an hour
    /// (`LIMIT_ANSWERS_PER_HOUR`), not once per message; any other failure is the caller's.
    async fn limited(
        &mut self,
        customer: &Customer,
        e: StoreError,
        answer: bool,
    ) -> Result<Ingested, IngestError> {
        let reason = match e {
            StoreError::RateLimited { .. } => "rate_limited",
            StoreError::QuotaExceeded { .. } => "quota_exceeded",
            e => return Err(e.into()),
        };
        self.refuse(Refusal {
            reason,
            account: Some(customer),
            detail: None,
            answer,
        })
        .await
    }

    async fn forget_files(&mut self, raw_id: &str) {
        if let Err(e) = self.store.delete_file_row(raw_id).await {
            tracing::warn!(error = %e, "could not remove the record of an unused raw e-mail");
        }
        self.remove_stored().await;
    }

    async fn open_ticket(
        &mut self,
        customer: &Customer,
        department: Department,
        answerable: bool,
    ) -> Result<Ingested, IngestError> {
        if let Some(done) = self.already_written(customer).await? {
            return self
                .accepted(
                    customer,
                    Outcome::NewTicket { code: done.clone() },
                    &done,
                    false,
                )
                .await;
        }
        let lang = Language::of_saved(customer.language.as_deref());
        let subject = parse::ticket_subject(&self.a.subject);
        let subject = if subject.is_empty() {
            texts::mail_no_subject(lang).to_string()
        } else {
            subject
        };
        let services = self.store.services(&customer.id).await?;
        let named = services_named_in(&self.a.subject, &services);
        let service = service_for(&named, department);
        let service_id = service.map(|s| s.id.clone());
        let assessment = assess(
            &subject,
            &SubjectContext {
                department: Some(department),
                chosen_service: None,
                services: &services,
                channel: Channel::Email,
                // The hints go into the answer, written in the customer's language.
                lang,
            },
        );
        let mut advice: Vec<String> = assessment.hints.iter().map(|h| h.message.clone()).collect();
        if named.is_empty() && !assessment.hints.iter().any(|h| h.code == "name_service") {
            let examples: Vec<&str> = services
                .iter()
                .take(2)
                .map(|s| s.identifier.as_str())
                .collect();
            advice.push(texts::advice_name_service(&examples, lang));
        }
        if distinct_names(&named) > 1 {
            let mut names: Vec<&str> = named.iter().map(|s| s.identifier.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            advice.push(texts::advice_one_service(&names, lang));
        }
        let ack =
            answerable && self.store.recent_acknowledgments(&customer.email).await? < ACKS_PER_HOUR;

        let (files, raw_id) = self.store_files(customer).await?;
        let body = if self.a.body.is_empty() {
            texts::mail_no_text(Language::of_saved(customer.language.as_deref()))
        } else {
            self.a.body.as_str()
        };
        let mail = EmailMessage {
            body,
            message_id: self.a.message_id.as_deref(),
            raw_email_id: &raw_id,
            files: &files,
            automatic: false,
            signed: self.a.signed,
        };
        let created = tickets::open_by_email(
            self.store,
            self.config,
            customer,
            department,
            service_id.as_deref(),
            &subject,
            &mail,
            ack.then(|| crate::notify::ByEmail {
                service: service.map(|s| crate::notify::service_name(&s.identifier, &s.product)),
                advice: advice.clone(),
            }),
        )
        .await;
        let ticket = match created {
            Ok(Created::New(t) | Created::Replayed(t)) => {
                self.stored.clear();
                t
            }
            Err(e) => {
                self.forget_files(&raw_id).await;
                return self.limited(customer, e, answerable).await;
            }
        };
        self.accepted(
            customer,
            Outcome::NewTicket {
                code: ticket.code.clone(),
            },
            &ticket.code,
            ack,
        )
        .await
    }
}
