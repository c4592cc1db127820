//! Finding dates in English prose and normalising them to ISO 8601.
//!
//! This module owns one job: locating date expressions in the plain text of
//! an archival document ("23 September 1954", "September 23, 1954",
//! "1st April, 1949", "17–19 April 1997", "1948–50", "the 1950s", a bare
//! "1948", a day-month "22 June" whose year comes from the document's own
//! date) and turning each into the normalised values that TEI P5 puts on a
//! `<date>` element: `@when` for a single point, `@from`/`@to` for a range,
//! `@notBefore`/`@notAfter` for a vaguer span such as a decade (TEI
//! Guidelines, 13.3.6 "Dates and Times"). Values are ISO 8601 calendar
//! dates in the forms that XML Schema calls `xsd:date` (`YYYY-MM-DD`),
//! `xsd:gYearMonth` (`YYYY-MM`) and `xsd:gYear` (`YYYY`).
//!
//! It reports where each date is (byte offsets into the input, always on
//! `char` boundaries) and, separately, expressions that look like dates but
//! are not real calendar dates ("30 February 1954").
//!
//! It must not do I/O and must not build or escape XML: the caller decides
//! how to wrap the matched text and writes the attributes itself.
//!
//! Scope and limits: English month names only (capitalised; "May" only as a
//! full word), Gregorian calendar, four-digit years 1000–2099 for anything
//! written in the text; no numeric day/month forms such as `23/09/1954`
//! (ambiguous), no weekday checking, no times of day. A bare four-digit
//! number in range that is really a quantity ("2000 men") is taken as a year.

use regex::{Captures, Regex};
use std::sync::LazyLock;

/// A normalised date value, ready for TEI attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateValue {
    /// `@when`: "1954-09-23", "1954-09" or "1948".
    When(String),
    /// `@from` / `@to`: "1948-1950", "17-19 April 1997".
    Range { from: String, to: String },
    /// `@notBefore` / `@notAfter`: "the 1950s" gives 1950 .. 1959.
    Between {
        not_before: String,
        not_after: String,
    },
}

/// One date found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateMatch {
    /// Byte offset of the first byte of the date; the matched surface text
    /// is `text[start..end]`.
    pub start: usize,
    /// Byte offset just past the date.
    pub end: usize,
    /// The normalised value.
    pub value: DateValue,
    /// True for day-month dates like "22 June" whose year came from
    /// `doc_year` rather than from the text.
    pub year_inferred: bool,
}

/// Something that looks like a date but is not a real one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateProblem {
    /// Byte offset of the start of the offending text.
    pub start: usize,
    /// Byte offset just past the offending text.
    pub end: usize,
    /// Human-readable explanation, e.g. "30 February 1954 is not a calendar date".
    pub message: String,
}

/// Earliest year accepted when written in the text.
const MIN_YEAR: i32 = 1000;
/// Latest year accepted when written in the text.
const MAX_YEAR: i32 = 2099;

const FULL_MONTHS: &str =
    "January|February|March|April|May|June|July|August|September|October|November|December";
/// Abbreviations; "Sept" must come before "Sep". "May" has none.
const ABBR_MONTHS: &str = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec";

/// Words after which a four-digit number is a reference, not a year.
const REFERENCE_WORDS: &[&str] = &[
    "p.", "pp.", "no.", "nos.", "nr.", "vol.", "vols.", "fol.", "fols.", "ff.", "para.", "paras.",
    "§",
];

/// The shapes of date expression recognised, one regex each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// 23 September 1954, 1st April, 1949, 9th of March 1949
    DayMonthYear,
    /// September 23, 1954, March 29th, 1997
    MonthDayYear,
    /// 22 June, 9th of March (year from doc_year)
    DayMonth,
    /// March 29 (year from doc_year)
    MonthDay,
    /// March 1997
    MonthYear,
    /// 17-19 April 1997
    DayRangeMonthYear,
    /// 17-19 April (year from doc_year)
    DayRangeMonth,
    /// April 17-19, 1997
    MonthDayRangeYear,
    /// 1948-1950, 1948–50
    YearRange,
    /// 1950s, 1950's
    Decade,
    /// 1948
    Year,
    /// 1954-09-23 already in ISO form
    Iso,
}

impl Form {
    /// True when the match begins with a numeral and so needs the numeric
    /// left-boundary check (a month-first match starts at `\b`).
    fn starts_with_number(self) -> bool {
        !matches!(
            self,
            Form::MonthDayYear | Form::MonthDay | Form::MonthYear | Form::MonthDayRangeYear
        )
    }

    /// True when the match ends with a numeral and so needs the numeric
    /// right-boundary check.
    fn ends_with_number(self) -> bool {
        !matches!(self, Form::DayMonth | Form::DayRangeMonth)
    }

    /// True for bare numbers where a preceding "p." / "No." rules out a year.
    fn is_bare_number(self) -> bool {
        matches!(self, Form::YearRange | Form::Decade | Form::Year)
    }
}

/// All patterns, compiled once. A pattern that failed to compile is `None`
/// and simply skipped (the tests check that none fail).
static PATTERNS: LazyLock<Vec<(Form, Option<Regex>)>> = LazyLock::new(|| {
    let month = format!(r"(?P<m>(?:{FULL_MONTHS})\b|(?:{ABBR_MONTHS})\b\.?)");
    let day = r"(?P<d>\d{1,2})(?P<ord>st|nd|rd|th)?";
    let day2 = r"(?P<d2>\d{1,2})(?:st|nd|rd|th)?";
    let year = r"(?P<y>\d{4})";
    let dash = r"[-\x{2010}\x{2011}\x{2013}]";
    let of = r"(?P<of>\s+of)?";
    let sources = [
        (
            Form::DayMonthYear,
            format!(r"{day}{of}\s+{month},?\s+{year}"),
        ),
        (Form::MonthDayYear, format!(r"\b{month}\s+{day},?\s+{year}")),
        (Form::DayMonth, format!(r"{day}{of}\s+{month}")),
        (Form::MonthDay, format!(r"\b{month}\s+{day}")),
        (Form::MonthYear, format!(r"\b{month},?\s+{year}")),
        (
            Form::DayRangeMonthYear,
            format!(r"{day}\s*{dash}\s*{day2}\s+{month},?\s+{year}"),
        ),
        (
            Form::DayRangeMonth,
            format!(r"{day}\s*{dash}\s*{day2}\s+{month}"),
        ),
        (
            Form::MonthDayRangeYear,
            format!(r"\b{month}\s+{day}\s*{dash}\s*{day2},?\s+{year}"),
        ),
        (
            Form::YearRange,
            format!(r"{year}\s*{dash}\s*(?P<y2>\d{{4}}|\d{{2}})"),
        ),
        (Form::Decade, r"(?P<y>\d{3}0)['\x{2019}]?s\b".to_string()),
        (Form::Year, year.to_string()),
        (
            Form::Iso,
            r"(?P<y>\d{4})-(?P<mm>\d{2})-(?P<dd>\d{2})".to_string(),
        ),
    ];
    sources
        .into_iter()
        .map(|(form, src)| (form, Regex::new(&src).ok()))
        .collect()
});

/// An optional leading weekday on a date line: "Thursday, September 23, 1954".
static WEEKDAY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tues|Tue|Wed|Thurs|Thur|Thu|Fri|Sat|Sun)\b\.?,?\s+",
    )
    .ok()
});

/// What a candidate span turned out to be.
#[derive(Debug)]
enum Kind {
    Date(DateValue, bool),
    Problem(String),
}

#[derive(Debug)]
struct Candidate {
    start: usize,
    end: usize,
    kind: Kind,
}

/// Find every date in `text`.
///
/// `doc_year` is the year of the document itself (e.g. from its date line);
/// it supplies the year for day-month expressions such as "22 June". Without
/// it such expressions are not matched.
///
/// Matches are non-overlapping and sorted by `start`; where several readings
/// begin at the same place the longest wins. Expressions that are not real
/// calendar dates are not matched but reported as problems.
pub fn find_dates(text: &str, doc_year: Option<i32>) -> (Vec<DateMatch>, Vec<DateProblem>) {
    let doc_year = doc_year.filter(|y| (1..=9999).contains(y));
    let mut candidates: Vec<Candidate> = Vec::new();

    for (form, re) in PATTERNS.iter() {
        let Some(re) = re else { continue };
        let mut pos = 0;
        while pos <= text.len() {
            let Some(caps) = re.captures_at(text, pos) else {
                break;
            };
            let Some(whole) = caps.get(0) else { break };
            let kind = if boundaries_ok(*form, text, whole.start(), whole.end()) {
                interpret(*form, &caps, whole.as_str(), doc_year)
            } else {
                None
            };
            if let Some(kind) = kind {
                candidates.push(Candidate {
                    start: whole.start(),
                    end: whole.end(),
                    kind,
                });
            }
            // Try again from the next character so that every start
            // position is considered, even inside a rejected match.
            let step = text
                .get(whole.start()..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
            pos = whole.start() + step;
        }
    }

    // Earliest first; at the same start the longest; a date before a problem.
    candidates.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(rank(&a.kind).cmp(&rank(&b.kind)))
    });

    let mut matches = Vec::new();
    let mut problems = Vec::new();
    let mut taken_to = 0;
    for cand in candidates {
        if cand.start < taken_to {
            continue;
        }
        taken_to = cand.end;
        match cand.kind {
            Kind::Date(value, year_inferred) => matches.push(DateMatch {
                start: cand.start,
                end: cand.end,
                value,
                year_inferred,
            }),
            Kind::Problem(message) => problems.push(DateProblem {
                start: cand.start,
                end: cand.end,
                message,
            }),
        }
    }
    (matches, problems)
}

/// Parse a string that is, as a whole, one full date: trimmed, with a
/// trailing '.' or ',' allowed (and a leading weekday name). Used for a
/// document's leading date line "September 23, 1954".
///
/// Gives `When("YYYY-MM-DD")`, or `When("YYYY-MM")` / `When("YYYY")` when
/// only those are given; anything else (ranges, decades, day-month without a
/// year, invalid dates, extra words) gives `None`.
pub fn parse_date(s: &str) -> Option<DateValue> {
    let t = s.trim();
    let t = t.strip_suffix(['.', ',']).unwrap_or(t).trim_end();
    let t = match WEEKDAY.as_ref().and_then(|re| re.find(t)) {
        Some(m) => t.get(m.end()..).unwrap_or(t),
        None => t,
    };
    if t.is_empty() {
        return None;
    }
    let (matches, problems) = find_dates(t, None);
    if !problems.is_empty() {
        return None;
    }
    match matches.as_slice() {
        [m] if m.start == 0 && m.end == t.len() && !m.year_inferred => match &m.value {
            DateValue::When(_) => Some(m.value.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// True if `value` is `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (four-digit year
/// 0001–9999) naming a real Gregorian calendar date, leap years included.
pub fn is_valid_iso(value: &str) -> bool {
    let number = |from: usize, to: usize| -> Option<u32> {
        let part = value.get(from..to)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let dash_at = |i: usize| value.as_bytes().get(i) == Some(&b'-');
    let Some(year) = number(0, 4).and_then(|y| i32::try_from(y).ok()) else {
        return false;
    };
    if year < 1 {
        return false;
    }
    match value.len() {
        4 => true,
        7 => dash_at(4) && number(5, 7).is_some_and(|m| (1..=12).contains(&m)),
        10 => {
            if !(dash_at(4) && dash_at(7)) {
                return false;
            }
            match (number(5, 7), number(8, 10)) {
                (Some(m), Some(d)) if (1..=12).contains(&m) => {
                    d >= 1 && d <= days_in_month(Some(year), m)
                }
                _ => false,
            }
        }
        _ => false,
    }
}

fn rank(kind: &Kind) -> u8 {
    match kind {
        Kind::Date(..) => 0,
        Kind::Problem(_) => 1,
    }
}

/// Days in month `m` (1..=12) of `year`; with no year, February has 29
/// (the most it can have). Out-of-range months have 0 days.
fn days_in_month(year: Option<i32>, m: u32) -> u32 {
    // 2000 is a leap year: without a year, every month has its most days.
    crate::calendar::days_in_month(year.map_or(2000, i64::from), m)
}

fn month_number(name: &str) -> Option<u32> {
    let m = match name.trim_end_matches('.') {
        "January" | "Jan" => 1,
        "February" | "Feb" => 2,
        "March" | "Mar" => 3,
        "April" | "Apr" => 4,
        "May" => 5,
        "June" | "Jun" => 6,
        "July" | "Jul" => 7,
        "August" | "Aug" => 8,
        "September" | "Sept" | "Sep" => 9,
        "October" | "Oct" => 10,
        "November" | "Nov" => 11,
        "December" | "Dec" => 12,
        _ => return None,
    };
    Some(m)
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text.get(..at).and_then(|s| s.chars().next_back())
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|s| s.chars().next())
}

/// Punctuation that joins numbers ("1,948", "3.1948", "21-1", "12:30").
fn is_number_joiner(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ':' | '-' | '\u{2010}' | '\u{2011}' | '\u{2013}'
    )
}

/// May a number start at `start`? Not inside a word or longer number, not
/// after '/', a currency sign, or a joiner that follows a digit.
fn number_start_ok(text: &str, start: usize) -> bool {
    let Some(prev) = char_before(text, start) else {
        return true;
    };
    if prev.is_alphanumeric() || matches!(prev, '/' | '$' | '£' | '€' | '#' | '§' | '_') {
        return false;
    }
    if is_number_joiner(prev) {
        let before = start.saturating_sub(prev.len_utf8());
        if char_before(text, before).is_some_and(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    true
}

/// May a number end at `end`? Not followed by a letter or digit, '/', '%',
/// or a joiner followed by a digit.
fn number_end_ok(text: &str, end: usize) -> bool {
    let Some(next) = char_after(text, end) else {
        return true;
    };
    if next.is_alphanumeric() || matches!(next, '/' | '%' | '_' | '\u{2030}') {
        return false;
    }
    if is_number_joiner(next) {
        let after = end + next.len_utf8();
        if char_after(text, after).is_some_and(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    true
}

/// True if the word just before `start` is a reference abbreviation such
/// as "p." or "No.", so that a following number is not a year.
fn after_reference_word(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("").trim_end();
    let word = before.rsplit(char::is_whitespace).next().unwrap_or("");
    let word = word.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '§');
    REFERENCE_WORDS.iter().any(|r| word.eq_ignore_ascii_case(r))
}

fn boundaries_ok(form: Form, text: &str, start: usize, end: usize) -> bool {
    if form.starts_with_number() && !number_start_ok(text, start) {
        return false;
    }
    if form.ends_with_number() && !number_end_ok(text, end) {
        return false;
    }
    if form.is_bare_number() && after_reference_word(text, start) {
        return false;
    }
    // A date does not run across a paragraph break.
    text.get(start..end)
        .is_none_or(|s| s.chars().filter(|&c| c == '\n').count() < 2)
}

fn cap_u32(caps: &Captures<'_>, name: &str) -> Option<u32> {
    caps.name(name)?.as_str().parse().ok()
}

/// A day number; 0 or more than 31 is not a day at all ("34 May" is not
/// reported as a bad date, just not read as one).
fn cap_day(caps: &Captures<'_>, name: &str) -> Option<u32> {
    cap_u32(caps, name).filter(|d| (1..=31).contains(d))
}

/// A four-digit year written in the text, within the accepted range.
fn cap_year(caps: &Captures<'_>, name: &str) -> Option<i32> {
    let y: i32 = caps.name(name)?.as_str().parse().ok()?;
    (MIN_YEAR..=MAX_YEAR).contains(&y).then_some(y)
}

fn cap_month(caps: &Captures<'_>) -> Option<u32> {
    month_number(caps.name("m")?.as_str())
}

/// "9th of March" is a date; "9 of March" is not.
fn of_ok(caps: &Captures<'_>) -> bool {
    caps.name("of").is_none() || caps.name("ord").is_some()
}

fn ymd(y: i32, m: u32, d: u32) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// Collapse whitespace (including line breaks) for use in a message.
fn tidy(surface: &str) -> String {
    surface.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn not_a_date(surface: &str) -> Kind {
    Kind::Problem(format!("{} is not a calendar date", tidy(surface)))
}

/// Turn one regex match into a date or a problem, or nothing.
fn interpret(
    form: Form,
    caps: &Captures<'_>,
    surface: &str,
    doc_year: Option<i32>,
) -> Option<Kind> {
    match form {
        Form::DayMonthYear | Form::MonthDayYear => {
            if !of_ok(caps) {
                return None;
            }
            let (y, m, d) = (cap_year(caps, "y")?, cap_month(caps)?, cap_day(caps, "d")?);
            Some(full_date(surface, y, m, d))
        }
        Form::Iso => {
            let (y, m, d) = (
                cap_year(caps, "y")?,
                cap_u32(caps, "mm")?,
                cap_day(caps, "dd")?,
            );
            if !(1..=12).contains(&m) {
                return Some(not_a_date(surface));
            }
            Some(full_date(surface, y, m, d))
        }
        Form::DayMonth | Form::MonthDay => {
            if !of_ok(caps) {
                return None;
            }
            let (m, d) = (cap_month(caps)?, cap_day(caps, "d")?);
            if d == 0 || d > days_in_month(None, m) {
                return Some(not_a_date(surface));
            }
            let y = doc_year?;
            if d > days_in_month(Some(y), m) {
                return Some(Kind::Problem(format!(
                    "{} is not a calendar date in {y}",
                    tidy(surface)
                )));
            }
            Some(Kind::Date(DateValue::When(ymd(y, m, d)), true))
        }
        Form::MonthYear => {
            let (y, m) = (cap_year(caps, "y")?, cap_month(caps)?);
            Some(Kind::Date(DateValue::When(format!("{y:04}-{m:02}")), false))
        }
        Form::DayRangeMonthYear | Form::MonthDayRangeYear => {
            let y = cap_year(caps, "y")?;
            day_range(caps, surface, y, false)
        }
        Form::DayRangeMonth => {
            let (m, d1, d2) = (cap_month(caps)?, cap_day(caps, "d")?, cap_day(caps, "d2")?);
            let max = days_in_month(None, m);
            if d1 == 0 || d2 == 0 || d1 > max || d2 > max {
                return Some(not_a_date(surface));
            }
            let y = doc_year?;
            day_range(caps, surface, y, true)
        }
        Form::YearRange => {
            let from = cap_year(caps, "y")?;
            let raw = caps.name("y2")?.as_str();
            let n: i32 = raw.parse().ok()?;
            let to = if raw.len() == 2 {
                let to = from - from % 100 + n;
                if to <= from {
                    // "1998-02" is not a range we can read.
                    return None;
                }
                to
            } else {
                n
            };
            if !(MIN_YEAR..=MAX_YEAR).contains(&to) {
                return None;
            }
            if to <= from {
                return Some(Kind::Problem(format!(
                    "{} is not a forward range of years",
                    tidy(surface)
                )));
            }
            Some(Kind::Date(
                DateValue::Range {
                    from: format!("{from:04}"),
                    to: format!("{to:04}"),
                },
                false,
            ))
        }
        Form::Decade => {
            let y = cap_year(caps, "y")?;
            let last = y + 9;
            (last <= MAX_YEAR).then(|| {
                Kind::Date(
                    DateValue::Between {
                        not_before: format!("{y:04}"),
                        not_after: format!("{last:04}"),
                    },
                    false,
                )
            })
        }
        Form::Year => {
            let y = cap_year(caps, "y")?;
            Some(Kind::Date(DateValue::When(format!("{y:04}")), false))
        }
    }
}

fn full_date(surface: &str, y: i32, m: u32, d: u32) -> Kind {
    if d == 0 || d > days_in_month(Some(y), m) {
        not_a_date(surface)
    } else {
        Kind::Date(DateValue::When(ymd(y, m, d)), false)
    }
}

/// Days `d`..`d2` of the captured month in year `y`.
fn day_range(caps: &Captures<'_>, surface: &str, y: i32, inferred: bool) -> Option<Kind> {
    let (m, d1, d2) = (cap_month(caps)?, cap_day(caps, "d")?, cap_day(caps, "d2")?);
    let max = days_in_month(Some(y), m);
    if d1 == 0 || d2 == 0 || d1 > max || d2 > max {
        let message = if inferred {
            format!("{} is not a calendar date range in {y}", tidy(surface))
        } else {
            format!("{} is not a calendar date range", tidy(surface))
        };
        return Some(Kind::Problem(message));
    }
    if d2 <= d1 {
        return Some(Kind::Problem(format!(
            "{} is not a forward range of days",
            tidy(surface)
        )));
    }
    Some(Kind::Date(
        DateValue::Range {
            from: ymd(y, m, d1),
            to: ymd(y, m, d2),
        },
        inferred,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn when(s: &str) -> DateValue {
        DateValue::When(s.to_string())
    }

    fn range(from: &str, to: &str) -> DateValue {
        DateValue::Range {
            from: from.to_string(),
            to: to.to_string(),
        }
    }

    /// Exactly one match and no problems: (surface, value, year_inferred).
    fn one(text: &str, doc_year: Option<i32>) -> (String, DateValue, bool) {
        let (matches, problems) = find_dates(text, doc_year);
        assert!(problems.is_empty(), "unexpected problems {problems:?}");
        assert_eq!(matches.len(), 1, "matches in {text:?}: {matches:?}");
        let m = &matches[0];
        (
            text[m.start..m.end].to_string(),
            m.value.clone(),
            m.year_inferred,
        )
    }

    fn none(text: &str, doc_year: Option<i32>) {
        let (matches, problems) = find_dates(text, doc_year);
        assert_eq!(matches, vec![], "in {text:?}");
        assert_eq!(problems, vec![], "in {text:?}");
    }

    #[test]
    fn all_patterns_compile() {
        assert!(PATTERNS.iter().all(|(_, re)| re.is_some()));
        assert!(WEEKDAY.is_some());
    }

    #[test]
    fn day_month_year() {
        assert_eq!(
            one("Moscow, 23 September 1954", None),
            ("23 September 1954".to_string(), when("1954-09-23"), false)
        );
        assert_eq!(
            one("on 23 September, 1954 we", None),
            ("23 September, 1954".to_string(), when("1954-09-23"), false)
        );
    }

    #[test]
    fn ordinal_day_month_comma_year() {
        let text = "New Delhi, 1st April, 1949.";
        let (matches, problems) = find_dates(text, None);
        assert!(problems.is_empty());
        assert_eq!(
            matches,
            vec![DateMatch {
                start: 11,
                end: 26,
                value: when("1949-04-01"),
                year_inferred: false
            }]
        );
        assert_eq!(&text[11..26], "1st April, 1949");
    }

    #[test]
    fn other_ordinals() {
        assert_eq!(one("2nd May 1950", None).1, when("1950-05-02"));
        assert_eq!(one("3rd June 1950", None).1, when("1950-06-03"));
        assert_eq!(one("the 21st July 1950", None).0, "21st July 1950");
        assert_eq!(one("the 21st July 1950", None).1, when("1950-07-21"));
        assert_eq!(one("9th of March 1949", None).1, when("1949-03-09"));
    }

    #[test]
    fn month_day_year() {
        assert_eq!(
            one("September 23, 1954", None),
            ("September 23, 1954".to_string(), when("1954-09-23"), false)
        );
        assert_eq!(one("September 23 1954", None).1, when("1954-09-23"));
        assert_eq!(
            one("on March 29th, 1997 in", None),
            ("March 29th, 1997".to_string(), when("1997-03-29"), false)
        );
    }

    #[test]
    fn abbreviated_months() {
        assert_eq!(
            one("dated Sept. 23, 1954.", None),
            ("Sept. 23, 1954".to_string(), when("1954-09-23"), false)
        );
        assert_eq!(one("4 Jan 1950", None).1, when("1950-01-04"));
        assert_eq!(one("Dec. 1951", None).1, when("1951-12"));
        assert_eq!(one("5 Sep 1939", None).1, when("1939-09-05"));
        // No abbreviation of May; "Mar" is not inside "Marx".
        none("Marx 12 said", Some(1950));
    }

    #[test]
    fn day_month_inferred_from_doc_year() {
        assert_eq!(
            one(
                "presented in the letter from the CC CPSU of 22 June.",
                Some(1954)
            ),
            ("22 June".to_string(), when("1954-06-22"), true)
        );
    }

    #[test]
    fn day_month_without_doc_year_is_not_matched() {
        none("presented in the letter from the CC CPSU of 22 June.", None);
        none("on March 29 under the title", None);
    }

    #[test]
    fn the_ordinal_day_month() {
        assert_eq!(
            one("sent on the 9th March, later than usual", Some(1949)),
            ("9th March".to_string(), when("1949-03-09"), true)
        );
        assert_eq!(
            one("the 9th of March", Some(1949)),
            ("9th of March".to_string(), when("1949-03-09"), true)
        );
    }

    #[test]
    fn month_day_inferred() {
        assert_eq!(
            one("on March 29 under the title", Some(1997)),
            ("March 29".to_string(), when("1997-03-29"), true)
        );
    }

    #[test]
    fn month_year() {
        assert_eq!(
            one("in March 1997 the", None),
            ("March 1997".to_string(), when("1997-03"), false)
        );
        assert_eq!(one("November 1954", Some(1960)).1, when("1954-11"));
    }

    #[test]
    fn day_ranges() {
        assert_eq!(
            one("held 17-19 April 1997 in", None),
            (
                "17-19 April 1997".to_string(),
                range("1997-04-17", "1997-04-19"),
                false
            )
        );
        assert_eq!(
            one("held 17–19 April 1997 in", None),
            (
                "17–19 April 1997".to_string(),
                range("1997-04-17", "1997-04-19"),
                false
            )
        );
        assert_eq!(
            one("April 17-19, 1997", None).1,
            range("1997-04-17", "1997-04-19")
        );
        assert_eq!(
            one("on 17–19 April", Some(1997)),
            (
                "17–19 April".to_string(),
                range("1997-04-17", "1997-04-19"),
                true
            )
        );
    }

    #[test]
    fn year_ranges() {
        assert_eq!(
            one("from 1948-1950 on", None),
            ("1948-1950".to_string(), range("1948", "1950"), false)
        );
        assert_eq!(one("1948–1950", None).1, range("1948", "1950"));
        assert_eq!(
            one("in 1948–50,", None),
            ("1948–50".to_string(), range("1948", "1950"), false)
        );
        // Backwards ranges are problems, not dates.
        let (matches, problems) = find_dates("1950-1948", None);
        assert!(matches.is_empty());
        assert_eq!(
            problems,
            vec![DateProblem {
                start: 0,
                end: 9,
                message: "1950-1948 is not a forward range of years".to_string()
            }]
        );
    }

    #[test]
    fn bare_years() {
        assert_eq!(
            one("the break-up in 1948, we too", None),
            ("1948".to_string(), when("1948"), false)
        );
        assert_eq!(one("in 1948.", None).0, "1948");
        assert_eq!(one("(1000)", None).1, when("1000"));
        assert_eq!(one("2099", None).1, when("2099"));
        none("0999 2100", None);
    }

    #[test]
    fn two_bare_years() {
        let text = "about the end of 1950 or perhaps early in 1951";
        let (matches, problems) = find_dates(text, None);
        assert!(problems.is_empty());
        assert_eq!(
            matches,
            vec![
                DateMatch {
                    start: 17,
                    end: 21,
                    value: when("1950"),
                    year_inferred: false
                },
                DateMatch {
                    start: 42,
                    end: 46,
                    value: when("1951"),
                    year_inferred: false
                },
            ]
        );
    }

    #[test]
    fn decades() {
        let between = DateValue::Between {
            not_before: "1950".to_string(),
            not_after: "1959".to_string(),
        };
        assert_eq!(
            one("in the 1950s there", None),
            ("1950s".to_string(), between.clone(), false)
        );
        assert_eq!(one("1950s", None).1, between);
        assert_eq!(one("the 1950’s", None).0, "1950’s");
    }

    #[test]
    fn numbers_that_are_not_years() {
        none("B 136/59748, 376-385", None);
        none("S 30 (3000?)", None);
        none("rose by 12%", None);
        none("rose by 1950%", None);
        none("vol. 21-1", None);
        none("F.N.33.", None);
        none("1,948 men and 3.1948 and 1948.5", None);
        none("cost $1950 or 1950/51", None);
        none("see p. 1948 and pp. 1950-1955, No. 1949", None);
        none("code A1948 and 19480", None);
    }

    #[test]
    fn may_only_as_a_month_with_numbers() {
        none("May I say", Some(1954));
        none("we may 15 times", Some(1954));
        assert_eq!(
            one("Paris on 27 May 1997", None),
            ("27 May 1997".to_string(), when("1997-05-27"), false)
        );
    }

    #[test]
    fn month_without_day_or_year_is_not_matched() {
        none("by the end of May / beginning of June", Some(1954));
    }

    #[test]
    fn invalid_dates_give_problems() {
        let (matches, problems) = find_dates("on 30 February 1954 we", None);
        assert!(matches.is_empty());
        assert_eq!(
            problems,
            vec![DateProblem {
                start: 3,
                end: 19,
                message: "30 February 1954 is not a calendar date".to_string()
            }]
        );
        let (matches, problems) = find_dates("on 31 April", Some(1954));
        assert!(matches.is_empty());
        assert_eq!(
            problems,
            vec![DateProblem {
                start: 3,
                end: 11,
                message: "31 April is not a calendar date".to_string()
            }]
        );
        // Impossible in any year: reported even without doc_year.
        let (matches, problems) = find_dates("31 April", None);
        assert!(matches.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message, "31 April is not a calendar date");
    }

    #[test]
    fn impossible_day_numbers_are_not_dates() {
        none("12 34 May and 0 June and 00 July", Some(1950));
        let (matches, _) = find_dates("00 July 1950", None);
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].value, when("1950-07"));
    }

    #[test]
    fn leap_years() {
        assert_eq!(one("29 February 1952", None).1, when("1952-02-29"));
        let (matches, problems) = find_dates("29 February 1953", None);
        assert!(matches.is_empty());
        assert_eq!(
            problems[0].message,
            "29 February 1953 is not a calendar date"
        );
        assert_eq!(one("29 February 2000", None).1, when("2000-02-29"));
        assert!(find_dates("29 February 1900", None).0.is_empty());
        // With the year inferred.
        assert_eq!(
            one("on 29 February", Some(1952)),
            ("29 February".to_string(), when("1952-02-29"), true)
        );
        let (matches, problems) = find_dates("on 29 February", Some(1953));
        assert!(matches.is_empty());
        assert_eq!(
            problems[0].message,
            "29 February is not a calendar date in 1953"
        );
        // Without a doc year 29 February may be fine: no match, no problem.
        none("on 29 February", None);
    }

    #[test]
    fn invalid_day_range() {
        let (matches, problems) = find_dates("30-31 February 1954", None);
        assert!(matches.is_empty());
        assert_eq!(
            problems[0].message,
            "30-31 February 1954 is not a calendar date range"
        );
        let (matches, problems) = find_dates("19-17 April 1997", None);
        assert!(matches.is_empty());
        assert_eq!(
            problems[0].message,
            "19-17 April 1997 is not a forward range of days"
        );
    }

    #[test]
    fn iso_dates_in_text() {
        assert_eq!(one("on 1954-09-23.", None).1, when("1954-09-23"));
        assert_eq!(
            find_dates("1954-02-30", None).1[0].message,
            "1954-02-30 is not a calendar date"
        );
    }

    #[test]
    fn non_ascii_offsets_are_char_boundaries() {
        let text = "“Moscow,” he wrote – on 23 September 1954 – ’twas 1948–50.";
        let (matches, problems) = find_dates(text, None);
        assert!(problems.is_empty());
        assert_eq!(matches.len(), 2);
        for m in &matches {
            assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
        }
        assert_eq!(&text[matches[0].start..matches[0].end], "23 September 1954");
        assert_eq!(&text[matches[1].start..matches[1].end], "1948–50");
        assert_eq!(matches[1].value, range("1948", "1950"));
    }

    #[test]
    fn several_dates_sorted_and_non_overlapping() {
        let text = "Between 1948 and 22 June, and on March 29, 1997; the 1960s.";
        let (matches, problems) = find_dates(text, Some(1954));
        assert!(problems.is_empty());
        let got: Vec<(&str, DateValue, bool)> = matches
            .iter()
            .map(|m| (&text[m.start..m.end], m.value.clone(), m.year_inferred))
            .collect();
        assert_eq!(
            got,
            vec![
                ("1948", when("1948"), false),
                ("22 June", when("1954-06-22"), true),
                ("March 29, 1997", when("1997-03-29"), false),
                (
                    "1960s",
                    DateValue::Between {
                        not_before: "1960".to_string(),
                        not_after: "1969".to_string()
                    },
                    false
                ),
            ]
        );
    }

    #[test]
    fn not_inside_words_or_numbers() {
        none("Junk 12 and 123 June1954", Some(1954));
        none("X23 September", Some(1954));
    }

    #[test]
    fn dates_do_not_cross_paragraphs() {
        assert_eq!(one("23 September\n1954", None).1, when("1954-09-23"));
        assert_eq!(
            one("23 September\n\n1954", None),
            ("1954".to_string(), when("1954"), false)
        );
    }

    #[test]
    fn parse_date_lines() {
        assert_eq!(parse_date("September 23, 1954"), Some(when("1954-09-23")));
        assert_eq!(
            parse_date("  23 September 1954. "),
            Some(when("1954-09-23"))
        );
        assert_eq!(parse_date("1st April, 1949,"), Some(when("1949-04-01")));
        assert_eq!(
            parse_date("Thursday, September 23, 1954"),
            Some(when("1954-09-23"))
        );
        assert_eq!(parse_date("November 1954"), Some(when("1954-11")));
        assert_eq!(parse_date("1948"), Some(when("1948")));
        assert_eq!(parse_date("Moscow, 23 September 1954"), None);
        assert_eq!(parse_date("22 June"), None);
        assert_eq!(parse_date("30 February 1954"), None);
        assert_eq!(parse_date("1948-1950"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("."), None);
    }

    #[test]
    fn iso_validation() {
        assert!(is_valid_iso("1954"));
        assert!(is_valid_iso("1954-09"));
        assert!(is_valid_iso("1954-09-23"));
        assert!(is_valid_iso("1952-02-29"));
        assert!(is_valid_iso("2000-02-29"));
        assert!(!is_valid_iso("1953-02-29"));
        assert!(!is_valid_iso("1900-02-29"));
        assert!(!is_valid_iso("1954-04-31"));
        assert!(!is_valid_iso("1954-13"));
        assert!(!is_valid_iso("1954-00-10"));
        assert!(!is_valid_iso("1954-01-00"));
        assert!(!is_valid_iso("0000"));
        assert!(!is_valid_iso("954"));
        assert!(!is_valid_iso("1954-9-23"));
        assert!(!is_valid_iso("1954/09/23"));
        assert!(!is_valid_iso("+954"));
        assert!(!is_valid_iso("1954-09-2x"));
        assert!(!is_valid_iso("19é4"));
        assert!(!is_valid_iso(""));
    }

    #[test]
    fn every_match_value_is_valid_iso() {
        let text = "23 September 1954, March 1997, 17-19 April 1997, 1948-50, \
                    the 1950s, 22 June, 29 February 1952";
        let (matches, _) = find_dates(text, Some(1954));
        assert_eq!(matches.len(), 7);
        for m in matches {
            match m.value {
                DateValue::When(v) => assert!(is_valid_iso(&v)),
                DateValue::Range { from, to } => {
                    assert!(is_valid_iso(&from) && is_valid_iso(&to) && from < to);
                }
                DateValue::Between {
                    not_before,
                    not_after,
                } => assert!(is_valid_iso(&not_before) && is_valid_iso(&not_after)),
            }
        }
    }
}
