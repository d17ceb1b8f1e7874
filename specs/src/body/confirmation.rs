//! SettlementConfirmation ≈ sese.025 (ISM-1 §6.8).

use super::common::{Direction, JournalRef, Payment};
use crate::decimal::{Money, Quantity};
use crate::ident::Isin;
use crate::ids::Reference;
use crate::json::{child_path, ism_object, Rules};
use crate::reason::{ReasonCode, Rejection};
use crate::time::{Date, Timestamp};

ism_object! {
    /// Tells one side its instruction settled (sese.025 `SctiesSttlmTxConf`).
    pub struct SettlementConfirmation {
        /// The confirmed instruction's reference (`TxId`).
        pub instruction_id: Reference,
        /// The relay's settlement id.
        pub settlement_id: Reference,
        /// Deliver or receive, as instructed.
        pub direction: Direction,
        /// Against payment or free, as instructed.
        pub payment: Payment,
        /// The security (`FinInstrmId/ISIN`).
        pub isin: Isin,
        /// Units settled (`SttldQty`).
        pub quantity: Quantity,
        /// Cash settled; present exactly for `AGAINST_PAYMENT` (`SttldAmt`).
        pub settlement_amount: Option<Money>,
        /// The settlement date (`TradDtls/SttlmDt`).
        pub settlement_date: Date,
        /// When the last leg was claimed (`EfctvSttlmDt`).
        pub settled_at: Timestamp,
        /// The securities leg's claim in its ledger's journal.
        pub securities_journal: JournalRef,
        /// The cash leg's claim, for `AGAINST_PAYMENT`.
        pub cash_journal: Option<JournalRef>,
    }
}

impl Rules for SettlementConfirmation {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        let against = self.payment == Payment::AgainstPayment;
        if against && (self.settlement_amount.is_none() || self.cash_journal.is_none()) {
            let missing = if self.settlement_amount.is_none() {
                "settlement_amount"
            } else {
                "cash_journal"
            };
            return Err(Rejection::at(
                ReasonCode::AmountRequired,
                child_path(path, missing),
                format!("an AGAINST_PAYMENT confirmation must carry \"{missing}\""),
            ));
        }
        if !against && (self.settlement_amount.is_some() || self.cash_journal.is_some()) {
            let extra = if self.settlement_amount.is_some() {
                "settlement_amount"
            } else {
                "cash_journal"
            };
            return Err(Rejection::at(
                ReasonCode::AmountNotAllowed,
                child_path(path, extra),
                format!("a FREE_OF_PAYMENT confirmation must not carry \"{extra}\""),
            ));
        }
        Ok(())
    }
}
