//! Harness for end-to-end tests: the real server (demo data, a fresh folder, a free port) serving
//! the release build of the app, and a headless Chromium driven through chromedriver.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use helpdesk_server::{Config, Running};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini;

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

    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.browser
            .execute(script, vec![])
            .await
            .expect("script runs")
    }

    /// Logs in through the login form and waits for the ticket list.
    pub async fn login(&self, email: &str) {
        self.goto("/login").await;
        self.fill("#login-email", email).await;
        self.fill("#login-password", "demo-password").await;
        self.click("form button[type=submit]").await;
        self.find("table.tickets").await;
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
    /// and shows the page.
    pub async fn until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.js(script).await == serde_json::Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                let page = self.js("return document.body.innerText").await;
                panic!("{what} never happened; page: {page}");
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
