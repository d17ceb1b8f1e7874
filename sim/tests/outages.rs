//! Long relay outages (issue 11): a relay dead or frozen from the lock
//! window L to past the last expiry E2, or dead from a settlement's first
//! claim until after its second leg's expiry. The relay's deadline aborts
//! happen (ISM-1 §12.5 rules 4–6), other settlements still settle, the
//! secret crosses from gateway to gateway while the relay is gone (§12.7),
//! and no invariant breaks (§12.10).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_sim::world::RelayOutages;
use isthmus_sim::{default_timing, run_one, Faults, Report, RunConfig};

const ALL: Faults = Faults {
    network: true,
    crash: true,
};

/// A run whose relay goes out far more often than by default, so that a
/// few short runs meet every kind of outage: if `frozen`, scheduled
/// outages every 1.5 s on average, all frozen; otherwise none scheduled,
/// but a death after one reveal write in 30 and after one first claim in 60.
fn outage_heavy(seed: u64, trades: usize, frozen: bool) -> RunConfig {
    let mut config = RunConfig::new(seed, trades, ALL);
    config.relay_outages = RelayOutages {
        mean_interval_ms: if frozen { 1_500 } else { 1_000_000 },
        freeze_percent: 100,
        after_reveal_write_per_mille: if frozen { 0 } else { 33 },
        after_first_claim_per_mille: if frozen { 0 } else { 16 },
        ..RelayOutages::for_timing(&default_timing(), true)
    };
    config
}

fn clean(config: RunConfig) -> Report {
    let report = run_one(config.clone());
    if let Some(first) = report.violations.first() {
        let trace = isthmus_sim::explain(config.clone(), first);
        panic!(
            "{} violations with relay outages, first: {first}\nconfig: {config:?}\ntrace:\n{}",
            report.violations.len(),
            trace.join("\n")
        );
    }
    report
}

fn summary(report: &Report) -> String {
    format!(
        "{} settled, {} aborted ({}), hand-overs {} ({} with the relay out), outages {} ({} frozen, {} after a reveal write, {} after a first claim)",
        report.settled,
        report.aborted,
        report.aborted_by_reason_text(),
        report.handed_over,
        report.handed_over_relay_out,
        report.relay_outages,
        report.relay_freezes,
        report.relay_outages_after_reveal,
        report.relay_outages_after_claim
    )
}

#[test]
fn relay_outages_make_the_deadline_aborts_happen_and_still_settle_and_hand_over() {
    let mut total = Report::default();
    for seed in 1..=10u64 {
        // Frozen relays in half the runs, dead ones in the other half.
        total.add(clean(outage_heavy(seed, 100, seed % 2 == 0)));
    }
    println!("{}", summary(&total));
    assert!(total.violations.is_empty());
    assert!(total.settled > 0, "{}", summary(&total));
    for code in [
        "LOCK_DEADLINE_PASSED",
        "REVEAL_TOO_LATE",
        "CLAIM_WINDOW_MISSED",
    ] {
        assert!(
            total.aborted_for(code) > 0,
            "no abort with {code}: {}",
            summary(&total)
        );
    }
    assert!(
        total.handed_over_relay_out > 0,
        "no settlement settled by the hand-over with its relay out: {}",
        summary(&total)
    );
    assert!(total.relay_freezes > 0 && total.relay_outages > total.relay_freezes);
    assert!(total.relay_outages_after_reveal > 0 && total.relay_outages_after_claim > 0);
}

#[test]
fn a_relay_dead_from_the_first_claim_to_past_the_last_expiry_leaves_the_hand_over_to_settle() {
    // Every first claim kills the relay (while it is up); nothing else does.
    let mut total = Report::default();
    for seed in 1..=3u64 {
        let mut config = RunConfig::new(seed, 40, ALL);
        config.relay_outages = RelayOutages {
            mean_interval_ms: 1_000_000,
            after_reveal_write_per_mille: 0,
            after_first_claim_per_mille: 1_000,
            ..RelayOutages::for_timing(&default_timing(), true)
        };
        let report = clean(config);
        assert!(report.relay_outages_after_claim > 0, "{}", summary(&report));
        assert!(report.handed_over_relay_out > 0, "{}", summary(&report));
        total.add(report);
    }
    println!("{}", summary(&total));
}

#[test]
fn a_run_with_relay_outages_replays_exactly_from_its_seed() {
    let first = clean(outage_heavy(11, 60, false));
    let again = clean(outage_heavy(11, 60, false));
    assert!(first.relay_outages > 0, "{}", summary(&first));
    assert_eq!(first, again);
}

#[test]
fn the_default_crash_faults_include_relay_outages_and_other_faults_do_not() {
    let crash = RunConfig::new(1, 10, ALL);
    assert!(crash.relay_outages.on);
    let network = RunConfig::new(
        1,
        10,
        Faults {
            network: true,
            crash: false,
        },
    );
    assert!(!network.relay_outages.on);
    let timing = default_timing();
    assert_eq!(crash.relay_outages.min_ms, timing.lock_window_ms);
    assert!(crash.relay_outages.max_ms > timing.securities_expiry_ms);
}
