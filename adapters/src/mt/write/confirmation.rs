//! SettlementConfirmation → MT544–MT547.

use isthmus_spec::body::{JournalRef, SettlementConfirmation};

use super::{amount_19a, decimal, reference_16, Lines};
use crate::error::{TranslateCode, TranslateError, Translation};
use crate::mt::codes;
use crate::mt::fields;
use crate::mt::fin;
use crate::mt::narrative::{self, SPRO_LINES};
use crate::mt::{ADVICE_RECEIVER_ADDRESS, ADVICE_SENDER_ADDRESS};

/// `MIC/sequence/entry-hash`.
fn journal(journal: &JournalRef) -> String {
    format!(
        "{}/{}/{}",
        journal.market, journal.sequence, journal.entry_hash
    )
}

/// Writes a confirmation. The settlement id goes in `:20C::MITI//` when it
/// fits 16 characters, else in the narrative; the journal references always
/// go in the narrative `:70E::SPRO//`. `settled_at` is written exactly, in
/// UTC: `:98E::ESET//YYYYMMDDHHMMSS[,fff]/0000`, with up to three decimals
/// of the second in the field and, for a finer timestamp, all its decimals
/// as `/FRAC/` in the narrative instead. (`:98C:` is a local time in ISO
/// 15022, so it would not say the instant.) The translation is lossless.
pub(super) fn write(body: &SettlementConfirmation) -> Result<Translation<Vec<u8>>, TranslateError> {
    let message_type = codes::instruction_type(body.direction, body.payment) + 4;
    let rela = reference_16(&body.instruction_id, "body.instruction_id", ":20C::RELA//")?;
    let quantity = decimal(body.quantity.as_str(), "body.quantity", ":36B::ESTT//UNIT/")?;
    let amount = amount_19a(body.settlement_amount.as_ref(), "ESTT")?;
    let miti = (body.settlement_id.as_str().chars().count() <= fields::REFERENCE_CHARS)
        .then_some(body.settlement_id.as_str());
    // ISM-1 Appendix A.2 item 2: written in UTC, an effective settlement before
    // its settlement date has begun anywhere would be refused by the reader.
    if body.settled_at.unix_nanos() < fields::date_begins_anywhere_nanos(&body.settlement_date) {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            "body.settled_at",
            format!("settled_at {} is before the settlement date {} has begun in any time zone; MT544–MT547 report a settlement on or after its settlement date (:98E::ESET// not before :98A::SETT//)", body.settled_at, body.settlement_date),
        ));
    }
    let (eset, fraction) = fields::timestamp_to_98e(&body.settled_at);

    let securities = journal(&body.securities_journal);
    let cash = body.cash_journal.as_ref().map(journal);
    let mut items: Vec<(&str, &str)> = Vec::new();
    if miti.is_none() {
        items.push(("SEID", body.settlement_id.as_str()));
    }
    items.push(("SJNL", &securities));
    if let Some(cash) = &cash {
        items.push(("CJNL", cash));
    }
    if let Some(fraction) = &fraction {
        items.push(("FRAC", fraction));
    }
    let spro = narrative::write_items(&items);
    if spro.len() > SPRO_LINES {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            "body.securities_journal",
            format!("the settlement id and journal references need {} narrative lines; :70E::SPRO// holds {SPRO_LINES}", spro.len()),
        ));
    }

    let mut lines = Lines::default();
    lines.open("GENL");
    lines.own_reference();
    lines.field("23G", "NEWM");
    lines.advice_links(rela, miti);
    lines.close("GENL");

    lines.open("TRADDET");
    lines.qualified("98A", "SETT", &fields::date_to_mt(&body.settlement_date));
    lines.qualified("98E", "ESET", &eset);
    lines.field("35B", &format!("ISIN {}", body.isin));
    lines.narrative("70E", "SPRO", &spro);
    lines.close("TRADDET");

    lines.open("FIAC");
    lines.qualified("36B", "ESTT", &format!("UNIT/{quantity}"));
    lines.close("FIAC");

    lines.open("SETDET");
    lines.qualified("22F", "SETR", "TRAD");
    if let Some(amount) = amount {
        lines.open("AMT");
        lines.qualified("19A", "ESTT", &amount);
        lines.close("AMT");
    }
    lines.close("SETDET");

    let bytes = fin::write(
        message_type,
        ADVICE_SENDER_ADDRESS,
        ADVICE_RECEIVER_ADDRESS,
        &lines.finish(message_type),
    );
    Ok(Translation::lossless(bytes))
}
