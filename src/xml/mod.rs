//! Streaming, namespace-resolving XML reader with strict well-formedness checks.
//!
//! Owns turning XML text into a flat stream of events (start tag with its expanded name and
//! attributes, text, end tag), each with a byte span into the input. It is built on quick-xml's
//! tokenizer and adds the checks of XML 1.0 (5th ed.) and Namespaces in XML 1.0 that a validator
//! needs: matching end tags (XML §3 WFC Element Type Match), unique attributes (§3.1 WFC Unique
//! Att Spec, and Namespaces §6.3 after expansion), bound prefixes (Namespaces §5), legal
//! characters (§2.2), declared entities (§4.1 WFC Entity Declared), a single root and no text
//! outside it (§2.1). General entities declared in the internal DTD subset are expanded with a
//! bound on depth and total size; external entities are never fetched.
//!
//! It must not build a document tree, recurse per element (documents may be 100,000 levels
//! deep), touch the filesystem, or know any vocabulary (nothing here names TEI or RELAX NG).

// A well-formedness error ends the document: it is returned once, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod encoding;
pub mod stream;

use crate::diag::{Diagnostic, Span};
use stream::{Batch, EventRef, EventSource, Namespaces, Status, StreamReader};

/// The namespace bound to the `xml` prefix (Namespaces in XML §3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of namespace declarations (Namespaces in XML §3).
pub const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// Code of every well-formedness diagnostic.
pub const CODE_NOT_WF: &str = "xml/not-well-formed";

/// Largest total number of characters entity expansion may produce (XML §4.4 leaves the bound
/// to the processor; this one stops "billion laughs").
pub(crate) const MAX_EXPANSION: usize = 10_000_000;
/// Deepest nesting of entity references inside entity replacement text.
pub(crate) const MAX_ENTITY_DEPTH: usize = 16;

/// One attribute after namespace resolution; `value` is normalised per XML §3.3.3 (CDATA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub ns: String,
    pub local: String,
    pub qname: String,
    pub value: String,
    pub span: Span,
}

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A start tag (an empty-element tag gives `Start` then `End`). `span` covers the tag;
    /// `bindings` are the namespace declarations this tag makes (prefix, uri; "" = default).
    Start {
        ns: String,
        local: String,
        qname: String,
        attrs: Vec<Attribute>,
        bindings: Vec<(String, String)>,
        span: Span,
    },
    /// Character data (references resolved, line ends normalised).
    Text { text: String, span: Span },
    /// An end tag (or the end of an empty-element tag).
    End {
        ns: String,
        local: String,
        span: Span,
    },
}

pub(crate) fn wf(msg: impl Into<String>, span: Span) -> Diagnostic {
    Diagnostic::error(CODE_NOT_WF, msg).with_span(span)
}

/// String equality by 8-byte words, inline. Used where names and namespace URIs are compared
/// per tag: strings of equal length went through a call to the C library's `memcmp`, which
/// showed in profiles (about 10% of validating a large file).
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && a.chunks(8)
            .zip(b.chunks(8))
            .all(|(x, y)| word(x) == word(y))
}

/// Up to 8 bytes as a little-endian number (shorter chunks padded with zeros).
fn word(b: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    for (d, s) in buf.iter_mut().zip(b) {
        *d = *s;
    }
    u64::from_le_bytes(buf)
}

/// XML 1.0 §2.2 `Char`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// XML 1.0 5th ed. §2.3 `NameStartChar` (without ':' handled by callers as needed).
pub fn is_name_start_char(c: char) -> bool {
    matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 5th ed. §2.3 `NameChar`.
pub fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// XML 1.0 §2.3 `Name`.
pub fn is_name(s: &str) -> bool {
    // ASCII names (nearly all) by bytes: the ASCII `NameStartChar`s are ':', '_' and letters;
    // `NameChar` adds '-', '.' and digits.
    if s.is_ascii() {
        let b = s.as_bytes();
        return match b.first() {
            Some(&c) if c.is_ascii_alphabetic() || c == b'_' || c == b':' => b
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'-' | b'.')),
            _ => false,
        };
    }
    let mut cs = s.chars();
    match cs.next() {
        Some(c) if is_name_start_char(c) => cs.all(is_name_char),
        _ => false,
    }
}

/// Namespaces in XML §3 `NCName`.
pub fn is_ncname(s: &str) -> bool {
    is_name(s) && !s.contains(':')
}

/// Namespaces in XML §3 `QName`.
pub fn is_qname(s: &str) -> bool {
    match s.split_once(':') {
        Some((p, l)) => is_ncname(p) && is_ncname(l),
        None => is_ncname(s),
    }
}

/// Reader of a document held in memory, giving owned events one at a time (for consumers
/// that keep events or read small documents; [`stream::StreamReader`] is the batch form).
/// Call [`XmlReader::next_event`] until it returns `Ok(None)`.
pub struct XmlReader<'a> {
    inner: StreamReader<&'a [u8]>,
    batch: Batch,
    next: usize,
    namespaces: Namespaces,
    ended: bool,
}

impl<'a> XmlReader<'a> {
    /// A reader over a whole document.
    pub fn new(text: &'a str) -> Self {
        XmlReader {
            inner: StreamReader::new(text.as_bytes()),
            batch: Batch::default(),
            next: 0,
            namespaces: Namespaces::default(),
            ended: false,
        }
    }

    /// The next event, `Ok(None)` at the end of a well-formed document, or the first
    /// well-formedness error (after which the reader returns `Ok(None)`).
    pub fn next_event(&mut self) -> Result<Option<Event>, Diagnostic> {
        loop {
            if let Some(e) = self.batch.event(self.next) {
                self.next += 1;
                return Ok(Some(owned(e, &self.namespaces)));
            }
            match std::mem::take(&mut self.batch.status) {
                Status::Failed(d) => {
                    self.ended = true;
                    return Err(d);
                }
                Status::Done => self.ended = true,
                Status::More => {}
            }
            if self.ended {
                return Ok(None);
            }
            self.inner.fill(&mut self.batch);
            self.namespaces.absorb(&self.batch);
            self.next = 0;
        }
    }
}

/// An owned copy of a batch event.
fn owned(e: EventRef<'_>, ns: &Namespaces) -> Event {
    match e {
        EventRef::Start(s) => Event::Start {
            ns: ns.uri(s.ns).to_string(),
            local: s.local.to_string(),
            qname: s.qname.to_string(),
            attrs: s
                .attrs()
                .map(|a| Attribute {
                    ns: ns.uri(a.ns).to_string(),
                    local: a.local.to_string(),
                    qname: a.qname.to_string(),
                    value: a.value.to_string(),
                    span: s.span,
                })
                .collect(),
            bindings: s
                .bindings()
                .map(|(p, id)| (p.to_string(), ns.uri(id).to_string()))
                .collect(),
            span: s.span,
        },
        EventRef::Text { text, span, .. } => Event::Text {
            text: text.to_string(),
            span,
        },
        EventRef::End {
            ns: id,
            local,
            span,
            ..
        } => Event::End {
            ns: ns.uri(id).to_string(),
            local: local.to_string(),
            span,
        },
    }
}

/// XML §2.8 `XMLDecl`: version, then optional encoding and standalone, in that order.
pub(crate) fn check_decl(raw: &str) -> Result<(), String> {
    let body = raw.strip_prefix("xml").unwrap_or(raw);
    let attrs = parse_attributes(body)?;
    let mut it = attrs.iter().peekable();
    match it.next() {
        Some((k, v)) if *k == "version" => {
            let ok = v
                .strip_prefix("1.")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return Err(format!("unsupported XML version \"{v}\""));
            }
        }
        _ => return Err("the XML declaration must start with version".into()),
    }
    if let Some((_, v)) = it.next_if(|(k, _)| *k == "encoding") {
        let mut cs = v.chars();
        let ok = cs.next().is_some_and(|c| c.is_ascii_alphabetic())
            && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(format!("invalid encoding name \"{v}\""));
        }
    }
    if let Some((_, v)) = it.next_if(|(k, _)| *k == "standalone")
        && *v != "yes"
        && *v != "no"
    {
        return Err(format!("standalone must be \"yes\" or \"no\", not \"{v}\""));
    }
    if let Some((k, _)) = it.next() {
        return Err(format!("unexpected \"{k}\" in the XML declaration"));
    }
    Ok(())
}

pub(crate) fn char_ref(name: &str) -> Option<char> {
    let n = if let Some(h) = name.strip_prefix("#x") {
        u32::from_str_radix(h, 16).ok()?
    } else {
        name.strip_prefix('#')?.parse::<u32>().ok()?
    };
    let c = char::from_u32(n)?;
    is_xml_char(c).then_some(c)
}

pub(crate) fn expand_char_refs(v: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find("&#") {
        out.push_str(rest.get(..i)?);
        let tail = rest.get(i..)?;
        let semi = tail.find(';')?;
        out.push(char_ref(tail.get(1..semi)?)?);
        rest = tail.get(semi + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// Splits the attribute part of a start tag into raw (name, value) ranges of `s` (XML §3.1),
/// into `out` (cleared first).
pub(crate) fn parse_attributes_into(
    s: &str,
    out: &mut Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
) -> Result<(), String> {
    out.clear();
    let b = s.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    let mut i = 0;
    loop {
        let from = i;
        while b.get(i).is_some_and(|&c| ws(c)) {
            i += 1;
        }
        let rest = s.get(i..).unwrap_or("");
        if rest.is_empty() || rest == "/" {
            return Ok(());
        }
        if i == from {
            return Err("attributes must be separated by whitespace".to_string());
        }
        let eq = i + rest
            .find('=')
            .ok_or_else(|| "attribute without a value".to_string())?;
        let mut name_end = eq;
        while name_end > i && b.get(name_end - 1).is_some_and(|&c| ws(c)) {
            name_end -= 1;
        }
        let name = s.get(i..name_end).unwrap_or("");
        if !is_name(name) {
            return Err(format!("'{name}' is not a valid attribute name"));
        }
        let mut q = eq + 1;
        while b.get(q).is_some_and(|&c| ws(c)) {
            q += 1;
        }
        let quote = b
            .get(q)
            .copied()
            .filter(|c| *c == b'"' || *c == b'\'')
            .ok_or_else(|| format!("value of attribute '{name}' is not quoted"))?;
        let close = b
            .get(q + 1..)
            .and_then(|t| t.iter().position(|&c| c == quote))
            .map(|p| q + 1 + p)
            .ok_or_else(|| format!("value of attribute '{name}' is not terminated"))?;
        if out
            .iter()
            .any(|(n, _)| same(s.get(n.clone()).unwrap_or(""), name))
        {
            return Err(format!("duplicate attribute '{name}'"));
        }
        out.push((i..name_end, q + 1..close));
        i = close + 1;
    }
}

/// Raw (name, value) pairs of an attribute list (for the XML declaration).
fn parse_attributes(s: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut ranges = Vec::new();
    parse_attributes_into(s, &mut ranges)?;
    Ok(ranges
        .into_iter()
        .map(|(n, v)| (s.get(n).unwrap_or(""), s.get(v).unwrap_or("")))
        .collect())
}

/// The encoding named by the XML declaration at the start of `body` (lower case), read from
/// its ASCII-compatible first 200 bytes (XML §4.3.3).
fn declared_encoding(body: &[u8]) -> Option<String> {
    let head: String = body.iter().take(200).map(|&b| b as char).collect();
    head.strip_prefix("<?xml")
        .and_then(|d| d.split("?>").next())
        .and_then(|d| d.split_once("encoding"))
        .and_then(|(_, rest)| {
            let rest = rest.trim_start().strip_prefix('=')?.trim_start();
            let q = rest.chars().next()?;
            rest.get(1..)?.split(q).next().map(str::to_ascii_lowercase)
        })
}

/// Decodes a document's bytes to text (XML §4.3.3, Appendix F): UTF-8 (with or without a
/// byte-order mark), UTF-16 with a byte-order mark, and ISO-8859-1 or US-ASCII when the XML
/// declaration names them. Line ends are left as they are (the reader normalises them), so
/// offsets index the returned text.
pub fn decode(bytes: &[u8]) -> Result<String, Diagnostic> {
    let utf16 = |le: bool| -> Result<String, Diagnostic> {
        let body = bytes.get(2..).unwrap_or(&[]);
        if body.len() % 2 != 0 {
            return Err(wf(
                "UTF-16 document with an odd number of bytes",
                Span::at(0),
            ));
        }
        let units = body.chunks(2).map(|c| match (c.first(), c.get(1)) {
            (Some(&a), Some(&b)) if le => u16::from_le_bytes([a, b]),
            (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]),
            _ => 0,
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|_| wf("invalid UTF-16 in the document", Span::at(0)))
    };
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return utf16(true);
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return utf16(false);
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let declared = declared_encoding(body);
    match declared.as_deref() {
        None | Some("utf-8" | "utf8") => String::from_utf8(body.to_vec()).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            wf("the document is not valid UTF-8", Span::new(at, at + 1))
        }),
        Some("iso-8859-1" | "latin1" | "iso_8859-1" | "l1") => {
            Ok(body.iter().map(|&b| char::from(b)).collect())
        }
        Some("us-ascii" | "ascii") => match body.iter().position(|b| !b.is_ascii()) {
            Some(at) => Err(wf("the document is not US-ASCII", Span::new(at, at + 1))),
            None => Ok(body.iter().map(|&b| char::from(b)).collect()),
        },
        Some("utf-16" | "utf16") => {
            Err(wf("UTF-16 document without a byte-order mark", Span::at(0)))
        }
        Some(other) => Err(wf(
            format!("encoding \"{other}\" is not supported (use UTF-8)"),
            Span::at(0),
        )),
    }
}

/// Reads a whole document and returns its events (for tests and small inputs).
pub fn read_all(text: &str) -> Result<Vec<Event>, Diagnostic> {
    let mut r = XmlReader::new(text);
    let mut out = Vec::new();
    while let Some(e) = r.next_event()? {
        out.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_names_agree_with_the_character_classes() {
        let by_chars = |s: &str| {
            let mut cs = s.chars();
            match cs.next() {
                Some(c) if is_name_start_char(c) => cs.all(is_name_char),
                _ => false,
            }
        };
        for a in 0u8..128 {
            for b in 0u8..128 {
                let s: String = [char::from(a), char::from(b)].iter().collect();
                assert_eq!(is_name(&s), by_chars(&s), "{s:?}");
            }
            let one = char::from(a).to_string();
            assert_eq!(is_name(&one), by_chars(&one), "{one:?}");
        }
        assert!(!is_name(""));
        assert!(is_name("é1"));
    }

    fn err(text: &str) -> bool {
        read_all(text).is_err()
    }

    #[test]
    fn resolves_namespaces() {
        let ev = read_all(r#"<a xmlns="u" xmlns:p="v" p:x="1" y="&lt;2"><p:b/>t&amp;</a>"#);
        let Ok(ev) = ev else { panic!("{ev:?}") };
        match &ev[0] {
            Event::Start {
                ns, local, attrs, ..
            } => {
                assert_eq!((ns.as_str(), local.as_str()), ("u", "a"));
                assert_eq!(attrs[0].ns, "v");
                assert_eq!(attrs[1].ns, "");
                assert_eq!(attrs[1].value, "<2");
            }
            _ => panic!(),
        }
        assert!(matches!(&ev[1], Event::Start { ns, .. } if ns == "v"));
        assert!(matches!(&ev[3], Event::Text { text, .. } if text == "t&"));
    }

    #[test]
    fn well_formedness_errors() {
        assert!(err("<a><b></a>"));
        assert!(err("<a x='1' x='2'/>"));
        assert!(err("<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>"));
        assert!(err("<p:a/>"));
        assert!(err("<a>&foo;</a>"));
        assert!(err("<a/>text"));
        assert!(err("<a/><b/>"));
        assert!(err("<a>\u{1}</a>"));
        assert!(err("<a"));
        assert!(err("<a>"));
        assert!(err(""));
        assert!(!err("<?xml version='1.0'?>\n<!-- c --><a/>\n"));
        assert!(!err(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?><a/>"
        ));
        assert!(err("<?xml version=\"1.0\" standalone=\"maybe\"?><a/>"));
        assert!(err("<?xml encoding=\"UTF-8\"?><a/>"));
    }

    #[test]
    fn internal_entities() {
        let doc = "<!DOCTYPE a [<!ENTITY e \"<b>x</b>\"><!ENTITY t 'hi'>]><a>&e;&t;</a>";
        let Ok(ev) = read_all(doc) else { panic!() };
        assert_eq!(ev.len(), 6);
        let lol = "<!DOCTYPE a [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'><!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'><!ENTITY g '&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;'>]><a>&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;</a>";
        assert!(err(lol));
        assert!(err("<!DOCTYPE a [<!ENTITY r '&r;'>]><a>&r;</a>"));
    }

    #[test]
    fn decodes_declared_encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").ok().as_deref(), Some("<a/>"));
        let l1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xE9</a>";
        assert!(decode(l1).is_ok_and(|t| t.ends_with("<a>\u{e9}</a>")));
        let mut u16 = vec![0xFF, 0xFE];
        for u in "<a/>".encode_utf16() {
            u16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&u16).ok().as_deref(), Some("<a/>"));
        assert!(decode(b"<a>\xE9</a>").is_err());
        assert!(decode(b"<?xml version='1.0' encoding='EBCDIC'?><a/>").is_err());
    }

    #[test]
    fn deep_document() {
        let n = 100_000;
        let doc = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        let Ok(ev) = read_all(&doc) else { panic!() };
        assert_eq!(ev.len(), 2 * n);
    }
}
