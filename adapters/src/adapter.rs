//! The `MarketAdapter` trait a gateway hosts, and its two halves: a dialect
//! for translation and a [`LedgerSide`] for locks.

use async_trait::async_trait;
use isthmus_ledger::state::Holding;
use isthmus_ledger::{AccountRef, Asset, LedgerError};
use isthmus_spec::body::JournalRef;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::Hex32;
use isthmus_spec::Body;

use crate::context::InboundContext;
use crate::error::{TranslateError, Translation};

/// The message dialects Isthmus translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// ISM/1 itself (JSON).
    Ism,
    /// ISO 20022 XML: sese.023, sese.024, sese.025, semt.002.
    Iso20022,
    /// SWIFT MT540–MT548.
    Mt,
}

impl Dialect {
    /// Inbound: reads one native message into an ISM/1 body.
    pub fn inbound(self, native: &[u8]) -> Result<Translation<Body>, TranslateError> {
        match self {
            Dialect::Ism => crate::native::ism_body_from_bytes(native),
            Dialect::Iso20022 => crate::iso20022::to_ism(native),
            Dialect::Mt => crate::mt::to_ism(native),
        }
    }

    /// Inbound with what the gateway knows: reads one native message, then
    /// completes an instruction from `context` (ISM-1 §6.1 duty 8); every
    /// member not read from the message is listed in the result's `derived`.
    pub fn inbound_with(
        self,
        native: &[u8],
        context: &InboundContext,
    ) -> Result<Translation<Body>, TranslateError> {
        crate::context::complete(self.inbound(native)?, context)
    }

    /// Outbound: writes an ISM/1 body as one native message.
    pub fn outbound(self, body: &Body) -> Result<Translation<Vec<u8>>, TranslateError> {
        match self {
            Dialect::Ism => Ok(Translation::lossless(crate::native::ism_body_to_bytes(
                body,
            ))),
            Dialect::Iso20022 => crate::iso20022::from_ism(body),
            Dialect::Mt => crate::mt::from_ism(body),
        }
    }
}

/// What a gateway asks its ledger to lock (DESIGN.md §3 step 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOrder {
    /// Unique per lock; repeating an order with the same key returns the first receipt.
    pub idempotency_key: String,
    /// The locker, refunded after expiry.
    pub from: AccountRef,
    /// The only account a claim may credit.
    pub beneficiary: AccountRef,
    /// What is locked.
    pub asset: Asset,
    /// How much, as decimal text in the asset's precision.
    pub amount: String,
    /// SHA-256 of the secret.
    pub hashlock: Hex32,
    /// Ledger time (Unix ms) from which the lock can be refunded and no longer claimed.
    pub expiry_ms: u64,
}

/// Proof that a ledger did what was asked: the lock it concerns and where the
/// ledger journaled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockReceiptInfo {
    /// The ledger's id for the lock.
    pub lock_id: String,
    /// The journal entry that recorded the operation.
    pub journal: JournalRef,
}

/// The ledger half of an adapter. Refusals carry the ledger's reason codes
/// (`INSUFFICIENT_FUNDS`, `LOCK_EXPIRED`, `PREIMAGE_MISMATCH`, …), the same
/// whether the ledger locks natively or through a custodian's escrow.
#[async_trait]
pub trait LedgerSide: Send + Sync {
    /// Locks an asset under a hashlock.
    async fn lock(&self, order: &LockOrder) -> Result<LockReceiptInfo, LedgerError>;
    /// Claims a lock with its secret for its beneficiary.
    async fn claim(
        &self,
        idempotency_key: &str,
        lock_id: &str,
        preimage: &Hex32,
    ) -> Result<LockReceiptInfo, LedgerError>;
    /// Returns an expired lock to its locker.
    async fn refund(
        &self,
        idempotency_key: &str,
        lock_id: &str,
    ) -> Result<LockReceiptInfo, LedgerError>;
    /// What an account holds, available and under open locks, by asset.
    async fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerError>;
}

/// What a gateway hosts for one market: the market it serves, inbound and
/// outbound translation of its dialect, and the ledger side (lock, claim,
/// refund, holdings) the gateway calls.
pub trait MarketAdapter: Send + Sync {
    /// The market served (ISO 10383 MIC).
    fn market(&self) -> &Mic;
    /// Inbound translation: a native message into ISM/1.
    fn inbound(&self, native: &[u8]) -> Result<Translation<Body>, TranslateError>;
    /// Inbound translation completed with what the gateway knows about the
    /// participant (ISM-1 §6.1 duty 8).
    fn inbound_with(
        &self,
        native: &[u8],
        context: &InboundContext,
    ) -> Result<Translation<Body>, TranslateError> {
        crate::context::complete(self.inbound(native)?, context)
    }
    /// Outbound translation: an ISM/1 body into the market's dialect.
    fn outbound(&self, body: &Body) -> Result<Translation<Vec<u8>>, TranslateError>;
    /// The market's ledger: lock, claim, refund, holdings.
    fn ledger(&self) -> &dyn LedgerSide;
}

/// A market adapter made of a dialect and a ledger side.
pub struct ComposedAdapter<L: LedgerSide> {
    market: Mic,
    dialect: Dialect,
    ledger: L,
}

impl<L: LedgerSide> ComposedAdapter<L> {
    /// An adapter for `market` speaking `dialect` over `ledger`.
    pub fn new(market: Mic, dialect: Dialect, ledger: L) -> ComposedAdapter<L> {
        ComposedAdapter {
            market,
            dialect,
            ledger,
        }
    }
}

impl<L: LedgerSide> MarketAdapter for ComposedAdapter<L> {
    fn market(&self) -> &Mic {
        &self.market
    }
    fn inbound(&self, native: &[u8]) -> Result<Translation<Body>, TranslateError> {
        self.dialect.inbound(native)
    }
    fn outbound(&self, body: &Body) -> Result<Translation<Vec<u8>>, TranslateError> {
        self.dialect.outbound(body)
    }
    fn ledger(&self) -> &dyn LedgerSide {
        &self.ledger
    }
}
