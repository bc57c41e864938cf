//! UploadStore on PostgreSQL: the shared text of `storage/uploads.rs` (`upload_store!`).

use super::usage;
use super::*;
use crate::storage::uploads::{file_visible_to, upload_store};

upload_store!(PgStore);
