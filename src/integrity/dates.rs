//! Date values of TEI's datable attributes, as calendar facts.
//!
//! Owns parsing the W3C forms TEI's `teidata.temporal.w3c` admits (XML Schema Part 2, 1.0:
//! §3.2.7 dateTime, §3.2.8 time, §3.2.9 date, §3.2.10 gYearMonth, §3.2.11 gYear, §3.2.12
//! gMonthDay, §3.2.13 gDay, §3.2.14 gMonth; the ISO 8601 calendar forms they profile), checking
//! that a day exists in its month (proleptic Gregorian calendar, ISO 8601 §3.2.1; no 30 February),
//! turning a value into the interval of time it covers so that `@from`/`@to` of different
//! precision compare, and reading full dates written in common English forms ("23 September
//! 1954", "September 23, 1954", "1st April, 1949"). Pure functions only: no diagnostics here, no
//! I/O, no knowledge of elements.

use crate::calendar::MONTH_NAMES as MONTHS;

/// A point in time to day-and-second precision; ordered chronologically (time zones ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub second: u32,
}

/// A parsed value: its components (absent ones `None`) and the interval it covers, if it is
/// anchored in a year (`gMonth`, `gDay`, `gMonthDay` and `time` are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateValue {
    pub year: Option<i64>,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub interval: Option<(Instant, Instant)>,
}

/// Days in a month (ISO 8601 §3.2.1, Gregorian calendar); 0 for an impossible month. Years are
/// XSD 1.0 years, which have no year 0 (-0001 is 1 BCE, a leap year), hence the shift.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    let astronomical = if year < 0 { year + 1 } else { year };
    crate::calendar::days_in_month(astronomical, month)
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// `-?YYYY+` (XSD 1.0 §3.2.7.1: at least four digits, no leading zero beyond four, not 0000).
fn year(s: &str) -> Result<i64, String> {
    let (neg, d) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if d.len() < 4 || !d.bytes().all(|b| b.is_ascii_digit()) || (d.len() > 4 && d.starts_with('0'))
    {
        return Err(format!("'{s}' is not a year (four or more digits)"));
    }
    let y: i64 = d.parse().map_err(|_| format!("year '{s}' is too large"))?;
    if y == 0 {
        return Err("year 0000 does not exist (XML Schema 1.0: 1 BCE is -0001)".into());
    }
    Ok(if neg { -y } else { y })
}

/// Strips a time zone (`Z` or `±hh:mm`, hh ≤ 14) from the end.
fn strip_tz(s: &str) -> Result<&str, String> {
    if let Some(rest) = s.strip_suffix('Z') {
        return Ok(rest);
    }
    if s.len() > 6 {
        let cut = s.len() - 6;
        if let (Some(sign), Some(tz)) = (s.get(cut..cut + 1), s.get(cut + 1..))
            && (sign == "+" || sign == "-")
            && tz.len() == 5
            && tz.as_bytes().get(2) == Some(&b':')
        {
            let h = digits(tz.get(0..2).unwrap_or(""), 2);
            let m = digits(tz.get(3..5).unwrap_or(""), 2);
            return match (h, m) {
                (Some(h), Some(m)) if (h < 14 && m < 60) || (h == 14 && m == 0) => {
                    Ok(s.get(..cut).unwrap_or(""))
                }
                _ => Err(format!(
                    "'{}' is not a time zone",
                    s.get(cut..).unwrap_or("")
                )),
            };
        }
    }
    Ok(s)
}

fn month_day(y: Option<i64>, m: &str, d: Option<&str>) -> Result<(u32, Option<u32>), String> {
    let month = digits(m, 2).ok_or_else(|| format!("'{m}' is not a month (two digits)"))?;
    if !(1..=12).contains(&month) {
        return Err(format!("there is no month {month:02}"));
    }
    let Some(d) = d else { return Ok((month, None)) };
    let day = digits(d, 2).ok_or_else(|| format!("'{d}' is not a day (two digits)"))?;
    // Without a year (gMonthDay), 29 February is allowed.
    let max = days_in_month(y.unwrap_or(2000), month);
    if day == 0 || day > max {
        return Err(match y {
            Some(y) => format!("{} {y} has {max} days, not {day}", month_name(month)),
            None => format!("{} has at most {max} days, not {day}", month_name(month)),
        });
    }
    Ok((month, Some(day)))
}

/// Seconds since midnight of `hh:mm:ss(.s+)?` (XSD 1.0 §3.2.8; 24:00:00 is the end of the day).
fn time(s: &str) -> Result<u32, String> {
    let bad = || format!("'{s}' is not a time (hh:mm:ss)");
    let mut parts = s.splitn(3, ':');
    let h = parts.next().and_then(|p| digits(p, 2)).ok_or_else(bad)?;
    let m = parts.next().and_then(|p| digits(p, 2)).ok_or_else(bad)?;
    let sec_s = parts.next().ok_or_else(bad)?;
    let (whole, frac) = match sec_s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (sec_s, None),
    };
    let sec = digits(whole, 2).ok_or_else(bad)?;
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let frac_zero = frac.is_none_or(|f| f.bytes().all(|b| b == b'0'));
    if h == 24 && m == 0 && sec == 0 && frac_zero {
        return Ok(86_400);
    }
    if h > 23 || m > 59 || sec > 59 {
        return Err(format!("'{s}' is not a time of day"));
    }
    Ok(h * 3600 + m * 60 + sec)
}

fn anchored(y: i64, m: Option<u32>, d: Option<u32>, t: Option<u32>) -> (Instant, Instant) {
    let (m0, m1) = m.map_or((1, 12), |m| (m, m));
    let (d0, d1) = d.map_or((1, days_in_month(y, m1)), |d| (d, d));
    let (s0, s1) = t.map_or((0, 86_400), |t| (t, t));
    (
        Instant {
            year: y,
            month: m0,
            day: d0,
            second: s0,
        },
        Instant {
            year: y,
            month: m1,
            day: d1,
            second: s1,
        },
    )
}

/// Parses a `teidata.temporal.w3c` value; `Err` says why it is not one.
pub fn parse_w3c(value: &str) -> Result<DateValue, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("the value is empty".into());
    }
    let none = DateValue {
        year: None,
        month: None,
        day: None,
        interval: None,
    };
    // gDay ---DD, gMonthDay --MM-DD, gMonth --MM (XSD 1.0 §3.2.12–14).
    if let Some(rest) = v.strip_prefix("---") {
        let d = strip_tz(rest)?;
        let day = digits(d, 2).ok_or_else(|| format!("'{value}' is not a day (---DD)"))?;
        if !(1..=31).contains(&day) {
            return Err(format!("there is no day {day:02}"));
        }
        return Ok(DateValue {
            day: Some(day),
            ..none
        });
    }
    if let Some(rest) = v.strip_prefix("--") {
        let r = strip_tz(rest)?;
        let (m, d) = match r.split_once('-') {
            Some((m, d)) => (m, Some(d)),
            None => (r, None),
        };
        let (month, day) = month_day(None, m, d)?;
        return Ok(DateValue {
            month: Some(month),
            day,
            ..none
        });
    }
    // time: hh:mm:ss
    if v.len() >= 8 && v.as_bytes().get(2) == Some(&b':') {
        time(strip_tz(v)?)?;
        return Ok(none);
    }
    // dateTime, date, gYearMonth, gYear.
    let (date_part, time_part) = match v.split_once('T') {
        Some((d, t)) => (d, Some(strip_tz(t)?)),
        None => (strip_tz(v)?, None),
    };
    let (neg, body) = match date_part.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, date_part),
    };
    let mut fields = body.split('-');
    let y_s = fields.next().unwrap_or("");
    let y = if neg {
        date_part
            .get(..y_s.len() + 1)
            .map_or(Err(String::new()), year)?
    } else {
        year(y_s)?
    };
    let m_s = fields.next();
    let d_s = fields.next();
    if fields.next().is_some() {
        return Err(format!("'{value}' is not a W3C date (YYYY-MM-DD)"));
    }
    if time_part.is_some() && d_s.is_none() {
        return Err(format!(
            "'{value}': a time needs a full date (YYYY-MM-DDThh:mm:ss)"
        ));
    }
    let (month, day) = match m_s {
        Some(m) => {
            let (mo, d) = month_day(Some(y), m, d_s)?;
            (Some(mo), d)
        }
        None => (None, None),
    };
    let t = match time_part {
        Some(t) => Some(time(t)?),
        None => None,
    };
    Ok(DateValue {
        year: Some(y),
        month,
        day,
        interval: Some(anchored(y, month, day, t)),
    })
}

/// Checks a `teidata.temporal.iso` value as far as it is cheap: values in the W3C forms are
/// parsed fully; other ISO 8601 forms (week dates, ordinal dates, intervals, reduced
/// precision) are only checked for an impossible calendar date at their start.
/// `Ok(None)`: not judged.
pub fn parse_iso(value: &str) -> Result<Option<DateValue>, String> {
    if let Ok(v) = parse_w3c(value) {
        return Ok(Some(v));
    }
    let b = value.trim().as_bytes();
    if b.len() >= 10
        && b.iter().take(4).all(u8::is_ascii_digit)
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(5..7)
            .is_some_and(|m| m.iter().all(u8::is_ascii_digit))
        && b.get(8..10)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && !b.get(10).is_some_and(u8::is_ascii_digit)
    {
        let s = value.trim();
        let y = year(s.get(0..4).unwrap_or(""))?;
        month_day(Some(y), s.get(5..7).unwrap_or(""), s.get(8..10))?;
    }
    Ok(None)
}

/// The English name of a month (1–12).
pub fn month_name(m: u32) -> &'static str {
    MONTHS
        .get((m as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("?")
}

fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.');
    if w.len() < 3 {
        return None;
    }
    let lower = w.to_ascii_lowercase();
    for (i, name) in MONTHS.iter().enumerate() {
        let n = name.to_ascii_lowercase();
        // Full name, or an abbreviation of at least three letters ("Sept", "Sep", "Jan.").
        if n == lower || (n.starts_with(&lower) && (word.ends_with('.') || lower.len() <= 4)) {
            return u32::try_from(i + 1).ok();
        }
    }
    None
}

fn day_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches(',');
    let num = w
        .strip_suffix("st")
        .or_else(|| w.strip_suffix("nd"))
        .or_else(|| w.strip_suffix("rd"))
        .or_else(|| w.strip_suffix("th"))
        .unwrap_or(w);
    if num.is_empty() || num.len() > 2 || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse().ok().filter(|d| (1..=31).contains(d))
}

fn year_of(word: &str) -> Option<i64> {
    let w = word.trim_end_matches(['.', ',']);
    if w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit()) {
        w.parse().ok()
    } else {
        None
    }
}

/// Reads a full date written in a common English form: "23 September 1954", "23rd of
/// September, 1954", "September 23, 1954", "Sept. 23 1954", "1st April, 1949" (the whole text,
/// a final full stop allowed). `None` when the text is anything else or not a calendar date.
pub fn parse_english(text: &str) -> Option<(i64, u32, u32)> {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !w.eq_ignore_ascii_case("the") && !w.eq_ignore_ascii_case("of"))
        .collect();
    let [a, b, c] = words.as_slice() else {
        return None;
    };
    let (d, m, y) = if let (Some(d), Some(m)) = (day_of(a), month_of(b.trim_end_matches(','))) {
        (d, m, year_of(c)?)
    } else {
        let m = month_of(a)?;
        (day_of(b)?, m, year_of(c)?)
    };
    (d <= days_in_month(y, m)).then_some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w3c_forms() {
        assert!(parse_w3c("1954-09-23").is_ok());
        assert!(parse_w3c("1954-09").is_ok());
        assert!(parse_w3c("1954").is_ok());
        assert!(parse_w3c("-0044-03-15").is_ok());
        assert!(parse_w3c("1954-09-23T10:00:00Z").is_ok());
        assert!(parse_w3c("1954-09-23+01:00").is_ok());
        assert!(parse_w3c("--09-23").is_ok());
        assert!(parse_w3c("--02-29").is_ok());
        assert!(parse_w3c("---23").is_ok());
        assert!(parse_w3c("--09").is_ok());
        assert!(parse_w3c("10:30:00").is_ok());
        assert!(parse_w3c("2000-02-29").is_ok());
        for bad in [
            "1954-02-30",
            "1900-02-29",
            "1954-13-01",
            "1954-00-10",
            "54-09-23",
            "0000",
            "1954-9-23",
            "23.9.1954",
            "1954-09-23T25:00:00",
            "1954-09-23+15:00",
            "",
            "1954-09-31",
        ] {
            assert!(parse_w3c(bad).is_err(), "{bad}");
        }
        let e = parse_w3c("1954-02-30").err().unwrap_or_default();
        assert_eq!(e, "February 1954 has 28 days, not 30");
    }

    #[test]
    fn intervals_of_mixed_precision() {
        let y = parse_w3c("1954").ok().and_then(|v| v.interval);
        let d = parse_w3c("1954-06-01").ok().and_then(|v| v.interval);
        let (Some(y), Some(d)) = (y, d) else {
            unreachable!()
        };
        assert!(y.0 <= d.1 && d.0 <= y.1);
        let later = parse_w3c("1955-01-01").ok().and_then(|v| v.interval);
        assert!(later.is_some_and(|l| l.0 > y.1));
    }

    #[test]
    fn iso_forms() {
        assert!(matches!(parse_iso("1954-W38"), Ok(None)));
        assert!(matches!(parse_iso("1954-09-23/1954-10-01"), Ok(None)));
        assert!(parse_iso("1954-02-30/1954-03-02").is_err());
        assert!(matches!(parse_iso("1954-09-23"), Ok(Some(_))));
    }

    #[test]
    fn english() {
        assert_eq!(parse_english("23 September 1954"), Some((1954, 9, 23)));
        assert_eq!(parse_english("September 23, 1954"), Some((1954, 9, 23)));
        assert_eq!(parse_english("1st April, 1949"), Some((1949, 4, 1)));
        assert_eq!(parse_english("the 2nd of Sept. 1949."), Some((1949, 9, 2)));
        assert_eq!(parse_english("Sep 2 1949"), Some((1949, 9, 2)));
        assert_eq!(parse_english("11 August"), None);
        assert_eq!(parse_english("30 February 1954"), None);
        assert_eq!(parse_english("May 1954"), None);
        assert_eq!(parse_english("in 1954"), None);
        assert_eq!(parse_english("23 Marching 1954"), None);
    }
}
