//! Regression tests for custody-adapter defects found in review: a lock
//! naming the escrow account, a claim delivery the ledger refused once, a
//! lock whose delivery into escrow was applied but not flushed, and a key
//! reused across claim and refund.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::sync::Arc;

use common::*;
use isthmus_adapters::adapter::{LedgerSide, LockOrder};
use isthmus_adapters::custody::CustodyLedger;
use isthmus_adapters::native::NativeLedger;
use isthmus_ledger::{AccountRef, Asset, Ledger, LedgerReason, Operation, Request};
use isthmus_store::ManualClock;
use isthmus_store::{KvStore, MemoryStore};

/// A 5-share order from the seller to `beneficiary`.
fn order_to(key: &str, beneficiary: &str) -> LockOrder {
    LockOrder {
        beneficiary: account(beneficiary),
        ..order(key, "5", EXPIRY)
    }
}

/// A lock naming the escrow account as a party is refused before anything moves;
/// it could otherwise be neither claimed nor refunded.
#[tokio::test]
async fn the_escrow_account_cannot_be_a_party() {
    let clock = ManualClock::new(T0);
    let custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        market(&clock, MemoryStore::new()),
        MemoryStore::new(),
        Box::new(clock.clone()),
    )
    .unwrap();
    let refused = custody.lock(&order_to("lock-1", ESCROW)).await;
    assert_eq!(
        refused.err().map(|e| e.reason),
        Some(LedgerReason::SameAccount)
    );
    let seller = custody.holdings(&account(SELLER)).await.unwrap();
    assert_eq!(seller[0].1.available, 1_000_000_000, "nothing moved");
}

/// A claim delivery the ledger refuses once (escrow frozen for a moment) does not
/// stick: once the cause is fixed, the same claim goes through.
#[tokio::test]
async fn a_refused_claim_transfer_sticks_forever() {
    let clock = ManualClock::new(T0);
    let native = market(&clock, MemoryStore::new());
    let custody_market = Arc::new(native);
    struct Shared<S: KvStore + Send + Sync>(Arc<NativeLedger<S>>);
    impl<S: KvStore + Send + Sync> isthmus_adapters::custody::TransferLedger for Shared<S> {
        fn account_frozen(
            &self,
            a: &AccountRef,
        ) -> Result<Option<bool>, isthmus_ledger::LedgerError> {
            self.0.account_frozen(a)
        }
        fn transfer(
            &self,
            k: &str,
            f: &AccountRef,
            t: &AccountRef,
            a: &Asset,
            u: u64,
        ) -> Result<isthmus_ledger::Receipt, isthmus_ledger::LedgerError> {
            self.0.transfer(k, f, t, a, u)
        }
        fn holdings(
            &self,
            a: &AccountRef,
        ) -> Result<Vec<(Asset, isthmus_ledger::state::Holding)>, isthmus_ledger::LedgerError>
        {
            isthmus_adapters::custody::TransferLedger::holdings(&*self.0, a)
        }
    }
    let custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        Shared(custody_market.clone()),
        MemoryStore::new(),
        Box::new(clock.clone()),
    )
    .unwrap();
    let lock = custody.lock(&order_to("lock-1", BUYER)).await.unwrap();
    let op = |o: Operation, k: &str| {
        custody_market
            .with_ledger(|l| l.execute(Request::new(k, o)))
            .unwrap()
            .unwrap()
    };
    op(
        Operation::Freeze {
            account: account(ESCROW),
        },
        "freeze",
    );
    let first = custody.claim("claim-1", &lock.lock_id, &secret()).await;
    assert_eq!(
        first.err().map(|e| e.reason),
        Some(LedgerReason::AccountFrozen)
    );
    op(
        Operation::Unfreeze {
            account: account(ESCROW),
        },
        "unfreeze",
    );
    let again = custody.claim("claim-1", &lock.lock_id, &secret()).await;
    assert!(
        again.is_ok(),
        "the claim goes through after the unfreeze: {:?}",
        again.err()
    );
    let buyer = custody.holdings(&account(BUYER)).await.unwrap();
    assert_eq!(buyer[0].1.available, 5_000_000);
}

/// The delivery into escrow is applied but its flush fails: the custodian keeps
/// its intent, and after a restart the lock exists and accounts for the shares.
#[tokio::test]
async fn a_failed_flush_during_lock_orphans_escrowed_units() {
    let clock = ManualClock::new(T0);
    let store = MemoryStore::new();
    let records = MemoryStore::new();
    let custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        market(&clock, store.clone()),
        records.clone(),
        Box::new(clock.clone()),
    )
    .unwrap();
    store.fail_flushes(true);
    let failed = custody.lock(&order_to("lock-1", BUYER)).await;
    assert_eq!(
        failed.err().map(|e| e.reason),
        Some(LedgerReason::StoreFailed)
    );
    drop(custody);
    store.fail_flushes(false);
    let reopened = NativeLedger::new(
        mic(),
        Ledger::open(store.clone(), Box::new(clock.clone())).unwrap(),
    );
    let custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        reopened,
        records,
        Box::new(clock.clone()),
    )
    .unwrap();
    let seller = custody.holdings(&account(SELLER)).await.unwrap();
    let total: u128 = seller.iter().map(|(_, b)| b.total()).sum();
    assert_eq!(
        total, 1_000_000_000,
        "every share is held or locked, none orphaned in escrow"
    );
    // The order's retry returns the lock the recovery completed.
    let lock = custody.lock(&order_to("lock-1", BUYER)).await.unwrap();
    clock.set(EXPIRY);
    custody.refund("refund-1", &lock.lock_id).await.unwrap();
    let seller = custody.holdings(&account(SELLER)).await.unwrap();
    assert_eq!(seller[0].1.available, 1_000_000_000);
}

/// refund(K) after claim(K) is a reused key, on custody as on a native ledger.
#[tokio::test]
async fn refund_with_a_claim_key_reports_success() {
    let clock = ManualClock::new(T0);
    let custody = CustodyLedger::open(
        mic(),
        account(ESCROW),
        market(&clock, MemoryStore::new()),
        MemoryStore::new(),
        Box::new(clock.clone()),
    )
    .unwrap();
    let lock = custody.lock(&order_to("lock-1", BUYER)).await.unwrap();
    custody.claim("k", &lock.lock_id, &secret()).await.unwrap();
    clock.set(EXPIRY + 1);
    let refund = custody.refund("k", &lock.lock_id).await;
    let native_clock = ManualClock::new(T0);
    let native = market(&native_clock, MemoryStore::new());
    let nlock = native.lock(&order_to("lock-1", BUYER)).await.unwrap();
    native.claim("k", &nlock.lock_id, &secret()).await.unwrap();
    native_clock.set(EXPIRY + 1);
    let nrefund = native.refund("k", &nlock.lock_id).await;
    assert_eq!(
        refund.err().map(|e| e.reason),
        Some(LedgerReason::IdempotencyKeyReused)
    );
    assert_eq!(
        nrefund.err().map(|e| e.reason),
        Some(LedgerReason::IdempotencyKeyReused)
    );
}
