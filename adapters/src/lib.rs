//! `isthmus-adapters`: the `MarketAdapter` trait and one adapter per market dialect.
//!
//! Owns translation between a market's own dialect and ISM/1 — ISO 20022 XML
//! ([`iso20022`]: sese.023/024/025, semt.002) and SWIFT MT54x ([`mt`]:
//! MT540–MT548, MT535) — and the ledger side a gateway calls (lock, claim, refund,
//! holdings, and the watcher's queries; [`ledger_side`]): [`native_ledger`]
//! over an in-process `isthmus-ledger`, and [`custody`] for a ledger that
//! cannot lock, through a custodian's escrow account. [`ism_json`] is ISM/1's
//! own JSON as a dialect.
//! Adapters hold no settlement state (DESIGN.md §1, §4).

pub mod adapter;
pub mod context;
pub mod custody;
pub mod error;
pub mod ism_json;
pub mod iso20022;
pub mod ledger_side;
pub mod mt;
pub mod native_ledger;
mod routing;
pub mod statement;
pub mod status_codes;

pub use adapter::{Dialect, MarketAdapter};
pub use context::InboundContext;
pub use error::{Derived, TranslateCode, TranslateError, Translation, Unrepresented};
pub use ledger_side::{
    ClaimOrder, Claimed, CommandResult, LedgerCommand, LedgerDone, LedgerSide, LockId, LockOrder,
    Locked, RefundOrder, Refunded,
};
pub use native_ledger::NativeLedger;

/// The ISM/1 standard every adapter translates into.
pub use isthmus_spec::ISM_VERSION;
