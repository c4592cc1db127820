//! The view `teikit validate` prints from for a document it does not hold in memory: the
//! document is read again in chunks and only what the findings point at is kept (a
//! `crate::diag::SparseText`), so memory stays flat however large the document. It owns reading
//! the file in its encoding (`crate::xml::encoding`); it must not validate or print.

use std::io::Read as _;
use std::path::Path;

use crate::diag::{Report, SparseTextBuilder, TextView};

/// Bytes `sparse_view` reads at a time.
const CHUNK: usize = 64 * 1024;

/// The byte offsets the printers ask about for `report`: each finding's span start and end, and
/// the span of each position in the document itself (`Related` with an empty `source`).
fn asked_offsets(report: &Report) -> Vec<usize> {
    let mut offsets = Vec::new();
    for d in &report.diagnostics {
        let here = d.related.iter().filter(|r| r.source.is_empty());
        for span in d.span.iter().chain(here.map(|r| &r.span)) {
            offsets.push(span.start);
            offsets.push(span.end);
        }
    }
    offsets
}

/// The view printers need of the document at `path` for `report`, read `CHUNK` bytes at a time
/// so that only the positions (and, if `lines`, the lines) the findings point at are held.
/// Offsets are into the decoded text (`crate::xml::decode`): UTF-8 after its byte-order mark, or
/// the UTF-8 a document in another encoding is transcoded to. A document with bytes its encoding
/// does not allow is read up to them, so a finding there gets its line; an unsupported encoding
/// gives an empty view (the finding says so at 1:1).
pub(super) fn sparse_view(path: &Path, report: &Report, lines: bool) -> Result<TextView, String> {
    use crate::xml::encoding::{Encoding, Transcoder, sniff};
    let cannot = |e: std::io::Error| format!("{}: cannot read: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let offsets = asked_offsets(report);
    let mut builder = if lines {
        SparseTextBuilder::new(offsets)
    } else {
        SparseTextBuilder::positions_only(offsets)
    };
    let mut head = vec![0u8; CHUNK];
    let n = fill(&mut file, &mut head).map_err(cannot)?;
    head.truncate(n);
    let Some((encoding, bom)) = sniff(&head) else {
        return Ok(TextView::full(String::new()));
    };
    let mut body = std::io::Cursor::new(head);
    body.set_position(u64::try_from(bom).unwrap_or(0));
    let input = body.chain(file);
    let result = match encoding {
        Encoding::Utf8 => feed(input, &mut builder),
        other => feed(Transcoder::new(input, other), &mut builder),
    };
    match result {
        // Bytes outside the encoding end the text there, as they end reading the document.
        Err(e) if e.kind() != std::io::ErrorKind::InvalidData => Err(cannot(e)),
        _ => Ok(TextView::Sparse(builder.finish())),
    }
}

/// Feeds all of `input` to `builder`, a read at a time (what was read before an error is fed).
fn feed(mut input: impl std::io::Read, builder: &mut SparseTextBuilder) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => builder.feed(buf.get(..n).unwrap_or(&[])),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
fn fill(file: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|r| !r.is_empty()) {
        match file.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Diagnostic, FullText, SourceLines, Span};

    /// The UTF-8 byte-order mark, which is not part of the decoded text.
    const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

    /// The sparse view of `bytes` on disk agrees with the whole decoded text at `span`.
    fn agrees(bytes: &[u8], span: Span) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.xml");
        std::fs::write(&path, bytes).unwrap();
        let mut report = Report::new();
        report.push(Diagnostic::error("t/x", "x").with_span(span));
        let view = sparse_view(&path, &report, true).unwrap();
        let full = FullText::new(crate::xml::decode(bytes).unwrap_or_default());
        assert_eq!(view.len(), full.len());
        for o in [span.start, span.end] {
            assert_eq!(view.line_col(o), full.line_col(o), "@{o}");
            let (line, _) = full.line_col(o);
            for l in line..=line + 2 {
                assert_eq!(view.line_text(l), full.line_text(l), "L{l}");
                assert_eq!(view.line_start(l), full.line_start(l), "L{l}");
            }
        }
    }

    #[test]
    fn every_encoding_decode_reads() {
        let text = "<r>\r\n  <p>Čestitamo 😀</p>\n</r>";
        let span = Span::new(10, 40);
        agrees(text.as_bytes(), span);
        agrees(&[UTF8_BOM, text.as_bytes()].concat(), span);
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        agrees(&[&[0xFF, 0xFE][..], &utf16].concat(), span);
        let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?>\n<r>caf\xE9\n</r>";
        agrees(latin1, Span::new(50, 52));
        // Larger than a chunk, with the findings past the first one.
        let long = format!("<r>\n{}<p>Čž</p>\r\n</r>\n", "<p>ab</p>\n".repeat(20_000));
        agrees(long.as_bytes(), Span::new(long.len() - 15, long.len() - 3));
    }

    #[test]
    fn a_document_that_does_not_decode_is_read_up_to_its_bad_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.xml");
        let at_bad = |bytes: &[u8], offset: usize| {
            std::fs::write(&path, bytes).unwrap();
            let mut report = Report::new();
            report.push(Diagnostic::error("t/x", "x").with_span(Span::at(offset)));
            sparse_view(&path, &report, true).unwrap().line_col(offset)
        };
        // Not UTF-8 on line 3: the finding there keeps its line.
        assert_eq!(at_bad(b"<r>\n<p/>\n<q>\xFF</q></r>", 12), (3, 4));
        // Not US-ASCII on line 2.
        let ascii = b"<?xml version='1.0' encoding='us-ascii'?>\n<r>\xE9</r>";
        assert_eq!(at_bad(ascii, 45), (2, 4));
        // An encoding teikit does not read: nothing to show.
        std::fs::write(&path, b"<?xml version='1.0' encoding='ebcdic'?><r/>").unwrap();
        assert!(sparse_view(&path, &Report::new(), true).unwrap().is_empty());
        assert!(sparse_view(&dir.path().join("missing.xml"), &Report::new(), true).is_err());
    }

    #[test]
    fn positions_only_keeps_no_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one-line.xml");
        let doc = format!("<r>{}<x/></r>", "<p>é</p>".repeat(50_000));
        std::fs::write(&path, &doc).unwrap();
        let mut report = Report::new();
        let at = doc.len() - 8;
        report.push(Diagnostic::error("t/x", "x").with_span(Span::at(at)));
        let view = sparse_view(&path, &report, false).unwrap();
        assert_eq!(view.line_col(at), (1, at - 50_000 + 1));
        assert_eq!(view.line_text(1), "");
    }

    #[test]
    fn asks_for_spans_and_positions_in_the_document() {
        let mut report = Report::new();
        let here = |start, end| crate::diag::Related {
            source: String::new(),
            span: Span::new(start, end),
            label: "first".into(),
        };
        let there = crate::diag::Related {
            source: "s.rng".into(),
            ..here(7, 8)
        };
        report.push(
            Diagnostic::error("t/x", "x")
                .with_span(Span::new(1, 2))
                .with_related(here(3, 4))
                .with_related(there),
        );
        report.push(Diagnostic::error("t/y", "no span").with_related(here(5, 6)));
        assert_eq!(asked_offsets(&report), vec![1, 2, 3, 4, 5, 6]);
    }
}
