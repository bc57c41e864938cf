//! UsageStore on PostgreSQL: the shared text of `storage/usage.rs` (`usage_store!`). What is
//! allowed is decided by the same functions as on SQLite; here the account's rows are locked while
//! they are read and counted (`FOR_UPDATE`), so that instances racing for the last use of a window
//! are counted one after the other and only one passes.

use super::*;
use crate::storage::usage::{check_quota, count_use, usage_now, usage_store};

/// Locks the rows counted until the transaction ends.
const FOR_UPDATE: &str = " FOR UPDATE";

usage_store!(PgStore, PgConnection);
