//! The attachments component in a real Chromium: files dropped, pasted and picked, checked before
//! sending, uploaded with progress, cancelled, retried. Requests go to a stand-in XMLHttpRequest
//! that the test drives, so no server is needed (the end-to-end tests use the real one).
#![cfg(target_arch = "wasm32")]

use helpdesk_app::api::{Api, Hooks};
use helpdesk_app::components::attachments::{Attached, Attachments};
use helpdesk_app::i18n::Locale;
use helpdesk_app::language::Fixed;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_root() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let el: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&el).unwrap();
    el
}

/// Runs a piece of JavaScript with one argument (`a`).
fn js(body: &str, a: &JsValue) -> JsValue {
    js_sys::Function::new_with_args("a", body)
        .call1(&JsValue::NULL, a)
        .expect("script runs")
}

/// Replaces XMLHttpRequest with a stand-in that records requests in `window.__xhrs`.
fn fake_xhr() {
    js(
        "window.__realXhr = window.__realXhr || window.XMLHttpRequest;
         window.__xhrs = [];
         window.XMLHttpRequest = class {
             constructor() { this.upload = {}; this.headers = {}; this.status = 0; this.responseText = ''; window.__xhrs.push(this); }
             open(m, u) { this.method = m; this.url = u; }
             setRequestHeader(k, v) { this.headers[k] = v; }
             send(body) { this.body = body; }
             abort() { this.aborted = true; if (this.onloadend) this.onloadend(new ProgressEvent('loadend')); }
         };",
        &JsValue::NULL,
    );
}

fn xhr_count() -> u32 {
    js("return window.__xhrs.length", &JsValue::NULL)
        .as_f64()
        .unwrap() as u32
}

/// Makes request `i` report progress.
fn progress(i: u32, loaded: f64, total: f64) {
    js(
        &format!(
            "window.__xhrs[a].upload.onprogress(new ProgressEvent('progress', \
             {{lengthComputable: true, loaded: {loaded}, total: {total}}}))"
        ),
        &JsValue::from(i),
    );
}

/// Makes request `i` end with a status and a body.
fn answer(i: u32, status: u16, body: &str) {
    let x = js("return window.__xhrs[a]", &JsValue::from(i));
    js_sys::Reflect::set(&x, &"status".into(), &JsValue::from(status)).unwrap();
    js_sys::Reflect::set(&x, &"responseText".into(), &JsValue::from_str(body)).unwrap();
    js(
        "a.onloadend && a.onloadend(new ProgressEvent('loadend'))",
        &x,
    );
}

/// A DataTransfer holding files described as `[name, type, size in bytes]`.
fn transfer(files: &[(&str, &str, u32)]) -> JsValue {
    let list = js_sys::Array::new();
    for (name, kind, size) in files {
        list.push(&js_sys::Array::of3(
            &JsValue::from_str(name),
            &JsValue::from_str(kind),
            &JsValue::from(*size),
        ));
    }
    js(
        "const dt = new DataTransfer();
         for (const [name, type, size] of a) dt.items.add(new File([new Uint8Array(size).fill(65)], name, { type }));
         return dt;",
        &list,
    )
}

struct Mounted {
    root: web_sys::HtmlElement,
    files: RwSignal<Vec<Attached>>,
    pending: RwSignal<usize>,
    _handle: Box<dyn std::any::Any>,
}

async fn mount() -> Mounted {
    mount_signed_in(None).await
}

/// Mounted with an API client whose session has this token (the app's own gives it the
/// session's).
async fn mount_signed_in(token: Option<&'static str>) -> Mounted {
    fake_xhr();
    let root = fresh_root();
    let files = RwSignal::new(Vec::<Attached>::new());
    let pending = RwSignal::new(0usize);
    let handle = leptos::mount::mount_to(root.clone(), move || {
        if let Some(token) = token {
            provide_context(Api::new(Hooks {
                token: Box::new(move || Some(token.to_string())),
                language: Box::new(|| "it"),
                activity: Box::new(|| {}),
                ended: Box::new(|| {}),
            }));
        }
        view! { <Fixed locale=Locale::it><Attachments id="files" files=files pending=pending/></Fixed> }
    });
    leptos::task::tick().await;
    Mounted {
        root,
        files,
        pending,
        _handle: Box::new(handle),
    }
}

impl Mounted {
    fn text(&self) -> String {
        self.root.text_content().unwrap_or_default()
    }

    fn zone(&self) -> web_sys::Element {
        self.root.query_selector(".dropzone").unwrap().unwrap()
    }

    fn drag(&self, kind: &str, dt: &JsValue) {
        let ev = js(
            "return new DragEvent(a[0], { dataTransfer: a[1], bubbles: true, cancelable: true })",
            &js_sys::Array::of2(&kind.into(), dt),
        );
        self.zone().dispatch_event(ev.unchecked_ref()).unwrap();
    }

    fn drop_files(&self, files: &[(&str, &str, u32)]) {
        let dt = transfer(files);
        self.drag("dragenter", &dt);
        self.drag("dragover", &dt);
        self.drag("drop", &dt);
    }

    fn button(&self, label: &str) -> web_sys::HtmlElement {
        self.root
            .query_selector(&format!("button[aria-label=\"{label}\"]"))
            .unwrap()
            .unwrap_or_else(|| panic!("no button labelled {label:?}; page: {}", self.text()))
            .unchecked_into()
    }

    fn progress(&self) -> (f64, f64) {
        let p: web_sys::Element = self
            .root
            .query_selector("progress")
            .unwrap()
            .expect("a progress bar");
        let get = |k: &str| {
            js_sys::Reflect::get(&p, &k.into())
                .unwrap()
                .as_f64()
                .unwrap()
        };
        (get("value"), get("max"))
    }
}

#[wasm_bindgen_test]
async fn the_picker_has_a_label_and_the_zone_shows_when_files_are_dragged_over_it() {
    let m = mount().await;
    let input = m
        .root
        .query_selector("input[type=file][multiple]")
        .unwrap()
        .expect("a file input");
    let label = m
        .root
        .query_selector(&format!("label[for={}]", input.id()))
        .unwrap();
    assert!(label.is_some_and(|l| !l.text_content().unwrap_or_default().is_empty()));
    assert_eq!(m.zone().class_name(), "dropzone");
    let dt = transfer(&[("a.txt", "text/plain", 3)]);
    m.drag("dragenter", &dt);
    leptos::task::tick().await;
    assert_eq!(m.zone().class_name(), "dropzone over");
    m.drag("dragleave", &dt);
    leptos::task::tick().await;
    assert_eq!(m.zone().class_name(), "dropzone");
}

#[wasm_bindgen_test]
async fn dropped_files_are_listed_and_sent_with_the_token_in_a_header() {
    let m = mount_signed_in(Some("secret-token")).await;
    m.drop_files(&[
        ("errore.log", "text/plain", 120),
        ("schermata.png", "image/png", 200),
    ]);
    leptos::task::tick().await;
    assert_eq!(
        m.zone().class_name(),
        "dropzone",
        "the zone is back to normal after the drop"
    );
    let text = m.text();
    assert!(
        text.contains("errore.log") && text.contains("schermata.png"),
        "{text}"
    );
    assert!(text.contains("In caricamento"), "{text}");
    assert_eq!(xhr_count(), 2);
    assert_eq!(m.pending.get_untracked(), 2);
    let x = js("return window.__xhrs[0]", &JsValue::NULL);
    let get = |k: &str| js_sys::Reflect::get(&x, &k.into()).unwrap();
    assert_eq!(get("method").as_string().unwrap(), "POST");
    let url = get("url").as_string().unwrap();
    assert_eq!(url, "/api/v1/uploads");
    let auth = js("return a.headers.Authorization", &x).as_string();
    assert_eq!(auth.as_deref(), Some("Bearer secret-token"));
    // The image has a thumbnail from an object URL.
    let img = m
        .root
        .query_selector(".uploads img")
        .unwrap()
        .expect("a thumbnail");
    assert!(img.get_attribute("src").unwrap().starts_with("blob:"));
}

#[wasm_bindgen_test]
async fn a_pasted_screenshot_is_named_by_date_and_time() {
    let m = mount().await;
    let dt = transfer(&[("image.png", "image/png", 50)]);
    let ev = js(
        "return new ClipboardEvent('paste', { clipboardData: a, bubbles: true, cancelable: true })",
        &dt,
    );
    // Pasted anywhere in the component: here on the file input.
    let input = m.root.query_selector("input[type=file]").unwrap().unwrap();
    input.dispatch_event(ev.unchecked_ref()).unwrap();
    leptos::task::tick().await;
    let text = m.text();
    let at = text.find("screenshot-").unwrap_or_else(|| panic!("{text}"));
    let name = &text[at..at + "screenshot-2026-11-25-10-12-03.png".len()];
    let digits: String = name.chars().filter(|c| c.is_ascii_digit()).collect();
    assert_eq!(digits.len(), 14, "{name}");
    assert!(name.ends_with(".png"), "{name}");
    assert!(!text.contains("image.png"), "{text}");
    assert_eq!(xhr_count(), 1);
}

#[wasm_bindgen_test]
async fn a_file_over_the_size_limit_is_refused_before_sending_with_the_limit() {
    let m = mount().await;
    m.drop_files(&[("backup.zip", "application/zip", 10 * 1024 * 1024 + 1)]);
    leptos::task::tick().await;
    let text = m.text();
    assert!(
        text.contains("troppo grande") && text.contains("10 MB"),
        "{text}"
    );
    assert_eq!(xhr_count(), 0, "nothing was sent");
    assert!(m
        .root
        .query_selector("progress:not([hidden])")
        .unwrap()
        .is_none());
    assert_eq!(m.pending.get_untracked(), 0);
    // It can only be removed.
    assert!(m
        .root
        .query_selector("button[aria-label^=Riprova]:not([hidden])")
        .unwrap()
        .is_none());
    m.button("Rimuovi backup.zip").click();
    leptos::task::tick().await;
    assert!(!m.text().contains("backup.zip"));
}

#[wasm_bindgen_test]
async fn files_beyond_ten_and_files_that_run_code_are_refused_before_sending() {
    let m = mount().await;
    let names: Vec<String> = (1..=11).map(|i| format!("log{i}.txt")).collect();
    let files: Vec<(&str, &str, u32)> = names
        .iter()
        .map(|n| (n.as_str(), "text/plain", 10))
        .collect();
    m.drop_files(&[("setup.exe", "application/octet-stream", 10)]);
    m.drop_files(&files);
    leptos::task::tick().await;
    assert_eq!(xhr_count(), 10);
    let text = m.text();
    assert!(text.contains("al massimo 10 file per messaggio"), "{text}");
    assert!(text.contains("i file .exe non sono ammessi"), "{text}");
    assert!(
        text.contains("log10.txt") && text.contains("log11.txt"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn progress_reaches_100_percent_and_the_upload_joins_the_files() {
    let m = mount().await;
    m.drop_files(&[("errore.log", "text/plain", 1000)]);
    leptos::task::tick().await;
    assert_eq!(m.progress(), (0.0, 1000.0));
    progress(0, 400.0, 1000.0);
    leptos::task::tick().await;
    assert_eq!(m.progress(), (400.0, 1000.0));
    progress(0, 1000.0, 1000.0);
    leptos::task::tick().await;
    assert_eq!(m.progress(), (1000.0, 1000.0));
    assert_eq!(
        m.pending.get_untracked(),
        1,
        "still pending until the server answers"
    );
    answer(
        0,
        201,
        r#"{"id":"u1","name":"errore.log","size":1000,"content_type":"text/plain; charset=utf-8"}"#,
    );
    leptos::task::tick().await;
    assert_eq!(m.pending.get_untracked(), 0);
    let files = m.files.get_untracked();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].upload.id, "u1");
    let all = js("return [...a.querySelectorAll('progress')].map(p => p.value + '/' + p.max).join(' ') + ' ' + a.innerHTML", &m.root);
    let (value, max) = m.progress();
    assert_eq!(value, max, "{all:?}");
    assert!(m.text().contains("Caricato"), "{}", m.text());
    m.button("Rimuovi errore.log").click();
    leptos::task::tick().await;
    assert!(m.files.get_untracked().is_empty());
    assert!(!m.text().contains("errore.log"));
}

#[wasm_bindgen_test]
async fn cancelling_aborts_the_request_and_nothing_is_pending() {
    let m = mount().await;
    m.drop_files(&[("grande.zip", "application/zip", 5000)]);
    leptos::task::tick().await;
    progress(0, 100.0, 5000.0);
    leptos::task::tick().await;
    assert_eq!(m.pending.get_untracked(), 1);
    m.button("Annulla grande.zip").click();
    leptos::task::tick().await;
    let aborted = js("return window.__xhrs[0].aborted === true", &JsValue::NULL);
    assert_eq!(aborted, JsValue::TRUE);
    assert_eq!(m.pending.get_untracked(), 0);
    assert!(!m.text().contains("grande.zip"));
    assert!(m.files.get_untracked().is_empty());
}

#[wasm_bindgen_test]
async fn a_file_the_server_refuses_shows_its_reason_and_can_only_be_removed() {
    let m = mount().await;
    m.drop_files(&[("foto.png", "image/png", 80)]);
    leptos::task::tick().await;
    answer(
        0,
        415,
        r#"{"error":{"code":"type_mismatch","message":"Il file non è stato accettato: il contenuto non è un'immagine PNG."}}"#,
    );
    leptos::task::tick().await;
    assert_eq!(m.pending.get_untracked(), 0);
    let status = m
        .root
        .query_selector("[aria-live=polite]")
        .unwrap()
        .unwrap();
    assert!(
        status
            .text_content()
            .unwrap()
            .contains("il contenuto non è un'immagine PNG"),
        "{}",
        m.text()
    );
    assert!(
        m.root
            .query_selector("button[aria-label^=Riprova]:not([hidden])")
            .unwrap()
            .is_none(),
        "sending the same content again cannot help"
    );
    m.button("Rimuovi foto.png").click();
    leptos::task::tick().await;
    assert!(!m.text().contains("foto.png"));
}

#[wasm_bindgen_test]
async fn an_upload_the_server_could_not_take_can_be_retried() {
    let m = mount().await;
    m.drop_files(&[("foto.png", "image/png", 80)]);
    leptos::task::tick().await;
    answer(
        0,
        503,
        r#"{"error":{"code":"internal","message":"Errore interno del server: riprova tra poco."}}"#,
    );
    leptos::task::tick().await;
    assert_eq!(m.pending.get_untracked(), 0);
    m.button("Riprova foto.png").click();
    leptos::task::tick().await;
    assert_eq!(xhr_count(), 2);
    assert_eq!(m.pending.get_untracked(), 1);
    answer(
        1,
        201,
        r#"{"id":"u2","name":"foto.png","size":80,"content_type":"image/png"}"#,
    );
    leptos::task::tick().await;
    assert_eq!(m.pending.get_untracked(), 0);
    assert_eq!(m.files.get_untracked().len(), 1);
}

#[wasm_bindgen_test]
async fn leaving_the_page_cancels_uploads_in_flight() {
    let mut m = mount().await;
    m.drop_files(&[("a.txt", "text/plain", 10), ("b.txt", "text/plain", 10)]);
    leptos::task::tick().await;
    assert_eq!(m.pending.get_untracked(), 2);
    m._handle = Box::new(());
    leptos::task::tick().await;
    assert_eq!(m.pending.get_untracked(), 0);
    let aborted = js("return window.__xhrs.every(x => x.aborted)", &JsValue::NULL);
    assert_eq!(aborted, JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn a_screenshot_pasted_in_the_text_of_the_same_form_is_attached_and_nowhere_else() {
    fake_xhr();
    let root = fresh_root();
    let files = RwSignal::new(Vec::<Attached>::new());
    let pending = RwSignal::new(0usize);
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <input id="outside" aria-label="Altro campo"/>
            <form>
                <textarea id="body" aria-label="Messaggio"></textarea>
                <Fixed locale=Locale::it><Attachments id="files" files=files pending=pending/></Fixed>
            </form>
        }
    });
    leptos::task::tick().await;
    let paste_on = |selector: &str, files: &[(&str, &str, u32)]| -> bool {
        let ev = js(
            "return new ClipboardEvent('paste', { clipboardData: a, bubbles: true, cancelable: true })",
            &transfer(files),
        );
        let el = root.query_selector(selector).unwrap().unwrap();
        el.dispatch_event(ev.unchecked_ref()).unwrap();
        js("return a.defaultPrevented", &ev).as_bool().unwrap()
    };

    // Outside the form: not ours, nothing is sent and the paste goes on as usual.
    assert!(!paste_on("#outside", &[("image.png", "image/png", 50)]));
    leptos::task::tick().await;
    assert_eq!(xhr_count(), 0);

    // Text pasted in the message stays text.
    assert!(!paste_on("#body", &[]));
    assert_eq!(xhr_count(), 0);

    // A screenshot pasted while writing the message joins the attachments.
    assert!(paste_on("#body", &[("image.png", "image/png", 50)]));
    leptos::task::tick().await;
    assert_eq!(xhr_count(), 1);
    let text = root.text_content().unwrap_or_default();
    assert!(text.contains("screenshot-"), "{text}");
}
