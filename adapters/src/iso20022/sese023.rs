//! sese.023.001.11 SecuritiesSettlementTransactionInstructionV11 ↔ ISM/1
//! `SettlementInstruction`.
//!
//! | ISM/1 member | `/Document/SctiesSttlmTxInstr/…` |
//! | --- | --- |
//! | `instruction_id` | `TxId` |
//! | `common_reference` | `SttlmTpAndAddtlParams/CmonId` |
//! | `direction` | `SttlmTpAndAddtlParams/SctiesMvmntTp` (`DELI`, `RECE`) |
//! | `payment` | `SttlmTpAndAddtlParams/Pmt` (`APMT`, `FREE`) |
//! | `trade_date` | `TradDtls/TradDt/Dt/Dt`, or the date of `TradDtls/TradDt/Dt/DtTm` as written (its time left out) |
//! | `settlement_date` | `TradDtls/SttlmDt/Dt/Dt` (or the date of `…/DtTm`, likewise) |
//! | `place_of_trade` | `TradDtls/PlcOfTrad/MktTpAndId/Id/MktIdrCd` (with `Tp/Cd` `EXCH`) |
//! | `isin` | `FinInstrmId/ISIN` |
//! | `quantity` | `QtyAndAcctDtls/SttlmQty/Qty/Unit` |
//! | `account_owner` | `QtyAndAcctDtls/AcctOwnr` (`Id/AnyBIC`, or `LEI`); optional, as in the schema (an owner by `Id/PrtryId` alone is left out, reported and withheld) |
//! | `safekeeping_account` | `QtyAndAcctDtls/SfkpgAcct/Id` |
//! | `securities_market` | `SplmtryData/Envlp/IsmData/SctiesMkt` (`supplementary.rs`) |
//! | `cash` | `QtyAndAcctDtls/CshAcct`, `CshPties`, `IsmData/CshMkt` (`cash.rs`) |
//! | `place_of_settlement` | `DlvrgSttlmPties/Dpstry/Id/AnyBIC` and `RcvgSttlmPties/Dpstry/Id/AnyBIC` |
//! | `delivering_agent` | `DlvrgSttlmPties/Pty1` (`Id/AnyBIC` or `Id/PrtryId` {`Id`, `Issr`, `SchmeNm`}, `LEI`, `SfkpgAcct/Id`) |
//! | `seller` | `DlvrgSttlmPties/Pty2` (read: the highest-numbered of `Pty2`…`Pty5`) |
//! | `receiving_agent` | `RcvgSttlmPties/Pty1` |
//! | `buyer` | `RcvgSttlmPties/Pty2` (read: likewise) |
//! | `settlement_amount` | `SttlmAmt/Amt` (`Ccy`), with `CdtDbtInd` `CRDT` to deliver, `DBIT` to receive |
//!
//! Written always: `SttlmParams/SctiesTxTp/Cd` `TRAD` (mandatory; ISM/1 settles trades).
//!
//! Dates: a trade or settlement date given as a date-time (`DtTm`) is the
//! calendar date as written — an offset does not move it — and its time of
//! day, which ISM/1 dates do not hold, is listed as left out (never reported
//! as derived). The whole value is validated (hour 00–23, minutes, seconds,
//! fraction, a `Z` or `±hh:mm` zone): a malformed one is `TIMESTAMP_INVALID`.
//!
//! Parties: every settlement party (`Pty1`…`Pty5`) is read by BIC
//! (`Id/AnyBIC`) or by proprietary code (`Id/PrtryId`: a DTC participant
//! number issued by `DTCYID`, a CREST id by `CRST`, a Euroclear or
//! Clearstream participant account by `ECLR` or `CEDE`…), and written the
//! same way. Its `AltrnId`, `BlckChainAdrOrWllt`, `PrcgDt`, `PrcgId` and
//! `AddtlInf` have no ISM/1 member: read, left out and listed, as `cash.rs`
//! lists a cash party's. A party known only by name (`Id/NmAndAdr`) has no
//! ISM/1 form: the counterparty's agent is then refused
//! (`NOT_REPRESENTABLE`), while an own agent, seller or buyer so given is
//! left out together with everything it carries (`LEI`, `SfkpgAcct`…), each
//! listed, and its member (`body.delivering_agent`, `body.seller`…) is
//! withheld ([`crate::Translation::withheld`]): the message says who it is,
//! so a gateway never fills it in.
//!
//! Settlement chains (SMPG): `Pty1` is the agent facing the depository and
//! each further party faces the one before; the seller (buyer) is the end of
//! the delivering (receiving) chain. Isthmus writes it as `Pty2`; reading
//! takes the highest-numbered party after `Pty1` as the seller or buyer, and
//! lists the parties between them — intermediaries, which ISM/1 has no
//! member for, as the MT reader lists `DECU`, `DEI1`… — as left out.
//!
//! Place of settlement: written in both chains (T2S and SMPG name the
//! depository of each side). Reading takes the counterparty's chain first
//! (the receiving chain of a delivery, the delivering chain of a receipt),
//! as SMPG places it, then the other. When both chains name one they must
//! agree: written alike, the own chain's is the same member (and written
//! back); the same office written otherwise (`INSECHZZ`/`INSECHZZXXX`,
//! [`Bic::same_institution`]) lists the own chain's spelling as left out,
//! and so does one given by country or name; two different depositories —
//! a cross-CSD settlement, each side at its own CSD — are
//! `NOT_REPRESENTABLE` at the own chain's `Dpstry/Id/AnyBIC`, since an ISM/1
//! instruction settles at one place. A depository's `LEI`, `AltrnId`,
//! `PrcgDt`, `PrcgId` and `AddtlInf` are listed as left out.
//!
//! The counterparty's side must be there (ISM-1 §6.1 rule 5): a DELIVER
//! without `RcvgSttlmPties/Pty1` or a RECEIVE without `DlvrgSttlmPties/Pty1`
//! is refused with `COUNTERPARTY_REQUIRED` at that element — by ISM/1
//! decoding of the body read without it, so that rules 1–4 (a settlement
//! date before the trade date, a missing or unexpected amount, cash on a
//! free instruction) are reported first, in their order, as for a body in
//! JSON. The place of settlement is refused with `XML_ELEMENT_MISSING` (or
//! `NOT_REPRESENTABLE` for a depository given by country). The instructing
//! party's own side — `AcctOwnr`, its own chain, its own `Pty1` — may be
//! left implied, as market practice does; what the business application
//! header implies is derived and reported (`implied.rs`).

use isthmus_spec::body::{Direction, Party, SettlementInstruction};
use isthmus_spec::ident::{Bic, Mic};
use isthmus_spec::ids::Reference;
use isthmus_spec::Body;

use super::cash;
use super::common;
use super::implied;
use super::read::{missing, not_representable, Node};
use super::report::Report;
use super::routing::Routing;
use super::schema::Message;
use super::schema_tables as t;
use super::supplementary;
use super::write::XmlWriter;
use crate::error::{TranslateCode, TranslateError, Translation, Unrepresented};

const BLOCK: &str = "SctiesSttlmTxInstr";

/// One of the two settlement chains: its element, and the ISM/1 members of
/// its agent (`Pty1`) and of the party at its end.
#[derive(Debug, Clone, Copy)]
struct Chain {
    name: &'static str,
    agent_member: &'static str,
    agent_role: &'static str,
    end_member: &'static str,
    end_role: &'static str,
}

const DELIVERING: Chain = Chain {
    name: "DlvrgSttlmPties",
    agent_member: "body.delivering_agent",
    agent_role: "delivering agent",
    end_member: "body.seller",
    end_role: "seller",
};

const RECEIVING: Chain = Chain {
    name: "RcvgSttlmPties",
    agent_member: "body.receiving_agent",
    agent_role: "receiving agent",
    end_member: "body.buyer",
    end_role: "buyer",
};

/// The counterparty's chain and the instructing party's own chain.
fn chains(direction: Direction) -> (Chain, Chain) {
    match direction {
        Direction::Deliver => (RECEIVING, DELIVERING),
        Direction::Receive => (DELIVERING, RECEIVING),
    }
}

/// The XML element an ISM/1 member of a refused body came from; the
/// counterparty's agent of a `direction` instruction (ISM-1 §6.1 rule 5) is
/// the counterparty chain's `Pty1`.
fn xml_path(direction: Direction) -> impl Fn(&str) -> Option<String> {
    move |ism: &str| {
        let block = format!("/Document/{BLOCK}");
        let (counterparty, _) = chains(direction);
        let tail = match ism {
            "body.settlement_date" => "TradDtls/SttlmDt".to_string(),
            "body.settlement_amount" => "SttlmAmt".to_string(),
            member if member == counterparty.agent_member => format!("{}/Pty1", counterparty.name),
            _ => return None,
        };
        Some(format!("{block}/{tail}"))
    }
}

/// An optional party (an own agent, the seller, the buyer): one ISM/1
/// cannot hold (given by name and address) is left out rather than refused;
/// what it carries (`LEI`, `SfkpgAcct` and the rest) is listed with it, and
/// its member is withheld, since the message does say who it is.
fn optional_party(
    node: &Node<'_>,
    member: &str,
    role: &str,
    report: &mut Report,
) -> Result<Option<Party>, TranslateError> {
    match common::settlement_party(node, report) {
        Ok(party) => Ok(Some(party)),
        Err(error) if error.code == TranslateCode::NotRepresentable => {
            let at = error.field.unwrap_or_else(|| node.path().to_string());
            report.left_out(&at, format!("{}; the {role} is left out", error.message));
            // The account's structure is checked even though it is not kept.
            node.node("SfkpgAcct", &t::SECURITIES_ACCOUNT_19)?;
            let mut carried = vec!["LEI", "SfkpgAcct"];
            carried.extend(common::SETTLEMENT_PARTY_UNCARRIED);
            common::left_out_children(
                node,
                &carried,
                |name| {
                    format!("the {role} is given by name and address and left out, and its {name} with it")
                },
                report,
            );
            report.withhold(member);
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// The party at the end of a settlement chain after `Pty1` (the seller or
/// the buyer): the highest-numbered of `Pty2`…`Pty5`. The parties between it
/// and `Pty1` are intermediaries, which ISM/1 has no member for: listed as
/// left out (as the MT reader lists `DECU`, `DEI1`…).
fn chain_end(
    parties: Option<&Node<'_>>,
    chain: Chain,
    report: &mut Report,
) -> Result<Option<Party>, TranslateError> {
    let Some(parties) = parties else {
        return Ok(None);
    };
    let mut end: Option<(&str, Option<Party>)> = None;
    for name in ["Pty5", "Pty4", "Pty3", "Pty2"] {
        let Some(party) = parties.node(name, &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196)? else {
            continue;
        };
        match end {
            None => {
                let read = optional_party(&party, chain.end_member, chain.end_role, report)?;
                end = Some((name, read));
            }
            Some((end_name, _)) => report.left_out(
                party.path(),
                format!(
                    "an intermediary of the {} chain, between the {} (Pty1) and the {} ({end_name}); ISM/1 has no member for it",
                    chain.name, chain.agent_role, chain.end_role
                ),
            ),
        }
    }
    Ok(end.and_then(|(_, party)| party))
}

/// A chain's child `name`, checked as `ty`, if the chain is there.
fn in_chain<'a>(
    chain: Option<&Node<'a>>,
    name: &str,
    ty: &'static super::schema::ComplexType,
) -> Result<Option<Node<'a>>, TranslateError> {
    match chain {
        Some(chain) => chain.node(name, ty),
        None => Ok(None),
    }
}

/// Lists what a depository carries besides its BIC.
fn report_depository_extras(depository: &Node<'_>, report: &mut Report) {
    common::left_out_children(
        depository,
        &common::DEPOSITORY_UNCARRIED,
        |name| {
            format!("ISM/1 names the place of settlement by BIC only; the depository's {name} is left out")
        },
        report,
    );
}

/// The place of settlement: the counterparty chain's `Dpstry` (where SMPG
/// places it), else the own chain's. When both chains name one, they must
/// name the same depository (the same office, [`Bic::same_institution`]):
/// written alike, the own one is the same member; written otherwise (with or
/// without the branch `XXX`) its spelling is listed as left out; by country
/// or name it is listed as left out; a different depository — a cross-CSD
/// settlement, each side at its own CSD — is `NOT_REPRESENTABLE`, since an
/// ISM/1 instruction settles at one place.
fn place_of_settlement(
    block: &Node<'_>,
    counterparty_chain: Option<&Node<'_>>,
    own_chain: Option<&Node<'_>>,
    counterparty: Chain,
    report: &mut Report,
) -> Result<Bic, TranslateError> {
    let theirs = in_chain(counterparty_chain, "Dpstry", &t::PARTY_IDENTIFICATION_146)?;
    let ours = in_chain(own_chain, "Dpstry", &t::PARTY_IDENTIFICATION_146)?;
    let (chosen, other) = match (theirs, ours) {
        (Some(theirs), ours) => (theirs, ours),
        (None, Some(ours)) => (ours, None),
        (None, None) => {
            return Err(missing(
                &format!("{}/{}/Dpstry", block.path(), counterparty.name),
                "ISM/1 instructions name the place of settlement (the depository)",
            ))
        }
    };
    let place = common::depository(&chosen)?;
    report_depository_extras(&chosen, report);
    let Some(other) = other else {
        return Ok(place);
    };
    let id = other.required_node(
        "Id",
        &t::PARTY_IDENTIFICATION_122_CHOICE,
        "a depository needs its Id",
    )?;
    if id.chosen() != "AnyBIC" {
        report.left_out(
            &format!("{}/{}", id.path(), id.chosen()),
            format!(
                "the own chain also names its depository, by {}; ISM/1 keeps the place of settlement {place} of {}/Dpstry",
                if id.chosen() == "Ctry" { "country" } else { "name and address" },
                counterparty.name
            ),
        );
    } else {
        let leaf = id.required_leaf("AnyBIC", "")?;
        let own = leaf.ism(Bic::parse)?;
        if !own.same_institution(&place) {
            return Err(not_representable(
                leaf.path(),
                format!(
                    "{}/Dpstry names {place} but this chain's depository is {own}: two places of settlement (a cross-CSD settlement, each side at its own depository) cannot be translated, since an ISM/1 instruction settles at one place",
                    counterparty.name
                ),
            ));
        }
        if own != place {
            report.left_out(
                leaf.path(),
                format!(
                    "the same depository as {}/Dpstry, written {own} rather than {place}; ISM/1 keeps one place of settlement, as the counterparty's chain writes it",
                    counterparty.name
                ),
            );
        }
    }
    report_depository_extras(&other, report);
    Ok(place)
}

/// Reads a sese.023 `Document` into a `SettlementInstruction`; `routing` is
/// the business application header's, if one came with the document.
pub(crate) fn read(
    document: &Node<'_>,
    routing: Option<&Routing>,
    report: &mut Report,
) -> Result<Body, TranslateError> {
    let block = document.required_node(
        BLOCK,
        &t::SECURITIES_SETTLEMENT_TRANSACTION_INSTRUCTION_V11,
        "",
    )?;
    let instruction_id = block.required_leaf("TxId", "")?.ism(Reference::parse)?;

    let params = block.required_node(
        "SttlmTpAndAddtlParams",
        &t::SETTLEMENT_TYPE_AND_ADDITIONAL_PARAMETERS_21,
        "",
    )?;
    let direction = common::direction(&params.required_leaf("SctiesMvmntTp", "")?);
    let payment = common::payment(&params.required_leaf("Pmt", "")?);
    let common_reference = params
        .leaf("CmonId")
        .map(|id| id.ism(Reference::parse))
        .transpose()?;

    let trade = block.required_node("TradDtls", &t::SECURITIES_TRADE_DETAILS_119, "")?;
    let trade_date = common::coded_date(
        &trade.required_node(
            "TradDt",
            &t::TRADE_DATE_8_CHOICE,
            "ISM/1 instructions carry the trade date",
        )?,
        report,
    )?;
    let settlement_date = common::coded_date(
        &trade.required_node("SttlmDt", &t::SETTLEMENT_DATE_17_CHOICE, "")?,
        report,
    )?;
    let place_of_trade = match trade.node("PlcOfTrad", &t::PLACE_OF_TRADE_IDENTIFICATION_1)? {
        Some(place) => match place.node("MktTpAndId", &t::MARKET_IDENTIFICATION_84)? {
            // Only a MIC identifies a market for ISM/1, a description does
            // not; the market type (mandatory) is checked but not kept.
            Some(market) => {
                let kind = market.required_node("Tp", &t::MARKET_TYPE_8_CHOICE, "")?;
                // ISM/1's place_of_trade is an exchange; an OTC or other market
                // type would be relabelled as one, so it is refused.
                if kind.leaf("Cd").map(|code| code.text()) != Some("EXCH") {
                    return Err(not_representable(
                        kind.path(),
                        "ISM/1's place of trade is an exchange (market type EXCH); another market type cannot be translated",
                    ));
                }
                match market.node("Id", &t::MARKET_IDENTIFICATION_1_CHOICE)? {
                    Some(id) => id
                        .leaf("MktIdrCd")
                        .map(|mic| mic.ism(Mic::parse))
                        .transpose()?,
                    None => None,
                }
            }
            None => None,
        },
        None => None,
    };

    let isin =
        common::isin(&block.required_node("FinInstrmId", &t::SECURITY_IDENTIFICATION_19, "")?)?;

    let holding = block.required_node("QtyAndAcctDtls", &t::QUANTITY_AND_ACCOUNT_95, "")?;
    let quantity =
        common::units(&holding.required_node("SttlmQty", &t::QUANTITY_51_CHOICE, "")?)?;
    let stated_owner = holding.node("AcctOwnr", &t::PARTY_IDENTIFICATION_144)?;
    let mut account_owner = match &stated_owner {
        Some(owner) => {
            let id = owner.required_node("Id", &t::PARTY_IDENTIFICATION_127_CHOICE, "")?;
            if owner.has("LEI") {
                // The LEI decides; a BIC given beside it is not carried.
                if let Some(bic) = id.leaf("AnyBIC") {
                    report.left_out(
                        bic.path(),
                        "the account owner is also given by BIC; ISM/1 keeps one identifier, the LEI",
                    );
                }
                Some(common::party_id(owner)?)
            } else if id.chosen() == "PrtryId" {
                // An owner by proprietary code only: ISM/1 (BIC or LEI) cannot
                // hold it, and since the message states an owner, none is derived.
                id.required_node("PrtryId", &t::GENERIC_IDENTIFICATION_36, "")?;
                report.left_out(
                    &format!("{}/PrtryId", id.path()),
                    "ISM/1 names the account owner by BIC or LEI; a proprietary code cannot be carried, so the account owner is left out",
                );
                report.withhold("body.account_owner");
                None
            } else {
                Some(common::party_id(owner)?)
            }
        }
        None => None,
    };
    let safekeeping_account = common::account_id(&holding.required_node(
        "SfkpgAcct",
        &t::SECURITIES_ACCOUNT_19,
        "ISM/1 instructions name the safekeeping account",
    )?)?;

    let settlement = block.required_node("SttlmParams", &t::SETTLEMENT_DETAILS_201, "")?;
    // SctiesTxTp is mandatory (checked by the content model, its code list
    // too). ISM/1 instructions are trades: a repo, a collateral movement or a
    // corporate action is not silently turned into one.
    let transaction =
        settlement.required_node("SctiesTxTp", &t::SECURITIES_TRANSACTION_TYPE_47_CHOICE, "")?;
    if transaction.leaf("Cd").map(|code| code.text()) != Some("TRAD") {
        return Err(not_representable(
            transaction.path(),
            "ISM/1 settles trades (SctiesTxTp TRAD); other transaction types cannot be translated",
        ));
    }
    // A held instruction must not settle as if released.
    if let Some(hold) = settlement
        .element()
        .children
        .iter()
        .find(|child| child.name == "HldInd")
    {
        let held = hold
            .children
            .iter()
            .any(|child| child.name == "Ind" && matches!(child.text.trim(), "true" | "1"));
        if held {
            return Err(not_representable(
                &format!("{}/HldInd", settlement.path()),
                "the instruction is on hold (HldInd true); ISM/1 has no hold, so it cannot be translated until released",
            ));
        }
    }

    let delivering = block.node("DlvrgSttlmPties", &t::SETTLEMENT_PARTIES_100)?;
    let receiving = block.node("RcvgSttlmPties", &t::SETTLEMENT_PARTIES_100)?;
    let (counterparty, own) = chains(direction);
    let (counterparty_chain, own_chain) = match direction {
        Direction::Deliver => (receiving.as_ref(), delivering.as_ref()),
        Direction::Receive => (delivering.as_ref(), receiving.as_ref()),
    };
    // ISM-1 §6.1 rule 5: the counterparty's agent is what the other side
    // matches against; nothing in the routing can stand in for it. Its
    // absence is left to ISM/1 decoding below, so that rules 1–4 are
    // reported first, as for a body in JSON; one given by name is refused.
    let counterparty_agent = match in_chain(
        counterparty_chain,
        "Pty1",
        &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196,
    )? {
        Some(node) => Some(common::settlement_party(&node, report)?),
        None => None,
    };
    let own_pty1 = in_chain(own_chain, "Pty1", &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196)?;
    let mut own_agent = match &own_pty1 {
        Some(node) => optional_party(node, own.agent_member, own.agent_role, report)?,
        None => None,
    };
    let seller = chain_end(delivering.as_ref(), DELIVERING, report)?;
    let buyer = chain_end(receiving.as_ref(), RECEIVING, report)?;
    let place_of_settlement =
        place_of_settlement(&block, counterparty_chain, own_chain, counterparty, report)?;

    // The own side the message leaves implied, from its routing (implied.rs).
    if let Some(routing) = routing {
        if stated_owner.is_none() {
            account_owner = implied::account_owner(routing, report);
        }
        if own_pty1.is_none() {
            own_agent = implied::own_agent(routing, direction, &place_of_settlement, report);
        }
    }
    let (delivering_agent, receiving_agent) = match direction {
        Direction::Deliver => (own_agent, counterparty_agent),
        Direction::Receive => (counterparty_agent, own_agent),
    };

    let settlement_amount = match block.node("SttlmAmt", &t::AMOUNT_AND_DIRECTION_94)? {
        Some(amount) => {
            let (money, indicator) = common::amount_and_direction(&amount)?;
            common::check_credit_debit(&indicator, direction)?;
            Some(money)
        }
        None => None,
    };

    let data = supplementary::find(&block, &supplementary::INSTRUCTION_DATA)?;
    let securities_market = data
        .as_ref()
        .and_then(|data| data.leaf("SctiesMkt"))
        .map(|leaf| leaf.ism(Mic::parse))
        .transpose()?;
    let cash_market = data.as_ref().and_then(|data| data.leaf("CshMkt"));
    let cash = cash::read(
        &block,
        &holding,
        direction,
        payment,
        cash_market.as_ref(),
        report,
    )?;

    let instruction = SettlementInstruction {
        instruction_id,
        common_reference,
        direction,
        payment,
        trade_date,
        settlement_date,
        isin,
        quantity,
        settlement_amount,
        account_owner,
        safekeeping_account,
        securities_market,
        cash,
        delivering_agent,
        receiving_agent,
        seller,
        buyer,
        place_of_settlement,
        place_of_trade,
    };
    common::checked(
        Body::SettlementInstruction(instruction),
        xml_path(direction),
    )
}

/// Writes a `SettlementInstruction` as a sese.023 document. Every member has
/// an element (the markets in supplementary data); only a cash account over
/// 34 characters cannot be written (`cash.rs`) and is reported.
pub(crate) fn write(
    instruction: &SettlementInstruction,
) -> Result<Translation<Vec<u8>>, TranslateError> {
    let mut unrepresented: Vec<Unrepresented> = Vec::new();
    let mut w = XmlWriter::document(Message::Sese023.namespace())?;
    w.element(BLOCK, |w| {
        w.leaf("TxId", instruction.instruction_id.as_str())?;
        w.element("SttlmTpAndAddtlParams", |w| {
            w.leaf(
                "SctiesMvmntTp",
                common::movement_code(instruction.direction),
            )?;
            w.leaf("Pmt", common::payment_code(instruction.payment))?;
            if let Some(reference) = &instruction.common_reference {
                w.leaf("CmonId", reference.as_str())?;
            }
            Ok(())
        })?;
        w.element("TradDtls", |w| {
            if let Some(mic) = &instruction.place_of_trade {
                w.element("PlcOfTrad", |w| {
                    w.element("MktTpAndId", |w| {
                        w.element("Id", |w| w.leaf("MktIdrCd", mic.as_str()))?;
                        w.element("Tp", |w| w.leaf("Cd", "EXCH"))
                    })
                })?;
            }
            common::write_coded_date(w, "TradDt", &instruction.trade_date)?;
            common::write_coded_date(w, "SttlmDt", &instruction.settlement_date)
        })?;
        common::write_isin(w, &instruction.isin)?;
        w.element("QtyAndAcctDtls", |w| {
            common::write_units(w, "SttlmQty", &instruction.quantity)?;
            if let Some(owner) = &instruction.account_owner {
                common::write_party_id(w, "AcctOwnr", owner)?;
            }
            common::write_account(w, &instruction.safekeeping_account)?;
            cash::write_account(w, instruction.cash.as_ref(), &mut unrepresented)
        })?;
        common::write_trade_settlement_params(w)?;
        w.element("DlvrgSttlmPties", |w| {
            common::write_depository(w, &instruction.place_of_settlement)?;
            if let Some(agent) = &instruction.delivering_agent {
                common::write_settlement_party(w, "Pty1", agent)?;
            }
            if let Some(seller) = &instruction.seller {
                common::write_settlement_party(w, "Pty2", seller)?;
            }
            Ok(())
        })?;
        w.element("RcvgSttlmPties", |w| {
            common::write_depository(w, &instruction.place_of_settlement)?;
            if let Some(agent) = &instruction.receiving_agent {
                common::write_settlement_party(w, "Pty1", agent)?;
            }
            if let Some(buyer) = &instruction.buyer {
                common::write_settlement_party(w, "Pty2", buyer)?;
            }
            Ok(())
        })?;
        cash::write_parties(w, instruction, &mut unrepresented)?;
        // Present exactly for AGAINST_PAYMENT (an ISM/1 rule checked before writing).
        if let Some(money) = &instruction.settlement_amount {
            common::write_amount(w, "SttlmAmt", money, instruction.direction)?;
        }
        let cash_market = instruction.cash.as_ref().and_then(|c| c.market.as_ref());
        if instruction.securities_market.is_some() || cash_market.is_some() {
            supplementary::write(w, BLOCK, |w| {
                if let Some(market) = &instruction.securities_market {
                    w.leaf("SctiesMkt", market.as_str())?;
                }
                if let Some(market) = cash_market {
                    w.leaf("CshMkt", market.as_str())?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(Translation::lossy(w.finish()?, unrepresented))
}
