//! Random damage to a ledger's journal files (issue 10): every read either
//! verifies exactly what was written or refuses naming the entry and where
//! the damage is; none panics and none writes a byte.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_ledger::{verify_files, Ledger, LedgerReason, Operation, Request, VerifyReport};
use isthmus_spec::ids::Hex32;
use isthmus_store::log::MemoryLogFiles;
use isthmus_store::ManualClock;
use proptest::prelude::*;

const SELLER: &str = "DEUTDEFF/SELLER";
const BUYER: &str = "CHASUS33/BUYER";
const APPLE: &str = "US0378331005";
const T0: u64 = 1_800_000_000_000;

/// A ledger with accounts, an issue, locks, claims and transfers, in single
/// operations and batches, so its journal spans several segments.
fn ledger_files() -> MemoryLogFiles {
    let files = MemoryLogFiles::with_segment_bytes(64 * 1024);
    let mut ledger = Ledger::open(files.clone(), Box::new(ManualClock::new(T0))).unwrap();
    let secret = *Hex32::sha256_of(b"damage secret").bytes();
    let hashlock = *Hex32::sha256_of(&secret).bytes();
    for (i, op) in [
        Operation::open_account(SELLER),
        Operation::open_account(BUYER),
        Operation::issue(SELLER, APPLE, "100000"),
    ]
    .into_iter()
    .enumerate()
    {
        ledger
            .execute(Request::new(format!("setup-{i}"), op.unwrap()))
            .unwrap();
    }
    for round in 0..30u64 {
        let lock = ledger
            .execute(Request::new(
                format!("lock-{round}"),
                Operation::lock(SELLER, BUYER, APPLE, "1", &hashlock, T0 + 60_000).unwrap(),
            ))
            .unwrap();
        let batch = (0..20)
            .map(|i| {
                Request::new(
                    format!("move-{round}-{i}"),
                    Operation::transfer(SELLER, BUYER, APPLE, "1").unwrap(),
                )
            })
            .chain([Request::new(
                format!("claim-{round}"),
                Operation::claim(lock.seq, &secret).unwrap(),
            )])
            .collect();
        ledger.execute_batch(batch).unwrap();
    }
    files
}

/// The pristine journal's files and its verification, made once.
fn pristine() -> &'static (std::collections::BTreeMap<String, Vec<u8>>, VerifyReport) {
    static PRISTINE: std::sync::OnceLock<(
        std::collections::BTreeMap<String, Vec<u8>>,
        VerifyReport,
    )> = std::sync::OnceLock::new();
    PRISTINE.get_or_init(|| {
        let files = ledger_files();
        let report = verify_files(files.read_only_view()).unwrap();
        assert_eq!(report.first_problem, None);
        assert!(
            files.contents().len() > 3,
            "the journal spans several segments"
        );
        (files.contents(), report)
    })
}

#[derive(Debug, Clone)]
enum Damage {
    Flip { file: usize, at: usize, mask: u8 },
    Truncate { file: usize, to: usize },
    Delete { file: usize },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), 1..=255u8).prop_map(|(file, at, mask)| Damage::Flip {
            file,
            at,
            mask
        }),
        (any::<usize>(), any::<usize>()).prop_map(|(file, to)| Damage::Truncate { file, to }),
        any::<usize>().prop_map(|file| Damage::Delete { file }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn every_read_verifies_exactly_or_names_the_damage_and_writes_nothing(damage in damage()) {
        let (contents, pristine) = pristine();
        let files = MemoryLogFiles::new();
        for (name, bytes) in contents {
            files.put(name, Some(bytes.clone()));
        }
        let names: Vec<String> = files.contents().keys().cloned().collect();
        let pick = |i: usize| names[i % names.len()].clone();
        match damage {
            Damage::Flip { file, at, mask } => {
                let name = pick(file);
                let mut bytes = files.contents()[&name].clone();
                let len = bytes.len();
                bytes[at % len] ^= mask;
                files.put(&name, Some(bytes));
            }
            Damage::Truncate { file, to } => {
                let name = pick(file);
                let mut bytes = files.contents()[&name].clone();
                let len = bytes.len();
                bytes.truncate(to % len);
                files.put(&name, Some(bytes));
            }
            Damage::Delete { file } => files.put(&pick(file), None),
        }
        let before = files.contents();
        let verify = verify_files(files.read_only_view());
        let opened = Ledger::open_read_only(files.read_only_view(), Box::new(ManualClock::new(T0)));
        match verify {
            Ok(report) if report.first_problem.is_none() => {
                // Only a verification of the very journal written is OK.
                prop_assert_eq!(&report, pristine);
                prop_assert!(opened.is_ok());
            }
            Ok(report) => {
                let (entry, problem) = report.first_problem.clone().unwrap();
                prop_assert_eq!(report.entries_verified, entry);
                prop_assert!(entry <= pristine.entries_verified);
                prop_assert!(problem.contains("segment-") || problem.contains("entry"), "{}", problem);
                let refused = opened.err().expect("a damaged journal does not open");
                prop_assert_eq!(refused.reason(), LedgerReason::JournalCorrupt);
                prop_assert!(refused.error().message.contains(&format!("entry {entry}")), "{}", refused.error().message);
            }
            Err(not_a_ledger) => {
                prop_assert!(not_a_ledger.error().message.contains("no ledger journal here"), "{}", not_a_ledger.error().message);
                prop_assert!(opened.is_err());
            }
        }
        prop_assert_eq!(files.contents(), before, "reading wrote");
    }
}
