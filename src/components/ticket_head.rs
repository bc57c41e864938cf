//! The top of a ticket: its code, status and dates (kept on screen while scrolling, with a copy
//! button for the code), subject and the other facts about it.

use crate::components::status::{PriorityBadge, StatusBadge};
use crate::format::datetime;
use crate::i18n::*;
use crate::texts::{department_label, product_label};
use crate::ticket_state::TicketState;
use leptos::prelude::*;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[component]
pub fn TicketHead(state: TicketState) -> impl IntoView {
    let i18n = use_i18n();
    let info = state.info;
    let (code, subject, department, service, priority, created) = info.with_untracked(|i| {
        (
            i.code.clone(),
            i.subject.clone(),
            i.department,
            i.service.clone(),
            i.priority,
            i.created_at.clone(),
        )
    });
    let service = move || match &service {
        Some(s) => [
            product_label(i18n.get_locale(), s.family, &s.product).as_str(),
            " · ",
            s.identifier.as_str(),
        ]
        .concat(),
        None => t_string!(i18n, no_service).to_string(),
    };
    let activity = move || info.with(|i| i.last_activity_at.clone());
    // The dates are part of the sticky bar: below it, the bar covered them as soon as the page
    // scrolled, and when the ticket was opened and what happened last is what a reader checks
    // while reading the thread.
    view! {
        <div class="ticket-bar">
            <div class="ticket-id">
                <CopyCode code/>
                {move || view! { <StatusBadge status=info.with(|i| i.status)/> }}
            </div>
            <dl class="meta dates">
                <div><dt>{tr!(i18n, col_created)}</dt><dd><time datetime=created.clone()>{let at = created.clone(); move || datetime(i18n.get_locale(), &at)}</time></dd></div>
                <div>
                    <dt>{tr!(i18n, col_activity)}</dt>
                    <dd><time datetime=activity>{move || datetime(i18n.get_locale(), &activity())}</time></dd>
                </div>
            </dl>
        </div>
        <h1 class="subject">{subject}</h1>
        <dl class="meta">
            <div><dt>{tr!(i18n, col_department)}</dt><dd>{move || department_label(i18n.get_locale(), department)}</dd></div>
            <div><dt>{tr!(i18n, col_service)}</dt><dd>{service}</dd></div>
            <div><dt>{tr!(i18n, col_priority)}</dt><dd><PriorityBadge priority/></dd></div>
        </dl>
    }
}

/// The code and a copy button. The clipboard API needs a secure context and, inside the control
/// panel's iframe, the host's permission; when it is missing the code is selected instead (and the
/// old `copy` command tried), and the note says how to finish.
#[component]
fn CopyCode(code: String) -> impl IntoView {
    let i18n = use_i18n();
    let note = RwSignal::new(None::<&'static str>);
    // Each click restarts the note's timer; an older timer must not hide a newer note.
    let clicks = StoredValue::new(0u32);
    let code_el = NodeRef::<leptos::html::Span>::new();
    let show = move |text: &'static str| {
        note.set(Some(text));
        clicks.update_value(|c| *c += 1);
        let mine = clicks.get_value();
        set_timeout(
            move || {
                if clicks.try_get_value() == Some(mine) {
                    note.set(None);
                }
            },
            Duration::from_secs(4),
        );
    };
    let fallback = move || {
        let copied = code_el
            .get_untracked()
            .is_some_and(|el| select_and_copy(&el));
        show(if copied {
            t_string!(i18n, copied)
        } else {
            t_string!(i18n, copy_fallback)
        });
    };
    let text = code.clone();
    let copy = move |_| {
        let clipboard = window().navigator().clipboard();
        if clipboard.is_undefined() {
            fallback();
            return;
        }
        let promise = clipboard.write_text(&text);
        leptos::task::spawn_local(async move {
            match JsFuture::from(promise).await {
                Ok(_) => show(t_string!(i18n, copied)),
                Err(_) => fallback(),
            }
        });
    };
    view! {
        <span class="sr-only">{tr!(i18n, col_code)}": "</span><span class="ticket-code code" node_ref=code_el>{code}</span>
        <button type="button" class="copy" on:click=copy>{tr!(i18n, copy_code)}</button>
        <span class="copy-note" role="status">{move || note.get()}</span>
    }
}

/// Selects the element's text (so Ctrl+C finishes the job) and tries the legacy copy command.
fn select_and_copy(el: &web_sys::HtmlElement) -> bool {
    let Ok(Some(selection)) = window().get_selection() else {
        return false;
    };
    if selection.select_all_children(el).is_err() {
        return false;
    }
    document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false)
}
