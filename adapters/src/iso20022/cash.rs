//! The cash side of a sese.023 (ISM-1 §6.0.9): the instructing party's cash
//! account and cash parties ↔ ISM/1 `SettlementInstruction.cash`.
//!
//! | ISM/1 member | sese.023 (`/Document/SctiesSttlmTxInstr/…`) |
//! | --- | --- |
//! | `cash.account` | `QtyAndAcctDtls/CshAcct` (`IBAN` when the account is a valid IBAN, ISO 13616 mod-97; else `Prtry`, `Max34Text`); read also from the own cash party's `CshAcct` when `QtyAndAcctDtls/CshAcct` is absent |
//! | `cash.owner` | a DELIVER's `CshPties/Cdtr` (the party is paid), a RECEIVE's `CshPties/Dbtr` (it pays): `Id/AnyBIC`, or `LEI` (written with `Id/PrtryId` {LEI, `GLEIF`, `LEI`}, as for `AcctOwnr`) |
//! | `cash.servicer` | a DELIVER's `CshPties/CdtrAgt`, a RECEIVE's `CshPties/DbtrAgt`: `Id/BICFI` or `Id/PrtryId`, `LEI`, and its `CshAcct` as the servicer's `safekeeping_account` |
//! | `cash.market` | `SplmtryData/Envlp/IsmData/CshMkt` (no sese.023 element names a cash ledger; see `supplementary.rs`) |
//!
//! `cash.account` is the instructing party's own cash account: never the
//! servicer's. A `CshAcct` on the servicer (`CdtrAgt`/`DbtrAgt`) is the
//! servicer's own account, read as `cash.servicer.safekeeping_account`, in
//! both directions — as the MT reader reads `:97A::CASH//` in the ACCW/PAYE
//! sequence — and when the servicer itself is left out (given by name), its
//! account is listed as left out with it, never moved to `cash.account`.
//!
//! Reading keeps the cash side lossless by reporting, never dropping: the
//! counterparty's cash parties (a DELIVER's `Dbtr`/`DbtrAgt`, a RECEIVE's
//! `Cdtr`/`CdtrAgt`), `Intrmy`, an owner given by name or by a proprietary
//! code (ISM/1 names an owner by BIC or LEI), a BIC given beside the owner's
//! LEI (the LEI is kept, as for `AcctOwnr`), a servicer given by name, a
//! party's `CshAcct` that differs from `QtyAndAcctDtls/CshAcct`, and the
//! parties' `AltrnId`, `ChrgsAcct`, `ComssnAcct`, `TaxAcct` and `AddtlInf`
//! are read, left out and listed in [`crate::Translation::unrepresented`] by
//! XML path. An owner or a servicer the message states in a form ISM/1
//! cannot carry is also withheld (`body.cash.owner`, `body.cash.servicer` in
//! [`crate::Translation::withheld`]): a gateway does not fill it in. A
//! FREE_OF_PAYMENT instruction has no cash side in ISM/1: any cash account,
//! cash party or cash market (`IsmData/CshMkt`) it carries is read, left
//! out and listed the same way, not refused, its values not judged.
//!
//! Writing: a cash account or servicer account longer than `Max34Text`
//! cannot be written and is reported (`body.cash.account`,
//! `body.cash.servicer.safekeeping_account`); everything else is written.

use isthmus_spec::body::{CashSide, Direction, Party, Payment, SettlementInstruction};
use isthmus_spec::ident::{Bic, Lei, Mic, PartyId};
use isthmus_spec::ids::Reference;

use super::common;
use super::read::{Leaf, Node};
use super::report::Report;
use super::schema_tables as t;
use super::write::XmlWriter;
use crate::error::{TranslateError, Unrepresented};

const FREE: &str = "a FREE_OF_PAYMENT instruction moves no cash, so ISM/1 gives it no cash side";
const COUNTERPARTY: &str =
    "a cash party of the counterparty; ISM/1 carries only the instructing party's own cash side";
const INTERMEDIARY: &str = "ISM/1 has no member for a cash intermediary";

/// The cash parties of a DELIVER (the instructing party is paid: creditor)
/// or a RECEIVE (it pays: debtor): (own party, own agent).
fn own_names(direction: Direction) -> (&'static str, &'static str) {
    match direction {
        Direction::Deliver => ("Cdtr", "CdtrAgt"),
        Direction::Receive => ("Dbtr", "DbtrAgt"),
    }
}

/// Children of a cash party ISM/1 has no member for, reported when present.
const UNCARRIED: [&str; 5] = ["AltrnId", "ChrgsAcct", "ComssnAcct", "TaxAcct", "AddtlInf"];

fn report_uncarried(party: &Node<'_>, report: &mut Report) {
    common::left_out_children(
        party,
        &UNCARRIED,
        |name| format!("ISM/1 has no member for a cash party's {name}"),
        report,
    );
}

/// Reads the cash side of an instruction: `holding` is `QtyAndAcctDtls`,
/// `market` the `IsmData/CshMkt` leaf if any.
pub(crate) fn read(
    block: &Node<'_>,
    holding: &Node<'_>,
    direction: Direction,
    payment: Payment,
    market: Option<&Leaf<'_>>,
    report: &mut Report,
) -> Result<Option<CashSide>, TranslateError> {
    let account_node = holding.node("CshAcct", &t::CASH_ACCOUNT_IDENTIFICATION_5_CHOICE)?;
    let parties = block.node("CshPties", &t::CASH_PARTIES_36)?;
    if payment == Payment::FreeOfPayment {
        // Read (their structure was checked) and listed; their values, which
        // nothing uses, are not judged.
        if let Some(account) = &account_node {
            report.left_out(account.path(), FREE);
        }
        if let Some(parties) = &parties {
            for (name, _) in party_types() {
                if let Some(party) = party_node(parties, name)? {
                    report.left_out(party.path(), FREE);
                }
            }
        }
        if let Some(market) = market {
            report.left_out(market.path(), FREE);
        }
        return Ok(None);
    }

    let mut account = account_node
        .as_ref()
        .map(common::cash_account)
        .transpose()?;
    let mut owner = None;
    let mut servicer = None;
    if let Some(parties) = &parties {
        let (own_party, own_agent) = own_names(direction);
        for (name, _) in party_types() {
            let Some(party) = party_node(parties, name)? else {
                continue;
            };
            if name == own_party {
                owner = cash_owner(&party, &mut account, report)?;
            } else if name == own_agent {
                servicer = cash_servicer(&party, report)?;
            } else if name == "Intrmy" {
                report.left_out(party.path(), INTERMEDIARY);
            } else {
                report.left_out(party.path(), COUNTERPARTY);
            }
        }
    }
    let market = market.map(|leaf| leaf.ism(Mic::parse)).transpose()?;
    if market.is_none() && account.is_none() && owner.is_none() && servicer.is_none() {
        return Ok(None);
    }
    Ok(Some(CashSide {
        market,
        account,
        owner,
        servicer,
    }))
}

/// The cash parties in schema order, with the content model of each.
fn party_types() -> [(&'static str, &'static super::schema::ComplexType); 5] {
    [
        ("Dbtr", &t::PARTY_IDENTIFICATION_AND_ACCOUNT_164),
        ("DbtrAgt", &t::PARTY_IDENTIFICATION_AND_ACCOUNT_171),
        ("Cdtr", &t::PARTY_IDENTIFICATION_AND_ACCOUNT_164),
        ("CdtrAgt", &t::PARTY_IDENTIFICATION_AND_ACCOUNT_171),
        ("Intrmy", &t::PARTY_IDENTIFICATION_AND_ACCOUNT_171),
    ]
}

/// Cash party `name` of `CshPties`, checked against its content model
/// (and its `Id` choice), if present.
fn party_node<'a>(parties: &Node<'a>, name: &str) -> Result<Option<Node<'a>>, TranslateError> {
    let Some((_, ty)) = party_types().into_iter().find(|(n, _)| *n == name) else {
        return Ok(None);
    };
    let Some(party) = parties.node(name, ty)? else {
        return Ok(None);
    };
    let choice = if ty.name == t::PARTY_IDENTIFICATION_AND_ACCOUNT_164.name {
        &t::PARTY_IDENTIFICATION_120_CHOICE
    } else {
        &t::PARTY_IDENTIFICATION_133_CHOICE
    };
    party.required_node("Id", choice, "a cash party needs its Id")?;
    Ok(Some(party))
}

/// The owner of the cash account (`Cdtr`/`Dbtr`), and its `CshAcct` as the
/// account when `QtyAndAcctDtls/CshAcct` gave none.
fn cash_owner(
    party: &Node<'_>,
    account: &mut Option<Reference>,
    report: &mut Report,
) -> Result<Option<PartyId>, TranslateError> {
    let id = party.required_node("Id", &t::PARTY_IDENTIFICATION_120_CHOICE, "")?;
    let lei = party
        .leaf("LEI")
        .map(|leaf| leaf.ism(Lei::parse))
        .transpose()?;
    let mut owner = lei
        .as_ref()
        .map(|lei| PartyId::parse(lei.as_str()))
        .transpose()
        .map_err(TranslateError::from)?;
    match id.chosen() {
        "AnyBIC" => {
            let leaf = id.required_leaf("AnyBIC", "")?;
            let bic = leaf.ism(Bic::parse)?;
            if owner.is_some() {
                report.left_out(
                    leaf.path(),
                    "the cash account's owner is also given by BIC; ISM/1 keeps one identifier, the LEI",
                );
            } else {
                owner = Some(PartyId::parse(bic.as_str()).map_err(TranslateError::from)?);
            }
        }
        "PrtryId" => {
            let node = id.required_node("PrtryId", &t::GENERIC_IDENTIFICATION_36, "")?;
            let code = common::proprietary_id(&node)?;
            // Isthmus writes an LEI owner's mandatory Id as the LEI itself.
            let is_the_lei = lei
                .as_ref()
                .is_some_and(|lei| code.id.as_str() == lei.as_str());
            if !is_the_lei {
                let why = if owner.is_some() {
                    "the cash account's owner is also given by a proprietary code; ISM/1 keeps one identifier, the LEI"
                } else {
                    "ISM/1 names a cash account's owner by BIC or LEI; a proprietary code cannot be carried"
                };
                report.left_out(node.path(), why);
            }
        }
        other => report.left_out(
            &format!("{}/{other}", id.path()),
            "ISM/1 names a cash account's owner by BIC or LEI; a name and address cannot be carried",
        ),
    }
    if let Some(node) = party.node("CshAcct", &t::CASH_ACCOUNT_IDENTIFICATION_5_CHOICE)? {
        let own = common::cash_account(&node)?;
        match account {
            None => *account = Some(own),
            Some(stated) if *stated == own => {}
            Some(_) => report.left_out(
                node.path(),
                "the cash party gives another cash account than QtyAndAcctDtls/CshAcct, which ISM/1 keeps",
            ),
        }
    }
    report_uncarried(party, report);
    if owner.is_none() {
        // Stated, by a name or a code ISM/1 cannot carry: never filled in.
        report.withhold("body.cash.owner");
    }
    Ok(owner)
}

/// The servicer of the cash account (`CdtrAgt`/`DbtrAgt`).
fn cash_servicer(party: &Node<'_>, report: &mut Report) -> Result<Option<Party>, TranslateError> {
    let id = party.required_node("Id", &t::PARTY_IDENTIFICATION_133_CHOICE, "")?;
    let lei = party
        .leaf("LEI")
        .map(|leaf| leaf.ism(Lei::parse))
        .transpose()?;
    let account = party
        .node("CshAcct", &t::CASH_ACCOUNT_IDENTIFICATION_5_CHOICE)?
        .map(|node| common::cash_account(&node).map(|account| (account, node.path().to_string())))
        .transpose()?;
    let (bic, proprietary_id) = match id.chosen() {
        "BICFI" => (Some(id.required_leaf("BICFI", "")?.ism(Bic::parse)?), None),
        "PrtryId" => (
            None,
            Some(common::proprietary_id(&id.required_node(
                "PrtryId",
                &t::GENERIC_IDENTIFICATION_36,
                "",
            )?)?),
        ),
        other => {
            // A Party is a BIC or a proprietary code: without either, the
            // servicer (and what it would carry) is left out.
            report.left_out(
                &format!("{}/{other}", id.path()),
                "ISM/1 identifies a cash servicer by BIC or proprietary code; a name and address cannot be carried, so the servicer is left out",
            );
            if let Some(leaf) = party.leaf("LEI") {
                report.left_out(leaf.path(), "the cash servicer is left out");
            }
            if let Some((_, path)) = &account {
                // The servicer's own account, never the instructing party's.
                report.left_out(
                    path,
                    "the cash servicer's own account; the servicer is left out, and so is its account",
                );
            }
            report_uncarried(party, report);
            report.withhold("body.cash.servicer");
            return Ok(None);
        }
    };
    report_uncarried(party, report);
    Ok(Some(Party {
        bic,
        proprietary_id,
        lei,
        safekeeping_account: account.map(|(account, _)| account),
    }))
}

/// Writes `QtyAndAcctDtls/CshAcct` (inside `QtyAndAcctDtls`, after `SfkpgAcct`).
pub(crate) fn write_account(
    w: &mut XmlWriter,
    cash: Option<&CashSide>,
    unrepresented: &mut Vec<Unrepresented>,
) -> Result<(), TranslateError> {
    let Some(account) = cash.and_then(|cash| cash.account.as_ref()) else {
        return Ok(());
    };
    if account.as_str().chars().count() > common::MAX_CASH_ACCOUNT_CHARS {
        unrepresented.push(too_long("body.cash.account"));
        return Ok(());
    }
    common::write_cash_account(w, "CshAcct", account)
}

fn too_long(field: &str) -> Unrepresented {
    Unrepresented {
        field: field.to_string(),
        reason: format!(
            "an ISO 20022 cash account (IBAN or Prtry, Max34Text) holds at most {} characters",
            common::MAX_CASH_ACCOUNT_CHARS
        ),
    }
}

/// Writes `CshPties` with the instructing party's own cash parties, if the
/// cash side names an owner or a servicer.
pub(crate) fn write_parties(
    w: &mut XmlWriter,
    instruction: &SettlementInstruction,
    unrepresented: &mut Vec<Unrepresented>,
) -> Result<(), TranslateError> {
    let Some(cash) = &instruction.cash else {
        return Ok(());
    };
    if cash.owner.is_none() && cash.servicer.is_none() {
        return Ok(());
    }
    let (own_party, own_agent) = own_names(instruction.direction);
    w.element("CshPties", |w| {
        // Schema order: Dbtr, DbtrAgt, Cdtr, CdtrAgt; a side's party before its agent.
        if let Some(owner) = &cash.owner {
            common::write_party_id(w, own_party, owner)?;
        }
        if let Some(servicer) = &cash.servicer {
            w.element(own_agent, |w| {
                w.element("Id", |w| common::write_party_choice(w, "BICFI", servicer))?;
                if let Some(lei) = &servicer.lei {
                    w.leaf("LEI", lei.as_str())?;
                }
                if let Some(account) = &servicer.safekeeping_account {
                    if account.as_str().chars().count() > common::MAX_CASH_ACCOUNT_CHARS {
                        unrepresented.push(too_long("body.cash.servicer.safekeeping_account"));
                    } else {
                        common::write_cash_account(w, "CshAcct", account)?;
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    })
}
