//! `isthmus-relay`: the settlement engine run by custodians.
//!
//! The relay matches settlement instructions (ISM-1 §12.4) and drives the
//! hashed-timelock delivery versus payment of every matched pair (§12.5) as a
//! sans-IO state machine, [`Relay`]: messages, timers and the results of its
//! own persistence in; records to persist, messages to send and timers to set
//! out. Time and randomness are injected. It never reaches into a ledger
//! (DESIGN.md §1, §3). The QUIC server and the store come with the relay node.

pub mod config;
pub mod engine;
pub mod matching;
pub mod records;

pub use config::RelayConfig;
#[cfg(feature = "broken-variants")]
pub use engine::RelayBroken;
pub use engine::{Input, Output, Relay, RelayStats, RelayTimer};
pub use records::{InstructionKey, Phase, Record, RecordKey, SettlementRecord, Write};

/// The ISM/1 standard the relay speaks.
pub use isthmus_spec::ISM_VERSION;
