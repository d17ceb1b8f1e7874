//! The hash-chained journal: the ledger's only durable record.
//!
//! Entry `n` holds its sequence number, the hash of entry `n - 1` (32 zero
//! bytes for entry 0), the ledger time, the idempotency key, the operation and
//! its outcome. Its bytes are the RFC 8785 canonical JSON of those members, so
//! any language can re-hash them; its hash is the SHA-256 of those bytes.
//! Each entry is one record of an append-only [`isthmus_store::log`] (ADR
//! 0007), which frames and checksums it; the chain of hashes is the
//! ledger's own, so a verifier needs nothing but the entries' bytes.

use isthmus_spec::ids::Hex32;
use isthmus_spec::jcs::canonical_bytes;
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, LedgerReason};
use crate::operation::{u64_text, Operation, Outcome};

/// The previous-hash of the first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

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

/// The contents of a ledger journal's `FORMAT` file: which kind of log it
/// is, so that no other directory is ever read as a ledger.
pub const JOURNAL_FORMAT: &[u8] = b"isthmus ledger journal, format 1\n";

/// Decodes a stored entry and its hash (the SHA-256 of its bytes).
pub fn decode_entry(bytes: &[u8]) -> Result<(Hex32, JournalEntry), String> {
    Ok((Hex32::sha256_of(bytes), JournalEntry::from_bytes(bytes)?))
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
