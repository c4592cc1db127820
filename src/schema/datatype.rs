//! Datatype libraries: the RELAX NG built-in library (RELAX NG §6.2.9: `string`, `token`) and
//! the XML Schema datatypes (XSD Part 2 §3, as bound to RELAX NG by the "Guidelines for using
//! W3C XML Schema Datatypes with RELAX NG"), with the facets given as `param`s.
//!
//! Owns lexical checking, facet checking and value equality (for `value` patterns). It must not
//! know about patterns, files or documents; the namespace context for QName values is passed in.

use std::cmp::Ordering;

use regex::Regex;

use super::xsd_regex;

/// URI of the XML Schema datatype library.
pub const XSD_LIB: &str = "http://www.w3.org/2001/XMLSchema-datatypes";

/// Resolves a prefix ("" = default namespace) in the context of a value.
pub type NsContext<'a> = &'a dyn Fn(&str) -> Option<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Kind {
    BuiltinString,
    BuiltinToken,
    String,
    NormalizedString,
    Token,
    Language,
    Name,
    NCName,
    NmToken,
    NmTokens,
    Id,
    IdRef,
    IdRefs,
    Entity,
    Entities,
    QName,
    Notation,
    AnyUri,
    Boolean,
    Decimal,
    Integer,
    Float,
    Double,
    Duration,
    DateTime,
    Date,
    Time,
    GYear,
    GYearMonth,
    GMonth,
    GMonthDay,
    GDay,
    HexBinary,
    Base64Binary,
}

/// DTD compatibility type of a datatype (RELAX NG DTD Compatibility §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IdType {
    Null,
    Id,
    IdRef,
    IdRefs,
}

/// A parsed value, compared for `value` patterns and ordered for range facets.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value {
    Str(String),
    Bool(bool),
    Decimal(Decimal),
    Float(f64),
    QName(String, String),
    Bytes(Vec<u8>),
    List(Vec<String>),
    /// Months and seconds (as a decimal) of a duration, for ordering, and its fields as
    /// written (years, months, days, hours, minutes, seconds), for equality as jing compares.
    Duration(i64, Decimal, Vec<String>),
    /// Date/time fields normalised to UTC when a timezone is given: a sortable key.
    Moment(Vec<i64>, Decimal),
}

impl Value {
    fn equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => (a.is_nan() && b.is_nan()) || a == b,
            _ => self == other,
        }
    }

    fn partial_cmp_value(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Decimal(a), Value::Decimal(b)) => Some(a.cmp(b)),
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (Value::Moment(a, x), Value::Moment(b, y)) => Some(a.cmp(b).then(x.cmp(y))),
            (Value::Duration(m1, s1, _), Value::Duration(m2, s2, _)) => {
                let o1 = m1.cmp(m2);
                let o2 = s1.cmp(s2);
                if o1 == o2 || o2 == Ordering::Equal {
                    Some(o1)
                } else if o1 == Ordering::Equal {
                    Some(o2)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// An exact decimal: sign, integer digits (no leading zeros), fraction digits (no trailing).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decimal {
    neg: bool,
    int: String,
    frac: String,
}

impl Decimal {
    fn parse(s: &str) -> Option<Decimal> {
        let (neg, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, s.get(1..)?),
            Some(b'+') => (false, s.get(1..)?),
            _ => (false, s),
        };
        let (i, f) = match rest.split_once('.') {
            Some((i, f)) => (i, f),
            None => (rest, ""),
        };
        if i.is_empty() && f.is_empty() {
            return None;
        }
        if !i.bytes().all(|b| b.is_ascii_digit()) || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let int = i.trim_start_matches('0').to_string();
        let frac = f.trim_end_matches('0').to_string();
        let zero = int.is_empty() && frac.is_empty();
        Some(Decimal {
            neg: neg && !zero,
            int,
            frac,
        })
    }

    fn from_i64(n: i64) -> Decimal {
        Decimal {
            neg: n < 0,
            int: if n == 0 {
                String::new()
            } else {
                n.unsigned_abs().to_string()
            },
            frac: String::new(),
        }
    }

    fn cmp_abs(&self, o: &Decimal) -> Ordering {
        self.int
            .len()
            .cmp(&o.int.len())
            .then_with(|| self.int.cmp(&o.int))
            .then_with(|| self.frac.cmp(&o.frac))
    }

    fn total_digits(&self) -> usize {
        let d = self.int.len() + self.frac.len();
        d.max(1)
    }
}

impl Ord for Decimal {
    fn cmp(&self, o: &Decimal) -> Ordering {
        match (self.neg, o.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_abs(o),
            (true, true) => o.cmp_abs(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, o: &Decimal) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Facet {
    Length(usize),
    MinLength(usize),
    MaxLength(usize),
    Pattern(PatternRe),
    TotalDigits(usize),
    FractionDigits(usize),
    MinInclusive(Value),
    MaxInclusive(Value),
    MinExclusive(Value),
    MaxExclusive(Value),
}

/// A datatype of some library with its facets.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Datatype {
    pub library: String,
    pub name: String,
    kind: Kind,
    /// Bounds of the built-in integer subtypes.
    bounds: (Option<Decimal>, Option<Decimal>),
    facets: Vec<Facet>,
}

/// A `value` pattern: its datatype and the value it denotes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ValuePat {
    pub datatype: u32,
    pub raw: String,
    pub value: Value,
}

/// A `pattern` facet's regex. Compiled when the schema is compiled (an invalid pattern is a
/// schema error); a schema read back from the compiled-schema cache holds only the source and
/// compiles each regex the first time a value is checked against it, since compiling every
/// Unicode-class regex of `tei_all` would cost more than reading the rest of the schema.
#[derive(Debug, Clone)]
pub struct PatternRe {
    src: String,
    re: std::sync::OnceLock<Option<Regex>>,
}

impl PatternRe {
    fn new(re: Regex) -> Self {
        let lock = std::sync::OnceLock::new();
        let src = re.as_str().to_string();
        let _ = lock.set(Some(re));
        PatternRe { src, re: lock }
    }

    /// Whether `s` matches; a pattern that no longer compiles matches nothing.
    fn is_match(&self, s: &str) -> bool {
        self.re
            .get_or_init(|| Regex::new(&self.src).ok())
            .as_ref()
            .is_some_and(|r| r.is_match(s))
    }
}

impl serde::Serialize for PatternRe {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.src)
    }
}

impl<'de> serde::Deserialize<'de> for PatternRe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let src: String = serde::Deserialize::deserialize(d)?;
        Ok(PatternRe {
            src,
            re: std::sync::OnceLock::new(),
        })
    }
}

fn collapse(s: &str) -> String {
    s.split([' ', '\t', '\n', '\r'])
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn replace_ws(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn xsd_kind(name: &str) -> Option<(Kind, Option<i64>, Option<i64>, bool)> {
    use Kind::*;
    // (kind, min, max, max is u64::MAX-ish handled by strings)
    Some(match name {
        "string" => (String, None, None, false),
        "normalizedString" => (NormalizedString, None, None, false),
        "token" => (Token, None, None, false),
        "language" => (Language, None, None, false),
        "Name" => (Name, None, None, false),
        "NCName" => (NCName, None, None, false),
        "NMTOKEN" => (NmToken, None, None, false),
        "NMTOKENS" => (NmTokens, None, None, false),
        "ID" => (Id, None, None, false),
        "IDREF" => (IdRef, None, None, false),
        "IDREFS" => (IdRefs, None, None, false),
        "ENTITY" => (Entity, None, None, false),
        "ENTITIES" => (Entities, None, None, false),
        "QName" => (QName, None, None, false),
        "NOTATION" => (Notation, None, None, false),
        "anyURI" => (AnyUri, None, None, false),
        "boolean" => (Boolean, None, None, false),
        "decimal" => (Decimal, None, None, false),
        "integer" => (Integer, None, None, false),
        "nonPositiveInteger" => (Integer, None, Some(0), false),
        "negativeInteger" => (Integer, None, Some(-1), false),
        "nonNegativeInteger" => (Integer, Some(0), None, false),
        "positiveInteger" => (Integer, Some(1), None, false),
        "long" => (Integer, Some(i64::MIN), Some(i64::MAX), false),
        "int" => (Integer, Some(i32::MIN.into()), Some(i32::MAX.into()), false),
        "short" => (Integer, Some(i16::MIN.into()), Some(i16::MAX.into()), false),
        "byte" => (Integer, Some(i8::MIN.into()), Some(i8::MAX.into()), false),
        "unsignedLong" => (Integer, Some(0), None, true),
        "unsignedInt" => (Integer, Some(0), Some(u32::MAX.into()), false),
        "unsignedShort" => (Integer, Some(0), Some(u16::MAX.into()), false),
        "unsignedByte" => (Integer, Some(0), Some(u8::MAX.into()), false),
        "float" => (Float, None, None, false),
        "double" => (Double, None, None, false),
        "duration" => (Duration, None, None, false),
        "dateTime" => (DateTime, None, None, false),
        "date" => (Date, None, None, false),
        "time" => (Time, None, None, false),
        "gYear" => (GYear, None, None, false),
        "gYearMonth" => (GYearMonth, None, None, false),
        "gMonth" => (GMonth, None, None, false),
        "gMonthDay" => (GMonthDay, None, None, false),
        "gDay" => (GDay, None, None, false),
        "hexBinary" => (HexBinary, None, None, false),
        "base64Binary" => (Base64Binary, None, None, false),
        _ => return None,
    })
}

impl Datatype {
    /// Looks up `name` in `library` and applies `params` as facets (§6.2.8, Guidelines §3).
    pub fn new(library: &str, name: &str, params: &[(String, String)]) -> Result<Datatype, String> {
        let mut dt = match library {
            "" => {
                let kind = match name {
                    "string" => Kind::BuiltinString,
                    "token" => Kind::BuiltinToken,
                    _ => return Err(format!("datatype '{name}' is not in the built-in library")),
                };
                if !params.is_empty() {
                    return Err("the built-in datatype library takes no parameters".into());
                }
                Datatype {
                    library: String::new(),
                    name: name.into(),
                    kind,
                    bounds: (None, None),
                    facets: Vec::new(),
                }
            }
            XSD_LIB => {
                let Some((kind, min, max, ulong)) = xsd_kind(name) else {
                    return Err(format!("datatype '{name}' is not an XML Schema datatype"));
                };
                let hi = if ulong {
                    Decimal::parse("18446744073709551615")
                } else {
                    max.map(Decimal::from_i64)
                };
                Datatype {
                    library: library.into(),
                    name: name.into(),
                    kind,
                    bounds: (min.map(Decimal::from_i64), hi),
                    facets: Vec::new(),
                }
            }
            _ => return Err(format!("datatype library '{library}' is not supported")),
        };
        for (p, v) in params {
            let f = dt.facet(p, v)?;
            dt.facets.push(f);
        }
        Ok(dt)
    }

    fn facet(&self, p: &str, v: &str) -> Result<Facet, String> {
        use Kind::*;
        let k = self.kind;
        let stringy = matches!(
            k,
            String
                | NormalizedString
                | Token
                | Language
                | Name
                | NCName
                | NmToken
                | Id
                | IdRef
                | Entity
                | AnyUri
                | QName
                | Notation
                | HexBinary
                | Base64Binary
                | NmTokens
                | IdRefs
                | Entities
        );
        let ordered = matches!(
            k,
            Decimal
                | Integer
                | Float
                | Double
                | Duration
                | DateTime
                | Date
                | Time
                | GYear
                | GYearMonth
                | GMonth
                | GMonthDay
                | GDay
        );
        let num = |v: &str| -> Result<usize, std::string::String> {
            v.trim().parse::<usize>().map_err(|_| {
                format!("value '{v}' of parameter '{p}' is not a non-negative integer")
            })
        };
        let bad = || {
            format!(
                "parameter '{p}' is not allowed for datatype '{}'",
                self.name
            )
        };
        let bound = |v: &str| -> Result<Value, std::string::String> {
            let base = Datatype {
                facets: Vec::new(),
                ..self.clone()
            };
            base.value(v, &|_| None).ok_or_else(|| {
                format!(
                    "value '{v}' of parameter '{p}' is not a valid '{}'",
                    self.name
                )
            })
        };
        Ok(match p {
            "length" if stringy => Facet::Length(num(v)?),
            "minLength" if stringy => Facet::MinLength(num(v)?),
            "maxLength" if stringy => Facet::MaxLength(num(v)?),
            "pattern" => Facet::Pattern(PatternRe::new(xsd_regex::compile(v)?)),
            "totalDigits" if matches!(k, Decimal | Integer) => {
                let n = num(v)?;
                if n == 0 {
                    return Err("totalDigits must be positive".into());
                }
                Facet::TotalDigits(n)
            }
            "fractionDigits" if matches!(k, Decimal | Integer) => Facet::FractionDigits(num(v)?),
            "minInclusive" if ordered => Facet::MinInclusive(bound(v)?),
            "maxInclusive" if ordered => Facet::MaxInclusive(bound(v)?),
            "minExclusive" if ordered => Facet::MinExclusive(bound(v)?),
            "maxExclusive" if ordered => Facet::MaxExclusive(bound(v)?),
            "enumeration" | "whiteSpace" => {
                return Err(format!("parameter '{p}' cannot be used in RELAX NG"));
            }
            "length" | "minLength" | "maxLength" | "totalDigits" | "fractionDigits"
            | "minInclusive" | "maxInclusive" | "minExclusive" | "maxExclusive" => {
                return Err(bad());
            }
            _ => return Err(format!("unknown parameter '{p}'")),
        })
    }

    /// DTD compatibility type (ID, IDREF, IDREFS or none).
    pub fn id_type(&self) -> IdType {
        match self.kind {
            Kind::Id => IdType::Id,
            Kind::IdRef => IdType::IdRef,
            Kind::IdRefs => IdType::IdRefs,
            _ => IdType::Null,
        }
    }

    /// Whether values depend on the namespace context (QName, NOTATION).
    pub fn needs_context(&self) -> bool {
        matches!(self.kind, Kind::QName | Kind::Notation)
    }

    /// Whether `s` is a valid literal of this datatype (§6.2.8 `allows`).
    pub fn allows(&self, s: &str, ctx: NsContext) -> bool {
        self.value(s, ctx).is_some()
    }

    /// The value denoted by `s`, or `None` if it is not a valid literal.
    pub fn value(&self, s: &str, ctx: NsContext) -> Option<Value> {
        use Kind::*;
        let (v, len) = match self.kind {
            BuiltinString => (Value::Str(s.to_string()), 0),
            BuiltinToken => (Value::Str(collapse(s)), 0),
            String => (Value::Str(s.to_string()), s.chars().count()),
            NormalizedString => {
                let t = replace_ws(s);
                let n = t.chars().count();
                (Value::Str(t), n)
            }
            Token => {
                let t = collapse(s);
                let n = t.chars().count();
                (Value::Str(t), n)
            }
            Language | Name | NCName | NmToken | Id | IdRef | Entity | AnyUri => {
                let t = collapse(s);
                let ok = match self.kind {
                    Language => is_language(&t),
                    Name => crate::xml::is_name(&t),
                    NCName | Id | IdRef => crate::xml::is_ncname(&t),
                    // An ENTITY names an unparsed entity declared in a DTD; no document read
                    // here declares one (external DTDs are never fetched).
                    Entity => false,
                    NmToken => !t.is_empty() && t.chars().all(crate::xml::is_name_char),
                    _ => is_any_uri(&t),
                };
                if !ok {
                    return None;
                }
                let n = t.chars().count();
                (Value::Str(t), n)
            }
            NmTokens | IdRefs | Entities => {
                let t = collapse(s);
                let items: Vec<std::string::String> = t
                    .split(' ')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect();
                let ok = !items.is_empty()
                    && items.iter().all(|x| match self.kind {
                        NmTokens => x.chars().all(crate::xml::is_name_char),
                        Entities => false,
                        _ => crate::xml::is_ncname(x),
                    });
                if !ok {
                    return None;
                }
                let n = items.len();
                (Value::List(items), n)
            }
            QName | Notation => {
                let t = collapse(s);
                if !crate::xml::is_qname(&t) {
                    return None;
                }
                let (ns, local) = match t.split_once(':') {
                    Some((p, l)) => (ctx(p)?, l.to_string()),
                    None => (ctx("").unwrap_or_default(), t.clone()),
                };
                let n = t.chars().count();
                (Value::QName(ns, local), n)
            }
            Boolean => match collapse(s).as_str() {
                "true" | "1" => (Value::Bool(true), 0),
                "false" | "0" => (Value::Bool(false), 0),
                _ => return None,
            },
            Decimal | Integer => {
                let t = collapse(s);
                if self.kind == Integer && t.contains('.') {
                    return None;
                }
                let d = self::Decimal::parse(&t)?;
                if let Some(lo) = &self.bounds.0
                    && &d < lo
                {
                    return None;
                }
                if let Some(hi) = &self.bounds.1
                    && &d > hi
                {
                    return None;
                }
                (Value::Decimal(d), 0)
            }
            Float => {
                // float values are single precision (XSD Part 2 §3.2.4).
                let x = parse_float(&collapse(s))?;
                (Value::Float(f64::from(x as f32)), 0)
            }
            Double => (Value::Float(parse_float(&collapse(s))?), 0),
            Duration => {
                let t = collapse(s);
                let (m, sec) = parse_duration(&t)?;
                (Value::Duration(m, sec, duration_fields(&t)), 0)
            }
            DateTime | Date | Time | GYear | GYearMonth | GMonth | GMonthDay | GDay => {
                let (k, sec) = parse_moment(self.kind, &collapse(s))?;
                (Value::Moment(k, sec), 0)
            }
            HexBinary => {
                let t = collapse(s);
                if !t.len().is_multiple_of(2) {
                    return None;
                }
                let mut bytes = Vec::with_capacity(t.len() / 2);
                let b = t.as_bytes();
                for pair in b.chunks(2) {
                    let hex = std::str::from_utf8(pair).ok()?;
                    bytes.push(u8::from_str_radix(hex, 16).ok()?);
                }
                let n = bytes.len();
                (Value::Bytes(bytes), n)
            }
            Base64Binary => {
                let bytes = decode_base64(s)?;
                let n = bytes.len();
                (Value::Bytes(bytes), n)
            }
        };
        for f in &self.facets {
            let ok = match f {
                Facet::Length(n) => len == *n,
                Facet::MinLength(n) => len >= *n,
                Facet::MaxLength(n) => len <= *n,
                Facet::Pattern(re) => {
                    let lexical = match self.kind {
                        String => s.to_string(),
                        NormalizedString => replace_ws(s),
                        _ => collapse(s),
                    };
                    re.is_match(&lexical)
                }
                // Digits are counted as written, trailing fraction zeros included, as jing does.
                Facet::TotalDigits(n) => match &v {
                    Value::Decimal(d) => {
                        d.int.len() + lexical_fraction_digits(s) <= *n && d.total_digits() <= *n
                    }
                    _ => true,
                },
                Facet::FractionDigits(n) => match &v {
                    Value::Decimal(_) => lexical_fraction_digits(s) <= *n,
                    _ => true,
                },
                Facet::MinInclusive(b) => {
                    matches!(
                        v.partial_cmp_value(b),
                        Some(Ordering::Greater | Ordering::Equal)
                    )
                }
                Facet::MaxInclusive(b) => {
                    matches!(
                        v.partial_cmp_value(b),
                        Some(Ordering::Less | Ordering::Equal)
                    )
                }
                Facet::MinExclusive(b) => matches!(v.partial_cmp_value(b), Some(Ordering::Greater)),
                Facet::MaxExclusive(b) => matches!(v.partial_cmp_value(b), Some(Ordering::Less)),
            };
            if !ok {
                return None;
            }
        }
        Some(v)
    }

    /// Whether `s` denotes the same value as `v` (§6.2.7 `equal`).
    pub fn equal(&self, s: &str, v: &Value, ctx: NsContext) -> bool {
        self.value(s, ctx).is_some_and(|x| x.equal(v))
    }
}

fn is_language(t: &str) -> bool {
    let mut parts = t.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let ok = |p: &str, alpha: bool| {
        (1..=8).contains(&p.len())
            && p.bytes()
                .all(|b| b.is_ascii_alphabetic() || (!alpha && b.is_ascii_digit()))
    };
    ok(first, true) && parts.all(|p| ok(p, false))
}

fn is_any_uri(t: &str) -> bool {
    // XSD Part 2 §3.2.17: a URI reference (RFC 2396 as amended by RFC 2732) once the characters
    // XLink escapes (spaces, `<>"{}|\^`` ` ``, non-ASCII) are escaped. What remains to check:
    // `%` starts a two-digit hex escape; one `#` at most; `[` `]` only in the authority, the
    // query or the fragment; a scheme, when present, is well formed and followed by something.
    if t.matches('#').count() > 1 {
        return false;
    }
    let b = t.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return false;
        }
    }
    let frag_at = t.find('#').unwrap_or(t.len());
    let before_frag = t.get(..frag_at).unwrap_or("");
    let query_at = before_frag.find('?').unwrap_or(before_frag.len());
    let head = before_frag.get(..query_at).unwrap_or("");
    // Scheme: a colon before any '/' in the head.
    let first_slash = head.find('/').unwrap_or(head.len());
    let mut rest = head;
    if let Some(colon) = head.get(..first_slash).and_then(|h| h.find(':')) {
        let scheme = head.get(..colon).unwrap_or("");
        let mut cs = scheme.chars();
        let ok = cs.next().is_some_and(|c| c.is_ascii_alphabetic())
            && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !ok || colon + 1 == t.len() {
            return false;
        }
        rest = head.get(colon + 1..).unwrap_or("");
    }
    // Authority after "//" may hold an IPv6 literal; the path may not hold brackets.
    let path = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find('/').unwrap_or(r.len());
            let authority = r.get(..end).unwrap_or("");
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if host.contains(['[', ']']) {
                // RFC 2732: "[" IPv6 "]" [ ":" port ]
                let ok = host
                    .strip_prefix('[')
                    .and_then(|h| h.split_once(']'))
                    .is_some_and(|(inside, after)| {
                        !inside.contains(['[', ']'])
                            && (after.is_empty()
                                || after
                                    .strip_prefix(':')
                                    .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
                    });
                if !ok {
                    return false;
                }
            }
            r.get(end..).unwrap_or("")
        }
        None => rest,
    };
    !path.contains(['[', ']'])
}

fn parse_float(t: &str) -> Option<f64> {
    match t {
        "INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (t.get(..i)?, Some(t.get(i + 1..)?)),
        None => (t, None),
    };
    self::Decimal::parse(mant)?;
    if let Some(e) = exp {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    t.parse::<f64>().ok()
}

fn digits(s: &str, n: usize) -> Option<i64> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Digits after the decimal point as written.
fn lexical_fraction_digits(s: &str) -> usize {
    let t = collapse(s);
    t.split_once('.').map_or(0, |(_, f)| f.len())
}

/// The fields of a valid duration as written (number strings keyed by designator).
fn duration_fields(t: &str) -> Vec<String> {
    let neg = t.starts_with('-');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_time = false;
    let mut nonzero = false;
    for c in t.chars() {
        match c {
            '-' | 'P' => {}
            'T' => in_time = true,
            '0'..='9' | '.' => cur.push(c),
            _ => {
                let d = Decimal::parse(&cur).unwrap_or(Decimal::from_i64(0));
                if !(d.int.is_empty() && d.frac.is_empty()) {
                    nonzero = true;
                    let time = if in_time { "T" } else { "" };
                    out.push(format!("{time}{c}{}.{}", d.int, d.frac));
                }
                cur.clear();
            }
        }
    }
    if neg && nonzero {
        out.push("-".into());
    }
    out
}

fn parse_duration(t: &str) -> Option<(i64, Decimal)> {
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let rest = rest.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return None;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut months: i64 = 0;
    let mut secs = Decimal::from_i64(0);
    let mut any = false;
    let mut take = |s: &str, units: &[(char, i64)], time: bool| -> Option<()> {
        let mut cur = String::new();
        let mut idx = 0;
        for c in s.chars() {
            if c.is_ascii_digit() || (time && c == '.') {
                cur.push(c);
                continue;
            }
            let pos = units.iter().skip(idx).position(|(u, _)| *u == c)? + idx;
            idx = pos + 1;
            if cur.is_empty() || cur.ends_with('.') {
                return None;
            }
            any = true;
            let &(u, mult) = units.get(pos)?;
            if u == 'S' {
                let d = Decimal::parse(&cur)?;
                secs = add_dec(&secs, &d);
            } else {
                if cur.contains('.') {
                    return None;
                }
                let n: i64 = cur.parse().ok()?;
                if time || u == 'D' {
                    secs = add_dec(&secs, &Decimal::from_i64(n.checked_mul(mult)?));
                } else {
                    months = months.checked_add(n.checked_mul(mult)?)?;
                }
            }
            cur.clear();
        }
        cur.is_empty().then_some(())
    };
    take(date, &[('Y', 12), ('M', 1), ('D', 86400)], false)?;
    if let Some(tm) = time {
        take(tm, &[('H', 3600), ('M', 60), ('S', 1)], true)?;
    }
    if !any {
        return None;
    }
    if neg {
        months = -months;
        secs.neg = !(secs.neg || (secs.int.is_empty() && secs.frac.is_empty()));
    }
    Some((months, secs))
}

/// Adds two non-negative decimals (enough for durations).
fn add_dec(a: &Decimal, b: &Decimal) -> Decimal {
    let fl = a.frac.len().max(b.frac.len());
    let pad = |d: &Decimal| format!("{}{}", d.int, format_args!("{:0<fl$}", d.frac));
    let (x, y) = (pad(a), pad(b));
    let n = x.len().max(y.len()) + 1;
    let (x, y) = (format!("{x:0>n$}"), format!("{y:0>n$}"));
    let mut out = Vec::with_capacity(n);
    let mut carry = 0u8;
    for (p, q) in x.bytes().rev().zip(y.bytes().rev()) {
        let s = p.wrapping_sub(b'0') % 10 + q.wrapping_sub(b'0') % 10 + carry;
        out.push(b'0' + s % 10);
        carry = s / 10;
    }
    out.reverse();
    let all = String::from_utf8(out).unwrap_or_default();
    let Some((i, f)) = all.split_at_checked(all.len().saturating_sub(fl)) else {
        return Decimal::from_i64(0);
    };
    Decimal::parse(&format!("{i}.{f}")).unwrap_or(Decimal::from_i64(0))
}

fn parse_tz(s: &str) -> Option<Option<i64>> {
    if s.is_empty() {
        return Some(None);
    }
    if s == "Z" {
        return Some(Some(0));
    }
    let sign = match s.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let (h, m) = s.get(1..)?.split_once(':')?;
    let (h, m) = (digits(h, 2)?, digits(m, 2)?);
    if m > 59 || h > 14 || (h == 14 && m != 0) {
        return None;
    }
    Some(Some(sign * (h * 60 + m)))
}

/// Days in month `m` (1..=12) of year `y`; 0 outside 1..=12.
fn days_in_month(y: i64, m: i64) -> i64 {
    u32::try_from(m).map_or(0, |m| i64::from(crate::calendar::days_in_month(y, m)))
}

/// Parses the date/time types into a sortable key (year, month, day, minutes) and seconds.
fn parse_moment(kind: Kind, t: &str) -> Option<(Vec<i64>, Decimal)> {
    fn year(s: &str) -> Option<(i64, &str)> {
        let (neg, r) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        // Years beyond twelve digits are refused rather than overflowing the day count.
        if !(4..=12).contains(&n) || (n > 4 && r.starts_with('0')) {
            return None;
        }
        let y: i64 = r.get(..n)?.parse().ok()?;
        if y == 0 {
            return None;
        }
        Some((if neg { -y } else { y }, r.get(n..)?))
    }
    fn time(s: &str) -> Option<(i64, i64, Decimal, &str)> {
        let h = digits(s.get(0..2)?, 2)?;
        if s.get(2..3)? != ":" || s.get(5..6)? != ":" {
            return None;
        }
        let mi = digits(s.get(3..5)?, 2)?;
        let rest = s.get(6..)?;
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let sec = rest.get(..n)?;
        if sec.len() < 2 || !sec.get(..2)?.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // As jing reads it: "ss", "ss." or "ss.fff".
        if sec.len() > 2 && (sec.get(2..3)? != "." || sec.get(3..)?.contains('.')) {
            return None;
        }
        let d = Decimal::parse(sec)?;
        let whole: i64 = sec.get(..2)?.parse().ok()?;
        // Hours 0-23, seconds up to 60 (a leap second), as jing accepts them.
        if h > 23 || mi > 59 || whole > 60 {
            return None;
        }
        Some((h, mi, d, rest.get(n..)?))
    }
    fn md(s: &str) -> Option<(i64, &str)> {
        Some((digits(s.get(0..2)?, 2)?, s.get(2..)?))
    }
    let (mut y, mut mo, mut d, mut h, mut mi) = (2000i64, 1i64, 1i64, 0i64, 0i64);
    let mut sec = Decimal::from_i64(0);
    let rest: &str = match kind {
        Kind::DateTime | Kind::Date | Kind::GYear | Kind::GYearMonth => {
            let (yy, r) = year(t)?;
            y = yy;
            let mut r = r;
            if kind != Kind::GYear {
                r = r.strip_prefix('-')?;
                let (m, r2) = md(r)?;
                mo = m;
                r = r2;
                if kind != Kind::GYearMonth {
                    r = r.strip_prefix('-')?;
                    let (dd, r3) = md(r)?;
                    d = dd;
                    r = r3;
                }
            }
            if kind == Kind::DateTime {
                r = r.strip_prefix('T')?;
                let (hh, mm, ss, r4) = time(r)?;
                h = hh;
                mi = mm;
                sec = ss;
                r = r4;
            }
            r
        }
        Kind::Time => {
            let (hh, mm, ss, r) = time(t)?;
            h = hh;
            mi = mm;
            sec = ss;
            r
        }
        Kind::GMonth | Kind::GMonthDay => {
            let r = t.strip_prefix("--")?;
            let (m, r) = md(r)?;
            mo = m;
            let mut r = r;
            if kind == Kind::GMonthDay {
                r = r.strip_prefix('-')?;
                let (dd, r2) = md(r)?;
                d = dd;
                r = r2;
            }
            r
        }
        Kind::GDay => {
            let r = t.strip_prefix("---")?;
            let (dd, r) = md(r)?;
            d = dd;
            r
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let tz = parse_tz(rest)?;
    let mut minutes = h * 60 + mi;
    if let Some(off) = tz {
        minutes -= off;
    }
    let days = days_from_civil(y, mo, d) + minutes.div_euclid(1440);
    let minutes = minutes.rem_euclid(1440);
    Some((vec![days, minutes, i64::from(tz.is_some())], sec))
}

/// Days since 1970-01-01 (`m` and `d` already checked to be a real month and day).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let m = u32::try_from(m).unwrap_or(1);
    let d = u32::try_from(d).unwrap_or(1);
    crate::calendar::days_from_civil(y, m, d)
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let chars: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b' ' && !matches!(b, b'\t' | b'\n' | b'\r'))
        .collect();
    if !chars.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::new();
    let n = chars.len() / 4;
    for (i, q) in chars.chunks(4).enumerate() {
        let last = i + 1 == n;
        let pads = q.iter().filter(|c| **c == b'=').count();
        if pads > 0 && (!last || pads > 2) {
            return None;
        }
        let mut acc = 0u32;
        for (j, c) in q.iter().enumerate() {
            let v = if *c == b'=' {
                if j < 4 - pads {
                    return None;
                }
                0
            } else {
                if j >= 4 - pads {
                    return None;
                }
                val(*c)?
            };
            acc = (acc << 6) | v;
        }
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(bytes.get(..3 - pads)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(name: &str, s: &str) -> bool {
        Datatype::new(XSD_LIB, name, &[]).is_ok_and(|d| d.allows(s, &|_| None))
    }

    #[test]
    fn lexical_spaces() {
        assert!(ok("integer", " +012 "));
        assert!(!ok("integer", "1.0"));
        assert!(ok("decimal", "-.5"));
        assert!(!ok("byte", "128"));
        assert!(ok("unsignedLong", "18446744073709551615"));
        assert!(ok("double", "1e10"));
        assert!(!ok("double", "inf"));
        assert!(ok("date", "2024-02-29"));
        assert!(!ok("date", "2023-02-29"));
        assert!(ok("dateTime", "1954-09-23T10:00:00Z"));
        assert!(ok("duration", "P1Y2MT3.5S"));
        assert!(!ok("duration", "P"));
        assert!(ok("language", "en-GB"));
        assert!(ok("base64Binary", "YWJj"));
        assert!(!ok("hexBinary", "abc"));
        assert!(ok("NMTOKENS", " a b "));
        assert!(ok("anyURI", "http://example.org/a?b=c#d"));
        let dur = |a: &str, b: &str| {
            Datatype::new(XSD_LIB, "duration", &[])
                .ok()
                .and_then(|d| d.value(a, &|_| None).map(|v| d.equal(b, &v, &|_| None)))
                .unwrap_or(false)
        };
        assert!(dur("P1Y", "P1Y0M"));
        assert!(!dur("P1Y", "P12M"));
        assert!(!dur("-P1D", "P1D"));
        assert!(dur("-P0D", "P0D"));
        assert!(!dur("P1D", "PT24H"));
        assert!(dur("PT1.0S", "PT1S"));
        assert!(ok("anyURI", "#pmb123"));
        assert!(ok("anyURI", "http://[::1]/x"));
        assert!(ok("anyURI", "caf\u{e9}.html"));
        assert!(ok("anyURI", ""));
        assert!(!ok("anyURI", "[URL"));
        assert!(ok("anyURI", "a b"));
        assert!(ok("anyURI", "#[UUID]"));
        assert!(ok("anyURI", "?a["));
        assert!(!ok("anyURI", "http:"));
        assert!(!ok("anyURI", "/a["));
        assert!(!ok("anyURI", "http://a]b/"));
        assert!(ok("anyURI", "http://u@[::1]:80/p?q[]#f"));
        assert!(!ok("anyURI", "a#b#c"));
        assert!(!ok("anyURI", "%zz"));
    }

    #[test]
    fn facets_and_equality() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        let Ok(d) = Datatype::new(
            XSD_LIB,
            "integer",
            &[p("minInclusive", "1"), p("maxExclusive", "10")],
        ) else {
            panic!()
        };
        assert!(d.allows("9", &|_| None));
        assert!(!d.allows("10", &|_| None));
        let Some(v) = d.value("3", &|_| None) else {
            panic!()
        };
        assert!(d.equal("+03", &v, &|_| None));
        assert!(Datatype::new(XSD_LIB, "string", &[p("totalDigits", "3")]).is_err());
        assert!(Datatype::new("", "string", &[p("length", "3")]).is_err());
        let Ok(s) = Datatype::new(
            XSD_LIB,
            "string",
            &[p("pattern", "[a-c]+"), p("maxLength", "2")],
        ) else {
            panic!()
        };
        assert!(s.allows("ab", &|_| None));
        assert!(!s.allows("abc", &|_| None));
    }
}
