//! OutboxStore on PostgreSQL.

use super::*;

impl OutboxStore for PgStore {
    async fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        Err(not_yet())
    }
    async fn mark_sent(&self, id: i64, now: i64) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn mark_failed(&self, id: i64, next_try_us: i64, error: &str) -> StoreResult<()> {
        Err(not_yet())
    }
    async fn next_notification_due(&self) -> StoreResult<Option<i64>> {
        Err(not_yet())
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
