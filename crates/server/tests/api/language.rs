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

    // By e-mail (a subject that needs advice: see
    // `an_english_customers_email_advice_is_in_english`).
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
    .fetch_one(&app.sql().await)
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
        .find("un messaggio inviato all'assistenza da questo indirizzo non è stato accettato")
        .expect(&body);
    let en = body
        .find("a message sent to the helpdesk from this address was not accepted")
        .expect(&body);
    assert!(it < en, "Italian first, English below: {body}");
    // To an address that is no customer's, nothing of what the message said.
    assert!(
        !subject.contains("Sito lento") && !body.contains("Sito lento"),
        "{body}"
    );
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

/// Posts the subject check with `Accept-Language: accept` and with none: the two answers.
async fn assess_both_ways(app: &TestApp, token: &str, accept: &str, body: &Value) -> [Value; 2] {
    let send = |accept: Option<&str>| {
        let mut r = app
            .client
            .post(app.url("/api/v1/subjects/assess"))
            .bearer_auth(token)
            .json(body);
        if let Some(a) = accept {
            r = r.header("accept-language", a);
        }
        async move {
            let r = r.send().await.expect("request");
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.expect("an assessment")
        }
    };
    [send(Some(accept)).await, send(None).await]
}

fn hints(v: &Value) -> Vec<(String, String)> {
    v["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| {
            let s = |k: &str| h[k].as_str().expect("a string").to_string();
            (s("code"), s("message"))
        })
        .collect()
}

/// Words of the Italian hints that no English hint has.
const ITALIAN: &[&str] = &[
    "per esempio",
    "servizio",
    "dominio",
    "oggetto",
    "Descrivi",
    "Indica",
    "Scrivi",
    "cosa",
    "errore",
    "tuodominio",
    "urgente",
];

#[tokio::test]
async fn the_subject_check_writes_its_hints_in_the_requests_language() {
    let app = spawn_app().await;
    let token = app.login("demo@example.it").await;
    let sid = app.service_id(&token, "blog-mario.it").await;

    let [en, it] = assess_both_ways(
        &app,
        &token,
        "en-GB,en;q=0.9",
        &json!({"subject": "Problema", "department": "helpdesk", "service_id": sid}),
    )
    .await;
    // The same judgment and codes: only the words change.
    assert_eq!(en["score"], it["score"]);
    assert_eq!(en["verdict"], it["verdict"]);
    let (en_hints, it_hints) = (hints(&en), hints(&it));
    let codes = |h: &[(String, String)]| h.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>();
    assert_eq!(codes(&en_hints), codes(&it_hints));
    assert_eq!(en_hints[0].0, "describe_symptom", "{en}");
    assert_eq!(
        en_hints[0].1,
        "Describe the symptom: what is not working and where, for example \
         “blog-mario.it: error 500 on the home page”"
    );
    assert_eq!(
        it_hints[0].1,
        "Descrivi il sintomo: cosa non funziona e dove, per esempio \
         «blog-mario.it: errore 500 sulla home»"
    );

    // Other subjects and contexts: every English hint is English, every default one Italian.
    for body in [
        json!({"subject": "problema urgente!!!"}),
        json!({"subject": "Rinnovo", "department": "sales"}),
        json!({"subject": "HELP ME NOW PLEASE", "department": "helpdesk", "service_id": sid}),
        json!({"subject": "errore 500 su studio-rossi.it", "service_id": sid}),
    ] {
        let [en, it] = assess_both_ways(&app, &token, "en", &body).await;
        let (en_hints, it_hints) = (hints(&en), hints(&it));
        assert!(!en_hints.is_empty(), "{body}: {en}");
        assert_eq!(codes(&en_hints), codes(&it_hints), "{body}");
        let subject = body["subject"].as_str().expect("subject");
        for (code, m) in &en_hints {
            assert!(!m.contains('{'), "{code}: {m}");
            for w in ITALIAN.iter().filter(|w| !subject.contains(*w)) {
                assert!(!m.contains(w), "{body}: {w:?} in English {code}: {m}");
            }
        }
        for (code, m) in &it_hints {
            assert!(
                ITALIAN.iter().any(|w| m.contains(w))
                    || m.starts_with("Un ticket")
                    || m.starts_with("L'oggetto")
                    || m.starts_with("Saluti"),
                "{body}: not Italian {code}: {m}"
            );
        }
    }

    // A subject refused on opening the ticket comes back with its hints in the same language.
    let ticket = json!({
        "department": "helpdesk",
        "service_id": sid,
        "subject": "aiuto!",
        "description": "Il sito non risponde da stamattina, né da casa né dall'ufficio.",
        "priority": "normal",
    });
    let [en, it] = both_ways("en", || {
        app.client
            .post(app.url("/api/v1/tickets"))
            .bearer_auth(&token)
            .json(&ticket)
    })
    .await;
    assert_eq!(
        (en.0, en.1.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation")
    );
    let (en_hints, it_hints) = (hints(&en.2["error"]), hints(&it.2["error"]));
    assert!(!en_hints.is_empty(), "{}", en.2);
    assert_eq!(codes(&en_hints), codes(&it_hints));
    assert!(
        en_hints
            .iter()
            .any(|(_, m)| m.starts_with("Describe the symptom")),
        "{}",
        en.2
    );
    assert!(
        it_hints
            .iter()
            .any(|(_, m)| m.starts_with("Descrivi il sintomo")),
        "{}",
        it.2
    );
    app.stop().await;
}

#[tokio::test]
async fn an_english_customers_email_advice_is_in_english() {
    let app = spawn_with(|c| c.mail_require_auth = false).await;
    let token = app.login("demo@example.it").await;
    let config = app.state().config.clone();
    let mut bodies = Vec::new();
    for (lang, id) in [(json!("en"), "en"), (Value::Null, "it")] {
        assert_eq!(
            app.patch_me(&token, json!({"language": lang}))
                .await
                .status(),
            StatusCode::OK
        );
        let raw = format!(
            "From: Mario Rossi <demo@example.it>\r\nTo: hd@smacloud.it\r\n\
             Subject: Problema\r\n\
             Message-ID: <lang-advice-{id}@example.it>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             The site does not answer since this morning.\r\n"
        );
        let outcome = app
            .ingest_piped(&config, raw.into_bytes(), &[], true)
            .await
            .outcome;
        let Outcome::NewTicket { code } = outcome else {
            panic!("a new ticket, not {outcome:?}");
        };
        let mails = outbox_for(app.dir.path(), &code, 1).await;
        bodies.push(text_parts(&mails[0])[0].1.clone());
    }
    let (en, it) = (&bodies[0], &bodies[1]);
    assert!(
        en.contains("Describe the symptom: what is not working and where"),
        "{en}"
    );
    assert!(
        !en.contains("Descrivi") && !en.contains("per esempio"),
        "{en}"
    );
    assert!(
        it.contains("Descrivi il sintomo: cosa non funziona e dove"),
        "{it}"
    );
    app.stop().await;
}
