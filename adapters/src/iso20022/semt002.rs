//! semt.002.001.11 SecuritiesBalanceCustodyReportV11 ↔ ISM/1 `HoldingsStatement`.
//!
//! | ISM/1 member | `/Document/SctiesBalCtdyRpt/…` |
//! | --- | --- |
//! | `statement_id` | `StmtGnlDtls/StmtId` |
//! | `as_of` | `StmtGnlDtls/StmtDtTm/DtTm` (UTC; an offset converted exactly; a time without a zone read as UTC and reported as derived) |
//! | `market` | `AcctSvcr/Id/PrtryId` with `Id` the MIC, `Issr` `ISO 10383`, `SchmeNm` `MIC` (the ledger that services the account) |
//! | `account.owner` | `AcctOwnr` (`Id/AnyBIC`, or `LEI`) |
//! | `account.account` | `SfkpgAcct/Id` |
//! | `balances[i].isin` | `BalForAcct[i+1]/FinInstrmId/ISIN` |
//! | `balances[i].total` | `BalForAcct[i+1]/AggtBal/Qty/Qty/Qty/Unit` (with `ShrtLngInd` `LONG`) |
//! | `balances[i].locked` | `BalForAcct[i+1]/AddtlBalBrkdwn` whose `SubBalTp/Prtry/Id` is `LOCK` (issuer `ISTHMUS`): `Qty/Qty/Qty/Unit` |
//!
//! Written always, as ISM/1 statements are: one page (`Pgntn` `1`, last
//! page), ad hoc (`Frqcy/Cd` `ADHO`), complete (`UpdTp/Cd` `COMP`), of
//! settled positions (`StmtBsis/Cd` `SETT`), no sub-accounts
//! (`SubAcctInd` `false`); `ActvtyInd` is `true` when there is a balance.
//!
//! Refused when read, because the ISM/1 statement would be wrong or partial:
//! a page other than a single last page, a delta statement (`DELT`),
//! balances by sub-account, a short position, quantities not in units, a
//! statement time without time of day (all `NOT_REPRESENTABLE`). Balances
//! are sorted by ISIN, which ISM/1 requires and semt.002 leaves free.

use isthmus_spec::body::{AccountRef, Balance, HoldingsStatement};
use isthmus_spec::decimal::Quantity;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::Reference;
use isthmus_spec::Body;

use super::common;
use super::read::{missing, not_representable, Node};
use super::report::Report;
use super::schema::Message;
use super::schema_tables as t;
use super::write::XmlWriter;
use crate::error::{TranslateError, Translation};

const BLOCK: &str = "SctiesBalCtdyRpt";

/// `SubBalTp/Prtry/Id` of the locked part of a balance.
const LOCKED: &str = "LOCK";
/// `SubBalTp/Prtry/Issr` of [`LOCKED`].
const LOCKED_ISSUER: &str = "ISTHMUS";
/// `AcctSvcr/Id/PrtryId/SchmeNm` of a market named by MIC.
const MIC_SCHEME: &str = "MIC";
/// `AcctSvcr/Id/PrtryId/Issr` of a market named by MIC.
const MIC_ISSUER: &str = "ISO 10383";

/// Checks the statement is one whole, complete statement.
fn check_whole(block: &Node<'_>) -> Result<(), TranslateError> {
    let pages = block.required_node("Pgntn", &t::PAGINATION_1, "")?;
    let page = pages.required_leaf("PgNb", "")?;
    let last = pages.required_leaf("LastPgInd", "")?.boolean()?;
    // Max5NumericText: [0-9]{1,5}.
    let digits = page.text();
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(super::read::invalid(
            page.path(),
            format!(
                "{} is not a page number of 1 to 5 digits",
                isthmus_spec::quote::quoted(digits)
            ),
        ));
    }
    let number = digits.trim_start_matches('0');
    if number != "1" || !last {
        return Err(not_representable(
            pages.path(),
            format!(
                "this is page {} of a statement{}; ISM/1 carries whole statements only",
                page.text(),
                if last { "" } else { " that continues" }
            ),
        ));
    }
    let general = block.required_node("StmtGnlDtls", &t::STATEMENT_73, "")?;
    let update = general.required_node("UpdTp", &t::UPDATE_TYPE_15_CHOICE, "")?;
    if update.leaf("Cd").map(|code| code.text()) != Some("COMP") {
        return Err(not_representable(
            update.path(),
            "ISM/1 statements list every holding; a delta or proprietary update type cannot be translated",
        ));
    }
    // Code lists of Frqcy and StmtBsis are checked by their content models.
    general.required_node("Frqcy", &t::FREQUENCY_22_CHOICE, "")?;
    let basis = general.required_node("StmtBsis", &t::STATEMENT_BASIS_7_CHOICE, "")?;
    if basis.leaf("Cd").map(|code| code.text()) != Some("SETT") {
        return Err(not_representable(
            basis.path(),
            "ISM/1 statements hold settled positions (StmtBsis SETT); traded or contractual positions cannot be translated",
        ));
    }
    if block.has("SubAcctDtls") {
        return Err(not_representable(
            &format!("{}/SubAcctDtls", block.path()),
            "ISM/1 statements are for one account; balances by sub-account cannot be translated",
        ));
    }
    Ok(())
}

/// The market of `AcctSvcr` (a `PartyIdentification136`).
fn market(block: &Node<'_>) -> Result<Mic, TranslateError> {
    let why = "ISM/1 statements name the market whose ledger holds the account, as AcctSvcr/Id/PrtryId with SchmeNm MIC";
    let servicer = block.required_node("AcctSvcr", &t::PARTY_IDENTIFICATION_136, why)?;
    let id = servicer.required_node("Id", &t::PARTY_IDENTIFICATION_120_CHOICE, "")?;
    let proprietary = id
        .node("PrtryId", &t::GENERIC_IDENTIFICATION_36)?
        .filter(|proprietary| {
            proprietary.leaf("SchmeNm").map(|scheme| scheme.text()) == Some(MIC_SCHEME)
        })
        .ok_or_else(|| missing(&format!("{}/PrtryId", id.path()), why))?;
    proprietary.required_leaf("Id", "")?.ism(Mic::parse)
}

/// Reads one `BalForAcct`.
fn balance(node: &Node<'_>) -> Result<Balance, TranslateError> {
    let isin =
        common::isin(&node.required_node("FinInstrmId", &t::SECURITY_IDENTIFICATION_19, "")?)?;
    let aggregate = node.required_node("AggtBal", &t::BALANCE_17, "")?;
    let side = aggregate.required_leaf("ShrtLngInd", "")?;
    if side.text() != "LONG" {
        return Err(not_representable(
            side.path(),
            "ISM/1 holdings are positive; a short position cannot be translated",
        ));
    }
    let quantity = aggregate.required_node("Qty", &t::BALANCE_QUANTITY_13_CHOICE, "")?;
    if quantity.chosen() != "Qty" {
        return Err(not_representable(
            &format!("{}/{}", quantity.path(), quantity.chosen()),
            "ISM/1 holdings are units; a proprietary balance cannot be translated",
        ));
    }
    let total = common::units(&quantity.chosen_node(&t::QUANTITY_51_CHOICE)?)?;

    let mut locked = None;
    for breakdown in node.nodes("AddtlBalBrkdwn", &t::ADDITIONAL_BALANCE_INFORMATION_20)? {
        let kind = breakdown.required_node("SubBalTp", &t::SUB_BALANCE_TYPE_12_CHOICE, "")?;
        let is_lock = match kind.node("Prtry", &t::GENERIC_IDENTIFICATION_30)? {
            // Only Isthmus's own LOCK sub-balance is the locked part; another
            // issuer's "LOCK" means whatever that issuer means by it.
            Some(proprietary) => {
                proprietary.required_leaf("Id", "")?.text() == LOCKED
                    && proprietary.leaf("Issr").map(|issuer| issuer.text()) == Some(LOCKED_ISSUER)
            }
            None => false,
        };
        if !is_lock {
            continue;
        }
        if locked.is_some() {
            return Err(super::read::unexpected(
                breakdown.path(),
                "a balance has one locked part; LOCK appears twice",
            ));
        }
        let amount = breakdown.required_node("Qty", &t::BALANCE_21, "")?;
        if amount
            .leaf("ShrtLngInd")
            .is_some_and(|side| side.text() != "LONG")
        {
            return Err(not_representable(
                &format!("{}/ShrtLngInd", amount.path()),
                "a locked quantity is positive",
            ));
        }
        let quantity = amount.required_node("Qty", &t::SUB_BALANCE_QUANTITY_8_CHOICE, "")?;
        if quantity.chosen() != "Qty" {
            return Err(not_representable(
                &format!("{}/{}", quantity.path(), quantity.chosen()),
                "ISM/1 locked quantities are units",
            ));
        }
        locked = Some(common::instrument_units(
            &quantity.chosen_node(&t::FINANCIAL_INSTRUMENT_QUANTITY_33_CHOICE)?,
        )?);
    }
    Ok(Balance {
        isin,
        total,
        locked,
    })
}

/// Reads a semt.002 `Document` into a `HoldingsStatement`.
pub(crate) fn read(document: &Node<'_>, report: &mut Report) -> Result<Body, TranslateError> {
    let block = document.required_node(BLOCK, &t::SECURITIES_BALANCE_CUSTODY_REPORT_V11, "")?;
    check_whole(&block)?;
    let general = block.required_node("StmtGnlDtls", &t::STATEMENT_73, "")?;
    let statement_id = general
        .required_leaf("StmtId", "ISM/1 statements carry their reference")?
        .ism(Reference::parse)?;
    let moment = general.required_node("StmtDtTm", &t::DATE_AND_DATE_TIME_2_CHOICE, "")?;
    let as_of = match moment.leaf("DtTm") {
        Some(instant) => {
            let (as_of, zone) = instant.instant()?;
            report.zone("body.as_of", &instant, zone);
            as_of
        }
        None => {
            return Err(not_representable(
                &format!("{}/Dt", moment.path()),
                "ISM/1 statements hold at an instant (DtTm); a date alone names none",
            ))
        }
    };
    let market = market(&block)?;
    let owner = common::party_id(&block.required_node(
        "AcctOwnr",
        &t::PARTY_IDENTIFICATION_144,
        "ISM/1 statements name the account owner",
    )?)?;
    let account = common::account_id(&block.required_node(
        "SfkpgAcct",
        &t::SECURITIES_ACCOUNT_26,
        "ISM/1 statements name the safekeeping account",
    )?)?;

    // Paths of the balances in document order, to name the element of a
    // refused balance after sorting.
    let mut read: Vec<(Balance, String)> = Vec::new();
    for node in block.nodes("BalForAcct", &t::AGGREGATE_BALANCE_INFORMATION_42)? {
        read.push((balance(&node)?, node.path().to_string()));
    }
    read.sort_by(|a, b| a.0.isin.as_str().cmp(b.0.isin.as_str()));
    let paths: Vec<String> = read.iter().map(|(_, path)| path.clone()).collect();
    let balances = read.into_iter().map(|(balance, _)| balance).collect();

    let statement = HoldingsStatement {
        statement_id,
        market,
        account: AccountRef { owner, account },
        as_of,
        balances,
    };
    let block_path = block.path().to_string();
    common::checked(Body::HoldingsStatement(statement), |ism| {
        let rest = ism.strip_prefix("body.balances")?;
        if rest.is_empty() {
            return Some(format!("{block_path}/BalForAcct"));
        }
        let (index, member) = rest.strip_prefix('[')?.split_once(']')?;
        let path = paths.get(index.parse::<usize>().ok()?)?;
        Some(match member {
            ".locked" => format!("{path}/AddtlBalBrkdwn"),
            ".isin" => format!("{path}/FinInstrmId/ISIN"),
            _ => path.clone(),
        })
    })
}

/// Writes `<Qty><Qty><Unit>…</Unit></Qty></Qty>`: a quantity choice
/// (`SubBalanceQuantity8Choice`) around a `FinancialInstrumentQuantity33Choice`.
fn write_units_choice(w: &mut XmlWriter, units: &Quantity) -> Result<(), TranslateError> {
    w.element("Qty", |w| {
        w.element("Qty", |w| w.leaf("Unit", units.as_str()))
    })
}

/// Writes a `HoldingsStatement` as a semt.002 document; nothing is unrepresented.
pub(crate) fn write(statement: &HoldingsStatement) -> Result<Translation<Vec<u8>>, TranslateError> {
    let mut w = XmlWriter::document(Message::Semt002.namespace())?;
    w.element(BLOCK, |w| {
        w.element("Pgntn", |w| {
            w.leaf("PgNb", "1")?;
            w.leaf("LastPgInd", "true")
        })?;
        w.element("StmtGnlDtls", |w| {
            w.leaf("StmtId", statement.statement_id.as_str())?;
            w.element("StmtDtTm", |w| w.leaf("DtTm", statement.as_of.as_str()))?;
            w.element("Frqcy", |w| w.leaf("Cd", "ADHO"))?;
            w.element("UpdTp", |w| w.leaf("Cd", "COMP"))?;
            w.element("StmtBsis", |w| w.leaf("Cd", "SETT"))?;
            let activity = if statement.balances.is_empty() {
                "false"
            } else {
                "true"
            };
            w.leaf("ActvtyInd", activity)?;
            w.leaf("SubAcctInd", "false")
        })?;
        common::write_party_id(w, "AcctOwnr", &statement.account.owner)?;
        w.element("AcctSvcr", |w| {
            w.element("Id", |w| {
                w.element("PrtryId", |w| {
                    w.leaf("Id", statement.market.as_str())?;
                    w.leaf("Issr", MIC_ISSUER)?;
                    w.leaf("SchmeNm", MIC_SCHEME)
                })
            })
        })?;
        common::write_account(w, &statement.account.account)?;
        for balance in &statement.balances {
            w.element("BalForAcct", |w| {
                common::write_isin(w, &balance.isin)?;
                w.element("AggtBal", |w| {
                    w.leaf("ShrtLngInd", "LONG")?;
                    // BalanceQuantity13Choice/Qty is a Quantity51Choice.
                    w.element("Qty", |w| common::write_units(w, "Qty", &balance.total))
                })?;
                if let Some(locked) = &balance.locked {
                    w.element("AddtlBalBrkdwn", |w| {
                        w.element("SubBalTp", |w| {
                            w.element("Prtry", |w| {
                                w.leaf("Id", LOCKED)?;
                                w.leaf("Issr", LOCKED_ISSUER)
                            })
                        })?;
                        // Balance21/Qty is a SubBalanceQuantity8Choice.
                        w.element("Qty", |w| write_units_choice(w, locked))
                    })?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(Translation::lossless(w.finish()?))
}
