//! Who is logged in: the token and account. On the helpdesk's own page they are kept in
//! localStorage, so a link from an e-mail or a new tab finds the customer still logged in, until
//! `IDLE_MS` without activity; inside another site's frame (the panel's widget) in the tab's
//! sessionStorage, since the panel's sign-on brings the session there. Drafts live in
//! localStorage, per customer.

use crate::api::Api;
use crate::drafts::local_storage;
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

/// The session, provided once by `App`: a handle to copy into event handlers and tasks.
#[derive(Clone, Copy)]
pub struct Session(pub RwSignal<Option<SessionData>>, Marks);

/// What the session remembers beside its data, in memory only (a reload forgets it).
#[derive(Clone, Copy)]
pub struct Marks {
    /// Set when the server ended the session, until the next login: whether drafts were kept.
    expired: StoredValue<Option<bool>>,
    /// When activity was last written back (ms since the epoch).
    last_touch: StoredValue<f64>,
}

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

impl Session {
    /// A session with this data, kept nowhere yet.
    pub fn new(data: Option<SessionData>) -> Self {
        Session(
            RwSignal::new(data),
            Marks {
                expired: StoredValue::new(None),
                last_touch: StoredValue::new(0.0),
            },
        )
    }

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
        let session = Session::new(data);
        session.note_activity();
        session
    }

    /// The token of the session, if any (what the API client sends).
    pub fn token(&self) -> Option<String> {
        self.0
            .try_with_untracked(|d| d.as_ref().map(|d| d.token.clone()))
            .flatten()
    }

    pub fn start(&self, api: Api, r: LoginResponse) {
        self.begin(api, r, true);
    }

    /// A session for this page only, kept nowhere: the widget's sign-on through the panel, which
    /// brings a new one whenever the widget needs it (another customer may log in to the panel
    /// in this tab next).
    pub fn start_here(&self, api: Api, r: LoginResponse) {
        self.begin(api, r, false);
    }

    fn begin(&self, api: Api, r: LoginResponse, keep: bool) {
        self.1.expired.set_value(None);
        let data = SessionData {
            token: r.token,
            customer: r.customer,
            active_ms: js_sys::Date::now(),
        };
        if keep {
            save(&data);
        }
        let saved_zone = data.customer.time_zone.clone();
        self.0.set(Some(data));
        self.save_time_zone(api, &saved_zone);
    }

    /// Once after login: the browser's time zone becomes the one of the customer's e-mails when
    /// the server has another (Europe/Rome until one is known). A failure is not shown: the next
    /// login tries again.
    fn save_time_zone(&self, api: Api, saved: &str) {
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
            if let Ok(c) = api.set_time_zone(&zone).await {
                session.set_customer(c);
            }
        });
    }

    /// The server ended the session (a 401): forgotten here too, drafts kept, and the login says
    /// why (see [`Session::expired`]).
    pub fn expire(&self) {
        // Several requests may fail at once: the first, while the customer is still known, says.
        if let Some(id) = self.customer_id_untracked() {
            let draft_kept = !crate::drafts::keys_of(&id).is_empty();
            self.1.expired.set_value(Some(draft_kept));
        }
        self.end(false);
    }

    /// Forgets the session (expired, or logged out); drafts stay unless `forget_drafts`.
    pub fn end(&self, forget_drafts: bool) {
        if forget_drafts {
            // Logged out on purpose: nothing to explain, nothing kept for a next login.
            self.1.expired.set_value(None);
            if let (Some(ls), Some(d)) = (local_storage(), self.0.get_untracked()) {
                for key in crate::drafts::keys_of(&d.customer.id) {
                    let _ = ls.remove_item(&key);
                }
            }
        }
        if let Some(s) = session_store() {
            let _ = s.remove_item(KEY);
        }
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

impl Session {
    /// Whether the last session was ended by the server rather than by a logout (`Some`), and
    /// then whether the customer has a draft waiting. Kept in memory only: a reload forgets it.
    pub fn expired(&self) -> Option<bool> {
        self.1.expired.try_get_value().flatten()
    }

    /// Notes activity (any answer from the API), keeping the stored session alive; written back
    /// at most once a minute.
    pub fn note_activity(&self) {
        let now = js_sys::Date::now();
        if now - self.1.last_touch.try_get_value().unwrap_or(0.0) < TOUCH_MS {
            return;
        }
        self.1.last_touch.set_value(now);
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
}

fn save(data: &SessionData) {
    if let (Some(s), Some(j)) = (session_store(), crate::json::stringify(data)) {
        let _ = s.set_item(KEY, &j);
    }
}

pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session::new(None))
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
