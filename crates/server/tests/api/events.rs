//! Live events (`GET /api/v1/events`): what a customer's stream gets, and what it never gets.

use crate::helpers::{error_code, spawn_app, spawn_on, spawn_with, TestApp};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// One event as parsed from the stream.
#[derive(Debug, Clone)]
struct Ev {
    id: i64,
    event: String,
    data: Value,
}

/// A customer's open stream, read with `bytes_stream` and parsed line by line.
struct Stream {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<axum::body::Bytes>>,
    buf: String,
    /// `: keep-alive` comments seen.
    keep_alives: usize,
}

async fn open(app: &TestApp, token: &str, last_event_id: Option<i64>) -> reqwest::Response {
    let mut req = app.client.get(app.url("/api/v1/events")).bearer_auth(token);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    req.send().await.expect("events request")
}

impl Stream {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<i64>) -> Stream {
        let r = open(app, token, last_event_id).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Stream {
            body: r.bytes_stream().boxed(),
            buf: String::new(),
            keep_alives: 0,
        }
    }

    /// The next event within `within` (comments skipped), or `None`.
    async fn next(&mut self, within: Duration) -> Option<Ev> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse::<i64>().expect("numeric id"));
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    } else if line == ": keep-alive" {
                        self.keep_alives += 1;
                    }
                }
                if let (Some(id), Some(event)) = (id, event) {
                    let data = serde_json::from_str(&data).expect("JSON data");
                    return Some(Ev { id, event, data });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await;
            match chunk {
                Ok(Some(Ok(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(_) => panic!("the stream ended"),
                Err(_) => return None,
            }
        }
    }

    /// Events until none comes for `quiet`.
    async fn drain(&mut self, quiet: Duration) -> Vec<Ev> {
        let mut out = Vec::new();
        while let Some(e) = self.next(quiet).await {
            out.push(e);
        }
        out
    }

    /// The first event `want` accepts, within `within`; earlier ones are skipped.
    async fn until(&mut self, within: Duration, want: impl Fn(&Ev) -> bool) -> Ev {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(e) if want(&e) => return e,
                Some(_) => {}
                None => panic!("no such event within {within:?}"),
            }
        }
    }
}

fn on(code: &str, event: &str, e: &Ev) -> bool {
    e.data["ticket"] == code && e.event == event
}

#[tokio::test]
async fn a_staff_reply_and_a_status_change_reach_the_customer_and_nobody_else() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let altro = app.login("altro@example.it").await;
    let staff = app.login("staff@example.it").await;
    let mut mine = Stream::open(&app, &demo, None).await;
    let mut theirs = Stream::open(&app, &altro, None).await;

    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap().to_string();
    // The customer's own message (as from another tab) arrives too.
    let own = mine
        .until(Duration::from_secs(5), |e| on(&code, "message", e))
        .await;
    assert_eq!(own.data["author_kind"], "customer");

    let sent = Instant::now();
    app.staff_reply(&staff, &code, "Abbiamo riavviato il servizio.")
        .await;
    let reply = mine
        .until(Duration::from_secs(2), |e| on(&code, "message", e))
        .await;
    assert!(sent.elapsed() < Duration::from_secs(2));
    assert_eq!(reply.data["author_kind"], "staff");
    assert_eq!(reply.data["kind"], "message");
    assert!(reply.id > own.id, "ids only grow");

    let r = app
        .post(&demo, &format!("/api/v1/tickets/{code}/close"), json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let closed = mine
        .until(Duration::from_secs(2), |e| {
            on(&code, "status", e) && e.data["status"] == "closed"
        })
        .await;
    assert_eq!(closed.data["kind"], "event");
    assert!(closed.id > reply.id);

    // (The demo data seeded at start may reach them: their own ticket.)
    let leaked: Vec<Ev> = theirs
        .drain(Duration::from_millis(1500))
        .await
        .into_iter()
        .filter(|e| e.data["ticket"] == code.as_str())
        .collect();
    assert!(leaked.is_empty(), "another customer got {leaked:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_reconnection_with_last_event_id_gets_exactly_what_it_missed() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let mut first = Stream::open(&app, &demo, None).await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap().to_string();
    let seen = first
        .until(Duration::from_secs(5), |e| on(&code, "message", e))
        .await;
    drop(first);

    app.staff_reply(&staff, &code, "Prima risposta.").await;
    app.staff_reply(&staff, &code, "Seconda risposta.").await;
    let r = app
        .post(&demo, &format!("/api/v1/tickets/{code}/close"), json!({}))
        .await;
    assert!(r.status().is_success());
    let pool = app.sql().await;
    let missed: Vec<i64> = sqlx::query_scalar(
        "SELECT m.seq FROM messages m JOIN tickets t ON t.id = m.ticket_id \
         WHERE t.code = $1 AND m.seq > $2 ORDER BY m.seq",
    )
    .bind(&code)
    .bind(seen.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(missed.len() >= 3, "{missed:?}");

    // Straight away (before the poller has seen them, as it may be) and later alike.
    for wait in [Duration::ZERO, Duration::from_millis(1200)] {
        tokio::time::sleep(wait).await;
        let mut again = Stream::open(&app, &demo, Some(seen.id)).await;
        let got: Vec<i64> = again
            .drain(Duration::from_millis(1500))
            .await
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(got, missed, "after waiting {wait:?}");
    }
    let mut current = Stream::open(&app, &demo, missed.last().copied()).await;
    assert!(current.drain(Duration::from_millis(1200)).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn streams_past_the_per_customer_limit_get_429_and_staff_get_none() {
    let app = spawn_with(|c| c.events_per_customer = 2).await;
    let demo = app.login("demo@example.it").await;
    let altro = app.login("altro@example.it").await;
    let staff = app.login("staff@example.it").await;
    let one = Stream::open(&app, &demo, None).await;
    let _two = Stream::open(&app, &demo, None).await;
    let (status, code, v) = error_code(open(&app, &demo, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_streams"),
        "{v}"
    );
    // Another customer has places of their own; a closed stream frees its place.
    let _other = Stream::open(&app, &altro, None).await;
    drop(one);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = open(&app, &demo, None).await;
        if r.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the place was not freed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _, _) = error_code(open(&app, &staff, None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = app
        .client
        .get(app.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn a_reply_through_another_server_on_the_same_database_reaches_the_stream() {
    let a = spawn_app().await;
    let url = a.state().config.database_url.clone();
    let b = spawn_on(Some(url), |_| {}).await;
    let demo = a.login("demo@example.it").await;
    let staff = b.login("staff@example.it").await;
    let mut stream = Stream::open(&a, &demo, None).await;
    let t = a.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap().to_string();

    let sent = Instant::now();
    b.staff_reply(&staff, &code, "Risposta da un'altra istanza.")
        .await;
    let reply = stream
        .until(Duration::from_secs(2), |e| {
            on(&code, "message", e) && e.data["author_kind"] == "staff"
        })
        .await;
    assert!(sent.elapsed() < Duration::from_secs(2));
    assert!(reply.id > 0);
    drop(stream);
    b.stop().await;
    a.stop().await;
}

/// An idle stream owes the minimum transfer rate nothing (http/serve.rs): it outlives the rate
/// window, gets a keep-alive comment within 25 s, and still delivers.
#[tokio::test]
async fn an_idle_stream_gets_keep_alives_and_is_not_cut() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let t = app.open_ticket(&demo, "blog-mario.it").await;
    let code = t["code"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut stream = Stream::open(&app, &demo, None).await;
    let opened = Instant::now();
    while stream.keep_alives == 0 {
        assert!(
            opened.elapsed() < Duration::from_secs(25),
            "no keep-alive within 25 s"
        );
        let _ = stream.next(Duration::from_secs(1)).await;
    }
    app.staff_reply(&staff, &code, "Dopo una lunga attesa.")
        .await;
    stream
        .until(Duration::from_secs(2), |e| on(&code, "message", e))
        .await;
    app.stop().await;
}
