//! XPath 2.0 subset: lexing and parsing expressions into an [`Expr`] tree.
//!
//! Owns the grammar of the XPath 2.0 constructs the Schematron rules we run actually use (see
//! `schemas/xpath-constructs.md`), resolving namespace prefixes and function names at compile time
//! so that anything outside the subset is a compile error ([`CompileError`]) and is reported as
//! unsupported instead of being guessed. It must not evaluate anything (that is `eval`) nor know
//! about Schematron or TEI.
//!
//! Grammar references are to XPath 2.0 (W3C Recommendation, 2nd edition): §3.1 primary
//! expressions, §3.2 path expressions (axes §3.2.1.1, node tests §3.2.1.2, predicates §3.2.2,
//! abbreviations §3.2.4), §3.3 sequences (range `to`, `union`/`intersect`/`except`), §3.4
//! arithmetic, §3.5 comparisons (value §3.5.1, general §3.5.2, node §3.5.3), §3.6 logical
//! expressions, §3.7 `for`, §3.8 `if`, §3.9 quantified expressions, §3.10.2 `cast`, §3.10.3
//! `castable`. The string concatenation operator `||` is XPath 3.0 §3.6, accepted because
//! `tei_all` uses it. Patterns used as rule contexts are XSLT 2.0 §5.5 patterns, parsed with the
//! same grammar.

use std::collections::HashMap;
use std::fmt;

/// Namespace URIs the parser needs to know.
pub const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";
pub const NS_FN: &str = "http://www.w3.org/2005/xpath-functions";
pub const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

/// A compile error: the expression is outside the supported subset or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn err<T>(message: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError {
        message: message.into(),
    })
}

/// Axes of XPath 2.0 §3.2.1.1 (the namespace axis is not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Child,
    Descendant,
    DescendantOrSelf,
    SelfAxis,
    Parent,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
    Following,
    Preceding,
    Attribute,
}

impl Axis {
    fn from_name(s: &str) -> Option<Axis> {
        Some(match s {
            "child" => Axis::Child,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "self" => Axis::SelfAxis,
            "parent" => Axis::Parent,
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "following-sibling" => Axis::FollowingSibling,
            "preceding-sibling" => Axis::PrecedingSibling,
            "following" => Axis::Following,
            "preceding" => Axis::Preceding,
            "attribute" => Axis::Attribute,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Axis::Child => "child",
            Axis::Descendant => "descendant",
            Axis::DescendantOrSelf => "descendant-or-self",
            Axis::SelfAxis => "self",
            Axis::Parent => "parent",
            Axis::Ancestor => "ancestor",
            Axis::AncestorOrSelf => "ancestor-or-self",
            Axis::FollowingSibling => "following-sibling",
            Axis::PrecedingSibling => "preceding-sibling",
            Axis::Following => "following",
            Axis::Preceding => "preceding",
            Axis::Attribute => "attribute",
        }
    }

    /// Reverse axes number their nodes from the context outwards (§3.2.1.1).
    pub fn is_reverse(self) -> bool {
        matches!(
            self,
            Axis::Parent
                | Axis::Ancestor
                | Axis::AncestorOrSelf
                | Axis::PrecedingSibling
                | Axis::Preceding
        )
    }
}

/// Node tests of §3.2.1.2. Names carry namespace URIs, already resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeTest {
    /// `p:local` or `local` (no namespace when unprefixed: XPath 2.0 §2.1.1 with no default
    /// element namespace, as in Schematron's XSLT binding).
    Name { ns: Option<String>, local: String },
    /// `*`
    Any,
    /// `p:*`
    AnyLocal { ns: String },
    /// `*:local`
    AnyNs { local: String },
    /// `node()`
    Node,
    /// `text()`
    Text,
    /// `comment()`
    Comment,
    /// `processing-instruction()`
    Pi,
    /// `element()`
    Element,
    /// `attribute()`
    AttributeKind,
    /// `document-node()`
    Document,
}

/// An atomic type name used by `cast as`, `castable as` and constructor functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicType {
    String,
    Integer,
    Decimal,
    Double,
    Float,
    Boolean,
    Date,
    DayTimeDuration,
    UntypedAtomic,
}

impl AtomicType {
    fn from_local(s: &str) -> Option<AtomicType> {
        Some(match s {
            "string" => AtomicType::String,
            "integer" | "int" | "long" | "short" | "nonNegativeInteger" | "positiveInteger" => {
                AtomicType::Integer
            }
            "decimal" => AtomicType::Decimal,
            "double" => AtomicType::Double,
            "float" => AtomicType::Float,
            "boolean" => AtomicType::Boolean,
            "date" => AtomicType::Date,
            "dayTimeDuration" => AtomicType::DayTimeDuration,
            "untypedAtomic" => AtomicType::UntypedAtomic,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AtomicType::String => "xs:string",
            AtomicType::Integer => "xs:integer",
            AtomicType::Decimal => "xs:decimal",
            AtomicType::Double => "xs:double",
            AtomicType::Float => "xs:float",
            AtomicType::Boolean => "xs:boolean",
            AtomicType::Date => "xs:date",
            AtomicType::DayTimeDuration => "xs:dayTimeDuration",
            AtomicType::UntypedAtomic => "xs:untypedAtomic",
        }
    }
}

/// Comparison operators: general (`=`), value (`eq`) and node (`is`, `<<`, `>>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeCmpOp {
    Is,
    Before,
    After,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    IDiv,
    Mod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Intersect,
    Except,
}

/// The functions of the subset (XPath Functions and Operators 1.0 sections in `eval`, XSLT 2.0
/// §16 for `current`, `generate-id`). Resolved at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    Boolean,
    Not,
    True,
    False,
    Count,
    Exists,
    Empty,
    Last,
    Position,
    String,
    Number,
    Concat,
    StringJoin,
    StringLength,
    NormalizeSpace,
    Contains,
    StartsWith,
    EndsWith,
    Substring,
    SubstringBefore,
    SubstringAfter,
    Translate,
    UpperCase,
    LowerCase,
    Matches,
    Replace,
    Tokenize,
    DistinctValues,
    Name,
    LocalName,
    NamespaceUri,
    Id,
    Root,
    Sum,
    Floor,
    Ceiling,
    Round,
    Abs,
    CurrentDate,
    Current,
    GenerateId,
    Data,
    Reverse,
    /// A constructor function `xs:T(arg)` (XPath 2.0 §3.10.4).
    Construct(AtomicType),
}

struct FuncInfo {
    name: &'static str,
    f: Func,
    min: usize,
    max: usize,
}

const FUNCS: &[FuncInfo] = &[
    FuncInfo {
        name: "boolean",
        f: Func::Boolean,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "not",
        f: Func::Not,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "true",
        f: Func::True,
        min: 0,
        max: 0,
    },
    FuncInfo {
        name: "false",
        f: Func::False,
        min: 0,
        max: 0,
    },
    FuncInfo {
        name: "count",
        f: Func::Count,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "exists",
        f: Func::Exists,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "empty",
        f: Func::Empty,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "last",
        f: Func::Last,
        min: 0,
        max: 0,
    },
    FuncInfo {
        name: "position",
        f: Func::Position,
        min: 0,
        max: 0,
    },
    FuncInfo {
        name: "string",
        f: Func::String,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "number",
        f: Func::Number,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "concat",
        f: Func::Concat,
        min: 2,
        max: usize::MAX,
    },
    FuncInfo {
        name: "string-join",
        f: Func::StringJoin,
        min: 1,
        max: 2,
    },
    FuncInfo {
        name: "string-length",
        f: Func::StringLength,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "normalize-space",
        f: Func::NormalizeSpace,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "contains",
        f: Func::Contains,
        min: 2,
        max: 2,
    },
    FuncInfo {
        name: "starts-with",
        f: Func::StartsWith,
        min: 2,
        max: 2,
    },
    FuncInfo {
        name: "ends-with",
        f: Func::EndsWith,
        min: 2,
        max: 2,
    },
    FuncInfo {
        name: "substring",
        f: Func::Substring,
        min: 2,
        max: 3,
    },
    FuncInfo {
        name: "substring-before",
        f: Func::SubstringBefore,
        min: 2,
        max: 2,
    },
    FuncInfo {
        name: "substring-after",
        f: Func::SubstringAfter,
        min: 2,
        max: 2,
    },
    FuncInfo {
        name: "translate",
        f: Func::Translate,
        min: 3,
        max: 3,
    },
    FuncInfo {
        name: "upper-case",
        f: Func::UpperCase,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "lower-case",
        f: Func::LowerCase,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "matches",
        f: Func::Matches,
        min: 2,
        max: 3,
    },
    FuncInfo {
        name: "replace",
        f: Func::Replace,
        min: 3,
        max: 4,
    },
    FuncInfo {
        name: "tokenize",
        f: Func::Tokenize,
        min: 2,
        max: 3,
    },
    FuncInfo {
        name: "distinct-values",
        f: Func::DistinctValues,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "name",
        f: Func::Name,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "local-name",
        f: Func::LocalName,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "namespace-uri",
        f: Func::NamespaceUri,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "id",
        f: Func::Id,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "root",
        f: Func::Root,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "sum",
        f: Func::Sum,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "floor",
        f: Func::Floor,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "ceiling",
        f: Func::Ceiling,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "round",
        f: Func::Round,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "abs",
        f: Func::Abs,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "current-date",
        f: Func::CurrentDate,
        min: 0,
        max: 0,
    },
    FuncInfo {
        name: "current",
        f: Func::Current,
        min: 0,
        max: 0,
    },
    FuncInfo {
        name: "generate-id",
        f: Func::GenerateId,
        min: 0,
        max: 1,
    },
    FuncInfo {
        name: "data",
        f: Func::Data,
        min: 1,
        max: 1,
    },
    FuncInfo {
        name: "reverse",
        f: Func::Reverse,
        min: 1,
        max: 1,
    },
];

impl Func {
    /// The name as written in an expression (for the constructs table and messages).
    pub fn name(self) -> &'static str {
        if let Func::Construct(t) = self {
            return t.name();
        }
        FUNCS
            .iter()
            .find(|i| i.f == self)
            .map(|i| i.name)
            .unwrap_or("?")
    }
}

/// An expression tree. Paths are flattened into steps; `//` is a `descendant-or-self::node()`
/// step (§3.2.4), rewritten to `descendant` when that cannot change the result.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    StringLit(String),
    IntegerLit(i64),
    DoubleLit(f64),
    Var(String),
    ContextItem,
    /// A path: optionally rooted (`/`), then steps applied left to right.
    Path {
        rooted: bool,
        steps: Vec<Expr>,
    },
    Step {
        axis: Axis,
        test: NodeTest,
        preds: Vec<Expr>,
    },
    Filter(Box<Expr>, Vec<Expr>),
    Sequence(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    General(CmpOp, Box<Expr>, Box<Expr>),
    Value(CmpOp, Box<Expr>, Box<Expr>),
    NodeCmp(NodeCmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Set(SetOp, Box<Expr>, Box<Expr>),
    Concat(Box<Expr>, Box<Expr>),
    For(String, Box<Expr>, Box<Expr>),
    Quantified {
        every: bool,
        bindings: Vec<(String, Expr)>,
        satisfies: Box<Expr>,
    },
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    Cast {
        expr: Box<Expr>,
        to: AtomicType,
        optional: bool,
        castable: bool,
    },
    /// A sub-expression whose value does not depend on the context (an absolute path with no
    /// variables and no `current()`): evaluated once per document and memoised in slot `n`.
    Cached(usize, Box<Expr>),
    /// `//test[@attr = key]` with a `key` that does not depend on the predicate's focus: answered
    /// from a per-document index of `attr` values (built once, in slot `slot`) instead of a
    /// scan of the document per evaluation. `fallback` is the original path, used when the key
    /// is not a string (a numeric comparison cannot use the string index).
    KeyLookup {
        slot: usize,
        test: NodeTest,
        attr_ns: Option<String>,
        attr_local: String,
        key: Box<Expr>,
        /// The comparison was `eq`: more than one key value is an error, left to the fallback.
        single_key: bool,
        /// Predicates still to apply to the nodes found, in order.
        filters: Vec<Expr>,
        fallback: Box<Expr>,
    },
}

/// The static context of a compilation: namespace prefixes.
#[derive(Debug, Clone, Default)]
pub struct StaticContext {
    pub namespaces: HashMap<String, String>,
}

impl StaticContext {
    /// A context with `xml`, `xs` and `fn` bound (the Schematron XSLT binding declares `xs`).
    pub fn new() -> Self {
        let mut namespaces = HashMap::new();
        namespaces.insert("xml".to_string(), NS_XML.to_string());
        namespaces.insert("xs".to_string(), NS_XS.to_string());
        namespaces.insert("fn".to_string(), NS_FN.to_string());
        StaticContext { namespaces }
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer (XPath 2.0 §A.2)

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),      // QName, possibly prefixed
    NsWild(String),    // prefix:*
    LocalWild(String), // *:local
    Str(String),
    Int(i64),
    Dbl(f64),
    Var(String),
    Sym(&'static str),
}

const SYMS: &[&str] = &[
    "//", "::", "..", "!=", "<=", ">=", "<<", ">>", "||", "(", ")", "[", "]", ",", "/", "@", ".",
    "=", "<", ">", "+", "-", "*", "|", "?", "!",
];

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '\u{B7}'
}

fn lex(src: &str) -> Result<Vec<Tok>, CompileError> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    let read_ncname = |mut i: usize| -> (String, usize) {
        let mut s = String::new();
        while let Some(c) = chars.get(i).copied() {
            if is_name_char(c) {
                s.push(c);
                i += 1;
            } else {
                break;
            }
        }
        (s, i)
    };
    while let Some(c) = at(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // comments (: ... :), nestable
        if c == '(' && at(i + 1) == Some(':') {
            let mut depth = 0usize;
            loop {
                match (at(i), at(i + 1)) {
                    (Some('('), Some(':')) => {
                        depth += 1;
                        i += 2;
                    }
                    (Some(':'), Some(')')) => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    }
                    (Some(_), _) => i += 1,
                    (None, _) => return err("unterminated comment"),
                }
            }
            continue;
        }
        if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match at(i) {
                    None => return err("unterminated string literal"),
                    Some(q) if q == c => {
                        if at(i + 1) == Some(c) {
                            s.push(c);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(o) => {
                        s.push(o);
                        i += 1;
                    }
                }
            }
            toks.push(Tok::Str(s));
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && at(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            while at(i).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
            }
            let mut is_int = true;
            if at(i) == Some('.') && at(i + 1) != Some('.') {
                is_int = false;
                i += 1;
                while at(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
            }
            if matches!(at(i), Some('e') | Some('E')) {
                is_int = false;
                i += 1;
                if matches!(at(i), Some('+') | Some('-')) {
                    i += 1;
                }
                while at(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
            }
            let text: String = chars.get(start..i).unwrap_or(&[]).iter().collect();
            if is_int {
                match text.parse::<i64>() {
                    Ok(n) => toks.push(Tok::Int(n)),
                    Err(_) => return err(format!("integer literal out of range: {text}")),
                }
            } else {
                match text.parse::<f64>() {
                    Ok(n) => toks.push(Tok::Dbl(n)),
                    Err(_) => return err(format!("bad number: {text}")),
                }
            }
            continue;
        }
        if c == '$' {
            let mut j = i + 1;
            while at(j).is_some_and(char::is_whitespace) {
                j += 1;
            }
            let (name, end) = read_ncname(j);
            if name.is_empty() {
                return err("`$` without a variable name");
            }
            let (name, end) = if at(end) == Some(':') && at(end + 1).is_some_and(is_name_start) {
                let (local, e2) = read_ncname(end + 1);
                (format!("{name}:{local}"), e2)
            } else {
                (name, end)
            };
            toks.push(Tok::Var(name));
            i = end;
            continue;
        }
        if c == '*' && at(i + 1) == Some(':') && at(i + 2).is_some_and(is_name_start) {
            let (local, end) = read_ncname(i + 2);
            toks.push(Tok::LocalWild(local));
            i = end;
            continue;
        }
        if c == 'Q' && at(i + 1) == Some('{') {
            return err("URI-qualified names Q{...} are not supported");
        }
        if is_name_start(c) {
            let (name, end) = read_ncname(i);
            i = end;
            if at(i) == Some(':') && at(i + 1) == Some('*') {
                toks.push(Tok::NsWild(name));
                i += 2;
            } else if at(i) == Some(':') && at(i + 1).is_some_and(is_name_start) {
                let (local, e2) = read_ncname(i + 1);
                toks.push(Tok::Name(format!("{name}:{local}")));
                i = e2;
            } else {
                toks.push(Tok::Name(name));
            }
            continue;
        }
        let mut matched = false;
        for s in SYMS {
            let n = s.chars().count();
            if chars
                .get(i..i + n)
                .is_some_and(|w| w.iter().copied().eq(s.chars()))
            {
                toks.push(Tok::Sym(s));
                i += n;
                matched = true;
                break;
            }
        }
        if !matched {
            return err(format!("unexpected character `{c}`"));
        }
    }
    Ok(toks)
}

// ---------------------------------------------------------------------------------------------
// Parser (XPath 2.0 §A.1 EBNF)

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    sc: &'a StaticContext,
}

/// Parses and compiles one expression.
pub fn parse(src: &str, sc: &StaticContext) -> Result<Expr, CompileError> {
    let toks = lex(src)?;
    let mut p = Parser { toks, pos: 0, sc };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        return err(format!(
            "unexpected {} after a complete expression",
            p.describe()
        ));
    }
    Ok(e)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n)
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "end of expression".to_string(),
            Some(Tok::Name(n)) => format!("`{n}`"),
            Some(Tok::Sym(s)) => format!("`{s}`"),
            Some(Tok::Str(s)) => format!("string '{s}'"),
            Some(Tok::Int(n)) => format!("number {n}"),
            Some(Tok::Dbl(n)) => format!("number {n}"),
            Some(Tok::Var(v)) => format!("`${v}`"),
            Some(Tok::NsWild(p)) => format!("`{p}:*`"),
            Some(Tok::LocalWild(l)) => format!("`*:{l}`"),
        }
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    fn is_name(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(x)) if x == s)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_name(&mut self, s: &str) -> bool {
        if self.is_name(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), CompileError> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            err(format!("expected `{s}`, found {}", self.describe()))
        }
    }

    fn expr(&mut self) -> Result<Expr, CompileError> {
        let first = self.expr_single()?;
        if !self.is_sym(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_sym(",") {
            items.push(self.expr_single()?);
        }
        Ok(Expr::Sequence(items))
    }

    fn var_binding(&mut self) -> Result<(String, Expr), CompileError> {
        let name = match self.peek() {
            Some(Tok::Var(v)) => v.clone(),
            _ => return err(format!("expected a variable, found {}", self.describe())),
        };
        self.pos += 1;
        if !self.eat_name("in") {
            return err(format!("expected `in`, found {}", self.describe()));
        }
        let e = self.expr_single()?;
        Ok((name, e))
    }

    fn expr_single(&mut self) -> Result<Expr, CompileError> {
        let next_is_var = matches!(self.peek_at(1), Some(Tok::Var(_)));
        let next_is_paren = matches!(self.peek_at(1), Some(Tok::Sym("(")));
        if next_is_var && self.is_name("for") {
            self.pos += 1;
            let mut bindings = vec![self.var_binding()?];
            while self.eat_sym(",") {
                bindings.push(self.var_binding()?);
            }
            if !self.eat_name("return") {
                return err(format!("expected `return`, found {}", self.describe()));
            }
            let mut body = self.expr_single()?;
            for (v, e) in bindings.into_iter().rev() {
                body = Expr::For(v, Box::new(e), Box::new(body));
            }
            return Ok(body);
        }
        if next_is_var && (self.is_name("some") || self.is_name("every")) {
            let every = self.is_name("every");
            self.pos += 1;
            let mut bindings = vec![self.var_binding()?];
            while self.eat_sym(",") {
                bindings.push(self.var_binding()?);
            }
            if !self.eat_name("satisfies") {
                return err(format!("expected `satisfies`, found {}", self.describe()));
            }
            let satisfies = Box::new(self.expr_single()?);
            return Ok(Expr::Quantified {
                every,
                bindings,
                satisfies,
            });
        }
        if next_is_paren && self.is_name("if") {
            self.pos += 2;
            let c = self.expr()?;
            self.expect_sym(")")?;
            if !self.eat_name("then") {
                return err(format!("expected `then`, found {}", self.describe()));
            }
            let t = self.expr_single()?;
            if !self.eat_name("else") {
                return err(format!("expected `else`, found {}", self.describe()));
            }
            let e = self.expr_single()?;
            return Ok(Expr::If(Box::new(c), Box::new(t), Box::new(e)));
        }
        self.or_expr()
    }

    fn or_expr(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.and_expr()?;
        while self.eat_name("or") {
            let r = self.and_expr()?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and_expr(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.comparison()?;
        while self.eat_name("and") {
            let r = self.comparison()?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn comparison(&mut self) -> Result<Expr, CompileError> {
        let l = self.concat_expr()?;
        enum K {
            G(CmpOp),
            V(CmpOp),
            N(NodeCmpOp),
        }
        let k = match self.peek() {
            Some(Tok::Sym("=")) => K::G(CmpOp::Eq),
            Some(Tok::Sym("!=")) => K::G(CmpOp::Ne),
            Some(Tok::Sym("<")) => K::G(CmpOp::Lt),
            Some(Tok::Sym("<=")) => K::G(CmpOp::Le),
            Some(Tok::Sym(">")) => K::G(CmpOp::Gt),
            Some(Tok::Sym(">=")) => K::G(CmpOp::Ge),
            Some(Tok::Sym("<<")) => K::N(NodeCmpOp::Before),
            Some(Tok::Sym(">>")) => K::N(NodeCmpOp::After),
            Some(Tok::Name(n)) => match n.as_str() {
                "eq" => K::V(CmpOp::Eq),
                "ne" => K::V(CmpOp::Ne),
                "lt" => K::V(CmpOp::Lt),
                "le" => K::V(CmpOp::Le),
                "gt" => K::V(CmpOp::Gt),
                "ge" => K::V(CmpOp::Ge),
                "is" => K::N(NodeCmpOp::Is),
                _ => return Ok(l),
            },
            _ => return Ok(l),
        };
        self.pos += 1;
        let r = Box::new(self.concat_expr()?);
        let l = Box::new(l);
        Ok(match k {
            K::G(op) => Expr::General(op, l, r),
            K::V(op) => Expr::Value(op, l, r),
            K::N(op) => Expr::NodeCmp(op, l, r),
        })
    }

    fn concat_expr(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.range_expr()?;
        while self.eat_sym("||") {
            let r = self.range_expr()?;
            l = Expr::Concat(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn range_expr(&mut self) -> Result<Expr, CompileError> {
        let l = self.additive()?;
        if self.eat_name("to") {
            let r = self.additive()?;
            return Ok(Expr::Range(Box::new(l), Box::new(r)));
        }
        Ok(l)
    }

    fn additive(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+") {
                ArithOp::Add
            } else if self.eat_sym("-") {
                ArithOp::Sub
            } else {
                return Ok(l);
            };
            let r = self.multiplicative()?;
            l = Expr::Arith(op, Box::new(l), Box::new(r));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.union_expr()?;
        loop {
            let op = if self.eat_sym("*") {
                ArithOp::Mul
            } else if self.eat_name("div") {
                ArithOp::Div
            } else if self.eat_name("idiv") {
                ArithOp::IDiv
            } else if self.eat_name("mod") {
                ArithOp::Mod
            } else {
                return Ok(l);
            };
            let r = self.union_expr()?;
            l = Expr::Arith(op, Box::new(l), Box::new(r));
        }
    }

    fn union_expr(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.intersect_expr()?;
        while self.eat_sym("|") || self.eat_name("union") {
            let r = self.intersect_expr()?;
            l = Expr::Set(SetOp::Union, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn intersect_expr(&mut self) -> Result<Expr, CompileError> {
        let mut l = self.cast_expr()?;
        loop {
            let op = if self.eat_name("intersect") {
                SetOp::Intersect
            } else if self.eat_name("except") {
                SetOp::Except
            } else {
                return Ok(l);
            };
            let r = self.cast_expr()?;
            l = Expr::Set(op, Box::new(l), Box::new(r));
        }
    }

    fn single_type(&mut self) -> Result<(AtomicType, bool), CompileError> {
        let name = match self.peek() {
            Some(Tok::Name(n)) => n.clone(),
            _ => return err(format!("expected a type name, found {}", self.describe())),
        };
        self.pos += 1;
        let t = self.atomic_type(&name)?;
        let optional = self.eat_sym("?");
        Ok((t, optional))
    }

    fn atomic_type(&self, qname: &str) -> Result<AtomicType, CompileError> {
        let Some((prefix, local)) = qname.split_once(':') else {
            return err(format!("unknown type `{qname}`"));
        };
        if self.sc.namespaces.get(prefix).map(String::as_str) != Some(NS_XS) {
            return err(format!("unknown type `{qname}`"));
        }
        match AtomicType::from_local(local) {
            Some(t) => Ok(t),
            None => err(format!("type `{qname}` is not supported")),
        }
    }

    fn cast_expr(&mut self) -> Result<Expr, CompileError> {
        let e = self.unary()?;
        let castable = if self.is_name("castable") {
            true
        } else if self.is_name("cast") {
            false
        } else {
            if self.is_name("instance") || self.is_name("treat") {
                return err(format!(
                    "`{}` expressions are not supported",
                    self.describe()
                ));
            }
            return Ok(e);
        };
        if !matches!(self.peek_at(1), Some(Tok::Name(n)) if n == "as") {
            return Ok(e);
        }
        self.pos += 2;
        let (to, optional) = self.single_type()?;
        Ok(Expr::Cast {
            expr: Box::new(e),
            to,
            optional,
            castable,
        })
    }

    fn unary(&mut self) -> Result<Expr, CompileError> {
        if self.eat_sym("-") {
            let e = self.unary()?;
            return Ok(Expr::Neg(Box::new(e)));
        }
        if self.eat_sym("+") {
            return self.unary();
        }
        self.path_expr()
    }

    /// Can the current token start a step (after a leading `/`)?
    fn starts_step(&self) -> bool {
        match self.peek() {
            Some(Tok::Name(_) | Tok::NsWild(_) | Tok::LocalWild(_) | Tok::Var(_)) => true,
            Some(Tok::Str(_) | Tok::Int(_) | Tok::Dbl(_)) => true,
            Some(Tok::Sym(s)) => matches!(*s, "*" | "@" | "." | ".." | "("),
            None => false,
        }
    }

    fn path_expr(&mut self) -> Result<Expr, CompileError> {
        let mut steps = Vec::new();
        let rooted;
        if self.eat_sym("/") {
            rooted = true;
            if !self.starts_step() {
                return Ok(Expr::Path {
                    rooted: true,
                    steps,
                });
            }
        } else if self.eat_sym("//") {
            rooted = true;
            steps.push(descendant_or_self_node());
        } else {
            rooted = false;
        }
        steps.push(self.step_expr()?);
        loop {
            if self.eat_sym("/") {
                steps.push(self.step_expr()?);
            } else if self.eat_sym("//") {
                steps.push(descendant_or_self_node());
                steps.push(self.step_expr()?);
            } else {
                break;
            }
        }
        if !rooted
            && steps.len() == 1
            && let Some(only) = steps.pop()
        {
            return Ok(only);
        }
        Ok(Expr::Path {
            rooted,
            steps: optimise_steps(steps),
        })
    }

    fn predicates(&mut self) -> Result<Vec<Expr>, CompileError> {
        let mut preds = Vec::new();
        while self.eat_sym("[") {
            preds.push(self.expr()?);
            self.expect_sym("]")?;
        }
        Ok(preds)
    }

    fn step_expr(&mut self) -> Result<Expr, CompileError> {
        // abbreviated steps
        if self.eat_sym("..") {
            let preds = self.predicates()?;
            return Ok(Expr::Step {
                axis: Axis::Parent,
                test: NodeTest::Node,
                preds,
            });
        }
        if self.eat_sym("@") {
            let test = self.node_test(Axis::Attribute)?;
            let preds = self.predicates()?;
            return Ok(Expr::Step {
                axis: Axis::Attribute,
                test,
                preds,
            });
        }
        // explicit axis
        if let (Some(Tok::Name(n)), Some(Tok::Sym("::"))) = (self.peek(), self.peek_at(1)) {
            let Some(axis) = Axis::from_name(n) else {
                return err(format!("axis `{n}` is not supported"));
            };
            self.pos += 2;
            let test = self.node_test(axis)?;
            let preds = self.predicates()?;
            return Ok(Expr::Step { axis, test, preds });
        }
        // filter expression (primary) or a child step
        let is_primary = match self.peek() {
            Some(Tok::Str(_) | Tok::Int(_) | Tok::Dbl(_) | Tok::Var(_)) => true,
            Some(Tok::Sym("(" | ".")) => true,
            Some(Tok::Name(n)) => {
                matches!(self.peek_at(1), Some(Tok::Sym("(")))
                    && !matches!(
                        n.as_str(),
                        "node"
                            | "text"
                            | "comment"
                            | "processing-instruction"
                            | "element"
                            | "attribute"
                            | "document-node"
                    )
            }
            _ => false,
        };
        if is_primary {
            let p = self.primary()?;
            let preds = self.predicates()?;
            if preds.is_empty() {
                return Ok(p);
            }
            return Ok(Expr::Filter(Box::new(p), preds));
        }
        let test = self.node_test(Axis::Child)?;
        let axis = if matches!(test, NodeTest::AttributeKind) {
            Axis::Attribute
        } else {
            Axis::Child
        };
        let preds = self.predicates()?;
        Ok(Expr::Step { axis, test, preds })
    }

    fn node_test(&mut self, axis: Axis) -> Result<NodeTest, CompileError> {
        let tok = self.peek().cloned();
        match tok {
            Some(Tok::Sym("*")) => {
                self.pos += 1;
                Ok(NodeTest::Any)
            }
            Some(Tok::NsWild(p)) => {
                self.pos += 1;
                let ns = self.resolve_prefix(&p)?;
                Ok(NodeTest::AnyLocal { ns })
            }
            Some(Tok::LocalWild(l)) => {
                self.pos += 1;
                Ok(NodeTest::AnyNs { local: l })
            }
            Some(Tok::Name(n)) => {
                self.pos += 1;
                if self.is_sym("(") {
                    let kind = match n.as_str() {
                        "node" => NodeTest::Node,
                        "text" => NodeTest::Text,
                        "comment" => NodeTest::Comment,
                        "processing-instruction" => NodeTest::Pi,
                        "element" => NodeTest::Element,
                        "attribute" => NodeTest::AttributeKind,
                        "document-node" => NodeTest::Document,
                        _ => return err(format!("`{n}()` is not a node test")),
                    };
                    self.pos += 1;
                    if !self.eat_sym(")") {
                        return err(format!("arguments of `{n}()` are not supported"));
                    }
                    return Ok(kind);
                }
                let _ = axis;
                match n.split_once(':') {
                    Some((p, local)) => Ok(NodeTest::Name {
                        ns: Some(self.resolve_prefix(p)?),
                        local: local.to_string(),
                    }),
                    None => Ok(NodeTest::Name { ns: None, local: n }),
                }
            }
            _ => err(format!("expected a node test, found {}", self.describe())),
        }
    }

    fn resolve_prefix(&self, p: &str) -> Result<String, CompileError> {
        match self.sc.namespaces.get(p) {
            Some(u) => Ok(u.clone()),
            None => err(format!("namespace prefix `{p}` is not declared (sch:ns)")),
        }
    }

    fn primary(&mut self) -> Result<Expr, CompileError> {
        let tok = self.peek().cloned();
        match tok {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::StringLit(s))
            }
            Some(Tok::Int(n)) => {
                self.pos += 1;
                Ok(Expr::IntegerLit(n))
            }
            Some(Tok::Dbl(n)) => {
                self.pos += 1;
                Ok(Expr::DoubleLit(n))
            }
            Some(Tok::Var(v)) => {
                self.pos += 1;
                Ok(Expr::Var(v))
            }
            Some(Tok::Sym(".")) => {
                self.pos += 1;
                Ok(Expr::ContextItem)
            }
            Some(Tok::Sym("(")) => {
                self.pos += 1;
                if self.eat_sym(")") {
                    return Ok(Expr::Sequence(Vec::new()));
                }
                let e = self.expr()?;
                self.expect_sym(")")?;
                // keep parenthesised sequences distinct from a path step for predicates
                Ok(match e {
                    Expr::Sequence(v) => Expr::Sequence(v),
                    other => Expr::Sequence(vec![other]),
                })
            }
            Some(Tok::Name(n)) => {
                self.pos += 1;
                self.expect_sym("(")?;
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    args.push(self.expr_single()?);
                    while self.eat_sym(",") {
                        args.push(self.expr_single()?);
                    }
                    self.expect_sym(")")?;
                }
                let f = self.function(&n, args.len())?;
                Ok(Expr::Call(f, args))
            }
            _ => err(format!("unexpected {}", self.describe())),
        }
    }

    fn function(&self, qname: &str, arity: usize) -> Result<Func, CompileError> {
        let local = match qname.split_once(':') {
            Some((p, local)) => {
                let uri = self.resolve_prefix(p)?;
                if uri == NS_XS {
                    if arity != 1 {
                        return err(format!("{qname}() takes one argument"));
                    }
                    return match AtomicType::from_local(local) {
                        Some(t) => Ok(Func::Construct(t)),
                        None => err(format!("constructor `{qname}()` is not supported")),
                    };
                }
                if uri != NS_FN {
                    return err(format!("function `{qname}()` is not supported"));
                }
                local
            }
            None => qname,
        };
        let Some(info) = FUNCS.iter().find(|i| i.name == local) else {
            return err(format!("function `{qname}()` is not supported"));
        };
        if arity < info.min || arity > info.max {
            return err(format!("`{qname}()` does not take {arity} argument(s)"));
        }
        Ok(info.f)
    }
}

fn descendant_or_self_node() -> Expr {
    Expr::Step {
        axis: Axis::DescendantOrSelf,
        test: NodeTest::Node,
        preds: Vec::new(),
    }
}

/// Could this predicate's value be a number (making it positional, §3.2.2)? Conservative.
pub fn may_be_positional(e: &Expr) -> bool {
    match e {
        Expr::IntegerLit(_) | Expr::DoubleLit(_) | Expr::Var(_) | Expr::Arith(..) => true,
        Expr::Neg(_) | Expr::Range(..) | Expr::ContextItem | Expr::Filter(..) => true,
        Expr::Sequence(v) => v.iter().any(may_be_positional),
        Expr::If(_, t, e) => may_be_positional(t) || may_be_positional(e),
        Expr::Cached(_, inner) => may_be_positional(inner),
        Expr::For(..) | Expr::Cast { .. } => true,
        Expr::Call(f, _) => matches!(
            f,
            Func::Count
                | Func::Last
                | Func::Position
                | Func::Number
                | Func::Sum
                | Func::Floor
                | Func::Ceiling
                | Func::Round
                | Func::Abs
                | Func::StringLength
                | Func::Data
                | Func::Reverse
                | Func::DistinctValues
                | Func::Construct(_)
        ),
        _ => uses_focus_size(e),
    }
}

/// Does the expression call `position()` or `last()` outside nested predicates/steps?
fn uses_focus_size(e: &Expr) -> bool {
    let mut found = false;
    walk_shallow(e, &mut |x| {
        if matches!(x, Expr::Call(Func::Position | Func::Last, _)) {
            found = true;
        }
    });
    found
}

/// Visits `e` and its sub-expressions that share its focus (not predicates, not later steps).
fn walk_shallow(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Path { steps, .. } => {
            if let Some(first) = steps.first() {
                walk_shallow(first, f);
            }
        }
        Expr::Step { .. } => {}
        Expr::Filter(b, _) => walk_shallow(b, f),
        _ => for_children(e, &mut |c| walk_shallow(c, f)),
    }
}

/// Calls `f` on each direct sub-expression.
pub fn for_children(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match e {
        Expr::StringLit(_)
        | Expr::IntegerLit(_)
        | Expr::DoubleLit(_)
        | Expr::Var(_)
        | Expr::ContextItem => {}
        Expr::Path { steps, .. } => steps.iter().for_each(f),
        Expr::Step { preds, .. } => preds.iter().for_each(f),
        Expr::Filter(b, preds) => {
            f(b);
            preds.iter().for_each(f);
        }
        Expr::Sequence(v) | Expr::Call(_, v) => v.iter().for_each(f),
        Expr::Range(a, b)
        | Expr::Or(a, b)
        | Expr::And(a, b)
        | Expr::General(_, a, b)
        | Expr::Value(_, a, b)
        | Expr::NodeCmp(_, a, b)
        | Expr::Arith(_, a, b)
        | Expr::Set(_, a, b)
        | Expr::Concat(a, b)
        | Expr::For(_, a, b) => {
            f(a);
            f(b);
        }
        Expr::Neg(a) | Expr::Cast { expr: a, .. } | Expr::Cached(_, a) => f(a),
        Expr::KeyLookup {
            key,
            filters,
            fallback,
            ..
        } => {
            f(key);
            filters.iter().for_each(&mut *f);
            f(fallback);
        }
        Expr::Quantified {
            bindings,
            satisfies,
            ..
        } => {
            for (_, b) in bindings {
                f(b);
            }
            f(satisfies);
        }
        Expr::If(a, b, c) => {
            f(a);
            f(b);
            f(c);
        }
    }
}

/// `descendant-or-self::node()/child::x[p]` → `descendant::x[p]` when no predicate is
/// positional (the two are equivalent then; §3.2.4 note).
fn optimise_steps(steps: Vec<Expr>) -> Vec<Expr> {
    let mut out: Vec<Expr> = Vec::with_capacity(steps.len());
    for s in steps {
        if let Expr::Step {
            axis: Axis::Child,
            test,
            preds,
        } = &s
            && matches!(
                out.last(),
                Some(Expr::Step {
                    axis: Axis::DescendantOrSelf,
                    test: NodeTest::Node,
                    preds: p0
                }) if p0.is_empty()
            )
            && !preds.iter().any(may_be_positional)
        {
            out.pop();
            out.push(Expr::Step {
                axis: Axis::Descendant,
                test: test.clone(),
                preds: preds.clone(),
            });
            continue;
        }
        out.push(s);
    }
    out
}

/// Does the value of `e` depend on anything but the document (context item, variables,
/// `current()`, focus)? Used to memoise absolute paths per document.
fn is_context_free(e: &Expr) -> bool {
    fn walk(e: &Expr, ok: &mut bool) {
        match e {
            Expr::Var(_) | Expr::Call(Func::Current, _) | Expr::Call(Func::CurrentDate, _) => {
                *ok = false
            }
            _ => for_children(e, &mut |c| walk(c, ok)),
        }
    }
    let mut ok = true;
    walk(e, &mut ok);
    ok
}

/// Is the value of `e` the same wherever it is evaluated in one document? True for literals,
/// context-free absolute paths, and operators and functions over such values only.
fn is_doc_constant(e: &Expr) -> bool {
    match e {
        Expr::StringLit(_) | Expr::IntegerLit(_) | Expr::DoubleLit(_) => true,
        Expr::Var(_) | Expr::ContextItem | Expr::Step { .. } => false,
        Expr::Path { rooted, steps } => *rooted && !steps.is_empty() && is_context_free(e),
        Expr::Filter(b, preds) => is_doc_constant(b) && preds.iter().all(is_context_free),
        Expr::For(..) | Expr::Quantified { .. } => false,
        Expr::Call(f, args) => {
            let focus_default = args.is_empty()
                && matches!(
                    f,
                    Func::String
                        | Func::Number
                        | Func::StringLength
                        | Func::NormalizeSpace
                        | Func::Name
                        | Func::LocalName
                        | Func::NamespaceUri
                        | Func::GenerateId
                        | Func::Root
                );
            !focus_default
                && !matches!(
                    f,
                    Func::Position | Func::Last | Func::Current | Func::CurrentDate
                )
                && args.iter().all(is_doc_constant)
        }
        _ => {
            let mut ok = true;
            for_children(e, &mut |c| ok &= is_doc_constant(c));
            ok
        }
    }
}

fn has_rooted_path(e: &Expr) -> bool {
    if matches!(e, Expr::Path { rooted: true, .. }) {
        return true;
    }
    let mut found = false;
    for_children(e, &mut |c| found |= has_rooted_path(c));
    found
}

/// Wraps every maximal document-constant sub-expression that reads the document (through an
/// absolute path) in `Cached`, numbering slots from `next`: such values are computed once per
/// document, which keeps rules like `count(//a) le count(//b)` linear.
pub fn memoise(e: Expr, next: &mut usize) -> Expr {
    if has_rooted_path(&e) && is_doc_constant(&e) {
        let slot = *next;
        *next += 1;
        return Expr::Cached(slot, Box::new(e));
    }
    map_children(e, &mut |c| memoise(c, next))
}

/// Does `e` give the same value for every focus (it may still use variables and `current()`)?
fn is_focus_free(e: &Expr) -> bool {
    match e {
        Expr::ContextItem | Expr::Step { .. } => false,
        // later steps are evaluated with their own focus: only the start matters
        Expr::Path { rooted, steps } => *rooted || steps.first().is_some_and(is_focus_free),
        Expr::Filter(b, _) => is_focus_free(b),
        Expr::Call(Func::Position | Func::Last, _) => false,
        Expr::Call(f, args) if args.is_empty() => !matches!(
            f,
            Func::String
                | Func::Number
                | Func::StringLength
                | Func::NormalizeSpace
                | Func::Name
                | Func::LocalName
                | Func::NamespaceUri
                | Func::GenerateId
                | Func::Root
        ),
        _ => {
            let mut ok = true;
            for_children(e, &mut |c| ok &= is_focus_free(c));
            ok
        }
    }
}

/// `@attr = key` (either way round) with a focus-free key, directly or as a conjunct of `and`.
fn key_equality(e: &Expr) -> Option<((Option<String>, String), Expr)> {
    let attr_of = |x: &Expr| match x {
        Expr::Step {
            axis: Axis::Attribute,
            test: NodeTest::Name { ns, local },
            preds,
        } if preds.is_empty() => Some((ns.clone(), local.clone())),
        _ => None,
    };
    match e {
        // `eq` needs one key value: the lookup checks that at run time (else it falls back)
        Expr::General(CmpOp::Eq, a, b) | Expr::Value(CmpOp::Eq, a, b) => {
            match (attr_of(a), attr_of(b)) {
                (Some(at), _) if is_focus_free(b) => Some((at, b.as_ref().clone())),
                (_, Some(at)) if is_focus_free(a) => Some((at, a.as_ref().clone())),
                _ => None,
            }
        }
        Expr::And(a, b) => key_equality(a).or_else(|| key_equality(b)),
        _ => None,
    }
}

/// Rewrites `//test[@attr = key]...` (also `key = @attr`, or the equality as a conjunct of the
/// first predicate, with further predicates and steps after it) into [`Expr::KeyLookup`] when
/// `key` does not depend on the predicate's focus: key-like lookups such as
/// `//tei:*[@xml:id = substring-after(current()/@ref, '#')]` then cost one index probe instead
/// of a scan of the document per evaluation.
pub fn index_lookups(e: Expr, next: &mut usize) -> Expr {
    let e = map_children(e, &mut |c| index_lookups(c, next));
    let Expr::Path {
        rooted: true,
        steps,
    } = &e
    else {
        return e;
    };
    let Some((first, rest_steps)) = steps.split_first() else {
        return e;
    };
    let Expr::Step {
        axis: Axis::Descendant,
        test,
        preds,
    } = first
    else {
        return e;
    };
    let Some(p0) = preds.first() else {
        return e;
    };
    if may_be_positional(p0)
        || !matches!(
            test,
            NodeTest::Name { .. }
                | NodeTest::Any
                | NodeTest::AnyLocal { .. }
                | NodeTest::AnyNs { .. }
        )
    {
        return e;
    }
    let Some(((attr_ns, attr_local), key)) = key_equality(p0) else {
        return e;
    };
    // an exact `@attr = key` is answered by the index; a conjunct is re-checked as a filter
    let single_key = matches!(p0, Expr::Value(..));
    let filters: Vec<Expr> = if matches!(p0, Expr::General(..) | Expr::Value(..)) {
        preds.get(1..).unwrap_or(&[]).to_vec()
    } else {
        preds.clone()
    };
    let slot = *next;
    *next += 1;
    let lookup = Expr::KeyLookup {
        slot,
        test: test.clone(),
        attr_ns,
        attr_local,
        key: Box::new(key),
        single_key,
        filters,
        fallback: Box::new(Expr::Path {
            rooted: true,
            steps: vec![first.clone()],
        }),
    };
    if rest_steps.is_empty() {
        return lookup;
    }
    let mut steps = vec![lookup];
    steps.extend(rest_steps.iter().cloned());
    Expr::Path {
        rooted: false,
        steps,
    }
}

/// [`memoise`] for a rule-context pattern: the pattern's own structure (unions, parentheses,
/// steps) stays matchable; only expressions inside its predicates are memoised.
pub fn memoise_pattern(e: Expr, next: &mut usize) -> Expr {
    match e {
        Expr::Set(SetOp::Union, a, b) => {
            let a = memoise_pattern(*a, next);
            let b = memoise_pattern(*b, next);
            Expr::Set(SetOp::Union, Box::new(a), Box::new(b))
        }
        Expr::Sequence(v) => {
            Expr::Sequence(v.into_iter().map(|x| memoise_pattern(x, next)).collect())
        }
        Expr::Filter(b, preds) => {
            let b = memoise_pattern(*b, next);
            Expr::Filter(
                Box::new(b),
                preds.into_iter().map(|p| memoise(p, next)).collect(),
            )
        }
        Expr::Path { rooted, steps } => Expr::Path {
            rooted,
            steps: steps
                .into_iter()
                .map(|x| memoise_pattern(x, next))
                .collect(),
        },
        Expr::Step { axis, test, preds } => Expr::Step {
            axis,
            test,
            preds: preds.into_iter().map(|p| memoise(p, next)).collect(),
        },
        other => memoise(other, next),
    }
}

fn map_children(e: Expr, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
    let b = |x: Box<Expr>, f: &mut dyn FnMut(Expr) -> Expr| Box::new(f(*x));
    match e {
        Expr::Path { rooted, steps } => Expr::Path {
            rooted,
            steps: steps.into_iter().map(&mut *f).collect(),
        },
        Expr::Step { axis, test, preds } => Expr::Step {
            axis,
            test,
            preds: preds.into_iter().map(&mut *f).collect(),
        },
        Expr::Filter(x, preds) => {
            let x = b(x, f);
            Expr::Filter(x, preds.into_iter().map(&mut *f).collect())
        }
        Expr::Sequence(v) => Expr::Sequence(v.into_iter().map(&mut *f).collect()),
        Expr::Call(func, v) => Expr::Call(func, v.into_iter().map(&mut *f).collect()),
        Expr::Range(x, y) => {
            let x = b(x, f);
            Expr::Range(x, b(y, f))
        }
        Expr::Or(x, y) => {
            let x = b(x, f);
            Expr::Or(x, b(y, f))
        }
        Expr::And(x, y) => {
            let x = b(x, f);
            Expr::And(x, b(y, f))
        }
        Expr::General(o, x, y) => {
            let x = b(x, f);
            Expr::General(o, x, b(y, f))
        }
        Expr::Value(o, x, y) => {
            let x = b(x, f);
            Expr::Value(o, x, b(y, f))
        }
        Expr::NodeCmp(o, x, y) => {
            let x = b(x, f);
            Expr::NodeCmp(o, x, b(y, f))
        }
        Expr::Arith(o, x, y) => {
            let x = b(x, f);
            Expr::Arith(o, x, b(y, f))
        }
        Expr::Set(o, x, y) => {
            let x = b(x, f);
            Expr::Set(o, x, b(y, f))
        }
        Expr::Concat(x, y) => {
            let x = b(x, f);
            Expr::Concat(x, b(y, f))
        }
        Expr::For(v, x, y) => {
            let x = b(x, f);
            Expr::For(v, x, b(y, f))
        }
        Expr::Neg(x) => Expr::Neg(b(x, f)),
        Expr::Cast {
            expr,
            to,
            optional,
            castable,
        } => Expr::Cast {
            expr: b(expr, f),
            to,
            optional,
            castable,
        },
        Expr::Cached(n, x) => Expr::Cached(n, b(x, f)),
        Expr::KeyLookup {
            slot,
            test,
            attr_ns,
            attr_local,
            key,
            single_key,
            filters,
            fallback,
        } => {
            let key = b(key, f);
            let filters = filters.into_iter().map(&mut *f).collect();
            Expr::KeyLookup {
                slot,
                test,
                attr_ns,
                attr_local,
                key,
                single_key,
                filters,
                fallback: b(fallback, f),
            }
        }
        Expr::Quantified {
            every,
            bindings,
            satisfies,
        } => Expr::Quantified {
            every,
            bindings: bindings.into_iter().map(|(v, x)| (v, f(x))).collect(),
            satisfies: b(satisfies, f),
        },
        Expr::If(x, y, z) => {
            let x = b(x, f);
            let y = b(y, f);
            Expr::If(x, y, b(z, f))
        }
        other => other,
    }
}

/// The names of the constructs an expression uses, for the constructs table
/// (`schemas/xpath-constructs.md`): axes, node tests, operators, functions.
pub fn constructs(e: &Expr, out: &mut std::collections::BTreeSet<String>) {
    let name = match e {
        Expr::StringLit(_) => "string literal".to_string(),
        Expr::IntegerLit(_) | Expr::DoubleLit(_) => "numeric literal".to_string(),
        Expr::Var(_) => "variable reference".to_string(),
        Expr::ContextItem => "context item `.`".to_string(),
        Expr::Path { rooted, .. } => {
            if *rooted {
                "absolute path `/`".to_string()
            } else {
                "path `/`".to_string()
            }
        }
        Expr::Step { axis, test, .. } => {
            out.insert(format!("axis {}::", axis.name()));
            let t = match test {
                NodeTest::Name { .. } => "name test",
                NodeTest::Any => "wildcard `*`",
                NodeTest::AnyLocal { .. } => "wildcard `p:*`",
                NodeTest::AnyNs { .. } => "wildcard `*:name`",
                NodeTest::Node => "node()",
                NodeTest::Text => "text()",
                NodeTest::Comment => "comment()",
                NodeTest::Pi => "processing-instruction()",
                NodeTest::Element => "element()",
                NodeTest::AttributeKind => "attribute()",
                NodeTest::Document => "document-node()",
            };
            if let Expr::Step { preds, .. } = e
                && !preds.is_empty()
            {
                out.insert("predicate `[ ]`".to_string());
            }
            t.to_string()
        }
        Expr::Filter(..) => "filter expression `(E)[ ]`".to_string(),
        Expr::Sequence(v) => {
            if v.len() == 1 {
                "parentheses `( )`".to_string()
            } else {
                "sequence `( , )`".to_string()
            }
        }
        Expr::Range(..) => "range `to`".to_string(),
        Expr::Or(..) => "`or`".to_string(),
        Expr::And(..) => "`and`".to_string(),
        Expr::General(op, ..) => format!(
            "general comparison `{}`",
            match op {
                CmpOp::Eq => "=",
                CmpOp::Ne => "!=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            }
        ),
        Expr::Value(op, ..) => format!(
            "value comparison `{}`",
            match op {
                CmpOp::Eq => "eq",
                CmpOp::Ne => "ne",
                CmpOp::Lt => "lt",
                CmpOp::Le => "le",
                CmpOp::Gt => "gt",
                CmpOp::Ge => "ge",
            }
        ),
        Expr::NodeCmp(op, ..) => format!(
            "node comparison `{}`",
            match op {
                NodeCmpOp::Is => "is",
                NodeCmpOp::Before => "<<",
                NodeCmpOp::After => ">>",
            }
        ),
        Expr::Arith(op, ..) => format!(
            "arithmetic `{}`",
            match op {
                ArithOp::Add => "+",
                ArithOp::Sub => "-",
                ArithOp::Mul => "*",
                ArithOp::Div => "div",
                ArithOp::IDiv => "idiv",
                ArithOp::Mod => "mod",
            }
        ),
        Expr::Neg(_) => "unary `-`".to_string(),
        Expr::Set(op, ..) => match op {
            SetOp::Union => "union `|`".to_string(),
            SetOp::Intersect => "`intersect`".to_string(),
            SetOp::Except => "`except`".to_string(),
        },
        Expr::Concat(..) => "string concatenation `||`".to_string(),
        Expr::For(..) => "`for ... return`".to_string(),
        Expr::Quantified { every, .. } => {
            if *every {
                "`every ... satisfies`".to_string()
            } else {
                "`some ... satisfies`".to_string()
            }
        }
        Expr::If(..) => "`if ... then ... else`".to_string(),
        Expr::Call(f, _) => format!("{}()", f.name()),
        Expr::Cast {
            to, castable: c, ..
        } => {
            if *c {
                format!("`castable as {}`", to.name())
            } else {
                format!("`cast as {}`", to.name())
            }
        }
        Expr::Cached(..) | Expr::KeyLookup { .. } => String::new(),
    };
    if !name.is_empty() {
        out.insert(name);
    }
    for_children(e, &mut |c| constructs(c, out));
}

/// Every construct name the engine supports, for checking the constructs table: each function
/// (at its smallest arity), constructor, cast, axis, node test and operator.
pub fn all_supported_constructs() -> std::collections::BTreeSet<String> {
    let sc = StaticContext::new();
    let mut out = std::collections::BTreeSet::new();
    for s in construct_examples() {
        if let Ok(e) = parse(&s, &sc) {
            constructs(&e, &mut out);
        }
    }
    out
}

/// One small expression per supported construct.
fn construct_examples() -> Vec<String> {
    let mut srcs: Vec<String> = Vec::new();
    for f in FUNCS {
        let args = vec!["'1'"; f.min].join(", ");
        srcs.push(format!("{}({args})", f.name));
    }
    for t in [
        "string",
        "integer",
        "decimal",
        "double",
        "float",
        "boolean",
        "date",
        "dayTimeDuration",
        "untypedAtomic",
    ] {
        srcs.push(format!("xs:{t}('1')"));
        srcs.push(format!("'1' cast as xs:{t}"));
        srcs.push(format!("'1' castable as xs:{t}"));
    }
    for a in [
        "child",
        "descendant",
        "descendant-or-self",
        "self",
        "parent",
        "ancestor",
        "ancestor-or-self",
        "following-sibling",
        "preceding-sibling",
        "following",
        "preceding",
        "attribute",
    ] {
        srcs.push(format!("{a}::node()"));
    }
    srcs.extend(
        [
            "x",
            "*",
            "xs:*",
            "*:x",
            "node()",
            "text()",
            "comment()",
            "processing-instruction()",
            "element()",
            "attribute()",
            "document-node()",
            "/",
            "/x",
            "a/b",
            "x[1]",
            "(1)[1]",
            "(1, 2)",
            "(1)",
            "1 to 2",
            "1 or 2",
            "1 and 2",
            "1 = 2",
            "1 != 2",
            "1 < 2",
            "1 <= 2",
            "1 > 2",
            "1 >= 2",
            "1 eq 2",
            "1 ne 2",
            "1 lt 2",
            "1 le 2",
            "1 gt 2",
            "1 ge 2",
            ". is .",
            ". << .",
            ". >> .",
            "1 + 2",
            "1 - 2",
            "1 * 2",
            "1 div 2",
            "1 idiv 2",
            "1 mod 2",
            "-1",
            "x | y",
            "x intersect y",
            "x except y",
            "'a' || 'b'",
            "for $i in 1 return $i",
            "some $i in 1 satisfies $i",
            "every $i in 1 satisfies $i",
            "if (1) then 2 else 3",
            "1.5",
            ".",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    srcs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc() -> StaticContext {
        let mut s = StaticContext::new();
        s.namespaces
            .insert("tei".into(), "http://www.tei-c.org/ns/1.0".into());
        s
    }

    #[test]
    fn parses_the_hard_cases() {
        for src in [
            "tei:*[ starts-with( @spanTo, '#') ]",
            "id( substring( @spanTo, 2 ) ) >> .",
            "@notBefore|@notAfter|@from|@to",
            "if ( normalize-space( @maxOccurs ) eq 'unbounded') then -1 else @maxOccurs cast as xs:integer",
            "child::* | (@* except (@mode, @ident))",
            "every $a in $x, $i in $y satisfies $a << $i",
            "for $a in $n return ( $n[ . eq $a ][2] )",
            "'Q{'||$ad/@ns||'}'||$ad/@ident",
            "/*[ count( //tei:constraintDecl ) gt 1 ]",
            "descendant::*:error",
            "(.//tei:pb)[1]",
            "text()[ancestor::tei:body]",
            "tei:correspAction[position() gt 1]/tei:date",
            "1 to count(x) - 1",
            "@minOccurs cast as xs:integer lt 2",
            "(: comment :) true()",
        ] {
            assert!(parse(src, &sc()).is_ok(), "{src}: {:?}", parse(src, &sc()));
        }
    }

    #[test]
    fn every_construct_example_compiles() {
        for src in construct_examples() {
            assert!(parse(&src, &StaticContext::new()).is_ok(), "{src}");
        }
        assert_eq!(all_supported_constructs().len(), 136);
    }

    #[test]
    fn rejects_outside_the_subset() {
        assert!(parse("foo:bar()", &sc()).is_err());
        assert!(parse("unknown-fn(1)", &sc()).is_err());
        assert!(parse("x instance of xs:string", &sc()).is_err());
        assert!(parse("a b", &sc()).is_err());
    }

    #[test]
    fn double_slash_becomes_descendant() {
        let e = parse("//tei:p", &sc()).unwrap();
        let Expr::Path { steps, .. } = e else {
            panic!()
        };
        assert_eq!(steps.len(), 1);
        let e = parse("//tei:p[1]", &sc()).unwrap();
        let Expr::Path { steps, .. } = e else {
            panic!()
        };
        assert_eq!(steps.len(), 2);
    }

    #[test]
    fn key_like_lookups_use_an_index() {
        let mut n = 0;
        let e = index_lookups(
            parse(
                "//tei:*[@xml:id = substring-after(current()/@ref, '#')]",
                &sc(),
            )
            .unwrap(),
            &mut n,
        );
        assert!(matches!(e, Expr::KeyLookup { .. }), "{e:?}");
        // the key depends on the predicate's focus: no index
        let e = index_lookups(parse("//tei:*[@xml:id = @corresp]", &sc()).unwrap(), &mut n);
        assert!(matches!(e, Expr::Path { rooted: true, .. }));
        // a conjunct, further predicates and steps
        let e = index_lookups(
            parse(
                "//tei:person[@n and @xml:id = $id][@sex]/tei:persName",
                &sc(),
            )
            .unwrap(),
            &mut n,
        );
        let Expr::Path {
            rooted: false,
            steps,
        } = e
        else {
            panic!("{e:?}")
        };
        assert!(matches!(&steps[0], Expr::KeyLookup { filters, .. } if filters.len() == 2));
    }

    #[test]
    fn memoises_absolute_paths_only() {
        let mut n = 0;
        let e = memoise(
            parse("count(//tei:a) = count(tei:b)", &sc()).unwrap(),
            &mut n,
        );
        assert_eq!(n, 1);
        assert!(matches!(e, Expr::General(..)));
        let mut n = 0;
        let e = memoise(
            parse("count(//tei:a) le count(//tei:b)", &sc()).unwrap(),
            &mut n,
        );
        assert_eq!(n, 1);
        assert!(matches!(e, Expr::Cached(..)));
        let mut n = 0;
        let _ = memoise(parse("//tei:a[@x = current()/@y]", &sc()).unwrap(), &mut n);
        assert_eq!(n, 0);
    }
}
