//! What a ledger holds: securities by ISIN and cash by currency, and how
//! decimal text becomes integer units of each.

use std::fmt;

use isthmus_spec::decimal::Decimal;
use isthmus_spec::ident::{Currency, Isin};
use isthmus_spec::limits::MAX_QUANTITY_DECIMALS;
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, LedgerReason};

/// Securities are counted in millionths of a unit, the finest quantity ISM/1 allows.
pub const SECURITY_SCALE: u8 = MAX_QUANTITY_DECIMALS;

/// An asset: a security or a currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Asset {
    /// A security, counted in units of 10^-6.
    Security(Isin),
    /// Cash, counted in the currency's minor units.
    Cash(Currency),
}

impl Asset {
    /// Parses an ISIN (12 characters) or an ISO 4217 code (3 characters).
    pub fn parse(text: &str) -> Result<Asset, LedgerError> {
        let invalid = |message: String| LedgerError::new(LedgerReason::AssetInvalid, message);
        match text.len() {
            12 => Isin::parse(text)
                .map(Asset::Security)
                .map_err(|r| invalid(r.message)),
            3 => {
                let currency = Currency::parse(text).map_err(|r| invalid(r.message))?;
                if currency.minor_units().is_none() {
                    return Err(invalid(format!(
                        "{currency} has no minor units in ISO 4217 and cannot be held as cash"
                    )));
                }
                Ok(Asset::Cash(currency))
            }
            _ => Err(invalid(format!(
                "\"{text}\" is neither an ISIN nor an ISO 4217 currency code"
            ))),
        }
    }

    /// Digits after the point in this asset's unit.
    pub fn scale(&self) -> u8 {
        match self {
            Asset::Security(_) => SECURITY_SCALE,
            // Cash assets are only built from currencies with minor units.
            Asset::Cash(currency) => currency.minor_units().unwrap_or(0),
        }
    }

    /// Converts decimal text to integer units of this asset.
    pub fn units(&self, text: &str) -> Result<u64, LedgerError> {
        let decimal = Decimal::parse(text)
            .map_err(|r| LedgerError::new(LedgerReason::AmountInvalid, r.message))?;
        self.units_of(&decimal)
    }

    /// Converts an ISM/1 decimal (a quantity or an amount) to integer units
    /// of this asset, refusing digits finer than the asset's unit.
    pub fn units_of(&self, decimal: &Decimal) -> Result<u64, LedgerError> {
        if decimal.scale() > self.scale() {
            return Err(LedgerError::new(
                LedgerReason::AmountInvalid,
                format!(
                    "{decimal} has {} digits after the point; {self} allows {}",
                    decimal.scale(),
                    self.scale()
                ),
            ));
        }
        decimal.to_minor_units(self.scale()).ok_or_else(|| {
            LedgerError::new(
                LedgerReason::AmountOverflow,
                format!("{decimal} {self} does not fit the ledger's 64-bit unit counter"),
            )
        })
    }

    /// Writes integer units as decimal text: cash with all its minor-unit
    /// digits (`12.30`, `0.00`), securities without trailing zeros (`874.5`, `100`, `0`).
    pub fn format_units(&self, units: u64) -> String {
        // Written by hand rather than through ISM/1's Decimal, which stops at
        // 18 digits: a balance can use all 20 digits of a u64.
        let scale = usize::from(self.scale());
        let digits = format!("{units:0>width$}", width = scale + 1);
        let (integer, fraction) = digits.split_at(digits.len() - scale);
        let fraction = match self {
            Asset::Cash(_) => fraction,
            Asset::Security(_) => fraction.trim_end_matches('0'),
        };
        if fraction.is_empty() {
            integer.to_string()
        } else {
            format!("{integer}.{fraction}")
        }
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Asset::Security(isin) => f.write_str(isin.as_str()),
            Asset::Cash(currency) => f.write_str(currency.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_per_asset() {
        let usd = Asset::parse("USD").expect("usd");
        let jpy = Asset::parse("JPY").expect("jpy");
        let apple = Asset::parse("US0378331005").expect("isin");
        assert_eq!(usd.units("12.34").ok(), Some(1234));
        assert_eq!(jpy.units("1500").ok(), Some(1500));
        assert_eq!(apple.units("1.5").ok(), Some(1_500_000));
        assert_eq!(
            usd.units("1.234").err().map(|e| e.reason),
            Some(LedgerReason::AmountInvalid)
        );
        assert_eq!(
            jpy.units("1.5").err().map(|e| e.reason),
            Some(LedgerReason::AmountInvalid)
        );
        assert_eq!(
            apple.units("99999999999999.5").err().map(|e| e.reason),
            Some(LedgerReason::AmountOverflow)
        );
        assert_eq!(
            usd.units("-1").err().map(|e| e.reason),
            Some(LedgerReason::AmountInvalid)
        );
        assert_eq!(usd.format_units(1234), "12.34");
        assert_eq!(usd.format_units(0), "0.00");
        assert_eq!(apple.format_units(0), "0");
        assert_eq!(usd.format_units(1230), "12.30");
        assert_eq!(apple.format_units(874_500_000), "874.5");
        assert_eq!(apple.format_units(100_000_000), "100");
        assert_eq!(apple.format_units(1), "0.000001");
        assert_eq!(usd.format_units(u64::MAX), "184467440737095516.15");
        assert_eq!(
            Asset::parse("JPY").expect("jpy").format_units(u64::MAX),
            "18446744073709551615"
        );
        assert_eq!(
            Asset::parse("XAU").err().map(|e| e.reason),
            Some(LedgerReason::AssetInvalid)
        );
        assert_eq!(
            Asset::parse("US0378331006").err().map(|e| e.reason),
            Some(LedgerReason::AssetInvalid)
        );
    }
}
