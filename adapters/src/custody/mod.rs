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
    /// The cursor of the next lock event; stored with every event written.
    next_event: u64,
    /// Set when a write to the records failed: what the store holds may be
    /// ahead of what is durable, so nothing is read or done until reopened.
    poisoned: bool,
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
        // Whatever the store shows must be durable before it is acted on: a
        // write applied before a failed flush is visible but may be lost.
        records.flush().map_err(|e| store_unavailable(&e))?;
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
            poisoned: false,
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

    /// Refuses everything once a write to the records failed.
    fn usable(&self) -> Result<(), LedgerFailure> {
        if self.poisoned {
            return Err(LedgerFailure::unavailable(
                LedgerReason::StoreFailed,
                "an earlier write to the custodian's records failed; reopen the custody adapter",
            ));
        }
        Ok(())
    }

    /// Custody time: the clock, never below the latest time used.
    fn now(&self) -> u64 {
        self.clock.now_ms().max(self.time_floor_ms)
    }

    /// Writes a batch durably, with the time it was decided at (never below
    /// the latest time already stored). A failure poisons the adapter.
    fn commit(&mut self, mut batch: WriteBatch, now_ms: u64) -> Result<(), LedgerFailure> {
        self.usable()?;
        let now_ms = now_ms.max(self.time_floor_ms);
        batch.push((TIME_KEY.to_vec(), Some(now_ms.to_be_bytes().to_vec())));
        if let Err(error) = self.records.commit(batch) {
            self.poisoned = true;
            return Err(store_write_failed(&error));
        }
        self.time_floor_ms = now_ms;
        Ok(())
    }

    /// Adds a lock event to `batch` and returns its cursor; the cursor moves
    /// on only when the batch is durable ([`CustodyLedger::commit_with_event`]).
    fn event_write(
        &self,
        record: &EscrowLock,
        cursor: u64,
        change: LockChange,
        at_ms: u64,
        delivered: Option<&Position>,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), LedgerFailure> {
        let lock_id = record
            .lock_id()
            .ok_or_else(|| unreadable("a lock", "an event of a lock not yet made"))?;
        let journal = match delivered {
            Some(position) => Some(journal_ref(&self.market, &JournalPosition::from(position))?),
            None => None,
        };
        let event = LockEvent {
            cursor,
            lock_id,
            hashlock: record.terms.hashlock.clone(),
            change,
            at_ms,
            journal,
        };
        Ok(put(event_key(cursor), &event))
    }

    /// Commits a batch that appends one new event.
    fn commit_with_event(
        &mut self,
        mut batch: WriteBatch,
        now_ms: u64,
    ) -> Result<(), LedgerFailure> {
        batch.push((
            NEXT_EVENT_KEY.to_vec(),
            Some((self.next_event + 1).to_be_bytes().to_vec()),
        ));
        self.commit(batch, now_ms)?;
        self.next_event += 1;
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
            // the lock, or the next start, tries again. A failed write is
            // different: the adapter must be reopened.
            let _ = self.advance(&token, record);
            self.usable()?;
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

    /// Performs the transfer a `…ing` state announces and records its result.
    fn advance(
        &mut self,
        token: &str,
        mut record: EscrowLock,
    ) -> Result<EscrowLock, LedgerFailure> {
        let now_ms = self.now();
        match record.state.clone() {
            EscrowState::Locking => {
                let transfer_key = format!("custody:{token}:lock");
                let terms = record.terms.clone();
                let delivered = if now_ms < terms.expiry_ms {
                    let escrow = self.escrow.clone();
                    self.ledger.transfer(
                        &transfer_key,
                        &terms.from,
                        &escrow,
                        &terms.asset,
                        terms.units,
                    )
                } else {
                    // Expired before the delivery into escrow was known to be
                    // made (a redo after a crash): a native ledger would refuse
                    // the lock now, unless it was journaled; so does custody.
                    match self.ledger.transfer_outcome(&transfer_key)? {
                        Some(Ok(position)) => Ok(position),
                        Some(Err(error)) => Err(LedgerFailure::Refused {
                            error,
                            journaled: None,
                        }),
                        None => Err(LedgerFailure::Refused {
                            error: refusal(
                                LedgerReason::ExpiryInPast,
                                format!(
                                    "the expiry {} is not after the ledger time {now_ms}",
                                    terms.expiry_ms
                                ),
                            ),
                            journaled: None,
                        }),
                    }
                };
                match delivered {
                    Ok(position) => {
                        let lock_id = LockId::of_entry(position.seq);
                        let position = Position::from(position);
                        record.state = EscrowState::Open;
                        record.locked = Some(position.clone());
                        let change = LockChange::Locked {
                            expiry_ms: terms.expiry_ms,
                        };
                        let event = self.event_write(
                            &record,
                            self.next_event,
                            change,
                            now_ms,
                            Some(&position),
                        )?;
                        let batch = vec![
                            put(lock_key(token), &record),
                            (id_key(lock_id), Some(token.as_bytes().to_vec())),
                            (open_key(terms.expiry_ms, lock_id), Some(Vec::new())),
                            (held_key(&terms.from, token), Some(Vec::new())),
                            delete(pending_key(token)),
                            event,
                        ];
                        self.commit_with_event(batch, now_ms)?;
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
                event,
            } => {
                let to = record.terms.beneficiary.clone();
                let delivered = self.deliver_from_escrow(token, &mut record, "claim", &to)?;
                record.state = EscrowState::Claimed {
                    key,
                    preimage: preimage.clone(),
                    at_ms,
                    event,
                    delivered: delivered.clone(),
                };
                let change = LockChange::Claimed { preimage };
                self.finish(token, &record, event, change, at_ms, &delivered, now_ms)?;
            }
            EscrowState::Refunding { key, at_ms, event } => {
                let to = record.terms.from.clone();
                let delivered = self.deliver_from_escrow(token, &mut record, "refund", &to)?;
                record.state = EscrowState::Refunded {
                    key,
                    at_ms,
                    event,
                    delivered: delivered.clone(),
                };
                self.finish(
                    token,
                    &record,
                    event,
                    LockChange::Refunded,
                    at_ms,
                    &delivered,
                    now_ms,
                )?;
            }
            EscrowState::Open | EscrowState::Claimed { .. } | EscrowState::Refunded { .. } => {}
        }
        Ok(record)
    }

    /// Records a lock's delivery out of escrow: the locker's units are no
    /// longer held, and the event announced at commit gets its journal reference.
    #[allow(clippy::too_many_arguments)] // one settled lock: its record, its event and times
    fn finish(
        &mut self,
        token: &str,
        record: &EscrowLock,
        event: u64,
        change: LockChange,
        at_ms: u64,
        delivered: &Position,
        now_ms: u64,
    ) -> Result<(), LedgerFailure> {
        let event = self.event_write(record, event, change, at_ms, Some(delivered))?;
        let batch = vec![
            put(lock_key(token), record),
            delete(held_key(&record.terms.from, token)),
            delete(pending_key(token)),
            event,
        ];
        self.commit(batch, now_ms)
    }

    /// Delivers a lock's units out of escrow. A refusal by the ledger (the
    /// escrow frozen, say) does not undo the committed claim or refund: the
    /// attempt is counted, so that the next one is a new transfer, and the
    /// answer is `DELIVERY_PENDING` until a delivery goes through.
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
                Err(LedgerFailure::unknown(
                    LedgerReason::DeliveryPending,
                    format!(
                        "the {step} is committed and will be delivered, but the ledger refused the delivery out of escrow ({}); repeat the {step} with the same key once that is fixed",
                        error
                    ),
                ))
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
    ) -> Result<EscrowLock, LedgerFailure> {
        self.usable()?;
        let asked = match claim_with {
            Some(preimage) => Asked::Claim {
                lock_id,
                preimage: preimage.clone(),
            },
            None => Asked::Refund { lock_id },
        };
        let accepted_before = self.earlier_answer(key, &asked)?;
        let Some(token) = self.token_of(lock_id)? else {
            let error = refusal(
                LedgerReason::LockUnknown,
                format!("no lock {lock_id} on this ledger"),
            );
            let now_ms = self.now();
            return Err(self.refuse(key, asked, error, Vec::new(), now_ms));
        };
        let Some(record) = self.load_lock(&token)? else {
            return Err(unreadable(
                "a lock",
                format!("lock {lock_id} has an id but no record"),
            ));
        };
        if accepted_before {
            // This key's own claim or refund: finish its delivery.
            return self.advance(&token, record);
        }
        // Another key's committed step is that key's to finish; this one
        // finds the lock settled, as on a native ledger.
        let now_ms = self.now();
        let (hashlock, expiry_ms) = (record.terms.hashlock.clone(), record.terms.expiry_ms);
        let refused = match (&record.state, claim_with) {
            (EscrowState::Claiming { .. } | EscrowState::Claimed { .. }, _) => Some(refusal(
                LedgerReason::LockSettled,
                format!("lock {lock_id} was claimed already"),
            )),
            (EscrowState::Refunding { .. } | EscrowState::Refunded { .. }, _) => Some(refusal(
                LedgerReason::LockSettled,
                format!("lock {lock_id} was refunded already"),
            )),
            (_, Some(_)) if now_ms >= expiry_ms => Some(refusal(
                LedgerReason::LockExpired,
                format!(
                    "lock {lock_id} expired at {expiry_ms}; it is {now_ms} and it can only be refunded"
                ),
            )),
            (_, Some(preimage)) if !preimage.opens(&hashlock) => Some(refusal(
                LedgerReason::PreimageMismatch,
                format!("the preimage does not hash to lock {lock_id}'s hashlock {hashlock}"),
            )),
            (_, None) if now_ms < expiry_ms => Some(refusal(
                LedgerReason::LockNotExpired,
                format!(
                    "lock {lock_id} expires at {expiry_ms}; it is {now_ms} and only a claim can move it before then"
                ),
            )),
            _ => None,
        };
        if let Some(error) = refused {
            return Err(self.refuse(key, asked, error, Vec::new(), now_ms));
        }
        // A lock with an id was delivered into escrow: it is open here.
        debug_assert_eq!(
            record.state,
            EscrowState::Open,
            "a lock with an id is open or settled"
        );
        let mut record = record;
        let event = self.next_event;
        let change = match claim_with {
            Some(preimage) => {
                record.state = EscrowState::Claiming {
                    key: key.as_str().to_string(),
                    preimage: preimage.clone(),
                    at_ms: now_ms,
                    event,
                };
                LockChange::Claimed {
                    preimage: preimage.clone(),
                }
            }
            None => {
                record.state = EscrowState::Refunding {
                    key: key.as_str().to_string(),
                    at_ms: now_ms,
                    event,
                };
                LockChange::Refunded
            }
        };
        let used = KeyUse {
            key: key.as_str().to_string(),
            asked,
            refusal: None,
        };
        // The commit that makes the step irrevocable also announces it and
        // takes the lock off the open list; the delivery follows.
        let announcement = self.event_write(&record, event, change, now_ms, None)?;
        self.commit_with_event(
            vec![
                put(key_use_key(&key_token(key.as_str())), &used),
                put(lock_key(&token), &record),
                (pending_key(&token), Some(Vec::new())),
                delete(open_key(expiry_ms, lock_id)),
                announcement,
            ],
            now_ms,
        )?;
        self.advance(&token, record)
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

    /// Where the step `what` of a lock was journaled on the ledger.
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
                LedgerReason::DeliveryPending,
                format!(
                    "the {what} is recorded but not yet delivered; repeat it with the same key"
                ),
            )
        })
    }
}

impl<L: TransferLedger, R: KvStore + Send> LedgerSide for CustodyLedger<L, R> {
    fn market(&self) -> &Mic {
        &self.market
    }

    fn lock(&mut self, order: &LockOrder) -> Result<Locked, LedgerFailure> {
        self.usable()?;
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
        let record = self.settle(&order.key, order.lock_id, Some(&order.preimage))?;
        let position = self.position_of(&record, "claim")?;
        Ok(Claimed {
            lock_id: order.lock_id,
            hashlock: order.preimage.hashlock(),
            preimage: order.preimage.clone(),
            journal: journal_ref(&self.market, &position)?,
        })
    }

    fn refund(&mut self, order: &RefundOrder) -> Result<Refunded, LedgerFailure> {
        let record = self.settle(&order.key, order.lock_id, None)?;
        let position = self.position_of(&record, "refund")?;
        Ok(Refunded {
            lock_id: order.lock_id,
            journal: journal_ref(&self.market, &position)?,
        })
    }

    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure> {
        self.usable()?;
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
        self.usable()?;
        let Some(token) = self.token_of(lock_id)? else {
            return Ok(None);
        };
        Ok(self.load_lock(&token)?.and_then(|record| record.view()))
    }

    fn open_locks(&self, max: usize) -> Result<Vec<Htlc>, LedgerFailure> {
        self.usable()?;
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
        self.usable()?;
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
        self.usable()?;
        Ok(self.now())
    }
}
