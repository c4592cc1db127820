//! Stage 3, **inline**: square brackets, footnote markers, names and dates inside a line of text.
//!
//! Owns turning one paragraph's text into inline items: the translator's or editor's bracketed
//! voice (TEI Guidelines 3.5 "Simple Editorial Changes", 11.3.3 "Additions, Deletions and
//! Omissions"): `[words]` → `supplied`, `Com[rade]` → `supplied` inside the word, `[illegible]`,
//! `[…]` → `gap` with a reason, `[sic]` → `sic` on the preceding word, `[Stalin]` after a name →
//! a gloss note, `[26?]` → `unclear` with `@cert`, `[handwritten]` → an editorial note;
//! footnote markers `[n]` → the anchor of note n; then mentions of register entries (13.2
//! "Names and Referring Strings") and dates (13.3.6 "Dates and Times") in the remaining text.
//! Every character of text is kept in some item, except the bracket characters and markers.
//! It must not decide document structure or write XML.

use std::collections::{BTreeMap, BTreeSet};

use super::dates::{self, DateValue};
use crate::register::{EntityKind, Register};

/// One inline item of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    /// Words the translator or editor added; `in_word` for a completion inside a word.
    Supplied {
        children: Vec<Inline>,
        in_word: bool,
    },
    /// Omitted or unreadable text; `desc` keeps the bracket's words.
    Gap {
        reason: String,
        desc: Option<String>,
    },
    /// A word the source marks with `[sic]`.
    Sic(String),
    /// An editorial remark (`[handwritten]`, `[signature]`, the `sic` of `[sic]`).
    Editorial(String),
    /// A gloss after a name (`Filippov [Stalin]`).
    Gloss(Vec<Inline>),
    /// A doubtful reading (`[26?]`).
    Unclear(String),
    /// The anchor of footnote n: the note goes here.
    NoteAnchor(String),
    /// A further marker of a footnote already anchored.
    NoteRef(String),
    /// A repaired source break.
    Break,
    /// A mention of a register entry.
    Name {
        kind: EntityKind,
        id: String,
        text: String,
    },
    /// A date with its ISO value.
    Date {
        value: DateValue,
        inferred: bool,
        text: String,
    },
}

/// Findings of the inline stage, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InlineFindings {
    /// Markers `[n]` with no footnote n.
    pub markers_without_note: Vec<String>,
    /// Date problems (e.g. "30 February 1954").
    pub date_problems: Vec<String>,
}

const FUNCTION_WORDS: &[&str] = &[
    "The", "A", "An", "It", "He", "She", "We", "They", "This", "That", "In", "On", "And", "But",
    "Or", "I", "Of", "To", "For", "As", "At", "By", "His", "Her", "Its", "Our", "Their", "There",
];

const EDITORIAL_STARTS: &[&str] = &[
    "handwritten",
    "hand-written",
    "handwriting",
    "signature",
    "signed",
    "stamp",
    "seal",
    "in pencil",
    "in ink",
    "typed",
    "typewritten",
    "crossed out",
    "underlined",
    "page",
    "end of",
    "translator",
    "editor",
    "note",
    "original",
    "marginal",
    "margin",
    "deleted",
    "erased",
    "initial",
    "illegible signature",
    "text missing",
    "stamped",
    "attachment",
    "enclosure",
];

const ILLEGIBLE: &[&str] = &[
    "illegible",
    "illeg.",
    "illeg",
    "unreadable",
    "indecipherable",
    "unclear",
    "illegible word",
    "illegible words",
    "word illegible",
    "words illegible",
    "text illegible",
];

fn is_ellipsis(c: &str) -> bool {
    let t: String = c.chars().filter(|c| !c.is_whitespace()).collect();
    t == "…" || (!t.is_empty() && t.chars().all(|c| c == '.'))
}

fn is_gloss_words(c: &str) -> bool {
    let words: Vec<&str> = c.split_whitespace().collect();
    if words.is_empty() || words.len() > 6 {
        return false;
    }
    if words.len() == 1 && words.first().is_some_and(|w| FUNCTION_WORDS.contains(w)) {
        return false;
    }
    words.iter().all(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        w.is_empty()
            || ["of", "the", "de", "von", "van", "bin", "al", "y", "and"].contains(&w)
            || w.chars().next().is_some_and(char::is_uppercase)
    })
}

/// Splits text at square brackets into inline items. `footnotes` are the numbers of the
/// document's footnotes; `anchored` collects those already given an anchor.
pub fn parse_brackets(
    text: &str,
    footnotes: &BTreeSet<String>,
    anchored: &mut BTreeSet<String>,
    findings: &mut InlineFindings,
) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::new();
    let mut pending = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after_open = rest.get(open + 1..).unwrap_or("");
        let close = after_open.find(']');
        let nested = after_open.find('[');
        let Some(close) = close.filter(|&c| nested.is_none_or(|n| n > c)) else {
            // No matching bracket: the '[' is literal text.
            pending.push_str(rest.get(..open + 1).unwrap_or(""));
            rest = after_open;
            continue;
        };
        let before = rest.get(..open).unwrap_or("");
        let content = after_open.get(..close).unwrap_or("");
        let after = after_open.get(close + 1..).unwrap_or("");
        pending.push_str(before);
        let char_before = pending.chars().next_back();
        let char_after = after.chars().next();
        let c = content.trim();
        let lower = c.to_lowercase();
        let in_word = char_before.is_some_and(char::is_alphanumeric)
            || char_after.is_some_and(char::is_alphanumeric);
        let item: Option<Inline> = if !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit()) {
            let n = c.trim_start_matches('0');
            let n = if n.is_empty() { "0" } else { n };
            if footnotes.contains(n) {
                if anchored.insert(n.to_string()) {
                    Some(Inline::NoteAnchor(n.to_string()))
                } else {
                    Some(Inline::NoteRef(n.to_string()))
                }
            } else {
                findings.markers_without_note.push(c.to_string());
                None
            }
        } else if c.is_empty() {
            None
        } else if lower == "sic" || lower == "sic!" {
            let word = split_last_word(&mut pending);
            flush(&mut pending, &mut out);
            match word {
                Some((w, space)) => {
                    out.push(Inline::Sic(w));
                    if !space.is_empty() {
                        out.push(Inline::Text(space));
                    }
                    Some(Inline::Editorial(c.to_string()))
                }
                None => Some(Inline::Editorial(c.to_string())),
            }
        } else if is_ellipsis(c) {
            Some(Inline::Gap {
                reason: "omitted".to_string(),
                desc: None,
            })
        } else if ILLEGIBLE.contains(&lower.as_str()) {
            Some(Inline::Gap {
                reason: "illegible".to_string(),
                desc: Some(c.to_string()),
            })
        } else if c == "?" {
            Some(Inline::Gap {
                reason: "uncertain".to_string(),
                desc: None,
            })
        } else if let Some(reading) = c.strip_suffix('?') {
            Some(Inline::Unclear(reading.trim().to_string()))
        } else if EDITORIAL_STARTS.iter().any(|s| lower.starts_with(s)) {
            Some(Inline::Editorial(c.to_string()))
        } else if in_word {
            Some(Inline::Supplied {
                children: vec![Inline::Text(content.to_string())],
                in_word: true,
            })
        } else if is_gloss_words(c) && char_before.is_some() {
            Some(Inline::Gloss(vec![Inline::Text(c.to_string())]))
        } else {
            Some(Inline::Supplied {
                children: vec![Inline::Text(content.to_string())],
                in_word: false,
            })
        };
        match item {
            Some(i) => {
                flush(&mut pending, &mut out);
                out.push(i);
            }
            None => {
                pending.push('[');
                pending.push_str(content);
                pending.push(']');
            }
        }
        rest = after;
    }
    pending.push_str(rest);
    flush(&mut pending, &mut out);
    out
}

fn flush(pending: &mut String, out: &mut Vec<Inline>) {
    if !pending.is_empty() {
        out.push(Inline::Text(std::mem::take(pending)));
    }
}

/// Removes and returns the last word of `s` and the white space after it.
fn split_last_word(s: &mut String) -> Option<(String, String)> {
    let trimmed_len = s.trim_end().len();
    let trailing = s.get(trimmed_len..).unwrap_or("").to_string();
    let body = s.get(..trimmed_len).unwrap_or("");
    let start = body
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let word = body.get(start..)?.to_string();
    if word.is_empty() {
        return None;
    }
    let keep = body.get(..start).unwrap_or("").to_string();
    *s = keep;
    Some((word, trailing))
}

/// Marks dates and register mentions in every text item (also inside supplied text and glosses).
/// `used` collects the register ids mentioned.
pub fn mark(
    items: Vec<Inline>,
    register: &Register,
    year: Option<i32>,
    used: &mut BTreeSet<String>,
    findings: &mut InlineFindings,
) -> Vec<Inline> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Inline::Text(t) => out.extend(mark_text(&t, register, year, used, findings)),
            Inline::Supplied { children, in_word } => out.push(Inline::Supplied {
                children: if in_word {
                    children
                } else {
                    mark(children, register, year, used, findings)
                },
                in_word,
            }),
            Inline::Gloss(children) => out.push(Inline::Gloss(mark(
                children, register, year, used, findings,
            ))),
            other => out.push(other),
        }
    }
    out
}

fn mark_text(
    text: &str,
    register: &Register,
    year: Option<i32>,
    used: &mut BTreeSet<String>,
    findings: &mut InlineFindings,
) -> Vec<Inline> {
    let (found, problems) = dates::find_dates(text, year);
    for p in problems {
        findings.date_problems.push(p.message);
    }
    let mut out = Vec::new();
    let mut pos = 0;
    for m in found {
        if m.start < pos {
            continue;
        }
        if let Some(before) = text.get(pos..m.start) {
            out.extend(mark_names(before, register, used));
        }
        let Some(surface) = text.get(m.start..m.end) else {
            continue;
        };
        out.push(Inline::Date {
            value: m.value,
            inferred: m.year_inferred,
            text: surface.to_string(),
        });
        pos = m.end;
    }
    if let Some(rest) = text.get(pos..) {
        out.extend(mark_names(rest, register, used));
    }
    out
}

fn mark_names(text: &str, register: &Register, used: &mut BTreeSet<String>) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut pos = 0;
    for m in register.find_mentions(text) {
        let Some(entry) = register.entry(m.entry) else {
            continue;
        };
        if let Some(before) = text.get(pos..m.start)
            && !before.is_empty()
        {
            out.push(Inline::Text(before.to_string()));
        }
        out.push(Inline::Name {
            kind: entry.kind,
            id: entry.id.clone(),
            text: text.get(m.start..m.end).unwrap_or("").to_string(),
        });
        used.insert(entry.id.clone());
        pos = m.end;
    }
    if let Some(rest) = text.get(pos..)
        && !rest.is_empty()
    {
        out.push(Inline::Text(rest.to_string()));
    }
    out
}

const NOT_NAMES: &[&str] = &[
    "I",
    "The",
    "A",
    "An",
    "We",
    "Our",
    "Your",
    "You",
    "He",
    "She",
    "It",
    "They",
    "This",
    "That",
    "These",
    "Those",
    "In",
    "On",
    "At",
    "As",
    "By",
    "For",
    "From",
    "With",
    "To",
    "Of",
    "And",
    "But",
    "Or",
    "If",
    "When",
    "What",
    "Which",
    "Who",
    "Whom",
    "Whose",
    "His",
    "Her",
    "Its",
    "Their",
    "My",
    "Me",
    "Us",
    "Him",
    "Them",
    "There",
    "Here",
    "Then",
    "Thus",
    "So",
    "Yet",
    "Not",
    "No",
    "Yes",
    "All",
    "Any",
    "Some",
    "Each",
    "Every",
    "One",
    "Two",
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "Comrade",
    "Comrades",
    "Sir",
    "Dear",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Mister",
    "Also",
    "However",
    "Secret",
    "Top",
];

/// Capitalised names in unmarked text that are not in the register: (name, count).
pub fn unknown_names(items: &[Inline], register: &Register, counts: &mut BTreeMap<String, usize>) {
    let mut sentence_start = true;
    for (k, item) in items.iter().enumerate() {
        match item {
            Inline::Text(t) => {
                // "Com[rade]": the last word runs on into the supplied letters; not a name.
                let runs_on = matches!(
                    items.get(k + 1),
                    Some(Inline::Supplied { in_word: true, .. })
                );
                let t = if runs_on {
                    t.rfind(char::is_whitespace)
                        .and_then(|i| t.get(..i))
                        .unwrap_or("")
                } else {
                    t.as_str()
                };
                scan_names(t, register, &mut sentence_start, counts)
            }
            Inline::Supplied { children, .. } | Inline::Gloss(children) => {
                unknown_names(children, register, counts)
            }
            _ => sentence_start = false,
        }
    }
}

fn scan_names(
    text: &str,
    register: &Register,
    sentence_start: &mut bool,
    counts: &mut BTreeMap<String, usize>,
) {
    let mut run: Vec<(String, bool)> = Vec::new(); // (word, was sentence-initial)
    let flush = |run: &mut Vec<(String, bool)>, counts: &mut BTreeMap<String, usize>| {
        while run
            .last()
            .is_some_and(|(w, _)| PARTICLE_IN_NAME.contains(&w.as_str()))
        {
            run.pop();
        }
        let words: Vec<&str> = run
            .iter()
            .map(|(w, _)| w.as_str())
            .skip_while(|w| is_not_name(w) || PARTICLE_IN_NAME.contains(w))
            .collect();
        let initial = run.first().is_some_and(|(_, s)| *s);
        let significant = words
            .iter()
            .filter(|w| !PARTICLE_IN_NAME.contains(w) && !is_not_name(w))
            .count();
        let name = words.join(" ");
        let keep = match significant {
            0 => false,
            1 => {
                words.len() == 1
                    && !(initial && run.len() == 1)
                    && name.chars().count() >= 2
                    && !register.is_form_prefix(&name)
                    && !name
                        .strip_suffix('s')
                        .is_some_and(|singular| register.is_form_prefix(singular))
            }
            _ => true,
        };
        if keep {
            *counts.entry(name).or_insert(0) += 1;
        }
        run.clear();
    };
    for token in text.split_inclusive(|c: char| c.is_whitespace()) {
        let word = token.trim();
        let core = word.trim_matches(|c: char| !c.is_alphanumeric());
        let cap = core.chars().next().is_some_and(char::is_uppercase)
            && core
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '\'' || c == '.');
        let particle = !run.is_empty() && PARTICLE_IN_NAME.contains(&core);
        let leading_punct = word.starts_with(|c: char| !c.is_alphanumeric());
        if leading_punct && !run.is_empty() {
            flush(&mut run, counts);
        }
        if cap || particle {
            run.push((core.to_string(), *sentence_start && run.is_empty()));
        } else if !core.is_empty() {
            flush(&mut run, counts);
        }
        let ends_with_break = word.ends_with(|c: char| !c.is_alphanumeric() && c != '-');
        if ends_with_break && !run.is_empty() {
            flush(&mut run, counts);
        }
        if word.ends_with(['.', '!', '?', ':', '"', '“']) {
            *sentence_start = true;
        } else if !core.is_empty() {
            *sentence_start = false;
        }
    }
    flush(&mut run, counts);
}

/// Capitalised words that are not names: function words, titles, months, weekdays.
fn is_not_name(w: &str) -> bool {
    NOT_NAMES.contains(&w) || super::header::MONTHS.contains(&w)
}

const PARTICLE_IN_NAME: &[&str] = &["of", "the", "de", "von", "van", "for"];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, notes: &[&str]) -> Vec<Inline> {
        let notes: BTreeSet<String> = notes.iter().map(|s| s.to_string()).collect();
        let mut anchored = BTreeSet::new();
        let mut f = InlineFindings::default();
        parse_brackets(text, &notes, &mut anchored, &mut f)
    }

    fn t(s: &str) -> Inline {
        Inline::Text(s.to_string())
    }

    #[test]
    fn supplied_words_and_in_word_completion() {
        assert_eq!(
            parse("conditioned upon [consensus regarding] issues", &[]),
            vec![
                t("conditioned upon "),
                Inline::Supplied {
                    children: vec![t("consensus regarding")],
                    in_word: false
                },
                t(" issues")
            ]
        );
        assert_eq!(
            parse("Com[rade] Tito", &[]),
            vec![
                t("Com"),
                Inline::Supplied {
                    children: vec![t("rade")],
                    in_word: true
                },
                t(" Tito")
            ]
        );
    }

    #[test]
    fn footnote_markers_gaps_sic_glosses() {
        assert_eq!(
            parse("Patriots[1] and again[1]", &["1"]),
            vec![
                t("Patriots"),
                Inline::NoteAnchor("1".into()),
                t(" and again"),
                Inline::NoteRef("1".into())
            ]
        );
        assert_eq!(
            parse("a [illegible] b [...] c", &[]),
            vec![
                t("a "),
                Inline::Gap {
                    reason: "illegible".into(),
                    desc: Some("illegible".into())
                },
                t(" b "),
                Inline::Gap {
                    reason: "omitted".into(),
                    desc: None
                },
                t(" c")
            ]
        );
        assert_eq!(
            parse("the enlargmement [sic] of", &[]),
            vec![
                t("the "),
                Inline::Sic("enlargmement".into()),
                t(" "),
                Inline::Editorial("sic".into()),
                t(" of")
            ]
        );
        assert_eq!(
            parse("Filippov [Stalin] said", &[]),
            vec![t("Filippov "), Inline::Gloss(vec![t("Stalin")]), t(" said")]
        );
        assert_eq!(
            parse("on [26?] June [handwritten]", &[]),
            vec![
                t("on "),
                Inline::Unclear("26".into()),
                t(" June "),
                Inline::Editorial("handwritten".into())
            ]
        );
    }

    #[test]
    fn unmatched_brackets_and_unknown_markers_stay_text() {
        let notes = BTreeSet::new();
        let mut anchored = BTreeSet::new();
        let mut f = InlineFindings::default();
        assert_eq!(
            parse_brackets("a [b and [2] c]", &notes, &mut anchored, &mut f),
            vec![t("a [b and [2] c]")]
        );
        assert_eq!(f.markers_without_note, vec!["2".to_string()]);
        assert_eq!(parse("x ] y [", &[]), vec![t("x ] y [")]);
    }

    #[test]
    fn finds_unknown_capitalised_names() {
        let register = Register::default();
        let mut counts = BTreeMap::new();
        unknown_names(
            &[t(
                "The Fifth Congress of the LCY met. We agree with Marshal Zhukov and the Soviet press.",
            )],
            &register,
            &mut counts,
        );
        let names: Vec<_> = counts.keys().cloned().collect();
        assert_eq!(
            names,
            ["Fifth Congress of the LCY", "Marshal Zhukov", "Soviet"]
        );
    }
}
