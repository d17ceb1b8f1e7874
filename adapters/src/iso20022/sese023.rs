//! sese.023.001.11 SecuritiesSettlementTransactionInstructionV11 ↔ ISM/1
//! `SettlementInstruction`.
//!
//! | ISM/1 member | `/Document/SctiesSttlmTxInstr/…` |
//! | --- | --- |
//! | `instruction_id` | `TxId` |
//! | `common_reference` | `SttlmTpAndAddtlParams/CmonId` |
//! | `direction` | `SttlmTpAndAddtlParams/SctiesMvmntTp` (`DELI`, `RECE`) |
//! | `payment` | `SttlmTpAndAddtlParams/Pmt` (`APMT`, `FREE`) |
//! | `trade_date` | `TradDtls/TradDt/Dt/Dt` |
//! | `settlement_date` | `TradDtls/SttlmDt/Dt/Dt` |
//! | `place_of_trade` | `TradDtls/PlcOfTrad/MktTpAndId/Id/MktIdrCd` (with `Tp/Cd` `EXCH`) |
//! | `isin` | `FinInstrmId/ISIN` |
//! | `quantity` | `QtyAndAcctDtls/SttlmQty/Qty/Unit` |
//! | `account_owner` | `QtyAndAcctDtls/AcctOwnr` (`Id/AnyBIC`, or `LEI`) |
//! | `safekeeping_account` | `QtyAndAcctDtls/SfkpgAcct/Id` |
//! | `place_of_settlement` | `DlvrgSttlmPties/Dpstry/Id/AnyBIC` and `RcvgSttlmPties/Dpstry/Id/AnyBIC` |
//! | `delivering_agent` | `DlvrgSttlmPties/Pty1` (`Id/AnyBIC`, `LEI`, `SfkpgAcct/Id`) |
//! | `seller` | `DlvrgSttlmPties/Pty2` |
//! | `receiving_agent` | `RcvgSttlmPties/Pty1` |
//! | `buyer` | `RcvgSttlmPties/Pty2` |
//! | `settlement_amount` | `SttlmAmt/Amt` (`Ccy`), with `CdtDbtInd` `CRDT` to deliver, `DBIT` to receive |
//!
//! Written always: `SttlmParams/SctiesTxTp/Cd` `TRAD` (mandatory; ISM/1 settles trades).
//!
//! Settlement chains (SMPG): `Pty1` is the agent facing the depository and
//! each further party faces the one before; the seller (buyer) is the end of
//! the delivering (receiving) chain. Isthmus writes it as `Pty2`; reading
//! takes the highest-numbered party after `Pty1` as the seller or buyer.
//! The place of settlement is written in both chains; reading takes the
//! counterparty's chain first (the receiving chain of a delivery, the
//! delivering chain of a receipt), as SMPG places it, then the other.

use isthmus_spec::body::{Direction, Party, SettlementInstruction};
use isthmus_spec::ident::{Bic, Mic};
use isthmus_spec::ids::Reference;
use isthmus_spec::Body;

use super::common;
use super::read::{missing, not_representable, Node};
use super::schema::Message;
use super::schema_tables as t;
use super::write::XmlWriter;
use crate::error::{TranslateError, Translation};

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

/// The party at the end of a settlement chain after `Pty1`, if any.
fn chain_end(parties: &Node<'_>) -> Result<Option<Party>, TranslateError> {
    for name in ["Pty5", "Pty4", "Pty3", "Pty2"] {
        if let Some(party) = parties.node(name, &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196)? {
            return common::settlement_party(&party).map(Some);
        }
    }
    Ok(None)
}

/// Reads a sese.023 `Document` into a `SettlementInstruction`.
pub(crate) fn read(document: &Node<'_>) -> Result<Body, TranslateError> {
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
    let trade_date = common::coded_date(&trade.required_node(
        "TradDt",
        &t::TRADE_DATE_8_CHOICE,
        "ISM/1 instructions carry the trade date",
    )?)?;
    let settlement_date =
        common::coded_date(&trade.required_node("SttlmDt", &t::SETTLEMENT_DATE_17_CHOICE, "")?)?;
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
    let account_owner = common::party_id(&holding.required_node(
        "AcctOwnr",
        &t::PARTY_IDENTIFICATION_144,
        "ISM/1 instructions name the account owner",
    )?)?;
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

    let chains = "ISM/1 instructions name both settlement agents and the place of settlement";
    let delivering = block.required_node("DlvrgSttlmPties", &t::SETTLEMENT_PARTIES_100, chains)?;
    let receiving = block.required_node("RcvgSttlmPties", &t::SETTLEMENT_PARTIES_100, chains)?;
    let delivering_agent = common::settlement_party(&delivering.required_node(
        "Pty1",
        &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196,
        "ISM/1 instructions name the delivering agent",
    )?)?;
    let receiving_agent = common::settlement_party(&receiving.required_node(
        "Pty1",
        &t::PARTY_IDENTIFICATION_AND_ACCOUNT_196,
        "ISM/1 instructions name the receiving agent",
    )?)?;
    let seller = chain_end(&delivering)?;
    let buyer = chain_end(&receiving)?;
    let (counterparty_chain, own_chain) = match direction {
        Direction::Deliver => (&receiving, &delivering),
        Direction::Receive => (&delivering, &receiving),
    };
    let place_of_settlement: Bic =
        match counterparty_chain.node("Dpstry", &t::PARTY_IDENTIFICATION_146)? {
            Some(depository) => common::depository(&depository)?,
            None => match own_chain.node("Dpstry", &t::PARTY_IDENTIFICATION_146)? {
                Some(depository) => common::depository(&depository)?,
                None => {
                    return Err(missing(
                        &format!("{}/Dpstry", counterparty_chain.path()),
                        "ISM/1 instructions name the place of settlement (the depository)",
                    ))
                }
            },
        };

    let settlement_amount = match block.node("SttlmAmt", &t::AMOUNT_AND_DIRECTION_94)? {
        Some(amount) => {
            let (money, indicator) = common::amount_and_direction(&amount)?;
            common::check_credit_debit(&indicator, direction)?;
            Some(money)
        }
        None => None,
    };

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
        account_owner: Some(account_owner),
        safekeeping_account,
        securities_market: None,
        cash: None,
        delivering_agent: Some(delivering_agent),
        receiving_agent: Some(receiving_agent),
        seller,
        buyer,
        place_of_settlement,
        place_of_trade,
    };
    common::checked(Body::SettlementInstruction(instruction), xml_path)
}

/// Writes a `SettlementInstruction` as a sese.023 document. Every member has
/// an element, so nothing is ever unrepresented.
pub(crate) fn write(
    instruction: &SettlementInstruction,
) -> Result<Translation<Vec<u8>>, TranslateError> {
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
            common::write_account(w, &instruction.safekeeping_account)
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
        // Present exactly for AGAINST_PAYMENT (an ISM/1 rule checked before writing).
        if let Some(money) = &instruction.settlement_amount {
            common::write_amount(w, "SttlmAmt", money, instruction.direction)?;
        }
        Ok(())
    })?;
    let mut unrepresented = Vec::new();
    if instruction.securities_market.is_some() {
        unrepresented.push(crate::error::Unrepresented {
            field: "body.securities_market".into(),
            reason: "not yet written to ISO 20022".into(),
        });
    }
    if instruction.cash.is_some() {
        unrepresented.push(crate::error::Unrepresented {
            field: "body.cash".into(),
            reason: "not yet written to ISO 20022".into(),
        });
    }
    Ok(Translation::lossy(w.finish()?, unrepresented))
}
