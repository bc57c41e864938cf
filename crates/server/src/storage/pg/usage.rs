//! UsageStore on PostgreSQL, and the counting of a write's uses inside its transaction. What is
//! allowed is decided by the same functions as on SQLite (`storage::usage`); here the account's
//! row is locked while it is read and counted, so that instances racing for the last use of a
//! window are counted one after the other and only one passes.

use super::*;
use crate::storage::usage::{check_quota, count_use, usage_now};

impl UsageStore for PgStore {
    async fn usage_in_window(
        &self,
        account_id: &str,
        kind: UsageKind,
        window_us: i64,
        now: i64,
    ) -> StoreResult<(i64, i64)> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT window_start_us, used FROM account_usage WHERE account_id = $1 AND kind = $2",
        )
        .bind(account_id)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(usage_now(row, window_us, now))
    }

    async fn stored_bytes(&self, account_id: &str) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT bytes FROM account_storage WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(0),
        )
    }
}

/// Counts `a` for the account inside the caller's transaction, or refuses it with how long until
/// its window ends. The row is created if missing (a concurrent creator waits on the key) and
/// then read `FOR UPDATE`: it stays locked until the transaction ends, so the check and the
/// count are one step for every instance.
pub(in crate::storage) async fn take(
    c: &mut PgConnection,
    account_id: &str,
    a: Allowance,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO account_usage (account_id, kind, window_start_us, used) VALUES ($1, $2, $3, 0)
         ON CONFLICT (account_id, kind) DO NOTHING",
    )
    .bind(account_id)
    .bind(a.kind.as_str())
    .bind(now)
    .execute(&mut *c)
    .await?;
    let stored: Option<(i64, i64)> = sqlx::query_as(
        "SELECT window_start_us, used FROM account_usage
         WHERE account_id = $1 AND kind = $2 FOR UPDATE",
    )
    .bind(account_id)
    .bind(a.kind.as_str())
    .fetch_optional(&mut *c)
    .await?;
    let (start, used) = count_use(a, stored, now)?;
    sqlx::query(
        "UPDATE account_usage SET window_start_us = $3, used = $4
         WHERE account_id = $1 AND kind = $2",
    )
    .bind(account_id)
    .bind(a.kind.as_str())
    .bind(start)
    .bind(used)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Refuses the caller's transaction when the account now keeps more than `quota` bytes. The
/// caller's files are already inserted: the trigger that counted them holds the account's
/// `account_storage` row until commit, so a racing write counts after this one.
pub(in crate::storage) async fn within_quota(
    c: &mut PgConnection,
    account_id: &str,
    quota: i64,
) -> StoreResult<()> {
    let stored: i64 =
        sqlx::query_scalar("SELECT bytes FROM account_storage WHERE account_id = $1 FOR UPDATE")
            .bind(account_id)
            .fetch_optional(&mut *c)
            .await?
            .unwrap_or(0);
    check_quota(stored, quota)
}
