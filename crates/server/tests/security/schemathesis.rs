//! Schemathesis (PyPI) against the served OpenAPI document, as a logged-in customer: no server
//! error, every answer's status, content type, headers and body as documented, and input that
//! breaks the schema refused. `crates/server/schemathesis.toml` says the one thing no schema can:
//! which operations refuse valid-looking data by a business rule (422, and 415 for a file).

use crate::helpers::spawn_app;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::Command;

/// Schemathesis's budget for generating and sending requests; the whole test takes a little more.
const BUDGET_SECS: u64 = 60;
/// A fixed seed: a failure found once is found again by the next run.
const SEED: &str = "20261201";

/// The first way of running the CLI that answers `--version` (`cargo xtask setup` installs it).
async fn schemathesis_cli() -> Option<Vec<String>> {
    let candidates: [&[&str]; 3] = [
        &["st"],
        &["schemathesis"],
        &["python3", "-m", "schemathesis.cli"],
    ];
    for c in candidates {
        let ok = Command::new(c[0])
            .args(&c[1..])
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        if ok {
            return Some(c.iter().map(|s| s.to_string()).collect());
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_the_api_as_its_openapi_document_describes_it() {
    let Some(cli) = schemathesis_cli().await else {
        panic!(
            "Schemathesis is not installed (neither `st`, `schemathesis` nor `python3 -m \
             schemathesis.cli` answers): run `cargo xtask setup`, which installs it with pip"
        );
    };
    let app = spawn_app().await;
    let token = app.login("demo@example.it").await;
    let addr = app.running.as_ref().expect("running").addr;
    let origin = format!("http://{addr}");

    let started = Instant::now();
    let mut cmd = Command::new(&cli[0]);
    cmd.args(&cli[1..])
        .arg("--config-file")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/schemathesis.toml"))
        .arg("run")
        .arg(app.url("/api/v1/openapi.json"))
        // The document's paths start with /api/v1 already.
        .args(["--url", &origin])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // Logging out would end the token every other operation runs with (the authorization
        // matrix covers logout).
        .args(["--exclude-operation-id", "logout"])
        // The live event stream never ends, so every accepted request would wait out the request
        // timeout (tests/api/events.rs covers it; the authorization matrix too).
        .args(["--exclude-operation-id", "events"])
        .args(["--checks", "all"])
        // Stateless: each operation on its own, examples, boundaries and random data.
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-time", &BUDGET_SECS.to_string()])
        .args(["--seed", SEED])
        // One worker: Python 3.11's parser is not thread-safe where Hypothesis describes
        // strategies ("AST constructor recursion depth mismatch"), and the machine has two cores.
        .args(["--workers", "1"])
        .args(["--request-timeout", "30"])
        // Hypothesis's warning that generating data is slow says nothing of the API, and a loaded
        // two-core machine (the whole suite at once) trips it.
        .args(["--suppress-health-check", "too_slow"])
        // Its cache folder goes with the test's data, not into the source tree.
        .current_dir(app.dir.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let run = tokio::time::timeout(Duration::from_secs(BUDGET_SECS * 4), cmd.output())
        .await
        .expect("schemathesis finishes within four times its budget")
        .expect("schemathesis runs");
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "Schemathesis found the API and its document disagreeing (exit {:?}):\n{out}\n{err}",
        run.status.code()
    );
    // A run that tested nothing would also exit 0.
    let cases = out
        .lines()
        .skip_while(|l| !l.starts_with("Test cases:"))
        .nth(1)
        .map(str::trim)
        .unwrap_or("");
    let generated: u64 = cases
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        generated >= 100,
        "Schemathesis sent too few requests to prove anything:\n{out}"
    );
    let operations = out
        .lines()
        .find(|l| l.trim_start().starts_with("Tested:"))
        .unwrap_or("");
    println!(
        "schemathesis: {} ({}) in {:.0?}",
        cases,
        operations.trim(),
        started.elapsed()
    );
    app.stop().await;
}
