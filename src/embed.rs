//! The app inside the control panel's widget (`public/widget.js`). Framed by a page whose origin
//! `HELPDESK_FRAME_ANCESTORS` names, the app says `ready` to that origin alone; it then takes
//! commands (theme, sign-on token, prefill, new ticket, language, logout, open) only from that
//! parent window and origin, and tells it its height, the unread count, a new ticket's code, an
//! Escape and the language it shows (the loader's launcher and title bar follow it). Anywhere
//! else (our own page, a frame of a page not on the list) none of this runs.

use crate::api::Api;
use crate::i18n::Locale;
use crate::nav::Nav;
use crate::session::{take_return, Session};
use helpdesk_core::embed::{ancestor_allows, valid_colour, valid_font, valid_length};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

const PREFIX: &str = "helpdesk:";

/// What the host page asks the next new ticket to start with. Values are hints: unknown ones are
/// ignored by the wizard, never shown as an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prefill {
    pub department: Option<String>,
    /// The panel's id of a service of the customer's, ours, or its identifier (a domain, a VPS
    /// name).
    pub service: Option<String>,
    pub subject: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Default)]
struct Theme {
    accent: Option<String>,
    radius: Option<String>,
    font: Option<String>,
}

/// A command from the loader, by its `type` (without the prefix). Read field by field from the
/// message (a derived deserializer for a tagged enum cost 30 KB of download).
#[derive(Debug)]
enum Command {
    Init {
        theme: Theme,
        locale: Option<String>,
        sso: bool,
        prefill: Option<Prefill>,
        open: bool,
    },
    Sso {
        token: String,
    },
    SsoAvailable,
    Prefill(Prefill),
    NewTicket,
    Locale(String),
    Logout,
    Open,
}

/// A field of a message: a string, if it is one.
fn text(obj: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(obj, &key.into())
        .ok()
        .and_then(|v| v.as_string())
}

fn field(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn prefill_of(v: &JsValue) -> Option<Prefill> {
    if !v.is_object() {
        return None;
    }
    Some(Prefill {
        department: text(v, "department"),
        service: text(v, "service"),
        subject: text(v, "subject"),
        description: text(v, "description"),
    })
}

impl Command {
    fn read(kind: &str, m: &JsValue) -> Option<Command> {
        Some(match kind {
            "init" => {
                let theme = field(m, "theme");
                Command::Init {
                    theme: Theme {
                        accent: text(&theme, "accent"),
                        radius: text(&theme, "radius"),
                        font: text(&theme, "font"),
                    },
                    locale: text(m, "locale"),
                    sso: field(m, "sso").is_truthy(),
                    prefill: prefill_of(&field(m, "prefill")),
                    open: field(m, "open").is_truthy(),
                }
            }
            "sso" => Command::Sso {
                token: text(m, "token")?,
            },
            "sso-available" => Command::SsoAvailable,
            "prefill" => Command::Prefill(prefill_of(&field(m, "prefill"))?),
            "new-ticket" => Command::NewTicket,
            "locale" => Command::Locale(text(m, "locale")?),
            "logout" => Command::Logout,
            "open" => Command::Open,
            _ => return None,
        })
    }
}

/// A message to the loader.
enum Note<'a> {
    Ready,
    Height(f64),
    SsoRequest,
    Close,
    Unread(u32),
    TicketCreated(&'a str),
    Language(&'static str),
}

/// Where the widget's sign-on stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOn {
    /// Framed by the panel, its settings not yet arrived: neither a form nor an error yet.
    Waiting,
    /// The host signs the customer on: a token was asked for.
    Asking,
    /// The token is being traded for a session.
    Signing,
    /// The host's token was refused (or never came).
    Failed,
    /// The host ended the session (the customer left the panel); a new one when reopened.
    Ended,
    /// No sign-on here: the login form.
    Off,
}

#[derive(Clone, Copy)]
pub struct Embed {
    /// The verified parent origin; `None` on our own page or a frame nobody may command.
    parent: StoredValue<Option<String>>,
    /// Whether the host has a sign-on function.
    host_sso: RwSignal<bool>,
    pub sign_on: RwSignal<SignOn>,
    pub prefill: RwSignal<Option<Prefill>>,
    /// Counts the host's `new-ticket` commands (the open wizard starts over with the prefill).
    pub new_ticket: RwSignal<u32>,
    /// A `new-ticket` that came before the session: where the sign-on leads.
    new_ticket_waiting: StoredValue<bool>,
    /// Where the panel's language goes (given by `App`: commands arrive in event handlers,
    /// outside any owner).
    language: Option<crate::language::Choice>,
}

/// What the widget's side works with, taken when it starts: commands arrive in event handlers,
/// outside any reactive owner.
#[derive(Clone, Copy)]
struct Wiring {
    session: Session,
    api: Api,
    nav: Nav,
    i18n: leptos_i18n::I18nContext<Locale>,
}

/// The widget's state, provided by `App` (none in a piece of the app mounted on its own).
pub fn use_embed() -> Option<Embed> {
    use_context::<Embed>()
}

/// Whether the app runs inside the panel's widget.
pub fn embedded() -> bool {
    use_embed().is_some_and(Embed::is_embedded)
}

/// The origin of the page framing us, as the browser tells it (`ancestorOrigins` where it
/// exists, else the referrer's origin). Only a candidate: messages are posted to it as their
/// target origin, so a wrong guess reaches nobody.
fn parent_candidate(w: &web_sys::Window) -> Option<String> {
    // `location.ancestorOrigins` (Chromium, Safari) is not in web-sys's stable API.
    let first = js_sys::Reflect::get(w.location().as_ref(), &"ancestorOrigins".into())
        .and_then(|list| js_sys::Reflect::get(&list, &0.into()))
        .ok()
        .and_then(|o| o.as_string());
    if first.is_some() {
        return first;
    }
    let referrer = w.document()?.referrer();
    let url = web_sys::Url::new(&referrer).ok()?;
    Some(url.origin())
}

fn framed(w: &web_sys::Window) -> bool {
    match w.top() {
        Ok(Some(top)) => {
            let (top, me): (&JsValue, &JsValue) = (top.as_ref(), w.as_ref());
            top != me
        }
        _ => false,
    }
}

impl Embed {
    /// The widget's state, before anything is known (see `start`).
    pub fn new(language: Option<crate::language::Choice>) -> Self {
        Embed {
            parent: StoredValue::new(None),
            host_sso: RwSignal::new(false),
            sign_on: RwSignal::new(SignOn::Off),
            prefill: RwSignal::new(None),
            new_ticket: RwSignal::new(0),
            new_ticket_waiting: StoredValue::new(false),
            language,
        }
    }

    /// Whether the app runs inside the panel's widget.
    pub fn is_embedded(self) -> bool {
        self.parent.try_with_value(|p| p.is_some()).unwrap_or(false)
    }
}

/// Sets up the widget side of the app, when framed by an allowed page.
pub fn start(
    embed: Embed,
    session: Session,
    api: Api,
    nav: Nav,
    i18n: leptos_i18n::I18nContext<Locale>,
) {
    let Some(w) = web_sys::window() else {
        return;
    };
    if !framed(&w) {
        return;
    }
    let me = w.location().origin().unwrap_or_default();
    let allowed = &crate::config::config().frame_ancestors;
    let Some(parent) = parent_candidate(&w).filter(|o| ancestor_allows(allowed, o, &me)) else {
        return;
    };
    embed.parent.set_value(Some(parent));
    nav.replace_always();
    let wiring = Wiring {
        session,
        api,
        nav,
        i18n,
    };
    embed.sign_on.set(SignOn::Waiting);
    if let Some(root) = document().document_element() {
        let _ = root.class_list().add_1("embed");
    }
    listen(embed, wiring);
    watch_height(embed);
    // Escape anywhere in the app closes the widget (the loader's own Escape cannot see ours).
    let esc = Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
        if e.key() == "Escape" && !e.default_prevented() {
            embed.post(&Note::Close);
        }
    });
    let _ = document().add_event_listener_with_callback("keydown", esc.as_ref().unchecked_ref());
    esc.forget();
    // Framed without the loader (no settings within a few seconds): the ordinary login form.
    set_timeout(
        move || {
            if embed.sign_on.get_untracked() == SignOn::Waiting {
                embed.sign_on.set(SignOn::Off);
            }
        },
        std::time::Duration::from_secs(3),
    );
    // Once signed in (and on every opening), the host learns how many tickets await a reply.
    crate::effect(move || {
        if session.0.with(|s| s.is_some()) {
            embed.send_unread(api);
        }
    });
    embed.post(&Note::Ready);
    // The loader's labels (launcher, title bar, close button) speak the language the app shows,
    // whoever chose it: the panel, the customer's switch, their saved choice.
    crate::effect(move || {
        embed.post(&Note::Language(crate::language::code(i18n.get_locale())));
    });
}

impl Embed {
    /// Posts to the verified parent origin, never to "*". The type travels prefixed, so the host's
    /// other messages are never mistaken for ours.
    fn post(self, note: &Note) {
        let Some(origin) = self.parent.try_get_value().flatten() else {
            return;
        };
        let m = js_sys::Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = js_sys::Reflect::set(&m, &k.into(), &v);
        };
        let kind = match note {
            Note::Ready => "ready",
            Note::Height(h) => {
                set("height", JsValue::from_f64(*h));
                "height"
            }
            Note::SsoRequest => "sso-request",
            Note::Close => "close",
            Note::Unread(n) => {
                set("count", JsValue::from(*n));
                "unread"
            }
            Note::TicketCreated(code) => {
                set("code", JsValue::from_str(code));
                "ticket-created"
            }
            Note::Language(code) => {
                set("locale", JsValue::from_str(code));
                "language"
            }
        };
        set("type", JsValue::from_str(&[PREFIX, kind].concat()));
        if let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) {
            let _ = parent.post_message(&m, &origin);
        }
    }
}

fn listen(embed: Embed, wiring: Wiring) {
    let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let Some(origin) = embed.parent.get_value() else {
            return;
        };
        let from_parent = match (
            e.source(),
            web_sys::window().and_then(|w| w.parent().ok().flatten()),
        ) {
            (Some(source), Some(parent)) => {
                let (source, parent): (&JsValue, &JsValue) = (source.as_ref(), parent.as_ref());
                source == parent
            }
            _ => false,
        };
        if !from_parent || e.origin() != origin {
            return;
        }
        let data = e.data();
        let cmd = text(&data, "type")
            .and_then(|t| t.strip_prefix(PREFIX).and_then(|k| Command::read(k, &data)));
        if let Some(cmd) = cmd {
            embed.run(cmd, wiring);
        }
    });
    let _ = window().add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    handler.forget();
}

impl Embed {
    fn run(self, cmd: Command, wiring: Wiring) {
        let Wiring {
            session,
            api,
            nav,
            i18n,
        } = wiring;
        match cmd {
            Command::Init {
                theme,
                locale,
                sso,
                prefill,
                open,
            } => {
                apply_theme(&theme);
                if let (Some(l), Some(c)) = (locale, self.language) {
                    c.set_panel(&l);
                    // As for `locale` below: the loader labelled itself in the panel's language.
                    self.post(&Note::Language(crate::language::code(
                        i18n.get_locale_untracked(),
                    )));
                }
                if prefill.is_some() {
                    self.prefill.set(prefill);
                }
                self.host_sso.set(sso);
                if sso {
                    // The panel says who the customer is: a session this tab kept from an
                    // earlier password login may be someone else's.
                    if session.0.get_untracked().is_some() {
                        session.end(false);
                    }
                    self.ask();
                } else {
                    self.sign_on.set(SignOn::Off);
                }
                if open {
                    focus_main();
                }
            }
            Command::SsoAvailable => {
                let before = self.host_sso.get_untracked();
                self.host_sso.set(true);
                if !before && session.0.get_untracked().is_none() {
                    self.ask();
                }
            }
            Command::Sso { token } => {
                // Only the answer to a question still open: a late second token never replaces
                // the session (nor moves the customer away from where the first one led).
                if self.sign_on.get_untracked() != SignOn::Asking
                    || session.0.get_untracked().is_some()
                {
                    return;
                }
                self.sign_on.set(SignOn::Signing);
                leptos::task::spawn_local(async move {
                    match api.sso(&token).await {
                        Ok(r) => {
                            if let (Some(l), Some(c)) = (r.locale.as_deref(), self.language) {
                                c.set_panel(l);
                            }
                            session.start_here(api, r);
                            self.sign_on.set(SignOn::Off);
                            let back = take_return();
                            let to = if std::mem::take(&mut *self.new_ticket_waiting.write_value())
                            {
                                Some("/nuovo".to_string())
                            } else {
                                back
                            };
                            nav.navigate(&to.unwrap_or_else(|| "/".into()));
                        }
                        Err(_) => self.sign_on.set(SignOn::Failed),
                    }
                });
            }
            Command::Prefill(prefill) => self.prefill.set(Some(prefill)),
            Command::NewTicket => {
                self.new_ticket.update(|n| *n += 1);
                if session.0.get_untracked().is_some() {
                    nav.navigate("/nuovo");
                } else {
                    self.new_ticket_waiting.set_value(true);
                }
            }
            Command::Locale(locale) => {
                if let Some(c) = self.language {
                    c.set_panel(&locale);
                }
                // The loader waits for the language actually shown: the customer's own choice
                // wins over the panel's, and then nothing changes here to say so.
                self.post(&Note::Language(crate::language::code(
                    i18n.get_locale_untracked(),
                )));
            }
            Command::Logout => {
                // Forgotten here at once; the token stops working on the server too.
                let token = api.token();
                session.end(true);
                self.sign_on.set(SignOn::Ended);
                nav.navigate("/login");
                if let Some(token) = token {
                    leptos::task::spawn_local(api.end_session(token));
                }
            }
            Command::Open => {
                focus_main();
                if session.0.get_untracked().is_some() {
                    self.send_unread(api);
                } else if matches!(self.sign_on.get_untracked(), SignOn::Ended | SignOn::Failed) {
                    self.ask();
                }
            }
        }
    }

    /// Whether the panel signs the customer in (it gave the widget a sign-on function).
    pub fn host_signs_on(self) -> bool {
        self.host_sso.get_untracked()
    }

    /// Asks the host for a token, if it signs customers on; returns whether it does.
    pub fn ask(self) -> bool {
        if !self.host_sso.get_untracked() {
            return false;
        }
        if matches!(
            self.sign_on.get_untracked(),
            SignOn::Asking | SignOn::Signing
        ) {
            return true;
        }
        self.sign_on.set(SignOn::Asking);
        self.post(&Note::SsoRequest);
        // A host that never answers leaves a sentence and a retry, not an endless wait.
        set_timeout(
            move || {
                if matches!(
                    self.sign_on.get_untracked(),
                    SignOn::Asking | SignOn::Signing
                ) {
                    self.sign_on.set(SignOn::Failed);
                }
            },
            std::time::Duration::from_secs(15),
        );
        true
    }

    /// A new ticket, for the host's `ticket:created` listeners.
    pub fn ticket_created(self, api: Api, code: &str) {
        self.post(&Note::TicketCreated(code));
        self.send_unread(api);
    }

    /// News came (a live event): the host's badge follows.
    pub fn refresh_unread(self, api: Api) {
        self.send_unread(api);
    }

    fn send_unread(self, api: Api) {
        if !self.is_embedded() {
            return;
        }
        leptos::task::spawn_local(async move {
            if let Ok(counting) = count_unread(self, api).await {
                counting.await;
            }
        });
    }
}

split!(
    signed_in,
    /// Counts the tickets awaiting the customer's reply for the host's badge, with the code of a
    /// signed-in customer's piece (src/live.rs): a visitor who has not signed in never fetches it.
    fn count_unread(
        embed: Embed,
        api: Api,
    ) -> Result<std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>, crate::pieces::Missing>
    {
        Ok(Box::pin(async move {
            if let Ok(count) = api.awaiting_reply().await {
                embed.post(&Note::Unread(count as u32));
            }
        }))
    }
);

fn focus_main() {
    request_animation_frame(|| {
        if let Some(el) = document()
            .get_element_by_id("main")
            .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok())
        {
            crate::focus_in_place(&el);
        }
    });
}

/// The host's theme, checked again here, as custom properties the stylesheet reads.
fn apply_theme(theme: &Theme) {
    let Some(root) = document()
        .document_element()
        .and_then(|r| r.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    let style = root.style();
    if let Some(a) = theme.accent.as_deref().filter(|a| valid_colour(a)) {
        let _ = style.set_property("--brand", a);
        let _ = style.set_property(
            "--brand-dark",
            &format!("color-mix(in srgb, {a} 80%, #000)"),
        );
    }
    if let Some(r) = theme.radius.as_deref().filter(|r| valid_length(r)) {
        let _ = style.set_property("--radius", r);
    }
    if let Some(f) = theme.font.as_deref().filter(|f| valid_font(f)) {
        let _ = style.set_property("font-family", f);
    }
}

/// The app's height, posted whenever it changes, so the widget's frame fits its content.
fn watch_height(embed: Embed) {
    let Some(body) = document().body() else {
        return;
    };
    let report = Closure::<dyn Fn()>::new(move || {
        if let Some(b) = document().body() {
            embed.post(&Note::Height(b.get_bounding_client_rect().height()));
        }
    });
    let Ok(observer) = web_sys::ResizeObserver::new(report.as_ref().unchecked_ref()) else {
        return;
    };
    observer.observe(&body);
    report.forget();
}
