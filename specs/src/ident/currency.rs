//! Currency, ISO 4217 (ISM-1 §4.6).

use super::currency_table::{CurrencyEntry, CURRENCIES};
use crate::json::ism_string;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// An active ISO 4217 alphabetic currency code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    text: String,
}

impl Currency {
    /// Parses a code from the embedded ISO 4217 active list (ISM-1 §4.6).
    pub fn parse(text: &str) -> Result<Currency, Rejection> {
        if lookup(text).is_none() {
            return Err(Rejection::new(
                ReasonCode::CurrencyUnknown,
                format!("{text} is not an active ISO 4217 currency code (three upper-case letters such as USD, EUR, JPY)", text = quoted(text)),
            ));
        }
        Ok(Currency {
            text: text.to_string(),
        })
    }

    /// Digits after the decimal mark, or `None` where ISO 4217 gives none
    /// (precious metals, SDR, test and no-currency codes).
    pub fn minor_units(&self) -> Option<u8> {
        lookup(&self.text).and_then(|entry| entry.minor_units)
    }

    /// The ISO 4217 numeric code.
    pub fn numeric(&self) -> u16 {
        lookup(&self.text).map_or(0, |entry| entry.numeric)
    }

    /// The currency's English name.
    pub fn name(&self) -> &'static str {
        lookup(&self.text).map_or("", |entry| entry.name)
    }

    /// Every active code, sorted.
    pub fn all_codes() -> impl Iterator<Item = &'static str> {
        CURRENCIES.iter().map(|entry| entry.code)
    }
}

fn lookup(code: &str) -> Option<&'static CurrencyEntry> {
    CURRENCIES
        .binary_search_by(|entry| entry.code.cmp(code))
        .ok()
        .and_then(|index| CURRENCIES.get(index))
}

ism_string!(Currency);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_well_formed() {
        for pair in CURRENCIES.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} before {}",
                pair[0].code,
                pair[1].code
            );
        }
        for entry in CURRENCIES {
            assert!(entry.code.len() == 3 && entry.code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(
                entry.minor_units.is_none_or(|units| units <= 4),
                "{}",
                entry.code
            );
        }
        assert!(CURRENCIES.len() > 150);
    }

    #[test]
    fn minor_units_match_iso_4217() {
        let units = |code: &str| Currency::parse(code).ok().and_then(|c| c.minor_units());
        assert_eq!(units("USD"), Some(2));
        assert_eq!(units("JPY"), Some(0));
        assert_eq!(units("KRW"), Some(0));
        assert_eq!(units("BHD"), Some(3));
        assert_eq!(units("KWD"), Some(3));
        assert_eq!(units("CLF"), Some(4));
        assert_eq!(units("XAU"), None);
        assert_eq!(Currency::parse("EUR").map(|c| c.numeric()).ok(), Some(978));
    }

    #[test]
    fn all_codes_is_the_table_in_table_order_and_each_code_names_its_entry() {
        let codes: Vec<&str> = Currency::all_codes().collect();
        let table: Vec<&str> = CURRENCIES.iter().map(|entry| entry.code).collect();
        assert_eq!(codes, table);
        for entry in CURRENCIES {
            let currency = Currency::parse(entry.code).ok();
            assert_eq!(currency.as_ref().map(Currency::name), Some(entry.name));
            assert!(!entry.name.is_empty(), "{}", entry.code);
        }
        assert_eq!(
            Currency::parse("USD").ok().map(|c| c.name()),
            Some("US Dollar")
        );
    }

    #[test]
    fn refuses_unknown_and_withdrawn_codes() {
        for code in ["ABC", "usd", "US", "USDD", "HRK", "DEM", "", "BGN"] {
            assert_eq!(
                Currency::parse(code).err().map(|r| r.code),
                Some(ReasonCode::CurrencyUnknown),
                "{code}"
            );
        }
    }
}
