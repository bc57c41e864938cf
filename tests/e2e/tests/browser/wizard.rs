use helpdesk_e2e::{start, Env};

pub(crate) async fn next(env: &Env) {
    env.click("form.card button[type=submit]").await;
}

pub(crate) async fn choose(env: &Env, text: &str) {
    let script = format!(
        "const l = [...document.querySelectorAll('label.choice')].find(l => l.textContent.includes({text:?})); \
         if (!l) return false; l.querySelector('input').click(); return true;"
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
            .js("return [document.querySelector('main').innerText, window.__errs || []]")
            .await;
        panic!("no choice labelled {text:?}; the page: {page}");
    }
}

pub(crate) async fn to_subject_step(env: &Env) {
    env.login("demo@example.it").await;
    env.goto("/nuovo").await;
    env.wait_text("main", "Passo 1 di 7").await;
    choose(env, "Helpdesk (Assistenza Tecnica)").await;
    next(env).await;
    env.wait_text("main", "Passo 2 di 7").await;
    choose(env, "blog-mario.it").await;
    next(env).await;
    env.wait_text("main", "Passo 3 di 7").await;
}

/// From the priority step to the summary: "normale", no attachments; the summary's text.
pub(crate) async fn priority_to_review(env: &Env) -> String {
    env.wait_text("main", "Passo 5 di 7").await;
    choose(env, "normale").await;
    next(env).await;
    env.wait_text("main", "Passo 6 di 7").await;
    next(env).await;
    env.wait_text("main", "Passo 7 di 7").await
}

#[tokio::test]
async fn a_generic_subject_is_blocked_with_its_hint_visible() {
    let env = start().await;
    to_subject_step(&env).await;
    env.fill("#subject", "aiuto!").await;
    env.wait_text("#subject-quality", "Troppo generico").await;
    // A concrete hint, with an example built from the chosen service.
    let hint = env
        .find("#subject-quality ul.hints li")
        .await
        .text()
        .await
        .unwrap();
    assert!(hint.contains("blog-mario.it"), "{hint}");
    next(&env).await;
    env.wait_text("[role=alert]", "troppo generico").await;
    assert!(env
        .wait_text("main", "Passo 3 di 7")
        .await
        .contains("Passo 3 di 7"));
    // A specific subject can go on.
    env.fill(
        "#subject",
        "Errore 500 sulla home dopo l'aggiornamento del plugin",
    )
    .await;
    env.wait_text("#subject-quality", "Chiaro").await;
    next(&env).await;
    env.wait_text("main", "Passo 4 di 7").await;
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
    env.wait_text("main", "Passo 4 di 7").await;
    env.fill(
        "#description",
        "Da stamattina alle 9 la home di blog-mario.it risponde 500 Internal Server Error; \
         anche pizzeria-da-mario.it è lenta.",
    )
    .await;
    // The description names another service: the wizard says so and offers a separate ticket.
    env.wait_text("main", "cita anche").await;
    env.click("input[id^=separate-]").await;
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
    let page = env.wait_text("main", "Richiesta inviata").await;
    assert!(page.contains("inalterato"), "{page}");
    assert!(
        page.contains("Apri un ticket per pizzeria-da-mario.it"),
        "{page}"
    );
    // The ticket is in the list, and the draft is gone.
    env.goto("/").await;
    env.wait_text("table.tickets", &code).await;
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
    env.wait_text("main", "Abbiamo ripreso la bozza").await;
    env.wait_text("main", "Passo 3 di 7").await;
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
         document.querySelector('header nav a[href$=\"/\"]').click();
         return null")
        .await;
    env.find("#ticket-search").await;
    // The draft's save comes after the page has gone.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The same with the list's search, which waits for a pause in the typing.
    env.js("const s = document.querySelector('#ticket-search');
         s.value = 'blog';
         s.dispatchEvent(new Event('input', {bubbles: true}));
         document.querySelector('header nav a[href$=\"/email-rifiutate\"]').click();
         return null")
        .await;
    env.wait_text("main h1", "E-mail non accettate").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The draft kept the last words, and the app answered every click without a reload.
    env.click("header nav a[href$='/nuovo']").await;
    env.wait_text("main", "Passo 3 di 7").await;
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
    env.wait_text("main", "Passo 4 di 7").await;
    env.fill(
        "#description",
        "Da stamattina alle 9 la home risponde 500 Internal Server Error; allego il log e uno screenshot.",
    )
    .await;
    next(env).await;
    env.wait_text("main", "Passo 5 di 7").await;
    choose(env, "normale").await;
    next(env).await;
    env.wait_text("main", "Passo 6 di 7").await;
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
    env.wait_text("main", "Passo 4 di 7").await;
    let description = "Il certificato di blog-mario.it risulta scaduto da stamattina alle 8.";
    env.fill("#description", description).await;
    next(&env).await;
    priority_to_review(&env).await;
    next(&env).await;
    // The sentence says why and how long to wait (the window is 10 minutes), and that the draft
    // is kept; the customer is still on the summary, with everything typed.
    let alert = env
        .wait_text("[role=alert]", "Hai aperto molti ticket in poco tempo")
        .await;
    assert!(alert.contains("10 minuti"), "{alert}");
    assert!(alert.contains("bozza"), "{alert}");
    let review = env.wait_text("main", "Passo 7 di 7").await;
    assert!(review.contains(subject), "{review}");
    // The draft survives a reload, as it would until the customer can send it.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    env.browser.refresh().await.unwrap();
    env.wait_text("main", "Abbiamo ripreso la bozza").await;
    let restored = env.wait_text("main", "Passo 7 di 7").await;
    assert!(restored.contains(subject), "{restored}");
    assert!(
        restored.contains("scaduto da stamattina alle 8"),
        "{restored}"
    );
    env.stop().await;
}
