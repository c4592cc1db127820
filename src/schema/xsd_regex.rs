//! Translation of XML Schema regular expressions (XSD Part 2, Appendix F) to the `regex` crate.
//!
//! Owns the mapping of the XSD syntax (implicitly anchored, `^`/`$` ordinary, `\i \c` name-char
//! escapes, class subtraction `[a-z-[aeiou]]`, `\p{Is<Block>}`) onto the linear-time `regex`
//! engine. A construct that cannot be translated faithfully is an error naming it; nothing is
//! approximated silently. It must not know about patterns or documents.

use regex::Regex;

/// `\i`: XSD Part 2 §F.1.1 defines it as XML 1.0 `Letter | '_' | ':'`, whose classes XML 1.0
/// Appendix B derives from Unicode categories (Ll, Lu, Lo, Lt, Nl for letters); `\c` adds the
/// name characters (Mc, Me, Mn, Lm, Nd, '.', '-', U+00B7). The same rule decides names in
/// schemas (see `parse.rs`), so both agree with jing.
const NAME_START: &str = r"\p{Ll}\p{Lu}\p{Lo}\p{Lt}\p{Nl}_:";
const NAME_EXTRA: &str = r"\p{Mc}\p{Me}\p{Mn}\p{Lm}\p{Nd}\-.\u{B7}";

/// Unicode blocks accepted in `\p{IsX}` (XSD Part 2 §F.1.1), by name and range.
const BLOCKS: &[(&str, u32, u32)] = &[
    ("BasicLatin", 0x0000, 0x007F),
    ("Latin-1Supplement", 0x0080, 0x00FF),
    ("LatinExtended-A", 0x0100, 0x017F),
    ("LatinExtended-B", 0x0180, 0x024F),
    ("IPAExtensions", 0x0250, 0x02AF),
    ("SpacingModifierLetters", 0x02B0, 0x02FF),
    ("CombiningDiacriticalMarks", 0x0300, 0x036F),
    ("Greek", 0x0370, 0x03FF),
    ("Cyrillic", 0x0400, 0x04FF),
    ("Armenian", 0x0530, 0x058F),
    ("Hebrew", 0x0590, 0x05FF),
    ("Arabic", 0x0600, 0x06FF),
    ("Devanagari", 0x0900, 0x097F),
    ("Thai", 0x0E00, 0x0E7F),
    ("LatinExtendedAdditional", 0x1E00, 0x1EFF),
    ("GreekExtended", 0x1F00, 0x1FFF),
    ("GeneralPunctuation", 0x2000, 0x206F),
    ("CurrencySymbols", 0x20A0, 0x20CF),
    ("LetterlikeSymbols", 0x2100, 0x214F),
    ("NumberForms", 0x2150, 0x218F),
    ("Arrows", 0x2190, 0x21FF),
    ("MathematicalOperators", 0x2200, 0x22FF),
    ("CJKSymbolsandPunctuation", 0x3000, 0x303F),
    ("Hiragana", 0x3040, 0x309F),
    ("Katakana", 0x30A0, 0x30FF),
    ("CJKUnifiedIdeographs", 0x4E00, 0x9FFF),
    ("PrivateUse", 0xE000, 0xF8FF),
    ("AlphabeticPresentationForms", 0xFB00, 0xFB4F),
    ("HalfwidthandFullwidthForms", 0xFF00, 0xFFEF),
    ("Specials", 0xFFF0, 0xFFFF),
];

const CATEGORIES: &[&str] = &[
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc",
    "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Z", "Zs", "Zl", "Zp", "S", "Sm", "Sc", "Sk", "So", "C",
    "Cc", "Cf", "Co", "Cn",
];

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    src: &'a str,
}

fn lit(c: char, out: &mut String) {
    if c.is_ascii_punctuation() || c == ' ' {
        out.push('\\');
        out.push(c);
    } else if c.is_control() || c.is_whitespace() {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    } else {
        out.push(c);
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn peek2(&self) -> Option<char> {
        self.chars.get(self.pos + 1).copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += 1;
        c
    }
    fn err(&self, what: &str) -> String {
        format!(
            "{what} at position {} of regular expression \"{}\"",
            self.pos, self.src
        )
    }

    fn reg_exp(&mut self, out: &mut String, depth: usize) -> Result<(), String> {
        if depth > 100 {
            return Err(self.err("groups nested too deeply"));
        }
        self.branch(out, depth)?;
        while self.peek() == Some('|') {
            self.pos += 1;
            out.push('|');
            self.branch(out, depth)?;
        }
        Ok(())
    }

    fn branch(&mut self, out: &mut String, depth: usize) -> Result<(), String> {
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            self.atom(out, depth)?;
            self.quantifier(out)?;
        }
        Ok(())
    }

    fn quantifier(&mut self, out: &mut String) -> Result<(), String> {
        match self.peek() {
            Some(c @ ('?' | '*' | '+')) => {
                self.pos += 1;
                out.push(c);
            }
            Some('{') => {
                self.pos += 1;
                let mut q = String::new();
                loop {
                    match self.bump() {
                        Some('}') => break,
                        Some(c) if c.is_ascii_digit() || c == ',' => q.push(c),
                        _ => return Err(self.err("bad quantifier")),
                    }
                }
                let (a, b) = match q.split_once(',') {
                    Some((a, b)) => (a, Some(b)),
                    None => (q.as_str(), None),
                };
                let lo: u32 = a.parse().map_err(|_| self.err("bad quantifier"))?;
                if let Some(b) = b.filter(|b| !b.is_empty()) {
                    let hi: u32 = b.parse().map_err(|_| self.err("bad quantifier"))?;
                    if hi < lo {
                        return Err(self.err("quantifier maximum below minimum"));
                    }
                }
                out.push('{');
                out.push_str(&q);
                out.push('}');
            }
            _ => {}
        }
        Ok(())
    }

    fn atom(&mut self, out: &mut String, depth: usize) -> Result<(), String> {
        let Some(c) = self.bump() else {
            return Err(self.err("unexpected end"));
        };
        match c {
            '(' => {
                out.push_str("(?:");
                self.reg_exp(out, depth + 1)?;
                if self.bump() != Some(')') {
                    return Err(self.err("unclosed group"));
                }
                out.push(')');
            }
            '[' => {
                let class = self.class_expr(depth)?;
                out.push_str(&class);
            }
            '.' => out.push_str(r"[^\n\r]"),
            '\\' => {
                let e = self.escape()?;
                out.push_str(&e);
            }
            '?' | '*' | '+' | '{' | '}' | ')' | ']' => {
                return Err(self.err(&format!("unescaped '{c}'")));
            }
            c => lit(c, out),
        }
        Ok(())
    }

    /// An escape after `\`, as a regex fragment usable both inside and outside classes.
    fn escape(&mut self) -> Result<String, String> {
        let Some(c) = self.bump() else {
            return Err(self.err("dangling backslash"));
        };
        Ok(match c {
            'n' => r"\n".into(),
            'r' => r"\r".into(),
            't' => r"\t".into(),
            '\\' | '|' | '.' | '?' | '*' | '+' | '(' | ')' | '{' | '}' | '-' | '[' | ']' | '^' => {
                format!("\\{c}")
            }
            's' => r"[ \t\n\r]".into(),
            'S' => r"[^ \t\n\r]".into(),
            'i' => format!("[{NAME_START}]"),
            'I' => format!("[^{NAME_START}]"),
            'c' => format!("[{NAME_START}{NAME_EXTRA}]"),
            'C' => format!("[^{NAME_START}{NAME_EXTRA}]"),
            'd' => r"\p{Nd}".into(),
            'D' => r"\P{Nd}".into(),
            'w' => r"[^\p{P}\p{Z}\p{C}]".into(),
            'W' => r"[\p{P}\p{Z}\p{C}]".into(),
            'p' | 'P' => {
                if self.bump() != Some('{') {
                    return Err(self.err("expected '{' after \\p"));
                }
                let mut name = String::new();
                loop {
                    match self.bump() {
                        Some('}') => break,
                        Some(ch) => name.push(ch),
                        None => return Err(self.err("unterminated \\p{")),
                    }
                }
                let neg = c == 'P';
                if let Some(block) = name.strip_prefix("Is") {
                    let Some((_, lo, hi)) = BLOCKS.iter().find(|(n, _, _)| *n == block) else {
                        return Err(format!(
                            "the Unicode block \\p{{{name}}} in regular expression \"{}\" is not supported",
                            self.src
                        ));
                    };
                    format!(
                        "[{}\\x{{{lo:X}}}-\\x{{{hi:X}}}]",
                        if neg { "^" } else { "" }
                    )
                } else if CATEGORIES.contains(&name.as_str()) {
                    format!("\\{c}{{{name}}}")
                } else {
                    return Err(self.err(&format!("unknown character property '{name}'")));
                }
            }
            _ => return Err(self.err(&format!("unknown escape '\\{c}'"))),
        })
    }

    /// After `[`: a class expression up to and including its `]`.
    fn class_expr(&mut self, depth: usize) -> Result<String, String> {
        if depth > 100 {
            return Err(self.err("classes nested too deeply"));
        }
        let neg = if self.peek() == Some('^') {
            self.pos += 1;
            true
        } else {
            false
        };
        let mut items = String::new();
        let mut first = true;
        let mut subtract = None;
        loop {
            let Some(c) = self.bump() else {
                return Err(self.err("unterminated character class"));
            };
            match c {
                ']' if !first => break,
                '-' if self.peek() == Some('[') => {
                    self.pos += 1;
                    subtract = Some(self.class_expr(depth + 1)?);
                    if self.bump() != Some(']') {
                        return Err(self.err("subtraction must end the class"));
                    }
                    break;
                }
                '[' => return Err(self.err("unescaped '[' in character class")),
                '\\' => {
                    let e = self.escape()?;
                    // A single-character escape may start a range.
                    let single = single_char_of_escape(&e);
                    if let (Some(lo), Some('-')) = (single, self.peek())
                        && self.peek2() != Some('[')
                        && self.peek2() != Some(']')
                    {
                        self.pos += 1;
                        let hi = self.range_end()?;
                        push_range(lo, hi, &mut items).map_err(|m| self.err(&m))?;
                        first = false;
                        continue;
                    }
                    items.push_str(&e);
                }
                '-' if !first && self.peek() != Some(']') => {
                    return Err(self.err("'-' must be escaped here"));
                }
                c => {
                    if self.peek() == Some('-')
                        && self.peek2() != Some('[')
                        && self.peek2() != Some(']')
                    {
                        self.pos += 1;
                        let hi = self.range_end()?;
                        push_range(c, hi, &mut items).map_err(|m| self.err(&m))?;
                    } else {
                        lit(c, &mut items);
                    }
                }
            }
            first = false;
        }
        if items.is_empty() {
            return Err(self.err("empty character class"));
        }
        let base = format!("[{}{}]", if neg { "^" } else { "" }, items);
        Ok(match subtract {
            Some(s) => format!("[{base}--{s}]"),
            None => base,
        })
    }

    fn range_end(&mut self) -> Result<char, String> {
        match self.bump() {
            Some('\\') => {
                let e = self.escape()?;
                single_char_of_escape(&e).ok_or_else(|| self.err("bad range end"))
            }
            Some('[') | Some(']') | None => Err(self.err("bad range end")),
            Some(c) => Ok(c),
        }
    }
}

fn single_char_of_escape(e: &str) -> Option<char> {
    match e {
        r"\n" => Some('\n'),
        r"\r" => Some('\r'),
        r"\t" => Some('\t'),
        _ => {
            let mut cs = e.chars();
            match (cs.next(), cs.next(), cs.next()) {
                (Some('\\'), Some(c), None) if c.is_ascii_punctuation() => Some(c),
                _ => None,
            }
        }
    }
}

fn push_range(lo: char, hi: char, out: &mut String) -> Result<(), String> {
    if hi < lo {
        return Err("range out of order".into());
    }
    lit(lo, out);
    out.push('-');
    lit(hi, out);
    Ok(())
}

/// Translates an XSD regular expression to an anchored `regex` source string.
pub fn translate(src: &str) -> Result<String, String> {
    let mut p = Parser {
        chars: src.chars().collect(),
        pos: 0,
        src,
    };
    let mut out = String::from(r"\A(?:");
    p.reg_exp(&mut out, 0)?;
    if p.pos < p.chars.len() {
        return Err(p.err("unbalanced ')'"));
    }
    out.push_str(r")\z");
    Ok(out)
}

thread_local! {
    /// Compiled expressions by source: schemas such as TEI repeat a few patterns hundreds of
    /// times. Per thread, so each schema compilation starts afresh.
    static CACHE: std::cell::RefCell<std::collections::HashMap<String, Regex>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Translates and compiles an XSD regular expression.
pub fn compile(src: &str) -> Result<Regex, String> {
    if let Some(re) = CACHE.with(|c| c.borrow().get(src).cloned()) {
        return Ok(re);
    }
    let t = translate(src)?;
    let re = regex::RegexBuilder::new(&t)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| format!("regular expression \"{src}\" cannot be compiled: {e}"))?;
    CACHE.with(|c| c.borrow_mut().insert(src.to_string(), re.clone()));
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, s: &str) -> bool {
        compile(re).map(|r| r.is_match(s)).unwrap_or(false)
    }

    #[test]
    fn basics() {
        assert!(m("a+b", "aab"));
        assert!(!m("a+b", "xaab"));
        assert!(m("^$", "^$"));
        assert!(m("[a-z-[aeiou]]+", "bcd"));
        assert!(!m("[a-z-[aeiou]]+", "bad"));
        assert!(m(r"\i\c*", "x1-y"));
        assert!(m(r"\d{2,3}", "123"));
        assert!(m("[-a]", "-"));
        assert!(m(r"\p{IsBasicLatin}+", "abc"));
        assert!(m(".", "é"));
        assert!(!m(".", "\n"));
        assert!(compile("(a").is_err());
        assert!(compile(r"\p{IsNoSuchBlock}").is_err());
        assert!(compile("a{3,1}").is_err());
    }

    #[test]
    fn patterns_used_by_tei() {
        assert!(m(r"[^/\s]+:\S*", "http://example.org/x"));
        assert!(!m(r"[^/\s]+:\S*", "a b:c"));
        assert!(m(r"[^\p{C}\p{Z}]+", "abc"));
        assert!(!m(r"[^\p{C}\p{Z}]+", "a c"));
        assert!(m(r"(\-?[\d]+/\-?[\d]+)", "-1/2"));
        assert!(m(r"[\-+]?\d+(\.\d+)?(%|cm|mm)", "+1.5cm"));
        assert!(m(r"[0-9.,DHMPRSTWYZ/:+\-]+", "P1Y2M"));
        assert!(m(r"[\d]+(\.[\d]+){0,2}", "1.2.3"));
        assert!(!m(r"[\d]+(\.[\d]+){0,2}", "1.2.3.4"));
    }
}
