//! Field formats of MT54x and their conversion to and from ISM/1 values.
//!
//! Followed: SWIFT *Standards MT General Information* (character sets and
//! the `d` decimal format) and the ISO 15022 Data Field Dictionary entries
//! of MT540–MT548 (iso20022.org/15022/uhb), e.g.
//!
//! - `:20C:` `:4!c//16x` — must not start or end with `/` nor contain `//` (T26);
//! - `:98A:` `:4!c//8!n` — a valid date `YYYYMMDD` (T50); `:98C:` `:4!c//8!n6!n`
//!   adds `HHMMSS` (T38), a local time; `:98E:` `:4!c//8!n6!n[,3n][/[N]2!n[2!n]]`
//!   adds up to three decimals of the second and the UTC indicator, the
//!   offset of that local time from UTC (`N` west of Greenwich);
//! - `:36B:` `:4!c//4!c/15d` and `:19A:` `:4!c//[N]3!a15d` — the integer part
//!   has at least one digit, the decimal comma is mandatory and counts in the
//!   15 characters, at most the currency's minor units after it (C03, T40, T43);
//! - `:95P:` `:4!c//4!a2!a2!c[3!c]`, `:95L:` `:4!c//18!c2!n`, `:95R:`
//!   `:4!c/8c/34x` (data source scheme, proprietary code), `:97A:` `:4!c//35x`;
//! - `:35B:` `[ISIN1!e12!c]` then up to 4 description lines of `35x`;
//! - `:94B:` `:4!c/[8c]/4!c[/30x]` — for `TRAD` with place code `EXCH`, the
//!   narrative is the MIC (usage rule; the uhb example is `:94B::TRAD//EXCH/XNYS`).
//!
//! Values then go through the ISM/1 parsers, so a wrong ISIN check digit or
//! an unknown currency gets the ISM/1 reason code, placed at the MT field.

use isthmus_spec::body::ProprietaryId;
use isthmus_spec::decimal::{Money, Quantity};
use isthmus_spec::ident::{Bic, Isin, Lei, Mic};
use isthmus_spec::ids::Reference;
use isthmus_spec::quote::quoted;
use isthmus_spec::time::{civil_from_days, Date, Timestamp};

use super::text::Field;
use crate::error::{TranslateCode, TranslateError};

/// Characters of a reference field (`16x`).
pub const REFERENCE_CHARS: usize = 16;
/// Characters of an account number (`35x`).
pub const ACCOUNT_CHARS: usize = 35;
/// Characters of a decimal, comma included (`15d`).
pub const DECIMAL_CHARS: usize = 15;
/// Characters of a proprietary code (`:95R:` `34x`).
pub const PROPRIETARY_CODE_CHARS: usize = 34;
/// Characters of a data source scheme (`8c`).
pub const SCHEME_CHARS: usize = 8;
/// Decimals of the second `:98E:` carries (`[,3n]`).
pub const TIME_DECIMALS: usize = 3;
/// Characters of one narrative line (`35x`).
pub const LINE_CHARS: usize = 35;
/// Description lines after the ISIN in `:35B:` (`4*35x`).
pub const DESCRIPTION_LINES: usize = 4;

/// The SWIFT `x` character set: `a–z A–Z 0–9 / - ? : ( ) . , ' +` and space
/// (CR LF separate lines). Braces, also in `x`, are refused: inside block 4
/// they would make the block structure ambiguous.
pub fn is_x_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

/// The first character outside the `x` set, if any.
pub fn first_non_x(text: &str) -> Option<char> {
    text.chars().find(|c| !is_x_char(*c))
}

fn format_error(location: &str, message: impl Into<String>) -> TranslateError {
    TranslateError::at(TranslateCode::MtFieldFormat, location, message)
}

fn is_upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// A qualified generic field `:4!c//value` or `:4!c/scheme/value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generic<'f> {
    /// The qualifier, e.g. `SETT`.
    pub qualifier: &'f str,
    /// The data source scheme (`8c`), if the field names one.
    pub scheme: Option<&'f str>,
    /// The rest of the first line after the second slash.
    pub value: &'f str,
}

/// Reads a field as a qualified generic field, if it has that shape.
pub(crate) fn generic(field: &Field) -> Option<Generic<'_>> {
    let rest = field.first().strip_prefix(':')?;
    let (qualifier, rest) = rest.split_at_checked(4)?;
    if !qualifier.bytes().all(is_upper_alnum) {
        return None;
    }
    let rest = rest.strip_prefix('/')?;
    let end = rest.find('/')?;
    let (scheme, value) = rest.split_at(end);
    let value = value.get(1..).unwrap_or("");
    if scheme.len() > 8 || !scheme.bytes().all(is_upper_alnum) {
        return None;
    }
    Some(Generic {
        qualifier,
        scheme: (!scheme.is_empty()).then_some(scheme),
        value,
    })
}

/// The would-be qualifier of a field shaped `:XYZ//…` whose qualifier is
/// not 4 characters, so that it can be reported as a wrong qualifier.
pub(crate) fn loose_qualifier(field: &Field) -> Option<&str> {
    let rest = field.first().strip_prefix(':')?;
    let end = rest.find('/')?;
    let qualifier = rest.get(..end)?;
    // A 4-character qualifier with a broken separator is a format error, not a wrong qualifier.
    let wrong_length = (1..=8).contains(&qualifier.len()) && qualifier.len() != 4;
    (wrong_length && qualifier.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(qualifier)
}

/// How a field is named in messages: `:98A::SETT//`, `:95R::DEAG/DTCYID/` or `:35B:`.
pub(crate) fn display(field: &Field) -> String {
    match generic(field) {
        Some(Generic {
            qualifier,
            scheme: None,
            ..
        }) => format!(":{}::{qualifier}//", field.tag),
        Some(Generic {
            qualifier,
            scheme: Some(scheme),
            ..
        }) => format!(":{}::{qualifier}/{scheme}/", field.tag),
        None => format!(":{}:", field.tag),
    }
}

/// Checks that `value` has 1 to `max` characters of the `x` set.
pub fn check_x(value: &str, max: usize, location: &str, what: &str) -> Result<(), TranslateError> {
    let count = value.chars().count();
    if count == 0 || count > max {
        return Err(format_error(
            location,
            format!(
                "the {what} {value} has {count} characters; the field holds 1 to {max}",
                value = quoted(value)
            ),
        ));
    }
    if let Some(c) = first_non_x(value) {
        return Err(format_error(
            location,
            format!("the {what} contains '{c}', which is outside the SWIFT x character set (A-Z a-z 0-9 / - ? : ( ) . , ' + space)"),
        ));
    }
    Ok(())
}

/// A `16x` reference (`:20C:`): also not starting or ending with `/` and
/// without `//` (network rule T26).
pub fn reference_16x(value: &str, location: &str) -> Result<Reference, TranslateError> {
    check_x(value, REFERENCE_CHARS, location, "reference")?;
    if value.starts_with('/') || value.ends_with('/') || value.contains("//") {
        return Err(format_error(
            location,
            format!(
                "the reference {value} starts or ends with '/' or contains '//' (SWIFT rule T26)",
                value = quoted(value)
            ),
        ));
    }
    Reference::parse(value).map_err(|r| TranslateError::from_rejection(r, location))
}

/// A reference of up to 35 characters (an ISM/1 reference carried in a narrative).
pub fn reference_35x(value: &str, location: &str) -> Result<Reference, TranslateError> {
    check_x(value, ACCOUNT_CHARS, location, "reference")?;
    Reference::parse(value).map_err(|r| TranslateError::from_rejection(r, location))
}

/// A `35x` account number (`:97A:`).
pub fn account_35x(value: &str, location: &str) -> Result<Reference, TranslateError> {
    check_x(value, ACCOUNT_CHARS, location, "account number")?;
    Reference::parse(value).map_err(|r| TranslateError::from_rejection(r, location))
}

fn eight_digits(value: &str, location: &str) -> Result<String, TranslateError> {
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format_error(
            location,
            format!(
                "{value} is not a date of 8 digits YYYYMMDD",
                value = quoted(value)
            ),
        ));
    }
    let part = |range: std::ops::Range<usize>| value.get(range).unwrap_or("");
    Ok(format!("{}-{}-{}", part(0..4), part(4..6), part(6..8)))
}

/// A date `8!n` (`YYYYMMDD`) as an ISM/1 date.
pub fn date_8n(value: &str, location: &str) -> Result<Date, TranslateError> {
    let text = eight_digits(value, location)?;
    Date::parse(&text).map_err(|r| TranslateError::from_rejection(r, location))
}

/// The easternmost UTC offset in use, +14:00 (the Line Islands), in seconds.
const EASTERNMOST_OFFSET_SECONDS: i128 = 14 * 3600;

/// The first instant at which `date` is the date somewhere: its 00:00 at
/// UTC+14:00, in nanoseconds since the epoch. A settlement date is in the
/// market's own calendar, which an MT message does not name, so an instant
/// before this is before the settlement date wherever the market is (ISM-1
/// Appendix A.2 item 2).
pub(crate) fn date_begins_anywhere_nanos(date: &Date) -> i128 {
    (i128::from(date.days_since_epoch()) * 86_400 - EASTERNMOST_OFFSET_SECONDS) * 1_000_000_000
}

/// ISM/1 date `YYYY-MM-DD` → `YYYYMMDD`.
pub fn date_to_mt(date: &Date) -> String {
    date.as_str().replace('-', "")
}

/// ISM/1 timestamp → (`YYYYMMDDHHMMSS`, digits after the seconds if any).
pub fn timestamp_to_mt(timestamp: &Timestamp) -> (String, Option<String>) {
    let text = timestamp.as_str();
    let digits: String = text
        .get(..19)
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let fraction = text
        .get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.strip_suffix('Z'))
        .map(str::to_string);
    (digits, fraction)
}

/// A date and time `:98C:` or `:98E:` read as an ISM/1 instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateTime {
    /// The instant, in UTC.
    pub timestamp: Timestamp,
    /// Whether the field gave its UTC offset (`:98E:` with a UTC indicator), so
    /// the instant is exact; otherwise the local clock time was read as UTC.
    pub zoned: bool,
    /// The UTC indicator's offset in seconds east of UTC, if the field has one.
    pub offset_seconds: Option<i64>,
    /// The calendar date as written, never shifted by the UTC indicator.
    pub written_date: Date,
}

/// Whether `text` is a data source scheme (`8c`: 1 to 8 upper-case letters or digits).
pub fn is_scheme_8c(text: &str) -> bool {
    (1..=SCHEME_CHARS).contains(&text.len()) && text.bytes().all(is_upper_alnum)
}

/// A `:98C:` or `:98E:` as written: the clock value (local time, as an
/// ISM/1 timestamp without any shift), the digits of the second's fraction
/// (`.fff` or empty) and the UTC indicator's offset in seconds east of UTC.
struct Clock98 {
    local: Timestamp,
    fraction: String,
    offset_seconds: Option<i64>,
}

/// Checks `:98C:` (`8!n6!n`) or `:98E:` (`8!n6!n[,3n][/[N]2!n[2!n]]`)
/// completely — a real date, hour 00–23, minute and second 00–59, at most
/// three decimals, a UTC indicator `[N]HH[MM]` — and returns it unshifted.
fn clock_98(
    option: &str,
    value: &str,
    fraction: Option<&str>,
    location: &str,
) -> Result<Clock98, TranslateError> {
    let (clock, rest) = value.split_at_checked(14).unwrap_or((value, ""));
    if clock.len() != 14 || !clock.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format_error(
            location,
            format!(
                "{value} does not start with a date and time of 14 digits YYYYMMDDHHMMSS",
                value = quoted(value)
            ),
        ));
    }
    let (decimals, indicator) = match option {
        "C" if rest.is_empty() => (None, None),
        "C" => {
            return Err(format_error(
                location,
                format!("{value}: :98C: is a date and time YYYYMMDDHHMMSS and nothing more; decimals and a UTC offset need :98E:", value = quoted(value)),
            ))
        }
        _ => {
            let (decimals, indicator) = match rest.split_once('/') {
                Some((decimals, indicator)) => (decimals, Some(indicator)),
                None => (rest, None),
            };
            let decimals = match decimals.strip_prefix(',') {
                Some(digits)
                    if (1..=TIME_DECIMALS).contains(&digits.len())
                        && digits.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Some(digits)
                }
                None if decimals.is_empty() => None,
                _ => {
                    return Err(format_error(
                        location,
                        format!("{value}: after the time come at most {TIME_DECIMALS} decimals of the second after a comma, then /[N]HH[MM], the UTC offset", value = quoted(value)),
                    ))
                }
            };
            (decimals, indicator)
        }
    };
    if decimals.is_some() && fraction.is_some() {
        return Err(format_error(
            location,
            "the decimals of the second are given twice, in the field and as /FRAC/ in :70E::SPRO//",
        ));
    }
    let offset_seconds = indicator
        .map(|indicator| utc_offset_seconds(indicator, value, location))
        .transpose()?;
    let part = |range: std::ops::Range<usize>| clock.get(range).unwrap_or("");
    let fraction = decimals
        .or(fraction)
        .map(|f| format!(".{f}"))
        .unwrap_or_default();
    let local = format!(
        "{}-{}-{}T{}:{}:{}{fraction}Z",
        part(0..4),
        part(4..6),
        part(6..8),
        part(8..10),
        part(10..12),
        part(12..14)
    );
    // The clock value must be a real date and time before any shift.
    let local =
        Timestamp::parse(&local).map_err(|r| TranslateError::from_rejection(r, location))?;
    Ok(Clock98 {
        local,
        fraction,
        offset_seconds,
    })
}

/// The calendar date of a `:98C:` or `:98E:` trade or settlement date as
/// written — never shifted by its UTC indicator — after checking the whole
/// field, time and indicator included (ISM/1 dates carry no time; the caller
/// reports the time as left out).
pub(crate) fn date_of_98(
    option: &str,
    value: &str,
    location: &str,
) -> Result<Date, TranslateError> {
    let clock = clock_98(option, value, None, location)?;
    let date = clock.local.as_str().get(..10).unwrap_or("");
    Date::parse(date).map_err(|r| TranslateError::from_rejection(r, location))
}

/// Reads `:98C:` (`8!n6!n`, local time) or `:98E:`
/// (`8!n6!n[,3n][/[N]2!n[2!n]]`): the date and time, the decimals of the
/// second (or, for `:98C:` and a `:98E:` without decimals, the `fraction`
/// carried in a narrative) and the UTC indicator. With a UTC indicator the
/// instant is converted to UTC exactly; without, the clock value is read as
/// UTC and [`DateTime::zoned`] is false.
pub(crate) fn date_time_98(
    option: &str,
    value: &str,
    fraction: Option<&str>,
    location: &str,
) -> Result<DateTime, TranslateError> {
    let Clock98 {
        local: timestamp,
        fraction,
        offset_seconds,
    } = clock_98(option, value, fraction, location)?;
    let written_date = timestamp.date();
    let Some(offset_seconds) = offset_seconds else {
        return Ok(DateTime {
            timestamp,
            zoned: false,
            offset_seconds: None,
            written_date,
        });
    };
    let seconds_local = timestamp.unix_nanos().div_euclid(1_000_000_000);
    let utc = i64::try_from(seconds_local).unwrap_or(i64::MAX) - offset_seconds;
    let (year, month, day) = civil_from_days(utc.div_euclid(86_400));
    let of_day = utc.rem_euclid(86_400);
    let text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    let timestamp = Timestamp::parse(&text)
        .ok()
        .filter(|_| (1..=9999).contains(&year))
        .ok_or_else(|| {
            TranslateError::at(
                TranslateCode::Ism(isthmus_spec::ReasonCode::TimestampInvalid),
                location,
                format!(
                    "{value} in UTC falls outside the years 0001 to 9999",
                    value = quoted(value)
                ),
            )
        })?;
    Ok(DateTime {
        timestamp,
        zoned: true,
        offset_seconds: Some(offset_seconds),
        written_date,
    })
}

/// The UTC indicator `[N]2!n[2!n]` as seconds east of UTC.
fn utc_offset_seconds(indicator: &str, value: &str, location: &str) -> Result<i64, TranslateError> {
    let (sign, digits) = match indicator.strip_prefix('N') {
        Some(digits) => (-1, digits),
        None => (1, indicator),
    };
    let number = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<i64>().ok())
    };
    let (hours, minutes) = match digits.len() {
        2 => (number(0..2), Some(0)),
        4 => (number(0..2), number(2..4)),
        _ => (None, None),
    };
    match (hours, minutes) {
        (Some(hours), Some(minutes)) if hours <= 23 && minutes <= 59 => {
            Ok(sign * (hours * 3600 + minutes * 60))
        }
        _ => Err(format_error(
            location,
            format!("{value}: the UTC indicator {indicator} is not [N]HH or [N]HHMM (N for an offset west of UTC)", value = quoted(value), indicator = quoted(&format!("/{indicator}"))),
        )),
    }
}

/// ISM/1 timestamp → `:98E:` content in UTC, `YYYYMMDDHHMMSS[,fff]/0000`,
/// and, when the timestamp has more than three decimals of the second, all
/// of them for the narrative (the field then carries none).
pub fn timestamp_to_98e(timestamp: &Timestamp) -> (String, Option<String>) {
    let (clock, fraction) = timestamp_to_mt(timestamp);
    match fraction {
        Some(digits) if digits.len() <= TIME_DECIMALS => (format!("{clock},{digits}/0000"), None),
        Some(digits) => (format!("{clock}/0000"), Some(digits)),
        None => (format!("{clock}/0000"), None),
    }
}

/// A `:95R:` party `:4!c/8c/34x` as a proprietary id: the data source scheme
/// is its issuer, the proprietary code its id (ISM-1 §6.0.8).
pub(crate) fn proprietary_95r(
    generic: &Generic<'_>,
    location: &str,
) -> Result<ProprietaryId, TranslateError> {
    let Some(scheme) = generic.scheme else {
        return Err(format_error(
            location,
            format!(
                ":95R::{}// has no data source scheme; option R is :{}/SCHEME/code, e.g. :95R::DEAG/DTCYID/0901",
                generic.qualifier, generic.qualifier
            ),
        ));
    };
    check_x(
        generic.value,
        PROPRIETARY_CODE_CHARS,
        location,
        "proprietary code",
    )?;
    let rejected = |r| TranslateError::from_rejection(r, location);
    Ok(ProprietaryId {
        id: Reference::parse(generic.value).map_err(rejected)?,
        issuer: Reference::parse(scheme).map_err(rejected)?,
        scheme: None,
    })
}

/// A `15d` decimal as ISM/1 decimal text: `1000,` → `1000`, `0,50` → `0.50`,
/// leading zeros of the integer part dropped (MT allows them, ISM/1 not).
pub fn decimal_15d(value: &str, location: &str) -> Result<String, TranslateError> {
    if value.contains('.') {
        return Err(format_error(
            location,
            format!(
                "{value} uses '.'; MT amounts and quantities use a decimal comma, e.g. 1000,50",
                value = quoted(value)
            ),
        ));
    }
    let Some((integer, fraction)) = value.split_once(',') else {
        return Err(format_error(
            location,
            format!(
                "{value} has no decimal comma; MT requires one even for whole numbers, e.g. 1000,",
                value = quoted(value)
            ),
        ));
    };
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if value.len() > DECIMAL_CHARS || integer.is_empty() || !digits(integer) || !digits(fraction) {
        return Err(format_error(
            location,
            format!("{value} is not an MT decimal: up to {DECIMAL_CHARS} characters of digits with one decimal comma and at least one digit before it", value = quoted(value)),
        ));
    }
    let integer = integer.trim_start_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    Ok(if fraction.is_empty() {
        integer.to_string()
    } else {
        format!("{integer}.{fraction}")
    })
}

/// ISM/1 decimal text → `15d`, or `None` if it does not fit 15 characters.
pub fn decimal_to_mt(text: &str) -> Option<String> {
    let mt = match text.split_once('.') {
        Some((integer, fraction)) => format!("{integer},{fraction}"),
        None => format!("{text},"),
    };
    (mt.len() <= DECIMAL_CHARS).then_some(mt)
}

/// The quantity of `:36B:` (`4!c/15d`); ISM/1 quantities are units, so the
/// quantity type must be `UNIT` (face amounts `FAMT` and amortised values
/// `AMOR` have no ISM/1 counterpart).
pub fn quantity_36b(value: &str, location: &str) -> Result<Quantity, TranslateError> {
    let Some((kind, number)) = value.split_once('/') else {
        return Err(format_error(
            location,
            format!(
                "{value} is not a quantity type code and a quantity, e.g. UNIT/1000,",
                value = quoted(value)
            ),
        ));
    };
    match kind {
        "UNIT" => {}
        "FAMT" | "AMOR" | "DIGI" => {
            return Err(TranslateError::at(
                TranslateCode::NotRepresentable,
                location,
                format!(
                "the quantity is given as {kind}; ISM/1 settles quantities in units (UNIT) only"
            ),
            ))
        }
        _ => {
            return Err(format_error(
                location,
                format!(
                    "{kind} is not a quantity type code (UNIT, FAMT, AMOR)",
                    kind = quoted(kind)
                ),
            ))
        }
    }
    let text = decimal_15d(number, location)?;
    Quantity::parse(&text).map_err(|r| TranslateError::from_rejection(r, location))
}

/// The amount of `:19A:` (`[N]3!a15d`) as ISM/1 money. A sign `N` makes the
/// amount negative, which ISM/1 refuses (`DECIMAL_NOT_POSITIVE`): the
/// message type already says which way the cash goes.
pub fn amount_19a(value: &str, location: &str) -> Result<Money, TranslateError> {
    // [N]3!a15d: a currency starting with N (NOK, NZD) is not a sign; the
    // amount always starts with a digit.
    let letters = |range: std::ops::Range<usize>| {
        value
            .get(range)
            .is_some_and(|s| s.bytes().all(|b| b.is_ascii_alphabetic()))
    };
    let digit_at = |at: usize| {
        value
            .get(at..at + 1)
            .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
    };
    let negative = !(letters(0..3) && digit_at(3)) && value.starts_with('N') && letters(1..4);
    let rest = if negative {
        value.get(1..).unwrap_or("")
    } else {
        value
    };
    let Some((currency, number)) = rest.split_at_checked(3) else {
        return Err(format_error(
            location,
            format!(
                "{value} is not a currency code and an amount, e.g. USD231450,00",
                value = quoted(value)
            ),
        ));
    };
    if !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format_error(
            location,
            format!(
                "{value} does not start with a 3-letter currency code",
                value = quoted(value)
            ),
        ));
    }
    let amount = decimal_15d(number, location)?;
    let amount = if negative {
        format!("-{amount}")
    } else {
        amount
    };
    Money::parse(&amount, currency).map_err(|r| TranslateError::from_rejection(r, location))
}

/// `:95P:` identifier code → BIC.
pub fn bic_95p(value: &str, location: &str) -> Result<Bic, TranslateError> {
    Bic::parse(value).map_err(|r| TranslateError::from_rejection(r, location))
}

/// `:95L:` legal entity identifier → LEI.
pub fn lei_95l(value: &str, location: &str) -> Result<Lei, TranslateError> {
    Lei::parse(value).map_err(|r| TranslateError::from_rejection(r, location))
}

/// What `:35B:` holds.
pub(crate) struct Security {
    /// The ISIN, if the first line is `ISIN` + space + 12 characters.
    pub isin: Option<Isin>,
    /// Whether description lines follow (ISM/1 does not carry them).
    pub described: bool,
}

/// Reads `:35B:` `[ISIN1!e12!c][4*35x]`.
pub fn security_35b(field: &Field, location: &str) -> Result<Security, TranslateError> {
    if field.lines.len() > 1 + DESCRIPTION_LINES {
        return Err(format_error(
            location,
            format!("the field has {} lines; it holds the ISIN line and at most {DESCRIPTION_LINES} description lines", field.lines.len()),
        ));
    }
    for line in &field.lines {
        if line.chars().count() > LINE_CHARS {
            return Err(format_error(
                location,
                format!(
                    "the line {line} is longer than {LINE_CHARS} characters",
                    line = quoted(line)
                ),
            ));
        }
    }
    let first = field.first();
    let Some(rest) = first.strip_prefix("ISIN") else {
        return Ok(Security {
            isin: None,
            described: true,
        });
    };
    let Some(code) = rest.strip_prefix(' ') else {
        return Err(format_error(
            location,
            format!(
                "{first}: the ISIN is written \"ISIN\", one space, then the 12 characters",
                first = quoted(first)
            ),
        ));
    };
    let (code, trailing) = code.split_at_checked(12).unwrap_or((code, ""));
    if !trailing.is_empty() {
        return Err(format_error(
            location,
            format!(
                "{first}: after the 12-character ISIN a new line must start the description",
                first = quoted(first)
            ),
        ));
    }
    let isin = Isin::parse(code).map_err(|r| TranslateError::from_rejection(r, location))?;
    Ok(Security {
        isin: Some(isin),
        described: field.lines.len() > 1,
    })
}

/// `:94B::TRAD//EXCH/<MIC>` → the MIC, `None` for other place codes.
pub fn place_of_trade(value: &str, location: &str) -> Result<Option<Mic>, TranslateError> {
    let (code, narrative) = match value.split_once('/') {
        Some((code, narrative)) => (code, Some(narrative)),
        None => (value, None),
    };
    if code.len() != 4 || !code.bytes().all(is_upper_alnum) {
        return Err(format_error(
            location,
            format!(
                "{value} does not start with a 4-character place code",
                value = quoted(value)
            ),
        ));
    }
    match (code, narrative) {
        ("EXCH", Some(mic)) => Mic::parse(mic)
            .map(Some)
            .map_err(|r| TranslateError::from_rejection(r, location)),
        _ => Ok(None),
    }
}

/// A `4!c` code (statuses, reasons, indicators).
pub fn code_4c(value: &str, location: &str) -> Result<(), TranslateError> {
    if value.len() == 4 && value.bytes().all(is_upper_alnum) {
        Ok(())
    } else {
        Err(format_error(
            location,
            format!("{value} is not a 4-character code", value = quoted(value)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use isthmus_spec::json::Json;
    use isthmus_spec::ReasonCode;

    fn field(tag: &str, lines: &[&str]) -> Field {
        Field {
            tag: tag.into(),
            lines: lines.iter().map(|l| l.to_string()).collect(),
            line: 1,
            id: 0,
        }
    }

    fn code<T>(result: Result<T, TranslateError>) -> Option<TranslateCode> {
        result.err().map(|e| e.code)
    }

    #[test]
    fn generic_fields_and_names() {
        let f = field("98A", &[":SETT//20261127"]);
        assert_eq!(
            generic(&f).map(|g| (g.qualifier, g.scheme, g.value)),
            Some(("SETT", None, "20261127"))
        );
        assert_eq!(display(&f), ":98A::SETT//");
        let f = field("95R", &[":DEAG/DTCYID/0352"]);
        assert_eq!(generic(&f).map(|g| g.scheme), Some(Some("DTCYID")));
        assert_eq!(display(&f), ":95R::DEAG/DTCYID/");
        assert_eq!(display(&field("35B", &["ISIN US0378331005"])), ":35B:");
        assert!(generic(&field("98A", &[":SET//1"])).is_none());
    }

    #[test]
    fn decimals_both_ways() {
        assert_eq!(decimal_15d("1000,", "f").ok().as_deref(), Some("1000"));
        assert_eq!(
            decimal_15d("231450,00", "f").ok().as_deref(),
            Some("231450.00")
        );
        assert_eq!(decimal_15d("0001,5", "f").ok().as_deref(), Some("1.5"));
        assert_eq!(decimal_15d("0,", "f").ok().as_deref(), Some("0"));
        for bad in [
            "1000",
            "1000.00",
            ",5",
            "1,2,3",
            "12345678901234,5",
            "1 000,",
            "-1,",
        ] {
            assert_eq!(
                code(decimal_15d(bad, "f")),
                Some(TranslateCode::MtFieldFormat),
                "{bad}"
            );
        }
        assert_eq!(decimal_to_mt("1000").as_deref(), Some("1000,"));
        assert_eq!(decimal_to_mt("0.000001").as_deref(), Some("0,000001"));
        assert_eq!(decimal_to_mt("123456789012345678"), None);
    }

    #[test]
    fn amounts_quantities_dates() {
        assert_eq!(
            amount_19a("USD231450,00", "f")
                .ok()
                .map(|m| m.to_json().to_string()),
            Some(r#"{"amount":"231450.00","currency":"USD"}"#.to_string())
        );
        assert_eq!(
            code(amount_19a("XYZ1,", "f")),
            Some(TranslateCode::Ism(ReasonCode::CurrencyUnknown))
        );
        assert_eq!(
            code(amount_19a("NUSD1,", "f")),
            Some(TranslateCode::Ism(ReasonCode::DecimalNotPositive))
        );
        assert_eq!(
            amount_19a("NOK100,", "f")
                .ok()
                .map(|m| m.currency.to_string()),
            Some("NOK".into())
        );
        assert_eq!(
            code(amount_19a("JPY10,5", "f")),
            Some(TranslateCode::Ism(ReasonCode::DecimalTooManyDecimals))
        );
        assert_eq!(
            code(amount_19a("USD0,", "f")),
            Some(TranslateCode::Ism(ReasonCode::DecimalNotPositive))
        );
        assert_eq!(
            quantity_36b("UNIT/1000,", "f").ok().map(|q| q.to_string()),
            Some("1000".into())
        );
        assert_eq!(
            code(quantity_36b("FAMT/1000,", "f")),
            Some(TranslateCode::NotRepresentable)
        );
        assert_eq!(
            code(quantity_36b("UNIX/1000,", "f")),
            Some(TranslateCode::MtFieldFormat)
        );
        assert_eq!(
            date_8n("20261127", "f").ok().map(|d| d.to_string()),
            Some("2026-11-27".into())
        );
        assert_eq!(
            code(date_8n("20261131", "f")),
            Some(TranslateCode::Ism(ReasonCode::DateInvalid))
        );
        assert_eq!(
            code(date_8n("2026-11-27", "f")),
            Some(TranslateCode::MtFieldFormat)
        );
        let at = date_time_98("C", "20261127130211", Some("417"), "f").ok();
        assert_eq!(
            at.as_ref().map(|t| (t.timestamp.to_string(), t.zoned)),
            Some(("2026-11-27T13:02:11.417Z".into(), false))
        );
        assert_eq!(
            at.map(|t| timestamp_to_mt(&t.timestamp)),
            Some(("20261127130211".into(), Some("417".into())))
        );
        assert_eq!(
            code(date_time_98("C", "20261127246000", None, "f")),
            Some(TranslateCode::Ism(ReasonCode::TimestampInvalid))
        );
    }

    fn utc(option: &str, value: &str) -> Option<(String, bool)> {
        date_time_98(option, value, None, "f")
            .ok()
            .map(|t| (t.timestamp.to_string(), t.zoned))
    }

    #[test]
    fn date_times_with_and_without_utc_offset() {
        // :98E: with a UTC indicator is exact: local time minus the offset.
        assert_eq!(
            utc("E", "20141113130218/N05"),
            Some(("2014-11-13T18:02:18Z".into(), true))
        );
        assert_eq!(
            utc("E", "20261127093000,5/0530"),
            Some(("2026-11-27T04:00:00.5Z".into(), true))
        );
        assert_eq!(
            utc("E", "20261231233000/N0100"),
            Some(("2027-01-01T00:30:00Z".into(), true))
        );
        assert_eq!(
            utc("E", "20260301003000/0100"),
            Some(("2026-02-28T23:30:00Z".into(), true))
        );
        assert_eq!(
            utc("E", "20261127130211,417/0000"),
            Some(("2026-11-27T13:02:11.417Z".into(), true))
        );
        // Without one it is a local time, read as UTC and not exact.
        assert_eq!(
            utc("E", "20261127130211"),
            Some(("2026-11-27T13:02:11Z".into(), false))
        );
        assert_eq!(
            utc("C", "20261127130211"),
            Some(("2026-11-27T13:02:11Z".into(), false))
        );
        for bad in [
            ("C", "20261127130211/0100"),
            ("C", "202611271302"),
            ("E", "20261127130211,1234/00"),
            ("E", "20261127130211/5"),
            ("E", "20261127130211/2400"),
            ("E", "20261127130211/0160"),
            ("E", "20261127130211,/00"),
            ("E", "20261127130211X"),
        ] {
            assert_eq!(
                code(date_time_98(bad.0, bad.1, None, "f")),
                Some(TranslateCode::MtFieldFormat),
                "{bad:?}"
            );
        }
        assert_eq!(
            code(date_time_98("E", "20261127130211,4/00", Some("41"), "f")),
            Some(TranslateCode::MtFieldFormat)
        );
        assert_eq!(
            code(date_time_98("E", "00010101003000/0100", None, "f")),
            Some(TranslateCode::Ism(ReasonCode::TimestampInvalid))
        );
        let written = |text: &str| Timestamp::parse(text).ok().map(|t| timestamp_to_98e(&t));
        assert_eq!(
            written("2026-11-27T13:02:11Z"),
            Some(("20261127130211/0000".into(), None))
        );
        assert_eq!(
            written("2026-11-27T13:02:11.417Z"),
            Some(("20261127130211,417/0000".into(), None))
        );
        assert_eq!(
            written("2026-11-27T13:02:11.417123Z"),
            Some(("20261127130211/0000".into(), Some("417123".into())))
        );
    }

    #[test]
    fn dates_with_a_time_are_checked_whole_and_never_shifted() {
        let date = |option: &str, value: &str| {
            date_of_98(option, value, "f").map(|d| d.as_str().to_string())
        };
        // The calendar date as written, whatever the UTC indicator says.
        assert_eq!(
            date("C", "20261125103000").ok().as_deref(),
            Some("2026-11-25")
        );
        assert_eq!(
            date("E", "20261125233000/N05").ok().as_deref(),
            Some("2026-11-25")
        );
        assert_eq!(
            date("E", "20261125003000,25/0930").ok().as_deref(),
            Some("2026-11-25")
        );
        // Every part of the time is checked, not only its digits.
        for (option, value, expected) in [
            (
                "C",
                "20261125240000",
                TranslateCode::Ism(ReasonCode::TimestampInvalid),
            ),
            (
                "C",
                "20261125235960",
                TranslateCode::Ism(ReasonCode::TimestampInvalid),
            ),
            (
                "C",
                "20261131103000",
                TranslateCode::Ism(ReasonCode::TimestampInvalid),
            ),
            ("C", "20261127130211/0100", TranslateCode::MtFieldFormat),
            ("C", "202611271302", TranslateCode::MtFieldFormat),
            ("E", "20261127130211,1234", TranslateCode::MtFieldFormat),
            ("E", "20261127130211/N2400", TranslateCode::MtFieldFormat),
            ("E", "20261127130211/0100X", TranslateCode::MtFieldFormat),
            ("E", "20261127130211/", TranslateCode::MtFieldFormat),
        ] {
            assert_eq!(
                code(date(option, value)),
                Some(expected),
                "{option} {value}"
            );
        }
    }

    #[test]
    fn proprietary_codes() {
        let f = field("95R", &[":DEAG/DTCYID/0901"]);
        let id = generic(&f).map(|g| proprietary_95r(&g, "f"));
        assert_eq!(
            id.and_then(Result::ok).map(|p| p.to_json().to_string()),
            Some(r#"{"id":"0901","issuer":"DTCYID"}"#.to_string())
        );
        let f = field("95R", &[":DEAG//0901"]);
        assert_eq!(
            generic(&f).map(|g| code(proprietary_95r(&g, "f"))),
            Some(Some(TranslateCode::MtFieldFormat))
        );
        let long = format!(":DEAG/CRST/{}", "A".repeat(35));
        let f = field("95R", &[long.as_str()]);
        assert_eq!(
            generic(&f).map(|g| code(proprietary_95r(&g, "f"))),
            Some(Some(TranslateCode::MtFieldFormat))
        );
        assert!(is_scheme_8c("DTCYID"));
        assert!(!is_scheme_8c("DTC PART"));
        assert!(!is_scheme_8c("dtcyid"));
        assert!(!is_scheme_8c("ABCDEFGHI"));
    }

    #[test]
    fn references_and_securities() {
        assert!(reference_16x("SEME-XNYS-000001", "f").is_ok());
        assert_eq!(
            code(reference_16x("SEME-XNYS-0000001", "f")),
            Some(TranslateCode::MtFieldFormat)
        );
        assert_eq!(
            code(reference_16x("A//B", "f")),
            Some(TranslateCode::MtFieldFormat)
        );
        assert_eq!(
            code(reference_16x("ABC_1", "f")),
            Some(TranslateCode::MtFieldFormat)
        );
        let s = security_35b(&field("35B", &["ISIN US0378331005", "APPLE INC"]), "f").ok();
        assert_eq!(
            s.map(|s| (s.isin.map(|i| i.to_string()), s.described)),
            Some((Some("US0378331005".into()), true))
        );
        assert_eq!(
            code(security_35b(&field("35B", &["ISIN US0378331006"]), "f")),
            Some(TranslateCode::Ism(ReasonCode::IsinCheckDigit))
        );
        assert_eq!(
            code(security_35b(&field("35B", &["ISINUS0378331005"]), "f")),
            Some(TranslateCode::MtFieldFormat)
        );
        assert_eq!(
            place_of_trade("EXCH/XNYS", "f")
                .ok()
                .flatten()
                .map(|m| m.to_string()),
            Some("XNYS".into())
        );
        assert_eq!(place_of_trade("OTCO", "f").ok(), Some(None));
    }
}
