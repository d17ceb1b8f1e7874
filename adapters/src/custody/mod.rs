//! The custody ledger side: hashed timelocks for a ledger that cannot lock,
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
//!
//! It behaves as a native ledger does, to the reason code: the same checks
//! in the same order, every key's first answer kept (a refusal is recorded
//! against its key before it is returned, so a retry after the cause was
//! fixed gets the same refusal), and a clock that never goes backwards (the
//! latest time used is stored with every record). One difference is
//! inherent: once a claim or refund is accepted it is committed, and if the
//! ledger refuses the delivery out of escrow (the escrow account frozen, say)
//! the answer is `OutcomeUnknown` — repeat with the same key — until the
//! delivery goes through; a committed claim is never turned into a refund.
//!
//! # Records (JSON values)
//!
//! | key | value |
//! | --- | --- |
//! | `key/<token>` | every idempotency key used: what it asked, and its refusal if refused |
//! | `lock/<token>` | one escrow lock, under its lock order's key token |
//! | `id/<lock seq>` | the lock order's key token of lock `HTLC-<seq>` |
//! | `open/<expiry><lock seq>` | a lock whose units are in escrow, by expiry |
//! | `held/<account>\0<token>` | a lock holding the account's units in escrow |
//! | `pending/<token>` | a lock with an announced step not yet done |
//! | `event/<cursor>` | the watcher's lock events, in order |
//! | `meta/next_event`, `meta/time` | the next event cursor; the latest ledger time used |
//!
//! Numbers in keys are 8 bytes big-endian, so keys sort as the numbers do;
//! `<token>` is the first 16 bytes of the SHA-256 of a key, in hex.

mod records;
mod transfer;

use isthmus_ledger::state::{Holding, Htlc};
use isthmus_ledger::{
    AccountRef, Asset, IdempotencyKey, JournalPosition, LedgerError, LedgerFailure, LedgerReason,
};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::Preimage;
use isthmus_store::{Clock, KvStore, StoreError, WriteBatch};
use serde::Deserialize;

use crate::ledger_side::{
    journal_ref, ClaimOrder, Claimed, EventPage, LedgerSide, LockChange, LockEvent, LockId,
    LockOrder, Locked, RefundOrder, Refunded, MAX_EVENTS_PER_PAGE,
};
use records::{
    delete, event_key, held_key, held_prefix, id_key, key_token, key_use_key, lock_key, open_key,
    pending_key, put, u64_of, Asked, EscrowLock, EscrowState, KeyUse, LockTerms, Position,
    NEXT_EVENT_KEY, TIME_KEY,
};
pub use transfer::TransferLedger;

fn store_unavailable(error: &StoreError) -> LedgerFailure {
    LedgerFailure::unavailable(
        LedgerReason::StoreFailed,
        format!("the custodian's records: {error}"),
    )
}

fn store_write_failed(error: &StoreError) -> LedgerFailure {
    let message = format!("the custodian's records: {error}");
    if error.may_have_written() {
        LedgerFailure::unknown(LedgerReason::StoreFailed, message)
    } else {
        LedgerFailure::unavailable(LedgerReason::StoreFailed, message)
    }
}

fn unreadable(what: &str, error: impl std::fmt::Display) -> LedgerFailure {
    LedgerFailure::unavailable(
        LedgerReason::JournalCorrupt,
        format!("the custodian cannot read {what}, so it cannot account for its escrow: {error}"),
    )
}

fn refusal(reason: LedgerReason, message: String) -> LedgerError {
    LedgerError::new(reason, message)
}

/// Hashed timelocks through a custodian's escrow account on a ledger that cannot lock.
pub struct CustodyLedger<L: TransferLedger, R: KvStore> {
    market: Mic,
    escrow: AccountRef,
    ledger: L,
    records: R,
    clock: Box<dyn Clock>,
    /// The latest ledger time used; stored with every record written.
    time_floor_ms: u64,
    next_event: u64,
}

impl<L: TransferLedger, R: KvStore> CustodyLedger<L, R> {
    /// Opens the adapter on `ledger` with HTLC `records` (a sled store in
    /// production), and finishes any step a crash interrupted.
    pub fn open(
        market: Mic,
        escrow: AccountRef,
        ledger: L,
        records: R,
        clock: Box<dyn Clock>,
    ) -> Result<CustodyLedger<L, R>, LedgerFailure> {
        let read_u64 = |key: &[u8]| -> Result<u64, LedgerFailure> {
            match records.get(key).map_err(|e| store_unavailable(&e))? {
                None => Ok(0),
                Some(bytes) => u64_of(&bytes).ok_or_else(|| {
                    unreadable(&String::from_utf8_lossy(key), "not an 8-byte number")
                }),
            }
        };
        let time_floor_ms = read_u64(TIME_KEY)?;
        let next_event = read_u64(NEXT_EVENT_KEY)?;
        let mut custody = CustodyLedger {
            market,
            escrow,
            ledger,
            records,
            clock,
            time_floor_ms,
            next_event,
        };
        custody.recover()?;
        Ok(custody)
    }

    /// The underlying ledger, e.g. to open accounts or freeze one.
    pub fn underlying(&self) -> &L {
        &self.ledger
    }

    /// The underlying ledger, mutably.
    pub fn underlying_mut(&mut self) -> &mut L {
        &mut self.ledger
    }

    /// Custody time: the clock, never below the latest time used.
    fn now(&self) -> u64 {
        self.clock.now_ms().max(self.time_floor_ms)
    }

    /// Writes a batch durably, with the time it was decided at.
    fn commit(&mut self, mut batch: WriteBatch, now_ms: u64) -> Result<(), LedgerFailure> {
        debug_assert!(now_ms >= self.time_floor_ms, "custody time went backwards");
        batch.push((TIME_KEY.to_vec(), Some(now_ms.to_be_bytes().to_vec())));
        self.records
            .commit(batch)
            .map_err(|e| store_write_failed(&e))?;
        self.time_floor_ms = now_ms;
        Ok(())
    }

    fn load<T: for<'de> Deserialize<'de>>(&self, key: &[u8]) -> Result<Option<T>, LedgerFailure> {
        match self.records.get(key).map_err(|e| store_unavailable(&e))? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| unreadable(&String::from_utf8_lossy(key), e)),
        }
    }

    fn load_lock(&self, token: &str) -> Result<Option<EscrowLock>, LedgerFailure> {
        self.load(&lock_key(token))
    }

    /// The token of the lock order that made lock `lock_id`, if any.
    fn token_of(&self, lock_id: LockId) -> Result<Option<String>, LedgerFailure> {
        match self
            .records
            .get(&id_key(lock_id))
            .map_err(|e| store_unavailable(&e))?
        {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|e| unreadable("a lock id record", e)),
        }
    }

    /// Finishes every step that was announced but not completed.
    fn recover(&mut self) -> Result<(), LedgerFailure> {
        let mut tokens = Vec::new();
        self.records
            .scan_prefix(b"pending/", &mut |key, _| {
                tokens.push(String::from_utf8_lossy(&key[b"pending/".len()..]).into_owned());
                true
            })
            .map_err(|e| store_unavailable(&e))?;
        for token in tokens {
            let Some(record) = self.load_lock(&token)? else {
                return Err(unreadable(
                    "a pending step",
                    format!("lock record {token} is missing"),
                ));
            };
            // A redo that fails leaves the intent in place; the next call on
            // the lock, or the next start, tries again.
            let _ = self.advance(&token, record);
        }
        Ok(())
    }

    /// The first answer to a key, if it was used: `Err` for a key reused for
    /// something else or for a recorded refusal, `Ok(true)` for a key whose
    /// request was accepted, `Ok(false)` for an unused key.
    fn earlier_answer(&self, key: &IdempotencyKey, asked: &Asked) -> Result<bool, LedgerFailure> {
        let Some(used) = self.load::<KeyUse>(&key_use_key(&key_token(key.as_str())))? else {
            return Ok(false);
        };
        if used.key != key.as_str() {
            return Err(unreadable(
                "its key index",
                format!("keys \"{}\" and \"{key}\" share a token", used.key),
            ));
        }
        if &used.asked != asked {
            return Err(LedgerFailure::refused(
                LedgerReason::IdempotencyKeyReused,
                format!(
                    "idempotency key \"{key}\" was used for a different {}",
                    used.asked.name()
                ),
            ));
        }
        match used.refusal {
            Some(error) => Err(LedgerFailure::Refused {
                error,
                journaled: None,
            }),
            None => Ok(true),
        }
    }

    /// Records a final refusal against its key, then returns it.
    fn refuse(
        &mut self,
        key: &IdempotencyKey,
        asked: Asked,
        error: LedgerError,
        mut batch: WriteBatch,
        now_ms: u64,
    ) -> LedgerFailure {
        let used = KeyUse {
            key: key.as_str().to_string(),
            asked,
            refusal: Some(error.clone()),
        };
        batch.push(put(key_use_key(&key_token(key.as_str())), &used));
        match self.commit(batch, now_ms) {
            Ok(()) => LedgerFailure::Refused {
                error,
                journaled: None,
            },
            // Unrecorded, the refusal is not final yet: the caller repeats the request.
            Err(failure) => failure,
        }
    }

    /// Adds a lock's event to `batch`; the caller moves the cursor on once
    /// the batch is durable.
    fn push_event(
        &self,
        batch: &mut WriteBatch,
        record: &EscrowLock,
        change: LockChange,
        at_ms: u64,
        delivered: &Position,
    ) -> Result<(), LedgerFailure> {
        let Some(lock_id) = record.lock_id() else {
            unreachable!("an event of a lock not yet made")
        };
        let event = LockEvent {
            cursor: self.next_event,
            lock_id,
            hashlock: record.terms.hashlock.clone(),
            change,
            at_ms,
            journal: journal_ref(&self.market, &JournalPosition::from(delivered))?,
        };
        batch.push(put(event_key(event.cursor), &event));
        batch.push((
            NEXT_EVENT_KEY.to_vec(),
            Some((event.cursor + 1).to_be_bytes().to_vec()),
        ));
        Ok(())
    }

    /// Performs the transfer a `…ing` state announces and records its result.
    fn advance(
        &mut self,
        token: &str,
        mut record: EscrowLock,
    ) -> Result<EscrowLock, LedgerFailure> {
        let now_ms = self.now();
        match record.state.clone() {
            EscrowState::Locking => {
                let (escrow, terms) = (self.escrow.clone(), record.terms.clone());
                let delivered = self.ledger.transfer(
                    &format!("custody:{token}:lock"),
                    &terms.from,
                    &escrow,
                    &terms.asset,
                    terms.units,
                );
                match delivered {
                    Ok(position) => {
                        let lock_id = LockId::of_entry(position.seq);
                        let position = Position::from(position);
                        record.state = EscrowState::Open;
                        record.locked = Some(position.clone());
                        let mut batch = vec![
                            put(lock_key(token), &record),
                            (id_key(lock_id), Some(token.as_bytes().to_vec())),
                            (open_key(terms.expiry_ms, lock_id), Some(Vec::new())),
                            (held_key(&terms.from, token), Some(Vec::new())),
                            delete(pending_key(token)),
                        ];
                        let change = LockChange::Locked {
                            expiry_ms: terms.expiry_ms,
                        };
                        self.push_event(&mut batch, &record, change, now_ms, &position)?;
                        self.commit(batch, now_ms)?;
                        self.next_event += 1;
                    }
                    Err(LedgerFailure::Refused { error, .. }) => {
                        // The ledger refused the delivery for good: nothing
                        // moved, so the lock is forgotten and its key refused.
                        let key = IdempotencyKey::new(record.order_key.clone())?;
                        let batch = vec![delete(lock_key(token)), delete(pending_key(token))];
                        let asked = Asked::Lock(terms);
                        return Err(self.refuse(&key, asked, error, batch, now_ms));
                    }
                    // The delivery may or may not be journaled: keep the
                    // intent, so that recovery or a retry finishes it.
                    Err(failure) => return Err(failure),
                }
            }
            EscrowState::Claiming {
                key,
                preimage,
                at_ms,
            } => {
                let to = record.terms.beneficiary.clone();
                let delivered = self.deliver_from_escrow(token, &mut record, "claim", &to)?;
                record.state = EscrowState::Claimed {
                    key,
                    preimage: preimage.clone(),
                    at_ms,
                    delivered: delivered.clone(),
                };
                let change = LockChange::Claimed { preimage };
                self.finish(token, &record, change, at_ms, &delivered, now_ms)?;
            }
            EscrowState::Refunding { key, at_ms } => {
                let to = record.terms.from.clone();
                let delivered = self.deliver_from_escrow(token, &mut record, "refund", &to)?;
                record.state = EscrowState::Refunded {
                    key,
                    at_ms,
                    delivered: delivered.clone(),
                };
                let change = LockChange::Refunded;
                self.finish(token, &record, change, at_ms, &delivered, now_ms)?;
            }
            EscrowState::Open | EscrowState::Claimed { .. } | EscrowState::Refunded { .. } => {}
        }
        Ok(record)
    }

    /// Records a lock's delivery out of escrow: the lock is settled and no
    /// longer holds the locker's units.
    fn finish(
        &mut self,
        token: &str,
        record: &EscrowLock,
        change: LockChange,
        at_ms: u64,
        delivered: &Position,
        now_ms: u64,
    ) -> Result<(), LedgerFailure> {
        let Some(lock_id) = record.lock_id() else {
            unreachable!("a lock was settled before it was made")
        };
        let mut batch = vec![
            put(lock_key(token), record),
            delete(open_key(record.terms.expiry_ms, lock_id)),
            delete(held_key(&record.terms.from, token)),
            delete(pending_key(token)),
        ];
        self.push_event(&mut batch, record, change, at_ms, delivered)?;
        self.commit(batch, now_ms)?;
        self.next_event += 1;
        Ok(())
    }

    /// Delivers a lock's units out of escrow. A refusal by the ledger (the
    /// escrow frozen, say) does not undo the accepted claim or refund: the
    /// attempt is counted, so that the next one is a new transfer, and the
    /// answer is `OutcomeUnknown` until a delivery goes through.
    fn deliver_from_escrow(
        &mut self,
        token: &str,
        record: &mut EscrowLock,
        step: &str,
        to: &AccountRef,
    ) -> Result<Position, LedgerFailure> {
        let key = format!("custody:{token}:{step}:{}", record.refused_deliveries);
        let escrow = self.escrow.clone();
        let (asset, units) = (&record.terms.asset, record.terms.units);
        match self.ledger.transfer(&key, &escrow, to, asset, units) {
            Ok(position) => Ok(position.into()),
            Err(LedgerFailure::Refused { error, .. }) => {
                record.refused_deliveries += 1;
                let now_ms = self.now();
                self.commit(vec![put(lock_key(token), &*record)], now_ms)?;
                Err(LedgerFailure::OutcomeUnknown(refusal(
                    error.reason,
                    format!(
                        "the {step} is recorded and will be delivered, but the ledger refused the delivery out of escrow ({}); repeat the {step} with the same key once that is fixed",
                        error.message
                    ),
                )))
            }
            Err(failure) => Err(failure),
        }
    }

    /// Settles an open lock: a claim with `preimage`, or a refund.
    fn settle(
        &mut self,
        key: &IdempotencyKey,
        lock_id: LockId,
        claim_with: Option<&Preimage>,
    ) -> Result<(EscrowLock, String), LedgerFailure> {
        let asked = match claim_with {
            Some(preimage) => Asked::Claim {
                lock_id,
                preimage: preimage.clone(),
            },
            None => Asked::Refund { lock_id },
        };
        let accepted_before = self.earlier_answer(key, &asked)?;
        let now_ms = self.now();
        let Some(token) = self.token_of(lock_id)? else {
            let error = refusal(
                LedgerReason::LockUnknown,
                format!("no lock {lock_id} on this ledger"),
            );
            return Err(self.refuse(key, asked, error, Vec::new(), now_ms));
        };
        let Some(record) = self.load_lock(&token)? else {
            return Err(unreadable(
                "a lock",
                format!("lock {lock_id} has an id but no record"),
            ));
        };
        // Finish anything in flight first: an announced step always completes.
        let record = self.advance(&token, record)?;
        if accepted_before {
            return Ok((record, token));
        }
        let (hashlock, expiry_ms) = (record.terms.hashlock.clone(), record.terms.expiry_ms);
        // The same checks, in the same order, as a native ledger.
        let refused = match (&record.state, claim_with) {
            (EscrowState::Claimed { .. }, _) => Some(refusal(
                LedgerReason::LockSettled,
                format!("lock {lock_id} was claimed already"),
            )),
            (EscrowState::Refunded { .. }, _) => Some(refusal(
                LedgerReason::LockSettled,
                format!("lock {lock_id} was refunded already"),
            )),
            (_, Some(_)) if now_ms >= expiry_ms => Some(refusal(
                LedgerReason::LockExpired,
                format!("lock {lock_id} expired at {expiry_ms}; it is {now_ms} and it can only be refunded"),
            )),
            (_, Some(preimage)) if !preimage.opens(&hashlock) => Some(refusal(
                LedgerReason::PreimageMismatch,
                format!("the preimage does not hash to lock {lock_id}'s hashlock {hashlock}"),
            )),
            (_, None) if now_ms < expiry_ms => Some(refusal(
                LedgerReason::LockNotExpired,
                format!("lock {lock_id} expires at {expiry_ms}; it is {now_ms} and only a claim can move it before then"),
            )),
            _ => None,
        };
        if let Some(error) = refused {
            return Err(self.refuse(key, asked, error, Vec::new(), now_ms));
        }
        debug_assert_eq!(
            record.state,
            EscrowState::Open,
            "advance leaves no step announced"
        );
        let mut record = record;
        record.state = match claim_with {
            Some(preimage) => EscrowState::Claiming {
                key: key.as_str().to_string(),
                preimage: preimage.clone(),
                at_ms: now_ms,
            },
            None => EscrowState::Refunding {
                key: key.as_str().to_string(),
                at_ms: now_ms,
            },
        };
        let used = KeyUse {
            key: key.as_str().to_string(),
            asked,
            refusal: None,
        };
        self.commit(
            vec![
                put(key_use_key(&key_token(key.as_str())), &used),
                put(lock_key(&token), &record),
                (pending_key(&token), Some(Vec::new())),
            ],
            now_ms,
        )?;
        let record = self.advance(&token, record)?;
        Ok((record, token))
    }

    /// The refusal a lock order gets before anything moves, if any; `Err` when
    /// the underlying ledger could not answer (nothing is recorded then).
    fn check_lock_order(
        &self,
        order: &LockOrder,
        now_ms: u64,
    ) -> Result<Option<LedgerError>, LedgerFailure> {
        if order.units == 0 {
            return Ok(Some(refusal(
                LedgerReason::AmountInvalid,
                "a lock must hold at least one unit".into(),
            )));
        }
        if order.expiry_ms <= now_ms {
            return Ok(Some(refusal(
                LedgerReason::ExpiryInPast,
                format!(
                    "the expiry {} is not after the ledger time {now_ms}",
                    order.expiry_ms
                ),
            )));
        }
        if order.from == self.escrow || order.beneficiary == self.escrow {
            return Ok(Some(refusal(
                LedgerReason::SameAccount,
                format!(
                    "the custodian's escrow account {} cannot be a party to a lock it holds",
                    self.escrow
                ),
            )));
        }
        if order.from == order.beneficiary {
            return Ok(Some(refusal(
                LedgerReason::SameAccount,
                format!("{} cannot deliver to itself", order.from),
            )));
        }
        for account in [&order.from, &order.beneficiary] {
            if self.ledger.account_frozen(account)?.is_none() {
                return Ok(Some(refusal(
                    LedgerReason::AccountUnknown,
                    format!("no account {account} on this ledger"),
                )));
            }
        }
        // Frozen locker and available units: the delivery into escrow checks
        // them, with the same reasons as a native lock.
        Ok(None)
    }

    fn position_of(
        &self,
        record: &EscrowLock,
        what: &str,
    ) -> Result<JournalPosition, LedgerFailure> {
        let delivered = match (&record.state, what) {
            (_, "lock") => record.locked.as_ref(),
            (EscrowState::Claimed { delivered, .. }, _)
            | (EscrowState::Refunded { delivered, .. }, _) => Some(delivered),
            _ => None,
        };
        delivered.map(JournalPosition::from).ok_or_else(|| {
            LedgerFailure::unknown(
                LedgerReason::StoreFailed,
                format!("the {what} is recorded but not yet done; repeat it with the same key"),
            )
        })
    }
}

impl<L: TransferLedger, R: KvStore + Send> LedgerSide for CustodyLedger<L, R> {
    fn market(&self) -> &Mic {
        &self.market
    }

    fn lock(&mut self, order: &LockOrder) -> Result<Locked, LedgerFailure> {
        let terms = LockTerms::of(order);
        let asked = Asked::Lock(terms.clone());
        let token = key_token(order.key.as_str());
        let accepted_before = self.earlier_answer(&order.key, &asked)?;
        let record = match (accepted_before, self.load_lock(&token)?) {
            (true, Some(record)) => record,
            (true, None) => {
                return Err(unreadable(
                    "a lock",
                    format!("key \"{}\" was accepted but its lock is missing", order.key),
                ))
            }
            (false, _) => {
                let now_ms = self.now();
                if let Some(error) = self.check_lock_order(order, now_ms)? {
                    return Err(self.refuse(&order.key, asked, error, Vec::new(), now_ms));
                }
                let record = EscrowLock {
                    order_key: order.key.as_str().to_string(),
                    terms,
                    locked: None,
                    state: EscrowState::Locking,
                    refused_deliveries: 0,
                };
                let used = KeyUse {
                    key: order.key.as_str().to_string(),
                    asked,
                    refusal: None,
                };
                self.commit(
                    vec![
                        put(key_use_key(&token), &used),
                        put(lock_key(&token), &record),
                        (pending_key(&token), Some(Vec::new())),
                    ],
                    now_ms,
                )?;
                record
            }
        };
        let record = self.advance(&token, record)?;
        let position = self.position_of(&record, "lock")?;
        Ok(Locked {
            lock_id: LockId::of_entry(position.seq),
            hashlock: order.hashlock.clone(),
            expiry_ms: order.expiry_ms,
            journal: journal_ref(&self.market, &position)?,
        })
    }

    fn claim(&mut self, order: &ClaimOrder) -> Result<Claimed, LedgerFailure> {
        let (record, _) = self.settle(&order.key, order.lock_id, Some(&order.preimage))?;
        let position = self.position_of(&record, "claim")?;
        Ok(Claimed {
            lock_id: order.lock_id,
            hashlock: order.preimage.hashlock(),
            preimage: order.preimage.clone(),
            journal: journal_ref(&self.market, &position)?,
        })
    }

    fn refund(&mut self, order: &RefundOrder) -> Result<Refunded, LedgerFailure> {
        let (record, _) = self.settle(&order.key, order.lock_id, None)?;
        let position = self.position_of(&record, "refund")?;
        Ok(Refunded {
            lock_id: order.lock_id,
            journal: journal_ref(&self.market, &position)?,
        })
    }

    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure> {
        let mut holdings: std::collections::BTreeMap<Asset, Holding> =
            self.ledger.holdings(account)?.into_iter().collect();
        let prefix = held_prefix(account);
        let mut tokens = Vec::new();
        self.records
            .scan_prefix(&prefix, &mut |key, _| {
                tokens.push(String::from_utf8_lossy(&key[prefix.len()..]).into_owned());
                true
            })
            .map_err(|e| store_unavailable(&e))?;
        for token in tokens {
            let Some(record) = self.load_lock(&token)? else {
                return Err(unreadable(
                    "a lock",
                    format!("held lock {token} is missing"),
                ));
            };
            let holding = holdings.entry(record.terms.asset.clone()).or_default();
            holding.locked = holding.locked.saturating_add(record.terms.units);
        }
        Ok(holdings.into_iter().collect())
    }

    fn lock_status(&self, lock_id: LockId) -> Result<Option<Htlc>, LedgerFailure> {
        let Some(token) = self.token_of(lock_id)? else {
            return Ok(None);
        };
        Ok(self.load_lock(&token)?.and_then(|record| record.view()))
    }

    fn open_locks(&self, max: usize) -> Result<Vec<Htlc>, LedgerFailure> {
        let mut ids = Vec::new();
        self.records
            .scan_prefix(b"open/", &mut |key, _| {
                if ids.len() == max {
                    return false;
                }
                ids.push(key.get(b"open/".len() + 8..).and_then(u64_of));
                true
            })
            .map_err(|e| store_unavailable(&e))?;
        let mut locks = Vec::with_capacity(ids.len());
        for id in ids {
            let lock_id = id
                .map(LockId::of_entry)
                .ok_or_else(|| unreadable("the open-lock index", "a malformed key"))?;
            match self.lock_status(lock_id)? {
                Some(lock) => locks.push(lock),
                None => {
                    return Err(unreadable(
                        "the open-lock index",
                        format!("lock {lock_id} is missing"),
                    ))
                }
            }
        }
        Ok(locks)
    }

    fn events_since(&self, cursor: u64, max: usize) -> Result<EventPage, LedgerFailure> {
        let max = max.min(MAX_EVENTS_PER_PAGE);
        let mut raw = Vec::new();
        self.records
            .scan_from(b"event/", &event_key(cursor), &mut |_, value| {
                if raw.len() == max {
                    return false;
                }
                raw.push(value.to_vec());
                true
            })
            .map_err(|e| store_unavailable(&e))?;
        let events = raw
            .iter()
            .map(|bytes| {
                serde_json::from_slice::<LockEvent>(bytes)
                    .map_err(|e| unreadable("a lock event", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next = events.last().map_or(cursor, |event| event.cursor + 1);
        Ok(EventPage { events, next })
    }

    fn now_ms(&self) -> Result<u64, LedgerFailure> {
        Ok(self.now())
    }
}
