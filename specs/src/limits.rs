//! Explicit limits of ISM/1. Every size, length and count has a bound here,
//! and the spec quotes the same numbers (ISM-1 §3.1, §4, §8.2).

/// Largest message, and largest frame payload, in bytes (ISM-1 §3.1, §8.2).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Deepest nesting of objects and arrays in a message (ISM-1 §3.1).
pub const MAX_NESTING_DEPTH: usize = 16;

/// Deepest nesting accepted when canonicalising an arbitrary JSON document;
/// below serde_json's own guard of 128 so that ours, with its reason code, trips first.
pub const MAX_GENERIC_NESTING_DEPTH: usize = 100;

/// Most characters in a reference such as an instruction id (ISM-1 §4.10); ISO 20022 Max35Text.
pub const MAX_REFERENCE_CHARS: usize = 35;

/// Most characters in a free-text member such as a reason's text (ISM-1 §4.10).
pub const MAX_TEXT_CHARS: usize = 512;

/// Most entries in any list, e.g. a holdings statement's balances (ISM-1 §3.3).
pub const MAX_LIST_ITEMS: usize = 1000;

/// Most significant digits in a quantity or amount (ISM-1 §4.7); ISO 20022 totalDigits 18.
pub const MAX_DECIMAL_DIGITS: usize = 18;

/// Most digits after the point in a securities quantity (ISM-1 §4.7).
pub const MAX_QUANTITY_DECIMALS: u8 = 6;

/// Length of a frame's length prefix in bytes (ISM-1 §8.2).
pub const FRAME_PREFIX_BYTES: usize = 4;

/// Most characters of the input one error message quotes at a time, escapes
/// counted as written; what is cut is marked `…` (`quote`).
pub const MAX_QUOTED_CHARS: usize = 40;

/// Most characters of a location (a member path, an XML path, an MT field)
/// written in an error message; every location ISM/1 and the dialects define
/// is shorter.
pub const MAX_LOCATION_CHARS: usize = 256;

/// Most characters in one error message (`Rejection::message`, and the
/// adapters' errors), `…` included.
pub const MAX_SENTENCE_CHARS: usize = 1024;

const _: () = assert!(
    MAX_MESSAGE_BYTES <= u32::MAX as usize,
    "a frame length must fit its u32 prefix"
);
const _: () = assert!(MAX_NESTING_DEPTH <= MAX_GENERIC_NESTING_DEPTH);
const _: () = assert!((MAX_QUANTITY_DECIMALS as usize) < MAX_DECIMAL_DIGITS);
const _: () = assert!(
    MAX_QUOTED_CHARS * 4 < MAX_SENTENCE_CHARS,
    "a sentence holds several quotations whole"
);
