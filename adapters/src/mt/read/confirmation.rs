//! MT544–MT547 → SettlementConfirmation.

use isthmus_spec::body::{Direction, JournalRef, Payment, SettlementConfirmation};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Counter, Hex32, Reference};
use isthmus_spec::quote::quoted;
use isthmus_spec::time::{Date, Timestamp};

use super::instruction::{security, settlement_amount};
use super::{check_function, date_of, sender_reference, single_line, Reader};
use crate::error::{TranslateCode, TranslateError, DATE_ONLY_AS_MIDNIGHT_UTC, LOCAL_TIME_AS_UTC};
use crate::mt::fields::{self, Generic};
use crate::mt::narrative;
use crate::mt::text::{Field, Sequence};

/// Reads MT544 (receive free), MT545 (receive against payment), MT546
/// (deliver free) or MT547 (deliver against payment confirmation).
pub(super) fn read(
    reader: &mut Reader<'_>,
    root: &Sequence,
    direction: Direction,
    payment: Payment,
) -> Result<SettlementConfirmation, TranslateError> {
    // A General Information: own reference, :23G:NEWM, A1 RELA and MITI.
    let (genl, genl_path) = reader.one_sequence(root, "", "GENL")?;
    // The advice's own reference: checked; ISM/1 keeps it in the envelope.
    sender_reference(reader, genl, &genl_path)?;
    check_function(reader, genl, &genl_path, "NEWM")?;
    let links = links(reader, genl, &genl_path)?;

    // B Trade Details: :98E::ESET// (or C, A), :98A::SETT//, :35B:, :70E::SPRO//.
    let (trad, trad_path) = reader.one_sequence(root, "", "TRADDET")?;
    let (field, generic) = reader.exactly_one(
        trad,
        &trad_path,
        "98A",
        "SETT",
        "settlement date, which ISM/1 requires",
    )?;
    let location = reader.location(&trad_path, field);
    let settlement_date = date_of(reader, field, generic, location)?;
    let isin = security(reader, trad, &trad_path)?;
    let spro = processing_narrative(reader, trad, &trad_path)?;
    let (eset, eset_generic) = reader.exactly_one(
        trad,
        &trad_path,
        "98C",
        "ESET",
        "effective settlement date and time",
    )?;
    let (settled_at, clock) = effective_settlement(
        reader,
        eset,
        eset_generic,
        &trad_path,
        spro.fraction.as_deref(),
    )?;
    not_before_settlement_date(
        &settled_at,
        &clock,
        &settlement_date,
        reader.location(&trad_path, eset),
    )?;

    // C Financial Instrument/Account: :36B::ESTT//UNIT/.
    let (fiac, fiac_path) =
        reader.single_account(root, "an ISM/1 confirmation reports one settled quantity")?;
    let (field, generic) =
        reader.exactly_one(fiac, &fiac_path, "36B", "ESTT", "settled quantity")?;
    let location = reader.location(&fiac_path, field);
    reader.require_option(field, &location, &["B"])?;
    single_line(field, &location)?;
    let quantity = fields::quantity_36b(generic.value, &location)?;
    reader.consume(field);

    // E Settlement Details: E3 :19A::ESTT//.
    let (setdet, setdet_path) = reader.one_sequence(root, "", "SETDET")?;
    if let Some((field, generic)) = reader.at_most_one(setdet, &setdet_path, "22", "SETR")? {
        if generic.scheme.is_none() && generic.value == "TRAD" && field.lines.len() == 1 {
            reader.consume(field);
        }
    }
    let settlement_amount = settlement_amount(reader, setdet, &setdet_path, "ESTT")?;

    let narrative_location = format!("{trad_path}/:70E::SPRO//");
    let settlement_id = match (links.miti, spro.settlement_id) {
        (Some(id), None) | (None, Some(id)) => id,
        (Some(_), Some(_)) => {
            return Err(TranslateError::at(
                TranslateCode::MtFieldFormat,
                format!("{narrative_location} /SEID/"),
                "the settlement id is given twice, in :20C::MITI// and as /SEID/ in the narrative",
            ))
        }
        (None, None) => {
            return Err(TranslateError::at(
                TranslateCode::MtFieldMissing,
                format!("{genl_path}/A1/LINK/:20C::MITI//"),
                "the relay's settlement id is missing: ISM/1 needs it, in :20C::MITI// or, if longer than 16 characters, as /SEID/ in :70E::SPRO//",
            ))
        }
    };
    let Some(securities_journal) = spro.securities_journal else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldMissing,
            format!("{narrative_location} /SJNL/"),
            "the securities leg's journal entry is missing: ISM/1 needs it, as /SJNL/MIC/sequence/hash in :70E::SPRO//",
        ));
    };
    Ok(SettlementConfirmation {
        instruction_id: links.related,
        settlement_id,
        direction,
        payment,
        isin,
        quantity,
        settlement_amount,
        settlement_date,
        settled_at,
        securities_journal,
        cash_journal: spro.cash_journal,
    })
}

/// What the A1 linkages of an advice give.
pub(super) struct Links {
    /// `:20C::RELA//`: the instruction reported on.
    pub related: Reference,
    /// `:20C::MITI//`: the market infrastructure's (the relay's) settlement id.
    pub miti: Option<Reference>,
}

/// Reads the A1 linkage sequences of an advice (mandatory and repetitive in
/// MT544–MT548): exactly one RELA, at most one MITI.
pub(super) fn links(
    reader: &mut Reader<'_>,
    genl: &Sequence,
    genl_path: &str,
) -> Result<Links, TranslateError> {
    let mut related: Option<(Reference, usize)> = None;
    let mut miti: Option<(Reference, usize)> = None;
    let mut any = false;
    for link in genl.sequences_named("LINK") {
        any = true;
        let path = reader.path(genl_path, link);
        for (qualifier, slot) in [("RELA", &mut related), ("MITI", &mut miti)] {
            let Some((field, generic)) = reader.at_most_one(link, &path, "20", qualifier)? else {
                continue;
            };
            let location = reader.location(&path, field);
            if let Some((_, line)) = slot {
                return Err(TranslateError::at(
                    TranslateCode::MtQualifierInvalid,
                    location,
                    format!("a second :20C::{qualifier}//; the first is at line {line}"),
                ));
            }
            reader.require_option(field, &location, &["C"])?;
            single_line(field, &location)?;
            if qualifier == "RELA" && generic.value == "NONREF" {
                return Err(TranslateError::at(
                    TranslateCode::NotRepresentable,
                    location,
                    "the advice names no instruction (RELA//NONREF); ISM/1 needs the reported instruction's reference",
                ));
            }
            *slot = Some((fields::reference_16x(generic.value, &location)?, field.line));
            reader.consume(field);
        }
    }
    if !any {
        return Err(TranslateError::at(
            TranslateCode::MtSequenceMissing,
            format!("{genl_path}/A1/LINK"),
            "the mandatory linkage sequence LINK with :20C::RELA// is missing",
        ));
    }
    let Some((related, _)) = related else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldMissing,
            format!("{genl_path}/A1/LINK/:20C::RELA//"),
            "the reference of the reported instruction (:20C::RELA//) is missing",
        ));
    };
    Ok(Links {
        related,
        miti: miti.map(|(reference, _)| reference),
    })
}

/// What `:70E::SPRO//` carries for ISM/1.
#[derive(Default)]
struct Processing {
    settlement_id: Option<Reference>,
    securities_journal: Option<JournalRef>,
    cash_journal: Option<JournalRef>,
    fraction: Option<String>,
}

fn processing_narrative(
    reader: &mut Reader<'_>,
    trad: &Sequence,
    path: &str,
) -> Result<Processing, TranslateError> {
    let Some((field, location, items)) =
        isthmus_spro_items(reader, trad, path, narrative::SPRO_KEYS)?
    else {
        return Ok(Processing::default());
    };
    let mut processing = Processing::default();
    for (key, value) in items {
        let at = format!("{location} /{key}/");
        match key.as_str() {
            "SEID" => processing.settlement_id = Some(fields::reference_35x(&value, &at)?),
            "SJNL" => processing.securities_journal = Some(journal(&value, &at)?),
            "CJNL" => processing.cash_journal = Some(journal(&value, &at)?),
            _ => {
                if value.is_empty() || value.len() > 9 || !value.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(TranslateError::at(
                        TranslateCode::MtFieldFormat,
                        at,
                        format!(
                            "{value} is not 1 to 9 digits of a second's fraction",
                            value = quoted(&value)
                        ),
                    ));
                }
                processing.fraction = Some(value);
            }
        }
    }
    reader.consume(field);
    Ok(processing)
}

/// An Isthmus narrative's field, its location and its `/KEY/value` items.
pub(super) type SproItems<'s> = (&'s Field, String, Vec<(String, String)>);

/// The Isthmus `/KEY/value` items of sequence B's `:70E::SPRO//` (`keys`
/// being those the message kind uses), with the field and its location;
/// `None` when the field is absent, or free text, which is noted as left out.
pub(super) fn isthmus_spro_items<'s>(
    reader: &mut Reader<'_>,
    trad: &'s Sequence,
    path: &str,
    keys: &[&str],
) -> Result<Option<SproItems<'s>>, TranslateError> {
    let Some((field, generic)) = reader.at_most_one(trad, path, "70", "SPRO")? else {
        return Ok(None);
    };
    let location = reader.location(path, field);
    reader.require_option(field, &location, &["E"])?;
    let lines = narrative_lines(field, generic, &location, narrative::SPRO_LINES)?;
    if !narrative::is_ours(&lines, keys) {
        reader.note(
            field,
            location,
            "the narrative is free text; ISM/1 has no member for it",
        );
        return Ok(None);
    }
    let items = narrative::read_items(&lines, keys).map_err(|message| {
        TranslateError::at(TranslateCode::MtFieldFormat, location.as_str(), message)
    })?;
    Ok(Some((field, location, items)))
}

/// The lines of a narrative field `:4!c//n*35x`, the first after the qualifier.
pub(super) fn narrative_lines(
    field: &Field,
    generic: Generic<'_>,
    location: &str,
    max_lines: usize,
) -> Result<Vec<String>, TranslateError> {
    if generic.scheme.is_some() {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            "a narrative takes no data source scheme",
        ));
    }
    let mut lines = vec![generic.value.to_string()];
    lines.extend(field.lines.iter().skip(1).cloned());
    if lines.len() > max_lines {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(
                "the narrative has {} lines; the field holds {max_lines}",
                lines.len()
            ),
        ));
    }
    if let Some(long) = lines
        .iter()
        .find(|l| l.chars().count() > fields::LINE_CHARS)
    {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(
                "the line {long} is longer than {} characters",
                fields::LINE_CHARS,
                long = quoted(long)
            ),
        ));
    }
    Ok(lines)
}

/// `MIC/sequence/hash` → a journal reference.
fn journal(value: &str, location: &str) -> Result<JournalRef, TranslateError> {
    let parts: Vec<&str> = value.split('/').collect();
    let [market, sequence, hash] = parts.as_slice() else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(
                "{value} is not MIC/sequence/entry-hash",
                value = quoted(value)
            ),
        ));
    };
    let rejected = |r| TranslateError::from_rejection(r, location);
    Ok(JournalRef {
        market: Mic::parse(market).map_err(rejected)?,
        sequence: Counter::parse(sequence).map_err(rejected)?,
        entry_hash: Hex32::parse(hash).map_err(rejected)?,
    })
}

/// The clock an effective settlement is written in (ISM-1 Appendix A.2 item 2).
enum EffectiveClock {
    /// The sender's own: `:98A:`, `:98C:`, or `:98E:` without a UTC indicator
    /// or with one other than zero; the date as written is in the calendar
    /// `:98A::SETT//` is written in.
    Local(Date),
    /// UTC (`:98E:` with the indicator `/0000`): an instant, whose date need
    /// not be the market's.
    Utc,
}

/// ISM-1 Appendix A.2 item 2: a confirmation reports a settlement on or
/// after its settlement date (ISO 15022: `SETT`, when the instruments "are to
/// be delivered or received"; `ESET`, when the transaction "effectively
/// settled"). In the sender's clock the two dates are compared as written; a
/// UTC instant is compared with the first moment the settlement date exists
/// anywhere.
fn not_before_settlement_date(
    settled_at: &Timestamp,
    clock: &EffectiveClock,
    settlement_date: &Date,
    location: String,
) -> Result<(), TranslateError> {
    let message = match clock {
        EffectiveClock::Local(written) if written < settlement_date => format!(
            "the effective settlement, on {written} as written, is before the settlement date {settlement_date} (:98A::SETT//)"
        ),
        EffectiveClock::Utc
            if settled_at.unix_nanos() < fields::date_begins_anywhere_nanos(settlement_date) =>
        {
            format!("the effective settlement, {settled_at} in UTC, is before the settlement date {settlement_date} (:98A::SETT//) has begun in any time zone (00:00 at UTC+14:00)")
        }
        _ => return Ok(()),
    };
    Err(TranslateError::at(
        TranslateCode::MtFieldsInconsistent,
        location,
        format!("{message}; a confirmation reports a settlement that took place, on or after the date it was due (ISO 15022: SETT is when the instruments are to be delivered or received, ESET when the transaction effectively settled)"),
    ))
}

/// The effective settlement: `:98E::ESET//` with its UTC indicator, converted
/// exactly; `:98C::ESET//` or a `:98E:` without indicator, a local time,
/// read as UTC and reported as derived; `:98A::ESET//` (a date alone) at
/// midnight UTC, reported as left out. The narrative's `/FRAC/` adds the
/// digits after the second that `:98E:`'s three decimals cannot hold. With
/// the instant, the clock it was written in.
fn effective_settlement(
    reader: &mut Reader<'_>,
    field: &Field,
    generic: Generic<'_>,
    path: &str,
    fraction: Option<&str>,
) -> Result<(Timestamp, EffectiveClock), TranslateError> {
    let location = reader.location(path, field);
    single_line(field, &location)?;
    if generic.scheme.is_some() || field.option() == "B" {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            location,
            format!(
                "the effective settlement is given as the code {}; ISM/1 needs the instant",
                quoted(generic.value)
            ),
        ));
    }
    let (timestamp, clock) = match field.option() {
        option @ ("C" | "E") => {
            let read = fields::date_time_98(option, generic.value, fraction, &location)?;
            if !read.zoned {
                // ISO 15022 :98C: (and :98E: without UTC indicator) is the
                // local time of the sender; without an offset it is read as UTC.
                reader.derive(
                    "body.settled_at",
                    location.clone(),
                    LOCAL_TIME_AS_UTC,
                );
            }
            let clock = match read.offset_seconds {
                Some(0) => EffectiveClock::Utc,
                _ => EffectiveClock::Local(read.written_date),
            };
            (read.timestamp, clock)
        }
        "A" => {
            if fraction.is_some() {
                return Err(TranslateError::at(
                    TranslateCode::MtFieldFormat,
                    location,
                    "the narrative gives a fraction of a second (/FRAC/) but :98A::ESET// has no time",
                ));
            }
            let date = fields::date_8n(generic.value, &location)?;
            // ISM/1 needs an instant; the date alone is read as its midnight
            // UTC, and that assumption is reported as derived, as the ISO
            // 20022 reader does for `FctvSttlmDt/Dt/Dt`.
            reader.derive(
                "body.settled_at",
                location.clone(),
                DATE_ONLY_AS_MIDNIGHT_UTC,
            );
            let midnight = Timestamp::parse(&format!("{date}T00:00:00Z"))
                .map_err(|r| TranslateError::from_rejection(r, location.as_str()))?;
            (midnight, EffectiveClock::Local(date))
        }
        _ => {
            return Err(TranslateError::at(
                TranslateCode::MtFieldFormat,
                location,
                "the effective settlement date/time is read in option A (date), C (local date and time) or E (date and time with its UTC offset)",
            ))
        }
    };
    reader.consume(field);
    Ok((timestamp, clock))
}
