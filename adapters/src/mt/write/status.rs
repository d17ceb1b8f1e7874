//! InstructionStatus → MT548.

use isthmus_spec::body::{InstructionState, InstructionStatus};

use super::{reference_16, Lines};
use crate::error::{TranslateCode, TranslateError, Translation, Unrepresented};
use crate::mt::codes;
use crate::mt::fields;
use crate::mt::fin;
use crate::mt::narrative::{self, REAS_LINES};
use crate::mt::{ADVICE_RECEIVER_ADDRESS, ADVICE_SENDER_ADDRESS};

/// Writes a status advice (`:23G:INST`). What MT548 cannot carry is listed
/// in the translation: the related message id (an ISM/1 envelope id), a
/// settlement id over 16 characters, a reason of a MATCHED status (MT548 has
/// no reason qualifier for MACH), and an optional reason whose sentence does
/// not fit the 6 lines of `:70D::REAS//`. A required reason (REJECTED,
/// UNMATCHED) that does not fit is refused.
pub(super) fn write(body: &InstructionStatus) -> Result<Translation<Vec<u8>>, TranslateError> {
    let rela = reference_16(&body.instruction_id, "body.instruction_id", ":20C::RELA//")?;
    let mut unrepresented = Vec::new();
    if let Some(id) = &body.related_message_id {
        unrepresented.push(Unrepresented {
            field: "body.related_message_id".into(),
            reason: format!("MT548 has no field for the ISM/1 message id {id} of the instruction; it links the instruction by its reference in :20C::RELA// instead"),
        });
    }
    let miti = match &body.settlement_id {
        Some(id) if id.as_str().chars().count() <= fields::REFERENCE_CHARS => Some(id.as_str()),
        Some(id) => {
            unrepresented.push(Unrepresented {
                field: "body.settlement_id".into(),
                reason: format!("\"{id}\" is longer than the 16 characters of :20C::MITI//, and MT548 has no narrative outside a reason to carry it"),
            });
            None
        }
        None => None,
    };
    let (status_qualifier, status_code) = codes::state_to_mt(body.status);

    let mut reason_fields: Option<(String, Vec<String>)> = None;
    if let Some(reason) = &body.reason {
        match codes::reason_qualifier(body.status) {
            None => unrepresented.push(Unrepresented {
                field: "body.reason".into(),
                reason: "MT548 gives no reason for a matched status (:24B: has no MACH qualifier)"
                    .into(),
            }),
            Some(qualifier) => {
                let (scheme, code) = codes::reason_to_mt(reason.code.as_str(), qualifier);
                let code_x = narrative::code_to_x(reason.code.as_str());
                let text_x = narrative::escape_text(reason.text.as_str());
                let lines = narrative::write_items(&[("ISMC", &code_x), ("TEXT", &text_x)]);
                if lines.len() <= REAS_LINES {
                    let reason_code = format!("{qualifier}/{}/{code}", scheme.unwrap_or_default());
                    reason_fields = Some((reason_code, lines));
                } else if matches!(
                    body.status,
                    InstructionState::Rejected | InstructionState::Unmatched
                ) {
                    return Err(TranslateError::at(
                        TranslateCode::NotRepresentable,
                        "body.reason.text",
                        format!("the reason needs {} lines of :70D::REAS// and the field holds {REAS_LINES}; a {} status needs its reason, so it is refused rather than cut", lines.len(), body.status),
                    ));
                } else {
                    unrepresented.push(Unrepresented {
                        field: "body.reason".into(),
                        reason: format!(
                            "the reason needs {} lines of :70D::REAS//, which holds {REAS_LINES}",
                            lines.len()
                        ),
                    });
                }
            }
        }
    }

    let mut lines = Lines::default();
    lines.open("GENL");
    lines.own_reference();
    lines.field("23G", "INST");
    lines.advice_links(rela, miti);
    lines.open("STAT");
    lines.qualified("25D", status_qualifier, status_code);
    if let Some((reason_code, narrative)) = &reason_fields {
        lines.open("REAS");
        lines.field("24B", &format!(":{reason_code}"));
        lines.narrative("70D", "REAS", narrative);
        lines.close("REAS");
    }
    lines.close("STAT");
    lines.close("GENL");

    let bytes = fin::write(
        548,
        ADVICE_SENDER_ADDRESS,
        ADVICE_RECEIVER_ADDRESS,
        &lines.finish(548),
    );
    Ok(Translation::lossy(bytes, unrepresented))
}
