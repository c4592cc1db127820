//! Edition integrity: every `xml:id` unique, every pointer resolving, every date a real date in
//! order and agreeing with its text, every register entry used.
//!
//! Owns the one streaming pass over a document (the `xml` reader's events, no tree; linear in
//! the document plus the pointers it holds) and the findings it reports: `id/duplicate`
//! (XML 1.0 §3.3.1 Validity constraint: ID, applied to `xml:id` per xml:id Recommendation §4),
//! `ref/dangling`, `ref/file-missing`, `ref/prefix-undefined`, `ref/prefix-unmatched`,
//! `ref/prefixdef-invalid`, `ref/rendition-external` (TEI Guidelines 16.1 "Links", 16.2.3 "Using
//! Abbreviated Pointers", 2.3.4 "The Tagging Declaration"), `date/invalid`, `date/inverted`,
//! `date/mismatch` (TEI
//! Guidelines 3.6.4 "Dates and Times", 13.4 "Dates"; ISO 8601 calendar; XML Schema Part 2
//! §3.2.7–§3.2.14) and `register/unused` (TEI Guidelines 13.3 "Biographical and Prosopographical
//! Data", 13.3.4 places, 13.3.3 organisations; 16.10 `standOff`).
//!
//! Which attributes are pointers or dates comes from [`attrs::AttrKinds`] (the schema in use,
//! else TEI's lists). Other documents are read only through the [`Documents`] trait; its one
//! file-reading implementation, [`FsDocuments`], is this module's explicit loader, so the check
//! itself stays a pure function of its inputs. It must not validate grammar (RELAX NG's job) or
//! print anything.
//!
//! Files pointed to: `file.xml#x` is checked when the file would be local, i.e. when no
//! absolute `xml:base` is in scope and the document itself has a location. A local file that
//! does not exist is an error (`ref/file-missing`): the pointer cannot resolve for any reader of
//! this copy. Under an absolute `xml:base` (as in the Schnitzler letters) the same reference
//! names a remote resource and is left alone, as are absolute URIs and bare tokens.
//!
//! Severities: everything is an error except `register/unused` and `ref/rendition-external`
//! (a document that declares no `<rendition>` at all takes its `@rendition` values from its
//! customisation, as TEI simplePrint does; reported once per value). A `prefixDef`'s
//! `@matchPattern` is read with the `regex` crate, anchored at both ends; TEI specifies XSD
//! regular expressions, whose common subset this covers.

pub mod attrs;
pub mod dates;
pub mod pointers;

mod fast;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::diag::{Diagnostic, LineIndex, Report, Span};
use crate::xml::{Event, XML_NS, XmlReader};
use attrs::{AttrKind, AttrKinds, TEI_NS};
use dates::DateValue;
use pointers::{PrefixDef, Target};

/// The stable codes of integrity findings.
pub mod codes {
    pub const ID_DUPLICATE: &str = "id/duplicate";
    pub const REF_DANGLING: &str = "ref/dangling";
    pub const REF_PREFIX_UNDEFINED: &str = "ref/prefix-undefined";
    pub const REF_PREFIX_UNMATCHED: &str = "ref/prefix-unmatched";
    pub const REF_PREFIXDEF_INVALID: &str = "ref/prefixdef-invalid";
    pub const REF_FILE_MISSING: &str = "ref/file-missing";
    pub const REF_RENDITION_EXTERNAL: &str = "ref/rendition-external";
    pub const DATE_INVALID: &str = "date/invalid";
    pub const DATE_INVERTED: &str = "date/inverted";
    pub const DATE_MISMATCH: &str = "date/mismatch";
    pub const REGISTER_UNUSED: &str = "register/unused";
}

/// What another document holds, as far as integrity needs it.
#[derive(Debug, Clone)]
pub enum External {
    /// The `xml:id`s of the document.
    Ids(Rc<HashSet<String>>),
    /// The file would be local but does not exist or cannot be read (the reason).
    Missing(String),
    /// Not a local file (or the document has no location): left alone.
    NotLocal,
}

/// Access to the documents pointers lead to. `path` is relative to the checked document's
/// directory (already joined with any relative `xml:base`) and percent-decoded.
pub trait Documents {
    fn lookup(&mut self, path: &str) -> External;
}

/// No other documents (text from stdin, or pure use): every file pointer is left alone.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDocuments;

impl Documents for NoDocuments {
    fn lookup(&mut self, _path: &str) -> External {
        External::NotLocal
    }
}

/// Reads local files beside the checked document (the one filesystem access of integrity),
/// caching the ids of each file read.
#[derive(Debug, Default)]
pub struct FsDocuments {
    dir: Option<PathBuf>,
    cache: HashMap<PathBuf, External>,
}

impl FsDocuments {
    /// Documents relative to `dir` (the checked document's directory).
    pub fn new(dir: &Path) -> Self {
        FsDocuments {
            dir: Some(dir.to_path_buf()),
            cache: HashMap::new(),
        }
    }

    /// Reads one file and collects its `xml:id`s (up to a well-formedness error, if any).
    pub fn load_ids(path: &Path) -> Result<HashSet<String>, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
        let text =
            crate::xml::decode(&bytes).map_err(|d| format!("cannot decode it: {}", d.message))?;
        Ok(collect_ids(&text))
    }
}

impl Documents for FsDocuments {
    fn lookup(&mut self, path: &str) -> External {
        let Some(dir) = &self.dir else {
            return External::NotLocal;
        };
        let local = path
            .strip_prefix("file://")
            .or_else(|| path.strip_prefix("file:"))
            .unwrap_or(path);
        let full = dir.join(local);
        if let Some(e) = self.cache.get(&full) {
            return e.clone();
        }
        let result = if full.is_file() {
            match FsDocuments::load_ids(&full) {
                Ok(ids) => External::Ids(Rc::new(ids)),
                Err(e) => External::Missing(format!("'{}': {e}", full.display())),
            }
        } else {
            External::Missing(format!("'{}' does not exist", full.display()))
        };
        self.cache.insert(full, result.clone());
        result
    }
}

/// The `xml:id` values of a document (first occurrences), read with the streaming reader.
pub fn collect_ids(text: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut reader = XmlReader::new(text);
    while let Ok(Some(ev)) = reader.next_event() {
        if let Event::Start { attrs, .. } = ev {
            for a in attrs {
                if a.ns == XML_NS && a.local == "id" {
                    ids.insert(a.value.trim().to_string());
                }
            }
        }
    }
    ids
}

/// The span of attribute `qname` inside the start tag at `tag` (the reader gives attributes
/// the tag's span; findings point at the attribute itself). Falls back to the tag.
fn locate_attr(text: &str, tag: Span, qname: &str) -> Span {
    let Some(raw) = text.get(tag.start..tag.end) else {
        return tag;
    };
    let mut from = 0;
    while let Some(i) = raw.get(from..).and_then(|r| r.find(qname)) {
        let at = from + i;
        let before_ok = raw
            .get(..at)
            .and_then(|b| b.chars().next_back())
            .is_some_and(char::is_whitespace);
        let after = raw.get(at + qname.len()..).unwrap_or("");
        if before_ok && after.trim_start().starts_with('=') {
            return Span::new(tag.start + at, tag.start + at + qname.len());
        }
        from = at + qname.len().max(1);
    }
    tag
}

/// Elements that are register entries when inside a list or `standOff` (TEI Guidelines 13.3).
fn is_entry(local: &str) -> bool {
    matches!(
        local,
        "person" | "personGrp" | "place" | "org" | "event" | "object" | "nym"
    )
}

/// Containers of register entries.
fn is_register_list(local: &str) -> bool {
    matches!(
        local,
        "standOff"
            | "listPerson"
            | "listPlace"
            | "listOrg"
            | "listEvent"
            | "listObject"
            | "listNym"
    )
}

/// Most "did you mean" searches per document (each is linear in the number of ids).
const MAX_SUGGESTIONS: usize = 200;

/// One attribute as the pass sees it, borrowed from whichever reader produced it.
struct AttrRef<'a> {
    ns: &'a str,
    local: &'a str,
    qname: &'a str,
    value: std::borrow::Cow<'a, str>,
    /// The start tag's span.
    span: Span,
}

struct Pointer {
    /// The attribute's qualified name (shared by every pointer of that name).
    attr: Rc<str>,
    /// The token's range in [`Pass::tokens`] (one buffer for all pointers).
    token: std::ops::Range<usize>,
    span: Span,
    /// The effective `xml:base` (None: the document's own location).
    base: Option<Rc<str>>,
}

struct Entry {
    id: String,
    element: String,
    span: Span,
}

struct DateText {
    depth: usize,
    when: DateValue,
    when_raw: String,
    when_span: Span,
    text: String,
    text_start: Option<usize>,
}

/// A parsed datable attribute of one element.
struct DateAttr<'a> {
    local: &'a str,
    qname: &'a str,
    raw: &'a str,
    span: Span,
    value: Option<DateValue>,
}

struct Pass<'t> {
    text: &'t str,
    index: Option<LineIndex>,
    report: Report,
    /// Each `xml:id`: its first start tag, and whether a pointer resolved to it.
    ids: HashMap<String, (Span, bool)>,
    pointers: Vec<Pointer>,
    tokens: String,
    attr_names: Vec<Rc<str>>,
    prefix_defs: Vec<PrefixDef>,
    entries: Vec<Entry>,
    dates: Vec<DateText>,
    bases: Vec<(usize, Rc<str>)>,
    register_depth: Vec<usize>,
    depth: usize,
    /// Whether the document declares any `rendition` with an `xml:id` (TEI Guidelines 2.3.4).
    has_renditions: bool,
}

impl<'t> Pass<'t> {
    fn at(&mut self, span: Span) -> String {
        let text = self.text;
        let index = self.index.get_or_insert_with(|| LineIndex::new(text));
        let (l, c) = index.line_col(text, span.start);
        format!("line {l}, column {c}")
    }

    fn start(&mut self, kinds: &AttrKinds, ns: &str, local: &str, attrs: &[AttrRef], span: Span) {
        self.depth += 1;
        let tei = ns == TEI_NS;
        let element_kinds = kinds.element(ns, local);
        let mut date_attrs: Vec<DateAttr> = Vec::new();
        let mut own_id: Option<(String, Span)> = None;
        let mut pd: [Option<&str>; 3] = [None; 3];
        for a in attrs {
            if a.ns == XML_NS {
                if a.local == "id" {
                    let v = a.value.trim();
                    // Spans are the tag's until a finding needs the attribute's own position.
                    let aspan = a.span;
                    if let Some((first, _)) = self.ids.get(v).copied() {
                        let where_ = self.at(locate_attr(self.text, first, "xml:id"));
                        self.report.push(
                            Diagnostic::error(
                                codes::ID_DUPLICATE,
                                format!("xml:id \"{v}\" is already used at {where_}"),
                            )
                            .with_span(locate_attr(self.text, aspan, a.qname))
                            .with_hint(format!("first occurrence of \"{v}\" at {where_}")),
                        );
                    } else {
                        self.ids.insert(v.to_string(), (aspan, false));
                    }
                    own_id = Some((v.to_string(), aspan));
                } else if a.local == "base" {
                    let v = a.value.trim();
                    let eff: Rc<str> = match self.bases.last() {
                        Some((_, parent)) if !pointers::is_absolute(v) => {
                            if pointers::is_absolute(parent) {
                                parent.clone()
                            } else {
                                pointers::join_relative(parent, v).into()
                            }
                        }
                        _ => v.into(),
                    };
                    self.bases.push((self.depth, eff));
                }
                continue;
            }
            if tei && local == "prefixDef" && a.ns.is_empty() {
                match a.local {
                    "ident" => pd[0] = Some(&a.value),
                    "matchPattern" => pd[1] = Some(&a.value),
                    "replacementPattern" => pd[2] = Some(&a.value),
                    _ => {}
                }
            }
            match element_kinds.kind(a.ns, a.local) {
                Some(AttrKind::Pointer) => {
                    let base = self.bases.last().map(|(_, b)| b.clone());
                    for token in a.value.split_ascii_whitespace() {
                        if token.contains('#') || token.contains(':') {
                            let attr = self.attr_name(a.qname);
                            let start = self.tokens.len();
                            self.tokens.push_str(token);
                            self.pointers.push(Pointer {
                                attr,
                                token: start..self.tokens.len(),
                                span: a.span,
                                base: base.clone(),
                            });
                        }
                    }
                }
                Some(k @ (AttrKind::Date | AttrKind::DateIso)) => {
                    let aspan = a.span;
                    let parsed = if k == AttrKind::Date {
                        dates::parse_w3c(&a.value).map(Some)
                    } else {
                        dates::parse_iso(&a.value)
                    };
                    let value = match parsed {
                        Ok(v) => v,
                        Err(why) => {
                            self.report.push(
                                Diagnostic::error(
                                    codes::DATE_INVALID,
                                    format!(
                                        "@{}=\"{}\" is not a real date: {why}",
                                        a.qname, a.value
                                    ),
                                )
                                .with_span(locate_attr(self.text, aspan, a.qname))
                                .with_expected(vec![if k == AttrKind::Date {
                                    "an ISO 8601 / XML Schema date, e.g. 1954-09-23, 1954-09 or 1954".into()
                                } else {
                                    "an ISO 8601 date, e.g. 1954-09-23".into()
                                }]),
                            );
                            None
                        }
                    };
                    date_attrs.push(DateAttr {
                        local: a.local,
                        qname: a.qname,
                        raw: &a.value,
                        span: aspan,
                        value,
                    });
                }
                None => {}
            }
        }
        if let (Some(ident), Some(m)) = (pd[0], pd[1]) {
            match PrefixDef::new(ident.trim(), m, pd[2].unwrap_or("")) {
                Ok(p) => self.prefix_defs.push(p),
                Err(e) => self.report.push(
                    Diagnostic::error(
                        codes::REF_PREFIXDEF_INVALID,
                        format!("prefixDef \"{ident}\": {e}"),
                    )
                    .with_span(span),
                ),
            }
        }
        self.check_order(&date_attrs, ("from", "to"));
        self.check_order(&date_attrs, ("notBefore", "notAfter"));
        self.check_order(&date_attrs, ("from-iso", "to-iso"));
        self.check_order(&date_attrs, ("notBefore-iso", "notAfter-iso"));
        if tei && local == "date" {
            let when = date_attrs
                .iter()
                .find(|d| d.local == "when")
                .or_else(|| date_attrs.iter().find(|d| d.local == "when-iso"));
            if let Some(DateAttr {
                raw,
                span,
                qname,
                value: Some(v),
                ..
            }) = when
            {
                self.dates.push(DateText {
                    depth: self.depth,
                    when: *v,
                    when_raw: raw.to_string(),
                    when_span: locate_attr(self.text, *span, qname),
                    text: String::new(),
                    text_start: None,
                });
            }
        }
        if tei && local == "rendition" && own_id.is_some() {
            self.has_renditions = true;
        }
        if tei && is_register_list(local) {
            self.register_depth.push(self.depth);
        }
        if tei
            && is_entry(local)
            && !self.register_depth.is_empty()
            && let Some((id, id_span)) = own_id
        {
            self.entries.push(Entry {
                id,
                element: local.to_string(),
                span: id_span,
            });
        }
    }

    /// The shared name of a pointer attribute (few distinct names per document).
    fn attr_name(&mut self, qname: &str) -> Rc<str> {
        if let Some(n) = self.attr_names.iter().find(|n| &***n == qname) {
            return n.clone();
        }
        let n: Rc<str> = qname.into();
        self.attr_names.push(n.clone());
        n
    }

    fn check_order(&mut self, attrs: &[DateAttr], (lo, hi): (&str, &str)) {
        let a = attrs.iter().find(|d| d.local == lo);
        let b = attrs.iter().find(|d| d.local == hi);
        let (Some(a), Some(b)) = (a, b) else { return };
        let (Some(ia), Some(ib)) = (
            a.value.and_then(|v| v.interval),
            b.value.and_then(|v| v.interval),
        ) else {
            return;
        };
        // Inverted only if all of @lo's interval lies after all of @hi's (mixed precision:
        // from="1954" to="1954-03-01" is in order).
        if ia.0 > ib.1 {
            let where_a = self.at(locate_attr(self.text, a.span, a.qname));
            self.report.push(
                Diagnostic::error(
                    codes::DATE_INVERTED,
                    format!(
                        "@{hi}=\"{}\" is earlier than @{lo}=\"{}\" ({where_a})",
                        b.raw, a.raw
                    ),
                )
                .with_span(locate_attr(self.text, b.span, b.qname))
                .with_hint(format!("@{lo} is at {where_a}; swap the two values?")),
            );
        }
    }

    fn text(&mut self, t: &str, span: Span) {
        for d in self.dates.iter_mut() {
            if d.text_start.is_none() && !t.trim().is_empty() {
                d.text_start = Some(span.start + (t.len() - t.trim_start().len()));
            }
            d.text.push_str(t);
        }
    }

    fn end(&mut self) {
        if self.dates.last().is_some_and(|d| d.depth == self.depth)
            && let Some(d) = self.dates.pop()
        {
            self.check_date_text(d);
        }
        if self.bases.last().is_some_and(|(d, _)| *d == self.depth) {
            self.bases.pop();
        }
        if self.register_depth.last() == Some(&self.depth) {
            self.register_depth.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn check_date_text(&mut self, d: DateText) {
        let Some((y, m, day)) = dates::parse_english(&d.text) else {
            return;
        };
        let w = d.when;
        let agrees = w.year.is_none_or(|wy| wy == y)
            && w.month.is_none_or(|wm| wm == m)
            && w.day.is_none_or(|wd| wd == day);
        if agrees {
            return;
        }
        let shown = d.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut diag = Diagnostic::error(
            codes::DATE_MISMATCH,
            format!(
                "@when=\"{}\" does not agree with the text \"{shown}\" ({y:04}-{m:02}-{day:02})",
                d.when_raw
            ),
        )
        .with_span(d.when_span);
        if let Some(start) = d.text_start {
            let where_ = self.at(Span::at(start));
            diag = diag.with_hint(format!("the text is at {where_}"));
        }
        self.report.push(diag);
    }

    /// Resolves the pointers collected in the pass, then reports unused register entries.
    fn finish(&mut self, docs: &mut dyn Documents) {
        let mut external_renditions: HashSet<String> = HashSet::new();
        let mut suggestions = 0usize;
        let pointers = std::mem::take(&mut self.pointers);
        let prefix_defs = std::mem::take(&mut self.prefix_defs);
        let declared = |p: &str| prefix_defs.iter().any(|d| d.ident == p);
        let tokens = std::mem::take(&mut self.tokens);
        for p in &pointers {
            let token = tokens.get(p.token.clone()).unwrap_or("");
            let expanded: String;
            let mut target = pointers::classify(token, declared);
            let mut shown = std::borrow::Cow::Borrowed(token);
            if let Target::Prefixed { prefix, rest } = target {
                let defs: Vec<&PrefixDef> =
                    prefix_defs.iter().filter(|d| d.ident == prefix).collect();
                if defs.is_empty() {
                    if !prefix_defs.is_empty() {
                        self.report.push(
                            Diagnostic::error(
                                codes::REF_PREFIX_UNDEFINED,
                                format!(
                                    "@{} uses the prefix \"{prefix}:\" in \"{}\", but no prefixDef declares it",
                                    p.attr, token
                                ),
                            )
                            .with_span(locate_attr(self.text, p.span, &p.attr))
                            .with_hint(format!(
                                "declared prefixes: {}",
                                prefix_defs
                                    .iter()
                                    .map(|d| d.ident.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        );
                    }
                    continue;
                }
                match defs.iter().find_map(|d| d.expand(rest)) {
                    Some(e) => {
                        shown = std::borrow::Cow::Owned(format!("{token} (= {e})"));
                        expanded = e;
                        target = pointers::classify(&expanded, |_| false);
                    }
                    None => {
                        self.report.push(
                            Diagnostic::error(
                                codes::REF_PREFIX_UNMATCHED,
                                format!(
                                    "@{} = \"{}\": no prefixDef \"{prefix}\" matches \"{rest}\"",
                                    p.attr, token
                                ),
                            )
                            .with_span(locate_attr(self.text, p.span, &p.attr)),
                        );
                        continue;
                    }
                }
            }
            match target {
                Target::Local(id) => {
                    if let Some(entry) = self.ids.get_mut(id.as_ref()) {
                        entry.1 = true;
                        continue;
                    }
                    // A document that declares no rendition at all takes its @rendition values
                    // from its customisation (as TEI simplePrint predefines #b, #i, ...): one
                    // warning per value, not an error per use.
                    if &*p.attr == "rendition" && !self.has_renditions {
                        if external_renditions.insert(id.to_string()) {
                            self.report.push(
                                Diagnostic::warning(
                                    codes::REF_RENDITION_EXTERNAL,
                                    format!(
                                        "@rendition \"{shown}\" is declared nowhere in this document (no <rendition> here); it must come from the project's customisation"
                                    ),
                                )
                                .with_span(locate_attr(self.text, p.span, &p.attr))
                                .with_hint("declare it in tagsDecl as <rendition xml:id=\"...\"> to make the document self-contained"),
                            );
                        }
                        continue;
                    }
                    let mut d = Diagnostic::error(
                        codes::REF_DANGLING,
                        format!(
                            "@{} points to \"{shown}\", but no element has xml:id \"{id}\"",
                            p.attr
                        ),
                    )
                    .with_span(locate_attr(self.text, p.span, &p.attr));
                    if suggestions < MAX_SUGGESTIONS {
                        suggestions += 1;
                        if let Some(s) =
                            pointers::did_you_mean(&id, self.ids.keys().map(String::as_str))
                        {
                            d = d.with_hint(format!("did you mean \"#{s}\"?"));
                        }
                    }
                    self.report.push(d);
                }
                Target::File { path, id } => {
                    let full = match &p.base {
                        Some(b) if pointers::is_absolute(b) => continue,
                        Some(b) => pointers::join_relative(b, &path),
                        None => path.to_string(),
                    };
                    match docs.lookup(&full) {
                        External::NotLocal => {}
                        External::Missing(why) => self.report.push(
                            Diagnostic::error(
                                codes::REF_FILE_MISSING,
                                format!(
                                    "@{} points into \"{full}\", a local file that cannot be read: {why}",
                                    p.attr
                                ),
                            )
                            .with_span(locate_attr(self.text, p.span, &p.attr)),
                        ),
                        External::Ids(ids) => {
                            if ids.contains(id.as_ref()) {
                                continue;
                            }
                            let mut d = Diagnostic::error(
                                codes::REF_DANGLING,
                                format!(
                                    "@{} points to \"{shown}\", but \"{full}\" has no xml:id \"{id}\"",
                                    p.attr
                                ),
                            )
                            .with_span(locate_attr(self.text, p.span, &p.attr));
                            if suggestions < MAX_SUGGESTIONS {
                                suggestions += 1;
                                if let Some(s) =
                                    pointers::did_you_mean(&id, ids.iter().map(String::as_str))
                                {
                                    d = d.with_hint(format!("did you mean \"{path}#{s}\"?"));
                                }
                            }
                            self.report.push(d);
                        }
                    }
                }
                Target::Prefixed { .. } | Target::Other => {}
            }
        }
        for e in std::mem::take(&mut self.entries) {
            if !self.ids.get(&e.id).is_some_and(|(_, used)| *used) {
                self.report.push(
                    Diagnostic::warning(
                        codes::REGISTER_UNUSED,
                        format!(
                            "register entry \"{}\" ({}) is not referenced in this document",
                            e.id, e.element
                        ),
                    )
                    .with_span(locate_attr(self.text, e.span, "xml:id"))
                    .with_hint(format!("point to it with ref=\"#{}\", or remove it", e.id)),
                );
            }
        }
    }
}

impl<'t> Pass<'t> {
    fn new(text: &'t str) -> Self {
        Pass {
            text,
            index: None,
            report: Report::new(),
            ids: HashMap::new(),
            pointers: Vec::new(),
            tokens: String::new(),
            attr_names: Vec::new(),
            prefix_defs: Vec::new(),
            entries: Vec::new(),
            dates: Vec::new(),
            bases: Vec::new(),
            register_depth: Vec::new(),
            depth: 0,
            has_renditions: false,
        }
    }

    /// Resolves what the pass collected; findings in document order.
    fn into_report(mut self, docs: &mut dyn Documents) -> Report {
        self.finish(docs);
        let mut report = self.report;
        report
            .diagnostics
            .sort_by_key(|d| d.span.map_or(0, |s| s.start));
        report
    }
}

/// Checks the integrity of one document in one pass, with the strict streaming reader of
/// `xml`. A document that is not well-formed gets its well-formedness error (code
/// `xml/not-well-formed`) and the findings before it. Findings are in document order.
pub fn check(text: &str, kinds: &AttrKinds, docs: &mut dyn Documents) -> Report {
    let mut pass = Pass::new(text);
    let mut reader = XmlReader::new(text);
    loop {
        match reader.next_event() {
            Ok(Some(Event::Start {
                ns,
                local,
                attrs,
                span,
                ..
            })) => {
                let refs: Vec<AttrRef> = attrs
                    .iter()
                    .map(|a| AttrRef {
                        ns: &a.ns,
                        local: &a.local,
                        qname: &a.qname,
                        value: std::borrow::Cow::Borrowed(a.value.as_str()),
                        span: a.span,
                    })
                    .collect();
                pass.start(kinds, &ns, &local, &refs, span)
            }
            Ok(Some(Event::Text { text: t, span })) => {
                if !pass.dates.is_empty() {
                    pass.text(&t, span);
                }
            }
            Ok(Some(Event::End { .. })) => pass.end(),
            Ok(None) => break,
            Err(d) => {
                pass.report.push(d);
                return pass.report;
            }
        }
    }
    pass.into_report(docs)
}

/// The same findings as [`check`] for a document whose well-formedness another pass checks
/// (RELAX NG validation reads it with the strict reader anyway): quick-xml's namespace reader
/// with borrowed names and no per-event allocation, about half the cost. Anything it cannot
/// read on its own (entities declared in a DTD, an unbound prefix, a syntax error) sends the
/// document through [`check`] instead, so the findings never depend on the reader.
pub fn check_well_formed(text: &str, kinds: &AttrKinds, docs: &mut dyn Documents) -> Report {
    match fast::pass(text, kinds) {
        Some(pass) => pass.into_report(docs),
        None => check(text, kinds, docs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tei(body: &str) -> String {
        format!("<TEI xmlns=\"http://www.tei-c.org/ns/1.0\">\n{body}\n</TEI>\n")
    }

    fn codes_of(text: &str) -> Vec<String> {
        check(text, &AttrKinds::tei_default(), &mut NoDocuments)
            .diagnostics
            .iter()
            .map(|d| d.code.clone())
            .collect()
    }

    #[test]
    fn duplicate_ids_name_the_first() {
        let t = tei("<p xml:id=\"a\"/>\n<p xml:id=\"a\"/>");
        let r = check(&t, &AttrKinds::tei_default(), &mut NoDocuments);
        assert_eq!(r.diagnostics.len(), 1);
        let d = &r.diagnostics[0];
        assert_eq!(d.span, Some(Span::new(61, 67)));
        assert_eq!(d.code, codes::ID_DUPLICATE);
        assert!(d.message.contains("line 2, column 4"), "{}", d.message);
    }

    #[test]
    fn dangling_with_suggestion() {
        let t =
            tei("<listPerson><person xml:id=\"molotov\"/></listPerson><persName ref=\"#molotv\"/>");
        let r = check(&t, &AttrKinds::tei_default(), &mut NoDocuments);
        let codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec![codes::REGISTER_UNUSED, codes::REF_DANGLING]);
        assert_eq!(r.diagnostics[1].hints, vec!["did you mean \"#molotov\"?"]);
    }

    #[test]
    fn prefix_defs_expand() {
        let t = tei(
            "<prefixDef ident=\"p\" matchPattern=\"([a-z]+)\" replacementPattern=\"#$1\"/>\
             <p xml:id=\"x\"/><name ref=\"p:x\"/><name ref=\"p:y\"/><name ref=\"qq:x\"/>",
        );
        assert_eq!(
            codes_of(&t),
            vec![codes::REF_DANGLING, codes::REF_PREFIX_UNDEFINED]
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            codes_of(&tei("<date when=\"1954-02-30\"/>")),
            vec![codes::DATE_INVALID]
        );
        assert_eq!(
            codes_of(&tei("<date notBefore=\"1955\" notAfter=\"1954-12-31\"/>")),
            vec![codes::DATE_INVERTED]
        );
        assert!(codes_of(&tei("<date from=\"1954\" to=\"1954-03-01\"/>")).is_empty());
        assert_eq!(
            codes_of(&tei(
                "<date when=\"1954-09-24\">23 <hi>September</hi> 1954</date>"
            )),
            vec![codes::DATE_MISMATCH]
        );
        assert!(codes_of(&tei("<date when=\"1954-09-23\">September 23, 1954</date>")).is_empty());
        assert!(codes_of(&tei("<date when=\"1954-08-11\">11 August</date>")).is_empty());
        assert!(codes_of(&tei("<locus from=\"12r\" to=\"3v\"/>")).is_empty());
    }

    #[test]
    fn left_alone() {
        let t = tei(
            "<ref target=\"https://example.org/#x\"/><name ref=\"pmb123\"/>\
             <graphic url=\"missing.jpg\"/><ptr target=\"other.xml#x\"/>",
        );
        assert!(codes_of(&t).is_empty());
        assert!(codes_of("<a ref=\"#nowhere\"/>").is_empty(), "not TEI");
    }

    #[test]
    fn file_pointers_through_documents() {
        struct One;
        impl Documents for One {
            fn lookup(&mut self, path: &str) -> External {
                match path {
                    "sub/reg.xml" => External::Ids(Rc::new(["tito".to_string()].into())),
                    _ => External::Missing("no".into()),
                }
            }
        }
        let t = tei(
            "<div xml:base=\"sub/\"><name ref=\"reg.xml#tito\"/><name ref=\"reg.xml#titto\"/>\
             <name ref=\"gone.xml#a\"/></div>\
             <div xml:base=\"https://example.org/\"><name ref=\"gone.xml#a\"/></div>\
             <name ref=\"#x\"/><p xml:id=\"x\" xml:base=\"https://example.org/\"/>",
        );
        let r = check(&t, &AttrKinds::tei_default(), &mut One);
        let codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec![codes::REF_DANGLING, codes::REF_FILE_MISSING]);
        assert_eq!(
            r.diagnostics[0].hints,
            vec!["did you mean \"reg.xml#tito\"?"]
        );
    }

    #[test]
    fn not_well_formed_stops() {
        let r = check("<a><b></a>", &AttrKinds::tei_default(), &mut NoDocuments);
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].code, crate::xml::CODE_NOT_WF);
    }
}
