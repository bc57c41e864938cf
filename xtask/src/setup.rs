//! Installs what the project needs, by package name, only when missing: the wasm target,
//! Trunk, wasm-bindgen-cli, wasm-opt (binaryen from npm), Chromium and chromedriver, PostgreSQL and
//! nginx.

use crate::{root, sh, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TRUNK_VERSION: &str = "0.21.14";
/// Must equal the `wasm-bindgen` version pinned in the root Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
pub const BINARYEN_VERSION: &str = "132";
pub const ESBUILD_VERSION: &str = "0.28.2";
/// axe-core, the accessibility rules the end-to-end tests run in Chromium (WCAG 2.1 AA).
pub const AXE_CORE_VERSION: &str = "4.14.1";
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin").join(name)
}

pub fn tools_bin() -> PathBuf {
    root().join("tools/node_modules/.bin")
}

/// PATH with the project's tools first (Trunk finds wasm-opt and wasm-bindgen there).
pub fn tool_path() -> String {
    let mut parts = vec![tools_bin(), cargo_bin("")];
    if let Some(p) = std::env::var_os("PATH") {
        parts.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(parts)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn version_of(program: &Path, arg: &str) -> Option<String> {
    let out = Command::new(program).arg(arg).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn all() -> Result {
    wasm_target()?;
    trunk()?;
    wasm_bindgen()?;
    esbuild()?;
    axe_core()?;
    wasm_opt()?;
    chromium()?;
    debian_servers()?;
    python_peers()?;
    schemathesis()
}

/// PostgreSQL (a throwaway server for the tests and the cluster) and nginx (the cluster's front),
/// from Debian's packages.
fn debian_servers() -> Result {
    let have_pg = crate::pg::bin_dir().is_some();
    let have_nginx = Path::new(NGINX).exists();
    if have_pg && have_nginx {
        return Ok(());
    }
    sh(Command::new("apt-get").arg("update"))?;
    sh(Command::new("apt-get")
        .args([
            "install",
            "-y",
            "--no-install-recommends",
            "postgresql",
            "nginx",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

pub const NGINX: &str = "/usr/sbin/nginx";

/// Python packages of the test peers (a real SMTP relay on loopback).
fn python_peers() -> Result {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Ok(());
    }
    sh(Command::new("python3").args(["-m", "pip", "install", "--quiet", "aiosmtpd"]))
}

/// Schemathesis, which the security suite runs against the OpenAPI document; pinned, because
/// its checks grow from version to version.
fn schemathesis() -> Result {
    let installed = Command::new("python3")
        .args(["-m", "schemathesis.cli", "--version"])
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS_VERSION)
        });
    if installed {
        return Ok(());
    }
    let pin = format!("schemathesis=={SCHEMATHESIS_VERSION}");
    sh(Command::new("python3").args(["-m", "pip", "install", "--quiet", &pin]))
}

fn wasm_target() -> Result {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    if String::from_utf8_lossy(&out.stdout).contains("wasm32-unknown-unknown") {
        return Ok(());
    }
    sh(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn trunk() -> Result {
    if version_of(&cargo_bin("trunk"), "--version").is_some_and(|v| v.contains(TRUNK_VERSION)) {
        return Ok(());
    }
    // 0.22 needs a newer rustc; --locked keeps Trunk's own tested dependency versions.
    sh(crate::cargo().args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
}

fn wasm_bindgen() -> Result {
    if version_of(&cargo_bin("wasm-bindgen"), "--version")
        .is_some_and(|v| v.contains(WASM_BINDGEN_VERSION))
        && cargo_bin("wasm-bindgen-test-runner").exists()
    {
        return Ok(());
    }
    // Without --locked: with it, a pinned dependency is missing from the registry.
    sh(crate::cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        WASM_BINDGEN_VERSION,
    ]))
}

fn wasm_opt() -> Result {
    let bin = tools_bin().join("wasm-opt");
    if version_of(&bin, "--version")
        .is_some_and(|v| v.contains(&format!("version {BINARYEN_VERSION}")))
    {
        return Ok(());
    }
    // Debian's binaryen is too old (its output fails in Chromium); npm's package is current.
    let tools = root().join("tools");
    std::fs::create_dir_all(&tools).map_err(|e| e.to_string())?;
    sh(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&tools)
        .arg(format!("binaryen@{BINARYEN_VERSION}")))
}

/// esbuild minifies the JS loader and the CSS after Trunk (Trunk's own JS minifier cannot read
/// wasm-bindgen's output). From npm, like wasm-opt.
fn esbuild() -> Result {
    let bin = tools_bin().join("esbuild");
    if version_of(&bin, "--version").is_some_and(|v| v.trim() == ESBUILD_VERSION) {
        return Ok(());
    }
    let tools = root().join("tools");
    std::fs::create_dir_all(&tools).map_err(|e| e.to_string())?;
    sh(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&tools)
        .arg(format!("esbuild@{ESBUILD_VERSION}")))
}

/// axe-core's script, injected into the app's pages by the accessibility tests.
fn axe_core() -> Result {
    let tools = root().join("tools");
    let manifest = tools.join("node_modules/axe-core/package.json");
    let installed = std::fs::read_to_string(&manifest)
        .is_ok_and(|m| m.contains(&format!("\"version\": \"{AXE_CORE_VERSION}\"")));
    if installed {
        return Ok(());
    }
    std::fs::create_dir_all(&tools).map_err(|e| e.to_string())?;
    sh(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&tools)
        .arg(format!("axe-core@{AXE_CORE_VERSION}")))
}

fn chromium() -> Result {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    sh(Command::new("apt-get").arg("update"))?;
    sh(Command::new("apt-get")
        .args([
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
