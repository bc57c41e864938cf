//! Any bytes, read as an incoming e-mail: the intake's parsing, HTML conversion and reading of
//! Authentication-Results never let a panic out, never hang and keep subjects, names and bodies
//! clean. The body is `helpdesk_server::fuzzing::ingest`, which the stable replay test also runs.
//!
//! Panics inside the MIME parser are caught by `parse::analyse` (the message is then recorded as
//! malformed); libFuzzer's hook would abort on them first, so panics located in mail-parser are
//! let through to that guard, and every other panic still aborts. mail-parser 0.11.9 does panic
//! on some inputs: see `tests/fixtures/mail/mail-parser-panic.bin`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let libfuzzer = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info
                .location()
                .is_some_and(|l| l.file().contains("mail-parser"));
            if !in_parser {
                libfuzzer(info);
            }
        }));
    });
    helpdesk_server::fuzzing::ingest(data);
});
