//! Staff answers: the one staff-only endpoint (no agent console in this product).

use super::extract::ApiJson;
use crate::auth::StaffAccount;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::texts::Msg;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use helpdesk_core::api::{ErrorResponse, StaffMailList, StaffReply, Ticket};
use serde::Deserialize;

/// Records `GET /staff/mail` lists at most.
pub const STAFF_MAIL_LIMIT: i64 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/tickets/{code}/messages", post(reply))
        .route("/staff/mail", get(mail))
}

#[utoipa::path(post, path = "/api/v1/staff/tickets/{code}/messages", operation_id = "staff_reply",
    request_body = StaffReply, params(super::tickets::TicketCode),
    responses((status = 201, body = Ticket, description = "the ticket's own fields as they are now; `messages` holds only what this reply added (the message, and the event when it closed the ticket)"),
        (status = 403, body = ErrorResponse, description = "the caller is not staff"),
        (status = 404, body = ErrorResponse, description = "no such ticket"),
        (status = 422, body = ErrorResponse, description = "a field outside the schema, or a body empty once trimmed")))]
pub async fn reply(
    State(state): State<AppState>,
    StaffAccount(staff): StaffAccount,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<StaffReply>,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let t = crate::tickets::staff_reply(&state, &staff, &code, &req).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MailQuery {
    /// Only what concerns this address: mail it sent, mail of its account, bounces naming it.
    pub address: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/staff/mail", operation_id = "staff_mail", params(MailQuery),
    responses((status = 200, body = StaffMailList, description = "the latest refused e-mails (automatic mail and bounces among them), newest first, and the addresses our e-mails do not reach"),
        (status = 400, body = ErrorResponse, description = "an unknown parameter"),
        (status = 403, body = ErrorResponse, description = "the caller is not staff")))]
pub async fn mail(
    State(state): State<AppState>,
    StaffAccount(_staff): StaffAccount,
    params: Result<Query<MailQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<StaffMailList>> {
    let Query(q) = params.map_err(|e| {
        ApiError::BadRequest(Msg::QueryInvalid {
            detail: e.to_string(),
        })
    })?;
    let address = q
        .address
        .map(|a| crate::util::normalise_email(&a))
        .filter(|a| !a.is_empty());
    Ok(Json(
        state
            .store
            .staff_mail(address.as_deref(), STAFF_MAIL_LIMIT)
            .await?,
    ))
}
