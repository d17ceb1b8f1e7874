//! Crash test with real processes (sled's `test_crash_recovery` way): a child
//! process applies operations to a sled-backed ledger and prints each
//! acknowledgement; the parent kills it with SIGKILL at random moments,
//! reopens the store, and checks that every acknowledged operation is in the
//! journal with the hash it was acknowledged with, that the journal verifies
//! and that the conservation laws hold. Then the next round resumes on the
//! same store.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use isthmus_ledger::{verify_journal, Ledger, LedgerFailure, Operation, Request};
use isthmus_spec::ids::Hex32;
use isthmus_store::log::DiskLogFiles;
use isthmus_store::SystemClock;

const CHILD_DIR: &str = "ISTHMUS_CRASH_CHILD_DIR";
const CHILD_ROUND: &str = "ISTHMUS_CRASH_CHILD_ROUND";
const ROUNDS: u64 = 8;
const ACCOUNTS: [&str; 4] = ["DEUTDEFF/A", "CHASUS33/B", "MGTCBEBE/C", "DAKVDEFF/D"];

/// A small deterministic generator; the round number seeds it.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// The child: runs only when the parent sets the environment.
#[test]
#[ignore = "run by crash_recovery as a child process"]
fn crash_child() {
    let (Ok(dir), Ok(round)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_ROUND)) else {
        return;
    };
    let round: u64 = round.parse().unwrap();
    let mut ledger = Ledger::open(
        DiskLogFiles::writer(Path::new(&dir)).unwrap(),
        Box::new(SystemClock),
    )
    .unwrap();
    let mut random = XorShift(0x9E37_79B9_7F4A_7C15 ^ (round + 1));
    let secret = *Hex32::sha256_of(b"crash secret").bytes();
    let hashlock = *Hex32::sha256_of(&secret).bytes();
    let mut stdout = std::io::stdout().lock();
    let mut counter = 0u64;
    let mut setup = Vec::new();
    for account in ACCOUNTS {
        setup.push(Request::new(
            format!("open-{account}"),
            Operation::open_account(account).unwrap(),
        ));
    }
    setup.push(Request::new(
        format!("fund-{round}"),
        Operation::issue(ACCOUNTS[0], "USD", "1000000.00").unwrap(),
    ));
    // Snapshots every few hundred entries, so that kills land in them too;
    // odd rounds run the batches through the pipeline.
    ledger.set_snapshot_interval(Some(300 + random.next(200)));
    let pipelined = round % 2 == 1;
    let mut length = ledger.journal_len();
    let keys: std::cell::RefCell<std::collections::VecDeque<Vec<String>>> = Default::default();
    let mut pending = vec![setup];
    let batches = std::iter::from_fn(|| {
        let batch = pending.pop().unwrap_or_else(|| {
            let size = 1 + random.next(40);
            (0..size)
                .map(|index| {
                    counter += 1;
                    let key = format!("r{round}-{counter}");
                    let from = ACCOUNTS[random.next(4) as usize];
                    let to = ACCOUNTS[random.next(4) as usize];
                    let amount = format!("{}.{:02}", 1 + random.next(500), random.next(100));
                    let op = match random.next(3) {
                        0 => Operation::transfer(from, to, "USD", &amount).unwrap(),
                        1 => Operation::lock(from, to, "USD", &amount, &hashlock, u64::MAX / 2)
                            .unwrap(),
                        _ => Operation::claim(
                            (length + index).saturating_sub(1 + random.next(50)),
                            &secret,
                        )
                        .unwrap(),
                    };
                    Request::new(key, op)
                })
                .collect()
        });
        // What the journal will hold once this batch is in (an estimate: a
        // repeated setup key journals nothing), for the claims to name locks.
        length += batch.len() as u64;
        keys.borrow_mut()
            .push_back(batch.iter().map(|r| r.idempotency_key.clone()).collect());
        Some(batch)
    });
    // Only once a batch is durable is anything of it acknowledged: every
    // journaled entry, applied or refused (a refusal is journaled as durably).
    let mut acknowledge = |results: isthmus_ledger::BatchResults| {
        let batch_keys = keys.borrow_mut().pop_front().unwrap();
        for (result, key) in results.into_iter().zip(batch_keys) {
            let position = match result {
                Ok(receipt) => receipt.position(),
                Err(LedgerFailure::Refused {
                    journaled: Some(position),
                    ..
                }) => position,
                Err(other) => panic!("the batch was durable, yet: {other}"),
            };
            writeln!(stdout, "ACK {key} {} {}", position.seq, position.entry_hash).unwrap();
        }
        stdout.flush().unwrap();
    };
    if pipelined {
        ledger
            .execute_pipelined(batches, &mut |result| acknowledge(result.unwrap()))
            .unwrap();
    } else {
        for batch in batches {
            acknowledge(ledger.execute_batch(batch).unwrap());
        }
    }
}

#[test]
fn crash_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged: Vec<(String, u64, String)> = Vec::new();
    let mut random = XorShift(0xD1B5_4A32_D192_ED03);
    let mut loaded_snapshots = 0u64;
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines_rx) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until the child acknowledges its first new operation (the test
        // harness prints lines of its own first), then kill it at a random moment.
        let mut lines = Vec::new();
        while let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(120)) {
            let new_work = line.starts_with(&format!("ACK r{round}-"));
            lines.push(line);
            if new_work {
                break;
            }
        }
        thread::sleep(Duration::from_millis(random.next(150)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(lines_rx.try_iter());
        let before = acknowledged.len();
        // A line cut by the kill has no hash of full length and is ignored:
        // its operation was flushed but never acknowledged.
        for line in lines.iter().filter(|l| l.starts_with("ACK ")) {
            let parts: Vec<&str> = line.split(' ').collect();
            if parts.len() == 4 && parts[3].len() == 64 {
                acknowledged.push((
                    parts[1].to_string(),
                    parts[2].parse().unwrap(),
                    parts[3].to_string(),
                ));
            }
        }
        // The writer opens first: it sets aside an incomplete last write,
        // which a kill during a large write may leave.
        let ledger = Ledger::open(
            DiskLogFiles::writer(dir.path()).unwrap(),
            Box::new(SystemClock),
        )
        .unwrap();
        // A snapshot is written whole under another name and renamed, so a
        // kill never leaves one the writer cannot use.
        assert_eq!(
            ledger.snapshot_report().ignored,
            Vec::<String>::new(),
            "round {round}"
        );
        loaded_snapshots += u64::from(ledger.snapshot_report().loaded.is_some());
        let report = verify_journal(ledger.log()).unwrap();
        assert_eq!(
            report.first_problem, None,
            "round {round}: the journal verifies after SIGKILL"
        );
        ledger.state().check_invariants().unwrap();
        for (key, seq, hash) in &acknowledged {
            let entry = ledger.entry(*seq).unwrap_or_else(|e| {
                panic!("round {round}: acknowledged entry {seq} ({key}) is lost: {e}")
            });
            assert_eq!(&entry.idempotency_key, key, "round {round}: entry {seq}");
            assert_eq!(
                Hex32::sha256_of(&entry.to_bytes()).as_str(),
                hash,
                "round {round}: acknowledged entry {seq} changed"
            );
        }
        assert!(
            acknowledged[before..]
                .iter()
                .any(|(key, _, _)| key.starts_with(&format!("r{round}-"))),
            "round {round}: the child acknowledged new operations before it was killed"
        );
        println!(
            "round {round}: {} operations acknowledged in all, journal holds {}",
            acknowledged.len(),
            ledger.journal_len()
        );
        drop(ledger);
    }
    assert!(
        acknowledged.len() as u64 >= ROUNDS,
        "the children acknowledged work in every round"
    );
    assert!(
        loaded_snapshots > 0,
        "some reopening started from a snapshot the killed child wrote"
    );
}
