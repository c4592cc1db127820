//! `convert`: a plain-text archival document becomes a TEI P5 edition.
//!
//! Owns the conversion pipeline as stages with typed outputs: `layout` (read: date line, title,
//! header fields, body) → `structure` (opener, paragraphs, lists, sections, closer, postscript,
//! footnotes, repaired breaks) → `inline` (brackets, footnote anchors, names, dates) →
//! `write` (the TEI document and its `standOff`). Each stage is a pure function; the result is
//! the serialised edition plus a report of diagnostics and the names the register lacks. It
//! must not read or write files (the CLI does that) and never fails on odd input: what it cannot
//! recognise it keeps as body text and warns about.

pub mod dates;
pub mod header;
pub mod inline;
pub mod layout;
pub mod structure;
pub mod write;

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Report};
use crate::register::Register;

/// What the conversion needs besides the text.
#[derive(Debug, Clone)]
pub struct Options {
    /// The date of this revision (`revisionDesc/change/@when`), YYYY-MM-DD.
    pub date: String,
    /// The `href` of the `<?xml-model?>` RELAX NG schema association (default: teikit's bundled
    /// edition schema).
    pub schema_href: String,
    /// The `href` of the `<?xml-model?>` Schematron association, if any (default: teikit's
    /// bundled edition rules).
    pub schematron_href: Option<String>,
    /// The teikit version recorded in `appInfo`.
    pub version: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            date: "1970-01-01".to_string(),
            schema_href: crate::tei::EDITION_RNC_URL.to_string(),
            schematron_href: Some(crate::tei::EDITION_SCH_URL.to_string()),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A name in the text that looks like an entity but is not in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub name: String,
    pub count: usize,
    /// The source line of the first occurrence.
    pub line: usize,
}

/// The result of a conversion.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The serialised TEI document.
    pub xml: String,
    pub report: Report,
    /// Register ids the edition refers to.
    pub referenced: Vec<String>,
    /// Capitalised names not in the register, most frequent first.
    pub unknown_names: Vec<UnknownName>,
    /// Counts for `--report`: persons, places, organisations, dates, notes, paragraphs.
    pub stats: BTreeMap<&'static str, usize>,
}

/// Converts a decoded source text (see `source::decode_text`) against a register.
pub fn convert(text: &str, register: &Register, options: &Options) -> Conversion {
    // XML 1.0 §2.2 allows no C0 control characters but tab, LF and CR: they become spaces
    // (byte offsets are unchanged, so diagnostics still point into the source).
    let mut controls = Vec::new();
    let cleaned: String = text
        .char_indices()
        .map(|(i, c)| {
            if c.is_control() && (c as u32) < 0x20 && c != '\t' && c != '\n' {
                controls.push(i);
                ' '
            } else {
                c
            }
        })
        .collect();
    let text = cleaned.as_str();
    let (layout, mut report) = layout::read_layout(text);
    if let Some(&first) = controls.first() {
        report.push(
            Diagnostic::warning(
                "convert/control-character",
                format!(
                    "{} control character(s), not allowed in XML, replaced by spaces (the first at byte offset {first})",
                    controls.len()
                ),
            )
            .with_span(crate::diag::Span::new(first, first + 1)),
        );
    }
    let structure = structure::build(&layout.body, layout.year());
    let written = write::write(&layout, &structure, register, options);
    report.extend(written.report);
    let mut unknown: Vec<UnknownName> = written
        .unknown_names
        .into_iter()
        .map(|(name, (count, line))| UnknownName { name, count, line })
        .collect();
    let lines = layout::split_lines(text);
    unknown.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    for u in &unknown {
        let mut d = Diagnostic::warning(
            "convert/unknown-name",
            format!(
                "\"{}\" ({}x) looks like a name but is not in the register; add it to the register to link it",
                u.name, u.count
            ),
        );
        if let Some(l) = lines.iter().find(|l| l.no == u.line) {
            let col = l.text.find(u.name.as_str()).unwrap_or(0);
            d = d.with_span(crate::diag::Span::new(
                l.span.start + col,
                l.span.start + col + u.name.len(),
            ));
        }
        report.push(d);
    }
    Conversion {
        xml: crate::tei::serialize(&written.document),
        report,
        referenced: written.referenced.into_iter().collect(),
        unknown_names: unknown,
        stats: written.stats,
    }
}
