//! Matching two settlement instructions (ISM-1 §12.4): which waiting
//! instructions are candidates for each other, and the first field on which a
//! candidate differs.
//!
//! Pure functions of the two instructions; the engine decides what a result
//! means for the instructions' states.

use isthmus_spec::body::{Direction, Party, Payment, SettlementInstruction};
use isthmus_spec::protocol::SettlementReason;

/// Whether `other` may be `instruction`'s counterpart (ISM-1 §12.4 rule 2):
/// the other direction, and either the same common reference on both, or not
/// two different ones and the same ISIN with agreeing counterparties.
pub fn is_candidate(instruction: &SettlementInstruction, other: &SettlementInstruction) -> bool {
    if instruction.direction == other.direction {
        return false;
    }
    match (&instruction.common_reference, &other.common_reference) {
        (Some(mine), Some(theirs)) => mine == theirs,
        _ => instruction.isin == other.isin && counterparties_agree(instruction, other),
    }
}

/// The first field of ISM-1 §12.4 rule 3 on which two candidates differ, or
/// `None` when they match.
pub fn first_difference(
    instruction: &SettlementInstruction,
    other: &SettlementInstruction,
) -> Option<SettlementReason> {
    if instruction.isin != other.isin {
        return Some(SettlementReason::UnmatchedIsin);
    }
    if instruction.payment != other.payment {
        return Some(SettlementReason::UnmatchedPayment);
    }
    if instruction.settlement_date != other.settlement_date {
        return Some(SettlementReason::UnmatchedSettlementDate);
    }
    if !instruction
        .quantity
        .value()
        .same_value(other.quantity.value())
    {
        return Some(SettlementReason::UnmatchedQuantity);
    }
    if instruction.payment == Payment::AgainstPayment {
        match (&instruction.settlement_amount, &other.settlement_amount) {
            (Some(mine), Some(theirs)) => {
                if mine.currency != theirs.currency {
                    return Some(SettlementReason::UnmatchedCurrency);
                }
                if !mine.amount.same_value(&theirs.amount) {
                    return Some(SettlementReason::UnmatchedAmount);
                }
            }
            // Decoding refuses an against-payment instruction without an
            // amount (ISM-1 §6.1 rule 2); one built in code is not a match.
            _ => return Some(SettlementReason::UnmatchedAmount),
        }
    }
    if !counterparties_agree(instruction, other) {
        return Some(SettlementReason::UnmatchedCounterparty);
    }
    None
}

/// ISM-1 §6.1 duty 6: the delivering agents, receiving agents, sellers and
/// buyers are compared where both instructions name them.
fn counterparties_agree(a: &SettlementInstruction, b: &SettlementInstruction) -> bool {
    let agree = |x: &Option<Party>, y: &Option<Party>| match (x, y) {
        (Some(x), Some(y)) => x.same_institution(y),
        _ => true,
    };
    agree(&a.delivering_agent, &b.delivering_agent)
        && agree(&a.receiving_agent, &b.receiving_agent)
        && agree(&a.seller, &b.seller)
        && agree(&a.buyer, &b.buyer)
}

/// The pair as (deliver, receive), whichever order they came in.
pub fn as_pair<'a>(
    a: &'a SettlementInstruction,
    b: &'a SettlementInstruction,
) -> (&'a SettlementInstruction, &'a SettlementInstruction) {
    if a.direction == Direction::Deliver {
        (a, b)
    } else {
        (b, a)
    }
}
