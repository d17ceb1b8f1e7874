//! Shared fixtures of the ledger-side tests: one small market with a seller
//! holding Apple shares, a buyer and a custodian's escrow account.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_adapters::adapter::LockOrder;
use isthmus_adapters::native::NativeLedger;
use isthmus_ledger::{AccountRef, Asset, Ledger, Operation, Request};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::Hex32;
use isthmus_store::KvStore;
use isthmus_store::ManualClock;

pub const SELLER: &str = "549300ISTHMUSSELL015/SAFE-SELLER-01";
pub const BUYER: &str = "549300ISTHMUSBUYR064/SAFE-BUYER-01";
pub const OUTSIDER: &str = "DEUTDEFF/NOT-OPENED";
pub const ESCROW: &str = "CHASUS33/ESCROW";
pub const APPLE: &str = "US0378331005";
pub const T0: u64 = 1_800_000_000_000;
pub const EXPIRY: u64 = T0 + 60_000;

pub fn secret() -> Hex32 {
    Hex32::sha256_of(b"suite secret")
}

pub fn hashlock() -> Hex32 {
    Hex32::sha256_of(secret().bytes())
}

pub fn account(text: &str) -> AccountRef {
    text.parse().unwrap()
}

pub fn mic() -> Mic {
    Mic::parse("XNYS").unwrap()
}

/// A fresh market ledger on `store`: seller with 1000 Apple shares, buyer, escrow.
pub fn market<S: KvStore + Send + Sync>(clock: &ManualClock, store: S) -> NativeLedger<S> {
    let mut ledger = Ledger::open(store, Box::new(clock.clone())).unwrap();
    for (i, op) in [
        Operation::open_account(SELLER).unwrap(),
        Operation::open_account(BUYER).unwrap(),
        Operation::open_account(ESCROW).unwrap(),
        Operation::issue(SELLER, APPLE, "1000").unwrap(),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(ledger
            .execute(Request::new(format!("setup-{i}"), op))
            .unwrap()
            .outcome
            .is_applied());
    }
    NativeLedger::new(mic(), ledger)
}

/// An order from the seller to the buyer.
pub fn order(key: &str, amount: &str, expiry_ms: u64) -> LockOrder {
    LockOrder {
        idempotency_key: key.into(),
        from: account(SELLER),
        beneficiary: account(BUYER),
        asset: Asset::parse(APPLE).unwrap(),
        amount: amount.into(),
        hashlock: hashlock(),
        expiry_ms,
    }
}
