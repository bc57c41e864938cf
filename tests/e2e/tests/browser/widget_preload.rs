//! When the widget's app starts (`data-preload` on the loader's script, set by the demo panel's
//! `?preload=`): by default in a hidden frame once the panel's page is loaded and idle, so the
//! first click only shows it; never before the click with `off` or with Save-Data on.

use helpdesk_e2e::fantoccini::Locator;
use helpdesk_e2e::{start_with_panel, Env};
use std::time::{Duration, Instant};

/// Longer than the loader waits for an idle moment after the page's load (3 s at most).
const PAST_IDLE: Duration = Duration::from_millis(3500);

/// The panel's link to a service, found by its text, as a user finds it.
const SERVICE_LINK: &str =
    "[...document.querySelectorAll('a')].find(a => a.textContent.includes('blog-mario.it'))";

/// Whether the panel's page has made the widget's frame or fetched anything of the app.
async fn app_loaded(env: &Env) -> serde_json::Value {
    env.js("return [!!document.getElementById('helpdesk-frame'), \
         performance.getEntriesByType('resource').some(e => /\\.wasm|index\\.html/.test(e.name))]")
        .await
}

/// Opens the panel's page, waits past the moment the loader would preload and checks that
/// nothing of the app is there; then the first click loads it and the panel signs the customer
/// on.
async fn nothing_before_the_click(env: &Env, path: &str) {
    env.browser
        .goto(&env.panel_url(path))
        .await
        .expect("the panel");
    env.find("#helpdesk-launcher").await;
    env.until(
        "the panel's page loaded",
        "return document.readyState === 'complete'",
    )
    .await;
    tokio::time::sleep(PAST_IDLE).await;
    assert_eq!(app_loaded(env).await, serde_json::json!([false, false]));
    env.click("#helpdesk-launcher").await;
    env.enter_widget().await;
    env.wait_text("main", "Errore 500 su blog-mario.it").await;
    env.leave_widget().await;
}

#[tokio::test]
async fn by_default_the_app_starts_hidden_once_the_panel_is_idle_and_the_click_shows_it() {
    let env = start_with_panel().await;
    // The customer is on the panel's link to a service from the start; whatever the app does in
    // its hidden frame, the focus must stay there. Every focus change on the page is noted.
    env.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source": format!(
            "window.focusMoves = []; \
             document.addEventListener('focusout', e => focusMoves.push('out of ' + e.target.tagName)); \
             document.addEventListener('DOMContentLoaded', () => {SERVICE_LINK}.focus());"
        )}),
    )
    .await;
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.find("#helpdesk-launcher").await;
    // The app in the frame starts and the panel signs the customer on, before any click: the
    // launcher's badge comes from the signed-on app.
    env.wait_text("#events", "ready").await;
    env.wait_text("#events", "unread").await;
    // The app tries to focus its content on each new page (as a page of its own does); in the
    // hidden frame that never moves the panel's focus.
    let focus = env
        .js(&format!(
            "return [document.activeElement === {SERVICE_LINK}, window.focusMoves]"
        ))
        .await;
    assert_eq!(focus, serde_json::json!([true, []]));
    let hidden = env
        .js("const f = document.getElementById('helpdesk-frame'); \
             return [getComputedStyle(document.getElementById('helpdesk-dialog')).display, \
                     f.getClientRects().length, f.inert, f.getAttribute('aria-hidden'), \
                     document.getElementById('helpdesk-launcher').getAttribute('aria-expanded')]")
        .await;
    assert_eq!(
        hidden,
        serde_json::json!(["none", 0, true, "true", "false"])
    );

    // Inside the hidden frame: the app's wasm came, and the signed-on list is there.
    env.enter_widget().await;
    env.until(
        "the signed-on list in the hidden frame",
        "return document.querySelector('main')?.textContent.includes('Errore 500 su blog-mario.it')",
    )
    .await;
    let before = env
        .js(
            "return [performance.timeOrigin, performance.getEntriesByType('resource') \
               .filter(e => e.name.endsWith('.wasm')).length]",
        )
        .await;
    assert!(
        before[1].as_u64().is_some_and(|n| n >= 1),
        "the app's wasm: {before}"
    );
    env.leave_widget().await;

    // The click only shows the frame: the list is there at once, the app neither reloaded nor
    // fetched its wasm again, and the focus moves into it.
    let clicked = Instant::now();
    env.click("#helpdesk-launcher").await;
    env.enter_widget().await;
    env.wait_text("main", "Errore 500 su blog-mario.it").await;
    let shown = clicked.elapsed();
    assert!(shown < Duration::from_secs(3), "the list took {shown:?}");
    let after = env
        .js(
            "return [performance.timeOrigin, performance.getEntriesByType('resource') \
               .filter(e => e.name.endsWith('.wasm')).length]",
        )
        .await;
    assert_eq!(after, before, "the app started again after the click");
    let password_fields = env
        .js("return [...document.querySelectorAll('input[type=password]')].filter(e => e.checkVisibility()).length")
        .await;
    assert_eq!(password_fields, 0);
    env.until(
        "the focus on the app's content",
        "return document.activeElement === document.querySelector('main')",
    )
    .await;
    env.leave_widget().await;
    let open = env
        .js("const f = document.getElementById('helpdesk-frame'); \
             return [document.activeElement.id, f.inert, f.hasAttribute('aria-hidden'), \
                     getComputedStyle(document.getElementById('helpdesk-dialog')).display]")
        .await;
    assert_eq!(
        open,
        serde_json::json!(["helpdesk-frame", false, false, "flex"])
    );
    // Only one frame: the click did not make another.
    let frames = env
        .browser
        .find_all(Locator::Css("iframe"))
        .await
        .expect("frames");
    assert_eq!(frames.len(), 1);

    // Closed again, the frame is out of reach once more; the focus is back on the launcher.
    env.click("#helpdesk-close").await;
    env.until(
        "the frame hidden again, the focus on the launcher",
        "const f = document.getElementById('helpdesk-frame'); \
         return f.inert && f.getAttribute('aria-hidden') === 'true' \
           && document.activeElement.id === 'helpdesk-launcher'",
    )
    .await;
    env.stop().await;
}

#[tokio::test]
async fn with_preload_off_nothing_loads_before_the_click() {
    let env = start_with_panel().await;
    nothing_before_the_click(&env, "/?preload=off").await;
    env.stop().await;
}

#[tokio::test]
async fn with_save_data_nothing_loads_before_the_click() {
    let env = start_with_panel().await;
    // The customer asked their browser to save data (Save-Data, `navigator.connection.saveData`).
    env.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source":
            "Object.defineProperty(navigator, 'connection', {value: {saveData: true}});"}),
    )
    .await;
    nothing_before_the_click(&env, "/").await;
    assert_eq!(
        env.js("return navigator.connection.saveData").await,
        serde_json::Value::Bool(true)
    );
    env.stop().await;
}

#[tokio::test]
async fn with_preload_now_the_frame_is_made_at_once_and_hidden() {
    let env = start_with_panel().await;
    env.browser
        .goto(&env.panel_url("/?preload=now"))
        .await
        .expect("the panel");
    let script = env
        .js("return document.querySelector('script[src$=\"widget.js\"]').dataset.preload")
        .await;
    assert_eq!(script, "now");
    env.find("#helpdesk-frame").await;
    env.wait_text("#events", "ready").await;
    let hidden = env
        .js("const f = document.getElementById('helpdesk-frame'); \
             return [getComputedStyle(document.getElementById('helpdesk-dialog')).display, f.inert]")
        .await;
    assert_eq!(hidden, serde_json::json!(["none", true]));
    // The panel's links keep the mode.
    let link = env
        .js(&format!("return new URL({SERVICE_LINK}.href).search"))
        .await;
    assert_eq!(link, "?preload=now");
    env.stop().await;
}
