//! Whether our e-mails reach a customer (issue 21): the mark a bounce of one of our
//! notifications leaves on the account, and what staff see of refused and automatic mail.
//!
//! One text of the operations serves SQLite and PostgreSQL (`delivery_store!`, instantiated here
//! and in `pg/delivery.rs`); what varies by backend (how a list of ids is bound and one function
//! name) is named at the macro.

use super::{Notification, SqlitePool, SqliteStore, StoreResult};
use crate::util::{now_us, rfc3339};
use helpdesk_core::api::{
    MailDelivery, MailDeliveryReason, StaffMailList, StaffMailRecord, StaffUndeliverable,
};
use sqlx::{QueryBuilder, Sqlite};
use std::future::Future;

/// A bounce about to mark an account.
#[derive(Debug, Clone)]
pub struct Undeliverable<'a> {
    /// The reference address our e-mail was sent to.
    pub address: &'a str,
    pub since_us: i64,
    pub reason: MailDeliveryReason,
    /// The bounce's status code and diagnostic, for staff.
    pub detail: &'a str,
}

/// Delivery of our e-mails to the accounts' reference addresses.
pub trait DeliveryStore {
    /// The address one of our e-mails with one of these Message-IDs was sent to, preferring the
    /// first id in `ids`; `None` when none of them is ours.
    fn outbox_recipient(
        &self,
        ids: &[String],
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// Marks the account whose reference address this is as not receiving our e-mails; a mark
    /// already there keeps its `since` and takes the new reason. Returns the account's id, `None`
    /// when the address is no account's.
    fn mark_undeliverable(
        &self,
        u: &Undeliverable<'_>,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// The account's mark, if our e-mails do not reach it.
    fn mail_delivery(
        &self,
        account_id: &str,
    ) -> impl Future<Output = StoreResult<Option<MailDelivery>>> + Send;
    /// Clears the account's mark and, only when there was one, queues `then` (a test message) in
    /// the same transaction. Returns whether there was a mark.
    fn clear_mail_delivery(
        &self,
        account_id: &str,
        then: Option<Notification>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// For staff: the latest `limit` refused e-mails (automatic mail and bounces among them) and
    /// the marked addresses; with `address` (lowercase), only those about it: its sender, its
    /// account, or a bounce naming it.
    fn staff_mail(
        &self,
        address: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = StoreResult<StaffMailList>> + Send;
}

/// The kind of automatic mail a refusal's detail starts with (see `mail::Job::decide`).
pub(super) fn kind_of(reason: &str, detail: Option<&str>) -> Option<String> {
    if !matches!(reason, "automatic" | "bounce") {
        return None;
    }
    let d = detail?;
    let kind: String = d
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
        .collect();
    (!kind.is_empty()).then_some(kind)
}

pub(super) fn reason_of(code: &str) -> MailDeliveryReason {
    MailDeliveryReason::parse(code).unwrap_or(MailDeliveryReason::Other)
}

/// A staff record from a row of `mail_intake` (either backend).
pub(super) fn staff_record(
    id: String,
    received_us: i64,
    sender: String,
    recipient: String,
    subject: String,
    reason: Option<String>,
    detail: Option<String>,
) -> StaffMailRecord {
    let reason = reason.unwrap_or_default();
    StaffMailRecord {
        id,
        received_at: rfc3339(received_us),
        sender,
        recipient,
        subject,
        kind: kind_of(&reason, detail.as_deref()),
        reason,
        detail,
    }
}

/// The operations, one text for both backends (`delivery_store!`, instantiated here and in
/// `pg/delivery.rs`). What varies by backend are items each backend's module defines and that
/// text names:
/// - `outbox_recipients`: a list of ids is one array parameter on PostgreSQL (`= ANY($n)`), one
///   parameter per id on SQLite, which has no arrays.
/// - `INSTR`, the position of a text in another: `instr` on SQLite, `strpos` on PostgreSQL.
///
/// `CAST($1 AS TEXT)` gives PostgreSQL the type of a parameter that may be NULL.
macro_rules! delivery_store {
    ($Store:ty) => {
        impl DeliveryStore for $Store {
            async fn outbox_recipient(&self, ids: &[String]) -> StoreResult<Option<String>> {
                if ids.is_empty() {
                    return Ok(None);
                }
                let found = outbox_recipients(&self.pool, ids).await?;
                Ok(ids.iter().find_map(|id| {
                    found
                        .iter()
                        .find(|(mid, _)| mid == id)
                        .map(|(_, to)| to.clone())
                }))
            }

            async fn mark_undeliverable(&self, u: &Undeliverable<'_>) -> StoreResult<Option<String>> {
                let (address, since_us, reason, detail) = (
                    u.address.to_string(),
                    u.since_us,
                    u.reason.as_str(),
                    u.detail.to_string(),
                );
                self.write(move |tx| {
                    Box::pin(async move {
                        let account: Option<String> =
                            sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
                                .bind(&address)
                                .fetch_optional(&mut *tx)
                                .await?;
                        let Some(account) = account else {
                            return Ok(None);
                        };
                        sqlx::query(
                            "INSERT INTO mail_delivery (account_id, since_us, reason, detail) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (account_id) DO UPDATE SET reason = excluded.reason, detail = excluded.detail",
                        )
                        .bind(&account)
                        .bind(since_us)
                        .bind(reason)
                        .bind(&detail)
                        .execute(&mut *tx)
                        .await?;
                        Ok(Some(account))
                    })
                })
                .await
            }

            async fn mail_delivery(&self, account_id: &str) -> StoreResult<Option<MailDelivery>> {
                let row: Option<(i64, String)> =
                    sqlx::query_as("SELECT since_us, reason FROM mail_delivery WHERE account_id = $1")
                        .bind(account_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(since_us, reason)| MailDelivery {
                    since: rfc3339(since_us),
                    reason: reason_of(&reason),
                }))
            }

            async fn clear_mail_delivery(
                &self,
                account_id: &str,
                then: Option<Notification>,
            ) -> StoreResult<bool> {
                let account_id = account_id.to_string();
                let now = now_us();
                self.write(move |tx| {
                    Box::pin(async move {
                        let gone = sqlx::query("DELETE FROM mail_delivery WHERE account_id = $1")
                            .bind(&account_id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                            > 0;
                        if let (true, Some(n)) = (gone, &then) {
                            sqlx::query(
                                "INSERT INTO outbox (ticket_id, message_id, from_addr, to_addr, subject, body, next_try_us, created_us)
                                 VALUES (NULL, $1, $2, $3, $4, $5, $6, $6)",
                            )
                            .bind(&n.message_id)
                            .bind(&n.from)
                            .bind(&n.to)
                            .bind(&n.subject)
                            .bind(&n.body)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        Ok(gone)
                    })
                })
                .await
            }

            async fn staff_mail(&self, address: Option<&str>, limit: i64) -> StoreResult<StaffMailList> {
                type IntakeRow = (
                    String,
                    i64,
                    String,
                    String,
                    String,
                    Option<String>,
                    Option<String>,
                );
                let rows: Vec<IntakeRow> = sqlx::query_as(&format!(
                    "SELECT i.id, i.received_us, i.sender, i.recipient, i.subject, i.reason, i.detail
                     FROM mail_intake i LEFT JOIN accounts a ON a.id = i.account_id
                     WHERE i.outcome = 'refused'
                       AND (CAST($1 AS TEXT) IS NULL OR i.sender = $1 OR a.email = $1
                            OR {INSTR}(lower(COALESCE(i.detail, '')), $1) > 0)
                     ORDER BY i.received_us DESC LIMIT $2",
                ))
                .bind(address)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let items = rows
                    .into_iter()
                    .map(|(id, at, sender, recipient, subject, reason, detail)| {
                        staff_record(id, at, sender, recipient, subject, reason, detail)
                    })
                    .collect();
                let rows: Vec<(String, i64, String, Option<String>)> = sqlx::query_as(
                    "SELECT a.email, d.since_us, d.reason, d.detail
                     FROM mail_delivery d JOIN accounts a ON a.id = d.account_id
                     WHERE CAST($1 AS TEXT) IS NULL OR a.email = $1
                     ORDER BY d.since_us DESC LIMIT $2",
                )
                .bind(address)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let undeliverable = rows
                    .into_iter()
                    .map(|(address, since_us, reason, detail)| StaffUndeliverable {
                        address,
                        since: rfc3339(since_us),
                        reason: reason_of(&reason),
                        detail,
                    })
                    .collect();
                Ok(StaffMailList {
                    items,
                    undeliverable,
                })
            }
        }
    };
}
pub(super) use delivery_store;

const INSTR: &str = "instr";

/// (Message-ID, recipient) of our queued e-mails with one of `ids`.
async fn outbox_recipients(
    pool: &SqlitePool,
    ids: &[String],
) -> StoreResult<Vec<(String, String)>> {
    let mut sql =
        QueryBuilder::<Sqlite>::new("SELECT message_id, to_addr FROM outbox WHERE message_id IN (");
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    sql.push(")");
    Ok(sql.build_query_as().fetch_all(pool).await?)
}

delivery_store!(SqliteStore);
