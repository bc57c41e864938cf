//! Sessions: bearer tokens stored as their SHA-256, with a short in-memory cache.

use super::*;
use std::sync::atomic::Ordering;

#[derive(Clone)]
pub(super) struct CachedSession {
    pub(super) account: Customer,
    last_seen_us: i64,
    /// The absolute expiry is checked on a hit too: a cached token must not outlive it.
    expires_us: i64,
    cached: std::time::Instant,
}

const SESSION_CACHE: Duration = Duration::from_secs(5);

/// Sessions of signed-in customers and staff.
pub trait SessionStore {
    /// A new session for the token with this hash.
    fn create_session(
        &self,
        token_hash: &str,
        account_id: &str,
        expires_us: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The account behind a live session, and when the session was last seen.
    fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_us: i64,
    ) -> impl Future<Output = StoreResult<Option<(Customer, i64)>>> + Send;
    /// Moves a session's idle clock to `now`.
    fn touch_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Ends one session (logout).
    fn delete_session(&self, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Ends every session (an operator's emergency switch; tests use it to simulate expiry).
    fn delete_all_sessions(&self) -> impl Future<Output = StoreResult<()>> + Send;
}

impl SessionStore for Store {
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
                sqlx::query("DELETE FROM sessions WHERE expires_us < ?")
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                sqlx::query(
                    "INSERT INTO sessions (token_hash, account_id, created_us, last_seen_us, expires_us) VALUES (?, ?, ?, ?, ?)",
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
        if let Some(hit) = self.cached_session(token_hash) {
            if hit.last_seen_us > now - idle_us && hit.expires_us > now {
                return Ok(Some((hit.account, hit.last_seen_us)));
            }
        }
        // An account that changes while this query runs must not be cached as it was before.
        let generation = self.accounts_changed.load(Ordering::Acquire);
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.language, a.role, s.last_seen_us, s.expires_us
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = ? AND s.expires_us > ? AND s.last_seen_us > ?",
        )
        .bind(token_hash)
        .bind(now)
        .bind(now - idle_us)
        .fetch_optional(&self.pool)
        .await?;
        let found = row
            .map(|r| {
                StoreResult::Ok((
                    customer_from_row(&r)?,
                    r.get::<i64, _>("last_seen_us"),
                    r.get::<i64, _>("expires_us"),
                ))
            })
            .transpose()?;
        if let Some((account, last_seen_us, expires_us)) = &found {
            let mut cache = self.session_cache();
            // Checked under the cache's lock, which a change holds while it forgets.
            if self.accounts_changed.load(Ordering::Acquire) != generation {
                return Ok(found.map(|(account, last_seen_us, _)| (account, last_seen_us)));
            }
            if cache.len() > 50_000 {
                cache.retain(|_, c| c.cached.elapsed() < SESSION_CACHE);
            }
            cache.insert(
                token_hash.to_string(),
                CachedSession {
                    account: account.clone(),
                    last_seen_us: *last_seen_us,
                    expires_us: *expires_us,
                    cached: std::time::Instant::now(),
                },
            );
        }
        Ok(found.map(|(account, last_seen_us, _)| (account, last_seen_us)))
    }

    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        if let Some(c) = self.session_cache().get_mut(token_hash) {
            c.last_seen_us = now;
        }
        let token_hash = token_hash.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("UPDATE sessions SET last_seen_us = ? WHERE token_hash = ?")
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
        self.session_cache().remove(token_hash);
        let token_hash = token_hash.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
                    .bind(&token_hash)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn delete_all_sessions(&self) -> StoreResult<()> {
        self.session_cache().clear();
        self.write(|c| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions").execute(&mut *c).await?;
                Ok(())
            })
        })
        .await
    }
}

impl Store {
    /// After an account changed (and committed): its cached sessions go, and so does whatever a
    /// concurrent lookup read before the change.
    pub(super) fn forget_cached_account(&self, account_id: &str) {
        let mut cache = self.session_cache();
        self.accounts_changed.fetch_add(1, Ordering::AcqRel);
        cache.retain(|_, c| c.account.id != account_id);
    }

    pub(super) fn session_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, CachedSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached_session(&self, token_hash: &str) -> Option<CachedSession> {
        let cache = self.session_cache();
        cache
            .get(token_hash)
            .filter(|c| c.cached.elapsed() < SESSION_CACHE)
            .cloned()
    }
}
