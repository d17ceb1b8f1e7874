//! The ledger half of a market adapter: what a gateway's core and its
//! watcher ask of a market's ledger, the same whether the ledger locks
//! natively ([`crate::native_ledger`]) or through a custodian's escrow
//! ([`crate::custody`]).
//!
//! # Shape
//!
//! [`LedgerSide`] is a small synchronous trait, in the way of LDK's
//! `KVStoreSync`: every call is a short blocking step (at most a few fsyncs)
//! on a ledger the caller owns (`&mut self` to change it). A gateway's pure
//! core never calls it: it emits [`LedgerCommand`]s and takes
//! [`CommandResult`]s back as inputs, so a test or the simulator steps the
//! core and the ledger side by hand, with no async runtime. A node shell
//! owns the ledger side on a thread of its own (or tokio's blocking pool)
//! and passes commands and results over channels; no fsync ever runs on an
//! async worker thread.
//!
//! # Outcomes
//!
//! Every call fails with a [`LedgerFailure`]: `Refused` is final (the same
//! key always gets it), `OutcomeUnknown` means repeat the command with the
//! same idempotency key, `Unavailable` means nothing was done and the ledger
//! needs its operator. Both ledger sides journal or record a refusal against
//! its key, so a retry after the cause was fixed gets the same refusal; a
//! new attempt needs a new key.
//!
//! # From the wire and back
//!
//! [`LockOrder::from_request`] turns an ISM/1 `LockRequest` into an order
//! (ISM-1 §6.4: the expiry is taken exactly, never rounded); [`Locked`],
//! [`Claimed`] and [`Refunded`] become the ISM/1 receipts of §6.5–§6.7.

use std::fmt;

use isthmus_ledger::operation::Operation;
use isthmus_ledger::state::{Holding, Htlc};
use isthmus_ledger::{
    AccountRef, Asset, IdempotencyKey, JournalPosition, LedgerFailure, LedgerReason,
};
use isthmus_spec::body::{ClaimReceipt, JournalRef, Leg, LockReceipt, LockRequest, RefundReceipt};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Counter, Hashlock, Preimage, Reference};
use isthmus_spec::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Prefix of lock ids: `HTLC-<journal sequence of the lock>`.
pub const LOCK_ID_PREFIX: &str = "HTLC-";

/// Most events one [`LedgerSide::events_since`] call returns.
pub const MAX_EVENTS_PER_PAGE: usize = 1_000;

/// A ledger's id for one lock, written `HTLC-<n>` where `n` is the journal
/// sequence number of the entry that locked it (on a custody ledger: of the
/// delivery into escrow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockId(u64);

impl LockId {
    /// The id of the lock journaled at `seq`.
    pub fn of_entry(seq: u64) -> LockId {
        LockId(seq)
    }

    /// The journal sequence number of the lock.
    pub fn seq(self) -> u64 {
        self.0
    }

    /// Parses a lock id; only the canonical spelling names a lock (`HTLC-007`
    /// and `HTLC-+7` are not lock 7).
    pub fn parse(text: &str) -> Result<LockId, LedgerFailure> {
        text.strip_prefix(LOCK_ID_PREFIX)
            .and_then(|digits| digits.parse::<u64>().ok())
            .map(LockId)
            .filter(|id| id.to_string() == text)
            .ok_or_else(|| {
                LedgerFailure::refused(
                    LedgerReason::LockUnknown,
                    format!("\"{text}\" is not a lock id of this ledger"),
                )
            })
    }

    /// The id as an ISM/1 reference, for receipts.
    pub fn reference(self) -> Reference {
        // "HTLC-" and at most 20 digits: always a valid reference.
        match Reference::parse(&self.to_string()) {
            Ok(reference) => reference,
            Err(rejection) => unreachable!("lock id {self} is not a reference: {rejection}"),
        }
    }
}

impl fmt::Display for LockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{LOCK_ID_PREFIX}{}", self.0)
    }
}

impl Serialize for LockId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LockId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        LockId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What a gateway asks its ledger to lock (DESIGN.md §3 step 4, ISM-1 §6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockOrder {
    /// Unique per lock; repeating an order with the same key returns the first result.
    pub key: IdempotencyKey,
    /// The locker, refunded after expiry.
    pub from: AccountRef,
    /// The only account a claim may credit.
    pub beneficiary: AccountRef,
    /// What is locked.
    pub asset: Asset,
    /// How much, in integer units of the asset ([`Asset::units_of`]).
    pub units: u64,
    /// SHA-256 of the secret.
    pub hashlock: Hashlock,
    /// Ledger time (Unix ms) from which the lock can be refunded and no longer claimed.
    pub expiry_ms: u64,
}

impl LockOrder {
    /// The order an ISM/1 `LockRequest` asks of the ledger of `market`.
    ///
    /// The rule for time (ISM-1 §6.4): a ledger counts milliseconds, and an
    /// expiry is taken exactly or not at all — a request whose `expires_at`
    /// has digits below the millisecond is refused with `EXPIRY_PRECISION`,
    /// never rounded, because a rounded expiry would differ from the
    /// proposal's and the relay would rightly not accept the receipt (§6.5).
    /// The amount is converted to the asset's integer units and refused
    /// (`AMOUNT_INVALID`) if it is finer than them.
    pub fn from_request(
        request: &LockRequest,
        market: &Mic,
        key: IdempotencyKey,
    ) -> Result<LockOrder, LedgerFailure> {
        if &request.market != market {
            return Err(LedgerFailure::refused(
                LedgerReason::MarketMismatch,
                format!(
                    "the lock request is for the ledger of {}; this is the ledger of {market}",
                    request.market
                ),
            ));
        }
        let (asset, units) = match (&request.securities, &request.cash) {
            (Some(securities), None) => {
                let asset = Asset::Security(securities.isin.clone());
                let units = asset.units_of(securities.quantity.value())?;
                (asset, units)
            }
            (None, Some(cash)) => {
                let asset = Asset::Cash(cash.currency.clone());
                let units = asset.units_of(&cash.amount)?;
                (asset, units)
            }
            // Decoding refuses this already (ASSET_CHOICE); a request built in code might not.
            _ => {
                return Err(LedgerFailure::refused(
                    LedgerReason::AssetInvalid,
                    "a lock request names exactly one of securities and cash",
                ))
            }
        };
        Ok(LockOrder {
            key,
            from: request.from.clone(),
            beneficiary: request.beneficiary.clone(),
            asset,
            units,
            hashlock: request.hashlock.clone(),
            expiry_ms: expiry_ms_of(&request.expires_at)?,
        })
    }
}

/// A timestamp as ledger milliseconds, exactly (ISM-1 §6.4).
pub fn expiry_ms_of(expires_at: &Timestamp) -> Result<u64, LedgerFailure> {
    let nanos = expires_at.unix_nanos();
    if nanos % 1_000_000 != 0 {
        return Err(LedgerFailure::refused(
            LedgerReason::ExpiryPrecision,
            format!("the expiry {expires_at} has digits below the millisecond, which the ledger's clock cannot record; send it on a whole millisecond"),
        ));
    }
    u64::try_from(nanos / 1_000_000).map_err(|_| {
        LedgerFailure::refused(
            LedgerReason::ExpiryInPast,
            format!("the expiry {expires_at} is before 1970"),
        )
    })
}

/// Ledger milliseconds as an ISM/1 timestamp.
pub fn timestamp_of(ms: u64) -> Result<Timestamp, LedgerFailure> {
    Timestamp::from_unix_millis(ms).ok_or_else(|| {
        LedgerFailure::refused(
            LedgerReason::ExpiryPrecision,
            format!("ledger time {ms} ms is after the year 9999, which ISM/1 cannot write"),
        )
    })
}

/// Claims a lock with its secret for its beneficiary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimOrder {
    /// Unique per claim.
    pub key: IdempotencyKey,
    /// The lock.
    pub lock_id: LockId,
    /// The secret.
    pub preimage: Preimage,
}

/// Returns an expired lock to its locker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOrder {
    /// Unique per refund.
    pub key: IdempotencyKey,
    /// The lock.
    pub lock_id: LockId,
}

/// A ledger's proof that it locked (ISM-1 §6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locked {
    /// The lock.
    pub lock_id: LockId,
    /// The hashlock recorded.
    pub hashlock: Hashlock,
    /// The expiry recorded, ledger milliseconds.
    pub expiry_ms: u64,
    /// The journal entry of the lock.
    pub journal: JournalRef,
}

impl Locked {
    /// The ISM/1 LockReceipt for one leg of a settlement.
    pub fn receipt(
        &self,
        settlement_id: Reference,
        leg: Leg,
    ) -> Result<LockReceipt, LedgerFailure> {
        Ok(LockReceipt {
            settlement_id,
            leg,
            lock_id: self.lock_id.reference(),
            hashlock: self.hashlock.clone(),
            expires_at: timestamp_of(self.expiry_ms)?,
            journal: self.journal.clone(),
        })
    }
}

/// A ledger's proof that it claimed a lock for its beneficiary (ISM-1 §6.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimed {
    /// The lock.
    pub lock_id: LockId,
    /// The hashlock opened.
    pub hashlock: Hashlock,
    /// The secret that opened it.
    pub preimage: Preimage,
    /// The journal entry of the claim.
    pub journal: JournalRef,
}

impl Claimed {
    /// The ISM/1 ClaimReceipt for one leg of a settlement.
    pub fn receipt(&self, settlement_id: Reference, leg: Leg) -> ClaimReceipt {
        ClaimReceipt {
            settlement_id,
            leg,
            lock_id: self.lock_id.reference(),
            hashlock: self.hashlock.clone(),
            preimage: self.preimage.clone(),
            journal: self.journal.clone(),
        }
    }
}

/// A ledger's proof that an expired lock went back to its locker (ISM-1 §6.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refunded {
    /// The lock.
    pub lock_id: LockId,
    /// The journal entry of the refund.
    pub journal: JournalRef,
}

impl Refunded {
    /// The ISM/1 RefundReceipt for one leg of a settlement.
    pub fn receipt(&self, settlement_id: Reference, leg: Leg) -> RefundReceipt {
        RefundReceipt {
            settlement_id,
            leg,
            lock_id: self.lock_id.reference(),
            journal: self.journal.clone(),
        }
    }
}

/// The ISM/1 journal reference of a position in `market`'s journal.
pub fn journal_ref(market: &Mic, position: &JournalPosition) -> Result<JournalRef, LedgerFailure> {
    // A ledger never journals past MAX_JOURNAL_ENTRIES, so this holds.
    let sequence = Counter::new(position.seq).ok_or_else(|| {
        LedgerFailure::unavailable(
            LedgerReason::JournalFull,
            format!("journal sequence {} is beyond 2^63 - 1", position.seq),
        )
    })?;
    Ok(JournalRef {
        market: market.clone(),
        sequence,
        entry_hash: position.entry_hash.clone(),
    })
}

/// What happened to a lock, as a watcher sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockChange {
    /// The lock was made.
    Locked {
        /// Its expiry, ledger milliseconds.
        expiry_ms: u64,
    },
    /// The lock was claimed: its secret is now public.
    Claimed {
        /// The secret that opened it.
        preimage: Preimage,
    },
    /// The lock went back to its locker.
    Refunded,
}

/// One change to one lock, at a position of the ledger's event cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockEvent {
    /// The event's position: pass `cursor + 1` to read what follows.
    pub cursor: u64,
    /// The lock.
    pub lock_id: LockId,
    /// The lock's hashlock, by which a watcher finds the settlement.
    pub hashlock: Hashlock,
    /// What happened.
    pub change: LockChange,
    /// Ledger time of the change, Unix milliseconds.
    pub at_ms: u64,
    /// Where the ledger journaled it; `None` while a custody claim or refund
    /// is committed but not yet delivered out of escrow (the event is
    /// announced at once, so that a claim's secret is public as soon as the
    /// claim is irrevocable; the journal reference is filled in on delivery).
    pub journal: Option<JournalRef>,
}

/// A page of lock events and where to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<LockEvent>,
    /// The cursor to pass next time; equal to the one passed when nothing is new.
    pub next: u64,
}

/// A ledger command, as a gateway's core emits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerCommand {
    /// Lock a leg.
    Lock(LockOrder),
    /// Claim a lock.
    Claim(ClaimOrder),
    /// Refund a lock.
    Refund(RefundOrder),
}

impl LedgerCommand {
    /// `lock`, `claim` or `refund`.
    pub fn name(&self) -> &'static str {
        match self {
            LedgerCommand::Lock(_) => "lock",
            LedgerCommand::Claim(_) => "claim",
            LedgerCommand::Refund(_) => "refund",
        }
    }

    /// The command's idempotency key (ISM-1 §9.3).
    pub fn key(&self) -> &IdempotencyKey {
        match self {
            LedgerCommand::Lock(order) => &order.key,
            LedgerCommand::Claim(order) => &order.key,
            LedgerCommand::Refund(order) => &order.key,
        }
    }

    /// The operation of an `isthmus-ledger` that carries it out natively.
    pub fn operation(&self) -> Operation {
        match self {
            LedgerCommand::Lock(order) => Operation::Lock {
                asset: order.asset.clone(),
                beneficiary: order.beneficiary.clone(),
                expiry_ms: order.expiry_ms,
                from: order.from.clone(),
                hashlock: order.hashlock.clone(),
                units: order.units,
            },
            LedgerCommand::Claim(order) => Operation::Claim {
                lock_id: order.lock_id.seq(),
                preimage: order.preimage.clone(),
            },
            LedgerCommand::Refund(order) => Operation::Refund {
                lock_id: order.lock_id.seq(),
            },
        }
    }
}

/// What a ledger command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerDone {
    /// Locked.
    Locked(Locked),
    /// Claimed.
    Claimed(Claimed),
    /// Refunded.
    Refunded(Refunded),
}

/// A command's result, handed back to the core as an input.
pub type CommandResult = Result<LedgerDone, LedgerFailure>;

/// The ledger half of an adapter. Refusals carry the ledger's reason codes
/// (`INSUFFICIENT_FUNDS`, `LOCK_EXPIRED`, `PREIMAGE_MISMATCH`, …), the same
/// whether the ledger locks natively or through a custodian's escrow, and in
/// the same order of checks.
pub trait LedgerSide: Send {
    /// The market whose ledger this is.
    fn market(&self) -> &Mic;

    /// Locks an asset under a hashlock.
    fn lock(&mut self, order: &LockOrder) -> Result<Locked, LedgerFailure>;

    /// Claims a lock with its secret for its beneficiary, before its expiry.
    fn claim(&mut self, order: &ClaimOrder) -> Result<Claimed, LedgerFailure>;

    /// Returns a lock to its locker, at or after its expiry.
    fn refund(&mut self, order: &RefundOrder) -> Result<Refunded, LedgerFailure>;

    /// What an account holds, available and under open locks, by asset.
    fn holdings(&self, account: &AccountRef) -> Result<Vec<(Asset, Holding)>, LedgerFailure>;

    /// A lock and where it stands (open, claimed with its preimage, or
    /// refunded); `None` if the ledger has no such lock.
    fn lock_status(&self, lock_id: LockId) -> Result<Option<Htlc>, LedgerFailure>;

    /// The open locks, earliest expiry first (ties by lock id), at most `max`.
    fn open_locks(&self, max: usize) -> Result<Vec<Htlc>, LedgerFailure>;

    /// Lock events from position `cursor` on, at most `max` (and at most
    /// [`MAX_EVENTS_PER_PAGE`]) events: how a watcher sees a claim on this
    /// ledger and learns its secret.
    fn events_since(&self, cursor: u64, max: usize) -> Result<EventPage, LedgerFailure>;

    /// The ledger's own time, Unix milliseconds: what it will compare an
    /// expiry with. Never goes backwards.
    fn now_ms(&self) -> Result<u64, LedgerFailure>;

    /// Runs one command of a gateway's core.
    fn execute(&mut self, command: &LedgerCommand) -> CommandResult {
        match command {
            LedgerCommand::Lock(order) => self.lock(order).map(LedgerDone::Locked),
            LedgerCommand::Claim(order) => self.claim(order).map(LedgerDone::Claimed),
            LedgerCommand::Refund(order) => self.refund(order).map(LedgerDone::Refunded),
        }
    }

    /// Runs several commands, in order; their results in the same order,
    /// each what [`LedgerSide::execute`] would have given. A ledger that can
    /// make several operations durable at once does so (one sync for the
    /// batch); by default they run one by one.
    fn execute_batch(&mut self, commands: &[LedgerCommand]) -> Vec<CommandResult> {
        commands
            .iter()
            .map(|command| self.execute(command))
            .collect()
    }
}
