//! A relay rebuilt from its store alone (ISM-1 §12.10 item 1) carries on where
//! it stopped, repeating what it waits on (§12.8), without reusing an id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use isthmus_relay::{Input, Output, Phase, RelayTimer, SettlementRecord};
use isthmus_spec::body::{Body, InstructionState, Leg};
use isthmus_spec::protocol::{Outbound, SettlementReason};
use support::*;

/// The one settlement in the store, if there is one.
fn only_settlement(rig: &Rig) -> Option<SettlementRecord> {
    let all = rig.stored_settlements();
    assert!(all.len() <= 1);
    all.into_iter().next()
}

/// What honest gateways send next on the happy path, from what is durable.
fn next_happy_input(rig: &Rig) -> Option<(&'static str, Body)> {
    if rig
        .stored_instruction_state(GW_XNYS, "SEME-XNYS-1")
        .is_none()
    {
        return Some((GW_XNYS, instruct(seller())));
    }
    let Some(settlement) = only_settlement(rig) else {
        return Some((GW_XASX, instruct(buyer())));
    };
    let leg = |leg| settlement.leg(leg).unwrap().clone();
    let (cash, securities) = (leg(Leg::Cash), leg(Leg::Securities));
    match settlement.phase {
        Phase::Proposed | Phase::Locking => {
            if cash.locked.is_none() {
                Some((
                    GW_XASX,
                    Body::LockReceipt(lock_receipt(&cash.request, "LOCK-C-1", 1)),
                ))
            } else {
                Some((
                    GW_XNYS,
                    Body::LockReceipt(lock_receipt(&securities.request, "LOCK-S-1", 2)),
                ))
            }
        }
        Phase::Revealing => {
            let secret = settlement.secret.clone().unwrap();
            if cash.claimed.is_none() {
                let lock = cash.locked.unwrap();
                Some((
                    GW_XASX,
                    Body::ClaimReceipt(claim_receipt(&lock, &secret, 3)),
                ))
            } else {
                let lock = securities.locked.unwrap();
                Some((
                    GW_XNYS,
                    Body::ClaimReceipt(claim_receipt(&lock, &secret, 4)),
                ))
            }
        }
        Phase::Settled | Phase::Aborted => None,
    }
}

fn run_to_the_end(rig: &mut Rig) {
    for _ in 0..10 {
        let Some((sender, body)) = next_happy_input(rig) else {
            break;
        };
        rig.now += 100;
        rig.send(sender, body);
    }
}

struct Point {
    store: std::collections::BTreeMap<isthmus_relay::RecordKey, isthmus_relay::Record>,
    now: u64,
    sent: Vec<Outbound>,
}

#[test]
fn at_every_point_of_the_happy_path_a_restarted_relay_repeats_what_it_waits_on_and_settles() {
    let mut original = Rig::new();
    let mut points = Vec::new();
    loop {
        points.push(Point {
            store: original.store.clone(),
            now: original.now,
            sent: original.sent.iter().map(|(_, o)| o.clone()).collect(),
        });
        let Some((sender, body)) = next_happy_input(&original) else {
            break;
        };
        original.now += 100;
        original.send(sender, body);
    }
    assert_eq!(points.len(), 7, "seven points, from empty to settled");
    let settled = only_settlement(&original).unwrap();
    assert_eq!(settled.phase, Phase::Settled);
    let before: Vec<Outbound> = original.sent.iter().map(|(_, o)| o.clone()).collect();
    let (_, _, first_cash_request) = lock_request(&before, Leg::Cash);
    let (_, _, first_securities_request) = lock_request(&before, Leg::Securities);
    let revealed = claim_requests(&before)[0].1.preimage.clone();

    for (index, point) in points.into_iter().enumerate() {
        let mut rig = Rig::new();
        rig.store = point.store;
        rig.now = point.now + 50;
        let state = only_settlement(&rig);
        let sent = rig.restart();
        let label = format!(
            "point {index} ({})",
            state.as_ref().map_or("no settlement", |s| s.phase.name())
        );
        match state.as_ref().map(|s| (s.phase, s.leg(Leg::Cash).unwrap())) {
            None => {
                assert!(sent.is_empty(), "{label}: {sent:#?}");
                if index == 1 {
                    // The seller's instruction waits, its cut-off armed again.
                    let cut_off = rig
                        .timers
                        .iter()
                        .find(|(t, _)| matches!(t, RelayTimer::Instruction(_)))
                        .map(|(_, at)| *at);
                    assert_eq!(cut_off, Some(T0 + 100 + timing().matching_window_ms));
                }
            }
            Some((Phase::Proposed, _)) | Some((Phase::Locking, _)) => {
                let mut receivers: Vec<_> =
                    proposals(&sent).into_iter().map(|(to, _)| to).collect();
                receivers.sort();
                assert_eq!(receivers, vec![node(GW_XASX), node(GW_XNYS)], "{label}");
                assert!(
                    proposals(&sent).iter().all(|(_, p)| *p == settled.proposal),
                    "{label}: the same proposal"
                );
                let requests: Vec<_> = lock_requests(&sent)
                    .into_iter()
                    .map(|(to, _, r)| (to, r))
                    .collect();
                let phase = state.as_ref().unwrap().phase;
                if phase == Phase::Proposed {
                    assert_eq!(requests.len(), 2, "{label}: {sent:#?}");
                    assert!(requests.contains(&(node(GW_XASX), first_cash_request.clone())));
                } else {
                    assert_eq!(
                        requests.len(),
                        1,
                        "{label}: the unlocked leg only: {sent:#?}"
                    );
                }
                assert!(
                    requests.contains(&(node(GW_XNYS), first_securities_request.clone())),
                    "{label}"
                );
                assert!(claim_requests(&sent).is_empty(), "{label}");
            }
            Some((Phase::Revealing, cash)) => {
                let claims = claim_requests(&sent);
                assert_eq!(claims.len(), 1, "{label}: {sent:#?}");
                assert_eq!(sent.len(), 1, "{label}: {sent:#?}");
                let waited_on = if cash.claimed.is_none() {
                    GW_XASX
                } else {
                    GW_XNYS
                };
                assert_eq!(claims[0].0, node(waited_on), "{label}");
                assert_eq!(claims[0].1.preimage, revealed, "{label}: the same preimage");
                assert_eq!(claims[0].1.hashlock, settled.proposal.hashlock, "{label}");
            }
            Some((Phase::Settled, _)) => {
                assert!(sent.is_empty(), "{label}: nothing until asked: {sent:#?}");
            }
            Some((Phase::Aborted, _)) => unreachable!(),
        }

        run_to_the_end(&mut rig);
        let end = only_settlement(&rig).unwrap();
        assert_eq!(end.phase, Phase::Settled, "{label}");
        if state.is_some() {
            assert_eq!(end.id, settled.id, "{label}");
            assert_eq!(end.proposal, settled.proposal, "{label}");
        }
        let all: Vec<Outbound> = point
            .sent
            .into_iter()
            .chain(rig.sent.iter().map(|(_, o)| o.clone()))
            .collect();
        assert_eq!(confirmations(&all).len(), 2, "{label}: {all:#?}");
        rig.assert_no_violations();
    }
}

#[test]
fn a_write_never_acknowledged_before_a_crash_is_not_taken_as_done() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    rig.send(
        GW_XASX,
        Body::LockReceipt(lock_receipt(&m.cash.2, "LOCK-C-1", 1)),
    );
    let securities = rig.message(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&m.securities.2, "LOCK-S-1", 2)),
    );
    // Handled and written, the write lost in the crash before it was durable.
    let now = rig.now;
    rig.relay
        .handle(now, Input::Message(securities.clone()), &mut rig.entropy);
    assert!(matches!(rig.relay.poll(), Some(Output::Persist(_))));
    assert!(rig.relay.poll().is_none(), "nothing released");
    rig.now += 10;
    let sent = rig.restart();
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Locking);
    assert!(claim_requests(&sent).is_empty());
    assert_eq!(
        lock_requests(&sent).len(),
        1,
        "the securities leg asked again"
    );
    // The same message again is news to the restarted relay.
    let sent = rig.deliver(securities);
    assert_eq!(claim_requests(&sent).len(), 1, "{sent:#?}");
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Revealing);
    rig.assert_no_violations();
}

#[test]
fn settlements_created_after_a_restart_get_new_ids() {
    let mut rig = Rig::new();
    run_to_the_end(&mut rig);
    let first = only_settlement(&rig).unwrap().id;
    assert_eq!(first.as_str(), "STL-1");
    // A second, still open, then the crash.
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-2")));
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-2")));
    assert_eq!(proposals(&sent)[0].1.settlement_id.as_str(), "STL-2");
    rig.restart();
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-3")));
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-3")));
    let found = proposals(&sent);
    assert!(!found.is_empty(), "{sent:#?}");
    assert_eq!(found[0].1.settlement_id.as_str(), "STL-3");
    // And a second restart remembers the third.
    rig.restart();
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-4")));
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-4")));
    assert_eq!(proposals(&sent)[0].1.settlement_id.as_str(), "STL-4");
    rig.assert_no_violations();
}

#[test]
fn a_restarted_relay_keeps_the_order_of_arrival_so_the_first_received_still_wins() {
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(seller()));
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-2")));
    rig.restart();
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-3")));
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    assert_eq!(
        proposals(&sent)[0].1.deliver_instruction_id.as_str(),
        "SEME-XNYS-1"
    );
    // The repeat of an instruction known before the restart is still a repeat.
    let writes = rig.writes.len();
    let (_, sent) = rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-2")));
    assert_eq!(statuses(&sent)[0].1.status, InstructionState::Accepted);
    assert_eq!(rig.writes.len(), writes);
}

#[test]
fn deadlines_that_passed_while_the_relay_was_down_fire_at_once_on_resume() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-2")));
    let t = timing();
    rig.now = T0 + t.matching_window_ms + 1;
    let sent = rig.restart();
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Aborted);
    assert_eq!(
        rig.stored_settlement(&m.id)
            .reason
            .map(|r| r.code.to_string()),
        Some(SettlementReason::LockDeadlinePassed.as_str().to_string())
    );
    assert!(lock_requests(&sent).is_empty(), "{sent:#?}");
    assert!(proposals(&sent).is_empty(), "{sent:#?}");
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-2"),
        Some(InstructionState::Cancelled),
        "the waiting instruction's cut-off passed"
    );
    let cancelled = statuses(&sent)
        .into_iter()
        .filter(|(_, s)| s.status == InstructionState::Cancelled)
        .count();
    assert_eq!(cancelled, 3, "two for the settlement, one for the cut-off");
    rig.assert_no_violations();
}

#[test]
fn a_restarted_relay_in_a_final_state_says_nothing_until_asked() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    rig.send(GW_XASX, gateway_error("INSUFFICIENT_FUNDS", &m.cash.1));
    let sent = rig.restart();
    assert!(sent.is_empty(), "{sent:#?}");
    let sent = rig.advance_by(timing().securities_expiry_ms);
    assert!(sent.is_empty(), "{sent:#?}");
    let (_, sent) = rig.send(
        GW_XASX,
        Body::LockReceipt(lock_receipt(&m.cash.2, "LOCK-C-1", 1)),
    );
    assert_eq!(statuses(&sent).len(), 1);
    assert_eq!(statuses(&sent)[0].1.status, InstructionState::Cancelled);
    assert_eq!(
        reason_code(&statuses(&sent)[0].1),
        Some("INSUFFICIENT_FUNDS")
    );
}

#[test]
fn a_final_error_answering_a_lock_request_repeated_after_a_restart_aborts() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    rig.now += 10;
    let sent = rig.restart();
    let (_, repeated, _) = lock_request(&sent, Leg::Cash);
    assert_ne!(repeated, m.cash.1);
    rig.send(GW_XASX, gateway_error("ACCOUNT_FROZEN", &repeated));
    let stored = rig.stored_settlement(&m.id);
    assert_eq!(stored.phase, Phase::Aborted);
    assert_eq!(
        stored.reason.map(|r| r.code.to_string()),
        Some("ACCOUNT_FROZEN".to_string())
    );
}

#[test]
fn instructions_received_after_a_restart_queue_behind_those_received_before_it() {
    // ISM-1 §12.10 item 1 and §12.4 rule 4: the order of arrival survives a
    // restart, so an instruction that waited across it is still the first
    // received, and one received after it does not take its place.
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(seller()));
    rig.restart();
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-2")));
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    let found = proposals(&sent);
    assert!(!found.is_empty(), "{sent:#?}");
    assert_eq!(found[0].1.deliver_instruction_id.as_str(), "SEME-XNYS-1");
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-2"),
        Some(InstructionState::Accepted)
    );
    // And the later one still waits, for the next buyer.
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-2")));
    let found = proposals(&sent);
    assert!(!found.is_empty(), "{sent:#?}");
    assert_eq!(found[0].1.deliver_instruction_id.as_str(), "SEME-XNYS-2");
    rig.assert_no_violations();
}
