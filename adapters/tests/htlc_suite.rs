//! One HTLC suite, two ledgers: every scenario runs against the native
//! adapter (a ledger that locks) and the custody adapter (escrow on a ledger
//! that only transfers), and the two must give identical outcomes — the same
//! refusals for the same reasons and the same holdings (DESIGN.md §4).

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use isthmus_adapters::adapter::{ComposedAdapter, Dialect, LedgerSide, LockOrder, MarketAdapter};
use isthmus_adapters::custody::CustodyLedger;
use isthmus_adapters::native::NativeLedger;
use isthmus_ledger::state::Holding;
use isthmus_ledger::{Asset, Ledger, LedgerReason};
use isthmus_spec::ids::Hex32;
use isthmus_store::ManualClock;
use isthmus_store::{MemoryStore, SledStore};

fn native(clock: &ManualClock) -> Box<dyn LedgerSide> {
    Box::new(market(clock, MemoryStore::new()))
}

fn custody(clock: &ManualClock) -> Box<dyn LedgerSide> {
    let ledger = market(clock, MemoryStore::new());
    Box::new(
        CustodyLedger::open(
            mic(),
            account(ESCROW),
            ledger,
            MemoryStore::new(),
            Box::new(clock.clone()),
        )
        .unwrap(),
    )
}

/// What a scenario observed: each step's outcome (ok, or the refusal's reason) and final holdings.
type Trace = (
    Vec<Result<(), LedgerReason>>,
    Vec<(Asset, Holding)>,
    Vec<(Asset, Holding)>,
);

async fn holdings(side: &dyn LedgerSide) -> (Vec<(Asset, Holding)>, Vec<(Asset, Holding)>) {
    (
        side.holdings(&account(SELLER)).await.unwrap(),
        side.holdings(&account(BUYER)).await.unwrap(),
    )
}

fn outcome<T>(result: Result<T, isthmus_ledger::LedgerError>) -> Result<(), LedgerReason> {
    result.map(|_| ()).map_err(|e| {
        assert!(!e.message.is_empty());
        e.reason
    })
}

/// Lock, a wrong secret, the right one, then every way to end the lock again.
async fn lock_and_claim(side: &dyn LedgerSide, clock: &ManualClock) -> Trace {
    let mut steps = Vec::new();
    let lock = side.lock(&order("lock-1", "400", EXPIRY)).await.unwrap();
    let (seller, _) = holdings(side).await;
    assert_eq!(
        seller[0].1,
        Holding {
            available: 600_000_000,
            locked: 400_000_000
        },
        "locked, not moved"
    );
    steps.push(outcome(
        side.claim("claim-bad", &lock.lock_id, &Hex32::from_bytes([9; 32]))
            .await,
    ));
    steps.push(outcome(
        side.claim("claim-1", &lock.lock_id, &secret()).await,
    ));
    let again = side
        .claim("claim-1", &lock.lock_id, &secret())
        .await
        .unwrap();
    steps.push(outcome(
        side.claim("claim-2", &lock.lock_id, &secret()).await,
    ));
    clock.set(EXPIRY + 1);
    steps.push(outcome(side.refund("refund-1", &lock.lock_id).await));
    steps.push(outcome(
        side.claim("claim-x", "HTLC-999999", &secret()).await,
    ));
    steps.push(outcome(
        side.claim("claim-y", "not-a-lock", &secret()).await,
    ));
    assert_eq!(
        again.lock_id, lock.lock_id,
        "a repeated claim returns the first receipt"
    );
    let (seller, buyer) = holdings(side).await;
    (steps, seller, buyer)
}

/// The expiry boundary: no refund before it, no claim at it, refund at it.
async fn expiry_boundary(side: &dyn LedgerSide, clock: &ManualClock) -> Trace {
    let mut steps = Vec::new();
    let lock = side.lock(&order("lock-1", "100", EXPIRY)).await.unwrap();
    steps.push(outcome(side.refund("refund-early", &lock.lock_id).await));
    clock.set(EXPIRY - 1);
    steps.push(outcome(side.refund("refund-early-2", &lock.lock_id).await));
    clock.set(EXPIRY);
    steps.push(outcome(
        side.claim("claim-late", &lock.lock_id, &secret()).await,
    ));
    steps.push(outcome(side.refund("refund-1", &lock.lock_id).await));
    steps.push(outcome(side.refund("refund-1", &lock.lock_id).await));
    steps.push(outcome(
        side.claim("claim-after", &lock.lock_id, &secret()).await,
    ));
    let (seller, buyer) = holdings(side).await;
    (steps, seller, buyer)
}

/// Orders the ledger must refuse, and idempotent repeats.
async fn refusals(side: &dyn LedgerSide, _clock: &ManualClock) -> Trace {
    let mut steps = vec![
        outcome(side.lock(&order("too-much", "1000.000001", EXPIRY)).await),
        outcome(side.lock(&order("past", "1", T0)).await),
        outcome(
            side.lock(&LockOrder {
                beneficiary: account(SELLER),
                ..order("self", "1", EXPIRY)
            })
            .await,
        ),
        outcome(
            side.lock(&LockOrder {
                beneficiary: account(OUTSIDER),
                ..order("outsider", "1", EXPIRY)
            })
            .await,
        ),
        outcome(
            side.lock(&LockOrder {
                from: account(OUTSIDER),
                ..order("outsider-2", "1", EXPIRY)
            })
            .await,
        ),
        outcome(side.lock(&order("decimals", "1.0000001", EXPIRY)).await),
        outcome(side.lock(&order("bad key", "1", EXPIRY)).await),
    ];
    let first = side.lock(&order("lock-a", "10", EXPIRY)).await.unwrap();
    let repeat = side.lock(&order("lock-a", "10", EXPIRY)).await.unwrap();
    assert_eq!(
        first, repeat,
        "a repeated lock order returns the first receipt"
    );
    steps.push(outcome(side.lock(&order("lock-a", "11", EXPIRY)).await));
    let (seller, buyer) = holdings(side).await;
    (steps, seller, buyer)
}

/// A scenario run against one ledger side.
type Scenario = for<'a> fn(
    &'a dyn LedgerSide,
    &'a ManualClock,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Trace> + 'a>>;

async fn both(scenario: Scenario) -> (Trace, Trace) {
    let clock = ManualClock::new(T0);
    let native_trace = scenario(native(&clock).as_ref(), &clock).await;
    let clock = ManualClock::new(T0);
    let custody_trace = scenario(custody(&clock).as_ref(), &clock).await;
    (native_trace, custody_trace)
}

macro_rules! boxed {
    ($f:ident) => {
        |side, clock| Box::pin($f(side, clock))
    };
}

#[tokio::test]
async fn lock_and_claim_is_the_same_on_both_ledgers() {
    let (native, custody) = both(boxed!(lock_and_claim)).await;
    use LedgerReason::*;
    assert_eq!(
        native.0,
        vec![
            Err(PreimageMismatch),
            Ok(()),
            Err(LockSettled),
            Err(LockSettled),
            Err(LockUnknown),
            Err(LockUnknown)
        ]
    );
    assert_eq!(native, custody);
    assert_eq!(
        native.2[0].1,
        Holding {
            available: 400_000_000,
            locked: 0
        },
        "the buyer received the shares"
    );
}

#[tokio::test]
async fn expiry_boundary_is_the_same_on_both_ledgers() {
    let (native, custody) = both(boxed!(expiry_boundary)).await;
    use LedgerReason::*;
    assert_eq!(
        native.0,
        vec![
            Err(LockNotExpired),
            Err(LockNotExpired),
            Err(LockExpired),
            Ok(()),
            Ok(()),
            Err(LockSettled)
        ]
    );
    assert_eq!(native, custody);
    assert_eq!(
        native.1[0].1,
        Holding {
            available: 1_000_000_000,
            locked: 0
        },
        "the seller got the shares back"
    );
}

#[tokio::test]
async fn refusals_are_the_same_on_both_ledgers() {
    let (native, custody) = both(boxed!(refusals)).await;
    use LedgerReason::*;
    assert_eq!(
        native.0,
        vec![
            Err(InsufficientFunds),
            Err(ExpiryInPast),
            Err(SameAccount),
            Err(AccountUnknown),
            Err(AccountUnknown),
            Err(AmountInvalid),
            Err(IdempotencyKeyInvalid),
            Err(IdempotencyKeyReused),
        ]
    );
    assert_eq!(native, custody);
}

#[tokio::test]
async fn custody_records_survive_a_restart_on_sled() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let market_store = MemoryStore::new();
    let lock = {
        let custody = CustodyLedger::open(
            mic(),
            account(ESCROW),
            market(&clock, market_store.clone()),
            SledStore::open(dir.path()).unwrap(),
            Box::new(clock.clone()),
        )
        .unwrap();
        custody.lock(&order("lock-1", "5", EXPIRY)).await.unwrap()
    };
    // Restart both: the market ledger from its store, the custody adapter from its sled records.
    let reopened_market = NativeLedger::new(
        mic(),
        Ledger::open(market_store, Box::new(clock.clone())).unwrap(),
    );
    let custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        reopened_market,
        SledStore::open(dir.path()).unwrap(),
        Box::new(clock.clone()),
    )
    .unwrap();
    let seller = custody.holdings(&account(SELLER)).await.unwrap();
    assert_eq!(
        seller[0].1,
        Holding {
            available: 995_000_000,
            locked: 5_000_000
        }
    );
    let claimed = custody
        .claim("claim-1", &lock.lock_id, &secret())
        .await
        .unwrap();
    assert_eq!(claimed.lock_id, lock.lock_id);
    let buyer = custody.holdings(&account(BUYER)).await.unwrap();
    assert_eq!(
        buyer[0].1,
        Holding {
            available: 5_000_000,
            locked: 0
        }
    );
}

#[tokio::test]
async fn an_interrupted_claim_completes_after_restart() {
    let clock = ManualClock::new(T0);
    let market_store = MemoryStore::new();
    let records = MemoryStore::new();
    let custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        market(&clock, market_store.clone()),
        records.clone(),
        Box::new(clock.clone()),
    )
    .unwrap();
    let lock = custody.lock(&order("lock-1", "7", EXPIRY)).await.unwrap();
    // The market ledger fails while the claim's delivery is under way: the
    // custodian has already recorded that it is claiming, so nothing is lost.
    market_store.fail_writes(true);
    let failed = custody.claim("claim-1", &lock.lock_id, &secret()).await;
    assert_eq!(
        failed.err().map(|e| e.reason),
        Some(LedgerReason::StoreFailed)
    );
    drop(custody);
    market_store.fail_writes(false);
    // Past expiry now: a fresh claim would be refused, but the announced one still completes.
    clock.set(EXPIRY + 1);
    let reopened_market = NativeLedger::new(
        mic(),
        Ledger::open(market_store, Box::new(clock.clone())).unwrap(),
    );
    let custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        reopened_market,
        records,
        Box::new(clock.clone()),
    )
    .unwrap();
    let buyer = custody.holdings(&account(BUYER)).await.unwrap();
    assert_eq!(
        buyer[0].1,
        Holding {
            available: 7_000_000,
            locked: 0
        },
        "recovery finished the claim"
    );
    let repeat = custody
        .claim("claim-1", &lock.lock_id, &secret())
        .await
        .unwrap();
    assert_eq!(repeat.lock_id, lock.lock_id);
    assert_eq!(
        custody
            .refund("refund-1", &lock.lock_id)
            .await
            .err()
            .map(|e| e.reason),
        Some(LedgerReason::LockSettled)
    );
}

#[tokio::test]
async fn a_composed_adapter_translates_and_locks() {
    let clock = ManualClock::new(T0);
    let adapter = ComposedAdapter::new(mic(), Dialect::Ism, market(&clock, MemoryStore::new()));
    assert_eq!(adapter.market().as_str(), "XNYS");
    let body = adapter
        .inbound(br#"{"kind":"Error","body":{"code":"MALFORMED_JSON","text":"Bad input."}}"#)
        .unwrap()
        .value;
    let written = adapter.outbound(&body).unwrap().value;
    assert_eq!(adapter.inbound(&written).unwrap().value, body);
    let lock = adapter
        .ledger()
        .lock(&order("lock-1", "1", EXPIRY))
        .await
        .unwrap();
    assert_eq!(lock.journal.market.as_str(), "XNYS");
    assert!(adapter
        .ledger()
        .claim("claim-1", &lock.lock_id, &secret())
        .await
        .is_ok());
}
