//! Measurements on a slow phone (issue 23), not tests: Lighthouse's mobile conditions applied
//! for real through DevTools ([`Env::slow_phone`]), each sample in a fresh browser (a new
//! profile, nothing cached). Run by `cargo xtask bench` and, alone, by `cargo xtask bench phone`.

use crate::bench::spread;
use helpdesk_e2e::{app_dir, start_phone, start_phone_with_panel, Env};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Fresh browsers per row: the median of five.
const COLD: usize = 5;

/// How long a page may take on the slow phone before the sample counts as failed.
const PATIENCE: Duration = Duration::from_secs(60);

/// Quiet the page must have been (no request finished) before it counts as idle.
const QUIET: Duration = Duration::from_secs(2);

/// Polls `script` until it returns something other than `null` (within [`PATIENCE`]).
async fn wait_for(env: &Env, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let v = env.js(script).await;
        if !v.is_null() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The number of responses the current document has seen finish (its own included).
const FINISHED: &str = "return performance.getEntriesByType('resource').length;";

/// Waits until no response has finished in the current document, and in the widget's frame
/// when there is one, for [`QUIET`]; the driver ends on the top page.
async fn network_idle(env: &Env) {
    let deadline = Instant::now() + PATIENCE;
    let mut last = (-1, -1);
    let mut since = Instant::now();
    loop {
        let page = env.js(FINISHED).await.as_i64().unwrap_or(0);
        let mut frame = -1;
        if let Ok(f) = env
            .browser
            .find(helpdesk_e2e::fantoccini::Locator::Css("#helpdesk-frame"))
            .await
        {
            if f.enter_frame().await.is_ok() {
                frame = env.js(FINISHED).await.as_i64().unwrap_or(0);
                env.leave_widget().await;
            }
        }
        if (page, frame) != last {
            last = (page, frame);
            since = Instant::now();
        } else if since.elapsed() >= QUIET {
            return;
        }
        assert!(Instant::now() < deadline, "the page never went quiet");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One response as the browser counts it (Resource Timing of the page and its navigation).
#[derive(Debug, Clone)]
struct Response {
    name: String,
    /// Bytes over the network: headers and the body as sent (compressed); 0 from the cache.
    transfer: f64,
    /// The body as sent.
    encoded: f64,
    /// The body once decompressed.
    decoded: f64,
    /// When it finished, ms since the navigation.
    end: f64,
    /// `Content-Encoding` as the browser reports it (Chromium's `contentEncoding`), if it does.
    encoding: Option<String>,
}

/// The page's responses so far, its own document first.
async fn responses(env: &Env) -> Vec<Response> {
    let v = env
        .js("return [performance.getEntriesByType('navigation')[0]]
                .concat(performance.getEntriesByType('resource'))
                .filter(e => e)
                .map(e => ({name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize,
                            decoded: e.decodedBodySize, end: e.responseEnd,
                            encoding: e.contentEncoding === undefined ? null : e.contentEncoding}));")
        .await;
    v.as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|e| Response {
            name: e["name"].as_str().unwrap_or("?").to_string(),
            transfer: e["transfer"].as_f64().unwrap_or(0.0),
            encoded: e["encoded"].as_f64().unwrap_or(0.0),
            decoded: e["decoded"].as_f64().unwrap_or(0.0),
            end: e["end"].as_f64().unwrap_or(0.0),
            encoding: e["encoding"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(String::from),
        })
        .collect()
}

/// The file's name in the address (the page's own path for the document).
fn short(name: &str) -> String {
    let path = name.split(['?', '#']).next().unwrap_or(name);
    let path = path.splitn(4, '/').nth(3).unwrap_or(path);
    format!("/{path}")
}

/// Which encoding the body came in: what the browser says, else the built file whose size the
/// body has (`.br`, `.gz` or as built in dist/); the document is made by the server.
fn encoding(r: &Response) -> String {
    if let Some(e) = &r.encoding {
        return e.clone();
    }
    let file = short(&r.name);
    let file = file.rsplit('/').next().unwrap_or("");
    let len = |suffix: &str| {
        std::fs::metadata(app_dir().join(format!("{file}{suffix}")))
            .map(|m| m.len() as f64)
            .ok()
    };
    if r.transfer == 0.0 {
        "cache".into()
    } else if r.encoded != r.decoded && len(".br") == Some(r.encoded) {
        "br (the .br of dist/)".into()
    } else if r.encoded != r.decoded && len(".gz") == Some(r.encoded) {
        "gzip (the .gz of dist/)".into()
    } else if r.encoded == r.decoded {
        "none".into()
    } else {
        "compressed".into()
    }
}

/// One cold visit to the login and a second visit in the same browser.
struct LoginSample {
    /// First contentful paint, ms.
    painted: f64,
    /// The login's ready mark, ms.
    interactive: f64,
    /// The responses finished by the time the login was interactive.
    before: Vec<Response>,
    /// The responses of the second visit.
    again: Vec<Response>,
}

async fn login_sample() -> LoginSample {
    let env = start_phone().await;
    env.slow_phone().await;
    env.goto("/login").await;
    // The same signal as `bench_cold_load_to_interactive_login`: the login's ready mark, set
    // when the form is on screen and takes input.
    let interactive = wait_for(
        &env,
        "the login's ready mark",
        "const m = performance.getEntriesByName('helpdesk-login-ready')[0]; \
         return m ? m.startTime : null;",
    )
    .await
    .as_f64()
    .unwrap_or(-1.0);
    let painted = wait_for(
        &env,
        "the first contentful paint",
        "const p = performance.getEntriesByName('first-contentful-paint')[0]; \
         return p ? p.startTime : null;",
    )
    .await
    .as_f64()
    .unwrap_or(-1.0);
    network_idle(&env).await;
    let before = responses(&env)
        .await
        .into_iter()
        .filter(|r| r.end <= interactive)
        .collect();
    // The customer comes back later: a new navigation (not a reload) in the same browser.
    env.browser.goto("about:blank").await.expect("a blank page");
    env.goto("/login").await;
    wait_for(
        &env,
        "the login's ready mark on the second visit",
        "return performance.getEntriesByName('helpdesk-login-ready').length ? true : null;",
    )
    .await;
    network_idle(&env).await;
    let again = responses(&env).await;
    env.stop().await;
    LoginSample {
        painted,
        interactive,
        before,
        again,
    }
}

/// The responses with their sizes and encodings, one a line.
fn print_files(rows: &[Response]) {
    for r in rows {
        println!(
            "    {:<52} {:>8.0} bytes transferred (body {:>7.0} as sent, {:>7.0} decoded; {}), done at {:.0} ms",
            short(&r.name),
            r.transfer,
            r.encoded,
            r.decoded,
            encoding(r),
            r.end
        );
    }
}

/// Cold loads of the login on the slow phone: its first paint, when it takes input, what came
/// over the network until then, and what a second visit fetches again.
#[tokio::test]
#[ignore = "benchmark: cargo xtask bench phone"]
async fn bench_phone_login() {
    let mut samples = Vec::new();
    for _ in 0..COLD {
        samples.push(login_sample().await);
    }
    let conditions = "Lighthouse's mobile conditions through DevTools: 150 ms, 1.6 Mbit/s down, \
                      750 kbit/s up, CPU 4x slower, 390 px wide";
    let mut painted: Vec<f64> = samples.iter().map(|s| s.painted).collect();
    println!(
        "BENCH slow phone: first view painted (first-contentful-paint, /login): {} fresh browsers \
         (goal: at most 600 ms; {conditions})",
        spread(&mut painted)
    );
    let mut interactive: Vec<f64> = samples.iter().map(|s| s.interactive).collect();
    println!(
        "BENCH slow phone: login interactive (the mark helpdesk-login-ready): {} fresh browsers \
         (goal: at most 1,500 ms)",
        spread(&mut interactive)
    );
    let total = |rows: &[Response]| rows.iter().map(|r| r.transfer).sum::<f64>();
    let mut bytes: Vec<f64> = samples.iter().map(|s| total(&s.before)).collect();
    let median = spread(&mut bytes.clone());
    bytes.sort_by(|a, b| a.total_cmp(b));
    let middle = bytes[bytes.len() / 2];
    let shown = samples
        .iter()
        .find(|s| total(&s.before) == middle)
        .unwrap_or(&samples[0]);
    println!(
        "BENCH slow phone: bytes before the login is interactive: {} ({:.1} KB median; bodies \
         as sent and headers, which Chromium's transferSize counts as 300 bytes each; every \
         response finished by the ready mark) (goal: at most 200 KB); \
         the median browser's files:",
        median.replace(" ms", " bytes"),
        middle / 1024.0
    );
    print_files(&shown.before);
    let mut again: Vec<f64> = samples.iter().map(|s| total(&s.again)).collect();
    let over_network: Vec<Response> = shown
        .again
        .iter()
        .filter(|r| r.transfer > 0.0)
        .cloned()
        .collect();
    println!(
        "BENCH repeat visit: bytes (the login again in the same browser, after about:blank): {} \
         (goal: only what changed, i.e. index.html); over the network: {}; from the cache: {}",
        spread(&mut again).replace(" ms", " bytes"),
        over_network
            .iter()
            .map(|r| format!("{} {:.0} bytes", short(&r.name), r.transfer))
            .collect::<Vec<_>>()
            .join(", "),
        shown
            .again
            .iter()
            .filter(|r| r.transfer == 0.0)
            .map(|r| short(&r.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// A click on the panel's launcher to the widget's signed-on ticket list, cold, for each of
/// the widget's `data-preload` modes (the demo panel's pages take `?preload=`).
#[tokio::test]
#[ignore = "benchmark: cargo xtask bench phone"]
async fn bench_phone_widget() {
    for mode in ["idle", "now", "off"] {
        let mut times = Vec::new();
        let mut early = 0;
        let mut preloaded = 0;
        for _ in 0..COLD {
            let env = start_phone_with_panel().await;
            env.slow_phone().await;
            env.browser
                .goto(&env.panel_url(&format!("/?preload={mode}")))
                .await
                .expect("the panel");
            env.find("#helpdesk-launcher").await;
            // The customer reads the panel first: its load event and then nothing finishing,
            // on the page or in the widget's frame if it preloads, for two seconds.
            wait_for(
                &env,
                "the panel's load",
                "return document.readyState === 'complete' ? true : null;",
            )
            .await;
            network_idle(&env).await;
            if env
                .js("return !!document.getElementById('helpdesk-frame');")
                .await
                .as_bool()
                .unwrap_or(false)
            {
                preloaded += 1;
            }
            let t0 = crate::bench::click_launcher(&env).await;
            env.enter_widget().await;
            // The first list drawn; one drawn before the click (a preload that signed on)
            // shows at the click.
            let t1 = wait_for(
                &env,
                "the list in the widget",
                "const m = performance.getEntriesByName('helpdesk-list-ready')[0]; \
                 return m ? performance.timeOrigin + m.startTime : null;",
            )
            .await
            .as_f64()
            .expect("a time");
            if t1 < t0 {
                early += 1;
            }
            times.push((t1 - t0).max(0.0));
            env.leave_widget().await;
            env.stop().await;
        }
        println!(
            "BENCH slow phone: widget click to signed-on list, preload={mode} (panel /?preload={mode}; \
             click after its load event and 2 s without a response finishing on the page or in \
             the widget's frame): {} fresh browsers; the frame there before the click in \
             {preloaded}{} (goal: at most 1,000 ms)",
            spread(&mut times),
            if early > 0 {
                format!(", its list ready before the click in {early}")
            } else {
                String::new()
            }
        );
    }
}

/// Clicks the element `click` finds (a JavaScript expression, with the lookups by role of
/// `Env::js`; found before the clock starts) and measures the milliseconds until `done` is true
/// in the page, polled every 50 ms (the poll runs on the page's slowed main thread: not more
/// often).
async fn click_until(env: &Env, click: &str, what: &str, done: &str) -> f64 {
    env.js(&format!(
        "const target = {click}; window.benchStart = performance.now(); target.click();"
    ))
    .await;
    let script = format!("return ({done}) ? performance.now() - window.benchStart : null;");
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(ms) = env.js(&script).await.as_f64() {
            return ms;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wasm files the page has fetched so far.
const WASM_FILES: &str =
    "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('.wasm')).length;";

/// After the login, the pages' pieces on the slow phone: from the click on "Accedi" to the
/// signed-in list (its piece, the signed-in piece and the pieces they share, then the list's
/// data), and from the list, once quiet, to the wizard's first step (the wizard's piece).
#[tokio::test]
#[ignore = "benchmark: cargo xtask bench phone"]
async fn bench_phone_pieces() {
    let (mut to_list, mut to_wizard) = (Vec::new(), Vec::new());
    let (mut list_files, mut wizard_files) = (0, 0);
    for _ in 0..COLD {
        let env = start_phone().await;
        env.slow_phone().await;
        env.goto("/login").await;
        wait_for(
            &env,
            "the login's ready mark",
            "return performance.getEntriesByName('helpdesk-login-ready').length ? true : null;",
        )
        .await;
        network_idle(&env).await;
        env.fill_label("E-mail", "demo@example.it").await;
        env.fill_label("Password", "demo-password").await;
        let before = env.js(WASM_FILES).await.as_i64().unwrap_or(0);
        to_list.push(
            click_until(
                &env,
                "byRole('button', 'Accedi')",
                "the signed-in list",
                "location.pathname === '/' && document.querySelector('table tbody tr')",
            )
            .await,
        );
        network_idle(&env).await;
        let signed_in = env.js(WASM_FILES).await.as_i64().unwrap_or(0);
        list_files = signed_in - before;
        to_wizard.push(
            click_until(
                &env,
                "byRole('link', 'Apri un ticket')",
                "the wizard's first step",
                "location.pathname === '/nuovo' && document.body.innerText.includes('Passo 1 di 7')",
            )
            .await,
        );
        wizard_files = env.js(WASM_FILES).await.as_i64().unwrap_or(0) - signed_in;
        env.stop().await;
    }
    println!(
        "BENCH slow phone: the login's click to the signed-in list (its pieces, {list_files} wasm \
         files, then its data): {} fresh browsers",
        spread(&mut to_list)
    );
    println!(
        "BENCH slow phone: the list to the wizard's first step, opened the first time ({wizard_files} \
         wasm files): {} fresh browsers",
        spread(&mut to_wizard)
    );
}
