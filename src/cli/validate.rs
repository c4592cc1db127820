//! `teikit validate [--schema PATH]... [--checks rng] [--format human|short|json] PATH...`:
//! well-formedness of every document, and RELAX NG validity against each `.rng`/`.rnc` schema
//! (compiled once per run, however many files). Directories are walked for `*.xml` files in
//! sorted order.
//!
//! The report is the output (stdout); exit codes per DEVELOPERS.md: 0 all valid, 1 a document
//! invalid or not well-formed, 2 usage/I/O/schema not found, 3 schema incorrect; highest wins.

use std::path::{Path, PathBuf};

use super::{exit, io};
use annotate_snippets::{AnnotationKind, Element, Group, Level, Renderer, Snippet};

use crate::diag::{Diagnostic, LineIndex, Report, Severity, Span, format_short};
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
    /// Checks to run (comma-separated): rng.
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

/// The lines of `text` around a byte span: (text of those lines, 1-based first line, the span
/// relative to that text), so that a snippet renders one or two lines, not a whole file.
fn excerpt(text: &str, index: &LineIndex, span: Span) -> (String, usize, std::ops::Range<usize>) {
    let start = span.start.min(text.len());
    let (line, _) = index.line_col(text, start);
    let (end_line, _) = index.line_col(text, span.end.min(text.len()));
    let end_line = end_line.min(line + 2);
    let line_start = text
        .get(..start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let begin = start - line_start;
    let mut lines = Vec::new();
    for l in line..=end_line {
        let t: String = index.line_text(text, l).to_string();
        lines.push(t);
    }
    let joined = lines.join("\n");
    let end = (begin + span.end.saturating_sub(span.start)).min(joined.len());
    let fix = |mut i: usize| {
        while i > 0 && !joined.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (b, e) = (fix(begin.min(joined.len())), fix(end));
    (joined.clone(), line, b..e.max(b))
}

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

/// `--format human`: each finding as an annotated source snippet (annotate-snippets), with
/// what was expected, hints, and the rejecting schema definition as a secondary snippet.
fn render_human(f: &FileResult, sources: &SchemaTexts, out: &mut String) {
    let index = LineIndex::new(&f.text);
    let renderer = Renderer::plain();
    for d in &f.report.diagnostics {
        let mut notes: Vec<String> = Vec::new();
        if !d.expected.is_empty() {
            notes.push(format!("expected {}", d.expected.join(", ")));
        }
        notes.extend(d.hints.iter().cloned());
        let mut elements: Vec<Element<'_>> = Vec::new();
        if let Some(span) = d.span.filter(|_| !f.text.is_empty()) {
            let (src, first, range) = excerpt(&f.text, &index, span);
            elements.push(
                Snippet::source(src)
                    .line_start(first)
                    .path(f.name.clone())
                    .fold(false)
                    .annotation(AnnotationKind::Primary.span(range).label(""))
                    .into(),
            );
        }
        for r in &d.related {
            let Some(text) = sources.get(&r.source) else {
                continue;
            };
            let sindex = LineIndex::new(text);
            let (src, first, _) = excerpt(text, &sindex, Span::new(r.span.start, r.span.start));
            // The whole definition line, without its indentation.
            let first_line = src.lines().next().unwrap_or("");
            let indent = first_line.len() - first_line.trim_start().len();
            elements.push(
                Snippet::source(src.clone())
                    .line_start(first)
                    .path(r.source.clone())
                    .fold(false)
                    .annotation(
                        AnnotationKind::Context
                            .span(indent..first_line.len())
                            .label(r.label.clone()),
                    )
                    .into(),
            );
        }
        for n in notes {
            elements.push(Level::NOTE.message(n).into());
        }
        let title = level(d.severity)
            .primary_title(d.message.clone())
            .id(d.code.clone());
        let group = Group::with_title(title).elements(elements);
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
}

/// Schema texts by path as diagnostics name them (for secondary snippets).
type SchemaTexts = std::collections::HashMap<String, String>;

/// `--format json`: one JSON object per line per finding (JSON Lines).
fn json_line(f: &FileResult, index: &LineIndex, d: &Diagnostic) -> serde_json::Value {
    let (line, col) = d
        .span
        .map(|s| index.line_col(&f.text, s.start))
        .unwrap_or((1, 1));
    serde_json::json!({
        "file": f.name,
        "line": line,
        "column": col,
        "code": d.code,
        "severity": d.severity.as_str(),
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
fn check_file(path: &Path, validators: &mut [Validator]) -> Outcome {
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
    let mut report = Report::new();
    if validators.is_empty() {
        report = well_formed(&text);
    } else {
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
    }
    Outcome::Checked(FileResult {
        name: input.name,
        text,
        report,
    })
}

/// Checks every file, spread over the available cores (each worker has its own validators,
/// built from the same compiled schemas); outcomes come back in the order of `files`.
fn check_all(files: &[PathBuf], schemas: &[crate::schema::Schema]) -> Vec<Outcome> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
        .min(files.len());
    let share = |w: usize, n: usize| -> Vec<(usize, Outcome)> {
        let mut validators: Vec<Validator> = schemas.iter().map(Validator::new).collect();
        files
            .iter()
            .enumerate()
            .filter(|(i, _)| i % n == w)
            .map(|(i, f)| (i, check_file(f, &mut validators)))
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
        if c != "rng" {
            eprintln!(
                "teikit validate: check '{c}' is not available in this build (available: rng)"
            );
            code = code.max(exit::USAGE);
        }
    }
    let mut schemas = Vec::new();
    for s in &args.schemas {
        let ext = s.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "sch" {
            eprintln!("{}: Schematron is not available in this build", s.display());
            code = code.max(exit::USAGE);
            continue;
        }
        match super::schema::load_schema(s) {
            Ok(schema) => schemas.push(schema),
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
    let mut results = Vec::new();
    for outcome in check_all(&files, &schemas) {
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
            let mut texts = SchemaTexts::new();
            for s in &schemas {
                for file in &s.files {
                    texts.insert(file.path.display().to_string(), file.text.clone());
                }
            }
            for f in &results {
                render_human(f, &texts, &mut out);
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
            for f in &results {
                let index = LineIndex::new(&f.text);
                for d in &f.report.diagnostics {
                    out.push_str(&json_line(f, &index, d).to_string());
                    out.push('\n');
                }
            }
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
