//! The bodies the suite sends, as JSON: what an implementation in any
//! language receives. Each is a complete, valid ISM/1 body (the suite checks
//! every message it builds with the reference decoder before it signs it).

use serde_json::{json, Value};

use isthmus_spec::ident::Mic;
use isthmus_spec::membership::{Member, Role as MemberRole};
use isthmus_spec::time::Timestamp;

use crate::harness::Counterpart;

/// The security every fixture trades.
pub const ISIN: &str = "US0378331005";

fn timestamp(unix_ms: u64) -> String {
    Timestamp::from_unix_millis(unix_ms)
        .map_or_else(|| "2026-01-01T00:00:00Z".to_string(), |t| t.to_string())
}

/// A seller's delivery against payment (ISM-1 §6.1, after vector
/// `valid/01`), with `instruction_id` and, where given, the gateway's market
/// as `securities_market`.
pub fn instruction(instruction_id: &str, market: Option<&Mic>) -> Value {
    // Its own common reference: no settlement scenario's instruction is a
    // candidate counterpart of it (ISM-1 §12.4 rule 2).
    let mut body = json!({
        "instruction_id": instruction_id,
        "common_reference": instruction_id,
        "direction": "DELIVER",
        "payment": "AGAINST_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": ISIN,
        "quantity": "1000",
        "settlement_amount": {"amount": "231450.00", "currency": "USD"},
        "account_owner": "549300ISTHMUSSELL015",
        "safekeeping_account": "SAFE-SELLER-01",
        "receiving_agent": {"bic": "DEUTDEFF"},
        "place_of_settlement": "DTCYUS33",
    });
    if let Some(market) = market {
        body["securities_market"] = json!(market.as_str());
    }
    body
}

/// A SettlementProposal against payment (ISM-1 §6.3, after vector
/// `valid/07`) with `settlement_id`, its securities leg on the target's
/// market and its cash leg on another gateway's, expiring in one and two
/// hours from `now_ms`.
pub fn proposal(
    settlement_id: &str,
    target: &Member,
    counterparts: &[Counterpart],
    secret_hash: [u8; 32],
    now_ms: u64,
) -> Value {
    let market = |member: &Member| {
        member
            .market
            .as_ref()
            .map_or("XNYS", |m| m.as_str())
            .to_string()
    };
    let other = counterparts
        .iter()
        .find(|c| c.member.role == MemberRole::Gateway)
        .map_or_else(|| "XASX".to_string(), |c| market(&c.member));
    let hashlock: String = secret_hash.iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "settlement_id": settlement_id,
        "deliver_instruction_id": format!("{settlement_id}-D"),
        "receive_instruction_id": format!("{settlement_id}-R"),
        "isin": ISIN,
        "quantity": "1000",
        "settlement_amount": {"amount": "231450.00", "currency": "USD"},
        "settlement_date": "2026-11-27",
        "hashlock": hashlock,
        "securities_leg": {
            "market": market(target),
            "from": {"owner": "549300ISTHMUSSELL015", "account": "SAFE-SELLER-01"},
            "to": {"owner": "549300ISTHMUSBUYR064", "account": "SAFE-BUYER-01"},
            "expires_at": timestamp(now_ms + 2 * 3_600_000),
        },
        "cash_leg": {
            "market": other,
            "from": {"owner": "549300ISTHMUSBUYR064", "account": "CASH-BUYER-USD"},
            "to": {"owner": "549300ISTHMUSSELL015", "account": "CASH-SELLER-USD"},
            "expires_at": timestamp(now_ms + 3_600_000),
        },
    })
}

/// A trade's two instructions, as the gateways complete them (ISM-1 §6.1
/// duty 8): the seller's delivery from the securities market's gateway and
/// the buyer's receipt from the cash market's gateway.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The common reference; the instruction ids are it with `-D` and `-R`.
    pub reference: String,
    /// Where the securities move.
    pub securities_market: String,
    /// Where the cash moves.
    pub cash_market: String,
    /// Against payment (`true`) or free of payment.
    pub against_payment: bool,
    /// The units the seller delivers.
    pub quantity: u64,
    /// The units the buyer expects (another number: the pair does not match).
    pub buyer_quantity: u64,
}

/// The seller's owner.
pub const SELLER: &str = "SELAUS33";
/// The buyer's owner.
pub const BUYER: &str = "BUYAAU2S";
/// The seller's safekeeping account, on the securities market.
pub const SELLER_SAFE: &str = "SAFE-S0";
/// The buyer's safekeeping account, on the securities market.
pub const BUYER_SAFE: &str = "SAFE-B0";
/// The seller's cash account, on the cash market.
pub const SELLER_CASH: &str = "CASH-S0";
/// The buyer's cash account, on the cash market.
pub const BUYER_CASH: &str = "CASH-B0";
/// The amount paid against payment.
pub const AMOUNT: &str = "12345.00";
/// Its currency.
pub const CURRENCY: &str = "AUD";

impl Pair {
    /// The seller's instruction id.
    pub fn deliver_id(&self) -> String {
        format!("{}-D", self.reference)
    }

    /// The buyer's instruction id.
    pub fn receive_id(&self) -> String {
        format!("{}-R", self.reference)
    }

    fn common(&self, direction: &str, id: String, quantity: u64) -> Value {
        let mut body = json!({
            "instruction_id": id,
            "common_reference": self.reference,
            "direction": direction,
            "payment": if self.against_payment { "AGAINST_PAYMENT" } else { "FREE_OF_PAYMENT" },
            "trade_date": "2026-12-01",
            "settlement_date": "2026-12-03",
            "isin": ISIN,
            "quantity": quantity.to_string(),
            "place_of_settlement": "DTCYUS33",
        });
        if self.against_payment {
            body["settlement_amount"] = json!({"amount": AMOUNT, "currency": CURRENCY});
        }
        body
    }

    /// The seller's delivery.
    pub fn deliver(&self) -> Value {
        let mut body = self.common("DELIVER", self.deliver_id(), self.quantity);
        body["account_owner"] = json!(SELLER);
        body["safekeeping_account"] = json!(SELLER_SAFE);
        body["securities_market"] = json!(self.securities_market);
        body["receiving_agent"] = json!({"bic": "REAGAU2S"});
        if self.against_payment {
            body["cash"] = json!({"account": SELLER_CASH});
        }
        body
    }

    /// The buyer's receipt.
    pub fn receive(&self) -> Value {
        let mut body = self.common("RECEIVE", self.receive_id(), self.buyer_quantity);
        body["account_owner"] = json!(BUYER);
        body["safekeeping_account"] = json!(BUYER_SAFE);
        body["delivering_agent"] = json!({"bic": "DEAGUS33"});
        if self.against_payment {
            body["cash"] = json!({"market": self.cash_market, "account": BUYER_CASH});
        }
        body
    }
}

fn journal(market: &str, sequence: u64, seed: &str) -> Value {
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let hash: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    json!({"market": market, "sequence": sequence.to_string(), "entry_hash": hash})
}

/// The lock id the suite's ledgers give a settlement's leg.
pub fn lock_id(settlement_id: &str, leg: &str) -> String {
    let mut id = format!("L-{leg}-{settlement_id}");
    id.truncate(35);
    id
}

/// A LockReceipt for `request` (a LockRequest body), as a ledger that
/// locked exactly what was asked would have it (ISM-1 §6.5).
pub fn lock_receipt(request: &Value) -> Value {
    let settlement = request["settlement_id"].as_str().unwrap_or_default();
    let leg = request["leg"].as_str().unwrap_or_default();
    let market = request["market"].as_str().unwrap_or_default();
    json!({
        "settlement_id": settlement,
        "leg": leg,
        "lock_id": lock_id(settlement, leg),
        "hashlock": request["hashlock"],
        "expires_at": request["expires_at"],
        "journal": journal(market, 1, &format!("lock {settlement} {leg}")),
    })
}

/// A ClaimReceipt for the leg `leg` on `market` of `settlement`, claimed with `preimage`.
pub fn claim_receipt(
    settlement: &str,
    leg: &str,
    market: &str,
    hashlock: &Value,
    preimage: &Value,
) -> Value {
    json!({
        "settlement_id": settlement,
        "leg": leg,
        "lock_id": lock_id(settlement, leg),
        "hashlock": hashlock,
        "preimage": preimage,
        "journal": journal(market, 2, &format!("claim {settlement} {leg}")),
    })
}
