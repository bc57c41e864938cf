//! Any bytes, read as an incoming e-mail: the intake's parsing, HTML conversion and reading of
//! Authentication-Results must never let a panic out, never hang and never blow up memory.
//!
//! Panics inside the MIME parser are caught by `parse::analyse` (the message is then recorded as
//! malformed); libFuzzer's hook would abort on them first, so it is silenced here and only what
//! escapes counts. mail-parser 0.11.9 does panic on some inputs: see
//! `tests/fixtures/mail/mail-parser-panic.bin`.
#![no_main]

use helpdesk_server::mail::{auth, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let outcome = std::panic::catch_unwind(|| {
        for complete in [true, false] {
            let a = parse::analyse(data, complete);
            let from = a.from.iter().flatten().next().map(String::as_str).unwrap_or("");
            let _ = auth::verdict_from_headers(&a.auth_results, "mx.smacloud.it", auth::domain_of(from));
            let _ = parse::ticket_subject(&a.subject);
        }
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = parse::html_to_text(text);
        }
    });
    if outcome.is_err() {
        // Escaped the intake's own guard: a real crash of the server's session.
        std::process::abort();
    }
});
