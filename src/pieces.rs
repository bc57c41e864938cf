//! The pages that are not the login, each in a piece of wasm of its own, fetched the first time
//! it is shown (`cargo xtask build-app` splits the app's wasm at these functions with
//! wasm_split). The login and what every page shares load at once; a customer on a slow phone
//! does not wait for the wizard, the thread or the uploads to sign in.
//!
//! A piece that fails to arrive (the network, a 503) is shown as a sentence with a button that
//! fetches it again: a failed load is not remembered, so the retry really fetches.

use crate::components::layout::Layout;
use crate::components::load::{LoadFailed, Loading};
use crate::i18n::*;
use leptos::prelude::*;
use leptos::wasm_split::{wasm_split, SplitLoaderError};
use std::future::Future;
use std::pin::Pin;

/// A piece that did not arrive.
pub struct Missing;

impl From<SplitLoaderError> for Missing {
    fn from(_: SplitLoaderError) -> Self {
        Missing
    }
}

type Loaded = Result<AnyView, Missing>;
type Load = fn() -> Pin<Box<dyn Future<Output = Loaded> + Send>>;

#[wasm_split(list, fallible, wasm_split_path = ::leptos::wasm_split)]
fn list_page() -> Loaded {
    Ok(crate::pages::tickets::TicketListPage().into_any())
}

#[wasm_split(wizard, fallible, wasm_split_path = ::leptos::wasm_split)]
fn wizard_page() -> Loaded {
    Ok(crate::pages::wizard::WizardPage().into_any())
}

#[wasm_split(ticket, fallible, wasm_split_path = ::leptos::wasm_split)]
fn ticket_page() -> Loaded {
    Ok(crate::pages::ticket::TicketPage().into_any())
}

#[wasm_split(rejections, fallible, wasm_split_path = ::leptos::wasm_split)]
fn rejections_page() -> Loaded {
    Ok(crate::pages::rejections::RejectionsPage().into_any())
}

/// The list of tickets.
pub fn list() -> impl IntoView {
    piece(|| Box::pin(list_page()))
}

/// The wizard of a new ticket.
pub fn wizard() -> impl IntoView {
    piece(|| Box::pin(wizard_page()))
}

/// A ticket and its thread.
pub fn ticket() -> impl IntoView {
    piece(|| Box::pin(ticket_page()))
}

/// The e-mails that were refused.
pub fn rejections() -> impl IntoView {
    piece(|| Box::pin(rejections_page()))
}

/// A page from its piece: the loading line while it arrives, the page once it has, and a
/// failure with a retry if it does not. The first two inside the frame of every page, so the
/// customer can still go elsewhere while a piece is missing.
fn piece(load: Load) -> impl IntoView {
    let attempt = RwSignal::new(0u32);
    view! {
        <Suspense fallback=|| view! { <Layout><Loading/></Layout> }>
            {move || {
                attempt.track();
                Suspend::new(async move {
                    match load().await {
                        Ok(page) => page,
                        Err(Missing) => view! { <Layout><PieceFailed attempt/></Layout> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The sentence of a piece that did not arrive, with its retry (in the language on screen).
#[component]
fn PieceFailed(attempt: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let retry = Callback::new(move |()| attempt.update(|n| *n += 1));
    move || view! { <LoadFailed message=t_string!(i18n, piece_failed) retry/> }
}
