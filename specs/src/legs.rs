//! Which accounts and which ledgers a settlement's legs use, read from its two
//! matched instructions alone (ISM-1 §6.1 duty 7).
//!
//! A relay builds the `SettlementProposal`'s legs (ISM-1 §6.3) from this: the
//! securities leg moves the quantity from the seller's safekeeping account to
//! the buyer's on the securities market's ledger; the cash leg, for an
//! against-payment pair only, moves the amount from the buyer's cash account
//! to the seller's on the cash market's ledger. Each leg's market may be
//! stated by either instruction (each gateway knows its own market); where
//! both state it, they must agree.

use crate::body::{AccountRef, CashSide, Direction, Leg, Payment, SettlementInstruction};
use crate::decimal::Money;
use crate::ident::{Mic, PartyId};
use crate::ids::Reference;
use crate::reason::{ReasonCode, Rejection};

/// One leg: on which market's ledger, from which account, to which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegAccounts {
    /// Which leg.
    pub leg: Leg,
    /// The market whose ledger holds the leg.
    pub market: Mic,
    /// The account the asset is locked from.
    pub from: AccountRef,
    /// The only account a claim may credit.
    pub to: AccountRef,
}

/// Both legs of a matched pair of instructions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementLegs {
    /// Securities, seller to buyer.
    pub securities: LegAccounts,
    /// Cash, buyer to seller, with the amount; `None` for a free-of-payment pair.
    pub cash: Option<(LegAccounts, Money)>,
}

/// The legs of a matched pair: `deliver` is the seller's instruction, `receive`
/// the buyer's. Refusals name the member at fault under `deliver.` or
/// `receive.`, in their field and in their sentence: `PAIR_INVALID` when the
/// two are not one delivery and one receipt of the same payment type,
/// `INSTRUCTION_INCOMPLETE` for a member the legs need and neither instruction
/// carries, `LEG_MARKET_CONFLICT` for a leg whose market the two instructions
/// state differently.
pub fn settlement_legs(
    deliver: &SettlementInstruction,
    receive: &SettlementInstruction,
) -> Result<SettlementLegs, Rejection> {
    for (side, instruction, expected) in [
        ("deliver", deliver, Direction::Deliver),
        ("receive", receive, Direction::Receive),
    ] {
        if instruction.direction != expected {
            return Err(Rejection::at(
                ReasonCode::PairInvalid,
                format!("{side}.direction"),
                format!(
                    "{side}.direction: instruction {} is a {} instruction; a settlement pairs one DELIVER with one RECEIVE",
                    instruction.instruction_id, instruction.direction
                ),
            ));
        }
    }
    if deliver.payment != receive.payment {
        return Err(Rejection::at(
            ReasonCode::PairInvalid,
            "receive.payment",
            format!(
                "receive.payment: the seller's instruction is {} and the buyer's {}; a settlement has one payment type",
                deliver.payment, receive.payment
            ),
        ));
    }

    let securities = LegAccounts {
        leg: Leg::Securities,
        market: leg_market(
            "securities_market",
            deliver.securities_market.as_ref(),
            receive.securities_market.as_ref(),
        )?,
        from: AccountRef {
            owner: owner_of("deliver", deliver)?,
            account: deliver.safekeeping_account.clone(),
        },
        to: AccountRef {
            owner: owner_of("receive", receive)?,
            account: receive.safekeeping_account.clone(),
        },
    };
    if deliver.payment == Payment::FreeOfPayment {
        return Ok(SettlementLegs {
            securities,
            cash: None,
        });
    }
    // A decoded AGAINST_PAYMENT instruction always carries its amount (ISM-1
    // §6.1 rule 2); one built in code without it is refused the same way.
    let Some(amount) = receive.settlement_amount.clone() else {
        return Err(Rejection::at(
            ReasonCode::AmountRequired,
            "receive.settlement_amount",
            "an AGAINST_PAYMENT instruction must state its settlement amount",
        ));
    };
    let seller_cash = deliver.cash.as_ref();
    let buyer_cash = receive.cash.as_ref();
    let cash = LegAccounts {
        leg: Leg::Cash,
        market: leg_market(
            "cash.market",
            seller_cash.and_then(|c| c.market.as_ref()),
            buyer_cash.and_then(|c| c.market.as_ref()),
        )?,
        from: cash_account_of("receive", receive, buyer_cash)?,
        to: cash_account_of("deliver", deliver, seller_cash)?,
    };
    Ok(SettlementLegs {
        securities,
        cash: Some((cash, amount)),
    })
}

/// A leg's market from whichever instruction states it.
fn leg_market(
    member: &str,
    deliver: Option<&Mic>,
    receive: Option<&Mic>,
) -> Result<Mic, Rejection> {
    match (deliver, receive) {
        (Some(a), Some(b)) if a != b => Err(Rejection::at(
            ReasonCode::LegMarketConflict,
            format!("receive.{member}"),
            format!("receive.{member}: the seller's instruction settles this leg on {a} and the buyer's on {b}"),
        )),
        (Some(market), _) | (None, Some(market)) => Ok(market.clone()),
        (None, None) => Err(Rejection::at(
            ReasonCode::InstructionIncomplete,
            format!("deliver.{member}"),
            format!("deliver.{member}: neither instruction names the market of this leg; the gateway of the market that settles it fills it in"),
        )),
    }
}

fn owner_of(side: &str, instruction: &SettlementInstruction) -> Result<PartyId, Rejection> {
    instruction.account_owner.clone().ok_or_else(|| {
        Rejection::at(
            ReasonCode::InstructionIncomplete,
            format!("{side}.account_owner"),
            format!(
                "{side}.account_owner: instruction {} does not name the owner of safekeeping account {}; its gateway knows the participant and fills it in",
                instruction.instruction_id, instruction.safekeeping_account
            ),
        )
    })
}

/// The cash account of one side: the cash side's owner, else the account owner.
fn cash_account_of(
    side: &str,
    instruction: &SettlementInstruction,
    cash: Option<&CashSide>,
) -> Result<AccountRef, Rejection> {
    let account: Option<&Reference> = cash.and_then(|c| c.account.as_ref());
    let Some(account) = account else {
        return Err(Rejection::at(
            ReasonCode::InstructionIncomplete,
            format!("{side}.cash.account"),
            format!(
                "{side}.cash.account: instruction {} does not name the cash account the cash leg {}",
                instruction.instruction_id,
                if side == "deliver" {
                    "pays into"
                } else {
                    "pays from"
                }
            ),
        ));
    };
    let owner = match cash.and_then(|c| c.owner.clone()) {
        Some(owner) => owner,
        None => owner_of(side, instruction)?,
    };
    Ok(AccountRef {
        owner,
        account: account.clone(),
    })
}
