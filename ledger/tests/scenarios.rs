//! Scenarios of the ledger's rules: hashed timelocks, idempotency, freezing,
//! queries, durability on sled, tamper detection and store failures.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_ledger::{
    verify_files, verify_journal, AccountRef, Asset, Effect, FailureKind, Ledger, LedgerFailure,
    LedgerReason, Operation, Request,
};
use isthmus_spec::ids::Hex32;
use isthmus_store::log::format::parse_segment;
use isthmus_store::log::segment_name;
use isthmus_store::log::{DiskLogFiles, LogFiles, MemoryLogFiles};
use isthmus_store::ManualClock;

const SELLER: &str = "549300ISTHMUSSELL015/SAFE-SELLER-01";
const BUYER: &str = "549300ISTHMUSBUYR064/SAFE-BUYER-01";
const APPLE: &str = "US0378331005";
const T0: u64 = 1_795_597_200_000;

fn secret() -> [u8; 32] {
    *Hex32::sha256_of(b"scenario secret").bytes()
}

fn hashlock() -> [u8; 32] {
    *Hex32::sha256_of(&secret()).bytes()
}

struct World<S: LogFiles> {
    ledger: Ledger<S>,
    clock: ManualClock,
    next_key: u64,
}

impl<S: LogFiles> World<S> {
    fn new(store: S) -> World<S> {
        let clock = ManualClock::new(T0);
        let ledger = Ledger::open(store, Box::new(clock.clone())).expect("opens");
        let mut world = World {
            ledger,
            clock,
            next_key: 0,
        };
        world.ok(Operation::open_account(SELLER).unwrap());
        world.ok(Operation::open_account(BUYER).unwrap());
        world.ok(Operation::issue(SELLER, APPLE, "1000").unwrap());
        world
    }

    /// Executes an operation under a fresh key: its effect, or the refusal
    /// the ledger journaled (any other failure fails the test).
    fn run(&mut self, operation: Operation) -> Result<Effect, LedgerReason> {
        self.next_key += 1;
        let result = self
            .ledger
            .execute(Request::new(format!("k-{}", self.next_key), operation));
        self.ledger
            .state()
            .check_invariants()
            .expect("invariants hold after every operation");
        match result {
            Ok(receipt) => {
                assert!(!receipt.replayed);
                Ok(receipt.effect)
            }
            Err(LedgerFailure::Refused {
                error,
                journaled: Some(position),
            }) => {
                assert!(!error.message.is_empty());
                assert_eq!(position.seq + 1, self.ledger.journal_len());
                Err(error.reason)
            }
            Err(other) => panic!("not durable and journaled: {other}"),
        }
    }

    fn ok(&mut self, operation: Operation) -> Effect {
        match self.run(operation) {
            Ok(effect) => effect,
            Err(reason) => panic!("refused: {reason}"),
        }
    }

    fn refused(&mut self, operation: Operation) -> LedgerReason {
        match self.run(operation) {
            Err(reason) => reason,
            Ok(effect) => panic!("applied: {effect:?}"),
        }
    }

    fn lock(&mut self, amount: &str, expiry_ms: u64) -> u64 {
        match self
            .ok(Operation::lock(SELLER, BUYER, APPLE, amount, &hashlock(), expiry_ms).unwrap())
        {
            Effect::Locked { lock_id } => lock_id,
            other => panic!("{other:?}"),
        }
    }

    fn balance(&self, account: &str) -> (u64, u64) {
        let b = self
            .ledger
            .balance(&account.parse().unwrap(), &Asset::parse(APPLE).unwrap())
            .unwrap();
        (b.available, b.locked)
    }
}

fn units(n: u64) -> u64 {
    n * 1_000_000
}

#[test]
fn lock_then_claim_credits_only_the_beneficiary() {
    let mut w = World::new(MemoryLogFiles::new());
    let lock_id = w.lock("400", T0 + 60_000);
    assert_eq!(w.balance(SELLER), (units(600), units(400)));
    assert_eq!(
        w.refused(Operation::claim(lock_id, &[9; 32]).unwrap()),
        LedgerReason::PreimageMismatch
    );
    assert_eq!(
        w.ok(Operation::claim(lock_id, &secret()).unwrap()),
        Effect::Claimed {
            beneficiary: BUYER.parse().unwrap()
        }
    );
    assert_eq!(w.balance(SELLER), (units(600), 0));
    assert_eq!(w.balance(BUYER), (units(400), 0));
    // A lock ends once.
    assert_eq!(
        w.refused(Operation::claim(lock_id, &secret()).unwrap()),
        LedgerReason::LockSettled
    );
    w.clock.advance(120_000);
    assert_eq!(
        w.refused(Operation::Refund { lock_id }),
        LedgerReason::LockSettled
    );
}

#[test]
fn expiry_separates_claims_from_refunds() {
    let mut w = World::new(MemoryLogFiles::new());
    let lock_id = w.lock("100", T0 + 60_000);
    assert_eq!(
        w.refused(Operation::Refund { lock_id }),
        LedgerReason::LockNotExpired
    );
    w.clock.set(T0 + 59_999);
    assert_eq!(
        w.refused(Operation::Refund { lock_id }),
        LedgerReason::LockNotExpired
    );
    w.clock.set(T0 + 60_000);
    assert_eq!(
        w.refused(Operation::claim(lock_id, &secret()).unwrap()),
        LedgerReason::LockExpired
    );
    assert_eq!(
        w.ok(Operation::Refund { lock_id }),
        Effect::Refunded {
            locker: SELLER.parse().unwrap()
        }
    );
    assert_eq!(w.balance(SELLER), (units(1000), 0));
    assert_eq!(
        w.refused(Operation::claim(lock_id, &secret()).unwrap()),
        LedgerReason::LockSettled
    );
    assert_eq!(
        w.refused(Operation::Refund { lock_id: 9_999 }),
        LedgerReason::LockUnknown
    );
    assert_eq!(
        w.refused(Operation::lock(SELLER, BUYER, APPLE, "1", &hashlock(), T0).unwrap()),
        LedgerReason::ExpiryInPast
    );
}

#[test]
fn ledger_time_never_goes_back() {
    let mut w = World::new(MemoryLogFiles::new());
    let lock_id = w.lock("1", T0 + 10);
    w.clock.set(T0 + 10);
    w.ok(Operation::Refund { lock_id });
    w.clock.set(T0 - 1_000_000); // the machine's clock jumps back
    let receipt = w
        .ledger
        .execute(Request::new(
            "late",
            Operation::open_account("DEUTDEFF/LATE").unwrap(),
        ))
        .unwrap();
    assert_eq!(receipt.time_ms, T0 + 10);
}

#[test]
fn frozen_accounts_cannot_lock_or_send_but_can_receive() {
    let mut w = World::new(MemoryLogFiles::new());
    let lock_id = w.lock("10", T0 + 60_000);
    w.ok(Operation::Freeze {
        account: SELLER.parse().unwrap(),
    });
    assert_eq!(
        w.refused(Operation::Freeze {
            account: SELLER.parse().unwrap()
        }),
        LedgerReason::AccountFrozen
    );
    assert_eq!(
        w.refused(Operation::lock(SELLER, BUYER, APPLE, "1", &hashlock(), T0 + 60_000).unwrap()),
        LedgerReason::AccountFrozen
    );
    assert_eq!(
        w.refused(Operation::transfer(SELLER, BUYER, APPLE, "1").unwrap()),
        LedgerReason::AccountFrozen
    );
    // A frozen account can still receive.
    w.ok(Operation::issue(BUYER, APPLE, "1").unwrap());
    w.ok(Operation::transfer(BUYER, SELLER, APPLE, "0.5").unwrap());
    // A settlement in flight still completes.
    w.ok(Operation::Freeze {
        account: BUYER.parse().unwrap(),
    });
    w.ok(Operation::claim(lock_id, &secret()).unwrap());
    assert_eq!(w.balance(BUYER), (units(10) + units(1) / 2, 0));
    w.ok(Operation::Unfreeze {
        account: SELLER.parse().unwrap(),
    });
    assert_eq!(
        w.refused(Operation::Unfreeze {
            account: SELLER.parse().unwrap()
        }),
        LedgerReason::AccountNotFrozen
    );
    w.ok(Operation::Unfreeze {
        account: BUYER.parse().unwrap(),
    });
    w.ok(Operation::transfer(SELLER, BUYER, APPLE, "1").unwrap());
}

#[test]
fn bad_requests_are_refused_with_reasons() {
    let mut w = World::new(MemoryLogFiles::new());
    assert_eq!(
        w.refused(Operation::open_account(SELLER).unwrap()),
        LedgerReason::AccountExists
    );
    assert_eq!(
        w.refused(Operation::issue("DEUTDEFF/NOBODY", APPLE, "1").unwrap()),
        LedgerReason::AccountUnknown
    );
    assert_eq!(
        w.refused(Operation::transfer(SELLER, SELLER, APPLE, "1").unwrap()),
        LedgerReason::SameAccount
    );
    assert_eq!(
        w.refused(Operation::transfer(SELLER, BUYER, APPLE, "1000.000001").unwrap()),
        LedgerReason::InsufficientFunds
    );
    assert_eq!(
        w.refused(Operation::Issue {
            account: SELLER.parse().unwrap(),
            asset: Asset::parse(APPLE).unwrap(),
            units: u64::MAX
        }),
        LedgerReason::AmountOverflow
    );
    assert_eq!(
        w.refused(Operation::Issue {
            account: SELLER.parse().unwrap(),
            asset: Asset::parse(APPLE).unwrap(),
            units: 0
        }),
        LedgerReason::AmountInvalid
    );
    let bad_key = w.ledger.execute(Request::new(
        "has space",
        Operation::open_account("DEUTDEFF/X").unwrap(),
    ));
    assert_eq!(
        bad_key.as_ref().err().map(LedgerFailure::reason),
        Some(LedgerReason::IdempotencyKeyInvalid)
    );
    assert!(matches!(
        bad_key,
        Err(LedgerFailure::Refused {
            journaled: None,
            ..
        })
    ));
    let too_many = w.ledger.execute_batch(vec![
        Request::new(
            "x",
            Operation::open_account("DEUTDEFF/X").unwrap()
        );
        10_001
    ]);
    assert_eq!(
        too_many.as_ref().err().map(LedgerFailure::reason),
        Some(LedgerReason::BatchTooLarge)
    );
    assert_eq!(too_many.err().map(|e| e.kind()), Some(FailureKind::Refused));
}

#[test]
fn repeating_a_request_returns_the_first_receipt_and_changes_nothing() {
    let mut w = World::new(MemoryLogFiles::new());
    let op = Operation::transfer(SELLER, BUYER, APPLE, "5").unwrap();
    let first = w.ledger.execute(Request::new("pay-1", op.clone())).unwrap();
    let len = w.ledger.journal_len();
    let again = w.ledger.execute(Request::new("pay-1", op.clone())).unwrap();
    assert!(again.replayed && !first.replayed);
    assert_eq!(
        (again.seq, &again.entry_hash, again.time_ms, &again.effect),
        (first.seq, &first.entry_hash, first.time_ms, &first.effect)
    );
    assert_eq!(w.ledger.journal_len(), len);
    assert_eq!(w.balance(BUYER), (units(5), 0));
    let other = w.ledger.execute(Request::new(
        "pay-1",
        Operation::transfer(SELLER, BUYER, APPLE, "6").unwrap(),
    ));
    assert_eq!(
        other.as_ref().err().map(LedgerFailure::reason),
        Some(LedgerReason::IdempotencyKeyReused)
    );
    assert!(other.is_err_and(|e| e.is_final()));
    // Within one batch, too.
    let results = w
        .ledger
        .execute_batch(vec![
            Request::new("pay-2", op.clone()),
            Request::new("pay-2", op),
        ])
        .unwrap();
    assert!(results[1].as_ref().unwrap().replayed);
    assert_eq!(w.balance(BUYER), (units(10), 0));
}

#[test]
fn queries_answer_holdings_register_history_and_locks() {
    let mut w = World::new(MemoryLogFiles::new());
    w.ok(Operation::issue(BUYER, "USD", "250000.00").unwrap());
    let lock_id = w.lock("100", T0 + 60_000);
    w.ok(Operation::transfer(SELLER, BUYER, APPLE, "50").unwrap());
    let holdings = w.ledger.holdings(&BUYER.parse().unwrap()).unwrap();
    assert_eq!(holdings.len(), 2);
    let register = w
        .ledger
        .register(&isthmus_spec::ident::Isin::parse(APPLE).unwrap())
        .unwrap();
    assert_eq!(
        register.iter().map(|(_, b)| b.total()).sum::<u128>(),
        u128::from(units(1000))
    );
    assert_eq!(register.len(), 2);
    let history = w
        .ledger
        .history(&SELLER.parse().unwrap(), 0, usize::MAX)
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|e| e.operation.name())
            .collect::<Vec<_>>(),
        ["open_account", "issue", "lock", "transfer"]
    );
    let htlc = w.ledger.htlc(lock_id).unwrap().unwrap();
    assert_eq!((htlc.units, htlc.expiry_ms), (units(100), T0 + 60_000));
    assert!(w
        .ledger
        .holdings(&"DEUTDEFF/NONE".parse::<AccountRef>().unwrap())
        .is_err());
}

#[test]
fn a_ledger_on_disk_survives_reopen_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let mut w = World::new(DiskLogFiles::writer(dir.path()).unwrap());
        let lock_id = w.lock("10", T0 + 60_000);
        w.ok(Operation::claim(lock_id, &secret()).unwrap());
        w.ledger.head_hash().clone()
    };
    let reopened = Ledger::open(
        DiskLogFiles::writer(dir.path()).unwrap(),
        Box::new(ManualClock::new(T0)),
    )
    .unwrap();
    assert_eq!(reopened.head_hash(), &head);
    assert_eq!(reopened.journal_len(), 5);
    let report = verify_journal(reopened.log()).unwrap();
    assert_eq!((report.entries_verified, report.first_problem), (5, None));
}

#[test]
fn tampering_with_one_byte_names_the_entry() {
    let store = MemoryLogFiles::new();
    let mut w = World::new(store.clone());
    w.lock("10", T0 + 60_000);
    w.ok(Operation::transfer(SELLER, BUYER, APPLE, "1").unwrap());
    // A batch stores several entries in one chunk; tampering inside it must name the right one.
    let batch = (0..6)
        .map(|i| {
            Request::new(
                format!("batch-{i}"),
                Operation::transfer(SELLER, BUYER, APPLE, "1").unwrap(),
            )
        })
        .collect();
    w.ledger.execute_batch(batch).unwrap();
    let len = w.ledger.journal_len();
    assert_eq!(len, 11);
    drop(w);
    let name = segment_name(0);
    let pristine = store.contents()[&name].clone();
    let records: Vec<(usize, usize)> = parse_segment(&pristine)
        .unwrap()
        .records
        .iter()
        .map(|r| (r.offset, r.offset + 8 + r.payload.len()))
        .collect();
    assert_eq!(records.len() as u64, len);
    for target in 0..len {
        let (start, end) = records[target as usize];
        // The record's length, its checksum, the entry's first byte, its middle and its last byte.
        for position in [start, start + 4, start + 8, (start + end) / 2, end - 1] {
            store.put(&name, Some(tampered_copy(&pristine, position)));
            let report = verify_files(store.read_only_view()).unwrap();
            let (seq, problem) = report.first_problem.expect("tampering is detected");
            assert_eq!(seq, target, "byte {position} of entry {target}: {problem}");
            assert_eq!(report.entries_verified, target, "{problem}");
            let refused = Ledger::open(store.clone(), Box::new(ManualClock::new(T0)))
                .err()
                .expect("a corrupt journal does not open");
            assert_eq!(refused.reason(), LedgerReason::JournalCorrupt);
            assert_eq!(refused.kind(), FailureKind::Unavailable);
            assert!(
                refused.error().message.contains(&format!("entry {target}")),
                "{}",
                refused.error().message
            );
            assert_eq!(
                store.contents()[&name],
                tampered_copy(&pristine, position),
                "refusing to open changes nothing"
            );
        }
    }
    store.put(&name, Some(pristine));
    assert_eq!(
        verify_files(store.read_only_view()).unwrap().first_problem,
        None
    );
}

fn tampered_copy(bytes: &[u8], position: usize) -> Vec<u8> {
    let mut copy = bytes.to_vec();
    copy[position] ^= 0x01;
    copy
}

#[test]
fn a_failed_write_acknowledges_nothing_and_stops_the_ledger() {
    let store = MemoryLogFiles::new();
    let mut w = World::new(store.clone());
    store.fail_writes(true);
    let failed = w.ledger.execute(Request::new(
        "t-1",
        Operation::transfer(SELLER, BUYER, APPLE, "1").unwrap(),
    ));
    assert_eq!(
        failed.as_ref().err().map(LedgerFailure::reason),
        Some(LedgerReason::StoreFailed)
    );
    // A failed write may have reached the store: the caller must repeat it.
    assert_eq!(
        failed.err().map(|e| e.kind()),
        Some(FailureKind::OutcomeUnknown)
    );
    store.fail_writes(false);
    let after = w.ledger.execute(Request::new(
        "t-2",
        Operation::transfer(SELLER, BUYER, APPLE, "1").unwrap(),
    ));
    assert_eq!(
        after.as_ref().err().map(|e| (e.kind(), e.reason())),
        Some((FailureKind::Unavailable, LedgerReason::StoreFailed)),
        "a poisoned ledger refuses work"
    );
    // Nor does it report state that was never acknowledged.
    let seller: AccountRef = SELLER.parse().unwrap();
    let unavailable = Some((FailureKind::Unavailable, LedgerReason::StoreFailed));
    let kind_and_reason = |e: LedgerFailure| (e.kind(), e.reason());
    assert_eq!(
        w.ledger
            .balance(&seller, &Asset::parse(APPLE).unwrap())
            .err()
            .map(kind_and_reason),
        unavailable
    );
    assert_eq!(
        w.ledger.holdings(&seller).err().map(kind_and_reason),
        unavailable
    );
    assert_eq!(
        w.ledger.account_frozen(&seller).err().map(kind_and_reason),
        unavailable
    );
    let reopened = Ledger::open(store, Box::new(ManualClock::new(T0))).unwrap();
    assert_eq!(
        reopened.journal_len(),
        3,
        "the failed transfer is not in the journal"
    );
    assert_eq!(
        reopened
            .balance(&SELLER.parse().unwrap(), &Asset::parse(APPLE).unwrap())
            .unwrap()
            .available,
        units(1000)
    );
}
