//! Party identifiers: an LEI or a BIC (ISM-1 §4.4).

use super::{Bic, Lei};
use crate::json::ism_string;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// Who owns an account: a legal entity (LEI, 20 characters) or an
/// institution (BIC, 8 or 11). The lengths never overlap, so the text alone
/// says which it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId {
    text: String,
}

impl PartyId {
    /// Parses an LEI if the text has 20 characters, a BIC if it has 8 or 11.
    pub fn parse(text: &str) -> Result<PartyId, Rejection> {
        let checked = match text.len() {
            20 => Lei::parse(text).map(|_| ()),
            8 | 11 => Bic::parse(text).map(|_| ()),
            _ => Err(Rejection::new(
                ReasonCode::PartyIdInvalid,
                format!(
                    "{text} is neither an LEI (20 characters) nor a BIC (8 or 11 characters)",
                    text = quoted(text)
                ),
            )),
        };
        checked.map(|()| PartyId {
            text: text.to_string(),
        })
    }

    /// Whether this party is identified by an LEI.
    pub fn is_lei(&self) -> bool {
        self.text.len() == 20
    }
}

ism_string!(PartyId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lei_or_bic_by_length() {
        assert!(PartyId::parse("506700GE1G29325QX363").is_ok_and(|p| p.is_lei()));
        assert!(PartyId::parse("DEUTDEFF").is_ok_and(|p| !p.is_lei()));
        assert_eq!(
            PartyId::parse("DEUTDEF").err().map(|r| r.code),
            Some(ReasonCode::PartyIdInvalid)
        );
        assert_eq!(
            PartyId::parse("506700GE1G29325QX364").err().map(|r| r.code),
            Some(ReasonCode::LeiCheckDigits)
        );
        assert_eq!(
            PartyId::parse("DEUTZZFF").err().map(|r| r.code),
            Some(ReasonCode::BicCountry)
        );
    }
}
