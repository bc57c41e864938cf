//! Attachments' safety rules: what a file really is (from its bytes), harmless names, safe headers.
//!
//! Used by the web uploads and by the e-mail intake, so both accept and serve files the same way.

use crate::state::AppState;
use crate::storage::prelude::*;
use crate::texts::{FileKind, FileRefusal, Language};
use axum::http::HeaderValue;
// Extensions that run code when opened: a rule shared with the app, which refuses them first.
use helpdesk_core::limits::FORBIDDEN_EXTENSIONS;
use std::fmt;
use std::path::Path;

/// Bytes kept from the start of a file for detection.
pub const HEAD_LEN: usize = 64 * 1024;
/// Bytes read from the end of a zip to find its central directory (the list of its entries).
pub const TAIL_LEN: usize = 66 * 1024;
/// Longest shown name, in characters, extension included.
pub const NAME_MAX_CHARS: usize = 150;
/// Partly written uploads (a crash mid-upload) carry this prefix in the files folder.
pub const TMP_PREFIX: &str = ".upload-";

/// Why a file is not accepted; `why` is the key of the sentence for the customer (in
/// `texts`; lower-case start, so that callers can put it after the file's name). Displayed in
/// the default language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `empty`, `type_mismatch`, `type_forbidden` or `type_unknown`.
    pub code: &'static str,
    pub why: FileRefusal,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.why.text(Language::default()))
    }
}

impl std::error::Error for Refusal {}

pub const PNG: &str = "image/png";
pub const JPEG: &str = "image/jpeg";
pub const GIF: &str = "image/gif";
pub const WEBP: &str = "image/webp";
pub const HEIC: &str = "image/heic";
pub const HEIF: &str = "image/heif";
pub const PDF: &str = "application/pdf";
pub const ZIP: &str = "application/zip";
pub const EML: &str = "message/rfc822";
pub const TEXT_UTF8: &str = "text/plain; charset=utf-8";
pub const TEXT: &str = "text/plain";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
pub const ODT: &str = "application/vnd.oasis.opendocument.text";
pub const ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";
pub const ODP: &str = "application/vnd.oasis.opendocument.presentation";
pub const ODG: &str = "application/vnd.oasis.opendocument.graphics";
pub(crate) const OCTET_STREAM: &str = "application/octet-stream";

/// Every type a stored file may be served as; anything else goes out as an opaque download.
pub(crate) const SERVABLE: [&str; 18] = [
    PNG, JPEG, GIF, WEBP, HEIC, HEIF, PDF, ZIP, EML, TEXT_UTF8, TEXT, DOCX, XLSX, PPTX, ODT, ODS,
    ODP, ODG,
];

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Png,
    Jpeg,
    Gif,
    Webp,
    Heic(&'static str),
    Pdf,
    Zip,
    Ooxml(&'static str),
    Odf(&'static str),
    Eml,
    Text,
    Html,
    Svg,
    Executable,
    Unknown,
}

impl Found {
    /// "(it looks like …)": what the content looks like, for the refusal message.
    fn looks_like(self) -> Option<FileKind> {
        Some(match self {
            Found::Png => FileKind::Png,
            Found::Jpeg => FileKind::Jpeg,
            Found::Gif => FileKind::Gif,
            Found::Webp => FileKind::Webp,
            Found::Heic(_) => FileKind::Heic,
            Found::Pdf => FileKind::Pdf,
            Found::Zip => FileKind::Zip,
            Found::Ooxml(_) => FileKind::Office,
            Found::Odf(_) => FileKind::OpenDocument,
            Found::Eml => FileKind::Eml,
            Found::Text => FileKind::Text,
            Found::Html => FileKind::Html,
            Found::Svg => FileKind::Svg,
            Found::Executable => FileKind::Executable,
            Found::Unknown => return None,
        })
    }

    fn forbidden(self) -> bool {
        matches!(self, Found::Html | Found::Svg | Found::Executable)
    }
}

/// What the name's extension promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    Png,
    Jpeg,
    Gif,
    Webp,
    Heic,
    Pdf,
    Zip,
    Office(&'static str, FileKind),
    Eml,
    Text,
}

impl Claim {
    fn of(ext: &str) -> Option<Claim> {
        Some(match ext {
            "png" => Claim::Png,
            "jpg" | "jpeg" | "jpe" | "jfif" => Claim::Jpeg,
            "gif" => Claim::Gif,
            "webp" => Claim::Webp,
            "heic" | "heif" | "hif" => Claim::Heic,
            "pdf" => Claim::Pdf,
            "zip" => Claim::Zip,
            "docx" => Claim::Office(DOCX, FileKind::Word),
            "xlsx" => Claim::Office(XLSX, FileKind::Excel),
            "pptx" => Claim::Office(PPTX, FileKind::PowerPoint),
            "odt" => Claim::Office(ODT, FileKind::OdfText),
            "ods" => Claim::Office(ODS, FileKind::OdfSpreadsheet),
            "odp" => Claim::Office(ODP, FileKind::OdfPresentation),
            "odg" => Claim::Office(ODG, FileKind::OdfDrawing),
            "eml" => Claim::Eml,
            "txt" | "log" | "text" | "csv" | "tsv" | "md" => Claim::Text,
            _ => return None,
        })
    }

    fn what(self) -> FileKind {
        match self {
            Claim::Png => FileKind::Png,
            Claim::Jpeg => FileKind::Jpeg,
            Claim::Gif => FileKind::Gif,
            Claim::Webp => FileKind::Webp,
            Claim::Heic => FileKind::HeicHeif,
            Claim::Pdf => FileKind::Pdf,
            Claim::Zip => FileKind::Zip,
            Claim::Office(_, what) => what,
            Claim::Eml => FileKind::Eml,
            Claim::Text => FileKind::Text,
        }
    }

    fn agrees(self, found: Found) -> bool {
        match (self, found) {
            (Claim::Png, Found::Png)
            | (Claim::Jpeg, Found::Jpeg)
            | (Claim::Gif, Found::Gif)
            | (Claim::Webp, Found::Webp)
            | (Claim::Heic, Found::Heic(_))
            | (Claim::Pdf, Found::Pdf)
            | (Claim::Zip, Found::Zip | Found::Ooxml(_) | Found::Odf(_))
            | (Claim::Eml, Found::Eml)
            | (Claim::Text, Found::Text | Found::Eml) => true,
            (Claim::Office(want, _), Found::Ooxml(got) | Found::Odf(got)) => want == got,
            _ => false,
        }
    }
}

/// Detects the type of a file from its content and checks it against its name.
///
/// `bytes` is the whole file or, for a large one, its first bytes (at least [`HEAD_LEN`] of
/// them when there are that many): text is then judged on the prefix only. The client's declared
/// type is never an input. Returns the type to store and serve the file with.
pub fn sniff(bytes: &[u8], name: &str) -> Result<&'static str, Refusal> {
    let mut s = Sniffer::default();
    s.feed(bytes);
    let tail = &bytes[bytes.len().saturating_sub(TAIL_LEN)..];
    s.finish(name, tail)
}

/// Incremental detection for a file that arrives in pieces: keeps its head, and checks every byte
/// for text (valid UTF-8, or Latin-1 without NUL and binary control bytes).
#[derive(Debug, Default)]
pub struct Sniffer {
    head: Vec<u8>,
    len: u64,
    not_text: bool,
    not_utf8: bool,
    carry: [u8; 4],
    carry_len: usize,
}

impl Sniffer {
    pub fn feed(&mut self, chunk: &[u8]) {
        self.len += chunk.len() as u64;
        if self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if self.not_text {
            return;
        }
        if chunk
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1b))
        {
            self.not_text = true;
            return;
        }
        if !self.not_utf8 {
            self.feed_utf8(chunk);
        }
    }

    /// UTF-8 validation across chunk boundaries: an incomplete sequence at the end waits in `carry`.
    fn feed_utf8(&mut self, mut data: &[u8]) {
        if self.carry_len > 0 {
            let width = utf8_width(self.carry[0]);
            let take = (width - self.carry_len).min(data.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&data[..take]);
            self.carry_len += take;
            data = &data[take..];
            if self.carry_len < width {
                return;
            }
            if std::str::from_utf8(&self.carry[..width]).is_err() {
                self.not_utf8 = true;
                return;
            }
            self.carry_len = 0;
        }
        if let Err(e) = std::str::from_utf8(data) {
            let rest = &data[e.valid_up_to()..];
            if e.error_len().is_none() && utf8_width(rest[0]) > rest.len() {
                self.carry[..rest.len()].copy_from_slice(rest);
                self.carry_len = rest.len();
            } else {
                self.not_utf8 = true;
            }
        }
    }

    /// Bytes seen so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the end of the file is needed to tell what it is (a zip's list of entries).
    pub fn wants_tail(&self) -> bool {
        self.head.starts_with(b"PK\x03\x04")
    }

    /// The verdict; `tail` is the file's last bytes (up to [`TAIL_LEN`]), used for zips only.
    pub fn finish(&self, name: &str, tail: &[u8]) -> Result<&'static str, Refusal> {
        if self.len == 0 {
            return Err(Refusal {
                code: "empty",
                why: FileRefusal::Empty,
            });
        }
        let utf8 = !self.not_utf8 && self.carry_len == 0;
        let found = self.detect(tail);
        let name = clean_name(name);
        let ext = extension(&name);
        if let Some(ext) = ext.as_deref().filter(|e| FORBIDDEN_EXTENSIONS.contains(e)) {
            return Err(Refusal {
                code: "type_forbidden",
                why: FileRefusal::ExtensionForbidden {
                    ext: ext.to_string(),
                },
            });
        }
        let claim = ext.as_deref().and_then(Claim::of);
        if let Some(claim) = claim.filter(|c| !c.agrees(found)) {
            return Err(Refusal {
                code: "type_mismatch",
                why: FileRefusal::Mismatch {
                    claimed: claim.what(),
                    looks_like: found.looks_like(),
                },
            });
        }
        if found.forbidden() {
            return Err(Refusal {
                code: "type_forbidden",
                why: FileRefusal::ContentForbidden {
                    found: found.looks_like().unwrap_or(FileKind::Active),
                },
            });
        }
        let text = if utf8 { TEXT_UTF8 } else { TEXT };
        Ok(match found {
            Found::Png => PNG,
            Found::Jpeg => JPEG,
            Found::Gif => GIF,
            Found::Webp => WEBP,
            Found::Heic(t) | Found::Ooxml(t) | Found::Odf(t) => t,
            Found::Pdf => PDF,
            Found::Zip => ZIP,
            // An e-mail saved as .txt stays a text file.
            Found::Eml if claim == Some(Claim::Text) => text,
            Found::Eml => EML,
            Found::Text => text,
            Found::Html | Found::Svg | Found::Executable | Found::Unknown => {
                return Err(Refusal {
                    code: "type_unknown",
                    why: FileRefusal::TypeUnknown,
                });
            }
        })
    }

    fn detect(&self, tail: &[u8]) -> Found {
        let h = self.head.as_slice();
        if h.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Found::Png;
        }
        if h.starts_with(b"\xff\xd8\xff") {
            return Found::Jpeg;
        }
        if h.starts_with(b"GIF87a") || h.starts_with(b"GIF89a") {
            return Found::Gif;
        }
        if h.len() >= 12 && &h[..4] == b"RIFF" && &h[8..12] == b"WEBP" {
            return Found::Webp;
        }
        if h.len() >= 12 && &h[4..8] == b"ftyp" {
            return heif(h);
        }
        if h.starts_with(b"%PDF-") {
            return Found::Pdf;
        }
        if h.starts_with(b"PK\x03\x04") {
            return zip_kind(h, tail);
        }
        if h.starts_with(b"PK\x05\x06") {
            return Found::Zip; // an empty archive
        }
        if h.starts_with(b"MZ")
            || h.starts_with(b"\x7fELF")
            || h.starts_with(b"\0asm")
            || [
                b"\xfe\xed\xfa\xce",
                b"\xfe\xed\xfa\xcf",
                b"\xce\xfa\xed\xfe",
                b"\xcf\xfa\xed\xfe",
                b"\xca\xfe\xba\xbe",
            ]
            .iter()
            .any(|m| h.starts_with(*m))
        {
            return Found::Executable;
        }
        if self.not_text {
            return Found::Unknown;
        }
        if let Some(markup) = markup(h) {
            return markup;
        }
        if looks_like_email(h, self.len > h.len() as u64) {
            return Found::Eml;
        }
        Found::Text
    }
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 1,
    }
}

/// HEIC/HEIF (ISO base media with an image brand); AVIF and videos are not on the list.
fn heif(h: &[u8]) -> Found {
    const HEIC_BRANDS: [&[u8]; 8] = [
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    ];
    let size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let end = size.clamp(12, h.len());
    let major = &h[8..12];
    let compatible: Vec<&[u8]> = h.get(16..end).unwrap_or(&[]).chunks_exact(4).collect();
    let has =
        |brands: &[&[u8]]| brands.contains(&major) || compatible.iter().any(|c| brands.contains(c));
    if has(&[b"avif", b"avis"]) {
        return Found::Unknown;
    }
    if has(&HEIC_BRANDS) {
        return Found::Heic(HEIC);
    }
    if has(&[b"mif1", b"msf1", b"heif"]) {
        return Found::Heic(HEIF);
    }
    Found::Unknown
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]) as usize)
}

fn le32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// A zip, or an office document that is a zip with a known manifest.
fn zip_kind(head: &[u8], tail: &[u8]) -> Found {
    // OpenDocument: the first entry is `mimetype`, stored uncompressed, naming the type.
    if let (Some(n), Some(e), Some(method), Some(size)) = (
        le16(head, 26),
        le16(head, 28),
        le16(head, 8),
        le32(head, 18),
    ) {
        if head.get(30..30 + n) == Some(b"mimetype".as_slice()) && method == 0 {
            let start = 30 + n + e;
            let declared = head.get(start..start + size.min(100)).unwrap_or(&[]);
            for t in [ODT, ODS, ODP, ODG] {
                if declared == t.as_bytes() {
                    return Found::Odf(t);
                }
            }
        }
    }
    let names = zip_names(head, tail);
    if names.iter().any(|n| *n == b"[Content_Types].xml") {
        for (dir, t) in [(&b"word/"[..], DOCX), (b"xl/", XLSX), (b"ppt/", PPTX)] {
            if names.iter().any(|n| n.starts_with(dir)) {
                return Found::Ooxml(t);
            }
        }
    }
    Found::Zip
}

/// Names of a zip's entries: from the central directory at its end when `tail` holds it, else
/// by walking the local headers in `head` as far as their sizes are known.
fn zip_names<'a>(head: &'a [u8], tail: &'a [u8]) -> Vec<&'a [u8]> {
    if let Some(names) = central_directory_names(tail) {
        return names;
    }
    let mut names = Vec::new();
    let mut at = 0;
    while head.get(at..at + 4) == Some(b"PK\x03\x04".as_slice()) && names.len() < 10_000 {
        let (Some(flags), Some(size), Some(n), Some(e)) = (
            le16(head, at + 6),
            le32(head, at + 18),
            le16(head, at + 26),
            le16(head, at + 28),
        ) else {
            break;
        };
        let Some(name) = head.get(at + 30..at + 30 + n) else {
            break;
        };
        names.push(name);
        if flags & 8 != 0 && size == 0 {
            break; // size given after the data: cannot skip it without inflating
        }
        at = at.saturating_add(30 + n + e).saturating_add(size);
    }
    names
}

fn central_directory_names(tail: &[u8]) -> Option<Vec<&[u8]>> {
    if tail.len() < 22 {
        return None;
    }
    let eocd = (0..=tail.len() - 22)
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))?;
    let cd_size = le32(tail, eocd + 12)?;
    let cd_start = eocd.checked_sub(cd_size)?;
    let cd = &tail[cd_start..eocd];
    let mut names = Vec::new();
    let mut at = 0;
    while cd.get(at..at + 4) == Some(b"PK\x01\x02".as_slice()) {
        let (n, e, c) = (le16(cd, at + 28)?, le16(cd, at + 30)?, le16(cd, at + 32)?);
        names.push(cd.get(at + 46..at + 46 + n)?);
        at += 46 + n + e + c;
    }
    (!names.is_empty()).then_some(names)
}

/// HTML or SVG by how the text starts (the tags browsers sniff for), after a BOM and blanks.
fn markup(h: &[u8]) -> Option<Found> {
    let s = h.strip_prefix(b"\xef\xbb\xbf").unwrap_or(h);
    let start = s.iter().position(|b| !b" \t\r\n\x0c".contains(b))?;
    let s = &s[start..];
    let window = &s[..s.len().min(4096)];
    let lower: Vec<u8> = window.iter().map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"<?xml")
        || lower.starts_with(b"<!doctype svg")
        || lower.starts_with(b"<svg")
    {
        if contains(&lower, b"<svg") {
            return Some(Found::Svg);
        }
        if contains(&lower, b"<html") || contains(&lower, b"xhtml") || contains(&lower, b"<script")
        {
            return Some(Found::Html);
        }
        return None; // plain XML: a configuration file, served as text
    }
    const TAGS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
        b"<meta",
        b"<link",
        b"<img",
        b"<object",
        b"<embed",
        b"<form",
        b"<base",
        b"<frameset",
        b"<math",
    ];
    TAGS.iter()
        .any(|tag| {
            lower.starts_with(tag)
                && (*tag == b"<!--"
                    || matches!(
                        lower.get(tag.len()),
                        None | Some(b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'/')
                    ))
        })
        .then_some(Found::Html)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// An e-mail as saved by a mail client: it starts with a block of header lines, among them at
/// least two that every message has.
fn looks_like_email(h: &[u8], truncated: bool) -> bool {
    const KNOWN: [&str; 9] = [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "received",
        "return-path",
        "mime-version",
        "delivered-to",
    ];
    let mut lines: Vec<&[u8]> = h.split(|&b| b == b'\n').collect();
    if truncated {
        lines.pop(); // possibly cut in the middle
    }
    let (mut known, mut headers) = (0, 0);
    for (i, line) in lines.iter().enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return known >= 2;
        }
        if i == 0 && line.starts_with(b"From ") {
            continue; // mbox separator
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if headers == 0 {
                return false;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return false;
        };
        let field = &line[..colon];
        if field.is_empty() || !field.iter().all(|&b| (33..=126).contains(&b)) {
            return false;
        }
        headers += 1;
        if KNOWN
            .iter()
            .any(|k| field.eq_ignore_ascii_case(k.as_bytes()))
        {
            known += 1;
        }
        if headers > 500 {
            break;
        }
    }
    known >= 2
}

/// The name shown for a file: one clean line (see [`helpdesk_core::text::single_line`]: no
/// control, invisible or bidirectional characters), no folders, not empty, at most
/// [`NAME_MAX_CHARS`] characters with the extension kept. Never used as a path. Cleaning a
/// cleaned name changes nothing, so the name stored and the name in the download header agree.
pub fn clean_name(raw: &str) -> String {
    let visible = helpdesk_core::text::single_line(raw);
    let base = visible.rsplit(['/', '\\']).next().unwrap_or("");
    let base = base.trim().trim_end_matches(['.', ' ']).trim();
    if base.is_empty() || base.chars().all(|c| c == '.') {
        return "allegato".into();
    }
    if base.chars().count() <= NAME_MAX_CHARS {
        return base.to_string();
    }
    let cut = match extension(base) {
        Some(ext) if ext.chars().count() <= 16 => {
            let stem_len = NAME_MAX_CHARS - ext.chars().count() - 1;
            let stem: String = base.chars().take(stem_len).collect();
            let dot_ext = &base[base.len() - ext.len() - 1..];
            format!("{}{}", stem.trim_end(), dot_ext)
        }
        _ => base.chars().take(NAME_MAX_CHARS).collect::<String>(),
    };
    // A cut can leave an emoji joiner dangling, or end the name in dots and spaces.
    let cut = helpdesk_core::text::single_line(&cut);
    let cut = cut.trim_end_matches(['.', ' ']);
    if cut.is_empty() || cut.chars().all(|c| c == '.') {
        "allegato".into()
    } else {
        cut.to_string()
    }
}

/// A file name as a browser sends it in `multipart/form-data`: the HTML standard has it escape
/// `"`, CR and LF as `%22`, `%0D` and `%0A` (and nothing else), so those three are undone here,
/// before the name is cleaned like any other.
pub fn form_data_file_name(raw: &str) -> String {
    raw.replace("%22", "\"")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
}

/// The lower-case extension after the last dot (a leading dot starts a name, not an extension).
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the exact UTF-8 name.
pub fn content_disposition(name: &str) -> HeaderValue {
    let name = clean_name(name);
    let mut ascii = String::with_capacity(name.len());
    for c in name.chars() {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'A',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'È' | 'É' | 'Ê' | 'Ë' => 'E',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => 'O',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
            'ç' => 'c',
            'ñ' => 'n',
            '"' | '\\' => '_',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '_',
        };
        ascii.push(c);
    }
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static(
        "attachment; filename=\"allegato\"",
    ))
}

/// The type a stored file is served with: one of the accepted types, else an opaque download.
/// Files that came by e-mail keep whatever type the sender declared, so this is where it is tamed.
pub fn served_type(stored: &str) -> &'static str {
    let t = stored.trim().to_ascii_lowercase();
    if let Some(known) = SERVABLE.iter().find(|k| **k == t) {
        return known;
    }
    let essence = t.split(';').next().unwrap_or("").trim();
    if essence == TEXT {
        return TEXT;
    }
    SERVABLE
        .iter()
        .find(|k| **k == essence && !k.starts_with("text/"))
        .copied()
        .unwrap_or(OCTET_STREAM)
}

/// Removes unattached uploads older than a day (rows and files) and upload leftovers of a crash.
/// Returns how many uploads expired.
pub async fn expire_uploads(state: &AppState, now_us: i64) -> anyhow::Result<usize> {
    let dir = state.config.files_dir();
    let ids = state.store.expire_uploads(now_us).await?;
    crate::file_store::FileStore::of(&state.store, &state.config)
        .delete(&ids)
        .await?;
    let cutoff = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_micros(
            (now_us - crate::storage::UPLOAD_TTL_US)
                .max(0)
                .unsigned_abs(),
        );
    let mut entries = tokio::fs::read_dir(&dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let stale = entry.file_name().to_string_lossy().starts_with(TMP_PREFIX)
            && entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff);
        if stale {
            remove_quietly(&entry.path()).await;
        }
    }
    Ok(ids.len())
}

async fn remove_quietly(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "could not remove a file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        // A stored (uncompressed) zip, enough to test detection.
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for (name, data) in entries {
            let offset = out.len() as u32;
            let mut h = b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            let mut c = b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(&(name.len() as u16).to_le_bytes());
            c.extend_from_slice(&[0; 12]);
            c.extend_from_slice(&offset.to_le_bytes());
            c.extend_from_slice(name.as_bytes());
            cd.extend_from_slice(&c);
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&cd);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn images_and_pdfs_are_known_by_their_first_bytes() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "schermata.png"),
            Ok(PNG)
        );
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF", "foto.JPG"), Ok(JPEG));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0", "x.gif"), Ok(GIF));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 ", "x.webp"), Ok(WEBP));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "IMG_0001.HEIC"),
            Ok(HEIC)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1miaf", "x.heif"),
            Ok(HEIF)
        );
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "fattura.pdf"),
            Ok(PDF)
        );
        // The name does not matter when it has no extension we know.
        assert_eq!(sniff(b"%PDF-1.4\n", "fattura"), Ok(PDF));
    }

    #[test]
    fn avif_videos_and_unknown_binaries_are_not_on_the_list() {
        assert_eq!(
            sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", "x.heic")
                .unwrap_err()
                .code,
            "type_mismatch"
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2", "video.mp4")
                .unwrap_err()
                .code,
            "type_unknown"
        );
        assert_eq!(
            sniff(b"\x1f\x8b\x08\0\0\0\0\0", "backup.tar.gz")
                .unwrap_err()
                .code,
            "type_unknown"
        );
    }

    #[test]
    fn text_is_utf8_or_latin1_without_nul() {
        assert_eq!(
            sniff(
                "errore: connessione rifiutata — riprovo\n".as_bytes(),
                "error.log"
            ),
            Ok(TEXT_UTF8)
        );
        assert_eq!(sniff(b"citt\xe0 di Bergamo\r\n", "note.txt"), Ok(TEXT));
        assert_eq!(sniff(b"\x1b[31mERRORE\x1b[0m\n", "build"), Ok(TEXT_UTF8));
        assert_eq!(
            sniff(b"abc\0def", "note.txt").unwrap_err().code,
            "type_mismatch"
        );
        assert_eq!(
            sniff(b"abc\x01def", "dati").unwrap_err().code,
            "type_unknown"
        );
    }

    #[test]
    fn utf8_split_across_chunks_is_still_utf8() {
        let text = "perché così è più già".as_bytes();
        for cut in 0..text.len() {
            let mut s = Sniffer::default();
            s.feed(&text[..cut]);
            s.feed(&text[cut..]);
            assert_eq!(s.finish("a.txt", &[]), Ok(TEXT_UTF8), "cut at {cut}");
        }
        let mut s = Sniffer::default();
        s.feed("perch".as_bytes());
        s.feed(b"\xc3");
        assert_eq!(
            s.finish("a.txt", &[]),
            Ok(TEXT),
            "a truncated sequence is not UTF-8"
        );
    }

    #[test]
    fn html_and_svg_are_refused_whatever_their_name() {
        let html = b"<!DOCTYPE html><html><script>alert(1)</script>";
        let err = sniff(html, "foto.png").unwrap_err();
        assert_eq!(err.code, "type_mismatch");
        assert!(
            err.to_string()
                .contains("il contenuto non è un'immagine PNG"),
            "{err}"
        );
        assert!(err.to_string().contains("HTML"), "{err}");
        assert_eq!(sniff(html, "pagina").unwrap_err().code, "type_forbidden");
        assert_eq!(sniff(html, "pagina.txt").unwrap_err().code, "type_mismatch");
        assert_eq!(sniff(b"  <P>ciao", "x").unwrap_err().code, "type_forbidden");
        let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
        assert!(sniff(svg, "logo.png")
            .unwrap_err()
            .to_string()
            .contains("SVG"));
        assert_eq!(sniff(svg, "logo").unwrap_err().code, "type_forbidden");
        assert_eq!(
            sniff(b"plain words", "pagina.html").unwrap_err().code,
            "type_forbidden"
        );
        assert_eq!(
            sniff(b"alert(1)", "x.js").unwrap_err().code,
            "type_forbidden"
        );
        // A configuration file in XML, and a log that mentions tags, are text.
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><config/>", "web.config"),
            Ok(TEXT_UTF8)
        );
        assert_eq!(
            sniff(b"GET /?q=<script>alert(1)</script> 404\n", "access.log"),
            Ok(TEXT_UTF8)
        );
        assert_eq!(sniff(b"<abc>", "x"), Ok(TEXT_UTF8));
    }

    #[test]
    fn executables_are_refused() {
        assert_eq!(
            sniff(b"MZ\x90\0\x03\0\0\0", "setup").unwrap_err().code,
            "type_forbidden"
        );
        assert_eq!(
            sniff(b"\x7fELF\x02\x01\x01", "fattura.pdf")
                .unwrap_err()
                .code,
            "type_mismatch"
        );
        assert_eq!(
            sniff(b"MZ\x90\0", "foto.png.exe").unwrap_err().code,
            "type_forbidden"
        );
    }

    #[test]
    fn zips_and_office_documents_are_told_apart() {
        let plain = zip(&[("a.txt", b"ciao")]);
        assert_eq!(sniff(&plain, "log.zip"), Ok(ZIP));
        assert_eq!(
            sniff(&plain, "lettera.docx").unwrap_err().code,
            "type_mismatch"
        );
        let docx = zip(&[
            ("_rels/.rels", b"x"),
            ("word/document.xml", b"x"),
            ("[Content_Types].xml", b"x"),
        ]);
        assert_eq!(sniff(&docx, "lettera.docx"), Ok(DOCX));
        assert_eq!(sniff(&docx, "lettera.zip"), Ok(DOCX));
        assert!(sniff(&docx, "conti.xlsx")
            .unwrap_err()
            .to_string()
            .contains("Excel"));
        let xlsx = zip(&[("[Content_Types].xml", b"x"), ("xl/workbook.xml", b"x")]);
        assert_eq!(sniff(&xlsx, "conti.xlsx"), Ok(XLSX));
        let odt = zip(&[("mimetype", ODT.as_bytes()), ("content.xml", b"x")]);
        assert_eq!(sniff(&odt, "lettera.odt"), Ok(ODT));
        assert_eq!(sniff(&odt, "lettera"), Ok(ODT));
        // Only the first 64 KiB: the local headers are walked instead of the central directory.
        let mut s = Sniffer::default();
        s.feed(&xlsx[..xlsx.len() - 30]);
        assert_eq!(s.finish("conti.xlsx", &[]), Ok(XLSX));
    }

    #[test]
    fn saved_emails_are_recognised_by_their_headers() {
        let eml = b"Return-Path: <a@b.it>\r\nReceived: from x\r\n\tby y\r\nFrom: A <a@b.it>\r\nSubject: ciao\r\n\r\ncorpo\r\n";
        assert_eq!(sniff(eml, "messaggio.eml"), Ok(EML));
        assert_eq!(sniff(eml, "messaggio"), Ok(EML));
        assert_eq!(sniff(eml, "messaggio.txt"), Ok(TEXT_UTF8));
        assert_eq!(
            sniff(b"Nota: da fare\naltro\n", "nota.eml")
                .unwrap_err()
                .code,
            "type_mismatch"
        );
    }

    #[test]
    fn no_input_makes_detection_panic() {
        let docx = zip(&[("[Content_Types].xml", b"x"), ("word/document.xml", b"x")]);
        let odt = zip(&[("mimetype", ODT.as_bytes())]);
        let mut x: u32 = 7;
        let mut noise = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect()
        };
        for base in [&docx, &odt] {
            for cut in 0..base.len() {
                let _ = sniff(&base[..cut], "a.docx");
                let _ = sniff(&base[cut..], "a");
                // Corrupt one byte at a time: sizes and offsets pointing anywhere.
                let mut bad = base.clone();
                bad[cut] ^= 0xff;
                let _ = sniff(&bad, "a.zip");
            }
        }
        for n in 0..2000 {
            let mut bytes = noise(n % 300);
            let magic: &[&[u8]] = &[
                b"PK\x03\x04",
                b"\0\0\0\x08ftyp",
                b"RIFF",
                b"<?xml",
                b"From ",
            ];
            if let Some(m) = magic.get(n % 7) {
                bytes.splice(0..0, m.iter().copied());
            }
            let _ = sniff(&bytes, "x.png");
            let _ = sniff(&bytes, "");
        }
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert_eq!(sniff(b"", "vuoto.txt").unwrap_err().code, "empty");
    }

    #[test]
    fn names_lose_folders_controls_and_bidi_and_keep_their_extension() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(
            clean_name(&form_data_file_name("preventivo %22finale%22.pdf")),
            "preventivo \"finale\".pdf"
        );
        assert_eq!(
            clean_name(&form_data_file_name("riga%0D%0Adue.txt")),
            "riga due.txt"
        );
        assert_eq!(
            clean_name("C:\\Users\\mario\\Desktop\\fattura.pdf"),
            "fattura.pdf"
        );
        assert_eq!(clean_name("fattura\u{202E}fdp.exe"), "fatturafdp.exe");
        assert_eq!(clean_name("a\0b.txt"), "ab.txt");
        assert_eq!(clean_name(""), "allegato");
        assert_eq!(clean_name(".."), "allegato");
        assert_eq!(clean_name("foto/"), "allegato");
        assert_eq!(clean_name("  nota.txt.  "), "nota.txt");
        let long = format!("{}.png", "è".repeat(300));
        let short = clean_name(&long);
        assert_eq!(short.chars().count(), NAME_MAX_CHARS);
        assert!(short.ends_with("è.png"));
    }

    #[test]
    fn content_disposition_has_an_ascii_fallback_and_the_exact_name() {
        let v = content_disposition("perché \"io\".pdf");
        assert_eq!(
            v.to_str().unwrap(),
            "attachment; filename=\"perche _io_.pdf\"; filename*=UTF-8''perch%C3%A9%20%22io%22.pdf"
        );
        let v = content_disposition("日本.txt\r\nX-Evil: 1");
        assert!(v
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"__.txt X-Evil: 1\""));
    }

    #[test]
    fn only_accepted_types_are_served_as_such() {
        assert_eq!(served_type("image/png"), PNG);
        assert_eq!(served_type("Text/Plain; charset=UTF-8"), TEXT_UTF8);
        assert_eq!(served_type("text/plain; charset=iso-8859-1"), TEXT);
        assert_eq!(served_type("text/html"), OCTET_STREAM);
        assert_eq!(served_type("image/svg+xml"), OCTET_STREAM);
        assert_eq!(served_type("application/pdf; name=x.pdf"), PDF);
    }
}
