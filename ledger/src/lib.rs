//! `isthmus-ledger`: a market's local book-entry ledger.
//!
//! Owns accounts, holdings of securities and cash, hashed-timelock locks
//! (lock, claim, refund), freezing, and a hash-chained journal that is the
//! ledger's only durable record: every balance is the fold of the journal.
//! It knows nothing of QUIC or relays (DESIGN.md §1).
//!
//! The split follows quinn and rust-lightning:
//! - [`state::LedgerState`] is the pure core: `apply(operation, time)`
//!   changes in-memory state and returns what happened; no I/O, no clock.
//! - [`isthmus_store::log::SegmentLog`] is the append-only, checksummed log
//!   the journal is written to (files on disk, or in memory for tests and
//!   simulation), behind the `LogFiles` trait.
//! - [`Ledger`] is the shell: it takes time from an injected [`isthmus_store::Clock`],
//!   handles idempotency keys, appends journal entries and makes them durable
//!   before returning a [`Receipt`]; `Ledger::execute_pipelined` overlaps
//!   one batch's write and sync with the next batch's work.

pub mod account;
pub mod asset;
mod batch;
pub mod error;
mod hashing;
mod history;
mod id_table;
pub mod journal;
pub mod key;
mod ledger;
pub mod operation;
mod pipeline;
mod snapshot;
pub mod state;
pub mod verify;

pub use account::{parse_account, AccountRef};
pub use asset::Asset;
pub use error::{FailureKind, JournalPosition, LedgerError, LedgerFailure, LedgerReason};
pub use key::{IdempotencyKey, MAX_IDEMPOTENCY_KEY_BYTES};
pub use ledger::{
    BatchResults, Ledger, Receipt, Request, SnapshotReport, DEFAULT_SNAPSHOT_INTERVAL_ENTRIES,
    MAX_BATCH_OPERATIONS, MAX_JOURNAL_ENTRIES, MAX_PAGE_ENTRIES,
};
pub use operation::{Effect, Operation};
pub use pipeline::PIPELINE_DEPTH;
pub use verify::{verify_files, verify_journal, VerifyReport};
