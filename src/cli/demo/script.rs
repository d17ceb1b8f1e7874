//! The demo's trades, and the checks of how they ended.

use std::collections::BTreeMap;

use anyhow::anyhow;
use isthmus_sim::workload::InstructionPair;
use isthmus_spec::body::{Body, Party, SettlementInstruction};
use isthmus_spec::decimal::Money;
use isthmus_spec::ident::{Bic, Isin, Mic};
use isthmus_spec::ids::Reference;
use isthmus_spec::time::{Date, Timestamp};

use super::world::{self, Market, Network, Person};
use super::Holdings;

/// How a trade should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Both sides confirmed, both legs claimed.
    Settles,
    /// Nobody confirmed, nothing moved.
    Fails,
}

/// One trade of the demo.
pub struct DemoTrade {
    /// `T1`, `T2`, …
    pub label: String,
    /// What it shows.
    pub what: String,
    /// Who sells, and who buys.
    pub seller: Person,
    /// Who buys.
    pub buyer: Person,
    /// Where the securities move.
    pub securities: Market,
    /// Where the cash moves.
    pub cash: Market,
    /// Whole shares delivered.
    pub shares: u64,
    /// The cash paid, `None` free of payment.
    pub amount: Option<Money>,
    /// How it should end.
    pub expect: Expect,
    /// The seller's instruction.
    pub deliver: SettlementInstruction,
    /// The buyer's, if the buyer instructs.
    pub receive: Option<SettlementInstruction>,
}

impl DemoTrade {
    /// `(who, through which market's gateway, instruction)` of each instruction sent.
    pub fn instructions(&self) -> Vec<(Person, Market, &SettlementInstruction)> {
        let mut all = vec![(self.seller.clone(), self.securities.clone(), &self.deliver)];
        if let Some(receive) = &self.receive {
            all.push((self.buyer.clone(), self.cash.clone(), receive));
        }
        all
    }
}

/// The parts of a trade to build.
pub struct Terms {
    /// Its label.
    pub label: String,
    /// Seller, buyer.
    pub seller: Person,
    /// The buyer.
    pub buyer: Person,
    /// Whole shares the seller delivers.
    pub shares: u64,
    /// Whole shares the buyer expects.
    pub buyer_shares: u64,
    /// The cash paid, in the cash market's currency; `None` free of payment.
    pub amount: Option<&'static str>,
    /// Whether the buyer instructs.
    pub buyer_instructs: bool,
}

fn parsed<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> anyhow::Result<T> {
    result.map_err(|e| anyhow!("the demo's {what}: {e}"))
}

fn split(account: &str) -> (String, String) {
    match account.split_once('/') {
        Some((owner, id)) => (owner.to_string(), id.to_string()),
        None => (account.to_string(), String::new()),
    }
}

/// A trade of `terms`: the securities on the seller's market, the cash on
/// the buyer's; today's trade and settlement date.
pub fn build(terms: Terms, what: &str, expect: Expect) -> anyhow::Result<DemoTrade> {
    let securities = terms.seller.home.clone();
    let cash = terms.buyer.home.clone();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let today: Date = Timestamp::from_unix_millis(now_ms)
        .ok_or_else(|| anyhow!("the clock reads no date ISM/1 can write"))?
        .date();
    let amount = terms
        .amount
        .map(|a| parsed("amount", Money::parse(a, cash.currency)))
        .transpose()?;
    let seller_safe = split(&terms.seller.safe());
    let seller_cash = split(&terms.seller.cash(cash.currency));
    let buyer_safe = split(&terms.buyer.safe());
    let buyer_cash = split(&terms.buyer.cash(cash.currency));
    let bic = |text: &str| parsed("BIC", Bic::parse(text));
    let (deliver, receive) = InstructionPair {
        deliver_id: format!("{}-D", terms.label),
        receive_id: format!("{}-R", terms.label),
        common_reference: format!("DEMO-{}", terms.label),
        isin: parsed("ISIN", Isin::parse(securities.isin))?,
        shares: terms.shares,
        buyer_shares: terms.buyer_shares,
        amount: amount.clone(),
        seller: (seller_safe.0, seller_safe.1, seller_cash.1),
        buyer: (buyer_safe.0, buyer_safe.1, buyer_cash.1),
        securities_market: parsed("MIC", Mic::parse(securities.mic))?,
        cash_market: parsed("MIC", Mic::parse(cash.mic))?,
        place_of_settlement: bic(securities.place)?,
        delivering_agent: Party::by_bic(bic(terms.seller.bic)?),
        receiving_agent: Party::by_bic(bic(terms.buyer.bic)?),
        trade_date: today.clone(),
        settlement_date: today,
    }
    .build();
    Ok(DemoTrade {
        label: terms.label,
        what: what.to_string(),
        seller: terms.seller,
        buyer: terms.buyer,
        securities,
        cash,
        shares: terms.shares,
        amount,
        expect,
        deliver,
        receive: terms.buyer_instructs.then_some(receive),
    })
}

/// The story: three trades against payment in both directions, one free of
/// payment, and one of each way to fail.
pub fn trades() -> anyhow::Result<Vec<DemoTrade>> {
    let [alice, bob, carol, dave] = world::people();
    let terms = |label: &str, seller: &Person, buyer: &Person, shares: u64, amount| Terms {
        label: label.to_string(),
        seller: seller.clone(),
        buyer: buyer.clone(),
        shares,
        buyer_shares: shares,
        amount,
        buyer_instructs: true,
    };
    Ok(vec![
        build(
            terms("T1", &alice, &bob, 100, Some("3512.00")),
            "alice sells bob 100 SAP shares on XETR against AUD 3,512.00 on XASX",
            Expect::Settles,
        )?,
        build(
            terms("T2", &alice, &bob, 250, Some("8780.50")),
            "alice sells bob 250 SAP shares against AUD 8,780.50",
            Expect::Settles,
        )?,
        build(
            terms("T3", &carol, &dave, 40, Some("1860.40")),
            "carol sells dave 40 BHP shares on XASX against EUR 1,860.40 on XETR",
            Expect::Settles,
        )?,
        build(
            terms("T4", &alice, &bob, 10, None),
            "alice delivers bob 10 SAP shares free of payment",
            Expect::Settles,
        )?,
        build(
            terms("T5", &carol, &dave, 50_000, Some("100.00")),
            "carol sells 50,000 BHP shares she holds only 10,000 of: her lock is refused and the settlement aborts (dave's cash, if locked before the abort reached it, comes back at its expiry)",
            Expect::Fails,
        )?,
        build(
            Terms {
                buyer_shares: 31,
                ..terms("T6", &alice, &bob, 30, Some("1000.00"))
            },
            "alice delivers 30 SAP shares, bob expects 31: UNMATCHED, cancelled at the cut-off",
            Expect::Fails,
        )?,
        build(
            Terms {
                buyer_instructs: false,
                ..terms("T7", &alice, &bob, 20, Some("700.00"))
            },
            "alice delivers 20 SAP shares, bob never instructs: cancelled at the cut-off",
            Expect::Fails,
        )?,
        build(
            terms("T8", &carol, &dave, 5, Some("9000000.00")),
            "carol sells dave 5 BHP shares for EUR 9,000,000.00, more than dave has: his cash lock is refused and the settlement aborts (carol's shares, locked before the abort reached her gateway, come back at their expiry)",
            Expect::Fails,
        )?,
    ])
}

/// The settlements the notices name, each once, by number.
pub fn settlement_ids(finals: &BTreeMap<String, Vec<Body>>) -> Vec<Reference> {
    let mut settlements: Vec<Reference> = Vec::new();
    for body in finals.values().flatten() {
        let id = match body {
            Body::InstructionStatus(status) => status.settlement_id.clone(),
            Body::SettlementConfirmation(confirmation) => Some(confirmation.settlement_id.clone()),
            _ => None,
        };
        if let Some(id) = id {
            if !settlements.contains(&id) {
                settlements.push(id);
            }
        }
    }
    let number = |r: &Reference| {
        r.as_str()
            .trim_start_matches("S-")
            .parse::<u64>()
            .unwrap_or(u64::MAX)
    };
    settlements.sort_by_key(number);
    settlements
}

/// Units of a decimal in an asset's minor units.
pub fn minor_units(asset: &str, decimal: &str) -> anyhow::Result<u128> {
    let asset = isthmus_ledger::Asset::parse(asset).map_err(|e| anyhow!("{e}"))?;
    let value = parsed("decimal", isthmus_spec::decimal::Decimal::parse(decimal))?;
    value
        .to_minor_units(asset.scale())
        .map(u128::from)
        .ok_or_else(|| anyhow!("{decimal} has more decimals than {asset} counts"))
}

/// The holdings the trades that settle leave, from `before`.
pub fn expected_after(trades: &[&DemoTrade], before: &Holdings) -> anyhow::Result<Holdings> {
    let mut expected = before.clone();
    let mut shift = |market: &str, from: String, to: String, asset: &str, units: u128| {
        let key = |account: String| (market.to_string(), account, asset.to_string());
        let from_key = key(from);
        let held = expected.get(&from_key).copied().unwrap_or(0);
        if held < units {
            return Err(anyhow!("{} holds too little for the trade", from_key.1));
        }
        expected.insert(from_key, held - units);
        *expected.entry(key(to)).or_default() += units;
        Ok(())
    };
    for trade in trades.iter().filter(|t| t.expect == Expect::Settles) {
        let securities = trade.securities.isin;
        shift(
            trade.securities.mic,
            trade.seller.safe(),
            trade.buyer.safe(),
            securities,
            minor_units(securities, &trade.shares.to_string())?,
        )?;
        if let Some(amount) = &trade.amount {
            let currency = trade.cash.currency;
            shift(
                trade.cash.mic,
                trade.buyer.cash(currency),
                trade.seller.cash(currency),
                currency,
                minor_units(currency, amount.amount.as_str())?,
            )?;
        }
    }
    Ok(expected)
}

/// Every check of the end: each trade ended as expected on both sides;
/// each settlement's legs all claimed or none; every account where the
/// settled trades put it; every asset conserved; no lock open.
pub async fn check(
    network: &Network,
    trades: &[DemoTrade],
    finals: &BTreeMap<String, Vec<Body>>,
    before: &Holdings,
    after: &Holdings,
    locked: u128,
) -> anyhow::Result<Vec<String>> {
    let mut failures = Vec::new();
    for trade in trades {
        let notices: Vec<&Vec<Body>> = trade
            .instructions()
            .iter()
            .filter_map(|(_, _, i)| finals.get(i.instruction_id.as_str()))
            .collect();
        if !super::ended_as(trade.expect, &notices) {
            failures.push(format!(
                "{} did not end as expected ({:?})",
                trade.label, trade.expect
            ));
        }
    }
    // Atomicity: the legs of each settlement, as both gateways hold them.
    for id in &settlement_ids(finals) {
        let mut phases = Vec::new();
        for gateway in &network.gateways {
            if let Some(view) = gateway
                .handle()
                .settlement(id)
                .await
                .map_err(|e| anyhow!("{e}"))?
            {
                phases.extend(view.legs.into_iter().map(|(_, phase)| phase));
            }
        }
        let claimed = phases.iter().filter(|p| *p == "Claimed").count();
        if claimed != 0 && claimed != phases.len() {
            failures.push(format!(
                "settlement {id} is not atomic: its legs ended {phases:?}"
            ));
        }
    }
    let settled: Vec<&DemoTrade> = trades.iter().collect();
    let expected = expected_after(&settled, before)?;
    for (key, units) in after {
        let wanted = expected.get(key).copied().unwrap_or(0);
        if *units != wanted {
            failures.push(format!(
                "{} on {} holds {units} units of {}, the trades say {wanted}",
                key.1, key.0, key.2
            ));
        }
    }
    if super::totals(before) != super::totals(after) {
        failures.push(format!(
            "an asset was not conserved: before {:?}, after {:?}",
            super::totals(before),
            super::totals(after)
        ));
    }
    if locked != 0 {
        failures.push(format!("{locked} units are still locked at the end"));
    }
    Ok(failures)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn holdings_of(rows: &[(&str, &str, &str, u128)]) -> Holdings {
        rows.iter()
            .map(|(m, a, s, u)| ((m.to_string(), a.to_string(), s.to_string()), *u))
            .collect()
    }

    #[test]
    fn only_the_trades_that_settle_move_anything_and_each_moves_both_legs() {
        let all = trades().unwrap();
        let before = holdings_of(&[
            ("XETR", "ALICDEFF/SAFE-1", "DE0007164600", 10_000_000_000),
            ("XASX", "BOBBAU2S/CASH-AUD", "AUD", 500_000_000),
            ("XASX", "CAROAU2S/SAFE-1", "AU000000BHP4", 10_000_000_000),
            ("XETR", "DAVEDEFF/CASH-EUR", "EUR", 500_000_000),
        ]);
        let settled: Vec<&DemoTrade> = all.iter().collect();
        let after = expected_after(&settled, &before).unwrap();
        let get = |m: &str, a: &str, s: &str| {
            after
                .get(&(m.to_string(), a.to_string(), s.to_string()))
                .copied()
                .unwrap_or(0)
        };
        // T1 100 + T2 250 against AUD 3,512.00 + 8,780.50, T4 10 free: 360 SAP
        // shares to bob, 12,292.50 AUD to alice; T3 40 BHP against EUR 1,860.40.
        assert_eq!(get("XETR", "BOBBAU2S/SAFE-1", "DE0007164600"), 360_000_000);
        assert_eq!(get("XASX", "ALICDEFF/CASH-AUD", "AUD"), 1_229_250);
        assert_eq!(
            get("XASX", "BOBBAU2S/CASH-AUD", "AUD"),
            500_000_000 - 1_229_250
        );
        assert_eq!(get("XASX", "DAVEDEFF/SAFE-1", "AU000000BHP4"), 40_000_000);
        assert_eq!(get("XETR", "CAROAU2S/CASH-EUR", "EUR"), 186_040);
        assert_eq!(super::super::totals(&after), super::super::totals(&before));
    }

    #[test]
    fn a_payer_without_the_units_is_an_error_not_a_negative_balance() {
        let all = trades().unwrap();
        let settled: Vec<&DemoTrade> = all.iter().take(1).collect();
        assert!(expected_after(&settled, &Holdings::new()).is_err());
    }

    #[test]
    fn a_trade_ends_as_expected_only_if_every_side_agrees() {
        // Notices with no confirmation among them.
        let all = trades().unwrap();
        let none: Vec<Body> = vec![Body::SettlementInstruction(all[0].deliver.clone())];
        assert!(super::super::ended_as(Expect::Fails, &[&none, &none]));
        assert!(!super::super::ended_as(Expect::Settles, &[&none, &none]));
    }
}
