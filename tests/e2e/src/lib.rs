//! Harness for end-to-end tests: the real server (demo data, a fresh folder, a free port) serving
//! the release build of the app, and a headless Chromium driven through chromedriver.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use helpdesk_server::{Config, Running};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini;

/// The element lookup by role, label and text: the one snippet `Env::by_role` and the others run,
/// and that `Env::js` puts before a test's script (with it, `byRole(…)` and the others there).
pub const LOCATE: &str = include_str!("locate.js");

/// One lookup's arguments for `locate.js`.
struct Query<'a> {
    kind: &'static str,
    first: &'a str,
    second: Option<&'a str>,
    substring: bool,
    scope: Option<&'a Element>,
    text: Option<&'a str>,
}

impl<'a> Query<'a> {
    fn new(kind: &'static str, first: &'a str) -> Self {
        Query {
            kind,
            first,
            second: None,
            substring: false,
            scope: None,
            text: None,
        }
    }
    fn name(mut self, name: &'a str) -> Self {
        self.second = Some(name);
        self
    }
    fn substring(mut self) -> Self {
        self.substring = true;
        self
    }
    fn within(mut self, scope: &'a Element) -> Self {
        self.scope = Some(scope);
        self
    }
}

/// The workspace root (the e2e crate lives in tests/e2e).
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The built app: `cargo xtask test` builds it and says where.
pub fn app_dir() -> PathBuf {
    std::env::var_os("HELPDESK_TEST_APP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("dist"))
}

pub fn server_bin() -> PathBuf {
    std::env::var_os("HELPDESK_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/debug/helpdesk-server"))
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Env {
    pub server: Option<Running>,
    /// The app's address, base path included, without trailing slash.
    pub base: String,
    pub browser: Client,
    pub data_dir: tempfile::TempDir,
    /// chromedriver's address, for commands fantoccini has no method for (network throttling).
    pub webdriver: String,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9515)
}

/// Starts the server (demo data) and a fresh browser.
pub async fn start() -> Env {
    start_with(|_| {}).await
}

pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    start_in("it-IT", adjust).await
}

/// Starts the server and a browser whose language is `lang` (e.g. `en-GB`): the app follows it
/// until the customer chooses. The other starts use an Italian browser, as most customers have.
pub async fn start_in(lang: &str, adjust: impl FnOnce(&mut Config)) -> Env {
    start_browser(lang, &[], adjust).await
}

/// Chromium's flags for a browser that keeps frames as a phone's does. Chrome on Android
/// isolates only some sites in processes of their own, so the panel's widget frame (another
/// site) usually runs in the panel page's process; here too, which is also what lets DevTools'
/// throttling of the page (one target, one process) reach the frame from its first request.
const PHONE_ARGS: &[&str] = &[
    "--disable-site-isolation-trials",
    "--disable-features=IsolateOrigins,site-per-process",
];

/// Starts the server (demo data) and a fresh browser that keeps frames as a phone's does; call
/// [`Env::slow_phone`] before the first page to load it on Lighthouse's mobile conditions.
pub async fn start_phone() -> Env {
    start_browser("it-IT", PHONE_ARGS, |_| {}).await
}

/// [`start_with_panel`] with a browser that keeps frames as a phone's does ([`start_phone`]).
pub async fn start_phone_with_panel() -> Env {
    let port = free_port();
    start_browser("it-IT", PHONE_ARGS, move |c| panel_config(c, port)).await
}

/// Starts the server and a fresh browser in `lang`, with Chromium's flags `extra` added.
async fn start_browser(lang: &str, extra: &[&str], adjust: impl FnOnce(&mut Config)) -> Env {
    assert!(
        app_dir().join("index.html").exists(),
        "the app is not built in {}: run `cargo xtask test`",
        app_dir().display()
    );
    let data_dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::for_tests(data_dir.path().to_path_buf());
    config.demo = true;
    config.app_dir = app_dir();
    adjust(&mut config);
    let base_path = config.base_path.clone();
    let server = helpdesk_server::start(config).await.expect("server starts");
    let base = format!("http://{}{}", server.addr, base_path);

    let port = free_port();
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let profile = tempfile::tempdir().expect("tempdir");
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900",
                format!("--lang={lang}"),
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": { "intl.accept_languages": lang }
        }
    });
    let mut caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    if let Some(args) = caps["goog:chromeOptions"]["args"].as_array_mut() {
        args.extend(extra.iter().map(|a| serde_json::json!(a)));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let browser = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot start Chromium through chromedriver: {e}"),
        }
    };
    Env {
        server: Some(server),
        base,
        browser,
        data_dir,
        webdriver: format!("http://127.0.0.1:{port}"),
        _driver: driver,
        _profile: profile,
    }
}

/// Starts the server with the demo control panel on another site than the helpdesk (the panel at
/// `http://localhost:PORT`, the helpdesk at `http://127.0.0.1:PORT`), allowed to frame it.
pub async fn start_with_panel() -> Env {
    start_with_panel_and(|_| {}).await
}

/// `start_with_panel`, with other settings changed too.
pub async fn start_with_panel_and(adjust: impl FnOnce(&mut Config)) -> Env {
    let port = free_port();
    start_with(move |c| {
        panel_config(c, port);
        adjust(c);
    })
    .await
}

/// The demo panel on 127.0.0.1:`port`, reached as `http://localhost:port`, allowed to frame.
fn panel_config(c: &mut Config, port: u16) {
    c.demo_panel_bind = Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    c.frame_ancestors = format!("'self' http://localhost:{port}");
}

impl Env {
    /// A page of the demo control panel, on its allowed origin (`http://localhost:PORT`).
    pub fn panel_url(&self, path: &str) -> String {
        let port = self
            .server
            .as_ref()
            .and_then(|s| s.demo_panel_addr)
            .expect("started with start_with_panel")
            .port();
        format!("http://localhost:{port}{path}")
    }

    /// Moves the driver into the widget's frame (after `find` has seen it).
    pub async fn enter_widget(&self) {
        self.find("#helpdesk-frame")
            .await
            .enter_frame()
            .await
            .expect("enter the widget's frame");
    }

    /// Back to the panel's page from the widget's frame.
    pub async fn leave_widget(&self) {
        self.browser
            .clone()
            .enter_parent_frame()
            .await
            .expect("back to the panel's page");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn goto(&self, path: &str) {
        self.browser.goto(&self.url(path)).await.expect("navigate");
    }

    /// Waits for an element (the app renders asynchronously).
    pub async fn find(&self, css: &str) -> Element {
        self.browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?} appeared: {e}"))
    }

    /// Waits until the page's text contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = match self.browser.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("{css:?} never contained {needle:?}; last text: {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Runs a script; it can find elements as the helpers below do, with `byRole(role, name)`,
    /// `byRoleContaining(role, part)`, `allByRole(role)`, `byLabel(label)` and `byText(words)`
    /// (each takes a last, optional element to search within).
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.browser
            .execute(&format!("{LOCATE}\n{script}"), vec![])
            .await
            .expect("script runs")
    }

    /// Runs a script with `arguments[0]` the element (and the lookups `js` has).
    pub async fn js_on(&self, el: &Element, script: &str) -> serde_json::Value {
        let arg = serde_json::to_value(el).expect("an element is JSON");
        self.browser
            .execute(&format!("{LOCATE}\n{script}"), vec![arg])
            .await
            .expect("script runs")
    }

    /// Waits for what `locate.js` finds (see there for the arguments); panics with the names
    /// that were there instead.
    async fn locate(&self, what: &str, args: Query<'_>) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = self.run_locate(&args, false).await;
            if let Some(found) = answer.get("found") {
                return self.element(found.clone());
            }
            if Instant::now() > deadline {
                panic!("no {what} appeared; there were: {}", answer["seen"]);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn run_locate(&self, q: &Query<'_>, all: bool) -> serde_json::Value {
        let scope = match q.scope {
            Some(el) => serde_json::to_value(el).expect("an element is JSON"),
            None => serde_json::Value::Null,
        };
        let args = vec![
            q.kind.into(),
            q.first.into(),
            q.second.into(),
            q.substring.into(),
            scope,
            all.into(),
            q.text.into(),
        ];
        self.browser
            .execute(&format!("{LOCATE}\nreturn __locate(...arguments);"), args)
            .await
            .expect("the lookup runs")
    }

    fn element(&self, json: serde_json::Value) -> Element {
        let id = json
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .expect("an element reference");
        Element::from_element_id(self.browser.clone(), id.to_string().into())
    }

    /// Waits for the element with this role (explicit, or implied by its tag: button, link,
    /// textbox, heading, checkbox, radio, combobox, list, listitem, dialog, status, main,
    /// navigation, table, row…) whose accessible name (aria-labelledby, aria-label, its label,
    /// or its text; spaces collapsed) is exactly `name`.
    pub async fn by_role(&self, role: &str, name: &str) -> Element {
        let q = Query::new("role", role).name(name);
        self.locate(&format!("{role} named {name:?}"), q).await
    }

    /// `by_role`, the name containing `part` (any case).
    pub async fn by_role_containing(&self, role: &str, part: &str) -> Element {
        let q = Query::new("role", role).name(part).substring();
        self.locate(&format!("{role} with {part:?} in its name"), q)
            .await
    }

    /// The first element with this role, whatever its name (a page's `main`, its only list).
    pub async fn by_role_any(&self, role: &str) -> Element {
        self.locate(role, Query::new("role", role)).await
    }

    /// `by_role` within an element (a form, a region, a row); any name if `name` is `None`.
    pub async fn by_role_in(&self, scope: &Element, role: &str, name: Option<&str>) -> Element {
        let mut q = Query::new("role", role).within(scope);
        q.second = name;
        self.locate(&format!("{role} named {name:?} there"), q)
            .await
    }

    /// The items of the ticket's conversation (messages and events), waiting for the first.
    pub async fn thread_items(&self) -> Vec<Element> {
        let thread = self
            .by_role_in(&self.conversation().await, "list", None)
            .await;
        self.by_role_in(&thread, "listitem", None).await;
        self.all_by_role_in(&thread, "listitem").await
    }

    /// The ticket's conversation (the region named after its heading), in either language.
    pub async fn conversation(&self) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            for name in ["Conversazione", "Conversation"] {
                if let Some(el) = self.all_by_role("region", Some(name)).await.pop() {
                    return el;
                }
            }
            assert!(Instant::now() < deadline, "no conversation appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every element with this role within an element now (no waiting).
    pub async fn all_by_role_in(&self, scope: &Element, role: &str) -> Vec<Element> {
        self.all_found(&Query::new("role", role).within(scope))
            .await
    }

    /// Every element the query finds now.
    async fn all_found(&self, q: &Query<'_>) -> Vec<Element> {
        let answer = self.run_locate(q, true).await;
        answer["found"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|e| self.element(e))
            .collect()
    }

    /// Every element with this role now (no waiting), with this name if one is given.
    pub async fn all_by_role(&self, role: &str, name: Option<&str>) -> Vec<Element> {
        let mut q = Query::new("role", role);
        q.second = name;
        self.all_found(&q).await
    }

    /// Waits for the form control whose label (its `<label>`, aria-label or aria-labelledby) is
    /// exactly `label`.
    pub async fn by_label(&self, label: &str) -> Element {
        self.locate(
            &format!("field labelled {label:?}"),
            Query::new("label", label),
        )
        .await
    }

    /// The field labelled with one of `labels` (the same label in each language).
    pub async fn by_label_either(&self, labels: &[&str]) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            for label in labels {
                let answer = self.run_locate(&Query::new("label", label), false).await;
                if let Some(found) = answer.get("found") {
                    return self.element(found.clone());
                }
            }
            assert!(
                Instant::now() < deadline,
                "no field labelled {labels:?} appeared"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The widget's launcher on the panel's page: the button named "Assistenza" or "Support",
    /// then the number of tickets awaiting a reply, if any.
    pub async fn launcher(&self) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .js("return allByRole('button').find(b => \
                     /^(Assistenza|Support)( \\d|$)/.test(accessibleName(b))) || null")
                .await;
            if !found.is_null() {
                return self.element(found);
            }
            assert!(Instant::now() < deadline, "no launcher appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types into the field labelled with one of `labels`, replacing what was there.
    pub async fn fill_label_either(&self, labels: &[&str], text: &str) {
        let el = self.by_label_either(labels).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    /// The file picker of the attachments (the wizard's or the reply's), in either language.
    pub async fn file_picker(&self) -> Element {
        self.by_label_either(&["Scegli i file da allegare", "Choose files to attach"])
            .await
    }

    /// `by_label`, the label containing `part` (any case).
    pub async fn by_label_containing(&self, part: &str) -> Element {
        let q = Query::new("label", part).substring();
        self.locate(&format!("field with {part:?} in its label"), q)
            .await
    }

    /// Waits for the visible element whose own text (the innermost one) contains `words`.
    pub async fn by_text(&self, words: &str) -> Element {
        self.locate(&format!("text {words:?}"), Query::new("text", words))
            .await
    }

    /// Waits until an element with this role (the page's `main`, an `alert`, a `table`) has
    /// `needle` in its text; that text.
    pub async fn wait_in(&self, role: &str, needle: &str) -> String {
        let mut q = Query::new("role", role);
        q.text = Some(needle);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(found) = self.run_locate(&q, false).await.get("found") {
                // The element can be replaced between finding it and reading it (the page
                // redraws): then it is looked for again.
                if let Ok(text) = self.element(found.clone()).text().await {
                    return text;
                }
            }
            if Instant::now() > deadline {
                let texts = self
                    .js(&format!(
                        "return allByRole({role:?}).map(e => e.innerText).join(' | ')"
                    ))
                    .await;
                panic!("no {role} ever contained {needle:?}; their text: {texts}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn click_role(&self, role: &str, name: &str) {
        self.by_role(role, name).await.click().await.expect("click");
    }

    /// Clicks the element with this role whose name contains `part` (any case).
    pub async fn click_role_containing(&self, role: &str, part: &str) {
        self.by_role_containing(role, part)
            .await
            .click()
            .await
            .expect("click");
    }

    pub async fn click_text(&self, words: &str) {
        self.by_text(words).await.click().await.expect("click");
    }

    /// Types into the field labelled `label`, replacing what was there.
    pub async fn fill_label(&self, label: &str, text: &str) {
        let el = self.by_label(label).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    /// Whether the element has the keyboard focus.
    pub async fn is_focused(&self, el: &Element) -> bool {
        self.js_on(el, "return document.activeElement === arguments[0]")
            .await
            == serde_json::Value::Bool(true)
    }

    /// Logs in through the login form and waits for the ticket list.
    pub async fn login(&self, email: &str) {
        self.goto("/login").await;
        self.submit_login(email).await;
        self.by_role_any("table").await;
    }

    /// Fills the login form on screen with `email` and the demo password and submits it.
    pub async fn submit_login(&self, email: &str) {
        self.fill_label("E-mail", email).await;
        self.fill_label("Password", "demo-password").await;
        self.click_role("button", self.sign_in().await).await;
    }

    /// The login button's name in the page's language (both languages label the fields alike).
    pub async fn sign_in(&self) -> &'static str {
        self.by_label("E-mail").await;
        match self
            .js("return document.documentElement.lang")
            .await
            .as_str()
        {
            Some(l) if l.starts_with("en") => "Sign in",
            _ => "Accedi",
        }
    }

    /// Logs in through the API (not the browser); returns the bearer token.
    pub async fn api_token(&self, email: &str) -> String {
        let login: serde_json::Value = reqwest::Client::new()
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({"email": email, "password": "demo-password"}))
            .send()
            .await
            .expect("login request")
            .json()
            .await
            .expect("login answer");
        login["token"].as_str().expect("a token").to_string()
    }

    /// The language saved for `email`'s account, as the server has it (`null`: none saved).
    pub async fn saved_language(&self, email: &str) -> serde_json::Value {
        let token = self.api_token(email).await;
        let me: serde_json::Value = reqwest::Client::new()
            .get(self.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("JSON");
        me["language"].clone()
    }

    /// Polls a script until it returns true (20 s); if it never does, says what never happened
    /// and shows the page. A script that throws (an element it reads is not there yet, as while
    /// the page changes) counts as not yet; the last error is shown if the time runs out.
    pub async fn until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last_error = None;
        loop {
            match self
                .browser
                .execute(&format!("{LOCATE}\n{script}"), vec![])
                .await
            {
                Ok(serde_json::Value::Bool(true)) => return,
                Ok(_) => {}
                Err(e) => last_error = Some(e),
            }
            if Instant::now() > deadline {
                let page = self.js("return document.body.innerText").await;
                panic!("{what} never happened (last script error: {last_error:?}); page: {page}");
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// A DevTools command through chromedriver (fantoccini has no method for it).
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) {
        let sid = self
            .browser
            .session_id()
            .await
            .expect("the session")
            .expect("a session id");
        let resp = reqwest::Client::new()
            .post(format!("{}/session/{sid}/goog/cdp/execute", self.webdriver))
            .json(&serde_json::json!({"cmd": cmd, "params": params}))
            .send()
            .await
            .expect("chromedriver answers");
        let status = resp.status();
        assert!(
            status.is_success(),
            "{cmd} refused: {status} {}",
            resp.text().await.unwrap_or_default()
        );
    }

    /// Lighthouse's mobile conditions (its "slow 4G" phone), applied for real by DevTools to
    /// this tab from now on: 150 ms of latency per request, 1.6 Mbit/s down and 750 kbit/s up,
    /// the main thread four times slower, and a 390 px wide phone's screen. Call it before the
    /// first page, on a browser from [`start_phone`] so that the widget's frame is slowed too.
    /// Lighthouse's own DevTools preset would add its multipliers (562.5 ms, 1,474 kbit/s); these
    /// are the figures of its simulated phone, as issue 23 gives them.
    pub async fn slow_phone(&self) {
        self.cdp("Network.enable", serde_json::json!({})).await;
        self.cdp(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": false,
                "latency": 150,
                "downloadThroughput": 1.6e6 / 8.0,
                "uploadThroughput": 750e3 / 8.0,
            }),
        )
        .await;
        self.cdp(
            "Emulation.setCPUThrottlingRate",
            serde_json::json!({"rate": 4}),
        )
        .await;
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({
                "width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": true,
            }),
        )
        .await;
        self.cdp(
            "Emulation.setTouchEmulationEnabled",
            serde_json::json!({"enabled": true}),
        )
        .await;
    }

    /// Opens a ticket through the API as the demo customer, on their first service; its code.
    pub async fn open_ticket(&self, subject: &str, description: &str) -> String {
        let client = reqwest::Client::new();
        let token = self.api_token("demo@example.it").await;
        let services: serde_json::Value = client
            .get(self.url("/api/v1/services"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("services")
            .json()
            .await
            .expect("JSON");
        let service = services["items"][0]["id"].as_str().expect("a service");
        let ticket: serde_json::Value = client
            .post(self.url("/api/v1/tickets"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "department": "helpdesk", "service_id": service, "priority": "normal",
                "subject": subject, "description": description,
            }))
            .send()
            .await
            .expect("created")
            .json()
            .await
            .expect("JSON");
        ticket["code"].as_str().expect("a code").to_string()
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.browser.screenshot().await.expect("screenshot");
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    pub async fn stop(mut self) {
        let _ = self.browser.clone().close().await;
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
    }
}
