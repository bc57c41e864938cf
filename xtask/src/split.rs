//! The app in pieces (issue 23): after Trunk, the wasm that cargo linked (with its relocations,
//! see the root build.rs) is split at the app's `wasm_split` functions (src/pieces.rs) with
//! `wasm_split_cli_support`, as cargo-leptos does; wasm-bindgen then makes the main piece's
//! JavaScript, and wasm-opt optimises each piece. The results replace Trunk's JavaScript and
//! wasm under Trunk's names, so `index.html` stays Trunk's; each piece and the small module that
//! loads them get a name with their content's hash, which the server caches for a year.
//!
//! The split runs before wasm-bindgen, not after it: wasm-bindgen does not keep the
//! relocations the split needs, and the main piece must be the one wasm-bindgen describes.

use crate::{root, setup, sh, Result};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The features our wasm uses, for wasm-opt (as Trunk was given them in `index.html`).
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The name the split's loader is imported by, from the main piece's JavaScript.
const LINK_NAME: &str = "./__wasm_split.js";

fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, data: impl AsRef<[u8]>) -> Result {
    std::fs::write(p, data).map_err(|e| format!("{}: {e}", p.display()))
}

/// 16 hex digits of the content's SHA-256: the part of a name the server recognises as a hash.
fn content_hash(data: &[u8]) -> String {
    sha2::Sha256::digest(data)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn sri(data: &[u8]) -> String {
    use base64::Engine;
    let digest = sha2::Sha384::digest(data);
    [
        "sha384-",
        &base64::engine::general_purpose::STANDARD.encode(digest),
    ]
    .concat()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Trunk's `helpdesk-app-<hash>` in `dist`, from its JavaScript's name.
fn trunk_stem(dist: &Path) -> Result<String> {
    let entries =
        std::fs::read_dir(dist).map_err(|e| format!("reading {}: {e}", dist.display()))?;
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .find_map(|n| {
            n.strip_prefix("helpdesk-app-")
                .and_then(|rest| rest.strip_suffix(".js"))
                .map(|hash| ["helpdesk-app-", hash].concat())
        })
        .ok_or_else(|| format!("{}: Trunk wrote no helpdesk-app-*.js", dist.display()))
}

pub fn split_app(dist: &Path) -> Result {
    let stem = trunk_stem(dist)?;
    let input = target_dir().join("wasm32-unknown-unknown/release/helpdesk-app.wasm");
    let work = target_dir().join("wasm-split");
    let _ = std::fs::remove_dir_all(&work);
    let pieces_dir = work.join("pieces");
    let main_wasm = work.join("main.wasm");
    std::fs::create_dir_all(&pieces_dir).map_err(|e| e.to_string())?;
    let input_wasm = read(&input)?;
    let main_module = format!("./{stem}.js");
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&input_wasm);
        opts.output_dir = &pieces_dir;
        opts.main_out_path = &main_wasm;
        opts.link_name = LINK_NAME;
        opts.main_module = &main_module;
        opts
    })
    .map_err(|e| format!("splitting {}: {e:#}", input.display()))?;
    if split.split_modules.is_empty() {
        return Err(
            "the split found no pieces: is the app built with the `pieces` feature \
                    (index.html's data-cargo-features)?"
                .into(),
        );
    }

    // wasm-bindgen on the main piece, under Trunk's name.
    let bindgen = work.join("bindgen");
    sh(Command::new(setup::cargo_bin("wasm-bindgen"))
        // The split pieces share the main piece's table of functions, which LLD exports and
        // wasm-bindgen would otherwise drop.
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--keep-lld-exports",
            "--out-name",
        ])
        .arg(&stem)
        .arg("--out-dir")
        .arg(&bindgen)
        .arg(&main_wasm))?;
    if bindgen.join("snippets").exists() {
        return Err("wasm-bindgen wrote snippets, which the split build does not copy yet".into());
    }

    // Each piece optimised, then named by its content.
    let mut link =
        String::from_utf8(read(&pieces_dir.join("__wasm_split.js"))?).map_err(|e| e.to_string())?;
    for piece in &split.split_modules {
        let file = piece
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("a piece without a name")?
            .to_string();
        let optimised = work.join(format!("opt-{file}"));
        wasm_opt(piece, &optimised)?;
        let data = read(&optimised)?;
        let piece_stem = file.trim_end_matches(".wasm");
        let name = format!("{piece_stem}-{}.wasm", content_hash(&data));
        let quoted = format!("\"./{file}\"");
        if !link.contains(&quoted) {
            return Err(format!("the split's loader does not fetch {file}"));
        }
        link = link.replace(&quoted, &format!("\"./{name}\""));
        write(&dist.join(&name), data)?;
    }
    let link_name = format!("split-{}.js", content_hash(link.as_bytes()));
    write(&dist.join(&link_name), &link)?;

    // The main piece: its wasm optimised in place of Trunk's, its JavaScript importing the
    // loader by its hashed name.
    let index_path = dist.join("index.html");
    let mut index = String::from_utf8(read(&index_path)?).map_err(|e| e.to_string())?;
    let main_js_path = dist.join(format!("{stem}.js"));
    let main_bg_path = dist.join(format!("{stem}_bg.wasm"));
    let old_js = read(&main_js_path)?;
    let old_bg = read(&main_bg_path)?;
    let js =
        String::from_utf8(read(&bindgen.join(format!("{stem}.js")))?).map_err(|e| e.to_string())?;
    // Only the module it is imported from is renamed: the wasm's own import keeps the name the
    // split gave it, and so does the key of the imports object that answers it.
    let imported = [
        format!("from '{LINK_NAME}'"),
        format!("from \"{LINK_NAME}\""),
    ];
    if !imported.iter().any(|i| js.contains(i.as_str())) {
        return Err(format!("{stem}.js does not import {LINK_NAME}"));
    }
    let js = imported.iter().fold(js, |js, i| {
        js.replace(i.as_str(), &format!("from './{link_name}'"))
    });
    write(&main_js_path, &js)?;
    wasm_opt(&bindgen.join(format!("{stem}_bg.wasm")), &main_bg_path)?;
    index = index
        .replace(&sri(&old_js), &sri(js.as_bytes()))
        .replace(&sri(&old_bg), &sri(&read(&main_bg_path)?));
    // The loader is fetched beside the main piece's JavaScript, not after it: the JavaScript
    // imports it, and on a phone's link each round trip discovered late costs 150 ms.
    let preload = format!(
        "<link rel=\"modulepreload\" href=\"/__HELPDESK_BASE__/{link_name}\" \
         crossorigin=\"anonymous\" integrity=\"{}\"/>",
        sri(link.as_bytes())
    );
    index = index.replacen("</head>", &format!("\n  {preload}\n</head>"), 1);
    // `target/wasm-split` stays until the next build: its pieces keep their names, for a size
    // profile (`twiggy top target/wasm-split/bindgen/*_bg.wasm`).
    write(&index_path, index)
}

/// -O3, not -Oz: its wasm is 3 % larger but compresses smaller (measured on every piece: main
/// piece 178.3 to 177.7 KB brotli, all pieces 3 KB less gzip), and compressed is what is sent.
/// Passes repeated until the wasm stops shrinking (--converge) take a little more off; the debug and
/// producers sections nobody reads are dropped.
fn wasm_opt(input: &Path, output: &Path) -> Result {
    sh(Command::new(setup::tools_bin().join("wasm-opt"))
        .args(["-O3", "--converge", "--strip-debug", "--strip-producers"])
        .args(WASM_OPT_FEATURES)
        .arg(input)
        .arg("-o")
        .arg(output))
}
