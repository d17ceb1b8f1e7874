//! Accounts: an owner (LEI or BIC) and a safekeeping or cash account id.

use std::fmt;
use std::str::FromStr;

use isthmus_spec::ident::PartyId;
use isthmus_spec::ids::Reference;
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, LedgerReason};

/// Identifies an account on this ledger, written `OWNER/ACCOUNT`, e.g.
/// `549300ISTHMUSSELL015/SAFE-SELLER-01`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId {
    /// The owner, by LEI or BIC.
    pub owner: PartyId,
    /// The account id (ISM/1 reference rules).
    pub account: Reference,
}

impl AccountId {
    /// Builds an account id from its two parts, validating both.
    pub fn new(owner: &str, account: &str) -> Result<AccountId, LedgerError> {
        let owner = PartyId::parse(owner).map_err(|r| {
            LedgerError::new(
                LedgerReason::AccountIdInvalid,
                format!("account owner: {}", r.message),
            )
        })?;
        let account = Reference::parse(account).map_err(|r| {
            LedgerError::new(
                LedgerReason::AccountIdInvalid,
                format!("account id: {}", r.message),
            )
        })?;
        Ok(AccountId { owner, account })
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.account)
    }
}

impl FromStr for AccountId {
    type Err = LedgerError;
    /// Parses `OWNER/ACCOUNT`; the owner never contains `/`, the account may.
    fn from_str(text: &str) -> Result<AccountId, LedgerError> {
        let Some((owner, account)) = text.split_once('/') else {
            return Err(LedgerError::new(
                LedgerReason::AccountIdInvalid,
                format!("\"{text}\" is not an account: write OWNER/ACCOUNT, e.g. 549300ISTHMUSSELL015/SAFE-1"),
            ));
        };
        AccountId::new(owner, account)
    }
}

/// Written as its `OWNER/ACCOUNT` text.
impl Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let id: AccountId = "DEUTDEFF/SAFE/7".parse().expect("valid");
        assert_eq!(id.to_string(), "DEUTDEFF/SAFE/7");
        for bad in ["DEUTDEFF", "DEUT/SAFE", "DEUTDEFF/", "DEUTDEFF/A//B"] {
            assert_eq!(
                bad.parse::<AccountId>().err().map(|e| e.reason),
                Some(LedgerReason::AccountIdInvalid),
                "{bad}"
            );
        }
    }
}
