//! The write flood (issue 19): 100 customers writing (new tickets and replies) for 60 s while 20
//! others keep reading, against the real server binary in another process over loopback; prints
//! the write-ahead log's peak size (`helpdesk.db-wal`, polled every 50 ms) and its size a minute
//! after the flood stops, the readers still reading.
//!
//! Run by `cargo xtask bench wal` (and by `cargo xtask bench`), which builds the server with
//! `--profile server`; `HELPDESK_SERVER_BIN` names another build to measure (the one before, say).
//! `WAL_FLOOD_SECONDS` and `WAL_QUIET_SECONDS` set the two phases (default 60 each). The limits
//! per account are off (`0`), as a flood from many accounts at once gets round them anyway.
//! Bounded in time, loopback only.

#[path = "common/mod.rs"]
mod common;

use reqwest::Client;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: usize = 100;
const READERS: usize = 20;
const MIB: f64 = 1024.0 * 1024.0;

async fn start() -> anyhow::Result<common::Server> {
    let env = [
        [("HELPDESK_MAIL_REQUIRE_AUTH", "0")].as_slice(),
        common::LIMITS_OFF.as_slice(),
    ]
    .concat();
    let customers = common::customers("flood", WRITERS + READERS)?;
    common::start(&env, Some(customers), "WAL_SERVER_LOG").await
}

/// A signed-in customer: token, first service, one ticket of their own.
struct Customer {
    token: String,
    service: String,
    ticket: String,
}

async fn customer(client: &Client, base: &str, i: usize) -> anyhow::Result<Customer> {
    let r: Value = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": format!("flood{i}@example.it"), "password": "bench-password"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = r["token"].as_str().unwrap_or_default().to_string();
    let s: Value = client
        .get(format!("{base}/api/v1/services"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let service = s["items"][0]["id"].as_str().unwrap_or_default().to_string();
    let t: Value = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&token)
        .json(&new_ticket(&service, 0))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let ticket = t["code"].as_str().unwrap_or_default().to_string();
    Ok(Customer {
        token,
        service,
        ticket,
    })
}

fn new_ticket(sid: &str, n: u64) -> Value {
    json!({
        "department": "helpdesk", "service_id": sid, "priority": "normal", "upload_ids": [],
        "subject": format!("Errore 500 sulla pagina {n} del negozio online"),
        "description": "La pagina risponde con errore 500 da stamattina alle 9; le altre pagine funzionano. ".repeat(4),
    })
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
}

impl Counts {
    fn count(&self, ok: bool) {
        let c = if ok { &self.ok } else { &self.failed };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

async fn send(rb: reqwest::RequestBuilder) -> bool {
    match rb.timeout(Duration::from_secs(30)).send().await {
        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / MIB)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs = |var: &str| {
        std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(Duration::from_secs(60), Duration::from_secs)
    };
    let (flood, quiet) = (secs("WAL_FLOOD_SECONDS"), secs("WAL_QUIET_SECONDS"));
    let server = start().await?;
    let base = server.base.clone();
    let wal = server.dir.path().join("helpdesk.db-wal");
    let client = Client::builder().pool_max_idle_per_host(1024).build()?;
    let mut people = Vec::new();
    for i in 0..WRITERS + READERS {
        people.push(Arc::new(customer(&client, &base, i).await?));
    }
    let readers_on = Arc::new(AtomicBool::new(true));
    let writers_on = Arc::new(AtomicBool::new(true));
    let (reads, writes) = (Arc::new(Counts::default()), Arc::new(Counts::default()));

    // The log's size, every 50 ms: the peak so far.
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (wal, peak, on) = (wal.clone(), peak.clone(), readers_on.clone());
        tokio::spawn(async move {
            while on.load(Ordering::Relaxed) {
                let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
                peak.fetch_max(size, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut tasks = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let (c, b, p) = (client.clone(), base.clone(), p.clone());
        if i < WRITERS {
            let (on, counts) = (writers_on.clone(), writes.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while on.load(Ordering::Relaxed) {
                    n += 1;
                    let rb = if n.is_multiple_of(2) {
                        c.post(format!("{b}/api/v1/tickets"))
                            .json(&new_ticket(&p.service, n))
                    } else {
                        c.post(format!("{b}/api/v1/tickets/{}/messages", p.ticket))
                            .json(&json!({"body": format!("Il problema si ripresenta anche adesso (prova {n}). ").repeat(4), "upload_ids": []}))
                    };
                    counts.count(send(rb.bearer_auth(&p.token)).await);
                }
            }));
        } else {
            let (on, counts) = (readers_on.clone(), reads.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while on.load(Ordering::Relaxed) {
                    n += 1;
                    let path = if n.is_multiple_of(2) {
                        "/api/v1/tickets".to_string()
                    } else {
                        format!("/api/v1/tickets/{}", p.ticket)
                    };
                    counts.count(send(c.get(format!("{b}{path}")).bearer_auth(&p.token)).await);
                }
            }));
        }
    }
    let started = Instant::now();
    tokio::time::sleep(flood).await;
    writers_on.store(false, Ordering::Relaxed);
    let flood_took = started.elapsed();
    let (written, write_errors) = (
        writes.ok.load(Ordering::Relaxed),
        writes.failed.load(Ordering::Relaxed),
    );
    let peak_in_flood = peak.load(Ordering::Relaxed);
    let at_stop = std::fs::metadata(&wal).map_or(0, |m| m.len());
    // Quiet: the readers go on; when the log first falls under 64 MB.
    let quiet_start = Instant::now();
    let mut under_64 = None;
    while quiet_start.elapsed() < quiet {
        let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
        if under_64.is_none() && (size as f64) < 64.0 * MIB {
            under_64 = Some(quiet_start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = std::fs::metadata(&wal).map_or(0, |m| m.len());
    readers_on.store(false, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let _ = sampler.await;
    let db = std::fs::metadata(server.dir.path().join("helpdesk.db")).map_or(0, |m| m.len());
    let (read, read_errors) = (
        reads.ok.load(Ordering::Relaxed),
        reads.failed.load(Ordering::Relaxed),
    );
    let total_secs = (flood_took + quiet_start.elapsed()).as_secs_f64();
    println!("BENCH | what | measured | goal |");
    println!("BENCH | --- | --- | --- |");
    println!(
        "BENCH | write flood: {WRITERS} customers writing for {} s, {READERS} reading throughout | {:.0} writes/s ({write_errors} failed), {:.0} reads/s ({read_errors} failed); database {} | |",
        flood_took.as_secs(),
        written as f64 / flood_took.as_secs_f64(),
        read as f64 / total_secs,
        mib(db)
    );
    println!(
        "BENCH | write-ahead log, peak during the flood | {} (at the flood's end {}) | ≤ 256 MB |",
        mib(peak_in_flood),
        mib(at_stop)
    );
    println!(
        "BENCH | write-ahead log {} s after the flood, readers still reading | {}; under 64 MB after {} | ≤ 64 MB |",
        quiet.as_secs(),
        mib(after),
        under_64.map_or("never".to_string(), |d| format!("{:.1} s", d.as_secs_f64()))
    );
    drop(server);
    Ok(())
}
