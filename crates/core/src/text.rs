//! Cleaning of text that comes from outside (web forms, e-mail, imports) before it is stored,
//! shown or logged: no control characters, no invisible or direction-changing characters.
//!
//! Two forms: [`single_line`] for subjects, names and file names, and [`multi_line`] for message
//! bodies. Both remove C0/C1 controls (NUL, ESC, DEL, ...), bidirectional embeddings, overrides,
//! isolates and marks (which make `fdp.exe` read as `exe.pdf`), zero-width characters (which hide
//! words from filters and from people), tag characters and the variation selectors that can carry
//! hidden bytes. The zero-width joiner U+200D is kept only between two pictographs, where it makes
//! one emoji of them (👩‍💻); anywhere else it goes. Subdivision flags, which are spelt with tag
//! characters, show as a plain black flag: keeping tags would let hidden ASCII through.

/// What a character becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Text,
    /// Ends a line: CR, LF, NEL, U+2028, U+2029.
    Break,
    /// Other white space (tab, no-break space, ...).
    Space,
    /// Removed.
    Hidden,
    /// U+200D: kept inside emoji sequences only.
    Joiner,
}

fn class(c: char) -> Class {
    match c {
        '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}' => Class::Break,
        '\t' => Class::Space,
        '\u{200D}' => Class::Joiner,
        // Vertical tab and form feed are white space to Rust but controls to a log or a terminal.
        c if c.is_control() => Class::Hidden,
        c if c.is_whitespace() => Class::Space,
        c if invisible(c) => Class::Hidden,
        _ => Class::Text,
    }
}

/// Format characters and fillers that show nothing but change how the text around them reads.
fn invisible(c: char) -> bool {
    let u = c as u32;
    matches!(
        u,
        0x00AD // soft hyphen
        | 0x034F // combining grapheme joiner
        | 0x061C // Arabic letter mark
        | 0x115F | 0x1160 | 0x3164 | 0xFFA0 // Hangul fillers, used as blank names
        | 0x17B4 | 0x17B5 // Khmer inherent vowels
        | 0x180B..=0x180F // Mongolian variation selectors and vowel separator
        | 0x200B | 0x200C | 0x200E | 0x200F // zero width space and non-joiner, LRM, RLM
        | 0x202A..=0x202E // embeddings and overrides
        | 0x2060..=0x2064 // word joiner, invisible operators
        | 0x2066..=0x206F // isolates and deprecated format characters
        | 0xFE00..=0xFE0D // variation selectors other than text/emoji presentation
        | 0xFEFF // byte order mark, zero width no-break space
        | 0xFFF9..=0xFFFB // interlinear annotation
        | 0xFDD0..=0xFDEF // noncharacters
        | 0x1BCA0..=0x1BCA3 // shorthand format controls
        | 0x1D173..=0x1D17A // musical format controls
        | 0xE0000..=0xE0FFF // tags and variation selectors supplement
    ) || u & 0xFFFE == 0xFFFE // noncharacters at the end of every plane
}

/// Characters an emoji ZWJ sequence joins: pictographs, and what may end one (presentation
/// selector, skin tones, which are in the pictograph block).
fn pictographic(c: char) -> bool {
    matches!(
        c as u32,
        0x2300..=0x23FF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x1F000..=0x1FAFF | 0xFE0F
    )
}

fn joins_emoji(before: Option<char>, after: Option<char>) -> bool {
    before.is_some_and(pictographic) && after.is_some_and(|c| c != '\u{FE0F}' && pictographic(c))
}

/// One line for subjects, names and file names: line breaks, tabs and every other kind of white
/// space become one space, runs of them collapse, both ends are trimmed; controls and invisible
/// characters are removed.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    let mut last: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match class(c) {
            Class::Text => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
                last = Some(c);
            }
            Class::Break | Class::Space => space = true,
            Class::Hidden => {}
            Class::Joiner => {
                if !space && joins_emoji(last, chars.peek().copied()) {
                    out.push(c);
                    last = None;
                }
            }
        }
    }
    out
}

/// A message body: line ends become `\n` (CRLF, CR, NEL and the Unicode line and paragraph
/// separators), tabs and other spaces stay, controls and invisible characters are removed.
/// Not trimmed: callers decide what to do with the ends.
pub fn multi_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match class(c) {
            Class::Text | Class::Space => {
                out.push(c);
                last = Some(c);
            }
            Class::Break => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    continue;
                }
                out.push('\n');
                last = Some('\n');
            }
            Class::Hidden => {}
            Class::Joiner => {
                if joins_emoji(last, chars.peek().copied()) {
                    out.push(c);
                    last = None;
                }
            }
        }
    }
    out
}

/// Whether a text is already as [`single_line`] would leave it.
pub fn is_single_line(s: &str) -> bool {
    single_line(s) == s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_line_has_no_controls_no_invisible_characters_and_one_space_between_words() {
        let table: &[(&str, &str)] = &[
            ("Errore 500 su mario.it", "Errore 500 su mario.it"),
            ("  sito\r\nlento  ", "sito lento"),
            (
                "riga uno\nINFO forged log line",
                "riga uno INFO forged log line",
            ),
            ("a\rb", "a b"),
            ("tab\tin\t\tmezzo", "tab in mezzo"),
            ("nul\0byte", "nulbyte"),
            ("escape \u{1b}[31mrosso\u{1b}[0m", "escape [31mrosso[0m"),
            ("del\u{7f} e c1\u{9b}", "del e c1"),
            ("nel\u{85}riga", "nel riga"),
            ("sep\u{2028}riga\u{2029}par", "sep riga par"),
            ("vt\u{b}ff\u{c}x", "vtffx"),
            ("fattura\u{202E}fdp.exe", "fatturafdp.exe"),
            ("\u{2066}isolato\u{2069} \u{202A}emb\u{202C}", "isolato emb"),
            ("lrm\u{200E}rlm\u{200F}alm\u{61C}", "lrmrlmalm"),
            (
                "zero\u{200B}width\u{200C}non\u{2060}joiner\u{FEFF}",
                "zerowidthnonjoiner",
            ),
            ("\u{FEFF}bom all'inizio", "bom all'inizio"),
            ("soft\u{AD}hyphen", "softhyphen"),
            ("\u{3164}", ""),
            ("\u{200B}\u{200B}", ""),
            ("  \r\n\t ", ""),
            ("no\u{A0}break\u{3000}ideographic", "no break ideographic"),
            ("tag\u{E0041}\u{E0042}ascii", "tagascii"),
            ("hidden\u{FE00}\u{E0100}bytes", "hiddenbytes"),
            ("nonchar\u{FFFE}\u{FFFF}\u{1FFFF}", "nonchar"),
            ("àèìòù ñ ß 中文 🙂", "àèìòù ñ ß 中文 🙂"),
            ("e\u{301}", "e\u{301}"),
            ("cuore ❤\u{FE0F}", "cuore ❤\u{FE0F}"),
        ];
        for (input, want) in table {
            assert_eq!(single_line(input), *want, "input {input:?}");
            assert!(is_single_line(want), "{want:?}");
        }
    }

    #[test]
    fn the_joiner_stays_inside_emoji_and_goes_everywhere_else() {
        let table: &[(&str, &str)] = &[
            ("👩\u{200D}💻", "👩\u{200D}💻"),
            ("🏳\u{FE0F}\u{200D}🌈", "🏳\u{FE0F}\u{200D}🌈"),
            ("👍🏽\u{200D}x", "👍🏽x"),
            ("❤\u{FE0F}\u{200D}🔥", "❤\u{FE0F}\u{200D}🔥"),
            ("a\u{200D}b", "ab"),
            ("👩\u{200D}\u{200D}💻", "👩\u{200D}💻"),
            ("👩\u{200D} 💻", "👩 💻"),
            ("\u{200D}💻", "💻"),
            ("👩\u{200D}", "👩"),
        ];
        for (input, want) in table {
            assert_eq!(single_line(input), *want, "input {input:?}");
            assert_eq!(multi_line(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn a_body_keeps_its_lines_and_tabs_and_loses_controls() {
        let table: &[(&str, &str)] = &[
            ("riga 1\r\nriga 2\r\n", "riga 1\nriga 2\n"),
            ("mac\rclassico\r\r", "mac\nclassico\n\n"),
            ("\r\n\r\n", "\n\n"),
            ("cr lf spezzati\r\r\n", "cr lf spezzati\n\n"),
            (
                "unicode\u{2028}riga\u{2029}par\u{85}nel",
                "unicode\nriga\npar\nnel",
            ),
            ("\tcodice\tindentato", "\tcodice\tindentato"),
            ("  spazi  intatti  ", "  spazi  intatti  "),
            (
                "nul\0 esc\u{1b}[2J bell\u{7} del\u{7f}",
                "nul esc[2J bell del",
            ),
            ("vt\u{b}ff\u{c}", "vtff"),
            ("fattura\u{202E}fdp.exe", "fatturafdp.exe"),
            ("zero\u{200B}width\u{FEFF}", "zerowidth"),
            ("> citato\n-- \nfirma", "> citato\n-- \nfirma"),
            ("", ""),
        ];
        for (input, want) in table {
            assert_eq!(multi_line(input), *want, "input {input:?}");
            assert_eq!(multi_line(want), *want, "cleaning twice changes {want:?}");
        }
    }

    #[test]
    fn cleaned_text_never_carries_a_character_that_could_forge_a_line_or_hide_text() {
        // Every character up to the end of the supplementary planes that matter, one at a time.
        for u in (0u32..0x3_0000).chain(0xE_0000..0xE_1000) {
            let Some(c) = char::from_u32(u) else { continue };
            let s = format!("a{c}b");
            for cleaned in [single_line(&s), multi_line(&s)] {
                for k in cleaned.chars() {
                    let bad = (k.is_control() && k != '\n' && k != '\t')
                        || matches!(k, '\u{2028}' | '\u{2029}' | '\u{200D}')
                        || invisible(k);
                    assert!(!bad, "U+{u:04X} left {k:?} in {cleaned:?}");
                }
            }
            assert!(!single_line(&s).contains(['\n', '\t']), "U+{u:04X}");
        }
    }
}
