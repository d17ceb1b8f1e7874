//! The custodian's records: escrow locks, every key's first answer, the
//! indexes a watcher reads, and the keys they are stored under.

use isthmus_ledger::state::{Htlc, HtlcStatus};
use isthmus_ledger::{AccountRef, Asset, JournalPosition, LedgerError};
use isthmus_spec::ids::{hex_lower, Hashlock, Hex32, Preimage};
use serde::{Deserialize, Serialize};

use crate::ledger_side::{LockId, LockOrder};

/// A journal position on the underlying ledger, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Position {
    pub(super) seq: u64,
    pub(super) entry_hash: Hex32,
    pub(super) time_ms: u64,
}

impl From<JournalPosition> for Position {
    fn from(p: JournalPosition) -> Position {
        Position {
            seq: p.seq,
            entry_hash: p.entry_hash,
            time_ms: p.time_ms,
        }
    }
}

impl From<&Position> for JournalPosition {
    fn from(p: &Position) -> JournalPosition {
        JournalPosition {
            seq: p.seq,
            entry_hash: p.entry_hash.clone(),
            time_ms: p.time_ms,
        }
    }
}

/// Where an escrow lock stands. The `…ing` states are written before the
/// transfer they announce, the others after it. A claim or refund is
/// committed once its `…ing` state is durable: from then on the lock reads
/// as claimed (its secret public) or refunded, and the delivery out of escrow
/// only catches up. `event` is the cursor of the lock event announcing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum EscrowState {
    Locking,
    Open,
    Claiming {
        key: String,
        preimage: Preimage,
        at_ms: u64,
        event: u64,
    },
    Claimed {
        key: String,
        preimage: Preimage,
        at_ms: u64,
        event: u64,
        delivered: Position,
    },
    Refunding {
        key: String,
        at_ms: u64,
        event: u64,
    },
    Refunded {
        key: String,
        at_ms: u64,
        event: u64,
        delivered: Position,
    },
}

/// One escrow lock, stored under `lock/<token of its order's key>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct EscrowLock {
    pub(super) order_key: String,
    pub(super) terms: LockTerms,
    /// Set once the delivery into escrow is journaled: the lock's id is its sequence number.
    pub(super) locked: Option<Position>,
    pub(super) state: EscrowState,
    /// Deliveries out of escrow the ledger refused so far; part of the
    /// derived transfer key, so that the next attempt is a new transfer
    /// rather than a replay of the refusal.
    pub(super) refused_deliveries: u32,
}

/// What a lock order asked: the lock's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct LockTerms {
    pub(super) from: AccountRef,
    pub(super) beneficiary: AccountRef,
    pub(super) asset: Asset,
    pub(super) units: u64,
    pub(super) hashlock: Hashlock,
    pub(super) expiry_ms: u64,
}

impl LockTerms {
    pub(super) fn of(order: &LockOrder) -> LockTerms {
        LockTerms {
            from: order.from.clone(),
            beneficiary: order.beneficiary.clone(),
            asset: order.asset.clone(),
            units: order.units,
            hashlock: order.hashlock.clone(),
            expiry_ms: order.expiry_ms,
        }
    }
}

/// What a key asked for; a key is bound to its first request forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Asked {
    Lock(LockTerms),
    Claim { lock_id: LockId, preimage: Preimage },
    Refund { lock_id: LockId },
}

impl Asked {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Asked::Lock(_) => "lock",
            Asked::Claim { .. } => "claim",
            Asked::Refund { .. } => "refund",
        }
    }
}

/// Every key the custodian answered, under `key/<token>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct KeyUse {
    pub(super) key: String,
    pub(super) asked: Asked,
    /// The final refusal, if the request was refused.
    pub(super) refusal: Option<LedgerError>,
}

impl EscrowLock {
    pub(super) fn lock_id(&self) -> Option<LockId> {
        self.locked.as_ref().map(|p| LockId::of_entry(p.seq))
    }

    /// The lock as a watcher sees it; `None` before the delivery into escrow.
    pub(super) fn view(&self) -> Option<Htlc> {
        let lock_id = self.lock_id()?;
        let terms = &self.terms;
        let status = match &self.state {
            EscrowState::Locking | EscrowState::Open => HtlcStatus::Open,
            EscrowState::Claiming {
                preimage, at_ms, ..
            }
            | EscrowState::Claimed {
                preimage, at_ms, ..
            } => HtlcStatus::Claimed {
                at_ms: *at_ms,
                preimage: preimage.clone(),
            },
            EscrowState::Refunding { at_ms, .. } | EscrowState::Refunded { at_ms, .. } => {
                HtlcStatus::Refunded { at_ms: *at_ms }
            }
        };
        Some(Htlc {
            lock_id: lock_id.seq(),
            from: terms.from.clone(),
            beneficiary: terms.beneficiary.clone(),
            asset: terms.asset.clone(),
            units: terms.units,
            hashlock: terms.hashlock.clone(),
            expiry_ms: terms.expiry_ms,
            status,
        })
    }
}

/// A short, fixed-length token of a caller's key, for store keys and derived transfer keys.
pub(super) fn key_token(key: &str) -> String {
    hex_lower(&Hex32::sha256_of(key.as_bytes()).bytes()[..16])
}

pub(super) fn prefixed(prefix: &str, rest: &[u8]) -> Vec<u8> {
    let mut key = prefix.as_bytes().to_vec();
    key.extend_from_slice(rest);
    key
}

pub(super) fn key_use_key(token: &str) -> Vec<u8> {
    prefixed("key/", token.as_bytes())
}

pub(super) fn lock_key(token: &str) -> Vec<u8> {
    prefixed("lock/", token.as_bytes())
}

pub(super) fn id_key(lock_id: LockId) -> Vec<u8> {
    prefixed("id/", &lock_id.seq().to_be_bytes())
}

pub(super) fn open_key(expiry_ms: u64, lock_id: LockId) -> Vec<u8> {
    let mut key = prefixed("open/", &expiry_ms.to_be_bytes());
    key.extend_from_slice(&lock_id.seq().to_be_bytes());
    key
}

pub(super) fn held_prefix(account: &AccountRef) -> Vec<u8> {
    let mut key = prefixed("held/", account.to_string().as_bytes());
    // Account text never contains NUL, so no account's prefix is another's.
    key.push(0);
    key
}

pub(super) fn held_key(account: &AccountRef, token: &str) -> Vec<u8> {
    let mut key = held_prefix(account);
    key.extend_from_slice(token.as_bytes());
    key
}

pub(super) fn pending_key(token: &str) -> Vec<u8> {
    prefixed("pending/", token.as_bytes())
}

pub(super) fn event_key(cursor: u64) -> Vec<u8> {
    prefixed("event/", &cursor.to_be_bytes())
}

pub(super) const NEXT_EVENT_KEY: &[u8] = b"meta/next_event";
pub(super) const TIME_KEY: &[u8] = b"meta/time";

pub(super) fn put<T: Serialize>(key: Vec<u8>, value: &T) -> (Vec<u8>, Option<Vec<u8>>) {
    // Records hold strings, numbers and objects only: serialising cannot fail.
    (key, Some(serde_json::to_vec(value).unwrap_or_default()))
}

pub(super) fn delete(key: Vec<u8>) -> (Vec<u8>, Option<Vec<u8>>) {
    (key, None)
}

pub(super) fn u64_of(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}
