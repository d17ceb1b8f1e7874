//! What the relay persists (ISM-1 §12.9): one record per instruction and one
//! per settlement, each rewritten whole when it changes. A store keeps the
//! latest record per [`RecordKey`]; the relay rebuilds itself from them alone
//! (ISM-1 §12.10 item 1).

use isthmus_spec::body::{
    ClaimReceipt, InstructionState, Leg, LockReceipt, LockRequest, Reason, RefundReceipt,
    SettlementInstruction, SettlementProposal,
};
use isthmus_spec::ids::{MessageId, NodeId, Preimage, Reference};

/// An instruction, by the gateway that sent it and its own reference.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct InstructionKey {
    /// The gateway that sent it.
    pub gateway: NodeId,
    /// Its `instruction_id`.
    pub instruction_id: Reference,
}

/// One instruction and where it stands (ISM-1 §12.2 item 1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstructionRecord {
    /// Whose and which.
    pub key: InstructionKey,
    /// The id of the message that first carried it.
    pub message_id: MessageId,
    /// The instruction.
    pub instruction: SettlementInstruction,
    /// Its place in the relay's order of arrival (ISM-1 §12.4 rule 4).
    pub arrival: u64,
    /// When it arrived, relay milliseconds.
    pub received_at_ms: u64,
    /// Its state.
    pub status: InstructionState,
    /// Why, for `UNMATCHED`, `REJECTED` and `CANCELLED`.
    pub reason: Option<Reason>,
    /// The settlement it is part of, once matched.
    pub settlement_id: Option<Reference>,
}

impl InstructionRecord {
    /// Whether it may still match (ISM-1 §12.2 item 1).
    pub fn is_waiting(&self) -> bool {
        matches!(
            self.status,
            InstructionState::Accepted | InstructionState::Unmatched
        )
    }
}

/// A settlement's state at the relay (ISM-1 §12.2 item 2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Phase {
    /// Matched; p, T1, T2 and the lock deadline are persisted.
    Proposed,
    /// Some legs are locked.
    Locking,
    /// Every leg is locked and p is being revealed.
    Revealing,
    /// Every leg is claimed. Final.
    Settled,
    /// Aborted; p is erased and never revealed. Final.
    Aborted,
}

impl Phase {
    /// `SETTLED` or `ABORTED`.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Settled | Phase::Aborted)
    }

    /// The state's name as ISM-1 §12.2 writes it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Proposed => "PROPOSED",
            Phase::Locking => "LOCKING",
            Phase::Revealing => "REVEALING",
            Phase::Settled => "SETTLED",
            Phase::Aborted => "ABORTED",
        }
    }
}

/// One leg of a settlement, as the relay follows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LegRecord {
    /// Which leg.
    pub leg: Leg,
    /// The gateway of the leg's market.
    pub gateway: NodeId,
    /// What the relay asks it to lock.
    pub request: LockRequest,
    /// Its receipt, once locked.
    pub locked: Option<LockReceipt>,
    /// Its claim, once claimed.
    pub claimed: Option<ClaimReceipt>,
    /// Its refund, once refunded.
    pub refunded: Option<RefundReceipt>,
}

/// A settlement: its proposal, its secret while it may still be revealed, and
/// each leg's progress.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SettlementRecord {
    /// The relay's id.
    pub id: Reference,
    /// The seller's instruction.
    pub deliver: InstructionKey,
    /// The buyer's instruction.
    pub receive: InstructionKey,
    /// What both gateways were sent.
    pub proposal: SettlementProposal,
    /// p; `None` once aborted (ISM-1 §12.5 rule 4).
    pub secret: Option<Preimage>,
    /// When the pair matched, relay milliseconds.
    pub matched_at_ms: u64,
    /// D: the lock deadline.
    pub lock_deadline_ms: u64,
    /// Where it stands.
    pub phase: Phase,
    /// Why it aborted.
    pub reason: Option<Reason>,
    /// The legs, earliest expiry first: cash then securities, or securities alone.
    pub legs: Vec<LegRecord>,
    /// When the last ClaimReceipt was persisted.
    pub settled_at_ms: Option<u64>,
    /// The messages that changed this record, so none changes it twice (ISM-1 §8.4 duty 6).
    pub handled: Vec<(NodeId, MessageId)>,
}

impl SettlementRecord {
    /// The leg record for `leg`.
    pub fn leg(&self, leg: Leg) -> Option<&LegRecord> {
        self.legs.iter().find(|record| record.leg == leg)
    }

    /// T<sub>e</sub>: the earliest expiry, the first leg's (ISM-1 §12.3 rule 3).
    pub fn earliest_expiry_ms(&self) -> u64 {
        self.legs
            .iter()
            .map(|leg| expiry_ms(&leg.request))
            .min()
            .unwrap_or(0)
    }
}

/// A LockRequest's expiry in milliseconds (the relay writes whole milliseconds).
pub fn expiry_ms(request: &LockRequest) -> u64 {
    u64::try_from(request.expires_at.unix_millis()).unwrap_or(0)
}

/// Which record a [`Record`] replaces.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum RecordKey {
    /// An instruction's.
    Instruction(InstructionKey),
    /// A settlement's.
    Settlement(Reference),
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
            Record::Instruction(record) => RecordKey::Instruction(record.key.clone()),
            Record::Settlement(record) => RecordKey::Settlement(record.id.clone()),
        }
    }
}

/// Records to persist in one atomic write, in order of `id`; the messages of
/// the transition wait until the shell reports the write durable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Write {
    /// Increasing per relay; the shell reports [`crate::Input::Persisted`] with it.
    pub id: u64,
    /// The records.
    pub records: Vec<Record>,
    /// The message whose handling this write records, if a message caused it.
    pub cause: Option<(NodeId, MessageId)>,
}
