//! All SQL of the server, behind an interface cut per aggregate, one trait each: accounts
//! (`AccountStore`), sessions, tickets, uploads, outbox, the e-mail intake (`IntakeStore`),
//! logins; `Storage` is all of them. `Store` implements them on SQLite.
//!
//! Handlers and the ticket rules (`crate::tickets`) call the traits with the API's types and
//! never see SQL or a database type: a PostgreSQL backend for several instances is another
//! implementation of these traits, not a copy of their callers.

mod accounts;
mod attempts;
mod backend;
pub mod delivery;
mod logins;
pub mod migrate;
mod outbox;
pub mod pg;
mod sessions;
mod tickets;
mod uploads;
mod usage;
mod writer;

pub use accounts::{AccountRow, AccountStore, ImportAccount, ImportService};
pub use attempts::{AttemptStore, Attempts};
pub use backend::Store;
pub use delivery::DeliveryStore;
pub use logins::LoginStore;
pub use mail::IntakeStore;
pub use outbox::{Notification, OutboxItem, OutboxStore, OUTBOX_LEASE_US};
pub use pg::PgStore;
pub use sessions::SessionStore;
pub use tickets::{
    Created, IdempotencyRecord, ListQuery, MessageEffect, MessageEvent, NewMessage,
    NewTicketRecord, NotifyContext, RecentMessage, Recorded, TicketDraft, TicketStore,
};
pub use uploads::{FileRow, UploadStore, UPLOAD_TTL_US};
pub use usage::{Allowance, Charge, UsageKind, UsageStore};

/// The storage traits, for `use crate::storage::prelude::*` where their methods are called.
pub mod prelude {
    pub use super::{
        AccountStore, AttemptStore, DeliveryStore, IntakeStore, LoginStore, OutboxStore,
        SessionStore, TicketStore, UploadStore, UsageStore,
    };
}

/// Every aggregate's storage: what the server needs of a backend.
pub trait Storage:
    AccountStore
    + AttemptStore
    + DeliveryStore
    + LoginStore
    + IntakeStore
    + OutboxStore
    + SessionStore
    + TicketStore
    + UploadStore
    + UsageStore
    + Send
    + Sync
{
}

impl Storage for SqliteStore {}

use accounts::customer_from_row;
use outbox::queue_notification;
use sessions::CachedSession;

use crate::util::{now_us, random_id, rfc3339};
use anyhow::Context;
use futures_util::future::BoxFuture;
use helpdesk_core::api::{
    Attachment, Author, AuthorKind, Channel, Customer, Department, Message, MessageKind, Priority,
    Role, Service, ServiceFamily, ServiceStatus, ServiceSummary, Status, StatusCounts, Ticket,
    TicketList, TicketSummary,
};
use helpdesk_core::TicketCode;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

pub mod mail;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The same idempotency key came with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    /// The ticket code is another ticket's (the database's unique constraint said so): nothing was
    /// written; the rules draw another.
    #[error("ticket code taken")]
    CodeTaken,
    /// An upload id that is not this account's, already used, or expired.
    #[error("upload {0} cannot be attached")]
    UploadUnavailable(String),
    /// An account's allowance of this kind is used up until its window ends.
    #[error("{} rate limited for {retry_after_secs} s", kind.as_str())]
    RateLimited {
        kind: UsageKind,
        retry_after_secs: u64,
    },
    /// The account would keep more bytes than its quota of `quota` bytes.
    #[error("storage quota of {quota} bytes exceeded")]
    QuotaExceeded { quota: u64 },
    /// The disk (or the database file's) is full: nothing was written.
    #[error("no space left for the data")]
    StorageFull,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<StoreError> for crate::error::ApiError {
    fn from(e: StoreError) -> Self {
        use crate::error::ApiError;
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::IdempotencyMismatch => {
                let why = crate::texts::Refusal::IdempotencyKeyReused;
                ApiError::Conflict(why.code(), why.msg(0))
            }
            StoreError::UploadUnavailable(_) => {
                let why = crate::texts::Refusal::UploadUnavailable;
                ApiError::field("upload_ids", why.code(), why.msg(0))
            }
            StoreError::RateLimited {
                kind,
                retry_after_secs,
            } => ApiError::RateLimited {
                what: kind,
                retry_after: retry_after_secs,
            },
            StoreError::QuotaExceeded { quota } => ApiError::QuotaExceeded { quota },
            StoreError::StorageFull => ApiError::StorageFull,
            // The rules draw again on this; it reaches a caller only when every draw was taken.
            StoreError::CodeTaken => ApiError::Internal(anyhow::anyhow!("no free ticket code")),
            StoreError::Db(e) if crate::alarm::is_disk_full_db(&e) => ApiError::StorageFull,
            StoreError::Db(e) => ApiError::Internal(e.into()),
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

/// Which tickets a reader may see.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    Customer(&'a str),
    Staff,
}

/// An enum column read back: a value this code does not know is an error, never a default.
fn column<R, T>(r: &R, name: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let v: String = r.try_get(name)?;
    parse(&v).ok_or_else(|| anyhow::anyhow!("unknown {name} {v:?} in the database").into())
}

fn parse_status(s: &str) -> StoreResult<Status> {
    Status::parse(s)
        .ok_or_else(|| anyhow::anyhow!("unknown ticket status {s:?} in the database").into())
}

fn parse_department(s: &str) -> StoreResult<Department> {
    Department::parse(s)
        .ok_or_else(|| anyhow::anyhow!("unknown department {s:?} in the database").into())
}

/// A file already on disk under `id`, to be recorded with a message.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

/// Runs the migrations with foreign keys off, as SQLite's procedure for rebuilding a table asks
/// (0010 rebuilds `accounts`, which every other table refers to: with the keys on, dropping the
/// old table would delete its rows first and cascade), then checks every reference.
async fn migrate(pool: &SqlitePool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await.context("a connection to migrate")?;
    // Switchable only outside a transaction, and each migration runs inside one: set around them.
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let migrated = sqlx::migrate!("./migrations").run(&mut *conn).await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    migrated.context("running migrations")?;
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *conn)
        .await?;
    if !broken.is_empty() {
        anyhow::bail!(
            "after the migrations, {} rows refer to rows that do not exist",
            broken.len()
        );
    }
    Ok(())
}

pub struct SqliteStore {
    /// Reads.
    pool: SqlitePool,
    /// Every write: one connection, group commit (see `writer`).
    writer: writer::Writer,
    /// Copies the write-ahead log into the database file, off the writer (see `checkpoints`).
    checkpointer: tokio::task::JoinHandle<()>,
    /// Live sessions seen in the last few seconds: most requests then need no session query.
    /// Used only while the database's auth epoch is unchanged, so that a change made by another
    /// process (an import, a logout on another instance) ends cached sessions at once.
    sessions: std::sync::Mutex<std::collections::HashMap<String, CachedSession>>,
    /// Counts changes to accounts, so that a session lookup racing a change does not cache the
    /// account as it was.
    accounts_changed: std::sync::atomic::AtomicU64,
    /// Reads of the auth epoch, which a cached session must match to be used (see `sessions`).
    epoch_check: sessions::EpochCheck,
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("database URL {url:?}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Reads of the database file through the page cache of the OS, without a copy per
            // page: each write resets the page cache of every other connection.
            .pragma("mmap_size", "268435456")
            // When the log starts over, its file is cut back to this (see `writer`).
            .pragma("journal_size_limit", writer::WAL_KEEP.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(opts.clone())
            .await
            .with_context(|| format!("opening {url}"))?;
        migrate(&pool).await?;
        // The writer never checkpoints inside a commit: SQLite's automatic checkpoint runs inside
        // the commit that crosses its threshold, and that commit (and every write queued behind
        // it) waited for the copy and its fsyncs. A task of its own copies instead
        // (`checkpoints`); the writer only bounds the log, between groups (see `writer`).
        let mut wal_path = opts.get_filename().as_os_str().to_owned();
        wal_path.push("-wal");
        let wal_path = std::path::PathBuf::from(wal_path);
        let conn = SqliteConnection::connect_with(&opts.clone().pragma("wal_autocheckpoint", "0"))
            .await
            .with_context(|| format!("opening {url} for writing"))?;
        Ok(SqliteStore {
            checkpointer: tokio::spawn(checkpoints(pool.clone())),
            pool,
            writer: writer::Writer::start(conn, Some(wal_path)),
            sessions: Default::default(),
            accounts_changed: Default::default(),
            epoch_check: sessions::EpochCheck::new(opts.get_filename()),
        })
    }

    pub async fn close(&self) {
        self.checkpointer.abort();
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Runs `f` on the writer's connection, inside a transaction it may share with other writes;
    /// answers once that transaction has committed. `f` owns what it needs: it may outlive the
    /// caller's request.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.writer.write(Box::new(f)).await
    }

    /// For benchmarks and health checks: is the database answering?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Direct pool access for the e-mail intake's own records (same module family).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

/// How often the write-ahead log is copied into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Checkpoints the write-ahead log from a reading connection, `PASSIVE`: it copies what no
/// reader still needs and never blocks the writer, which keeps appending meanwhile; the log
/// starts over once a checkpoint has copied all of it.
async fn checkpoints(pool: SqlitePool) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::debug!(error = %e, "checkpoint");
        }
    }
}
