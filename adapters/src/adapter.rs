//! The `MarketAdapter` trait a gateway hosts, and its two halves: a
//! [`Dialect`] for translation and a [`LedgerSide`] for locks.

use isthmus_spec::ident::Mic;
use isthmus_spec::Body;

use crate::context::InboundContext;
use crate::error::{TranslateError, Translation};
use crate::ledger_side::LedgerSide;

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
            Dialect::Ism => crate::ism_json::ism_body_from_bytes(native),
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
            Dialect::Ism => Ok(Translation::lossless(crate::ism_json::ism_body_to_bytes(
                body,
            ))),
            Dialect::Iso20022 => crate::iso20022::from_ism(body),
            Dialect::Mt => crate::mt::from_ism(body),
        }
    }
}

/// What a gateway hosts for one market: the market it serves, inbound and
/// outbound translation of its dialect, and the ledger side (lock, claim,
/// refund, holdings) the gateway calls.
pub trait MarketAdapter: Send {
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
    /// The market's ledger, for its queries.
    fn ledger(&self) -> &dyn LedgerSide;
    /// The market's ledger, to lock, claim and refund.
    fn ledger_mut(&mut self) -> &mut dyn LedgerSide;
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
    fn ledger_mut(&mut self) -> &mut dyn LedgerSide {
        &mut self.ledger
    }
}
