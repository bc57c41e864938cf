//! Uses counted against an account's limits. Storage only counts: which limit applies, and to
//! whom, is decided by the ticket rules (`crate::tickets::limits`), which hand the writes here an
//! [`Allowance`] or a quota to count against, inside the transaction of the write they pay for (so
//! a write refused, or rolled back, has used nothing, and every process on the database counts
//! the same uses).
//!
//! One text of the operations serves SQLite and PostgreSQL (`usage_store!`, instantiated here and
//! in `pg/usage.rs`); what varies by backend (the row locks of the counting) is named at the macro.

use super::*;

/// What is counted per account and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageKind {
    Tickets,
    Replies,
    UploadBytes,
}

impl UsageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UsageKind::Tickets => "tickets",
            UsageKind::Replies => "replies",
            UsageKind::UploadBytes => "upload_bytes",
        }
    }
}

/// `amount` more of `kind` in a window of `window_us`, refused if the window's total would pass
/// `max`. A window starts with the first use after the previous one ended.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub kind: UsageKind,
    pub amount: i64,
    pub max: i64,
    pub window_us: i64,
}

/// What a write counts against its account: a use in a window, and the bytes it may keep stored
/// once the write's files are added (`None`: not counted).
#[derive(Debug, Clone, Copy, Default)]
pub struct Charge {
    pub rate: Option<Allowance>,
    pub quota_bytes: Option<i64>,
}

/// An account's uses, read before a write that would be refused anyway (an upload's body is not
/// read when the account has nothing left).
pub trait UsageStore {
    /// The uses of `kind` in the window that is still running at `now` (0 when none is), and
    /// when that window ends.
    fn usage_in_window(
        &self,
        account_id: &str,
        kind: UsageKind,
        window_us: i64,
        now: i64,
    ) -> impl Future<Output = StoreResult<(i64, i64)>> + Send;
    /// Bytes the account keeps stored: its uploads, attachments and raw e-mail.
    fn stored_bytes(&self, account_id: &str) -> impl Future<Output = StoreResult<i64>> + Send;
}

/// The operations, one text for both backends (`usage_store!`, instantiated here and in
/// `pg/usage.rs`), with `take` and `within_quota`, which count inside a write's transaction. What
/// varies by backend is `FOR_UPDATE`, appended to the reads of the rows counted: PostgreSQL locks
/// them so that instances racing for the last use of a window count one after the other; SQLite's
/// single writer needs no lock.
macro_rules! usage_store {
    ($Store:ty, $Conn:ty) => {
        impl UsageStore for $Store {
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
        /// then read, locked until the transaction ends where the backend locks rows (`FOR_UPDATE`), so
        /// the check and the count are one step for every instance (on SQLite, the writer is the only
        /// one).
        pub(in crate::storage) async fn take(
            c: &mut $Conn,
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
            let stored: Option<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT window_start_us, used FROM account_usage
                 WHERE account_id = $1 AND kind = $2{FOR_UPDATE}",
            ))
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
        /// caller's files are already inserted: on PostgreSQL the trigger that counted them holds the
        /// account's `account_storage` row until commit, so a racing write counts after this one.
        pub(in crate::storage) async fn within_quota(
            c: &mut $Conn,
            account_id: &str,
            quota: i64,
        ) -> StoreResult<()> {
            let stored: i64 = sqlx::query_scalar(&format!(
                "SELECT bytes FROM account_storage WHERE account_id = $1{FOR_UPDATE}"
            ))
            .bind(account_id)
            .fetch_optional(&mut *c)
            .await?
            .unwrap_or(0);
            check_quota(stored, quota)
        }
    };
}
pub(super) use usage_store;

/// SQLite's single writer keeps writes apart: nothing to lock.
const FOR_UPDATE: &str = "";

usage_store!(SqliteStore, SqliteConnection);

/// The window still running at `now` of a stored `(window_start_us, used)`: what it has used and
/// when it ends; a window that has ended (or none) has used nothing and would end `window_us`
/// after `now`. Both backends answer [`UsageStore::usage_in_window`] and count with this.
pub(super) fn usage_now(stored: Option<(i64, i64)>, window_us: i64, now: i64) -> (i64, i64) {
    match stored {
        Some((start, used)) if start + window_us > now => (used, start + window_us),
        _ => (0, now + window_us),
    }
}

/// The rule of an allowance, for every backend: given the account's window as stored (read in
/// the write's transaction, locked against other writers), the window to store once `a` is
/// counted, or the refusal with how long until the window ends. A window that has ended starts
/// again at this use.
pub(super) fn count_use(
    a: Allowance,
    stored: Option<(i64, i64)>,
    now: i64,
) -> StoreResult<(i64, i64)> {
    let (used, ends) = usage_now(stored, a.window_us, now);
    let start = ends - a.window_us;
    if used + a.amount <= a.max {
        return Ok((start, used + a.amount));
    }
    let wait_us = (ends - now).max(1);
    Err(StoreError::RateLimited {
        kind: a.kind,
        retry_after_secs: u64::try_from(wait_us).unwrap_or(1).div_ceil(1_000_000),
    })
}

/// The rule of a quota, for every backend: refused when the account keeps more than `quota`
/// bytes once the write's files are counted.
pub(super) fn check_quota(stored: i64, quota: i64) -> StoreResult<()> {
    if stored > quota {
        return Err(StoreError::QuotaExceeded {
            quota: u64::try_from(quota).unwrap_or(0),
        });
    }
    Ok(())
}
