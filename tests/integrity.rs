//! Behaviour of `teikit validate --checks integrity` through the binary.
//!
//! Owns: the fixture table (`tests/fixtures/integrity/`, one defect each, found with its exact
//! code on its line and nothing else, with TEI's pointer list and with pointer attributes read
//! from `tei_all`), snapshots of the three output formats, and the shared documents that must get
//! no integrity error (the founding edition, editions converted from `../shared/sources/wilson/`,
//! the 150 Schnitzler letters). Shared data comes from `TEIKIT_SHARED` (default `../shared`); a
//! missing file skips with a printed reason, and fails under `TEIKIT_REQUIRE_SHARED=1`. It must
//! not time anything (benchmarks live in `benches/`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{files_with_extension, shared_dir, shared_file, teikit_in};
use std::path::{Path, PathBuf};

/// (fixture, expected code or None for a clean document, expected 1-based line).
const TABLE: &[(&str, Option<&str>, usize)] = &[
    ("pointer-ref", Some("ref/dangling"), 13),
    ("pointer-target", Some("ref/dangling"), 13),
    ("pointer-corresp", Some("ref/dangling"), 13),
    ("pointer-who", Some("ref/dangling"), 13),
    ("pointer-resp", Some("ref/dangling"), 13),
    ("pointer-source", Some("ref/dangling"), 13),
    ("pointer-sameAs", Some("ref/dangling"), 13),
    ("pointer-ana", Some("ref/dangling"), 13),
    ("pointer-facs", Some("ref/dangling"), 13),
    ("pointer-hand", Some("ref/dangling"), 13),
    ("pointer-next", Some("ref/dangling"), 13),
    ("pointer-prev", Some("ref/dangling"), 13),
    ("pointer-spanTo", Some("ref/dangling"), 13),
    ("pointer-span-from", Some("ref/dangling"), 13),
    ("pointer-rendition", Some("ref/dangling"), 19),
    ("rendition-external", Some("ref/rendition-external"), 13),
    ("id-duplicate", Some("id/duplicate"), 14),
    ("register-unused", Some("register/unused"), 18),
    ("prefixdef-dangling", Some("ref/dangling"), 20),
    ("prefixdef-file", Some("ref/dangling"), 20),
    ("prefixdef-undefined", Some("ref/prefix-undefined"), 19),
    ("prefixdef-unmatched", Some("ref/prefix-unmatched"), 19),
    ("prefixdef-invalid", Some("ref/prefixdef-invalid"), 12),
    ("file-dangling", Some("ref/dangling"), 14),
    ("file-missing", Some("ref/file-missing"), 13),
    ("date-invalid-when", Some("date/invalid"), 13),
    ("date-invalid-notBefore", Some("date/invalid"), 13),
    ("date-invalid-notAfter", Some("date/invalid"), 13),
    ("date-invalid-from", Some("date/invalid"), 13),
    ("date-invalid-to", Some("date/invalid"), 13),
    ("date-invalid-when-iso", Some("date/invalid"), 13),
    ("date-inverted-from-to", Some("date/inverted"), 13),
    (
        "date-inverted-notBefore-notAfter",
        Some("date/inverted"),
        13,
    ),
    ("date-mismatch-day-month-year", Some("date/mismatch"), 13),
    ("date-mismatch-month-day-year", Some("date/mismatch"), 13),
    ("date-mismatch-ordinal", Some("date/mismatch"), 13),
    ("date-invalid-birth", Some("date/invalid"), 17),
    ("clean", None, 0),
    ("clean-remote-base", None, 0),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/integrity")
}

/// `teikit validate --checks integrity --format short FILE`, run in `dir`.
fn integrity_short(dir: &Path, file: &str) -> (i32, String, String) {
    teikit_in(
        dir,
        &[
            "validate",
            "--checks",
            "integrity",
            "--format",
            "short",
            file,
        ],
    )
}

/// `teikit validate --checks integrity --format json EXTRA... PATHS...`, run in `dir`.
fn integrity_json(dir: &Path, extra: &[&str], paths: &[PathBuf]) -> (i32, String, String) {
    let mut args: Vec<String> = ["validate", "--checks", "integrity", "--format", "json"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    teikit_in(dir, &refs)
}

/// (path, severity, code, line) of every finding of a JSON Lines report (one object a line).
fn findings(json: &str) -> Vec<(String, String, String, usize)> {
    json.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).expect("json line");
            (
                d["file"].as_str().unwrap_or("").to_string(),
                d["severity"].as_str().unwrap_or("").to_string(),
                d["code"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0) as usize,
            )
        })
        .collect()
}

fn check_table(extra: &[&str], label: &str) {
    let dir = fixtures();
    let mut args = vec!["validate", "--checks", "integrity", "--format", "json"];
    args.extend_from_slice(extra);
    let names: Vec<String> = TABLE.iter().map(|(n, _, _)| format!("{n}.xml")).collect();
    args.extend(names.iter().map(String::as_str));
    let (_, out, err) = teikit_in(&dir, &args);
    let all = findings(&out);
    let mut failures = Vec::new();
    for (name, code, line) in TABLE {
        let file = format!("{name}.xml");
        let got: Vec<(String, usize)> = all
            .iter()
            .filter(|f| f.0 == file)
            .map(|f| (f.2.clone(), f.3))
            .collect();
        let want: Vec<(String, usize)> = code.iter().map(|c| (c.to_string(), *line)).collect();
        if got != want {
            failures.push(format!("{file}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{label}:\n{}\nstderr: {err}",
        failures.join("\n")
    );
}

/// Every fixture of the table is a file, and every fixture file is in the table.
#[test]
fn table_covers_every_fixture() {
    let mut files: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".xml"))
        .collect();
    files.sort();
    let mut names: Vec<String> = TABLE.iter().map(|(n, _, _)| format!("{n}.xml")).collect();
    names.sort();
    assert_eq!(files, names);
    // Every pointer attribute the issue names has its fixture.
    for a in [
        "ref", "target", "corresp", "who", "resp", "source", "sameAs", "ana", "facs", "hand",
        "next", "prev", "spanTo",
    ] {
        assert!(
            TABLE.iter().any(|(n, _, _)| *n == format!("pointer-{a}")),
            "no fixture for @{a}"
        );
    }
}

/// Each defect is found, with its code, on its line, and nothing else is (TEI's pointer list).
#[test]
fn fixtures_without_schema() {
    check_table(&[], "TEI's pointer list");
}

/// The same with pointer and date attributes read from tei_all's attribute datatypes.
#[test]
fn fixtures_with_tei_all_attribute_types() {
    let Some(schema) = shared_file(
        "fixtures_with_tei_all_attribute_types",
        "tei-p5/tei_all-4.12.0.rng",
    ) else {
        return;
    };
    let s = schema.to_string_lossy().into_owned();
    check_table(&["--schema", &s], "attribute types from tei_all");
}

/// Exit codes: an error makes the document invalid (1); warnings alone do not (0).
#[test]
fn exit_codes() {
    let dir = fixtures();
    for (name, code, _) in TABLE {
        let file = format!("{name}.xml");
        let (status, _, err) = integrity_short(&dir, &file);
        let warning_only = matches!(*code, Some("register/unused" | "ref/rendition-external"));
        let want = if code.is_none() || warning_only { 0 } else { 1 };
        assert_eq!(status, want, "{file}: {err}");
    }
    let (status, _, err) = teikit_in(
        &dir,
        &["validate", "--checks", "integrity,nonsense", "clean.xml"],
    );
    assert_eq!(status, 2, "{err}");
    // --checks rng alone skips integrity: a dangling pointer is not reported.
    let (status, out, _) = teikit_in(
        &dir,
        &[
            "validate",
            "--checks",
            "rng",
            "--format",
            "short",
            "pointer-ref.xml",
        ],
    );
    // (Without a schema, RELAX NG uses the bundled edition schema, which this fixture does not
    // follow; what matters here is that no integrity finding appears.)
    assert!(status <= 1, "{out}");
    assert!(!out.contains("no element has xml:id"), "{out}");
}

const SNAPSHOT_FILES: &[&str] = &[
    "pointer-ref.xml",
    "id-duplicate.xml",
    "prefixdef-dangling.xml",
    "file-dangling.xml",
    "date-invalid-when.xml",
    "date-inverted-from-to.xml",
    "date-mismatch-ordinal.xml",
    "register-unused.xml",
];

fn formatted(format: &str) -> String {
    let mut args = vec!["validate", "--checks", "integrity", "--format", format];
    args.extend_from_slice(SNAPSHOT_FILES);
    teikit_in(&fixtures(), &args).1
}

#[test]
fn short_format() {
    insta::assert_snapshot!("integrity_short", formatted("short"));
}

#[test]
fn human_format() {
    insta::assert_snapshot!("integrity_human", formatted("human"));
}

#[test]
fn json_format() {
    insta::assert_snapshot!("integrity_json", formatted("json"));
}

/// The default pointer list (no schema) names only attributes tei_all types as pointers.
#[test]
fn default_pointer_list_is_tei_all_pointers() {
    let Some(schema) = shared_file(
        "default_pointer_list_is_tei_all_pointers",
        "tei-p5/tei_all-4.12.0.rng",
    ) else {
        return;
    };
    let s = teikit::schema::load_rng(&schema).expect("tei_all compiles");
    let kinds = teikit::integrity::attrs::AttrKinds::from_schema(&s);
    let typed = kinds.pointer_attributes();
    for a in teikit::integrity::attrs::TEI_POINTER_ATTRIBUTES {
        assert!(
            typed.iter().any(|t| t == a),
            "@{a} is not a pointer in tei_all"
        );
    }
}

/// Integrity errors (not warnings) of a set of documents, as `path:line: code`.
fn integrity_errors(dir: &Path, paths: &[PathBuf]) -> (Vec<String>, usize) {
    let (status, out, err) = integrity_json(dir, &[], paths);
    assert!(status == 0 || status == 1, "exit {status}: {err}");
    let all = findings(&out);
    let warnings = all.iter().filter(|f| f.1 == "warning").count();
    let errors = all
        .iter()
        .filter(|f| f.1 == "error")
        .map(|f| format!("{}:{}: {}", f.0, f.3, f.2))
        .collect();
    (errors, warnings)
}

/// The founding edition has no integrity error.
#[test]
fn founding_edition() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ed = root.join("editions/112971-khrushchev-to-tito-1954-09-23.xml");
    if !ed.is_file() {
        // editions/ arrives with the converter (branch main); not shared data.
        println!(
            "founding_edition: skipped: {} is not in this tree yet",
            ed.display()
        );
        return;
    }
    let (errors, warnings) = integrity_errors(root, &[ed]);
    assert!(errors.is_empty(), "{errors:#?}");
    println!("founding_edition: 0 integrity errors, {warnings} warning(s)");
}

/// The editions of the shared Wilson documents, converted by the binary, have no integrity error.
#[test]
fn wilson_editions() {
    let Some(src) = shared_file("wilson_editions", "sources/wilson") else {
        return;
    };
    let txts = files_with_extension(&src, "txt");
    assert!(!txts.is_empty(), "no .txt in {}", src.display());
    let out = tempfile::tempdir().unwrap();
    let (_, help, _) = teikit_in(out.path(), &["convert", "--help"]);
    if !help.contains("--date") {
        // The converter lives on branch main; this branch has only its stub.
        println!("wilson_editions: skipped: `teikit convert` is not in this build yet");
        return;
    }
    let mut editions = Vec::new();
    for t in &txts {
        let name = t.file_stem().unwrap().to_string_lossy().into_owned();
        let xml = out.path().join(format!("{name}.xml"));
        let (status, _, err) = teikit_in(
            out.path(),
            &[
                "convert",
                &t.to_string_lossy(),
                "--date",
                "2026-11-30",
                "-o",
                &xml.to_string_lossy(),
            ],
        );
        assert_eq!(status, 0, "convert {}: {err}", t.display());
        editions.push(xml);
    }
    let (errors, warnings) = integrity_errors(out.path(), &editions);
    assert!(errors.is_empty(), "{errors:#?}");
    println!(
        "wilson_editions: {} editions, 0 integrity errors, {warnings} warning(s)",
        editions.len()
    );
}

/// The 150 Schnitzler letters have no integrity error, with TEI's list and with tei_all's types.
/// Their links to other letters are bare tokens (`target="L00139"`, no fragment) under an
/// absolute `xml:base` (`https://id.acdh.oeaw.ac.at/...`): remote resources, left alone, also
/// for the letters of the full edition that are not among these 150. Their undeclared
/// `@rendition` values (`#langesS`, ...) are warnings, once per value and letter.
#[test]
fn schnitzler_letters() {
    let Some(dir) = shared_file("schnitzler_letters", "corpora/schnitzler-briefe/editions") else {
        return;
    };
    let letters = files_with_extension(&dir, "xml");
    assert_eq!(letters.len(), 150);
    let (errors, warnings) = integrity_errors(&dir, &letters);
    assert!(errors.is_empty(), "{errors:#?}");
    println!("schnitzler_letters: 150 letters, 0 integrity errors, {warnings} warning(s)");
    let schema = shared_dir().join("tei-p5/tei_all-4.12.0.rng");
    if schema.is_file() {
        let schema = schema.to_string_lossy().into_owned();
        let (_, out, _) = integrity_json(&dir, &["--schema", &schema], &letters);
        let errors: Vec<_> = findings(&out)
            .into_iter()
            .filter(|f| f.1 == "error")
            .collect();
        assert!(errors.is_empty(), "with tei_all's types: {errors:#?}");
    }
}

/// A relative file pointer under a relative xml:base is local: a missing file is an error;
/// under an absolute xml:base it is remote and left alone (regression of the decision in the
/// module documentation of `integrity`).
#[test]
fn file_pointers_local_or_remote() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |base: &str| {
        format!(
            "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><text><body><div xml:base=\"{base}\">\
             <p><ref target=\"other.xml#x\">x</ref></p></div></body></text></TEI>\n"
        )
    };
    std::fs::write(dir.path().join("local.xml"), doc("sub/")).unwrap();
    std::fs::write(dir.path().join("remote.xml"), doc("https://example.org/")).unwrap();
    let (s, out, _) = integrity_short(dir.path(), "local.xml");
    assert_eq!(s, 1);
    assert!(out.contains("sub/other.xml"), "{out}");
    let (s, out, _) = integrity_short(dir.path(), "remote.xml");
    assert_eq!((s, out.as_str()), (0, ""));
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/other.xml"),
        "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><p xml:id=\"x\"/></TEI>",
    )
    .unwrap();
    let (s, out, _) = integrity_short(dir.path(), "local.xml");
    assert_eq!((s, out.as_str()), (0, ""));
}

/// The light reader (used beside RELAX NG, which checks well-formedness) gives exactly the
/// strict reader's findings on every fixture and Schnitzler letter, and on documents it hands
/// back to the strict reader (a DTD with an entity, CDATA, character references).
#[test]
fn light_reader_agrees_with_strict_reader() {
    use teikit::integrity::{FsDocuments, attrs::AttrKinds, check, check_well_formed};
    let kinds = AttrKinds::tei_default();
    let mut docs: Vec<PathBuf> = TABLE
        .iter()
        .map(|(n, _, _)| fixtures().join(format!("{n}.xml")))
        .collect();
    // The Schnitzler letters, where `../shared` has them.
    docs.extend(
        std::fs::read_dir(shared_dir().join("corpora/schnitzler-briefe/editions"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path()),
    );
    for d in &docs {
        let text = std::fs::read_to_string(d).unwrap();
        let dir = d.parent().unwrap();
        let strict = check(&text, &kinds, &mut FsDocuments::new(dir));
        let light = check_well_formed(&text, &kinds, &mut FsDocuments::new(dir));
        assert_eq!(strict, light, "{}", d.display());
    }
    let tei = |body: &str| {
        format!(
            "<!DOCTYPE TEI [<!ENTITY d \"23 September 1954\">]>\n\
             <TEI xmlns=\"http://www.tei-c.org/ns/1.0\">{body}</TEI>"
        )
    };
    for body in [
        "<date when=\"1954-09-24\">&d;</date>",
        "<date when=\"1954-09-24\"><![CDATA[23 September]]> 1954</date>",
        "<date when=\"1954-09-24\">23&#x20;September&#32;1954</date>",
        "<p xml:id=\"a&amp;\"/><ref target=\"#a\"/>",
    ] {
        for text in [
            tei(body),
            tei(body).replace("<!DOCTYPE TEI [<!ENTITY d \"23 September 1954\">]>\n", ""),
        ] {
            let strict = check(&text, &kinds, &mut teikit::integrity::NoDocuments);
            let light = check_well_formed(&text, &kinds, &mut teikit::integrity::NoDocuments);
            assert_eq!(strict, light, "{text}");
        }
    }
}

const ID_SCHEMA: &str = r#"<grammar xmlns="http://relaxng.org/ns/structure/1.0"
    ns="http://www.tei-c.org/ns/1.0"
    datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
  <start>
    <element name="TEI">
      <oneOrMore>
        <element name="p">
          <optional><attribute name="xml:id" ns="http://www.w3.org/XML/1998/namespace"><data type="ID"/></attribute></optional>
          <optional><attribute name="when"><data type="date"/></attribute></optional>
          <optional><attribute name="ref"><data type="anyURI"/></attribute></optional>
          <text/>
        </element>
      </oneOrMore>
    </element>
  </start>
</grammar>
"#;

/// A duplicate xml:id is reported once (integrity's `id/duplicate`, naming both occurrences),
/// not again as RELAX NG's ID error; a date both reject is reported once (RELAX NG's); a pointer
/// attribute the schema types as anyURI is checked.
#[test]
fn reported_once_beside_relax_ng() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ids.rng"), ID_SCHEMA).unwrap();
    std::fs::write(
        dir.path().join("doc.xml"),
        "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\">\n<p xml:id=\"a\">x</p>\n<p xml:id=\"a\">y</p>\n\
         <p when=\"1954-02-30\">z</p>\n<p ref=\"#b\">w</p>\n</TEI>\n",
    )
    .unwrap();
    let (status, out, err) = teikit_in(
        dir.path(),
        &[
            "validate", "--format", "json", "--schema", "ids.rng", "doc.xml",
        ],
    );
    assert_eq!(status, 1, "{err}");
    let got: Vec<(String, usize)> = findings(&out).into_iter().map(|f| (f.2, f.3)).collect();
    assert_eq!(
        got,
        vec![
            ("rng/attribute-value-invalid".to_string(), 4),
            ("id/duplicate".to_string(), 3),
            ("ref/dangling".to_string(), 5),
        ]
    );
    // With RELAX NG off, integrity reports the date itself (the schema types @when as a date).
    let (_, out, _) = integrity_json(
        dir.path(),
        &["--schema", "ids.rng"],
        &[PathBuf::from("doc.xml")],
    );
    let got: Vec<String> = findings(&out).into_iter().map(|f| f.2).collect();
    assert_eq!(got, vec!["id/duplicate", "date/invalid", "ref/dangling"]);
}

/// Deeply nested and broken documents: a finding or a well-formedness error, never a crash.
#[test]
fn deep_and_broken_documents() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 100_000;
    let deep = format!(
        "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\">{}<ref target=\"#x\"/>{}</TEI>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    std::fs::write(dir.path().join("deep.xml"), &deep).unwrap();
    std::fs::write(dir.path().join("broken.xml"), &deep[..deep.len() / 2]).unwrap();
    let (status, out, err) = integrity_short(dir.path(), "deep.xml");
    assert_eq!(status, 1, "{err}");
    assert!(out.contains("no element has xml:id \"x\""), "{out}");
    let (status, out, _) = integrity_short(dir.path(), "broken.xml");
    assert_eq!(status, 1);
    assert_eq!(out.lines().count(), 1, "{out}");
}
