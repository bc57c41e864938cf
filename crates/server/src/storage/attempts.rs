//! Login attempts counted per key (an account, a client address, a device) in a fixed window,
//! in the database: every instance on it counts the same attempts, so wrong passwords spread
//! over several instances are throttled as one. The rule (how many, how long) is the caller's
//! (`guard::Throttle`); storage counts.
//!
//! One SQL text serves both backends (`$n` placeholders, `ON CONFLICT … RETURNING`), each
//! statement atomic on its own: two instances admitting at the same moment both count.

use super::pg::PgStore;
use super::*;

/// Counts one attempt, starting a new window when the last one ended. An attempt beyond the
/// limit is counted too (the answer is then above it), which keeps the key locked, no longer.
/// $1 key, $2 now, $3 window.
const ADMIT: &str = "INSERT INTO login_throttle (key, attempts, window_start_us) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE SET
         attempts = CASE WHEN login_throttle.window_start_us <= $2 - $3 THEN 1
                         ELSE login_throttle.attempts + 1 END,
         window_start_us = CASE WHEN login_throttle.window_start_us <= $2 - $3 THEN $2
                                ELSE login_throttle.window_start_us END
     RETURNING attempts, window_start_us";
const PEEK: &str = "SELECT attempts, window_start_us FROM login_throttle WHERE key = $1";
const GIVE_BACK: &str = "UPDATE login_throttle SET attempts = attempts - 1
     WHERE key = $1 AND attempts > 0";
const CLEAR: &str = "DELETE FROM login_throttle WHERE key = $1";
/// Windows long over, so the table keeps only keys that still count.
const SWEEP: &str = "DELETE FROM login_throttle WHERE window_start_us < $1";

/// A key's attempts in its window: (attempts, window start).
pub type Attempts = (i64, i64);

/// Login attempts per key.
pub trait AttemptStore {
    /// Counts an attempt on `key` in a window of `window_us`; the attempts in the window now.
    fn count_attempt(
        &self,
        key: &str,
        window_us: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<Attempts>> + Send;
    /// The attempts on `key`, without counting one.
    fn attempts(&self, key: &str) -> impl Future<Output = StoreResult<Option<Attempts>>> + Send;
    /// Gives back one counted attempt that turned out not to be a failure.
    fn give_back_attempt(&self, key: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Forgets a key's attempts (a success).
    fn clear_attempts(&self, key: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Forgets windows that began before `before`.
    fn sweep_attempts(&self, before: i64) -> impl Future<Output = StoreResult<()>> + Send;
}

impl AttemptStore for SqliteStore {
    async fn count_attempt(&self, key: &str, window_us: i64, now: i64) -> StoreResult<Attempts> {
        let key = key.to_string();
        self.write(move |c| {
            Box::pin(async move {
                Ok(sqlx::query_as(ADMIT)
                    .bind(&key)
                    .bind(now)
                    .bind(window_us)
                    .fetch_one(&mut *c)
                    .await?)
            })
        })
        .await
    }
    async fn attempts(&self, key: &str) -> StoreResult<Option<Attempts>> {
        Ok(sqlx::query_as(PEEK)
            .bind(key)
            .fetch_optional(self.pool())
            .await?)
    }
    async fn give_back_attempt(&self, key: &str) -> StoreResult<()> {
        self.run_keyed(GIVE_BACK, key).await
    }
    async fn clear_attempts(&self, key: &str) -> StoreResult<()> {
        self.run_keyed(CLEAR, key).await
    }
    async fn sweep_attempts(&self, before: i64) -> StoreResult<()> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query(SWEEP).bind(before).execute(&mut *c).await?;
                Ok(())
            })
        })
        .await
    }
}

impl SqliteStore {
    async fn run_keyed(&self, sql: &'static str, key: &str) -> StoreResult<()> {
        let key = key.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query(sql).bind(&key).execute(&mut *c).await?;
                Ok(())
            })
        })
        .await
    }
}

impl AttemptStore for PgStore {
    async fn count_attempt(&self, key: &str, window_us: i64, now: i64) -> StoreResult<Attempts> {
        Ok(sqlx::query_as(ADMIT)
            .bind(key)
            .bind(now)
            .bind(window_us)
            .fetch_one(self.pool())
            .await?)
    }
    async fn attempts(&self, key: &str) -> StoreResult<Option<Attempts>> {
        Ok(sqlx::query_as(PEEK)
            .bind(key)
            .fetch_optional(self.pool())
            .await?)
    }
    async fn give_back_attempt(&self, key: &str) -> StoreResult<()> {
        sqlx::query(GIVE_BACK)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }
    async fn clear_attempts(&self, key: &str) -> StoreResult<()> {
        sqlx::query(CLEAR).bind(key).execute(self.pool()).await?;
        Ok(())
    }
    async fn sweep_attempts(&self, before: i64) -> StoreResult<()> {
        sqlx::query(SWEEP).bind(before).execute(self.pool()).await?;
        Ok(())
    }
}

impl AttemptStore for Store {
    async fn count_attempt(&self, key: &str, window_us: i64, now: i64) -> StoreResult<Attempts> {
        match self {
            Store::Sqlite(s) => s.count_attempt(key, window_us, now).await,
            Store::Postgres(s) => s.count_attempt(key, window_us, now).await,
        }
    }
    async fn attempts(&self, key: &str) -> StoreResult<Option<Attempts>> {
        match self {
            Store::Sqlite(s) => s.attempts(key).await,
            Store::Postgres(s) => s.attempts(key).await,
        }
    }
    async fn give_back_attempt(&self, key: &str) -> StoreResult<()> {
        match self {
            Store::Sqlite(s) => s.give_back_attempt(key).await,
            Store::Postgres(s) => s.give_back_attempt(key).await,
        }
    }
    async fn clear_attempts(&self, key: &str) -> StoreResult<()> {
        match self {
            Store::Sqlite(s) => s.clear_attempts(key).await,
            Store::Postgres(s) => s.clear_attempts(key).await,
        }
    }
    async fn sweep_attempts(&self, before: i64) -> StoreResult<()> {
        match self {
            Store::Sqlite(s) => s.sweep_attempts(before).await,
            Store::Postgres(s) => s.sweep_attempts(before).await,
        }
    }
}
