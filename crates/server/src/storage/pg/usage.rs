//! UsageStore on PostgreSQL.

use super::*;

impl UsageStore for PgStore {
    async fn usage_in_window(
        &self,
        account_id: &str,
        kind: UsageKind,
        window_us: i64,
        now: i64,
    ) -> StoreResult<(i64, i64)> {
        Err(not_yet())
    }
    async fn stored_bytes(&self, account_id: &str) -> StoreResult<i64> {
        Err(not_yet())
    }
}

/// Counts `a` for the account inside the caller's transaction, or refuses it with how long until
/// its window ends. The row is created if missing and then read `FOR UPDATE`: it stays locked
/// until the transaction ends, so two instances never both pass the limit.
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
    let (start, used): (i64, i64) = sqlx::query_as(
        "SELECT window_start_us, used FROM account_usage
         WHERE account_id = $1 AND kind = $2 FOR UPDATE",
    )
    .bind(account_id)
    .bind(a.kind.as_str())
    .fetch_one(&mut *c)
    .await?;
    // A window that has ended starts again at this use.
    let (start, used) = if start + a.window_us <= now {
        (now, 0)
    } else {
        (start, used)
    };
    if used + a.amount > a.max {
        let wait_us = (start + a.window_us - now).max(1);
        return Err(StoreError::RateLimited {
            kind: a.kind,
            retry_after_secs: u64::try_from(wait_us).unwrap_or(1).div_ceil(1_000_000),
        });
    }
    sqlx::query(
        "UPDATE account_usage SET window_start_us = $3, used = $4 WHERE account_id = $1 AND kind = $2",
    )
    .bind(account_id)
    .bind(a.kind.as_str())
    .bind(start)
    .bind(used + a.amount)
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
    if stored > quota {
        return Err(StoreError::QuotaExceeded {
            quota: u64::try_from(quota).unwrap_or(0),
        });
    }
    Ok(())
}
