//! What the customer reads in their mailbox: notifications as mailers show them, and the answers
//! to e-mails that name a service or a ticket code.

use crate::helpers::{spawn_with, TestApp};
use crate::history::{header, outbox_for};
use helpdesk_server::mail::Outcome;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Each text part of a message, decoded, by content type, in order.
pub(crate) fn text_parts(eml: &str) -> Vec<(String, String)> {
    use mail_parser::MimeHeaders;
    let msg = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .expect("a MIME message");
    msg.parts
        .iter()
        .filter_map(|p| {
            let ct = p.content_type()?;
            let kind = format!("{}/{}", ct.ctype(), ct.subtype()?);
            match &p.body {
                mail_parser::PartType::Text(t) | mail_parser::PartType::Html(t) => {
                    Some((kind, t.replace("\r\n", "\n")))
                }
                _ => None,
            }
        })
        .collect()
}

#[tokio::test]
async fn notifications_are_mime_with_the_text_first_and_an_escaped_html_part() {
    let app = spawn_with(|_| {}).await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let sid = app.service_id(&demo, "blog-mario.it").await;
    let r = app
        .post(
            &demo,
            "/api/v1/tickets",
            json!({
                "department": "helpdesk",
                "service_id": sid,
                "subject": "Errore 500 su blog-mario.it <b>dopo</b> il plugin",
                "description": "Dopo l'aggiornamento del plugin <script>alert(1)</script> la home dà errore 500.",
                "priority": "normal",
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let code = r.json::<Value>().await.expect("json")["code"]
        .as_str()
        .expect("code")
        .to_string();
    app.staff_reply(
        &staff,
        &code,
        "Abbiamo disattivato la cache <i>del plugin</i>: ci confermi?",
    )
    .await;

    let mails = outbox_for(app.dir.path(), &code, 2).await;
    assert_eq!(mails.len(), 2, "acknowledgment and staff reply");
    for eml in &mails {
        assert_eq!(header(eml, "MIME-Version"), Some("1.0"), "{eml}");
        assert!(
            header(eml, "Content-Type").is_some_and(|c| c.starts_with("multipart/alternative")),
            "{eml}"
        );
        let parts = text_parts(eml);
        let kinds: Vec<&str> = parts.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["text/plain", "text/html"], "the text part first");
        let html = &parts[1].1;
        for markup in ["<script>", "<b>dopo", "<i>del"] {
            assert!(!html.contains(markup), "{markup} unescaped in {html}");
        }
    }
    let ack = text_parts(&mails[0]);
    assert!(
        ack[0]
            .1
            .contains("per il reparto Helpdesk (Assistenza Tecnica)."),
        "{}",
        ack[0].1
    );
    assert!(
        ack[0].1.contains("> Dopo l'aggiornamento del plugin"),
        "the acknowledgment repeats what the customer wrote: {}",
        ack[0].1
    );
    assert!(ack[1].1.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let reply = text_parts(&mails[1]);
    for (_, part) in &reply {
        assert!(
            part.contains("in attesa di una tua risposta"),
            "the reply says the ticket waits for the customer: {part}"
        );
    }
    assert!(reply[1].1.contains("&lt;i&gt;del plugin&lt;/i&gt;"));
    app.stop().await;
}

async fn ingest(app: &TestApp, raw: String) -> Outcome {
    let config = app.state().config.clone();
    app.ingest_piped(&config, raw.replace('\n', "\r\n").into_bytes(), &[], true)
        .await
        .outcome
}

fn email(to: &str, subject: &str, id: &str) -> String {
    format!(
        "From: Mario Rossi <demo@example.it>\nTo: {to}\nSubject: {subject}\nMessage-ID: <{id}@example.it>\n\
         Content-Type: text/plain; charset=utf-8\n\nVorrei sapere costi e tempi, grazie.\n"
    )
}

#[tokio::test]
async fn a_plan_named_beside_a_domain_is_what_is_asked_for_not_another_service() {
    let app = spawn_with(|c| c.mail_require_auth = false).await;
    let outcome = ingest(
        &app,
        email(
            "sales@smacloud.it",
            "Preventivo per passaggio di blog-mario.it a Hosting Pro",
            "plan",
        ),
    )
    .await;
    let Outcome::NewTicket { code } = outcome else {
        panic!("a new ticket, not {outcome:?}");
    };
    let demo = app.login("demo@example.it").await;
    let t: Value = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    assert_eq!(t["service"]["identifier"], "blog-mario.it", "{t}");
    app.stop().await;
}

#[tokio::test]
async fn a_code_that_is_none_of_the_senders_tickets_is_refused_alike_whether_or_not_it_exists() {
    let app = spawn_with(|c| c.mail_require_auth = false).await;
    let altro = app.login("altro@example.it").await;
    let list: Value = app.get_json(&altro, "/api/v1/tickets").await;
    let others = list["items"][0]["code"]
        .as_str()
        .expect("the other customer has a ticket")
        .to_string();
    let mut reasons = Vec::new();
    for (i, code) in [others.as_str(), "AAA-000-00000"].iter().enumerate() {
        let outcome = ingest(
            &app,
            email(
                "hd@smacloud.it",
                &format!("Re: [#{code}]: Certificato SSL scaduto"),
                &format!("code{i}"),
            ),
        )
        .await;
        let Outcome::Refused { reason, .. } = outcome else {
            panic!("refused, not {outcome:?}");
        };
        reasons.push(reason.to_string());
    }
    assert_eq!(reasons[0], reasons[1], "the same reason either way");
    assert_eq!(reasons[0], "unknown_ticket");

    let demo = app.login("demo@example.it").await;
    let v: Value = app.get_json(&demo, "/api/v1/mail-rejections").await;
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{v}");
    assert_eq!(items[0]["message"], items[1]["message"], "the same words");
    let message = items[0]["message"].as_str().expect("message");
    assert!(
        message.contains("Nessuno dei tuoi ticket ha il codice"),
        "{message}"
    );
    assert!(!message.contains("non è tuo"), "{message}");
    app.stop().await;
}
