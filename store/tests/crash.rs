//! `SledStore::flush` makes writes durable, checked with real processes (the
//! way of sled's `test_crash_recovery` and `ledger/tests/crash.rs`): a child
//! process commits writes and prints an acknowledgement after each commit
//! returns; the parent kills it with SIGKILL, reopens the store and checks
//! that every acknowledged write is there. The store is opened with sled's
//! background flusher off, so only `flush` can have put them on disk.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use isthmus_store::{KvStore, SledStore};

const CHILD_DIR: &str = "ISTHMUS_STORE_CRASH_CHILD_DIR";
const CHILD_ROUND: &str = "ISTHMUS_STORE_CRASH_CHILD_ROUND";
const ROUNDS: u64 = 2;
/// Acknowledgements the parent waits for before it kills the child.
const ACKS_BEFORE_KILL: usize = 50;

fn key(round: u64, n: u64) -> String {
    format!("w/{round}/{n:08}")
}

fn value(round: u64, n: u64) -> String {
    format!("value of write {n} in round {round}")
}

/// The child: runs only when the parent sets the environment, and commits
/// writes until it is killed.
#[test]
#[ignore = "run by acknowledged_writes_survive_sigkill as a child process"]
fn crash_child() {
    let (Ok(dir), Ok(round)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_ROUND)) else {
        return;
    };
    let round: u64 = round.parse().unwrap();
    let store = SledStore::open(Path::new(&dir)).unwrap();
    let mut stdout = std::io::stdout().lock();
    for n in 0.. {
        // Every other write is a batch of two, so batches are checked too.
        let mut batch = vec![(
            key(round, n).into_bytes(),
            Some(value(round, n).into_bytes()),
        )];
        if n % 2 == 1 {
            batch.push((
                format!("b/{round}/{n:08}").into_bytes(),
                Some(b"batched".to_vec()),
            ));
        }
        store.commit(batch).unwrap();
        writeln!(stdout, "ACK {round} {n}").unwrap();
        stdout.flush().unwrap();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    // (round, number of acknowledged writes) of every round so far.
    let mut acknowledged: Vec<(u64, u64)> = Vec::new();
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
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        // The test harness prints lines of its own first; count only ours.
        let mut acks = 0u64;
        for line in lines.by_ref() {
            if line.starts_with(&format!("ACK {round} ")) {
                acks += 1;
                if acks as usize == ACKS_BEFORE_KILL {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // Acknowledgements printed before the kill took effect count too; a
        // line cut short by the kill is not one.
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            if parts.len() == 3 && parts[0] == "ACK" && parts[2].parse::<u64>() == Ok(acks) {
                acks += 1;
            }
        }
        assert!(
            acks as usize >= ACKS_BEFORE_KILL,
            "round {round}: the child acknowledged {acks} writes before it stopped"
        );
        acknowledged.push((round, acks));

        let store = SledStore::open(dir.path()).unwrap();
        for &(past, count) in &acknowledged {
            for n in 0..count {
                assert_eq!(
                    store.get(key(past, n).as_bytes()).unwrap(),
                    Some(value(past, n).into_bytes()),
                    "round {round}: acknowledged write {n} of round {past} is lost"
                );
                if n % 2 == 1 {
                    assert_eq!(
                        store
                            .get(format!("b/{past}/{n:08}").as_bytes())
                            .unwrap()
                            .as_deref(),
                        Some(&b"batched"[..]),
                        "round {round}: the batch of write {n} of round {past} is torn"
                    );
                }
            }
        }
        drop(store);
    }
}
