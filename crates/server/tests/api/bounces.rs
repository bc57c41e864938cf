//! Bounces of our own notifications (issue 21): a delivery-status notification quoting one of our
//! Message-IDs marks the customer's address as not receiving our mail; `/me` shows it, a real
//! message from the customer or the "retry" button clears it, and staff see it.

use crate::helpers::{error_code, spawn_with, TestApp};
use helpdesk_server::mail::{Ingested, Outcome};
use reqwest::StatusCode;
use serde_json::{json, Value};

const DEMO: &str = "demo@example.it";

async fn spawn() -> TestApp {
    spawn_with(|c| c.mail_require_auth = false).await
}

async fn ingest(app: &TestApp, raw: String) -> Ingested {
    let config = app.state().config.clone();
    app.ingest_piped(&config, raw.into_bytes(), &[], true).await
}

/// One of the notifications the demo data queued for demo@example.it, as stored (`<id>`).
async fn our_message_id(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT message_id FROM outbox WHERE to_addr = $1 ORDER BY id LIMIT 1")
        .bind(DEMO)
        .fetch_one(&app.sql().await)
        .await
        .expect("a notification to the demo customer")
}

/// The delivery-status notification (RFC 3464) of the fixtures, shared with the browser tests:
/// a full mailbox returning the headers of our message `returned`, with a Message-ID of its own.
fn mailbox_full(returned: &str) -> String {
    include_str!("../fixtures/mail/bounce-of-our-notification.eml")
        .replace("{{OUR_MESSAGE_ID}}", returned)
        .replace("{{BOUNCE_ID}}", &helpdesk_server::util::random_id())
        .replace('\n', "\r\n")
}

/// The same notification for an address that does not exist.
fn unknown_user(returned: &str) -> String {
    mailbox_full(returned)
        .replace("Status: 5.2.2", "Status: 5.1.1")
        .replace(
            "552 5.2.2 Mailbox full, quota exceeded",
            "550 5.1.1 <demo@example.it>: user unknown",
        )
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.get_json(token, "/api/v1/me").await
}

fn refused(i: &Ingested) -> &'static str {
    match i.outcome {
        Outcome::Refused {
            reason,
            answered: false,
        } => reason,
        ref other => panic!("expected a silent refusal, got {other:?}"),
    }
}

/// Marks demo@example.it through a bounce of one of our notifications.
async fn bounce_ours(app: &TestApp) {
    let ours = our_message_id(app).await;
    let i = ingest(app, mailbox_full(&ours)).await;
    assert_eq!(refused(&i), "bounce");
    assert!(!i.queued_mail, "a bounce is never answered");
}

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    let db = app.sql().await;
    let one = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&db)
                .await
                .expect("count")
        }
    };
    (
        one("SELECT COUNT(*) FROM messages").await,
        one("SELECT COUNT(*) FROM outbox").await,
        one("SELECT COUNT(*) FROM tickets WHERE status <> 'closed'").await,
    )
}

#[tokio::test]
async fn a_bounce_quoting_our_message_id_marks_the_address_and_me_shows_it() {
    let app = spawn().await;
    let token = app.login(DEMO).await;
    assert_eq!(me(&app, &token).await["mail_delivery"], Value::Null);
    assert_eq!(me(&app, &token).await["email"], DEMO);
    let before = counts(&app).await;

    bounce_ours(&app).await;

    let m = me(&app, &token).await;
    assert_eq!(m["mail_delivery"]["reason"], "mailbox_full", "{m}");
    let since = m["mail_delivery"]["since"].as_str().expect("since");
    // RFC 3339 as every other timestamp of the API, and today's.
    let today = helpdesk_server::util::rfc3339(helpdesk_server::util::now_us());
    assert_eq!(since.len(), today.len(), "{since}");
    assert!(
        since.ends_with('Z') && since[..10] == today[..10],
        "{since}"
    );
    // Nothing joined a thread, nothing reopened, nothing was answered.
    assert_eq!(counts(&app).await, before);

    // Unknown user and a policy rejection are told apart; `since` stays the first bounce's.
    let ours = our_message_id(&app).await;
    let i = ingest(&app, unknown_user(&ours)).await;
    assert_eq!(refused(&i), "bounce");
    let again = me(&app, &token).await;
    assert_eq!(again["mail_delivery"]["reason"], "unknown_user");
    assert_eq!(again["mail_delivery"]["since"], since);
    app.stop().await;
}

#[tokio::test]
async fn a_forged_bounce_quoting_a_made_up_id_marks_nothing() {
    let app = spawn().await;
    let token = app.login(DEMO).await;
    let before = counts(&app).await;
    let i = ingest(&app, mailbox_full("<made-up-1234@helpdesk.smacloud.it>")).await;
    assert_eq!(refused(&i), "automatic");
    assert_eq!(me(&app, &token).await["mail_delivery"], Value::Null);
    assert_eq!(counts(&app).await, before);
    let detail: String = sqlx::query_scalar("SELECT detail FROM mail_intake WHERE id = $1")
        .bind(&i.id)
        .fetch_one(&app.sql().await)
        .await
        .unwrap();
    assert!(detail.starts_with("delivery_status"), "{detail}");
    assert!(detail.contains("none of our messages"), "{detail}");
    app.stop().await;
}

#[tokio::test]
async fn a_read_receipt_or_an_out_of_office_does_not_clear_the_mark() {
    let app = spawn().await;
    let token = app.login(DEMO).await;
    bounce_ours(&app).await;
    let ours = our_message_id(&app).await;
    let receipt = format!(
        "From: {DEMO}\r\nTo: hd@smacloud.it\r\nSubject: Letto: Aggiornamento\r\n\
         Message-ID: <receipt-1@example.it>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=disposition-notification; boundary=\"mdn\"\r\n\r\n\
         --mdn\r\nContent-Type: text/plain\r\n\r\nIl messaggio è stato visualizzato.\r\n\r\n\
         --mdn\r\nContent-Type: message/disposition-notification\r\n\r\n\
         Final-Recipient: rfc822;{DEMO}\r\nOriginal-Message-ID: {ours}\r\n\
         Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--mdn--\r\n"
    );
    assert_eq!(refused(&ingest(&app, receipt).await), "automatic");
    let away = format!(
        "From: {DEMO}\r\nTo: hd@smacloud.it\r\nSubject: Sono in ferie\r\n\
         Message-ID: <away-1@example.it>\r\nIn-Reply-To: {ours}\r\nAuto-Submitted: auto-replied\r\n\r\n\
         Rientro in ufficio lunedì.\r\n"
    );
    assert_eq!(refused(&ingest(&app, away).await), "automatic");
    assert_eq!(
        me(&app, &token).await["mail_delivery"]["reason"],
        "mailbox_full"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_new_message_from_the_customer_clears_the_mark() {
    let app = spawn().await;
    let token = app.login(DEMO).await;
    bounce_ours(&app).await;
    let mail = format!(
        "From: {DEMO}\r\nTo: hd@smacloud.it\r\nSubject: Errore 500 su blog-mario.it\r\n\
         Message-ID: <new-1@example.it>\r\n\r\n\
         Ho svuotato la casella. Il sito blog-mario.it risponde con errore 500 da stamattina.\r\n"
    );
    let i = ingest(&app, mail).await;
    assert!(matches!(i.outcome, Outcome::NewTicket { .. }), "{i:?}");
    assert_eq!(me(&app, &token).await["mail_delivery"], Value::Null);
    app.stop().await;
}

/// The test e-mails queued to demo@example.it (no ticket, to the customer, the test's subject).
async fn test_messages(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE ticket_id IS NULL AND to_addr = $1
           AND (subject LIKE '%recapito%' OR subject LIKE '%Delivery test%')",
    )
    .bind(DEMO)
    .fetch_one(&app.sql().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn retry_clears_the_mark_and_queues_exactly_one_test_message() {
    let app = spawn().await;
    let token = app.login(DEMO).await;
    let retry = "/api/v1/me/mail-delivery/retry";

    // Without a mark nothing is sent.
    let r = app.post(&token, retry, json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(test_messages(&app).await, 0);

    bounce_ours(&app).await;
    let r = app.post(&token, retry, json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &token).await["mail_delivery"], Value::Null);
    assert_eq!(test_messages(&app).await, 1);
    // A second press finds no mark: still one.
    let r = app.post(&token, retry, json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(test_messages(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn staff_see_the_bounce_and_a_customer_is_refused_as_on_other_staff_routes() {
    let app = spawn().await;
    bounce_ours(&app).await;
    let staff = app.login("staff@example.it").await;
    let r = app
        .get(&staff, &format!("/api/v1/staff/mail?address={DEMO}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = r.json().await.unwrap();
    let items = list["items"].as_array().expect("items");
    let bounce = items
        .iter()
        .find(|i| i["reason"] == "bounce")
        .unwrap_or_else(|| panic!("the bounce is listed: {list}"));
    assert_eq!(bounce["kind"], "delivery_status");
    assert!(
        bounce["detail"].as_str().unwrap().contains("5.2.2"),
        "{list}"
    );
    let marked = &list["undeliverable"][0];
    assert_eq!(marked["address"], DEMO);
    assert_eq!(marked["reason"], "mailbox_full");

    // Another address sees none of it.
    let other: Value = app
        .get_json(&staff, "/api/v1/staff/mail?address=altro@example.it")
        .await;
    assert!(!other["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["reason"] == "bounce"));
    assert_eq!(other["undeliverable"], json!([]));

    let customer = app.login(DEMO).await;
    let (status, code, _) = error_code(app.get(&customer, "/api/v1/staff/mail").await).await;
    let code_of_ticket = sqlx::query_scalar::<_, String>("SELECT code FROM tickets LIMIT 1")
        .fetch_one(&app.sql().await)
        .await
        .unwrap();
    let (status2, code2, _) = error_code(
        app.post(
            &customer,
            &format!("/api/v1/staff/tickets/{code_of_ticket}/messages"),
            json!({"body": "ciao"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code), (status2, code2));
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_new_routes_and_the_mark() {
    let app = spawn().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/staff/mail"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/me/mail-delivery/retry"]["post"].is_object());
    let me = doc["paths"]["/api/v1/me"]["get"]["responses"]["200"].to_string();
    assert!(me.contains("#/components/schemas/Me"), "{me}");
    let schema = doc["components"]["schemas"]["Me"].to_string();
    assert!(schema.contains("mail_delivery"), "{schema}");
    assert!(schema.contains("Customer"), "{schema}");
    let reasons = doc["components"]["schemas"]["MailDeliveryReason"].to_string();
    for r in ["mailbox_full", "unknown_user", "rejected", "other"] {
        assert!(reasons.contains(r), "{reasons}");
    }
    app.stop().await;
}
