//! The header fields, interpreted: citation, credits, languages, correspondents.
//!
//! Owns reading meaning out of the archive's header fields for the `teiHeader` (TEI Guidelines
//! 2 "The TEI Header"; 2.4.6 `correspDesc`; 10.4 `msIdentifier`): the citation's quoted title,
//! date, archive address and URL; repository, collection and shelfmark ("the shelfmark is the run
//! of segments after the last segment without a digit"); translator and funder; language names
//! to BCP 47 tags; sender and addressees from titles like "Letter from X to Y". Pure functions on
//! strings; it must not build XML.

use std::sync::LazyLock;

use regex::Regex;

use crate::register::{EntityKind, Register};

/// A citation split into its parts; every character of the input is in exactly one part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Citation {
    /// Text before the quoted title (usually empty) and the quote mark.
    pub lead: String,
    pub title: Option<String>,
    /// The text between the title and the archive address (closing quote, date, commas).
    pub middle: String,
    /// The archive address ("Wilson Center Digital Archive, Arhiv Jugoslavije, ... 119/I-51").
    pub address: Option<String>,
    /// The rest: credits sentences and the URL, as (text, is_url) runs.
    pub rest: Vec<(String, bool)>,
}

/// Repository, collection and shelfmark from an archive address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shelf {
    pub repository: Option<String>,
    pub collections: Vec<String>,
    pub shelfmark: Option<String>,
}

static URL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s<>"]+[^\s<>".,;:)]"#).ok());

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "No", "no", "Nr", "vol", "Vol", "p", "pp", "f", "ff", "fol", "fols", "ed", "eds", "Ed", "St",
    "Dr", "Mr", "Mrs", "op", "cit", "ibid", "Ibid", "cf", "doc", "Doc", "d", "l", "ll", "r", "v",
    "inv", "fond", "op", "sv", "br", "Br", "str", "Str", "ca", "c", "nos", "Nos",
];

/// Byte offset just past the first sentence end (". " or final "."), skipping abbreviations
/// and initials.
pub fn first_sentence_end(s: &str) -> usize {
    let bytes: Vec<(usize, char)> = s.char_indices().collect();
    for (k, &(i, c)) in bytes.iter().enumerate() {
        if c != '.' {
            continue;
        }
        let next = bytes.get(k + 1).map(|&(_, c)| c);
        if next.is_some_and(|n| !n.is_whitespace()) {
            continue;
        }
        let word_start = s
            .get(..i)
            .unwrap_or("")
            .rfind(|c: char| c.is_whitespace() || c == ',' || c == '(')
            .map(|p| p + 1)
            .unwrap_or(0);
        let word = s.get(word_start..i).unwrap_or("");
        if ABBREVIATIONS.contains(&word)
            || (word.chars().count() == 1 && word.chars().all(char::is_uppercase))
        {
            continue;
        }
        return i + 1;
    }
    s.len()
}

/// Splits a citation like `"Title", September 23, 1954, Archive, Repository, Collection, 1 / 2.
/// Obtained and translated by X. https://...` into its parts.
pub fn parse_citation(text: &str) -> Citation {
    let mut c = Citation::default();
    let mut rest = text;
    // Quoted title.
    let quotes = [('"', '"'), ('“', '”'), ('„', '“'), ('«', '»')];
    for (open, close) in quotes {
        if let Some(after) = rest.strip_prefix(open)
            && let Some(end) = after.find(close)
        {
            c.lead = open.to_string();
            c.title = after.get(..end).map(str::to_string);
            rest = after.get(end..).unwrap_or("");
            break;
        }
    }
    // After the title: closing quote, date and commas, up to the archive address.
    let sentence_end = first_sentence_end(rest);
    let first = rest.get(..sentence_end).unwrap_or(rest);
    let after_first = rest.get(sentence_end..).unwrap_or("");
    // The address starts after the last date-like segment: find the first segment (split on ", ")
    // that has no digit and follows the date.
    let (middle, address) = split_address(first, c.title.is_some());
    c.middle = middle;
    c.address = address;
    // The rest, with URLs marked.
    let mut pos = 0;
    if let Some(re) = URL.as_ref() {
        for m in re.find_iter(after_first) {
            if let Some(t) = after_first.get(pos..m.start())
                && !t.is_empty()
            {
                c.rest.push((t.to_string(), false));
            }
            c.rest.push((m.as_str().to_string(), true));
            pos = m.end();
        }
    }
    if let Some(t) = after_first.get(pos..)
        && !t.is_empty()
    {
        c.rest.push((t.to_string(), false));
    }
    c
}

/// In `", September 23, 1954, Archive, Repo, 1 / 2."` finds where the archive address starts:
/// after the closing quote and a leading date (month name, day, year), at the first segment
/// that starts with a capital letter and is not part of the date.
fn split_address(s: &str, after_title: bool) -> (String, Option<String>) {
    if !after_title {
        let addr = s.trim();
        return if addr.is_empty() {
            (String::new(), None)
        } else {
            let lead_len = s.len() - s.trim_start().len();
            (
                s.get(..lead_len).unwrap_or("").to_string(),
                Some(s.trim_start().to_string()),
            )
        };
    }
    // Walk segments separated by commas; skip those that are part of the date.
    let mut offset = 0;
    for seg in s.split(',') {
        let t = seg.trim();
        let start = offset;
        offset += seg.len() + 1;
        let is_date_part = t.is_empty()
            || t.starts_with(['"', '”', '“', '»'])
            || t.chars().all(|c| c.is_ascii_digit() || c.is_whitespace())
            || is_month_day(t);
        if !is_date_part {
            let lead = s.get(..start).unwrap_or("");
            let ws = seg.len() - seg.trim_start().len();
            let lead_full = format!("{lead}{}", seg.get(..ws).unwrap_or(""));
            let addr = s.get(start + ws..).unwrap_or("").to_string();
            return (lead_full, Some(addr));
        }
    }
    (s.to_string(), None)
}

/// English month names, as dates in citations and prose write them.
pub const MONTHS: &[&str] = &crate::calendar::MONTH_NAMES;

fn is_month_day(t: &str) -> bool {
    let mut words = t.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let month_first = MONTHS.contains(&first);
    let day_first = first.chars().all(|c| c.is_ascii_digit())
        && words.clone().next().is_some_and(|w| MONTHS.contains(&w));
    (month_first || day_first)
        && words.all(|w| w.chars().all(|c| c.is_ascii_digit()) || MONTHS.contains(&w))
}

/// Repository, collections and shelfmark of an archive address (without its final full stop).
/// The segments are split on commas; the shelfmark is the run of segments after the last
/// segment without a digit; of the segments without a digit, a leading "... Digital Archive" is
/// the publisher of the copy, the next is the repository, the rest are collections.
pub fn parse_shelf(address: &str) -> Shelf {
    let a = address.trim().trim_end_matches('.');
    let segs: Vec<&str> = a
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let last_plain = segs
        .iter()
        .rposition(|s| !s.chars().any(|c| c.is_ascii_digit()));
    let mut shelf = Shelf::default();
    let (names, marks): (&[&str], &[&str]) = match last_plain {
        Some(i) => (
            segs.get(..=i).unwrap_or(&[]),
            segs.get(i + 1..).unwrap_or(&[]),
        ),
        None => (&[], segs.as_slice()),
    };
    if !marks.is_empty() {
        shelf.shelfmark = Some(marks.join(", "));
    }
    let mut names: Vec<&str> = names.to_vec();
    if names.len() > 1 && names.first().is_some_and(|n| n.contains("Digital Archive")) {
        names.remove(0);
    }
    let mut it = names.into_iter();
    shelf.repository = it.next().map(str::to_string);
    shelf.collections = it.map(str::to_string).collect();
    shelf
}

/// A responsibility sentence like "Obtained and translated for CWIHP by Svetozar Rajak." as
/// (what, who).
pub fn find_translator(text: &str) -> Option<(String, String)> {
    static RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"((?:[A-Z][a-z]+,? )?(?:[a-z]+,? )*?(?:and )?(?:[Tt]ranslated|[Tt]ranscribed)(?: [a-zA-Z]+)*?) by ((?:[A-Z][\w'’.-]*\.?)(?: [A-Z][\w'’.-]*\.?){0,4})").ok()
    });
    let c = RE.as_ref()?.captures(text)?;
    let what = c.get(1)?.as_str().trim().to_string();
    let who = c.get(2)?.as_str().trim_end_matches('.').to_string();
    Some((what, who))
}

/// The funder in a credits sentence ("... with support from Leon Levy Foundation").
pub fn find_funder(text: &str) -> Option<String> {
    static RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?:support|funding|grant|courtesy)(?: of| from| by)(?: the)? ([A-Z][^.;]*)")
            .ok()
    });
    let c = RE.as_ref()?.captures(text)?;
    Some(c.get(1)?.as_str().trim().trim_end_matches('.').to_string())
}

/// A BCP 47 tag for a language name (the common languages of archival documents); `None` when
/// the name is not known.
pub fn language_tag(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase();
    let tag = match n.as_str() {
        "english" => "en",
        "russian" => "ru",
        "german" => "de",
        "french" => "fr",
        "serbo-croatian" | "serbo-croat" | "serbocroatian" => "hbs",
        "serbian" => "sr",
        "croatian" => "hr",
        "slovenian" | "slovene" => "sl",
        "macedonian" => "mk",
        "bulgarian" => "bg",
        "polish" => "pl",
        "czech" => "cs",
        "slovak" => "sk",
        "hungarian" => "hu",
        "romanian" => "ro",
        "albanian" => "sq",
        "greek" => "el",
        "italian" => "it",
        "spanish" => "es",
        "portuguese" => "pt",
        "dutch" => "nl",
        "swedish" => "sv",
        "norwegian" => "no",
        "danish" => "da",
        "finnish" => "fi",
        "ukrainian" => "uk",
        "belarusian" => "be",
        "lithuanian" => "lt",
        "latvian" => "lv",
        "estonian" => "et",
        "georgian" => "ka",
        "armenian" => "hy",
        "turkish" => "tr",
        "persian" | "farsi" => "fa",
        "arabic" => "ar",
        "hebrew" => "he",
        "hindi" => "hi",
        "urdu" => "ur",
        "chinese" => "zh",
        "mandarin" => "cmn",
        "japanese" => "ja",
        "korean" => "ko",
        "vietnamese" => "vi",
        "mongolian" => "mn",
        "indonesian" => "id",
        "thai" => "th",
        "khmer" => "km",
        "lao" => "lo",
        "swahili" => "sw",
        "amharic" => "am",
        "latin" => "la",
        _ => return None,
    };
    Some(tag)
}

/// Correspondence from a title like "Letter from X to Y" or "Cable from X to Y".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correspondence {
    /// "letter", "cable", "telegram", ...
    pub kind: String,
    pub senders: Vec<Party>,
    pub addressees: Vec<Party>,
}

/// A correspondent as named in the title, with the register entry found in the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub text: String,
    pub entry: Option<(EntityKind, String)>,
}

/// The kind of document a title names ("letter", "cable", "memorandum", ...), lower case.
pub fn document_kind(title: &str) -> Option<String> {
    let first = title
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())?
        .to_lowercase();
    let known = [
        "letter",
        "cable",
        "telegram",
        "note",
        "message",
        "memorandum",
        "minutes",
        "record",
        "report",
        "transcript",
        "speech",
        "diary",
        "memo",
        "resolution",
        "instructions",
        "decree",
    ];
    known.contains(&first.as_str()).then_some(first)
}

/// Reads sender and addressees from a letter or cable title.
pub fn correspondence(title: &str, register: &Register) -> Option<Correspondence> {
    let kind = document_kind(title)?;
    if !["letter", "cable", "telegram", "note", "message"].contains(&kind.as_str()) {
        return None;
    }
    static RE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^\S+(?: [a-z]+)*?(?:,| from)\s+(.+?),? to\s+(.+)$").ok());
    let c = RE.as_ref()?.captures(title.trim())?;
    let from = c.get(1)?.as_str();
    let to = c.get(2)?.as_str();
    Some(Correspondence {
        kind,
        senders: parties(from, register),
        addressees: parties(to, register),
    })
}

fn parties(s: &str, register: &Register) -> Vec<Party> {
    s.split(" and ")
        .map(|p| p.trim().trim_start_matches("the ").trim())
        .filter(|p| !p.is_empty())
        .map(|p| party(p, register))
        .collect()
}

fn party(p: &str, register: &Register) -> Party {
    // Case-insensitive (titles capitalise freely: "League Of Communists"); the name that comes
    // first in the phrase is its head ("Nikita Khrushchev, First Secretary of the ... Party"),
    // the longest form at that position wins.
    let lower = p.to_lowercase();
    let mut best: Option<(usize, usize, &crate::register::Entry)> = None;
    for e in &register.entries {
        for f in &e.forms {
            let fl = f.to_lowercase();
            let Some(pos) = find_word(&lower, &fl) else {
                continue;
            };
            let better = match best {
                None => true,
                Some((bp, bl, _)) => pos < bp || (pos == bp && fl.len() > bl),
            };
            if better {
                best = Some((pos, fl.len(), e));
            }
        }
    }
    match best {
        Some((_, _, e)) => {
            // A person is named by the words before any comma ("Nikita Khrushchev, First
            // Secretary ..."); an organisation by the whole phrase.
            let text = if e.kind == EntityKind::Person {
                p.split(',').next().unwrap_or(p).trim().to_string()
            } else {
                p.to_string()
            };
            Party {
                text,
                entry: Some((e.kind, e.id.clone())),
            }
        }
        None => Party {
            text: p.split(',').next().unwrap_or(p).trim().to_string(),
            entry: None,
        },
    }
}

/// Byte offset of the first occurrence of `needle` in `hay` at word boundaries.
fn find_word(hay: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let mut start = 0;
    while let Some(i) = hay.get(start..).and_then(|h| h.find(needle)) {
        let s = start + i;
        let e = s + needle.len();
        let before_ok = hay
            .get(..s)
            .and_then(|b| b.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = hay
            .get(e..)
            .and_then(|a| a.chars().next())
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return Some(s);
        }
        start = s + needle.len().max(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CITATION: &str = "\"Letter from Nikita Khrushchev to Tito\", September 23, 1954, Wilson Center Digital Archive, Arhiv Jugoslavije, Arhiv CK SKJ, 507 / IX, 119/I-51. Obtained and translated for CWIHP by Svetozar Rajak. https://example.org/document/112971";

    #[test]
    fn citation_parts_keep_every_character() {
        let c = parse_citation(CITATION);
        assert_eq!(
            c.title.as_deref(),
            Some("Letter from Nikita Khrushchev to Tito")
        );
        assert_eq!(c.middle, "\", September 23, 1954, ");
        assert_eq!(
            c.address.as_deref(),
            Some(
                "Wilson Center Digital Archive, Arhiv Jugoslavije, Arhiv CK SKJ, 507 / IX, 119/I-51."
            )
        );
        let rebuilt = format!(
            "{}{}{}{}{}",
            c.lead,
            c.title.clone().unwrap_or_default(),
            c.middle,
            c.address.clone().unwrap_or_default(),
            c.rest.iter().map(|(t, _)| t.as_str()).collect::<String>()
        );
        assert_eq!(rebuilt, CITATION);
        assert_eq!(
            c.rest.last(),
            Some(&("https://example.org/document/112971".to_string(), true))
        );
    }

    #[test]
    fn shelfmark_is_the_run_after_the_last_segment_without_a_digit() {
        let s = parse_shelf(
            "Wilson Center Digital Archive, Arhiv Jugoslavije, Arhiv CK SKJ, 507 / IX, 119/I-51.",
        );
        assert_eq!(s.repository.as_deref(), Some("Arhiv Jugoslavije"));
        assert_eq!(s.collections, ["Arhiv CK SKJ"]);
        assert_eq!(s.shelfmark.as_deref(), Some("507 / IX, 119/I-51"));
        let s = parse_shelf("BArch, B 136/59748, 376-385.");
        assert_eq!(s.repository.as_deref(), Some("BArch"));
        assert_eq!(s.shelfmark.as_deref(), Some("B 136/59748, 376-385"));
    }

    #[test]
    fn sentence_end_skips_abbreviations() {
        let s = "Nehru Memorial Museum and Library, File No. JNSG, vol. 21-1. Next.";
        assert_eq!(
            &s[..first_sentence_end(s)],
            "Nehru Memorial Museum and Library, File No. JNSG, vol. 21-1."
        );
    }

    #[test]
    fn translator_and_funder() {
        assert_eq!(
            find_translator(CITATION),
            Some((
                "Obtained and translated for CWIHP".into(),
                "Svetozar Rajak".into()
            ))
        );
        assert_eq!(
            find_translator(
                "BArch, 1. Contributed, transcribed, and translated by Stephan Kieninger."
            ),
            Some((
                "Contributed, transcribed, and translated".into(),
                "Stephan Kieninger".into()
            ))
        );
        assert_eq!(
            find_funder("This document was made possible with support from Leon Levy Foundation")
                .as_deref(),
            Some("Leon Levy Foundation")
        );
    }

    #[test]
    fn correspondents_from_titles() {
        let r = Register::default();
        let c = correspondence("Letter, Jawaharlal Nehru to All Provincial Premiers", &r).unwrap();
        assert_eq!(c.kind, "letter");
        assert_eq!(c.senders[0].text, "Jawaharlal Nehru");
        assert_eq!(c.addressees[0].text, "All Provincial Premiers");
        let c = correspondence("Letter from A, First Secretary, to B and the C", &r).unwrap();
        assert_eq!(c.senders[0].text, "A");
        assert_eq!(c.addressees.len(), 2);
        assert!(correspondence("The Chancellor's Meeting with Yeltsin", &r).is_none());
    }

    #[test]
    fn languages() {
        assert_eq!(language_tag("Serbo-Croatian"), Some("hbs"));
        assert_eq!(language_tag(" English "), Some("en"));
        assert_eq!(language_tag("Klingon"), None);
    }
}
