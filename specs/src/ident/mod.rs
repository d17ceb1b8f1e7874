//! Validated identifiers of the securities world (ISM-1 §4.1–§4.6).
//!
//! Each type can only be built by parsing, so holding one means the text
//! passed its format and check-digit rules.

mod bic;
mod country_table;
mod currency;
mod currency_table;
mod isin;
mod lei;
mod mic;
mod party;

pub use bic::Bic;
pub use currency::Currency;
pub use isin::Isin;
pub use lei::Lei;
pub use mic::{Market, Mic, MARKETS};
pub use party::PartyId;

/// The numeric value ISO 6166 and ISO 17442 give a character: digits are
/// themselves, letters A–Z are 10–35. `None` for anything else.
fn alphanumeric_value(byte: u8) -> Option<u32> {
    match byte {
        b'0'..=b'9' => Some(u32::from(byte - b'0')),
        b'A'..=b'Z' => Some(u32::from(byte - b'A') + 10),
        _ => None,
    }
}

fn is_upper_alnum(byte: &u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit()
}
