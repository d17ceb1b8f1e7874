//! Batches through a ledger as a pipeline of three stages, each on its own
//! thread: the books apply batch *k+2* while a *sealer* encodes and hashes
//! batch *k+1* (see [`crate::batch`]) and a *syncer* writes and syncs batch
//! *k*. Group commit as TigerBeetle and databases do it; what a caller sees
//! is what [`Ledger::execute_batch`] called batch after batch gives — the
//! same entries, receipts and refusals — and no result is given out before
//! its batch is durable.
//!
//! Why it is safe: the in-memory books run at most [`PIPELINE_DEPTH`] batches
//! ahead of the log, and a batch's results are delivered only once the
//! syncer has synced it (and so every batch before it: each stage takes
//! batches in order, one at a time). If a write or sync fails, the books are
//! poisoned exactly as after a failed `execute_batch`: the batches not yet
//! durable get an error, nothing of theirs is acknowledged, and the ledger
//! refuses everything until reopened from its journal.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use isthmus_spec::ids::Hex32;
use isthmus_store::log::{LogError, LogFiles, SegmentLog};

use crate::batch::{fill_hashes, hash_in, EarlierEntry, HashToFill, JournalBatch};
use crate::error::{LedgerFailure, LedgerReason};
use crate::ledger::{append, entry_from_log, store_failure, BatchResults, Books};
use crate::{Ledger, Request};

/// How many batches the books may run ahead of the log: one being written
/// and synced, one being sealed, and one prepared and waiting.
pub const PIPELINE_DEPTH: usize = 3;

/// A batch handed to the sealer and not yet known durable. The sealer holds
/// its lock while it seals it, the syncer while it appends it; the books
/// read it only to answer a repeated key.
struct InFlight {
    first_seq: u64,
    batch: Arc<Mutex<JournalBatch>>,
    results: BatchResults,
    fills: Vec<HashToFill>,
}

/// What the syncer says of a batch: whether it is durable, and its entries'
/// hashes (the sealer's).
type Written = (Result<(), LogError>, Vec<Hex32>);

/// The hashes of the batches settled last, kept for the results of a later
/// batch that repeat one of their keys.
struct RecentHashes {
    batches: VecDeque<(u64, Vec<Hex32>)>,
}

impl RecentHashes {
    fn find(&self, seq: u64) -> Option<&Hex32> {
        self.batches
            .iter()
            .find_map(|(first_seq, hashes)| hash_in(hashes, *first_seq, seq))
    }

    fn keep(&mut self, first_seq: u64, hashes: Vec<Hex32>) {
        if self.batches.len() == PIPELINE_DEPTH {
            self.batches.pop_front();
        }
        self.batches.push_back((first_seq, hashes));
    }
}

impl<F: LogFiles + Send> Ledger<F> {
    /// Applies batches in order, as [`Ledger::execute_batch`] would one after
    /// another, with the next batch prepared in memory while the ones
    /// before it are sealed, written and synced on two other threads. `deliver` gets each
    /// batch's result in order, each only once the batch is durable — the
    /// very result `execute_batch` would have returned for it.
    ///
    /// Stops at the first failure of the store: that batch and every batch
    /// prepared after it are delivered their error (nothing in them is
    /// acknowledged), the rest of `batches` is not taken, and the error is
    /// returned; the ledger then refuses all work until reopened. So it
    /// does when the ledger cannot serve (a batch refused `Unavailable`, as
    /// every batch is after an earlier failure or once the journal is full).
    /// A batch refused before it changed anything (too large) is delivered
    /// its error and the pipeline goes on.
    ///
    /// A batch's results wait for the next batch to be taken (or for
    /// `batches` to end): a caller whose source blocks until more requests
    /// come ends its stream, or sends smaller batches, when it must answer.
    /// A panic (in `deliver`, or a broken invariant) leaves the ledger
    /// refusing all work, as a failed write does: its books may be ahead of
    /// its journal.
    pub fn execute_pipelined(
        &mut self,
        batches: impl IntoIterator<Item = Vec<Request>>,
        deliver: &mut dyn FnMut(Result<BatchResults, LedgerFailure>),
    ) -> Result<(), LedgerFailure> {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.pipeline(batches, deliver)
        }));
        match run {
            Ok(result) => result,
            Err(panic) => {
                self.parts().1.poisoned = true;
                std::panic::resume_unwind(panic)
            }
        }
    }

    fn pipeline(
        &mut self,
        batches: impl IntoIterator<Item = Vec<Request>>,
        deliver: &mut dyn FnMut(Result<BatchResults, LedgerFailure>),
    ) -> Result<(), LedgerFailure> {
        let (log, books) = self.parts();
        if books.poisoned {
            return Err(poisoned());
        }
        let log = Mutex::new(log);
        let head = books.head_hash().clone();
        std::thread::scope(|scope| {
            let (to_sealer, sealer_inbox) =
                mpsc::sync_channel::<Arc<Mutex<JournalBatch>>>(PIPELINE_DEPTH);
            let (to_syncer, syncer_inbox) = mpsc::sync_channel::<Sealed>(PIPELINE_DEPTH);
            let (written, outcomes) = mpsc::channel::<Written>();
            let log = &log;
            let started = std::thread::Builder::new()
                .name("journal-sealer".into())
                .spawn_scoped(scope, move || seal_stage(sealer_inbox, to_syncer, head))
                .and_then(|_| {
                    std::thread::Builder::new()
                        .name("journal-syncer".into())
                        .spawn_scoped(scope, move || sync_stage(syncer_inbox, log, written))
                });
            if let Err(error) = started {
                // Nothing taken yet: the ledger is as it was (a sealer
                // started alone stops when `to_sealer` is dropped).
                return Err(LedgerFailure::unavailable(
                    LedgerReason::StoreFailed,
                    format!("the journal's writer threads could not be started: {error}"),
                ));
            }
            let mut recent = RecentHashes {
                batches: VecDeque::new(),
            };
            let mut in_flight: VecDeque<InFlight> = VecDeque::new();
            let mut batches = batches.into_iter();
            loop {
                // Room first, then the next batch: a failure found here
                // stops the pipeline before it takes another.
                while in_flight.len() >= PIPELINE_DEPTH {
                    settle_oldest(&mut in_flight, books, &mut recent, &outcomes, deliver)?;
                }
                if books.snapshot_due() {
                    // A snapshot holds only durable entries: the pipeline
                    // empties first.
                    while !in_flight.is_empty() {
                        settle_oldest(&mut in_flight, books, &mut recent, &outcomes, deliver)?;
                    }
                    snapshot_if_due(log, books);
                }
                let Some(requests) = batches.next() else {
                    break;
                };
                let prepared = books.prepare(requests, &|seq| earlier(&in_flight, log, seq));
                let prepared = match prepared {
                    Ok(prepared) => prepared,
                    Err(refusal) => {
                        // Nothing changed; its answer goes out in its turn.
                        while !in_flight.is_empty() {
                            settle_oldest(&mut in_flight, books, &mut recent, &outcomes, deliver)?;
                        }
                        let serving = refusal.kind() != crate::FailureKind::Unavailable;
                        deliver(Err(refusal.clone()));
                        if !serving {
                            return Err(refusal);
                        }
                        continue;
                    }
                };
                let first_seq = prepared.batch.first_seq;
                let batch = Arc::new(Mutex::new(prepared.batch));
                // A writer that stopped did so after a failure it reported
                // for a batch still in flight, so at least two are: the room
                // check above settles them and finds it.
                let _ = to_sealer.send(Arc::clone(&batch));
                in_flight.push_back(InFlight {
                    first_seq,
                    batch,
                    results: prepared.results,
                    fills: prepared.fills,
                });
            }
            drop(to_sealer);
            while !in_flight.is_empty() {
                settle_oldest(&mut in_flight, books, &mut recent, &outcomes, deliver)?;
            }
            snapshot_if_due(log, books);
            Ok(())
        })
    }
}

/// A batch sealed and waiting to be written, with its entries' hashes.
type Sealed = (Arc<Mutex<JournalBatch>>, Vec<Hex32>);

/// The first of the writer's two stages: encodes and hashes each batch,
/// chained onto the one before it (starting at `head`), while the second
/// writes and syncs the batch before it.
fn seal_stage(
    inbox: mpsc::Receiver<Arc<Mutex<JournalBatch>>>,
    to_syncer: mpsc::SyncSender<Sealed>,
    mut head: Hex32,
) {
    for batch in inbox {
        let hashes = match batch.lock() {
            Ok(mut sealing) => sealing.seal(&head),
            // Poisoned only by a panic here, which the scope re-raises.
            Err(_) => return,
        };
        if let Some(last) = hashes.last() {
            head = last.clone();
        }
        if to_syncer.send((batch, hashes)).is_err() {
            // The syncer stopped after a failure it reported.
            return;
        }
    }
}

/// The second stage: appends each sealed batch to the log (one write and
/// one sync) and says how it went; stops at the first failure.
fn sync_stage<F: LogFiles>(
    inbox: mpsc::Receiver<Sealed>,
    log: &Mutex<&mut SegmentLog<F>>,
    written: mpsc::Sender<Written>,
) {
    for (batch, hashes) in inbox {
        let result = match (batch.lock(), log.lock()) {
            (Ok(mut batch), Ok(mut log)) => {
                let appended = append(&mut log, &batch.encoded);
                if appended.is_ok() {
                    // In the log now, where a repeated key finds them: freed
                    // here rather than by the books.
                    batch.entries.clear();
                }
                appended
            }
            _ => Err(writer_gone()),
        };
        // The pipeline takes the buffers back once the batch is settled.
        drop(batch);
        let failed = result.is_err();
        if written.send((result, hashes)).is_err() || failed {
            return;
        }
    }
}

/// Waits for the oldest batch in flight and delivers its results; on a
/// failure of the store, delivers every batch in flight its error, poisons
/// the books and returns the failure.
fn settle_oldest(
    in_flight: &mut VecDeque<InFlight>,
    books: &mut Books,
    recent: &mut RecentHashes,
    outcomes: &mpsc::Receiver<Written>,
    deliver: &mut dyn FnMut(Result<BatchResults, LedgerFailure>),
) -> Result<(), LedgerFailure> {
    let Some(mut oldest) = in_flight.pop_front() else {
        return Ok(());
    };
    let (outcome, hashes) = outcomes
        .recv()
        .unwrap_or_else(|_| (Err(writer_gone()), Vec::new()));
    match outcome {
        Ok(()) => {
            books.sealed(&hashes);
            recent.keep(oldest.first_seq, hashes);
            fill_hashes(&mut oldest.results, &oldest.fills, |seq| recent.find(seq));
            if let Some(batch) = Arc::try_unwrap(oldest.batch)
                .ok()
                .and_then(|batch| batch.into_inner().ok())
            {
                books.recycle(batch);
            }
            deliver(Ok(oldest.results));
            Ok(())
        }
        Err(error) => {
            books.poisoned = true;
            let failure = store_failure(&error);
            deliver(Err(failure.clone()));
            for _never_written in in_flight.drain(..) {
                deliver(Err(LedgerFailure::unavailable(
                    LedgerReason::StoreFailed,
                    format!(
                        "nothing in this batch is acknowledged: an earlier batch could not be made durable ({error})"
                    ),
                )));
            }
            Err(failure)
        }
    }
}

/// Takes a snapshot if one is due, with nothing in flight. The log's lock
/// is poisoned only by a writer that panicked during a batch's append, and
/// settling that batch has stopped the pipeline before it gets here.
fn snapshot_if_due<F: LogFiles>(log: &Mutex<&mut SegmentLog<F>>, books: &mut Books) {
    if let Ok(log) = log.lock() {
        books.snapshot_if_due(&log);
    }
}

/// An entry of an earlier batch: among the batches in flight and not yet
/// written (its hash not known until the writer has sealed it), else in the
/// log (waiting, if the writer holds either, for the write under way).
fn earlier<F: LogFiles>(
    in_flight: &VecDeque<InFlight>,
    log: &Mutex<&mut SegmentLog<F>>,
    seq: u64,
) -> Result<EarlierEntry, LedgerFailure> {
    for in_flight in in_flight {
        if seq < in_flight.first_seq {
            continue;
        }
        let Ok(batch) = in_flight.batch.lock() else {
            return Err(store_failure(&writer_gone()));
        };
        if let Some(entry) = batch.unsealed(seq) {
            return Ok(entry);
        }
    }
    match log.lock() {
        Ok(log) => entry_from_log(&log, seq).map(|(hash, entry)| EarlierEntry::sealed(hash, entry)),
        Err(_) => Err(store_failure(&writer_gone())),
    }
}

/// Why a poisoned ledger takes no work.
fn poisoned() -> LedgerFailure {
    LedgerFailure::unavailable(
        LedgerReason::StoreFailed,
        "an earlier write failed; reopen the ledger from its store",
    )
}

/// A writer thread (sealer or syncer) stopped without a word: it panicked,
/// which the scope re-raises when the pipeline ends.
fn writer_gone() -> LogError {
    LogError::Refused("the journal's writer threads stopped".into())
}
