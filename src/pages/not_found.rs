//! Any address the app does not know.

use crate::router::Link;
use crate::texts::tx;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    let t = tx();
    view! {
        <main id="main" class="narrow">
            <h1>{t.not_found_title}</h1>
            <p><Link to="/">{t.not_found_back}</Link></p>
        </main>
    }
}
