//! Loading ISO Schematron: from a `.sch` document or from the `sch:` elements embedded in a
//! RELAX NG schema, into the compiled [`Schema`](super::Schema).
//!
//! Owns reading the Schematron vocabulary (ISO/IEC 19757-3:2016 clause 5.4: `schema`, `ns`,
//! `let`, `pattern`, `rule`, `assert`, `report`, `phase`, `active`, `diagnostics`,
//! `diagnostic`, `name`, `value-of`, `param`, `extends`, `include`), resolving `include`
//! (clause 5.4, `include`, through a caller-supplied resolver, so this file does no I/O itself),
//! instantiating abstract patterns (clause 5.4 `pattern`/`param`: textual `$param` substitution) and abstract
//! rules (clause 5.4, `extends`), and compiling every expression with the XPath subset. A
//! rule whose expressions fall outside the subset is kept but marked unsupported, with the
//! reason, so the checker reports it once and never guesses. It must not evaluate rules.

use std::collections::HashMap;

use super::xpath::{self, CompileError, Expr, StaticContext};
use super::{Check, CheckKind, Let, MsgPart, Pattern, Phase, Rule, Schema};
use crate::diag::Severity;

/// The ISO Schematron namespace (ISO/IEC 19757-3 clause 5).
pub const NS_SCH: &str = "http://purl.oclc.org/dsdl/schematron";
const NS_XSL: &str = "http://www.w3.org/1999/XSL/Transform";

/// A small owned copy of an XML element (roxmltree borrows its text; includes need owned trees).
#[derive(Debug, Clone)]
pub struct XElem {
    pub ns: Option<String>,
    pub local: String,
    /// Attributes in no namespace.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<XNode>,
}

#[derive(Debug, Clone)]
pub enum XNode {
    Elem(XElem),
    Text(String),
}

impl XElem {
    pub fn from_node(n: roxmltree::Node) -> XElem {
        let mut children = Vec::new();
        for c in n.children() {
            if c.is_element() {
                children.push(XNode::Elem(XElem::from_node(c)));
            } else if c.is_text() {
                children.push(XNode::Text(c.text().unwrap_or("").to_string()));
            }
        }
        XElem {
            ns: n.tag_name().namespace().map(str::to_string),
            local: n.tag_name().name().to_string(),
            attrs: n
                .attributes()
                .filter(|a| a.namespace().is_none())
                .map(|a| (a.name().to_string(), a.value().to_string()))
                .collect(),
            children,
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn is_sch(&self, local: &str) -> bool {
        self.ns.as_deref() == Some(NS_SCH) && self.local == local
    }

    fn elems(&self) -> impl Iterator<Item = &XElem> {
        self.children.iter().filter_map(|c| match c {
            XNode::Elem(e) => Some(e),
            XNode::Text(_) => None,
        })
    }

    fn sch_children<'s>(&'s self, local: &'s str) -> impl Iterator<Item = &'s XElem> + 's {
        self.elems().filter(move |e| e.is_sch(local))
    }
}

/// Parses XML text into an owned tree (DTDs allowed, as in TEI files).
pub fn parse_xml(text: &str) -> Result<XElem, String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| e.to_string())?;
    Ok(XElem::from_node(doc.root_element()))
}

/// Replaces every `sch:include` by the element it points to (clause 5.4, `include`). `resolve` maps an
/// `href` (relative to the including file) to its text and a name for further includes.
pub fn resolve_includes(
    e: &mut XElem,
    resolve: &mut dyn FnMut(&str) -> Result<XElem, String>,
    depth: usize,
) -> Result<(), String> {
    if depth > 32 {
        return Err("include nesting deeper than 32 (a cycle?)".into());
    }
    for c in &mut e.children {
        if let XNode::Elem(ch) = c {
            if ch.is_sch("include") {
                let Some(href) = ch.attr("href") else {
                    return Err("sch:include without @href".into());
                };
                let (file, frag) = match href.split_once('#') {
                    Some((f, id)) => (f.to_string(), Some(id.to_string())),
                    None => (href.to_string(), None),
                };
                let mut target = resolve(&file)?;
                if let Some(id) = frag {
                    target = find_by_id(&target, &id)
                        .ok_or_else(|| format!("{href}: no element with id `{id}`"))?
                        .clone();
                }
                resolve_includes(&mut target, resolve, depth + 1)?;
                *ch = target;
            } else {
                resolve_includes(ch, resolve, depth)?;
            }
        }
    }
    Ok(())
}

fn find_by_id<'e>(e: &'e XElem, id: &str) -> Option<&'e XElem> {
    if e.attr("id") == Some(id) {
        return Some(e);
    }
    e.elems().find_map(|c| find_by_id(c, id))
}

/// Severity from `role` (clause 5.4 leaves `role` values open). teikit's rule (issue 6): `nonfatal`
/// and `warning` are warnings, `information` is info, any other role or none is an error (so
/// tei_all's `role="warn"` on one rule is an error, as in tei-rs). Case-insensitive.
pub fn severity_of(role: Option<&str>) -> Severity {
    match role.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
        Some("warning" | "nonfatal") => Severity::Warning,
        Some("information") => Severity::Info,
        _ => Severity::Error,
    }
}

struct Builder {
    sc: StaticContext,
    slots: usize,
    abstract_rules: HashMap<String, XElem>,
    warnings: Vec<String>,
}

impl Builder {
    fn compile(&mut self, src: &str) -> Result<Expr, CompileError> {
        let e = xpath::parse(src, &self.sc)?;
        let e = xpath::index_lookups(e, &mut self.slots);
        Ok(xpath::memoise(e, &mut self.slots))
    }

    fn compile_let(&mut self, e: &XElem) -> Result<Let, CompileError> {
        let name = e.attr("name").unwrap_or("").to_string();
        let Some(value) = e.attr("value") else {
            return Err(CompileError {
                message: format!("let `{name}` without @value (element content is not supported)"),
            });
        };
        Ok(Let {
            name,
            value: self.compile(value)?,
        })
    }

    fn message(&mut self, e: &XElem) -> Result<Vec<MsgPart>, CompileError> {
        let mut parts = Vec::new();
        for c in &e.children {
            match c {
                XNode::Text(t) => parts.push(MsgPart::Text(t.clone())),
                XNode::Elem(ch) if ch.is_sch("name") => {
                    let path = match ch.attr("path") {
                        Some(p) => Some(self.compile(p)?),
                        None => None,
                    };
                    parts.push(MsgPart::Name(path));
                }
                XNode::Elem(ch) if ch.is_sch("value-of") => {
                    let Some(sel) = ch.attr("select") else {
                        return Err(CompileError {
                            message: "value-of without @select".into(),
                        });
                    };
                    parts.push(MsgPart::ValueOf(self.compile(sel)?));
                }
                XNode::Elem(ch) => parts.extend(self.message(ch)?),
            }
        }
        Ok(parts)
    }

    /// The asserts, reports and lets of a rule with its `extends` expanded (clause 5.4, `extends`).
    fn rule_body(&self, r: &XElem, depth: usize) -> Result<Vec<XElem>, String> {
        if depth > 16 {
            return Err("extends nesting deeper than 16 (a cycle?)".into());
        }
        let mut out = Vec::new();
        for c in r.elems() {
            if c.is_sch("extends") {
                if let Some(id) = c.attr("rule") {
                    let Some(target) = self.abstract_rules.get(id) else {
                        return Err(format!("extends: no abstract rule `{id}`"));
                    };
                    out.extend(self.rule_body(target, depth + 1)?);
                } else {
                    return Err("extends with @href is not supported".into());
                }
            } else if c.is_sch("assert") || c.is_sch("report") || c.is_sch("let") {
                out.push(c.clone());
            }
        }
        Ok(out)
    }

    fn rule(&mut self, r: &XElem, pattern_label: &str) -> Rule {
        let context_src = r.attr("context").unwrap_or("").to_string();
        let mut rule = Rule {
            id: r.attr("id").map(str::to_string),
            context_src: context_src.clone(),
            context: Expr::Sequence(Vec::new()),
            lets: Vec::new(),
            checks: Vec::new(),
            unsupported: None,
            pattern_label: pattern_label.to_string(),
        };
        let body = match self.rule_body(r, 0) {
            Ok(b) => b,
            Err(e) => {
                rule.unsupported = Some(e);
                return rule;
            }
        };
        let result: Result<(), CompileError> = (|| {
            let ctx = xpath::parse(&context_src, &self.sc)?;
            let ctx = xpath::index_lookups(ctx, &mut self.slots);
            rule.context = xpath::memoise_pattern(ctx, &mut self.slots);
            super::pattern_match::check_pattern(&rule.context)?;
            for c in &body {
                if c.is_sch("let") {
                    rule.lets.push(self.compile_let(c)?);
                    continue;
                }
                let kind = if c.is_sch("assert") {
                    CheckKind::Assert
                } else {
                    CheckKind::Report
                };
                let test_src = c.attr("test").unwrap_or("").to_string();
                let test = self.compile(&test_src)?;
                let role = c.attr("role").or(r.attr("role"));
                rule.checks.push(Check {
                    kind,
                    id: c.attr("id").map(str::to_string),
                    test_src,
                    test,
                    message: self.message(c)?,
                    severity: severity_of(role),
                    diagnostics: c
                        .attr("diagnostics")
                        .map(|d| d.split_whitespace().map(str::to_string).collect())
                        .unwrap_or_default(),
                });
            }
            Ok(())
        })();
        if let Err(e) = result {
            rule.unsupported = Some(e.message);
        }
        rule
    }

    fn pattern(&mut self, p: &XElem, index: usize) -> Pattern {
        let label = match p.attr("id") {
            Some(id) => id.to_string(),
            None => format!("#{}", index + 1),
        };
        let mut lets = Vec::new();
        let mut unsupported = None;
        if p.attr("documents").is_some() {
            unsupported = Some(
                "pattern/@documents (rules over other documents) is not supported".to_string(),
            );
        }
        for l in p.sch_children("let") {
            match self.compile_let(l) {
                Ok(l) => lets.push(l),
                Err(e) => unsupported = Some(e.message),
            }
        }
        let mut rules = Vec::new();
        for r in p.sch_children("rule") {
            if r.attr("abstract") == Some("true") {
                continue;
            }
            let mut rule = self.rule(r, &label);
            if rule.unsupported.is_none() {
                rule.unsupported = unsupported.clone();
            }
            rules.push(rule);
        }
        Pattern {
            id: p.attr("id").map(str::to_string),
            label,
            lets,
            rules,
            all_rules_fire: p.is_sch("group"),
        }
    }
}

/// Collects abstract rules anywhere in the schema (clause 5.4, `rule/@abstract`).
fn collect_abstract_rules(e: &XElem, out: &mut HashMap<String, XElem>) {
    for c in e.elems() {
        if c.is_sch("rule")
            && c.attr("abstract") == Some("true")
            && let Some(id) = c.attr("id")
        {
            out.insert(id.to_string(), c.clone());
        }
        collect_abstract_rules(c, out);
    }
}

fn collect_sch<'e>(e: &'e XElem, local: &str, stop_in: &[&str], out: &mut Vec<&'e XElem>) {
    for c in e.elems() {
        if c.is_sch(local) {
            out.push(c);
        } else if !(c.ns.as_deref() == Some(NS_SCH) && stop_in.contains(&c.local.as_str())) {
            collect_sch(c, local, stop_in, out);
        }
    }
}

/// Substitutes `$name` parameters of an abstract pattern instance in every attribute used as
/// an expression (a macro expansion, clause 5.4 `pattern/@is-a`), longest names first.
fn instantiate(abs: &XElem, params: &[(String, String)]) -> XElem {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    fn subst(e: &XElem, ps: &[&(String, String)]) -> XElem {
        let attrs = e
            .attrs
            .iter()
            .map(|(n, v)| {
                let mut v = v.clone();
                if matches!(n.as_str(), "context" | "test" | "select" | "value" | "path") {
                    for (pn, pv) in ps {
                        v = v.replace(&format!("${pn}"), pv);
                    }
                }
                (n.clone(), v)
            })
            .collect();
        let children = e
            .children
            .iter()
            .map(|c| match c {
                XNode::Elem(x) => XNode::Elem(subst(x, ps)),
                XNode::Text(t) => XNode::Text(t.clone()),
            })
            .collect();
        XElem {
            ns: e.ns.clone(),
            local: e.local.clone(),
            attrs,
            children,
        }
    }
    subst(abs, &sorted)
}

/// Builds a schema from a Schematron `schema` element, or from any element containing
/// embedded Schematron (`embedded = true`, as in a RELAX NG grammar: `sch:ns`, `sch:let` and
/// `sch:pattern` are collected wherever they occur).
pub fn build(root: &XElem, name: &str, embedded: bool) -> Result<Schema, String> {
    if !embedded && !root.is_sch("schema") {
        return Err(format!(
            "{name}: the root element is not an ISO Schematron <schema> ({NS_SCH})"
        ));
    }
    if let Some(qb) = root.attr("queryBinding") {
        let qb = qb.to_ascii_lowercase();
        if !matches!(
            qb.as_str(),
            "xslt2" | "xslt3" | "xpath2" | "xpath3" | "xslt" | "xpath" | "xpath31" | "xslt1"
        ) {
            return Err(format!("{name}: queryBinding `{qb}` is not supported"));
        }
    }
    let mut sc = StaticContext::new();
    let mut ns_elems = Vec::new();
    collect_sch(root, "ns", &[], &mut ns_elems);
    for n in ns_elems {
        if let (Some(p), Some(u)) = (n.attr("prefix"), n.attr("uri")) {
            sc.namespaces.insert(p.to_string(), u.to_string());
        }
    }
    let mut b = Builder {
        sc,
        slots: 0,
        abstract_rules: HashMap::new(),
        warnings: Vec::new(),
    };
    collect_abstract_rules(root, &mut b.abstract_rules);

    for c in root.elems() {
        if c.ns.as_deref() == Some(NS_XSL) {
            b.warnings.push(format!(
                "xsl:{} at the schema level is not supported; rules using it are reported as unsupported",
                c.local
            ));
        }
    }

    // global lets (clause 5.4, `let`): direct children of schema, or, embedded, lets outside
    // patterns, rules and phases
    let mut global_lets = Vec::new();
    let mut let_elems = Vec::new();
    if embedded {
        collect_sch(root, "let", &["pattern", "rule", "phase"], &mut let_elems);
    } else {
        let_elems.extend(root.sch_children("let"));
    }
    let mut global_unsupported = None;
    for l in let_elems {
        match b.compile_let(l) {
            Ok(l) => global_lets.push(l),
            Err(e) => global_unsupported = Some(e.message),
        }
    }

    let mut pattern_elems: Vec<&XElem> = Vec::new();
    if embedded {
        collect_sch(root, "pattern", &["pattern"], &mut pattern_elems);
        collect_sch(root, "group", &["group", "pattern"], &mut pattern_elems);
    } else {
        pattern_elems.extend(
            root.elems()
                .filter(|e| e.is_sch("pattern") || e.is_sch("group")),
        );
    }
    let abstract_patterns: HashMap<String, &XElem> = pattern_elems
        .iter()
        .filter(|p| p.attr("abstract") == Some("true"))
        .filter_map(|p| p.attr("id").map(|id| (id.to_string(), *p)))
        .collect();

    let mut patterns = Vec::new();
    for p in &pattern_elems {
        if p.attr("abstract") == Some("true") {
            continue;
        }
        let index = patterns.len();
        if let Some(is_a) = p.attr("is-a") {
            let Some(abs) = abstract_patterns.get(is_a) else {
                return Err(format!(
                    "{name}: pattern is-a=\"{is_a}\": no abstract pattern with that id"
                ));
            };
            let params: Vec<(String, String)> = p
                .sch_children("param")
                .filter_map(|x| Some((x.attr("name")?.to_string(), x.attr("value")?.to_string())))
                .collect();
            let mut inst = instantiate(abs, &params);
            inst.attrs.retain(|(n, _)| n != "abstract" && n != "id");
            if let Some(id) = p.attr("id") {
                inst.attrs.push(("id".into(), id.to_string()));
            }
            patterns.push(b.pattern(&inst, index));
        } else {
            patterns.push(b.pattern(p, index));
        }
    }
    if let Some(e) = global_unsupported {
        for p in &mut patterns {
            for r in &mut p.rules {
                if r.unsupported.is_none() {
                    r.unsupported = Some(format!("a schema-level let is unsupported: {e}"));
                }
            }
        }
    }

    let mut phases = Vec::new();
    let mut phase_elems = Vec::new();
    collect_sch(root, "phase", &[], &mut phase_elems);
    for ph in phase_elems {
        let Some(id) = ph.attr("id") else {
            continue;
        };
        let mut lets = Vec::new();
        for l in ph.sch_children("let") {
            match b.compile_let(l) {
                Ok(l) => lets.push(l),
                Err(e) => b
                    .warnings
                    .push(format!("phase `{id}`: let is not supported: {e}")),
            }
        }
        phases.push(Phase {
            id: id.to_string(),
            active: ph
                .sch_children("active")
                .filter_map(|a| a.attr("pattern").map(str::to_string))
                .collect(),
            lets,
        });
    }

    let mut diagnostics = HashMap::new();
    let mut diag_elems = Vec::new();
    collect_sch(root, "diagnostic", &[], &mut diag_elems);
    for d in diag_elems {
        if let Some(id) = d.attr("id") {
            match b.message(d) {
                Ok(m) => {
                    diagnostics.insert(id.to_string(), m);
                }
                Err(e) => b
                    .warnings
                    .push(format!("diagnostic `{id}` is not supported: {e}")),
            }
        }
    }

    let title = root
        .sch_children("title")
        .next()
        .map(|t| text_of(t).trim().to_string());

    Ok(Schema {
        name: name.to_string(),
        title,
        default_phase: if embedded {
            None
        } else {
            root.attr("defaultPhase").map(str::to_string)
        },
        global_lets,
        patterns,
        phases,
        diagnostics,
        slots: b.slots,
        load_warnings: b.warnings,
        xpath1_compat: !embedded
            && matches!(
                root.attr("queryBinding")
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                None | Some("xslt" | "xslt1" | "xpath")
            ),
    })
}

fn text_of(e: &XElem) -> String {
    let mut s = String::new();
    for c in &e.children {
        match c {
            XNode::Text(t) => s.push_str(t),
            XNode::Elem(x) => s.push_str(&text_of(x)),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_to_severities() {
        assert_eq!(severity_of(Some("nonfatal")), Severity::Warning);
        assert_eq!(severity_of(Some("Warning")), Severity::Warning);
        assert_eq!(severity_of(Some("information")), Severity::Info);
        assert_eq!(severity_of(Some("fatal")), Severity::Error);
        assert_eq!(severity_of(Some("warn")), Severity::Error);
        assert_eq!(severity_of(None), Severity::Error);
    }

    #[test]
    fn abstract_patterns_are_instantiated() {
        let src = r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron">
          <pattern abstract="true" id="req"><rule context="$el"><assert test="$att">x</assert></rule></pattern>
          <pattern is-a="req" id="p1"><param name="el" value="note"/><param name="att" value="@n"/></pattern>
        </schema>"#;
        let s = build(&parse_xml(src).unwrap(), "t", false).unwrap();
        assert_eq!(s.patterns.len(), 1);
        assert_eq!(s.patterns[0].rules[0].context_src, "note");
        assert_eq!(s.patterns[0].rules[0].checks[0].test_src, "@n");
    }

    #[test]
    fn extends_splices_abstract_rules() {
        let src = r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron">
          <pattern><rule abstract="true" id="a"><assert test="@n">n</assert></rule>
          <rule context="p"><extends rule="a"/><report test="@x">x</report></rule></pattern>
        </schema>"#;
        let s = build(&parse_xml(src).unwrap(), "t", false).unwrap();
        assert_eq!(s.patterns[0].rules.len(), 1);
        assert_eq!(s.patterns[0].rules[0].checks.len(), 2);
    }

    #[test]
    fn groups_and_documents() {
        let src = r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron">
          <group id="g"><rule context="p"><assert test="1">x</assert></rule></group>
          <pattern id="d" documents="doc('x.xml')"><rule context="p"><assert test="1">x</assert></rule></pattern>
        </schema>"#;
        let s = build(&parse_xml(src).unwrap(), "t", false).unwrap();
        assert!(s.patterns[0].all_rules_fire);
        assert!(!s.patterns[1].all_rules_fire);
        assert!(s.patterns[1].rules[0].unsupported.is_some());
    }

    #[test]
    fn unsupported_rules_are_marked_not_dropped() {
        let src = r#"<schema xmlns="http://purl.oclc.org/dsdl/schematron">
          <pattern id="p"><rule context="p"><assert test="frobnicate(.)">x</assert></rule></pattern>
        </schema>"#;
        let s = build(&parse_xml(src).unwrap(), "t", false).unwrap();
        assert!(s.patterns[0].rules[0].unsupported.is_some());
    }
}
