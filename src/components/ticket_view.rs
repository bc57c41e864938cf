//! One ticket from its data: head, status actions, thread and reply box. The page only loads it,
//! so tests mount this with a `Ticket` and no server.

use crate::api::{self, ApiError};
use crate::components::reply_box::ReplyBox;
use crate::components::thread::Thread;
use crate::components::ticket_head::TicketHead;
use crate::i18n::*;
use helpdesk_core::api::{Message, Status, Ticket};
use leptos::prelude::*;
use std::sync::Arc;

/// The ticket on screen. Its fields and its thread are separate signals so that a status change
/// does not touch the thread, and a thread of a thousand messages is never copied (`Arc`).
#[derive(Clone, Copy)]
pub struct TicketState {
    /// The ticket's fields; its `messages` stay empty (they live in `messages`).
    pub info: RwSignal<Ticket>,
    pub messages: RwSignal<Vec<Arc<Message>>>,
}

impl TicketState {
    pub fn new(ticket: Ticket) -> Self {
        let (info, messages) = split(ticket);
        TicketState {
            info: RwSignal::new(info),
            messages: RwSignal::new(messages),
        }
    }

    /// The server's answer to a reply or a status change: the ticket's fields as they are now,
    /// and only what that request added to the thread (the message, the status event), which
    /// joins the end of what is shown (a replayed answer adds nothing twice).
    pub fn apply(&self, ticket: Ticket) {
        let (info, added) = split(ticket);
        self.info.set(info);
        if added.is_empty() {
            return;
        }
        self.messages.update(|m| {
            for a in added {
                if !m.iter().any(|x| x.id == a.id) {
                    m.push(a);
                }
            }
        });
    }

    pub fn code(&self) -> String {
        self.info.with_untracked(|i| i.code.clone())
    }

    pub fn closed(&self) -> bool {
        self.info.with(|i| i.status == Status::Closed)
    }
}

fn split(mut ticket: Ticket) -> (Ticket, Vec<Arc<Message>>) {
    let messages = std::mem::take(&mut ticket.messages)
        .into_iter()
        .map(Arc::new)
        .collect();
    (ticket, messages)
}

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
    let toggle = move |_| {
        if busy.get_untracked() {
            return;
        }
        let close = !state.info.with_untracked(|i| i.status == Status::Closed);
        busy.set(true);
        error.set(None);
        let code = state.code();
        leptos::task::spawn_local(async move {
            let result = api::set_closed(&code, close).await;
            busy.set(false);
            match result {
                Ok(ticket) => state.apply(ticket),
                Err(ApiError::Unauthorized) => {}
                Err(e) => error.set(Some(
                    [t_string!(i18n, status_change_failed), " ", &e.message()].concat(),
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
