//! SettlementInstruction → MT540–MT543.

use isthmus_spec::body::{CashSide, Direction, Party, SettlementInstruction};

use super::{amount_19a, decimal, reference_16, Lines};
use crate::error::{TranslateCode, TranslateError, Translation, Unrepresented};
use crate::mt::codes;
use crate::mt::fields;
use crate::mt::fin;
use crate::mt::narrative;
use crate::mt::{INSTRUCTION_RECEIVER_ADDRESS, INSTRUCTION_SENDER_ADDRESS};

/// Writes an instruction. Members MT has no field for travel as narrative
/// lines (`/SMKT/`, `/CMKT/`); a proprietary id's `scheme` and a cash owner
/// known only by LEI have no MT field and are reported as unrepresented; a value MT cannot hold whole (a
/// reference over 16 characters, a quantity or amount over 15 characters, a
/// required party's proprietary code over 34 characters or issuer that is
/// no data source scheme) is refused.
pub(super) fn write(body: &SettlementInstruction) -> Result<Translation<Vec<u8>>, TranslateError> {
    let message_type = codes::instruction_type(body.direction, body.payment);
    let seme = reference_16(&body.instruction_id, "body.instruction_id", ":20C::SEME//")?;
    let comm = body
        .common_reference
        .as_ref()
        .map(|reference| reference_16(reference, "body.common_reference", ":20C::COMM//"))
        .transpose()?;
    let quantity = decimal(body.quantity.as_str(), "body.quantity", ":36B::SETT//UNIT/")?;
    let amount = amount_19a(body.settlement_amount.as_ref(), "SETT")?;
    let mut unrepresented = Vec::new();

    let mut lines = Lines::default();
    lines.open("GENL");
    lines.qualified("20C", "SEME", seme);
    lines.field("23G", "NEWM");
    if let Some(comm) = comm {
        lines.open("LINK");
        lines.qualified("20C", "COMM", comm);
        lines.close("LINK");
    }
    lines.close("GENL");

    lines.open("TRADDET");
    if let Some(mic) = &body.place_of_trade {
        lines.qualified("94B", "TRAD", &format!("EXCH/{mic}"));
    }
    lines.qualified("98A", "SETT", &fields::date_to_mt(&body.settlement_date));
    lines.qualified("98A", "TRAD", &fields::date_to_mt(&body.trade_date));
    lines.field("35B", &format!("ISIN {}", body.isin));
    let cash_market = body.cash.as_ref().and_then(|cash| cash.market.as_ref());
    let mut markets: Vec<(&str, &str)> = Vec::new();
    if let Some(mic) = &body.securities_market {
        markets.push(("SMKT", mic.as_str()));
    }
    if let Some(mic) = cash_market {
        markets.push(("CMKT", mic.as_str()));
    }
    if !markets.is_empty() {
        lines.narrative("70E", "SPRO", &narrative::write_items(&markets));
    }
    lines.close("TRADDET");

    lines.open("FIAC");
    lines.qualified("36B", "SETT", &format!("UNIT/{quantity}"));
    match &body.account_owner {
        // Sequence C gives ACOW options P and R and the LEI under ALTE (MT543 field 95a).
        Some(owner) if owner.is_lei() => lines.qualified("95L", "ALTE", owner.as_str()),
        Some(owner) => lines.qualified("95P", "ACOW", owner.as_str()),
        None => {}
    }
    lines.qualified("97A", "SAFE", body.safekeeping_account.as_str());
    if let Some(account) = body.cash.as_ref().and_then(|cash| cash.account.as_ref()) {
        lines.qualified("97A", "CASH", account.as_str());
    }
    lines.close("FIAC");

    lines.open("SETDET");
    lines.qualified("22F", "SETR", "TRAD");
    let counterparty = match body.direction {
        Direction::Deliver => "body.receiving_agent",
        Direction::Receive => "body.delivering_agent",
    };
    let mut own_agent_bic: Option<&str> = None;
    let mut own_agent_written = false;
    for (qualifier, member, entry) in [
        ("DEAG", "body.delivering_agent", &body.delivering_agent),
        ("SELL", "body.seller", &body.seller),
        ("REAG", "body.receiving_agent", &body.receiving_agent),
        ("BUYR", "body.buyer", &body.buyer),
    ] {
        let Some(entry) = entry else { continue };
        let written = party(
            &mut lines,
            Sequence::Settlement,
            qualifier,
            member,
            entry,
            member == counterparty,
            &mut unrepresented,
        )?;
        let own = matches!(
            (body.direction, qualifier),
            (Direction::Deliver, "DEAG") | (Direction::Receive, "REAG")
        );
        if own && written {
            own_agent_written = true;
            own_agent_bic = entry.bic.as_ref().map(|bic| bic.as_str());
        }
    }
    lines.open("SETPRTY");
    lines.qualified("95P", "PSET", body.place_of_settlement.as_str());
    lines.close("SETPRTY");
    if let Some(cash) = &body.cash {
        cash_parties(&mut lines, body.direction, cash, &mut unrepresented)?;
    }
    if let Some(amount) = amount {
        lines.open("AMT");
        lines.qualified("19A", "SETT", &amount);
        lines.close("AMT");
    }
    lines.close("SETDET");

    // The addresses are chosen so that reading the message back derives
    // nothing the instruction does not say (see the `mt` module docs):
    // the sender is the account owner by BIC, or for an owner known by LEI
    // the own agent's BIC, else the participant placeholder; the receiver is
    // the place of settlement, or the gateway placeholder when the own agent
    // is not written and the sender is a real institution (the reader would
    // otherwise take the sender or receiver as the own agent).
    let sender_bic = match &body.account_owner {
        Some(owner) if !owner.is_lei() => Some(owner.as_str()),
        Some(_) => own_agent_bic,
        None => None,
    };
    let sender = sender_bic
        .map(fin::sender_address)
        .unwrap_or_else(|| INSTRUCTION_SENDER_ADDRESS.to_string());
    let receiver = if !own_agent_written && sender_bic.is_some() {
        INSTRUCTION_RECEIVER_ADDRESS.to_string()
    } else {
        fin::receiver_address(body.place_of_settlement.as_str())
    };
    let bytes = fin::write(
        message_type,
        &sender,
        &receiver,
        &lines.finish(message_type),
    );
    Ok(Translation::lossy(bytes, unrepresented))
}

/// The E2 cash parties of the instructing party's cash side: the owner
/// (BENM for a delivery, DEBT for a receipt) by BIC, and the servicer
/// (ACCW, PAYE) as a party with its own account. The instructing party's
/// cash account itself is written in sequence C.
fn cash_parties(
    lines: &mut Lines,
    direction: Direction,
    cash: &CashSide,
    unrepresented: &mut Vec<Unrepresented>,
) -> Result<(), TranslateError> {
    let (owner_qualifier, servicer_qualifier) = codes::own_cash_parties(direction);
    match &cash.owner {
        Some(owner) if owner.is_lei() => unrepresented.push(Unrepresented {
            field: "body.cash.owner".into(),
            reason: format!("an E2 cash party is named by BIC, name or proprietary code (:95P:, :95Q:, :95R::{owner_qualifier}//); an LEI goes only beside one, under ALTE, so an owner known by LEI alone has no MT field"),
        }),
        Some(owner) => {
            lines.open("CSHPRTY");
            lines.qualified("95P", owner_qualifier, owner.as_str());
            lines.close("CSHPRTY");
        }
        None => {}
    }
    if let Some(servicer) = &cash.servicer {
        party(
            lines,
            Sequence::Cash,
            servicer_qualifier,
            "body.cash.servicer",
            servicer,
            false,
            unrepresented,
        )?;
    }
    Ok(())
}

/// The kind of party sequence written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sequence {
    /// E1 SETPRTY: party, LEI, `:97A::SAFE//`.
    Settlement,
    /// E2 CSHPRTY: party, LEI and, for the cash servicer, its own account
    /// (`:97A::CASH//`; ISM/1 `cash.servicer.safekeeping_account`).
    Cash,
}

/// One party sequence: `:95P:` (BIC) or `:95R:` (issuer as data source
/// scheme, proprietary code), `:95L::ALTE//` LEI, and the party's account:
/// in E1 `:97A::SAFE//`, in E2 `:97A::CASH//`.
/// Returns whether the party was written: a party whose proprietary id MT
/// cannot hold is refused when `required`, else left out and reported.
fn party(
    lines: &mut Lines,
    sequence: Sequence,
    qualifier: &str,
    member: &str,
    party: &Party,
    required: bool,
    unrepresented: &mut Vec<Unrepresented>,
) -> Result<bool, TranslateError> {
    let identification = match (&party.bic, &party.proprietary_id) {
        (Some(bic), _) => format!(":95P::{qualifier}//{bic}"),
        (None, Some(id)) => {
            let problem = if !fields::is_scheme_8c(id.issuer.as_str()) {
                Some((
                    "issuer",
                    format!("the issuer \"{}\" is written as the :95R: data source scheme, which is 1 to {} upper-case letters or digits (8c)", id.issuer, fields::SCHEME_CHARS),
                ))
            } else if id.id.as_str().chars().count() > fields::PROPRIETARY_CODE_CHARS {
                Some((
                    "id",
                    format!("the code \"{}\" has more than the {} characters of a :95R: proprietary code (34x)", id.id, fields::PROPRIETARY_CODE_CHARS),
                ))
            } else {
                None
            };
            if let Some((part, why)) = problem {
                if required {
                    return Err(TranslateError::at(
                        TranslateCode::NotRepresentable,
                        format!("{member}.proprietary_id.{part}"),
                        format!("{why}; the party is required, so the instruction is refused rather than changed"),
                    ));
                }
                unrepresented.push(Unrepresented {
                    field: member.to_string(),
                    reason: format!("{why}; the optional party is left out"),
                });
                return Ok(false);
            }
            if id.scheme.is_some() {
                unrepresented.push(Unrepresented {
                    field: format!("{member}.proprietary_id.scheme"),
                    reason: "a :95R: party carries its issuer (the data source scheme) and code; the scheme's name has no MT field".into(),
                });
            }
            format!(":95R::{qualifier}/{}/{}", id.issuer, id.id)
        }
        // A decoded Party always has one of the two (ISM-1 §6.0.1).
        (None, None) => {
            return Err(TranslateError::at(
                TranslateCode::Ism(isthmus_spec::ReasonCode::PartyIdChoice),
                member.to_string(),
                "a party must be identified by a bic or by a proprietary_id",
            ))
        }
    };
    let name = match sequence {
        Sequence::Settlement => "SETPRTY",
        Sequence::Cash => "CSHPRTY",
    };
    lines.open(name);
    lines.push(identification);
    if let Some(lei) = &party.lei {
        lines.qualified("95L", "ALTE", lei.as_str());
    }
    if let Some(account) = &party.safekeeping_account {
        match sequence {
            Sequence::Settlement => lines.qualified("97A", "SAFE", account.as_str()),
            // The cash servicer's own account: :97A::CASH// in its own E2
            // sequence (the instructing party's is written in sequence C).
            Sequence::Cash => lines.qualified("97A", "CASH", account.as_str()),
        }
    }
    lines.close(name);
    Ok(true)
}
