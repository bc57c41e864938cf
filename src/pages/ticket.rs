//! One ticket and its history: loads it by the code in the address, with loading, not-found and
//! error states; the ticket itself is `TicketView`.

use crate::api::{use_api, ApiError};
use crate::components::layout::Layout;
use crate::components::load::{LoadFailed, Loading, Loads};
use crate::components::ticket_view::TicketView;
use crate::i18n::*;
use crate::nav::Link;
use crate::pages::not_found::NotFound;
use helpdesk_core::api::Ticket;
use helpdesk_core::code::TicketCode;
use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;
use leptos::Params;
use leptos_router::hooks::use_params;
use leptos_router::params::Params;

/// The address's parameters: `/tickets/:code`.
#[derive(Params, Clone, PartialEq)]
struct TicketAddress {
    code: Option<TicketCode>,
}

/// The ticket whose code is in the address; an address that holds no code is a page not found.
#[component]
pub fn TicketPage() -> impl IntoView {
    let params = use_params::<TicketAddress>();
    let code = Memo::new(move |_| params.with(|p| p.as_ref().ok().and_then(|p| p.code.clone())));
    let valid = Memo::new(move |_| code.with(Option::is_some));
    let code = Signal::derive(move || {
        code.with(|c| c.as_ref().map(|c| c.as_str().to_string()))
            .unwrap_or_default()
    });
    move || {
        if valid.get() {
            Either::Left(view! { <Layout><TicketScreen code/></Layout> })
        } else {
            Either::Right(view! { <NotFound/> })
        }
    }
}

#[derive(Clone, PartialEq)]
enum Load {
    Loading,
    NotFound,
    Failed(String),
    Ready,
}

/// The ticket with this code, whatever state its loading is in.
#[component]
pub fn TicketScreen(#[prop(into)] code: Signal<String>) -> impl IntoView {
    let i18n = use_i18n();
    let state = RwSignal::new(Load::Loading);
    // The loaded ticket moves into the view once (no copy of a long thread).
    let loaded = StoredValue::new(None::<Ticket>);
    // An answer for a code the page has already left is dropped.
    let (api, loads) = (use_api(), Loads::default());

    let load = move || {
        let code = code.get_untracked();
        state.set(Load::Loading);
        loads.begin(async move { api.ticket(&code).await }, move |result| {
            state.set(match result {
                Ok(ticket) => {
                    loaded.set_value(Some(ticket));
                    Load::Ready
                }
                Err(ApiError::Http { status: 404, .. }) => Load::NotFound,
                // The session guard is already on its way to the login page.
                Err(ApiError::Unauthorized) => Load::Loading,
                Err(e) => Load::Failed(e.message(i18n.get_locale_untracked())),
            });
        });
    };
    crate::effect(move || {
        code.track();
        load();
    });

    // `EitherOf4` rather than `into_any()`: the same views, less wasm.
    move || match state.get() {
        Load::Loading => EitherOf4::A(view! { <Loading/> }),
        Load::NotFound => EitherOf4::B(view! {
            <div class="not-found">
                <h1>{tr!(i18n, ticket_not_found_title)}</h1>
                <p>{tr!(i18n, ticket_not_found)}</p>
                <p><Link to="/">{tr!(i18n, back_to_list)}</Link></p>
            </div>
        }),
        Load::Failed(msg) => EitherOf4::C(view! {
            <LoadFailed message=[t_string!(i18n, ticket_load_failed), " ", &msg].concat() retry=Callback::new(move |()| load())/>
        }),
        Load::Ready => EitherOf4::D(
            loaded
                .try_update_value(Option::take)
                .flatten()
                .map(|ticket| view! { <TicketView ticket/> }),
        ),
    }
}
