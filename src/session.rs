//! Who is logged in: the token and account, kept in the tab's sessionStorage so a reload keeps
//! the session and closing the tab ends it. Drafts live in localStorage, per customer.

use helpdesk_core::api::{Customer, LoginResponse};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

const KEY: &str = "helpdesk.session";
const RETURN_KEY: &str = "helpdesk.return_to";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    pub token: String,
    pub customer: Customer,
}

#[derive(Clone, Copy)]
pub struct Session(pub RwSignal<Option<SessionData>>);

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

impl Session {
    /// The session saved in this tab, if any.
    pub fn restore() -> Self {
        let data: Option<SessionData> = session_storage()
            .and_then(|s| s.get_item(KEY).ok().flatten())
            .and_then(|j| crate::json::parse(&j));
        crate::api::set_token(data.as_ref().map(|d| d.token.clone()));
        Session(RwSignal::new(data))
    }

    pub fn start(&self, r: LoginResponse) {
        let data = SessionData {
            token: r.token,
            customer: r.customer,
        };
        if let (Some(s), Some(j)) = (session_storage(), crate::json::stringify(&data)) {
            let _ = s.set_item(KEY, &j);
        }
        crate::api::set_token(Some(data.token.clone()));
        self.0.set(Some(data));
    }

    /// Forgets the session (expired, or logged out); drafts stay unless `forget_drafts`.
    pub fn end(&self, forget_drafts: bool) {
        if forget_drafts {
            if let (Some(ls), Some(d)) = (local_storage(), self.0.get_untracked()) {
                for key in crate::drafts::keys_of(&d.customer.id) {
                    let _ = ls.remove_item(&key);
                }
            }
        }
        if let Some(s) = session_storage() {
            let _ = s.remove_item(KEY);
        }
        crate::api::set_token(None);
        self.0.set(None);
    }

    pub fn customer(&self) -> Option<Customer> {
        self.0.with(|d| d.as_ref().map(|d| d.customer.clone()))
    }

    pub fn customer_id_untracked(&self) -> Option<String> {
        self.0
            .with_untracked(|d| d.as_ref().map(|d| d.customer.id.clone()))
    }
}

pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session(RwSignal::new(None)))
}

/// Where to go back after logging in again (only paths of this app).
/// `path` is the browser's (base path included); the router navigates without it.
pub fn remember_return(path: &str) {
    let base = crate::config::config().base.as_str();
    let inside = path
        .strip_prefix(base)
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path);
    if let Some(s) = session_storage() {
        let _ = s.set_item(RETURN_KEY, inside);
    }
}

pub fn take_return() -> Option<String> {
    let s = session_storage()?;
    let v = s.get_item(RETURN_KEY).ok().flatten()?;
    let _ = s.remove_item(RETURN_KEY);
    (v.starts_with('/') && !v.starts_with("//") && !v.starts_with("/login")).then_some(v)
}
