//! Quoted text and signatures in e-mail replies, folded behind "mostra testo citato".
//! (Placeholder until the real detection lands.)

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
pub fn segments(body: &str) -> Vec<Segment<'_>> {
    vec![Segment { kind: SegmentKind::Text, text: body }]
}
