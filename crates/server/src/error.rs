//! The one error type of the API: each variant becomes the JSON error shape with its status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use helpdesk_core::api::{ErrorBody, ErrorResponse, Hint};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("not authenticated")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str, String),
    #[error("too large")]
    TooLarge(String),
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation {
        message: String,
        fields: BTreeMap<String, String>,
        hints: Vec<Hint>,
    },
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many attempts")]
    TooManyAttempts { retry_after: u64 },
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 naming one field, with the code the app keys its message on.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_string(), code.to_string());
        ApiError::Validation {
            message: message.into(),
            fields,
            hints: Vec::new(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sessione assente o scaduta: accedi di nuovo.".into(),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Non hai i permessi per questa operazione.".into(),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Non trovato.".into()),
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
            ApiError::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "E-mail o password non corretti.".into(),
            ),
            ApiError::TooManyAttempts { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Troppi tentativi: riprova più tardi.".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Errore interno del server: riprova tra poco.".into(),
            ),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            // The whole chain goes to the log; the client gets a generic sentence.
            tracing::error!(error = ?e, "internal error");
        }
        let (status, code, message) = self.parts();
        let (fields, hints, retry_after) = match self {
            ApiError::Validation { fields, hints, .. } => (fields, hints, None),
            ApiError::TooManyAttempts { retry_after } => {
                (BTreeMap::new(), Vec::new(), Some(retry_after))
            }
            _ => (BTreeMap::new(), Vec::new(), None),
        };
        let body = ErrorResponse {
            error: ErrorBody {
                code: code.to_string(),
                message,
                fields,
                hints,
                retry_after,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
