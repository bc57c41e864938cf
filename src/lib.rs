//! The customer helpdesk web app: a router over a few pages, one typed API client, and the
//! rules it shares with the server from `helpdesk-core`.

pub mod api;
pub mod components;
pub mod config;
pub mod drafts;
pub mod embed;
pub mod format;
pub mod json;
pub mod pages;
pub mod router;
pub mod session;
pub mod texts;

use crate::router::{navigate, Route};
use crate::session::{remember_return, use_session, Session};
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
    leptos::mount::mount_to_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    let session = Session::restore();
    provide_context(session);
    embed::start(session);
    let path = router::path();
    let route = Memo::new(move |_| path.with(|p| Route::parse(p)));
    view! {
        <SessionGuard/>
        {move || {
            // Reads of the page being replaced are aborted.
            api::new_page();
            match route.get() {
            // A page that needs a session is not even begun without one (its request would only
            // come back 401): the guard below takes the customer to the login.
            r if r != Route::Login && session.0.with(|s| s.is_none()) => ().into_any(),
            Route::Login => view! { <pages::login::LoginPage/> }.into_any(),
            Route::Tickets => view! { <pages::tickets::TicketListPage/> }.into_any(),
            Route::NewTicket => view! { <pages::wizard::WizardPage/> }.into_any(),
            Route::Ticket(code) => view! { <pages::ticket::TicketPage code/> }.into_any(),
            Route::Rejections => view! { <pages::rejections::RejectionsPage/> }.into_any(),
            Route::NotFound => view! { <pages::not_found::NotFound/> }.into_any(),
        }}}
    }
}

/// A 401 anywhere ends the session and brings the login back, remembering where the user was.
#[component]
fn SessionGuard() -> impl IntoView {
    let session = use_session();
    let path = router::path();
    let here = path.clone();
    api::set_unauthorized_handler(move || {
        remember_return(&(here.get_untracked() + &router::search()));
        session.end(false);
        // Inside a signed-on widget the panel is asked for a new token; the login page says so.
        embed::session_lost();
        navigate("/login");
    });
    // Pages other than login need a session.
    effect(move || {
        let path = path.get();
        if session.0.with(|s| s.is_none()) && Route::parse(&path) != Route::Login {
            remember_return(&(path + &router::search()));
            navigate("/login");
        }
    });
}
