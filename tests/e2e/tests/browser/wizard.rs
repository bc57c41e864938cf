use helpdesk_e2e::{start, Env};

pub(crate) async fn next(env: &Env) {
    env.click("form.card button[type=submit]").await;
}

pub(crate) async fn choose(env: &Env, text: &str) {
    let script = format!(
        "const r = byRoleContaining('radio', {text:?}); if (!r) return false; r.click(); return true;"
    );
    let mut clicked = serde_json::Value::Bool(false);
    for _ in 0..100 {
        clicked = env.js(&script).await;
        if clicked == serde_json::Value::Bool(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if clicked != serde_json::Value::Bool(true) {
        let page = env
            .js("return [byRole('main').innerText, window.__errs || []]")
            .await;
        panic!("no choice labelled {text:?}; the page: {page}");
    }
}

pub(crate) async fn to_subject_step(env: &Env) {
    env.login("demo@example.it").await;
    env.goto("/nuovo").await;
    env.wait_in("main", "Passo 1 di 7").await;
    choose(env, "Helpdesk (Assistenza Tecnica)").await;
    next(env).await;
    env.wait_in("main", "Passo 2 di 7").await;
    choose(env, "blog-mario.it").await;
    next(env).await;
    env.wait_in("main", "Passo 3 di 7").await;
}

/// From the priority step to the summary: "normale", no attachments; the summary's text.
pub(crate) async fn priority_to_review(env: &Env) -> String {
    env.wait_in("main", "Passo 5 di 7").await;
    choose(env, "normale").await;
    next(env).await;
    env.wait_in("main", "Passo 6 di 7").await;
    next(env).await;
    env.wait_in("main", "Passo 7 di 7").await
}

#[tokio::test]
async fn a_generic_subject_is_blocked_with_its_hint_visible() {
    let env = start().await;
    to_subject_step(&env).await;
    env.fill("#subject", "aiuto!").await;
    env.wait_in("main", "Troppo generico").await;
    // A concrete hint, with an example built from the chosen service.
    let hint = env.wait_in("listitem", "blog-mario.it").await;
    assert!(hint.contains("blog-mario.it"), "{hint}");
    next(&env).await;
    env.wait_in("alert", "troppo generico").await;
    assert!(env
        .wait_in("main", "Passo 3 di 7")
        .await
        .contains("Passo 3 di 7"));
    // A specific subject can go on.
    env.fill(
        "#subject",
        "Errore 500 sulla home dopo l'aggiornamento del plugin",
    )
    .await;
    // The verdict is a status, read out as it changes.
    env.wait_in("status", "Chiaro").await;
    next(&env).await;
    env.wait_in("main", "Passo 4 di 7").await;
    // Focus moved to the new step's heading.
    let focused = env.js("return document.activeElement.tagName").await;
    assert_eq!(focused, "H2");
    env.stop().await;
}

#[tokio::test]
async fn a_customer_opens_a_ticket_from_login_to_the_success_page() {
    let env = start().await;
    to_subject_step(&env).await;
    env.fill(
        "#subject",
        "Errore 500 sulla home dopo l'aggiornamento del plugin",
    )
    .await;
    next(&env).await;
    env.wait_in("main", "Passo 4 di 7").await;
    env.fill(
        "#description",
        "Da stamattina alle 9 la home di blog-mario.it risponde 500 Internal Server Error; \
         anche pizzeria-da-mario.it è lenta.",
    )
    .await;
    // The description names another service: the wizard says so and offers a separate ticket.
    env.wait_in("main", "cita anche").await;
    env.click_role("checkbox", "Aprirò un ticket separato")
        .await;
    next(&env).await;
    let review = priority_to_review(&env).await;
    assert!(review.contains("Errore 500 sulla home"), "{review}");
    assert!(review.contains("blog-mario.it"), "{review}");
    next(&env).await;
    let code = env
        .find("[data-testid=ticket-code]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        helpdesk_core::TicketCode::parse(&code).is_some(),
        "{code:?}"
    );
    let page = env.wait_in("main", "Richiesta inviata").await;
    assert!(page.contains("inalterato"), "{page}");
    assert!(
        page.contains("Apri un ticket per pizzeria-da-mario.it"),
        "{page}"
    );
    // The ticket is in the list, and the draft is gone.
    env.goto("/").await;
    env.wait_in("table", &code).await;
    let drafts = env
        .js("return Object.keys(localStorage).filter(k => k.startsWith('helpdesk.draft.')).length")
        .await;
    assert_eq!(drafts, 0);
    env.stop().await;
}

#[tokio::test]
async fn a_draft_survives_a_reload() {
    let env = start().await;
    to_subject_step(&env).await;
    env.fill("#subject", "Certificato SSL scaduto su blog-mario.it")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    env.browser.refresh().await.unwrap();
    env.wait_in("main", "Abbiamo ripreso la bozza").await;
    env.wait_in("main", "Passo 3 di 7").await;
    let value = env.find("#subject").await.prop("value").await.unwrap();
    assert_eq!(
        value.as_deref(),
        Some("Certificato SSL scaduto su blog-mario.it")
    );
    env.stop().await;
}

#[tokio::test]
async fn leaving_a_page_right_after_typing_keeps_the_typing_and_the_app_alive() {
    let env = start().await;
    to_subject_step(&env).await;
    env.js("window.__samePage = true; return null").await;
    // Type the subject and leave in the same moment, before the draft's delayed save.
    env.js("const s = document.querySelector('#subject');
         s.value = 'Errore 500 sulla home di blog-mario.it';
         s.dispatchEvent(new Event('input', {bubbles: true}));
         byRole('link', 'I miei ticket').click();
         return null")
        .await;
    env.by_label("Cerca per codice o oggetto").await;
    // The draft's save comes after the page has gone.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The same with the list's search, which waits for a pause in the typing.
    env.js("const s = byLabel('Cerca per codice o oggetto');
         s.value = 'blog';
         s.dispatchEvent(new Event('input', {bubbles: true}));
         byRole('link', 'E-mail non accettate').click();
         return null")
        .await;
    env.wait_in("heading", "E-mail non accettate").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The draft kept the last words, and the app answered every click without a reload.
    env.click_role("link", "Apri un ticket").await;
    env.wait_in("main", "Passo 3 di 7").await;
    let subject = env.find("#subject").await.prop("value").await.unwrap();
    assert_eq!(
        subject.as_deref(),
        Some("Errore 500 sulla home di blog-mario.it")
    );
    assert_eq!(env.js("return window.__samePage === true").await, true);
    env.stop().await;
}

/// From the subject step to the attachments step, with valid answers.
pub(crate) async fn subject_to_attachments(env: &Env) {
    env.fill(
        "#subject",
        "Errore 500 sulla home di blog-mario.it dopo l'aggiornamento",
    )
    .await;
    next(env).await;
    env.wait_in("main", "Passo 4 di 7").await;
    env.fill(
        "#description",
        "Da stamattina alle 9 la home risponde 500 Internal Server Error; allego il log e uno screenshot.",
    )
    .await;
    next(env).await;
    env.wait_in("main", "Passo 5 di 7").await;
    choose(env, "normale").await;
    next(env).await;
    env.wait_in("main", "Passo 6 di 7").await;
}

#[tokio::test]
async fn hitting_the_ticket_limit_says_how_long_to_wait_and_keeps_the_draft() {
    let env = helpdesk_e2e::start_with(|c| {
        c.limits.tickets = helpdesk_server::config::RateLimit {
            max: 1,
            window: std::time::Duration::from_secs(600),
        };
    })
    .await;
    // The customer's one ticket of this window, opened elsewhere (say, by e-mail).
    env.open_ticket(
        "Errore 500 sulla home di pizzeria-da-mario.it",
        "Da stamattina la home page risponde con errore 500; le altre pagine funzionano.",
    )
    .await;
    to_subject_step(&env).await;
    let subject = "Certificato SSL scaduto su blog-mario.it da stamattina";
    env.fill("#subject", subject).await;
    next(&env).await;
    env.wait_in("main", "Passo 4 di 7").await;
    let description = "Il certificato di blog-mario.it risulta scaduto da stamattina alle 8.";
    env.fill("#description", description).await;
    next(&env).await;
    priority_to_review(&env).await;
    next(&env).await;
    // The sentence says why and how long to wait (the window is 10 minutes), and that the draft
    // is kept; the customer is still on the summary, with everything typed.
    let alert = env
        .wait_in("alert", "Hai aperto molti ticket in poco tempo")
        .await;
    assert!(alert.contains("10 minuti"), "{alert}");
    assert!(alert.contains("bozza"), "{alert}");
    let review = env.wait_in("main", "Passo 7 di 7").await;
    assert!(review.contains(subject), "{review}");
    // The draft survives a reload, as it would until the customer can send it.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    env.browser.refresh().await.unwrap();
    env.wait_in("main", "Abbiamo ripreso la bozza").await;
    let restored = env.wait_in("main", "Passo 7 di 7").await;
    assert!(restored.contains(subject), "{restored}");
    assert!(
        restored.contains("scaduto da stamattina alle 8"),
        "{restored}"
    );
    env.stop().await;
}

/// What the customer reads, in one language, for the tests that run in both.
struct Words {
    browser: &'static str,
    step: &'static str,
    helpdesk: &'static str,
    normal: &'static str,
    open_ticket: &'static str,
    chosen: &'static str,
    change: &'static str,
    change_name: &'static str,
    edit: &'static str,
    subject_title: &'static str,
    description_title: &'static str,
    steps_label: &'static str,
    department_missing: &'static str,
}

const IT: Words = Words {
    browser: "it-IT",
    step: "Passo",
    helpdesk: "Helpdesk (Assistenza Tecnica)",
    normal: "normale",
    open_ticket: "Hai già un ticket aperto su questo servizio",
    chosen: "Servizio scelto: blog-mario.it (Hosting WordPress)",
    change: "cambia",
    change_name: "cambia servizio",
    edit: "Modifica",
    subject_title: "Oggetto",
    description_title: "Descrizione",
    steps_label: "Passi della richiesta",
    department_missing: "Scegli il tipo di assistenza",
};

const EN: Words = Words {
    browser: "en-GB",
    step: "Step",
    helpdesk: "Helpdesk (technical support)",
    normal: "normal",
    open_ticket: "You already have an open ticket on this service",
    chosen: "Chosen service: blog-mario.it (Hosting WordPress)",
    change: "change",
    change_name: "change service",
    edit: "Edit",
    subject_title: "Subject",
    description_title: "Description",
    steps_label: "Steps of the request",
    department_missing: "Choose the kind of help",
};

impl Words {
    fn step(&self, n: usize) -> String {
        let of = if self.browser == "en-GB" { "of" } else { "di" };
        format!("{} {n} {of} 7", self.step)
    }
}

/// The step's form (a stable hook: each step is a `form.card`), for `press_button`.
const CARD: &str = "document.querySelector('form.card')";

/// Clicks the button whose accessible name is `name`, inside `within` (a script's expression for
/// an element).
async fn press_button(env: &Env, within: &str, name: &str) {
    env.until(
        &format!("a button named {name:?} in {within}"),
        &format!(
            "const b = byRole('button', {name:?}, {within});
             if (!b) return false;
             if (b.type !== 'button') throw new Error('not type=button: ' + b.outerHTML);
             b.click(); return true;"
        ),
    )
    .await;
}

/// Each step's form has one submit button: the new ones go elsewhere without submitting.
async fn one_submit_button(env: &Env) {
    // The stable hook itself is what is checked, so it is looked up as such.
    let n = env
        .js("return [...document.querySelectorAll('form.card button')].filter(b => b.type === 'submit').length")
        .await;
    assert_eq!(n, 1, "submit buttons in the step's form");
}

async fn open_ticket_warning_on_the_service_step(w: &Words) {
    let env = helpdesk_e2e::start_in(w.browser, |_| {}).await;
    env.login("demo@example.it").await;
    env.goto("/nuovo").await;
    env.wait_in("main", &w.step(1)).await;
    choose(&env, w.helpdesk).await;
    next(&env).await;
    env.wait_in("main", &w.step(2)).await;
    // A service without open tickets: no warning.
    choose(&env, "studio-rossi.it").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let page = env.wait_text("form.card", "studio-rossi.it").await;
    assert!(!page.contains(w.open_ticket), "{page}");
    // The demo customer's open ticket on blog-mario.it is named, with its link, on this step.
    choose(&env, "blog-mario.it").await;
    env.wait_in("status", w.open_ticket).await;
    env.until(
        "a link to the open ticket",
        "return allByRole('status').flatMap(s => allByRole('link', null, s))
             .some(a => a.textContent.includes('Errore 500 su blog-mario.it') && a.getAttribute('href').includes('/tickets/'))",
    )
    .await;
    assert!(env
        .js("return byRole('main').innerText")
        .await
        .as_str()
        .unwrap_or_default()
        .contains(&w.step(2)));
    one_submit_button(&env).await;
    // Choosing another service takes the warning away.
    choose(&env, "ds-118").await;
    env.until(
        "the warning gone",
        &format!(
            "return !document.querySelector('form.card').innerText.includes({:?})",
            w.open_ticket
        ),
    )
    .await;
    // The link goes to the open ticket instead of a new one.
    choose(&env, "blog-mario.it").await;
    env.wait_in("status", w.open_ticket).await;
    env.click_role_containing("link", "Errore 500 su blog-mario.it")
        .await;
    env.conversation().await;
    env.wait_in("main", "Errore 500 su blog-mario.it").await;
    env.stop().await;
}

#[tokio::test]
async fn an_open_ticket_on_the_chosen_service_is_named_on_the_service_step() {
    open_ticket_warning_on_the_service_step(&IT).await;
}

#[tokio::test]
async fn an_open_ticket_on_the_chosen_service_is_named_on_the_service_step_in_english() {
    open_ticket_warning_on_the_service_step(&EN).await;
}

async fn prefilled_service_shown_and_focus_in_the_subject(w: &Words) {
    let env = helpdesk_e2e::start_in(w.browser, |_| {}).await;
    env.login("demo@example.it").await;
    env.goto("/nuovo?servizio=blog-mario.it").await;
    env.wait_in("main", &w.step(3)).await;
    // The customer types at once: the focus is in the subject, not on a heading.
    env.until(
        "the focus in the subject",
        "return document.activeElement && document.activeElement.id === 'subject'",
    )
    .await;
    env.wait_text("form.card", w.chosen).await;
    one_submit_button(&env).await;
    env.fill(
        "#subject",
        "Errore 500 sulla home di blog-mario.it dopo l'aggiornamento",
    )
    .await;
    next(&env).await;
    // Shown on the later steps too, with its way back.
    env.wait_in("main", &w.step(4)).await;
    env.wait_text("form.card", w.chosen).await;
    let named = env
        .js(&format!(
            "const b = byRole('button', {:?}, document.querySelector('form.card'));
             return !!b && b.textContent.trim() === {:?}",
            w.change_name, w.change
        ))
        .await;
    assert_eq!(named, true, "a {:?} button", w.change);
    press_button(&env, CARD, w.change_name).await;
    env.wait_in("main", &w.step(2)).await;
    assert_eq!(
        env.js("const c = allByRole('radio').find(r => r.checked); return !!c && accessibleName(c).includes('blog-mario.it')")
            .await,
        true
    );
    // "Avanti" goes back to where the customer was, with what was typed.
    next(&env).await;
    env.wait_in("main", &w.step(4)).await;
    env.stop().await;
}

#[tokio::test]
async fn a_prefilled_service_is_shown_on_later_steps_and_the_focus_is_in_the_subject() {
    prefilled_service_shown_and_focus_in_the_subject(&IT).await;
}

#[tokio::test]
async fn a_prefilled_service_is_shown_on_later_steps_and_the_focus_is_in_the_subject_in_english() {
    prefilled_service_shown_and_focus_in_the_subject(&EN).await;
}

async fn summary_edits_and_step_bar(w: &Words) {
    let env = helpdesk_e2e::start_in(w.browser, |_| {}).await;
    env.login("demo@example.it").await;
    env.goto("/nuovo").await;
    env.wait_in("main", &w.step(1)).await;
    // Step 1's error says what is missing, and the focus goes to the question's first option.
    next(&env).await;
    env.wait_in("alert", w.department_missing).await;
    env.until(
        "the focus on the first option",
        "return document.activeElement === allByRole('radio')[0]",
    )
    .await;
    choose(&env, w.helpdesk).await;
    next(&env).await;
    env.wait_in("main", &w.step(2)).await;
    choose(&env, "blog-mario.it").await;
    next(&env).await;
    env.wait_in("main", &w.step(3)).await;
    // A refused subject is marked invalid, its error read with it.
    env.fill("#subject", "aiuto!").await;
    next(&env).await;
    let error = env.by_role_any("alert").await;
    // How the field is tied to its error is the point here: the attributes are checked as such.
    let marked = env
        .js_on(&error, "const s = document.getElementById('subject');
             return [s.getAttribute('aria-invalid'), s.getAttribute('aria-describedby').split(' ').includes(arguments[0].id), document.activeElement === s]")
        .await;
    assert_eq!(marked, serde_json::json!(["true", true, true]));
    subject_to_attachments_in(&env, w).await;
    next(&env).await;
    env.wait_in("main", &w.step(7)).await;
    one_submit_button(&env).await;

    // "Modifica" on the subject: to its step, and "Avanti" comes back to the summary.
    press_button(&env, CARD, &format!("{}: {}", w.edit, w.subject_title)).await;
    env.wait_in("main", &w.step(3)).await;
    env.fill("#subject", "Certificato SSL scaduto su blog-mario.it")
        .await;
    next(&env).await;
    let review = env.wait_in("main", &w.step(7)).await;
    assert!(
        review.contains("Certificato SSL scaduto su blog-mario.it"),
        "{review}"
    );
    // Every section has its own button, visibly named "Modifica".
    let edits = env
        .js(&format!(
            "return allByRole('button', null, document.querySelector('form.card')) \
                 .filter(b => b.textContent.trim() === {:?} && b.type === 'button').length",
            w.edit
        ))
        .await;
    assert_eq!(edits, 6);

    // The step bar: an answered step is a button; from it, back to the summary.
    press_button(
        &env,
        &format!("byRole('list', {:?})", w.steps_label),
        w.description_title,
    )
    .await;
    env.wait_in("main", &w.step(4)).await;
    let current = env
        .js(&format!(
            "return allByRole('listitem', null, byRole('list', {:?})) \
                 .find(li => li.getAttribute('aria-current') === 'step').textContent.trim()",
            w.steps_label
        ))
        .await;
    assert_eq!(current, w.description_title);
    next(&env).await;
    env.wait_in("main", &w.step(7)).await;
    env.stop().await;
}

/// The subject, description, priority and attachment steps with valid answers, in either language.
async fn subject_to_attachments_in(env: &Env, w: &Words) {
    env.fill(
        "#subject",
        "Errore 500 sulla home di blog-mario.it dopo l'aggiornamento",
    )
    .await;
    next(env).await;
    env.wait_in("main", &w.step(4)).await;
    env.fill(
        "#description",
        "Da stamattina alle 9 la home risponde 500 Internal Server Error; allego il log e uno screenshot.",
    )
    .await;
    next(env).await;
    env.wait_in("main", &w.step(5)).await;
    choose(env, w.normal).await;
    next(env).await;
    env.wait_in("main", &w.step(6)).await;
}

#[tokio::test]
async fn the_summary_has_an_edit_per_section_and_the_step_bar_goes_back() {
    summary_edits_and_step_bar(&IT).await;
}

#[tokio::test]
async fn the_summary_has_an_edit_per_section_and_the_step_bar_goes_back_in_english() {
    summary_edits_and_step_bar(&EN).await;
}

/// A phone: `width` CSS pixels wide, touch instead of a mouse.
async fn phone(env: &Env, width: u32, height: u32) {
    env.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await;
    env.cdp(
        "Emulation.setTouchEmulationEnabled",
        serde_json::json!({"enabled": true, "maxTouchPoints": 1}),
    )
    .await;
}

/// Nothing to scroll sideways.
async fn fits(env: &Env, where_: &str) {
    let script = "const d = document.documentElement; return d.scrollWidth <= d.clientWidth";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while env.js(script).await != serde_json::Value::Bool(true) {
        if std::time::Instant::now() > deadline {
            let wide = env
                .js("const d = document.documentElement;
                     // Every element, by tag and class: only to say which one is too wide.
                     return [d.scrollWidth, d.clientWidth, [...document.querySelectorAll('body *')]
                         .filter(e => e.getBoundingClientRect().right > d.clientWidth + 0.5)
                         .slice(0, 5).map(e => e.tagName + '.' + e.className)]")
                .await;
            panic!("{where_}: the page scrolls sideways: {wide}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn on_a_phone_the_wizard_has_one_scroll_a_compact_header_and_readable_attachments() {
    let env = start().await;
    phone(&env, 390, 844).await;
    env.login("demo@example.it").await;
    env.goto("/nuovo").await;
    env.wait_in("main", "Passo 1 di 7").await;
    // The header leaves the screen to the wizard.
    let header = env
        .js("return byRole('banner').getBoundingClientRect().height")
        .await
        .as_f64()
        .unwrap_or(f64::MAX);
    assert!(header <= 110.0, "the header takes {header} of 844 px");
    choose(&env, "Helpdesk (Assistenza Tecnica)").await;
    next(&env).await;
    env.wait_in("main", "Passo 2 di 7").await;
    env.by_role_any("radio").await;
    // The services are part of the page: no scroll box of their own.
    let own_scroll = env
        // A layout check: the box around the services is found by its class on purpose.
        .js("const g = document.querySelector('.service-groups');
             return g.scrollHeight > g.clientHeight + 1 || getComputedStyle(g).overflowY !== 'visible'")
        .await;
    assert_eq!(own_scroll, false);

    phone(&env, 320, 640).await;
    let header = env
        .js("return byRole('banner').getBoundingClientRect().height")
        .await
        .as_f64()
        .unwrap_or(f64::MAX);
    assert!(header <= 130.0, "the header takes {header} px at 320");
    choose(&env, "blog-mario.it").await;
    env.wait_in("status", "Hai già un ticket aperto").await;
    fits(&env, "service with the open ticket's warning").await;
    next(&env).await;
    env.wait_in("main", "Passo 3 di 7").await;
    env.fill("#subject", "aiuto!").await;
    next(&env).await;
    env.by_role_any("alert").await;
    fits(&env, "subject with its error").await;
    subject_to_attachments_in(&env, &IT).await;
    // Two files with long names, refused for their type: each name gets a line of its own.
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "uno-strumento-dal-nome-molto-lungo-per-vedere-se-va-a-capo.exe",
        "secondo programma con un nome di parecchie parole.exe",
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"MZ").unwrap();
        env.file_picker()
            .await
            .send_keys(&path.display().to_string())
            .await
            .unwrap();
    }
    env.until(
        "two refused files",
        "return allByRole('listitem', null, byRole('main')).filter(li => li.textContent.includes('.exe')).length === 2",
    )
    .await;
    fits(&env, "attachments with refused files").await;
    let narrow = env
        // A layout check at 320 px: the name's own box (by its class) against its row's.
        .js("return allByRole('listitem', null, byRole('main')).filter(li => li.textContent.includes('.exe')).map(li =>
                 li.querySelector('.name').getBoundingClientRect().width / li.getBoundingClientRect().width)")
        .await;
    for share in narrow.as_array().unwrap() {
        assert!(
            share.as_f64().unwrap() > 0.75,
            "the name is squeezed: {narrow}"
        );
    }
    // Removed by keyboard, a file leaves the focus on the next row's remove button, the last
    // one on the file picker: never on the page.
    let remove = env
        .by_role(
            "button",
            "Rimuovi uno-strumento-dal-nome-molto-lungo-per-vedere-se-va-a-capo.exe",
        )
        .await;
    remove.send_keys("\u{E007}").await.unwrap();
    env.until(
        "the focus on the next remove button",
        "return allByRole('listitem', null, byRole('main')).filter(li => li.textContent.includes('.exe')).length === 1
             && document.activeElement === byRole('button', 'Rimuovi secondo programma con un nome di parecchie parole.exe')",
    )
    .await;
    env.browser
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    env.until(
        "the focus on the file picker",
        "return allByRole('listitem', null, byRole('main')).filter(li => li.textContent.includes('.exe')).length === 0
             && document.activeElement === byLabel('Scegli i file da allegare')",
    )
    .await;
    next(&env).await;
    env.wait_in("main", "Passo 7 di 7").await;
    fits(&env, "summary with its edit buttons").await;
    press_button(&env, CARD, "Modifica: Oggetto").await;
    env.wait_in("main", "Passo 3 di 7").await;
    env.wait_text("form.card", "Servizio scelto: blog-mario.it")
        .await;
    fits(&env, "subject with the chosen service").await;
    env.stop().await;
}
