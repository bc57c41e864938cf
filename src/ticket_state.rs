//! The ticket on screen, as the ticket's parts (head, thread, reply box, live news) share it.

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
