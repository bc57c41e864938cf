//! The app's routes, in one place, on leptos_router: `<Router base>` for `HELPDESK_BASE_PATH`, a
//! route per page, the ticket's code as a typed parameter, and a guard for the pages that need a
//! session. Links are plain `<a href>`s, which the router takes over on click.

use crate::api;
use crate::config::config;
use crate::i18n::*;
use crate::pages;
use crate::pieces;
use crate::session::{remember_return, use_session};
use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Redirect, Route, Router};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{path, NavigateOptions};
use std::cell::RefCell;

/// The router and every page of the app.
#[component]
pub fn AppRouter(children: Children) -> impl IntoView {
    view! {
        <Router base=base().to_string()>
            <Navigator/>
            <PageTitle/>
            {children()}
            <FlatRoutes fallback=pages::not_found::NotFound>
                <Route path=path!("/login") view=page(pages::login::LoginPage)/>
                <Route path=path!("/") view=signed_in(pieces::list)/>
                // The list and the wizard answer to an English address as well: `/tickets` is the
                // list's address in the API and in the ticket pages' own addresses, `/new` what an
                // English speaker types.
                <Route path=path!("/tickets") view=signed_in(pieces::list)/>
                <Route path=path!("/nuovo") view=signed_in(pieces::wizard)/>
                <Route path=path!("/new") view=signed_in(pieces::wizard)/>
                <Route path=path!("/tickets/:code") view=signed_in(pieces::ticket)/>
                <Route path=path!("/email-rifiutate") view=signed_in(pieces::rejections)/>
            </FlatRoutes>
        </Router>
    }
}

/// A page: the reads of the page it replaces are aborted as it begins.
fn page<V: IntoView + 'static>(view: fn() -> V) -> impl Fn() -> V + Clone + Send + 'static {
    move || {
        api::new_page();
        untrack(view)
    }
}

/// A page that needs a session. Without one the customer is taken to the login, which brings
/// them back here afterwards. The login replaces this address rather than adding one: Back
/// would otherwise land on this page again and be sent to the login again, never leaving.
/// (leptos_router's `ProtectedRoute` adds one, hence this guard.)
fn signed_in<V: IntoView + 'static>(
    view: fn() -> V,
) -> impl Fn() -> AnyView + Clone + Send + 'static {
    move || {
        api::new_page();
        let session = use_session();
        let present = Memo::new(move |_| session.0.with(Option::is_some));
        (move || {
            if present.get() {
                untrack(view).into_any()
            } else {
                remember_return(&here());
                let options = NavigateOptions {
                    replace: true,
                    ..NavigateOptions::default()
                };
                view! { <Redirect path="/login" options/> }.into_any()
            }
        })
        .into_any()
    }
}

/// How to go somewhere: whether the current entry of the history is replaced, and whether the
/// page scrolls to the top.
#[derive(Clone, Copy)]
struct Go {
    replace: bool,
    scroll: bool,
}

/// The router's `navigate`, for code that runs outside the views (the panel's messages, the
/// login's answer, a page's state put in the address).
type Navigate = Box<dyn Fn(&str, Go)>;

thread_local! {
    static NAVIGATE: RefCell<Option<Navigate>> = const { RefCell::new(None) };
}

/// Keeps the router's `navigate` where `navigate` below finds it.
#[component]
fn Navigator() -> impl IntoView {
    let navigate = use_navigate();
    NAVIGATE.with(|n| {
        *n.borrow_mut() = Some(Box::new(move |to: &str, how: Go| {
            let options = NavigateOptions {
                // The address as our links write it ("/PanelNML/", not the router's "/PanelNML").
                resolve: false,
                // Inside the panel's widget the address is always replaced, never added: the
                // panel's Back button is the panel's, not ours.
                replace: how.replace || crate::embed::embedded(),
                scroll: how.scroll,
                ..NavigateOptions::default()
            };
            navigate(&href(to), options)
        }))
    });
}

fn go(to: &str, how: Go) {
    NAVIGATE.with(|n| {
        if let Some(navigate) = n.borrow().as_ref() {
            navigate(to, how)
        }
    });
}

/// Opens a path below the base (with its query, if any), adding it to the history.
pub fn navigate(to: &str) {
    go(
        to,
        Go {
            replace: false,
            scroll: true,
        },
    );
}

/// Opens a path below the base in place of the current one, which Back will not return to
/// (the login, once it has done its work).
pub fn redirect(to: &str) {
    go(
        to,
        Go {
            replace: true,
            scroll: true,
        },
    );
}

/// Puts a page's state in its address (a path below the base and a query) without a new entry
/// in the history and without scrolling: Back to this page later finds it as it was left.
pub fn keep_in_address(to: &str) {
    go(
        to,
        Go {
            replace: true,
            scroll: false,
        },
    );
}

/// The base path without its trailing slash: "" or e.g. "/PanelNML".
fn base() -> &'static str {
    config().base.trim_end_matches('/')
}

/// The address of a path below the base, for an `href`.
pub fn href(path: &str) -> String {
    [base(), path].concat()
}

/// A path of the address bar below the base ("/" for the base itself).
pub fn below_base(pathname: &str) -> String {
    match pathname.strip_prefix(base()) {
        Some("") => "/".into(),
        Some(rest) if rest.starts_with('/') => rest.into(),
        _ => pathname.into(),
    }
}

/// The page a path shows, by the route that answers it: the list's and the wizard's two
/// addresses are one page each.
fn page_of(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" | "/tickets" => "/",
        "/new" => "/nuovo",
        p => p,
    }
}

/// The tab's title names the page and then the app ("Ticket FPL-809-43017 – Assistenza
/// clienti"), in the language on screen. Worked out from the address, so that every page has
/// its title without saying so, and a ticket opened from another keeps the right code. The
/// live news' count ("(1) ") before it stays.
#[component]
fn PageTitle() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    crate::effect(move || {
        let l = i18n.get_locale();
        let path = location.pathname.with(|p| below_base(p));
        let ticket = path
            .strip_prefix("/tickets/")
            .and_then(helpdesk_core::code::TicketCode::parse);
        let page = match (page_of(&path), ticket) {
            (_, Some(code)) => td_string!(l, page_ticket, code = code.as_str()).to_string(),
            ("/", _) => td_string!(l, tickets_title).to_string(),
            ("/nuovo", _) => td_string!(l, wizard_title).to_string(),
            ("/email-rifiutate", _) => td_string!(l, rejections_title).to_string(),
            ("/login", _) => td_string!(l, page_login).to_string(),
            _ => td_string!(l, not_found_title).to_string(),
        };
        let doc = document();
        let old = doc.title();
        let count = old
            .strip_prefix('(')
            .and_then(|t| t.split_once(") "))
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map(|(n, _)| ["(", n, ") "].concat())
            .unwrap_or_default();
        doc.set_title(
            &[
                count.as_str(),
                page.as_str(),
                " – ",
                td_string!(l, app_title),
            ]
            .concat(),
        );
    });
}

/// Where the customer is: the path below the base and its query.
fn here() -> String {
    let location = window().location();
    below_base(&location.pathname().unwrap_or_default()) + &location.search().unwrap_or_default()
}

/// A link to a page of the app. Inside the panel's widget it replaces the address (see
/// `navigate`).
#[component]
pub fn Link(
    #[prop(into)] to: String,
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <a href=href(&to) class=(!class.is_empty()).then_some(class) prop:replace=crate::embed::embedded()>
            {children()}
        </a>
    }
}

/// A link of the app's navigation; `aria-current="page"` says which section is open (a ticket
/// is part of the list of tickets).
#[component]
pub fn NavLink(#[prop(into)] to: String, children: Children) -> impl IntoView {
    let location = use_location();
    let current = {
        let to = to.clone();
        move || {
            location
                .pathname
                .with(|p| {
                    let p = below_base(p);
                    page_of(&p) == page_of(&to)
                        || (page_of(&to) == "/" && p.starts_with("/tickets/"))
                })
                .then_some("page")
        }
    };
    view! {
        <a href=href(&to) prop:replace=crate::embed::embedded() aria-current=current>{children()}</a>
    }
}
