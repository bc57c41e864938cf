//! SessionStore on PostgreSQL. No session is cached in the process: every request reads its
//! session's row, so a logout or a password change through one instance ends the session on
//! every instance at once.

use super::*;

impl SessionStore for PgStore {
    async fn create_session(
        &self,
        token_hash: &str,
        account_id: &str,
        expires_us: i64,
    ) -> StoreResult<()> {
        let now = now_us();
        let (token_hash, account_id) = (token_hash.to_string(), account_id.to_string());
        self.write(move |c| {
            Box::pin(async move {
                // Expired sessions of anyone are swept here, where writes happen anyway.
                sqlx::query("DELETE FROM sessions WHERE expires_us < $1")
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                sqlx::query(
                    "INSERT INTO sessions (token_hash, account_id, created_us, last_seen_us, expires_us)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&token_hash)
                .bind(&account_id)
                .bind(now)
                .bind(now)
                .bind(expires_us)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_us: i64,
    ) -> StoreResult<Option<(Customer, i64)>> {
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.language, a.role, s.last_seen_us
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

    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("UPDATE sessions SET last_seen_us = $1 WHERE token_hash = $2")
                    .bind(now)
                    .bind(&token_hash)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(&token_hash)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn delete_all_sessions(&self) -> StoreResult<()> {
        self.write(|c| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions").execute(&mut *c).await?;
                Ok(())
            })
        })
        .await
    }
}
