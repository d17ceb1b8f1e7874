//! A batch of new journal entries between the books and the log: applied
//! by the books, which record each entry's parts, then *sealed* — each
//! entry encoded with the hash of the one before it, and hashed — by
//! whoever appends it. Encoding and the hash chain need nothing of the
//! books but the entries, so the pipeline does them on a thread of their
//! own, while the books apply the next batch and the batch before is
//! written and synced (ADR 0008).

use isthmus_spec::ids::Hex32;

use crate::error::LedgerFailure;
use crate::journal::{write_entry, EntryParts, JournalEntry, ENTRY_BYTES_HINT};
use crate::ledger::BatchResults;
use crate::operation::{Operation, Outcome};

/// A new journal entry's parts, as the books applied it.
#[derive(Debug)]
pub(crate) struct NewEntry {
    pub(crate) idempotency_key: String,
    pub(crate) operation: Operation,
    pub(crate) outcome: Outcome,
}

/// An earlier entry a batch being applied reads (a repeated key's first
/// entry): what it asked and did, and its hash if it is sealed.
#[derive(Debug)]
pub(crate) struct EarlierEntry {
    pub(crate) hash: Option<Hex32>,
    pub(crate) time_ms: u64,
    pub(crate) operation: Operation,
    pub(crate) outcome: Outcome,
}

impl EarlierEntry {
    /// An entry read from the journal.
    pub(crate) fn sealed(hash: Hex32, entry: JournalEntry) -> EarlierEntry {
        EarlierEntry {
            hash: Some(hash),
            time_ms: entry.time_ms,
            operation: entry.operation,
            outcome: entry.outcome,
        }
    }
}

/// A batch of new journal entries, all at one ledger time, and, once
/// sealed, their bytes.
#[derive(Debug, Default)]
pub(crate) struct JournalBatch {
    /// The sequence number of the batch's first entry.
    pub(crate) first_seq: u64,
    /// The ledger time of every entry of the batch.
    pub(crate) time_ms: u64,
    /// The entries, in order; emptied once they are in the log.
    pub(crate) entries: Vec<NewEntry>,
    /// The sealed entries' bytes.
    pub(crate) encoded: EncodedBatch,
}

impl JournalBatch {
    /// Empties the batch for entries from `first_seq` at `time_ms`, keeping its buffers.
    pub(crate) fn restart(&mut self, first_seq: u64, time_ms: u64) {
        self.first_seq = first_seq;
        self.time_ms = time_ms;
        self.entries.clear();
        self.encoded.clear();
    }

    /// The sequence number the next entry pushed gets.
    pub(crate) fn next_seq(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }

    /// The batch's entry `seq`, unsealed; `None` if the batch does not hold it.
    pub(crate) fn unsealed(&self, seq: u64) -> Option<EarlierEntry> {
        let index = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        let entry = self.entries.get(index)?;
        Some(EarlierEntry {
            hash: None,
            time_ms: self.time_ms,
            operation: entry.operation.clone(),
            outcome: entry.outcome.clone(),
        })
    }

    /// Encodes every entry, chained onto `head` (the hash of the journal's
    /// last entry, or the genesis hash), into [`JournalBatch::encoded`], and
    /// returns each entry's hash, in order.
    pub(crate) fn seal(&mut self, head: &Hex32) -> Vec<Hex32> {
        let encoded = &mut self.encoded;
        encoded.clear();
        encoded.bytes.reserve(self.entries.len() * ENTRY_BYTES_HINT);
        encoded.ends.reserve(self.entries.len());
        let mut hashes: Vec<Hex32> = Vec::with_capacity(self.entries.len());
        for (seq, entry) in (self.first_seq..).zip(&self.entries) {
            let start = encoded.bytes.len();
            write_entry(
                &mut encoded.bytes,
                &EntryParts {
                    seq,
                    prev_hash: hashes.last().unwrap_or(head).as_str(),
                    time_ms: self.time_ms,
                    idempotency_key: &entry.idempotency_key,
                    operation: &entry.operation,
                    outcome: &entry.outcome,
                },
            );
            encoded.ends.push(encoded.bytes.len());
            hashes.push(Hex32::sha256_of(&encoded.bytes[start..]));
        }
        hashes
    }
}

/// A batch's journal entries, encoded back to back.
#[derive(Debug, Default)]
pub(crate) struct EncodedBatch {
    /// The entries' bytes, back to back.
    bytes: Vec<u8>,
    /// Where each entry ends in `bytes`.
    ends: Vec<usize>,
}

impl EncodedBatch {
    /// Entry `index` of the batch.
    pub(crate) fn entry(&self, index: u64) -> Option<&[u8]> {
        let index = usize::try_from(index).ok()?;
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.bytes.get(start..end)
    }

    /// How many entries the batch holds.
    pub(crate) fn len(&self) -> u64 {
        self.ends.len() as u64
    }

    /// How much memory the batch's bytes hold.
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
}

/// A result whose entry hash is known only once its batch is sealed: the
/// result's index in its batch, and the sequence number of the entry whose
/// hash it carries (its own, or a repeated key's first entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HashToFill {
    pub(crate) result: usize,
    pub(crate) seq: u64,
}

/// Writes the entry hashes a batch's results wait for; `hash_of` gives the
/// hash of a sealed entry by sequence number.
///
/// Every entry a result waits for is in its own batch or one sealed before
/// it, so a hash `hash_of` cannot give is a bug of the caller: asserted.
pub(crate) fn fill_hashes<'h>(
    results: &mut BatchResults,
    fills: &[HashToFill],
    hash_of: impl Fn(u64) -> Option<&'h Hex32>,
) {
    for fill in fills {
        let hash = hash_of(fill.seq);
        let slot = match results.get_mut(fill.result) {
            Some(Ok(receipt)) => Some(&mut receipt.entry_hash),
            Some(Err(LedgerFailure::Refused {
                journaled: Some(position),
                ..
            })) => Some(&mut position.entry_hash),
            _ => None,
        };
        assert!(
            hash.is_some() && slot.is_some(),
            "result {} waits for the hash of entry {}, sealed before its results go out",
            fill.result,
            fill.seq
        );
        if let (Some(hash), Some(slot)) = (hash, slot) {
            *slot = hash.clone();
        }
    }
}

/// The hash of entry `seq` among a batch's hashes, the batch's first entry being `first_seq`.
pub(crate) fn hash_in(hashes: &[Hex32], first_seq: u64, seq: u64) -> Option<&Hex32> {
    let offset = usize::try_from(seq.checked_sub(first_seq)?).ok()?;
    hashes.get(offset)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::operation::Effect;

    fn batch(first_seq: u64, count: usize) -> JournalBatch {
        let mut batch = JournalBatch::default();
        batch.restart(first_seq, 1_800_000_000_000);
        for n in 0..count {
            batch.entries.push(NewEntry {
                idempotency_key: format!("key-{n}"),
                operation: Operation::open_account(&format!("DEUTDEFF/A{n}")).unwrap(),
                outcome: Outcome::Applied(Effect::AccountOpened),
            });
        }
        batch
    }

    #[test]
    fn sealing_chains_each_entry_onto_the_one_before() {
        let head = Hex32::sha256_of(b"head");
        let mut sealed = batch(7, 3);
        let hashes = sealed.seal(&head);
        assert_eq!((hashes.len(), sealed.encoded.len()), (3, 3));
        // Independently: each entry as serde writes it, with the hash before it.
        let mut previous = head.clone();
        for (n, hash) in hashes.iter().enumerate() {
            let expected = JournalEntry {
                idempotency_key: format!("key-{n}"),
                operation: Operation::open_account(&format!("DEUTDEFF/A{n}")).unwrap(),
                outcome: Outcome::Applied(Effect::AccountOpened),
                prev_hash: previous.clone(),
                seq: 7 + n as u64,
                time_ms: 1_800_000_000_000,
            };
            let bytes = serde_json::to_vec(&expected).unwrap();
            assert_eq!(sealed.encoded.entry(n as u64).unwrap(), &bytes[..]);
            assert_eq!(hash, &Hex32::sha256_of(&bytes));
            previous = hash.clone();
        }
        // Sealed again (a retried batch), the bytes are the same, not appended.
        assert_eq!(sealed.seal(&head), hashes);
        assert_eq!(sealed.encoded.len(), 3);
    }

    #[test]
    fn an_empty_batch_seals_to_no_hashes() {
        let mut empty = batch(0, 0);
        assert!(empty.seal(&Hex32::sha256_of(b"head")).is_empty());
        assert_eq!(empty.encoded.entry(0), None);
    }

    #[test]
    fn unsealed_entries_are_found_by_sequence_number() {
        let built = batch(10, 2);
        assert_eq!(built.next_seq(), 12);
        let second = built.unsealed(11).unwrap();
        assert_eq!(second.hash, None);
        assert_eq!(second.time_ms, 1_800_000_000_000);
        assert_eq!(second.operation, built.entries[1].operation);
        assert!(built.unsealed(12).is_none());
        assert!(built.unsealed(9).is_none());
    }

    #[test]
    fn restarting_empties_the_batch() {
        let mut built = batch(10, 2);
        built.seal(&Hex32::sha256_of(b"head"));
        built.restart(20, 5);
        assert_eq!(
            (built.first_seq, built.time_ms, built.next_seq()),
            (20, 5, 20)
        );
        assert_eq!(built.encoded.len(), 0);
    }

    #[test]
    #[should_panic(expected = "waits for the hash of entry 12")]
    fn a_result_waiting_for_a_hash_no_batch_has_is_a_bug() {
        let hashes = vec![Hex32::sha256_of(b"a")];
        let mut results: BatchResults = vec![Ok(crate::Receipt {
            seq: 12,
            entry_hash: Hex32::from_bytes([0; 32]),
            time_ms: 1,
            effect: Effect::AccountOpened,
            replayed: false,
        })];
        fill_hashes(&mut results, &[HashToFill { result: 0, seq: 12 }], |seq| {
            hash_in(&hashes, 11, seq)
        });
    }

    #[test]
    #[should_panic(expected = "result 0 waits")]
    fn a_result_without_a_position_waiting_for_a_hash_is_a_bug() {
        let hashes = vec![Hex32::sha256_of(b"a")];
        let mut results: BatchResults = vec![Err(LedgerFailure::refused(
            crate::LedgerReason::IdempotencyKeyReused,
            "not journaled",
        ))];
        fill_hashes(&mut results, &[HashToFill { result: 0, seq: 11 }], |seq| {
            hash_in(&hashes, 11, seq)
        });
    }

    #[test]
    fn hashes_are_found_by_sequence_number() {
        let hashes = vec![Hex32::sha256_of(b"a"), Hex32::sha256_of(b"b")];
        assert_eq!(hash_in(&hashes, 10, 10), Some(&hashes[0]));
        assert_eq!(hash_in(&hashes, 10, 11), Some(&hashes[1]));
        assert_eq!(hash_in(&hashes, 10, 12), None);
        assert_eq!(hash_in(&hashes, 10, 9), None);
    }
}
