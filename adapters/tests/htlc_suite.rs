//! One HTLC suite, two ledgers: every scenario runs against the native
//! ledger side (a ledger that locks) and the custody ledger side (escrow on a
//! ledger that only transfers), and the two must give identical outcomes —
//! the same results, refusals for the same reasons and of the same kind, the
//! same watcher's view and the same holdings (DESIGN.md §4). No async
//! runtime anywhere: the ledger side is a synchronous state machine a test
//! steps by hand.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use isthmus_adapters::adapter::{ComposedAdapter, Dialect, MarketAdapter};
use isthmus_adapters::custody::CustodyLedger;
use isthmus_adapters::ledger_side::{
    CommandResult, LedgerCommand, LedgerDone, LedgerSide, LockChange, LockId, LockOrder,
};
use isthmus_adapters::native_ledger::NativeLedger;
use isthmus_ledger::state::{Holding, HtlcStatus};
use isthmus_ledger::{Asset, FailureKind, LedgerFailure, LedgerReason, Operation};
use isthmus_spec::ids::Preimage;
use isthmus_store::log::MemoryLogFiles;
use isthmus_store::{ManualClock, MemoryStore, SledStore};

type Custody = CustodyLedger<NativeLedger<MemoryLogFiles>, MemoryStore>;

/// One market on one kind of ledger side, with the stores it runs on, so a
/// scenario can crash and restart it.
struct World {
    clock: ManualClock,
    market_store: MemoryLogFiles,
    records: MemoryStore,
    side: Side,
}

enum Side {
    Native(Box<NativeLedger<MemoryLogFiles>>),
    Custody(Box<Custody>),
}

/// What an account holds, by asset.
type Holdings = Vec<(Asset, Holding)>;

#[derive(Clone, Copy)]
enum Kind {
    Native,
    Custody,
}

impl World {
    fn new(kind: Kind) -> World {
        let clock = ManualClock::new(T0);
        let market_store = MemoryLogFiles::new();
        let records = MemoryStore::new();
        let side = match kind {
            Kind::Native => Side::Native(Box::new(market(&clock, market_store.clone()))),
            Kind::Custody => Side::Custody(Box::new(custody_over(
                &clock,
                market_store.clone(),
                records.clone(),
            ))),
        };
        World {
            clock,
            market_store,
            records,
            side,
        }
    }

    fn side(&mut self) -> &mut dyn LedgerSide {
        match &mut self.side {
            Side::Native(native) => native.as_mut(),
            Side::Custody(custody) => custody.as_mut(),
        }
    }

    /// The market's own ledger, where an operator opens or freezes accounts.
    fn underlying(&mut self) -> &mut NativeLedger<MemoryLogFiles> {
        match &mut self.side {
            Side::Native(native) => native,
            Side::Custody(custody) => custody.underlying_mut(),
        }
    }

    /// A power loss: every unflushed write of both stores is gone, and the
    /// side is reopened from what is durable.
    fn crash_and_restart(&mut self) {
        self.market_store.crash();
        self.records.crash();
        self.market_store.fail_syncs(false);
        self.records.fail_flushes(false);
        let ledger = reopened(&self.clock, self.market_store.clone());
        self.side = match self.side {
            Side::Native(_) => Side::Native(Box::new(ledger)),
            Side::Custody(_) => Side::Custody(Box::new(
                CustodyLedger::open(
                    mic(),
                    account(ESCROW),
                    ledger,
                    self.records.clone(),
                    Box::new(self.clock.clone()),
                )
                .unwrap(),
            )),
        };
    }

    fn holdings(&mut self) -> (Holdings, Holdings) {
        let side = self.side();
        (
            side.holdings(&account(SELLER)).unwrap(),
            side.holdings(&account(BUYER)).unwrap(),
        )
    }

    fn lock(&mut self, order: Result<LockOrder, LedgerFailure>) -> Result<LockId, LedgerFailure> {
        self.side().lock(&order?).map(|locked| locked.lock_id)
    }
}

/// One step's result: done, or the kind and reason of the failure.
type Step = Result<(), (FailureKind, LedgerReason)>;

fn step<T>(result: Result<T, LedgerFailure>) -> Step {
    result.map(|_| ()).map_err(|failure| {
        assert!(!failure.error().message.is_empty(), "{failure:?}");
        (failure.kind(), failure.reason())
    })
}

/// What a scenario observed: each step's result and both parties' final holdings.
type Trace = (Vec<Step>, Holdings, Holdings);

fn trace(world: &mut World, steps: Vec<Step>) -> Trace {
    let (seller, buyer) = world.holdings();
    (steps, seller, buyer)
}

fn both(scenario: fn(&mut World) -> Trace) -> (Trace, Trace) {
    (
        scenario(&mut World::new(Kind::Native)),
        scenario(&mut World::new(Kind::Custody)),
    )
}

use FailureKind::{OutcomeUnknown, Refused};
use LedgerReason::*;

/// Lock, a wrong secret, the right one, then every way to end the lock again.
fn lock_and_claim(world: &mut World) -> Trace {
    let mut steps = Vec::new();
    let lock = world.lock(order("lock-1", "400", EXPIRY)).unwrap();
    let (seller, _) = world.holdings();
    assert_eq!(
        seller[0].1,
        Holding {
            available: 600_000_000,
            locked: 400_000_000
        },
        "locked, not moved"
    );
    let side = world.side();
    let wrong = Preimage::from_bytes([9; 32]);
    steps.push(step(side.claim(&claim("claim-bad", lock, wrong))));
    let first = side.claim(&claim("claim-1", lock, secret()));
    steps.push(step(first.clone()));
    let again = side.claim(&claim("claim-1", lock, secret())).unwrap();
    assert_eq!(
        Ok(again),
        first,
        "a repeated claim returns the first receipt"
    );
    steps.push(step(side.claim(&claim("claim-2", lock, secret()))));
    world.clock.set(EXPIRY + 1);
    let side = world.side();
    steps.push(step(side.refund(&refund("refund-1", lock))));
    steps.push(step(side.claim(&claim(
        "claim-x",
        LockId::of_entry(999_999),
        secret(),
    ))));
    steps.push(step(LockId::parse("not-a-lock")));
    trace(world, steps)
}

#[test]
fn lock_and_claim_is_the_same_on_both_ledgers() {
    let (native, custody) = both(lock_and_claim);
    assert_eq!(
        native.0,
        vec![
            Err((Refused, PreimageMismatch)),
            Ok(()),
            Err((Refused, LockSettled)),
            Err((Refused, LockSettled)),
            Err((Refused, LockUnknown)),
            Err((Refused, LockUnknown))
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

/// The expiry boundary: no refund before it, no claim at it, refund at it.
fn expiry_boundary(world: &mut World) -> Trace {
    let mut steps = Vec::new();
    let lock = world.lock(order("lock-1", "100", EXPIRY)).unwrap();
    steps.push(step(world.side().refund(&refund("refund-early", lock))));
    world.clock.set(EXPIRY - 1);
    steps.push(step(world.side().refund(&refund("refund-early-2", lock))));
    world.clock.set(EXPIRY);
    let side = world.side();
    steps.push(step(side.claim(&claim("claim-late", lock, secret()))));
    steps.push(step(side.refund(&refund("refund-1", lock))));
    steps.push(step(side.refund(&refund("refund-1", lock))));
    steps.push(step(side.claim(&claim("claim-after", lock, secret()))));
    trace(world, steps)
}

#[test]
fn expiry_boundary_is_the_same_on_both_ledgers() {
    let (native, custody) = both(expiry_boundary);
    assert_eq!(
        native.0,
        vec![
            Err((Refused, LockNotExpired)),
            Err((Refused, LockNotExpired)),
            Err((Refused, LockExpired)),
            Ok(()),
            Ok(()),
            Err((Refused, LockSettled))
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

/// Orders the ledger must refuse, and idempotent repeats.
fn refusals(world: &mut World) -> Trace {
    let outsider_to = LockOrder {
        beneficiary: account(OUTSIDER),
        ..order("outsider", "1", EXPIRY).unwrap()
    };
    let outsider_from = LockOrder {
        from: account(OUTSIDER),
        ..order("outsider-2", "1", EXPIRY).unwrap()
    };
    let to_self = LockOrder {
        beneficiary: account(SELLER),
        ..order("self", "1", EXPIRY).unwrap()
    };
    let mut steps = vec![
        step(world.lock(order("too-much", "1000.000001", EXPIRY))),
        step(world.lock(order("past", "1", T0))),
        step(world.lock(Ok(to_self))),
        step(world.lock(Ok(outsider_to))),
        step(world.lock(Ok(outsider_from))),
        step(world.lock(order("decimals", "1.0000001", EXPIRY))),
        step(world.lock(order("bad key", "1", EXPIRY))),
        step(world.lock(order("nothing", "0", EXPIRY))),
    ];
    let side = world.side();
    let first = side.lock(&order("lock-a", "10", EXPIRY).unwrap()).unwrap();
    let repeat = side.lock(&order("lock-a", "10", EXPIRY).unwrap()).unwrap();
    assert_eq!(
        first, repeat,
        "a repeated lock order returns the first receipt"
    );
    steps.push(step(world.lock(order("lock-a", "11", EXPIRY))));
    trace(world, steps)
}

/// A key reused for another kind of operation: the sentence tells a person
/// what the key was used for.
#[test]
fn a_reused_key_names_what_it_was_used_for_on_both_ledgers() {
    for kind in [Kind::Native, Kind::Custody] {
        let mut world = World::new(kind);
        let lock = world.lock(order("lock-1", "1", EXPIRY)).unwrap();
        world.side().claim(&claim("k", lock, secret())).unwrap();
        let other = world.lock(order("k", "1", EXPIRY)).unwrap_err();
        assert_eq!(other.reason(), IdempotencyKeyReused);
        assert!(
            other.error().message.contains("for a different claim"),
            "{other}"
        );
        world.clock.set(EXPIRY);
        let refund_with_lock_key = world.side().refund(&refund("lock-1", lock)).unwrap_err();
        assert!(
            refund_with_lock_key
                .error()
                .message
                .contains("for a different lock"),
            "{refund_with_lock_key}"
        );
    }
}

#[test]
fn refusals_are_the_same_on_both_ledgers() {
    let (native, custody) = both(refusals);
    assert_eq!(
        native.0,
        vec![
            Err((Refused, InsufficientFunds)),
            Err((Refused, ExpiryInPast)),
            Err((Refused, SameAccount)),
            Err((Refused, AccountUnknown)),
            Err((Refused, AccountUnknown)),
            Err((Refused, AmountInvalid)),
            Err((Refused, IdempotencyKeyInvalid)),
            Err((Refused, AmountInvalid)),
            Err((Refused, IdempotencyKeyReused)),
        ]
    );
    assert_eq!(native, custody);
}

/// A refusal is final for its key: fixing the cause does not change the
/// answer to the same key; a new key is a new request.
fn retry_after_the_cause_is_fixed(world: &mut World) -> Trace {
    let mut steps = Vec::new();
    let to_outsider = |key: &str| LockOrder {
        beneficiary: account(OUTSIDER),
        ..order(key, "5", EXPIRY).unwrap()
    };
    steps.push(step(world.lock(Ok(to_outsider("probe")))));
    world
        .underlying()
        .execute("open-outsider", Operation::open_account(OUTSIDER).unwrap())
        .unwrap();
    steps.push(step(world.lock(Ok(to_outsider("probe")))));
    let lock = world.lock(Ok(to_outsider("probe-2")));
    steps.push(step(lock.clone()));
    let lock = lock.unwrap();
    // The same for a refund asked too early.
    steps.push(step(world.side().refund(&refund("early", lock))));
    world.clock.set(EXPIRY);
    steps.push(step(world.side().refund(&refund("early", lock))));
    steps.push(step(world.side().refund(&refund("on-time", lock))));
    trace(world, steps)
}

#[test]
fn a_refusal_stays_final_on_both_ledgers() {
    let (native, custody) = both(retry_after_the_cause_is_fixed);
    assert_eq!(
        native.0,
        vec![
            Err((Refused, AccountUnknown)),
            Err((Refused, AccountUnknown)),
            Ok(()),
            Err((Refused, LockNotExpired)),
            Err((Refused, LockNotExpired)),
            Ok(()),
        ]
    );
    assert_eq!(native, custody);
}

/// What a watcher sees: lock status, the open locks by expiry, the event
/// cursor with the secret of a claim, and the ledger's own time.
fn watcher_view(world: &mut World) -> Trace {
    let late = world.lock(order("late", "10", EXPIRY + 5_000)).unwrap();
    let early = world.lock(order("early", "20", EXPIRY)).unwrap();
    let also_early = world.lock(order("also-early", "30", EXPIRY)).unwrap();
    let side = world.side();
    let open: Vec<LockId> = side
        .open_locks(10)
        .unwrap()
        .iter()
        .map(|l| LockId::of_entry(l.lock_id))
        .collect();
    assert_eq!(
        open,
        vec![early, also_early, late],
        "earliest expiry first, ties by id"
    );
    assert_eq!(side.open_locks(1).unwrap().len(), 1, "bounded");
    let status = side.lock_status(early).unwrap().unwrap();
    assert_eq!(
        (
            status.status,
            status.units,
            status.expiry_ms,
            status.hashlock
        ),
        (HtlcStatus::Open, 20_000_000, EXPIRY, hashlock())
    );
    assert_eq!(side.lock_status(LockId::of_entry(999)).unwrap(), None);

    // The watcher reads the cursor page by page from the start.
    let first = side.events_since(0, 2).unwrap();
    assert_eq!(first.events.len(), 2);
    let rest = side.events_since(first.next, 100).unwrap();
    let seen: Vec<(LockId, LockChange)> = first
        .events
        .iter()
        .chain(&rest.events)
        .map(|e| (e.lock_id, e.change.clone()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                late,
                LockChange::Locked {
                    expiry_ms: EXPIRY + 5_000
                }
            ),
            (early, LockChange::Locked { expiry_ms: EXPIRY }),
            (also_early, LockChange::Locked { expiry_ms: EXPIRY }),
        ]
    );
    let quiet = side.events_since(rest.next, 100).unwrap();
    assert!(quiet.events.is_empty());
    assert_eq!(quiet.next, rest.next, "nothing new: the cursor stays");

    // A claim appears on the cursor with its secret, and leaves the open locks.
    world.clock.advance(1_000);
    let side = world.side();
    side.claim(&claim("claim-early", early, secret())).unwrap();
    let claimed = side.events_since(quiet.next, 100).unwrap();
    assert_eq!(claimed.events.len(), 1);
    let event = &claimed.events[0];
    assert_eq!(
        (event.lock_id, &event.change, &event.hashlock, event.at_ms),
        (
            early,
            &LockChange::Claimed { preimage: secret() },
            &hashlock(),
            T0 + 1_000
        )
    );
    assert_eq!(
        event.journal.as_ref().map(|j| j.market.clone()),
        Some(mic()),
        "a delivered claim's event says where the ledger journaled it"
    );
    assert_eq!(
        side.lock_status(early).unwrap().unwrap().status,
        HtlcStatus::Claimed {
            at_ms: T0 + 1_000,
            preimage: secret()
        }
    );
    assert_eq!(side.open_locks(10).unwrap().len(), 2);

    // A refund appears on the cursor too, and empties the open list of that lock.
    world.clock.set(EXPIRY + 5_000);
    let side = world.side();
    side.refund(&refund("refund-late", late)).unwrap();
    let refunded = side.events_since(claimed.next, 100).unwrap();
    assert_eq!(
        refunded
            .events
            .iter()
            .map(|e| (e.lock_id, e.change.clone(), e.at_ms))
            .collect::<Vec<_>>(),
        vec![(late, LockChange::Refunded, EXPIRY + 5_000)]
    );
    assert_eq!(side.open_locks(10).unwrap().len(), 1);
    world.clock.set(T0 + 1_000);
    let side = world.side();

    // Ledger time follows the clock but never goes back.
    assert_eq!(side.now_ms().unwrap(), EXPIRY + 5_000);
    world.clock.set(T0 - 50_000);
    assert_eq!(world.side().now_ms().unwrap(), EXPIRY + 5_000);
    let step = step(world.lock(order("after-clock-jump", "1", EXPIRY + 4_000)));
    trace(world, vec![step])
}

#[test]
fn a_watcher_sees_the_same_on_both_ledgers() {
    let (native, custody) = both(watcher_view);
    assert_eq!(
        native.0,
        vec![Err((Refused, ExpiryInPast))],
        "an expiry before the ledger's time is refused even when the machine's clock went back"
    );
    assert_eq!(native, custody);
}

/// A crash while the lock's write is being made durable: the caller hears
/// "outcome unknown", and after a restart the same request with the same key
/// locks exactly once.
fn crash_during_a_lock(world: &mut World) -> Trace {
    let mut steps = Vec::new();
    world.market_store.fail_syncs(true);
    steps.push(step(world.lock(order("lock-1", "5", EXPIRY))));
    world.crash_and_restart();
    steps.push(step(world.lock(order("lock-1", "5", EXPIRY))));
    steps.push(step(world.lock(order("lock-1", "5", EXPIRY))));
    let open = world.side().open_locks(10).unwrap();
    assert_eq!(open.len(), 1, "locked exactly once");
    trace(world, steps)
}

#[test]
fn a_crash_during_a_lock_ends_the_same_on_both_ledgers() {
    let (native, custody) = both(crash_during_a_lock);
    assert_eq!(
        native.0,
        vec![Err((OutcomeUnknown, StoreFailed)), Ok(()), Ok(())]
    );
    assert_eq!(native, custody);
    assert_eq!(
        native.1[0].1,
        Holding {
            available: 995_000_000,
            locked: 5_000_000
        }
    );
}

/// A crash loses the lock's write, and by the time the lock is asked for
/// again its expiry has passed: refused, on both ledgers, and nothing is locked.
fn crash_then_expiry(world: &mut World) -> Trace {
    let mut steps = Vec::new();
    world.market_store.fail_syncs(true);
    steps.push(step(world.lock(order("lock-1", "5", EXPIRY))));
    world.clock.set(EXPIRY);
    world.crash_and_restart();
    steps.push(step(world.lock(order("lock-1", "5", EXPIRY))));
    assert!(world.side().open_locks(10).unwrap().is_empty());
    trace(world, steps)
}

#[test]
fn a_lock_lost_in_a_crash_and_expired_meanwhile_is_refused_on_both_ledgers() {
    let (native, custody) = both(crash_then_expiry);
    assert_eq!(
        native.0,
        vec![
            Err((OutcomeUnknown, StoreFailed)),
            Err((Refused, ExpiryInPast))
        ]
    );
    assert_eq!(native, custody);
    assert_eq!(native.1[0].1.available, 1_000_000_000, "nothing locked");
}

/// A crash while a claim's write is being made durable: after a restart the
/// claim, repeated with its key, completes; nothing is credited twice.
fn crash_during_a_claim(world: &mut World) -> Trace {
    let mut steps = Vec::new();
    let lock = world.lock(order("lock-1", "7", EXPIRY)).unwrap();
    world.market_store.fail_syncs(true);
    steps.push(step(world.side().claim(&claim("claim-1", lock, secret()))));
    world.crash_and_restart();
    steps.push(step(world.side().claim(&claim("claim-1", lock, secret()))));
    steps.push(step(world.side().claim(&claim("claim-1", lock, secret()))));
    trace(world, steps)
}

#[test]
fn a_crash_during_a_claim_ends_the_same_on_both_ledgers() {
    let (native, custody) = both(crash_during_a_claim);
    assert_eq!(
        native.0,
        vec![Err((OutcomeUnknown, StoreFailed)), Ok(()), Ok(())]
    );
    assert_eq!(native, custody);
    assert_eq!(
        native.2[0].1,
        Holding {
            available: 7_000_000,
            locked: 0
        },
        "the buyer is credited once"
    );
}

/// A gateway core in miniature: it emits ledger commands and takes their
/// results back as inputs; the test is the only driver — no runtime, no
/// thread, no socket.
struct MiniCore {
    lock_id: Option<LockId>,
    done: Vec<&'static str>,
}

impl MiniCore {
    fn next_command(&self) -> Option<LedgerCommand> {
        match (self.lock_id, self.done.last()) {
            (None, None) => Some(LedgerCommand::Lock(
                order("core-lock", "3", EXPIRY).unwrap(),
            )),
            (Some(lock_id), Some(&"locked")) => {
                Some(LedgerCommand::Claim(claim("core-claim", lock_id, secret())))
            }
            _ => None,
        }
    }

    fn on_result(&mut self, result: CommandResult) {
        match result {
            Ok(LedgerDone::Locked(locked)) => {
                self.lock_id = Some(locked.lock_id);
                self.done.push("locked");
            }
            Ok(LedgerDone::Claimed(claimed)) => {
                assert!(claimed.preimage.opens(&claimed.hashlock));
                self.done.push("claimed");
            }
            other => panic!("unexpected result {other:?}"),
        }
    }
}

#[test]
fn a_core_steps_either_ledger_side_by_commands_and_results() {
    for kind in [Kind::Native, Kind::Custody] {
        let mut world = World::new(kind);
        let mut core = MiniCore {
            lock_id: None,
            done: Vec::new(),
        };
        while let Some(command) = core.next_command() {
            let result = world.side().execute(&command);
            core.on_result(result);
        }
        assert_eq!(core.done, ["locked", "claimed"]);
        let (_, buyer) = world.holdings();
        assert_eq!(buyer[0].1.available, 3_000_000);
    }
}

#[test]
fn custody_records_survive_a_restart_on_sled() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let market_store = MemoryLogFiles::new();
    let lock = {
        let mut custody = CustodyLedger::open(
            mic(),
            account(ESCROW),
            market(&clock, market_store.clone()),
            SledStore::open(dir.path()).unwrap(),
            Box::new(clock.clone()),
        )
        .unwrap();
        custody
            .lock(&order("lock-1", "5", EXPIRY).unwrap())
            .unwrap()
    };
    // Restart both: the market ledger from its store, the custody adapter from its sled records.
    let mut custody = custody_reopened(&clock, market_store, SledStore::open(dir.path()).unwrap());
    let seller = custody.holdings(&account(SELLER)).unwrap();
    assert_eq!(
        seller[0].1,
        Holding {
            available: 995_000_000,
            locked: 5_000_000
        }
    );
    let claimed = custody
        .claim(&claim("claim-1", lock.lock_id, secret()))
        .unwrap();
    assert_eq!(claimed.lock_id, lock.lock_id);
    let buyer = custody.holdings(&account(BUYER)).unwrap();
    assert_eq!(
        buyer[0].1,
        Holding {
            available: 5_000_000,
            locked: 0
        }
    );
}

#[test]
fn an_interrupted_claim_completes_after_restart() {
    let clock = ManualClock::new(T0);
    let market_store = MemoryLogFiles::new();
    let records = MemoryStore::new();
    let mut custody = custody_over(&clock, market_store.clone(), records.clone());
    let lock = custody
        .lock(&order("lock-1", "7", EXPIRY).unwrap())
        .unwrap();
    // The market ledger fails while the claim's delivery is under way: the
    // custodian has already recorded that it is claiming, so nothing is lost.
    market_store.fail_writes(true);
    let failed = custody.claim(&claim("claim-1", lock.lock_id, secret()));
    assert_eq!(
        failed.err().map(|e| e.reason()),
        Some(LedgerReason::StoreFailed)
    );
    drop(custody);
    market_store.fail_writes(false);
    // Past expiry now: a fresh claim would be refused, but the announced one still completes.
    clock.set(EXPIRY + 1);
    let mut custody = custody_reopened(&clock, market_store, records);
    let buyer = custody.holdings(&account(BUYER)).unwrap();
    assert_eq!(
        buyer[0].1,
        Holding {
            available: 7_000_000,
            locked: 0
        },
        "recovery finished the claim"
    );
    let repeat = custody
        .claim(&claim("claim-1", lock.lock_id, secret()))
        .unwrap();
    assert_eq!(repeat.lock_id, lock.lock_id);
    assert_eq!(
        custody
            .refund(&refund("refund-1", lock.lock_id))
            .err()
            .map(|e| e.reason()),
        Some(LedgerReason::LockSettled)
    );
}

#[test]
fn a_composed_adapter_translates_and_locks() {
    let clock = ManualClock::new(T0);
    let mut adapter =
        ComposedAdapter::new(mic(), Dialect::Ism, market(&clock, MemoryLogFiles::new()));
    assert_eq!(adapter.market().as_str(), "XNYS");
    let body = adapter
        .inbound(br#"{"kind":"Error","body":{"code":"MALFORMED_JSON","text":"Bad input."}}"#)
        .unwrap()
        .value;
    let written = adapter.outbound(&body).unwrap().value;
    assert_eq!(adapter.inbound(&written).unwrap().value, body);
    let lock = adapter
        .ledger_mut()
        .lock(&order("lock-1", "1", EXPIRY).unwrap())
        .unwrap();
    assert_eq!(lock.journal.market.as_str(), "XNYS");
    assert_eq!(adapter.ledger().market().as_str(), "XNYS");
    assert!(adapter
        .ledger_mut()
        .claim(&claim("claim-1", lock.lock_id, secret()))
        .is_ok());
}
