//! MT548 → InstructionStatus, with the status and reason tables shared with
//! sese.024 ([`crate::status_codes`], ISM-1 §6.2 duty 1, Appendix A.1).
//!
//! MT spelling: the `:25D:` qualifiers `IPRC`, `INMH`, `MTCH`, `SETT` are
//! the status types; the `:24B:` qualifier is the status code the reason
//! explains (`PENF` for a failing settlement); `NARR` is ISO 20022's `OTHR`;
//! a data source scheme makes the code proprietary, the scheme its issuer.

use isthmus_spec::body::{InstructionState, InstructionStatus, Reason};
use isthmus_spec::ids::{ReasonCodeText, Reference, Text};

use super::confirmation::{links, narrative_lines};
use super::{check_function, sender_reference, single_line, Reader};
use crate::error::{TranslateCode, TranslateError};
use crate::mt::fields::{self, Generic};
use crate::mt::narrative;
use crate::mt::text::{Field, Sequence};
use crate::status_codes::{self, NativeCode, Part, StatusType};

/// A status of an A2 sequence that maps to an ISM/1 state.
struct Candidate<'s> {
    state: InstructionState,
    /// What the status says that the state does not (a failing settlement).
    not_carried: Option<&'static str>,
    /// The status code, which is also the qualifier of its reasons.
    code: &'s str,
    qualifier: &'s str,
    field: &'s Field,
    sequence: &'s Sequence,
    path: String,
}

/// The status type of a `:25D:` qualifier of MT548 sequence A2.
fn status_type(qualifier: &str) -> Option<StatusType> {
    Some(match qualifier {
        "IPRC" => StatusType::Processing,
        "INMH" => StatusType::InferredMatching,
        "MTCH" => StatusType::Matching,
        "SETT" => StatusType::Settlement,
        _ => return None,
    })
}

/// Reads an MT548 advising the status of an instruction (`:23G:INST`).
pub(super) fn read(
    reader: &mut Reader<'_>,
    root: &Sequence,
) -> Result<InstructionStatus, TranslateError> {
    let (genl, genl_path) = reader.one_sequence(root, "", "GENL")?;
    // The advice's own reference: checked; ISM/1 keeps it in the envelope.
    sender_reference(reader, genl, &genl_path)?;
    check_function(reader, genl, &genl_path, "INST")?;
    let links = links(reader, genl, &genl_path)?;

    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    let mut unmapped: Vec<(&Field, String, String)> = Vec::new();
    let mut any = false;
    for stat in genl.sequences_named("STAT") {
        any = true;
        let path = reader.path(&genl_path, stat);
        let (field, generic, location) =
            only_code_field(reader, stat, &path, "25", "D", "status", "status")?;
        fields::code_4c(generic.value, &location)?;
        let reading = match (generic.scheme, status_type(generic.qualifier)) {
            (None, Some(kind)) => status_codes::state_of(kind, generic.value),
            _ => None,
        };
        match reading {
            Some(reading) => candidates.push(Candidate {
                state: reading.state,
                not_carried: reading.not_carried,
                code: generic.value,
                qualifier: generic.qualifier,
                field,
                sequence: stat,
                path,
            }),
            None => unmapped.push((
                field,
                location,
                format!(
                    "{}/{}/{}",
                    generic.qualifier,
                    generic.scheme.unwrap_or(""),
                    generic.value
                ),
            )),
        }
    }
    if !any {
        return Err(TranslateError::at(
            TranslateCode::MtSequenceMissing,
            format!("{genl_path}/A2/STAT"),
            "the mandatory status sequence STAT with :25D: is missing",
        ));
    }
    // ISM-1 §6.2 duty 1: the most decisive status, the first of equals.
    let best = candidates
        .iter()
        .enumerate()
        .max_by_key(|(index, c)| (status_codes::rank(c.state), std::cmp::Reverse(*index)))
        .map(|(index, _)| index);
    let Some(chosen) = best.and_then(|index| candidates.get(index)) else {
        let (field, location, status) = unmapped
            .first()
            .map(|(f, l, s)| (Some(*f), l.clone(), s.clone()))
            .unwrap_or((None, format!("{genl_path}/A2/STAT"), String::new()));
        let line = field.map(|f| f.line).unwrap_or(0);
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            location,
            format!("no status of this advice maps to an ISM/1 state (first: {} at line {line}); ISM/1 knows IPRC//PACK, IPRC//REJT, IPRC//CAND, MTCH//MACH, MTCH//NMAT, SETT//PEND and SETT//PENF", isthmus_spec::quote::quoted(&status)),
        ));
    };
    let chosen_status = format!("{}//{}", chosen.qualifier, chosen.code);
    for candidate in candidates.iter().filter(|c| c.field.id != chosen.field.id) {
        let location = reader.location(&candidate.path, candidate.field);
        reader.note(
            candidate.field,
            location,
            format!(
                "ISM/1 InstructionStatus holds one state; {}//{} is left out in favour of {chosen_status}",
                candidate.qualifier, candidate.code
            ),
        );
    }
    for (field, location, status) in unmapped {
        reader.note(
            field,
            location,
            format!(
                "the status {} has no ISM/1 state; it is left out",
                isthmus_spec::quote::quoted(&status)
            ),
        );
    }
    match chosen.not_carried {
        Some(lost) => {
            let location = reader.location(&chosen.path, chosen.field);
            reader.note(
                chosen.field,
                location,
                format!("{chosen_status} is read as {}, but {lost}", chosen.state),
            );
        }
        None => reader.consume(chosen.field),
    }

    // MT548 has no reason qualifier for MACH: a matched status gives no reason.
    let reason = match (chosen.state, chosen.sequence.sequences_named("REAS").next()) {
        (InstructionState::Matched, _) | (_, None) => None,
        (state, Some(reas)) => {
            let path = reader.path(&chosen.path, reas);
            Some(reason(reader, reas, &path, state, chosen.code)?)
        }
    };
    Ok(InstructionStatus {
        instruction_id: links.related,
        related_message_id: None,
        status: chosen.state,
        settlement_id: links.miti,
        reason,
    })
}

/// The one `:<tag><option>::QUALIFIER/[scheme]/CODE` field of a status or
/// reason sequence, single line, with its location.
fn only_code_field<'s>(
    reader: &mut Reader<'_>,
    sequence: &'s Sequence,
    path: &str,
    tag: &str,
    option: &str,
    sequence_kind: &str,
    what: &str,
) -> Result<(&'s Field, Generic<'s>, String), TranslateError> {
    let mut found = sequence.fields().filter(|f| f.number() == tag);
    let Some(field) = found.next() else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldMissing,
            format!("{path}/:{tag}{option}:"),
            format!(
                "the {sequence_kind} sequence at line {} has no {what} (:{tag}{option}:)",
                sequence.line
            ),
        ));
    };
    let location = reader.location(path, field);
    if let Some(second) = found.next() {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(
                "a {sequence_kind} sequence holds one :{tag}{option}:; another is at line {}",
                second.line
            ),
        ));
    }
    reader.require_option(field, &location, &[option])?;
    single_line(field, &location)?;
    let Some(generic) = fields::generic(field) else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            "expected :QUALIFIER//CODE",
        ));
    };
    Ok((field, generic, location))
}

/// One A2a reason sequence: `:24B::<status>/[scheme]/<code>` and optional
/// `:70D::REAS//`, read as ISM-1 Appendix A.1 says: the Isthmus lines
/// (`/ISMC/`, `/TEXT/`, `/ISSR/`, `/SCHM/`) when present, else the code
/// through [`status_codes::read`] with the narrative as text.
fn reason(
    reader: &mut Reader<'_>,
    reas: &Sequence,
    path: &str,
    state: InstructionState,
    qualifier: &str,
) -> Result<Reason, TranslateError> {
    let (field, generic, location) =
        only_code_field(reader, reas, path, "24", "B", "reason", "reason code")?;
    if generic.qualifier != qualifier {
        return Err(TranslateError::at(
            TranslateCode::MtQualifierInvalid,
            location,
            format!(
                "the reason qualifier {} does not match the status it explains; MT548 uses the status code itself, here {qualifier}",
                generic.qualifier
            ),
        ));
    }
    fields::code_4c(generic.value, &location)?;
    reader.consume(field);
    let native = match generic.scheme {
        // NARR, "see narrative", is ISO 20022's OTHR.
        None if generic.value == "NARR" => NativeCode::Standard(status_codes::OTHER),
        None => NativeCode::Standard(generic.value),
        Some(issuer) => NativeCode::Proprietary {
            code: generic.value,
            issuer,
            scheme: None,
        },
    };

    let Some((narrative, narrative_generic)) = reader.at_most_one(reas, path, "70", "REAS")? else {
        return status_codes::read(state, native, None)
            .map_err(|problem| placed(problem, &location, &location));
    };
    let narrative_location = reader.location(path, narrative);
    reader.require_option(narrative, &narrative_location, &["D"])?;
    let lines = narrative_lines(
        narrative,
        narrative_generic,
        &narrative_location,
        narrative::REAS_LINES,
    )?;
    reader.consume(narrative);
    if !narrative::is_ours(&lines, narrative::REAS_KEYS) {
        // Free text, as a depository writes it: its lines joined with a space.
        return status_codes::read(state, native, Some(&lines.join(" ")))
            .map_err(|problem| placed(problem, &location, &narrative_location));
    }
    let items = narrative::read_items(&lines, narrative::REAS_KEYS).map_err(|message| {
        TranslateError::at(
            TranslateCode::MtFieldFormat,
            narrative_location.as_str(),
            message,
        )
    })?;
    let value = |key: &str| {
        items
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let (Some(code), Some(text)) = (value("ISMC"), value("TEXT")) else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldMissing,
            narrative_location,
            "the reason narrative needs both /ISMC/ (the ISM/1 reason code) and /TEXT/ (the sentence)",
        ));
    };
    if value("SCHM").is_some() && value("ISSR").is_none() {
        return Err(TranslateError::at(
            TranslateCode::MtFieldMissing,
            format!("{narrative_location} /ISSR/"),
            "the reason narrative gives a /SCHM/ (the issuer's code list) without /ISSR/ (the issuer)",
        ));
    }
    let code_location = format!("{narrative_location} /ISMC/");
    let code = ReasonCodeText::parse(&narrative::code_from_x(code))
        .map_err(|r| TranslateError::from_rejection(r, code_location))?;
    let text = exact_text(text, &format!("{narrative_location} /TEXT/"))?;
    let reference = |key: &str| -> Result<Option<Reference>, TranslateError> {
        value(key)
            .map(|escaped| {
                let item_location = format!("{narrative_location} /{key}/");
                let unescaped = narrative::unescape_text(escaped).map_err(|message| {
                    TranslateError::at(
                        TranslateCode::MtFieldFormat,
                        item_location.as_str(),
                        message,
                    )
                })?;
                Reference::parse(&unescaped)
                    .map_err(|r| TranslateError::from_rejection(r, item_location.as_str()))
            })
            .transpose()
    };
    Ok(Reason {
        code,
        text,
        issuer: reference("ISSR")?,
        scheme: reference("SCHM")?,
    })
}

/// The ISM/1 text of an escaped `/TEXT/` item.
fn exact_text(escaped: &str, location: &str) -> Result<Text, TranslateError> {
    let text = narrative::unescape_text(escaped)
        .map_err(|message| TranslateError::at(TranslateCode::MtFieldFormat, location, message))?;
    Text::parse(&text).map_err(|r| TranslateError::from_rejection(r, location))
}

/// A problem of a native reason, placed at the `:24B:` field (its code or
/// data source scheme) or at the narrative.
fn placed(problem: status_codes::Problem, reason_code: &str, narrative: &str) -> TranslateError {
    let location = match problem.part {
        Part::Code | Part::Issuer | Part::Scheme => reason_code,
        Part::Text => narrative,
    };
    TranslateError::at(problem.code, location, problem.message)
}
