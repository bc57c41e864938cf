//! Bytes after an SMTP `DATA`, read as the listener reads them (mail::smtp): ends only at the
//! first CRLF.CRLF, a lone dot beside a bare CR or LF refuses the message, dot-stuffing undone.
//! The body is `helpdesk_server::fuzzing::smtp_data`, which the stable replay test also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| helpdesk_server::fuzzing::smtp_data(data));
