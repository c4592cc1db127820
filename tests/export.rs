//! Behaviour tests of `teikit export` through the binary: every format of the founding edition
//! is snapshot-tested; for the three other shared archive documents (converted here) and the
//! Schnitzler letters, properties are checked instead: the JSON is valid against
//! `schemas/teikit-export.schema.json`, every span's text taken at its offsets equals the reading
//! string of the TEI element at its path (computed independently here with roxmltree), the text
//! export keeps every word, and the CSV parses with the documented columns. CMIF of the founding
//! letter is valid against the CMIF RELAX NG; the refusals and the file contract are checked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const FOUNDING: &str = "editions/112971-khrushchev-to-tito-1954-09-23.xml";
const DATE: &str = "2026-11-30";
const OTHERS: &[&str] = &[
    "sources/wilson/02-nehru-letter-provincial-premiers-1949.txt",
    "sources/wilson/07-cpsu-cc-cable-tito-1954.txt",
    "sources/wilson/15-kohl-yeltsin-memorandum-1997.txt",
];
const SCHNITZLER: &str = "corpora/schnitzler-briefe/editions";
const CMIF_RNG: &str = "corpora/cmif/schema/cmi-customization.rng";
const CMIF_FLAGS: &[&str] = &[
    "--publisher",
    "teikit project",
    "--url",
    "https://example.org/teikit/editions/112971",
    "--licence",
    "https://creativecommons.org/licenses/by/4.0/",
    "--date",
    DATE,
];
const MENTION_COLUMNS: &[&str] = &[
    "block",
    "offset",
    "length",
    "entity_id",
    "type",
    "surface",
    "register_name",
    "ref",
    "date",
];

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

fn run(args: &[&str]) -> Run {
    let out = teikit(args);
    Run {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn founding() -> String {
    manifest_dir().join(FOUNDING).display().to_string()
}

fn export(format: &str, file: &str) -> Run {
    export_with(format, file, &[])
}

/// `teikit export --to FORMAT FILE EXTRA...`, with the CMIF settings when the format is CMIF.
fn export_with(format: &str, file: &str, extra: &[&str]) -> Run {
    let mut args = vec!["export", "--to", format, file];
    args.extend_from_slice(extra);
    if format == "cmif" {
        args.extend_from_slice(CMIF_FLAGS);
    }
    run(&args)
}

/// `teikit export --corpus INPUT EXTRA... -o OUTDIR`.
fn export_corpus(input: &Path, outdir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["export", "--corpus", input.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["-o", outdir.to_str().unwrap()]);
    run(&args)
}

/// `teikit validate --schema RNG FILES...`.
fn validate_with(rng: &Path, files: &[&Path]) -> Run {
    let mut args = vec!["validate", "--schema", rng.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    run(&args)
}

/// jing, when installed, finds `files` valid against `rng`.
fn assert_jing_accepts(test: &str, rng: &Path, files: &[&Path]) {
    let Some(jing) = jing(test) else { return };
    let v = Command::new(jing).arg(rng).args(files).output().unwrap();
    assert!(
        v.status.success(),
        "not valid (jing):\n{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
}

/// The shared archive documents of `OTHERS`, converted into `dir` (those present; a missing one
/// is skipped with a printed reason, or fails under `TEIKIT_REQUIRE_SHARED=1`).
fn convert_others(test: &str, dir: &Path) -> Vec<PathBuf> {
    let mut written = Vec::new();
    for rel in OTHERS {
        let Some(src) = shared_file(test, rel) else {
            continue;
        };
        let out = dir.join(Path::new(rel).with_extension("xml").file_name().unwrap());
        let r = run(&[
            "convert",
            src.to_str().unwrap(),
            "--date",
            DATE,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{rel}: {}", r.stderr);
        written.push(out);
    }
    written
}

// --- snapshots of the founding edition --------------------------------------------------------

#[test]
fn founding_edition_in_every_format_is_snapshot_tested() {
    for format in ["json", "text", "csv", "csv-register", "cmif", "html"] {
        let r = export(format, &founding());
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        insta::assert_snapshot!(format!("founding_{}", format.replace('-', "_")), r.stdout);
        // Deterministic: the same bytes again.
        assert_eq!(export(format, &founding()).stdout, r.stdout, "{format}");
    }
}

#[test]
fn founding_warnings_say_what_is_not_carried() {
    let mut all = String::new();
    for format in ["json", "text", "csv", "csv-register", "cmif", "html"] {
        let r = export(format, FOUNDING);
        all.push_str(&format!("== {format}\n{}", r.stderr));
    }
    insta::assert_snapshot!("founding_warnings", all);
    assert!(all.contains("person \"Tito\" (received), pointer #tito, has no authority identifier"));
}

// --- CMIF -------------------------------------------------------------------------------------

#[test]
fn founding_cmif_is_valid_against_the_cmif_relax_ng() {
    let test = "founding_cmif_is_valid_against_the_cmif_relax_ng";
    let Some(rng) = shared_file(test, CMIF_RNG) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmif.xml");
    let r = export_with("cmif", FOUNDING, &["-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // teikit's own validator: the CMIF RELAX NG schema, then the CMIF Schematron.
    let v = validate_with(&rng, &[&out]);
    assert_eq!(
        v.code, 0,
        "CMIF not valid against the CMIF RELAX NG:\n{}{}",
        v.stdout, v.stderr
    );
    if let Some(sch) = shared_file(test, "corpora/cmif/odd/cmif.sch") {
        let v = run(&[
            "schematron",
            "--schema",
            sch.to_str().unwrap(),
            "--format",
            "short",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            v.code, 0,
            "CMIF Schematron findings:\n{}{}",
            v.stdout, v.stderr
        );
        assert!(!v.stdout.contains(": error:"), "{}", v.stdout);
    }
    // jing, when installed, agrees.
    assert_jing_accepts(test, &rng, &[&out]);
    // What the CMIF Schematron asks for, also checked directly:
    // sent and received actions, @source pointing at the bibl's UUID id, dated dates.
    let xml = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let bibl = doc
        .descendants()
        .find(|n| n.has_tag_name("bibl"))
        .unwrap()
        .attribute(("http://www.w3.org/XML/1998/namespace", "id"))
        .unwrap();
    let uuid =
        regex::Regex::new("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    assert!(uuid.is_match(bibl));
    for desc in doc.descendants().filter(|n| n.has_tag_name("correspDesc")) {
        assert_eq!(desc.attribute("source"), Some(format!("#{bibl}").as_str()));
        for t in ["sent", "received"] {
            assert!(
                desc.children()
                    .any(|a| a.has_tag_name("correspAction") && a.attribute("type") == Some(t))
            );
        }
    }
    for d in doc.descendants().filter(|n| n.has_tag_name("date")) {
        assert!(
            ["when", "from", "to", "notBefore", "notAfter"]
                .iter()
                .any(|a| d.attribute(*a).is_some())
        );
    }
    // Authority URIs where the register has them, never local pointers.
    assert!(
        xml.contains("<placeName ref=\"http://www.wikidata.org/entity/Q649\">Moscow</placeName>")
    );
    assert!(!xml.contains("ref=\"#"));
}

#[test]
fn schnitzler_cmif_is_valid_against_the_cmif_relax_ng() {
    let test = "schnitzler_cmif_is_valid_against_the_cmif_relax_ng";
    let (Some(rng), Some(dir)) = (shared_file(test, CMIF_RNG), shared_file(test, SCHNITZLER))
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for name in ["L00001.xml", "L00002.xml", "L00050.xml", "L00150.xml"] {
        let file = dir.join(name);
        let target = out.path().join(name);
        let r = export_with(
            "cmif",
            file.to_str().unwrap(),
            &["-o", target.to_str().unwrap()],
        );
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let xml = std::fs::read_to_string(&target).unwrap();
        // The register's GND URIs reach CMIF as they are, not prefixed twice.
        assert!(!xml.contains("gnd/https:"), "{name}");
        written.push(target);
    }
    // teikit's own validator, then jing when installed.
    let written: Vec<&Path> = written.iter().map(PathBuf::as_path).collect();
    let v = validate_with(&rng, &written);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert_jing_accepts(test, &rng, &written);
}

#[test]
fn cmif_without_correspondence_is_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("nocorresp.xml");
    std::fs::write(
        &input,
        r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>T</title></titleStmt></fileDesc></teiHeader><text><body><p>Hello.</p></body></text></TEI>"#,
    )
    .unwrap();
    let out = dir.path().join("out.xml");
    let r = export_with(
        "cmif",
        input.to_str().unwrap(),
        &["-o", out.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no correspondence metadata"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn cmif_names_missing_settings_and_reads_teikit_toml() {
    let r = run(&[
        "export",
        "--to",
        "cmif",
        FOUNDING,
        "--url",
        "https://example.org/x",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("missing: publisher (--publisher), licence URI (--licence)"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("teikit.toml"),
        "[cmif]\npublisher = \"From the file\"\nurl = \"https://example.org/file\"\nlicence = \"https://creativecommons.org/licenses/by/4.0/\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_teikit"))
        .current_dir(dir.path())
        .args([
            "export",
            "--to",
            "cmif",
            &founding(),
            "--date",
            DATE,
            "--publisher",
            "From the flag",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(
        xml.contains(">From the flag</ref>"),
        "flags win over the file"
    );
    assert!(xml.contains("<idno type=\"url\">https://example.org/file</idno>"));

    std::fs::write(dir.path().join("bad.toml"), "[cmif]\npublsher = \"x\"\n").unwrap();
    let bad = dir.path().join("bad.toml");
    let r = run(&[
        "export",
        "--to",
        "cmif",
        FOUNDING,
        "--config",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("publsher"), "{}", r.stderr);
}

// --- the file contract ------------------------------------------------------------------------

#[test]
fn contract_stdin_force_exit_codes() {
    // `-` reads stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_teikit"))
        .args(["export", "--to", "text", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let xml = std::fs::read(manifest_dir().join(FOUNDING)).unwrap();
        child.stdin.take().unwrap().write_all(&xml).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        export("text", FOUNDING).stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.json");
    std::fs::write(&out, "keep").unwrap();
    let r = export_with("json", FOUNDING, &["-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
    let r = export_with("json", FOUNDING, &["-o", out.to_str().unwrap(), "--force"]);
    assert_eq!(r.code, 0);
    assert!(std::fs::read_to_string(&out).unwrap().starts_with('{'));

    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<TEI xmlns=\"http://www.tei-c.org/ns/1.0\"><text>").unwrap();
    let r = run(&["export", "--to", "json", bad.to_str().unwrap()]);
    assert_eq!(r.code, 1, "not well-formed is exit 1");
    assert!(r.stderr.contains("not well-formed"));
    let r = run(&["export", "--to", "pdf", FOUNDING]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown format"));
    let r = run(&["export", "--to", "json", "/nonexistent/x.xml"]);
    assert_eq!(r.code, 2);
    let notei = dir.path().join("notei.xml");
    std::fs::write(&notei, "<html/>").unwrap();
    let r = run(&["export", "--to", "json", notei.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not TEI"), "{}", r.stderr);
}

// --- properties on other documents ------------------------------------------------------------

/// The reading string of a TEI element, computed independently of teikit: descendant text in
/// document order, `note` subtrees left out, `lb`/`pb`/`cb` (unless `@break="no"`) and `space`
/// as one space, XML white space collapsed and trimmed.
fn reading_string(n: roxmltree::Node) -> String {
    let mut s = String::new();
    read_into(n, &mut s);
    s.split([' ', '\t', '\n', '\r'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Chunk-level elements read with a space before and after (the rule the JSON schema states).
fn is_chunk(name: &str) -> bool {
    matches!(
        name,
        "p" | "ab"
            | "head"
            | "l"
            | "lg"
            | "item"
            | "list"
            | "label"
            | "div"
            | "opener"
            | "closer"
            | "salute"
            | "signed"
            | "dateline"
            | "postscript"
            | "byline"
            | "trailer"
            | "address"
            | "addrLine"
            | "seg"
            | "table"
            | "row"
            | "cell"
            | "fw"
            | "figure"
    )
}

fn read_into(n: roxmltree::Node, s: &mut String) {
    for c in n.children() {
        if c.is_text() {
            s.push_str(c.text().unwrap());
        } else if c.is_element() {
            let name = c.tag_name().name();
            if name == "note" {
                continue;
            }
            read_element(c, s, read_into);
        }
    }
}

/// Reads the element `c` into `s` as both readings here do: `lb`/`pb`/`cb` (unless
/// `@break="no"`) and `space` as one space; otherwise its content, read by `read`, with a space
/// before and after when it is chunk-level.
fn read_element(c: roxmltree::Node, s: &mut String, read: fn(roxmltree::Node, &mut String)) {
    let name = c.tag_name().name();
    if matches!(name, "lb" | "pb" | "cb") && c.attribute("break") != Some("no") || name == "space" {
        s.push(' ');
        return;
    }
    let chunk = is_chunk(name);
    if chunk {
        s.push(' ');
    }
    read(c, s);
    if chunk {
        s.push(' ');
    }
}

/// The element at a path `/TEI[1]/text[1]/...`.
fn at_path<'a>(doc: &'a roxmltree::Document, path: &str) -> roxmltree::Node<'a, 'a> {
    let mut cur = doc.root();
    for step in path.trim_start_matches('/').split('/') {
        let (name, rest) = step.split_once('[').unwrap();
        let pos: usize = rest.trim_end_matches(']').parse().unwrap();
        cur = cur
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == name)
            .nth(pos - 1)
            .unwrap_or_else(|| panic!("{path}: no {step}"));
    }
    cur
}

fn schema_validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_dir().join("schemas/teikit-export.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn slice(text: &str, start: usize, len: usize) -> String {
    text.chars().skip(start).take(len).collect()
}

/// Words of the reading text: everything under `text` except the register lists in it.
fn tei_words(doc: &roxmltree::Document) -> Vec<String> {
    let mut out = String::new();
    for text in doc
        .root_element()
        .children()
        .filter(|c| c.has_tag_name("text"))
    {
        collect_words(text, &mut out);
    }
    words(&out)
}

fn collect_words(n: roxmltree::Node, out: &mut String) {
    for c in n.children() {
        if c.is_text() {
            out.push_str(c.text().unwrap());
        } else if c.is_element() {
            let name = c.tag_name().name();
            if matches!(name, "listPerson" | "listPlace" | "listOrg" | "listEvent")
                || (name == "listBibl" && n.has_tag_name("back"))
            {
                continue;
            }
            if name == "note" {
                // A note is read apart from the sentence it stands in.
                out.push(' ');
                collect_words(c, out);
                out.push(' ');
                continue;
            }
            read_element(c, out, collect_words);
        }
    }
}

/// Checks every property on one TEI file; returns the number of spans checked.
fn check_properties(validator: &jsonschema::Validator, file: &Path) -> usize {
    let name = file.display().to_string();
    let xml = std::fs::read_to_string(file).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();

    let r = export("json", &name);
    assert_eq!(r.code, 0, "{name}: {}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: JSON not valid against its schema: {errors:#?}"
    );

    // Every span's text equals the reading string of its element; so does every block's.
    let mut spans = 0;
    let mut containers: BTreeMap<String, String> = BTreeMap::new();
    for key in ["blocks", "notes"] {
        for c in json[key].as_array().unwrap() {
            let text = c["text"].as_str().unwrap();
            containers.insert(c["id"].as_str().unwrap().to_string(), text.to_string());
            let path = c["path"].as_str().unwrap();
            if c["element"].as_str() != Some("#text") {
                assert_eq!(text, reading_string(at_path(&doc, path)), "{name}: {path}");
            }
            for s in c["spans"].as_array().unwrap() {
                let start = s["start"].as_u64().unwrap() as usize;
                let len = s["length"].as_u64().unwrap() as usize;
                assert!(
                    start + len <= text.chars().count(),
                    "{name}: span beyond its text"
                );
                let path = s["path"].as_str().unwrap();
                let el = at_path(&doc, path);
                assert_eq!(el.tag_name().name(), s["element"].as_str().unwrap());
                assert_eq!(
                    slice(text, start, len),
                    reading_string(el),
                    "{name}: {path}"
                );
                spans += 1;
            }
        }
    }
    // Note anchors point into existing containers, within their text.
    for n in json["notes"].as_array().unwrap() {
        if let Some(a) = n["anchor"].as_object() {
            let c = containers
                .get(a["container"].as_str().unwrap())
                .expect("anchor container");
            assert!(a["offset"].as_u64().unwrap() as usize <= c.chars().count());
        }
    }

    // The text export keeps every word of the TEI text.
    let r = export("text", &name);
    assert_eq!(r.code, 0);
    let lost = missing(&multiset(&tei_words(&doc)), &multiset(&words(&r.stdout)));
    assert!(
        lost.is_empty(),
        "{name}: words lost in the text export: {lost:?}"
    );

    // The CSV parses with the documented columns, and its surface forms are the JSON's.
    let r = export("csv", &name);
    assert_eq!(r.code, 0);
    assert!(r.stdout.ends_with("\r\n") || r.stdout.is_empty());
    let mut reader = csv::ReaderBuilder::new().from_reader(r.stdout.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(headers, MENTION_COLUMNS);
    for rec in reader.records() {
        let rec = rec.unwrap_or_else(|e| panic!("{name}: CSV does not parse: {e}"));
        assert_eq!(rec.len(), MENTION_COLUMNS.len());
        let text = containers.get(&rec[0]).expect("container id");
        let off: usize = rec[1].parse().unwrap();
        let len: usize = rec[2].parse().unwrap();
        assert_eq!(slice(text, off, len), &rec[5], "{name}");
        assert!(["person", "place", "org", "work", "event", "name", "date"].contains(&&rec[4]));
    }
    let r = export("csv-register", &name);
    assert_eq!(r.code, 0);
    let mut reader = csv::ReaderBuilder::new().from_reader(r.stdout.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "id",
            "type",
            "name",
            "names",
            "identifiers",
            "uris",
            "mentions"
        ]
    );
    assert_eq!(
        reader.records().count(),
        json["register"].as_array().unwrap().len()
    );
    spans
}

#[test]
fn founding_edition_has_the_properties() {
    let spans = check_properties(&schema_validator(), &manifest_dir().join(FOUNDING));
    assert!(spans > 50);
}

#[test]
fn other_archive_documents_have_the_properties() {
    let validator = schema_validator();
    let dir = tempfile::tempdir().unwrap();
    for out in convert_others("other_archive_documents_have_the_properties", dir.path()) {
        let spans = check_properties(&validator, &out);
        assert!(spans > 0, "{}", out.display());
    }
}

fn schnitzler_files(test: &str) -> Vec<PathBuf> {
    let Some(dir) = shared_file(test, SCHNITZLER) else {
        return Vec::new();
    };
    files_with_extension(&dir, "xml")
}

#[test]
fn all_schnitzler_letters_have_the_properties() {
    let files = schnitzler_files("all_schnitzler_letters_have_the_properties");
    let validator = schema_validator();
    let mut spans = 0;
    for f in &files {
        spans += check_properties(&validator, f);
    }
    if !files.is_empty() {
        assert_eq!(files.len(), 150);
        eprintln!("checked {} letters, {spans} spans", files.len());
    }
}

// --- corpus mode ------------------------------------------------------------------------------

/// Every `href="#x"` resolves to an `id="x"` in the page; `href="f.html#x"` to an existing file
/// with that id.
fn assert_links_resolve(dir: &Path, page: &str) {
    let html = std::fs::read_to_string(dir.join(page)).unwrap();
    let href = regex::Regex::new(r#"href="([^"]*)""#).unwrap();
    for cap in href.captures_iter(&html) {
        let target = &cap[1];
        if target.starts_with("http") {
            continue;
        }
        let (file, frag) = target.split_once('#').unwrap_or((target, ""));
        let body = if file.is_empty() {
            html.clone()
        } else {
            std::fs::read_to_string(dir.join(file))
                .unwrap_or_else(|_| panic!("{page}: {file} missing"))
        };
        if !frag.is_empty() {
            assert!(
                body.contains(&format!("id=\"{frag}\"")),
                "{page}: #{frag} does not resolve"
            );
        }
    }
}

#[test]
fn corpus_mode_writes_editions_and_an_index_in_date_order() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(manifest_dir().join(FOUNDING), input.join("112971.xml")).unwrap();
    convert_others(
        "corpus_mode_writes_editions_and_an_index_in_date_order",
        &input,
    );
    let outdir = dir.path().join("out");
    let r = export_corpus(&input, &outdir, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let inputs = std::fs::read_dir(&input).unwrap().count();
    assert_eq!(names.len(), inputs + 1, "{names:?}");
    assert!(names.contains(&"index.html".to_string()));
    for n in &names {
        assert_links_resolve(&outdir, n);
    }
    let index = std::fs::read_to_string(outdir.join("index.html")).unwrap();
    // Letters in date order: the dates listed are sorted.
    let date = regex::Regex::new(r#"<li><span class="ent-date">([^<]*)</span>"#).unwrap();
    let dates: Vec<String> = date
        .captures_iter(&index)
        .map(|c| c[1].to_string())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);
    assert_eq!(dates.len(), inputs);
    // Entries across documents by register id.
    assert!(index.contains("id=\"idx-yugoslavia\""));
    assert!(index.contains("112971.html#idx-tito"));
    // Written again only with --force.
    assert_eq!(export_corpus(&input, &outdir, &[]).code, 2);
    assert_eq!(export_corpus(&input, &outdir, &["--force"]).code, 0);
}

#[test]
fn corpus_index_of_the_founding_edition_is_snapshot_tested() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("editions");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(manifest_dir().join(FOUNDING), input.join("112971.xml")).unwrap();
    let outdir = dir.path().join("out");
    let r = export_corpus(&input, &outdir, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let index = std::fs::read_to_string(outdir.join("index.html")).unwrap();
    insta::assert_snapshot!("founding_corpus_index", index);
    // The edition in a corpus links back to the index.
    let page = std::fs::read_to_string(outdir.join("112971.html")).unwrap();
    assert!(page.contains("<nav aria-label=\"Corpus\"><a href=\"index.html\">"));
    // Usage errors: no output folder, an unknown format.
    let r = run(&["export", "--corpus", input.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("-o OUTDIR"));
    let r = export_corpus(&input, &outdir, &["--to", "pdf"]);
    assert_eq!(r.code, 2);
    // Other formats: one file per document, the same bytes as a single export.
    let csv_dir = dir.path().join("csv");
    let r = export_corpus(&input, &csv_dir, &["--to", "csv-register"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(csv_dir.join("112971.register.csv")).unwrap(),
        export("csv-register", FOUNDING).stdout
    );
}

#[test]
fn schnitzler_corpus_cmif_is_one_valid_file() {
    let test = "schnitzler_corpus_cmif_is_one_valid_file";
    let (Some(rng), Some(dir)) = (shared_file(test, CMIF_RNG), shared_file(test, SCHNITZLER))
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("cmif.xml");
    let mut extra = vec!["--to", "cmif"];
    extra.extend_from_slice(CMIF_FLAGS);
    let r = export_corpus(&dir, &file, &extra);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let xml = std::fs::read_to_string(&file).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let descs: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("correspDesc"))
        .collect();
    assert_eq!(descs.len(), 150);
    // Each letter links to its HTML edition under --url.
    assert_eq!(
        descs[0].attribute("ref"),
        Some("https://example.org/teikit/editions/112971/L00001.html")
    );
    let v = validate_with(&rng, &[&file]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert_jing_accepts(test, &rng, &[&file]);
}

#[test]
fn html_declares_the_document_language() {
    let Some(dir) = shared_file("html_declares_the_document_language", SCHNITZLER) else {
        return;
    };
    let r = export("html", dir.join("L00001.xml").to_str().unwrap());
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("<html lang=\"de-AT\">"));
    assert!(
        export("html", FOUNDING)
            .stdout
            .contains("<html lang=\"en\">")
    );
}

#[test]
fn founding_html_links_all_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.html");
    assert_eq!(
        export_with("html", FOUNDING, &["-o", out.to_str().unwrap()]).code,
        0
    );
    assert_links_resolve(dir.path(), "f.html");
    let html = std::fs::read_to_string(&out).unwrap();
    // Self-contained: no scripts, no external resources.
    for bad in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(bad), "{bad}");
    }
}
