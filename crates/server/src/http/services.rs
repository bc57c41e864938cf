//! The customer's services, and the subject-quality check the wizard also runs locally.

use super::extract::ApiJson;
use crate::auth::AuthAccount;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::texts::{Msg, Refusal};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use helpdesk_core::api::{
    AssessRequest, Assessment, Channel, ErrorResponse, MailRejectionList, ServiceList,
};
use helpdesk_core::limits;
use helpdesk_core::subject::{assess, SubjectContext};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(services))
        .route("/subjects/assess", post(assess_subject))
        .route("/mail-rejections", get(mail_rejections))
}

#[utoipa::path(get, path = "/api/v1/services", responses((status = 200, body = ServiceList), (status = 401, body = ErrorResponse)))]
pub async fn services(
    State(state): State<AppState>,
    auth: AuthAccount,
) -> ApiResult<Json<ServiceList>> {
    Ok(Json(ServiceList {
        items: state.store.services(&auth.account.id).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/subjects/assess", request_body = AssessRequest,
    responses((status = 200, body = Assessment),
        (status = 422, body = ErrorResponse, description = "a field outside the schema, or a service not the customer's")))]
pub async fn assess_subject(
    State(state): State<AppState>,
    auth: AuthAccount,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<AssessRequest>,
) -> ApiResult<Json<Assessment>> {
    // Counted as sent, as the document's `maxLength` counts; the wizard's field stops there too.
    if req.subject.chars().count() > limits::SUBJECT_MAX_CHARS {
        let why = Refusal::SubjectTooLong;
        return Err(ApiError::field(
            "subject",
            why.code(),
            why.msg(limits::SUBJECT_MAX_CHARS),
        ));
    }
    let services = state.store.services(&auth.account.id).await?;
    let chosen = match req.service_id.as_deref() {
        Some(id) => Some(services.iter().find(|s| s.id == id).ok_or_else(|| {
            ApiError::field("service_id", "unknown_service", Msg::ServiceUnknown)
        })?),
        None => None,
    };
    Ok(Json(assess(
        &req.subject,
        &SubjectContext {
            department: req.department,
            chosen_service: chosen,
            services: &services,
            channel: Channel::Web,
            // The hints are read on the page the customer is on: in the request's language.
            lang: crate::error::request_language(&headers),
        },
    )))
}

#[utoipa::path(get, path = "/api/v1/mail-rejections", responses((status = 200, body = MailRejectionList)))]
/// The customer's refused e-mails, newest first, each with why, and with what they wrote (text
/// and attachment names) while its raw mail is kept.
pub async fn mail_rejections(
    State(state): State<AppState>,
    auth: AuthAccount,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<MailRejectionList>> {
    // Shown on the page the customer is reading: in the language the request asks for.
    let lang = crate::error::request_language(&headers);
    let refused = state.store.mail_rejections(&auth.account.id, lang).await?;
    let items = crate::mail::refused_with_text(&state.store, &state.config, refused).await;
    Ok(Json(MailRejectionList { items }))
}
