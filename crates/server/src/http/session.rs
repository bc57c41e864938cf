//! Logging in and out, and who is logged in.

use super::extract::ApiJson;
use crate::auth::{verify_password, AuthAccount};
use crate::error::{ApiError, ApiResult, LockoutWarning};
use crate::guard::{self, ClientIp, Throttle, DEVICE_TTL};
use crate::sso;
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::texts::{Language, Msg};
use crate::util::{now_us, random_token, sha256_hex};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use helpdesk_core::api::{
    Customer, ErrorResponse, LoginRequest, LoginResponse, Me, MeUpdate, Role, SsoRequest,
};
use std::time::Instant;

/// A wrong password says how many attempts are left once this few are (of 5 per account).
const LOGIN_WARN_LEFT: u32 = 2;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/session", post(login).delete(logout))
        .route("/session/sso", post(sso_login))
        .route("/me", get(me).patch(update_me))
        .route("/me/mail-delivery/retry", post(retry_mail_delivery))
}

#[utoipa::path(post, path = "/api/v1/session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, body = ErrorResponse, description = "wrong e-mail or password (also an empty or over-long one); when few attempts are left before the lock, `attempts_left` (0: locked from now on) and `lockout_secs`, the same for an unknown e-mail"),
        (status = 429, body = ErrorResponse, description = "too many attempts, or no room to check a password now",
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<(HeaderMap, Json<LoginResponse>)> {
    let arrived = Instant::now();
    let email = crate::util::normalise_email(&req.email);
    if email.is_empty() || req.password.is_empty() || email.len() > 254 || req.password.len() > 1024
    {
        return Err(ApiError::InvalidCredentials(None));
    }
    // Room in the bounded pool of password checks first: a flood is refused here, at once and
    // uncounted, before it costs memory or a database query.
    let Some(slot) = state.password_checks.try_enter(client) else {
        tracing::warn!(%client, "login refused: no room for a password check");
        return Err(ApiError::TooManyAttempts { retry_after: 1 });
    };
    let row = state.store.account_by_email(&email).await?;
    let now = now_us();
    let device = guard::device_cookie(
        headers
            .get(axum::http::header::COOKIE)
            .and_then(|v| v.to_str().ok()),
    )
    .map(|t| sha256_hex(t.as_bytes()));
    let known_device = match (&device, &row) {
        (Some(d), Some(r)) => {
            state
                .store
                .known_device(d, &r.customer.id, now, DEVICE_TTL.as_micros() as i64)
                .await?
        }
        _ => false,
    };
    // A browser that logged in to this account before is throttled on its own, so failures by
    // others (on the account, or from a shared address) do not lock its owner out.
    let throttles: Vec<(&Throttle, String)> = match &device {
        Some(d) if known_device => vec![(&state.login_by_device, format!("device:{d}"))],
        _ => vec![
            (&state.login_by_account, format!("account:{email}")),
            (&state.login_by_address, format!("address:{client}")),
        ],
    };
    // The throttle nearest to its limit is the one a failure is warned about.
    let mut nearest: Option<guard::Admitted> = None;
    for (i, (throttle, key)) in throttles.iter().enumerate() {
        match throttle.admit(&state.store, key).await? {
            Ok(admitted) => {
                if nearest.is_none_or(|n| admitted.left < n.left) {
                    nearest = Some(admitted);
                }
            }
            Err(wait) => {
                for (earlier, k) in &throttles[..i] {
                    earlier.give_back(&state.store, k).await?;
                }
                return Err(ApiError::TooManyAttempts { retry_after: wait });
            }
        }
    }
    // A failure warns when few attempts are left, before the lock rather than only at it. Not
    // for a known browser: its failures end its trust instead of locking the account, and the
    // account's own count (warned about in turn) applies from then on. The count is per e-mail
    // whether or not it is a customer's, so the words tell nothing about who has an account.
    let warning = nearest
        .filter(|n| !known_device && n.left <= LOGIN_WARN_LEFT)
        .map(|n| LockoutWarning {
            attempts_left: n.left,
            lockout_secs: n.resets_in,
        });

    // Unknown e-mails are checked against a dummy hash, so they cost a check as well.
    let hash = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let password = req.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    drop(slot);
    let Some(row) = row.filter(|_| ok) else {
        if let Some(d) = device.as_ref().filter(|_| known_device) {
            if state
                .login_by_device
                .locked(&state.store, &format!("device:{d}"))
                .await?
                .is_some()
            {
                // Too many failures from a trusted browser: it is trusted no more.
                state.store.forget_device(d).await?;
            }
        }
        // Every failure takes the same time, whatever the stored hash costs to check.
        tokio::time::sleep_until((arrived + state.config.login_failure_floor).into()).await;
        return Err(ApiError::InvalidCredentials(warning));
    };
    for (throttle, key) in &throttles {
        if key.starts_with("address:") {
            throttle.give_back(&state.store, key).await?;
        } else {
            throttle.clear(&state.store, key).await?;
        }
    }

    let account_id = row.customer.id.clone();
    let response = start_session(&state, row.customer, now).await?;
    // The device cookie: a fresh one unless this browser already holds a good one.
    let device_token = match &device {
        Some(_) if known_device => None,
        _ => Some(random_token()),
    };
    let device_hash = device_token
        .as_ref()
        .map(|t| sha256_hex(t.as_bytes()))
        .or(device);
    if let Some(d) = &device_hash {
        state.store.remember_device(d, &account_id, now).await?;
    }
    let mut out = HeaderMap::new();
    if let Some(t) = device_token {
        let secure = state.config.public_url.starts_with("https://");
        if let Ok(v) = HeaderValue::from_str(&guard::device_set_cookie(
            &t,
            &state.config.base_path,
            secure,
        )) {
            out.insert(axum::http::header::SET_COOKIE, v);
        }
    }
    tracing::info!(account = %response.customer.id, %client, "login");
    Ok((out, Json(response)))
}

/// A new session for an account that proved who it is.
async fn start_session(state: &AppState, customer: Customer, now: i64) -> ApiResult<LoginResponse> {
    let token = random_token();
    let expires = now + state.config.session_absolute_secs * 1_000_000;
    state
        .store
        .create_session(&sha256_hex(token.as_bytes()), &customer.id, expires)
        .await?;
    Ok(LoginResponse {
        token,
        customer,
        locale: None,
    })
}

#[utoipa::path(post, path = "/api/v1/session/sso", request_body = SsoRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, body = ErrorResponse, description = "the token is not good (which check failed is logged, never said)"),
        (status = 429, body = ErrorResponse, description = "too many refused tokens from this client",
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
/// Trades a sign-on token signed by the control panel for a session, as a login does.
pub async fn sso_login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(req): ApiJson<SsoRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let address_key = format!("address:{client}");
    if let Err(wait) = state
        .login_by_address
        .admit(&state.store, &address_key)
        .await?
    {
        return Err(ApiError::TooManyAttempts { retry_after: wait });
    }
    let now = now_us();
    let refused = |why: sso::Refused| {
        tracing::warn!(%client, reason = %why, "sign-on refused");
        ApiError::Unauthorized
    };
    let claims = sso::verify(&state.config.sso, &req.token, now / 1_000_000).map_err(refused)?;
    let email = crate::util::normalise_email(&claims.email);
    let customer = state
        .store
        .account_by_email(&email)
        .await?
        .map(|r| r.customer)
        .filter(|c| c.role == Role::Customer)
        .ok_or_else(|| refused(sso::Refused::UnknownCustomer))?;
    // Remembered until the token could no longer pass, leeway included.
    let forget_after = (claims.exp + sso::LEEWAY_SECS as i64) * 1_000_000;
    if !state
        .store
        .use_sso_jti(&claims.jti, forget_after, now)
        .await?
    {
        return Err(refused(sso::Refused::Replayed));
    }
    state
        .login_by_address
        .give_back(&state.store, &address_key)
        .await?;
    let mut response = start_session(&state, customer, now).await?;
    // The panel's language, when it is one the helpdesk speaks.
    response.locale = claims
        .locale
        .as_deref()
        .and_then(crate::texts::Language::of_tag)
        .map(|l| l.code().to_string());
    tracing::info!(account = %response.customer.id, %client, "sign-on");
    Ok(Json(response))
}

#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204), (status = 401, body = ErrorResponse)))]
pub async fn logout(State(state): State<AppState>, auth: AuthAccount) -> ApiResult<StatusCode> {
    state.store.delete_session(&auth.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ErrorResponse)))]
/// The account, and whether our e-mails to its reference address come back.
pub async fn me(State(state): State<AppState>, auth: AuthAccount) -> ApiResult<Json<Me>> {
    let mail_delivery = state.store.mail_delivery(&auth.account.id).await?;
    Ok(Json(Me {
        customer: auth.account,
        mail_delivery,
    }))
}

#[utoipa::path(post, path = "/api/v1/me/mail-delivery/retry", operation_id = "retry_mail_delivery",
    responses((status = 204, description = "the mark is cleared; when there was one, one short test e-mail is queued to the reference address"),
        (status = 401, body = ErrorResponse)))]
/// The customer solved what bounced our e-mails ("Ho risolto, riprova"): the mark goes, and one
/// test e-mail in their language tells them (or, bounced again, tells us) whether it worked.
/// Without a mark nothing is sent, so that the button cannot be used to send mail at will.
pub async fn retry_mail_delivery(
    State(state): State<AppState>,
    auth: AuthAccount,
) -> ApiResult<StatusCode> {
    let c = &auth.account;
    let config = &state.config;
    let (subject, body) = crate::texts::delivery_test_email(
        &c.name,
        &config.public_url,
        Language::of_saved(c.language.as_deref()),
    );
    let test = crate::storage::Notification {
        message_id: format!("<{}@{}>", crate::util::random_id(), config.mail_domain),
        from: config.mail_tech.clone(),
        to: c.email.clone(),
        subject,
        body,
        html: None,
    };
    if state.store.clear_mail_delivery(&c.id, Some(test)).await? {
        tracing::info!(account = %c.id, "delivery mark cleared by the customer; test e-mail queued");
        state.outbox_wake.notify_one();
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/api/v1/me", request_body = MeUpdate,
    responses((status = 200, body = Customer, description = "the account as it is now"),
        (status = 401, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "a language other than `it`, `en` or null (`fields.language`: `unsupported`), a time zone that is not an IANA name (`fields.time_zone`: `unknown_time_zone`), or a field outside the schema")))]
/// Changes what a customer may change of their own account: the language of their e-mails and
/// the time zone their times are written in. Both are checked before either is saved.
pub async fn update_me(
    State(state): State<AppState>,
    auth: AuthAccount,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<Customer>> {
    // Read as an object first: serde would also take an array (`[]`) for a struct whose fields
    // may all be left out.
    let req: MeUpdate = serde_json::from_value(serde_json::Value::Object(body)).map_err(|e| {
        ApiError::Validation {
            message: Msg::JsonFieldInvalid,
            fields: super::extract::field_of(&e.to_string()),
            hints: Vec::new(),
        }
    })?;
    let language = match req.language {
        None => None,
        Some(None) => Some(None),
        Some(Some(code)) => Some(Some(Language::parse(&code).ok_or_else(|| {
            ApiError::field("language", "unsupported", Msg::LanguageUnsupported)
        })?)),
    };
    // Saved by its canonical name (`america/new_york` as `America/New_York`).
    let time_zone = match req.time_zone {
        None => None,
        Some(None) => Some(None),
        Some(Some(name)) => Some(Some(crate::zone::canonical(&name).ok_or_else(|| {
            ApiError::field("time_zone", "unknown_time_zone", Msg::TimeZoneUnknown)
        })?)),
    };
    let mut customer = auth.account;
    if let Some(language) = language {
        customer = state
            .store
            .set_language(&customer.id, language)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        tracing::info!(account = %customer.id, language = ?customer.language, "language saved");
    }
    if let Some(time_zone) = time_zone {
        customer = state
            .store
            .set_time_zone(&customer.id, time_zone.as_deref())
            .await?
            .ok_or(ApiError::Unauthorized)?;
        tracing::info!(account = %customer.id, time_zone = %customer.time_zone, "time zone saved");
    }
    Ok(Json(customer))
}
