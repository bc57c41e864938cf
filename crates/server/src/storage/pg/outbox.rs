//! OutboxStore on PostgreSQL: each instance claims due rows with a lease; rows another instance
//! is claiming at the same moment are skipped (`SKIP LOCKED`), not waited for.

use super::*;
use crate::storage::outbox::{in_due_order, outbox_item, OUTBOX_LEASE_US};

impl OutboxStore for PgStore {
    async fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        let rows = self
            .write(move |c| {
                Box::pin(async move {
                    Ok(sqlx::query(
                        "UPDATE outbox SET lease_until_us = $1 WHERE id IN (
                            SELECT id FROM outbox
                            WHERE sent_us IS NULL AND next_try_us <= $2
                              AND (lease_until_us IS NULL OR lease_until_us <= $2)
                            ORDER BY next_try_us, id LIMIT $3
                            FOR UPDATE SKIP LOCKED)
                         RETURNING id, message_id, from_addr, to_addr, subject, body, html,
                                   in_reply_to, references_, attempts, next_try_us",
                    )
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
        // GREATEST ignores a NULL lease.
        Ok(sqlx::query_scalar(
            "SELECT MIN(GREATEST(next_try_us, lease_until_us)) FROM outbox WHERE sent_us IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

/// Queues an e-mail chained to the ticket's earlier mail (In-Reply-To / References), in the
/// caller's transaction: the twin of SQLite's `queue_notification`.
pub(super) async fn queue_notification(
    c: &mut PgConnection,
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
    let (in_reply_to, references) = crate::storage::outbox::threading(&earlier);
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
