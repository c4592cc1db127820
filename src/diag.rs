//! Diagnostics: the findings every stage reports.
//!
//! Owns `Severity`, `Span`, `Diagnostic` and `Report`, and turning byte spans into line/column
//! when printing: `SourceLines` is what printers ask of a text, answered from the whole text
//! (`FullText`) or from what a `SparseTextBuilder` kept of it while the text streamed past
//! (`SparseText`: only the asked-for positions and the lines around them); `TextView` is either.
//! It must not know about any file format or do any I/O: it formats into strings and the caller
//! decides where they go. Invalid input is data: stages return diagnostics in a report; `Err` is
//! kept for "the tool could not run".

use std::collections::BTreeMap;
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

    /// The byte offset where a 1-based line starts, if the text has that line.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.checked_sub(1)?).copied()
    }
}

/// What printers ask of a text a diagnostic points into: positions of byte offsets and the
/// lines a snippet shows. Lines are 1-based; columns count characters.
pub trait SourceLines {
    /// The length of the text in bytes.
    fn len(&self) -> usize;

    /// Whether the text is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// 1-based (line, column) of a byte offset, as `LineIndex::line_col`: past the end clamps
    /// to the end; inside a multi-byte character counts that character.
    fn line_col(&self, offset: usize) -> (usize, usize);

    /// The text of a 1-based line without its line break (trailing `\r` trimmed), as
    /// `LineIndex::line_text`; `""` for a line the text does not have (or that was not kept).
    fn line_text(&self, line: usize) -> &str;

    /// The byte offset where a 1-based line starts (`None`: no such line, or not kept).
    fn line_start(&self, line: usize) -> Option<usize>;
}

/// A whole text and its line index: answers for every offset and line. `T` is `String` when it
/// owns the text, `&str` when it borrows it.
#[derive(Debug, Clone)]
pub struct FullText<T: AsRef<str> = String> {
    text: T,
    index: LineIndex,
}

impl<T: AsRef<str>> FullText<T> {
    pub fn new(text: T) -> Self {
        let index = LineIndex::new(text.as_ref());
        FullText { text, index }
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        self.text.as_ref()
    }
}

impl<T: AsRef<str>> SourceLines for FullText<T> {
    fn len(&self) -> usize {
        self.text().len()
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        self.index.line_col(self.text(), offset)
    }

    fn line_text(&self, line: usize) -> &str {
        self.index.line_text(self.text(), line)
    }

    fn line_start(&self, line: usize) -> Option<usize> {
        self.index.line_start(line)
    }
}

/// One line a `SparseText` kept: where it starts and its text (no line break, `\r` trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeptLine {
    start: usize,
    text: String,
}

/// What a `SparseTextBuilder` kept of a text: the position of each offset it was asked for and
/// the lines a snippet around them shows (each such offset's line and the two after it). Any
/// other offset answers (1, 1), as a finding without a span does; any other line is `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SparseText {
    len: usize,
    positions: BTreeMap<usize, (usize, usize)>,
    lines: BTreeMap<usize, KeptLine>,
}

impl SourceLines for SparseText {
    fn len(&self) -> usize {
        self.len
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        self.positions.get(&offset).copied().unwrap_or((1, 1))
    }

    fn line_text(&self, line: usize) -> &str {
        self.lines.get(&line).map_or("", |l| l.text.as_str())
    }

    fn line_start(&self, line: usize) -> Option<usize> {
        self.lines.get(&line).map(|l| l.start)
    }
}

/// Builds a `SparseText` from a text's bytes fed in chunks of any size (a boundary may fall
/// inside a character or between `\r` and `\n`), given the byte offsets that will be asked
/// about. It holds the kept lines plus, while an asked-for offset may still fall in it, the line
/// being read; nothing else grows with the text.
#[derive(Debug, Clone)]
pub struct SparseTextBuilder {
    /// Offsets not reached yet, in descending order (the next one is last).
    pending: Vec<usize>,
    /// Bytes fed so far.
    pos: usize,
    /// The 1-based line being read, where it starts and how many characters it has so far.
    line: usize,
    line_start: usize,
    chars: usize,
    /// The bytes of the line being read, when it may be kept.
    current: Option<Vec<u8>>,
    /// The last line to keep because of offsets reached so far (0: none).
    keep_until: usize,
    /// Whether line texts are kept at all (not for printers that show positions only).
    lines: bool,
    out: SparseText,
}

impl SparseTextBuilder {
    /// A builder that will answer for `offsets` (offsets past the end answer for the end).
    pub fn new(offsets: impl IntoIterator<Item = usize>) -> Self {
        let mut pending: Vec<usize> = offsets.into_iter().collect();
        pending.sort_unstable_by(|a, b| b.cmp(a));
        pending.dedup();
        let mut b = SparseTextBuilder {
            pending,
            pos: 0,
            line: 1,
            line_start: 0,
            chars: 0,
            current: None,
            keep_until: 0,
            lines: true,
            out: SparseText::default(),
        };
        b.start_line();
        b
    }

    /// A builder that keeps positions only, no line text: memory does not depend on how long
    /// the document's lines are (a document may be a single line of megabytes).
    pub fn positions_only(offsets: impl IntoIterator<Item = usize>) -> Self {
        let mut b = SparseTextBuilder::new(offsets);
        b.lines = false;
        b.current = None;
        b
    }

    /// Feeds the next bytes of the text.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while !rest.is_empty() {
            self.resolve_here();
            // Up to the next line break (included) or the next asked-for offset.
            let to_break = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let to_offset = self.pending.last().map_or(rest.len(), |&o| o - self.pos);
            let (segment, tail) = rest.split_at(to_break.min(to_offset));
            self.consume(segment);
            rest = tail;
        }
    }

    /// The kept positions and lines; offsets past the end answer for the end.
    pub fn finish(mut self) -> SparseText {
        let (line, col) = (self.line, self.chars + 1);
        if !self.pending.is_empty() {
            self.pending.clear();
            self.out.positions.insert(self.pos, (line, col));
            self.keep_until = self.keep_until.max(line + 2);
        }
        self.end_line();
        self.out.len = self.pos;
        self.out
    }

    /// Records the position of every asked-for offset at the current byte.
    fn resolve_here(&mut self) {
        while self.pending.last().is_some_and(|&o| o <= self.pos) {
            self.pending.pop();
            self.out
                .positions
                .insert(self.pos, (self.line, self.chars + 1));
            self.keep_until = self.keep_until.max(self.line + 2);
        }
    }

    /// Takes in bytes that hold at most one line break, as their last byte.
    fn consume(&mut self, segment: &[u8]) {
        let (body, ends_line) = match segment.strip_suffix(b"\n") {
            Some(body) => (body, true),
            None => (segment, false),
        };
        // A character is counted at its first byte (UTF-8 continuation bytes are 10xxxxxx).
        self.chars += body.iter().filter(|&&b| b & 0xC0 != 0x80).count();
        if let Some(current) = &mut self.current {
            current.extend_from_slice(body);
        }
        self.pos += segment.len();
        if ends_line {
            self.end_line();
            self.line += 1;
            self.line_start = self.pos;
            self.chars = 0;
            self.start_line();
        }
    }

    /// Starts reading a line: its bytes are held if it is to be kept or an offset may fall in it.
    fn start_line(&mut self) {
        let wanted = self.lines && (self.line <= self.keep_until || !self.pending.is_empty());
        self.current = wanted.then(Vec::new);
    }

    /// Ends the line being read: keeps it if an offset reached so far wants it.
    fn end_line(&mut self) {
        let Some(bytes) = self.current.take() else {
            return;
        };
        if self.line <= self.keep_until {
            let text = String::from_utf8_lossy(&bytes);
            self.out.lines.insert(
                self.line,
                KeptLine {
                    start: self.line_start,
                    text: text.trim_end_matches('\r').to_string(),
                },
            );
        }
    }
}

/// A document's text as printers see it: whole, or what was kept of it while it streamed past.
#[derive(Debug, Clone)]
pub enum TextView {
    Full(FullText),
    Sparse(SparseText),
}

impl TextView {
    /// The view of a whole text.
    pub fn full(text: String) -> Self {
        TextView::Full(FullText::new(text))
    }

    fn lines(&self) -> &dyn SourceLines {
        match self {
            TextView::Full(f) => f,
            TextView::Sparse(s) => s,
        }
    }
}

impl SourceLines for TextView {
    fn len(&self) -> usize {
        self.lines().len()
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        self.lines().line_col(offset)
    }

    fn line_text(&self, line: usize) -> &str {
        self.lines().line_text(line)
    }

    fn line_start(&self, line: usize) -> Option<usize> {
        self.lines().line_start(line)
    }
}

/// Formats one diagnostic as `path:line:col: severity: message` (the `short` format).
pub fn format_short<L: SourceLines + ?Sized>(path: &str, lines: &L, d: &Diagnostic) -> String {
    let (line, col) = match d.span {
        Some(span) => lines.line_col(span.start),
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
        let d = Diagnostic::warning("t/x", "bad").with_span(Span::new(3, 4));
        assert_eq!(
            format_short("f.txt", &FullText::new("x\nyz"), &d),
            "f.txt:2:2: warning: bad"
        );
        let mut sparse = SparseTextBuilder::new([3]);
        sparse.feed(b"x\nyz");
        assert_eq!(
            format_short("f.txt", &sparse.finish(), &d),
            "f.txt:2:2: warning: bad"
        );
    }

    /// Texts with CRLF, multi-byte characters, empty lines, with and without a final newline.
    const TEXTS: &[&str] = &[
        "",
        "\n",
        "\r\n",
        "one line",
        "ab\nčd\ne",
        "a\r\nb\r\n\r\nc\r\n",
        "\r\r\n\n\nx\r",
        "<p>Čestitamo, друже Тито! 😀</p>\r\n\r\n  <note/>\n\n",
        "😀😀\n€\r\nñ",
    ];

    /// Builds the sparse view of `text` asking for every offset (and some past the end), fed in
    /// chunks of `size` bytes.
    fn sparse(text: &str, size: usize) -> SparseText {
        let mut b = SparseTextBuilder::new(0..text.len() + 3);
        for chunk in text.as_bytes().chunks(size.max(1)) {
            b.feed(chunk);
        }
        b.finish()
    }

    #[test]
    fn sparse_agrees_with_the_line_index_in_any_chunks() {
        for text in TEXTS {
            let full = FullText::new(*text);
            let lines = text.split('\n').count();
            for size in [1, 2, 3, 7, text.len()] {
                let s = sparse(text, size);
                assert_eq!(s.len(), text.len());
                for o in 0..text.len() + 3 {
                    assert_eq!(s.line_col(o), full.line_col(o), "{text:?} {size} @{o}");
                }
                for l in 1..=lines + 2 {
                    assert_eq!(s.line_text(l), full.line_text(l), "{text:?} {size} L{l}");
                    assert_eq!(s.line_start(l), full.line_start(l), "{text:?} {size} L{l}");
                }
            }
        }
    }

    #[test]
    fn sparse_asked_for_one_offset_agrees_on_it_and_its_lines() {
        for text in TEXTS {
            let full = FullText::new(*text);
            for o in 0..text.len() + 2 {
                for size in [1, 2, 3, 7, text.len()] {
                    let mut b = SparseTextBuilder::new([o]);
                    for chunk in text.as_bytes().chunks(size.max(1)) {
                        b.feed(chunk);
                    }
                    let s = b.finish();
                    let (line, _) = full.line_col(o);
                    assert_eq!(s.line_col(o), full.line_col(o), "{text:?} {size} @{o}");
                    for l in line..=line + 2 {
                        assert_eq!(s.line_text(l), full.line_text(l), "{text:?} @{o} L{l}");
                        assert_eq!(s.line_start(l), full.line_start(l), "{text:?} @{o} L{l}");
                    }
                }
            }
        }
    }

    #[test]
    fn sparse_keeps_only_the_lines_around_the_asked_offsets() {
        let text = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\n";
        // Offset 6 is on line 3, offset 25 on line 9.
        let mut b = SparseTextBuilder::new([25, 6]);
        for chunk in text.as_bytes().chunks(4) {
            b.feed(chunk);
        }
        let s = b.finish();
        let kept: Vec<usize> = s.lines.keys().copied().collect();
        assert_eq!(kept, vec![3, 4, 5, 9, 10]);
        assert_eq!(s.line_col(6), (3, 1));
        assert_eq!(s.line_col(25), (9, 2));
        assert_eq!(s.line_text(4), "l4");
        assert_eq!(s.line_start(9), Some(24));
        assert_eq!(s.line_text(10), "");
        // Not asked for: as a finding without a span, and no line.
        assert_eq!(s.line_col(12), (1, 1));
        assert_eq!(s.line_text(7), "");
        assert_eq!(s.line_start(7), None);
    }

    #[test]
    fn sparse_without_offsets_keeps_nothing() {
        let mut b = SparseTextBuilder::new([]);
        b.feed("a\nb\n".as_bytes());
        let s = b.finish();
        assert!(s.lines.is_empty() && s.positions.is_empty());
        assert_eq!(s.len(), 4);
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
