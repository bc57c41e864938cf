//! UsageStore on PostgreSQL.

use super::*;

impl UsageStore for PgStore {
    async fn usage_in_window(
        &self,
        account_id: &str,
        kind: UsageKind,
        window_us: i64,
        now: i64,
    ) -> StoreResult<(i64, i64)> {
        Err(not_yet())
    }
    async fn stored_bytes(&self, account_id: &str) -> StoreResult<i64> {
        Err(not_yet())
    }
}
