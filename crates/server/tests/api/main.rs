//! Server integration tests: the real server on port 0, a real SQLite file (or, with
//! `HELPDESK_TEST_BACKEND=postgres`, a database of its own on the test PostgreSQL), real HTTP.

mod bounces;
mod cluster;
mod demo_panel;
mod details;
mod events;
mod helpers;
mod history;
mod language;
mod mail;
mod migrate;
mod notifications;
mod pg;
mod session;
mod storage_contract;
mod tickets;
mod uploads;
