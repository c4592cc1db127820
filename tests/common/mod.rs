//! Helpers shared by the behaviour tests: locating `../shared` (or `$TEIKIT_SHARED`), skipping
//! with a printed reason when a file is missing (failing instead under
//! `TEIKIT_REQUIRE_SHARED=1`), running the binary, and independent checks on TEI output
//! (words, pointers) computed with roxmltree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn shared_dir() -> PathBuf {
    match std::env::var_os("TEIKIT_SHARED") {
        Some(p) => PathBuf::from(p),
        None => manifest_dir().join("../shared"),
    }
}

/// The path of a file under the shared folder, or `None` after printing why the calling test is
/// skipped. Under `TEIKIT_REQUIRE_SHARED=1` a missing file fails the test.
pub fn shared_file(test: &str, rel: &str) -> Option<PathBuf> {
    let p = shared_dir().join(rel);
    if p.exists() {
        return Some(p);
    }
    let msg = format!(
        "{test}: skipped: {} not found (set TEIKIT_SHARED)",
        p.display()
    );
    if std::env::var("TEIKIT_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{msg}, and TEIKIT_REQUIRE_SHARED=1");
    }
    eprintln!("{msg}");
    None
}

/// jing, when installed; otherwise prints why the check is skipped (and fails under
/// `TEIKIT_REQUIRE_SHARED=1`, since `.ci/run` installs it).
pub fn jing(test: &str) -> Option<PathBuf> {
    for p in ["/usr/bin/jing", "/usr/local/bin/jing"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    let msg = format!("{test}: jing check skipped: jing is not installed (apt-get install jing)");
    if std::env::var("TEIKIT_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{msg}, and TEIKIT_REQUIRE_SHARED=1");
    }
    eprintln!("{msg}");
    None
}

pub fn teikit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_teikit"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run teikit")
}

/// Runs the binary in `dir`; returns (exit code, stdout, stderr), output decoded lossily.
pub fn teikit_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_teikit"))
        .args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run teikit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The files of `dir` (not below it) whose extension is `ext`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list folder")
        .map(|e| e.expect("read folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

/// Words: maximal runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn multiset(words: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for w in words {
        *m.entry(w.clone()).or_insert(0) += 1;
    }
    m
}

/// Words of `a` missing from `b`, counting repetitions.
pub fn missing(a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for (w, n) in a {
        let have = b.get(w).copied().unwrap_or(0);
        if have < *n {
            out.push(format!("{w} ({} of {n})", have));
        }
    }
    out
}

/// The string value of the first element with this local name.
pub fn string_value_of(doc: &roxmltree::Document, name: &str) -> String {
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect::<String>()
        })
        .unwrap_or_default()
}

pub fn node_text(n: roxmltree::Node) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

/// Every `#id` pointer in the document that does not resolve to an `xml:id` in it.
pub fn dangling_pointers(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed");
    let ids: BTreeSet<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute(("http://www.w3.org/XML/1998/namespace", "id")))
        .collect();
    let mut out = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        for a in n.attributes() {
            for v in a.value().split_whitespace() {
                if let Some(id) = v.strip_prefix('#')
                    && !ids.contains(id)
                {
                    out.push(format!("{}/@{}={v}", n.tag_name().name(), a.name()));
                }
            }
        }
    }
    out
}

/// The source's words: footnote markers `[n]` removed, then the bracket characters themselves
/// (so "Com[rade]" is the word "Comrade").
pub fn source_words(source: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\[\d+\]").unwrap();
    let without_markers = re.replace_all(source, " ");
    words(&without_markers.replace(['[', ']'], ""))
}
