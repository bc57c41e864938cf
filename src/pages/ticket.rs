//! One ticket and its history (placeholder: the thread view lands with the ticket-history work).

use crate::components::layout::Layout;
use leptos::prelude::*;

#[component]
pub fn TicketPage() -> impl IntoView {
    view! { <Layout><p>"…"</p></Layout> }
}
