//! Ticket-list latency under a steady 1,000 requests/s (open loop: latency counts from when a
//! request was due, so a slow server cannot hide its queue). Run by `cargo xtask bench`.

use helpdesk_server::Config;
use std::time::{Duration, Instant};

const RATE: u64 = 1_000;
const SECONDS: u64 = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_tests(dir.path().to_path_buf());
    config.demo = true;
    // The list's latency, not the customers' limits: the bench opens its 200 tickets at once.
    config.limits = helpdesk_server::config::AccountLimits::off();
    let running = helpdesk_server::start(config).await?;
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"email": "demo@example.it", "password": "demo-password"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().unwrap_or_default().to_string();
    let services: serde_json::Value = client
        .get(format!("{base}/api/v1/services"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let sid = services["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // A customer with a realistic history: 200 tickets.
    for i in 0..196 {
        client
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "department": "helpdesk", "service_id": sid, "priority": "low",
                "subject": format!("Errore 500 sulla pagina {i} di pizzeria-da-mario.it"),
                "description": "La pagina risponde con errore 500 da stamattina alle 9; le altre funzionano.",
            }))
            .send()
            .await?;
    }
    // Warm-up.
    for _ in 0..200 {
        client
            .get(format!("{base}/api/v1/tickets"))
            .bearer_auth(&token)
            .send()
            .await?
            .bytes()
            .await?;
    }

    let url = format!("{base}/api/v1/tickets");
    let start = Instant::now();
    let total = RATE * SECONDS;
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + Duration::from_micros(i * 1_000_000 / RATE);
        tokio::time::sleep_until(due.into()).await;
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let ok = match client.get(url).bearer_auth(token).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (due.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut failures = 0;
    for t in tasks {
        let (d, ok) = t.await?;
        if !ok {
            failures += 1;
        }
        latencies.push(d);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "ticket list (25 of 200 tickets, demo customer): {} requests in {:.1} s ({:.0}/s), {} failed",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        failures
    );
    println!(
        "latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies
            .last()
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(0.0)
    );
    running.stop().await;
    Ok(())
}
