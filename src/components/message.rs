//! One item of the thread: a message (author, channel, time, its text with quotes and signature
//! folded, its files) or a status change. Everything from the data is text, never markup.

use crate::api;
use crate::format::{datetime, size};
use crate::texts::tx;
use helpdesk_core::api::{Attachment, AuthorKind, Channel, Message, MessageKind, Status};
use helpdesk_core::quote::{segments, SegmentKind};
use leptos::either::Either;
use leptos::prelude::*;
use std::sync::Arc;

/// Ids of messages shown before the server has them (the reply box's optimistic append).
pub const PENDING_PREFIX: &str = "pending-";

/// The element id of a thread item, for focus and links.
pub fn item_id(message_id: &str) -> String {
    ["msg-", message_id].concat()
}

#[component]
pub fn ThreadItem(m: Arc<Message>) -> impl IntoView {
    match m.kind {
        MessageKind::Event => Either::Left(event_view(&m)),
        MessageKind::Message => Either::Right(message_view(&m)),
    }
}

fn event_view(m: &Message) -> impl IntoView {
    let t = tx();
    let what = match m.status {
        Some(Status::Closed) => t.event_closed,
        Some(Status::AwaitingCustomer) => t.event_awaiting,
        _ => t.event_reopened,
    };
    view! {
        <li class="event" id=item_id(&m.id) tabindex="-1">
            <p>
                <strong>{m.author.name.clone()}</strong>" "{what}" · "
                <time datetime=m.created_at.clone()>{datetime(&m.created_at)}</time>
            </p>
        </li>
    }
}

fn message_view(m: &Message) -> impl IntoView {
    let t = tx();
    let staff = m.author.kind == AuthorKind::Staff;
    let pending = m.id.starts_with(PENDING_PREFIX);
    let class = match (staff, pending) {
        (true, _) => "msg staff",
        (false, false) => "msg customer",
        (false, true) => "msg customer pending",
    };
    let channel = match m.channel {
        Channel::Web => t.via_web,
        Channel::Email => t.via_email,
    };
    view! {
        <li class=class id=item_id(&m.id) tabindex="-1">
            <header>
                <strong class="author">{m.author.name.clone()}</strong>
                <span class="role">{if staff { t.staff } else { t.you }}</span>
                <span class="channel">{channel}</span>
                <time datetime=m.created_at.clone()>{datetime(&m.created_at)}</time>
                {m.automatic.then(|| view! { <span class="badge auto">{t.automatic_mail}</span> })}
                {pending.then(|| view! { <span class="sending">{t.reply_sending}</span> })}
            </header>
            {body_view(&m.id, &m.body)}
            {files_view(m)}
        </li>
    }
}

/// The body in the pieces to show: `(folded, text)`. The author's own text shows as is; quotes
/// and signatures (neighbours merged into one fold) hide behind a toggle. A body that is nothing
/// but quotes shows them: folding everything would leave an empty message.
pub fn fold_parts(body: &str) -> Vec<(bool, String)> {
    let segs = segments(body);
    let has_text = segs
        .iter()
        .any(|s| s.kind == SegmentKind::Text && !s.text.trim().is_empty());
    let mut parts: Vec<(bool, String)> = Vec::new();
    for s in &segs {
        let folded = has_text && s.kind != SegmentKind::Text;
        match parts.last_mut() {
            Some((f, text)) if *f == folded => text.push_str(s.text),
            _ => parts.push((folded, s.text.to_string())),
        }
    }
    parts.retain_mut(|(_, text)| {
        let trimmed = text.trim_matches(['\r', '\n']);
        if trimmed.len() != text.len() {
            *text = trimmed.to_string();
        }
        !text.trim().is_empty()
    });
    parts
}

fn body_view(message_id: &str, body: &str) -> impl IntoView {
    fold_parts(body)
        .into_iter()
        .enumerate()
        .map(|(i, (folded, text))| {
            if folded {
                let id = ["q-", message_id, "-", &i.to_string()].concat();
                Either::Left(view! { <Folded id text/> })
            } else {
                Either::Right(view! { <div class="body">{text}</div> })
            }
        })
        .collect_view()
}

/// Quoted text behind a real button that says whether it is open.
#[component]
fn Folded(id: String, text: String) -> impl IntoView {
    let t = tx();
    let open = RwSignal::new(false);
    view! {
        <button type="button" class="link fold" aria-controls=id.clone()
            aria-expanded=move || if open.get() { "true" } else { "false" }
            on:click=move |_| open.update(|o| *o = !*o)>
            {move || if open.get() { t.hide_quoted } else { t.show_quoted }}
        </button>
        <div class="quoted" id=id hidden=move || !open.get()>{text}</div>
    }
}

/// Attachments and, for e-mails, the message as received: buttons that download with the token.
fn files_view(m: &Message) -> Option<impl IntoView> {
    if m.attachments.is_empty() && m.raw_email.is_none() {
        return None;
    }
    let t = tx();
    let failed = RwSignal::new(false);
    let files = m
        .attachments
        .iter()
        .map(|a| {
            let label = view! { {a.name.clone()}" "<span class="size">"("{size(a.size)}")"</span> };
            view! { <li>{download_button(a, label, failed)}</li> }
        })
        .collect_view();
    let raw = m.raw_email.as_ref().map(|r| {
        view! { <li class="raw">{download_button(r, t.original_email, failed)}</li> }
    });
    Some(view! {
        <ul class="files" aria-label=t.attachments>{files}{raw}</ul>
        <Show when=move || failed.get()>
            <p class="alert error" role="alert">{t.download_failed}</p>
        </Show>
    })
}

fn download_button(
    file: &Attachment,
    label: impl IntoView,
    failed: RwSignal<bool>,
) -> impl IntoView {
    let (id, name) = (file.id.clone(), file.name.clone());
    let download = move |_| {
        let (id, name) = (id.clone(), name.clone());
        failed.set(false);
        leptos::task::spawn_local(async move {
            if api::download(&id, &name).await.is_err() {
                failed.set(true);
            }
        });
    };
    view! { <button type="button" class="file" on:click=download>{label}</button> }
}
