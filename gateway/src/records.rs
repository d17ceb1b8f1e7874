//! What a gateway persists (ISM-1 §12.9): its participants' instructions and,
//! per settlement, the proposal and each leg it holds, rewritten whole when
//! they change. The gateway rebuilds itself from these alone (§12.10).

use isthmus_adapters::ledger_side::{Claimed, LockOrder, Locked, Refunded};
use isthmus_spec::body::{
    Body, InstructionState, Leg, LockRequest, SettlementInstruction, SettlementProposal,
};
use isthmus_spec::ids::{MessageId, NodeId, Preimage, Reference};

/// One instruction a participant submitted through this gateway.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstructionRecord {
    /// The instruction.
    pub instruction: SettlementInstruction,
    /// The relay it went to.
    pub relay: NodeId,
    /// The last status the relay reported, if any.
    pub status: Option<InstructionState>,
    /// Whether the relay's final word (a confirmation, or CANCELLED) came.
    pub final_word: bool,
    /// Every InstructionStatus and SettlementConfirmation for the participant,
    /// in order: kept until it acknowledges them, so none is lost to a crash.
    pub notices: Vec<Body>,
    /// How many of `notices` the participant has acknowledged.
    pub acknowledged: usize,
}

/// Where a leg stands at its gateway (ISM-1 §12.2 item 3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum LegPhase {
    /// The lock order is persisted; the ledger has not answered.
    LockIntended,
    /// Locked.
    Locked,
    /// The lock was refused, finally.
    LockRefused,
    /// p and the claim order are persisted.
    ClaimIntended,
    /// Claimed. Final.
    Claimed,
    /// The refund order is persisted.
    RefundIntended,
    /// Refunded. Final.
    Refunded,
}

impl LegPhase {
    /// Claimed, refunded or never locked.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            LegPhase::Claimed | LegPhase::Refunded | LegPhase::LockRefused
        )
    }
}

/// One leg this gateway holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LegRecord {
    /// Which leg.
    pub leg: Leg,
    /// The request it locked for, and the message that carried it.
    pub request: LockRequest,
    /// The id of that message, for the Error answering it.
    pub request_id: MessageId,
    /// The order sent to the ledger; `None` for a request refused before any order.
    pub order: Option<LockOrder>,
    /// Where it stands.
    pub phase: LegPhase,
    /// The ledger's lock.
    pub locked: Option<Locked>,
    /// The ledger's final refusal of the lock: code and sentence.
    pub refusal: Option<(String, String)>,
    /// The ledger refused the claim as expired: only a refund remains.
    pub claim_refused: bool,
    /// The ledger's claim.
    pub claimed: Option<Claimed>,
    /// The ledger's refund.
    pub refunded: Option<Refunded>,
    /// Refunds the ledger refused as `LOCK_NOT_EXPIRED`: each retry takes a
    /// new idempotency key (ISM-1 §12.6 rule 7).
    pub refund_attempts: u32,
}

/// A settlement as this gateway knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SettlementRecord {
    /// The relay that proposed it.
    pub relay: NodeId,
    /// Its proposal.
    pub proposal: SettlementProposal,
    /// p, once learnt (ISM-1 §12.6 rule 5).
    pub secret: Option<Preimage>,
    /// The legs this gateway holds.
    pub legs: Vec<LegRecord>,
    /// The other legs whose claim their gateway reported to this one (§12.7).
    pub peer_claimed: Vec<Leg>,
    /// The relay's final word came.
    pub final_word: bool,
    /// The messages that changed this record (ISM-1 §8.4 duty 6).
    pub handled: Vec<(NodeId, MessageId)>,
}

impl SettlementRecord {
    /// The settlement's id.
    pub fn id(&self) -> &Reference {
        &self.proposal.settlement_id
    }

    /// The leg record for `leg`, if this gateway holds it.
    pub fn leg(&self, leg: Leg) -> Option<&LegRecord> {
        self.legs.iter().find(|record| record.leg == leg)
    }
}

/// Which record a [`Record`] replaces.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum RecordKey {
    /// A participant's instruction, by its id.
    Instruction(Reference),
    /// A settlement, by its relay and id.
    Settlement(NodeId, Reference),
}

/// One durable record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Record {
    /// An instruction, whole.
    Instruction(Box<InstructionRecord>),
    /// A settlement, whole.
    Settlement(Box<SettlementRecord>),
}

impl Record {
    /// The record it replaces.
    pub fn key(&self) -> RecordKey {
        match self {
            Record::Instruction(record) => {
                RecordKey::Instruction(record.instruction.instruction_id.clone())
            }
            Record::Settlement(record) => {
                RecordKey::Settlement(record.relay.clone(), record.id().clone())
            }
        }
    }
}

/// Records to persist in one atomic write; what they cause waits for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Write {
    /// Increasing per gateway.
    pub id: u64,
    /// The records.
    pub records: Vec<Record>,
    /// The message whose handling this write records, if one caused it.
    pub cause: Option<(NodeId, MessageId)>,
}
