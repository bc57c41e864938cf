//! Two instances on one PostgreSQL database, each with its own data folder, as behind nginx: any
//! instance answers any request, and nothing a customer sees depends on which one it reached.
//! Needs the test PostgreSQL (`HELPDESK_TEST_PG_ADMIN`, set by `cargo xtask test`).

use crate::helpers::{error_code, spawn_on, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

/// Two instances on one new database, started together (the demo data seeded once); `None`
/// without a test PostgreSQL.
async fn two_instances(adjust: fn(&mut helpdesk_server::Config)) -> Option<(TestApp, TestApp)> {
    let Some(url) = crate::pg::fresh_database().await else {
        eprintln!("skipped: no test PostgreSQL (HELPDESK_TEST_PG_ADMIN unset)");
        return None;
    };
    let (a, b) = tokio::join!(
        spawn_on(Some(url.clone()), adjust),
        spawn_on(Some(url), adjust)
    );
    Some((a, b))
}

#[tokio::test]
async fn instances_started_together_seed_the_demo_once() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let demo = a.login("demo@example.it").await;
    let on_a = a.get_json(&demo, "/api/v1/tickets").await;
    let on_b = b.get_json(&demo, "/api/v1/tickets").await;
    assert_eq!(
        on_a["items"], on_b["items"],
        "one list, whichever instance answers"
    );
    let codes: Vec<&str> = on_a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    let distinct: HashSet<&str> = codes.iter().copied().collect();
    assert_eq!(
        codes.len(),
        distinct.len(),
        "no demo ticket twice: {codes:?}"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_session_opened_on_one_works_on_the_other_and_a_logout_ends_it_on_both() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let token = a.login("demo@example.it").await;
    assert_eq!(b.get(&token, "/api/v1/me").await.status(), StatusCode::OK);
    assert_eq!(a.get(&token, "/api/v1/me").await.status(), StatusCode::OK);
    let out = b
        .client
        .delete(b.url("/api/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "logout: {}", out.status());
    // At once, on both: no cache outlives the logout.
    assert_eq!(
        a.get(&token, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        b.get(&token, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn one_idempotency_key_sent_to_both_at_once_makes_one_ticket() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let token = a.login("demo@example.it").await;
    let sid = a.service_id(&token, "blog-mario.it").await;
    let before = a.get_json(&token, "/api/v1/tickets").await["counts"].clone();
    for round in 0..5 {
        let key = format!("cluster-key-{round}");
        let body = json!({
            "department": "helpdesk",
            "service_id": sid,
            "subject": format!("Errore 500 sulla home di blog-mario.it, giro {round}"),
            "description": "La home risponde 500 da stamattina; le altre pagine vanno.",
            "priority": "normal",
        });
        let send = |app: &TestApp| {
            app.client
                .post(app.url("/api/v1/tickets"))
                .bearer_auth(&token)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
        };
        let (ra, rb) = tokio::join!(send(&a), send(&b));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let statuses = [ra.status(), rb.status()];
        assert!(
            statuses.iter().all(|s| s.is_success()),
            "round {round}: both answered with the ticket, never an error: {statuses:?}"
        );
        let (ta, tb): (Value, Value) = (ra.json().await.unwrap(), rb.json().await.unwrap());
        assert_eq!(ta["code"], tb["code"], "round {round}: the same ticket");
    }
    let after = b.get_json(&token, "/api/v1/tickets").await["counts"].clone();
    assert_eq!(
        after["open"].as_i64().unwrap() - before["open"].as_i64().unwrap(),
        5,
        "five keys, five tickets: {before} -> {after}"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn wrong_passwords_spread_over_both_are_throttled_as_one() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let attempt = |app: &TestApp, password: &'static str| {
        app.client
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": "altro@example.it", "password": password}))
            .send()
    };
    for i in 0..5 {
        let app = if i % 2 == 0 { &a } else { &b };
        let r = attempt(app, "sbagliata").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Five failures in all, three on one and two on the other: the account is locked on both,
    // the right password included.
    for app in [&a, &b] {
        let (status, code, _) = error_code(attempt(app, "demo-password").await.unwrap()).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(code, "too_many_attempts");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_upload_through_one_is_attached_and_downloaded_through_the_other() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let token = a.login("demo@example.it").await;
    // Larger than one stored piece, so that it is read back from several.
    let log: Vec<u8> = (0..700_000u32)
        .map(|i| b"0123456789abcdef\n"[(i % 17) as usize])
        .collect();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(log.clone()).file_name("error.log"),
    );
    let r = a
        .client
        .post(a.url("/api/v1/uploads"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let upload: Value = r.json().await.unwrap();
    let sid = b.service_id(&token, "blog-mario.it").await;
    let r = b
        .post(
            &token,
            "/api/v1/tickets",
            json!({
                "department": "helpdesk",
                "service_id": sid,
                "subject": "Errore 500 sulla home di blog-mario.it, log allegato",
                "description": "Allego il log degli errori di stamattina.",
                "priority": "normal",
                "upload_ids": [upload["id"]],
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ticket: Value = r.json().await.unwrap();
    let attachment = &ticket["messages"][0]["attachments"][0];
    assert_eq!(attachment["name"], "error.log");
    for app in [&a, &b] {
        let r = app
            .get(
                &token,
                &format!("/api/v1/attachments/{}", attachment["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.bytes().await.unwrap().as_ref(), log.as_slice());
    }
    a.stop().await;
    b.stop().await;
}

/// The `.eml` files both instances wrote (no relay: each writes what it sends into its own
/// outbox folder), as their `Message-ID`s.
fn sent_ids(apps: [&TestApp; 2]) -> Vec<String> {
    let mut ids = Vec::new();
    for app in apps {
        let dir = app.state().config.outbox_dir();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let eml = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if let Some(id) = crate::history::header(&eml, "Message-ID") {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

#[tokio::test]
async fn notifications_queued_while_both_run_are_each_sent_once() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let demo = a.login("demo@example.it").await;
    let staff = b.login("staff@example.it").await;
    let mut codes = Vec::new();
    for i in 0..3 {
        let t = a.open_ticket(&demo, "blog-mario.it").await;
        codes.push((i, t["code"].as_str().unwrap().to_string()));
    }
    // 300 staff replies, half through each instance, each a notification to the customer.
    let replies = futures_util::future::join_all((0..300).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        let (_, code) = &codes[i % codes.len()];
        let staff = staff.clone();
        async move {
            app.staff_reply(
                &staff,
                code,
                &format!("Risposta numero {i}: ci stiamo lavorando."),
            )
            .await
        }
    }));
    replies.await;
    let db = a.sql().await;
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(queued >= 300, "{queued} queued");
    outbox_sent(&db, Duration::from_secs(60)).await;
    let ids = sent_ids([&a, &b]);
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len() as i64, queued, "every notification sent");
    assert_eq!(ids.len(), distinct.len(), "none sent twice");
    for app in [&a, &b] {
        let wrote = std::fs::read_dir(app.state().config.outbox_dir())
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(wrote > 0, "both instances sent a share");
    }
    a.stop().await;
    b.stop().await;
}

/// Waits, `within` at most, until no notification in the shared outbox is left unsent.
async fn outbox_sent(db: &sqlx::AnyPool, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_us IS NULL")
            .fetch_one(db)
            .await
            .unwrap();
        if pending == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pending} notifications still unsent after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A server process on `url`, its own data folder, sending through `relay`: killed when dropped.
struct Instance {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn instance(url: &str, relay: u16) -> Instance {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_helpdesk-server"))
        .arg("serve")
        .env("HELPDESK_DATABASE_URL", url)
        .env("HELPDESK_DATABASE_POOL", "4")
        .env("HELPDESK_DATA_DIR", dir.path())
        .env("HELPDESK_BIND", format!("127.0.0.1:{port}"))
        .env("HELPDESK_SMTP_BIND", "off")
        .env("HELPDESK_SMTP_RELAY", format!("127.0.0.1:{relay}"))
        .env("HELPDESK_DEMO", "1")
        .env("HELPDESK_APP_DIR", dir.path().join("no-app"))
        .env("HELPDESK_RATE_REPLIES", "0")
        .env("RUST_LOG", "warn")
        .env_remove("HELPDESK_DEMO_PANEL_BIND")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the server binary");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "{base} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Instance {
        child,
        base,
        _dir: dir,
    }
}

async fn token(base: &str, email: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": email, "password": "demo-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_while_sending_loses_no_notification_and_repeats_none_under_a_new_id() {
    let Some(url) = crate::pg::fresh_database().await else {
        eprintln!("skipped: no test PostgreSQL (HELPDESK_TEST_PG_ADMIN unset)");
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("relay.jsonl");
    // 20 ms a message: both instances are still sending when one is killed.
    let (mut relay, relay_port) = crate::history::slow_relay(&out, 0, 20)
        .expect("python3 with aiosmtpd (cargo xtask setup installs it)");
    let (mut a, b) = tokio::join!(instance(&url, relay_port), instance(&url, relay_port));
    let staff = token(&a.base, "staff@example.it").await;
    let demo = token(&b.base, "demo@example.it").await;
    let client = reqwest::Client::new();
    let sid: Value = client
        .get(format!("{}/api/v1/services", a.base))
        .bearer_auth(&demo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = sid["items"][0]["id"].as_str().unwrap().to_string();
    let t: Value = client
        .post(format!("{}/api/v1/tickets", b.base))
        .bearer_auth(&demo)
        .json(
            &json!({"department": "helpdesk", "service_id": sid, "priority": "normal",
            "subject": "Errore 500 sulla home del sito da stamattina",
            "description": "La home risponde 500 da stamattina; le altre pagine funzionano."}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = t["code"].as_str().unwrap().to_string();
    // 300 staff replies, alternating between the instances: 300 notifications queued.
    for i in 0..300 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let r = client
            .post(format!("{base}/api/v1/staff/tickets/{code}/messages"))
            .bearer_auth(&staff)
            .json(&json!({ "body": format!("Aggiornamento {i}: ci stiamo lavorando.") }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // Killed in the middle of sending.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while crate::history::delivered(&out).len() < 60 {
        assert!(std::time::Instant::now() < deadline, "nothing was sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.child.kill().unwrap();
    let _ = a.child.wait();
    let at_kill = crate::history::delivered(&out).len();
    assert!(
        at_kill < 300,
        "killed before everything was sent ({at_kill})"
    );

    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    outbox_sent(&db, Duration::from_secs(90)).await;
    let queued: Vec<String> = sqlx::query_scalar("SELECT message_id FROM outbox")
        .fetch_all(&db)
        .await
        .unwrap();
    let queued: HashSet<String> = queued.into_iter().collect();
    let sent: Vec<String> = crate::history::delivered(&out)
        .iter()
        .filter_map(|m| {
            crate::history::header(m["data"].as_str()?, "Message-ID").map(str::to_string)
        })
        .collect();
    let distinct: HashSet<&String> = sent.iter().collect();
    assert!(queued.len() >= 301, "{} queued", queued.len());
    assert_eq!(
        distinct.len(),
        queued.len(),
        "every notification arrived, the dead instance's claims sent by the other"
    );
    for id in &distinct {
        assert!(
            queued.contains(id.as_str()),
            "a repeat always carries a Message-ID of ours: {id}"
        );
    }
    eprintln!(
        "killed after {at_kill} of {} sent; repeats (same Message-ID): {}",
        queued.len(),
        sent.len() - distinct.len()
    );
    drop(b);
    let _ = relay.kill();
}

#[tokio::test]
async fn a_sign_on_token_used_on_one_is_refused_on_the_other() {
    const SECRET: &str = "a-shared-secret-of-the-panel-32-bytes-or-more";
    let Some((a, b)) = two_instances(|c| {
        c.sso.secrets = vec![SECRET.as_bytes().to_vec()];
    })
    .await
    else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"iss": "panel.newmedialabs.it", "aud": "helpdesk",
        "email": "demo@example.it", "name": "Mario Rossi", "locale": "it",
        "iat": now, "exp": now + 120, "jti": "cluster-once-1"});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap();
    let trade = |app: &TestApp| {
        app.client
            .post(app.url("/api/v1/session/sso"))
            .json(&json!({ "token": token }))
            .send()
    };
    let first = trade(&a).await.unwrap();
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "the first use opens a session"
    );
    let (status, code, _) = error_code(trade(&b).await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized"),
        "the same jti on the other instance is a replay"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_refused_email_taken_by_one_is_shown_and_expired_by_the_other() {
    let Some((a, b)) = two_instances(|c| c.mail_require_auth = false).await else {
        return;
    };
    let demo = b.login("demo@example.it").await;
    // Over the 1 MB of attachments by e-mail: refused, its raw mail kept for the customer.
    let raw = "From: Mario Rossi <demo@example.it>\r\nTo: hd@smacloud.it\r\n\
        Subject: Errore 500 su blog-mario.it\r\nMessage-ID: <cluster-refused@example.it>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
        --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
        Il sito risponde con errore 500 da stamattina.\r\n\
        --b1\r\nContent-Type: application/octet-stream; name=\"dump.sql\"\r\n\
        Content-Disposition: attachment; filename=\"dump.sql\"\r\n\
        Content-Transfer-Encoding: base64\r\n\r\n"
        .to_string()
        + &"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\r\n"
            .repeat(20_000)
        + "--b1--\r\n";
    let config = a.state().config.clone();
    let got = a
        .ingest_piped(&config, raw.into_bytes(), &[], true)
        .await
        .outcome;
    assert!(
        matches!(got, helpdesk_server::mail::Outcome::Refused { .. }),
        "{got:?}"
    );
    let v = b.get_json(&demo, "/api/v1/mail-rejections").await;
    let text = v["items"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("errore 500 da stamattina"),
        "the other instance reads what the customer wrote: {v}"
    );
    assert_eq!(
        v["items"][0]["attachment_names"],
        json!(["dump.sql"]),
        "{v}"
    );

    let later = helpdesk_server::util::now_us()
        + i64::from(config.mail_raw_retention_days + 1) * 24 * 3600 * 1_000_000;
    let other = b.state().config.clone();
    let deleted = helpdesk_server::mail::expire_refused_raw(&b.state().store, &other, later)
        .await
        .expect("cleanup");
    assert_eq!(deleted, 1, "expired by the instance that did not take it");
    let v = a.get_json(&demo, "/api/v1/mail-rejections").await;
    assert_eq!(v["items"][0]["text"], Value::Null, "gone everywhere: {v}");
    a.stop().await;
    b.stop().await;
}
