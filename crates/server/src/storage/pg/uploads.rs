//! UploadStore on PostgreSQL.

use super::*;
use crate::storage::uploads::file_visible_to;

impl UploadStore for PgStore {
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
                    super::usage::take(c, &account_id, a, now).await?;
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
                    super::usage::within_quota(c, &account_id, quota).await?;
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
