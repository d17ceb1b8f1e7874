//! `isthmus-store`: the two things every Isthmus shell injects into its pure
//! core — where durable state goes and what time it is.
//!
//! - [`KvStore`] is a small ordered key-value trait with atomic batches and
//!   an explicit durability point ([`KvStore::flush`]), in the way of
//!   rust-lightning's `KVStoreSync`: [`SledStore`] is the durable default,
//!   [`MemoryStore`] serves tests and simulations and can fail writes or
//!   flushes on request, or simulate a crash by dropping every write applied
//!   since the last flush.
//! - [`Clock`] is injected time in Unix milliseconds: [`SystemClock`] reads
//!   the machine's clock, [`ManualClock`] moves only when a test says so.
//!
//! The ledger, the custody adapter, the relay and the gateway all build on
//! these; none of them needs another's crate for it.

pub mod clock;
mod error;
mod kv;
pub mod log;
mod memory;
mod sled_store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{StoreError, StoreOp};
pub use kv::{KvPair, KvStore, WriteBatch};
pub use memory::MemoryStore;
pub use sled_store::{SledStore, SLED_LOCK_WAIT_MS};
