//! The server's public settings for the app, read once from `<meta name="helpdesk-config">`.

use helpdesk_core::api::AppConfig;
use std::sync::OnceLock;

static CONFIG: OnceLock<AppConfig> = OnceLock::new();

pub fn config() -> &'static AppConfig {
    CONFIG.get_or_init(|| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector("meta[name=helpdesk-config]")
                    .ok()
                    .flatten()
            })
            .and_then(|m| m.get_attribute("content"))
            .and_then(|c| crate::json::parse(&c))
            .unwrap_or_else(|| AppConfig {
                max_upload_bytes: helpdesk_core::limits::DEFAULT_MAX_UPLOAD_BYTES,
                ..AppConfig::default()
            })
    })
}
