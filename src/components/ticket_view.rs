//! One ticket from its data: head, status actions, thread and reply box. The page only loads it,
//! so tests mount this with a `Ticket` and no server.

use crate::api::{use_api, ApiError};
use crate::components::reply_box::ReplyBox;
use crate::components::thread::Thread;
use crate::components::ticket_head::TicketHead;
use crate::i18n::*;
use crate::ticket_state::TicketState;
use helpdesk_core::api::{Status, Ticket};
use leptos::prelude::*;

#[component]
pub fn TicketView(ticket: Ticket) -> impl IntoView {
    let state = TicketState::new(ticket);
    let i18n = use_i18n();
    view! {
        <TicketHead state/>
        <StatusActions state/>
        <section class="conversation" aria-labelledby="thread-title">
            <h2 id="thread-title" class="sr-only">{tr!(i18n, thread_title)}</h2>
            <Thread messages=state.messages/>
        </section>
        <ReplyBox state/>
        <crate::live::TicketLive state/>
    }
}

/// Close, or reopen: one button whose label follows the status, so focus stays on it.
#[component]
fn StatusActions(state: TicketState) -> impl IntoView {
    let i18n = use_i18n();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let api = use_api();
    let toggle = move |_| {
        if busy.get_untracked() {
            return;
        }
        let close = !state.info.with_untracked(|i| i.status == Status::Closed);
        busy.set(true);
        error.set(None);
        let code = state.code();
        leptos::task::spawn_local(async move {
            let result = api.set_closed(&code, close).await;
            busy.set(false);
            match result {
                Ok(ticket) => state.apply(ticket),
                Err(ApiError::Unauthorized) => {}
                Err(e) => error.set(Some(
                    [
                        t_string!(i18n, status_change_failed),
                        " ",
                        &e.message(i18n.get_locale_untracked()),
                    ]
                    .concat(),
                )),
            }
        });
    };
    view! {
        <div class="actions status-actions">
            {move || state.closed().then(|| view! { <p class="closed-notice">{tr!(i18n, closed_notice)}</p> })}
            <button type="button" class="status-toggle" on:click=toggle
                aria-disabled=move || if busy.get() { "true" } else { "false" }>
                {move || if state.closed() { t_string!(i18n, reopen_ticket) } else { t_string!(i18n, close_ticket) }}
            </button>
        </div>
        {move || error.get().map(|e| view! { <p class="alert error" role="alert">{e}</p> })}
    }
}
