use helpdesk_e2e::{start, start_with};
use helpdesk_server::storage::prelude::*;

#[tokio::test]
async fn the_demo_customer_logs_in_and_sees_their_tickets() {
    let env = start().await;
    env.goto("/").await;
    // Without a session the app asks to log in first.
    env.by_label("E-mail").await;
    assert!(env
        .browser
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/login"));
    env.login("demo@example.it").await;
    let table = env.wait_in("table", "Errore 500 su blog-mario.it").await;
    assert!(table.contains("VPS vps-0042 non raggiungibile"), "{table}");
    assert!(table.contains("in attesa di una tua risposta"), "{table}");
    assert!(
        !table.contains("bianchi-arredi"),
        "another customer's ticket is shown: {table}"
    );
    let top = env.wait_in("banner", "Mario Rossi").await;
    assert!(top.contains("Esci"));
    env.stop().await;
}

#[tokio::test]
async fn another_customer_sees_only_their_own_tickets() {
    let env = start().await;
    env.login("altro@example.it").await;
    let table = env.wait_in("table", "Certificato SSL scaduto").await;
    assert!(!table.contains("blog-mario.it"), "{table}");
    assert!(!table.contains("vps-0042"), "{table}");
    env.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_explained_in_italian_and_nothing_is_lost() {
    let env = start().await;
    env.goto("/login").await;
    env.fill_label("E-mail", "demo@example.it").await;
    env.fill_label("Password", "sbagliata").await;
    env.click_role("button", "Accedi").await;
    let alert = env.wait_in("alert", "non corretti").await;
    assert!(alert.contains("E-mail o password"), "{alert}");
    // Focus is on the password, ready to type it again, never lost to the page.
    assert!(env.is_focused(&env.by_label("Password").await).await);
    // Submitting with a field left empty puts focus on the first empty one.
    env.goto("/login").await;
    env.by_label("E-mail")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("Enter");
    env.wait_in("alert", "Compila e-mail e password").await;
    assert!(env.is_focused(&env.by_label("E-mail").await).await);
    env.by_label("E-mail")
        .await
        .send_keys("demo@example.it\u{E007}")
        .await
        .expect("typed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if env.is_focused(&env.by_label("Password").await).await {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "focus never went to the empty password"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let email = env.by_label("E-mail").await.prop("value").await.unwrap();
    assert_eq!(email.as_deref(), Some("demo@example.it"));
    env.stop().await;
}

#[tokio::test]
async fn the_session_survives_a_reload_and_ends_at_logout() {
    let env = start().await;
    env.login("demo@example.it").await;
    env.browser.refresh().await.unwrap();
    env.wait_in("table", "Errore 500").await;
    env.click_role("button", "Esci").await;
    env.by_label("E-mail").await;
    env.browser.refresh().await.unwrap();
    env.by_label("E-mail").await;
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
    env.by_role_any("heading").await;
    // The server forgets every session, as after an expiry.
    let state = env.server.as_ref().unwrap().state.clone();
    sqlx_free_delete_sessions(&state).await;
    env.browser.refresh().await.unwrap();
    env.by_label("E-mail").await;
    env.submit_login("demo@example.it").await;
    env.wait_in("main", "E-mail non accettate").await;
    // The page's list loads (its answer, empty or not, replaces the loading line).
    env.until(
        "the rejected mail loaded",
        "return byRole('status', 'Caricamento…', byRole('main')) === null \
         && (byRole('list', null, byRole('main')) !== null \
             || byText('Nessuna e-mail', byRole('main')) !== null)",
    )
    .await;
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
    env.by_label("E-mail").await;
    assert!(env
        .browser
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/PanelNML/login"));
    env.login("demo@example.it").await;
    env.wait_in("table", "Errore 500").await;

    // Links open pages in place (no reload: a mark left on the window survives), below the
    // base path, and the open section is marked for assistive technology.
    env.js("window.__samePage = true; return null").await;
    let path = || async { env.browser.current_url().await.unwrap().path().to_string() };
    env.click_role("link", "Apri un ticket").await;
    env.wait_in("main", "Passo 1 di 7").await;
    assert_eq!(path().await, "/PanelNML/nuovo");
    let current = env
        .js("return byRole('navigation', 'Principale').querySelector('[aria-current=page]').textContent")
        .await;
    assert_eq!(current, "Apri un ticket");

    // Back returns to the list; a ticket's link opens its thread.
    env.browser.back().await.unwrap();
    env.wait_in("table", "Errore 500").await;
    assert_eq!(path().await, "/PanelNML/");
    env.click_role_containing("link", "Errore 500 su blog-mario.it")
        .await;
    env.thread_items().await;
    assert!(path().await.starts_with("/PanelNML/tickets/"));
    assert_eq!(env.js("return window.__samePage === true").await, true);

    // An address the app does not know says so, with a way back.
    env.goto("/non-esiste").await;
    env.wait_in("main", "Pagina non trovata").await;
    env.click_role("link", "Torna ai tuoi ticket").await;
    env.wait_in("table", "Errore 500").await;
    // A ticket's address whose code is not a ticket code is not a page either: no request for
    // it, the same page not found.
    env.goto("/tickets/abc").await;
    env.wait_in("main", "Pagina non trovata").await;
    env.stop().await;
}

/// Submits the login form once and waits for its answer (the alert's text may be the same as
/// before: the answer is known by the request's timing entry and the button no longer busy).
async fn submit_and_read_alert(env: &helpdesk_e2e::Env) -> String {
    let count = "return performance.getEntriesByType('resource') \
                 .filter(e => e.name.endsWith('/api/v1/session')).length";
    let before = env.js(count).await.as_u64().unwrap_or(0);
    let button = env.sign_in().await;
    env.click_role("button", button).await;
    let answered = format!(
        "{count} > {before} && byRole('button', '{button}')?.getAttribute('aria-busy') === 'false'"
    );
    env.until("the login's answer", &answered).await;
    let alerts = env
        .js("return allByRole('alert').map(a => a.innerText)")
        .await;
    let alerts = alerts.as_array().cloned().unwrap_or_default();
    assert_eq!(alerts.len(), 1, "one alert says it all: {alerts:?}");
    alerts[0].as_str().unwrap_or_default().to_string()
}

/// The reset link inside the alert, found by its text: its address.
async fn reset_link_in_alert(env: &helpdesk_e2e::Env, text: &str) -> Option<String> {
    let found = env
        .js(&format!(
            "const a = allByRole('alert').map(al => byRole('link', {text:?}, al)).find(a => a); \
             return a ? a.href : null"
        ))
        .await;
    found.as_str().map(str::to_string)
}

/// Wrong passwords until the lock, as a customer meets them: no warning while many attempts are
/// left, then how many are left and how long the lock would last, in the same alert as the
/// error; then that the lock holds, with the panel's password reset as the way out.
async fn wrong_passwords_until_the_lock(
    lang: &str,
    email: &str,
    expected: [&str; 6],
    reset_text: &str,
) {
    let env = helpdesk_e2e::start_in(lang, |c| {
        c.login_failure_floor = std::time::Duration::ZERO;
    })
    .await;
    env.goto("/login").await;
    env.fill_label("E-mail", email).await;
    for (i, want) in expected.iter().enumerate() {
        env.fill_label("Password", &format!("sbagliata{i}")).await;
        let alert = submit_and_read_alert(&env).await;
        assert!(
            alert.starts_with(want),
            "attempt {}: {alert:?} does not start with {want:?}",
            i + 1
        );
        let link = reset_link_in_alert(&env, reset_text).await;
        if i >= 4 {
            assert_eq!(
                link.as_deref(),
                Some("https://panel.example/reset"),
                "attempt {}: the way out is in the alert",
                i + 1
            );
        } else {
            assert_eq!(link, None, "attempt {}: no reset link yet", i + 1);
        }
        // The password is where to type again.
        assert!(
            env.is_focused(&env.by_label("Password").await).await,
            "attempt {}: the password has the focus",
            i + 1
        );
    }
    env.stop().await;
}

#[tokio::test]
async fn wrong_passwords_warn_before_the_lock_and_the_lock_offers_the_reset_in_italian() {
    wrong_passwords_until_the_lock(
        "it-IT",
        "demo@example.it",
        [
            "E-mail o password non corretti. Controlla e riprova.",
            "E-mail o password non corretti. Controlla e riprova.",
            "E-mail o password non corretti. Controlla e riprova. Ancora 2 tentativi, poi l'accesso si blocca per 15 minuti.",
            "E-mail o password non corretti. Controlla e riprova. Ancora un tentativo, poi l'accesso si blocca per 15 minuti.",
            "E-mail o password non corretti. L'accesso è bloccato per 15 minuti.",
            "Troppi tentativi di accesso. Riprova tra 15 minuti.",
        ],
        "Reimpostala dal pannello di controllo",
    )
    .await;
}

/// In English, and for an e-mail that is nobody's: the same steps (no telling accounts apart).
#[tokio::test]
async fn wrong_passwords_warn_before_the_lock_in_english_for_an_unknown_email_too() {
    wrong_passwords_until_the_lock(
        "en-GB",
        "nobody@example.com",
        [
            "Wrong e-mail or password. Check them and try again.",
            "Wrong e-mail or password. Check them and try again.",
            "Wrong e-mail or password. Check them and try again. 2 more attempts, then sign-in is blocked for 15 minutes.",
            "Wrong e-mail or password. Check them and try again. One more attempt, then sign-in is blocked for 15 minutes.",
            "Wrong e-mail or password. Sign-in is blocked for 15 minutes.",
            "Too many sign-in attempts. Try again in 15 minutes.",
        ],
        "Reset it in the control panel",
    )
    .await;
}
