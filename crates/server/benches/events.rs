//! Live event streams at rest and in motion (issue 22): the real server binary in a process of its
//! own (`--profile server`), 2,000 customers' streams (`GET /api/v1/events`) held open and idle, the
//! server's memory and CPU with none open and with all of them open, then the time from a staff
//! reply (`POST /api/v1/staff/tickets/{code}/messages`) to its event on the customer's stream.
//!
//! Run by `cargo xtask bench` (or `cargo xtask bench events` alone). Bounded: 2,001 connections to
//! 127.0.0.1, about 60 s. An idle stream should cost nothing but its memory: one poller per process
//! reads the database for all streams, so the CPU at rest with 2,000 streams is compared with the
//! CPU at rest with none.

#[path = "common/mod.rs"]
mod common;
use common::{first_service, login, percentile};

use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Idle streams held open, and per customer (the default allows 6 per customer).
const STREAMS: usize = 2_000;
const PER_CUSTOMER: usize = 5;
/// How long the server is watched at rest, each time.
const REST: Duration = Duration::from_secs(20);
/// Staff replies timed to their events.
const REPLIES: usize = 100;

/// The server's resident memory in KiB and its CPU time so far in clock ticks, from /proc.
fn usage(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th
    // of the whole line, the 12th and 13th after it.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow::anyhow!("bad stat"))?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok((rss, ticks))
}

/// The server's CPU use over `REST`, in % of one core (clock ticks are 1/100 s on Linux).
async fn at_rest(pid: u32) -> anyhow::Result<(u64, f64)> {
    let (_, before) = usage(pid)?;
    tokio::time::sleep(REST).await;
    let (rss, after) = usage(pid)?;
    Ok((rss, (after - before) as f64 / REST.as_secs_f64()))
}

async fn open_stream(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<reqwest::Response> {
    let r = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "stream refused: {}", r.status());
    Ok(r)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let customers = STREAMS / PER_CUSTOMER;
    let mut import = common::customers("live", customers)?;
    let hash = bcrypt::hash("bench-password", 4)?;
    if let Some(list) = import["customers"].as_array_mut() {
        list.push(
            json!({"email": "staff@example.it", "name": "Staff", "role": "staff",
            "password_hash": hash}),
        );
    }
    let mut env = common::LIMITS_OFF.to_vec();
    env.extend([("HELPDESK_EVENTS_MAX", "2100"), ("RUST_LOG", "error")]);
    let server = common::start(&env, Some(import), "EVENTS_SERVER_LOG").await?;
    let pid = server.child.id();
    let base = server.base.clone();
    // One connection per stream: each stream holds its connection for as long as it lasts.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;

    let mut tokens = Vec::with_capacity(customers);
    for i in 0..customers {
        tokens.push(
            login(
                &client,
                &base,
                &format!("live{i}@example.it"),
                "bench-password",
            )
            .await?,
        );
    }
    let (rss0, cpu0) = at_rest(pid).await?;
    println!("BENCH events   no stream open          rss {rss0:>7} KiB  cpu at rest {cpu0:5.2} % of a core");

    let opened = Instant::now();
    let mut streams = Vec::with_capacity(STREAMS);
    for t in &tokens {
        for _ in 0..PER_CUSTOMER {
            streams.push(open_stream(&client, &base, t).await?);
        }
    }
    let took = opened.elapsed();
    let (rss1, cpu1) = at_rest(pid).await?;
    println!(
        "BENCH events   {STREAMS} idle streams        rss {rss1:>7} KiB  cpu at rest {cpu1:5.2} % of a core  \
         (+{:.1} KiB per stream; opened in {:.1} s)",
        (rss1.saturating_sub(rss0)) as f64 / STREAMS as f64,
        took.as_secs_f64()
    );

    // A staff reply to the event on the customer's stream, with every idle stream still open.
    let staff = login(&client, &base, "staff@example.it", "bench-password").await?;
    let token = &tokens[0];
    let service = first_service(&client, &base, token).await?;
    let ticket: Value = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(token)
        .header("Idempotency-Key", "bench-events-ticket-0000000000000001")
        .json(&json!({"department": "helpdesk", "service_id": service,
            "subject": "Errore 500 sulla home di negozio-0.it",
            "description": "Da stamattina la home risponde con errore 500.", "priority": "normal"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let code = ticket["code"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no ticket code: {ticket}"))?
        .to_string();
    let mut probe = open_stream(&client, &base, token).await?.bytes_stream();
    let mut buf = String::new();
    let mut samples = Vec::with_capacity(REPLIES);
    for i in 0..REPLIES {
        let sent = Instant::now();
        let reply: Value = client
            .post(format!("{base}/api/v1/staff/tickets/{code}/messages"))
            .bearer_auth(&staff)
            .json(&json!({ "body": format!("Risposta {i}.") }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        // The reply answers the whole ticket; the staff's message is its last.
        let id = reply["messages"]
            .as_array()
            .and_then(|m| m.last())
            .map(|m| m["id"].clone())
            .ok_or_else(|| anyhow::anyhow!("reply {i}: no message in {reply}"))?;
        let wanted = format!("\"message_id\":{id}");
        let deadline = sent + Duration::from_secs(10);
        loop {
            if let Some(end) = buf.find(&wanted) {
                buf.drain(..end + wanted.len());
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, probe.next()).await {
                Ok(Some(chunk)) => buf.push_str(&String::from_utf8_lossy(&chunk?)),
                _ => anyhow::bail!("reply {i}: no event within 10 s"),
            }
        }
        samples.push(sent.elapsed());
        // Replies apart, as staff write them, at pauses spread over the poller's period: a fixed
        // pause locks onto its phase (measured: every reply 363 ms, to the millisecond).
        tokio::time::sleep(Duration::from_millis(50 + (i as u64 * 173) % 500)).await;
    }
    samples.sort();
    println!(
        "BENCH events   staff reply to event    p50 {:6.1} ms  p99 {:6.1} ms  max {:6.1} ms  ({REPLIES} replies, {STREAMS} idle streams open)",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    drop(streams);
    Ok(())
}
