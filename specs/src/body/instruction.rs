//! SettlementInstruction ≈ sese.023 (ISM-1 §6.1).

use super::common::{CashSide, Direction, Party, Payment};
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
        /// The owner of the safekeeping account (`QtyAndAcctDtls/AcctOwnr`), if
        /// the message names it; the account servicer knows it from the account.
        pub account_owner: Option<PartyId>,
        /// The instructing party's safekeeping account (`QtyAndAcctDtls/SfkpgAcct/Id`; MT `:97A::SAFE//`).
        pub safekeeping_account: Reference,
        /// The market whose ledger the securities move on (ISM-1 §6.1 duty 7).
        pub securities_market: Option<Mic>,
        /// The instructing party's side of the cash leg; never for
        /// `FREE_OF_PAYMENT` (`QtyAndAcctDtls/CshAcct`, `CshPties`; MT `:97A::CASH//`, E2).
        pub cash: Option<CashSide>,
        /// The delivering agent (`DlvrgSttlmPties/Pty1`; MT `:95a::DEAG//`);
        /// required when the instructing party receives.
        pub delivering_agent: Option<Party>,
        /// The receiving agent (`RcvgSttlmPties/Pty1`; MT `:95a::REAG//`);
        /// required when the instructing party delivers.
        pub receiving_agent: Option<Party>,
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
            (Payment::AgainstPayment, None) => {
                return Err(Rejection::at(
                    ReasonCode::AmountRequired,
                    child_path(path, "settlement_amount"),
                    "an AGAINST_PAYMENT instruction must state its settlement amount",
                ))
            }
            (Payment::FreeOfPayment, Some(_)) => {
                return Err(Rejection::at(
                    ReasonCode::AmountNotAllowed,
                    child_path(path, "settlement_amount"),
                    "a FREE_OF_PAYMENT instruction must not carry a settlement amount",
                ))
            }
            _ => {}
        }
        if self.payment == Payment::FreeOfPayment && self.cash.is_some() {
            return Err(Rejection::at(
                ReasonCode::AmountNotAllowed,
                child_path(path, "cash"),
                "a FREE_OF_PAYMENT instruction moves no cash, so it has no cash side",
            ));
        }
        // ISM-1 §6.1 rule 5: the counterparty's agent is what the other side
        // matches against; the instructing party's own agent may be implied.
        let (counterparty_agent, member, role) = match self.direction {
            Direction::Deliver => (
                &self.receiving_agent,
                "receiving_agent",
                "a DELIVER instruction must name the receiving agent it delivers to",
            ),
            Direction::Receive => (
                &self.delivering_agent,
                "delivering_agent",
                "a RECEIVE instruction must name the delivering agent it receives from",
            ),
        };
        if counterparty_agent.is_none() {
            return Err(Rejection::at(
                ReasonCode::CounterpartyRequired,
                child_path(path, member),
                role,
            ));
        }
        Ok(())
    }
}

impl SettlementInstruction {
    /// The agent on the counterparty's side: the receiving agent of a
    /// delivery, the delivering agent of a receipt. Always present in a
    /// decoded instruction (ISM-1 §6.1 rule 5).
    pub fn counterparty_agent(&self) -> Option<&Party> {
        match self.direction {
            Direction::Deliver => self.receiving_agent.as_ref(),
            Direction::Receive => self.delivering_agent.as_ref(),
        }
    }

    /// The agent on the instructing party's own side, if the message names it.
    pub fn own_agent(&self) -> Option<&Party> {
        match self.direction {
            Direction::Deliver => self.delivering_agent.as_ref(),
            Direction::Receive => self.receiving_agent.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;
    use serde_json::json;

    #[test]
    fn own_and_counterparty_agents_follow_the_direction() {
        let mut body = json!({
            "instruction_id": "SEME-1",
            "direction": "DELIVER",
            "payment": "FREE_OF_PAYMENT",
            "trade_date": "2026-11-25",
            "settlement_date": "2026-11-27",
            "isin": "US0378331005",
            "quantity": "10",
            "safekeeping_account": "SAFE-1",
            "delivering_agent": {"bic": "CHASUS33"},
            "receiving_agent": {"bic": "DEUTDEFF"},
            "place_of_settlement": "DTCYUS33"
        });
        let bic_of =
            |party: Option<&Party>| party.and_then(|p| p.bic.as_ref()).map(|b| b.to_string());
        let deliver =
            SettlementInstruction::from_json(&body, "body").unwrap_or_else(|r| panic!("{r}"));
        assert_eq!(
            bic_of(deliver.counterparty_agent()).as_deref(),
            Some("DEUTDEFF")
        );
        assert_eq!(bic_of(deliver.own_agent()).as_deref(), Some("CHASUS33"));
        body["direction"] = json!("RECEIVE");
        let receive =
            SettlementInstruction::from_json(&body, "body").unwrap_or_else(|r| panic!("{r}"));
        assert_eq!(
            bic_of(receive.counterparty_agent()).as_deref(),
            Some("CHASUS33")
        );
        assert_eq!(bic_of(receive.own_agent()).as_deref(), Some("DEUTDEFF"));
    }
}
