//! How a page loads its data, written once: `Loads` runs the request and keeps only the latest
//! answer; `Loading` is the line shown meanwhile, `LoadFailed` a failure that says what went
//! wrong and offers to try again.
//!
//! A plain task and signals, not `LocalResource` with `<Suspense>`: measured for issue 23, those
//! cost 14.5 KB gzip of download for the one list of refused e-mails (433,889 bytes against
//! 419,390), where the limit was 5 KB a page.

use crate::i18n::*;
use leptos::prelude::*;
use std::future::Future;

/// A page's loads of one thing (the ticket, the list, the refused e-mails). An answer counts
/// only if no load began after it (a retry, another ticket's code, another tab of the list) and
/// the page is still there: a later answer never gives way to an earlier one.
#[derive(Clone, Copy)]
pub struct Loads(StoredValue<u32>);

impl Default for Loads {
    fn default() -> Self {
        Loads(StoredValue::new(0))
    }
}

impl Loads {
    /// Begins a load: the answers of the ones before are dropped from now on.
    pub fn begin<T: 'static>(
        self,
        request: impl Future<Output = T> + 'static,
        answered: impl FnOnce(T) + 'static,
    ) {
        let Some(latest) = self.0.try_update_value(|n| {
            *n += 1;
            *n
        }) else {
            return;
        };
        self.follow(latest, request, answered);
    }

    /// The latest load, for a request that belongs to it (the next page of the list, a refresh
    /// from the live news); `None` once the page is gone.
    pub fn latest(self) -> Option<u32> {
        self.0.try_get_value()
    }

    /// A request that belongs to the load `of`: its answer is dropped if another load began
    /// since.
    pub fn follow<T: 'static>(
        self,
        of: u32,
        request: impl Future<Output = T> + 'static,
        answered: impl FnOnce(T) + 'static,
    ) {
        leptos::task::spawn_local(async move {
            let answer = request.await;
            if self.0.try_get_value() == Some(of) {
                answered(answer);
            }
        });
    }
}

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
