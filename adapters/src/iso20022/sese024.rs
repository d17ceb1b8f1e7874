//! sese.024.001.12 SecuritiesSettlementTransactionStatusAdviceV12 ↔ ISM/1
//! `InstructionStatus`.
//!
//! | ISM/1 member | `/Document/SctiesSttlmTxStsAdvc/…` |
//! | --- | --- |
//! | `instruction_id` | `TxId/AcctOwnrTxId` |
//! | `settlement_id` | `TxId/MktInfrstrctrTxId` (the relay is the market infrastructure that settles) |
//! | `status` `ACCEPTED` | `PrcgSts/AckdAccptd` |
//! | `status` `REJECTED` | `PrcgSts/Rjctd` |
//! | `status` `CANCELLED` | `PrcgSts/Canc` |
//! | `status` `MATCHED` | `MtchgSts/Mtchd` |
//! | `status` `UNMATCHED` | `MtchgSts/Umtchd` |
//! | `status` `PENDING` | `SttlmSts/Pdg` (read also from `SttlmSts/Flng`: failing is still pending) |
//! | `reason` | `…/Rsn` with `Cd/Cd` `OTHR` and `AddtlRsnInf` "code: text" (cut to 210 characters), and exactly in `SplmtryData/Envlp/IsmData/Rsn` (`Cd`, `Txt`) |
//! | `related_message_id` | `SplmtryData/Envlp/IsmData/RltdMsgId` |
//!
//! Without a reason, the status says `NoSpcfdRsn` `NORE` (`Mtchd` is then empty).
//!
//! Reading a status advice written elsewhere: several status elements may be
//! present; the most decisive wins — a rejection or cancellation, then the
//! settlement status, then the matching status, then acceptance. Processing
//! states ISM/1 has no value for (pending processing, repair, pending
//! cancellation, proprietary…) are `NOT_REPRESENTABLE`. Without Isthmus
//! supplementary data, the reason is the first `Rsn`: its ISO 20022 or
//! proprietary code, and its `AddtlRsnInf` as text (or a sentence naming the
//! code when there is none).
//!
//! Lossy case: a reason text holding a character XML 1.0 cannot carry
//! (U+FFFE, U+FFFF) cannot be written. Where the status requires a reason
//! (`REJECTED`, `UNMATCHED`) that is `NOT_REPRESENTABLE`; otherwise the
//! reason is left out and listed in `Translation::unrepresented`.

use isthmus_spec::body::{InstructionState, InstructionStatus, Reason};
use isthmus_spec::ids::{MessageId, ReasonCodeText, Reference, Text};
use isthmus_spec::Body;

use super::common;
use super::read::{missing, not_representable, Node};
use super::schema::{ComplexType, Message};
use super::schema_tables as t;
use super::supplementary;
use super::write::{is_xml_text, XmlWriter};
use crate::error::{TranslateCode, TranslateError, Translation, Unrepresented};

const BLOCK: &str = "SctiesSttlmTxStsAdvc";

/// Longest `AddtlRsnInf` (Max210Text).
const MAX_NARRATIVE: usize = 210;

/// Where a status is written: the status element and the alternative in it.
fn element_of(state: InstructionState) -> (&'static str, &'static str) {
    match state {
        InstructionState::Accepted => ("PrcgSts", "AckdAccptd"),
        InstructionState::Rejected => ("PrcgSts", "Rjctd"),
        InstructionState::Cancelled => ("PrcgSts", "Canc"),
        InstructionState::Matched => ("MtchgSts", "Mtchd"),
        InstructionState::Unmatched => ("MtchgSts", "Umtchd"),
        InstructionState::Pending => ("SttlmSts", "Pdg"),
    }
}

/// The `AddtlRsnInf` written for a reason: "CODE: text", cut to 210 characters.
fn narrative(reason: &Reason) -> String {
    let full = format!("{}: {}", reason.code, reason.text);
    if full.chars().count() <= MAX_NARRATIVE {
        return full;
    }
    let mut cut: String = full.chars().take(MAX_NARRATIVE - 1).collect();
    cut.push('…');
    cut
}

/// The content models of one status alternative with reasons: the status
/// choice (`NoSpcfdRsn` or `Rsn`), the reason, and the reason-code choice.
struct ReasonTypes {
    status: &'static ComplexType,
    reason: &'static ComplexType,
    code: &'static ComplexType,
}

fn reason_types(alternative: &str) -> Option<ReasonTypes> {
    let (status, reason, code) = match alternative {
        "AckdAccptd" => (
            &t::ACKNOWLEDGED_ACCEPTED_STATUS_21_CHOICE,
            &t::ACKNOWLEDGEMENT_REASON_9,
            &t::ACKNOWLEDGEMENT_REASON_12_CHOICE,
        ),
        "Rjctd" => (
            &t::REJECTION_STATUS_39_CHOICE,
            &t::REJECTION_REASON_59,
            &t::REJECTION_REASON_44_CHOICE,
        ),
        "Canc" => (
            &t::CANCELLATION_STATUS_24_CHOICE,
            &t::CANCELLATION_REASON_22,
            &t::CANCELLATION_REASON_36_CHOICE,
        ),
        "Umtchd" => (
            &t::UNMATCHED_STATUS_16_CHOICE,
            &t::UNMATCHED_REASON_15,
            &t::UNMATCHED_REASON_21_CHOICE,
        ),
        "Pdg" => (
            &t::PENDING_STATUS_67_CHOICE,
            &t::PENDING_REASON_30,
            &t::PENDING_REASON_63_CHOICE,
        ),
        "Flng" => (
            &t::FAILING_STATUS_13_CHOICE,
            &t::FAILING_REASON_11,
            &t::FAILING_REASON_16_CHOICE,
        ),
        _ => return None,
    };
    Some(ReasonTypes {
        status,
        reason,
        code,
    })
}

/// Builds an ISM/1 reason from an ISO 20022 code and optional narrative.
fn reason_from(
    code: &super::read::Leaf<'_>,
    narrative: Option<super::read::Leaf<'_>>,
) -> Result<Reason, TranslateError> {
    let code_text = code.ism(ReasonCodeText::parse)?;
    let text = match narrative {
        Some(narrative) => narrative.ism(Text::parse)?,
        None => Text::parse(&format!(
            "ISO 20022 reason code {code_text}, given without narrative"
        ))
        .map_err(TranslateError::from)?,
    };
    Ok(Reason::new(code_text, text))
}

/// The first reason of a status alternative, if it gives one.
fn iso_reason(parent: &Node<'_>, alternative: &str) -> Result<Option<Reason>, TranslateError> {
    if alternative == "Mtchd" {
        let Some(matched) = parent.node("Mtchd", &t::PROPRIETARY_REASON_4)? else {
            return Ok(None);
        };
        return match matched.node("Rsn", &t::GENERIC_IDENTIFICATION_30)? {
            Some(code) => {
                reason_from(&code.required_leaf("Id", "")?, matched.leaf("AddtlRsnInf")).map(Some)
            }
            None => Ok(None),
        };
    }
    let Some(types) = reason_types(alternative) else {
        return Ok(None);
    };
    let Some(status) = parent.node(alternative, types.status)? else {
        return Ok(None);
    };
    let Some(first) = status.nodes("Rsn", types.reason)?.into_iter().next() else {
        return Ok(None); // NoSpcfdRsn
    };
    let code = first.required_node("Cd", types.code, "")?;
    let code_leaf = match code.leaf("Cd") {
        Some(leaf) => leaf,
        None => code
            .required_node("Prtry", &t::GENERIC_IDENTIFICATION_30, "")?
            .required_leaf("Id", "")?,
    };
    reason_from(&code_leaf, first.leaf("AddtlRsnInf")).map(Some)
}

/// The ISM/1 state and where it was read (status element node and alternative).
struct Found<'a> {
    state: InstructionState,
    parent: Node<'a>,
    alternative: &'a str,
}

fn unsupported_state(node: &Node<'_>, what: &str) -> TranslateError {
    not_representable(
        &format!("{}/{}", node.path(), node.chosen()),
        format!(
            "the {what} status {} has no ISM/1 InstructionState (ACCEPTED, REJECTED, MATCHED, UNMATCHED, PENDING, CANCELLED)",
            node.chosen()
        ),
    )
}

/// Decides the one ISM/1 state a status advice reports (see the module doc).
fn state<'a>(block: &Node<'a>) -> Result<Found<'a>, TranslateError> {
    let processing = block.node("PrcgSts", &t::PROCESSING_STATUS_88_CHOICE)?;
    let mut accepted = None;
    if let Some(processing) = processing {
        let state = match processing.chosen() {
            "Rjctd" => InstructionState::Rejected,
            "Canc" => InstructionState::Cancelled,
            "AckdAccptd" => InstructionState::Accepted,
            _ => return Err(unsupported_state(&processing, "processing")),
        };
        let alternative = processing.chosen();
        let found = Found {
            state,
            parent: processing,
            alternative,
        };
        if state != InstructionState::Accepted {
            return Ok(found);
        }
        accepted = Some(found);
    }
    if let Some(settlement) = block.node("SttlmSts", &t::SETTLEMENT_STATUS_30_CHOICE)? {
        if !matches!(settlement.chosen(), "Pdg" | "Flng") {
            return Err(unsupported_state(&settlement, "settlement"));
        }
        let alternative = settlement.chosen();
        return Ok(Found {
            state: InstructionState::Pending,
            parent: settlement,
            alternative,
        });
    }
    if let Some(matching) = block.node("MtchgSts", &t::MATCHING_STATUS_24_CHOICE)? {
        let state = match matching.chosen() {
            "Mtchd" => InstructionState::Matched,
            "Umtchd" => InstructionState::Unmatched,
            _ => return Err(unsupported_state(&matching, "matching")),
        };
        let alternative = matching.chosen();
        return Ok(Found {
            state,
            parent: matching,
            alternative,
        });
    }
    accepted.ok_or_else(|| {
        missing(
            &format!("{}/PrcgSts", block.path()),
            "a status advice must state a processing, matching or settlement status",
        )
    })
}

/// Reads a sese.024 `Document` into an `InstructionStatus`.
pub(crate) fn read(document: &Node<'_>) -> Result<Body, TranslateError> {
    let block = document.required_node(
        BLOCK,
        &t::SECURITIES_SETTLEMENT_TRANSACTION_STATUS_ADVICE_V12,
        "",
    )?;
    let ids = block.required_node("TxId", &t::TRANSACTION_IDENTIFICATIONS_47, "")?;
    let instruction_id = ids
        .required_leaf("AcctOwnrTxId", "")?
        .ism(Reference::parse)?;
    let settlement_id = ids
        .leaf("MktInfrstrctrTxId")
        .map(|id| id.ism(Reference::parse))
        .transpose()?;
    let found = state(&block)?;
    let status_path = format!("{}/{}", found.parent.path(), found.alternative);

    let data = supplementary::find(&block, &supplementary::STATUS_DATA)?;
    let related_message_id = match &data {
        Some(data) => data
            .leaf("RltdMsgId")
            .map(|id| id.ism(MessageId::parse))
            .transpose()?,
        None => None,
    };
    let exact_reason = match &data {
        Some(data) => match data.node("Rsn", &supplementary::REASON)? {
            Some(reason) => Some(Reason::new(
                reason.required_leaf("Cd", "")?.ism(ReasonCodeText::parse)?,
                reason.required_leaf("Txt", "")?.ism(Text::parse)?,
            )),
            None => None,
        },
        None => None,
    };
    // The status element is read (and so checked) even when Isthmus's exact
    // reason, which wins, is there.
    let iso = iso_reason(&found.parent, found.alternative)?;
    let reason = exact_reason.or(iso);

    let status = InstructionStatus {
        instruction_id,
        related_message_id,
        status: found.state,
        settlement_id,
        reason,
    };
    common::checked(Body::InstructionStatus(status), |ism| {
        (ism == "body.reason").then(|| status_path.clone())
    })
}

/// Writes the status alternative `alternative` with an optional reason.
fn write_status(
    w: &mut XmlWriter,
    alternative: &str,
    reason: Option<&Reason>,
) -> Result<(), TranslateError> {
    if alternative == "Mtchd" {
        return match reason {
            Some(reason) => w.element("Mtchd", |w| w.leaf("AddtlRsnInf", &narrative(reason))),
            None => w.empty("Mtchd"),
        };
    }
    w.element(alternative, |w| match reason {
        Some(reason) => w.element("Rsn", |w| {
            w.element("Cd", |w| w.leaf("Cd", "OTHR"))?;
            w.leaf("AddtlRsnInf", &narrative(reason))
        }),
        None => w.leaf("NoSpcfdRsn", "NORE"),
    })
}

/// Writes an `InstructionStatus` as a sese.024 document.
pub(crate) fn write(status: &InstructionStatus) -> Result<Translation<Vec<u8>>, TranslateError> {
    let mut unrepresented = Vec::new();
    let reason = match &status.reason {
        Some(reason) if !is_xml_text(reason.text.as_str()) => {
            let needs_reason = matches!(
                status.status,
                InstructionState::Rejected | InstructionState::Unmatched
            );
            if needs_reason {
                return Err(TranslateError::at(
                    TranslateCode::NotRepresentable,
                    "body.reason.text",
                    format!(
                        "the reason text holds a character XML 1.0 cannot carry, and a {} status must give its reason",
                        status.status
                    ),
                ));
            }
            unrepresented.push(Unrepresented {
                field: "body.reason".to_string(),
                reason: "the reason text holds a character XML 1.0 cannot carry (U+FFFE or U+FFFF); the reason is left out".to_string(),
            });
            None
        }
        other => other.as_ref(),
    };

    let mut w = XmlWriter::document(Message::Sese024.namespace())?;
    w.element(BLOCK, |w| {
        w.element("TxId", |w| {
            w.leaf("AcctOwnrTxId", status.instruction_id.as_str())?;
            if let Some(settlement) = &status.settlement_id {
                w.leaf("MktInfrstrctrTxId", settlement.as_str())?;
            }
            Ok(())
        })?;
        let (status_element, alternative) = element_of(status.status);
        w.element(status_element, |w| write_status(w, alternative, reason))?;
        if status.related_message_id.is_some() || reason.is_some() {
            supplementary::write(w, BLOCK, |w| {
                if let Some(id) = &status.related_message_id {
                    w.leaf("RltdMsgId", id.as_str())?;
                }
                if let Some(reason) = reason {
                    w.element("Rsn", |w| {
                        w.leaf("Cd", reason.code.as_str())?;
                        w.leaf("Txt", reason.text.as_str())
                    })?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(Translation::lossy(w.finish()?, unrepresented))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrative_fits_max210text() {
        let reason = Reason::new(
            ReasonCodeText::parse("UNMATCHED_QUANTITY").unwrap(),
            Text::parse(&"é".repeat(512)).unwrap(),
        );
        let text = narrative(&reason);
        assert_eq!(text.chars().count(), MAX_NARRATIVE);
        assert!(text.starts_with("UNMATCHED_QUANTITY: éé") && text.ends_with('…'));
    }
}
