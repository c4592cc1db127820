//! The proleptic Gregorian calendar: leap years, month lengths, and days since 1970-01-01.
//!
//! Owns the calendar arithmetic every layer needs (XML Schema date datatypes, Schematron date
//! functions, the converter's and integrity's date checks, the CLI's reproducible clock), so
//! that it exists once. Years are astronomical (year 0 exists, -1 is 2 BCE); a caller with
//! another convention (XSD 1.0 has no year 0) converts before calling. Pure functions: no I/O,
//! no parsing, nothing about any document format. Algorithms are H. Hinnant's "civil" day
//! conversions (a published fact, reimplemented).

/// The English month names, January first (what dates in English prose and citations use).
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Whether `year` is a leap year in the proleptic Gregorian calendar.
pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1..=12) of `year`; 0 for a month outside 1..=12.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of the date `y`-`m`-`d` (negative before it).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) `z` days after 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_years_and_month_lengths() {
        assert!(is_leap(2000) && is_leap(1952) && is_leap(0) && is_leap(-4));
        assert!(!is_leap(1900) && !is_leap(1953) && !is_leap(-1));
        assert_eq!(days_in_month(1952, 2), 29);
        assert_eq!(days_in_month(1954, 2), 28);
        assert_eq!(days_in_month(1954, 9), 30);
        assert_eq!(days_in_month(1954, 13), 0);
        assert_eq!(days_in_month(1954, 0), 0);
    }

    #[test]
    fn civil_days_both_ways() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        for z in [-1_000_000, -719_468, -1, 0, 59, 60, 11_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
