//! MIC, ISO 10383 (ISM-1 §4.5), and the markets Isthmus ships configurations for.

use super::is_upper_alnum;
use crate::json::ism_string;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// A Market Identifier Code: four upper-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mic {
    text: String,
}

/// A market listed in the ISM/1 market table (ISM-1 §4.5, Table 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    /// Its operating or segment MIC.
    pub mic: &'static str,
    /// The market's name as ISO 10383 gives it.
    pub name: &'static str,
    /// ISO 3166-1 country of the market.
    pub country: &'static str,
    /// The ISO 4217 currency its trades usually settle in.
    pub currency: &'static str,
}

/// The markets Isthmus ships configurations and demo data for, sorted by MIC.
/// Chosen to cover currencies with 0 (JPY), 2 (USD, EUR, …) and 3 (BHD, KWD) minor units.
#[rustfmt::skip]
pub static MARKETS: &[Market] = &[
    Market { mic: "XASX", name: "ASX - All Markets", country: "AU", currency: "AUD" },
    Market { mic: "XBAH", name: "Bahrain Bourse", country: "BH", currency: "BHD" },
    Market { mic: "XETR", name: "Xetra", country: "DE", currency: "EUR" },
    Market { mic: "XHKG", name: "Hong Kong Exchanges and Clearing Ltd", country: "HK", currency: "HKD" },
    Market { mic: "XJSE", name: "Johannesburg Stock Exchange", country: "ZA", currency: "ZAR" },
    Market { mic: "XKUW", name: "Boursa Kuwait", country: "KW", currency: "KWD" },
    Market { mic: "XLON", name: "London Stock Exchange", country: "GB", currency: "GBP" },
    Market { mic: "XNAS", name: "Nasdaq - All Markets", country: "US", currency: "USD" },
    Market { mic: "XNYS", name: "New York Stock Exchange, Inc.", country: "US", currency: "USD" },
    Market { mic: "XPAR", name: "Euronext - Euronext Paris", country: "FR", currency: "EUR" },
    Market { mic: "XSWX", name: "SIX Swiss Exchange", country: "CH", currency: "CHF" },
    Market { mic: "XTKS", name: "Tokyo Stock Exchange", country: "JP", currency: "JPY" },
    Market { mic: "XTSE", name: "Toronto Stock Exchange", country: "CA", currency: "CAD" },
];

impl Mic {
    /// Parses the ISO 10383 form: exactly four upper-case letters or digits.
    /// Any well-formed MIC is accepted in messages (ISM-1 §4.5).
    pub fn parse(text: &str) -> Result<Mic, Rejection> {
        let bytes = text.as_bytes();
        if bytes.len() != 4 || !bytes.iter().all(is_upper_alnum) {
            return Err(Rejection::new(
                ReasonCode::MicFormat,
                format!(
                    "{text} is not a MIC: expected exactly 4 upper-case letters or digits",
                    text = quoted(text)
                ),
            ));
        }
        Ok(Mic {
            text: text.to_string(),
        })
    }

    /// Parses a MIC that must also be in [`MARKETS`], as configurations require.
    pub fn parse_known(text: &str) -> Result<Mic, Rejection> {
        let mic = Mic::parse(text)?;
        if mic.market().is_none() {
            let known: Vec<&str> = MARKETS.iter().map(|m| m.mic).collect();
            return Err(Rejection::new(
                ReasonCode::MicUnknown,
                format!("{text} is a well-formed MIC but not a market Isthmus knows; known markets are {}", known.join(", "), text = quoted(text)),
            ));
        }
        Ok(mic)
    }

    /// The market table entry for this MIC, if it has one.
    pub fn market(&self) -> Option<&'static Market> {
        MARKETS
            .binary_search_by(|m| m.mic.cmp(self.text.as_str()))
            .ok()
            .and_then(|index| MARKETS.get(index))
    }
}

ism_string!(Mic);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::{Currency, Mic};

    #[test]
    fn market_table_is_sorted_and_consistent() {
        for pair in MARKETS.windows(2) {
            assert!(
                pair[0].mic < pair[1].mic,
                "{} before {}",
                pair[0].mic,
                pair[1].mic
            );
        }
        for market in MARKETS {
            assert!(Mic::parse_known(market.mic).is_ok());
            assert!(
                Currency::parse(market.currency).is_ok(),
                "{}",
                market.currency
            );
            assert!(crate::ident::Bic::parse(&format!("ABCD{}XX", market.country)).is_ok());
        }
    }

    #[test]
    fn format_and_membership() {
        assert_eq!(
            Mic::parse("XNY").err().map(|r| r.code),
            Some(ReasonCode::MicFormat)
        );
        assert_eq!(
            Mic::parse("xnys").err().map(|r| r.code),
            Some(ReasonCode::MicFormat)
        );
        assert!(Mic::parse("XQQQ").is_ok());
        assert_eq!(
            Mic::parse_known("XQQQ").err().map(|r| r.code),
            Some(ReasonCode::MicUnknown)
        );
        assert_eq!(
            Mic::parse("XTKS")
                .ok()
                .and_then(|m| m.market())
                .map(|m| m.currency),
            Some("JPY")
        );
    }
}
