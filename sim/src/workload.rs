//! The trades a run settles: who sells and buys, how much, and which kind of
//! trouble each trade is meant to meet. The instructions are built here as
//! the gateways would complete them (ISM-1 §6.1 duty 8).

use isthmus_spec::body::{CashSide, Direction, Party, Payment, SettlementInstruction};
use isthmus_spec::decimal::{Money, Quantity};
use isthmus_spec::ident::{Bic, Isin, Mic, PartyId};
use isthmus_spec::ids::Reference;
use isthmus_spec::time::Date;

use crate::rng::SimRng;

/// The securities market of every run, and its security.
pub const SECURITIES_MARKET: &str = "XNYS";
/// The cash market of every run.
pub const CASH_MARKET: &str = "XASX";
/// The security traded.
pub const ISIN: &str = "US0378331005";
/// The currency paid.
pub const CURRENCY: &str = "AUD";
/// Sellers and buyers per run.
pub const PARTICIPANTS: usize = 4;
/// Whole shares each seller starts with.
pub const SHARES_EACH: u64 = 1_000_000;
/// Whole AUD each buyer starts with.
pub const AUD_EACH: u64 = 1_000_000_000;

/// What a trade is meant to meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TradeKind {
    /// Delivery versus payment that should settle.
    AgainstPayment,
    /// Free of payment: one leg.
    FreeOfPayment,
    /// The buyer's quantity differs: UNMATCHED, then cancelled at the cut-off.
    Unmatched,
    /// The seller holds nothing: the lock is refused and the settlement aborts.
    Insufficient,
    /// Only the seller instructs: cancelled at the cut-off.
    OneSided,
}

/// One trade of a run.
#[derive(Debug, Clone)]
pub struct Trade {
    /// Its number in the run.
    pub index: usize,
    /// What it is meant to meet.
    pub kind: TradeKind,
    /// The seller (index into the participants), or `None` for the seller who holds nothing.
    pub seller: Option<usize>,
    /// The buyer.
    pub buyer: usize,
    /// Whole shares.
    pub shares: u64,
    /// Cents paid.
    pub cents: u64,
    /// The seller's instruction.
    pub deliver: SettlementInstruction,
    /// The buyer's instruction, `None` for a one-sided trade.
    pub receive: Option<SettlementInstruction>,
    /// Which relay settles it.
    pub relay: usize,
}

fn parse<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => unreachable!("the simulator's fixed {what} is invalid: {error}"),
    }
}

/// A seller's owner BIC.
pub fn seller_owner(seller: Option<usize>) -> String {
    match seller {
        Some(k) => format!("SEL{}US33", (b'A' + k as u8) as char),
        None => "SELZUS33".to_string(),
    }
}

/// A buyer's owner BIC.
pub fn buyer_owner(buyer: usize) -> String {
    format!("BUY{}AU2S", (b'A' + buyer as u8) as char)
}

/// `OWNER/ACCOUNT` of a seller's safekeeping account (securities market).
pub fn seller_safe(seller: Option<usize>) -> String {
    format!(
        "{}/SAFE-S{}",
        seller_owner(seller),
        seller.map_or(99, |k| k)
    )
}

/// A seller's cash account (cash market).
pub fn seller_cash(seller: Option<usize>) -> String {
    format!(
        "{}/CASH-S{}",
        seller_owner(seller),
        seller.map_or(99, |k| k)
    )
}

/// A buyer's safekeeping account (securities market).
pub fn buyer_safe(buyer: usize) -> String {
    format!("{}/SAFE-B{buyer}", buyer_owner(buyer))
}

/// A buyer's cash account (cash market).
pub fn buyer_cash(buyer: usize) -> String {
    format!("{}/CASH-B{buyer}", buyer_owner(buyer))
}

fn cents_text(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The `n` trades of run `run`, kinds mixed as the simulator's report counts them.
pub fn trades(run: u64, n: usize, relays: usize, rng: &mut SimRng) -> Vec<Trade> {
    let isin = parse("ISIN", Isin::parse(ISIN));
    let place = parse("BIC", Bic::parse("DTCYUS33"));
    let delivering_agent = Party::by_bic(parse("BIC", Bic::parse("DEAGUS33")));
    let receiving_agent = Party::by_bic(parse("BIC", Bic::parse("REAGAU2S")));
    let trade_date = parse("date", Date::parse("2026-12-01"));
    let settlement_date = parse("date", Date::parse("2026-12-03"));
    let securities_market = parse("MIC", Mic::parse(SECURITIES_MARKET));
    let cash_market = parse("MIC", Mic::parse(CASH_MARKET));
    (0..n)
        .map(|index| {
            let kind = match rng.below(100) {
                0..=79 => TradeKind::AgainstPayment,
                80..=86 => TradeKind::FreeOfPayment,
                87..=91 => TradeKind::Unmatched,
                92..=95 => TradeKind::Insufficient,
                _ => TradeKind::OneSided,
            };
            let seller =
                (kind != TradeKind::Insufficient).then(|| rng.below(PARTICIPANTS as u64) as usize);
            let buyer = rng.below(PARTICIPANTS as u64) as usize;
            let shares = rng.between(1, 100);
            let cents = shares * rng.between(100, 50_000);
            let payment = if kind == TradeKind::FreeOfPayment {
                Payment::FreeOfPayment
            } else {
                Payment::AgainstPayment
            };
            let amount = (payment == Payment::AgainstPayment)
                .then(|| parse("amount", Money::parse(&cents_text(cents), CURRENCY)));
            let common = parse("reference", Reference::parse(&format!("T{run}-{index}")));
            let (seller_owner_id, seller_safe_account) = split(&seller_safe(seller));
            let (_, seller_cash_account) = split(&seller_cash(seller));
            let (buyer_owner_id, buyer_safe_account) = split(&buyer_safe(buyer));
            let (_, buyer_cash_account) = split(&buyer_cash(buyer));
            let deliver = SettlementInstruction {
                instruction_id: parse("reference", Reference::parse(&format!("D{run}-{index}"))),
                common_reference: Some(common.clone()),
                direction: Direction::Deliver,
                payment,
                trade_date: trade_date.clone(),
                settlement_date: settlement_date.clone(),
                isin: isin.clone(),
                quantity: parse("quantity", Quantity::parse(&shares.to_string())),
                settlement_amount: amount.clone(),
                account_owner: Some(parse("party", PartyId::parse(&seller_owner_id))),
                safekeeping_account: parse("reference", Reference::parse(&seller_safe_account)),
                securities_market: Some(securities_market.clone()),
                cash: (payment == Payment::AgainstPayment).then(|| CashSide {
                    market: None,
                    account: Some(parse("reference", Reference::parse(&seller_cash_account))),
                    owner: None,
                    servicer: None,
                }),
                delivering_agent: None,
                receiving_agent: Some(receiving_agent.clone()),
                seller: None,
                buyer: None,
                place_of_settlement: place.clone(),
                place_of_trade: None,
            };
            let buyer_shares = if kind == TradeKind::Unmatched {
                shares + 1
            } else {
                shares
            };
            let receive = (kind != TradeKind::OneSided).then(|| SettlementInstruction {
                instruction_id: parse("reference", Reference::parse(&format!("R{run}-{index}"))),
                common_reference: Some(common.clone()),
                direction: Direction::Receive,
                payment,
                trade_date: trade_date.clone(),
                settlement_date: settlement_date.clone(),
                isin: isin.clone(),
                quantity: parse("quantity", Quantity::parse(&buyer_shares.to_string())),
                settlement_amount: amount.clone(),
                account_owner: Some(parse("party", PartyId::parse(&buyer_owner_id))),
                safekeeping_account: parse("reference", Reference::parse(&buyer_safe_account)),
                securities_market: None,
                cash: (payment == Payment::AgainstPayment).then(|| CashSide {
                    market: Some(cash_market.clone()),
                    account: Some(parse("reference", Reference::parse(&buyer_cash_account))),
                    owner: None,
                    servicer: None,
                }),
                delivering_agent: Some(delivering_agent.clone()),
                receiving_agent: None,
                seller: None,
                buyer: None,
                place_of_settlement: place.clone(),
                place_of_trade: None,
            });
            Trade {
                index,
                kind,
                seller,
                buyer,
                shares,
                cents,
                deliver,
                receive,
                relay: index % relays.max(1),
            }
        })
        .collect()
}

fn split(account: &str) -> (String, String) {
    match account.split_once('/') {
        Some((owner, id)) => (owner.to_string(), id.to_string()),
        None => unreachable!("{account} is written OWNER/ACCOUNT"),
    }
}
