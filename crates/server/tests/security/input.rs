//! Control characters from outside (defect 8): line breaks, NUL, escapes, direction overrides and
//! zero-width characters sent in subjects, bodies and file names are cleaned before they are
//! stored, and cannot forge a line of the server's log.

use crate::helpers::{error_code, spawn_app};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The server's log as text, written by the same formatter `main` installs (without colours).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }

    /// Captures what this thread logs: a current-thread test runtime polls the server's tasks
    /// on this thread, so the server's own events land here.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let log = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("info,sqlx=warn")
            .with_ansi(false)
            .with_writer(move || log.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

/// Every line the formatter writes starts with its timestamp (`2026-12-01T19:00:00.123456Z`).
fn forged_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            let b = l.as_bytes();
            !(b.len() > 20
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[10] == b'T')
        })
        .collect()
}

const FORGED: &str =
    "2026-12-01T08:00:00.000000Z  INFO helpdesk_server::http::session: login account=staff";

#[tokio::test]
async fn controls_bidi_and_zero_width_characters_are_removed_from_tickets_and_replies() {
    let app = spawn_app().await;
    let token = app.login("demo@example.it").await;
    let sid = app.service_id(&token, "pizzeria-da-mario.it").await;

    let subject = format!(
        "Errore 500\r\n{FORGED}\0 sulla \u{202E}home\u{202C}\u{200B} del \u{2066}sito\u{2069}\u{FEFF}"
    );
    let description = "Da stamattina\r\nla home risponde\0 con errore 500\u{200B}\u{FEFF};\rle altre\u{2028}pagine\u{202E} funzionano.\u{1b}[2J\u{7}\n\t👩\u{200D}💻";
    let r = app
        .post(
            &token,
            "/api/v1/tickets",
            json!({"department": "helpdesk", "service_id": sid, "subject": subject,
                "description": description, "priority": "normal"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.expect("json");
    let code = created["code"].as_str().expect("code").to_string();

    // One line, and the run of spaces in the middle collapsed to one.
    let want_subject = format!(
        "Errore 500 {} sulla home del sito",
        FORGED.replace("  ", " ")
    );
    let want_body = "Da stamattina\nla home risponde con errore 500;\nle altre\npagine funzionano.[2J\n\t👩\u{200D}💻";
    let stored = app
        .get_json(&token, &format!("/api/v1/tickets/{code}"))
        .await;
    assert_eq!(stored["subject"], want_subject.as_str());
    assert_eq!(stored["messages"][0]["body"], want_body);

    let r = app
        .post(
            &token,
            &format!("/api/v1/tickets/{code}/messages"),
            json!({"body": "grazie\r\n\0\u{202E}ok\u{200B}\r\n"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let staff = app.login("staff@example.it").await;
    let r = app
        .post(
            &staff,
            &format!("/api/v1/staff/tickets/{code}/messages"),
            json!({"body": "Risolto.\r\n\u{1b}]0;titolo\u{7}\u{2067}fine"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());

    let stored = app
        .get_json(&token, &format!("/api/v1/tickets/{code}"))
        .await;
    let bodies: Vec<&str> = stored["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["kind"] == "message")
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(bodies.contains(&"grazie\nok"), "{bodies:?}");
    assert!(bodies.contains(&"Risolto.\n]0;titolofine"), "{bodies:?}");

    app.stop().await;
}

#[tokio::test]
async fn a_subject_or_description_that_is_only_invisible_characters_counts_as_empty() {
    let app = spawn_app().await;
    let token = app.login("demo@example.it").await;
    let sid = app.service_id(&token, "pizzeria-da-mario.it").await;
    let invisible = "\u{200B}\u{202E}\u{FEFF}\u{2060}\0\r\n".repeat(5);

    let r = app
        .post(
            &token,
            "/api/v1/tickets",
            json!({"department": "helpdesk", "service_id": sid, "subject": invisible,
                "description": "Da stamattina la home page risponde con errore 500.", "priority": "normal"}),
        )
        .await;
    let (status, _, body) = error_code(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["subject"].is_string(), "{body}");

    let r = app
        .post(
            &token,
            "/api/v1/tickets",
            json!({"department": "helpdesk", "service_id": sid,
                "subject": "Errore 500 sulla home di pizzeria-da-mario.it",
                "description": format!("ok{}", "\u{200B}".repeat(60)), "priority": "normal"}),
        )
        .await;
    let (status, code, body) = error_code(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"]["description"], "too_short",
        "{code} {body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_uploaded_file_name_loses_its_direction_override_and_zero_width_characters() {
    let app = spawn_app().await;
    let token = app.login("demo@example.it").await;
    let part = reqwest::multipart::Part::bytes(b"ERROR 500 alle 10:02\n".to_vec())
        .file_name("log\u{200B}\u{202E}gol.txt\u{2066}");
    let r = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&token)
        .multipart(
            reqwest::multipart::Form::new()
                .percent_encode_noop()
                .part("file", part),
        )
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["name"], "loggol.txt");
    app.stop().await;
}

#[test]
fn a_value_logged_with_debug_formatting_stays_on_its_line() {
    let log = Log::default();
    {
        let _guard = log.capture();
        let subject = format!("sito lento\r\n{FORGED}");
        tracing::info!(subject = ?subject, "notification sent");
    }
    let text = log.text();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_eq!(forged_lines(&text), Vec::<&str>::new());
}

/// The server's colours, if it writes them, are not part of a line's text.
fn without_ansi(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for k in chars.by_ref() {
                if k.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The real binary, with the log `main` sets up written to a file: a subject carrying a whole
/// forged log line after a CR/LF shows up inside the acknowledgment's own line, never as a line.
#[tokio::test]
async fn a_subject_carrying_a_forged_log_line_forges_no_line_in_the_real_servers_log() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let addr = crate::process::free_addr();
    let log_path = dir.path().join("server.log");
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let _server = Killed(
        Command::new(env!("CARGO_BIN_EXE_helpdesk-server"))
            .arg("serve")
            .env("HELPDESK_BIND", addr.to_string())
            .env("HELPDESK_SMTP_BIND", "off")
            .env("HELPDESK_DATA_DIR", dir.path())
            .env_remove("HELPDESK_DATABASE_URL")
            .env("HELPDESK_APP_DIR", dir.path().join("no-app"))
            .env("HELPDESK_DEMO", "1")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawning the server"),
    );
    let url = |path: &str| format!("http://{addr}{path}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while !client
        .get(url("/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(started.elapsed() < Duration::from_secs(60), "no server");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let login: Value = client
        .post(url("/api/v1/session"))
        .json(&json!({"email": "demo@example.it", "password": "demo-password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token");
    let services: Value = client
        .get(url("/api/v1/services"))
        .bearer_auth(token)
        .send()
        .await
        .expect("services")
        .json()
        .await
        .expect("json");
    let sid = services["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["family"] == "hosting_shared")
        .and_then(|s| s["id"].as_str())
        .expect("a hosting service");
    let r = client
        .post(url("/api/v1/tickets"))
        .bearer_auth(token)
        .json(&json!({"department": "helpdesk", "service_id": sid,
            "subject": format!("Errore 500 sul sito\r\n{FORGED}\n"),
            "description": "Da stamattina la home page risponde con errore 500.",
            "priority": "normal"}))
        .send()
        .await
        .expect("new ticket");
    assert_eq!(r.status(), StatusCode::CREATED);
    let ticket: Value = r.json().await.expect("json");
    let code = ticket["code"].as_str().expect("code");

    let notified = |log: &str| {
        log.lines()
            .any(|l| l.contains("notification sent") && l.contains(code))
    };
    let read = || without_ansi(&std::fs::read_to_string(&log_path).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !notified(&read()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = read();
    assert!(
        notified(&log),
        "the acknowledgment was never logged:\n{log}"
    );
    assert_eq!(forged_lines(&log), Vec::<&str>::new(), "log:\n{log}");
}
