use helpdesk_e2e::{start, start_with};
use helpdesk_server::storage::prelude::*;

#[tokio::test]
async fn the_demo_customer_logs_in_and_sees_their_tickets() {
    let env = start().await;
    env.goto("/").await;
    // Without a session the app asks to log in first.
    env.find("#login-email").await;
    assert!(env
        .browser
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/login"));
    env.login("demo@example.it").await;
    let table = env
        .wait_text("table.tickets", "Errore 500 su blog-mario.it")
        .await;
    assert!(table.contains("VPS vps-0042 non raggiungibile"), "{table}");
    assert!(table.contains("in attesa di una tua risposta"), "{table}");
    assert!(
        !table.contains("bianchi-arredi"),
        "another customer's ticket is shown: {table}"
    );
    let top = env.wait_text("header.topbar", "Mario Rossi").await;
    assert!(top.contains("Esci"));
    env.stop().await;
}

#[tokio::test]
async fn another_customer_sees_only_their_own_tickets() {
    let env = start().await;
    env.login("altro@example.it").await;
    let table = env
        .wait_text("table.tickets", "Certificato SSL scaduto")
        .await;
    assert!(!table.contains("blog-mario.it"), "{table}");
    assert!(!table.contains("vps-0042"), "{table}");
    env.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_explained_in_italian_and_nothing_is_lost() {
    let env = start().await;
    env.goto("/login").await;
    env.fill("#login-email", "demo@example.it").await;
    env.fill("#login-password", "sbagliata").await;
    env.click("form button[type=submit]").await;
    let alert = env.wait_text("[role=alert]", "non corretti").await;
    assert!(alert.contains("E-mail o password"), "{alert}");
    // Focus is on the password, ready to type it again, never lost to the page.
    let focused = env
        .js("return document.activeElement && document.activeElement.id")
        .await;
    assert_eq!(focused, "login-password");
    // Submitting with a field left empty puts focus on the first empty one.
    env.goto("/login").await;
    env.find("#login-email")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("Enter");
    env.wait_text("[role=alert]", "Compila e-mail e password")
        .await;
    let focused = env
        .js("return document.activeElement && document.activeElement.id")
        .await;
    assert_eq!(focused, "login-email");
    env.find("#login-email")
        .await
        .send_keys("demo@example.it\u{E007}")
        .await
        .expect("typed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let focused = env
            .js("return document.activeElement && document.activeElement.id")
            .await;
        if focused == "login-password" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "focus went to {focused}, not to the empty password"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let email = env.find("#login-email").await.prop("value").await.unwrap();
    assert_eq!(email.as_deref(), Some("demo@example.it"));
    env.stop().await;
}

#[tokio::test]
async fn the_session_survives_a_reload_and_ends_at_logout() {
    let env = start().await;
    env.login("demo@example.it").await;
    env.browser.refresh().await.unwrap();
    env.wait_text("table.tickets", "Errore 500").await;
    env.click("header.topbar .who button").await;
    env.find("#login-email").await;
    env.browser.refresh().await.unwrap();
    env.find("#login-email").await;
    let stored = env
        .js("return sessionStorage.getItem('helpdesk.session') || localStorage.getItem('helpdesk.session')")
        .await;
    assert!(stored.is_null(), "the token is forgotten at logout");
    env.stop().await;
}

#[tokio::test]
async fn an_expired_session_brings_back_the_login_and_then_the_same_page() {
    let env = start().await;
    env.login("demo@example.it").await;
    env.goto("/email-rifiutate").await;
    env.find("main h1").await;
    // The server forgets every session, as after an expiry.
    let state = env.server.as_ref().unwrap().state.clone();
    sqlx_free_delete_sessions(&state).await;
    env.browser.refresh().await.unwrap();
    env.find("#login-email").await;
    env.fill("#login-email", "demo@example.it").await;
    env.fill("#login-password", "demo-password").await;
    env.click("form button[type=submit]").await;
    env.wait_text("main", "E-mail non accettate").await;
    // The page's list loads (its answer, empty or not, replaces the loading line).
    env.find("main ul.rejections, main p.empty").await;
    assert_eq!(
        env.js("return document.querySelector('main .loading') === null")
            .await,
        true
    );
    assert!(env
        .browser
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/email-rifiutate"));
    env.stop().await;
}

async fn sqlx_free_delete_sessions(state: &helpdesk_server::state::AppState) {
    state
        .store
        .delete_all_sessions()
        .await
        .expect("sessions deleted");
}

#[tokio::test]
async fn the_app_works_under_the_providers_base_path_and_links_open_in_place() {
    let env = start_with(|c| c.base_path = "/PanelNML".into()).await;
    env.goto("/").await;
    env.find("#login-email").await;
    assert!(env
        .browser
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/PanelNML/login"));
    env.login("demo@example.it").await;
    env.wait_text("table.tickets", "Errore 500").await;

    // Links open pages in place (no reload: a mark left on the window survives), below the
    // base path, and the open section is marked for assistive technology.
    env.js("window.__samePage = true; return null").await;
    let path = || async { env.browser.current_url().await.unwrap().path().to_string() };
    env.click("header.topbar nav a[href='/PanelNML/nuovo']")
        .await;
    env.wait_text("main", "Passo 1 di 7").await;
    assert_eq!(path().await, "/PanelNML/nuovo");
    let current = env
        .js("return document.querySelector('header nav a[aria-current=page]').textContent")
        .await;
    assert_eq!(current, "Apri un ticket");

    // Back returns to the list; a ticket's link opens its thread.
    env.browser.back().await.unwrap();
    env.wait_text("table.tickets", "Errore 500").await;
    assert_eq!(path().await, "/PanelNML/");
    env.click("table.tickets a").await;
    env.find("ol.thread li").await;
    assert!(path().await.starts_with("/PanelNML/tickets/"));
    assert_eq!(env.js("return window.__samePage === true").await, true);

    // An address the app does not know says so, with a way back.
    env.goto("/non-esiste").await;
    env.wait_text("main", "Pagina non trovata").await;
    env.click("main a").await;
    env.wait_text("table.tickets", "Errore 500").await;
    // A ticket's address whose code is not a ticket code is not a page either: no request for
    // it, the same page not found.
    env.goto("/tickets/abc").await;
    env.wait_text("main", "Pagina non trovata").await;
    env.stop().await;
}
