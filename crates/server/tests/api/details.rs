//! E-mail and the details (issue 22): the customer's time zone, saved from the browser and used
//! for every time in their e-mails; quoted text left out of notifications; the acknowledgment of
//! a ticket opened by e-mail (its service, its priority, the way to the right form); what a
//! refused e-mail said, given back while its raw mail is kept; the channel of staff replies.

use crate::helpers::{error_code, spawn_with, TestApp};
use crate::history::outbox_for;
use crate::notifications::text_parts;
use base64::Engine;
use helpdesk_server::mail::Outcome;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `created_at` (RFC 3339, UTC) as the customer in `zone` reads it in an Italian e-mail.
fn local(created_at: &str, zone: &str) -> String {
    let t: jiff::Timestamp = created_at.parse().expect("an RFC 3339 time");
    let tz = jiff::tz::TimeZone::get(zone).expect("a zone");
    t.to_zoned_datetime(tz)
        .strftime("%d/%m/%Y %H:%M %Z")
        .to_string()
}

#[tokio::test]
async fn a_time_zone_is_saved_checked_and_returned() {
    let app = spawn_with(|_| {}).await;
    let token = app.login("demo@example.it").await;
    let me = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(me["time_zone"], "Europe/Rome", "until one is known: {me}");

    // Any case, saved by its canonical name; returned by the PATCH and by GET.
    let r = app
        .patch_me(&token, json!({"time_zone": "america/new_york"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.expect("json");
    assert_eq!(changed["time_zone"], "America/New_York", "{changed}");
    let me = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(me["time_zone"], "America/New_York", "{me}");
    assert_eq!(me["language"], Value::Null, "the language untouched");

    // Not an IANA name: the one error shape, a code per field, the words in the request's
    // language; nothing saved, not even a valid language sent with it.
    for bad in [
        json!("Mars/Olympus_Mons"),
        json!("Europe/Rome; DROP TABLE accounts"),
        json!(""),
        json!("+01:00"),
        json!("x".repeat(300)),
    ] {
        let r = app
            .client
            .patch(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .header("accept-language", "en")
            .json(&json!({"time_zone": bad, "language": "en"}))
            .send()
            .await
            .expect("request");
        let (status, code, v) = error_code(r).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            "{v}"
        );
        assert_eq!(
            v["error"]["fields"]["time_zone"], "unknown_time_zone",
            "{v}"
        );
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Unknown time zone")),
            "{v}"
        );
    }
    let r = app
        .patch_me(&token, json!({"time_zone": "Mars/Base"}))
        .await;
    let (_, _, v) = error_code(r).await;
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Fuso orario sconosciuto")),
        "Italian without Accept-Language: {v}"
    );
    // Not a string at all: the JSON error of a field with a value not allowed.
    let r = app.patch_me(&token, json!({"time_zone": 42})).await;
    let (status, code, v) = error_code(r).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        "{v}"
    );
    let me = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(
        (&me["time_zone"], &me["language"]),
        (&json!("America/New_York"), &Value::Null),
        "nothing saved by a refused request: {me}"
    );

    // Null goes back to the default.
    let r = app.patch_me(&token, json!({"time_zone": null})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let me = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(me["time_zone"], "Europe/Rome", "{me}");
    app.stop().await;
}

#[tokio::test]
async fn a_customer_in_new_york_reads_new_york_times_and_no_quoted_text() {
    let app = spawn_with(|_| {}).await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let r = app
        .patch_me(&demo, json!({"time_zone": "America/New_York"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().expect("code").to_string();
    let opened_at = t["messages"][0]["created_at"]
        .as_str()
        .expect("created_at")
        .to_string();
    // The customer answers quoting what came before, as mailers do.
    let answer = "Il problema si ripresenta ogni mattina alle 9.\n\n\
                  Il giorno lun 1 dic 2025 alle 10:00 Assistenza <hd@smacloud.it> ha scritto:\n\
                  > Quando si presenta l'errore?\n> Grazie, Giulia";
    let r = app
        .post(
            &demo,
            &format!("/api/v1/tickets/{code}/messages"),
            json!({"body": answer}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let replied: Value = r.json().await.expect("json");
    let answered_at = replied["messages"][0]["created_at"]
        .as_str()
        .expect("created_at")
        .to_string();
    app.staff_reply(
        &staff,
        &code,
        "Abbiamo spostato il backup notturno: ci confermi?",
    )
    .await;

    let mails = outbox_for(app.dir.path(), &code, 2).await;
    assert_eq!(mails.len(), 2, "acknowledgment and staff reply");
    let ack = text_parts(&mails[0]);
    let reply = text_parts(&mails[1]);
    assert!(
        ack[1].1.contains(&local(&opened_at, "America/New_York")),
        "the acknowledgment in New York time ({}): {}",
        local(&opened_at, "America/New_York"),
        ack[1].1
    );
    let html = &reply[1].1;
    let when = local(&answered_at, "America/New_York");
    assert!(when.ends_with(" EST") || when.ends_with(" EDT"), "{when}");
    assert!(html.contains(&when), "{when} in {html}");
    for (_, part) in ack.iter().chain(&reply) {
        assert!(!part.contains("UTC"), "never UTC: {part}");
    }
    // The customer's own words stay; what they quoted is one line.
    assert!(
        html.contains("Il problema si ripresenta ogni mattina alle 9."),
        "{html}"
    );
    assert!(html.contains("[testo citato omesso]"), "{html}");
    for quoted in ["Quando si presenta", "ha scritto:", "Grazie, Giulia"] {
        assert!(!html.contains(quoted), "{quoted} in {html}");
    }
    // In the app the message is whole (it folds the quote itself).
    let seen = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    assert!(
        seen["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .any(|m| m["body"] == answer),
        "{seen}"
    );
    app.stop().await;
}

async fn ingest(app: &TestApp, raw: String) -> Outcome {
    let config = app.state().config.clone();
    app.ingest_piped(&config, raw.replace('\n', "\r\n").into_bytes(), &[], true)
        .await
        .outcome
}

#[tokio::test]
async fn an_email_ticket_acknowledgment_names_its_service_and_its_low_priority() {
    let app = spawn_with(|c| c.mail_require_auth = false).await;
    let demo = app.login("demo@example.it").await;
    let public_url = app.state().config.public_url.clone();
    for (subject, service_line) in [
        (
            "Errore 500 su blog-mario.it dopo il plugin",
            "Servizio: blog-mario.it (Hosting WordPress)\n",
        ),
        (
            "La posta non arriva da ieri sera",
            "Servizio: nessuno dei tuoi servizi è nominato nell'oggetto\n",
        ),
    ] {
        let id = subject.len();
        let outcome = ingest(
            &app,
            format!(
                "From: Mario Rossi <demo@example.it>\nTo: hd@smacloud.it\nSubject: {subject}\n\
                 Message-ID: <ack-{id}@example.it>\nContent-Type: text/plain; charset=utf-8\n\n\
                 Da ieri sera il problema si presenta su tutte le pagine.\n"
            ),
        )
        .await;
        let Outcome::NewTicket { code } = outcome else {
            panic!("a new ticket, not {outcome:?}");
        };
        let t = app
            .get_json(&demo, &format!("/api/v1/tickets/{code}"))
            .await;
        assert_eq!(t["priority"], "low", "the seed's rule: {t}");
        let mails = outbox_for(app.dir.path(), &code, 1).await;
        assert_eq!(mails.len(), 1, "the acknowledgment");
        let parts = text_parts(&mails[0]);
        let (text, html) = (&parts[0].1, &parts[1].1);
        for line in [
            service_line,
            "Priorità: bassa (i ticket aperti per e-mail hanno sempre priorità bassa",
            &format!(
                "Se il servizio non è quello giusto, apri un nuovo ticket dal sito scegliendo il servizio corretto: {public_url}/nuovo\n"
            ),
            &format!("{public_url}/tickets/{code}"),
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
        let service = service_line
            .trim_end()
            .trim_start_matches("Servizio: ")
            .to_string();
        for part in [
            format!("<strong>Servizio:</strong> {service}"),
            "<strong>Priorità:</strong> bassa".to_string(),
            format!("href=\"{public_url}/nuovo\""),
            format!("href=\"{public_url}/tickets/{code}\""),
        ] {
            assert!(html.contains(&part), "{part} in {html}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_refused_email_gives_back_its_text_and_attachment_names_while_kept() {
    let app = spawn_with(|c| c.mail_require_auth = false).await;
    let demo = app.login("demo@example.it").await;
    // Over the 1 MB of attachments by e-mail: refused, its raw mail kept.
    let big = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; 1_100_000]);
    let big: String = big
        .as_bytes()
        .chunks(76)
        .map(|l| format!("{}\n", String::from_utf8_lossy(l)))
        .collect();
    let raw = format!(
        "From: Mario Rossi <demo@example.it>\nTo: hd@smacloud.it\n\
         Subject: Log del server di blog-mario.it\nMessage-ID: <refused-text@example.it>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n\
         --b1\nContent-Type: text/html; charset=utf-8\n\n\
         <p>Vi allego il <span>log</span> degli errori &lt;500&gt; di stanotte.</p><script>alert(1)</script>\n\
         --b1\nContent-Type: application/octet-stream; name=\"errori.log\"\n\
         Content-Disposition: attachment; filename=\"errori.log\"\n\
         Content-Transfer-Encoding: base64\n\n{big}--b1\n\
         Content-Type: image/png; name=\"schermata.png\"\n\
         Content-Disposition: attachment; filename=\"schermata.png\"\n\
         Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b1--\n"
    );
    let outcome = ingest(&app, raw).await;
    assert!(
        matches!(
            outcome,
            Outcome::Refused {
                reason: "attachments_too_large",
                ..
            }
        ),
        "{outcome:?}"
    );
    let v = app.get_json(&demo, "/api/v1/mail-rejections").await;
    let item = &v["items"][0];
    assert_eq!(item["reason"], "attachments_too_large", "{v}");
    let text = item["text"].as_str().expect("the text while kept");
    // Plain text: the HTML part read as text, no markup and no script kept.
    assert!(
        text.contains("Vi allego il log degli errori <500> di stanotte."),
        "{text}"
    );
    assert!(!text.contains("<p>") && !text.contains("alert"), "{text}");
    assert_eq!(
        item["attachment_names"],
        json!(["errori.log", "schermata.png"]),
        "{v}"
    );

    // Once the raw mail is deleted (the retention's hourly cleanup), nothing to give back.
    let config = app.state().config.clone();
    let later = helpdesk_server::util::now_us()
        + i64::from(config.mail_raw_retention_days + 1) * 24 * 3600 * 1_000_000;
    let deleted = helpdesk_server::mail::expire_refused_raw(&app.state().store, &config, later)
        .await
        .expect("cleanup");
    assert_eq!(deleted, 1);
    let v = app.get_json(&demo, "/api/v1/mail-rejections").await;
    let item = &v["items"][0];
    assert_eq!(
        item["reason"], "attachments_too_large",
        "the record stays: {v}"
    );
    assert_eq!(item["text"], Value::Null, "{v}");
    assert_eq!(item["attachment_names"], json!([]), "{v}");
    app.stop().await;
}

#[tokio::test]
async fn a_staff_reply_is_on_the_staff_channel_from_the_api_and_the_command_line() {
    let app = spawn_with(|_| {}).await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().expect("code").to_string();
    app.staff_reply(&staff, &code, "Risposta dall'API dello staff.")
        .await;

    let body_file = app.dir.path().join("reply.txt");
    std::fs::write(&body_file, "Risposta dalla riga di comando.").expect("body file");
    // Awaited, not blocking: the server runs on this test's runtime and must go on meanwhile
    // (a write it holds would keep the command waiting).
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_helpdesk-server"))
        .args([
            "staff",
            "reply",
            &code,
            "--as",
            "staff@example.it",
            "--body-file",
        ])
        .arg(&body_file)
        .env("HELPDESK_DATA_DIR", app.dir.path())
        .env("HELPDESK_DATABASE_URL", &app.state().config.database_url)
        .output()
        .await
        .expect("the command runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let seen = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    assert_eq!(
        seen["channel"], "web",
        "the ticket was opened on the website"
    );
    let channels: Vec<(&str, &str)> = seen["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["kind"] == "message")
        .map(|m| {
            (
                m["body"].as_str().expect("body"),
                m["channel"].as_str().expect("channel"),
            )
        })
        .collect();
    assert_eq!(
        channels,
        [
            (
                "Da stamattina la home page risponde con errore 500; le altre pagine funzionano.",
                "web"
            ),
            ("Risposta dall'API dello staff.", "staff"),
            ("Risposta dalla riga di comando.", "staff"),
        ],
        "{seen}"
    );
    app.stop().await;
}
