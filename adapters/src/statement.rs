//! An account's holdings on a ledger as an ISM/1 `HoldingsStatement`
//! (ISM-1 §6.9), which the dialects write as semt.002 or MT535.

use isthmus_ledger::state::Holding;
use isthmus_ledger::Asset;
use isthmus_spec::body::{AccountRef, Balance, HoldingsStatement};
use isthmus_spec::decimal::Quantity;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::Reference;
use isthmus_spec::time::Timestamp;

/// Why holdings make no statement of holdings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// The account holds cash, which a statement of securities holdings
    /// (semt.002, MT535) does not carry.
    #[error("account {account} holds cash ({currencies}); a statement of holdings (semt.002, MT535) carries securities only: read the holdings as JSON")]
    CashHeld {
        /// The account.
        account: String,
        /// The currencies held, comma separated.
        currencies: String,
    },
    /// A balance the ledger reports has no ISM/1 quantity (more than 18 digits).
    #[error("the balance of {isin} in {account} ({units} millionths) is larger than an ISM/1 quantity can write")]
    TooLarge {
        /// The account.
        account: String,
        /// The security.
        isin: String,
        /// The balance, in the ledger's units.
        units: u128,
    },
}

/// The statement of `account`'s securities at `as_of`: one balance per
/// security held (available plus locked), with its locked part, sorted by
/// ISIN; nothing for a security of which nothing is held. Cash held is
/// refused ([`StatementError::CashHeld`]) rather than left out, so a
/// statement never looks complete when it is not.
pub fn holdings_statement(
    statement_id: Reference,
    market: Mic,
    account: AccountRef,
    as_of: Timestamp,
    holdings: &[(Asset, Holding)],
) -> Result<HoldingsStatement, StatementError> {
    let currencies: Vec<String> = holdings
        .iter()
        .filter(|(asset, holding)| {
            matches!(asset, Asset::Cash(_)) && (holding.available > 0 || holding.locked > 0)
        })
        .map(|(asset, _)| asset.to_string())
        .collect();
    if !currencies.is_empty() {
        return Err(StatementError::CashHeld {
            account: account.to_string(),
            currencies: currencies.join(", "),
        });
    }
    let mut balances = Vec::new();
    for (asset, holding) in holdings {
        let Asset::Security(isin) = asset else {
            continue;
        };
        let total = u128::from(holding.available) + u128::from(holding.locked);
        if total == 0 {
            continue;
        }
        let too_large = || StatementError::TooLarge {
            account: account.to_string(),
            isin: isin.to_string(),
            units: total,
        };
        let quantity = |units: u64| Quantity::parse(&asset.format_units(units));
        let total_units = u64::try_from(total).map_err(|_| too_large())?;
        let total = quantity(total_units).map_err(|_| too_large())?;
        let locked = match holding.locked {
            0 => None,
            units => Some(quantity(units).map_err(|_| too_large())?),
        };
        balances.push(Balance {
            isin: isin.clone(),
            total,
            locked,
        });
    }
    balances.sort_by(|a, b| a.isin.as_str().cmp(b.isin.as_str()));
    Ok(HoldingsStatement {
        statement_id,
        market,
        account,
        as_of,
        balances,
    })
}
