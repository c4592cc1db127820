//! Reading RELAX NG XML syntax (RELAX NG §3) into an intermediate tree, performing the
//! simplification steps that need the syntax: §4.1 annotations, §4.2 whitespace, §4.3–§4.4
//! `datatypeLibrary` and `type`, §4.5–§4.7 `href`, `externalRef` and `include` (with overriding
//! definitions), §4.8–§4.10 names, `ns` inheritance and QNames, §4.11 `div`, §4.12–§4.15 child
//! counts, `mixed`, `optional`, `zeroOrMore`, §4.16 constraints, §4.17 `combine` and the scoping of
//! nested grammars (§4.18).
//!
//! It reads files only through a [`Resolver`]; it must not know about documents or validation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::datatype::{Datatype, ValuePat, XSD_LIB};
use super::pattern::NameClass;
use super::{Loc, Resolver, SchemaFile};
use crate::diag::{Diagnostic, Span};

/// Namespace of RELAX NG elements.
pub const RNG_NS: &str = "http://relaxng.org/ns/structure/1.0";
const START: &str = "#start";
const MAX_DEPTH: usize = 500;

/// A pattern after the syntactic simplification steps.
#[derive(Debug, Clone)]
pub enum Ast {
    Empty,
    NotAllowed,
    Text,
    Element(NameClass, Box<Ast>, Loc),
    Attribute(NameClass, Box<Ast>, Loc),
    Group(Vec<Ast>),
    Interleave(Vec<Ast>),
    Choice(Vec<Ast>),
    OneOrMore(Box<Ast>),
    List(Box<Ast>, Loc),
    Data(u32, Option<Box<Ast>>, Loc),
    Value(u32, Loc),
    /// A reference to a definition of a grammar scope (§4.18).
    Ref(usize, String, Loc),
}

/// A schema after parsing: definitions by (scope, name) and the top pattern.
#[derive(Debug)]
pub struct Parsed {
    pub files: Vec<SchemaFile>,
    pub annotations: Vec<super::Annotation>,
    pub defs: Vec<(Ast, Loc)>,
    pub def_index: HashMap<(usize, String), usize>,
    pub top: Ast,
    pub datatypes: Vec<Datatype>,
    pub values: Vec<ValuePat>,
}

/// A schema error: the file it is in and the diagnostic.
pub type Error = Box<(usize, Diagnostic)>;

#[derive(Clone)]
struct Ctx {
    ns: String,
    dtlib: String,
    base_dir: PathBuf,
    file: usize,
    scope: Option<usize>,
    depth: usize,
}

enum CompKind {
    Start,
    Define(String),
}

struct Component {
    kind: CompKind,
    combine: Option<String>,
    ast: Ast,
    loc: Loc,
}

struct Scope {
    parent: Option<usize>,
}

struct Parser<'r> {
    resolver: &'r mut dyn Resolver,
    files: Vec<SchemaFile>,
    open_files: Vec<PathBuf>,
    annotations: Vec<super::Annotation>,
    scopes: Vec<Scope>,
    defs: Vec<(Ast, Loc)>,
    def_index: HashMap<(usize, String), usize>,
    datatypes: Vec<Datatype>,
    values: Vec<ValuePat>,
}

fn err(file: usize, span: Span, code: &str, msg: impl Into<String>) -> Error {
    Box::new((file, Diagnostic::error(code, msg).with_span(span)))
}

/// The end of an element's start tag, where jing places schema errors.
fn span_of(n: roxmltree::Node) -> Span {
    let r = n.range();
    let text = n.document().input_text();
    let mut quote: Option<u8> = None;
    let bytes = text.as_bytes();
    let mut i = r.start;
    while i < r.end {
        let Some(&b) = bytes.get(i) else { break };
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Span::at(i + 1),
            None => {}
        }
        i += 1;
    }
    Span::at(r.start)
}

/// The end of an element (for errors about missing content, where jing places them).
fn end_of(n: roxmltree::Node) -> Span {
    Span::at(n.range().end)
}

/// The first element child (for errors about unexpected content).
fn first_child_span(n: roxmltree::Node) -> Span {
    n.children()
        .find(|c| c.is_element())
        .map(span_of)
        .unwrap_or_else(|| span_of(n))
}

fn is_ws(s: &str) -> bool {
    s.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r'])
}

fn rng_children<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    n.children()
        .filter(|c| c.is_element() && c.tag_name().namespace() == Some(RNG_NS))
}

/// Whether `s` is an absolute URI without a fragment, or empty (§4.3 `datatypeLibrary`).
fn valid_dtlib(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if s.contains('#') {
        return false;
    }
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    if rest.is_empty() {
        return false;
    }
    let mut cs = scheme.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic())
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !s.contains(' ')
        && is_valid_uri_chars(s)
}

fn is_valid_uri_chars(s: &str) -> bool {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return false;
        }
    }
    true
}

impl<'r> Parser<'r> {
    fn load(
        &mut self,
        base_dir: &Path,
        href: &str,
        file: usize,
        span: Span,
    ) -> Result<usize, Error> {
        let href = trim(href);
        if href.contains('#') {
            return Err(err(
                file,
                span,
                "schema/href-fragment",
                format!("href '{href}' must not have a fragment identifier"),
            ));
        }
        if !is_valid_uri_chars(href) {
            return Err(err(
                file,
                span,
                "schema/href-invalid",
                format!("href '{href}' is not a valid URI"),
            ));
        }
        let (path, text) = self
            .resolver
            .resolve(base_dir, href)
            .map_err(|m| err(file, span, "schema/not-found", m))?;
        if self.open_files.contains(&path) {
            return Err(err(
                file,
                span,
                "schema/include-loop",
                format!("'{}' includes itself", path.display()),
            ));
        }
        self.files.push(SchemaFile { path, text });
        Ok(self.files.len() - 1)
    }

    /// A pattern element that must have no RELAX NG child element.
    fn check_no_children(&self, n: roxmltree::Node, name: &str, ctx: &Ctx) -> Result<(), Error> {
        match rng_children(n).next() {
            Some(_) => Err(err(
                ctx.file,
                first_child_span(n),
                "schema/bad-pattern",
                format!("<{name}> must be empty"),
            )),
            None => Ok(()),
        }
    }

    /// The context the root of a file loaded by `externalRef` or `include` is read in: the
    /// namespace is inherited (RELAX NG §4.5, §4.7), the datatype library is not (it passes only
    /// to descendants within a file, §4.3), and relative references resolve against the file's
    /// own folder.
    fn file_context(&self, ctx: &Ctx, file: usize) -> Ctx {
        let mut sub = ctx.clone();
        sub.dtlib = String::new();
        sub.file = file;
        sub.base_dir = self
            .files
            .get(file)
            .and_then(|f| f.path.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        sub
    }

    /// Parses a loaded file and calls `f` with its root element.
    fn with_file<T>(
        &mut self,
        file: usize,
        f: &mut dyn FnMut(&mut Self, roxmltree::Node) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let (text, path) = match self.files.get(file) {
            Some(sf) => (sf.text.clone(), sf.path.clone()),
            None => return Err(err(file, Span::at(0), "schema/not-found", "missing file")),
        };
        let opts = roxmltree::ParsingOptions {
            allow_dtd: true,
            nodes_limit: 5_000_000,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = roxmltree::Document::parse_with_options(&text, opts).map_err(|e| {
            let pos = e.pos();
            let idx = crate::diag::LineIndex::new(&text);
            let off = offset_of(&text, &idx, pos.row as usize, pos.col as usize);
            err(
                file,
                Span::at(off),
                "schema/not-well-formed",
                format!("schema is not well-formed XML: {e}"),
            )
        })?;
        // §4.1 removes foreign elements from the pattern; they are kept aside (Schematron rules
        // embedded in schemas are read from here).
        for n in doc.descendants().filter(|n| n.is_element()) {
            let foreign = n.tag_name().namespace() != Some(RNG_NS);
            let parent_rng = n
                .parent_element()
                .is_some_and(|p| p.tag_name().namespace() == Some(RNG_NS));
            if foreign && parent_rng {
                self.annotations.push(super::Annotation {
                    file,
                    range: n.range(),
                    ns: n.tag_name().namespace().unwrap_or("").to_string(),
                    local: n.tag_name().name().to_string(),
                });
            }
        }
        self.open_files.push(path);
        let r = f(self, doc.root_element());
        self.open_files.pop();
        r
    }

    fn check_attrs(&self, n: roxmltree::Node, allowed: &[&str], ctx: &Ctx) -> Result<(), Error> {
        for a in n.attributes() {
            match a.namespace() {
                None => {
                    if !allowed.contains(&a.name())
                        && a.name() != "ns"
                        && a.name() != "datatypeLibrary"
                    {
                        return Err(err(
                            ctx.file,
                            span_of(n),
                            "schema/unexpected-attribute",
                            format!(
                                "attribute '{}' is not allowed on <{}>",
                                a.name(),
                                n.tag_name().name()
                            ),
                        ));
                    }
                }
                Some(RNG_NS) => {
                    return Err(err(
                        ctx.file,
                        span_of(n),
                        "schema/unexpected-attribute",
                        format!(
                            "attribute '{}' in the RELAX NG namespace is not allowed",
                            a.name()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn check_no_text(&self, n: roxmltree::Node, ctx: &Ctx) -> Result<(), Error> {
        for c in n.children() {
            if c.is_text() && !is_ws(c.text().unwrap_or("")) {
                return Err(err(
                    ctx.file,
                    span_of(n),
                    "schema/unexpected-text",
                    format!("text is not allowed in <{}>", n.tag_name().name()),
                ));
            }
        }
        Ok(())
    }

    /// Applies `ns`, `datatypeLibrary` and `xml:base` of `n` to a child context.
    fn enter(&self, n: roxmltree::Node, ctx: &Ctx) -> Result<Ctx, Error> {
        let mut c = ctx.clone();
        c.depth += 1;
        if c.depth > MAX_DEPTH {
            return Err(err(
                ctx.file,
                span_of(n),
                "schema/too-deep",
                "schema nests too deeply",
            ));
        }
        if let Some(ns) = n.attribute("ns") {
            c.ns = ns.to_string();
        }
        if let Some(dl) = n.attribute("datatypeLibrary") {
            let dl = trim(dl);
            if !valid_dtlib(dl) {
                return Err(err(
                    ctx.file,
                    span_of(n),
                    "schema/bad-datatype-library",
                    format!("datatypeLibrary '{dl}' is not an absolute URI"),
                ));
            }
            c.dtlib = dl.to_string();
        }
        if let Some(b) = n.attribute((crate::xml::XML_NS, "base")) {
            let joined = c.base_dir.join(b);
            c.base_dir = if b.ends_with('/') {
                joined
            } else {
                joined.parent().map(Path::to_path_buf).unwrap_or_default()
            };
        }
        Ok(c)
    }

    fn children_patterns(&mut self, n: roxmltree::Node, ctx: &Ctx) -> Result<Vec<Ast>, Error> {
        self.check_no_text(n, ctx)?;
        let mut out = Vec::new();
        for c in rng_children(n) {
            out.push(self.pattern(c, ctx)?);
        }
        Ok(out)
    }

    fn one_or_group(&mut self, n: roxmltree::Node, ctx: &Ctx) -> Result<Ast, Error> {
        let mut ps = self.children_patterns(n, ctx)?;
        match ps.len() {
            0 => Err(err(
                ctx.file,
                end_of(n),
                "schema/missing-pattern",
                format!("<{}> needs at least one pattern", n.tag_name().name()),
            )),
            1 => Ok(ps.pop().unwrap_or(Ast::NotAllowed)),
            _ => Ok(Ast::Group(ps)),
        }
    }

    fn pattern(&mut self, n: roxmltree::Node, parent: &Ctx) -> Result<Ast, Error> {
        let ctx = self.enter(n, parent)?;
        let ctx = &ctx;
        let loc = Loc {
            file: ctx.file,
            span: span_of(n),
        };
        let name = n.tag_name().name();
        if n.tag_name().namespace() != Some(RNG_NS) {
            return Err(err(
                ctx.file,
                loc.span,
                "schema/not-a-pattern",
                format!("<{name}> is not a RELAX NG pattern"),
            ));
        }
        let e = |m: String| err(ctx.file, loc.span, "schema/bad-pattern", m);
        Ok(match name {
            "element" | "attribute" => {
                self.check_attrs(n, &["name"], ctx)?;
                self.check_no_text(n, ctx)?;
                let mut kids = rng_children(n);
                let nc = if let Some(q) = n.attribute("name") {
                    let ns = if name == "attribute" && n.attribute("ns").is_none() {
                        ""
                    } else {
                        ctx.ns.as_str()
                    };
                    self.qname(n, trim(q), ns, ctx)?
                } else {
                    let Some(first) = kids.next() else {
                        return Err(err(
                            ctx.file,
                            end_of(n),
                            "schema/bad-pattern",
                            format!("<{name}> needs a name class"),
                        ));
                    };
                    self.name_class(first, ctx, false)?
                };
                let rest: Vec<roxmltree::Node> = kids.collect();
                let mut ps = Vec::new();
                for c in rest {
                    ps.push(self.pattern(c, ctx)?);
                }
                if name == "element" {
                    let content = match ps.len() {
                        0 => {
                            return Err(err(
                                ctx.file,
                                end_of(n),
                                "schema/bad-pattern",
                                "<element> needs a content pattern",
                            ));
                        }
                        1 => ps.pop().unwrap_or(Ast::NotAllowed),
                        _ => Ast::Group(ps),
                    };
                    Ast::Element(nc, Box::new(content), loc)
                } else {
                    // §4.16: attributes may not be namespace declarations.
                    if has_xmlns(&nc) {
                        return Err(e(
                            "an attribute cannot be named xmlns or be in the xmlns namespace"
                                .into(),
                        ));
                    }
                    let content = match ps.len() {
                        0 => Ast::Text,
                        1 => ps.pop().unwrap_or(Ast::NotAllowed),
                        _ => {
                            let at = rng_children(n)
                                .nth(if n.attribute("name").is_some() { 1 } else { 2 })
                                .map(span_of)
                                .unwrap_or(loc.span);
                            return Err(err(
                                ctx.file,
                                at,
                                "schema/bad-pattern",
                                "<attribute> takes at most one pattern",
                            ));
                        }
                    };
                    Ast::Attribute(nc, Box::new(content), loc)
                }
            }
            "group" | "interleave" | "choice" => {
                self.check_attrs(n, &[], ctx)?;
                let ps = self.children_patterns(n, ctx)?;
                if ps.is_empty() {
                    return Err(err(
                        ctx.file,
                        end_of(n),
                        "schema/bad-pattern",
                        format!("<{name}> needs at least one pattern"),
                    ));
                }
                match name {
                    "group" => Ast::Group(ps),
                    "interleave" => Ast::Interleave(ps),
                    _ => Ast::Choice(ps),
                }
            }
            "optional" | "zeroOrMore" | "oneOrMore" | "list" | "mixed" => {
                self.check_attrs(n, &[], ctx)?;
                let p = self.one_or_group(n, ctx)?;
                match name {
                    "optional" => Ast::Choice(vec![p, Ast::Empty]),
                    "zeroOrMore" => Ast::Choice(vec![Ast::OneOrMore(Box::new(p)), Ast::Empty]),
                    "oneOrMore" => Ast::OneOrMore(Box::new(p)),
                    "list" => Ast::List(Box::new(p), loc),
                    _ => Ast::Interleave(vec![p, Ast::Text]),
                }
            }
            "empty" | "text" | "notAllowed" => {
                self.check_attrs(n, &[], ctx)?;
                self.check_no_children(n, name, ctx)?;
                self.check_no_text(n, ctx)?;
                match name {
                    "empty" => Ast::Empty,
                    "text" => Ast::Text,
                    _ => Ast::NotAllowed,
                }
            }
            "ref" | "parentRef" => {
                self.check_attrs(n, &["name"], ctx)?;
                self.check_no_children(n, name, ctx)?;
                self.check_no_text(n, ctx)?;
                let target = trim(n.attribute("name").unwrap_or(""));
                if !is_schema_ncname(target) {
                    return Err(e(format!("<{name}> needs an NCName 'name'")));
                }
                let Some(mut scope) = ctx.scope else {
                    return Err(e(format!("<{name}> outside a grammar")));
                };
                if name == "parentRef" {
                    let Some(p) = self.scopes.get(scope).and_then(|s| s.parent) else {
                        return Err(e("<parentRef> without a parent grammar".into()));
                    };
                    scope = p;
                }
                Ast::Ref(scope, target.to_string(), loc)
            }
            "data" => {
                self.check_attrs(n, &["type"], ctx)?;
                self.check_no_text(n, ctx)?;
                let ty = trim(n.attribute("type").unwrap_or(""));
                if !is_schema_ncname(ty) {
                    return Err(e("<data> needs an NCName 'type'".into()));
                }
                let mut params = Vec::new();
                let mut except = None;
                for c in rng_children(n) {
                    match c.tag_name().name() {
                        "param" if except.is_none() => {
                            let pc = self.enter(c, ctx)?;
                            self.check_attrs(c, &["name"], &pc)?;
                            if has_element_child(c) {
                                return Err(err(
                                    ctx.file,
                                    first_child_span(c),
                                    "schema/bad-pattern",
                                    "<param> must contain only text",
                                ));
                            }
                            let pn = trim(c.attribute("name").unwrap_or(""));
                            if !is_schema_ncname(pn) {
                                return Err(e("<param> needs an NCName 'name'".into()));
                            }
                            params.push((pn.to_string(), text_of(c)));
                        }
                        "except" if except.is_none() => {
                            let ec = self.enter(c, ctx)?;
                            self.check_attrs(c, &[], &ec)?;
                            let ps = self.children_patterns(c, &ec)?;
                            if ps.is_empty() {
                                return Err(err(
                                    ctx.file,
                                    end_of(c),
                                    "schema/bad-pattern",
                                    "<except> needs at least one pattern",
                                ));
                            }
                            except = Some(Box::new(Ast::Choice(ps)));
                        }
                        other => {
                            return Err(err(
                                ctx.file,
                                span_of(c),
                                "schema/bad-pattern",
                                format!("<{other}> is not allowed in <data>"),
                            ));
                        }
                    }
                }
                let at = rng_children(n)
                    .find(|c| c.tag_name().name() == "param")
                    .map(span_of)
                    .unwrap_or(loc.span);
                let dt = Datatype::new(&ctx.dtlib, ty, &params)
                    .map_err(|m| err(ctx.file, at, "schema/datatype", m))?;
                self.datatypes.push(dt);
                Ast::Data(
                    u32::try_from(self.datatypes.len() - 1).unwrap_or(u32::MAX),
                    except,
                    loc,
                )
            }
            "value" => {
                self.check_attrs(n, &["type"], ctx)?;
                if has_element_child(n) {
                    return Err(err(
                        ctx.file,
                        first_child_span(n),
                        "schema/bad-pattern",
                        "<value> must contain only text",
                    ));
                }
                let (lib, ty) = match n.attribute("type") {
                    Some(t) => (ctx.dtlib.clone(), trim(t).to_string()),
                    None => (String::new(), "token".to_string()),
                };
                if !is_schema_ncname(&ty) {
                    return Err(e("<value> needs an NCName 'type'".into()));
                }
                let dt = Datatype::new(&lib, &ty, &[])
                    .map_err(|m| err(ctx.file, loc.span, "schema/datatype", m))?;
                let raw = text_of(n);
                let default_ns = ctx.ns.clone();
                let resolve = |p: &str| -> Option<String> {
                    if p.is_empty() {
                        Some(default_ns.clone())
                    } else {
                        n.lookup_namespace_uri(Some(p)).map(str::to_string)
                    }
                };
                let Some(value) = dt.value(&raw, &resolve) else {
                    return Err(err(
                        ctx.file,
                        loc.span,
                        "schema/datatype",
                        format!("'{raw}' is not a valid value of datatype '{ty}'"),
                    ));
                };
                self.datatypes.push(dt);
                let dti = u32::try_from(self.datatypes.len() - 1).unwrap_or(u32::MAX);
                self.values.push(ValuePat {
                    datatype: dti,
                    raw,
                    value,
                });
                Ast::Value(
                    u32::try_from(self.values.len() - 1).unwrap_or(u32::MAX),
                    loc,
                )
            }
            "externalRef" => {
                self.check_attrs(n, &["href"], ctx)?;
                self.check_no_text(n, ctx)?;
                self.check_no_children(n, "externalRef", ctx)?;
                let Some(href) = n.attribute("href") else {
                    return Err(e("<externalRef> needs an 'href' attribute".into()));
                };
                let file = self.load(&ctx.base_dir, href, ctx.file, loc.span)?;
                let sub = self.file_context(ctx, file);
                self.with_file(file, &mut |p, root| p.pattern(root, &sub))?
            }
            "grammar" => {
                self.check_attrs(n, &[], ctx)?;
                let scope = self.scopes.len();
                self.scopes.push(Scope { parent: ctx.scope });
                let mut gc = ctx.clone();
                gc.scope = Some(scope);
                let mut comps = Vec::new();
                self.grammar_content(n, &gc, &mut comps, false)?;
                self.finish_grammar(scope, comps, loc)?;
                Ast::Ref(scope, START.to_string(), loc)
            }
            other => return Err(e(format!("<{other}> is not a RELAX NG pattern"))),
        })
    }

    fn grammar_content(
        &mut self,
        n: roxmltree::Node,
        ctx: &Ctx,
        out: &mut Vec<Component>,
        in_include: bool,
    ) -> Result<(), Error> {
        self.check_no_text(n, ctx)?;
        for c in rng_children(n) {
            let cc = self.enter(c, ctx)?;
            let loc = Loc {
                file: cc.file,
                span: span_of(c),
            };
            let combine = match c.attribute("combine").map(trim) {
                None => None,
                Some(v @ ("choice" | "interleave")) => Some(v.to_string()),
                Some(v) => {
                    return Err(err(
                        cc.file,
                        loc.span,
                        "schema/bad-combine",
                        format!("combine must be 'choice' or 'interleave', not '{v}'"),
                    ));
                }
            };
            match c.tag_name().name() {
                "start" => {
                    self.check_attrs(c, &["combine"], &cc)?;
                    let ps = self.children_patterns(c, &cc)?;
                    if ps.len() != 1 {
                        let at = rng_children(c)
                            .nth(1)
                            .map(span_of)
                            .unwrap_or_else(|| end_of(c));
                        return Err(err(
                            cc.file,
                            at,
                            "schema/bad-start",
                            "<start> takes exactly one pattern",
                        ));
                    }
                    let ast = ps.into_iter().next().unwrap_or(Ast::NotAllowed);
                    out.push(Component {
                        kind: CompKind::Start,
                        combine,
                        ast,
                        loc,
                    });
                }
                "define" => {
                    self.check_attrs(c, &["name", "combine"], &cc)?;
                    let name = trim(c.attribute("name").unwrap_or(""));
                    if !is_schema_ncname(name) {
                        return Err(err(
                            cc.file,
                            loc.span,
                            "schema/bad-define",
                            "<define> needs an NCName 'name'",
                        ));
                    }
                    let ast = self.one_or_group(c, &cc)?;
                    out.push(Component {
                        kind: CompKind::Define(name.to_string()),
                        combine,
                        ast,
                        loc,
                    });
                }
                "div" => {
                    self.check_attrs(c, &[], &cc)?;
                    self.grammar_content(c, &cc, out, in_include)?;
                }
                "include" if !in_include => {
                    self.check_attrs(c, &["href"], &cc)?;
                    let Some(href) = c.attribute("href") else {
                        return Err(err(
                            cc.file,
                            loc.span,
                            "schema/bad-include",
                            "<include> needs an 'href' attribute",
                        ));
                    };
                    let file = self.load(&cc.base_dir, href, cc.file, loc.span)?;
                    let sub = self.file_context(&cc, file);
                    let mut included = Vec::new();
                    self.with_file(file, &mut |p, root| {
                        if root.tag_name().namespace() != Some(RNG_NS)
                            || root.tag_name().name() != "grammar"
                        {
                            return Err(err(
                                file,
                                span_of(root),
                                "schema/include-not-grammar",
                                "an included file must be a <grammar>",
                            ));
                        }
                        let rc = p.enter(root, &sub)?;
                        p.check_attrs(root, &[], &rc)?;
                        p.grammar_content(root, &rc, &mut included, false)
                    })?;
                    let mut own = Vec::new();
                    self.grammar_content(c, &cc, &mut own, true)?;
                    // §4.7: overriding components replace those of the included grammar.
                    if own.iter().any(|x| matches!(x.kind, CompKind::Start)) {
                        if !included.iter().any(|x| matches!(x.kind, CompKind::Start)) {
                            return Err(err(
                                cc.file,
                                loc.span,
                                "schema/include-override",
                                "the include overrides <start> but the included grammar has none",
                            ));
                        }
                        included.retain(|x| !matches!(x.kind, CompKind::Start));
                    }
                    for o in &own {
                        if let CompKind::Define(name) = &o.kind
                            && !included
                                .iter()
                                .any(|x| matches!(&x.kind, CompKind::Define(n) if n == name))
                        {
                            return Err(err(
                                cc.file,
                                o.loc.span,
                                "schema/include-override",
                                format!(
                                    "the include overrides '{name}' but the included grammar does not define it"
                                ),
                            ));
                        }
                    }
                    let names: Vec<String> = own
                        .iter()
                        .filter_map(|x| match &x.kind {
                            CompKind::Define(n) => Some(n.clone()),
                            _ => None,
                        })
                        .collect();
                    included
                        .retain(|x| !matches!(&x.kind, CompKind::Define(n) if names.contains(n)));
                    out.extend(included);
                    out.extend(own);
                }
                other => {
                    return Err(err(
                        cc.file,
                        loc.span,
                        "schema/bad-grammar-content",
                        format!("<{other}> is not allowed in a grammar"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// §4.17: combines same-named components; records the definitions of the scope.
    fn finish_grammar(
        &mut self,
        scope: usize,
        comps: Vec<Component>,
        loc: Loc,
    ) -> Result<(), Error> {
        let mut groups: Vec<(String, Vec<Component>)> = Vec::new();
        for c in comps {
            let key = match &c.kind {
                CompKind::Start => START.to_string(),
                CompKind::Define(n) => n.clone(),
            };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(c),
                None => groups.push((key, vec![c])),
            }
        }
        if !groups.iter().any(|(k, _)| k == START) {
            return Err(err(
                loc.file,
                loc.span,
                "schema/no-start",
                "the grammar has no <start>",
            ));
        }
        for (key, comps) in groups {
            let without = comps.iter().filter(|c| c.combine.is_none()).count();
            let first = comps.first().map(|c| c.loc).unwrap_or(loc);
            if without > 1 {
                let what = if key == START {
                    "<start>".to_string()
                } else {
                    format!("'{key}'")
                };
                let second = comps
                    .iter()
                    .filter(|c| c.combine.is_none())
                    .nth(1)
                    .map(|c| c.loc)
                    .unwrap_or(first);
                return Err(err(
                    second.file,
                    second.span,
                    "schema/duplicate-define",
                    format!("{what} is defined more than once without 'combine'"),
                ));
            }
            let mut method: Option<String> = None;
            for c in &comps {
                if let Some(m) = c.combine.as_deref() {
                    if method.as_deref().is_some_and(|x| x != m) {
                        return Err(err(
                            c.loc.file,
                            c.loc.span,
                            "schema/combine-conflict",
                            format!("'{key}' is combined with both choice and interleave"),
                        ));
                    }
                    method = Some(m.to_string());
                }
            }
            let asts: Vec<Ast> = comps.into_iter().map(|c| c.ast).collect();
            let ast = if asts.len() == 1 {
                asts.into_iter().next().unwrap_or(Ast::NotAllowed)
            } else if method.as_deref() == Some("interleave") {
                Ast::Interleave(asts)
            } else {
                Ast::Choice(asts)
            };
            self.defs.push((ast, first));
            self.def_index.insert((scope, key), self.defs.len() - 1);
        }
        Ok(())
    }

    fn qname(
        &self,
        n: roxmltree::Node,
        q: &str,
        default_ns: &str,
        ctx: &Ctx,
    ) -> Result<NameClass, Error> {
        let valid = match q.split_once(':') {
            Some((p, l)) => is_schema_ncname(p) && is_schema_ncname(l),
            None => is_schema_ncname(q),
        };
        if !valid {
            return Err(err(
                ctx.file,
                span_of(n),
                "schema/bad-name",
                format!("'{q}' is not a QName"),
            ));
        }
        Ok(match q.split_once(':') {
            Some(("xml", l)) => NameClass::Name(crate::xml::XML_NS.to_string(), l.to_string()),
            Some((p, l)) => {
                let Some(uri) = n.lookup_namespace_uri(Some(p)) else {
                    return Err(err(
                        ctx.file,
                        span_of(n),
                        "schema/unbound-prefix",
                        format!("prefix '{p}' is not declared"),
                    ));
                };
                NameClass::Name(uri.to_string(), l.to_string())
            }
            None => NameClass::Name(default_ns.to_string(), q.to_string()),
        })
    }

    fn name_class(
        &mut self,
        n: roxmltree::Node,
        parent: &Ctx,
        in_except: bool,
    ) -> Result<NameClass, Error> {
        let ctx = self.enter(n, parent)?;
        let span = span_of(n);
        let e = |m: String| err(ctx.file, span, "schema/bad-name-class", m);
        match n.tag_name().name() {
            "name" => {
                self.check_attrs(n, &[], &ctx)?;
                if has_element_child(n) {
                    return Err(err(
                        ctx.file,
                        first_child_span(n),
                        "schema/bad-name-class",
                        "<name> must contain only text",
                    ));
                }
                let t = text_of(n);
                self.qname(n, trim(&t), &ctx.ns, &ctx)
                    .map_err(|e| Box::new((e.0, e.1.clone().with_span(end_of(n)))))
            }
            "anyName" | "nsName" => {
                self.check_attrs(n, &[], &ctx)?;
                self.check_no_text(n, &ctx)?;
                let any = n.tag_name().name() == "anyName";
                let mut except = None;
                for c in rng_children(n) {
                    if c.tag_name().name() != "except" || except.is_some() {
                        return Err(err(
                            ctx.file,
                            span_of(c),
                            "schema/bad-name-class",
                            format!("<{}> is not allowed here", c.tag_name().name()),
                        ));
                    }
                    let ec = self.enter(c, &ctx)?;
                    self.check_attrs(c, &[], &ec)?;
                    self.check_no_text(c, &ec)?;
                    let mut ncs = Vec::new();
                    for k in rng_children(c) {
                        ncs.push(self.name_class(k, &ec, true)?);
                    }
                    let Some(mut acc) = ncs.pop() else {
                        return Err(err(
                            ctx.file,
                            end_of(c),
                            "schema/bad-name-class",
                            "<except> needs a name class",
                        ));
                    };
                    while let Some(x) = ncs.pop() {
                        acc = NameClass::Choice(Box::new(x), Box::new(acc));
                    }
                    // §4.16 constraints on except.
                    if any && contains_kind(&acc, true) {
                        return Err(e("anyName in the except of anyName".into()));
                    }
                    if !any && (contains_kind(&acc, true) || contains_kind(&acc, false)) {
                        return Err(e("anyName or nsName in the except of nsName".into()));
                    }
                    except = Some(Box::new(acc));
                }
                if in_except && any {
                    return Err(e("anyName is not allowed inside except".into()));
                }
                Ok(if any {
                    NameClass::AnyName(except)
                } else {
                    NameClass::NsName(ctx.ns.clone(), except)
                })
            }
            "choice" => {
                self.check_attrs(n, &[], &ctx)?;
                self.check_no_text(n, &ctx)?;
                let mut ncs = Vec::new();
                for k in rng_children(n) {
                    ncs.push(self.name_class(k, &ctx, in_except)?);
                }
                let Some(mut acc) = ncs.pop() else {
                    return Err(e("<choice> needs a name class".into()));
                };
                while let Some(x) = ncs.pop() {
                    acc = NameClass::Choice(Box::new(x), Box::new(acc));
                }
                Ok(acc)
            }
            other => Err(e(format!("<{other}> is not a name class"))),
        }
    }
}

/// NCName by the character classes of XML 1.0 before the 5th edition (Appendix B, derived from
/// Unicode categories), which the RELAX NG test suite assumes for names in schemas.
fn is_schema_ncname(s: &str) -> bool {
    use std::sync::OnceLock;
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"\A[\p{Ll}\p{Lu}\p{Lo}\p{Lt}\p{Nl}_][\p{Ll}\p{Lu}\p{Lo}\p{Lt}\p{Nl}\p{Mc}\p{Me}\p{Mn}\p{Lm}\p{Nd}._\-\u{B7}]*\z",
        )
        .ok()
    });
    match re {
        Some(re) => re.is_match(s),
        None => crate::xml::is_ncname(s),
    }
}

fn contains_kind(nc: &NameClass, any: bool) -> bool {
    match nc {
        NameClass::Name(..) => false,
        NameClass::AnyName(_) => any,
        NameClass::NsName(..) => !any,
        NameClass::Choice(a, b) => contains_kind(a, any) || contains_kind(b, any),
    }
}

/// §4.16: a `name` for `xmlns` (no namespace) or a `name`/`nsName` in the xmlns namespace,
/// anywhere in an attribute's name class (excepts included).
fn has_xmlns(nc: &NameClass) -> bool {
    const XMLNS: &str = "http://www.w3.org/2000/xmlns";
    match nc {
        NameClass::Name(n, l) => (n.is_empty() && l == "xmlns") || n == XMLNS,
        NameClass::NsName(n, ex) => n == XMLNS || ex.as_ref().is_some_and(|e| has_xmlns(e)),
        NameClass::AnyName(ex) => ex.as_ref().is_some_and(|e| has_xmlns(e)),
        NameClass::Choice(a, b) => has_xmlns(a) || has_xmlns(b),
    }
}

fn has_element_child(n: roxmltree::Node) -> bool {
    n.children().any(|c| c.is_element())
}

fn text_of(n: roxmltree::Node) -> String {
    n.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

fn offset_of(text: &str, _idx: &crate::diag::LineIndex, row: usize, col: usize) -> usize {
    let mut line = 1;
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == row {
            let c: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return off + c;
        }
        off += l.len();
        line += 1;
    }
    let _ = line;
    text.len()
}

/// Parses the schema in `files[0]` (already loaded) with `resolver` for references.
pub fn parse(
    main: SchemaFile,
    resolver: &mut dyn Resolver,
) -> Result<Parsed, (Vec<SchemaFile>, Error)> {
    let base_dir = main
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut p = Parser {
        resolver,
        files: vec![main],
        open_files: Vec::new(),
        annotations: Vec::new(),
        scopes: Vec::new(),
        defs: Vec::new(),
        def_index: HashMap::new(),
        datatypes: Vec::new(),
        values: Vec::new(),
    };
    let ctx = Ctx {
        ns: String::new(),
        dtlib: String::new(),
        base_dir,
        file: 0,
        scope: None,
        depth: 0,
    };
    let r = p.with_file(0, &mut |p, root| p.pattern(root, &ctx));
    match r {
        Ok(top) => Ok(Parsed {
            files: p.files,
            annotations: p.annotations,
            defs: p.defs,
            def_index: p.def_index,
            top,
            datatypes: p.datatypes,
            values: p.values,
        }),
        Err(e) => Err((p.files, e)),
    }
}

/// The XML Schema library URI, re-exported for callers that build datatypes.
pub const XSD: &str = XSD_LIB;

#[cfg(test)]
mod tests {
    use super::*;

    struct Files(Vec<(&'static str, &'static str)>);
    impl Resolver for Files {
        fn resolve(&mut self, base: &Path, href: &str) -> Result<(PathBuf, String), String> {
            self.0
                .iter()
                .find(|(n, _)| *n == href)
                .map(|(n, t)| (base.join(n), t.to_string()))
                .ok_or_else(|| format!("no {href}"))
        }
    }

    fn parse_str(text: &str, files: Vec<(&'static str, &'static str)>) -> Result<Parsed, String> {
        let main = SchemaFile {
            path: PathBuf::from("main.rng"),
            text: text.to_string(),
        };
        parse(main, &mut Files(files)).map_err(|(_, e)| e.1.message.clone())
    }

    const G: &str = "http://relaxng.org/ns/structure/1.0";

    #[test]
    fn include_overrides_and_combine() {
        let inc = r#"<grammar xmlns="http://relaxng.org/ns/structure/1.0"><start><ref name="a"/></start><define name="a"><element name="x"><empty/></element></define></grammar>"#;
        let main = format!(
            r#"<grammar xmlns="{G}"><include href="inc.rng"><define name="a"><element name="y"><empty/></element></define></include><define name="a" combine="choice"><element name="z"><empty/></element></define></grammar>"#
        );
        let Ok(p) = parse_str(&main, vec![("inc.rng", inc)]) else {
            panic!()
        };
        // The override replaced the included 'a'; the combine added a choice.
        let a = p
            .defs
            .iter()
            .find(|(ast, _)| matches!(ast, Ast::Choice(v) if v.len() == 2));
        assert!(a.is_some());
        let bad = format!(
            r#"<grammar xmlns="{G}"><include href="inc.rng"><define name="b"><empty/></define></include></grammar>"#
        );
        assert!(
            parse_str(&bad, vec![("inc.rng", inc)]).is_err_and(|m| m.contains("does not define"))
        );
    }

    #[test]
    fn ns_and_datatype_library_inheritance() {
        let s = format!(
            r#"<element name="a" ns="urn:x" xmlns="{G}" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes"><attribute name="b"><data type="integer"/></attribute></element>"#
        );
        let Ok(p) = parse_str(&s, vec![]) else {
            panic!()
        };
        let Ast::Element(NameClass::Name(ns, l), content, _) = &p.top else {
            panic!()
        };
        assert_eq!((ns.as_str(), l.as_str()), ("urn:x", "a"));
        // Attributes named without ns attribute are in no namespace (§4.8).
        assert!(matches!(&**content, Ast::Attribute(NameClass::Name(n, _), _, _) if n.is_empty()));
        assert_eq!(
            p.datatypes.first().map(|d| d.name.as_str()),
            Some("integer")
        );
    }

    #[test]
    fn syntax_errors() {
        let e = |s: &str| {
            parse_str(&s.replace("NS", G), vec![])
                .err()
                .unwrap_or_default()
        };
        assert!(e(r#"<element xmlns="NS" name="a"/>"#).contains("content pattern"));
        assert!(e(r#"<empty xmlns="NS" foo="1"/>"#).contains("not allowed"));
        assert!(e(r#"<element xmlns="NS" name="p:a"><empty/></element>"#).contains("prefix"));
        assert!(
            e(r#"<grammar xmlns="NS"><define name="a"><empty/></define></grammar>"#)
                .contains("no <start>")
        );
        assert!(e(r#"<externalRef xmlns="NS" href="x#f"/>"#).contains("fragment"));
    }
}
