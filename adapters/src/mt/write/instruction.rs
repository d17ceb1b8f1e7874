//! SettlementInstruction → MT540–MT543.

use isthmus_spec::body::{Direction, Party, SettlementInstruction};

use super::{amount_19a, decimal, reference_16, Lines};
use crate::error::{TranslateCode, TranslateError, Translation, Unrepresented};
use crate::mt::codes;
use crate::mt::fields;
use crate::mt::fin;

/// Writes an instruction. Every member has an MT field, so the translation
/// is lossless or refused (a reference over 16 characters, a quantity or
/// amount over 15 characters).
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
    lines.close("FIAC");

    lines.open("SETDET");
    lines.qualified("22F", "SETR", "TRAD");
    for (qualifier, member, entry) in [
        ("DEAG", "body.delivering_agent", &body.delivering_agent),
        ("SELL", "body.seller", &body.seller),
        ("REAG", "body.receiving_agent", &body.receiving_agent),
        ("BUYR", "body.buyer", &body.buyer),
    ] {
        if let Some(entry) = entry {
            party(&mut lines, qualifier, member, entry)?;
        }
    }
    lines.open("SETPRTY");
    lines.qualified("95P", "PSET", body.place_of_settlement.as_str());
    lines.close("SETPRTY");
    if let Some(amount) = amount {
        lines.open("AMT");
        lines.qualified("19A", "SETT", &amount);
        lines.close("AMT");
    }
    lines.close("SETDET");

    // Sender: the account owner by BIC, else the instructing side's agent;
    // receiver: the place of settlement, which MT54x instructions can reach directly.
    let own_agent_bic = match body.direction {
        Direction::Deliver => body.delivering_agent.as_ref(),
        Direction::Receive => body.receiving_agent.as_ref(),
    }
    .and_then(|agent| agent.bic.as_ref())
    .map(|bic| bic.as_str());
    let sender_bic = match &body.account_owner {
        Some(owner) if !owner.is_lei() => owner.as_str(),
        _ => own_agent_bic.ok_or_else(|| {
            TranslateError::at(
                TranslateCode::NotRepresentable,
                "body.account_owner",
                "an MT54x message is sent by a BIC; this instruction names neither an account owner by BIC nor its own agent by BIC",
            )
        })?,
    };
    let bytes = fin::write(
        message_type,
        &fin::sender_address(sender_bic),
        &fin::receiver_address(body.place_of_settlement.as_str()),
        &lines.finish(message_type),
    );
    let mut unrepresented = Vec::new();
    if body.securities_market.is_some() {
        unrepresented.push(Unrepresented {
            field: "body.securities_market".into(),
            reason: "not yet written to MT54x".into(),
        });
    }
    if body.cash.is_some() {
        unrepresented.push(Unrepresented {
            field: "body.cash".into(),
            reason: "not yet written to MT54x".into(),
        });
    }
    Ok(Translation::lossy(bytes, unrepresented))
}

/// One E1 sequence: `:95P:` party, `:95L::ALTE//` LEI, `:97A::SAFE//` account.
fn party(
    lines: &mut Lines,
    qualifier: &str,
    member: &str,
    party: &Party,
) -> Result<(), TranslateError> {
    let Some(bic) = &party.bic else {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            member.to_string(),
            "a party by proprietary id is not yet written to MT54x",
        ));
    };
    lines.open("SETPRTY");
    lines.qualified("95P", qualifier, bic.as_str());
    if let Some(lei) = &party.lei {
        lines.qualified("95L", "ALTE", lei.as_str());
    }
    if let Some(account) = &party.safekeeping_account {
        lines.qualified("97A", "SAFE", account.as_str());
    }
    lines.close("SETPRTY");
    Ok(())
}
