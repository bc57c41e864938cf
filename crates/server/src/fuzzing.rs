//! The bodies of the fuzz targets (`crates/server/fuzz`), shared with the stable test that replays
//! their corpora (`tests/security/fuzz_replay.rs`), so that both run exactly the same checks.
//!
//! Each takes any bytes. Beyond "no panic, no hang", each asserts a property the rest of the
//! server relies on; a failed assertion is a crash to the fuzzer and a failed test to the replay.

use crate::files::{self, Sniffer};
use crate::mail::{auth, parse, smtp, MAX_RAW_BYTES};
use helpdesk_core::api::{Channel, Department, Service, ServiceFamily, ServiceStatus, Verdict};
use helpdesk_core::code::{mail_subject, TicketCode};
use helpdesk_core::lang::Lang;
use helpdesk_core::quote::segments;
use helpdesk_core::subject::{assess, hint_codes, SubjectContext, GOOD_MIN_SCORE, WEAK_MIN_SCORE};
use helpdesk_core::{mentions, text};
use std::borrow::Cow;

/// One fuzz target: its name (the `[[bin]]` in `fuzz/Cargo.toml`, its corpus folder) and body.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "ingest",
        run: ingest,
    },
    Target {
        name: "subject",
        run: subject,
    },
    Target {
        name: "quote",
        run: quote,
    },
    Target {
        name: "code",
        run: code,
    },
    Target {
        name: "mentions",
        run: mention,
    },
    Target {
        name: "text",
        run: clean_text,
    },
    Target {
        name: "upload",
        run: upload,
    },
    Target {
        name: "smtp_data",
        run: smtp_data,
    },
    Target {
        name: "sign_on",
        run: sign_on,
    },
    Target {
        name: "tnef",
        run: tnef,
    },
];

fn lossy(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Services of every family with names that overlap (a domain and its hosting, `vps-1` and
/// `vps-12`, a product held twice), so that the rules' tie-breaking is exercised.
fn services() -> Vec<Service> {
    let s = |id: &str, family, product: &str, identifier: &str| Service {
        panel_id: None,
        id: id.into(),
        family,
        product: product.into(),
        identifier: identifier.into(),
        status: ServiceStatus::Active,
    };
    vec![
        s(
            "1",
            ServiceFamily::HostingShared,
            "Hosting WordPress",
            "mario.it",
        ),
        s("2", ServiceFamily::Domain, "Dominio .it", "mario.it"),
        s(
            "3",
            ServiceFamily::Domain,
            "Dominio .com",
            "pizzeria-da-mario.com",
        ),
        s("4", ServiceFamily::Cronuscloud, "CronusVPS", "vps-1"),
        s("5", ServiceFamily::Cronuscloud, "CronusVPS", "vps-12"),
        s("6", ServiceFamily::Colocation, "Colocation 1U", "rack-7"),
        s(
            "7",
            ServiceFamily::Dedicated,
            "Server dedicato",
            "srv-ä.example",
        ),
    ]
}

/// Any bytes as an incoming e-mail: parsing, HTML conversion and the reading of
/// Authentication-Results. Panics inside the MIME parser are caught by `parse::analyse` (the
/// message is then recorded as malformed); only what escapes it counts.
pub fn ingest(data: &[u8]) {
    for complete in [true, false] {
        let a = parse::analyse(data, complete);
        let from = a
            .from
            .iter()
            .flatten()
            .next()
            .map(String::as_str)
            .unwrap_or("");
        let _ =
            auth::verdict_from_headers(&a.auth_results, "mx.smacloud.it", auth::domain_of(from));
        let subject = parse::ticket_subject(&a.subject);
        assert!(text::is_single_line(&a.subject), "subject {:?}", a.subject);
        assert!(
            !subject.contains(['\n', '\r']),
            "ticket subject {subject:?}"
        );
        assert!(!a.body.contains('\r'), "body keeps a CR");
        for file in &a.attachments {
            assert!(
                text::is_single_line(&file.name),
                "attachment {:?}",
                file.name
            );
            assert!(!file.name.is_empty() && !file.name.contains(['/', '\\']));
        }
    }
    if let Ok(html) = std::str::from_utf8(data) {
        let _ = parse::html_to_text(html);
    }
}

/// The subject rule, in every context and language: the score lies in its verdict's band and
/// the hints are at most three known codes, each with a sentence whose placeholders are filled.
pub fn subject(data: &[u8]) {
    let s = lossy(data);
    let services = services();
    for department in [None, Some(Department::Helpdesk), Some(Department::Sales)] {
        for channel in [Channel::Web, Channel::Email] {
            for chosen in [None, services.first()] {
                for lang in Lang::ALL {
                    let a = assess(
                        &s,
                        &SubjectContext {
                            department,
                            chosen_service: chosen,
                            services: &services,
                            channel,
                            lang,
                        },
                    );
                    let band = match a.verdict {
                        Verdict::Generic => 0..WEAK_MIN_SCORE,
                        Verdict::Weak => WEAK_MIN_SCORE..GOOD_MIN_SCORE,
                        Verdict::Good => GOOD_MIN_SCORE..101,
                    };
                    assert!(band.contains(&a.score), "{a:?}");
                    assert!(a.hints.len() <= 3, "{a:?}");
                    for h in &a.hints {
                        assert!(hint_codes().contains(&h.code.as_str()), "{h:?}");
                        assert!(!h.message.trim().is_empty(), "{h:?}");
                    }
                }
            }
        }
    }
}

/// Quoted-text folding: the segments give back the body byte for byte, none is empty and two
/// neighbours never have the same kind.
pub fn quote(data: &[u8]) {
    let body = lossy(data);
    let segs = segments(&body);
    let joined: String = segs.iter().map(|s| s.text).collect();
    assert_eq!(joined, body);
    assert!(segs.iter().all(|s| !s.text.is_empty()));
    assert!(segs.windows(2).all(|w| w[0].kind != w[1].kind));
}

/// Ticket codes: what parses is the canonical upper-case form and parses again; what is found in
/// a text is really there; the code we write into a subject is the one found back in it,
/// whatever the rest of the subject says.
pub fn code(data: &[u8]) {
    let s = lossy(data);
    if let Some(c) = TicketCode::parse(&s) {
        assert_eq!(c.as_str(), s.trim().to_ascii_uppercase());
        assert_eq!(TicketCode::parse(c.as_str()).as_ref(), Some(&c));
    }
    if let Some(c) = TicketCode::find_in(&s) {
        assert_eq!(TicketCode::parse(c.as_str()).as_ref(), Some(&c));
        assert!(s.to_ascii_uppercase().contains(c.as_str()), "{c}");
    }
    if let Some(head) = data.get(..8) {
        let mut bits = [0u8; 8];
        bits.copy_from_slice(head);
        if let Some(c) = TicketCode::from_random(u64::from_le_bytes(bits)) {
            assert_eq!(TicketCode::parse(c.as_str()).as_ref(), Some(&c));
            let rest = lossy(&data[8..]);
            assert_eq!(TicketCode::find_in(&mail_subject(&c, &rest)), Some(c));
        }
    }
}

/// Which services a text names: each at most once, in the customer's order; the one chosen for a
/// ticket is among them.
pub fn mention(data: &[u8]) {
    let s = lossy(data);
    let services = services();
    let named = mentions::services_named_in(&s, &services);
    let mut at = 0;
    for n in &named {
        let i = services
            .iter()
            .position(|s| std::ptr::eq(s, *n))
            .unwrap_or(usize::MAX);
        assert!(
            i >= at && i != usize::MAX,
            "not in order or not the customer's"
        );
        at = i + 1;
    }
    assert!(mentions::distinct_names(&named) <= named.len());
    for d in [Department::Helpdesk, Department::Sales] {
        if let Some(one) = mentions::service_for(&named, d) {
            assert!(named.iter().any(|n| std::ptr::eq(*n, one)));
        }
    }
}

/// The cleaning rule: cleaning twice changes nothing, nothing that could forge a log line or hide
/// text is left, a single line is trimmed with single spaces, and the two forms agree.
pub fn clean_text(data: &[u8]) {
    let s = lossy(data);
    let one = text::single_line(&s);
    let many = text::multi_line(&s);
    assert_eq!(text::single_line(&one), one);
    assert_eq!(text::multi_line(&many), many);
    assert_eq!(text::single_line(&many), one);
    assert!(!one.starts_with(' ') && !one.ends_with(' ') && !one.contains("  "));
    for (form, cleaned) in [("single", &one), ("multi", &many)] {
        for c in cleaned.chars() {
            let allowed_control = form == "multi" && (c == '\n' || c == '\t');
            assert!(
                allowed_control
                    || !(c.is_control()
                        || matches!(
                            c,
                            '\u{200B}'
                                | '\u{200E}'
                                | '\u{200F}'
                                | '\u{202A}'..='\u{202E}'
                                | '\u{2066}'..='\u{2069}'
                                | '\u{2028}'
                                | '\u{2029}'
                                | '\u{FEFF}'
                        )),
                "{form} line keeps {c:?}"
            );
        }
    }
}

/// An uploaded file: the first byte says how long its name is, the rest is the file. The verdict
/// on the file arriving in pieces (as an upload streams) is the verdict on the whole; the name
/// shown is one clean line without folders, stable when cleaned again; the download header is
/// always a valid attachment.
pub fn upload(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (name, bytes) = rest.split_at(usize::from(n).min(rest.len()));
    let name = lossy(name);
    let whole = files::sniff(bytes, &name);
    let piece = usize::from(n % 64) + 1;
    let mut sniffer = Sniffer::default();
    for chunk in bytes.chunks(piece) {
        sniffer.feed(chunk);
    }
    assert_eq!(sniffer.len(), bytes.len() as u64);
    // The upload handler reads the tail only when the head asks for it.
    let tail = if sniffer.wants_tail() {
        &bytes[bytes.len().saturating_sub(files::TAIL_LEN)..]
    } else {
        &[]
    };
    assert_eq!(sniffer.finish(&name, tail), whole, "in pieces of {piece}");
    if let Ok(t) = whole {
        assert_eq!(
            files::served_type(t),
            t,
            "an accepted type is served as itself"
        );
    }
    let shown = files::clean_name(&name);
    assert!(
        !shown.is_empty() && !shown.contains(['/', '\\']),
        "{shown:?}"
    );
    assert!(text::is_single_line(&shown), "{shown:?}");
    assert!(shown.chars().count() <= files::NAME_MAX_CHARS, "{shown:?}");
    assert_eq!(files::clean_name(&shown), shown);
    let header = files::content_disposition(&name);
    assert!(header.as_bytes().starts_with(b"attachment"));
}

fn is_break(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Bytes sent after `DATA`, read as the SMTP listener reads them (defect 5, SMTP smuggling): DATA
/// ends at the first `<CR><LF>.<CR><LF>` and nowhere else, so one DATA phase is never two
/// messages; a line holding only `.` next to a bare CR or LF, where a lenient reader would have
/// ended, refuses the message; what is kept is the data without its dot-stuffing.
pub fn smtp_data(data: &[u8]) {
    thread_local! {
        static RUNTIME: Option<tokio::runtime::Runtime> =
            tokio::runtime::Builder::new_current_thread().build().ok();
    }
    let Some(outcome) = RUNTIME.with(|rt| {
        rt.as_ref()
            .map(|rt| rt.block_on(smtp::data_phase_in_memory(data)))
    }) else {
        return;
    };
    // The DATA command's own CRLF comes first.
    let mut stream = b"\r\n".to_vec();
    let Some((consumed, kept, ambiguous)) = outcome else {
        stream.extend_from_slice(data);
        assert_eq!(find(&stream, b"\r\n.\r\n"), None, "DATA not ended");
        return;
    };
    stream.extend_from_slice(&data[..consumed]);
    assert_eq!(
        find(&stream, b"\r\n.\r\n"),
        Some(stream.len() - 5),
        "DATA ended elsewhere than at the first CRLF.CRLF"
    );
    let before_end = &stream[..stream.len() - 3];
    let lenient_end = before_end
        .windows(3)
        .any(|w| is_break(w[0]) && w[1] == b'.' && is_break(w[2]));
    assert_eq!(ambiguous, lenient_end, "a lone dot beside a bare CR or LF");
    let mut unstuffed = Vec::with_capacity(consumed);
    let mut prev = b'\n';
    for &b in &data[..consumed - 3] {
        if !(prev == b'\n' && b == b'.') {
            unstuffed.push(b);
        }
        prev = b;
    }
    unstuffed.truncate(MAX_RAW_BYTES);
    assert!(
        kept == unstuffed,
        "the message kept is not the data without dot-stuffing"
    );
}

/// The sign-on token (`sso::verify`). Any bytes as a token are refused without a panic, since
/// nobody without the secret can sign one. Any bytes that are JSON are also signed with the
/// secret as claims, so that the checks after the signature are reached: a token accepted has
/// our issuer, a jti, a lifetime within bounds and is neither expired nor issued in the future.
pub fn sign_on(data: &[u8]) {
    use crate::sso::{self, SsoConfig, LEEWAY_SECS, MAX_LIFETIME_SECS};
    const SECRET: &[u8] = b"a-shared-secret-of-the-panel-32-bytes-or-more";
    const NOW: i64 = 1_800_000_000;
    let config = SsoConfig {
        secrets: vec![SECRET.to_vec()],
        issuer: "panel.newmedialabs.it".into(),
    };
    assert!(sso::verify(&config, &lossy(data), NOW).is_err());
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(key) = jsonwebtoken::EncodingKey::from_secret(SECRET) else {
        return;
    };
    let Ok(token) = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key) else {
        return;
    };
    if let Ok(c) = sso::verify(&config, &token, NOW) {
        let leeway = LEEWAY_SECS as i128;
        let (iat, exp) = (i128::from(c.iat), i128::from(c.exp));
        assert_eq!(c.iss, config.issuer);
        assert!(exp + leeway >= i128::from(NOW), "expired: {c:?}");
        assert!(iat <= i128::from(NOW) + leeway, "from the future: {c:?}");
        assert!(
            exp - iat <= i128::from(MAX_LIFETIME_SECS),
            "lives too long: {c:?}"
        );
        assert!(!c.jti.trim().is_empty() && c.jti.len() <= 128, "{c:?}");
    }
}

/// Any bytes as Outlook's `winmail.dat` (`mail::tnef::decode`): no panic, and the files it
/// yields are pieces of the input, never more bytes than it holds.
pub fn tnef(data: &[u8]) {
    if let Ok(t) = crate::mail::tnef::decode(data) {
        let total: usize = t.files.iter().map(|f| f.data.len()).sum();
        assert!(
            total <= data.len(),
            "{total} bytes of files from {}",
            data.len()
        );
        assert!(t.files.len() <= 64);
    }
}
