//! One ticket and its history: loads it by the code in the address, with loading, not-found and
//! error states; the ticket itself is `TicketView`.

use crate::api::{self, ApiError};
use crate::components::layout::Layout;
use crate::components::ticket_view::TicketView;
use crate::router::href;
use crate::texts::tx;
use helpdesk_core::api::Ticket;
use leptos::either::EitherOf4;
use leptos::prelude::*;

#[component]
pub fn TicketPage(code: String) -> impl IntoView {
    view! { <Layout><TicketScreen code/></Layout> }
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
    let t = tx();
    let state = RwSignal::new(Load::Loading);
    // The loaded ticket moves into the view once (no copy of a long thread).
    let loaded = StoredValue::new(None::<Ticket>);
    // An answer for a code the page has already left is dropped.
    let generation = StoredValue::new(0u32);

    let load = move || {
        generation.update_value(|g| *g += 1);
        let gen = generation.get_value();
        let code = code.get_untracked();
        state.set(Load::Loading);
        leptos::task::spawn_local(async move {
            let result = api::ticket(&code).await;
            if generation.try_get_value() != Some(gen) {
                return;
            }
            state.set(match result {
                Ok(ticket) => {
                    loaded.set_value(Some(ticket));
                    Load::Ready
                }
                Err(ApiError::Http { status: 404, .. }) => Load::NotFound,
                // The session guard is already on its way to the login page.
                Err(ApiError::Unauthorized) => Load::Loading,
                Err(e) => Load::Failed(e.message()),
            });
        });
    };
    crate::effect(move || {
        code.track();
        load();
    });

    // `EitherOf4` rather than `into_any()`: the same views, less wasm.
    move || match state.get() {
        Load::Loading => EitherOf4::A(view! { <p class="loading" role="status">{t.loading}</p> }),
        Load::NotFound => EitherOf4::B(view! {
            <div class="not-found">
                <h1>{t.ticket_not_found_title}</h1>
                <p>{t.ticket_not_found}</p>
                <p><a href=href("/")>{t.back_to_list}</a></p>
            </div>
        }),
        Load::Failed(msg) => EitherOf4::C(view! {
            <div class="alert error" role="alert">
                <p>{t.ticket_load_failed}" "{msg}</p>
                <button type="button" on:click=move |_| load()>{t.retry}</button>
            </div>
        }),
        Load::Ready => EitherOf4::D(
            loaded
                .try_update_value(Option::take)
                .flatten()
                .map(|ticket| view! { <TicketView ticket/> }),
        ),
    }
}
