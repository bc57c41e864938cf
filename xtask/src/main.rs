//! `cargo xtask run | test | bench | setup | build-app`: everything the project needs, from a
//! fresh machine, with the project's own files. Each step is idempotent and quick when done.

mod bench;
mod cluster;
mod compare;
mod pg;
mod setup;
mod split;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

pub type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("cluster") => cluster::cluster(),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("fuzz") => bench::fuzz(&args[1..]),
        Some("setup") => setup::all(),
        Some("build-app") => setup::all().and_then(|_| build_app()),
        _ => {
            eprintln!(
                "usage: cargo xtask <run | cluster | test | bench | fuzz [SECONDS] | setup | build-app>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command in the workspace root, failing with its name when it fails.
pub fn sh(cmd: &mut Command) -> Result {
    sh_in(&root(), cmd)
}

/// Runs a command in `dir`, failing with its name when it fails.
pub fn sh_in(dir: &Path, cmd: &mut Command) -> Result {
    cmd.current_dir(dir);
    eprintln!("xtask: $ {:?} (in {})", cmd, dir.display());
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed ({status})", cmd.get_program()))
    }
}

pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "fallback");
    c
}

/// Builds the app with Trunk in release mode (tools from PATH, nothing downloaded) and writes
/// gzip (zopfli) and brotli copies beside each asset for the server to send as they are.
pub fn build_app() -> Result {
    let mut trunk = Command::new(setup::cargo_bin("trunk"));
    trunk
        .args(["build", "--release", "--offline"])
        .env("PATH", setup::tool_path())
        .env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "fallback");
    sh(&mut trunk)?;
    split::split_app(&root().join("dist"))?;
    minify(&root().join("dist"))?;
    inline_stylesheet(&root().join("dist"))?;
    first_view_first(&root().join("dist"))?;
    precompress(&root().join("dist"))
}

/// The first `<link …>` tag of Trunk's `index.html` that `is` picks (one tag, maybe on a line
/// with others): where it starts, its length and its `href`.
fn link_tag(index: &str, what: &str, is: impl Fn(&str) -> bool) -> Result<(usize, usize, String)> {
    let start = index
        .match_indices("<link ")
        .map(|(i, _)| i)
        .find(|&i| is(index[i..].split('>').next().unwrap_or("")))
        .ok_or(format!("index.html: Trunk wrote no {what}"))?;
    let len = index[start..].find('>').map_or(0, |n| n + 1);
    let href = index[start..start + len]
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or(format!("index.html: {what} has no href"))?;
    Ok((start, len, href.to_string()))
}

/// The stylesheet goes inside `index.html`, in a `<style>` the server's CSP allows by its hash.
/// As a file it was a second round trip before the first paint: measured on the slow phone, the
/// first view at 508 ms with the file, 336 ms inline (612 ms with the file beside a wasm preload).
/// It is 3.5 KB brotli; the page is sent with an ETag, so a repeat visit still gets a 304.
fn inline_stylesheet(dist: &Path) -> Result {
    let path = dist.join("index.html");
    let index = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (start, len, href) = link_tag(&index, "the stylesheet's link", |tag| {
        tag.contains("rel=\"stylesheet\"")
    })?;
    let file = dist.join(href.rsplit('/').next().unwrap_or(&href));
    let css = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    if css.to_ascii_lowercase().contains("</style") {
        return Err(format!(
            "{}: `</style` would end the inlined sheet",
            file.display()
        ));
    }
    let index = [
        &index[..start],
        "<style>",
        css.trim_end(),
        "</style>",
        &index[start + len..],
    ]
    .concat();
    std::fs::write(&path, index).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::remove_file(&file).map_err(|e| format!("{}: {e}", file.display()))
}

/// The first view of `index.html` is painted first, and the main wasm is asked for the moment it
/// is, not later.
///
/// - A small inline script in the head asks for the wasm when the browser reports the first
///   view's largest paint (`largest-contentful-paint`; where there is no such entry, the first
///   contentful paint's), at most 1 s after the page (at once in the panel's frame, where the
///   panel's page is what was painted first, in a page opened hidden, which paints nothing
///   until it is shown, and in a browser without paint entries). Trunk's loader is given that
///   download, a promise of the response, and the app takes the page as soon as it starts: the
///   largest paint has been reported by then. The app waited for that report itself before
///   (`src/lib.rs`, an observer and at most 150 ms).
/// - Before: the loader's JavaScript asked for the wasm once it had arrived itself and a frame
///   had passed, and the slow phone's link (`cargo xtask bench phone`) was idle for the 0.5 s
///   before. Measured login interactive 1,756 to 1,594 ms (with the stylesheet inlined, above);
///   1,487 ms with a preload link at the top of the head instead, left out for the reason below.
/// - Not a preload link: the download then ends before the first paint on a fast link, and
///   Lighthouse's simulation counts every request that ended before the largest paint in it:
///   mobile 99 (LCP 2.0 s, the first view's card) with the preload, 100 without. Waiting for a
///   frame instead of the paint entry let the app take the page before the first view was
///   painted at all (mobile 99, the login form as the largest paint).
fn first_view_first(dist: &Path) -> Result {
    let path = dist.join("index.html");
    let index = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (tag_start, tag_len, href) = link_tag(&index, "the wasm's preload link", |tag| {
        tag.contains("rel=\"preload\"") && tag.contains("_bg.wasm")
    })?;
    // The largest paint's entry where the browser reports one (Chromium), else the first
    // contentful paint's.
    let ask = format!(
        "<script>window.helpdeskWasm = new Promise(function (r) {{\n\
         \x20   var asked = false;\n\
         \x20   var go = function () {{ if (!asked) {{ asked = true; r(fetch(\"{href}\")); }} }};\n\
         \x20   if (window.top !== window || document.hidden) return go();\n\
         \x20   setTimeout(go, 1000);\n\
         \x20   try {{\n\
         \x20     var types = PerformanceObserver.supportedEntryTypes || [];\n\
         \x20     var type = types.indexOf(\"largest-contentful-paint\") >= 0 ? \"largest-contentful-paint\"\n\
         \x20       : types.indexOf(\"paint\") >= 0 ? \"paint\" : null;\n\
         \x20     if (!type) return go();\n\
         \x20     new PerformanceObserver(function (l, o) {{\n\
         \x20       if (type !== \"paint\" || l.getEntriesByName(\"first-contentful-paint\").length) {{ o.disconnect(); go(); }}\n\
         \x20     }}).observe({{ type: type, buffered: true }});\n\
         \x20   }} catch (e) {{ go(); }}\n\
         \x20 }});</script>"
    );
    let mut index = [&index[..tag_start], &index[tag_start + tag_len..]].concat();
    index = index.replacen("<title>", &format!("{ask}\n  <title>"), 1);
    let init = "const wasm = await init({ module_or_path: ";
    let Some(at) = index.find(init) else {
        return Err("index.html: Trunk's loader has no `await init({ module_or_path: `".into());
    };
    let arg_end = index[at + init.len()..]
        .find(" })")
        .map(|n| at + init.len() + n)
        .ok_or("index.html: Trunk's `init` call does not end as expected")?;
    // The call gets a `catch`: a failure goes to the first view's retry (`helpdeskFailed` in
    // index.html) and is thrown on, so the console still shows it.
    index.replace_range(
        at + init.len()..arg_end + " })".len(),
        "window.helpdeskWasm })\n  .catch(function (e) { window.helpdeskFailed(); throw e; })",
    );
    std::fs::write(&path, index).map_err(|e| format!("{}: {e}", path.display()))
}

/// Minifies the app's JS loader and CSS with esbuild, and puts their new `integrity` hashes in
/// `index.html`. A file `index.html` does not name by its hash is left as it is.
fn minify(dist: &Path) -> Result {
    use split::sri;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let index_path = dist.join("index.html");
    let mut index = String::from_utf8(read(&index_path)?).map_err(|e| e.to_string())?;
    let entries =
        std::fs::read_dir(dist).map_err(|e| format!("reading {}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "js" | "css") {
            continue;
        }
        let old = sri(&read(&path)?);
        if !index.contains(&old) {
            continue;
        }
        let mut esbuild = Command::new(setup::tools_bin().join("esbuild"));
        esbuild
            .arg(&path)
            .args(["--minify", "--allow-overwrite", "--log-level=warning"])
            .arg(format!("--outfile={}", path.display()));
        if ext == "js" {
            // wasm-bindgen names the split's loader once per function imported from it, as
            // keys of one object: the same module each time.
            esbuild.args(["--format=esm", "--log-override:duplicate-object-key=silent"]);
        }
        sh(&mut esbuild)?;
        index = index.replace(&old, &sri(&read(&path)?));
    }
    // The widget's loader, which panel pages load by its fixed name (no hash, no SRI).
    let widget = dist.join("widget.js");
    if widget.exists() {
        sh(Command::new(setup::tools_bin().join("esbuild"))
            .arg(&widget)
            .args(["--minify", "--allow-overwrite", "--log-level=warning"])
            .arg(format!("--outfile={}", widget.display())))?;
    }
    std::fs::write(&index_path, index).map_err(|e| format!("{}: {e}", index_path.display()))
}

fn precompress(dir: &Path) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "js" | "wasm" | "css" | "svg") {
            continue;
        }
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (gz, br) = compressed(&data).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(path.with_extension(format!("{ext}.gz")), gz).map_err(|e| e.to_string())?;
        std::fs::write(path.with_extension(format!("{ext}.br")), br).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The gzip (zopfli) and brotli (quality 11) of `data`, as the app's files are sent.
pub fn compressed(data: &[u8]) -> std::result::Result<(Vec<u8>, Vec<u8>), String> {
    use std::io::Write;
    // Zopfli writes ordinary gzip, 5 % smaller than zlib's best, in about a second.
    let mut gz = Vec::new();
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        data,
        &mut gz,
    )
    .map_err(|e| format!("gzip: {e}"))?;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        w.write_all(data).map_err(|e| format!("brotli: {e}"))?;
    }
    Ok((gz, br))
}

/// Sets up, builds the app and the server, and runs it with demo data on 127.0.0.1:8080.
/// `HELPDESK_*` variables in the environment win over these defaults.
fn run() -> Result {
    setup::all()?;
    build_app()?;
    sh(cargo().args(["build", "--profile", "server", "-p", "helpdesk-server"]))?;
    let bin = root().join("target/server/helpdesk-server");
    let mut cmd = Command::new(bin);
    cmd.arg("serve");
    for (k, v) in [
        ("HELPDESK_DEMO", "1"),
        ("HELPDESK_MAIL_REQUIRE_AUTH", "0"),
        ("HELPDESK_APP_DIR", "dist"),
        ("HELPDESK_DATA_DIR", "data"),
        // The demo control panel, on another site than the helpdesk (localhost vs 127.0.0.1),
        // so the browser embeds the widget as a third party, as the real panel does.
        ("HELPDESK_DEMO_PANEL_BIND", "127.0.0.1:8081"),
        ("HELPDESK_FRAME_ANCESTORS", "'self' http://localhost:8081"),
    ] {
        if std::env::var_os(k).is_none() {
            cmd.env(k, v);
        }
    }
    eprintln!(
        "xtask: the helpdesk will be at http://{}",
        std::env::var("HELPDESK_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into())
    );
    eprintln!(
        "xtask: the demo control panel, with the widget and sign-on, at http://localhost:{}/",
        std::env::var("HELPDESK_DEMO_PANEL_BIND")
            .ok()
            .and_then(|b| b.rsplit(':').next().map(str::to_string))
            .unwrap_or_else(|| "8081".into())
    );
    eprintln!("xtask: log in as demo@example.it / demo-password (Ctrl+C stops it)");
    sh(&mut cmd)
}

/// Sets up and runs every test: core and server (native), end-to-end in Chromium against the
/// real server, and the app's component tests in Chromium (wasm32).
fn test(extra: &[String]) -> Result {
    disk_report("before the tests");
    let outcome = run_tests(extra);
    disk_report("after the tests");
    outcome
}

/// Free space where the build writes, so a CI log shows at once when a run died of a full disk.
fn disk_report(when: &str) {
    let target = root().join("target");
    let place = if target.exists() { target } else { root() };
    match Command::new("df").arg("-h").arg(&place).output() {
        Ok(out) => eprintln!(
            "xtask: disk {when}:\n{}",
            String::from_utf8_lossy(&out.stdout).trim_end()
        ),
        Err(e) => eprintln!("xtask: disk {when}: df failed: {e}"),
    }
}

fn run_tests(extra: &[String]) -> Result {
    setup::all()?;
    sh(cargo().args(["fmt", "--all", "--check"]))?;
    build_app()?;
    sh(cargo().args(["build", "-p", "helpdesk-server"]))?;
    let server_bin = root().join("target/debug/helpdesk-server");
    // Stopped and removed when this function returns, whatever the tests did.
    let postgres = pg::Postgres::start("test")?;
    let pg_admin = postgres.url("postgres");
    let mut native = cargo();
    native
        .args(["test", "--workspace", "--exclude", "xtask"])
        .args(extra)
        .env("HELPDESK_TEST_PG_ADMIN", &pg_admin)
        .env("HELPDESK_SERVER_BIN", &server_bin)
        .env("HELPDESK_TEST_APP_DIR", root().join("dist"))
        .env("CHROMEDRIVER", setup::CHROMEDRIVER)
        .env("PATH", setup::tool_path());
    sh(&mut native)?;
    // The API suite again, every server on PostgreSQL (the storage contract ran on both above).
    sh(cargo()
        .args(["test", "-p", "helpdesk-server", "--test", "api"])
        .args(extra)
        .args(["--", "--skip", "storage_contract"])
        .env("HELPDESK_TEST_PG_ADMIN", &pg_admin)
        .env("HELPDESK_TEST_BACKEND", "postgres")
        .env("HELPDESK_SERVER_BIN", &server_bin)
        .env("HELPDESK_TEST_APP_DIR", root().join("dist")))?;
    drop(postgres);
    let mut wasm = cargo();
    wasm.args([
        "test",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "helpdesk-app",
    ])
    .env("CHROMEDRIVER", setup::CHROMEDRIVER)
    .env("PATH", setup::tool_path());
    sh(&mut wasm)?;
    sh(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The app in wasm, whole as the component tests build it and in pieces as it is shipped.
    for what in [
        &["-p", "helpdesk-core", "--all-targets"][..],
        &["--features", "pieces"][..],
    ] {
        sh(cargo()
            .args([
                "clippy",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                "helpdesk-app",
            ])
            .args(what)
            .args(["--", "-D", "warnings"]))?;
    }
    eprintln!("xtask: every test passed");
    Ok(())
}
