//! The ledger shell: time, idempotency, journal appends and durability.

use std::collections::hash_map::Entry;
use std::collections::BTreeMap;

use isthmus_spec::ident::Isin;
use isthmus_spec::ids::Hex32;

use crate::account::AccountRef;
use crate::asset::Asset;
use crate::batch::{
    fill_hashes, hash_in, EarlierEntry, EncodedBatch, HashToFill, JournalBatch, NewEntry,
};
use crate::error::{log_unavailable, JournalPosition, LedgerError, LedgerFailure, LedgerReason};
use crate::hashing::KeyedMap;
use crate::history::History;
use crate::journal::{corrupt, decode_entry, JournalEntry, GENESIS_HASH, JOURNAL_FORMAT};
use crate::key;
use crate::operation::{Effect, Operation, Outcome};
use crate::snapshot;
use crate::state::{Holding, Htlc, LedgerState};
use crate::verify::{replay_from, Replay};
use isthmus_store::log::{LogError, LogFiles, OpenReport, SegmentLog};
use isthmus_store::Clock;

/// Most operations in one batch: bounds the memory a batch holds before its flush.
pub const MAX_BATCH_OPERATIONS: usize = 10_000;

/// Most journal entries one read returns ([`Ledger::entries`], [`Ledger::history`]).
pub const MAX_PAGE_ENTRIES: usize = 1_000;

/// The most entries a journal can hold: an ISM/1 counter (§4.12) names
/// sequence numbers up to 2^63 - 1, and every entry's number must be nameable.
pub const MAX_JOURNAL_ENTRIES: u64 = i64::MAX as u64;

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

/// Proof that an operation was applied and journaled durably. A refusal is
/// a [`LedgerFailure::Refused`] carrying the position of the entry that
/// journaled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The journal entry's sequence number (a lock's id for `Lock`).
    pub seq: u64,
    /// The journal entry's hash.
    pub entry_hash: Hex32,
    /// Ledger time of the operation.
    pub time_ms: u64,
    /// What the operation did.
    pub effect: Effect,
    /// True when this is the stored receipt of an earlier request with the same key.
    pub replayed: bool,
}

impl Receipt {
    /// Where the operation was journaled.
    pub fn position(&self) -> JournalPosition {
        JournalPosition {
            seq: self.seq,
            entry_hash: self.entry_hash.clone(),
            time_ms: self.time_ms,
        }
    }
}

/// Refuses a batch of `requested` entries that could take the journal past
/// [`MAX_JOURNAL_ENTRIES`] (every request may journal one entry).
fn journal_room(entries: u64, requested: usize) -> Result<(), LedgerFailure> {
    if entries.saturating_add(requested as u64) > MAX_JOURNAL_ENTRIES {
        return Err(LedgerFailure::unavailable(
            LedgerReason::JournalFull,
            format!(
                "the journal holds {entries} entries and cannot take {requested} more; at most {MAX_JOURNAL_ENTRIES}"
            ),
        ));
    }
    Ok(())
}

/// A journaled outcome as the caller sees it: the receipt of an applied
/// operation, or the final refusal with the entry that recorded it.
fn receipt_or_refusal(
    position: JournalPosition,
    outcome: Outcome,
    replayed: bool,
) -> Result<Receipt, LedgerFailure> {
    match outcome {
        Outcome::Applied(effect) => Ok(Receipt {
            seq: position.seq,
            entry_hash: position.entry_hash,
            time_ms: position.time_ms,
            effect,
            replayed,
        }),
        Outcome::Refused(error) => Err(LedgerFailure::Refused {
            error,
            journaled: Some(position),
        }),
    }
}

/// Whether a result carries the position of a journal entry (a receipt, or
/// a refusal that was journaled) whose hash it must be given.
fn result_is_journaled(result: &Result<Receipt, LedgerFailure>) -> bool {
    matches!(
        result,
        Ok(_)
            | Err(LedgerFailure::Refused {
                journaled: Some(_),
                ..
            })
    )
}

/// The receipt of an earlier request with the same key, if it asked the
/// same `operation`; `entry` is that request's entry. Its hash, if the
/// entry is not sealed yet, is `unsealed` until the batch's results are
/// filled in.
fn replayed(
    seq: u64,
    entry: EarlierEntry,
    key: &str,
    operation: &Operation,
    unsealed: &Hex32,
) -> Result<Receipt, LedgerFailure> {
    if entry.operation != *operation {
        return Err(LedgerFailure::refused(
            LedgerReason::IdempotencyKeyReused,
            format!(
                "idempotency key \"{key}\" was used by journal entry {seq} for a different {}",
                entry.operation.name()
            ),
        ));
    }
    receipt_or_refusal(
        JournalPosition {
            seq,
            entry_hash: entry.hash.unwrap_or_else(|| unsealed.clone()),
            time_ms: entry.time_ms,
        },
        entry.outcome,
        true,
    )
}

/// A ledger on the files of its journal, with an injected clock.
pub struct Ledger<F: LogFiles> {
    log: SegmentLog<F>,
    /// What opening the journal found and did (a torn tail set aside).
    open_report: OpenReport,
    books: Books,
}

/// Everything a ledger keeps in memory: what a batch is applied to and
/// journaled against before its entries go to the log. Kept apart from the
/// log so that a batch can be prepared while the previous one is written
/// ([`Ledger::execute_pipelined`]).
pub(crate) struct Books {
    clock: Box<dyn Clock>,
    state: LedgerState,
    next_seq: u64,
    head_hash: Hex32,
    head_time_ms: u64,
    /// Looked up, never iterated: hashing cannot make any output depend on order.
    idempotency: KeyedMap<String, u64>,
    /// Per account, the sequence numbers of the entries touching it, in order.
    history: History,
    /// Set when a write failed after the state changed in memory: the
    /// in-memory state may be ahead of the store, so the ledger refuses all
    /// further work until reopened from the store.
    pub(crate) poisoned: bool,
    /// Buffers of earlier batches, kept so that a batch writes into memory
    /// already in use rather than fresh pages (each at most
    /// [`MAX_KEPT_BATCH_BYTES`], at most [`KEPT_BATCH_BUFFERS`] of them).
    spare: Vec<JournalBatch>,
    /// When snapshots are taken, and what became of them.
    snapshots: Snapshots,
}

/// Every how many journal entries a ledger takes a snapshot by default.
///
/// A full snapshot costs about half a microsecond per entry the ledger holds
/// (`isthmus bench ledger`), and opening replays at most this many entries
/// after the newest one (some 30 s at the 7–8 µs an entry costs to verify
/// on a small machine): four million entries bound a restart at about half
/// a minute and keep the snapshots' cost, spread over the entries between
/// them, near 0.1 µs an entry while a ledger holds a few million.
pub const DEFAULT_SNAPSHOT_INTERVAL_ENTRIES: u64 = 4_000_000;

/// A ledger's snapshots: when it takes them, and what opening found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotReport {
    /// The snapshot opening started from: the entries it covers.
    pub loaded: Option<u64>,
    /// Snapshots opening found and did not use, each with why.
    pub ignored: Vec<String>,
    /// The entries the newest snapshot taken since opening covers.
    pub last_taken: Option<u64>,
    /// Why the last automatic snapshot failed, if it did (the batch it
    /// followed was durable and acknowledged all the same).
    pub last_failure: Option<String>,
}

#[derive(Debug)]
struct Snapshots {
    /// Entries between automatic snapshots; `None`: only when asked.
    every_entries: Option<u64>,
    /// Entries covered by the newest snapshot loaded or taken.
    covered: u64,
    /// The snapshot the next one extends: the newest loaded or taken
    /// (none after a replay of the whole journal: the next one is whole).
    base: snapshot::Base,
    report: SnapshotReport,
}

/// The most buffer a ledger keeps between batches for one batch's entries.
const MAX_KEPT_BATCH_BYTES: usize = 8_388_608; // 8 MiB

/// How many batch buffers a ledger keeps: one per batch a pipeline holds at
/// once ([`crate::pipeline::PIPELINE_DEPTH`]), and the one being built.
const KEPT_BATCH_BUFFERS: usize = 4;
const _: () = assert!(KEPT_BATCH_BUFFERS == crate::pipeline::PIPELINE_DEPTH + 1);

/// A batch applied in memory, its entries not yet sealed (see
/// [`crate::batch`]) and not yet in the log.
pub(crate) struct Prepared {
    /// The entries to seal and append.
    pub(crate) batch: JournalBatch,
    /// Each request's receipt or refusal, to be given out once the entries
    /// are durable, and once the hashes in `fills` are written into them.
    pub(crate) results: BatchResults,
    /// The results whose entry hash is known only once the batch is sealed.
    pub(crate) fills: Vec<HashToFill>,
}

/// Each request's receipt, or why it did not apply, in the order of the batch.
pub type BatchResults = Vec<Result<Receipt, LedgerFailure>>;

/// Where a batch being prepared finds an earlier entry it must read (the
/// first entry of a repeated idempotency key): its contents, and its hash
/// if it is sealed (`None` for an entry of a batch not yet sealed).
pub(crate) type FindEarlier<'a> = dyn Fn(u64) -> Result<EarlierEntry, LedgerFailure> + 'a;

impl<F: LogFiles> Ledger<F> {
    /// Opens a ledger for work, from its newest usable snapshot and the
    /// journal entries after it (replayed and verified), or from the whole
    /// journal; a journal that does not exist yet is created. Damage is refused; the
    /// incomplete last write a crash leaves is set aside in a file of its own
    /// and reported in [`Ledger::open_report`].
    pub fn open(files: F, clock: Box<dyn Clock>) -> Result<Ledger<F>, LedgerFailure> {
        let (log, open_report) =
            SegmentLog::open(files, JOURNAL_FORMAT).map_err(|e| log_unavailable(&e))?;
        Ledger::on(log, open_report, clock)
    }

    /// Opens a ledger to read it, on files opened read-only: nothing is
    /// written, and a journal with any damage (a torn tail included) is
    /// refused, naming the first entry it affects and where it is.
    pub fn open_read_only(files: F, clock: Box<dyn Clock>) -> Result<Ledger<F>, LedgerFailure> {
        let log =
            SegmentLog::open_read_only(files, JOURNAL_FORMAT).map_err(|e| log_unavailable(&e))?;
        if let Some(damage) = log.damage() {
            return Err(log_unavailable(&LogError::Damaged(damage.clone())));
        }
        Ledger::on(log, OpenReport::default(), clock)
    }

    fn on(
        log: SegmentLog<F>,
        open_report: OpenReport,
        clock: Box<dyn Clock>,
    ) -> Result<Ledger<F>, LedgerFailure> {
        let (start, mut base, mut loaded, mut ignored) = newest_usable_snapshot(&log);
        let mut replay = replay_from(&log, start, &[], &mut |_| {})?;
        if let (Some(entries), Some((seq, problem))) = (loaded, &replay.problem) {
            // The entries after a snapshot do not replay on it: the snapshot
            // may be what is wrong, so the whole journal decides.
            let whole = replay_from(&log, Replay::default(), &[], &mut |_| {})?;
            if whole.problem.is_none() {
                ignored.push(format!(
                    "{}: journal entry {seq} does not replay on it ({problem})",
                    snapshot::file_name(entries)
                ));
                (replay, base, loaded) = (whole, snapshot::Base::default(), None);
            }
        }
        if let Some((seq, problem)) = replay.problem {
            return Err(LedgerFailure::Unavailable(corrupt(seq, &problem)));
        }
        let history = History::from_replay(replay.history, &replay.state);
        Ok(Ledger {
            log,
            open_report,
            books: Books {
                clock,
                state: replay.state,
                next_seq: replay.entries,
                head_hash: replay
                    .head_hash
                    .unwrap_or_else(|| Hex32::from_bytes(GENESIS_HASH)),
                head_time_ms: replay.head_time_ms,
                idempotency: replay.idempotency,
                history,
                poisoned: false,
                spare: Vec::new(),
                snapshots: Snapshots {
                    every_entries: Some(DEFAULT_SNAPSHOT_INTERVAL_ENTRIES),
                    covered: loaded.unwrap_or(0),
                    base,
                    report: SnapshotReport {
                        loaded,
                        ignored,
                        ..SnapshotReport::default()
                    },
                },
            },
        })
    }

    /// What opening the journal found and did.
    pub fn open_report(&self) -> &OpenReport {
        &self.open_report
    }

    /// Applies one request durably: its receipt, or why it did not apply.
    pub fn execute(&mut self, request: Request) -> Result<Receipt, LedgerFailure> {
        let mut results = self.execute_batch(vec![request])?;
        assert_eq!(results.len(), 1, "execute_batch answers every request");
        results.remove(0)
    }

    /// Applies requests in order and makes them durable with one flush. The
    /// outer error means nothing in the batch was acknowledged (the store
    /// failed: outcome unknown; the ledger is unavailable; the batch is too
    /// large: refused); each inner result is one request's receipt or its
    /// final refusal.
    pub fn execute_batch(&mut self, requests: Vec<Request>) -> Result<BatchResults, LedgerFailure> {
        // A panic part-way (a broken invariant) may leave the books ahead of
        // the journal: the ledger then refuses all work, as after a failed write.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.execute_batch_unguarded(requests)
        }));
        match run {
            Ok(result) => result,
            Err(panic) => {
                self.books.poisoned = true;
                std::panic::resume_unwind(panic)
            }
        }
    }

    fn execute_batch_unguarded(
        &mut self,
        requests: Vec<Request>,
    ) -> Result<BatchResults, LedgerFailure> {
        let log = &self.log;
        let Prepared {
            mut batch,
            mut results,
            fills,
        } = self.books.prepare(requests, &|seq| {
            entry_from_log(log, seq).map(|(hash, entry)| EarlierEntry::sealed(hash, entry))
        })?;
        let hashes = batch.seal(&self.books.head_hash);
        fill_hashes(&mut results, &fills, |seq| {
            hash_in(&hashes, batch.first_seq, seq)
        });
        self.books.sealed(&hashes);
        // Durable before acknowledged.
        let appended = append(&mut self.log, &batch.encoded);
        self.books.recycle(batch);
        if let Err(error) = appended {
            // The state in memory is ahead of what the journal is known to
            // hold: refuse everything until reopened from the journal.
            self.books.poisoned = true;
            return Err(store_failure(&error));
        }
        self.books.snapshot_if_due(&self.log);
        Ok(results)
    }

    /// Takes a snapshot now (as a node does before it stops): the entries it
    /// covers. It extends the newest loaded or taken; none is removed.
    pub fn snapshot(&mut self) -> Result<u64, LedgerFailure> {
        self.books.snapshot(&self.log)
    }

    /// Sets every how many entries an automatic snapshot is taken (after
    /// the batch that reaches the interval); `None` takes them only when
    /// asked ([`Ledger::snapshot`]).
    pub fn set_snapshot_interval(&mut self, every_entries: Option<u64>) {
        self.books.snapshots.every_entries = every_entries.filter(|&every| every > 0);
    }

    /// What opening found of the snapshots, and what became of those taken since.
    pub fn snapshot_report(&self) -> &SnapshotReport {
        &self.books.snapshots.report
    }

    /// The ledger's parts, for the pipeline: the log, and everything else.
    pub(crate) fn parts(&mut self) -> (&mut SegmentLog<F>, &mut Books) {
        (&mut self.log, &mut self.books)
    }

    fn entry_with_hash(&self, seq: u64) -> Result<(Hex32, JournalEntry), LedgerFailure> {
        entry_from_log(&self.log, seq)
    }

    // ---- queries -------------------------------------------------------

    /// Refuses queries once a write failed: the in-memory state may hold
    /// changes that were never acknowledged, and must not be reported.
    fn readable(&self) -> Result<&LedgerState, LedgerFailure> {
        if self.books.poisoned {
            return Err(LedgerFailure::unavailable(
                LedgerReason::StoreFailed,
                "an earlier write failed; reopen the ledger from its store before querying it",
            ));
        }
        Ok(&self.books.state)
    }

    /// One journal entry.
    pub fn entry(&self, seq: u64) -> Result<JournalEntry, LedgerFailure> {
        // After a failed write the store may hold entries never acknowledged.
        self.readable()?;
        if seq >= self.books.next_seq {
            return Err(LedgerFailure::refused(
                LedgerReason::EntryUnknown,
                format!(
                    "the journal has {} entries; there is no entry {seq}",
                    self.books.next_seq
                ),
            ));
        }
        self.entry_with_hash(seq).map(|(_, entry)| entry)
    }

    /// Journal entries from `from_seq` on, oldest first, with their hashes,
    /// at most `max` of them (and at most [`MAX_PAGE_ENTRIES`]): a cursor over
    /// the journal, from which a watcher learns of claims (and their
    /// preimages) as they happen. An empty page means nothing new yet.
    pub fn entries(
        &self,
        from_seq: u64,
        max: usize,
    ) -> Result<Vec<(Hex32, JournalEntry)>, LedgerFailure> {
        self.readable()?;
        let end = from_seq
            .saturating_add(max.min(MAX_PAGE_ENTRIES) as u64)
            .min(self.books.next_seq);
        (from_seq..end)
            .map(|seq| self.entry_with_hash(seq))
            .collect()
    }

    /// The time this ledger would give an operation now: its clock, but never
    /// earlier than the last journal entry's time (ledger time is monotonic).
    /// Unavailable after a failed write: the last entry in memory may never
    /// have been acknowledged.
    pub fn now_ms(&self) -> Result<u64, LedgerFailure> {
        self.readable()?;
        Ok(self.books.ledger_time())
    }

    /// What the journal recorded for an idempotency key: `None` if the key
    /// was never journaled, else the entry's position and its outcome (the
    /// effect, or the refusal). How a caller that lost an answer in a crash
    /// learns it without asking again.
    pub fn journaled(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<(JournalPosition, Outcome)>, LedgerFailure> {
        self.readable()?;
        let Some(&seq) = self.books.idempotency.get(idempotency_key) else {
            return Ok(None);
        };
        let (entry_hash, entry) = self.entry_with_hash(seq)?;
        let position = JournalPosition {
            seq,
            entry_hash,
            time_ms: entry.time_ms,
        };
        Ok(Some((position, entry.outcome)))
    }

    /// An account's balance of one asset.
    pub fn balance(&self, account: &AccountRef, asset: &Asset) -> Result<Holding, LedgerFailure> {
        self.readable()?
            .balance_of(account, asset)
            .ok_or_else(|| unknown_account(account).into())
    }

    /// Everything an account holds, available and locked, by asset.
    pub fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure> {
        self.readable()?
            .holdings(account)
            .ok_or_else(|| unknown_account(account).into())
    }

    /// Every holder of a security and their balance (the register of holders).
    pub fn register(&self, isin: &Isin) -> Result<Vec<(AccountRef, Holding)>, LedgerFailure> {
        Ok(self.readable()?.register(isin))
    }

    /// `Some(frozen)` for an existing account, `None` for an unknown one.
    pub fn account_frozen(&self, account: &AccountRef) -> Result<Option<bool>, LedgerFailure> {
        Ok(self.readable()?.is_frozen(account))
    }

    /// The journal entries that touched an account from `from_seq` on,
    /// oldest first, at most `max` (and at most [`MAX_PAGE_ENTRIES`]); pass
    /// the last entry's `seq + 1` for the next page.
    pub fn history(
        &self,
        account: &AccountRef,
        from_seq: u64,
        max: usize,
    ) -> Result<Vec<JournalEntry>, LedgerFailure> {
        let state = self.readable()?;
        if !state.has_account(account) {
            return Err(unknown_account(account).into());
        }
        self.books
            .history
            .of(state, account, from_seq)
            .take(max.min(MAX_PAGE_ENTRIES))
            .map(|seq| self.entry(seq))
            .collect()
    }

    /// A lock by id.
    pub fn htlc(&self, lock_id: u64) -> Result<Option<&Htlc>, LedgerFailure> {
        Ok(self.readable()?.htlc(lock_id))
    }

    /// The open locks, earliest expiry first, at most `max`.
    pub fn open_locks(&self, max: usize) -> Result<Vec<&Htlc>, LedgerFailure> {
        Ok(self.readable()?.open_locks().take(max).collect())
    }

    /// The pure state, for checks and simulations. After a failed write it
    /// may include changes that were never acknowledged; the queries above
    /// refuse to answer then.
    pub fn state(&self) -> &LedgerState {
        &self.books.state
    }

    /// Number of journal entries.
    pub fn journal_len(&self) -> u64 {
        self.books.next_seq
    }

    /// Hash of the last journal entry (zeros for an empty journal).
    pub fn head_hash(&self) -> &Hex32 {
        &self.books.head_hash
    }

    /// The journal's log, e.g. to verify it or to reach its files.
    pub fn log(&self) -> &SegmentLog<F> {
        &self.log
    }
}

impl Books {
    /// The time this ledger would give an operation now: its clock, but
    /// never earlier than the last journal entry's time (ledger time is
    /// monotonic).
    fn ledger_time(&self) -> u64 {
        self.clock.now_ms().max(self.head_time_ms)
    }

    /// Applies requests in order in memory and encodes and hashes their
    /// journal entries: everything of a batch but making it durable, which
    /// the caller does before it gives out any result. `earlier` finds an
    /// entry of an earlier batch (a repeated key's first entry). An `Err`
    /// changes nothing.
    pub(crate) fn prepare(
        &mut self,
        requests: Vec<Request>,
        earlier: &FindEarlier<'_>,
    ) -> Result<Prepared, LedgerFailure> {
        if self.poisoned {
            return Err(LedgerFailure::unavailable(
                LedgerReason::StoreFailed,
                "an earlier write failed; reopen the ledger from its store",
            ));
        }
        if requests.len() > MAX_BATCH_OPERATIONS {
            return Err(LedgerFailure::refused(
                LedgerReason::BatchTooLarge,
                format!(
                    "{} operations in one batch; at most {MAX_BATCH_OPERATIONS}",
                    requests.len()
                ),
            ));
        }
        journal_room(self.next_seq, requests.len())?;
        // One ledger time per batch, never earlier than the journal's last.
        let now_ms = self.ledger_time();
        let first_seq = self.next_seq;
        let mut batch = self.spare.pop().unwrap_or_default();
        batch.restart(first_seq, now_ms);
        batch.entries.reserve(requests.len());
        let mut results = Vec::with_capacity(requests.len());
        let mut fills = Vec::with_capacity(requests.len());
        // What a result's entry hash holds until the batch is sealed.
        let unsealed = Hex32::from_bytes([0; 32]);
        for request in requests {
            if let Err(error) = key::check(&request.idempotency_key) {
                results.push(Err(error.into()));
                continue;
            }
            // One look-up of the key: a new key's slot is kept for its entry.
            let Request {
                idempotency_key,
                operation,
            } = request;
            let key_slot = match self.idempotency.entry(idempotency_key) {
                Entry::Occupied(found) => {
                    let seq = *found.get();
                    // A repeat of an entry earlier in this same batch is
                    // found among its entries, not yet sealed.
                    let first = if seq >= first_seq {
                        batch.unsealed(seq).ok_or_else(|| missing_entry(seq))
                    } else {
                        earlier(seq)
                    };
                    let result = first.and_then(|first| {
                        let sealed = first.hash.is_some();
                        let result = replayed(seq, first, found.key(), &operation, &unsealed);
                        if !sealed && result_is_journaled(&result) {
                            fills.push(HashToFill {
                                result: results.len(),
                                seq,
                            });
                        }
                        result
                    });
                    results.push(result);
                    continue;
                }
                Entry::Vacant(slot) => slot,
            };
            let seq = self.next_seq;
            debug_assert_eq!(seq, batch.next_seq());
            // The accounts an operation touches, found once for the history
            // index and the state: the same before and after it applies (locks
            // are never removed), so they are indexed first.
            let places = self.state.places(&operation);
            for place in [places.first, places.second].into_iter().flatten() {
                self.history.record(place, seq);
            }
            let outcome = self.state.apply_at(seq, &operation, now_ms, places);
            // The index keeps the key; the entry journals a copy.
            let idempotency_key = key_slot.key().clone();
            key_slot.insert(seq);
            self.next_seq += 1;
            fills.push(HashToFill {
                result: results.len(),
                seq,
            });
            results.push(receipt_or_refusal(
                JournalPosition {
                    seq,
                    entry_hash: unsealed.clone(),
                    time_ms: now_ms,
                },
                outcome.clone(),
                false,
            ));
            batch.entries.push(NewEntry {
                idempotency_key,
                operation,
                outcome,
            });
        }
        if !batch.entries.is_empty() {
            self.head_time_ms = now_ms;
        }
        Ok(Prepared {
            batch,
            results,
            fills,
        })
    }

    /// Moves the head of the hash chain to the last of a sealed batch's hashes.
    pub(crate) fn sealed(&mut self, hashes: &[Hex32]) {
        if let Some(last) = hashes.last() {
            self.head_hash = last.clone();
        }
    }

    /// The hash of the journal's last sealed entry: the one the next batch chains onto.
    pub(crate) fn head_hash(&self) -> &Hex32 {
        &self.head_hash
    }

    /// Whether an automatic snapshot is due.
    pub(crate) fn snapshot_due(&self) -> bool {
        self.snapshots
            .every_entries
            .is_some_and(|every| self.next_seq >= self.snapshots.covered.saturating_add(every))
    }

    /// Takes a snapshot if one is due. Every entry in the books must be
    /// durable. A failure is reported ([`SnapshotReport::last_failure`]),
    /// never raised: the batches before it are durable and acknowledged.
    pub(crate) fn snapshot_if_due<F: LogFiles>(&mut self, log: &SegmentLog<F>) {
        if !self.snapshot_due() {
            return;
        }
        let result = self.snapshot(log);
        // Tried again only at the next interval, not after every batch.
        self.snapshots.covered = self.next_seq;
        self.snapshots.report.last_failure = result.err().map(|failure| failure.to_string());
    }

    /// Writes a snapshot of the books (every entry in them durable) beside
    /// the journal, extending the newest loaded or taken. None is removed:
    /// each one after the first is part of the chain opening folds.
    pub(crate) fn snapshot<F: LogFiles>(
        &mut self,
        log: &SegmentLog<F>,
    ) -> Result<u64, LedgerFailure> {
        if self.poisoned {
            return Err(LedgerFailure::unavailable(
                LedgerReason::StoreFailed,
                "an earlier write failed; reopen the ledger from its store",
            ));
        }
        let entries = self.next_seq;
        let files = log.files();
        let name = snapshot::file_name(entries);
        let failed = |error: isthmus_store::StoreError| {
            LedgerFailure::unavailable(
                LedgerReason::StoreFailed,
                format!("the snapshot {name} could not be written: {error}"),
            )
        };
        if entries == 0 {
            // Nothing to keep: an empty ledger opens as fast without one.
            return Ok(0);
        }
        if entries == self.snapshots.base.entries {
            if files.len(&name).map_err(failed)?.is_some() {
                // Nothing new since the snapshot loaded or taken last.
                self.snapshots.covered = entries;
                self.snapshots.report.last_taken = Some(entries);
                return Ok(entries);
            }
            // That snapshot is gone: a whole one takes its place.
            self.snapshots.base = snapshot::Base::default();
        }
        let existing = files.list().map_err(failed)?;
        let bytes = snapshot::encode(&snapshot::SnapshotOf {
            entries,
            head_hash: &self.head_hash,
            head_time_ms: self.head_time_ms,
            state: &self.state,
            idempotency: &self.idempotency,
            history: self.history.by_id(&self.state),
            base: &self.snapshots.base,
        });
        if existing.contains(&name) {
            // Taken before at this length, or not ours: a file that says
            // something else is evidence (`verify` names it), left as found.
            let found = files
                .read(&name, snapshot::MAX_SNAPSHOT_BYTES)
                .map_err(failed)?;
            if found.as_deref() != Some(bytes.as_slice()) {
                return Err(LedgerFailure::unavailable(
                    LedgerReason::StoreFailed,
                    format!(
                        "a different {name} is there already; it is left as found, and no snapshot was taken"
                    ),
                ));
            }
        } else {
            files
                .create(&name, &bytes, bytes.len() as u64)
                .map_err(failed)?;
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&bytes[bytes.len() - 32..]);
        self.snapshots.base = snapshot::Base {
            entries,
            digest,
            open_locks: self.state.open_lock_ids(),
        };
        self.snapshots.covered = entries;
        self.snapshots.report.last_taken = Some(entries);
        Ok(entries)
    }

    /// Keeps a batch's buffers for a later batch.
    pub(crate) fn recycle(&mut self, batch: JournalBatch) {
        if batch.encoded.capacity() <= MAX_KEPT_BATCH_BYTES && self.spare.len() < KEPT_BATCH_BUFFERS
        {
            self.spare.push(batch);
        }
    }
}

/// The newest snapshot beside the journal that can be used — with every
/// snapshot it extends whole and in its place, and naming as its head the
/// hash of the journal's entry at its end — as the start of a replay: the
/// chain folded, the base of the next snapshot, and the entries it covers;
/// and why each newer one could not. Without one, the replay starts from
/// the first entry and the next snapshot is whole.
fn newest_usable_snapshot<F: LogFiles>(
    log: &SegmentLog<F>,
) -> (Replay, snapshot::Base, Option<u64>, Vec<String>) {
    let mut ignored = Vec::new();
    let names: BTreeMap<u64, String> = match log.files().list() {
        Ok(names) => names
            .into_iter()
            .filter_map(|name| snapshot::entries_of(&name).map(|entries| (entries, name)))
            .collect(),
        Err(error) => {
            ignored.push(format!("the snapshots could not be listed: {error}"));
            BTreeMap::new()
        }
    };
    // Files found unusable as links, so that no older candidate reads them again.
    let mut broken = BTreeMap::new();
    for (&entries, name) in names.iter().rev() {
        match usable_chain(log, &names, entries, &mut broken) {
            Ok((replay, base)) => return (replay, base, Some(entries), ignored),
            Err(why) => ignored.push(format!("{name}: {why}")),
        }
    }
    (Replay::default(), snapshot::Base::default(), None, ignored)
}

/// The chain of snapshots that ends with the one covering `entries`,
/// checked against the journal and folded.
fn usable_chain<F: LogFiles>(
    log: &SegmentLog<F>,
    names: &BTreeMap<u64, String>,
    entries: u64,
    broken: &mut BTreeMap<u64, String>,
) -> Result<(Replay, snapshot::Base), String> {
    if entries > log.len() {
        return Err(format!(
            "it covers {entries} entries and the journal holds {}",
            log.len()
        ));
    }
    // From the newest back to the first, each the base of the one after it.
    let mut chain: Vec<(snapshot::Header, Vec<u8>)> = Vec::new();
    let mut covering = entries;
    loop {
        let Some(name) = names.get(&covering) else {
            return Err(format!(
                "the snapshot of {covering} entries it extends is not beside it"
            ));
        };
        if let Some(why) = broken.get(&covering) {
            return Err(why.clone());
        }
        let read = log
            .files()
            .read(name, snapshot::MAX_SNAPSHOT_BYTES)
            .map_err(|error| format!("{name} cannot be read: {error}"))
            .and_then(|bytes| bytes.ok_or_else(|| format!("{name} is gone")))
            .and_then(|bytes| {
                let header = snapshot::header(&bytes).map_err(|why| format!("{name}: {why}"))?;
                if header.entries != covering {
                    return Err(format!(
                        "{name} holds {} entries, not what its name says",
                        header.entries
                    ));
                }
                Ok((header, bytes))
            });
        let (header, bytes) = match read {
            Ok(found) => found,
            Err(why) => {
                broken.insert(covering, why.clone());
                return Err(why);
            }
        };
        if chain.is_empty() {
            // The newest first: is it this journal's, at its end?
            check_head(log, &header)?;
        }
        if let Some((later, _)) = chain.last() {
            if later.base_digest != header.digest {
                return Err(format!(
                    "{name} is not the snapshot the one after it extends"
                ));
            }
        }
        covering = header.base_entries;
        chain.push((header, bytes));
        if covering == 0 {
            break;
        }
    }
    let mut folded = snapshot::Chain::default();
    for (header, bytes) in chain.into_iter().rev() {
        folded
            .extend(&bytes, &header)
            .map_err(|why| format!("{}: {why}", snapshot::file_name(header.entries)))?;
    }
    folded.finish()
}

/// Whether the snapshot `header` names as its head the journal's entry at
/// its end, hash and time.
fn check_head<F: LogFiles>(log: &SegmentLog<F>, header: &snapshot::Header) -> Result<(), String> {
    let at = header.entries - 1;
    let head = log.get(at).map_err(|error| error.to_string())?;
    let (hash, entry) = decode_entry(&head)?;
    if hash != header.head_hash {
        return Err(format!(
            "the journal's entry {at} is not the one it was taken after"
        ));
    }
    if entry.time_ms != header.head_time_ms {
        return Err(format!(
            "its time {} is not the time {} of the entry it was taken after",
            header.head_time_ms, entry.time_ms
        ));
    }
    Ok(())
}

/// Appends a batch's entries to the journal's log, each log batch as large
/// as a segment takes (one, at any size the ledger takes on disk): one write
/// and one sync each.
pub(crate) fn append<F: LogFiles>(
    log: &mut SegmentLog<F>,
    batch: &EncodedBatch,
) -> Result<(), LogError> {
    let room = log.max_batch_bytes();
    let count = batch.len();
    let mut start = 0;
    while start < count {
        let mut batch_bytes = isthmus_store::log::format::COMMIT_BYTES;
        let mut end = start;
        while end < count {
            let next = isthmus_store::log::format::RECORD_HEADER_BYTES
                + batch.entry(end).map_or(0, <[u8]>::len);
            if end > start && batch_bytes + next > room {
                break;
            }
            batch_bytes += next;
            end += 1;
        }
        log.append((start..end).filter_map(|index| batch.entry(index)))?;
        start = end;
    }
    Ok(())
}

/// An entry of the journal's log, decoded, with its hash.
pub(crate) fn entry_from_log<F: LogFiles>(
    log: &SegmentLog<F>,
    seq: u64,
) -> Result<(Hex32, JournalEntry), LedgerFailure> {
    let bytes = log.get(seq).map_err(|e| log_unavailable(&e))?;
    decode_entry(&bytes).map_err(|problem| LedgerFailure::Unavailable(corrupt(seq, &problem)))
}

/// What a caller hears when a batch could not be made durable: nothing in
/// it is acknowledged, and the outcome is unknown if the store may have
/// written part of it.
pub(crate) fn store_failure(error: &LogError) -> LedgerFailure {
    let failure = format!("nothing in this batch is acknowledged: {error}");
    if error.may_have_written() {
        LedgerFailure::unknown(LedgerReason::StoreFailed, failure)
    } else {
        LedgerFailure::unavailable(LedgerReason::StoreFailed, failure)
    }
}

/// An entry the ledger's own books say was journaled, and that cannot be found.
fn missing_entry(seq: u64) -> LedgerFailure {
    LedgerFailure::Unavailable(corrupt(
        seq,
        "the entry is missing from the batch that wrote it",
    ))
}

fn unknown_account(account: &AccountRef) -> LedgerError {
    LedgerError::new(
        LedgerReason::AccountUnknown,
        format!("no account {account} on this ledger"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::error::FailureKind;
    use isthmus_store::log::MemoryLogFiles;
    use isthmus_store::ManualClock;

    /// A snapshot whose digest and head hold but whose state is not the
    /// journal's (more cash than was issued): the entries after it do not
    /// replay on it, so opening ignores it, says why, and replays the whole
    /// journal, which decides.
    #[test]
    fn a_snapshot_the_entries_after_it_do_not_replay_on_is_ignored_for_the_whole_journal() {
        let files = MemoryLogFiles::new();
        let clock = ManualClock::new(1_800_000_000_000);
        let mut ledger = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
        for (key, operation) in [
            ("a", Operation::open_account("DEUTDEFF/A").unwrap()),
            ("b", Operation::open_account("CHASUS33/B").unwrap()),
            ("c", Operation::issue("DEUTDEFF/A", "USD", "1.00").unwrap()),
        ] {
            ledger.execute(Request::new(key, operation)).unwrap();
        }
        let covered = ledger.snapshot().unwrap();
        // Refused and journaled: A holds 1.00, not 50.00.
        let refused = ledger
            .execute(Request::new(
                "d",
                Operation::transfer("DEUTDEFF/A", "CHASUS33/B", "USD", "50.00").unwrap(),
            ))
            .unwrap_err();
        assert_eq!(refused.reason(), LedgerReason::InsufficientFunds);
        drop(ledger);

        // The forgery: the snapshot's state with 100.00 more for A.
        let name = snapshot::file_name(covered);
        let real = files.contents()[&name].clone();
        let mut replay = snapshot::decode(&real).unwrap();
        let extra = Operation::issue("DEUTDEFF/A", "USD", "100.00").unwrap();
        assert!(replay.state.apply(covered, &extra, 1).is_applied());
        let forged = snapshot::encode(&snapshot::SnapshotOf {
            entries: covered,
            head_hash: replay.head_hash.as_ref().unwrap(),
            head_time_ms: replay.head_time_ms,
            state: &replay.state,
            idempotency: &replay.idempotency,
            history: snapshot::history_of(&replay.history),
            base: &snapshot::Base::default(),
        });
        files.put(&name, Some(forged));

        let reopened = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
        let report = reopened.snapshot_report();
        assert_eq!(report.loaded, None);
        assert!(
            report
                .ignored
                .iter()
                .any(|why| why.contains(&name) && why.contains("does not replay on it")),
            "{:?}",
            report.ignored
        );
        let account = crate::parse_account("DEUTDEFF/A").unwrap();
        let usd = Asset::parse("USD").unwrap();
        assert_eq!(
            reopened
                .state()
                .balance_of(&account, &usd)
                .map(|h| h.available),
            Some(100)
        );
    }

    #[test]
    fn the_journal_takes_entries_up_to_its_maximum_and_not_one_more() {
        assert!(journal_room(MAX_JOURNAL_ENTRIES - 2, 2).is_ok());
        assert!(journal_room(MAX_JOURNAL_ENTRIES - 1, 1).is_ok());
        assert!(journal_room(MAX_JOURNAL_ENTRIES, 0).is_ok());
        for (entries, requested) in [
            (MAX_JOURNAL_ENTRIES - 1, 2),
            (MAX_JOURNAL_ENTRIES, 1),
            (u64::MAX, 1),
        ] {
            let full = journal_room(entries, requested).unwrap_err();
            assert_eq!(
                (full.kind(), full.reason()),
                (FailureKind::Unavailable, LedgerReason::JournalFull),
                "{entries} + {requested}"
            );
        }
    }
}
