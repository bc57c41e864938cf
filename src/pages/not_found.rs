//! Any address the app does not know.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main id="main" class="narrow">
            <h1>"Pagina non trovata"</h1>
            <p><A href="/">"Torna ai tuoi ticket"</A></p>
        </main>
    }
}
