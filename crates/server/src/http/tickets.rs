//! The customer's tickets: list, open (with the wizard's rules enforced again), read, reply, close.

use super::extract::ApiJson;
use crate::auth::AuthAccount;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::{Created, ListQuery, NewMessage, NewTicketRecord, Viewer};
use crate::util::sha256_hex;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use helpdesk_core::api::{
    AuthorKind, Channel, Department, ErrorResponse, NewReply, NewTicket, Status, Ticket,
    TicketList, TicketSummary, Verdict,
};
use helpdesk_core::limits::{self, char_len};
use helpdesk_core::subject::{assess, SubjectContext};
use helpdesk_core::text;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets", get(list).post(create))
        .route("/tickets/{code}", get(show))
        .route("/tickets/{code}/messages", post(reply))
        .route("/tickets/{code}/close", post(close))
        .route("/tickets/{code}/reopen", post(reopen))
        .route("/services/{id}/open-tickets", get(open_on_service))
}

/// The `{code}` of a ticket's paths, as codes are made (`FPL-809-43017`); any other is missing.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path, names("code"))]
pub struct TicketCode(#[param(pattern = "^[A-Z]{3}-[0-9]{3}-[0-9]{5}$")] pub String);

/// Largest page of the ticket list.
pub const PAGE_MAX: u32 = 100;

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only tickets in this status.
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    /// Words that the code or the subject must contain (the first 200 characters count).
    q: Option<String>,
    /// `next_cursor` of the page before.
    #[param(pattern = "^[0-9]{1,18}_[0-9]{1,18}$")]
    cursor: Option<String>,
    /// Tickets per page (25 when absent).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/tickets", params(ListParams),
    responses((status = 200, body = TicketList),
        (status = 400, body = ErrorResponse, description = "an unknown parameter, or one of the wrong type"),
        (status = 422, body = ErrorResponse, description = "a status, cursor or limit outside what is documented")))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthAccount,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<TicketList>> {
    let Query(p) =
        params.map_err(|e| ApiError::BadRequest(format!("Parametri non validi: {e}")))?;
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::field(
                "status",
                "invalid",
                "Stato sconosciuto: usa open, awaiting_customer o closed.",
            )
        })?),
    };
    let limit = match p.limit {
        None => 0,
        Some(n) if (1..=PAGE_MAX).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                "out_of_range",
                format!("Il numero di ticket per pagina va da 1 a {PAGE_MAX}."),
            ))
        }
    };
    if let Some(c) = p.cursor.as_deref().filter(|c| !cursor_is_valid(c)) {
        tracing::debug!(cursor = c.len(), "malformed cursor");
        return Err(ApiError::field(
            "cursor",
            "invalid",
            "Il segnaposto della pagina non è valido: ricarica l'elenco.",
        ));
    }
    let q = ListQuery {
        status,
        q: p.q
            .filter(|q| !q.trim().is_empty())
            .map(|q| q.chars().take(200).collect()),
        cursor: p.cursor,
        limit,
    };
    Ok(Json(state.store.list_tickets(&auth.account.id, &q).await?))
}

/// A cursor as the list hands it out: two numbers joined by `_` (the documented pattern; 18
/// digits at most, so that each fits an i64).
fn cursor_is_valid(c: &str) -> bool {
    c.split_once('_').is_some_and(|(a, b)| {
        [a, b]
            .iter()
            .all(|n| (1..=18).contains(&n.len()) && n.bytes().all(|d| d.is_ascii_digit()))
    })
}

/// The `Idempotency-Key` header, if sent: printable ASCII, at most 128 characters.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| ApiError::BadRequest("Idempotency-Key non valida.".into()))?;
    Ok(Some(s.to_string()))
}

/// The minimum counts what is left once cleaned (see [`text::multi_line`]) and trimmed; the
/// maximum counts what was sent, as the document's `maxLength` does.
fn check_body(field: &str, sent: &str, cleaned: &str, min: usize) -> ApiResult<()> {
    if char_len(cleaned) < min {
        return Err(ApiError::field(
            field,
            "too_short",
            format!("Il testo è troppo breve: scrivi almeno {min} caratteri."),
        ));
    }
    if sent.chars().count() > limits::BODY_MAX_CHARS {
        return Err(ApiError::field(
            field,
            "too_long",
            format!(
                "Il testo è troppo lungo: al massimo {} caratteri.",
                limits::BODY_MAX_CHARS
            ),
        ));
    }
    Ok(())
}

fn check_upload_count(ids: &[String]) -> ApiResult<()> {
    if ids.len() > limits::MAX_FILES_PER_MESSAGE {
        return Err(ApiError::field(
            "upload_ids",
            "too_many",
            format!(
                "Al massimo {} allegati per messaggio.",
                limits::MAX_FILES_PER_MESSAGE
            ),
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/tickets", operation_id = "create_ticket", request_body = NewTicket,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,128}$",
        description = "printable ASCII, at most 128 characters: a retry with the same key returns the same ticket")),
    responses((status = 201, body = Ticket), (status = 200, body = Ticket, description = "replay of an earlier request"),
        (status = 400, body = ErrorResponse, description = "malformed JSON, or a malformed Idempotency-Key"),
        (status = 409, body = ErrorResponse, description = "the Idempotency-Key was used for a different request"),
        (status = 422, body = ErrorResponse, description = "a field outside the schema, or a rule no schema can express: a generic subject, a service not the customer's, a description too short once trimmed, an upload not available")))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthAccount,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewTicket>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let key = idempotency_key(&headers)?;
    let services = state.store.services(&auth.account.id).await?;
    let chosen = match req.service_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => Some(services.iter().find(|s| s.id == id).ok_or_else(|| {
            ApiError::field(
                "service_id",
                "unknown_service",
                "Il servizio scelto non è tra i tuoi servizi.",
            )
        })?),
        None if req.department == Department::Helpdesk => {
            return Err(ApiError::field(
                "service_id",
                "service_required",
                "Per l'assistenza tecnica indica il servizio o il dominio interessato.",
            ))
        }
        None => None,
    };
    // Counted as sent, as the document's `maxLength` counts.
    if req.subject.chars().count() > limits::SUBJECT_MAX_CHARS {
        return Err(ApiError::field(
            "subject",
            "too_long",
            format!(
                "L'oggetto è troppo lungo: al massimo {} caratteri.",
                limits::SUBJECT_MAX_CHARS
            ),
        ));
    }
    // Controls, line breaks and invisible characters go before any rule counts or reads it.
    let subject = text::single_line(&req.subject);
    let subject = subject.as_str();
    if char_len(subject) < limits::SUBJECT_MIN_CHARS {
        return Err(ApiError::field(
            "subject",
            "too_short",
            format!(
                "L'oggetto è troppo breve: scrivi almeno {} caratteri.",
                limits::SUBJECT_MIN_CHARS
            ),
        ));
    }
    let assessment = assess(
        subject,
        &SubjectContext {
            department: Some(req.department),
            chosen_service: chosen,
            services: &services,
            channel: Channel::Web,
        },
    );
    if assessment.verdict == Verdict::Generic {
        let mut fields = BTreeMap::new();
        fields.insert("subject".to_string(), "subject_generic".to_string());
        return Err(ApiError::Validation {
            message: "L'oggetto è troppo generico: di' cosa non funziona e dove.".into(),
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

    let hash = sha256_hex(&serde_json::to_vec(&req).map_err(|e| ApiError::Internal(e.into()))?);
    let description = description.trim();
    let composer = state.clone();
    let created = state
        .store
        .create_ticket(
            NewTicketRecord {
                account_id: &auth.account.id,
                department: req.department,
                service_id: chosen.map(|s| s.id.as_str()),
                subject,
                priority: req.priority,
                channel: Channel::Web,
                first: NewMessage {
                    upload_ids: &req.upload_ids,
                    ..NewMessage::text(
                        &auth.account,
                        AuthorKind::Customer,
                        Channel::Web,
                        description,
                    )
                },
                idempotency: key.as_deref().map(|k| (k, hash.as_str())),
            },
            move |ctx| Some(crate::notify::acknowledgment(&composer.config, ctx, &[])),
        )
        .await?;
    Ok(match created {
        Created::New(t) => {
            state.outbox_wake.notify_one();
            tracing::info!(code = %t.code, "ticket opened");
            (StatusCode::CREATED, Json(t))
        }
        Created::Replayed(t) => (StatusCode::OK, Json(t)),
    })
}

#[utoipa::path(get, path = "/api/v1/tickets/{code}", operation_id = "ticket", params(TicketCode),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorResponse, description = "no such ticket, or not the caller's")))]
pub async fn show(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(code): Path<String>,
) -> ApiResult<Json<Ticket>> {
    let t = state
        .store
        .ticket(Viewer::Customer(&auth.account.id), &code)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(t))
}

#[utoipa::path(post, path = "/api/v1/tickets/{code}/messages", request_body = NewReply,
    params(TicketCode, ("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,128}$",
        description = "printable ASCII, at most 128 characters: a retry with the same key adds no second message")),
    responses((status = 201, body = Ticket, description = "the ticket's own fields as they are now; `messages` holds only what this reply added: the message, and the event when it reopened a closed ticket"),
        (status = 200, body = Ticket, description = "replay of an earlier request: the ticket's fields, with what that request added"),
        (status = 400, body = ErrorResponse, description = "malformed JSON, or a malformed Idempotency-Key"),
        (status = 404, body = ErrorResponse, description = "no such ticket, or not the caller's"),
        (status = 409, body = ErrorResponse, description = "the Idempotency-Key was used for a different request"),
        (status = 422, body = ErrorResponse, description = "a field outside the schema, or a rule no schema can express: a body empty once trimmed, an upload not available")))]
pub async fn reply(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewReply>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let key = idempotency_key(&headers)?;
    let body = text::multi_line(&req.body);
    check_body("body", &req.body, &body, limits::REPLY_MIN_CHARS)?;
    check_upload_count(&req.upload_ids)?;
    let hash = sha256_hex(&serde_json::to_vec(&req).map_err(|e| ApiError::Internal(e.into()))?);
    let (t, replayed) = state
        .store
        .add_message(
            Viewer::Customer(&auth.account.id),
            &code,
            NewMessage {
                upload_ids: &req.upload_ids,
                ..NewMessage::text(
                    &auth.account,
                    AuthorKind::Customer,
                    Channel::Web,
                    body.trim(),
                )
            },
            None,
            key.as_deref().map(|k| (k, hash.as_str())),
            |_| None,
        )
        .await?;
    Ok((
        if replayed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(t),
    ))
}

async fn change_status(
    state: &AppState,
    auth: &AuthAccount,
    code: &str,
    to: Status,
) -> ApiResult<Json<Ticket>> {
    let t = state
        .store
        .set_status(
            Viewer::Customer(&auth.account.id),
            code,
            to,
            (
                AuthorKind::Customer,
                Some(&auth.account.id),
                &auth.account.name,
            ),
        )
        .await?;
    Ok(Json(t))
}

#[utoipa::path(post, path = "/api/v1/tickets/{code}/close", params(TicketCode),
    responses((status = 200, body = Ticket, description = "the ticket's own fields as they are now; `messages` holds only the status event (none when it was closed already)"), (status = 404, body = ErrorResponse, description = "no such ticket, or not the caller's")))]
pub async fn close(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(code): Path<String>,
) -> ApiResult<Json<Ticket>> {
    change_status(&state, &auth, &code, Status::Closed).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{code}/reopen", params(TicketCode),
    responses((status = 200, body = Ticket, description = "the ticket's own fields as they are now; `messages` holds only the status event (none when it was open already)"), (status = 404, body = ErrorResponse, description = "no such ticket, or not the caller's")))]
pub async fn reopen(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(code): Path<String>,
) -> ApiResult<Json<Ticket>> {
    change_status(&state, &auth, &code, Status::Open).await
}

/// The customer's tickets still open on a service: the wizard shows them before a duplicate.
#[utoipa::path(get, path = "/api/v1/services/{id}/open-tickets",
    params(("id" = String, Path, description = "one of the customer's services (another id, anyone's, has no tickets)")),
    responses((status = 200, body = [TicketSummary])))]
pub async fn open_on_service(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TicketSummary>>> {
    Ok(Json(
        state
            .store
            .open_tickets_on_service(&auth.account.id, &id)
            .await?,
    ))
}
