//! The native ledger side: an `isthmus-ledger` in the same process, which
//! locks natively. Its journal is the watcher's event cursor.

use isthmus_ledger::operation::Operation;
use isthmus_ledger::state::{Holding, Htlc};
use isthmus_ledger::{
    AccountRef, Asset, Effect, JournalPosition, Ledger, LedgerFailure, LedgerReason, Receipt,
    Request, MAX_BATCH_OPERATIONS,
};
use isthmus_spec::ident::Mic;
use isthmus_store::log::LogFiles;

use crate::ledger_side::{
    journal_ref, ClaimOrder, Claimed, CommandResult, EventPage, LedgerCommand, LedgerDone,
    LedgerSide, LockChange, LockEvent, LockId, LockOrder, Locked, RefundOrder, Refunded,
    MAX_EVENTS_PER_PAGE,
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

    /// What a lock's receipt says, as the ledger side reports it.
    fn locked(&self, order: &LockOrder, receipt: &Receipt) -> Result<Locked, LedgerFailure> {
        // An applied Lock journals Effect::Locked, and a replayed key returns
        // the effect of the same operation (a different one is refused).
        let Effect::Locked { lock_id } = receipt.effect else {
            unreachable!("a lock journaled {:?}", receipt.effect)
        };
        Ok(Locked {
            lock_id: LockId::of_entry(lock_id),
            hashlock: order.hashlock.clone(),
            expiry_ms: order.expiry_ms,
            journal: self.journal(receipt)?,
        })
    }

    /// What a claim's receipt says.
    fn claimed(&self, order: &ClaimOrder, receipt: &Receipt) -> Result<Claimed, LedgerFailure> {
        Ok(Claimed {
            lock_id: order.lock_id,
            hashlock: order.preimage.hashlock(),
            preimage: order.preimage.clone(),
            journal: self.journal(receipt)?,
        })
    }

    /// What a refund's receipt says.
    fn refunded(&self, order: &RefundOrder, receipt: &Receipt) -> Result<Refunded, LedgerFailure> {
        Ok(Refunded {
            lock_id: order.lock_id,
            journal: self.journal(receipt)?,
        })
    }

    /// What a command's receipt says.
    fn done(&self, command: &LedgerCommand, receipt: &Receipt) -> CommandResult {
        match command {
            LedgerCommand::Lock(order) => self.locked(order, receipt).map(LedgerDone::Locked),
            LedgerCommand::Claim(order) => self.claimed(order, receipt).map(LedgerDone::Claimed),
            LedgerCommand::Refund(order) => self.refunded(order, receipt).map(LedgerDone::Refunded),
        }
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
        let receipt = self
            .ledger
            .execute(command_request(&LedgerCommand::Lock(order.clone())))?;
        self.locked(order, &receipt)
    }

    fn claim(&mut self, order: &ClaimOrder) -> Result<Claimed, LedgerFailure> {
        let receipt = self
            .ledger
            .execute(command_request(&LedgerCommand::Claim(order.clone())))?;
        self.claimed(order, &receipt)
    }

    fn refund(&mut self, order: &RefundOrder) -> Result<Refunded, LedgerFailure> {
        let receipt = self
            .ledger
            .execute(command_request(&LedgerCommand::Refund(order.clone())))?;
        self.refunded(order, &receipt)
    }

    /// One journal batch, so one sync, for all of them (group commit); each
    /// command's result is what [`LedgerSide::execute`] would have given.
    fn execute_batch(&mut self, commands: &[LedgerCommand]) -> Vec<CommandResult> {
        let mut results = Vec::with_capacity(commands.len());
        for chunk in commands.chunks(MAX_BATCH_OPERATIONS) {
            let requests = chunk.iter().map(command_request).collect();
            match self.ledger.execute_batch(requests) {
                Ok(receipts) => {
                    assert_eq!(
                        receipts.len(),
                        chunk.len(),
                        "execute_batch answers every request"
                    );
                    for (command, receipt) in chunk.iter().zip(receipts) {
                        results.push(receipt.and_then(|receipt| self.done(command, &receipt)));
                    }
                }
                // Nothing of the batch was acknowledged: each command fails
                // as it would have alone.
                Err(failure) => results.extend(chunk.iter().map(|_| Err(failure.clone()))),
            }
        }
        results
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

/// The ledger request a gateway's command is.
fn command_request(command: &LedgerCommand) -> Request {
    Request::new(command.key().as_str(), command.operation())
}
