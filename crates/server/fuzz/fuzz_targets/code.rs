//! Ticket codes (helpdesk_core::code): parsing, finding one in a subject, and the code we write found back.
//! The body is `helpdesk_server::fuzzing::code`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::code(data));
