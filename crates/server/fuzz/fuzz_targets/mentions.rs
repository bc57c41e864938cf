//! Which of a customer's services a text names (helpdesk_core::mentions).
//! The body is `helpdesk_server::fuzzing::mention`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::mention(data));
