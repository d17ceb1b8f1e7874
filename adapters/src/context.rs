//! What a gateway knows about an inbound instruction that its message need not
//! say (ISM-1 §6.1 duty 8): the authenticated participant, the gateway's own
//! market, and the participant's account static data.
//!
//! A dialect reads what the message states and derives what its routing
//! implies (reporting each derived member); [`complete`] then fills what is
//! still absent — and replaces what was only derived from routing — with what
//! the gateway knows for certain, reporting each fill with source `gateway`.
//! A value the message states is never replaced, nor is a member it states in
//! a form ISM/1 cannot carry ([`Translation::withheld`]): a contradiction
//! between the message and the participant's static data is the gateway's
//! risk check to refuse, not the adapter's to hide. An own agent still only
//! guessed from routing is removed and listed as left out: a relay would
//! match it against the counterparty's statement, and a guess must not make
//! two honest instructions disagree.

use isthmus_spec::body::{CashSide, Direction, Party, Payment, SettlementInstruction};
use isthmus_spec::ident::{Mic, PartyId};
use isthmus_spec::Body;

use crate::error::{Derived, TranslateError, Translation, Unrepresented};

/// Where a gateway-supplied value is reported to come from.
pub const GATEWAY_SOURCE: &str = "gateway";

/// What a gateway knows about the participant whose message it translates.
/// Every member is optional; an empty context changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundContext {
    /// The participant the gateway authenticated: the owner of the accounts it instructs.
    pub participant: Option<PartyId>,
    /// The gateway's own market: the securities market of the participant's
    /// deliveries and the cash market of its receipts against payment (the
    /// seller's securities and the buyer's cash are on their own markets, DESIGN.md §3).
    pub market: Option<Mic>,
    /// The participant's own settlement agent at the place of settlement, from static data.
    pub settlement_agent: Option<Party>,
    /// The participant's cash side, from static data: its cash account, who
    /// owns and services it, and on which market.
    pub cash: Option<CashSide>,
}

/// Completes an inbound translation with what `context` knows (see the module docs).
/// Only instructions are completed; other bodies pass through unchanged. The
/// completed body is decoded again, so it obeys every ISM/1 rule.
pub fn complete(
    mut translation: Translation<Body>,
    context: &InboundContext,
) -> Result<Translation<Body>, TranslateError> {
    let Body::SettlementInstruction(instruction) = &mut translation.value else {
        return Ok(translation);
    };
    let mut filler = Filler {
        derived: &mut translation.derived,
        withheld: &translation.withheld,
    };
    filler.fill(
        "body.account_owner",
        &mut instruction.account_owner,
        context.participant.as_ref(),
        "the participant the gateway authenticated owns the accounts it instructs",
    );
    if instruction.direction == Direction::Deliver {
        filler.fill(
            "body.securities_market",
            &mut instruction.securities_market,
            context.market.as_ref(),
            "a seller's securities are on its own gateway's market",
        );
    }
    let (field, own) = match instruction.direction {
        Direction::Deliver => ("body.delivering_agent", &mut instruction.delivering_agent),
        Direction::Receive => ("body.receiving_agent", &mut instruction.receiving_agent),
    };
    filler.fill(
        field,
        own,
        context.settlement_agent.as_ref(),
        "the participant's settlement agent, from the gateway's static data",
    );
    if instruction.payment == Payment::AgainstPayment {
        complete_cash(instruction, context, &mut filler);
    }
    drop_routing_guess_of_own_agent(
        instruction,
        &mut translation.derived,
        &mut translation.unrepresented,
    );
    let checked = Body::from_json(
        translation.value.kind(),
        &translation.value.to_json(),
        "body",
    )?;
    translation.value = checked;
    Ok(translation)
}

/// Fills members from the context and reports each fill.
struct Filler<'t> {
    derived: &'t mut Vec<Derived>,
    withheld: &'t [String],
}

impl Filler<'_> {
    /// Puts `known` into `slot` when the member is absent or only derived from
    /// routing; the message's own value stays, and so does a member it states
    /// in a form ISM/1 cannot carry.
    fn fill<T: Clone>(&mut self, field: &str, slot: &mut Option<T>, known: Option<&T>, why: &str) {
        let Some(known) = known else {
            return;
        };
        if self.withheld.iter().any(|w| w == field) {
            return;
        }
        let from_routing = self.derived.iter().position(|d| d.field == field);
        if slot.is_some() && from_routing.is_none() {
            return;
        }
        if let Some(index) = from_routing {
            self.derived.remove(index);
        }
        self.derived.push(Derived {
            field: field.to_string(),
            source: GATEWAY_SOURCE.to_string(),
            reason: why.to_string(),
        });
        *slot = Some(known.clone());
    }
}

/// An own agent derived only from routing (the message's receiver, taken as
/// the account servicer) is a guess a relay would match against the other
/// side's statement of it; a gateway never forwards a guess (ISM-1 §6.1 duty
/// 8). Unless the context replaced it, it is removed and listed as left out.
fn drop_routing_guess_of_own_agent(
    instruction: &mut SettlementInstruction,
    derived: &mut Vec<Derived>,
    unrepresented: &mut Vec<Unrepresented>,
) {
    let (field, own) = match instruction.direction {
        Direction::Deliver => ("body.delivering_agent", &mut instruction.delivering_agent),
        Direction::Receive => ("body.receiving_agent", &mut instruction.receiving_agent),
    };
    let Some(index) = derived
        .iter()
        .position(|d| d.field == field && d.source != GATEWAY_SOURCE)
    else {
        return;
    };
    let guess = derived.remove(index);
    *own = None;
    unrepresented.push(Unrepresented {
        field: field.to_string(),
        reason: format!(
            "the own agent was only derived from {} and the gateway knows no settlement agent for the participant; a guess is not sent to a relay",
            guess.source
        ),
    });
}

/// Fills the members of an against-payment instruction's cash side.
fn complete_cash(
    instruction: &mut SettlementInstruction,
    context: &InboundContext,
    filler: &mut Filler<'_>,
) {
    let mut cash = instruction.cash.clone().unwrap_or(CashSide {
        market: None,
        account: None,
        owner: None,
        servicer: None,
    });
    let known = context.cash.as_ref();
    let market = known
        .and_then(|c| c.market.as_ref())
        .or(match instruction.direction {
            Direction::Receive => context.market.as_ref(),
            Direction::Deliver => None,
        });
    filler.fill(
        "body.cash.market",
        &mut cash.market,
        market,
        "the market of the participant's cash account, from the gateway",
    );
    filler.fill(
        "body.cash.account",
        &mut cash.account,
        known.and_then(|c| c.account.as_ref()),
        "the participant's cash account, from the gateway's static data",
    );
    // The owner of the cash account is filled only when it is not the
    // account owner: a sender omits it then (ISM-1 §6.0.9), since an absent
    // owner reads as the account owner.
    let other_owner = known
        .and_then(|c| c.owner.as_ref())
        .filter(|owner| instruction.account_owner.as_ref() != Some(*owner));
    filler.fill(
        "body.cash.owner",
        &mut cash.owner,
        other_owner,
        "the owner of the participant's cash account, from the gateway's static data",
    );
    filler.fill(
        "body.cash.servicer",
        &mut cash.servicer,
        known.and_then(|c| c.servicer.as_ref()),
        "the servicer of the participant's cash account, from the gateway's static data",
    );
    let empty = cash.market.is_none()
        && cash.account.is_none()
        && cash.owner.is_none()
        && cash.servicer.is_none();
    instruction.cash = if empty { None } else { Some(cash) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use isthmus_spec::json::Json;
    use serde_json::json;

    fn receipt() -> Translation<Body> {
        let body = json!({
            "instruction_id": "SEME-1",
            "direction": "RECEIVE",
            "payment": "AGAINST_PAYMENT",
            "trade_date": "2026-11-25",
            "settlement_date": "2026-11-27",
            "isin": "US0378331005",
            "quantity": "10",
            "settlement_amount": {"amount": "10.00", "currency": "AUD"},
            "account_owner": "DEUTDEFF",
            "safekeeping_account": "SAFE-1",
            "delivering_agent": {"bic": "CHASUS33"},
            "place_of_settlement": "DTCYUS33"
        });
        let instruction =
            SettlementInstruction::from_json(&body, "body").unwrap_or_else(|r| panic!("{r}"));
        let mut translation = Translation::lossless(Body::SettlementInstruction(instruction));
        // As a dialect reports an owner it took from the message's sender.
        translation.derived.push(Derived {
            field: "body.account_owner".into(),
            source: "{1:} sender".into(),
            reason: "the sender owns the account".into(),
        });
        translation
    }

    fn instruction(translation: &Translation<Body>) -> &SettlementInstruction {
        match &translation.value {
            Body::SettlementInstruction(instruction) => instruction,
            other => panic!("not an instruction: {other:?}"),
        }
    }

    #[test]
    fn an_empty_context_changes_nothing() {
        let before = receipt();
        let after =
            complete(before.clone(), &InboundContext::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(after, before);
    }

    #[test]
    fn a_member_the_message_states_in_a_form_ism_cannot_carry_is_not_filled() {
        let mut translation = receipt();
        translation.withheld.push("body.receiving_agent".into());
        let context = InboundContext {
            settlement_agent: isthmus_spec::ident::Bic::parse("ANZBAU3M")
                .ok()
                .map(Party::by_bic),
            ..InboundContext::default()
        };
        let after = complete(translation, &context).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(instruction(&after).receiving_agent, None);
        assert!(after
            .derived
            .iter()
            .all(|d| d.field != "body.receiving_agent"));
    }

    #[test]
    fn an_own_agent_guessed_from_routing_is_not_forwarded() {
        let mut translation = receipt();
        if let Body::SettlementInstruction(instruction) = &mut translation.value {
            instruction.receiving_agent = isthmus_spec::ident::Bic::parse("IRVTUS3N")
                .ok()
                .map(Party::by_bic);
        }
        translation.derived.push(Derived {
            field: "body.receiving_agent".into(),
            source: "{2:} receiver".into(),
            reason: "the receiver services the account".into(),
        });
        // Without a settlement agent in the context the guess is removed and listed...
        let after = complete(translation.clone(), &InboundContext::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(instruction(&after).receiving_agent, None);
        assert!(after
            .derived
            .iter()
            .all(|d| d.field != "body.receiving_agent"));
        assert_eq!(
            after
                .unrepresented
                .iter()
                .map(|u| u.field.as_str())
                .collect::<Vec<_>>(),
            vec!["body.receiving_agent"]
        );
        // ...and with one, the gateway's agent replaces it.
        let context = InboundContext {
            settlement_agent: isthmus_spec::ident::Bic::parse("ANZBAU3M")
                .ok()
                .map(Party::by_bic),
            ..InboundContext::default()
        };
        let after = complete(translation, &context).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            instruction(&after)
                .receiving_agent
                .as_ref()
                .and_then(|p| p.bic.as_ref())
                .map(|b| b.as_str()),
            Some("ANZBAU3M")
        );
        assert!(after.unrepresented.is_empty());
    }

    #[test]
    fn a_cash_owner_who_is_the_account_owner_is_left_out() {
        // ISM-1 §6.0.9: a sender omits the cash side's owner when it is the
        // instruction's account owner; another owner is filled.
        for (owner, filled) in [("DEUTDEFF", None), ("ANZBAU3M", Some("ANZBAU3M"))] {
            let context = InboundContext {
                cash: Some(CashSide {
                    market: None,
                    account: isthmus_spec::ids::Reference::parse("AUD-CASH-1").ok(),
                    owner: PartyId::parse(owner).ok(),
                    servicer: None,
                }),
                ..InboundContext::default()
            };
            let after = complete(receipt(), &context).unwrap_or_else(|e| panic!("{e}"));
            let cash = instruction(&after)
                .cash
                .clone()
                .unwrap_or_else(|| panic!("the cash account is filled"));
            assert_eq!(cash.owner.as_ref().map(|o| o.as_str()), filled, "{owner}");
            assert_eq!(
                after.derived.iter().any(|d| d.field == "body.cash.owner"),
                filled.is_some(),
                "{owner}"
            );
        }
    }

    #[test]
    fn a_sellers_cash_account_is_filled_without_a_market() {
        // A delivery's cash is on the buyer's market, which the seller's gateway
        // does not know: the account is filled, the market stays absent.
        let mut translation = receipt();
        if let Body::SettlementInstruction(instruction) = &mut translation.value {
            instruction.direction = Direction::Deliver;
            instruction.receiving_agent = instruction.delivering_agent.take();
        }
        let context = InboundContext {
            market: Mic::parse("XNYS").ok(),
            cash: Some(CashSide {
                market: None,
                account: isthmus_spec::ids::Reference::parse("AUD-CASH-SELLER").ok(),
                owner: None,
                servicer: None,
            }),
            ..InboundContext::default()
        };
        let after = complete(translation, &context).unwrap_or_else(|e| panic!("{e}"));
        let body = instruction(&after);
        assert_eq!(
            body.securities_market.as_ref().map(|m| m.as_str()),
            Some("XNYS")
        );
        let cash = body
            .cash
            .as_ref()
            .unwrap_or_else(|| panic!("the cash account is kept"));
        assert_eq!(cash.market, None);
        assert_eq!(
            cash.account.as_ref().map(|a| a.as_str()),
            Some("AUD-CASH-SELLER")
        );
    }

    #[test]
    fn the_gateway_replaces_routing_guesses_and_fills_gaps_but_never_what_the_message_says() {
        let context = InboundContext {
            participant: PartyId::parse("5493001KJTIIGC8Y1R12").ok(),
            market: Mic::parse("XASX").ok(),
            settlement_agent: isthmus_spec::ident::Bic::parse("ANZBAU3M")
                .ok()
                .map(Party::by_bic),
            cash: Some(CashSide {
                market: None,
                account: isthmus_spec::ids::Reference::parse("AUD-CASH-9").ok(),
                owner: None,
                servicer: None,
            }),
        };
        let after = complete(receipt(), &context).unwrap_or_else(|e| panic!("{e}"));
        let body = instruction(&after);
        // The owner was only derived from routing: the authenticated participant replaces it.
        assert_eq!(
            body.account_owner.as_ref().map(|o| o.as_str()),
            Some("5493001KJTIIGC8Y1R12")
        );
        // A receipt's cash is on the gateway's own market; its securities market is not.
        assert_eq!(body.securities_market, None);
        let cash = body.cash.as_ref().unwrap_or_else(|| panic!("a cash side"));
        assert_eq!(cash.market.as_ref().map(|m| m.as_str()), Some("XASX"));
        assert_eq!(
            cash.account.as_ref().map(|a| a.as_str()),
            Some("AUD-CASH-9")
        );
        // The own (receiving) agent was absent; the counterparty's agent stays as written.
        assert_eq!(
            body.receiving_agent
                .as_ref()
                .and_then(|p| p.bic.as_ref())
                .map(|b| b.as_str()),
            Some("ANZBAU3M")
        );
        assert_eq!(
            body.delivering_agent
                .as_ref()
                .and_then(|p| p.bic.as_ref())
                .map(|b| b.as_str()),
            Some("CHASUS33")
        );
        let mut fields: Vec<(&str, &str)> = after
            .derived
            .iter()
            .map(|d| (d.field.as_str(), d.source.as_str()))
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                ("body.account_owner", GATEWAY_SOURCE),
                ("body.cash.account", GATEWAY_SOURCE),
                ("body.cash.market", GATEWAY_SOURCE),
                ("body.receiving_agent", GATEWAY_SOURCE),
            ]
        );

        // An owner the message states is kept, and not reported as derived.
        let mut stated = receipt();
        stated.derived.clear();
        let after = complete(stated, &context).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            instruction(&after)
                .account_owner
                .as_ref()
                .map(|o| o.as_str()),
            Some("DEUTDEFF")
        );
        assert!(after
            .derived
            .iter()
            .all(|d| d.field != "body.account_owner"));
    }
}
