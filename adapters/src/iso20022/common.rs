//! Building blocks several messages share, read and written the same way:
//! parties, quantities, amounts, dates and codes.

use isthmus_spec::body::{Direction, Party, Payment, ProprietaryId};
use isthmus_spec::decimal::{Decimal, Money, Quantity};
use isthmus_spec::ident::{Bic, Currency, Isin, Lei, PartyId};
use isthmus_spec::ids::Reference;
use isthmus_spec::time::Date;
use isthmus_spec::{Body, Rejection};

use super::read::{invalid, missing, not_representable, Leaf, Node};
use super::report::{Report, TIME_OF_DAY_LEFT_OUT};
use super::schema_tables as t;
use super::write::XmlWriter;
use crate::error::TranslateError;

/// `SctiesMvmntTp` (ReceiveDelivery1Code) for a direction.
pub(crate) fn movement_code(direction: Direction) -> &'static str {
    match direction {
        Direction::Deliver => "DELI",
        Direction::Receive => "RECE",
    }
}

/// The direction of a `SctiesMvmntTp` leaf (its code list was checked).
pub(crate) fn direction(leaf: &Leaf<'_>) -> Direction {
    if leaf.text() == "DELI" {
        Direction::Deliver
    } else {
        Direction::Receive
    }
}

/// `Pmt` (DeliveryReceiptType2Code) for a payment type.
pub(crate) fn payment_code(payment: Payment) -> &'static str {
    match payment {
        Payment::AgainstPayment => "APMT",
        Payment::FreeOfPayment => "FREE",
    }
}

/// The payment type of a `Pmt` leaf (its code list was checked).
pub(crate) fn payment(leaf: &Leaf<'_>) -> Payment {
    if leaf.text() == "APMT" {
        Payment::AgainstPayment
    } else {
        Payment::FreeOfPayment
    }
}

/// `CdtDbtInd` of the settlement amount, seen from the account owner: who
/// delivers securities is credited the cash, who receives them is debited.
pub(crate) fn credit_debit(direction: Direction) -> &'static str {
    match direction {
        Direction::Deliver => "CRDT",
        Direction::Receive => "DBIT",
    }
}

/// The security of a `SecurityIdentification19` (`FinInstrmId`); ISM/1
/// identifies securities by ISIN only, so `OthrId` alone is not enough.
pub(crate) fn isin(node: &Node<'_>) -> Result<Isin, TranslateError> {
    node.required_leaf("ISIN", "ISM/1 identifies the security by its ISIN")?
        .ism(Isin::parse)
}

/// Writes `FinInstrmId/ISIN`.
pub(crate) fn write_isin(w: &mut XmlWriter, isin: &Isin) -> Result<(), TranslateError> {
    w.element("FinInstrmId", |w| w.leaf("ISIN", isin.as_str()))
}

/// Units of a `Quantity51Choice` (`SttlmQty`, `SttldQty`): `Qty/Unit`.
/// Face amounts and amortised values are quantities of another kind, which
/// an ISM/1 quantity (units) cannot express.
pub(crate) fn units(node: &Node<'_>) -> Result<Quantity, TranslateError> {
    if node.chosen() != "Qty" {
        return Err(not_representable(
            &format!("{}/{}", node.path(), node.chosen()),
            "ISM/1 quantities are units; original and current face amounts cannot be translated",
        ));
    }
    let quantity = node.chosen_node(&t::FINANCIAL_INSTRUMENT_QUANTITY_33_CHOICE)?;
    instrument_units(&quantity)
}

/// Units of a `FinancialInstrumentQuantity33Choice`: `Unit`.
pub(crate) fn instrument_units(node: &Node<'_>) -> Result<Quantity, TranslateError> {
    match node.leaf("Unit") {
        Some(unit) => unit.decimal(Quantity::parse),
        None => Err(not_representable(
            &format!("{}/{}", node.path(), node.chosen()),
            format!(
                "ISM/1 quantities are units; a quantity given as {} cannot be translated",
                node.chosen()
            ),
        )),
    }
}

/// Writes `<name><Qty><Unit>…</Unit></Qty></name>` (a `Quantity51Choice`).
pub(crate) fn write_units(
    w: &mut XmlWriter,
    name: &str,
    quantity: &Quantity,
) -> Result<(), TranslateError> {
    w.element(name, |w| {
        w.element("Qty", |w| w.leaf("Unit", quantity.as_str()))
    })
}

/// An `ActiveCurrencyAndAmount` leaf (`Amt` and its `Ccy` attribute) as ISM/1 money.
pub(crate) fn money(leaf: &Leaf<'_>) -> Result<Money, TranslateError> {
    let currency_path = format!("{}/@Ccy", leaf.path());
    let currency_text = leaf.attribute("Ccy").ok_or_else(|| {
        missing(
            &currency_path,
            "an amount needs its currency in the Ccy attribute",
        )
    })?;
    let amount = leaf.decimal(Decimal::parse)?;
    let currency = Currency::parse(currency_text)
        .map_err(|rejection| TranslateError::from_rejection(rejection, &currency_path))?;
    let money = Money { amount, currency };
    isthmus_spec::json::Rules::check(&money, "").map_err(|rejection: Rejection| {
        let at = match rejection.field.as_deref() {
            Some("currency") => currency_path.clone(),
            _ => leaf.path().to_string(),
        };
        TranslateError::from_rejection(rejection, at)
    })?;
    Ok(money)
}

/// The money and credit/debit code of an `AmountAndDirection94` (`SttlmAmt`, `SttldAmt`).
pub(crate) fn amount_and_direction<'a>(
    node: &Node<'a>,
) -> Result<(Money, Leaf<'a>), TranslateError> {
    let amount = node.required_leaf("Amt", "AmountAndDirection94 requires Amt")?;
    let indicator = node.required_leaf("CdtDbtInd", "AmountAndDirection94 requires CdtDbtInd")?;
    Ok((money(&amount)?, indicator))
}

/// Checks that a credit/debit indicator agrees with the direction; ISM/1 has
/// no way to say that whoever delivers the securities also pays.
pub(crate) fn check_credit_debit(
    indicator: &Leaf<'_>,
    direction: Direction,
) -> Result<(), TranslateError> {
    let expected = credit_debit(direction);
    if indicator.text() == expected {
        return Ok(());
    }
    Err(not_representable(
        indicator.path(),
        format!(
            "a {} instruction's settlement amount is {expected} for the account owner; {} (cash moving the same way as the securities) has no ISM/1 form",
            movement_code(direction),
            indicator.text()
        ),
    ))
}

/// Writes an `AmountAndDirection94`: `Amt` with `Ccy`, then `CdtDbtInd`.
pub(crate) fn write_amount(
    w: &mut XmlWriter,
    name: &str,
    money: &Money,
    direction: Direction,
) -> Result<(), TranslateError> {
    w.element(name, |w| {
        w.leaf_with_attribute(
            "Amt",
            ("Ccy", money.currency.as_str()),
            money.amount.as_str(),
        )?;
        w.leaf("CdtDbtInd", credit_debit(direction))
    })
}

/// The date of a `DateAndDateTime2Choice`: `Dt`, or the calendar date of
/// `DtTm` as written — an offset does not move it, since ISM/1 dates are
/// calendar dates of the market. The whole `DtTm` is still validated (hour
/// 00–23, minutes, seconds, fraction, and a zone that is `Z` or `±hh:mm` of
/// at most 14 hours), and its time of day, which an ISM/1 date cannot hold,
/// is left out and reported (never as derived: the date is what was written).
pub(crate) fn date_or_date_time(
    node: &Node<'_>,
    report: &mut Report,
) -> Result<Date, TranslateError> {
    match node.leaf("Dt") {
        Some(date) => date.date(),
        None => {
            let leaf = node.required_leaf("DtTm", "a date is given as Dt or DtTm")?;
            let date = leaf.date_of_date_time()?;
            report.left_out(leaf.path(), TIME_OF_DAY_LEFT_OUT);
            Ok(date)
        }
    }
}

/// The date of a `TradeDate8Choice` / `SettlementDate17Choice`: `Dt` (see
/// [`date_or_date_time`]); a date code (`VARI`, `WISS`, proprietary) names
/// no calendar date.
pub(crate) fn coded_date(node: &Node<'_>, report: &mut Report) -> Result<Date, TranslateError> {
    if node.chosen() != "Dt" {
        return Err(not_representable(
            &format!("{}/{}", node.path(), node.chosen()),
            "ISM/1 needs a calendar date here, not a date code",
        ));
    }
    date_or_date_time(&node.chosen_node(&t::DATE_AND_DATE_TIME_2_CHOICE)?, report)
}

/// Lists every child of `node` named in `names` as left out, with the
/// sentence `why` gives for its name (elements ISM/1 has no member for).
pub(crate) fn left_out_children(
    node: &Node<'_>,
    names: &[&str],
    why: impl Fn(&str) -> String,
    report: &mut Report,
) {
    for child in &node.element().children {
        if names.contains(&child.name.as_str()) {
            report.left_out(&format!("{}/{}", node.path(), child.name), why(&child.name));
        }
    }
}

/// Children of a settlement party (`PartyIdentificationAndAccount196`) that
/// ISM/1's `Party` has no member for.
pub(crate) const SETTLEMENT_PARTY_UNCARRIED: [&str; 5] = [
    "AltrnId",
    "BlckChainAdrOrWllt",
    "PrcgDt",
    "PrcgId",
    "AddtlInf",
];

/// Children of a depository (`PartyIdentification146`) that ISM/1's place of
/// settlement, a BIC, has no member for.
pub(crate) const DEPOSITORY_UNCARRIED: [&str; 5] =
    ["LEI", "AltrnId", "PrcgDt", "PrcgId", "AddtlInf"];

/// Writes `<name><Dt><Dt>YYYY-MM-DD</Dt></Dt></name>`.
pub(crate) fn write_coded_date(
    w: &mut XmlWriter,
    name: &str,
    date: &Date,
) -> Result<(), TranslateError> {
    w.element(name, |w| w.element("Dt", |w| w.leaf("Dt", date.as_str())))
}

/// The party of a `PartyIdentification144` (`AcctOwnr`): its LEI when given,
/// otherwise its BIC. ISM/1 knows a party by LEI or BIC only.
pub(crate) fn party_id(node: &Node<'_>) -> Result<PartyId, TranslateError> {
    // Id is mandatory and checked even when the LEI decides, so that a
    // malformed choice is refused rather than skipped.
    let id = node.required_node(
        "Id",
        &t::PARTY_IDENTIFICATION_127_CHOICE,
        "a party needs its Id",
    )?;
    if let Some(lei) = node.leaf("LEI") {
        return lei.ism(PartyId::parse);
    }
    match id.leaf("AnyBIC") {
        Some(bic) => bic.ism(PartyId::parse),
        None => Err(not_representable(
            &format!("{}/{}", id.path(), id.chosen()),
            "ISM/1 identifies this party by LEI or BIC; a proprietary identification alone cannot be translated",
        )),
    }
}

/// Writes a `PartyIdentification144`. A BIC goes in `Id/AnyBIC`. An LEI goes
/// in `LEI`; since `Id` is mandatory and takes no LEI, it also carries the
/// LEI as a proprietary identification issued by GLEIF under scheme `LEI`.
pub(crate) fn write_party_id(
    w: &mut XmlWriter,
    name: &str,
    party: &PartyId,
) -> Result<(), TranslateError> {
    w.element(name, |w| {
        if party.is_lei() {
            w.element("Id", |w| {
                w.element("PrtryId", |w| {
                    w.leaf("Id", party.as_str())?;
                    w.leaf("Issr", "GLEIF")?;
                    w.leaf("SchmeNm", "LEI")
                })
            })?;
            w.leaf("LEI", party.as_str())
        } else {
            w.element("Id", |w| w.leaf("AnyBIC", party.as_str()))
        }
    })
}

/// The safekeeping account id of a `SecuritiesAccount19`/`26` (`SfkpgAcct`).
pub(crate) fn account_id(node: &Node<'_>) -> Result<Reference, TranslateError> {
    node.required_leaf("Id", "an account needs its Id")?
        .ism(Reference::parse)
}

/// Writes `<SfkpgAcct><Id>…</Id></SfkpgAcct>`.
pub(crate) fn write_account(w: &mut XmlWriter, account: &Reference) -> Result<(), TranslateError> {
    w.element("SfkpgAcct", |w| w.leaf("Id", account.as_str()))
}

/// A settlement party of a `PartyIdentificationAndAccount196` (`Pty1`…`Pty5`):
/// `Id/AnyBIC` or `Id/PrtryId`, `LEI`, `SfkpgAcct/Id`; its other children
/// ([`SETTLEMENT_PARTY_UNCARRIED`]: alternate id, processing id and date,
/// wallet, additional information) are listed as left out. A party given by
/// name and address (`Id/NmAndAdr`) is `NOT_REPRESENTABLE` at that element;
/// the caller refuses it when ISM/1 requires the party and leaves it out
/// (and reports it) when ISM/1 does not.
pub(crate) fn settlement_party(
    node: &Node<'_>,
    report: &mut Report,
) -> Result<Party, TranslateError> {
    let id = node.required_node(
        "Id",
        &t::PARTY_IDENTIFICATION_120_CHOICE,
        "a party needs its Id",
    )?;
    let (bic, proprietary_id) = match id.chosen() {
        "AnyBIC" => (
            Some(id.required_leaf("AnyBIC", "")?.ism(Bic::parse)?),
            None,
        ),
        "PrtryId" => (
            None,
            Some(proprietary_id(
                &id.required_node("PrtryId", &t::GENERIC_IDENTIFICATION_36, "")?,
            )?),
        ),
        other => {
            return Err(not_representable(
                &format!("{}/{other}", id.path()),
                "ISM/1 identifies a party by BIC or by a proprietary code; a party given only by name and address cannot be translated",
            ))
        }
    };
    let lei = node
        .leaf("LEI")
        .map(|lei| lei.ism(Lei::parse))
        .transpose()?;
    let safekeeping_account = node
        .node("SfkpgAcct", &t::SECURITIES_ACCOUNT_19)?
        .map(|account| account_id(&account))
        .transpose()?;
    left_out_children(
        node,
        &SETTLEMENT_PARTY_UNCARRIED,
        |name| format!("ISM/1 has no member for a settlement party's {name}"),
        report,
    );
    Ok(Party {
        bic,
        proprietary_id,
        lei,
        safekeeping_account,
    })
}

/// A proprietary identification (`GenericIdentification36`): `Id`, `Issr`
/// (both mandatory, checked by the content model) and `SchmeNm`.
pub(crate) fn proprietary_id(node: &Node<'_>) -> Result<ProprietaryId, TranslateError> {
    Ok(ProprietaryId {
        id: node
            .required_leaf("Id", "a proprietary identification needs its Id")?
            .ism(Reference::parse)?,
        issuer: node
            .required_leaf(
                "Issr",
                "a proprietary identification needs its issuer (Issr)",
            )?
            .ism(Reference::parse)?,
        scheme: node
            .leaf("SchmeNm")
            .map(|scheme| scheme.ism(Reference::parse))
            .transpose()?,
    })
}

/// Writes `<PrtryId><Id/><Issr/>[<SchmeNm/>]</PrtryId>`.
pub(crate) fn write_proprietary_id(
    w: &mut XmlWriter,
    id: &ProprietaryId,
) -> Result<(), TranslateError> {
    w.element("PrtryId", |w| {
        w.leaf("Id", id.id.as_str())?;
        w.leaf("Issr", id.issuer.as_str())?;
        if let Some(scheme) = &id.scheme {
            w.leaf("SchmeNm", scheme.as_str())?;
        }
        Ok(())
    })
}

/// Writes a `PartyIdentificationAndAccount196`: `Id/AnyBIC` or `Id/PrtryId`
/// (ISM/1 makes a party exactly one of the two), `LEI`, `SfkpgAcct/Id`.
pub(crate) fn write_settlement_party(
    w: &mut XmlWriter,
    name: &str,
    party: &Party,
) -> Result<(), TranslateError> {
    w.element(name, |w| {
        w.element("Id", |w| write_party_choice(w, "AnyBIC", party))?;
        if let Some(lei) = &party.lei {
            w.leaf("LEI", lei.as_str())?;
        }
        if let Some(account) = &party.safekeeping_account {
            write_account(w, account)?;
        }
        Ok(())
    })
}

/// Writes the alternative of a party's `Id` choice: its BIC as element
/// `bic_name` (`AnyBIC`, or `BICFI` for cash agents) or its `PrtryId`.
pub(crate) fn write_party_choice(
    w: &mut XmlWriter,
    bic_name: &str,
    party: &Party,
) -> Result<(), TranslateError> {
    match (&party.bic, &party.proprietary_id) {
        (Some(bic), _) => w.leaf(bic_name, bic.as_str()),
        (None, Some(id)) => write_proprietary_id(w, id),
        // ISM/1 decoding (PARTY_ID_CHOICE) rules this out before writing.
        (None, None) => Err(not_representable(
            bic_name,
            "a party without a BIC or a proprietary id cannot be written",
        )),
    }
}

/// Most characters ISO 20022's `CashAccountIdentification5Choice/Prtry`
/// (`Max34Text`) holds; an IBAN has at most 34 as well.
pub(crate) const MAX_CASH_ACCOUNT_CHARS: usize = 34;

/// Whether `text` is an IBAN (ISO 13616): a country code, two check digits
/// and up to 30 letters or digits, written in capitals, whose mod-97 check
/// (the first four characters moved to the end, letters as 10–35) gives 1.
pub(crate) fn is_iban(text: &str) -> bool {
    let bytes = text.as_bytes();
    let shaped = (5..=MAX_CASH_ACCOUNT_CHARS).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..]
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    if !shaped {
        return false;
    }
    let mut remainder: u32 = 0;
    for &byte in bytes[4..].iter().chain(&bytes[..4]) {
        let value = if byte.is_ascii_digit() {
            u32::from(byte - b'0')
        } else {
            u32::from(byte - b'A') + 10
        };
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    remainder == 1
}

/// The account of a `CashAccountIdentification5Choice` (`CshAcct`): its
/// `IBAN` or its `Prtry` text, as an ISM/1 reference. Both types hold at
/// most 34 characters; a longer value is `XML_VALUE_INVALID`.
pub(crate) fn cash_account(node: &Node<'_>) -> Result<Reference, TranslateError> {
    let leaf = node.required_leaf(node.chosen(), "a cash account is an IBAN or Prtry")?;
    let length = leaf.text().chars().count();
    if length > MAX_CASH_ACCOUNT_CHARS {
        return Err(invalid(
            leaf.path(),
            format!(
                "a cash account ({}) holds at most {MAX_CASH_ACCOUNT_CHARS} characters; this one has {length}",
                node.chosen()
            ),
        ));
    }
    leaf.ism(Reference::parse)
}

/// Writes `<name>` as a `CashAccountIdentification5Choice`: `IBAN` when the
/// account is one ([`is_iban`]), `Prtry` otherwise. The caller checks that it
/// fits ([`MAX_CASH_ACCOUNT_CHARS`]).
pub(crate) fn write_cash_account(
    w: &mut XmlWriter,
    name: &str,
    account: &Reference,
) -> Result<(), TranslateError> {
    w.element(name, |w| {
        if is_iban(account.as_str()) {
            w.leaf("IBAN", account.as_str())
        } else {
            w.leaf("Prtry", account.as_str())
        }
    })
}

/// The depository of a `PartyIdentification146` (`Dpstry`): `Id/AnyBIC`.
pub(crate) fn depository(node: &Node<'_>) -> Result<Bic, TranslateError> {
    let id = node.required_node(
        "Id",
        &t::PARTY_IDENTIFICATION_122_CHOICE,
        "a depository needs its Id",
    )?;
    match id.leaf("AnyBIC") {
        Some(bic) => bic.ism(Bic::parse),
        None => Err(not_representable(
            &format!("{}/{}", id.path(), id.chosen()),
            "ISM/1 names the place of settlement by BIC; a depository given by name or country cannot be translated",
        )),
    }
}

/// Writes `<Dpstry><Id><AnyBIC>…</AnyBIC></Id></Dpstry>`.
pub(crate) fn write_depository(w: &mut XmlWriter, bic: &Bic) -> Result<(), TranslateError> {
    w.element("Dpstry", |w| {
        w.element("Id", |w| w.leaf("AnyBIC", bic.as_str()))
    })
}

/// Writes `<SttlmParams><SctiesTxTp><Cd>TRAD</Cd></SctiesTxTp></SttlmParams>`:
/// every ISM/1 settlement is the settlement of a trade.
pub(crate) fn write_trade_settlement_params(w: &mut XmlWriter) -> Result<(), TranslateError> {
    w.element("SttlmParams", |w| {
        w.element("SctiesTxTp", |w| w.leaf("Cd", "TRAD"))
    })
}

/// Runs a body built from XML through ISM/1 decoding, so that every ISM/1
/// rule (cross-member rules included) applies exactly as to JSON. A refusal
/// names the XML element `xml_path` maps the ISM/1 member to, where it can.
pub(crate) fn checked(
    body: Body,
    xml_path: impl Fn(&str) -> Option<String>,
) -> Result<Body, TranslateError> {
    Body::from_json(body.kind(), &body.to_json(), "body").map_err(|rejection| {
        let field = rejection.field.as_deref().and_then(&xml_path);
        match field {
            Some(path) => TranslateError::from_rejection(rejection, path),
            None => TranslateError::from(rejection),
        }
    })
}

/// Checks an ISM/1 body before writing it, so that only valid ISM/1 becomes
/// XML (a body assembled in code can break cross-member rules).
pub(crate) fn valid(body: &Body) -> Result<Body, TranslateError> {
    Body::from_json(body.kind(), &body.to_json(), "body").map_err(TranslateError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_recognised_by_their_mod_97_check() {
        for iban in [
            "DE89370400440532013000",
            "GB82WEST12345698765432",
            "FR7630006000011234567890189",
            "CH9300762011623852957",
        ] {
            assert!(is_iban(iban), "{iban}");
        }
        for other in [
            "DE89370400440532013001", // check digits do not match
            "AUD-CASH-SELLER-7",
            "gb82WEST12345698765432", // not in capitals
            "GB82 WEST 1234 5698 7654 32",
            "GB82",
            "0902-SETTLEMENT-USD",
            "GB82WEST123456987654321234567890123", // 35 characters
        ] {
            assert!(!is_iban(other), "{other}");
        }
    }
}
