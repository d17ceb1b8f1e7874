//! sese.024.001.12 SecuritiesSettlementTransactionStatusAdviceV12 ↔ ISM/1
//! `InstructionStatus`, with the status and reason tables shared with MT548
//! ([`crate::status_codes`], ISM-1 §6.2 duty 1, Appendix A.1).
//!
//! | ISM/1 member | `/Document/SctiesSttlmTxStsAdvc/…` |
//! | --- | --- |
//! | `instruction_id` | `TxId/AcctOwnrTxId` |
//! | `settlement_id` | `TxId/MktInfrstrctrTxId` (the relay is the market infrastructure that settles) |
//! | `status` `ACCEPTED` | `PrcgSts/AckdAccptd` (ISO 15022 `IPRC//PACK`) |
//! | `status` `REJECTED` | `PrcgSts/Rjctd` (`IPRC//REJT`) |
//! | `status` `CANCELLED` | `PrcgSts/Canc` (`IPRC//CAND`) |
//! | `status` `MATCHED` | `MtchgSts/Mtchd` (`MTCH//MACH`) |
//! | `status` `UNMATCHED` | `MtchgSts/Umtchd` (`MTCH//NMAT`) |
//! | `status` `PENDING` | `SttlmSts/Pdg` (`SETT//PEND`); read also from `SttlmSts/Flng` (`SETT//PENF`), the failing reported as not carried |
//! | `reason.code` | the first `…/Rsn/Cd`: `Cd` (a standard code: its ISM/1 name, else `ISO_<code>`) or `Prtry/Id` (`PRTRY_<code>`); in `Mtchd`, `Rsn/Id` |
//! | `reason.issuer`, `reason.scheme` | `…/Rsn/Cd/Prtry/Issr`, `SchmeNm` |
//! | `reason.text` | `…/Rsn/AddtlRsnInf` (Max210Text) |
//! | exact reason, when the above does not read back as it | `SplmtryData/Envlp/IsmData/Rsn` (`Cd`, `Txt`, `Issr`, `SchmeNm`) |
//! | `related_message_id` | `SplmtryData/Envlp/IsmData/RltdMsgId` |
//!
//! Writing: the reason code is the one [`status_codes::native_code`] gives
//! (`OTHR` when the ISM/1 code has no ISO 20022 form under the status), the
//! text goes in `AddtlRsnInf` (cut to 210 characters when longer), and the
//! exact reason goes in the Isthmus supplementary data only when reading the
//! status element alone would not give it back. Without a reason, the status
//! says `NoSpcfdRsn` `NORE` (`Mtchd` is then empty).
//!
//! Reading a status advice written elsewhere: every status element is read;
//! the most decisive status with an ISM/1 state wins (ISM-1 §6.2 duty 1) —
//! a cancellation, a rejection, the settlement status, the matching status,
//! an acceptance. Every other status element (superseded ones, and those
//! ISM/1 has no state for: pending processing, repair, pending cancellation,
//! inferred matching, proprietary statuses…), every reason after the first,
//! and a failing settlement read as PENDING are listed in
//! `Translation::unrepresented`; the advice is refused (`NOT_REPRESENTABLE`)
//! only when no status has a state. The Isthmus supplementary reason, when
//! present, wins over the status element's.
//!
//! Lossy case: a reason text holding a character XML 1.0 cannot carry
//! (U+FFFE, U+FFFF) cannot be written. Where the status requires a reason
//! (`REJECTED`, `UNMATCHED`) that is `NOT_REPRESENTABLE`; otherwise the
//! reason is left out and listed in `Translation::unrepresented`.

use isthmus_spec::body::{InstructionState, InstructionStatus, Reason};
use isthmus_spec::ids::{MessageId, Reference};
use isthmus_spec::Body;

use super::common;
use super::read::{missing, not_representable, Leaf, Node};
use super::schema::{ComplexType, Message};
use super::schema_tables as t;
use super::supplementary;
use super::write::{is_xml_text, XmlWriter};
use crate::error::{TranslateCode, TranslateError, Translation, Unrepresented};
use crate::status_codes::{self, NativeCode, Part, StatusType};

const BLOCK: &str = "SctiesSttlmTxStsAdvc";

/// Longest `AddtlRsnInf` (Max210Text).
const MAX_NARRATIVE: usize = 210;

/// The ISO 20022 spelling of ISO 15022 statuses: status element, its
/// alternative, the status type and code (the ISO 15022 synonyms of the
/// sese.024 message definition). `Prtry` alternatives have none.
const ALTERNATIVES: &[(&str, &str, StatusType, &str)] = &[
    ("PrcgSts", "AckdAccptd", StatusType::Processing, "PACK"),
    ("PrcgSts", "PdgPrcg", StatusType::Processing, "PPRC"),
    ("PrcgSts", "Rjctd", StatusType::Processing, "REJT"),
    ("PrcgSts", "Rpr", StatusType::Processing, "REPR"),
    ("PrcgSts", "Canc", StatusType::Processing, "CAND"),
    ("PrcgSts", "PdgCxl", StatusType::Processing, "CANP"),
    ("PrcgSts", "CxlReqd", StatusType::Processing, "CPRC"),
    ("PrcgSts", "ModReqd", StatusType::Processing, "MPRC"),
    (
        "IfrrdMtchgSts",
        "Mtchd",
        StatusType::InferredMatching,
        "MACH",
    ),
    (
        "IfrrdMtchgSts",
        "Umtchd",
        StatusType::InferredMatching,
        "NMAT",
    ),
    ("MtchgSts", "Mtchd", StatusType::Matching, "MACH"),
    ("MtchgSts", "Umtchd", StatusType::Matching, "NMAT"),
    ("SttlmSts", "Pdg", StatusType::Settlement, "PEND"),
    ("SttlmSts", "Flng", StatusType::Settlement, "PENF"),
];

/// The status elements of the block, in schema order, with their content models.
fn status_elements() -> [(&'static str, &'static ComplexType); 4] {
    [
        ("PrcgSts", &t::PROCESSING_STATUS_88_CHOICE),
        ("IfrrdMtchgSts", &t::MATCHING_STATUS_24_CHOICE),
        ("MtchgSts", &t::MATCHING_STATUS_24_CHOICE),
        ("SttlmSts", &t::SETTLEMENT_STATUS_30_CHOICE),
    ]
}

/// Where a status is written: the status element and the alternative in it.
fn element_of(state: InstructionState) -> (&'static str, &'static str) {
    let (kind, code) = status_codes::status_of(state);
    ALTERNATIVES
        .iter()
        .find(|(element, _, k, c)| *element != "IfrrdMtchgSts" && *k == kind && *c == code)
        .map(|(element, alternative, _, _)| (*element, *alternative))
        // Every written status has a row; the test `every_state_has_its_element` checks it.
        .unwrap_or(("PrcgSts", "AckdAccptd"))
}

/// `AddtlRsnInf` for a narrative: itself, or cut to 210 characters.
fn addtl_rsn_inf(text: &str) -> String {
    if text.chars().count() <= MAX_NARRATIVE {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_NARRATIVE - 1).collect();
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

/// A `GenericIdentification30` proprietary code: `Id`, `Issr`, `SchmeNm`.
struct ProprietaryLeaves<'a> {
    id: Leaf<'a>,
    issuer: Leaf<'a>,
    scheme: Option<Leaf<'a>>,
}

fn proprietary_leaves<'a>(node: &Node<'a>) -> Result<ProprietaryLeaves<'a>, TranslateError> {
    Ok(ProprietaryLeaves {
        id: node.required_leaf("Id", "")?,
        issuer: node.required_leaf("Issr", "")?,
        scheme: node.leaf("SchmeNm"),
    })
}

/// Reads one native reason through the shared table, placing a problem at
/// the element it concerns.
fn read_native(
    state: InstructionState,
    code: Result<&str, &ProprietaryLeaves<'_>>,
    code_path: &str,
    narrative: Option<&Leaf<'_>>,
) -> Result<Reason, TranslateError> {
    let native = match code {
        Ok(code) => NativeCode::Standard(code),
        Err(leaves) => NativeCode::Proprietary {
            code: leaves.id.text(),
            issuer: leaves.issuer.text(),
            scheme: leaves.scheme.as_ref().map(Leaf::text),
        },
    };
    status_codes::read(state, native, narrative.map(Leaf::text)).map_err(|problem| {
        let path = match (problem.part, code) {
            (Part::Code, Err(leaves)) => leaves.id.path().to_string(),
            (Part::Issuer, Err(leaves)) => leaves.issuer.path().to_string(),
            (Part::Scheme, Err(leaves)) => leaves
                .scheme
                .as_ref()
                .map_or_else(|| code_path.to_string(), |s| s.path().to_string()),
            (Part::Text, _) => {
                narrative.map_or_else(|| code_path.to_string(), |n| n.path().to_string())
            }
            _ => code_path.to_string(),
        };
        TranslateError::at(problem.code, path, problem.message)
    })
}

/// The first reason of the chosen status alternative, if it gives one; later
/// reasons are reported in `left_out`.
fn iso_reason(
    state: InstructionState,
    parent: &Node<'_>,
    alternative: &str,
    left_out: &mut Vec<Unrepresented>,
) -> Result<Option<Reason>, TranslateError> {
    if alternative == "Mtchd" {
        let Some(matched) = parent.node("Mtchd", &t::PROPRIETARY_REASON_4)? else {
            return Ok(None);
        };
        let narrative = matched.leaf("AddtlRsnInf");
        return match matched.node("Rsn", &t::GENERIC_IDENTIFICATION_30)? {
            Some(code) => {
                let leaves = proprietary_leaves(&code)?;
                read_native(state, Err(&leaves), code.path(), narrative.as_ref()).map(Some)
            }
            // A narrative without a code: "see narrative".
            None => match narrative {
                Some(narrative) => read_native(
                    state,
                    Ok(status_codes::OTHER),
                    narrative.path(),
                    Some(&narrative),
                )
                .map(Some),
                None => Ok(None),
            },
        };
    }
    let Some(types) = reason_types(alternative) else {
        return Ok(None);
    };
    let Some(status) = parent.node(alternative, types.status)? else {
        return Ok(None);
    };
    let reasons = status.nodes("Rsn", types.reason)?;
    let mut reasons = reasons.into_iter();
    let Some(first) = reasons.next() else {
        return Ok(None); // NoSpcfdRsn
    };
    for later in reasons {
        left_out.push(Unrepresented {
            field: later.path().to_string(),
            reason: "ISM/1 InstructionStatus carries one reason, the status's first; this one is left out".into(),
        });
    }
    let code = first.required_node("Cd", types.code, "")?;
    let narrative = first.leaf("AddtlRsnInf");
    match code.leaf("Cd") {
        Some(leaf) => read_native(state, Ok(leaf.text()), leaf.path(), narrative.as_ref()),
        None => {
            let prtry = code.required_node("Prtry", &t::GENERIC_IDENTIFICATION_30, "")?;
            let leaves = proprietary_leaves(&prtry)?;
            read_native(state, Err(&leaves), prtry.path(), narrative.as_ref())
        }
    }
    .map(Some)
}

/// One status element of an advice and what it says.
struct Status<'a> {
    parent: Node<'a>,
    alternative: &'a str,
    reading: Option<status_codes::StateReading>,
}

impl Status<'_> {
    fn path(&self) -> String {
        format!("{}/{}", self.parent.path(), self.alternative)
    }
}

/// The statuses of the block, in document order (see the module doc).
fn statuses<'a>(block: &Node<'a>) -> Result<Vec<Status<'a>>, TranslateError> {
    let mut found = Vec::new();
    for (element, ty) in status_elements() {
        let Some(parent) = block.node(element, ty)? else {
            continue;
        };
        let alternative = parent.chosen();
        let reading = ALTERNATIVES
            .iter()
            .find(|(e, a, _, _)| *e == element && *a == alternative)
            .and_then(|(_, _, kind, code)| status_codes::state_of(*kind, code));
        found.push(Status {
            parent,
            alternative,
            reading,
        });
    }
    Ok(found)
}

/// Reads a sese.024 `Document` into an `InstructionStatus`, with what it
/// leaves out.
pub(crate) fn read(document: &Node<'_>) -> Result<Translation<Body>, TranslateError> {
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

    let statuses = statuses(&block)?;
    if statuses.is_empty() {
        return Err(missing(
            &format!("{}/PrcgSts", block.path()),
            "a status advice must state a processing, matching or settlement status",
        ));
    }
    // ISM-1 §6.2 duty 1: the most decisive status with a state.
    let chosen = statuses
        .iter()
        .enumerate()
        .filter_map(|(index, s)| s.reading.map(|r| (index, r)))
        .max_by_key(|(index, r)| (status_codes::rank(r.state), std::cmp::Reverse(*index)));
    let Some((chosen_index, reading)) = chosen else {
        let first = statuses.first().map(Status::path).unwrap_or_default();
        return Err(not_representable(
            &first,
            "no status of this advice has an ISM/1 InstructionState (ACCEPTED, REJECTED, MATCHED, UNMATCHED, PENDING, CANCELLED)",
        ));
    };
    let mut left_out = Vec::new();
    let mut chosen_status = None;
    for (index, status) in statuses.iter().enumerate() {
        if index == chosen_index {
            chosen_status = Some(status);
            if let Some(lost) = reading.not_carried {
                left_out.push(Unrepresented {
                    field: status.path(),
                    reason: format!(
                        "{} is read as {}, but {lost}",
                        status.alternative, reading.state
                    ),
                });
            }
            continue;
        }
        let reason = match status.reading {
            Some(_) => format!(
                "ISM/1 InstructionStatus holds one state; this status is left out in favour of {}",
                statuses
                    .get(chosen_index)
                    .map(Status::path)
                    .unwrap_or_default()
            ),
            None => format!(
                "the status {} has no ISM/1 state; it is left out",
                status.alternative
            ),
        };
        left_out.push(Unrepresented {
            field: status.path(),
            reason,
        });
    }
    let Some(chosen) = chosen_status else {
        return Err(not_representable(block.path(), "no status chosen"));
    };
    let status_path = chosen.path();

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
            Some(reason) => Some(supplementary::reason(&reason)?),
            None => None,
        },
        None => None,
    };
    // The status element is read (and so checked) even when Isthmus's exact
    // reason, which wins, is there; its further reasons are reported either way.
    let iso = iso_reason(
        reading.state,
        &chosen.parent,
        chosen.alternative,
        &mut left_out,
    )?;
    let reason = exact_reason.or(iso);

    let status = InstructionStatus {
        instruction_id,
        related_message_id,
        status: reading.state,
        settlement_id,
        reason,
    };
    let body = common::checked(Body::InstructionStatus(status), |ism| {
        (ism == "body.reason").then(|| status_path.clone())
    })?;
    Ok(Translation::lossy(body, left_out))
}

/// What is written for a reason: the native code, the `AddtlRsnInf`, and
/// whether the exact reason must also go in the supplementary data.
struct Written<'r> {
    native: NativeCode<'r>,
    narrative: Option<String>,
    needs_exact: bool,
}

fn written(state: InstructionState, reason: &Reason) -> Written<'_> {
    // Any reference fits Issr (Max35Text).
    let native = status_codes::native_code(state, reason, |_| true);
    let narrative = if state == InstructionState::Matched {
        // Mtchd has no code list: without a proprietary code, the narrative
        // alone says "see narrative".
        match native {
            NativeCode::Proprietary { .. } => status_codes::narrative_of(reason, native),
            NativeCode::Standard(_) => Some(reason.text.as_str()),
        }
    } else {
        status_codes::narrative_of(reason, native)
    }
    .map(addtl_rsn_inf);
    let as_read = match (state, native) {
        (InstructionState::Matched, NativeCode::Standard(_)) => {
            NativeCode::Standard(status_codes::OTHER)
        }
        _ => native,
    };
    let needs_exact = !status_codes::reads_back(state, reason, as_read, narrative.as_deref());
    Written {
        native,
        narrative,
        needs_exact,
    }
}

/// Writes the status alternative `alternative` with an optional reason.
fn write_status(
    w: &mut XmlWriter,
    alternative: &str,
    reason: Option<&Written<'_>>,
) -> Result<(), TranslateError> {
    let proprietary = |w: &mut XmlWriter, code: &str, issuer: &str, scheme: Option<&str>| {
        w.leaf("Id", code)?;
        w.leaf("Issr", issuer)?;
        if let Some(scheme) = scheme {
            w.leaf("SchmeNm", scheme)?;
        }
        Ok(())
    };
    if alternative == "Mtchd" {
        return match reason {
            Some(reason) => w.element("Mtchd", |w| {
                if let NativeCode::Proprietary {
                    code,
                    issuer,
                    scheme,
                } = reason.native
                {
                    w.element("Rsn", |w| proprietary(w, code, issuer, scheme))?;
                }
                match &reason.narrative {
                    Some(narrative) => w.leaf("AddtlRsnInf", narrative),
                    None => Ok(()),
                }
            }),
            None => w.empty("Mtchd"),
        };
    }
    w.element(alternative, |w| match reason {
        Some(reason) => w.element("Rsn", |w| {
            w.element("Cd", |w| match reason.native {
                NativeCode::Standard(code) => w.leaf("Cd", code),
                NativeCode::Proprietary {
                    code,
                    issuer,
                    scheme,
                } => w.element("Prtry", |w| proprietary(w, code, issuer, scheme)),
            })?;
            match &reason.narrative {
                Some(narrative) => w.leaf("AddtlRsnInf", narrative),
                None => Ok(()),
            }
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
    let native = reason.map(|reason| written(status.status, reason));
    let exact = reason.filter(|_| native.as_ref().is_some_and(|n| n.needs_exact));

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
        w.element(status_element, |w| {
            write_status(w, alternative, native.as_ref())
        })?;
        if status.related_message_id.is_some() || exact.is_some() {
            supplementary::write(w, BLOCK, |w| {
                if let Some(id) = &status.related_message_id {
                    w.leaf("RltdMsgId", id.as_str())?;
                }
                if let Some(reason) = exact {
                    supplementary::write_reason(w, reason)?;
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
    use isthmus_spec::ids::{ReasonCodeText, Text};

    fn reason(code: &str, text: &str) -> Reason {
        Reason::new(
            ReasonCodeText::parse(code).unwrap(),
            Text::parse(text).unwrap(),
        )
    }

    #[test]
    fn narrative_fits_max210text() {
        let text = addtl_rsn_inf(&"é".repeat(512));
        assert_eq!(text.chars().count(), MAX_NARRATIVE);
        assert!(text.starts_with("éé") && text.ends_with('…'));
        assert_eq!(addtl_rsn_inf("short"), "short");
    }

    #[test]
    fn every_state_has_its_element() {
        for state in InstructionState::ALL {
            let (element, alternative) = element_of(*state);
            let row = ALTERNATIVES
                .iter()
                .find(|(e, a, _, _)| *e == element && *a == alternative)
                .unwrap();
            assert_eq!(
                status_codes::state_of(row.2, row.3).map(|r| r.state),
                Some(*state)
            );
        }
    }

    /// The shared table's standard codes are exactly the schema's code lists
    /// of the alternatives this dialect writes.
    #[test]
    fn shared_reason_lists_are_the_schema_lists() {
        let lists: [(InstructionState, &[&str]); 5] = [
            (InstructionState::Accepted, t::ACKNOWLEDGEMENT_REASON_5_CODE),
            (InstructionState::Rejected, t::REJECTION_REASON_75_CODE),
            (
                InstructionState::Cancelled,
                t::CANCELLED_STATUS_REASON_16_CODE,
            ),
            (InstructionState::Unmatched, t::UNMATCHED_REASON_11_CODE),
            (InstructionState::Pending, t::PENDING_REASON_24_CODE),
        ];
        for (state, schema) in lists {
            let mut schema: Vec<&str> = schema.to_vec();
            schema.sort_unstable();
            assert_eq!(
                status_codes::standard_reasons(state),
                schema.as_slice(),
                "{state}"
            );
        }
        assert!(status_codes::standard_reasons(InstructionState::Matched).is_empty());
    }

    #[test]
    fn named_codes_are_written_without_supplementary_data() {
        let r = reason("UNMATCHED_QUANTITY", "900 units, not 1000.");
        let w = written(InstructionState::Unmatched, &r);
        assert_eq!(w.native, NativeCode::Standard("DQUA"));
        assert_eq!(w.narrative.as_deref(), Some("900 units, not 1000."));
        assert!(!w.needs_exact);
        let one_way = reason("ISIN_CHECK_DIGIT", "check digit");
        assert!(written(InstructionState::Rejected, &one_way).needs_exact);
        let long = reason("ISO_LACK", &"x".repeat(300));
        assert!(written(InstructionState::Pending, &long).needs_exact);
    }
}
