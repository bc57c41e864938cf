//! Slow request bodies at the default connection cap (issue 19): the real server binary in a
//! process of its own, under this process's open-file limit, every allowed connection taken by a
//! client sending a login's body one byte every ten seconds, while other clients keep asking.
//!
//! Run by `cargo xtask bench` (or `cargo xtask bench slow_bodies` alone), which builds the server
//! with `--profile server` and this bench with the same profile; the server beside this bench's
//! folder is the one started, unless `HELPDESK_SERVER_BIN` names another (a build to compare).
//! Two phases: (1) slow senders up to just below the cap, so that only the minimum rate closes
//! them: how long each was held; (2) 10 % more slow senders than the cap, each reconnecting a
//! second after it is closed, while a client opens a new connection for a request every 50 ms:
//! its latency, and how long slow connections were held. Bounded in connections (cap × 1.1) and
//! in time (about 75 s); traffic to 127.0.0.1 only.

#[path = "common/mod.rs"]
mod common;
use common::percentile;

use helpdesk_server::http::serve::connection_cap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::timeout;

/// One byte every this long, as the probe sent.
const BYTE_EVERY: Duration = Duration::from_secs(10);

/// The server with the connection cap the open-file limit gives it (none set here).
async fn start() -> anyhow::Result<common::Server> {
    std::env::remove_var("HELPDESK_HTTP_MAX_CONNECTIONS");
    common::start(&[("RUST_LOG", "error")], None, "SLOW_BODIES_SERVER_LOG").await
}

/// How one slow connection ended.
enum Held {
    /// Closed by the server after this long.
    Closed(Duration),
    /// Still open, this old, when its phase ended.
    Open(Duration),
}

/// A login's headers at once, then its 100,000-byte body one byte every [`BYTE_EVERY`], until
/// the server closes the connection or `stop`; `None` if it could not connect.
async fn slow_body(addr: SocketAddr, stop: Instant, opening: &Semaphore) -> Option<Held> {
    let mut stream = {
        let _permit = opening.acquire().await.ok()?;
        timeout(Duration::from_secs(10), TcpStream::connect(addr))
            .await
            .ok()?
            .ok()?
    };
    let opened = Instant::now();
    let headers = b"POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\
        Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
    if stream.write_all(headers).await.is_err() {
        return Some(Held::Closed(opened.elapsed()));
    }
    let mut buf = [0u8; 1024];
    loop {
        let now = Instant::now();
        if now >= stop {
            return Some(Held::Open(opened.elapsed()));
        }
        match timeout(BYTE_EVERY.min(stop - now), stream.read(&mut buf)).await {
            Err(_) => {
                if stream.write_all(b" ").await.is_err() {
                    return Some(Held::Closed(opened.elapsed()));
                }
            }
            Ok(Ok(0)) | Ok(Err(_)) => return Some(Held::Closed(opened.elapsed())),
            Ok(Ok(_)) => {}
        }
    }
}

/// `count` slow senders until `stop`, each opening another a second after its connection is
/// closed when `reconnect`; what became of every connection.
async fn attack(addr: SocketAddr, count: usize, stop: Instant, reconnect: bool) -> Vec<Held> {
    // Connections are opened a few hundred at a time, as a real attacker's would be.
    let opening = Arc::new(Semaphore::new(256));
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let opening = Arc::clone(&opening);
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::new();
            while Instant::now() < stop {
                if let Some(h) = slow_body(addr, stop, &opening).await {
                    held.push(h);
                }
                if !reconnect {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            held
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(h) = t.await {
            all.extend(h);
        }
    }
    all
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// The longest any connection was held: closed ones, and those still open at the end.
fn held_summary(held: &[Held]) -> (usize, usize, Duration, Duration) {
    let mut closed: Vec<Duration> = held
        .iter()
        .filter_map(|h| match h {
            Held::Closed(d) => Some(*d),
            Held::Open(_) => None,
        })
        .collect();
    closed.sort();
    let open_oldest = held
        .iter()
        .filter_map(|h| match h {
            Held::Open(d) => Some(*d),
            Held::Closed(_) => None,
        })
        .max()
        .unwrap_or_default();
    (
        closed.len(),
        held.len() - closed.len(),
        closed.last().copied().unwrap_or_default(),
        open_oldest,
    )
}

fn row(what: &str, measured: &str, goal: &str) {
    println!("BENCH | {what} | {measured} | {goal} |");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (nofile, _) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    let cap = connection_cap(nofile);
    // This process holds one descriptor per slow connection too.
    anyhow::ensure!(
        nofile as usize > cap + cap / 10 + 256,
        "the open-file limit {nofile} is too low for this bench's own connections"
    );
    let server = start().await?;
    let addr = server.addr;
    println!("BENCH | what | measured | goal |");
    println!("BENCH | --- | --- | --- |");
    row(
        "connection cap (open-file limit)",
        &format!("{cap} ({nofile})"),
        "",
    );

    // 1. Below the cap: only the minimum rate closes them.
    let below = cap.saturating_sub(64);
    let started = Instant::now();
    let held = attack(addr, below, started + Duration::from_secs(30), false).await;
    let (closed, open, longest, oldest_open) = held_summary(&held);
    row(
        &format!("{below} slow bodies below the cap: closed by the minimum rate"),
        &format!(
            "{closed} closed, longest held {}; {open} still open after 30 s (oldest {})",
            secs(longest),
            secs(oldest_open)
        ),
        "all, each within 20 s",
    );

    // 2. Over the cap, while others ask.
    let over = cap + cap / 10;
    let started = Instant::now();
    let stop = started + Duration::from_secs(40);
    let attackers = tokio::spawn(attack(addr, over, stop, true));
    // Let them fill every place first.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()?;
    let mut latencies = Vec::new();
    let mut failed = 0;
    while Instant::now() + Duration::from_secs(1) < stop {
        let sent = Instant::now();
        match client.get(format!("http://{addr}/api/v1/me")).send().await {
            Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => {
                latencies.push(sent.elapsed())
            }
            _ => failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let held = attackers.await?;
    latencies.sort();
    let (closed, open, longest, oldest_open) = held_summary(&held);
    row(
        &format!("others during {over} slow bodies (new connection each, 20/s)"),
        &format!(
            "{} answered, {failed} failed; p50 {}, p99 {}, max {}",
            latencies.len(),
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            ms(latencies.last().copied().unwrap_or_default())
        ),
        "p99 < 250 ms, none failed",
    );
    row(
        "slow connections over the cap: held",
        &format!(
            "{} connections, {closed} closed by the server, longest held {}; {open} still open at the end, oldest {}",
            held.len(),
            secs(longest),
            secs(oldest_open)
        ),
        "≤ 20 s",
    );
    Ok(())
}
