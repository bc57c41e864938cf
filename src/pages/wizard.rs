//! The guided open-ticket wizard (placeholder).

use crate::components::layout::Layout;
use leptos::prelude::*;

#[component]
pub fn WizardPage() -> impl IntoView {
    view! { <Layout><p>"…"</p></Layout> }
}
