//! Server integration tests: the real server on port 0, a real SQLite file, real HTTP.

mod demo_panel;
mod helpers;
mod history;
mod language;
mod mail;
mod notifications;
mod pg_smoke_b;
mod session;
mod storage_contract;
mod tickets;
mod uploads;
