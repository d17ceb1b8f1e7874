//! What the custody adapter needs from the ledger underneath it.

use isthmus_ledger::operation::Operation;
use isthmus_ledger::state::Holding;
use isthmus_ledger::{AccountRef, Asset, JournalPosition, LedgerError, LedgerFailure};
use isthmus_store::log::LogFiles;

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
    /// What became of the transfer with `key`: `None` if the ledger never
    /// journaled it, else where it was journaled or why it was refused.
    /// How the custodian learns, after a crash, whether a delivery it
    /// announced reached the ledger, without making it.
    fn transfer_outcome(
        &self,
        key: &str,
    ) -> Result<Option<Result<JournalPosition, LedgerError>>, LedgerFailure>;
    /// What an account holds.
    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure>;
}

impl<S: LogFiles + Send> TransferLedger for NativeLedger<S> {
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

    fn transfer_outcome(
        &self,
        key: &str,
    ) -> Result<Option<Result<JournalPosition, LedgerError>>, LedgerFailure> {
        Ok(self
            .ledger()
            .journaled(key)?
            .map(|(position, outcome)| outcome.into_result().map(|_| position)))
    }

    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure> {
        self.ledger().holdings(account)
    }
}
