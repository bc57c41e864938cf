//! OutboxStore on PostgreSQL: the shared text of `storage/outbox.rs` (`outbox_store!`). Each
//! instance claims due rows with a lease; rows another instance is claiming at the same moment
//! are skipped (`SKIP LOCKED`), not waited for.

use super::*;
use crate::storage::outbox::{in_due_order, outbox_item, outbox_store, threading, OUTBOX_LEASE_US};

/// Rows another instance is claiming are skipped, not waited for.
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
const GREATEST: &str = "GREATEST";

outbox_store!(PgStore, PgConnection);
