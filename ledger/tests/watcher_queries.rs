//! The failure convention and the queries a watcher relies on: replayed
//! refusals, the open-lock index, the journal cursor, paged history,
//! monotonic ledger time, crashes and failed writes, balance boundaries and
//! overflowing releases.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_ledger::journal::JournalEntry;
use isthmus_ledger::operation::Outcome;
use isthmus_ledger::state::{Holding, HtlcStatus};
use isthmus_ledger::{
    verify_journal, AccountRef, Asset, Effect, FailureKind, JournalPosition, Ledger, LedgerFailure,
    LedgerReason, Operation, Receipt, Request, MAX_PAGE_ENTRIES,
};
use isthmus_spec::ids::{Hex32, Preimage};
use isthmus_store::log::MemoryLogFiles;
use isthmus_store::ManualClock;

const SELLER: &str = "549300ISTHMUSSELL015/SAFE-SELLER-01";
const BUYER: &str = "549300ISTHMUSBUYR064/SAFE-BUYER-01";
const LATECOMER: &str = "DEUTDEFF/LATECOMER";
const T0: u64 = 1_795_597_200_000;

fn account(text: &str) -> AccountRef {
    text.parse().unwrap()
}

fn yen() -> Asset {
    Asset::parse("JPY").unwrap()
}

fn secret() -> Preimage {
    Preimage::from_bytes(*Hex32::sha256_of(b"watcher secret").bytes())
}

fn lock_op(from: &str, to: &str, units: u64, expiry_ms: u64) -> Operation {
    Operation::Lock {
        from: account(from),
        beneficiary: account(to),
        asset: yen(),
        units,
        hashlock: secret().hashlock(),
        expiry_ms,
    }
}

fn transfer_op(from: &str, to: &str, units: u64) -> Operation {
    Operation::Transfer {
        from: account(from),
        to: account(to),
        asset: yen(),
        units,
    }
}

fn issue_op(to: &str, units: u64) -> Operation {
    Operation::Issue {
        account: account(to),
        asset: yen(),
        units,
    }
}

fn claim_op(lock_id: u64) -> Operation {
    Operation::Claim {
        lock_id,
        preimage: secret(),
    }
}

/// The position of a refusal the ledger journaled; panics on anything else.
fn journaled_refusal(result: &Result<Receipt, LedgerFailure>) -> (LedgerReason, JournalPosition) {
    match result {
        Err(LedgerFailure::Refused {
            error,
            journaled: Some(position),
        }) => (error.reason, position.clone()),
        other => panic!("expected a journaled refusal, got {other:?}"),
    }
}

struct World {
    store: MemoryLogFiles,
    clock: ManualClock,
    ledger: Ledger<MemoryLogFiles>,
    next_key: u64,
}

impl World {
    /// Seller and buyer open; the seller holds 1000 yen.
    fn new() -> World {
        let store = MemoryLogFiles::new();
        let clock = ManualClock::new(T0);
        let ledger = Ledger::open(store.clone(), Box::new(clock.clone())).unwrap();
        let mut world = World {
            store,
            clock,
            ledger,
            next_key: 0,
        };
        world.ok(Operation::open_account(SELLER).unwrap());
        world.ok(Operation::open_account(BUYER).unwrap());
        world.ok(issue_op(SELLER, 1000));
        world
    }

    fn run(&mut self, operation: Operation) -> Result<Receipt, LedgerFailure> {
        self.next_key += 1;
        let result = self
            .ledger
            .execute(Request::new(format!("w-{}", self.next_key), operation));
        self.ledger.state().check_invariants().unwrap();
        result
    }

    fn ok(&mut self, operation: Operation) -> Receipt {
        self.run(operation).unwrap()
    }

    fn refused(&mut self, operation: Operation) -> LedgerReason {
        journaled_refusal(&self.run(operation)).0
    }

    fn lock(&mut self, units: u64, expiry_ms: u64) -> u64 {
        match self.ok(lock_op(SELLER, BUYER, units, expiry_ms)).effect {
            Effect::Locked { lock_id } => lock_id,
            other => panic!("{other:?}"),
        }
    }

    fn yen_of(&self, who: &str) -> Holding {
        self.ledger.balance(&account(who), &yen()).unwrap()
    }

    fn open_lock_ids(&self, max: usize) -> Vec<u64> {
        self.ledger
            .open_locks(max)
            .unwrap()
            .iter()
            .map(|h| h.lock_id)
            .collect()
    }

    fn reopen(&mut self) {
        self.ledger = Ledger::open(self.store.clone(), Box::new(self.clock.clone())).unwrap();
    }
}

fn holding(available: u64, locked: u64) -> Holding {
    Holding { available, locked }
}

// ---- replayed refusals ---------------------------------------------------

#[test]
fn a_replayed_refusal_is_the_first_refusal_even_after_its_cause_is_gone() {
    let mut w = World::new();
    let request = Request::new("lock-1", lock_op(SELLER, LATECOMER, 10, T0 + 60_000));
    let first = w.ledger.execute(request.clone());
    let (reason, position) = journaled_refusal(&first);
    assert_eq!(reason, LedgerReason::AccountUnknown);
    assert_eq!(position.seq, 3);
    assert_eq!(w.ledger.journal_len(), 4);
    let entry = w.ledger.entry(position.seq).unwrap();
    assert_eq!(entry.idempotency_key, "lock-1");
    assert!(matches!(entry.outcome, Outcome::Refused(ref e) if e.reason == reason));
    // The cause goes away, and time moves on...
    w.ok(Operation::open_account(LATECOMER).unwrap());
    w.clock.advance(1_000);
    // ...but the same key keeps its answer, and writes nothing.
    let len = w.ledger.journal_len();
    let again = w.ledger.execute(request.clone());
    assert_eq!(again, first);
    assert!(again.as_ref().is_err_and(LedgerFailure::is_final));
    assert_eq!(w.ledger.journal_len(), len);
    assert_eq!(w.yen_of(SELLER), holding(1000, 0));
    // Also within a batch, and from the store after a reopen.
    let in_batch = w
        .ledger
        .execute_batch(vec![
            Request::new("lock-2", lock_op(SELLER, "DEUTDEFF/NOBODY", 1, T0 + 60_000)),
            Request::new("lock-2", lock_op(SELLER, "DEUTDEFF/NOBODY", 1, T0 + 60_000)),
        ])
        .unwrap();
    assert_eq!(in_batch[0], in_batch[1]);
    assert_eq!(journaled_refusal(&in_batch[1]).1.seq, len);
    w.reopen();
    assert_eq!(w.ledger.execute(request.clone()), first);
    // The same key for another operation is refused, unjournaled.
    let reused = w.ledger.execute(Request::new(
        "lock-1",
        lock_op(SELLER, LATECOMER, 11, T0 + 60_000),
    ));
    assert!(matches!(
        reused,
        Err(LedgerFailure::Refused { ref error, journaled: None })
            if error.reason == LedgerReason::IdempotencyKeyReused
    ));
    // A new key applies.
    let fresh = w
        .ledger
        .execute(Request::new("lock-1b", request.operation))
        .unwrap();
    assert_eq!(fresh.effect, Effect::Locked { lock_id: fresh.seq });
    assert_eq!(w.yen_of(SELLER), holding(990, 10));
}

// ---- open locks ----------------------------------------------------------

#[test]
fn open_locks_come_earliest_expiry_first_then_by_id() {
    let mut w = World::new();
    let a = w.lock(1, T0 + 300);
    let b = w.lock(2, T0 + 100);
    let c = w.lock(3, T0 + 200);
    let d = w.lock(4, T0 + 100); // ties with b; b has the smaller id
    assert!(a < b && b < c && c < d);
    assert_eq!(w.open_lock_ids(usize::MAX), [b, d, c, a]);
    assert_eq!(w.open_lock_ids(2), [b, d]);
    assert_eq!(w.open_lock_ids(0), Vec::<u64>::new());
    assert_eq!(w.yen_of(SELLER), holding(990, 10));
    // A claim and a refund take their locks out; a refused claim does not.
    w.ok(claim_op(d));
    assert_eq!(w.open_lock_ids(usize::MAX), [b, c, a]);
    w.clock.set(T0 + 100);
    assert_eq!(w.refused(claim_op(b)), LedgerReason::LockExpired);
    assert_eq!(w.open_lock_ids(usize::MAX), [b, c, a]);
    w.ok(Operation::Refund { lock_id: b });
    assert_eq!(w.open_lock_ids(usize::MAX), [c, a]);
    assert_eq!(w.open_lock_ids(1), [c]);
    // Every listed lock is open, with the expiry the order came from.
    let listed = w.ledger.open_locks(10).unwrap();
    assert!(listed.iter().all(|h| h.status == HtlcStatus::Open));
    assert_eq!(
        listed.iter().map(|h| h.expiry_ms).collect::<Vec<_>>(),
        [T0 + 200, T0 + 300]
    );
    // The index is rebuilt on reopen.
    w.reopen();
    assert_eq!(w.open_lock_ids(usize::MAX), [c, a]);
    w.clock.set(T0 + 300);
    w.ok(Operation::Refund { lock_id: a });
    w.ok(Operation::Refund { lock_id: c });
    assert_eq!(w.open_lock_ids(usize::MAX), Vec::<u64>::new());
    assert_eq!(w.yen_of(SELLER), holding(996, 0));
    assert_eq!(w.yen_of(BUYER), holding(4, 0));
}

// ---- the journal cursor --------------------------------------------------

#[test]
fn the_journal_cursor_pages_and_shows_claims_with_their_preimage() {
    let mut w = World::new();
    let lock_id = w.lock(10, T0 + 60_000);
    w.ok(transfer_op(SELLER, BUYER, 1));
    let claim = w.ok(claim_op(lock_id));
    let len = w.ledger.journal_len();
    assert_eq!(len, 6);
    // A page is in order, bounded by max, and chained by hashes.
    let page = w.ledger.entries(0, 4).unwrap();
    assert_eq!(
        page.iter().map(|(_, e)| e.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    for (hash, entry) in &page {
        assert_eq!(hash, &Hex32::sha256_of(&entry.to_bytes()));
    }
    for pair in page.windows(2) {
        assert_eq!(pair[1].1.prev_hash, pair[0].0);
    }
    // The next page runs to the end; past the end it is empty.
    let rest = w.ledger.entries(4, 100).unwrap();
    assert_eq!(rest.iter().map(|(_, e)| e.seq).collect::<Vec<_>>(), [4, 5]);
    assert_eq!(rest[0].1.prev_hash, page[3].0);
    assert_eq!(&rest[1].0, w.ledger.head_hash());
    assert!(w.ledger.entries(len, 10).unwrap().is_empty());
    assert!(w.ledger.entries(u64::MAX, usize::MAX).unwrap().is_empty());
    assert!(w.ledger.entries(0, 0).unwrap().is_empty());
    // A single entry past the end is unknown, finally.
    let unknown = w.ledger.entry(len).unwrap_err();
    assert_eq!(
        (unknown.kind(), unknown.reason()),
        (FailureKind::Refused, LedgerReason::EntryUnknown)
    );
    // A watcher finds the claim and learns the secret from it.
    let found: Vec<&JournalEntry> = rest
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e.operation, Operation::Claim { .. }) && e.outcome.is_applied())
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].seq, claim.seq);
    let Operation::Claim {
        lock_id: claimed,
        ref preimage,
    } = found[0].operation
    else {
        unreachable!()
    };
    assert_eq!(claimed, lock_id);
    assert_eq!(preimage, &secret());
    let htlc = w.ledger.htlc(lock_id).unwrap().unwrap();
    assert!(preimage.opens(&htlc.hashlock));
    assert!(matches!(htlc.status, HtlcStatus::Claimed { preimage: ref p, .. } if p == preimage));
}

#[test]
fn a_journal_page_holds_at_most_max_page_entries() {
    let mut w = World::new();
    let batch = (0..MAX_PAGE_ENTRIES + 50)
        .map(|i| Request::new(format!("pay-{i}"), transfer_op(SELLER, BUYER, 0)))
        .collect();
    // Refused (zero units) but journaled: cheap entries for the journal.
    let results = w.ledger.execute_batch(batch).unwrap();
    assert!(results
        .iter()
        .all(|r| journaled_refusal(r).0 == LedgerReason::AmountInvalid));
    let len = w.ledger.journal_len();
    assert_eq!(len, 3 + MAX_PAGE_ENTRIES as u64 + 50);
    let page = w.ledger.entries(0, usize::MAX).unwrap();
    assert_eq!(page.len(), MAX_PAGE_ENTRIES);
    assert!(page.iter().enumerate().all(|(i, (_, e))| e.seq == i as u64));
    let tail = w
        .ledger
        .entries(MAX_PAGE_ENTRIES as u64, usize::MAX)
        .unwrap();
    assert_eq!(tail.len() as u64, len - MAX_PAGE_ENTRIES as u64);
    assert_eq!(tail[0].1.prev_hash, page[MAX_PAGE_ENTRIES - 1].0);
    // The history of an account is bounded alike.
    let history = w.ledger.history(&account(BUYER), 0, usize::MAX).unwrap();
    assert_eq!(history.len(), MAX_PAGE_ENTRIES);
    let next = w
        .ledger
        .history(
            &account(BUYER),
            history[MAX_PAGE_ENTRIES - 1].seq + 1,
            usize::MAX,
        )
        .unwrap();
    // BUYER's first page is its opening and 999 transfers; 51 remain.
    assert_eq!(next.len(), 51);
    assert_eq!(next.last().unwrap().seq, len - 1);
}

// ---- history -------------------------------------------------------------

#[test]
fn history_pages_by_sequence_number_and_refuses_unknown_accounts() {
    let mut w = World::new();
    w.ok(Operation::open_account(LATECOMER).unwrap()); // 3: not the seller's
    let lock_id = w.lock(10, T0 + 60_000); // 4
    w.ok(issue_op(LATECOMER, 5)); // 5: not the seller's
    w.ok(transfer_op(SELLER, BUYER, 1)); // 6
    w.ok(claim_op(lock_id)); // 7: touches locker and beneficiary
    let seller = account(SELLER);
    let seqs = |from: u64, max: usize| -> Vec<u64> {
        w.ledger
            .history(&seller, from, max)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect()
    };
    assert_eq!(seqs(0, usize::MAX), [0, 2, 4, 6, 7]);
    assert_eq!(seqs(0, 2), [0, 2]);
    assert_eq!(seqs(3, 2), [4, 6]);
    assert_eq!(seqs(7, 2), [7]);
    assert_eq!(seqs(8, 2), Vec::<u64>::new());
    assert_eq!(seqs(0, 0), Vec::<u64>::new());
    // Paging by the last seq + 1 walks the whole history once.
    let mut walked = Vec::new();
    let mut from = 0;
    loop {
        let page = seqs(from, 2);
        let Some(&last) = page.last() else { break };
        walked.extend(page);
        from = last + 1;
    }
    assert_eq!(walked, seqs(0, usize::MAX));
    let buyer: Vec<u64> = w
        .ledger
        .history(&account(BUYER), 0, usize::MAX)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(buyer, [1, 4, 6, 7]);
    let unknown = w
        .ledger
        .history(&account("DEUTDEFF/NOBODY"), 0, 10)
        .unwrap_err();
    assert!(matches!(
        unknown,
        LedgerFailure::Refused { ref error, journaled: None }
            if error.reason == LedgerReason::AccountUnknown
    ));
}

// ---- ledger time ---------------------------------------------------------

#[test]
fn ledger_time_stays_at_the_last_entry_when_the_clock_goes_back() {
    let mut w = World::new();
    w.clock.set(T0 + 5_000);
    let late = w.ok(transfer_op(SELLER, BUYER, 1));
    assert_eq!(
        (late.time_ms, w.ledger.now_ms().unwrap()),
        (T0 + 5_000, T0 + 5_000)
    );
    w.clock.set(T0 + 1_000); // the machine's clock jumps back
    assert_eq!(w.ledger.now_ms().unwrap(), T0 + 5_000);
    // A lock expiring between the clock and the ledger time is in the past.
    assert_eq!(
        w.refused(lock_op(SELLER, BUYER, 1, T0 + 5_000)),
        LedgerReason::ExpiryInPast
    );
    let lock_id = w.lock(1, T0 + 5_001);
    // Refunds follow ledger time too: one millisecond early.
    assert_eq!(
        w.refused(Operation::Refund { lock_id }),
        LedgerReason::LockNotExpired
    );
    // Reopened with a clock still further back, the ledger keeps its time.
    w.clock.set(0);
    w.reopen();
    assert_eq!(w.ledger.now_ms().unwrap(), T0 + 5_000);
    w.ok(transfer_op(SELLER, BUYER, 1));
    // The clock overtakes the ledger time again.
    w.clock.set(T0 + 5_001);
    assert_eq!(w.ledger.now_ms().unwrap(), T0 + 5_001);
    w.ok(Operation::Refund { lock_id });
    let times: Vec<u64> = w
        .ledger
        .entries(0, usize::MAX)
        .unwrap()
        .iter()
        .map(|(_, e)| e.time_ms)
        .collect();
    assert!(times.windows(2).all(|t| t[0] <= t[1]), "{times:?}");
    let at = |offset_ms: u64, n: usize| vec![T0 + offset_ms; n];
    assert_eq!(times, [at(0, 3), at(5_000, 5), at(5_001, 1)].concat());
    assert_eq!(verify_journal(w.ledger.log()).unwrap().first_problem, None);
}

// ---- crashes and failed writes -------------------------------------------

#[test]
fn a_crash_after_a_failed_flush_loses_the_entry_and_the_repeat_applies_once() {
    let mut w = World::new();
    let len = w.ledger.journal_len();
    let request = Request::new("pay-1", transfer_op(SELLER, BUYER, 7));
    w.store.fail_syncs(true);
    let failed = w.ledger.execute(request.clone()).unwrap_err();
    assert_eq!(
        (failed.kind(), failed.reason()),
        (FailureKind::OutcomeUnknown, LedgerReason::StoreFailed)
    );
    assert!(!failed.is_final());
    assert!(w.store.unsynced_files() > 0);
    // Poisoned: nothing more until reopened.
    let poisoned = w.ledger.execute(request.clone()).unwrap_err();
    assert_eq!(
        (poisoned.kind(), poisoned.reason()),
        (FailureKind::Unavailable, LedgerReason::StoreFailed)
    );
    w.store.crash();
    w.store.fail_syncs(false);
    assert_eq!(w.store.unsynced_files(), 0);
    w.reopen();
    assert_eq!(w.ledger.journal_len(), len, "the unflushed entry is gone");
    assert_eq!(
        w.ledger.entry(len).map_err(|e| e.reason()),
        Err(LedgerReason::EntryUnknown)
    );
    assert_eq!(w.yen_of(BUYER), holding(0, 0));
    // The repeat applies it, once.
    let applied = w.ledger.execute(request.clone()).unwrap();
    assert_eq!((applied.seq, applied.replayed), (len, false));
    let again = w.ledger.execute(request).unwrap();
    assert_eq!((again.seq, again.replayed), (len, true));
    assert_eq!(w.yen_of(BUYER), holding(7, 0));
    assert_eq!(w.yen_of(SELLER), holding(993, 0));
    let report = verify_journal(w.ledger.log()).unwrap();
    assert_eq!(
        (report.entries_verified, report.first_problem),
        (len + 1, None)
    );
}

#[test]
fn an_entry_that_survived_a_failed_flush_is_replayed_and_made_durable() {
    let mut w = World::new();
    let len = w.ledger.journal_len();
    let request = Request::new("pay-1", transfer_op(SELLER, BUYER, 7));
    w.store.fail_syncs(true);
    let failed = w.ledger.execute(request.clone()).unwrap_err();
    assert_eq!(failed.kind(), FailureKind::OutcomeUnknown);
    // The poisoned ledger reports nothing the failed batch did.
    let unavailable = Some((FailureKind::Unavailable, LedgerReason::StoreFailed));
    let kind = |e: LedgerFailure| (e.kind(), e.reason());
    assert_eq!(w.ledger.entry(len).err().map(kind), unavailable);
    assert_eq!(w.ledger.entry(0).err().map(kind), unavailable);
    assert_eq!(w.ledger.entries(0, 10).err().map(kind), unavailable);
    // Opening must make what it reads durable: while flushes fail, it cannot.
    let closed = Ledger::open(w.store.clone(), Box::new(w.clock.clone())).err();
    assert_eq!(closed.map(kind), unavailable);
    // No crash: the write stayed in the store, and the reopened ledger sees it.
    w.store.fail_syncs(false);
    w.reopen();
    assert_eq!(w.ledger.journal_len(), len + 1);
    let replayed = w.ledger.execute(request.clone()).unwrap();
    assert_eq!((replayed.seq, replayed.replayed), (len, true));
    // What the ledger acknowledged must survive a crash now.
    w.store.crash();
    w.reopen();
    assert_eq!(
        w.ledger.journal_len(),
        len + 1,
        "an acknowledged entry was lost"
    );
    assert_eq!(w.ledger.execute(request).unwrap(), replayed);
    assert_eq!(w.yen_of(BUYER), holding(7, 0));
}

#[test]
fn a_failed_write_is_outcome_unknown_then_the_ledger_is_unavailable_until_reopened() {
    let mut w = World::new();
    let lock_id = w.lock(10, T0 + 60_000);
    let len = w.ledger.journal_len();
    w.store.fail_writes(true);
    let failed = w
        .ledger
        .execute(Request::new("pay-1", transfer_op(SELLER, BUYER, 1)));
    // The store's apply failed; a write may have reached it (StoreError::may_have_written).
    assert_eq!(
        failed.map_err(|e| (e.kind(), e.reason())),
        Err((FailureKind::OutcomeUnknown, LedgerReason::StoreFailed))
    );
    w.store.fail_writes(false);
    let unavailable = Some((FailureKind::Unavailable, LedgerReason::StoreFailed));
    let kind = |e: LedgerFailure| (e.kind(), e.reason());
    let seller = account(SELLER);
    assert_eq!(
        w.ledger
            .execute(Request::new("pay-2", transfer_op(SELLER, BUYER, 1)))
            .err()
            .map(kind),
        unavailable
    );
    assert_eq!(
        w.ledger
            .execute_batch(vec![Request::new("pay-3", transfer_op(SELLER, BUYER, 1))])
            .err()
            .map(kind),
        unavailable
    );
    assert_eq!(
        w.ledger.balance(&seller, &yen()).err().map(kind),
        unavailable
    );
    assert_eq!(w.ledger.holdings(&seller).err().map(kind), unavailable);
    assert_eq!(
        w.ledger.account_frozen(&seller).err().map(kind),
        unavailable
    );
    assert_eq!(
        w.ledger
            .register(&isthmus_spec::ident::Isin::parse("US0378331005").unwrap())
            .err()
            .map(kind),
        unavailable
    );
    assert_eq!(
        w.ledger.history(&seller, 0, 10).err().map(kind),
        unavailable
    );
    assert_eq!(w.ledger.htlc(lock_id).err().map(kind), unavailable);
    assert_eq!(w.ledger.open_locks(10).err().map(kind), unavailable);
    assert_eq!(w.ledger.entries(0, 10).err().map(kind), unavailable);
    assert_eq!(w.ledger.entry(0).err().map(kind), unavailable);
    assert_eq!(w.ledger.entry(len).err().map(kind), unavailable);
    // Reopened, it serves again, without the failed transfer.
    w.reopen();
    assert_eq!(w.ledger.journal_len(), len);
    assert_eq!(w.yen_of(SELLER), holding(990, 10));
    let receipt = w
        .ledger
        .execute(Request::new("pay-1", transfer_op(SELLER, BUYER, 1)))
        .unwrap();
    assert_eq!((receipt.seq, receipt.replayed), (len, false));
    assert_eq!(w.ledger.open_locks(10).unwrap().len(), 1);
}

// ---- boundaries ----------------------------------------------------------

#[test]
fn exactly_the_available_balance_can_be_sent_or_locked_and_no_more() {
    let mut w = World::new();
    assert_eq!(
        w.refused(transfer_op(SELLER, BUYER, 1001)),
        LedgerReason::InsufficientFunds
    );
    assert_eq!(
        w.refused(lock_op(SELLER, BUYER, 1001, T0 + 60_000)),
        LedgerReason::InsufficientFunds
    );
    assert_eq!(w.yen_of(SELLER), holding(1000, 0));
    let lock_id = w.lock(1000, T0 + 60_000);
    assert_eq!(w.yen_of(SELLER), holding(0, 1000));
    // Locked units are not available.
    assert_eq!(
        w.refused(transfer_op(SELLER, BUYER, 1)),
        LedgerReason::InsufficientFunds
    );
    assert_eq!(
        w.refused(lock_op(SELLER, BUYER, 1, T0 + 60_000)),
        LedgerReason::InsufficientFunds
    );
    w.clock.set(T0 + 60_000);
    w.ok(Operation::Refund { lock_id });
    w.ok(lock_op(SELLER, BUYER, 400, T0 + 120_000));
    assert_eq!(
        w.refused(transfer_op(SELLER, BUYER, 601)),
        LedgerReason::InsufficientFunds
    );
    w.ok(transfer_op(SELLER, BUYER, 600));
    assert_eq!(w.yen_of(SELLER), holding(0, 400));
    assert_eq!(w.yen_of(BUYER), holding(600, 0));
    // An emptied holding is gone from the listing, the account is not.
    w.ok(transfer_op(BUYER, SELLER, 600));
    assert_eq!(w.ledger.holdings(&account(BUYER)).unwrap(), vec![]);
    assert_eq!(w.yen_of(BUYER), holding(0, 0));
}

#[test]
fn a_claim_or_refund_that_would_overflow_is_refused_and_changes_nothing() {
    let mut w = World::new();
    let lock_id = w.lock(10, T0 + 60_000);
    // The beneficiary holds as much as a balance can.
    w.ok(issue_op(BUYER, u64::MAX));
    assert_eq!(w.refused(issue_op(BUYER, 1)), LedgerReason::AmountOverflow);
    assert_eq!(
        w.refused(transfer_op(SELLER, BUYER, 1)),
        LedgerReason::AmountOverflow
    );
    let before = (w.yen_of(SELLER), w.yen_of(BUYER));
    assert_eq!(before, (holding(990, 10), holding(u64::MAX, 0)));
    assert_eq!(w.refused(claim_op(lock_id)), LedgerReason::AmountOverflow);
    assert_eq!((w.yen_of(SELLER), w.yen_of(BUYER)), before);
    assert_eq!(
        w.ledger.htlc(lock_id).unwrap().unwrap().status,
        HtlcStatus::Open
    );
    assert_eq!(w.open_lock_ids(10), [lock_id]);
    // Room made, the claim (under a new key) goes through.
    w.ok(transfer_op(BUYER, SELLER, 10));
    w.ok(claim_op(lock_id));
    assert_eq!(w.yen_of(BUYER), holding(u64::MAX, 0));
    assert_eq!(w.yen_of(SELLER), holding(1000, 0));

    // A refund to a locker whose available balance is full.
    let lock_id = w.lock(10, T0 + 60_000);
    w.ok(issue_op(SELLER, u64::MAX - 990));
    assert_eq!(w.yen_of(SELLER), holding(u64::MAX, 10));
    w.clock.set(T0 + 60_000);
    assert_eq!(
        w.refused(Operation::Refund { lock_id }),
        LedgerReason::AmountOverflow
    );
    assert_eq!(w.yen_of(SELLER), holding(u64::MAX, 10));
    assert_eq!(
        w.ledger.htlc(lock_id).unwrap().unwrap().status,
        HtlcStatus::Open
    );
    assert_eq!(w.open_lock_ids(10), [lock_id]);
    let issued = w.ledger.state().issued().get(&yen()).copied();
    assert_eq!(
        issued,
        Some(1000 + u128::from(u64::MAX) + u128::from(u64::MAX - 990))
    );
    w.ledger.state().check_invariants().unwrap();
    // The refused outcomes replay identically from the journal.
    assert_eq!(verify_journal(w.ledger.log()).unwrap().first_problem, None);
}

// ---- state queries -------------------------------------------------------

#[test]
fn state_queries_answer_accounts_freezes_locks_and_issues() {
    let mut w = World::new();
    let state = w.ledger.state();
    assert_eq!(state.account_count(), 2);
    assert!(state.has_account(&account(SELLER)) && state.has_account(&account(BUYER)));
    assert!(!state.has_account(&account(LATECOMER)));
    assert_eq!(state.is_frozen(&account(SELLER)), Some(false));
    assert_eq!(state.is_frozen(&account(LATECOMER)), None);
    w.ok(Operation::open_account(LATECOMER).unwrap());
    w.ok(Operation::Freeze {
        account: account(BUYER),
    });
    w.ok(Operation::issue(BUYER, "US0378331005", "2.5").unwrap());
    let late = w.lock(1, T0 + 300);
    let early = w.lock(2, T0 + 100);
    w.ok(claim_op(late));
    let state = w.ledger.state();
    assert_eq!(state.account_count(), 3);
    assert!(state.has_account(&account(LATECOMER)));
    assert_eq!(state.is_frozen(&account(BUYER)), Some(true));
    assert_eq!(state.is_frozen(&account(SELLER)), Some(false));
    assert_eq!(
        w.ledger.account_frozen(&account(BUYER)).unwrap(),
        Some(true)
    );
    assert_eq!(
        w.ledger
            .account_frozen(&account("DEUTDEFF/NOBODY"))
            .unwrap(),
        None
    );
    // Every lock, settled or not, by id (not by expiry).
    let htlcs: Vec<(u64, bool)> = state
        .htlcs()
        .map(|h| (h.lock_id, h.status == HtlcStatus::Open))
        .collect();
    assert_eq!(htlcs, [(late, false), (early, true)]);
    assert_eq!(
        state
            .issued()
            .iter()
            .map(|(a, u)| (a.clone(), *u))
            .collect::<Vec<_>>(),
        [
            (Asset::parse("US0378331005").unwrap(), 2_500_000),
            (yen(), 1000),
        ]
    );
    assert_eq!(
        w.ledger.htlc(9_999).unwrap(),
        None,
        "an unknown lock is none"
    );
    // The files hold exactly the journal: its FORMAT file and its segments.
    let files = w.store.contents();
    assert_eq!(
        files[isthmus_store::log::FORMAT_FILE],
        isthmus_ledger::journal::JOURNAL_FORMAT
    );
    assert!(files
        .keys()
        .all(|name| name == isthmus_store::log::FORMAT_FILE || name.starts_with("segment-")));
}
