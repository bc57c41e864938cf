//! Denial of service through the login: a flood of password checks, and a race on the throttle.

use crate::helpers::spawn_with;
use crate::process::{rss_kib, ServerProcess, Spec};
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn client_from(address: &str) -> Client {
    Client::builder()
        .local_address(address.parse::<IpAddr>().ok())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_logins_for_unknown_emails_stays_bounded_and_lets_a_customer_in() {
    let server = ServerProcess::start(Spec {
        env: &[("HELPDESK_DEMO", "1")],
        ..Spec::default()
    })
    .await;
    let before = server.rss_kib() * 1024;
    let attacker = client_from("127.0.0.1");
    let url = server.url("/api/v1/session");

    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampler = {
        let peak = peak.clone();
        let pid = server.child.id();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid) * 1024, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let flood: Vec<_> = (0..200)
        .map(|i| {
            let c = attacker.clone();
            let url = url.clone();
            tokio::spawn(async move {
                c.post(&url)
                    .json(&json!({"email": format!("nobody{i}@example.org"), "password": "x"}))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    // The real customer, from another address, while the flood is on.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let customer = client_from("127.0.0.2")
        .post(&url)
        .json(&json!({"email": "demo@example.it", "password": "demo-password"}))
        .send()
        .await
        .expect("the customer's login is answered");
    let customer_took = started.elapsed();

    let mut statuses = std::collections::BTreeMap::new();
    for f in flood {
        let status = f.await.expect("task").expect("every attempt is answered");
        *statuses.entry(status.as_u16()).or_insert(0) += 1;
    }
    sampler.abort();
    let grew = peak.load(std::sync::atomic::Ordering::Relaxed) - before;
    eprintln!(
        "login flood: answers {statuses:?}; RSS {} MB → peak +{} MB; customer in {customer_took:?}",
        before / 1_000_000,
        grew / 1_000_000
    );
    assert_eq!(customer.status(), StatusCode::OK, "the customer gets in");
    assert!(
        customer_took < Duration::from_secs(3),
        "the customer waited {customer_took:?}"
    );
    assert!(
        statuses.keys().all(|s| *s < 500),
        "no server error: {statuses:?}"
    );
    assert!(
        statuses.get(&429).copied().unwrap_or(0) > 0,
        "a flood meets the bounded pool: {statuses:?}"
    );
    assert!(
        grew < 256 * 1024 * 1024,
        "memory grew by {} MB",
        grew / 1_000_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_parallel_wrong_passwords_reach_at_most_ten_password_checks() {
    // A pool large enough for all forty at once: only the throttle can hold them back.
    let app = spawn_with(|c| c.login_checks = 64).await;
    let url = app.url("/api/v1/session");
    // From many addresses at once, so that only the account's own throttle holds them back
    // (and the pool's share per address does not hide a race).
    let attempts: Vec<_> = (0..40)
        .map(|i| {
            let c = client_from(&format!("127.0.1.{}", i + 1));
            let url = url.clone();
            tokio::spawn(async move {
                c.post(&url)
                    .json(&json!({"email": "demo@example.it", "password": format!("wrong-{i}")}))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    let mut checked = 0;
    let mut refused = 0;
    for a in attempts {
        match a.await.expect("task").expect("answered") {
            // A wrong password answers 401 only after its check ran.
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    eprintln!("throttle race: {checked} checked, {refused} refused");
    assert!(checked <= 10, "{checked} attempts reached a password check");
    assert_eq!(checked + refused, 40);
    app.stop().await;
}
