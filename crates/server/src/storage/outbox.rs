//! Notifications queued with the change they announce, and their sending state.

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

/// Queues an e-mail chained to the ticket's earlier mail (In-Reply-To / References).
pub(super) async fn queue_notification(
    c: &mut SqliteConnection,
    ticket_id: i64,
    n: &Notification,
    now: i64,
) -> StoreResult<()> {
    let earlier: Vec<String> = sqlx::query_scalar(
        "SELECT mid FROM (
            SELECT email_message_id AS mid, created_us AS at FROM messages WHERE ticket_id = ?1 AND email_message_id IS NOT NULL
            UNION ALL
            SELECT message_id AS mid, created_us AS at FROM outbox WHERE ticket_id = ?1
         ) ORDER BY at",
    )
    .bind(ticket_id)
    .fetch_all(&mut *c)
    .await?;
    let (in_reply_to, references) = threading(&earlier);
    sqlx::query(
        "INSERT INTO outbox (ticket_id, message_id, from_addr, to_addr, subject, body, html, in_reply_to, references_, next_try_us, created_us)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    /// Up to `limit` notifications whose time to be sent has come.
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
    /// The soonest time a pending notification is due, if any.
    fn next_notification_due(&self) -> impl Future<Output = StoreResult<Option<i64>>> + Send;
}

impl OutboxStore for SqliteStore {
    async fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        let rows = sqlx::query(
            "SELECT id, message_id, from_addr, to_addr, subject, body, html, in_reply_to, references_, attempts
             FROM outbox WHERE sent_us IS NULL AND next_try_us <= ? ORDER BY id LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| OutboxItem {
                id: r.get("id"),
                message_id: r.get("message_id"),
                from: r.get("from_addr"),
                to: r.get("to_addr"),
                subject: r.get("subject"),
                body: r.get("body"),
                html: r.get("html"),
                in_reply_to: r.get("in_reply_to"),
                references: r.get("references_"),
                attempts: r.get("attempts"),
            })
            .collect())
    }

    async fn mark_sent(&self, id: i64, now: i64) -> StoreResult<()> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("UPDATE outbox SET sent_us = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?")
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
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_try_us = ?, last_error = ? WHERE id = ?")
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
        Ok(
            sqlx::query_scalar("SELECT MIN(next_try_us) FROM outbox WHERE sent_us IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
