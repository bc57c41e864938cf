//! The security suite, one file per class of attack (in the style of Request Tracker's
//! `t/security/`): each test attacks the real server over real HTTP or SMTP and asserts what the
//! attacker does not get.

#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../api/pg.rs"]
mod pg;

mod accounts;
mod authz;
mod crash;
mod dos_http;
mod dos_login;
mod fuzz_replay;
mod input;
mod limits;
mod mail;
mod process;
mod schemathesis;
mod smtp;
mod sso;
mod storage;
