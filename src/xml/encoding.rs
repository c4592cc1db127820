//! Reading a document in any encoding [`super::decode`] accepts as a stream of UTF-8, so that
//! documents in ISO-8859-1, US-ASCII or UTF-16 are streamed too (XML §4.3.3, Appendix F).
//!
//! Owns recognising the encoding from the start of a document and transcoding chunk by chunk
//! (a UTF-16 code unit or surrogate pair may straddle two chunks). The UTF-8 it produces is the
//! text [`super::decode`] returns for the same bytes, so offsets agree with it.
//!
//! It must not open files (it reads any `std::io::Read`) or know any vocabulary.

use std::io::{self, Read};

/// An encoding a document can be streamed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Latin1,
    Ascii,
    Utf16Le,
    Utf16Be,
}

/// The encoding of a document starting with `head` (its first few hundred bytes, or all of it)
/// and the length of its byte-order mark, to skip; `None` for an encoding [`super::decode`]
/// refuses (it says why).
pub fn sniff(head: &[u8]) -> Option<(Encoding, usize)> {
    if head.starts_with(&[0xFF, 0xFE]) {
        return Some((Encoding::Utf16Le, 2));
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Some((Encoding::Utf16Be, 2));
    }
    let bom = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let enc = match super::declared_encoding(head.get(bom..).unwrap_or(&[])).as_deref() {
        None | Some("utf-8" | "utf8") => Encoding::Utf8,
        Some("iso-8859-1" | "latin1" | "iso_8859-1" | "l1") => Encoding::Latin1,
        Some("us-ascii" | "ascii") => Encoding::Ascii,
        Some(_) => return None,
    };
    Some((enc, bom))
}

/// UTF-8 read from a document in another encoding (its byte-order mark already skipped).
/// Bytes that are not in the encoding end the stream with an `InvalidData` error whose message
/// says so.
pub struct Transcoder<R> {
    inner: R,
    encoding: Encoding,
    raw: Vec<u8>,
    /// A byte of a UTF-16 code unit whose other byte is in the next chunk.
    odd: Option<u8>,
    /// A high surrogate whose low surrogate is in the next chunk.
    high: Option<u16>,
    out: Vec<u8>,
    taken: usize,
    /// Bytes of input read so far (for error positions).
    read: usize,
    done: bool,
    /// An error found after some good text: given once that text has been read.
    failed: Option<io::Error>,
}

/// Input bytes transcoded at a time.
const CHUNK: usize = 32 * 1024;

impl<R: Read> Transcoder<R> {
    pub fn new(inner: R, encoding: Encoding) -> Self {
        Transcoder {
            inner,
            encoding,
            raw: vec![0; CHUNK],
            odd: None,
            high: None,
            out: Vec::with_capacity(CHUNK * 2),
            taken: 0,
            read: 0,
            done: false,
            failed: None,
        }
    }

    fn invalid(&self, what: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} (input byte {})", self.read),
        )
    }

    /// Transcodes the next chunk into `out`; `Ok(false)` at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.taken = 0;
        while self.out.is_empty() {
            if let Some(e) = self.failed.take() {
                self.done = true;
                return Err(e);
            }
            if self.done {
                return Ok(false);
            }
            let n = loop {
                match self.inner.read(&mut self.raw) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                self.done = true;
                if self.odd.is_some() {
                    return Err(self.invalid("UTF-16 document with an odd number of bytes"));
                }
                if self.high.is_some() {
                    return Err(self.invalid("invalid UTF-16 in the document"));
                }
                return Ok(false);
            }
            let raw = std::mem::take(&mut self.raw);
            if let Err(e) = self.convert(raw.get(..n).unwrap_or(&[])) {
                // The text before the bad bytes is still read.
                self.failed = Some(e);
            }
            self.raw = raw;
        }
        Ok(true)
    }

    fn convert(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.encoding {
            Encoding::Utf8 => self.out.extend_from_slice(bytes),
            Encoding::Latin1 => {
                for &b in bytes {
                    push_char(&mut self.out, char::from(b));
                }
            }
            Encoding::Ascii => {
                if let Some(i) = bytes.iter().position(|b| !b.is_ascii()) {
                    self.out.extend_from_slice(bytes.get(..i).unwrap_or(&[]));
                    self.read += i;
                    return Err(self.invalid("the document is not US-ASCII"));
                }
                self.out.extend_from_slice(bytes);
            }
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let le = self.encoding == Encoding::Utf16Le;
                let mut it = bytes.iter().copied();
                loop {
                    let first = match self.odd.take() {
                        Some(b) => Some(b),
                        None => it.next(),
                    };
                    let Some(a) = first else { break };
                    let Some(b) = it.next() else {
                        self.odd = Some(a);
                        break;
                    };
                    let unit = if le {
                        u16::from_le_bytes([a, b])
                    } else {
                        u16::from_be_bytes([a, b])
                    };
                    self.unit(unit)?;
                }
            }
        }
        self.read += bytes.len();
        Ok(())
    }

    fn unit(&mut self, unit: u16) -> io::Result<()> {
        let c = match (self.high.take(), unit) {
            (None, 0xD800..=0xDBFF) => {
                self.high = Some(unit);
                return Ok(());
            }
            (None, 0xDC00..=0xDFFF) => None,
            (None, u) => char::from_u32(u32::from(u)),
            (Some(h), 0xDC00..=0xDFFF) => char::decode_utf16([h, unit]).next().and_then(|r| r.ok()),
            (Some(_), _) => None,
        };
        match c {
            Some(c) => {
                push_char(&mut self.out, c);
                Ok(())
            }
            None => Err(self.invalid("invalid UTF-16 in the document")),
        }
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.taken >= self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let rest = self.out.get(self.taken..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.taken += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `bytes` as a stream in reads of `step` bytes, the way a reader would.
    fn stream(bytes: &[u8], step: usize) -> io::Result<String> {
        let Some((enc, bom)) = sniff(bytes) else {
            return Err(io::Error::other("unsupported"));
        };
        struct Slow<'a>(&'a [u8], usize);
        impl Read for Slow<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                let (a, b) = self.0.split_at(n);
                buf.get_mut(..n).unwrap_or(&mut []).copy_from_slice(a);
                self.0 = b;
                Ok(n)
            }
        }
        let mut t = Transcoder::new(Slow(bytes.get(bom..).unwrap_or(&[]), step), enc);
        let mut out = Vec::new();
        t.read_to_end(&mut out)?;
        String::from_utf8(out).map_err(io::Error::other)
    }

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        let mut v = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in s.encode_utf16() {
            v.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        v
    }

    #[test]
    fn streams_what_decode_reads() {
        let text = "<a x='é'>Čeština 𝄞 text\r\n</a>";
        let docs: Vec<Vec<u8>> = vec![
            text.as_bytes().to_vec(),
            [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
            utf16(text, true),
            utf16(text, false),
            b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xE9t\xE9</a>".to_vec(),
            b"<?xml version='1.0' encoding='us-ascii'?><a>plain</a>".to_vec(),
        ];
        for d in &docs {
            let Ok(expected) = crate::xml::decode(d) else {
                panic!("decode refused {d:?}")
            };
            for step in [1, 2, 3, 5, 4096] {
                let got = stream(d, step).map_err(|e| e.to_string());
                assert_eq!(got.as_deref(), Ok(expected.as_str()), "{d:?} by {step}");
            }
        }
    }

    #[test]
    fn refuses_what_decode_refuses() {
        let bad: Vec<Vec<u8>> = vec![
            b"<?xml version='1.0' encoding='us-ascii'?><a>\xE9</a>".to_vec(),
            [utf16("<a/>", true), vec![0x00]].concat(),
            [vec![0xFF, 0xFE], 0xDC00u16.to_le_bytes().to_vec()].concat(),
            [vec![0xFF, 0xFE], 0xD800u16.to_le_bytes().to_vec()].concat(),
        ];
        for d in &bad {
            assert!(crate::xml::decode(d).is_err(), "{d:?}");
            for step in [1, 3, 4096] {
                let e = stream(d, step);
                assert!(
                    e.as_ref()
                        .is_err_and(|e| e.kind() == io::ErrorKind::InvalidData),
                    "{d:?} by {step}: {e:?}"
                );
            }
        }
        assert!(sniff(b"<?xml version='1.0' encoding='EBCDIC'?><a/>").is_none());
    }

    #[test]
    fn text_before_bad_bytes_is_read_first() {
        let doc = b"<?xml version='1.0' encoding='us-ascii'?><a>ok\xE9</a>";
        let mut t = Transcoder::new(&doc[..], Encoding::Ascii);
        let mut out = Vec::new();
        let r = t.read_to_end(&mut out);
        assert!(r.is_err_and(|e| e.to_string().contains("not US-ASCII (input byte 46)")));
        assert_eq!(out, doc.get(..46).unwrap_or_default());
    }
}
