//! Message bodies (ISM-1 §6). Each body's semantics follow the ISO 20022
//! message named beside it, so adapters map fields one to one.

mod batch;
mod common;
mod confirmation;
mod error;
mod holdings;
mod htlc;
mod instruction;
mod status;

pub use batch::Batch;
pub use common::{
    AccountRef, CashSide, Direction, JournalRef, Leg, Party, Payment, ProprietaryId, Reason,
    SecuritiesAmount,
};
pub use confirmation::SettlementConfirmation;
pub use error::ErrorBody;
pub use holdings::{Balance, HoldingsStatement};
pub use htlc::{
    ClaimReceipt, ClaimRequest, LegTerms, LockReceipt, LockRequest, RefundReceipt,
    SettlementProposal,
};
pub use instruction::SettlementInstruction;
pub use status::{InstructionState, InstructionStatus};

use serde_json::Value;

use crate::ids::Reference;
use crate::json::{ism_enum, Json};
use crate::reason::Rejection;

ism_enum! {
    /// The kind of a message, written in the envelope's `kind` member (ISM-1 §5.2).
    pub enum Kind {
        /// [`SettlementInstruction`] (sese.023).
        SettlementInstruction = "SettlementInstruction",
        /// [`InstructionStatus`] (sese.024).
        InstructionStatus = "InstructionStatus",
        /// [`SettlementProposal`].
        SettlementProposal = "SettlementProposal",
        /// [`LockRequest`].
        LockRequest = "LockRequest",
        /// [`LockReceipt`].
        LockReceipt = "LockReceipt",
        /// [`ClaimRequest`].
        ClaimRequest = "ClaimRequest",
        /// [`ClaimReceipt`].
        ClaimReceipt = "ClaimReceipt",
        /// [`RefundReceipt`].
        RefundReceipt = "RefundReceipt",
        /// [`SettlementConfirmation`] (sese.025).
        SettlementConfirmation = "SettlementConfirmation",
        /// [`HoldingsStatement`] (semt.002).
        HoldingsStatement = "HoldingsStatement",
        /// [`ErrorBody`].
        Error = "Error",
        /// [`Batch`]: several messages under one signature.
        Batch = "Batch",
    }
}

/// A message body, one variant per [`Kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // bodies are built once per message; boxing buys nothing
pub enum Body {
    /// sese.023-like instruction.
    SettlementInstruction(SettlementInstruction),
    /// sese.024-like status.
    InstructionStatus(InstructionStatus),
    /// Matched settlement terms.
    SettlementProposal(SettlementProposal),
    /// Lock one leg.
    LockRequest(LockRequest),
    /// A leg is locked.
    LockReceipt(LockReceipt),
    /// The secret, to claim.
    ClaimRequest(ClaimRequest),
    /// A leg is claimed.
    ClaimReceipt(ClaimReceipt),
    /// A leg is refunded.
    RefundReceipt(RefundReceipt),
    /// sese.025-like confirmation.
    SettlementConfirmation(SettlementConfirmation),
    /// semt.002-like holdings.
    HoldingsStatement(HoldingsStatement),
    /// A refusal.
    Error(ErrorBody),
    /// Several messages under one signature (ISM-1 §6.11, §8.7).
    Batch(Batch),
}

/// A body on its own (in a node's store, say) is written with its kind:
/// `{"kind": …, "body": …}`, the body in its ISM/1 form.
impl serde::Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut members = serde_json::Map::new();
        members.insert("kind".into(), self.kind().to_json());
        members.insert("body".into(), self.to_json());
        serde::Serialize::serialize(&Value::Object(members), serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Body {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <Value as serde::Deserialize>::deserialize(deserializer)?;
        let kind = value
            .get("kind")
            .ok_or_else(|| serde::de::Error::custom("a stored body has no kind"))
            .and_then(|kind| Kind::from_json(kind, "kind").map_err(serde::de::Error::custom))?;
        let body = value
            .get("body")
            .ok_or_else(|| serde::de::Error::custom("a stored body has no body"))?;
        Body::from_json(kind, body, "body").map_err(serde::de::Error::custom)
    }
}

impl Body {
    /// The settlement the body is about, if it names one: what a node's logs
    /// are grouped by.
    pub fn settlement_id(&self) -> Option<&Reference> {
        match self {
            Body::SettlementProposal(b) => Some(&b.settlement_id),
            Body::LockRequest(b) => Some(&b.settlement_id),
            Body::LockReceipt(b) => Some(&b.settlement_id),
            Body::ClaimRequest(b) => Some(&b.settlement_id),
            Body::ClaimReceipt(b) => Some(&b.settlement_id),
            Body::RefundReceipt(b) => Some(&b.settlement_id),
            Body::SettlementConfirmation(b) => Some(&b.settlement_id),
            Body::InstructionStatus(b) => b.settlement_id.as_ref(),
            Body::SettlementInstruction(_)
            | Body::HoldingsStatement(_)
            | Body::Error(_)
            | Body::Batch(_) => None,
        }
    }
}

macro_rules! body_dispatch {
    ($($variant:ident),*) => {
        impl Body {
            /// The kind that goes in the envelope.
            pub fn kind(&self) -> Kind {
                match self { $( Body::$variant(_) => Kind::$variant, )* }
            }

            /// Decodes the body of a message of the given kind.
            pub fn from_json(kind: Kind, value: &Value, path: &str) -> Result<Body, Rejection> {
                match kind { $( Kind::$variant => Json::from_json(value, path).map(Body::$variant), )* }
            }

            /// The body's JSON form.
            pub fn to_json(&self) -> Value {
                match self { $( Body::$variant(body) => body.to_json(), )* }
            }
        }
    };
}

body_dispatch!(
    SettlementInstruction,
    InstructionStatus,
    SettlementProposal,
    LockRequest,
    LockReceipt,
    ClaimRequest,
    ClaimReceipt,
    RefundReceipt,
    SettlementConfirmation,
    HoldingsStatement,
    Error,
    Batch
);
