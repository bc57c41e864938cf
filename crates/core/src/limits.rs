//! Limits both sides enforce; the app checks them first, the server always.

/// "1 MB" of the seed: decoded attachments of one e-mail, in bytes.
pub const MAX_EMAIL_ATTACHMENT_BYTES: u64 = 1_048_576;
/// Default size cap of one file uploaded on the web.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// Files on one message.
pub const MAX_FILES_PER_MESSAGE: usize = 10;
/// Extensions that run code when opened (by a browser or by the desktop): never accepted, whatever
/// the content, so that nobody double-clicks one straight out of the helpdesk.
pub const FORBIDDEN_EXTENSIONS: &[&str] = &[
    "htm", "html", "xhtml", "xht", "shtml", "mht", "mhtml", "svg", "svgz", "js", "mjs", "cjs",
    "jse", "exe", "com", "scr", "pif", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "wsf", "wsh",
    "hta", "msi", "msp", "dll", "cpl", "jar", "lnk", "reg", "apk", "app", "dmg", "swf",
];
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
