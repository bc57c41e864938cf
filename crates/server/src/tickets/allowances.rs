//! The limits per account (issue 19): what each write of a customer counts against, decided
//! here; storage counts it in the write's own transaction (`crate::storage::usage`). Staff are not
//! limited. The numbers come from the configuration (`HELPDESK_RATE_*`, `HELPDESK_QUOTA_BYTES`,
//! `HELPDESK_MIN_FREE_BYTES`), each `0` to turn it off.

use crate::config::{AccountLimits, RateLimit};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::storage::{Allowance, Charge, UsageKind};
use helpdesk_core::api::{Customer, Role};

impl RateLimit {
    fn allowance(&self, kind: UsageKind, amount: u64) -> Option<Allowance> {
        (self.max > 0).then(|| Allowance {
            kind,
            amount: clamp(amount),
            max: clamp(self.max),
            window_us: clamp(u64::try_from(self.window.as_micros()).unwrap_or(u64::MAX)),
        })
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl AccountLimits {
    fn quota(&self) -> Option<i64> {
        (self.quota_bytes > 0).then(|| clamp(self.quota_bytes))
    }

    fn rate(&self, kind: UsageKind) -> &RateLimit {
        match kind {
            UsageKind::Tickets => &self.tickets,
            UsageKind::Replies => &self.replies,
            UsageKind::UploadBytes => &self.upload_bytes,
        }
    }

    /// What a write of `amount` of `kind` by `author` counts: nothing for staff.
    pub fn charge(&self, author: &Customer, kind: UsageKind, amount: u64) -> Charge {
        if author.role == Role::Staff {
            return Charge::default();
        }
        Charge {
            rate: self.rate(kind).allowance(kind, amount),
            quota_bytes: self.quota(),
        }
    }
}

/// Refuses an upload before its body is read when it could not be kept: the account's upload
/// allowance or quota already used up, or the disk below its floor of free space.
pub async fn before_upload(state: &AppState, account: &Customer) -> ApiResult<()> {
    let limits = &state.config.limits;
    if limits.min_free_bytes > 0 {
        let dir = state.config.files_dir();
        let free = tokio::task::spawn_blocking(move || crate::alarm::free_bytes(&dir))
            .await
            .map_err(|e| ApiError::Internal(e.into()))??;
        if free < limits.min_free_bytes {
            return Err(ApiError::StorageFull);
        }
    }
    if account.role == Role::Staff {
        return Ok(());
    }
    let rate = limits.upload_bytes;
    if let Some(a) = rate.allowance(UsageKind::UploadBytes, 0) {
        let now = crate::util::now_us();
        let (used, ends) = state
            .store
            .usage_in_window(&account.id, a.kind, a.window_us, now)
            .await?;
        if used >= a.max {
            return Err(ApiError::RateLimited {
                what: a.kind,
                retry_after: u64::try_from(ends - now).unwrap_or(1).div_ceil(1_000_000),
            });
        }
    }
    if let Some(quota) = limits.quota() {
        if state.store.stored_bytes(&account.id).await? >= quota {
            return Err(ApiError::QuotaExceeded {
                quota: limits.quota_bytes,
            });
        }
    }
    Ok(())
}
