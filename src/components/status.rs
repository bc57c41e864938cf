//! Small labelled badges: status and priority, never colour alone.

use crate::texts::{priority_label, status_label};
use helpdesk_core::api::{Priority, Status};
use leptos::prelude::*;

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    view! { <span class=["badge status-", status.as_str()].concat()>{status_label(status)}</span> }
}

#[component]
pub fn PriorityBadge(priority: Priority) -> impl IntoView {
    view! { <span class=["badge priority-", priority.as_str()].concat()>{priority_label(priority)}</span> }
}
