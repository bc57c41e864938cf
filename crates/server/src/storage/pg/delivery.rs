//! DeliveryStore on PostgreSQL: the shared text of `storage/delivery.rs` (`delivery_store!`).

use super::*;
use crate::storage::delivery::{delivery_store, reason_of, staff_record, Undeliverable};
use crate::util::rfc3339;
use helpdesk_core::api::{MailDelivery, StaffMailList, StaffUndeliverable};

const INSTR: &str = "strpos";

/// (Message-ID, recipient) of our queued e-mails with one of `ids`.
async fn outbox_recipients(pool: &PgPool, ids: &[String]) -> StoreResult<Vec<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT message_id, to_addr FROM outbox WHERE message_id = ANY($1)")
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}

delivery_store!(PgStore);
