//! SQL of logging in beyond the session itself: browsers known to an account (device cookies),
//! and sign-on tokens already used.
//!
//! One text of the operations serves SQLite and PostgreSQL (`login_store!`, instantiated here and
//! in `pg/logins.rs`); nothing varies by backend.

use super::{SqliteStore, StoreResult};
use std::future::Future;

/// Known devices and single-sign-on token ids seen.
pub trait LoginStore {
    /// Whether this device token belongs to the account and was used within `ttl_us`.
    fn known_device(
        &self,
        token_hash: &str,
        account_id: &str,
        now: i64,
        ttl_us: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Remembers (or refreshes) a device after a successful login.
    fn remember_device(
        &self,
        token_hash: &str,
        account_id: &str,
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Forgets a device (too many failures from it: it is no longer trusted).
    fn forget_device(&self, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Records a sign-on token's `jti` as used; `false` when it was used before (a replay).
    /// Shared by every instance on this database, so a replay through another one is refused too.
    fn use_sso_jti(
        &self,
        jti: &str,
        expires_us: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}

/// The operations, one text for both backends (`login_store!`, instantiated here and in
/// `pg/logins.rs`): each statement decides a race on its own (`ON CONFLICT`), so nothing varies.
macro_rules! login_store {
    ($Store:ty) => {
        impl LoginStore for $Store {
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
    };
}
pub(super) use login_store;

login_store!(SqliteStore);
