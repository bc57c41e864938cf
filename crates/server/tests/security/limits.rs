//! One account cannot fill the server: new tickets, replies and uploaded bytes are limited per
//! account and window, the bytes an account keeps are capped by a quota, and a full disk (or one
//! below the free-space floor) is a clear answer that loses nothing. Windows and caps are small
//! here so that each test runs in seconds; the defaults are in the README.

use crate::helpers::{error_code, spawn_with, TestApp};
use helpdesk_server::config::{AccountLimits, RateLimit};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

fn rate(max: u64, secs: u64) -> RateLimit {
    RateLimit {
        max,
        window: Duration::from_secs(secs),
    }
}

/// Every limit off but the ones a test sets.
fn only(adjust: impl FnOnce(&mut AccountLimits)) -> AccountLimits {
    let mut l = AccountLimits::off();
    adjust(&mut l);
    l
}

async fn new_ticket(app: &TestApp, token: &str, service: &str, n: usize, key: &str) -> Response {
    let sid = app.service_id(token, service).await;
    app.client
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({
            "department": "helpdesk",
            "service_id": sid,
            "subject": format!("Errore 500 numero {n} sulla home di {service}"),
            "description": "Da stamattina la home page risponde con errore 500; le altre pagine funzionano.",
            "priority": "normal",
        }))
        .send()
        .await
        .expect("request")
}

async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Response {
    let part = Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("text/plain")
        .expect("mime");
    app.client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .expect("upload request")
}

/// A plain-text log of `n` bytes.
fn log_text(n: usize) -> Vec<u8> {
    b"2026-12-06 10:00:00 errore 500 sulla home\n"
        .iter()
        .copied()
        .cycle()
        .take(n)
        .collect()
}

/// Files kept in the data folder (finished uploads and attachments; partial ones are hidden
/// `.upload-` files, counted apart).
fn files_in(app: &TestApp) -> (usize, usize) {
    let dir = app.dir.path().join("files");
    files_in_dir(&dir)
}

fn files_in_dir(dir: &std::path::Path) -> (usize, usize) {
    let mut kept = 0;
    let mut partial = 0;
    for e in std::fs::read_dir(dir).expect("files folder").flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            partial += 1;
        } else {
            kept += 1;
        }
    }
    (kept, partial)
}

fn retry_after(r: &Response) -> u64 {
    r.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header in seconds")
}

#[tokio::test]
async fn new_tickets_are_limited_per_account_and_window_while_others_are_served() {
    let app = spawn_with(|c| c.limits = only(|l| l.tickets = rate(3, 3))).await;
    let demo = app.login("demo@example.it").await;
    let other = app.login("altro@example.it").await;
    for n in 0..3 {
        let r = new_ticket(&app, &demo, "blog-mario.it", n, &format!("k{n}")).await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "ticket {n} within the limit"
        );
    }
    let r = new_ticket(&app, &demo, "blog-mario.it", 3, "k3").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&r);
    assert!(
        (1..=3).contains(&wait),
        "Retry-After {wait} within the window"
    );
    let (_, code, body) = error_code(r).await;
    assert_eq!(code, "rate_limited");
    assert_eq!(body["error"]["retry_after"], json!(wait));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("ticket") && message.contains("bozza"),
        "the sentence says what and that the draft is kept: {message}"
    );
    // Nothing was written for the refused one.
    let list = app.get_json(&demo, "/api/v1/tickets?q=numero").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3), "{list}");
    // A retry of an accepted request is a replay, not a new ticket: it is answered, not limited.
    let replay = new_ticket(&app, &demo, "blog-mario.it", 0, "k0").await;
    assert_eq!(replay.status(), StatusCode::OK);
    // Another customer is served as usual.
    let r = new_ticket(&app, &other, "bianchi-arredi.it", 0, "o0").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // In English too.
    let r = app
        .client
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(&demo)
        .header("Accept-Language", "en")
        .json(&json!({
            "department": "helpdesk",
            "service_id": app.service_id(&demo, "blog-mario.it").await,
            "subject": "Errore 500 sulla home di blog-mario.it",
            "description": "Da stamattina la home page risponde con errore 500; le altre pagine funzionano.",
            "priority": "normal",
        }))
        .send()
        .await
        .expect("request");
    let (status, _, body) = error_code(r).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("You have opened many tickets")),
        "{body}"
    );
    // Once the window ends, the customer may open tickets again.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let r = new_ticket(&app, &demo, "blog-mario.it", 4, "k4").await;
    assert_eq!(r.status(), StatusCode::CREATED, "a new window");
    app.stop().await;
}

#[tokio::test]
async fn replies_are_limited_per_account_but_staff_are_not() {
    let app = spawn_with(|c| c.limits = only(|l| l.replies = rate(2, 60))).await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().expect("code");
    let path = format!("/api/v1/tickets/{code}/messages");
    for n in 0..2 {
        let r = app
            .post(
                &demo,
                &path,
                json!({ "body": format!("Aggiornamento {n}: ancora errore") }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = app
        .post(
            &demo,
            &path,
            json!({ "body": "Terzo aggiornamento: ancora errore" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) <= 60);
    let (_, code_of_error, _) = error_code(r).await;
    assert_eq!(code_of_error, "rate_limited");
    // Staff are not limited.
    for n in 0..5 {
        app.staff_reply(&staff, code, &format!("Risposta dello staff {n}"))
            .await;
    }
    let thread = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    let bodies: Vec<&str> = thread["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(!bodies.iter().any(|b| b.contains("Terzo")), "{bodies:?}");
    app.stop().await;
}

#[tokio::test]
async fn uploaded_bytes_are_limited_per_window_and_nothing_refused_is_kept() {
    let app = spawn_with(|c| c.limits = only(|l| l.upload_bytes = rate(50_000, 60))).await;
    let demo = app.login("demo@example.it").await;
    let other = app.login("altro@example.it").await;
    let r = upload(&app, &demo, "uno.log", log_text(30_000)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Over the window's bytes once stored: refused, and the file is gone.
    let r = upload(&app, &demo, "due.log", log_text(30_000)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) <= 60);
    assert_eq!(error_code(r).await.1, "rate_limited");
    assert_eq!(files_in(&app), (1, 0), "the refused file is not kept");
    // What is left of the window still takes a small file.
    let r = upload(&app, &demo, "tre.log", log_text(10_000)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = upload(&app, &other, "altro.log", log_text(30_000)).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "another customer uploads as usual"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_quota_caps_what_an_account_keeps_and_is_refused_before_the_body() {
    let app = spawn_with(|c| c.limits = only(|l| l.quota_bytes = 64_000)).await;
    let demo = app.login("demo@example.it").await;
    let other = app.login("altro@example.it").await;
    let r = upload(&app, &demo, "uno.log", log_text(40_000)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = upload(&app, &demo, "due.log", log_text(40_000)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (_, code, body) = error_code(r).await;
    assert_eq!(code, "quota_exceeded");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("spazio")),
        "{body}"
    );
    assert_eq!(files_in(&app), (1, 0), "the refused file is not kept");
    let r = upload(&app, &demo, "tre.log", log_text(20_000)).await;
    assert_eq!(r.status(), StatusCode::CREATED, "what fits is kept");
    // Full now: the next upload is refused before its body is read (a declared 5 MB body is
    // answered at once, without reading it).
    let r = upload(&app, &demo, "quattro.log", log_text(5_000)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(r).await.1, "quota_exceeded");
    // The quota counts what is attached to tickets too; another customer has their own.
    let r = upload(&app, &other, "altro.log", log_text(40_000)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.stop().await;
}

#[tokio::test]
async fn below_the_free_space_floor_uploads_answer_507_and_tickets_still_open() {
    let app = spawn_with(|c| {
        c.limits = only(|l| l.min_free_bytes = u64::MAX / 2);
    })
    .await;
    let demo = app.login("demo@example.it").await;
    let r = upload(&app, &demo, "uno.log", log_text(1_000)).await;
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    let (_, code, body) = error_code(r).await;
    assert_eq!(code, "storage_full");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("bozza")),
        "{body}"
    );
    assert_eq!(files_in(&app), (0, 0));
    app.open_ticket(&demo, "blog-mario.it").await;
    app.stop().await;
}

/// A small file system of its own (tmpfs), unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: u64) -> SmallDisk {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_is_an_answer_loses_nothing_and_writes_resume_when_space_returns() {
    let disk = SmallDisk::mount(24 << 20);
    let data = disk.dir.path().join("data");
    let mut config = helpdesk_server::Config::for_tests(data.clone());
    config.demo = true;
    config.limits = AccountLimits::off();
    let running = helpdesk_server::start(config).await.expect("server starts");
    let app = TestApp {
        base: format!("http://{}", running.addr),
        client: reqwest::Client::new(),
        running: Some(running),
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let demo = app.login("demo@example.it").await;
    // Fill the disk, leaving less than one upload's room.
    let filler = disk.dir.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    let files = data.join("files");
    let before = files_in_dir(&files);
    let mut answers = Vec::new();
    for n in 0..3 {
        let r = upload(&app, &demo, &format!("pieno-{n}.log"), log_text(300_000)).await;
        answers.push(r.status());
        if r.status() != StatusCode::CREATED {
            let (status, code, body) = error_code(r).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
                "{body}"
            );
        }
    }
    assert!(
        answers.contains(&StatusCode::INSUFFICIENT_STORAGE),
        "a full disk refuses uploads: {answers:?}"
    );
    let kept = answers
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(
        files_in_dir(&files),
        (before.0 + kept, 0),
        "nothing half-written is left"
    );
    // A new ticket on a full disk: opened, or refused with the same answer; never a 500.
    let sid = app.service_id(&demo, "blog-mario.it").await;
    let ticket = json!({
        "department": "helpdesk",
        "service_id": sid,
        "subject": "Errore 500 sulla home di blog-mario.it col disco pieno",
        "description": "Da stamattina la home page risponde con errore 500; le altre pagine funzionano.",
        "priority": "normal",
    });
    let r = app.post(&demo, "/api/v1/tickets", ticket.clone()).await;
    let full_ticket = r.status();
    assert!(
        full_ticket == StatusCode::CREATED || full_ticket == StatusCode::INSUFFICIENT_STORAGE,
        "{full_ticket}"
    );
    // Space returns: writes work again, with nothing lost.
    std::fs::remove_file(&filler).expect("free the space");
    let r = upload(&app, &demo, "dopo.log", log_text(300_000)).await;
    assert_eq!(r.status(), StatusCode::CREATED, "uploads work again");
    let r = app.post(&demo, "/api/v1/tickets", ticket).await;
    assert_eq!(r.status(), StatusCode::CREATED, "tickets open again");
    let list: Value = app.get_json(&demo, "/api/v1/tickets?q=disco").await;
    let expected = if full_ticket == StatusCode::CREATED {
        2
    } else {
        1
    };
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(expected),
        "{list}"
    );
    app.stop().await;
    drop(disk);
}

/// A plain e-mail from the demo customer to the helpdesk, with a Message-ID of its own.
fn email(n: usize, subject: &str) -> Vec<u8> {
    format!(
        "From: Mario Rossi <demo@example.it>\r\nTo: hd@smacloud.it\r\nSubject: {subject}\r\n\
         Message-ID: <limit-{n}@example.it>\r\nDate: Sun, 6 Dec 2026 10:00:00 +0100\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Da stamattina la home di blog-mario.it risponde con errore 500 (messaggio {n}).\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn by_email_the_same_limits_apply_with_one_answer_not_one_per_message() {
    use helpdesk_server::mail::Outcome;
    let limits = only(|l| l.tickets = rate(1, 600));
    let app = spawn_with(|c| {
        c.limits = limits;
        c.mail_require_auth = false;
    })
    .await;
    let mut config = app.state().config.clone();
    config.mail_require_auth = false;
    let subject = "Errore 500 sulla home di blog-mario.it";
    let first = app
        .ingest_piped(&config, email(0, subject), &[], true)
        .await;
    assert!(
        matches!(first.outcome, Outcome::NewTicket { .. }),
        "{:?}",
        first.outcome
    );
    let mut answered = 0;
    for n in 1..4 {
        let later = app
            .ingest_piped(&config, email(n, subject), &[], true)
            .await;
        match later.outcome {
            Outcome::Refused {
                reason: "rate_limited",
                answered: a,
            } => answered += usize::from(a),
            other => panic!("message {n}: {other:?}"),
        }
    }
    assert_eq!(answered, 1, "one answer, not one per message");
    // The customer sees why in "E-mail non accettate", with nothing added to any ticket.
    let demo = app.login("demo@example.it").await;
    let refused = app.get_json(&demo, "/api/v1/mail-rejections").await;
    let items = refused["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{refused}");
    assert!(
        items[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("limite")),
        "{refused}"
    );
    let list = app.get_json(&demo, "/api/v1/tickets?q=blog-mario.it").await;
    let opened = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|t| t["subject"] == subject)
        .count();
    assert_eq!(opened, 1, "{list}");
    app.stop().await;
}
