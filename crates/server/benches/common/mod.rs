//! What the load benches share: the server of this build (`--profile server`, or
//! `HELPDESK_SERVER_BIN`) started in a process of its own on a fresh data folder, with customers
//! imported, and stopped when dropped. Included by each bench with `#[path]`.
#![allow(dead_code)] // each bench uses its own part

use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Limits per account off: the benches measure the server, not the customers' limits.
pub const LIMITS_OFF: [(&str, &str); 4] = [
    ("HELPDESK_RATE_TICKETS", "0"),
    ("HELPDESK_RATE_REPLIES", "0"),
    ("HELPDESK_RATE_UPLOAD_BYTES", "0"),
    ("HELPDESK_QUOTA_BYTES", "0"),
];

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server binary built beside this bench (<target>/<profile>/deps/<bench>-…), unless
/// `HELPDESK_SERVER_BIN` names another (a build to compare).
pub fn server_bin() -> anyhow::Result<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("HELPDESK_SERVER_BIN") {
        return Ok(p.into());
    }
    let exe = std::env::current_exe()?;
    let p = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("helpdesk-server"))
        .ok_or_else(|| anyhow::anyhow!("no folder above {}", exe.display()))?;
    anyhow::ensure!(
        p.exists(),
        "{} missing: build it with `cargo build -p helpdesk-server --profile server`",
        p.display()
    );
    Ok(p)
}

/// `n` customers named `{prefix}{i}@example.it` (password `bench-password`), each with one
/// hosting service `negozio-{i}.it`, as the panel's import file has them.
pub fn customers(prefix: &str, n: usize) -> anyhow::Result<Value> {
    let hash = bcrypt::hash("bench-password", 4)?;
    let customers: Vec<Value> = (0..n)
        .map(|i| {
            json!({"email": format!("{prefix}{i}@example.it"), "name": format!("Cliente {i}"),
                "password_hash": hash, "services": [
                {"id": format!("s-{i}"), "family": "hosting_shared", "product": "Hosting Pro",
                 "identifier": format!("negozio-{i}.it")}]})
        })
        .collect();
    Ok(json!({ "customers": customers }))
}

/// Starts the server on a fresh data folder with `env` (SMTP off), after importing `import`
/// when given, and waits (30 s at most) until it answers. Its log goes to the file named by
/// the environment variable `log_var`, when set.
pub async fn start(
    env: &[(&str, &str)],
    import: Option<Value>,
    log_var: &str,
) -> anyhow::Result<Server> {
    let bin = server_bin()?;
    let dir = tempfile::tempdir()?;
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let setup = |c: &mut Command| {
        c.env("HELPDESK_DATA_DIR", dir.path())
            .env("HELPDESK_BIND", addr.to_string())
            .env("HELPDESK_SMTP_BIND", "off")
            .env("HELPDESK_APP_DIR", dir.path().join("no-app"))
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        match std::env::var_os(log_var).map(std::fs::File::create) {
            Some(Ok(f)) => c.stderr(f),
            _ => c.stderr(Stdio::null()),
        };
    };
    if let Some(customers) = import {
        let file = dir.path().join("import.json");
        std::fs::write(&file, serde_json::to_vec(&customers)?)?;
        let mut imp = Command::new(&bin);
        imp.arg("import").arg(&file);
        setup(&mut imp);
        anyhow::ensure!(imp.status()?.success(), "import failed");
    }
    let mut serve = Command::new(&bin);
    serve.arg("serve");
    setup(&mut serve);
    let server = Server {
        child: serve.spawn()?,
        addr,
        base: format!("http://{addr}"),
        dir,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let up = client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            return Ok(server);
        }
        anyhow::ensure!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A customer's session token.
pub async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let r: Value = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    r["token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow::anyhow!("no token for {email}"))
}

/// The id of the customer's first service.
pub async fn first_service(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<String> {
    let s = get_json(client, base, token, "/api/v1/services").await?;
    s["items"][0]["id"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow::anyhow!("no service"))
}

/// The `p` quantile (0..1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// A signed-in GET of `path`, its JSON answer.
pub async fn get_json(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
) -> anyhow::Result<Value> {
    Ok(client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?)
}
