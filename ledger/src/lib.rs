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
//! - [`isthmus_store::KvStore`] is the small key-value trait the shell writes
//!   through (sled, or memory for tests and simulation), shared with every
//!   other Isthmus shell.
//! - [`Ledger`] is the shell: it takes time from an injected [`isthmus_store::Clock`],
//!   handles idempotency keys, appends journal entries and makes them durable
//!   before returning a [`Receipt`].

pub mod account;
pub mod asset;
pub mod error;
mod history;
pub mod journal;
pub mod key;
mod ledger;
pub mod operation;
pub mod state;
pub mod verify;

pub use account::{parse_account, AccountRef};
pub use asset::Asset;
pub use error::{FailureKind, JournalPosition, LedgerError, LedgerFailure, LedgerReason};
pub use key::{IdempotencyKey, MAX_IDEMPOTENCY_KEY_BYTES};
pub use ledger::{
    Ledger, Receipt, Request, MAX_BATCH_OPERATIONS, MAX_JOURNAL_ENTRIES, MAX_PAGE_ENTRIES,
};
pub use operation::{Effect, Operation};
pub use verify::{verify_files, verify_journal, VerifyReport};
