//! From the parsed tree to hash-consed patterns: reference expansion (RELAX NG §4.19, with the
//! error for reference loops not through `element`), the `notAllowed`/`empty` rewrites (§4.20,
//! in the arena's constructors) and the restrictions of §7 (§7.1 paths, §7.2 string sequences,
//! §7.3 attributes, §7.4 interleave), checked on what is reachable from `start`.
//!
//! It must not read files or documents.

use std::collections::{HashMap, HashSet};

use super::Loc;
use super::datatype::IdType;
use super::parse::{Ast, Error, Parsed};
use super::pattern::{Arena, EMPTY, ElemId, NOT_ALLOWED, NameClass, NcId, Pat, PatId, TEXT};
use crate::diag::{Diagnostic, Span};

#[derive(Clone, Copy)]
enum DefState {
    Todo,
    InProgress,
    Done(PatId),
}

struct Compiler<'a> {
    parsed: &'a Parsed,
    arena: Arena,
    defs: Vec<DefState>,
    work: Vec<(ElemId, &'a Ast)>,
    locs: HashMap<PatId, Loc>,
}

fn err(loc: Loc, code: &str, msg: impl Into<String>) -> Error {
    Box::new((loc.file, Diagnostic::error(code, msg).with_span(loc.span)))
}

impl<'a> Compiler<'a> {
    fn note(&mut self, p: PatId, loc: Loc) -> PatId {
        self.locs.entry(p).or_insert(loc);
        p
    }

    fn def(&mut self, id: usize, loc: Loc) -> Result<PatId, Error> {
        match self.defs.get(id).copied() {
            Some(DefState::Done(p)) => Ok(p),
            Some(DefState::InProgress) => Err(err(
                loc,
                "schema/ref-loop",
                "reference loop not through an element (RELAX NG §4.19)",
            )),
            Some(DefState::Todo) => {
                if let Some(s) = self.defs.get_mut(id) {
                    *s = DefState::InProgress;
                }
                let parsed = self.parsed;
                let Some((ast, _)) = parsed.defs.get(id) else {
                    return Ok(NOT_ALLOWED);
                };
                let p = self.ast(ast)?;
                if let Some(s) = self.defs.get_mut(id) {
                    *s = DefState::Done(p);
                }
                Ok(p)
            }
            None => Ok(NOT_ALLOWED),
        }
    }

    fn ast(&mut self, ast: &'a Ast) -> Result<PatId, Error> {
        Ok(match ast {
            Ast::Empty => EMPTY,
            Ast::NotAllowed => NOT_ALLOWED,
            Ast::Text => TEXT,
            Ast::Element(nc, content, loc) => {
                let nc = self.arena.add_name_class(nc.clone());
                let p = self.arena.element(nc, loc.span, loc.file);
                if let Pat::Element(e) = self.arena.get(p) {
                    self.work.push((e, content));
                }
                self.note(p, *loc)
            }
            Ast::Attribute(nc, content, loc) => {
                let c = self.ast(content)?;
                let nc = self.arena.add_name_class(nc.clone());
                let p = self.arena.attribute(nc, c);
                self.note(p, *loc)
            }
            Ast::Choice(ps) => {
                let mut qs = Vec::with_capacity(ps.len());
                for x in ps {
                    qs.push(self.ast(x)?);
                }
                self.arena.choice_many(&qs)
            }
            Ast::Group(ps) | Ast::Interleave(ps) => {
                let mut acc: Option<PatId> = None;
                for x in ps {
                    let q = self.ast(x)?;
                    acc = Some(match acc {
                        None => q,
                        Some(a) => match ast {
                            Ast::Group(_) => self.arena.group(a, q),
                            Ast::Interleave(_) => self.arena.interleave(a, q),
                            _ => self.arena.choice(a, q),
                        },
                    });
                }
                acc.unwrap_or(NOT_ALLOWED)
            }
            Ast::OneOrMore(p) => {
                let q = self.ast(p)?;
                self.arena.one_or_more(q)
            }
            Ast::List(p, loc) => {
                let q = self.ast(p)?;
                let l = self.arena.list(q);
                self.note(l, *loc)
            }
            Ast::Data(dt, except, loc) => {
                let ex = match except {
                    Some(e) => Some(self.ast(e)?),
                    None => None,
                };
                let p = self.arena.data(*dt, ex);
                self.note(p, *loc)
            }
            Ast::Value(v, loc) => {
                let p = self.arena.value(*v);
                self.note(p, *loc)
            }
            Ast::Ref(scope, name, loc) => {
                let Some(&id) = self.parsed.def_index.get(&(*scope, name.clone())) else {
                    return Err(err(
                        *loc,
                        "schema/undefined-ref",
                        format!("reference to undefined pattern '{name}'"),
                    ));
                };
                self.def(id, *loc)?
            }
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
struct Cx {
    /// Where errors about each context are placed, as jing places them: the `attribute`, the
    /// `list`, the `data` of an `except`, and the `element` (for oneOrMore//group//attribute).
    anchor: Option<Loc>,
    list_at: Option<Loc>,
    except_at: Option<Loc>,
    elem_at: Option<Loc>,
    attr: bool,
    one_or_more: bool,
    oom_group: bool,
    list: bool,
    except: bool,
    start: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ct {
    Empty,
    Complex,
    Simple,
}

struct Checker<'c> {
    arena: &'c Arena,
    locs: &'c HashMap<PatId, Loc>,
    seen: HashSet<(PatId, Cx)>,
    attrs: HashMap<PatId, Vec<NcId>>,
    elems: HashMap<PatId, (Vec<NcId>, bool)>,
    ct: HashMap<PatId, Option<Ct>>,
}

impl Checker<'_> {
    fn loc(&self, p: PatId, fallback: Loc) -> Loc {
        self.locs.get(&p).copied().unwrap_or(fallback)
    }

    fn path(&mut self, p: PatId, cx: Cx, at: Loc) -> Result<(), Error> {
        // Memoised on the context flags only: where an error is placed does not change
        // whether there is one, and keying on places would walk every element's content anew.
        let flags = Cx {
            anchor: None,
            list_at: None,
            except_at: None,
            elem_at: None,
            ..cx
        };
        if !self.seen.insert((p, flags)) {
            return Ok(());
        }
        let at = self.loc(p, at);
        let bad = |what: &str, inside: &str| {
            let place = match inside {
                "attribute" => cx.anchor,
                "list" => cx.list_at,
                "data/except" => cx.except_at,
                "oneOrMore//group or interleave" => cx.elem_at,
                _ => None,
            };
            err(
                place.unwrap_or(at),
                "schema/restriction",
                format!("{what} is not allowed inside {inside} (RELAX NG §7.1)"),
            )
        };
        let ctxname = |cx: Cx| {
            if cx.start {
                "start"
            } else if cx.except {
                "data/except"
            } else if cx.list {
                "list"
            } else if cx.attr {
                "attribute"
            } else {
                "oneOrMore//group or interleave"
            }
        };
        match self.arena.get(p) {
            Pat::Attribute(nc, c) => {
                if cx.attr || cx.oom_group || cx.list || cx.except || cx.start {
                    return Err(bad("attribute", ctxname(cx)));
                }
                if self.arena.name_class(nc).is_some_and(|n| n.is_infinite()) && !cx.one_or_more {
                    return Err(err(
                        at,
                        "schema/restriction",
                        "an attribute with anyName or nsName must be repeated by oneOrMore (RELAX NG §7.3)",
                    ));
                }
                self.path(
                    c,
                    Cx {
                        attr: true,
                        anchor: Some(at),
                        ..cx
                    },
                    at,
                )?;
            }
            Pat::Element(_) => {
                if cx.attr || cx.list || cx.except {
                    return Err(bad("element", ctxname(cx)));
                }
            }
            Pat::OneOrMore(c) => {
                if cx.except || cx.start {
                    return Err(bad("oneOrMore", ctxname(cx)));
                }
                self.path(
                    c,
                    Cx {
                        one_or_more: true,
                        ..cx
                    },
                    at,
                )?;
            }
            Pat::Group(a, b) | Pat::Interleave(a, b) => {
                let il = matches!(self.arena.get(p), Pat::Interleave(..));
                if cx.except || cx.start || (il && cx.list) {
                    return Err(bad(if il { "interleave" } else { "group" }, ctxname(cx)));
                }
                let n = Cx {
                    oom_group: cx.oom_group || cx.one_or_more,
                    ..cx
                };
                self.path(a, n, at)?;
                self.path(b, n, at)?;
                self.overlap(p, a, b, il, at)?;
            }
            Pat::List(c) => {
                if cx.list || cx.except || cx.start {
                    return Err(bad("list", ctxname(cx)));
                }
                self.path(
                    c,
                    Cx {
                        list: true,
                        list_at: cx.list_at.or(Some(at)),
                        ..cx
                    },
                    at,
                )?;
            }
            Pat::Text => {
                if cx.list || cx.except || cx.start {
                    return Err(bad("text", ctxname(cx)));
                }
            }
            Pat::Data(_, ex) => {
                if cx.start {
                    return Err(bad("data", "start"));
                }
                if let Some(e) = ex {
                    self.path(
                        e,
                        Cx {
                            except: true,
                            except_at: cx.except_at.or(Some(at)),
                            ..cx
                        },
                        at,
                    )?;
                }
            }
            Pat::Value(_) => {
                if cx.start {
                    return Err(bad("value", "start"));
                }
            }
            Pat::Empty => {
                if cx.except || cx.start {
                    return Err(bad("empty", ctxname(cx)));
                }
            }
            Pat::Choice(a, b) => {
                self.path(a, cx, at)?;
                self.path(b, cx, at)?;
            }
            Pat::NotAllowed | Pat::After(..) => {}
        }
        Ok(())
    }

    /// A name class of `xs` that shares a name with one of `ys`: simple names are compared
    /// through a set, wildcards pairwise.
    fn first_overlap(&self, xs: &[NcId], ys: &[NcId]) -> Option<NameClass> {
        if xs.is_empty() || ys.is_empty() {
            return None;
        }
        let mut simple: HashSet<(&str, &str)> = HashSet::new();
        let mut wild_y = Vec::new();
        for j in ys {
            match self.arena.name_class(*j) {
                Some(NameClass::Name(n, l)) => {
                    simple.insert((n.as_str(), l.as_str()));
                }
                Some(other) => wild_y.push(other),
                None => {}
            }
        }
        for i in xs {
            let Some(m) = self.arena.name_class(*i) else {
                continue;
            };
            if let NameClass::Name(n, l) = m {
                if simple.contains(&(n.as_str(), l.as_str())) {
                    return Some(m.clone());
                }
                if wild_y.iter().any(|w| w.contains(n, l)) {
                    return Some(m.clone());
                }
            } else {
                let hit = ys
                    .iter()
                    .filter_map(|j| self.arena.name_class(*j))
                    .any(|n| m.overlaps(n));
                if hit {
                    return Some(m.clone());
                }
            }
        }
        None
    }

    fn attrs_of(&mut self, p: PatId) -> Vec<NcId> {
        if let Some(v) = self.attrs.get(&p) {
            return v.clone();
        }
        let v = match self.arena.get(p) {
            Pat::Attribute(nc, _) => vec![nc],
            Pat::Group(a, b) | Pat::Interleave(a, b) | Pat::Choice(a, b) => {
                let mut v = self.attrs_of(a);
                v.extend(self.attrs_of(b));
                v
            }
            Pat::OneOrMore(a) => self.attrs_of(a),
            _ => Vec::new(),
        };
        self.attrs.insert(p, v.clone());
        v
    }

    fn elems_of(&mut self, p: PatId) -> (Vec<NcId>, bool) {
        if let Some(v) = self.elems.get(&p) {
            return v.clone();
        }
        let v = match self.arena.get(p) {
            Pat::Element(e) => (
                self.arena
                    .elements
                    .get(e as usize)
                    .map(|i| vec![i.nc])
                    .unwrap_or_default(),
                false,
            ),
            Pat::Text => (Vec::new(), true),
            Pat::Group(a, b) | Pat::Interleave(a, b) | Pat::Choice(a, b) => {
                let (mut v, t) = self.elems_of(a);
                let (w, u) = self.elems_of(b);
                v.extend(w);
                (v, t || u)
            }
            Pat::OneOrMore(a) => self.elems_of(a),
            _ => (Vec::new(), false),
        };
        self.elems.insert(p, v.clone());
        v
    }

    /// §7.3 (attributes of both operands) and §7.4 (elements and text of interleave operands).
    fn overlap(
        &mut self,
        p: PatId,
        a: PatId,
        b: PatId,
        il: bool,
        fallback: Loc,
    ) -> Result<(), Error> {
        let at = self.loc(p, fallback);
        let (xa, xb) = (self.attrs_of(a), self.attrs_of(b));
        if let Some(m) = self.first_overlap(&xa, &xb) {
            return Err(err(
                at,
                "schema/duplicate-attribute",
                format!("attribute {} may occur twice (RELAX NG §7.3)", m.describe()),
            ));
        }
        if il {
            let ((ea, ta), (eb, tb)) = (self.elems_of(a), self.elems_of(b));
            if ta && tb {
                return Err(err(
                    at,
                    "schema/interleave",
                    "text in both operands of interleave (RELAX NG §7.4)",
                ));
            }
            if let Some(m) = self.first_overlap(&ea, &eb) {
                return Err(err(
                    at,
                    "schema/interleave",
                    format!(
                        "element {} in both operands of interleave (RELAX NG §7.4)",
                        m.describe()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// §7.2 content type of a pattern, `None` if it has none.
    fn content_type(&mut self, p: PatId) -> Option<Ct> {
        if let Some(v) = self.ct.get(&p) {
            return *v;
        }
        let groupable = |a: Ct, b: Ct| {
            a == Ct::Empty || b == Ct::Empty || (a == Ct::Complex && b == Ct::Complex)
        };
        let v = match self.arena.get(p) {
            Pat::Empty | Pat::NotAllowed | Pat::After(..) => Some(Ct::Empty),
            Pat::Text | Pat::Element(_) => Some(Ct::Complex),
            Pat::Data(..) | Pat::Value(_) | Pat::List(_) => Some(Ct::Simple),
            Pat::Attribute(_, c) => self.content_type(c).map(|_| Ct::Empty),
            Pat::Group(a, b) | Pat::Interleave(a, b) => {
                match (self.content_type(a), self.content_type(b)) {
                    (Some(x), Some(y)) if groupable(x, y) => Some(x.max(y)),
                    _ => None,
                }
            }
            Pat::Choice(a, b) => match (self.content_type(a), self.content_type(b)) {
                (Some(x), Some(y)) => Some(x.max(y)),
                _ => None,
            },
            Pat::OneOrMore(a) => match self.content_type(a) {
                Some(x) if groupable(x, x) => Some(x),
                _ => None,
            },
        };
        self.ct.insert(p, v);
        v
    }
}

/// §4.17–§4.18: every reference, reachable or not, names a definition of its grammar.
fn check_refs(parsed: &Parsed, ast: &Ast) -> Result<(), Error> {
    let mut stack = vec![ast];
    while let Some(a) = stack.pop() {
        match a {
            Ast::Ref(scope, name, loc)
                if !parsed.def_index.contains_key(&(*scope, name.clone())) =>
            {
                return Err(err(
                    *loc,
                    "schema/undefined-ref",
                    format!("reference to undefined pattern '{name}'"),
                ));
            }
            Ast::Element(_, c, _)
            | Ast::Attribute(_, c, _)
            | Ast::OneOrMore(c)
            | Ast::List(c, _) => stack.push(c),
            Ast::Data(_, Some(c), _) => stack.push(c),
            Ast::Group(v) | Ast::Interleave(v) | Ast::Choice(v) => stack.extend(v.iter()),
            _ => {}
        }
    }
    Ok(())
}

/// Compiles a parsed schema: the arena, the start pattern and the ID-typed attributes.
pub fn compile(parsed: &Parsed) -> Result<(Arena, PatId, IdTypes), Error> {
    check_refs(parsed, &parsed.top)?;
    for (d, _) in &parsed.defs {
        check_refs(parsed, d)?;
    }
    let mut c = Compiler {
        parsed,
        arena: Arena::new(),
        defs: vec![DefState::Todo; parsed.defs.len()],
        work: Vec::new(),
        locs: HashMap::new(),
    };
    c.arena.datatypes = parsed.datatypes.clone();
    c.arena.values = parsed.values.clone();
    let start = c.ast(&parsed.top)?;
    while let Some((e, ast)) = c.work.pop() {
        let content = c.ast(ast)?;
        c.arena.set_content(e, content);
    }
    let Compiler { arena, locs, .. } = c;
    let top_loc = Loc {
        file: 0,
        span: Span::at(0),
    };
    {
        let mut ck = Checker {
            arena: &arena,
            locs: &locs,
            seen: HashSet::new(),
            attrs: HashMap::new(),
            elems: HashMap::new(),
            ct: HashMap::new(),
        };
        ck.path(
            start,
            Cx {
                start: true,
                ..Cx::default()
            },
            top_loc,
        )?;
        // Elements reachable from start.
        let mut todo = vec![start];
        let mut seen_p = HashSet::new();
        let mut seen_e = HashSet::new();
        while let Some(p) = todo.pop() {
            if !seen_p.insert(p) {
                continue;
            }
            match arena.get(p) {
                Pat::Element(e) => {
                    if seen_e.insert(e)
                        && let Some(info) = arena.elements.get(e as usize)
                    {
                        let loc = Loc {
                            file: info.file,
                            span: info.span,
                        };
                        ck.path(
                            info.content,
                            Cx {
                                elem_at: Some(loc),
                                ..Cx::default()
                            },
                            loc,
                        )?;
                        if ck.content_type(info.content).is_none() {
                            return Err(err(
                                loc,
                                "schema/string-sequence",
                                "element content mixes data or list with elements or text (RELAX NG §7.2)",
                            ));
                        }
                        todo.push(info.content);
                    }
                }
                Pat::Choice(a, b) | Pat::Group(a, b) | Pat::Interleave(a, b) | Pat::After(a, b) => {
                    todo.push(a);
                    todo.push(b);
                }
                Pat::OneOrMore(a) | Pat::List(a) | Pat::Attribute(_, a) => todo.push(a),
                Pat::Data(_, Some(a)) => todo.push(a),
                _ => {}
            }
        }
        let mut reachable: Vec<ElemId> = seen_e.into_iter().collect();
        reachable.sort_unstable();
        let id_types = check_id_types(&arena, &reachable, &locs)?;
        Ok((arena, start, id_types))
    }
}

/// (element namespace, element local name, attribute namespace, attribute local name).
pub type PairKey = (String, String, String, String);

/// The (element, attribute) name pairs with an ID, IDREF or IDREFS type, in name order.
pub type IdTypes = Vec<(PairKey, IdType)>;

fn id_type_of(arena: &Arena, p: PatId) -> IdType {
    match arena.get(p) {
        Pat::Data(dt, _) => arena.datatypes.get(dt as usize).map(|d| d.id_type()),
        Pat::Value(v) => arena
            .values
            .get(v as usize)
            .and_then(|v| arena.datatypes.get(v.datatype as usize))
            .map(|d| d.id_type()),
        _ => None,
    }
    .unwrap_or(IdType::Null)
}

/// RELAX NG DTD Compatibility §4 (ID, IDREF, IDREFS): an ID-typed `data` or `value` is the
/// whole content of an `attribute` with a simple name on an `element` with a simple name, and
/// one (element, attribute) pair never has two ID-types. Returns the ID-typed pairs, which
/// the validator checks.
fn check_id_types(
    arena: &Arena,
    elements: &[ElemId],
    locs: &HashMap<PatId, Loc>,
) -> Result<IdTypes, Error> {
    let mut table: HashMap<PairKey, IdType> = HashMap::new();
    // Attributes whose element or attribute name class is not a simple name (never ID-typed).
    let mut wild: Vec<(NcId, NcId, Loc)> = Vec::new();
    for &e in elements {
        let Some(info) = arena.elements.get(e as usize) else {
            continue;
        };
        let eloc = Loc {
            file: info.file,
            span: info.span,
        };
        let ename = match arena.name_class(info.nc) {
            Some(NameClass::Name(n, l)) => Some((n.clone(), l.clone())),
            _ => None,
        };
        let mut stack = vec![info.content];
        let mut seen = HashSet::new();
        while let Some(p) = stack.pop() {
            if !seen.insert(p) {
                continue;
            }
            let at = locs.get(&p).copied().unwrap_or(eloc);
            match arena.get(p) {
                Pat::Attribute(nc, c) => {
                    let ty = id_type_of(arena, c);
                    let aname = match arena.name_class(nc) {
                        Some(NameClass::Name(n, l)) => Some((n.clone(), l.clone())),
                        _ => None,
                    };
                    match (&ename, &aname) {
                        (Some(en), Some(an)) => {
                            let key = (en.0.clone(), en.1.clone(), an.0.clone(), an.1.clone());
                            if table.insert(key, ty).is_some_and(|old| old != ty) {
                                return Err(err(
                                    at,
                                    "schema/id-type",
                                    format!(
                                        "conflicting ID-types for attribute \"{}\" of element \"{}\" (DTD Compatibility §4)",
                                        an.1, en.1
                                    ),
                                ));
                            }
                        }
                        _ if ty != IdType::Null => {
                            return Err(err(
                                at,
                                "schema/id-type",
                                "an attribute with an ID, IDREF or IDREFS value must have a simple name and belong to an element with a simple name (DTD Compatibility §4)",
                            ));
                        }
                        _ => wild.push((info.nc, nc, at)),
                    }
                    if ty == IdType::Null {
                        stack.push(c);
                    } else if let Pat::Data(_, Some(ex)) = arena.get(c) {
                        stack.push(ex);
                    }
                }
                Pat::Data(..) | Pat::Value(_) if id_type_of(arena, p) != IdType::Null => {
                    return Err(err(
                        at,
                        "schema/id-type",
                        "a data or value pattern with an ID, IDREF or IDREFS type must be the whole content of an attribute (DTD Compatibility §4)",
                    ));
                }
                Pat::Data(_, Some(ex)) => stack.push(ex),
                Pat::Choice(a, b) | Pat::Group(a, b) | Pat::Interleave(a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                Pat::OneOrMore(a) | Pat::List(a) => stack.push(a),
                _ => {}
            }
        }
    }
    // An element and attribute that overlap an ID-typed pair must have the same ID-type.
    let mut typed: IdTypes = table
        .into_iter()
        .filter(|(_, t)| *t != IdType::Null)
        .collect();
    typed.sort_by(|a, b| a.0.cmp(&b.0));
    for ((ens, el, ans, al), _) in &typed {
        for (enc, anc, at) in &wild {
            let overlaps = arena.name_class(*enc).is_some_and(|n| n.contains(ens, el))
                && arena.name_class(*anc).is_some_and(|n| n.contains(ans, al));
            if overlaps {
                return Err(err(
                    *at,
                    "schema/id-type",
                    format!(
                        "conflicting ID-types for attribute \"{al}\" of element \"{el}\" (DTD Compatibility §4)"
                    ),
                ));
            }
        }
    }
    Ok(typed)
}

#[cfg(test)]
mod tests {
    use super::super::{Resolver, compile_rng};
    use std::path::{Path, PathBuf};

    struct NoFiles;
    impl Resolver for NoFiles {
        fn resolve(&mut self, _: &Path, h: &str) -> Result<(PathBuf, String), String> {
            Err(h.to_string())
        }
    }

    fn check(body: &str) -> Result<(), String> {
        let s = format!(
            r#"<grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes"><start>{body}</start></grammar>"#
        );
        compile_rng(&s, Path::new("t.rng"), &mut NoFiles)
            .map(|_| ())
            .map_err(|e| e.diagnostic.message)
    }

    #[test]
    fn restrictions_of_section_7() {
        assert!(check("<element name='a'><empty/></element>").is_ok());
        assert!(check("<text/>").is_err(), "start//text");
        assert!(
            check("<element name='a'><list><list><data type='int'/></list></list></element>")
                .is_err()
        );
        assert!(check("<element name='a'><oneOrMore><group><attribute name='x'/><attribute name='y'/></group></oneOrMore></element>").is_err());
        assert!(check("<element name='a'><group><attribute name='x'/><attribute name='x'/></group></element>").is_err());
        assert!(check("<element name='a'><interleave><element name='b'><empty/></element><element name='b'><empty/></element></interleave></element>").is_err());
        assert!(check("<element name='a'><group><data type='int'/><element name='b'><empty/></element></group></element>").is_err(), "§7.2");
        assert!(
            check("<element name='a'><attribute><anyName/></attribute></element>").is_err(),
            "§7.3"
        );
        assert!(check("<element name='a'><oneOrMore><attribute><anyName/></attribute></oneOrMore></element>").is_ok());
    }

    #[test]
    fn reference_loops() {
        let s = r#"<grammar xmlns="http://relaxng.org/ns/structure/1.0"><start><element name="r"><ref name="a"/></element></start>
            <define name="a"><choice><element name="x"><ref name="a"/></element><empty/></choice></define>
            <define name="unused"><ref name="unused"/></define></grammar>"#;
        assert!(
            compile_rng(s, Path::new("t.rng"), &mut NoFiles).is_ok(),
            "loops through element, unreachable loop"
        );
        let bad = s.replace(
            r#"<start><element name="r"><ref name="a"/></element></start>"#,
            r#"<start><element name="r"><ref name="unused"/></element></start>"#,
        );
        assert!(compile_rng(&bad, Path::new("t.rng"), &mut NoFiles).is_err());
    }
}
