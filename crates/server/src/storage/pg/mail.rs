//! IntakeStore on PostgreSQL.

use super::*;

impl IntakeStore for PgStore {
    async fn claim_intake(&self, c: &IntakeClaim<'_>) -> StoreResult<Claim> {
        Err(not_yet())
    }
    async fn finish_intake(&self, id: &str, f: &IntakeFinish<'_>) -> StoreResult<bool> {
        Err(not_yet())
    }
    async fn refused_raw_before(&self, cutoff_us: i64) -> StoreResult<Vec<(String, String)>> {
        Err(not_yet())
    }
    async fn forget_raw(&self, ids: &[String]) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn abandon_intake(&self, id: &str) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn recent_acknowledgments(&self, address: &str) -> StoreResult<i64> {
        Err(not_yet())
    }
    async fn ticket_for_references(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> StoreResult<Option<String>> {
        Err(not_yet())
    }
    async fn ticket_with_email(
        &self,
        account_id: &str,
        email_message_id: &str,
    ) -> StoreResult<Option<String>> {
        Err(not_yet())
    }
    async fn insert_raw_email_file(&self, account_id: &str, f: &StoredFile) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn delete_file_row(&self, id: &str) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn intake_record(&self, id: &str) -> StoreResult<Option<IntakeRecord>> {
        Err(not_yet())
    }
    async fn mail_rejections(
        &self,
        account_id: &str,
        lang: Language,
    ) -> StoreResult<Vec<MailRejection>> {
        Err(not_yet())
    }
}
