//! An uploaded file's name and bytes (files::sniff, Sniffer, clean_name): the verdict in pieces is the verdict on the whole.
//! The body is `helpdesk_server::fuzzing::upload`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::upload(data));
