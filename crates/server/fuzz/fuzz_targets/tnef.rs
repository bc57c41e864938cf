//! Outlook's winmail.dat (mail::tnef::decode): no panic, and the files are pieces of the input.
//! The body is `helpdesk_server::fuzzing::tnef`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::tnef(data));
