//! The ledger shell: time, idempotency, journal appends and durability.

use std::collections::HashMap;

use isthmus_spec::ident::Isin;
use isthmus_spec::ids::Hex32;

use crate::account::AccountRef;
use crate::asset::Asset;
use crate::error::{LedgerError, LedgerReason};
use crate::journal::{
    append_record, chunk_key, corrupt, find_in_chunk, seq_of_key, JournalEntry, GENESIS_HASH,
    JOURNAL_PREFIX, MAX_CHUNK_ENTRIES,
};
use crate::operation::{Operation, Outcome};
use crate::state::{Holding, Htlc, LedgerState};
use crate::verify::replay;
use isthmus_store::Clock;
use isthmus_store::{KvStore, WriteBatch};

/// Most operations in one batch: bounds the memory a batch holds before its flush.
pub const MAX_BATCH_OPERATIONS: usize = 10_000;

/// Longest idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 128;

/// An operation with the caller's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Unique per intended operation: repeating a request with the same key
    /// returns the first receipt and changes nothing.
    pub idempotency_key: String,
    /// What to do.
    pub operation: Operation,
}

impl Request {
    /// A request.
    pub fn new(idempotency_key: impl Into<String>, operation: Operation) -> Request {
        Request {
            idempotency_key: idempotency_key.into(),
            operation,
        }
    }
}

/// Proof that an operation was journaled durably.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The journal entry's sequence number (a lock's id for `Lock`).
    pub seq: u64,
    /// The journal entry's hash.
    pub entry_hash: Hex32,
    /// Ledger time of the operation.
    pub time_ms: u64,
    /// Applied with an effect, or refused with a reason (refusals are journaled too).
    pub outcome: Outcome,
    /// True when this is the stored receipt of an earlier request with the same key.
    pub replayed: bool,
}

/// A ledger on a store, with an injected clock.
pub struct Ledger<S: KvStore> {
    store: S,
    clock: Box<dyn Clock>,
    state: LedgerState,
    next_seq: u64,
    head_hash: Hex32,
    head_time_ms: u64,
    idempotency: HashMap<String, u64>,
    history: HashMap<AccountRef, Vec<u64>>,
    /// Set when a write failed after the state changed in memory: the
    /// in-memory state may be ahead of the store, so the ledger refuses all
    /// further work until reopened from the store.
    poisoned: bool,
}

fn valid_key(key: &str) -> Result<(), LedgerError> {
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_BYTES
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(LedgerError::new(
            LedgerReason::IdempotencyKeyInvalid,
            format!("an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_BYTES} printable ASCII characters without spaces; got {key:?}"),
        ));
    }
    Ok(())
}

impl<S: KvStore> Ledger<S> {
    /// Opens a ledger, replaying and verifying its whole journal.
    pub fn open(store: S, clock: Box<dyn Clock>) -> Result<Ledger<S>, LedgerError> {
        let replay = replay(&store)?;
        if let Some((seq, problem)) = replay.problem {
            return Err(corrupt(seq, &problem));
        }
        Ok(Ledger {
            store,
            clock,
            state: replay.state,
            next_seq: replay.entries,
            head_hash: replay
                .head_hash
                .unwrap_or_else(|| Hex32::from_bytes(GENESIS_HASH)),
            head_time_ms: replay.head_time_ms,
            idempotency: replay.idempotency,
            history: replay.history,
            poisoned: false,
        })
    }

    /// Applies one request durably.
    pub fn execute(&mut self, request: Request) -> Result<Receipt, LedgerError> {
        let mut receipts = self.execute_batch(vec![request])?;
        // execute_batch returns exactly one result per request.
        receipts
            .pop()
            .unwrap_or_else(|| Err(LedgerError::new(LedgerReason::StoreFailed, "no receipt")))
    }

    /// Applies requests in order and makes them durable with one flush. The
    /// outer error means nothing was acknowledged (store failure, batch too
    /// large); each inner result is one request's receipt, or its refusal when
    /// it could not be journaled (bad or reused idempotency key).
    pub fn execute_batch(
        &mut self,
        requests: Vec<Request>,
    ) -> Result<Vec<Result<Receipt, LedgerError>>, LedgerError> {
        if self.poisoned {
            return Err(LedgerError::new(
                LedgerReason::StoreFailed,
                "an earlier write failed; reopen the ledger from its store",
            ));
        }
        if requests.len() > MAX_BATCH_OPERATIONS {
            return Err(LedgerError::new(
                LedgerReason::BatchTooLarge,
                format!(
                    "{} operations in one batch; at most {MAX_BATCH_OPERATIONS}",
                    requests.len()
                ),
            ));
        }
        // One ledger time per batch, never earlier than the journal's last.
        let now_ms = self.clock.now_ms().max(self.head_time_ms);
        // This batch's entries, grouped into chunks of at most MAX_CHUNK_ENTRIES.
        let batch_first_seq = self.next_seq;
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        let mut results = Vec::with_capacity(requests.len());
        for request in requests {
            if let Err(error) = valid_key(&request.idempotency_key) {
                results.push(Err(error));
                continue;
            }
            if let Some(&seq) = self.idempotency.get(&request.idempotency_key) {
                // A repeat of an entry written earlier in this same batch is
                // found in the chunks not yet stored.
                let in_batch = seq.checked_sub(batch_first_seq).map(|offset| {
                    let chunk_index = (offset / MAX_CHUNK_ENTRIES as u64) as usize;
                    let chunk_first =
                        batch_first_seq + chunk_index as u64 * MAX_CHUNK_ENTRIES as u64;
                    (
                        chunk_first,
                        chunks
                            .get(chunk_index)
                            .map(Vec::as_slice)
                            .unwrap_or_default(),
                    )
                });
                results.push(self.replayed(seq, &request, in_batch));
                continue;
            }
            let seq = self.next_seq;
            let touched = self.state.accounts_touched(&request.operation);
            let outcome = self.state.apply(seq, &request.operation, now_ms);
            let entry = JournalEntry {
                seq,
                prev_hash: self.head_hash.clone(),
                time_ms: now_ms,
                idempotency_key: request.idempotency_key.clone(),
                operation: request.operation,
                outcome: outcome.clone(),
            };
            let chunk_index = ((seq - batch_first_seq) / MAX_CHUNK_ENTRIES as u64) as usize;
            if chunk_index == chunks.len() {
                chunks.push(Vec::with_capacity(MAX_CHUNK_ENTRIES * 512));
            }
            // chunk_index <= chunks.len() - 1: entries fill chunks in order, and one was pushed above if needed.
            let hash = append_record(&mut chunks[chunk_index], &entry.to_bytes());
            for account in touched {
                self.history.entry(account).or_default().push(seq);
            }
            self.idempotency.insert(request.idempotency_key, seq);
            self.next_seq += 1;
            self.head_hash = hash.clone();
            self.head_time_ms = now_ms;
            results.push(Ok(Receipt {
                seq,
                entry_hash: hash,
                time_ms: now_ms,
                outcome,
                replayed: false,
            }));
        }
        let batch: WriteBatch = chunks
            .into_iter()
            .enumerate()
            .map(|(index, chunk)| {
                (
                    chunk_key(batch_first_seq + (index * MAX_CHUNK_ENTRIES) as u64),
                    Some(chunk),
                )
            })
            .collect();
        if !batch.is_empty() {
            // Durable before acknowledged: apply atomically, then flush.
            if let Err(error) = self.store.apply(batch).and_then(|()| self.store.flush()) {
                self.poisoned = true;
                return Err(LedgerError::new(
                    LedgerReason::StoreFailed,
                    format!("nothing in this batch is acknowledged: {error}"),
                ));
            }
        }
        Ok(results)
    }

    /// The receipt of an earlier request with the same key, if it asked the same.
    fn replayed(
        &self,
        seq: u64,
        request: &Request,
        in_batch: Option<(u64, &[u8])>,
    ) -> Result<Receipt, LedgerError> {
        let (hash, entry) = match in_batch {
            Some((chunk_first, chunk)) => {
                find_in_chunk(chunk, chunk_first, seq).map_err(|problem| corrupt(seq, &problem))?
            }
            None => self.entry_with_hash(seq)?,
        };
        if entry.operation != request.operation {
            return Err(LedgerError::new(
                LedgerReason::IdempotencyKeyReused,
                format!(
                    "idempotency key \"{}\" was used by journal entry {seq} for a different {}",
                    request.idempotency_key,
                    entry.operation.name()
                ),
            ));
        }
        Ok(Receipt {
            seq,
            entry_hash: hash,
            time_ms: entry.time_ms,
            outcome: entry.outcome,
            replayed: true,
        })
    }

    fn entry_with_hash(&self, seq: u64) -> Result<(Hex32, JournalEntry), LedgerError> {
        let (key, chunk) = self
            .store
            .get_floor(JOURNAL_PREFIX, &chunk_key(seq))
            .map_err(|e| LedgerError::new(LedgerReason::StoreFailed, e.to_string()))?
            .ok_or_else(|| corrupt(seq, "missing from the store"))?;
        let first_seq =
            seq_of_key(&key).ok_or_else(|| corrupt(seq, "its chunk key is malformed"))?;
        find_in_chunk(&chunk, first_seq, seq).map_err(|problem| corrupt(seq, &problem))
    }

    // ---- queries -------------------------------------------------------

    /// Refuses queries once a write failed: the in-memory state may hold
    /// changes that were never acknowledged, and must not be reported.
    fn readable(&self) -> Result<&LedgerState, LedgerError> {
        if self.poisoned {
            return Err(LedgerError::new(
                LedgerReason::StoreFailed,
                "an earlier write failed; reopen the ledger from its store before querying it",
            ));
        }
        Ok(&self.state)
    }

    /// One journal entry.
    pub fn entry(&self, seq: u64) -> Result<JournalEntry, LedgerError> {
        self.entry_with_hash(seq).map(|(_, entry)| entry)
    }

    /// An account's balance of one asset.
    pub fn balance(&self, account: &AccountRef, asset: &Asset) -> Result<Holding, LedgerError> {
        self.readable()?
            .balance_of(account, asset)
            .ok_or_else(|| unknown_account(account))
    }

    /// Everything an account holds, available and locked, by asset.
    pub fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerError> {
        self.readable()?
            .holdings(account)
            .ok_or_else(|| unknown_account(account))
    }

    /// Every holder of a security and their balance (the register of holders).
    pub fn register(&self, isin: &Isin) -> Result<Vec<(AccountRef, Holding)>, LedgerError> {
        Ok(self.readable()?.register(isin))
    }

    /// `Some(frozen)` for an existing account, `None` for an unknown one.
    pub fn account_frozen(&self, account: &AccountRef) -> Result<Option<bool>, LedgerError> {
        Ok(self.readable()?.is_frozen(account))
    }

    /// Every journal entry that touched an account, oldest first.
    pub fn history(&self, account: &AccountRef) -> Result<Vec<JournalEntry>, LedgerError> {
        if !self.readable()?.has_account(account) {
            return Err(unknown_account(account));
        }
        self.history
            .get(account)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&seq| self.entry(seq))
            .collect()
    }

    /// A lock by id.
    pub fn htlc(&self, lock_id: u64) -> Result<Option<&Htlc>, LedgerError> {
        Ok(self.readable()?.htlc(lock_id))
    }

    /// The pure state, for checks and simulations. After a failed write it
    /// may include changes that were never acknowledged; the queries above
    /// refuse to answer then.
    pub fn state(&self) -> &LedgerState {
        &self.state
    }

    /// Number of journal entries.
    pub fn journal_len(&self) -> u64 {
        self.next_seq
    }

    /// Hash of the last journal entry (zeros for an empty journal).
    pub fn head_hash(&self) -> &Hex32 {
        &self.head_hash
    }

    /// The store, e.g. to verify it.
    pub fn store(&self) -> &S {
        &self.store
    }
}

fn unknown_account(account: &AccountRef) -> LedgerError {
    LedgerError::new(
        LedgerReason::AccountUnknown,
        format!("no account {account} on this ledger"),
    )
}
