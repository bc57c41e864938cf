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

/// A function in a wasm piece of its own, fetched the first time it is called, when the app is
/// built in pieces (the `pieces` feature, which `cargo xtask build-app` gives Trunk and splits
/// after; see src/pieces.rs); an ordinary `async fn` otherwise (the component tests, whose runner
/// has no loader of pieces). A piece that does not arrive is `Err(pieces::Missing)`, and the next
/// call fetches it again.
macro_rules! split {
    ($piece:ident, $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$doc])*
        #[cfg(feature = "pieces")]
        #[leptos::wasm_split::wasm_split($piece, fallible, wasm_split_path = ::leptos::wasm_split)]
        fn $name($($arg: $ty),*) -> $ret $body
        $(#[$doc])*
        #[cfg(not(feature = "pieces"))]
        async fn $name($($arg: $ty),*) -> $ret $body
    };
}

pub mod api;
pub mod components;
pub mod config;
pub mod drafts;
pub mod embed;
pub mod expiry;
pub mod format;
pub mod json;
pub mod language;
pub mod live;
pub mod nav;
pub mod pages;
pub mod pieces;
pub mod router;
pub mod session;
pub mod texts;
pub mod ticket_state;

use crate::api::{Api, Hooks};
use crate::session::Session;
use leptos::prelude::*;

/// An effect (run after mount, then on every change of what it reads). Every effect of the app
/// goes through this one boxed instantiation of `Effect::new`: each closure type would otherwise
/// compile its own copy of the effect's task.
pub fn effect(f: impl FnMut() + 'static) {
    let mut f: Box<dyn FnMut()> = Box::new(f);
    Effect::new(move |_| f());
}

/// Moves the focus to where a new page starts when the old page took the focus away with it (the
/// link or button just used, the login form): left on <body>, the next Tab would start over from
/// the top and a screen reader would say nothing. Looked at once the page is in the document: a
/// page that comes in a piece is built inside its `Suspense` before it is shown, and an element
/// not yet shown cannot take the focus.
pub fn focus_if_lost(el: web_sys::HtmlElement) {
    request_animation_frame(move || {
        let doc = document();
        let lost = match (doc.active_element(), doc.body()) {
            (Some(active), Some(body)) => active == *body || !active.is_connected(),
            _ => true,
        };
        if lost && el.is_connected() {
            focus_in_place(&el);
        }
    });
}

/// Moves the focus to an element that is where the page starts (the content of a new page, the
/// login's first field) without scrolling to it: inside the widget's frame, still as short as
/// the panel first made it, focusing scrolled the page and left its header's links out of sight.
pub fn focus_in_place(el: &web_sys::HtmlElement) {
    let options = web_sys::FocusOptions::new();
    options.set_prevent_scroll(true);
    let _ = el.focus_with_options(&options);
}

/// Mounts the app into the page body, once the first view of index.html has been painted.
pub fn start() {
    // The page asks for this wasm only once the browser has reported the first view's largest
    // paint (`first_view_first` in xtask/src/main.rs), so the first view can be taken away now:
    // taken away before that report, it did not count as the largest paint, and Lighthouse's
    // waited for the app.
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    leptos::mount::mount_to_body(App);
}

/// The app, and every piece of its state, provided here once for the whole app: the session,
/// the language, navigation, the widget's side, the API client, the live stream, the uploads,
/// the ticket handed from a refused e-mail to the wizard. Code that runs outside the views (the
/// browser's callbacks, timers, tasks) copies the handles it needs when it is set up.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::restore();
    provide_context(session);
    let (i18n, choice) = language::provide(session);
    let nav = nav::Nav::default();
    provide_context(nav);
    let embed = embed::Embed::new(Some(choice));
    provide_context(embed);
    let api = Api::new(Hooks {
        token: Box::new(move || session.token()),
        language: Box::new(move || language::code(i18n.get_locale_untracked())),
        activity: Box::new(move || session.note_activity()),
        ended: Box::new(move || expiry::session_ended(session, embed)),
    });
    provide_context(api);
    let live = live::Live::default();
    provide_context(live);
    provide_context(components::attachments::Uploads::default());
    provide_context(pages::wizard::FromMail::default());
    components::mail_delivery::watch(session, api);
    embed::start(embed, session, api, nav, i18n);
    live.start(session, api, embed);
    view! { <router::AppRouter/> }
}
// The texts with a count are leptos_i18n ranges (see `leptos_i18n` in Cargo.toml), which 0.6
// marks deprecated in favour of ICU's plural rules.
#[allow(deprecated)]
mod texts_generated {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}
pub use texts_generated::i18n;
