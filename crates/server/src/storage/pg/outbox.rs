//! OutboxStore on PostgreSQL.

use super::*;

impl OutboxStore for PgStore {
    async fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        Err(not_yet())
    }
    async fn mark_sent(&self, id: i64, now: i64) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn mark_failed(&self, id: i64, next_try_us: i64, error: &str) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn next_notification_due(&self) -> StoreResult<Option<i64>> {
        Err(not_yet())
    }
}
