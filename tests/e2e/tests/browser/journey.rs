//! The customer's journey without a stumble (issue 10): errors that go once fixed, focus that
//! stays where the keyboard is, uploads that say plainly what happened, a list that Back brings
//! back as it was, safe links in messages; and the whole journey at 320 px and by keyboard alone.

use crate::wizard::{choose, next, subject_to_attachments, to_subject_step};
use helpdesk_e2e::fantoccini::actions::{InputSource, KeyAction, KeyActions};
use helpdesk_e2e::{start, Env};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TAB: char = '\u{E004}';
const ENTER: char = '\u{E007}';
const SPACE: char = ' ';

/// Waits until no visible alert says `needle` any more.
async fn alert_gone(env: &Env, needle: &str) {
    env.until(
        &format!("the alert {needle:?} going away"),
        &format!("return !allByRole('alert').some(a => a.textContent.includes({needle:?}))"),
    )
    .await;
}

/// Presses keys one after the other on whatever has the focus, as a keyboard does.
async fn press(env: &Env, keys: &[char]) {
    let mut actions = KeyActions::new("keyboard".into());
    for &k in keys {
        actions = actions
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k });
    }
    env.browser.perform_actions(actions).await.expect("keys");
}

/// Types text into the focused field.
async fn type_text(env: &Env, text: &str) {
    env.browser
        .active_element()
        .await
        .expect("something focused")
        .send_keys(text)
        .await
        .expect("typing");
}

/// Presses Tab until the focused element, `a` in the script's expression `test`, passes it
/// (at most 60 times).
async fn tab_to(env: &Env, test: &str) {
    let script = format!("const a = document.activeElement; return !!a && !!({test});");
    for _ in 0..60 {
        if env.js(&script).await == Value::Bool(true) {
            return;
        }
        press(env, &[TAB]).await;
    }
    let focused = env
        .js("return document.activeElement.outerHTML.slice(0, 200)")
        .await;
    panic!("Tab never reached {test:?}; focus on {focused}");
}

/// Whether the focused element, `a` in the expression `test`, passes it.
async fn focused_matches(env: &Env, test: &str) -> bool {
    env.js(&format!(
        "const a = document.activeElement; return !!a && !!({test});"
    ))
    .await
        == Value::Bool(true)
}

/// The focused element is the wizard step's heading.
const STEP_HEADING: &str =
    "allByRole('heading').includes(a) && document.querySelector('form.card').contains(a)";

/// The wizard step's submit button (each step is a `form.card` with exactly one).
const STEP_SUBMIT: &str =
    "a === document.querySelector('form.card').querySelector('[type=submit]')";

/// The messages and events of the open ticket: the items of the conversation's own list (not
/// those of a message's list of files).
const MESSAGES: &str =
    "(() => { const list = byRole('list', null, byRole('region', 'Conversazione')); \
     return allByRole('listitem', null, list).filter(li => li.parentElement === list); })()";

/// Waits until the selected tab of the list is the one named `name` (its count aside).
async fn selected_tab(env: &Env, name: &str) {
    env.until(
        &format!("the tab {name:?} selected"),
        &format!(
            "const t = allByRole('tab').find(t => t.getAttribute('aria-selected') === 'true'); \
             return !!t && accessibleName(t).startsWith({name:?})"
        ),
    )
    .await;
}

/// The ticket list's rows with data (not the header's).
const ROWS: &str = "allByRole('row').filter(r => allByRole('cell', null, r).length > 0)";

/// The page is no wider than the window: nothing to scroll sideways.
async fn fits(env: &Env, where_: &str) {
    // Layout may still be settling after a render: give it a moment before failing.
    let script = "const d = document.documentElement; return d.scrollWidth <= d.clientWidth";
    let deadline = Instant::now() + Duration::from_secs(3);
    while env.js(script).await != Value::Bool(true) {
        if Instant::now() > deadline {
            let widths = env
                .js("const d = document.documentElement;
                     // Every element, by tag and class: only to say which one is too wide.
                     const wide = [...document.querySelectorAll('body *')]
                         .filter(e => e.getBoundingClientRect().right > d.clientWidth + 0.5)
                         .slice(0, 5).map(e => e.tagName + '.' + e.className);
                     return [d.scrollWidth, d.clientWidth, wide]")
                .await;
            panic!("{where_}: the page scrolls sideways: {widths}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A phone: 320 CSS pixels wide (WCAG's reflow width), touch instead of a mouse.
async fn phone(env: &Env) {
    env.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await;
    env.cdp(
        "Emulation.setTouchEmulationEnabled",
        json!({"enabled": true, "maxTouchPoints": 1}),
    )
    .await;
}

#[tokio::test]
async fn an_error_goes_away_as_soon_as_the_customer_fixes_the_field() {
    let env = start().await;
    to_subject_step(&env).await;
    env.fill("#subject", "aiuto!").await;
    next(&env).await;
    env.wait_in("alert", "troppo generico").await;
    env.fill(
        "#subject",
        "Errore 500 sulla home dopo l'aggiornamento del plugin",
    )
    .await;
    env.wait_in("main", "Chiaro").await;
    alert_gone(&env, "troppo generico").await;
    next(&env).await;
    env.wait_in("main", "Passo 4 di 7").await;

    env.fill("#description", "Non va.").await;
    next(&env).await;
    env.wait_in("alert", "almeno 30").await;
    // Still too short: the error stays, and it is the same one.
    env.by_label("Descrivi il problema")
        .await
        .send_keys(" Errore 500")
        .await
        .unwrap();
    env.wait_in("alert", "almeno 30").await;
    env.by_label("Descrivi il problema")
        .await
        .send_keys(" dalle 9 di stamattina sulla home.")
        .await
        .unwrap();
    alert_gone(&env, "almeno 30").await;

    // The reply box: an empty reply is explained, and typing takes the explanation away.
    let code = env
        .open_ticket(
            "Backup notturno non eseguito su blog-mario.it",
            "Il backup di stanotte non risulta nel pannello, né quello di ieri.",
        )
        .await;
    env.goto(&format!("/tickets/{code}")).await;
    env.click_role("button", "Invia risposta").await;
    env.wait_in("alert", "Scrivi il testo").await;
    env.by_label("La tua risposta")
        .await
        .send_keys("Ecco il log del backup.")
        .await
        .unwrap();
    alert_gone(&env, "Scrivi il testo").await;
    env.stop().await;
}

#[tokio::test]
async fn space_on_a_service_or_a_checkbox_keeps_the_focus_and_the_filter() {
    let env = start().await;
    env.login("demo@example.it").await;
    // After logging in, the keyboard starts from the page's content, not from nowhere.
    env.until(
        "the focus in the page after login",
        "return document.activeElement !== document.body && document.activeElement !== null",
    )
    .await;
    env.goto("/nuovo").await;
    env.wait_in("main", "Passo 1 di 7").await;
    choose(&env, "Helpdesk (Assistenza Tecnica)").await;
    next(&env).await;
    env.wait_in("main", "Passo 2 di 7").await;
    env.fill_label("Filtra i servizi", "blog").await;
    env.until(
        "the filter narrowing the services",
        "return allByRole('radio').length > 0
             && !allByRole('radio').some(r => accessibleName(r).includes('pizzeria'))",
    )
    .await;
    press(&env, &[TAB]).await;
    assert!(focused_matches(&env, "allByRole('radio').includes(a)").await);
    press(&env, &[SPACE]).await;
    env.until(
        "the service chosen",
        "return allByRole('radio').some(r => r.checked)",
    )
    .await;
    // Let any re-render happen before looking.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        focused_matches(&env, "allByRole('radio').includes(a) && a.checked").await,
        "the focus left the chosen service"
    );
    let filter = env
        .by_label("Filtra i servizi")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(filter.as_deref(), Some("blog"), "the filter was cleared");

    next(&env).await;
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
        "Da stamattina la home di blog-mario.it risponde 500; anche pizzeria-da-mario.it è lenta.",
    )
    .await;
    env.wait_in("main", "cita anche").await;
    let separate = env.by_role("checkbox", "Aprirò un ticket separato").await;
    env.js_on(&separate, "arguments[0].focus(); return null")
        .await;
    press(&env, &[SPACE]).await;
    env.until(
        "the separate ticket ticked",
        "return byRole('checkbox', 'Aprirò un ticket separato').checked",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        focused_matches(
            &env,
            "a === byRole('checkbox', 'Aprirò un ticket separato')"
        )
        .await,
        "the focus left the checkbox"
    );
    // The tick is in the draft at once: a reload right after it keeps it.
    env.browser.refresh().await.expect("reload");
    env.until(
        "the tick restored with the draft",
        "const c = byRole('checkbox', 'Aprirò un ticket separato'); return !!c && c.checked",
    )
    .await;
    env.stop().await;
}

#[tokio::test]
async fn uploads_say_plainly_what_happened_to_each_file() {
    let env = start().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("foto-finta.png");
    let exe = dir.path().join("strumento.exe");
    let log = dir.path().join("error.log");
    std::fs::write(&fake, "questo non è un PNG, solo testo").unwrap();
    std::fs::write(&exe, vec![b'M'; 204]).unwrap();
    std::fs::write(&log, "PHP Fatal error: Uncaught Error\n".repeat(20)).unwrap();
    to_subject_step(&env).await;
    subject_to_attachments(&env).await;
    env.file_picker()
        .await
        .send_keys(&format!(
            "{}\n{}\n{}",
            log.display(),
            exe.display(),
            fake.display()
        ))
        .await
        .expect("files set on the input");
    let row = |name: &str| {
        format!(
            "allByRole('listitem', null, byRole('main')).find(li => li.textContent.includes('{name}'))"
        )
    };
    env.until("the log uploaded and the fake image refused by the server",
        &format!(
            "const a = {}, b = {};
             return !!a && a.textContent.includes('Caricato') && !!b && b.textContent.includes('Non caricato')",
            row("error.log"),
            row("foto-finta.png")
        ),
    )
    .await;
    let shown = |name: &str, what: &str| {
        format!(
            "return allByRole('button', null, {}).some(b => b.textContent === '{what}')",
            row(name)
        )
    };
    // "Riprova" only where trying again can help: not on a file that went, nor on one refused for
    // what it is, before sending or by the server.
    assert_eq!(env.js(&shown("error.log", "Riprova")).await, false);
    for refused in ["strumento.exe", "foto-finta.png"] {
        assert_eq!(env.js(&shown(refused, "Riprova")).await, false, "{refused}");
        assert_eq!(env.js(&shown(refused, "Rimuovi")).await, true, "{refused}");
    }
    // The name and the reason are on lines of their own, and a refused file looks refused.
    let text = env
        .js(&format!("return {}.innerText", row("strumento.exe")))
        .await;
    let text = text.as_str().unwrap_or_default().to_string();
    assert!(!text.contains(")Non caricato"), "{text:?}");
    assert!(text.contains("Non caricato"), "{text:?}");
    // A styling check on purpose: a refused row must look different.
    let looks = env
        .js(&format!(
            "const li = {};
             return [getComputedStyle(li).borderTopColor, getComputedStyle({}).borderTopColor]",
            row("strumento.exe"),
            row("error.log")
        ))
        .await;
    assert_ne!(
        looks[0], looks[1],
        "a refused file looks like one that went"
    );
    // No broken picture for a file that only pretends to be an image.
    // By tag on purpose: the thumbnail is decorative (alt=""), so it has no role.
    assert_eq!(
        env.js(&format!(
            "const img = {}.querySelector('img');
             return !img || img.getClientRects().length === 0",
            row("foto-finta.png")
        ))
        .await,
        true,
        "a broken thumbnail shows"
    );
    env.stop().await;
}

#[tokio::test]
async fn the_drop_zone_does_not_tell_a_phone_user_to_drag_or_press_ctrl_v() {
    let env = start().await;
    phone(&env).await;
    to_subject_step(&env).await;
    subject_to_attachments(&env).await;
    let zone = env.js("return byRole('group', 'Allegati').innerText").await;
    let zone = zone.as_str().unwrap_or_default().to_string();
    assert!(!zone.contains("Trascina"), "{zone}");
    assert!(!zone.contains("Ctrl+V"), "{zone}");
    assert!(zone.contains("Scegli i file"), "{zone}");
    env.stop().await;
}

#[tokio::test]
async fn back_from_a_ticket_finds_the_list_on_the_same_tab_and_search() {
    let env = start().await;
    env.login("demo@example.it").await;
    env.click_role_containing("tab", "Chiusi").await;
    selected_tab(&env, "Chiusi").await;
    env.fill_label("Cerca per codice o oggetto", "mario-rossi")
        .await;
    // The address first (the whole search has been taken), then its one row: an earlier,
    // partial search may show the same row just before the list reloads.
    env.until("the tab and the search in the address",
        "return location.search.includes('stato=closed') && location.search.includes('q=mario-rossi')",
    )
    .await;
    env.until(
        "the search leaving one ticket",
        &format!(
            "const rows = {ROWS};
             return rows.length === 1 && rows[0].textContent.includes('Rinnovo del dominio')
                 && /^[A-Z]{{3}}-/.test(allByRole('cell', null, rows[0])[0].textContent.trim())
                 && !document.querySelector('[aria-busy=true]')"
        ),
    )
    .await;
    // The whole row opens the ticket, not only its subject.
    let covered = env
        .js("const td = allByRole('cell', null, byRole('table'))[0];
             const r = td.getBoundingClientRect();
             const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
             const a = hit && allByRole('link').find(a => a.contains(hit));
             return !!a && a.pathname.includes('/tickets/')")
        .await;
    assert_eq!(covered, true, "a click on the code opens nothing");
    env.click_role_containing("link", "Rinnovo del dominio")
        .await;
    env.conversation().await;
    env.browser.back().await.unwrap();
    env.wait_in("table", "Rinnovo del dominio").await;
    selected_tab(&env, "Chiusi").await;
    let search = env
        .by_label("Cerca per codice o oggetto")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(search.as_deref(), Some("mario-rossi"));
    // And the plain list again from the menu: every tab, no search.
    env.click_role("link", "I miei ticket").await;
    selected_tab(&env, "Tutti").await;
    let search = env
        .by_label("Cerca per codice o oggetto")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(search.as_deref(), Some(""));
    env.stop().await;
}

#[tokio::test]
async fn each_tab_says_what_it_holds_and_an_empty_tab_is_not_called_a_search() {
    let env = start().await;
    env.login("altro@example.it").await;
    // "Aperti" says where the tickets waiting for the customer are.
    env.click_role_containing("tab", "Aperti").await;
    env.wait_in("main", "aspettano una tua risposta").await;
    // The other customer has no closed ticket, and has searched for nothing.
    env.click_role_containing("tab", "Chiusi").await;
    let empty = env.by_text("Nessun ticket").await.text().await.unwrap();
    assert!(!empty.contains("ricerca"), "{empty}");
    env.stop().await;
}

#[tokio::test]
async fn addresses_in_a_message_are_safe_links_and_the_text_around_stays_text() {
    let env = start().await;
    let code = env
        .open_ticket(
            "Pagina di login di blog-mario.it irraggiungibile",
            "La pagina https://blog-mario.it/wp-login.php?x=1&y=2. risponde 404; \
         javascript:alert(1) e <b>grassetto</b> sono solo testo.",
        )
        .await;
    env.login("demo@example.it").await;
    env.goto(&format!("/tickets/{code}")).await;
    env.by_role_in(&env.conversation().await, "link", None)
        .await;
    let links = env
        .js(
            "return allByRole('link', null, byRole('region', 'Conversazione')).map(a =>
                 [a.getAttribute('href'), a.textContent, a.rel, a.target])",
        )
        .await;
    assert_eq!(
        links,
        json!([[
            "https://blog-mario.it/wp-login.php?x=1&y=2",
            "https://blog-mario.it/wp-login.php?x=1&y=2",
            "noopener noreferrer nofollow",
            "_blank"
        ]])
    );
    let body = env.js(&format!("return {MESSAGES}[0].textContent")).await;
    let body = body.as_str().unwrap_or_default().to_string();
    assert!(
        body.contains(". risponde 404; javascript:alert(1) e <b>grassetto</b>"),
        "{body}"
    );
    assert_eq!(
        // By tag on purpose: the text's <b> must not have become markup.
        env.js("return byRole('region', 'Conversazione').querySelector('b') === null")
            .await,
        true
    );
    env.stop().await;
}

#[tokio::test]
async fn the_whole_journey_fits_a_320_pixel_screen() {
    let env = start().await;
    phone(&env).await;
    whole_journey_fits(&env).await;
    env.stop().await;
}

/// WCAG's 200 % zoom: the 1280 x 900 window of the other tests, magnified twice, lays the pages
/// out in 640 x 450 CSS pixels at two device pixels each.
#[tokio::test]
async fn the_whole_journey_fits_at_200_percent_zoom() {
    let env = start().await;
    env.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 640, "height": 450, "deviceScaleFactor": 2, "mobile": false}),
    )
    .await;
    whole_journey_fits(&env).await;
    assert_eq!(env.js("return window.devicePixelRatio").await, json!(2));
    env.stop().await;
}

/// Every page and wizard step, each checked for sideways scrolling in the current viewport.
async fn whole_journey_fits(env: &Env) {
    env.goto("/login").await;
    env.by_label("E-mail").await;
    fits(env, "login").await;
    env.login("demo@example.it").await;
    fits(env, "ticket list").await;
    env.goto("/email-rifiutate").await;
    env.wait_in("heading", "E-mail non accettate").await;
    fits(env, "refused e-mails").await;
    env.goto("/nuovo").await;
    env.wait_in("main", "Passo 1 di 7").await;
    fits(env, "wizard, department").await;
    choose(env, "Helpdesk (Assistenza Tecnica)").await;
    next(env).await;
    env.wait_in("main", "Passo 2 di 7").await;
    fits(env, "wizard, service").await;
    choose(env, "blog-mario.it").await;
    next(env).await;
    env.wait_in("main", "Passo 3 di 7").await;
    env.fill("#subject", "aiuto!").await;
    env.wait_in("main", "Troppo generico").await;
    fits(env, "wizard, subject with hints").await;
    env.fill(
        "#subject",
        "Errore 500 sulla home di blog-mario.it dopo l'aggiornamento",
    )
    .await;
    next(env).await;
    env.wait_in("main", "Passo 4 di 7").await;
    env.fill(
        "#description",
        "Da stamattina alle 9 la home risponde 500; vedi https://blog-mario.it/una/pagina/con/un/indirizzo/molto/lungo/che/non/deve/allargare/la/pagina?e=1",
    )
    .await;
    fits(env, "wizard, description").await;
    next(env).await;
    env.wait_in("main", "Passo 5 di 7").await;
    fits(env, "wizard, priority").await;
    choose(env, "normale").await;
    next(env).await;
    env.wait_in("main", "Passo 6 di 7").await;
    let dir = tempfile::tempdir().unwrap();
    let exe = dir
        .path()
        .join("uno-strumento-dal-nome-molto-lungo-per-vedere-se-va-a-capo.exe");
    std::fs::write(&exe, b"MZ").unwrap();
    env.file_picker()
        .await
        .send_keys(&exe.display().to_string())
        .await
        .unwrap();
    env.wait_in("list", "Non caricato").await;
    fits(env, "wizard, attachments with a refused file").await;
    env.js(
        "byRole('button', 'Rimuovi uno-strumento-dal-nome-molto-lungo-per-vedere-se-va-a-capo.exe').click(); \
         return null",
    )
    .await;
    next(env).await;
    env.wait_in("main", "Passo 7 di 7").await;
    fits(env, "wizard, review").await;
    next(env).await;
    let code = env
        .find("[data-testid=ticket-code]")
        .await
        .text()
        .await
        .unwrap();
    fits(env, "wizard, success").await;
    env.goto(&format!("/tickets/{code}")).await;
    env.by_role_in(&env.conversation().await, "link", None)
        .await;
    fits(env, "ticket page").await;
    env.goto("/").await;
    env.wait_in("table", &code).await;
    fits(env, "ticket list with the new ticket").await;
}

#[tokio::test]
async fn a_customer_logs_in_opens_a_ticket_and_replies_with_the_keyboard_alone() {
    let env = start().await;
    env.goto("/login").await;
    env.by_label("E-mail").await;
    // The login focuses the e-mail field itself.
    env.until(
        "the e-mail field focused",
        "return document.activeElement === byLabel('E-mail')",
    )
    .await;
    type_text(&env, "demo@example.it").await;
    press(&env, &[TAB]).await;
    type_text(&env, "demo-password").await;
    press(&env, &[ENTER]).await;
    env.by_role_any("table").await;

    // To the wizard by its link.
    tab_to(
        &env,
        "a === byRole('link', 'Apri un ticket', byRole('main'))",
    )
    .await;
    press(&env, &[ENTER]).await;
    env.wait_in("main", "Passo 1 di 7").await;
    tab_to(
        &env,
        "a === byRoleContaining('radio', 'Helpdesk (Assistenza Tecnica)')",
    )
    .await;
    press(&env, &[SPACE]).await;
    tab_to(&env, STEP_SUBMIT).await;
    press(&env, &[ENTER]).await;

    env.wait_in("main", "Passo 2 di 7").await;
    env.until(
        "the focus on the step's heading",
        &format!("const a = document.activeElement; return {STEP_HEADING}"),
    )
    .await;
    tab_to(&env, "a === byLabel('Filtra i servizi')").await;
    type_text(&env, "blog-mario").await;
    tab_to(&env, "allByRole('radio').includes(a)").await;
    press(&env, &[SPACE]).await;
    tab_to(&env, STEP_SUBMIT).await;
    press(&env, &[ENTER]).await;

    env.wait_in("main", "Passo 3 di 7").await;
    env.until(
        "the focus on the step's heading",
        &format!("const a = document.activeElement; return {STEP_HEADING}"),
    )
    .await;
    tab_to(&env, "a.id === 'subject'").await;
    type_text(
        &env,
        "Errore 500 sulla home di blog-mario.it dopo l'aggiornamento",
    )
    .await;
    press(&env, &[ENTER]).await;

    env.wait_in("main", "Passo 4 di 7").await;
    env.until(
        "the focus on the step's heading",
        &format!("const a = document.activeElement; return {STEP_HEADING}"),
    )
    .await;
    tab_to(&env, "a.id === 'description'").await;
    type_text(
        &env,
        "Da stamattina alle 9 la home risponde 500 Internal Server Error dopo l'aggiornamento.",
    )
    .await;
    tab_to(&env, STEP_SUBMIT).await;
    press(&env, &[ENTER]).await;

    env.wait_in("main", "Passo 5 di 7").await;
    env.until(
        "the focus on the step's heading",
        &format!("const a = document.activeElement; return {STEP_HEADING}"),
    )
    .await;
    tab_to(&env, "allByRole('radio').includes(a)").await;
    press(&env, &[SPACE]).await;
    tab_to(&env, STEP_SUBMIT).await;
    press(&env, &[ENTER]).await;

    env.wait_in("main", "Passo 6 di 7").await;
    env.until(
        "the focus on the step's heading",
        &format!("const a = document.activeElement; return {STEP_HEADING}"),
    )
    .await;
    // A file, given to the file field as a keyboard user picks one (the browser's own dialog
    // is out of WebDriver's reach); its progress and outcome are announced.
    let log = env.data_dir.path().join("errore-500.log");
    std::fs::write(&log, "PHP Fatal error: Allowed memory size exhausted\n").unwrap();
    env.file_picker()
        .await
        .send_keys(&log.display().to_string())
        .await
        .expect("a file");
    env.wait_in("list", "errore-500.log").await;
    env.until(
        "the upload's state announced",
        // A live region has no role: the row's announced part is found by its attribute.
        "const row = allByRole('listitem', null, byRole('main')).find(li => li.textContent.includes('errore-500.log')); \
         return !!row && [...row.querySelectorAll('[aria-live]')].some(s => s.textContent.includes('Caricato'))",
    )
    .await;
    tab_to(&env, STEP_SUBMIT).await;
    press(&env, &[ENTER]).await;

    let review = env.wait_in("main", "Passo 7 di 7").await;
    env.until(
        "the focus on the step's heading",
        &format!("const a = document.activeElement; return {STEP_HEADING}"),
    )
    .await;
    assert!(review.contains("errore-500.log"), "{review}");
    tab_to(&env, STEP_SUBMIT).await;
    press(&env, &[ENTER]).await;

    let code = env
        .find("[data-testid=ticket-code]")
        .await
        .text()
        .await
        .unwrap();
    tab_to(&env, "a === byRole('link', 'Vai al ticket')").await;
    press(&env, &[ENTER]).await;
    env.conversation().await;
    env.wait_in("main", &code).await;

    tab_to(&env, "a === byLabel('La tua risposta')").await;
    type_text(&env, "Aggiungo che l'errore compare anche su /contatti.").await;
    tab_to(&env, "a === byRole('button', 'Invia risposta')").await;
    press(&env, &[ENTER]).await;
    env.wait_in("region", "anche su /contatti").await;
    env.until(
        "the reply saved by the server",
        &format!("return !{MESSAGES}.some(li => li.textContent.includes('Invio…'))"),
    )
    .await;
    // And closed, from the keyboard too.
    tab_to(&env, "a === byRole('button', 'Chiudi il ticket')").await;
    press(&env, &[ENTER]).await;
    env.wait_in("main", "Questo ticket è chiuso.").await;
    env.by_role("button", "Riapri il ticket").await;
    env.stop().await;
}

#[tokio::test]
async fn on_a_phone_a_ticket_opens_at_its_subject_and_staff_replies_stand_apart() {
    let env = start().await;
    phone(&env).await;
    env.login("demo@example.it").await;
    env.click_role_containing("tab", "Tutti").await;
    env.fill_label("Cerca per codice o oggetto", "vps-0042")
        .await;
    env.until(
        "the search leaving one ticket",
        &format!(
            "const rows = {ROWS};
             return rows.length === 1 && rows[0].textContent.includes('VPS vps-0042')"
        ),
    )
    .await;
    env.click_role_containing("link", "VPS vps-0042").await;
    let staff = format!("{MESSAGES}.find(li => !li.textContent.includes('Mario Rossi'))");
    let customer = format!("{MESSAGES}.find(li => li.textContent.includes('Mario Rossi'))");
    env.until("a staff reply", &format!("return !!{staff}"))
        .await;
    // Let the page settle where it opens.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let subject_visible = env
        .js(
            // A layout check: the sticky bar is found by its class on purpose.
            "const bar = document.querySelector('.ticket-bar').getBoundingClientRect();
             const h1 = allByRole('heading').find(h => h.tagName === 'H1').getBoundingClientRect();
             return h1.top >= bar.bottom - 1 && h1.bottom <= window.innerHeight",
        )
        .await;
    assert_eq!(
        subject_visible, true,
        "the subject is hidden when the ticket opens"
    );
    // A staff reply reads as one, not by a border colour alone, and says "Assistenza" once.
    let header = env
        // The message's header line (author, badges, time), not its body.
        .js(&format!("return {staff}.querySelector('header').innerText"))
        .await;
    let header = header.as_str().unwrap_or_default().to_string();
    assert_eq!(header.matches("Assistenza").count(), 1, "{header:?}");
    let backgrounds = env
        // A styling check on purpose: the two kinds of message must look different.
        .js(&format!(
            "return [{staff}, {customer}].map(m => getComputedStyle(m).backgroundColor)"
        ))
        .await;
    assert_ne!(
        backgrounds[0], backgrounds[1],
        "staff and customer look alike"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_page_left_before_its_answer_came_has_its_request_aborted() {
    let env = start().await;
    env.login("demo@example.it").await;
    env.wait_in("table", "Errore 500 su blog-mario.it").await;
    // Every request the app makes, with its abort signal.
    env.js(
        "window.__requests = []; const orig = window.fetch; \
         window.fetch = function (req) { window.__requests.push(req); return orig.apply(this, arguments); };",
    )
    .await;
    // A slow network: the ticket's answer takes more than a second.
    env.cdp("Network.enable", json!({})).await;
    env.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": false, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1}),
    )
    .await;
    env.click_role_containing("link", "Errore 500 su blog-mario.it")
        .await;
    env.until(
        "the ticket's request under way",
        "return window.__requests.some(r => /\\/tickets\\/[A-Z]{3}-/.test(r.url))",
    )
    .await;
    // Back to the list before it came: the ticket's read is aborted, the list's is not.
    env.click_role("link", "I miei ticket").await;
    env.until(
        "the ticket's request aborted",
        "const t = window.__requests.find(r => /\\/tickets\\/[A-Z]{3}-/.test(r.url)); \
         return !!t && t.signal.aborted",
    )
    .await;
    env.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    )
    .await;
    env.wait_in("table", "Errore 500 su blog-mario.it").await;
    let list_aborted = env
        .js("return window.__requests.filter(r => /\\/tickets\\?/.test(r.url)).some(r => r.signal.aborted)")
        .await;
    assert_eq!(list_aborted, Value::Bool(false));
    // Nothing tells the customer of a failure: there was none they could see.
    let alerts = env
        .js("return allByRole('alert').map(a => a.textContent).join(' | ')")
        .await;
    assert_eq!(alerts, "", "{alerts}");
    env.stop().await;
}

#[tokio::test]
async fn the_skip_link_takes_the_keyboard_to_the_content() {
    let env = start().await;
    env.login("demo@example.it").await;
    env.by_role_any("table").await;
    // The first Tab of the page reaches the skip link; Enter on it moves the focus to the
    // content, so the next Tab goes on from there rather than through the header again.
    env.js("document.activeElement.blur(); return null").await;
    tab_to(&env, "a === byRole('link', 'Vai al contenuto')").await;
    press(&env, &[ENTER]).await;
    env.until(
        "the focus on the page's content",
        "return document.activeElement === byRole('main')",
    )
    .await;
    press(&env, &[TAB]).await;
    assert!(
        !focused_matches(&env, "byRole('banner').contains(a)").await,
        "Tab after the skip link went back into the header"
    );
    env.stop().await;
}
