//! Accounts: ISM/1's [`AccountRef`] (an owner by LEI or BIC, and a
//! safekeeping or cash account id), written `OWNER/ACCOUNT` in the journal.

pub use isthmus_spec::body::AccountRef;

use crate::error::{LedgerError, LedgerReason};

/// Parses `OWNER/ACCOUNT`, e.g. `549300ISTHMUSSELL015/SAFE-SELLER-01`.
pub fn parse_account(text: &str) -> Result<AccountRef, LedgerError> {
    AccountRef::parse_text(text).map_err(|rejection| {
        let part = match rejection.field.as_deref() {
            Some("owner") => "its owner: ",
            Some("account") => "its account id: ",
            _ => "",
        };
        LedgerError::new(
            LedgerReason::AccountIdInvalid,
            format!(
                "\"{text}\" is not an account of this ledger; {part}{}",
                rejection.message
            ),
        )
    })
}

/// Serde for an [`AccountRef`] as its `OWNER/ACCOUNT` text, the journal's form.
pub(crate) mod account_text {
    use isthmus_spec::body::AccountRef;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        account: &AccountRef,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(account)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<AccountRef, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_account(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let id = parse_account("DEUTDEFF/SAFE/7").expect("valid");
        assert_eq!(id.to_string(), "DEUTDEFF/SAFE/7");
        for bad in ["DEUTDEFF", "DEUT/SAFE", "DEUTDEFF/", "DEUTDEFF/A//B"] {
            assert_eq!(
                parse_account(bad).err().map(|e| e.reason),
                Some(LedgerReason::AccountIdInvalid),
                "{bad}"
            );
        }
    }
}
