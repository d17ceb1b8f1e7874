//! `isthmus-gateway`: the per-market service an exchange runs.
//!
//! Owns hosting one market adapter, talking to relays, the participant API,
//! risk checks and the watcher that claims or refunds locks. It never decides
//! a settlement outcome alone (DESIGN.md §1, §6).
//!
//! Status: not built yet.

/// The ISM/1 standard the gateway speaks.
pub use isthmus_spec::ISM_VERSION;
