//! Logging in and out, and who is logged in.

use super::extract::ApiJson;
use crate::auth::{verify_password, AuthAccount};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::util::{now_us, random_token, sha256_hex};
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use helpdesk_core::api::{Customer, ErrorResponse, LoginRequest, LoginResponse};
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/session", post(login).delete(logout))
        .route("/me", get(me))
}

#[utoipa::path(post, path = "/api/v1/session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorResponse), (status = 429, body = ErrorResponse)))]
pub async fn login(
    State(state): State<AppState>,
    ext: Extensions,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let email = crate::util::normalise_email(&req.email);
    if email.is_empty() || req.password.is_empty() || email.len() > 254 || req.password.len() > 1024
    {
        return Err(ApiError::InvalidCredentials);
    }
    let address = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let account_key = format!("account:{email}");
    let address_key = format!("address:{address}");
    if let Some(wait) = state
        .login_by_account
        .check(&account_key)
        .or_else(|| state.login_by_address.check(&address_key))
    {
        return Err(ApiError::TooManyAttempts { retry_after: wait });
    }

    let row = state.store.account_by_email(&email).await?;
    // Unknown e-mails are checked against a dummy hash: both failures cost the same time.
    let hash = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let password = req.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let Some(row) = row.filter(|_| ok) else {
        state.login_by_account.fail(&account_key);
        state.login_by_address.fail(&address_key);
        return Err(ApiError::InvalidCredentials);
    };
    state.login_by_account.clear(&account_key);

    let token = random_token();
    let expires = now_us() + state.config.session_absolute_secs * 1_000_000;
    state
        .store
        .create_session(&sha256_hex(token.as_bytes()), &row.customer.id, expires)
        .await?;
    tracing::info!(account = %row.customer.id, "login");
    Ok(Json(LoginResponse {
        token,
        customer: row.customer,
    }))
}

#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204), (status = 401, body = ErrorResponse)))]
pub async fn logout(State(state): State<AppState>, auth: AuthAccount) -> ApiResult<StatusCode> {
    state.store.delete_session(&auth.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Customer), (status = 401, body = ErrorResponse)))]
pub async fn me(auth: AuthAccount) -> Json<Customer> {
    Json(auth.account)
}
