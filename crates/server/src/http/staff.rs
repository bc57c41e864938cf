//! Staff answers: the one staff-only endpoint (no agent console in this product).

use super::extract::ApiJson;
use crate::auth::StaffAccount;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use helpdesk_core::api::{ErrorResponse, StaffReply, Ticket};

pub fn router() -> Router<AppState> {
    Router::new().route("/staff/tickets/{code}/messages", post(reply))
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
