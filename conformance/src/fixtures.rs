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
    let mut body = json!({
        "instruction_id": instruction_id,
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
