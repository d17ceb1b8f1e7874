//! Batches through a ledger as a pipeline: the next batch is applied,
//! encoded and hashed while the one before it is written and synced, on a
//! second thread. Group commit as TigerBeetle and databases do it; what a
//! caller sees is what [`Ledger::execute_batch`] called batch after batch
//! gives — the same entries, receipts and refusals — and no result is given
//! out before its batch is durable.
//!
//! Why it is safe: the in-memory books run at most [`PIPELINE_DEPTH`] batches
//! ahead of the log, and a batch's results are delivered only once the
//! writer has synced it (and so every batch before it: the writer takes
//! batches in order, one at a time). If a write or sync fails, the books are
//! poisoned exactly as after a failed `execute_batch`: the batches not yet
//! durable get an error, nothing of theirs is acknowledged, and the ledger
//! refuses everything until reopened from its journal.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use isthmus_spec::ids::Hex32;
use isthmus_store::log::{LogError, LogFiles, SegmentLog};

use crate::error::{LedgerFailure, LedgerReason};
use crate::journal::{corrupt, decode_entry, JournalEntry};
use crate::ledger::{append, entry_from_log, store_failure, BatchResults, Books, EncodedBatch};
use crate::{Ledger, Request};

/// How many batches the books may run ahead of the log: one being written
/// and synced, one prepared and waiting for the writer.
pub(crate) const PIPELINE_DEPTH: usize = 2;

/// A batch handed to the writer and not yet known durable.
struct InFlight {
    first_seq: u64,
    entries: Arc<EncodedBatch>,
    results: BatchResults,
}

impl<F: LogFiles + Send> Ledger<F> {
    /// Applies batches in order, as [`Ledger::execute_batch`] would one after
    /// another, with the next batch prepared in memory while the previous
    /// one is written and synced on a second thread. `deliver` gets each
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
        std::thread::scope(|scope| {
            let (to_writer, writer_inbox) = mpsc::sync_channel::<Arc<EncodedBatch>>(PIPELINE_DEPTH);
            let (written, outcomes) = mpsc::channel::<Result<(), LogError>>();
            let log = &log;
            scope.spawn(move || {
                for batch in writer_inbox {
                    let result = match log.lock() {
                        Ok(mut log) => append(&mut log, &batch),
                        Err(_) => Err(writer_gone()),
                    };
                    // The pipeline takes the buffers back once the batch is done.
                    drop(batch);
                    let failed = result.is_err();
                    if written.send(result).is_err() || failed {
                        break;
                    }
                }
            });
            let mut in_flight: VecDeque<InFlight> = VecDeque::new();
            let mut batches = batches.into_iter();
            loop {
                // Room first, then the next batch: a failure found here
                // stops the pipeline before it takes another.
                while in_flight.len() >= PIPELINE_DEPTH {
                    settle_oldest(&mut in_flight, books, &outcomes, deliver)?;
                }
                if books.snapshot_due() {
                    // A snapshot holds only durable entries: the pipeline
                    // empties first.
                    while !in_flight.is_empty() {
                        settle_oldest(&mut in_flight, books, &outcomes, deliver)?;
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
                            settle_oldest(&mut in_flight, books, &outcomes, deliver)?;
                        }
                        let serving = refusal.kind() != crate::FailureKind::Unavailable;
                        deliver(Err(refusal.clone()));
                        if !serving {
                            return Err(refusal);
                        }
                        continue;
                    }
                };
                let entries = Arc::new(prepared.entries);
                // A writer that stopped did so after a failure it reported
                // for a batch still in flight, so at least two are: the room
                // check above settles them and finds it.
                let _ = to_writer.send(Arc::clone(&entries));
                in_flight.push_back(InFlight {
                    first_seq: prepared.first_seq,
                    entries,
                    results: prepared.results,
                });
            }
            drop(to_writer);
            while !in_flight.is_empty() {
                settle_oldest(&mut in_flight, books, &outcomes, deliver)?;
            }
            snapshot_if_due(log, books);
            Ok(())
        })
    }
}

/// Waits for the oldest batch in flight and delivers its results; on a
/// failure of the store, delivers every batch in flight its error, poisons
/// the books and returns the failure.
fn settle_oldest(
    in_flight: &mut VecDeque<InFlight>,
    books: &mut Books,
    outcomes: &mpsc::Receiver<Result<(), LogError>>,
    deliver: &mut dyn FnMut(Result<BatchResults, LedgerFailure>),
) -> Result<(), LedgerFailure> {
    let Some(oldest) = in_flight.pop_front() else {
        return Ok(());
    };
    match outcomes.recv().unwrap_or_else(|_| Err(writer_gone())) {
        Ok(()) => {
            if let Ok(entries) = Arc::try_unwrap(oldest.entries) {
                books.recycle(entries);
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

/// An entry of an earlier batch: among the batches in flight, else in the
/// log (waiting, if the writer holds it, for the write under way).
fn earlier<F: LogFiles>(
    in_flight: &VecDeque<InFlight>,
    log: &Mutex<&mut SegmentLog<F>>,
    seq: u64,
) -> Result<(Hex32, JournalEntry), LedgerFailure> {
    for batch in in_flight {
        if let Some(bytes) = seq
            .checked_sub(batch.first_seq)
            .and_then(|offset| batch.entries.entry(offset))
        {
            return decode_entry(bytes)
                .map_err(|problem| LedgerFailure::Unavailable(corrupt(seq, &problem)));
        }
    }
    match log.lock() {
        Ok(log) => entry_from_log(&log, seq),
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

/// The writer thread stopped without a word: it panicked, which the scope
/// re-raises when the pipeline ends.
fn writer_gone() -> LogError {
    LogError::Refused("the journal's writer thread stopped".into())
}
