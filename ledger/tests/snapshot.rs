//! Snapshots: a ledger reopened from a snapshot and the entries after it is
//! the ledger a full replay gives; a snapshot that is damaged, from another
//! journal, or ahead of the journal is never used and `verify` names it;
//! snapshots form a chain, each holding what changed since the one before,
//! and none is removed.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use isthmus_ledger::{parse_account, verify_files, Ledger, Operation, Request};
use isthmus_spec::ids::Hex32;
use isthmus_store::log::{LogFiles, MemoryLogFiles};
use isthmus_store::ManualClock;
use proptest::prelude::*;

const T0: u64 = 1_800_000_000_000;
const ACCOUNTS: [&str; 3] = ["DEUTDEFF/A", "CHASUS33/B", "549300ISTHMUSSELL015/C"];

fn secret() -> [u8; 32] {
    *Hex32::sha256_of(b"snapshot secret").bytes()
}

/// Requests of every kind, many refused, with keys that recur.
fn request(key: usize, kind: usize, a: usize, b: usize, lock: u64) -> Request {
    let secret = secret();
    let hashlock = *Hex32::sha256_of(&secret).bytes();
    let (a, b) = (ACCOUNTS[a % 3], ACCOUNTS[b % 3]);
    let operation = match kind % 9 {
        0 => Operation::open_account(a).unwrap(),
        1 => Operation::issue(a, "USD", "50.00").unwrap(),
        2 => Operation::issue(a, "US0378331005", "10").unwrap(),
        3 => Operation::transfer(a, b, "USD", "3.25").unwrap(),
        4 => Operation::lock(a, b, "US0378331005", "2", &hashlock, T0 + 100).unwrap(),
        5 => Operation::claim(lock, &secret).unwrap(),
        6 => Operation::Refund { lock_id: lock },
        7 => Operation::Freeze {
            account: parse_account(a).unwrap(),
        },
        _ => Operation::Unfreeze {
            account: parse_account(a).unwrap(),
        },
    };
    Request::new(format!("k{key}"), operation)
}

type Batch = Vec<(usize, usize, usize, usize, u64)>;

fn batches() -> impl Strategy<Value = Vec<Batch>> {
    proptest::collection::vec(
        proptest::collection::vec(
            (0usize..60, 0usize..9, 0usize..3, 0usize..3, 0u64..40),
            1..8,
        ),
        1..12,
    )
}

/// Everything a ledger answers, in a form two ledgers can be compared by.
fn answers(ledger: &Ledger<MemoryLogFiles>) -> String {
    let mut out = format!(
        "{} {} {:?}\n",
        ledger.journal_len(),
        ledger.head_hash(),
        ledger.state().issued()
    );
    for account in ACCOUNTS {
        let id = parse_account(account).unwrap();
        out += &format!(
            "{account}: {:?} {:?} {:?}\n",
            ledger.holdings(&id).ok(),
            ledger.account_frozen(&id).ok(),
            ledger
                .history(&id, 0, 1000)
                .map(|entries| entries.iter().map(|e| e.seq).collect::<Vec<_>>())
                .ok()
        );
    }
    out += &format!("{:?}\n", ledger.state().htlcs().collect::<Vec<_>>());
    out += &format!("{:?}\n", ledger.open_locks(1000).unwrap());
    for key in 0..60 {
        out += &format!("{:?}\n", ledger.journaled(&format!("k{key}")).unwrap());
    }
    out
}

fn snapshot_names(files: &MemoryLogFiles) -> Vec<String> {
    files
        .list()
        .unwrap()
        .into_iter()
        .filter(|name| name.starts_with("snapshot-"))
        .collect()
}

/// A copy of `files` without their snapshots: the journal alone.
fn journal_only(files: &MemoryLogFiles) -> MemoryLogFiles {
    let bare = MemoryLogFiles::new();
    for (name, bytes) in files.contents() {
        if !name.starts_with("snapshot-") {
            bare.put(&name, Some(bytes));
        }
    }
    bare
}

fn run(
    files: &MemoryLogFiles,
    clock: &ManualClock,
    batches: &[Batch],
    every: Option<u64>,
) -> Ledger<MemoryLogFiles> {
    let mut ledger = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    ledger.set_snapshot_interval(every);
    for batch in batches {
        clock.advance(15);
        let requests = batch
            .iter()
            .map(|&(key, kind, a, b, lock)| request(key, kind, a, b, lock))
            .collect();
        ledger.execute_batch(requests).unwrap();
    }
    ledger
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// With a snapshot every few entries, a reopened ledger starts from the
    /// newest and answers exactly as one that replays everything, and both
    /// go on alike; `verify` checks every snapshot kept.
    #[test]
    fn a_ledger_reopened_from_a_snapshot_is_the_ledger_a_full_replay_gives(
        batches in batches(),
        every in 1u64..12,
        more in batches(),
    ) {
        let files = MemoryLogFiles::new();
        let clock = ManualClock::new(T0);
        let written = run(&files, &clock, &batches, Some(every));
        let expected = answers(&written);
        prop_assert_eq!(written.snapshot_report().last_failure.clone(), None);
        drop(written);
        let mut kept = snapshot_names(&files);
        kept.sort();

        let from_snapshot = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
        let report = from_snapshot.snapshot_report().clone();
        prop_assert!(report.ignored.is_empty(), "{:?}", report.ignored);
        // The newest, folded with every one before it.
        prop_assert_eq!(
            report.loaded.map(|entries| format!("snapshot-{entries:016x}.bin")),
            kept.last().cloned()
        );
        prop_assert_eq!(answers(&from_snapshot), expected.clone());

        // The same journal without its snapshots: a full replay.
        let bare = journal_only(&files);
        let replayed = Ledger::open(bare.clone(), Box::new(clock.clone())).unwrap();
        prop_assert_eq!(replayed.snapshot_report().loaded, None);
        prop_assert_eq!(answers(&replayed), expected);

        // Both go on alike.
        let (mut from_snapshot, mut replayed) = (from_snapshot, replayed);
        from_snapshot.set_snapshot_interval(None);
        replayed.set_snapshot_interval(None);
        for batch in &more {
            clock.advance(15);
            let requests = || batch.iter().map(|&(key, kind, a, b, lock)| request(key, kind, a, b, lock)).collect();
            prop_assert_eq!(from_snapshot.execute_batch(requests()), replayed.execute_batch(requests()));
        }
        prop_assert_eq!(answers(&from_snapshot), answers(&replayed));

        let verified = verify_files(files.read_only_view()).unwrap();
        prop_assert_eq!(verified.first_problem, None);
        prop_assert_eq!(verified.snapshots_checked, kept.len() as u64);
    }
}

fn small_ledger(files: &MemoryLogFiles, clock: &ManualClock) -> Ledger<MemoryLogFiles> {
    let batches: Vec<Batch> = vec![
        vec![
            (0, 0, 0, 0, 0),
            (1, 0, 1, 0, 0),
            (2, 1, 0, 0, 0),
            (3, 2, 0, 0, 0),
        ],
        vec![(4, 4, 0, 1, 0), (5, 3, 0, 1, 0), (6, 5, 0, 0, 4)],
        vec![(7, 4, 0, 1, 0), (8, 7, 1, 0, 0)],
    ];
    run(files, clock, &batches, None)
}

#[test]
fn a_damaged_snapshot_is_ignored_said_so_and_named_by_verify() {
    let files = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    let mut ledger = small_ledger(&files, &clock);
    let covered = ledger.snapshot().unwrap();
    assert_eq!(covered, ledger.journal_len());
    let expected = answers(&ledger);
    drop(ledger);
    let name = snapshot_names(&files).remove(0);
    let mut bytes = files.contents()[&name].clone();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    files.put(&name, Some(bytes));

    let reopened = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    let report = reopened.snapshot_report();
    assert_eq!(report.loaded, None);
    assert_eq!(report.ignored.len(), 1);
    assert!(
        report.ignored[0].contains("SHA-256"),
        "{:?}",
        report.ignored
    );
    assert_eq!(
        answers(&reopened),
        expected,
        "the full replay is used instead"
    );
    drop(reopened);

    let verified = verify_files(files.read_only_view()).unwrap();
    let (entry, problem) = verified.first_problem.unwrap();
    assert_eq!(entry, covered - 1);
    assert!(
        problem.contains(&name) && problem.contains("SHA-256"),
        "{problem}"
    );
}

#[test]
fn a_snapshot_of_another_journal_or_ahead_of_this_one_is_never_used() {
    let clock = ManualClock::new(T0);
    let ours = MemoryLogFiles::new();
    let ledger = small_ledger(&ours, &clock);
    let expected = answers(&ledger);
    let length = ledger.journal_len();
    drop(ledger);

    // Another ledger: ours and one entry more, with a snapshot at its end.
    let theirs = MemoryLogFiles::new();
    let mut other = small_ledger(&theirs, &clock);
    other
        .execute(Request::new(
            "extra",
            Operation::issue("DEUTDEFF/A", "USD", "1.00").unwrap(),
        ))
        .unwrap();
    let other_covered = other.snapshot().unwrap();
    drop(other);
    // Theirs beside ours: a snapshot of more entries than our journal holds.
    let their_bytes = theirs.contents()[&format!("snapshot-{other_covered:016x}.bin")].clone();
    ours.put(
        &format!("snapshot-{other_covered:016x}.bin"),
        Some(their_bytes),
    );

    let reopened = Ledger::open(ours.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(reopened.snapshot_report().loaded, None);
    assert!(
        reopened.snapshot_report().ignored[0].contains(&format!("covers {other_covered} entries")),
        "{:?}",
        reopened.snapshot_report().ignored
    );
    assert_eq!(answers(&reopened), expected);
    drop(reopened);
    let verified = verify_files(ours.read_only_view()).unwrap();
    let (_, problem) = verified.first_problem.unwrap();
    assert!(
        problem.contains("entries are missing from the journal"),
        "{problem}"
    );

    // Their snapshot with the length in its name changed to ours: the
    // contents say otherwise.
    let renamed = journal_only(&ours);
    let their_bytes = theirs.contents()[&format!("snapshot-{other_covered:016x}.bin")].clone();
    renamed.put(&format!("snapshot-{length:016x}.bin"), Some(their_bytes));
    let reopened = Ledger::open(renamed.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(reopened.snapshot_report().loaded, None);
    assert!(reopened.snapshot_report().ignored[0].contains("not what its name says"));
    assert_eq!(answers(&reopened), expected);
}

#[test]
fn a_snapshot_of_the_same_length_from_another_journal_fails_the_head_check() {
    let clock = ManualClock::new(T0);
    let ours = MemoryLogFiles::new();
    let ledger = small_ledger(&ours, &clock);
    let expected = answers(&ledger);
    drop(ledger);
    // The same requests a millisecond later: the same length, other entries.
    let theirs = MemoryLogFiles::new();
    let later = ManualClock::new(T0 + 1);
    let mut other = small_ledger(&theirs, &later);
    let covered = other.snapshot().unwrap();
    drop(other);
    let name = format!("snapshot-{covered:016x}.bin");
    ours.put(&name, Some(theirs.contents()[&name].clone()));

    let reopened = Ledger::open(ours.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(reopened.snapshot_report().loaded, None);
    assert!(
        reopened.snapshot_report().ignored[0].contains("is not the one it was taken after"),
        "{:?}",
        reopened.snapshot_report().ignored
    );
    assert_eq!(answers(&reopened), expected);
    drop(reopened);
    let (_, problem) = verify_files(ours.read_only_view())
        .unwrap()
        .first_problem
        .unwrap();
    assert!(
        problem.contains("is not the state the journal reaches"),
        "{problem}"
    );
}

#[test]
fn snapshots_are_taken_at_the_interval_and_every_one_kept() {
    let files = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    let mut ledger = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    ledger.set_snapshot_interval(Some(4));
    let mut taken = Vec::new();
    for i in 0..10 {
        ledger
            .execute_batch(vec![
                Request::new(
                    format!("a{i}"),
                    Operation::issue("DEUTDEFF/A", "USD", "1.00").unwrap(),
                ),
                Request::new(
                    format!("b{i}"),
                    Operation::open_account("DEUTDEFF/A").unwrap(),
                ),
            ])
            .unwrap();
        taken.push(ledger.snapshot_report().last_taken);
    }
    // Batches of two entries: due at 4, 8, 12, ... entries.
    assert_eq!(
        taken,
        [
            None,
            Some(4),
            Some(4),
            Some(8),
            Some(8),
            Some(12),
            Some(12),
            Some(16),
            Some(16),
            Some(20)
        ]
    );
    let mut kept = snapshot_names(&files);
    kept.sort();
    // Each extends the one before it: none may go.
    assert_eq!(
        kept,
        [4, 8, 12, 16, 20].map(|entries| format!("snapshot-{entries:016x}.bin"))
    );
    // Asked again with nothing new: the same snapshot, and all still kept.
    assert_eq!(ledger.snapshot().unwrap(), 20);
    let mut again = snapshot_names(&files);
    again.sort();
    assert_eq!(again, kept);
    // No interval (and an interval of none) takes no snapshot unasked.
    for interval in [None, Some(0)] {
        let files = MemoryLogFiles::new();
        let mut ledger = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
        ledger.set_snapshot_interval(interval);
        for i in 0..3 {
            ledger
                .execute(Request::new(
                    format!("a{i}"),
                    Operation::issue("DEUTDEFF/A", "USD", "1.00").unwrap(),
                ))
                .unwrap_err(); // no account: refused, and journaled
        }
        assert_eq!(ledger.snapshot_report().last_taken, None, "{interval:?}");
        assert!(snapshot_names(&files).is_empty(), "{interval:?}");
    }
}

#[test]
fn a_snapshot_that_cannot_be_written_is_reported_and_the_batch_stands() {
    let memory = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    drop(small_ledger(&memory, &clock));
    let mut files = common::TestFiles::new(memory.clone());
    files.refuse_create = Some("snapshot-");
    let mut ledger = Ledger::open(files, Box::new(clock.clone())).unwrap();
    ledger.set_snapshot_interval(Some(1));
    let receipt = ledger
        .execute(Request::new(
            "late",
            Operation::issue("DEUTDEFF/A", "USD", "1.00").unwrap(),
        ))
        .unwrap();
    assert!(!receipt.replayed);
    let report = ledger.snapshot_report().clone();
    assert_eq!(report.last_taken, None);
    let failure = report.last_failure.expect("the failure is reported");
    assert!(failure.contains("could not be written"), "{failure}");
    // The ledger goes on, and the entry is in the journal.
    ledger
        .execute(Request::new(
            "later",
            Operation::issue("DEUTDEFF/A", "USD", "1.00").unwrap(),
        ))
        .unwrap();
    drop(ledger);
    let reopened = Ledger::open(memory.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(reopened.snapshot_report().loaded, None);
    assert!(reopened.journaled("late").unwrap().is_some());
    assert!(snapshot_names(&memory).is_empty());
}

/// A crash in the middle of a batch's write: the ledger opens on the whole
/// batches before it, and says in its open report where the torn bytes were
/// and where they are kept; the entries of the torn batch were never
/// acknowledged, and are not there.
#[test]
fn the_open_report_names_a_torn_last_write_the_ledger_set_aside() {
    use isthmus_store::log::format::{encode_batch, parse_segment, SegmentEnd};
    let files = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    let expected = answers(&small_ledger(&files, &clock));
    let (name, mut bytes) = files
        .contents()
        .into_iter()
        .rfind(|(name, _)| name.starts_with("segment-"))
        .unwrap();
    let SegmentEnd::Open { offset: end } = parse_segment(&bytes).unwrap().end else {
        panic!("the last segment is open");
    };
    let batch = encode_batch([b"{\"torn\":1}".as_slice(), b"{\"torn\":2}".as_slice()]);
    let half = &batch[..batch.len() / 2];
    bytes[end..end + half.len()].copy_from_slice(half);
    files.put(&name, Some(bytes));

    let reopened = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    let (torn, saved) = reopened
        .open_report()
        .torn_tail_saved
        .clone()
        .expect("the torn write is reported");
    assert!(torn.torn, "{torn}");
    assert_eq!(torn.file, name);
    assert!(
        (end as u64..(end + half.len()) as u64).contains(&torn.offset),
        "{torn}: the torn bytes are at {end}.."
    );
    assert_eq!(files.contents()[&saved], half, "its bytes are kept");
    assert_eq!(answers(&reopened), expected);
}

#[test]
fn a_snapshot_name_already_taken_by_other_bytes_is_left_as_found_and_one_ahead_is_never_removed() {
    let files = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    let mut ledger = small_ledger(&files, &clock);
    let length = ledger.journal_len();
    let taken = format!("snapshot-{length:016x}.bin");
    let ahead = format!("snapshot-{:016x}.bin", length + 100);
    files.put(&taken, Some(b"not a snapshot".to_vec()));
    files.put(&ahead, Some(b"a snapshot from entries since lost".to_vec()));
    let refused = ledger.snapshot().unwrap_err();
    assert!(refused.to_string().contains("left as found"), "{refused}");
    assert_eq!(files.contents()[&taken], b"not a snapshot");
    assert_eq!(ledger.snapshot_report().last_taken, None);
    // Later snapshots start a chain of their own and remove nothing.
    for i in 0..3 {
        ledger
            .execute(Request::new(
                format!("more-{i}"),
                Operation::issue("DEUTDEFF/A", "USD", "1.00").unwrap(),
            ))
            .unwrap();
        ledger.snapshot().unwrap();
    }
    let mut kept = snapshot_names(&files);
    kept.sort();
    assert_eq!(
        kept,
        [
            taken.clone(),
            format!("snapshot-{:016x}.bin", length + 1),
            format!("snapshot-{:016x}.bin", length + 2),
            format!("snapshot-{:016x}.bin", length + 3),
            ahead.clone(),
        ],
        "the taken name and the one ahead stay as evidence"
    );
    assert_eq!(files.contents()[&taken], b"not a snapshot");
    drop(ledger);
    let reopened = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(reopened.snapshot_report().loaded, Some(length + 3));
}

/// A chain of snapshots: each after the first holds only what may have
/// changed since the one before, so it is smaller than the whole state;
/// one whose link is damaged or gone is not used, nor is any after it,
/// and opening falls back to the chain before it; a ledger reopened from
/// a chain extends it.
#[test]
fn a_chain_of_snapshots_is_folded_and_a_broken_link_falls_back_to_the_one_before() {
    let files = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    let mut ledger = small_ledger(&files, &clock);
    let start = ledger.journal_len();
    let secret = secret();
    let hashlock = *Hex32::sha256_of(&secret).bytes();
    let mut covered = Vec::new();
    for round in 0..3u64 {
        // Twenty locks claimed in each round: closed, they never change again.
        for i in 0..20 {
            let lock = ledger
                .execute(Request::new(
                    format!("lock-{round}-{i}"),
                    common::cent_lock(&hashlock, T0 + 1_000_000),
                ))
                .unwrap();
            ledger
                .execute(Request::new(
                    format!("claim-{round}-{i}"),
                    Operation::claim(lock.seq, &secret).unwrap(),
                ))
                .unwrap();
        }
        covered.push(ledger.snapshot().unwrap());
    }
    assert!(covered[0] > start);
    let name = |entries: u64| format!("snapshot-{entries:016x}.bin");
    let size = |entries: u64| files.contents()[&name(entries)].len();
    // The same journal alone, snapshotted whole at the last point.
    let bare = journal_only(&files);
    let whole_size = {
        let mut whole = Ledger::open(bare.clone(), Box::new(clock.clone())).unwrap();
        assert_eq!(whole.snapshot().unwrap(), covered[2]);
        bare.contents()[&name(covered[2])].len()
    };
    assert!(
        size(covered[2]) < whole_size && size(covered[1]) < size(covered[0]),
        "later snapshots hold what changed: {} and {} bytes, the whole state {} (first {})",
        size(covered[1]),
        size(covered[2]),
        whole_size,
        size(covered[0])
    );
    let expected = answers(&ledger);
    drop(ledger);
    let verified = verify_files(files.read_only_view()).unwrap();
    assert_eq!(verified.first_problem, None);
    assert_eq!(verified.snapshots_checked, 3);

    // Damaged in the middle: the newest cannot be used, nor the middle one;
    // the first can, and the ledger it gives is the same.
    let middle = files.contents()[&name(covered[1])].clone();
    let mut damaged = middle.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 1;
    files.put(&name(covered[1]), Some(damaged));
    let reopened = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    let report = reopened.snapshot_report().clone();
    assert_eq!(report.loaded, Some(covered[0]));
    assert_eq!(report.ignored.len(), 2, "{:?}", report.ignored);
    assert!(
        report.ignored.iter().all(|why| why.contains("SHA-256")),
        "{:?}",
        report.ignored
    );
    assert_eq!(answers(&reopened), expected);
    drop(reopened);
    let verified = verify_files(files.read_only_view()).unwrap();
    let (_, problem) = verified.first_problem.unwrap();
    assert!(problem.contains(&name(covered[1])), "{problem}");

    // Gone: the newest names the link it misses.
    files.put(&name(covered[1]), None);
    let reopened = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    let report = reopened.snapshot_report().clone();
    assert_eq!(report.loaded, Some(covered[0]));
    assert!(
        report.ignored[0].contains(&format!(
            "snapshot of {} entries it extends is not beside it",
            covered[1]
        )),
        "{:?}",
        report.ignored
    );
    assert_eq!(answers(&reopened), expected);
    let verified = verify_files(files.read_only_view()).unwrap();
    let (_, problem) = verified.first_problem.unwrap();
    assert!(problem.contains("not beside it"), "{problem}");

    // Put back, the chain is whole again; a ledger opened from it extends it.
    files.put(&name(covered[1]), Some(middle));
    drop(reopened);
    let mut reopened = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(reopened.snapshot_report().loaded, Some(covered[2]));
    reopened
        .execute(Request::new(
            "after-the-chain",
            Operation::issue("DEUTDEFF/A", "USD", "1.00").unwrap(),
        ))
        .unwrap();
    let extended = reopened.snapshot().unwrap();
    let expected = answers(&reopened);
    drop(reopened);
    let again = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(again.snapshot_report().loaded, Some(extended));
    assert!(again.snapshot_report().ignored.is_empty());
    assert_eq!(answers(&again), expected);
    assert_eq!(
        verify_files(files.read_only_view())
            .unwrap()
            .snapshots_checked,
        4
    );
}

/// Entries before an account's opening that name it (refused, journaled)
/// and an account never opened: a snapshot keeps each one's history.
#[test]
fn a_snapshot_keeps_the_history_of_accounts_before_they_open_and_of_those_never_opened() {
    let files = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    let mut ledger = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    let results = ledger
        .execute_batch(vec![
            Request::new("open-a", Operation::open_account(ACCOUNTS[0]).unwrap()),
            Request::new(
                "fund-a",
                Operation::issue(ACCOUNTS[0], "USD", "5.00").unwrap(),
            ),
            Request::new(
                "early",
                Operation::transfer(ACCOUNTS[0], ACCOUNTS[1], "USD", "1.00").unwrap(),
            ),
            Request::new(
                "never",
                Operation::transfer(ACCOUNTS[0], ACCOUNTS[2], "USD", "1.00").unwrap(),
            ),
            Request::new("open-b", Operation::open_account(ACCOUNTS[1]).unwrap()),
            Request::new(
                "late",
                Operation::transfer(ACCOUNTS[0], ACCOUNTS[1], "USD", "1.00").unwrap(),
            ),
        ])
        .unwrap();
    assert!(results[2].is_err() && results[3].is_err() && results[5].is_ok());
    ledger.snapshot().unwrap();
    let expected = answers(&ledger);
    drop(ledger);
    let reopened = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(reopened.snapshot_report().loaded, Some(6));
    assert_eq!(answers(&reopened), expected);
    let b = parse_account(ACCOUNTS[1]).unwrap();
    let seqs: Vec<u64> = reopened
        .history(&b, 0, 10)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [2, 4, 5]);
    // A ledger opened from a snapshot (or a replay) keeps each account's
    // history by its place alone; a snapshot of it keeps it all the same.
    let mut reopened = reopened;
    reopened
        .execute(Request::new(
            "after",
            Operation::transfer(ACCOUNTS[0], ACCOUNTS[1], "USD", "1.00").unwrap(),
        ))
        .unwrap();
    reopened.snapshot().unwrap();
    let expected = answers(&reopened);
    drop(reopened);
    let again = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    assert_eq!(again.snapshot_report().loaded, Some(7));
    assert_eq!(answers(&again), expected);
    drop(again);
    assert_eq!(
        verify_files(files.read_only_view()).unwrap().first_problem,
        None
    );
}

/// A currency with no minor units cannot be named in a request, but the
/// pure state takes it, and the journal records it: its snapshot is usable.
#[test]
fn a_snapshot_holds_every_asset_the_journal_can() {
    use isthmus_ledger::{Asset, Effect};
    use isthmus_spec::ident::Currency;
    let files = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    let mut ledger = Ledger::open(files.clone(), Box::new(clock.clone())).unwrap();
    let gold = Asset::Cash(Currency::parse("XAU").unwrap());
    let receipts = ledger
        .execute_batch(vec![
            Request::new("open", Operation::open_account(ACCOUNTS[0]).unwrap()),
            Request::new(
                "gold",
                Operation::Issue {
                    account: parse_account(ACCOUNTS[0]).unwrap(),
                    asset: gold.clone(),
                    units: 7,
                },
            ),
        ])
        .unwrap();
    assert_eq!(receipts[1].as_ref().unwrap().effect, Effect::Issued);
    ledger.snapshot().unwrap();
    drop(ledger);
    let reopened = Ledger::open(files, Box::new(clock)).unwrap();
    assert_eq!(reopened.snapshot_report().ignored, Vec::<String>::new());
    assert_eq!(reopened.snapshot_report().loaded, Some(2));
    assert_eq!(
        reopened
            .balance(&parse_account(ACCOUNTS[0]).unwrap(), &gold)
            .unwrap()
            .available,
        7
    );
}

/// Locks open and claimed, and an entry naming one account twice (a
/// transfer to itself, refused and journaled): a snapshot of them is used
/// and answers as the ledger did.
#[test]
fn a_snapshot_with_locks_and_an_entry_naming_an_account_twice_is_used() {
    let files = MemoryLogFiles::new();
    let clock = ManualClock::new(T0);
    let mut ledger = small_ledger(&files, &clock);
    let refused = ledger
        .execute(Request::new(
            "to-itself",
            Operation::transfer(ACCOUNTS[0], ACCOUNTS[0], "USD", "1.00").unwrap(),
        ))
        .unwrap_err();
    assert_eq!(refused.reason(), isthmus_ledger::LedgerReason::SameAccount);
    assert!(
        ledger.state().htlcs().count() >= 2,
        "locks are in the snapshot"
    );
    let covered = ledger.snapshot().unwrap();
    let expected = answers(&ledger);
    drop(ledger);
    let reopened = Ledger::open(files, Box::new(clock)).unwrap();
    assert_eq!(reopened.snapshot_report().ignored, Vec::<String>::new());
    assert_eq!(reopened.snapshot_report().loaded, Some(covered));
    assert_eq!(answers(&reopened), expected);
}
