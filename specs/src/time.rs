//! Calendar dates and UTC timestamps (ISM-1 §4.8).

use crate::json::ism_string;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// A calendar date `YYYY-MM-DD` (ISO 8601), years 0001 to 9999.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Date {
    text: String,
    days_since_epoch: i64,
}

/// An instant in UTC written `YYYY-MM-DDThh:mm:ss[.f…]Z` (RFC 3339 with `Z`,
/// upper-case `T` and `Z`, 1 to 9 fraction digits, no leap second).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    unix_nanos: i128,
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Reads exactly `len` ASCII digits at `at` as a number.
fn digits(bytes: &[u8], at: usize, len: usize) -> Option<i64> {
    let slice = bytes.get(at..at + len)?;
    slice.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Parses `YYYY-MM-DD` at the start of `bytes` into days since the epoch.
fn parse_date_part(bytes: &[u8]) -> Option<i64> {
    let year = digits(bytes, 0, 4)?;
    let month = digits(bytes, 5, 2)?;
    let day = digits(bytes, 8, 2)?;
    let separators = bytes.get(4) == Some(&b'-') && bytes.get(7) == Some(&b'-');
    let valid = separators
        && year >= 1
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month);
    valid.then(|| days_from_civil(year, month, day))
}

impl Date {
    /// Parses a real calendar date of the form `YYYY-MM-DD` (ISM-1 §4.8).
    pub fn parse(text: &str) -> Result<Date, Rejection> {
        let bytes = text.as_bytes();
        match (bytes.len() == 10)
            .then(|| parse_date_part(bytes))
            .flatten()
        {
            Some(days_since_epoch) => Ok(Date {
                text: text.to_string(),
                days_since_epoch,
            }),
            None => Err(Rejection::new(
                ReasonCode::DateInvalid,
                format!(
                    "{text} is not a real calendar date of the form YYYY-MM-DD",
                    text = quoted(text)
                ),
            )),
        }
    }

    /// Days since 1970-01-01, for ordering and arithmetic.
    pub fn days_since_epoch(&self) -> i64 {
        self.days_since_epoch
    }
}

impl PartialOrd for Date {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Date {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.days_since_epoch.cmp(&other.days_since_epoch)
    }
}

impl Timestamp {
    /// Parses an RFC 3339 UTC timestamp of the ISM/1 form (ISM-1 §4.8).
    pub fn parse(text: &str) -> Result<Timestamp, Rejection> {
        Timestamp::parse_nanos(text)
            .map(|unix_nanos| Timestamp { text: text.to_string(), unix_nanos })
            .ok_or_else(|| {
                Rejection::new(
                    ReasonCode::TimestampInvalid,
                    format!("{text} is not a UTC timestamp of the form YYYY-MM-DDThh:mm:ssZ or YYYY-MM-DDThh:mm:ss.fffZ naming a real instant", text = quoted(text)),
                )
            })
    }

    fn parse_nanos(text: &str) -> Option<i128> {
        let bytes = text.as_bytes();
        let days = parse_date_part(bytes)?;
        let hour = digits(bytes, 11, 2)?;
        let minute = digits(bytes, 14, 2)?;
        let second = digits(bytes, 17, 2)?;
        let shape = bytes.get(10) == Some(&b'T')
            && bytes.get(13) == Some(&b':')
            && bytes.get(16) == Some(&b':');
        // Seconds stop at 59: ISM/1 instants are on a clock without leap seconds.
        if !shape || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let rest = bytes.get(19..)?;
        let fraction = match rest {
            [b'Z'] => &[][..],
            [b'.', fraction @ .., b'Z']
                if (1..=9).contains(&fraction.len()) && fraction.iter().all(u8::is_ascii_digit) =>
            {
                fraction
            }
            _ => return None,
        };
        let nanos = fraction
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0i128, |acc, &b| acc * 10 + i128::from(b - b'0'));
        let seconds = i128::from(days) * 86_400 + i128::from(hour * 3600 + minute * 60 + second);
        Some(seconds * 1_000_000_000 + nanos)
    }

    /// Builds the millisecond form `YYYY-MM-DDThh:mm:ss.fffZ` of an instant
    /// given in milliseconds since the Unix epoch; `None` outside years 1970–9999.
    pub fn from_unix_millis(unix_millis: u64) -> Option<Timestamp> {
        let days = i64::try_from(unix_millis / 86_400_000).ok()?;
        let millis_of_day = unix_millis % 86_400_000;
        let (year, month, day) = civil_from_days(days);
        if year > 9999 {
            return None;
        }
        let text = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            millis_of_day / 3_600_000,
            millis_of_day / 60_000 % 60,
            millis_of_day / 1000 % 60,
            millis_of_day % 1000
        );
        Timestamp::parse(&text).ok()
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z (negative before).
    pub fn unix_nanos(&self) -> i128 {
        self.unix_nanos
    }

    /// Milliseconds since the Unix epoch, rounded down.
    pub fn unix_millis(&self) -> i128 {
        self.unix_nanos.div_euclid(1_000_000)
    }

    /// The calendar date part, in UTC.
    pub fn date(&self) -> Date {
        // The first ten characters were parsed as a date when this was built.
        Date::parse(&self.text[..10]).unwrap_or_else(|_| Date {
            text: self.text[..10].to_string(),
            days_since_epoch: 0,
        })
    }
}

/// The proleptic Gregorian `(year, month, day)` of a count of days since
/// 1970-01-01 (Howard Hinnant's algorithm); the inverse of the date parser's day count.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.unix_nanos
            .cmp(&other.unix_nanos)
            .then_with(|| self.text.cmp(&other.text))
    }
}

ism_string!(Date);
ism_string!(Timestamp);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates() {
        for good in [
            "2026-11-25",
            "2024-02-29",
            "2000-02-29",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert!(Date::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-1-05",
            "26-11-25",
            "2026/11/25",
            "0000-01-01",
            "2026-11-25T00:00:00Z",
            "２０２６-11-25",
        ] {
            assert_eq!(
                Date::parse(bad).err().map(|r| r.code),
                Some(ReasonCode::DateInvalid),
                "{bad}"
            );
        }
        assert_eq!(
            Date::parse("1970-01-02").map(|d| d.days_since_epoch()).ok(),
            Some(1)
        );
    }

    #[test]
    fn timestamps() {
        for good in [
            "2026-11-25T12:00:00Z",
            "2026-11-25T12:00:00.5Z",
            "2026-11-25T23:59:59.123456789Z",
        ] {
            assert!(Timestamp::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "2026-11-25T12:00:00",
            "2026-11-25T12:00:00+00:00",
            "2026-11-25t12:00:00z",
            "2026-11-25 12:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T12:60:00Z",
            "2026-12-31T23:59:60Z",
            "2026-11-25T12:00:00.Z",
            "2026-11-25T12:00:00.1234567890Z",
            "2026-02-30T00:00:00Z",
        ] {
            assert_eq!(
                Timestamp::parse(bad).err().map(|r| r.code),
                Some(ReasonCode::TimestampInvalid),
                "{bad}"
            );
        }
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:01.5Z")
                .map(|t| t.unix_millis())
                .ok(),
            Some(1500)
        );
    }

    proptest! {
        #[test]
        fn millis_round_trip(unix_millis in 0u64..253_402_300_799_999) {
            let stamp = Timestamp::from_unix_millis(unix_millis);
            prop_assert_eq!(stamp.map(|s| s.unix_millis()), Some(i128::from(unix_millis)));
        }
    }
}
