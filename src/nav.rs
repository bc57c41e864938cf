//! Links and navigation: the addresses of the app below its base path, the router's `navigate`
//! for code outside the views (`Nav`), the links, and the tab's title. No page is imported
//! here: pages import this.

use crate::config::config;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

/// How to go somewhere: whether the current entry of the history is replaced, and whether the
/// page scrolls to the top.
#[derive(Clone, Copy)]
struct Go {
    replace: bool,
    scroll: bool,
}

/// The router's `navigate`, for code that runs outside the views (the panel's messages, the
/// login's answer, a page's state put in the address).
type Navigate = Box<dyn Fn(&str, NavigateOptions)>;

/// Navigation, provided once by `App` and given the router's `navigate` by `Navigator`: a
/// handle to copy into event handlers and tasks.
#[derive(Clone, Copy)]
pub struct Nav {
    navigate: StoredValue<Option<Navigate>, LocalStorage>,
    /// Inside the panel's widget the address is always replaced, never added: the panel's Back
    /// button is the panel's, not ours (set by `crate::embed` once the panel is verified).
    replace_always: StoredValue<bool>,
}

impl Default for Nav {
    fn default() -> Self {
        Nav {
            navigate: StoredValue::new_local(None),
            replace_always: StoredValue::new(false),
        }
    }
}

/// The app's navigation (one that goes nowhere for a piece of the app mounted on its own).
pub fn use_nav() -> Nav {
    use_context::<Nav>().unwrap_or_default()
}

/// Keeps the router's `navigate` where `Nav` finds it.
#[component]
pub fn Navigator() -> impl IntoView {
    let navigate = use_navigate();
    use_nav()
        .navigate
        .set_value(Some(Box::new(move |to: &str, options| {
            navigate(&href(to), options)
        })));
}

impl Nav {
    /// From now on every change of address replaces the current one (inside the panel's widget).
    pub fn replace_always(self) {
        self.replace_always.set_value(true);
    }

    /// Whether links replace the address rather than add one.
    pub fn replaces(self) -> bool {
        self.replace_always.try_get_value().unwrap_or(false)
    }

    fn go(self, to: &str, how: Go) {
        let options = NavigateOptions {
            // The address as our links write it ("/PanelNML/", not the router's "/PanelNML").
            resolve: false,
            replace: how.replace || self.replaces(),
            scroll: how.scroll,
            ..NavigateOptions::default()
        };
        self.navigate.with_value(|n| {
            if let Some(navigate) = n {
                navigate(to, options)
            }
        });
    }

    /// Opens a path below the base (with its query, if any), adding it to the history.
    pub fn navigate(self, to: &str) {
        self.go(
            to,
            Go {
                replace: false,
                scroll: true,
            },
        );
    }

    /// Opens a path below the base in place of the current one, which Back will not return to
    /// (the login, once it has done its work).
    pub fn redirect(self, to: &str) {
        self.go(
            to,
            Go {
                replace: true,
                scroll: true,
            },
        );
    }

    /// Puts a page's state in its address (a path below the base and a query) without a new
    /// entry in the history and without scrolling: Back to this page later finds it as it was
    /// left.
    pub fn keep_in_address(self, to: &str) {
        self.go(
            to,
            Go {
                replace: true,
                scroll: false,
            },
        );
    }
}

/// The base path without its trailing slash: "" or e.g. "/PanelNML".
pub fn base() -> &'static str {
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
pub fn page_of(path: &str) -> &str {
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
pub fn PageTitle() -> impl IntoView {
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
pub fn here() -> String {
    let location = window().location();
    below_base(&location.pathname().unwrap_or_default()) + &location.search().unwrap_or_default()
}

/// A link to a page of the app. Inside the panel's widget it replaces the address (see
/// `Nav::replace_always`).
#[component]
pub fn Link(
    #[prop(into)] to: String,
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <a href=href(&to) class=(!class.is_empty()).then_some(class) prop:replace=use_nav().replaces()>
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
        <a href=href(&to) prop:replace=use_nav().replaces() aria-current=current>{children()}</a>
    }
}
