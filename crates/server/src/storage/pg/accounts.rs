//! AccountStore on PostgreSQL.

use super::*;

impl AccountStore for PgStore {
    async fn upsert_account(&self, a: &ImportAccount) -> StoreResult<String> {
        Err(not_yet())
    }
    async fn set_language(
        &self,
        account_id: &str,
        language: Option<Language>,
    ) -> StoreResult<Option<Customer>> {
        Err(not_yet())
    }
    async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountRow>> {
        Err(not_yet())
    }
    async fn account(&self, id: &str) -> StoreResult<Option<Customer>> {
        Err(not_yet())
    }
    async fn services(&self, account_id: &str) -> StoreResult<Vec<Service>> {
        Err(not_yet())
    }
}
