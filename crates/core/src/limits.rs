//! Limits both sides enforce; the app checks them first, the server always.

/// "1 MB" of the seed: decoded attachments of one e-mail, in bytes.
pub const MAX_EMAIL_ATTACHMENT_BYTES: u64 = 1_048_576;
/// Default size cap of one file uploaded on the web.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// Files on one message.
pub const MAX_FILES_PER_MESSAGE: usize = 10;
/// A subject shorter than this cannot say what is wrong and where.
pub const SUBJECT_MIN_CHARS: usize = 4;
pub const SUBJECT_MAX_CHARS: usize = 150;
/// The description must give the technician something to work with.
pub const DESCRIPTION_MIN_CHARS: usize = 30;
pub const BODY_MAX_CHARS: usize = 50_000;
/// A reply may be short ("grazie, risolto").
pub const REPLY_MIN_CHARS: usize = 1;

/// Characters of a text as people count them (not bytes).
pub fn char_len(s: &str) -> usize {
    s.trim().chars().count()
}
