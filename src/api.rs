//! The one typed client of the server's API: every call goes through `send`, which adds the
//! token, turns failures into `ApiError`, and hands a 401 to the session (back to login).

use crate::config::config;
use helpdesk_core::api::{
    AssessRequest, Assessment, Customer, ErrorBody, ErrorResponse, LoginRequest, LoginResponse,
    MailRejectionList, NewReply, NewTicket, ServiceList, Status, Ticket, TicketList, TicketSummary,
};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The session is missing or expired.
    Unauthorized,
    /// The server could not be reached.
    Network,
    /// The server answered with an error (its JSON shape, when it sent one).
    Http {
        status: u16,
        body: Option<ErrorBody>,
    },
    /// The answer was not what the contract says.
    Decode,
}

impl ApiError {
    /// A sentence a customer understands.
    pub fn message(&self) -> String {
        let t = crate::texts::tx();
        match self {
            ApiError::Unauthorized => t.err_session_expired.into(),
            ApiError::Network => t.err_network.into(),
            ApiError::Decode => t.err_server.into(),
            ApiError::Http { status, body } => {
                if let Some(b) = body {
                    if b.code == "too_many_attempts" {
                        return crate::texts::too_many_attempts(b.retry_after.unwrap_or(60));
                    }
                    if b.code == "invalid_credentials" {
                        return t.err_credentials.into();
                    }
                    if *status == 422
                        || *status == 400
                        || *status == 409
                        || *status == 413
                        || *status == 415
                    {
                        // The server's sentence is Italian and says what to fix.
                        return b.message.clone();
                    }
                }
                match status {
                    404 => t.err_not_found.into(),
                    403 => t.err_forbidden.into(),
                    413 => t.err_too_large.into(),
                    409 => t.err_conflict.into(),
                    400 | 422 => t.err_invalid.into(),
                    _ => t.err_server.into(),
                }
            }
        }
    }

    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            ApiError::Http { body, .. } => body.as_ref(),
            _ => None,
        }
    }
}

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
    static TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// What to do when any call answers 401 (the session sends the user to login).
pub fn set_unauthorized_handler(f: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

pub fn set_token(token: Option<String>) {
    TOKEN.with(|t| *t.borrow_mut() = token);
}

pub fn url(path: &str) -> String {
    [config().base.as_str(), "/api/v1", path].concat()
}

/// One request to the API with the token (and JSON body, idempotency key) set: the answer as it
/// came, or `Network` when the server could not be reached.
async fn fetch(
    method: &str,
    path: &str,
    body: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<Response, ApiError> {
    let headers = Headers::new().map_err(|_| ApiError::Network)?;
    let _ = headers.set("Accept", "application/json");
    if body.is_some() {
        let _ = headers.set("Content-Type", "application/json");
    }
    if let Some(token) = TOKEN.with(|t| t.borrow().clone()) {
        let _ = headers.set("Authorization", &["Bearer ", &token].concat());
    }
    if let Some(key) = idempotency_key {
        let _ = headers.set("Idempotency-Key", key);
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(&headers);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
    }
    let request =
        Request::new_with_str_and_init(&url(path), &init).map_err(|_| ApiError::Network)?;
    let window = web_sys::window().ok_or(ApiError::Network)?;
    JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| ApiError::Network)?
        .dyn_into()
        .map_err(|_| ApiError::Network)
}

/// The text of an answer (empty when it has none).
async fn text_of(resp: &Response) -> String {
    match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// An error answer as an `ApiError`; a 401 sends the customer back to login first.
fn failed(status: u16, text: &str) -> ApiError {
    let e = error_of(status, text);
    if e == ApiError::Unauthorized {
        unauthorized();
    }
    e
}

/// Sends one request; the body is JSON text. Not generic, so it is compiled once.
pub async fn send(
    method: &str,
    path: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
) -> Result<(u16, String), ApiError> {
    let resp = fetch(method, path, body.as_deref(), idempotency_key).await?;
    let status = resp.status();
    let text = text_of(&resp).await;
    if (200..300).contains(&status) {
        crate::session::note_activity();
        Ok((status, text))
    } else {
        Err(failed(status, &text))
    }
}

/// The error a failed answer (status and body text) stands for.
pub fn error_of(status: u16, text: &str) -> ApiError {
    let body = crate::json::parse::<ErrorResponse>(text).map(|e| e.error);
    if status == 401 && body.as_ref().is_some_and(|b| b.code == "unauthorized") {
        return ApiError::Unauthorized;
    }
    ApiError::Http { status, body }
}

/// Hands a 401 to the session (back to login), for calls that cannot go through `send`.
pub fn unauthorized() {
    ON_UNAUTHORIZED.with(|h| {
        if let Some(f) = h.borrow().as_ref() {
            f();
        }
    });
}

/// The current token, for requests that cannot go through `send` (uploads, which report
/// progress only through XMLHttpRequest). It goes in a header, never in a URL.
pub fn token() -> Option<String> {
    TOKEN.with(|t| t.borrow().clone())
}

/// Where files are uploaded.
pub fn upload_url() -> String {
    url("/uploads")
}

fn decode<T: DeserializeOwned>(r: Result<(u16, String), ApiError>) -> Result<T, ApiError> {
    let (_, text) = r?;
    crate::json::parse(&text).ok_or(ApiError::Decode)
}

fn json<T: serde::Serialize>(v: &T) -> Option<String> {
    crate::json::stringify(v)
}

pub async fn login(email: &str, password: &str) -> Result<LoginResponse, ApiError> {
    let req = LoginRequest {
        email: email.to_string(),
        password: password.to_string(),
    };
    decode(send("POST", "/session", json(&req), None).await)
}

pub async fn logout() -> Result<(), ApiError> {
    send("DELETE", "/session", None, None).await.map(|_| ())
}

pub async fn me() -> Result<Customer, ApiError> {
    decode(send("GET", "/me", None, None).await)
}

pub async fn services() -> Result<ServiceList, ApiError> {
    decode(send("GET", "/services", None, None).await)
}

pub async fn assess(req: &AssessRequest) -> Result<Assessment, ApiError> {
    decode(send("POST", "/subjects/assess", json(req), None).await)
}

/// Percent-encodes a query value (the browser's own encoder, no crate).
pub fn encode(v: &str) -> String {
    js_sys::encode_uri_component(v)
        .as_string()
        .unwrap_or_default()
}

pub async fn tickets(
    status: Option<Status>,
    q: &str,
    cursor: Option<&str>,
) -> Result<TicketList, ApiError> {
    let mut path = String::from("/tickets?");
    if let Some(s) = status {
        path.push_str("status=");
        path.push_str(s.as_str());
        path.push('&');
    }
    if !q.trim().is_empty() {
        path.push_str("q=");
        path.push_str(&encode(q.trim()));
        path.push('&');
    }
    if let Some(c) = cursor {
        path.push_str("cursor=");
        path.push_str(&encode(c));
    }
    decode(send("GET", &path, None, None).await)
}

pub async fn ticket(code: &str) -> Result<Ticket, ApiError> {
    decode(send("GET", &["/tickets/", &encode(code)].concat(), None, None).await)
}

/// Opens a ticket; the key makes a retry return the same ticket instead of a second one.
pub async fn create_ticket(t: &NewTicket, key: &str) -> Result<Ticket, ApiError> {
    decode(send("POST", "/tickets", json(t), Some(key)).await)
}

/// The answer: the ticket's fields, with only the new message (and any status event) in `messages`.
pub async fn reply(code: &str, r: &NewReply, key: &str) -> Result<Ticket, ApiError> {
    decode(
        send(
            "POST",
            &["/tickets/", &encode(code), "/messages"].concat(),
            json(r),
            Some(key),
        )
        .await,
    )
}

/// The answer: the ticket's fields, with only the status event (if any) in `messages`.
pub async fn set_closed(code: &str, closed: bool) -> Result<Ticket, ApiError> {
    let action = if closed { "/close" } else { "/reopen" };
    decode(
        send(
            "POST",
            &["/tickets/", &encode(code), action].concat(),
            None,
            None,
        )
        .await,
    )
}

pub async fn open_tickets_on(service_id: &str) -> Result<Vec<TicketSummary>, ApiError> {
    decode(
        send(
            "GET",
            &["/services/", &encode(service_id), "/open-tickets"].concat(),
            None,
            None,
        )
        .await,
    )
}

pub async fn mail_rejections() -> Result<MailRejectionList, ApiError> {
    decode(send("GET", "/mail-rejections", None, None).await)
}

/// An attachment's bytes, fetched with the token (never in a URL).
pub async fn attachment_blob(id: &str) -> Result<web_sys::Blob, ApiError> {
    let resp = fetch("GET", &["/attachments/", &encode(id)].concat(), None, None).await?;
    if !resp.ok() {
        return Err(failed(resp.status(), &text_of(&resp).await));
    }
    JsFuture::from(resp.blob().map_err(|_| ApiError::Decode)?)
        .await
        .map_err(|_| ApiError::Network)?
        .dyn_into()
        .map_err(|_| ApiError::Decode)
}

/// Downloads an attachment and saves it under its name.
pub async fn download(id: &str, name: &str) -> Result<(), ApiError> {
    let blob = attachment_blob(id).await?;
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let href = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| ApiError::Decode)?;
    let document = window.document().ok_or(ApiError::Decode)?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| ApiError::Decode)?
        .dyn_into()
        .map_err(|_| ApiError::Decode)?;
    a.set_href(&href);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&href);
    Ok(())
}

/// A fresh random key (128 bits) for `Idempotency-Key` and similar.
pub fn random_key() -> String {
    let mut bytes = [0u8; 16];
    if let Some(c) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = c.get_random_values_with_u8_array(&mut bytes);
    }
    let mut s = String::with_capacity(32);
    for b in bytes {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    s
}
