#![cfg(target_arch = "wasm32")]
//! The ticket page in a real browser: components mounted into a fresh element with data (no
//! server), asserting what a customer would see. Requests the page makes reach the test runner's
//! own server, which knows no API: that is how a failed reply and a missing ticket are tested.

use helpdesk_app::components::ticket_view::TicketView;
use helpdesk_app::i18n::Locale;
use helpdesk_app::language::Fixed;
use helpdesk_app::pages::ticket::TicketScreen;
use helpdesk_app::session::{Session, SessionData};
use helpdesk_core::api::{
    Attachment, Author, AuthorKind, Channel, Customer, Department, Message, MessageKind, Priority,
    Role, ServiceFamily, ServiceSummary, Status, Ticket,
};
use leptos::prelude::*;
use std::any::Any;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

const CODE: &str = "FPL-809-43017";
const XSS: &str = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=1</script>";

// ----- data -----

fn message(id: &str, author: AuthorKind, name: &str, body: &str) -> Message {
    Message {
        id: id.into(),
        kind: MessageKind::Message,
        author: Author {
            kind: author,
            name: name.into(),
        },
        channel: Channel::Web,
        body: body.into(),
        created_at: "2026-11-24T09:30:00Z".into(),
        attachments: Vec::new(),
        status: None,
        automatic: false,
        signed: false,
        raw_email: None,
    }
}

fn event(id: &str, name: &str, status: Status) -> Message {
    Message {
        kind: MessageKind::Event,
        status: Some(status),
        ..message(id, AuthorKind::Customer, name, "")
    }
}

fn ticket(status: Status, messages: Vec<Message>) -> Ticket {
    Ticket {
        code: CODE.into(),
        subject: "Errore 500 su pizzeria-da-mario.it dopo l'aggiornamento".into(),
        department: Department::Helpdesk,
        service: Some(ServiceSummary {
            id: "s1".into(),
            family: ServiceFamily::HostingShared,
            product: "Hosting WordPress".into(),
            identifier: "pizzeria-da-mario.it".into(),
        }),
        status,
        priority: Priority::Normal,
        channel: Channel::Web,
        created_at: "2026-11-24T09:00:00Z".into(),
        last_activity_at: "2026-11-24T10:00:00Z".into(),
        messages,
    }
}

fn thread_of(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| {
            let who = if i % 2 == 0 {
                AuthorKind::Customer
            } else {
                AuthorKind::Staff
            };
            message(
                &["m", &i.to_string()].concat(),
                who,
                "Mario Rossi",
                "Messaggio",
            )
        })
        .collect()
}

fn session() -> Session {
    Session::new(Some(SessionData {
        token: "t".into(),
        customer: Customer {
            id: "cust-test".into(),
            email: "demo@example.it".into(),
            name: "Mario Rossi".into(),
            language: Some("it".into()),
            time_zone: "Europe/Rome".into(),
            role: Role::Customer,
        },
        active_ms: 0.0,
    }))
}

// ----- mounting and waiting -----

/// A component mounted into its own element; dropping it unmounts and removes the element.
struct Mounted {
    root: HtmlElement,
    handle: Option<Box<dyn Any>>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.handle.take();
        self.root.remove();
    }
}

fn mount<N: IntoView + 'static>(f: impl FnOnce() -> N + Send + 'static) -> Mounted {
    let root: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&root).unwrap();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <Fixed locale=Locale::it>{f()}</Fixed> }
    });
    Mounted {
        root,
        handle: Some(Box::new(handle)),
    }
}

fn mount_ticket(t: Ticket) -> Mounted {
    mount(move || {
        provide_context(session());
        view! { <TicketView ticket=t/> }
    })
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

/// Lets queued effects run, but no timer or network answer.
async fn ticks() {
    for _ in 0..3 {
        leptos::task::tick().await;
    }
}

/// Lets effects, animation frames and timers run.
async fn settle() {
    leptos::task::tick().await;
    sleep(40).await;
}

async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..300 {
        if cond() {
            return;
        }
        sleep(20).await;
    }
    panic!("timed out waiting for {what}");
}

impl Mounted {
    fn find(&self, selector: &str) -> Option<Element> {
        self.root.query_selector(selector).unwrap()
    }

    fn get(&self, selector: &str) -> Element {
        self.find(selector)
            .unwrap_or_else(|| panic!("no element matches {selector}"))
    }

    fn count(&self, selector: &str) -> u32 {
        self.root.query_selector_all(selector).unwrap().length()
    }

    fn text(&self, selector: &str) -> String {
        self.get(selector).text_content().unwrap_or_default()
    }

    fn click(&self, selector: &str) {
        self.get(selector).unchecked_into::<HtmlElement>().click();
    }

    fn button(&self, label: &str) -> HtmlElement {
        let all = self.root.query_selector_all("button").unwrap();
        (0..all.length())
            .filter_map(|i| all.item(i))
            .map(|n| n.unchecked_into::<HtmlElement>())
            .find(|b| b.text_content().unwrap_or_default().contains(label))
            .unwrap_or_else(|| panic!("no button says {label:?}"))
    }

    fn textarea(&self) -> HtmlTextAreaElement {
        self.get("textarea").unchecked_into()
    }

    /// Types into the reply box the way a browser reports it (an `input` event).
    fn type_reply(&self, text: &str) {
        let area = self.textarea();
        area.set_value(text);
        dispatch(&area, "new Event('input', {bubbles: true})");
    }
}

fn dispatch(el: &Element, event: &str) {
    let f = js_sys::Function::new_with_args("el", &["el.dispatchEvent(", event, ")"].concat());
    f.call1(&JsValue::NULL, el).unwrap();
}

fn active_id() -> String {
    document()
        .active_element()
        .map(|e| e.id())
        .unwrap_or_default()
}

// ----- what is shown -----

#[wasm_bindgen_test]
async fn xss_payloads_in_subject_author_body_and_file_names_show_as_text() {
    let mut t = ticket(Status::Open, Vec::new());
    t.subject = XSS.into();
    t.service.as_mut().unwrap().identifier = XSS.into();
    let mut m = message("m1", AuthorKind::Staff, XSS, XSS);
    m.attachments.push(Attachment {
        id: "f1".into(),
        name: XSS.into(),
        size: 10,
        content_type: "text/html".into(),
    });
    t.messages.push(m);
    t.messages.push(event("e1", XSS, Status::Closed));
    let page = mount_ticket(t);
    settle().await;

    assert_eq!(page.count("img"), 0);
    // leptos_i18n's provider leaves an empty <script> beside what it wraps; a payload's has text.
    assert_eq!(page.count("script:not(:empty), script[src]"), 0);
    assert!(js_sys::Reflect::get(&window(), &"__xss".into())
        .unwrap()
        .is_undefined());
    assert_eq!(page.text("h1"), XSS);
    assert_eq!(page.text(".msg .author"), XSS);
    assert_eq!(page.text(".msg .body"), XSS);
    assert!(page.text(".files .file").contains(XSS));
    assert!(page.text(".event").contains(XSS));
    assert!(page.text(".meta:not(.dates)").contains(XSS));
}

#[wasm_bindgen_test]
async fn the_head_shows_code_subject_facts_and_the_status_in_words() {
    let page = mount_ticket(ticket(Status::AwaitingCustomer, thread_of(2)));
    settle().await;
    assert_eq!(page.text(".ticket-code"), CODE);
    page.button("Copia codice");
    assert_eq!(
        page.text(".ticket-bar .badge"),
        "in attesa di una tua risposta"
    );
    assert_eq!(
        page.text("h1"),
        "Errore 500 su pizzeria-da-mario.it dopo l'aggiornamento"
    );
    let meta = page.text(".meta:not(.dates)");
    for fact in [
        "Helpdesk (Assistenza Tecnica)",
        "Hosting WordPress · pizzeria-da-mario.it",
        "normale",
    ] {
        assert!(meta.contains(fact), "{fact} missing from {meta}");
    }
    // The dates ride in the sticky bar, with the code.
    let dates = page.text(".ticket-bar .meta.dates");
    for fact in ["Aperto il", "Ultima attività"] {
        assert!(dates.contains(fact), "{fact} missing from {dates}");
    }
}

#[wasm_bindgen_test]
async fn the_thread_is_a_list_oldest_first_with_author_channel_and_time() {
    let mut staff = message(
        "m2",
        AuthorKind::Staff,
        "Laura Bianchi",
        "Abbiamo riavviato PHP.",
    );
    staff.channel = Channel::Email;
    let page = mount_ticket(ticket(
        Status::Open,
        vec![
            message("m1", AuthorKind::Customer, "Mario Rossi", "Il sito non va."),
            staff,
        ],
    ));
    settle().await;
    assert_eq!(page.count("ol.thread > li"), 2);
    assert_eq!(page.get("ol.thread > li").id(), "msg-m1");
    let first = page.text("#msg-m1 header");
    assert!(first.contains("Mario Rossi") && first.contains("Tu") && first.contains("dal sito"));
    assert!(page.get("#msg-m2").class_list().contains("staff"));
    let second = page.text("#msg-m2 header");
    assert!(second.contains("Laura Bianchi") && second.contains("Assistenza"));
    assert!(second.contains("via e-mail"));
    assert!(page.get("#msg-m2 time").get_attribute("datetime").is_some());
}

#[wasm_bindgen_test]
async fn quoted_text_is_folded_and_the_toggle_reveals_it() {
    let body = "Grazie, ora funziona.\n\nIl giorno 24/11/2026 10:00, Assistenza <hd@example.it> ha scritto:\n> Abbiamo riavviato il server.\n";
    let page = mount_ticket(ticket(
        Status::Open,
        vec![message("m1", AuthorKind::Customer, "Mario Rossi", body)],
    ));
    settle().await;
    assert_eq!(page.text(".msg .body"), "Grazie, ora funziona.");
    let quoted = page.get(".msg .quoted");
    assert!(quoted.has_attribute("hidden"));
    assert!(quoted
        .text_content()
        .unwrap()
        .contains("> Abbiamo riavviato il server."));
    let toggle = page.get(".msg button.fold");
    assert_eq!(toggle.text_content().unwrap(), "mostra testo citato");
    assert_eq!(toggle.get_attribute("aria-expanded").unwrap(), "false");
    assert_eq!(toggle.get_attribute("aria-controls").unwrap(), quoted.id());

    page.click(".msg button.fold");
    settle().await;
    assert!(!quoted.has_attribute("hidden"));
    assert_eq!(toggle.get_attribute("aria-expanded").unwrap(), "true");
    assert_eq!(toggle.text_content().unwrap(), "nascondi testo citato");

    page.click(".msg button.fold");
    settle().await;
    assert!(quoted.has_attribute("hidden"));
}

#[wasm_bindgen_test]
async fn a_signature_is_folded_too() {
    let body = "Il certificato è scaduto.\n-- \nMario Rossi\nPizzeria da Mario\n";
    let page = mount_ticket(ticket(
        Status::Open,
        vec![message("m1", AuthorKind::Customer, "Mario Rossi", body)],
    ));
    settle().await;
    assert_eq!(page.text(".msg .body"), "Il certificato è scaduto.");
    assert!(page.get(".msg .quoted").has_attribute("hidden"));
    assert!(page.text(".msg .quoted").contains("Pizzeria da Mario"));
}

#[wasm_bindgen_test]
async fn a_message_of_only_quoted_text_is_shown_whole() {
    let body = "> solo una citazione\n> e nient'altro\n";
    let page = mount_ticket(ticket(
        Status::Open,
        vec![message("m1", AuthorKind::Customer, "Mario Rossi", body)],
    ));
    settle().await;
    assert_eq!(page.count(".msg .quoted"), 0);
    assert!(page.text(".msg .body").contains("solo una citazione"));
}

#[wasm_bindgen_test]
async fn status_changes_show_inline_as_events() {
    let page = mount_ticket(ticket(
        Status::Open,
        vec![
            message(
                "m1",
                AuthorKind::Customer,
                "Mario Rossi",
                "Risolto, grazie.",
            ),
            event("e1", "Mario Rossi", Status::Closed),
            event("e2", "Mario Rossi", Status::Open),
        ],
    ));
    settle().await;
    assert_eq!(page.count("ol.thread > li.event"), 2);
    assert_eq!(page.count("ol.thread > li.msg"), 1);
    assert!(page
        .text("#msg-e1")
        .contains("Mario Rossi ha chiuso il ticket"));
    assert!(page.text("#msg-e2").contains("ha riaperto il ticket"));
}

#[wasm_bindgen_test]
async fn files_and_the_original_email_are_download_buttons_and_automatic_mail_is_marked() {
    let mut m = message("m1", AuthorKind::Customer, "Mario Rossi", "Sono in ferie.");
    m.channel = Channel::Email;
    m.automatic = true;
    m.signed = true;
    m.attachments.push(Attachment {
        id: "f1".into(),
        name: "errore.png".into(),
        size: 2048,
        content_type: "image/png".into(),
    });
    m.raw_email = Some(Attachment {
        id: "raw1".into(),
        name: "messaggio.eml".into(),
        size: 4000,
        content_type: "message/rfc822".into(),
    });
    let page = mount_ticket(ticket(Status::Open, vec![m]));
    settle().await;
    // The customer's own e-mail: its file, and no copy of what they sent themselves.
    assert_eq!(page.count(".files button"), 1);
    assert!(page
        .button("errore.png")
        .text_content()
        .unwrap()
        .contains("2 kB"));
    assert!(!page.text("#msg-m1").contains("E-mail originale"));
    assert!(page.text("#msg-m1 header").contains("Risposta automatica"));
    assert!(page.text("#msg-m1 header").contains("Firmato"));
    assert_eq!(
        page.count("a[href]"),
        0,
        "files never become links with a URL"
    );
}

// ----- a long thread -----

#[wasm_bindgen_test]
async fn a_long_thread_shows_its_newest_messages_first_and_the_older_ones_on_request() {
    let page = mount_ticket(ticket(Status::Open, thread_of(1000)));
    settle().await;
    assert_eq!(page.count("ol.thread > li"), 30);
    let items = page.root.query_selector_all("ol.thread > li").unwrap();
    let last: Element = items.item(29).unwrap().unchecked_into();
    assert_eq!(last.id(), "msg-m999");
    let older = page.button("messaggi precedenti");
    assert_eq!(
        older.text_content().unwrap(),
        "Mostra 970 messaggi precedenti"
    );

    older.click();
    wait_for("every message", || page.count("ol.thread > li") == 1000).await;
    assert_eq!(page.get("ol.thread > li").id(), "msg-m0");
    assert_eq!(page.count("button.older"), 0);
    assert_eq!(active_id(), "msg-m0", "focus goes where the button was");
}

#[wasm_bindgen_test]
async fn a_short_thread_shows_everything_at_once() {
    let page = mount_ticket(ticket(Status::Open, thread_of(40)));
    settle().await;
    assert_eq!(page.count("ol.thread > li"), 40);
    assert_eq!(page.count("button.older"), 0);
}

// ----- replying -----

#[wasm_bindgen_test]
async fn the_reply_box_is_labelled_and_an_empty_reply_is_not_sent() {
    let page = mount_ticket(ticket(Status::Open, thread_of(1)));
    settle().await;
    assert_eq!(page.text("label[for=reply-text]"), "La tua risposta");
    assert_eq!(page.textarea().id(), "reply-text");
    page.button("Invia risposta").click();
    settle().await;
    assert_eq!(page.count("ol.thread > li"), 1);
    assert!(page
        .text(".reply [role=alert]")
        .contains("Scrivi il testo della risposta"));
}

#[wasm_bindgen_test]
async fn a_reply_is_shown_at_once_and_taken_back_with_a_message_when_it_fails() {
    let page = mount_ticket(ticket(Status::Open, thread_of(1)));
    settle().await;
    page.type_reply("Ecco il log richiesto.");
    page.button("Invia risposta").click();
    ticks().await;
    // Optimistic: in the thread straight away, the box emptied.
    assert_eq!(page.count(".msg.pending"), 1);
    assert_eq!(page.text(".msg.pending .body"), "Ecco il log richiesto.");
    assert_eq!(page.textarea().value(), "");

    // The test server has no API: the reply fails.
    wait_for("the failure", || page.find(".reply [role=alert]").is_some()).await;
    settle().await;
    assert_eq!(page.count(".msg.pending"), 0);
    assert_eq!(page.count("ol.thread > li"), 1);
    assert_eq!(page.textarea().value(), "Ecco il log richiesto.");
    assert!(page
        .text(".reply [role=alert]")
        .starts_with("La risposta non è stata inviata"));
    assert!(document()
        .active_element()
        .is_some_and(|e| e.get_attribute("role").as_deref() == Some("alert")));
}

#[wasm_bindgen_test]
async fn ctrl_enter_sends_the_reply() {
    let page = mount_ticket(ticket(Status::Open, thread_of(1)));
    settle().await;
    page.type_reply("Inviata da tastiera");
    dispatch(
        &page.textarea(),
        "new KeyboardEvent('keydown', {key: 'Enter', ctrlKey: true, bubbles: true, cancelable: true})",
    );
    ticks().await;
    assert_eq!(page.text(".msg.pending .body"), "Inviata da tastiera");
    wait_for("the failure", || page.find(".reply [role=alert]").is_some()).await;
}

#[wasm_bindgen_test]
async fn the_reply_draft_survives_a_reload() {
    let key = ["helpdesk.draft.cust-test.reply.", CODE].concat();
    let storage = window().local_storage().unwrap().unwrap();
    storage.remove_item(&key).unwrap();
    {
        let page = mount_ticket(ticket(Status::Open, thread_of(1)));
        settle().await;
        page.type_reply("Bozza a metà");
        assert_eq!(
            storage.get_item(&key).unwrap().as_deref(),
            Some("Bozza a metà")
        );
    }
    let page = mount_ticket(ticket(Status::Open, thread_of(1)));
    settle().await;
    assert_eq!(page.textarea().value(), "Bozza a metà");
    storage.remove_item(&key).unwrap();
}

#[wasm_bindgen_test]
async fn finished_uploads_of_a_reply_survive_a_reload_and_expired_ones_are_named() {
    let key = ["helpdesk.draft.cust-test.reply-files.", CODE].concat();
    let storage = window().local_storage().unwrap().unwrap();
    let now = js_sys::Date::now();
    let day = 24.0 * 3600.0 * 1000.0;
    let saved = format!(
        r#"[{{"upload":{{"id":"up-fresh","name":"errore-500.png","size":2048,"content_type":"image/png"}},"at_ms":{fresh}}},
            {{"upload":{{"id":"up-old","name":"vecchio.log","size":10,"content_type":"text/plain"}},"at_ms":{old}}}]"#,
        fresh = now - 60_000.0,
        old = now - 2.0 * day,
    );
    storage.set_item(&key, &saved).unwrap();
    {
        let page = mount_ticket(ticket(Status::Open, thread_of(1)));
        settle().await;
        let form = page.text("form.reply");
        assert!(form.contains("errore-500.png"), "{form}");
        assert!(!form.contains("vecchio.log"), "{form}");
        assert!(form.contains("scaduti"), "{form}");
        // What is kept is only what is still valid on the server.
        let kept = storage.get_item(&key).unwrap().unwrap();
        assert!(
            kept.contains("up-fresh") && !kept.contains("up-old"),
            "{kept}"
        );
        // Removing the file removes it from the draft.
        page.button("Rimuovi").click();
        settle().await;
    }
    assert_eq!(storage.get_item(&key).unwrap(), None);
    let page = mount_ticket(ticket(Status::Open, thread_of(1)));
    settle().await;
    assert!(!page.text("form.reply").contains("errore-500.png"));
}

#[wasm_bindgen_test]
async fn a_closed_ticket_says_a_reply_reopens_it_and_offers_reopening() {
    let page = mount_ticket(ticket(Status::Closed, thread_of(1)));
    settle().await;
    assert_eq!(page.text(".ticket-bar .badge"), "chiuso");
    assert!(page
        .text("#reply-reopens")
        .contains("rispondendo lo riaprirai"));
    assert!(page
        .textarea()
        .get_attribute("aria-describedby")
        .unwrap()
        .contains("reply-reopens"));
    page.button("Riapri il ticket");

    let open = mount_ticket(ticket(Status::Open, thread_of(1)));
    settle().await;
    open.button("Chiudi il ticket");
    assert!(open.find("#reply-reopens").is_none());
}

// ----- loading -----

#[wasm_bindgen_test]
async fn a_ticket_that_is_not_the_customers_says_not_found_with_a_way_back() {
    let page = mount(|| {
        view! { <TicketScreen code="ZZZ-000-00000".to_string()/> }
    });
    assert!(page.find("[role=status]").is_some(), "loading is announced");
    wait_for("not found", || page.find("h1").is_some()).await;
    assert_eq!(page.text("h1"), "Ticket non trovato");
    assert!(page
        .get("a[href]")
        .text_content()
        .unwrap()
        .contains("I miei ticket"));
}
