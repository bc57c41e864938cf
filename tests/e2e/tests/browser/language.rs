//! The app's language: the browser's, the IT / EN switch (saved for a signed-in customer), the
//! panel's. Every page in English is walked in `accessibility.rs`.

use helpdesk_e2e::{start, start_in, start_with_panel};

#[tokio::test]
async fn an_english_browser_gets_english_from_the_first_view_and_an_other_one_italian() {
    let env = start_in("en-GB", |_| {}).await;
    env.goto("/login").await;
    env.wait_in("heading", "Sign in to customer support").await;
    assert_eq!(env.js("return document.documentElement.lang").await, "en");
    // The page's name, then the app's.
    env.until(
        "the login's title",
        "return document.title === 'Sign in – Customer support'",
    )
    .await;
    // The view before the app is in English too: seen with the app's wasm blocked, when it says
    // in English that the app could not be loaded.
    env.cdp("Network.enable", serde_json::json!({})).await;
    env.cdp(
        "Network.setBlockedURLs",
        serde_json::json!({"urls": ["*.wasm"]}),
    )
    .await;
    env.goto("/login").await;
    env.wait_in("alert", "Customer support could not be loaded")
        .await;
    assert_eq!(
        env.js("const b = byRole('status'); \
                return [b.innerText.includes('Customer support'), \
                        b.innerText.includes('Assistenza clienti'), \
                        document.documentElement.lang, document.title]")
            .await,
        serde_json::json!([true, false, "en", "Customer support"])
    );
    env.cdp("Network.setBlockedURLs", serde_json::json!({"urls": []}))
        .await;
    env.goto("/login").await;
    env.wait_in("heading", "Sign in to customer support").await;
    // Server sentences follow: a wrong password is said in English.
    env.fill_label("E-mail", "demo@example.it").await;
    env.fill_label("Password", "wrong").await;
    env.click_role("button", "Sign in").await;
    env.wait_in("alert", "Wrong e-mail or password").await;
    env.stop().await;

    // Neither Italian nor English: Italian.
    let env = start_in("de-DE", |_| {}).await;
    env.goto("/login").await;
    env.wait_in("heading", "Accedi all'assistenza").await;
    assert_eq!(env.js("return document.documentElement.lang").await, "it");
    env.stop().await;
}

#[tokio::test]
async fn the_switch_changes_every_text_at_once_and_a_signed_in_choice_is_saved() {
    let env = start().await;
    env.goto("/login").await;
    env.wait_in("heading", "Accedi all'assistenza").await;
    // Typed before the switch, kept across it.
    env.fill_label("E-mail", "demo@example.it").await;
    env.click_role_containing("button", "English").await;
    env.wait_in("heading", "Sign in to customer support").await;
    assert_eq!(
        env.by_role_containing("button", "English")
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .unwrap_or_default(),
        "true"
    );
    assert_eq!(
        env.by_label("E-mail")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default(),
        "demo@example.it"
    );
    // Chosen before logging in: this visit's, not saved for the account.
    env.fill_label("Password", "demo-password").await;
    env.click_role("button", "Sign in").await;
    env.wait_in("heading", "My tickets").await;
    env.wait_in("table", "Errore 500 su blog-mario.it").await;
    assert_eq!(
        env.saved_language("demo@example.it").await,
        serde_json::Value::Null
    );
    // A ticket's page, then back to Italian and to English: its dates and labels follow.
    env.click_role_containing("link", "Errore 500 su blog-mario.it")
        .await;
    env.wait_in("main", "Conversation").await;
    env.click_role_containing("button", "Italiano").await;
    env.wait_in("main", "Conversazione").await;
    env.wait_in("region", "Tu").await;
    assert_eq!(env.saved_language("demo@example.it").await, "it");
    env.click_role_containing("button", "English").await;
    env.wait_in("region", "You").await;
    env.until(
        "the choice is saved",
        "return document.documentElement.lang === 'en'",
    )
    .await;
    for _ in 0..50 {
        if env.saved_language("demo@example.it").await == "en" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(env.saved_language("demo@example.it").await, "en");
    // Another visit (this tab's choice forgotten), still signed in: the saved choice wins over
    // the Italian browser.
    env.js("sessionStorage.clear(); location.href = location.origin + location.pathname;")
        .await;
    env.wait_in("main", "Conversation").await;
    env.stop().await;
}

#[tokio::test]
async fn the_panels_language_comes_first_and_follows_its_command() {
    let env = start_with_panel().await;
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.js("Helpdesk('locale', 'en'); return true;").await;
    env.launcher().await.click().await.unwrap();
    env.enter_widget().await;
    env.wait_in("main", "My tickets").await;
    env.wait_in("main", "Errore 500 su blog-mario.it").await;
    env.leave_widget().await;
    env.js("Helpdesk('locale', 'it'); return true;").await;
    env.enter_widget().await;
    env.wait_in("main", "I miei ticket").await;
    env.leave_widget().await;
    env.stop().await;
}
