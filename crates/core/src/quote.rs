//! Quoted text and signatures in e-mail and web messages, so that the thread can fold them.
//!
//! Line-based: a body is cut only at line ends, so segments are always valid UTF-8 slices and
//! concatenate back to the body byte for byte (CRLF included).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// What the author wrote now.
    Text,
    /// Text quoted from earlier messages (with its attribution line).
    Quoted,
    /// A signature block.
    Signature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub kind: SegmentKind,
    pub text: &'a str,
}

/// Splits a message body into consecutive segments; concatenated they give back the body.
///
/// Segments are never empty and two neighbours never have the same kind; an empty body has no
/// segments at all.
pub fn segments(body: &str) -> Vec<Segment<'_>> {
    let lines: Vec<Line<'_>> = split_lines(body);
    let kinds = classify(&lines);
    let mut out: Vec<Segment<'_>> = Vec::new();
    let mut seg_start = 0;
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        if last || kinds[i + 1] != kinds[i] {
            out.push(Segment {
                kind: kinds[i],
                text: &body[seg_start..line.end],
            });
            seg_start = line.end;
        }
    }
    out
}

/// One line of the body: `text` without its line ending, `end` the byte offset after the ending.
struct Line<'a> {
    text: &'a str,
    end: usize,
}

fn split_lines(body: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for raw in body.split_inclusive('\n') {
        let end = start + raw.len();
        lines.push(Line {
            text: raw.trim_end_matches(['\n', '\r']),
            end,
        });
        start = end;
    }
    lines
}

fn classify(lines: &[Line<'_>]) -> Vec<SegmentKind> {
    use SegmentKind::*;
    let n = lines.len();
    let mut kinds = vec![Text; n];
    let mut in_signature = false;
    let mut i = 0;
    while i < n {
        let text = lines[i].text;
        if is_quote_line(text) {
            kinds[i] = Quoted;
            in_signature = false;
            i += 1;
            continue;
        }
        if is_separator(text) || is_header_block(lines, i) {
            let start = rule_before(lines, i).unwrap_or(i);
            kinds[start..].fill(Quoted);
            break;
        }
        if let Some(len) = attribution_len(lines, i) {
            let next = (i + len..n)
                .find(|&j| !is_blank(lines[j].text))
                .unwrap_or(n);
            if next < n && is_quote_line(lines[next].text) {
                // Quoting with ">" (Gmail, Apple Mail, Thunderbird): the answer may go on below.
                kinds[i..next].fill(Quoted);
                in_signature = false;
                i = next;
                continue;
            }
            // An attribution above unmarked text: everything below it is the earlier message.
            kinds[i..].fill(Quoted);
            break;
        }
        if is_signature_dash(text) {
            in_signature = true;
        }
        kinds[i] = if in_signature { Signature } else { Text };
        i += 1;
    }
    join_blank_lines_to_quotes(lines, &mut kinds);
    mark_mobile_signatures(lines, &mut kinds);
    kinds
}

/// Blank lines between two quoted blocks, or after the last one, belong to the quote, so that a
/// quote folds as one piece.
fn join_blank_lines_to_quotes(lines: &[Line<'_>], kinds: &mut [SegmentKind]) {
    let n = lines.len();
    let mut i = 0;
    while i < n {
        if kinds[i] != SegmentKind::Text || !is_blank(lines[i].text) {
            i += 1;
            continue;
        }
        let run_end = (i..n)
            .find(|&j| kinds[j] != SegmentKind::Text || !is_blank(lines[j].text))
            .unwrap_or(n);
        let quoted_before = i > 0 && kinds[i - 1] == SegmentKind::Quoted;
        let quoted_after = run_end == n || kinds[run_end] == SegmentKind::Quoted;
        if quoted_before && quoted_after {
            kinds[i..run_end].fill(SegmentKind::Quoted);
        }
        i = run_end;
    }
}

/// "Inviato da iPhone" and the like, when they are the last thing the author wrote.
fn mark_mobile_signatures(lines: &[Line<'_>], kinds: &mut [SegmentKind]) {
    let n = lines.len();
    for i in 0..n {
        if kinds[i] != SegmentKind::Text || !is_mobile_signature(lines[i].text) {
            continue;
        }
        let end = (i + 1..n)
            .find(|&j| kinds[j] != SegmentKind::Text || !is_blank(lines[j].text))
            .unwrap_or(n);
        if end == n || kinds[end] != SegmentKind::Text {
            kinds[i..end].fill(SegmentKind::Signature);
        }
    }
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn is_quote_line(text: &str) -> bool {
    text.trim_start().starts_with('>')
}

/// The sig-dash line of RFC 3676 ("-- "); many mailers drop its trailing space.
fn is_signature_dash(text: &str) -> bool {
    text == "-- " || text == "--" || text == "--\u{a0}"
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

const MOBILE_SIGNATURES: &[&str] = &[
    "enviado desde mi ",
    "envoyé de mon ",
    "get outlook for ",
    "inviato da ",
    "inviato dal mio ",
    "ottieni outlook per ",
    "scarica outlook per ",
    "sent from my ",
    "sent from ",
    "von meinem ",
];

fn is_mobile_signature(text: &str) -> bool {
    let t = text.trim();
    t.len() <= 80
        && MOBILE_SIGNATURES
            .iter()
            .any(|p| starts_with_ignore_case(t, p))
}

/// Outlook's "-----Messaggio originale-----" and forwarding separators, whatever dashes surround them.
fn is_separator(text: &str) -> bool {
    const NAMES: &[&str] = &[
        "forwarded message",
        "message d'origine",
        "message transféré",
        "messaggio inoltrato",
        "messaggio originale",
        "mensaje original",
        "original message",
        "ursprüngliche nachricht",
    ];
    const APPLE: &[&str] = &["begin forwarded message:", "inizio messaggio inoltrato:"];
    let t = text.trim();
    if APPLE.iter().any(|a| t.eq_ignore_ascii_case(a)) {
        return true;
    }
    let has_rule = t.starts_with(['-', '_', '=']);
    let name = t.trim_matches(|c: char| c == '-' || c == '_' || c == '=' || c.is_whitespace());
    has_rule && NAMES.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// A line such as Outlook's "________________________________" above a header block.
fn rule_before(lines: &[Line<'_>], i: usize) -> Option<usize> {
    let j = (0..i).rev().find(|&j| !is_blank(lines[j].text))?;
    let t = lines[j].text.trim();
    let is_rule = t.len() >= 5 && t.chars().all(|c| c == '_' || c == '-' || c == '=');
    is_rule.then_some(j)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum HeaderKey {
    From,
    Date,
    To,
    Cc,
    Subject,
    Other,
}

/// The header name of a line such as "Da: …", "*From:* …" (Outlook's bold, flattened to text).
fn header_key(text: &str) -> Option<HeaderKey> {
    let t = text.trim_start().trim_start_matches('*');
    let colon = t.find(':')?;
    if colon > 24 {
        return None;
    }
    let name = t[..colon].trim().trim_end_matches('*').trim();
    let key = |names: &[&str]| names.iter().any(|n| name.eq_ignore_ascii_case(n));
    if key(&["da", "from", "de", "von"]) {
        Some(HeaderKey::From)
    } else if key(&[
        "inviato", "sent", "data", "date", "envoyé", "gesendet", "enviado",
    ]) {
        Some(HeaderKey::Date)
    } else if key(&["a", "to", "à", "an", "para", "per"]) {
        Some(HeaderKey::To)
    } else if key(&["cc", "ccn", "bcc", "cci"]) {
        Some(HeaderKey::Cc)
    } else if key(&[
        "oggetto", "subject", "objet", "betreff", "asunto", "assunto",
    ]) {
        Some(HeaderKey::Subject)
    } else if key(&[
        "reply-to",
        "rispondi a",
        "importanza",
        "importance",
        "priorità",
    ]) {
        Some(HeaderKey::Other)
    } else {
        None
    }
}

/// Outlook's "Da: … Inviato: … A: … Oggetto: …" (or From/Sent/To/Subject) above the earlier message.
fn is_header_block(lines: &[Line<'_>], i: usize) -> bool {
    if header_key(lines[i].text) != Some(HeaderKey::From) {
        return false;
    }
    let (mut date, mut to, mut subject) = (false, false, false);
    for line in lines.iter().skip(i + 1).take(10) {
        match header_key(line.text) {
            Some(HeaderKey::Date) => date = true,
            Some(HeaderKey::To) => to = true,
            Some(HeaderKey::Subject) => subject = true,
            Some(HeaderKey::Cc | HeaderKey::Other) => {}
            // A long recipient list wraps onto indented lines.
            _ if line.text.starts_with([' ', '\t']) && !is_blank(line.text) => {}
            _ => break,
        }
    }
    subject && (date || to)
}

const ATTRIBUTION_STARTS: &[&str] = &[
    "am ",
    "el ",
    "em ",
    "il giorno ",
    "il ",
    "in data ",
    "le ",
    "on ",
];
const ATTRIBUTION_ENDS: &[&str] = &[
    "a écrit :",
    "a écrit:",
    "escreveu:",
    "escribió:",
    "ha scritto :",
    "ha scritto:",
    "schrieb:",
    "wrote:",
];

/// "Il giorno … ha scritto:", "On … wrote:" and their kin, over up to three wrapped lines: the
/// number of lines it takes. A date or an address in it tells it apart from a sentence.
fn attribution_len(lines: &[Line<'_>], i: usize) -> Option<usize> {
    let first = lines[i].text.trim_start();
    if !ATTRIBUTION_STARTS
        .iter()
        .any(|p| starts_with_ignore_case(first, p))
    {
        return None;
    }
    let mut total = 0;
    let mut has_date_or_address = false;
    for (k, line) in lines.iter().enumerate().skip(i).take(3) {
        let t = line.text.trim();
        if k > i && (t.is_empty() || is_quote_line(t)) {
            return None;
        }
        total += t.len();
        if total > 300 {
            return None;
        }
        has_date_or_address |= t.bytes().any(|b| b.is_ascii_digit() || b == b'@');
        if ATTRIBUTION_ENDS.iter().any(|e| ends_with_ignore_case(t, e)) {
            return has_date_or_address.then_some(k - i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use SegmentKind::*;

    fn kinds(body: &str) -> Vec<(SegmentKind, &str)> {
        segments(body)
            .into_iter()
            .map(|s| (s.kind, s.text))
            .collect()
    }

    #[test]
    fn an_empty_body_has_no_segments() {
        assert!(segments("").is_empty());
    }

    #[test]
    fn a_plain_message_is_one_text_segment() {
        let body = "Buongiorno,\nil sito è lento.\nGrazie";
        assert_eq!(kinds(body), [(Text, body)]);
    }

    #[test]
    fn a_greater_than_sign_inside_a_line_is_not_a_quote() {
        let body = "Il carico è > 90% da ieri\nPHP -> 8.2 non va\n";
        assert_eq!(kinds(body), [(Text, body)]);
    }

    #[test]
    fn wrote_in_a_sentence_is_not_an_attribution() {
        let body =
            "On Monday my colleague wrote: the site was down.\nIl tecnico ha scritto: riavviate.\n";
        assert_eq!(kinds(body), [(Text, body)]);
        let body = "On the old server we wrote:\nnothing was wrong\n";
        assert_eq!(kinds(body), [(Text, body)]);
    }

    #[test]
    fn a_signature_dash_starts_a_signature() {
        let body = "Va tutto bene.\n-- \nMario Rossi\nPizzeria da Mario\n";
        assert_eq!(
            kinds(body),
            [
                (Text, "Va tutto bene.\n"),
                (Signature, "-- \nMario Rossi\nPizzeria da Mario\n")
            ]
        );
    }

    #[test]
    fn a_mobile_signature_only_counts_as_the_last_line() {
        let body = "Inviato da me ieri il file\ned ecco il resto.\n";
        assert_eq!(kinds(body), [(Text, body)]);
        let body = "Ok grazie\n\nInviato da iPhone\n\n";
        assert_eq!(
            kinds(body),
            [
                (Text, "Ok grazie\n\n"),
                (Signature, "Inviato da iPhone\n\n")
            ]
        );
    }

    #[test]
    fn blank_lines_between_quotes_fold_with_them() {
        let body = "sì\n\n> uno\n\n> due\n\n";
        assert_eq!(
            kinds(body),
            [(Text, "sì\n\n"), (Quoted, "> uno\n\n> due\n\n")]
        );
    }
}
