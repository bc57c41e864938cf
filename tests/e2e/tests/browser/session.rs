//! The session as a customer who comes back from an e-mail meets it: the link leads to the ticket,
//! and on the helpdesk's own page a new tab needs no second login.

use helpdesk_e2e::start;
use helpdesk_server::storage::prelude::*;

/// A ticket of the demo customer, through the API.
async fn a_ticket_code(env: &helpdesk_e2e::Env) -> String {
    let token = env.api_token("demo@example.it").await;
    let list: serde_json::Value = reqwest::Client::new()
        .get(env.url("/api/v1/tickets"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    list["items"][0]["code"]
        .as_str()
        .expect("a ticket")
        .to_string()
}

#[tokio::test]
async fn the_link_in_a_notification_leads_to_the_ticket_after_the_login() {
    let env = start().await;
    let code = a_ticket_code(&env).await;
    // As the e-mail's link opens it: no session in this browser yet.
    env.goto(&format!("/tickets/{code}")).await;
    env.submit_login("demo@example.it").await;
    let head = env.wait_in("main", &code).await;
    assert!(
        env.browser
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with(&format!("/tickets/{code}")),
        "the customer lands on the ticket, not on the list: {head}"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_new_tab_on_the_helpdesks_own_page_needs_no_second_login() {
    let env = start().await;
    let code = a_ticket_code(&env).await;
    env.login("demo@example.it").await;
    let first = env.browser.window().await.expect("window");
    let tab = env.browser.new_window(true).await.expect("a new tab");
    env.browser
        .switch_to_window(tab.handle)
        .await
        .expect("switch");
    env.goto(&format!("/tickets/{code}")).await;
    env.wait_in("main", &code).await;
    assert!(
        env.js("return byLabel('E-mail') === null").await == true,
        "no login form in the second tab"
    );
    // Logging out in one tab ends the session for the others at their next request.
    env.click_role("button", "Esci").await;
    env.by_label("E-mail").await;
    env.browser.switch_to_window(first).await.expect("back");
    env.browser.refresh().await.expect("reload");
    env.by_label("E-mail").await;
    env.stop().await;
}

#[tokio::test]
async fn a_session_left_idle_for_hours_is_forgotten() {
    let env = start().await;
    env.login("demo@example.it").await;
    // As if the last activity was three hours ago.
    env.js(
        "const k = 'helpdesk.session'; const s = JSON.parse(localStorage.getItem(k)); \
         s.active_ms = Date.now() - 3 * 3600 * 1000; localStorage.setItem(k, JSON.stringify(s));",
    )
    .await;
    env.browser.refresh().await.expect("reload");
    env.by_label("E-mail").await;
    let stored = env
        .js("return localStorage.getItem('helpdesk.session')")
        .await;
    assert!(stored.is_null(), "the idle session is removed: {stored}");
    env.stop().await;
}

/// A wizard draft of the demo customer, written where the app keeps it, at `step`: the wizard
/// opens there (its earlier steps are the wizard's own tests). Returns the customer's id.
pub(crate) async fn seed_wizard_draft(
    env: &helpdesk_e2e::Env,
    step: &str,
    subject: &str,
) -> String {
    let client = reqwest::Client::new();
    let token = env.api_token("demo@example.it").await;
    let get = |path: &str| client.get(env.url(path)).bearer_auth(&token).send();
    let me: serde_json::Value = get("/api/v1/me")
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let services: serde_json::Value = get("/api/v1/services")
        .await
        .expect("services")
        .json()
        .await
        .expect("json");
    let service = services["items"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["identifier"] == "blog-mario.it"))
        .and_then(|s| s["id"].as_str())
        .expect("the demo customer's blog-mario.it")
        .to_string();
    let id = me["id"].as_str().expect("the customer's id").to_string();
    let draft = serde_json::json!({
        "step": step,
        "department": "helpdesk",
        "service_id": service,
        "subject": subject,
        "description": "Da stamattina alle 9 la home risponde con un errore 500; le altre pagine funzionano.",
        "priority": "normal",
        "idempotency_key": format!("e2e-{}", std::process::id()),
    });
    env.js(&format!(
        "localStorage.setItem({:?}, {:?}); return null",
        format!("helpdesk.draft.{id}.wizard"),
        draft.to_string()
    ))
    .await;
    id
}

/// The session ends on the server while the customer is on the wizard's attachments step, and
/// the next thing they do is pick a file: the login says why, and after it the wizard is back
/// with the file. With `reload`, the page is reloaded at the login (the file itself is gone
/// then): the wizard names it, to be picked again.
async fn a_session_ended_in_the_wizard(lang: &str, reload: bool, why: &str, after: &str) {
    let env = helpdesk_e2e::start_in(lang, |_| {}).await;
    env.login("demo@example.it").await;
    let customer = seed_wizard_draft(
        &env,
        "Attachments",
        "Errore 500 sulla home di blog-mario.it",
    )
    .await;
    env.goto("/nuovo").await;
    let input = env.file_picker().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("errore-home.log");
    std::fs::write(
        &file,
        "PHP Fatal error: Uncaught Error in index.php:42\n".repeat(20),
    )
    .unwrap();

    // Logged out elsewhere, or expired: the server knows the token no more.
    env.server
        .as_ref()
        .unwrap()
        .state
        .store
        .delete_all_sessions()
        .await
        .expect("sessions deleted");
    input
        .send_keys(&file.display().to_string())
        .await
        .expect("file picked");

    let alert = env.wait_in("alert", why).await;
    assert_eq!(alert.trim(), why);
    if reload {
        env.browser.refresh().await.expect("reload");
    }
    env.submit_login("demo@example.it").await;
    // Back in the wizard, on the step the customer left.
    env.file_picker().await;
    assert!(env
        .browser
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/nuovo"));
    if reload {
        let note = env.wait_in("status", after).await;
        assert!(note.contains("errore-home.log"), "{note}");
    } else {
        // The file picked before the login is uploaded now, and kept in the draft.
        env.until(
            "the picked file is uploaded after the login",
            &format!(
                "const row = allByRole('listitem') \
                 .find(li => li.innerText.includes('errore-home.log')); \
                 return !!row && row.innerText.includes({after:?}) \
                 && (localStorage.getItem('helpdesk.draft.{customer}.wizard') || '').includes('errore-home.log')"
            ),
        )
        .await;
    }
    env.stop().await;
}

#[tokio::test]
async fn a_session_ended_in_the_wizard_says_why_and_uploads_the_picked_file_after_the_login() {
    a_session_ended_in_the_wizard(
        "it-IT",
        false,
        "La sessione è scaduta: accedi di nuovo, la bozza è salva.",
        "Caricato",
    )
    .await;
}

#[tokio::test]
async fn a_session_ended_in_the_wizard_then_a_reload_names_the_file_to_pick_again_in_english() {
    a_session_ended_in_the_wizard(
        "en-GB",
        true,
        "Your session has expired: sign in again, your draft is saved.",
        "Your session expired before the upload: pick errore-home.log again.",
    )
    .await;
}
