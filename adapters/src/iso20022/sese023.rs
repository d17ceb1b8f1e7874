//! sese.023.001.11 SecuritiesSettlementTransactionInstructionV11 ↔ ISM/1
//! `SettlementInstruction`.
//!
//! | ISM/1 member | `/Document/SctiesSttlmTxInstr/…` |
//! | --- | --- |
//! | `instruction_id` | `TxId` |
//! | `common_reference` | `SttlmTpAndAddtlParams/CmonId` |
//! | `direction` | `SttlmTpAndAddtlParams/SctiesMvmntTp` (`DELI`, `RECE`) |
//! | `payment` | `SttlmTpAndAddtlParams/Pmt` (`APMT`, `FREE`) |
//! | `trade_date` | `TradDtls/TradDt/Dt/Dt`, or the date of `TradDtls/TradDt/Dt/DtTm` |
//! | `settlement_date` | `TradDtls/SttlmDt/Dt/Dt` (or `…/DtTm`) |
//! | `place_of_trade` | `TradDtls/PlcOfTrad/MktTpAndId/Id/MktIdrCd` (with `Tp/Cd` `EXCH`) |
//! | `isin` | `FinInstrmId/ISIN` |
//! | `quantity` | `QtyAndAcctDtls/SttlmQty/Qty/Unit` |
//! | `account_owner` | `QtyAndAcctDtls/AcctOwnr` (`Id/AnyBIC`, or `LEI`); optional, as in the schema (an owner by `Id/PrtryId` alone is left out and reported) |
//! | `safekeeping_account` | `QtyAndAcctDtls/SfkpgAcct/Id` |
//! | `securities_market` | `SplmtryData/Envlp/IsmData/SctiesMkt` (`supplementary.rs`) |
//! | `cash` | `QtyAndAcctDtls/CshAcct`, `CshPties`, `IsmData/CshMkt` (`cash.rs`) |
//! | `place_of_settlement` | `DlvrgSttlmPties/Dpstry/Id/AnyBIC` and `RcvgSttlmPties/Dpstry/Id/AnyBIC` |
//! | `delivering_agent` | `DlvrgSttlmPties/Pty1` (`Id/AnyBIC` or `Id/PrtryId` {`Id`, `Issr`, `SchmeNm`}, `LEI`, `SfkpgAcct/Id`) |
//! | `seller` | `DlvrgSttlmPties/Pty2` |
//! | `receiving_agent` | `RcvgSttlmPties/Pty1` |
//! | `buyer` | `RcvgSttlmPties/Pty2` |
//! | `settlement_amount` | `SttlmAmt/Amt` (`Ccy`), with `CdtDbtInd` `CRDT` to deliver, `DBIT` to receive |
//!
//! Written always: `SttlmParams/SctiesTxTp/Cd` `TRAD` (mandatory; ISM/1 settles trades).
//!
//! Parties: every settlement party (`Pty1`…`Pty5`) is read by BIC
//! (`Id/AnyBIC`) or by proprietary code (`Id/PrtryId`: a DTC participant
//! number issued by `DTCYID`, a CREST id by `CRST`, a Euroclear or
//! Clearstream participant account by `ECLR` or `CEDE`…), and written the
//! same way. A party known only by name (`Id/NmAndAdr`) has no ISM/1 form:
//! the counterparty's agent is then refused (`NOT_REPRESENTABLE`), while an
//! own agent, seller or buyer so given is left out and reported.
//!
//! Settlement chains (SMPG): `Pty1` is the agent facing the depository and
//! each further party faces the one before; the seller (buyer) is the end of
//! the delivering (receiving) chain. Isthmus writes it as `Pty2`; reading
//! takes the highest-numbered party after `Pty1` as the seller or buyer.
//! The place of settlement is written in both chains; reading takes the
//! counterparty's chain first (the receiving chain of a delivery, the
//! delivering chain of a receipt), as SMPG places it, then the other.
//!
//! The counterparty's side must be there: a DELIVER without
//! `RcvgSttlmPties/Pty1` or a RECEIVE without `DlvrgSttlmPties/Pty1` is
//! refused with `COUNTERPARTY_REQUIRED` at that element (ISM-1 §6.1 rule 5),
//! and the place of settlement with `XML_ELEMENT_MISSING` (or
//! `NOT_REPRESENTABLE` for a depository given by country). The instructing
//! party's own side — `AcctOwnr`, its own chain, its own `Pty1` — may be
//! left implied, as market practice does; what the business application
//! header implies is derived and reported (`implied.rs`).

use isthmus_spec::body::{Direction, Party, SettlementInstruction};
use isthmus_spec::ident::{Bic, Mic};
use isthmus_spec::ids::Reference;
use isthmus_spec::{Body, ReasonCode};

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

/// The XML element an ISM/1 member of a refused body came from.
fn xml_path(ism: &str) -> Option<String> {
    let block = format!("/Document/{BLOCK}");
    let tail = match ism {
        "body.settlement_date" => "TradDtls/SttlmDt",
        "body.settlement_amount" => "SttlmAmt",
        _ => return None,
    };
    Some(format!("{block}/{tail}"))
}

/// An optional party: one ISM/1 cannot hold (given by name) is left out
/// and reported rather than refused.
fn optional_party(
    node: &Node<'_>,
    role: &str,
    report: &mut Report,
) -> Result<Option<Party>, TranslateError> {
    match common::settlement_party(node) {
        Ok(party) => Ok(Some(party)),
        Err(error) if error.code == TranslateCode::NotRepresentable => {
            let at = error.field.unwrap_or_else(|| node.path().to_string());
            report.left_out(&at, format!("{}; the {role} is left out", error.message));
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// The party at the end of a settlement chain after `Pty1`, if any.
fn chain_end(
    parties: Option<&Node<'_>>,
    role: &str,
    report: &mut Report,
) -> Result<Option<Party>, TranslateError> {
    let Some(parties) = parties else {
        return Ok(None);
    };
    for name in ["Pty5", "Pty4", "Pty3", "Pty2"] {
        if let Some(party) = parties.node(name, &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196)? {
            return optional_party(&party, role, report);
        }
    }
    Ok(None)
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
        "body.trade_date",
        report,
    )?;
    let settlement_date = common::coded_date(
        &trade.required_node("SttlmDt", &t::SETTLEMENT_DATE_17_CHOICE, "")?,
        "body.settlement_date",
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
    let (counterparty_chain, own_chain, counterparty_name, counterparty_role) = match direction {
        Direction::Deliver => (&receiving, &delivering, "RcvgSttlmPties", "receiving agent"),
        Direction::Receive => (
            &delivering,
            &receiving,
            "DlvrgSttlmPties",
            "delivering agent",
        ),
    };
    // ISM-1 §6.1 rule 5: the counterparty's agent is what the other side
    // matches against; nothing in the routing can stand in for it.
    let counterparty_agent = match counterparty_chain {
        Some(chain) => chain.node("Pty1", &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196)?,
        None => None,
    };
    let Some(counterparty_agent) = counterparty_agent else {
        return Err(TranslateError::at(
            TranslateCode::Ism(ReasonCode::CounterpartyRequired),
            format!("{}/{counterparty_name}/Pty1", block.path()),
            format!(
                "a {} instruction must name the counterparty's {counterparty_role} ({counterparty_name}/Pty1); this one does not, and its routing cannot say who the counterparty is",
                common::movement_code(direction)
            ),
        ));
    };
    let counterparty_agent = common::settlement_party(&counterparty_agent)?;
    let own_pty1 = match own_chain {
        Some(chain) => chain.node("Pty1", &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196)?,
        None => None,
    };
    let own_role = match direction {
        Direction::Deliver => "delivering agent",
        Direction::Receive => "receiving agent",
    };
    let mut own_agent = match &own_pty1 {
        Some(node) => optional_party(node, own_role, report)?,
        None => None,
    };
    let seller = chain_end(delivering.as_ref(), "seller", report)?;
    let buyer = chain_end(receiving.as_ref(), "buyer", report)?;
    let depository = |chain: &Option<Node<'_>>| -> Result<Option<Bic>, TranslateError> {
        match chain {
            Some(chain) => chain
                .node("Dpstry", &t::PARTY_IDENTIFICATION_146)?
                .map(|depository| common::depository(&depository))
                .transpose(),
            None => Ok(None),
        }
    };
    let place_of_settlement: Bic = match depository(counterparty_chain)? {
        Some(bic) => bic,
        None => match depository(own_chain)? {
            Some(bic) => bic,
            None => {
                return Err(missing(
                    &format!("{}/{counterparty_name}/Dpstry", block.path()),
                    "ISM/1 instructions name the place of settlement (the depository)",
                ))
            }
        },
    };

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
        Direction::Deliver => (own_agent, Some(counterparty_agent)),
        Direction::Receive => (Some(counterparty_agent), own_agent),
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
    common::checked(Body::SettlementInstruction(instruction), xml_path)
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
