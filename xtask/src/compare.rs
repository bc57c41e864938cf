//! `cargo xtask bench storm-compare [REV]`: the outage storm's key rows on this tree's server and
//! on REV's (default `c247a03`, main before issue 19), both `--profile server`, in turns in the
//! same run, side by side with the difference in %: this machine's speed varies by the hour, so
//! two runs an hour apart compare the hours, not the builds.
//!
//! REV is checked out in a `git worktree` under `target/compare/<REV>` and built there into a
//! target folder of its own (`target/compare/target`, first seeded with a copy of this tree's
//! `--profile server` build so that only the workspace's crates compile); both binaries stay.
//! Each turn is one run of the storm bench (`STORM_NO_MIXED=1`: its setup, creation saturated,
//! the lists, creation at 200/s, replies saturated and at 200/s; not the 60 s mixed run nor the
//! service's open tickets) against one binary, then the other; the order alternates between turns.
//! `STORM_COMPARE_TURNS` sets the turns per binary (default 2). Limits per account are off.

use crate::{cargo, root, sh, sh_in, Result};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DEFAULT_REV: &str = "c247a03";

/// REV's server, built with `--profile server` in its own worktree and target folder.
fn build_rev(rev: &str) -> Result<PathBuf> {
    let base = root().join("target/compare");
    let tree = base.join(rev);
    if !tree.join("Cargo.toml").exists() {
        std::fs::create_dir_all(&base).map_err(|e| e.to_string())?;
        sh(Command::new("git")
            .args(["worktree", "add", "--force", "--detach"])
            .arg(&tree)
            .arg(rev))?;
    }
    let target = base.join("target");
    let seed = root().join("target/server");
    if !target.join("server").exists() && seed.is_dir() {
        // A copy keeping times, so that the dependencies' builds count as fresh.
        std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
        sh(Command::new("cp")
            .arg("-a")
            .arg(&seed)
            .arg(target.join("server")))?;
    }
    sh_in(
        &tree,
        cargo()
            .args([
                "build",
                "-p",
                "helpdesk-server",
                "--profile",
                "server",
                "--bin",
                "helpdesk-server",
            ])
            .env("CARGO_TARGET_DIR", &target),
    )?;
    Ok(target.join("server/helpdesk-server"))
}

/// One storm run against `bin`: its `BENCH |` rows, as (what, measured).
fn storm_rows(bin: &Path) -> Result<Vec<(String, String)>> {
    let mut cmd = cargo();
    cmd.args([
        "bench",
        "-p",
        "helpdesk-server",
        "--profile",
        "server",
        "--bench",
        "storm",
    ])
    .env("HELPDESK_SERVER_BIN", bin)
    .env("STORM_NO_MIXED", "1")
    .env("HELPDESK_RATE_TICKETS", "0")
    .env("HELPDESK_RATE_REPLIES", "0")
    .env("HELPDESK_RATE_UPLOAD_BYTES", "0")
    .env("HELPDESK_QUOTA_BYTES", "0")
    .current_dir(root())
    .stdout(Stdio::piped());
    eprintln!("xtask: $ {cmd:?} (server {})", bin.display());
    let mut child = cmd.spawn().map_err(|e| format!("cargo bench: {e}"))?;
    let mut rows = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            println!("{line}");
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // BENCH | what | measured | goal |
            if cells.len() >= 4 && cells[0] == "BENCH" && cells[1] != "what" && cells[1] != "---" {
                rows.push((row_name(cells[1]), cells[2].to_string()));
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "the storm against {} failed ({status})",
            bin.display()
        ));
    }
    Ok(rows)
}

/// A row's name without what varies from run to run (a thread's length by the end: `(→ …)`).
fn row_name(what: &str) -> String {
    let mut name = String::new();
    let mut depth = 0usize;
    for c in what.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => name.push(c),
            _ => {}
        }
    }
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The figures of a measured cell: each side of `a → b` apart, its rate (`N/s`) and p99.
fn figures(measured: &str) -> Vec<(String, f64)> {
    let sides: Vec<&str> = measured.split('→').collect();
    let mut out = Vec::new();
    for (i, side) in sides.iter().enumerate() {
        let prefix = if sides.len() > 1 {
            format!("[{}] ", i + 1)
        } else {
            String::new()
        };
        let words: Vec<&str> = side.split_whitespace().collect();
        for (j, w) in words.iter().enumerate() {
            if let Some(rate) = w.trim_end_matches(',').strip_suffix("/s") {
                if let Ok(v) = rate.parse::<f64>() {
                    out.push((format!("{prefix}rate /s"), v));
                }
            }
            if *w == "p99" {
                if let Some(v) = words.get(j + 1).and_then(|v| v.parse::<f64>().ok()) {
                    out.push((format!("{prefix}p99 ms"), v));
                }
            }
        }
    }
    out
}

pub fn storm_compare(rev: Option<&str>) -> Result {
    let rev = rev.unwrap_or(DEFAULT_REV);
    let turns: usize = std::env::var("STORM_COMPARE_TURNS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    // This tree's server and bench, then REV's server.
    storm_build()?;
    let head = root().join("target/server/helpdesk-server");
    let before = build_rev(rev)?;
    // Kept apart from this tree's target/server, which a later build replaces.
    let kept = root().join("target/compare/helpdesk-server-head");
    std::fs::copy(&head, &kept).map_err(|e| format!("copying {}: {e}", head.display()))?;
    let builds = [(rev.to_string(), before), ("this tree".to_string(), kept)];
    // (build, row, figure) → values, one per turn.
    let mut seen: Vec<(usize, String, String, Vec<f64>)> = Vec::new();
    for turn in 0..turns {
        let order: [usize; 2] = if turn % 2 == 0 { [0, 1] } else { [1, 0] };
        for b in order {
            println!(
                "BENCH storm-compare: turn {} of {turns}, {}",
                turn + 1,
                builds[b].0
            );
            for (what, measured) in storm_rows(&builds[b].1)? {
                for (figure, v) in figures(&measured) {
                    match seen
                        .iter_mut()
                        .find(|(bb, w, f, _)| *bb == b && *w == what && *f == figure)
                    {
                        Some(e) => e.3.push(v),
                        None => seen.push((b, what.clone(), figure, vec![v])),
                    }
                }
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "BENCH storm-compare: {rev} against this tree, {turns} turns each, interleaved; means (each turn's values)"
    );
    println!("BENCH | row | figure | {rev} | this tree | difference |");
    println!("BENCH | --- | --- | --- | --- | --- |");
    for (_, what, figure, old) in seen.iter().filter(|e| e.0 == 0) {
        let Some((.., new)) = seen
            .iter()
            .find(|e| e.0 == 1 && e.1 == *what && e.2 == *figure)
        else {
            continue;
        };
        let (o, n) = (mean(old), mean(new));
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "BENCH | {what} | {figure} | {o:.1} ({}) | {n:.1} ({}) | {:+.1} % |",
            list(old),
            list(new),
            (n / o - 1.0) * 100.0
        );
    }
    Ok(())
}

/// This tree's server and storm bench, `--profile server`.
fn storm_build() -> Result {
    sh(cargo().args([
        "build",
        "-p",
        "helpdesk-server",
        "--profile",
        "server",
        "--bin",
        "helpdesk-server",
        "--bench",
        "storm",
    ]))
}
