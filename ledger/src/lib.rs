//! `isthmus-ledger`: a market's local book-entry ledger.
//!
//! Owns accounts, holdings and cash, hashed-timelock lock/claim/refund and a
//! hash-chained journal, as a pure state-transition core over an injected
//! clock with storage behind a small key-value trait (sled by default).
//! It knows nothing of QUIC or relays (DESIGN.md §1).
//!
//! Status: not built yet; issue 3 builds it.

/// The ISM/1 standard this ledger's receipts are expressed in.
pub use isthmus_spec::ISM_VERSION;
