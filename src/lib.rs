//! The customer helpdesk web app: a router over a few pages, one typed API client, and the
//! rules it shares with the server from `helpdesk-core`.

/// A text of the app that follows the language on screen, for a view or an attribute:
/// `{tr!(i18n, login_title)}`. The key is leptos_i18n's, checked at compile time; every use is
/// the same closure type (`language::text`), so the renderer is compiled once, where `t!` makes
/// each use a closure type of its own (measured: +50 KB gzip for the app's ~100 texts).
macro_rules! tr {
    ($i18n:expr, $($key:tt)+) => {
        $crate::language::text($i18n, |l| $crate::i18n::td_string!(l, $($key)+))
    };
}

pub mod api;
pub mod components;
pub mod config;
pub mod drafts;
pub mod embed;
pub mod format;
pub mod json;
pub mod language;
pub mod pages;
pub mod router;
pub mod session;
pub mod texts;

use crate::session::{use_session, Session};
use leptos::prelude::*;

/// An effect (run after mount, then on every change of what it reads). Every effect of the app
/// goes through this one boxed instantiation of `Effect::new`: each closure type would otherwise
/// compile its own copy of the effect's task.
pub fn effect(f: impl FnMut() + 'static) {
    let mut f: Box<dyn FnMut()> = Box::new(f);
    Effect::new(move |_| f());
}

/// Mounts the app into the page body.
pub fn start() {
    // The first view of index.html gives way to the app.
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    language::init();
    leptos::mount::mount_to_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    let session = Session::restore();
    provide_context(session);
    view! {
        <language::Languages>
            <router::AppRouter>
                <Embedding/>
            </router::AppRouter>
        </language::Languages>
    }
}

/// The widget's side (when framed by the panel) and what a 401 anywhere does: the session ends,
/// and the page's guard takes the customer to the login, remembering where they were.
#[component]
fn Embedding() -> impl IntoView {
    let session = use_session();
    embed::start(session);
    api::set_unauthorized_handler(move || {
        session.end(false);
        // Inside a signed-on widget the panel is asked for a new token; the login page says so.
        embed::session_lost();
    });
}
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
