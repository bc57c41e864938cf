//! A crash in the middle of a storm of new tickets: the server is killed (SIGKILL) while 200
//! creations are in flight; after a restart every ticket it acknowledged is there, complete, and a
//! retry with the same `Idempotency-Key` gets the same ticket, never a second one.

use crate::process::{ServerProcess, Spec};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CREATIONS: usize = 200;

async fn login(client: &Client, server: &ServerProcess) -> String {
    let r: Value = client
        .post(server.url("/api/v1/session"))
        .json(&json!({"email": "demo@example.it", "password": "demo-password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    r["token"].as_str().expect("token").to_string()
}

fn new_ticket(i: usize, service_id: &str) -> Value {
    json!({
        "department": "helpdesk",
        "service_id": service_id,
        "subject": format!("Errore 500 su blog-mario.it, pagina {i}"),
        "description": format!("La pagina numero {i} risponde con errore 500 da stamattina alle 9."),
        "priority": "normal",
    })
}

async fn create(
    client: &Client,
    server: &ServerProcess,
    token: &str,
    i: usize,
    sid: &str,
) -> Option<(StatusCode, String)> {
    let r = client
        .post(server.url("/api/v1/tickets"))
        .bearer_auth(token)
        .header("Idempotency-Key", format!("storm-{i}"))
        .json(&new_ticket(i, sid))
        .send()
        .await
        .ok()?;
    let status = r.status();
    let body: Value = r.json().await.ok()?;
    Some((status, body["code"].as_str()?.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_two_hundred_creations_loses_no_acknowledged_ticket() {
    let data = tempfile::tempdir().expect("data folder");
    let spec = || Spec {
        // Two hundred tickets of one customer at once: past the account's limit, which is not
        // what this test is about.
        env: &[("HELPDESK_DEMO", "1"), ("HELPDESK_RATE_TICKETS", "0")],
        data_dir: Some(data.path()),
        ..Spec::default()
    };
    let mut server = ServerProcess::start(spec()).await;
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let token = login(&client, &server).await;
    let services: Value = client
        .get(server.url("/api/v1/services"))
        .bearer_auth(&token)
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
        .find(|s| s["identifier"] == "blog-mario.it")
        .expect("the demo hosting")["id"]
        .as_str()
        .expect("id")
        .to_string();

    let acked = Arc::new(AtomicUsize::new(0));
    let server_url = server.url("");
    let mut storm = tokio::task::JoinSet::new();
    for i in 0..CREATIONS {
        let (client, token, sid, acked) =
            (client.clone(), token.clone(), sid.clone(), acked.clone());
        let url = format!("{server_url}/api/v1/tickets");
        storm.spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("storm-{i}"))
                .json(&new_ticket(i, &sid))
                .send()
                .await
                .ok()?;
            if r.status() != StatusCode::CREATED {
                return None;
            }
            let body: Value = r.json().await.ok()?;
            acked.fetch_add(1, Ordering::SeqCst);
            Some((i, body["code"].as_str()?.to_string()))
        });
    }
    // Kill as soon as some are acknowledged and the rest are still in flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.load(Ordering::SeqCst) < 20 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    let mut acknowledged = BTreeMap::new();
    while let Some(done) = storm.join_next().await {
        if let Some((i, code)) = done.expect("task") {
            acknowledged.insert(i, code);
        }
    }
    eprintln!(
        "crash: {} of {CREATIONS} creations acknowledged before the kill",
        acknowledged.len()
    );
    assert!(
        !acknowledged.is_empty() && acknowledged.len() < CREATIONS,
        "the kill must fall in the middle of the storm ({} acknowledged)",
        acknowledged.len()
    );
    drop(server);

    let server = ServerProcess::start(spec()).await;
    // Sessions are in the database: the same token still works after the restart.
    for (i, code) in &acknowledged {
        let t: Value = client
            .get(server.url(&format!("/api/v1/tickets/{code}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("read")
            .json()
            .await
            .expect("json");
        assert_eq!(
            t["subject"],
            format!("Errore 500 su blog-mario.it, pagina {i}"),
            "{t}"
        );
        assert!(
            t["messages"][0]["body"]
                .as_str()
                .is_some_and(|b| b.contains(&format!("pagina numero {i} "))),
            "ticket {code} is complete: {t}"
        );
    }
    // Every creation retried with its key: the acknowledged ones get their ticket back, and no
    // creation ever makes two tickets.
    for i in 0..CREATIONS {
        let (status, code) = create(&client, &server, &token, i, &sid)
            .await
            .expect("the retry is answered");
        match acknowledged.get(&i) {
            Some(first) => {
                assert_eq!(status, StatusCode::OK, "a replay of creation {i}");
                assert_eq!(&code, first, "the same ticket for creation {i}");
            }
            None => assert!(
                status == StatusCode::CREATED || status == StatusCode::OK,
                "{status} for creation {i}"
            ),
        }
    }
    let mut cursor: Option<String> = None;
    let mut storm_tickets = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?limit=100&cursor={c}"),
            None => "/api/v1/tickets?limit=100".to_string(),
        };
        let page: Value = client
            .get(server.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        storm_tickets += page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|t| {
                t["subject"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("Errore 500 su blog-mario.it, pagina "))
            })
            .count();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(storm_tickets, CREATIONS, "one ticket per creation, no more");
}
