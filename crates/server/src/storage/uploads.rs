//! Files: uploads waiting for a message, attachments, and who may download them.
//!
//! One text of the operations serves SQLite and PostgreSQL (`upload_store!`, instantiated here and
//! in `pg/uploads.rs`); nothing varies by backend here (the counting in `usage` locks rows).

use super::*;

/// A stored file with who may read it.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: String,
    pub account_id: String,
    pub message_id: Option<String>,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    pub created_us: i64,
}

/// Unattached uploads older than this are gone.
pub const UPLOAD_TTL_US: i64 = 24 * 3600 * 1_000_000;

/// Uploaded files, before and after they join a message.
pub trait UploadStore {
    /// Records an uploaded file, not yet part of a message, counting its bytes as `charge` says
    /// (the rate's amount is the file's size).
    fn insert_upload(
        &self,
        account_id: &str,
        f: &StoredFile,
        charge: Charge,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A file the viewer may download: attached to one of their tickets, or their own upload.
    fn file_for(
        &self,
        viewer: Viewer<'_>,
        id: &str,
    ) -> impl Future<Output = StoreResult<Option<FileRow>>> + Send;
    /// Unattached uploads older than the TTL: removed from the table; the caller removes the files.
    fn expire_uploads(&self, now: i64) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
    /// Uploads of the account not yet attached to a message and not expired (raw e-mails, which
    /// are linked from their message rather than attached, do not count).
    fn pending_uploads(
        &self,
        account_id: &str,
        now: i64,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
}

/// The file of a row of `file_for`'s query (with its ticket's account as `ticket_account`), when
/// `viewer` may read it: staff always, a customer when it is on one of their tickets or is their
/// own upload not yet on any ticket.
pub(super) fn file_visible_to<R>(viewer: Viewer<'_>, r: &R) -> StoreResult<Option<FileRow>>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let owner: String = r.try_get("account_id")?;
    let ticket_account: Option<String> = r.try_get("ticket_account")?;
    let visible = match viewer {
        Viewer::Staff => true,
        Viewer::Customer(acc) => {
            ticket_account.as_deref() == Some(acc) || (ticket_account.is_none() && owner == acc)
        }
    };
    if !visible {
        return Ok(None);
    }
    Ok(Some(FileRow {
        id: r.try_get("id")?,
        account_id: owner,
        message_id: r.try_get("message_id")?,
        name: r.try_get("name")?,
        size: r.try_get::<i64, _>("size")?.max(0) as u64,
        content_type: r.try_get("content_type")?,
        created_us: r.try_get("created_us")?,
    }))
}

/// The operations, one text for both backends (`upload_store!`, instantiated here and in
/// `pg/uploads.rs`): what the backends lock differently is counted in `usage::take` and
/// `usage::within_quota`, each backend's own instance of the shared usage text.
macro_rules! upload_store {
    ($Store:ty) => {
        impl UploadStore for $Store {
            async fn insert_upload(
                &self,
                account_id: &str,
                f: &StoredFile,
                charge: Charge,
            ) -> StoreResult<()> {
                let (account_id, f) = (account_id.to_string(), f.clone());
                self.write(move |c| {
                    Box::pin(async move {
                        let now = now_us();
                        if let Some(a) = charge.rate {
                            usage::take(c, &account_id, a, now).await?;
                        }
                        sqlx::query(
                            "INSERT INTO files (id, account_id, message_id, name, size, content_type, created_us)
                             VALUES ($1, $2, NULL, $3, $4, $5, $6)",
                        )
                        .bind(&f.id)
                        .bind(&account_id)
                        .bind(&f.name)
                        .bind(f.size as i64)
                        .bind(&f.content_type)
                        .bind(now)
                        .execute(&mut *c)
                        .await?;
                        if let Some(quota) = charge.quota_bytes {
                            usage::within_quota(c, &account_id, quota).await?;
                        }
                        Ok(())
                    })
                })
                .await
            }

            async fn file_for(&self, viewer: Viewer<'_>, id: &str) -> StoreResult<Option<FileRow>> {
                let row = sqlx::query(
                    "SELECT f.id, f.account_id, f.message_id, f.name, f.size, f.content_type, f.created_us,
                            (SELECT t.account_id FROM messages m JOIN tickets t ON t.id = m.ticket_id
                              WHERE m.id = f.message_id OR m.raw_email_id = f.id LIMIT 1) AS ticket_account
                     FROM files f WHERE f.id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(r) => file_visible_to(viewer, &r),
                    None => Ok(None),
                }
            }

            async fn expire_uploads(&self, now: i64) -> StoreResult<Vec<String>> {
                self.write(move |c| {
                    Box::pin(async move {
                        Ok(sqlx::query_scalar(
                            "DELETE FROM files WHERE message_id IS NULL AND created_us < $1
                               AND id NOT IN (SELECT raw_email_id FROM messages WHERE raw_email_id IS NOT NULL)
                               AND id NOT IN (SELECT raw_path FROM mail_intake)
                             RETURNING id",
                        )
                        .bind(now - UPLOAD_TTL_US)
                        .fetch_all(&mut *c)
                        .await?)
                    })
                })
                .await
            }

            async fn pending_uploads(&self, account_id: &str, now: i64) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM files
                     WHERE account_id = $1 AND message_id IS NULL AND created_us > $2
                       AND id NOT IN (SELECT raw_email_id FROM messages WHERE raw_email_id IS NOT NULL)",
                )
                .bind(account_id)
                .bind(now - UPLOAD_TTL_US)
                .fetch_one(&self.pool)
                .await?)
            }
        }
    };
}
pub(super) use upload_store;

upload_store!(SqliteStore);
