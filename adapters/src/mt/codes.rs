//! Code tables: message types, sequence letters, the qualifiers each field
//! may carry, MT548 statuses and reasons.
//!
//! Followed: the MT540–MT548 format specifications and field dictionary of
//! the SWIFT Standards MT release (iso20022.org/15022/uhb, e.g. MT543 field
//! 15 `98a` SETT/TRAD/ADEL, MT547 field 14 `98a` ESET/SETT/TRAD, MT548
//! field 7 `20a` linkage qualifiers, field 10 `25D` status qualifiers,
//! field 12 `24B` reason codes) and ISM-1 §6.2 for the status mapping.

use isthmus_spec::body::{Direction, InstructionState, Payment};

/// What an MT number stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// MT540–MT543: a settlement instruction.
    Instruction(Direction, Payment),
    /// MT544–MT547: a settlement confirmation.
    Confirmation(Direction, Payment),
    /// MT548: a settlement status and processing advice.
    Status,
}

/// The message kind of an MT number in 540–548.
pub(crate) fn message_kind(message_type: u16) -> Option<MessageKind> {
    use Direction::{Deliver, Receive};
    use MessageKind::{Confirmation, Instruction, Status};
    use Payment::{AgainstPayment, FreeOfPayment};
    Some(match message_type {
        540 => Instruction(Receive, FreeOfPayment),
        541 => Instruction(Receive, AgainstPayment),
        542 => Instruction(Deliver, FreeOfPayment),
        543 => Instruction(Deliver, AgainstPayment),
        544 => Confirmation(Receive, FreeOfPayment),
        545 => Confirmation(Receive, AgainstPayment),
        546 => Confirmation(Deliver, FreeOfPayment),
        547 => Confirmation(Deliver, AgainstPayment),
        548 => Status,
        _ => return None,
    })
}

/// MT540–MT543 by direction and payment (ISM-1 Appendix A).
pub(crate) fn instruction_type(direction: Direction, payment: Payment) -> u16 {
    match (direction, payment) {
        (Direction::Receive, Payment::FreeOfPayment) => 540,
        (Direction::Receive, Payment::AgainstPayment) => 541,
        (Direction::Deliver, Payment::FreeOfPayment) => 542,
        (Direction::Deliver, Payment::AgainstPayment) => 543,
    }
}

/// The sequence letter of a sequence name, for locations such as `B/TRADDET`.
pub(crate) fn sequence_letter(kind: MessageKind, name: &str) -> Option<&'static str> {
    let letter = match (kind, name) {
        (_, "GENL") => "A",
        (_, "LINK") => "A1",
        (MessageKind::Status, "STAT") => "A2",
        (MessageKind::Status, "REAS") => "A2a",
        (MessageKind::Status, "SETTRAN") => "B",
        (MessageKind::Status, "PENA") => "C",
        (MessageKind::Status, "ADDINFO") => "D",
        (MessageKind::Status, _) => return None,
        (_, "TRADDET") => "B",
        (_, "FIA") => "B1",
        (_, "FIAC") => "C",
        (_, "BREAK") => "C1",
        (_, "REPO") => "D",
        (_, "SETDET") => "E",
        (_, "SETPRTY") => "E1",
        (_, "CSHPRTY") => "E2",
        (_, "AMT") => "E3",
        (_, "OTHRPRTY") => "F",
        _ => return None,
    };
    Some(letter)
}

/// The top-level sequences of a message kind, in the order the standard sets.
pub(crate) fn top_level_order(kind: MessageKind) -> &'static [&'static str] {
    match kind {
        MessageKind::Instruction(..) | MessageKind::Confirmation(..) => {
            &["GENL", "TRADDET", "FIAC", "REPO", "SETDET", "OTHRPRTY"]
        }
        MessageKind::Status => &["GENL", "SETTRAN", "PENA", "ADDINFO"],
    }
}

/// `:20C:` qualifiers of the A1 linkage sequence of MT540–MT548.
pub(crate) const LINK_REFERENCES: &[&str] = &[
    "BASK", "CLCI", "CLTR", "CMIT", "COMM", "CORP", "INDX", "LIST", "MAST", "MITI", "NTSP", "PCTI",
    "POOL", "PREV", "PROG", "RELA", "TCTR", "TRCI", "TRRF",
];

/// `:95a:` party qualifiers of a settlement-parties sequence (E1), ALTE aside.
pub(crate) const SETTLEMENT_PARTIES: &[&str] = &[
    "BUYR", "DEAG", "DECU", "DEI1", "DEI2", "DEI3", "DEI4", "DEI5", "DEI6", "DEI7", "DEI8", "DEI9",
    "PSET", "REAG", "RECU", "REI1", "REI2", "REI3", "REI4", "REI5", "REI6", "REI7", "REI8", "REI9",
    "SELL",
];

/// `:95a:` party qualifiers of a cash-parties sequence (E2), ALTE aside
/// (MT543 field 95a in E2: ACCW, BENM, DEBT, INTM, PAYE, options P, Q, R).
pub(crate) const CASH_PARTIES: &[&str] = &["ACCW", "BENM", "DEBT", "INTM", "PAYE"];

/// The E2 qualifiers of the instructing party's own cash side, `(owner,
/// servicer)`: a delivery is paid, so its side is the beneficiary of money
/// and the account with institution; a receipt pays, so its side is the
/// debtor and the paying institution (ISM-1 §6.0.9).
pub(crate) fn own_cash_parties(direction: Direction) -> (&'static str, &'static str) {
    match direction {
        Direction::Deliver => ("BENM", "ACCW"),
        Direction::Receive => ("DEBT", "PAYE"),
    }
}

/// The qualifiers a field (by sequence and tag number) may carry, where this
/// adapter knows the complete list; `None` where it does not check them.
pub(crate) fn known_qualifiers(
    kind: MessageKind,
    sequence: &str,
    number: &str,
) -> Option<&'static [&'static str]> {
    let confirmation = matches!(kind, MessageKind::Confirmation(..));
    let list: &'static [&'static str] = match (sequence, number) {
        ("GENL", "20") => &["SEME"],
        ("GENL", "98") => &["PREP"],
        ("LINK", "20") => LINK_REFERENCES,
        ("LINK", "13") | ("LINK", "22") => &["LINK"],
        ("TRADDET", "98") if confirmation => &["ESET", "SETT", "TRAD"],
        ("TRADDET", "98") => &["SETT", "TRAD", "ADEL"],
        ("TRADDET", "94") => &["TRAD", "CLEA"],
        ("TRADDET", "70") => &["FXIN", "SPRO"],
        ("TRADDET", "90") => &["DEAL"],
        ("FIAC", "36") if confirmation => &["ESTT", "PSTT", "RSTT"],
        ("FIAC", "36") => &["SETT"],
        ("FIAC", "95") => &["ACOW", "ALTE"],
        ("FIAC", "97") => &["SAFE", "CASH", "BCAW"],
        ("SETPRTY", "95") => &[
            "BUYR", "DEAG", "DECU", "DEI1", "DEI2", "DEI3", "DEI4", "DEI5", "DEI6", "DEI7", "DEI8",
            "DEI9", "PSET", "REAG", "RECU", "REI1", "REI2", "REI3", "REI4", "REI5", "REI6", "REI7",
            "REI8", "REI9", "SELL", "ALTE",
        ],
        ("SETPRTY", "97") => &["SAFE", "BCAW"],
        ("CSHPRTY", "95") => &["ACCW", "BENM", "DEBT", "INTM", "PAYE", "ALTE"],
        ("CSHPRTY", "97") => &["CASH", "CHAR", "COMM", "TAXE"],
        ("STAT", "25") => &[
            "AFFM", "ALOC", "CALL", "CPRC", "EPRC", "INMH", "IPRC", "MTCH", "RERC", "RPRC", "SETT",
            "SPRC", "TPRC",
        ],
        ("REAS", "70") => &["REAS"],
        _ => return None,
    };
    Some(list)
}

/// The MT548 `:25D:` qualifier and status code of an ISM/1 state (ISM-1 §6.2).
pub(crate) fn state_to_mt(state: InstructionState) -> (&'static str, &'static str) {
    match state {
        InstructionState::Accepted => ("IPRC", "PACK"),
        InstructionState::Rejected => ("IPRC", "REJT"),
        InstructionState::Cancelled => ("IPRC", "CAND"),
        InstructionState::Matched => ("MTCH", "MACH"),
        InstructionState::Unmatched => ("MTCH", "NMAT"),
        InstructionState::Pending => ("SETT", "PEND"),
    }
}

/// The ISM/1 state of an MT548 status, for the six codes ISM-1 §6.2 names.
pub(crate) fn state_from_mt(qualifier: &str, code: &str) -> Option<InstructionState> {
    Some(match (qualifier, code) {
        ("IPRC", "PACK") => InstructionState::Accepted,
        ("IPRC", "REJT") => InstructionState::Rejected,
        ("IPRC", "CAND") => InstructionState::Cancelled,
        ("MTCH", "MACH") => InstructionState::Matched,
        ("MTCH", "NMAT") => InstructionState::Unmatched,
        ("SETT", "PEND") => InstructionState::Pending,
        _ => return None,
    })
}

/// When an MT548 reports several statuses, the one ISM/1 keeps: the furthest
/// along (a cancellation or rejection ends the instruction; pending
/// settlement implies matching; a matching result says more than acceptance).
pub(crate) fn state_rank(state: InstructionState) -> u8 {
    match state {
        InstructionState::Accepted => 0,
        InstructionState::Matched | InstructionState::Unmatched => 1,
        InstructionState::Pending => 2,
        InstructionState::Rejected => 3,
        InstructionState::Cancelled => 4,
    }
}

/// The `:24B:` qualifier for a reason of a state: the status code itself
/// (MT548 usage rule: "the qualifier of the reason code should be in line
/// with the code used for the status in field 25D"). MT548 has no reason
/// qualifier for MACH, so a MATCHED status carries no reason.
pub(crate) fn reason_qualifier(state: InstructionState) -> Option<&'static str> {
    match state {
        InstructionState::Matched => None,
        other => Some(state_to_mt(other).1),
    }
}

/// ISM/1 reason codes with an MT548 reason code of the same meaning:
/// (ISM/1 code, `:24B:` qualifier, MT code). Matching reasons map both ways;
/// the rejection reasons only from ISM/1 to MT, several ISM/1 codes sharing
/// one MT code.
const REASONS: &[(&str, &str, &str, bool)] = &[
    ("UNMATCHED_QUANTITY", "NMAT", "DQUA", true),
    ("UNMATCHED_AMOUNT", "NMAT", "DMON", true),
    ("UNMATCHED_CURRENCY", "NMAT", "NCRR", true),
    ("UNMATCHED_SETTLEMENT_DATE", "NMAT", "DDAT", true),
    ("UNMATCHED_TRADE_DATE", "NMAT", "DTRD", true),
    ("UNMATCHED_ISIN", "NMAT", "DSEC", true),
    ("UNMATCHED_DIRECTION", "NMAT", "DELN", true),
    ("UNMATCHED_PLACE_OF_SETTLEMENT", "NMAT", "DEPT", true),
    ("NO_MATCHING_INSTRUCTION", "NMAT", "CMIS", true),
    ("ISIN_FORMAT", "REJT", "DSEC", false),
    ("ISIN_CHECK_DIGIT", "REJT", "DSEC", false),
    ("SETTLEMENT_BEFORE_TRADE", "REJT", "DDAT", false),
    ("AMOUNT_REQUIRED", "REJT", "DMON", false),
    ("AMOUNT_NOT_ALLOWED", "REJT", "DMON", false),
];

/// Prefix of ISM/1 codes that stand for an MT548 reason code without an
/// ISM/1 name: `MT_<qualifier>_<code>` or `MT_<qualifier>_<scheme>_<code>`.
const MT_CODE_PREFIX: &str = "MT_";

/// The `:24B:` data source scheme and code for an ISM/1 reason code under `qualifier`.
pub(crate) fn reason_to_mt(code: &str, qualifier: &str) -> (Option<String>, String) {
    if let Some((_, _, mt, _)) = REASONS
        .iter()
        .find(|(ism, q, _, _)| *ism == code && *q == qualifier)
    {
        return (None, (*mt).to_string());
    }
    let parts: Vec<&str> = code
        .strip_prefix(MT_CODE_PREFIX)
        .map(|rest| rest.split('_').collect())
        .unwrap_or_default();
    let is_code = |part: &&str| {
        part.len() == 4
            && part
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let is_scheme = |part: &&str| {
        (1..=8).contains(&part.len())
            && part
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    match parts.as_slice() {
        [q, mt] if *q == qualifier && is_code(mt) => (None, (*mt).to_string()),
        [q, scheme, mt] if *q == qualifier && is_scheme(scheme) && is_code(mt) => {
            (Some((*scheme).to_string()), (*mt).to_string())
        }
        // NARR: "see narrative field for reason", in every MT548 reason list.
        _ => (None, "NARR".to_string()),
    }
}

/// The ISM/1 code for an MT548 reason without our narrative code line.
pub(crate) fn reason_from_mt(qualifier: &str, scheme: Option<&str>, code: &str) -> String {
    if scheme.is_none() {
        if let Some((ism, _, _, _)) = REASONS
            .iter()
            .find(|(_, q, mt, both_ways)| *both_ways && *q == qualifier && *mt == code)
        {
            return (*ism).to_string();
        }
    }
    match scheme {
        Some(scheme) => format!("{MT_CODE_PREFIX}{qualifier}_{scheme}_{code}"),
        None => format!("{MT_CODE_PREFIX}{qualifier}_{code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip() {
        for direction in Direction::ALL {
            for payment in Payment::ALL {
                let mt = instruction_type(*direction, *payment);
                assert_eq!(
                    message_kind(mt),
                    Some(MessageKind::Instruction(*direction, *payment))
                );
                assert_eq!(
                    message_kind(mt + 4),
                    Some(MessageKind::Confirmation(*direction, *payment))
                );
            }
        }
        assert_eq!(message_kind(548), Some(MessageKind::Status));
        assert_eq!(message_kind(549), None);
    }

    #[test]
    fn states_and_reasons_round_trip() {
        for state in InstructionState::ALL {
            let (q, c) = state_to_mt(*state);
            assert_eq!(state_from_mt(q, c), Some(*state));
        }
        assert_eq!(
            reason_to_mt("UNMATCHED_QUANTITY", "NMAT"),
            (None, "DQUA".into())
        );
        assert_eq!(reason_from_mt("NMAT", None, "DQUA"), "UNMATCHED_QUANTITY");
        assert_eq!(
            reason_to_mt("ISIN_CHECK_DIGIT", "REJT"),
            (None, "DSEC".into())
        );
        assert_eq!(reason_from_mt("REJT", None, "DSEC"), "MT_REJT_DSEC");
        assert_eq!(reason_to_mt("MT_REJT_DSEC", "REJT"), (None, "DSEC".into()));
        assert_eq!(
            reason_to_mt("MT_REJT_XCSD_0123", "REJT"),
            (Some("XCSD".into()), "0123".into())
        );
        assert_eq!(
            reason_from_mt("REJT", Some("XCSD"), "0123"),
            "MT_REJT_XCSD_0123"
        );
        assert_eq!(reason_to_mt("MT_NMAT_DSEC", "REJT"), (None, "NARR".into()));
        assert_eq!(
            reason_to_mt("SOMETHING_ELSE", "PEND"),
            (None, "NARR".into())
        );
    }
}
