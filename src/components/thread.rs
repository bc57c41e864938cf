//! The conversation, oldest first, as a list. A long thread shows its newest messages at once and
//! keeps the older ones behind "N messaggi precedenti"; asked for, they are built a chunk per
//! animation frame, oldest first, so that no task blocks the page and nothing on screen jumps.

use crate::components::message::{build_item, item_id, on_click};
use crate::i18n::*;
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
    let i18n = use_i18n();
    let api = crate::api::use_api();
    let n = messages.with_untracked(Vec::len);
    let shown = Shown {
        head: RwSignal::new(0),
        end: RwSignal::new(if n > ALL_AT_ONCE { n - NEWEST_FIRST } else { 0 }),
        revealing: RwSignal::new(false),
    };
    let list = NodeRef::<leptos::html::Ol>::new();

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

    // The list follows the visible messages; the first time, in a long thread (older messages
    // held back), the newest message (what the customer came for) is brought into view before
    // the first paint. A short thread opens at its top, subject first: on a phone, scrolling to
    // its newest message hid the subject under the sticky code bar.
    let mut ran = false;
    let mut lang = i18n.get_locale_untracked();
    crate::effect(move || {
        let first = !ran;
        ran = true;
        let Some(ol) = list.get() else { return };
        // Another language: the items, built once as text, are built again in it.
        let now = i18n.get_locale();
        if now != lang {
            lang = now;
            ol.set_inner_html("");
        }
        let (head, end) = (shown.head.get(), shown.end.get());
        messages.with(|m| {
            let end = end.min(m.len());
            sync(api, now, &ol, m[..head.min(end)].iter().chain(&m[end..]));
        });
        if first && shown.end.get_untracked() > 0 {
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
        {move || can_show_older().then(|| view! {
            <button type="button" class="older" on:click=show_older>
                {t!(i18n, show_older, count = move || shown.waiting() as u64)}
            </button>
        })}
        {move || shown.revealing.get().then(|| view! { <p class="loading" role="status">{tr!(i18n, loading)}</p> })}
        <ol class="thread" node_ref=list on:click=move |ev| on_click(api, i18n.get_locale_untracked(), ev)></ol>
    }
}

/// Makes the list's items those of `wanted`, in order: items already there stay (messages never
/// change), missing ones are built, others are removed. Keyed by element id, like `<For/>`.
fn sync<'a>(
    api: crate::api::Api,
    l: Locale,
    list: &web_sys::Element,
    wanted: impl Iterator<Item = &'a Arc<Message>>,
) {
    let mut next = list.first_element_child();
    for m in wanted {
        let id = item_id(&m.id);
        if let Some(current) = next.as_ref().filter(|e| e.id() == id) {
            next = current.next_element_sibling();
            continue;
        }
        let item = document()
            .get_element_by_id(&id)
            .filter(|e| e.parent_element().as_ref() == Some(list))
            .unwrap_or_else(|| build_item(api, l, m));
        let _ = list.insert_before(&item, next.as_ref().map(|e| e.as_ref()));
    }
    while let Some(stale) = next {
        next = stale.next_element_sibling();
        stale.remove();
    }
}

/// Focuses an element of the thread (its items have `tabindex="-1"`).
pub fn focus(el: &web_sys::Element) {
    if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
        let _ = el.focus();
    }
}
