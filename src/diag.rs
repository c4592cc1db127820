//! Diagnostics: the findings every stage reports.
//!
//! Owns `Severity`, `Span`, `Diagnostic` and `Report`, and turning byte spans into line/column
//! when printing. It must not know about any file format or do any I/O: it formats into strings
//! and the caller decides where they go. Invalid input is data: stages return diagnostics in a
//! report; `Err` is kept for "the tool could not run".

use std::fmt;

/// How serious a finding is. `Error` makes a document invalid (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The word used in `short` output (`error`, `warning`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte range `[start, end)` into one source text.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// An empty span at one offset.
    pub fn at(offset: usize) -> Self {
        Span {
            start: offset,
            end: offset,
        }
    }
}

/// One finding. `code` is stable (`convert/unknown-label`, `rng/element-not-allowed`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub span: Option<Span>,
    pub message: String,
    pub expected: Vec<String>,
    pub hints: Vec<String>,
    /// Secondary locations in other sources (a schema definition that rejected the input).
    pub related: Vec<Related>,
}

/// A secondary location of a finding, in another source identified by `source` (a path as the
/// caller knows it), with a label saying what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub source: String,
    pub span: Span,
    pub label: String,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code: code.to_string(),
            span: None,
            message: message.into(),
            expected: Vec::new(),
            hints: Vec::new(),
            related: Vec::new(),
        }
    }

    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: &str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    pub fn info(code: &str, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, code, message)
    }

    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn with_expected(mut self, expected: Vec<String>) -> Self {
        self.expected = expected;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn with_related(mut self, related: Related) -> Self {
        self.related.push(related);
        self
    }
}

/// The findings of one run over one input, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn new() -> Self {
        Report::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    pub fn extend(&mut self, other: Report) {
        self.diagnostics.extend(other.diagnostics);
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

/// Maps byte offsets of one text to 1-based line and column (columns count characters).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        LineIndex { starts }
    }

    /// 1-based (line, column) of a byte offset; offsets past the end clamp to the end, offsets
    /// inside a multi-byte character count that character.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col = text
            .get(start..)
            .map(|rest| {
                rest.char_indices()
                    .take_while(|(i, _)| start + i < offset)
                    .count()
            })
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).map(|e| e - 1).unwrap_or(text.len());
        text.get(start..end).unwrap_or("").trim_end_matches('\r')
    }
}

/// Formats one diagnostic as `path:line:col: severity: message` (the `short` format).
pub fn format_short(path: &str, text: &str, index: &LineIndex, d: &Diagnostic) -> String {
    let (line, col) = match d.span {
        Some(span) => index.line_col(text, span.start),
        None => (1, 1),
    };
    let mut msg = d.message.clone();
    if !d.expected.is_empty() {
        msg.push_str(&format!("; expected {}", d.expected.join(", ")));
    }
    format!("{path}:{line}:{col}: {}: {msg}", d.severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\nčd\ne";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        // 'd' is after the two-byte 'č'.
        assert_eq!(idx.line_col(text, 5), (2, 2));
        assert_eq!(idx.line_col(text, 7), (3, 1));
        assert_eq!(idx.line_col(text, 99), (3, 2));
        assert_eq!(idx.line_text(text, 2), "čd");
        assert_eq!(idx.line_text(text, 9), "");
    }

    #[test]
    fn short_format() {
        let text = "x\nyz";
        let idx = LineIndex::new(text);
        let d = Diagnostic::warning("t/x", "bad").with_span(Span::new(3, 4));
        assert_eq!(
            format_short("f.txt", text, &idx, &d),
            "f.txt:2:2: warning: bad"
        );
    }

    #[test]
    fn report_counts() {
        let mut r = Report::new();
        r.push(Diagnostic::warning("a", "w"));
        assert!(!r.has_errors());
        r.push(Diagnostic::error("b", "e"));
        assert!(r.has_errors());
        assert_eq!(r.count(Severity::Warning), 1);
    }
}
