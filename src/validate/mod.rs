//! RELAX NG validation by derivatives (James Clark, "An algorithm for RELAX NG validation",
//! following the semantics of RELAX NG §6), over the event stream of [`crate::xml`].
//!
//! Owns the derivative functions (start tag open, attribute, start tag close, text, end tag),
//! their memo tables, whitespace handling of §6.2.7 (whitespace-only text is ignored between
//! elements; an element with no element children matches its text, or nothing if it is
//! whitespace) and recovery after an error so that one run reports many findings. It keeps no
//! document tree: memory is the pattern arena, memo tables of bounded size, one small frame per
//! open element and the IDs seen (DTD compatibility §4), and no recursion follows document depth
//! (100,000 nested elements are fine).
//!
//! It must not read files; it must not know any vocabulary.

use std::sync::Arc;

use crate::diag::{Diagnostic, Related, Report, Span};
use crate::schema::Schema;
use crate::schema::datatype::IdType;
use crate::schema::pattern::{
    Arena, EMPTY, FastMap, NOT_ALLOWED, NameClass, NcId, Pat, PatId, TEXT,
};
use crate::xml::same;
use crate::xml::stream::{
    Batch, EventRef, EventSource, Namespaces, StartRef, Status, StreamReader,
};

/// Stable diagnostic codes of this module.
pub mod codes {
    pub const ELEMENT_NOT_ALLOWED: &str = "rng/element-not-allowed";
    pub const ATTRIBUTE_NOT_ALLOWED: &str = "rng/attribute-not-allowed";
    pub const ATTRIBUTE_VALUE_INVALID: &str = "rng/attribute-value-invalid";
    pub const ATTRIBUTE_MISSING: &str = "rng/attribute-missing";
    pub const TEXT_NOT_ALLOWED: &str = "rng/text-not-allowed";
    pub const TEXT_INVALID: &str = "rng/text-invalid";
    pub const CONTENT_INCOMPLETE: &str = "rng/content-incomplete";
    pub const DUPLICATE_ID: &str = "rng/duplicate-id";
    pub const IDREF_DANGLING: &str = "rng/idref-dangling";
    pub const NOT_WELL_FORMED: &str = crate::xml::CODE_NOT_WF;
}

/// Names listed in `expected` before the rest is summarised as "N more": with "the element
/// end-tag" and the summary, no message lists more than 8 things.
const SHOWN: usize = 6;
/// Most names collected from a content model for ranking and "did you mean".
const MAX_FRONT: usize = 4000;
const MEMO_TEXT_MAX: usize = 64;
/// Memo key standing for "any text" (patterns whose text derivative ignores the text).
const NO_DATA: u32 = u32::MAX;
/// Memo tables keyed by text are cleared past this many entries, so memory stays bounded
/// however much distinct text a corpus holds (a few megabytes at most: a document with 28,750
/// distinct dates grew by 12 MB with a bound of 2^20).
const MEMO_LIMIT: usize = 1 << 16;

#[derive(Clone, Copy)]
enum AfterFn {
    InterleaveRight(PatId),
    InterleaveLeft(PatId),
    GroupWith(PatId),
    AfterWith(PatId),
}

struct Frame {
    /// The pattern the element was opened from and its name: enough to find its definition
    /// again when a message needs it (never computed on the valid path).
    outer: PatId,
    name: u32,
    had_child: bool,
    /// Where the element's qualified name starts in [`Run::names`].
    qname: usize,
}

/// The state of validating one document.
#[derive(Default)]
struct Run {
    p: PatId,
    frames: Vec<Frame>,
    /// Qualified names of the open elements, one after another (for messages).
    names: String,
    binding_marks: Vec<usize>,
    /// Text gathered in the innermost open element since its start or its last child (only
    /// that element can be gathering text: a child's start flushes its parent's).
    text: String,
    /// Where jing would report that text (see [`crate::xml::stream::EventRef::Text`]).
    text_chunk: usize,
    /// First occurrence of each ID, keyed by [`id_key`]: memory grows with the number of IDs
    /// (which the check must remember), not with their length or the document's.
    ids: FastMap<u128, usize>,
    refs: Vec<(String, Span)>,
    att_ids: Vec<u32>,
}

/// Name ids of local names longer than [`pack`] takes.
type LongNames = FastMap<String, u32>;

/// A validator for one compiled schema, reusable over many documents (memo tables persist).
pub struct Validator {
    a: Arena,
    start: PatId,
    /// Name ids by namespace, then local name (looked up without allocating). A document uses
    /// a handful of namespaces, so they are scanned in order (most strings differ in length,
    /// which `==` checks first) instead of being hashed per lookup.
    /// Local names of up to 15 bytes (nearly all) are keyed by [`pack`], without a string.
    names: Vec<(String, FastMap<u128, u32>, LongNames)>,
    name_list: Vec<(String, String)>,
    /// Slot in `names` by namespace id of the document being read (`u32::MAX`: not yet).
    ns_slots: Vec<u32>,
    strings: FastMap<String, u32>,
    open_memo: FastMap<(PatId, u32), PatId>,
    att_memo: FastMap<(PatId, u32, u32), PatId>,
    close_memo: FastMap<PatId, PatId>,
    text_memo: FastMap<(PatId, u32), PatId>,
    end_memo: FastMap<PatId, PatId>,
    recovery_memo: FastMap<u32, PatId>,
    attr_contents_memo: FastMap<(PatId, u32), Arc<[PatId]>>,
    value_classes: FastMap<Vec<PatId>, u32>,
    has_data_memo: FastMap<PatId, bool>,
    context_free: bool,
    any_content: PatId,
    /// Namespace bindings in scope, for QName-valued data (innermost last).
    bindings: Vec<(String, String)>,
    /// DTD compatibility ID-types by (element name, attribute name) (RELAX NG DTD
    /// Compatibility §4), from the schema's compiled table.
    id_types: FastMap<(u32, u32), IdType>,
    /// Paths of the schema's files, for secondary labels pointing at definitions (`None` for
    /// compact-syntax files, whose definitions are known only by their converted XML form).
    files: Vec<Option<String>>,
}

/// The local part of a name as shown (`tei:persName` → `persName`, `{ns}x` → `x`).
fn local_part(name: &str) -> &str {
    name.rsplit([':', '}']).next().unwrap_or(name)
}

/// Edit distance (Levenshtein, case-insensitive, by characters) between two short names.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// Ranks allowed names for a message: when a name was found, the nearest first (by edit
/// distance of local names, then alphabetically); else alphabetically. The suggestion is a
/// name equal but for case, or within a small edit distance of the found one.
fn rank_names(mut names: Vec<String>, found: Option<&str>) -> (Vec<String>, Option<String>) {
    let Some(found) = found else {
        return (names, None);
    };
    let found_local = local_part(found);
    let limit = match found_local.chars().count() {
        0..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    names.sort_by_cached_key(|n| (distance(local_part(n), found_local), n.clone()));
    let suggestion = names
        .first()
        .filter(|n| {
            n.as_str() != found
                && (local_part(n).eq_ignore_ascii_case(found_local)
                    || distance(local_part(n), found_local) <= limit)
        })
        .cloned();
    (names, suggestion)
}

/// `kind "name"` for the first [`SHOWN`] names, then "N more" for the rest.
fn summarise(names: Vec<String>, kind: &str) -> Vec<String> {
    let total = names.len();
    let shown = if total > SHOWN + 1 { SHOWN } else { total };
    let mut v: Vec<String> = names
        .into_iter()
        .take(shown)
        .map(|n| format!("{kind} \"{n}\""))
        .collect();
    if total > shown {
        v.push(format!("{} more", total - shown));
    }
    v
}

/// A local name of at most 15 bytes as one number: its bytes, then its length in the last
/// byte (so that names differing only by trailing zero bytes stay apart); `None` if longer.
fn pack(local: &str) -> Option<u128> {
    let b = local.as_bytes();
    let len = u8::try_from(b.len()).ok().filter(|&n| n <= 15)?;
    let mut buf = [0u8; 16];
    for (d, s) in buf.iter_mut().zip(b) {
        *d = *s;
    }
    if let Some(last) = buf.last_mut() {
        *last = len;
    }
    Some(u128::from_le_bytes(buf))
}

/// An ID value as 128 bits: two SipHash-1-3 digests under different prefixes. Two different
/// IDs of one document share a key with a probability near 2^-128 per pair.
fn id_key(v: &str) -> u128 {
    use std::hash::Hasher;
    let mut a = std::hash::DefaultHasher::new();
    a.write(v.as_bytes());
    let mut b = std::hash::DefaultHasher::new();
    b.write_u8(0x5A);
    b.write(v.as_bytes());
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

fn is_ws(s: &str) -> bool {
    // Bytes suffice: the four are ASCII, and no byte of a multi-byte character is ASCII.
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

impl Validator {
    pub fn new(schema: &Schema) -> Self {
        let mut a = schema.arena.clone();
        let context_free = !a.datatypes.iter().any(|d| d.needs_context());
        // A pattern accepting anything, used to walk an element the schema does not allow.
        let any_nc = a.add_name_class(NameClass::AnyName(None));
        let any_el = a.element(any_nc, Span::default(), 0);
        let att = a.attribute(any_nc, TEXT);
        let tx = a.choice(TEXT, any_el);
        let item = a.choice(att, tx);
        let more = a.one_or_more(item);
        let any_content = a.choice(more, EMPTY);
        if let Pat::Element(e) = a.get(any_el) {
            a.set_content(e, any_content);
        }
        let mut v = Validator {
            a,
            start: schema.start,
            names: Vec::new(),
            name_list: Vec::new(),
            ns_slots: Vec::new(),
            strings: FastMap::default(),
            open_memo: FastMap::default(),
            att_memo: FastMap::default(),
            close_memo: FastMap::default(),
            text_memo: FastMap::default(),
            end_memo: FastMap::default(),
            recovery_memo: FastMap::default(),
            attr_contents_memo: FastMap::default(),
            value_classes: FastMap::default(),
            has_data_memo: FastMap::default(),
            context_free,
            any_content,
            bindings: Vec::new(),
            id_types: FastMap::default(),
            files: schema
                .files
                .iter()
                .map(|f| {
                    let compact = f.path.extension().is_some_and(|e| e == "rnc");
                    (!compact).then(|| f.path.display().to_string())
                })
                .collect(),
        };
        for ((ens, el, ans, al), ty) in &schema.id_types {
            let key = (v.name_id(ens, el), v.name_id(ans, al));
            v.id_types.insert(key, *ty);
        }
        v
    }

    fn name_id(&mut self, ns: &str, local: &str) -> u32 {
        let slot = self.ns_slot(ns);
        self.local_id(slot, local)
    }

    /// The index of a namespace in [`Self::names`], added if new.
    fn ns_slot(&mut self, ns: &str) -> u32 {
        let i = match self.names.iter().position(|(n, _, _)| same(n, ns)) {
            Some(i) => i,
            None => {
                self.names
                    .push((ns.to_string(), FastMap::default(), FastMap::default()));
                self.names.len() - 1
            }
        };
        u32::try_from(i).unwrap_or(u32::MAX)
    }

    /// The name id of a local name in the namespace at `slot` of [`Self::names`].
    fn local_id(&mut self, slot: u32, local: &str) -> u32 {
        let next = u32::try_from(self.name_list.len()).unwrap_or(u32::MAX);
        let Some((ns, short, long)) = self.names.get_mut(slot as usize) else {
            return next;
        };
        match pack(local) {
            Some(k) => {
                if let Some(&id) = short.get(&k) {
                    return id;
                }
                short.insert(k, next);
            }
            None => {
                if let Some(&id) = long.get(local) {
                    return id;
                }
                long.insert(local.to_string(), next);
            }
        }
        self.name_list.push((ns.clone(), local.to_string()));
        next
    }

    fn nc_contains(&self, nc: u32, name: u32) -> bool {
        let Some((ns, local)) = self.name_list.get(name as usize) else {
            return false;
        };
        self.a.name_class(nc).is_some_and(|c| c.contains(ns, local))
    }

    fn apply_after(&mut self, f: AfterFn, p: PatId) -> PatId {
        match self.a.get(p) {
            Pat::After(x, y) => {
                let y2 = match f {
                    AfterFn::InterleaveRight(b) => self.a.interleave(y, b),
                    AfterFn::InterleaveLeft(a) => self.a.interleave(a, y),
                    AfterFn::GroupWith(b) => self.a.group(y, b),
                    AfterFn::AfterWith(b) => self.a.after(y, b),
                };
                self.a.after(x, y2)
            }
            Pat::Choice(x, y) => {
                let x2 = self.apply_after(f, x);
                let y2 = self.apply_after(f, y);
                self.a.choice(x2, y2)
            }
            _ => NOT_ALLOWED,
        }
    }

    fn open(&mut self, p: PatId, name: u32) -> PatId {
        if let Some(&r) = self.open_memo.get(&(p, name)) {
            return r;
        }
        let r = match self.a.get(p) {
            Pat::Choice(x, y) => {
                let x2 = self.open(x, name);
                let y2 = self.open(y, name);
                self.a.choice(x2, y2)
            }
            Pat::Element(e) => {
                let (nc, content) = match self.a.elements.get(e as usize) {
                    Some(i) => (i.nc, i.content),
                    None => return NOT_ALLOWED,
                };
                if self.nc_contains(nc, name) {
                    self.a.after(content, EMPTY)
                } else {
                    NOT_ALLOWED
                }
            }
            Pat::Interleave(x, y) => {
                let dx = self.open(x, name);
                let l = self.apply_after(AfterFn::InterleaveRight(y), dx);
                let dy = self.open(y, name);
                let r = self.apply_after(AfterFn::InterleaveLeft(x), dy);
                self.a.choice(l, r)
            }
            Pat::OneOrMore(x) => {
                let dx = self.open(x, name);
                let rest = self.a.choice(p, EMPTY);
                self.apply_after(AfterFn::GroupWith(rest), dx)
            }
            Pat::Group(x, y) => {
                let dx = self.open(x, name);
                let l = self.apply_after(AfterFn::GroupWith(y), dx);
                if self.a.nullable(x) {
                    let dy = self.open(y, name);
                    self.a.choice(l, dy)
                } else {
                    l
                }
            }
            Pat::After(x, y) => {
                let dx = self.open(x, name);
                self.apply_after(AfterFn::AfterWith(y), dx)
            }
            _ => NOT_ALLOWED,
        };
        self.open_memo.insert((p, name), r);
        r
    }

    /// Id of a short string for memo keys (`None` when results must not be memoised).
    fn string_id(&mut self, s: &str) -> Option<u32> {
        if !self.context_free || s.len() > MEMO_TEXT_MAX {
            return None;
        }
        if let Some(&id) = self.strings.get(s) {
            return Some(id);
        }
        if self.text_memo.len() + self.att_memo.len() + self.strings.len() > MEMO_LIMIT {
            // Ids restart, so every table keyed by them is dropped together.
            self.text_memo.clear();
            self.att_memo.clear();
            self.strings.clear();
        }
        let id = u32::try_from(self.strings.len()).ok()?;
        self.strings.insert(s.to_string(), id);
        Some(id)
    }

    /// Contents of the attribute patterns of `p` (before its first element) named `name`.
    fn attr_contents_for(&mut self, p: PatId, name: u32) -> Arc<[PatId]> {
        if let Some(v) = self.attr_contents_memo.get(&(p, name)) {
            return Arc::clone(v);
        }
        let mut out: Vec<PatId> = self
            .reachable(p, false, usize::MAX)
            .into_iter()
            .filter_map(|q| match q {
                Pat::Attribute(nc, c) if self.nc_contains(nc, name) => Some(c),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        let out: Arc<[PatId]> = out.into();
        self.attr_contents_memo.insert((p, name), Arc::clone(&out));
        out
    }

    /// Attribute derivative (Clark §"attDeriv"). The value matters only through which
    /// attribute contents accept it, so derivatives are memoised by that set ("value class"),
    /// not by the value: a million distinct `xml:id`s share one entry.
    fn att(&mut self, p: PatId, name: u32, value: &str, check_value: bool) -> PatId {
        let contents = self.attr_contents_for(p, name);
        // Usually every content accepts the value: then `contents` is the class and nothing
        // is allocated; `some` holds the accepting ones once one rejects it.
        let mut some: Vec<PatId> = Vec::new();
        let mut all = true;
        if check_value {
            for (i, &c) in contents.iter().enumerate() {
                if self.value_match(c, value) {
                    if !all {
                        some.push(c);
                    }
                } else if all {
                    all = false;
                    some.extend_from_slice(contents.get(..i).unwrap_or(&[]));
                }
            }
        }
        let accepted: &[PatId] = if all { &contents } else { &some };
        let class = match self.value_classes.get(accepted) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.value_classes.len()).unwrap_or(u32::MAX);
                self.value_classes.insert(accepted.to_vec(), id);
                id
            }
        };
        self.att_in(p, name, class, accepted)
    }

    fn att_in(&mut self, p: PatId, name: u32, class: u32, accepted: &[PatId]) -> PatId {
        if let Some(&r) = self.att_memo.get(&(p, name, class)) {
            return r;
        }
        let r = match self.a.get(p) {
            Pat::After(x, y) => {
                let dx = self.att_in(x, name, class, accepted);
                self.a.after(dx, y)
            }
            Pat::Choice(x, y) => {
                let dx = self.att_in(x, name, class, accepted);
                let dy = self.att_in(y, name, class, accepted);
                self.a.choice(dx, dy)
            }
            Pat::Group(x, y) | Pat::Interleave(x, y) => {
                let il = matches!(self.a.get(p), Pat::Interleave(..));
                let dx = self.att_in(x, name, class, accepted);
                let dy = self.att_in(y, name, class, accepted);
                let (l, r) = if il {
                    (self.a.interleave(dx, y), self.a.interleave(x, dy))
                } else {
                    (self.a.group(dx, y), self.a.group(x, dy))
                };
                self.a.choice(l, r)
            }
            Pat::OneOrMore(x) => {
                let dx = self.att_in(x, name, class, accepted);
                let rest = self.a.choice(p, EMPTY);
                self.a.group(dx, rest)
            }
            Pat::Attribute(nc, c) => {
                if self.nc_contains(nc, name) && accepted.binary_search(&c).is_ok() {
                    EMPTY
                } else {
                    NOT_ALLOWED
                }
            }
            _ => NOT_ALLOWED,
        };
        self.att_memo.insert((p, name, class), r);
        r
    }

    /// Whether `p`'s text derivative depends on the text (it holds data, a value or a list
    /// before any element).
    fn has_data(&mut self, p: PatId) -> bool {
        if let Some(&v) = self.has_data_memo.get(&p) {
            return v;
        }
        let v = match self.a.get(p) {
            Pat::Data(..) | Pat::Value(_) | Pat::List(_) => true,
            Pat::Choice(x, y) | Pat::Group(x, y) | Pat::Interleave(x, y) => {
                self.has_data(x) || self.has_data(y)
            }
            Pat::OneOrMore(x) | Pat::After(x, _) => self.has_data(x),
            _ => false,
        };
        self.has_data_memo.insert(p, v);
        v
    }

    fn value_match(&mut self, p: PatId, s: &str) -> bool {
        if self.a.nullable(p) && is_ws(s) {
            return true;
        }
        let d = self.text(p, s);
        self.a.nullable(d)
    }

    fn close(&mut self, p: PatId, lenient: bool) -> PatId {
        if !lenient && let Some(&r) = self.close_memo.get(&p) {
            return r;
        }
        let r = match self.a.get(p) {
            Pat::After(x, y) => {
                let dx = self.close(x, lenient);
                self.a.after(dx, y)
            }
            Pat::Choice(x, y) => {
                let dx = self.close(x, lenient);
                let dy = self.close(y, lenient);
                self.a.choice(dx, dy)
            }
            Pat::Group(x, y) => {
                let dx = self.close(x, lenient);
                let dy = self.close(y, lenient);
                self.a.group(dx, dy)
            }
            Pat::Interleave(x, y) => {
                let dx = self.close(x, lenient);
                let dy = self.close(y, lenient);
                self.a.interleave(dx, dy)
            }
            Pat::OneOrMore(x) => {
                let dx = self.close(x, lenient);
                self.a.one_or_more(dx)
            }
            Pat::Attribute(..) => {
                if lenient {
                    EMPTY
                } else {
                    NOT_ALLOWED
                }
            }
            _ => p,
        };
        if !lenient {
            self.close_memo.insert(p, r);
        }
        r
    }

    fn resolve_prefix(&self, prefix: &str) -> Option<String> {
        if prefix == "xml" {
            return Some(crate::xml::XML_NS.to_string());
        }
        self.bindings
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.clone())
            .or_else(|| prefix.is_empty().then(String::new))
    }

    fn text(&mut self, p: PatId, s: &str) -> PatId {
        // Texts are interned only where the result depends on them and is worth keeping:
        // compound patterns holding data. Leaves are cheap to recompute; keeping every distinct
        // value would make memory grow with the document.
        let sid = match self.a.get(p) {
            Pat::Data(..) | Pat::Value(_) | Pat::List(_) | Pat::Text => None,
            _ if !self.has_data(p) => Some(NO_DATA),
            _ => self.string_id(s),
        };
        self.text_in(p, s, sid)
    }

    fn text_in(&mut self, p: PatId, s: &str, sid: Option<u32>) -> PatId {
        // Without data the derivative is the same for every text: one memo entry serves all.
        let sid = if !self.has_data(p) {
            Some(NO_DATA)
        } else {
            sid
        };
        if let Some(id) = sid
            && let Some(&r) = self.text_memo.get(&(p, id))
        {
            return r;
        }
        let r = match self.a.get(p) {
            Pat::Choice(x, y) => {
                let dx = self.text_in(x, s, sid);
                let dy = self.text_in(y, s, sid);
                self.a.choice(dx, dy)
            }
            Pat::Interleave(x, y) => {
                let dx = self.text_in(x, s, sid);
                let l = self.a.interleave(dx, y);
                let dy = self.text_in(y, s, sid);
                let r = self.a.interleave(x, dy);
                self.a.choice(l, r)
            }
            Pat::Group(x, y) => {
                let dx = self.text_in(x, s, sid);
                let l = self.a.group(dx, y);
                if self.a.nullable(x) {
                    let dy = self.text_in(y, s, sid);
                    self.a.choice(l, dy)
                } else {
                    l
                }
            }
            Pat::After(x, y) => {
                let dx = self.text_in(x, s, sid);
                self.a.after(dx, y)
            }
            Pat::OneOrMore(x) => {
                let dx = self.text_in(x, s, sid);
                let rest = self.a.choice(p, EMPTY);
                self.a.group(dx, rest)
            }
            Pat::Text => TEXT,
            Pat::Value(v) => {
                let ok = match self.a.values.get(v as usize) {
                    Some(vp) => match self.a.datatypes.get(vp.datatype as usize) {
                        Some(dt) => dt.equal(s, &vp.value, &|x| self.resolve_prefix(x)),
                        None => false,
                    },
                    None => false,
                };
                if ok { EMPTY } else { NOT_ALLOWED }
            }
            Pat::Data(dt, except) => {
                let ok = self
                    .a
                    .datatypes
                    .get(dt as usize)
                    .is_some_and(|d| d.allows(s, &|x| self.resolve_prefix(x)));
                let excluded = match except {
                    Some(e) if ok => self.value_match(e, s),
                    _ => false,
                };
                if ok && !excluded { EMPTY } else { NOT_ALLOWED }
            }
            Pat::List(x) => {
                let mut cur = x;
                for tok in s.split([' ', '\t', '\n', '\r']).filter(|t| !t.is_empty()) {
                    // Tokens are not memoised: interning them could reset ids in use above.
                    cur = self.text_in(cur, tok, None);
                    if cur == NOT_ALLOWED {
                        break;
                    }
                }
                if self.a.nullable(cur) {
                    EMPTY
                } else {
                    NOT_ALLOWED
                }
            }
            _ => NOT_ALLOWED,
        };
        if let Some(id) = sid {
            self.text_memo.insert((p, id), r);
        }
        r
    }

    fn end(&mut self, p: PatId, lenient: bool) -> PatId {
        if !lenient && let Some(&r) = self.end_memo.get(&p) {
            return r;
        }
        let r = match self.a.get(p) {
            Pat::Choice(x, y) => {
                let dx = self.end(x, lenient);
                let dy = self.end(y, lenient);
                self.a.choice(dx, dy)
            }
            Pat::After(x, y) => {
                if lenient || self.a.nullable(x) {
                    y
                } else {
                    NOT_ALLOWED
                }
            }
            _ => NOT_ALLOWED,
        };
        if !lenient {
            self.end_memo.insert(p, r);
        }
        r
    }

    /// A name class as the document would write it (prefix from the bindings in scope).
    fn show_nc(&self, nc: &NameClass) -> String {
        match nc {
            NameClass::Name(ns, l) => {
                if ns.is_empty() || self.resolve_prefix("").as_deref() == Some(ns.as_str()) {
                    l.clone()
                } else if let Some((p, _)) = self
                    .bindings
                    .iter()
                    .rev()
                    .find(|(p, u)| u == ns && !p.is_empty())
                {
                    format!("{p}:{l}")
                } else if ns == crate::xml::XML_NS {
                    format!("xml:{l}")
                } else {
                    format!("{{{ns}}}{l}")
                }
            }
            NameClass::Choice(a, b) => format!("{}\" or \"{}", self.show_nc(a), self.show_nc(b)),
            other => other.describe(),
        }
    }

    /// Name classes of the elements (or attributes) that could come next in `p`.
    fn front(&mut self, p: PatId, attributes: bool) -> Vec<NcId> {
        let mut out = Vec::new();
        for q in self.reachable(p, !attributes, usize::MAX) {
            if out.len() > MAX_FRONT {
                break;
            }
            match q {
                Pat::Element(e) if !attributes => {
                    if let Some(i) = self.a.elements.get(e as usize) {
                        out.push(i.nc);
                    }
                }
                Pat::Attribute(nc, _) if attributes => out.push(nc),
                _ => {}
            }
        }
        out
    }

    /// The patterns reachable from `p` without entering an element's content, each once, in
    /// depth-first order, left first: through choices, interleaves, groups, `oneOrMore` and the
    /// left of `after`. With `leading`, a group's second part only where its first is nullable
    /// (what can come next). At most `limit` patterns are visited.
    fn reachable(&mut self, p: PatId, leading: bool, limit: usize) -> Vec<Pat> {
        let mut out = Vec::new();
        let mut stack = vec![p];
        let mut seen = std::collections::HashSet::new();
        while let Some(q) = stack.pop() {
            if !seen.insert(q) || seen.len() > limit {
                continue;
            }
            let pat = self.a.get(q);
            match pat {
                Pat::Choice(x, y) | Pat::Interleave(x, y) => {
                    stack.push(y);
                    stack.push(x);
                }
                Pat::Group(x, y) => {
                    if !leading || self.a.nullable(x) {
                        stack.push(y);
                    }
                    stack.push(x);
                }
                Pat::OneOrMore(x) | Pat::After(x, _) => stack.push(x),
                _ => {}
            }
            out.push(pat);
        }
        out
    }

    /// The names of `ncs` for a message, ranked (nearest to `found` first, else alphabetical),
    /// at most [`SHOWN`] of them and then "N more"; with a near name as a suggestion.
    fn names_of(
        &mut self,
        ncs: &[NcId],
        kind: &str,
        found: Option<&str>,
    ) -> (Vec<String>, Option<String>) {
        let mut names: Vec<String> = ncs
            .iter()
            .filter_map(|nc| self.a.name_class(*nc).map(|n| self.show_nc(n)))
            .collect();
        names.sort();
        names.dedup();
        let (ranked, suggestion) = rank_names(names, found);
        (summarise(ranked, kind), suggestion)
    }

    /// What could come next (for messages): the end-tag if allowed, then element names.
    fn expected_elements(
        &mut self,
        p: PatId,
        found: Option<&str>,
    ) -> (Vec<String>, Option<String>) {
        let mut out = Vec::new();
        if self.end(p, false) != NOT_ALLOWED {
            out.push("the element end-tag".to_string());
        }
        let ncs = self.front(p, false);
        let (names, suggestion) = self.names_of(&ncs, "element", found);
        out.extend(names);
        (out, suggestion)
    }

    /// The element definition `p` would use for an element named `name` (the first in
    /// document order of the schema), for a secondary label.
    fn element_def(&mut self, p: PatId, name: u32) -> Option<usize> {
        let mut best: Option<usize> = None;
        for q in self.reachable(p, false, 100_000) {
            if let Pat::Element(e) = q {
                let e = e as usize;
                if let Some(i) = self.a.elements.get(e)
                    && self.nc_contains(i.nc, name)
                    && best.is_none_or(|b| e < b)
                {
                    best = Some(e);
                }
            }
        }
        best
    }

    /// A secondary label at the schema definition of the element opened from `outer` as `name`.
    fn definition(&mut self, outer: PatId, name: u32, label: &str) -> Option<Related> {
        let e = self.element_def(outer, name)?;
        let info = self.a.elements.get(e)?;
        if info.span == Span::default() {
            return None;
        }
        let source = self.files.get(info.file)?.clone()?;
        Some(Related {
            source,
            span: info.span,
            label: label.to_string(),
        })
    }

    /// What a value could be, for messages: the values and datatypes of `p`'s alternatives.
    fn value_expectations(&mut self, p: PatId) -> Vec<String> {
        let mut out = Vec::new();
        for q in self.reachable(p, true, usize::MAX) {
            if out.len() > MAX_FRONT {
                break;
            }
            match q {
                Pat::Value(v) => {
                    if let Some(vp) = self.a.values.get(v as usize) {
                        out.push(format!("\"{}\"", vp.raw));
                    }
                }
                Pat::Data(dt, _) => {
                    if let Some(d) = self.a.datatypes.get(dt as usize) {
                        out.push(format!("a value of datatype {}", d.name));
                    }
                }
                Pat::List(_) => out.push("a list of values".to_string()),
                Pat::Text => out.push("any text".to_string()),
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        if out.len() > SHOWN + 1 {
            let more = out.len() - SHOWN;
            out.truncate(SHOWN);
            out.push(format!("{more} more"));
        }
        out
    }

    /// Contents of the attribute patterns of `p` that allow the attribute `name`.
    fn attribute_contents(&mut self, p: PatId, name: u32) -> PatId {
        let contents = self.attr_contents_for(p, name);
        contents
            .iter()
            .fold(NOT_ALLOWED, |acc, &c| self.a.choice(acc, c))
    }

    /// Whether the next thing `p` accepts is data (a value, datatype or list).
    fn expects_data(&mut self, p: PatId) -> bool {
        self.reachable(p, true, usize::MAX)
            .into_iter()
            .any(|q| matches!(q, Pat::Value(_) | Pat::Data(..) | Pat::List(_)))
    }

    /// Attributes that must still be given in `p` (for messages).
    fn required_attributes(&mut self, p: PatId) -> Vec<NcId> {
        let mut memo = FastMap::default();
        let mut v = self.required_attributes_in(p, &mut memo);
        v.sort_unstable();
        v.dedup();
        v
    }

    fn required_attributes_in(
        &mut self,
        p: PatId,
        memo: &mut FastMap<PatId, Vec<NcId>>,
    ) -> Vec<NcId> {
        if let Some(v) = memo.get(&p) {
            return v.clone();
        }
        let v = self.required_attributes_step(p, memo);
        memo.insert(p, v.clone());
        v
    }

    fn required_attributes_step(
        &mut self,
        p: PatId,
        memo: &mut FastMap<PatId, Vec<NcId>>,
    ) -> Vec<NcId> {
        match self.a.get(p) {
            Pat::Attribute(nc, _) => vec![nc],
            Pat::Group(x, y) | Pat::Interleave(x, y) => {
                let mut v = self.required_attributes_in(x, memo);
                v.extend(self.required_attributes_in(y, memo));
                v
            }
            Pat::Choice(x, y) => {
                let (a, b) = (
                    self.required_attributes_in(x, memo),
                    self.required_attributes_in(y, memo),
                );
                if matches!(self.a.get(x), Pat::After(..)) {
                    let mut v = a;
                    v.extend(b);
                    v
                } else if a.is_empty() || b.is_empty() {
                    Vec::new()
                } else {
                    let mut v = a;
                    v.extend(b);
                    v
                }
            }
            Pat::OneOrMore(x) | Pat::After(x, _) => self.required_attributes_in(x, memo),
            _ => Vec::new(),
        }
    }

    /// Tries to continue after an element that comes too early: skips one required element
    /// that could come first and returns its name with the pattern that then allows `name`.
    fn skip_one(&mut self, p: PatId, name: u32) -> Option<(String, PatId)> {
        let ncs = self.front(p, false);
        for nc in ncs.into_iter().take(64) {
            let Some(NameClass::Name(ns, l)) = self.a.name_class(nc).cloned() else {
                continue;
            };
            let n = self.name_id(&ns, &l);
            let o = self.open(p, n);
            // Ending an element whatever its content leaves what follows it.
            let rest = self.end(o, true);
            let r = self.open(rest, name);
            if r != NOT_ALLOWED {
                let shown = self.show_nc(&NameClass::Name(ns, l));
                return Some((shown, r));
            }
        }
        None
    }

    /// Contents of every element pattern of the schema that allows this name.
    fn recovery_content(&mut self, name: u32) -> PatId {
        if let Some(&r) = self.recovery_memo.get(&name) {
            return r;
        }
        let r = self.recovery_content_uncached(name);
        self.recovery_memo.insert(name, r);
        r
    }

    fn recovery_content_uncached(&mut self, name: u32) -> PatId {
        let mut acc = NOT_ALLOWED;
        let n = self.a.elements.len();
        for i in 0..n {
            let (nc, content) = match self.a.elements.get(i) {
                Some(e) => (e.nc, e.content),
                None => continue,
            };
            if content != self.any_content && self.nc_contains(nc, name) {
                acc = self.a.choice(acc, content);
            }
        }
        if acc == NOT_ALLOWED {
            self.any_content
        } else {
            acc
        }
    }

    /// Validates the text gathered in the current element before a child starts or the
    /// element ends (whitespace-only text is ignored, RELAX NG §6.2.7).
    fn flush_text(&mut self, p: PatId, run: &mut Run, report: &mut Report) -> PatId {
        if run.text.is_empty() || is_ws(&run.text) {
            run.text.clear();
            return p;
        }
        let d = self.text(p, &run.text);
        let r = if d == NOT_ALLOWED {
            let trimmed = run.text.trim();
            let mut t: String = trimmed.chars().take(40).collect();
            if trimmed.chars().count() > 40 {
                t.push('…');
            }
            let (expected, _) = self.expected_elements(p, None);
            let mut d = Diagnostic::error(
                codes::TEXT_NOT_ALLOWED,
                format!("text not allowed here: \"{t}\""),
            )
            .with_expected(expected)
            .with_span(Span::at(run.text_chunk));
            if let Some(f) = run.frames.last()
                && let Some(r) = self.definition(f.outer, f.name, "content model defined here")
            {
                d = d.with_related(r);
            }
            report.push(d);
            p
        } else {
            d
        };
        run.text.clear();
        r
    }

    /// Validates one document held in memory; well-formedness errors end the run with one
    /// diagnostic.
    pub fn validate(&mut self, text: &str) -> Report {
        self.validate_events(&mut StreamReader::new(text.as_bytes()))
    }

    /// Validates one document from a stream of event batches (a file read in chunks, perhaps
    /// on another thread: see [`crate::xml::stream::pipe`]).
    pub fn validate_events(&mut self, src: &mut dyn EventSource) -> Report {
        let mut report = Report::new();
        let mut run = Run {
            p: self.start,
            ..Run::default()
        };
        self.bindings.clear();
        self.ns_slots.clear();
        let mut batch = Batch::default();
        let mut namespaces = Namespaces::default();
        loop {
            src.fill(&mut batch);
            namespaces.absorb(&batch);
            for ev in batch.events() {
                match ev {
                    EventRef::Start(s) => self.start_event(&s, &namespaces, &mut run, &mut report),
                    EventRef::Text {
                        text, chunk_end, ..
                    } => {
                        if !run.frames.is_empty() {
                            if run.text.is_empty() {
                                run.text_chunk = chunk_end;
                            }
                            run.text.push_str(text);
                        }
                    }
                    EventRef::End { span, .. } => self.end_event(span, &mut run, &mut report),
                }
            }
            match std::mem::take(&mut batch.status) {
                Status::More => {}
                Status::Done => break,
                Status::Failed(d) => {
                    report.push(d);
                    return report;
                }
            }
        }
        for (r, at) in std::mem::take(&mut run.refs) {
            if !run.ids.contains_key(&id_key(&r)) {
                report.push(
                    Diagnostic::error(
                        codes::IDREF_DANGLING,
                        format!("reference to non-existent ID \"{r}\""),
                    )
                    .with_span(at),
                );
            }
        }
        report
    }

    /// The name id of a local name in a namespace of the document being read.
    fn doc_name_id(&mut self, namespaces: &Namespaces, ns: u32, local: &str) -> u32 {
        let slot = match self.ns_slots.get(ns as usize) {
            Some(&s) if s != u32::MAX => s,
            _ => {
                let s = self.ns_slot(namespaces.uri(ns));
                let i = ns as usize;
                if self.ns_slots.len() <= i {
                    self.ns_slots.resize(i + 1, u32::MAX);
                }
                if let Some(x) = self.ns_slots.get_mut(i) {
                    *x = s;
                }
                s
            }
        };
        self.local_id(slot, local)
    }

    fn start_event(
        &mut self,
        s: &StartRef<'_>,
        namespaces: &Namespaces,
        run: &mut Run,
        report: &mut Report,
    ) {
        let qname = s.qname;
        if let Some(f) = run.frames.last_mut() {
            f.had_child = true;
            run.p = self.flush_text(run.p, run, report);
        }
        run.binding_marks.push(self.bindings.len());
        for (prefix, id) in s.bindings() {
            self.bindings
                .push((prefix.to_string(), namespaces.uri(id).to_string()));
        }
        let at = Span::at(s.span.end);
        let name = self.doc_name_id(namespaces, s.ns, s.local);
        let p = run.p;
        let outer = p;
        let parent_def = run.frames.last().map(|f| (f.outer, f.name));
        let mut q = self.open(p, name);
        if q == NOT_ALLOWED {
            let related = match parent_def {
                Some((o, n)) => self.definition(o, n, "content model defined here"),
                None => None,
            };
            if let Some((missing, r)) = self.skip_one(p, name) {
                let mut d = Diagnostic::error(
                    codes::ELEMENT_NOT_ALLOWED,
                    format!(
                        "element \"{qname}\" not allowed yet; missing required element \"{missing}\""
                    ),
                )
                .with_span(at);
                d.related.extend(related);
                report.push(d);
                q = r;
            } else {
                let (expected, suggestion) = self.expected_elements(p, Some(qname));
                let known = self.recovery_content(name) != self.any_content;
                let mut what = if run.frames.is_empty() {
                    format!("element \"{qname}\" not allowed as the root element")
                } else if known {
                    format!("element \"{qname}\" not allowed here")
                } else {
                    format!("element \"{qname}\" not allowed anywhere")
                };
                if let Some(s) = &suggestion {
                    what.push_str(&format!("; did you mean \"{s}\"?"));
                }
                let mut d = Diagnostic::error(codes::ELEMENT_NOT_ALLOWED, what)
                    .with_span(at)
                    .with_expected(expected);
                d.related.extend(related);
                report.push(d);
                let c = self.recovery_content(name);
                q = self.a.after(c, p);
            }
        }
        let mut att_ids = std::mem::take(&mut run.att_ids);
        att_ids.clear();
        for att in s.attrs() {
            att_ids.push(self.doc_name_id(namespaces, att.ns, att.local));
        }
        if !self.id_types.is_empty() {
            for (att, &an) in s.attrs().zip(&att_ids) {
                self.id_check(name, an, att.value, at, run, report);
            }
        }
        for (att, &an) in s.attrs().zip(&att_ids) {
            let r = self.att(q, an, att.value, true);
            if r == NOT_ALLOWED {
                let named = self.att(q, an, att.value, false);
                let d = if named == NOT_ALLOWED {
                    let ncs = self.front(q, true);
                    let (expected, suggestion) = self.names_of(&ncs, "attribute", Some(att.qname));
                    let mut msg = format!(
                        "attribute \"{}\" not allowed on element \"{qname}\"",
                        att.qname
                    );
                    if let Some(s) = &suggestion {
                        msg.push_str(&format!("; did you mean \"{s}\"?"));
                    }
                    Diagnostic::error(codes::ATTRIBUTE_NOT_ALLOWED, msg).with_expected(expected)
                } else {
                    let c = self.attribute_contents(q, an);
                    let expected = self.value_expectations(c);
                    Diagnostic::error(
                        codes::ATTRIBUTE_VALUE_INVALID,
                        format!(
                            "value of attribute \"{}\" is invalid: \"{}\"",
                            att.qname, att.value
                        ),
                    )
                    .with_expected(expected)
                };
                let mut d = d.with_span(at);
                d.related
                    .extend(self.definition(outer, name, "attributes defined here"));
                report.push(d);
                if named != NOT_ALLOWED {
                    q = named;
                }
            } else {
                q = r;
            }
        }
        run.att_ids = att_ids;
        let mut c = self.close(q, false);
        if c == NOT_ALLOWED {
            let req = self.required_attributes(q);
            let (names, _) = self.names_of(&req, "attribute", None);
            let msg = match names.as_slice() {
                [one] => format!("element \"{qname}\" missing required {one}"),
                _ => format!("element \"{qname}\" missing required attributes"),
            };
            let mut d = Diagnostic::error(codes::ATTRIBUTE_MISSING, msg)
                .with_span(at)
                .with_expected(if names.len() > 1 { names } else { Vec::new() });
            d.related
                .extend(self.definition(outer, name, "attributes defined here"));
            report.push(d);
            c = self.close(q, true);
        }
        run.p = c;
        let from = run.names.len();
        run.names.push_str(qname);
        run.frames.push(Frame {
            outer,
            name,
            had_child: false,
            qname: from,
        });
        run.text.clear();
    }

    /// DTD compatibility ID and IDREF(S) bookkeeping for one attribute (RELAX NG DTD
    /// Compatibility §4).
    fn id_check(
        &self,
        element: u32,
        attribute: u32,
        value: &str,
        at: Span,
        run: &mut Run,
        report: &mut Report,
    ) {
        match self.id_types.get(&(element, attribute)) {
            Some(IdType::Id) => {
                let v = value.trim_matches([' ', '\t', '\n', '\r']);
                if let Some(first) = run.ids.get(&id_key(v)) {
                    let mut d = Diagnostic::error(
                        codes::DUPLICATE_ID,
                        format!("ID \"{v}\" has already been defined"),
                    )
                    .with_span(at);
                    // A position in the document itself: the printer gives its line.
                    d.related.push(Related {
                        source: String::new(),
                        span: Span::at(*first),
                        label: format!("first occurrence of ID \"{v}\""),
                    });
                    report.push(d);
                } else if !v.is_empty() {
                    run.ids.insert(id_key(v), at.start);
                }
            }
            Some(IdType::IdRef | IdType::IdRefs) => {
                for r in value.split([' ', '\t', '\n', '\r']) {
                    if !r.is_empty() {
                        run.refs.push((r.to_string(), at));
                    }
                }
            }
            _ => {}
        }
    }

    fn end_event(&mut self, span: Span, run: &mut Run, report: &mut Report) {
        let Some(f) = run.frames.last() else { return };
        let (outer, fname, had_child, from) = (f.outer, f.name, f.had_child, f.qname);
        let qname = run.names.get(from..).unwrap_or("").to_string();
        let mut p = run.p;
        let mut reported = false;
        if !had_child {
            let d = self.text(p, &run.text);
            let ws = is_ws(&run.text);
            let empty_ok = ws && {
                let q = self.a.choice(p, d);
                self.end(q, false) != NOT_ALLOWED
            };
            if ws && (empty_ok || !self.expects_data(p)) {
                p = self.a.choice(p, d);
                run.text.clear();
            } else if d == NOT_ALLOWED && self.expects_data(p) {
                let expected = self.value_expectations(p);
                let mut msg = format!("character content of element \"{qname}\" invalid");
                let shown: String = run.text.trim().chars().take(40).collect();
                if !shown.is_empty() {
                    msg.push_str(&format!(": \"{shown}\""));
                }
                let mut d = Diagnostic::error(codes::TEXT_INVALID, msg)
                    .with_span(Span::at(span.end))
                    .with_expected(expected);
                d.related
                    .extend(self.definition(outer, fname, "content defined here"));
                report.push(d);
                reported = true;
                run.text.clear();
            } else if d == NOT_ALLOWED {
                p = self.flush_text(p, run, report);
            } else {
                p = d;
                run.text.clear();
            }
        } else {
            p = self.flush_text(p, run, report);
        }
        let mut e = self.end(p, false);
        if e == NOT_ALLOWED && reported {
            e = self.end(p, true);
        }
        if e == NOT_ALLOWED {
            let ncs = self.front(p, false);
            let (expected, _) = self.names_of(&ncs, "element", None);
            let (msg, expected) = match expected.as_slice() {
                [] => (
                    format!("element \"{qname}\" incomplete; missing required text or data"),
                    Vec::new(),
                ),
                [one] => (
                    format!("element \"{qname}\" incomplete; missing required {one}"),
                    Vec::new(),
                ),
                _ => (format!("element \"{qname}\" incomplete"), expected),
            };
            let mut d = Diagnostic::error(codes::CONTENT_INCOMPLETE, msg)
                .with_span(Span::at(span.end))
                .with_expected(expected);
            d.related
                .extend(self.definition(outer, fname, "content model defined here"));
            report.push(d);
            e = self.end(p, true);
        }
        run.p = e;
        run.frames.pop();
        run.names.truncate(from);
        if let Some(m) = run.binding_marks.pop() {
            self.bindings.truncate(m);
        }
    }
}

/// Validates `text` against `schema` (convenience for one document).
pub fn validate_str(schema: &Schema, text: &str) -> Report {
    Validator::new(schema).validate(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Resolver, compile_rng};
    use std::path::{Path, PathBuf};

    #[test]
    fn name_keys_tell_names_apart() {
        assert!(same(
            "http://www.tei-c.org/ns/1.0",
            "http://www.tei-c.org/ns/1.0"
        ));
        assert!(!same(
            "http://www.tei-c.org/ns/1.0",
            "http://www.tei-c.org/ns/1.1"
        ));
        assert!(!same("abc", "abcd"));
        assert!(same("", ""));
        assert_ne!(pack("p"), pack("p\u{0}"));
        assert_ne!(pack("persName"), pack("placeName"));
        assert_eq!(pack("fifteen_bytes_x"), pack("fifteen_bytes_x"));
        assert!(pack("sixteen_bytes_xx").is_none());
    }

    struct NoFiles;
    impl Resolver for NoFiles {
        fn resolve(&mut self, _: &Path, h: &str) -> Result<(PathBuf, String), String> {
            Err(h.to_string())
        }
    }

    fn schema(s: &str) -> Schema {
        match compile_rng(s, Path::new("t.rng"), &mut NoFiles) {
            Ok(s) => s,
            Err(e) => panic!("{}", e.to_short()),
        }
    }

    const RNG: &str = r#"<grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
      <start><ref name="a"/></start>
      <define name="a"><element name="a"><optional><attribute name="n"><data type="integer"/></attribute></optional>
        <zeroOrMore><choice><ref name="a"/><element name="b"><text/></element></choice></zeroOrMore></element></define>
    </grammar>"#;

    /// Distinct values do not grow the memo tables past their bound: memory stays flat however
    /// many different dates a document holds.
    #[test]
    fn memo_tables_stay_bounded_by_distinct_values() {
        let s = schema(
            r#"<element name="r" xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
              <zeroOrMore><element name="d"><attribute name="when"><choice><data type="date"/><data type="gYear"/></choice></attribute>
              <choice><data type="date"/><data type="gYear"/></choice></element></zeroOrMore></element>"#,
        );
        let mut doc = String::from("<r>");
        for i in 0..40_000 {
            let date = format!(
                "{:04}-{:02}-{:02}",
                1000 + i / 336,
                1 + i / 28 % 12,
                1 + i % 28
            );
            doc.push_str(&format!("<d when='{date}'>{date}</d>"));
        }
        doc.push_str("</r>");
        let mut v = Validator::new(&s);
        assert!(!v.validate(&doc).has_errors());
        let held = v.text_memo.len() + v.att_memo.len() + v.strings.len();
        assert!(held <= MEMO_LIMIT + 64, "{held} memo entries");
        assert!(v.strings.len() < 40_000, "{} strings", v.strings.len());
    }

    #[test]
    fn valid_and_invalid() {
        let s = schema(RNG);
        let mut v = Validator::new(&s);
        assert!(!v.validate("<a n='3'><b>x</b><a/></a>").has_errors());
        let r = v.validate("<a n='x'><c/></a>");
        let codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            vec![codes::ATTRIBUTE_VALUE_INVALID, codes::ELEMENT_NOT_ALLOWED]
        );
        let r = v.validate("<a>text</a>");
        assert_eq!(r.diagnostics[0].code, codes::TEXT_NOT_ALLOWED);
        let r = v.validate("<a><b>");
        assert_eq!(r.diagnostics[0].code, codes::NOT_WELL_FORMED);
    }

    #[test]
    fn id_checks() {
        let rng = r#"<element name="r" xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
          <zeroOrMore><element name="x"><optional><attribute name="id"><data type="ID"/></attribute></optional>
          <optional><attribute name="ref"><data type="IDREFS"/></attribute></optional><empty/></element></zeroOrMore></element>"#;
        let s = schema(rng);
        let mut v = Validator::new(&s);
        assert!(!v.validate("<r><x id='a'/><x ref='a'/></r>").has_errors());
        let r = v.validate("<r><x id='a'/><x id='a'/><x ref='a b'/></r>");
        let codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec![codes::DUPLICATE_ID, codes::IDREF_DANGLING]);
    }

    #[test]
    fn huge_choices_do_not_exhaust_the_stack() {
        let n = 20_000;
        let alts: String = (0..n)
            .map(|i| format!("<element name='e{i}'><empty/></element>"))
            .collect();
        let s = schema(&format!(
            r#"<element name="r" xmlns="http://relaxng.org/ns/structure/1.0"><zeroOrMore><choice>{alts}</choice></zeroOrMore></element>"#
        ));
        let mut v = Validator::new(&s);
        assert!(!v.validate("<r><e1/><e19999/><e5/></r>").has_errors());
        assert!(v.validate("<r><x/></r>").has_errors());
    }

    #[test]
    fn names_are_ranked_summarised_and_suggested() {
        assert_eq!(distance("persname", "persName"), 0);
        assert_eq!(distance("tpye", "type"), 2);
        let names: Vec<String> = [
            "date",
            "name",
            "orgName",
            "persName",
            "placeName",
            "rs",
            "term",
            "hi",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (ranked, suggestion) = rank_names(names.clone(), Some("persname"));
        assert_eq!(suggestion.as_deref(), Some("persName"));
        assert_eq!(ranked.first().map(String::as_str), Some("persName"));
        let (_, none) = rank_names(names.clone(), Some("frobnicate"));
        assert_eq!(none, None);
        let shown = summarise(ranked, "element");
        assert_eq!(shown.len(), SHOWN + 1);
        assert_eq!(shown.last().map(String::as_str), Some("2 more"));
        // Seven names are shown in full rather than "6 and 1 more".
        let seven = summarise(names.into_iter().take(7).collect(), "element");
        assert_eq!(seven.len(), 7);
    }

    #[test]
    fn deep_nesting() {
        let s = schema(RNG);
        let n = 100_000;
        let doc = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert!(!validate_str(&s, &doc).has_errors());
    }
}
