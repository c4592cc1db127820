//! `teikit validate [--schema PATH]... [--checks rng,schematron,integrity] [--phase P]
//! [--date YYYY-MM-DD] [--format human|short|json] PATH...`: well-formedness of every document,
//! RELAX NG validity against each `.rng`/`.rnc` grammar (compiled once per run, however many
//! files), ISO Schematron (`.sch` files and the rules embedded in RELAX NG schemas, via
//! `crate::schematron`) and edition integrity (`crate::integrity`: ids, pointers, dates,
//! register; pointer attributes typed by the grammars in use, else TEI's list). Without
//! `--checks`, every check runs. Directories are walked for `*.xml` files in sorted order.
//!
//! Schemas: the `--schema` arguments (a bundled schema's name works when no such file exists),
//! else each document's `<?xml-model?>` declarations by `schematypens` (W3C "Associating Schemas
//! with XML documents" 1.0 §2; local paths resolved against the document, a bundled schema's
//! name or URL resolved to the bundled copy, other URLs never fetched: exit 2 with how to supply
//! the schema), else the bundled edition schema and rules, which an `info` finding says.
//!
//! The report is the output (stdout); exit codes per DEVELOPERS.md: 0 all valid, 1 a document
//! invalid or not well-formed, 2 usage/I/O/schema not found, 3 schema incorrect; highest wins.
//! It must not hold validation logic (that is `crate::validate` and `crate::schematron`).
//!
//! Printing asks a `crate::diag::TextView` for lines and columns: the whole text, or (`sparse`)
//! only what the findings point at, read again from the file in chunks. A position in the
//! document itself (a `Related` with an empty `source`) is printed as a hint with its line and
//! column.

use std::path::{Path, PathBuf};

use super::{exit, io};
use annotate_snippets::{AnnotationKind, Element, Group, Level, Renderer, Snippet};

use super::bundled;
mod sparse;
use crate::diag::{
    Diagnostic, FullText, Related, Report, Severity, SourceLines, Span, TextView, format_short,
};
use crate::integrity::{self, attrs::AttrKinds};
use crate::schematron::{self, CheckOptions};
use crate::validate::Validator;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Short,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// A schema: `.rng`/`.rnc` grammar or `.sch` rules (or a bundled schema's name, see
    /// `teikit schema list`); repeat for several. Without it, each document's `<?xml-model?>`.
    #[arg(long = "schema", value_name = "PATH")]
    pub schemas: Vec<PathBuf>,
    /// Checks to run (comma-separated): rng, schematron, integrity (default: all available).
    #[arg(long = "checks", value_delimiter = ',')]
    pub checks: Vec<String>,
    /// Schematron phase to run (default: each schema's defaultPhase, else #ALL).
    #[arg(long = "phase", value_name = "PHASE")]
    pub phase: Option<String>,
    /// The date Schematron's `current-date()` returns, YYYY-MM-DD (default: SOURCE_DATE_EPOCH,
    /// else today).
    #[arg(long = "date", value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
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

/// One checked document: its name, the findings, and what printers need of its text.
struct FileResult {
    name: String,
    view: TextView,
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

/// The lines of a text around a byte span: (text of those lines, 1-based first line, the span
/// relative to that text), so that a snippet renders at most three lines, not a whole file.
fn excerpt(
    text: &(impl SourceLines + ?Sized),
    span: Span,
) -> (String, usize, std::ops::Range<usize>) {
    let start = span.start.min(text.len());
    let (line, _) = text.line_col(start);
    let (end_line, _) = text.line_col(span.end.min(text.len()));
    let end_line = end_line.min(line + 2);
    let begin = start.saturating_sub(text.line_start(line).unwrap_or(0));
    let lines: Vec<&str> = (line..=end_line).map(|l| text.line_text(l)).collect();
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
    let renderer = Renderer::plain();
    for d in &f.report.diagnostics {
        let mut notes: Vec<String> = Vec::new();
        if !d.expected.is_empty() {
            notes.push(format!("expected {}", d.expected.join(", ")));
        }
        notes.extend(d.hints.iter().cloned());
        let mut elements: Vec<Element<'_>> = Vec::new();
        if let Some(span) = d.span.filter(|_| !f.view.is_empty()) {
            let (src, first, range) = excerpt(&f.view, span);
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
            let (src, first, _) = excerpt(text, Span::at(r.span.start));
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
type SchemaTexts = std::collections::HashMap<String, FullText>;

/// The texts of the grammars' files, for `--format human`'s secondary snippets.
fn schema_texts(loaded: &[Loaded]) -> SchemaTexts {
    let mut texts = SchemaTexts::new();
    for s in loaded.iter().filter_map(|l| l.grammar.as_ref()) {
        for file in &s.files {
            let text = FullText::new(file.text.clone());
            texts.insert(file.path.display().to_string(), text);
        }
    }
    texts
}

/// `--format json`: one JSON object per line per finding (JSON Lines).
fn json_line(f: &FileResult, d: &Diagnostic) -> serde_json::Value {
    let (line, col) = d.span.map(|s| f.view.line_col(s.start)).unwrap_or((1, 1));
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

/// The findings of every checked file in one format; `human` ends with a summary line.
fn render(results: &[FileResult], format: Format, texts: &SchemaTexts) -> String {
    let mut out = String::new();
    match format {
        Format::Short => {
            for f in results {
                for d in &f.report.diagnostics {
                    out.push_str(&format_short(&f.name, &f.view, d));
                    out.push('\n');
                }
            }
        }
        Format::Human => {
            for f in results {
                render_human(f, texts, &mut out);
            }
            out.push_str(&summary(results));
        }
        Format::Json => {
            for f in results {
                for d in &f.report.diagnostics {
                    out.push_str(&json_line(f, d).to_string());
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// `N files checked: V valid, I invalid[, W warning(s)]`, the last line of `human`.
fn summary(results: &[FileResult]) -> String {
    let invalid = results.iter().filter(|f| f.report.has_errors()).count();
    let warnings: usize = results
        .iter()
        .map(|f| f.report.count(Severity::Warning))
        .sum();
    format!(
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
    )
}

/// Turns each finding's positions in the document itself (`Related` with an empty `source`)
/// into hints `"{label} at line {l}, column {c}"` after its other hints, so that no format
/// looks them up among the schema texts.
fn locate_related(f: &mut FileResult) {
    for d in &mut f.report.diagnostics {
        let (here, elsewhere): (Vec<Related>, Vec<Related>) = std::mem::take(&mut d.related)
            .into_iter()
            .partition(|r| r.source.is_empty());
        d.related = elsewhere;
        for r in here {
            let (line, col) = f.view.line_col(r.span.start);
            d.hints
                .push(format!("{} at line {line}, column {col}", r.label));
        }
    }
}

enum Outcome {
    Checked(FileResult),
    Unreadable(String),
}

/// Which checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Checks {
    rng: bool,
    schematron: bool,
    integrity: bool,
}

/// Where a schema comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    File(PathBuf),
    Bundled(&'static str),
}

/// What a document uses a schema for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Grammar,
    Rules,
}

/// A loaded schema: its grammar (RELAX NG) and its rules (Schematron, own or embedded).
struct Loaded {
    grammar: Option<crate::schema::Schema>,
    rules: Option<schematron::Schema>,
}

/// One document and the schemas it is checked against.
struct Plan {
    path: PathBuf,
    /// Stdin, read while planning (it cannot be read twice).
    stdin: Option<Vec<u8>>,
    uses: Vec<(usize, Role)>,
    notes: Vec<Diagnostic>,
}

fn is_schematron_path(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "sch")
}

fn load(src: &Source, checks: Checks) -> Result<Loaded, super::schema::LoadFailure> {
    use super::schema::LoadFailure;
    let fail = |code: i32, m: String| LoadFailure {
        code,
        messages: vec![m],
    };
    let sch_err = |e: schematron::LoadError| match e {
        schematron::LoadError::Io(m) => fail(exit::USAGE, m),
        schematron::LoadError::Schema(m) => fail(exit::SCHEMA, m),
    };
    match src {
        Source::Bundled(name) => {
            let Some(b) = bundled::lookup(name) else {
                return Err(fail(exit::USAGE, format!("{name}: no such bundled schema")));
            };
            if b.schematypens == bundled::NS_SCHEMATRON {
                let rules = if checks.schematron {
                    Some(schematron::from_sch_xml(b.text, b.name).map_err(sch_err)?)
                } else {
                    None
                };
                return Ok(Loaded {
                    grammar: None,
                    rules,
                });
            }
            let grammar = if checks.rng {
                Some(super::schema::load_bundled(b)?)
            } else {
                None
            };
            Ok(Loaded {
                grammar,
                rules: None,
            })
        }
        Source::File(path) if is_schematron_path(path) => {
            if !path.is_file() {
                return Err(fail(
                    exit::USAGE,
                    format!("{}: schema not found", path.display()),
                ));
            }
            let rules = if checks.schematron {
                Some(schematron::load_schematron_file(path).map_err(sch_err)?)
            } else {
                None
            };
            Ok(Loaded {
                grammar: None,
                rules,
            })
        }
        Source::File(path) => {
            let grammar = if checks.rng {
                Some(super::schema::load_schema(path)?)
            } else {
                None
            };
            let mut rules = None;
            if checks.schematron {
                let xml = super::schema::schema_xml(path)?;
                if xml.contains(bundled::NS_SCHEMATRON) {
                    let name = path.display().to_string();
                    rules = Some(schematron::from_rng_xml(&xml, &name).map_err(sch_err)?);
                }
            }
            Ok(Loaded { grammar, rules })
        }
    }
}

/// A `--schema` argument: the file, or the bundled schema of that name when no file exists.
fn source_of_arg(p: &Path) -> Source {
    if !p.exists()
        && let Some(b) = p.to_str().and_then(bundled::lookup)
    {
        return Source::Bundled(b.name);
    }
    Source::File(p.to_path_buf())
}

/// `<?xml-model?>` declarations before the root element: (href, schematypens).
fn xml_models(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            let Some(end) = r.find("?>") else { break };
            let body = &r[..end];
            let target_len = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
            if &body[..target_len] == "xml-model" {
                let attrs = schematron::pseudo_attributes(&body[target_len..]);
                let get = |k: &str| {
                    attrs
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let href = get("href");
                if !href.is_empty() {
                    out.push((href, get("schematypens")));
                }
            }
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let Some(end) = r.find("-->") else { break };
            rest = &r[end + 3..];
        } else if rest.starts_with("<!DOCTYPE") {
            let end = match (rest.find('['), rest.find('>')) {
                (Some(i), Some(j)) if i < j => rest.find("]>").map(|k| k + 2),
                (_, Some(j)) => Some(j + 1),
                _ => None,
            };
            let Some(end) = end else { break };
            rest = &rest[end..];
        } else {
            break;
        }
    }
    out
}

/// The start of a document, enough for its prolog.
fn prolog(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let mut f =
        std::fs::File::open(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        }
    }
    buf.truncate(n);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The schemas a document declares, resolved (roles by `schematypens`), or why one cannot be
/// found. Unsupported schema languages give a warning.
/// The schemas a document uses (with roles) and notes about its declarations.
type Declared = (Vec<(Source, Role)>, Vec<Diagnostic>);

fn declared(path: &Path, text: &str) -> Result<Declared, String> {
    let mut uses = Vec::new();
    let mut notes = Vec::new();
    let decls = xml_models(text);
    if decls.is_empty() {
        notes.push(Diagnostic::info(
            "validate/default-schema",
            format!(
                "the document declares no schema (<?xml-model?>): checked against the bundled {} and {}",
                bundled::EDITION_RNC.name,
                bundled::EDITION_SCH.name
            ),
        ));
        uses.push((Source::Bundled(bundled::EDITION_RNC.name), Role::Grammar));
        uses.push((Source::Bundled(bundled::EDITION_SCH.name), Role::Rules));
        return Ok((uses, notes));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    for (href, ns) in decls {
        let lower = href.to_ascii_lowercase();
        let roles: &[Role] = if ns == bundled::NS_RELAXNG
            || (ns.is_empty() && (lower.ends_with(".rng") || lower.ends_with(".rnc")))
        {
            &[Role::Grammar, Role::Rules]
        } else if ns == bundled::NS_SCHEMATRON || (ns.is_empty() && lower.ends_with(".sch")) {
            &[Role::Rules]
        } else {
            notes.push(Diagnostic::warning(
                "validate/xml-model-unsupported",
                format!(
                    "<?xml-model href=\"{href}\"?> is not used: schema language \"{ns}\" is not supported (RELAX NG and ISO Schematron are)"
                ),
            ));
            continue;
        };
        let remote = href.starts_with("http://") || href.starts_with("https://");
        let local = base.join(&href);
        let src = if !remote && local.exists() {
            Source::File(local)
        } else if let Some(b) = bundled::lookup(&href) {
            Source::Bundled(b.name)
        } else if remote {
            return Err(format!(
                "{}: the declared schema {href} is not fetched (teikit does not use the network): download it and pass --schema PATH, or point <?xml-model href?> at a local copy",
                path.display()
            ));
        } else {
            return Err(format!(
                "{}: the declared schema {} is not found: fix <?xml-model href?> or pass --schema PATH",
                path.display(),
                local.display()
            ));
        };
        for r in roles {
            uses.push((src.clone(), *r));
        }
    }
    uses.sort();
    uses.dedup();
    Ok((uses, notes))
}

/// The plan's notes, then `check` run with the validator of each grammar the document uses, in
/// order, until one finds the document not well-formed. Also says whether any grammar ran.
/// `Ok(None)` as soon as `check` gives `None` (the document cannot be checked this way).
fn each_grammar(
    plan: &Plan,
    loaded: &[Loaded],
    validators: &mut [Option<Validator>],
    mut check: impl FnMut(&mut Validator) -> Result<Option<Report>, String>,
) -> Result<Option<(Report, bool)>, String> {
    let mut report = Report::new();
    for n in &plan.notes {
        report.push(n.clone());
    }
    let mut ran = false;
    for (i, role) in &plan.uses {
        if *role != Role::Grammar {
            continue;
        }
        let Some(schema) = loaded.get(*i).and_then(|l| l.grammar.as_ref()) else {
            continue;
        };
        let Some(slot) = validators.get_mut(*i) else {
            continue;
        };
        let v = slot.get_or_insert_with(|| Validator::new(schema));
        let Some(r) = check(v)? else {
            return Ok(None);
        };
        ran = true;
        let not_wf = r
            .diagnostics
            .iter()
            .any(|d| d.code == crate::xml::CODE_NOT_WF);
        report.extend(r);
        if not_wf {
            break;
        }
    }
    Ok(Some((report, ran)))
}

/// Opens a file to be read as a stream of UTF-8, past its byte-order mark, transcoding it if it
/// is in another encoding; `Ok(None)` when its encoding is not supported (reading it whole
/// reports why).
fn open_stream(path: &Path) -> Result<Option<Box<dyn std::io::BufRead + Send>>, String> {
    use crate::xml::encoding::{Encoding, Transcoder, sniff};
    use std::io::BufRead;
    let file = io::open_file(path)?;
    let mut input = std::io::BufReader::with_capacity(STREAM_CHUNK, file);
    let head = input
        .fill_buf()
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let Some((encoding, bom)) = sniff(head) else {
        return Ok(None);
    };
    input.consume(bom);
    Ok(Some(match encoding {
        Encoding::Utf8 => Box::new(input),
        other => Box::new(std::io::BufReader::with_capacity(
            STREAM_CHUNK,
            Transcoder::new(input, other),
        )),
    }))
}

/// Bytes read from a streamed document at a time.
const STREAM_CHUNK: usize = 64 * 1024;

/// RELAX NG alone on a file: the document is read in chunks, on a second thread when a
/// core is idle (`pipe`), and never held whole, so memory does not grow with it. `Ok(None)`:
/// the file's encoding is not supported and reading it whole reports why.
fn stream_grammars(
    plan: &Plan,
    loaded: &[Loaded],
    validators: &mut [Option<Validator>],
    pipe: bool,
    lines: bool,
) -> Result<Option<FileResult>, String> {
    let checked = each_grammar(plan, loaded, validators, |v| {
        let Some(input) = open_stream(&plan.path)? else {
            return Ok(None);
        };
        Ok(Some(if pipe {
            crate::xml::stream::pipe(input, |src| v.validate_events(src))
        } else {
            v.validate_events(&mut crate::xml::stream::StreamReader::new(input))
        }))
    })?;
    let Some((report, _)) = checked else {
        return Ok(None);
    };
    // Findings are printed with their lines: only those lines are read again.
    let view = if report.diagnostics.is_empty() {
        TextView::full(String::new())
    } else {
        sparse::sparse_view(&plan.path, &report, lines)?
    };
    Ok(Some(FileResult {
        name: plan.path.display().to_string(),
        view,
        report,
    }))
}

/// Reads, decodes and checks one file: RELAX NG (each grammar), then Schematron (each rule set)
/// unless the document is not well-formed.
/// `integrity`: the attribute kinds when integrity runs; `beside`: run it on its own thread
/// beside RELAX NG (when there are fewer files than cores); `lines`: findings will be printed
/// with their source lines.
fn check_file(
    plan: &Plan,
    loaded: &[Loaded],
    validators: &mut [Option<Validator>],
    opts: &CheckOptions,
    integrity: Option<&AttrKinds>,
    beside: bool,
    lines: bool,
) -> Outcome {
    // Only grammars apply (a schema's rules are not loaded when Schematron is off).
    let has_rules = plan
        .uses
        .iter()
        .any(|(i, r)| *r == Role::Rules && loaded.get(*i).is_some_and(|l| l.rules.is_some()));
    let has_grammar = plan
        .uses
        .iter()
        .any(|(i, r)| *r == Role::Grammar && loaded.get(*i).is_some_and(|l| l.grammar.is_some()));
    let grammars_only = has_grammar && !has_rules;
    // Stdin (`-`) is read whole: it cannot be read again for the lines of findings.
    let from_stdin = plan.stdin.is_some() || plan.path.as_os_str() == "-";
    if !from_stdin && integrity.is_none() && grammars_only {
        match stream_grammars(plan, loaded, validators, beside, lines) {
            Ok(Some(result)) => return Outcome::Checked(result),
            Ok(None) => {}
            Err(m) => return Outcome::Unreadable(m),
        }
    }
    let input = match &plan.stdin {
        Some(bytes) => io::Input {
            name: "-".to_string(),
            path: None,
            bytes: bytes.clone(),
        },
        None => match io::read_input(&plan.path) {
            Ok(i) => i,
            Err(m) => return Outcome::Unreadable(m),
        },
    };
    let text = match crate::xml::decode(&input.bytes) {
        Ok(t) => t,
        Err(d) => {
            let mut report = Report::new();
            report.push(d);
            // The text up to the bad bytes is exact, so the finding gets its line.
            let bom: &[u8] = &[0xEF, 0xBB, 0xBF];
            let body = input.bytes.strip_prefix(bom).unwrap_or(&input.bytes);
            return Outcome::Checked(FileResult {
                name: input.name,
                view: TextView::full(String::from_utf8_lossy(body).into_owned()),
                report,
            });
        }
    };
    let path: &Path = if plan.stdin.is_some() {
        Path::new("-")
    } else {
        &plan.path
    };
    // Integrity reads the document with its lighter reader (RELAX NG's strict one, or the
    // well-formedness check, establishes well-formedness), on a second thread when cores are
    // idle; its findings are dropped if the document is not well-formed.
    let report = std::thread::scope(|scope| {
        let spawned = match (integrity, beside) {
            (Some(kinds), true) => std::thread::Builder::new()
                .spawn_scoped(scope, || integrity_of(path, &text, kinds, true))
                .ok(),
            _ => None,
        };
        let mut report = rng_and_rules(plan, loaded, validators, opts, &text, &input.name);
        let not_wf = report
            .diagnostics
            .iter()
            .any(|d| d.code == crate::xml::CODE_NOT_WF);
        let found = match (spawned, integrity) {
            (Some(h), _) => Some(h.join().unwrap_or_else(|_| {
                let mut r = Report::new();
                r.push(Diagnostic::error(
                    "integrity/internal",
                    "internal error: the integrity check stopped",
                ));
                r
            })),
            (None, Some(kinds)) if !not_wf => Some(integrity_of(path, &text, kinds, true)),
            _ => None,
        };
        if let Some(found) = found
            && !not_wf
        {
            report = merge_integrity(report, found);
        }
        report
    });
    Outcome::Checked(FileResult {
        name: input.name,
        view: TextView::full(text),
        report,
    })
}

/// RELAX NG (each grammar), then Schematron (each rule set) unless the document is not
/// well-formed; a plain well-formedness check when no grammar applies.
fn rng_and_rules(
    plan: &Plan,
    loaded: &[Loaded],
    validators: &mut [Option<Validator>],
    opts: &CheckOptions,
    text: &str,
    name: &str,
) -> Report {
    let checked = each_grammar(plan, loaded, validators, |v| Ok(Some(v.validate(text))));
    let (mut report, ran_grammar) = match checked {
        Ok(Some(done)) => done,
        // Validating text in memory neither fails nor stops.
        Ok(None) | Err(_) => (Report::new(), false),
    };
    let mut not_wf = report
        .diagnostics
        .iter()
        .any(|d| d.code == crate::xml::CODE_NOT_WF);
    if !ran_grammar {
        let r = well_formed(text);
        not_wf = r.has_errors();
        report.extend(r);
    }
    if !not_wf {
        for (i, role) in &plan.uses {
            if *role != Role::Rules {
                continue;
            }
            if let Some(rules) = loaded.get(*i).and_then(|l| l.rules.as_ref()) {
                report.extend(schematron::check_with(rules, text, name, opts));
            }
        }
    }
    report
}

/// Checks every file, spread over the available cores (each worker builds its own validators,
/// on first use, from the same compiled schemas); outcomes come back in the order of `plans`.
fn check_all(
    plans: &[Plan],
    loaded: &[Loaded],
    opts: &CheckOptions,
    integrity: Option<&AttrKinds>,
    lines: bool,
) -> Vec<Outcome> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let workers = cores.min(8).min(plans.len());
    let beside = workers < cores;
    let share = |w: usize, n: usize| -> Vec<(usize, Outcome)> {
        let mut validators: Vec<Option<Validator>> = loaded.iter().map(|_| None).collect();
        plans
            .iter()
            .enumerate()
            .filter(|(i, _)| i % n == w)
            .map(|(i, p)| {
                let o = check_file(p, loaded, &mut validators, opts, integrity, beside, lines);
                (i, o)
            })
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
    let mut out = Vec::with_capacity(plans.len());
    let mut it = all.into_iter().peekable();
    for (i, p) in plans.iter().enumerate() {
        match it.next_if(|(j, _)| *j == i) {
            Some((_, o)) => out.push(o),
            None => out.push(Outcome::Unreadable(format!(
                "{}: internal error while validating",
                p.path.display()
            ))),
        }
    }
    out
}

/// Loads a schema once per run (by source), reporting failures on stderr.
fn intern(
    src: &Source,
    checks: Checks,
    sources: &mut Vec<Source>,
    loaded: &mut Vec<Loaded>,
    code: &mut i32,
) -> Option<usize> {
    if let Some(i) = sources.iter().position(|s| s == src) {
        return loaded.get(i).map(|_| i);
    }
    match load(src, checks) {
        Ok(l) => {
            if let Some(r) = &l.rules {
                let name = match src {
                    Source::File(p) => p.display().to_string(),
                    Source::Bundled(n) => (*n).to_string(),
                };
                for d in r.unsupported() {
                    eprintln!("{name}: {}: {}", d.severity, d.message);
                }
            }
            sources.push(src.clone());
            loaded.push(l);
            Some(loaded.len() - 1)
        }
        Err(f) => {
            for m in f.messages {
                eprintln!("{m}");
            }
            *code = (*code).max(f.code);
            None
        }
    }
}

pub fn run(args: ValidateArgs) -> i32 {
    let mut code = exit::OK;
    let mut checks = Checks {
        rng: args.checks.is_empty(),
        schematron: args.checks.is_empty(),
        integrity: args.checks.is_empty(),
    };
    for c in &args.checks {
        match c.as_str() {
            "rng" => checks.rng = true,
            "schematron" => checks.schematron = true,
            "integrity" => checks.integrity = true,
            _ => {
                eprintln!(
                    "teikit validate: unknown check '{c}' (available: rng, schematron, integrity)"
                );
                code = code.max(exit::USAGE);
            }
        }
    }
    let date = match io::resolve_date(args.date.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("teikit validate: {e}");
            return exit::USAGE;
        }
    };
    if code != exit::OK {
        return code;
    }
    let mut sources: Vec<Source> = Vec::new();
    let mut loaded: Vec<Loaded> = Vec::new();
    let mut given = Vec::new();
    for s in &args.schemas {
        let src = source_of_arg(s);
        if let Some(i) = intern(&src, checks, &mut sources, &mut loaded, &mut code) {
            given.push((i, Role::Grammar));
            given.push((i, Role::Rules));
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
    let mut plans = Vec::new();
    for f in files {
        if !args.schemas.is_empty() || (!checks.rng && !checks.schematron) {
            plans.push(Plan {
                path: f,
                stdin: None,
                uses: given.clone(),
                notes: Vec::new(),
            });
            continue;
        }
        let (head, stdin) = if f.as_os_str() == "-" {
            match io::read_input(&f) {
                Ok(i) => (
                    String::from_utf8_lossy(&i.bytes).into_owned(),
                    Some(i.bytes),
                ),
                Err(m) => {
                    eprintln!("{m}");
                    code = code.max(exit::USAGE);
                    continue;
                }
            }
        } else {
            match prolog(&f) {
                Ok(t) => (t, None),
                Err(m) => {
                    eprintln!("{m}");
                    code = code.max(exit::USAGE);
                    continue;
                }
            }
        };
        let (decl, notes) = match declared(&f, &head) {
            Ok(d) => d,
            Err(m) => {
                eprintln!("{m}");
                code = code.max(exit::USAGE);
                continue;
            }
        };
        let mut uses = Vec::new();
        let mut failed = false;
        for (src, role) in decl {
            match intern(&src, checks, &mut sources, &mut loaded, &mut code) {
                Some(i) => uses.push((i, role)),
                None => failed = true,
            }
        }
        if failed {
            continue;
        }
        plans.push(Plan {
            path: f,
            stdin,
            uses,
            notes,
        });
    }
    if let Some(p) = &args.phase {
        for (src, l) in sources.iter().zip(&loaded) {
            if let Some(r) = &l.rules
                && !r.has_phase(p)
            {
                let name = match src {
                    Source::File(f) => f.display().to_string(),
                    Source::Bundled(n) => (*n).to_string(),
                };
                eprintln!("teikit validate: {name}: no phase `{p}`");
                code = code.max(exit::USAGE);
            }
        }
        if code == exit::USAGE {
            return code;
        }
    }
    let opts = CheckOptions {
        phase: args.phase.as_deref(),
        today: Some(&date),
    };
    // Pointer attributes: as the grammars in use type them (anyURI), else TEI's list.
    let kinds = checks.integrity.then(|| {
        let mut kinds: Option<AttrKinds> = None;
        for g in loaded.iter().filter_map(|l| l.grammar.as_ref()) {
            kinds.get_or_insert_with(AttrKinds::default).add_schema(g);
        }
        kinds.unwrap_or_else(AttrKinds::tei_default)
    });
    let mut results = Vec::new();
    // Only the human format shows source lines; the others need positions alone.
    let lines = matches!(args.format, Format::Human);
    for outcome in check_all(&plans, &loaded, &opts, kinds.as_ref(), lines) {
        match outcome {
            Outcome::Checked(mut r) => {
                locate_related(&mut r);
                results.push(r);
            }
            Outcome::Unreadable(m) => {
                eprintln!("{m}");
                code = code.max(exit::USAGE);
            }
        }
    }
    if results.iter().any(|f| f.report.has_errors()) {
        code = code.max(exit::INVALID);
    }
    let texts = match args.format {
        Format::Human => schema_texts(&loaded),
        Format::Short | Format::Json => SchemaTexts::new(),
    };
    let out = render(&results, args.format, &texts);
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

    /// Paragraphs with IDs (typed ID) and a date, in a letter that needs an opener.
    const GRAMMAR: &str = r#"<element name="letter" xmlns="http://relaxng.org/ns/structure/1.0"
        datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
      <element name="opener"><text/></element>
      <oneOrMore>
        <element name="p">
          <attribute name="xml:id"><data type="ID"/></attribute>
          <optional><attribute name="when"><data type="date"/></attribute></optional>
          <text/>
        </element>
      </oneOrMore>
    </element>
    "#;

    /// A byte-order mark, CRLF line ends, non-ASCII text and several findings: a bad date, a
    /// duplicate ID, an element not allowed (with the rejecting definition).
    const DOC: &str = "\u{feff}<letter>\r\n  <opener>Дорогой товарищ Тито,</opener>\r\n  <p xml:id=\"a\" when=\"23.9.1954\">Čestitamo 😀</p>\r\n  <p xml:id=\"a\">Again.</p> <note/>\r\n  <p xml:id=\"b\">End.</p>\r\n</letter>";

    /// The three formats of `f` (document-relative positions made hints first).
    fn all_formats(mut f: FileResult, texts: &SchemaTexts) -> Vec<String> {
        locate_related(&mut f);
        let results = [f];
        [Format::Short, Format::Json, Format::Human]
            .map(|format| render(&results, format, texts))
            .to_vec()
    }

    #[test]
    fn the_sparse_view_prints_as_the_whole_text() {
        let dir = tempfile::tempdir().unwrap();
        let (rng, doc) = (dir.path().join("l.rng"), dir.path().join("d.xml"));
        std::fs::write(&rng, GRAMMAR).unwrap();
        std::fs::write(&doc, DOC).unwrap();
        let Ok(schema) = super::super::schema::load_schema_uncached(&rng) else {
            panic!("the grammar does not compile")
        };
        let text = crate::xml::decode(DOC.as_bytes()).unwrap();
        let mut report = Validator::new(&schema).validate(&text);
        let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert!(
            codes.contains(&crate::validate::codes::DUPLICATE_ID),
            "{codes:?}"
        );
        assert!(codes.len() >= 3, "{codes:?}");
        // A span over three lines and beyond, and one past the end.
        report.push(Diagnostic::warning("t/long", "long").with_span(Span::new(20, 150)));
        report.push(Diagnostic::info("t/end", "end").with_span(Span::new(900, 990)));
        let texts = schema_texts(&[Loaded {
            grammar: Some(schema),
            rules: None,
        }]);
        let view = sparse::sparse_view(&doc, &report, true).unwrap();
        assert!(matches!(view, TextView::Sparse(_)));
        let name = "d.xml".to_string();
        let full = FileResult {
            name: name.clone(),
            view: TextView::full(text),
            report: report.clone(),
        };
        let sparse = FileResult { name, view, report };
        let (full, sparse) = (all_formats(full, &texts), all_formats(sparse, &texts));
        assert_eq!(full, sparse);
        let human = &sparse[2];
        for want in [
            "first occurrence of ID \"a\" at line 3, column 34",
            "Čestitamo 😀",
            "l.rng",
        ] {
            assert!(human.contains(want), "{want}: {human}");
        }
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
