//! The settlement protocol's shared vocabulary (ISM-1 §12): its reason codes
//! (§9.4) and the shape of a message as the engines see it, already decoded
//! and authenticated.
//!
//! The relay and gateway engines are pure state machines (DESIGN.md §3); a node
//! shell decodes and checks a message (ISM-1 §8.4 steps 1–5) and hands the
//! engine an [`Inbound`]; the engine answers with [`Outbound`] bodies, which the
//! shell wraps in signed envelopes.

use std::fmt;

use crate::body::{Body, ErrorBody, Reason};
use crate::ids::{MessageId, NodeId, ReasonCodeText, Text};
use crate::limits::MAX_TEXT_CHARS;

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

/// The network's settlement timing (ISM-1 §12.1 item 1), whole milliseconds.
/// Every node of a network uses the same values. In configuration files its
/// members are written under these names (`claim_window_ms = 1000`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// C: from the first claim of a settlement to every other leg's claim recorded.
    pub claim_window_ms: u64,
    /// K: the largest difference between any two clocks of nodes and ledgers.
    pub max_clock_skew_ms: u64,
    /// W: how long a relay keeps an unmatched instruction.
    pub matching_window_ms: u64,
    /// L: how long after matching the relay waits for every LockReceipt.
    pub lock_window_ms: u64,
    /// M: the least time left before the earliest expiry when p is revealed.
    pub reveal_margin_ms: u64,
    /// E1: T1 minus the match time.
    pub cash_expiry_ms: u64,
    /// E2: T2 minus the match time.
    pub securities_expiry_ms: u64,
    /// R: how often a node repeats a message that has not had its answer.
    pub retransmit_ms: u64,
}

/// A timing that breaks a rule of ISM-1 §12.1 item 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("settlement timing refused: {0}")]
pub struct TimingError(pub String);

impl Timing {
    /// Δ = claim window + maximum clock skew (ISM-1 §6.3 duty 1).
    pub fn delta_ms(&self) -> u64 {
        self.claim_window_ms.saturating_add(self.max_clock_skew_ms)
    }

    /// The rules a relay checks before it starts (ISM-1 §12.1 item 2).
    pub fn check_for_relay(&self) -> Result<(), TimingError> {
        self.check_for_gateway()?;
        for (name, value) in [
            ("matching_window_ms", self.matching_window_ms),
            ("lock_window_ms", self.lock_window_ms),
            ("reveal_margin_ms", self.reveal_margin_ms),
            ("cash_expiry_ms", self.cash_expiry_ms),
            ("securities_expiry_ms", self.securities_expiry_ms),
        ] {
            if value == 0 {
                return Err(TimingError(format!("{name} must be positive")));
            }
        }
        let delta = self.delta_ms();
        if self.reveal_margin_ms < delta {
            return Err(TimingError(format!(
                "reveal_margin_ms ({}) is less than Δ = claim window + clock skew ({delta}): a claim revealed at the margin could miss T1",
                self.reveal_margin_ms
            )));
        }
        let lock_and_margin = self.lock_window_ms.saturating_add(self.reveal_margin_ms);
        if self.cash_expiry_ms < lock_and_margin {
            return Err(TimingError(format!(
                "cash_expiry_ms ({}) is less than lock_window_ms + reveal_margin_ms ({lock_and_margin}): legs locked by the deadline could not be revealed",
                self.cash_expiry_ms
            )));
        }
        let t1_and_delta = self.cash_expiry_ms.saturating_add(delta);
        if self.securities_expiry_ms < t1_and_delta {
            return Err(TimingError(format!(
                "securities_expiry_ms ({}) is less than cash_expiry_ms + Δ ({t1_and_delta}): T2 must be at least T1 + Δ, or the buyer could take the securities after the seller lost the cash",
                self.securities_expiry_ms
            )));
        }
        Ok(())
    }

    /// The rules a gateway checks before it starts (ISM-1 §12.1 item 2).
    pub fn check_for_gateway(&self) -> Result<(), TimingError> {
        for (name, value) in [
            ("claim_window_ms", self.claim_window_ms),
            ("max_clock_skew_ms", self.max_clock_skew_ms),
            ("retransmit_ms", self.retransmit_ms),
        ] {
            if value == 0 {
                return Err(TimingError(format!("{name} must be positive")));
            }
        }
        if self.retransmit_ms >= self.claim_window_ms {
            return Err(TimingError(format!(
                "retransmit_ms ({}) must be less than claim_window_ms ({}), or a lost hand-over could not be repeated within the claim window",
                self.retransmit_ms, self.claim_window_ms
            )));
        }
        Ok(())
    }
}

/// Where randomness comes from: a cryptographically secure generator in a
/// node (ISM-1 §6.3 duty 2), a seeded one in the simulator.
pub trait Entropy {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]);
}

/// A message as an engine receives it: decoded, from a member, addressed to
/// this node, its signature checked (ISM-1 §8.4 steps 1–5). The engine itself
/// does step 6, exactly once, so that the record of handling a message is part
/// of the same durable write as what the message changed (§12.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The sending node.
    pub sender: NodeId,
    /// The message's id, unique per sender.
    pub id: MessageId,
    /// The body.
    pub body: Body,
}

/// A message an engine asks its shell to send: the shell gives it its
/// creation time, signs it (ISM-1 §7) and sends it. The engine chooses the id,
/// so that it can recognise an Error that answers it (`related_message_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// The receiving node.
    pub to: NodeId,
    /// The message's id.
    pub id: MessageId,
    /// The body.
    pub body: Body,
}

impl Outbound {
    /// A message to `to` with a fresh UUIDv7 id made of `now_ms` and randomness.
    pub fn new(to: NodeId, body: Body, now_ms: u64, entropy: &mut dyn Entropy) -> Outbound {
        let mut random = [0u8; 10];
        entropy.fill(&mut random);
        Outbound {
            to,
            id: MessageId::new_v7(now_ms, random),
            body,
        }
    }
}

/// A sentence as ISM/1 free text (ISM-1 §4.10): control characters become
/// spaces and a sentence longer than the limit is cut, so that an engine's
/// explanation can always be sent.
pub fn sentence(text: &str) -> Text {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_TEXT_CHARS)
        .collect();
    let cleaned = if cleaned.trim().is_empty() {
        "no explanation was given".to_string()
    } else {
        cleaned
    };
    match Text::parse(&cleaned) {
        Ok(text) => text,
        Err(rejection) => unreachable!("a cleaned sentence is free text: {rejection}"),
    }
}

/// A reason (ISM-1 §6.0.6) with a settlement code and a sentence.
pub fn reason(code: SettlementReason, text: &str) -> Reason {
    Reason::new(code_text(code.as_str()), sentence(text))
}

/// A reason code's wire form as a body member; `code` must be of the §9.1 form.
pub fn code_text(code: &str) -> ReasonCodeText {
    match ReasonCodeText::parse(code) {
        Ok(code) => code,
        Err(rejection) => unreachable!("{code} is not a reason code: {rejection}"),
    }
}

/// An Error body (ISM-1 §6.10) refusing message `related` for `code`.
pub fn error_body(code: &str, text: &str, related: Option<&MessageId>) -> ErrorBody {
    ErrorBody {
        code: code_text(code),
        text: sentence(text),
        related_message_id: related.cloned(),
        field: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    fn timing() -> Timing {
        Timing {
            claim_window_ms: 1_000,
            max_clock_skew_ms: 100,
            matching_window_ms: 60_000,
            lock_window_ms: 5_000,
            reveal_margin_ms: 1_100,
            cash_expiry_ms: 6_100,
            securities_expiry_ms: 7_200,
            retransmit_ms: 200,
        }
    }

    #[test]
    fn timing_at_every_bound_is_accepted_and_one_below_is_refused() {
        let at_bounds = timing();
        assert_eq!(at_bounds.delta_ms(), 1_100);
        assert_eq!(at_bounds.check_for_relay(), Ok(()));
        let refused = |change: fn(&mut Timing), says: &str| {
            let mut t = timing();
            change(&mut t);
            let error = t.check_for_relay().expect_err(says);
            assert!(error.0.contains(says), "{error} should say {says}");
        };
        refused(|t| t.reveal_margin_ms -= 1, "reveal_margin_ms");
        refused(|t| t.cash_expiry_ms -= 1, "cash_expiry_ms (6099)");
        refused(
            |t| t.securities_expiry_ms -= 1,
            "T2 must be at least T1 + Δ",
        );
        refused(|t| t.retransmit_ms = 1_000, "retransmit_ms (1000)");
        refused(|t| t.lock_window_ms = 0, "lock_window_ms must be positive");
        refused(
            |t| t.max_clock_skew_ms = 0,
            "max_clock_skew_ms must be positive",
        );
        let mut gateway_only = timing();
        gateway_only.securities_expiry_ms = 0;
        assert_eq!(gateway_only.check_for_gateway(), Ok(()));
    }

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
