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

use crate::account::AccountRef;
use crate::asset::Asset;
use crate::error::{LedgerError, LedgerReason};
use crate::operation::{u64_text, Effect, Operation, Outcome};

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
    /// The entry's canonical bytes, written by [`write_entry`]. Every type in
    /// an entry declares its members in lexicographic order and holds only
    /// strings and objects, so serde's compact output is the RFC 8785 form;
    /// `write_entry` writes exactly those bytes without serde (the tests
    /// compare the two), and `from_bytes` checks the form on every read.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENTRY_BYTES_HINT);
        self.write_to(&mut out);
        out
    }

    /// Appends the entry's canonical bytes ([`JournalEntry::to_bytes`]) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_entry(
            out,
            &EntryParts {
                seq: self.seq,
                prev_hash: self.prev_hash.as_str(),
                time_ms: self.time_ms,
                idempotency_key: &self.idempotency_key,
                operation: &self.operation,
                outcome: &self.outcome,
            },
        );
    }

    /// Decodes an entry, requiring its bytes to be exactly its RFC 8785 form.
    pub fn from_bytes(bytes: &[u8]) -> Result<JournalEntry, String> {
        // Decoded straight into an entry, whose own encoding (RFC 8785, as
        // `write_to` writes it and the tests below pin) must then be the
        // bytes: the whole check, at a fraction of the cost of building a
        // JSON value and canonicalising it.
        if let Ok(entry) = serde_json::from_slice::<JournalEntry>(bytes) {
            let mut again = Vec::with_capacity(bytes.len());
            entry.write_to(&mut again);
            if again == bytes {
                return Ok(entry);
            }
        }
        // Refused: said precisely by the general path.
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("unreadable: {e}"))?;
        if canonical_bytes(&value) != bytes {
            return Err("its bytes are not the RFC 8785 canonical form of its content".into());
        }
        serde_json::from_value(value).map_err(|e| format!("unreadable: {e}"))
    }
}

/// About the length of one entry's bytes (an HTLC entry is 300 to 450), to size buffers.
pub const ENTRY_BYTES_HINT: usize = 512;

/// The members of a journal entry, borrowed: what [`write_entry`] encodes,
/// so the ledger journals an operation without building a [`JournalEntry`].
#[derive(Debug, Clone, Copy)]
pub struct EntryParts<'a> {
    /// Position in the journal.
    pub seq: u64,
    /// The previous entry's hash, as its 64 hex digits.
    pub prev_hash: &'a str,
    /// Ledger time, Unix milliseconds.
    pub time_ms: u64,
    /// The caller's idempotency key.
    pub idempotency_key: &'a str,
    /// What was asked.
    pub operation: &'a Operation,
    /// What happened.
    pub outcome: &'a Outcome,
}

/// Appends an entry's RFC 8785 canonical bytes to `out`: byte for byte what
/// serde_json writes for the [`JournalEntry`] (tests compare the two on every
/// kind of operation and outcome, and on strings with every character JSON
/// escapes). Written by hand because it is the ledger's hottest path: no
/// intermediate values, no formatter, one growing buffer.
///
/// Members are written in the lexicographic order RFC 8785 §3.2.3 sorts them
/// into; every name is ASCII, so UTF-16 order is byte order.
pub fn write_entry(out: &mut Vec<u8>, entry: &EntryParts<'_>) {
    out.reserve(ENTRY_BYTES_HINT);
    out.extend_from_slice(b"{\"idempotency_key\":");
    write_str(out, entry.idempotency_key);
    out.extend_from_slice(b",\"operation\":");
    write_operation(out, entry.operation);
    out.extend_from_slice(b",\"outcome\":");
    write_outcome(out, entry.outcome);
    out.extend_from_slice(b",\"prev_hash\":");
    write_str(out, entry.prev_hash);
    out.extend_from_slice(b",\"seq\":");
    write_u64(out, entry.seq);
    out.extend_from_slice(b",\"time_ms\":");
    write_u64(out, entry.time_ms);
    out.push(b'}');
}

fn write_operation(out: &mut Vec<u8>, operation: &Operation) {
    // Each variant is an object with one member, its snake_case name.
    match operation {
        Operation::OpenAccount { account } => {
            out.extend_from_slice(b"{\"open_account\":{\"account\":");
            write_account(out, account);
        }
        Operation::Issue {
            account,
            asset,
            units,
        } => {
            out.extend_from_slice(b"{\"issue\":{\"account\":");
            write_account(out, account);
            out.extend_from_slice(b",\"asset\":");
            write_asset(out, asset);
            out.extend_from_slice(b",\"units\":");
            write_u64(out, *units);
        }
        Operation::Transfer {
            asset,
            from,
            to,
            units,
        } => {
            out.extend_from_slice(b"{\"transfer\":{\"asset\":");
            write_asset(out, asset);
            out.extend_from_slice(b",\"from\":");
            write_account(out, from);
            out.extend_from_slice(b",\"to\":");
            write_account(out, to);
            out.extend_from_slice(b",\"units\":");
            write_u64(out, *units);
        }
        Operation::Lock {
            asset,
            beneficiary,
            expiry_ms,
            from,
            hashlock,
            units,
        } => {
            out.extend_from_slice(b"{\"lock\":{\"asset\":");
            write_asset(out, asset);
            out.extend_from_slice(b",\"beneficiary\":");
            write_account(out, beneficiary);
            out.extend_from_slice(b",\"expiry_ms\":");
            write_u64(out, *expiry_ms);
            out.extend_from_slice(b",\"from\":");
            write_account(out, from);
            out.extend_from_slice(b",\"hashlock\":");
            write_hex(out, hashlock.as_str());
            out.extend_from_slice(b",\"units\":");
            write_u64(out, *units);
        }
        Operation::Claim { lock_id, preimage } => {
            out.extend_from_slice(b"{\"claim\":{\"lock_id\":");
            write_u64(out, *lock_id);
            out.extend_from_slice(b",\"preimage\":");
            write_hex(out, preimage.as_str());
        }
        Operation::Refund { lock_id } => {
            out.extend_from_slice(b"{\"refund\":{\"lock_id\":");
            write_u64(out, *lock_id);
        }
        Operation::Freeze { account } => {
            out.extend_from_slice(b"{\"freeze\":{\"account\":");
            write_account(out, account);
        }
        Operation::Unfreeze { account } => {
            out.extend_from_slice(b"{\"unfreeze\":{\"account\":");
            write_account(out, account);
        }
    }
    out.extend_from_slice(b"}}");
}

fn write_outcome(out: &mut Vec<u8>, outcome: &Outcome) {
    match outcome {
        Outcome::Applied(effect) => {
            out.extend_from_slice(b"{\"applied\":");
            // Variants without members are plain strings.
            match effect {
                Effect::AccountOpened => out.extend_from_slice(b"\"account_opened\""),
                Effect::Issued => out.extend_from_slice(b"\"issued\""),
                Effect::Transferred => out.extend_from_slice(b"\"transferred\""),
                Effect::Frozen => out.extend_from_slice(b"\"frozen\""),
                Effect::Unfrozen => out.extend_from_slice(b"\"unfrozen\""),
                Effect::Locked { lock_id } => {
                    out.extend_from_slice(b"{\"locked\":{\"lock_id\":");
                    write_u64(out, *lock_id);
                    out.extend_from_slice(b"}}");
                }
                Effect::Claimed { beneficiary } => {
                    out.extend_from_slice(b"{\"claimed\":{\"beneficiary\":");
                    write_account(out, beneficiary);
                    out.extend_from_slice(b"}}");
                }
                Effect::Refunded { locker } => {
                    out.extend_from_slice(b"{\"refunded\":{\"locker\":");
                    write_account(out, locker);
                    out.extend_from_slice(b"}}");
                }
            }
            out.push(b'}');
        }
        Outcome::Refused(error) => {
            out.extend_from_slice(b"{\"refused\":{\"message\":");
            write_str(out, &error.message);
            out.extend_from_slice(b",\"reason\":");
            write_str(out, error.reason.as_str());
            out.extend_from_slice(b"}}");
        }
    }
}

/// An account as its `OWNER/ACCOUNT` text (its `Display` form).
fn write_account(out: &mut Vec<u8>, account: &AccountRef) {
    out.push(b'"');
    write_str_contents(out, account.owner.as_str());
    out.push(b'/');
    write_str_contents(out, account.account.as_str());
    out.push(b'"');
}

fn write_asset(out: &mut Vec<u8>, asset: &Asset) {
    match asset {
        Asset::Security(isin) => {
            out.extend_from_slice(b"{\"security\":");
            write_str(out, isin.as_str());
        }
        Asset::Cash(currency) => {
            out.extend_from_slice(b"{\"cash\":");
            write_str(out, currency.as_str());
        }
    }
    out.push(b'}');
}

/// The two digits of every number below 100, `00` to `99`.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut n = 0;
    while n < 100 {
        pairs[2 * n] = b'0' + (n / 10) as u8;
        pairs[2 * n + 1] = b'0' + (n % 10) as u8;
        n += 1;
    }
    pairs
};

/// A u64 as a JSON string of its decimal digits (entries hold no JSON
/// numbers), two digits at a time.
fn write_u64(out: &mut Vec<u8>, mut value: u64) {
    // The quote, up to 20 digits, the quote.
    let mut text = [b'"'; 22];
    let mut at = text.len() - 1;
    while value >= 100 {
        let pair = 2 * (value % 100) as usize;
        value /= 100;
        at -= 2;
        text[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if value >= 10 {
        let pair = 2 * value as usize;
        at -= 2;
        text[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        text[at] = b'0' + value as u8;
    }
    out.extend_from_slice(&text[at - 1..]);
}

/// A [`Hex32`]'s text: 64 lower-case hex digits by construction, so
/// nothing in it is escaped.
fn write_hex(out: &mut Vec<u8>, hex: &str) {
    debug_assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{hex:?}");
    out.push(b'"');
    out.extend_from_slice(hex.as_bytes());
    out.push(b'"');
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    write_str_contents(out, text);
    out.push(b'"');
}

/// A string's contents, escaped as RFC 8785 §3.2.2.2 (and serde_json) do:
/// `\"` and `\\`, the two-letter escapes for backspace, form feed, newline,
/// carriage return and tab, `\u00xx` in lower case for the other controls,
/// and every other character as its UTF-8 bytes.
fn write_str_contents(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    // Most strings (keys, accounts, codes) need no escape: copied whole.
    let Some(first) = bytes
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
    else {
        out.extend_from_slice(bytes);
        return;
    };
    out.extend_from_slice(&bytes[..first]);
    let mut start = first;
    for (at, &byte) in bytes.iter().enumerate().skip(first) {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0C => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1F => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xF)],
            ],
            _ => continue,
        };
        // Bytes of multi-byte characters are all 0x80 or more: never split here.
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(escape);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
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

    /// Bytes that decode to an entry but are not its canonical form — a
    /// space, members out of order, an escape where none is needed — are
    /// refused, as they were before entries were decoded straight.
    #[test]
    fn entry_bytes_other_than_the_canonical_form_are_refused() {
        let entry = JournalEntry {
            seq: 3,
            prev_hash: Hex32::from_bytes([1; 32]),
            time_ms: 1_700_000_000_000,
            idempotency_key: "key-1".into(),
            operation: Operation::open_account("DEUTDEFF/A").expect("valid"),
            outcome: Outcome::Applied(Effect::AccountOpened),
        };
        let canonical = entry.to_bytes();
        assert_eq!(JournalEntry::from_bytes(&canonical), Ok(entry.clone()));
        let text = String::from_utf8(canonical.clone()).expect("UTF-8");
        let variants = [
            text.replacen('{', "{ ", 1),
            text.replacen("\"key-1\"", "\"key\\u002d1\"", 1),
            text.replacen("\"idempotency_key\":\"key-1\",", "", 1)
                .replacen('}', ",\"idempotency_key\":\"key-1\"}", 1),
            format!("{text}\n"),
        ];
        for variant in variants {
            assert_ne!(variant.as_bytes(), canonical.as_slice());
            let refused = JournalEntry::from_bytes(variant.as_bytes());
            assert!(refused.is_err(), "{variant} was accepted");
        }
    }

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

    /// Every kind of operation, and every kind of outcome.
    fn every_kind() -> (Vec<Operation>, Vec<Outcome>) {
        let a = || -> AccountRef { "DEUTDEFF/A".parse().expect("account") };
        let b = || -> AccountRef { "549300ISTHMUSSELL015/SAFE 1/(x)".parse().expect("account") };
        let operations = vec![
            Operation::open_account("DEUTDEFF/A").expect("valid"),
            Operation::issue("DEUTDEFF/A", "USD", "10.00").expect("valid"),
            Operation::issue("DEUTDEFF/A", "US0378331005", "0.000001").expect("valid"),
            Operation::transfer("DEUTDEFF/A", "CHASUS33/B", "US0378331005", "1.5").expect("valid"),
            Operation::lock("DEUTDEFF/A", "CHASUS33/B", "JPY", "100", &[1; 32], 99).expect("valid"),
            Operation::lock(
                "CHASUS33XXX/B",
                "DEUTDEFF/A",
                "BHD",
                "0.001",
                &[0xfe; 32],
                u64::MAX,
            )
            .expect("valid"),
            Operation::claim(3, &[2; 32]).expect("valid"),
            Operation::claim(0, &[0; 32]).expect("valid"),
            Operation::Refund { lock_id: u64::MAX },
            Operation::Refund { lock_id: 10 },
            Operation::Freeze { account: a() },
            Operation::Unfreeze { account: b() },
        ];
        let outcomes = vec![
            Outcome::Applied(Effect::AccountOpened),
            Outcome::Applied(Effect::Issued),
            Outcome::Applied(Effect::Transferred),
            Outcome::Applied(Effect::Locked { lock_id: 7 }),
            Outcome::Applied(Effect::Locked { lock_id: 0 }),
            Outcome::Applied(Effect::Claimed { beneficiary: b() }),
            Outcome::Applied(Effect::Refunded { locker: a() }),
            Outcome::Applied(Effect::Frozen),
            Outcome::Applied(Effect::Unfrozen),
            Outcome::Refused(LedgerError::new(
                LedgerReason::InsufficientFunds,
                "a \"quoted\" sentence\n",
            )),
            Outcome::Refused(LedgerError::new(LedgerReason::LockSettled, "")),
        ];
        (operations, outcomes)
    }

    fn serde_bytes(entry: &JournalEntry) -> Vec<u8> {
        serde_json::to_vec(entry).expect("serialisable")
    }

    /// The hand-written encoder writes exactly serde_json's bytes (which the
    /// test above shows are canonical) for every operation and outcome.
    #[test]
    fn the_encoder_writes_serde_jsons_bytes_for_every_kind() {
        let (operations, outcomes) = every_kind();
        for (index, operation) in operations.into_iter().enumerate() {
            for (seq, outcome) in outcomes.iter().enumerate() {
                for (seq, time_ms) in [
                    (seq as u64, 1_700_000_000_000),
                    (u64::MAX, 0),
                    (0, u64::MAX),
                ] {
                    let entry = JournalEntry {
                        idempotency_key: format!("key-{index}"),
                        operation: operation.clone(),
                        outcome: outcome.clone(),
                        prev_hash: Hex32::from_bytes([index as u8; 32]),
                        seq,
                        time_ms,
                    };
                    let expected = serde_bytes(&entry);
                    assert_eq!(
                        String::from_utf8_lossy(&entry.to_bytes()),
                        String::from_utf8_lossy(&expected)
                    );
                    // Appending to a buffer that holds other entries already.
                    let mut buffer = b"earlier".to_vec();
                    entry.write_to(&mut buffer);
                    assert_eq!(&buffer[7..], expected.as_slice());
                }
            }
        }
    }

    fn entry_with_text(key: &str, message: &str) -> JournalEntry {
        JournalEntry {
            idempotency_key: key.to_string(),
            operation: Operation::Refund { lock_id: 1 },
            outcome: Outcome::Refused(LedgerError::new(LedgerReason::LockUnknown, message)),
            prev_hash: Hex32::from_bytes([3; 32]),
            seq: 2,
            time_ms: 5,
        }
    }

    /// Strings are escaped as serde_json escapes them: every ASCII character,
    /// alone and among others, and characters of two, three and four bytes.
    #[test]
    fn the_encoder_escapes_strings_as_serde_json_does() {
        let mut texts: Vec<String> = (0u8..=0x7f).map(|b| char::from(b).to_string()).collect();
        texts.push((0u8..=0x7f).map(char::from).collect());
        texts.extend(
            [
                "",
                "é",
                "\u{2028}\u{2029}",
                "\u{ffff}",
                "\u{10000}😀",
                "a\"b\\c\u{7f}\u{1f}d",
                "\u{0}",
            ]
            .map(String::from),
        );
        for text in &texts {
            let entry = entry_with_text(text, text);
            assert_eq!(entry.to_bytes(), serde_bytes(&entry), "{text:?}");
        }
    }

    /// Integers are written as their decimal digits, quoted, at every length.
    #[test]
    fn the_encoder_writes_every_length_of_integer() {
        let mut values = vec![0, 1, 9, 10, 11, 99, 100, 101, 999, u64::MAX, u64::MAX - 1];
        let mut power = 1u64;
        while let Some(next) = power.checked_mul(10) {
            values.extend([power - 1, power, power + 1, next - 1]);
            power = next;
        }
        for value in values {
            let mut out = Vec::new();
            write_u64(&mut out, value);
            assert_eq!(String::from_utf8_lossy(&out), format!("\"{value}\""));
            let entry = JournalEntry {
                seq: value,
                time_ms: value,
                operation: Operation::Refund { lock_id: value },
                ..entry_with_text("k", "m")
            };
            assert_eq!(entry.to_bytes(), serde_bytes(&entry), "{value}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_encoder_agrees_with_serde_json_on_any_text(key in ".*", message in "\\PC*|[\\x00-\\x7f]*") {
            let entry = entry_with_text(&key, &message);
            proptest::prop_assert_eq!(entry.to_bytes(), serde_bytes(&entry));
        }

        #[test]
        fn the_encoder_agrees_with_serde_json_on_any_integer(seq: u64, time_ms: u64, lock_id: u64) {
            let entry = JournalEntry {
                seq,
                time_ms,
                operation: Operation::Refund { lock_id },
                ..entry_with_text("k", "m")
            };
            proptest::prop_assert_eq!(entry.to_bytes(), serde_bytes(&entry));
        }
    }
}
