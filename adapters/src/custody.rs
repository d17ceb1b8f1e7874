//! The custody adapter: hashed timelocks for a ledger that cannot lock,
//! through a custodian's escrow account (DESIGN.md §4).
//!
//! lock   = free delivery from the locker into escrow, with the hashlock and expiry recorded;
//! claim  = delivery from escrow to the beneficiary, given the secret before expiry;
//! refund = delivery from escrow back to the locker, at or after expiry.
//!
//! The underlying ledger only ever sees plain transfers ([`TransferLedger`]).
//! The HTLC records live in the custodian's own store (sled in production),
//! and every step writes its intent durably before it moves anything: a
//! record says `Locking`, `Claiming` or `Refunding` before the transfer and
//! `Open`, `Claimed` or `Refunded` after. Transfers carry idempotency keys
//! derived from the lock, so redoing an interrupted step after a crash moves
//! nothing twice; [`CustodyLedger::open`] finishes every interrupted step.
//! Refusals use the same reasons, in the same order, as a native lock.

use std::sync::Mutex;

use async_trait::async_trait;
use isthmus_ledger::operation::Outcome;
use isthmus_ledger::state::Holding;
use isthmus_ledger::{AccountRef, Asset, LedgerError, LedgerReason, Operation, Receipt};
use isthmus_spec::body::JournalRef;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{hex_lower, Counter, Hex32};
use isthmus_store::Clock;
use isthmus_store::{KvStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::adapter::{LedgerSide, LockOrder, LockReceiptInfo};
use crate::native::{lock_id_text, NativeLedger};

/// What the custody adapter needs from a ledger: accounts and free transfers, nothing more.
pub trait TransferLedger: Send + Sync {
    /// `Some(frozen)` for an existing account, `None` for an unknown one.
    fn account_frozen(&self, account: &AccountRef) -> Result<Option<bool>, LedgerError>;
    /// Moves units free of payment; idempotent by `key`.
    fn transfer(
        &self,
        key: &str,
        from: &AccountRef,
        to: &AccountRef,
        asset: &Asset,
        units: u64,
    ) -> Result<Receipt, LedgerError>;
    /// What an account holds.
    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerError>;
}

impl<S: KvStore + Send + Sync> TransferLedger for NativeLedger<S> {
    fn account_frozen(&self, account: &AccountRef) -> Result<Option<bool>, LedgerError> {
        self.with_ledger(|ledger| ledger.account_frozen(account))?
    }

    fn transfer(
        &self,
        key: &str,
        from: &AccountRef,
        to: &AccountRef,
        asset: &Asset,
        units: u64,
    ) -> Result<Receipt, LedgerError> {
        let operation = Operation::Transfer {
            asset: asset.clone(),
            from: from.clone(),
            to: to.clone(),
            units,
        };
        let receipt = self
            .with_ledger(|ledger| ledger.execute(isthmus_ledger::Request::new(key, operation)))??;
        match &receipt.outcome {
            Outcome::Applied(_) => Ok(receipt),
            Outcome::Refused(error) => Err(error.clone()),
        }
    }

    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerError> {
        self.with_ledger(|ledger| ledger.holdings(account))?
    }
}

/// Where an escrow lock stands. The `…ing` states are written before the
/// transfer they announce, the others after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum EscrowState {
    Locking,
    Open,
    Claiming {
        key: String,
        preimage: Hex32,
    },
    Claimed {
        key: String,
        preimage: Hex32,
        journal: StoredJournal,
    },
    Refunding {
        key: String,
    },
    Refunded {
        key: String,
        journal: StoredJournal,
    },
}

/// A journal position on the underlying ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredJournal {
    seq: u64,
    entry_hash: Hex32,
}

/// One escrow lock, stored as JSON under `lock/<hash of its order's key>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct EscrowLock {
    order_key: String,
    from: AccountRef,
    beneficiary: AccountRef,
    asset: Asset,
    units: u64,
    hashlock: Hex32,
    expiry_ms: u64,
    /// Set once the delivery into escrow is journaled.
    lock_journal: Option<StoredJournal>,
    state: EscrowState,
    /// Claim or refund deliveries the ledger refused so far; part of the
    /// derived transfer key, so that a retry after the cause is fixed is a new
    /// transfer instead of a replay of the refusal.
    #[serde(default)]
    refused_attempts: u32,
}

impl EscrowLock {
    fn lock_id(&self) -> Option<String> {
        self.lock_journal.as_ref().map(|j| lock_id_text(j.seq))
    }

    /// Whether the escrow account holds this lock's units for the locker.
    fn holds_units(&self) -> bool {
        matches!(
            self.state,
            EscrowState::Open | EscrowState::Claiming { .. } | EscrowState::Refunding { .. }
        )
    }

    fn same_order(&self, order: &LockOrder, units: u64) -> bool {
        self.from == order.from
            && self.beneficiary == order.beneficiary
            && self.asset == order.asset
            && self.units == units
            && self.hashlock == order.hashlock
            && self.expiry_ms == order.expiry_ms
    }
}

/// A short, fixed-length token of a caller's key, for store keys and derived transfer keys.
fn key_token(key: &str) -> String {
    hex_lower(&Hex32::sha256_of(key.as_bytes()).bytes()[..16])
}

fn record_key(order_key: &str) -> Vec<u8> {
    format!("lock/{}", key_token(order_key)).into_bytes()
}

fn id_key(lock_id: &str) -> Vec<u8> {
    format!("id/{lock_id}").into_bytes()
}

fn store_failed(error: StoreError) -> LedgerError {
    LedgerError::new(LedgerReason::StoreFailed, error.to_string())
}

fn refuse(reason: LedgerReason, message: String) -> LedgerError {
    LedgerError::new(reason, message)
}

/// Longest idempotency key, as on a native ledger.
const MAX_KEY_BYTES: usize = 128;

struct Inner<L: TransferLedger, R: KvStore> {
    ledger: L,
    records: R,
    clock: Box<dyn Clock>,
}

/// Hashed timelocks through a custodian's escrow account on a ledger that cannot lock.
pub struct CustodyLedger<L: TransferLedger, R: KvStore + Send> {
    market: Mic,
    escrow: AccountRef,
    inner: Mutex<Inner<L, R>>,
}

impl<L: TransferLedger, R: KvStore + Send> CustodyLedger<L, R> {
    /// Opens the adapter on `ledger` with HTLC `records` (a sled store in
    /// production), and finishes any step a crash interrupted.
    pub fn open(
        market: Mic,
        escrow: AccountRef,
        ledger: L,
        records: R,
        clock: Box<dyn Clock>,
    ) -> Result<CustodyLedger<L, R>, LedgerError> {
        let custody = CustodyLedger {
            market,
            escrow,
            inner: Mutex::new(Inner {
                ledger,
                records,
                clock,
            }),
        };
        custody.recover()?;
        Ok(custody)
    }

    fn inner(&self) -> Result<std::sync::MutexGuard<'_, Inner<L, R>>, LedgerError> {
        self.inner.lock().map_err(|_| {
            LedgerError::new(
                LedgerReason::StoreFailed,
                "the custody adapter's lock is poisoned",
            )
        })
    }

    fn journal_ref(&self, journal: &StoredJournal) -> Result<JournalRef, LedgerError> {
        let sequence = Counter::new(journal.seq).ok_or_else(|| {
            refuse(
                LedgerReason::AmountOverflow,
                "journal sequence beyond 2^63 - 1".into(),
            )
        })?;
        Ok(JournalRef {
            market: self.market.clone(),
            sequence,
            entry_hash: journal.entry_hash.clone(),
        })
    }

    fn receipt(
        &self,
        lock_id: String,
        journal: &StoredJournal,
    ) -> Result<LockReceiptInfo, LedgerError> {
        Ok(LockReceiptInfo {
            lock_id,
            journal: self.journal_ref(journal)?,
        })
    }

    /// Finishes every step that was announced but not completed.
    fn recover(&self) -> Result<(), LedgerError> {
        let inner = self.inner()?;
        let mut pending = Vec::new();
        let mut unreadable = None;
        inner
            .records
            .scan_prefix(
                b"lock/",
                &mut |key, value| match serde_json::from_slice::<EscrowLock>(value) {
                    Ok(record) => {
                        if matches!(
                            record.state,
                            EscrowState::Locking
                                | EscrowState::Claiming { .. }
                                | EscrowState::Refunding { .. }
                        ) {
                            pending.push(record);
                        }
                        true
                    }
                    Err(error) => {
                        unreadable = Some(format!("{}: {error}", String::from_utf8_lossy(key)));
                        false
                    }
                },
            )
            .map_err(store_failed)?;
        if let Some(problem) = unreadable {
            // Refuse to run over an escrow we cannot account for.
            return Err(refuse(LedgerReason::JournalCorrupt, format!("an escrow record is unreadable, so the custodian cannot account for its escrow: {problem}")));
        }
        for record in pending {
            // A refused redo leaves the record as it was (a refused delivery into
            // escrow moved nothing and forgets the lock); the next call on it retries.
            let _ = self.advance(&inner, record);
        }
        Ok(())
    }

    fn save(&self, inner: &Inner<L, R>, record: &EscrowLock) -> Result<(), LedgerError> {
        let value = serde_json::to_vec(record)
            .map_err(|e| refuse(LedgerReason::StoreFailed, e.to_string()))?;
        let mut batch = vec![(record_key(&record.order_key), Some(value))];
        if let Some(lock_id) = record.lock_id() {
            batch.push((
                id_key(&lock_id),
                Some(record.order_key.clone().into_bytes()),
            ));
        }
        inner
            .records
            .apply(batch)
            .and_then(|()| inner.records.flush())
            .map_err(store_failed)
    }

    fn load(
        &self,
        inner: &Inner<L, R>,
        order_key: &str,
    ) -> Result<Option<EscrowLock>, LedgerError> {
        match inner
            .records
            .get(&record_key(order_key))
            .map_err(store_failed)?
        {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                refuse(
                    LedgerReason::JournalCorrupt,
                    format!("escrow record for \"{order_key}\" is unreadable: {e}"),
                )
            }),
        }
    }

    fn load_by_id(&self, inner: &Inner<L, R>, lock_id: &str) -> Result<EscrowLock, LedgerError> {
        let order_key = inner
            .records
            .get(&id_key(lock_id))
            .map_err(store_failed)?
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                refuse(
                    LedgerReason::LockUnknown,
                    format!("no lock {lock_id} on this ledger"),
                )
            })?;
        self.load(inner, &order_key)?.ok_or_else(|| {
            refuse(
                LedgerReason::LockUnknown,
                format!("no lock {lock_id} on this ledger"),
            )
        })
    }

    /// Performs the transfer a `…ing` state announces and records its result.
    fn advance(
        &self,
        inner: &Inner<L, R>,
        mut record: EscrowLock,
    ) -> Result<EscrowLock, LedgerError> {
        let token = key_token(&record.order_key);
        match record.state.clone() {
            EscrowState::Locking => {
                let receipt = inner.ledger.transfer(
                    &format!("custody:{token}:lock"),
                    &record.from,
                    &self.escrow,
                    &record.asset,
                    record.units,
                );
                match receipt {
                    Ok(receipt) => {
                        record.lock_journal = Some(StoredJournal {
                            seq: receipt.seq,
                            entry_hash: receipt.entry_hash,
                        });
                        record.state = EscrowState::Open;
                        self.save(inner, &record)?;
                    }
                    Err(error) if error.reason == LedgerReason::StoreFailed => {
                        // The delivery may or may not have been journaled: keep the
                        // intent, so that recovery or a retry finishes it.
                        return Err(error);
                    }
                    Err(error) => {
                        // A journaled refusal: nothing moved, so forget the lock.
                        inner
                            .records
                            .apply(vec![(record_key(&record.order_key), None)])
                            .and_then(|()| inner.records.flush())
                            .map_err(store_failed)?;
                        return Err(error);
                    }
                }
            }
            EscrowState::Claiming { key, preimage } => {
                let to = record.beneficiary.clone();
                let journal = self.deliver_from_escrow(inner, &mut record, "claim", &to)?;
                record.state = EscrowState::Claimed {
                    key,
                    preimage,
                    journal,
                };
                self.save(inner, &record)?;
            }
            EscrowState::Refunding { key } => {
                let to = record.from.clone();
                let journal = self.deliver_from_escrow(inner, &mut record, "refund", &to)?;
                record.state = EscrowState::Refunded { key, journal };
                self.save(inner, &record)?;
            }
            EscrowState::Open | EscrowState::Claimed { .. } | EscrowState::Refunded { .. } => {}
        }
        Ok(record)
    }

    /// Delivers a lock's units out of escrow. A journaled refusal (escrow
    /// frozen, say) puts the lock back to `Open` and counts the attempt, so it
    /// can be claimed or refunded again once the cause is fixed; a store
    /// failure keeps the intent for recovery.
    fn deliver_from_escrow(
        &self,
        inner: &Inner<L, R>,
        record: &mut EscrowLock,
        step: &str,
        to: &AccountRef,
    ) -> Result<StoredJournal, LedgerError> {
        let key = format!(
            "custody:{}:{step}:{}",
            key_token(&record.order_key),
            record.refused_attempts
        );
        match inner
            .ledger
            .transfer(&key, &self.escrow, to, &record.asset, record.units)
        {
            Ok(receipt) => Ok(StoredJournal {
                seq: receipt.seq,
                entry_hash: receipt.entry_hash,
            }),
            Err(error) if error.reason == LedgerReason::StoreFailed => Err(error),
            Err(error) => {
                record.state = EscrowState::Open;
                record.refused_attempts += 1;
                self.save(inner, record)?;
                Err(error)
            }
        }
    }

    fn lock_sync(&self, order: &LockOrder) -> Result<LockReceiptInfo, LedgerError> {
        let key = &order.idempotency_key;
        if key.is_empty() || key.len() > MAX_KEY_BYTES || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(refuse(LedgerReason::IdempotencyKeyInvalid, format!("an idempotency key is 1 to {MAX_KEY_BYTES} printable ASCII characters without spaces; got {key:?}")));
        }
        let units = order.asset.units(&order.amount)?;
        let inner = self.inner()?;
        if let Some(existing) = self.load(&inner, key)? {
            if !existing.same_order(order, units) {
                return Err(refuse(
                    LedgerReason::IdempotencyKeyReused,
                    format!("idempotency key \"{key}\" was used for a different lock"),
                ));
            }
            let record = self.advance(&inner, existing)?;
            return match (record.lock_id(), &record.lock_journal) {
                (Some(lock_id), Some(journal)) => self.receipt(lock_id, journal),
                _ => Err(refuse(
                    LedgerReason::StoreFailed,
                    "the lock was not completed".into(),
                )),
            };
        }
        // The same checks, in the same order, as a native lock.
        let now_ms = inner.clock.now_ms();
        if order.expiry_ms <= now_ms {
            return Err(refuse(
                LedgerReason::ExpiryInPast,
                format!(
                    "the expiry {} is not after the ledger time {now_ms}",
                    order.expiry_ms
                ),
            ));
        }
        if order.from == self.escrow || order.beneficiary == self.escrow {
            return Err(refuse(
                LedgerReason::SameAccount,
                format!(
                    "the custodian's escrow account {} cannot be a party to a lock it holds",
                    self.escrow
                ),
            ));
        }
        if order.from == order.beneficiary {
            return Err(refuse(
                LedgerReason::SameAccount,
                format!("{} cannot deliver to itself", order.from),
            ));
        }
        for account in [&order.from, &order.beneficiary] {
            if inner.ledger.account_frozen(account)?.is_none() {
                return Err(refuse(
                    LedgerReason::AccountUnknown,
                    format!("no account {account} on this ledger"),
                ));
            }
        }
        let record = EscrowLock {
            order_key: key.clone(),
            from: order.from.clone(),
            beneficiary: order.beneficiary.clone(),
            asset: order.asset.clone(),
            units,
            hashlock: order.hashlock.clone(),
            expiry_ms: order.expiry_ms,
            lock_journal: None,
            state: EscrowState::Locking,
            refused_attempts: 0,
        };
        self.save(&inner, &record)?;
        let record = self.advance(&inner, record)?;
        match (record.lock_id(), &record.lock_journal) {
            (Some(lock_id), Some(journal)) => self.receipt(lock_id, journal),
            _ => Err(refuse(
                LedgerReason::StoreFailed,
                "the lock was not completed".into(),
            )),
        }
    }

    fn settle_sync(
        &self,
        key: &str,
        lock_id: &str,
        claim_with: Option<&Hex32>,
    ) -> Result<LockReceiptInfo, LedgerError> {
        let inner = self.inner()?;
        let record = self.load_by_id(&inner, lock_id)?;
        // Finish anything in flight first: an announced step always completes.
        let record = self.advance(&inner, record)?;
        // A settled lock replays the receipt of the identical request (same
        // key, same kind, same preimage); the same key for anything else is
        // a reused key, as on a native ledger; any other request finds it settled.
        let replay = |done_key: &str, same_request: bool, journal: &StoredJournal, what: &str| {
            if done_key != key {
                Err(refuse(
                    LedgerReason::LockSettled,
                    format!("lock {lock_id} was {what} already"),
                ))
            } else if same_request {
                self.receipt(lock_id.to_string(), journal)
            } else {
                Err(refuse(LedgerReason::IdempotencyKeyReused, format!("idempotency key \"{key}\" was used for a different operation on lock {lock_id}")))
            }
        };
        match &record.state {
            EscrowState::Claimed {
                key: done,
                preimage,
                journal,
            } => {
                return replay(done, claim_with == Some(preimage), journal, "claimed");
            }
            EscrowState::Refunded { key: done, journal } => {
                return replay(done, claim_with.is_none(), journal, "refunded")
            }
            EscrowState::Open => {}
            _ => {
                return Err(refuse(
                    LedgerReason::StoreFailed,
                    format!("lock {lock_id} is not in a settled or open state"),
                ))
            }
        }
        let now_ms = inner.clock.now_ms();
        let next = match claim_with {
            Some(preimage) => {
                if now_ms >= record.expiry_ms {
                    return Err(refuse(LedgerReason::LockExpired, format!("lock {lock_id} expired at {}; it is {now_ms} and it can only be refunded", record.expiry_ms)));
                }
                if Hex32::sha256_of(preimage.bytes()) != record.hashlock {
                    return Err(refuse(
                        LedgerReason::PreimageMismatch,
                        format!(
                            "the preimage does not hash to lock {lock_id}'s hashlock {}",
                            record.hashlock
                        ),
                    ));
                }
                EscrowState::Claiming {
                    key: key.to_string(),
                    preimage: preimage.clone(),
                }
            }
            None => {
                if now_ms < record.expiry_ms {
                    return Err(refuse(LedgerReason::LockNotExpired, format!("lock {lock_id} expires at {}; it is {now_ms} and only a claim can move it before then", record.expiry_ms)));
                }
                EscrowState::Refunding {
                    key: key.to_string(),
                }
            }
        };
        let mut record = record;
        record.state = next;
        self.save(&inner, &record)?;
        let record = self.advance(&inner, record)?;
        match &record.state {
            EscrowState::Claimed { journal, .. } | EscrowState::Refunded { journal, .. } => {
                self.receipt(lock_id.to_string(), journal)
            }
            _ => Err(refuse(
                LedgerReason::StoreFailed,
                format!("lock {lock_id} did not settle"),
            )),
        }
    }

    fn holdings_sync(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerError> {
        let inner = self.inner()?;
        let mut holdings: std::collections::BTreeMap<Asset, Holding> =
            inner.ledger.holdings(account)?.into_iter().collect();
        let mut problem = None;
        inner
            .records
            .scan_prefix(b"lock/", &mut |_, value| {
                match serde_json::from_slice::<EscrowLock>(value) {
                    Ok(record) if record.from == *account && record.holds_units() => {
                        let balance = holdings.entry(record.asset.clone()).or_default();
                        balance.locked = balance.locked.saturating_add(record.units);
                    }
                    Ok(_) => {}
                    Err(e) => problem = Some(e.to_string()),
                }
                true
            })
            .map_err(store_failed)?;
        if let Some(problem) = problem {
            return Err(refuse(
                LedgerReason::JournalCorrupt,
                format!("an escrow record is unreadable: {problem}"),
            ));
        }
        Ok(holdings.into_iter().collect())
    }
}

#[async_trait]
impl<L: TransferLedger, R: KvStore + Send + Sync> LedgerSide for CustodyLedger<L, R> {
    async fn lock(&self, order: &LockOrder) -> Result<LockReceiptInfo, LedgerError> {
        self.lock_sync(order)
    }

    async fn claim(
        &self,
        idempotency_key: &str,
        lock_id: &str,
        preimage: &Hex32,
    ) -> Result<LockReceiptInfo, LedgerError> {
        self.settle_sync(idempotency_key, lock_id, Some(preimage))
    }

    async fn refund(
        &self,
        idempotency_key: &str,
        lock_id: &str,
    ) -> Result<LockReceiptInfo, LedgerError> {
        self.settle_sync(idempotency_key, lock_id, None)
    }

    async fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerError> {
        self.holdings_sync(account)
    }
}
