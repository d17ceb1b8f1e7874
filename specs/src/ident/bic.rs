//! BIC, ISO 9362 (ISM-1 §4.3).

use super::country_table::COUNTRY_CODES;
use super::is_upper_alnum;
use crate::json::ism_string;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// A Business Identifier Code of 8 or 11 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bic {
    text: String,
}

impl Bic {
    /// Parses a BIC as ISO 9362:2014 and ISO 20022's `BICFIDec2014Identifier`
    /// define it: party prefix (4 upper-case letters or digits), country (an
    /// ISO 3166-1 alpha-2 code), suffix (2 letters or digits), and an optional
    /// branch (3 letters or digits) (ISM-1 §4.3).
    pub fn parse(text: &str) -> Result<Bic, Rejection> {
        let bytes = text.as_bytes();
        let well_formed = (bytes.len() == 8 || bytes.len() == 11)
            && bytes[..4].iter().all(is_upper_alnum)
            && bytes[4..6].iter().all(u8::is_ascii_uppercase)
            && bytes[6..].iter().all(is_upper_alnum);
        if !well_formed {
            return Err(Rejection::new(
                ReasonCode::BicFormat,
                format!("{text} is not a BIC: expected 4 letters or digits, a 2-letter country, 2 letters or digits, and optionally a 3-character branch", text = quoted(text)),
            ));
        }
        let country = &text[4..6];
        if COUNTRY_CODES.binary_search(&country).is_err() {
            return Err(Rejection::new(
                ReasonCode::BicCountry,
                format!("the BIC {text} names country {country}, which is not an ISO 3166-1 country code", text = quoted(text), country = quoted(country)),
            ));
        }
        Ok(Bic {
            text: text.to_string(),
        })
    }

    /// The ISO 3166-1 country of the institution.
    pub fn country(&self) -> &str {
        &self.text[4..6]
    }

    /// The 8-character institution part, without the branch.
    pub fn institution(&self) -> &str {
        &self.text[..8]
    }

    /// The branch code, `None` for an 8-character BIC and for the primary
    /// office `XXX` (ISO 9362: `DEUTDEFF` and `DEUTDEFFXXX` are one office).
    pub fn branch(&self) -> Option<&str> {
        self.text
            .get(8..)
            .filter(|branch| !branch.is_empty() && *branch != "XXX")
    }

    /// Whether two BICs name the same office (ISM-1 §6.1 duty 6): the same
    /// institution part, and the same branch when both name a branch.
    pub fn same_institution(&self, other: &Bic) -> bool {
        self.institution() == other.institution()
            && match (self.branch(), other.branch()) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

ism_string!(Bic);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_institution_ignores_a_missing_or_primary_branch() {
        let bic = |text: &str| Bic::parse(text).ok();
        let same = |a: &str, b: &str| match (bic(a), bic(b)) {
            (Some(a), Some(b)) => a.same_institution(&b),
            _ => false,
        };
        assert!(same("DEUTDEFF", "DEUTDEFFXXX"));
        assert!(same("DEUTDEFF", "DEUTDEFF500"));
        assert!(same("DEUTDEFF500", "DEUTDEFF500"));
        assert!(!same("DEUTDEFF500", "DEUTDEFF501"));
        // A BIC without a branch (or with XXX) names the institution, which any of its branches is.
        assert!(same("DEUTDEFFXXX", "DEUTDEFF501"));
        assert!(!same("DEUTDEFF", "DEUTDEMM"));
        assert_eq!(
            bic("DEUTDEFF500").as_ref().and_then(Bic::branch),
            Some("500")
        );
        assert_eq!(bic("DEUTDEFFXXX").as_ref().and_then(Bic::branch), None);
    }

    #[test]
    fn accepts_eight_and_eleven_characters() {
        for bic in [
            "DEUTDEFF",
            "DEUTDEFF500",
            "CHASUS33",
            "MGTCBEBEECL",
            "SICVFRPP",
            "DAKVDEFFXXX",
            "1234DEFF",
        ] {
            assert!(Bic::parse(bic).is_ok(), "{bic}");
        }
        let bic = Bic::parse("DEUTDEFF500").ok();
        assert_eq!(bic.as_ref().map(Bic::country), Some("DE"));
        assert_eq!(bic.as_ref().map(Bic::institution), Some("DEUTDEFF"));
    }

    #[test]
    fn refuses_bad_shape_and_country() {
        let code = |t: &str| Bic::parse(t).err().map(|r| r.code);
        assert_eq!(code("DEUTDEF"), Some(ReasonCode::BicFormat));
        assert_eq!(code("DEUTDEFF5"), Some(ReasonCode::BicFormat));
        assert_eq!(code("deutdeff"), Some(ReasonCode::BicFormat));
        assert_eq!(code("DEUT1EFF"), Some(ReasonCode::BicFormat));
        assert_eq!(code("DEUTZZFF"), Some(ReasonCode::BicCountry));
    }
}
