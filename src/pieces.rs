//! The pages that are not the login, each in a piece of wasm of its own, fetched the first time
//! it is shown (`cargo xtask build-app` splits the app's wasm at these functions with
//! wasm_split). The login and what every page shares load at once; a customer on a slow phone
//! does not wait for the wizard, the thread or the uploads to sign in.
//!
//! A piece that fails to arrive (the network, a 503) is shown as a sentence with a button that
//! fetches it again: a failed load is not remembered, so the retry really fetches.

use crate::components::load::{LoadFailed, Loading};
use crate::i18n::*;
use crate::nav::Link;
use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;
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

split!(
    list,
    fn list_page() -> Loaded {
        Ok(crate::pages::tickets::TicketListPage().into_any())
    }
);

split!(
    wizard,
    fn wizard_page() -> Loaded {
        Ok(crate::pages::wizard::WizardPage().into_any())
    }
);

split!(
    ticket,
    fn ticket_page() -> Loaded {
        Ok(crate::pages::ticket::TicketPage().into_any())
    }
);

split!(
    rejections,
    fn rejections_page() -> Loaded {
        Ok(crate::pages::rejections::RejectionsPage().into_any())
    }
);

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
/// failure with a retry if it does not. Neither has the frame of the pages (the page brings its
/// own; a frame swapped for another would take the focus away with it, and the frame's code
/// would have to load with the login): the failure offers the way back to the list instead.
fn piece(load: Load) -> impl IntoView {
    let attempt = RwSignal::new(0u32);
    view! {
        <Suspense fallback=Loading>
            {move || {
                attempt.track();
                Suspend::new(async move {
                    match load().await {
                        Ok(page) => page,
                        Err(Missing) => view! { <PieceFailed attempt/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The sentence of a piece that did not arrive, with its retry and the way back to the list, in
/// the language on screen; the page's content, where the focus goes.
#[component]
fn PieceFailed(attempt: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let retry = Callback::new(move |()| attempt.update(|n| *n += 1));
    let main = NodeRef::<leptos::html::Main>::new();
    crate::effect(move || {
        if let Some(main) = main.get() {
            crate::focus_if_lost(main);
        }
    });
    view! {
        <main id="main" tabindex="-1" node_ref=main>
            {move || view! { <LoadFailed message=t_string!(i18n, piece_failed) retry/> }}
            <p><Link to="/">{tr!(i18n, my_tickets)}</Link></p>
        </main>
    }
}
