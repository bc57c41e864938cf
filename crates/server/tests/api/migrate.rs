//! `helpdesk-server migrate-to`: a helpdesk that started on SQLite moves to PostgreSQL with
//! everything a customer had, and a second run refuses the database it filled.

use crate::helpers::{spawn_on, spawn_with};
use helpdesk_server::storage::migrate::migrate_to;
use helpdesk_server::storage::PgStore;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn a_sqlite_helpdesk_moves_to_postgres_with_every_ticket_session_and_file() {
    let Some(url) = crate::pg::fresh_database().await else {
        eprintln!("skipped: no test PostgreSQL (HELPDESK_TEST_PG_ADMIN unset)");
        return;
    };
    let old = spawn_with(|c| c.mail_require_auth = false).await;
    if old.state().store.sqlite().is_none() {
        // The API suite's run on PostgreSQL: there is no SQLite to move from.
        return;
    }
    let token = old.login("demo@example.it").await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"GET / 500 (Internal Server Error)\n".repeat(20_000))
            .file_name("access.log"),
    );
    let upload: Value = old
        .client
        .post(old.url("/api/v1/uploads"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = old.service_id(&token, "blog-mario.it").await;
    let r = old
        .post(
            &token,
            "/api/v1/tickets",
            serde_json::json!({
                "department": "helpdesk",
                "service_id": sid,
                "subject": "Errore 500 sulla home di blog-mario.it con il log",
                "description": "Da stamattina la home risponde 500: allego il log di accesso di oggi.",
                "priority": "normal",
                "upload_ids": [upload["id"]],
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // A refused e-mail (over 1 MB of attachments), whose text the customer can still read.
    let raw = "From: Mario Rossi <demo@example.it>\r\nTo: hd@smacloud.it\r\n\
        Subject: Errore 500 su blog-mario.it\r\nMessage-ID: <migrate-refused@example.it>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
        --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIl testo rifiutato resta leggibile.\r\n\
        --b1\r\nContent-Type: application/octet-stream; name=\"dump.sql\"\r\n\
        Content-Transfer-Encoding: base64\r\n\r\n"
        .to_string()
        + &"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\r\n"
            .repeat(20_000)
        + "--b1--\r\n";
    let config = old.state().config.clone();
    old.ingest_piped(&config, raw.into_bytes(), &[], true).await;
    let rejections_before = old.get_json(&token, "/api/v1/mail-rejections").await;
    assert!(
        rejections_before["items"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("resta leggibile")),
        "{rejections_before}"
    );
    let list_before = old.get_json(&token, "/api/v1/tickets").await;
    let files_dir = old.state().config.files_dir();
    let mail_dir = old.state().config.mail_dir();

    let target = PgStore::open(&url, 4).await.unwrap();
    let moved = migrate_to(
        old.state().store.sqlite().unwrap(),
        &files_dir,
        &mail_dir,
        &target,
    )
    .await
    .expect("moved");
    assert!(moved.files >= 1, "the upload's bytes moved");
    let again = migrate_to(
        old.state().store.sqlite().unwrap(),
        &files_dir,
        &mail_dir,
        &target,
    )
    .await;
    let refused = again.err().expect("a second run is refused").to_string();
    assert!(refused.contains("not empty"), "{refused}");
    target.close().await;

    // The same customer, on PostgreSQL: the same session, the same list, the same file.
    let new = spawn_on(Some(url), |c| c.demo = false).await;
    assert_eq!(new.get(&token, "/api/v1/me").await.status(), StatusCode::OK);
    let list_after = new.get_json(&token, "/api/v1/tickets").await;
    assert_eq!(list_before, list_after);
    assert_eq!(
        new.get_json(&token, "/api/v1/mail-rejections").await,
        rejections_before,
        "the refused e-mail's text moved with its raw mail"
    );
    let code = list_after["items"][0]["code"].as_str().unwrap();
    let ticket = new
        .get_json(&token, &format!("/api/v1/tickets/{code}"))
        .await;
    let id = ticket["messages"][0]["attachments"][0]["id"]
        .as_str()
        .unwrap();
    let body = new
        .get(&token, &format!("/api/v1/attachments/{id}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 34 * 20_000);
    // New tickets draw ids after the moved ones.
    new.open_ticket(&token, "blog-mario.it").await;
    old.stop().await;
    new.stop().await;
}
