//! IntakeStore on PostgreSQL: the shared text of `storage/mail.rs` (`intake_store!`). Several
//! instances may take deliveries of one message at once: the unique index on
//! `(sender, message_id)` decides which claims it, and the pieces below lock what SQLite's single
//! writer keeps apart.

use super::*;
use crate::storage::mail::{intake_store, prior_claim, Answer, HOUR_US};
use crate::util::rfc3339;

/// Of two instances taking over a stale claim, one deletes it and the other, once the first
/// commits, finds the first one's claim.
const FOR_UPDATE: &str = " FOR UPDATE";

/// Locks the address for the transaction (an advisory lock on its hash: there is no row per
/// address to lock).
async fn lock_address(c: &mut PgConnection, address: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('mail_answers ' || $1, 0))")
        .bind(address)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Records that these messages' raw mail was deleted.
async fn forget_raw_paths(c: &mut PgConnection, ids: &[String]) -> StoreResult<()> {
    sqlx::query("UPDATE mail_intake SET raw_path = '' WHERE id = ANY($1)")
        .bind(ids)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// (Message-ID, ticket code) of the account's messages, ours or received, with one of `ids`.
async fn references_to(
    pool: &PgPool,
    account_id: &str,
    ids: &[String],
) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT o.message_id AS mid, t.code FROM outbox o JOIN tickets t ON t.id = o.ticket_id
         WHERE t.account_id = $1 AND o.message_id = ANY($2)
         UNION ALL
         SELECT m.email_message_id AS mid, t.code FROM messages m JOIN tickets t ON t.id = m.ticket_id
         WHERE t.account_id = $1 AND m.email_message_id = ANY($2)",
    )
    .bind(account_id)
    .bind(ids)
    .fetch_all(pool)
    .await?)
}

intake_store!(PgStore, PgConnection);
