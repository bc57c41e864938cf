//! The one error type of the API: each variant becomes the JSON error shape with its status.

use crate::texts::{Language, Msg};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use helpdesk_core::api::{ErrorBody, ErrorResponse, Hint};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0:?}")]
    BadRequest(Msg),
    #[error("not authenticated")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str, Msg),
    #[error("too large")]
    TooLarge(Msg),
    #[error("unsupported media type")]
    UnsupportedMediaType(Msg),
    #[error("validation failed")]
    Validation {
        message: Msg,
        fields: BTreeMap<String, String>,
        hints: Vec<Hint>,
    },
    /// A wrong e-mail or password; with a warning when few attempts are left before the lock.
    #[error("invalid credentials")]
    InvalidCredentials(Option<LockoutWarning>),
    #[error("too many attempts")]
    TooManyAttempts { retry_after: u64 },
    /// An account's limit of `what` per window is reached (429, `rate_limited`, `Retry-After`).
    #[error("rate limited")]
    RateLimited {
        what: crate::storage::UsageKind,
        retry_after: u64,
    },
    /// The customer, or the whole process, holds as many live event streams as allowed (429,
    /// `too_many_streams`, `Retry-After`).
    #[error("too many event streams")]
    TooManyStreams { retry_after: u64 },
    /// The account's stored bytes would pass its quota (413, `quota_exceeded`).
    #[error("quota exceeded")]
    QuotaExceeded { quota: u64 },
    /// No space left for the data (507, `storage_full`): nothing was written.
    #[error("storage full")]
    StorageFull,
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

/// How close a login is to the lock: wrong passwords still allowed (0: the lock holds from now
/// on) and for how long the lock lasts (seconds). It is said only when few attempts are left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutWarning {
    pub attempts_left: u32,
    pub lockout_secs: u64,
}

impl ApiError {
    /// A 422 naming one field, with the code the app keys its message on.
    pub fn field(field: &str, code: &str, message: Msg) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_string(), code.to_string());
        ApiError::Validation {
            message,
            fields,
            hints: Vec::new(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, Msg) {
        match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", Msg::Unauthorized),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden", Msg::Forbidden),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", Msg::NotFound),
            ApiError::Conflict(code, m) => (StatusCode::CONFLICT, code, m.clone()),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m.clone()),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m.clone(),
            ),
            ApiError::Validation { message, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                message.clone(),
            ),
            ApiError::InvalidCredentials(None) => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                Msg::InvalidCredentials,
            ),
            ApiError::InvalidCredentials(Some(w)) => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                Msg::InvalidCredentialsWarn {
                    left: w.attempts_left,
                    secs: w.lockout_secs,
                },
            ),
            ApiError::TooManyAttempts { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                Msg::TooManyAttempts,
            ),
            ApiError::RateLimited { what, retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                Msg::RateLimited {
                    what: *what,
                    secs: *retry_after,
                },
            ),
            ApiError::TooManyStreams { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                Msg::TooManyStreams,
            ),
            ApiError::QuotaExceeded { quota } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "quota_exceeded",
                Msg::QuotaExceeded { quota: *quota },
            ),
            ApiError::StorageFull => (
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                Msg::StorageFull,
            ),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", Msg::Internal),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::alarm::is_disk_full_db(&e) {
            return ApiError::StorageFull;
        }
        ApiError::Internal(e.into())
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        if crate::alarm::is_disk_full_io(&e) {
            return ApiError::StorageFull;
        }
        ApiError::Internal(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            // The whole chain goes to the log; the client gets a generic sentence.
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            // The operator's alarm, once, not once per refused request.
            ApiError::StorageFull => crate::alarm::disk_full(),
            _ => {}
        }
        let (status, code, message) = self.parts();
        let warning = match &self {
            ApiError::InvalidCredentials(w) => *w,
            _ => None,
        };
        let (fields, hints, retry_after) = match self {
            ApiError::Validation { fields, hints, .. } => (fields, hints, None),
            ApiError::TooManyAttempts { retry_after }
            | ApiError::RateLimited { retry_after, .. }
            | ApiError::TooManyStreams { retry_after } => {
                (BTreeMap::new(), Vec::new(), Some(retry_after))
            }
            _ => (BTreeMap::new(), Vec::new(), None),
        };
        let body = ErrorResponse {
            error: ErrorBody {
                code: code.to_string(),
                message: message.text(Language::default()),
                fields,
                hints,
                retry_after,
                attempts_left: warning.map(|w| w.attempts_left),
                lockout_secs: warning.map(|w| w.lockout_secs),
            },
        };
        let mut resp = (status, axum::Json(body.clone())).into_response();
        // Written in the default language here, where the request is not known; the
        // `localize_errors` layer writes it again in the request's language.
        resp.extensions_mut()
            .insert(Unlocalized(std::sync::Arc::new((body, message))));
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// An error response's body with the key of its message, for writing it in another language.
#[derive(Clone)]
struct Unlocalized(std::sync::Arc<(ErrorResponse, Msg)>);

/// Writes API errors in the language the request's `Accept-Language` asks for (see
/// [`crate::texts::from_accept_language`]); the `code` and every other field stay as they are.
pub async fn localize_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let lang = request_language(req.headers());
    let mut resp = next.run(req).await;
    let Some(Unlocalized(keyed)) = resp.extensions_mut().remove::<Unlocalized>() else {
        return resp;
    };
    if lang == Language::default() {
        return resp;
    }
    let (body, message) = &*keyed;
    let mut body = body.clone();
    body.error.message = message.text(lang);
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let fresh = axum::Json(body).into_response();
    Response::from_parts(parts, fresh.into_body())
}

/// The language a request asks for by its `Accept-Language` header (Italian without one).
pub fn request_language(headers: &axum::http::HeaderMap) -> Language {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Language::default(), crate::texts::from_accept_language)
}
