//! The native adapter: an in-process `isthmus-ledger` that locks natively.

use isthmus_spec::jcs::parse_strict;
use isthmus_spec::limits::MAX_NESTING_DEPTH;
use isthmus_spec::{Body, Envelope, Kind};
use serde_json::Value;

use crate::error::{TranslateError, Translation};

/// Writes an ISM/1 body as canonical `{"kind": …, "body": …}`, the form
/// [`ism_body_from_bytes`] reads back.
pub fn ism_body_to_bytes(body: &Body) -> Vec<u8> {
    let mut members = serde_json::Map::new();
    members.insert("kind".into(), Value::String(body.kind().as_str().into()));
    members.insert("body".into(), body.to_json());
    isthmus_spec::jcs::canonical_bytes(&Value::Object(members))
}

/// Reads ISM/1 JSON: a whole envelope (its body is taken) or `{"kind":…, "body":…}`.
pub fn ism_body_from_bytes(bytes: &[u8]) -> Result<Translation<Body>, TranslateError> {
    let value = parse_strict(bytes, MAX_NESTING_DEPTH)?;
    if value.get("version").is_some() {
        return Ok(Translation::lossless(Envelope::from_value(&value)?.body));
    }
    let kind = match value.get("kind") {
        Some(kind) => <Kind as isthmus_spec::json::Json>::from_json(kind, "kind")?,
        None => {
            return Err(isthmus_spec::Rejection::at(
                isthmus_spec::ReasonCode::MissingField,
                "kind",
                "an ISM/1 body needs its \"kind\"",
            )
            .into())
        }
    };
    let body = value.get("body").unwrap_or(&Value::Null);
    Ok(Translation::lossless(Body::from_json(kind, body, "body")?))
}

use std::sync::Mutex;

use async_trait::async_trait;
use isthmus_ledger::operation::Outcome;
use isthmus_ledger::state::Holding;
use isthmus_ledger::{
    AccountRef, Asset, Effect, Ledger, LedgerError, LedgerReason, Operation, Receipt, Request,
};
use isthmus_spec::body::JournalRef;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Counter, Hex32};
use isthmus_store::KvStore;

use crate::adapter::{LedgerSide, LockOrder, LockReceiptInfo};

/// Prefix of lock ids: `HTLC-<journal sequence of the lock>`.
pub const LOCK_ID_PREFIX: &str = "HTLC-";

/// The lock id text of a lock's journal sequence number.
pub fn lock_id_text(seq: u64) -> String {
    format!("{LOCK_ID_PREFIX}{seq}")
}

/// Parses a lock id written by [`lock_id_text`]; anything else names no lock.
pub fn parse_lock_id(text: &str) -> Result<u64, LedgerError> {
    // Only the canonical spelling names a lock: "HTLC-007" or "HTLC-+7" are not lock 7.
    text.strip_prefix(LOCK_ID_PREFIX)
        .and_then(|digits| digits.parse::<u64>().ok())
        .filter(|&seq| lock_id_text(seq) == text)
        .ok_or_else(|| {
            LedgerError::new(
                LedgerReason::LockUnknown,
                format!("\"{text}\" is not a lock id of this ledger"),
            )
        })
}

/// The ISM/1 journal reference of a ledger receipt.
pub fn journal_ref(market: &Mic, receipt: &Receipt) -> Result<JournalRef, LedgerError> {
    let sequence = Counter::new(receipt.seq).ok_or_else(|| {
        LedgerError::new(
            LedgerReason::AmountOverflow,
            "journal sequence beyond 2^63 - 1",
        )
    })?;
    Ok(JournalRef {
        market: market.clone(),
        sequence,
        entry_hash: receipt.entry_hash.clone(),
    })
}

/// An `isthmus-ledger` in the same process, which locks natively.
///
/// Ledger calls are short and synchronous (one fsync per call), so they run
/// under a plain mutex and are never held across an `.await`.
pub struct NativeLedger<S: KvStore + Send> {
    market: Mic,
    ledger: Mutex<Ledger<S>>,
}

impl<S: KvStore + Send> NativeLedger<S> {
    /// Wraps a ledger of `market`.
    pub fn new(market: Mic, ledger: Ledger<S>) -> NativeLedger<S> {
        NativeLedger {
            market,
            ledger: Mutex::new(ledger),
        }
    }

    fn execute(&self, key: &str, operation: Operation) -> Result<Receipt, LedgerError> {
        let mut ledger = self.ledger.lock().map_err(|_| {
            LedgerError::new(
                LedgerReason::StoreFailed,
                "the ledger's lock is poisoned by an earlier failure",
            )
        })?;
        ledger.execute(Request::new(key, operation))
    }

    /// Runs an operation; a refusal becomes an error with the ledger's reason.
    fn applied(&self, key: &str, operation: Operation) -> Result<(Receipt, Effect), LedgerError> {
        let receipt = self.execute(key, operation)?;
        match receipt.outcome.clone() {
            Outcome::Applied(effect) => Ok((receipt, effect)),
            Outcome::Refused(error) => Err(error),
        }
    }

    /// Direct access to the ledger, e.g. to open and fund accounts.
    pub fn with_ledger<T>(&self, f: impl FnOnce(&mut Ledger<S>) -> T) -> Result<T, LedgerError> {
        let mut ledger = self.ledger.lock().map_err(|_| {
            LedgerError::new(LedgerReason::StoreFailed, "the ledger's lock is poisoned")
        })?;
        Ok(f(&mut ledger))
    }
}

#[async_trait]
impl<S: KvStore + Send + Sync> LedgerSide for NativeLedger<S> {
    async fn lock(&self, order: &LockOrder) -> Result<LockReceiptInfo, LedgerError> {
        let operation = Operation::Lock {
            asset: order.asset.clone(),
            beneficiary: order.beneficiary.clone(),
            expiry_ms: order.expiry_ms,
            from: order.from.clone(),
            hashlock: order.hashlock.clone(),
            units: order.asset.units(&order.amount)?,
        };
        let (receipt, effect) = self.applied(&order.idempotency_key, operation)?;
        let Effect::Locked { lock_id } = effect else {
            return Err(LedgerError::new(
                LedgerReason::JournalCorrupt,
                format!("a lock recorded {effect:?}"),
            ));
        };
        Ok(LockReceiptInfo {
            lock_id: lock_id_text(lock_id),
            journal: journal_ref(&self.market, &receipt)?,
        })
    }

    async fn claim(
        &self,
        idempotency_key: &str,
        lock_id: &str,
        preimage: &Hex32,
    ) -> Result<LockReceiptInfo, LedgerError> {
        let operation = Operation::Claim {
            lock_id: parse_lock_id(lock_id)?,
            preimage: preimage.clone(),
        };
        let (receipt, _) = self.applied(idempotency_key, operation)?;
        Ok(LockReceiptInfo {
            lock_id: lock_id.to_string(),
            journal: journal_ref(&self.market, &receipt)?,
        })
    }

    async fn refund(
        &self,
        idempotency_key: &str,
        lock_id: &str,
    ) -> Result<LockReceiptInfo, LedgerError> {
        let (receipt, _) = self.applied(
            idempotency_key,
            Operation::Refund {
                lock_id: parse_lock_id(lock_id)?,
            },
        )?;
        Ok(LockReceiptInfo {
            lock_id: lock_id.to_string(),
            journal: journal_ref(&self.market, &receipt)?,
        })
    }

    async fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerError> {
        self.with_ledger(|ledger| ledger.holdings(account))?
    }
}
