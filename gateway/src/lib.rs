//! `isthmus-gateway`: the per-market service an exchange runs.
//!
//! The gateway engine ([`Gateway`]) is a sans-IO state machine (ISM-1 §12.6,
//! §12.7): it sends its participants' instructions to a relay, turns the
//! relay's LockRequests into lock orders on its market's ledger after
//! checking them against the proposal and its own participant's instruction,
//! claims every leg it holds as soon as it learns the secret and hands the
//! secret to the other leg's gateway, and refunds after expiry (the watcher).
//! It never decides a settlement outcome alone (DESIGN.md §1, §6). The QUIC
//! node and the participant API come with the gateway node.

pub mod config;
pub mod engine;
pub mod records;

pub use config::GatewayConfig;
#[cfg(feature = "broken-variants")]
pub use engine::GatewayBroken;
pub use engine::{Gateway, GatewayTimer, Input, Output};
pub use records::{LegPhase, Record, RecordKey, SettlementRecord, Write};

/// The ISM/1 standard the gateway speaks.
pub use isthmus_spec::ISM_VERSION;
