//! Operations a ledger applies, and what each one did.

use isthmus_spec::ids::{Hashlock, Preimage};
use serde::{Deserialize, Serialize};

use crate::account::{parse_account, AccountRef};
use crate::asset::Asset;
use crate::error::{LedgerError, LedgerReason};

/// Serialises a u64 as a decimal string, so that journal entries hold no
/// JSON numbers (RFC 8785 would read them as doubles).
pub(crate) mod u64_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        let text = String::deserialize(deserializer)?;
        let well_formed = !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit())
            && (text == "0" || !text.starts_with('0'));
        if !well_formed {
            return Err(serde::de::Error::custom(format!(
                "\"{text}\" is not a decimal integer"
            )));
        }
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One change to the ledger. Amounts are integer units of the asset
/// ([`Asset::units`]); build operations from untrusted text with the
/// constructors, which validate everything that can be checked without state.
///
/// Members are declared in lexicographic order, and variants are written as
/// single-member objects, so that serde's output is already the RFC 8785
/// canonical form (checked by [`crate::journal`] tests and by `verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// Opens an empty account.
    OpenAccount {
        /// The new account.
        #[serde(with = "crate::account::account_text")]
        account: AccountRef,
    },
    /// Creates securities (a registrar) or money (a cash agent) in an account.
    Issue {
        /// Where the new units go.
        #[serde(with = "crate::account::account_text")]
        account: AccountRef,
        /// What is issued.
        asset: Asset,
        /// How many units.
        #[serde(with = "u64_text")]
        units: u64,
    },
    /// Moves available units free of payment.
    Transfer {
        /// What moves.
        asset: Asset,
        /// Debited account.
        #[serde(with = "crate::account::account_text")]
        from: AccountRef,
        /// Credited account.
        #[serde(with = "crate::account::account_text")]
        to: AccountRef,
        /// How many units.
        #[serde(with = "u64_text")]
        units: u64,
    },
    /// Locks units under a hashlock until an expiry; its lock id is the
    /// journal sequence number of this operation.
    Lock {
        /// What is locked.
        asset: Asset,
        /// The only account a claim credits.
        #[serde(with = "crate::account::account_text")]
        beneficiary: AccountRef,
        /// Ledger time (Unix ms) from which the lock can be refunded and no longer claimed.
        #[serde(with = "u64_text")]
        expiry_ms: u64,
        /// The locker, refunded after expiry.
        #[serde(with = "crate::account::account_text")]
        from: AccountRef,
        /// SHA-256 of the secret.
        hashlock: Hashlock,
        /// How many units.
        #[serde(with = "u64_text")]
        units: u64,
    },
    /// Claims a lock with its secret, before expiry, for its beneficiary.
    Claim {
        /// The lock.
        #[serde(with = "u64_text")]
        lock_id: u64,
        /// The 32-byte secret.
        preimage: Preimage,
    },
    /// Returns an expired lock to its locker.
    Refund {
        /// The lock.
        #[serde(with = "u64_text")]
        lock_id: u64,
    },
    /// Freezes an account: it can no longer transfer or lock.
    Freeze {
        /// The account.
        #[serde(with = "crate::account::account_text")]
        account: AccountRef,
    },
    /// Lifts a freeze.
    Unfreeze {
        /// The account.
        #[serde(with = "crate::account::account_text")]
        account: AccountRef,
    },
}

fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], LedgerError> {
    let array: [u8; 32] = bytes.try_into().map_err(|_| {
        LedgerError::new(
            LedgerReason::HashLength,
            format!("a {what} is 32 bytes; {} were given", bytes.len()),
        )
    })?;
    Ok(array)
}

impl Operation {
    /// `OpenAccount` from text.
    pub fn open_account(account: &str) -> Result<Operation, LedgerError> {
        Ok(Operation::OpenAccount {
            account: parse_account(account)?,
        })
    }

    /// `Issue` from text; the amount is decimal text in the asset's precision.
    pub fn issue(account: &str, asset: &str, amount: &str) -> Result<Operation, LedgerError> {
        let asset = Asset::parse(asset)?;
        Ok(Operation::Issue {
            account: parse_account(account)?,
            units: asset.units(amount)?,
            asset,
        })
    }

    /// `Transfer` from text.
    pub fn transfer(
        from: &str,
        to: &str,
        asset: &str,
        amount: &str,
    ) -> Result<Operation, LedgerError> {
        let asset = Asset::parse(asset)?;
        Ok(Operation::Transfer {
            from: parse_account(from)?,
            to: parse_account(to)?,
            units: asset.units(amount)?,
            asset,
        })
    }

    /// `Lock` from text and raw hashlock bytes (which must be 32).
    pub fn lock(
        from: &str,
        beneficiary: &str,
        asset: &str,
        amount: &str,
        hashlock: &[u8],
        expiry_ms: u64,
    ) -> Result<Operation, LedgerError> {
        let asset = Asset::parse(asset)?;
        Ok(Operation::Lock {
            from: parse_account(from)?,
            beneficiary: parse_account(beneficiary)?,
            units: asset.units(amount)?,
            asset,
            hashlock: Hashlock::from_bytes(hash32(hashlock, "hashlock")?),
            expiry_ms,
        })
    }

    /// `Claim` from raw preimage bytes (which must be 32).
    pub fn claim(lock_id: u64, preimage: &[u8]) -> Result<Operation, LedgerError> {
        Ok(Operation::Claim {
            lock_id,
            preimage: Preimage::from_bytes(hash32(preimage, "preimage")?),
        })
    }

    /// The name of the operation, as in the journal.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::OpenAccount { .. } => "open_account",
            Operation::Issue { .. } => "issue",
            Operation::Transfer { .. } => "transfer",
            Operation::Lock { .. } => "lock",
            Operation::Claim { .. } => "claim",
            Operation::Refund { .. } => "refund",
            Operation::Freeze { .. } => "freeze",
            Operation::Unfreeze { .. } => "unfreeze",
        }
    }
}

/// What an applied operation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// The account was opened.
    AccountOpened,
    /// Units were created.
    Issued,
    /// Units moved.
    Transferred,
    /// Units were locked; `lock_id` names the lock.
    Locked {
        /// The new lock's id.
        #[serde(with = "u64_text")]
        lock_id: u64,
    },
    /// The lock was claimed for its beneficiary.
    Claimed {
        /// Who was credited.
        #[serde(with = "crate::account::account_text")]
        beneficiary: AccountRef,
    },
    /// The lock went back to its locker.
    Refunded {
        /// Who was credited.
        #[serde(with = "crate::account::account_text")]
        locker: AccountRef,
    },
    /// The account was frozen.
    Frozen,
    /// The account was unfrozen.
    Unfrozen,
}

/// The recorded result of an operation: applied with an effect, or refused with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// The operation changed the ledger.
    Applied(Effect),
    /// The operation was refused and changed nothing.
    Refused(LedgerError),
}

impl Outcome {
    /// The effect, or the refusal as an error.
    pub fn into_result(self) -> Result<Effect, LedgerError> {
        match self {
            Outcome::Applied(effect) => Ok(effect),
            Outcome::Refused(error) => Err(error),
        }
    }

    /// Whether the operation was applied.
    pub fn is_applied(&self) -> bool {
        matches!(self, Outcome::Applied(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_refuse_bad_input() {
        let owner = "DEUTDEFF/A";
        assert_eq!(
            Operation::lock(owner, "CHASUS33/B", "USD", "1", &[0; 31], 5)
                .err()
                .map(|e| e.reason),
            Some(LedgerReason::HashLength)
        );
        assert_eq!(
            Operation::claim(1, &[0; 33]).err().map(|e| e.reason),
            Some(LedgerReason::HashLength)
        );
        assert_eq!(
            Operation::issue("nobody", "USD", "1")
                .err()
                .map(|e| e.reason),
            Some(LedgerReason::AccountIdInvalid)
        );
        assert_eq!(
            Operation::issue(owner, "USD", "1.001")
                .err()
                .map(|e| e.reason),
            Some(LedgerReason::AmountInvalid)
        );
        assert_eq!(
            Operation::issue(owner, "ZZZ", "1").err().map(|e| e.reason),
            Some(LedgerReason::AssetInvalid)
        );
        assert_eq!(
            Operation::issue(owner, "JPY", "18446744073709551616")
                .err()
                .map(|e| e.reason),
            Some(LedgerReason::AmountInvalid)
        );
        assert_eq!(
            Operation::issue(owner, "USD", "999999999999999999")
                .err()
                .map(|e| e.reason),
            Some(LedgerReason::AmountOverflow)
        );
    }

    #[test]
    fn journal_form_has_no_numbers() {
        let op = Operation::lock(
            "DEUTDEFF/A",
            "CHASUS33/B",
            "USD",
            "10.50",
            &[7; 32],
            1_700_000_000_000,
        )
        .expect("valid");
        let text = serde_json::to_string(&op).expect("serialisable");
        assert!(
            text.contains("\"units\":\"1050\"") && text.contains("\"expiry_ms\":\"1700000000000\""),
            "{text}"
        );
        let back: Operation = serde_json::from_str(&text).expect("round trip");
        assert_eq!(back, op);
    }
}
