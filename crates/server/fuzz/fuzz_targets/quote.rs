//! Quoted-text folding (helpdesk_core::quote): segments give back the body byte for byte.
//! The body is `helpdesk_server::fuzzing::quote`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::quote(data));
