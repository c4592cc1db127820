//! RELAX NG compact syntax: reading `.rnc` into the XML syntax and writing XML syntax back as
//! readable compact syntax.
//!
//! Follows the OASIS "RELAX NG Compact Syntax" Committee Specification of 2002-11-21: lexical
//! structure (§3: newline normalisation, `\x{...}` escapes, comments, `##` documentation),
//! declarations (§4: `namespace`, `default namespace`, `datatypes`, `inherit`), annotations
//! (§5: initial `[...]`, documentation shorthand, `>>` following annotations, grammar
//! annotations), and the translation of Appendix A to the XML syntax of RELAX NG (§3 of the
//! RELAX NG specification). The output is a string of XML syntax in the namespace
//! `http://relaxng.org/ns/structure/1.0`; simplification (RELAX NG §4) and the restrictions
//! (RELAX NG §7) are the engine's job, not this module's, except where a compact-syntax rule
//! mirrors them (name-class `except` nesting, RELAX NG §4.16).
//!
//! Diagnostic codes: `rnc/syntax` (lexical and grammar errors), `rnc/undeclared-prefix`,
//! `rnc/reserved-namespace` (`xml`/`xmlns` bindings, Namespaces in XML §3),
//! `rnc/annotation` (annotations RELAX NG §3 does not allow), `rnc/duplicate-attribute`,
//! `rnc/except-nesting` (RELAX NG §4.16), `rnc/invalid-value`, `rnc/too-deep`; when writing,
//! `rnc/xml-syntax` (input that is not RELAX NG XML syntax) and `rnc/unrepresentable`
//! (XML syntax the compact syntax cannot express); `rnc/internal` if the translator failed.
//!
//! `#` comments become XML comments where they stand before a definition or a pattern (and
//! XML comments there become `#` comments when writing); elsewhere they are dropped.
//!
//! This module must not touch the filesystem: `include` and `external` hrefs are copied into the
//! output unchanged for the caller to resolve. It never panics on any input; nesting deeper
//! than [`MAX_DEPTH`] is refused with `rnc/too-deep`.

// `Diagnostic` is the project's error value; a parser returns it by value on the rare error path.
#![allow(clippy::result_large_err)]

use crate::diag::{Diagnostic, Span};
use std::collections::BTreeMap;

/// The RELAX NG structure namespace (RELAX NG §3).
pub const RNG_NS: &str = "http://relaxng.org/ns/structure/1.0";
/// The annotations namespace used for `##` documentation (RELAX NG DTD Compatibility §4).
pub const ANN_NS: &str = "http://relaxng.org/ns/compatibility/annotations/1.0";
/// The XML namespace, bound to the prefix `xml` (Namespaces in XML §3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of namespace declarations, which no prefix may be bound to.
pub const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns";
/// The XML Schema datatypes library, predeclared as `xsd` (Compact Syntax §4).
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema-datatypes";
/// Deepest recursion accepted before `rnc/too-deep`: parser levels in the compact syntax (a
/// nested `element { }` takes two), elements in the XML syntax.
pub const MAX_DEPTH: usize = 200;

const KEYWORDS: &[&str] = &[
    "attribute",
    "default",
    "datatypes",
    "div",
    "element",
    "empty",
    "external",
    "grammar",
    "include",
    "inherit",
    "list",
    "mixed",
    "namespace",
    "notAllowed",
    "parent",
    "start",
    "string",
    "text",
    "token",
];

fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

fn err_at(code: &str, span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(code, msg).with_span(span)
}

fn syntax(span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error("rnc/syntax", msg).with_span(span)
}

// ---------------------------------------------------------------------------------------------
// Lexical structure (Compact Syntax §3)
// ---------------------------------------------------------------------------------------------

/// One character after newline normalisation and escape processing.
#[derive(Clone, Copy)]
struct Ch {
    c: char,
    start: usize,
    end: usize,
    escaped: bool,
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Newline normalisation then `\x{...}` escapes (Compact Syntax §3).
fn decode(text: &str) -> Result<Vec<Ch>, Diagnostic> {
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let end_of = |k: usize| bytes.get(k).map(|&(p, _)| p).unwrap_or(text.len());
    while let Some(&(pos, c)) = bytes.get(i) {
        if pos == 0 && c == '\u{FEFF}' {
            i += 1;
            continue;
        }
        if c == '\r' {
            let mut next = i + 1;
            if matches!(bytes.get(next), Some(&(_, '\n'))) {
                next += 1;
            }
            out.push(Ch {
                c: '\n',
                start: pos,
                end: end_of(next),
                escaped: false,
            });
            i = next;
            continue;
        }
        if c == '\\' {
            let mut k = i + 1;
            while matches!(bytes.get(k), Some(&(_, 'x'))) {
                k += 1;
            }
            if k > i + 1 && matches!(bytes.get(k), Some(&(_, '{'))) {
                let mut j = k + 1;
                let mut value: u32 = 0;
                let mut digits = 0;
                let mut overflow = false;
                loop {
                    match bytes.get(j) {
                        Some(&(_, '}')) => break,
                        Some(&(_, h)) if h.is_ascii_hexdigit() => {
                            value = value
                                .checked_mul(16)
                                .and_then(|v| v.checked_add(h.to_digit(16).unwrap_or(0)))
                                .unwrap_or_else(|| {
                                    overflow = true;
                                    0
                                });
                            digits += 1;
                            j += 1;
                        }
                        _ => {
                            return Err(syntax(
                                Span::new(pos, end_of(j)),
                                "unterminated or malformed escape: expected hex digits and `}` after `\\x{`",
                            ));
                        }
                    }
                }
                let span = Span::new(pos, end_of(j + 1));
                if digits == 0 {
                    return Err(syntax(span, "empty escape `\\x{}`"));
                }
                let ch = if overflow {
                    None
                } else {
                    char::from_u32(value)
                };
                match ch {
                    Some(ch) if is_xml_char(ch) => out.push(Ch {
                        c: ch,
                        start: pos,
                        end: span.end,
                        escaped: true,
                    }),
                    _ => {
                        return Err(syntax(
                            span,
                            "escape does not denote a character allowed in XML",
                        ));
                    }
                }
                i = j + 1;
                continue;
            }
        }
        if !is_xml_char(c) {
            return Err(syntax(
                Span::new(pos, end_of(i + 1)),
                format!("character U+{:04X} is not allowed in XML", c as u32),
            ));
        }
        out.push(Ch {
            c,
            start: pos,
            end: end_of(i + 1),
            escaped: false,
        });
        i += 1;
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An identifier or keyword; `bool` is true when written with a leading `\`.
    Ident(String, bool),
    CName(String, String),
    NsName(String),
    Lit(String),
    Doc(String),
    /// A `#` comment (consecutive lines joined), kept as an XML comment where it can be.
    Comment(String),
    P(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Span,
}

fn name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn name_char(c: char) -> bool {
    name_start(c)
        || c.is_alphanumeric()
        || matches!(c, '.' | '-' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

fn lex(text: &str) -> Result<Vec<Token>, Diagnostic> {
    let cs = decode(text)?;
    let mut toks = Vec::new();
    let mut i = 0;
    let at = |k: usize| cs.get(k).map(|c| c.c);
    let start_of = |k: usize| cs.get(k).map(|c| c.start).unwrap_or(text.len());
    let end_of = |k: usize| {
        cs.get(k.wrapping_sub(1))
            .map(|c| c.end)
            .unwrap_or(text.len())
    };
    while let Some(ch) = cs.get(i).copied() {
        let c = ch.c;
        if matches!(c, ' ' | '\t' | '\n') {
            i += 1;
            continue;
        }
        let st = ch.start;
        if c == '#' {
            let mut j = i + 1;
            let doc = at(j) == Some('#');
            while let Some(d) = at(j) {
                if d == '\n' {
                    break;
                }
                j += 1;
            }
            if doc {
                let mut k = i;
                while at(k) == Some('#') && k < j {
                    k += 1;
                }
                if at(k) == Some(' ') {
                    k += 1;
                }
                let s: String = cs.get(k..j).unwrap_or(&[]).iter().map(|c| c.c).collect();
                toks.push(Token {
                    tok: Tok::Doc(s),
                    span: Span::new(st, end_of(j)),
                });
            } else {
                let mut k = i + 1;
                if at(k) == Some(' ') {
                    k += 1;
                }
                let s: String = cs.get(k..j).unwrap_or(&[]).iter().map(|c| c.c).collect();
                let s = s.trim_end().to_string();
                let end = end_of(j);
                let joined = match toks.last_mut() {
                    Some(Token {
                        tok: Tok::Comment(prev),
                        span,
                    }) if text.get(span.end..st).is_some_and(|gap| {
                        gap.trim().is_empty() && gap.matches('\n').count() == 1
                    }) =>
                    {
                        prev.push('\n');
                        prev.push_str(&s);
                        span.end = end;
                        true
                    }
                    _ => false,
                };
                if !joined {
                    toks.push(Token {
                        tok: Tok::Comment(s),
                        span: Span::new(st, end),
                    });
                }
            }
            i = j;
            continue;
        }
        if c == '"' || c == '\'' {
            let triple = at(i + 1) == Some(c) && at(i + 2) == Some(c);
            let mut j = if triple { i + 3 } else { i + 1 };
            let mut s = String::new();
            loop {
                let Some(d) = cs.get(j).copied() else {
                    return Err(syntax(Span::new(st, text.len()), "unterminated literal"));
                };
                if d.c == c {
                    if !triple {
                        j += 1;
                        break;
                    }
                    if at(j + 1) == Some(c) && at(j + 2) == Some(c) {
                        j += 3;
                        break;
                    }
                }
                if d.c == '\n' && !d.escaped && !triple {
                    return Err(syntax(
                        Span::new(st, d.end),
                        "newline in a literal: use a triple-quoted literal or `\\x{A}`",
                    ));
                }
                s.push(d.c);
                j += 1;
            }
            toks.push(Token {
                tok: Tok::Lit(s),
                span: Span::new(st, end_of(j)),
            });
            i = j;
            continue;
        }
        if c == '\\' || name_start(c) {
            let escaped = c == '\\';
            let mut j = if escaped { i + 1 } else { i };
            if !at(j).is_some_and(name_start) {
                return Err(syntax(
                    Span::new(st, end_of(j + 1)),
                    "expected an identifier after `\\`",
                ));
            }
            let name_at = |from: usize| {
                let mut k = from;
                while at(k).is_some_and(name_char) {
                    k += 1;
                }
                k
            };
            let k = name_at(j);
            let first: String = cs.get(j..k).unwrap_or(&[]).iter().map(|c| c.c).collect();
            j = k;
            if !escaped && at(j) == Some(':') {
                if at(j + 1) == Some('*') {
                    toks.push(Token {
                        tok: Tok::NsName(first),
                        span: Span::new(st, end_of(j + 2)),
                    });
                    i = j + 2;
                    continue;
                }
                if at(j + 1).is_some_and(name_start) {
                    let k2 = name_at(j + 1);
                    let local: String = cs
                        .get(j + 1..k2)
                        .unwrap_or(&[])
                        .iter()
                        .map(|c| c.c)
                        .collect();
                    toks.push(Token {
                        tok: Tok::CName(first, local),
                        span: Span::new(st, end_of(k2)),
                    });
                    i = k2;
                    continue;
                }
            }
            toks.push(Token {
                tok: Tok::Ident(first, escaped),
                span: Span::new(st, end_of(j)),
            });
            i = j;
            continue;
        }
        let two = (c, at(i + 1));
        let p: Option<(&'static str, usize)> = match two {
            ('|', Some('=')) => Some(("|=", 2)),
            ('&', Some('=')) => Some(("&=", 2)),
            ('>', Some('>')) => Some((">>", 2)),
            ('=', _) => Some(("=", 1)),
            ('{', _) => Some(("{", 1)),
            ('}', _) => Some(("}", 1)),
            ('(', _) => Some(("(", 1)),
            (')', _) => Some((")", 1)),
            ('[', _) => Some(("[", 1)),
            (']', _) => Some(("]", 1)),
            (',', _) => Some((",", 1)),
            ('&', _) => Some(("&", 1)),
            ('|', _) => Some(("|", 1)),
            ('?', _) => Some(("?", 1)),
            ('*', _) => Some(("*", 1)),
            ('+', _) => Some(("+", 1)),
            ('-', _) => Some(("-", 1)),
            ('~', _) => Some(("~", 1)),
            _ => None,
        };
        match p {
            Some((s, n)) => {
                toks.push(Token {
                    tok: Tok::P(s),
                    span: Span::new(st, end_of(i + n)),
                });
                i += n;
            }
            None => {
                return Err(syntax(
                    Span::new(st, ch.end),
                    format!("unexpected character `{}`", c.escape_default()),
                ));
            }
        }
    }
    let _ = start_of;
    toks.push(Token {
        tok: Tok::Eof,
        span: Span::at(text.len()),
    });
    Ok(toks)
}

// ---------------------------------------------------------------------------------------------
// Abstract syntax shared by both directions
// ---------------------------------------------------------------------------------------------

/// A namespace as named in a schema: `None` is `inherit` (no `ns` attribute in effect).
type Ns = Option<String>;

/// An expanded name with the prefix it was written with, if any.
#[derive(Debug, Clone, PartialEq, Default)]
struct QName {
    prefix: Option<String>,
    uri: String,
    local: String,
}

/// A foreign attribute in an annotation.
#[derive(Debug, Clone, PartialEq)]
struct AAttr {
    name: QName,
    value: String,
}

/// A foreign element in an annotation.
#[derive(Debug, Clone, PartialEq)]
struct AElem {
    name: QName,
    attrs: Vec<AAttr>,
    children: Vec<AChild>,
}

#[derive(Debug, Clone, PartialEq)]
enum AChild {
    Text(String),
    Elem(AElem),
}

/// Initial annotations (Compact Syntax §5.1, §5.2): documentation first, then `[...]`.
#[derive(Debug, Clone, PartialEq, Default)]
struct Ann {
    attrs: Vec<AAttr>,
    elems: Vec<AElem>,
}

impl Ann {
    fn is_empty(&self) -> bool {
        self.attrs.is_empty() && self.elems.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum NcKind {
    Name {
        ns: Ns,
        prefix: Option<String>,
        local: String,
    },
    NsName {
        ns: Ns,
        prefix: Option<String>,
        except: Option<Box<Nc>>,
    },
    AnyName {
        except: Option<Box<Nc>>,
    },
    Choice(Vec<Nc>),
}

#[derive(Debug, Clone, PartialEq)]
struct Nc {
    kind: NcKind,
    ann: Ann,
    follow: Vec<AElem>,
}

#[derive(Debug, Clone, PartialEq)]
struct Param {
    name: String,
    value: String,
    ann: Ann,
}

#[derive(Debug, Clone, PartialEq)]
enum PatKind {
    Element(Nc, Box<Pat>),
    Attribute(Nc, Box<Pat>),
    Group(Vec<Pat>),
    Interleave(Vec<Pat>),
    Choice(Vec<Pat>),
    Optional(Box<Pat>),
    ZeroOrMore(Box<Pat>),
    OneOrMore(Box<Pat>),
    List(Box<Pat>),
    Mixed(Box<Pat>),
    Ref(String),
    ParentRef(String),
    Empty,
    Text,
    NotAllowed,
    /// `lib` and `ty` are `None` for the built-in `token` written as a bare literal.
    Value {
        lib: String,
        ty: Option<String>,
        value: String,
    },
    Data {
        lib: String,
        ty: String,
        params: Vec<Param>,
        except: Option<Box<Pat>>,
    },
    External {
        href: String,
        ns: Option<Ns>,
    },
    Grammar(Vec<Comp>),
}

#[derive(Debug, Clone, PartialEq)]
struct Pat {
    kind: PatKind,
    ann: Ann,
    follow: Vec<AElem>,
    /// Written inside parentheses in the compact syntax (kept to decide unwrapping).
    paren: bool,
    /// `#` comments just before it, kept as XML comments.
    comments: Vec<String>,
}

impl Pat {
    fn new(kind: PatKind) -> Self {
        Pat {
            kind,
            ann: Ann::default(),
            follow: Vec::new(),
            paren: false,
            comments: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Combine {
    Assign,
    Choice,
    Interleave,
}

#[derive(Debug, Clone, PartialEq)]
enum Comp {
    Define {
        name: String,
        combine: Combine,
        pat: Pat,
        ann: Ann,
    },
    Start {
        combine: Combine,
        pat: Pat,
        ann: Ann,
    },
    Div {
        comps: Vec<Comp>,
        ann: Ann,
    },
    Include {
        href: String,
        ns: Option<Ns>,
        comps: Vec<Comp>,
        ann: Ann,
    },
    Annotation(AElem),
    Comment(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    Pattern(Box<Pat>),
    Grammar(Vec<Comp>),
}

/// A whole schema with its declarations (Compact Syntax §4).
#[derive(Debug, Clone, PartialEq)]
struct Schema {
    default_ns: Ns,
    default_prefix: Option<String>,
    namespaces: Vec<(String, Ns)>,
    datatypes: Vec<(String, String)>,
    /// Comments before the top-level pattern (a grammar keeps them inside).
    comments: Vec<String>,
    body: Body,
}

// ---------------------------------------------------------------------------------------------
// Parser (Compact Syntax §2, Appendix A)
// ---------------------------------------------------------------------------------------------

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// prefix → namespace (`None` = inherit). `xml` is predeclared.
    ns: BTreeMap<String, Ns>,
    default_ns: Ns,
    dt: BTreeMap<String, String>,
    decl_order: Vec<(String, Ns)>,
    dt_order: Vec<(String, String)>,
    default_prefix: Option<String>,
    /// Where the last `>>` was, for the top-level check.
    last_follow: Option<Span>,
    /// True while reading the top-level pattern outside any braces, where following
    /// annotations have no element to belong to (as jing/trang read the grammar).
    no_follow: bool,
}

type PResult<T> = Result<T, Diagnostic>;

impl Parser {
    fn new(toks: Vec<Token>) -> Self {
        let mut ns = BTreeMap::new();
        ns.insert("xml".to_string(), Some(XML_NS.to_string()));
        let mut dt = BTreeMap::new();
        dt.insert("xsd".to_string(), XSD_NS.to_string());
        Parser {
            toks,
            pos: 0,
            depth: 0,
            ns,
            default_ns: None,
            dt,
            decl_order: Vec::new(),
            dt_order: Vec::new(),
            default_prefix: None,
            last_follow: None,
            no_follow: false,
        }
    }

    fn eof_span(&self) -> Span {
        self.toks.last().map(|t| t.span).unwrap_or_default()
    }

    /// Index of the next token that is not a comment. Documentation (`##`) is a token: it is
    /// only allowed where initial annotations are (Compact Syntax §5.2), as jing/trang read it.
    fn idx(&self, from: usize) -> usize {
        let mut i = from;
        while matches!(self.toks.get(i).map(|t| &t.tok), Some(Tok::Comment(_))) {
            i += 1;
        }
        i
    }

    /// The `n`th token ahead skipping documentation too, for deciding what comes next.
    fn sig_at(&self, n: usize) -> &Tok {
        let skip = |mut i: usize| {
            while matches!(
                self.toks.get(i).map(|t| &t.tok),
                Some(Tok::Doc(_) | Tok::Comment(_))
            ) {
                i += 1;
            }
            i
        };
        let mut i = skip(self.pos);
        for _ in 0..n {
            i = skip(i + 1);
        }
        self.toks.get(i).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let mut i = self.idx(self.pos);
        for _ in 0..n {
            i = self.idx(i + 1);
        }
        self.toks.get(i).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }

    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn span(&self) -> Span {
        let i = self.idx(self.pos);
        self.toks
            .get(i)
            .map(|t| t.span)
            .unwrap_or_else(|| self.eof_span())
    }

    fn bump(&mut self) -> Token {
        let i = self.idx(self.pos);
        self.pos = i + 1;
        self.toks.get(i).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            span: self.eof_span(),
        })
    }

    fn is_p(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::P(q) if *q == p)
    }

    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s, false) if s == k)
    }

    fn expect_p(&mut self, p: &str) -> PResult<Span> {
        if self.is_p(p) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&format!("`{p}`")))
        }
    }

    fn unexpected(&self, what: &str) -> Diagnostic {
        let found = match self.peek() {
            Tok::Ident(s, _) => format!("`{s}`"),
            Tok::CName(p, l) => format!("`{p}:{l}`"),
            Tok::NsName(p) => format!("`{p}:*`"),
            Tok::Lit(_) => "a literal".to_string(),
            Tok::Doc(_) => "a documentation comment".to_string(),
            Tok::Comment(_) => "a comment".to_string(),
            Tok::P(p) => format!("`{p}`"),
            Tok::Eof => "end of input".to_string(),
        };
        syntax(self.span(), format!("expected {what}, found {found}"))
            .with_expected(vec![what.to_string()])
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::error(
                "rnc/too-deep",
                format!("nesting deeper than {MAX_DEPTH} levels"),
            )
            .with_span(self.span()));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// `literal ::= literalSegment ("~" literalSegment)*`
    fn literal(&mut self) -> PResult<String> {
        let Tok::Lit(s) = self.peek().clone() else {
            return Err(self.unexpected("a literal"));
        };
        self.bump();
        let mut s = s;
        while self.is_p("~") {
            self.bump();
            let Tok::Lit(t) = self.peek().clone() else {
                return Err(self.unexpected("a literal after `~`"));
            };
            self.bump();
            s.push_str(&t);
        }
        Ok(s)
    }

    fn identifier_or_keyword(&mut self) -> PResult<String> {
        match self.peek().clone() {
            Tok::Ident(s, _) => {
                self.bump();
                Ok(s)
            }
            _ => Err(self.unexpected("an identifier")),
        }
    }

    fn lookup_ns(&self, prefix: &str, span: Span) -> PResult<Ns> {
        match self.ns.get(prefix) {
            Some(n) => Ok(n.clone()),
            None => Err(Diagnostic::error(
                "rnc/undeclared-prefix",
                format!("namespace prefix `{prefix}` is not declared"),
            )
            .with_span(span)),
        }
    }

    // -- declarations (§4) -------------------------------------------------------------------

    fn decls(&mut self) -> PResult<()> {
        loop {
            let is_decl = match self.peek() {
                Tok::Ident(s, false) if s == "namespace" || s == "datatypes" => {
                    matches!(self.peek_at(1), Tok::Ident(..))
                        && matches!(self.peek_at(2), Tok::P("="))
                }
                Tok::Ident(s, false) if s == "default" => true,
                _ => false,
            };
            if !is_decl {
                return Ok(());
            }
            let kw = self.bump();
            let Tok::Ident(kw_s, _) = kw.tok else {
                return Err(syntax(kw.span, "expected a declaration"));
            };
            match kw_s.as_str() {
                "default" => {
                    if !self.is_kw("namespace") {
                        return Err(self.unexpected("`namespace`"));
                    }
                    self.bump();
                    let prefix = if self.is_p("=") {
                        None
                    } else {
                        Some((self.identifier_or_keyword()?, self.span()))
                    };
                    self.expect_p("=")?;
                    let sp = self.span();
                    let uri = self.ns_uri()?;
                    if let Some((p, psp)) = prefix {
                        self.declare_ns(&p, uri.clone(), psp)?;
                        self.default_prefix = Some(p);
                    }
                    if let Some(u) = &uri {
                        check_ns_uri(None, u, sp)?;
                    }
                    self.default_ns = uri;
                }
                "namespace" => {
                    let psp = self.span();
                    let p = self.identifier_or_keyword()?;
                    self.expect_p("=")?;
                    let uri = self.ns_uri()?;
                    self.declare_ns(&p, uri, psp)?;
                }
                _ => {
                    let p = self.identifier_or_keyword()?;
                    self.expect_p("=")?;
                    let uri = self.literal()?;
                    // redeclaring a prefix (also `xsd`) takes the later binding
                    self.dt_order.retain(|(q, _)| *q != p);
                    self.dt.insert(p.clone(), uri.clone());
                    self.dt_order.push((p, uri));
                }
            }
        }
    }

    fn ns_uri(&mut self) -> PResult<Ns> {
        if self.is_kw("inherit") {
            self.bump();
            Ok(None)
        } else {
            Ok(Some(self.literal()?))
        }
    }

    fn declare_ns(&mut self, p: &str, uri: Ns, span: Span) -> PResult<()> {
        if p == "xmlns" {
            return Err(err_at(
                "rnc/reserved-namespace",
                span,
                "the prefix `xmlns` cannot be declared",
            ));
        }
        if let Some(u) = &uri {
            check_ns_uri(Some(p), u, span)?;
        } else if p == "xml" {
            return Err(err_at(
                "rnc/reserved-namespace",
                span,
                "the prefix `xml` cannot be bound to `inherit`",
            ));
        }
        // A prefix declared again takes the later binding, as the reference implementation
        // (jing/trang) does.
        self.ns.insert(p.to_string(), uri.clone());
        self.decl_order.retain(|(q, _)| q != p);
        self.decl_order.push((p.to_string(), uri));
        Ok(())
    }

    // -- top level ---------------------------------------------------------------------------

    fn top_level(&mut self) -> PResult<(Vec<String>, Body)> {
        let mut comments = self.take_comments();
        self.decls()?;
        comments.extend(self.take_comments());
        // Decide between a pattern and grammar content by looking past an initial annotation.
        // (one pass over the tokens: `peek_at` would make this quadratic)
        let mut k = 0;
        if matches!(self.sig_at(0), Tok::P("[")) {
            let mut level = 0usize;
            let mut i = self.pos;
            while let Some(t) = self.toks.get(i) {
                match t.tok {
                    Tok::Doc(_) | Tok::Comment(_) => {
                        i += 1;
                        continue;
                    }
                    Tok::P("[") => level += 1,
                    Tok::P("]") => {
                        level = level.saturating_sub(1);
                        if level == 0 {
                            k += 1;
                            break;
                        }
                    }
                    Tok::Eof => break,
                    _ => {}
                }
                k += 1;
                i += 1;
            }
        }
        let grammar = match self.sig_at(k) {
            Tok::Eof => true,
            Tok::Ident(s, false) if s == "start" || s == "div" || s == "include" => true,
            Tok::Ident(s, esc) if *esc || !is_keyword(s) => {
                matches!(self.sig_at(k + 1), Tok::P("=" | "|=" | "&=" | "["))
            }
            Tok::CName(..) => matches!(self.sig_at(k + 1), Tok::P("[")),
            _ => false,
        };
        if grammar {
            let comps = self.grammar_content(false)?;
            if !matches!(self.peek(), Tok::Eof) {
                return Err(self.unexpected("a definition or end of input"));
            }
            let mut all: Vec<Comp> = comments.into_iter().map(Comp::Comment).collect();
            all.extend(comps);
            Ok((Vec::new(), Body::Grammar(all)))
        } else {
            self.no_follow = true;
            let p = self.pattern()?;
            self.no_follow = false;
            if !p.follow.is_empty() {
                return Err(syntax(
                    self.last_follow.unwrap_or_else(|| self.span()),
                    "a following annotation (`>>`) needs an enclosing pattern",
                ));
            }
            if !matches!(self.peek(), Tok::Eof) {
                return Err(self.unexpected("end of input"));
            }
            Ok((comments, Body::Pattern(Box::new(p))))
        }
    }

    // -- annotations (§5) --------------------------------------------------------------------

    /// `#` comments at the current position.
    fn take_comments(&mut self) -> Vec<String> {
        let mut v = Vec::new();
        while let Some(Token {
            tok: Tok::Comment(s),
            ..
        }) = self.toks.get(self.pos)
        {
            v.push(s.clone());
            self.pos += 1;
        }
        v
    }

    fn take_docs(&mut self) -> Vec<AElem> {
        let mut lines: Vec<String> = Vec::new();
        loop {
            match self.toks.get(self.pos).map(|t| &t.tok) {
                Some(Tok::Doc(s)) => lines.push(s.clone()),
                // a plain comment among documentation lines is dropped
                Some(Tok::Comment(_)) if !lines.is_empty() => {}
                _ => break,
            }
            self.pos += 1;
        }
        if lines.is_empty() {
            return Vec::new();
        }
        vec![AElem {
            name: QName {
                prefix: Some("a".to_string()),
                uri: ANN_NS.to_string(),
                local: "documentation".to_string(),
            },
            attrs: Vec::new(),
            children: vec![AChild::Text(lines.join("\n"))],
        }]
    }

    /// `leadAnnotation ::= documentations? ("[" annotationAttributes annotationElements "]")?`
    fn lead(&mut self) -> PResult<Ann> {
        let mut ann = Ann {
            attrs: Vec::new(),
            elems: self.take_docs(),
        };
        if self.is_p("[") {
            let open = self.bump().span;
            let (attrs, children) = self.annotation_body(true)?;
            self.expect_p("]")?;
            ann.attrs = attrs;
            for c in children {
                match c {
                    AChild::Elem(e) => ann.elems.push(e),
                    AChild::Text(_) => {
                        return Err(err_at(
                            "rnc/annotation",
                            open,
                            "text is not allowed directly in an annotation",
                        ));
                    }
                }
            }
            // documentation after `[...]` also belongs to the annotated item
            ann.elems.extend(self.take_docs());
        }
        Ok(ann)
    }

    fn ann_name(&mut self, top: bool, attr: bool) -> PResult<QName> {
        let sp = self.span();
        let (prefix, local) = match self.peek().clone() {
            Tok::Ident(s, _) => (None, s),
            Tok::CName(p, l) => (Some(p), l),
            _ => return Err(self.unexpected("an annotation name")),
        };
        self.bump();
        let uri = match &prefix {
            None => String::new(),
            Some(p) => match self.lookup_ns(p, sp)? {
                Some(u) => u,
                None => {
                    return Err(syntax(
                        sp,
                        format!("prefix `{p}` is bound to `inherit` and cannot name an annotation"),
                    ));
                }
            },
        };
        if attr && prefix.is_none() && local == "xmlns" {
            return Err(err_at(
                "rnc/annotation",
                sp,
                "`xmlns` cannot be an annotation attribute",
            ));
        }
        if attr && top && uri.is_empty() {
            // RELAX NG §3: attributes of RELAX NG elements other than its own are qualified
            return Err(err_at(
                "rnc/annotation",
                sp,
                "an annotation attribute on a pattern needs a namespace prefix",
            ));
        }
        if top && uri == RNG_NS {
            return Err(err_at(
                "rnc/annotation",
                sp,
                "an annotation must not be in the RELAX NG namespace",
            ));
        }
        let prefix = if uri.is_empty() { None } else { prefix };
        Ok(QName { prefix, uri, local })
    }

    /// Attributes then elements and text of one annotation element (or initial annotation).
    fn annotation_body(&mut self, top: bool) -> PResult<(Vec<AAttr>, Vec<AChild>)> {
        self.enter()?;
        let mut attrs: Vec<AAttr> = Vec::new();
        let mut children = Vec::new();
        loop {
            match self.peek() {
                Tok::Ident(..) | Tok::CName(..) if matches!(self.peek_at(1), Tok::P("=")) => {
                    if !children.is_empty() {
                        return Err(syntax(
                            self.span(),
                            "annotation attributes must come before annotation elements",
                        ));
                    }
                    let sp = self.span();
                    let name = self.ann_name(top, true)?;
                    self.expect_p("=")?;
                    let value = self.literal()?;
                    if attrs
                        .iter()
                        .any(|a| a.name.uri == name.uri && a.name.local == name.local)
                    {
                        return Err(err_at(
                            "rnc/duplicate-attribute",
                            sp,
                            "duplicate annotation attribute",
                        ));
                    }
                    attrs.push(AAttr { name, value });
                }
                Tok::Ident(..) | Tok::CName(..) => {
                    let e = self.annotation_element(top)?;
                    children.push(AChild::Elem(e));
                }
                Tok::Lit(_) if !top => {
                    let s = self.literal()?;
                    children.push(AChild::Text(s));
                }
                _ => break,
            }
        }
        self.leave();
        Ok((attrs, children))
    }

    fn annotation_element(&mut self, top: bool) -> PResult<AElem> {
        let name = self.ann_name(top, false)?;
        self.expect_p("[")?;
        let (attrs, children) = self.annotation_body(false)?;
        self.expect_p("]")?;
        Ok(AElem {
            name,
            attrs,
            children,
        })
    }

    fn follow(&mut self) -> PResult<Vec<AElem>> {
        let mut v = Vec::new();
        while self.is_p(">>") {
            if self.no_follow {
                return Err(err_at(
                    "rnc/annotation",
                    self.span(),
                    "a following annotation (`>>`) cannot stand in the top-level pattern outside braces",
                ));
            }
            self.last_follow = Some(self.bump().span);
            v.push(self.annotation_element(true)?);
        }
        Ok(v)
    }

    // -- grammar content ---------------------------------------------------------------------

    fn grammar_content(&mut self, in_include: bool) -> PResult<Vec<Comp>> {
        let saved = std::mem::replace(&mut self.no_follow, false);
        let r = self.grammar_content_inner(in_include);
        self.no_follow = saved;
        r
    }

    fn grammar_content_inner(&mut self, in_include: bool) -> PResult<Vec<Comp>> {
        self.enter()?;
        let mut comps = Vec::new();
        loop {
            comps.extend(self.take_comments().into_iter().map(Comp::Comment));
            if self.is_p("}") || matches!(self.peek(), Tok::Eof) {
                break;
            }
            // grammar annotation element: `name [ ... ]` (name not a keyword)
            let ann_elem = match self.peek() {
                Tok::Ident(s, esc) => {
                    (*esc || !is_keyword(s)) && matches!(self.peek_at(1), Tok::P("["))
                }
                Tok::CName(..) => true,
                _ => false,
            };
            if ann_elem {
                self.take_docs();
                let e = self.annotation_element(true)?;
                comps.push(Comp::Annotation(e));
                continue;
            }
            let ann = self.lead()?;
            let sp = self.span();
            match self.peek().clone() {
                Tok::Ident(s, false) if s == "start" => {
                    self.bump();
                    let combine = self.assign()?;
                    let pat = self.pattern()?;
                    comps.push(Comp::Start { combine, pat, ann });
                }
                Tok::Ident(s, false) if s == "div" => {
                    self.bump();
                    self.expect_p("{")?;
                    let inner = self.grammar_content(in_include)?;
                    self.expect_p("}")?;
                    comps.push(Comp::Div { comps: inner, ann });
                }
                Tok::Ident(s, false) if s == "include" && !in_include => {
                    self.bump();
                    let href = self.literal()?;
                    let ns = self.inherit()?;
                    let mut inner = Vec::new();
                    if self.is_p("{") {
                        self.bump();
                        inner = self.grammar_content(true)?;
                        self.expect_p("}")?;
                    }
                    comps.push(Comp::Include {
                        href,
                        ns,
                        comps: inner,
                        ann,
                    });
                }
                Tok::Ident(s, esc) if esc || !is_keyword(&s) => {
                    self.bump();
                    let combine = self.assign()?;
                    let pat = self.pattern()?;
                    comps.push(Comp::Define {
                        name: s,
                        combine,
                        pat,
                        ann,
                    });
                }
                _ => {
                    let _ = sp;
                    return Err(self.unexpected("a definition, `start`, `div` or `include`"));
                }
            }
        }
        self.leave();
        Ok(comps)
    }

    fn assign(&mut self) -> PResult<Combine> {
        match self.peek() {
            Tok::P("=") => {
                self.bump();
                Ok(Combine::Assign)
            }
            Tok::P("|=") => {
                self.bump();
                Ok(Combine::Choice)
            }
            Tok::P("&=") => {
                self.bump();
                Ok(Combine::Interleave)
            }
            _ => Err(self.unexpected("`=`, `|=` or `&=`")),
        }
    }

    /// `inherit ::= "inherit" "=" identifierOrKeyword`; `None` when absent.
    fn inherit(&mut self) -> PResult<Option<Ns>> {
        if self.is_kw("inherit") && matches!(self.peek_at(1), Tok::P("=")) {
            self.bump();
            self.bump();
            let sp = self.span();
            let p = self.identifier_or_keyword()?;
            Ok(Some(self.lookup_ns(&p, sp)?))
        } else {
            Ok(None)
        }
    }

    // -- patterns ----------------------------------------------------------------------------

    /// `innerPattern`: one particle, or particles joined by one of `,` `&` `|`, or a data
    /// except standing alone.
    fn pattern(&mut self) -> PResult<Pat> {
        self.enter()?;
        let (first, is_except) = self.particle()?;
        let op = match self.peek() {
            Tok::P(p @ ("," | "&" | "|")) => Some(*p),
            _ => None,
        };
        let Some(op) = op else {
            self.leave();
            return Ok(first);
        };
        if is_except {
            return Err(syntax(
                self.span(),
                "a datatype with `-` except must be parenthesized before combining it",
            ));
        }
        let mut items = vec![first];
        while let Tok::P(p @ ("," | "&" | "|")) = self.peek() {
            if *p != op {
                return Err(syntax(
                    self.span(),
                    format!("cannot mix `{op}` and `{p}` without parentheses"),
                ));
            }
            // a comment before the operator belongs to the operand after it
            let pending = self.take_comments();
            self.bump();
            let (mut next, exc) = self.particle()?;
            if exc {
                return Err(syntax(
                    self.span(),
                    "a datatype with `-` except must be parenthesized before combining it",
                ));
            }
            if !pending.is_empty() {
                let mut all = pending;
                all.append(&mut next.comments);
                next.comments = all;
            }
            items.push(next);
        }
        self.leave();
        Ok(Pat::new(match op {
            "," => PatKind::Group(items),
            "&" => PatKind::Interleave(items),
            _ => PatKind::Choice(items),
        }))
    }

    /// A particle: annotated primary, possibly repeated; or an annotated data except (`true`).
    fn particle(&mut self) -> PResult<(Pat, bool)> {
        let comments = self.take_comments();
        let (mut p, exc) = self.particle_inner()?;
        if !comments.is_empty() {
            let mut all = comments;
            all.append(&mut p.comments);
            p.comments = all;
        }
        Ok((p, exc))
    }

    fn particle_inner(&mut self) -> PResult<(Pat, bool)> {
        let ann = self.lead()?;
        let sp = self.span();
        let mut p = self.primary()?;
        if matches!(p.kind, PatKind::Data { .. }) && !p.paren && self.is_p("-") {
            self.bump();
            let lead = self.lead()?;
            let mut e = self.primary()?;
            merge_lead(&mut e, lead, sp)?;
            if let PatKind::Data { except, .. } = &mut p.kind {
                *except = Some(Box::new(e));
            }
            merge_lead(&mut p, ann, sp)?;
            p.follow.extend(self.follow()?);
            return Ok((p, true));
        }
        merge_lead(&mut p, ann, sp)?;
        p.follow.extend(self.follow()?);
        let rep = match self.peek() {
            Tok::P("*") => Some(0),
            Tok::P("+") => Some(1),
            Tok::P("?") => Some(2),
            _ => None,
        };
        if let Some(r) = rep {
            self.bump();
            let inner = Box::new(p);
            p = Pat::new(match r {
                0 => PatKind::ZeroOrMore(inner),
                1 => PatKind::OneOrMore(inner),
                _ => PatKind::Optional(inner),
            });
            p.follow = self.follow()?;
        }
        Ok((p, false))
    }

    fn braced(&mut self) -> PResult<Pat> {
        self.expect_p("{")?;
        let saved = std::mem::replace(&mut self.no_follow, false);
        let p = self.pattern();
        self.no_follow = saved;
        let p = p?;
        self.expect_p("}")?;
        Ok(p)
    }

    fn primary(&mut self) -> PResult<Pat> {
        self.enter()?;
        let sp = self.span();
        let tok = self.peek().clone();
        let kind = match tok {
            Tok::P("(") => {
                self.bump();
                let mut p = self.pattern()?;
                self.expect_p(")")?;
                p.paren = true;
                self.leave();
                return Ok(p);
            }
            Tok::Ident(s, false) if is_keyword(&s) => {
                self.bump();
                match s.as_str() {
                    "element" | "attribute" => {
                        // annotations following a name class stay inside the element
                        let saved = std::mem::replace(&mut self.no_follow, false);
                        let nc = self.name_class(s == "attribute");
                        self.no_follow = saved;
                        let nc = nc?;
                        let body = self.braced()?;
                        if s == "element" {
                            PatKind::Element(nc, Box::new(body))
                        } else {
                            PatKind::Attribute(nc, Box::new(body))
                        }
                    }
                    "list" => PatKind::List(Box::new(self.braced()?)),
                    "mixed" => PatKind::Mixed(Box::new(self.braced()?)),
                    "empty" => PatKind::Empty,
                    "text" => PatKind::Text,
                    "notAllowed" => PatKind::NotAllowed,
                    "parent" => {
                        let name = match self.peek().clone() {
                            Tok::Ident(n, esc) if esc || !is_keyword(&n) => {
                                self.bump();
                                n
                            }
                            _ => return Err(self.unexpected("an identifier after `parent`")),
                        };
                        PatKind::ParentRef(name)
                    }
                    "string" | "token" => self.datatype(String::new(), s)?,
                    "external" => {
                        let href = self.literal()?;
                        let ns = self.inherit()?;
                        PatKind::External { href, ns }
                    }
                    "grammar" => {
                        self.expect_p("{")?;
                        let comps = self.grammar_content(false)?;
                        self.expect_p("}")?;
                        PatKind::Grammar(comps)
                    }
                    _ => return Err(syntax(sp, format!("keyword `{s}` cannot start a pattern"))),
                }
            }
            Tok::Ident(s, _) => {
                self.bump();
                PatKind::Ref(s)
            }
            Tok::CName(p, l) => {
                self.bump();
                let Some(lib) = self.dt.get(&p).cloned() else {
                    return Err(Diagnostic::error(
                        "rnc/undeclared-prefix",
                        format!("datatypes prefix `{p}` is not declared"),
                    )
                    .with_span(sp));
                };
                self.datatype(lib, l)?
            }
            Tok::Lit(_) => {
                let value = self.literal()?;
                PatKind::Value {
                    lib: String::new(),
                    ty: None,
                    value,
                }
            }
            _ => return Err(self.unexpected("a pattern")),
        };
        self.leave();
        Ok(Pat::new(kind))
    }

    /// After a datatype name: a value literal, or parameters.
    fn datatype(&mut self, lib: String, ty: String) -> PResult<PatKind> {
        if matches!(self.peek(), Tok::Lit(_)) {
            let sp = self.span();
            let value = self.literal()?;
            if lib == XSD_NS && (ty == "QName" || ty == "NOTATION") {
                self.check_qname_value(&value, sp)?;
            }
            let builtin_token = lib.is_empty() && ty == "token";
            return Ok(PatKind::Value {
                lib,
                ty: if builtin_token { None } else { Some(ty) },
                value,
            });
        }
        let mut params = Vec::new();
        if self.is_p("{") {
            self.bump();
            while !self.is_p("}") {
                let ann = self.lead()?;
                let name = self.identifier_or_keyword()?;
                self.expect_p("=")?;
                let value = self.literal()?;
                params.push(Param { name, value, ann });
            }
            self.bump();
        }
        Ok(PatKind::Data {
            lib,
            ty,
            params,
            except: None,
        })
    }

    /// A QName value needs its prefix in scope (XML Schema Part 2 §3.2.18; the compact syntax
    /// gives a value the namespace declarations of the schema, Compact Syntax Appendix A).
    fn check_qname_value(&self, value: &str, span: Span) -> PResult<()> {
        let v = value.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        let ok_ncname = |s: &str| {
            let mut cs = s.chars();
            cs.next().is_some_and(name_start) && cs.all(name_char)
        };
        let (prefix, local) = match v.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, v),
        };
        if !ok_ncname(local) || prefix.is_some_and(|p| !ok_ncname(p)) {
            return Err(Diagnostic::error(
                "rnc/invalid-value",
                format!("`{value}` is not a QName"),
            )
            .with_span(span));
        }
        if let Some(p) = prefix
            && !matches!(self.ns.get(p), Some(Some(u)) if !u.is_empty())
        {
            return Err(Diagnostic::error(
                "rnc/undeclared-prefix",
                format!("the prefix `{p}` of QName value `{value}` is not declared"),
            )
            .with_span(span));
        }
        Ok(())
    }

    // -- name classes ------------------------------------------------------------------------

    fn name_class(&mut self, attr: bool) -> PResult<Nc> {
        self.enter()?;
        let (first, is_except) = self.nc_particle(attr)?;
        if !self.is_p("|") {
            self.leave();
            return Ok(first);
        }
        if is_except {
            return Err(syntax(
                self.span(),
                "a name class with `-` except must be parenthesized before `|`",
            ));
        }
        let mut items = vec![first];
        while self.is_p("|") {
            self.bump();
            let (n, exc) = self.nc_particle(attr)?;
            if exc {
                return Err(syntax(
                    self.span(),
                    "a name class with `-` except must be parenthesized inside `|`",
                ));
            }
            items.push(n);
        }
        self.leave();
        Ok(Nc {
            kind: NcKind::Choice(items),
            ann: Ann::default(),
            follow: Vec::new(),
        })
    }

    fn nc_particle(&mut self, attr: bool) -> PResult<(Nc, bool)> {
        let ann = self.lead()?;
        let sp = self.span();
        let mut n = self.nc_primary(attr)?;
        let mut exc = false;
        if matches!(n.kind, NcKind::AnyName { .. } | NcKind::NsName { .. }) && self.is_p("-") {
            let msp = self.span();
            self.bump();
            let lead = self.lead()?;
            let mut e = self.nc_primary(attr)?;
            merge_nc_lead(&mut e, lead, msp)?;
            let any = matches!(n.kind, NcKind::AnyName { .. });
            check_except(&e, any, msp)?;
            match &mut n.kind {
                NcKind::AnyName { except } | NcKind::NsName { except, .. } => {
                    *except = Some(Box::new(e))
                }
                _ => {}
            }
            exc = true;
        }
        merge_nc_lead(&mut n, ann, sp)?;
        n.follow.extend(self.follow()?);
        Ok((n, exc))
    }

    fn nc_primary(&mut self, attr: bool) -> PResult<Nc> {
        let sp = self.span();
        let kind = match self.peek().clone() {
            Tok::P("(") => {
                self.bump();
                let n = self.name_class(attr)?;
                self.expect_p(")")?;
                return Ok(n);
            }
            Tok::P("*") => {
                self.bump();
                NcKind::AnyName { except: None }
            }
            Tok::NsName(p) => {
                self.bump();
                let ns = self.lookup_ns(&p, sp)?;
                NcKind::NsName {
                    ns,
                    prefix: Some(p),
                    except: None,
                }
            }
            Tok::Ident(s, _) => {
                self.bump();
                let ns = if attr {
                    Some(String::new())
                } else {
                    self.default_ns.clone()
                };
                NcKind::Name {
                    ns,
                    prefix: None,
                    local: s,
                }
            }
            Tok::CName(p, l) => {
                self.bump();
                let ns = self.lookup_ns(&p, sp)?;
                NcKind::Name {
                    ns,
                    prefix: Some(p),
                    local: l,
                }
            }
            _ => return Err(self.unexpected("a name class")),
        };
        Ok(Nc {
            kind,
            ann: Ann::default(),
            follow: Vec::new(),
        })
    }
}

/// RELAX NG §4.16 restrictions mirrored here: an `anyName` except contains no `anyName`; an
/// `nsName` except contains neither `nsName` nor `anyName`.
fn check_except(n: &Nc, in_any: bool, span: Span) -> PResult<()> {
    match &n.kind {
        NcKind::AnyName { .. } => Err(err_at(
            "rnc/except-nesting",
            span,
            "`*` is not allowed inside an except",
        )),
        NcKind::NsName { except, .. } => {
            if !in_any {
                return Err(err_at(
                    "rnc/except-nesting",
                    span,
                    "a namespace wildcard is not allowed inside the except of a namespace wildcard",
                ));
            }
            if let Some(e) = except {
                check_except(e, in_any, span)?;
            }
            Ok(())
        }
        NcKind::Choice(items) => {
            for i in items {
                check_except(i, in_any, span)?;
            }
            Ok(())
        }
        NcKind::Name { .. } => Ok(()),
    }
}

fn check_ns_uri(prefix: Option<&str>, uri: &str, span: Span) -> PResult<()> {
    if uri == XMLNS_NS {
        return Err(err_at(
            "rnc/reserved-namespace",
            span,
            "the namespace of `xmlns` cannot be declared",
        ));
    }
    match prefix {
        Some("xml") if uri != XML_NS => Err(err_at(
            "rnc/reserved-namespace",
            span,
            "the prefix `xml` can only be bound to the XML namespace",
        )),
        Some(p) if p != "xml" && uri == XML_NS => Err(err_at(
            "rnc/reserved-namespace",
            span,
            "the XML namespace can only be bound to the prefix `xml`",
        )),
        _ => Ok(()),
    }
}

fn merge_lead(p: &mut Pat, ann: Ann, span: Span) -> PResult<()> {
    if ann.is_empty() {
        return Ok(());
    }
    if !ann.elems.is_empty() && matches!(p.kind, PatKind::Value { .. }) {
        return Err(err_at(
            "rnc/annotation",
            span,
            "a value cannot carry annotation elements",
        ));
    }
    // a parenthesized pattern that already has annotations keeps them: wrap nothing, merge
    for a in &ann.attrs {
        if p.ann
            .attrs
            .iter()
            .any(|b| b.name.uri == a.name.uri && b.name.local == a.name.local)
        {
            return Err(err_at(
                "rnc/duplicate-attribute",
                span,
                "duplicate annotation attribute",
            ));
        }
    }
    let mut elems = ann.elems;
    elems.append(&mut p.ann.elems);
    p.ann.elems = elems;
    let mut attrs = ann.attrs;
    attrs.append(&mut p.ann.attrs);
    p.ann.attrs = attrs;
    Ok(())
}

fn merge_nc_lead(n: &mut Nc, ann: Ann, span: Span) -> PResult<()> {
    if ann.is_empty() {
        return Ok(());
    }
    let _ = span;
    let mut elems = ann.elems;
    if matches!(n.kind, NcKind::Name { .. }) {
        // `name` holds only text: its annotation elements follow it (as trang writes them)
        elems.append(&mut n.follow);
        n.follow = elems;
        let mut attrs = ann.attrs;
        attrs.append(&mut n.ann.attrs);
        n.ann.attrs = attrs;
        return Ok(());
    }
    elems.append(&mut n.ann.elems);
    n.ann.elems = elems;
    let mut attrs = ann.attrs;
    attrs.append(&mut n.ann.attrs);
    n.ann.attrs = attrs;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XML output (Compact Syntax Appendix A: translation to the XML syntax)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct XNode {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<XChild>,
}

#[derive(Debug, Clone)]
enum XChild {
    Elem(XNode),
    Text(String),
    Comment(String),
}

/// An XML comment: `--` cannot occur in one, nor a final `-` (XML 1.0 §2.5).
fn write_comment(c: &str, out: &mut String) {
    let mut t = c.to_string();
    while t.contains("--") {
        t = t.replace("--", "- -");
    }
    out.push_str("<!-- ");
    out.push_str(&t);
    out.push_str(if t.ends_with('-') { "  -->" } else { " -->" });
}

impl XNode {
    fn new(name: &str) -> Self {
        XNode {
            name: name.to_string(),
            ..XNode::default()
        }
    }

    fn attr(mut self, k: &str, v: &str) -> Self {
        self.attrs.push((k.to_string(), v.to_string()));
        self
    }

    fn push(&mut self, n: XNode) {
        self.children.push(XChild::Elem(n));
    }

    /// A comment standing where an element could (written by `write_xml`).
    fn comment(text: &str) -> Self {
        XNode {
            name: COMMENT.to_string(),
            attrs: Vec::new(),
            children: vec![XChild::Text(text.to_string())],
        }
    }
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            _ => out.push(c),
        }
    }
}

/// Serialises with two-space indentation of element-only content; mixed or text content is
/// written inline so that no whitespace is added to it.
/// The name that marks an [`XNode`] as a comment (not an XML name, so never an element's).
const COMMENT: &str = "!--";

fn write_xml(n: &XNode, indent: usize, inline: bool, out: &mut String) {
    if !inline {
        for _ in 0..indent {
            out.push_str("  ");
        }
    }
    if n.name == COMMENT {
        let text: String = n
            .children
            .iter()
            .map(|c| match c {
                XChild::Text(t) => t.as_str(),
                _ => "",
            })
            .collect();
        write_comment(&text, out);
        if !inline {
            out.push('\n');
        }
        return;
    }
    out.push('<');
    out.push_str(&n.name);
    for (k, v) in &n.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape_attr(v, out);
        out.push('"');
    }
    if n.children.is_empty() {
        out.push_str("/>");
        if !inline {
            out.push('\n');
        }
        return;
    }
    out.push('>');
    let has_text = n.children.iter().any(|c| matches!(c, XChild::Text(_)));
    if has_text || inline {
        for c in &n.children {
            match c {
                XChild::Text(t) => escape_text(t, out),
                XChild::Elem(e) => write_xml(e, 0, true, out),
                XChild::Comment(c) => write_comment(c, out),
            }
        }
    } else {
        out.push('\n');
        for c in &n.children {
            match c {
                XChild::Elem(e) => write_xml(e, indent + 1, false, out),
                XChild::Comment(t) => {
                    out.push_str(&ws(indent + 1));
                    write_comment(t, out);
                    out.push('\n');
                }
                XChild::Text(_) => {}
            }
        }
        for _ in 0..indent {
            out.push_str("  ");
        }
    }
    out.push_str("</");
    out.push_str(&n.name);
    out.push('>');
    if !inline {
        out.push('\n');
    }
}

struct XmlOut<'a> {
    schema: &'a Schema,
    /// uri → prefix used in the output for QNames.
    prefixes: BTreeMap<String, String>,
    ann_prefix: String,
    root_dl: String,
}

fn first_lib(p: &Pat) -> Option<String> {
    match &p.kind {
        PatKind::Data { lib, .. } => Some(lib.clone()),
        PatKind::Value {
            lib, ty: Some(_), ..
        } => Some(lib.clone()),
        PatKind::Element(_, b)
        | PatKind::Attribute(_, b)
        | PatKind::Optional(b)
        | PatKind::ZeroOrMore(b)
        | PatKind::OneOrMore(b)
        | PatKind::List(b)
        | PatKind::Mixed(b) => first_lib(b),
        PatKind::Group(v) | PatKind::Interleave(v) | PatKind::Choice(v) => {
            v.iter().find_map(first_lib)
        }
        PatKind::Grammar(c) => c.iter().find_map(first_lib_comp),
        _ => None,
    }
}

fn first_lib_comp(c: &Comp) -> Option<String> {
    match c {
        Comp::Define { pat, .. } | Comp::Start { pat, .. } => first_lib(pat),
        Comp::Div { comps, .. } | Comp::Include { comps, .. } => {
            comps.iter().find_map(first_lib_comp)
        }
        Comp::Annotation(_) | Comp::Comment(_) => None,
    }
}

impl XmlOut<'_> {
    fn qname(&self, q: &QName) -> String {
        if q.uri.is_empty() {
            return q.local.clone();
        }
        if q.uri == XML_NS {
            return format!("xml:{}", q.local);
        }
        if q.uri == ANN_NS {
            return format!("{}:{}", self.ann_prefix, q.local);
        }
        match self.prefixes.get(&q.uri) {
            Some(p) => format!("{p}:{}", q.local),
            None => q.local.clone(),
        }
    }

    fn foreign(&self, e: &AElem) -> XNode {
        let mut n = XNode::new(&self.qname(&e.name));
        if e.name.uri.is_empty() {
            n.attrs.push(("xmlns".to_string(), String::new()));
        }
        for a in &e.attrs {
            n.attrs.push((self.qname(&a.name), a.value.clone()));
        }
        for c in &e.children {
            match c {
                AChild::Text(t) => n.children.push(XChild::Text(t.clone())),
                AChild::Elem(x) => n.push(self.foreign(x)),
            }
        }
        n
    }

    fn annotate(&self, n: &mut XNode, ann: &Ann) {
        for a in &ann.attrs {
            n.attrs.push((self.qname(&a.name), a.value.clone()));
        }
        for e in &ann.elems {
            n.push(self.foreign(e));
        }
    }

    fn root(&self) -> XNode {
        let s = self.schema;
        let mut root = match &s.body {
            Body::Pattern(p) => {
                let mut v = Vec::new();
                self.pattern(p, s.default_ns.as_ref(), &mut v);
                v.into_iter()
                    .find(|n| n.name != COMMENT)
                    .unwrap_or_else(|| XNode::new("notAllowed"))
            }
            Body::Grammar(comps) => {
                let mut g = XNode::new("grammar");
                self.comps(comps, s.default_ns.as_ref(), &mut g);
                g
            }
        };
        let mut decl = vec![("xmlns".to_string(), RNG_NS.to_string())];
        // in the order the compact syntax declared them
        for (p, uri) in &s.namespaces {
            if let Some(uri) = uri
                && self.prefixes.get(uri) == Some(p)
            {
                decl.push((format!("xmlns:{p}"), uri.clone()));
            }
        }
        let ann = format!("{}:", self.ann_prefix);
        if !self.prefixes.contains_key(ANN_NS) && uses_prefix(&root, &ann) {
            decl.push((format!("xmlns:{}", self.ann_prefix), ANN_NS.to_string()));
        }
        if let Some(ns) = &s.default_ns {
            decl.push(("ns".to_string(), ns.clone()));
        }
        if !self.root_dl.is_empty() {
            decl.push(("datatypeLibrary".to_string(), self.root_dl.clone()));
        }
        decl.append(&mut root.attrs);
        root.attrs = decl;
        root
    }

    fn comps(&self, comps: &[Comp], inh: Option<&String>, parent: &mut XNode) {
        for c in comps {
            match c {
                Comp::Define {
                    name,
                    combine,
                    pat,
                    ann,
                } => {
                    let mut n = XNode::new("define").attr("name", name);
                    combine_attr(&mut n, *combine);
                    self.annotate(&mut n, ann);
                    self.body(pat, inh, &mut n, true);
                    parent.push(n);
                }
                Comp::Start { combine, pat, ann } => {
                    let mut n = XNode::new("start");
                    combine_attr(&mut n, *combine);
                    self.annotate(&mut n, ann);
                    self.body(pat, inh, &mut n, false);
                    parent.push(n);
                }
                Comp::Div { comps, ann } => {
                    let mut n = XNode::new("div");
                    self.annotate(&mut n, ann);
                    self.comps(comps, inh, &mut n);
                    parent.push(n);
                }
                Comp::Include {
                    href,
                    ns,
                    comps,
                    ann,
                } => {
                    let mut n = XNode::new("include").attr("href", href);
                    let inh2 = self.inherit_attr(&mut n, ns.as_ref(), inh);
                    self.annotate(&mut n, ann);
                    self.comps(comps, inh2.as_ref(), &mut n);
                    parent.push(n);
                }
                Comp::Annotation(e) => parent.push(self.foreign(e)),
                Comp::Comment(c) => parent.children.push(XChild::Comment(c.clone())),
            }
        }
    }

    /// The `ns` attribute for `include`/`externalRef` (Compact Syntax §4: `inherit`).
    fn inherit_attr(&self, n: &mut XNode, ns: Option<&Ns>, inh: Option<&String>) -> Option<String> {
        match ns {
            Some(Some(u)) if Some(u) != inh => {
                n.attrs.push(("ns".to_string(), u.clone()));
                Some(u.clone())
            }
            _ => inh.cloned(),
        }
    }

    /// Content of a container: a group without annotations is unwrapped where the container
    /// holds a sequence (`multi`).
    fn body(&self, p: &Pat, inh: Option<&String>, parent: &mut XNode, multi: bool) {
        let mut v = Vec::new();
        match &p.kind {
            PatKind::Group(items) if multi && p.ann.is_empty() && p.follow.is_empty() => {
                for c in &p.comments {
                    v.push(XNode::comment(c));
                }
                for i in items {
                    self.pattern(i, inh, &mut v);
                }
            }
            _ => self.pattern(p, inh, &mut v),
        }
        for n in v {
            parent.push(n);
        }
    }

    fn lib_attr(&self, n: &mut XNode, lib: &str) {
        if lib != self.root_dl {
            n.attrs
                .push(("datatypeLibrary".to_string(), lib.to_string()));
        }
    }

    fn pattern(&self, p: &Pat, inh: Option<&String>, out: &mut Vec<XNode>) {
        for c in &p.comments {
            out.push(XNode::comment(c));
        }
        let simple = |name: &str| XNode::new(name);
        let n = match &p.kind {
            PatKind::Element(nc, b) => {
                let mut n = XNode::new("element");
                self.name_for(&mut n, nc, inh, false);
                self.body(b, inh, &mut n, true);
                n
            }
            PatKind::Attribute(nc, b) => {
                let mut n = XNode::new("attribute");
                self.name_for(&mut n, nc, inh, true);
                let plain_text = matches!(b.kind, PatKind::Text)
                    && b.ann.is_empty()
                    && b.follow.is_empty()
                    && b.comments.is_empty();
                if !plain_text {
                    self.body(b, inh, &mut n, false);
                }
                n
            }
            PatKind::Group(v) | PatKind::Interleave(v) | PatKind::Choice(v) => {
                let name = match &p.kind {
                    PatKind::Group(_) => "group",
                    PatKind::Interleave(_) => "interleave",
                    _ => "choice",
                };
                let mut n = XNode::new(name);
                let mut kids = Vec::new();
                for i in v {
                    self.pattern(i, inh, &mut kids);
                }
                for k in kids {
                    n.push(k);
                }
                n
            }
            PatKind::Optional(b)
            | PatKind::ZeroOrMore(b)
            | PatKind::OneOrMore(b)
            | PatKind::List(b)
            | PatKind::Mixed(b) => {
                let name = match &p.kind {
                    PatKind::Optional(_) => "optional",
                    PatKind::ZeroOrMore(_) => "zeroOrMore",
                    PatKind::OneOrMore(_) => "oneOrMore",
                    PatKind::List(_) => "list",
                    _ => "mixed",
                };
                let mut n = XNode::new(name);
                self.body(b, inh, &mut n, true);
                n
            }
            PatKind::Ref(r) => XNode::new("ref").attr("name", r),
            PatKind::ParentRef(r) => XNode::new("parentRef").attr("name", r),
            PatKind::Empty => simple("empty"),
            PatKind::Text => simple("text"),
            PatKind::NotAllowed => simple("notAllowed"),
            PatKind::Value { lib, ty, value } => {
                let mut n = XNode::new("value");
                if let Some(t) = ty {
                    n.attrs.push(("type".to_string(), t.clone()));
                    self.lib_attr(&mut n, lib);
                }
                n.children.push(XChild::Text(value.clone()));
                n
            }
            PatKind::Data {
                lib,
                ty,
                params,
                except,
            } => {
                let mut n = XNode::new("data").attr("type", ty);
                self.lib_attr(&mut n, lib);
                for prm in params {
                    let mut pn = XNode::new("param").attr("name", &prm.name);
                    self.annotate(&mut pn, &prm.ann);
                    pn.children.push(XChild::Text(prm.value.clone()));
                    n.push(pn);
                }
                if let Some(e) = except {
                    let mut en = XNode::new("except");
                    match &e.kind {
                        PatKind::Choice(items) if e.ann.is_empty() && e.follow.is_empty() => {
                            let mut kids: Vec<XNode> =
                                e.comments.iter().map(|c| XNode::comment(c)).collect();
                            for i in items {
                                self.pattern(i, inh, &mut kids);
                            }
                            for k in kids {
                                en.push(k);
                            }
                        }
                        _ => {
                            let mut kids = Vec::new();
                            self.pattern(e, inh, &mut kids);
                            for k in kids {
                                en.push(k);
                            }
                        }
                    }
                    n.push(en);
                }
                n
            }
            PatKind::External { href, ns } => {
                let mut n = XNode::new("externalRef").attr("href", href);
                self.inherit_attr(&mut n, ns.as_ref(), inh);
                n
            }
            PatKind::Grammar(comps) => {
                let mut n = XNode::new("grammar");
                self.comps(comps, inh, &mut n);
                n
            }
        };
        self.push_annotated(n, &p.ann, &p.follow, out);
    }

    /// Pushes `n` with its initial annotations (attributes on the element, elements as its first
    /// children, Compact Syntax §5.1; for `param` elements they come before the text), then its
    /// following annotations as siblings.
    fn push_annotated(&self, mut n: XNode, ann: &Ann, follow: &[AElem], out: &mut Vec<XNode>) {
        let mut head = XNode::default();
        self.annotate(&mut head, ann);
        n.attrs.extend(head.attrs);
        if !head.children.is_empty() {
            let rest = std::mem::take(&mut n.children);
            n.children = head.children;
            n.children.extend(rest);
        }
        out.push(n);
        for f in follow {
            out.push(self.foreign(f));
        }
    }

    /// The name `ns`:`local` written with the prefix this schema binds to `ns`, when the
    /// compact source gave it a prefix (`None`: written as a local name).
    fn prefixed_name(
        &self,
        ns: &Option<String>,
        prefix: &Option<String>,
        local: &str,
    ) -> Option<String> {
        match (ns, prefix) {
            (Some(u), Some(_)) if !u.is_empty() => Some(self.qname(&QName {
                prefix: None,
                uri: u.clone(),
                local: local.to_string(),
            })),
            _ => None,
        }
    }

    fn name_for(&self, n: &mut XNode, nc: &Nc, inh: Option<&String>, attr: bool) {
        if let NcKind::Name { ns, prefix, local } = &nc.kind
            && nc.ann.is_empty()
            && nc.follow.is_empty()
        {
            match self.prefixed_name(ns, prefix, local) {
                Some(q) => n.attrs.push(("name".to_string(), q)),
                None => {
                    n.attrs.push(("name".to_string(), local.clone()));
                    if !attr
                        && ns.as_ref() != inh
                        && let Some(u) = ns
                    {
                        n.attrs.push(("ns".to_string(), u.clone()));
                    }
                    if attr
                        && let Some(u) = ns
                        && !u.is_empty()
                    {
                        n.attrs.push(("ns".to_string(), u.clone()));
                    }
                }
            }
            return;
        }
        let mut v = Vec::new();
        self.nc(nc, inh, &mut v);
        for x in v {
            n.push(x);
        }
    }

    fn nc(&self, nc: &Nc, inh: Option<&String>, out: &mut Vec<XNode>) {
        let n = match &nc.kind {
            NcKind::Name { ns, prefix, local } => {
                let mut n = XNode::new("name");
                match self.prefixed_name(ns, prefix, local) {
                    Some(q) => n.children.push(XChild::Text(q)),
                    None => {
                        if ns.as_ref() != inh
                            && let Some(u) = ns
                        {
                            n.attrs.push(("ns".to_string(), u.clone()));
                        }
                        n.children.push(XChild::Text(local.clone()));
                    }
                }
                n
            }
            NcKind::NsName { ns, except, .. } => {
                let mut n = XNode::new("nsName");
                let mut inh2 = inh.cloned();
                if let Some(u) = ns {
                    if Some(u) != inh {
                        n.attrs.push(("ns".to_string(), u.clone()));
                    }
                    inh2 = Some(u.clone());
                }
                if let Some(e) = except {
                    n.push(self.nc_except(e, inh2.as_ref()));
                }
                n
            }
            NcKind::AnyName { except } => {
                let mut n = XNode::new("anyName");
                if let Some(e) = except {
                    n.push(self.nc_except(e, inh));
                }
                n
            }
            NcKind::Choice(items) => {
                let mut n = XNode::new("choice");
                let mut v = Vec::new();
                for i in items {
                    self.nc(i, inh, &mut v);
                }
                for x in v {
                    n.push(x);
                }
                n
            }
        };
        self.push_annotated(n, &nc.ann, &nc.follow, out);
    }

    fn nc_except(&self, e: &Nc, inh: Option<&String>) -> XNode {
        let mut en = XNode::new("except");
        let mut v = Vec::new();
        match &e.kind {
            NcKind::Choice(items) if e.ann.is_empty() && e.follow.is_empty() => {
                for i in items {
                    self.nc(i, inh, &mut v);
                }
            }
            _ => self.nc(e, inh, &mut v),
        }
        for x in v {
            en.push(x);
        }
        en
    }
}

fn combine_attr(n: &mut XNode, c: Combine) {
    match c {
        Combine::Assign => {}
        Combine::Choice => n.attrs.push(("combine".to_string(), "choice".to_string())),
        Combine::Interleave => n
            .attrs
            .push(("combine".to_string(), "interleave".to_string())),
    }
}

/// Whether an element or attribute name in the tree starts with `prefix` (e.g. `a:`).
fn uses_prefix(n: &XNode, prefix: &str) -> bool {
    n.name.starts_with(prefix)
        || n.attrs.iter().any(|(k, _)| k.starts_with(prefix))
        || n.children.iter().any(|c| match c {
            XChild::Elem(e) => uses_prefix(e, prefix),
            _ => false,
        })
}

fn schema_to_xml(s: &Schema) -> String {
    let mut prefixes = BTreeMap::new();
    for (p, u) in &s.namespaces {
        if let Some(u) = u
            && !u.is_empty()
            && u != XML_NS
        {
            prefixes.entry(u.clone()).or_insert_with(|| p.clone());
        }
    }
    let used: Vec<&String> = prefixes.values().collect();
    let mut ann_prefix = "a".to_string();
    if let Some(p) = prefixes.get(ANN_NS) {
        ann_prefix = p.clone();
    } else {
        let mut k = 0;
        while used.iter().any(|p| **p == ann_prefix) {
            k += 1;
            ann_prefix = format!("a{k}");
        }
    }
    let root_dl = match &s.body {
        Body::Pattern(p) => first_lib(p).unwrap_or_default(),
        Body::Grammar(c) => c.iter().find_map(first_lib_comp).unwrap_or_default(),
    };
    let x = XmlOut {
        schema: s,
        prefixes,
        ann_prefix,
        root_dl,
    };
    let root = x.root();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    for c in &s.comments {
        write_comment(c, &mut out);
        out.push('\n');
    }
    write_xml(&root, 0, false, &mut out);
    out
}

/// Parses RELAX NG compact syntax and returns the equivalent RELAX NG XML syntax.
///
/// `name` identifies the schema (its path, say) to the caller; diagnostics do not repeat it,
/// since they carry byte spans into `text` that the caller prints with the path. `include` and
/// `external` hrefs are kept as written (still `.rnc`): resolving them is the caller's job.
pub fn parse_compact(text: &str, name: &str) -> Result<String, Vec<Diagnostic>> {
    let _ = name;
    with_stack(|| {
        let schema = parse_schema(text).map_err(|d| vec![d])?;
        Ok(schema_to_xml(&schema))
    })
}

/// Stack for the recursive descent: [`MAX_DEPTH`] bounds the recursion, and this leaves a wide
/// margin over what that depth needs even in unoptimised builds.
const STACK_BYTES: usize = 64 << 20;

/// Runs `f` on a thread with a known stack size, so that the depth limit, not the caller's
/// stack, decides what nesting is accepted. A failure to start the thread is a diagnostic.
fn with_stack<T: Send>(
    f: impl FnOnce() -> Result<T, Vec<Diagnostic>> + Send,
) -> Result<T, Vec<Diagnostic>> {
    let internal = |m: &str| vec![Diagnostic::error("rnc/internal", m.to_string())];
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("teikit-rnc".to_string())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, f)
        {
            Ok(h) => h
                .join()
                .unwrap_or_else(|_| Err(internal("the compact-syntax translator failed"))),
            Err(_) => Err(internal("could not start the compact-syntax translator")),
        }
    })
}

fn parse_schema(text: &str) -> PResult<Schema> {
    let toks = lex(text)?;
    let mut p = Parser::new(toks);
    let (comments, body) = p.top_level()?;
    Ok(Schema {
        default_ns: p.default_ns,
        default_prefix: p.default_prefix,
        namespaces: p.decl_order,
        datatypes: p.dt_order,
        comments,
        body,
    })
}

// ---------------------------------------------------------------------------------------------
// Reading the XML syntax (RELAX NG §3) into the shared abstract syntax
// ---------------------------------------------------------------------------------------------

type XResult<T> = Result<T, Diagnostic>;

fn xerr(node: roxmltree::Node, code: &str, msg: impl Into<String>) -> Diagnostic {
    let r = node.range();
    Diagnostic::error(code, msg).with_span(Span::new(r.start, r.end))
}

#[derive(Clone)]
struct XCtx {
    /// The `ns` attribute in effect (`None`: none, i.e. inherited from outside).
    ns: Ns,
    dl: String,
    depth: usize,
}

fn is_rng(n: roxmltree::Node) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(RNG_NS)
}

fn is_foreign(n: roxmltree::Node) -> bool {
    n.is_element() && n.tag_name().namespace() != Some(RNG_NS)
}

/// Reads context attributes (RELAX NG §4.3 `datatypeLibrary`, §4.8 `ns`).
fn enter_ctx(node: roxmltree::Node, ctx: &XCtx) -> XResult<XCtx> {
    let mut c = ctx.clone();
    c.depth += 1;
    if c.depth > MAX_DEPTH {
        return Err(xerr(node, "rnc/too-deep", "schema nested too deeply"));
    }
    if let Some(ns) = node.attribute("ns") {
        c.ns = Some(ns.to_string());
    }
    if let Some(dl) = node.attribute("datatypeLibrary") {
        c.dl = dl.to_string();
    }
    Ok(c)
}

fn foreign_elem(node: roxmltree::Node, depth: usize) -> XResult<AElem> {
    if depth > MAX_DEPTH {
        return Err(xerr(node, "rnc/too-deep", "annotation nested too deeply"));
    }
    let mut attrs = Vec::new();
    for a in node.attributes() {
        attrs.push(AAttr {
            name: QName {
                prefix: None,
                uri: a.namespace().unwrap_or("").to_string(),
                local: a.name().to_string(),
            },
            value: a.value().to_string(),
        });
    }
    let mut children = Vec::new();
    for c in node.children() {
        if c.is_text() {
            children.push(AChild::Text(c.text().unwrap_or("").to_string()));
        } else if c.is_element() {
            children.push(AChild::Elem(foreign_elem(c, depth + 1)?));
        }
    }
    Ok(AElem {
        name: QName {
            prefix: None,
            uri: node.tag_name().namespace().unwrap_or("").to_string(),
            local: node.tag_name().name().to_string(),
        },
        attrs,
        children,
    })
}

/// Foreign (namespaced, non-RELAX NG) attributes of a RELAX NG element.
fn foreign_attrs(node: roxmltree::Node) -> Vec<AAttr> {
    node.attributes()
        .filter(|a| a.namespace().is_some_and(|n| !n.is_empty() && n != RNG_NS))
        .map(|a| AAttr {
            name: QName {
                prefix: None,
                uri: a.namespace().unwrap_or("").to_string(),
                local: a.name().to_string(),
            },
            value: a.value().to_string(),
        })
        .collect()
}

/// The children of a RELAX NG element: leading foreign elements, then each RELAX NG child with
/// the foreign elements that follow it.
struct Kids<'a, 'i> {
    lead: Vec<AElem>,
    items: Vec<(roxmltree::Node<'a, 'i>, Vec<AElem>)>,
}

fn kids<'a, 'i>(node: roxmltree::Node<'a, 'i>, depth: usize) -> XResult<Kids<'a, 'i>> {
    let mut k = Kids {
        lead: Vec::new(),
        items: Vec::new(),
    };
    for c in node.children() {
        if is_rng(c) {
            k.items.push((c, Vec::new()));
        } else if is_foreign(c) {
            let e = foreign_elem(c, depth)?;
            match k.items.last_mut() {
                Some((_, f)) => f.push(e),
                None => k.lead.push(e),
            }
        }
    }
    Ok(k)
}

fn resolve_qname(
    node: roxmltree::Node,
    q: &str,
    dflt: &Ns,
) -> XResult<(Ns, Option<String>, String)> {
    let q = q.trim();
    match q.split_once(':') {
        Some(("xml", l)) => Ok((
            Some(XML_NS.to_string()),
            Some("xml".to_string()),
            l.to_string(),
        )),
        Some((p, l)) => match node.lookup_namespace_uri(Some(p)) {
            Some(u) => Ok((Some(u.to_string()), Some(p.to_string()), l.to_string())),
            None => Err(xerr(
                node,
                "rnc/undeclared-prefix",
                format!("namespace prefix `{p}` is not declared"),
            )),
        },
        None => Ok((dflt.clone(), None, q.to_string())),
    }
}

fn x_nc(node: roxmltree::Node, ctx: &XCtx, follow: Vec<AElem>) -> XResult<Nc> {
    let ctx = enter_ctx(node, ctx)?;
    let k = kids(node, ctx.depth)?;
    let mut ann = Ann {
        attrs: foreign_attrs(node),
        elems: k.lead,
    };
    let kind = match node.tag_name().name() {
        "name" => {
            let text: String = node
                .children()
                .filter(|c| c.is_text())
                .map(|c| c.text().unwrap_or(""))
                .collect();
            let (ns, prefix, local) = resolve_qname(node, &text, &ctx.ns)?;
            NcKind::Name { ns, prefix, local }
        }
        "anyName" | "nsName" => {
            let mut except = None;
            for (c, f) in k.items {
                if c.tag_name().name() != "except" {
                    return Err(xerr(c, "rnc/xml-syntax", "expected `except`"));
                }
                let cctx = enter_ctx(c, &ctx)?;
                let ck = kids(c, cctx.depth)?;
                let mut items = Vec::new();
                for (cc, ff) in ck.items {
                    items.push(x_nc(cc, &cctx, ff)?);
                }
                let mut e = if items.len() == 1 {
                    items
                        .pop()
                        .ok_or_else(|| xerr(c, "rnc/xml-syntax", "empty except"))?
                } else if items.is_empty() {
                    return Err(xerr(c, "rnc/xml-syntax", "empty except"));
                } else {
                    Nc {
                        kind: NcKind::Choice(items),
                        ann: Ann::default(),
                        follow: Vec::new(),
                    }
                };
                e.follow.extend(f);
                if !ck.lead.is_empty() || !foreign_attrs(c).is_empty() {
                    // annotations on `except` itself: keep them on its content
                    let mut lead = ck.lead;
                    lead.append(&mut e.ann.elems);
                    e.ann.elems = lead;
                }
                except = Some(Box::new(e));
            }
            if node.tag_name().name() == "anyName" {
                NcKind::AnyName { except }
            } else {
                NcKind::NsName {
                    ns: ctx.ns.clone(),
                    prefix: None,
                    except,
                }
            }
        }
        "choice" => {
            let mut items = Vec::new();
            for (c, f) in k.items {
                items.push(x_nc(c, &ctx, f)?);
            }
            if items.len() == 1 {
                let mut one = items
                    .pop()
                    .ok_or_else(|| xerr(node, "rnc/xml-syntax", "empty"))?;
                let mut lead = std::mem::take(&mut ann.elems);
                lead.append(&mut one.ann.elems);
                one.ann.elems = lead;
                one.ann.attrs.append(&mut ann.attrs);
                one.follow.extend(follow);
                return Ok(one);
            }
            if items.is_empty() {
                return Err(xerr(node, "rnc/xml-syntax", "empty name-class choice"));
            }
            NcKind::Choice(items)
        }
        other => {
            return Err(xerr(
                node,
                "rnc/xml-syntax",
                format!("`{other}` is not a name class"),
            ));
        }
    };
    if matches!(kind, NcKind::Name { .. }) && !ann.elems.is_empty() {
        return Err(xerr(
            node,
            "rnc/unrepresentable",
            "annotation elements inside `name`",
        ));
    }
    Ok(Nc { kind, ann, follow })
}

/// Several patterns as one: a group without parentheses (RELAX NG §4.12).
fn x_seq(items: Vec<Pat>, node: roxmltree::Node) -> XResult<Pat> {
    let mut items = items;
    match items.len() {
        0 => Err(xerr(node, "rnc/xml-syntax", "a pattern is required here")),
        1 => items
            .pop()
            .ok_or_else(|| xerr(node, "rnc/xml-syntax", "empty")),
        _ => Ok(Pat::new(PatKind::Group(items))),
    }
}

fn x_pats(items: Vec<(roxmltree::Node, Vec<AElem>)>, ctx: &XCtx) -> XResult<Vec<Pat>> {
    let mut v = Vec::new();
    for (c, f) in items {
        v.push(x_pat(c, ctx, f)?);
    }
    Ok(v)
}

/// The comments between a pattern element and the element before it in its parent.
fn comments_before(node: roxmltree::Node) -> Vec<String> {
    if !node.parent().is_some_and(|p| p.is_element()) {
        return Vec::new();
    }
    let mut v = Vec::new();
    let mut sib = node.prev_sibling();
    while let Some(n) = sib {
        if n.is_element() {
            break;
        }
        if n.is_comment() {
            v.push(n.text().unwrap_or("").trim().to_string());
        }
        sib = n.prev_sibling();
    }
    v.reverse();
    v
}

fn x_pat(node: roxmltree::Node, ctx: &XCtx, follow: Vec<AElem>) -> XResult<Pat> {
    let comments = comments_before(node);
    let mut p = x_pat_inner(node, ctx, follow)?;
    if !comments.is_empty() {
        let mut all = comments;
        all.append(&mut p.comments);
        p.comments = all;
    }
    Ok(p)
}

fn x_pat_inner(node: roxmltree::Node, ctx: &XCtx, follow: Vec<AElem>) -> XResult<Pat> {
    let ctx = enter_ctx(node, ctx)?;
    let k = kids(node, ctx.depth)?;
    let ann = Ann {
        attrs: foreign_attrs(node),
        elems: k.lead,
    };
    let name = node.tag_name().name();
    let req = |a: &str| {
        node.attribute(a)
            .map(|s| s.trim().to_string())
            .ok_or_else(|| xerr(node, "rnc/xml-syntax", format!("`{name}` needs `{a}`")))
    };
    let kind = match name {
        "element" | "attribute" => {
            let attr = name == "attribute";
            let mut items = k.items;
            let nc = match node.attribute("name") {
                Some(q) => {
                    let dflt = if attr {
                        Some(node.attribute("ns").unwrap_or("").to_string())
                    } else {
                        ctx.ns.clone()
                    };
                    let (ns, prefix, local) = resolve_qname(node, q, &dflt)?;
                    Nc {
                        kind: NcKind::Name { ns, prefix, local },
                        ann: Ann::default(),
                        follow: Vec::new(),
                    }
                }
                None => {
                    if items.is_empty() {
                        return Err(xerr(node, "rnc/xml-syntax", "missing name class"));
                    }
                    let (c, f) = items.remove(0);
                    let mut nctx = ctx.clone();
                    if attr && c.tag_name().name() == "name" && c.attribute("ns").is_none() {
                        // RELAX NG §4.8 does not apply to `name` children: they inherit.
                        nctx.ns = ctx.ns.clone();
                    }
                    x_nc(c, &nctx, f)?
                }
            };
            let pats = x_pats(items, &ctx)?;
            if attr {
                let body = if pats.is_empty() {
                    Pat::new(PatKind::Text)
                } else {
                    x_seq(pats, node)?
                };
                PatKind::Attribute(nc, Box::new(body))
            } else {
                PatKind::Element(nc, Box::new(x_seq(pats, node)?))
            }
        }
        "group" | "interleave" | "choice" => {
            let mut pats = x_pats(k.items, &ctx)?;
            if pats.len() == 1 {
                let mut one = pats
                    .pop()
                    .ok_or_else(|| xerr(node, "rnc/xml-syntax", "empty"))?;
                merge_x_ann(&mut one, ann);
                one.follow.extend(follow);
                return Ok(one);
            }
            if pats.is_empty() {
                return Err(xerr(node, "rnc/xml-syntax", format!("empty `{name}`")));
            }
            match name {
                "group" => PatKind::Group(pats),
                "interleave" => PatKind::Interleave(pats),
                _ => PatKind::Choice(pats),
            }
        }
        "optional" | "zeroOrMore" | "oneOrMore" | "list" | "mixed" => {
            let b = Box::new(x_seq(x_pats(k.items, &ctx)?, node)?);
            match name {
                "optional" => PatKind::Optional(b),
                "zeroOrMore" => PatKind::ZeroOrMore(b),
                "oneOrMore" => PatKind::OneOrMore(b),
                "list" => PatKind::List(b),
                _ => PatKind::Mixed(b),
            }
        }
        "ref" => PatKind::Ref(req("name")?),
        "parentRef" => PatKind::ParentRef(req("name")?),
        "empty" => PatKind::Empty,
        "text" => PatKind::Text,
        "notAllowed" => PatKind::NotAllowed,
        "value" => {
            let value: String = node
                .children()
                .filter(|c| c.is_text())
                .map(|c| c.text().unwrap_or(""))
                .collect();
            match node.attribute("type") {
                None => PatKind::Value {
                    lib: String::new(),
                    ty: None,
                    value,
                },
                Some(t) if ctx.dl.is_empty() && t.trim() == "token" => PatKind::Value {
                    lib: String::new(),
                    ty: None,
                    value,
                },
                Some(t) => PatKind::Value {
                    lib: ctx.dl.clone(),
                    ty: Some(t.trim().to_string()),
                    value,
                },
            }
        }
        "data" => {
            let mut params = Vec::new();
            let mut except = None;
            for (c, f) in k.items {
                match c.tag_name().name() {
                    "param" => {
                        let pk = kids(c, ctx.depth + 1)?;
                        let value: String = c
                            .children()
                            .filter(|t| t.is_text())
                            .map(|t| t.text().unwrap_or(""))
                            .collect();
                        params.push(Param {
                            name: c.attribute("name").unwrap_or("").trim().to_string(),
                            value,
                            ann: Ann {
                                attrs: foreign_attrs(c),
                                elems: pk.lead,
                            },
                        });
                        if !f.is_empty() {
                            return Err(xerr(c, "rnc/unrepresentable", "annotation after `param`"));
                        }
                    }
                    "except" => {
                        let cctx = enter_ctx(c, &ctx)?;
                        let ck = kids(c, cctx.depth)?;
                        let mut pats = x_pats(ck.items, &cctx)?;
                        let mut e = match pats.len() {
                            0 => return Err(xerr(c, "rnc/xml-syntax", "empty except")),
                            1 => pats
                                .pop()
                                .ok_or_else(|| xerr(c, "rnc/xml-syntax", "empty"))?,
                            _ => Pat::new(PatKind::Choice(pats)),
                        };
                        merge_x_ann(
                            &mut e,
                            Ann {
                                attrs: Vec::new(),
                                elems: ck.lead,
                            },
                        );
                        let mut fl = follow.clone();
                        fl.clear();
                        fl.extend(f);
                        // foreign elements after `except` follow the whole data pattern
                        except = Some((Box::new(e), fl));
                    }
                    other => {
                        return Err(xerr(c, "rnc/xml-syntax", format!("unexpected `{other}`")));
                    }
                }
            }
            let mut extra = Vec::new();
            let except = except.map(|(e, f)| {
                extra = f;
                e
            });
            let kind = PatKind::Data {
                lib: ctx.dl.clone(),
                ty: req("type")?,
                params,
                except,
            };
            let mut p = Pat::new(kind);
            p.ann = ann;
            p.follow = extra;
            p.follow.extend(follow);
            return Ok(p);
        }
        "externalRef" => PatKind::External {
            href: req("href")?,
            ns: node.attribute("ns").map(|n| Some(n.to_string())),
        },
        "grammar" => PatKind::Grammar(x_comps(node, &ctx)?),
        other => {
            return Err(xerr(
                node,
                "rnc/xml-syntax",
                format!("`{other}` is not a RELAX NG pattern"),
            ));
        }
    };
    let mut p = Pat::new(kind);
    p.ann = ann;
    p.follow = follow;
    Ok(p)
}

/// Moves the annotations of an element the compact syntax cannot write (a one-pattern group,
/// say) onto its content. An attribute both carry keeps the inner value, except `xml:base`,
/// which is resolved against the outer one (XML Base §4.2) so that hrefs keep their meaning.
fn merge_x_ann(p: &mut Pat, ann: Ann) {
    let mut elems = ann.elems;
    elems.append(&mut p.ann.elems);
    p.ann.elems = elems;
    let mut attrs = Vec::new();
    for outer in ann.attrs {
        match p
            .ann
            .attrs
            .iter_mut()
            .find(|a| a.name.uri == outer.name.uri && a.name.local == outer.name.local)
        {
            Some(inner) => {
                if inner.name.uri == XML_NS && inner.name.local == "base" {
                    inner.value = resolve_base(&outer.value, &inner.value);
                }
            }
            None => attrs.push(outer),
        }
    }
    attrs.append(&mut p.ann.attrs);
    p.ann.attrs = attrs;
}

/// A relative reference resolved against a base, enough for `xml:base` chains (RFC 3986 §5.2
/// without dot-segment removal): an absolute or rooted reference replaces the base.
fn resolve_base(base: &str, reference: &str) -> String {
    let has_scheme = reference.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if has_scheme || reference.starts_with('/') || base.is_empty() {
        return reference.to_string();
    }
    match base.rfind('/') {
        Some(i) => format!("{}{reference}", &base[..=i]),
        None => reference.to_string(),
    }
}

fn x_combine(node: roxmltree::Node) -> XResult<Combine> {
    match node.attribute("combine").map(str::trim) {
        None => Ok(Combine::Assign),
        Some("choice") => Ok(Combine::Choice),
        Some("interleave") => Ok(Combine::Interleave),
        Some(o) => Err(xerr(node, "rnc/xml-syntax", format!("bad combine `{o}`"))),
    }
}

fn x_comps(node: roxmltree::Node, ctx: &XCtx) -> XResult<Vec<Comp>> {
    let mut comps = Vec::new();
    for c in node.children() {
        if is_foreign(c) {
            comps.push(Comp::Annotation(foreign_elem(c, ctx.depth)?));
            continue;
        }
        if c.is_comment() {
            comps.push(Comp::Comment(c.text().unwrap_or("").trim().to_string()));
            continue;
        }
        if !is_rng(c) {
            if c.is_text() && !c.text().unwrap_or("").trim().is_empty() {
                return Err(xerr(c, "rnc/xml-syntax", "unexpected text in a grammar"));
            }
            continue;
        }
        let cctx = enter_ctx(c, ctx)?;
        let k = kids(c, cctx.depth)?;
        let ann = Ann {
            attrs: foreign_attrs(c),
            elems: k.lead.clone(),
        };
        match c.tag_name().name() {
            "define" | "start" => {
                let pats = x_pats(k.items, &cctx)?;
                let pat = x_seq(pats, c)?;
                let combine = x_combine(c)?;
                if c.tag_name().name() == "start" {
                    comps.push(Comp::Start { combine, pat, ann });
                } else {
                    let name = c.attribute("name").unwrap_or("").trim().to_string();
                    comps.push(Comp::Define {
                        name,
                        combine,
                        pat,
                        ann,
                    });
                }
            }
            "div" => {
                let mut ann = ann;
                ann.elems.clear();
                comps.push(Comp::Div {
                    comps: x_comps(c, &cctx)?,
                    ann,
                });
            }
            "include" => {
                let mut ann = ann;
                ann.elems.clear();
                comps.push(Comp::Include {
                    href: c.attribute("href").unwrap_or("").trim().to_string(),
                    ns: c.attribute("ns").map(|n| Some(n.to_string())),
                    comps: x_comps(c, &cctx)?,
                    ann,
                });
            }
            other => {
                return Err(xerr(
                    c,
                    "rnc/xml-syntax",
                    format!("`{other}` is not allowed in a grammar"),
                ));
            }
        }
    }
    Ok(comps)
}

// ---------------------------------------------------------------------------------------------
// Writing compact syntax
// ---------------------------------------------------------------------------------------------

/// Where a pattern is written, which decides the parentheses it needs (Compact Syntax §2:
/// `innerPattern`, `particle`, `primary`).
#[derive(Clone, Copy, PartialEq)]
enum Pos {
    /// Inside braces or parentheses, or a definition's right-hand side.
    Top,
    /// An operand of `,`, `&` or `|`.
    Operand,
    /// The operand of `*`, `+`, `?` or of a datatype `-`.
    Primary,
}

struct CWriter {
    default_ns: Ns,
    /// namespace (`None` = inherit) → prefix, in order of first use.
    ns_prefix: Vec<(Ns, String)>,
    hints: BTreeMap<String, String>,
    dt_prefix: Vec<(String, String)>,
}

fn ws(ind: usize) -> String {
    "  ".repeat(ind)
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(name_start) && cs.all(name_char)
}

fn ident(s: &str) -> Result<String, Diagnostic> {
    if !is_ident(s) {
        return Err(Diagnostic::error(
            "rnc/unrepresentable",
            format!("`{s}` is not a name the compact syntax can write"),
        ));
    }
    Ok(if is_keyword(s) {
        format!("\\{s}")
    } else {
        s.to_string()
    })
}

/// A literal, split with `~` where a quote must be written, with `\x{...}` for characters the
/// lexer would otherwise read specially (Compact Syntax §3).
fn lit(s: &str) -> String {
    let body = escape_lit(s);
    if !s.contains('\n') {
        if !s.contains('"') {
            return format!("\"{body}\"");
        }
        if !s.contains('\'') {
            return format!("'{body}'");
        }
    } else {
        if !s.contains("\"\"\"") && !s.ends_with('"') {
            return format!("\"\"\"{body}\"\"\"");
        }
        if !s.contains("'''") && !s.ends_with('\'') {
            return format!("'''{body}'''");
        }
    }
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '"' => {
                if !cur.is_empty() {
                    pieces.push(format!("\"{}\"", escape_lit(&cur)));
                    cur.clear();
                }
                pieces.push("'\"'".to_string());
            }
            '\n' => cur.push('\u{0}'),
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() || pieces.is_empty() {
        pieces.push(format!("\"{}\"", escape_lit(&cur)));
    }
    pieces.join(" ~ ").replace('\u{0}', "\\x{A}")
}

/// Escapes what the lexer would otherwise read specially inside a literal or comment: a `\`
/// that starts `\x` (Compact Syntax §3) and a carriage return (newline normalisation).
fn escape_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' if it.peek() == Some(&'x') => out.push_str("\\x{5C}"),
            '\r' => out.push_str("\\x{D}"),
            _ => out.push(c),
        }
    }
    out
}

/// A prefix suggested by a namespace URI: its last segment made of letters (`xhtml` for
/// `http://www.w3.org/1999/xhtml`), else `ns`.
fn prefix_from_uri(uri: &str) -> String {
    uri.rsplit(['/', ':', '#'])
        .map(|seg| {
            seg.chars()
                .filter(char::is_ascii_alphabetic)
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .find(|seg| {
            (2..=10).contains(&seg.len())
                && !seg.starts_with("xml")
                && !["www", "http", "https", "urn", "com", "org", "net"].contains(&seg.as_str())
        })
        .unwrap_or_else(|| "ns".to_string())
}

/// A comment as `#` lines, ending with a newline.
fn comment_lines(t: &str, ind: usize) -> String {
    let mut s = String::new();
    for (i, line) in t.split('\n').enumerate() {
        if i > 0 {
            s.push_str(&ws(ind));
        }
        let line = escape_lit(line.trim_end());
        if line.is_empty() {
            s.push_str("#\n");
        } else {
            s.push_str(&format!("# {line}\n"));
        }
    }
    s
}

/// `name [ parts ]` on one line when short, else one part per line.
fn bracket(name: &str, parts: &[String], ind: usize) -> String {
    let sep = if name.is_empty() { "" } else { " " };
    if parts.is_empty() {
        return format!("{name}{sep}[ ]");
    }
    let one = parts.join(" ");
    if !one.contains('\n') && one.len() + name.len() < 80 {
        return format!("{name}{sep}[ {one} ]");
    }
    let mut s = format!("{name}{sep}[\n");
    for p in parts {
        s.push_str(&ws(ind + 1));
        s.push_str(p);
        s.push('\n');
    }
    s.push_str(&ws(ind));
    s.push(']');
    s
}

fn is_composite(p: &Pat) -> bool {
    matches!(
        &p.kind,
        PatKind::Group(v) | PatKind::Interleave(v) | PatKind::Choice(v) if v.len() > 1
    )
}

fn is_repeat(p: &Pat) -> bool {
    matches!(
        p.kind,
        PatKind::Optional(_) | PatKind::ZeroOrMore(_) | PatKind::OneOrMore(_)
    )
}

fn is_data_except(p: &Pat) -> bool {
    matches!(
        &p.kind,
        PatKind::Data {
            except: Some(_),
            ..
        }
    )
}

fn is_doc(e: &AElem) -> bool {
    e.name.uri == ANN_NS
        && e.name.local == "documentation"
        && e.attrs.is_empty()
        && e.children.iter().all(|c| matches!(c, AChild::Text(_)))
}

impl CWriter {
    fn prefix_for(&mut self, ns: &Ns) -> String {
        if ns.as_deref() == Some(XML_NS) {
            return "xml".to_string();
        }
        if let Some((_, p)) = self.ns_prefix.iter().find(|(n, _)| n == ns) {
            return p.clone();
        }
        let taken = |p: &str, v: &Vec<(Ns, String)>| {
            p == "xml" || p == "xmlns" || v.iter().any(|(_, q)| q == p)
        };
        let hint = match ns {
            None => "inh".to_string(),
            Some(u) if u.is_empty() => "local".to_string(),
            Some(u) if u == ANN_NS => "a".to_string(),
            Some(u) if u == RNG_NS => "rng".to_string(),
            Some(u) => self
                .hints
                .get(u)
                .cloned()
                .unwrap_or_else(|| prefix_from_uri(u)),
        };
        let mut p = hint.clone();
        let mut k = 0;
        while taken(&p, &self.ns_prefix) || !is_ident(&p) {
            k += 1;
            p = format!("{}{k}", if is_ident(&hint) { hint.as_str() } else { "ns" });
        }
        self.ns_prefix.push((ns.clone(), p.clone()));
        p
    }

    fn dt_for(&mut self, lib: &str) -> String {
        if lib == XSD_NS {
            return "xsd".to_string();
        }
        if let Some((_, p)) = self.dt_prefix.iter().find(|(l, _)| l == lib) {
            return p.clone();
        }
        let p = format!("dt{}", self.dt_prefix.len() + 1);
        self.dt_prefix.push((lib.to_string(), p.clone()));
        p
    }

    fn qname(&mut self, q: &QName) -> Result<String, Diagnostic> {
        if q.uri.is_empty() {
            return ident(&q.local);
        }
        let p = self.prefix_for(&Some(q.uri.clone()));
        if !is_ident(&q.local) {
            return ident(&q.local);
        }
        // after a prefix a keyword needs no `\`
        Ok(format!("{p}:{}", q.local))
    }

    fn ann_elem(&mut self, e: &AElem, ind: usize) -> Result<String, Diagnostic> {
        let name = self.qname(&e.name)?;
        let mut parts = Vec::new();
        for a in &e.attrs {
            parts.push(format!("{} = {}", self.qname(&a.name)?, lit(&a.value)));
        }
        let has_elems = e.children.iter().any(|c| matches!(c, AChild::Elem(_)));
        for c in &e.children {
            match c {
                // layout whitespace between annotation elements is not written
                AChild::Text(t) if has_elems && t.trim().is_empty() => {}
                AChild::Text(t) => parts.push(lit(t)),
                AChild::Elem(x) => parts.push(self.ann_elem(x, ind + 1)?),
            }
        }
        Ok(bracket(&name, &parts, ind))
    }

    /// Initial annotations: `##` lines then `[ ... ]`, followed by a space or a new line.
    fn lead(&mut self, ann: &Ann, ind: usize) -> Result<String, Diagnostic> {
        let mut s = String::new();
        let mut rest = Vec::new();
        let mut docs_done = false;
        for e in &ann.elems {
            if !docs_done && is_doc(e) {
                let text: String = e
                    .children
                    .iter()
                    .map(|c| match c {
                        AChild::Text(t) => t.as_str(),
                        AChild::Elem(_) => "",
                    })
                    .collect();
                for line in text.split('\n') {
                    s.push_str("##");
                    if !line.is_empty() {
                        s.push(' ');
                        s.push_str(&escape_lit(line));
                    }
                    s.push('\n');
                    s.push_str(&ws(ind));
                }
            } else {
                docs_done = true;
                rest.push(e);
            }
        }
        if !ann.attrs.is_empty() || !rest.is_empty() {
            let mut parts = Vec::new();
            for a in &ann.attrs {
                parts.push(format!("{} = {}", self.qname(&a.name)?, lit(&a.value)));
            }
            for e in rest {
                parts.push(self.ann_elem(e, ind + 1)?);
            }
            s.push_str(&bracket("", &parts, ind));
            s.push(' ');
        }
        Ok(s)
    }

    fn follow(&mut self, f: &[AElem], ind: usize) -> Result<String, Diagnostic> {
        let mut s = String::new();
        for e in f {
            s.push_str(" >> ");
            s.push_str(&self.ann_elem(e, ind)?);
        }
        Ok(s)
    }

    fn braces(&mut self, head: &str, body: &Pat, ind: usize) -> Result<String, Diagnostic> {
        let inner = self.pat(body, ind + 1, Pos::Top)?;
        if inner.contains('\n') || inner.len() + head.len() > 70 {
            Ok(format!("{head} {{\n{}{inner}\n{}}}", ws(ind + 1), ws(ind)))
        } else {
            Ok(format!("{head} {{ {inner} }}"))
        }
    }

    fn pat(&mut self, p: &Pat, ind: usize, pos: Pos) -> Result<String, Diagnostic> {
        let has_ann = !p.ann.is_empty();
        let has_follow = !p.follow.is_empty();
        let paren = if is_composite(p) {
            pos != Pos::Top || has_ann || has_follow
        } else if is_data_except(p) {
            pos != Pos::Top
        } else if is_repeat(p) {
            pos == Pos::Primary || has_ann
        } else {
            false
        };
        let lead = self.lead(&p.ann, ind)?;
        let follow = self.follow(&p.follow, ind)?;
        let core = self.core(p, ind, paren)?;
        let body = if paren {
            format!("{lead}({core}){follow}")
        } else {
            format!("{lead}{core}{follow}")
        };
        if p.comments.is_empty() {
            return Ok(body);
        }
        let mut s = String::new();
        for c in &p.comments {
            s.push_str(&comment_lines(c, ind));
            s.push_str(&ws(ind));
        }
        // before a repeated or excepted operand a comment would attach to the whole particle
        Ok(if pos == Pos::Primary {
            format!("({s}{body})")
        } else {
            s + &body
        })
    }

    /// The pattern without its annotations; `paren` tells a composite it will be written in
    /// parentheses, so continuation lines line up inside them.
    fn core(&mut self, p: &Pat, ind: usize, paren: bool) -> Result<String, Diagnostic> {
        Ok(match &p.kind {
            PatKind::Element(nc, b) | PatKind::Attribute(nc, b) => {
                let attr = matches!(p.kind, PatKind::Attribute(..));
                let n = self.nc(nc, attr, ind, true)?;
                let kw = if attr { "attribute" } else { "element" };
                self.braces(&format!("{kw} {n}"), b, ind)?
            }
            PatKind::Group(v) | PatKind::Interleave(v) | PatKind::Choice(v) => {
                let sep = match &p.kind {
                    PatKind::Group(_) => ",",
                    PatKind::Interleave(_) => " &",
                    _ => " |",
                };
                let mut parts = Vec::new();
                for i in v {
                    parts.push(self.pat(i, ind, Pos::Operand)?);
                }
                let total: usize = parts.iter().map(|s| s.len() + 2).sum();
                let pad = if paren { " " } else { "" };
                if total > 70 || parts.iter().any(|s| s.contains('\n')) {
                    // `,` ends a line; `|` and `&` start the next one
                    if sep == "," {
                        parts.join(&format!(",\n{}{pad}", ws(ind)))
                    } else {
                        parts.join(&format!("\n{}{pad}{} ", ws(ind), sep.trim()))
                    }
                } else {
                    parts.join(&format!("{sep} "))
                }
            }
            PatKind::Optional(b) | PatKind::ZeroOrMore(b) | PatKind::OneOrMore(b) => {
                let op = match &p.kind {
                    PatKind::Optional(_) => "?",
                    PatKind::ZeroOrMore(_) => "*",
                    _ => "+",
                };
                format!("{}{op}", self.pat(b, ind, Pos::Primary)?)
            }
            PatKind::List(b) => self.braces("list", b, ind)?,
            PatKind::Mixed(b) => self.braces("mixed", b, ind)?,
            PatKind::Ref(r) => ident(r)?,
            PatKind::ParentRef(r) => format!("parent {}", ident(r)?),
            PatKind::Empty => "empty".to_string(),
            PatKind::Text => "text".to_string(),
            PatKind::NotAllowed => "notAllowed".to_string(),
            PatKind::Value { lib, ty, value } => match ty {
                None => lit(value),
                Some(t) => format!("{} {}", self.dt_name(lib, t)?, lit(value)),
            },
            PatKind::Data {
                lib,
                ty,
                params,
                except,
            } => {
                let mut s = self.dt_name(lib, ty)?;
                if !params.is_empty() {
                    let mut ps = Vec::new();
                    for prm in params {
                        let lead = self.lead(&prm.ann, ind + 1)?;
                        ps.push(format!("{lead}{} = {}", ident(&prm.name)?, lit(&prm.value)));
                    }
                    let one = ps.join(" ");
                    if one.contains('\n') || one.len() > 60 {
                        s.push_str(&format!(
                            " {{\n{}{}\n{}}}",
                            ws(ind + 1),
                            ps.join(&format!("\n{}", ws(ind + 1))),
                            ws(ind)
                        ));
                    } else {
                        s.push_str(&format!(" {{ {one} }}"));
                    }
                }
                if let Some(e) = except {
                    s.push_str(" - ");
                    if e.follow.is_empty() {
                        s.push_str(&self.pat(e, ind, Pos::Primary)?);
                    } else {
                        // a following annotation after the operand would bind to the data
                        s.push_str(&format!("({})", self.pat(e, ind, Pos::Top)?));
                    }
                }
                s
            }
            PatKind::External { href, ns } => {
                format!("external {}{}", lit(href), self.inherit(ns.as_ref()))
            }
            PatKind::Grammar(comps) => {
                let inner = self.comps(comps, ind + 1)?;
                if inner.is_empty() {
                    "grammar { }".to_string()
                } else {
                    format!("grammar {{\n{inner}{}}}", ws(ind))
                }
            }
        })
    }

    fn inherit(&mut self, ns: Option<&Ns>) -> String {
        match ns {
            Some(n) => format!(" inherit = {}", self.prefix_for(n)),
            None => String::new(),
        }
    }

    fn dt_name(&mut self, lib: &str, ty: &str) -> Result<String, Diagnostic> {
        if lib.is_empty() {
            if ty == "string" || ty == "token" {
                return Ok(ty.to_string());
            }
            return Err(Diagnostic::error(
                "rnc/unrepresentable",
                format!("the built-in datatype library has no type `{ty}`"),
            ));
        }
        let p = self.dt_for(lib);
        if !is_ident(ty) {
            return Err(Diagnostic::error(
                "rnc/unrepresentable",
                format!("`{ty}` is not a datatype name the compact syntax can write"),
            ));
        }
        Ok(format!("{p}:{ty}"))
    }

    fn name(&mut self, ns: &Ns, local: &str, attr: bool) -> Result<String, Diagnostic> {
        let plain = if attr {
            ns.as_deref() == Some("")
        } else {
            *ns == self.default_ns
        };
        if plain {
            return ident(local);
        }
        let p = self.prefix_for(ns);
        if !is_ident(local) {
            return ident(local);
        }
        Ok(format!("{p}:{local}"))
    }

    /// A name class; `top` is false where only a simple name class may stand.
    fn nc(&mut self, n: &Nc, attr: bool, ind: usize, top: bool) -> Result<String, Diagnostic> {
        let mut ann = n.ann.clone();
        if matches!(n.kind, NcKind::Name { .. }) {
            ann.elems.clear();
        }
        let lead = self.lead(&ann, ind)?;
        let follow = self.follow(&n.follow, ind)?;
        let (core, complex) = match &n.kind {
            NcKind::Name { ns, local, .. } => (self.name(ns, local, attr)?, false),
            NcKind::NsName { ns, except, .. } => {
                let p = self.prefix_for(ns);
                match except {
                    None => (format!("{p}:*"), false),
                    Some(e) => (format!("{p}:* - {}", self.nc(e, attr, ind, false)?), true),
                }
            }
            NcKind::AnyName { except } => match except {
                None => ("*".to_string(), false),
                Some(e) => (format!("* - {}", self.nc(e, attr, ind, false)?), true),
            },
            NcKind::Choice(items) => {
                let mut parts = Vec::new();
                for i in items {
                    let s = self.nc(i, attr, ind, false)?;
                    parts.push(s);
                }
                (parts.join(" | "), true)
            }
        };
        let paren = complex && (!top || !n.ann.is_empty() || !n.follow.is_empty());
        if !top && !n.follow.is_empty() {
            let inner = if paren {
                format!("{lead}({core}){follow}")
            } else {
                format!("{lead}{core}{follow}")
            };
            return Ok(format!("({inner})"));
        }
        Ok(if paren {
            format!("{lead}({core}){follow}")
        } else {
            format!("{lead}{core}{follow}")
        })
    }

    fn comps(&mut self, comps: &[Comp], ind: usize) -> Result<String, Diagnostic> {
        let mut s = String::new();
        let mut after_comment = false;
        for c in comps {
            // a blank line keeps two comments apart (consecutive `#` lines are one comment)
            if after_comment && matches!(c, Comp::Comment(_)) {
                s.push('\n');
            }
            after_comment = matches!(c, Comp::Comment(_));
            s.push_str(&ws(ind));
            match c {
                Comp::Define {
                    name,
                    combine,
                    pat,
                    ann,
                } => {
                    s.push_str(
                        &self
                            .lead(ann, ind)?
                            .replace("] ", "]\n")
                            .replace("]\n", &format!("]\n{}", ws(ind))),
                    );
                    let op = match combine {
                        Combine::Assign => "=",
                        Combine::Choice => "|=",
                        Combine::Interleave => "&=",
                    };
                    let body = self.pat(pat, ind + 1, Pos::Top)?;
                    if body.contains('\n') {
                        s.push_str(&format!("{} {op}\n{}{body}\n", ident(name)?, ws(ind + 1)));
                    } else {
                        s.push_str(&format!("{} {op} {body}\n", ident(name)?));
                    }
                }
                Comp::Start { combine, pat, ann } => {
                    s.push_str(&self.lead(ann, ind)?);
                    let op = match combine {
                        Combine::Assign => "=",
                        Combine::Choice => "|=",
                        Combine::Interleave => "&=",
                    };
                    let body = self.pat(pat, ind + 1, Pos::Top)?;
                    if body.contains('\n') {
                        s.push_str(&format!("start {op}\n{}{body}\n", ws(ind + 1)));
                    } else {
                        s.push_str(&format!("start {op} {body}\n"));
                    }
                }
                Comp::Div { comps, ann } => {
                    s.push_str(&self.lead(ann, ind)?);
                    let inner = self.comps(comps, ind + 1)?;
                    s.push_str(&format!("div {{\n{inner}{}}}\n", ws(ind)));
                }
                Comp::Include {
                    href,
                    ns,
                    comps,
                    ann,
                } => {
                    s.push_str(&self.lead(ann, ind)?);
                    s.push_str(&format!(
                        "include {}{}",
                        lit(href),
                        self.inherit(ns.as_ref())
                    ));
                    if comps.is_empty() {
                        s.push('\n');
                    } else {
                        let inner = self.comps(comps, ind + 1)?;
                        s.push_str(&format!(" {{\n{inner}{}}}\n", ws(ind)));
                    }
                }
                Comp::Comment(t) => {
                    s.push_str(&comment_lines(t, ind));
                }
                Comp::Annotation(e) => {
                    let mut e2 = e.clone();
                    if e2.name.uri.is_empty() && is_keyword(&e2.name.local) {
                        // written with `\`, which `ident` does for keywords
                        e2.name.local = e.name.local.clone();
                    }
                    s.push_str(&self.ann_elem(&e2, ind)?);
                    s.push('\n');
                }
            }
        }
        Ok(s)
    }
}

/// Whether a top-level pattern has following annotations outside braces.
fn has_top_follow(p: &Pat) -> bool {
    !p.follow.is_empty()
        || match &p.kind {
            PatKind::Group(v) | PatKind::Interleave(v) | PatKind::Choice(v) => {
                v.iter().any(has_top_follow)
            }
            PatKind::Optional(b) | PatKind::ZeroOrMore(b) | PatKind::OneOrMore(b) => {
                has_top_follow(b)
            }
            PatKind::Data {
                except: Some(e), ..
            } => has_top_follow(e),
            _ => false,
        }
}

/// Writes RELAX NG XML syntax as readable compact syntax: declarations for the namespaces and
/// datatype libraries used, two-space indentation, parentheses where precedence needs them,
/// and annotations where the compact syntax can carry them.
pub fn write_compact(rng_xml: &str) -> Result<String, Vec<Diagnostic>> {
    with_stack(|| write_compact_inner(rng_xml))
}

fn write_compact_inner(rng_xml: &str) -> Result<String, Vec<Diagnostic>> {
    // Internal DTD entities are expanded by roxmltree, so the tree size is bounded.
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: 2_000_000,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(rng_xml, opts).map_err(|e| {
        vec![Diagnostic::error(
            "rnc/xml-syntax",
            format!("not well-formed XML: {e}"),
        )]
    })?;
    let root = doc.root_element();
    if !is_rng(root) {
        return Err(vec![xerr(
            root,
            "rnc/xml-syntax",
            "the root element is not in the RELAX NG namespace",
        )]);
    }
    let ctx = XCtx {
        ns: None,
        dl: String::new(),
        depth: 0,
    };
    let default_ns = root.attribute("ns").map(str::to_string);
    let plain_grammar = root.tag_name().name() == "grammar" && foreign_attrs(root).is_empty();
    let body = if plain_grammar {
        let c = enter_ctx(root, &ctx).map_err(|d| vec![d])?;
        Body::Grammar(x_comps(root, &c).map_err(|d| vec![d])?)
    } else {
        Body::Pattern(Box::new(
            x_pat(root, &ctx, Vec::new()).map_err(|d| vec![d])?,
        ))
    };
    // Following annotations outside braces cannot be written at the top level: such a
    // pattern is written as the start of a grammar, which means the same (RELAX NG §4.18).
    let body = match body {
        Body::Pattern(p) if has_top_follow(&p) => Body::Grammar(vec![Comp::Start {
            combine: Combine::Assign,
            pat: *p,
            ann: Ann::default(),
        }]),
        b => b,
    };
    let mut hints = BTreeMap::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        for ns in n.namespaces() {
            if let Some(p) = ns.name() {
                hints
                    .entry(ns.uri().to_string())
                    .or_insert_with(|| p.to_string());
            }
        }
    }
    let mut w = CWriter {
        default_ns: default_ns.clone(),
        ns_prefix: Vec::new(),
        hints,
        dt_prefix: Vec::new(),
    };
    // The namespaces the root declares are kept, used or not (as trang does).
    for ns in root.namespaces() {
        if let Some(p) = ns.name() {
            let uri = ns.uri();
            if p != "xml"
                && is_ident(p)
                && uri != XMLNS_NS
                && !w.ns_prefix.iter().any(|(_, q)| q == p)
            {
                w.ns_prefix.push((Some(uri.to_string()), p.to_string()));
            }
        }
    }
    // A QName value is read with the schema's namespace declarations (Compact Syntax
    // Appendix A), so the prefixes values use are declared under the same names.
    for v in doc
        .descendants()
        .filter(|n| is_rng(*n) && n.tag_name().name() == "value")
    {
        let text: String = v.children().filter_map(|c| c.text()).collect();
        let Some((p, _)) = text.trim().split_once(':') else {
            continue;
        };
        if p == "xml" || w.ns_prefix.iter().any(|(_, q)| q == p) || !is_ident(p) {
            continue;
        }
        if let Some(uri) = v.lookup_namespace_uri(Some(p)) {
            w.ns_prefix.push((Some(uri.to_string()), p.to_string()));
        }
    }
    let text = match &body {
        Body::Grammar(comps) => w.comps(comps, 0),
        Body::Pattern(p) => w.pat(p, 0, Pos::Top).map(|s| format!("{s}\n")),
    }
    .map_err(|d| vec![d])?;
    if default_ns.as_deref() == Some(XMLNS_NS)
        || w.ns_prefix
            .iter()
            .any(|(n, _)| n.as_deref() == Some(XMLNS_NS))
    {
        return Err(vec![Diagnostic::error(
            "rnc/unrepresentable",
            format!("the compact syntax cannot declare the namespace {XMLNS_NS}"),
        )]);
    }
    let mut head = String::new();
    for c in doc.root().children() {
        if c.is_comment() {
            head.push_str(&comment_lines(c.text().unwrap_or("").trim(), 0));
        }
    }
    if let Some(d) = &default_ns {
        let p = w
            .ns_prefix
            .iter()
            .find(|(n, _)| n.as_ref() == Some(d))
            .map(|(_, p)| p.clone());
        match p {
            Some(p) => head.push_str(&format!("default namespace {p} = {}\n", lit(d))),
            None => head.push_str(&format!("default namespace = {}\n", lit(d))),
        }
    }
    for (ns, p) in &w.ns_prefix {
        if ns.is_some() && ns == &default_ns {
            continue;
        }
        match ns {
            Some(u) => head.push_str(&format!("namespace {p} = {}\n", lit(u))),
            None => head.push_str(&format!("namespace {p} = inherit\n")),
        }
    }
    for (lib, p) in &w.dt_prefix {
        head.push_str(&format!("datatypes {p} = {}\n", lit(lib)));
    }
    if !head.is_empty() {
        head.push('\n');
    }
    Ok(head + &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(rnc: &str) -> String {
        match parse_compact(rnc, "t.rnc") {
            Ok(x) => x,
            Err(d) => panic!("{rnc:?} refused: {d:?}"),
        }
    }

    fn code(rnc: &str) -> String {
        match parse_compact(rnc, "t.rnc") {
            Ok(x) => panic!("{rnc:?} accepted:\n{x}"),
            Err(d) => d.first().map(|d| d.code.clone()).unwrap_or_default(),
        }
    }

    #[test]
    fn simple_element() {
        let x = xml("element foo { empty }");
        assert!(x.contains("<element xmlns=\"http://relaxng.org/ns/structure/1.0\" name=\"foo\">"));
        assert!(x.contains("<empty/>"));
    }

    #[test]
    fn declarations_and_datatypes() {
        let x = xml(
            "default namespace = \"http://e\"\nnamespace x = \"http://x\"\n\
             element a { attribute x:b { xsd:int { minInclusive = \"1\" } }, (string - \"q\") }",
        );
        assert!(x.contains("ns=\"http://e\""));
        assert!(x.contains("datatypeLibrary=\"http://www.w3.org/2001/XMLSchema-datatypes\""));
        assert!(x.contains("<attribute name=\"x:b\">"));
        assert!(x.contains("<param name=\"minInclusive\">1</param>"));
        assert!(x.contains("<data type=\"string\" datatypeLibrary=\"\">"));
    }

    #[test]
    fn documentation_and_annotations() {
        let x = xml("## hello\n[ xml:lang = \"en\" ] start = element a { text } >> x [ \"y\" ]");
        assert!(x.contains("<a:documentation>hello</a:documentation>"));
        assert!(x.contains("<start xml:lang=\"en\">"));
        assert!(x.contains("<x xmlns=\"\">y</x>"));
    }

    #[test]
    fn grammar_features() {
        let x = xml(
            "include \"a.rnc\" { start = notAllowed }\nx |= parent y\n\\start &= list { token* }\n\
             div { y = external \"b.rnc\" }",
        );
        assert!(x.contains("<include href=\"a.rnc\">"));
        assert!(x.contains("<define name=\"x\" combine=\"choice\">"));
        assert!(x.contains("<define name=\"start\" combine=\"interleave\">"));
        assert!(x.contains("<externalRef href=\"b.rnc\"/>"));
    }

    #[test]
    fn errors_have_codes_and_spans() {
        assert_eq!(code("element foo { empty"), "rnc/syntax");
        assert_eq!(code("element p:foo { empty }"), "rnc/undeclared-prefix");
        assert_eq!(code("a, b | c"), "rnc/syntax");
        assert_eq!(code("element * - * { empty }"), "rnc/except-nesting");
        assert_eq!(
            code("namespace xmlns = \"x\" start = empty"),
            "rnc/reserved-namespace"
        );
        assert_eq!(code("\"\\x{D800}\""), "rnc/syntax");
        let Err(d) = parse_compact("element foo {\n  bar baz }", "t") else {
            panic!("accepted");
        };
        let span = d.first().and_then(|d| d.span).unwrap_or_default();
        assert_eq!(span.start, 20);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let deep = "element a { ".repeat(100_000);
        assert_eq!(code(&deep), "rnc/too-deep");
        assert_eq!(code(&"(".repeat(100_000)), "rnc/too-deep");
        let ann = format!("[ {} ] empty", "x [ ".repeat(100_000));
        assert_eq!(code(&ann), "rnc/too-deep");
        let ok = format!("{}empty{}", "element a { ".repeat(90), " }".repeat(90));
        xml(&ok);
        let deep_xml = format!(
            "<grammar xmlns=\"{RNG_NS}\"><start>{}<empty/>{}</start></grammar>",
            "<group>".repeat(5_000),
            "</group>".repeat(5_000)
        );
        assert!(write_compact(&deep_xml).is_err());
    }

    #[test]
    fn truncated_and_garbled_input_never_panics() {
        let src = "namespace eg = \"http://e\"\n## doc\nstart = element eg:a|b { \
                   attribute * - (eg:* - eg:c) { xsd:string { pattern = '''x''' } - \"y\" }*, \
                   [ eg:x = \"1\" eg:y [ \"z\" ] ] mixed { grammar { start = parent s } } } \
                   >> eg:f [ ]\ns = \\x{65}mpty";
        for (i, _) in src.char_indices() {
            let cut = &src[..i];
            let _ = parse_compact(cut, "t");
            let garbled: String = cut.chars().rev().collect();
            let _ = parse_compact(&garbled, "t");
        }
        assert!(parse_compact(src, "t").is_ok());
    }

    #[test]
    fn writer_round_trip() {
        let src = "namespace eg = \"http://e\"\ndatatypes d = \"http://d\"\n\
                   ## doc\nstart = element eg:a { (attribute b { d:x }, text)* & empty }";
        let x1 = xml(src);
        let rnc = match write_compact(&x1) {
            Ok(r) => r,
            Err(d) => panic!("{d:?}"),
        };
        assert!(rnc.contains("namespace eg = \"http://e\""));
        assert!(rnc.contains("## doc"));
        let x2 = xml(&rnc);
        assert_eq!(x1, x2, "{rnc}");
    }

    #[test]
    fn literals_are_written_safely() {
        let cases = [
            "plain",
            "a\"b\n\\",
            "\"'x",
            "x\"",
            "'''\"\"\"",
            "\\x{41}",
            "cr\r\nlf",
            "\"\"\"\"",
            "q\"\n'\n\"",
            "",
        ];
        for c in cases {
            let x = xml(&format!("element a {{ {} }}", lit(c)));
            let doc = roxmltree::Document::parse(&x).unwrap();
            let v = doc
                .descendants()
                .find(|n| n.has_tag_name((RNG_NS, "value")));
            let text = v.and_then(|v| v.text()).unwrap_or("");
            assert_eq!(text, c, "{}", lit(c));
        }
    }

    #[test]
    fn comments_become_xml_comments_and_back() {
        let x = xml("# one\n# two\n\n# a -- b\nstart = empty\n");
        assert!(x.contains("<!-- one\ntwo -->"));
        assert!(x.contains("<!-- a - - b -->"));
        let rnc = write_compact(&x).unwrap();
        assert!(rnc.contains("# one\n# two\n"), "{rnc}");
        assert_eq!(xml(&rnc), x);
    }

    /// Deterministic token soup: never a crash (a panic would surface as `rnc/internal`), and
    /// whatever parses is written back as compact syntax that parses to the same XML.
    #[test]
    fn token_soup_never_crashes_and_round_trips() {
        let vocab = [
            "element",
            "attribute",
            "a",
            "b",
            "eg:c",
            "eg:*",
            "*",
            "-",
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ",",
            "|",
            "&",
            "?",
            "+",
            "*",
            "=",
            "|=",
            "&=",
            "empty",
            "text",
            "notAllowed",
            "string",
            "token",
            "xsd:int",
            "\"v\"",
            "'w'",
            "~",
            "list",
            "mixed",
            "start",
            "div",
            "grammar",
            "parent",
            "include \"i\"",
            "external \"e\"",
            ">>",
            "x",
            "## d\n",
            "# c\n",
            "\\element",
            "\n",
            "eg:x",
            "inherit",
            "=",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut parsed = 0;
        for _ in 0..5000 {
            let len = 1 + (next() % 14) as usize;
            let mut src = String::from("namespace eg = \"http://e\"\n");
            for _ in 0..len {
                let t = vocab[(next() % vocab.len() as u64) as usize];
                src.push_str(t);
                src.push(' ');
            }
            match parse_compact(&src, "t") {
                Err(d) => assert!(d.iter().all(|d| d.code != "rnc/internal"), "{src:?}: {d:?}"),
                Ok(x) => {
                    parsed += 1;
                    let rnc = match write_compact(&x) {
                        Ok(r) => r,
                        Err(d) => panic!("{src:?}: writer failed {d:?}\n{x}"),
                    };
                    match parse_compact(&rnc, "t") {
                        Ok(x2) => assert_eq!(x, x2, "{src:?}\n{rnc}"),
                        Err(d) => panic!("{src:?}: written compact refused {d:?}\n{rnc}"),
                    }
                }
            }
        }
        assert!(parsed > 20, "only {parsed} inputs parsed");
    }

    #[test]
    fn top_level_following_annotation_is_written_inside_start() {
        let x = format!("<group xmlns=\"{RNG_NS}\"><empty/><x xmlns=\"\"/><text/></group>");
        let rnc = write_compact(&x).unwrap();
        assert!(rnc.starts_with("start ="), "{rnc}");
        xml(&rnc);
    }

    /// A schema touching most of the compact syntax, for the snapshots of both outputs.
    const SAMPLE: &str = r#"# A sample schema.
default namespace = "http://example.com/ns"
namespace xlink = "http://www.w3.org/1999/xlink"
namespace a = "http://relaxng.org/ns/compatibility/annotations/1.0"
datatypes d = "http://example.com/datatypes"

## The root.
start = doc
doc =
  element doc {
    [ a:defaultValue = "1" ] attribute version { xsd:decimal { minInclusive = "1" } }?,
    attribute xlink:href { xsd:anyURI }?,
    (head? & body+),
    element * - (xlink:* | doc) { any }*
  }
head |= element head { text, (string - ("x" | "y")) >> a:note [ "not x or y" ] }
body &= element body { mixed { (inline | list { d:word+ })* } }
inline = element b | i { inline* } | notAllowed
any = mixed { (element * { any } | attribute * { text })* }
div {
  # a comment
  \start |= element alt { "a" | token "b" | string "c" }
}
"#;

    #[test]
    fn snapshot_compact_to_xml() {
        insta::assert_snapshot!("compact_to_xml", xml(SAMPLE));
    }

    #[test]
    fn snapshot_xml_to_compact() {
        let rnc = write_compact(&xml(SAMPLE)).unwrap();
        insta::assert_snapshot!("xml_to_compact", rnc);
    }

    #[test]
    fn writer_rejects_non_rng() {
        assert!(write_compact("<foo/>").is_err());
        assert!(write_compact("<grammar").is_err());
        assert!(write_compact(&format!("<data xmlns=\"{RNG_NS}\" type=\"int\"/>")).is_err());
    }
}
