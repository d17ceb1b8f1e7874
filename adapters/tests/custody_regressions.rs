//! Regression tests for custody-adapter defects found in review: a lock
//! naming the escrow account, a claim delivery the ledger refused once, a
//! lock whose delivery into escrow was applied but not flushed, a key reused
//! across claim and refund, and the custodian's own records losing their
//! last write in a crash.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::*;
use isthmus_adapters::custody::CustodyLedger;
use isthmus_adapters::ledger_side::{LedgerSide, LockChange, LockOrder};
use isthmus_adapters::native_ledger::NativeLedger;
use isthmus_ledger::state::HtlcStatus;
use isthmus_ledger::{FailureKind, LedgerReason, Operation};
use isthmus_store::log::MemoryLogFiles;
use isthmus_store::{ManualClock, MemoryStore};

/// Freezes or unfreezes the custodian's escrow account on the market's ledger.
fn freeze_escrow(market: &mut NativeLedger<MemoryLogFiles>, frozen: bool) {
    let account = account(ESCROW);
    let (key, operation) = if frozen {
        ("freeze-escrow", Operation::Freeze { account })
    } else {
        ("unfreeze-escrow", Operation::Unfreeze { account })
    };
    market.execute(key, operation).unwrap();
}

/// A 5-share order from the seller to `beneficiary`.
fn order_to(key: &str, beneficiary: &str) -> LockOrder {
    LockOrder {
        beneficiary: account(beneficiary),
        ..order(key, "5", EXPIRY).unwrap()
    }
}

/// A lock naming the escrow account as a party is refused before anything moves;
/// it could otherwise be neither claimed nor refunded.
#[test]
fn the_escrow_account_cannot_be_a_party() {
    let clock = ManualClock::new(T0);
    let mut custody = custody_over(&clock, MemoryLogFiles::new(), MemoryStore::new());
    let refused = custody.lock(&order_to("lock-1", ESCROW));
    assert_eq!(
        refused.err().map(|e| e.reason()),
        Some(LedgerReason::SameAccount)
    );
    let seller = custody.holdings(&account(SELLER)).unwrap();
    assert_eq!(seller[0].1.available, 1_000_000_000, "nothing moved");
}

/// A claim delivery the ledger refuses once (escrow frozen for a moment) does not
/// stick: once the cause is fixed, the same claim goes through. Until then the
/// claim is committed but not delivered: `DELIVERY_PENDING`, never a refund, and
/// its secret is public at once (status and event say claimed).
#[test]
fn a_refused_claim_transfer_sticks_forever() {
    let clock = ManualClock::new(T0);
    let mut custody = custody_over(&clock, MemoryLogFiles::new(), MemoryStore::new());
    let lock = custody.lock(&order_to("lock-1", BUYER)).unwrap();
    freeze_escrow(custody.underlying_mut(), true);
    let first = custody.claim(&claim("claim-1", lock.lock_id, secret()));
    let first = first.err().unwrap();
    assert_eq!(
        (first.kind(), first.reason()),
        (FailureKind::OutcomeUnknown, LedgerReason::DeliveryPending)
    );
    assert!(
        first.error().message.contains("ACCOUNT_FROZEN"),
        "the cause is named: {first}"
    );
    // The claim is irrevocable: a watcher sees it, with its secret, at once.
    let status = custody.lock_status(lock.lock_id).unwrap().unwrap().status;
    assert_eq!(
        status,
        HtlcStatus::Claimed {
            at_ms: T0,
            preimage: secret()
        }
    );
    assert!(custody.open_locks(10).unwrap().is_empty());
    let events = custody.events_since(0, 10).unwrap().events;
    assert_eq!(
        events.last().map(|e| (&e.change, e.journal.is_some())),
        Some((&LockChange::Claimed { preimage: secret() }, false)),
        "announced before it is delivered"
    );
    // Past expiry a refund cannot take the claimed units back.
    clock.set(EXPIRY);
    let refund_attempt = custody.refund(&refund("refund-1", lock.lock_id));
    assert_eq!(
        refund_attempt.err().map(|e| (e.kind(), e.reason())),
        Some((FailureKind::Refused, LedgerReason::LockSettled)),
        "the committed claim settled the lock"
    );
    freeze_escrow(custody.underlying_mut(), false);
    let again = custody.claim(&claim("claim-1", lock.lock_id, secret()));
    assert!(
        again.is_ok(),
        "the claim goes through after the unfreeze: {:?}",
        again.err()
    );
    let buyer = custody.holdings(&account(BUYER)).unwrap();
    assert_eq!(buyer[0].1.available, 5_000_000);
    let events = custody.events_since(0, 10).unwrap().events;
    assert_eq!(
        events.len(),
        2,
        "the claim's event is completed, not repeated"
    );
    assert!(
        events[1].journal.is_some(),
        "delivered: the journal reference is filled in"
    );
    assert_eq!(
        custody
            .refund(&refund("refund-2", lock.lock_id))
            .err()
            .map(|e| e.reason()),
        Some(LedgerReason::LockSettled)
    );
}

/// The delivery into escrow is applied but its flush fails: the custodian keeps
/// its intent, and after a restart the lock exists and accounts for the shares.
#[test]
fn a_failed_flush_during_lock_orphans_escrowed_units() {
    let clock = ManualClock::new(T0);
    let store = MemoryLogFiles::new();
    let records = MemoryStore::new();
    let mut custody = custody_over(&clock, store.clone(), records.clone());
    store.fail_syncs(true);
    let failed = custody.lock(&order_to("lock-1", BUYER));
    assert_eq!(
        failed.err().map(|e| (e.kind(), e.reason())),
        Some((FailureKind::OutcomeUnknown, LedgerReason::StoreFailed))
    );
    drop(custody);
    store.fail_syncs(false);
    let mut custody = custody_reopened(&clock, store.clone(), records);
    let seller = custody.holdings(&account(SELLER)).unwrap();
    let total: u128 = seller.iter().map(|(_, b)| b.total()).sum();
    assert_eq!(
        total, 1_000_000_000,
        "every share is held or locked, none orphaned in escrow"
    );
    // The order's retry returns the lock the recovery completed.
    let lock = custody.lock(&order_to("lock-1", BUYER)).unwrap();
    clock.set(EXPIRY);
    custody.refund(&refund("refund-1", lock.lock_id)).unwrap();
    let seller = custody.holdings(&account(SELLER)).unwrap();
    assert_eq!(seller[0].1.available, 1_000_000_000);
}

/// refund(K) after claim(K) is a reused key, on custody as on a native ledger.
#[test]
fn refund_with_a_claim_key_reports_success() {
    let clock = ManualClock::new(T0);
    let mut custody = custody_over(&clock, MemoryLogFiles::new(), MemoryStore::new());
    let lock = custody.lock(&order_to("lock-1", BUYER)).unwrap();
    custody.claim(&claim("k", lock.lock_id, secret())).unwrap();
    clock.set(EXPIRY + 1);
    let refund_result = custody.refund(&refund("k", lock.lock_id));
    let native_clock = ManualClock::new(T0);
    let mut native = market(&native_clock, MemoryLogFiles::new());
    let nlock = native.lock(&order_to("lock-1", BUYER)).unwrap();
    native.claim(&claim("k", nlock.lock_id, secret())).unwrap();
    native_clock.set(EXPIRY + 1);
    let nrefund = native.refund(&refund("k", nlock.lock_id));
    assert_eq!(
        refund_result.err().map(|e| e.reason()),
        Some(LedgerReason::IdempotencyKeyReused)
    );
    assert_eq!(
        nrefund.err().map(|e| e.reason()),
        Some(LedgerReason::IdempotencyKeyReused)
    );
}

/// The custodian's records lose the write that recorded the finished lock:
/// after the restart its intent is still there, the redo finds the delivery
/// into escrow already journaled (same derived key), and nothing moves twice.
#[test]
fn a_crash_of_the_custodians_records_redoes_nothing_twice() {
    let clock = ManualClock::new(T0);
    let store = MemoryLogFiles::new();
    let records = MemoryStore::new();
    let mut custody = custody_over(&clock, store.clone(), records.clone());
    // The intent is written and flushed; the delivery into escrow is made;
    // the record of its result is applied but its flush fails.
    records.fail_flushes_after(1);
    let failed = custody.lock(&order_to("lock-1", BUYER));
    assert_eq!(
        failed.err().map(|e| e.kind()),
        Some(FailureKind::OutcomeUnknown)
    );
    drop(custody);
    records.crash();
    records.fail_flushes(false);
    let mut custody = custody_reopened(&clock, store.clone(), records.clone());
    let seller = custody.holdings(&account(SELLER)).unwrap();
    assert_eq!(seller[0].1.locked, 5_000_000, "recovery finished the lock");
    let lock = custody.lock(&order_to("lock-1", BUYER)).unwrap();
    assert_eq!(
        custody.lock_status(lock.lock_id).unwrap().map(|l| l.units),
        Some(5_000_000)
    );
    let escrow = custody
        .underlying()
        .ledger()
        .holdings(&account(ESCROW))
        .unwrap();
    assert_eq!(
        escrow[0].1.available, 5_000_000,
        "delivered into escrow once"
    );
    assert_eq!(custody.open_locks(10).unwrap().len(), 1);
}

/// The custodian's records fail to flush a claim: the adapter refuses
/// everything until reopened, so it never acts on a record that may be lost;
/// after a crash the claim never happened and the lock can be refunded, while
/// another lock's units stay in escrow.
#[test]
fn a_failed_write_of_the_records_stops_the_adapter_until_reopened() {
    let clock = ManualClock::new(T0);
    let store = MemoryLogFiles::new();
    let records = MemoryStore::new();
    let mut custody = custody_over(&clock, store.clone(), records.clone());
    let a = custody.lock(&order_to("lock-a", BUYER)).unwrap();
    let b = custody.lock(&order_to("lock-b", BUYER)).unwrap();
    records.fail_flushes(true);
    let failed = custody.claim(&claim("claim-a", a.lock_id, secret()));
    assert_eq!(
        failed.err().map(|e| e.kind()),
        Some(FailureKind::OutcomeUnknown)
    );
    let retried = custody.claim(&claim("claim-a", a.lock_id, secret()));
    assert_eq!(
        retried.err().map(|e| (e.kind(), e.reason())),
        Some((FailureKind::Unavailable, LedgerReason::StoreFailed))
    );
    assert!(
        custody.holdings(&account(SELLER)).is_err(),
        "no query either"
    );
    drop(custody);
    records.crash();
    records.fail_flushes(false);
    clock.set(EXPIRY);
    let mut custody = custody_reopened(&clock, store.clone(), records);
    custody.refund(&refund("refund-a", a.lock_id)).unwrap();
    let buyer = custody.holdings(&account(BUYER)).unwrap();
    assert!(
        buyer.is_empty(),
        "the lost claim delivered nothing: {buyer:?}"
    );
    let escrow = custody
        .underlying()
        .ledger()
        .holdings(&account(ESCROW))
        .unwrap();
    assert_eq!(
        escrow[0].1.available, 5_000_000,
        "lock b's units, still in escrow"
    );
    custody.refund(&refund("refund-b", b.lock_id)).unwrap();
    let seller = custody.holdings(&account(SELLER)).unwrap();
    assert_eq!(seller[0].1.available, 1_000_000_000);
}

/// The write recording a finished lock is applied but not flushed; the
/// adapter stops, and once reopened (without a crash) that write is durable
/// and the next lock's event takes the next cursor: no event is overwritten.
#[test]
fn events_survive_a_failed_flush_and_a_reopen() {
    let clock = ManualClock::new(T0);
    let store = MemoryLogFiles::new();
    let records = MemoryStore::new();
    let mut custody = custody_over(&clock, store.clone(), records.clone());
    records.fail_flushes_after(1);
    assert!(custody.lock(&order_to("lock-a", BUYER)).is_err());
    records.fail_flushes(false);
    assert_eq!(
        custody
            .lock(&order_to("lock-a", BUYER))
            .err()
            .map(|e| e.kind()),
        Some(FailureKind::Unavailable)
    );
    drop(custody);
    let mut custody = custody_reopened(&clock, store, records);
    let a = custody.lock(&order_to("lock-a", BUYER)).unwrap();
    let b = custody.lock(&order_to("lock-b", BUYER)).unwrap();
    let events = custody.events_since(0, 10).unwrap().events;
    let seen: Vec<_> = events.iter().map(|e| (e.cursor, e.lock_id)).collect();
    assert_eq!(seen, vec![(0, a.lock_id), (1, b.lock_id)]);
}

/// A clock that moves on every reading: custody time still never goes back,
/// whatever order its steps read and write it in.
#[test]
fn custody_time_never_goes_back_with_a_clock_that_ticks() {
    #[derive(Clone)]
    struct Ticking(std::sync::Arc<std::sync::atomic::AtomicU64>);
    impl isthmus_store::Clock for Ticking {
        fn now_ms(&self) -> u64 {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        }
    }
    let ticking = Ticking(std::sync::Arc::new(std::sync::atomic::AtomicU64::new(T0)));
    let setup_clock = ManualClock::new(T0);
    let mut custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        market(&setup_clock, MemoryLogFiles::new()),
        MemoryStore::new(),
        Box::new(ticking.clone()),
    )
    .unwrap();
    let lock = custody.lock(&order_to("lock-1", BUYER)).unwrap();
    freeze_escrow(custody.underlying_mut(), true);
    assert!(custody
        .claim(&claim("claim-1", lock.lock_id, secret()))
        .is_err());
    freeze_escrow(custody.underlying_mut(), false);
    let mut last = custody.now_ms().unwrap();
    let second = custody.claim(&claim("claim-2", lock.lock_id, secret()));
    assert_eq!(
        second.err().map(|e| e.reason()),
        Some(LedgerReason::LockSettled)
    );
    for _ in 0..3 {
        let now = custody.now_ms().unwrap();
        assert!(now >= last, "{now} after {last}");
        last = now;
    }
    custody
        .claim(&claim("claim-1", lock.lock_id, secret()))
        .unwrap();
}

/// The delivery into escrow reached the ledger, but the record of it was
/// lost, and the lock's expiry passed before the restart: the custodian finds
/// the delivery on the ledger by its key and keeps the lock (now refundable)
/// instead of refusing it and orphaning the units in escrow.
#[test]
fn a_delivered_lock_whose_record_was_lost_survives_its_expiry() {
    let clock = ManualClock::new(T0);
    let store = MemoryLogFiles::new();
    let records = MemoryStore::new();
    let mut custody = custody_over(&clock, store.clone(), records.clone());
    records.fail_flushes_after(1);
    assert!(custody.lock(&order_to("lock-1", BUYER)).is_err());
    drop(custody);
    records.crash();
    records.fail_flushes(false);
    clock.set(EXPIRY + 1);
    let mut custody = custody_reopened(&clock, store, records);
    let lock = custody.lock(&order_to("lock-1", BUYER)).unwrap();
    let seller = custody.holdings(&account(SELLER)).unwrap();
    assert_eq!(
        seller[0].1.locked, 5_000_000,
        "the escrowed units are the seller's"
    );
    custody.refund(&refund("refund-1", lock.lock_id)).unwrap();
    let seller = custody.holdings(&account(SELLER)).unwrap();
    assert_eq!(seller[0].1.available, 1_000_000_000);
}
