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
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM login_devices
                            WHERE token_hash = $1 AND account_id = $2 AND last_used_us > $3)",
        )
        .bind(token_hash)
        .bind(account_id)
        .bind(now - ttl_us)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn remember_device(
        &self,
        token_hash: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        let (token_hash, account_id) = (token_hash.to_string(), account_id.to_string());
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO login_devices (token_hash, account_id, created_us, last_used_us)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (token_hash) DO UPDATE SET last_used_us = excluded.last_used_us
                     WHERE login_devices.account_id = excluded.account_id",
                )
                .bind(&token_hash)
                .bind(&account_id)
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn forget_device(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query("DELETE FROM login_devices WHERE token_hash = $1")
                    .bind(&token_hash)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn use_sso_jti(&self, jti: &str, expires_us: i64, now: i64) -> StoreResult<bool> {
        let jti = jti.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sso_tokens_used WHERE expires_us < $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                // A racing use of the same id waits for this one's commit, then inserts nothing.
                let fresh = sqlx::query(
                    "INSERT INTO sso_tokens_used (jti, expires_us) VALUES ($1, $2)
                     ON CONFLICT (jti) DO NOTHING",
                )
                .bind(&jti)
                .bind(expires_us)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                Ok(fresh)
            })
        })
        .await
    }
}
