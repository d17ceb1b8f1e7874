//! Ledger errors: a stable reason code and a sentence.

use std::fmt;

use isthmus_spec::ids::Hex32;

use serde::{Deserialize, Serialize};

macro_rules! ledger_reasons {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, final: $final:literal; )*) => {
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

            /// Whether a refusal for this reason is final for its key (ISM-1
            /// §9.3): `false` for the reasons that say the ledger could not
            /// answer now (its store failed, it is full or damaged).
            pub fn is_final(self) -> bool {
                match self { $( LedgerReason::$variant => $final, )* }
            }
        }
    };
}

ledger_reasons! {
    /// An account id is malformed.
    AccountIdInvalid = "ACCOUNT_ID_INVALID", final: true;
    /// An asset is neither a valid ISIN nor a settleable currency.
    AssetInvalid = "ASSET_INVALID", final: true;
    /// An amount is not a positive decimal with the asset's precision.
    AmountInvalid = "AMOUNT_INVALID", final: true;
    /// An amount or a balance would not fit 64 bits.
    AmountOverflow = "AMOUNT_OVERFLOW", final: true;
    /// A hashlock or preimage is not 32 bytes.
    HashLength = "HASH_LENGTH", final: true;
    /// The idempotency key is malformed.
    IdempotencyKeyInvalid = "IDEMPOTENCY_KEY_INVALID", final: true;
    /// The idempotency key was used before for a different operation.
    IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED", final: true;
    /// The account does not exist.
    AccountUnknown = "ACCOUNT_UNKNOWN", final: true;
    /// The account exists already.
    AccountExists = "ACCOUNT_EXISTS", final: true;
    /// The account is frozen.
    AccountFrozen = "ACCOUNT_FROZEN", final: true;
    /// The account is not frozen.
    AccountNotFrozen = "ACCOUNT_NOT_FROZEN", final: true;
    /// Not enough available balance.
    InsufficientFunds = "INSUFFICIENT_FUNDS", final: true;
    /// Source and destination are the same account.
    SameAccount = "SAME_ACCOUNT", final: true;
    /// No lock has this id.
    LockUnknown = "LOCK_UNKNOWN", final: true;
    /// The journal has no entry with this sequence number.
    EntryUnknown = "ENTRY_UNKNOWN", final: true;
    /// The lock was claimed or refunded already.
    LockSettled = "LOCK_SETTLED", final: true;
    /// The lock's expiry has passed: it can no longer be claimed.
    LockExpired = "LOCK_EXPIRED", final: true;
    /// The lock's expiry has not come: it cannot be refunded yet.
    LockNotExpired = "LOCK_NOT_EXPIRED", final: true;
    /// The expiry is not in the future.
    ExpiryInPast = "EXPIRY_IN_PAST", final: true;
    /// The preimage does not hash to the lock's hashlock.
    PreimageMismatch = "PREIMAGE_MISMATCH", final: true;
    /// Too many operations in one batch.
    BatchTooLarge = "BATCH_TOO_LARGE", final: true;
    /// The store failed; nothing was acknowledged.
    StoreFailed = "STORE_FAILED", final: false;
    /// The stored journal does not verify.
    JournalCorrupt = "JOURNAL_CORRUPT", final: false;
    /// The journal holds 2^63 - 1 entries, the most an ISM/1 counter can name.
    JournalFull = "JOURNAL_FULL", final: false;
    /// A lock's expiry is not an instant the ledger records exactly: finer than its millisecond clock, or past what ISM/1 can write.
    ExpiryPrecision = "EXPIRY_PRECISION", final: true;
    /// A lock request names another market than the ledger's.
    MarketMismatch = "MARKET_MISMATCH", final: true;
    /// A claim or refund is committed, but the ledger has not yet delivered it out of escrow.
    DeliveryPending = "DELIVERY_PENDING", final: false;
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

/// Where a ledger journaled an operation or its refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalPosition {
    /// The journal entry's sequence number.
    pub seq: u64,
    /// The journal entry's hash.
    pub entry_hash: Hex32,
    /// Ledger time of the entry, Unix milliseconds.
    pub time_ms: u64,
}

/// Which of the three ways a ledger call can fail; callers decide on this
/// alone whether to retry (see [`LedgerFailure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// Refused, and final.
    Refused,
    /// Perhaps applied: repeat with the same idempotency key.
    OutcomeUnknown,
    /// Not applied: the ledger cannot serve now.
    Unavailable,
}

/// Why a ledger call did not apply — one convention for the ledger, the
/// native and the custody ledger sides:
///
/// - [`Refused`](LedgerFailure::Refused): nothing changed, and the same
///   request with the same idempotency key will always get this answer
///   (a refusal the ledger could journal is journaled against the key);
/// - [`OutcomeUnknown`](LedgerFailure::OutcomeUnknown): the request may or may
///   not have been applied (a write was under way when the store failed);
///   repeat it with the same idempotency key, which applies it at most once;
/// - [`Unavailable`](LedgerFailure::Unavailable): nothing was applied because
///   the ledger cannot serve (its store is unreadable, an earlier write failed
///   and it must be reopened); retry later, after the operator's fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerFailure {
    /// Refused, and final.
    #[error("refused: {error}")]
    Refused {
        /// The reason.
        error: LedgerError,
        /// The journal entry recording the refusal, when it was journaled.
        journaled: Option<JournalPosition>,
    },
    /// Perhaps applied: repeat with the same idempotency key to learn which.
    #[error("outcome unknown (repeat the request with the same idempotency key): {0}")]
    OutcomeUnknown(LedgerError),
    /// Not applied: the ledger cannot serve now.
    #[error("ledger unavailable: {0}")]
    Unavailable(LedgerError),
}

impl LedgerFailure {
    /// A final refusal that was not journaled (bad input, a reused key).
    pub fn refused(reason: LedgerReason, message: impl Into<String>) -> LedgerFailure {
        debug_assert!(reason.is_final(), "{reason} is not a final refusal");
        LedgerFailure::Refused {
            error: LedgerError::new(reason, message),
            journaled: None,
        }
    }

    /// An outcome the caller must learn by repeating the request.
    pub fn unknown(reason: LedgerReason, message: impl Into<String>) -> LedgerFailure {
        debug_assert!(
            !reason.is_final(),
            "{reason} is final, not an unknown outcome"
        );
        LedgerFailure::OutcomeUnknown(LedgerError::new(reason, message))
    }

    /// A ledger that cannot serve now.
    pub fn unavailable(reason: LedgerReason, message: impl Into<String>) -> LedgerFailure {
        debug_assert!(
            !reason.is_final(),
            "{reason} is final, not an unavailable ledger"
        );
        LedgerFailure::Unavailable(LedgerError::new(reason, message))
    }

    /// Which kind of failure this is.
    pub fn kind(&self) -> FailureKind {
        match self {
            LedgerFailure::Refused { .. } => FailureKind::Refused,
            LedgerFailure::OutcomeUnknown(_) => FailureKind::OutcomeUnknown,
            LedgerFailure::Unavailable(_) => FailureKind::Unavailable,
        }
    }

    /// The reason code and sentence.
    pub fn error(&self) -> &LedgerError {
        match self {
            LedgerFailure::Refused { error, .. }
            | LedgerFailure::OutcomeUnknown(error)
            | LedgerFailure::Unavailable(error) => error,
        }
    }

    /// The reason code.
    pub fn reason(&self) -> LedgerReason {
        self.error().reason
    }

    /// Whether the answer is final: repeating the request cannot change it.
    pub fn is_final(&self) -> bool {
        self.kind() == FailureKind::Refused
    }
}

/// Input the ledger can check without its state (a malformed account, asset
/// or amount) is refused before anything is journaled, and finally.
impl From<LedgerError> for LedgerFailure {
    fn from(error: LedgerError) -> LedgerFailure {
        debug_assert!(error.reason.is_final(), "{error} is not a final refusal");
        LedgerFailure::Refused {
            error,
            journaled: None,
        }
    }
}

/// A failed read of the store: nothing was applied.
pub(crate) fn store_unavailable(error: &isthmus_store::StoreError) -> LedgerFailure {
    LedgerFailure::unavailable(LedgerReason::StoreFailed, error.to_string())
}

/// A journal log's failure as the ledger reports it: damage names the first
/// entry it affects and where it is; anything else is the store failing.
pub(crate) fn log_unavailable(error: &isthmus_store::log::LogError) -> LedgerFailure {
    use isthmus_store::log::LogError;
    match error {
        LogError::Damaged(damage) => LedgerFailure::unavailable(
            LedgerReason::JournalCorrupt,
            format!("journal entry {}: {damage}", damage.record),
        ),
        LogError::NotALog(why) => LedgerFailure::unavailable(
            LedgerReason::StoreFailed,
            format!("no ledger journal here: {why}"),
        ),
        LogError::Store(error) => store_unavailable(error),
        LogError::Refused(why) => {
            LedgerFailure::unavailable(LedgerReason::StoreFailed, why.clone())
        }
    }
}
