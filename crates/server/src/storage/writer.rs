//! The one writer: every write of this process runs on one SQLite connection owned by one task.
//!
//! SQLite lets one transaction write at a time. With a writer per request, writers wait for each
//! other (in SQLite's busy handler, or in a queue before it) and every write pays a transaction of
//! its own. Here writes are queued in-process; the writes that are waiting when the writer becomes
//! free run together in one transaction (group commit), each inside its own savepoint, so that one
//! failing write rolls back alone and the others still commit. A caller hears back only once the
//! transaction holding its write has committed, so an acknowledged request survives a crash.
//!
//! A job runs to its end even if its caller goes away (a client that hangs up mid-request), so a
//! cancelled request never leaves the connection half way through a write.
//!
//! The writer also keeps the write-ahead log bounded (see `Wal`): the copy into the database
//! file is done off the writer by a `PASSIVE` checkpoint every 500 ms (`super::checkpoints`),
//! but that checkpoint never lets the log start over while readers hold older snapshots, and a
//! write flood with readers about would grow it for ever. So, between two groups: when the log
//! file has passed `WAL_RESTART_AT`, the writer runs a `RESTART` checkpoint (the writes queued
//! meanwhile wait: what is left to copy is what the last passive checkpoint did not, and
//! readers finish in milliseconds), after which the next commit starts the log over and cuts
//! the file to `journal_size_limit`; and once no write has come for `IDLE`, a `TRUNCATE`
//! checkpoint empties a log bigger than that limit.

use super::{StoreError, StoreResult};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use sqlx::{Connection, SqliteConnection};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The size of the log file past which the writer checkpoints it with `RESTART` between two
/// groups, so that the next commit starts it over.
pub const WAL_RESTART_AT: u64 = 128 << 20;
/// What the log file is cut to when it starts over (`journal_size_limit`), and the size above
/// which an idle writer empties it.
pub const WAL_KEEP: u64 = 16 << 20;
/// No write for this long: the writer is idle, and empties a log bigger than `WAL_KEEP`.
const IDLE: Duration = Duration::from_secs(1);
/// How long a writer's checkpoint waits for readers (SQLite's busy handler) before giving up
/// until the next group: writes queue meanwhile.
const CHECKPOINT_WAIT_MS: u64 = 100;
/// The busy timeout of the writer's connection otherwise.
const BUSY_MS: u64 = 10_000;

/// Writes that may share one transaction. Small enough that the first of a group does not wait
/// long behind the others, large enough to take a burst in a few transactions.
const GROUP_MAX: usize = 64;
/// Writes waiting for the writer; beyond this, callers wait to queue (backpressure).
const QUEUE: usize = 4096;

/// What a write does, given the writer's connection inside an open transaction.
pub type WriteFn<T> =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>> + Send>;

/// Tells a caller how its write ended, once the transaction's fate is known.
type Answer = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A queued write: runs, says whether it succeeded, and keeps its answer until the commit.
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Answer)> + Send>;

pub struct Writer {
    queue: mpsc::Sender<Job>,
    stop: std::sync::Mutex<Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>,
}

impl Writer {
    /// Starts the writer task on `conn`; it ends when the `Writer` is dropped. `wal` is the
    /// write-ahead log's file (none for a database in memory).
    pub fn start(conn: SqliteConnection, wal: Option<PathBuf>) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(conn, rx, stopped, Wal { path: wal }));
        Writer {
            queue,
            stop: std::sync::Mutex::new(Some((stop, task))),
        }
    }

    /// Finishes the group in hand, then closes the connection; later writes fail.
    pub async fn close(&self) {
        let taken = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((stop, task)) = taken {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Runs `f` on the writer's connection and answers once its transaction has committed.
    pub async fn write<T: Send + 'static>(&self, f: WriteFn<T>) -> StoreResult<T> {
        let (tell, hear) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = match AssertUnwindSafe(f(conn)).catch_unwind().await {
                    Ok(r) => r,
                    Err(_) => Err(StoreError::Other(anyhow::anyhow!("a write panicked"))),
                };
                let ok = result.is_ok();
                let answer: Answer = Box::new(move |commit| {
                    let result = match commit {
                        Ok(()) => result,
                        // A write that failed on its own keeps its own error.
                        Err(_) if result.is_err() => result,
                        Err(e) if crate::alarm::is_disk_full_text(&e) => {
                            Err(StoreError::StorageFull)
                        }
                        Err(e) => Err(StoreError::Other(anyhow::anyhow!("commit failed: {e}"))),
                    };
                    let _ = tell.send(result);
                });
                (ok, answer)
            })
        });
        self.queue
            .send(job)
            .await
            .map_err(|_| StoreError::Other(anyhow::anyhow!("the writer has stopped")))?;
        // A dropped job (its group could not begin) drops `tell`: the caller hears an error.
        hear.await.map_err(|_| {
            StoreError::Other(anyhow::anyhow!(
                "the write was not run: the database refused to begin"
            ))
        })?
    }
}

/// The write-ahead log's file, watched by the writer.
struct Wal {
    path: Option<PathBuf>,
}

impl Wal {
    /// The log file's size now (0 when there is none).
    fn size(&self) -> u64 {
        self.path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    }

    /// Checkpoints in `mode` (`RESTART` or `TRUNCATE`) on the writer's connection, waiting at
    /// most `CHECKPOINT_WAIT_MS` for readers.
    async fn checkpoint(&self, conn: &mut SqliteConnection, mode: &str, size: u64) {
        let started = std::time::Instant::now();
        let ran = async {
            sqlx::query(&format!("PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}"))
                .execute(&mut *conn)
                .await?;
            let row: Result<(i64, i64, i64), sqlx::Error> =
                sqlx::query_as(&format!("PRAGMA wal_checkpoint({mode})"))
                    .fetch_one(&mut *conn)
                    .await;
            sqlx::query(&format!("PRAGMA busy_timeout = {BUSY_MS}"))
                .execute(&mut *conn)
                .await?;
            row
        }
        .await;
        match ran {
            Ok((busy, log, copied)) => tracing::debug!(
                mode,
                size,
                busy,
                log,
                copied,
                took_ms = started.elapsed().as_millis() as u64,
                "checkpoint of the write-ahead log"
            ),
            Err(e) => tracing::warn!(error = %e, mode, size, "checkpoint of the write-ahead log"),
        }
    }
}

async fn run(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Job>,
    mut stopped: oneshot::Receiver<()>,
    wal: Wal,
) {
    let mut group: Vec<Job> = Vec::with_capacity(GROUP_MAX);
    // Whether the log may be bigger than `WAL_KEEP`: an idle writer then looks.
    let mut dirty = wal.path.is_some();
    loop {
        let got = tokio::select! {
            biased;
            _ = &mut stopped => 0,
            n = rx.recv_many(&mut group, GROUP_MAX) => n,
            _ = tokio::time::sleep(IDLE), if dirty => {
                let size = wal.size();
                if size > WAL_KEEP {
                    wal.checkpoint(&mut conn, "TRUNCATE", size).await;
                }
                dirty = wal.size() > WAL_KEEP;
                continue;
            }
        };
        if got == 0 {
            break;
        }
        let jobs = std::mem::take(&mut group);
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await {
            tracing::error!(error = %e, writes = jobs.len(), "cannot begin a write transaction");
            // Dropping the jobs answers their callers with an error.
            continue;
        }
        let mut answers = Vec::with_capacity(jobs.len());
        let mut broken = None;
        for job in jobs {
            if broken.is_some() {
                // The transaction is gone: the rest are answered with the error, unrun.
                drop(job);
                continue;
            }
            if let Err(e) = sqlx::query("SAVEPOINT w").execute(&mut conn).await {
                broken = Some(e.to_string());
                continue;
            }
            let (ok, answer) = job(&mut conn).await;
            let end = if ok {
                sqlx::query("RELEASE w").execute(&mut conn).await
            } else {
                match sqlx::query("ROLLBACK TO w").execute(&mut conn).await {
                    Ok(_) => sqlx::query("RELEASE w").execute(&mut conn).await,
                    Err(e) => Err(e),
                }
            };
            answers.push(answer);
            if let Err(e) = end {
                broken = Some(e.to_string());
            }
        }
        let outcome = match broken {
            Some(e) => Err(e),
            None => sqlx::query("COMMIT")
                .execute(&mut conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        if let Err(e) = &outcome {
            if crate::alarm::is_disk_full_text(e) {
                crate::alarm::disk_full();
            } else {
                tracing::error!(error = %e, writes = answers.len(), "a write transaction failed");
            }
            if let Err(e) = sqlx::query("ROLLBACK").execute(&mut conn).await {
                tracing::debug!(error = %e, "rollback after a failed transaction");
            }
        }
        for answer in answers {
            answer(outcome.clone());
        }
        // Between two groups, with the callers answered: the log's bound.
        let size = wal.size();
        if size > WAL_RESTART_AT {
            wal.checkpoint(&mut conn, "RESTART", size).await;
        }
        dirty = size > WAL_KEEP;
    }
    if let Err(e) = conn.close().await {
        tracing::debug!(error = %e, "closing the writer's connection");
    }
}
