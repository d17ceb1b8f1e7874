//! Whole simulated runs: no invariant breaks, with and without faults, and
//! a run replays exactly from its seed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_sim::{run_one, Faults, RunConfig};

fn faults(network: bool, crash: bool) -> Faults {
    Faults { network, crash }
}

fn assert_clean_run(config: RunConfig) -> isthmus_sim::Report {
    let report = run_one(config.clone());
    if let Some(first) = report.violations.first() {
        let trace = isthmus_sim::explain(config, first);
        panic!(
            "{} violations, first: {first}\ntrace:\n{}",
            report.violations.len(),
            trace.join("\n")
        );
    }
    report
}

#[test]
fn a_run_without_faults_settles_aborts_and_cancels_as_its_trades_intend() {
    let report = assert_clean_run(RunConfig::new(1, 60, faults(false, false)));
    assert!(report.settled > 0 && report.aborted > 0, "{report:?}");
}

#[test]
fn runs_with_network_faults_crashes_and_both_break_no_invariant() {
    for seed in 1..=12u64 {
        for (network, crash) in [(true, false), (false, true), (true, true)] {
            let report = assert_clean_run(RunConfig::new(seed, 80, faults(network, crash)));
            assert!(
                report.settled > 0,
                "seed {seed}: nothing settled: {report:?}"
            );
        }
    }
}
