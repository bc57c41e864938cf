//! UploadStore on PostgreSQL.

use super::*;

impl UploadStore for PgStore {
    async fn insert_upload(
        &self,
        account_id: &str,
        f: &StoredFile,
        charge: Charge,
    ) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn file_for(&self, viewer: Viewer<'_>, id: &str) -> StoreResult<Option<FileRow>> {
        Err(not_yet())
    }
    async fn expire_uploads(&self, now: i64) -> StoreResult<Vec<String>> {
        Err(not_yet())
    }
    async fn pending_uploads(&self, account_id: &str, now: i64) -> StoreResult<i64> {
        Err(not_yet())
    }
}
