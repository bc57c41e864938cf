//! The operator's alarms: a condition that every request would meet (a full disk) is logged once,
//! as an error, then again at most every ten minutes while it lasts; the requests it refuses are
//! answered without a line each.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// How often an alarm that lasts is logged again.
const REPEAT_SECS: u64 = 600;

static DISK_FULL_LOGGED: AtomicU64 = AtomicU64::new(0);

/// A write was refused for lack of space in the data folder's file system (or the floor of free
/// space kept for the database, `HELPDESK_MIN_FREE_BYTES`).
pub fn disk_full() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = DISK_FULL_LOGGED.load(Ordering::Relaxed);
    if last != 0 && now < last + REPEAT_SECS {
        return;
    }
    if DISK_FULL_LOGGED
        .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
    {
        tracing::error!(
            alarm = "disk_full",
            "ALARM: the data folder's disk is full (or below HELPDESK_MIN_FREE_BYTES): uploads and new tickets are refused with 507 until space is freed; nothing already stored is lost"
        );
    }
}

/// `ENOSPC` or `EDQUOT`, however it was wrapped.
pub fn is_disk_full_io(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28 | 122))
}

/// SQLite's `SQLITE_FULL` (it maps `ENOSPC` to it), or an I/O error that is one.
pub fn is_disk_full_db(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.code().as_deref() == Some("13") || is_disk_full_text(d.message())
        }
        sqlx::Error::Io(io) => is_disk_full_io(io),
        _ => false,
    }
}

/// What SQLite says when it is full, where only the text of an error is left.
pub fn is_disk_full_text(s: &str) -> bool {
    s.contains("database or disk is full")
}

/// Free bytes for unprivileged writers on the file system holding `path`.
pub fn free_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    let s = rustix::fs::statvfs(path)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}
