//! The settlement protocol's shared vocabulary (ISM-1 §12): its reason codes
//! (§9.4) and the shape of a message as the engines see it, already decoded
//! and authenticated.
//!
//! The relay and gateway engines are pure state machines (DESIGN.md §3); a node
//! shell decodes and checks a message (ISM-1 §8.4 steps 1–5) and hands the
//! engine an [`Inbound`]; the engine answers with [`Outbound`] bodies, which the
//! shell wraps in signed envelopes.

use std::fmt;

use crate::body::Body;
use crate::ids::{MessageId, NodeId};

macro_rules! settlement_reasons {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $clause:literal, $summary:literal; )*) => {
        /// A reason code of the settlement protocol (ISM-1 §9.4).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum SettlementReason {
            $( $(#[$doc])* $variant, )*
        }

        impl SettlementReason {
            /// Every code, in the order of §9.4's table.
            pub const ALL: &'static [SettlementReason] = &[ $( SettlementReason::$variant, )* ];

            /// The code as written on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $( SettlementReason::$variant => $text, )* }
            }

            /// The clause that defines the rule.
            pub fn clause(self) -> &'static str {
                match self { $( SettlementReason::$variant => $clause, )* }
            }

            /// The table's meaning column.
            pub fn summary(self) -> &'static str {
                match self { $( SettlementReason::$variant => $summary, )* }
            }

            /// Parses the wire form; `None` for any other code.
            pub fn from_wire(text: &str) -> Option<SettlementReason> {
                match text { $( $text => Some(SettlementReason::$variant), )* _ => None }
            }
        }
    };
}

settlement_reasons! {
    /// No counterpart matched the instruction before its matching cut-off.
    MatchingExpired = "MATCHING_EXPIRED", "ISM-1 §12.3", "No counterpart matched the instruction before its matching cut-off.";
    /// The gateway sent another instruction with this instruction id before.
    InstructionIdReused = "INSTRUCTION_ID_REUSED", "ISM-1 §12.4", "The gateway sent another instruction with this instruction id before.";
    /// The counterpart instruction names another ISIN.
    UnmatchedIsin = "UNMATCHED_ISIN", "ISM-1 §12.4", "The counterpart instruction names another ISIN.";
    /// One instruction is against payment and the other free of payment.
    UnmatchedPayment = "UNMATCHED_PAYMENT", "ISM-1 §12.4", "One instruction is against payment and the other free of payment.";
    /// The counterpart instruction names another settlement date.
    UnmatchedSettlementDate = "UNMATCHED_SETTLEMENT_DATE", "ISM-1 §12.4", "The counterpart instruction names another settlement date.";
    /// The counterpart instruction names another quantity.
    UnmatchedQuantity = "UNMATCHED_QUANTITY", "ISM-1 §12.4", "The counterpart instruction names another quantity.";
    /// The counterpart instruction settles in another currency.
    UnmatchedCurrency = "UNMATCHED_CURRENCY", "ISM-1 §12.4", "The counterpart instruction settles in another currency.";
    /// The counterpart instruction names another settlement amount.
    UnmatchedAmount = "UNMATCHED_AMOUNT", "ISM-1 §12.4", "The counterpart instruction names another settlement amount.";
    /// The two instructions name different agents, sellers or buyers.
    UnmatchedCounterparty = "UNMATCHED_COUNTERPARTY", "ISM-1 §12.4", "The two instructions name different agents, sellers or buyers.";
    /// No gateway of the network serves the market of one of the settlement's legs.
    MarketUnserved = "MARKET_UNSERVED", "ISM-1 §12.4", "No gateway of the network serves the market of one of the settlement's legs.";
    /// The receiver has no settlement with this id.
    SettlementUnknown = "SETTLEMENT_UNKNOWN", "ISM-1 §12.8", "The receiver has no settlement with this id.";
    /// The sender is not the gateway of this settlement's leg.
    SenderNotParty = "SENDER_NOT_PARTY", "ISM-1 §12.5", "The sender is not the gateway of this settlement's leg.";
    /// The message does not fit the settlement's state, for example a claim receipt before the reveal.
    StateConflict = "STATE_CONFLICT", "ISM-1 §12.5", "The message does not fit the settlement's state, for example a claim receipt before the reveal.";
    /// The settlement has no such leg, for example a cash leg free of payment.
    LegUnknown = "LEG_UNKNOWN", "ISM-1 §12.5", "The settlement has no such leg, for example a cash leg free of payment.";
    /// The message names another hashlock than the settlement's.
    HashlockMismatch = "HASHLOCK_MISMATCH", "ISM-1 §12.5", "The message names another hashlock than the settlement's.";
    /// The lock receipt records another expiry than the lock request named.
    ExpiryMismatch = "EXPIRY_MISMATCH", "ISM-1 §12.5", "The lock receipt records another expiry than the lock request named.";
    /// The claim receipt names another lock than the lock receipt did.
    LockIdMismatch = "LOCK_ID_MISMATCH", "ISM-1 §12.5", "The claim receipt names another lock than the lock receipt did.";
    /// The lock request does not agree with the proposal, or the proposal with the gateway's own instruction.
    ProposalMismatch = "PROPOSAL_MISMATCH", "ISM-1 §12.6", "The lock request does not agree with the proposal, or the proposal with the gateway's own instruction.";
    /// The legs were not all locked by the lock deadline; the settlement is aborted.
    LockDeadlinePassed = "LOCK_DEADLINE_PASSED", "ISM-1 §12.5", "The legs were not all locked by the lock deadline; the settlement is aborted.";
    /// Less than the reveal margin remained before the first expiry when the legs were locked; the settlement is aborted.
    RevealTooLate = "REVEAL_TOO_LATE", "ISM-1 §12.5", "Less than the reveal margin remained before the first expiry when the legs were locked; the settlement is aborted.";
    /// The first leg was refunded unclaimed after the reveal; the settlement is aborted.
    ClaimWindowMissed = "CLAIM_WINDOW_MISSED", "ISM-1 §12.5", "The first leg was refunded unclaimed after the reveal; the settlement is aborted.";
}

impl fmt::Display for SettlementReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message as an engine receives it: decoded, from a member, addressed to
/// this node, its signature checked (ISM-1 §8.4 steps 1–5). The engine itself
/// does step 6, exactly once, so that the record of handling a message is part
/// of the same durable write as what the message changed (§12.9).
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The sending node.
    pub sender: NodeId,
    /// The message's id, unique per sender.
    pub id: MessageId,
    /// The body.
    pub body: Body,
}

/// A message an engine asks its shell to send: the shell gives it an id and a
/// creation time, signs it (ISM-1 §7) and sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// The receiving node.
    pub to: NodeId,
    /// The body.
    pub body: Body,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_round_trip_and_are_reason_codes() {
        for code in SettlementReason::ALL {
            assert_eq!(SettlementReason::from_wire(code.as_str()), Some(*code));
            assert!(
                crate::ids::ReasonCodeText::parse(code.as_str()).is_ok(),
                "{code}"
            );
            assert!(
                crate::reason::ReasonCode::from_wire(code.as_str()).is_none(),
                "{code} is also in §9.2"
            );
            assert_eq!(code.to_string(), code.as_str());
            assert!(code.clause().starts_with("ISM-1 §12"));
            assert!(!code.summary().is_empty());
        }
        assert_eq!(SettlementReason::from_wire("UNMATCHED"), None);
    }
}
