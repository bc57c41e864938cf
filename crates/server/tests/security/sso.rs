//! Sign-on tokens from the panel: only a good one, used once, for a customer of ours, opens a
//! session; every other answers the same 401 and changes nothing.

use crate::helpers::{spawn_with, TestApp};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "a-shared-secret-of-the-panel-32-bytes-or-more";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(jti: &str) -> Value {
    let now = now();
    json!({"iss": "panel.newmedialabs.it", "aud": "helpdesk", "email": "demo@example.it",
           "name": "Mario Rossi", "locale": "it", "iat": now, "exp": now + 120, "jti": jti})
}

fn sign(alg: Algorithm, claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn trade(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/session/sso"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect("answered");
    (r.status(), r.json().await.expect("JSON"))
}

async fn sessions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.state().store.sqlite().expect("SQLite").pool())
        .await
        .unwrap()
}

async fn app_with_secret() -> TestApp {
    spawn_with(|c| {
        c.sso.secrets = vec![SECRET.as_bytes().to_vec()];
        // Many refusals in a row from one test client are the point here, not a lockout.
        c.login_failure_floor = std::time::Duration::ZERO;
    })
    .await
}

#[tokio::test]
async fn a_good_token_opens_a_session_once_and_only_once() {
    let app = app_with_secret().await;
    let token = sign(Algorithm::HS256, &claims("once-1"), SECRET);
    let (status, body) = trade(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["customer"]["email"], "demo@example.it");
    let session = body["token"].as_str().expect("a session token");
    assert_eq!(
        app.get(session, "/api/v1/me").await.status(),
        StatusCode::OK
    );

    let before = sessions(&app).await;
    let (status, replay) = trade(&app, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a replay is refused");
    assert_eq!(replay["error"]["code"], "unauthorized");
    assert_eq!(sessions(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn the_panels_language_comes_back_with_the_session_and_an_unknown_one_does_not() {
    let app = app_with_secret().await;
    let mut english = claims("lang-1");
    english["locale"] = json!("en-GB");
    let (status, body) = trade(&app, &sign(Algorithm::HS256, &english, SECRET)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["locale"], "en", "{body}");
    // The saved choice is not touched: the panel's language is for this session's screens.
    assert_eq!(body["customer"]["language"], Value::Null, "{body}");

    let mut german = claims("lang-2");
    german["locale"] = json!("de");
    let (status, body) = trade(&app, &sign(Algorithm::HS256, &german, SECRET)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("locale").is_none(), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_token_whose_nbf_has_come_within_the_leeway_is_good() {
    let app = app_with_secret().await;
    let now = now();
    for (jti, nbf) in [("nbf-1", now - 10), ("nbf-2", now + 30)] {
        let mut c = claims(jti);
        c["nbf"] = json!(nbf);
        let (status, body) = trade(&app, &sign(Algorithm::HS256, &c, SECRET)).await;
        assert_eq!(status, StatusCode::OK, "nbf {nbf} at {now}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_bad_token_answers_the_same_401_and_changes_nothing() {
    let app = app_with_secret().await;
    let now = now();
    let edit = |jti: &str, f: &dyn Fn(&mut Value)| {
        let mut c = claims(jti);
        f(&mut c);
        sign(Algorithm::HS256, &c, SECRET)
    };
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let cases: Vec<(&str, String)> = vec![
        (
            "wrong signature",
            sign(
                Algorithm::HS256,
                &claims("bad-1"),
                "another-secret-another-secret-another",
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
                b64.encode(claims("bad-2").to_string())
            ),
        ),
        ("HS512", sign(Algorithm::HS512, &claims("bad-3"), SECRET)),
        (
            "wrong iss",
            edit("bad-4", &|c| c["iss"] = json!("evil.example")),
        ),
        ("wrong aud", edit("bad-5", &|c| c["aud"] = json!("panel"))),
        (
            "expired",
            edit("bad-6", &|c| {
                c["iat"] = json!(now - 400);
                c["exp"] = json!(now - 100);
            }),
        ),
        (
            "exp too far after iat",
            edit("bad-7", &|c| c["exp"] = json!(now + 301)),
        ),
        (
            "unknown e-mail",
            edit("bad-8", &|c| c["email"] = json!("nobody@example.org")),
        ),
        (
            "a staff account",
            edit("bad-9", &|c| c["email"] = json!("staff@example.it")),
        ),
        (
            "no e-mail",
            edit("bad-10", &|c| {
                c.as_object_mut().unwrap().remove("email");
            }),
        ),
        (
            "no jti",
            edit("bad-11", &|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
        ),
        (
            "no exp",
            edit("bad-12", &|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "over 100 KB",
            edit("bad-13", &|c| c["name"] = json!("x".repeat(110_000))),
        ),
        (
            "nbf in the future, beyond the clocks' leeway",
            edit("bad-14", &|c| c["nbf"] = json!(now + 90)),
        ),
        (
            "exp before iat",
            edit("bad-15", &|c| {
                c["iat"] = json!(now + 30);
                c["exp"] = json!(now + 10);
            }),
        ),
        (
            "nbf after exp",
            edit("bad-16", &|c| {
                c["nbf"] = json!(now + 50);
                c["exp"] = json!(now + 40);
            }),
        ),
        (
            "nbf not a number",
            edit("bad-17", &|c| c["nbf"] = json!("now")),
        ),
    ];
    let before = sessions(&app).await;
    let mut answers = Vec::new();
    for (what, token) in &cases {
        let (status, body) = trade(&app, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        answers.push(body);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every refusal reads the same: {answers:?}"
    );
    assert_eq!(sessions(&app).await, before, "no session was opened");
    app.stop().await;

    // With no secret configured even a well-signed token is refused, the same way.
    let unset = spawn_with(|_| {}).await;
    let (status, body) = trade(&unset, &sign(Algorithm::HS256, &claims("unset"), SECRET)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, answers[0]);
    unset.stop().await;
}
