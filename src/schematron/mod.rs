//! ISO Schematron (ISO/IEC 19757-3:2016) over our own XPath 2.0 subset, without Java.
//!
//! Owns the compiled [`Schema`] (patterns, rules, lets, phases, diagnostics), loading it from a
//! `.sch` file or from the Schematron embedded in a RELAX NG schema (`load`), and running it
//! over one document ([`check`]), which yields `sch/assert` and `sch/report` findings located
//! at the end of the context element's start tag (as jing reports element errors). Semantics
//! follow ISO/IEC 19757-3 clause 6 (semantics: validation): in each active pattern, every node is matched by at most the
//! first rule whose context matches it; `let`s are evaluated in order (clause 5.4, `let`); an
//! assert fires when its test is false, a report when it is true (clauses 5.4.1, 5.4.11).
//!
//! Layering: uses `diag` only; it must not name TEI, touch the filesystem except in the
//! explicit `load_*` functions, or print. Evaluation is linear in the document: nodes are
//! visited once, rules are indexed by the element name they can match, `id()` uses an
//! `xml:id` index and context-free sub-expressions are memoised per document (see `eval`).

pub mod eval;
pub mod load;
pub mod pattern_match;
pub mod xpath;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::diag::{Diagnostic, Report, Severity, Span};
use eval::{Env, Evaluator, Focus, Item, NodeRef, Seq, atomic_string};
use pattern_match::Target;
use xpath::Expr;

/// A compiled `let` (ISO/IEC 19757-3 clause 5.4, `let`).
#[derive(Debug, Clone)]
pub struct Let {
    pub name: String,
    pub value: Expr,
}

/// A piece of an assertion message (clause 5.4, `assert`/`report` content: text, `name`, `value-of`).
#[derive(Debug, Clone)]
pub enum MsgPart {
    Text(String),
    Name(Option<Expr>),
    ValueOf(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    Assert,
    Report,
}

/// An `assert` or `report`.
#[derive(Debug, Clone)]
pub struct Check {
    pub kind: CheckKind,
    pub id: Option<String>,
    pub test_src: String,
    pub test: Expr,
    pub message: Vec<MsgPart>,
    pub severity: Severity,
    pub diagnostics: Vec<String>,
}

/// A `rule`. `unsupported` holds why it cannot be run (it is then skipped and reported once).
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Option<String>,
    pub context_src: String,
    pub context: Expr,
    pub lets: Vec<Let>,
    pub checks: Vec<Check>,
    pub unsupported: Option<String>,
    pub pattern_label: String,
}

#[derive(Debug, Clone)]
pub struct Pattern {
    pub id: Option<String>,
    /// The id, or `#N` for the N-th pattern without one.
    pub label: String,
    pub lets: Vec<Let>,
    pub rules: Vec<Rule>,
    /// A `group` (ISO/IEC 19757-3:2020): every matching rule fires, not only the first.
    pub all_rules_fire: bool,
}

#[derive(Debug, Clone)]
pub struct Phase {
    pub id: String,
    pub active: Vec<String>,
    pub lets: Vec<Let>,
}

/// A compiled Schematron schema.
#[derive(Debug, Clone)]
pub struct Schema {
    pub name: String,
    pub title: Option<String>,
    pub default_phase: Option<String>,
    pub global_lets: Vec<Let>,
    pub patterns: Vec<Pattern>,
    pub phases: Vec<Phase>,
    pub diagnostics: HashMap<String, Vec<MsgPart>>,
    /// Number of memo slots the compiled expressions use.
    pub slots: usize,
    /// Problems found while loading that do not stop the schema from running.
    pub load_warnings: Vec<String>,
    /// Evaluate in XPath 1.0 compatibility mode: the query binding is `xslt`/`xpath` (XSLT
    /// 1.0), explicitly or by default (ISO/IEC 19757-3, default query language binding annex).
    pub xpath1_compat: bool,
}

impl Schema {
    /// Number of `assert` and `report` elements, supported or not.
    pub fn test_count(&self) -> usize {
        self.patterns
            .iter()
            .flat_map(|p| &p.rules)
            .map(|r| r.checks.len().max(usize::from(r.unsupported.is_some())))
            .sum()
    }

    /// Rules that cannot be run, each once, as `sch/unsupported` warnings naming the rule.
    /// Report these once per run (not per document).
    pub fn unsupported(&self) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = self
            .load_warnings
            .iter()
            .map(|w| Diagnostic::warning("sch/unsupported", w.clone()))
            .collect();
        for p in &self.patterns {
            for r in &p.rules {
                if let Some(why) = &r.unsupported {
                    out.push(Diagnostic::warning(
                        "sch/unsupported",
                        format!(
                            "rule `{}` in pattern `{}` is not supported and was skipped: {why}",
                            r.context_src, p.label
                        ),
                    ));
                }
            }
        }
        out
    }

    /// The XPath constructs and functions the supported rules use (for the constructs table).
    pub fn constructs(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut add = |e: &Expr| xpath::constructs(e, &mut out);
        for l in &self.global_lets {
            add(&l.value);
        }
        for p in &self.patterns {
            for l in &p.lets {
                add(&l.value);
            }
            for r in &p.rules {
                add(&r.context);
                for l in &r.lets {
                    add(&l.value);
                }
                for c in &r.checks {
                    add(&c.test);
                    for m in &c.message {
                        match m {
                            MsgPart::ValueOf(e) | MsgPart::Name(Some(e)) => add(e),
                            _ => {}
                        }
                    }
                }
            }
        }
        out
    }

    /// Is `phase` usable (`#ALL`, `#DEFAULT` or a declared phase)?
    pub fn has_phase(&self, phase: &str) -> bool {
        phase == "#ALL" || phase == "#DEFAULT" || self.phases.iter().any(|p| p.id == phase)
    }
}

/// Errors that stop a schema from loading (exit 2 or 3 in the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file cannot be read.
    Io(String),
    /// The schema is not well-formed or not Schematron.
    Schema(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(m) | LoadError::Schema(m) => f.write_str(m),
        }
    }
}

/// Loads a `.sch` file, resolving `sch:include`s relative to it. A `.rng` file is read for its
/// embedded Schematron instead (as [`from_rng_xml`]).
pub fn load_schematron_file(path: &Path) -> Result<Schema, LoadError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io(format!("{name}: {e}")))?;
    if path.extension().is_some_and(|e| e == "rng") {
        return from_rng_xml(&text, &name);
    }
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut resolve = |href: &str| -> Result<load::XElem, String> {
        let p = base.join(href);
        let t = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        load::parse_xml(&t).map_err(|e| format!("{}: {e}", p.display()))
    };
    from_sch_xml_with(&text, &name, &mut resolve)
}

/// Compiles Schematron from the text of a `.sch` document; `include` is an error here (there
/// is no base to resolve it against): use [`load_schematron_file`].
pub fn from_sch_xml(text: &str, name: &str) -> Result<Schema, LoadError> {
    let mut resolve =
        |href: &str| -> Result<load::XElem, String> { Err(format!("cannot include {href} here")) };
    from_sch_xml_with(text, name, &mut resolve)
}

fn from_sch_xml_with(
    text: &str,
    name: &str,
    resolve: &mut dyn FnMut(&str) -> Result<load::XElem, String>,
) -> Result<Schema, LoadError> {
    let mut root = load::parse_xml(text).map_err(|e| LoadError::Schema(format!("{name}: {e}")))?;
    load::resolve_includes(&mut root, resolve, 0)
        .map_err(|e| LoadError::Schema(format!("{name}: {e}")))?;
    load::build(&root, name, false).map_err(LoadError::Schema)
}

/// Compiles the Schematron embedded in a RELAX NG schema (XML syntax), e.g. `tei_all.rng`.
pub fn from_rng_xml(text: &str, name: &str) -> Result<Schema, LoadError> {
    let root = load::parse_xml(text).map_err(|e| LoadError::Schema(format!("{name}: {e}")))?;
    load::build(&root, name, true).map_err(LoadError::Schema)
}

/// A schema a document declares with `<?xml-model?>` (W3C "Associating Schemas with XML
/// documents" 1.0 §2) that can carry Schematron: ISO Schematron itself, or RELAX NG (whose
/// embedded rules apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredSchema {
    pub href: String,
    /// True for `schematypens` = the ISO Schematron namespace, false for RELAX NG.
    pub schematron: bool,
}

const NS_RELAXNG: &str = "http://relaxng.org/ns/structure/1.0";

/// The Schematron-bearing schemas a document declares in `<?xml-model?>` processing
/// instructions before its root element, in order. Not well-formed input gives none.
pub fn declared_schemas(doc_text: &str) -> Vec<DeclaredSchema> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let Ok(doc) = roxmltree::Document::parse_with_options(doc_text, opts) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for n in doc.root().children() {
        if n.is_element() {
            break;
        }
        let Some(pi) = n.pi() else { continue };
        if pi.target != "xml-model" {
            continue;
        }
        let attrs = pseudo_attributes(pi.value.unwrap_or(""));
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let Some(href) = get("href") else { continue };
        let ns = get("schematypens").unwrap_or("");
        if ns == load::NS_SCH || ns == NS_RELAXNG {
            out.push(DeclaredSchema {
                href: href.to_string(),
                schematron: ns == load::NS_SCH,
            });
        }
    }
    out
}

/// `name="value"` pairs of a processing instruction (XML 1.0 pseudo-attributes, as in W3C
/// "Associating Schemas with XML documents" §2), predefined entities decoded.
pub fn pseudo_attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let body = &after[1..];
        let Some(end) = body.find(q) else { break };
        out.push((
            name,
            body[..end]
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        ));
        rest = body[end + 1..].trim_start();
    }
    out
}

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions<'p> {
    /// Phase to run (`None`: the schema's `defaultPhase`, else `#ALL`).
    pub phase: Option<&'p str>,
    /// `current-date()`, as YYYY-MM-DD; without it rules calling `current-date()` report a
    /// dynamic error (teikit's only clock is `--date`).
    pub today: Option<&'p str>,
}

/// Runs `schema` over one document. Not well-formed input gives one `sch/not-well-formed` error.
pub fn check(schema: &Schema, doc_text: &str, doc_name: &str, phase: Option<&str>) -> Report {
    check_with(
        schema,
        doc_text,
        doc_name,
        &CheckOptions { phase, today: None },
    )
}

/// Rules indexed under one local name: (namespace, rule indexes).
type NsRules = (Option<String>, Vec<usize>);

struct ActiveRule<'s> {
    pattern: usize,
    rule: &'s Rule,
    first_match_only: bool,
}

/// [`check`] with all options.
pub fn check_with(schema: &Schema, doc_text: &str, doc_name: &str, opts: &CheckOptions) -> Report {
    let mut report = Report::new();
    let parse_opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = match roxmltree::Document::parse_with_options(doc_text, parse_opts) {
        Ok(d) => d,
        Err(e) => {
            let pos = e.pos();
            let offset = offset_of(doc_text, pos.row as usize, pos.col as usize);
            report.push(
                Diagnostic::error("sch/not-well-formed", format!("not well-formed: {e}"))
                    .with_hint(format!("document: {doc_name}"))
                    .with_span(Span::at(offset)),
            );
            return report;
        }
    };
    let today = opts.today.and_then(eval::parse_date);
    let mut ev = Evaluator::new(&doc, today);
    ev.compat = schema.xpath1_compat;

    // phase selection (clause 5.4, `phase`, and `schema/@defaultPhase`)
    let phase_name = opts
        .phase
        .map(str::to_string)
        .or_else(|| schema.default_phase.clone())
        .unwrap_or_else(|| "#ALL".to_string());
    let phase = if phase_name == "#ALL" || phase_name == "#DEFAULT" {
        None
    } else {
        match schema.phases.iter().find(|p| p.id == phase_name) {
            Some(p) => Some(p),
            None => {
                report.push(Diagnostic::error(
                    "sch/unknown-phase",
                    format!("{}: no phase `{phase_name}`", schema.name),
                ));
                return report;
            }
        }
    };
    let active: Option<HashSet<&str>> =
        phase.map(|p| p.active.iter().map(String::as_str).collect());

    // document-level lets: schema, phase, then each pattern's (evaluated at the root)
    let root = NodeRef::of(doc.root());
    let mut env = Env::default();
    let mut errors_seen: HashSet<String> = HashSet::new();
    let mut top_lets: Vec<&Let> = schema.global_lets.iter().collect();
    if let Some(p) = phase {
        top_lets.extend(&p.lets);
    }
    for l in top_lets {
        match ev.eval(&l.value, &Focus::node(root), &mut env) {
            Ok(v) => env.vars.push((l.name.clone(), v)),
            Err(e) => {
                report.push(Diagnostic::warning(
                    "sch/dynamic-error",
                    format!("let ${}: {e}", l.name),
                ));
                env.vars.push((l.name.clone(), Vec::new()));
            }
        }
    }
    let base_vars = env.vars.len();
    let mut pattern_vars: Vec<Vec<(String, Seq)>> = Vec::new();
    for p in &schema.patterns {
        let mut vars = Vec::new();
        for l in &p.lets {
            let mut penv = env.clone();
            penv.vars.extend(vars.iter().cloned());
            let v = ev
                .eval(&l.value, &Focus::node(root), &mut penv)
                .unwrap_or_default();
            vars.push((l.name.clone(), v));
        }
        pattern_vars.push(vars);
    }

    // index the active rules by the node they can match
    // local name → (namespace, rules)
    let mut by_name: HashMap<String, Vec<NsRules>> = HashMap::new();
    let mut any_element: Vec<usize> = Vec::new();
    let mut attribute: Vec<usize> = Vec::new();
    let mut text: Vec<usize> = Vec::new();
    let mut any: Vec<usize> = Vec::new();
    let mut rules: Vec<ActiveRule> = Vec::new();
    for (pi, p) in schema.patterns.iter().enumerate() {
        if let Some(a) = &active
            && !p.id.as_deref().is_some_and(|id| a.contains(id))
        {
            continue;
        }
        for r in &p.rules {
            if r.unsupported.is_some() {
                continue;
            }
            let idx = rules.len();
            rules.push(ActiveRule {
                pattern: pi,
                rule: r,
                first_match_only: !p.all_rules_fire,
            });
            let mut ts = Vec::new();
            pattern_match::targets(&r.context, &mut ts);
            for t in ts {
                match t {
                    Target::Element { ns, local } => {
                        let list = by_name.entry(local).or_default();
                        match list.iter_mut().find(|(n, _)| *n == ns) {
                            Some((_, v)) => v.push(idx),
                            None => list.push((ns, vec![idx])),
                        }
                    }
                    Target::AnyElement => any_element.push(idx),
                    Target::Attribute => attribute.push(idx),
                    Target::Text => text.push(idx),
                    Target::Any => any.push(idx),
                }
            }
        }
    }
    let want_attrs = !attribute.is_empty() || !any.is_empty();
    let want_text = !text.is_empty() || !any.is_empty();

    let mut candidates: Vec<usize> = Vec::new();
    let mut visit = |n: NodeRef, cands: &[usize], report: &mut Report, env: &mut Env| {
        let mut fired_pattern: Option<usize> = None;
        for &ri in cands {
            let Some(ar) = rules.get(ri) else { continue };
            if fired_pattern == Some(ar.pattern) {
                continue;
            }
            env.current = Some(Item::Node(n));
            let m = pattern_match::matches(&ev, n, &ar.rule.context, env);
            match m {
                Ok(true) => {
                    if ar.first_match_only {
                        fired_pattern = Some(ar.pattern);
                    }
                    let vars = pattern_vars.get(ar.pattern).cloned().unwrap_or_default();
                    let mark = env.vars.len();
                    env.vars.extend(vars);
                    fire(schema, &ev, ar.rule, n, env, report, &mut errors_seen);
                    env.vars.truncate(mark);
                }
                Ok(false) => {}
                Err(e) => {
                    dynamic_error(&ev, ar.rule, "context", n, &e, report, &mut errors_seen);
                }
            }
        }
    };

    let mut all_nodes = vec![root];
    all_nodes.extend(doc.root().descendants().skip(1).map(NodeRef::of));
    for n in all_nodes {
        let Some(node) = ev.node(n) else { continue };
        candidates.clear();
        if node.is_element() {
            let tn = node.tag_name();
            if let Some(list) = by_name.get(tn.name()) {
                for (ns, v) in list {
                    if ns.as_deref() == tn.namespace() {
                        candidates.extend(v);
                    }
                }
            }
            candidates.extend(&any_element);
        } else if node.is_text() && want_text {
            candidates.extend(&text);
        }
        candidates.extend(&any);
        if !candidates.is_empty() {
            // rule order within a pattern, and patterns in schema order (clause 6)
            candidates.sort_unstable();
            candidates.dedup();
            let c = candidates.clone();
            visit(n, &c, &mut report, &mut env);
        }
        if node.is_element() && want_attrs {
            let mut ac: Vec<usize> = attribute.iter().chain(&any).copied().collect();
            ac.sort_unstable();
            ac.dedup();
            for i in 0..node.attributes().len() {
                let a = NodeRef {
                    node: n.node,
                    attr: i as u32 + 1,
                };
                visit(a, &ac, &mut report, &mut env);
            }
        }
        debug_assert_eq!(env.vars.len(), base_vars);
    }
    report
}

/// Evaluates a matched rule's lets and checks at node `n` (clause 6).
fn fire(
    schema: &Schema,
    ev: &Evaluator,
    rule: &Rule,
    n: NodeRef,
    env: &mut Env,
    report: &mut Report,
    errors_seen: &mut HashSet<String>,
) {
    let mark = env.vars.len();
    let focus = Focus::node(n);
    env.current = Some(Item::Node(n));
    for l in &rule.lets {
        match ev.eval(&l.value, &focus, env) {
            Ok(v) => env.vars.push((l.name.clone(), v)),
            Err(e) => {
                dynamic_error(
                    ev,
                    rule,
                    &format!("let ${}", l.name),
                    n,
                    &e,
                    report,
                    errors_seen,
                );
                env.vars.truncate(mark);
                return;
            }
        }
    }
    for c in &rule.checks {
        let r = ev.eval(&c.test, &focus, env).and_then(|v| eval::ebv(&v));
        let fired = match r {
            Ok(b) => match c.kind {
                CheckKind::Assert => !b,
                CheckKind::Report => b,
            },
            Err(e) => {
                dynamic_error(ev, rule, &c.test_src, n, &e, report, errors_seen);
                continue;
            }
        };
        if !fired {
            continue;
        }
        let mut message = render(ev, &c.message, &focus, env);
        for d in &c.diagnostics {
            if let Some(parts) = schema.diagnostics.get(d) {
                let t = render(ev, parts, &focus, env);
                if !t.is_empty() {
                    message.push_str(&format!(" [{t}]"));
                }
            }
        }
        if message.is_empty() {
            message = match c.kind {
                CheckKind::Assert => format!("assertion failed: {}", c.test_src.trim()),
                CheckKind::Report => format!("report: {}", c.test_src.trim()),
            };
        }
        let code = match c.kind {
            CheckKind::Assert => "sch/assert",
            CheckKind::Report => "sch/report",
        };
        let mut d = Diagnostic::new(c.severity, code, message)
            .with_span(node_span(ev, n))
            .with_hint(format!("pattern: {}", rule.pattern_label))
            .with_hint(format!("context: {}", rule.context_src.trim()))
            .with_hint(format!("test: {}", normalize(&c.test_src)));
        if let Some(id) = &c.id {
            d = d.with_hint(format!("id: {id}"));
        }
        report.push(d);
    }
    env.vars.truncate(mark);
}

fn normalize(s: &str) -> String {
    eval::normalize_space(s)
}

fn dynamic_error(
    ev: &Evaluator,
    rule: &Rule,
    what: &str,
    n: NodeRef,
    e: &eval::EvalError,
    report: &mut Report,
    seen: &mut HashSet<String>,
) {
    let key = format!("{}\u{0}{}\u{0}{what}", rule.pattern_label, rule.context_src);
    if !seen.insert(key) {
        return;
    }
    report.push(
        Diagnostic::warning(
            "sch/dynamic-error",
            format!(
                "rule `{}` in pattern `{}` could not be evaluated ({}): {e}; reported once per document",
                rule.context_src.trim(),
                rule.pattern_label,
                normalize(what)
            ),
        )
        .with_span(node_span(ev, n)),
    );
}

/// Renders a message: text, `name` and `value-of` (clause 5.4), whitespace normalised.
fn render(ev: &Evaluator, parts: &[MsgPart], focus: &Focus, env: &mut Env) -> String {
    let mut s = String::new();
    for p in parts {
        match p {
            MsgPart::Text(t) => s.push_str(t),
            MsgPart::Name(path) => {
                let target = match path {
                    None => focus.item.clone(),
                    Some(e) => ev
                        .eval(e, focus, env)
                        .ok()
                        .and_then(|v| v.into_iter().next()),
                };
                if let Some(Item::Node(n)) = target {
                    s.push_str(&ev.qname(n));
                }
            }
            MsgPart::ValueOf(e) => match ev.eval(e, focus, env) {
                Ok(v) => {
                    let parts: Vec<String> = ev.atomize(v).iter().map(atomic_string).collect();
                    s.push_str(&parts.join(" "));
                }
                Err(err) => s.push_str(&format!("[value-of failed: {err}]")),
            },
        }
    }
    normalize(&s)
}

/// Where a finding about node `n` is reported: for an element, just after the `>` of its start
/// tag (the line jing reports); for an attribute, the attribute; otherwise the node's start.
pub fn node_span(ev: &Evaluator, n: NodeRef) -> Span {
    let r = ev.range(n);
    if n.attr == 0 && ev.node(n).is_some_and(|x| x.is_element()) {
        let text = ev.doc.input_text();
        let end = start_tag_end(text, r.start).unwrap_or(r.start);
        return Span::new(end, end);
    }
    Span::new(r.start, r.end)
}

/// The offset just past the `>` that ends the start tag beginning at `start` (quotes skipped).
pub fn start_tag_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = start;
    let mut quote: Option<u8> = None;
    while let Some(&b) = bytes.get(i) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i + 1),
            None => {}
        }
        i += 1;
    }
    None
}

/// Byte offset of a 1-based row/column (columns in characters).
fn offset_of(text: &str, row: usize, col: usize) -> usize {
    let mut line = 1;
    let mut off = 0;
    for (i, c) in text.char_indices() {
        if line == row {
            off = i;
            break;
        }
        if c == '\n' {
            line += 1;
            off = i + 1;
        }
    }
    text.get(off..)
        .and_then(|rest| rest.char_indices().nth(col.saturating_sub(1)))
        .map_or(off, |(i, _)| off + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{FullText, format_short};

    const SCH: &str = r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <ns prefix="tei" uri="http://www.tei-c.org/ns/1.0"/>
  <phase id="notes"><active pattern="notes"/></phase>
  <pattern id="notes">
    <rule context="tei:note[@type = 'x']"><assert test="@n" role="warning">x-note <name/> needs @n</assert></rule>
    <rule context="tei:note"><assert test="@n">note <value-of select="@type"/> needs @n</assert></rule>
  </pattern>
  <pattern id="p">
    <rule context="tei:p"><report test="count(tei:note) gt 1" role="information">many notes</report></rule>
  </pattern>
</schema>"#;

    const DOC: &str = "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\">\n<p>a<note type=\"x\"\n>b</note>\n<note type=\"y\">c</note></p></TEI>";

    fn short(r: &Report) -> Vec<String> {
        let lines = FullText::new(DOC);
        r.diagnostics
            .iter()
            .map(|d| format_short("d.xml", &lines, d))
            .collect()
    }

    #[test]
    fn first_matching_rule_per_pattern_fires() {
        let s = from_sch_xml(SCH, "t.sch").unwrap();
        let r = check(&s, DOC, "d.xml", None);
        assert_eq!(
            short(&r),
            vec![
                "d.xml:2:4: info: many notes",
                "d.xml:3:2: warning: x-note note needs @n",
                "d.xml:4:16: error: note y needs @n",
            ]
        );
    }

    #[test]
    fn in_a_group_every_matching_rule_fires() {
        let sch = r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron">
          <group><rule context="a"><report test="true()">one</report></rule>
                 <rule context="*"><report test="true()">two</report></rule></group>
          <pattern><rule context="a"><report test="true()">three</report></rule>
                 <rule context="*"><report test="true()">four</report></rule></pattern>
        </schema>"#;
        let s = from_sch_xml(sch, "g.sch").unwrap();
        let r = check(&s, "<a/>", "d.xml", None);
        let msgs: Vec<&str> = r.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(msgs, ["one", "two", "three"]);
    }

    #[test]
    fn phases_select_patterns() {
        let s = from_sch_xml(SCH, "t.sch").unwrap();
        let r = check(&s, DOC, "d.xml", Some("notes"));
        assert_eq!(r.diagnostics.len(), 2);
        let r = check(&s, DOC, "d.xml", Some("nope"));
        assert_eq!(r.diagnostics[0].code, "sch/unknown-phase");
    }

    #[test]
    fn not_well_formed_is_one_finding() {
        let s = from_sch_xml(SCH, "t.sch").unwrap();
        let r = check(&s, "<a>", "d.xml", None);
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].code, "sch/not-well-formed");
    }

    #[test]
    fn xml_model_declarations() {
        let d = "<?xml version='1.0'?>\n<?xml-model href=\"a.sch\" type=\"application/xml\" schematypens=\"http://purl.oclc.org/dsdl/schematron\"?>\n<?xml-model href='b.rng' schematypens='http://relaxng.org/ns/structure/1.0'?><?xml-model href='c.xsd' schematypens='http://www.w3.org/2001/XMLSchema'?><r/>";
        assert_eq!(
            declared_schemas(d),
            vec![
                DeclaredSchema {
                    href: "a.sch".into(),
                    schematron: true
                },
                DeclaredSchema {
                    href: "b.rng".into(),
                    schematron: false
                }
            ]
        );
    }

    #[test]
    fn start_tag_end_skips_quoted_gt() {
        assert_eq!(start_tag_end("<a b='>'>x", 0), Some(9));
    }
}
