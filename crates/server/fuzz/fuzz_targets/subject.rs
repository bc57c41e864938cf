//! The subject rule (helpdesk_core::subject::assess) in every context: score within its verdict's band, at most three known hints.
//! The body is `helpdesk_server::fuzzing::subject`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::subject(data));
