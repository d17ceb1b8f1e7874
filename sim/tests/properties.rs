//! A property over simulator seeds (issue 11): whatever the seed, the
//! trade count and the faults — network on or off, crashes on or off,
//! long relay outages on or off, one relay or two, loss and duplication
//! from 0 to 15 % — a run breaks no invariant. Each case is one whole run
//! (a network settling its trades) whose faults its seed carries
//! ([`SeedFaults`]), so a failure is replayed from the seed alone with
//! `isthmus simulate --replay SEED --per-run TRADES --faults random`,
//! which the failure message prints with the violations and the trace.
//!
//! Size: two properties (one per core in `cargo test`), each [`CASES`] runs
//! of 10 to [`MAX_TRADES`] trades; `PROPTEST_CASES` overrides the count.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};

use isthmus_sim::world::SeedFaults;
use isthmus_sim::{explain, run_one, RunConfig};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// Runs per property.
const CASES: u32 = 100;
/// Most trades in one run.
const MAX_TRADES: usize = 80;
/// Most trace lines a failure prints.
const TRACE_LINES: usize = 400;

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(CASES),
        // A shrink step is a whole run: keep the search short.
        max_shrink_iters: 64,
        // sim/tests/properties.proptest-regressions, re-run first next time.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

fn faults(two_relays: bool) -> impl Strategy<Value = SeedFaults> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u64..=15,
        0u64..=15,
    )
        .prop_map(
            move |(network, crash, relay_outages, loss_percent, duplicate_percent)| SeedFaults {
                network,
                crash,
                relay_outages,
                two_relays,
                loss_percent,
                duplicate_percent,
            },
        )
}

/// Runs, settlements, settled and aborted so far, over both properties.
static DONE: [AtomicU64; 4] = [
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
];

/// Runs the case and fails with everything needed to replay it.
fn check(high: u64, faults: SeedFaults, trades: usize) -> Result<(), TestCaseError> {
    let seed = faults.seed(high);
    let config = RunConfig::from_seed(seed, trades);
    let report = run_one(config.clone());
    let counts = [1, report.settlements, report.settled, report.aborted];
    let totals: Vec<u64> = DONE
        .iter()
        .zip(counts)
        .map(|(done, count)| done.fetch_add(count, Ordering::SeqCst) + count)
        .collect();
    if totals[0] % 50 == 0 {
        // Seen with --nocapture: how much the properties drove so far.
        println!(
            "properties: {} runs, {} settlements ({} settled, {} aborted)",
            totals[0], totals[1], totals[2], totals[3]
        );
    }
    if let Some(first) = report.violations.first() {
        let trace = explain(config, first);
        let shown = trace.len().min(TRACE_LINES);
        let violations: Vec<String> = report
            .violations
            .iter()
            .take(10)
            .map(|v| format!("  {v}"))
            .collect();
        return Err(TestCaseError::fail(format!(
            "run seed {seed} ({faults:?}, {trades} trades) broke {} invariant(s):\n{}\nreplay: isthmus simulate --replay {seed} --per-run {trades} --faults random\ntrace of the first ({shown} of {} lines):\n{}",
            report.violations.len(),
            violations.join("\n"),
            trace.len(),
            trace[..shown].join("\n"),
        )));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_seed_and_faults_with_one_relay_break_no_invariant(
        high in any::<u64>(),
        faults in faults(false),
        trades in 10usize..=MAX_TRADES,
    ) {
        check(high, faults, trades)?;
    }

    #[test]
    fn any_seed_and_faults_with_two_relays_break_no_invariant(
        high in any::<u64>(),
        faults in faults(true),
        trades in 10usize..=MAX_TRADES,
    ) {
        check(high, faults, trades)?;
    }
}

#[test]
fn a_seed_carries_its_faults_and_a_run_replays_from_it() {
    let faults = SeedFaults {
        network: true,
        crash: false,
        relay_outages: true,
        two_relays: true,
        loss_percent: 15,
        duplicate_percent: 3,
    };
    let seed = faults.seed(0xDEAD_BEEF);
    assert_eq!(SeedFaults::of_seed(seed), faults);
    let config = RunConfig::from_seed(seed, 20);
    assert_eq!(
        (config.relays, config.loss_percent, config.duplicate_percent),
        (2, 15, 3)
    );
    assert!(config.faults.network && !config.faults.crash && config.relay_outages.on);
    assert_eq!(run_one(config.clone()), run_one(config));
}
