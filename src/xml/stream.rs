//! The streaming core of the XML reader: input in chunks from any `BufRead`, events out in
//! reusable batches.
//!
//! Owns tokenising (quick-xml's tokenizer under our own checks of XML 1.0 5th ed. and
//! Namespaces in XML 1.0), namespace resolution to small numeric ids, text merging, entity
//! expansion, and [`Batch`]: a run of events whose names, values and text share one string
//! buffer, so that a warm reader allocates nothing per event and a batch can be handed to
//! another thread whole (see [`pipe`]). Memory is the chunk buffer, one batch, the open
//! elements' names and the namespace bindings in scope: it does not grow with the document.
//!
//! It must not build a document tree, recurse per element, touch the filesystem, or know any
//! vocabulary.

// A well-formedness error ends the document: it is returned once, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::io::BufRead;
use std::ops::Range;

use quick_xml::events::Event as QEvent;
use quick_xml::reader::Reader;

use super::{
    MAX_ENTITY_DEPTH, MAX_EXPANSION, XML_NS, XMLNS_NS, char_ref, check_decl, expand_char_refs,
    is_ncname, is_qname, is_xml_char, parse_attributes_into, same, wf,
};
use crate::diag::{Diagnostic, Span};

/// Namespace id of "no namespace" (also the default namespace after `xmlns=""`).
pub const NS_NONE: u32 = 0;
/// Namespace id of the `xml` prefix's namespace.
pub const NS_XML: u32 = 1;

/// A batch is handed over once it holds this many events or string bytes (and no text is
/// being merged).
const BATCH_EVENTS: usize = 1024;
const BATCH_BYTES: usize = 64 * 1024;

/// Where a SAX parser such as jing's ends the chunk of character data holding the first
/// non-whitespace character of a text: the end of its line inside the text, the end of a
/// reference, or the end of the text (DEVELOPERS.md, `short` format: jing's line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkEnd {
    /// Only whitespace so far.
    Open,
    At(usize),
    /// Markup (CDATA, a comment) came first: the end of the whole text.
    TextEnd,
}

#[derive(Debug, Clone)]
pub(crate) enum Packed {
    Start {
        ns: u32,
        qname: Range<usize>,
        local: usize,
        attrs: Range<usize>,
        bindings: Range<usize>,
        span: Span,
    },
    Text {
        text: Range<usize>,
        span: Span,
        chunk_end: usize,
    },
    End {
        ns: u32,
        qname: Range<usize>,
        local: usize,
        span: Span,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct PackedAttr {
    ns: u32,
    qname: Range<usize>,
    local: usize,
    value: Range<usize>,
}

/// How a batch ends.
#[derive(Debug, Clone, Default)]
pub enum Status {
    /// More events follow in the next batch.
    #[default]
    More,
    /// The document ended well-formed.
    Done,
    /// The document is not well-formed: this error follows the batch's events.
    Failed(Diagnostic),
}

/// A run of events sharing one string buffer. Reuse it: [`EventSource::fill`] clears it.
#[derive(Debug, Default)]
pub struct Batch {
    strings: String,
    events: Vec<Packed>,
    attrs: Vec<PackedAttr>,
    bindings: Vec<(Range<usize>, u32)>,
    /// Namespace URIs first met in this batch, in id order (see [`Namespaces`]).
    new_ns: Vec<String>,
    pub status: Status,
}

/// A start tag of a batch.
#[derive(Debug, Clone, Copy)]
pub struct StartRef<'a> {
    pub ns: u32,
    pub qname: &'a str,
    pub local: &'a str,
    pub span: Span,
    batch: &'a Batch,
    attrs: (usize, usize),
    bindings: (usize, usize),
}

/// An attribute of a start tag; its value is normalised (XML §3.3.3, CDATA).
#[derive(Debug, Clone, Copy)]
pub struct AttrRef<'a> {
    pub ns: u32,
    pub qname: &'a str,
    pub local: &'a str,
    pub value: &'a str,
}

/// One event of a batch. Spans are byte offsets into the decoded document.
#[derive(Debug, Clone, Copy)]
pub enum EventRef<'a> {
    Start(StartRef<'a>),
    /// Character data (references resolved, line ends normalised, adjacent pieces merged).
    /// `chunk_end`: where a SAX parser ends the chunk holding its first non-whitespace
    /// character, the position jing reports text errors at.
    Text {
        text: &'a str,
        span: Span,
        chunk_end: usize,
    },
    End {
        ns: u32,
        qname: &'a str,
        local: &'a str,
        span: Span,
    },
}

impl Batch {
    fn str(&self, r: Range<usize>) -> &str {
        self.strings.get(r).unwrap_or("")
    }

    fn clear(&mut self) {
        self.strings.clear();
        self.events.clear();
        self.attrs.clear();
        self.bindings.clear();
        self.new_ns.clear();
        self.status = Status::More;
    }

    /// The events, in document order.
    pub fn events(&self) -> impl Iterator<Item = EventRef<'_>> {
        self.events.iter().map(move |e| self.event_ref(e))
    }

    /// The event at `index`, if there is one.
    pub fn event(&self, index: usize) -> Option<EventRef<'_>> {
        self.events.get(index).map(|e| self.event_ref(e))
    }

    fn event_ref<'a>(&'a self, e: &'a Packed) -> EventRef<'a> {
        match e {
            Packed::Start {
                ns,
                qname,
                local,
                attrs,
                bindings,
                span,
            } => EventRef::Start(StartRef {
                ns: *ns,
                qname: self.str(qname.clone()),
                local: self.str(*local..qname.end),
                span: *span,
                batch: self,
                attrs: (attrs.start, attrs.end),
                bindings: (bindings.start, bindings.end),
            }),
            Packed::Text {
                text,
                span,
                chunk_end,
            } => EventRef::Text {
                text: self.str(text.clone()),
                span: *span,
                chunk_end: *chunk_end,
            },
            Packed::End {
                ns,
                qname,
                local,
                span,
            } => EventRef::End {
                ns: *ns,
                qname: self.str(qname.clone()),
                local: self.str(*local..qname.end),
                span: *span,
            },
        }
    }
}

impl<'a> StartRef<'a> {
    /// The attributes, in document order (namespace declarations are [`Self::bindings`]).
    pub fn attrs(&self) -> impl ExactSizeIterator<Item = AttrRef<'a>> + use<'a> {
        let b = self.batch;
        b.attrs
            .get(self.attrs.0..self.attrs.1)
            .unwrap_or(&[])
            .iter()
            .map(move |a| AttrRef {
                ns: a.ns,
                qname: b.str(a.qname.clone()),
                local: b.str(a.local..a.qname.end),
                value: b.str(a.value.clone()),
            })
    }

    /// The namespace declarations of this tag: (prefix, namespace id), "" for the default.
    pub fn bindings(&self) -> impl ExactSizeIterator<Item = (&'a str, u32)> + use<'a> {
        let b = self.batch;
        b.bindings
            .get(self.bindings.0..self.bindings.1)
            .unwrap_or(&[])
            .iter()
            .map(move |(p, ns)| (b.str(p.clone()), *ns))
    }
}

/// The namespace URIs of a document by id, kept by a consumer of batches: call
/// [`Namespaces::absorb`] with every batch before reading its events.
#[derive(Debug, Clone)]
pub struct Namespaces(Vec<String>);

impl Default for Namespaces {
    fn default() -> Self {
        Namespaces(vec![String::new(), XML_NS.to_string()])
    }
}

impl Namespaces {
    pub fn absorb(&mut self, batch: &Batch) {
        self.0.extend(batch.new_ns.iter().cloned());
    }

    /// The URI of a namespace id ("" for no namespace or an unknown id).
    pub fn uri(&self, id: u32) -> &str {
        self.0.get(id as usize).map_or("", String::as_str)
    }
}

/// Anything that yields a document's events batch by batch.
pub trait EventSource {
    /// Clears `out` and fills it with the next events; `out.status` says whether more follow.
    /// After `Done` or `Failed`, further calls give empty batches with status `Done`.
    fn fill(&mut self, out: &mut Batch);
}

#[derive(Debug)]
struct Pending {
    start: usize,
    end: usize,
    span: Span,
    chunk: ChunkEnd,
}

/// What kind of source a piece of text came from (for [`ChunkEnd`]).
enum Piece<'s> {
    /// Character data as written, at this offset.
    Raw(&'s str, usize),
    /// A reference, or text from inside an entity's replacement text.
    Reference,
    /// A CDATA section.
    Markup,
}

#[derive(Debug, Clone)]
enum Entity {
    Internal(String),
    External,
}

/// The reader's state apart from the tokenizer: shared by the document and the replacement
/// text of entities expanded in it.
#[derive(Debug, Default)]
struct State {
    /// Qualified names of the open elements, one after another.
    names: String,
    /// Open elements: start of the name in `names`, bindings length before the element.
    stack: Vec<(usize, usize)>,
    /// Namespace bindings in scope, innermost last: (prefix, namespace id).
    bindings: Vec<(String, u32)>,
    /// Namespace URIs by id.
    ns: Vec<String>,
    entities: HashMap<String, Entity>,
    /// Entities being expanded (a reference to one of them is recursive).
    active: Vec<String>,
    /// Stack depth at which the innermost expansion started (its end tags may not go below).
    base: usize,
    seen_root: bool,
    root_closed: bool,
    expanded: usize,
    pending: Option<Pending>,
    /// Scratch: raw attribute (name, value) ranges of the current start tag.
    raw_attrs: Vec<(Range<usize>, Range<usize>)>,
    /// Scratch: which raw attributes are plain (not namespace declarations), with their
    /// normalised value ranges in the batch.
    plain: Vec<(Range<usize>, Range<usize>)>,
    scratch: String,
}

/// A streaming reader over any buffered input of UTF-8 text (a `&[u8]` of a decoded document,
/// or a file behind a `BufReader` with its byte-order mark consumed).
pub struct StreamReader<R> {
    tok: Reader<R>,
    buf: Vec<u8>,
    st: State,
    done: bool,
}

fn configure<R>(tok: &mut Reader<R>) {
    let c = tok.config_mut();
    c.check_end_names = false;
    c.check_comments = true;
    c.expand_empty_elements = false;
    c.trim_text(false);
    c.allow_dangling_amp = false;
    c.allow_unmatched_ends = false;
}

impl<R: BufRead> StreamReader<R> {
    pub fn new(input: R) -> Self {
        let mut tok = Reader::from_reader(input);
        configure(&mut tok);
        StreamReader {
            tok,
            buf: Vec::new(),
            st: State {
                ns: Namespaces::default().0,
                ..State::default()
            },
            done: false,
        }
    }

    fn pos(&self) -> usize {
        usize::try_from(self.tok.buffer_position()).unwrap_or(usize::MAX)
    }

    /// One token; `Ok(true)` at the end of the document.
    fn step(&mut self, out: &mut Batch) -> Result<bool, Diagnostic> {
        let start = self.pos();
        self.buf.clear();
        let ev = match self.tok.read_event_into(&mut self.buf) {
            Ok(ev) => ev,
            Err(e) => {
                let mut at = usize::try_from(self.tok.error_position()).unwrap_or(start);
                let msg = match e {
                    quick_xml::Error::Encoding(quick_xml::encoding::EncodingError::Utf8(u)) => {
                        // The tokenizer reports the start of the document here; the bad byte
                        // is `valid_up_to` into the token (give or take its '<').
                        let here = usize::try_from(self.tok.buffer_position()).unwrap_or(start);
                        at = (start + u.valid_up_to()).min(here);
                        "the document is not valid UTF-8".to_string()
                    }
                    #[allow(unreachable_patterns)]
                    quick_xml::Error::Encoding(_) => "the document is not valid UTF-8".to_string(),
                    // A transcoded document with bytes outside its encoding (`encoding`).
                    quick_xml::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                        e.to_string()
                    }
                    e => format!("not well-formed: {e}"),
                };
                return Err(wf(msg, Span::new(at, at + 1)));
            }
        };
        let end = usize::try_from(self.tok.buffer_position()).unwrap_or(usize::MAX);
        let span = Span::new(start, end);
        if let QEvent::Eof = ev {
            return self.st.eof(end, out).map(|()| true);
        }
        self.st.handle(ev, span, None, out)?;
        Ok(false)
    }
}

impl<R: BufRead> EventSource for StreamReader<R> {
    fn fill(&mut self, out: &mut Batch) {
        out.clear();
        if self.done {
            out.status = Status::Done;
            return;
        }
        loop {
            match self.step(out) {
                Ok(true) => {
                    self.done = true;
                    out.status = Status::Done;
                    return;
                }
                Ok(false) => {}
                Err(d) => {
                    self.done = true;
                    out.status = Status::Failed(d);
                    return;
                }
            }
            if self.st.pending.is_none()
                && (out.events.len() >= BATCH_EVENTS || out.strings.len() >= BATCH_BYTES)
            {
                return;
            }
        }
    }
}

/// Appends `s` with line ends normalised (XML §2.11).
fn push_normalized(out: &mut String, s: &str) {
    if !s.contains('\r') {
        out.push_str(s);
        return;
    }
    let mut rest = s;
    while let Some(i) = rest.find('\r') {
        out.push_str(rest.get(..i).unwrap_or(""));
        out.push('\n');
        rest = rest.get(i + 1..).unwrap_or("");
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        }
    }
    out.push_str(rest);
}

fn check_chars(s: &str, span: Span) -> Result<(), Diagnostic> {
    // Fast path: no control character but tab and line ends, and no byte 0xEF (the lead byte
    // of U+FFFE and U+FFFF, the only characters from U+0080 up that a `str` can hold and XML
    // excludes, XML §2.2): then every character is allowed.
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

fn is_ws_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl State {
    fn in_fragment(&self) -> bool {
        !self.active.is_empty()
    }

    /// The id of a namespace URI, recording a new one in the batch.
    fn ns_id(&mut self, uri: &str, out: &mut Batch) -> u32 {
        if let Some(i) = self.ns.iter().position(|u| same(u, uri)) {
            return u32::try_from(i).unwrap_or(NS_NONE);
        }
        self.ns.push(uri.to_string());
        out.new_ns.push(uri.to_string());
        u32::try_from(self.ns.len() - 1).unwrap_or(NS_NONE)
    }

    /// Resolves a prefix ("" for the default namespace) in the current context.
    fn lookup(&self, prefix: &str) -> Option<u32> {
        if prefix == "xml" {
            return Some(NS_XML);
        }
        match self.bindings.iter().rev().find(|(p, _)| same(p, prefix)) {
            Some((_, id)) if *id != NS_NONE || prefix.is_empty() => Some(*id),
            Some(_) => None,
            None if prefix.is_empty() => Some(NS_NONE),
            None => None,
        }
    }

    /// Namespace id and local-name offset of a qualified name (`None`: unbound prefix).
    fn resolve(&self, qname: &str, element: bool) -> Option<(u32, usize)> {
        match qname.split_once(':') {
            Some((p, _)) => {
                let id = self.lookup(p)?;
                (id != NS_NONE).then_some((id, p.len() + 1))
            }
            None if element => Some((self.lookup("").unwrap_or(NS_NONE), 0)),
            None => Some((NS_NONE, 0)),
        }
    }

    fn handle(
        &mut self,
        ev: QEvent<'_>,
        span: Span,
        fragment: Option<Span>,
        out: &mut Batch,
    ) -> Result<(), Diagnostic> {
        // Inside replacement text, every event is placed at the reference.
        let at = fragment.unwrap_or(span);
        match ev {
            QEvent::Start(e) => self.start_tag(&e, at, false, out),
            QEvent::Empty(e) => self.start_tag(&e, at, true, out),
            QEvent::End(e) => self.end_tag(e.trim_end(), at, out),
            QEvent::Text(t) => {
                let piece = match fragment {
                    Some(_) => Piece::Reference,
                    None => Piece::Raw(&t, span.start),
                };
                self.text(&t, at, piece, true, out)
            }
            QEvent::CData(t) => {
                if self.stack.is_empty() && !self.in_fragment() {
                    return Err(wf("CDATA section outside the root element", at));
                }
                self.text(&t, at, Piece::Markup, false, out)
            }
            QEvent::GeneralRef(r) => self.reference(&r, at, out),
            QEvent::Comment(_) | QEvent::PI(_) => {
                if let Some(p) = &mut self.pending
                    && p.chunk == ChunkEnd::Open
                {
                    p.chunk = ChunkEnd::TextEnd;
                }
                Ok(())
            }
            QEvent::Decl(d) => {
                if span.start != 0 && fragment.is_none() {
                    return Err(wf("XML declaration not at the start of the document", at));
                }
                check_decl(&d).map_err(|m| wf(m, at))
            }
            QEvent::DocType(d) => {
                if self.seen_root {
                    return Err(wf("DOCTYPE after the root element", at));
                }
                self.doctype(&d, at)
            }
            QEvent::Eof => Ok(()),
        }
    }

    fn eof(&mut self, len: usize, out: &mut Batch) -> Result<(), Diagnostic> {
        if let Some(&(start, _)) = self.stack.last() {
            let name = self.names.get(start..).unwrap_or("");
            return Err(wf(
                format!("unexpected end of document: element <{name}> is not closed"),
                Span::at(len),
            ));
        }
        if !self.seen_root {
            return Err(wf("no root element", Span::at(len)));
        }
        self.flush(out);
        Ok(())
    }

    /// Emits the text being merged, if any.
    fn flush(&mut self, out: &mut Batch) {
        if let Some(p) = self.pending.take() {
            let chunk_end = match p.chunk {
                ChunkEnd::At(i) => i,
                ChunkEnd::Open | ChunkEnd::TextEnd => p.span.end,
            };
            out.events.push(Packed::Text {
                text: p.start..p.end,
                span: p.span,
                chunk_end,
            });
        }
    }

    fn text(
        &mut self,
        text: &str,
        span: Span,
        piece: Piece<'_>,
        markup_text: bool,
        out: &mut Batch,
    ) -> Result<(), Diagnostic> {
        check_chars(text, span)?;
        if markup_text && text.contains("]]>") {
            return Err(wf("']]>' is not allowed in character data", span));
        }
        if self.stack.is_empty() && !self.in_fragment() {
            if text.bytes().any(|b| !is_ws_byte(b)) {
                let what = if self.root_closed { "after" } else { "before" };
                return Err(wf(format!("text {what} the root element"), span));
            }
            return Ok(());
        }
        if text.is_empty() {
            return Ok(());
        }
        let chunk = |p: &Piece<'_>| match p {
            Piece::Raw(raw, at) => match raw.bytes().position(|b| !is_ws_byte(b)) {
                None => ChunkEnd::Open,
                Some(first) => {
                    let rest = raw.get(first..).unwrap_or("");
                    ChunkEnd::At(match rest.find(['\n', '\r']) {
                        Some(i) => at + first + i,
                        None => at + raw.len(),
                    })
                }
            },
            Piece::Reference => ChunkEnd::At(span.end),
            Piece::Markup => ChunkEnd::TextEnd,
        };
        match &mut self.pending {
            Some(p) => {
                push_normalized(&mut out.strings, text);
                p.end = out.strings.len();
                p.span = Span::new(p.span.start.min(span.start), p.span.end.max(span.end));
                if p.chunk == ChunkEnd::Open {
                    p.chunk = chunk(&piece);
                }
            }
            None => {
                let start = out.strings.len();
                push_normalized(&mut out.strings, text);
                self.pending = Some(Pending {
                    start,
                    end: out.strings.len(),
                    span,
                    chunk: chunk(&piece),
                });
            }
        }
        Ok(())
    }

    fn reference(&mut self, name: &str, span: Span, out: &mut Batch) -> Result<(), Diagnostic> {
        if self.stack.is_empty() && !self.in_fragment() {
            return Err(wf("reference outside the root element", span));
        }
        let mut one = [0u8; 4];
        let text: &str = match name {
            "lt" => "<",
            "gt" => ">",
            "amp" => "&",
            "apos" => "'",
            "quot" => "\"",
            _ if name.starts_with('#') => {
                let c = char_ref(name)
                    .ok_or_else(|| wf(format!("invalid character reference &{name};"), span))?;
                c.encode_utf8(&mut one)
            }
            _ => {
                if self.active.iter().any(|a| a == name) {
                    return Err(wf(format!("entity &{name}; refers to itself"), span));
                }
                match self.entities.get(name).cloned() {
                    None => return Err(wf(format!("undeclared entity &{name};"), span)),
                    Some(Entity::External) => {
                        return Err(wf(format!("external entity &{name}; is not fetched"), span));
                    }
                    Some(Entity::Internal(v)) => {
                        self.count_expansion(v.len(), span)?;
                        if v.contains('<') || v.contains('&') {
                            return self.expand_markup(&v, name, span, out);
                        }
                        return self.text(&v, span, Piece::Reference, false, out);
                    }
                }
            }
        };
        self.text(text, span, Piece::Reference, false, out)
    }

    fn count_expansion(&mut self, n: usize, span: Span) -> Result<(), Diagnostic> {
        self.expanded = self.expanded.saturating_add(n);
        if self.expanded > MAX_EXPANSION {
            return Err(wf("entity expansion exceeds the limit", span));
        }
        Ok(())
    }

    /// Reads an entity's replacement text as part of the document, at the reference (XML
    /// §4.4.2 "Included"). Recursion is bounded by [`MAX_ENTITY_DEPTH`].
    fn expand_markup(
        &mut self,
        value: &str,
        name: &str,
        span: Span,
        out: &mut Batch,
    ) -> Result<(), Diagnostic> {
        if self.active.len() >= MAX_ENTITY_DEPTH {
            return Err(wf(
                format!("entity &{name}; nests too deeply (recursive?)"),
                span,
            ));
        }
        let mut tok = Reader::from_str(value);
        configure(&mut tok);
        let base = std::mem::replace(&mut self.base, self.stack.len());
        self.active.push(name.to_string());
        let result = loop {
            match tok.read_event() {
                Ok(QEvent::Eof) => break Ok(()),
                Ok(ev) => {
                    if let Err(d) = self.handle(ev, span, Some(span), out) {
                        break Err(d);
                    }
                }
                Err(e) => break Err(wf(format!("not well-formed in &{name};: {e}"), span)),
            }
        };
        self.active.pop();
        let balanced = self.stack.len() == self.base;
        self.base = base;
        result?;
        if !balanced {
            return Err(wf(format!("entity &{name}; is not balanced"), span));
        }
        Ok(())
    }

    fn doctype(&mut self, raw: &str, span: Span) -> Result<(), Diagnostic> {
        // An external subset is never fetched; nothing declared in it is known.
        let Some(open) = raw.find('[') else {
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
            let entity = match after.chars().next() {
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

    fn start_tag(
        &mut self,
        raw: &str,
        span: Span,
        empty: bool,
        out: &mut Batch,
    ) -> Result<(), Diagnostic> {
        if self.root_closed && !self.in_fragment() {
            return Err(wf("a second root element", span));
        }
        self.seen_root = true;
        let name_end = raw
            .bytes()
            .position(|b| is_ws_byte(b) || b == b'/')
            .unwrap_or(raw.len());
        let qname = raw.get(..name_end).unwrap_or("");
        if !is_qname(qname) {
            return Err(wf(format!("'{qname}' is not a valid element name"), span));
        }
        let attr_text = raw.get(name_end..).unwrap_or("");
        let mut raw_attrs = std::mem::take(&mut self.raw_attrs);
        let parsed = parse_attributes_into(attr_text, &mut raw_attrs).map_err(|m| wf(m, span));
        let result = parsed
            .and_then(|()| self.start_tag_with(qname, attr_text, &raw_attrs, span, empty, out));
        self.raw_attrs = raw_attrs;
        result
    }

    fn start_tag_with(
        &mut self,
        qname: &str,
        attr_text: &str,
        raw_attrs: &[(Range<usize>, Range<usize>)],
        span: Span,
        empty: bool,
        out: &mut Batch,
    ) -> Result<(), Diagnostic> {
        let frame = self.bindings.len();
        let binding_start = out.bindings.len();
        let mut plain = std::mem::take(&mut self.plain);
        plain.clear();
        // XML §3.3.3 normalisation of every value, in order; namespace declarations bind
        // before any name of the tag is resolved (Namespaces §6.1).
        for (k, v) in raw_attrs {
            let k_str = attr_text.get(k.clone()).unwrap_or("");
            let v_str = attr_text.get(v.clone()).unwrap_or("");
            let is_default = k_str == "xmlns";
            let prefix = k_str.strip_prefix("xmlns:");
            if !is_default && prefix.is_none() {
                let start = out.strings.len();
                self.attr_value_into(v_str, span, &mut out.strings, 0)?;
                check_chars(out.strings.get(start..).unwrap_or(""), span)?;
                plain.push((k.clone(), start..out.strings.len()));
                continue;
            }
            let mut value = std::mem::take(&mut self.scratch);
            value.clear();
            let r = self.attr_value_into(v_str, span, &mut value, 0);
            let r = r.and_then(|()| check_chars(&value, span));
            let r = r.and_then(|()| self.bind(prefix, &value, span, out));
            self.scratch = value;
            r?;
        }
        let bindings_end = out.bindings.len();
        let (ns, local) = self
            .resolve(qname, true)
            .ok_or_else(|| wf(format!("prefix of element <{qname}> is not bound"), span))?;
        let attr_start = out.attrs.len();
        for (k, value) in &plain {
            let k = attr_text.get(k.clone()).unwrap_or("");
            if !is_qname(k) {
                return Err(wf(format!("'{k}' is not a valid attribute name"), span));
            }
            let Some((ans, alocal)) = self.resolve(k, false) else {
                return Err(wf(format!("prefix of attribute '{k}' is not bound"), span));
            };
            let local_str = k.get(alocal..).unwrap_or("");
            let dup = out.attrs.get(attr_start..).unwrap_or(&[]).iter().any(|a| {
                a.ns == ans
                    && same(
                        out.strings.get(a.local..a.qname.end).unwrap_or(""),
                        local_str,
                    )
            });
            if dup {
                return Err(wf(format!("duplicate attribute '{k}'"), span));
            }
            let q0 = out.strings.len();
            out.strings.push_str(k);
            out.attrs.push(PackedAttr {
                ns: ans,
                qname: q0..out.strings.len(),
                local: q0 + alocal,
                value: value.clone(),
            });
        }
        self.plain = plain;
        let q0 = out.strings.len();
        out.strings.push_str(qname);
        let qrange = q0..out.strings.len();
        self.flush(out);
        out.events.push(Packed::Start {
            ns,
            qname: qrange.clone(),
            local: q0 + local,
            attrs: attr_start..out.attrs.len(),
            bindings: binding_start..bindings_end,
            span,
        });
        if empty {
            // An empty-element tag: `End` follows at once, with the same name.
            out.events.push(Packed::End {
                ns,
                qname: qrange,
                local: q0 + local,
                span,
            });
            self.bindings.truncate(frame);
            if self.stack.len() == self.base && !self.in_fragment() {
                self.root_closed = self.stack.is_empty();
            }
        } else {
            let at = self.names.len();
            self.names.push_str(qname);
            self.stack.push((at, frame));
        }
        Ok(())
    }

    /// A namespace declaration (`prefix` `None` for the default namespace), checked per
    /// Namespaces in XML §3 and recorded in scope and in the batch.
    fn bind(
        &mut self,
        prefix: Option<&str>,
        value: &str,
        span: Span,
        out: &mut Batch,
    ) -> Result<(), Diagnostic> {
        match prefix {
            None => {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(wf(
                        format!("the namespace {value} cannot be the default"),
                        span,
                    ));
                }
            }
            Some(p) => {
                if value.is_empty() {
                    return Err(wf(format!("prefix '{p}' cannot be undeclared"), span));
                }
                if p == "xmlns" || (p == "xml") != (value == XML_NS) || value == XMLNS_NS {
                    return Err(wf(
                        format!("illegal binding of prefix '{p}' to {value}"),
                        span,
                    ));
                }
            }
        }
        let id = self.ns_id(value, out);
        let p = prefix.unwrap_or("");
        self.bindings.push((p.to_string(), id));
        let s = out.strings.len();
        out.strings.push_str(p);
        out.bindings.push((s..out.strings.len(), id));
        Ok(())
    }

    fn end_tag(&mut self, name: &str, span: Span, out: &mut Batch) -> Result<(), Diagnostic> {
        if self.in_fragment() && self.stack.len() <= self.base {
            return Err(wf(
                format!("end tag </{name}> closes an element opened outside the entity"),
                span,
            ));
        }
        let Some((at, frame)) = self.stack.pop() else {
            return Err(wf(format!("end tag </{name}> without a start tag"), span));
        };
        let open = self.names.get(at..).unwrap_or("");
        if !same(open, name) {
            let msg = format!("end tag </{name}> does not match start tag <{open}>");
            return Err(wf(msg, span));
        }
        let (ns, local) = self.resolve(name, true).unwrap_or((NS_NONE, 0));
        let q0 = out.strings.len();
        out.strings.push_str(name);
        self.names.truncate(at);
        self.bindings.truncate(frame);
        if self.stack.is_empty() && !self.in_fragment() {
            self.root_closed = true;
        }
        self.flush(out);
        out.events.push(Packed::End {
            ns,
            qname: q0..out.strings.len(),
            local: q0 + local,
            span,
        });
        Ok(())
    }

    /// XML §3.3.3 attribute-value normalisation for CDATA attributes, appended to `out`.
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
        Ok(())
    }
}

/// Runs `consume` on the events of `input` while another thread reads them: the reader fills
/// batches ahead (at most a few, so memory stays bounded) and the consumer gets them in order.
/// Falls back to reading on the calling thread if no thread can be started.
pub fn pipe<R, T>(input: R, consume: impl FnOnce(&mut dyn EventSource) -> T) -> T
where
    R: BufRead + Send,
{
    use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
    /// Batches in flight between the threads.
    const AHEAD: usize = 4;
    struct Piped {
        full: Receiver<Batch>,
        empty: SyncSender<Batch>,
        ended: bool,
    }
    impl EventSource for Piped {
        fn fill(&mut self, out: &mut Batch) {
            if self.ended {
                out.clear();
                out.status = Status::Done;
                return;
            }
            match self.full.recv() {
                Ok(b) => {
                    let old = std::mem::replace(out, b);
                    if !matches!(out.status, Status::More) {
                        self.ended = true;
                    }
                    // The reader may have stopped already; the batch is then just dropped.
                    let _ = self.empty.try_send(old);
                }
                Err(_) => {
                    self.ended = true;
                    out.clear();
                    out.status = Status::Failed(Diagnostic::error(
                        "xml/internal",
                        "internal error: the reading thread stopped",
                    ));
                }
            }
        }
    }
    let (full_tx, full_rx) = sync_channel::<Batch>(AHEAD);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(AHEAD + 2);
    // The reader moves to the new thread through this slot; if no thread starts, it is still
    // here and the document is read on this thread.
    let slot = std::sync::Mutex::new(Some(StreamReader::new(input)));
    std::thread::scope(|scope| {
        let slot_ref = &slot;
        let producer = std::thread::Builder::new().spawn_scoped(scope, move || {
            let taken = slot_ref.lock().ok().and_then(|mut s| s.take());
            let Some(mut reader) = taken else { return };
            loop {
                let mut b = empty_rx.try_recv().unwrap_or_default();
                reader.fill(&mut b);
                let last = !matches!(b.status, Status::More);
                if full_tx.send(b).is_err() || last {
                    return;
                }
            }
        });
        if producer.is_ok() {
            let mut piped = Piped {
                full: full_rx,
                empty: empty_tx,
                ended: false,
            };
            return consume(&mut piped);
        }
        let taken = slot.lock().ok().and_then(|mut s| s.take());
        match taken {
            Some(mut reader) => consume(&mut reader),
            None => {
                let mut piped = Piped {
                    full: full_rx,
                    empty: empty_tx,
                    ended: false,
                };
                consume(&mut piped)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Event, XmlReader, read_all};

    /// Every event of `src` as owned events (namespaces resolved), and the error if any.
    fn drain(src: &mut dyn EventSource) -> (Vec<Event>, Option<Diagnostic>, usize) {
        let mut batch = Batch::default();
        let mut ns = Namespaces::default();
        let mut out = Vec::new();
        let mut batches = 0;
        loop {
            src.fill(&mut batch);
            ns.absorb(&batch);
            batches += 1;
            out.extend(batch.events().map(|e| super::super::owned(e, &ns)));
            match std::mem::take(&mut batch.status) {
                Status::More => {}
                Status::Done => return (out, None, batches),
                Status::Failed(d) => return (out, Some(d), batches),
            }
        }
    }

    const DOCS: &[&str] = &[
        "<a xmlns='u' xmlns:p='v' p:x='1' y='&lt;2'>\r\n<p:b/>t&amp;<![CDATA[<c>]]><!-- x -->é</a>",
        "<!DOCTYPE a [<!ENTITY e \"<b>x</b>y\"><!ENTITY t 'hi'>]><a>&e;&t;<b a='&t;'/></a>",
        "<?xml version='1.0'?>\n<r xmlns:q='w'><q:s xmlns:q='z' q:k=' a\tb '>  </q:s><q:t/></r>\n",
        "<a><b></a>",
        "<a x='1' x='2'/>",
        "<a>text</a>tail",
    ];

    #[test]
    fn chunked_input_reads_like_a_slice() {
        for doc in DOCS {
            let whole = drain(&mut StreamReader::new(doc.as_bytes()));
            for cap in [1, 2, 3, 7, 64] {
                let input = std::io::BufReader::with_capacity(cap, doc.as_bytes());
                let chunked = drain(&mut StreamReader::new(input));
                assert_eq!(chunked.0, whole.0, "{doc:?} in chunks of {cap}");
                assert_eq!(chunked.1, whole.1, "{doc:?} in chunks of {cap}");
            }
        }
    }

    #[test]
    fn owned_reader_agrees_with_batches() {
        for doc in DOCS {
            let (events, err, _) = drain(&mut StreamReader::new(doc.as_bytes()));
            match read_all(doc) {
                Ok(all) => {
                    assert!(err.is_none(), "{doc:?}");
                    assert_eq!(all, events, "{doc:?}");
                }
                Err(d) => assert_eq!(Some(d), err, "{doc:?}"),
            }
        }
    }

    #[test]
    fn piped_reading_gives_the_same_events_and_error() {
        let big = format!(
            "<r xmlns='u'>{}</r>",
            (0..5000)
                .map(|i| format!("<e n='{i}' xmlns:x='ns{}'>t{i}</e>", i % 7))
                .collect::<String>()
        );
        let broken = format!("{}</x>", big.trim_end_matches("</r>"));
        for doc in [big.as_str(), broken.as_str()] {
            let (inline, inline_err, batches) = drain(&mut StreamReader::new(doc.as_bytes()));
            assert!(batches > 3, "the document spans several batches");
            let (piped, piped_err, _) = pipe(doc.as_bytes(), |src| drain(src));
            assert_eq!(piped, inline);
            assert_eq!(piped_err, inline_err);
        }
        let (_, err, _) = pipe(broken.as_bytes(), |src| drain(src));
        assert!(err.is_some_and(|d| d.message.contains("does not match")));
    }

    #[test]
    fn text_chunks_end_like_sax() {
        let chunk = |doc: &str| {
            let mut r = StreamReader::new(doc.as_bytes());
            let mut b = Batch::default();
            r.fill(&mut b);
            b.events()
                .find_map(|e| match e {
                    EventRef::Text { chunk_end, .. } => Some(chunk_end),
                    _ => None,
                })
                .unwrap_or(0)
        };
        // The line of the first non-blank character ends the chunk.
        assert_eq!(chunk("<a>\n  stray words\n  more</a>"), 17);
        // A reference is a chunk of its own.
        assert_eq!(chunk("<a>&amp; x</a>"), 8);
        // Blank text before a comment: the text's end.
        assert_eq!(chunk("<a>  <!-- c -->x</a>"), 16);
        // One line of text: up to the markup after it.
        assert_eq!(chunk("<a>  words</a>"), 10);
    }

    #[test]
    fn invalid_utf8_is_a_located_error() {
        let doc = b"<a>ok \xFF no</a>";
        let (_, err, _) = drain(&mut StreamReader::new(&doc[..]));
        let Some(d) = err else {
            panic!("accepted invalid UTF-8")
        };
        assert!(d.message.contains("UTF-8"), "{}", d.message);
        assert!(d.span.is_some_and(|s| s.start <= 6));
    }

    #[test]
    fn events_by_index_are_the_events_in_order() {
        let mut r = StreamReader::new(DOCS[0].as_bytes());
        let mut b = Batch::default();
        r.fill(&mut b);
        let ns = Namespaces::default();
        let all: Vec<Event> = b.events().map(|e| super::super::owned(e, &ns)).collect();
        let by_index: Vec<Event> = (0..)
            .map_while(|i| b.event(i))
            .map(|e| super::super::owned(e, &ns))
            .collect();
        assert!(!all.is_empty());
        assert_eq!(all, by_index);
    }

    #[test]
    fn namespaces_are_numbered_once_per_document() {
        let doc = "<a xmlns='u'><b xmlns='v'/><c xmlns='u'/></a>";
        let mut r = StreamReader::new(doc.as_bytes());
        let mut b = Batch::default();
        r.fill(&mut b);
        let ids: Vec<u32> = b
            .events()
            .filter_map(|e| match e {
                EventRef::Start(s) => Some(s.ns),
                _ => None,
            })
            .collect();
        assert_eq!(ids, vec![2, 3, 2]);
        let mut ns = Namespaces::default();
        ns.absorb(&b);
        assert_eq!((ns.uri(2), ns.uri(3), ns.uri(NS_XML)), ("u", "v", XML_NS));
        // The owned reader resolves them back to URIs.
        let mut x = XmlReader::new(doc);
        assert!(matches!(x.next_event(), Ok(Some(Event::Start { ns, .. })) if ns == "u"));
    }
}
