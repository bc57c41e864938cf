//! SQLite, PostgreSQL with one instance, and two instances behind nginx, side by side in one run
//! (issue 20): ticket creation and the ticket list, throughput and p99, from 64 customers over
//! loopback; then, on the cluster, the requests lost when one instance is killed under load.
//! Run by `cargo xtask bench backends`, which starts PostgreSQL and the cluster and passes them
//! in `BENCH_PG_URL` (an empty database), `BENCH_CLUSTER_URL` (nginx), `BENCH_CLUSTER_DB` and
//! `BENCH_CLUSTER_PIDS` (the instances, to kill one); a row whose variable is missing is skipped.

#[path = "common/mod.rs"]
mod common;
use common::{first_service, login, percentile};

use reqwest::Client;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 64;
const PHASE: Duration = Duration::from_secs(8);
const CREATORS: usize = 16;
const READERS: usize = 32;

struct Customer {
    token: String,
    service: String,
}

async fn sign_in(client: &Client, base: &str) -> anyhow::Result<Vec<Customer>> {
    let mut out = Vec::with_capacity(CUSTOMERS);
    for i in 0..CUSTOMERS {
        let token = login(client, base, &format!("bk{i}@example.it"), "bench-password").await?;
        let service = first_service(client, base, &token).await?;
        out.push(Customer { token, service });
    }
    Ok(out)
}

fn create(client: &Client, base: &str, c: &Customer, key: &str) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&c.token)
        .header("Idempotency-Key", key)
        .json(&json!({
            "department": "helpdesk", "service_id": c.service, "priority": "normal",
            "subject": format!("Errore 500 sulla home, richiesta {key}"),
            "description": "La home risponde con errore 500 da stamattina; le altre pagine funzionano.",
        }))
}

/// Runs `workers` loops for `PHASE`, each sending what `request` makes; the latencies of the
/// answers that succeeded, and how many failed (an error status or no answer).
async fn phase(
    workers: usize,
    request: impl Fn(usize, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> (Vec<Duration>, u64, u64) {
    let request = Arc::new(request);
    let failed = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + PHASE;
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (request, failed, sent) = (request.clone(), failed.clone(), sent.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut n = 0u64;
                while Instant::now() < end {
                    let t = Instant::now();
                    sent.fetch_add(1, Ordering::Relaxed);
                    match request(w, n).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    n += 1;
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            all.extend(l);
        }
    }
    all.sort();
    (
        all,
        failed.load(Ordering::Relaxed),
        sent.load(Ordering::Relaxed),
    )
}

fn row(name: &str, what: &str, (lat, failed, _): &(Vec<Duration>, u64, u64)) {
    println!(
        "BENCH {name:<22} {what:<8} {:>7.0} req/s  p50 {:>6.1} ms  p99 {:>6.1} ms  failed {failed}",
        lat.len() as f64 / PHASE.as_secs_f64(),
        percentile(lat, 0.50).as_secs_f64() * 1000.0,
        percentile(lat, 0.99).as_secs_f64() * 1000.0,
    );
}

/// Creation, then the list, against `base`.
async fn measure(name: &str, base: &str) -> anyhow::Result<()> {
    let client = Client::builder().pool_max_idle_per_host(64).build()?;
    let customers = Arc::new(sign_in(&client, base).await?);
    let (c, b, cs) = (client.clone(), base.to_string(), customers.clone());
    let tag = name.replace(|ch: char| !ch.is_ascii_alphanumeric(), "");
    let created = phase(CREATORS, move |w, n| {
        let who = &cs[(w * 4 + n as usize) % CUSTOMERS];
        create(&c, &b, who, &format!("{tag}-{w}-{n}"))
    })
    .await;
    row(name, "create", &created);
    let (c, b, cs) = (client.clone(), base.to_string(), customers.clone());
    let listed = phase(READERS, move |w, n| {
        let who = &cs[(w + n as usize) % CUSTOMERS];
        c.get(format!("{b}/api/v1/tickets")).bearer_auth(&who.token)
    })
    .await;
    row(name, "list", &listed);
    Ok(())
}

/// Imports the bench's customers into the database at `url` with the server's own command.
fn import_into(url: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("import.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&common::customers("bk", CUSTOMERS)?)?,
    )?;
    let ok = std::process::Command::new(common::server_bin()?)
        .arg("import")
        .arg(&file)
        .env("HELPDESK_DATA_DIR", dir.path())
        .env("HELPDESK_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .status()?
        .success();
    anyhow::ensure!(ok, "import into {url} failed");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let customers = common::customers("bk", CUSTOMERS)?;
    {
        let server =
            common::start(&common::LIMITS_OFF, Some(customers.clone()), "BENCH_LOG").await?;
        measure("sqlite", &server.base).await?;
    }
    match std::env::var("BENCH_PG_URL") {
        Ok(url) => {
            let env = [
                common::LIMITS_OFF.as_slice(),
                &[("HELPDESK_DATABASE_URL", url.as_str())],
            ]
            .concat();
            let server = common::start(&env, Some(customers), "BENCH_LOG").await?;
            measure("postgres, 1 instance", &server.base).await?;
        }
        Err(_) => println!("BENCH postgres, 1 instance: skipped (BENCH_PG_URL unset)"),
    }
    let (Ok(base), Ok(db)) = (
        std::env::var("BENCH_CLUSTER_URL"),
        std::env::var("BENCH_CLUSTER_DB"),
    ) else {
        println!("BENCH cluster: skipped (BENCH_CLUSTER_URL unset)");
        return Ok(());
    };
    import_into(&db)?;
    measure("2 instances + nginx", &base).await?;

    // One instance killed 3 s into a mixed load: readers and keyed creations through nginx.
    let pids: Vec<String> = std::env::var("BENCH_CLUSTER_PIDS")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    let Some(victim) = pids.first().cloned() else {
        println!("BENCH kill: skipped (BENCH_CLUSTER_PIDS unset)");
        return Ok(());
    };
    let client = Client::builder().pool_max_idle_per_host(64).build()?;
    let cs = Arc::new(sign_in(&client, &base).await?);
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = std::process::Command::new("kill")
            .args(["-9", &victim])
            .status();
    });
    let b = base.clone();
    let mixed = phase(CREATORS, move |w, n| {
        let who = &cs[(w * 4 + n as usize) % CUSTOMERS];
        if w % 2 == 0 {
            client
                .get(format!("{b}/api/v1/tickets"))
                .bearer_auth(&who.token)
        } else {
            create(&client, &b, who, &format!("kill-{w}-{n}"))
        }
    })
    .await;
    let _ = killer.await;
    row("kill 1 of 2 at 3 s", "mixed", &mixed);
    println!(
        "BENCH requests lost when one instance is killed under load: {} of {} (goal 0)",
        mixed.1, mixed.2
    );
    Ok(())
}
