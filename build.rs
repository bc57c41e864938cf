//! Generates the app's `i18n` module (src/lib.rs includes it) from locales/it.json and
//! locales/en.json: every key exists in both, with the same parameters, or the build fails.

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    // The app's binary keeps the linker's relocations: `cargo xtask build-app` splits it into
    // pieces with them (src/pieces.rs) before wasm-bindgen. Only the link of the binary: the
    // dependencies are built as they are for the tests.
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-link-arg-bins=--emit-relocs");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    // Italian is the default: the provider's language, and the fallback for any other.
    // `interpolate_display`: texts with parameters also as strings (attributes, API errors).
    let options = ParseOptions::default().interpolate_display(true);
    let cfg = Config::new("it")?.add_locale("en")?.parse_options(options);
    let infos = TranslationsInfos::parse(cfg)?;
    infos.emit_diagnostics();
    infos.rerun_if_locales_changed();
    infos.generate_i18n_module(out)?;
    Ok(())
}
