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

/// Two faults together, every interleaving, liveness included: a loss and
/// a duplicate of a trade against payment. (A crash with a loss or a
/// duplicate, and the crashes of two nodes, take minutes more each:
/// `isthmus simulate --exhaustive pairs` runs every pair of every kind.)
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minutes in a debug build; ./.ci/run runs it in release"
)]
fn every_interleaving_with_a_loss_and_a_duplicate_keeps_every_invariant() {
    let kind = TradeKind::AgainstPayment;
    for (fault, config) in CheckConfig::two_faults_each(kind)
        .into_iter()
        .filter(|(fault, _)| *fault == "a loss and a duplicate")
    {
        let what = format!("{kind:?}, {fault}");
        let report = clean(&what, config);
        assert_outcomes(&what, kind, &report, true);
    }
}

/// Step 7 of issue 11 for atomicity: a loss, a duplicate and a crash in one
/// space, and the crashes of two nodes, every interleaving, every state
/// checked until the trade's atomicity is decided for good. (All three
/// nodes' crashes together with a loss and a duplicate is
/// `isthmus simulate --exhaustive full`: hours.)
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minutes in a debug build; ./.ci/run runs it in release"
)]
fn every_interleaving_with_a_loss_a_duplicate_and_crashes_is_atomic() {
    let kind = TradeKind::AgainstPayment;
    let full = CheckConfig::step_seven(kind);
    for (what, config) in [
        (
            "a loss, a duplicate and a crash",
            CheckConfig {
                crashes: 1,
                ..full.clone()
            },
        ),
        (
            "crashes of two nodes",
            CheckConfig {
                losses: 0,
                duplicates: 0,
                crashes: 2,
                ..full
            },
        ),
    ] {
        let report = clean(what, config);
        // Decided ends name the ledgers' outcome: never a claim with a refund.
        for outcome in report.outcomes.keys() {
            assert!(
                ["CLAIMED", "REFUNDED"].contains(&outcome.as_str()),
                "{what}: ended {outcome}: {report:?}"
            );
        }
    }
}

/// The canonical comparison of states (renaming random values, leaving out
/// dead ids and idle counters) merges states the full comparison keeps
/// apart, and reaches the same end outcomes: what it leaves out decides nothing.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minutes in a debug build; ./.ci/run runs it in release"
)]
fn the_canonical_comparison_merges_states_and_keeps_every_outcome() {
    for kind in KINDS {
        for (fault, config) in CheckConfig::one_fault_each(kind) {
            if kind == TradeKind::AgainstPayment && fault == "one crash" {
                continue; // 221,355 states compared whole: the other kinds' crashes show it
            }
            let what = format!("{kind:?}, {fault}");
            let reduced = clean(&what, config.clone());
            let full = clean(
                &format!("{what}, compared whole"),
                CheckConfig {
                    symmetry: false,
                    ..config
                },
            );
            assert!(
                reduced.states <= full.states,
                "{what}: {} states reduced, {} whole",
                reduced.states,
                full.states
            );
            assert_eq!(
                reduced.outcomes.keys().collect::<Vec<_>>(),
                full.outcomes.keys().collect::<Vec<_>>(),
                "{what}"
            );
        }
    }
    // It does merge: the fault-free space alone is smaller.
    let reduced = clean(
        "no fault",
        CheckConfig::no_faults(TradeKind::AgainstPayment),
    );
    let full = clean(
        "no fault, compared whole",
        CheckConfig {
            symmetry: false,
            ..CheckConfig::no_faults(TradeKind::AgainstPayment)
        },
    );
    assert!(reduced.states < full.states, "{reduced:?} {full:?}");
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

    /// The check of safety alone can fail too: the engines that break
    /// atomicity or claim early are caught before the decided states it
    /// stops at.
    #[test]
    #[cfg_attr(
        debug_assertions,
        ignore = "minutes in a debug build; ./.ci/run runs it in release"
    )]
    fn the_safety_check_catches_the_engines_that_break_atomicity() {
        for (broken, invariant) in [
            (Broken::RevealBeforeBothLocks, Invariant::ClaimBeforeLocks),
            (Broken::IgnoreDelta, Invariant::Atomicity),
        ] {
            let config = CheckConfig {
                broken: Some(broken),
                crashes: 1,
                ..CheckConfig::step_seven(TradeKind::AgainstPayment)
            };
            let report = check(config).unwrap();
            let Some(violation) = report.violation.clone() else {
                panic!("{broken:?} was not caught: {report:?}");
            };
            eprintln!(
                "{broken:?}: caught (safety only): {}: {}",
                violation.invariant, violation.detail
            );
            assert_eq!(violation.invariant, invariant, "{broken:?}");
        }
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
