//! The customer's tickets: list, open (with the wizard's rules enforced again), read, reply, close.

use super::extract::ApiJson;
use crate::auth::AuthAccount;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::storage::{Created, ListQuery, Viewer};
use crate::texts::Msg;
use crate::tickets::{self, IdempotencyKey};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use helpdesk_core::api::{
    ErrorResponse, NewReply, NewTicket, Status, Ticket, TicketList, TicketSummary,
};
use helpdesk_core::TicketCode as Code;

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
    let Query(p) = params.map_err(|e| {
        ApiError::BadRequest(Msg::QueryInvalid {
            detail: e.to_string(),
        })
    })?;
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(
            Status::parse(s)
                .ok_or_else(|| ApiError::field("status", "invalid", Msg::StatusUnknown))?,
        ),
    };
    let limit = match p.limit {
        None => 0,
        Some(n) if (1..=PAGE_MAX).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                "out_of_range",
                Msg::PageSize { max: PAGE_MAX },
            ))
        }
    };
    if let Some(c) = p.cursor.as_deref().filter(|c| !cursor_is_valid(c)) {
        tracing::debug!(cursor = c.len(), "malformed cursor");
        return Err(ApiError::field("cursor", "invalid", Msg::CursorInvalid));
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
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<IdempotencyKey>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .and_then(IdempotencyKey::parse)
        .map(Some)
        .ok_or(ApiError::BadRequest(Msg::IdempotencyKeyInvalid))
}

/// The `{code}` of a path: a code as codes are made, or a ticket that is missing.
fn ticket_code(code: &str) -> ApiResult<Code> {
    Code::parse(code).ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/tickets", operation_id = "create_ticket", request_body = NewTicket,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,128}$",
        description = "printable ASCII, at most 128 characters: a retry with the same key returns the same ticket")),
    responses((status = 201, body = Ticket), (status = 200, body = Ticket, description = "replay of an earlier request"),
        (status = 400, body = ErrorResponse, description = "malformed JSON, or a malformed Idempotency-Key"),
        (status = 409, body = ErrorResponse, description = "the Idempotency-Key was used for a different request"),
        (status = 413, body = ErrorResponse, description = "`quota_exceeded`: the e-mail or attachments would pass the bytes the account may keep stored (`HELPDESK_QUOTA_BYTES`)"),
        (status = 422, body = ErrorResponse, description = "a field outside the schema, or a rule no schema can express: a generic subject, a service not the customer's, a description too short once trimmed, an upload not available"),
        (status = 429, body = ErrorResponse, description = "`rate_limited`: the account opened `HELPDESK_RATE_TICKETS` tickets in the current window; `Retry-After` (and `retry_after`) says in how many seconds it may open another",
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 507, body = ErrorResponse, description = "`storage_full`: no space left for the data; nothing was written")))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthAccount,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewTicket>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let key = idempotency_key(&headers)?;
    Ok(
        match tickets::open(
            &state,
            &auth.account,
            &req,
            key.as_ref(),
            crate::error::request_language(&headers),
        )
        .await?
        {
            Created::New(t) => (StatusCode::CREATED, Json(t)),
            Created::Replayed(t) => (StatusCode::OK, Json(t)),
        },
    )
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
        (status = 413, body = ErrorResponse, description = "`quota_exceeded`: the account keeps as many bytes as `HELPDESK_QUOTA_BYTES` allows"),
        (status = 422, body = ErrorResponse, description = "a field outside the schema, or a rule no schema can express: a body empty once trimmed, an upload not available"),
        (status = 429, body = ErrorResponse, description = "`rate_limited`: the account sent `HELPDESK_RATE_REPLIES` replies in the current window; `Retry-After` (and `retry_after`) says in how many seconds it may send another",
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 507, body = ErrorResponse, description = "`storage_full`: no space left for the data; nothing was written")))]
pub async fn reply(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewReply>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let key = idempotency_key(&headers)?;
    let code = ticket_code(&code)?;
    let (t, replayed) = tickets::reply(&state, &auth.account, &code, &req, key.as_ref()).await?;
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
    let code = ticket_code(code)?;
    Ok(Json(
        tickets::set_status(state, &auth.account, &code, to).await?,
    ))
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
