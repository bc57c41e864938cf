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

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/tickets", params(ListParams),
    responses((status = 200, body = TicketList), (status = 401, body = ErrorResponse)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthAccount,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<TicketList>> {
    let Query(p) =
        params.map_err(|e| ApiError::BadRequest(format!("Parametri non validi: {e}")))?;
    let status = match p.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::field(
                "status",
                "invalid",
                "Stato sconosciuto: usa open, awaiting_customer o closed.",
            )
        })?),
    };
    let q = ListQuery {
        status,
        q: p.q
            .filter(|q| !q.trim().is_empty())
            .map(|q| q.chars().take(200).collect()),
        cursor: p.cursor,
        limit: p.limit.unwrap_or(0),
    };
    Ok(Json(state.store.list_tickets(&auth.account.id, &q).await?))
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

fn check_body(field: &str, text: &str, min: usize) -> ApiResult<()> {
    let n = char_len(text);
    if n < min {
        return Err(ApiError::field(
            field,
            "too_short",
            format!("Il testo è troppo breve: scrivi almeno {min} caratteri."),
        ));
    }
    if n > limits::BODY_MAX_CHARS {
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

#[utoipa::path(post, path = "/api/v1/tickets", request_body = NewTicket,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the same ticket")),
    responses((status = 201, body = Ticket), (status = 200, body = Ticket, description = "replay of an earlier request"),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
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
    let subject = req.subject.trim();
    if char_len(subject) > limits::SUBJECT_MAX_CHARS {
        return Err(ApiError::field(
            "subject",
            "too_long",
            format!(
                "L'oggetto è troppo lungo: al massimo {} caratteri.",
                limits::SUBJECT_MAX_CHARS
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
    check_body(
        "description",
        &req.description,
        limits::DESCRIPTION_MIN_CHARS,
    )?;
    check_upload_count(&req.upload_ids)?;

    let hash = sha256_hex(&serde_json::to_vec(&req).map_err(|e| ApiError::Internal(e.into()))?);
    let description = req.description.trim();
    let config = &state.config;
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
            |ctx| Some(crate::notify::acknowledgment(config, ctx, &[])),
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

#[utoipa::path(get, path = "/api/v1/tickets/{code}", params(("code" = String, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorResponse)))]
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

#[utoipa::path(post, path = "/api/v1/tickets/{code}/messages", request_body = NewReply, params(("code" = String, Path)),
    responses((status = 201, body = Ticket), (status = 404, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn reply(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewReply>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let key = idempotency_key(&headers)?;
    check_body("body", &req.body, limits::REPLY_MIN_CHARS)?;
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
                    req.body.trim(),
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

#[utoipa::path(post, path = "/api/v1/tickets/{code}/close", params(("code" = String, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorResponse)))]
pub async fn close(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(code): Path<String>,
) -> ApiResult<Json<Ticket>> {
    change_status(&state, &auth, &code, Status::Closed).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{code}/reopen", params(("code" = String, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorResponse)))]
pub async fn reopen(
    State(state): State<AppState>,
    auth: AuthAccount,
    Path(code): Path<String>,
) -> ApiResult<Json<Ticket>> {
    change_status(&state, &auth, &code, Status::Open).await
}

/// The customer's tickets still open on a service: the wizard shows them before a duplicate.
#[utoipa::path(get, path = "/api/v1/services/{id}/open-tickets", params(("id" = String, Path)),
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
