//! The widget inside the control panel: the demo panel (`http://localhost:PORT`) embeds the
//! helpdesk (`http://127.0.0.1:PORT`), another site, as the provider's panel does.

use crate::wizard::next;
use helpdesk_e2e::fantoccini::actions::{InputSource, KeyAction, KeyActions};
use helpdesk_e2e::fantoccini::Locator;
use helpdesk_e2e::{start_with_panel, start_with_panel_and, Env};
use std::time::Duration;

const ESCAPE: char = '\u{E00C}';
const TAB: char = '\u{E004}';
const SHIFT: char = '\u{E008}';

/// Presses a key on whatever has the focus (in whichever frame), as a keyboard does.
async fn press(env: &Env, key: char) {
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    env.browser.perform_actions(actions).await.expect("keys");
}

/// Shift+Tab.
async fn press_back(env: &Env) {
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: SHIFT })
        .then(KeyAction::Down { value: TAB })
        .then(KeyAction::Up { value: TAB })
        .then(KeyAction::Up { value: SHIFT });
    env.browser.perform_actions(actions).await.expect("keys");
}

/// Clicks the element of `tag` whose visible text starts with `text`, as a user finds it.
async fn click_text(env: &Env, tag: &str, text: &str) {
    let xpath = format!("//{tag}[starts-with(normalize-space(.), {text:?})]");
    env.browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("no {tag} {text:?}: {e}"))
        .click()
        .await
        .expect("click");
}

/// Opens the panel's home page and the widget from its launcher; waits for the ticket list
/// inside the frame (signed on by the panel, never through the password form).
async fn open_signed_on(env: &Env) {
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.launcher().await.click().await.expect("click");
    env.enter_widget().await;
    env.wait_in("main", "Errore 500 su blog-mario.it").await;
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
    // With `data-preload="off"`, nothing of the app loads before the widget is opened (by
    // default it starts hidden once the page is idle: widget_preload.rs).
    env.browser
        .goto(&env.panel_url("/?preload=off"))
        .await
        .expect("the panel");
    env.launcher().await;
    let loaded = env
        .js("return performance.getEntriesByType('resource').some(e => /\\.wasm|index\\.html/.test(e.name)) || !!document.querySelector('#helpdesk-frame')")
        .await;
    assert_eq!(loaded, serde_json::Value::Bool(false));

    env.launcher().await.click().await.expect("click");
    env.enter_widget().await;
    let list = env.wait_in("main", "Errore 500 su blog-mario.it").await;
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
            "const n = byRole('navigation', 'Principale').getBoundingClientRect(); \
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
            "return document.getElementById('helpdesk-launcher').textContent === 'Assistenza {expected} ticket attend{} la tua risposta'",
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
    env.wait_in("main", "Passo 3 di 7").await;
    env.fill(
        "#subject",
        "Errore 500 sulla home dopo l'aggiornamento del plugin",
    )
    .await;
    next(&env).await;
    env.wait_in("main", "Passo 4 di 7").await;
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
    // data-top="4rem" (64 px) stays free above it, 4.75rem (76 px) below for the launcher.
    let fits = "const f = document.getElementById('helpdesk-frame'); \
                const room = innerHeight - 64 - 76 - 44; \
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
    // The panel's own header stays reachable beside the open widget: its logout button is the
    // element under its own centre, not the widget.
    let header = env
        .js(
            "const b = document.getElementById('panel-logout').getBoundingClientRect(); \
             const d = document.getElementById('helpdesk-dialog').getBoundingClientRect(); \
             return [document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2).id, \
                     d.top >= byRole('banner').getBoundingClientRect().bottom]",
        )
        .await;
    assert_eq!(header, serde_json::json!(["panel-logout", true]));
    env.enter_widget().await;
    env.click_role("link", "E-mail non accettate").await;
    env.by_role_any("heading").await;
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
    let page = env.wait_in("main", "Errore 500 su blog-mario.it").await;
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
    env.launcher().await.click().await.expect("click");
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
        .js("const a = byRole('link', \"Apri l'assistenza in una nuova scheda\"); return [a.href, a.target, a.rel]")
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
    env.click_role("link", "Apri un ticket").await;
    env.wait_in("main", "Passo 1 di 7").await;
    let password_fields = env
        .js("return [...document.querySelectorAll('input[type=password]')].filter(e => e.checkVisibility()).length")
        .await;
    assert_eq!(password_fields, 0);
    env.leave_widget().await;

    // The customer leaves the panel with its own button, which the open widget leaves free: the
    // widget's session ends with it.
    click_text(&env, "button", "Esci dal pannello").await;
    env.enter_widget().await;
    let page = env
        .wait_in("main", "Sei uscito dal pannello di controllo")
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
             return [r.left, r.top, r.width, r.height, visualViewport.width, visualViewport.height, \
                     getComputedStyle(document.getElementById('helpdesk-launcher')).display]",
        )
        .await;
    assert_eq!(rect[0], 0);
    assert_eq!(rect[1], 0);
    assert_eq!(rect[2], rect[4], "{rect}");
    assert_eq!(rect[3], rect[5], "{rect}");
    // The launcher does not float over the open widget; the title bar's button closes it.
    assert_eq!(rect[6], "none");
    env.click_role("button", "Chiudi").await;
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
    env.launcher().await;
    // The host hides the launcher and opens the widget from a link of its own.
    env.js("Helpdesk('launcher', false); \
         const a = document.createElement('button'); a.id = 'own-help'; a.textContent = 'Aiuto'; \
         a.onclick = () => Helpdesk('toggle'); byRole('main').prepend(a);")
        .await;
    let hidden = env
        .js("return getComputedStyle(document.getElementById('helpdesk-launcher')).display")
        .await;
    assert_eq!(hidden, "none");
    env.click_role("button", "Aiuto").await;
    env.enter_widget().await;
    env.wait_in("main", "Errore 500 su blog-mario.it").await;
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

/// The loader's own labels on the panel's page: launcher text, its accessible name, the title
/// bar, the close button's name, and the language they are marked with.
async fn loader_labels(env: &Env) -> serde_json::Value {
    env.js("const l = document.getElementById('helpdesk-launcher'); \
         return [l.firstChild.textContent, l.textContent, l.lang, \
                 document.getElementById('helpdesk-title').textContent, \
                 document.getElementById('helpdesk-close').getAttribute('aria-label'), \
                 document.getElementById('helpdesk-dialog').lang]")
        .await
}

#[tokio::test]
async fn english_chosen_in_the_widget_relabels_it_and_is_saved_only_when_asked() {
    let env = start_with_panel().await;
    open_signed_on(&env).await;
    let n = awaiting_reply(&env).await;
    env.until(
        "the badge in Italian",
        "return /\\d/.test(document.getElementById('helpdesk-launcher').textContent)",
    )
    .await;
    assert_eq!(
        loader_labels(&env).await,
        serde_json::json!([
            "Assistenza",
            format!(
                "Assistenza {n} ticket attend{} la tua risposta",
                if n == 1 { "e" } else { "ono" }
            ),
            "it",
            "Assistenza clienti",
            "Chiudi",
            "it"
        ])
    );

    // "EN" in the app's header: the app, and the loader's launcher and title bar with it.
    env.enter_widget().await;
    click_text(&env, "button", "EN").await;
    env.wait_in("main", "My tickets").await;
    env.leave_widget().await;
    env.until(
        "the loader's labels in English",
        "return document.getElementById('helpdesk-title').textContent === 'Customer support'",
    )
    .await;
    assert_eq!(
        loader_labels(&env).await,
        serde_json::json!([
            "Support",
            format!(
                "Support {n} ticket{} your reply",
                if n == 1 { " awaits" } else { "s await" }
            ),
            "en",
            "Customer support",
            "Close",
            "en"
        ])
    );
    assert_eq!(
        env.js("return document.getElementById('helpdesk-frame').title")
            .await,
        "Customer support"
    );

    // Inside the panel the choice is this visit's: not saved for the account (its e-mails).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        env.saved_language("demo@example.it").await,
        serde_json::Value::Null
    );
    // Unless the customer says so.
    env.enter_widget().await;
    let boxed = env
        .js(
            "const i = byRoleContaining('checkbox', 'Always use English'); \
             return i ? [i.type, i.checked] : null",
        )
        .await;
    assert_eq!(boxed, serde_json::json!(["checkbox", false]));
    click_text(&env, "label", "Always use English").await;
    env.leave_widget().await;
    for _ in 0..50 {
        if env.saved_language("demo@example.it").await == "en" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(env.saved_language("demo@example.it").await, "en");
    env.enter_widget().await;
    env.until(
        "the box ticked",
        "return byRoleContaining('checkbox', 'Always use English').checked",
    )
    .await;
    // Back to Italian in the widget: the box now offers Italian, unticked (English is saved).
    click_text(&env, "button", "IT").await;
    env.wait_in("main", "I miei ticket").await;
    env.until(
        "the box offers Italian",
        "const i = byRoleContaining('checkbox', \"Usa sempre l'italiano\"); \
         return !!i && !i.checked",
    )
    .await;
    env.leave_widget().await;
    env.until(
        "the loader's labels back in Italian",
        "return document.getElementById('helpdesk-title').textContent === 'Assistenza clienti'",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(env.saved_language("demo@example.it").await, "en");
    env.stop().await;
}

#[tokio::test]
async fn on_a_phone_the_full_screen_widget_is_a_modal_dialog() {
    let env = start_with_panel().await;
    env.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await;
    open_signed_on(&env).await;
    let dialog = env
        .js("const d = document.getElementById('helpdesk-dialog'); \
             return [d.getAttribute('role'), d.getAttribute('aria-modal'), \
                     byRole('banner').inert, byRole('main').inert]")
        .await;
    assert_eq!(dialog, serde_json::json!(["dialog", "true", true, true]));

    // Tab goes round the dialog (its close button, the app inside), never to the panel's links.
    env.js("document.getElementById('helpdesk-close').focus()")
        .await;
    let mut rounds = 0;
    for _ in 0..120 {
        press(&env, TAB).await;
        let at = env
            .js("const a = document.activeElement; \
                 return document.getElementById('helpdesk-dialog').contains(a) ? a.id : 'outside: ' + a.outerHTML.slice(0, 80)")
            .await;
        assert!(
            at == "helpdesk-close" || at == "helpdesk-frame",
            "Tab left the dialog: {at}"
        );
        if at == "helpdesk-close" {
            rounds += 1;
            if rounds == 2 {
                break;
            }
        }
    }
    assert!(rounds >= 2, "Tab never came round to the close button");
    // Shift+Tab on the close button goes back into the app, not to the page behind.
    env.js("document.getElementById('helpdesk-close').focus()")
        .await;
    press_back(&env).await;
    assert_eq!(
        env.js("return document.activeElement.id").await,
        "helpdesk-frame"
    );

    // Escape closes it; the focus is back on the launcher and the page is usable again.
    env.js("document.getElementById('helpdesk-close').focus()")
        .await;
    press(&env, ESCAPE).await;
    env.until(
        "the dialog closed, the focus on the launcher, the page no longer inert",
        "return getComputedStyle(document.getElementById('helpdesk-dialog')).display === 'none' \
         && document.activeElement.id === 'helpdesk-launcher' \
         && !byRole('main').inert \
         && !byRole('banner').inert \
         && !document.getElementById('helpdesk-dialog').hasAttribute('aria-modal')",
    )
    .await;
    // On a wide screen the open widget is not modal: the page stays in reach.
    env.cdp(
        "Emulation.clearDeviceMetricsOverride",
        serde_json::json!({}),
    )
    .await;
    env.launcher().await.click().await.expect("click");
    env.until(
        "the widget open, not modal",
        "return getComputedStyle(document.getElementById('helpdesk-dialog')).display === 'flex' \
         && !document.getElementById('helpdesk-dialog').hasAttribute('aria-modal') \
         && !byRole('main').inert",
    )
    .await;
    env.stop().await;
}

#[tokio::test]
async fn at_320_px_the_widget_fits_the_screen_of_a_panel_that_overflows() {
    let env = start_with_panel().await;
    env.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 320, "height": 640, "deviceScaleFactor": 2, "mobile": true}),
    )
    .await;
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.launcher().await;
    // The panel's own one-line header is wider than the phone: its page scrolls sideways.
    let wide = env
        .js("return [document.documentElement.scrollWidth, visualViewport.width]")
        .await;
    assert!(
        wide[0].as_f64().unwrap_or(0.0) > wide[1].as_f64().unwrap_or(0.0) + 10.0,
        "the panel does not overflow: {wide}"
    );
    env.launcher().await.click().await.expect("click");
    env.enter_widget().await;
    env.wait_in("main", "Errore 500 su blog-mario.it").await;
    // Inside: nothing wider than the frame, which is as wide as the screen.
    let inside = env
        .js("return [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth, innerWidth]")
        .await;
    env.leave_widget().await;
    let vv = env
        .js("const r = document.getElementById('helpdesk-dialog').getBoundingClientRect(); \
             const v = visualViewport; \
             return [r.left - v.offsetLeft, r.top - v.offsetTop, r.width, r.height, v.width, v.height]")
        .await;
    let n = |v: &serde_json::Value, i: usize| v[i].as_f64().unwrap_or(f64::NAN);
    assert!(
        n(&vv, 0).abs() < 1.0 && n(&vv, 1).abs() < 1.0,
        "the widget is not at the screen's corner: {vv}"
    );
    assert!(
        (n(&vv, 2) - n(&vv, 4)).abs() < 1.0 && (n(&vv, 3) - n(&vv, 5)).abs() < 1.0,
        "the widget is not the screen's size: {vv}"
    );
    assert!(
        n(&inside, 0) <= n(&inside, 1) && (n(&inside, 2) - n(&vv, 4)).abs() < 1.0,
        "the app scrolls sideways or is not the screen's width: {inside}, screen {vv}"
    );
    env.stop().await;
}
