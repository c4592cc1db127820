//! `teikit validate [--schema PATH]... [--checks rng,integrity] [--format human|short|json] PATH...`:
//! well-formedness of every document, RELAX NG validity against each `.rng`/`.rnc` schema
//! (compiled once per run, however many files), and edition integrity (`integrity`: ids,
//! pointers, dates, register; pointer attributes typed by the schemas given, else TEI's list).
//! Without `--checks`, every available check runs. Directories are walked for `*.xml` files in
//! sorted order.
//!
//! The report is the output (stdout); exit codes per DEVELOPERS.md: 0 all valid, 1 a document
//! invalid or not well-formed, 2 usage/I/O/schema not found, 3 schema incorrect; highest wins.

use std::path::{Path, PathBuf};

use super::{exit, io};
use crate::diag::{Diagnostic, LineIndex, Report, Severity, format_short};
use crate::integrity::{self, attrs::AttrKinds};
use crate::validate::Validator;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Short,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// A schema (`.rng` or `.rnc`); repeat for several.
    #[arg(long = "schema", value_name = "PATH")]
    pub schemas: Vec<PathBuf>,
    /// Checks to run (comma-separated): rng, integrity (default: all available).
    #[arg(long = "checks", value_delimiter = ',')]
    pub checks: Vec<String>,
    /// Output format.
    #[arg(long = "format", value_enum, default_value = "human")]
    pub format: Format,
    /// Documents or directories (`-` reads stdin).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Files to validate: the arguments, with directories walked for `*.xml` (sorted).
fn collect(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if !p.is_dir() {
            files.push(p.clone());
            continue;
        }
        let mut found = Vec::new();
        let mut stack = vec![p.clone()];
        while let Some(d) = stack.pop() {
            match std::fs::read_dir(&d) {
                Ok(rd) => {
                    for e in rd.flatten() {
                        let path = e.path();
                        if path.is_dir() {
                            stack.push(path);
                        } else if path.extension().and_then(|x| x.to_str()) == Some("xml") {
                            found.push(path);
                        }
                    }
                }
                Err(e) => errors.push(format!("{}: cannot read directory: {e}", d.display())),
            }
        }
        found.sort();
        files.extend(found);
    }
    (files, errors)
}

struct FileResult {
    name: String,
    text: String,
    report: Report,
}

fn well_formed(text: &str) -> Report {
    let mut r = Report::new();
    let mut reader = crate::xml::XmlReader::new(text);
    loop {
        match reader.next_event() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(d) => {
                r.push(d);
                break;
            }
        }
    }
    r
}

/// Integrity findings of one document; pointers into other files are read beside it (not for
/// stdin).
/// `wf_checked`: RELAX NG reads the document with the strict reader too, so integrity may use
/// its lighter one.
fn integrity_of(path: &std::path::Path, text: &str, kinds: &AttrKinds, wf_checked: bool) -> Report {
    let dir = path.parent().filter(|_| path != std::path::Path::new("-"));
    let mut fs;
    let mut none = integrity::NoDocuments;
    let docs: &mut dyn integrity::Documents = match dir {
        Some(d) => {
            let d = if d.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                d
            };
            fs = integrity::FsDocuments::new(d);
            &mut fs
        }
        None => &mut none,
    };
    if wf_checked {
        integrity::check_well_formed(text, kinds, docs)
    } else {
        integrity::check(text, kinds, docs)
    }
}

/// Adds integrity's findings after RELAX NG's. A duplicate `xml:id` is reported once, by
/// integrity (which names both occurrences), not also as RELAX NG's DTD-compatibility ID error.
fn merge_integrity(mut report: Report, found: Report) -> Report {
    let quoted = |m: &str| m.split('"').nth(1).map(str::to_string);
    let dup_ids: Vec<String> = found
        .diagnostics
        .iter()
        .filter(|d| d.code == integrity::codes::ID_DUPLICATE)
        .filter_map(|d| quoted(&d.message))
        .collect();
    if !dup_ids.is_empty() {
        report.diagnostics.retain(|d| {
            d.code != crate::validate::codes::DUPLICATE_ID
                || !quoted(&d.message).is_some_and(|v| dup_ids.contains(&v))
        });
    }
    // A date RELAX NG already rejects (xsd:date has no 30 February either) is reported once.
    let rng_rejects = |d: &Diagnostic| -> bool {
        let Some(rest) = d.message.strip_prefix('@') else {
            return false;
        };
        let Some((name, tail)) = rest.split_once("=\"") else {
            return false;
        };
        let value = tail.split('"').next().unwrap_or("");
        report.diagnostics.iter().any(|r| {
            r.code == crate::validate::codes::ATTRIBUTE_VALUE_INVALID
                && r.message.contains(&format!("attribute \"{name}\""))
                && r.message.contains(&format!("\"{value}\""))
        })
    };
    let found: Vec<Diagnostic> = found
        .diagnostics
        .into_iter()
        .filter(|d| d.code != integrity::codes::DATE_INVALID || !rng_rejects(d))
        .collect();
    let wf_seen = report
        .diagnostics
        .iter()
        .any(|d| d.code == crate::xml::CODE_NOT_WF);
    for d in found {
        if !(wf_seen && d.code == crate::xml::CODE_NOT_WF) {
            report.push(d);
        }
    }
    report
}

fn render_human(f: &FileResult, out: &mut String) {
    let index = LineIndex::new(&f.text);
    for d in &f.report.diagnostics {
        out.push_str(&format_short(&f.name, &f.text, &index, d));
        out.push('\n');
        if let Some(span) = d.span {
            let (line, col) = index.line_col(&f.text, span.start);
            let src = index.line_text(&f.text, line);
            let shown: String = src.chars().take(160).collect();
            out.push_str(&format!("  {line:>5} | {shown}\n"));
            out.push_str(&format!(
                "        | {}^\n",
                " ".repeat(col.saturating_sub(1).min(160))
            ));
        }
        for h in &d.hints {
            out.push_str(&format!("        = hint: {h}\n"));
        }
        out.push_str(&format!("        = code: {}\n", d.code));
    }
}

fn json_diag(f: &FileResult, index: &LineIndex, d: &Diagnostic) -> serde_json::Value {
    let (line, col) = d
        .span
        .map(|s| index.line_col(&f.text, s.start))
        .unwrap_or((1, 1));
    serde_json::json!({
        "severity": d.severity.as_str(),
        "code": d.code,
        "line": line,
        "column": col,
        "message": d.message,
        "expected": d.expected,
        "hints": d.hints,
    })
}

enum Outcome {
    Checked(FileResult),
    Unreadable(String),
}

/// Reads, decodes and validates one file against every schema (well-formedness only when
/// there is none).
/// `integrity`: the attribute kinds when integrity runs; `beside`: run it on its own thread
/// beside RELAX NG (when there are fewer files than cores).
fn check_file(
    path: &Path,
    validators: &mut [Validator],
    integrity: Option<&AttrKinds>,
    beside: bool,
) -> Outcome {
    let input = match io::read_input(path) {
        Ok(i) => i,
        Err(m) => return Outcome::Unreadable(m),
    };
    let text = match crate::xml::decode(&input.bytes) {
        Ok(t) => t,
        Err(d) => {
            let mut report = Report::new();
            report.push(d);
            return Outcome::Checked(FileResult {
                name: input.name,
                text: String::new(),
                report,
            });
        }
    };
    // Beside RELAX NG, integrity reads the document with its lighter reader (RELAX NG's strict
    // one checks well-formedness), on a second thread when cores are idle; its findings are
    // dropped if the document is not well-formed (RELAX NG has reported that already).
    let (mut report, found) = std::thread::scope(|scope| {
        let with_rng = !validators.is_empty();
        let mut spawned = None;
        if let (Some(kinds), true, true) = (integrity, with_rng, beside) {
            spawned = std::thread::Builder::new()
                .spawn_scoped(scope, || integrity_of(path, &text, kinds, true))
                .ok();
        }
        let mut report = Report::new();
        if !with_rng {
            if let Some(kinds) = integrity {
                return (report, Some(integrity_of(path, &text, kinds, false)));
            }
            report = well_formed(&text);
        }
        for v in validators.iter_mut() {
            let r = v.validate(&text);
            let stop = r
                .diagnostics
                .iter()
                .any(|d| d.code == crate::xml::CODE_NOT_WF);
            report.extend(r);
            if stop {
                break;
            }
        }
        let found = match (spawned, integrity) {
            (Some(h), _) => Some(h.join().unwrap_or_else(|_| {
                let mut r = Report::new();
                r.push(Diagnostic::error(
                    "integrity/internal",
                    "internal error: the integrity check stopped",
                ));
                r
            })),
            (None, Some(kinds)) if with_rng => Some(integrity_of(path, &text, kinds, true)),
            _ => None,
        };
        (report, found)
    });
    if let Some(found) = found
        && !report
            .diagnostics
            .iter()
            .any(|d| d.code == crate::xml::CODE_NOT_WF)
    {
        report = merge_integrity(report, found);
    }
    Outcome::Checked(FileResult {
        name: input.name,
        text,
        report,
    })
}

/// Checks every file, spread over the available cores (each worker has its own validators,
/// built from the same compiled schemas); outcomes come back in the order of `files`.
fn check_all(
    files: &[PathBuf],
    schemas: &[crate::schema::Schema],
    integrity: Option<&AttrKinds>,
) -> Vec<Outcome> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let workers = cores.min(8).min(files.len());
    let beside = workers < cores;
    let share = |w: usize, n: usize| -> Vec<(usize, Outcome)> {
        let mut validators: Vec<Validator> = schemas.iter().map(Validator::new).collect();
        files
            .iter()
            .enumerate()
            .filter(|(i, _)| i % n == w)
            .map(|(i, f)| (i, check_file(f, &mut validators, integrity, beside)))
            .collect()
    };
    if workers <= 1 {
        return share(0, 1).into_iter().map(|(_, o)| o).collect();
    }
    let mut all: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        let mut local = Vec::new();
        for w in 0..workers {
            let spawned =
                std::thread::Builder::new().spawn_scoped(scope, move || share(w, workers));
            match spawned {
                Ok(h) => handles.push(h),
                // No thread: this share runs here.
                Err(_) => local.extend(share(w, workers)),
            }
        }
        for h in handles {
            if let Ok(v) = h.join() {
                local.extend(v);
            }
        }
        local
    });
    all.sort_by_key(|(i, _)| *i);
    // A file whose worker failed is reported, never silently skipped.
    let mut out = Vec::with_capacity(files.len());
    let mut it = all.into_iter().peekable();
    for (i, f) in files.iter().enumerate() {
        match it.next_if(|(j, _)| *j == i) {
            Some((_, o)) => out.push(o),
            None => out.push(Outcome::Unreadable(format!(
                "{}: internal error while validating",
                f.display()
            ))),
        }
    }
    out
}

pub fn run(args: ValidateArgs) -> i32 {
    let mut code = exit::OK;
    for c in &args.checks {
        if c != "rng" && c != "integrity" {
            eprintln!(
                "teikit validate: check '{c}' is not available in this build (available: rng, integrity)"
            );
            code = code.max(exit::USAGE);
        }
    }
    let all = args.checks.is_empty();
    let run_rng = all || args.checks.iter().any(|c| c == "rng");
    let run_integrity = all || args.checks.iter().any(|c| c == "integrity");
    let mut kinds: Option<AttrKinds> = None;
    let mut schemas = Vec::new();
    for s in &args.schemas {
        let ext = s.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "sch" {
            eprintln!("{}: Schematron is not available in this build", s.display());
            code = code.max(exit::USAGE);
            continue;
        }
        match super::schema::load_schema(s) {
            Ok(schema) => {
                if run_integrity {
                    kinds
                        .get_or_insert_with(AttrKinds::default)
                        .add_schema(&schema);
                }
                if run_rng {
                    schemas.push(schema);
                }
            }
            Err(f) => {
                for m in f.messages {
                    eprintln!("{m}");
                }
                code = code.max(f.code);
            }
        }
    }
    if code != exit::OK {
        return code;
    }
    let (files, errors) = collect(&args.paths);
    for e in errors {
        eprintln!("{e}");
        code = code.max(exit::USAGE);
    }
    let kinds = run_integrity.then(|| kinds.unwrap_or_else(AttrKinds::tei_default));
    let mut results = Vec::new();
    for outcome in check_all(&files, &schemas, kinds.as_ref()) {
        match outcome {
            Outcome::Checked(r) => results.push(r),
            Outcome::Unreadable(m) => {
                eprintln!("{m}");
                code = code.max(exit::USAGE);
            }
        }
    }
    let mut out = String::new();
    let mut invalid = 0;
    for f in &results {
        if f.report.has_errors() {
            invalid += 1;
            code = code.max(exit::INVALID);
        }
    }
    match args.format {
        Format::Short => {
            for f in &results {
                let index = LineIndex::new(&f.text);
                for d in &f.report.diagnostics {
                    out.push_str(&format_short(&f.name, &f.text, &index, d));
                    out.push('\n');
                }
            }
        }
        Format::Human => {
            for f in &results {
                render_human(f, &mut out);
            }
            let warnings: usize = results
                .iter()
                .map(|f| f.report.count(Severity::Warning))
                .sum();
            out.push_str(&format!(
                "{} file{} checked: {} valid, {} invalid{}\n",
                results.len(),
                if results.len() == 1 { "" } else { "s" },
                results.len() - invalid,
                invalid,
                if warnings > 0 {
                    format!(", {warnings} warning(s)")
                } else {
                    String::new()
                }
            ));
        }
        Format::Json => {
            let files: Vec<serde_json::Value> = results
                .iter()
                .map(|f| {
                    let index = LineIndex::new(&f.text);
                    serde_json::json!({
                        "path": f.name,
                        "valid": !f.report.has_errors(),
                        "diagnostics": f.report.diagnostics.iter().map(|d| json_diag(f, &index, d)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let v = serde_json::json!({ "files": files });
            out.push_str(&serde_json::to_string_pretty(&v).unwrap_or_default());
            out.push('\n');
        }
    }
    if let Err(m) = io::emit(None, out.as_bytes()) {
        eprintln!("{m}");
        code = code.max(exit::USAGE);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formedness_only() {
        assert!(!well_formed("<a/>").has_errors());
        assert!(well_formed("<a>").has_errors());
    }

    #[test]
    fn collects_files_sorted() {
        let Ok(dir) = tempfile::tempdir() else { return };
        for n in ["b.xml", "a.xml", "c.txt"] {
            std::fs::write(dir.path().join(n), "<a/>").ok();
        }
        let (files, errs) = collect(&[dir.path().to_path_buf()]);
        assert!(errs.is_empty());
        let names: Vec<String> = files
            .iter()
            .filter_map(|f| f.file_name().and_then(|n| n.to_str()).map(str::to_string))
            .collect();
        assert_eq!(names, vec!["a.xml", "b.xml"]);
    }
}
