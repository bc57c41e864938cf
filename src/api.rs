//! The one typed client of the server's API, `Api`, provided once by `App`: every call goes
//! through gloo-net in `fetch_as`, which adds the token; `send` turns failures into `ApiError`
//! and hands a 401 to the session's end (`crate::expiry`, given to the client as `Hooks::ended`).
//! A read belongs to the page that made it and is aborted when the customer leaves it
//! (`new_page`); writes always finish. The client knows neither the session nor the language
//! switch: `App` hands it the token, the language and what an answer means for the session.

use crate::config::config;
use crate::i18n::{td_string, Locale};
use gloo_net::http::{Method, RequestBuilder, Response};
use helpdesk_core::api::{
    AssessRequest, Assessment, Customer, ErrorBody, ErrorResponse, LoginRequest, LoginResponse,
    MailRejectionList, Me, MeUpdate, NewReply, NewTicket, ServiceList, SsoRequest, Status, Ticket,
    TicketList, TicketSummary,
};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use std::rc::Rc;
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
    /// A sentence a customer understands, in the language `l`.
    pub fn message(&self, l: Locale) -> String {
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

/// What the client needs from the app around it, given once where the app starts (`App`).
/// Plain functions rather than signals: the client only ever reads them when it sends.
pub struct Hooks {
    /// The session's token, if any.
    pub token: Box<dyn Fn() -> Option<String>>,
    /// The language on screen (`it`, `en`): the server's sentences come in it.
    pub language: Box<dyn Fn() -> &'static str>,
    /// An answer came: the session is in use (kept alive).
    pub activity: Box<dyn Fn()>,
    /// A 401: the session ended (see `crate::expiry`).
    pub ended: Box<dyn Fn()>,
}

/// The API client: a handle to copy into event handlers and tasks (which run outside any
/// reactive owner, where `use_context` finds nothing).
#[derive(Clone, Copy)]
pub struct Api {
    hooks: StoredValue<Rc<Hooks>, LocalStorage>,
    /// Aborts the reads of the page on screen when another page takes its place.
    page: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
}

/// The client `App` provides; a piece of the app mounted on its own (the component tests) gets
/// one without a session, in the language of its texts.
pub fn use_api() -> Api {
    use_context::<Api>().unwrap_or_else(|| {
        let i18n = use_context::<leptos_i18n::I18nContext<Locale>>();
        Api::new(Hooks {
            token: Box::new(|| None),
            language: Box::new(move || match i18n.map(|i| i.get_locale_untracked()) {
                Some(Locale::en) => "en",
                _ => "it",
            }),
            activity: Box::new(|| {}),
            ended: Box::new(|| {}),
        })
    })
}

pub fn url(path: &str) -> String {
    [config().base.as_str(), "/api/v1", path].concat()
}

/// Whether a read belongs to the page (aborted when it is left) or outlives it; or a write the
/// customer may give up waiting for (to send it again under the same `Idempotency-Key`).
#[derive(Clone, Copy)]
enum Scope<'a> {
    Page,
    Free,
    Until(&'a web_sys::AbortSignal),
}

/// The text of an answer (empty when it has none).
async fn text_of(resp: &Response) -> String {
    resp.text().await.unwrap_or_default()
}

/// The error a failed answer (status and body text) stands for.
pub fn error_of(status: u16, text: &str) -> ApiError {
    let body = crate::json::parse::<ErrorResponse>(text).map(|e| Box::new(e.error));
    if status == 401 && body.as_ref().is_some_and(|b| b.code == "unauthorized") {
        return ApiError::Unauthorized;
    }
    ApiError::Http { status, body }
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

/// Percent-encodes a query value (the browser's own encoder, no crate).
pub fn encode(v: &str) -> String {
    js_sys::encode_uri_component(v)
        .as_string()
        .unwrap_or_default()
}

impl Api {
    pub fn new(hooks: Hooks) -> Self {
        Api {
            hooks: StoredValue::new_local(Rc::new(hooks)),
            page: StoredValue::new_local(None),
        }
    }

    /// A new page begins: reads still running for the one before are aborted (their answers
    /// would go nowhere). Writes always finish: a ticket or reply sent is never cut off by leaving.
    pub fn new_page(self) {
        self.page.update_value(|p| {
            if let Some(old) = p.take() {
                old.abort();
            }
            *p = web_sys::AbortController::new().ok();
        });
    }

    /// The app's hooks; none once the app is gone.
    fn hooks(self) -> Option<Rc<Hooks>> {
        self.hooks.try_get_value()
    }

    /// The current token, for requests that cannot go through `send` (uploads, which report
    /// progress only through XMLHttpRequest). It goes in a header, never in a URL.
    pub fn token(self) -> Option<String> {
        self.hooks().and_then(|h| (h.token)())
    }

    /// The language of the server's sentences.
    pub fn language(self) -> &'static str {
        self.hooks().map_or("it", |h| (h.language)())
    }

    /// Hands a 401 to the session's end (back to login), for calls that cannot go through `send`.
    pub fn unauthorized(self) {
        if let Some(h) = self.hooks() {
            (h.ended)();
        }
    }

    fn activity(self) {
        if let Some(h) = self.hooks() {
            (h.activity)();
        }
    }

    /// An error answer as an `ApiError`; a 401 ends the session first.
    fn failed(self, status: u16, text: &str) -> ApiError {
        let e = error_of(status, text);
        if e == ApiError::Unauthorized {
            self.unauthorized();
        }
        e
    }

    /// One request to the API with the session's token, belonging to the page.
    async fn fetch(
        self,
        method: &str,
        path: &str,
        body: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<Response, ApiError> {
        self.fetch_as(
            method,
            path,
            body,
            idempotency_key,
            self.token(),
            Scope::Page,
        )
        .await
    }

    /// `fetch` with the given token (or none) instead of the session's, through gloo-net.
    async fn fetch_as(
        self,
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
            Scope::Page if read => self.page.with_value(|p| p.as_ref().map(|c| c.signal())),
            _ => None,
        };
        let mut req = RequestBuilder::new(&url(path))
            .method(method)
            .header("Accept", "application/json")
            // The server's sentences (errors, hints) in the language on screen.
            .header("Accept-Language", self.language())
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

    /// Sends one request; the body is JSON text. Not generic, so it is compiled once.
    pub async fn send(
        self,
        method: &str,
        path: &str,
        body: Option<String>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, String), ApiError> {
        self.send_until(method, path, body, idempotency_key, None)
            .await
    }

    /// `send`, aborted when `until` is (a write given up for a retry: see `components::slow`).
    async fn send_until(
        self,
        method: &str,
        path: &str,
        body: Option<String>,
        idempotency_key: Option<&str>,
        until: Option<&web_sys::AbortSignal>,
    ) -> Result<(u16, String), ApiError> {
        let scope = until.map_or(Scope::Page, Scope::Until);
        let resp = self
            .fetch_as(
                method,
                path,
                body.as_deref(),
                idempotency_key,
                self.token(),
                scope,
            )
            .await?;
        let status = resp.status();
        let text = text_of(&resp).await;
        if (200..300).contains(&status) {
            self.activity();
            Ok((status, text))
        } else {
            Err(self.failed(status, &text))
        }
    }

    pub async fn login(self, email: &str, password: &str) -> Result<LoginResponse, ApiError> {
        let req = LoginRequest {
            email: email.to_string(),
            password: password.to_string(),
        };
        decode(self.send("POST", "/session", json(&req), None).await)
    }

    /// Trades the panel's sign-on token for a session. A refusal is the widget's to show: it never
    /// goes to the 401 handler, which would ask the panel for another token.
    pub async fn sso(self, token: &str) -> Result<LoginResponse, ApiError> {
        let req = json(&SsoRequest {
            token: token.to_string(),
        });
        let resp = self
            .fetch_as(
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
    pub async fn end_session(self, token: String) {
        let _ = self
            .fetch_as("DELETE", "/session", None, None, Some(token), Scope::Free)
            .await;
    }

    pub async fn logout(self) -> Result<(), ApiError> {
        self.send("DELETE", "/session", None, None)
            .await
            .map(|_| ())
    }

    /// The account and whether our e-mails reach it. Not tied to a page: it is read when a session
    /// begins and on focus, and a page change must not lose it.
    pub async fn me(self) -> Result<Me, ApiError> {
        let resp = self
            .fetch_as("GET", "/me", None, None, self.token(), Scope::Free)
            .await?;
        let (status, text) = (resp.status(), text_of(&resp).await);
        if !(200..300).contains(&status) {
            return Err(self.failed(status, &text));
        }
        crate::json::parse(&text).ok_or(ApiError::Decode)
    }

    /// "Fixed it, try again": clears the mark on the customer's address; the server sends one test
    /// e-mail to it.
    pub async fn retry_mail_delivery(self) -> Result<(), ApiError> {
        self.send("POST", "/me/mail-delivery/retry", None, None)
            .await
            .map(|_| ())
    }

    /// Saves the customer's language (`it`, `en`) for e-mails and messages; `None` clears it.
    pub async fn set_language(self, code: Option<&str>) -> Result<Customer, ApiError> {
        let req = MeUpdate {
            language: Some(code.map(str::to_string)),
            ..MeUpdate::default()
        };
        decode(self.send("PATCH", "/me", json(&req), None).await)
    }

    /// Saves the time zone of the customer's e-mails (an IANA name: the browser's).
    pub async fn set_time_zone(self, zone: &str) -> Result<Customer, ApiError> {
        let req = MeUpdate {
            time_zone: Some(Some(zone.to_string())),
            ..MeUpdate::default()
        };
        decode(self.send("PATCH", "/me", json(&req), None).await)
    }

    pub async fn services(self) -> Result<ServiceList, ApiError> {
        decode(self.send("GET", "/services", None, None).await)
    }

    pub async fn assess(self, req: &AssessRequest) -> Result<Assessment, ApiError> {
        decode(self.send("POST", "/subjects/assess", json(req), None).await)
    }

    pub async fn tickets(
        self,
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
        decode(self.send("GET", &path, None, None).await)
    }

    pub async fn ticket(self, code: &str) -> Result<Ticket, ApiError> {
        decode(
            self.send("GET", &["/tickets/", &encode(code)].concat(), None, None)
                .await,
        )
    }

    /// Opens a ticket; the key makes a retry return the same ticket instead of a second one.
    /// `until` aborts the request in the browser (the server may still open the ticket).
    pub async fn create_ticket(
        self,
        t: &NewTicket,
        key: &str,
        until: Option<&web_sys::AbortSignal>,
    ) -> Result<Ticket, ApiError> {
        decode(
            self.send_until("POST", "/tickets", json(t), Some(key), until)
                .await,
        )
    }

    /// The answer: the ticket's fields, with only the new message (and any status event) in `messages`.
    /// `until` aborts the request in the browser (the server may still add the reply).
    pub async fn reply(
        self,
        code: &str,
        r: &NewReply,
        key: &str,
        until: Option<&web_sys::AbortSignal>,
    ) -> Result<Ticket, ApiError> {
        decode(
            self.send_until(
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
    pub async fn set_closed(self, code: &str, closed: bool) -> Result<Ticket, ApiError> {
        let action = if closed { "/close" } else { "/reopen" };
        decode(
            self.send(
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
    pub async fn awaiting_reply(self) -> Result<u64, ApiError> {
        let resp = self
            .fetch_as(
                "GET",
                "/tickets?limit=1",
                None,
                None,
                self.token(),
                Scope::Free,
            )
            .await?;
        let (status, text) = (resp.status(), text_of(&resp).await);
        if !(200..300).contains(&status) {
            return Err(self.failed(status, &text));
        }
        crate::json::parse::<TicketList>(&text)
            .map(|l| l.counts.awaiting_customer)
            .ok_or(ApiError::Decode)
    }

    pub async fn open_tickets_on(self, service_id: &str) -> Result<Vec<TicketSummary>, ApiError> {
        decode(
            self.send(
                "GET",
                &["/services/", &encode(service_id), "/open-tickets"].concat(),
                None,
                None,
            )
            .await,
        )
    }

    pub async fn mail_rejections(self) -> Result<MailRejectionList, ApiError> {
        decode(self.send("GET", "/mail-rejections", None, None).await)
    }

    /// An attachment's bytes, fetched with the token (never in a URL).
    pub async fn attachment_blob(self, id: &str) -> Result<web_sys::Blob, ApiError> {
        let resp = self
            .fetch("GET", &["/attachments/", &encode(id)].concat(), None, None)
            .await?;
        if !resp.ok() {
            return Err(self.failed(resp.status(), &text_of(&resp).await));
        }
        let raw: web_sys::Response = resp.into();
        JsFuture::from(raw.blob().map_err(|_| ApiError::Decode)?)
            .await
            .map_err(|_| ApiError::Network)?
            .dyn_into()
            .map_err(|_| ApiError::Decode)
    }

    /// Downloads an attachment and saves it under its name.
    pub async fn download(self, id: &str, name: &str) -> Result<(), ApiError> {
        let blob = self.attachment_blob(id).await?;
        let window = web_sys::window().ok_or(ApiError::Network)?;
        let href =
            web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| ApiError::Decode)?;
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
