//! The storage traits on PostgreSQL, for several instances on one database: a pool of
//! connections, each write in a transaction of its own; what decides a race (a ticket code, an
//! `Idempotency-Key`, a claimed outbox row) is a constraint or a row lock of the database's.
//! Rules stay in `crate::tickets`: these files only record and read.

mod accounts;
mod delivery;
mod logins;
mod mail;
mod outbox;
mod sessions;
mod tickets;
mod uploads;
mod usage;

pub(super) use super::mail::{Claim, IntakeClaim, IntakeFinish, IntakeRecord, RefusedMail};
pub(super) use super::*;
pub(super) use crate::texts::Language;
pub(super) use helpdesk_core::api::MailRejection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
pub(super) use sqlx::{PgConnection, PgPool, Postgres};

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects with at most `pool` connections and brings the schema up to date; instances
    /// starting together migrate once (sqlx holds an advisory lock while it migrates).
    pub async fn open(url: &str, pool: u32) -> anyhow::Result<Self> {
        let opts = PgConnectOptions::from_str(url).with_context(|| "the PostgreSQL URL")?;
        let pool = PgPoolOptions::new()
            .max_connections(pool.max(2))
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::migrate!("./migrations_pg")
            .run(&pool)
            .await
            .context("running the PostgreSQL migrations")?;
        Ok(PgStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Holds PostgreSQL's advisory lock `key` while the answer lives: instances starting together
    /// seed the demo data one after the other, and the second finds it there. The lock goes with
    /// its connection, which is closed when the answer is dropped.
    pub async fn exclusive(&self, key: i64) -> StoreResult<sqlx::pool::PoolConnection<Postgres>> {
        let mut c = self.pool.acquire().await?;
        c.close_on_drop();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut *c)
            .await?;
        Ok(c)
    }

    /// The pool, for tests and tools that read the database directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `f` inside one transaction, committed when it answers `Ok` and rolled back otherwise.
    pub(super) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, StoreResult<T>>,
    {
        let mut tx = self.pool.begin().await?;
        let out = f(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }
}

impl Storage for PgStore {}
