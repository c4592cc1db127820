//! The HTML reading editions in a real headless browser: Debian `chromium` driven by
//! `playwright-core` with `axe-core` (tests/browser/check-html.mjs). For the founding edition, the
//! three other archive documents, a sample of Schnitzler letters and a corpus (its index page and
//! editions): every entity, index and note link resolves in the page, axe-core reports no
//! violations, nothing scrolls sideways at 360 px, no network request is made, print CSS hides
//! the navigation; a screenshot of the founding edition is saved under the target folder (not
//! committed). Skips with a printed reason when node, chromium or the npm packages are missing
//! (`.ci/run` installs them), and fails instead under `TEIKIT_REQUIRE_SHARED=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const FOUNDING: &str = "editions/112971-khrushchev-to-tito-1954-09-23.xml";
const DATE: &str = "2026-11-30";
const OTHERS: &[&str] = &[
    "sources/wilson/02-nehru-letter-provincial-premiers-1949.txt",
    "sources/wilson/07-cpsu-cc-cable-tito-1954.txt",
    "sources/wilson/15-kohl-yeltsin-memorandum-1997.txt",
];
const SCHNITZLER: &[&str] = &[
    "corpora/schnitzler-briefe/editions/L00001.xml",
    "corpora/schnitzler-briefe/editions/L00005.xml",
    "corpora/schnitzler-briefe/editions/L00023.xml",
    "corpora/schnitzler-briefe/editions/L00150.xml",
];

fn skip_or_fail(test: &str, why: &str) {
    let msg = format!("{test}: browser check skipped: {why}");
    if std::env::var("TEIKIT_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{msg}, and TEIKIT_REQUIRE_SHARED=1");
    }
    eprintln!("{msg}");
}

/// The browser script's folder, when node, chromium and the npm packages are all there.
fn browser_tools(test: &str) -> Option<PathBuf> {
    let dir = manifest_dir().join("tests/browser");
    if Command::new("node").arg("--version").output().is_err() {
        skip_or_fail(test, "node is not installed");
        return None;
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    if !Path::new(&chromium).exists() {
        skip_or_fail(test, "chromium is not installed (apt-get install chromium)");
        return None;
    }
    for pkg in ["playwright-core", "axe-core"] {
        if !dir.join("node_modules").join(pkg).exists() {
            skip_or_fail(
                test,
                &format!("{pkg} is not installed (run `npm ci` in tests/browser)"),
            );
            return None;
        }
    }
    Some(dir)
}

fn teikit_ok(args: &[&str]) {
    let out = teikit(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "teikit {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn html_editions_pass_in_a_headless_browser() {
    let test = "html_editions_pass_in_a_headless_browser";
    let Some(script_dir) = browser_tools(test) else {
        return;
    };
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export-browser");
    let _ = std::fs::remove_dir_all(&work);
    let pages_dir = work.join("pages");
    let corpus_in = work.join("corpus-in");
    let corpus_out = work.join("corpus-out");
    std::fs::create_dir_all(&pages_dir).unwrap();
    std::fs::create_dir_all(&corpus_in).unwrap();

    let founding_html = pages_dir.join("founding.html");
    teikit_ok(&[
        "export",
        "--to",
        "html",
        manifest_dir().join(FOUNDING).to_str().unwrap(),
        "-o",
        founding_html.to_str().unwrap(),
    ]);
    std::fs::copy(manifest_dir().join(FOUNDING), corpus_in.join("112971.xml")).unwrap();
    let mut pages = vec![founding_html];
    for rel in OTHERS {
        let Some(src) = shared_file(test, rel) else {
            continue;
        };
        let stem = Path::new(rel).file_stem().unwrap().to_str().unwrap();
        let xml = corpus_in.join(format!("{stem}.xml"));
        teikit_ok(&[
            "convert",
            src.to_str().unwrap(),
            "--date",
            DATE,
            "-o",
            xml.to_str().unwrap(),
        ]);
        let html = pages_dir.join(format!("{stem}.html"));
        teikit_ok(&[
            "export",
            "--to",
            "html",
            xml.to_str().unwrap(),
            "-o",
            html.to_str().unwrap(),
        ]);
        pages.push(html);
    }
    for rel in SCHNITZLER {
        let Some(src) = shared_file(test, rel) else {
            continue;
        };
        let stem = Path::new(rel).file_stem().unwrap().to_str().unwrap();
        let html = pages_dir.join(format!("{stem}.html"));
        teikit_ok(&[
            "export",
            "--to",
            "html",
            src.to_str().unwrap(),
            "-o",
            html.to_str().unwrap(),
        ]);
        pages.push(html);
    }
    teikit_ok(&[
        "export",
        "--corpus",
        corpus_in.to_str().unwrap(),
        "-o",
        corpus_out.to_str().unwrap(),
    ]);
    let mut corpus_pages: Vec<PathBuf> = std::fs::read_dir(&corpus_out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    corpus_pages.sort();
    pages.extend(corpus_pages);

    let screenshot = work.join("founding.png");
    let out = Command::new("node")
        .current_dir(&script_dir)
        .arg("check-html.mjs")
        .arg("--screenshot")
        .arg(&screenshot)
        .args(&pages)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "browser check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(&format!("ok: {} pages", pages.len())));
    let shot = std::fs::metadata(&screenshot).expect("screenshot saved");
    assert!(shot.len() > 10_000, "screenshot is suspiciously small");
    eprintln!(
        "screenshot of the founding edition: {}",
        screenshot.display()
    );
}
