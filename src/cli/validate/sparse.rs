//! The view `teikit validate` prints from for a document it does not hold in memory: the
//! document is read again in chunks and only what the findings point at is kept (a
//! `crate::diag::SparseText`), so memory stays flat however large the document. It owns reading
//! the file and finding its encoding as `crate::xml::decode` does; it must not validate or print.

use std::path::Path;

use crate::diag::{Report, SparseTextBuilder, TextView};

/// Bytes `sparse_view` reads at a time.
const CHUNK: usize = 64 * 1024;

/// The UTF-8 byte-order mark, which is not part of the decoded text.
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

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
/// so that only the positions and lines the findings point at are held. Offsets are into the
/// decoded text (`crate::xml::decode`): UTF-8 streams, after its byte-order mark; a document
/// in another encoding is decoded whole. A document that does not decode gives an empty view,
/// as in `check_file`.
pub(super) fn sparse_view(path: &Path, report: &Report) -> Result<TextView, String> {
    let cannot = |e: std::io::Error| format!("{}: cannot read: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let builder = SparseTextBuilder::new(asked_offsets(report));
    let mut buf = vec![0u8; CHUNK];
    let n = fill(&mut file, &mut buf).map_err(cannot)?;
    buf.truncate(n);
    if decodes_as_utf8(&buf) {
        stream_utf8(file, buf, builder).map_err(cannot)
    } else {
        decode_whole(file, buf, builder).map_err(cannot)
    }
}

/// Feeds a UTF-8 document to `builder`, `head` (its first bytes) then the rest of `file` a chunk
/// at a time, without the byte-order mark; an empty view if it is not UTF-8.
fn stream_utf8(
    mut file: std::fs::File,
    head: Vec<u8>,
    mut builder: SparseTextBuilder,
) -> std::io::Result<TextView> {
    let mut check = Utf8Check::default();
    let body = head.strip_prefix(UTF8_BOM).unwrap_or(&head);
    check.feed(body);
    builder.feed(body);
    let mut buf = head;
    buf.resize(CHUNK, 0);
    loop {
        let n = fill(&mut file, &mut buf)?;
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            break;
        };
        check.feed(chunk);
        builder.feed(chunk);
    }
    if !check.finish() {
        return Ok(TextView::full(String::new()));
    }
    Ok(TextView::Sparse(builder.finish()))
}

/// Decodes a document in another encoding whole (`head`, then the rest of `file`) and feeds the
/// text to `builder`; an empty view if it does not decode.
fn decode_whole(
    mut file: std::fs::File,
    mut bytes: Vec<u8>,
    mut builder: SparseTextBuilder,
) -> std::io::Result<TextView> {
    use std::io::Read as _;
    file.read_to_end(&mut bytes)?;
    Ok(match crate::xml::decode(&bytes) {
        Ok(text) => {
            builder.feed(text.as_bytes());
            TextView::Sparse(builder.finish())
        }
        Err(_) => TextView::full(String::new()),
    })
}

/// Reads until `buf` is full or the file ends; the number of bytes read.
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

/// Whether `crate::xml::decode` reads a document that starts with `head` (its first `CHUNK`
/// bytes, or all of it) as UTF-8.
fn decodes_as_utf8(head: &[u8]) -> bool {
    use crate::xml::encoding::{Encoding, sniff};
    matches!(sniff(head), Some((Encoding::Utf8, _)))
}

/// Checks that bytes fed in chunks are UTF-8 (a character may straddle two chunks).
#[derive(Default)]
struct Utf8Check {
    /// The start of a character the last chunk ended inside.
    carry: Vec<u8>,
    bad: bool,
}

impl Utf8Check {
    fn feed(&mut self, chunk: &[u8]) {
        if self.bad {
            return;
        }
        let joined;
        let bytes = if self.carry.is_empty() {
            chunk
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), chunk].concat();
            joined.as_slice()
        };
        if let Err(e) = std::str::from_utf8(bytes) {
            match e.error_len() {
                Some(_) => self.bad = true,
                None => self.carry = bytes.get(e.valid_up_to()..).unwrap_or_default().to_vec(),
            }
        }
    }

    /// Whether all the bytes were UTF-8 (none left inside a character).
    fn finish(&self) -> bool {
        !self.bad && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Diagnostic, FullText, SourceLines, Span};

    /// A document whose body holds "é" (UTF-8), behind `prefix`.
    fn doc(prefix: &[u8], decl: &str) -> Vec<u8> {
        [prefix, decl.as_bytes(), "<r>é</r>\n".as_bytes()].concat()
    }

    #[test]
    fn utf8_is_streamed_exactly_when_decode_reads_utf8() {
        let docs = [
            doc(b"", ""),
            doc(UTF8_BOM, ""),
            doc(b"", "<?xml version=\"1.0\"?>"),
            doc(UTF8_BOM, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            doc(b"", "<?xml version='1.0' encoding = 'utf8'?>"),
            doc(b"", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"),
            doc(b"", "<?xml version=\"1.0\" encoding=\"us-ascii\"?>"),
            doc(b"", "<?xml version=\"1.0\" encoding=\"windows-1252\"?>"),
            [&[0xFF, 0xFE][..], &[b'<', 0, b'r', 0, b'/', 0, b'>', 0]].concat(),
            [&[0xFE, 0xFF][..], &[0, b'<', 0, b'r', 0, b'/', 0, b'>']].concat(),
        ];
        for d in &docs {
            let body = d.strip_prefix(UTF8_BOM).unwrap_or(d);
            let as_utf8 =
                crate::xml::decode(d).ok() == std::str::from_utf8(body).ok().map(str::to_string);
            assert_eq!(
                decodes_as_utf8(d),
                as_utf8,
                "{:?}",
                String::from_utf8_lossy(d)
            );
        }
    }

    #[test]
    fn utf8_check_across_chunks() {
        let text = "ač€😀\r\nz".as_bytes();
        for size in 1..=text.len() {
            let mut c = Utf8Check::default();
            text.chunks(size).for_each(|ch| c.feed(ch));
            assert!(c.finish(), "chunks of {size}");
        }
        let mut c = Utf8Check::default();
        c.feed(&text[..4]);
        assert!(!c.finish(), "ends inside a character");
        let mut c = Utf8Check::default();
        c.feed(b"a\xC3");
        c.feed(b"(b");
        assert!(!c.finish(), "a lead byte without its continuation");
    }

    /// The sparse view of `bytes` on disk agrees with the whole decoded text at `span`.
    fn agrees(bytes: &[u8], span: Span) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.xml");
        std::fs::write(&path, bytes).unwrap();
        let mut report = Report::new();
        report.push(Diagnostic::error("t/x", "x").with_span(span));
        let view = sparse_view(&path, &report).unwrap();
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
    fn a_document_that_does_not_decode_gives_an_empty_view() {
        agrees(b"<r>\xFF</r>", Span::new(3, 4));
        agrees(b"<?xml version='1.0' encoding='ebcdic'?><r/>", Span::at(0));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.xml");
        std::fs::write(&path, b"<r>\xC3").unwrap();
        assert!(sparse_view(&path, &Report::new()).unwrap().is_empty());
        assert!(sparse_view(&dir.path().join("missing.xml"), &Report::new()).is_err());
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
