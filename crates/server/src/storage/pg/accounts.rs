//! AccountStore on PostgreSQL: the shared text of `storage/accounts.rs` (`account_store!`).

use super::*;
use crate::storage::accounts::{account_row_from, account_store, role_str, services_from_rows};

/// An import racing another changes the account after it, and compares its password hash with
/// the other's.
const FOR_UPDATE: &str = " FOR UPDATE";

account_store!(PgStore);
