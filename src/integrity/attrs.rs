//! Which attributes are pointers and which are dates: read from a compiled schema's attribute
//! datatypes, or, without a schema, from TEI's own lists.
//!
//! Owns [`AttrKinds`]: for an element name and an attribute name, whether the attribute holds
//! TEI pointers (`teidata.pointer`, i.e. XSD `anyURI`, alone or in a list; TEI Guidelines ch. 1
//! "The TEI Infrastructure", 1.4.2 and ch. 16.1 "Links") or W3C dates (`teidata.temporal.w3c`,
//! XSD `date`, `gYear`, ...; TEI Guidelines 3.6.4 "Dates and Times", 13.4 "Dates"). It walks the
//! pattern graph the `schema` module compiled and must not change it, read files or validate.

use std::collections::{HashMap, HashSet};

use crate::schema::Schema;
use crate::schema::pattern::{FastMap, NameClass, Pat, PatId};

/// The TEI namespace.
pub const TEI_NS: &str = "http://www.tei-c.org/ns/1.0";

/// Attributes typed `teidata.pointer` (alone or as a list) in TEI P5 4.12.0 `tei_all`, used
/// on TEI elements when no schema is in use. Source: [`AttrKinds::from_schema`] run on
/// `../shared/tei-p5/tei_all-4.12.0.rng` (the test `default_pointer_list_is_tei_all_pointers` in
/// `tests/integrity.rs` checks every entry against it), less the names that are pointers on
/// some elements only and plain names or values on others (`name`, `code`, `value`, `class`,
/// `ns`, `given`, `property`, `filter`, `except`, `require`, `new`, `old`, `location`,
/// `select`, `origin`, `start`, `end`), and less `from`/`to`, which are dates on datable
/// elements and pointers on `span` and `arc` only (handled by element below). Attributes that
/// address whole resources (`xml:base`, `url`, ...) are never checked (`NOT_ELEMENT_POINTERS`).
pub const TEI_POINTER_ATTRIBUTES: &[&str] = &[
    "active",
    "adj",
    "adjFrom",
    "adjTo",
    "ana",
    "calendar",
    "change",
    "children",
    "copyOf",
    "corresp",
    "datcat",
    "datingMethod",
    "datingPoint",
    "decls",
    "defaultExceptions",
    "domains",
    "edRef",
    "exclude",
    "fVal",
    "facs",
    "feats",
    "follow",
    "fromUnit",
    "hand",
    "inst",
    "lemmaRef",
    "mergedIn",
    "mutual",
    "next",
    "nymRef",
    "parent",
    "parts",
    "passive",
    "perf",
    "period",
    "prev",
    "ref",
    "rendition",
    "replyTo",
    "resp",
    "sameAs",
    "scheme",
    "scribeRef",
    "scriptRef",
    "since",
    "source",
    "spanTo",
    "synch",
    "target",
    "targetDatcat",
    "targetEnd",
    "toUnit",
    "toWhom",
    "unitRef",
    "valueDatcat",
    "where",
    "who",
    "wit",
];

/// Attributes typed `anyURI` in TEI that address whole resources (a file, a schema, an image)
/// rather than an element by `xml:id`; pointers found in them are not checked.
const NOT_ELEMENT_POINTERS: &[&str] = &["base", "url", "schemaLocation", "targetLang", "uri"];

/// Elements whose `@from`/`@to` are not dates in TEI (pointers, folio numbers, page ranges),
/// used when no schema is in use (TEI Guidelines 16.3 `span`, 10.3.5 `locus`, 3.12.2.5
/// `citedRange`/`biblScope`, 19.3 `arc`, 16.5 `when`; each checked against tei_all 4.12.0).
const FROM_TO_NOT_DATES: &[&str] = &[
    "arc",
    "biblScope",
    "citedRange",
    "locus",
    "span",
    "timeline",
    "when",
];

/// The datable attributes (`att.datable.w3c`, `att.datable.iso`; TEI Guidelines 13.4.1).
pub const DATE_ATTRIBUTES: &[&str] = &["when", "notBefore", "notAfter", "from", "to"];
/// Their ISO variants (`att.datable.iso`).
pub const DATE_ISO_ATTRIBUTES: &[&str] = &[
    "when-iso",
    "notBefore-iso",
    "notAfter-iso",
    "from-iso",
    "to-iso",
];

/// What an attribute holds, as far as integrity cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    /// One or more pointers (`teidata.pointer`).
    Pointer,
    /// A W3C date or time (`teidata.temporal.w3c`).
    Date,
    /// An ISO 8601 date (`teidata.temporal.iso`).
    DateIso,
}

// Keys come from the schema, so a fast non-keyed hasher is safe here (document text is only
// ever looked up, never inserted).
#[derive(Debug, Clone, Default)]
struct AttrMap {
    /// Attributes in no namespace (nearly all), by local name.
    plain: FastMap<String, AttrKind>,
    /// Namespaced attributes: (namespace, local name).
    namespaced: Vec<(String, String, AttrKind)>,
}

impl AttrMap {
    fn get(&self, ns: &str, local: &str) -> Option<AttrKind> {
        if ns.is_empty() {
            self.plain.get(local).copied()
        } else {
            self.namespaced
                .iter()
                .find(|(n, l, _)| n == ns && l == local)
                .map(|(_, _, k)| *k)
        }
    }

    fn insert(&mut self, ns: &str, local: &str, kind: AttrKind) {
        if ns.is_empty() {
            self.plain.insert(local.to_string(), kind);
        } else if let Some(x) = self
            .namespaced
            .iter_mut()
            .find(|(n, l, _)| n == ns && l == local)
        {
            x.2 = kind;
        } else {
            self.namespaced
                .push((ns.to_string(), local.to_string(), kind));
        }
    }
}

/// Attribute kinds by element. Names are `(namespace, local)`; attribute namespaces are usually "".
#[derive(Debug, Clone, Default)]
pub struct AttrKinds {
    /// From a schema: element namespace → element local name → attribute local name →
    /// (attribute namespace, kind). Nested so that lookups borrow `&str` and never allocate.
    by_element: FastMap<String, FastMap<String, AttrMap>>,
    /// True when the kinds come from a schema (otherwise TEI's lists apply to TEI elements).
    from_schema: bool,
    /// Sorted, for binary search.
    default_pointers: Vec<&'static str>,
}

fn names(nc: &NameClass, out: &mut Vec<(String, String)>) {
    match nc {
        NameClass::Name(n, l) => out.push((n.clone(), l.clone())),
        NameClass::Choice(a, b) => {
            names(a, out);
            names(b, out);
        }
        NameClass::AnyName(_) | NameClass::NsName(..) => {}
    }
}

const XSD: &str = "http://www.w3.org/2001/XMLSchema-datatypes";
const XSD_DATES: &[&str] = &[
    "date",
    "dateTime",
    "gYear",
    "gYearMonth",
    "gMonth",
    "gMonthDay",
    "gDay",
    "time",
];

impl AttrKinds {
    /// TEI's lists, applied to elements in the TEI namespace (no schema in use).
    pub fn tei_default() -> Self {
        AttrKinds {
            by_element: FastMap::default(),
            from_schema: false,
            default_pointers: {
                let mut v: Vec<&'static str> = TEI_POINTER_ATTRIBUTES.to_vec();
                v.sort_unstable();
                v
            },
        }
    }

    /// Reads the kinds from a compiled schema: an attribute whose content holds XSD `anyURI` data
    /// is a pointer attribute, one whose content holds XSD date/time data a date attribute.
    /// Linear in the size of the pattern graph per element.
    pub fn from_schema(schema: &Schema) -> Self {
        let mut kinds = AttrKinds {
            from_schema: true,
            ..AttrKinds::default()
        };
        kinds.add_schema(schema);
        kinds
    }

    /// Adds the kinds of another schema (several `--schema` arguments).
    pub fn add_schema(&mut self, schema: &Schema) {
        self.from_schema = true;
        let arena = &schema.arena;
        // Whether a pattern holds an attribute without crossing an element. Hash-consing
        // interns children before their parents, so one ascending sweep computes it; the walks
        // below then skip content models (large choices of elements) entirely.
        let mut has_attr = vec![false; arena.len()];
        for i in 0..arena.len() {
            let Ok(p) = PatId::try_from(i) else { break };
            let at = |q: PatId| has_attr.get(q as usize).copied().unwrap_or(true);
            let v = match arena.get(p) {
                Pat::Attribute(..) => true,
                Pat::Choice(a, b) | Pat::Interleave(a, b) | Pat::Group(a, b) => at(a) || at(b),
                Pat::OneOrMore(a) => at(a),
                _ => false,
            };
            if let Some(slot) = has_attr.get_mut(i) {
                *slot = v;
            }
        }
        let mut memo: HashMap<PatId, Option<AttrKind>> = HashMap::new();
        for info in &arena.elements {
            let mut elems = Vec::new();
            if let Some(nc) = arena.name_class(info.nc) {
                names(nc, &mut elems);
            }
            if elems.is_empty() {
                continue;
            }
            let mut found: HashMap<(String, String), AttrKind> = HashMap::new();
            let mut seen: HashSet<PatId> = HashSet::new();
            let mut stack = vec![info.content];
            while let Some(p) = stack.pop() {
                if !has_attr.get(p as usize).copied().unwrap_or(true) || !seen.insert(p) {
                    continue;
                }
                match arena.get(p) {
                    Pat::Choice(a, b) | Pat::Interleave(a, b) | Pat::Group(a, b) => {
                        stack.push(a);
                        stack.push(b);
                    }
                    Pat::OneOrMore(a) => stack.push(a),
                    Pat::Attribute(nc, content) => {
                        let kind = *memo
                            .entry(content)
                            .or_insert_with(|| content_kind(schema, content));
                        let Some(kind) = kind else {
                            continue;
                        };
                        let mut attrs = Vec::new();
                        if let Some(nc) = arena.name_class(nc) {
                            names(nc, &mut attrs);
                        }
                        for a in attrs {
                            if kind == AttrKind::Pointer
                                && NOT_ELEMENT_POINTERS.contains(&a.1.as_str())
                            {
                                continue;
                            }
                            // The schema says which attributes hold dates; TEI's names say which
                            // of them are the datable ones integrity orders and compares.
                            if kind == AttrKind::Date
                                && !(a.0.is_empty() && DATE_ATTRIBUTES.contains(&a.1.as_str()))
                            {
                                continue;
                            }
                            found.insert(a, kind);
                        }
                    }
                    _ => {}
                }
            }
            for (ens, elocal) in elems {
                let entry = self
                    .by_element
                    .entry(ens)
                    .or_default()
                    .entry(elocal)
                    .or_default();
                for ((ans, alocal), k) in &found {
                    entry.insert(ans, alocal, *k);
                }
            }
        }
    }

    /// The attribute kinds of one element, looked up once per start tag.
    pub fn element<'k>(&'k self, ns: &'k str, local: &'k str) -> ElementKinds<'k> {
        ElementKinds {
            kinds: self,
            elem: (ns, local),
            map: if self.from_schema {
                self.by_element.get(ns).and_then(|m| m.get(local))
            } else {
                None
            },
        }
    }

    /// The kind of attribute `attr` (namespace, local) on element `elem` (namespace, local).
    pub fn kind(&self, elem: (&str, &str), attr: (&str, &str)) -> Option<AttrKind> {
        if self.from_schema {
            if elem.0 == TEI_NS && attr.0.is_empty() && DATE_ISO_ATTRIBUTES.contains(&attr.1) {
                return Some(AttrKind::DateIso);
            }
            return self
                .by_element
                .get(elem.0)
                .and_then(|m| m.get(elem.1))
                .and_then(|m| m.get(attr.0, attr.1));
        }
        if elem.0 != TEI_NS || !attr.0.is_empty() {
            return None;
        }
        // One match (a length switch, then byte compares) instead of set lookups: this runs for
        // every attribute of every TEI element.
        match attr.1 {
            "when-iso" | "notBefore-iso" | "notAfter-iso" | "from-iso" | "to-iso" => {
                Some(AttrKind::DateIso)
            }
            "from" | "to" if FROM_TO_NOT_DATES.contains(&elem.1) => {
                matches!(elem.1, "span" | "arc").then_some(AttrKind::Pointer)
            }
            "when" | "notBefore" | "notAfter" | "from" | "to" => Some(AttrKind::Date),
            "type" | "n" | "rend" | "subtype" | "key" | "unit" | "place" | "reason" => None,
            local => self
                .default_pointers
                .binary_search(&local)
                .is_ok()
                .then_some(AttrKind::Pointer),
        }
    }

    /// Every (element, attribute) pair the schema types as a pointer, sorted (for tests and for
    /// regenerating [`TEI_POINTER_ATTRIBUTES`]).
    pub fn pointer_attributes(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for attrs in self.by_element.values().flat_map(FastMap::values) {
            for (l, k) in &attrs.plain {
                if *k == AttrKind::Pointer {
                    v.push(l.clone());
                }
            }
            for (n, l, k) in &attrs.namespaced {
                if *k == AttrKind::Pointer {
                    v.push(format!("{{{n}}}{l}"));
                }
            }
        }
        v.sort();
        v.dedup();
        v
    }
}

/// [`AttrKinds`] narrowed to one element.
#[derive(Debug, Clone, Copy)]
pub struct ElementKinds<'k> {
    kinds: &'k AttrKinds,
    elem: (&'k str, &'k str),
    map: Option<&'k AttrMap>,
}

impl ElementKinds<'_> {
    /// The kind of attribute `(namespace, local)` on this element.
    pub fn kind(&self, ns: &str, local: &str) -> Option<AttrKind> {
        if !self.kinds.from_schema {
            return self.kinds.kind(self.elem, (ns, local));
        }
        let found = self.map.and_then(|m| m.get(ns, local));
        if found.is_none()
            && ns.is_empty()
            && local.ends_with("-iso")
            && self.elem.0 == TEI_NS
            && DATE_ISO_ATTRIBUTES.contains(&local)
        {
            return Some(AttrKind::DateIso);
        }
        found
    }
}

/// Whether an attribute's content pattern holds pointer or date data.
fn content_kind(schema: &Schema, content: PatId) -> Option<AttrKind> {
    let arena = &schema.arena;
    let mut seen: HashSet<PatId> = HashSet::new();
    let mut stack = vec![content];
    let (mut uri, mut date, mut other) = (false, false, false);
    while let Some(p) = stack.pop() {
        if !seen.insert(p) {
            continue;
        }
        match arena.get(p) {
            Pat::Choice(a, b) | Pat::Interleave(a, b) | Pat::Group(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            Pat::OneOrMore(a) | Pat::List(a) => stack.push(a),
            Pat::Data(dt, _) => match arena.datatypes.get(dt as usize) {
                Some(d) if d.library == XSD && d.name == "anyURI" => uri = true,
                Some(d) if d.library == XSD && XSD_DATES.contains(&d.name.as_str()) => date = true,
                _ => other = true,
            },
            Pat::Text | Pat::Value(_) => other = true,
            _ => {}
        }
    }
    if uri {
        Some(AttrKind::Pointer)
    } else if date && !other {
        Some(AttrKind::Date)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_lists() {
        let k = AttrKinds::tei_default();
        assert_eq!(
            k.kind((TEI_NS, "persName"), ("", "ref")),
            Some(AttrKind::Pointer)
        );
        assert_eq!(k.kind((TEI_NS, "date"), ("", "when")), Some(AttrKind::Date));
        assert_eq!(k.kind((TEI_NS, "date"), ("", "to")), Some(AttrKind::Date));
        assert_eq!(
            k.kind((TEI_NS, "span"), ("", "to")),
            Some(AttrKind::Pointer)
        );
        assert_eq!(k.kind((TEI_NS, "locus"), ("", "from")), None);
        assert_eq!(
            k.kind((TEI_NS, "date"), ("", "when-iso")),
            Some(AttrKind::DateIso)
        );
        assert_eq!(k.kind(("", "persName"), ("", "ref")), None);
        assert_eq!(k.kind((TEI_NS, "graphic"), ("", "url")), None);
    }

    #[test]
    fn from_a_small_schema() {
        let rng = r#"<element name="a" xmlns="http://relaxng.org/ns/structure/1.0"
            datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
          <optional><attribute name="p"><list><oneOrMore><data type="anyURI"/></oneOrMore></list></attribute></optional>
          <optional><attribute name="when"><choice><data type="date"/><data type="gYear"/></choice></attribute></optional>
          <optional><attribute name="d"><data type="date"/></attribute></optional>
          <optional><attribute name="s"><data type="string"/></attribute></optional>
          <optional><attribute name="url"><data type="anyURI"/></attribute></optional>
        </element>"#;
        let Ok(s) = crate::schema::compile_rng(
            rng,
            std::path::Path::new("a.rng"),
            &mut crate::schema::FsResolver,
        ) else {
            return;
        };
        let k = AttrKinds::from_schema(&s);
        assert_eq!(k.kind(("", "a"), ("", "p")), Some(AttrKind::Pointer));
        assert_eq!(k.kind(("", "a"), ("", "when")), Some(AttrKind::Date));
        assert_eq!(k.kind(("", "a"), ("", "d")), None);
        assert_eq!(k.kind(("", "a"), ("", "s")), None);
        assert_eq!(k.kind(("", "a"), ("", "url")), None);
        assert_eq!(k.pointer_attributes(), vec!["p".to_string()]);
    }
}
