//! End-to-end tests in headless Chromium against the real server. One binary, several modules.

mod accessibility;
mod attachments;
mod bench;
mod bench_phone;
mod bounces;
mod details;
mod journey;
mod language;
mod live;
mod login;
mod pieces;
mod security_xss;
mod session;
mod slow;
mod ticket;
mod widget;
mod widget_preload;
mod wizard;
