//! SQL for web uploads beyond what tickets need: how many an account holds unattached.

use super::{Store, StoreResult, UPLOAD_TTL_US};

impl Store {
    /// Uploads of the account not yet attached to a message and not expired (raw e-mails, which
    /// are linked from their message rather than attached, do not count).
    pub async fn pending_uploads(&self, account_id: &str, now: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM files
             WHERE account_id = ? AND message_id IS NULL AND created_us > ?
               AND id NOT IN (SELECT raw_email_id FROM messages WHERE raw_email_id IS NOT NULL)",
        )
        .bind(account_id)
        .bind(now - UPLOAD_TTL_US)
        .fetch_one(self.pool())
        .await?)
    }
}
