//! sese.025.001.11 SecuritiesSettlementTransactionConfirmationV11 ↔ ISM/1
//! `SettlementConfirmation`.
//!
//! | ISM/1 member | `/Document/SctiesSttlmTxConf/…` |
//! | --- | --- |
//! | `instruction_id` | `TxIdDtls/AcctOwnrTxId` (the account owner's id of the transaction: its instruction's `TxId`) |
//! | `settlement_id` | `TxIdDtls/MktInfrstrctrTxId` (the relay is the market infrastructure that settled) |
//! | `direction` | `TxIdDtls/SctiesMvmntTp` |
//! | `payment` | `TxIdDtls/Pmt` |
//! | `settlement_date` | `TradDtls/SttlmDt/Dt/Dt`, or the date of `TradDtls/SttlmDt/Dt/DtTm` as written (its time of day left out and reported) |
//! | `settled_at` | `TradDtls/FctvSttlmDt/Dt/DtTm` (UTC; an offset converted exactly; a time without a zone read as UTC and reported as derived); a date alone (`FctvSttlmDt/Dt/Dt`) is read as its midnight UTC and reported as derived, as MT reads `:98A::ESET//` |
//! | `isin` | `FinInstrmId/ISIN` |
//! | `quantity` | `QtyAndAcctDtls/SttldQty/Qty/Unit` |
//! | `settlement_amount` | `SttldAmt/Amt` (`Ccy`), `CdtDbtInd` `CRDT` to deliver, `DBIT` to receive |
//! | `securities_journal` | `SplmtryData/Envlp/IsmData/SctiesJrnl` (`Mkt`, `Seq`, `NtryHash`) |
//! | `cash_journal` | `SplmtryData/Envlp/IsmData/CshJrnl` |
//!
//! Written always: `SttlmParams/SctiesTxTp/Cd` `TRAD` (mandatory).
//!
//! No ISO 20022 element of sese.025 can hold a journal reference (a MIC, a
//! sequence number and a 64-digit hash do not fit a `Max35Text` id such as
//! `PrcrTxId`), so they travel in the message's supplementary data; a
//! confirmation written elsewhere without them cannot become ISM/1, which
//! requires the securities journal (`XML_ELEMENT_MISSING`).

use isthmus_spec::body::SettlementConfirmation;
use isthmus_spec::ids::Reference;
use isthmus_spec::Body;

use super::common;
use super::read::{missing, not_representable, Node};
use super::report::Report;
use super::schema::Message;
use super::schema_tables as t;
use super::supplementary;
use super::write::XmlWriter;
use isthmus_spec::time::Timestamp;

use crate::error::{TranslateError, Translation, DATE_ONLY_AS_MIDNIGHT_UTC};

const BLOCK: &str = "SctiesSttlmTxConf";

/// Reads a sese.025 `Document` into a `SettlementConfirmation`.
pub(crate) fn read(document: &Node<'_>, report: &mut Report) -> Result<Body, TranslateError> {
    let block = document.required_node(
        BLOCK,
        &t::SECURITIES_SETTLEMENT_TRANSACTION_CONFIRMATION_V11,
        "",
    )?;
    let ids = block.required_node("TxIdDtls", &t::SETTLEMENT_TYPE_AND_IDENTIFICATION_27, "")?;
    let instruction_id = ids
        .required_leaf("AcctOwnrTxId", "")?
        .ism(Reference::parse)?;
    let settlement_id = ids
        .required_leaf(
            "MktInfrstrctrTxId",
            "ISM/1 confirmations carry the settlement id, the market infrastructure's transaction id",
        )?
        .ism(Reference::parse)?;
    let direction = common::direction(&ids.required_leaf("SctiesMvmntTp", "")?);
    let payment = common::payment(&ids.required_leaf("Pmt", "")?);

    let trade = block.required_node("TradDtls", &t::SECURITIES_TRADE_DETAILS_118, "")?;
    let settlement_date = common::coded_date(
        &trade.required_node(
            "SttlmDt",
            &t::SETTLEMENT_DATE_17_CHOICE,
            "ISM/1 confirmations carry the settlement date",
        )?,
        report,
    )?;
    let effective = trade.required_node("FctvSttlmDt", &t::SETTLEMENT_DATE_18_CHOICE, "")?;
    if effective.chosen() != "Dt" {
        return Err(not_representable(
            &format!("{}/{}", effective.path(), effective.chosen()),
            "ISM/1 needs the instant of settlement, not a date code",
        ));
    }
    let effective = effective.chosen_node(&t::DATE_AND_DATE_TIME_2_CHOICE)?;
    let settled_at = match effective.leaf("DtTm") {
        Some(instant) => {
            let (settled_at, zone) = instant.instant()?;
            report.zone("body.settled_at", &instant, zone);
            settled_at
        }
        None => {
            // ISM/1 needs an instant; a date alone is read as its midnight UTC
            // and reported as derived, as the MT reader does for `:98A::ESET//`.
            let day = effective.required_leaf("Dt", "the effective settlement date")?;
            let date = day.date()?;
            report.derived("body.settled_at", day.path(), DATE_ONLY_AS_MIDNIGHT_UTC);
            Timestamp::parse(&format!("{date}T00:00:00Z"))
                .map_err(|r| TranslateError::from_rejection(r, day.path()))?
        }
    };

    let isin =
        common::isin(&block.required_node("FinInstrmId", &t::SECURITY_IDENTIFICATION_19, "")?)?;
    let holding = block.required_node("QtyAndAcctDtls", &t::QUANTITY_AND_ACCOUNT_96, "")?;
    let quantity =
        common::units(&holding.required_node("SttldQty", &t::QUANTITY_51_CHOICE, "")?)?;
    let settlement = block.required_node("SttlmParams", &t::SETTLEMENT_DETAILS_203, "")?;
    settlement.required_node("SctiesTxTp", &t::SECURITIES_TRANSACTION_TYPE_43_CHOICE, "")?;

    let settlement_amount = match block.node("SttldAmt", &t::AMOUNT_AND_DIRECTION_94)? {
        Some(amount) => {
            let (money, indicator) = common::amount_and_direction(&amount)?;
            common::check_credit_debit(&indicator, direction)?;
            Some(money)
        }
        None => None,
    };

    let data = supplementary::find(&block, &supplementary::CONFIRMATION_DATA)?.ok_or_else(|| {
        missing(
            &format!("{}/SplmtryData", block.path()),
            format!(
                "ISM/1 confirmations carry the ledger journal references, in supplementary data <{}> of namespace {}",
                supplementary::ROOT,
                supplementary::NAMESPACE
            ),
        )
    })?;
    let securities_journal =
        supplementary::journal(&data.required_node("SctiesJrnl", &supplementary::JOURNAL, "")?)?;
    let cash_journal = data
        .node("CshJrnl", &supplementary::JOURNAL)?
        .map(|journal| supplementary::journal(&journal))
        .transpose()?;
    let journal_path = data.path().to_string();

    let confirmation = SettlementConfirmation {
        instruction_id,
        settlement_id,
        direction,
        payment,
        isin,
        quantity,
        settlement_amount,
        settlement_date,
        settled_at,
        securities_journal,
        cash_journal,
    };
    let block_path = block.path().to_string();
    common::checked(
        Body::SettlementConfirmation(confirmation),
        |ism| match ism {
            "body.settlement_amount" => Some(format!("{block_path}/SttldAmt")),
            "body.cash_journal" => Some(format!("{journal_path}/CshJrnl")),
            _ => None,
        },
    )
}

/// Writes a `SettlementConfirmation` as a sese.025 document; nothing is
/// unrepresented.
pub(crate) fn write(
    confirmation: &SettlementConfirmation,
) -> Result<Translation<Vec<u8>>, TranslateError> {
    let mut w = XmlWriter::document(Message::Sese025.namespace())?;
    w.element(BLOCK, |w| {
        w.element("TxIdDtls", |w| {
            w.leaf("AcctOwnrTxId", confirmation.instruction_id.as_str())?;
            w.leaf("MktInfrstrctrTxId", confirmation.settlement_id.as_str())?;
            w.leaf(
                "SctiesMvmntTp",
                common::movement_code(confirmation.direction),
            )?;
            w.leaf("Pmt", common::payment_code(confirmation.payment))
        })?;
        w.element("TradDtls", |w| {
            common::write_coded_date(w, "SttlmDt", &confirmation.settlement_date)?;
            w.element("FctvSttlmDt", |w| {
                w.element("Dt", |w| w.leaf("DtTm", confirmation.settled_at.as_str()))
            })
        })?;
        common::write_isin(w, &confirmation.isin)?;
        w.element("QtyAndAcctDtls", |w| {
            common::write_units(w, "SttldQty", &confirmation.quantity)
        })?;
        common::write_trade_settlement_params(w)?;
        if let Some(money) = &confirmation.settlement_amount {
            common::write_amount(w, "SttldAmt", money, confirmation.direction)?;
        }
        supplementary::write(w, BLOCK, |w| {
            supplementary::write_journal(w, "SctiesJrnl", &confirmation.securities_journal)?;
            if let Some(journal) = &confirmation.cash_journal {
                supplementary::write_journal(w, "CshJrnl", journal)?;
            }
            Ok(())
        })
    })?;
    Ok(Translation::lossless(w.finish()?))
}
