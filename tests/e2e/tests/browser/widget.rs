//! The widget inside the control panel: the demo panel (`http://localhost:PORT`) embeds the
//! helpdesk (`http://127.0.0.1:PORT`), another site, as the provider's panel does.

use crate::wizard::next;
use helpdesk_e2e::{start_with_panel, start_with_panel_and, Env};
use std::time::Duration;

const ESCAPE: char = '\u{E00C}';

/// Opens the panel's home page and the widget from its launcher; waits for the ticket list
/// inside the frame (signed on by the panel, never through the password form).
async fn open_signed_on(env: &Env) {
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.click("#helpdesk-launcher").await;
    env.enter_widget().await;
    env.wait_text("main", "Errore 500 su blog-mario.it").await;
    env.leave_widget().await;
}

/// The demo customer's tickets awaiting their reply, by the API.
async fn awaiting_reply(env: &Env) -> u64 {
    let token = env.api_token("demo@example.it").await;
    let list: serde_json::Value = reqwest::Client::new()
        .get(env.url("/api/v1/tickets"))
        .bearer_auth(token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    list["counts"]["awaiting_customer"]
        .as_u64()
        .expect("a count")
}

#[tokio::test]
async fn the_panel_signs_the_customer_on_and_learns_of_the_new_ticket() {
    let env = start_with_panel().await;
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    // Nothing of the app loads before the widget is opened.
    env.find("#helpdesk-launcher").await;
    let loaded = env
        .js("return performance.getEntriesByType('resource').some(e => /\\.wasm|index\\.html/.test(e.name)) || !!document.querySelector('#helpdesk-frame')")
        .await;
    assert_eq!(loaded, serde_json::Value::Bool(false));

    env.click("#helpdesk-launcher").await;
    env.enter_widget().await;
    let list = env.wait_text("main", "Errore 500 su blog-mario.it").await;
    assert!(
        !list.contains("Password"),
        "the password form showed: {list}"
    );
    let password_fields = env
        .js("return [...document.querySelectorAll('input[type=password]')].filter(e => e.checkVisibility()).length")
        .await;
    assert_eq!(password_fields, 0);
    // The list opens at its top: the header's links (the only way to the other pages inside the
    // frame) are in view, not scrolled away by a focus moved meanwhile.
    let header = env
        .js(
            "const n = document.querySelector('header.topbar nav').getBoundingClientRect(); \
             return [document.scrollingElement.scrollTop, n.top >= 0 && n.bottom <= innerHeight]",
        )
        .await;
    assert_eq!(
        header,
        serde_json::json!([0, true]),
        "the header scrolled out of view"
    );
    // The panel's theme (data-accent, data-radius on the script tag) is the app's.
    let theme = env
        .js("const s = getComputedStyle(document.documentElement); \
             return [s.getPropertyValue('--brand').trim(), s.getPropertyValue('--radius').trim()]")
        .await;
    assert_eq!(theme, serde_json::json!(["#00606b", "10px"]));
    env.leave_widget().await;

    // The launcher's badge and the host's `unread` event carry the tickets awaiting a reply.
    let expected = awaiting_reply(&env).await;
    assert!(expected > 0, "the demo data has tickets awaiting a reply");
    env.until(
        "the unread badge",
        &format!(
            "return document.getElementById('helpdesk-launcher').getAttribute('aria-label') === 'Assistenza, {expected} ticket attend{} la tua risposta'",
            if expected == 1 { "e" } else { "ono" }
        ),
    )
    .await;
    env.wait_text("#events", &format!("unread {{\"count\":{expected}}}"))
        .await;

    // The panel prefills the service by its domain: the wizard starts at the subject, with
    // that service chosen.
    env.js("Helpdesk('prefill', {service: 'blog-mario.it'}); Helpdesk('new-ticket');")
        .await;
    env.enter_widget().await;
    env.wait_text("main", "Passo 3 di 7").await;
    env.fill(
        "#subject",
        "Errore 500 sulla home dopo l'aggiornamento del plugin",
    )
    .await;
    next(&env).await;
    env.wait_text("main", "Passo 4 di 7").await;
    env.fill(
        "#description",
        "Da stamattina alle 9 la home risponde 500 Internal Server Error a tutti i visitatori.",
    )
    .await;
    next(&env).await;
    let review = crate::wizard::priority_to_review(&env).await;
    assert!(review.contains("blog-mario.it"), "{review}");
    next(&env).await;
    let code = env
        .find("[data-testid=ticket-code]")
        .await
        .text()
        .await
        .expect("the code");
    env.leave_widget().await;
    // The host heard of it, with the code the customer sees.
    env.wait_text(
        "#events",
        &format!("ticket:created {{\"code\":\"{code}\"}}"),
    )
    .await;
    env.stop().await;
}

/// The height of the app's content, measured inside the frame.
async fn content_height(env: &Env) -> f64 {
    env.enter_widget().await;
    let h = env
        .js("return document.body.getBoundingClientRect().height")
        .await
        .as_f64()
        .expect("a height");
    env.leave_widget().await;
    h
}

#[tokio::test]
async fn the_frame_follows_its_content_and_escape_gives_focus_back() {
    let env = start_with_panel().await;
    open_signed_on(&env).await;
    // Within the viewport, the frame is as tall as the app's content.
    let fits = "const f = document.getElementById('helpdesk-frame'); \
                const room = innerHeight - 96 - 44; \
                return [f.getBoundingClientRect().height, room];";
    let check = |frame: &serde_json::Value, content: f64| {
        let (h, room) = (
            frame[0].as_f64().expect("height"),
            frame[1].as_f64().expect("room"),
        );
        let want = content.ceil().clamp(160.0, room);
        assert!(
            (h - want).abs() <= 2.0,
            "frame {h} px for content {content} px within {room} px"
        );
        h
    };
    // The list of four tickets, then the much shorter page of refused e-mails.
    let mut list_height = 0.0;
    for _ in 0..50 {
        let c = content_height(&env).await;
        let frame = env.js(fits).await;
        if (frame[0].as_f64().unwrap_or(0.0)
            - c.ceil().clamp(160.0, frame[1].as_f64().unwrap_or(0.0)))
        .abs()
            <= 2.0
        {
            list_height = check(&frame, c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(list_height > 0.0, "the frame never fitted the list");
    env.enter_widget().await;
    env.click("a[href$='/email-rifiutate']").await;
    env.find("main h1").await;
    env.leave_widget().await;
    let mut changed = false;
    for _ in 0..50 {
        let c = content_height(&env).await;
        let frame = env.js(fits).await;
        let h = frame[0].as_f64().unwrap_or(0.0);
        if (h - list_height).abs() > 20.0 {
            check(&frame, c);
            changed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(changed, "the frame kept the list's height on another page");

    // Escape inside the app closes the dialog and the focus is back on the launcher.
    env.enter_widget().await;
    env.browser
        .active_element()
        .await
        .expect("focus")
        .send_keys(&ESCAPE.to_string())
        .await
        .expect("Escape");
    env.leave_widget().await;
    env.until(
        "the dialog closed with the focus on the launcher",
        "return getComputedStyle(document.getElementById('helpdesk-dialog')).display === 'none' \
         && document.activeElement.id === 'helpdesk-launcher' \
         && document.activeElement.getAttribute('aria-expanded') === 'false'",
    )
    .await;
    // Opened from the keyboard, the focus goes into the dialog; Escape on the panel's side of
    // the dialog closes it too.
    env.browser
        .active_element()
        .await
        .expect("focus")
        .send_keys("\u{E007}")
        .await
        .expect("Enter");
    env.until(
        "the focus moved into the widget",
        "return document.activeElement.id === 'helpdesk-frame'",
    )
    .await;
    env.js("document.getElementById('helpdesk-close').focus()")
        .await;
    env.browser
        .active_element()
        .await
        .expect("focus")
        .send_keys(&ESCAPE.to_string())
        .await
        .expect("Escape");
    env.until(
        "Escape closed the dialog",
        "return getComputedStyle(document.getElementById('helpdesk-dialog')).display === 'none' \
         && document.activeElement.id === 'helpdesk-launcher'",
    )
    .await;
    env.stop().await;
}

#[tokio::test]
async fn messages_from_a_foreign_origin_change_nothing() {
    let env = start_with_panel().await;
    open_signed_on(&env).await;
    env.wait_text("#events", "ready").await;
    // A frame of another origin on the panel's page (an ad, an injected widget) posts what the
    // app and the loader would send each other.
    env.js("const f = document.createElement('iframe'); \
         f.src = 'data:text/html,' + encodeURIComponent(`<script>\
           parent.postMessage({type: 'helpdesk:ticket-created', code: 'FAKE-000-00000'}, '*');\
           parent.postMessage({type: 'helpdesk:unread', count: 77}, '*');\
           parent.postMessage({type: 'helpdesk:close'}, '*');\
           const app = parent.frames[0];\
           app.postMessage({type: 'helpdesk:logout'}, '*');\
           app.postMessage({type: 'helpdesk:prefill', prefill: {service: 'vps-0042'}}, '*');\
           app.postMessage({type: 'helpdesk:new-ticket'}, '*');\
           app.postMessage({type: 'helpdesk:sso', token: 'x.y.z'}, '*');\
           document.title = 'sent';\
         <\\/script>`); \
         f.id = 'intruder'; document.body.appendChild(f);")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = env.find("#events").await.text().await.expect("the log");
    assert!(!events.contains("FAKE"), "{events}");
    assert!(!events.contains("77"), "{events}");
    let open = env
        .js("return getComputedStyle(document.getElementById('helpdesk-dialog')).display")
        .await;
    assert_eq!(open, "flex", "a foreign message closed the widget");
    // The app is still signed on, on the list, not on a wizard prefilled by the intruder.
    env.enter_widget().await;
    let page = env.wait_text("main", "Errore 500 su blog-mario.it").await;
    assert!(!page.contains("Passo"), "{page}");
    env.leave_widget().await;
    env.stop().await;
}

#[tokio::test]
async fn a_page_not_in_frame_ancestors_cannot_frame_the_helpdesk() {
    let env = start_with_panel().await;
    // The same panel, reached on an origin HELPDESK_FRAME_ANCESTORS does not name.
    let other = env.panel_url("/").replace("localhost", "127.0.0.1");
    env.browser.goto(&other).await.expect("the panel");
    env.click("#helpdesk-launcher").await;
    // The browser refuses the frame; the loader says so and offers a new tab instead of a
    // grey broken box.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let text = loop {
        let t = env
            .js("const p = document.getElementById('helpdesk-fallback'); return p ? p.textContent : ''")
            .await;
        let t = t.as_str().unwrap_or_default().to_string();
        if !t.is_empty() || std::time::Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        text.contains("non può essere mostrata in questa pagina"),
        "{text:?}"
    );
    let link = env
        .js("const a = document.querySelector('#helpdesk-fallback a'); return [a.href, a.target, a.rel]")
        .await;
    assert_eq!(link[0], format!("{}/", env.base));
    assert_eq!(link[1], "_blank");
    assert_eq!(link[2], "noopener");
    // No event ever came from the frame: the app never ran inside it.
    let events = env.find("#events").await.text().await.expect("the log");
    assert!(!events.contains("ready"), "{events}");
    env.stop().await;
}

#[tokio::test]
async fn an_expired_session_is_renewed_by_the_panel_and_its_logout_ends_it() {
    // Sessions expire after 3 s without activity.
    let env = start_with_panel_and(|c| c.session_idle_secs = 3).await;
    open_signed_on(&env).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    // The next request finds the session gone: the widget asks the panel for a new token by
    // itself and the customer lands where they were going, never on the password form.
    env.enter_widget().await;
    env.click("a[href$='/nuovo']").await;
    env.wait_text("main", "Passo 1 di 7").await;
    let password_fields = env
        .js("return [...document.querySelectorAll('input[type=password]')].filter(e => e.checkVisibility()).length")
        .await;
    assert_eq!(password_fields, 0);
    env.leave_widget().await;

    // The customer leaves the panel: the widget's session ends with it. (The open widget covers
    // the panel's button, as it covers the page; the panel's own script clicks it.)
    env.js("document.getElementById('panel-logout').click()")
        .await;
    env.enter_widget().await;
    let page = env
        .wait_text("main", "Sei uscito dal pannello di controllo")
        .await;
    assert!(!page.contains("Passo"), "{page}");
    assert_eq!(
        env.js("return [...document.querySelectorAll('input[type=password]')].filter(e => e.checkVisibility()).length")
            .await,
        0
    );
    env.leave_widget().await;
    env.stop().await;
}

#[tokio::test]
async fn on_a_phone_the_widget_fills_the_screen() {
    let env = start_with_panel().await;
    env.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 360, "height": 640, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await;
    open_signed_on(&env).await;
    let rect = env
        .js(
            "const r = document.getElementById('helpdesk-dialog').getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height, innerWidth, innerHeight, \
                     getComputedStyle(document.getElementById('helpdesk-launcher')).display]",
        )
        .await;
    assert_eq!(rect[0], 0);
    assert_eq!(rect[1], 0);
    assert_eq!(rect[2], rect[4], "{rect}");
    assert_eq!(rect[3], rect[5], "{rect}");
    // The launcher does not float over the open widget; the title bar's button closes it.
    assert_eq!(rect[6], "none");
    env.click("#helpdesk-close").await;
    env.until(
        "the launcher is back",
        "return getComputedStyle(document.getElementById('helpdesk-launcher')).display !== 'none' \
         && document.activeElement.id === 'helpdesk-launcher'",
    )
    .await;
    env.stop().await;
}

#[tokio::test]
async fn the_host_opens_the_widget_from_its_own_link_without_a_launcher() {
    let env = start_with_panel().await;
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.find("#helpdesk-launcher").await;
    // The host hides the launcher and opens the widget from a link of its own.
    env.js("Helpdesk('launcher', false); \
         const a = document.createElement('button'); a.id = 'own-help'; a.textContent = 'Aiuto'; \
         a.onclick = () => Helpdesk('toggle'); document.querySelector('main').prepend(a);")
        .await;
    let hidden = env
        .js("return getComputedStyle(document.getElementById('helpdesk-launcher')).display")
        .await;
    assert_eq!(hidden, "none");
    env.click("#own-help").await;
    env.enter_widget().await;
    env.wait_text("main", "Errore 500 su blog-mario.it").await;
    env.leave_widget().await;
    env.wait_text("#events", "open").await;
    // Closed again by the same link's toggle, the focus goes back where it was.
    env.js("document.getElementById('own-help').focus(); Helpdesk('toggle');")
        .await;
    env.until(
        "the widget closed, the focus on the host's own button, the launcher still hidden",
        "return getComputedStyle(document.getElementById('helpdesk-dialog')).display === 'none' \
         && document.activeElement.id === 'own-help' \
         && getComputedStyle(document.getElementById('helpdesk-launcher')).display === 'none'",
    )
    .await;
    env.wait_text("#events", "close").await;
    env.stop().await;
}
