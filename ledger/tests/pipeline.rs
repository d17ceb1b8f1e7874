//! `Ledger::execute_pipelined`: batches prepared while the previous one is
//! written and synced give exactly what `execute_batch` gives batch after
//! batch, deliver nothing before it is durable, and acknowledge nothing
//! after a failed write.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use isthmus_ledger::{
    parse_account, BatchResults, FailureKind, Ledger, LedgerFailure, LedgerReason, Operation,
    Request, PIPELINE_DEPTH,
};
use isthmus_spec::ids::Hex32;
use isthmus_store::log::MemoryLogFiles;
use isthmus_store::ManualClock;
use proptest::prelude::*;

const T0: u64 = 1_800_000_000_000;

fn secret() -> [u8; 32] {
    *Hex32::sha256_of(b"pipeline secret").bytes()
}

/// The operations requests are drawn from: enough kinds that batches apply,
/// refuse, replay and reuse keys.
fn operation(index: usize) -> Operation {
    let secret = secret();
    let hashlock = *Hex32::sha256_of(&secret).bytes();
    match index % 9 {
        0 => Operation::open_account("DEUTDEFF/A").unwrap(),
        1 => Operation::open_account("CHASUS33/B").unwrap(),
        2 => Operation::issue("DEUTDEFF/A", "USD", "100.00").unwrap(),
        3 => Operation::transfer("DEUTDEFF/A", "CHASUS33/B", "USD", "1.50").unwrap(),
        4 => Operation::lock(
            "DEUTDEFF/A",
            "CHASUS33/B",
            "USD",
            "2.00",
            &hashlock,
            T0 + 50,
        )
        .unwrap(),
        5 => Operation::claim((index / 9) as u64 % 40, &secret).unwrap(),
        6 => Operation::Refund {
            lock_id: (index / 9) as u64 % 40,
        },
        7 => Operation::Freeze {
            account: parse_account("CHASUS33/B").unwrap(),
        },
        _ => Operation::Unfreeze {
            account: parse_account("CHASUS33/B").unwrap(),
        },
    }
}

/// A batch of requests: `(key, operation)` indices. Keys come from a small
/// pool, so a key recurs within a batch and across batches, mostly with its
/// own operation (a replay), sometimes with another (a reuse, refused).
fn batches() -> impl Strategy<Value = Vec<Vec<(usize, usize)>>> {
    proptest::collection::vec(
        proptest::collection::vec((0usize..30, 0usize..60), 0..12),
        1..10,
    )
}

fn requests(batch: &[(usize, usize)]) -> Vec<Request> {
    batch
        .iter()
        .map(|&(key, op)| {
            let operation = if op % 5 == 0 {
                operation(op)
            } else {
                operation(key * 7)
            };
            Request::new(format!("key-{key}"), operation)
        })
        .collect()
}

fn ledger_on(files: MemoryLogFiles, clock: &ManualClock) -> Ledger<MemoryLogFiles> {
    Ledger::open(files, Box::new(clock.clone())).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same batches, with the same clock, through `execute_batch` one by
    /// one and through the pipeline: the same results in the same order, the
    /// same journal byte for byte.
    #[test]
    fn pipelined_batches_journal_what_sequential_batches_journal(batches in batches()) {
        let sequential_files = MemoryLogFiles::new();
        let sequential_clock = ManualClock::new(T0);
        let mut sequential = ledger_on(sequential_files.clone(), &sequential_clock);
        let mut expected = Vec::new();
        for batch in &batches {
            sequential_clock.advance(20);
            expected.push(sequential.execute_batch(requests(batch)));
        }

        let pipelined_files = MemoryLogFiles::new();
        let pipelined_clock = ManualClock::new(T0);
        let mut pipelined = ledger_on(pipelined_files.clone(), &pipelined_clock);
        let mut delivered: Vec<Result<BatchResults, LedgerFailure>> = Vec::new();
        // The clock moves as each batch is taken, just before it is prepared.
        let source = batches.iter().map(|batch| {
            pipelined_clock.advance(20);
            requests(batch)
        });
        pipelined
            .execute_pipelined(source, &mut |result| delivered.push(result))
            .unwrap();

        prop_assert_eq!(&delivered, &expected);
        prop_assert_eq!(pipelined.journal_len(), sequential.journal_len());
        prop_assert_eq!(pipelined.head_hash(), sequential.head_hash());
        prop_assert_eq!(pipelined_files.contents(), sequential_files.contents());
        // Both agree with the journal itself: every receipt, replayed or
        // not, and every journaled refusal names the hash its entry has.
        check_hashes(&sequential, &expected);
        check_hashes(&pipelined, &delivered);
        // The pipeline leaves the ledger ready for more.
        let after = pipelined.execute(Request::new("after", operation(0)));
        prop_assert_eq!(after, sequential.execute(Request::new("after", operation(0))));
    }
}

/// Checks that each journaled result's hash and time are its entry's in
/// the ledger's journal.
fn check_hashes(
    ledger: &Ledger<MemoryLogFiles>,
    delivered: &[Result<BatchResults, LedgerFailure>],
) {
    for result in delivered.iter().flatten().flatten() {
        let position = match result {
            Ok(receipt) => receipt.position(),
            Err(LedgerFailure::Refused {
                journaled: Some(position),
                ..
            }) => position.clone(),
            Err(_) => continue,
        };
        let (hash, entry) = ledger.entries(position.seq, 1).unwrap().remove(0);
        assert_eq!(
            (&hash, entry.time_ms),
            (&position.entry_hash, position.time_ms),
            "entry {}",
            position.seq
        );
    }
}

fn locks_and_claims(batch: u64, pairs: u64, first_seq: u64) -> Vec<Request> {
    let secret = secret();
    let hashlock = *Hex32::sha256_of(&secret).bytes();
    let mut requests: Vec<Request> = (0..pairs)
        .map(|i| {
            Request::new(
                format!("lock-{batch}-{i}"),
                common::cent_lock(&hashlock, T0 + 1_000_000),
            )
        })
        .collect();
    requests.extend((0..pairs).map(|i| {
        Request::new(
            format!("claim-{batch}-{i}"),
            Operation::claim(first_seq + i, &secret).unwrap(),
        )
    }));
    requests
}

fn funded(files: MemoryLogFiles, clock: &ManualClock) -> Ledger<MemoryLogFiles> {
    let mut ledger = ledger_on(files, clock);
    for result in ledger
        .execute_batch(vec![
            Request::new("open-a", operation(0)),
            Request::new("open-b", operation(1)),
            Request::new(
                "fund-a",
                Operation::issue("DEUTDEFF/A", "USD", "1000000.00").unwrap(),
            ),
        ])
        .unwrap()
    {
        result.unwrap();
    }
    ledger
}

#[test]
fn no_batch_is_delivered_before_its_sync_has_returned() {
    let clock = ManualClock::new(T0);
    let memory = MemoryLogFiles::new();
    let setup = funded(memory.clone(), &clock);
    drop(setup);
    let files = common::TestFiles::new(memory);
    let synced = Arc::clone(&files.synced);
    let mut ledger = Ledger::open(files, Box::new(clock.clone())).unwrap();
    let first_seq = ledger.journal_len();
    let synced_before = synced.load(Ordering::SeqCst);
    const BATCHES: u64 = 12;
    const PAIRS: u64 = 20;
    let source =
        (0..BATCHES).map(|batch| locks_and_claims(batch, PAIRS, first_seq + batch * 2 * PAIRS));
    let mut delivered = 0u64;
    ledger
        .execute_pipelined(source, &mut |result| {
            let results = result.unwrap();
            assert_eq!(results.len() as u64, 2 * PAIRS);
            assert!(results.iter().all(Result::is_ok));
            delivered += 1;
            // Each batch is one log append, one sync: this one's has returned.
            assert!(
                synced.load(Ordering::SeqCst) >= synced_before + delivered,
                "batch {delivered} was delivered before its sync returned"
            );
        })
        .unwrap();
    assert_eq!(delivered, BATCHES);
    assert_eq!(synced.load(Ordering::SeqCst), synced_before + BATCHES);
}

#[test]
fn after_a_failed_sync_nothing_more_is_acknowledged_and_everything_acknowledged_survives() {
    for good_syncs in [0u64, 1, 3, 6] {
        let clock = ManualClock::new(T0);
        let files = MemoryLogFiles::new();
        let mut ledger = funded(files.clone(), &clock);
        let first_seq = ledger.journal_len();
        files.fail_syncs_after(good_syncs);
        const PAIRS: u64 = 5;
        let mut taken = 0u64;
        let source = (0..10u64).map(|batch| {
            taken += 1;
            locks_and_claims(batch, PAIRS, first_seq + batch * 2 * PAIRS)
        });
        let mut delivered = Vec::new();
        let failure = ledger
            .execute_pipelined(source, &mut |result| delivered.push(result))
            .unwrap_err();
        assert_eq!(failure.reason(), LedgerReason::StoreFailed, "{good_syncs}");
        let acknowledged: Vec<&BatchResults> =
            delivered.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(
            acknowledged.len() as u64,
            good_syncs,
            "only synced batches are acknowledged"
        );
        // Every delivered result after the first failure is a failure, the
        // first one's outcome unknown (its write may be on disk).
        let failures: Vec<&LedgerFailure> =
            delivered.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(delivered[..good_syncs as usize].iter().all(Result::is_ok));
        assert!(!failures.is_empty());
        assert_eq!(failures[0].kind(), FailureKind::OutcomeUnknown);
        assert!(failures
            .iter()
            .all(|f| f.reason() == LedgerReason::StoreFailed));
        assert!(
            taken <= good_syncs + PIPELINE_DEPTH as u64,
            "the pipeline took {taken} batches with only {good_syncs} durable"
        );
        // The ledger refuses work until reopened.
        let refused = ledger
            .execute(Request::new("late", operation(0)))
            .unwrap_err();
        assert_eq!(refused.reason(), LedgerReason::StoreFailed);
        drop(ledger);

        files.fail_syncs(false);
        files.crash();
        let reopened = ledger_on(files, &clock);
        for receipt in acknowledged.iter().flat_map(|results| results.iter()) {
            let receipt = receipt.as_ref().unwrap();
            let (hash, _) = reopened.entries(receipt.seq, 1).unwrap().remove(0);
            assert_eq!(
                hash, receipt.entry_hash,
                "an acknowledged entry survives the crash"
            );
        }
    }
}

#[test]
fn a_repeat_of_a_key_in_the_batch_before_gets_that_batchs_receipt() {
    let clock = ManualClock::new(T0);
    let mut ledger = funded(MemoryLogFiles::new(), &clock);
    let first_seq = ledger.journal_len();
    let first = locks_and_claims(0, 50, first_seq);
    // The second batch repeats the first one (in flight while it is prepared)
    // and reuses one of its keys for another operation.
    let mut second = first.clone();
    second.push(Request::new("lock-0-0", operation(2)));
    let mut delivered = Vec::new();
    ledger
        .execute_pipelined([first, second], &mut |result| {
            delivered.push(result.unwrap())
        })
        .unwrap();
    let (first, second) = (&delivered[0], &delivered[1]);
    for (original, repeat) in first.iter().zip(second) {
        let (original, repeat) = (original.as_ref().unwrap(), repeat.as_ref().unwrap());
        assert!(repeat.replayed && !original.replayed);
        assert_eq!(
            (repeat.seq, &repeat.entry_hash),
            (original.seq, &original.entry_hash)
        );
    }
    let reused = second.last().unwrap().as_ref().unwrap_err();
    assert_eq!(reused.reason(), LedgerReason::IdempotencyKeyReused);
    assert_eq!(
        ledger.journal_len(),
        first_seq + 100,
        "repeats journal nothing"
    );
}

#[test]
fn a_batch_refused_whole_is_answered_in_its_turn_and_the_pipeline_goes_on() {
    let clock = ManualClock::new(T0);
    let mut ledger = funded(MemoryLogFiles::new(), &clock);
    let first_seq = ledger.journal_len();
    let too_large: Vec<Request> = (0..=isthmus_ledger::MAX_BATCH_OPERATIONS)
        .map(|i| Request::new(format!("big-{i}"), operation(2)))
        .collect();
    let batches = vec![
        locks_and_claims(0, 3, first_seq),
        too_large,
        locks_and_claims(1, 3, first_seq + 6),
    ];
    let mut delivered = Vec::new();
    ledger
        .execute_pipelined(batches, &mut |result| delivered.push(result))
        .unwrap();
    assert_eq!(delivered.len(), 3);
    assert!(delivered[0].as_ref().unwrap().iter().all(Result::is_ok));
    assert_eq!(
        delivered[1].as_ref().unwrap_err().reason(),
        LedgerReason::BatchTooLarge
    );
    assert!(delivered[2].as_ref().unwrap().iter().all(Result::is_ok));
    assert_eq!(ledger.journal_len(), first_seq + 12);
}

#[test]
fn a_panic_while_batches_are_in_flight_leaves_the_ledger_refusing_work() {
    let clock = ManualClock::new(T0);
    let files = MemoryLogFiles::new();
    let mut ledger = funded(files.clone(), &clock);
    let first_seq = ledger.journal_len();
    files.fail_syncs_after(1);
    let source = (0..4u64).map(|batch| locks_and_claims(batch, 3, first_seq + batch * 6));
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ledger.execute_pipelined(source, &mut |_| panic!("the caller's handler fails"))
    }));
    assert!(run.is_err(), "the panic reaches the caller");
    let a = parse_account("DEUTDEFF/A").unwrap();
    let usd = isthmus_ledger::Asset::parse("USD").unwrap();
    assert_eq!(
        ledger.balance(&a, &usd).unwrap_err().reason(),
        LedgerReason::StoreFailed,
        "the books may be ahead of the journal: no query is answered"
    );
    assert_eq!(
        ledger.snapshot().unwrap_err().reason(),
        LedgerReason::StoreFailed
    );
    let again = ledger.execute_pipelined([locks_and_claims(9, 1, 0)], &mut |_| {
        panic!("a poisoned ledger delivers nothing")
    });
    assert_eq!(again.unwrap_err().reason(), LedgerReason::StoreFailed);
}

/// With a snapshot due before every batch, the pipeline empties before it
/// takes one: after a failed sync and a crash, every snapshot left is of
/// durable entries, usable, and verified.
#[test]
fn pipelined_snapshots_hold_only_durable_entries() {
    for good_syncs in [1u64, 2, 4] {
        let clock = ManualClock::new(T0);
        let files = MemoryLogFiles::new();
        let mut ledger = funded(files.clone(), &clock);
        ledger.set_snapshot_interval(Some(1));
        let first_seq = ledger.journal_len();
        files.fail_syncs_after(good_syncs);
        let source = (0..8u64).map(|batch| locks_and_claims(batch, 2, first_seq + batch * 4));
        assert!(ledger.execute_pipelined(source, &mut |_| {}).is_err());
        drop(ledger);
        files.fail_syncs(false);
        files.crash();
        let reopened = ledger_on(files.clone(), &clock);
        assert_eq!(
            reopened.snapshot_report().ignored,
            Vec::<String>::new(),
            "{good_syncs}: no snapshot covers entries the journal lost"
        );
        assert!(reopened.snapshot_report().loaded.is_some(), "{good_syncs}");
        drop(reopened);
        let verified = isthmus_ledger::verify_files(files.read_only_view()).unwrap();
        assert_eq!(verified.first_problem, None, "{good_syncs}");
    }
}
