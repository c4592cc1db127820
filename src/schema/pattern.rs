//! Hash-consed patterns of the simplified RELAX NG grammar (RELAX NG §4.19–§4.20, §6.2).
//!
//! Owns the pattern arena: every pattern is a small value interned once, so structural equality
//! is identity and derivatives can be memoised by id. Smart constructors apply the `notAllowed`
//! and `empty` rewrites of §4.20 and de-duplicate choices. Element content is held by index so
//! that recursive grammars are finite graphs. It must not parse schemas or read documents.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::diag::Span;

/// A small, fast, non-cryptographic hasher for the integer keys of the arena and the memo
/// tables (keys are our own ids, not attacker-chosen strings of unbounded length).
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            for (d, s) in buf.iter_mut().zip(chunk) {
                *d = *s;
            }
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }
    fn finish(&self) -> u64 {
        // Final mix (from MurmurHash3's fmix64): the multiply above leaves the low bits, which
        // pick the bucket, depending only on the low bits of the input; without this, string
        // keys (names looked up per element) collide in long probe sequences.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Index of an interned pattern.
pub type PatId = u32;
/// Index of a name class.
pub type NcId = u32;
/// Index of an element pattern (its name class and content).
pub type ElemId = u32;

/// A simplified pattern (RELAX NG §4.20 grammar plus `after` of the derivative algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Pat {
    Empty,
    NotAllowed,
    Text,
    Choice(PatId, PatId),
    Interleave(PatId, PatId),
    Group(PatId, PatId),
    OneOrMore(PatId),
    List(PatId),
    /// A datatype (index into `Arena::datatypes`) with an optional `except` pattern.
    Data(u32, Option<PatId>),
    /// A value (index into `Arena::values`).
    Value(u32),
    Attribute(NcId, PatId),
    Element(ElemId),
    /// Used only while validating: content still to match, then what follows.
    After(PatId, PatId),
}

/// A name class (RELAX NG §4.16, §9.3.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum NameClass {
    Name(String, String),
    AnyName(Option<Box<NameClass>>),
    NsName(String, Option<Box<NameClass>>),
    Choice(Box<NameClass>, Box<NameClass>),
}

impl NameClass {
    /// Whether `(ns, local)` belongs to the class (§6.2.2).
    pub fn contains(&self, ns: &str, local: &str) -> bool {
        match self {
            NameClass::Name(n, l) => n == ns && l == local,
            NameClass::AnyName(ex) => !ex.as_ref().is_some_and(|e| e.contains(ns, local)),
            NameClass::NsName(n, ex) => {
                n == ns && !ex.as_ref().is_some_and(|e| e.contains(ns, local))
            }
            NameClass::Choice(a, b) => a.contains(ns, local) || b.contains(ns, local),
        }
    }

    /// Whether the class contains `anyName` or `nsName` (§7.3, "infinite" name class).
    pub fn is_infinite(&self) -> bool {
        match self {
            NameClass::Name(..) => false,
            NameClass::AnyName(_) | NameClass::NsName(..) => true,
            NameClass::Choice(a, b) => a.is_infinite() || b.is_infinite(),
        }
    }

    fn representatives(&self, out: &mut Vec<(String, String)>) {
        match self {
            NameClass::Name(n, l) => out.push((n.clone(), l.clone())),
            NameClass::AnyName(ex) => {
                out.push(("\u{0}".into(), "\u{0}".into()));
                if let Some(e) = ex {
                    e.representatives(out);
                }
            }
            NameClass::NsName(n, ex) => {
                out.push((n.clone(), "\u{0}".into()));
                if let Some(e) = ex {
                    e.representatives(out);
                }
            }
            NameClass::Choice(a, b) => {
                a.representatives(out);
                b.representatives(out);
            }
        }
    }

    /// Whether some name belongs to both classes (§7.3, §7.4).
    pub fn overlaps(&self, other: &NameClass) -> bool {
        let mut reps = Vec::new();
        self.representatives(&mut reps);
        other.representatives(&mut reps);
        reps.iter()
            .any(|(n, l)| self.contains(n, l) && other.contains(n, l))
    }

    /// Readable form for messages: `a`, `{uri}a`, `*`, `{uri}*`.
    pub fn describe(&self) -> String {
        match self {
            NameClass::Name(n, l) if n.is_empty() => l.clone(),
            NameClass::Name(n, l) => format!("{{{n}}}{l}"),
            NameClass::AnyName(_) => "any name".into(),
            NameClass::NsName(n, _) => format!("any name in {{{n}}}"),
            NameClass::Choice(a, b) => format!("{} or {}", a.describe(), b.describe()),
        }
    }
}

/// An element pattern: its name class and content (filled once compiled).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ElemInfo {
    pub nc: NcId,
    pub content: PatId,
    pub span: Span,
    pub file: usize,
}

/// The arena of interned patterns with constant ids for the leaves.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Arena {
    pats: Vec<Pat>,
    /// Rebuilt from `pats` after reading a cached schema ([`Arena::rebuild_index`]).
    #[serde(skip)]
    index: FastMap<Pat, PatId>,
    pub name_classes: Vec<NameClass>,
    pub elements: Vec<ElemInfo>,
    pub datatypes: Vec<super::datatype::Datatype>,
    pub values: Vec<super::datatype::ValuePat>,
    nullable: Vec<Option<bool>>,
}

pub const EMPTY: PatId = 0;
pub const NOT_ALLOWED: PatId = 1;
pub const TEXT: PatId = 2;

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

impl Arena {
    pub fn new() -> Self {
        let mut a = Arena {
            pats: Vec::new(),
            index: FastMap::default(),
            name_classes: Vec::new(),
            elements: Vec::new(),
            datatypes: Vec::new(),
            values: Vec::new(),
            nullable: Vec::new(),
        };
        a.intern(Pat::Empty);
        a.intern(Pat::NotAllowed);
        a.intern(Pat::Text);
        a
    }

    pub fn len(&self) -> usize {
        self.pats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pats.is_empty()
    }

    pub fn get(&self, p: PatId) -> Pat {
        self.pats
            .get(p as usize)
            .copied()
            .unwrap_or(Pat::NotAllowed)
    }

    fn intern(&mut self, p: Pat) -> PatId {
        if let Some(&id) = self.index.get(&p) {
            return id;
        }
        let id = PatId::try_from(self.pats.len()).unwrap_or(PatId::MAX);
        self.pats.push(p);
        self.nullable.push(None);
        self.index.insert(p, id);
        id
    }

    pub fn name_class(&self, id: NcId) -> Option<&NameClass> {
        self.name_classes.get(id as usize)
    }

    pub fn add_name_class(&mut self, nc: NameClass) -> NcId {
        self.name_classes.push(nc);
        NcId::try_from(self.name_classes.len() - 1).unwrap_or(NcId::MAX)
    }

    pub fn choice(&mut self, a: PatId, b: PatId) -> PatId {
        if a == NOT_ALLOWED {
            return b;
        }
        if b == NOT_ALLOWED || a == b {
            return a;
        }
        // Flatten, sort and de-duplicate so that equal choices intern to one id.
        let mut ops = Vec::new();
        self.choice_ops(a, &mut ops);
        self.choice_ops(b, &mut ops);
        ops.sort_unstable();
        ops.dedup();
        self.balanced_choice(&ops)
    }

    /// A balanced tree of choices over sorted, distinct operands: equal sets intern to one id,
    /// and the depth (hence the recursion of every walk over it) is logarithmic, however many
    /// alternatives a schema has.
    fn balanced_choice(&mut self, ops: &[PatId]) -> PatId {
        match ops {
            [] => NOT_ALLOWED,
            [one] => *one,
            _ => {
                let (l, r) = ops.split_at(ops.len() / 2);
                let a = self.balanced_choice(l);
                let b = self.balanced_choice(r);
                self.intern(Pat::Choice(a, b))
            }
        }
    }

    /// The choice of many patterns, built once (linear-logarithmic, unlike folding `choice`).
    pub fn choice_many(&mut self, ps: &[PatId]) -> PatId {
        let mut ops = Vec::with_capacity(ps.len());
        for &p in ps {
            if p != NOT_ALLOWED {
                self.choice_ops(p, &mut ops);
            }
        }
        ops.sort_unstable();
        ops.dedup();
        self.balanced_choice(&ops)
    }

    fn choice_ops(&self, p: PatId, out: &mut Vec<PatId>) {
        let mut stack = vec![p];
        while let Some(p) = stack.pop() {
            match self.get(p) {
                Pat::Choice(a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                _ => out.push(p),
            }
        }
    }

    pub fn group(&mut self, a: PatId, b: PatId) -> PatId {
        if a == NOT_ALLOWED || b == NOT_ALLOWED {
            NOT_ALLOWED
        } else if a == EMPTY {
            b
        } else if b == EMPTY {
            a
        } else {
            self.intern(Pat::Group(a, b))
        }
    }

    pub fn interleave(&mut self, a: PatId, b: PatId) -> PatId {
        if a == NOT_ALLOWED || b == NOT_ALLOWED {
            NOT_ALLOWED
        } else if a == EMPTY {
            b
        } else if b == EMPTY {
            a
        } else {
            self.intern(Pat::Interleave(a, b))
        }
    }

    pub fn after(&mut self, a: PatId, b: PatId) -> PatId {
        if a == NOT_ALLOWED || b == NOT_ALLOWED {
            NOT_ALLOWED
        } else {
            self.intern(Pat::After(a, b))
        }
    }

    pub fn one_or_more(&mut self, p: PatId) -> PatId {
        if p == NOT_ALLOWED || p == EMPTY {
            p
        } else {
            self.intern(Pat::OneOrMore(p))
        }
    }

    pub fn list(&mut self, p: PatId) -> PatId {
        if p == NOT_ALLOWED {
            p
        } else {
            self.intern(Pat::List(p))
        }
    }

    pub fn attribute(&mut self, nc: NcId, p: PatId) -> PatId {
        if p == NOT_ALLOWED {
            p
        } else {
            self.intern(Pat::Attribute(nc, p))
        }
    }

    pub fn data(&mut self, dt: u32, except: Option<PatId>) -> PatId {
        let except = except.filter(|e| *e != NOT_ALLOWED);
        self.intern(Pat::Data(dt, except))
    }

    pub fn value(&mut self, v: u32) -> PatId {
        self.intern(Pat::Value(v))
    }

    /// A new element pattern whose content is set later with [`Arena::set_content`].
    pub fn element(&mut self, nc: NcId, span: Span, file: usize) -> PatId {
        self.elements.push(ElemInfo {
            nc,
            content: NOT_ALLOWED,
            span,
            file,
        });
        let e = ElemId::try_from(self.elements.len() - 1).unwrap_or(ElemId::MAX);
        self.intern(Pat::Element(e))
    }

    pub fn set_content(&mut self, e: ElemId, content: PatId) {
        if let Some(info) = self.elements.get_mut(e as usize) {
            info.content = content;
        }
    }

    /// Rebuilds the interning index from the patterns (after deserialising a cached schema).
    pub fn rebuild_index(&mut self) {
        self.index = self
            .pats
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
    }

    /// Whether the pattern matches the empty sequence (§6.2.3 `nullable`), memoised.
    pub fn nullable(&mut self, p: PatId) -> bool {
        if let Some(Some(v)) = self.nullable.get(p as usize) {
            return *v;
        }
        let v = match self.get(p) {
            Pat::Empty | Pat::Text => true,
            Pat::Choice(a, b) => self.nullable(a) || self.nullable(b),
            Pat::Group(a, b) | Pat::Interleave(a, b) => self.nullable(a) && self.nullable(b),
            Pat::OneOrMore(a) => self.nullable(a),
            _ => false,
        };
        if let Some(slot) = self.nullable.get_mut(p as usize) {
            *slot = Some(v);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_and_rewrites() {
        let mut a = Arena::new();
        let c1 = a.choice(TEXT, EMPTY);
        let c2 = a.choice(EMPTY, TEXT);
        assert_eq!(c1, c2);
        assert_eq!(a.choice(c1, TEXT), c1);
        assert_eq!(a.group(NOT_ALLOWED, TEXT), NOT_ALLOWED);
        assert_eq!(a.group(EMPTY, TEXT), TEXT);
        assert!(a.nullable(c1));
        let l = a.list(TEXT);
        assert!(!a.nullable(l));
    }

    #[test]
    fn name_class_overlap() {
        let a = NameClass::Name("".into(), "a".into());
        let any = NameClass::AnyName(Some(Box::new(a.clone())));
        assert!(!a.overlaps(&any));
        let ns = NameClass::NsName("".into(), None);
        assert!(a.overlaps(&ns));
        assert!(any.overlaps(&ns));
    }
}
