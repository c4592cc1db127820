//! Stage 2, **structure**: the body's lines become the parts of a letter or document.
//!
//! Owns recognising, from line shapes alone: footnotes (`[n] text` at the end), a postscript
//! (`P.S.`), the closer (valediction, role lines, dateline, signature, address), the opener
//! (address and salutation lines, dateline, byline, short heading lines), numbered sections and
//! their headings, numbered paragraphs, list items, and paragraphs broken across a source break
//! ("...and" / blank line / "between ..."), which are repaired into one paragraph with the
//! break recorded (TEI Guidelines 4.2 "Elements Common to All Divisions", 4.2.2 "Openers and
//! Closers"; 3.11.3 "Milestone Elements"). Every line ends up in exactly one part, so nothing
//! is lost. It must not parse brackets, names or dates inside the text (that is `inline`), except
//! to find datelines.

use std::sync::LazyLock;

use regex::Regex;

use super::dates;
use super::layout::Line;

/// A piece of a paragraph: text, or a repaired source break between two pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Break,
}

/// A paragraph-like unit: optional number/label, its parts and first source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Para {
    pub n: Option<String>,
    pub parts: Vec<Part>,
    pub line: usize,
}

impl Para {
    fn new(text: &str, line: usize) -> Self {
        Para {
            n: None,
            parts: vec![Part::Text(clean(text))],
            line,
        }
    }

    /// The paragraph's text with breaks as spaces.
    pub fn plain(&self) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => s.push_str(t),
                Part::Break => s.push(' '),
            }
        }
        s
    }

    fn last_text(&self) -> &str {
        self.parts
            .iter()
            .rev()
            .find_map(|p| match p {
                Part::Text(t) => Some(t.as_str()),
                Part::Break => None,
            })
            .unwrap_or("")
    }
}

/// The flow of the body between opener and closer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    P(Para),
    /// Consecutive list items.
    List(Vec<Para>),
    /// A section heading at a level (1 for "1. Title", 2 for "a) Title").
    Head(usize, Para),
}

/// One line of an opener or closer, by its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameItem {
    /// Address or salutation ("To Comrade Tito", "My dear premier,", "Yours sincerely,").
    Salute(Para),
    /// Place and date ("Moscow, 23 September 1954").
    Dateline(Para),
    /// Author line of a memorandum ("MD J. Bitterlich").
    Byline(Para),
    /// The signature ("N. Khrushchev").
    Signed(Para),
    /// An office held by the signatory ("The Secretary").
    Role(Para),
    /// Any other short line (classification marks, "Received by Telegraph").
    Line(Para),
}

/// A footnote: its number, text and source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footnote {
    pub n: String,
    pub text: String,
    pub line: usize,
}

/// The structure of a body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Structure {
    pub opener: Vec<FrameItem>,
    pub blocks: Vec<Block>,
    pub closer: Vec<FrameItem>,
    pub postscript: Vec<Para>,
    pub footnotes: Vec<Footnote>,
    /// Source lines whose paragraphs were repaired across a break.
    pub repaired_breaks: Vec<usize>,
}

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

static FOOTNOTE: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"^\s*\[(\d{1,3})\]\s*(.*)$"));
static NUMBERED: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"^(\d{1,3})\.\s+\S"));
static LETTERED: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"^([a-z])\)\s+\S"));
static LIST_ITEM: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"^(?:\(([ivxlc]+|[a-z]|\d{1,3})\)|([-•–*]))\s+\S"));
static POSTSCRIPT: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"^(?:P\.\s?S\.|PS[.:]|Postscript[.:]?|P\.P\.S\.)(?:\s|$)"));
static VALEDICTION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"^(?:Yours|Sincerely|Respectfully|Faithfully|Cordially|Regards|Best regards|Kind regards|Warm regards|With (?:comradely|best|kind|warm|fraternal|sincere)\b|Comradely|Fraternally)",
    )
});
static SALUTE: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"^(?:To |Dear |My dear |Dearest |Comrade |Mr\.? |Mrs\.? |Sir,|Madam,)"));
static WIDE_GAP: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"\S(\s{3,})\S"));
static SENTENCE_BREAK: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"[a-z]{2}[.!?]\s+[A-Z]"));

fn is_match(re: &LazyLock<Option<Regex>>, s: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(s))
}

/// Collapses runs of white space inside a line and trims it.
pub fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

const PARTICLES: &[&str] = &[
    "of", "the", "and", "for", "de", "von", "van", "der", "du", "la", "le", "di", "da", "on", "in",
    "to", "&",
];

/// A short line whose words are all capitalised (or particles): a name, office or signature.
fn is_title_case(s: &str) -> bool {
    let mut any = false;
    for w in s.split_whitespace() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if w.is_empty() || PARTICLES.contains(&w) {
            continue;
        }
        let Some(first) = w.chars().next() else {
            continue;
        };
        if !(first.is_uppercase() || first.is_numeric()) {
            return false;
        }
        any = true;
    }
    any
}

fn ends_sentence(s: &str) -> bool {
    s.trim_end()
        .ends_with(['.', '!', '?', ':', ';', '"', '”', '’', ')', '»', '…', '\''])
}

fn starts_lowercase(s: &str) -> bool {
    s.trim_start()
        .chars()
        .next()
        .is_some_and(|c| c.is_lowercase())
}

/// A date with a year covers the line, with at most a short place before it and a short
/// remainder (a signatory) after it: returns (place-and-date, remainder).
fn dateline_split(line: &str, doc_year: Option<i32>) -> Option<(String, String)> {
    let text = clean(line);
    let (found, _) = dates::find_dates(&text, doc_year);
    let m = found
        .into_iter()
        .find(|m| !m.year_inferred && text.get(m.start..m.end).is_some_and(|s| s.len() >= 6))?;
    let before = text.get(..m.start)?.trim();
    let after = text.get(m.end..)?.trim();
    let before_ok =
        before.is_empty() || (words(before) <= 4 && before.ends_with(',') && is_title_case(before));
    let after_trim = after.trim_start_matches(['.', ',']).trim();
    let after_ok = after_trim.is_empty() || (words(after_trim) <= 4 && is_title_case(after_trim));
    if !(before_ok && after_ok) {
        return None;
    }
    let head = text
        .get(..text.len() - after_trim.len())?
        .trim()
        .to_string();
    Some((head, after_trim.to_string()))
}

fn is_signature(s: &str) -> bool {
    let t = clean(s);
    let inner = t.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']'));
    words(&t) <= 5
        && t.chars().count() <= 50
        && is_title_case(inner)
        && !inner.ends_with(['!', '?', ':', ';'])
        && !(inner.ends_with('.') && words(inner) > 2)
}

fn is_role(s: &str) -> bool {
    let t = clean(s);
    words(&t) <= 12 && !ends_sentence(&t) && is_title_case(&t)
}

fn is_structural(s: &str) -> bool {
    is_match(&NUMBERED, s) || is_match(&LIST_ITEM, s) || is_match(&LETTERED, s)
}

/// Whether a line may belong to a closer, scanning from the end.
fn closer_like(s: &str, doc_year: Option<i32>) -> bool {
    let t = clean(s);
    if t.is_empty() || is_structural(&t) {
        return false;
    }
    is_match(&VALEDICTION, &t)
        || (t.starts_with("To ") && words(&t) <= 12)
        || dateline_split(&t, doc_year).is_some()
        || is_signature(&t)
        || is_role(&t)
}

fn heading_level(s: &str) -> Option<(usize, String)> {
    let t = clean(s);
    let short = words(&t) <= 30 && !t.ends_with('.') && !is_match(&SENTENCE_BREAK, &t);
    if let Some(c) = NUMBERED.as_ref().and_then(|r| r.captures(&t))
        && short
    {
        return Some((1, c.get(1)?.as_str().to_string()));
    }
    if let Some(c) = LETTERED.as_ref().and_then(|r| r.captures(&t))
        && words(&t) <= 6
        && !t.ends_with('.')
    {
        return Some((2, c.get(1)?.as_str().to_string()));
    }
    None
}

/// Splits footnotes off the end of the body: from the first line that starts with `[n]` such
/// that no later line is anything but a footnote or its continuation.
fn split_footnotes(body: &[Line]) -> (usize, Vec<Footnote>) {
    let Some(re) = FOOTNOTE.as_ref() else {
        return (body.len(), Vec::new());
    };
    // The footnote section starts at the first footnote line after the last line that is a
    // paragraph of the text, i.e. the earliest `[n]` line such that all following non-blank
    // lines are footnote lines or continuations of them.
    let starts: Vec<usize> = body
        .iter()
        .enumerate()
        .filter(|(_, l)| re.is_match(&l.text) && !clean(&l.text).is_empty())
        .map(|(i, _)| i)
        .collect();
    let Some(&first) = starts.first() else {
        return (body.len(), Vec::new());
    };
    // Only footnote lines standing after all the prose: the first `[n]` line that is not
    // followed by a line which itself looks like closer or body prose after a blank... we keep
    // it simple and robust: the section starts at the first `[n]` line at a line start.
    let mut notes: Vec<Footnote> = Vec::new();
    for l in body.get(first..).unwrap_or(&[]) {
        if let Some(c) = re.captures(&l.text) {
            let n = c.get(1).map(|m| m.as_str()).unwrap_or("").to_string();
            let text = clean(c.get(2).map(|m| m.as_str()).unwrap_or(""));
            notes.push(Footnote {
                n: n.trim_start_matches('0').to_string(),
                text,
                line: l.no,
            });
        } else if !l.is_blank()
            && let Some(last) = notes.last_mut()
        {
            if !last.text.is_empty() {
                last.text.push(' ');
            }
            last.text.push_str(&clean(&l.text));
        }
    }
    for n in &mut notes {
        if n.n.is_empty() {
            n.n = "0".to_string();
        }
    }
    (first, notes)
}

/// Builds the structure of the body lines. `doc_year` helps recognise datelines.
pub fn build(body: &[Line], doc_year: Option<i32>) -> Structure {
    let mut s = Structure::default();
    let (end, footnotes) = split_footnotes(body);
    s.footnotes = footnotes;
    let mut lines: Vec<&Line> = body.get(..end).unwrap_or(&[]).iter().collect();
    while lines.last().is_some_and(|l| l.is_blank()) {
        lines.pop();
    }

    // Postscript: from a `P.S.` line in the second half to the end.
    let nonblank: Vec<usize> = (0..lines.len())
        .filter(|&i| lines.get(i).is_some_and(|l| !l.is_blank()))
        .collect();
    let half = nonblank.get(nonblank.len() / 2).copied().unwrap_or(0);
    if let Some(ps) = (half..lines.len()).find(|&i| {
        lines
            .get(i)
            .is_some_and(|l| is_match(&POSTSCRIPT, l.text.trim()))
    }) {
        for l in lines.get(ps..).unwrap_or(&[]) {
            if !l.is_blank() {
                s.postscript.push(Para::new(&l.text, l.no));
            }
        }
        lines.truncate(ps);
        while lines.last().is_some_and(|l| l.is_blank()) {
            lines.pop();
        }
    }

    // Closer: closer-like lines at the end, at most eight, never the whole body.
    let mut closer_start = lines.len();
    let mut taken = 0;
    let mut i = lines.len();
    while i > 0 && taken < 8 {
        let Some(l) = lines.get(i - 1) else { break };
        if l.is_blank() {
            i -= 1;
            continue;
        }
        if !closer_like(&l.text, doc_year) {
            break;
        }
        taken += 1;
        i -= 1;
        closer_start = i;
    }
    let has_prose_before = lines
        .get(..closer_start)
        .is_some_and(|b| b.iter().any(|l| !l.is_blank()));
    if !has_prose_before {
        closer_start = lines.len();
    }
    let closer_lines: Vec<&Line> = lines
        .get(closer_start..)
        .unwrap_or(&[])
        .iter()
        .copied()
        .filter(|l| !l.is_blank())
        .collect();
    s.closer = classify_closer(&closer_lines, doc_year);
    lines.truncate(closer_start);

    // Opener: address, salutation, dateline and short lines at the start.
    let mut k = 0;
    while let Some(l) = lines.get(k) {
        if l.is_blank() {
            k += 1;
            continue;
        }
        let next = lines
            .get(k + 1..)
            .and_then(|rest| rest.iter().find(|n| !n.is_blank()));
        let continues = next.is_some_and(|n| starts_lowercase(&n.text));
        match opener_item(l, doc_year).filter(|_| !continues) {
            Some(item) if k + 1 < lines.len() => {
                s.opener.extend(item);
                k += 1;
            }
            _ => break,
        }
    }
    let flow = lines.get(k..).unwrap_or(&[]);
    build_flow(flow, &mut s);
    s
}

fn opener_item(l: &Line, doc_year: Option<i32>) -> Option<Vec<FrameItem>> {
    let raw = l.text.trim();
    let t = clean(raw);
    if is_structural(&t) {
        return None;
    }
    // "Author            Place, date": two parts separated by a wide gap.
    if let Some(c) = WIDE_GAP.as_ref().and_then(|r| r.captures(raw))
        && let Some(gap) = c.get(1)
    {
        let left = clean(raw.get(..gap.start())?);
        let right = clean(raw.get(gap.end()..)?);
        if let Some((date, rest)) = dateline_split(&right, doc_year)
            && rest.is_empty()
            && words(&left) <= 6
        {
            return Some(vec![
                FrameItem::Byline(Para::new(&left, l.no)),
                FrameItem::Dateline(Para::new(&date, l.no)),
            ]);
        }
    }
    if let Some((date, rest)) = dateline_split(&t, doc_year) {
        let mut v = vec![FrameItem::Dateline(Para::new(&date, l.no))];
        if !rest.is_empty() {
            v.push(FrameItem::Line(Para::new(&rest, l.no)));
        }
        return Some(v);
    }
    let short_greeting = t.ends_with(',') && words(&t) <= 8;
    if is_match(&SALUTE, &t) && (words(&t) <= 25) && !is_match(&SENTENCE_BREAK, &t)
        || short_greeting
    {
        return Some(vec![FrameItem::Salute(Para::new(&t, l.no))]);
    }
    if t.chars().count() <= 40 && words(&t) <= 6 || (t.chars().count() <= 40 && is_spaced(&t)) {
        return Some(vec![FrameItem::Line(Para::new(&t, l.no))]);
    }
    None
}

/// "M e m o r a n d u m": letter-spaced display text.
fn is_spaced(t: &str) -> bool {
    t.split(' ').all(|w| w.chars().count() == 1)
}

fn classify_closer(lines: &[&Line], doc_year: Option<i32>) -> Vec<FrameItem> {
    // The signature is the last signature-like line that is not an address or dateline.
    let sig = lines.iter().rposition(|l| {
        let t = clean(&l.text);
        !t.starts_with("To ")
            && !is_match(&VALEDICTION, &t)
            && dateline_split(&t, doc_year).is_none()
            && is_signature(&t)
    });
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = clean(&l.text);
        if is_match(&VALEDICTION, &t) || t.starts_with("To ") {
            out.push(FrameItem::Salute(Para::new(&t, l.no)));
        } else if let Some((date, rest)) = dateline_split(&t, doc_year) {
            out.push(FrameItem::Dateline(Para::new(&date, l.no)));
            if !rest.is_empty() {
                out.push(FrameItem::Signed(Para::new(&rest, l.no)));
            }
        } else if Some(i) == sig {
            out.push(FrameItem::Signed(Para::new(&t, l.no)));
        } else {
            out.push(FrameItem::Role(Para::new(&t, l.no)));
        }
    }
    out
}

fn build_flow(lines: &[&Line], s: &mut Structure) {
    let mut prev_blank = false;
    for l in lines {
        if l.is_blank() {
            prev_blank = true;
            continue;
        }
        let t = clean(&l.text);
        let after_blank = prev_blank;
        prev_blank = false;
        // A paragraph broken across the source: previous text ends mid-sentence and this
        // line starts in lower case.
        if starts_lowercase(&t)
            && let Some(para) = last_para_mut(&mut s.blocks)
            && !ends_sentence(para.last_text())
        {
            if after_blank {
                para.parts.push(Part::Break);
                s.repaired_breaks.push(l.no);
            } else {
                para.parts.push(Part::Text(" ".to_string()));
            }
            para.parts.push(Part::Text(t));
            continue;
        }
        if let Some((level, n)) = heading_level(&t) {
            let mut p = Para::new(&t, l.no);
            p.n = Some(n);
            s.blocks.push(Block::Head(level, p));
            continue;
        }
        if let Some(c) = LIST_ITEM.as_ref().and_then(|r| r.captures(&t)) {
            let mut p = Para::new(&t, l.no);
            // "(ii)" numbers an item; a bullet ("-", "•") does not.
            p.n = c.get(1).map(|m| m.as_str().to_string());
            if let Some(Block::List(items)) = s.blocks.last_mut() {
                items.push(p);
            } else {
                s.blocks.push(Block::List(vec![p]));
            }
            continue;
        }
        let mut p = Para::new(&t, l.no);
        if let Some(c) = NUMBERED
            .as_ref()
            .and_then(|r| r.captures(&t))
            .or_else(|| LETTERED.as_ref().and_then(|r| r.captures(&t)))
        {
            p.n = c.get(1).map(|m| m.as_str().to_string());
        }
        s.blocks.push(Block::P(p));
    }
}

fn last_para_mut(blocks: &mut [Block]) -> Option<&mut Para> {
    match blocks.last_mut()? {
        Block::P(p) => Some(p),
        Block::List(items) => items.last_mut(),
        Block::Head(..) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::layout::split_lines;
    use super::*;

    fn build_str(s: &str) -> Structure {
        build(&split_lines(s), Some(1954))
    }

    #[test]
    fn letter_frame_and_footnote() {
        let s = build_str(
            "To Comrade Tito\n\nThe CC discussed the Association[1] at length.\n\nWe agree.\n\nThe Secretary\nCentral Committee of the Party\nMoscow, 23 September 1954\n\nN. Khrushchev\n\n[1] A note about it.\n",
        );
        assert_eq!(s.opener.len(), 1);
        assert!(matches!(&s.opener[0], FrameItem::Salute(p) if p.plain() == "To Comrade Tito"));
        assert_eq!(s.blocks.len(), 2);
        let kinds: Vec<_> = s
            .closer
            .iter()
            .map(|i| match i {
                FrameItem::Role(_) => "role",
                FrameItem::Dateline(_) => "dateline",
                FrameItem::Signed(_) => "signed",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["role", "role", "dateline", "signed"]);
        assert_eq!(s.footnotes.len(), 1);
        assert_eq!(s.footnotes[0].n, "1");
        assert_eq!(s.footnotes[0].text, "A note about it.");
    }

    #[test]
    fn repairs_a_broken_paragraph() {
        let s = build_str(
            "Dear X,\n\nRelations between the parties, and\n\nbetween our governments. Done.\n\nA new paragraph starts here, and it is long enough to be prose.\n",
        );
        assert_eq!(s.blocks.len(), 2);
        let Block::P(p) = &s.blocks[0] else { panic!() };
        assert_eq!(p.parts.len(), 3);
        assert_eq!(p.parts[1], Part::Break);
        assert_eq!(s.repaired_breaks, vec![5]);
    }

    #[test]
    fn numbered_sections_lists_and_paragraphs() {
        let s = build_str(
            "Intro paragraph that is long enough to be prose, not a heading line.\n1. Domestic situation\nThe President said many things about it.\n- first item\n- second item\n2. While we are naturally concerned with our domestic problems, things go on.\n(i) continuous tension,\n(ii) the raising of morale.\nA final paragraph of some length ends here.\n",
        );
        assert!(matches!(&s.blocks[1], Block::Head(1, p) if p.n.as_deref() == Some("1")));
        assert!(matches!(&s.blocks[3], Block::List(items) if items.len() == 2));
        assert!(matches!(&s.blocks[4], Block::P(p) if p.n.as_deref() == Some("2")));
        assert!(
            matches!(&s.blocks[5], Block::List(items) if items.len() == 2 && items[0].n.as_deref() == Some("i"))
        );
    }

    #[test]
    fn byline_and_dateline_in_one_line() {
        let s = build_str(
            "MD J. Bitterlich                     Bonn, 23 April 1997\n M e m o r a n d u m\nThe long first paragraph of the memorandum starts here and goes on.\n(Bitterlich)\n",
        );
        assert!(matches!(&s.opener[0], FrameItem::Byline(p) if p.plain() == "MD J. Bitterlich"));
        assert!(
            matches!(&s.opener[1], FrameItem::Dateline(p) if p.plain() == "Bonn, 23 April 1997")
        );
        assert!(matches!(&s.opener[2], FrameItem::Line(p) if p.plain() == "M e m o r a n d u m"));
        assert!(matches!(&s.closer[0], FrameItem::Signed(p) if p.plain() == "(Bitterlich)"));
    }

    #[test]
    fn cable_closer_splits_date_and_signatory() {
        let s = build_str(
            "To Comrade Tito\n\nThe text of the cable is here, long enough.\n\n24 July 1954 CC CPSU\n",
        );
        assert!(matches!(&s.closer[0], FrameItem::Dateline(p) if p.plain() == "24 July 1954"));
        assert!(matches!(&s.closer[1], FrameItem::Signed(p) if p.plain() == "CC CPSU"));
    }

    #[test]
    fn nothing_is_lost_in_odd_input() {
        let s = build_str("only one line\n");
        assert_eq!(s.blocks.len(), 1);
        let s = build_str("[1] only a note\n");
        assert_eq!(s.footnotes.len(), 1);
        assert!(s.blocks.is_empty());
    }
}
