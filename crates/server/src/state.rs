//! The one shared state every handler gets.

use crate::config::Config;
use crate::guard::{CheckPool, Throttle};
use crate::storage::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Store,
    /// Attempts without a known device cookie, per account.
    pub login_by_account: Throttle,
    /// Attempts per client address.
    pub login_by_address: Throttle,
    /// Attempts from a known browser, per device cookie.
    pub login_by_device: Throttle,
    /// The bounded pool every password check (login, sign-on) runs in.
    pub password_checks: CheckPool,
    /// Verified against when the e-mail is unknown, so both failures take the same time.
    pub dummy_hash: String,
    /// Wakes the outbox worker when a notification is queued.
    pub outbox_wake: tokio::sync::Notify,
    /// The live event streams open in this process, fed by `crate::events::poller`.
    pub events: Arc<crate::events::Hub>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }
}
