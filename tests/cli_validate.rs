//! Behaviour of `teikit validate` and `teikit schema` through the binary: exit codes (0 valid,
//! 1 invalid or not well-formed, 2 usage/I/O/schema not found, 3 schema incorrect; highest
//! wins), and snapshots of every output format (human, short, json). Also, when jing is
//! installed and `../shared` is present, the positions of our findings are compared with jing's
//! on part of the Schnitzler corpus (jing is an oracle here, never a runtime dependency; a
//! missing jing or shared file skips with a printed reason, or fails under
//! `TEIKIT_REQUIRE_SHARED=1`, through `tests/common`).

// Test code: a failed expectation panics.
#![allow(clippy::panic)]

mod common;

use common::{jing, shared_file, teikit_in};
use std::path::{Path, PathBuf};
use std::process::Command;

const SCHEMA: &str = r#"<grammar xmlns="http://relaxng.org/ns/structure/1.0"
    datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
  <start>
    <element name="letter">
      <attribute name="date"><data type="date"/></attribute>
      <element name="opener"><text/></element>
      <oneOrMore><element name="p"><text/></element></oneOrMore>
    </element>
  </start>
</grammar>
"#;

const VALID: &str =
    "<letter date=\"1954-09-23\">\n  <opener>Dear comrade</opener>\n  <p>Text.</p>\n</letter>\n";
const INVALID: &str = "<letter date=\"23.9.1954\">\n  <p>Text.</p>\n  <note/>\n</letter>\n";
const BROKEN: &str = "<letter date=\"1954-09-23\">\n  <opener>x</p>\n</letter>\n";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("no temp dir: {e}"),
        };
        let f = Fixture { dir };
        f.write("letter.rng", SCHEMA);
        f.write("valid.xml", VALID);
        f.write("invalid.xml", INVALID);
        f.write("broken.xml", BROKEN);
        f.write(
            "bad.rng",
            "<element name=\"a\" xmlns=\"http://relaxng.org/ns/structure/1.0\">\n  <attribute name=\"b\"><element name=\"c\"><empty/></element></attribute>\n</element>\n",
        );
        f
    }

    fn write(&self, name: &str, text: &str) {
        if let Err(e) = std::fs::write(self.dir.path().join(name), text) {
            panic!("cannot write {name}: {e}");
        }
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        teikit_in(self.dir.path(), args)
    }

    /// `teikit validate --schema letter.rng ARGS...`.
    fn validate_letter(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["validate", "--schema", "letter.rng"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// `teikit validate --checks rng --format short --schema letter.rng FILE`.
    fn short_rng(&self, file: &str) -> (i32, String, String) {
        let mut args = SHORT_RNG.to_vec();
        args.push(file);
        self.run(&args)
    }
}

#[test]
fn exit_codes() {
    let f = Fixture::new();
    let v = |args: &[&str]| f.run(args).0;
    assert_eq!(v(&["validate", "--schema", "letter.rng", "valid.xml"]), 0);
    assert_eq!(v(&["validate", "--schema", "letter.rng", "invalid.xml"]), 1);
    assert_eq!(v(&["validate", "--schema", "letter.rng", "broken.xml"]), 1);
    // No <?xml-model?> and no --schema: the bundled edition schema applies, which a <letter>
    // does not match.
    assert_eq!(v(&["validate", "valid.xml"]), 1, "bundled edition schema");
    assert_eq!(
        v(&["validate", "--checks", "integrity", "valid.xml"]),
        0,
        "well-formedness only"
    );
    assert_eq!(v(&["validate", "broken.xml"]), 1);
    assert_eq!(v(&["validate", "--schema", "missing.rng", "valid.xml"]), 2);
    assert_eq!(v(&["validate", "--schema", "letter.rng", "missing.xml"]), 2);
    assert_eq!(v(&["validate", "--schema", "bad.rng", "valid.xml"]), 3);
    assert_eq!(
        v(&[
            "validate",
            "--schema",
            "bad.rng",
            "--schema",
            "missing.rng",
            "valid.xml"
        ]),
        3,
        "highest wins"
    );
    assert_eq!(v(&["validate", "--schema", "letter.rnc", "valid.xml"]), 2);
    assert_eq!(v(&["schema", "check", "letter.rng"]), 0);
    assert_eq!(v(&["schema", "check", "bad.rng"]), 3);
    assert_eq!(v(&["schema", "check", "missing.rng"]), 2);
    let convert = [
        "schema",
        "convert",
        "letter.rng",
        "--to",
        "rng",
        "-o",
        "out.rng",
    ];
    assert_eq!(v(&convert), 0);
    assert_eq!(v(&convert), 2, "no overwrite without --force");
    assert_eq!(v(&["schema", "check", "out.rng"]), 0);
    assert_eq!(v(&["schema", "convert", "letter.rng", "--to", "xsd"]), 2);
}

#[test]
fn schema_error_is_located() {
    let f = Fixture::new();
    let (code, _, err) = f.run(&["schema", "check", "bad.rng"]);
    assert_eq!(code, 3);
    insta::assert_snapshot!(err.trim_end(), @"bad.rng:2:23: error: element is not allowed inside attribute (RELAX NG §7.1)");
}

#[test]
fn short_format() {
    let f = Fixture::new();
    let (code, out, _) = f.validate_letter(&[
        "--format",
        "short",
        "valid.xml",
        "invalid.xml",
        "broken.xml",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("short", out);
}

#[test]
fn human_format() {
    let f = Fixture::new();
    let (_, out, _) = f.validate_letter(&["valid.xml", "invalid.xml"]);
    insta::assert_snapshot!("human", out);
}

#[test]
fn json_format() {
    let f = Fixture::new();
    let (_, out, _) = f.validate_letter(&["--format", "json", "invalid.xml"]);
    insta::assert_snapshot!("json", out);
}

#[test]
fn directories_are_walked_in_order() {
    let f = Fixture::new();
    let sub = f.dir.path().join("docs");
    std::fs::create_dir_all(&sub).ok();
    std::fs::write(sub.join("b.xml"), INVALID).ok();
    std::fs::write(sub.join("a.xml"), VALID).ok();
    let (code, out, _) = f.validate_letter(&["--format", "short", "docs"]);
    assert_eq!(code, 1);
    assert!(out.lines().all(|l| l.starts_with("docs/b.xml:")), "{out}");
}

/// Positions (path:line:col) of findings agree with jing's on the first Schnitzler letters.
#[test]
fn positions_agree_with_jing() {
    let test = "positions_agree_with_jing";
    let (Some(schema), Some(corpus), Some(jing)) = (
        shared_file(test, "tei-p5/tei_all-4.12.0.rng"),
        shared_file(test, "corpora/schnitzler-briefe/editions"),
        jing(test),
    ) else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files.truncate(25);
    let positions = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| l.contains(": error: ") && !l.contains("first occurrence"))
            .filter_map(|l| l.split(": error: ").next().map(str::to_string))
            .collect()
    };
    let Ok(j) = Command::new(&jing).arg(&schema).args(&files).output() else {
        println!("positions_agree_with_jing: skipped: jing does not run");
        return;
    };
    let Ok(o) = Command::new(env!("CARGO_BIN_EXE_teikit"))
        .args([
            "validate", "--checks", "rng", "--format", "short", "--schema",
        ])
        .arg(&schema)
        .args(&files)
        .output()
    else {
        panic!("cannot run teikit")
    };
    let (jp, op) = (positions(&j.stdout), positions(&o.stdout));
    assert!(!jp.is_empty());
    assert_eq!(op, jp);
}

const NAMES_RNC: &str = r#"default namespace = "http://www.tei-c.org/ns/1.0"
start = element p { attribute type { "main" | "sub" | "alt" | "desc" | "short" | "long" | "full" | "part" | "none" }?, attribute xml:id { xsd:ID }?, (text | phrase)* }
phrase = element persName { text } | element placeName { text } | element orgName { text }
  | element date { attribute when { xsd:date }, text } | element name { text }
  | element rs { text } | element hi { text } | element foreign { text } | element term { text }
  | element list { element item { text }+ }
"#;

const NAMES_DOC: &str = r#"<p xmlns="http://www.tei-c.org/ns/1.0" tpye="main">Dear <persname>Tito</persname>,
on <date when="1954-09-32">23 Sept</date> in <placeName>Moscow</placeName>.
<list>
</list>
</p>
"#;

/// Messages name what was found, rank what was expected (at most 6 names, then "N more"),
/// suggest a near name, and in human format point at the rejecting definition (of an XML
/// schema; definitions in compact syntax are not pointed at).
#[test]
fn messages_rank_suggest_and_point_at_definitions() {
    let f = Fixture::new();
    f.write("names.rnc", NAMES_RNC);
    let (code, _, err) = f.run(&[
        "schema",
        "convert",
        "names.rnc",
        "--to",
        "rng",
        "-o",
        "names.rng",
    ]);
    assert_eq!(code, 0, "{err}");
    f.write("names.xml", NAMES_DOC);
    for (format, name) in [
        ("short", "messages_short"),
        ("human", "messages_human"),
        ("json", "messages_json"),
    ] {
        let (code, out, _) = f.run(&[
            "validate",
            "--schema",
            "names.rng",
            "--format",
            format,
            "names.xml",
        ]);
        assert_eq!(code, 1);
        insta::assert_snapshot!(name, out);
        if format == "json" {
            for l in out.lines() {
                let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
                let n = v["expected"].as_array().map_or(0, Vec::len);
                assert!(n <= 8, "{l}");
            }
        }
    }
}

fn founding_edition() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("editions/112971-khrushchev-to-tito-1954-09-23.xml");
    std::fs::read_to_string(p).unwrap_or_default()
}

/// `<?xml-model?>` is honoured by schematypens; bundled schemas resolve by name or URL; a
/// missing or remote schema is exit 2 with how to supply it; no declaration means the bundled
/// edition schema, and the output says so.
#[test]
fn xml_model_and_bundled_schemas() {
    let f = Fixture::new();
    let rng = "http://relaxng.org/ns/structure/1.0";
    f.write(
        "declared.xml",
        &format!("<?xml-model href=\"letter.rng\" schematypens=\"{rng}\"?>\n{VALID}"),
    );
    f.write(
        "declared-invalid.xml",
        &format!("<?xml-model href=\"letter.rng\" schematypens=\"{rng}\"?>\n{INVALID}"),
    );
    f.write(
        "missing-schema.xml",
        &format!("<?xml-model href=\"nowhere/x.rng\" schematypens=\"{rng}\"?>\n{VALID}"),
    );
    f.write(
        "remote-schema.xml",
        &format!(
            "<?xml-model href=\"https://example.org/tei_all.rng\" schematypens=\"{rng}\"?>\n{VALID}"
        ),
    );
    let edition = founding_edition();
    assert!(edition.contains("https://teikit.org/schemas/teikit-edition.rnc"));
    assert!(edition.contains("https://teikit.org/schemas/teikit-edition.sch"));
    f.write("edition.xml", &edition);
    f.write(
        "bare-edition.xml",
        &edition.replace("<?xml-model", "<?not-a-model"),
    );
    // A name in the text without @ref breaks a rule of teikit-edition.sch.
    let body = edition.find("<body").unwrap_or(0);
    let unlinked = format!(
        "{}{}",
        &edition[..body],
        edition[body..].replacen("<persName ref=", "<persName type=", 1)
    );
    f.write("unlinked.xml", &unlinked);

    assert_eq!(f.run(&["validate", "declared.xml"]).0, 0);
    assert_eq!(f.run(&["validate", "declared-invalid.xml"]).0, 1);
    let (code, _, err) = f.run(&["validate", "missing-schema.xml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not found") && err.contains("--schema"),
        "{err}"
    );
    let (code, _, err) = f.run(&["validate", "remote-schema.xml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not fetched") && err.contains("--schema"),
        "{err}"
    );
    let (code, out, err) = f.run(&["validate", "--format", "short", "edition.xml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "");
    let (code, out, _) = f.run(&["validate", "--format", "short", "bare-edition.xml"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("default_schema_note", out);
    let (code, out, _) = f.run(&["validate", "--format", "short", "unlinked.xml"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("has no @ref"), "{out}");
    // --checks rng leaves the rules out; a bundled schema by name with --schema.
    assert_eq!(f.run(&["validate", "--checks", "rng", "unlinked.xml"]).0, 0);
    assert_eq!(
        f.run(&["validate", "--schema", "teikit-edition.sch", "unlinked.xml"])
            .0,
        1
    );
    assert_eq!(
        f.run(&["validate", "--schema", "teikit-edition.rnc", "unlinked.xml"])
            .0,
        0
    );
    let (code, out, _) = f.run(&["schema", "list"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("schema_list", out);
}

/// The compiled-schema cache: an entry is written on first use, used afterwards, and a corrupt
/// or stale entry is ignored and rebuilt (never an error).
#[test]
fn compiled_schema_cache() {
    let f = Fixture::new();
    let cache = f.dir.path().join("cache");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_teikit"))
            .args(args)
            .current_dir(f.dir.path())
            .env("TEIKIT_CACHE_DIR", &cache)
            .output();
        let Ok(out) = out else {
            panic!("cannot run teikit")
        };
        out.status.code().unwrap_or(-1)
    };
    let entries = || -> Vec<PathBuf> {
        std::fs::read_dir(&cache)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        run(&["validate", "--schema", "letter.rng", "invalid.xml"]),
        1
    );
    let written = entries();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(
        run(&["validate", "--schema", "letter.rng", "invalid.xml"]),
        1
    );
    assert_eq!(run(&["validate", "--schema", "letter.rng", "valid.xml"]), 0);
    // A corrupt entry is ignored and rebuilt.
    for e in &written {
        std::fs::write(e, b"{not json").ok();
    }
    assert_eq!(
        run(&["validate", "--schema", "letter.rng", "invalid.xml"]),
        1
    );
    assert_eq!(run(&["validate", "--schema", "letter.rng", "valid.xml"]), 0);
    let rebuilt = std::fs::read_to_string(&written[0]).unwrap_or_default();
    assert!(rebuilt.starts_with('{') && rebuilt.contains("teikit-compiled-schema"));
    // A changed schema is not served from the old entry: the date becomes optional text.
    f.write(
        "letter.rng",
        &SCHEMA.replace("<data type=\"date\"/>", "<text/>"),
    );
    assert_eq!(run(&["validate", "--schema", "letter.rng", "valid.xml"]), 0);
    let (code, out, _) = f.validate_letter(&["--format", "short", "invalid.xml"]);
    assert_eq!(code, 1);
    assert!(!out.contains("\"date\" is invalid"), "{out}");
}

/// A grammar typing `xml:id` as ID (DTD compatibility, RELAX NG DTD Compatibility §4).
const ID_SCHEMA: &str = r#"<element name="letter" xmlns="http://relaxng.org/ns/structure/1.0"
    datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
  <oneOrMore>
    <element name="p">
      <attribute name="xml:id"><data type="ID"/></attribute>
      <text/>
    </element>
  </oneOrMore>
</element>
"#;

/// A document using one `xml:id` twice, after non-ASCII text and with CRLF line ends.
const DUPLICATE_ID_DOC: &str = "<letter>\r\n  <p xml:id=\"a\">Dear comrade Tito,</p>\r\n  <p xml:id=\"b\">Čestitamo!</p> <p xml:id=\"a\">Again.</p>\r\n</letter>\r\n";

/// A duplicate `xml:id` found by RELAX NG (integrity off) names the first occurrence by line and
/// column in every format (as a hint in json and human; short has no hints).
#[test]
fn duplicate_id_names_the_first_occurrence() {
    let f = Fixture::new();
    f.write("ids.rng", ID_SCHEMA);
    f.write("dup.xml", DUPLICATE_ID_DOC);
    for format in ["short", "json", "human"] {
        let (code, out, err) = f.run(&[
            "validate", "--checks", "rng", "--schema", "ids.rng", "--format", format, "dup.xml",
        ]);
        assert_eq!(code, 1, "{out}{err}");
        if format != "short" {
            // The line and column where the first start tag ends, as jing reports it.
            let hint = "first occurrence of ID \"a\" at line 2, column 17";
            let hint = match format {
                "json" => hint.replace('"', "\\\""),
                _ => hint.to_string(),
            };
            assert!(out.contains(&hint), "{out}");
        }
        insta::assert_snapshot!(format!("duplicate_id_{format}"), out);
    }
}

/// A document of many batches, read as a stream from a file (RELAX NG alone, on a reading
/// thread) and whole from stdin, gets the same findings on the same lines; a BOM, CRLF line
/// ends and non-ASCII text do not shift them.
#[test]
fn streamed_and_whole_documents_get_the_same_findings() {
    let f = Fixture::new();
    let mut doc =
        String::from("\u{feff}<letter date=\"1954-09-23\">\r\n  <opener>Dear comrade</opener>\r\n");
    for i in 0..20_000 {
        match i {
            12_345 => doc.push_str("  <p>Bad <b>child</b> here</p>\r\n"),
            17_000 => doc.push_str("  <note>not allowed</note>\r\n"),
            _ => doc.push_str(&format!("  <p>Paragraph {i} — Čeština.</p>\r\n")),
        }
    }
    doc.push_str("  <p>Last</p>\r\n</letter>\r\n");
    f.write("big.xml", &doc);
    let (code, file_out, _) = f.short_rng("big.xml");
    assert_eq!(code, 1, "{file_out}");
    let lines: Vec<&str> = file_out.lines().collect();
    assert_eq!(lines.len(), 2, "{file_out}");
    assert!(lines[0].starts_with("big.xml:12348:"), "{}", lines[0]);
    assert!(lines[1].starts_with("big.xml:17003:"), "{}", lines[1]);
    let stdin_out = short_from_stdin(&f, doc.as_bytes()).replace("<stdin>:", "big.xml:");
    assert_eq!(stdin_out, file_out);
}

/// `teikit validate` with RELAX NG alone, short format, against the fixture's schema.
const SHORT_RNG: [&str; 7] = [
    "validate",
    "--checks",
    "rng",
    "--format",
    "short",
    "--schema",
    "letter.rng",
];

/// `teikit validate --checks rng --format short --schema letter.rng -` with `bytes` on stdin.
fn short_from_stdin(f: &Fixture, bytes: &[u8]) -> String {
    let mut args = SHORT_RNG.to_vec();
    args.push("-");
    let child = Command::new(env!("CARGO_BIN_EXE_teikit"))
        .args(args)
        .current_dir(f.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        panic!("cannot run teikit")
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        if let Err(e) = stdin.write_all(bytes) {
            panic!("cannot write stdin: {e}");
        }
    }
    let Ok(out) = child.wait_with_output() else {
        panic!("teikit did not finish")
    };
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Documents in UTF-16 and ISO-8859-1 are streamed (transcoded in chunks) and get the findings
/// they get when read whole; bytes outside the declared encoding are a well-formedness error.
#[test]
fn other_encodings_stream_like_whole_documents() {
    let f = Fixture::new();
    let mut text =
        String::from("<letter date=\"1954-09-23\">\r\n  <opener>Dear comrade</opener>\r\n");
    for i in 0..3_000 {
        text.push_str(&format!("  <p>Paragraph {i}: Beograd, déjà vu.</p>\r\n"));
    }
    text.push_str("  <note>é</note>\r\n</letter>\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let latin1: Vec<u8> = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n{text}")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    for (name, bytes) in [("utf16.xml", utf16), ("latin1.xml", latin1)] {
        if let Err(e) = std::fs::write(f.dir.path().join(name), &bytes) {
            panic!("cannot write {name}: {e}");
        }
        let (code, out, _) = f.short_rng(name);
        assert_eq!(code, 1, "{name}: {out}");
        assert_eq!(out.lines().count(), 1, "{name}: {out}");
        assert!(out.contains("\"note\""), "{name}: {out}");
        let whole = short_from_stdin(&f, &bytes).replace("<stdin>:", &format!("{name}:"));
        assert_eq!(out, whole, "{name}");
    }
    f.write(
        "ascii.xml",
        "<?xml version=\"1.0\" encoding=\"us-ascii\"?>\n<letter date=\"1954-09-23\"><opener>é</opener><p/></letter>\n",
    );
    let (code, out, _) = f.short_rng("ascii.xml");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not US-ASCII"), "{out}");
}

/// A byte that is not UTF-8 is reported on its line, whether the document is streamed from a
/// file or read whole from stdin (both used to print 1:1).
#[test]
fn bad_utf8_is_reported_on_its_line() {
    let f = Fixture::new();
    let doc: &[u8] =
        b"<letter date=\"1954-09-23\">\n  <opener>Dear</opener>\n  <p>caf\xE9</p>\n</letter>\n";
    if let Err(e) = std::fs::write(f.dir.path().join("latin.xml"), doc) {
        panic!("cannot write: {e}");
    }
    let (code, out, _) = f.short_rng("latin.xml");
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("latin.xml:3:"), "{out}");
    assert!(out.contains("not valid UTF-8"), "{out}");
    let whole = short_from_stdin(&f, doc);
    assert!(whole.starts_with("<stdin>:3:"), "{whole}");
}
