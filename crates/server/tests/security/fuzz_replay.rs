//! Fuzzing, kept on stable: every input of every fuzz target's corpus (`fuzz/corpus/<target>/`)
//! and every crash once found (`fuzz/regressions/<target>/`) goes through the same function the
//! fuzz target calls, so that a crash once found stays found.

use helpdesk_server::fuzzing::TARGETS;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of a folder, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_fuzz_target_has_its_target_file_and_a_committed_corpus() {
    let dir = fuzz_dir();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for t in TARGETS {
        let file = dir.join("fuzz_targets").join(format!("{}.rs", t.name));
        let source =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            source.contains("helpdesk_server::fuzzing::"),
            "{} must call its body in helpdesk_server::fuzzing, so the replay runs the same code",
            file.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{}\"", t.name)),
            "fuzz/Cargo.toml has no [[bin]] {}",
            t.name
        );
        assert!(
            !files_in(&dir.join("corpus").join(t.name)).is_empty(),
            "fuzz/corpus/{} has no seed",
            t.name
        );
    }
    for file in files_in(&dir.join("fuzz_targets")) {
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        assert!(
            TARGETS.iter().any(|t| t.name == stem),
            "{} is not in helpdesk_server::fuzzing::TARGETS, so its corpus is never replayed",
            file.display()
        );
    }
}

#[test]
fn every_corpus_input_and_every_crash_once_found_passes_its_fuzz_target() {
    let dir = fuzz_dir();
    let mut replayed = 0;
    let mut failures = Vec::new();
    for t in TARGETS {
        let inputs = files_in(&dir.join("corpus").join(t.name))
            .into_iter()
            .chain(files_in(&dir.join("regressions").join(t.name)));
        for path in inputs {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let started = std::time::Instant::now();
            if catch_unwind(AssertUnwindSafe(|| (t.run)(&data))).is_err() {
                failures.push(format!("{}: {}", t.name, path.display()));
            }
            // libFuzzer's default timeout is far longer; this catches an input that hangs.
            let took = started.elapsed();
            if took > std::time::Duration::from_secs(20) {
                failures.push(format!("{}: {} took {took:?}", t.name, path.display()));
            }
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len(), "only {replayed} inputs replayed");
    assert!(failures.is_empty(), "fuzz inputs that fail: {failures:#?}");
}
