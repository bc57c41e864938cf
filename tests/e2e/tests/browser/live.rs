//! Live news (issue 22): a staff answer reaches the customer's open page without a reload.

use helpdesk_e2e::{start, Env};
use std::time::{Duration, Instant};

/// A reply by the demo staff member through the staff API.
async fn staff_reply(env: &Env, code: &str, body: &str) {
    let token = env.api_token("staff@example.it").await;
    let resp = reqwest::Client::new()
        .post(env.url(&format!("/api/v1/staff/tickets/{code}/messages")))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "body": body }))
        .send()
        .await
        .expect("staff reply sent");
    assert_eq!(
        resp.status(),
        201,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

/// Waits at most `within` for a script to return true.
async fn within(env: &Env, within: Duration, what: &str, script: &str) {
    let deadline = Instant::now() + within;
    loop {
        if env.js(script).await == serde_json::Value::Bool(true) {
            return;
        }
        if Instant::now() > deadline {
            let page = env
                .js("return document.title + '\\n' + document.body.innerText")
                .await;
            panic!("{what} not within {within:?}; page: {page}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reply_shows_in_the_open_ticket_and_the_list_without_a_reload() {
    let env = start().await;
    let code = env
        .open_ticket(
            "Errore 500 sulla home di pizzeria-da-mario.it",
            "Da stamattina la home risponde 500; le altre pagine funzionano.",
        )
        .await;
    // Another ticket, to be looking at when news of the first comes.
    env.open_ticket(
        "Certificato scaduto su blog-mario.it",
        "Il browser dice che il certificato è scaduto.",
    )
    .await;
    env.login("demo@example.it").await;
    // A marker that a reload would lose.
    env.js("window.__same_page = true").await;

    // The list: the "awaiting your reply" count follows a staff reply.
    let awaiting = "accessibleName(byRoleContaining('tab', 'In attesa di una tua risposta')).match(/\\d+$/)[0]";
    env.wait_in("table", "pizzeria-da-mario.it").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before: u64 = env
        .js(&format!("return {awaiting}"))
        .await
        .as_str()
        .and_then(|s| s.trim().parse().ok())
        .expect("a count");
    staff_reply(&env, &code, "Stiamo verificando il server web.").await;
    within(
        &env,
        Duration::from_secs(2),
        "the list's count following the reply",
        &format!("return {awaiting}.trim() === '{}'", before + 1),
    )
    .await;

    // The open ticket: the reply is appended, and said to screen readers.
    env.click_role_containing("link", "Errore 500 sulla home di pizzeria-da-mario.it")
        .await;
    env.wait_in("region", "Stiamo verificando").await;
    staff_reply(&env, &code, "Abbiamo ripristinato il file index.php.").await;
    within(
        &env,
        Duration::from_secs(2),
        "the reply in the open ticket",
        "return byRole('region', 'Conversazione').innerText.includes('ripristinato il file index.php')",
    )
    .await;
    within(
        &env,
        Duration::from_secs(2),
        "the polite announcement",
        // The announcement is a live region, which has no role to find it by.
        "return [...document.querySelectorAll('[aria-live=polite]')].some(e => e.textContent.includes('Giulia'))",
    )
    .await;
    // Seen at once: the title has no count.
    assert_eq!(
        env.js("return /^\\(\\d+\\) /.test(document.title)").await,
        false
    );

    // News about a ticket that is not on screen: the title counts it.
    env.js("history.back()").await;
    env.wait_in("table", "pizzeria-da-mario.it").await;
    env.click_role("link", "Certificato scaduto su blog-mario.it")
        .await;
    env.wait_in("main", "Certificato scaduto").await;
    staff_reply(&env, &code, "Ora funziona?").await;
    within(
        &env,
        Duration::from_secs(2),
        "the title's count",
        "return document.title.startsWith('(1) ')",
    )
    .await;
    assert_eq!(env.js("return window.__same_page === true").await, true);
    env.stop().await;
}

/// The locks of this origin, as `[held, waiting]`.
async fn locks(env: &Env) -> serde_json::Value {
    env.js("return navigator.locks.query().then(s => [
             s.held.filter(l => l.name.startsWith('helpdesk.live.')).length,
             s.pending.filter(l => l.name.startsWith('helpdesk.live.')).length])")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_share_one_stream_and_the_second_takes_over_missing_nothing() {
    let env = start().await;
    let code = env
        .open_ticket(
            "Errore 500 sulla home di pizzeria-da-mario.it",
            "Da stamattina la home risponde 500; le altre pagine funzionano.",
        )
        .await;
    env.login("demo@example.it").await;
    let first = env.browser.window().await.expect("window");
    let tab = env.browser.new_window(true).await.expect("a new tab");
    env.browser
        .switch_to_window(tab.handle.clone())
        .await
        .expect("switch");
    env.goto(&format!("/tickets/{code}")).await;
    env.wait_in("main", &code).await;
    // One tab holds the stream, the other waits for it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while locks(&env).await != serde_json::json!([1, 1]) {
        assert!(Instant::now() < deadline, "locks: {}", locks(&env).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The stream's events reach the tab that does not hold it.
    staff_reply(&env, &code, "Stiamo verificando il server web.").await;
    within(
        &env,
        Duration::from_secs(2),
        "the reply through the leader's broadcast",
        "return byRole('region', 'Conversazione').innerText.includes('Stiamo verificando')",
    )
    .await;
    // The leader goes; a reply made before anyone holds the stream again still arrives (the
    // new leader asks for what came after the last event it saw).
    env.browser.switch_to_window(first).await.expect("back");
    env.browser.close_window().await.expect("closed");
    staff_reply(&env, &code, "Abbiamo ripristinato il file index.php.").await;
    env.browser
        .switch_to_window(tab.handle)
        .await
        .expect("switch");
    within(
        &env,
        Duration::from_secs(3),
        "the reply after the takeover",
        "return byRole('region', 'Conversazione').innerText.includes('ripristinato il file index.php')",
    )
    .await;
    assert_eq!(locks(&env).await, serde_json::json!([1, 0]));
    env.stop().await;
}
