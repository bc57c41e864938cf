//! The helpdesk's backend: HTTP API, storage, notifications and e-mail intake; serves the app.

pub mod alarm;
pub mod app;
pub mod auth;
pub mod config;
pub mod demo;
pub mod demo_panel;
pub mod error;
pub mod events;
pub mod file_store;
pub mod files;
/// Bodies of the fuzz targets, shared with the test that replays their corpora.
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod http;
pub mod import;
pub mod mail;
pub mod notify;
pub mod sso;
pub mod state;
pub mod storage;
pub mod texts;
pub mod tickets;
pub mod util;
pub mod zone;

pub use app::{start, Running};
pub use config::Config;
