//! One item of the thread: a message (author, channel, time, its text with quotes and signature
//! folded, its files) or a status change.
//!
//! Items are built straight with DOM calls rather than `view!`: they never change once shown, a
//! thread may hold a thousand of them, and the typed views cost ~16 KB of gzipped wasm for this
//! list alone. Everything from the data goes in as text (`append_with_str`, attribute values),
//! never as markup. One click listener for the whole thread (`on_click`) opens quotes and
//! downloads files, so a thousand messages need no thousand closures.

use crate::api::Api;
use crate::format::{datetime, size};
use crate::i18n::*;
use helpdesk_core::api::{Attachment, AuthorKind, Channel, Message, MessageKind, Status};
use helpdesk_core::quote::{segments, SegmentKind};
use leptos::prelude::document;
use wasm_bindgen::{JsCast, UnwrapThrowExt};
use web_sys::Element;

/// Ids of messages shown before the server has them (the reply box's optimistic append).
pub const PENDING_PREFIX: &str = "pending-";

/// The element id of a thread item, for focus and links.
pub fn item_id(message_id: &str) -> String {
    ["msg-", message_id].concat()
}

/// A new element, appended to `parent` when given.
fn el(parent: Option<&Element>, tag: &str, class: &str) -> Element {
    let e = document().create_element(tag).unwrap_throw();
    if !class.is_empty() {
        e.set_class_name(class);
    }
    if let Some(p) = parent {
        let _ = p.append_child(&e);
    }
    e
}

/// Text (never markup) at the end of `parent`.
fn text(parent: &Element, s: &str) {
    let _ = parent.append_with_str_1(s);
}

/// Text at the end of `parent`, its web addresses made links. A link is an element with the
/// address as an attribute and as text, never markup; only http(s) addresses qualify, so no
/// `javascript:` or `data:` can be made to run, and the page opened gets neither this window
/// (`noopener`) nor where it came from (`noreferrer`), nor our credit (`nofollow`).
fn text_with_links(parent: &Element, s: &str) {
    for (link, piece) in split_links(s) {
        if link {
            let a = el(Some(parent), "a", "");
            let _ = a.set_attribute("href", piece);
            let _ = a.set_attribute("rel", "noopener noreferrer nofollow");
            let _ = a.set_attribute("target", "_blank");
            text(&a, piece);
        } else {
            text(parent, piece);
        }
    }
}

/// The text in pieces: `(true, address)` for each http(s) address, `(false, text)` around them.
/// An address ends at a space or at a character that cannot be in one; the punctuation that
/// ends a sentence after it, and a closing bracket it did not open, are not part of it.
pub fn split_links(s: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let (mut plain_from, mut from) = (0, 0);
    while let Some(pos) = s[from..].find("http") {
        let at = from + pos;
        let rest = &s[at..];
        let scheme = if rest.starts_with("https://") {
            8
        } else if rest.starts_with("http://") {
            7
        } else {
            0
        };
        // "xhttp://" is not an address that starts at "http".
        let boundary = s[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | '{' | '}'))
            .unwrap_or(rest.len());
        let mut url = &rest[..len];
        loop {
            let opened = |o: char| url.matches(o).count();
            let trimmed = match url.chars().next_back() {
                Some('.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*') => true,
                Some(')') => opened('(') < opened(')'),
                Some(']') => opened('[') < opened(']'),
                _ => false,
            };
            if !trimmed {
                break;
            }
            url = &url[..url.len() - 1];
        }
        if scheme > 0 && boundary && url.len() > scheme {
            if plain_from < at {
                out.push((false, &s[plain_from..at]));
            }
            out.push((true, url));
            plain_from = at + url.len();
            from = plain_from;
        } else {
            from = at + 4;
        }
    }
    if plain_from < s.len() {
        out.push((false, &s[plain_from..]));
    }
    out
}

fn time(l: Locale, parent: &Element, iso: &str) {
    let t = el(Some(parent), "time", "");
    let _ = t.set_attribute("datetime", iso);
    text(&t, &datetime(l, iso));
}

/// The list item of a message or an event.
pub fn build_item(api: Api, l: Locale, m: &Message) -> Element {
    let li = match m.kind {
        MessageKind::Event => event_item(l, m),
        MessageKind::Message => message_item(api, l, m),
    };
    li.set_id(&item_id(&m.id));
    // Focusable from script: after a reply is sent, or where the older-messages button was.
    let _ = li.set_attribute("tabindex", "-1");
    li
}

fn event_item(l: Locale, m: &Message) -> Element {
    let what = match m.status {
        Some(Status::Closed) => td_string!(l, event_closed),
        Some(Status::AwaitingCustomer) => td_string!(l, event_awaiting),
        _ => td_string!(l, event_reopened),
    };
    let li = el(None, "li", "event");
    let p = el(Some(&li), "p", "");
    text(&el(Some(&p), "strong", ""), &m.author.name);
    text(&p, &[" ", what, " · "].concat());
    time(l, &p, &m.created_at);
    li
}

fn message_item(api: Api, l: Locale, m: &Message) -> Element {
    let staff = m.author.kind == AuthorKind::Staff;
    let pending = m.id.starts_with(PENDING_PREFIX);
    let li = el(
        None,
        "li",
        match (staff, pending) {
            (true, _) => "msg staff",
            (false, false) => "msg customer",
            (false, true) => "msg customer pending",
        },
    );
    let header = el(Some(&li), "header", "");
    text(&el(Some(&header), "strong", "author"), &m.author.name);
    // Staff stand out by a badge and a tint, not by a border colour alone; a staff name that
    // already says "Assistenza" is not followed by the same word again.
    if !staff {
        text(&el(Some(&header), "span", "role"), td_string!(l, you));
    } else if !m.author.name.contains(td_string!(l, staff)) {
        text(
            &el(Some(&header), "span", "role badge staff-badge"),
            td_string!(l, staff),
        );
    }
    // A staff reply written in the helpdesk's own tools says nothing of a channel: the staff
    // badge already tells who wrote it, and "on the website" would not be true.
    let channel = match m.channel {
        Channel::Web => Some(td_string!(l, via_web)),
        Channel::Email => Some(td_string!(l, via_email)),
        Channel::Staff => None,
    };
    if let Some(channel) = channel {
        text(&el(Some(&header), "span", "channel"), channel);
    }
    time(l, &header, &m.created_at);
    if m.automatic {
        text(
            &el(Some(&header), "span", "badge auto"),
            td_string!(l, automatic_mail),
        );
    }
    if m.signed {
        text(
            &el(Some(&header), "span", "badge signed"),
            td_string!(l, signed_mail),
        );
    }
    if pending {
        text(
            &el(Some(&header), "span", "sending"),
            td_string!(l, reply_sending),
        );
    }

    for (i, (folded, part)) in fold_parts(&m.body).into_iter().enumerate() {
        if !folded {
            text_with_links(&el(Some(&li), "div", "body"), &part);
            continue;
        }
        let id = ["q-", &m.id, "-", &i.to_string()].concat();
        let toggle = el(Some(&li), "button", "link fold");
        let _ = toggle.set_attribute("type", "button");
        let _ = toggle.set_attribute("aria-controls", &id);
        let _ = toggle.set_attribute("aria-expanded", "false");
        text(&toggle, td_string!(l, show_quoted));
        let quoted = el(Some(&li), "div", "quoted");
        quoted.set_id(&id);
        let _ = quoted.set_attribute("hidden", "");
        text_with_links(&quoted, &part);
    }

    // The original e-mail of a message the customer wrote themselves is in their own mailbox:
    // offered only for the mail that came from elsewhere, where it can tell them something.
    let raw_email = m.raw_email.as_ref().filter(|_| staff);
    if !m.attachments.is_empty() || raw_email.is_some() {
        let files = el(Some(&li), "ul", "files");
        let _ = files.set_attribute("aria-label", td_string!(l, attachments));
        for a in &m.attachments {
            let button = file_button(&files, a);
            if previewable(a) {
                preview(api, &button, a);
            }
            text(&button, &a.name);
            text(
                &el(Some(&button), "span", "size"),
                &[" (", &size(l, a.size), ")"].concat(),
            );
        }
        if let Some(raw) = raw_email {
            text(&file_button(&files, raw), td_string!(l, original_email));
        }
    }
    li
}

/// Images a browser shows safely from a blob (raster only: an SVG can carry script), small
/// enough to fetch for a preview without being asked.
fn previewable(file: &Attachment) -> bool {
    const PREVIEW_MAX_BYTES: u64 = 2 * 1024 * 1024;
    matches!(
        file.content_type.as_str(),
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    ) && file.size <= PREVIEW_MAX_BYTES
}

/// A preview above an image's download button, fetched with the token like a download. It shows
/// only once the image has loaded: a file that is not really an image leaves nothing broken.
fn preview(api: Api, button: &Element, file: &Attachment) {
    let Some(item) = button.parent_element() else {
        return;
    };
    let img = el(None, "img", "preview");
    let _ = img.set_attribute("alt", &file.name);
    let _ = img.set_attribute("hidden", "");
    let _ = item.insert_before(&img, Some(button));
    let id = file.id.clone();
    leptos::task::spawn_local(async move {
        let Ok(blob) = api.attachment_blob(&id).await else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        let shown = img.clone();
        let loaded_url = url.clone();
        let on_load = wasm_bindgen::closure::Closure::once_into_js(move || {
            let _ = shown.remove_attribute("hidden");
            // Decoded: the image stays on screen without its blob.
            let _ = web_sys::Url::revoke_object_url(&loaded_url);
        });
        let on_error = wasm_bindgen::closure::Closure::once_into_js({
            let url = url.clone();
            move || {
                let _ = web_sys::Url::revoke_object_url(&url);
            }
        });
        let _ = img.add_event_listener_with_callback("load", on_load.unchecked_ref());
        let _ = img.add_event_listener_with_callback("error", on_error.unchecked_ref());
        let _ = img.set_attribute("src", &url);
    });
}

fn file_button(list: &Element, file: &Attachment) -> Element {
    let button = el(Some(&el(Some(list), "li", "")), "button", "file");
    let _ = button.set_attribute("type", "button");
    let _ = button.set_attribute("data-file", &file.id);
    let _ = button.set_attribute("data-name", &file.name);
    button
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

/// The thread's one click listener: opens and closes quotes, downloads files.
pub fn on_click(api: Api, l: Locale, ev: leptos::ev::MouseEvent) {
    let Some(button) = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|e| e.closest("button").ok().flatten())
    else {
        return;
    };
    if let Some(id) = button.get_attribute("aria-controls") {
        toggle_quote(l, &button, &id);
    } else if let (Some(id), Some(name)) = (
        button.get_attribute("data-file"),
        button.get_attribute("data-name"),
    ) {
        download(api, l, button, id, name);
    }
}

fn toggle_quote(l: Locale, button: &Element, quote_id: &str) {
    let open = button.get_attribute("aria-expanded").as_deref() != Some("true");
    let _ = button.set_attribute("aria-expanded", if open { "true" } else { "false" });
    button.set_text_content(Some(if open {
        td_string!(l, hide_quoted)
    } else {
        td_string!(l, show_quoted)
    }));
    if let Some(quote) = document().get_element_by_id(quote_id) {
        let _ = quote.toggle_attribute_with_force("hidden", !open);
    }
}

/// Downloads with the token; a failure is said right below the message's files.
fn download(api: Api, l: Locale, button: Element, id: String, name: String) {
    let list = button.closest("ul").ok().flatten();
    let old = list.as_ref().and_then(|l| l.next_element_sibling());
    if let Some(old) = old.filter(|e| e.class_list().contains("download-error")) {
        old.remove();
    }
    leptos::task::spawn_local(async move {
        if api.download(&id, &name).await.is_ok() {
            return;
        }
        if let Some(list) = list {
            let p = el(None, "p", "alert error download-error");
            let _ = p.set_attribute("role", "alert");
            text(&p, td_string!(l, download_failed));
            let _ = list.after_with_node_1(&p);
        }
    });
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::split_links;

    #[test]
    fn web_addresses_are_cut_out_of_the_text_around_them() {
        assert_eq!(
            split_links("Vedi https://blog-mario.it/wp-admin/?a=1&b=2. Grazie"),
            vec![
                (false, "Vedi "),
                (true, "https://blog-mario.it/wp-admin/?a=1&b=2"),
                (false, ". Grazie"),
            ]
        );
        assert_eq!(
            split_links("(http://x.it/a_(b)) e http://"),
            vec![
                (false, "("),
                (true, "http://x.it/a_(b)"),
                (false, ") e http://")
            ]
        );
        assert_eq!(
            split_links("javascript:alert(1) xhttp://a.it <https://a.it>"),
            vec![
                (false, "javascript:alert(1) xhttp://a.it <"),
                (true, "https://a.it"),
                (false, ">"),
            ]
        );
        assert_eq!(split_links("niente"), vec![(false, "niente")]);
        assert_eq!(
            split_links("è https://è.it"),
            vec![(false, "è "), (true, "https://è.it")]
        );
    }
}
