//! The hashed-timelock exchange: SettlementProposal, LockRequest, LockReceipt,
//! ClaimRequest, ClaimReceipt, RefundReceipt (ISM-1 §6.3–§6.7).

use super::common::{AccountRef, JournalRef, Leg, SecuritiesAmount};
use crate::decimal::{Money, Quantity};
use crate::ident::{Isin, Mic};
use crate::ids::{Hashlock, Preimage, Reference};
use crate::json::{child_path, ism_object, Rules};
use crate::reason::{ReasonCode, Rejection};
use crate::time::{Date, Timestamp};

ism_object! {
    /// One leg's terms: on which market's ledger, from whom, to whom, and until when.
    pub struct LegTerms {
        /// The market whose ledger holds this leg.
        pub market: Mic,
        /// The account the asset is locked from.
        pub from: AccountRef,
        /// The beneficiary, the only account a claim can credit.
        pub to: AccountRef,
        /// The lock's expiry; a refund is possible at or after it, a claim only before.
        pub expires_at: Timestamp,
    }
}
impl Rules for LegTerms {}

ism_object! {
    /// A relay's matched settlement, sent to the gateways before any lock
    /// (ISM-1 §6.3). Against payment it has two legs: the cash leg expires
    /// first (T1), the securities leg at T2 > T1, and the relay keeps
    /// T2 ≥ T1 + Δ. Free of payment it has no cash leg and no settlement
    /// amount: only the securities leg, expiring at T2 (ISM-1 §12.3).
    pub struct SettlementProposal {
        /// The relay's id for this settlement.
        pub settlement_id: Reference,
        /// The seller's instruction id.
        pub deliver_instruction_id: Reference,
        /// The buyer's instruction id.
        pub receive_instruction_id: Reference,
        /// The security.
        pub isin: Isin,
        /// Units delivered.
        pub quantity: Quantity,
        /// Cash paid; present exactly for a settlement against payment.
        pub settlement_amount: Option<Money>,
        /// The agreed settlement date.
        pub settlement_date: Date,
        /// SHA-256 of the relay's secret.
        pub hashlock: Hashlock,
        /// Securities from seller to buyer, expiring at T2.
        pub securities_leg: LegTerms,
        /// Cash from buyer to seller, expiring at T1; present exactly for a
        /// settlement against payment.
        pub cash_leg: Option<LegTerms>,
    }
}

/// The cross-member rules of ISM-1 §6.3, in their order.
impl Rules for SettlementProposal {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        // Rule 1: a cash leg moves the settlement amount, so it needs one.
        if self.cash_leg.is_some() && self.settlement_amount.is_none() {
            return Err(Rejection::at(
                ReasonCode::AmountRequired,
                child_path(path, "settlement_amount"),
                "a proposal with a cash leg is against payment and must state the settlement amount its cash leg moves",
            ));
        }
        let Some(cash_leg) = &self.cash_leg else {
            // Rule 2: without a cash leg the proposal is free of payment.
            if self.settlement_amount.is_some() {
                return Err(Rejection::at(
                    ReasonCode::AmountNotAllowed,
                    child_path(path, "settlement_amount"),
                    "a proposal without a cash leg is free of payment and moves no cash, so it carries no settlement amount",
                ));
            }
            // Its one leg, the securities leg, expires at T2; there is no T1
            // for it to follow, so rule 3 does not apply.
            return Ok(());
        };
        // Rule 3, against payment only. Compare instants, not texts:
        // "…14:00:00Z" and "…14:00:00.000Z" are the same time.
        if self.securities_leg.expires_at.unix_nanos() <= cash_leg.expires_at.unix_nanos() {
            return Err(Rejection::at(
                ReasonCode::ExpiryOrder,
                child_path(path, "securities_leg.expires_at"),
                format!(
                    "the securities leg expires at {}, which is not after the cash leg's {}; the buyer could claim the securities after the seller can no longer claim the cash",
                    self.securities_leg.expires_at, cash_leg.expires_at
                ),
            ));
        }
        Ok(())
    }
}

ism_object! {
    /// Asks a gateway to lock one leg on its ledger under a hashlock (ISM-1 §6.4).
    pub struct LockRequest {
        /// The settlement.
        pub settlement_id: Reference,
        /// Which leg.
        pub leg: Leg,
        /// The market whose ledger locks.
        pub market: Mic,
        /// The account the asset is taken from.
        pub from: AccountRef,
        /// The only account a claim may credit.
        pub beneficiary: AccountRef,
        /// What to lock, for the securities leg.
        pub securities: Option<SecuritiesAmount>,
        /// What to lock, for the cash leg.
        pub cash: Option<Money>,
        /// SHA-256 of the secret that claims the lock.
        pub hashlock: Hashlock,
        /// When the lock expires.
        pub expires_at: Timestamp,
    }
}

impl Rules for LockRequest {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        let consistent = match self.leg {
            Leg::Securities => self.securities.is_some() && self.cash.is_none(),
            Leg::Cash => self.cash.is_some() && self.securities.is_none(),
        };
        if !consistent {
            return Err(Rejection::at(
                ReasonCode::AssetChoice,
                path_or_message(path),
                format!(
                    "a {} lock must carry \"{}\" and not \"{}\"",
                    self.leg,
                    if self.leg == Leg::Securities {
                        "securities"
                    } else {
                        "cash"
                    },
                    if self.leg == Leg::Securities {
                        "cash"
                    } else {
                        "securities"
                    }
                ),
            ));
        }
        Ok(())
    }
}

fn path_or_message(path: &str) -> String {
    if path.is_empty() {
        "body".to_string()
    } else {
        path.to_string()
    }
}

ism_object! {
    /// A gateway's proof that it locked a leg (ISM-1 §6.5).
    pub struct LockReceipt {
        /// The settlement.
        pub settlement_id: Reference,
        /// Which leg.
        pub leg: Leg,
        /// The ledger's id for the lock.
        pub lock_id: Reference,
        /// The hashlock the ledger recorded.
        pub hashlock: Hashlock,
        /// The expiry the ledger recorded.
        pub expires_at: Timestamp,
        /// The journal entry of the lock.
        pub journal: JournalRef,
    }
}
impl Rules for LockReceipt {}

ism_object! {
    /// Reveals the secret so a gateway claims every leg it holds for the
    /// settlement (ISM-1 §6.6).
    pub struct ClaimRequest {
        /// The settlement.
        pub settlement_id: Reference,
        /// The hashlock being opened.
        pub hashlock: Hashlock,
        /// The 32-byte secret; its SHA-256 must equal `hashlock`.
        pub preimage: Preimage,
    }
}

/// ISM-1 §6.6: a preimage travels with the hashlock it opens, so any receiver
/// can check it without looking anything up.
fn check_preimage(path: &str, hashlock: &Hashlock, preimage: &Preimage) -> Result<(), Rejection> {
    if !preimage.opens(hashlock) {
        return Err(Rejection::at(
            ReasonCode::PreimageMismatch,
            child_path(path, "preimage"),
            format!("SHA-256 of the preimage is not the hashlock {hashlock}"),
        ));
    }
    Ok(())
}

impl Rules for ClaimRequest {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        check_preimage(path, &self.hashlock, &self.preimage)
    }
}

ism_object! {
    /// A gateway's proof that it claimed a leg for the beneficiary (ISM-1 §6.6).
    pub struct ClaimReceipt {
        /// The settlement.
        pub settlement_id: Reference,
        /// Which leg.
        pub leg: Leg,
        /// The ledger's id for the lock.
        pub lock_id: Reference,
        /// The hashlock opened.
        pub hashlock: Hashlock,
        /// The secret that opened it.
        pub preimage: Preimage,
        /// The journal entry of the claim.
        pub journal: JournalRef,
    }
}

impl Rules for ClaimReceipt {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        check_preimage(path, &self.hashlock, &self.preimage)
    }
}

ism_object! {
    /// A gateway's proof that an expired lock went back to its locker (ISM-1 §6.7).
    pub struct RefundReceipt {
        /// The settlement.
        pub settlement_id: Reference,
        /// Which leg.
        pub leg: Leg,
        /// The ledger's id for the lock.
        pub lock_id: Reference,
        /// The journal entry of the refund.
        pub journal: JournalRef,
    }
}
impl Rules for RefundReceipt {}
