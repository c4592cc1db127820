//! Source texts: decoding bytes into the text every later stage reads.
//!
//! Owns the rules for what counts as readable text: UTF-8 with or without a byte-order mark,
//! CRLF, CR or LF line ends (normalised to LF; the number of lines is unchanged, so line numbers
//! in diagnostics match the file). Anything else is refused with the byte offset of the first
//! offending byte. It must not touch the filesystem: callers hand it bytes.

use std::fmt;

/// Why bytes could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// No bytes at all (or only a byte-order mark / white space).
    Empty,
    /// A NUL byte: the file is binary, not text.
    Binary { offset: usize },
    /// A UTF-16 or UTF-32 byte-order mark.
    WrongEncoding { name: &'static str },
    /// A byte sequence that is not UTF-8.
    NotUtf8 { offset: usize, byte: u8 },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => write!(f, "the file is empty"),
            DecodeError::Binary { offset } => write!(
                f,
                "the file looks binary, not text: NUL byte at byte offset {offset}"
            ),
            DecodeError::WrongEncoding { name } => write!(
                f,
                "the file is {name}; teikit reads UTF-8 only (convert it, e.g. with iconv -f {name} -t UTF-8)"
            ),
            DecodeError::NotUtf8 { offset, byte } => write!(
                f,
                "the file is not UTF-8: invalid byte 0x{byte:02X} at byte offset {offset} \
                 (convert it to UTF-8 first, e.g. with iconv)"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes bytes as UTF-8 text: strips a UTF-8 BOM, normalises line ends to LF.
pub fn decode_text(bytes: &[u8]) -> Result<String, DecodeError> {
    if bytes.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE, 0x00, 0x00])
    {
        return Err(DecodeError::WrongEncoding { name: "UTF-32" });
    }
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(DecodeError::WrongEncoding { name: "UTF-16" });
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let bom = bytes.len() - body.len();
    if let Some(pos) = body.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary { offset: pos + bom });
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let offset = e.valid_up_to();
            return Err(DecodeError::NotUtf8 {
                offset: offset + bom,
                byte: body.get(offset).copied().unwrap_or(0),
            });
        }
    };
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(normalize_newlines(text))
}

/// CRLF and lone CR become LF.
pub fn normalize_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bom_and_crlf() {
        assert_eq!(
            decode_text(b"\xEF\xBB\xBFa\r\nb\rc\n").unwrap(),
            "a\nb\nc\n"
        );
    }

    #[test]
    fn refuses_latin1_with_offset() {
        let err = decode_text(b"abc\xE9def").unwrap_err();
        assert_eq!(
            err,
            DecodeError::NotUtf8 {
                offset: 3,
                byte: 0xE9
            }
        );
        assert!(err.to_string().contains("byte offset 3"));
    }

    #[test]
    fn offset_counts_the_bom() {
        let err = decode_text(b"\xEF\xBB\xBFab\xFF").unwrap_err();
        assert_eq!(
            err,
            DecodeError::NotUtf8 {
                offset: 5,
                byte: 0xFF
            }
        );
    }

    #[test]
    fn refuses_binary_empty_and_utf16() {
        assert_eq!(
            decode_text(b"ab\x00c").unwrap_err(),
            DecodeError::Binary { offset: 2 }
        );
        assert_eq!(decode_text(b"").unwrap_err(), DecodeError::Empty);
        assert_eq!(decode_text(b" \n\t").unwrap_err(), DecodeError::Empty);
        assert_eq!(
            decode_text(b"\xFF\xFEa\x00").unwrap_err(),
            DecodeError::WrongEncoding { name: "UTF-16" }
        );
    }
}
