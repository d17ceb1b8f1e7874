//! HoldingsStatement ≈ semt.002 (ISM-1 §6.9).

use super::common::AccountRef;
use crate::decimal::Quantity;
use crate::ident::{Isin, Mic};
use crate::ids::Reference;
use crate::json::{child_path, ism_object, Rules};
use crate::reason::{ReasonCode, Rejection};
use crate::time::Timestamp;

ism_object! {
    /// One security held in the account (semt.002 `BalForAcct`).
    pub struct Balance {
        /// The security (`FinInstrmId/ISIN`).
        pub isin: Isin,
        /// Everything held, available or locked (`AggtBal`).
        pub total: Quantity,
        /// The part under hashlock, if any (`AddtlBalBrkdwnDtls` with type `LOCK`).
        pub locked: Option<Quantity>,
    }
}

impl Rules for Balance {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        if let Some(locked) = &self.locked {
            if locked.value().cmp_value(self.total.value()).is_gt() {
                return Err(Rejection::at(
                    ReasonCode::BalanceInconsistent,
                    child_path(path, "locked"),
                    format!("{locked} units are locked but only {} are held", self.total),
                ));
            }
        }
        Ok(())
    }
}

ism_object! {
    /// The securities one account holds at one instant (semt.002 `SctiesBalCtdyRpt`).
    pub struct HoldingsStatement {
        /// The statement's reference (`StmtGnlDtls/StmtId`).
        pub statement_id: Reference,
        /// The ledger the statement comes from.
        pub market: Mic,
        /// The account (`AcctOwnr`, `SfkpgAcct`).
        pub account: AccountRef,
        /// The instant the balances hold at (`StmtGnlDtls/StmtDtTm`).
        pub as_of: Timestamp,
        /// One entry per security with a non-zero holding, at most 1000.
        pub balances: Vec<Balance>,
    }
}

impl Rules for HoldingsStatement {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        for (index, pair) in self.balances.windows(2).enumerate() {
            if pair[0].isin.as_str() >= pair[1].isin.as_str() {
                return Err(Rejection::at(
                    ReasonCode::BalanceInconsistent,
                    format!("{}[{}].isin", child_path(path, "balances"), index + 1),
                    "balances must be sorted by ISIN with each ISIN once",
                ));
            }
        }
        Ok(())
    }
}
