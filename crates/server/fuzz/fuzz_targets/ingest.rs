//! Any bytes, read as an incoming e-mail: the intake's parsing, HTML conversion and reading of
//! Authentication-Results must never panic or hang.
#![no_main]

use helpdesk_server::mail::{auth, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
