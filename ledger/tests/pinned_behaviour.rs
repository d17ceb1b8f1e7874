//! Behaviours mutation testing found unpinned: what a refusal's sentence
//! names, how codes and keys read back, and the batch limit exactly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_ledger::{
    parse_account, IdempotencyKey, Ledger, LedgerReason, Operation, Request, MAX_BATCH_OPERATIONS,
};
use isthmus_store::log::MemoryLogFiles;
use isthmus_store::ManualClock;

#[test]
fn a_bad_account_says_which_part_is_wrong() {
    let owner = parse_account("NOTANOWNER/SAFE-1").unwrap_err();
    assert_eq!(owner.reason, LedgerReason::AccountIdInvalid);
    assert!(owner.message.contains("its owner: "), "{}", owner.message);
    let account = parse_account("DEUTDEFF/A//B").unwrap_err();
    assert!(
        account.message.contains("its account id: "),
        "{}",
        account.message
    );
    let shape = parse_account("DEUTDEFF").unwrap_err();
    assert!(
        !shape.message.contains("its owner") && !shape.message.contains("its account id"),
        "{}",
        shape.message
    );
}

#[test]
fn reason_codes_display_as_their_stable_code() {
    for reason in LedgerReason::ALL {
        assert_eq!(reason.to_string(), reason.as_str());
    }
    assert_eq!(
        LedgerReason::InsufficientFunds.to_string(),
        "INSUFFICIENT_FUNDS"
    );
}

#[test]
fn an_idempotency_key_reads_back_as_written() {
    let key = IdempotencyKey::new("lock:STL-1:SECURITIES").unwrap();
    assert_eq!(key.as_str(), "lock:STL-1:SECURITIES");
}

/// A request opening account number `i`.
fn open(i: usize) -> Request {
    Request::new(
        format!("open-{i}"),
        Operation::open_account(&format!("DEUTDEFF/ACC-{i}")).unwrap(),
    )
}

#[test]
fn a_batch_of_exactly_the_maximum_is_applied_and_one_more_refused() {
    let clock = ManualClock::new(1_800_000_000_000);
    let mut ledger = Ledger::open(MemoryLogFiles::new(), Box::new(clock)).unwrap();
    let too_many: Vec<Request> = (0..=MAX_BATCH_OPERATIONS).map(open).collect();
    assert_eq!(
        ledger.execute_batch(too_many).err().map(|f| f.reason()),
        Some(LedgerReason::BatchTooLarge)
    );
    assert_eq!(
        ledger.journal_len(),
        0,
        "nothing of a refused batch is journaled"
    );
    let exactly: Vec<Request> = (0..MAX_BATCH_OPERATIONS).map(open).collect();
    let results = ledger.execute_batch(exactly).unwrap();
    assert_eq!(results.len(), MAX_BATCH_OPERATIONS);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(ledger.journal_len(), MAX_BATCH_OPERATIONS as u64);
}

/// Repeats of keys first used earlier in the same batch, from its first
/// entry to its last, replay their entries (not yet in the journal when the
/// repeat is seen).
#[test]
fn repeats_within_one_batch_replay_entries_from_anywhere_in_it() {
    let clock = ManualClock::new(1_800_000_000_000);
    let mut ledger = Ledger::open(MemoryLogFiles::new(), Box::new(clock)).unwrap();
    let count = 53;
    let repeated = [0, 1, 15, 16, 19, 33, count - 1];
    let mut requests: Vec<Request> = (0..count).map(open).collect();
    requests.extend(repeated.iter().map(|&i| open(i)));
    let results = ledger.execute_batch(requests).unwrap();
    for (n, &i) in repeated.iter().enumerate() {
        let first = results[i].as_ref().unwrap();
        let again = results[count + n].as_ref().unwrap();
        assert!(again.replayed, "repeat of {i}");
        assert_eq!(
            (again.seq, &again.entry_hash, &again.effect),
            (first.seq, &first.entry_hash, &first.effect),
            "repeat of {i}"
        );
    }
    assert_eq!(
        ledger.journal_len(),
        count as u64,
        "repeats journal nothing"
    );
}

/// What the journal recorded for a key: the position and outcome of its
/// entry, a refusal included; nothing for a key never used; and no answer
/// from a ledger whose last write failed.
#[test]
fn the_journal_answers_what_a_key_did() {
    use isthmus_ledger::operation::{Effect, Outcome};
    use isthmus_ledger::FailureKind;
    let store = MemoryLogFiles::new();
    let clock = ManualClock::new(1_800_000_000_000);
    let mut ledger = Ledger::open(store.clone(), Box::new(clock)).unwrap();
    let applied = ledger
        .execute(Request::new(
            "open",
            Operation::open_account("DEUTDEFF/A").unwrap(),
        ))
        .unwrap();
    let refused = ledger
        .execute(Request::new(
            "again",
            Operation::open_account("DEUTDEFF/A").unwrap(),
        ))
        .unwrap_err();
    let (position, outcome) = ledger.journaled("open").unwrap().unwrap();
    assert_eq!(position, applied.position());
    assert_eq!(outcome, Outcome::Applied(Effect::AccountOpened));
    let (position, outcome) = ledger.journaled("again").unwrap().unwrap();
    let isthmus_ledger::LedgerFailure::Refused { journaled, error } = refused else {
        panic!("a journaled refusal")
    };
    assert_eq!(Some(position), journaled);
    assert_eq!(outcome, Outcome::Refused(error));
    assert_eq!(ledger.journaled("never").unwrap(), None);
    store.fail_syncs(true);
    assert!(ledger
        .execute(Request::new(
            "x",
            Operation::open_account("DEUTDEFF/B").unwrap()
        ))
        .is_err());
    assert_eq!(
        ledger.journaled("open").unwrap_err().kind(),
        FailureKind::Unavailable
    );
}

/// The journal writes integers as decimal strings; reading one back accepts
/// only the canonical spelling, so one number has one form.
#[test]
fn journal_integers_read_back_only_in_their_canonical_spelling() {
    let refund = |text: &str| {
        serde_json::from_str::<Operation>(&format!(r#"{{"refund":{{"lock_id":"{text}"}}}}"#))
    };
    for good in ["0", "7", "18446744073709551615"] {
        assert!(refund(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "007",
        "00",
        "7a",
        "-1",
        "+7",
        " 7",
        "18446744073709551616",
    ] {
        assert!(refund(bad).is_err(), "{bad:?}");
    }
}

/// Verification names the journal entry whose stored bytes are damaged,
/// verifies every entry before it, and counts the locks still open.
#[test]
fn verify_reports_a_damaged_entry_and_the_open_locks() {
    use isthmus_ledger::verify_files;
    use isthmus_store::log::format::parse_segment;
    use isthmus_store::log::segment_name;
    let store = MemoryLogFiles::new();
    let clock = ManualClock::new(1_800_000_000_000);
    let mut ledger = Ledger::open(store.clone(), Box::new(clock)).unwrap();
    let secret = [7u8; 32];
    let hashlock = *isthmus_spec::ids::Hex32::sha256_of(&secret).bytes();
    let ops = [
        Operation::open_account("DEUTDEFF/A").unwrap(),
        Operation::open_account("DEUTDEFF/B").unwrap(),
        Operation::issue("DEUTDEFF/A", "USD", "100").unwrap(),
        Operation::lock(
            "DEUTDEFF/A",
            "DEUTDEFF/B",
            "USD",
            "1",
            &hashlock,
            1_900_000_000_000,
        )
        .unwrap(),
        Operation::lock(
            "DEUTDEFF/A",
            "DEUTDEFF/B",
            "USD",
            "2",
            &hashlock,
            1_900_000_000_000,
        )
        .unwrap(),
        Operation::lock(
            "DEUTDEFF/A",
            "DEUTDEFF/B",
            "USD",
            "3",
            &hashlock,
            1_900_000_000_000,
        )
        .unwrap(),
        Operation::claim(3, &secret).unwrap(),
    ];
    for (i, op) in ops.into_iter().enumerate() {
        ledger.execute(Request::new(format!("op-{i}"), op)).unwrap();
    }
    drop(ledger);
    let report = verify_files(store.read_only_view()).unwrap();
    assert_eq!(
        (report.entries_verified, report.open_locks),
        (7, 2),
        "three locks, one claimed"
    );
    assert_eq!(report.accounts, 2);
    assert_eq!(report.first_problem, None);
    // One byte of entry 2's stored bytes flipped.
    let name = segment_name(0);
    let mut bytes = store.contents()[&name].clone();
    let at = parse_segment(&bytes).unwrap().records[2].offset + 20;
    bytes[at] ^= 0x01;
    store.put(&name, Some(bytes));
    let report = verify_files(store.read_only_view()).unwrap();
    let (seq, problem) = report.first_problem.unwrap();
    assert_eq!(seq, 2);
    assert!(problem.contains("checksum"), "{problem}");
    assert!(
        !problem.contains("crash"),
        "entries follow: damage, not a torn write: {problem}"
    );
    assert_eq!(report.entries_verified, 2);
}
