use crate::helpers::{error_code, spawn_app, spawn_with};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `.eml` files written to the outbox folder, oldest first.
/// The outbox's mails whose subject names `code`, oldest first, once there are `at_least` of them
/// (or after ten seconds). Demo data fills the outbox too, so counting every file is not enough.
pub(crate) async fn outbox_for(dir: &std::path::Path, code: &str, at_least: usize) -> Vec<String> {
    crate::helpers::outbox_where(&dir.join("outbox"), at_least, |m| {
        header(m, "Subject").is_some_and(|s| s.contains(code))
    })
    .await
}

pub(crate) fn header<'a>(eml: &'a str, name: &str) -> Option<&'a str> {
    eml.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

#[tokio::test]
async fn a_staff_reply_changes_the_status_and_notifies_the_customer_in_the_thread() {
    let app = spawn_with(|c| c.demo = true).await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap().to_string();

    let after = app
        .staff_reply(
            &staff,
            &code,
            "Abbiamo corretto il file .htaccess: può verificare?",
        )
        .await;
    assert_eq!(after["status"], "awaiting_customer");
    let seen: Value = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    let last = seen["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["author"]["kind"], "staff");
    assert_eq!(last["author"]["name"], "Giulia (Assistenza)");

    // The acknowledgment and the reply, both threaded under the ticket.
    let mine = outbox_for(app.dir.path(), &code, 2).await;
    assert_eq!(mine.len(), 2, "acknowledgment and staff reply");
    let (ack, reply) = (&mine[0], &mine[1]);
    assert_eq!(
        header(reply, "Subject"),
        Some(format!("[#{code}]: Errore 500 sulla home di blog-mario.it").as_str())
    );
    assert!(header(reply, "From").unwrap().contains("hd@smacloud.it"));
    assert_eq!(header(reply, "To"), Some("demo@example.it"));
    let ack_id = header(ack, "Message-ID").unwrap();
    assert!(ack_id.ends_with("@helpdesk.smacloud.it>"), "{ack_id}");
    assert_eq!(header(reply, "In-Reply-To"), Some(ack_id));
    assert!(header(reply, "References").unwrap().contains(ack_id));
    assert!(reply.contains("htaccess"));
    assert!(
        reply.contains(&format!("/tickets/{code}")),
        "a link to the ticket"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_customer_token_never_reaches_staff_endpoints() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap();
    let r = app
        .post(
            &demo,
            &format!("/api/v1/staff/tickets/{code}/messages"),
            json!({"body": "ciao"}),
        )
        .await;
    let (status, c, _) = error_code(r).await;
    assert_eq!((status, c.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    app.stop().await;
}

#[tokio::test]
async fn closing_reopening_and_replying_to_a_closed_ticket_show_as_events() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap().to_string();
    let closed: Value = app
        .post(&demo, &format!("/api/v1/tickets/{code}/close"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "closed");
    let reopened: Value = app
        .post(&demo, &format!("/api/v1/tickets/{code}/reopen"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reopened["status"], "open");
    app.post(&demo, &format!("/api/v1/tickets/{code}/close"), json!({}))
        .await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{code}/messages")))
        .bearer_auth(&demo)
        .header("Idempotency-Key", "reply-1")
        .json(&json!({"body": "Il problema si è ripresentato stamattina."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let after: Value = r.json().await.unwrap();
    assert_eq!(after["status"], "open", "a reply reopens a closed ticket");
    let kinds = |t: &Value| -> Vec<(String, String)> {
        t["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["kind"].as_str().unwrap().to_string(),
                    m["status"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    // The answer carries only what the reply added: the reopening and the message.
    assert_eq!(
        kinds(&after),
        vec![
            ("event".to_string(), "open".to_string()),
            ("message".to_string(), String::new())
        ]
    );
    let thread: Value = app
        .get(&demo, &format!("/api/v1/tickets/{code}"))
        .await
        .json()
        .await
        .unwrap();
    let all = kinds(&thread);
    let events: Vec<&str> = all
        .iter()
        .filter(|k| k.0 == "event")
        .map(|k| k.1.as_str())
        .collect();
    assert_eq!(events, vec!["closed", "open", "closed", "open"]);
    assert_eq!(all.last().unwrap().0, "message");
    // The same reply sent again (a retry) is not appended twice.
    let again = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{code}/messages")))
        .bearer_auth(&demo)
        .header("Idempotency-Key", "reply-1")
        .json(&json!({"body": "Il problema si è ripresentato stamattina."}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        again["messages"], after["messages"],
        "a replay answers what the first request added"
    );
    let thread_again: Value = app
        .get(&demo, &format!("/api/v1/tickets/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kinds(&thread_again), all, "nothing was added twice");
    app.stop().await;
}

#[tokio::test]
async fn html_in_bodies_is_stored_and_returned_as_plain_text() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap();
    let payload = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    let r: Value = app
        .post(
            &demo,
            &format!("/api/v1/tickets/{code}/messages"),
            json!({"body": payload}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["messages"].as_array().unwrap().last().unwrap()["body"],
        payload
    );
    app.stop().await;
}

/// Starts the Python relay; returns it and its port.
fn relay(out: &std::path::Path, refuse: u32) -> Option<(std::process::Child, u16)> {
    slow_relay(out, refuse, 0)
}

/// The Python relay, taking `delay_ms` over each message it accepts.
pub(crate) fn slow_relay(
    out: &std::path::Path,
    refuse: u32,
    delay_ms: u32,
) -> Option<(std::process::Child, u16)> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/smtp_relay.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(out)
        .arg(refuse.to_string())
        .arg(delay_ms.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let port = line.trim().parse().ok()?;
    Some((child, port))
}

pub(crate) fn delivered(out: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn a_relay_that_refuses_then_accepts_gets_each_notification_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("relay.jsonl");
    let (mut child, port) =
        relay(&out, 2).expect("python3 with aiosmtpd (cargo xtask setup installs it)");
    let app = spawn_with(|c| {
        c.demo = false;
        c.smtp_relay = Some(format!("127.0.0.1:{port}"));
    })
    .await;
    // One account and one ticket, through the same import as the panel's.
    let state = app.state();
    let hash = helpdesk_server::auth::hash_password("demo-password").unwrap();
    let file = helpdesk_server::import::parse(&format!(
        r#"{{"customers":[{{"email":"demo@example.it","name":"Mario","password_hash":"{hash}","services":[{{"id":"1","family":"domain","product":"Dominio","identifier":"mario.it"}}]}}]}}"#
    ))
    .unwrap();
    helpdesk_server::import::import(&state.store, &file)
        .await
        .unwrap();
    let demo = app.login("demo@example.it").await;
    let t = app.open_ticket(&demo, "mario.it").await;
    let code = t["code"].as_str().unwrap().to_string();

    // Refused twice (451), retried with backoff, then accepted: exactly one copy arrives.
    let deadline = Instant::now() + Duration::from_secs(20);
    while delivered(&out).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = delivered(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0]["data"].as_str().unwrap().contains(&code));
    assert_eq!(got[0]["to"][0], "demo@example.it");
    let _ = child.kill();
    app.stop().await;
}

#[tokio::test]
async fn a_restart_while_the_relay_is_down_loses_no_notification() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("relay.jsonl");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // First run: the relay address answers nobody.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let mut config = helpdesk_server::Config::for_tests(data.clone());
    config.demo = true;
    config.smtp_relay = Some(format!("127.0.0.1:{dead_port}"));
    let first = helpdesk_server::start(config.clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.stop().await;
    // Second run: the relay is up; the demo's notifications queued in the first run arrive.
    let (mut child, port) = relay(&out, 0).expect("python3 with aiosmtpd");
    config.smtp_relay = Some(format!("127.0.0.1:{port}"));
    config.demo = false;
    let second = helpdesk_server::start(config).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // Five demo tickets (five acknowledgments) and three staff replies.
    while delivered(&out).len() < 8 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = delivered(&out);
    assert_eq!(got.len(), 8, "{}", got.len());
    let ids: std::collections::HashSet<String> = got
        .iter()
        .filter_map(|m| {
            m["data"].as_str().and_then(|d| {
                d.lines()
                    .find(|l| l.starts_with("Message-ID:"))
                    .map(str::to_string)
            })
        })
        .collect();
    assert_eq!(ids.len(), 8, "no duplicates");
    let _ = child.kill();
    second.stop().await;
}
