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
async fn controls_bidi_and_zero_width_characters_are_removed_from_tickets_and_replies_and_forge_no_log_line(
) {
    let log = Log::default();
    let _guard = log.capture();
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

    // The acknowledgment carries the subject; its "notification sent" line is the one to forge.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let notified = |text: &str| {
        text.lines()
            .any(|l| l.contains("notification sent") && l.contains(&code))
    };
    while !notified(&log.text()) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let text = log.text();
    assert!(
        notified(&text),
        "the ticket's notification was never logged:\n{text}"
    );
    assert_eq!(forged_lines(&text), Vec::<&str>::new(), "log:\n{text}");
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
