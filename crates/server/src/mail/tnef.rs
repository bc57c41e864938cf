//! Outlook's `winmail.dat` (`application/ms-tnef`): the files and the text inside it. A small
//! defensive decoder (the one crate, `tnef` 0.1, is unmaintained since 2019 and drops any file
//! lacking one of six attributes): it reads the legacy attributes (`attAttachTitle`,
//! `attAttachData`, `attBody`) and the MAPI properties (`attAttachment`, `attMAPIProps`) that
//! carry the long file name and the data. No I/O, no panic on any input; every length is checked
//! against what is left, so nothing is allocated beyond the input but the names and the text.

/// The TNEF signature, little-endian.
const SIGNATURE: u32 = 0x223E_9F78;
const LEVEL_MESSAGE: u8 = 1;
const LEVEL_ATTACHMENT: u8 = 2;
// Attribute ids (the low 16 bits; the high 16 are the type).
const ATT_BODY: u16 = 0x800C;
const ATT_ATTACH_DATA: u16 = 0x800F;
const ATT_ATTACH_TITLE: u16 = 0x8010;
const ATT_ATTACH_REND_DATA: u16 = 0x9002;
const ATT_MAPI_PROPS: u16 = 0x9003;
const ATT_ATTACHMENT: u16 = 0x9005;
// MAPI properties.
const PR_BODY: u16 = 0x1000;
const PR_DISPLAY_NAME: u16 = 0x3001;
const PR_ATTACH_DATA: u16 = 0x3701;
const PR_ATTACH_FILENAME: u16 = 0x3704;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PT_STRING8: u16 = 0x001E;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;
const PT_OBJECT: u16 = 0x000D;
const MV_FLAG: u16 = 0x1000;
/// Files kept from one TNEF at most (the caller's limit of files per message applies after).
const MAX_FILES: usize = 64;
/// Properties read from one attribute at most.
const MAX_PROPS: usize = 4096;

/// What a TNEF holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tnef<'a> {
    pub files: Vec<TnefFile<'a>>,
    /// The message's plain text (`attBody` or `PR_BODY`), when there is one.
    pub body: Option<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct TnefFile<'a> {
    /// The best name: the long file name (MAPI), else the legacy title; `None` when neither.
    pub name: Option<String>,
    pub data: &'a [u8],
}

/// A TNEF that cannot be read: its original file is kept as it is.
#[derive(Debug, PartialEq, Eq)]
pub struct Damaged;

/// Reads a TNEF stream. `Err(Damaged)` when it is not one or is cut or corrupted (a checksum that
/// does not match, a length past the end).
pub fn decode(src: &[u8]) -> Result<Tnef<'_>, Damaged> {
    let mut r = Reader(src);
    if r.u32()? != SIGNATURE {
        return Err(Damaged);
    }
    r.u16()?; // the legacy key
    let mut out = Tnef::default();
    // The attachment being read: attAttachRendData starts one.
    let mut current: Option<Current<'_>> = None;
    while !r.0.is_empty() {
        let level = r.u8()?;
        let id = r.u32()?;
        let len = usize::try_from(r.u32()?).map_err(|_| Damaged)?;
        let data = r.take(len)?;
        let checksum = r.u16()?;
        let sum = data.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        if sum != checksum {
            return Err(Damaged);
        }
        let id = (id & 0xFFFF) as u16;
        match (level, id) {
            (LEVEL_ATTACHMENT, ATT_ATTACH_REND_DATA) => {
                finish(&mut out, current.take());
                current = Some(Current::default());
            }
            (LEVEL_ATTACHMENT, ATT_ATTACH_TITLE) => {
                if let Some(c) = current.as_mut() {
                    c.title = Some(string8(data));
                }
            }
            (LEVEL_ATTACHMENT, ATT_ATTACH_DATA) => {
                if let Some(c) = current.as_mut() {
                    c.data = Some(data);
                }
            }
            (LEVEL_ATTACHMENT, ATT_ATTACHMENT) => {
                if let Some(c) = current.as_mut() {
                    for p in props(data)? {
                        match (p.id, p.value) {
                            (PR_ATTACH_LONG_FILENAME, Value::Text(t)) => c.long_name = Some(t),
                            (PR_ATTACH_FILENAME | PR_DISPLAY_NAME, Value::Text(t)) => {
                                c.short_name.get_or_insert(t);
                            }
                            (PR_ATTACH_DATA, Value::Bytes(b)) if c.data.is_none() => {
                                c.data = Some(b)
                            }
                            _ => {}
                        }
                    }
                }
            }
            (LEVEL_MESSAGE, ATT_BODY) => out.body = Some(string8(data)),
            (LEVEL_MESSAGE, ATT_MAPI_PROPS) => {
                for p in props(data)? {
                    if let (PR_BODY, Value::Text(t)) = (p.id, p.value) {
                        out.body.get_or_insert(t);
                    }
                }
            }
            (LEVEL_MESSAGE | LEVEL_ATTACHMENT, _) => {}
            _ => return Err(Damaged),
        }
    }
    finish(&mut out, current.take());
    if let Some(b) = &out.body {
        if b.trim().is_empty() {
            out.body = None;
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Current<'a> {
    title: Option<String>,
    long_name: Option<String>,
    short_name: Option<String>,
    data: Option<&'a [u8]>,
}

fn finish<'a>(out: &mut Tnef<'a>, c: Option<Current<'a>>) {
    let Some(c) = c else { return };
    let Some(data) = c.data else { return };
    if out.files.len() >= MAX_FILES {
        return;
    }
    let name = c
        .long_name
        .or(c.title)
        .or(c.short_name)
        .filter(|n| !n.trim().is_empty());
    out.files.push(TnefFile { name, data });
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Damaged> {
        if n > self.0.len() {
            return Err(Damaged);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, Damaged> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Damaged> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Damaged> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn len(&mut self) -> Result<usize, Damaged> {
        usize::try_from(self.u32()?).map_err(|_| Damaged)
    }
    /// `n` bytes and the padding to a multiple of 4 after them.
    fn padded(&mut self, n: usize) -> Result<&'a [u8], Damaged> {
        let v = self.take(n)?;
        let pad = (4 - n % 4) % 4;
        self.take(pad.min(self.0.len()))?;
        Ok(v)
    }
}

enum Value<'a> {
    Text(String),
    Bytes(&'a [u8]),
    Other,
}

struct Prop<'a> {
    id: u16,
    value: Value<'a>,
}

/// A MAPI property list (MS-OXTNEF 2.1.3.4): a count, then each property's type, id, name (for
/// named ones) and value(s).
fn props(src: &[u8]) -> Result<Vec<Prop<'_>>, Damaged> {
    let mut r = Reader(src);
    let count = r.len()?;
    // Every property takes 4 bytes at least: a count past that is a lie.
    if count > src.len() / 4 {
        return Err(Damaged);
    }
    let mut out = Vec::new();
    for _ in 0..count.min(MAX_PROPS) {
        let ptype = r.u16()?;
        let id = r.u16()?;
        if id >= 0x8000 {
            r.take(16)?; // the property set's GUID
            match r.u32()? {
                0 => {
                    r.u32()?;
                }
                1 => {
                    let n = r.len()?;
                    r.padded(n)?;
                }
                _ => return Err(Damaged),
            }
        }
        let multi = ptype & MV_FLAG != 0;
        let base = ptype & !MV_FLAG;
        let variable = matches!(base, PT_STRING8 | PT_UNICODE | PT_BINARY | PT_OBJECT);
        let values = if multi || variable { r.len()? } else { 1 };
        if values > r.0.len() / 4 + 1 {
            return Err(Damaged);
        }
        let mut value = Value::Other;
        for i in 0..values {
            let v = if variable {
                let n = r.len()?;
                r.padded(n)?
            } else {
                let size = match base {
                    0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => 4,
                    0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => 8,
                    0x0048 => 16,
                    0x0001 => 0,
                    _ => return Err(Damaged),
                };
                r.take(size)?
            };
            if i == 0 {
                value = match base {
                    PT_STRING8 => Value::Text(string8(v)),
                    PT_UNICODE => Value::Text(unicode(v)),
                    PT_BINARY => Value::Bytes(v),
                    // An embedded object starts with the 16-byte IID of its interface.
                    PT_OBJECT => Value::Bytes(v.get(16..).unwrap_or_default()),
                    _ => Value::Other,
                };
            }
        }
        out.push(Prop { id, value });
    }
    Ok(out)
}

/// An 8-bit string, NUL-terminated: UTF-8 when it is, else Latin-1 (close to Windows-1252,
/// Outlook's usual code page for western languages).
fn string8(b: &[u8]) -> String {
    let b = b.split(|&c| c == 0).next().unwrap_or_default();
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| char::from(c)).collect(),
    }
}

/// UTF-16LE, NUL-terminated.
fn unicode(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// Builds TNEF streams, for tests (here, in the API tests' fixtures and in the fuzz target's seeds).
pub mod build {
    /// One attribute: level, id (with its type), data, checksum.
    pub fn attribute(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
        let mut out = vec![level];
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        let sum = data.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// A TNEF with the given files by their legacy attributes, each with its MAPI long name.
    pub fn tnef(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = 0x223E_9F78u32.to_le_bytes().to_vec();
        out.extend_from_slice(&[0x01, 0x00]);
        out.extend(attribute(1, 0x0008_9006, &[0, 0, 1, 0]));
        out.extend(attribute(1, 0x0006_9007, &[0xE4, 0x04, 0, 0, 0, 0, 0, 0]));
        for (name, data) in files {
            out.extend(attribute(
                2,
                0x0006_9002,
                &[
                    1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0,
                ],
            ));
            // A short 8.3 title, as old Outlook writes it; the long name is in the MAPI props.
            let short: String = name.chars().take(8).collect();
            out.extend(attribute(2, 0x0001_8010, format!("{short}\0").as_bytes()));
            out.extend(attribute(2, 0x0006_800F, data));
            let mut props = 1u32.to_le_bytes().to_vec();
            props.extend_from_slice(&0x001Fu16.to_le_bytes());
            props.extend_from_slice(&0x3707u16.to_le_bytes());
            props.extend_from_slice(&1u32.to_le_bytes());
            let utf16: Vec<u8> = name
                .encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect();
            props.extend_from_slice(&(utf16.len() as u32).to_le_bytes());
            props.extend_from_slice(&utf16);
            props.resize(props.len() + (4 - utf16.len() % 4) % 4, 0);
            out.extend(attribute(2, 0x0006_9005, &props));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_out_of_a_hand_built_tnef_with_their_long_names() {
        let t = build::tnef(&[
            ("log-del-server.txt", b"errore 500\n"),
            ("b.bin", b"\x00\x01"),
        ]);
        let got = decode(&t).expect("a good TNEF");
        assert_eq!(got.files.len(), 2);
        assert_eq!(got.files[0].name.as_deref(), Some("log-del-server.txt"));
        assert_eq!(got.files[0].data, b"errore 500\n");
        assert_eq!(got.files[1].name.as_deref(), Some("b.bin"));
        // The legacy title alone names a file too.
        let mut legacy = 0x223E_9F78u32.to_le_bytes().to_vec();
        legacy.extend_from_slice(&[0, 0]);
        legacy.extend(build::attribute(2, 0x0006_9002, &[0; 14]));
        legacy.extend(build::attribute(2, 0x0001_8010, b"log.txt\0"));
        legacy.extend(build::attribute(2, 0x0006_800F, b"riga"));
        legacy.extend(build::attribute(1, 0x0002_800C, b"Il testo\0"));
        let got = decode(&legacy).expect("legacy");
        assert_eq!(got.files[0].name.as_deref(), Some("log.txt"));
        assert_eq!(got.body.as_deref(), Some("Il testo"));
    }

    #[test]
    fn the_data_and_names_of_mapi_properties_are_read_past_named_ones() {
        // PR_ATTACH_DATA_BIN, then a named string property (GUID, id kind, id) that is skipped.
        let mut props = 2u32.to_le_bytes().to_vec();
        props.extend_from_slice(&[0x02, 0x01, 0x01, 0x37]); // PT_BINARY, 0x3701
        props.extend_from_slice(&1u32.to_le_bytes());
        props.extend_from_slice(&5u32.to_le_bytes());
        props.extend_from_slice(b"hello\0\0\0");
        props.extend_from_slice(&[0x1F, 0x10, 0x05, 0x80]); // multi-valued PT_UNICODE, named
        props.extend_from_slice(&[0; 16]);
        props.extend_from_slice(&0u32.to_le_bytes());
        props.extend_from_slice(&0x8233u32.to_le_bytes());
        props.extend_from_slice(&1u32.to_le_bytes());
        props.extend_from_slice(&4u32.to_le_bytes());
        props.extend_from_slice(b"a\0b\0");
        let mut t = 0x223E_9F78u32.to_le_bytes().to_vec();
        t.extend_from_slice(&[0, 0]);
        t.extend(build::attribute(2, 0x0006_9002, &[0; 14]));
        t.extend(build::attribute(2, 0x0006_9005, &props));
        let got = decode(&t).expect("read");
        assert_eq!(got.files.len(), 1);
        assert_eq!(got.files[0].data, b"hello");
        assert_eq!(got.files[0].name, None);
    }

    #[test]
    fn a_damaged_tnef_is_said_so_and_no_input_panics() {
        let t = build::tnef(&[("log.txt", b"errore 500\n")]);
        // Cut anywhere, or a byte changed anywhere: never a panic, never more than was there.
        for cut in 0..t.len() {
            let _ = decode(&t[..cut]);
        }
        for i in 0..t.len() {
            let mut bad = t.clone();
            bad[i] ^= 0x5A;
            if let Ok(got) = decode(&bad) {
                assert!(got.files.iter().all(|f| f.data.len() <= bad.len()));
            }
        }
        assert_eq!(decode(b"not a tnef at all"), Err(Damaged));
        let mut bad = t.clone();
        let last = bad.len() - 5;
        bad[last] ^= 1; // inside the data: the checksum no longer matches
        assert_eq!(decode(&bad), Err(Damaged));
        // A property count that claims more than the bytes hold.
        let mut huge = 0x223E_9F78u32.to_le_bytes().to_vec();
        huge.extend_from_slice(&[0, 0]);
        huge.extend(build::attribute(2, 0x0006_9002, &[0; 14]));
        huge.extend(build::attribute(2, 0x0006_9005, &u32::MAX.to_le_bytes()));
        assert_eq!(decode(&huge), Err(Damaged));
    }
}
