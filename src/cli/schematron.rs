//! `teikit schematron`: runs ISO Schematron (a `.sch` file, or the rules embedded in a `.rng`)
//! over documents and prints the findings.
//!
//! Owns the filesystem side only: loading the schema, named by `--schema` or else by each
//! document's `<?xml-model?>` (local files only; missing: exit 2; not Schematron or not
//! well-formed: exit 3), reading documents (files, directories of `*.xml`, `-` for stdin),
//! choosing the date for `current-date()` (`--date`, else `SOURCE_DATE_EPOCH`, else today),
//! and formatting (`short`: exactly `path:line:col: severity: message`; `json`). The report is
//! the output (stdout); rules that cannot be run are reported once, before the documents.
//! It must not hold rule logic (that is `teikit::schematron`). The lead folds this into
//! `teikit validate --checks schematron` at merge.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{exit, io};
use crate::diag::{Diagnostic, FullText, SourceLines, format_short};
use crate::schematron::{self, CheckOptions, LoadError, Schema};

/// The bundled edition rules (`--schema teikit-edition`): `schemas/teikit-edition.sch`.
pub const BUNDLED_EDITION_SCH: &str = include_str!("../../schemas/teikit-edition.sch");
const BUNDLED_EDITION_NAME: &str = "teikit-edition";

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Short,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct SchematronArgs {
    /// The rules: an ISO Schematron `.sch` file, a RELAX NG `.rng` with embedded Schematron, or
    /// `teikit-edition` for the bundled edition rules (unless a file of that name exists).
    /// Without it, each document's `<?xml-model?>` Schematron (or RELAX NG) schema is used.
    #[arg(long, value_name = "X.sch|X.rng")]
    pub schema: Option<PathBuf>,
    /// The phase to run (default: the schema's defaultPhase, else #ALL).
    #[arg(long, value_name = "PHASE")]
    pub phase: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "short")]
    pub format: Format,
    /// The date `current-date()` returns, YYYY-MM-DD (default: SOURCE_DATE_EPOCH, else today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Documents or directories (their `*.xml` files); `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

fn fail(code: i32, msg: &str) -> i32 {
    eprintln!("teikit schematron: error: {msg}");
    code
}

fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| format!("{}: {e}", p.display()))?;
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "xml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Loads a schema named on the command line or by a document: exit code and message on failure.
fn load_schema(path: &Path) -> Result<Schema, (i32, String)> {
    let bundled = !path.exists() && path.as_os_str() == BUNDLED_EDITION_NAME;
    if !path.exists() && !bundled {
        return Err((exit::USAGE, format!("{}: schema not found", path.display())));
    }
    let loaded = if bundled {
        schematron::from_sch_xml(BUNDLED_EDITION_SCH, BUNDLED_EDITION_NAME)
    } else {
        schematron::load_schematron_file(path)
    };
    match loaded {
        Ok(s) => Ok(s),
        Err(LoadError::Io(e)) => Err((exit::USAGE, e)),
        Err(LoadError::Schema(e)) => Err((exit::SCHEMA, e)),
    }
}

/// The schema a document declares (`<?xml-model?>`), resolved against its directory.
fn declared_schema(doc_path: &Path, text: &str) -> Result<PathBuf, String> {
    let declared = schematron::declared_schemas(text);
    // ISO Schematron first, then a RELAX NG schema's embedded rules
    let pick = declared
        .iter()
        .find(|d| d.schematron)
        .or_else(|| declared.first());
    let Some(d) = pick else {
        return Err(format!(
            "{}: no --schema given and the document declares no Schematron or RELAX NG schema (<?xml-model?>)",
            doc_path.display()
        ));
    };
    if d.href.starts_with("http://") || d.href.starts_with("https://") {
        return Err(format!(
            "{}: the declared schema {} is not fetched (no network access); pass --schema",
            doc_path.display(),
            d.href
        ));
    }
    let base = doc_path.parent().unwrap_or(Path::new("."));
    Ok(base.join(&d.href))
}

pub fn run(args: SchematronArgs) -> i32 {
    let date = match io::resolve_date(args.date.as_deref()) {
        Ok(d) => d,
        Err(e) => return fail(exit::USAGE, &e),
    };
    let mut schemas: BTreeMap<PathBuf, Schema> = BTreeMap::new();
    let mut out = String::new();
    let mut json: Vec<serde_json::Value> = Vec::new();
    let mut code = exit::OK;
    if let Some(path) = &args.schema {
        match load_schema(path) {
            Ok(s) => {
                if let Some(p) = &args.phase
                    && !s.has_phase(p)
                {
                    return fail(exit::USAGE, &format!("{}: no phase `{p}`", path.display()));
                }
                for d in s.unsupported() {
                    emit_one(
                        &mut out,
                        &mut json,
                        args.format,
                        &path.display().to_string(),
                        "",
                        &d,
                    );
                }
                schemas.insert(path.clone(), s);
            }
            Err((c, e)) => return fail(c, &e),
        }
    }
    let files = match collect(&args.files) {
        Ok(f) => f,
        Err(e) => return fail(exit::USAGE, &e),
    };
    let opts = CheckOptions {
        phase: args.phase.as_deref(),
        today: Some(&date),
    };
    for f in files {
        let input = match io::read_input(&f) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("teikit schematron: error: {e}");
                code = code.max(exit::USAGE);
                continue;
            }
        };
        let text = match crate::source::decode_text(&input.bytes) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("teikit schematron: error: {}: {e}", input.name);
                code = code.max(exit::USAGE);
                continue;
            }
        };
        let schema_path = match &args.schema {
            Some(p) => p.clone(),
            None => match declared_schema(&f, &text) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("teikit schematron: error: {e}");
                    code = code.max(exit::USAGE);
                    continue;
                }
            },
        };
        if !schemas.contains_key(&schema_path) {
            match load_schema(&schema_path) {
                Ok(s) => {
                    let name = schema_path.display().to_string();
                    for d in s.unsupported() {
                        emit_one(&mut out, &mut json, args.format, &name, "", &d);
                    }
                    schemas.insert(schema_path.clone(), s);
                }
                Err((c, e)) => {
                    eprintln!("teikit schematron: error: {e}");
                    code = code.max(c);
                    continue;
                }
            }
        }
        let Some(schema) = schemas.get(&schema_path) else {
            continue;
        };
        if let Some(p) = &args.phase
            && !schema.has_phase(p)
        {
            eprintln!(
                "teikit schematron: error: {}: no phase `{p}`",
                schema_path.display()
            );
            code = code.max(exit::USAGE);
            continue;
        }
        let report = schematron::check_with(schema, &text, &input.name, &opts);
        if report.has_errors() {
            code = code.max(exit::INVALID);
        }
        for d in &report.diagnostics {
            emit_one(&mut out, &mut json, args.format, &input.name, &text, d);
        }
    }
    let bytes = match args.format {
        Format::Short => out,
        Format::Json => {
            serde_json::to_string_pretty(&json).unwrap_or_else(|_| "[]".to_string()) + "\n"
        }
    };
    if let Err(e) = io::emit(None, bytes.as_bytes()) {
        return fail(exit::USAGE, &e);
    }
    code
}

fn emit_one(
    out: &mut String,
    json: &mut Vec<serde_json::Value>,
    format: Format,
    path: &str,
    text: &str,
    d: &Diagnostic,
) {
    let lines = FullText::new(text);
    match format {
        Format::Short => {
            let _ = writeln!(out, "{}", format_short(path, &lines, d));
        }
        Format::Json => {
            let (line, column) = match d.span {
                Some(s) => lines.line_col(s.start),
                None => (1, 1),
            };
            json.push(serde_json::json!({
                "path": path,
                "line": line,
                "column": column,
                "severity": d.severity.as_str(),
                "code": d.code,
                "message": d.message,
                "hints": d.hints,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_schema_resolves_against_the_document() {
        let text = "<?xml-model href=\"../meta/x.sch\" schematypens=\"http://purl.oclc.org/dsdl/schematron\"?><r/>";
        assert_eq!(
            declared_schema(Path::new("corpus/editions/a.xml"), text).unwrap(),
            PathBuf::from("corpus/editions/../meta/x.sch")
        );
        let web = "<?xml-model href=\"https://example.org/x.rng\" schematypens=\"http://relaxng.org/ns/structure/1.0\"?><r/>";
        assert!(
            declared_schema(Path::new("a.xml"), web)
                .unwrap_err()
                .contains("not fetched")
        );
        assert!(
            declared_schema(Path::new("a.xml"), "<r/>")
                .unwrap_err()
                .contains("declares no Schematron")
        );
    }

    #[test]
    fn the_bundled_edition_rules_compile() {
        let s = schematron::from_sch_xml(BUNDLED_EDITION_SCH, BUNDLED_EDITION_NAME).unwrap();
        assert_eq!(s.patterns.len(), 5);
        assert!(s.unsupported().is_empty());
    }
}
