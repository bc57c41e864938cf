//! Two languages: API errors in the request's Accept-Language, a customer's saved language, and
//! e-mails in it (Italian, then English, to a sender we do not know).

use crate::helpers::{error_code, spawn_app, spawn_with, TestApp};
use crate::history::outbox_for;
use crate::notifications::text_parts;
use helpdesk_server::mail::Outcome;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Sends the same request twice, with `Accept-Language: accept` and with none: the two error
/// answers (status, code, the whole body).
async fn both_ways(
    accept: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> [(StatusCode, String, Value); 2] {
    let asked = error_code(
        build()
            .header("accept-language", accept)
            .send()
            .await
            .expect("request"),
    )
    .await;
    let plain = error_code(build().send().await.expect("request")).await;
    [asked, plain]
}

fn message(v: &Value) -> &str {
    v["error"]["message"].as_str().expect("error.message")
}

#[tokio::test]
async fn english_accept_language_gets_english_messages_with_the_same_codes() {
    let app = spawn_app().await;
    let token = app.login("demo@example.it").await;

    // No session.
    let [en, it] = both_ways("en-GB,en;q=0.9", || app.client.get(app.url("/api/v1/me"))).await;
    assert_eq!(
        (en.0, en.1.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(
        (it.0, it.1.as_str()),
        (en.0, en.1.as_str()),
        "the same status and code"
    );
    assert_eq!(
        message(&en.2),
        "No session, or it has expired: please log in again."
    );
    assert_eq!(
        message(&it.2),
        "Sessione assente o scaduta: accedi di nuovo."
    );

    // A ticket refused by a rule: the same code and fields, the words in English.
    let sid = app.service_id(&token, "blog-mario.it").await;
    let ticket = json!({
        "department": "helpdesk",
        "service_id": sid,
        "subject": "Errore 500 sulla home di blog-mario.it",
        "description": "corto",
        "priority": "normal",
    });
    let [en, it] = both_ways("en-US", || {
        app.client
            .post(app.url("/api/v1/tickets"))
            .bearer_auth(&token)
            .json(&ticket)
    })
    .await;
    assert_eq!(en.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((en.0, &en.1), (it.0, &it.1));
    assert_eq!(en.2["error"]["fields"], it.2["error"]["fields"], "{}", en.2);
    assert_eq!(en.2["error"]["fields"]["description"], "too_short");
    assert!(
        message(&en.2).starts_with("The text is too short"),
        "{}",
        en.2
    );
    assert!(
        message(&it.2).starts_with("Il testo è troppo breve"),
        "{}",
        it.2
    );

    // Malformed JSON, read before any handler runs.
    let [en, it] = both_ways("en", || {
        app.client
            .post(app.url("/api/v1/tickets"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{not json")
    })
    .await;
    assert_eq!(
        (en.0, en.1.as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert_eq!((it.0, &it.1), (en.0, &en.1));
    assert_eq!(
        message(&en.2),
        "Invalid request: the JSON is not well formed."
    );

    // Another language than ours, or English refused with q=0: Italian.
    for accept in ["fr-FR", "de, en;q=0", "it-IT,it;q=0.9,en;q=0.8"] {
        let r = app
            .client
            .get(app.url("/api/v1/me"))
            .header("accept-language", accept)
            .send()
            .await
            .expect("request");
        let (_, code, v) = error_code(r).await;
        assert_eq!(code, "unauthorized");
        assert_eq!(
            message(&v),
            "Sessione assente o scaduta: accedi di nuovo.",
            "{accept}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_customer_saves_clears_and_cannot_mistype_their_language() {
    let app = spawn_app().await;
    let token = app.login("demo@example.it").await;
    assert_eq!(
        app.saved_language(&token).await,
        None,
        "demo customers start with none"
    );
    // Read once, so that the session is cached before the change.
    assert_eq!(app.saved_language(&token).await, None);

    let r = app.patch_me(&token, json!({"language": "en"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.expect("json");
    assert_eq!(me["language"], "en", "{me}");
    assert_eq!(me["email"], "demo@example.it");
    assert_eq!(
        app.saved_language(&token).await.as_deref(),
        Some("en"),
        "seen at once"
    );

    // A second session of the same customer sees it too, and a login returns it.
    let other = app.login("demo@example.it").await;
    assert_eq!(app.saved_language(&other).await.as_deref(), Some("en"));

    // Nothing asked, nothing changed.
    let r = app.patch_me(&token, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.expect("json")["language"], "en");

    let r = app.patch_me(&token, json!({"language": "it"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.saved_language(&token).await.as_deref(), Some("it"));

    let r = app.patch_me(&token, json!({"language": null})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.expect("json");
    assert!(me["language"].is_null(), "{me}");
    assert_eq!(app.saved_language(&token).await, None, "cleared at once");

    for bad in [
        json!({"language": "fr"}),
        json!({"language": "EN"}),
        json!({"language": ""}),
        json!({"language": 5}),
        json!({"lingua": "en"}),
        json!([]),
        json!("en"),
    ] {
        let (status, code, v) = error_code(app.patch_me(&token, bad.clone()).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert_eq!(code, "validation", "{bad}");
    }
    let (_, _, v) = error_code(app.patch_me(&token, json!({"language": "fr"})).await).await;
    assert_eq!(v["error"]["fields"]["language"], "unsupported", "{v}");
    assert_eq!(
        app.saved_language(&token).await,
        None,
        "a refused value changes nothing"
    );

    let r = app
        .client
        .patch(app.url("/api/v1/me"))
        .json(&json!({"language": "en"}))
        .send()
        .await
        .expect("request");
    assert_eq!(error_code(r).await.1, "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn the_route_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let patch = &doc["paths"]["/api/v1/me"]["patch"];
    assert!(patch["responses"]["200"].is_object(), "{patch}");
    assert!(patch["responses"]["422"].is_object(), "{patch}");
    assert!(doc["components"]["schemas"]["MeUpdate"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn an_english_customers_acknowledgments_are_in_english() {
    let app = spawn_with(|c| c.mail_require_auth = false).await;
    let token = app.login("demo@example.it").await;
    assert_eq!(
        app.patch_me(&token, json!({"language": "en"}))
            .await
            .status(),
        StatusCode::OK
    );

    // From the web.
    let t = app.open_ticket(&token, "blog-mario.it").await;
    let code = t["code"].as_str().expect("code").to_string();
    let mails = outbox_for(app.dir.path(), &code, 1).await;
    let parts = text_parts(&mails[0]);
    let (text, html) = (&parts[0].1, &parts[1].1);
    assert!(text.starts_with("Dear Mario Rossi,"), "{text}");
    assert!(
        text.contains(&format!("we have received your request and opened ticket {code} for the Helpdesk (Technical Support) department.")),
        "{text}"
    );
    assert!(!text.contains("abbiamo ricevuto"), "{text}");
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Open the ticket"),
        "{html}"
    );

    // By e-mail. (A subject that needs advice would get the subject hints of helpdesk-core,
    // which are Italian only for now.)
    let raw = "From: Mario Rossi <demo@example.it>\r\nTo: hd@smacloud.it\r\n\
               Subject: Errore 500 sulla home di blog-mario.it\r\n\
               Message-ID: <lang-ack@example.it>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
               The site does not answer since this morning.\r\n";
    let config = app.state().config.clone();
    let outcome = app
        .ingest_piped(&config, raw.as_bytes().to_vec(), &[], true)
        .await
        .outcome;
    let Outcome::NewTicket { code } = outcome else {
        panic!("a new ticket, not {outcome:?}");
    };
    let mails = outbox_for(app.dir.path(), &code, 1).await;
    let text = &text_parts(&mails[0])[0].1;
    assert!(text.contains("we have received your request"), "{text}");
    assert!(
        text.contains("You wrote:\n> The site does not answer"),
        "{text}"
    );
    assert!(!text.contains("Gentile"), "{text}");

    // Once cleared, Italian again.
    assert_eq!(
        app.patch_me(&token, json!({"language": null}))
            .await
            .status(),
        StatusCode::OK
    );
    let t = app.open_ticket(&token, "blog-mario.it").await;
    let code = t["code"].as_str().expect("code").to_string();
    let mails = outbox_for(app.dir.path(), &code, 1).await;
    let text = &text_parts(&mails[0])[0].1;
    assert!(text.contains("abbiamo ricevuto la tua richiesta"), "{text}");
    app.stop().await;
}

/// The body of the latest answer to a refused e-mail.
async fn last_refusal_answer(app: &TestApp) -> (String, String) {
    sqlx::query_as(
        "SELECT subject, body FROM outbox WHERE ticket_id IS NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.state().store.pool())
    .await
    .expect("an answer was queued")
}

#[tokio::test]
async fn a_refusal_to_an_unknown_sender_is_italian_then_english_and_to_a_customer_in_theirs() {
    let app = spawn_with(|c| c.mail_require_auth = false).await;
    let config = app.state().config.clone();
    let raw = "From: someone@altrodominio.example\r\nTo: hd@smacloud.it\r\nSubject: Sito lento\r\n\
               Message-ID: <lang-unknown@altrodominio.example>\r\n\r\nciao\r\n";
    let outcome = app
        .ingest_piped(&config, raw.as_bytes().to_vec(), &[], true)
        .await
        .outcome;
    assert!(
        matches!(
            outcome,
            Outcome::Refused {
                reason: "unknown_sender",
                answered: true
            }
        ),
        "{outcome:?}"
    );
    let (subject, body) = last_refusal_answer(&app).await;
    assert!(
        subject.contains("Messaggio non accettato") && subject.contains("Message not accepted"),
        "{subject}"
    );
    let it = body
        .find(
            "il messaggio con oggetto \"Sito lento\" inviato all'assistenza non è stato accettato",
        )
        .expect(&body);
    let en = body
        .find("the message with subject \"Sito lento\" sent to the helpdesk was not accepted")
        .expect(&body);
    assert!(it < en, "Italian first, English below: {body}");
    assert!(
        body.contains("write from your account's reference e-mail address"),
        "{body}"
    );

    // A customer who chose English: English only.
    let token = app.login("demo@example.it").await;
    assert_eq!(
        app.patch_me(&token, json!({"language": "en"}))
            .await
            .status(),
        StatusCode::OK
    );
    let raw = "From: Mario Rossi <demo@example.it>\r\nTo: hd@smacloud.it\r\n\
               Subject: Re: [#AAA-000-00000]: Certificato SSL scaduto\r\n\
               Message-ID: <lang-known@example.it>\r\n\r\nStill broken.\r\n";
    let outcome = app
        .ingest_piped(&config, raw.as_bytes().to_vec(), &[], true)
        .await
        .outcome;
    assert!(
        matches!(
            outcome,
            Outcome::Refused {
                reason: "unknown_ticket",
                answered: true
            }
        ),
        "{outcome:?}"
    );
    let (subject, body) = last_refusal_answer(&app).await;
    assert!(subject.starts_with("Message not accepted:"), "{subject}");
    assert!(
        body.contains("None of your tickets has the code given in the subject"),
        "{body}"
    );
    assert!(!body.contains("non è stato accettato"), "{body}");

    // The list of refused e-mails follows the page's language.
    let v: Value = app
        .client
        .get(app.url("/api/v1/mail-rejections"))
        .bearer_auth(&token)
        .header("accept-language", "en")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(
        v["items"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("None of your tickets")),
        "{v}"
    );
    app.stop().await;
}
