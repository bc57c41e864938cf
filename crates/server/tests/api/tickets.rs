use crate::helpers::{error_code, spawn_app};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn a_customer_sees_only_their_own_tickets_newest_activity_first() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let altro = app.login("altro@example.it").await;
    let list: Value = app
        .get(&demo, "/api/v1/tickets")
        .await
        .json()
        .await
        .unwrap();
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

    let other: Value = app
        .get(&altro, "/api/v1/tickets")
        .await
        .json()
        .await
        .unwrap();
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
    let closed: Value = app
        .get(&demo, "/api/v1/tickets?status=closed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["items"].as_array().unwrap().len(), 1);
    assert_eq!(closed["items"][0]["status"], "closed");

    let found: Value = app
        .get(&demo, "/api/v1/tickets?q=ssh")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let code = found["items"][0]["code"].as_str().unwrap().to_string();
    let by_code: Value = app
        .get(&demo, &format!("/api/v1/tickets?q={}", &code[..7]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_code["items"][0]["code"], code.as_str());

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?limit=3&cursor={c}"),
            None => "/api/v1/tickets?limit=3".to_string(),
        };
        let page: Value = app.get(&demo, &path).await.json().await.unwrap();
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
