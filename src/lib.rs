//! The customer helpdesk web app: a router over a few pages, one typed API client, and the
//! rules it shares with the server from `helpdesk-core`.

pub mod api;
pub mod components;
pub mod config;
pub mod drafts;
pub mod format;
pub mod pages;
pub mod session;
pub mod texts;

use crate::config::config;
use crate::session::{remember_return, use_session, Session};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;

/// Mounts the app into the page body.
pub fn start() {
    leptos::mount::mount_to_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    provide_context(Session::restore());
    view! {
        <Router base=config().base.clone()>
            <SessionGuard/>
            <Routes fallback=|| view! { <pages::not_found::NotFound/> }>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <Route path=path!("/") view=pages::tickets::TicketListPage/>
                <Route path=path!("/nuovo") view=pages::wizard::WizardPage/>
                <Route path=path!("/tickets/:code") view=pages::ticket::TicketPage/>
                <Route path=path!("/email-rifiutate") view=pages::rejections::RejectionsPage/>
            </Routes>
        </Router>
    }
}

/// A 401 anywhere ends the session and brings the login back, remembering where the user was.
#[component]
fn SessionGuard() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let location = use_location();
    api::set_unauthorized_handler(move || {
        let here = location.pathname.get_untracked() + &location.search.get_untracked();
        remember_return(&here);
        session.end(false);
        navigate("/login", Default::default());
    });
    // Pages other than login need a session.
    let navigate = use_navigate();
    Effect::new(move |_| {
        let path = location.pathname.get();
        if session.0.with(|s| s.is_none()) && !path.ends_with("/login") {
            remember_return(&(path + &location.search.get_untracked()));
            navigate("/login", Default::default());
        }
    });
}
