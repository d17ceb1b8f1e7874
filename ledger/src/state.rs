//! The pure core: ledger state and its transition function.
//!
//! [`LedgerState::apply`] takes an operation, its journal sequence number and
//! the ledger time, and either changes the state and returns an [`Effect`],
//! or changes nothing and returns the reason. It does no I/O and reads no
//! clock, so tests, the journal verifier and a simulator all drive it alike.

use std::collections::{BTreeMap, BTreeSet};

use isthmus_spec::ident::Isin;
use isthmus_spec::ids::{Hashlock, Preimage};

use crate::account::AccountRef;
use crate::asset::Asset;
use crate::error::{LedgerError, LedgerReason};
use crate::hashing::KeyedMap;
use crate::id_table::IdTable;
use crate::operation::{Effect, Operation, Outcome};

/// An account's holding of one asset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holding {
    /// Units that can be transferred or locked.
    pub available: u64,
    /// Units under open locks from this account.
    pub locked: u64,
}

impl Holding {
    /// Available plus locked.
    pub fn total(&self) -> u128 {
        u128::from(self.available) + u128::from(self.locked)
    }
}

/// Where a lock stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HtlcStatus {
    /// Locked; claimable before expiry, refundable from expiry on.
    Open,
    /// Claimed by the beneficiary with this preimage.
    Claimed {
        /// Ledger time of the claim.
        at_ms: u64,
        /// The secret that opened it, now public on this ledger.
        preimage: Preimage,
    },
    /// Refunded to the locker.
    Refunded {
        /// Ledger time of the refund.
        at_ms: u64,
    },
}

/// A hashed timelock contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Htlc {
    /// The journal sequence number of the lock.
    pub lock_id: u64,
    /// The locker.
    pub from: AccountRef,
    /// The only account a claim credits.
    pub beneficiary: AccountRef,
    /// What is locked.
    pub asset: Asset,
    /// How many units.
    pub units: u64,
    /// SHA-256 of the secret.
    pub hashlock: Hashlock,
    /// Refundable from, and no longer claimable at, this ledger time.
    pub expiry_ms: u64,
    /// Open, claimed or refunded.
    pub status: HtlcStatus,
}

#[derive(Debug, Clone, Default)]
struct AccountState {
    frozen: bool,
    holdings: BTreeMap<Asset, Holding>,
}

impl AccountState {
    /// The holding of one asset (zero if none).
    fn holding(&self, asset: &Asset) -> Holding {
        self.holdings.get(asset).copied().unwrap_or_default()
    }

    /// Writes a holding; a zero holding is removed, so holdings list only
    /// what is held.
    fn set_holding(&mut self, asset: &Asset, holding: Holding) {
        if holding == Holding::default() {
            self.holdings.remove(asset);
        } else if let Some(held) = self.holdings.get_mut(asset) {
            *held = holding;
        } else {
            self.holdings.insert(asset.clone(), holding);
        }
    }
}

/// The accounts: found by id once per operation, then reached by position.
///
/// The index is a hash map with std's randomly keyed SipHash (account ids
/// come from requests, so a fixed hash could be made to collide); it is
/// looked up, never iterated. Whatever lists accounts goes through
/// [`Accounts::sorted`], in the order of their ids.
#[derive(Debug, Clone, Default)]
struct Accounts {
    index: KeyedMap<AccountRef, usize>,
    states: Vec<AccountState>,
}

impl Accounts {
    /// Where an account is.
    fn find(&self, id: &AccountRef) -> Option<usize> {
        self.index.get(id).copied()
    }

    fn get(&self, id: &AccountRef) -> Option<&AccountState> {
        self.find(id).map(|at| &self.states[at])
    }

    #[cfg(test)]
    fn get_mut(&mut self, id: &AccountRef) -> Option<&mut AccountState> {
        self.find(id).map(|at| &mut self.states[at])
    }

    fn contains_key(&self, id: &AccountRef) -> bool {
        self.index.contains_key(id)
    }

    /// Adds an account the caller found absent.
    fn insert_new(&mut self, id: AccountRef) {
        debug_assert!(!self.index.contains_key(&id), "account {id} exists already");
        self.index.insert(id, self.states.len());
        self.states.push(AccountState::default());
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    /// Every account, in the order of their ids.
    fn sorted(&self) -> Vec<(&AccountRef, &AccountState)> {
        let mut sorted: Vec<(&AccountRef, &AccountState)> = self
            .index
            .iter()
            .map(|(id, &at)| (id, &self.states[at]))
            .collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        sorted
    }
}

/// A lock as the state keeps it: the [`Htlc`], and where its two accounts
/// are (accounts are never removed, so a place never changes), so that a
/// claim or refund finds them without looking their ids up.
#[derive(Debug, Clone)]
struct Lock {
    htlc: Htlc,
    from_at: usize,
    beneficiary_at: usize,
}

impl std::ops::Deref for Lock {
    type Target = Htlc;
    fn deref(&self) -> &Htlc {
        &self.htlc
    }
}

impl std::ops::DerefMut for Lock {
    fn deref_mut(&mut self) -> &mut Htlc {
        &mut self.htlc
    }
}

/// Where an account an operation names is: its place among the state's
/// accounts, or, for an account the state does not have, its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place<'a> {
    /// The account's place (stable for the life of the state).
    At(usize),
    /// An account the state does not have.
    Unknown(&'a AccountRef),
}

/// The accounts an operation touches, each found once ([`LedgerState::places`]):
/// none, one, or two (the same one twice if an operation names it twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Places<'a> {
    pub first: Option<Place<'a>>,
    pub second: Option<Place<'a>>,
}

/// The whole state of one ledger, rebuilt by folding the journal.
///
/// Whatever iterates it — listings, the invariant check, a simulator
/// comparing two runs — sees the same order on every run: maps are ordered,
/// and accounts are listed by id.
#[derive(Debug, Clone, Default)]
pub struct LedgerState {
    accounts: Accounts,
    issued: BTreeMap<Asset, u128>,
    /// Boxed: a lock is some hundreds of bytes, and the table's growth
    /// then moves pointers, not locks.
    locks: IdTable<Box<Lock>>,
    /// `(expiry, lock id)` of every open lock: what a watcher refunds next.
    open_by_expiry: BTreeSet<(u64, u64)>,
}

fn refuse(reason: LedgerReason, message: String) -> Outcome {
    Outcome::Refused(LedgerError::new(reason, message))
}

/// Short-circuits a check inside `apply`.
macro_rules! ensure {
    ($condition:expr, $reason:expr, $($message:tt)+) => {
        if !$condition {
            return refuse($reason, format!($($message)+));
        }
    };
}

impl LedgerState {
    /// An empty ledger.
    pub fn new() -> LedgerState {
        LedgerState::default()
    }

    #[cfg(debug_assertions)]
    fn balance(&self, id: &AccountRef, asset: &Asset) -> Holding {
        self.accounts
            .get(id)
            .map(|a| a.holding(asset))
            .unwrap_or_default()
    }

    /// Applies one operation at ledger time `now_ms`; `seq` is its journal
    /// sequence number, which becomes the id of a new lock.
    pub fn apply(&mut self, seq: u64, operation: &Operation, now_ms: u64) -> Outcome {
        let places = self.places(operation);
        self.apply_at(seq, operation, now_ms, places)
    }

    /// The accounts an operation touches and where they are: those it
    /// names, or a claim's or refund's lock's two. Each id is looked up once
    /// here, and [`LedgerState::apply_at`] takes the places found.
    pub(crate) fn places<'a>(&self, operation: &'a Operation) -> Places<'a> {
        let place = |id: &'a AccountRef| match self.accounts.find(id) {
            Some(at) => Place::At(at),
            None => Place::Unknown(id),
        };
        let (first, second) = match operation {
            Operation::OpenAccount { account }
            | Operation::Issue { account, .. }
            | Operation::Freeze { account }
            | Operation::Unfreeze { account } => (Some(place(account)), None),
            Operation::Transfer { from, to, .. } => (Some(place(from)), Some(place(to))),
            Operation::Lock {
                from, beneficiary, ..
            } => (Some(place(from)), Some(place(beneficiary))),
            Operation::Claim { lock_id, .. } | Operation::Refund { lock_id } => {
                match self.locks.get(*lock_id) {
                    Some(lock) => (
                        Some(Place::At(lock.from_at)),
                        Some(Place::At(lock.beneficiary_at)),
                    ),
                    None => (None, None),
                }
            }
        };
        Places { first, second }
    }

    /// [`LedgerState::apply`] with the operation's accounts found already:
    /// `places` is what [`LedgerState::places`] just gave for `operation`.
    pub(crate) fn apply_at(
        &mut self,
        seq: u64,
        operation: &Operation,
        now_ms: u64,
        places: Places<'_>,
    ) -> Outcome {
        debug_assert_eq!(places, self.places(operation), "places of another state");
        // Conservation, checked per operation in debug builds (the whole-ledger
        // check is `check_invariants`): only an applied issue changes how much
        // of an asset the accounts it touches hold.
        #[cfg(debug_assertions)]
        let before = self.held_by_touched(operation);
        let outcome = self.apply_unchecked(seq, operation, now_ms, places);
        #[cfg(debug_assertions)]
        {
            let issued = match (operation, &outcome) {
                (Operation::Issue { units, .. }, Outcome::Applied(_)) => u128::from(*units),
                _ => 0,
            };
            debug_assert_eq!(
                before.map(|held| held + issued),
                self.held_by_touched(operation),
                "{} changed the units its accounts hold: {outcome:?}",
                operation.name()
            );
        }
        outcome
    }

    /// Units of the operation's asset held (available and locked) by the
    /// accounts it touches; `None` for operations without an asset.
    #[cfg(debug_assertions)]
    fn held_by_touched(&self, operation: &Operation) -> Option<u128> {
        let asset = match operation {
            Operation::Issue { asset, .. }
            | Operation::Transfer { asset, .. }
            | Operation::Lock { asset, .. } => asset.clone(),
            Operation::Claim { lock_id, .. } | Operation::Refund { lock_id } => {
                self.locks.get(*lock_id)?.asset.clone()
            }
            Operation::OpenAccount { .. }
            | Operation::Freeze { .. }
            | Operation::Unfreeze { .. } => return None,
        };
        let mut accounts = self.accounts_touched(operation);
        accounts.sort();
        accounts.dedup();
        Some(
            accounts
                .iter()
                .map(|account| self.balance(account, &asset).total())
                .sum(),
        )
    }

    fn apply_unchecked(
        &mut self,
        seq: u64,
        operation: &Operation,
        now_ms: u64,
        places: Places<'_>,
    ) -> Outcome {
        let first = places.first.and_then(|place| match place {
            Place::At(at) => Some(at),
            Place::Unknown(_) => None,
        });
        let second = places.second.and_then(|place| match place {
            Place::At(at) => Some(at),
            Place::Unknown(_) => None,
        });
        match operation {
            Operation::OpenAccount { account } => {
                ensure!(
                    first.is_none(),
                    LedgerReason::AccountExists,
                    "account {account} exists already"
                );
                self.accounts.insert_new(account.clone());
                Outcome::Applied(Effect::AccountOpened)
            }
            Operation::Issue {
                account,
                asset,
                units,
            } => self.issue((account, first), asset, *units),
            Operation::Transfer {
                from,
                to,
                asset,
                units,
            } => self.transfer((from, first), (to, second), asset, *units),
            Operation::Lock {
                from,
                beneficiary,
                asset,
                units,
                hashlock,
                expiry_ms,
            } => self.lock(
                seq,
                (from, first),
                (beneficiary, second),
                asset,
                *units,
                hashlock,
                *expiry_ms,
                now_ms,
            ),
            Operation::Claim { lock_id, preimage } => self.claim(*lock_id, preimage, now_ms),
            Operation::Refund { lock_id } => self.refund(*lock_id, now_ms),
            Operation::Freeze { account } | Operation::Unfreeze { account } => {
                let freeze = matches!(operation, Operation::Freeze { .. });
                let Some(state) = first.map(|at| &mut self.accounts.states[at]) else {
                    return refuse(
                        LedgerReason::AccountUnknown,
                        format!("no account {account} on this ledger"),
                    );
                };
                match (freeze, state.frozen) {
                    (true, true) => refuse(
                        LedgerReason::AccountFrozen,
                        format!("account {account} is frozen already"),
                    ),
                    (false, false) => refuse(
                        LedgerReason::AccountNotFrozen,
                        format!("account {account} is not frozen"),
                    ),
                    _ => {
                        state.frozen = freeze;
                        Outcome::Applied(if freeze {
                            Effect::Frozen
                        } else {
                            Effect::Unfrozen
                        })
                    }
                }
            }
        }
    }

    fn issue(
        &mut self,
        (account, at): (&AccountRef, Option<usize>),
        asset: &Asset,
        units: u64,
    ) -> Outcome {
        ensure!(
            units > 0,
            LedgerReason::AmountInvalid,
            "an issue must create at least one unit"
        );
        // A frozen account can still receive, new issues included.
        let Some(at) = at else {
            return refuse(
                LedgerReason::AccountUnknown,
                format!("no account {account} on this ledger"),
            );
        };
        let mut balance = self.accounts.states[at].holding(asset);
        let Some(available) = balance.available.checked_add(units) else {
            return refuse(
                LedgerReason::AmountOverflow,
                format!(
                    "issuing {} {asset} would overflow the balance of {account}",
                    asset.format_units(units)
                ),
            );
        };
        balance.available = available;
        self.accounts.states[at].set_holding(asset, balance);
        match self.issued.get_mut(asset) {
            Some(issued) => *issued += u128::from(units),
            None => {
                self.issued.insert(asset.clone(), u128::from(units));
            }
        }
        Outcome::Applied(Effect::Issued)
    }

    /// Checks that two distinct accounts exist and the sender is not frozen,
    /// and says where they are. A frozen account may still receive: a freeze
    /// stops an owner moving assets out, and a settlement in flight must
    /// complete or refund, never hang.
    fn check_pair(
        &self,
        (from, from_at): (&AccountRef, Option<usize>),
        (to, to_at): (&AccountRef, Option<usize>),
    ) -> Result<(usize, usize), Outcome> {
        // Two accounts the state has are one if their places are; ids are
        // compared only when one is unknown.
        let same = match (from_at, to_at) {
            (Some(from_at), Some(to_at)) => from_at == to_at,
            _ => from == to,
        };
        if same {
            return Err(refuse(
                LedgerReason::SameAccount,
                format!("{from} cannot deliver to itself"),
            ));
        }
        let unknown = |id: &AccountRef| {
            refuse(
                LedgerReason::AccountUnknown,
                format!("no account {id} on this ledger"),
            )
        };
        let from_at = from_at.ok_or_else(|| unknown(from))?;
        let to_at = to_at.ok_or_else(|| unknown(to))?;
        if self.accounts.states[from_at].frozen {
            return Err(refuse(
                LedgerReason::AccountFrozen,
                format!("account {from} is frozen"),
            ));
        }
        Ok((from_at, to_at))
    }

    /// The sender's balance, if it has `units` available to send or lock.
    fn available_for(
        &self,
        (from, from_at): (&AccountRef, usize),
        asset: &Asset,
        units: u64,
    ) -> Result<Holding, Outcome> {
        let balance = self.accounts.states[from_at].holding(asset);
        if balance.available < units {
            return Err(refuse(
                LedgerReason::InsufficientFunds,
                format!(
                    "{from} has {} {asset} available, {} needed",
                    asset.format_units(balance.available),
                    asset.format_units(units)
                ),
            ));
        }
        Ok(balance)
    }

    fn transfer(
        &mut self,
        (from, from_place): (&AccountRef, Option<usize>),
        (to, to_place): (&AccountRef, Option<usize>),
        asset: &Asset,
        units: u64,
    ) -> Outcome {
        ensure!(
            units > 0,
            LedgerReason::AmountInvalid,
            "a transfer must move at least one unit"
        );
        let (from_at, to_at) = match self.check_pair((from, from_place), (to, to_place)) {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        let mut source = match self.available_for((from, from_at), asset, units) {
            Ok(balance) => balance,
            Err(refusal) => return refusal,
        };
        let mut target = self.accounts.states[to_at].holding(asset);
        let Some(credited) = target.available.checked_add(units) else {
            return refuse(
                LedgerReason::AmountOverflow,
                format!("crediting {to} would overflow its {asset} balance"),
            );
        };
        source.available -= units;
        target.available = credited;
        self.accounts.states[from_at].set_holding(asset, source);
        self.accounts.states[to_at].set_holding(asset, target);
        Outcome::Applied(Effect::Transferred)
    }

    #[allow(clippy::too_many_arguments)] // the fields of one Lock operation
    fn lock(
        &mut self,
        seq: u64,
        (from, from_place): (&AccountRef, Option<usize>),
        (beneficiary, beneficiary_place): (&AccountRef, Option<usize>),
        asset: &Asset,
        units: u64,
        hashlock: &Hashlock,
        expiry_ms: u64,
        now_ms: u64,
    ) -> Outcome {
        ensure!(
            units > 0,
            LedgerReason::AmountInvalid,
            "a lock must hold at least one unit"
        );
        ensure!(
            expiry_ms > now_ms,
            LedgerReason::ExpiryInPast,
            "the expiry {expiry_ms} is not after the ledger time {now_ms}"
        );
        let (from_at, beneficiary_at) =
            match self.check_pair((from, from_place), (beneficiary, beneficiary_place)) {
                Ok(found) => found,
                Err(refusal) => return refusal,
            };
        let mut source = match self.available_for((from, from_at), asset, units) {
            Ok(balance) => balance,
            Err(refusal) => return refusal,
        };
        // locked <= total issued of the asset, which fits u64 per account balance rules.
        let Some(locked) = source.locked.checked_add(units) else {
            return refuse(
                LedgerReason::AmountOverflow,
                format!("locking would overflow the locked {asset} of {from}"),
            );
        };
        source.available -= units;
        source.locked = locked;
        self.accounts.states[from_at].set_holding(asset, source);
        // The journal sequence number is new, so no lock has this id yet.
        let fresh = self.open_by_expiry.insert((expiry_ms, seq));
        debug_assert!(
            fresh && !self.locks.contains(seq),
            "lock {seq} exists already"
        );
        self.locks.insert(
            seq,
            Box::new(Lock {
                htlc: Htlc {
                    lock_id: seq,
                    from: from.clone(),
                    beneficiary: beneficiary.clone(),
                    asset: asset.clone(),
                    units,
                    hashlock: hashlock.clone(),
                    expiry_ms,
                    status: HtlcStatus::Open,
                },
                from_at,
                beneficiary_at,
            }),
        );
        Outcome::Applied(Effect::Locked { lock_id: seq })
    }

    /// The lock, if it is open; else the refusal naming why not.
    fn open_lock(locks: &mut IdTable<Box<Lock>>, lock_id: u64) -> Result<&mut Lock, Outcome> {
        let lock = locks.get_mut(lock_id).ok_or_else(|| {
            refuse(
                LedgerReason::LockUnknown,
                format!("no lock {lock_id} on this ledger"),
            )
        })?;
        if lock.status != HtlcStatus::Open {
            return Err(refuse(
                LedgerReason::LockSettled,
                format!(
                    "lock {lock_id} was {} already",
                    if matches!(lock.status, HtlcStatus::Claimed { .. }) {
                        "claimed"
                    } else {
                        "refunded"
                    }
                ),
            ));
        }
        Ok(lock)
    }

    /// Moves an open lock's units out of the locker's locked balance into
    /// the available balance of its beneficiary (`to_beneficiary`) or of its
    /// locker, and records how the lock ended; or changes nothing. The lock
    /// is looked up once, and says where its accounts are: accounts and the
    /// expiry index are other fields, so they change while it is borrowed.
    fn release(
        accounts: &mut Accounts,
        open_by_expiry: &mut BTreeSet<(u64, u64)>,
        lock: &mut Lock,
        to_beneficiary: bool,
        status: HtlcStatus,
    ) -> Outcome {
        let (from_at, beneficiary_at) = (lock.from_at, lock.beneficiary_at);
        let to_at = if to_beneficiary {
            beneficiary_at
        } else {
            from_at
        };
        let htlc = &mut lock.htlc;
        let (asset, units) = (&htlc.asset, htlc.units);
        let to = if to_beneficiary {
            &htlc.beneficiary
        } else {
            &htlc.from
        };
        // One place is one account: credited to the locker's own, or to another.
        let same = to_at == from_at;
        let mut source = accounts.states[from_at].holding(asset);
        // An open lock's units are always in its locker's locked balance
        // (checked by check_invariants); anything else is a bug in this file.
        assert!(
            source.locked >= units,
            "lock {} holds {units} {asset} but {} has only {} locked",
            htlc.lock_id,
            htlc.from,
            source.locked
        );
        source.locked -= units;
        let mut target = if same {
            source
        } else {
            accounts.states[to_at].holding(asset)
        };
        let Some(available) = target.available.checked_add(units) else {
            // Nothing was written yet: a refused operation changes nothing.
            return refuse(
                LedgerReason::AmountOverflow,
                format!("crediting {to} would overflow its {asset} balance"),
            );
        };
        target.available = available;
        if !same {
            accounts.states[from_at].set_holding(asset, source);
        }
        accounts.states[to_at].set_holding(asset, target);
        let effect = if to_at == beneficiary_at {
            Effect::Claimed {
                beneficiary: to.clone(),
            }
        } else {
            Effect::Refunded { locker: to.clone() }
        };
        open_by_expiry.remove(&(htlc.expiry_ms, htlc.lock_id));
        htlc.status = status;
        Outcome::Applied(effect)
    }

    fn claim(&mut self, lock_id: u64, preimage: &Preimage, now_ms: u64) -> Outcome {
        let lock = match LedgerState::open_lock(&mut self.locks, lock_id) {
            Ok(lock) => lock,
            Err(refusal) => return refusal,
        };
        ensure!(
            now_ms < lock.expiry_ms,
            LedgerReason::LockExpired,
            "lock {lock_id} expired at {}; it is {now_ms} and it can only be refunded",
            lock.expiry_ms
        );
        ensure!(
            preimage.opens(&lock.hashlock),
            LedgerReason::PreimageMismatch,
            "the preimage does not hash to lock {lock_id}'s hashlock {}",
            lock.hashlock
        );
        LedgerState::release(
            &mut self.accounts,
            &mut self.open_by_expiry,
            lock,
            true,
            HtlcStatus::Claimed {
                at_ms: now_ms,
                preimage: preimage.clone(),
            },
        )
    }

    fn refund(&mut self, lock_id: u64, now_ms: u64) -> Outcome {
        let lock = match LedgerState::open_lock(&mut self.locks, lock_id) {
            Ok(lock) => lock,
            Err(refusal) => return refusal,
        };
        ensure!(
            now_ms >= lock.expiry_ms,
            LedgerReason::LockNotExpired,
            "lock {lock_id} expires at {}; it is {now_ms} and only a claim can move it before then",
            lock.expiry_ms
        );
        LedgerState::release(
            &mut self.accounts,
            &mut self.open_by_expiry,
            lock,
            false,
            HtlcStatus::Refunded { at_ms: now_ms },
        )
    }

    /// The accounts an operation touches, for the history index.
    pub fn accounts_touched(&self, operation: &Operation) -> Vec<AccountRef> {
        match operation {
            Operation::OpenAccount { account }
            | Operation::Issue { account, .. }
            | Operation::Freeze { account }
            | Operation::Unfreeze { account } => vec![account.clone()],
            Operation::Transfer { from, to, .. } => vec![from.clone(), to.clone()],
            Operation::Lock {
                from, beneficiary, ..
            } => vec![from.clone(), beneficiary.clone()],
            Operation::Claim { lock_id, .. } | Operation::Refund { lock_id } => self
                .locks
                .get(*lock_id)
                .map(|l| vec![l.from.clone(), l.beneficiary.clone()])
                .unwrap_or_default(),
        }
    }

    /// Where an account is among the state's accounts, if it has it.
    pub(crate) fn place_of(&self, id: &AccountRef) -> Option<usize> {
        self.accounts.find(id)
    }

    // ---- queries -------------------------------------------------------

    /// Whether the account exists.
    pub fn has_account(&self, id: &AccountRef) -> bool {
        self.accounts.contains_key(id)
    }

    /// Whether the account is frozen (`None` if it does not exist).
    pub fn is_frozen(&self, id: &AccountRef) -> Option<bool> {
        self.accounts.get(id).map(|a| a.frozen)
    }

    /// An account's balance of one asset (`None` if the account does not exist).
    pub fn balance_of(&self, id: &AccountRef, asset: &Asset) -> Option<Holding> {
        self.accounts.get(id).map(|a| a.holding(asset))
    }

    /// Everything an account holds, by asset (`None` if the account does not exist).
    pub fn holdings(&self, id: &AccountRef) -> Option<Vec<(Asset, Holding)>> {
        self.accounts.get(id).map(|a| {
            a.holdings
                .iter()
                .map(|(asset, b)| (asset.clone(), *b))
                .collect()
        })
    }

    /// Every holder of a security with its balance, sorted by account.
    pub fn register(&self, isin: &Isin) -> Vec<(AccountRef, Holding)> {
        let asset = Asset::Security(isin.clone());
        let mut holders: Vec<(AccountRef, Holding)> = self
            .accounts
            .sorted()
            .into_iter()
            .filter_map(|(id, account)| account.holdings.get(&asset).map(|b| (id.clone(), *b)))
            .collect();
        holders.sort_by(|a, b| a.0.cmp(&b.0));
        holders
    }

    /// A lock by id.
    pub fn htlc(&self, lock_id: u64) -> Option<&Htlc> {
        self.locks.get(lock_id).map(|lock| &lock.htlc)
    }

    /// Every lock, by id (the journal order of the locks).
    pub fn htlcs(&self) -> impl Iterator<Item = &Htlc> {
        self.locks.values().map(|lock| &lock.htlc)
    }

    /// The open locks, earliest expiry first (ties by lock id).
    pub fn open_locks(&self) -> impl Iterator<Item = &Htlc> {
        self.open_by_expiry
            .iter()
            .filter_map(|(_, lock_id)| self.locks.get(*lock_id).map(|lock| &lock.htlc))
    }

    /// Units of each asset ever issued.
    pub fn issued(&self) -> &BTreeMap<Asset, u128> {
        &self.issued
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Every account in the order of its place (the order accounts were
    /// opened in): its id, whether it is frozen, and its holdings.
    pub(crate) fn accounts_by_place(&self) -> Vec<(&AccountRef, bool, &BTreeMap<Asset, Holding>)> {
        let mut ids: Vec<Option<&AccountRef>> = vec![None; self.accounts.len()];
        for (id, &at) in &self.accounts.index {
            ids[at] = Some(id);
        }
        ids.into_iter()
            .zip(&self.accounts.states)
            .filter_map(|(id, state)| id.map(|id| (id, state.frozen, &state.holdings)))
            .collect()
    }

    /// The ids of the open locks, in increasing order.
    pub(crate) fn open_lock_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.open_by_expiry.iter().map(|&(_, id)| id).collect();
        ids.sort_unstable();
        ids
    }

    /// The locks that may differ from what they were after `base` entries:
    /// those open then (`open_at_base`, increasing ids, each below `base`),
    /// whatever became of them, and every lock made since, in id order with
    /// the places of their accounts. Every other lock was closed by then,
    /// and a closed lock never changes.
    pub(crate) fn locks_changed_since(
        &self,
        base: u64,
        open_at_base: &[u64],
    ) -> Vec<(&Htlc, usize, usize)> {
        fn with_places(lock: &Lock) -> (&Htlc, usize, usize) {
            (&lock.htlc, lock.from_at, lock.beneficiary_at)
        }
        let mut locks: Vec<(&Htlc, usize, usize)> = open_at_base
            .iter()
            .filter_map(|&id| self.locks.get(id).map(|lock| with_places(lock)))
            .collect();
        debug_assert_eq!(locks.len(), open_at_base.len(), "locks are never removed");
        locks.extend(self.locks.values_from(base).map(|lock| with_places(lock)));
        locks
    }

    /// A state from what [`LedgerState::accounts_by_place`],
    /// [`LedgerState::issued`] and [`LedgerState::locks_changed_since`] give:
    /// accounts take their places in the order given; each lock names its
    /// two accounts by place. `Err` says what does not fit (a repeated
    /// account, a place that no account has, lock ids out of order, a
    /// lock's accounts not at its places). Conservation is the caller's to
    /// check ([`LedgerState::check_invariants`]).
    pub(crate) fn from_parts(
        accounts: Vec<(AccountRef, bool, BTreeMap<Asset, Holding>)>,
        issued: BTreeMap<Asset, u128>,
        locks: Vec<(Htlc, usize, usize)>,
    ) -> Result<LedgerState, String> {
        let mut state = LedgerState {
            issued,
            ..LedgerState::default()
        };
        for (id, frozen, holdings) in accounts {
            if state.accounts.contains_key(&id) {
                return Err(format!("account {id} appears twice"));
            }
            if let Some((asset, _)) = holdings.iter().find(|(_, h)| **h == Holding::default()) {
                return Err(format!("account {id} lists an empty holding of {asset}"));
            }
            state.accounts.insert_new(id);
            if let Some(account) = state.accounts.states.last_mut() {
                account.frozen = frozen;
                account.holdings = holdings;
            }
        }
        let mut last_id = None;
        for (htlc, from_at, beneficiary_at) in locks {
            if last_id.is_some_and(|last| last >= htlc.lock_id) {
                return Err(format!("lock {} is out of order", htlc.lock_id));
            }
            last_id = Some(htlc.lock_id);
            let place_is = |at: usize, id: &AccountRef| state.accounts.find(id) == Some(at);
            if !place_is(from_at, &htlc.from) || !place_is(beneficiary_at, &htlc.beneficiary) {
                return Err(format!(
                    "lock {}'s accounts are not at the places it names",
                    htlc.lock_id
                ));
            }
            if htlc.status == HtlcStatus::Open {
                state.open_by_expiry.insert((htlc.expiry_ms, htlc.lock_id));
            }
            state.locks.insert(
                htlc.lock_id,
                Box::new(Lock {
                    htlc,
                    from_at,
                    beneficiary_at,
                }),
            );
        }
        Ok(state)
    }

    /// Checks the ledger's conservation laws; `Err` names the first broken one.
    /// Per asset, issued = available + locked over all accounts; each
    /// account's locked balance equals the sum of its open locks.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut held: BTreeMap<&Asset, u128> = BTreeMap::new();
        let mut locked_by_lock: BTreeMap<(&AccountRef, &Asset), u128> = BTreeMap::new();
        for lock in self.locks.values().filter(|l| l.status == HtlcStatus::Open) {
            *locked_by_lock.entry((&lock.from, &lock.asset)).or_default() += u128::from(lock.units);
        }
        for (id, account) in self.accounts.sorted() {
            for (asset, balance) in &account.holdings {
                if *balance == Holding::default() {
                    return Err(format!("{id} keeps an empty {asset} holding"));
                }
                *held.entry(asset).or_default() += balance.total();
                let expected = locked_by_lock.remove(&(id, asset)).unwrap_or(0);
                if u128::from(balance.locked) != expected {
                    return Err(format!(
                        "{id} has {} {asset} locked but its open locks hold {expected}",
                        balance.locked
                    ));
                }
            }
        }
        if let Some(((id, asset), units)) = locked_by_lock.into_iter().next() {
            return Err(format!(
                "open locks hold {units} {asset} of {id}, which has none locked"
            ));
        }
        for (asset, issued) in &self.issued {
            let total = held.remove(asset).unwrap_or(0);
            if total != *issued {
                return Err(format!("{asset}: {issued} issued but {total} held"));
            }
        }
        if let Some((asset, total)) = held.into_iter().next() {
            return Err(format!("{asset}: {total} held but none issued"));
        }
        let open: BTreeSet<(u64, u64)> = self
            .locks
            .values()
            .filter(|l| l.status == HtlcStatus::Open)
            .map(|l| (l.expiry_ms, l.lock_id))
            .collect();
        if open != self.open_by_expiry {
            return Err(format!(
                "the expiry index lists {} open locks but {} are open",
                self.open_by_expiry.len(),
                open.len()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000_000;

    fn account(text: &str) -> AccountRef {
        text.parse().expect("account")
    }

    fn yen() -> Asset {
        Asset::parse("JPY").expect("asset")
    }

    /// A and B open, A issued 100 yen and locked 30 of it to B (lock 3).
    fn sound() -> LedgerState {
        let (a, b) = (account("DEUTDEFF/A"), account("CHASUS33/B"));
        let mut state = LedgerState::new();
        let operations = [
            Operation::OpenAccount { account: a.clone() },
            Operation::OpenAccount { account: b.clone() },
            Operation::Issue {
                account: a.clone(),
                asset: yen(),
                units: 100,
            },
            Operation::Lock {
                from: a,
                beneficiary: b,
                asset: yen(),
                units: 30,
                hashlock: Preimage::from_bytes([7; 32]).hashlock(),
                expiry_ms: T0 + 1,
            },
        ];
        for (seq, operation) in operations.iter().enumerate() {
            assert!(state.apply(seq as u64, operation, T0).is_applied());
        }
        assert_eq!(state.check_invariants(), Ok(()));
        state
    }

    fn holding_of_a(state: &mut LedgerState) -> &mut Holding {
        state
            .accounts
            .get_mut(&account("DEUTDEFF/A"))
            .and_then(|a| a.holdings.get_mut(&yen()))
            .expect("A holds yen")
    }

    fn broken(break_it: impl FnOnce(&mut LedgerState)) -> String {
        let mut state = sound();
        break_it(&mut state);
        state
            .check_invariants()
            .expect_err("the broken state is reported")
    }

    /// A state rebuilt from its own parts is the same state; a lock whose
    /// locker or beneficiary is not at the place it names is refused.
    #[test]
    fn a_state_rebuilt_from_its_parts_is_the_same_and_misplaced_locks_are_refused() {
        let state = sound();
        let parts = || {
            let accounts: Vec<(AccountRef, bool, BTreeMap<Asset, Holding>)> = state
                .accounts_by_place()
                .into_iter()
                .map(|(id, frozen, holdings)| (id.clone(), frozen, holdings.clone()))
                .collect();
            // Since the first entry: every lock.
            let locks: Vec<(Htlc, usize, usize)> = state
                .locks_changed_since(0, &[])
                .into_iter()
                .map(|(htlc, from_at, beneficiary_at)| (htlc.clone(), from_at, beneficiary_at))
                .collect();
            (accounts, locks)
        };
        let (accounts, locks) = parts();
        assert_eq!(locks.len(), 1, "the sound state has its lock");
        let rebuilt =
            LedgerState::from_parts(accounts, state.issued().clone(), locks).expect("fits");
        assert!(rebuilt.check_invariants().is_ok());
        assert_eq!(
            rebuilt.htlcs().collect::<Vec<_>>(),
            state.htlcs().collect::<Vec<_>>()
        );
        assert_eq!(
            rebuilt.open_locks().collect::<Vec<_>>(),
            state.open_locks().collect::<Vec<_>>()
        );
        for (from_wrong, beneficiary_wrong) in [(true, false), (false, true)] {
            let (accounts, mut locks) = parts();
            let (_, from_at, beneficiary_at) = &mut locks[0];
            if from_wrong {
                *from_at = 1 - *from_at;
            }
            if beneficiary_wrong {
                *beneficiary_at = 1 - *beneficiary_at;
            }
            let refused = LedgerState::from_parts(accounts, state.issued().clone(), locks)
                .err()
                .unwrap_or_default();
            assert!(refused.contains("not at the places"), "{refused:?}");
        }
    }

    #[test]
    fn an_extra_issued_unit_is_reported() {
        let problem = broken(|s| *s.issued.get_mut(&yen()).expect("issued") += 1);
        assert!(problem.contains("101 issued but 100 held"), "{problem}");
        let problem = broken(|s| holding_of_a(s).available += 1);
        assert!(problem.contains("100 issued but 101 held"), "{problem}");
        let problem = broken(|s| {
            s.issued.clear();
        });
        assert!(problem.contains("held but none issued"), "{problem}");
    }

    #[test]
    fn a_locked_balance_without_its_lock_is_reported() {
        // More locked than the open locks hold (issued kept equal to held).
        let problem = broken(|s| {
            holding_of_a(s).locked += 5;
            *s.issued.get_mut(&yen()).expect("issued") += 5;
        });
        assert!(
            problem.contains("35 JPY locked but its open locks hold 30"),
            "{problem}"
        );
        // A locked balance whose lock was settled behind its back.
        let problem = broken(|s| {
            if let Some(lock) = s.locks.get_mut(3) {
                lock.status = HtlcStatus::Refunded { at_ms: T0 + 1 };
            }
            s.open_by_expiry.clear();
        });
        assert!(
            problem.contains("locked but its open locks hold 0"),
            "{problem}"
        );
        // An open lock whose units are in nobody's locked balance.
        let problem = broken(|s| {
            let a = holding_of_a(s);
            a.available += a.locked;
            a.locked = 0;
        });
        assert!(problem.contains("open locks hold 30"), "{problem}");
    }

    #[test]
    fn an_open_lock_missing_from_the_expiry_index_is_reported() {
        let problem = broken(|s| {
            s.open_by_expiry.clear();
        });
        assert!(
            problem.contains("lists 0 open locks but 1 are open"),
            "{problem}"
        );
        // A stale entry for a lock no longer open, or one under a wrong expiry.
        let problem = broken(|s| {
            s.open_by_expiry.insert((T0 + 9, 42));
        });
        assert!(problem.contains("expiry index"), "{problem}");
        let problem = broken(|s| {
            s.open_by_expiry.clear();
            s.open_by_expiry.insert((T0 + 2, 3));
        });
        assert!(problem.contains("expiry index"), "{problem}");
    }

    #[test]
    fn an_empty_holding_kept_is_reported() {
        let problem = broken(|s| {
            if let Some(b) = s.accounts.get_mut(&account("CHASUS33/B")) {
                b.holdings.insert(yen(), Holding::default());
            }
        });
        assert!(problem.contains("keeps an empty JPY holding"), "{problem}");
    }

    #[test]
    #[should_panic(expected = "holds 30 JPY but DEUTDEFF/A has only 0 locked")]
    fn releasing_a_lock_whose_units_are_not_locked_is_a_bug_that_stops() {
        let mut state = sound();
        let a = holding_of_a(&mut state);
        a.available += a.locked;
        a.locked = 0;
        let _ = state.apply(
            4,
            &Operation::Claim {
                lock_id: 3,
                preimage: Preimage::from_bytes([7; 32]),
            },
            T0,
        );
    }
}
