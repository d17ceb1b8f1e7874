//! SettlementInstruction ≈ sese.023 (ISM-1 §6.1).

use super::common::{Direction, Party, Payment};
use crate::decimal::{Money, Quantity};
use crate::ident::{Bic, Isin, Mic, PartyId};
use crate::ids::Reference;
use crate::json::{child_path, ism_object, Rules};
use crate::reason::{ReasonCode, Rejection};
use crate::time::Date;

ism_object! {
    /// One side's instruction to deliver or receive securities, free or
    /// against payment (sese.023 `SctiesSttlmTxInstr`).
    pub struct SettlementInstruction {
        /// The instructing party's own reference (`TxId`; MT `:20C::SEME//`).
        pub instruction_id: Reference,
        /// A reference both sides share, if agreed (`CmonId`; MT `:20C::COMM//`).
        pub common_reference: Option<Reference>,
        /// Deliver or receive (`SctiesMvmntTp`).
        pub direction: Direction,
        /// Against payment or free (`Pmt`).
        pub payment: Payment,
        /// Trade date (`TradDtls/TradDt`; MT `:98A::TRAD//`).
        pub trade_date: Date,
        /// Intended settlement date (`TradDtls/SttlmDt`; MT `:98A::SETT//`).
        pub settlement_date: Date,
        /// The security (`FinInstrmId/ISIN`; MT `:35B:ISIN`).
        pub isin: Isin,
        /// Units to settle (`QtyAndAcctDtls/SttlmQty/Qty/Unit`; MT `:36B::SETT//UNIT/`).
        pub quantity: Quantity,
        /// Cash against the securities; present exactly when `payment` is
        /// `AGAINST_PAYMENT` (`SttlmAmt`; MT `:19A::SETT//`).
        pub settlement_amount: Option<Money>,
        /// The owner of the safekeeping account (`QtyAndAcctDtls/AcctOwnr`).
        pub account_owner: PartyId,
        /// The instructing party's safekeeping account (`QtyAndAcctDtls/SfkpgAcct/Id`; MT `:97A::SAFE//`).
        pub safekeeping_account: Reference,
        /// The delivering agent (`DlvrgSttlmPties/Pty1`; MT `:95P::DEAG//`).
        pub delivering_agent: Party,
        /// The receiving agent (`RcvgSttlmPties/Pty1`; MT `:95P::REAG//`).
        pub receiving_agent: Party,
        /// The seller, if named (MT `:95P::SELL//`).
        pub seller: Option<Party>,
        /// The buyer, if named (MT `:95P::BUYR//`).
        pub buyer: Option<Party>,
        /// The central securities depository where it settles (`DlvrgSttlmPties/Dpstry` or
        /// `RcvgSttlmPties/Dpstry`; MT `:95P::PSET//`).
        pub place_of_settlement: Bic,
        /// The market where it traded (`TradDtls/PlcOfTrad/MktTpAndId/Id/MktIdrCd`; MT `:94B::TRAD//EXCH/`).
        pub place_of_trade: Option<Mic>,
    }
}

impl Rules for SettlementInstruction {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        if self.settlement_date < self.trade_date {
            return Err(Rejection::at(
                ReasonCode::SettlementBeforeTrade,
                child_path(path, "settlement_date"),
                format!(
                    "the settlement date {} is before the trade date {}",
                    self.settlement_date, self.trade_date
                ),
            ));
        }
        match (self.payment, &self.settlement_amount) {
            (Payment::AgainstPayment, None) => Err(Rejection::at(
                ReasonCode::AmountRequired,
                child_path(path, "settlement_amount"),
                "an AGAINST_PAYMENT instruction must state its settlement amount",
            )),
            (Payment::FreeOfPayment, Some(_)) => Err(Rejection::at(
                ReasonCode::AmountNotAllowed,
                child_path(path, "settlement_amount"),
                "a FREE_OF_PAYMENT instruction must not carry a settlement amount",
            )),
            _ => Ok(()),
        }
    }
}
