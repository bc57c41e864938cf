//! Where the bytes of attachments, uploads and raw e-mails live: files in the data folder (the
//! default on SQLite, one machine), or pieces in the database (on PostgreSQL, so that any
//! instance serves a file another one received, as Zammad and osTicket keep theirs). Both write a
//! file before its row is recorded and read it a piece at a time, so a large file never sits
//! whole in memory; the rows (`files`) are the storage traits'.
//!
//! Whatever is written before it is acknowledged is durable first: a file is synced, renamed into
//! place and its folder synced; a database piece is committed.

use crate::config::Config;
use crate::storage::Store;
use axum::body::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::PgPool;
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

/// The size of one piece in the database.
pub const CHUNK: usize = 256 * 1024;

pub enum FileStore {
    /// One file per id in this folder.
    Folder(PathBuf),
    /// Pieces in `file_chunks`.
    Database(PgPool),
}

impl FileStore {
    /// The file store that goes with a backend: the database's on PostgreSQL, the data folder's
    /// on SQLite.
    pub fn of(store: &Store, config: &Config) -> Self {
        match store.postgres() {
            Some(pg) => FileStore::Database(pg.pool().clone()),
            None => FileStore::Folder(config.files_dir()),
        }
    }

    /// Where the raw mail of refused messages is kept while its retention lasts, under the name
    /// the intake wrote it with (`<id>.eml`): the intake's own folder on SQLite, where the file
    /// already is; the database on PostgreSQL, so that any instance shows a customer what they
    /// wrote and the expiry of any instance deletes it.
    pub fn refused_mail(store: &Store, config: &Config) -> Self {
        match store.postgres() {
            Some(pg) => FileStore::Database(pg.pool().clone()),
            None => FileStore::Folder(config.mail_dir()),
        }
    }

    /// Stores the file at `from` (written and synced by the caller) as `id`; the source is moved
    /// when the store is the same folder (nothing to do when it is already `id` there), else
    /// copied and left to the caller.
    pub async fn put_file(&self, id: &str, from: &Path) -> io::Result<()> {
        match self {
            FileStore::Folder(dir) => {
                let target = dir.join(id);
                if target == from {
                    return Ok(());
                }
                if tokio::fs::hard_link(from, &target).await.is_err() {
                    tokio::fs::copy(from, &target).await?;
                    sync_file(&target).await?;
                }
                sync_dir(dir).await
            }
            FileStore::Database(pool) => {
                let mut f = tokio::fs::File::open(from).await?;
                let mut tx = pool.begin().await.map_err(io::Error::other)?;
                let mut buf = vec![0u8; CHUNK];
                for n in 0i32.. {
                    let got = read_full(&mut f, &mut buf).await?;
                    if got == 0 && n > 0 {
                        break;
                    }
                    insert_chunk(&mut tx, id, n, &buf[..got]).await?;
                    if got < CHUNK {
                        break;
                    }
                }
                tx.commit().await.map_err(io::Error::other)
            }
        }
    }

    /// Stores `data` as `id`, durably.
    pub async fn put_bytes(&self, id: &str, data: &[u8]) -> io::Result<()> {
        match self {
            FileStore::Folder(dir) => write_durably(&dir.join(id), data).await,
            FileStore::Database(pool) => {
                let mut tx = pool.begin().await.map_err(io::Error::other)?;
                let mut pieces = data.chunks(CHUNK).peekable();
                if pieces.peek().is_none() {
                    insert_chunk(&mut tx, id, 0, &[]).await?;
                }
                for (n, piece) in pieces.enumerate() {
                    insert_chunk(&mut tx, id, n as i32, piece).await?;
                }
                tx.commit().await.map_err(io::Error::other)
            }
        }
    }

    /// The bytes of `id`, a piece at a time; `None` when there is no such file.
    pub async fn open(
        &self,
        id: &str,
    ) -> io::Result<Option<BoxStream<'static, io::Result<Bytes>>>> {
        match self {
            FileStore::Folder(dir) => match tokio::fs::File::open(dir.join(id)).await {
                Ok(f) => Ok(Some(
                    tokio_util::io::ReaderStream::with_capacity(f, 64 * 1024).boxed(),
                )),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
            FileStore::Database(pool) => {
                let pieces: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM file_chunks WHERE file_id = $1")
                        .bind(id)
                        .fetch_one(pool)
                        .await
                        .map_err(io::Error::other)?;
                if pieces == 0 {
                    return Ok(None);
                }
                let (pool, id) = (pool.clone(), id.to_string());
                // One query per piece: only one piece is in memory at a time.
                let stream = futures_util::stream::iter(0..pieces).then(move |n| {
                    let (pool, id) = (pool.clone(), id.clone());
                    async move {
                        let data: Vec<u8> = sqlx::query_scalar(
                            "SELECT data FROM file_chunks WHERE file_id = $1 AND n = $2",
                        )
                        .bind(&id)
                        .bind(n as i32)
                        .fetch_one(&pool)
                        .await
                        .map_err(io::Error::other)?;
                        Ok(Bytes::from(data))
                    }
                });
                Ok(Some(stream.boxed()))
            }
        }
    }

    /// The whole of `id` when it holds at most `max` bytes: `None` when there is no such file or
    /// it is larger (nothing of it read then).
    pub async fn read_at_most(&self, id: &str, max: u64) -> io::Result<Option<Vec<u8>>> {
        let size = match self {
            FileStore::Folder(dir) => match tokio::fs::metadata(dir.join(id)).await {
                Ok(m) => m.len(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            },
            FileStore::Database(pool) => {
                let size: Option<i64> = sqlx::query_scalar(
                    "SELECT SUM(length(data))::BIGINT FROM file_chunks WHERE file_id = $1",
                )
                .bind(id)
                .fetch_one(pool)
                .await
                .map_err(io::Error::other)?;
                match size {
                    Some(n) => u64::try_from(n).unwrap_or(0),
                    None => return Ok(None),
                }
            }
        };
        if size > max {
            return Ok(None);
        }
        let Some(mut pieces) = self.open(id).await? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(size as usize);
        while let Some(piece) = pieces.next().await {
            out.extend_from_slice(&piece?);
            if out.len() as u64 > max {
                // Grown since its size was read: as if too large from the start.
                return Ok(None);
            }
        }
        Ok(Some(out))
    }

    /// Removes files (those already gone are no error).
    pub async fn delete(&self, ids: &[String]) -> io::Result<()> {
        match self {
            FileStore::Folder(dir) => {
                for id in ids {
                    match tokio::fs::remove_file(dir.join(id)).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => tracing::warn!(%id, error = %e, "could not remove a file"),
                    }
                }
                Ok(())
            }
            FileStore::Database(pool) => {
                sqlx::query("DELETE FROM file_chunks WHERE file_id = ANY($1)")
                    .bind(ids)
                    .execute(pool)
                    .await
                    .map_err(io::Error::other)?;
                Ok(())
            }
        }
    }
}

async fn insert_chunk(
    tx: &mut sqlx::PgConnection,
    id: &str,
    n: i32,
    data: &[u8],
) -> io::Result<()> {
    sqlx::query("INSERT INTO file_chunks (file_id, n, data) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(n)
        .bind(data)
        .execute(tx)
        .await
        .map_err(io::Error::other)?;
    Ok(())
}

/// Reads until `buf` is full or the file ends.
async fn read_full(f: &mut tokio::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = f.read(&mut buf[got..]).await?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

/// Writes `data` to `path` so that a power cut leaves either nothing or all of it: a temporary
/// file synced, renamed into place, its folder synced.
pub async fn write_durably(path: &Path, data: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = tokio::fs::File::create(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut f, data).await?;
        f.sync_all().await?;
    }
    tokio::fs::rename(&tmp, path).await?;
    match path.parent() {
        Some(dir) => sync_dir(dir).await,
        None => Ok(()),
    }
}

async fn sync_file(path: &Path) -> io::Result<()> {
    tokio::fs::File::open(path).await?.sync_all().await
}

/// Makes a rename or a new link durable: the folder's entry is flushed too.
pub async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}
