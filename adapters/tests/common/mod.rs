//! Shared fixtures of the ledger-side tests: one small market with a seller
//! holding Apple shares, a buyer and a custodian's escrow account, on a
//! native ledger or behind a custody adapter.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_adapters::custody::CustodyLedger;
use isthmus_adapters::ledger_side::{ClaimOrder, LockId, LockOrder, RefundOrder};
use isthmus_adapters::native_ledger::NativeLedger;
use isthmus_ledger::{AccountRef, Asset, IdempotencyKey, Ledger, LedgerFailure, Operation};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Hashlock, Preimage};
use isthmus_store::log::{LogFiles, MemoryLogFiles};
use isthmus_store::{KvStore, ManualClock, MemoryStore};

pub const SELLER: &str = "549300ISTHMUSSELL015/SAFE-SELLER-01";
pub const BUYER: &str = "549300ISTHMUSBUYR064/SAFE-BUYER-01";
pub const OUTSIDER: &str = "DEUTDEFF/NOT-OPENED";
pub const ESCROW: &str = "CHASUS33/ESCROW";
pub const APPLE: &str = "US0378331005";
pub const T0: u64 = 1_800_000_000_000;
pub const EXPIRY: u64 = T0 + 60_000;

pub fn secret() -> Preimage {
    Preimage::from_bytes(*isthmus_spec::ids::Hex32::sha256_of(b"suite secret").bytes())
}

pub fn hashlock() -> Hashlock {
    secret().hashlock()
}

pub fn account(text: &str) -> AccountRef {
    text.parse().unwrap()
}

pub fn mic() -> Mic {
    Mic::parse("XNYS").unwrap()
}

pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

/// A fresh market ledger on `store`: seller with 1000 Apple shares, buyer, escrow.
pub fn market<S: LogFiles + Send>(clock: &ManualClock, store: S) -> NativeLedger<S> {
    let ledger = Ledger::open(store, Box::new(clock.clone())).unwrap();
    let mut market = NativeLedger::new(mic(), ledger);
    for (i, op) in [
        Operation::open_account(SELLER).unwrap(),
        Operation::open_account(BUYER).unwrap(),
        Operation::open_account(ESCROW).unwrap(),
        Operation::issue(SELLER, APPLE, "1000").unwrap(),
    ]
    .into_iter()
    .enumerate()
    {
        market.execute(&format!("setup-{i}"), op).unwrap();
    }
    market
}

/// The market ledger reopened from its store, as after a restart.
pub fn reopened<S: LogFiles + Send>(clock: &ManualClock, store: S) -> NativeLedger<S> {
    NativeLedger::new(mic(), Ledger::open(store, Box::new(clock.clone())).unwrap())
}

/// A custody adapter over a fresh market ledger.
pub fn custody_over(
    clock: &ManualClock,
    market_store: MemoryLogFiles,
    records: MemoryStore,
) -> CustodyLedger<NativeLedger<MemoryLogFiles>, MemoryStore> {
    CustodyLedger::open(
        mic(),
        account(ESCROW),
        market(clock, market_store),
        records,
        Box::new(clock.clone()),
    )
    .unwrap()
}

/// A custody adapter reopened on both stores, as after a restart of the
/// custodian and the market ledger.
pub fn custody_reopened<R: KvStore>(
    clock: &ManualClock,
    market_store: MemoryLogFiles,
    records: R,
) -> CustodyLedger<NativeLedger<MemoryLogFiles>, R> {
    CustodyLedger::open(
        mic(),
        account(ESCROW),
        reopened(clock, market_store),
        records,
        Box::new(clock.clone()),
    )
    .unwrap()
}

/// An order from the seller to the buyer, built as a gateway builds one:
/// the key and the amount are checked on the way (a bad one is refused here,
/// with the ledger's reason, before any ledger sees it).
pub fn order(key: &str, amount: &str, expiry_ms: u64) -> Result<LockOrder, LedgerFailure> {
    let asset = Asset::parse(APPLE).unwrap();
    Ok(LockOrder {
        key: IdempotencyKey::new(key)?,
        from: account(SELLER),
        beneficiary: account(BUYER),
        units: asset.units(amount)?,
        asset,
        hashlock: hashlock(),
        expiry_ms,
    })
}

/// A claim with `preimage`.
pub fn claim(key_text: &str, lock_id: LockId, preimage: Preimage) -> ClaimOrder {
    ClaimOrder {
        key: key(key_text),
        lock_id,
        preimage,
    }
}

/// A refund.
pub fn refund(key_text: &str, lock_id: LockId) -> RefundOrder {
    RefundOrder {
        key: key(key_text),
        lock_id,
    }
}
