//! The relay's configuration rules (ISM-1 §12.1 item 2).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use isthmus_relay::RelayConfig;
use isthmus_spec::protocol::Timing;
use support::*;

fn check(change: impl FnOnce(&mut Timing)) -> Result<(), String> {
    let mut t = timing();
    change(&mut t);
    config_with(t).check().map_err(|e| e.to_string())
}

#[test]
fn the_test_timing_passes() {
    assert_eq!(config().check(), Ok(()));
    assert_eq!(timing().delta_ms(), 1_100);
}

#[test]
fn securities_expiry_below_cash_expiry_plus_delta_is_refused_and_at_it_accepted() {
    let t = timing();
    let refused = check(|t| t.securities_expiry_ms = t.cash_expiry_ms + t.delta_ms() - 1)
        .expect_err("E2 < E1 + Δ");
    assert!(refused.contains("securities_expiry_ms"), "{refused}");
    assert!(refused.contains("T1 + Δ"), "names the rule: {refused}");
    assert_eq!(
        check(|t| t.securities_expiry_ms = t.cash_expiry_ms + t.delta_ms()),
        Ok(())
    );
    // Δ counts the clock skew too, not the claim window alone.
    let refused = check(|t| t.securities_expiry_ms = t.cash_expiry_ms + t.claim_window_ms);
    assert!(refused.is_err(), "E2 = E1 + C < E1 + C + K");
    assert!(t.max_clock_skew_ms > 0);
}

#[test]
fn a_reveal_margin_below_delta_is_refused_and_at_it_accepted() {
    let refused = check(|t| t.reveal_margin_ms = t.delta_ms() - 1).expect_err("M < Δ");
    assert!(refused.contains("reveal_margin_ms"), "{refused}");
    assert!(refused.contains('Δ'), "names the rule: {refused}");
    assert_eq!(check(|t| t.reveal_margin_ms = t.delta_ms()), Ok(()));
}

#[test]
fn the_other_rules_of_section_12_1_are_refused_too() {
    let refused = check(|t| t.cash_expiry_ms = t.lock_window_ms + t.reveal_margin_ms - 1)
        .expect_err("E1 < L + M");
    assert!(refused.contains("cash_expiry_ms"), "{refused}");
    assert_eq!(
        check(|t| {
            t.cash_expiry_ms = t.lock_window_ms + t.reveal_margin_ms;
            t.securities_expiry_ms = t.cash_expiry_ms + t.delta_ms();
        }),
        Ok(())
    );
    let refused = check(|t| t.retransmit_ms = t.claim_window_ms).expect_err("R ≥ C");
    assert!(refused.contains("retransmit_ms"), "{refused}");
    for (name, change) in [
        (
            "matching_window_ms",
            (|t: &mut Timing| t.matching_window_ms = 0) as fn(&mut Timing),
        ),
        ("lock_window_ms", |t| t.lock_window_ms = 0),
        ("max_clock_skew_ms", |t| t.max_clock_skew_ms = 0),
        ("retransmit_ms", |t| t.retransmit_ms = 0),
    ] {
        let refused = check(change).expect_err(name);
        assert!(refused.contains(name), "{refused}");
    }
}

#[test]
fn the_settlement_prefix_must_fit_a_reference_with_twenty_digits() {
    let with_prefix = |prefix: &str| RelayConfig {
        settlement_prefix: prefix.to_string(),
        ..config()
    };
    assert!(with_prefix("").check().is_err());
    assert!(
        with_prefix("ABCDEFGHIJKLMNO").check().is_err(),
        "15 characters"
    );
    assert!(with_prefix("A//B").check().is_err());
    let longest = with_prefix("ABCDEFGHIJKLMN");
    assert_eq!(longest.check(), Ok(()));
    let id = longest.settlement_id(u64::MAX);
    assert_eq!(id.as_str(), format!("ABCDEFGHIJKLMN-{}", u64::MAX));
    assert!(id.as_str().chars().count() <= 35);
}

#[test]
fn the_gateways_are_those_of_the_membership_file() {
    let c = config();
    assert!(c.is_gateway(&node(GW_XNAS)));
    assert!(!c.is_gateway(&node(RELAY)));
    assert_eq!(c.gateway_of(&mic("XASX")), Some(&node(GW_XASX)));
    assert_eq!(c.gateway_of(&mic("XTKS")), None);
}
