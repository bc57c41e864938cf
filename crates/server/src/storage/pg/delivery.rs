//! DeliveryStore on PostgreSQL: the same records as SQLite's (`storage/delivery.rs`).

use super::*;
use crate::storage::delivery::{reason_of, staff_record, Undeliverable};
use crate::util::rfc3339;
use helpdesk_core::api::{MailDelivery, StaffMailList, StaffUndeliverable};

impl DeliveryStore for PgStore {
    async fn outbox_recipient(&self, ids: &[String]) -> StoreResult<Option<String>> {
        if ids.is_empty() {
            return Ok(None);
        }
        let found: Vec<(String, String)> =
            sqlx::query_as("SELECT message_id, to_addr FROM outbox WHERE message_id = ANY($1)")
                .bind(ids)
                .fetch_all(&self.pool)
                .await?;
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
        let rows: Vec<IntakeRow> = sqlx::query_as(
            "SELECT i.id, i.received_us, i.sender, i.recipient, i.subject, i.reason, i.detail
             FROM mail_intake i LEFT JOIN accounts a ON a.id = i.account_id
             WHERE i.outcome = 'refused'
               AND ($1::TEXT IS NULL OR i.sender = $1 OR a.email = $1
                    OR strpos(lower(COALESCE(i.detail, '')), $1) > 0)
             ORDER BY i.received_us DESC LIMIT $2",
        )
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
             WHERE $1::TEXT IS NULL OR a.email = $1
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
