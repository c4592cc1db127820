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

use std::collections::{HashMap, VecDeque};

use quick_xml::events::Event as QEvent;
use quick_xml::reader::Reader;

use crate::diag::{Diagnostic, Span};

/// The namespace bound to the `xml` prefix (Namespaces in XML §3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of namespace declarations (Namespaces in XML §3).
pub const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// Code of every well-formedness diagnostic.
pub const CODE_NOT_WF: &str = "xml/not-well-formed";

/// Largest total number of characters entity expansion may produce (XML §4.4 leaves the bound
/// to the processor; this one stops "billion laughs").
const MAX_EXPANSION: usize = 10_000_000;
/// Deepest nesting of entity references inside entity replacement text.
const MAX_ENTITY_DEPTH: usize = 16;

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

#[derive(Debug, Clone)]
enum Entity {
    Internal(String),
    External,
}

fn wf(msg: impl Into<String>, span: Span) -> Diagnostic {
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

fn normalize_newlines(s: &str) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_string()
    }
}

/// Streaming reader. Call [`XmlReader::next_event`] until it returns `Ok(None)`.
pub struct XmlReader<'a> {
    text: &'a str,
    reader: Reader<&'a [u8]>,
    queue: VecDeque<Event>,
    /// Open elements: qname, namespace frame length before the element.
    stack: Vec<(String, usize)>,
    /// Namespace bindings in scope, innermost last.
    bindings: Vec<(String, String)>,
    entities: HashMap<String, Entity>,
    seen_root: bool,
    root_closed: bool,
    done: bool,
    expanded: usize,
    /// Offset added to spans (non-zero for entity replacement text parsed separately).
    fragment: Option<Span>,
    depth: usize,
    pending: Option<(String, Span)>,
}

impl<'a> XmlReader<'a> {
    /// A reader over a whole document.
    pub fn new(text: &'a str) -> Self {
        let mut reader = Reader::from_str(text);
        {
            let c = reader.config_mut();
            c.check_end_names = false;
            c.check_comments = true;
            c.expand_empty_elements = false;
            c.trim_text(false);
            c.allow_dangling_amp = false;
            c.allow_unmatched_ends = false;
        }
        XmlReader {
            text,
            reader,
            queue: VecDeque::new(),
            stack: Vec::new(),
            bindings: Vec::new(),
            entities: HashMap::new(),
            seen_root: false,
            root_closed: false,
            done: false,
            expanded: 0,
            fragment: None,
            depth: 0,
            pending: None,
        }
    }

    /// Resolves a prefix ("" for the default namespace) in the current context.
    pub fn lookup_prefix(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        self.bindings
            .iter()
            .rev()
            .find(|(p, _)| same(p, prefix))
            .map(|(_, u)| u.as_str())
            .filter(|u| !u.is_empty() || prefix.is_empty())
    }

    /// The namespace bindings in scope (innermost last; later entries shadow earlier).
    pub fn bindings(&self) -> &[(String, String)] {
        &self.bindings
    }

    fn pos(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn map_span(&self, s: Span) -> Span {
        match self.fragment {
            Some(f) => f,
            None => s,
        }
    }

    /// The next event, `Ok(None)` at the end of a well-formed document, or the first
    /// well-formedness error (after which the reader returns `Ok(None)`).
    pub fn next_event(&mut self) -> Result<Option<Event>, Diagnostic> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            if self.done {
                return Ok(None);
            }
            match self.step() {
                Ok(()) => {}
                Err(d) => {
                    self.done = true;
                    self.queue.clear();
                    return Err(d);
                }
            }
        }
    }

    fn step(&mut self) -> Result<(), Diagnostic> {
        let start = self.pos();
        let ev = match self.reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = usize::try_from(self.reader.error_position()).unwrap_or(start);
                return Err(wf(
                    format!("not well-formed: {e}"),
                    self.map_span(Span::new(at, at + 1)),
                ));
            }
        };
        let end = self.pos();
        let span = self.map_span(Span::new(start, end));
        match ev {
            QEvent::Start(e) => {
                let raw: &str = &e;
                self.start_tag(raw, span, false)?;
            }
            QEvent::Empty(e) => {
                let raw: &str = &e;
                self.start_tag(raw, span, true)?;
            }
            QEvent::End(e) => {
                let name: &str = &e;
                self.end_tag(name.trim_end(), span)?;
            }
            QEvent::Text(t) => {
                let raw: &str = &t;
                let text = normalize_newlines(raw);
                self.text_event(text, span, true)?;
            }
            QEvent::CData(t) => {
                let raw: &str = &t;
                let text = normalize_newlines(raw);
                if self.stack.is_empty() {
                    return Err(wf("CDATA section outside the root element", span));
                }
                self.text_event(text, span, false)?;
            }
            QEvent::GeneralRef(r) => {
                let name: &str = &r;
                let name = name.to_string();
                self.reference(&name, span)?;
            }
            QEvent::Comment(_) | QEvent::PI(_) => {}
            QEvent::Decl(d) => {
                if start != 0 && self.fragment.is_none() {
                    return Err(wf("XML declaration not at the start of the document", span));
                }
                let raw: &str = &d;
                check_decl(raw).map_err(|m| wf(m, span))?;
            }
            QEvent::DocType(d) => {
                if self.seen_root {
                    return Err(wf("DOCTYPE after the root element", span));
                }
                let raw: &str = &d;
                let raw = raw.to_string();
                self.doctype(&raw, span)?;
            }
            QEvent::Eof => {
                if let Some((name, _)) = self.stack.last() {
                    return Err(wf(
                        format!("unexpected end of document: element <{name}> is not closed"),
                        self.map_span(Span::at(self.text.len())),
                    ));
                }
                if !self.seen_root && self.fragment.is_none() {
                    return Err(wf("no root element", Span::at(self.text.len())));
                }
                self.done = true;
                if let Some((text, span)) = self.pending.take() {
                    self.queue.push_back(Event::Text { text, span });
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, e: Event) {
        if let Some((text, span)) = self.pending.take() {
            self.queue.push_back(Event::Text { text, span });
        }
        self.queue.push_back(e);
    }

    fn check_chars(&self, s: &str, span: Span) -> Result<(), Diagnostic> {
        // Fast path: no control character but tab and line ends, and no byte 0xEF (the lead
        // byte of U+FFFE and U+FFFF, the only characters from U+0080 up that a `str` can
        // hold and XML excludes): then every character is allowed.
        if !s
            .bytes()
            .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF)
        {
            return Ok(());
        }
        if let Some(c) = s.chars().find(|c| !is_xml_char(*c)) {
            return Err(wf(
                format!("character U+{:04X} is not allowed in XML", c as u32),
                span,
            ));
        }
        Ok(())
    }

    fn text_event(
        &mut self,
        text: String,
        span: Span,
        markup_text: bool,
    ) -> Result<(), Diagnostic> {
        self.check_chars(&text, span)?;
        if markup_text && text.contains("]]>") {
            return Err(wf("']]>' is not allowed in character data", span));
        }
        if self.stack.is_empty() && self.fragment.is_none() {
            if text.chars().any(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')) {
                let what = if self.root_closed { "after" } else { "before" };
                return Err(wf(format!("text {what} the root element"), span));
            }
            return Ok(());
        }
        if text.is_empty() {
            return Ok(());
        }
        match &mut self.pending {
            Some((prev, ps)) => {
                prev.push_str(&text);
                *ps = Span::new(ps.start.min(span.start), ps.end.max(span.end));
            }
            None => self.pending = Some((text, span)),
        }
        Ok(())
    }

    fn reference(&mut self, name: &str, span: Span) -> Result<(), Diagnostic> {
        if self.stack.is_empty() && self.fragment.is_none() {
            return Err(wf("reference outside the root element", span));
        }
        let text = match name {
            "lt" => "<".to_string(),
            "gt" => ">".to_string(),
            "amp" => "&".to_string(),
            "apos" => "'".to_string(),
            "quot" => "\"".to_string(),
            _ if name.starts_with('#') => {
                let c = char_ref(name)
                    .ok_or_else(|| wf(format!("invalid character reference &{name};"), span))?;
                c.to_string()
            }
            _ => match self.entities.get(name).cloned() {
                None => return Err(wf(format!("undeclared entity &{name};"), span)),
                Some(Entity::External) => {
                    return Err(wf(format!("external entity &{name}; is not fetched"), span));
                }
                Some(Entity::Internal(v)) => {
                    if !v.contains('<') && !v.contains('&') {
                        self.count_expansion(v.len(), span)?;
                        v
                    } else {
                        return self.expand_markup(&v, name, span);
                    }
                }
            },
        };
        self.text_event(text, span, false)
    }

    fn count_expansion(&mut self, n: usize, span: Span) -> Result<(), Diagnostic> {
        self.expanded = self.expanded.saturating_add(n);
        if self.expanded > MAX_EXPANSION {
            return Err(wf("entity expansion exceeds the limit", span));
        }
        Ok(())
    }

    fn expand_markup(&mut self, value: &str, name: &str, span: Span) -> Result<(), Diagnostic> {
        if self.depth >= MAX_ENTITY_DEPTH {
            return Err(wf(
                format!("entity &{name}; nests too deeply (recursive?)"),
                span,
            ));
        }
        self.count_expansion(value.len(), span)?;
        let mut sub = XmlReader::new(value);
        sub.entities = self.entities.clone();
        sub.entities.remove(name);
        sub.fragment = Some(span);
        sub.depth = self.depth + 1;
        sub.bindings = self.bindings.clone();
        sub.expanded = self.expanded;
        sub.seen_root = true;
        let mut events = Vec::new();
        while let Some(e) = sub.next_event()? {
            events.push(e);
        }
        if !sub.stack.is_empty() {
            return Err(wf(format!("entity &{name}; is not balanced"), span));
        }
        self.expanded = sub.expanded;
        for e in events {
            match e {
                Event::Text { text, span } => self.text_event(text, span, false)?,
                other => self.push(other),
            }
        }
        Ok(())
    }

    fn doctype(&mut self, raw: &str, span: Span) -> Result<(), Diagnostic> {
        let Some(open) = raw.find('[') else {
            if raw.contains("SYSTEM") || raw.contains("PUBLIC") {
                // An external subset is never fetched; nothing declared in it is known.
            }
            return Ok(());
        };
        let subset = raw.get(open + 1..).unwrap_or("");
        let subset = subset.rsplit_once(']').map(|(a, _)| a).unwrap_or(subset);
        let mut rest = subset;
        while let Some(i) = rest.find("<!ENTITY") {
            rest = rest.get(i + 8..).unwrap_or("");
            let body = rest.trim_start();
            if body.starts_with('%') {
                continue;
            }
            let name_end = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
            let name = body.get(..name_end).unwrap_or("").to_string();
            if !is_ncname(&name) {
                return Err(wf(format!("bad entity name '{name}' in DOCTYPE"), span));
            }
            let after = body.get(name_end..).unwrap_or("").trim_start();
            let q = after.chars().next();
            let entity = match q {
                Some(q @ ('"' | '\'')) => {
                    let inner = after.get(1..).unwrap_or("");
                    let Some(close) = inner.find(q) else {
                        return Err(wf(format!("unterminated value of entity {name}"), span));
                    };
                    let v = inner.get(..close).unwrap_or("");
                    Entity::Internal(expand_char_refs(v).ok_or_else(|| {
                        wf(format!("bad character reference in entity {name}"), span)
                    })?)
                }
                _ => Entity::External,
            };
            // XML §4.2: the first declaration is binding.
            self.entities.entry(name).or_insert(entity);
        }
        Ok(())
    }

    fn start_tag(&mut self, raw: &str, span: Span, empty: bool) -> Result<(), Diagnostic> {
        if self.root_closed && self.fragment.is_none() {
            return Err(wf("a second root element", span));
        }
        self.seen_root = true;
        let name_end = raw
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(raw.len());
        let qname = raw.get(..name_end).unwrap_or("").to_string();
        if !is_qname(&qname) {
            return Err(wf(format!("'{qname}' is not a valid element name"), span));
        }
        let attr_text = raw.get(name_end..).unwrap_or("");
        let raw_attrs = parse_attributes(attr_text).map_err(|m| wf(m, span))?;
        let frame = self.bindings.len();
        let mut bindings = Vec::new();
        let mut plain = Vec::new();
        for (k, v) in raw_attrs {
            let value = self.attr_value(v, span)?;
            if k == "xmlns" {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(wf(
                        format!("the namespace {value} cannot be the default"),
                        span,
                    ));
                }
                bindings.push((String::new(), value));
            } else if let Some(p) = k.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(wf(format!("prefix '{p}' cannot be undeclared"), span));
                }
                if p == "xmlns" || (p == "xml") != (value == XML_NS) || value == XMLNS_NS {
                    return Err(wf(
                        format!("illegal binding of prefix '{p}' to {value}"),
                        span,
                    ));
                }
                bindings.push((p.to_string(), value));
            } else {
                plain.push((k, value));
            }
        }
        self.bindings.extend(bindings.iter().cloned());
        let (ns, local) = match self.resolve(&qname, true) {
            Some(x) => x,
            None => {
                return Err(wf(
                    format!("prefix of element <{qname}> is not bound"),
                    span,
                ));
            }
        };
        let mut attrs = Vec::with_capacity(plain.len());
        for (k, value) in plain {
            if !is_qname(k) {
                return Err(wf(format!("'{k}' is not a valid attribute name"), span));
            }
            let Some((ans, alocal)) = self.resolve(k, false) else {
                return Err(wf(format!("prefix of attribute '{k}' is not bound"), span));
            };
            if attrs
                .iter()
                .any(|a: &Attribute| same(&a.ns, &ans) && same(&a.local, &alocal))
            {
                return Err(wf(format!("duplicate attribute '{k}'"), span));
            }
            attrs.push(Attribute {
                ns: ans,
                local: alocal,
                qname: k.to_string(),
                value,
                span,
            });
        }
        if empty {
            // An empty-element tag: `End` follows at once, with the same name.
            let end = Event::End {
                ns: ns.clone(),
                local: local.clone(),
                span,
            };
            self.push(Event::Start {
                ns,
                local,
                qname,
                attrs,
                bindings,
                span,
            });
            self.bindings.truncate(frame);
            if self.stack.is_empty() {
                self.root_closed = true;
            }
            self.push(end);
        } else {
            self.stack.push((qname.clone(), frame));
            self.push(Event::Start {
                ns,
                local,
                qname,
                attrs,
                bindings,
                span,
            });
        }
        Ok(())
    }

    fn resolve(&self, qname: &str, element: bool) -> Option<(String, String)> {
        match qname.split_once(':') {
            Some((p, l)) => {
                let uri = self.lookup_prefix(p)?;
                if uri.is_empty() {
                    return None;
                }
                Some((uri.to_string(), l.to_string()))
            }
            None if element => Some((
                self.lookup_prefix("").unwrap_or("").to_string(),
                qname.to_string(),
            )),
            None => Some((String::new(), qname.to_string())),
        }
    }

    fn end_tag(&mut self, name: &str, span: Span) -> Result<(), Diagnostic> {
        let Some((open, frame)) = self.stack.pop() else {
            return Err(wf(format!("end tag </{name}> without a start tag"), span));
        };
        if !same(&open, name) {
            return Err(wf(
                format!("end tag </{name}> does not match start tag <{open}>"),
                span,
            ));
        }
        let (ns, local) = self
            .resolve(&open, true)
            .unwrap_or_else(|| (String::new(), open.clone()));
        self.bindings.truncate(frame);
        if self.stack.is_empty() {
            self.root_closed = true;
        }
        self.push(Event::End { ns, local, span });
        Ok(())
    }

    /// XML §3.3.3 attribute-value normalisation for CDATA attributes.
    fn attr_value(&mut self, raw: &str, span: Span) -> Result<String, Diagnostic> {
        let mut out = String::with_capacity(raw.len());
        self.attr_value_into(raw, span, &mut out, 0)?;
        Ok(out)
    }

    fn attr_value_into(
        &mut self,
        raw: &str,
        span: Span,
        out: &mut String,
        depth: usize,
    ) -> Result<(), Diagnostic> {
        if depth > MAX_ENTITY_DEPTH {
            return Err(wf("entity references nest too deeply (recursive?)", span));
        }
        let mut rest = raw;
        while let Some(i) = rest.find(['&', '<', '\t', '\n', '\r']) {
            out.push_str(rest.get(..i).unwrap_or(""));
            let tail = rest.get(i..).unwrap_or("");
            if tail.starts_with('<') {
                return Err(wf("'<' is not allowed in an attribute value", span));
            }
            if tail.starts_with("\r\n") {
                out.push(' ');
                rest = tail.get(2..).unwrap_or("");
                continue;
            }
            if !tail.starts_with('&') {
                out.push(' ');
                rest = tail.get(1..).unwrap_or("");
                continue;
            }
            let Some(semi) = tail.find(';') else {
                return Err(wf("unterminated reference in attribute value", span));
            };
            let name = tail.get(1..semi).unwrap_or("");
            rest = tail.get(semi + 1..).unwrap_or("");
            match name {
                "lt" => out.push('<'),
                "gt" => out.push('>'),
                "amp" => out.push('&'),
                "apos" => out.push('\''),
                "quot" => out.push('"'),
                _ if name.starts_with('#') => {
                    let c = char_ref(name)
                        .ok_or_else(|| wf(format!("invalid character reference &{name};"), span))?;
                    out.push(c);
                }
                _ => match self.entities.get(name).cloned() {
                    Some(Entity::Internal(v)) => {
                        self.count_expansion(v.len(), span)?;
                        self.attr_value_into(&v, span, out, depth + 1)?;
                    }
                    Some(Entity::External) => {
                        return Err(wf(
                            format!("external entity &{name}; in an attribute value"),
                            span,
                        ));
                    }
                    None => return Err(wf(format!("undeclared entity &{name};"), span)),
                },
            }
        }
        out.push_str(rest);
        self.check_chars(out, span)
    }
}

/// XML §2.8 `XMLDecl`: version, then optional encoding and standalone, in that order.
fn check_decl(raw: &str) -> Result<(), String> {
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

fn char_ref(name: &str) -> Option<char> {
    let n = if let Some(h) = name.strip_prefix("#x") {
        u32::from_str_radix(h, 16).ok()?
    } else {
        name.strip_prefix('#')?.parse::<u32>().ok()?
    };
    let c = char::from_u32(n)?;
    is_xml_char(c).then_some(c)
}

fn expand_char_refs(v: &str) -> Option<String> {
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

/// Splits the attribute part of a start tag into raw (name, value) pairs (XML §3.1).
fn parse_attributes(s: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut rest = s;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let had_space = trimmed.len() != rest.len();
        rest = trimmed;
        if rest.is_empty() || rest == "/" {
            return Ok(out);
        }
        if !had_space {
            return Err("attributes must be separated by whitespace".to_string());
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| "attribute without a value".to_string())?;
        let name = rest.get(..eq).unwrap_or("").trim_end();
        if !is_name(name) {
            return Err(format!("'{name}' is not a valid attribute name"));
        }
        let after = rest.get(eq + 1..).unwrap_or("").trim_start();
        let q = after
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or_else(|| format!("value of attribute '{name}' is not quoted"))?;
        let inner = after.get(1..).unwrap_or("");
        let close = inner
            .find(q)
            .ok_or_else(|| format!("value of attribute '{name}' is not terminated"))?;
        if out.iter().any(|(n, _)| same(n, name)) {
            return Err(format!("duplicate attribute '{name}'"));
        }
        out.push((name, inner.get(..close).unwrap_or("")));
        rest = inner.get(close + 1..).unwrap_or("");
    }
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
    // The declared encoding, read from the ASCII-compatible start of the document.
    let head: String = body.iter().take(200).map(|&b| b as char).collect();
    let declared = head
        .strip_prefix("<?xml")
        .and_then(|d| d.split("?>").next())
        .and_then(|d| d.split_once("encoding"))
        .and_then(|(_, rest)| {
            let rest = rest.trim_start().strip_prefix('=')?.trim_start();
            let q = rest.chars().next()?;
            rest.get(1..)?.split(q).next().map(str::to_ascii_lowercase)
        });
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
