//! Stored XSS: the payloads of fixtures/xss/payloads.txt put into every field a customer or a mail
//! sender controls, through the real entry points, then rendered by the real app in Chromium:
//! nothing runs, and every payload shows as the text it is.
//!
//! The page's Content-Security-Policy is bypassed in the browser (through chromedriver's DevTools
//! bridge) so that a payload the app wrongly turned into markup would really run: the test proves
//! the app's own rendering, and the policy stays a second wall on top of it.

use helpdesk_e2e::{start_with, Env};
use helpdesk_server::mail::{self, AuthSource, Envelope, Outcome};
use helpdesk_server::storage::prelude::*;
use helpdesk_server::Config;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const CUSTOMER: &str = "xss@example.it";
const STAFF: &str = "xss-staff@example.it";
/// The customer's one service: subjects name it, so they pass the subject rule.
const DOMAIN: &str = "blog-xss.it";

/// The corpus, each `$N` replaced by the payload's number (from 1) and `{NUL}` by a NUL.
fn payloads() -> Vec<String> {
    let path = helpdesk_e2e::workspace().join("tests/e2e/fixtures/xss/payloads.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the corpus {} is not readable: {e}", path.display()));
    let list: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .enumerate()
        .map(|(i, l)| l.replace("$N", &(i + 1).to_string()).replace("{NUL}", "\0"))
        .collect();
    assert!(list.len() >= 40, "the corpus holds {} payloads", list.len());
    list
}

/// A subject the subject rule takes as specific, carrying a payload.
fn subject_with(payload: &str) -> String {
    format!("Errore 500 sulla home di {DOMAIN}: {payload}")
}

/// Starts the server (demo data, e-mail accepted without sender authentication as in the demo run)
/// and a browser that ignores the app's Content-Security-Policy. One customer opens a ticket per
/// payload, far past an account's limit: the limits are off, since they are not what is tested.
async fn start_unwalled() -> Env {
    let env = start_with(|c| {
        c.mail_require_auth = false;
        c.limits = helpdesk_server::config::AccountLimits::off();
    })
    .await;
    env.cdp("Page.setBypassCSP", json!({"enabled": true})).await;
    env
}

fn running(env: &Env) -> &helpdesk_server::Running {
    env.server.as_ref().expect("the server runs")
}

/// Creates or updates an account through the panel's import, with the demo password.
async fn import(env: &Env, email: &str, name: &str, role: &str) {
    let store = &running(env).state.store;
    let hash = store
        .account_by_email("demo@example.it")
        .await
        .unwrap()
        .expect("the demo customer")
        .password_hash;
    let services = if role == "customer" {
        json!([{"id": "xss-hosting", "family": "hosting_shared", "product": "Hosting WordPress",
                "identifier": DOMAIN}])
    } else {
        json!([])
    };
    let file = json!({"customers": [{"email": email, "name": name, "role": role,
                                      "password_hash": hash, "services": services}]});
    let file = helpdesk_server::import::parse(&file.to_string()).expect("an import file");
    helpdesk_server::import::import(store, &file)
        .await
        .expect("the import is taken");
}

/// An API client logged in as one account; logs in again if a re-import ended its session.
struct Api {
    http: reqwest::Client,
    base: String,
    email: String,
    token: String,
}

impl Api {
    async fn login(env: &Env, email: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: env.url("/api/v1"),
            email: email.to_string(),
            token: env.api_token(email).await,
        }
    }

    async fn send(&mut self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        for attempt in 0..2 {
            let mut req = self
                .http
                .request(method.parse().unwrap(), format!("{}{path}", self.base))
                .bearer_auth(&self.token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.expect("the server answers");
            let status = resp.status().as_u16();
            if status == 401 && attempt == 0 {
                self.token = self.relogin().await;
                continue;
            }
            return (status, resp.json().await.unwrap_or(Value::Null));
        }
        unreachable!()
    }

    async fn relogin(&self) -> String {
        let login: Value = self
            .http
            .post(format!("{}/session", self.base))
            .json(&json!({"email": self.email, "password": "demo-password"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["token"].as_str().expect("a token").to_string()
    }

    async fn get(&mut self, path: &str) -> Value {
        let (status, v) = self.send("GET", path, None).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    async fn post(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(&body)).await
    }

    /// Uploads one file as a browser would send it (`"` and line breaks escaped in the name).
    async fn upload(&self, name: &str, content_type: &str, data: &[u8]) -> (u16, Value) {
        let boundary = "----xss-boundary-7MA4YWxkTrZu0gW";
        let quoted = name
            .replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = self
            .http
            .post(format!("{}/uploads", self.base))
            .bearer_auth(&self.token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Opens a helpdesk ticket on the customer's service; returns its code.
    async fn open_ticket(&mut self, subject: &str, description: &str) -> String {
        let services = self.get("/services").await;
        let sid = services["items"][0]["id"].as_str().unwrap().to_string();
        let (status, t) = self
            .post(
                "/tickets",
                json!({"department": "helpdesk", "service_id": sid, "priority": "normal",
                       "subject": subject, "description": description, "upload_ids": []}),
            )
            .await;
        assert_eq!(status, 201, "ticket {subject:?} not opened: {t}");
        t["code"].as_str().unwrap().to_string()
    }
}

/// Everything that would show that a payload ran, or that markup from the data reached the page.
const WHAT_RAN: &str = r#"
const hits = [];
if (window.__xss !== undefined) hits.push('window.__xss = ' + window.__xss);
if (/^XSS/.test(document.title)) hits.push('title ' + document.title);
for (const e of performance.getEntriesByType('resource'))
  if (e.name.includes('pwned')) hits.push('request ' + e.name);
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    if (/^on/i.test(a.name)) hits.push('handler ' + el.tagName + '[' + a.name + ']');
    if (/^(href|src|action|formaction|data|xlink:href)$/i.test(a.name)
        && /^\s*(javascript|vbscript|data):/i.test(a.value))
      hits.push('script URL in ' + el.tagName + '[' + a.name + '=' + a.value + ']');
    if ((a.name === 'style' && /expression\(|javascript:/i.test(a.value)) || a.name === 'srcdoc')
      hits.push('script in ' + el.tagName + '[' + a.name + ']');
  }
}
// The app puts no script in the body: any there is a payload's. (By tag on purpose: this looks
// for markup a payload made, which has no role to find it by.)
for (const el of document.querySelectorAll(
    'iframe, object, embed, marquee, math, video, audio, details, body base, body meta, body link, body style, body script, img[src="x"]'))
  hits.push('element ' + el.outerHTML.slice(0, 120));
return hits;
"#;

/// Runs a script in the page; an alert a payload opened meanwhile fails the test by its text.
async fn script(env: &Env, page: &str, script: &str, args: Vec<Value>) -> Value {
    let script = format!("{}\n{script}", helpdesk_e2e::LOCATE);
    match env.browser.execute(&script, args).await {
        Ok(v) => v,
        Err(e) if e.is_unexpected_alert_open() => {
            panic!("{page}: a payload opened an alert: {e}")
        }
        Err(e) => panic!("{page}: script failed: {e}"),
    }
}

/// Asserts that no payload ran on the current page: no alert open, nothing in [`WHAT_RAN`].
async fn assert_nothing_ran(env: &Env, page: &str) {
    match env.browser.get_alert_text().await {
        Err(e) if e.is_no_such_alert() => {}
        Ok(text) => panic!("{page}: a payload opened an alert: {text:?}"),
        Err(e) => panic!("{page}: cannot ask for an alert: {e}"),
    }
    let hits = script(env, page, WHAT_RAN, vec![]).await;
    assert_eq!(hits, json!([]), "{page}: payloads ran or became markup");
}

/// Waits until every string shows in the page's text, literally. Meanwhile it asks for what the
/// page keeps back (the list's next page, a long thread's older messages), as a user would.
async fn assert_shown_as_text(env: &Env, page: &str, expected: &[String]) {
    assert!(!expected.is_empty(), "{page}: nothing to look for");
    let check = "for (const b of allByRole('button').filter(b => /^Mostra (altri|\\d+ messagg)/.test(accessibleName(b))))
                    if (!b.disabled && !b.hidden) b.click();
                  const text = document.body.textContent;
                  return arguments[0].filter(s => !text.includes(s));";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let missing = script(env, page, check, vec![json!(expected)]).await;
        if missing == json!([]) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "{page}: {} of {} texts never showed as text: {missing:#}",
                missing.as_array().map_or(0, Vec::len),
                expected.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The non-empty lines of a stored text, as they must show.
fn lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.trim().is_empty())
}

#[tokio::test]
async fn payloads_in_subjects_descriptions_replies_display_names_and_file_names_show_as_text_and_never_run(
) {
    let payloads = payloads();
    let env = start_unwalled().await;
    import(&env, CUSTOMER, "Mario Rossi", "customer").await;
    import(&env, STAFF, "Giulia (Assistenza)", "staff").await;
    let mut customer = Api::login(&env, CUSTOMER).await;
    let mut staff = Api::login(&env, STAFF).await;

    // Subjects: one ticket each, the first one also the thread the rest goes into.
    let mut codes = Vec::new();
    let description = format!(
        "La home di {DOMAIN} risponde 500 da stamattina. Testo copiato dal pannello:\n{}",
        payloads.join("\n")
    );
    for p in &payloads {
        let body = if codes.is_empty() {
            description.clone()
        } else {
            format!("La home di {DOMAIN} risponde 500 da stamattina alle 9.")
        };
        codes.push(customer.open_ticket(&subject_with(p), &body).await);
    }
    let thread = codes[0].clone();

    // File names: uploaded as a browser would, ten to a reply (no file name holds a NUL).
    let named: Vec<&String> = payloads.iter().filter(|p| !p.contains('\0')).collect();
    for (group, chunk) in named.chunks(10).enumerate() {
        let mut ids = Vec::new();
        for p in chunk {
            let (status, up) = customer
                .upload(&format!("{p}.txt"), "text/plain", b"riga di log\n")
                .await;
            assert_eq!(status, 201, "upload named {p:?}: {up}");
            ids.push(up["id"].as_str().unwrap().to_string());
        }
        let (status, t) = customer
            .post(
                &format!("/tickets/{thread}/messages"),
                json!({"body": format!("Allego i log, gruppo {}.", group + 1), "upload_ids": ids}),
            )
            .await;
        assert_eq!(status, 201, "reply with files: {t}");
    }

    // Replies and display names: the customer and the staff member are renamed through the import
    // before each reply, so every reply carries a payload as its body and its author's name (a new
    // session each time: a live one keeps the name it was opened with for a few seconds).
    for p in &payloads {
        import(&env, CUSTOMER, p, "customer").await;
        customer.token = customer.relogin().await;
        let (status, t) = customer
            .post(
                &format!("/tickets/{thread}/messages"),
                json!({"body": p, "upload_ids": []}),
            )
            .await;
        assert_eq!(status, 201, "customer reply {p:?}: {t}");
        import(&env, STAFF, p, "staff").await;
        staff.token = staff.relogin().await;
        let (status, t) = staff
            .post(
                &format!("/staff/tickets/{thread}/messages"),
                json!({"body": p}),
            )
            .await;
        assert_eq!(status, 201, "staff reply {p:?}: {t}");
    }
    let last_name = payloads.last().unwrap().clone();

    // What the server kept is what must show: the text as written, markup characters included.
    let list = customer.get("/tickets?limit=100").await;
    let subjects: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects.len(), payloads.len(), "{list}");
    let ticket = customer.get(&format!("/tickets/{thread}")).await;
    let messages = ticket["messages"].as_array().unwrap();
    let mut in_thread: Vec<String> = Vec::new();
    for m in messages {
        in_thread.push(m["author"]["name"].as_str().unwrap().to_string());
        in_thread.extend(lines(m["body"].as_str().unwrap_or("")));
        for a in m["attachments"].as_array().into_iter().flatten() {
            in_thread.push(a["name"].as_str().unwrap().to_string());
        }
    }
    for p in payloads.iter().filter(|p| !p.contains('\0')) {
        assert!(
            subjects.contains(&subject_with(p)),
            "subject with {p:?} not kept as written"
        );
        assert!(
            in_thread.iter().filter(|s| *s == p).count() >= 4,
            "{p:?} is not kept as written as a reply and an author's name: {:?}",
            in_thread
                .iter()
                .filter(|s| s.contains(&p[1..p.len() - 1]))
                .collect::<Vec<_>>()
        );
    }
    let markup_names = in_thread
        .iter()
        .filter(|s| s.ends_with(".txt") && s.contains('<') && s.contains('='))
        .count();
    assert!(
        markup_names >= 10,
        "only {markup_names} file names kept their markup"
    );

    // The customer's view, in Chromium.
    env.login(CUSTOMER).await;
    assert_shown_as_text(&env, "ticket list", &subjects).await;
    assert_shown_as_text(&env, "top bar", std::slice::from_ref(&last_name)).await;
    assert_nothing_ran(&env, "ticket list").await;

    env.goto(&format!("/tickets/{thread}")).await;
    env.conversation().await;
    let mut expected = in_thread.clone();
    expected.push(ticket["subject"].as_str().unwrap().to_string());
    assert_shown_as_text(&env, "ticket page", &expected).await;
    assert_nothing_ran(&env, "ticket page").await;

    // The detectors themselves: markup put in the page the wrong way is caught.
    env.js("byRole('main').insertAdjacentHTML('beforeend',
           '<img src=x onerror=\"window.__xss=\\'canary\\'\">');")
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hits = env.js(WHAT_RAN).await;
        let ran = hits
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "window.__xss = canary");
        if ran {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "markup injected on purpose did not run: the check would miss a real XSS ({hits})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    env.stop().await;
}

/// Standard base64 with padding, for the e-mails built here.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 folded into lines of 76, as mailers write it.
fn base64_lines(data: &[u8]) -> String {
    let b = base64(data);
    let mut out = String::new();
    for (i, c) in b.chars().enumerate() {
        if i > 0 && i % 76 == 0 {
            out.push_str("\r\n");
        }
        out.push(c);
    }
    out
}

/// A header value as RFC 2047 encoded words, so any payload (quotes, NUL, non-ASCII) survives.
fn encoded_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 30 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// `&`, `<`, `>` and `"` as HTML entities: a payload written as text in an HTML mail.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A file of an e-mail: its declared name and type, and its bytes.
struct MailFile<'a> {
    name: &'a str,
    content_type: &'a str,
    data: &'a [u8],
}

/// A MIME e-mail from the test customer: an HTML body, and files.
fn html_mail(from_name: &str, to: &str, subject: &str, html: &str, files: &[MailFile]) -> Vec<u8> {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let b = "=_xss_boundary_0";
    let mut m = format!(
        "From: {} <{CUSTOMER}>\r\nTo: {to}\r\nSubject: {}\r\n\
         Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <xss-{seq}@{DOMAIN}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n\
         --{b}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        encoded_words(from_name),
        encoded_words(subject),
        base64_lines(html.as_bytes()),
    );
    for f in files {
        let mut pct = String::new();
        for byte in f.name.bytes() {
            if byte.is_ascii_alphanumeric() || b".-_".contains(&byte) {
                pct.push(byte as char);
            } else {
                pct.push_str(&format!("%{byte:02X}"));
            }
        }
        m.push_str(&format!(
            "--{b}\r\nContent-Type: {}\r\nContent-Disposition: attachment; filename*=UTF-8''{pct}\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            f.content_type,
            base64_lines(f.data),
        ));
    }
    m.push_str(&format!("--{b}--\r\n"));
    m.into_bytes()
}

/// Feeds one message to the e-mail intake, as the MTA's pipe does.
async fn ingest(env: &Env, to: &str, raw: Vec<u8>) -> Outcome {
    let server = running(env);
    let envelope = Envelope {
        recipients: vec![to.to_string()],
        return_path: None,
        auth: AuthSource::Headers,
    };
    tokio::time::timeout(
        Duration::from_secs(30),
        mail::ingest(
            &server.state.store,
            &server.state.config,
            raw,
            true,
            envelope,
        ),
    )
    .await
    .expect("the intake answers in time")
    .expect("the intake records the message")
    .outcome
}

const SVG: &str = r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss='svg'"><script>window.__xss='svg-script'</script></svg>"#;
const HTML_PAGE: &str =
    "<!DOCTYPE html><html><body><script>window.__xss='html'</script><img src=x onerror=alert('html')></body></html>";

/// Asserts the headers that keep a file from ever being rendered by the browser that fetches it.
fn assert_served_as_download(what: &str, resp: &reqwest::Response) {
    let h = resp.headers();
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(
        get("content-disposition").starts_with("attachment"),
        "{what}: Content-Disposition {:?}",
        get("content-disposition")
    );
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    let ct = get("content-type").to_ascii_lowercase();
    assert!(
        !(ct.contains("html")
            || ct.contains("svg")
            || ct.contains("xml")
            || ct.contains("javascript")),
        "{what}: served as {ct:?}"
    );
}

#[tokio::test]
async fn payloads_in_html_mail_its_subjects_file_names_and_refused_mail_show_as_text_and_never_run()
{
    let payloads = payloads();
    let env = start_unwalled().await;
    import(&env, CUSTOMER, "Mario Rossi", "customer").await;
    let mut customer = Api::login(&env, CUSTOMER).await;
    let thread = customer
        .open_ticket(
            &format!("Pagine bianche su {DOMAIN} dopo l'aggiornamento"),
            &format!(
                "Da stamattina le pagine di {DOMAIN} sono bianche; seguono dettagli per e-mail."
            ),
        )
        .await;

    // A reply by HTML e-mail: each payload once as text (escaped) and once as markup, which the
    // intake must reduce to text; a sender's display name and file names carrying payloads; SVG
    // and HTML files disguised by name and by declared type.
    let mut html = String::from("<html><body><p>Ecco cosa vedo nella pagina:</p>\n");
    for p in &payloads {
        html.push_str(&format!("<p>{}</p>\n", html_escape(p)));
    }
    html.push_str("<div>\n");
    for p in &payloads {
        html.push_str(p);
        html.push('\n');
    }
    html.push_str("</div></body></html>\n");
    let files = [
        MailFile {
            name: "logo.png",
            content_type: "image/png",
            data: SVG.as_bytes(),
        },
        MailFile {
            name: "fattura.pdf",
            content_type: "application/pdf",
            data: HTML_PAGE.as_bytes(),
        },
        MailFile {
            name: "pagina.html",
            content_type: "text/html",
            data: HTML_PAGE.as_bytes(),
        },
        MailFile {
            name: "disegno.svg",
            content_type: "image/svg+xml",
            data: SVG.as_bytes(),
        },
        MailFile {
            name: &format!("{}.svg", payloads[3]),
            content_type: "image/svg+xml",
            data: SVG.as_bytes(),
        },
        MailFile {
            name: &format!("{}.html", payloads[0]),
            content_type: "text/html",
            data: HTML_PAGE.as_bytes(),
        },
        MailFile {
            name: &format!("{}.txt", payloads[33]),
            content_type: "text/plain",
            data: b"log\n",
        },
    ];
    let reply = html_mail(
        payloads[1].as_str(),
        "hd@smacloud.it",
        &format!(
            "Re: [#{thread}]: Pagine bianche su {DOMAIN} {}",
            payloads[2]
        ),
        &html,
        &files,
    );
    let outcome = ingest(&env, "hd@smacloud.it", reply).await;
    assert!(matches!(outcome, Outcome::Reply { .. }), "{outcome:?}");

    // Subjects by e-mail: a new ticket each, and a refused message each (sent to an address that
    // is not the helpdesk's), which the customer's "E-mail non accettate" lists.
    for p in &payloads {
        let body = format!("<p>La home di {DOMAIN} risponde 500.</p>");
        let raw = html_mail(
            "Mario Rossi",
            "hd@smacloud.it",
            &subject_with(p),
            &body,
            &[],
        );
        let outcome = ingest(&env, "hd@smacloud.it", raw).await;
        assert!(
            matches!(outcome, Outcome::NewTicket { .. }),
            "{p:?}: {outcome:?}"
        );
        let raw = html_mail(
            "Mario Rossi",
            "info@smacloud.it",
            &subject_with(p),
            &body,
            &[],
        );
        let outcome = ingest(&env, "info@smacloud.it", raw).await;
        assert!(
            matches!(outcome, Outcome::Refused { .. }),
            "{p:?}: {outcome:?}"
        );
    }

    // What the server kept.
    let ticket = customer.get(&format!("/tickets/{thread}")).await;
    let mail = ticket["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["channel"] == "email")
        .expect("the e-mail reply is in the thread")
        .clone();
    let body = mail["body"].as_str().unwrap();
    for p in payloads.iter().filter(|p| !p.contains('\0')) {
        assert!(
            body.contains(p.as_str()),
            "the e-mail's text lost {p:?}: {body}"
        );
    }
    let mut in_thread: Vec<String> = lines(body).collect();
    let mut attachments = Vec::new();
    for a in mail["attachments"].as_array().unwrap() {
        in_thread.push(a["name"].as_str().unwrap().to_string());
        attachments.push((
            a["id"].as_str().unwrap().to_string(),
            a["name"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(attachments.len(), files.len(), "{mail}");
    let subjects: Vec<String> = customer.get("/tickets?limit=100").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects.len(), payloads.len() + 1);
    let refused: Vec<String> = customer.get("/mail-rejections").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(refused.len(), payloads.len(), "{refused:?}");
    for p in payloads.iter().filter(|p| !p.contains('\0')) {
        assert!(
            subjects.contains(&subject_with(p)),
            "{p:?} not kept in a subject"
        );
        assert!(
            refused.contains(&subject_with(p)),
            "{p:?} not kept in a refusal"
        );
    }

    // Disguised files are only ever served as downloads, never as something a browser renders.
    for (id, name) in &attachments {
        let resp = customer
            .http
            .get(format!("{}/attachments/{id}", customer.base))
            .bearer_auth(&customer.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        assert_served_as_download(name, &resp);
    }

    // The customer's view, in Chromium.
    env.login(CUSTOMER).await;
    assert_shown_as_text(&env, "ticket list", &subjects).await;
    assert_nothing_ran(&env, "ticket list").await;

    env.goto(&format!("/tickets/{thread}")).await;
    env.conversation().await;
    assert_shown_as_text(&env, "ticket page", &in_thread).await;
    // A click on a disguised file downloads it; it never opens in the page.
    env.js("allByRole('list', 'Allegati').flatMap(l => allByRole('button', null, l)).forEach(b => b.click())")
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_nothing_ran(&env, "ticket page").await;
    let windows = env.browser.windows().await.expect("windows");
    assert_eq!(windows.len(), 1, "a download opened a window");

    env.goto("/email-rifiutate").await;
    assert_shown_as_text(&env, "refused e-mail", &refused).await;
    assert_nothing_ran(&env, "refused e-mail").await;
    env.stop().await;
}

#[tokio::test]
async fn svg_and_html_disguised_as_other_files_are_refused_on_upload_and_what_is_taken_downloads_as_an_attachment(
) {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(data_dir.path().to_path_buf());
    config.demo = true;
    let server = helpdesk_server::start(config).await.expect("server starts");
    let base = format!("http://{}/api/v1", server.addr);
    let login: Value = reqwest::Client::new()
        .post(format!("{base}/session"))
        .json(&json!({"email": "demo@example.it", "password": "demo-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        base: base.clone(),
        email: "demo@example.it".into(),
        token: login["token"].as_str().expect("a token").into(),
    };

    // Markup that a browser would render is refused whatever name or type it comes with.
    let disguised: [(&str, &str, &str); 7] = [
        ("logo.png", "image/png", SVG),
        ("logo.svg", "image/svg+xml", SVG),
        ("schermata.jpg", "image/jpeg", HTML_PAGE),
        ("fattura.pdf", "application/pdf", HTML_PAGE),
        ("note.txt", "text/plain", HTML_PAGE),
        ("pagina.html", "text/html", "<p>solo testo</p>"),
        ("<svg onload=window.__xss=1>.png", "image/png", SVG),
    ];
    for (name, ct, data) in disguised {
        let (status, body) = api.upload(name, ct, data.as_bytes()).await;
        assert_eq!(status, 415, "{name} as {ct} was taken: {body}");
        assert_eq!(body["error"]["code"], "unsupported_media_type", "{body}");
    }

    // What is taken (a log quoting markup, an image with markup appended) is served as a download
    // only, with the browser told not to guess its type.
    let png_with_html = {
        let mut v = vec![
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
            0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
            0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78,
            0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00,
            0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
        ];
        v.extend_from_slice(HTML_PAGE.as_bytes());
        v
    };
    let log = format!("[25-Nov-2026 09:00:01] richiesta rifiutata:\n{HTML_PAGE}\n");
    let taken: [(&str, &str, &[u8]); 3] = [
        ("schermata.png", "image/png", &png_with_html),
        ("error.log", "text/plain", log.as_bytes()),
        (
            "<img src=x onerror=alert(1)>.log",
            "text/html",
            log.as_bytes(),
        ),
    ];
    for (name, ct, data) in taken {
        let (status, up) = api.upload(name, ct, data).await;
        assert_eq!(status, 201, "{name}: {up}");
        let resp = api
            .http
            .get(format!("{base}/attachments/{}", up["id"].as_str().unwrap()))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        assert_served_as_download(name, &resp);
    }
    server.stop().await;
}

/// The wizard's subject, on the demo customer's service chosen by `to_subject_step`.
const WIZARD_SUBJECT: &str = "Errore 500 sulla home di blog-mario.it: <b>grassetto</b>";

#[tokio::test]
async fn payload_file_names_picked_in_the_wizard_show_as_text_through_to_the_ticket_and_a_disguised_svg_is_refused(
) {
    // A file name on disk can hold anything but a slash and a NUL; Chromium sends a double quote
    // in a name as %22, which the server keeps as it came.
    let names: Vec<String> = payloads()
        .into_iter()
        .filter(|p| !p.contains(['/', '\0', '"']))
        .take(8)
        .map(|p| format!("{p}.log"))
        .collect();
    assert_eq!(names.len(), 8);
    let env = start_unwalled().await;
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("riga di log {i}\n")).unwrap();
        paths.push(path.display().to_string());
    }
    let svg_name = "<svg onload=window.__xss='nome'>.png";
    let svg = dir.path().join(svg_name);
    std::fs::write(&svg, SVG).unwrap();
    paths.push(svg.display().to_string());

    crate::wizard::to_subject_step(&env).await;
    env.fill("#subject", WIZARD_SUBJECT).await;
    crate::wizard::next(&env).await;
    env.wait_in("main", "Passo 4 di 7").await;
    env.fill(
        "#description",
        "Da stamattina alle 9 la home risponde 500 Internal Server Error; allego i log.",
    )
    .await;
    crate::wizard::next(&env).await;
    env.wait_in("main", "Passo 5 di 7").await;
    crate::wizard::choose(&env, "normale").await;
    crate::wizard::next(&env).await;
    env.wait_in("main", "Passo 6 di 7").await;
    env.file_picker()
        .await
        .send_keys(&paths.join("\n"))
        .await
        .expect("files set on the input");

    // Every name shows as typed, the SVG's in the reason it was refused.
    let mut shown = names.clone();
    shown.push(svg_name.to_string());
    assert_shown_as_text(&env, "wizard's files", &shown).await;
    let uploaded = "return allByRole('listitem', null, byRole('main'))
                        .filter(li => li.innerText.includes('Caricato')).length";
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.js(uploaded).await != json!(names.len()) {
        assert!(Instant::now() < deadline, "the uploads never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    env.wait_in("list", "SVG").await;
    assert_nothing_ran(&env, "wizard's files").await;

    // The refused file cannot go with the ticket: remove it, then review and send.
    let remove = format!(
        "const b = byRole('button', 'Rimuovi ' + {svg_name:?});
         if (b) b.click();
         return !!b;"
    );
    assert_eq!(
        env.js(&remove).await,
        json!(true),
        "no way to remove the refused file"
    );
    crate::wizard::next(&env).await;
    env.wait_in("main", "Passo 7 di 7").await;
    assert_shown_as_text(&env, "review", &names).await;
    assert_nothing_ran(&env, "review").await;
    crate::wizard::next(&env).await;
    let code = env
        .find("[data-testid=ticket-code]")
        .await
        .text()
        .await
        .unwrap();
    env.goto(&format!("/tickets/{code}")).await;
    env.conversation().await;
    shown = names.clone();
    shown.push(WIZARD_SUBJECT.to_string());
    assert_shown_as_text(&env, "ticket page", &shown).await;
    assert_nothing_ran(&env, "ticket page").await;
    env.stop().await;
}
