//! The reply box: a labelled text area whose draft (text and finished uploads) survives a
//! reload, sent with an `Idempotency-Key`, shown in the thread at once and taken back (text
//! restored) if it fails.

use crate::api::{self, use_api, ApiError};
use crate::components::attachments::{drop_expired, Attached, Attachments};
use crate::components::message::{item_id, PENDING_PREFIX};
use crate::components::slow::{slow_notice, Patience};
use crate::components::thread::focus;
use crate::drafts;
use crate::i18n::*;
use crate::session::use_session;
use crate::ticket_state::TicketState;
use helpdesk_core::api::{Author, AuthorKind, Channel, Message, MessageKind, NewReply, Ticket};
use leptos::prelude::*;
use std::sync::Arc;

#[component]
pub fn ReplyBox(state: TicketState) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let api = use_api();
    let code = state.code();
    // Drafts are per customer; without a session (never on a real page) nothing is stored.
    let customer = session.customer();
    let draft_key = ["reply.", &code].concat();
    let customer_id = customer.as_ref().map(|c| c.id.clone());
    let author_name = customer
        .map(|c| c.name)
        .unwrap_or_else(|| t_string!(i18n, you).into());

    let save_draft = {
        let (customer_id, draft_key) = (customer_id.clone(), draft_key.clone());
        move |text: &str| {
            if let Some(id) = &customer_id {
                if text.is_empty() {
                    drafts::clear(id, &draft_key);
                } else {
                    drafts::save(id, &draft_key, text);
                }
            }
        }
    };
    let initial = customer_id
        .as_deref()
        .and_then(|id| drafts::load(id, &draft_key))
        .unwrap_or_default();
    let text = RwSignal::new(initial);
    // Finished uploads go with the reply; a reply waits for uploads still in flight. They are
    // part of the draft too (uploads expire on the server after a day, and so here).
    let files_key = ["reply-files.", &code].concat();
    let mut saved_files: Vec<Attached> = customer_id
        .as_deref()
        .and_then(|id| drafts::load(id, &files_key))
        .and_then(|j| crate::json::parse(&j))
        .unwrap_or_default();
    let files_expired = drop_expired(&mut saved_files, js_sys::Date::now());
    let files = RwSignal::new(saved_files);
    if let Some(id) = customer_id.clone() {
        crate::effect(move || {
            files.with(|f| match crate::json::stringify(f) {
                Some(j) if !f.is_empty() => drafts::save(&id, &files_key, &j),
                _ => drafts::clear(&id, &files_key),
            })
        });
    }
    let pending = RwSignal::new(0usize);
    let sending = RwSignal::new(false);
    // A failed send, said until the next attempt.
    let error = RwSignal::new(None::<String>);
    // What keeps the reply from going, worked out from the box as it is now: shown once the
    // customer has tried to send, and gone as soon as it is fixed (typing clears "empty").
    let tried = RwSignal::new(false);
    let problem = move || {
        if text.with(|v| v.trim().is_empty()) {
            Some(t_string!(i18n, reply_empty))
        } else {
            (pending.get() > 0).then_some(t_string!(i18n, attachments_wait))
        }
    };
    let shown = move || match problem() {
        Some(p) if tried.get() => Some(p.to_string()),
        _ => error.get(),
    };
    let error_ref = NodeRef::<leptos::html::P>::new();
    // The body and key of the last attempt: sending the same text again reuses the key, so if the
    // first attempt did arrive (only its answer was lost) the server does not add it twice.
    let attempt_key = StoredValue::new(None::<(String, String)>);

    // A failed send is focused, so that a keyboard or screen-reader user hears it; a problem
    // with the text (role="alert" says it) leaves the focus in the box, where it gets fixed.
    let fail = move |message: Option<String>| {
        let failed = message.is_some();
        match message {
            Some(m) => error.set(Some(m)),
            None => tried.set(true),
        }
        request_animation_frame(move || {
            let target = if failed {
                error_ref.get_untracked().map(Into::into)
            } else {
                document().get_element_by_id("reply-text")
            };
            if let Some(el) = target {
                focus(&el);
            }
        });
    };

    // The reply under way (what was sent, under which key): "Riprova" sends it again as it was.
    let patience = Patience::new();
    let under_way = StoredValue::new(None::<(NewReply, String)>);
    let dispatch = {
        let save_draft = save_draft.clone();
        let (customer_id, draft_key) = (customer_id.clone(), draft_key.clone());
        let code = code.clone();
        move |reply: NewReply, key: String| {
            let pending_id = [PENDING_PREFIX, &key].concat();
            let (attempt, until) = patience.begin();
            sending.set(true);
            let (code, save_draft) = (code.clone(), save_draft.clone());
            let (customer_id, draft_key) = (customer_id.clone(), draft_key.clone());
            leptos::task::spawn_local(async move {
                let result = api.reply(&code, &reply, &key, until.as_ref()).await;
                // A retry took this one's place (and aborted it): its answer is the retry's.
                if !patience.answered(attempt) {
                    return;
                }
                sending.set(false);
                under_way.try_set_value(None);
                let body = reply.body;
                match result {
                    Ok(ticket) => {
                        attempt_key.try_set_value(None);
                        // Whatever was typed while sending is a new draft; the sent one is done.
                        if let Some(id) = &customer_id {
                            if drafts::load(id, &draft_key).as_deref() == Some(body.as_str()) {
                                drafts::clear(id, &draft_key);
                            }
                        }
                        files.set(Vec::new());
                        let mine = newest_own_message(&ticket);
                        // The answer holds the reply as the server keeps it: it takes the place
                        // of the one shown while sending.
                        state
                            .messages
                            .update(|m| m.retain(|msg| msg.id != pending_id));
                        state.apply(ticket);
                        if let Some(id) = mine {
                            request_animation_frame(move || {
                                if let Some(el) = document().get_element_by_id(&item_id(&id)) {
                                    focus(&el);
                                }
                            });
                        }
                    }
                    Err(e) => {
                        state
                            .messages
                            .update(|m| m.retain(|msg| msg.id != pending_id));
                        let typed = text.try_get_untracked().unwrap_or_default();
                        let restored = if typed.trim().is_empty() {
                            body
                        } else {
                            [body.as_str(), "\n\n", &typed].concat()
                        };
                        save_draft(&restored);
                        text.set(restored);
                        // A 401 has already sent the customer to login; the draft waits there.
                        if e != ApiError::Unauthorized {
                            fail(Some(
                                [
                                    t_string!(i18n, reply_failed),
                                    " ",
                                    &e.message(i18n.get_locale_untracked()),
                                ]
                                .concat(),
                            ));
                        }
                    }
                }
            });
        }
    };

    let send = {
        let dispatch = dispatch.clone();
        move || {
            if sending.get_untracked() {
                return;
            }
            if untrack(problem).is_some() {
                error.set(None);
                fail(None);
                return;
            }
            tried.set(false);
            let body = text.get_untracked();
            let upload_ids: Vec<String> =
                files.with_untracked(|f| f.iter().map(|a| a.upload.id.clone()).collect());
            let what = [body.as_str(), &upload_ids.concat()].concat();
            let key = match attempt_key.get_value() {
                Some((w, k)) if w == what => k,
                _ => api::random_key(),
            };
            attempt_key.set_value(Some((what, key.clone())));
            let pending_id = [PENDING_PREFIX, &key].concat();
            state
                .messages
                .update(|m| m.push(Arc::new(pending_message(&pending_id, &author_name, &body))));
            // The box empties as the message joins the thread; the stored draft stays until the
            // server has the reply, so a reload meanwhile loses nothing.
            text.set(String::new());
            error.set(None);
            let reply = NewReply { body, upload_ids };
            under_way.set_value(Some((reply.clone(), key.clone())));
            dispatch(reply, key);
        }
    };
    let retry = move || {
        if let Some((reply, key)) = under_way.get_value() {
            dispatch(reply, key);
        }
    };

    let on_input = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        save_draft(&v);
        text.set(v);
    };
    let on_keydown = {
        let send = send.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                ev.prevent_default();
                send();
            }
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let described_by = move || {
        if state.closed() {
            "reply-reopens reply-hint"
        } else {
            "reply-hint"
        }
    };

    view! {
        <form class="reply card" on:submit=on_submit aria-labelledby="reply-title" novalidate>
            <h2 id="reply-title">{tr!(i18n, reply_title)}</h2>
            {move || state.closed().then(|| view! { <p id="reply-reopens" class="alert warn">{tr!(i18n, reply_reopens)}</p> })}
            <label for="reply-text">{tr!(i18n, reply_label)}</label>
            <textarea id="reply-text" name="body" aria-describedby=described_by
                prop:value=move || text.get() on:input=on_input on:keydown=on_keydown></textarea>
            <p id="reply-hint" class="muted hint">{tr!(i18n, reply_hint)}</p>
            {files_expired.then(|| view! { <p class="alert warn" role="status">{tr!(i18n, uploads_expired)}</p> })}
            <Attachments id="reply-files" files=files pending=pending/>
            {move || shown().map(|e| view! {
                <p class="alert error" role="alert" tabindex="-1" node_ref=error_ref>{e}</p>
            })}
            {slow_notice(patience, retry)}
            <div class="actions">
                <button type="submit" class="primary"
                    aria-disabled=move || if sending.get() { "true" } else { "false" }>
                    {move || if sending.get() { t_string!(i18n, reply_sending) } else { t_string!(i18n, reply_submit) }}
                </button>
            </div>
        </form>
    }
}

/// The reply as it will look, shown before the server has it.
fn pending_message(id: &str, author: &str, body: &str) -> Message {
    Message {
        id: id.to_string(),
        kind: MessageKind::Message,
        author: Author {
            kind: AuthorKind::Customer,
            name: author.to_string(),
        },
        channel: Channel::Web,
        body: body.to_string(),
        created_at: js_sys::Date::new_0().to_iso_string().into(),
        attachments: Vec::new(),
        status: None,
        automatic: false,
        signed: false,
        raw_email: None,
    }
}

/// The customer's message in the server's answer (which holds only what the reply added).
fn newest_own_message(t: &Ticket) -> Option<String> {
    t.messages
        .iter()
        .rev()
        .find(|m| m.kind == MessageKind::Message && m.author.kind == AuthorKind::Customer)
        .map(|m| m.id.clone())
}
