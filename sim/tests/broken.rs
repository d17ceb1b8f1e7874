//! The simulator can fail (issue 11 step 6): each deliberately broken engine
//! is caught within a bounded number of seeds, and by the invariant it breaks.
//! Run with `cargo test -p isthmus-sim --features broken-variants --test broken`.

#![cfg(feature = "broken-variants")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_sim::{run_one, Broken, Faults, Invariant, RunConfig};

/// Seeds tried per variant before the test gives up on catching it.
const MAX_SEEDS: u64 = 40;

/// A run with every fault, and crashes between a node's outputs 2% of the
/// time, so that the windows a broken engine leaves open are hit often.
fn harsh(seed: u64) -> RunConfig {
    let mut config = RunConfig::new(
        seed,
        60,
        Faults {
            network: true,
            crash: true,
        },
    );
    config.step_crash_per_mille = 20;
    config
}

fn caught_by(broken: Broken) -> (u64, Vec<Invariant>) {
    for seed in 1..=MAX_SEEDS {
        let mut config = harsh(seed);
        config.broken = Some(broken);
        let report = run_one(config);
        if !report.violations.is_empty() {
            let mut invariants: Vec<Invariant> =
                report.violations.iter().map(|v| v.invariant).collect();
            invariants.sort();
            invariants.dedup();
            println!("{broken:?}: first violation: {}", report.violations[0]);
            return (seed, invariants);
        }
    }
    panic!("{broken:?} was not caught in {MAX_SEEDS} seeds");
}

#[test]
fn every_broken_variant_is_caught_by_the_invariant_it_breaks() {
    let expected = [
        (Broken::RevealBeforeBothLocks, Invariant::ClaimBeforeLocks),
        (Broken::IgnoreDelta, Invariant::Atomicity),
        (Broken::ForgetsUnpersisted, Invariant::Liveness),
        (Broken::SendsBeforePersisting, Invariant::Liveness),
        (Broken::WatcherNeverRefunds, Invariant::Liveness),
        (Broken::CreditsWrongAccount, Invariant::Beneficiary),
    ];
    assert_eq!(
        expected.len(),
        Broken::ALL.len(),
        "every variant has its expected invariant"
    );
    for (broken, invariant) in expected {
        let (seed, invariants) = caught_by(broken);
        println!("{broken:?}: caught at seed {seed} by {invariants:?}");
        assert!(
            invariants.contains(&invariant),
            "{broken:?} was caught at seed {seed} by {invariants:?}, not by {invariant}"
        );
    }
}

#[test]
fn the_same_runs_without_a_broken_engine_are_clean() {
    for seed in 1..=MAX_SEEDS {
        let report = run_one(harsh(seed));
        assert!(
            report.violations.is_empty(),
            "{:?}",
            report.violations.first()
        );
    }
}
