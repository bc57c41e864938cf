//! Any address the app does not know.

use crate::texts::tx;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    let t = tx();
    view! {
        <main id="main" class="narrow">
            <h1>{t.not_found_title}</h1>
            <p><A href="/">{t.not_found_back}</A></p>
        </main>
    }
}
