//! Behaviour tests of `teikit convert` through the binary: the founding edition is regenerated
//! byte for byte, is valid against tei_all (jing), loses no word, resolves every pointer and
//! encodes what the issue names; the other shared archive documents pass the same criteria; bad
//! input is refused with exit 2 and nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::path::Path;

const FOUNDING: &str = "editions/112971-khrushchev-to-tito-1954-09-23";
const EDITION_DATE: &str = "2026-11-30";
const TEI_ALL: &str = "tei-p5/tei_all-4.12.0.rng";
const OTHERS: &[&str] = &[
    "sources/wilson/02-nehru-letter-provincial-premiers-1949.txt",
    "sources/wilson/07-cpsu-cc-cable-tito-1954.txt",
    "sources/wilson/15-kohl-yeltsin-memorandum-1997.txt",
];

fn convert_file(path: &Path) -> (String, String, i32) {
    let out = teikit(&["convert", path.to_str().unwrap(), "--date", EDITION_DATE]);
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn founding_source() -> std::path::PathBuf {
    manifest_dir().join(format!("{FOUNDING}.txt"))
}

#[test]
fn founding_edition_is_regenerated_byte_for_byte() {
    let (xml, _, code) = convert_file(&founding_source());
    assert_eq!(code, 0);
    let committed =
        std::fs::read_to_string(manifest_dir().join(format!("{FOUNDING}.xml"))).unwrap();
    assert!(
        xml == committed,
        "the committed edition differs from a fresh conversion; regenerate it with\n  \
         cargo run -- convert {FOUNDING}.txt --date {EDITION_DATE} -o {FOUNDING}.xml --force"
    );
    // Deterministic: a second run gives the same bytes.
    let (again, _, _) = convert_file(&founding_source());
    assert_eq!(xml, again);
}

#[test]
fn founding_source_copy_matches_shared() {
    let Some(shared) = shared_file(
        "founding_source_copy_matches_shared",
        "sources/wilson/112971-khrushchev-to-tito-1954-09-23.txt",
    ) else {
        return;
    };
    assert_eq!(
        std::fs::read(shared).unwrap(),
        std::fs::read(founding_source()).unwrap(),
        "editions/ holds the founding letter exactly as the archive exported it"
    );
}

fn jing_valid(test: &str, xml_path: &Path) {
    let Some(schema) = shared_file(test, TEI_ALL) else {
        return;
    };
    let Some(jing) = jing(test) else { return };
    let out = std::process::Command::new(jing)
        .arg(schema)
        .arg(xml_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} is not valid against tei_all:\n{}{}",
        xml_path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn founding_edition_is_valid_against_tei_all() {
    jing_valid(
        "founding_edition_is_valid_against_tei_all",
        &manifest_dir().join(format!("{FOUNDING}.xml")),
    );
}

#[test]
fn register_is_valid_against_tei_all() {
    jing_valid(
        "register_is_valid_against_tei_all",
        &manifest_dir().join("editions/register.xml"),
    );
}

/// The four criteria of the issue: exit 0, valid (jing), no word lost, every `#` pointer resolves.
fn check_criteria(test: &str, source: &Path) -> String {
    let (xml, stderr, code) = convert_file(source);
    assert_eq!(code, 0, "{}: exit {code}\n{stderr}", source.display());
    let dangling = dangling_pointers(&xml);
    assert!(
        dangling.is_empty(),
        "{}: dangling pointers {dangling:?}",
        source.display()
    );

    let src = std::fs::read_to_string(source).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let text_el = doc
        .descendants()
        .find(|n| n.tag_name().name() == "text")
        .unwrap();
    let header_el = doc
        .descendants()
        .find(|n| n.tag_name().name() == "teiHeader")
        .unwrap();
    let text_words = multiset(&words(&node_text(text_el)));
    // The register copy in standOff does not count: the words must be in header and text.
    let all_words = multiset(&words(&format!(
        "{} {}",
        node_text(header_el),
        node_text(text_el)
    )));
    let source_words = multiset(&source_words(&src));
    // Every word of the source is in the edition.
    let lost = missing(&source_words, &all_words);
    assert!(
        lost.is_empty(),
        "{}: words lost: {lost:?}",
        source.display()
    );
    // The text adds no words: every word of `text` comes from the source.
    let added = missing(&text_words, &source_words);
    assert!(
        added.is_empty(),
        "{}: words added to the text: {added:?}",
        source.display()
    );

    let tmp = tempfile::Builder::new().suffix(".xml").tempfile().unwrap();
    std::fs::write(tmp.path(), &xml).unwrap();
    jing_valid(test, tmp.path());
    xml
}

#[test]
fn founding_edition_meets_the_four_criteria() {
    check_criteria(
        "founding_edition_meets_the_four_criteria",
        &founding_source(),
    );
}

#[test]
fn other_archive_documents_meet_the_four_criteria() {
    for rel in OTHERS {
        let Some(path) = shared_file("other_archive_documents_meet_the_four_criteria", rel) else {
            continue;
        };
        let xml = check_criteria("other_archive_documents_meet_the_four_criteria", &path);
        // Every body line of the source is in the text, in order, as whole words.
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert!(doc.descendants().any(|n| n.tag_name().name() == "body"));
    }
}

#[test]
fn header_fields_are_in_the_elements_that_encode_them() {
    let (xml, _, _) = convert_file(&founding_source());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let src = std::fs::read_to_string(founding_source()).unwrap();
    let field = |label: &str| -> String {
        let start = src.find(&format!("\n{label}:\n")).unwrap() + label.len() + 3;
        let rest = src[start..].trim_start();
        rest.split("\n\n").next().unwrap().to_string()
    };
    let el = |pred: &dyn Fn(roxmltree::Node) -> bool| -> String {
        node_text(
            doc.descendants()
                .find(|n| n.is_element() && pred(*n))
                .unwrap(),
        )
    };
    let cases: Vec<(String, String)> = vec![
        (
            field("Citation"),
            el(&|n| n.tag_name().name() == "bibl" && n.attribute("type") == Some("citation")),
        ),
        (field("Summary"), el(&|n| n.tag_name().name() == "abstract")),
        (
            field("Credits"),
            el(&|n| n.tag_name().name() == "note" && n.attribute("type") == Some("credits")),
        ),
        (
            field("Original Language"),
            el(&|n| n.tag_name().name() == "language" && n.attribute("n") == Some("original")),
        ),
        (
            field("Contents"),
            el(&|n| n.tag_name().name() == "language" && n.attribute("n") == Some("translation")),
        ),
        (
            "September 23, 1954".to_string(),
            el(&|n| {
                n.tag_name().name() == "date"
                    && n.parent()
                        .is_some_and(|p| p.tag_name().name() == "creation")
            }),
        ),
    ];
    for (field_text, encoded) in cases {
        let lost = missing(&multiset(&words(&field_text)), &multiset(&words(&encoded)));
        assert!(
            lost.is_empty(),
            "header field {field_text:?}: words not in its element: {lost:?}"
        );
    }
    let title = src.lines().find(|l| l.starts_with("Letter from")).unwrap();
    assert!(xml.contains(&format!("<title type=\"main\">{title}</title>")));
}

fn p_of<'a>(n: &roxmltree::Node<'a, 'a>) -> roxmltree::Node<'a, 'a> {
    n.ancestors().find(|a| a.tag_name().name() == "p").unwrap()
}

fn refs_of<'a>(doc: &'a roxmltree::Document, name: &str, id: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    let target = format!("#{id}");
    doc.descendants()
        .filter(|n| n.tag_name().name() == name && n.attribute("ref") == Some(target.as_str()))
        .collect()
}

#[test]
fn founding_edition_marks_entities_dates_notes_and_frame() {
    let (xml, _, _) = convert_file(&founding_source());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let text = doc
        .descendants()
        .find(|n| n.tag_name().name() == "text")
        .unwrap();
    let in_text = |n: &roxmltree::Node| n.ancestors().any(|a| a == text);

    // Persons, places and organisations, each a register entry in standOff.
    let expect = [
        ("persName", "person", "khrushchev"),
        ("persName", "person", "tito"),
        ("persName", "person", "lenin"),
        ("persName", "person", "suslov"),
        ("placeName", "place", "moscow"),
        ("placeName", "place", "yugoslavia"),
        ("placeName", "place", "ussr"),
        ("orgName", "org", "cpsu"),
        ("orgName", "org", "lcy"),
        ("orgName", "org", "ayp"),
        ("orgName", "org", "cominform"),
        ("orgName", "org", "kgb"),
    ];
    for (name_el, entry_el, id) in expect {
        let marked: Vec<_> = refs_of(&doc, name_el, id)
            .into_iter()
            .filter(|n| in_text(n))
            .collect();
        assert!(!marked.is_empty(), "{id} is not marked in the text");
        let entry = doc
            .descendants()
            .find(|n| {
                n.tag_name().name() == entry_el
                    && n.attribute(("http://www.w3.org/XML/1998/namespace", "id")) == Some(id)
            })
            .unwrap_or_else(|| panic!("{id} is not in standOff"));
        assert!(entry.ancestors().any(|a| a.tag_name().name() == "standOff"));
    }

    // Every mention of them in body and notes is marked: each occurrence of a name form in the
    // text's string value lies inside a name element pointing to the right entry.
    let forms = [
        ("Khrushchev", "#khrushchev"),
        ("Tito", "#tito"),
        ("Lenin", "#lenin"),
        ("Suslov", "#suslov"),
        ("Moscow", "#moscow"),
        ("USSR", "#ussr"),
        ("Soviet Union", "#ussr"),
        ("Yugoslavia", "#yugoslavia"),
        ("CPSU", "#cpsu"),
        ("LCY", "#lcy"),
        ("Association of Yugoslav Patriots", "#ayp"),
        ("COMINFORM", "#cominform"),
        ("KGB", "#kgb"),
    ];
    for (form, target) in forms {
        let bounded = regex::Regex::new(&format!(r"\b{}\b", regex::escape(form))).unwrap();
        let total = bounded.find_iter(&node_text(text)).count();
        let inside: usize = doc
            .descendants()
            .filter(|n| in_text(n) && n.attribute("ref").is_some())
            .filter(|n| ["persName", "placeName", "orgName"].contains(&n.tag_name().name()))
            .map(|n| {
                let t = node_text(n);
                let ok = n.attribute("ref") == Some(target)
                    || [
                        "League of Communists of Yugoslavia",
                        "Communist Party of the Soviet Union",
                        "Communist Party of Soviet Union",
                    ]
                    .contains(&t.as_str());
                if ok { bounded.find_iter(&t).count() } else { 0 }
            })
            .sum();
        assert_eq!(
            inside, total,
            "{form}: {total} occurrences in the text, {inside} marked"
        );
    }

    // Adjectives are not mentions.
    assert!(xml.contains("the Yugoslav and the Soviet press"));

    // Dates.
    let dates: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "date" && in_text(n))
        .map(|n| (node_text(n), n.attribute("when").unwrap_or("").to_string()))
        .collect();
    let count = |t: &str, w: &str| dates.iter().filter(|(a, b)| a == t && b == w).count();
    assert_eq!(count("11 August", "1954-08-11"), 1);
    assert_eq!(count("22 June", "1954-06-22"), 2);
    assert!(count("1948", "1948") >= 1);
    assert_eq!(count("23 September 1954", "1954-09-23"), 1);

    // Footnote 1 right after the Association of Yugoslav Patriots.
    let note = doc
        .descendants()
        .find(|n| n.tag_name().name() == "note" && n.attribute("n") == Some("1"))
        .unwrap();
    let prev = note.prev_sibling().unwrap();
    assert_eq!(prev.tag_name().name(), "orgName");
    assert_eq!(node_text(prev), "Association of Yugoslav Patriots");
    assert!(
        node_text(note)
            .trim_start()
            .starts_with("Moscow-based association")
    );
    // The note's words do not run into the word before the marker.
    assert!(node_text(p_of(&note)).contains("Patriots Moscow-based"));

    // [consensus regarding] is supplied.
    let supplied = doc
        .descendants()
        .find(|n| n.tag_name().name() == "supplied")
        .unwrap();
    assert_eq!(node_text(supplied), "consensus regarding");

    // The repaired break: one paragraph with an empty milestone.
    let milestone = doc
        .descendants()
        .find(|n| n.tag_name().name() == "milestone")
        .unwrap();
    assert!(milestone.first_child().is_none());
    let p = milestone.parent().unwrap();
    assert_eq!(p.tag_name().name(), "p");
    assert!(node_text(p).contains("between the CPSU and the LCY, and between our governments"));

    // Salute in the opener; dateline (Moscow, 1954-09-23) and signature in the closer.
    let parent_of = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name && in_text(n))
            .and_then(|n| n.parent())
            .map(|p| p.tag_name().name().to_string())
    };
    assert_eq!(parent_of("salute").as_deref(), Some("opener"));
    assert_eq!(parent_of("dateline").as_deref(), Some("closer"));
    assert_eq!(parent_of("signed").as_deref(), Some("closer"));
    let dateline = doc
        .descendants()
        .find(|n| n.tag_name().name() == "dateline")
        .unwrap();
    assert!(
        dateline
            .descendants()
            .any(|n| n.attribute("ref") == Some("#moscow"))
    );
    assert!(
        dateline
            .descendants()
            .any(|n| n.attribute("when") == Some("1954-09-23"))
    );
    let signed = doc
        .descendants()
        .find(|n| n.tag_name().name() == "signed")
        .unwrap();
    assert_eq!(node_text(signed), "N. Khrushchev");

    // The correspondence date agrees with the dateline.
    let sent = doc
        .descendants()
        .find(|n| n.tag_name().name() == "correspAction" && n.attribute("type") == Some("sent"))
        .unwrap();
    assert!(
        sent.descendants()
            .any(|n| n.attribute("when") == Some("1954-09-23"))
    );
    assert!(
        sent.descendants()
            .any(|n| n.attribute("ref") == Some("#khrushchev"))
    );
    assert!(xml.contains("<idno type=\"shelfmark\">507 / IX, 119/I-51</idno>"));
    assert!(xml.contains("<repository>Arhiv Jugoslavije</repository>"));
}

#[test]
fn orphan_footnote_becomes_a_note_with_a_warning() {
    let Some(path) = shared_file(
        "orphan_footnote",
        "sources/wilson/07-cpsu-cc-cable-tito-1954.txt",
    ) else {
        return;
    };
    let (xml, stderr, code) = convert_file(&path);
    assert_eq!(code, 0);
    assert!(xml.contains("<note xml:id=\"note-5\" n=\"5\""));
    assert!(stderr.contains("footnote [5] has no marker"), "{stderr}");
    assert!(
        stderr.contains(":18:1: warning:"),
        "the warning names the footnote's line: {stderr}"
    );
}

#[test]
fn report_lists_names_missing_from_the_register() {
    let out = teikit(&[
        "convert",
        founding_source().to_str().unwrap(),
        "--date",
        EDITION_DATE,
        "--report",
    ]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    let report = &stderr[stderr.find("teikit convert report").unwrap()..];
    insta::assert_snapshot!("founding_report", report);
}

// ---- bad input: exit 2, a clear message, nothing written ----

fn expect_refusal(args: &[&str], needle: &str) {
    let out = teikit(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected {needle:?} in {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: wrote to stdout");
}

#[test]
fn bad_input_is_refused_with_exit_2_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out.xml");
    let o = out.to_str().unwrap();

    expect_refusal(
        &["convert", d.join("missing.txt").to_str().unwrap(), "-o", o],
        "no such file",
    );
    expect_refusal(&["convert", d.to_str().unwrap(), "-o", o], "is a directory");

    let empty = d.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    expect_refusal(&["convert", empty.to_str().unwrap(), "-o", o], "empty");

    let binary = d.join("binary.txt");
    std::fs::write(&binary, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").unwrap();
    expect_refusal(
        &["convert", binary.to_str().unwrap(), "-o", o],
        "byte offset",
    );

    let latin1 = d.join("latin1.txt");
    std::fs::write(
        &latin1,
        b"September 23, 1954\n\nLetter from Tito\n\nCaf\xe9 text.\n",
    )
    .unwrap();
    expect_refusal(
        &["convert", latin1.to_str().unwrap(), "-o", o],
        "byte offset 41",
    );

    assert!(!out.exists(), "a refused run must not write the output");

    let src = d.join("letter.txt");
    std::fs::copy(founding_source(), &src).unwrap();
    expect_refusal(
        &[
            "convert",
            src.to_str().unwrap(),
            "-o",
            src.to_str().unwrap(),
        ],
        "is the input",
    );
    assert_eq!(
        std::fs::read(&src).unwrap(),
        std::fs::read(founding_source()).unwrap()
    );

    std::fs::write(&out, "keep me").unwrap();
    expect_refusal(&["convert", src.to_str().unwrap(), "-o", o], "--force");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");

    let ok = teikit(&[
        "convert",
        src.to_str().unwrap(),
        "-o",
        o,
        "--force",
        "--date",
        EDITION_DATE,
    ]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("<?xml"));
    // No temporary file is left beside the output.
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    expect_refusal(
        &["convert", src.to_str().unwrap(), "--date", "1954-02-30"],
        "--date",
    );
    expect_refusal(
        &[
            "convert",
            src.to_str().unwrap(),
            "--register",
            d.join("nope.xml").to_str().unwrap(),
        ],
        "register",
    );
}

#[test]
fn reads_stdin_bom_and_crlf_and_honours_source_date_epoch() {
    use std::io::Write;
    let src = std::fs::read_to_string(founding_source()).unwrap();
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(src.replace('\n', "\r\n").as_bytes());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_teikit"))
        .args(["convert", "-"])
        .env("SOURCE_DATE_EPOCH", "1796083200")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let xml = String::from_utf8(out.stdout).unwrap();
    let committed =
        std::fs::read_to_string(manifest_dir().join(format!("{FOUNDING}.xml"))).unwrap();
    // 1796083200 is 2026-12-01: only the revision date differs.
    assert_eq!(xml.replace("2026-12-01", EDITION_DATE), committed);
}

#[test]
fn unknown_layout_converts_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.txt");
    std::fs::write(
        &p,
        "Some notes about Moscow and [illegible] things.\nContents:\nMore text from Tito, on 3 May 1955 [sic].\n",
    )
    .unwrap();
    let (xml, stderr, code) = convert_file(&p);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("no-date-line") || stderr.contains("date line"),
        "{stderr}"
    );
    assert!(xml.contains("<gap reason=\"illegible\">"));
    assert!(xml.contains("<placeName ref=\"#moscow\">Moscow</placeName>"));
    assert!(dangling_pointers(&xml).is_empty());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let text = node_text(
        doc.descendants()
            .find(|n| n.tag_name().name() == "text")
            .unwrap(),
    );
    for w in [
        "Some", "notes", "Contents", "More", "Tito", "May", "1955", "sic",
    ] {
        assert!(words(&text).iter().any(|x| x == w), "{w} lost: {text}");
    }
    let tmp = dir.path().join("odd.xml");
    std::fs::write(&tmp, &xml).unwrap();
    jing_valid("unknown_layout_converts_with_warnings", &tmp);
}

#[test]
fn odd_layout_and_every_bracket_kind() {
    let path = manifest_dir().join("tests/fixtures/odd-layout.txt");
    let xml = check_criteria("odd_layout_and_every_bracket_kind", &path);
    let (_, stderr, _) = convert_file(&path);
    // Each warning names its line.
    assert!(
        stderr.contains("odd-layout.txt:1:1: warning: the date line \"c. 1950\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("odd-layout.txt:27:17: warning: 2 control character(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("odd-layout.txt:27:1: warning: 30 February 1954 is not a calendar date"),
        "{stderr}"
    );
    assert!(
        stderr.contains("odd-layout.txt:46:1: warning: footnote [3] has no marker"),
        "{stderr}"
    );
    for expected in [
        "<creation><date when=\"1950\">c. 1950</date></creation>",
        "<gap reason=\"illegible\"><desc>illegible</desc></gap>",
        "Com<supplied reason=\"incomplete\">rade</supplied>",
        "Filippov <note type=\"gloss\" n=\"g1\">Stalin</note>",
        "<unclear cert=\"low\">26</unclear> June",
        "<note type=\"editorial\" n=\"e1\">handwritten</note>",
        "he <note type=\"gloss\" n=\"g2\">Pak Hon Yong</note>",
        "said <gap reason=\"omitted\"/> and <gap reason=\"omitted\"/>",
        "<sic>mistkae</sic> <note type=\"editorial\" n=\"e2\">sic</note>",
        "here<note xml:id=\"note-2\" n=\"2\" place=\"foot\"> The note about <persName ref=\"#tito\">Tito</persName>.</note>",
        "[with <supplied reason=\"clarification\">nested</supplied> brackets] and a lone ] and [ open",
        "<placeName ref=\"#moscow\">Moscow</placeName>-based",
        "<date from=\"1948\" to=\"1950\">1948-1950</date>",
        "<date notBefore=\"1950\" notAfter=\"1959\">1950s</date>",
        "<item>- item one</item>",
        "<item n=\"ii\">(ii) second</item>",
        "<closer><salute>With comradely greetings,</salute> <signed>I. Petrov</signed></closer>",
        "<postscript>",
        "<back>",
        "<language ident=\"ru\" n=\"original\">Russian</language>",
        "<note type=\"original-archive\"><label>Original Archive</label> Some Archive, fond 5, opis 3.</note>",
        "&amp; Trade &lt;Secret&gt;",
        "<msIdentifier>",
    ] {
        assert!(xml.contains(expected), "missing {expected}\n{xml}");
    }
}
