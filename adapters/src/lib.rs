//! `isthmus-adapters`: the `MarketAdapter` trait and one adapter per market dialect.
//!
//! Owns translation between a market's own dialect (ISO 20022 XML, SWIFT
//! MT54x, a ledger's native API) and ISM/1, and the ledger side a gateway
//! calls (lock, claim, refund, holdings). Adapters hold no settlement state
//! (DESIGN.md §1).
//!
//! Status: not built yet; issue 4 builds it.

/// The ISM/1 standard every adapter translates into.
pub use isthmus_spec::ISM_VERSION;
