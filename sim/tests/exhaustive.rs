#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The exhaustive check of one settlement (issue 11 step 7, ISM-1 §12.10):
//! every interleaving of one trade of each kind through one relay and two
//! gateways, with one fault of each class, keeps every invariant and ends.
//! The larger spaces take minutes in a debug build, so those tests run in
//! release (`./.ci/run` does: `cargo test --release -p isthmus-sim --test exhaustive`).

use isthmus_sim::exhaustive::{check, CheckConfig, CheckReport};
use isthmus_sim::workload::TradeKind;

const KINDS: [TradeKind; 5] = [
    TradeKind::AgainstPayment,
    TradeKind::FreeOfPayment,
    TradeKind::Insufficient,
    TradeKind::Unmatched,
    TradeKind::OneSided,
];

fn clean(what: &str, config: CheckConfig) -> CheckReport {
    let report = check(config).unwrap();
    if let Some(violation) = &report.violation {
        panic!(
            "{what}: {}: {}\n{}",
            violation.invariant,
            violation.detail,
            violation.path.join("\n")
        );
    }
    assert!(report.complete, "{what}: explored only part: {report:?}");
    assert!(report.ends > 0, "{what}: no end state: {report:?}");
    eprintln!(
        "{what}: {} states, {} ends {:?}",
        report.states, report.ends, report.outcomes
    );
    report
}

/// What the relay's word may be at the end, per kind, fault or not.
fn assert_outcomes(what: &str, kind: TradeKind, report: &CheckReport, faulty: bool) {
    let allowed: &[&str] = match kind {
        TradeKind::AgainstPayment | TradeKind::FreeOfPayment if faulty => &["SETTLED", "ABORTED"],
        TradeKind::AgainstPayment | TradeKind::FreeOfPayment => &["SETTLED"],
        TradeKind::Insufficient => &["ABORTED"],
        TradeKind::Unmatched | TradeKind::OneSided => &["UNMATCHED"],
    };
    for outcome in report.outcomes.keys() {
        assert!(
            allowed.contains(&outcome.as_str()),
            "{what}: ended {outcome}: {report:?}"
        );
    }
    if matches!(kind, TradeKind::AgainstPayment | TradeKind::FreeOfPayment) {
        assert!(
            report.outcomes.contains_key("SETTLED"),
            "{what}: never settled: {report:?}"
        );
    }
}

#[test]
fn every_interleaving_of_a_fault_free_settlement_against_payment_settles() {
    let report = clean(
        "no fault",
        CheckConfig::no_faults(TradeKind::AgainstPayment),
    );
    assert_outcomes("no fault", TradeKind::AgainstPayment, &report, false);
    // The space holds every order of deliveries across the three links'
    // ends: far more than one path.
    assert!(report.states > 100, "{report:?}");
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minutes in a debug build; ./.ci/run runs it in release"
)]
fn every_interleaving_of_each_kind_with_one_fault_of_each_class_keeps_every_invariant() {
    for kind in KINDS {
        for (fault, config) in CheckConfig::one_fault_each(kind) {
            let what = format!("{kind:?}, {fault}");
            let report = clean(&what, config);
            assert_outcomes(&what, kind, &report, fault != "no fault");
        }
    }
}

#[cfg(feature = "broken-variants")]
mod broken {
    use super::*;
    use isthmus_sim::{Broken, Invariant};

    /// The first check of `kind` (fault-free first) that finds a violation.
    fn caught(broken: Broken, kind: TradeKind) -> (String, Invariant, String) {
        for (fault, mut config) in CheckConfig::one_fault_each(kind) {
            config.broken = Some(broken);
            let report = check(config).unwrap();
            if let Some(violation) = report.violation {
                return (fault.to_string(), violation.invariant, violation.detail);
            }
        }
        panic!("{broken:?} on {kind:?} was not caught by any check");
    }

    #[test]
    #[cfg_attr(
        debug_assertions,
        ignore = "minutes in a debug build; ./.ci/run runs it in release"
    )]
    fn the_check_catches_each_broken_engine_and_names_the_invariant() {
        // `CreditsWrongAccount` is left to the simulator (`tests/broken.rs`):
        // it credits another participant the gateway knows of, and one trade
        // has no other participant.
        let expected = [
            (
                Broken::RevealBeforeBothLocks,
                TradeKind::AgainstPayment,
                Invariant::ClaimBeforeLocks,
            ),
            (
                Broken::WatcherNeverRefunds,
                TradeKind::Insufficient,
                Invariant::Liveness,
            ),
            // A proposal, then a crash before the settlement was durable: the
            // gateways lock and claim for a settlement the relay forgot or
            // holds without what it sent.
            (
                Broken::SendsBeforePersisting,
                TradeKind::AgainstPayment,
                Invariant::Liveness,
            ),
            // A gateway that forgets its legs on restart leaves them to nobody.
            (
                Broken::ForgetsUnpersisted,
                TradeKind::AgainstPayment,
                Invariant::Liveness,
            ),
            (
                Broken::IgnoreDelta,
                TradeKind::AgainstPayment,
                Invariant::Atomicity,
            ),
        ];
        let mut wrong = Vec::new();
        for (broken, kind, invariant) in expected {
            let (fault, found, detail) = caught(broken, kind);
            eprintln!("{broken:?}: caught with {fault}: {found}: {detail}");
            if found != invariant {
                wrong.push(format!(
                    "{broken:?} ({fault}): {found}, not {invariant}: {detail}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
