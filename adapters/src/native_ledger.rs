//! The native ledger side: an `isthmus-ledger` in the same process, which
//! locks natively. Its journal is the watcher's event cursor.

use isthmus_ledger::operation::Operation;
use isthmus_ledger::state::{Holding, Htlc};
use isthmus_ledger::{
    AccountRef, Asset, Effect, JournalPosition, Ledger, LedgerFailure, LedgerReason, Receipt,
    Request,
};
use isthmus_spec::ident::Mic;
use isthmus_store::log::LogFiles;

use crate::ledger_side::{
    journal_ref, ClaimOrder, Claimed, EventPage, LedgerSide, LockChange, LockEvent, LockId,
    LockOrder, Locked, RefundOrder, Refunded, MAX_EVENTS_PER_PAGE,
};

/// An `isthmus-ledger` of one market, owned by whoever drives it (a
/// gateway's ledger thread, a test, the simulator).
pub struct NativeLedger<S: LogFiles> {
    market: Mic,
    ledger: Ledger<S>,
}

impl<S: LogFiles> NativeLedger<S> {
    /// Wraps a ledger of `market`.
    pub fn new(market: Mic, ledger: Ledger<S>) -> NativeLedger<S> {
        NativeLedger { market, ledger }
    }

    /// The ledger, for queries beyond the ledger side's.
    pub fn ledger(&self) -> &Ledger<S> {
        &self.ledger
    }

    /// The ledger, e.g. to open and fund accounts.
    pub fn ledger_mut(&mut self) -> &mut Ledger<S> {
        &mut self.ledger
    }

    /// Runs one operation under the caller's key.
    pub fn execute(&mut self, key: &str, operation: Operation) -> Result<Receipt, LedgerFailure> {
        self.ledger.execute(Request::new(key, operation))
    }

    fn journal(&self, receipt: &Receipt) -> Result<isthmus_spec::body::JournalRef, LedgerFailure> {
        journal_ref(&self.market, &receipt.position())
    }

    fn known_lock(&self, lock_id: LockId) -> Result<&Htlc, LedgerFailure> {
        self.ledger.htlc(lock_id.seq())?.ok_or_else(|| {
            // The ledger journaled the operation that named this lock, so it knows it.
            LedgerFailure::unavailable(
                LedgerReason::JournalCorrupt,
                format!("the ledger applied an operation on lock {lock_id} but has no such lock"),
            )
        })
    }

    /// The lock event a journal entry records, if it records one.
    fn event_of(
        &self,
        position: JournalPosition,
        operation: &Operation,
        effect: &Effect,
    ) -> Result<Option<LockEvent>, LedgerFailure> {
        let (lock_id, hashlock, change) = match (operation, effect) {
            (
                Operation::Lock {
                    hashlock,
                    expiry_ms,
                    ..
                },
                Effect::Locked { lock_id },
            ) => (
                LockId::of_entry(*lock_id),
                hashlock.clone(),
                LockChange::Locked {
                    expiry_ms: *expiry_ms,
                },
            ),
            (Operation::Claim { lock_id, preimage }, Effect::Claimed { .. }) => {
                let lock_id = LockId::of_entry(*lock_id);
                (
                    lock_id,
                    self.known_lock(lock_id)?.hashlock.clone(),
                    LockChange::Claimed {
                        preimage: preimage.clone(),
                    },
                )
            }
            (Operation::Refund { lock_id }, Effect::Refunded { .. }) => {
                let lock_id = LockId::of_entry(*lock_id);
                (
                    lock_id,
                    self.known_lock(lock_id)?.hashlock.clone(),
                    LockChange::Refunded,
                )
            }
            _ => return Ok(None),
        };
        Ok(Some(LockEvent {
            cursor: position.seq,
            lock_id,
            hashlock,
            change,
            at_ms: position.time_ms,
            journal: Some(journal_ref(&self.market, &position)?),
        }))
    }
}

impl<S: LogFiles + Send> LedgerSide for NativeLedger<S> {
    fn market(&self) -> &Mic {
        &self.market
    }

    fn lock(&mut self, order: &LockOrder) -> Result<Locked, LedgerFailure> {
        let operation = Operation::Lock {
            asset: order.asset.clone(),
            beneficiary: order.beneficiary.clone(),
            expiry_ms: order.expiry_ms,
            from: order.from.clone(),
            hashlock: order.hashlock.clone(),
            units: order.units,
        };
        let receipt = self.execute(order.key.as_str(), operation)?;
        // An applied Lock journals Effect::Locked, and a replayed key returns
        // the effect of the same operation (a different one is refused).
        let Effect::Locked { lock_id } = receipt.effect else {
            unreachable!("a lock journaled {:?}", receipt.effect)
        };
        Ok(Locked {
            lock_id: LockId::of_entry(lock_id),
            hashlock: order.hashlock.clone(),
            expiry_ms: order.expiry_ms,
            journal: self.journal(&receipt)?,
        })
    }

    fn claim(&mut self, order: &ClaimOrder) -> Result<Claimed, LedgerFailure> {
        let operation = Operation::Claim {
            lock_id: order.lock_id.seq(),
            preimage: order.preimage.clone(),
        };
        let receipt = self.execute(order.key.as_str(), operation)?;
        Ok(Claimed {
            lock_id: order.lock_id,
            hashlock: order.preimage.hashlock(),
            preimage: order.preimage.clone(),
            journal: self.journal(&receipt)?,
        })
    }

    fn refund(&mut self, order: &RefundOrder) -> Result<Refunded, LedgerFailure> {
        let operation = Operation::Refund {
            lock_id: order.lock_id.seq(),
        };
        let receipt = self.execute(order.key.as_str(), operation)?;
        Ok(Refunded {
            lock_id: order.lock_id,
            journal: self.journal(&receipt)?,
        })
    }

    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure> {
        self.ledger.holdings(account)
    }

    fn lock_status(&self, lock_id: LockId) -> Result<Option<Htlc>, LedgerFailure> {
        Ok(self.ledger.htlc(lock_id.seq())?.cloned())
    }

    fn open_locks(&self, max: usize) -> Result<Vec<Htlc>, LedgerFailure> {
        Ok(self.ledger.open_locks(max)?.into_iter().cloned().collect())
    }

    fn events_since(&self, cursor: u64, max: usize) -> Result<EventPage, LedgerFailure> {
        let max = max.min(MAX_EVENTS_PER_PAGE);
        let mut events = Vec::new();
        let mut next = cursor;
        // Entries that are not lock events are skipped; each page reads a
        // bounded number of entries, so a long run of transfers costs the
        // watcher several calls, never an unbounded one.
        for (entry_hash, entry) in self.ledger.entries(cursor, MAX_EVENTS_PER_PAGE)? {
            if events.len() == max {
                break;
            }
            next = entry.seq + 1;
            let position = JournalPosition {
                seq: entry.seq,
                entry_hash,
                time_ms: entry.time_ms,
            };
            if let isthmus_ledger::operation::Outcome::Applied(effect) = &entry.outcome {
                if let Some(event) = self.event_of(position, &entry.operation, effect)? {
                    events.push(event);
                }
            }
        }
        Ok(EventPage { events, next })
    }

    fn now_ms(&self) -> Result<u64, LedgerFailure> {
        self.ledger.now_ms()
    }
}
