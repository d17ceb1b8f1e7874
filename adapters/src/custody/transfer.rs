//! What the custody adapter needs from the ledger underneath it.

use isthmus_ledger::operation::Operation;
use isthmus_ledger::state::Holding;
use isthmus_ledger::{AccountRef, Asset, JournalPosition, LedgerFailure};
use isthmus_store::KvStore;

use crate::native_ledger::NativeLedger;

/// What the custody adapter needs from a ledger: accounts and free transfers, nothing more.
pub trait TransferLedger: Send {
    /// `Some(frozen)` for an existing account, `None` for an unknown one.
    fn account_frozen(&self, account: &AccountRef) -> Result<Option<bool>, LedgerFailure>;
    /// Moves units free of payment; idempotent by `key`.
    fn transfer(
        &mut self,
        key: &str,
        from: &AccountRef,
        to: &AccountRef,
        asset: &Asset,
        units: u64,
    ) -> Result<JournalPosition, LedgerFailure>;
    /// What an account holds.
    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure>;
}

impl<S: KvStore + Send> TransferLedger for NativeLedger<S> {
    fn account_frozen(&self, account: &AccountRef) -> Result<Option<bool>, LedgerFailure> {
        self.ledger().account_frozen(account)
    }

    fn transfer(
        &mut self,
        key: &str,
        from: &AccountRef,
        to: &AccountRef,
        asset: &Asset,
        units: u64,
    ) -> Result<JournalPosition, LedgerFailure> {
        let operation = Operation::Transfer {
            asset: asset.clone(),
            from: from.clone(),
            to: to.clone(),
            units,
        };
        self.execute(key, operation)
            .map(|receipt| receipt.position())
    }

    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure> {
        self.ledger().holdings(account)
    }
}
