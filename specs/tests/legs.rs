//! Which accounts and which ledgers both legs use, from two matched ISM/1
//! instructions alone (ISM-1 §6.1 duty 7).

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_spec::body::{AccountRef, Leg, SettlementInstruction};
use isthmus_spec::json::Json;
use isthmus_spec::legs::settlement_legs;
use isthmus_spec::ReasonCode;
use serde_json::{json, Value};

fn decode(body: Value) -> SettlementInstruction {
    match SettlementInstruction::from_json(&body, "body") {
        Ok(instruction) => instruction,
        Err(rejection) => panic!("test instruction refused: {rejection}"),
    }
}

/// The seller's delivery of 1000 Apple shares on XNYS against AUD paid on XASX,
/// as its gateway on XNYS completes it: it knows its own market.
fn seller() -> Value {
    json!({
        "instruction_id": "SEME-XNYS-1",
        "direction": "DELIVER",
        "payment": "AGAINST_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": "US0378331005",
        "quantity": "1000",
        "settlement_amount": {"amount": "352140.50", "currency": "AUD"},
        "account_owner": "549300ISTHMUSSELL015",
        "safekeeping_account": "SAFE-SELLER-01",
        "securities_market": "XNYS",
        "cash": {"account": "AUD-CASH-SELLER-7"},
        "receiving_agent": {"proprietary_id": {"id": "0901", "issuer": "DTCYID"}},
        "place_of_settlement": "DTCYUS33"
    })
}

/// The buyer's receipt, as its gateway on XASX completes it: the cash is its own market's.
fn buyer() -> Value {
    json!({
        "instruction_id": "SEME-XASX-1",
        "direction": "RECEIVE",
        "payment": "AGAINST_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": "US0378331005",
        "quantity": "1000.0",
        "settlement_amount": {"amount": "352140.5", "currency": "AUD"},
        "account_owner": "ANZBAU3M",
        "safekeeping_account": "SAFE-BUYER-US-3",
        "cash": {"market": "XASX", "account": "AUD-CASH-BUYER-3", "owner": "5493001KJTIIGC8Y1R12"},
        "delivering_agent": {"bic": "CHASUS33"},
        "place_of_settlement": "DTCYUS33"
    })
}

fn account(owner: &str, account: &str) -> AccountRef {
    AccountRef::from_json(&json!({"owner": owner, "account": account}), "")
        .unwrap_or_else(|r| panic!("{r}"))
}

#[test]
fn against_payment_pair_gives_both_legs_accounts_and_markets() {
    let legs =
        settlement_legs(&decode(seller()), &decode(buyer())).unwrap_or_else(|r| panic!("{r}"));

    assert_eq!(legs.securities.leg, Leg::Securities);
    assert_eq!(
        legs.securities.market.as_str(),
        "XNYS",
        "stated by the seller only"
    );
    assert_eq!(
        legs.securities.from,
        account("549300ISTHMUSSELL015", "SAFE-SELLER-01")
    );
    assert_eq!(legs.securities.to, account("ANZBAU3M", "SAFE-BUYER-US-3"));

    let (cash, amount) = legs
        .cash
        .unwrap_or_else(|| panic!("an against-payment pair has a cash leg"));
    assert_eq!(cash.leg, Leg::Cash);
    assert_eq!(cash.market.as_str(), "XASX", "stated by the buyer only");
    // The buyer names a separate owner for its cash account; the seller does not,
    // so its account owner owns its cash account too.
    assert_eq!(
        cash.from,
        account("5493001KJTIIGC8Y1R12", "AUD-CASH-BUYER-3")
    );
    assert_eq!(
        cash.to,
        account("549300ISTHMUSSELL015", "AUD-CASH-SELLER-7")
    );
    assert_eq!(
        amount.amount.as_str(),
        "352140.5",
        "the buyer's amount: what it pays"
    );
    assert_eq!(amount.currency.as_str(), "AUD");
}

#[test]
fn free_of_payment_pair_has_one_leg() {
    let mut deliver = seller();
    let mut receive = buyer();
    for body in [&mut deliver, &mut receive] {
        body["payment"] = json!("FREE_OF_PAYMENT");
        if let Value::Object(members) = body {
            members.remove("settlement_amount");
            members.remove("cash");
        }
    }
    // Both state the securities market, and agree.
    receive["securities_market"] = json!("XNYS");
    let legs =
        settlement_legs(&decode(deliver), &decode(receive)).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(legs.cash, None);
    assert_eq!(legs.securities.market.as_str(), "XNYS");
    assert_eq!(legs.securities.to, account("ANZBAU3M", "SAFE-BUYER-US-3"));
}

#[test]
fn a_leg_market_may_come_from_either_side_and_must_agree() {
    let mut deliver = seller();
    let mut receive = buyer();
    // Now only the buyer names the securities market, and only the seller the cash market.
    if let Value::Object(members) = &mut deliver {
        members.remove("securities_market");
    }
    receive["securities_market"] = json!("XNAS");
    deliver["cash"]["market"] = json!("XASX");
    receive["cash"]
        .as_object_mut()
        .map(|cash| cash.remove("market"));
    let legs = settlement_legs(&decode(deliver.clone()), &decode(receive.clone()))
        .unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(legs.securities.market.as_str(), "XNAS");
    assert_eq!(
        legs.cash.map(|(cash, _)| cash.market.to_string()),
        Some("XASX".to_string())
    );

    deliver["securities_market"] = json!("XNYS");
    let conflict = settlement_legs(&decode(deliver), &decode(receive)).err();
    assert_eq!(
        conflict.as_ref().map(|r| r.code),
        Some(ReasonCode::LegMarketConflict)
    );
    assert_eq!(
        conflict.and_then(|r| r.field),
        Some("receive.securities_market".to_string())
    );
}

#[test]
fn what_neither_instruction_carries_is_named() {
    type Change = fn(&mut Value, &mut Value);
    let cases: [(&str, Change, &str); 4] = [
        (
            "no securities market",
            |d, _| {
                d.as_object_mut().map(|m| m.remove("securities_market"));
            },
            "deliver.securities_market",
        ),
        (
            "no cash market",
            |_, r| {
                r["cash"].as_object_mut().map(|m| m.remove("market"));
            },
            "deliver.cash.market",
        ),
        (
            "no buyer's account owner",
            |_, r| {
                r.as_object_mut().map(|m| m.remove("account_owner"));
            },
            "receive.account_owner",
        ),
        (
            "no seller's cash account",
            |d, _| {
                d.as_object_mut().map(|m| m.remove("cash"));
            },
            "deliver.cash.account",
        ),
    ];
    for (case, change, field) in cases {
        let (mut deliver, mut receive) = (seller(), buyer());
        change(&mut deliver, &mut receive);
        let refused = settlement_legs(&decode(deliver), &decode(receive)).err();
        assert_eq!(
            refused.as_ref().map(|r| r.code),
            Some(ReasonCode::InstructionIncomplete),
            "{case}"
        );
        assert_eq!(
            refused.and_then(|r| r.field).as_deref(),
            Some(field),
            "{case}"
        );
    }
}

#[test]
fn the_spec_vectors_instructions_pair_up() {
    // valid/19 (a delivery with its cash side) and valid/20 (a receipt that
    // leaves its own side implied): the receipt lacks its account owner, which
    // only its gateway can supply.
    let vector = |name: &str| -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("vectors/valid/{name}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        file["input"]["body"].clone()
    };
    let deliver = decode(vector("19-instruction-with-cash-side"));
    let mut receive_body = vector("20-instruction-receive-with-implied-parties");
    let refused = settlement_legs(&deliver, &decode(receive_body.clone())).err();
    assert_eq!(
        refused.and_then(|r| r.field).as_deref(),
        Some("receive.account_owner")
    );
    receive_body["account_owner"] = json!("DEUTDEFF");
    let legs = settlement_legs(&deliver, &decode(receive_body)).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(legs.securities.market.as_str(), "XNYS");
    assert_eq!(legs.securities.to, account("DEUTDEFF", "SAFE-SELLER-01"));
    let (cash, _) = legs.cash.unwrap_or_else(|| panic!("cash leg"));
    assert_eq!(cash.market.as_str(), "XASX");
    assert_eq!(cash.from, account("DEUTDEFF", "AUD-CASH-BUYER-3"));
    assert_eq!(
        cash.to,
        account("549300ISTHMUSCASH062", "AUD-CASH-SELLER-7")
    );
}

#[test]
fn a_pair_that_is_not_a_delivery_and_a_receipt_of_one_payment_has_no_legs() {
    let mut two_deliveries = buyer();
    two_deliveries["direction"] = json!("DELIVER");
    two_deliveries["receiving_agent"] = json!({"bic": "DEUTDEFF"});
    let refused = settlement_legs(&decode(seller()), &decode(two_deliveries)).err();
    assert_eq!(
        refused.as_ref().map(|r| (r.code, r.field.as_deref())),
        Some((ReasonCode::PairInvalid, Some("receive.direction")))
    );

    let mut free = buyer();
    free["payment"] = json!("FREE_OF_PAYMENT");
    free.as_object_mut().map(|m| {
        m.remove("settlement_amount");
        m.remove("cash")
    });
    let refused = settlement_legs(&decode(seller()), &decode(free)).err();
    assert_eq!(
        refused.as_ref().map(|r| (r.code, r.field.as_deref())),
        Some((ReasonCode::PairInvalid, Some("receive.payment")))
    );
    // The sentence names the member too: a relay's Reason carries no field.
    assert!(refused.is_some_and(|r| r.message.starts_with("receive.payment: ")));
}

#[test]
fn every_refusal_names_its_member_in_its_sentence() {
    let mut receive = buyer();
    receive.as_object_mut().map(|m| m.remove("account_owner"));
    let refused = settlement_legs(&decode(seller()), &decode(receive))
        .err()
        .unwrap_or_else(|| panic!("refused"));
    let field = refused.field.clone().unwrap_or_default();
    assert!(
        refused.message.starts_with(&format!("{field}: ")),
        "{refused}"
    );
}
