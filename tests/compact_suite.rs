//! The RELAX NG compact-syntax conformance suite (`compacttest.xml`, James Clark) run through
//! `teikit::schema::compact`.
//!
//! For every `testCase`: each `<compact><correct>` must parse and mean the same as the expected
//! `<xml><correct>` (same elements, attributes and non-blank text in order, compared after
//! resolving inherited `ns`/`datatypeLibrary` and QName prefixes, RELAX NG §4.3, §4.8, §4.10);
//! each `<compact><incorrect>` must be refused; every correct case must round-trip
//! rnc → rng → rnc → rng to the same meaning. Failures listed in `tests/rnc-known-failures.txt`
//! are tolerated and reported when they start passing. The suite is read from `$TEIKIT_SHARED`
//! (default `../shared`); a missing suite skips with a printed reason unless
//! `TEIKIT_REQUIRE_SHARED=1`. trang, when installed, is an optional oracle on a few cases.

use std::collections::BTreeMap;
use std::path::PathBuf;

mod common;

use common::{shared_dir, shared_file};
use teikit::schema::compact::{parse_compact, write_compact};

const RNG_NS: &str = "http://relaxng.org/ns/structure/1.0";

const GROUP: &str = "{http://relaxng.org/ns/structure/1.0}group";
const CHOICE: &str = "{http://relaxng.org/ns/structure/1.0}choice";
const INTERLEAVE: &str = "{http://relaxng.org/ns/structure/1.0}interleave";

fn is_rng_pattern(c: &C) -> bool {
    matches!(c, C::E { name, .. } if name.starts_with("{http://relaxng.org/ns/structure/1.0}"))
}

/// A canonical form of RELAX NG XML syntax for comparing meaning.
#[derive(Debug, Clone, PartialEq)]
enum C {
    E {
        name: String,
        attrs: Vec<(String, String)>,
        kids: Vec<C>,
    },
    T(String),
}

fn expanded(node: roxmltree::Node) -> String {
    match node.tag_name().namespace() {
        Some(ns) if !ns.is_empty() => format!("{{{ns}}}{}", node.tag_name().name()),
        _ => node.tag_name().name().to_string(),
    }
}

fn inherited(node: roxmltree::Node, attr: &str) -> String {
    for a in node.ancestors() {
        if a.is_element()
            && a.tag_name().namespace() == Some(RNG_NS)
            && let Some(v) = a.attribute(attr)
        {
            return v.to_string();
        }
    }
    String::new()
}

/// Resolves a QName written in the schema: a prefix through the in-scope declarations, an
/// unprefixed name to `default_ns`.
fn resolve_qname(node: roxmltree::Node, q: &str, default_ns: &str) -> String {
    let q = q.trim();
    match q.split_once(':') {
        Some((p, l)) => {
            let uri = node.lookup_namespace_uri(Some(p)).unwrap_or("?undeclared");
            format!("{{{uri}}}{l}")
        }
        None => format!("{{{default_ns}}}{q}"),
    }
}

fn canon(node: roxmltree::Node) -> C {
    let rng = node.tag_name().namespace() == Some(RNG_NS);
    let local = node.tag_name().name();
    let mut attrs = Vec::new();
    let mut kids = Vec::new();
    for a in node.attributes() {
        let key = match a.namespace() {
            Some(ns) => format!("{{{ns}}}{}", a.name()),
            None => a.name().to_string(),
        };
        if rng && a.namespace().is_none() {
            match a.name() {
                // RELAX NG §4.2: surrounding whitespace of these attributes is not significant
                "type" | "combine" | "name"
                    if !(a.name() == "name" && (local == "element" || local == "attribute")) =>
                {
                    attrs.push((key, a.value().trim().to_string()));
                    continue;
                }
                "ns" | "datatypeLibrary" => continue,
                "name" if local == "element" || local == "attribute" => {
                    let dflt = if local == "attribute" {
                        node.attribute("ns").unwrap_or("").to_string()
                    } else {
                        inherited(node, "ns")
                    };
                    kids.push(C::E {
                        name: format!("{{{RNG_NS}}}name"),
                        attrs: vec![],
                        kids: vec![C::T(resolve_qname(node, a.value(), &dflt))],
                    });
                    continue;
                }
                "href" => {
                    let v = a.value();
                    let v = v.strip_suffix(".rnc").map(|s| format!("{s}.rng"));
                    attrs.push((key, v.unwrap_or_else(|| a.value().to_string())));
                    continue;
                }
                _ => {}
            }
        }
        attrs.push((key, a.value().to_string()));
    }
    if rng {
        match local {
            // RELAX NG §4.4: a value without a type is a built-in token
            "value" if node.attribute("type").is_none() => {
                attrs.push(("type".to_string(), "token".to_string()));
                attrs.push(("#dl".to_string(), String::new()));
            }
            "nsName" => attrs.push(("#ns".to_string(), inherited(node, "ns"))),
            "data" => attrs.push(("#dl".to_string(), inherited(node, "datatypeLibrary"))),
            "value" if node.attribute("type").is_some() => {
                attrs.push(("#dl".to_string(), inherited(node, "datatypeLibrary")))
            }
            _ => {}
        }
    }
    let mut text = String::new();
    // Whitespace inside annotations is layout (trang re-indents mixed content); inside
    // RELAX NG elements (`value`, `param`, `name`) it is kept exactly.
    let flush = |text: &mut String, kids: &mut Vec<C>| {
        if !text.trim().is_empty() {
            let t = std::mem::take(text);
            let t = if rng {
                t
            } else {
                t.split_whitespace().collect::<Vec<_>>().join(" ")
            };
            kids.push(C::T(t));
        }
        text.clear();
    };
    for c in node.children() {
        if c.is_text() {
            text.push_str(c.text().unwrap_or(""));
        } else if c.is_element() {
            flush(&mut text, &mut kids);
            match canon(c) {
                // RELAX NG §4.12: a group, interleave or choice of one pattern is that pattern
                // (the compact syntax cannot write one, so its annotations move up a level).
                C::E {
                    name,
                    attrs,
                    kids: k,
                } if attrs.is_empty()
                    && [GROUP, CHOICE, INTERLEAVE].contains(&name.as_str())
                    && k.iter().filter(|x| is_rng_pattern(x)).count() == 1 =>
                {
                    kids.extend(k)
                }
                other => kids.push(other),
            }
        }
    }
    flush(&mut text, &mut kids);
    // RELAX NG §4.12: these hold an implicit group, so one explicit unannotated group among
    // their patterns means the same as its members.
    if rng
        && [
            "define",
            "element",
            "optional",
            "zeroOrMore",
            "oneOrMore",
            "list",
            "mixed",
        ]
        .contains(&local)
    {
        let skip = usize::from(local == "element");
        let pats: Vec<usize> = kids
            .iter()
            .enumerate()
            .filter(|(_, k)| is_rng_pattern(k))
            .map(|(i, _)| i)
            .skip(skip)
            .collect();
        splice_single(&mut kids, &pats, GROUP);
    }
    // an `except` of a data pattern holds an implicit choice
    if rng && local == "except" {
        let pats: Vec<usize> = kids
            .iter()
            .enumerate()
            .filter(|(_, k)| is_rng_pattern(k))
            .map(|(i, _)| i)
            .collect();
        splice_single(&mut kids, &pats, CHOICE);
    }
    if rng && local == "name" {
        let dflt = inherited(node, "ns");
        let t: String = kids
            .iter()
            .filter_map(|k| match k {
                C::T(t) => Some(t.clone()),
                C::E { .. } => None,
            })
            .collect();
        kids.retain(|k| matches!(k, C::E { .. }));
        kids.push(C::T(resolve_qname(node, &t, &dflt)));
    }
    if rng && local == "attribute" {
        // RELAX NG §4.12: an attribute with only a name class has `text` content.
        let patterns = kids
            .iter()
            .filter(
                |k| matches!(k, C::E { name, .. } if name.starts_with(&format!("{{{RNG_NS}}}"))),
            )
            .count();
        if patterns == 1 {
            kids.push(C::E {
                name: format!("{{{RNG_NS}}}text"),
                attrs: vec![],
                kids: vec![],
            });
        }
    }
    attrs.sort();
    C::E {
        name: expanded(node),
        attrs,
        kids,
    }
}

/// Replaces the only pattern among `kids` by its children when it is an unannotated `name`.
fn splice_single(kids: &mut Vec<C>, pats: &[usize], name_wanted: &str) {
    if let [only] = pats[..]
        && let Some(C::E {
            name,
            attrs,
            kids: inner,
        }) = kids.get(only).cloned()
        && name == name_wanted
        && attrs.is_empty()
    {
        kids.splice(only..=only, inner);
    }
}

/// The canonical form of a whole schema: a one-pattern group or choice at the top is its
/// pattern (RELAX NG §4.12).
fn canon_top(node: roxmltree::Node) -> C {
    let mut c = canon(node);
    loop {
        match c {
            C::E {
                ref name,
                ref attrs,
                ref kids,
            } if attrs.is_empty()
                && [GROUP, CHOICE, INTERLEAVE].contains(&name.as_str())
                && kids.len() == 1
                && kids.iter().all(is_rng_pattern) =>
            {
                let Some(k) = kids.first().cloned() else {
                    break;
                };
                c = k;
            }
            _ => break,
        }
    }
    c
}

fn canon_text(xml: &str) -> Result<C, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("output is not XML: {e}"))?;
    Ok(canon_top(doc.root_element()))
}

/// The first difference between two canonical trees, as a path and a description.
fn diff(a: &C, b: &C, path: &str) -> Option<String> {
    match (a, b) {
        (C::T(x), C::T(y)) if x == y => None,
        (C::T(x), C::T(y)) => Some(format!("{path}: text {x:?} != {y:?}")),
        (
            C::E {
                name: n1,
                attrs: a1,
                kids: k1,
            },
            C::E {
                name: n2,
                attrs: a2,
                kids: k2,
            },
        ) => {
            if n1 != n2 {
                return Some(format!("{path}: element {n1} != {n2}"));
            }
            let p = format!("{path}/{n1}");
            if a1 != a2 {
                return Some(format!("{p}: attributes {a1:?} != {a2:?}"));
            }
            for (i, (x, y)) in k1.iter().zip(k2.iter()).enumerate() {
                if let Some(d) = diff(x, y, &format!("{p}[{i}]")) {
                    return Some(d);
                }
            }
            if k1.len() != k2.len() {
                return Some(format!("{p}: {} children != {}", k1.len(), k2.len()));
            }
            None
        }
        _ => Some(format!("{path}: element vs text")),
    }
}

struct Case {
    number: usize,
    compact: String,
    correct: bool,
    expected: Option<C>,
}

fn read_cases(suite: &str) -> Result<Vec<Case>, String> {
    let doc = roxmltree::Document::parse(suite).map_err(|e| format!("compacttest.xml: {e}"))?;
    let mut cases = Vec::new();
    for (i, tc) in doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("testCase"))
        .enumerate()
    {
        let number = i + 1;
        let Some(compact) = tc.children().find(|n| n.has_tag_name("compact")) else {
            continue;
        };
        let Some(body) = compact
            .children()
            .find(|n| n.has_tag_name("correct") || n.has_tag_name("incorrect"))
        else {
            continue;
        };
        let text: String = body
            .children()
            .filter(|c| c.is_text())
            .map(|c| c.text().unwrap_or(""))
            .collect();
        let correct = body.has_tag_name("correct");
        let expected = tc
            .children()
            .find(|n| n.has_tag_name("xml"))
            .and_then(|x| x.children().find(|n| n.has_tag_name("correct")))
            .and_then(|c| c.children().find(|n| n.is_element()))
            .map(canon);
        cases.push(Case {
            number,
            compact: text,
            correct,
            expected,
        });
    }
    Ok(cases)
}

fn known_failures() -> BTreeMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rnc-known-failures.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, reason) = line.split_once(" -- ").unwrap_or((line, ""));
        m.insert(key.trim().to_string(), reason.trim().to_string());
    }
    m
}

#[test]
fn compact_suite() {
    let Some(path) = shared_file("compact_suite", "relaxng-tests/compacttest.xml") else {
        return;
    };
    let suite = std::fs::read_to_string(&path).unwrap();
    let cases = read_cases(&suite).unwrap();
    assert_eq!(cases.len(), 87, "compacttest.xml should hold 87 test cases");
    let known = known_failures();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let (mut ok_correct, mut n_correct, mut ok_incorrect, mut n_incorrect) = (0, 0, 0, 0);
    let (mut ok_round, mut n_round) = (0, 0);
    for case in &cases {
        let key = |kind: &str| format!("case {} {kind}", case.number);
        if !case.correct {
            n_incorrect += 1;
            match parse_compact(&case.compact, "incorrect.rnc") {
                Err(_) => ok_incorrect += 1,
                Ok(xml) => {
                    failures.insert(
                        key("accepted"),
                        format!("incorrect schema accepted:\n{xml}"),
                    );
                }
            }
            continue;
        }
        n_correct += 1;
        let xml = match parse_compact(&case.compact, "correct.rnc") {
            Ok(x) => x,
            Err(d) => {
                failures.insert(key("refused"), format!("{d:?}"));
                continue;
            }
        };
        let got = match canon_text(&xml) {
            Ok(c) => c,
            Err(e) => {
                failures.insert(key("mismatch"), e);
                continue;
            }
        };
        match &case.expected {
            Some(exp) => match diff(&got, exp, "") {
                None => ok_correct += 1,
                Some(d) => {
                    failures.insert(key("mismatch"), format!("{d}\n{xml}"));
                }
            },
            None => {
                failures.insert(key("mismatch"), "no expected XML in the suite".to_string());
            }
        }
        // Round trip: rnc → rng → rnc → rng.
        n_round += 1;
        let round = write_compact(&xml)
            .map_err(|d| format!("write_compact failed: {d:?}"))
            .and_then(|rnc| {
                parse_compact(&rnc, "roundtrip.rnc")
                    .map_err(|d| format!("re-parse failed: {d:?}\n{rnc}"))
                    .and_then(|xml2| canon_text(&xml2).map(|c| (rnc, xml2, c)))
            });
        match round {
            Ok((rnc, xml2, c2)) => match diff(&got, &c2, "") {
                None => ok_round += 1,
                Some(d) => {
                    failures.insert(key("roundtrip"), format!("{d}\n{rnc}\n{xml2}"));
                }
            },
            Err(e) => {
                failures.insert(key("roundtrip"), e);
            }
        }
    }
    println!(
        "compact_suite: correct {ok_correct}/{n_correct} match, incorrect {ok_incorrect}/{n_incorrect} refused, round trip {ok_round}/{n_round} stable"
    );
    check_known_failures("compact_suite", "case ", &failures, &known);
}

/// Compares a test's failures with the committed list (`known`, entries starting with
/// `prefix`): listed failures that now pass are reported for removal, and any failure not
/// listed fails the test, each printed with its details.
fn check_known_failures(
    test: &str,
    prefix: &str,
    failures: &BTreeMap<String, String>,
    known: &BTreeMap<String, String>,
) {
    for k in known
        .keys()
        .filter(|k| k.starts_with(prefix) && !failures.contains_key(*k))
    {
        println!("{test}: listed known failure now passes, remove it: {k}");
    }
    let unlisted: Vec<&String> = failures
        .keys()
        .filter(|k| !known.contains_key(*k))
        .collect();
    for k in &unlisted {
        println!(
            "--- {k}\n{}",
            failures.get(*k).map(String::as_str).unwrap_or("")
        );
    }
    assert!(unlisted.is_empty(), "unlisted failures: {unlisted:?}");
}

/// trang, when installed, as an oracle: it must read the compact syntax we write.
#[test]
fn trang_reads_written_compact() {
    let trang = PathBuf::from("/usr/bin/trang");
    if !trang.exists() {
        println!("trang_reads_written_compact skipped: /usr/bin/trang not installed");
        return;
    }
    let path = shared_dir().join("relaxng-tests/compacttest.xml");
    let Ok(suite) = std::fs::read_to_string(&path) else {
        println!(
            "trang_reads_written_compact skipped: {} not found",
            path.display()
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for case in read_cases(&suite).unwrap().iter().filter(|c| c.correct) {
        if checked >= 6 || case.compact.contains("external") || case.compact.contains("include") {
            continue;
        }
        let xml = parse_compact(&case.compact, "c.rnc").unwrap();
        let rnc = write_compact(&xml).unwrap();
        let input = dir.path().join(format!("c{}.rnc", case.number));
        let output = dir.path().join(format!("c{}.rng", case.number));
        std::fs::write(&input, &rnc).unwrap();
        match run_trang(&trang, &input, &output) {
            Some(true) => {}
            Some(false) => panic!(
                "trang refused our compact syntax for case {}:\n{rnc}",
                case.number
            ),
            None => {
                println!(
                    "trang_reads_written_compact: trang did not run on case {}",
                    case.number
                );
                continue;
            }
        }
        let theirs = std::fs::read_to_string(&output).unwrap();
        let a = canon_text(&theirs).unwrap();
        let b = canon_text(&xml).unwrap();
        if let Some(d) = diff(&b, &a, "") {
            panic!(
                "case {}: trang reads our compact differently: {d}\n{rnc}",
                case.number
            );
        }
        checked += 1;
    }
    println!("trang_reads_written_compact: {checked} cases agree with trang");
}

/// Real schemas (TEI P5 `tei_all`, CMIF) through the writer and back: the XML syntax read back
/// from the written compact syntax means the same as the original, and a second round is
/// identical. trang, when installed, must read our compact syntax the same way.
#[test]
fn real_schemas_round_trip() {
    let files = [
        "tei-p5/tei_all-4.12.0.rng",
        "tei-p5/tei_all-4.3.0.rng",
        "corpora/cmif/schema/cmi-customization.rng",
    ];
    for f in files {
        let Some(path) = shared_file("real_schemas_round_trip", f) else {
            continue;
        };
        let original = std::fs::read_to_string(&path).unwrap();
        let rnc = write_compact(&original).unwrap();
        let rng1 = parse_compact(&rnc, f).unwrap();
        let c0 = canon_text(&original).unwrap();
        let c1 = canon_text(&rng1).unwrap();
        if let Some(d) = diff(&c0, &c1, "") {
            panic!("{f}: written compact syntax means something else: {d}");
        }
        let rnc2 = write_compact(&rng1).unwrap();
        assert_eq!(rnc, rnc2, "{f}: second round differs");
        let trang = PathBuf::from("/usr/bin/trang");
        if trang.exists() {
            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("s.rnc");
            let output = dir.path().join("s.rng");
            std::fs::write(&input, &rnc).unwrap();
            match run_trang(&trang, &input, &output) {
                Some(true) => {}
                Some(false) => panic!("{f}: trang refused our compact syntax"),
                None => {
                    println!("real_schemas_round_trip: trang did not run on {f}");
                    continue;
                }
            }
            let theirs = canon_text(&std::fs::read_to_string(&output).unwrap()).unwrap();
            if let Some(d) = diff(&c1, &theirs, "") {
                panic!("{f}: trang reads our compact syntax differently: {d}");
            }
        } else {
            println!("real_schemas_round_trip: trang not installed, oracle check skipped");
        }
    }
}

/// trang's verdict on one file: `Some(true)` converted, `Some(false)` refused with a located
/// error, `None` when trang itself failed to run (twice).
fn run_trang(
    trang: &std::path::Path,
    input: &std::path::Path,
    output: &std::path::Path,
) -> Option<bool> {
    for _ in 0..2 {
        let Ok(out) = std::process::Command::new(trang)
            .arg(input)
            .arg(output)
            .output()
        else {
            continue;
        };
        if out.status.success() {
            return Some(true);
        }
        if String::from_utf8_lossy(&out.stderr).contains(": error:") {
            return Some(false);
        }
    }
    None
}

/// Inputs beyond the suite where trang, when installed, is the oracle: trang and teikit must
/// both accept (with the same meaning) or both refuse.
#[test]
fn trang_agrees_on_tricky_inputs() {
    let trang = PathBuf::from("/usr/bin/trang");
    if !trang.exists() {
        println!("trang_agrees_on_tricky_inputs skipped: /usr/bin/trang not installed");
        return;
    }
    let cases: &[&str] = &[
        "default namespace = \"http://d\"\nnamespace x = \"http://x\"\nelement x:foo { attribute x:a { text }, element bar { empty } }",
        "default namespace eg = \"http://e\"\nelement foo { attribute eg:bar { text }, element eg:baz { empty } }",
        "namespace eg = \"http://e\"\nelement * - (eg:* - eg:x) { empty }",
        "namespace eg = \"http://e\"\nelement eg:* - (eg:a | eg:b) { attribute * - (eg:* | local) { text } }",
        "element foo { list { xsd:int+ }, mixed { element b { empty }* } }",
        "datatypes d = \"http://d\"\nelement foo { d:x { a = \"1\" b = \"2\" } }",
        "element foo { token \"x\" | string \"y\" | xsd:QName \"xml:lang\" }",
        "namespace eg = \"http://e\"\ninclude \"x.rnc\" inherit = eg { start = empty }",
        "namespace eg = \"http://e\"\nstart = external \"x.rnc\" inherit = eg",
        "element foo { empty }+",
        "start = element \\element { \\text }\n\\text = text",
        "namespace eg = \"http://e\"\n[ eg:a = \"1\" ] foo = empty\nstart = foo",
        "namespace eg = \"http://e\"\n[ eg:x [ eg:y = \"1\" \"t\" ] ] start = empty",
        "namespace eg = \"http://e\"\nelement foo { [ eg:a = \"1\" ] (a, b) }",
        "namespace eg = \"http://e\"\nelement foo { (a >> eg:x [ ]), b }",
        "start |= a\nstart &= b\na = empty\nb = text",
        "namespace eg = \"http://e\"\ndiv { [ eg:a = \"1\" ] start = notAllowed }",
        "element (foo | bar) { element (baz) { empty } }",
        "element été { attribute ñ { text } }",
        "## doc\nstart = a\n## doc2\na = empty",
        "element foo {\n  ## inner doc\n  empty\n}",
        "element foo { (a, b)?, (c | d)*, (e & f)+ }",
        "element foo { string - (\"a\" | \"b\") }",
        "namespace eg = \"http://e\"\nelement foo { xsd:string { [ eg:a = \"1\" ] pattern = \"x\" } }",
        "namespace eg = \"http://e\"\nelement [ eg:a = \"1\" ] foo >> eg:f [ ] { empty }",
        "element foo { attribute a { \"1\" } }",
        "grammar { start = element a { empty } }",
        "element foo { grammar { start = parent s } }\n",
        "start = x\nx = grammar { start = parent y }\ny = empty",
        "element a { empty",
        "element a { b c }",
        "element a { empty } }",
        "namespace eg = \"x\"\nnamespace eg = \"y\"\nstart = element eg:a { empty }",
        "datatypes d = \"x\"\ndatatypes d = \"y\"\nstart = element a { d:x }",
        "element a:b { empty }",
        "default namespace = \"http://a\"\ndefault namespace = \"http://b\"\nstart = empty",
        "start = a, b | c",
        "start = a*?",
        "datatypes xsd = \"http://other\"\nelement a { xsd:x }",
        "element a { xsd:string \"x\" { } }",
        "element a { text } >> b [ ]",
        "(element a { text } >> b [ ])",
        "(element a { text } >> b [ ], empty)",
        "(empty | element a { text } >> b [ ])*",
        "element a { text }* >> b [ ]",
        "list { empty >> b [ ] }",
        "grammar { start = empty >> b [ ] }",
        "element z { element a { text } >> b [ ], empty }",
        "start = a |\n## d\n b\na = empty\nb = empty",
        "namespace eg = \"http://e\"\n[ eg:a = \"1\" ] [ eg:b = \"2\" ] element a { empty }",
        "start = empty\n## dangling",
        "## d\ninclude \"x.rnc\"\n## e\ndiv { }",
        "element a { ## doc\n }",
        "start = element a { empty } ## doc",
        "namespace eg = \"http://e\"\n[ eg:a = \"1\" ] namespace x = \"y\"\nelement a { empty }",
        "element a { xsd:string { pattern = \"x\" length = \"1\" } }",
        "element a { xsd:string { } }",
        "element a { xsd:string { pattern = \"a\" ~ \"b\" } }",
        "element a { text }\nstart = empty",
        "include \"x.rnc\" { div { start = empty } include \"y\" }",
        "div { include \"x.rnc\" }",
        "start = external \"x.rnc\" inherit = nope",
        "a.b-c_d = empty\nstart = a.b-c_d",
        "element a {\r\n  empty\r\n}\r\n",
        "element\\x{9}a { empty }",
        "element a:* { empty }",
        "element * - a:* { empty }",
        "datatypes eg = \"http://d\"\nnamespace eg = \"http://e\"\nelement eg:a { eg:b }",
        "element a { empty }, element b { empty } & element c { empty }",
        "element a { \"x\" >> b [ ] }",
        "element a { \"x\" - \"y\" }",
        "element a { list { \"x\"* } }",
        "element a { xsd:QName \"eg:x\" }",
        "namespace eg = \"http://e\"\nelement a { xsd:QName \" eg:x \" }",
        "element a { attribute b { text } >> c [ ] }",
        "start = element a { empty } | element b { empty }\nstart |= element c { empty }",
        "namespace x = inherit\nelement x:a { empty }",
        "default namespace = inherit\nelement a { empty }",
        "namespace local = \"\"\nelement local:a { attribute local:b { text } }",
        "element a { attribute xml:lang { text } }",
        "element a { empty }\n# trailing comment",
        "[ a:b = \"1\" ] element a { empty }",
        "element a { \"x\" \"y\" }",
        "element a { \"x\" ~ \"y\" }",
        "element a { xsd:int - \"3\" }",
        "element a { xsd:string { length = \"1\" } - (\"a\" | \"b\") }",
        "element a { string - xsd:int - \"3\" }",
        "element a|b|c { empty }",
        "element * - a|b { empty }",
        "element (* - a)|b { empty }",
        "attribute * { text }",
        "element a { parent b }",
        "start = notAllowed\nstart = empty",
        "foo = empty\nfoo = text\nstart = foo",
        "start = undefined",
        "element = empty",
        "start = \\element\n\\element = empty",
        "[ xmlns:foo = \"x\" ] start = empty",
        "element a { empty }*",
        "element a { text }, element b { text }",
        "element ## x\n a { empty }",
        "element [ x [ ] ] a { empty }",
        "[ b = \"1\" ] element a { empty }",
        "element a { [ x [ b = \"1\" ] ] empty }",
        "namespace eg = \"http://e\"\n[ eg:x [ \"a\" eg:y [ ] \"b\" ] ] start = empty",
        "namespace eg = \"http://e\"\nstart = element a { empty } >> eg:x [ ]",
        "element \\x{66}oo { empty }",
        "element foo { \"\\x{0}\" }",
        "\u{FEFF}element foo { empty }",
        "element foo { \"\"\"a\r\nb\"\"\" }",
        "element foo { empty } | element bar { empty } | notAllowed",
        "namespace eg = \"http://e\"\nelement foo { [ eg:a = \"1\" ] string \"x\" }",
        "element foo { [ x [ ] ] string }",
        "element foo { list { token, (token | empty) } }",
        "namespace eg = \"http://e\"\nstart = element foo { empty }\neg:bar [ \"x\" ]",
        "start = element foo { empty }\nbar [ \"x\" ]",
        "start = element foo { empty }\n\\start [ \"x\" ]",
        "default namespace x = \"http://x\"\nnamespace y = \"http://x\"\nelement x:a { element y:b { empty } }",
        "namespace eg = \"http://e\"\nelement eg:* { empty }",
        "namespace a = \"http://relaxng.org/ns/compatibility/annotations/1.0\"\n## doc\nstart = [ a:defaultValue = \"x\" ] attribute b { text }",
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.rnc"), "start = notAllowed\n").unwrap();
    // A few trang processes at a time: many JVMs at once can fail for want of memory.
    let verdicts: Vec<Option<bool>> = std::thread::scope(|scope| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        let workers: Vec<_> = (0..n)
            .map(|w| {
                let (trang, dir) = (&trang, dir.path());
                scope.spawn(move || {
                    (0..cases.len())
                        .filter(|i| i % n == w)
                        .map(|i| {
                            let input = dir.join(format!("t{i}.rnc"));
                            std::fs::write(&input, cases[i]).unwrap();
                            (i, run_trang(trang, &input, &dir.join(format!("t{i}.rng"))))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = vec![None; cases.len()];
        for w in workers {
            for (i, v) in w.join().unwrap() {
                all[i] = v;
            }
        }
        all
    });
    let mut problems = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let Some(trang_ok) = verdicts[i] else {
            println!("trang_agrees_on_tricky_inputs: trang did not run on {c:?}, case skipped");
            continue;
        };
        let output = dir.path().join(format!("t{i}.rng"));
        let ours = parse_compact(c, "t.rnc");
        match (trang_ok, ours) {
            (true, Ok(xml)) => {
                let theirs = canon_text(&std::fs::read_to_string(&output).unwrap()).unwrap();
                let mine = canon_text(&xml).unwrap();
                if let Some(d) = diff(&mine, &theirs, "") {
                    problems.push(format!("{c:?}: differs from trang: {d}\n{xml}"));
                }
            }
            (false, Err(_)) => {}
            (true, Err(d)) => problems.push(format!("{c:?}: trang accepts, we refuse: {d:?}")),
            (false, Ok(x)) => problems.push(format!("{c:?}: trang refuses, we accept:\n{x}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Every correct schema of the XML-syntax suite (`spectest.xml`) written as compact syntax and
/// read back means the same: the writer covers the XML syntax, not only what our parser emits.
#[test]
fn spectest_schemas_through_compact() {
    let test = "spectest_schemas_through_compact";
    let Some(path) = shared_file(test, "relaxng-tests/spectest.xml") else {
        return;
    };
    let suite = std::fs::read_to_string(&path).unwrap();
    // The suite's one entity (`&dii;`) only occurs in instances; drop the DOCTYPE declaring it.
    let suite = match (suite.find("<!DOCTYPE"), suite.find("]>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &suite[..a], &suite[b + 2..]),
        _ => suite,
    }
    .replace("&dii;", "<dii/>");
    let doc = roxmltree::Document::parse(&suite).unwrap();
    let known = known_failures();
    let mut failures = BTreeMap::new();
    let (mut ok, mut total) = (0, 0);
    for (i, tc) in doc
        .descendants()
        .filter(|n| n.has_tag_name("testCase"))
        .enumerate()
    {
        let Some(schema) = tc
            .children()
            .find(|n| n.has_tag_name("correct"))
            .and_then(|c| c.children().find(|n| n.is_element()))
        else {
            continue;
        };
        total += 1;
        let key = format!("spectest {} roundtrip", i + 1);
        let Some(text) = suite.get(schema.range()) else {
            continue;
        };
        let result = write_compact(text)
            .map_err(|d| format!("write_compact: {d:?}"))
            .and_then(|rnc| {
                parse_compact(&rnc, "s.rnc")
                    .map_err(|d| format!("parse_compact: {d:?}\n{rnc}"))
                    .map(|x| (rnc, x))
            });
        match result {
            Ok((rnc, xml)) => {
                let a = canon_top(schema);
                let b = canon_text(&xml).unwrap();
                match diff(&a, &b, "") {
                    None => ok += 1,
                    Some(d) => {
                        failures.insert(key, format!("{d}\n{text}\n{rnc}\n{xml}"));
                    }
                }
            }
            Err(e) => {
                failures.insert(key, format!("{e}\n{text}"));
            }
        }
    }
    println!("spectest_schemas_through_compact: {ok}/{total} correct schemas keep their meaning");
    check_known_failures(test, "spectest ", &failures, &known);
}

/// The suite through the binary: every incorrect compact schema is refused by `teikit schema
/// check` with exit 3, and every correct one converts with `teikit schema convert --to rng` to
/// the expected XML syntax.
#[test]
fn compact_suite_through_the_binary() {
    let test = "compact_suite_through_the_binary";
    let Some(path) = shared_file(test, "relaxng-tests/compacttest.xml") else {
        return;
    };
    let suite = std::fs::read_to_string(&path).unwrap();
    let cases = read_cases(&suite).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_teikit");
    let mut failures = Vec::new();
    for case in &cases {
        let file = dir.path().join(format!("case{}.rnc", case.number));
        std::fs::write(&file, &case.compact).unwrap();
        let f = file.to_str().unwrap();
        if !case.correct {
            let out = std::process::Command::new(bin)
                .args(["schema", "check", f])
                .output()
                .unwrap();
            if out.status.code() != Some(3) {
                failures.push(format!(
                    "case {}: incorrect schema: exit {:?}, expected 3",
                    case.number,
                    out.status.code()
                ));
            }
            continue;
        }
        let out = std::process::Command::new(bin)
            .args(["schema", "convert", f, "--to", "rng"])
            .output()
            .unwrap();
        if out.status.code() != Some(0) {
            failures.push(format!(
                "case {}: correct schema: exit {:?}: {}",
                case.number,
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let xml = String::from_utf8_lossy(&out.stdout).into_owned();
        match (canon_text(&xml), &case.expected) {
            (Ok(got), Some(exp)) => {
                if let Some(d) = diff(&got, exp, "") {
                    failures.push(format!("case {}: converted XML differs: {d}", case.number));
                }
            }
            (Err(e), _) => failures.push(format!("case {}: output not XML: {e}", case.number)),
            (_, None) => failures.push(format!("case {}: no expected XML", case.number)),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
