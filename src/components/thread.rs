//! The conversation, oldest first, as a list. A long thread shows its newest messages at once and
//! keeps the older ones behind "N messaggi precedenti"; asked for, they are built a chunk per
//! animation frame, oldest first, so that no task blocks the page and nothing on screen jumps.

use crate::components::message::ThreadItem;
use crate::texts::tx;
use helpdesk_core::api::Message;
use leptos::prelude::*;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// How many messages a long thread shows first: the budget is the newest in the page within
/// 50 ms of the answer, and thirty messages take a few.
pub const NEWEST_FIRST: usize = 30;
/// Up to this many, everything is shown at once: hiding a handful behind a button helps nobody.
pub const ALL_AT_ONCE: usize = 40;
/// Older messages built per animation frame once asked for.
const CHUNK: usize = 50;

/// Which messages are on screen: `[..head]` and `[end..]`; those in between wait. Indices stay
/// valid as the thread only grows at its end.
#[derive(Clone, Copy)]
struct Shown {
    head: RwSignal<usize>,
    end: RwSignal<usize>,
    /// Older messages are being built (one run at a time: the button is hidden meanwhile).
    revealing: RwSignal<bool>,
}

impl Shown {
    fn waiting(&self) -> usize {
        self.end.get() - self.head.get()
    }

    /// Shows the next chunk of older messages and asks for another frame while some still wait.
    fn reveal_next(self) {
        let (Some(head), Some(end)) = (self.head.try_get_untracked(), self.end.try_get_untracked())
        else {
            return; // the page is gone
        };
        let head = (head + CHUNK).min(end);
        if head >= end {
            self.head.set(0);
            self.end.set(0);
            self.revealing.set(false);
        } else {
            self.revealing.set(true);
            self.head.set(head);
            request_animation_frame(move || self.reveal_next());
        }
    }
}

#[component]
pub fn Thread(messages: RwSignal<Vec<Arc<Message>>>) -> impl IntoView {
    let t = tx();
    let n = messages.with_untracked(Vec::len);
    let shown = Shown {
        head: RwSignal::new(0),
        end: RwSignal::new(if n > ALL_AT_ONCE { n - NEWEST_FIRST } else { 0 }),
        revealing: RwSignal::new(false),
    };
    let list = NodeRef::<leptos::html::Ol>::new();

    let visible = move || {
        let (head, end) = (shown.head.get(), shown.end.get());
        messages.with(|m| {
            let end = end.min(m.len());
            let head = head.min(end);
            m[..head]
                .iter()
                .chain(&m[end..])
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let show_older = move |_| {
        shown.reveal_next();
        // The button is gone once the first chunk is in: focus goes to the oldest message,
        // where the button was, so keyboard and screen-reader users keep their place.
        request_animation_frame(move || {
            if let Some(first) = list.get_untracked().and_then(|l| l.first_element_child()) {
                focus(&first);
            }
        });
    };

    // The newest message is what the customer came for: bring it into view once, after the
    // first render (before the first paint, so nothing visibly jumps).
    Effect::new(move |_| {
        if let Some(ol) = list.get() {
            request_animation_frame(move || {
                if let Some(last) = ol.last_element_child() {
                    let opts = web_sys::ScrollIntoViewOptions::new();
                    opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
                    last.scroll_into_view_with_scroll_into_view_options(&opts);
                }
            });
        }
    });

    let can_show_older = move || shown.waiting() != 0 && !shown.revealing.get();
    view! {
        <Show when=can_show_older>
            <button type="button" class="older" on:click=show_older>
                {t.show_older_prefix}{move || shown.waiting()}" "{t.older_messages}
            </button>
        </Show>
        <Show when=move || shown.revealing.get()>
            <p class="loading" role="status">{t.loading}</p>
        </Show>
        <ol class="thread" node_ref=list>
            <For each=visible key=|m| m.id.clone() let:m>
                <ThreadItem m/>
            </For>
        </ol>
    }
}

/// Focuses an element of the thread (its items have `tabindex="-1"`).
pub fn focus(el: &web_sys::Element) {
    if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
        let _ = el.focus();
    }
}
