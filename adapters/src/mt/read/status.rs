//! MT548 → InstructionStatus.

use isthmus_spec::body::{InstructionState, InstructionStatus, Reason};
use isthmus_spec::ids::{ReasonCodeText, Text};

use super::confirmation::{links, narrative_lines};
use super::{check_function, sender_reference, single_line, Reader};
use crate::error::{TranslateCode, TranslateError};
use crate::mt::codes;
use crate::mt::fields::{self, Generic};
use crate::mt::narrative;
use crate::mt::text::{Field, Sequence};

/// A status of an A2 sequence that maps to an ISM/1 state.
struct Candidate<'s> {
    state: InstructionState,
    field: &'s Field,
    sequence: &'s Sequence,
    path: String,
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
        let state = match generic.scheme {
            None => codes::state_from_mt(generic.qualifier, generic.value),
            Some(_) => None,
        };
        match state {
            Some(state) => candidates.push(Candidate {
                state,
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
    let best = candidates
        .iter()
        .enumerate()
        .max_by_key(|(index, c)| (codes::state_rank(c.state), std::cmp::Reverse(*index)))
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
            format!("no status of this advice maps to an ISM/1 state (first: {status} at line {line}); ISM/1 knows IPRC//PACK, IPRC//REJT, IPRC//CAND, MTCH//MACH, MTCH//NMAT and SETT//PEND"),
        ));
    };
    let (chosen_qualifier, chosen_code) = codes::state_to_mt(chosen.state);
    for candidate in candidates.iter().filter(|c| c.field.id != chosen.field.id) {
        let (q, c) = codes::state_to_mt(candidate.state);
        let location = reader.location(&candidate.path, candidate.field);
        reader.note(
            candidate.field,
            location,
            format!("ISM/1 InstructionStatus holds one state; {q}//{c} is left out in favour of {chosen_qualifier}//{chosen_code}"),
        );
    }
    for (field, location, status) in unmapped {
        reader.note(
            field,
            location,
            format!("the status {status} has no ISM/1 state; it is left out"),
        );
    }
    reader.consume(chosen.field);

    let reason = match codes::reason_qualifier(chosen.state) {
        Some(qualifier) => match chosen.sequence.sequences_named("REAS").next() {
            Some(reas) => {
                let path = reader.path(&chosen.path, reas);
                Some(reason(reader, reas, &path, qualifier)?)
            }
            None => None,
        },
        None => None,
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

/// One A2a reason sequence: `:24B::<status>/[scheme]/<code>` and optional `:70D::REAS//`.
fn reason(
    reader: &mut Reader<'_>,
    reas: &Sequence,
    path: &str,
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
    let mt_code = codes::reason_from_mt(qualifier, generic.scheme, generic.value);
    let given = format!(
        ":24B::{qualifier}/{}/{}",
        generic.scheme.unwrap_or(""),
        generic.value
    );

    let Some((narrative, narrative_generic)) = reader.at_most_one(reas, path, "70", "REAS")? else {
        let text = format!("the MT548 gives reason {given} without a narrative");
        return Ok(Reason::new(
            ReasonCodeText::parse(&mt_code)
                .map_err(|r| TranslateError::from_rejection(r, location.as_str()))?,
            Text::parse(&text).map_err(|r| TranslateError::from_rejection(r, location.as_str()))?,
        ));
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
        let text = lines.join(" ");
        return Ok(Reason::new(
            ReasonCodeText::parse(&mt_code)
                .map_err(|r| TranslateError::from_rejection(r, location.as_str()))?,
            Text::parse(&text)
                .map_err(|r| TranslateError::from_rejection(r, narrative_location.as_str()))?,
        ));
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
    let code_location = format!("{narrative_location} /ISMC/");
    let text_location = format!("{narrative_location} /TEXT/");
    let code = ReasonCodeText::parse(&narrative::code_from_x(code))
        .map_err(|r| TranslateError::from_rejection(r, code_location))?;
    let text = narrative::unescape_text(text).map_err(|message| {
        TranslateError::at(
            TranslateCode::MtFieldFormat,
            text_location.as_str(),
            message,
        )
    })?;
    let text = Text::parse(&text).map_err(|r| TranslateError::from_rejection(r, text_location))?;
    Ok(Reason::new(code, text))
}
