//! The rules of a ticket in one place: opening, replying, closing and reopening, their
//! idempotency and the notifications they send. Web handlers and staff tools call these with
//! values already parsed at the edge ([`TicketCode`], [`IdempotencyKey`]); storage records what is
//! decided here.

pub mod allowances;

use crate::config::{AccountLimits, Config};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::storage::UsageKind;
use crate::storage::{
    Created, NewMessage, NewTicketRecord, StoreError, StoreResult, StoredFile, Viewer,
};
use crate::texts::{Language, Refusal};
use crate::util::sha256_hex;
use helpdesk_core::api::{
    AuthorKind, Channel, Customer, Department, NewReply, NewTicket, Priority, StaffReply, Status,
    Ticket, Verdict,
};
use helpdesk_core::limits::{self, char_len};
use helpdesk_core::subject::{assess, SubjectContext};
use helpdesk_core::{text, TicketCode};
use std::collections::BTreeMap;

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
    let created = state
        .store
        .create_ticket(
            NewTicketRecord {
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
                idempotency: key.map(|k| (k.as_str(), hash.as_str())),
            },
            move |ctx| Some(crate::notify::acknowledgment(&composer.config, ctx, &[])),
        )
        .await
        .map_err(|e| allowances::refusal(&state.config.limits, e))?;
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
    state
        .store
        .add_message(
            Viewer::Customer(&customer.id),
            code.as_str(),
            NewMessage {
                upload_ids: &req.upload_ids,
                charge: state.config.limits.charge(customer, UsageKind::Replies, 1),
                ..NewMessage::text(customer, AuthorKind::Customer, Channel::Web, body.trim())
            },
            None,
            key.map(|k| (k.as_str(), hash.as_str())),
            // A customer's own reply is not mailed back to them.
            |_| None,
        )
        .await
        .map_err(|e| allowances::refusal(&state.config.limits, e))
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
            to,
            (AuthorKind::Customer, Some(&customer.id), &customer.name),
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
    let (t, _) = state
        .store
        .add_message(
            Viewer::Staff,
            code,
            NewMessage::text(staff, AuthorKind::Staff, Channel::Web, &body.clone()),
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
    match store
        .add_message(
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
/// the advice given, when `acknowledge` says so.
#[allow(clippy::too_many_arguments)]
pub async fn open_by_email(
    store: &(impl TicketStore + Sync),
    config: &Config,
    customer: &Customer,
    department: Department,
    service_id: Option<&str>,
    subject: &str,
    mail: &EmailMessage<'_>,
    acknowledge: Option<Vec<String>>,
) -> StoreResult<Created> {
    let config = config.clone();
    store
        .create_ticket(
            NewTicketRecord {
                account_id: &customer.id,
                department,
                service_id,
                subject,
                priority: Priority::Low,
                channel: Channel::Email,
                first: mail.as_new_message(customer, &config.limits, UsageKind::Tickets),
                idempotency: None,
            },
            move |ctx| {
                acknowledge.map(|advice| crate::notify::acknowledgment(&config, ctx, &advice))
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
}
