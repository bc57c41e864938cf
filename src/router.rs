//! The app's routes, in one place, on leptos_router: `<Router base>` for `HELPDESK_BASE_PATH`, a
//! route per page, the ticket's code as a typed parameter, and a guard for the pages that need a
//! session. Links are plain `<a href>`s, which the router takes over on click (see `crate::nav`).

use crate::api::use_api;
use crate::nav::{base, here, Navigator, PageTitle};
use crate::pages;
use crate::pieces;
use crate::session::{remember_return, use_session};
use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Redirect, Route, Router};
use leptos_router::{path, NavigateOptions};

/// The router and every page of the app.
#[component]
pub fn AppRouter() -> impl IntoView {
    view! {
        <Router base=base().to_string()>
            <Navigator/>
            <PageTitle/>
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
        use_api().new_page();
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
        use_api().new_page();
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
