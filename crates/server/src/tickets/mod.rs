//! The rules of a ticket in one place: opening, replying, closing and reopening, their
//! idempotency and the notifications they send. Web handlers and staff tools call these with
//! values already parsed at the edge ([`TicketCode`], [`IdempotencyKey`]); storage records what is
//! decided here.

pub mod allowances;
pub mod status;

use crate::config::{AccountLimits, Config};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::storage::UsageKind;
use crate::storage::{
    Created, IdempotencyRecord, NewMessage, NewTicketRecord, Notification, NotifyContext, Recorded,
    StoreError, StoreResult, StoredFile, TicketDraft, Viewer,
};
use crate::texts::{Language, Refusal};
use crate::util::{random_u64, sha256_hex};
use helpdesk_core::api::{
    AuthorKind, Channel, Customer, Department, NewReply, NewTicket, Priority, StaffReply, Status,
    Ticket, Verdict,
};
use helpdesk_core::limits::{self, char_len};
use helpdesk_core::subject::{assess, SubjectContext};
use helpdesk_core::{text, TicketCode};
use status::Writer;
use std::collections::BTreeMap;
use std::future::Future;

/// An `Idempotency-Key` as the API takes it: printable ASCII, 1 to 128 characters. Optional:
/// two identical requests without one are two tickets or replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
            .then(|| IdempotencyKey(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a request is, for telling a retry (same key, same request) from a reuse of the key.
fn request_hash<T: serde::Serialize>(req: &T) -> ApiResult<String> {
    Ok(sha256_hex(
        &serde_json::to_vec(req).map_err(|e| ApiError::Internal(e.into()))?,
    ))
}

/// A reply's key is scoped to its ticket: the same key sent with replies to two tickets makes two
/// replies. A ticket's key is the customer's own.
fn reply_key(code: &TicketCode, key: &IdempotencyKey) -> String {
    format!("reply:{}:{}", code.as_str(), key.as_str())
}

/// What a write under a key answers: what it made; or, when the key was taken, what the key's
/// first write made if the request is the same, and a refusal if it is another (409).
fn replayed(recorded: Recorded, request_hash: Option<&str>) -> StoreResult<(Ticket, bool)> {
    match recorded {
        Recorded::New(t) => Ok((t, false)),
        Recorded::Prior {
            request_hash: first,
            ticket,
        } if Some(first.as_str()) == request_hash => Ok((ticket, true)),
        Recorded::Prior { .. } => Err(StoreError::IdempotencyMismatch),
    }
}

/// How many codes are drawn before giving up. Codes are random among 26³·10⁸: a draw is taken
/// only when the table is nearly full or when another writer drew the same code at that moment.
const CODE_DRAWS: usize = 32;

/// Runs `attempt` with a code drawn from `draw`, and again with a new one while the database
/// answers that the code is taken ([`StoreError::CodeTaken`]: the attempt wrote nothing). Draws
/// that would spell something offensive are skipped.
async fn with_fresh_code<T, Fut>(
    mut draw: impl FnMut() -> u64,
    mut attempt: impl FnMut(TicketCode) -> Fut,
) -> StoreResult<T>
where
    Fut: Future<Output = StoreResult<T>>,
{
    for _ in 0..CODE_DRAWS {
        let Some(code) = TicketCode::from_random(draw()) else {
            continue;
        };
        match attempt(code).await {
            Err(StoreError::CodeTaken) => continue,
            done => return done,
        }
    }
    Err(StoreError::CodeTaken)
}

/// Records a new ticket as every ticket is made: a fresh code, the status tickets start in, and
/// the key (when given) reserved in the same transaction. A retry with the same key and request
/// answers the first ticket (`Replayed`); with another request it is refused.
pub async fn record_ticket<F>(
    store: &(impl TicketStore + Sync),
    draft: TicketDraft<'_>,
    key: Option<IdempotencyRecord<'_>>,
    ack: F,
) -> StoreResult<Created>
where
    F: FnOnce(&NotifyContext<'_>) -> Option<Notification> + Clone + Send + 'static,
{
    let recorded = with_fresh_code(random_u64, |code| {
        store.create_ticket(
            NewTicketRecord {
                code,
                status: status::OPENED,
                draft: draft.clone(),
                idempotency: key,
            },
            ack.clone(),
        )
    })
    .await?;
    Ok(match replayed(recorded, key.map(|k| k.request_hash))? {
        (t, false) => Created::New(t),
        (t, true) => Created::Replayed(t),
    })
}

/// Adds a message to a ticket the viewer may see; what it does to the ticket's status and thread
/// is [`status::after_message`]'s, decided on the status read in the write's own transaction.
/// `requested` is the status staff asked for. Answers with what the message added, and whether
/// it is a replay of the key's first write.
pub async fn add_message(
    store: &(impl TicketStore + Sync),
    viewer: Viewer<'_>,
    code: &str,
    msg: NewMessage<'_>,
    requested: Option<Status>,
    key: Option<IdempotencyRecord<'_>>,
    notify: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
) -> StoreResult<(Ticket, bool)> {
    let by = Writer::of(&msg, requested);
    let recorded = store
        .add_message(
            viewer,
            code,
            msg,
            key,
            move |current| status::after_message(current, by),
            notify,
        )
        .await?;
    replayed(recorded, key.map(|k| k.request_hash))
}

/// The minimum counts what is left once cleaned (see [`text::multi_line`]) and trimmed; the
/// maximum counts what was sent, as the document's `maxLength` does.
fn check_body(field: &str, sent: &str, cleaned: &str, min: usize) -> ApiResult<()> {
    if char_len(cleaned) < min {
        return Err(refuse(field, Refusal::TextTooShort, min));
    }
    if sent.chars().count() > limits::BODY_MAX_CHARS {
        return Err(refuse(field, Refusal::TextTooLong, limits::BODY_MAX_CHARS));
    }
    Ok(())
}

fn check_upload_count(ids: &[String]) -> ApiResult<()> {
    if ids.len() > limits::MAX_FILES_PER_MESSAGE {
        return Err(refuse(
            "upload_ids",
            Refusal::TooManyFiles,
            limits::MAX_FILES_PER_MESSAGE,
        ));
    }
    Ok(())
}

/// A refusal of one field, in the API's error shape.
fn refuse(field: &str, why: Refusal, n: usize) -> ApiError {
    ApiError::field(field, why.code(), why.msg(n))
}

/// Opens a ticket from the web wizard, enforcing the wizard's rules again (the customer's own
/// service, a subject that says what and where, a description), and queues its acknowledgment.
/// `lang` is the request's: the hints of a refused subject are written in it.
pub async fn open(
    state: &AppState,
    customer: &Customer,
    req: &NewTicket,
    key: Option<&IdempotencyKey>,
    lang: Language,
) -> ApiResult<Created> {
    let services = state.store.services(&customer.id).await?;
    let chosen = match req.service_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => Some(
            services
                .iter()
                .find(|s| s.id == id)
                .ok_or_else(|| refuse("service_id", Refusal::UnknownService, 0))?,
        ),
        None if req.department == Department::Helpdesk => {
            return Err(refuse("service_id", Refusal::ServiceRequired, 0))
        }
        None => None,
    };
    // Counted as sent, as the document's `maxLength` counts.
    if req.subject.chars().count() > limits::SUBJECT_MAX_CHARS {
        return Err(refuse(
            "subject",
            Refusal::SubjectTooLong,
            limits::SUBJECT_MAX_CHARS,
        ));
    }
    // Controls, line breaks and invisible characters go before any rule counts or reads it.
    let subject = text::single_line(&req.subject);
    let subject = subject.as_str();
    if char_len(subject) < limits::SUBJECT_MIN_CHARS {
        return Err(refuse(
            "subject",
            Refusal::SubjectTooShort,
            limits::SUBJECT_MIN_CHARS,
        ));
    }
    let assessment = assess(
        subject,
        &SubjectContext {
            department: Some(req.department),
            chosen_service: chosen,
            services: &services,
            channel: Channel::Web,
            lang,
        },
    );
    if assessment.verdict == Verdict::Generic {
        let mut fields = BTreeMap::new();
        fields.insert(
            "subject".to_string(),
            Refusal::SubjectGeneric.code().to_string(),
        );
        return Err(ApiError::Validation {
            message: Refusal::SubjectGeneric.msg(0),
            fields,
            hints: assessment.hints,
        });
    }
    let description = text::multi_line(&req.description);
    check_body(
        "description",
        &req.description,
        &description,
        limits::DESCRIPTION_MIN_CHARS,
    )?;
    check_upload_count(&req.upload_ids)?;

    let hash = request_hash(req)?;
    let composer = state.clone();
    let created = record_ticket(
        &state.store,
        TicketDraft {
            account_id: &customer.id,
            department: req.department,
            service_id: chosen.map(|s| s.id.as_str()),
            subject,
            priority: req.priority,
            channel: Channel::Web,
            first: NewMessage {
                upload_ids: &req.upload_ids,
                charge: state.config.limits.charge(customer, UsageKind::Tickets, 1),
                ..NewMessage::text(
                    customer,
                    AuthorKind::Customer,
                    Channel::Web,
                    description.trim(),
                )
            },
        },
        key.map(|k| IdempotencyRecord {
            account_id: &customer.id,
            key: k.as_str(),
            request_hash: &hash,
        }),
        move |ctx| Some(crate::notify::acknowledgment(&composer.config, ctx, None)),
    )
    .await?;
    if let Created::New(t) = &created {
        state.outbox_wake.notify_one();
        tracing::info!(code = %t.code, "ticket opened");
    }
    Ok(created)
}

/// A customer's reply from the web: the ticket becomes `open` (a closed one is reopened, which
/// the thread shows as an event). Answers with what the reply added, and whether it is a replay.
pub async fn reply(
    state: &AppState,
    customer: &Customer,
    code: &TicketCode,
    req: &NewReply,
    key: Option<&IdempotencyKey>,
) -> ApiResult<(Ticket, bool)> {
    let body = text::multi_line(&req.body);
    check_body("body", &req.body, &body, limits::REPLY_MIN_CHARS)?;
    check_upload_count(&req.upload_ids)?;
    let hash = request_hash(req)?;
    let scoped = key.map(|k| reply_key(code, k));
    add_message(
        &state.store,
        Viewer::Customer(&customer.id),
        code.as_str(),
        NewMessage {
            upload_ids: &req.upload_ids,
            charge: state.config.limits.charge(customer, UsageKind::Replies, 1),
            ..NewMessage::text(customer, AuthorKind::Customer, Channel::Web, body.trim())
        },
        None,
        scoped.as_deref().map(|k| IdempotencyRecord {
            account_id: &customer.id,
            key: k,
            request_hash: &hash,
        }),
        // A customer's own reply is not mailed back to them.
        |_| None,
    )
    .await
    .map_err(Into::into)
}

/// Closes (`Status::Closed`) or reopens (`Status::Open`) a customer's ticket; the change shows in
/// the thread as an event. Nothing changes, and no event is added, when it is so already.
pub async fn set_status(
    state: &AppState,
    customer: &Customer,
    code: &TicketCode,
    to: Status,
) -> ApiResult<Ticket> {
    Ok(state
        .store
        .set_status(
            Viewer::Customer(&customer.id),
            code.as_str(),
            (AuthorKind::Customer, Some(&customer.id), &customer.name),
            move |current| status::on_request(current, to),
        )
        .await?)
}

/// A staff reply, for the API, the `staff reply` command and the demo data: the ticket then waits
/// for the customer (or takes the status asked for) and the customer is notified by e-mail.
pub async fn staff_reply(
    state: &AppState,
    staff: &Customer,
    code: &str,
    req: &StaffReply,
) -> ApiResult<Ticket> {
    // Empty once cleaned and trimmed, or longer as sent than the document's `maxLength`.
    let body = text::multi_line(&req.body);
    if char_len(&body) == 0 || req.body.chars().count() > limits::BODY_MAX_CHARS {
        return Err(refuse("body", Refusal::StaffReplyLength, 0));
    }
    let composer = state.clone();
    let (name, body) = (staff.name.clone(), body.trim().to_string());
    let (t, _) = add_message(
        &state.store,
        Viewer::Staff,
        code,
        // Written in the helpdesk's own tools, never on the customers' website.
        NewMessage::text(staff, AuthorKind::Staff, Channel::Staff, &body.clone()),
        req.status,
        None,
        move |ctx| {
            Some(crate::notify::staff_reply(
                &composer.config,
                ctx,
                &name,
                &body,
            ))
        },
    )
    .await?;
    state.outbox_wake.notify_one();
    Ok(t)
}

/// What an accepted e-mail brings to a ticket: its text, its Message-ID, its raw mail and its
/// attachments, both already stored as files of the customer.
pub struct EmailMessage<'a> {
    pub body: &'a str,
    pub message_id: Option<&'a str>,
    pub raw_email_id: &'a str,
    pub files: &'a [StoredFile],
    /// Automatic mail (an out-of-office) joins the thread but changes no status.
    pub automatic: bool,
    /// It came signed (S/MIME or PGP/MIME).
    pub signed: bool,
}

impl<'a> EmailMessage<'a> {
    /// The message, counted against the customer's limits as `kind` (automatic mail is not).
    fn as_new_message(
        &self,
        customer: &'a Customer,
        limits: &AccountLimits,
        kind: UsageKind,
    ) -> NewMessage<'a> {
        let mut charge = limits.charge(customer, kind, 1);
        if self.automatic {
            charge.rate = None;
        }
        NewMessage {
            author_kind: AuthorKind::Customer,
            author_account_id: Some(&customer.id),
            author_name: &customer.name,
            channel: Channel::Email,
            body: self.body,
            automatic: self.automatic,
            signed: self.signed,
            email_message_id: self.message_id,
            raw_email_id: Some(self.raw_email_id),
            upload_ids: &[],
            files: self.files,
            charge,
        }
    }
}

/// A customer's e-mail joining their own ticket (the e-mail intake): like a reply from the web,
/// it makes the ticket `open`, unless it is automatic. `None` when the ticket is not theirs.
pub async fn reply_by_email(
    store: &(impl TicketStore + Sync),
    limits: &AccountLimits,
    customer: &Customer,
    code: &TicketCode,
    mail: &EmailMessage<'_>,
) -> StoreResult<Option<Ticket>> {
    match add_message(
        store,
        Viewer::Customer(&customer.id),
        code.as_str(),
        mail.as_new_message(customer, limits, UsageKind::Replies),
        None,
        None,
        |_| None,
    )
    .await
    {
        Ok((t, _)) => Ok(Some(t)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A ticket opened by e-mail (the seed's method B): always priority *bassa*; acknowledged, with
/// its service and the advice given, when `acknowledge` says so.
#[allow(clippy::too_many_arguments)]
pub async fn open_by_email(
    store: &(impl TicketStore + Sync),
    config: &Config,
    customer: &Customer,
    department: Department,
    service_id: Option<&str>,
    subject: &str,
    mail: &EmailMessage<'_>,
    acknowledge: Option<crate::notify::ByEmail>,
) -> StoreResult<Created> {
    let config = config.clone();
    record_ticket(
        store,
        TicketDraft {
            account_id: &customer.id,
            department,
            service_id,
            subject,
            priority: Priority::Low,
            channel: Channel::Email,
            first: mail.as_new_message(customer, &config.limits, UsageKind::Tickets),
        },
        None,
        move |ctx| {
            acknowledge
                .as_ref()
                .map(|by_email| crate::notify::acknowledgment(&config, ctx, Some(by_email)))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_printable_ascii_of_at_most_128() {
        assert_eq!(
            IdempotencyKey::parse(" abc-1 ").map(|k| k.0),
            Some("abc-1".into())
        );
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("con spazio").is_none());
        assert!(IdempotencyKey::parse("è").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(128)).is_some());
    }

    /// 64 random bits whose letters spell "ASS": a code never drawn.
    const OFFENSIVE_DRAW: u64 = 18 * 26 + 18 * 26 * 26;

    #[tokio::test]
    async fn a_taken_code_is_drawn_again_and_an_offensive_one_never_tried() {
        let draws = [OFFENSIVE_DRAW, 1, 2, 3];
        let mut next = draws.iter().copied();
        let mut tried = Vec::new();
        let made = with_fresh_code(
            || next.next().unwrap_or(9),
            |code| {
                tried.push(code.as_str().to_string());
                let n = tried.len();
                async move {
                    if n < 3 {
                        Err(StoreError::CodeTaken)
                    } else {
                        Ok(code)
                    }
                }
            },
        )
        .await;
        let codes: Vec<String> = [1, 2, 3]
            .into_iter()
            .filter_map(TicketCode::from_random)
            .map(|c| c.as_str().to_string())
            .collect();
        assert_eq!(
            tried, codes,
            "the offensive draw is skipped, each taken one redrawn"
        );
        assert_eq!(
            made.ok().map(|c| c.as_str().to_string()),
            codes.last().cloned()
        );
    }

    #[tokio::test]
    async fn the_draw_gives_up_after_its_limit_and_other_errors_are_not_retried() {
        let mut n = 0u64;
        let mut tries = 0;
        let r: StoreResult<()> = with_fresh_code(
            || {
                n += 1;
                n
            },
            |_| {
                tries += 1;
                async { Err(StoreError::CodeTaken) }
            },
        )
        .await;
        assert!(matches!(r, Err(StoreError::CodeTaken)));
        assert_eq!(tries, CODE_DRAWS);

        let mut tries = 0;
        let r: StoreResult<()> = with_fresh_code(
            || 7,
            |_| {
                tries += 1;
                async { Err(StoreError::NotFound) }
            },
        )
        .await;
        assert!(matches!(r, Err(StoreError::NotFound)));
        assert_eq!(tries, 1);
    }

    fn a_ticket(code: &str) -> Ticket {
        serde_json::from_value(serde_json::json!({
            "code": code, "subject": "s", "department": "helpdesk", "service": null,
            "status": "open", "priority": "normal", "channel": "web",
            "created_at": "2026-01-01T00:00:00Z", "last_activity_at": "2026-01-01T00:00:00Z",
            "messages": []
        }))
        .expect("a ticket")
    }

    #[test]
    fn a_taken_key_replays_the_same_request_and_refuses_another() {
        let prior = |hash: &str| Recorded::Prior {
            request_hash: hash.into(),
            ticket: a_ticket("ABC-123-45678"),
        };
        let new = replayed(Recorded::New(a_ticket("ABC-123-45678")), Some("h1"));
        assert!(matches!(new, Ok((_, false))));
        assert!(matches!(replayed(prior("h1"), Some("h1")), Ok((_, true))));
        assert!(matches!(
            replayed(prior("h1"), Some("h2")),
            Err(StoreError::IdempotencyMismatch)
        ));
        assert!(matches!(
            replayed(prior("h1"), None),
            Err(StoreError::IdempotencyMismatch)
        ));
    }
}
