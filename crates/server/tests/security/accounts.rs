//! Attacks on accounts through the login: locking the owner out, hiding behind a forged
//! `X-Forwarded-For`, telling accounts from unknown e-mails by timing, and sessions that outlive a
//! password change.

use crate::helpers::{spawn_with, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn client_from(address: &str) -> Client {
    Client::builder()
        .local_address(address.parse::<IpAddr>().ok())
        .build()
        .expect("client")
}

/// One login attempt; the status and the device cookie it set, if any.
async fn attempt(
    app: &TestApp,
    client: &Client,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Option<String>) {
    let mut req = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": password}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("login answered");
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    (r.status(), cookie)
}

async fn import(app: &TestApp, email: &str, hash: &str) {
    let file = helpdesk_server::import::parse(
        &json!({"customers": [{"email": email, "name": "Anna Verdi", "password_hash": hash}]})
            .to_string(),
    )
    .expect("import file");
    helpdesk_server::import::import(&app.state().store, &file)
        .await
        .expect("imported");
}

#[tokio::test]
async fn a_browser_that_logged_in_before_is_not_locked_out_by_others_failures() {
    let app = spawn_with(|c| c.login_failure_floor = Duration::ZERO).await;
    let own = client_from("127.0.0.2");
    let (status, device) = attempt(&app, &own, "demo@example.it", "demo-password", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let device = device.expect("a successful login remembers the browser");
    assert!(device.starts_with("hd_device="), "{device}");

    // Someone else guesses the customer's password until the account is locked.
    let attacker = client_from("127.0.0.3");
    let mut last = StatusCode::OK;
    for i in 0..6 {
        last = attempt(
            &app,
            &attacker,
            "demo@example.it",
            &format!("guess{i}"),
            &[],
        )
        .await
        .0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "the account is locked");
    let (fresh, _) = attempt(
        &app,
        &client_from("127.0.0.4"),
        "demo@example.it",
        "demo-password",
        &[],
    )
    .await;
    assert_eq!(
        fresh,
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown browser waits"
    );

    // The customer's own browser still gets in, even from the attacker's address.
    for from in ["127.0.0.2", "127.0.0.3"] {
        let (status, _) = attempt(
            &app,
            &client_from(from),
            "demo@example.it",
            "demo-password",
            &[("cookie", &device)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "own browser from {from}");
    }

    // A stolen cookie is no master key: wrong passwords through it are throttled, and then the
    // browser is known no more.
    for i in 0..5 {
        let (s, _) = attempt(
            &app,
            &attacker,
            "demo@example.it",
            &format!("again{i}"),
            &[("cookie", &device)],
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, _) = attempt(
        &app,
        &own,
        "demo@example.it",
        "demo-password",
        &[("cookie", &device)],
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    // Behind our proxy (127.0.0.1), failures count per real client.
    let app = spawn_with(|c| {
        c.login_failure_floor = Duration::ZERO;
        c.trusted_proxies = helpdesk_server::guard::parse_trusted_proxies("127.0.0.1").unwrap();
    })
    .await;
    let proxy = client_from("127.0.0.1");
    for i in 0..30 {
        let (s, _) = attempt(
            &app,
            &proxy,
            &format!("nobody{i}@example.org"),
            "x",
            &[("x-forwarded-for", "198.51.100.1")],
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (locked, _) = attempt(
        &app,
        &proxy,
        "someone@example.org",
        "x",
        &[("x-forwarded-for", "198.51.100.1")],
    )
    .await;
    assert_eq!(
        locked,
        StatusCode::TOO_MANY_REQUESTS,
        "that client is locked"
    );
    let (other, _) = attempt(
        &app,
        &proxy,
        "demo@example.it",
        "demo-password",
        &[("x-forwarded-for", "198.51.100.2")],
    )
    .await;
    assert_eq!(
        other,
        StatusCode::OK,
        "everyone else behind the proxy gets in"
    );
    app.stop().await;

    // Without trusted proxies a client cannot escape its own count by writing the header.
    let app = spawn_with(|c| c.login_failure_floor = Duration::ZERO).await;
    let direct = client_from("127.0.0.5");
    for i in 0..30 {
        let forged = format!("203.0.113.{i}");
        attempt(
            &app,
            &direct,
            &format!("nobody{i}@example.org"),
            "x",
            &[("x-forwarded-for", &forged)],
        )
        .await;
    }
    let (s, _) = attempt(
        &app,
        &direct,
        "nobody@example.org",
        "x",
        &[("x-forwarded-for", "203.0.113.200")],
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn an_account_with_a_bcrypt_hash_cannot_be_told_from_an_unknown_email_by_timing() {
    let app = spawn_with(|_| {}).await;
    // The panel's bcrypt at cost 10, as imported accounts carry it.
    let hash = bcrypt::hash("vecchia-password", 10).expect("bcrypt");
    import(&app, "bcrypt@example.it", &hash).await;
    let client = client_from("127.0.0.6");
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..4 {
        let started = Instant::now();
        let (s, _) = attempt(&app, &client, "bcrypt@example.it", "sbagliata", &[]).await;
        known.push(started.elapsed());
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let started = Instant::now();
        let (s, _) = attempt(&app, &client, &format!("ghost{i}@example.it"), "x", &[]).await;
        unknown.push(started.elapsed());
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (k, u) = (median(known), median(unknown));
    eprintln!("failure timing: bcrypt account {k:?}, unknown e-mail {u:?}");
    let gap = k.abs_diff(u);
    assert!(
        gap < Duration::from_millis(50),
        "bcrypt account {k:?} against unknown e-mail {u:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_new_password_from_the_panel_ends_every_session() {
    let app = spawn_with(|_| {}).await;
    let first = helpdesk_server::auth::hash_password("prima-password").expect("hash");
    import(&app, "cambio@example.it", &first).await;
    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "cambio@example.it", "password": "prima-password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<serde_json::Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(app.get(&token, "/api/v1/me").await.status(), StatusCode::OK);

    // Importing the same hash again changes nothing.
    import(&app, "cambio@example.it", &first).await;
    assert_eq!(app.get(&token, "/api/v1/me").await.status(), StatusCode::OK);

    let second = helpdesk_server::auth::hash_password("seconda-password").expect("hash");
    import(&app, "cambio@example.it", &second).await;
    assert_eq!(
        app.get(&token, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "the old session ends with the old password"
    );
    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "cambio@example.it", "password": "seconda-password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}
