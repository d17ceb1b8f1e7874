//! Code tables: message types, sequence letters, the qualifiers each field
//! may carry. MT548 statuses and reasons are in [`crate::status_codes`],
//! shared with the ISO 20022 dialect.
//!
//! Followed: the MT540–MT548 format specifications and field dictionary of
//! the SWIFT Standards MT release (iso20022.org/15022/uhb, e.g. MT543 field
//! 15 `98a` SETT/TRAD/ADEL, MT547 field 14 `98a` ESET/SETT/TRAD, MT548
//! field 7 `20a` linkage qualifiers, field 10 `25D` status qualifiers,
//! field 12 `24B` reason codes).

use isthmus_spec::body::{Direction, Payment};

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
}
