//! Translation results and errors shared by every dialect.

use std::fmt;

use isthmus_spec::{ReasonCode, Rejection};

/// Why a translation was refused.
///
/// Values that break an ISM/1 rule (a wrong ISIN check digit, an unknown
/// currency, an impossible date…) carry the ISM/1 reason code itself
/// ([`TranslateCode::Ism`]), so a refusal reads the same whatever dialect the
/// value arrived in; problems of the dialect's own structure have codes of
/// their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TranslateCode {
    /// A value broke an ISM/1 rule (ISM-1 §9).
    Ism(ReasonCode),
    /// A FIN message's blocks (`{1:…}{2:…}{4:…-}`) are missing or malformed.
    MtBlockStructure,
    /// The FIN message type is not one of MT540–MT548.
    MtMessageTypeUnsupported,
    /// A mandatory sequence (A GENL, B TRADDET, C FIAC, E SETDET, …) is missing or unterminated.
    MtSequenceMissing,
    /// A mandatory field of a sequence is missing.
    MtFieldMissing,
    /// A field carries a qualifier that is wrong or unknown for it (e.g. `:98A::XXXX//`).
    MtQualifierInvalid,
    /// A field's content breaks its format (length, character set, `,` decimal mark, YYYYMMDD date…).
    MtFieldFormat,
    /// Two fields contradict each other: an effective settlement
    /// (`:98a::ESET//`) before the settlement date (`:98A::SETT//`), ISM-1
    /// Appendix A.2.
    MtFieldsInconsistent,
    /// The XML is not well formed.
    XmlMalformed,
    /// The document is not one of the supported ISO 20022 messages (by namespace and root element).
    XmlMessageUnsupported,
    /// A mandatory XML element is missing.
    XmlElementMissing,
    /// An element appears where the schema allows none.
    XmlElementUnexpected,
    /// An element's value breaks its schema type.
    XmlValueInvalid,
    /// A value the ISM/1 message needs cannot be written in the dialect at all.
    NotRepresentable,
    /// The ISM/1 kind has no counterpart in the dialect.
    KindUnsupported,
    /// The input is larger than the adapter accepts.
    InputTooLarge,
}

impl TranslateCode {
    /// The stable code, e.g. `MT_SEQUENCE_MISSING` or, for ISM rules, the ISM/1 code.
    pub fn as_str(self) -> &'static str {
        match self {
            TranslateCode::Ism(code) => code.as_str(),
            TranslateCode::MtBlockStructure => "MT_BLOCK_STRUCTURE",
            TranslateCode::MtMessageTypeUnsupported => "MT_MESSAGE_TYPE_UNSUPPORTED",
            TranslateCode::MtSequenceMissing => "MT_SEQUENCE_MISSING",
            TranslateCode::MtFieldMissing => "MT_FIELD_MISSING",
            TranslateCode::MtQualifierInvalid => "MT_QUALIFIER_INVALID",
            TranslateCode::MtFieldFormat => "MT_FIELD_FORMAT",
            TranslateCode::MtFieldsInconsistent => "MT_FIELDS_INCONSISTENT",
            TranslateCode::XmlMalformed => "XML_MALFORMED",
            TranslateCode::XmlMessageUnsupported => "XML_MESSAGE_UNSUPPORTED",
            TranslateCode::XmlElementMissing => "XML_ELEMENT_MISSING",
            TranslateCode::XmlElementUnexpected => "XML_ELEMENT_UNEXPECTED",
            TranslateCode::XmlValueInvalid => "XML_VALUE_INVALID",
            TranslateCode::NotRepresentable => "NOT_REPRESENTABLE",
            TranslateCode::KindUnsupported => "KIND_UNSUPPORTED",
            TranslateCode::InputTooLarge => "INPUT_TOO_LARGE",
        }
    }
}

impl fmt::Display for TranslateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused translation: a stable code, the field at fault (a dialect
/// location such as `:98A::SETT//` or `/Document/SctiesSttlmTxInstr/TradDtls/SttlmDt`,
/// or an ISM/1 path such as `body.isin`), and a sentence.
///
/// Both are for a person and safe to print as they are: the constructors pass
/// the field through [`isthmus_spec::quote::location`] and the sentence
/// through [`isthmus_spec::quote::sentence`] (control characters escaped,
/// length bounded), and the readers quote input only through
/// [`isthmus_spec::quote`]. A field made of input (an XML path through an
/// element the schema does not have, an ISM/1 path naming an unknown member)
/// is therefore escaped and cut, not exact; the ISM/1 decoder's own
/// [`Rejection`] keeps the exact path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {}{message}", field_prefix(.field))]
pub struct TranslateError {
    /// The reason code.
    pub code: TranslateCode,
    /// Where the problem is.
    pub field: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
}

fn field_prefix(field: &Option<String>) -> String {
    field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default()
}

/// A field as stored: escaped and bounded (see [`TranslateError`]).
fn safe_field(field: &str) -> String {
    isthmus_spec::quote::location(field).to_string()
}

/// A sentence as stored: escaped and bounded (see [`TranslateError`]).
fn safe_sentence(message: &str) -> String {
    isthmus_spec::quote::sentence(message)
}

impl TranslateError {
    /// An error at a field.
    pub fn at(
        code: TranslateCode,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> TranslateError {
        TranslateError {
            code,
            field: Some(safe_field(&field.into())),
            message: safe_sentence(&message.into()),
        }
    }

    /// An error about the input as a whole.
    pub fn new(code: TranslateCode, message: impl Into<String>) -> TranslateError {
        TranslateError {
            code,
            field: None,
            message: safe_sentence(&message.into()),
        }
    }

    /// An ISM/1 rejection of a value found at a dialect `field`.
    pub fn from_rejection(rejection: Rejection, field: impl Into<String>) -> TranslateError {
        TranslateError {
            code: TranslateCode::Ism(rejection.code),
            field: Some(safe_field(&field.into())),
            message: safe_sentence(&rejection.message),
        }
    }
}

impl From<Rejection> for TranslateError {
    fn from(rejection: Rejection) -> TranslateError {
        TranslateError {
            code: TranslateCode::Ism(rejection.code),
            field: rejection.field.as_deref().map(safe_field),
            message: safe_sentence(&rejection.message),
        }
    }
}

/// An ISM/1 field that the target dialect cannot carry, reported instead of
/// being dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrepresented {
    /// The ISM/1 path, e.g. `body.delivering_agent.lei`.
    pub field: String,
    /// Why the dialect cannot carry it.
    pub reason: String,
}

/// An ISM/1 member the source message did not state, filled in from what the
/// message implies (its routing: the MT sender and receiver, the business
/// application header) or from what the gateway knows (ISM-1 §6.1 duty 8).
/// Reported so that nobody mistakes it for what the participant wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The ISM/1 path of the member, e.g. `body.receiving_agent`.
    pub field: String,
    /// Where the value came from: a location in the message, such as
    /// `{2:} receiver` or `/AppHdr/Fr`, or `gateway` for a [`crate::InboundContext`].
    pub source: String,
    /// Why that source gives this member, for a person.
    pub reason: String,
}

/// Why a time without a UTC offset (MT `:98C:`, a zone-less ISO 20022
/// `ISODateTime`) is a derived instant: both dialects report it in these words.
pub const LOCAL_TIME_AS_UTC: &str = "a local time without a UTC offset is read as UTC";

/// Why an instant given as a date alone (MT `:98A::ESET//`, ISO 20022
/// `FctvSttlmDt/Dt/Dt`) is derived: both dialects report it in these words.
pub const DATE_ONLY_AS_MIDNIGHT_UTC: &str =
    "only the date is given; ISM/1 carries an instant, read as 00:00:00 UTC of that date";

/// A translated value, the fields that did not survive the translation and
/// the members that were derived rather than read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation<T> {
    /// The result.
    pub value: T,
    /// Fields of the source the result does not carry; empty for a lossless translation.
    pub unrepresented: Vec<Unrepresented>,
    /// Members of the result the source did not state (inbound translations only).
    pub derived: Vec<Derived>,
    /// ISM/1 paths of members the source does state, but in a form ISM/1
    /// cannot carry (a party by name and address, an owner by proprietary
    /// code): absent from the result and listed in `unrepresented`, and never
    /// to be filled in from elsewhere, since the message says who it is.
    pub withheld: Vec<String>,
}

impl<T> Translation<T> {
    /// A lossless translation.
    pub fn lossless(value: T) -> Translation<T> {
        Translation {
            value,
            unrepresented: Vec::new(),
            derived: Vec::new(),
            withheld: Vec::new(),
        }
    }

    /// A translation that leaves out `unrepresented`.
    pub fn lossy(value: T, unrepresented: Vec<Unrepresented>) -> Translation<T> {
        Translation {
            value,
            unrepresented,
            derived: Vec::new(),
            withheld: Vec::new(),
        }
    }
}

/// Most bytes an adapter reads as one native message (the ISM/1 limit).
pub const MAX_NATIVE_MESSAGE_BYTES: usize = isthmus_spec::limits::MAX_MESSAGE_BYTES;
