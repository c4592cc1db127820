//! Reading one pointer: what it addresses and how it resolves.
//!
//! Owns classifying a pointer token (RFC 3986 §4.1 URI reference) as a same-document fragment
//! (`#x`: resolved within the document whatever `xml:base` says, since a reference that is only
//! a fragment is a same-document reference, RFC 3986 §4.4), a private-scheme abbreviated pointer
//! (`prefix:x`, expanded through `prefixDef`'s `@matchPattern`/`@replacementPattern`, TEI
//! Guidelines 16.2.3 "Using Abbreviated Pointers"), a relative reference into another file
//! (`file.xml#x`, resolved against `xml:base` per XML Base §4.2 and RFC 3986 §5.2), or anything
//! else (absolute URIs, bare tokens), which integrity leaves alone. Also the "did you mean" search
//! (Levenshtein distance). Pure: no files, no diagnostics.

use std::borrow::Cow;

use regex::Regex;

/// What a pointer token addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// `#id` in this document.
    Local(Cow<'a, str>),
    /// `path#id` in another local document; `path` is relative to the document (after any
    /// relative `xml:base`) and percent-decoded.
    File {
        path: Cow<'a, str>,
        id: Cow<'a, str>,
    },
    /// `prefix:rest` with a prefix that is not a common URI scheme.
    Prefixed { prefix: &'a str, rest: &'a str },
    /// Not checked: an absolute URI, a bare token, a file without a fragment, an XPointer scheme.
    Other,
}

/// URI schemes in common use (IANA registry, permanent and well-known provisional ones) that a
/// TEI document may point to directly; a prefix among them is never read as a `prefixDef` gap.
const COMMON_SCHEMES: &[&str] = &[
    "about",
    "ark",
    "data",
    "doi",
    "file",
    "ftp",
    "ftps",
    "geo",
    "git",
    "hdl",
    "http",
    "https",
    "info",
    "irc",
    "isbn",
    "issn",
    "javascript",
    "ldap",
    "mailto",
    "news",
    "nntp",
    "sftp",
    "ssh",
    "tag",
    "tel",
    "urn",
    "xmpp",
];

fn scheme_of(token: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = token.split_once(':')?;
    let mut cs = scheme.chars();
    let ok = cs.next().is_some_and(|c| c.is_ascii_alphabetic())
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then_some((scheme, rest))
}

/// Percent-decodes a URI path (RFC 3986 §2.1); invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let Some(h) = b.get(i + 1..i + 3)
            && let Ok(hs) = std::str::from_utf8(h)
            && let Ok(v) = u8::from_str_radix(hs, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    Cow::Owned(String::from_utf8(out).unwrap_or_else(|_| s.to_string()))
}

/// Whether a prefix is a private one (declared or to be declared by `prefixDef`).
pub fn is_private_scheme(prefix: &str, declared: impl Fn(&str) -> bool) -> bool {
    declared(prefix) || !COMMON_SCHEMES.contains(&prefix.to_ascii_lowercase().as_str())
}

/// Classifies one pointer token. `declared(prefix)` says whether a `prefixDef` declares it.
pub fn classify(token: &str, declared: impl Fn(&str) -> bool) -> Target<'_> {
    if let Some(frag) = token.strip_prefix('#') {
        let id = percent_decode(frag);
        return if crate::xml::is_ncname(&id) {
            Target::Local(id)
        } else {
            Target::Other
        };
    }
    if let Some((scheme, rest)) = scheme_of(token) {
        // An undeclared one-letter "scheme" is a Windows drive letter, not a prefix.
        if declared(scheme) || (scheme.len() > 1 && is_private_scheme(scheme, &declared)) {
            return Target::Prefixed {
                prefix: scheme,
                rest,
            };
        }
        return Target::Other;
    }
    if token.starts_with("//") {
        return Target::Other;
    }
    match token.split_once('#') {
        Some((path, frag)) if !path.is_empty() => {
            let id = percent_decode(frag);
            if crate::xml::is_ncname(&id) {
                Target::File {
                    path: percent_decode(path.split('?').next().unwrap_or(path)),
                    id,
                }
            } else {
                Target::Other
            }
        }
        _ => Target::Other,
    }
}

/// One `prefixDef` (TEI Guidelines 16.2.3): `ident`, the anchored `matchPattern`, and the
/// `replacementPattern` with `$1`..`$9` standing for the groups.
#[derive(Debug, Clone)]
pub struct PrefixDef {
    pub ident: String,
    pub pattern: Regex,
    pub replacement: String,
}

impl PrefixDef {
    /// `Err` when `matchPattern` is not a regular expression the engine reads.
    pub fn new(ident: &str, match_pattern: &str, replacement: &str) -> Result<Self, String> {
        let pattern = Regex::new(&format!("^(?:{match_pattern})$")).map_err(|e| {
            format!("matchPattern \"{match_pattern}\" is not a regular expression: {e}")
        })?;
        Ok(PrefixDef {
            ident: ident.to_string(),
            pattern,
            replacement: replacement.to_string(),
        })
    }

    /// The expansion of `rest` (the part after `ident:`), if the pattern matches it.
    pub fn expand(&self, rest: &str) -> Option<String> {
        let caps = self.pattern.captures(rest)?;
        let mut out = String::new();
        let mut chars = self.replacement.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$'
                && let Some(d) = chars.peek().and_then(|d| d.to_digit(10))
            {
                chars.next();
                out.push_str(caps.get(d as usize).map_or("", |m| m.as_str()));
                continue;
            }
            out.push(c);
        }
        Some(out)
    }
}

/// Joins a relative `xml:base` chain and a relative path (RFC 3986 §5.2.3 merge, for the
/// relative-path case only; absolute bases are handled by the caller).
pub fn join_relative(base: &str, path: &str) -> String {
    match base.rfind('/') {
        Some(i) => format!("{}{path}", base.get(..=i).unwrap_or("")),
        None => path.to_string(),
    }
}

/// Whether a base URI is absolute (has a scheme; RFC 3986 §4.3), so that relative references
/// under it do not name local files.
pub fn is_absolute(uri: &str) -> bool {
    scheme_of(uri).is_some_and(|(s, _)| s.len() > 1 && !s.eq_ignore_ascii_case("file"))
}

/// Levenshtein distance, giving up (returning `None`) beyond `max`.
fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(c0) = cur.first_mut() {
            *c0 = i + 1;
        }
        let mut row_min = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            let v = sub.min(del).min(ins);
            if let Some(c) = cur.get_mut(j + 1) {
                *c = v;
            }
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().filter(|d| *d <= max)
}

/// The closest id to `wanted` among `ids`, if it is near (at most 2 edits, and fewer than half
/// the length of `wanted`); ties go to the alphabetically first.
pub fn did_you_mean<'a>(wanted: &str, ids: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let n = wanted.chars().count();
    let max = 2.min(n.saturating_sub(1) / 2).max(1);
    let mut best: Option<(usize, &str)> = None;
    for id in ids {
        if let Some(d) = distance(wanted, id, max) {
            let better = match best {
                None => true,
                Some((bd, bid)) => d < bd || (d == bd && id < bid),
            };
            if better && d > 0 {
                best = Some((d, id));
            }
        }
    }
    best.map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> bool {
        false
    }

    #[test]
    fn classifies() {
        assert_eq!(classify("#molotov", none), Target::Local("molotov".into()));
        assert_eq!(classify("https://example.org/x#y", none), Target::Other);
        assert_eq!(classify("pmb123", none), Target::Other);
        assert_eq!(classify("page1.jpg", none), Target::Other);
        assert_eq!(classify("#xpath(//p)", none), Target::Other);
        assert_eq!(
            classify("register.xml#tito", none),
            Target::File {
                path: "register.xml".into(),
                id: "tito".into()
            }
        );
        assert_eq!(
            classify("my%20file.xml#a", none),
            Target::File {
                path: "my file.xml".into(),
                id: "a".into()
            }
        );
        assert_eq!(
            classify("psn:tito", none),
            Target::Prefixed {
                prefix: "psn",
                rest: "tito"
            }
        );
        assert_eq!(classify("C:/x.xml#a", none), Target::Other);
        assert_eq!(
            classify("http:x", |p| p == "http"),
            Target::Prefixed {
                prefix: "http",
                rest: "x"
            }
        );
    }

    #[test]
    fn expands_prefix_defs() {
        let Ok(p) = PrefixDef::new("psn", "([a-z]+)", "persons.xml#$1") else {
            unreachable!()
        };
        assert_eq!(p.expand("tito").as_deref(), Some("persons.xml#tito"));
        assert_eq!(p.expand("Tito"), None);
        assert!(PrefixDef::new("x", "(", "").is_err());
    }

    #[test]
    fn suggestions() {
        let ids = ["molotov", "tito", "lenin", "moscow"];
        assert_eq!(did_you_mean("molotv", ids.iter().copied()), Some("molotov"));
        assert_eq!(did_you_mean("titto", ids.iter().copied()), Some("tito"));
        assert_eq!(did_you_mean("stalin", ids.iter().copied()), None);
        assert_eq!(did_you_mean("ab", ["xy"].iter().copied()), None);
    }

    #[test]
    fn bases() {
        assert!(is_absolute("https://id.acdh.oeaw.ac.at/x"));
        assert!(!is_absolute("sub/dir/"));
        assert!(!is_absolute("file:///tmp/"));
        assert_eq!(join_relative("sub/", "a.xml"), "sub/a.xml");
        assert_eq!(join_relative("sub/b.xml", "a.xml"), "sub/a.xml");
        assert_eq!(join_relative("", "a.xml"), "a.xml");
    }
}
