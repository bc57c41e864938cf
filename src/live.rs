//! Live news for the signed-in customer: the server's `GET /api/v1/events` stream, read with
//! `fetch` (an `EventSource` cannot send the token in a header) and parsed here, line by line.
//!
//! One stream per browser, whatever the number of tabs: each tab asks the Web Locks API for the
//! lock `helpdesk.live.<customer>`; the one tab holding it (the leader) reads the stream and
//! re-broadcasts every event on the BroadcastChannel of the same name, which the other tabs
//! listen to. The browser releases a lock when its tab closes or crashes, and hands it to the
//! next tab waiting for it, so another tab takes over with no election of our own to get wrong;
//! every tab remembers the last event id it saw, so the new leader asks for what came after it
//! (`Last-Event-ID`) and nothing is missed. Where Web Locks are missing, each tab reads its own.
//!
//! A dropped stream is opened again after a growing pause (1 s doubling to 30 s); a 401 ends
//! the session the app's usual way; a logout stops the stream and lets the lock go.

use crate::api::Api;
use crate::embed::Embed;
use crate::session::Session;
use leptos::prelude::*;
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

// The two browser types used here that the app's web-sys features leave out (adding features
// would rebuild web-sys and everything above it for two small bindings).
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[derive(Clone)]
    type BroadcastChannel;
    #[wasm_bindgen::prelude::wasm_bindgen(constructor, catch)]
    fn new(name: &str) -> Result<BroadcastChannel, JsValue>;
    #[wasm_bindgen::prelude::wasm_bindgen(method, js_name = postMessage)]
    fn post_message(this: &BroadcastChannel, message: &JsValue);
    #[wasm_bindgen::prelude::wasm_bindgen(method, setter)]
    fn set_onmessage(this: &BroadcastChannel, f: &js_sys::Function);
    #[wasm_bindgen::prelude::wasm_bindgen(method)]
    fn close(this: &BroadcastChannel);

    type StreamReader;
    #[wasm_bindgen::prelude::wasm_bindgen(method)]
    fn read(this: &StreamReader) -> js_sys::Promise;
}

/// One event's `data`, as far as the app needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct LiveEvent {
    pub ticket: String,
    #[serde(default)]
    pub author_kind: String,
}

/// What a running stream (or its wait for the lock) needs to be stopped.
struct Running {
    /// Aborts the stream's request, or the wait for the lock.
    abort: web_sys::AbortController,
    /// Resolves the promise the lock is held with, letting the next tab lead.
    release: Option<js_sys::Function>,
    channel: Option<BroadcastChannel>,
    /// The callbacks given to the browser, kept alive as long as the stream runs.
    _closures: Vec<Box<dyn std::any::Any>>,
}

type Listener = (u32, Rc<dyn Fn(&LiveEvent)>);

/// The stream of the session, provided once by `App`: a handle to copy into the browser's
/// callbacks and the stream's task, which run outside any reactive owner.
#[derive(Clone, Copy)]
pub struct Live(StoredValue<Rc<RefCell<State>>, LocalStorage>);

#[derive(Default)]
struct State {
    running: Option<Running>,
    /// Bumped on every start and stop: a stream of an earlier session ends by itself.
    generation: u32,
    /// The last event id this tab saw, read by itself or received from the leader.
    last_id: Option<u64>,
    listeners: Vec<Listener>,
    next_listener: u32,
    /// Tickets with news the customer has not seen yet (for the tab's title).
    unseen: BTreeSet<String>,
    /// What is on screen: a ticket's code, `*` for the list, empty for anything else.
    on_screen: String,
    /// Where a 401 goes and who shows the unread count (none until `start`).
    wiring: Option<(Api, Embed)>,
}

impl Default for Live {
    fn default() -> Self {
        Live(StoredValue::new_local(Rc::default()))
    }
}

/// The app's stream (one that never runs for a piece of the app mounted on its own).
pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_default()
}

impl Live {
    /// The stream's state (none once the app is gone); one accessor, so that the arena's code
    /// is compiled once rather than for every use.
    fn state(self) -> Option<Rc<RefCell<State>>> {
        self.0.try_get_value()
    }

    fn with<R: Default>(self, f: impl FnOnce(&mut State) -> R) -> R {
        self.state()
            .map(|s| f(&mut s.borrow_mut()))
            .unwrap_or_default()
    }

    fn generation(self) -> u32 {
        self.with(|s| s.generation)
    }

    /// Starts (and restarts, and stops) the stream with the session.
    pub fn start(self, session: Session, api: Api, embed: Embed) {
        self.with(|s| s.wiring = Some((api, embed)));
        self.watch_visibility();
        // Only a new customer or token restarts it (not a change of the account's language).
        let who = Memo::new(move |_| {
            session
                .0
                .with(|s| s.as_ref().map(|s| (s.customer.id.clone(), s.token.clone())))
        });
        crate::effect(move || {
            let who = who.get();
            self.stop();
            if let Some((customer, token)) = who {
                // The stream's code is a piece of its own (see `run_live`), fetched once a
                // customer is signed in; a stream stopped while it arrives does not start.
                let gen = self.generation();
                leptos::task::spawn_local(async move {
                    // A piece that did not arrive leaves the app without live news until the
                    // next sign-in, as a stream the server refuses does: pages still load.
                    let _ = run_live(self, gen, customer, token).await;
                });
            }
        });
    }

    /// Calls `f` for every event while the calling component lives.
    pub fn on_event(self, f: impl Fn(&LiveEvent) + 'static) {
        let id = self.with(|s| {
            s.next_listener += 1;
            s.listeners.push((s.next_listener, Rc::new(f)));
            s.next_listener
        });
        on_cleanup(move || self.with(|s| s.listeners.retain(|(i, _)| *i != id)));
    }

    /// Says what the page shows (`code` of a ticket, `*` for the list) while the component lives:
    /// news about what is on screen, in a visible tab, is seen at once.
    pub fn showing(self, what: &str) {
        self.with(|s| s.on_screen = what.to_string());
        self.mark_seen();
        // The next page may have said what it shows already.
        let what = what.to_string();
        on_cleanup(move || {
            self.with(|s| {
                if s.on_screen == what {
                    s.on_screen.clear();
                }
            })
        });
    }

    fn stop(self) {
        let running = self.with(|s| {
            s.generation = s.generation.wrapping_add(1);
            s.last_id = None;
            s.unseen.clear();
            s.running.take()
        });
        if let Some(r) = running {
            r.abort.abort();
            if let Some(release) = r.release {
                let _ = release.call0(&JsValue::NULL);
            }
            if let Some(c) = r.channel {
                c.close();
            }
        }
        self.show_title();
    }

    fn run(self, customer: String, token: String) {
        let Ok(abort) = web_sys::AbortController::new() else {
            return;
        };
        let gen = self.generation();
        let name = ["helpdesk.live.", &customer].concat();
        let channel = BroadcastChannel::new(&name).ok();
        let mut closures: Vec<Box<dyn std::any::Any>> = Vec::new();
        if let Some(c) = &channel {
            let on_message = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |e: JsValue| {
                if let Some(text) = e
                    .dyn_ref::<web_sys::MessageEvent>()
                    .and_then(|e| e.data().as_string())
                {
                    if let Some((id, data)) = text.split_once('\n') {
                        self.received(id.parse().ok(), data);
                    }
                }
                JsValue::UNDEFINED
            });
            c.set_onmessage(on_message.as_ref().unchecked_ref());
            closures.push(Box::new(on_message));
        }
        let locks = web_sys::window()
            .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"locks".into()).ok())
            .filter(|l| !l.is_undefined() && !l.is_null());
        let request = locks.as_ref().and_then(|l| {
            js_sys::Reflect::get(l, &"request".into())
                .ok()?
                .dyn_into::<js_sys::Function>()
                .ok()
        });
        let signal = abort.signal();
        match (locks, request) {
            (Some(locks), Some(request)) => {
                // Called once the lock is ours: read the stream until the returned promise settles.
                let granted = {
                    let token = token.clone();
                    let signal = signal.clone();
                    Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |_lock: JsValue| {
                        let mut resolve = None;
                        let held = js_sys::Promise::new(&mut |res, _| resolve = Some(res));
                        if self.generation() != gen {
                            return JsValue::UNDEFINED;
                        }
                        self.with(|s| {
                            if let Some(r) = s.running.as_mut() {
                                r.release = resolve;
                            }
                        });
                        let (token, signal) = (token.clone(), signal.clone());
                        leptos::task::spawn_local(self.lead(gen, token, signal));
                        held.into()
                    })
                };
                let options = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&options, &"signal".into(), &signal);
                let name = JsValue::from_str(&name);
                if let Ok(p) = request.call3(&locks, &name, &options, granted.as_ref()) {
                    // A wait aborted by a logout rejects: nothing to report.
                    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
                    let _ = p.unchecked_into::<js_sys::Promise>().catch(&ignore);
                    closures.push(Box::new(ignore));
                }
                closures.push(Box::new(granted));
            }
            _ => leptos::task::spawn_local(self.lead(gen, token, signal)),
        }
        self.with(|s| {
            s.running = Some(Running {
                abort,
                release: None,
                channel,
                _closures: closures,
            })
        });
    }
}

/// Why one connection ended.
enum End {
    /// Dropped or refused for now: open again after a pause.
    Retry { got_events: bool, wait_ms: u32 },
    /// The session is over, or the account has no stream: never again.
    Stop,
}

impl Live {
    /// The leader's loop: one connection after another until the session changes.
    async fn lead(self, gen: u32, token: String, signal: web_sys::AbortSignal) {
        let mut pause = 1000u32;
        while self.generation() == gen {
            match self.connect(gen, &token, &signal).await {
                End::Stop => return,
                End::Retry {
                    got_events,
                    wait_ms,
                } => {
                    if got_events {
                        pause = 1000;
                    }
                    sleep(pause.max(wait_ms)).await;
                    pause = (pause * 2).min(30_000);
                }
            }
        }
    }

    async fn connect(self, gen: u32, token: &str, signal: &web_sys::AbortSignal) -> End {
        let retry = |got_events| End::Retry {
            got_events,
            wait_ms: 0,
        };
        let mut req = gloo_net::http::RequestBuilder::new(&crate::api::url("/events"))
            .header("Accept", "text/event-stream")
            .header("Authorization", &["Bearer ", token].concat())
            .abort_signal(Some(signal));
        if let Some(id) = self.with(|s| s.last_id) {
            req = req.header("Last-Event-ID", &id.to_string());
        }
        let Ok(resp) = req.send().await else {
            return retry(false);
        };
        match resp.status() {
            200 => {}
            401 => {
                if self.generation() == gen {
                    if let Some((api, _)) = self.with(|s| s.wiring) {
                        api.unauthorized();
                    }
                }
                return End::Stop;
            }
            // Staff have no stream; nothing else will change that.
            403 | 404 => return End::Stop,
            // Too many streams (another browser of the customer's): wait longer.
            429 => {
                return End::Retry {
                    got_events: false,
                    wait_ms: 10_000,
                }
            }
            _ => return retry(false),
        }
        let raw: web_sys::Response = resp.into();
        // `body.getReader()`, through Reflect for the same reason as the types above.
        let reader = js_sys::Reflect::get(&raw, &"body".into())
            .ok()
            .filter(|b| b.is_object())
            .and_then(|b| {
                let get = js_sys::Reflect::get(&b, &"getReader".into()).ok()?;
                get.dyn_into::<js_sys::Function>().ok()?.call0(&b).ok()
            });
        let Some(reader) = reader.map(JsCast::unchecked_into::<StreamReader>) else {
            return retry(false);
        };
        let mut buf = Vec::<u8>::new();
        let mut event = Pending {
            live: self,
            id: None,
            data: String::new(),
        };
        let mut got_events = false;
        loop {
            let Ok(chunk) = JsFuture::from(reader.read()).await else {
                return retry(got_events);
            };
            if self.generation() != gen {
                return End::Stop;
            }
            let done = js_sys::Reflect::get(&chunk, &"done".into()).is_ok_and(|d| d.is_truthy());
            if done {
                return retry(got_events);
            }
            if let Ok(v) = js_sys::Reflect::get(&chunk, &"value".into()) {
                if let Some(bytes) = v.dyn_ref::<js_sys::Uint8Array>() {
                    buf.extend(bytes.to_vec());
                }
            }
            // Whole lines only: a line cut between two chunks waits for its end (a `\n` byte is
            // never inside a UTF-8 character).
            while let Some(end) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                if event.line(line.trim_end_matches(['\n', '\r'])) {
                    got_events = true;
                }
            }
        }
    }
}

/// The fields of the event being read, until its blank line.
struct Pending {
    live: Live,
    id: Option<u64>,
    data: String,
}

impl Pending {
    /// Takes one line of the stream; true when it completed an event.
    fn line(&mut self, line: &str) -> bool {
        if line.is_empty() {
            let data = std::mem::take(&mut self.data);
            if data.is_empty() {
                return false;
            }
            let id = self.id.take();
            let channel = self
                .live
                .with(|s| s.running.as_ref().and_then(|r| r.channel.clone()));
            if let Some(c) = channel {
                c.post_message(&JsValue::from_str(
                    &[&id.map(|i| i.to_string()).unwrap_or_default(), "\n", &data].concat(),
                ));
            }
            self.live.received(id, &data);
            return true;
        }
        // A comment (the keep-alive).
        if line.starts_with(':') {
            return false;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => self.id = value.parse().ok(),
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            _ => {}
        }
        false
    }
}

impl Live {
    /// An event, read here or received from the leader: the pages that listen follow it.
    fn received(self, id: Option<u64>, data: &str) {
        if let Some(id) = id {
            self.with(|s| s.last_id = Some(s.last_id.map_or(id, |old| old.max(id))));
        }
        let Some(event) = crate::json::parse::<LiveEvent>(data) else {
            return;
        };
        if event.author_kind != "customer" {
            self.with(|s| s.unseen.insert(event.ticket.clone()));
            self.mark_seen();
        }
        if let Some((api, embed)) = self.with(|s| s.wiring) {
            embed.refresh_unread(api);
        }
        // Listeners may register or leave while they run (a page that refreshes): run a snapshot
        // of their ids, each taken out before it runs.
        let ids: Vec<u32> = self.with(|s| s.listeners.iter().map(|(i, _)| *i).collect());
        for id in ids {
            let f = self.with(|s| {
                s.listeners
                    .iter()
                    .find(|(i, _)| *i == id)
                    .map(|(_, f)| f.clone())
            });
            if let Some(f) = f {
                f(&event);
            }
        }
    }

    /// Forgets the news about what is on screen, when the tab is visible; then shows the count.
    fn mark_seen(self) {
        if !document().hidden() {
            self.with(|s| {
                if s.on_screen == "*" {
                    s.unseen.clear();
                } else {
                    let on_screen = std::mem::take(&mut s.on_screen);
                    s.unseen.remove(&on_screen);
                    s.on_screen = on_screen;
                }
            });
        }
        self.show_title();
    }

    /// The tab's title with `(n) ` before it while `n` tickets have unseen news.
    fn show_title(self) {
        let doc = document();
        let title = doc.title();
        let plain = match title.strip_prefix('(').and_then(|t| t.split_once(") ")) {
            Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => rest.to_string(),
            _ => title.clone(),
        };
        let n = self.with(|s| s.unseen.len());
        let new = if n == 0 {
            plain
        } else {
            ["(", &n.to_string(), ") ", &plain].concat()
        };
        if new != title {
            doc.set_title(&new);
        }
    }

    /// Once, when the stream starts (`start` runs once, in `App`).
    fn watch_visibility(self) {
        let f = Closure::<dyn Fn()>::new(move || self.mark_seen());
        let _ = document()
            .add_event_listener_with_callback("visibilitychange", f.as_ref().unchecked_ref());
        f.forget();
    }
}

split!(
    signed_in,
    /// The stream of a signed-in customer, in the wasm piece of what only a signed-in customer needs
    /// (with the mail delivery's mark): a visitor who has not signed in yet never fetches it.
    fn run_live(
        live: Live,
        gen: u32,
        customer: String,
        token: String,
    ) -> Result<(), crate::pieces::Missing> {
        if live.generation() == gen {
            live.run(customer, token);
        }
        Ok(())
    }
);

async fn sleep(ms: u32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// Inside an open ticket: its news come in without a reload (the server's thread, of which only
/// what is not on screen yet is added), and a staff reply is read out by screen readers, politely.
#[component]
pub fn TicketLive(state: crate::ticket_state::TicketState) -> impl IntoView {
    use helpdesk_core::api::AuthorKind;
    let said = RwSignal::new(String::new());
    let (live, api, i18n) = (use_live(), crate::api::use_api(), crate::i18n::use_i18n());
    live.showing(&state.code());
    live.on_event(move |e| {
        let code = state.code();
        if e.ticket != code {
            return;
        }
        leptos::task::spawn_local(async move {
            let Ok(ticket) = api.ticket(&code).await else {
                return;
            };
            let known = state
                .messages
                .try_with_untracked(|m| m.iter().map(|m| m.id.clone()).collect::<BTreeSet<_>>());
            let Some(known) = known else { return };
            let staff = ticket
                .messages
                .iter()
                .rev()
                .find(|m| !known.contains(&m.id) && m.author.kind == AuthorKind::Staff)
                .map(|m| m.author.name.clone());
            state.apply(ticket);
            if let Some(name) = staff {
                let text = crate::i18n::td_string!(i18n.get_locale_untracked(), live_new_reply);
                let _ = said.try_set([text, &name].concat());
            }
        });
    });
    view! { <p class="sr-only" aria-live="polite">{move || said.get()}</p> }
}
