//! InstructionStatus → MT548, with the status and reason tables shared with
//! sese.024 ([`crate::status_codes`], ISM-1 Appendix A.1).

use isthmus_spec::body::{InstructionState, InstructionStatus, Reason};

use super::{reference_16, Lines};
use crate::error::{TranslateCode, TranslateError, Translation, Unrepresented};
use crate::mt::fields::{self, is_x_char, LINE_CHARS};
use crate::mt::fin;
use crate::mt::narrative::{self, REAS_LINES};
use crate::mt::{ADVICE_RECEIVER_ADDRESS, ADVICE_SENDER_ADDRESS};
use crate::status_codes::{self, NativeCode, StatusType};

/// The `:25D:` qualifier of a status type.
fn qualifier(kind: StatusType) -> &'static str {
    match kind {
        StatusType::Processing => "IPRC",
        StatusType::InferredMatching => "INMH",
        StatusType::Matching => "MTCH",
        StatusType::Settlement => "SETT",
    }
}

/// Whether an issuer fits the `8c` data source scheme of `:24B:`.
fn fits_data_source_scheme(issuer: &str) -> bool {
    (1..=8).contains(&issuer.len())
        && issuer
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A sentence as plain `:70D::REAS//` lines that a reader joins back with
/// one space into exactly the same text, if it can be written so: `x`
/// characters only, words separated by single spaces, no line over 35
/// characters or starting with `:` or `-` (which would start a field or
/// end the block), not starting with `/` (which would look like Isthmus
/// lines), at most 6 lines.
fn plain_lines(text: &str) -> Option<Vec<String>> {
    if !text.chars().all(is_x_char) || text.starts_with('/') {
        return None;
    }
    let words: Vec<&str> = text.split(' ').collect();
    if words
        .iter()
        .any(|w| w.is_empty() || w.chars().count() > LINE_CHARS)
    {
        return None; // a leading, trailing or double space, or a word longer than a line
    }
    let mut lines: Vec<String> = Vec::new();
    for word in words {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= LINE_CHARS => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    let breaks_structure = lines
        .iter()
        .skip(1)
        .any(|line| line.starts_with(':') || line.starts_with('-'));
    (lines.len() <= REAS_LINES && !breaks_structure).then_some(lines)
}

/// The `:24B:` value (`qualifier/[scheme]/code`) and the `:70D::REAS//`
/// lines of a reason: the code [`status_codes::native_code`] gives, the
/// text as plain lines; and the Isthmus lines (`/ISMC/`, `/TEXT/`,
/// `/ISSR/`, `/SCHM/`) instead when the plain form would not read back as
/// exactly this reason.
fn reason_fields(
    state: InstructionState,
    reason: &Reason,
    qualifier: &str,
) -> (String, Option<Vec<String>>) {
    let native = status_codes::native_code(state, reason, fits_data_source_scheme);
    // What MT548 can hold of it: no scheme, NARR for OTHR.
    let (as_read, reason_code) = match native {
        NativeCode::Standard(code) => {
            let mt = if code == status_codes::OTHER {
                "NARR"
            } else {
                code
            };
            (native, format!("{qualifier}//{mt}"))
        }
        NativeCode::Proprietary { code, issuer, .. } => (
            NativeCode::Proprietary {
                code,
                issuer,
                scheme: None,
            },
            format!("{qualifier}/{issuer}/{code}"),
        ),
    };
    let plain = match status_codes::narrative_of(reason, as_read) {
        None => Some(None),
        Some(text) => plain_lines(text).map(Some),
    };
    if let Some(lines) = plain {
        let read_back = lines.as_ref().map(|l| l.join(" "));
        if status_codes::reads_back(state, reason, as_read, read_back.as_deref()) {
            return (reason_code, lines);
        }
    }
    let code_x = narrative::code_to_x(reason.code.as_str());
    let text_x = narrative::escape_text(reason.text.as_str());
    let mut items: Vec<(&str, String)> = vec![("ISMC", code_x), ("TEXT", text_x)];
    if let Some(issuer) = &reason.issuer {
        items.push(("ISSR", narrative::escape_text(issuer.as_str())));
    }
    if let Some(scheme) = &reason.scheme {
        items.push(("SCHM", narrative::escape_text(scheme.as_str())));
    }
    let items: Vec<(&str, &str)> = items.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (reason_code, Some(narrative::write_items(&items)))
}

/// Writes a status advice (`:23G:INST`). What MT548 cannot carry is listed
/// in the translation: the related message id (an ISM/1 envelope id), a
/// settlement id over 16 characters, a reason of a MATCHED status (MT548 has
/// no reason qualifier for MACH), and an optional reason whose exact form
/// does not fit the 6 lines of `:70D::REAS//`. A required reason (REJECTED,
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
    let (status_type, status_code) = status_codes::status_of(body.status);

    let mut reason_sequence: Option<(String, Option<Vec<String>>)> = None;
    if let Some(reason) = &body.reason {
        if body.status == InstructionState::Matched {
            unrepresented.push(Unrepresented {
                field: "body.reason".into(),
                reason: "MT548 gives no reason for a matched status (:24B: has no MACH qualifier)"
                    .into(),
            });
        } else {
            // MT548 usage rule: the reason's qualifier is the status code it explains.
            let (reason_code, lines) = reason_fields(body.status, reason, status_code);
            let needed = lines.as_ref().map_or(0, Vec::len);
            if needed <= REAS_LINES {
                reason_sequence = Some((reason_code, lines));
            } else if matches!(
                body.status,
                InstructionState::Rejected | InstructionState::Unmatched
            ) {
                return Err(TranslateError::at(
                    TranslateCode::NotRepresentable,
                    "body.reason.text",
                    format!("the reason needs {needed} lines of :70D::REAS// and the field holds {REAS_LINES}; a {} status needs its reason, so it is refused rather than cut", body.status),
                ));
            } else {
                unrepresented.push(Unrepresented {
                    field: "body.reason".into(),
                    reason: format!(
                        "the reason needs {needed} lines of :70D::REAS//, which holds {REAS_LINES}"
                    ),
                });
            }
        }
    }

    let mut lines = Lines::default();
    lines.open("GENL");
    lines.own_reference();
    lines.field("23G", "INST");
    lines.advice_links(rela, miti);
    lines.open("STAT");
    lines.qualified("25D", qualifier(status_type), status_code);
    if let Some((reason_code, narrative)) = &reason_sequence {
        lines.open("REAS");
        lines.field("24B", &format!(":{reason_code}"));
        if let Some(narrative) = narrative {
            lines.narrative("70D", "REAS", narrative);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_read_back_as_the_text() {
        let text = "INSUFFICIENT SECURITIES IN ACCOUNT OF DELIVERING PARTY";
        let lines = plain_lines(text).unwrap();
        assert!(lines.iter().all(|l| l.chars().count() <= LINE_CHARS));
        assert_eq!(lines.join(" "), text);
        let field_like = format!("{} :25D::IPRC//PACK", "a".repeat(34));
        for refused in [
            " leading",
            "trailing ",
            "two  spaces",
            "/ISMC/X",
            "café",
            field_like.as_str(),
            "braces {} are outside the x set",
        ] {
            assert_eq!(plain_lines(refused), None, "{refused:?}");
        }
        assert_eq!(plain_lines("word ".repeat(60).trim_end()), None);
    }
}
