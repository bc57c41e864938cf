use crate::helpers::{error_code, spawn_app, spawn_with};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn a_demo_customer_logs_in_sees_who_they_are_and_logs_out() {
    let app = spawn_app().await;
    let token = app.login("demo@example.it").await;
    assert!(token.len() >= 43, "token carries at least 128 bits");
    let me: Value = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(me["email"], "demo@example.it");
    assert_eq!(me["role"], "customer");

    let r = app
        .client
        .delete(app.url("/api/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, code, _) = error_code(app.get(&token, "/api/v1/me").await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_email_and_wrong_password_answer_the_same() {
    let app = spawn_app().await;
    let mut answers = Vec::new();
    for (email, password) in [
        ("demo@example.it", "wrong"),
        ("nobody@example.it", "demo-password"),
    ] {
        let r = app
            .client
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        let (status, code, body) = error_code(r).await;
        answers.push((status, code, body["error"]["message"].clone()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let app = spawn_app().await;
    let mut last = None;
    for _ in 0..6 {
        last = Some(
            app.client
                .post(app.url("/api/v1/session"))
                .json(&json!({"email": "demo@example.it", "password": "nope"}))
                .send()
                .await
                .unwrap(),
        );
    }
    let r = last.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0);
    let (_, code, body) = error_code(r).await;
    assert_eq!(code, "too_many_attempts");
    assert!(body["error"]["retry_after"].as_u64().unwrap() > 0);
    // Even the right password waits.
    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "demo@example.it", "password": "demo-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

/// What one login attempt answered: status, code, sentence, `attempts_left`, whether
/// `lockout_secs` came, and whether a `Retry-After` header came.
async fn login_answer(
    app: &crate::helpers::TestApp,
    email: &str,
    password: &str,
    language: &str,
) -> (StatusCode, String, String, Option<u64>, bool, bool) {
    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .header("accept-language", language)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let retry_after_header = r.headers().contains_key("retry-after");
    let (status, code, body) = error_code(r).await;
    let e = &body["error"];
    (
        status,
        code,
        e["message"].as_str().unwrap_or_default().to_string(),
        e["attempts_left"].as_u64(),
        e["lockout_secs"]
            .as_u64()
            .is_some_and(|s| (1..=900).contains(&s)),
        retry_after_header,
    )
}

#[tokio::test]
async fn a_login_warns_before_the_lock_in_the_same_words_for_an_unknown_email() {
    let app = spawn_with(|c| c.login_failure_floor = std::time::Duration::ZERO).await;
    let mut runs = Vec::new();
    // Each e-mail from its own address would be fairer to the address throttle (30), but it is
    // far from its limit here: the account's count (5 per e-mail) is the one that warns.
    for email in ["demo@example.it", "nessuno@example.it"] {
        let mut answers = Vec::new();
        for i in 0..6 {
            answers.push(login_answer(&app, email, &format!("sbagliata{i}"), "it").await);
        }
        runs.push(answers);
    }
    assert_eq!(
        runs[0], runs[1],
        "a customer's e-mail and an unknown one answer alike"
    );
    let answers = &runs[0];
    for a in &answers[..2] {
        assert_eq!(
            (a.0, a.1.as_str(), a.3, a.4, a.5),
            (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                None,
                false,
                false
            ),
            "no warning while many attempts are left: {a:?}"
        );
        assert_eq!(a.2, "E-mail o password non corretti.");
    }
    assert_eq!(answers[2].3, Some(2));
    assert!(answers[2].4, "the lock's length comes with the warning");
    assert_eq!(
        answers[2].2,
        "E-mail o password non corretti. Ancora 2 tentativi, poi l'accesso si blocca per 15 minuti."
    );
    assert_eq!(answers[3].3, Some(1));
    assert!(
        answers[3].2.contains("Ancora un tentativo"),
        "{:?}",
        answers[3]
    );
    // The fifth failure is the last one checked: it says that the lock holds now, and the way out.
    assert_eq!(
        (answers[4].0, answers[4].3),
        (StatusCode::UNAUTHORIZED, Some(0))
    );
    assert!(
        answers[4].2.contains("bloccato per 15 minuti"),
        "{:?}",
        answers[4]
    );
    assert!(answers[4].2.contains("reimpostala"), "{:?}", answers[4]);
    assert!(!answers[4].5, "a 401 carries no Retry-After");
    assert_eq!(
        (answers[5].0, answers[5].1.as_str(), answers[5].5),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", true)
    );

    // In English, for a third e-mail (its own count).
    let mut english = Vec::new();
    for i in 0..3 {
        english.push(login_answer(&app, "someone@example.com", &format!("x{i}"), "en-GB").await);
    }
    assert_eq!(
        english[2].2,
        "Wrong e-mail or password. 2 more attempts, then sign-in is blocked for 15 minutes."
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_the_one_error_shape() {
    let app = spawn_app().await;
    let send = |body: &'static str, ctype: &'static str| {
        app.client
            .post(app.url("/api/v1/session"))
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let (s, c, _) = error_code(send("{not json", "application/json").await.unwrap()).await;
    assert_eq!((s, c.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    let (s, c, v) = error_code(
        send(
            r#"{"email":"a@b.it","password":"x","colour":"red"}"#,
            "application/json",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    assert_eq!(v["error"]["fields"]["colour"], "unknown_field");
    let (s, _, _) = error_code(
        send("email=a", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!(
        r#"{{"email":"a@b.it","password":"{}"}}"#,
        "x".repeat(600 * 1024)
    );
    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (s, _, _) = error_code(r).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, c, _) = error_code(app.get("not-a-token", "/api/v1/tickets").await).await;
    assert_eq!((s, c.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (s, c, _) = error_code(app.get("x", "/api/v1/nope").await).await;
    assert_eq!((s, c.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_the_contract() {
    let app = spawn_app().await;
    let v: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/session",
        "/api/v1/tickets",
        "/api/v1/tickets/{code}",
        "/api/v1/services",
        "/api/v1/subjects/assess",
    ] {
        assert!(v["paths"][path].is_object(), "missing {path}");
    }
    assert!(v["components"]["schemas"]["NewTicket"].is_object());
    app.stop().await;
}

/// The app's page comes compressed, and a browser that has it already (its `ETag`) gets a 304
/// with nothing to download again: a repeat visit transfers only headers.
#[tokio::test]
async fn the_page_comes_compressed_and_not_again_when_unchanged() {
    let app = spawn_app().await;
    let first = app
        .client
        .get(app.url("/login"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["content-encoding"], "br");
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() > 20, "{etag}");
    let again = app
        .client
        .get(app.url("/tickets"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.headers().contains_key("content-security-policy"));
    assert!(again.bytes().await.unwrap().is_empty());
    // Another version of the page is sent whole.
    let other = app
        .client
        .get(app.url("/login"))
        .header("if-none-match", "\"0123\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert!(other.text().await.unwrap().contains("<base href="));
    app.stop().await;
}

#[tokio::test]
async fn everything_works_under_a_base_path() {
    let app = spawn_with(|c| c.base_path = "/PanelNML".into()).await;
    assert!(app.base.ends_with("/PanelNML"));
    let token = app.login("demo@example.it").await;
    let r = app.get(&token, "/api/v1/tickets").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = app
        .client
        .get(app.url("/tickets/ABC-123-45678"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<base href=\"/PanelNML/\">"), "{html}");
    // Outside the base path there is nothing.
    let root = app.base.trim_end_matches("/PanelNML").to_string();
    let r = app
        .client
        .get(format!("{root}/api/v1/tickets"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
    app.stop().await;
}
