//! From the wire to the ledger and back: an ISM/1 LockRequest (the published
//! vectors) becomes a lock order with the stated rules for markets, amounts
//! and time precision (ISM-1 §6.4 duties 4–6), and a ledger's results become
//! ISM/1 receipts that decode and carry exactly the request's terms (§6.5).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use isthmus_adapters::ledger_side::{expiry_ms_of, LedgerSide, LockId, LockOrder};
use isthmus_ledger::{Asset, FailureKind, LedgerReason};
use isthmus_spec::body::{Leg, LockRequest};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::Reference;
use isthmus_spec::time::Timestamp;
use isthmus_spec::{Body, Envelope};
use isthmus_store::log::MemoryLogFiles;
use isthmus_store::ManualClock;

fn request_of(vector: &str) -> LockRequest {
    let path = format!(
        "{}/../specs/vectors/valid/{vector}",
        env!("CARGO_MANIFEST_DIR")
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    match Envelope::from_value(&file["input"]).unwrap().body {
        Body::LockRequest(request) => request,
        other => panic!("{vector} holds a {:?}", other.kind()),
    }
}

fn refusal(
    result: Result<LockOrder, isthmus_ledger::LedgerFailure>,
) -> (FailureKind, LedgerReason) {
    let failure = result.unwrap_err();
    assert!(!failure.error().message.is_empty());
    (failure.kind(), failure.reason())
}

#[test]
fn the_securities_vector_becomes_an_order_in_millionths() {
    let request = request_of("08-lock-request-securities.json");
    let order =
        LockOrder::from_request(&request, &request.market, key("lock:S-1:SECURITIES")).unwrap();
    assert_eq!(order.asset, Asset::parse("US0378331005").unwrap());
    assert_eq!(order.units, 1_000_000_000, "1000 shares in millionths");
    assert_eq!(order.from, request.from);
    assert_eq!(order.beneficiary, request.beneficiary);
    assert_eq!(order.hashlock, request.hashlock);
    assert_eq!(
        i128::from(order.expiry_ms) * 1_000_000,
        request.expires_at.unix_nanos()
    );
}

#[test]
fn the_cash_vector_becomes_an_order_in_minor_units() {
    let request = request_of("09-lock-request-cash.json");
    let order = LockOrder::from_request(&request, &request.market, key("lock:S-1:CASH")).unwrap();
    assert_eq!(order.asset, Asset::parse("USD").unwrap());
    assert_eq!(order.units, 23_145_000, "231450.00 USD in cents");
}

#[test]
fn another_market_is_refused() {
    let request = request_of("08-lock-request-securities.json");
    let elsewhere = Mic::parse("XLON").unwrap();
    assert_eq!(
        refusal(LockOrder::from_request(&request, &elsewhere, key("k"))),
        (FailureKind::Refused, LedgerReason::MarketMismatch)
    );
}

#[test]
fn an_expiry_finer_than_a_millisecond_is_refused_never_rounded() {
    let mut request = request_of("08-lock-request-securities.json");
    for finer in [
        "2026-11-27T16:00:00.0001Z",
        "2026-11-27T16:00:00.999999999Z",
    ] {
        request.expires_at = Timestamp::parse(finer).unwrap();
        assert_eq!(
            refusal(LockOrder::from_request(&request, &request.market, key("k"))),
            (FailureKind::Refused, LedgerReason::ExpiryPrecision),
            "{finer}"
        );
    }
    for exact in ["2026-11-27T16:00:00.001Z", "2026-11-27T16:00:00.123000000Z"] {
        request.expires_at = Timestamp::parse(exact).unwrap();
        let order = LockOrder::from_request(&request, &request.market, key("k")).unwrap();
        assert_eq!(
            i128::from(order.expiry_ms) * 1_000_000,
            request.expires_at.unix_nanos(),
            "{exact}"
        );
    }
    assert_eq!(
        expiry_ms_of(&Timestamp::parse("1969-12-31T23:59:59Z").unwrap())
            .unwrap_err()
            .reason(),
        LedgerReason::ExpiryInPast
    );
}

#[test]
fn an_amount_finer_than_the_assets_unit_is_refused() {
    let request = request_of("09-lock-request-cash.json");
    // JPY has no minor unit: one decimal is too fine for it.
    let mut yen = request.clone();
    let cash = yen.cash.as_mut().unwrap();
    cash.amount = isthmus_spec::decimal::Decimal::parse("100.5").unwrap();
    cash.currency = isthmus_spec::ident::Currency::parse("JPY").unwrap();
    assert_eq!(
        refusal(LockOrder::from_request(&yen, &yen.market, key("k"))),
        (FailureKind::Refused, LedgerReason::AmountInvalid)
    );
}

#[test]
fn a_ledgers_results_become_receipts_with_the_requests_terms() {
    let clock = ManualClock::new(T0);
    let mut side = market(&clock, MemoryLogFiles::new());
    let expires_at = Timestamp::from_unix_millis(EXPIRY).unwrap();
    let order = LockOrder {
        expiry_ms: expiry_ms_of(&expires_at).unwrap(),
        ..order("lock:STL-1:SECURITIES", "10", EXPIRY).unwrap()
    };
    let locked = side.lock(&order).unwrap();
    let settlement = Reference::parse("STL-1").unwrap();
    let receipt = locked.receipt(settlement.clone(), Leg::Securities).unwrap();
    assert_eq!(receipt.expires_at.unix_nanos(), expires_at.unix_nanos());
    assert_eq!(receipt.hashlock, hashlock());
    assert_eq!(
        LockId::parse(receipt.lock_id.as_str()).unwrap(),
        locked.lock_id
    );
    // The receipt is an ISM/1 body that decodes to itself.
    let body = Body::LockReceipt(receipt);
    let decoded = Body::from_json(body.kind(), &body.to_json(), "body").unwrap();
    assert_eq!(decoded, body);

    let claimed = side
        .claim(&claim("claim:STL-1:SECURITIES", locked.lock_id, secret()))
        .unwrap();
    let receipt = claimed.receipt(settlement.clone(), Leg::Securities);
    assert_eq!(receipt.preimage, secret());
    assert_eq!(receipt.journal.market, mic());
    let body = Body::ClaimReceipt(receipt);
    assert_eq!(
        Body::from_json(body.kind(), &body.to_json(), "body").unwrap(),
        body
    );
}

/// One ledger side given its commands as a batch, another the same
/// commands one by one: the same result for each, in order, and the same
/// holdings after.
fn batch_matches_one_by_one<L: LedgerSide>(batched: &mut L, single: &mut L) {
    use isthmus_adapters::ledger_side::{LedgerCommand, LedgerDone};
    let locks = vec![
        LedgerCommand::Lock(order("lock:A", "10", EXPIRY).unwrap()),
        LedgerCommand::Lock(order("lock:B", "20", EXPIRY).unwrap()),
        // The same key again: the first lock's receipt, nothing new.
        LedgerCommand::Lock(order("lock:A", "10", EXPIRY).unwrap()),
        // More than the seller holds: refused, the others stand.
        LedgerCommand::Lock(order("lock:C", "5000", EXPIRY).unwrap()),
    ];
    let batch = batched.execute_batch(&locks);
    let alone: Vec<_> = locks.iter().map(|c| single.execute(c)).collect();
    assert_eq!(batch, alone);
    assert_eq!(batch.len(), locks.len());
    let ids: Vec<LockId> = batch
        .iter()
        .take(2)
        .map(|r| match r {
            Ok(LedgerDone::Locked(locked)) => locked.lock_id,
            other => panic!("expected a lock, got {other:?}"),
        })
        .collect();
    assert!(batch[3].is_err(), "the oversized lock is refused");
    let wrong = isthmus_spec::ids::Preimage::from_bytes([9; 32]);
    let ends = vec![
        LedgerCommand::Claim(claim("claim:A", ids[0], secret())),
        LedgerCommand::Claim(claim("claim:B", ids[1], wrong)),
        LedgerCommand::Refund(refund("refund:A", ids[0])),
    ];
    let batch = batched.execute_batch(&ends);
    let alone: Vec<_> = ends.iter().map(|c| single.execute(c)).collect();
    assert_eq!(batch, alone);
    assert!(matches!(batch[0], Ok(LedgerDone::Claimed(_))));
    assert!(batch[1].is_err() && batch[2].is_err());
    for who in [SELLER, BUYER] {
        assert_eq!(
            batched.holdings(&account(who)).unwrap(),
            single.holdings(&account(who)).unwrap()
        );
    }
    assert!(!batched.holdings(&account(BUYER)).unwrap().is_empty());
}

#[test]
fn a_native_ledger_batch_gives_what_each_command_alone_gives() {
    let clock = ManualClock::new(T0);
    let mut batched = market(&clock, MemoryLogFiles::new());
    let mut single = market(&clock, MemoryLogFiles::new());
    batch_matches_one_by_one(&mut batched, &mut single);
}

#[test]
fn a_custody_ledger_batch_gives_what_each_command_alone_gives() {
    let clock = ManualClock::new(T0);
    let mut batched = custody_over(
        &clock,
        MemoryLogFiles::new(),
        isthmus_store::MemoryStore::new(),
    );
    let mut single = custody_over(
        &clock,
        MemoryLogFiles::new(),
        isthmus_store::MemoryStore::new(),
    );
    batch_matches_one_by_one(&mut batched, &mut single);
}
