//! SessionStore on PostgreSQL: the shared text of `storage/sessions.rs` (`session_store!`). No
//! session is cached in the process: every request reads its session's row, so a logout or a
//! password change through one instance ends the session on every instance at once.

use super::*;
use crate::storage::sessions::session_store;

impl PgStore {
    /// A live session, read from the database.
    async fn find_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_us: i64,
    ) -> StoreResult<Option<(Customer, i64)>> {
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.language, a.time_zone, a.role, s.last_seen_us
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.expires_us > $2 AND s.last_seen_us > $3",
        )
        .bind(token_hash)
        .bind(now)
        .bind(now - idle_us)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((customer_from_row(&r)?, r.try_get("last_seen_us")?)))
            .transpose()
    }

    /// Nothing cached: nothing to touch or forget.
    fn touch_cached_session(&self, _: &str, _: i64) {}
    fn forget_cached_session(&self, _: Option<&str>) {}
    pub(super) fn forget_cached_account(&self, _: &str) {}
}

session_store!(PgStore);
