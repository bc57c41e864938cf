//! `helpdesk-server migrate-to postgres://…`: moves a provider that started on SQLite to
//! PostgreSQL: every row of every table and the bytes of every file, checked by counts at the
//! end. The target must be empty (a second run refuses it); the SQLite database is only read.
//!
//! Columns are copied by the target's own types (read from `information_schema`), so a column
//! added to both schemas is copied without a change here; the tables PostgreSQL keeps by
//! triggers (`ticket_counts`, `account_storage`) are rebuilt by those triggers as rows arrive.

use super::pg::PgStore;
use super::SqliteStore;
use crate::file_store::FileStore;
use anyhow::{bail, Context};
use sqlx::{QueryBuilder, Row};
use std::path::Path;

/// Every table with rows to copy, parents before children.
const TABLES: &[&str] = &[
    "accounts",
    "services",
    "sessions",
    "tickets",
    "messages",
    "files",
    "idempotency",
    "outbox",
    "mail_intake",
    "mail_answers",
    "login_devices",
    "login_throttle",
    "sso_tokens_used",
    "account_usage",
    "mail_delivery",
];

/// Tables whose ids PostgreSQL draws: the next one drawn follows the largest copied.
const IDENTITIES: &[(&str, &str)] = &[("tickets", "id"), ("messages", "seq"), ("outbox", "id")];

/// Rows per INSERT.
const BATCH: usize = 500;

/// What was copied: rows per table, and files.
pub struct Moved {
    pub rows: Vec<(&'static str, i64)>,
    pub files: usize,
}

pub async fn migrate_to(
    from: &SqliteStore,
    files_dir: &Path,
    mail_dir: &Path,
    to: &PgStore,
) -> anyhow::Result<Moved> {
    let used: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM tickets)
              + (SELECT COUNT(*) FROM files)",
    )
    .fetch_one(to.pool())
    .await?;
    if used > 0 {
        bail!("the target database is not empty: migrate-to moves into an empty database only");
    }
    let mut tx = to.pool().begin().await?;
    for table in TABLES {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let list = names.join(", ");
        let rows = sqlx::query(&format!("SELECT {list} FROM {table}"))
            .fetch_all(from.pool())
            .await
            .with_context(|| format!("reading {table}"))?;
        for batch in rows.chunks(BATCH) {
            let mut insert = QueryBuilder::new(format!("INSERT INTO {table} ({list}) "));
            let mut bad = None;
            insert.push_values(batch, |mut b, row| {
                for (i, (name, kind)) in columns.iter().enumerate() {
                    let copied = match kind.as_str() {
                        "bigint" => row.try_get::<Option<i64>, _>(i).map(|v| {
                            b.push_bind(v);
                        }),
                        "integer" => row.try_get::<Option<i32>, _>(i).map(|v| {
                            b.push_bind(v);
                        }),
                        "boolean" => row.try_get::<Option<bool>, _>(i).map(|v| {
                            b.push_bind(v);
                        }),
                        _ => row.try_get::<Option<String>, _>(i).map(|v| {
                            b.push_bind(v);
                        }),
                    };
                    if let Err(e) = copied {
                        bad.get_or_insert(format!("{table}.{name}: {e}"));
                        b.push_bind(None::<String>);
                    }
                }
            });
            if let Some(bad) = bad {
                bail!("a value that does not fit: {bad}");
            }
            insert
                .build()
                .execute(&mut *tx)
                .await
                .with_context(|| format!("writing {table}"))?;
        }
    }
    for (table, column) in IDENTITIES {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;

    // The bytes of each file, into the database's file store.
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM files ORDER BY id")
        .fetch_all(from.pool())
        .await?;
    let store = FileStore::Database(to.pool().clone());
    let mut files = 0;
    for id in &ids {
        let path = files_dir.join(id);
        if !path.exists() {
            bail!(
                "{} is recorded but missing from the data folder",
                path.display()
            );
        }
        store
            .put_file(id, &path)
            .await
            .with_context(|| format!("copying {}", path.display()))?;
        files += 1;
    }

    // The raw mail of refused messages still kept, which PostgreSQL keeps in the database too
    // (`FileStore::refused_mail`), under the same name. One whose file is gone (deleted by
    // hand) shows no text, as after its retention.
    let kept: Vec<String> = sqlx::query_scalar(
        "SELECT raw_path FROM mail_intake WHERE outcome = 'refused' AND raw_path <> '' ORDER BY id",
    )
    .fetch_all(from.pool())
    .await?;
    for raw_path in &kept {
        let Some(name) = crate::mail::kept_name(raw_path) else {
            continue;
        };
        let path = mail_dir.join(name);
        if !path.exists() {
            tracing::warn!(file = %path.display(), "a refused e-mail's raw mail is missing");
            continue;
        }
        store
            .put_file(name, &path)
            .await
            .with_context(|| format!("copying {}", path.display()))?;
        files += 1;
    }

    // Counts, table by table.
    let mut moved = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let here: i64 = sqlx::query_scalar(&sql).fetch_one(from.pool()).await?;
        let there: i64 = sqlx::query_scalar(&sql).fetch_one(to.pool()).await?;
        if here != there {
            bail!("{table}: {here} rows on SQLite, {there} on PostgreSQL");
        }
        moved.push((*table, there));
    }
    let pieces: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT file_id) FROM file_chunks")
        .fetch_one(to.pool())
        .await?;
    if pieces != files as i64 {
        bail!("{files} files copied from SQLite's folders, {pieces} on PostgreSQL");
    }
    Ok(Moved { rows: moved, files })
}
