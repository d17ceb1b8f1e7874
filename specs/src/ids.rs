//! Message ids, node ids, references, free text, hashes and counters
//! (ISM-1 §4.9–§4.12).

use ring::digest;

use crate::json::ism_string;
use crate::limits::{MAX_REFERENCE_CHARS, MAX_TEXT_CHARS};
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// A message id: a UUID version 7 in lower-case hyphenated form (ISM-1 §4.9).
/// Its first 48 bits are the sender's clock in Unix milliseconds, so ids sort
/// roughly by creation time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId {
    text: String,
}

impl MessageId {
    /// Parses `xxxxxxxx-xxxx-7xxx-Vxxx-xxxxxxxxxxxx` with lower-case hex digits
    /// and variant nibble V in 8, 9, a, b.
    pub fn parse(text: &str) -> Result<MessageId, Rejection> {
        let bytes = text.as_bytes();
        let shape = bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
            });
        if !shape || bytes[14] != b'7' || !matches!(bytes[19], b'8' | b'9' | b'a' | b'b') {
            return Err(Rejection::new(
                ReasonCode::MessageIdInvalid,
                format!("{text} is not a lower-case UUID version 7 (xxxxxxxx-xxxx-7xxx-[89ab]xxx-xxxxxxxxxxxx)", text = quoted(text)),
            ));
        }
        Ok(MessageId {
            text: text.to_string(),
        })
    }

    /// Builds a UUIDv7 from a Unix time in milliseconds and 10 random bytes
    /// (RFC 9562 §5.7). Time and randomness are handed in so that callers
    /// (and simulations) control both.
    pub fn new_v7(unix_millis: u64, random: [u8; 10]) -> MessageId {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&unix_millis.to_be_bytes()[2..]);
        bytes[6..].copy_from_slice(&random);
        bytes[6] = 0x70 | (bytes[6] & 0x0f);
        bytes[8] = 0x80 | (bytes[8] & 0x3f);
        let hex = hex_lower(&bytes);
        let text = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        debug_assert!(MessageId::parse(&text).is_ok());
        MessageId { text }
    }

    /// The creation time the id encodes, in Unix milliseconds.
    pub fn unix_millis(&self) -> u64 {
        let hex: String = self.text.chars().filter(|c| *c != '-').take(12).collect();
        u64::from_str_radix(&hex, 16).unwrap_or(0)
    }
}

/// A node id: 3 to 64 characters of `a-z`, `0-9`, `.` and `-`, starting with
/// a letter, e.g. `gw.xnys` or `relay-1.custodian` (ISM-1 §4.9).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    text: String,
}

impl NodeId {
    /// Parses a node id.
    pub fn parse(text: &str) -> Result<NodeId, Rejection> {
        let bytes = text.as_bytes();
        let valid = (3..=64).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-');
        if !valid {
            return Err(Rejection::new(
                ReasonCode::NodeIdInvalid,
                format!("{text} is not a node id: use 3 to 64 characters of a-z, 0-9, '.' and '-', starting with a letter", text = quoted(text)),
            ));
        }
        Ok(NodeId {
            text: text.to_string(),
        })
    }
}

/// A business reference such as an instruction or settlement id: 1 to 35
/// characters of the SWIFT `x` set (`A-Z a-z 0-9 / - ? : ( ) . , ' +` and
/// space), not starting or ending with `/` or a space and without `//`
/// (ISM-1 §4.10), so that it also fits MT54x fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    text: String,
}

fn in_swift_x_set(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

impl Reference {
    /// Parses a reference.
    pub fn parse(text: &str) -> Result<Reference, Rejection> {
        let count = text.chars().count();
        let valid = (1..=MAX_REFERENCE_CHARS).contains(&count)
            && text.chars().all(in_swift_x_set)
            && !text.starts_with(['/', ' '])
            && !text.ends_with(['/', ' '])
            && !text.contains("//");
        if !valid {
            return Err(Rejection::new(
                ReasonCode::TextInvalid,
                format!("{text} is not a reference: use 1 to {MAX_REFERENCE_CHARS} characters of A-Z a-z 0-9 / - ? : ( ) . , ' + and space, not starting or ending with '/' or space, without '//'", text = quoted(text)),
            ));
        }
        Ok(Reference {
            text: text.to_string(),
        })
    }
}

/// Free text for people, e.g. a reason's sentence: 1 to 512 Unicode scalar
/// values, no control characters (ISM-1 §4.10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text {
    text: String,
}

impl Text {
    /// Parses free text.
    pub fn parse(text: &str) -> Result<Text, Rejection> {
        let count = text.chars().count();
        if !(1..=MAX_TEXT_CHARS).contains(&count) || text.chars().any(char::is_control) {
            return Err(Rejection::new(
                ReasonCode::TextInvalid,
                format!("free text must be 1 to {MAX_TEXT_CHARS} characters without control characters; found {count} characters"),
            ));
        }
        Ok(Text {
            text: text.to_string(),
        })
    }
}

/// A 32-byte value written as 64 lower-case hex digits: a SHA-256 hashlock,
/// a journal entry hash, or an HTLC preimage (ISM-1 §4.11).
///
/// The digits are kept inline, not in a `String`: hashes, hashlocks and
/// preimages are copied into every lock, receipt and journal entry, and a
/// copy costs no allocation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hex32 {
    /// 64 lower-case hex digits: ASCII, so always UTF-8.
    text: [u8; 64],
    bytes: [u8; 32],
}

impl std::fmt::Debug for Hex32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Hex32").field(&self.as_str()).finish()
    }
}

impl Hex32 {
    /// Parses 64 lower-case hexadecimal digits.
    pub fn parse(text: &str) -> Result<Hex32, Rejection> {
        let invalid = || {
            Rejection::new(
                ReasonCode::HexInvalid,
                format!(
                    "expected 64 lower-case hexadecimal digits (0-9, a-f) for 32 bytes; found {} characters{}",
                    text.chars().count(),
                    if text.bytes().any(|b| b.is_ascii_uppercase()) { ", some upper case" } else { "" }
                ),
            )
        };
        let Ok(digits) = <[u8; 64]>::try_from(text.as_bytes()) else {
            return Err(invalid());
        };
        let mut bytes = [0u8; 32];
        for (out, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or_else(invalid)?;
            let low = hex_value(pair[1]).ok_or_else(invalid)?;
            *out = high << 4 | low;
        }
        Ok(Hex32 {
            text: digits,
            bytes,
        })
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Hex32 {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 64];
        for (pair, byte) in text.chunks_exact_mut(2).zip(bytes) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        Hex32 { text, bytes }
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        match std::str::from_utf8(&self.text) {
            Ok(text) => text,
            // Built only by `parse` (hex digits checked) and `from_bytes`.
            Err(_) => unreachable!("a Hex32 holds only ASCII hex digits"),
        }
    }

    /// The SHA-256 of `data`.
    pub fn sha256_of(data: &[u8]) -> Hex32 {
        let digest = digest::digest(&digest::SHA256, data);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Hex32::from_bytes(bytes)
    }

    /// The 32 bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// Declares a 32-byte value with its own meaning, written as [`Hex32`] text.
macro_rules! hex32_meaning {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Hex32);

        impl $name {
            /// Parses 64 lower-case hexadecimal digits.
            pub fn parse(text: &str) -> Result<$name, Rejection> {
                Hex32::parse(text).map($name)
            }

            /// Wraps 32 bytes.
            pub fn from_bytes(bytes: [u8; 32]) -> $name {
                $name(Hex32::from_bytes(bytes))
            }

            /// The 32 bytes.
            pub fn bytes(&self) -> &[u8; 32] {
                self.0.bytes()
            }

            /// The 64 hex digits.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The value as a plain [`Hex32`].
            pub fn as_hex32(&self) -> &Hex32 {
                &self.0
            }
        }

        impl From<Hex32> for $name {
            fn from(value: Hex32) -> $name {
                $name(value)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl crate::json::Json for $name {
            fn from_json(value: &serde_json::Value, path: &str) -> Result<Self, Rejection> {
                Hex32::from_json(value, path).map($name)
            }
            fn to_json(&self) -> serde_json::Value {
                self.0.to_json()
            }
        }

        crate::json::serde_via_json!($name);
    };
}

hex32_meaning! {
    /// The SHA-256 of an HTLC's secret: whoever shows the 32 bytes hashing to
    /// it can claim the lock (ISM-1 §4.11, §6.6).
    Hashlock
}

hex32_meaning! {
    /// An HTLC's 32-byte secret *p*. Its hashlock is the SHA-256 of the 32
    /// bytes, not of their hex text (ISM-1 §6.6).
    Preimage
}

impl Preimage {
    /// The hashlock this secret opens.
    pub fn hashlock(&self) -> Hashlock {
        Hashlock(Hex32::sha256_of(self.bytes()))
    }

    /// Whether this secret opens `hashlock`: the digest's bytes compared,
    /// with no hex text made for them.
    pub fn opens(&self, hashlock: &Hashlock) -> bool {
        digest::digest(&digest::SHA256, self.bytes()).as_ref() == hashlock.bytes()
    }
}

/// Lower-case hex of any bytes.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Bytes first, then one check that they are text: pushing chars one
    // by one costs a UTF-8 encoding and a capacity check each.
    let mut out = vec![0u8; bytes.len() * 2];
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    String::from_utf8(out).unwrap_or_else(|_| unreachable!("hex digits are ASCII"))
}

/// A non-negative counter such as a journal sequence number, written as a
/// decimal string without leading zeros, at most 2^63 − 1 (ISM-1 §4.12).
/// A string, because ISM/1 carries no JSON numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Counter {
    text: String,
    value: u64,
}

impl Counter {
    /// Parses a counter.
    pub fn parse(text: &str) -> Result<Counter, Rejection> {
        let well_formed = !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit())
            && (text == "0" || !text.starts_with('0'));
        match text.parse::<u64>() {
            Ok(value) if well_formed && i64::try_from(value).is_ok() => Ok(Counter { text: text.to_string(), value }),
            _ => Err(Rejection::new(
                ReasonCode::IntegerInvalid,
                format!("{text} is not a decimal integer between 0 and 9223372036854775807 without leading zeros", text = quoted(text)),
            )),
        }
    }

    /// Wraps a value; `None` above 2^63 − 1.
    pub fn new(value: u64) -> Option<Counter> {
        i64::try_from(value).ok().map(|_| Counter {
            text: value.to_string(),
            value,
        })
    }

    /// The value.
    pub fn value(&self) -> u64 {
        self.value
    }
}

/// A reason code as carried in a message body: 3 to 48 characters of `A-Z`,
/// `0-9` and `_`, starting with a letter (ISM-1 §9.1). Receivers accept codes
/// they do not know, so later versions can add codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonCodeText {
    text: String,
}

impl ReasonCodeText {
    /// Parses a reason code's text form.
    pub fn parse(text: &str) -> Result<ReasonCodeText, Rejection> {
        let bytes = text.as_bytes();
        let valid = (3..=48).contains(&bytes.len())
            && bytes[0].is_ascii_uppercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_');
        if !valid {
            return Err(Rejection::new(
                ReasonCode::ReasonCodeInvalid,
                format!("{text} is not a reason code: use 3 to 48 characters of A-Z, 0-9 and '_', starting with a letter", text = quoted(text)),
            ));
        }
        Ok(ReasonCodeText {
            text: text.to_string(),
        })
    }

    /// The code, if this version of ISM/1 defines it.
    pub fn known(&self) -> Option<ReasonCode> {
        ReasonCode::from_wire(&self.text)
    }
}

impl From<ReasonCode> for ReasonCodeText {
    fn from(code: ReasonCode) -> Self {
        ReasonCodeText {
            text: code.as_str().to_string(),
        }
    }
}

ism_string!(MessageId);
ism_string!(NodeId);
ism_string!(Reference);
ism_string!(Text);

impl std::fmt::Display for Hex32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Hex32 {
    type Err = Rejection;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Hex32::parse(text)
    }
}

impl crate::json::Json for Hex32 {
    fn from_json(value: &serde_json::Value, path: &str) -> Result<Self, Rejection> {
        let text = crate::json::expect_str(value, path)?;
        Hex32::parse(text).map_err(|rejection| rejection.in_field(path))
    }
    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::String(self.as_str().to_owned())
    }
}

crate::json::serde_via_json!(Hex32);
ism_string!(Counter);
ism_string!(ReasonCodeText);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn message_ids() {
        assert!(MessageId::parse("01935f4e-8b2a-7c3d-9e4f-0123456789ab").is_ok());
        for bad in [
            "01935F4E-8B2A-7C3D-9E4F-0123456789AB",
            "01935f4e-8b2a-4c3d-9e4f-0123456789ab",
            "01935f4e-8b2a-7c3d-7e4f-0123456789ab",
            "01935f4e8b2a7c3d9e4f0123456789ab",
            "01HZZZ",
        ] {
            assert_eq!(
                MessageId::parse(bad).err().map(|r| r.code),
                Some(ReasonCode::MessageIdInvalid),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn generated_ids_parse_and_keep_their_time(unix_millis in 0u64..(1 << 48), random in any::<[u8; 10]>()) {
            let id = MessageId::new_v7(unix_millis, random);
            prop_assert!(MessageId::parse(id.as_str()).is_ok());
            prop_assert_eq!(id.unix_millis(), unix_millis);
        }
    }

    #[test]
    fn node_ids_references_text() {
        assert!(NodeId::parse("gw.xnys").is_ok());
        assert!(NodeId::parse("Gw.xnys").is_err());
        assert!(NodeId::parse("1gw").is_err());
        assert!(NodeId::parse("gw").is_err());
        assert!(Reference::parse("SEME-2026/11/25-001").is_ok());
        for bad in [
            "",
            "/ABC",
            "ABC/",
            "A//B",
            "A_B",
            " A",
            "ÄBC",
            &"A".repeat(36),
        ] {
            assert_eq!(
                Reference::parse(bad).err().map(|r| r.code),
                Some(ReasonCode::TextInvalid),
                "{bad}"
            );
        }
        assert!(Text::parse("Insufficient holdings: 100 short.").is_ok());
        assert!(Text::parse("line\nbreak").is_err());
        assert!(Text::parse("").is_err());
    }

    #[test]
    fn hex_and_counters() {
        let h = Hex32::sha256_of(b"abc");
        assert_eq!(
            h.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Hex32::parse(h.as_str()).ok().map(|p| *p.bytes()),
            Some(*h.bytes())
        );
        assert!(Hex32::parse(&h.as_str().to_uppercase()).is_err());
        assert!(Hex32::parse(&h.as_str()[1..]).is_err());
        // Shown as its digits, and in debug output as nothing but them.
        assert_eq!(h.to_string(), h.as_str());
        assert_eq!(format!("{h:?}"), format!("Hex32({:?})", h.as_str()));
        assert!(Counter::parse("0").is_ok());
        assert_eq!(
            Counter::parse("9223372036854775807")
                .map(|c| c.value())
                .ok(),
            Some(i64::MAX as u64)
        );
        for bad in ["", "01", "-1", "9223372036854775808", "1.0", " 1"] {
            assert_eq!(
                Counter::parse(bad).err().map(|r| r.code),
                Some(ReasonCode::IntegerInvalid),
                "{bad}"
            );
        }
        assert!(ReasonCodeText::parse("ISIN_CHECK_DIGIT")
            .is_ok_and(|c| c.known() == Some(ReasonCode::IsinCheckDigit)));
        assert!(ReasonCodeText::parse("FUTURE_CODE").is_ok_and(|c| c.known().is_none()));
        assert!(ReasonCodeText::parse("bad code").is_err());
    }
}
