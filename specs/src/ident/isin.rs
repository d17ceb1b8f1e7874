//! ISIN, ISO 6166 (ISM-1 §4.1).

use super::{alphanumeric_value, is_upper_alnum};
use crate::json::ism_string;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// An International Securities Identification Number with a verified check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isin {
    text: String,
}

impl Isin {
    /// Parses an ISIN: 2 upper-case letters, 9 upper-case letters or digits, and
    /// the ISO 6166 check digit (ISM-1 §4.1).
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
        Ok(Isin {
            text: text.to_string(),
        })
    }

    /// The two-letter prefix (a country, or XS/EU for international issues).
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
