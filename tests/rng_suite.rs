//! Conformance: James Clark's RELAX NG test suite (`../shared/relaxng-tests/spectest.xml`), split
//! as `../shared/README.md` describes (one folder per testCase, `c.rng`/`i.rng`, resources and
//! dirs beside, `N.v.xml`/`N.i.xml`), run in-process through the library; a few cases also run
//! through the binary to check exit codes. Known failures are listed in
//! `tests/rng-known-failures.txt`; the test fails on any other failure and reports listed cases
//! that now pass. Also: robustness (truncated, garbled, deeply nested input) and `tei_all`.

// Test code: a failed expectation panics.
#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::shared_file;
use teikit::schema::{self, FsResolver};
use teikit::validate::Validator;

#[derive(Debug)]
struct Case {
    id: String,
    dir: PathBuf,
    correct: bool,
    instances: Vec<(PathBuf, bool)>,
}

fn raw<'a>(text: &'a str, n: roxmltree::Node) -> &'a str {
    text.get(n.range()).unwrap_or("")
}

fn first_element<'a, 'i>(n: roxmltree::Node<'a, 'i>) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.is_element())
}

const DII: &str = "<\u{E14}\u{E35}/>";

fn write_resources(text: &str, n: roxmltree::Node, dir: &Path) {
    for c in n.children().filter(|c| c.is_element()) {
        let name = c.attribute("name").unwrap_or("x");
        match c.tag_name().name() {
            "resource" => {
                let body = first_element(c).map(|e| raw(text, e)).unwrap_or("");
                std::fs::write(dir.join(name), body.replace("@@DII@@", DII)).ok();
            }
            "dir" => {
                let sub = dir.join(name);
                std::fs::create_dir_all(&sub).ok();
                write_resources(text, c, &sub);
            }
            _ => {}
        }
    }
}

fn split_suite(text: &str, out: &Path) -> Vec<Case> {
    // The suite's one entity holds markup; parse with a placeholder and restore it in the files.
    let body = match text.find("]>") {
        Some(i) if text.starts_with("<!DOCTYPE") => text.get(i + 2..).unwrap_or(text),
        _ => text,
    };
    let owned = body.replace("&dii;", "@@DII@@");
    let text = owned.as_str();
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = match roxmltree::Document::parse_with_options(text, opts) {
        Ok(d) => d,
        Err(e) => panic!("spectest.xml does not parse: {e}"),
    };
    let mut cases = Vec::new();
    for (i, tc) in doc
        .descendants()
        .filter(|n| n.has_tag_name("testCase"))
        .enumerate()
    {
        let id = format!("case-{:03}", i + 1);
        let dir = out.join(&id);
        std::fs::create_dir_all(&dir).ok();
        write_resources(text, tc, &dir);
        let mut correct = true;
        let mut instances = Vec::new();
        let mut k = 0;
        for c in tc.children().filter(|c| c.is_element()) {
            let body = first_element(c).map(|e| raw(text, e)).unwrap_or("");
            let body = body.replace("@@DII@@", DII);
            let dtd = c.attribute("dtd").unwrap_or("");
            match c.tag_name().name() {
                "correct" | "incorrect" => {
                    correct = c.tag_name().name() == "correct";
                    let f = if correct { "c.rng" } else { "i.rng" };
                    std::fs::write(dir.join(f), format!("{dtd}{body}")).ok();
                }
                "valid" | "invalid" => {
                    k += 1;
                    let valid = c.tag_name().name() == "valid";
                    let f = dir.join(format!("{k}.{}.xml", if valid { "v" } else { "i" }));
                    std::fs::write(&f, format!("{dtd}{body}")).ok();
                    instances.push((f, valid));
                }
                _ => {}
            }
        }
        cases.push(Case {
            id,
            dir,
            correct,
            instances,
        });
    }
    cases
}

fn known_failures() -> BTreeSet<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rng-known-failures.txt");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Runs every check; returns (check id, passed) pairs.
fn run_suite(cases: &[Case]) -> Vec<(String, bool)> {
    let mut results = Vec::new();
    for case in cases {
        let (file, check) = if case.correct {
            (case.dir.join("c.rng"), format!("{}/c", case.id))
        } else {
            (case.dir.join("i.rng"), format!("{}/i", case.id))
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let compiled = schema::compile_rng(&text, &file, &mut FsResolver);
        match compiled {
            Err(_) => {
                results.push((check, !case.correct));
                for (inst, _) in &case.instances {
                    let name = inst.file_name().and_then(|n| n.to_str()).unwrap_or("?");
                    results.push((format!("{}/{name}", case.id), false));
                }
            }
            Ok(s) => {
                results.push((check, case.correct));
                let mut v = Validator::new(&s);
                for (inst, valid) in &case.instances {
                    let name = inst.file_name().and_then(|n| n.to_str()).unwrap_or("?");
                    let doc = std::fs::read_to_string(inst).unwrap_or_default();
                    let ok = !v.validate(&doc).has_errors();
                    results.push((format!("{}/{name}", case.id), ok == *valid));
                }
            }
        }
    }
    results
}

#[test]
fn spectest() {
    let Some(path) = shared_file("spectest", "relaxng-tests/spectest.xml") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => panic!("no temp dir: {e}"),
    };
    // TEIKIT_SPECTEST_DIR keeps the split suite for inspection.
    let keep = std::env::var_os("TEIKIT_SPECTEST_DIR").map(PathBuf::from);
    let cases = split_suite(&text, keep.as_deref().unwrap_or(tmp.path()));
    assert_eq!(cases.len(), 385);
    let results = run_suite(&cases);
    assert_eq!(results.len(), 965, "the suite has 965 checks");
    let known = known_failures();
    let passed = results.iter().filter(|(_, ok)| *ok).count();
    let unexpected: Vec<&String> = results
        .iter()
        .filter(|(id, ok)| !ok && !known.contains(id))
        .map(|(id, _)| id)
        .collect();
    let fixed: Vec<&String> = results
        .iter()
        .filter(|(id, ok)| *ok && known.contains(id))
        .map(|(id, _)| id)
        .collect();
    println!("spectest: {passed}/{} checks pass", results.len());
    if !fixed.is_empty() {
        println!("now passing but listed in rng-known-failures.txt: {fixed:?}");
    }
    if std::env::var_os("TEIKIT_WRITE_KNOWN_FAILURES").is_some() {
        let failing: Vec<&str> = results
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(id, _)| id.as_str())
            .collect();
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rng-known-failures.txt");
        std::fs::write(p, failing.join("\n") + "\n").ok();
    }
    assert!(unexpected.is_empty(), "unexpected failures: {unexpected:?}");
}

#[test]
fn spectest_through_binary() {
    let Some(path) = shared_file("spectest_through_binary", "relaxng-tests/spectest.xml") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let Ok(tmp) = tempfile::tempdir() else { return };
    let cases = split_suite(&text, tmp.path());
    let bin = env!("CARGO_BIN_EXE_teikit");
    let mut checked = 0;
    // Every correct schema passes `schema check` (exit 0) and judges each of its instances
    // (exit 0 valid, 1 invalid; each instance runs alone since the highest code wins).
    for case in cases.iter().filter(|c| c.correct) {
        let schema = case.dir.join("c.rng");
        let out = Command::new(bin)
            .arg("schema")
            .arg("check")
            .arg(&schema)
            .output();
        let Ok(out) = out else {
            panic!("cannot run teikit")
        };
        assert_eq!(out.status.code(), Some(0), "{}", case.id);
        checked += 1;
        for (inst, valid) in &case.instances {
            let out = Command::new(bin)
                .arg("validate")
                .arg("--schema")
                .arg(&schema)
                .arg("--format")
                .arg("short")
                .arg(inst)
                .output();
            let Ok(out) = out else {
                panic!("cannot run teikit")
            };
            assert_eq!(
                out.status.code(),
                Some(if *valid { 0 } else { 1 }),
                "{}",
                inst.display()
            );
            checked += 1;
        }
    }
    // Every incorrect schema is refused by `schema check` with exit 3 and a located error.
    for case in cases.iter().filter(|c| !c.correct) {
        let out = Command::new(bin)
            .arg("schema")
            .arg("check")
            .arg(case.dir.join("i.rng"))
            .output();
        let Ok(out) = out else {
            panic!("cannot run teikit")
        };
        assert_eq!(out.status.code(), Some(3), "{}", case.id);
        let err = String::from_utf8_lossy(&out.stderr);
        let located = err
            .lines()
            .next()
            .and_then(|l| l.split(": error: ").next())
            .is_some_and(|loc| {
                let mut parts = loc.rsplitn(3, ':');
                let col = parts.next().unwrap_or("");
                let line = parts.next().unwrap_or("");
                !col.is_empty()
                    && !line.is_empty()
                    && col.bytes().all(|b| b.is_ascii_digit())
                    && line.bytes().all(|b| b.is_ascii_digit())
            });
        assert!(located, "{}: error names file:line:col: {err}", case.id);
        checked += 1;
    }
    assert_eq!(
        checked, 965,
        "every spectest check also runs through the binary"
    );
}

fn tei(version: &str) -> Option<schema::Schema> {
    let rel = format!("tei-p5/tei_all-{version}.rng");
    let path = shared_file("tei_all", &rel)?;
    match schema::load_rng(&path) {
        Ok(s) => Some(s),
        Err(e) => panic!("tei_all {version} does not compile: {}", e.to_short()),
    }
}

const SMALL_TEI: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0">
  <teiHeader>
    <fileDesc>
      <titleStmt><title>Letter</title></titleStmt>
      <publicationStmt><p>Unpublished.</p></publicationStmt>
      <sourceDesc><p>Archive copy.</p></sourceDesc>
    </fileDesc>
  </teiHeader>
  <text>
    <body>
      <div type="letter" xml:id="d1">
        <opener><dateline><date when="1954-09-23">23 September 1954</date></dateline></opener>
        <p>Dear <persName ref="#tito">Comrade Tito</persName>, text.</p>
      </div>
    </body>
  </text>
</TEI>
"##;

#[test]
fn tei_all_compiles_and_validates() {
    for version in ["4.12.0", "4.3.0"] {
        let Some(s) = tei(version) else { return };
        let sch = s
            .annotations
            .iter()
            .filter(|a| a.ns == "http://purl.oclc.org/dsdl/schematron" && a.local == "pattern")
            .count();
        if version == "4.12.0" {
            assert_eq!(sch, 93, "embedded Schematron patterns kept as annotations");
        }
        let mut v = Validator::new(&s);
        let r = v.validate(SMALL_TEI);
        assert!(!r.has_errors(), "{version}: {:?}", r.diagnostics);
        let bad = SMALL_TEI.replace("<p>Dear", "<foo>x</foo><p>Dear");
        let r = v.validate(&bad);
        assert!(r.has_errors());
        assert_eq!(r.diagnostics[0].code, "rng/element-not-allowed");
    }
}

/// The project's own editions (`editions/*.xml`) are valid TEI (both tei_all versions).
#[test]
fn editions_validate_against_tei_all() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("editions");
    let mut docs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    docs.retain(|p| {
        p.extension().is_some_and(|e| e == "xml")
            && std::fs::read_to_string(p).is_ok_and(|t| t.contains("http://www.tei-c.org/ns/1.0"))
    });
    docs.sort();
    if docs.is_empty() {
        println!("editions_validate_against_tei_all: skipped: no TEI edition in editions/ yet");
        return;
    }
    for version in ["4.12.0", "4.3.0"] {
        let Some(s) = tei(version) else { return };
        let mut v = Validator::new(&s);
        for d in &docs {
            let text = std::fs::read_to_string(d).unwrap_or_default();
            let r = v.validate(&text);
            assert!(
                !r.has_errors(),
                "{} against tei_all {version}: {:?}",
                d.display(),
                r.diagnostics
            );
        }
    }
}

#[test]
fn garbage_never_panics() {
    let rng = r#"<grammar xmlns="http://relaxng.org/ns/structure/1.0"><start><ref name="a"/></start>
      <define name="a"><element name="a"><zeroOrMore><choice><ref name="a"/><text/><attribute><anyName/></attribute></choice></zeroOrMore></element></define></grammar>"#;
    let s = match schema::compile_rng(rng, Path::new("g.rng"), &mut FsResolver) {
        Ok(s) => s,
        Err(e) => panic!("{}", e.to_short()),
    };
    let mut v = Validator::new(&s);
    let doc = "<a x='1'><a>t&amp;<a/></a><!-- c --><![CDATA[x]]></a>";
    // Every prefix, and a few byte-garbled variants, of a document and of the schema.
    for i in 0..=doc.len() {
        if let Some(pre) = doc.get(..i) {
            let _ = v.validate(pre);
        }
    }
    for i in 0..=rng.len() {
        if let Some(pre) = rng.get(..i) {
            let _ = schema::compile_rng(pre, Path::new("g.rng"), &mut FsResolver);
        }
    }
    let mut bytes: Vec<u8> = doc.bytes().collect();
    for i in 0..bytes.len() {
        let old = bytes[i];
        bytes[i] = b"<>&;'\"/!?x\0"[i % 11];
        if let Ok(t) = std::str::from_utf8(&bytes) {
            let _ = v.validate(t);
        }
        bytes[i] = old;
    }
    // Pseudo-random mutations (a fixed linear congruential sequence: deterministic).
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let alphabet = b"<>&;'\"/!?=:x- \n#[]{}()*+.\\";
    let inputs: Vec<(bool, &str)> = vec![(true, rng), (false, doc)];
    for (is_schema, base) in inputs {
        for _ in 0..300 {
            let mut b: Vec<u8> = base.bytes().collect();
            for _ in 0..(1 + next() % 4) {
                if b.is_empty() {
                    break;
                }
                let i = next() % b.len();
                match next() % 3 {
                    0 => b[i] = alphabet[next() % alphabet.len()],
                    1 => {
                        b.remove(i);
                    }
                    _ => b.insert(i, alphabet[next() % alphabet.len()]),
                }
            }
            if let Ok(t) = std::str::from_utf8(&b) {
                if is_schema {
                    if let Ok(s2) = schema::compile_rng(t, Path::new("m.rng"), &mut FsResolver) {
                        let _ = Validator::new(&s2).validate(doc);
                    }
                } else {
                    let _ = v.validate(t);
                }
            }
        }
    }
    let dt_schema = r#"<element name="a" xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes"><choice><data type="dateTime"/><data type="duration"/><data type="decimal"><param name="totalDigits">3</param></data><data type="base64Binary"/><data type="double"/><list><data type="gYear"/></list></choice></element>"#;
    let Ok(dts) = schema::compile_rng(dt_schema, Path::new("dt.rng"), &mut FsResolver) else {
        panic!("datatype schema")
    };
    let mut dv = Validator::new(&dts);
    for value in [
        "99999999999999999999-01-01T00:00:00Z",
        "-0001-13-01T00:00:00",
        "P99999999999999999999Y",
        "PT1.S",
        "1e999999",
        "9".repeat(500).as_str(),
        "====",
        "-INF",
        "2024-02-30T24:00:00+14:01",
        "P1Y-2M",
        "",
        " ",
        "1.5e",
        "--",
        "0001 99999999999999",
    ] {
        let _ = dv.validate(&format!("<a>{value}</a>"));
    }
    let n = 100_000;
    let deep = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
    assert!(!v.validate(&deep).has_errors());
    let unclosed = "<a>".repeat(n);
    assert!(v.validate(&unclosed).has_errors());
    let deep_schema = format!(
        r#"<element name="a" xmlns="http://relaxng.org/ns/structure/1.0">{}<empty/>{}</element>"#,
        "<group>".repeat(20_000),
        "</group>".repeat(20_000)
    );
    assert!(schema::compile_rng(&deep_schema, Path::new("d.rng"), &mut FsResolver).is_err());
}

/// Every document of the shared corpora, whole, truncated and with a byte that is not UTF-8, gets
/// the same findings against tei_all whether it is validated from text in memory, from a stream
/// read in small chunks, or from a stream read on a second thread (`xml::stream::pipe`).
#[test]
fn streamed_validation_agrees_with_whole_documents() {
    use teikit::xml::stream::{StreamReader, pipe};
    let Some(s) = tei("4.12.0") else { return };
    let Some(corpora) = shared_file("streamed_validation", "corpora") else {
        return;
    };
    let mut files = Vec::new();
    let mut dirs = vec![corpora];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "xml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 100, "corpora: {} files", files.len());
    let mut v = Validator::new(&s);
    let mut compared = 0;
    let mut findings = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        let body = bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&bytes)
            .to_vec();
        let half = body.len() / 2;
        let truncated = body.get(..half).unwrap_or_default().to_vec();
        let mut bad = body.clone();
        if let Some(b) = bad.get_mut(half) {
            *b = 0xFF;
        }
        for doc in [body, truncated, bad] {
            let text = String::from_utf8_lossy(&doc).into_owned();
            let whole = v.validate(&text);
            let chunked = v.validate_events(&mut StreamReader::new(
                std::io::BufReader::with_capacity(997, doc.as_slice()),
            ));
            let piped = pipe(doc.as_slice(), |src| v.validate_events(src));
            let key = |r: &teikit::diag::Report| -> Vec<String> {
                r.diagnostics
                    .iter()
                    .map(|d| format!("{} {:?} {}", d.code, d.span, d.message))
                    .collect()
            };
            // Bytes that are not UTF-8 were replaced in `text`: only the streams see them.
            if std::str::from_utf8(&doc).is_ok() {
                assert_eq!(key(&chunked), key(&whole), "{} (chunked)", f.display());
            }
            assert_eq!(key(&piped), key(&chunked), "{} (piped)", f.display());
            findings += whole.diagnostics.len();
            compared += 1;
        }
    }
    println!("streamed validation: {compared} documents, {findings} findings, all agree");
}
