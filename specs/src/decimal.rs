//! Quantities and amounts as decimal strings, never floats (ISM-1 §4.7).

use crate::ident::Currency;
use crate::json::{child_path, ism_object, ism_string, Rules};
use crate::limits::{MAX_DECIMAL_DIGITS, MAX_QUANTITY_DECIMALS};
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// The integer and fraction digits of a text matching the `decimal` grammar
/// of ISM-1 §4.7 (`^(0|[1-9][0-9]*)(\.[0-9]+)?$`, ASCII digits only); the
/// fraction is empty when there is no point.
fn split_decimal(text: &str) -> Option<(&str, &str)> {
    let (integer, fraction) = match text.split_once('.') {
        Some((integer, fraction)) if !fraction.is_empty() => (integer, fraction),
        Some(_) => return None,
        None => (text, ""),
    };
    let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let well_formed = !integer.is_empty()
        && digits_only(integer)
        && digits_only(fraction)
        && !(integer.len() > 1 && integer.starts_with('0'));
    well_formed.then_some((integer, fraction))
}

/// A positive decimal number written as `digits[.digits]`, held exactly as an
/// integer mantissa and a scale: the value is `mantissa / 10^scale`.
///
/// At most [`MAX_DECIMAL_DIGITS`] digits, so the mantissa always fits a u64.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    text: String,
    mantissa: u64,
    scale: u8,
}

const _: () = assert!(MAX_DECIMAL_DIGITS <= 19, "10^19 - 1 still fits a u64");

impl Decimal {
    /// Parses a positive plain decimal: `0` or a digit string without leading
    /// zeros, optionally `.` and at least one digit; no sign, exponent, spaces
    /// or thousands separators; at most 18 digits; greater than zero (ISM-1 §4.7).
    pub fn parse(text: &str) -> Result<Decimal, Rejection> {
        // ISM-1 §4.7 step 1: a minus sign before a well-formed decimal is a
        // negative value; anything else after it (`-.`, `-1.2.3`, `-01`,
        // non-ASCII digits) is malformed, step 2.
        if text.strip_prefix('-').and_then(split_decimal).is_some() {
            return Err(Rejection::new(
                ReasonCode::DecimalNotPositive,
                format!("{text} is negative; quantities and amounts must be greater than zero (the direction says who delivers)", text = quoted(text)),
            ));
        }
        let format_error = || {
            Rejection::new(
                ReasonCode::DecimalFormat,
                format!("{text} is not a plain decimal string: use digits with an optional '.' and fraction, e.g. 1250 or 99.50 (no sign, exponent, spaces, separators or leading zeros)", text = quoted(text)),
            )
        };
        let (integer, fraction) = split_decimal(text).ok_or_else(format_error)?;
        let significant_integer = if integer == "0" { "" } else { integer };
        let digit_count = significant_integer.len() + fraction.len();
        if digit_count > MAX_DECIMAL_DIGITS {
            return Err(Rejection::new(
                ReasonCode::DecimalTooManyDigits,
                format!(
                    "{text} has {digit_count} digits; at most {MAX_DECIMAL_DIGITS} are allowed",
                    text = quoted(text)
                ),
            ));
        }
        let mut mantissa: u64 = 0;
        for byte in significant_integer.bytes().chain(fraction.bytes()) {
            // At most 18 digits were counted above, so this cannot overflow.
            mantissa = mantissa * 10 + u64::from(byte - b'0');
        }
        if mantissa == 0 {
            return Err(Rejection::new(
                ReasonCode::DecimalNotPositive,
                format!(
                    "{text} is zero; quantities and amounts must be greater than zero",
                    text = quoted(text)
                ),
            ));
        }
        // fraction.len() <= 18 by the digit count above.
        let scale = u8::try_from(fraction.len()).map_err(|_| format_error())?;
        Ok(Decimal {
            text: text.to_string(),
            mantissa,
            scale,
        })
    }

    /// Digits written after the point.
    pub fn scale(&self) -> u8 {
        self.scale
    }

    /// The digits as an integer, ignoring the point.
    pub fn mantissa(&self) -> u64 {
        self.mantissa
    }

    /// The value in units of `10^-scale`, e.g. cents for `scale = 2`;
    /// `None` if the value has more decimals than `scale` or does not fit.
    pub fn to_minor_units(&self, scale: u8) -> Option<u64> {
        let extra = scale.checked_sub(self.scale)?;
        10u64
            .checked_pow(u32::from(extra))?
            .checked_mul(self.mantissa)
    }

    /// Writes `minor / 10^scale` as a plain decimal string, e.g. (12345, 2) → "123.45".
    /// Returns `None` for zero, which no ISM/1 quantity or amount may be.
    pub fn from_minor_units(minor: u64, scale: u8) -> Option<Decimal> {
        let digits = minor.to_string();
        let scale_len = usize::from(scale);
        let text = if scale == 0 {
            digits
        } else if digits.len() > scale_len {
            let (integer, fraction) = digits.split_at(digits.len() - scale_len);
            format!("{integer}.{fraction}")
        } else {
            format!("0.{digits:0>scale_len$}")
        };
        Decimal::parse(&text).ok()
    }

    /// Whether two decimals denote the same number (`"1.50"` equals `"1.5"`).
    pub fn same_value(&self, other: &Decimal) -> bool {
        self.cmp_value(other) == std::cmp::Ordering::Equal
    }

    /// Compares the numbers two decimals denote, exactly: both are scaled to
    /// the larger scale in u128, where 18 digits times 10^18 always fit.
    pub fn cmp_value(&self, other: &Decimal) -> std::cmp::Ordering {
        let common = self.scale.max(other.scale);
        let scaled = |d: &Decimal| u128::from(d.mantissa) * 10u128.pow(u32::from(common - d.scale));
        scaled(self).cmp(&scaled(other))
    }

    fn check_scale(&self, max_scale: u8, rule: &str) -> Result<(), Rejection> {
        if self.scale > max_scale {
            return Err(Rejection::new(
                ReasonCode::DecimalTooManyDecimals,
                format!(
                    "\"{}\" has {} digits after the point; {rule} allows at most {max_scale}",
                    self.text, self.scale
                ),
            ));
        }
        Ok(())
    }
}

ism_string!(Decimal);

/// A number of securities: a positive [`Decimal`] with at most
/// [`MAX_QUANTITY_DECIMALS`] digits after the point (ISM-1 §4.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity {
    text: String,
    value: Decimal,
}

impl Quantity {
    /// Parses a quantity of securities.
    pub fn parse(text: &str) -> Result<Quantity, Rejection> {
        let value = Decimal::parse(text)?;
        value.check_scale(MAX_QUANTITY_DECIMALS, "a securities quantity")?;
        Ok(Quantity {
            text: text.to_string(),
            value,
        })
    }

    /// The quantity as a decimal.
    pub fn value(&self) -> &Decimal {
        &self.value
    }
}

ism_string!(Quantity);

ism_object! {
    /// An amount of money in a settleable currency; the amount has no more
    /// digits after the point than the currency's ISO 4217 minor units (ISM-1 §4.7).
    pub struct Money {
        /// The amount, e.g. `"1250.50"`.
        pub amount: Decimal,
        /// The ISO 4217 currency.
        pub currency: Currency,
    }
}

impl Rules for Money {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        let Some(units) = self.currency.minor_units() else {
            return Err(Rejection::at(
                ReasonCode::CurrencyNotSettleable,
                child_path(path, "currency"),
                format!(
                    "{} has no minor units in ISO 4217 and cannot be a settlement currency",
                    self.currency
                ),
            ));
        };
        let rule = format!("{} ({})", self.currency, self.currency.name());
        self.amount
            .check_scale(units, &rule)
            .map_err(|rejection| rejection.in_field(&child_path(path, "amount")))
    }
}

impl Money {
    /// Builds money from text, applying the same rules as decoding.
    pub fn parse(amount: &str, currency: &str) -> Result<Money, Rejection> {
        let money = Money {
            amount: Decimal::parse(amount).map_err(|r| r.in_field("amount"))?,
            currency: Currency::parse(currency).map_err(|r| r.in_field("currency"))?,
        };
        money.check("")?;
        Ok(money)
    }

    /// The amount in the currency's minor units (cents for USD, yen for JPY, fils for BHD).
    pub fn minor_units(&self) -> Option<u64> {
        self.amount.to_minor_units(self.currency.minor_units()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> Option<ReasonCode> {
        Decimal::parse(text).err().map(|r| r.code)
    }

    #[test]
    fn accepts_plain_decimals() {
        for text in [
            "1",
            "1250",
            "99.50",
            "0.05",
            "0.000001",
            "123456789012345678",
            "0.12345678901234567",
        ] {
            assert!(Decimal::parse(text).is_ok(), "{text}");
        }
        let d = Decimal::parse("99.50").ok();
        assert_eq!(
            d.as_ref().map(|d| (d.mantissa(), d.scale())),
            Some((9950, 2))
        );
        assert_eq!(d.and_then(|d| d.to_minor_units(3)), Some(99500));
    }

    #[test]
    fn refuses_everything_else_with_its_reason() {
        use ReasonCode::*;
        for bad in [
            "", ".5", "5.", "+5", "1e3", "1E3", " 1", "1 ", "1,000", "01", "00.5", "0x10", "1.2.3",
            "NaN", "∞", "١",
        ] {
            assert_eq!(code(bad), Some(DecimalFormat), "{bad:?}");
        }
        for bad in ["0", "0.00", "-1", "-0.5", "-0", "-1234567890123456789"] {
            assert_eq!(code(bad), Some(DecimalNotPositive), "{bad:?}");
        }
        // ISM-1 §4.7 step 1: only "-" followed by a well-formed decimal is
        // "not positive"; any other text after the sign is malformed.
        for bad in [
            "-", "-.", "-1.2.3", "-.5", "-5.", "-01", "--1", "-1e3", "-١٠٠", "-1 ",
        ] {
            assert_eq!(code(bad), Some(DecimalFormat), "{bad:?}");
        }
        assert_eq!(code("1234567890123456789"), Some(DecimalTooManyDigits));
        assert_eq!(code("1.234567890123456789"), Some(DecimalTooManyDigits));
    }

    #[test]
    fn quantity_and_money_scales() {
        assert!(Quantity::parse("100.123456").is_ok());
        assert_eq!(
            Quantity::parse("100.1234567").err().map(|r| r.code),
            Some(ReasonCode::DecimalTooManyDecimals)
        );
        assert!(Money::parse("10.5", "USD").is_ok());
        assert_eq!(
            Money::parse("10.555", "USD")
                .err()
                .map(|r| (r.code, r.field)),
            Some((ReasonCode::DecimalTooManyDecimals, Some("amount".into())))
        );
        assert_eq!(
            Money::parse("10.5", "JPY").err().map(|r| r.code),
            Some(ReasonCode::DecimalTooManyDecimals)
        );
        assert_eq!(
            Money::parse("10.555", "BHD")
                .ok()
                .and_then(|m| m.minor_units()),
            Some(10555)
        );
        assert_eq!(
            Money::parse("1", "XAU").err().map(|r| r.code),
            Some(ReasonCode::CurrencyNotSettleable)
        );
    }

    #[test]
    fn minor_units_round_trip_and_values_compare() {
        let text = |m, s| Decimal::from_minor_units(m, s).map(|d| d.to_string());
        assert_eq!(text(12345, 2).as_deref(), Some("123.45"));
        assert_eq!(text(5, 3).as_deref(), Some("0.005"));
        assert_eq!(text(7, 0).as_deref(), Some("7"));
        assert_eq!(text(0, 2), None);
        let a = Decimal::parse("1.50").ok();
        let b = Decimal::parse("1.5").ok();
        assert!(matches!((&a, &b), (Some(a), Some(b)) if a.same_value(b) && a != b));
        let big = Decimal::parse("123456789012345678").ok();
        let tiny = Decimal::parse("0.000000000000000001").ok();
        assert!(
            matches!((&big, &tiny), (Some(big), Some(tiny)) if big.cmp_value(tiny).is_gt() && tiny.cmp_value(big).is_lt())
        );
    }
}
