//! Small labelled badges: status and priority, never colour alone.

use crate::i18n::*;
use crate::texts::{priority_label, status_label};
use helpdesk_core::api::{Priority, Status};
use leptos::prelude::*;

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=["badge status-", status.as_str()].concat()>{move || status_label(i18n.get_locale(), status)}</span> }
}

#[component]
pub fn PriorityBadge(priority: Priority) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=["badge priority-", priority.as_str()].concat()>{move || priority_label(i18n.get_locale(), priority)}</span> }
}
