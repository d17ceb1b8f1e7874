//! The statuses and reason codes of status advices, in one table for both
//! dialects, so that a sese.024 and an MT548 reporting the same business
//! status read as the same ISM/1 `InstructionStatus` (ISM-1 §6.2 duty 1,
//! Appendix A.1), and both write an `InstructionStatus` the same way.
//!
//! Statuses are named here as ISO 15022 names them — a status type (MT548's
//! `:25D:` qualifier) and a four-letter status code — and reasons by their
//! ISO 15022/20022 reason codes in ISO 20022 spelling (`OTHR` for "see
//! narrative"). The dialects spell them their own way: the MT dialect
//! (`mt/read/status.rs`, `mt/write/status.rs`) writes `NARR` for `OTHR` and
//! uses the status code as the `:24B:` qualifier; the ISO 20022 dialect
//! (`iso20022/sese024.rs`) maps element names such as `SttlmSts/Flng` to
//! `(Settlement, PENF)` and holds the schema's code lists.
//!
//! # Statuses
//!
//! | ISM/1 state | written and read | read only, reported as not carried |
//! | --- | --- | --- |
//! | `ACCEPTED` | processing `PACK` | |
//! | `REJECTED` | processing `REJT` | |
//! | `CANCELLED` | processing `CAND` | |
//! | `MATCHED` | matching `MACH` | |
//! | `UNMATCHED` | matching `NMAT` | |
//! | `PENDING` | settlement `PEND` | settlement `PENF` (failing) |
//!
//! Any other status (pending processing, repair, inferred matching, a
//! proprietary status…) has no state: a reader lists it as not carried, and
//! refuses the advice only when no status has a state. Of several statuses
//! the most decisive wins ([`rank`]).
//!
//! # Reason codes
//!
//! An ISM/1 reason code read from an advice is (ISM-1 Appendix A.1):
//!
//! 1. an ISM/1 name, where [`NAMED`] maps the code under that state back to
//!    one (`NMAT` `DQUA` → `UNMATCHED_QUANTITY`);
//! 2. `ISO_<code>` for any other standard code (`ISO_LACK`, `ISO_OTHR`);
//! 3. `PRTRY_<code>` with the reason's `issuer` (and `scheme`) for a
//!    proprietary code (`:24B::REJT/CRST/R012`, `Cd/Prtry` {`R012`, `CRST`}).
//!
//! A writer puts in the advice the code [`native_code`] gives — the named
//! row's code, the code of an `ISO_` form the status's list has, a
//! `PRTRY_` code with its issuer where the dialect can hold the issuer, else
//! `OTHR` — and its text as plain narrative. When reading that back
//! ([`read`]) would not give exactly the ISM/1 reason, it adds the exact
//! reason in the Isthmus extension, which readers prefer.

use isthmus_spec::body::{InstructionState, Reason};
use isthmus_spec::ids::{ReasonCodeText, Reference, Text};

use crate::error::TranslateCode;

/// The kind of a status in an advice, by its ISO 15022 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusType {
    /// Instruction processing status (MT548 `IPRC`, sese.024 `PrcgSts`).
    Processing,
    /// Inferred matching status (MT548 `INMH`, sese.024 `IfrrdMtchgSts`):
    /// the account servicer's guess from an allegement; no ISM/1 state.
    InferredMatching,
    /// Matching status (MT548 `MTCH`, sese.024 `MtchgSts`).
    Matching,
    /// Settlement status (MT548 `SETT`, sese.024 `SttlmSts`).
    Settlement,
}

/// Every ISM/1 state with the status a writer writes for it and a reader
/// reads as it (ISM-1 §6.2, Appendix A.1).
const STATES: [(InstructionState, StatusType, &str); 6] = [
    (InstructionState::Accepted, StatusType::Processing, "PACK"),
    (InstructionState::Rejected, StatusType::Processing, "REJT"),
    (InstructionState::Cancelled, StatusType::Processing, "CAND"),
    (InstructionState::Matched, StatusType::Matching, "MACH"),
    (InstructionState::Unmatched, StatusType::Matching, "NMAT"),
    (InstructionState::Pending, StatusType::Settlement, "PEND"),
];

/// Statuses read as a state that does not say all they say: a reader reports
/// what is lost (ISM-1 §6.2 duty 1).
const READ_ONLY: [(StatusType, &str, InstructionState, &str); 1] = [(
    StatusType::Settlement,
    "PENF",
    InstructionState::Pending,
    "the settlement is failing (still pending after its intended settlement date); ISM/1 PENDING does not say so",
)];

/// An advice's status read as an ISM/1 state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateReading {
    /// The state.
    pub state: InstructionState,
    /// What the status says that the state does not, to be reported as not carried.
    pub not_carried: Option<&'static str>,
}

/// The ISM/1 state of status `code` of type `kind`, if it has one.
pub fn state_of(kind: StatusType, code: &str) -> Option<StateReading> {
    if let Some((state, _, _)) = STATES.iter().find(|(_, k, c)| *k == kind && *c == code) {
        return Some(StateReading {
            state: *state,
            not_carried: None,
        });
    }
    READ_ONLY
        .iter()
        .find(|(k, c, _, _)| *k == kind && *c == code)
        .map(|(_, _, state, lost)| StateReading {
            state: *state,
            not_carried: Some(lost),
        })
}

/// The status a writer writes for `state`: its type and ISO 15022 code.
pub fn status_of(state: InstructionState) -> (StatusType, &'static str) {
    STATES
        .iter()
        .find(|(s, _, _)| *s == state)
        .map(|(_, kind, code)| (*kind, *code))
        // STATES lists every state; the test `every_state_is_written_and_read_back` checks it.
        .unwrap_or((StatusType::Processing, "PACK"))
}

/// How decisive a state is when an advice reports several (ISM-1 §6.2
/// duty 1): a cancellation or rejection ends the instruction, settling
/// implies matching, a matching result says more than an acceptance.
pub fn rank(state: InstructionState) -> u8 {
    match state {
        InstructionState::Accepted => 0,
        InstructionState::Matched | InstructionState::Unmatched => 1,
        InstructionState::Pending => 2,
        InstructionState::Rejected => 3,
        InstructionState::Cancelled => 4,
    }
}

/// "See narrative for reason": ISO 20022 `OTHR`, MT548 `NARR`.
pub const OTHER: &str = "OTHR";

/// Prefix of the ISM/1 code of a standard reason code without an ISM/1 name.
pub const ISO_PREFIX: &str = "ISO_";

/// Prefix of the ISM/1 code of a proprietary reason code (with its issuer).
pub const PROPRIETARY_PREFIX: &str = "PRTRY_";

/// The standard reason codes a writer may give with `state`: the ISO 20022
/// external code lists of the sese.024.001.12 status it writes (the ISO
/// 15022 lists of MT548 agree but for `NARR`, which is `OTHR` here). A
/// matched status has no standard reasons. `iso20022/sese024.rs` checks
/// these against the schema's lists.
pub fn standard_reasons(state: InstructionState) -> &'static [&'static str] {
    match state {
        InstructionState::Accepted => &[
            "ADEA", "CDCY", "CDRE", "CDRG", "LATE", "NSTP", "OTHR", "RQWV", "SMPG",
        ],
        InstructionState::Rejected => &[
            "ADEA", "BATC", "CAEV", "CASH", "CASY", "DDAT", "DDEA", "DEPT", "DMON", "DQUA", "DSEC",
            "DTRD", "ICAG", "ICUS", "IEXE", "IIND", "INPS", "INVB", "INVE", "INVL", "INVN", "LATE",
            "MINO", "MUNO", "NCRR", "OTHR", "PHYS", "PLCE", "PLIS", "REFE", "RTGS", "SAFE", "SDUT",
            "SETR", "SETS", "TXST", "VALR",
        ],
        InstructionState::Cancelled => &[
            "BYIY", "CANI", "CANS", "CANT", "CANZ", "CORP", "CSUB", "CTHP", "CXLR", "OTHR", "SCEX",
        ],
        InstructionState::Matched => &[],
        InstructionState::Unmatched => &[
            "ACRU", "ADEA", "CLAT", "CMIS", "CPCA", "DCMX", "DDAT", "DDEA", "DELN", "DEPT", "DMCT",
            "DMON", "DQUA", "DSEC", "DTRA", "DTRD", "FRAP", "ICAG", "ICUS", "IEXE", "IIND", "INPS",
            "INVE", "LATE", "LEOG", "MIME", "NCRR", "NMAS", "OTHR", "PHYS", "PLCE", "PLIS", "PODU",
            "REGD", "RTGS", "SAFE", "SETR", "SETS", "TXST", "UNBR",
        ],
        InstructionState::Pending => &[
            "ADEA", "AWMO", "AWSH", "BATC", "BENO", "BLOC", "BOTH", "CAIS", "CDLR", "CERT", "CHAS",
            "CLAC", "CLHT", "CMON", "COLL", "CPEC", "CSDH", "CVAL", "DENO", "DEPO", "DISA", "DKNY",
            "DOCC", "DOCY", "FLIM", "FROZ", "FUTU", "GLOB", "IAAD", "INBC", "INCA", "LAAW", "LACK",
            "LALO", "LATE", "LINK", "LIQU", "MINO", "MONY", "MUNO", "NCON", "NEWI", "NMAS", "NOFX",
            "OTHR", "PART", "PATD", "PHCK", "PHSE", "PRCY", "PREA", "PREL", "PRSY", "REFS", "REFU",
            "REGT", "SBLO", "SDUT", "SETS", "TAMM", "YCOL",
        ],
    }
}

/// An ISM/1 reason code with the ISO 15022/20022 code of the same meaning
/// under one state (ISM-1 Appendix A.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named {
    /// The ISM/1 code: a code of ISM-1 §9.2 or a relay's matching reason.
    pub ism: &'static str,
    /// The state the reason accompanies.
    pub state: InstructionState,
    /// The ISO 15022/20022 reason code.
    pub iso: &'static str,
    /// Whether the ISO code reads back as this ISM/1 code. Several ISM/1
    /// codes may share one ISO code one way; at most one reads back.
    pub read_back: bool,
}

const fn named(
    ism: &'static str,
    state: InstructionState,
    iso: &'static str,
    read_back: bool,
) -> Named {
    Named {
        ism,
        state,
        iso,
        read_back,
    }
}

/// The ISM/1 names of standard reason codes. The matching reasons are the
/// reference relay's (SMPG/ISO 15022 `NMAT` codes: DQUA quantity, DMON
/// settlement amount, NCRR currency, DDAT settlement date, DTRD trade date,
/// DSEC financial instrument, DELN direction of trade, DEPT place of
/// settlement, CMIS no matching instruction found); the rejections are
/// ISM-1 §9.2 codes with the `REJT` code of the same field.
pub const NAMED: &[Named] = &[
    named(
        "UNMATCHED_QUANTITY",
        InstructionState::Unmatched,
        "DQUA",
        true,
    ),
    named(
        "UNMATCHED_AMOUNT",
        InstructionState::Unmatched,
        "DMON",
        true,
    ),
    named(
        "UNMATCHED_CURRENCY",
        InstructionState::Unmatched,
        "NCRR",
        true,
    ),
    named(
        "UNMATCHED_SETTLEMENT_DATE",
        InstructionState::Unmatched,
        "DDAT",
        true,
    ),
    named(
        "UNMATCHED_TRADE_DATE",
        InstructionState::Unmatched,
        "DTRD",
        true,
    ),
    named("UNMATCHED_ISIN", InstructionState::Unmatched, "DSEC", true),
    named(
        "UNMATCHED_DIRECTION",
        InstructionState::Unmatched,
        "DELN",
        true,
    ),
    named(
        "UNMATCHED_PLACE_OF_SETTLEMENT",
        InstructionState::Unmatched,
        "DEPT",
        true,
    ),
    named(
        "NO_MATCHING_INSTRUCTION",
        InstructionState::Unmatched,
        "CMIS",
        true,
    ),
    named("ISIN_FORMAT", InstructionState::Rejected, "DSEC", false),
    named(
        "ISIN_CHECK_DIGIT",
        InstructionState::Rejected,
        "DSEC",
        false,
    ),
    named("ISIN_PREFIX", InstructionState::Rejected, "DSEC", false),
    named(
        "SETTLEMENT_BEFORE_TRADE",
        InstructionState::Rejected,
        "DDAT",
        false,
    ),
    named("AMOUNT_REQUIRED", InstructionState::Rejected, "DMON", false),
    named(
        "AMOUNT_NOT_ALLOWED",
        InstructionState::Rejected,
        "DMON",
        false,
    ),
    named(
        "CURRENCY_UNKNOWN",
        InstructionState::Rejected,
        "NCRR",
        false,
    ),
    named(
        "CURRENCY_NOT_SETTLEABLE",
        InstructionState::Rejected,
        "NCRR",
        false,
    ),
    named(
        "COUNTERPARTY_REQUIRED",
        InstructionState::Rejected,
        "ICAG",
        false,
    ),
];

/// A reason code as an advice carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeCode<'a> {
    /// A code of the ISO 15022/20022 reason code lists, ISO 20022 spelling.
    Standard(&'a str),
    /// An institution's own code (ISO 20022 `Cd/Prtry`; MT548 `:24B:` with
    /// a data source scheme).
    Proprietary {
        /// The code (`Id`; the MT reason code).
        code: &'a str,
        /// Who defines it (`Issr`; the MT data source scheme).
        issuer: &'a str,
        /// The issuer's code list (`SchmeNm`; none in MT).
        scheme: Option<&'a str>,
    },
}

/// Which part of a native reason a problem is in, so that the dialect can
/// name its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The reason code.
    Code,
    /// The proprietary code's issuer.
    Issuer,
    /// The proprietary code's scheme.
    Scheme,
    /// The narrative.
    Text,
}

/// Why a native reason cannot be read: the part at fault, a code, a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the native reason.
    pub part: Part,
    /// The translation code.
    pub code: TranslateCode,
    /// What is wrong, for a person.
    pub message: String,
}

impl Problem {
    fn ism(part: Part, rejection: isthmus_spec::Rejection) -> Problem {
        Problem {
            part,
            code: TranslateCode::Ism(rejection.code),
            message: rejection.message,
        }
    }
}

/// Whether `code` is four upper-case letters or digits, the form of every
/// ISO 15022/20022 reason code and of an MT `4!c` code.
fn is_four_upper_alnum(code: &str) -> bool {
    code.len() == 4
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The sentence of a reason an advice gives without narrative, the same in
/// both dialects (ISM-1 Appendix A.1).
pub fn text_without_narrative(native: NativeCode<'_>) -> String {
    match native {
        NativeCode::Standard(code) => format!("Reason code {code}, given without narrative."),
        NativeCode::Proprietary { code, issuer, .. } => {
            format!("Reason code {code} of {issuer}, given without narrative.")
        }
    }
}

/// The ISM/1 reason of a native reason under `state`, read without the
/// Isthmus extension: the code in its Appendix A.1 form, the narrative as
/// the text (or [`text_without_narrative`]).
pub fn read(
    state: InstructionState,
    native: NativeCode<'_>,
    narrative: Option<&str>,
) -> Result<Reason, Problem> {
    let (ism_code, issuer, scheme) = match native {
        NativeCode::Standard(code) => {
            if !is_four_upper_alnum(code) {
                return Err(Problem {
                    part: Part::Code,
                    code: TranslateCode::NotRepresentable,
                    message: format!(
                        "{} is not a four-character ISO 15022/20022 reason code",
                        isthmus_spec::quote::quoted(code)
                    ),
                });
            }
            let ism = NAMED
                .iter()
                .find(|row| row.read_back && row.state == state && row.iso == code)
                .map_or_else(|| format!("{ISO_PREFIX}{code}"), |row| row.ism.to_string());
            (ism, None, None)
        }
        NativeCode::Proprietary {
            code,
            issuer,
            scheme,
        } => {
            if !is_four_upper_alnum(code) {
                return Err(Problem {
                    part: Part::Code,
                    code: TranslateCode::NotRepresentable,
                    message: format!("the proprietary reason code {} is not four upper-case letters or digits, so it has no ISM/1 reason code {PROPRIETARY_PREFIX}<code>", isthmus_spec::quote::quoted(code)),
                });
            }
            let issuer = Reference::parse(issuer).map_err(|r| Problem::ism(Part::Issuer, r))?;
            let scheme = scheme
                .map(Reference::parse)
                .transpose()
                .map_err(|r| Problem::ism(Part::Scheme, r))?;
            (format!("{PROPRIETARY_PREFIX}{code}"), Some(issuer), scheme)
        }
    };
    let code = ReasonCodeText::parse(&ism_code).map_err(|r| Problem::ism(Part::Code, r))?;
    let text = match narrative {
        Some(narrative) => Text::parse(narrative).map_err(|r| Problem::ism(Part::Text, r))?,
        None => {
            Text::parse(&text_without_narrative(native)).map_err(|r| Problem::ism(Part::Code, r))?
        }
    };
    Ok(Reason {
        code,
        text,
        issuer,
        scheme,
    })
}

/// The code a writer puts in an advice for `reason` under `state`:
/// the named row's code; the code of an `ISO_` form that the state's
/// [`standard_reasons`] list; the code of a `PRTRY_` form with its issuer,
/// when `issuer_fits` says the dialect can hold that issuer; else
/// [`OTHER`]. The writer then checks with [`reads_back`] whether it must
/// add the exact reason in the Isthmus extension.
pub fn native_code<'r>(
    state: InstructionState,
    reason: &'r Reason,
    issuer_fits: impl Fn(&str) -> bool,
) -> NativeCode<'r> {
    let code = reason.code.as_str();
    match &reason.issuer {
        // A code with an issuer is the issuer's (ISM-1 §6.0.6 rule 2).
        Some(issuer) => match code.strip_prefix(PROPRIETARY_PREFIX) {
            Some(own) if is_four_upper_alnum(own) && issuer_fits(issuer.as_str()) => {
                NativeCode::Proprietary {
                    code: own,
                    issuer: issuer.as_str(),
                    scheme: reason.scheme.as_ref().map(Reference::as_str),
                }
            }
            _ => NativeCode::Standard(OTHER),
        },
        None => {
            if let Some(row) = NAMED
                .iter()
                .find(|row| row.state == state && row.ism == code)
            {
                return NativeCode::Standard(row.iso);
            }
            match code.strip_prefix(ISO_PREFIX) {
                Some(iso) if standard_reasons(state).contains(&iso) => NativeCode::Standard(iso),
                _ => NativeCode::Standard(OTHER),
            }
        }
    }
}

/// Whether an advice carrying `native` and `narrative` reads back as
/// exactly `reason` under `state` without the Isthmus extension.
pub fn reads_back(
    state: InstructionState,
    reason: &Reason,
    native: NativeCode<'_>,
    narrative: Option<&str>,
) -> bool {
    read(state, native, narrative).is_ok_and(|read| &read == reason)
}

/// The narrative a writer gives for `reason` with `native`: none when the
/// text is the sentence a reader makes for a reason without narrative.
pub fn narrative_of<'r>(reason: &'r Reason, native: NativeCode<'_>) -> Option<&'r str> {
    (reason.text.as_str() != text_without_narrative(native)).then(|| reason.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(code: &str, text: &str, issuer: Option<&str>, scheme: Option<&str>) -> Reason {
        Reason {
            code: ReasonCodeText::parse(code).unwrap(),
            text: Text::parse(text).unwrap(),
            issuer: issuer.map(|i| Reference::parse(i).unwrap()),
            scheme: scheme.map(|s| Reference::parse(s).unwrap()),
        }
    }

    #[test]
    fn every_state_is_written_and_read_back() {
        for state in InstructionState::ALL {
            let (kind, code) = status_of(*state);
            assert_eq!(
                state_of(kind, code),
                Some(StateReading {
                    state: *state,
                    not_carried: None
                })
            );
        }
        let failing = state_of(StatusType::Settlement, "PENF").unwrap();
        assert_eq!(failing.state, InstructionState::Pending);
        assert!(failing.not_carried.is_some());
        assert_eq!(state_of(StatusType::Processing, "PPRC"), None);
        assert_eq!(state_of(StatusType::InferredMatching, "MACH"), None);
        assert_eq!(state_of(StatusType::Settlement, "PACK"), None);
    }

    #[test]
    fn ranks_order_the_states_as_the_spec_does() {
        use InstructionState::*;
        let order = [Accepted, Matched, Pending, Rejected, Cancelled];
        for pair in order.windows(2) {
            assert!(rank(pair[0]) < rank(pair[1]), "{pair:?}");
        }
        assert_eq!(rank(Matched), rank(Unmatched));
    }

    #[test]
    fn named_codes_are_standard_codes_of_their_state_and_read_back_uniquely() {
        for row in NAMED {
            assert!(
                standard_reasons(row.state).contains(&row.iso),
                "{row:?}: not a code of the state's list"
            );
            assert!(ReasonCodeText::parse(row.ism).is_ok(), "{row:?}");
            assert!(!row.ism.starts_with(ISO_PREFIX) && !row.ism.starts_with(PROPRIETARY_PREFIX));
            let backs = NAMED
                .iter()
                .filter(|other| other.read_back && other.state == row.state && other.iso == row.iso)
                .count();
            assert!(backs <= 1, "{row:?}: two names read back from one code");
            assert_eq!(
                NAMED
                    .iter()
                    .filter(|other| other.state == row.state && other.ism == row.ism)
                    .count(),
                1,
                "{row:?} appears twice"
            );
        }
    }

    #[test]
    fn every_named_row_maps_both_ways_or_one_way_as_it_says() {
        for row in NAMED {
            let r = reason(row.ism, "why", None, None);
            let native = native_code(row.state, &r, |_| true);
            assert_eq!(native, NativeCode::Standard(row.iso), "{row:?}");
            assert_eq!(
                reads_back(row.state, &r, native, Some("why")),
                row.read_back,
                "{row:?}"
            );
        }
    }

    #[test]
    fn standard_codes_without_a_name_read_as_iso_codes_and_are_written_back() {
        let read_lack = read(
            InstructionState::Pending,
            NativeCode::Standard("LACK"),
            None,
        )
        .unwrap();
        assert_eq!(read_lack.code.as_str(), "ISO_LACK");
        assert_eq!(
            read_lack.text.as_str(),
            "Reason code LACK, given without narrative."
        );
        let native = native_code(InstructionState::Pending, &read_lack, |_| true);
        assert_eq!(native, NativeCode::Standard("LACK"));
        assert_eq!(narrative_of(&read_lack, native), None);
        assert!(reads_back(
            InstructionState::Pending,
            &read_lack,
            native,
            None
        ));
        // The same code under a state whose list lacks it is written OTHR.
        let elsewhere = reason("ISO_LACK", "x", None, None);
        assert_eq!(
            native_code(InstructionState::Rejected, &elsewhere, |_| true),
            NativeCode::Standard(OTHER)
        );
        // DSEC under a rejection has no name that reads back.
        let dsec = read(
            InstructionState::Rejected,
            NativeCode::Standard("DSEC"),
            Some("bad"),
        )
        .unwrap();
        assert_eq!(dsec.code.as_str(), "ISO_DSEC");
        // OTHR (MT NARR) is ISO_OTHR.
        let other = read(
            InstructionState::Rejected,
            NativeCode::Standard(OTHER),
            Some("see"),
        )
        .unwrap();
        assert_eq!(other.code.as_str(), "ISO_OTHR");
        assert!(reads_back(
            InstructionState::Rejected,
            &other,
            native_code(InstructionState::Rejected, &other, |_| true),
            Some("see")
        ));
    }

    #[test]
    fn an_iso_form_of_a_named_code_needs_the_extension() {
        let r = reason("ISO_DQUA", "qty", None, None);
        let native = native_code(InstructionState::Unmatched, &r, |_| true);
        assert_eq!(native, NativeCode::Standard("DQUA"));
        assert!(!reads_back(
            InstructionState::Unmatched,
            &r,
            native,
            Some("qty")
        ));
    }

    #[test]
    fn proprietary_codes_keep_their_issuer_and_scheme() {
        let native = NativeCode::Proprietary {
            code: "R012",
            issuer: "CRST",
            scheme: Some("CREST REASONS"),
        };
        let read_back = read(
            InstructionState::Rejected,
            native,
            Some("Member account suspended"),
        )
        .unwrap();
        assert_eq!(
            read_back,
            reason(
                "PRTRY_R012",
                "Member account suspended",
                Some("CRST"),
                Some("CREST REASONS")
            )
        );
        assert_eq!(
            native_code(InstructionState::Rejected, &read_back, |_| true),
            native
        );
        // A dialect that cannot hold the issuer writes OTHR.
        assert_eq!(
            native_code(InstructionState::Rejected, &read_back, |_| false),
            NativeCode::Standard(OTHER)
        );
        // The code of an issuer never maps by name.
        let odd = reason("UNMATCHED_QUANTITY", "x", Some("CRST"), None);
        assert_eq!(
            native_code(InstructionState::Unmatched, &odd, |_| true),
            NativeCode::Standard(OTHER)
        );
        let without = read(
            InstructionState::Cancelled,
            NativeCode::Proprietary {
                code: "C001",
                issuer: "ECLR",
                scheme: None,
            },
            None,
        )
        .unwrap();
        assert_eq!(
            without.text.as_str(),
            "Reason code C001 of ECLR, given without narrative."
        );
    }

    #[test]
    fn proprietary_codes_ism_cannot_spell_are_refused_with_their_part() {
        let lower = read(
            InstructionState::Rejected,
            NativeCode::Proprietary {
                code: "r012",
                issuer: "CRST",
                scheme: None,
            },
            None,
        )
        .unwrap_err();
        assert_eq!(
            (lower.part, lower.code),
            (Part::Code, TranslateCode::NotRepresentable)
        );
        let issuer = read(
            InstructionState::Rejected,
            NativeCode::Proprietary {
                code: "R012",
                issuer: "Crest_UK",
                scheme: None,
            },
            None,
        )
        .unwrap_err();
        assert_eq!(issuer.part, Part::Issuer);
        assert_eq!(issuer.code.as_str(), "TEXT_INVALID");
    }
}
