//! The app's own small router: the address below the base path (`HELPDESK_BASE_PATH`) picks the
//! page. Links are plain `<a href>`s, taken over on click so the page does not reload; the back
//! and forward buttons work through `popstate`. It replaces `leptos_router`, which cost about a
//! sixth of the app's download for five routes.

use crate::config::config;
use leptos::prelude::*;
use std::cell::OnceCell;
use wasm_bindgen::JsCast;

/// The pages, by address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Login,
    Tickets,
    NewTicket,
    Ticket(String),
    Rejections,
    NotFound,
}

impl Route {
    /// The page of a path below the base, e.g. "/tickets/FPL-809-43017".
    pub fn parse(path: &str) -> Route {
        let path = path.trim_end_matches('/');
        match path {
            "" => Route::Tickets,
            "/login" => Route::Login,
            "/nuovo" => Route::NewTicket,
            "/email-rifiutate" => Route::Rejections,
            _ => match path.strip_prefix("/tickets/") {
                Some(code) if !code.is_empty() && !code.contains('/') => {
                    Route::Ticket(code.to_string())
                }
                _ => Route::NotFound,
            },
        }
    }
}

thread_local! {
    /// The path below the base, kept in step with the address bar.
    static PATH: OnceCell<ArcRwSignal<String>> = const { OnceCell::new() };
    /// The query ("?…" or ""), kept in step with the address bar: pages that keep their state
    /// there (the list's tab and search) follow it on Back and Forward.
    static SEARCH: OnceCell<ArcRwSignal<String>> = const { OnceCell::new() };
}

/// The current query, "?…" or "", as a signal.
pub fn search_signal() -> ArcRwSignal<String> {
    path();
    SEARCH.with(|cell| cell.get_or_init(|| ArcRwSignal::new(search())).clone())
}

/// Puts a page's state in the query of the current history entry (no new entry): Back to this
/// page later finds it as it was left.
pub fn replace_query(query: &str) {
    let query = if query.is_empty() || query.starts_with('?') {
        query.to_string()
    } else {
        ["?", query].concat()
    };
    if query == search() {
        return;
    }
    let url = href(&path().get_untracked()) + &query;
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
    search_signal().set(query);
}

/// The base path without its trailing slash: "" or e.g. "/PanelNML".
fn base() -> &'static str {
    config().base.trim_end_matches('/')
}

/// The address of a path below the base, for an `href`.
pub fn href(path: &str) -> String {
    [base(), path].concat()
}

fn window() -> web_sys::Window {
    leptos::prelude::window()
}

/// The address bar's path below the base, or `None` when it is not below the base.
fn below_base(pathname: &str) -> Option<String> {
    let rest = pathname.strip_prefix(base())?;
    if rest.is_empty() {
        Some("/".into())
    } else {
        rest.starts_with('/').then(|| rest.to_string())
    }
}

fn current_path() -> String {
    let pathname = window().location().pathname().unwrap_or_default();
    below_base(&pathname).unwrap_or(pathname)
}

/// The current path below the base, as a signal (listening to the address on first use).
pub fn path() -> ArcRwSignal<String> {
    PATH.with(|cell| {
        cell.get_or_init(|| {
            let path = ArcRwSignal::new(current_path());
            let on_pop = path.clone();
            window_event_listener_untyped("popstate", move |_| {
                on_pop.set(current_path());
                search_signal().set(search());
            });
            let on_click = path.clone();
            window_event_listener(leptos::ev::click, move |ev| {
                if let Some(to) = link_target(&ev) {
                    ev.prevent_default();
                    go(&on_click, &to);
                }
            });
            path
        })
        .clone()
    })
}

/// The path below the base that a click on a link of ours should open in place, if it should.
fn link_target(ev: &web_sys::MouseEvent) -> Option<String> {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.ctrl_key()
        || ev.meta_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return None;
    }
    let target: web_sys::Element = ev.target()?.dyn_into().ok()?;
    let a: web_sys::HtmlAnchorElement = target.closest("a[href]").ok()??.dyn_into().ok()?;
    if a.has_attribute("download") || !matches!(a.target().as_str(), "" | "_self") {
        return None;
    }
    let here = window().location();
    if a.origin() != here.origin().ok()? {
        return None;
    }
    // A link to a place on this page (the skip link) is the browser's.
    if !a.hash().is_empty() && a.pathname() == here.pathname().ok()? {
        return None;
    }
    Some(below_base(&a.pathname())? + &a.search())
}

fn go(path: &ArcRwSignal<String>, to: &str) {
    let url = href(to);
    let location = window().location();
    let here = location.pathname().unwrap_or_default() + &location.search().unwrap_or_default();
    // The page already open is not added to the history again. Inside the panel's widget the
    // address is replaced, never added: the panel's Back button is the panel's, not ours.
    if url != here {
        if let Ok(history) = window().history() {
            let _ = if crate::embed::embedded() {
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
            } else {
                history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
            };
        }
    }
    window().scroll_to_with_x_and_y(0.0, 0.0);
    let (p, q) = to.split_once('?').unwrap_or((to, ""));
    path.set(p.to_string());
    let q = if q.is_empty() {
        String::new()
    } else {
        ["?", q].concat()
    };
    SEARCH.with(|cell| {
        if let Some(s) = cell.get() {
            s.set(q);
        }
    });
}

/// Opens a path below the base (with its query, if any), adding it to the history.
pub fn navigate(to: &str) {
    go(&path(), to);
}

/// The current query string, "?…" or "".
pub fn search() -> String {
    window().location().search().unwrap_or_default()
}

/// One parameter of the address's query.
pub fn query(name: &str) -> Option<String> {
    web_sys::UrlSearchParams::new_with_str(&search())
        .ok()?
        .get(name)
}

/// A link of the app; `aria-current="page"` says which one is open.
#[component]
pub fn Link(
    #[prop(into)] to: String,
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView {
    let path = path();
    let section = to.split('?').next().unwrap_or_default().to_string();
    let current = move || {
        path.with(|p| {
            let here = Route::parse(p);
            let there = Route::parse(&section);
            // A ticket is part of the list of tickets.
            here == there || (there == Route::Tickets && matches!(here, Route::Ticket(_)))
        })
        .then_some("page")
    };
    view! { <a href=href(&to) class=(!class.is_empty()).then_some(class) aria-current=current>{children()}</a> }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::Route;

    #[test]
    fn paths_pick_pages() {
        assert_eq!(Route::parse("/"), Route::Tickets);
        assert_eq!(Route::parse(""), Route::Tickets);
        assert_eq!(Route::parse("/login"), Route::Login);
        assert_eq!(Route::parse("/nuovo/"), Route::NewTicket);
        assert_eq!(
            Route::parse("/tickets/FPL-809-43017"),
            Route::Ticket("FPL-809-43017".into())
        );
        assert_eq!(Route::parse("/tickets/"), Route::NotFound);
        assert_eq!(Route::parse("/tickets/a/b"), Route::NotFound);
        assert_eq!(Route::parse("/altro"), Route::NotFound);
    }
}
