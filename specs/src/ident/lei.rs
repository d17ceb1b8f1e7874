//! LEI, ISO 17442 (ISM-1 §4.2).

use super::{alphanumeric_value, is_upper_alnum};
use crate::json::ism_string;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// A Legal Entity Identifier whose ISO 7064 MOD 97-10 check holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lei {
    text: String,
}

impl Lei {
    /// Parses an LEI: 18 upper-case letters or digits and 2 check digits, such
    /// that the whole, letters read as 10–35, is 1 modulo 97 (ISM-1 §4.2).
    pub fn parse(text: &str) -> Result<Lei, Rejection> {
        let bytes = text.as_bytes();
        let well_formed = bytes.len() == 20
            && bytes[..18].iter().all(is_upper_alnum)
            && bytes[18..].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(Rejection::new(
                ReasonCode::LeiFormat,
                format!("{text} is not an LEI: expected 18 upper-case letters or digits then 2 check digits (20 characters)", text = quoted(text)),
            ));
        }
        if mod97(bytes) != 1 {
            return Err(Rejection::new(
                ReasonCode::LeiCheckDigits,
                format!(
                    "the LEI {text} fails its MOD 97-10 check: its check digits should be {:02}",
                    check_digits(&bytes[..18]),
                    text = quoted(text)
                ),
            ));
        }
        Ok(Lei {
            text: text.to_string(),
        })
    }
}

/// The remainder modulo 97 of the number the characters spell, letters as 10–35.
fn mod97(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0, |remainder, &byte| {
        // Callers pass only upper-case letters and digits.
        let value = alphanumeric_value(byte).unwrap_or(0);
        let scale = if value >= 10 { 100 } else { 10 };
        (remainder * scale + value) % 97
    })
}

/// The two check digits ISO 17442 appends to an 18-character prefix.
pub(crate) fn check_digits(prefix: &[u8]) -> u32 {
    let mut with_zeros = prefix.to_vec();
    with_zeros.extend_from_slice(b"00");
    98 - mod97(&with_zeros)
}

ism_string!(Lei);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_leis() {
        // GLEIF's own LEI, Apple Inc., Deutsche Bank AG, Toyota Motor Corp.
        for lei in [
            "506700GE1G29325QX363",
            "HWUPKR0MPOU8FGXBT394",
            "7LTWFZYICNSX8D621K86",
            "5493006W3QUS5LMH6R84",
        ] {
            assert!(Lei::parse(lei).is_ok(), "{lei}");
        }
    }

    #[test]
    fn refuses_wrong_check_digits_and_shape() {
        let code = |t: &str| Lei::parse(t).err().map(|r| r.code);
        assert_eq!(
            code("506700GE1G29325QX364"),
            Some(ReasonCode::LeiCheckDigits)
        );
        assert_eq!(code("506700GE1G29325QX3"), Some(ReasonCode::LeiFormat));
        assert_eq!(code("506700ge1g29325qx363"), Some(ReasonCode::LeiFormat));
        assert_eq!(code("506700GE1G29325QX3A3"), Some(ReasonCode::LeiFormat));
    }

    #[test]
    fn computed_check_digits_validate() {
        let prefix = b"529900T8BM49AURSDO";
        let text = format!(
            "{}{:02}",
            String::from_utf8_lossy(prefix),
            check_digits(prefix)
        );
        assert!(Lei::parse(&text).is_ok(), "{text}");
    }
}
