//! InstructionStatus ≈ sese.024 (ISM-1 §6.2).

use super::common::Reason;
use crate::ids::{MessageId, Reference};
use crate::json::{child_path, ism_enum, ism_object, Rules};
use crate::reason::{ReasonCode, Rejection};

ism_enum! {
    /// Where an instruction stands (sese.024 processing, matching and settlement status).
    pub enum InstructionState {
        /// Received and valid; awaiting its counterpart (`PACK`).
        Accepted = "ACCEPTED",
        /// Refused; `reason` says why (`REJT`).
        Rejected = "REJECTED",
        /// Matched with its counterpart (`MACH`).
        Matched = "MATCHED",
        /// No counterpart matches; `reason` says which field differs (`NMAT`).
        Unmatched = "UNMATCHED",
        /// Matched and settling (`PEND`), including a settlement that is
        /// failing, still pending after its intended settlement date
        /// (`PENF`, sese.024 `Flng`; ISM-1 §6.2).
        Pending = "PENDING",
        /// Cancelled before settlement (`CAND`).
        Cancelled = "CANCELLED",
    }
}

ism_object! {
    /// A relay's or gateway's report on one instruction (sese.024 `SctiesSttlmTxStsAdvc`).
    pub struct InstructionStatus {
        /// The instruction's own reference (`TxId`).
        pub instruction_id: Reference,
        /// The message id of the instruction this reports on.
        pub related_message_id: Option<MessageId>,
        /// The state (`PrcgSts`, `MtchgSts`, `SttlmSts`).
        pub status: InstructionState,
        /// The settlement the relay created on matching, once it exists.
        pub settlement_id: Option<Reference>,
        /// Why; required for `REJECTED` and `UNMATCHED` (`Rsn`). Its code has
        /// one of the forms of ISM-1 Appendix A.1 when it comes from a
        /// sese.024 or MT548 (`UNMATCHED_QUANTITY`, `ISO_LACK`, `PRTRY_R012`
        /// with its issuer).
        pub reason: Option<Reason>,
    }
}

impl Rules for InstructionStatus {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        let needs_reason = matches!(
            self.status,
            InstructionState::Rejected | InstructionState::Unmatched
        );
        if needs_reason && self.reason.is_none() {
            return Err(Rejection::at(
                ReasonCode::ReasonRequired,
                child_path(path, "reason"),
                format!("a {} status must say why in \"reason\"", self.status),
            ));
        }
        Ok(())
    }
}
