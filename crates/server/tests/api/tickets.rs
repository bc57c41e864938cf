use crate::helpers::{error_code, spawn_app};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn a_customer_sees_only_their_own_tickets_newest_activity_first() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let altro = app.login("altro@example.it").await;
    let list: Value = app.get_json(&demo, "/api/v1/tickets").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items
        .iter()
        .all(|t| !t["subject"].as_str().unwrap().contains("bianchi")));
    let times: Vec<&str> = items
        .iter()
        .map(|t| t["last_activity_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    assert_eq!(list["counts"]["closed"], 1);
    assert_eq!(
        list["counts"]["awaiting_customer"].as_u64().unwrap()
            + list["counts"]["open"].as_u64().unwrap(),
        3
    );

    let other: Value = app.get_json(&altro, "/api/v1/tickets").await;
    let code = other["items"][0]["code"].as_str().unwrap().to_string();
    // Another customer's ticket answers exactly as a missing one.
    let (s1, c1, b1) = error_code(app.get(&demo, &format!("/api/v1/tickets/{code}")).await).await;
    let (s2, c2, b2) = error_code(app.get(&demo, "/api/v1/tickets/ZZZ-000-00000").await).await;
    assert_eq!((s1, c1, b1), (s2, c2, b2));
    assert_eq!(s1, StatusCode::NOT_FOUND);
    for path in ["messages", "close", "reopen"] {
        let r = app
            .post(
                &demo,
                &format!("/api/v1/tickets/{code}/{path}"),
                json!({"body": "ciao"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_list_filters_by_status_searches_and_pages_without_gaps() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    for _ in 0..5 {
        app.open_ticket(&demo, "pizzeria-da-mario.it").await;
    }
    let closed: Value = app.get_json(&demo, "/api/v1/tickets?status=closed").await;
    assert_eq!(closed["items"].as_array().unwrap().len(), 1);
    assert_eq!(closed["items"][0]["status"], "closed");

    let found: Value = app.get_json(&demo, "/api/v1/tickets?q=ssh").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let code = found["items"][0]["code"].as_str().unwrap().to_string();
    let by_code: Value = app
        .get_json(&demo, &format!("/api/v1/tickets?q={}", &code[..7]))
        .await;
    assert_eq!(by_code["items"][0]["code"], code.as_str());

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?limit=3&cursor={c}"),
            None => "/api/v1/tickets?limit=3".to_string(),
        };
        let page: Value = app.get_json(&demo, &path).await;
        for t in page["items"].as_array().unwrap() {
            seen.push(t["code"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 9, "no ticket twice");
    let (s, _, v) = error_code(app.get(&demo, "/api/v1/tickets?status=bogus").await).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["fields"]["status"], "invalid");
    app.stop().await;
}

fn new_ticket(service_id: &str) -> Value {
    json!({
        "department": "helpdesk",
        "service_id": service_id,
        "subject": "Errore 500 sulla home di blog-mario.it",
        "description": "Da stamattina la home page risponde con errore 500; le altre pagine funzionano.",
        "priority": "normal",
    })
}

#[tokio::test]
async fn opening_a_ticket_checks_every_rule_again() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let altro = app.login("altro@example.it").await;
    let mine = app.service_id(&demo, "blog-mario.it").await;
    let theirs = app.service_id(&altro, "bianchi-arredi.it").await;

    // (what to change in a good ticket, to what) → (the field named, its code)
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("service_id", json!(theirs), "service_id", "unknown_service"),
        ("service_id", Value::Null, "service_id", "service_required"),
        ("subject", json!("aiuto!"), "subject", "subject_generic"),
        (
            "subject",
            json!("richiesta assistenza"),
            "subject",
            "subject_generic",
        ),
        ("subject", json!("x".repeat(151)), "subject", "too_long"),
        ("description", json!("non va"), "description", "too_short"),
        ("upload_ids", json!(vec!["a"; 11]), "upload_ids", "too_many"),
        (
            "upload_ids",
            json!(["0123456789abcdef0123456789abcdef"]),
            "upload_ids",
            "upload_unavailable",
        ),
    ];
    for (key, value, field, code) in cases {
        let mut body = new_ticket(&mine);
        body[key] = value;
        let (status, err, v) = error_code(app.post(&demo, "/api/v1/tickets", body).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(err, "validation");
        assert_eq!(v["error"]["fields"][field], code, "{v}");
    }
    // The generic subject comes back with the same hints the app shows.
    let mut t = new_ticket(&mine);
    t["subject"] = json!("aiuto!");
    let (_, _, v) = error_code(app.post(&demo, "/api/v1/tickets", t).await).await;
    assert!(!v["error"]["hints"].as_array().unwrap().is_empty(), "{v}");
    // A priority or department outside the contract is refused.
    for (k, bad) in [("priority", "urgent"), ("department", "billing")] {
        let mut t = new_ticket(&mine);
        t[k] = json!(bad);
        let (status, _, _) = error_code(app.post(&demo, "/api/v1/tickets", t).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Nothing was opened by any of these.
    let list: Value = app.get_json(&demo, "/api/v1/tickets").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn sales_may_ask_without_a_service_and_the_code_has_the_right_shape() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let r = app
        .post(
            &demo,
            "/api/v1/tickets",
            json!({
                "department": "sales",
                "service_id": null,
                "subject": "Preventivo per un server dedicato con 64 GB di RAM",
                "description": "Vorrei un preventivo per un server dedicato con 64 GB di RAM e due dischi SSD in RAID 1.",
                "priority": "low",
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let t: Value = r.json().await.unwrap();
    let code = t["code"].as_str().unwrap();
    assert!(helpdesk_core::TicketCode::parse(code).is_some(), "{code}");
    assert_eq!(t["status"], "open");
    assert_eq!(t["service"], Value::Null);
    assert_eq!(t["messages"][0]["author"]["kind"], "customer");
    assert_eq!(t["messages"][0]["channel"], "web");
    app.stop().await;
}

#[tokio::test]
async fn a_retry_with_the_same_key_never_makes_a_second_ticket_even_when_racing() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let sid = app.service_id(&demo, "blog-mario.it").await;
    let send = |key: &'static str, body: Value| {
        app.client
            .post(app.url("/api/v1/tickets"))
            .bearer_auth(&demo)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let body = new_ticket(&sid);
    let racing: Vec<_> = (0..8).map(|_| send("key-1", body.clone())).collect();
    let answers = futures_join(racing).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 200, 200, 201]);
    let codes: std::collections::HashSet<String> = answers.into_iter().map(|(_, c)| c).collect();
    assert_eq!(codes.len(), 1, "every answer names the same ticket");
    let list: Value = app.get_json(&demo, "/api/v1/tickets").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);

    let mut other = body.clone();
    other["subject"] = json!("Errore 404 sulla pagina contatti di blog-mario.it");
    let (status, code, _) = error_code(send("key-1", other).await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "idempotency_key_reused")
    );
    app.stop().await;
}

async fn futures_join(
    reqs: Vec<impl std::future::Future<Output = reqwest::Result<reqwest::Response>>>,
) -> Vec<(u16, String)> {
    let all = reqs.into_iter().map(|f| async move {
        let r = f.await.expect("request");
        let status = r.status().as_u16();
        let v: Value = r.json().await.expect("json");
        (status, v["code"].as_str().unwrap_or_default().to_string())
    });
    futures_util::future::join_all(all).await
}

/// The list's counts, as a customer reads them above the list.
async fn counts(app: &crate::helpers::TestApp, token: &str) -> (u64, u64, u64) {
    let list: Value = app.get_json(token, "/api/v1/tickets").await;
    let n = |s: &str| list["counts"][s].as_u64().unwrap();
    (n("open"), n("awaiting_customer"), n("closed"))
}

#[tokio::test]
async fn the_list_counts_follow_every_opening_reply_close_and_reopen() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let (open, waiting, closed) = counts(&app, &demo).await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap();
    assert_eq!(counts(&app, &demo).await, (open + 1, waiting, closed));
    let r = app
        .post(
            &staff,
            &format!("/api/v1/staff/tickets/{code}/messages"),
            json!({"body": "Abbiamo riavviato il servizio: ci confermi che funziona?"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(counts(&app, &demo).await, (open, waiting + 1, closed));
    app.post(&demo, &format!("/api/v1/tickets/{code}/close"), json!({}))
        .await;
    assert_eq!(counts(&app, &demo).await, (open, waiting, closed + 1));
    // Closing twice changes nothing.
    app.post(&demo, &format!("/api/v1/tickets/{code}/close"), json!({}))
        .await;
    assert_eq!(counts(&app, &demo).await, (open, waiting, closed + 1));
    app.post(
        &demo,
        &format!("/api/v1/tickets/{code}/messages"),
        json!({"body": "Si è fermato di nuovo alle 10."}),
    )
    .await;
    assert_eq!(counts(&app, &demo).await, (open + 1, waiting, closed));
    // A search counts what it finds.
    let found: Value = app
        .get_json(&demo, &format!("/api/v1/tickets?q={code}"))
        .await;
    assert_eq!(found["counts"]["open"], 1);
    assert_eq!(found["counts"]["closed"], 0);
    app.stop().await;
}

#[tokio::test]
async fn a_reply_answers_with_the_new_message_only_however_long_the_thread() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap();
    for i in 0..5 {
        let r: Value = app
            .post(
                &demo,
                &format!("/api/v1/tickets/{code}/messages"),
                json!({"body": format!("Aggiornamento numero {i}: ancora errore 500.")}),
            )
            .await
            .json()
            .await
            .unwrap();
        let messages = r["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 1, "only the new message: {r}");
        assert_eq!(
            messages[0]["body"],
            format!("Aggiornamento numero {i}: ancora errore 500.")
        );
        assert_eq!(r["status"], "open");
        assert_eq!(r["code"], code);
    }
    let closed: Value = app
        .post(&demo, &format!("/api/v1/tickets/{code}/close"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "closed");
    let events = closed["messages"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["kind"], "event");
    assert_eq!(events[0]["status"], "closed");
    let thread: Value = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    assert_eq!(
        thread["messages"].as_array().unwrap().len(),
        7,
        "the thread has it all"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_status_the_code_does_not_know_is_refused_by_the_database_and_an_error_when_read() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap().to_string();
    let db = app.sql().await;
    let refused = sqlx::query("UPDATE tickets SET status = 'snoozed' WHERE code = $1")
        .bind(&code)
        .execute(&db)
        .await;
    assert!(refused.is_err(), "an unknown status is not stored");
    // Were one there anyway (written around the checks), reading it is an error, not 'open'.
    let around = if app.state().store.postgres().is_some() {
        [
            "ALTER TABLE tickets DROP CONSTRAINT tickets_status_check",
            "DROP TRIGGER ticket_counts_on_update ON tickets",
        ]
    } else {
        [
            "DROP TRIGGER tickets_status_check_update",
            "DROP TRIGGER ticket_counts_on_update",
        ]
    };
    for sql in around {
        sqlx::query(sql).execute(&db).await.unwrap();
    }
    sqlx::query("UPDATE tickets SET status = 'snoozed' WHERE code = $1")
        .bind(&code)
        .execute(&db)
        .await
        .unwrap();
    let (status, error, _) =
        error_code(app.get(&demo, &format!("/api/v1/tickets/{code}")).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error, "internal");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tickets_sent_together_are_each_kept_or_refused_on_their_own() {
    // Thirty tickets of one customer at once: more than the account's limit allows (see
    // security/limits.rs), which this test does not measure.
    let app = crate::helpers::spawn_with(|c| {
        c.limits = helpdesk_server::config::AccountLimits::off();
    })
    .await;
    let demo = app.login("demo@example.it").await;
    let sid = app.service_id(&demo, "blog-mario.it").await;
    let (open_before, _, _) = counts(&app, &demo).await;
    // Forty at once share transactions on the server; every fourth names an upload that does
    // not exist, which fails inside the write after the ticket row was inserted.
    let mut storm = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (client, url, token, sid) = (
            app.client.clone(),
            app.url("/api/v1/tickets"),
            demo.clone(),
            sid.clone(),
        );
        storm.spawn(async move {
            let uploads: Vec<String> = if i % 4 == 0 {
                vec!["nessun-upload-con-questo-id".into()]
            } else {
                vec![]
            };
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({
                    "department": "helpdesk", "service_id": sid, "priority": "normal",
                    "subject": format!("Errore 500 sul blog, pagina {i}"),
                    "description": "La pagina risponde con errore 500 da stamattina alle nove.",
                    "upload_ids": uploads,
                }))
                .send()
                .await
                .unwrap();
            (i, r.status())
        });
    }
    let mut made = 0;
    while let Some(done) = storm.join_next().await {
        let (i, status) = done.unwrap();
        if i % 4 == 0 {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "request {i}");
        } else {
            assert_eq!(status, StatusCode::CREATED, "request {i}");
            made += 1;
        }
    }
    // The refused ones left nothing behind: the list and its counts hold exactly the others.
    assert_eq!(counts(&app, &demo).await.0, open_before + made);
    let found: Value = app
        .get_json(&demo, "/api/v1/tickets?q=pagina&limit=100")
        .await;
    assert_eq!(found["items"].as_array().unwrap().len() as u64, made);
    app.stop().await;
}

/// Many requests with one `Idempotency-Key` at the same moment, some with another body: one
/// ticket; its request's twins answer it (one 201, the rest 200), the other body 409, none 500.
/// Then replies racing on one key to a closed ticket: one reply, one reopening.
#[tokio::test]
async fn one_key_racing_with_two_bodies_makes_one_ticket_and_one_reply() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let sid = app.service_id(&demo, "blog-mario.it").await;
    let before = app.get_json(&demo, "/api/v1/tickets").await["items"]
        .as_array()
        .unwrap()
        .len();
    let a = new_ticket(&sid);
    let mut b = a.clone();
    b["subject"] = json!("Errore 404 sulla pagina contatti di blog-mario.it");
    let send = |path: String, key: &'static str, body: Value| {
        let req = app
            .client
            .post(app.url(&path))
            .bearer_auth(&demo)
            .header("Idempotency-Key", key)
            .json(&body);
        async move {
            let r = req.send().await.expect("request");
            let status = r.status().as_u16();
            let v: Value = r.json().await.expect("json");
            (status, v)
        }
    };
    let racing = (0..24).map(|i| {
        let body = if i % 3 == 2 { b.clone() } else { a.clone() };
        let subject = body["subject"].clone();
        let f = send("/api/v1/tickets".into(), "same-key", body);
        async move { (subject, f.await) }
    });
    let answers = futures_util::future::join_all(racing).await;
    let created: Vec<_> = answers.iter().filter(|(_, (s, _))| *s == 201).collect();
    assert_eq!(created.len(), 1, "one ticket made: {answers:?}");
    let (winner, (_, ticket)) = created[0];
    for (subject, (status, v)) in &answers {
        match *status {
            200 | 201 => {
                assert_eq!(
                    subject, winner,
                    "only the first request's twins are answered"
                );
                assert_eq!(v["code"], ticket["code"]);
            }
            409 => {
                assert_ne!(subject, winner);
                assert_eq!(v["error"]["code"], "idempotency_key_reused");
            }
            other => panic!("{other}: {v}"),
        }
    }
    let list = app.get_json(&demo, "/api/v1/tickets").await;
    assert_eq!(list["items"].as_array().unwrap().len(), before + 1);

    let code = ticket["code"].as_str().unwrap();
    app.post(&demo, &format!("/api/v1/tickets/{code}/close"), json!({}))
        .await;
    let path = format!("/api/v1/tickets/{code}/messages");
    let reply = json!({"body": "Il problema è tornato, stesso errore 500."});
    let racing = (0..16).map(|_| send(path.clone(), "same-key", reply.clone()));
    let answers = futures_util::future::join_all(racing).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, [vec![200; 15], vec![201]].concat(), "{answers:?}");
    for (_, v) in &answers {
        let kinds: Vec<&str> = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["event", "message"],
            "each answers the reopening and the reply"
        );
        assert_eq!(v["status"], "open");
    }
    let thread = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    assert_eq!(
        thread["messages"].as_array().unwrap().len(),
        4,
        "the first message, the closing, one reopening, one reply"
    );
    app.stop().await;
}
