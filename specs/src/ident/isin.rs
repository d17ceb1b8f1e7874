//! ISIN, ISO 6166 (ISM-1 §4.1).

use super::country_table::COUNTRY_CODES;
use super::{alphanumeric_value, is_upper_alnum};
use crate::json::ism_string;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// The ISIN prefixes that are not country codes of the country table (ISM-1
/// §4.1, Table 3), sorted: international securities (`XS`), the European
/// Union (`EU`), OTC derivatives of ANNA's Derivatives Service Bureau
/// (`EZ`), substitute numbering agencies (`XA`–`XD`), and the withdrawn
/// Netherlands Antilles code that ISINs allocated under it keep (`AN`).
///
/// Sources: ISO 6166:2021 as the `isin` crate documents it (`EZ`); the
/// European Commission's list of EU-prefix ISINs (`EU000A1RRN98`);
/// python-stdnum's `isin.py` (`XA`–`XD`, `AN`: Schlumberger `AN8068571086`).
/// Its `XF`, `QS`, `QT` and `QW` are internal or provisional numbers, not
/// ISINs allocated between institutions, and are refused.
pub(crate) static NON_COUNTRY_PREFIXES: &[&str] = &["AN", "EU", "EZ", "XA", "XB", "XC", "XD", "XS"];

/// Whether `prefix` may begin an ISIN (ISM-1 §4.1 item 3).
fn is_isin_prefix(prefix: &str) -> bool {
    COUNTRY_CODES.binary_search(&prefix).is_ok()
        || NON_COUNTRY_PREFIXES.binary_search(&prefix).is_ok()
}

/// An International Securities Identification Number with a verified check
/// digit and prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isin {
    text: String,
}

impl Isin {
    /// Parses an ISIN: 2 upper-case letters, 9 upper-case letters or digits, and
    /// the ISO 6166 check digit; then the letters must be a country or an
    /// ISIN prefix of Table 3 (ISM-1 §4.1).
    pub fn parse(text: &str) -> Result<Isin, Rejection> {
        let bytes = text.as_bytes();
        let well_formed = bytes.len() == 12
            && bytes[..2].iter().all(u8::is_ascii_uppercase)
            && bytes[2..11].iter().all(is_upper_alnum)
            && bytes[11].is_ascii_digit();
        if !well_formed {
            return Err(Rejection::new(
                ReasonCode::IsinFormat,
                format!("{text} is not an ISIN: expected 2 upper-case letters, 9 upper-case letters or digits, then a check digit (12 characters)", text = quoted(text)),
            ));
        }
        let expected = check_digit(&bytes[..11]);
        let found = u32::from(bytes[11] - b'0');
        if expected != found {
            return Err(Rejection::new(
                ReasonCode::IsinCheckDigit,
                format!("the ISIN {text} ends in check digit {found}, but its first eleven characters give {expected}", text = quoted(text)),
            ));
        }
        let prefix = &text[..2];
        if !is_isin_prefix(prefix) {
            return Err(Rejection::new(
                ReasonCode::IsinPrefix,
                format!("the ISIN {text} begins with {prefix}, which is neither an ISO 3166-1 country code nor an ISIN prefix ISO 6166 allocates otherwise ({})", NON_COUNTRY_PREFIXES.join(", "), text = quoted(text), prefix = quoted(prefix)),
            ));
        }
        Ok(Isin {
            text: text.to_string(),
        })
    }

    /// The two-letter prefix: a country, or an ISIN prefix of ISM-1 §4.1 Table 3.
    pub fn prefix(&self) -> &str {
        &self.text[..2]
    }
}

/// ISO 6166: letters become two digits (A=10 … Z=35), then the Luhn check
/// digit of the resulting digit string.
pub(crate) fn check_digit(body: &[u8]) -> u32 {
    let mut digits = Vec::with_capacity(22);
    for &byte in body {
        // Callers pass only upper-case letters and digits.
        let value = alphanumeric_value(byte).unwrap_or(0);
        if value >= 10 {
            digits.push(value / 10);
        }
        digits.push(value % 10);
    }
    // Luhn: double every second digit counted from the right, starting with
    // the rightmost, because the check digit will be appended after it.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            if position % 2 == 0 {
                // Luhn adds the digits of the doubled digit: 2d for d < 5,
                // 1 + (2d - 10) = 2d - 9 from 5 on.
                let doubled = digit * 2;
                if digit > 4 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

ism_string!(Isin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_isins() {
        // Apple, Siemens, Toyota, BAE Systems, Nestlé.
        for isin in [
            "US0378331005",
            "DE0007236101",
            "JP3633400001",
            "GB0002634946",
            "CH0038863350",
        ] {
            assert!(Isin::parse(isin).is_ok(), "{isin}");
        }
    }

    #[test]
    fn refuses_wrong_check_digit_and_shape() {
        let code = |t: &str| Isin::parse(t).err().map(|r| r.code);
        assert_eq!(code("US0378331006"), Some(ReasonCode::IsinCheckDigit));
        assert_eq!(code("us0378331005"), Some(ReasonCode::IsinFormat));
        assert_eq!(code("US037833100"), Some(ReasonCode::IsinFormat));
        assert_eq!(code("US03783310055"), Some(ReasonCode::IsinFormat));
        assert_eq!(code("1S0378331005"), Some(ReasonCode::IsinFormat));
        assert_eq!(code("US037833100X"), Some(ReasonCode::IsinFormat));
        assert_eq!(code("US03783310é5"), Some(ReasonCode::IsinFormat));
    }

    #[test]
    fn the_prefix_is_a_country_or_an_isin_prefix() {
        let code = |t: &str| Isin::parse(t).err().map(|r| r.code);
        // Valid check digits, so only the prefix decides.
        for refused in [
            "QQ0000000000",
            "XF0000C14922",
            "QS0000003564",
            "ZZ0378331001",
            "AA0378331009",
        ] {
            assert_eq!(code(refused), Some(ReasonCode::IsinPrefix), "{refused}");
        }
        for accepted in [
            "XS1050461034",
            "EU000A1RRN98",
            "AN8068571086",
            "EZ0000000003",
            "XK0000000007",
        ] {
            assert_eq!(code(accepted), None, "{accepted}");
        }
        // The check digit first: a wrong one is reported whatever the prefix.
        assert_eq!(code("QQ0000000001"), Some(ReasonCode::IsinCheckDigit));
        let sorted = NON_COUNTRY_PREFIXES.windows(2).all(|w| w[0] < w[1]);
        assert!(sorted, "binary search needs the table sorted");
        for prefix in NON_COUNTRY_PREFIXES {
            assert!(
                COUNTRY_CODES.binary_search(prefix).is_err(),
                "{prefix} is a country"
            );
        }
    }

    #[test]
    fn every_single_digit_change_breaks_the_check() {
        let good = b"US0378331005";
        for position in 2..12 {
            for digit in b'0'..=b'9' {
                if good[position] == digit {
                    continue;
                }
                let mut changed = good.to_vec();
                changed[position] = digit;
                let text = String::from_utf8(changed).unwrap_or_default();
                assert!(Isin::parse(&text).is_err(), "{text} should fail");
            }
        }
    }
}
