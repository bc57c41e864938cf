//! Ticket codes (`FPL-809-43017`): their format, generation from random bits, and finding one in a subject.

use std::fmt;

/// A well-formed ticket code. A code identifies a ticket; it never authorises anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketCode(String);

/// Letter triples a customer must never see at the start of their ticket code.
const OFFENSIVE: &[&str] = &[
    "ASS", "CAZ", "CUL", "DIO", "FAG", "FIC", "FIG", "FUC", "FUK", "GAY", "KKK", "NAZ", "NEG",
    "PIS", "POR", "PUT", "SEX", "SSS", "STR", "TET", "TIT", "TRO", "VAC", "WTF", "ANO", "PEN",
    "MER", "CAC",
];

impl TicketCode {
    /// Parses exactly `AAA-999-99999` (letters in either case; stored upper-case).
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.trim().as_bytes();
        if b.len() == 13 && Self::matches_at(b, 0) {
            Some(Self(s.trim().to_ascii_uppercase()))
        } else {
            None
        }
    }

    /// Builds a code from 64 random bits; `None` when the letters would spell something
    /// offensive (the caller draws again).
    pub fn from_random(mut r: u64) -> Option<Self> {
        let mut s = String::with_capacity(13);
        for _ in 0..3 {
            s.push((b'A' + (r % 26) as u8) as char);
            r /= 26;
        }
        if OFFENSIVE.contains(&s.as_str()) {
            return None;
        }
        s.push('-');
        for _ in 0..3 {
            s.push((b'0' + (r % 10) as u8) as char);
            r /= 10;
        }
        s.push('-');
        for _ in 0..5 {
            s.push((b'0' + (r % 10) as u8) as char);
            r /= 10;
        }
        Some(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Finds a ticket code anywhere in a subject, whatever `Re:`, `R:`, `RIF:`, `Fwd:`, `I:`, `TR:`
    /// prefixes or brackets were added around it. A code bracketed as we write it (`[#…]`) wins
    /// over a bare one.
    pub fn find_in(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let mut bare = None;
        let mut i = 0;
        while i + 13 <= b.len() {
            let boundary_before = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            let boundary_after = i + 13 == b.len() || !b[i + 13].is_ascii_alphanumeric();
            if boundary_before && boundary_after && Self::matches_at(b, i) {
                let code = Self(text[i..i + 13].to_ascii_uppercase());
                if i >= 2 && &b[i - 2..i] == b"[#" {
                    return Some(code);
                }
                if bare.is_none() {
                    bare = Some(code);
                }
                i += 13;
            } else {
                i += 1;
            }
        }
        bare
    }

    fn matches_at(b: &[u8], i: usize) -> bool {
        let shape = b"AAA-999-99999";
        shape.iter().enumerate().all(|(k, want)| {
            let c = b[i + k];
            match want {
                b'A' => c.is_ascii_alphabetic(),
                b'9' => c.is_ascii_digit(),
                _ => c == b'-',
            }
        })
    }
}

/// What is not a ticket code (an address such as `/tickets/abc`, a path segment of the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotATicketCode;

impl fmt::Display for NotATicketCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a ticket code (AAA-999-99999)")
    }
}

impl std::error::Error for NotATicketCode {}

impl std::str::FromStr for TicketCode {
    type Err = NotATicketCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or(NotATicketCode)
    }
}

impl fmt::Display for TicketCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The subject of every e-mail about a ticket: `[#FPL-809-43017]: subject`.
pub fn mail_subject(code: &TicketCode, subject: &str) -> String {
    let mut s = String::with_capacity(subject.len() + 17);
    s.push_str("[#");
    s.push_str(code.as_str());
    s.push_str("]: ");
    s.push_str(subject);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_code_parses_and_is_kept_upper_case() {
        assert_eq!(
            TicketCode::parse("fpl-809-43017").unwrap().as_str(),
            "FPL-809-43017"
        );
        assert!(TicketCode::parse("FPL-809-4301").is_none());
        assert!(TicketCode::parse("FP1-809-43017").is_none());
        assert!(TicketCode::parse("FPL_809-43017").is_none());
        assert!(TicketCode::parse("").is_none());
    }

    #[test]
    fn random_bits_make_codes_of_the_right_shape_and_never_offensive_ones() {
        let mut seen = 0;
        for r in (0..200_000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) {
            if let Some(code) = TicketCode::from_random(r) {
                assert!(TicketCode::parse(code.as_str()).is_some(), "{code}");
                assert!(!OFFENSIVE.contains(&&code.as_str()[..3]));
                seen += 1;
            }
        }
        assert!(seen > 190_000);
    }

    #[test]
    fn the_code_is_found_whatever_prefixes_a_mailer_added() {
        for subject in [
            "[#FPL-809-43017]: sito lento",
            "Re: [#FPL-809-43017]: sito lento",
            "R: RIF: I: [#FPL-809-43017]: sito lento",
            "TR: Fwd: AW: [#fpl-809-43017]: sito lento",
            "Re:[#FPL-809-43017]",
            "risposta al ticket FPL-809-43017 grazie",
        ] {
            assert_eq!(
                TicketCode::find_in(subject)
                    .map(|c| c.to_string())
                    .as_deref(),
                Some("FPL-809-43017"),
                "{subject}"
            );
        }
    }

    #[test]
    fn look_alikes_are_not_codes() {
        for subject in [
            "ABCD-809-43017",
            "FPL-809-430171",
            "FPL-809-4301",
            "ordine 809-43017",
            "",
        ] {
            assert_eq!(TicketCode::find_in(subject), None, "{subject}");
        }
    }

    #[test]
    fn a_bracketed_code_wins_over_a_bare_one() {
        let s = "Re: ABC-123-45678 vedi [#FPL-809-43017]: altro";
        assert_eq!(TicketCode::find_in(s).unwrap().as_str(), "FPL-809-43017");
    }

    #[test]
    fn non_ascii_subjects_do_not_confuse_the_scan() {
        assert_eq!(
            TicketCode::find_in("è àé FPL-809-43017 ù")
                .unwrap()
                .as_str(),
            "FPL-809-43017"
        );
        assert_eq!(TicketCode::find_in("ééééééééééééééé"), None);
    }

    #[test]
    fn mail_subjects_carry_the_code_in_brackets() {
        let c = TicketCode::parse("FPL-809-43017").unwrap();
        assert_eq!(
            mail_subject(&c, "Sito lento"),
            "[#FPL-809-43017]: Sito lento"
        );
    }
}
