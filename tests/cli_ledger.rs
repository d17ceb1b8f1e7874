//! `isthmus ledger …` and `isthmus bench ledger` end to end, on a ledger
//! written through the library.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use isthmus_ledger::{Ledger, Operation, Request};
use isthmus_spec::ids::Hex32;
use isthmus_store::log::format::parse_segment;
use isthmus_store::log::{segment_name, DiskLogFiles};
use isthmus_store::ManualClock;
use serde_json::Value;

const SELLER: &str = "549300ISTHMUSSELL015/SAFE-SELLER-01";
const BUYER: &str = "549300ISTHMUSBUYR064/SAFE-BUYER-01";
const APPLE: &str = "US0378331005";

fn isthmus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isthmus"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A small market: two accounts, Apple shares and dollars, one claimed lock and one open.
fn make_ledger(dir: &Path) {
    let mut ledger = Ledger::open(
        DiskLogFiles::writer(dir).unwrap(),
        Box::new(ManualClock::new(1_800_000_000_000)),
    )
    .unwrap();
    let secret = *Hex32::sha256_of(b"cli secret").bytes();
    let hashlock = *Hex32::sha256_of(&secret).bytes();
    let ops = [
        Operation::open_account(SELLER).unwrap(),
        Operation::open_account(BUYER).unwrap(),
        Operation::issue(SELLER, APPLE, "1000").unwrap(),
        Operation::issue(BUYER, "USD", "250000.00").unwrap(),
        Operation::lock(SELLER, BUYER, APPLE, "100", &hashlock, 1_900_000_000_000).unwrap(),
        Operation::claim(4, &secret).unwrap(),
        Operation::lock(SELLER, BUYER, APPLE, "25.5", &hashlock, 1_900_000_000_000).unwrap(),
    ];
    for (index, op) in ops.into_iter().enumerate() {
        // A refusal is an error now: unwrap asserts the operation applied.
        let receipt = ledger
            .execute(Request::new(format!("op-{index}"), op))
            .unwrap();
        assert!(!receipt.replayed, "{receipt:?}");
    }
}

#[test]
fn verify_holdings_and_register() {
    let dir = tempfile::tempdir().unwrap();
    make_ledger(dir.path());
    let data = dir.path().to_str().unwrap();

    let verified = isthmus(&["ledger", "verify", "--data", data]);
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
    assert!(
        stdout(&verified).starts_with("OK 7 journal entries verified"),
        "{}",
        stdout(&verified)
    );

    let holdings = isthmus(&[
        "ledger",
        "holdings",
        "--data",
        data,
        "--account",
        SELLER,
        "--json",
    ]);
    assert_eq!(
        holdings.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&holdings.stderr)
    );
    let report: Value = serde_json::from_slice(&holdings.stdout).unwrap();
    assert_eq!(report["holdings"][0]["asset"], APPLE);
    assert_eq!(report["holdings"][0]["available"], "874.5");
    assert_eq!(report["holdings"][0]["locked"], "25.5");

    let register = isthmus(&[
        "ledger", "register", "--data", data, "--isin", APPLE, "--json",
    ]);
    let report: Value = serde_json::from_slice(&register.stdout).unwrap();
    let holders = report["holders"].as_array().unwrap();
    assert_eq!(holders.len(), 2);
    assert_eq!(
        holders.iter().find(|h| h["account"] == BUYER).unwrap()["total"],
        "100"
    );

    let text = isthmus(&["ledger", "holdings", "--data", data, "--account", BUYER]);
    assert!(
        stdout(&text).contains("USD") && stdout(&text).contains("250000"),
        "{}",
        stdout(&text)
    );
}

#[test]
fn verify_names_a_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    make_ledger(dir.path());
    let segment = dir.path().join(segment_name(0));
    let mut bytes = std::fs::read(&segment).unwrap();
    let at = {
        let record = parse_segment(&bytes).unwrap().records[3];
        record.offset + 8 + record.payload.len() / 2
    };
    bytes[at] ^= 0x20;
    std::fs::write(&segment, &bytes).unwrap();
    let data = dir.path().to_str().unwrap();
    let verified = isthmus(&["ledger", "verify", "--data", data, "--json"]);
    assert_eq!(verified.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(report["verified"], false);
    assert_eq!(report["first_problem"]["entry"], 3);
    assert_eq!(report["entries_verified"], 3);
    let holdings = isthmus(&["ledger", "holdings", "--data", data, "--account", SELLER]);
    assert_eq!(
        holdings.status.code(),
        Some(1),
        "a corrupt ledger is refused, as verify refuses it"
    );
    let stderr = String::from_utf8_lossy(&holdings.stderr);
    assert!(
        stderr.contains("JOURNAL_CORRUPT") && stderr.contains("journal entry 3"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_are_explained() {
    let missing = isthmus(&["ledger", "verify", "--data", "/definitely/not/a/ledger"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no ledger at /definitely/not/a/ledger")
    );
    let dir = tempfile::tempdir().unwrap();
    make_ledger(dir.path());
    let data = dir.path().to_str().unwrap();
    let bad_account = isthmus(&["ledger", "holdings", "--data", data, "--account", "nobody"]);
    assert_eq!(bad_account.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_account.stderr).contains("ACCOUNT_ID_INVALID"));
    let unknown = isthmus(&[
        "ledger",
        "holdings",
        "--data",
        data,
        "--account",
        "DEUTDEFF/NONE",
    ]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("ACCOUNT_UNKNOWN"));
    let bad_isin = isthmus(&[
        "ledger",
        "register",
        "--data",
        data,
        "--isin",
        "US0378331006",
    ]);
    assert!(String::from_utf8_lossy(&bad_isin.stderr).contains("ISIN_CHECK_DIGIT"));
}

#[test]
fn bench_ledger_reports_its_figures_as_json() {
    // A smoke test of the benchmark's plumbing on tiny sizes; figures come from release runs.
    let output = isthmus(&[
        "bench",
        "ledger",
        "--single-pairs",
        "5",
        "--batched-ops",
        "40",
        "--batch-size",
        "20",
        "--json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout(&output).lines().last().unwrap().to_string();
    let report: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(report["single"]["operations"], 10);
    assert_eq!(report["batched"]["operations"], 40);
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(report["batched"]["ops_per_second"].as_f64().unwrap() > 0.0);
    let odd = isthmus(&["bench", "ledger", "--batch-size", "3"]);
    assert_eq!(odd.status.code(), Some(2));
}

/// Every file under `dir` with its bytes: what "changed nothing" compares.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            files.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
    files
}

const READ_COMMANDS: [&[&str]; 3] = [
    &["ledger", "verify"],
    &["ledger", "holdings", "--account", SELLER],
    &["ledger", "register", "--isin", APPLE],
];

fn run_read_command(command: &[&str], data: &str) -> Output {
    let mut args = command.to_vec();
    args.extend(["--data", data]);
    isthmus(&args)
}

/// Issue 10, findings 1 and 2: on a damaged journal, every read command
/// refuses (exit 1, naming the entry), never panics, and never writes a
/// byte of what it read, whatever the damage.
#[test]
fn read_commands_on_a_damaged_ledger_refuse_and_change_nothing() {
    let pristine = tempfile::tempdir().unwrap();
    make_ledger(pristine.path());
    let segment = segment_name(0);
    let bytes = std::fs::read(pristine.path().join(&segment)).unwrap();
    let record = parse_segment(&bytes).unwrap().records[5];
    type DamageFn = Box<dyn Fn(&Path)>;
    let damages: Vec<(&str, DamageFn)> = vec![
        (
            "a flipped byte in entry 5",
            Box::new(move |dir: &Path| {
                let path = dir.join(segment_name(0));
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[record.offset + 12] ^= 0xFF;
                std::fs::write(&path, bytes).unwrap();
            }),
        ),
        (
            "a truncated segment",
            Box::new(|dir: &Path| {
                let path = dir.join(segment_name(0));
                let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                file.set_len(700).unwrap();
            }),
        ),
        (
            "a deleted segment",
            Box::new(|dir: &Path| std::fs::remove_file(dir.join(segment_name(0))).unwrap()),
        ),
        (
            "a deleted FORMAT file",
            Box::new(|dir: &Path| std::fs::remove_file(dir.join("FORMAT")).unwrap()),
        ),
    ];
    for (what, damage) in damages {
        let case = tempfile::tempdir().unwrap();
        for (name, bytes) in snapshot(pristine.path()) {
            std::fs::write(case.path().join(name), bytes).unwrap();
        }
        damage(case.path());
        let before = snapshot(case.path());
        for command in READ_COMMANDS {
            let output = run_read_command(command, case.path().to_str().unwrap());
            let all = format!(
                "{}{}",
                stdout(&output),
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(
                output.status.code(),
                Some(1),
                "{command:?} after {what}: {all}"
            );
            assert!(!all.contains("panicked"), "{all}");
            assert_eq!(
                snapshot(case.path()),
                before,
                "{command:?} after {what} wrote"
            );
        }
        let verified = run_read_command(
            &["ledger", "verify", "--json"],
            case.path().to_str().unwrap(),
        );
        let report: Value = serde_json::from_slice(&verified.stdout).unwrap();
        assert_eq!(report["verified"], false, "{what}: {report}");
        if what.starts_with("a flipped byte") {
            assert_eq!(report["first_problem"]["entry"], 5, "{report}");
            let problem = report["first_problem"]["problem"].as_str().unwrap();
            assert!(
                problem.contains(&segment) && problem.contains("byte"),
                "{problem}"
            );
        }
    }
}

/// Issue 10, finding 3: a directory that holds no ledger does not verify,
/// and reading it creates nothing there.
#[test]
fn verify_on_anything_that_is_not_a_ledger_says_so_and_creates_nothing() {
    let empty = tempfile::tempdir().unwrap();
    let unrelated = tempfile::tempdir().unwrap();
    std::fs::write(unrelated.path().join("notes.txt"), "not a ledger\n").unwrap();
    for dir in [empty.path(), unrelated.path()] {
        let before = snapshot(dir);
        for command in READ_COMMANDS {
            let output = run_read_command(command, dir.to_str().unwrap());
            assert_eq!(output.status.code(), Some(1), "{command:?}");
            let all = format!(
                "{}{}",
                stdout(&output),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(all.contains("no ledger journal here"), "{all}");
        }
        assert_eq!(
            snapshot(dir),
            before,
            "nothing created in {}",
            dir.display()
        );
    }
    let root = run_read_command(&["ledger", "verify"], "/");
    assert_eq!(root.status.code(), Some(1));
    assert!(
        stdout(&root).starts_with("NOT VERIFIED"),
        "{}",
        stdout(&root)
    );
    for name in ["FORMAT", "LOCK", "db", "conf", "snap.0000000000000000"] {
        assert!(!Path::new("/").join(name).exists(), "/{name} was created");
    }
}
