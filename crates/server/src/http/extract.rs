//! Request extractors whose failures speak the API's one error shape.

use crate::error::ApiError;
use crate::texts::Msg;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// `axum::Json` with rejections turned into our errors: malformed JSON → 400, wrong or unknown
/// fields → 422, not JSON → 415, too large → 413.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => ApiError::Validation {
            message: Msg::JsonFieldInvalid,
            fields: field_of(&e.body_text()),
            hints: Vec::new(),
        },
        JsonRejection::JsonSyntaxError(_) => ApiError::BadRequest(Msg::JsonMalformed),
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::UnsupportedMediaType(Msg::JsonContentType)
        }
        JsonRejection::BytesRejection(e)
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError::TooLarge(Msg::RequestTooLarge)
        }
        other => ApiError::BadRequest(Msg::RequestInvalid {
            status: other.status().as_u16(),
        }),
    }
}

/// serde's message names the offending field as `` `name` ``; the app highlights it.
pub(super) fn field_of(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut fields = std::collections::BTreeMap::new();
    let code = if text.contains("unknown field") {
        "unknown_field"
    } else if text.contains("missing field") {
        "missing"
    } else {
        "invalid"
    };
    if let Some(start) = text.find("field `") {
        let name = &text[start + 7..];
        if let Some(len) = name.find('`') {
            fields.insert(name[..len].to_string(), code.to_string());
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_offending_field_is_named() {
        let f = super::field_of(
            "Failed to deserialize: unknown field `colour`, expected one of `email`",
        );
        assert_eq!(f.get("colour").map(String::as_str), Some("unknown_field"));
        let f = super::field_of("missing field `password` at line 1");
        assert_eq!(f.get("password").map(String::as_str), Some("missing"));
    }
}
