//! Exports: one TEI document (or a corpus of them) written for pipelines and readers.
//!
//! Owns the choice of format and the common contract: every format is a pure function from the
//! export model (`model::Edition`, read with roxmltree) to text, deterministic (no clock except
//! the date passed in), and what a format cannot carry is reported as a warning with the code
//! `export/not-carried`, never dropped silently. Formats: `json` (the model itself, described by
//! `schemas/teikit-export.schema.json`), `text`, `csv` and `csv-register` (RFC 4180), `cmif`
//! (Correspondence Metadata Interchange Format v1.1, TEI Guidelines 2.4.6), `html` (a
//! self-contained reading edition) and the corpus index page.
//! It must not touch the filesystem: `cli::export` reads inputs, `teikit.toml` and writes outputs.

pub mod cmif;
pub mod config;
pub mod csv;
pub mod html;
pub mod model;
pub mod text;

use crate::diag::{Diagnostic, Report};
pub use model::{Edition, read_edition};

/// An export format of `teikit export --to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
    Csv,
    CsvRegister,
    Cmif,
    Html,
}

impl Format {
    /// Every format with its command-line name.
    pub const ALL: [(Format, &'static str); 6] = [
        (Format::Json, "json"),
        (Format::Text, "text"),
        (Format::Csv, "csv"),
        (Format::CsvRegister, "csv-register"),
        (Format::Cmif, "cmif"),
        (Format::Html, "html"),
    ];

    pub fn name(self) -> &'static str {
        Format::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .unwrap_or("json")
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(f, _)| *f)
    }

    /// The usual file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Text => "txt",
            Format::Csv | Format::CsvRegister => "csv",
            Format::Cmif => "xml",
            Format::Html => "html",
        }
    }
}

/// What a CMIF file needs beyond the edition (CMIF v1.1 `publicationStmt`): who publishes it,
/// where, under which licence, and who is responsible for it (`titleStmt/editor`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmifSettings {
    pub publisher: Option<String>,
    /// The URL of the published edition (and of this CMIF file's `idno[@type='url']`).
    pub url: Option<String>,
    /// The licence's URI, e.g. `https://creativecommons.org/licenses/by/4.0/`.
    pub licence: Option<String>,
    pub editor: Option<String>,
}

impl CmifSettings {
    /// Settings from the command line win over those from `teikit.toml`.
    pub fn or(self, other: CmifSettings) -> CmifSettings {
        CmifSettings {
            publisher: self.publisher.or(other.publisher),
            url: self.url.or(other.url),
            licence: self.licence.or(other.licence),
            editor: self.editor.or(other.editor),
        }
    }
}

/// Options shared by the formats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The date of this export (YYYY-MM-DD), written where a format needs one (CMIF).
    pub date: String,
    pub cmif: CmifSettings,
}

/// Why an export could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The input is not well-formed XML or not TEI (exit 1).
    Invalid(String),
    /// The input lacks what the format needs, or settings are missing (exit 2).
    Unusable(String),
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportError::Invalid(m) | ExportError::Unusable(m) => f.write_str(m),
        }
    }
}

/// One export written: the output text and the findings (warnings of what was not carried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub text: String,
    pub report: Report,
}

/// Reads `xml` and writes it in `format`.
pub fn export(xml: &str, format: Format, options: &Options) -> Result<Output, ExportError> {
    let (edition, report) = read_edition(xml).map_err(ExportError::Invalid)?;
    export_edition(&edition, report, format, options)
}

/// Writes an edition already read in `format`; `report` holds the reading's findings.
pub fn export_edition(
    edition: &Edition,
    mut report: Report,
    format: Format,
    options: &Options,
) -> Result<Output, ExportError> {
    let text = match format {
        Format::Json => to_json(edition),
        Format::Text => text::to_text(edition, &mut report),
        Format::Csv => csv::mentions(edition, &mut report),
        Format::CsvRegister => csv::register(edition, &mut report),
        Format::Cmif => cmif::to_cmif(edition, options, &mut report)?,
        Format::Html => html::to_html(edition, &html::Links::default(), &mut report),
    };
    Ok(Output { text, report })
}

/// The JSON export: the model, pretty-printed, ending with a newline.
pub fn to_json(edition: &Edition) -> String {
    let mut s = serde_json::to_string_pretty(edition).unwrap_or_else(|e| {
        // Serialising plain structs of strings cannot fail; report it as JSON if it ever does.
        serde_json::json!({ "error": e.to_string() }).to_string()
    });
    s.push('\n');
    s
}

/// The spans of type `markup` in an edition, counted by element, for "not carried" warnings.
pub(crate) fn markup_counts(edition: &Edition) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for span in edition
        .blocks
        .iter()
        .flat_map(|b| b.spans.iter())
        .chain(edition.notes.iter().flat_map(|n| n.spans.iter()))
    {
        if span.type_ == model::SpanType::Markup {
            *m.entry(span.element.clone()).or_insert(0) += 1;
        }
    }
    m
}

pub(crate) fn format_counts(m: &std::collections::BTreeMap<String, usize>) -> String {
    m.iter()
        .map(|(k, v)| format!("<{k}> ×{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "1 note", "2 notes".
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub(crate) fn not_carried(report: &mut Report, message: String) {
    report.push(Diagnostic::warning("export/not-carried", message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for (f, n) in Format::ALL {
            assert_eq!(Format::from_name(n), Some(f));
            assert_eq!(f.name(), n);
        }
        assert_eq!(Format::from_name("pdf"), None);
    }

    #[test]
    fn flags_win_over_config() {
        let flags = CmifSettings {
            publisher: Some("A".into()),
            ..Default::default()
        };
        let file = CmifSettings {
            publisher: Some("B".into()),
            url: Some("https://x".into()),
            ..Default::default()
        };
        let s = flags.or(file);
        assert_eq!(s.publisher.as_deref(), Some("A"));
        assert_eq!(s.url.as_deref(), Some("https://x"));
    }

    #[test]
    fn json_is_versioned() {
        let xml =
            r#"<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><p>x</p></body></text></TEI>"#;
        let out = export(xml, Format::Json, &Options::default()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out.text).unwrap();
        assert_eq!(v["format"], "teikit-export");
        assert_eq!(v["version"], model::FORMAT_VERSION);
    }
}
