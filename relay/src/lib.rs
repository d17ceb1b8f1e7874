//! `isthmus-relay`: the settlement engine run by custodians.
//!
//! Owns matching of settlement instructions, the sans-IO hashed-timelock
//! delivery-versus-payment state machine, its durable store, the QUIC server
//! and the client gateways use. It never reaches into a ledger (DESIGN.md §1, §3).
//!
//! Status: not built yet.

/// The ISM/1 standard the relay speaks.
pub use isthmus_spec::ISM_VERSION;
