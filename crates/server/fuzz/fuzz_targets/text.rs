//! The cleaning rule for outside text (helpdesk_core::text): idempotent, nothing left that forges a log line or hides text.
//! The body is `helpdesk_server::fuzzing::clean_text`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::clean_text(data));
