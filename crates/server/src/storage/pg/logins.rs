//! LoginStore on PostgreSQL: the shared text of `storage/logins.rs` (`login_store!`).

use super::*;
use crate::storage::logins::login_store;

login_store!(PgStore);
