//! `cargo xtask bench`: the budgets of DESIGN.md, measured on this machine.

use crate::{build_app, cargo, root, setup, sh, Result};
use std::path::Path;

/// `cargo xtask bench [storm|wal|slow_bodies|events|backends|storm-compare [REV]|lighthouse|phone]`:
/// every budget, or only the outage storm's rows, or only the write flood's, or only the slow
/// bodies' (issue 19), or only the live streams' (issue 22),
/// or the storm against REV's build, or only Lighthouse's, or only the slow phone's (issue 23).
pub fn bench(args: &[String]) -> Result {
    if args.first().is_some_and(|a| a == "storm") {
        return storm();
    }
    if args.first().is_some_and(|a| a == "wal") {
        return server_bench("wal_flood");
    }
    if args.first().is_some_and(|a| a == "slow_bodies") {
        return server_bench("slow_bodies");
    }
    if args.first().is_some_and(|a| a == "backends") {
        return backends();
    }
    if args.first().is_some_and(|a| a == "events") {
        return server_bench("events");
    }
    if args.first().is_some_and(|a| a == "storm-compare") {
        return crate::compare::storm_compare(args.get(1).map(String::as_str));
    }
    setup::all()?;
    build_app()?;
    // `cargo xtask bench lighthouse`: that step alone.
    if args.first().is_some_and(|a| a == "lighthouse") {
        return lighthouse();
    }
    // `cargo xtask bench phone`: the slow phone's rows alone (issue 23), beside the sizes.
    if args.first().is_some_and(|a| a == "phone") {
        bundle_size(&root().join("dist"))?;
        return browser_benches("bench_phone");
    }
    bundle_size(&root().join("dist"))?;
    sh(cargo().args([
        "bench",
        "-p",
        "helpdesk-core",
        "--bench",
        "subject",
        "--",
        "--quick",
    ]))?;
    sh(cargo().args(["bench", "-p", "helpdesk-server", "--bench", "list_load"]))?;
    lighthouse()?;
    storm()?;
    server_bench("wal_flood")?;
    server_bench("slow_bodies")?;
    server_bench("events")?;
    backends()?;
    browser_benches("bench_")
}

/// The ignored browser benches of `tests/e2e` whose names contain `filter`, one at a time, on
/// the app built in dist/.
fn browser_benches(filter: &str) -> Result {
    let mut load = cargo();
    load.args([
        "test",
        "-p",
        "helpdesk-e2e",
        "--test",
        "browser",
        "--",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
        filter,
    ])
    .env("HELPDESK_TEST_APP_DIR", root().join("dist"))
    .env("CHROMEDRIVER", setup::CHROMEDRIVER);
    sh(&mut load)
}

/// The outage storm (issue 12): the server built as it runs (`--profile server`), started by
/// the bench in a process of its own, and loaded over loopback from the bench's process on a
/// database of 5,000 tickets and a 2,000-message thread; prints each row beside its goal.
fn storm() -> Result {
    server_bench("storm")
}

/// A load bench of `crates/server/benches/` against the server built as it runs
/// (`--profile server`), started by the bench in a process of its own (issue 19): `wal_flood`,
/// 100 customers writing for 60 s beside readers, the write-ahead log's peak and its size a minute
/// later; `slow_bodies`, every allowed connection taken by slow senders while others ask, others'
/// latency and how long slow connections were held.
fn server_bench(name: &str) -> Result {
    sh(cargo().args([
        "build",
        "-p",
        "helpdesk-server",
        "--profile",
        "server",
        "--bin",
        "helpdesk-server",
    ]))?;
    sh(cargo().args([
        "bench",
        "-p",
        "helpdesk-server",
        "--profile",
        "server",
        "--bench",
        name,
    ]))
}

/// SQLite, PostgreSQL with one instance and two instances behind nginx side by side, and the
/// requests lost when one instance is killed under load (issue 20): PostgreSQL and the cluster
/// started here, the load from `benches/backends.rs`.
fn backends() -> Result {
    setup::all()?;
    sh(cargo().args([
        "build",
        "-p",
        "helpdesk-server",
        "--profile",
        "server",
        "--bin",
        "helpdesk-server",
    ]))?;
    let postgres = crate::pg::Postgres::start("bench")?;
    postgres.create_database("one")?;
    let limits_off = [
        ("HELPDESK_RATE_TICKETS", "0"),
        ("HELPDESK_RATE_REPLIES", "0"),
        ("HELPDESK_RATE_UPLOAD_BYTES", "0"),
        ("HELPDESK_QUOTA_BYTES", "0"),
        ("RUST_LOG", "warn"),
    ];
    let port = crate::pg::free_port()?;
    let cluster = crate::cluster::start(
        &root().join("target/server/helpdesk-server"),
        port,
        false,
        &limits_off,
    )?;
    let pids: Vec<String> = cluster
        .instances
        .iter()
        .map(|c| c.id().to_string())
        .collect();
    sh(cargo()
        .args([
            "bench",
            "-p",
            "helpdesk-server",
            "--profile",
            "server",
            "--bench",
            "backends",
        ])
        .env("BENCH_PG_URL", postgres.url("one"))
        .env("BENCH_CLUSTER_URL", format!("http://127.0.0.1:{port}"))
        .env("BENCH_CLUSTER_DB", cluster.postgres.url("helpdesk"))
        .env("BENCH_CLUSTER_PIDS", pids.join(",")))
}

/// What the browser downloads for the app, compressed as the server sends it: every wasm and js
/// file of dist/ (the app may come in several pieces, in subfolders too, as wasm-bindgen's
/// snippets), the widget's loader apart, and the page with its stylesheet beside them.
fn bundle_size(dist: &Path) -> Result {
    // (name, raw, gzip, brotli) of each file, its name relative to dist/.
    let mut files = Vec::new();
    let mut dirs = vec![dist.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
            if !matches!(ext, "wasm" | "js" | "css") || p == dist.join("widget.js") {
                continue;
            }
            let size = |suffix: &str| {
                std::fs::metadata(p.with_extension(format!("{ext}.{suffix}")))
                    .map(|m| m.len())
                    .unwrap_or(0)
            };
            let raw = e.metadata().map(|m| m.len()).unwrap_or(0);
            let name = p
                .strip_prefix(dist)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            files.push((name, raw, size("gz"), size("br")));
        }
    }
    files.sort();
    println!("BENCH app bundle (every wasm and js file of dist/, widget.js apart; and the css):");
    for (name, raw, gz, br) in &files {
        println!("  {name:<48} raw {raw:>8}  gzip {gz:>7}  br {br:>7}");
    }
    let sum = |code: bool| {
        files
            .iter()
            .filter(|f| f.0.ends_with(".css") != code)
            .fold((0, 0, 0, 0), |t, f| {
                (t.0 + 1, t.1 + f.1, t.2 + f.2, t.3 + f.3)
            })
    };
    let (n, raw, gz, br) = sum(true);
    println!(
        "BENCH whole app, {n} wasm and js files: raw {raw} bytes, gzip {gz} bytes ({:.1} KB), \
         brotli {br} bytes ({:.1} KB); budget 300 KB gzip",
        gz as f64 / 1024.0,
        br as f64 / 1024.0
    );
    // build_app precompresses dist/'s own files only: a piece without its copies is sent as is.
    let bare: Vec<&str> = files
        .iter()
        .filter(|f| f.2 == 0 || f.3 == 0)
        .map(|f| f.0.as_str())
        .collect();
    if !bare.is_empty() {
        println!(
            "BENCH note: no .gz or .br beside {bare:?} (counted as 0 above; sent uncompressed)"
        );
    }
    // The page itself, with the stylesheet inside it since the stylesheet was inlined; the
    // server compresses it as it sends it (at brotli's and gzip's level, a little larger than
    // these).
    let (_, css_raw, css_gz, css_br) = sum(false);
    let page = std::fs::read(dist.join("index.html")).map_err(|e| format!("index.html: {e}"))?;
    let (page_gz, page_br) = crate::compressed(&page)?;
    let (page_gz, page_br) = (page_gz.len() as u64 + css_gz, page_br.len() as u64 + css_br);
    println!(
        "BENCH with the page (index.html and its stylesheet{}): gzip {} bytes ({:.1} KB), \
         brotli {} bytes ({:.1} KB); the page raw {} bytes",
        if css_raw == 0 {
            " inside it"
        } else {
            ", a file"
        },
        gz + page_gz,
        (gz + page_gz) as f64 / 1024.0,
        br + page_br,
        (br + page_br) as f64 / 1024.0,
        page.len() as u64 + css_raw
    );
    // The widget's loader, which every panel page loads: at most 4 KB gzip (issue 22: it now
    // follows the app's language and is a modal on phones).
    let widget = dist.join("widget.js");
    let len = |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "BENCH widget loader widget.js: raw {} bytes, gzip {} bytes, brotli {} bytes; budget 4,096 bytes gzip",
        len(widget.clone()),
        len(dist.join("widget.js.gz")),
        len(dist.join("widget.js.br"))
    );
    Ok(())
}

/// `cargo xtask fuzz [SECONDS]`: every fuzz target of `crates/server/fuzz` (one per parser of
/// outside input) under libFuzzer (nightly) for SECONDS each (default 60), seeded with its
/// committed corpus. New inputs go to `fuzz/target/found/<target>/` (not committed: keep the
/// corpora small, merge with `cargo fuzz cmin`); a crash lands in `fuzz/artifacts/<target>/` and
/// belongs in `fuzz/regressions/<target>/` once fixed. `cargo xtask test` replays corpora and
/// regressions on stable. Not part of `cargo xtask test`.
pub fn fuzz(args: &[String]) -> Result {
    let seconds = args.first().map(String::as_str).unwrap_or("60");
    let has_cargo_fuzz = std::process::Command::new(setup::cargo_bin("cargo-fuzz"))
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        sh(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let dir = root().join("crates/server/fuzz");
    let mut targets: Vec<String> = std::fs::read_dir(dir.join("fuzz_targets"))
        .map_err(|e| format!("crates/server/fuzz/fuzz_targets: {e}"))?
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(String::from)
        })
        .collect();
    targets.sort();
    let mut failed = Vec::new();
    for target in &targets {
        let found = dir.join("target/found").join(target);
        std::fs::create_dir_all(&found).map_err(|e| e.to_string())?;
        let mut run = std::process::Command::new("cargo");
        run.current_dir(&dir)
            .env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "fallback")
            .args(["+nightly", "fuzz", "run", target])
            .arg(&found)
            .arg(dir.join("corpus").join(target));
        if target == "ingest" {
            run.arg(root().join("crates/server/tests/fixtures/mail"));
            for folder in ["rfc", "legacy", "malformed", "thirdparty"] {
                let seeds = root().join("../shared/corpus/mail").join(folder);
                if seeds.is_dir() {
                    run.arg(seeds);
                }
            }
        }
        run.arg("--")
            .arg(format!("-max_total_time={seconds}"))
            // A hang is a finding too.
            .arg("-timeout=10");
        eprintln!("xtask: $ {run:?}");
        let status = run.status().map_err(|e| format!("cargo fuzz: {e}"))?;
        if !status.success() {
            failed.push(target.clone());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "cargo fuzz found failures in {failed:?}; see crates/server/fuzz/artifacts"
        ))
    }
}

/// Lighthouse (npm, in `tools/lighthouse`, with the project's Chromium) on the login page of
/// the `--profile server` build: performance and accessibility, mobile and desktop presets.
fn lighthouse() -> Result {
    use std::process::{Command, Stdio};
    const VERSION: &str = "13.5.0";
    let prefix = root().join("tools/lighthouse");
    let bin = prefix.join("node_modules/.bin/lighthouse");
    let installed = std::fs::read_to_string(prefix.join("node_modules/lighthouse/package.json"))
        .is_ok_and(|m| m.contains(&format!("\"version\": \"{VERSION}\"")));
    if !installed {
        std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
        sh(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("lighthouse@{VERSION}")))?;
    }
    sh(cargo().args(["build", "--profile", "server", "-p", "helpdesk-server"]))?;
    let data = std::env::temp_dir().join(format!("helpdesk-lighthouse-{}", std::process::id()));
    let bind = "127.0.0.1:18123";
    let mut server = Command::new(root().join("target/server/helpdesk-server"))
        .arg("serve")
        .envs([
            ("HELPDESK_DEMO", "1"),
            ("HELPDESK_BIND", bind),
            ("HELPDESK_SMTP_BIND", "off"),
            ("HELPDESK_APP_DIR", "dist"),
        ])
        .env("HELPDESK_DATA_DIR", &data)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the server: {e}"))?;
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(bind).is_ok()
    });
    let mut outcome = if up {
        Ok(())
    } else {
        Err("the server did not start".to_string())
    };
    for preset in ["mobile", "desktop"] {
        if outcome.is_err() {
            break;
        }
        let report = data.join(format!("{preset}.json"));
        let mut run = Command::new(&bin);
        run.arg(format!("http://{bind}/login"))
            .args([
                "--only-categories=performance,accessibility",
                "--output=json",
                "--quiet",
            ])
            .arg(format!("--output-path={}", report.display()))
            .arg(
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu \
                 --disable-background-networking --disable-component-update --disable-sync",
            )
            .env("CHROME_PATH", setup::CHROMIUM);
        if preset == "desktop" {
            run.arg("--preset=desktop");
        }
        outcome = sh(&mut run).and_then(|()| {
            let text = std::fs::read_to_string(&report).map_err(|e| e.to_string())?;
            let r: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            let score = |c: &str| r["categories"][c]["score"].as_f64().unwrap_or(0.0) * 100.0;
            let audit = |a: &str| {
                r["audits"][a]["displayValue"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string()
            };
            // Which element was the largest paint (what to make appear sooner).
            fn first_selector(v: &serde_json::Value) -> Option<&str> {
                match v {
                    serde_json::Value::Object(m) => m
                        .get("selector")
                        .and_then(|s| s.as_str())
                        .or_else(|| m.values().find_map(first_selector)),
                    serde_json::Value::Array(a) => a.iter().find_map(first_selector),
                    _ => None,
                }
            }
            let lcp_element = ["lcp-breakdown-insight", "largest-contentful-paint-element"]
                .iter()
                .find_map(|a| first_selector(&r["audits"][*a]["details"]))
                .unwrap_or("?")
                .to_string();
            println!(
                "BENCH lighthouse {preset} (login page): performance {:.0}, accessibility {:.0}; \
                 LCP {} ({lcp_element}), FCP {}, TBT {}, CLS {} (goal: 100 and 100)",
                score("performance"),
                score("accessibility"),
                audit("largest-contentful-paint"),
                audit("first-contentful-paint"),
                audit("total-blocking-time"),
                audit("cumulative-layout-shift"),
            );
            Ok(())
        });
    }
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
    outcome
}
