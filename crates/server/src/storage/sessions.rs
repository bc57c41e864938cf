//! Sessions: bearer tokens stored as their SHA-256, with a short in-memory cache.
//!
//! The cache answers only while the database's auth epoch (`auth_epoch`, moved by triggers on
//! every change that ends sessions or changes an account) is the one its entry was read with.
//! The epoch is read again for each request that the cache would answer, in the request's own
//! thread on a read-only connection of its own (`EpochCheck`): a few microseconds, where a query
//! through sqlx's worker thread cost the ticket list a quarter of its throughput.
//!
//! One text of the operations serves SQLite and PostgreSQL (`session_store!`, instantiated here and
//! in `pg/sessions.rs`); what varies by backend (the lookup and its cache) is named at the macro.

use super::*;
use std::sync::atomic::Ordering;

#[derive(Clone)]
pub(super) struct CachedSession {
    pub(super) account: Customer,
    last_seen_us: i64,
    /// The absolute expiry is checked on a hit too: a cached token must not outlive it.
    expires_us: i64,
    /// The auth epoch read with the session (same snapshot).
    epoch: i64,
    cached: std::time::Instant,
}

/// Reads of the auth epoch: read-only connections to the database file, each used by one
/// request at a time and kept for the next (as many as requests ever read at once).
pub(super) struct EpochCheck {
    path: std::path::PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

impl EpochCheck {
    pub(super) fn new(path: &std::path::Path) -> Self {
        EpochCheck {
            path: path.to_path_buf(),
            idle: Default::default(),
        }
    }

    /// The epoch as the database has it now (a read transaction begun by this call).
    fn read(&self) -> StoreResult<i64> {
        use rusqlite::OpenFlags;
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match taken {
            Some(c) => c,
            None => {
                let c = rusqlite::Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(epoch_error)?;
                c.busy_timeout(Duration::from_secs(10))
                    .map_err(epoch_error)?;
                c
            }
        };
        let epoch = conn
            .prepare_cached("SELECT epoch FROM auth_epoch WHERE id = 1")
            .and_then(|mut q| q.query_row([], |r| r.get::<_, i64>(0)))
            .map_err(epoch_error)?;
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(conn);
        Ok(epoch)
    }
}

fn epoch_error(e: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::anyhow!("reading the auth epoch: {e}"))
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

/// The operations, one text for both backends (`session_store!`, instantiated here and in
/// `pg/sessions.rs`). What varies by backend: the lookup (`find_session`; SQLite's answers from
/// its cache, checked against the auth epoch, PostgreSQL's reads every time, since other
/// instances end sessions too) and the cache hooks each write calls first
/// (`touch_cached_session`, `forget_cached_session`), no-ops on PostgreSQL.
macro_rules! session_store {
    ($Store:ty) => {
        impl SessionStore for $Store {
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
                self.find_session(token_hash, now, idle_us).await
            }

            async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
                self.touch_cached_session(token_hash, now);
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
                self.forget_cached_session(Some(token_hash));
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
                self.forget_cached_session(None);
                self.write(|c| {
                    Box::pin(async move {
                        sqlx::query("DELETE FROM sessions").execute(&mut *c).await?;
                        Ok(())
                    })
                })
                .await
            }
        }
    };
}
pub(super) use session_store;

session_store!(SqliteStore);

impl SqliteStore {
    /// A live session: from the cache while the auth epoch is unchanged, else read and cached.
    async fn find_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_us: i64,
    ) -> StoreResult<Option<(Customer, i64)>> {
        if let Some(hit) = self.cached_session(token_hash) {
            if hit.last_seen_us > now - idle_us && hit.expires_us > now {
                let epoch = self.auth_epoch().await?;
                if epoch == hit.epoch {
                    return Ok(Some((hit.account, hit.last_seen_us)));
                }
                // Something ended sessions or changed an account since: what was read before
                // is forgotten, and this session is read again below.
                self.session_cache().retain(|_, c| c.epoch >= epoch);
            }
        }
        // An account that changes while this query runs must not be cached as it was before.
        let generation = self.accounts_changed.load(Ordering::Acquire);
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.language, a.time_zone, a.role, s.last_seen_us, s.expires_us,
                (SELECT epoch FROM auth_epoch WHERE id = 1) AS epoch
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
                    r.try_get::<Option<i64>, _>("epoch")?.unwrap_or(0),
                ))
            })
            .transpose()?;
        if let Some((account, last_seen_us, expires_us, epoch)) = &found {
            let mut cache = self.session_cache();
            // Checked under the cache's lock, which a change holds while it forgets.
            if self.accounts_changed.load(Ordering::Acquire) != generation {
                return Ok(found.map(|(account, last_seen_us, ..)| (account, last_seen_us)));
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
                    epoch: *epoch,
                    cached: std::time::Instant::now(),
                },
            );
        }
        Ok(found.map(|(account, last_seen_us, ..)| (account, last_seen_us)))
    }

    /// Moves a cached session's idle clock with the database's.
    fn touch_cached_session(&self, token_hash: &str, now: i64) {
        if let Some(c) = self.session_cache().get_mut(token_hash) {
            c.last_seen_us = now;
        }
    }

    /// Forgets one cached session, or all of them (`None`).
    fn forget_cached_session(&self, token_hash: Option<&str>) {
        match token_hash {
            Some(t) => {
                self.session_cache().remove(t);
            }
            None => self.session_cache().clear(),
        }
    }

    /// After an account changed (and committed): its cached sessions go, and so does whatever a
    /// concurrent lookup read before the change.
    pub(super) fn forget_cached_account(&self, account_id: &str) {
        let mut cache = self.session_cache();
        self.accounts_changed.fetch_add(1, Ordering::AcqRel);
        cache.retain(|_, c| c.account.id != account_id);
    }

    /// The auth epoch as the database has it now.
    async fn auth_epoch(&self) -> StoreResult<i64> {
        self.epoch_check.read()
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
