//! Reason codes and rejections (ISM-1 §9).
//!
//! Every refusal in ISM/1 carries a stable, machine-readable reason code and a
//! sentence a person understands. The code table is normative: the spec's
//! table and [`ReasonCode::ALL`] must list the same codes, which a test checks.

use std::fmt;

macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $clause:literal, $summary:literal; )*) => {
        /// A stable reason code (ISM-1 §9). The text form is what goes on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ReasonCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ReasonCode {
            /// Every code, in the order of the spec's table.
            pub const ALL: &'static [ReasonCode] = &[ $( ReasonCode::$variant, )* ];

            /// The code as written on the wire, e.g. `ISIN_CHECK_DIGIT`.
            pub fn as_str(self) -> &'static str {
                match self { $( ReasonCode::$variant => $text, )* }
            }

            /// The spec clause that defines the rule this code reports.
            pub fn clause(self) -> &'static str {
                match self { $( ReasonCode::$variant => $clause, )* }
            }

            /// A one-line description of the rule, used in the spec table and in `--help`.
            pub fn summary(self) -> &'static str {
                match self { $( ReasonCode::$variant => $summary, )* }
            }

            /// Parses the wire form of a code; `None` for codes this version does not define.
            pub fn from_wire(text: &str) -> Option<ReasonCode> {
                match text { $( $text => Some(ReasonCode::$variant), )* _ => None }
            }
        }
    };
}

reason_codes! {
    /// The input is larger than the maximum message size.
    InputTooLarge = "INPUT_TOO_LARGE", "ISM-1 §3.1", "The message is larger than 1 MiB.";
    /// The input is not well-formed UTF-8 JSON.
    MalformedJson = "MALFORMED_JSON", "ISM-1 §3.1", "The input is not well-formed UTF-8 JSON.";
    /// An object repeats a member name.
    DuplicateKey = "DUPLICATE_KEY", "ISM-1 §3.2", "A JSON object repeats a member name.";
    /// Objects or arrays are nested too deeply.
    NestingTooDeep = "NESTING_TOO_DEEP", "ISM-1 §3.1", "Objects and arrays are nested more than 16 levels deep.";
    /// A required member is absent.
    MissingField = "MISSING_FIELD", "ISM-1 §3.3", "A required member is absent.";
    /// A member is not defined for this object.
    UnknownField = "UNKNOWN_FIELD", "ISM-1 §3.3", "A member is not defined by ISM/1 for this object.";
    /// A member has the wrong JSON type (including null and numbers).
    WrongType = "WRONG_TYPE", "ISM-1 §3.3", "A member has the wrong JSON type; null and numbers never appear in ISM/1.";
    /// A free-text or reference member is empty, too long or has forbidden characters.
    TextInvalid = "TEXT_INVALID", "ISM-1 §4.10", "A text member is empty, too long, or contains characters it may not.";
    /// A list has too many entries.
    TooManyItems = "TOO_MANY_ITEMS", "ISM-1 §3.3", "A list has more entries than its limit.";
    /// The value is not one of the listed codes for this member.
    UnknownCode = "UNKNOWN_CODE", "ISM-1 §3.3", "A member holds a value that is not one of its listed codes.";
    /// The envelope's version is not `ISM/1`.
    VersionUnsupported = "VERSION_UNSUPPORTED", "ISM-1 §5.1", "The envelope's version is not ISM/1.";
    /// The envelope's kind is not a message kind of ISM/1.
    KindUnknown = "KIND_UNKNOWN", "ISM-1 §5.1", "The envelope's kind is not a message kind of ISM/1.";
    /// The message id is not a lower-case UUIDv7.
    MessageIdInvalid = "MESSAGE_ID_INVALID", "ISM-1 §4.9", "The message id is not a lower-case UUID version 7.";
    /// A node id does not have the node id form.
    NodeIdInvalid = "NODE_ID_INVALID", "ISM-1 §4.9", "A node id is not 3 to 64 characters of a-z, 0-9, '.', '-' starting with a letter.";
    /// Sender and receiver are the same node.
    SenderIsReceiver = "SENDER_IS_RECEIVER", "ISM-1 §5.1", "The sender and the receiver are the same node.";
    /// A timestamp is not an RFC 3339 UTC time of the ISM/1 form.
    TimestampInvalid = "TIMESTAMP_INVALID", "ISM-1 §4.8", "A timestamp is not of the form YYYY-MM-DDThh:mm:ss[.fff]Z or is not a real instant.";
    /// A date is not a real calendar date of the form YYYY-MM-DD.
    DateInvalid = "DATE_INVALID", "ISM-1 §4.8", "A date is not a real calendar date of the form YYYY-MM-DD.";
    /// The settlement date is before the trade date.
    SettlementBeforeTrade = "SETTLEMENT_BEFORE_TRADE", "ISM-1 §6.1", "The settlement date is before the trade date.";
    /// An ISIN is not two letters, nine alphanumerics and a digit.
    IsinFormat = "ISIN_FORMAT", "ISM-1 §4.1", "An ISIN is not 2 upper-case letters, 9 upper-case letters or digits, and 1 digit.";
    /// An ISIN's check digit is wrong.
    IsinCheckDigit = "ISIN_CHECK_DIGIT", "ISM-1 §4.1", "An ISIN's check digit does not match its first eleven characters.";
    /// An ISIN's prefix is neither a country nor an ISIN prefix ISM/1 lists.
    IsinPrefix = "ISIN_PREFIX", "ISM-1 §4.1", "An ISIN's first two letters are neither an ISO 3166-1 country code nor one of the ISIN prefixes of Table 3 (XS, EU, EZ, …).";
    /// An LEI is not 18 alphanumerics and two digits.
    LeiFormat = "LEI_FORMAT", "ISM-1 §4.2", "An LEI is not 18 upper-case letters or digits followed by 2 digits.";
    /// An LEI's MOD 97-10 check digits are wrong.
    LeiCheckDigits = "LEI_CHECK_DIGITS", "ISM-1 §4.2", "An LEI's check digits fail the ISO 7064 MOD 97-10 check.";
    /// A BIC is not of the ISO 9362 form.
    BicFormat = "BIC_FORMAT", "ISM-1 §4.3", "A BIC is not 4 letters or digits, a 2-letter country, 2 letters or digits, and optionally 3 letters or digits.";
    /// A BIC's country part is not an ISO 3166 country.
    BicCountry = "BIC_COUNTRY", "ISM-1 §4.3", "A BIC's country code is not an ISO 3166-1 alpha-2 code.";
    /// A party identifier is neither an LEI nor a BIC.
    PartyIdInvalid = "PARTY_ID_INVALID", "ISM-1 §4.4", "A party identifier has neither the length of an LEI (20 characters) nor that of a BIC (8 or 11).";
    /// A MIC is not four upper-case letters or digits.
    MicFormat = "MIC_FORMAT", "ISM-1 §4.5", "A MIC is not 4 upper-case letters or digits.";
    /// A MIC is well formed but not a market this network knows.
    MicUnknown = "MIC_UNKNOWN", "ISM-1 §4.5", "A MIC is well formed but is not a market listed in the ISM/1 market table.";
    /// A currency code is not an active ISO 4217 code.
    CurrencyUnknown = "CURRENCY_UNKNOWN", "ISM-1 §4.6", "A currency is not an active ISO 4217 alphabetic code.";
    /// A currency code has no minor units and cannot be a settlement currency.
    CurrencyNotSettleable = "CURRENCY_NOT_SETTLEABLE", "ISM-1 §4.6", "A currency has no minor units in ISO 4217 (e.g. XAU, XDR, XXX) and cannot settle cash.";
    /// A decimal string is not of the plain decimal form.
    DecimalFormat = "DECIMAL_FORMAT", "ISM-1 §4.7", "A quantity or amount is not a plain decimal string such as 1250 or 99.50.";
    /// A quantity or amount is zero or negative.
    DecimalNotPositive = "DECIMAL_NOT_POSITIVE", "ISM-1 §4.7", "A quantity or amount is zero or negative.";
    /// A decimal string has more than 18 digits.
    DecimalTooManyDigits = "DECIMAL_TOO_MANY_DIGITS", "ISM-1 §4.7", "A quantity or amount has more than 18 digits.";
    /// A decimal string has more fraction digits than allowed.
    DecimalTooManyDecimals = "DECIMAL_TOO_MANY_DECIMALS", "ISM-1 §4.7", "A quantity or amount has more digits after the point than its currency or quantity rule allows.";
    /// A hex-encoded hash, hashlock or preimage is malformed.
    HexInvalid = "HEX_INVALID", "ISM-1 §4.11", "A hash, hashlock or preimage is not 64 lower-case hexadecimal digits.";
    /// A decimal integer string (e.g. a journal sequence) is malformed.
    IntegerInvalid = "INTEGER_INVALID", "ISM-1 §4.12", "A counter is not a decimal integer string without leading zeros, at most 2^63-1.";
    /// An against-payment instruction has no settlement amount.
    AmountRequired = "AMOUNT_REQUIRED", "ISM-1 §6.1", "An against-payment instruction, proposal or confirmation lacks its settlement amount (or, in a confirmation, its cash journal).";
    /// A free-of-payment instruction carries a settlement amount.
    AmountNotAllowed = "AMOUNT_NOT_ALLOWED", "ISM-1 §6.1", "A free-of-payment instruction, proposal or confirmation carries a settlement amount (or, in an instruction, a cash side; in a confirmation, a cash journal).";
    /// A party is identified by neither or both of a BIC and a proprietary code.
    PartyIdChoice = "PARTY_ID_CHOICE", "ISM-1 §6.0.1", "A party must be identified by exactly one of a BIC and a proprietary code.";
    /// An instruction does not name the counterparty's agent.
    CounterpartyRequired = "COUNTERPARTY_REQUIRED", "ISM-1 §6.1", "A delivery must name the receiving agent, a receipt the delivering agent.";
    /// Two matched instructions lack a member a settlement leg needs.
    InstructionIncomplete = "INSTRUCTION_INCOMPLETE", "ISM-1 §6.1", "Neither matched instruction names a member a settlement leg needs (an account owner, a cash account, a leg's market).";
    /// Two instructions are not one delivery and one receipt of the same payment type.
    PairInvalid = "PAIR_INVALID", "ISM-1 §6.1", "Two instructions that are not one delivery and one receipt of the same payment type cannot settle together.";
    /// Two matched instructions name different markets for one leg.
    LegMarketConflict = "LEG_MARKET_CONFLICT", "ISM-1 §6.1", "The two instructions of a settlement name different markets for the same leg.";
    /// A lock names neither or both of securities and cash.
    AssetChoice = "ASSET_CHOICE", "ISM-1 §6.4", "A lock must name exactly one of securities and cash, matching its leg.";
    /// The securities leg does not expire after the cash leg.
    ExpiryOrder = "EXPIRY_ORDER", "ISM-1 §6.3", "The securities leg must expire strictly after the cash leg (T2 > T1).";
    /// A preimage does not hash to the hashlock it claims.
    PreimageMismatch = "PREIMAGE_MISMATCH", "ISM-1 §6.6", "The preimage's SHA-256 is not the hashlock it claims.";
    /// A status that needs a reason has none.
    ReasonRequired = "REASON_REQUIRED", "ISM-1 §6.2", "A REJECTED or UNMATCHED status carries no reason.";
    /// A holdings statement's balances contradict each other.
    BalanceInconsistent = "BALANCE_INCONSISTENT", "ISM-1 §6.9", "A balance locks more than it holds, or balances are not sorted by ISIN with each ISIN once.";
    /// A reason code in a body is not of the reason-code form.
    ReasonCodeInvalid = "REASON_CODE_INVALID", "ISM-1 §9.1", "A reason code is not 3 to 48 characters of A-Z, 0-9 and '_' starting with a letter.";
    /// A message that must be signed is not.
    SignatureMissing = "SIGNATURE_MISSING", "ISM-1 §7.3", "The message carries no signature where one is required.";
    /// The signature member is malformed or names another algorithm.
    SignatureMalformed = "SIGNATURE_MALFORMED", "ISM-1 §7.1", "The signature is not an Ed25519 signature of the ISM/1 form.";
    /// The signing key is not known to the verifier.
    KeyUnknown = "KEY_UNKNOWN", "ISM-1 §7.3", "The signature's key id is not a key the verifier knows.";
    /// The signature does not verify.
    SignatureInvalid = "SIGNATURE_INVALID", "ISM-1 §7.3", "The signature does not verify over the message's canonical bytes.";
    /// A frame's length prefix exceeds the maximum frame size.
    FrameTooLarge = "FRAME_TOO_LARGE", "ISM-1 §8.2", "A frame's length prefix is larger than 1 MiB.";
    /// A stream ended in the middle of a frame.
    FrameTruncated = "FRAME_TRUNCATED", "ISM-1 §8.2", "A stream ended in the middle of a frame.";
    /// A message id was seen before from this sender.
    MessageReplayed = "MESSAGE_REPLAYED", "ISM-1 §8.4", "The message id has been handled before.";
    /// The message is not addressed to the node that received it.
    ReceiverMismatch = "RECEIVER_MISMATCH", "ISM-1 §8.4", "The message is addressed to another node.";
    /// The sending node is not in the network membership.
    PeerUnknown = "PEER_UNKNOWN", "ISM-1 §8.4", "The sending node is not a member of the network.";
    /// A stream carried more than one frame.
    FrameExtra = "FRAME_EXTRA", "ISM-1 §8.3", "A request stream brought bytes after its one frame.";
    /// A stream ended before any frame.
    FrameMissing = "FRAME_MISSING", "ISM-1 §8.3", "A request stream ended without any frame.";
    /// The sender's role may not send this message.
    RoleForbidden = "ROLE_FORBIDDEN", "ISM-1 §8.1", "An observer sent a message other than an Error.";
    /// A membership entry has an unknown role.
    RoleUnknown = "ROLE_UNKNOWN", "ISM-1 §8.1", "A membership file names a role other than gateway, relay or observer.";
    /// A membership entry that is not a gateway has a market.
    MarketUnexpected = "MARKET_UNEXPECTED", "ISM-1 §8.1", "A membership file gives a market to a relay or an observer.";
    /// A membership entry has no signing key.
    SigningKeysMissing = "SIGNING_KEYS_MISSING", "ISM-1 §8.1", "A membership file lists a member without signing keys.";
    /// A membership file repeats a node id.
    MemberDuplicate = "MEMBER_DUPLICATE", "ISM-1 §8.1", "A membership file lists a node id twice.";
    /// A membership file repeats a key id.
    KeyDuplicate = "KEY_DUPLICATE", "ISM-1 §8.1", "A membership file lists a key id twice.";
    /// A membership file repeats a certificate.
    CertificateDuplicate = "CERTIFICATE_DUPLICATE", "ISM-1 §8.1", "A membership file lists a certificate digest twice.";
    /// The membership file lacks this node.
    MemberMissing = "MEMBER_MISSING", "ISM-1 §8.1", "The membership file does not list the node reading it, or lists no one.";
    /// A Batch carries a Batch.
    BatchNested = "BATCH_NESTED", "ISM-1 §6.11", "A Batch carries a Batch.";
    /// A message carried in a Batch is signed itself.
    BatchMessageSigned = "BATCH_MESSAGE_SIGNED", "ISM-1 §6.11", "A message carried in a Batch has a signature of its own; the Batch's covers it.";
    /// A message carried in a Batch is from or to another node than the Batch.
    BatchAddressMismatch = "BATCH_ADDRESS_MISMATCH", "ISM-1 §6.11", "A message carried in a Batch has another sender or receiver than the Batch.";
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an input was refused: a stable code, where in the message, and a sentence.
///
/// `field` is a dotted path such as `body.delivering_party.bic` (array
/// entries as `body.balances[2].isin`), or `None` for the message as a whole.
/// It is the exact path of ISM-1 §3.3.6, which may name an unknown member as
/// the input wrote it; its [`fmt::Display`] writes it through
/// [`crate::quote::location`], escaped and bounded. `message` quotes the input
/// only through [`crate::quote`], and the constructors pass it through
/// [`crate::quote::sentence`], so it is always safe to print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {}{message}", field_prefix(.field))]
pub struct Rejection {
    /// The machine-readable reason (ISM-1 §9).
    pub code: ReasonCode,
    /// Where in the message the problem is, if it is in one member.
    pub field: Option<String>,
    /// A sentence a person understands, naming the offending value.
    pub message: String,
}

fn field_prefix(field: &Option<String>) -> String {
    match field {
        Some(path) => format!("{}: ", crate::quote::location(path)),
        None => String::new(),
    }
}

impl Rejection {
    /// A rejection of the message as a whole.
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            field: None,
            message: crate::quote::sentence(&message.into()),
        }
    }

    /// A rejection of one member of the message.
    pub fn at(code: ReasonCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Rejection {
            code,
            field: Some(field.into()),
            message: crate::quote::sentence(&message.into()),
        }
    }

    /// Places a rejection raised by a value parser at the member it came from.
    pub fn in_field(mut self, field: &str) -> Self {
        if self.field.is_none() {
            self.field = Some(field.to_string());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = BTreeSet::new();
        for code in ReasonCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ReasonCode::from_wire(code.as_str()), Some(*code));
            assert!(code.clause().starts_with("ISM-1 §"));
            assert!(code.summary().ends_with('.'));
        }
        assert_eq!(ReasonCode::from_wire("NOT_A_CODE"), None);
    }

    #[test]
    fn display_names_code_field_and_sentence() {
        let r = Rejection::at(ReasonCode::IsinFormat, "body.isin", "too short");
        assert_eq!(r.to_string(), "ISIN_FORMAT: body.isin: too short");
        let r = Rejection::new(ReasonCode::MalformedJson, "eof").in_field("x");
        assert_eq!(r.field.as_deref(), Some("x"));
    }

    #[test]
    fn display_and_message_are_safe_to_print() {
        // The path stays exact (ISM-1 §3.3.6); only its display is escaped.
        let r = Rejection::at(
            ReasonCode::UnknownField,
            "body.a\u{1b}]0;x\u{7}",
            "bell \u{7}",
        );
        assert_eq!(r.field.as_deref(), Some("body.a\u{1b}]0;x\u{7}"));
        assert_eq!(r.message, "bell \\u{7}");
        let shown = r.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        let long = format!("body.{}", "n".repeat(100_000));
        let r = Rejection::at(ReasonCode::UnknownField, long, "m".repeat(100_000));
        assert!(r.to_string().len() < 2_000);
    }
}
