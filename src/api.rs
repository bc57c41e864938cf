//! The one typed client of the server's API: every call goes through gloo-net in `fetch_as`,
//! which adds the token; `send` turns failures into `ApiError` and hands a 401 to the session
//! (back to login). A read belongs to the page that made it and is aborted when the customer
//! leaves it (`new_page`); writes always finish.

use crate::config::config;
use crate::i18n::td_string;
use gloo_net::http::{Method, RequestBuilder, Response};
use helpdesk_core::api::{
    AssessRequest, Assessment, Customer, ErrorBody, ErrorResponse, LoginRequest, LoginResponse,
    MailRejectionList, Me, MeUpdate, NewReply, NewTicket, ServiceList, SsoRequest, Status, Ticket,
    TicketList, TicketSummary,
};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The session is missing or expired.
    Unauthorized,
    /// The server could not be reached.
    Network,
    /// The server answered with an error (its JSON shape, when it sent one; boxed, since every
    /// `Result` of the client carries this enum).
    Http {
        status: u16,
        body: Option<Box<ErrorBody>>,
    },
    /// The answer was not what the contract says.
    Decode,
}

impl ApiError {
    /// A sentence a customer understands.
    pub fn message(&self) -> String {
        let l = crate::language::current();
        match self {
            ApiError::Unauthorized => td_string!(l, err_session_expired).into(),
            ApiError::Network => td_string!(l, err_network).into(),
            ApiError::Decode => td_string!(l, err_server).into(),
            ApiError::Http { status, body } => {
                if let Some(b) = body {
                    if b.code == "too_many_attempts" {
                        return crate::texts::too_many_attempts(l, b.retry_after.unwrap_or(60));
                    }
                    if b.code == "invalid_credentials" {
                        return crate::texts::invalid_credentials(
                            l,
                            b.attempts_left,
                            b.lockout_secs.unwrap_or(15 * 60),
                        );
                    }
                    // The server's sentence says what to fix, or how long to wait (an account's
                    // limit, the quota, a full disk: the draft is kept), in the language asked for.
                    if matches!(status, 400 | 409 | 413 | 415 | 422 | 507)
                        || b.code == "rate_limited"
                    {
                        return b.message.clone();
                    }
                }
                match status {
                    404 => td_string!(l, err_not_found).into(),
                    403 => td_string!(l, err_forbidden).into(),
                    413 => td_string!(l, err_too_large).into(),
                    409 => td_string!(l, err_conflict).into(),
                    400 | 422 => td_string!(l, err_invalid).into(),
                    _ => td_string!(l, err_server).into(),
                }
            }
        }
    }

    /// Whether logins are refused for now (too many attempts, or the last one allowed failed):
    /// the login offers the password reset as the way out.
    pub fn locked_out(&self) -> bool {
        self.body().is_some_and(|b| {
            b.code == "too_many_attempts"
                || (b.code == "invalid_credentials" && b.attempts_left == Some(0))
        })
    }

    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            ApiError::Http { body, .. } => body.as_deref(),
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

thread_local! {
    /// Aborts the reads of the page on screen when another page takes its place.
    static PAGE: RefCell<Option<web_sys::AbortController>> = const { RefCell::new(None) };
}

/// A new page begins: reads still running for the one before are aborted (their answers would
/// go nowhere). Writes always finish: a ticket or reply sent is never cut off by leaving.
pub fn new_page() {
    PAGE.with(|p| {
        let mut p = p.borrow_mut();
        if let Some(old) = p.take() {
            old.abort();
        }
        *p = web_sys::AbortController::new().ok();
    });
}

/// Whether a read belongs to the page (aborted when it is left) or outlives it; or a write the
/// customer may give up waiting for (to send it again under the same `Idempotency-Key`).
#[derive(Clone, Copy)]
enum Scope<'a> {
    Page,
    Free,
    Until(&'a web_sys::AbortSignal),
}

/// One request to the API with the token (and JSON body, idempotency key) set: the answer as it
/// came, or `Network` when the server could not be reached.
async fn fetch(
    method: &str,
    path: &str,
    body: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<Response, ApiError> {
    fetch_as(method, path, body, idempotency_key, token(), Scope::Page).await
}

/// `fetch` with the given token (or none) instead of the session's, through gloo-net.
async fn fetch_as(
    method: &str,
    path: &str,
    body: Option<&str>,
    idempotency_key: Option<&str>,
    token: Option<String>,
    scope: Scope<'_>,
) -> Result<Response, ApiError> {
    let (method, read) = match method {
        "POST" => (Method::POST, false),
        "DELETE" => (Method::DELETE, false),
        "PATCH" => (Method::PATCH, false),
        _ => (Method::GET, true),
    };
    let signal = match scope {
        Scope::Until(signal) => Some(signal.clone()),
        Scope::Page if read => PAGE.with(|p| p.borrow().as_ref().map(|c| c.signal())),
        _ => None,
    };
    let mut req = RequestBuilder::new(&url(path))
        .method(method)
        .header("Accept", "application/json")
        // The server's sentences (errors, hints) in the language on screen.
        .header(
            "Accept-Language",
            crate::language::code(crate::language::current()),
        )
        .abort_signal(signal.as_ref());
    if let Some(token) = token {
        req = req.header("Authorization", &["Bearer ", &token].concat());
    }
    if let Some(key) = idempotency_key {
        req = req.header("Idempotency-Key", key);
    }
    let sent = match body {
        Some(b) => {
            req.header("Content-Type", "application/json")
                .body(b)
                .map_err(|_| ApiError::Network)?
                .send()
                .await
        }
        None => req.send().await,
    };
    sent.map_err(|_| ApiError::Network)
}

/// The text of an answer (empty when it has none).
async fn text_of(resp: &Response) -> String {
    resp.text().await.unwrap_or_default()
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
    send_until(method, path, body, idempotency_key, None).await
}

/// `send`, aborted when `until` is (a write given up for a retry: see `components::slow`).
async fn send_until(
    method: &str,
    path: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
    until: Option<&web_sys::AbortSignal>,
) -> Result<(u16, String), ApiError> {
    let scope = until.map_or(Scope::Page, Scope::Until);
    let resp = fetch_as(
        method,
        path,
        body.as_deref(),
        idempotency_key,
        token(),
        scope,
    )
    .await?;
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
    let body = crate::json::parse::<ErrorResponse>(text).map(|e| Box::new(e.error));
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

/// Trades the panel's sign-on token for a session. A refusal is the widget's to show: it never
/// goes to the 401 handler, which would ask the panel for another token.
pub async fn sso(token: &str) -> Result<LoginResponse, ApiError> {
    let req = json(&SsoRequest {
        token: token.to_string(),
    });
    let resp = fetch_as(
        "POST",
        "/session/sso",
        req.as_deref(),
        None,
        None,
        Scope::Free,
    )
    .await?;
    let (status, text) = (resp.status(), text_of(&resp).await);
    if (200..300).contains(&status) {
        crate::json::parse(&text).ok_or(ApiError::Decode)
    } else {
        Err(error_of(status, &text))
    }
}

/// Ends a session the app has already forgotten (the panel logged the customer out).
pub async fn end_session(token: String) {
    let _ = fetch_as("DELETE", "/session", None, None, Some(token), Scope::Free).await;
}

pub async fn logout() -> Result<(), ApiError> {
    send("DELETE", "/session", None, None).await.map(|_| ())
}

/// The account and whether our e-mails reach it. Not tied to a page: it is read when a session
/// begins and on focus, and a page change must not lose it.
pub async fn me() -> Result<Me, ApiError> {
    let resp = fetch_as("GET", "/me", None, None, token(), Scope::Free).await?;
    let (status, text) = (resp.status(), text_of(&resp).await);
    if !(200..300).contains(&status) {
        return Err(failed(status, &text));
    }
    crate::json::parse(&text).ok_or(ApiError::Decode)
}

/// "Fixed it, try again": clears the mark on the customer's address; the server sends one test
/// e-mail to it.
pub async fn retry_mail_delivery() -> Result<(), ApiError> {
    send("POST", "/me/mail-delivery/retry", None, None)
        .await
        .map(|_| ())
}

/// Saves the customer's language (`it`, `en`) for e-mails and messages; `None` clears it.
pub async fn set_language(code: Option<&str>) -> Result<Customer, ApiError> {
    let req = MeUpdate {
        language: Some(code.map(str::to_string)),
        ..MeUpdate::default()
    };
    decode(send("PATCH", "/me", json(&req), None).await)
}

/// Saves the time zone of the customer's e-mails (an IANA name: the browser's).
pub async fn set_time_zone(zone: &str) -> Result<Customer, ApiError> {
    let req = MeUpdate {
        time_zone: Some(Some(zone.to_string())),
        ..MeUpdate::default()
    };
    decode(send("PATCH", "/me", json(&req), None).await)
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
/// `until` aborts the request in the browser (the server may still open the ticket).
pub async fn create_ticket(
    t: &NewTicket,
    key: &str,
    until: Option<&web_sys::AbortSignal>,
) -> Result<Ticket, ApiError> {
    decode(send_until("POST", "/tickets", json(t), Some(key), until).await)
}

/// The answer: the ticket's fields, with only the new message (and any status event) in `messages`.
/// `until` aborts the request in the browser (the server may still add the reply).
pub async fn reply(
    code: &str,
    r: &NewReply,
    key: &str,
    until: Option<&web_sys::AbortSignal>,
) -> Result<Ticket, ApiError> {
    decode(
        send_until(
            "POST",
            &["/tickets/", &encode(code), "/messages"].concat(),
            json(r),
            Some(key),
            until,
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

/// How many of the customer's tickets await their reply (for the widget's badge): not tied to
/// a page, so a page change never loses it.
pub async fn awaiting_reply() -> Result<u64, ApiError> {
    let resp = fetch_as("GET", "/tickets?limit=1", None, None, token(), Scope::Free).await?;
    let (status, text) = (resp.status(), text_of(&resp).await);
    if !(200..300).contains(&status) {
        return Err(failed(status, &text));
    }
    crate::json::parse::<TicketList>(&text)
        .map(|l| l.counts.awaiting_customer)
        .ok_or(ApiError::Decode)
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
    let raw: web_sys::Response = resp.into();
    JsFuture::from(raw.blob().map_err(|_| ApiError::Decode)?)
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
