//! The session as a customer who comes back from an e-mail meets it: the link leads to the ticket,
//! and on the helpdesk's own page a new tab needs no second login.

use helpdesk_e2e::start;

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
    env.fill("#login-email", "demo@example.it").await;
    env.fill("#login-password", "demo-password").await;
    env.click("form button[type=submit]").await;
    let head = env.wait_text("main", &code).await;
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
    env.wait_text("main", &code).await;
    assert!(
        env.browser
            .find(helpdesk_e2e::fantoccini::Locator::Css("#login-email"))
            .await
            .is_err(),
        "no login form in the second tab"
    );
    // Logging out in one tab ends the session for the others at their next request.
    env.click("header.topbar .who button").await;
    env.find("#login-email").await;
    env.browser.switch_to_window(first).await.expect("back");
    env.browser.refresh().await.expect("reload");
    env.find("#login-email").await;
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
    env.find("#login-email").await;
    let stored = env
        .js("return localStorage.getItem('helpdesk.session')")
        .await;
    assert!(stored.is_null(), "the idle session is removed: {stored}");
    env.stop().await;
}
