//! TicketStore on PostgreSQL: the shared text of `storage/tickets.rs` (`ticket_store!`) with
//! PostgreSQL's row locks. Where SQLite's single writer keeps writes apart, here row locks do: a
//! write locks the ticket it changes (`TICKET_ROW_LOCK`), then its account (`lock_account`).

use super::outbox::queue_notification;
use super::usage;
use super::*;
use crate::storage::tickets::{
    author_kind_str, counts_from_rows, message_event_from_row, page_from_rows, page_size,
    parse_cursor, recent_from_rows, recorded_code, reply_result, search_patterns, summary_from_row,
    ticket_from_rows, ticket_store, OwnedKey, OwnedMessage, OwnedViewer, TicketRow,
    MESSAGE_EVENT_COLUMNS, RECENT_IN_NOTIFICATION,
};

/// Locks the account's row until the transaction ends. Every write that changes an account's
/// tickets takes it (after the ticket's own row, when there is one), so that two writes of one
/// account take the rows they share (`ticket_counts` through its trigger, `account_usage`,
/// `account_storage`) one after the other instead of in opposite orders and deadlocking.
/// `NO KEY UPDATE` leaves the rows that refer to the account free to be written meanwhile.
async fn lock_account(c: &mut PgConnection, account_id: &str) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE")
        .bind(account_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(())
}

/// The ticket a write changes stays locked until commit: no other write, on any instance,
/// changes its status between the write's read and its writes.
const TICKET_ROW_LOCK: &str = " FOR NO KEY UPDATE OF t";
/// SQLite's `LIKE` ignores case; PostgreSQL's does not.
const LIKE: &str = "ILIKE";

ticket_store!(PgStore, PgConnection, Postgres);
