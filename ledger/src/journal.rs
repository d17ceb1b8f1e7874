//! The hash-chained journal: the ledger's only durable record.
//!
//! Entry `n` holds its sequence number, the hash of entry `n - 1` (32 zero
//! bytes for entry 0), the ledger time, the idempotency key, the operation and
//! its outcome. Its bytes are the RFC 8785 canonical JSON of those members, so
//! any language can re-hash them; its hash is the SHA-256 of those bytes.
//! A stored record is the entry's hash followed by its bytes.

use isthmus_spec::ids::Hex32;
use isthmus_spec::jcs::canonical_bytes;
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, LedgerReason};
use crate::operation::{u64_text, Operation, Outcome};

/// The previous-hash of the first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Key prefix of journal records in the store; the sequence number follows, big-endian.
pub const JOURNAL_PREFIX: &[u8] = b"j/";

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEntry {
    // Members in lexicographic order: serde then writes the canonical form.
    /// The caller's idempotency key.
    pub idempotency_key: String,
    /// What was asked.
    pub operation: Operation,
    /// What happened.
    pub outcome: Outcome,
    /// SHA-256 of the previous entry's bytes.
    pub prev_hash: Hex32,
    /// Position in the journal, from 0.
    #[serde(with = "u64_text")]
    pub seq: u64,
    /// Ledger time of the operation, Unix milliseconds.
    #[serde(with = "u64_text")]
    pub time_ms: u64,
}

impl JournalEntry {
    /// The entry's canonical bytes. Every type in an entry declares its
    /// members in lexicographic order and holds only strings and objects, so
    /// serde's compact output is the RFC 8785 form; `from_bytes` checks that
    /// on every read, and the tests on every kind of operation.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising strings, objects and string-encoded integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes an entry, requiring its bytes to be exactly its RFC 8785 form.
    pub fn from_bytes(bytes: &[u8]) -> Result<JournalEntry, String> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("unreadable: {e}"))?;
        if canonical_bytes(&value) != bytes {
            return Err("its bytes are not the RFC 8785 canonical form of its content".into());
        }
        serde_json::from_value(value).map_err(|e| format!("unreadable: {e}"))
    }
}

/// Most entries stored under one key. Entries are grouped so that a batch of
/// thousands costs the store a hundred inserts, not thousands. The bound is
/// small because sled writes a tree node larger than a quarter of its 512 KiB
/// segment as a separate blob file: 128-entry chunks (~57 KiB) did that on
/// nearly every batch and were slower than 16-entry ones (measured A/B with
/// `isthmus bench ledger`).
pub const MAX_CHUNK_ENTRIES: usize = 16;

/// Bytes before each entry in a chunk: its 32-byte hash and its u32 length.
const RECORD_HEADER_BYTES: usize = 32 + 4;

/// The store key of the chunk whose first entry is `first_seq`.
pub fn chunk_key(first_seq: u64) -> Vec<u8> {
    let mut key = JOURNAL_PREFIX.to_vec();
    key.extend_from_slice(&first_seq.to_be_bytes());
    key
}

/// The first sequence number of a chunk key.
pub fn seq_of_key(key: &[u8]) -> Option<u64> {
    let digits: [u8; 8] = key.strip_prefix(JOURNAL_PREFIX)?.try_into().ok()?;
    Some(u64::from_be_bytes(digits))
}

/// Appends one entry to a chunk as `hash ‖ length (u32, big-endian) ‖ bytes`
/// and returns its hash.
pub fn append_record(chunk: &mut Vec<u8>, entry_bytes: &[u8]) -> Hex32 {
    let hash = Hex32::sha256_of(entry_bytes);
    chunk.extend_from_slice(hash.bytes());
    // Entries are a few hundred bytes; their length always fits a u32.
    chunk.extend_from_slice(&(entry_bytes.len() as u32).to_be_bytes());
    chunk.extend_from_slice(entry_bytes);
    hash
}

/// One stored record inside a chunk.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    /// The hash stored with the entry.
    pub stored_hash: &'a [u8],
    /// The entry's bytes.
    pub bytes: &'a [u8],
    /// Where the record (header and bytes) lies in the chunk.
    pub span: (usize, usize),
}

/// The records of a chunk, framed one at a time so that the first problem
/// in order is the one reported: an item is `Err((index, why))` when record
/// `index` cannot be framed, and iteration stops there.
pub fn chunk_records(chunk: &[u8]) -> ChunkRecords<'_> {
    ChunkRecords {
        chunk,
        at: 0,
        index: 0,
        failed: false,
    }
}

/// Iterator returned by [`chunk_records`].
#[derive(Debug)]
pub struct ChunkRecords<'a> {
    chunk: &'a [u8],
    at: usize,
    index: usize,
    failed: bool,
}

impl<'a> Iterator for ChunkRecords<'a> {
    type Item = Result<RawRecord<'a>, (usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.chunk.len() {
            return None;
        }
        let (at, index) = (self.at, self.index);
        let Some(header) = self.chunk.get(at..at + RECORD_HEADER_BYTES) else {
            self.failed = true;
            return Some(Err((
                index,
                "the record is cut short before its length".into(),
            )));
        };
        let mut length = [0u8; 4];
        length.copy_from_slice(&header[32..]);
        let end = (at + RECORD_HEADER_BYTES).saturating_add(u32::from_be_bytes(length) as usize);
        let Some(bytes) = self.chunk.get(at + RECORD_HEADER_BYTES..end) else {
            self.failed = true;
            return Some(Err((
                index,
                "the record is shorter than its stated length".into(),
            )));
        };
        self.at = end;
        self.index += 1;
        Some(Ok(RawRecord {
            stored_hash: &header[..32],
            bytes,
            span: (at, end),
        }))
    }
}

/// Checks a record's hash and decodes its entry.
pub fn decode_record(record: &RawRecord<'_>) -> Result<(Hex32, JournalEntry), String> {
    let hash = Hex32::sha256_of(record.bytes);
    if hash.bytes()[..] != record.stored_hash[..] {
        return Err("its bytes do not match its stored hash".into());
    }
    Ok((hash, JournalEntry::from_bytes(record.bytes)?))
}

/// Finds entry `seq` in the chunk that starts at `first_seq`.
pub fn find_in_chunk(
    chunk: &[u8],
    first_seq: u64,
    seq: u64,
) -> Result<(Hex32, JournalEntry), String> {
    let index = seq
        .checked_sub(first_seq)
        .and_then(|i| usize::try_from(i).ok())
        .ok_or("missing from the store")?;
    match chunk_records(chunk).nth(index) {
        Some(Ok(record)) => decode_record(&record),
        Some(Err((_, problem))) => Err(problem),
        None => Err("missing from the store".into()),
    }
}

/// A corrupt-journal error naming the entry.
pub fn corrupt(seq: u64, problem: &str) -> LedgerError {
    LedgerError::new(
        LedgerReason::JournalCorrupt,
        format!("journal entry {seq}: {problem}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::Effect;
    use crate::LedgerReason;

    /// Every kind of operation and outcome serialises straight to its RFC 8785 form.
    #[test]
    fn serde_output_is_canonical_for_every_kind() {
        let a = || "DEUTDEFF/A".parse().expect("account");
        let b = || "CHASUS33/B".parse().expect("account");
        let operations = [
            Operation::open_account("DEUTDEFF/A"),
            Operation::issue("DEUTDEFF/A", "USD", "10.00"),
            Operation::transfer("DEUTDEFF/A", "CHASUS33/B", "US0378331005", "1.5"),
            Operation::lock("DEUTDEFF/A", "CHASUS33/B", "JPY", "100", &[1; 32], 99),
            Operation::claim(3, &[2; 32]),
            Ok(Operation::Refund { lock_id: 3 }),
            Ok(Operation::Freeze { account: a() }),
            Ok(Operation::Unfreeze { account: b() }),
        ];
        let outcomes = [
            Outcome::Applied(Effect::AccountOpened),
            Outcome::Applied(Effect::Locked { lock_id: 7 }),
            Outcome::Applied(Effect::Claimed { beneficiary: b() }),
            Outcome::Applied(Effect::Refunded { locker: a() }),
            Outcome::Refused(LedgerError::new(
                LedgerReason::InsufficientFunds,
                "a \"quoted\" sentence\n",
            )),
        ];
        for (index, operation) in operations.into_iter().enumerate() {
            for outcome in outcomes.clone() {
                let entry = JournalEntry {
                    idempotency_key: format!("key-{index}"),
                    operation: operation.clone().expect("valid operation"),
                    outcome,
                    prev_hash: Hex32::from_bytes([9; 32]),
                    seq: 12,
                    time_ms: 1_700_000_000_000,
                };
                let bytes = entry.to_bytes();
                assert_eq!(
                    JournalEntry::from_bytes(&bytes).as_ref(),
                    Ok(&entry),
                    "{}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }
}
