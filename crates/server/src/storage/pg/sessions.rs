//! SessionStore on PostgreSQL.

use super::*;

impl SessionStore for PgStore {
    async fn create_session(
        &self,
        token_hash: &str,
        account_id: &str,
        expires_us: i64,
    ) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_us: i64,
    ) -> StoreResult<Option<(Customer, i64)>> {
        Err(not_yet())
    }
    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn delete_all_sessions(&self) -> StoreResult<()> {
        Err(not_yet())
    }
}
