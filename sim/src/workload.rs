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
            let (seller_owner_id, seller_safe_account) = split(&seller_safe(seller));
            let (_, seller_cash_account) = split(&seller_cash(seller));
            let (buyer_owner_id, buyer_safe_account) = split(&buyer_safe(buyer));
            let (_, buyer_cash_account) = split(&buyer_cash(buyer));
            let buyer_shares = if kind == TradeKind::Unmatched {
                shares + 1
            } else {
                shares
            };
            let (deliver, receive) = InstructionPair {
                deliver_id: format!("D{run}-{index}"),
                receive_id: format!("R{run}-{index}"),
                common_reference: format!("T{run}-{index}"),
                isin: isin.clone(),
                shares,
                buyer_shares,
                amount: amount.clone(),
                seller: (seller_owner_id, seller_safe_account, seller_cash_account),
                buyer: (buyer_owner_id, buyer_safe_account, buyer_cash_account),
                securities_market: securities_market.clone(),
                cash_market: cash_market.clone(),
                place_of_settlement: place.clone(),
                delivering_agent: delivering_agent.clone(),
                receiving_agent: receiving_agent.clone(),
                trade_date: trade_date.clone(),
                settlement_date: settlement_date.clone(),
            }
            .build();
            let receive = (kind != TradeKind::OneSided).then_some(receive);
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

/// Both instructions of one trade, as the gateways would complete them:
/// the seller's delivery (securities market named) and the buyer's receipt
/// (cash market named), against payment when `amount` is given.
#[derive(Debug, Clone)]
pub struct InstructionPair {
    /// The seller's instruction id.
    pub deliver_id: String,
    /// The buyer's instruction id.
    pub receive_id: String,
    /// The trade's common reference.
    pub common_reference: String,
    /// The security.
    pub isin: Isin,
    /// Whole shares the seller delivers.
    pub shares: u64,
    /// Whole shares the buyer expects (another number: the pair does not match).
    pub buyer_shares: u64,
    /// The cash paid; `None` for free of payment.
    pub amount: Option<Money>,
    /// The seller's owner id, safekeeping account id and cash account id.
    pub seller: (String, String, String),
    /// The buyer's owner id, safekeeping account id and cash account id.
    pub buyer: (String, String, String),
    /// Where the securities move.
    pub securities_market: Mic,
    /// Where the cash moves.
    pub cash_market: Mic,
    /// The place of settlement.
    pub place_of_settlement: Bic,
    /// The seller's agent, named by the buyer.
    pub delivering_agent: Party,
    /// The buyer's agent, named by the seller.
    pub receiving_agent: Party,
    /// The trade date.
    pub trade_date: Date,
    /// The settlement date.
    pub settlement_date: Date,
}

impl InstructionPair {
    /// The seller's and the buyer's instructions. Panics only on an id,
    /// owner or account that is not an ISM/1 reference (the caller's fixed
    /// values).
    pub fn build(&self) -> (SettlementInstruction, SettlementInstruction) {
        let reference = |text: &str| parse("reference", Reference::parse(text));
        let payment = if self.amount.is_some() {
            Payment::AgainstPayment
        } else {
            Payment::FreeOfPayment
        };
        let common = reference(&self.common_reference);
        let cash = |market: Option<Mic>, account: &str| {
            self.amount.as_ref().map(|_| CashSide {
                market,
                account: Some(reference(account)),
                owner: None,
                servicer: None,
            })
        };
        let deliver = SettlementInstruction {
            instruction_id: reference(&self.deliver_id),
            common_reference: Some(common.clone()),
            direction: Direction::Deliver,
            payment,
            trade_date: self.trade_date.clone(),
            settlement_date: self.settlement_date.clone(),
            isin: self.isin.clone(),
            quantity: parse("quantity", Quantity::parse(&self.shares.to_string())),
            settlement_amount: self.amount.clone(),
            account_owner: Some(parse("party", PartyId::parse(&self.seller.0))),
            safekeeping_account: reference(&self.seller.1),
            securities_market: Some(self.securities_market.clone()),
            cash: cash(None, &self.seller.2),
            delivering_agent: None,
            receiving_agent: Some(self.receiving_agent.clone()),
            seller: None,
            buyer: None,
            place_of_settlement: self.place_of_settlement.clone(),
            place_of_trade: None,
        };
        let receive = SettlementInstruction {
            instruction_id: reference(&self.receive_id),
            common_reference: Some(common),
            direction: Direction::Receive,
            payment,
            trade_date: self.trade_date.clone(),
            settlement_date: self.settlement_date.clone(),
            isin: self.isin.clone(),
            quantity: parse("quantity", Quantity::parse(&self.buyer_shares.to_string())),
            settlement_amount: self.amount.clone(),
            account_owner: Some(parse("party", PartyId::parse(&self.buyer.0))),
            safekeeping_account: reference(&self.buyer.1),
            securities_market: None,
            cash: cash(Some(self.cash_market.clone()), &self.buyer.2),
            delivering_agent: Some(self.delivering_agent.clone()),
            receiving_agent: None,
            seller: None,
            buyer: None,
            place_of_settlement: self.place_of_settlement.clone(),
            place_of_trade: None,
        };
        (deliver, receive)
    }
}

fn split(account: &str) -> (String, String) {
    match account.split_once('/') {
        Some((owner, id)) => (owner.to_string(), id.to_string()),
        None => unreachable!("{account} is written OWNER/ACCOUNT"),
    }
}
