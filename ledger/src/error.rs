//! Ledger errors: a stable reason code and a sentence.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! ledger_reasons {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal; )*) => {
        /// Why the ledger refused an operation. The text form is stable and is
        /// recorded in the journal for refused operations.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum LedgerReason {
            $( $(#[$doc])* #[serde(rename = $text)] $variant, )*
        }

        impl LedgerReason {
            /// Every reason.
            pub const ALL: &'static [LedgerReason] = &[$(LedgerReason::$variant),*];

            /// The stable code, e.g. `INSUFFICIENT_FUNDS`.
            pub fn as_str(self) -> &'static str {
                match self { $( LedgerReason::$variant => $text, )* }
            }
        }
    };
}

ledger_reasons! {
    /// An account id is malformed.
    AccountIdInvalid = "ACCOUNT_ID_INVALID";
    /// An asset is neither a valid ISIN nor a settleable currency.
    AssetInvalid = "ASSET_INVALID";
    /// An amount is not a positive decimal with the asset's precision.
    AmountInvalid = "AMOUNT_INVALID";
    /// An amount or a balance would not fit 64 bits.
    AmountOverflow = "AMOUNT_OVERFLOW";
    /// A hashlock or preimage is not 32 bytes.
    HashLength = "HASH_LENGTH";
    /// The idempotency key is malformed.
    IdempotencyKeyInvalid = "IDEMPOTENCY_KEY_INVALID";
    /// The idempotency key was used before for a different operation.
    IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED";
    /// The account does not exist.
    AccountUnknown = "ACCOUNT_UNKNOWN";
    /// The account exists already.
    AccountExists = "ACCOUNT_EXISTS";
    /// The account is frozen.
    AccountFrozen = "ACCOUNT_FROZEN";
    /// The account is not frozen.
    AccountNotFrozen = "ACCOUNT_NOT_FROZEN";
    /// Not enough available balance.
    InsufficientFunds = "INSUFFICIENT_FUNDS";
    /// Source and destination are the same account.
    SameAccount = "SAME_ACCOUNT";
    /// No lock has this id.
    LockUnknown = "LOCK_UNKNOWN";
    /// The lock was claimed or refunded already.
    LockSettled = "LOCK_SETTLED";
    /// The lock's expiry has passed: it can no longer be claimed.
    LockExpired = "LOCK_EXPIRED";
    /// The lock's expiry has not come: it cannot be refunded yet.
    LockNotExpired = "LOCK_NOT_EXPIRED";
    /// The expiry is not in the future.
    ExpiryInPast = "EXPIRY_IN_PAST";
    /// The preimage does not hash to the lock's hashlock.
    PreimageMismatch = "PREIMAGE_MISMATCH";
    /// Too many operations in one batch.
    BatchTooLarge = "BATCH_TOO_LARGE";
    /// The store failed; nothing was acknowledged.
    StoreFailed = "STORE_FAILED";
    /// The stored journal does not verify.
    JournalCorrupt = "JOURNAL_CORRUPT";
}

impl fmt::Display for LedgerReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused operation or a failed ledger call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct LedgerError {
    // Members in lexicographic order, for the journal's canonical form.
    /// A sentence a person understands.
    pub message: String,
    /// The stable reason code.
    pub reason: LedgerReason,
}

impl LedgerError {
    /// An error with a reason and a sentence.
    pub fn new(reason: LedgerReason, message: impl Into<String>) -> LedgerError {
        LedgerError {
            reason,
            message: message.into(),
        }
    }
}
