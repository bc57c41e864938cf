//! Notifications queued with the change they announce, and their sending state.
//!
//! One text of the operations serves SQLite and PostgreSQL (`outbox_store!`, instantiated here and
//! in `pg/outbox.rs`); what varies by backend (the claim's row locks and one function name) is
//! named at the macro.

use super::*;

/// An e-mail to queue with the message it announces; sent later by the outbox worker.
#[derive(Debug, Clone)]
pub struct Notification {
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The HTML alternative, when there is one.
    pub html: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub attempts: i64,
}

/// How long a sender holds the notifications it claimed (`due_notifications`): no other sender
/// (another instance on the same database) takes them meanwhile, and the claims of a sender that
/// stopped pass to another once it ends. Longer than a pass sending a claimed batch takes.
pub const OUTBOX_LEASE_US: i64 = 15_000_000;

/// A notification as `due_notifications` returns it from a row of `outbox` (with `next_try_us`,
/// which the claimed batch is ordered by).
pub(super) fn outbox_item<R>(r: &R) -> StoreResult<(i64, OutboxItem)>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        r.try_get("next_try_us")?,
        OutboxItem {
            id: r.try_get("id")?,
            message_id: r.try_get("message_id")?,
            from: r.try_get("from_addr")?,
            to: r.try_get("to_addr")?,
            subject: r.try_get("subject")?,
            body: r.try_get("body")?,
            html: r.try_get("html")?,
            in_reply_to: r.try_get("in_reply_to")?,
            references: r.try_get("references_")?,
            attempts: r.try_get("attempts")?,
        },
    ))
}

/// The claimed rows in the order they were due.
pub(super) fn in_due_order(mut items: Vec<(i64, OutboxItem)>) -> Vec<OutboxItem> {
    items.sort_by_key(|(next_try_us, item)| (*next_try_us, item.id));
    items.into_iter().map(|(_, item)| item).collect()
}

/// The operations, one text for both backends (`outbox_store!`, instantiated here and in
/// `pg/outbox.rs`), with `queue_notification`, which queues inside a write's transaction. What
/// varies by backend are items each backend's module defines and that text names:
/// - `SKIP_LOCKED`, ending the choice of due rows: PostgreSQL locks the rows it claims and skips
///   those another instance is claiming at the same moment; SQLite's single writer needs neither.
/// - `GREATEST`, the larger of two values: `MAX` on SQLite, `GREATEST` on PostgreSQL.
macro_rules! outbox_store {
    ($Store:ty, $Conn:ty) => {
        impl OutboxStore for $Store {
            async fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
                let rows = self
                    .write(move |c| {
                        Box::pin(async move {
                            Ok(sqlx::query(&format!(
                                "UPDATE outbox SET lease_until_us = $1 WHERE id IN (
                                    SELECT id FROM outbox
                                    WHERE sent_us IS NULL AND next_try_us <= $2
                                      AND (lease_until_us IS NULL OR lease_until_us <= $2)
                                    ORDER BY next_try_us, id LIMIT $3{SKIP_LOCKED})
                                 RETURNING id, message_id, from_addr, to_addr, subject, body, html,
                                           in_reply_to, references_, attempts, next_try_us",
                            ))
                            .bind(now.saturating_add(OUTBOX_LEASE_US))
                            .bind(now)
                            .bind(limit)
                            .fetch_all(&mut *c)
                            .await?)
                        })
                    })
                    .await?;
                Ok(in_due_order(
                    rows.iter().map(outbox_item).collect::<StoreResult<_>>()?,
                ))
            }

            async fn mark_sent(&self, id: i64, now: i64) -> StoreResult<()> {
                self.write(move |c| {
                    Box::pin(async move {
                        sqlx::query(
                            "UPDATE outbox SET sent_us = $1, attempts = attempts + 1, last_error = NULL,
                               lease_until_us = NULL
                             WHERE id = $2",
                        )
                        .bind(now)
                        .bind(id)
                        .execute(&mut *c)
                        .await?;
                        Ok(())
                    })
                })
                .await
            }

            async fn mark_failed(&self, id: i64, next_try_us: i64, error: &str) -> StoreResult<()> {
                let error = error.to_string();
                self.write(move |c| {
                    Box::pin(async move {
                        sqlx::query(
                            "UPDATE outbox SET attempts = attempts + 1, next_try_us = $1, last_error = $2,
                               lease_until_us = NULL
                             WHERE id = $3",
                        )
                        .bind(next_try_us)
                        .bind(&error)
                        .bind(id)
                        .execute(&mut *c)
                        .await?;
                        Ok(())
                    })
                })
                .await
            }

            async fn next_notification_due(&self) -> StoreResult<Option<i64>> {
                // A row without a lease is due at its next try.
                Ok(sqlx::query_scalar(&format!(
                    "SELECT MIN({GREATEST}(next_try_us, COALESCE(lease_until_us, next_try_us)))
                     FROM outbox WHERE sent_us IS NULL",
                ))
                .fetch_one(&self.pool)
                .await?)
            }
        }

        /// Queues an e-mail chained to the ticket's earlier mail (In-Reply-To / References), in the
        /// caller's transaction.
        pub(super) async fn queue_notification(
            c: &mut $Conn,
            ticket_id: i64,
            n: &Notification,
            now: i64,
        ) -> StoreResult<()> {
            let earlier: Vec<String> = sqlx::query_scalar(
                "SELECT mid FROM (
                    SELECT email_message_id AS mid, created_us AS at FROM messages WHERE ticket_id = $1 AND email_message_id IS NOT NULL
                    UNION ALL
                    SELECT message_id AS mid, created_us AS at FROM outbox WHERE ticket_id = $1
                 ) AS earlier ORDER BY at",
            )
            .bind(ticket_id)
            .fetch_all(&mut *c)
            .await?;
            let (in_reply_to, references) = threading(&earlier);
            sqlx::query(
                "INSERT INTO outbox (ticket_id, message_id, from_addr, to_addr, subject, body, html, in_reply_to, references_, next_try_us, created_us)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(ticket_id)
            .bind(&n.message_id)
            .bind(&n.from)
            .bind(&n.to)
            .bind(&n.subject)
            .bind(&n.body)
            .bind(&n.html)
            .bind(in_reply_to)
            .bind(references)
            .bind(now)
            .bind(now)
            .execute(&mut *c)
            .await?;
            Ok(())
        }
    };
}
pub(super) use outbox_store;

/// One writer: no other sender claims between the choice of the rows and their lease.
const SKIP_LOCKED: &str = "";
const GREATEST: &str = "MAX";

outbox_store!(SqliteStore, SqliteConnection);

/// In-Reply-To and References of a notification, from the ticket's earlier Message-IDs (oldest
/// first).
pub(super) fn threading(earlier: &[String]) -> (Option<String>, Option<String>) {
    let in_reply_to = earlier.last().cloned();
    // The first and the latest few are enough for every mailer to thread.
    let refs: Vec<&String> = if earlier.len() > 10 {
        std::iter::once(&earlier[0])
            .chain(earlier[earlier.len() - 9..].iter())
            .collect()
    } else {
        earlier.iter().collect()
    };
    let references = if refs.is_empty() {
        None
    } else {
        Some(
            refs.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        )
    };
    (in_reply_to, references)
}

/// Notifications waiting to be sent.
pub trait OutboxStore {
    /// Claims up to `limit` notifications whose time to be sent has come and that no sender holds,
    /// for [`OUTBOX_LEASE_US`] from `now`: the caller sends them and marks each sent or failed
    /// (which ends the claim); one it does not mark is due again once the lease ends.
    fn due_notifications(
        &self,
        now: i64,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<OutboxItem>>> + Send;
    /// A notification sent: never sent again.
    fn mark_sent(&self, id: i64, now: i64) -> impl Future<Output = StoreResult<()>> + Send;
    /// A notification that failed: tried again at `next_try_us`, with why.
    fn mark_failed(
        &self,
        id: i64,
        next_try_us: i64,
        error: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The soonest time a pending notification could be claimed (when it is due, or when its
    /// lease ends if that is later), if any.
    fn next_notification_due(&self) -> impl Future<Output = StoreResult<Option<i64>>> + Send;
}
