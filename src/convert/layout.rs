//! Stage 1, **read**: the archive's plain-text export layout.
//!
//! Owns recognising the layout of the Wilson Center Digital Archive's text export: a leading date
//! line, a title, labelled header fields (`Citation:`, `Summary:`, `Credits:`,
//! `Original Language:`, `Contents:`, `Source:` and any other `Label:` line standing before the
//! body) and then the body. Fields may be missing or in another order; a label that has already
//! been seen, or that stands far from the previous field, belongs to the body. Whatever is not
//! recognised is kept as body text and warned about with its source line: nothing is dropped.
//! It must not interpret the body (that is `structure`) nor build XML.

use std::sync::LazyLock;

use regex::Regex;

use super::dates;
use crate::diag::{Diagnostic, Report, Span};

/// One source line: 1-based number, text (without the line break), byte span in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub no: usize,
    pub text: String,
    pub span: Span,
}

impl Line {
    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// The header fields teikit knows how to encode; anything else is `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Citation,
    Summary,
    Credits,
    OriginalLanguage,
    Contents,
    Source,
    Other,
}

/// A labelled header field: its label as written, kind, value paragraphs and label line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub kind: FieldKind,
    /// One string per paragraph (block of non-blank lines, joined with spaces).
    pub paragraphs: Vec<String>,
    pub line: usize,
    pub span: Span,
}

impl Field {
    /// All paragraphs joined with a space.
    pub fn text(&self) -> String {
        self.paragraphs.join(" ")
    }
}

/// The recognised layout of a source document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    pub date_line: Option<Line>,
    /// The document date from the date line, ISO (YYYY-MM-DD, YYYY-MM or YYYY).
    pub date: Option<String>,
    pub title: Option<Line>,
    pub fields: Vec<Field>,
    /// The body's lines, blank lines included (they separate blocks).
    pub body: Vec<Line>,
}

impl Layout {
    pub fn field(&self, kind: &FieldKind) -> Option<&Field> {
        self.fields.iter().find(|f| &f.kind == kind)
    }

    /// The year of the document date, used to complete day-month dates in the text.
    pub fn year(&self) -> Option<i32> {
        self.date.as_deref()?.get(..4)?.parse().ok()
    }
}

/// How many value paragraphs a field may have before a following label is taken to be part of
/// the body rather than the next header field.
const MAX_FIELD_PARAGRAPHS: usize = 3;

static LABEL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([A-Z][A-Za-z'’&/()\-]*(?: [A-Za-z'’&/()\-]+){0,5}):$").ok());

/// The label of a line that is only `Label:` (up to six words), if it is one.
pub fn label_of(line: &str) -> Option<String> {
    let t = line.trim();
    if t.len() > 50 {
        return None;
    }
    let re = LABEL.as_ref()?;
    re.captures(t)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

fn field_kind(label: &str) -> FieldKind {
    match label.to_ascii_lowercase().as_str() {
        "citation" => FieldKind::Citation,
        "summary" => FieldKind::Summary,
        "credits" => FieldKind::Credits,
        "original language" | "original languages" => FieldKind::OriginalLanguage,
        "contents" => FieldKind::Contents,
        "source" => FieldKind::Source,
        _ => FieldKind::Other,
    }
}

/// A short line with a four-digit year in it, or a word like "Undated".
fn looks_like_date_line(text: &str) -> bool {
    let t = text.trim();
    let words = t.split_whitespace().count();
    let has_year = t
        .split(|c: char| !c.is_ascii_digit())
        .any(|d| d.len() == 4 && (d.starts_with('1') || d.starts_with("20")));
    words <= 6
        && (has_year || t.to_lowercase().starts_with("undated") || t.to_lowercase() == "n.d.")
}

/// Splits text into lines with 1-based numbers and byte spans.
pub fn split_lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, piece) in text.split('\n').enumerate() {
        let end = start + piece.len();
        out.push(Line {
            no: i + 1,
            text: piece.to_string(),
            span: Span::new(start, end),
        });
        start = end + 1;
    }
    // A final newline gives an empty last piece, which is not a line.
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

/// Groups consecutive non-blank lines from `from` into blocks: (first index, end index exclusive).
fn blocks_from(lines: &[Line], from: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = from;
    while i < lines.len() {
        if lines.get(i).is_some_and(Line::is_blank) {
            i += 1;
            continue;
        }
        let start = i;
        while lines.get(i).is_some_and(|l| !l.is_blank()) {
            i += 1;
        }
        out.push((start, i));
    }
    out
}

fn join_block(lines: &[Line], (start, end): (usize, usize)) -> String {
    lines
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .map(|l| l.text.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the layout of a decoded source text.
pub fn read_layout(text: &str) -> (Layout, Report) {
    let lines = split_lines(text);
    let mut report = Report::new();
    let mut layout = Layout::default();
    let blocks = blocks_from(&lines, 0);
    let mut b = 0; // index into blocks

    // The leading date line: a first block of one line that is a date; or, failing that, a
    // short line with a year in it ("c. 1950", "Undated [1950]") standing where the date
    // belongs, before a one-line title.
    if let Some(&(s, e)) = blocks.first()
        && let Some(line) = lines.get(s)
    {
        if e - s == 1 {
            if let Some(value) = dates::parse_date(line.text.trim()) {
                layout.date = Some(dates_value_iso(&value));
                layout.date_line = Some(line.clone());
                b = 1;
            } else if looks_like_date_line(&line.text)
                && blocks.get(1).is_some_and(|&(ts, te)| {
                    te - ts == 1 && lines.get(ts).is_some_and(|t| label_of(&t.text).is_none())
                })
            {
                let (found, _) = dates::find_dates(line.text.trim(), None);
                layout.date = found.first().map(|m| dates_value_iso(&m.value));
                layout.date_line = Some(line.clone());
                b = 1;
                report.push(
                    Diagnostic::warning(
                        "convert/vague-date-line",
                        format!(
                            "the date line \"{}\" is not a full date; {}",
                            line.text.trim(),
                            match &layout.date {
                                Some(d) => format!("the edition dates the document {d}"),
                                None => "the edition gives no normalised date".to_string(),
                            }
                        ),
                    )
                    .with_span(line.span),
                );
            }
        }
        if layout.date_line.is_none() {
            report.push(
                Diagnostic::warning(
                    "convert/no-date-line",
                    "the document does not start with a date line (e.g. \"September 23, 1954\"); \
                         the edition has no document date",
                )
                .with_span(line.span),
            );
        }
    }

    // The title: the next block, unless it is a label; up to three lines, joined.
    if let Some(&(s, e)) = blocks.get(b) {
        let first = lines.get(s);
        let is_label = first.is_some_and(|l| label_of(&l.text).is_some());
        let next_is_label = blocks
            .get(b + 1)
            .and_then(|&(ns, _)| lines.get(ns))
            .is_some_and(|l| label_of(&l.text).is_some());
        if !is_label && (e - s == 1 || (e - s <= 3 && next_is_label)) {
            if let Some(first) = first {
                let mut title = first.clone();
                title.text = join_block(&lines, (s, e));
                if let Some(last) = lines.get(e - 1) {
                    title.span = Span::new(first.span.start, last.span.end);
                }
                layout.title = Some(title);
                b += 1;
            }
        } else if let Some(first) = first {
            report.push(
                Diagnostic::warning(
                    "convert/no-title",
                    "no title line found where the layout has one; the text from here on is kept as body",
                )
                .with_span(first.span),
            );
        }
    }

    // Header fields: `Label:` lines each followed by their value paragraphs.
    let mut seen: Vec<String> = Vec::new();
    let mut body_start_block = b;
    while let Some(&(s, e)) = blocks.get(b) {
        let Some(label_line) = lines.get(s) else {
            break;
        };
        let Some(label) = label_of(&label_line.text) else {
            break;
        };
        let key = label.to_ascii_lowercase();
        if seen.contains(&key) {
            break;
        }
        seen.push(key);
        // The label may be followed on the next lines of its own block by its value.
        let mut paragraphs = Vec::new();
        if e - s > 1 {
            paragraphs.push(join_block(&lines, (s + 1, e)));
        }
        // Following blocks up to the next label, if it comes soon enough.
        let mut next = b + 1;
        while let Some(&(ns, _)) = blocks.get(next) {
            if lines.get(ns).is_some_and(|l| label_of(&l.text).is_some()) {
                break;
            }
            next += 1;
        }
        let value_blocks = next - (b + 1);
        let next_is_field = blocks.get(next).is_some()
            && value_blocks <= MAX_FIELD_PARAGRAPHS
            && blocks
                .get(next)
                .and_then(|&(ns, _)| lines.get(ns))
                .and_then(|l| label_of(&l.text))
                .is_some_and(|l| !seen.contains(&l.to_ascii_lowercase()));
        let take = if next_is_field {
            value_blocks
        } else if paragraphs.is_empty() {
            value_blocks.min(1)
        } else {
            0
        };
        for k in 0..take {
            if let Some(&blk) = blocks.get(b + 1 + k) {
                paragraphs.push(join_block(&lines, blk));
            }
        }
        if paragraphs.is_empty() {
            report.push(
                Diagnostic::warning(
                    "convert/empty-field",
                    format!("the field \"{label}:\" has no value"),
                )
                .with_span(label_line.span),
            );
        }
        let kind = field_kind(&label);
        if kind == FieldKind::Other {
            report.push(
                Diagnostic::info(
                    "convert/unknown-field",
                    format!(
                        "header field \"{label}:\" is not one teikit encodes specially; it is kept as a note in the header"
                    ),
                )
                .with_span(label_line.span),
            );
        }
        let end_line = blocks
            .get(b + take)
            .and_then(|&(_, be)| lines.get(be - 1))
            .map(|l| l.span.end)
            .unwrap_or(label_line.span.end);
        layout.fields.push(Field {
            label,
            kind,
            paragraphs,
            line: label_line.no,
            span: Span::new(label_line.span.start, end_line),
        });
        b += 1 + take;
        body_start_block = b;
        if !next_is_field {
            break;
        }
    }
    if layout.fields.is_empty() {
        let at = blocks
            .get(body_start_block)
            .and_then(|&(s, _)| lines.get(s));
        let mut d = Diagnostic::warning(
            "convert/no-header-fields",
            "no labelled header fields (Citation:, Summary:, Source:, ...) found; everything after the title is kept as body text",
        );
        if let Some(l) = at {
            d = d.with_span(l.span);
        }
        report.push(d);
    }

    let body_from = blocks
        .get(body_start_block)
        .map(|&(s, _)| s)
        .unwrap_or(lines.len());
    layout.body = lines.get(body_from..).unwrap_or(&[]).to_vec();
    while layout.body.last().is_some_and(Line::is_blank) {
        layout.body.pop();
    }
    if layout.body.iter().all(Line::is_blank) {
        report.push(Diagnostic::warning(
            "convert/empty-body",
            "the document has no body text after its header",
        ));
    }
    (layout, report)
}

/// The single ISO value of a parsed date line (ranges use their start).
pub fn dates_value_iso(value: &dates::DateValue) -> String {
    match value {
        dates::DateValue::When(w) => w.clone(),
        dates::DateValue::Range { from, .. } => from.clone(),
        dates::DateValue::Between { not_before, .. } => not_before.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\n\nSeptember 23, 1954\n\nA Letter\n\nCitation:\n\n\"A Letter\", Archive, 1.\n\nSummary:\n\nIt says things.\n\nContents:\n\nTranslation - English\n\nDear X,\n\nBody text.\n";

    #[test]
    fn reads_the_archive_layout() {
        let (l, report) = read_layout(DOC);
        assert!(report.is_empty(), "{report:?}");
        assert_eq!(l.date.as_deref(), Some("1954-09-23"));
        assert_eq!(l.title.as_ref().map(|t| t.text.as_str()), Some("A Letter"));
        let labels: Vec<_> = l.fields.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["Citation", "Summary", "Contents"]);
        assert_eq!(l.fields[2].text(), "Translation - English");
        let body: Vec<_> = l.body.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(body, ["Dear X,", "", "Body text."]);
        assert_eq!(l.body[0].no, 19);
    }

    #[test]
    fn a_label_in_the_body_stays_in_the_body() {
        let doc = "July 1, 1954\n\nCable\n\nSummary:\n\nShort.\n\nText one.\n\nText two.\n\nText three.\n\nText four.\n\nContents:\n\n1. Item\n";
        let (l, _) = read_layout(doc);
        assert_eq!(l.fields.len(), 1);
        assert_eq!(l.fields[0].paragraphs, ["Short."]);
        assert!(l.body.iter().any(|x| x.text == "Contents:"));
        assert!(l.body.iter().any(|x| x.text == "Text one."));
    }

    #[test]
    fn a_repeated_label_ends_the_header() {
        let doc =
            "July 1, 1954\n\nCable\n\nContents:\n\nTranslation - Russian\n\nContents:\n\nA list.\n";
        let (l, _) = read_layout(doc);
        assert_eq!(l.fields.len(), 1);
        assert_eq!(l.body[0].text, "Contents:");
    }

    #[test]
    fn unknown_layout_is_kept_as_body_with_warnings() {
        let (l, report) = read_layout("Just some text.\nMore text.\n");
        assert!(l.date.is_none());
        let codes: Vec<_> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert!(codes.contains(&"convert/no-date-line"));
        assert!(codes.contains(&"convert/no-header-fields"));
        assert_eq!(l.body.len(), 2);
    }

    #[test]
    fn a_vague_date_line_is_still_the_date_line() {
        let (l, report) = read_layout("c. 1950\n\nLetter from A to B\n\nSummary:\n\nS.\n\nBody.\n");
        assert_eq!(l.date.as_deref(), Some("1950"));
        assert_eq!(
            l.title.as_ref().map(|t| t.text.as_str()),
            Some("Letter from A to B")
        );
        assert_eq!(l.fields.len(), 1);
        assert!(
            report
                .diagnostics
                .iter()
                .any(|d| d.code == "convert/vague-date-line")
        );
        let (l, _) = read_layout("Undated\n\nNote on X\n\nSource:\n\nY.\n\nBody.\n");
        assert!(l.date.is_none());
        assert!(l.date_line.is_some());
        assert_eq!(l.fields.len(), 1);
    }

    #[test]
    fn labels() {
        assert_eq!(
            label_of("Original Language:").as_deref(),
            Some("Original Language")
        );
        assert_eq!(
            label_of(" Associated People & Organizations: ").as_deref(),
            Some("Associated People & Organizations")
        );
        assert_eq!(label_of("Subject: the meeting"), None);
        assert_eq!(label_of("the end:"), None);
    }
}
