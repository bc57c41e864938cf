//! The states of anything a page loads, written once: the loading line, and a failure that says
//! what went wrong and offers to try again.

use crate::i18n::*;
use leptos::prelude::*;

/// Shown while a page's data is on its way (announced politely to screen readers).
#[component]
pub fn Loading() -> impl IntoView {
    let i18n = use_i18n();
    view! { <p class="loading" role="status">{tr!(i18n, loading)}</p> }
}

/// A load that failed: what happened, in a sentence, and a button that tries again.
#[component]
pub fn LoadFailed(
    /// What to say, e.g. "Impossibile caricare il ticket. Il server non risponde."
    #[prop(into)]
    message: String,
    retry: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="alert error" role="alert">
            <p>{message}</p>
            <button type="button" on:click=move |_| retry.run(())>{tr!(i18n, retry)}</button>
        </div>
    }
}
