//! The panel's sign-on token (sso::verify): any bytes as a token, and any JSON signed with the
//! secret as claims; only a token within every bound is accepted, and nothing panics.
//! The body is `helpdesk_server::fuzzing::sign_on`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::sign_on(data));
