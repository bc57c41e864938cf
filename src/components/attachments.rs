//! Attachments of a new ticket or a reply: picked, dropped or pasted files, each uploaded with a
//! progress bar (XMLHttpRequest: fetch cannot report upload progress), cancellable, retriable and
//! removable.

use crate::api::{self, Api, ApiError};
use crate::config::config;
use crate::format::size as show_size;
use crate::i18n::*;
use helpdesk_core::api::Upload;
use helpdesk_core::limits::{FORBIDDEN_EXTENSIONS, MAX_FILES_PER_MESSAGE};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{File, FileList, FormData, ProgressEvent, Url, XmlHttpRequest};

/// A finished upload, with when it was made (unattached uploads expire after a day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attached {
    pub upload: Upload,
    pub at_ms: f64,
}

pub const UPLOAD_TTL_MS: f64 = 24.0 * 3600.0 * 1000.0;

/// Drops uploads that have expired on the server; says whether any were dropped.
pub fn drop_expired(files: &mut Vec<Attached>, now_ms: f64) -> bool {
    let before = files.len();
    files.retain(|f| now_ms - f.at_ms < UPLOAD_TTL_MS);
    files.len() != before
}

/// Where a file stands.
#[derive(Clone)]
enum St {
    /// Bytes sent, of how many.
    Sending(f64, f64),
    /// The network or the server failed: it can be tried again.
    Failed(String),
    /// Refused for what it is, before sending (count, size, type) or by the server (its
    /// content): it can only be removed. The whole sentence, which says which.
    Refused(String),
    /// Uploaded: one of `files`.
    Done,
}

/// One line of the list: a file being uploaded or that could not be (`key` > 0), or a finished
/// upload (`key` 0, `id` its upload id).
#[derive(Clone)]
struct Item {
    key: u32,
    id: String,
    name: String,
    size: u64,
    thumb: Option<String>,
    st: RwSignal<St>,
}

/// The browser's side of an item: the file, and its request with the request's listener while
/// one is in flight.
struct Job {
    key: u32,
    file: File,
    xhr: Option<XmlHttpRequest>,
    listener: Option<Closure<dyn FnMut(ProgressEvent)>>,
}

/// A file picked but not uploaded when the server ended the session: the list on the same page
/// (`place`) takes it up again after the customer's next login, if the page was not reloaded
/// meanwhile; after a reload its name is all that is left (see `Ctx::unmount`).
struct Parked {
    customer: String,
    place: String,
    file: File,
    name: String,
}

/// The browser's side of every list's files, provided once by `App`: the jobs (keys are unique
/// across lists) and the files parked for the next login, which outlive the list that had them.
/// Not reactive, and not `Send`.
#[derive(Clone, Copy)]
pub struct Uploads(StoredValue<Rc<RefCell<Shelf>>, LocalStorage>);

#[derive(Default)]
struct Shelf {
    jobs: Vec<Job>,
    next_key: u32,
    parked: Vec<Parked>,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads(StoredValue::new_local(Rc::default()))
    }
}

impl Uploads {
    /// The shelf (none once the app is gone); one accessor, so that the arena's code is compiled
    /// once rather than for every use.
    fn shelf<R>(self, f: impl FnOnce(&mut Shelf) -> R) -> Option<R> {
        let shelf = self.0.try_get_value()?;
        let mut shelf = shelf.borrow_mut();
        Some(f(&mut shelf))
    }

    fn jobs<R>(self, f: impl FnOnce(&mut Vec<Job>) -> R) -> Option<R> {
        self.shelf(|s| f(&mut s.jobs))
    }
}

/// Where a list is: the page's address and the list's id (the reply box of one ticket, the wizard).
fn place_of(id: &str) -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    [path.as_str(), "#", id].concat()
}

/// The draft that names the files to pick again after a reload (the files themselves are gone).
fn unsent_key(place: &str) -> String {
    ["unsent-files.", place].concat()
}

/// The component's state; every operation is a method, so each is compiled once.
#[derive(Clone, Copy)]
struct Ctx {
    files: RwSignal<Vec<Attached>>,
    pending: RwSignal<usize>,
    items: RwSignal<Vec<Item>>,
    /// Object URLs of the thumbnails of finished uploads, by upload id.
    thumbs: StoredValue<Vec<(String, String)>>,
    /// The state of every finished upload.
    done: RwSignal<St>,
    uploads: Uploads,
    api: Api,
    session: crate::session::Session,
    i18n: leptos_i18n::I18nContext<Locale>,
}

fn sending(st: &St) -> bool {
    matches!(st, St::Sending(..))
}

fn failed(st: &St) -> bool {
    matches!(st, St::Failed(_))
}

/// "screenshot-2026-11-25-10-12-03.png", in the customer's time zone.
fn screenshot_name(l: Locale, mime: &str) -> String {
    let d = js_sys::Date::new_0();
    let mut s = String::new();
    let parts = [
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
    ];
    for (i, n) in parts.into_iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        if n < 10 {
            s.push('0');
        }
        s.push_str(&n.to_string());
    }
    s.push_str(match mime {
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        _ => ".png",
    });
    td_string!(l, att_screenshot, time = s).to_string()
}

/// Sends one upload, its listener attached (the token goes in a header, never in the URL).
fn request(
    api: Api,
    file: &File,
    name: &str,
    listener: &Closure<dyn FnMut(ProgressEvent)>,
) -> Result<XmlHttpRequest, JsValue> {
    let xhr = XmlHttpRequest::new()?;
    xhr.open("POST", &api::upload_url())?;
    xhr.set_request_header("Accept", "application/json")?;
    xhr.set_request_header("Accept-Language", api.language())?;
    if let Some(token) = api.token() {
        xhr.set_request_header("Authorization", &["Bearer ", &token].concat())?;
    }
    let f = listener.as_ref().unchecked_ref();
    xhr.upload()?.set_onprogress(Some(f));
    xhr.set_onloadend(Some(f));
    let form = FormData::new()?;
    form.append_with_blob_and_filename("file", file, name)?;
    xhr.send_with_opt_form_data(Some(&form))?;
    Ok(xhr)
}

/// Detaches and takes the request of a job, if one is in flight.
fn take_request(uploads: Uploads, key: u32) -> Option<XmlHttpRequest> {
    let (xhr, listener) = uploads
        .jobs(|j| {
            let job = j.iter_mut().find(|j| j.key == key)?;
            Some((job.xhr.take()?, job.listener.take()))
        })
        .flatten()?;
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(None);
    }
    xhr.set_onloadend(None);
    // Dropped while it runs (from its own loadend) is fine: wasm-bindgen frees it after the call.
    drop(listener);
    Some(xhr)
}

fn forget_job(uploads: Uploads, key: u32) {
    uploads.jobs(|j| j.retain(|j| j.key != key));
}

fn revoke(url: &str) {
    let _ = Url::revoke_object_url(url);
}

impl Ctx {
    fn item(self, key: u32) -> Option<Item> {
        self.items
            .with_untracked(|v| v.iter().find(|i| i.key == key).cloned())
    }

    /// The lines to show: finished uploads, then the others.
    fn rows(self) -> Vec<Item> {
        let mut rows: Vec<Item> = self.files.with(|f| {
            f.iter()
                .map(|a| Item {
                    key: 0,
                    id: a.upload.id.clone(),
                    name: a.upload.name.clone(),
                    size: a.upload.size,
                    thumb: self.thumbs.with_value(|t| {
                        t.iter()
                            .find(|(id, _)| *id == a.upload.id)
                            .map(|(_, url)| url.clone())
                    }),
                    st: self.done,
                })
                .collect()
        });
        rows.extend(self.items.get());
        rows
    }

    /// Adds every file of a list (from the picker, a drop or a paste); says whether there were any.
    fn add_list(self, list: Option<FileList>, pasted: bool) -> bool {
        let Some(list) = list else { return false };
        for i in 0..list.length() {
            if let Some(file) = list.get(i) {
                let kind = file.type_();
                // A pasted screenshot is called "image.png": a date says which one it is.
                let name = if pasted && kind.starts_with("image/") {
                    screenshot_name(self.i18n.get_locale_untracked(), &kind)
                } else {
                    file.name()
                };
                self.add(file, name);
            }
        }
        list.length() > 0
    }

    /// Checks a file (the server checks again and decides) and starts its upload.
    fn add(self, file: File, name: String) {
        let l = self.i18n.get_locale_untracked();
        let size = file.size() as u64;
        let key = self
            .uploads
            .shelf(|s| {
                // Keys start at 2, as they always did: 0 is a finished upload's.
                s.next_key = s.next_key.max(1) + 1;
                s.next_key
            })
            .unwrap_or(1);
        let count = self.files.with_untracked(Vec::len)
            + self.items.with_untracked(|v| {
                v.iter()
                    .filter(|i| i.st.with_untracked(|s| !matches!(s, St::Refused(_))))
                    .count()
            });
        let max = config().max_upload_bytes;
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let problem = if count >= MAX_FILES_PER_MESSAGE {
            Some(td_string!(l, att_too_many, count = MAX_FILES_PER_MESSAGE).to_string())
        } else if size > max {
            Some(td_string!(l, att_too_large, size = show_size(l, max)).to_string())
        } else if size == 0 {
            Some(td_string!(l, att_empty).to_string())
        } else if FORBIDDEN_EXTENSIONS.contains(&ext.as_str()) {
            Some(td_string!(l, att_forbidden, ext = ext).to_string())
        } else {
            None
        };
        let thumb = match (&problem, file.type_().as_str()) {
            (None, "image/png" | "image/jpeg" | "image/gif" | "image/webp") => {
                Url::create_object_url_with_blob(&file).ok()
            }
            _ => None,
        };
        let ok = problem.is_none();
        // The same words as a refusal by the server: one failure, one word for it.
        let st = RwSignal::new(St::Refused(
            td_string!(l, att_failed, reason = problem.unwrap_or_default()).to_string(),
        ));
        self.items.update(|v| {
            v.push(Item {
                key,
                id: String::new(),
                name,
                size,
                thumb,
                st,
            })
        });
        if ok {
            self.uploads.jobs(|j| {
                j.push(Job {
                    key,
                    file,
                    xhr: None,
                    listener: None,
                })
            });
            self.send(key);
        }
    }

    /// Sends (or sends again) an item's file.
    fn send(self, key: u32) {
        let Some(item) = self.item(key) else { return };
        let Some(file) = self
            .uploads
            .jobs(|j| {
                j.iter()
                    .find(|j| j.key == key && j.xhr.is_none())
                    .map(|j| j.file.clone())
            })
            .flatten()
        else {
            return;
        };
        let listener = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            self.on_event(key, ev)
        });
        match request(self.api, &file, &item.name, &listener) {
            Ok(xhr) => {
                self.uploads.jobs(|j| {
                    if let Some(j) = j.iter_mut().find(|j| j.key == key) {
                        j.xhr = Some(xhr);
                        j.listener = Some(listener);
                    }
                });
                self.pending.update(|p| *p += 1);
                item.st.set(St::Sending(0.0, item.size as f64));
            }
            Err(_) => item.st.set(St::Failed(
                ApiError::Network.message(self.i18n.get_locale_untracked()),
            )),
        }
    }

    /// Upload progress, and the end of a request (loadend: success, failure or abort).
    fn on_event(self, key: u32, ev: ProgressEvent) {
        let Some(item) = self.item(key) else { return };
        if !item.st.with_untracked(sending) {
            return;
        }
        if ev.type_() == "progress" {
            let total = if ev.length_computable() {
                ev.total()
            } else {
                item.size as f64
            };
            item.st.set(St::Sending(ev.loaded(), total));
            return;
        }
        let Some(xhr) = take_request(self.uploads, key) else {
            return;
        };
        self.pending.update(|p| *p = p.saturating_sub(1));
        let status = xhr.status().unwrap_or(0);
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        let err = match status {
            0 => ApiError::Network,
            200..=299 => match crate::json::parse::<Upload>(&text) {
                Some(upload) => {
                    forget_job(self.uploads, key);
                    if let Some(url) = item.thumb {
                        self.thumbs
                            .update_value(|t| t.push((upload.id.clone(), url)));
                    }
                    self.items.update(|v| v.retain(|i| i.key != key));
                    item.st.dispose();
                    let at_ms = js_sys::Date::now();
                    self.files.update(|f| f.push(Attached { upload, at_ms }));
                    return;
                }
                None => ApiError::Decode,
            },
            _ => api::error_of(status, &text),
        };
        // Refused by the server, a file named .png may be no image at all: no thumbnail rather
        // than a broken one.
        if let Some(url) = &item.thumb {
            revoke(url);
            self.items.update(|v| {
                if let Some(i) = v.iter_mut().find(|i| i.key == key) {
                    i.thumb = None;
                }
            });
        }
        // A refusal for what the file is (its type, its content, its size) stays a refusal: sending
        // it again cannot help, so it can only be removed. The network, the server's own trouble
        // or a busy server may well answer otherwise next time.
        let final_refusal = matches!(status, 400..=499) && !matches!(status, 401 | 408 | 429);
        let l = self.i18n.get_locale_untracked();
        item.st.set(if final_refusal {
            St::Refused(td_string!(l, att_failed, reason = err.message(l)).to_string())
        } else {
            St::Failed(err.message(l))
        });
        if err == ApiError::Unauthorized {
            self.api.unauthorized();
        }
    }

    /// Cancels (if in flight) and forgets an item.
    fn remove(self, key: u32) {
        let Some(item) = self.item(key) else { return };
        if let Some(xhr) = take_request(self.uploads, key) {
            self.pending.update(|p| *p = p.saturating_sub(1));
            let _ = xhr.abort();
        }
        forget_job(self.uploads, key);
        self.items.update(|v| v.retain(|i| i.key != key));
        if let Some(url) = &item.thumb {
            revoke(url);
        }
        item.st.dispose();
    }

    /// Takes a finished upload off the message.
    fn remove_done(self, id: &str) {
        self.files.update(|f| f.retain(|a| a.upload.id != id));
        self.thumbs.update_value(|t| {
            t.retain(|(i, url)| {
                if i == id {
                    revoke(url);
                }
                i != id
            })
        });
    }

    /// The component goes away: requests in flight are cancelled (and no longer pending), and
    /// every thumbnail's URL is released. When it goes because the server ended the session
    /// (`park`: whose list, where), the files not yet uploaded are kept for the next login, and
    /// their names in the drafts in case the page is reloaded before it.
    fn unmount(self, park: Option<(String, String)>) {
        let park = park.filter(|_| self.session.expired().is_some());
        let mut parked = Vec::new();
        for item in self.items.try_get_untracked().unwrap_or_default() {
            if let Some(xhr) = take_request(self.uploads, item.key) {
                self.pending.update(|p| *p = p.saturating_sub(1));
                let _ = xhr.abort();
            }
            // A refusal for what the file is would be refused again: it is not kept.
            let keep = item
                .st
                .try_with_untracked(|s| !matches!(s, St::Refused(_)))
                .unwrap_or(true);
            if let (Some((customer, place)), true) = (&park, keep) {
                let file = self
                    .uploads
                    .jobs(|j| j.iter().find(|j| j.key == item.key).map(|j| j.file.clone()))
                    .flatten();
                if let Some(file) = file {
                    parked.push(item.name.clone());
                    self.uploads.shelf(|s| {
                        s.parked.push(Parked {
                            customer: customer.clone(),
                            place: place.clone(),
                            file,
                            name: item.name.clone(),
                        })
                    });
                }
            }
            forget_job(self.uploads, item.key);
            if let Some(url) = &item.thumb {
                revoke(url);
            }
        }
        self.thumbs.try_update_value(|t| {
            for (_, url) in t.drain(..) {
                revoke(&url);
            }
        });
        if let (Some((customer, place)), false) = (park, parked.is_empty()) {
            if let Some(j) = crate::json::stringify(&parked) {
                crate::drafts::save(&customer, &unsent_key(&place), &j);
            }
        }
    }

    /// The files kept when the session ended on this list, uploaded now; or, when the page was
    /// reloaded since, their names, which the customer must pick again.
    fn take_up_parked(self, customer: &str, place: &str) -> Vec<String> {
        let key = unsent_key(place);
        let names: Vec<String> = crate::drafts::load(customer, &key)
            .and_then(|j| crate::json::parse(&j))
            .unwrap_or_default();
        crate::drafts::clear(customer, &key);
        let mine = self
            .uploads
            .shelf(|s| {
                let (mine, others) = std::mem::take(&mut s.parked)
                    .into_iter()
                    .partition::<Vec<_>, _>(|f| f.customer == customer && f.place == place);
                s.parked = others;
                mine
            })
            .unwrap_or_default();
        if mine.is_empty() {
            return names;
        }
        for f in mine {
            self.add(f.file, f.name);
        }
        Vec::new()
    }
}

/// Whether a paste belongs to the component at `root`: made inside its form (or inside it, when
/// it is in no form), or with nothing focused.
fn pasted_within(root: &web_sys::HtmlDivElement, target: Option<web_sys::EventTarget>) -> bool {
    let Some(node) = target.and_then(|t| t.dyn_into::<web_sys::Node>().ok()) else {
        return false;
    };
    let document = root.owner_document();
    if document
        .as_ref()
        .and_then(|d| d.body())
        .is_some_and(|b| node == **b)
    {
        return true;
    }
    let scope: web_sys::Element = match root.closest("form") {
        Ok(Some(form)) => form,
        _ => root.clone().into(),
    };
    scope.contains(Some(&node))
}

/// After a row's removal, the focus goes to the remove button of the row now in its place, else
/// to the file picker: left on the removed button, it would fall to the page, and the keyboard
/// would start over from the top.
fn refocus_after_removal(root: NodeRef<leptos::html::Div>, index: usize) {
    request_animation_frame(move || {
        let Some(root) = root.get_untracked() else {
            return;
        };
        let doc = document();
        let lost = match (doc.active_element(), doc.body()) {
            (Some(active), Some(body)) => active == *body || !active.is_connected(),
            _ => true,
        };
        if !lost {
            return;
        }
        let next_row = root
            .query_selector_all(".uploads > li")
            .ok()
            .and_then(|rows| rows.item(index as u32))
            .and_then(|row| row.dyn_into::<web_sys::Element>().ok())
            .and_then(|row| row.query_selector("button:last-of-type").ok().flatten());
        let target = next_row.or_else(|| root.query_selector("input[type=file]").ok().flatten());
        if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
}

/// The file list, picker, drop zone and paste target. `files` holds finished uploads (their ids
/// go with the ticket or reply); `pending` counts uploads still in flight, so submitting can wait
/// for them.
#[component]
pub fn Attachments(
    #[prop(into)] id: String,
    files: RwSignal<Vec<Attached>>,
    pending: RwSignal<usize>,
) -> impl IntoView {
    let i18n = use_i18n();
    let session = crate::session::use_session();
    let ctx = Ctx {
        files,
        pending,
        items: RwSignal::new(Vec::new()),
        thumbs: StoredValue::new(Vec::new()),
        done: RwSignal::new(St::Done),
        uploads: use_context::<Uploads>().unwrap_or_default(),
        api: api::use_api(),
        session,
        i18n,
    };
    // Files left unsent when the server ended the session on this list (see `Ctx::unmount`).
    let customer = session.customer_id_untracked();
    let place = place_of(&id);
    let pick_again = customer
        .as_deref()
        .map(|c| ctx.take_up_parked(c, &place))
        .unwrap_or_default()
        .join(", ");
    let park = customer.map(|c| (c, place));
    on_cleanup(move || ctx.unmount(park));
    // A screenshot pasted anywhere in the form (the reply's text, the wizard's step) is attached:
    // nobody should have to find the drop zone first. A paste of text is left alone.
    let root = NodeRef::<leptos::html::Div>::new();
    let paste = window_event_listener(leptos::ev::paste, move |ev| {
        let Some(root) = root.get_untracked() else {
            return;
        };
        if !pasted_within(&root, ev.target()) {
            return;
        }
        if ctx.add_list(ev.clipboard_data().and_then(|dt| dt.files()), true) {
            ev.prevent_default();
        }
    });
    on_cleanup(move || paste.remove());
    let over = RwSignal::new(false);
    // dragenter and dragleave come in pairs for every child crossed: the zone is "over" until the
    // count is back to zero.
    let depth = StoredValue::new(0i32);
    let input_id = [id.as_str(), "-input"].concat();
    let limits = move || {
        t_string!(
            i18n,
            att_limits,
            count = MAX_FILES_PER_MESSAGE,
            size = show_size(i18n.get_locale(), config().max_upload_bytes)
        )
        .to_string()
    };

    let on_drag = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        let kind = ev.type_();
        let n = match kind.as_str() {
            "dragenter" => depth.get_value() + 1,
            "dragleave" => (depth.get_value() - 1).max(0),
            "drop" => 0,
            _ => return,
        };
        depth.set_value(n);
        over.set(n > 0);
        if kind == "drop" {
            ctx.add_list(ev.data_transfer().and_then(|dt| dt.files()), false);
        }
    };

    view! {
        <div class="attachments" id=id node_ref=root>
            // Focusable, so that a click on the zone makes it the target of a paste.
            <div class=move || if over.get() { "dropzone over" } else { "dropzone" } tabindex="0"
                role="group" aria-label=tr!(i18n, attachments)
                on:dragenter=on_drag on:dragover=on_drag on:dragleave=on_drag on:drop=on_drag>
                // Dragging and Ctrl+V mean nothing on a phone: said only where a mouse is.
                <p class="fine-pointer">{tr!(i18n, att_drop)}</p>
                <label for=input_id.clone()>{tr!(i18n, att_pick)}</label>
                <input type="file" multiple id=input_id
                    on:change=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        ctx.add_list(input.files(), false);
                        // The same file can be picked again after a removal.
                        input.set_value("");
                    }/>
                <p class="muted">{limits}</p>
            </div>
            {(!pick_again.is_empty()).then(|| view! {
                <p class="alert warn" role="status">
                    {move || t_string!(i18n, att_pick_again, names = pick_again.clone()).to_string()}
                </p>
            })}
            <ul class="uploads" aria-label=tr!(i18n, attachments)>
                // Rebuilt in place when files come and go (a keyed `For` cost more download
                // than it saved work for at most ten rows); progress updates only its own row.
                {move || ctx.rows().into_iter().enumerate().map(|(index, i)| {
                        let Item { key, id, name, size, thumb, st } = i;
                        let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
                        let cancel = move || t_string!(i18n, att_cancel_named, name = n1.clone()).to_string();
                        let remove = move || t_string!(i18n, att_remove_named, name = n2.clone()).to_string();
                        let retry = move || t_string!(i18n, att_retry_named, name = n3.clone()).to_string();
                        let label = name.clone();
                        view! {
                            <li>
                                <span>{thumb.map(|src| view! { <img src=src alt=""/> })}</span>
                                <div>
                                    <span class="name">{name}" ("{move || show_size(i18n.get_locale(), size)}")"</span>
                                    <progress aria-label=label
                                        hidden=move || st.with(|s| matches!(s, St::Failed(_) | St::Refused(_)))
                                        max=move || st.with(|s| if let St::Sending(_, total) = s { *total as u64 } else { 1 })
                                        value=move || st.with(|s| match s { St::Sending(done, _) => *done as u64, _ => 1 })>
                                    </progress>
                                    <span class="state" aria-live="polite">
                                        {move || st.with(|s| match s {
                                            St::Sending(..) => t_string!(i18n, att_uploading).to_string(),
                                            St::Done => t_string!(i18n, att_done).to_string(),
                                            St::Failed(m) => t_string!(i18n, att_failed, reason = m.clone()).to_string(),
                                            St::Refused(m) => m.clone(),
                                        })}
                                    </span>
                                </div>
                                <span>
                                    <button type="button" hidden=move || !st.with(failed) aria-label=retry
                                        on:click=move |_| ctx.send(key)>{tr!(i18n, retry)}</button>
                                    // Cancelling and removing are the same act: the file goes away.
                                    <button type="button"
                                        aria-label=move || if st.with(sending) { cancel() } else { remove() }
                                        on:click=move |_| {
                                            if key == 0 { ctx.remove_done(&id) } else { ctx.remove(key) }
                                            refocus_after_removal(root, index);
                                        }>
                                        {move || if st.with(sending) { t_string!(i18n, att_cancel) } else { t_string!(i18n, att_remove) }}
                                    </button>
                                </span>
                            </li>
                        }
                    }).collect_view()}
            </ul>
        </div>
    }
}
