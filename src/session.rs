//! Who is logged in: the token and account. On the helpdesk's own page they are kept in
//! localStorage, so a link from an e-mail or a new tab finds the customer still logged in, until
//! `IDLE_MS` without activity; inside another site's frame (the panel's widget) in the tab's
//! sessionStorage, since the panel's sign-on brings the session there. Drafts live in
//! localStorage, per customer.

use helpdesk_core::api::{Customer, LoginResponse};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

const KEY: &str = "helpdesk.session";
const RETURN_KEY: &str = "helpdesk.return_to";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    pub token: String,
    pub customer: Customer,
    /// When the customer last used the session (ms since the epoch); older than `IDLE_MS`, a
    /// stored session is forgotten instead of restored.
    #[serde(default)]
    pub active_ms: f64,
}

/// How long a session kept across tabs survives without activity.
const IDLE_MS: f64 = 2.0 * 3600.0 * 1000.0;
/// Activity is written back at most this often.
const TOUCH_MS: f64 = 60.0 * 1000.0;

#[derive(Clone, Copy)]
pub struct Session(pub RwSignal<Option<SessionData>>);

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// Whether the app is the page itself rather than a frame inside another page.
pub(crate) fn top_level() -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    match w.top() {
        Ok(Some(top)) => {
            let (top, me): (&wasm_bindgen::JsValue, &wasm_bindgen::JsValue) =
                (top.as_ref(), w.as_ref());
            top == me
        }
        _ => false,
    }
}

/// Where the session is kept: across tabs on our own page, per tab inside a frame.
fn session_store() -> Option<web_sys::Storage> {
    if top_level() {
        local_storage()
    } else {
        session_storage()
    }
}

pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

impl Session {
    /// The session saved in this tab, if any.
    pub fn restore() -> Self {
        let store = session_store();
        let data: Option<SessionData> = store
            .as_ref()
            .and_then(|s| s.get_item(KEY).ok().flatten())
            .and_then(|j| crate::json::parse(&j));
        let now = js_sys::Date::now();
        let data = match data {
            Some(d) if now - d.active_ms < IDLE_MS => Some(d),
            Some(_) => {
                // Idle too long: the next person at this computer starts at the login.
                if let Some(s) = &store {
                    let _ = s.remove_item(KEY);
                }
                None
            }
            None => None,
        };
        crate::api::set_token(data.as_ref().map(|d| d.token.clone()));
        note_activity();
        Session(RwSignal::new(data))
    }

    pub fn start(&self, r: LoginResponse) {
        self.begin(r, true);
    }

    /// A session for this page only, kept nowhere: the widget's sign-on through the panel, which
    /// brings a new one whenever the widget needs it (another customer may log in to the panel
    /// in this tab next).
    pub fn start_here(&self, r: LoginResponse) {
        self.begin(r, false);
    }

    fn begin(&self, r: LoginResponse, keep: bool) {
        EXPIRED.with(|e| e.set(None));
        let data = SessionData {
            token: r.token,
            customer: r.customer,
            active_ms: js_sys::Date::now(),
        };
        if keep {
            save(&data);
        }
        crate::api::set_token(Some(data.token.clone()));
        let saved_zone = data.customer.time_zone.clone();
        self.0.set(Some(data));
        self.save_time_zone(&saved_zone);
    }

    /// Once after login: the browser's time zone becomes the one of the customer's e-mails when
    /// the server has another (Europe/Rome until one is known). A failure is not shown: the next
    /// login tries again.
    fn save_time_zone(&self, saved: &str) {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        let Some(zone) = js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|z| z.as_string())
            .filter(|z| !z.is_empty() && z != saved)
        else {
            return;
        };
        let session = *self;
        leptos::task::spawn_local(async move {
            if let Ok(c) = crate::api::set_time_zone(&zone).await {
                session.set_customer(c);
            }
        });
    }

    /// The server ended the session (a 401): forgotten here too, drafts kept, and the login says
    /// why (see [`expired`]).
    pub fn expire(&self) {
        // Several requests may fail at once: the first, while the customer is still known, says.
        if let Some(id) = self.customer_id_untracked() {
            let draft_kept = !crate::drafts::keys_of(&id).is_empty();
            EXPIRED.with(|e| e.set(Some(draft_kept)));
        }
        self.end(false);
    }

    /// Forgets the session (expired, or logged out); drafts stay unless `forget_drafts`.
    pub fn end(&self, forget_drafts: bool) {
        if forget_drafts {
            // Logged out on purpose: nothing to explain, nothing kept for a next login.
            EXPIRED.with(|e| e.set(None));
            if let (Some(ls), Some(d)) = (local_storage(), self.0.get_untracked()) {
                for key in crate::drafts::keys_of(&d.customer.id) {
                    let _ = ls.remove_item(&key);
                }
            }
        }
        if let Some(s) = session_store() {
            let _ = s.remove_item(KEY);
        }
        crate::api::set_token(None);
        self.0.set(None);
    }

    /// The account as the server now has it (a saved language), kept where the session is.
    pub fn set_customer(&self, customer: Customer) {
        // A session kept nowhere (the panel's sign-on) stays so.
        let kept = session_store()
            .and_then(|s| s.get_item(KEY).ok().flatten())
            .is_some();
        self.0.update(|d| {
            if let Some(d) = d {
                d.customer = customer;
                if kept {
                    save(d);
                }
            }
        });
    }

    pub fn customer(&self) -> Option<Customer> {
        self.0.with(|d| d.as_ref().map(|d| d.customer.clone()))
    }

    pub fn customer_id_untracked(&self) -> Option<String> {
        self.0
            .with_untracked(|d| d.as_ref().map(|d| d.customer.id.clone()))
    }
}

thread_local! {
    /// Set when the server ended the session, until the next login: whether drafts were kept.
    static EXPIRED: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Whether the last session was ended by the server rather than by a logout (`Some`), and then
/// whether the customer has a draft waiting. Kept in memory only: a reload forgets it.
pub fn expired() -> Option<bool> {
    EXPIRED.with(|e| e.get())
}

thread_local! {
    static LAST_TOUCH: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Notes activity (any answer from the API), keeping the stored session alive; written back at
/// most once a minute.
pub fn note_activity() {
    let now = js_sys::Date::now();
    if now - LAST_TOUCH.with(|t| t.get()) < TOUCH_MS {
        return;
    }
    LAST_TOUCH.with(|t| t.set(now));
    let Some(store) = session_store() else {
        return;
    };
    let stored: Option<SessionData> = store
        .get_item(KEY)
        .ok()
        .flatten()
        .and_then(|j| crate::json::parse(&j));
    if let Some(mut data) = stored {
        data.active_ms = now;
        save(&data);
    }
}

fn save(data: &SessionData) {
    if let (Some(s), Some(j)) = (session_store(), crate::json::stringify(data)) {
        let _ = s.set_item(KEY, &j);
    }
}

pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session(RwSignal::new(None)))
}

/// Where to go back after logging in again (only paths of this app). The login page itself is
/// never remembered: a request that fails while it shows must not replace the page the customer
/// came for (a ticket opened from an e-mail).
/// `path` is the browser's (base path included); the router navigates without it.
pub fn remember_return(path: &str) {
    let base = crate::config::config().base.as_str();
    let inside = path
        .strip_prefix(base)
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path);
    if is_login(inside) {
        return;
    }
    if let Some(s) = session_storage() {
        let _ = s.set_item(RETURN_KEY, inside);
    }
}

pub fn take_return() -> Option<String> {
    let s = session_storage()?;
    let v = s.get_item(RETURN_KEY).ok().flatten()?;
    let _ = s.remove_item(RETURN_KEY);
    (v.starts_with('/') && !v.starts_with("//") && !is_login(&v)).then_some(v)
}

fn is_login(path: &str) -> bool {
    path == "/login" || path.starts_with("/login?") || path.starts_with("/login/")
}
