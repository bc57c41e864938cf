//! LoginStore on PostgreSQL.

use super::*;

impl LoginStore for PgStore {
    async fn known_device(
        &self,
        token_hash: &str,
        account_id: &str,
        now: i64,
        ttl_us: i64,
    ) -> StoreResult<bool> {
        Err(not_yet())
    }
    async fn remember_device(
        &self,
        token_hash: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn forget_device(&self, token_hash: &str) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn use_sso_jti(&self, jti: &str, expires_us: i64, now: i64) -> StoreResult<bool> {
        Err(not_yet())
    }
}
