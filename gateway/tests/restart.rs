//! A gateway rebuilt from its store alone carries on where it stopped (ISM-1
//! §12.10 item 1): at every leg state of §12.2 item 3 and for its
//! instructions, it repeats what §12.8 says it waits on — ledger orders with
//! their persisted keys, receipts, instructions, notices — and nothing else;
//! and what it never made durable it does not act on (§12.9).
//!
//! Every state is reached through real inputs: the participant's
//! instruction, the real relay engine's statuses, proposal, LockRequest and
//! ClaimRequest, an honest ledger's answers (A1), and the other leg's
//! gateway played by the test. The store keeps each durable write's records
//! by `Record::key()`; a restart is `Gateway::restore` from that store and
//! `resume`, with the timers it sets that are due fired at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use isthmus_adapters::ledger_side::{LedgerCommand, LedgerDone};
use isthmus_gateway::{GatewayTimer, Input, LegPhase, Output};
use isthmus_ledger::{LedgerFailure, LedgerReason};
use isthmus_spec::body::{Body, InstructionState, Leg};
use support::*;

/// The ledger orders of `outputs`, as commands.
fn commands(outputs: &[Output]) -> Vec<LedgerCommand> {
    ledger_orders(outputs)
        .into_iter()
        .map(|(_, _, c)| c)
        .collect()
}

fn assert_no_ledger_order(outputs: &[Output], why: &str) {
    let orders = ledger_orders(outputs);
    assert!(orders.is_empty(), "{why}: {orders:#?}");
}

/// The expiry (ledger ms) of `side`'s leg, from its lock order.
fn expiry_of(outputs: &[Output]) -> u64 {
    match &commands(outputs)[..] {
        [LedgerCommand::Lock(order)] => order.expiry_ms,
        other => panic!("one lock order, not {other:#?}"),
    }
}

const K: u64 = 100;
const R: u64 = 500;

// ===== instructions (ISM-1 §12.6 rule 1, §12.8) =====

#[test]
fn an_instruction_without_a_status_is_sent_again_at_once_after_a_restart_and_every_r() {
    for side in Side::BOTH {
        let mut net = instructed(side);
        // The relay's ACCEPTED is lost; the gateway restarts.
        net.inbox.clear();
        net.gw.now += 50;
        let restart_at = net.gw.now;
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1, §12.6 rule 1: the same instruction, at once.
        assert_eq!(
            instructions_sent(&out),
            vec![side.instruction()],
            "{side:?}: the persisted instruction is repeated on restart: {out:#?}"
        );
        assert_eq!(
            net.gw.timers.get(&GatewayTimer::Instruction(
                side.instruction().instruction_id
            )),
            Some(&(restart_at + R)),
            "{side:?}: with no status yet, the next repeat is R later (§12.8)"
        );
        let again = net.gw.advance_to(restart_at + R);
        assert_eq!(instructions_sent(&again), vec![side.instruction()]);
        // The relay takes the repeat as the same instruction (§12.4 rule 1):
        // it answers with its status, not INSTRUCTION_ID_REUSED.
        net.send_to_relay(&again);
        let answer = net.take_one(|b| status_of(b).is_some());
        assert!(
            is_status(&answer.body, InstructionState::Accepted),
            "{side:?}: the relay answers the repeat with ACCEPTED: {answer:#?}"
        );
        net.gw.deliver(answer);
        // §12.8: with a status, the repeat slows to every 10·R (from the
        // next firing of the timer already set).
        let timer = GatewayTimer::Instruction(side.instruction().instruction_id);
        let fired = net.gw.timers[&timer];
        let next = net.gw.advance_to(fired);
        assert_eq!(instructions_sent(&next), vec![side.instruction()]);
        let later = net.gw.advance_to(fired + 10 * R - 1);
        assert!(instructions_sent(&later).is_empty(), "{later:#?}");
        let later = net.gw.advance_to(fired + 10 * R);
        assert_eq!(instructions_sent(&later), vec![side.instruction()]);
    }
}

#[test]
fn an_instruction_with_a_status_is_repeated_after_a_restart_until_the_final_word() {
    let mut net = instructed(Side::Seller);
    net.deliver_all(); // ACCEPTED
    net.gw.now += 1_000;
    let out = net.gw.restart();
    // ISM-1 §12.10 item 1: no final word yet, so the instruction is repeated.
    assert_eq!(instructions_sent(&out), vec![seller()], "{out:#?}");
    // No counterpart comes: at the matching cut-off the relay cancels it
    // (§12.3 rule 1) — the final word.
    net.advance_relay_to(T0 + timing().matching_window_ms);
    let cancelled = net.take_one(|b| is_status(b, InstructionState::Cancelled));
    net.gw.deliver(cancelled);
    assert!(
        net.gw
            .gateway
            .instruction(&seller().instruction_id)
            .unwrap()
            .final_word
    );
    let out = net.gw.restart();
    // ISM-1 §12.6 rule 1: repeated only until the final word.
    assert!(instructions_sent(&out).is_empty(), "{out:#?}");
    assert!(
        !timers_set(&out)
            .iter()
            .any(|(t, _)| matches!(t, GatewayTimer::Instruction(_))),
        "no instruction timer after the final word: {out:#?}"
    );
    let now = net.gw.now;
    let later = net.gw.advance_to(now + 100 * R);
    assert!(instructions_sent(&later).is_empty(), "{later:#?}");
}

#[test]
fn unacknowledged_notices_are_delivered_again_after_a_restart_and_acknowledged_ones_are_not() {
    let mut net = instructed(Side::Seller);
    let id = seller().instruction_id;
    let accepted = net.deliver_all();
    assert_eq!(notices(&accepted).len(), 1, "{accepted:#?}");
    net.other_sends_to_relay(Body::SettlementInstruction(buyer()));
    let matched = net.take_one(|b| is_status(b, InstructionState::Matched));
    let out = net.gw.deliver(matched);
    let told = notices(&out);
    assert_eq!(told.len(), 1, "{out:#?}");
    assert_eq!(told[0].1, 1, "the MATCHED status is notice 1");
    // The participant has notice 0 only.
    net.gw.input(Input::Acknowledged {
        instruction_id: id.clone(),
        index: 0,
    });
    let out = net.gw.restart();
    // ISM-1 §12.6 rule 1, §12.10 item 1: kept until the participant has it.
    let again = notices(&out);
    assert_eq!(again.len(), 1, "only the unacknowledged notice: {out:#?}");
    assert_eq!((&again[0].0, again[0].1), (&id, 1));
    assert!(is_status(&again[0].2, InstructionState::Matched));
    net.gw.input(Input::Acknowledged {
        instruction_id: id.clone(),
        index: 1,
    });
    let out = net.gw.restart();
    assert!(
        notices(&out).is_empty(),
        "every notice acknowledged: {out:#?}"
    );
}

#[test]
fn an_acknowledgement_that_was_not_durable_does_not_hide_the_notice() {
    let mut net = instructed(Side::Buyer);
    net.deliver_all(); // ACCEPTED, notice 0
    let id = buyer().instruction_id;
    // ISM-1 §12.9: only what is durable survives; the acknowledgement's write is lost.
    let out = net.gw.input_then_crash(Input::Acknowledged {
        instruction_id: id.clone(),
        index: 0,
    });
    assert_eq!(writes(&out).len(), 1);
    let out = net.gw.restart();
    let again = notices(&out);
    assert_eq!(again.len(), 1, "the notice is given again: {out:#?}");
    assert_eq!(again[0].1, 0);
}

// ===== LOCK_INTENDED (§12.6 rule 4) =====

#[test]
fn lock_intended_repeats_the_lock_order_with_its_persisted_key_after_a_restart() {
    for side in Side::BOTH {
        let LockIntended {
            mut net,
            id,
            outputs,
            ..
        } = lock_intended(side);
        let first = commands(&outputs);
        // The node dies before the ledger ran the order.
        net.gw.now += 20;
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1: the order again, with its persisted key.
        assert_eq!(
            commands(&out),
            first,
            "{side:?}: the same lock order, same key: {out:#?}"
        );
        assert_eq!(
            first[0].key().as_str(),
            format!("{id}/{}/lock", side.leg()),
            "the key is derived from settlement_id and leg (§12.6 rule 4)"
        );
        // Nothing taken as refused or done: no Error, no LockReceipt yet.
        assert!(error_codes(&out).is_empty(), "{out:#?}");
        assert!(
            !sends(&out)
                .iter()
                .any(|o| matches!(o.body, Body::LockReceipt(_))),
            "{out:#?}"
        );
        assert_eq!(
            net.gw.stored_phase(&id, side.leg()),
            Some(LegPhase::LockIntended)
        );
        // The ledger's answer moves the leg on, and the relay gets its receipt.
        let answered = net.gw.run_ledger(&mut net.ledger, &out);
        assert_eq!(net.gw.stored_phase(&id, side.leg()), Some(LegPhase::Locked));
        let receipts: Vec<_> = sends_to(&answered, RELAY)
            .into_iter()
            .filter(|o| matches!(o.body, Body::LockReceipt(_)))
            .collect();
        assert_eq!(receipts.len(), 1, "{answered:#?}");
        net.send_to_relay(&answered);
        let at_relay = net.relay.relay.settlement(&id).unwrap();
        assert!(
            at_relay.leg(side.leg()).unwrap().locked.is_some(),
            "{side:?}: the relay took the LockReceipt"
        );
        assert_eq!(net.ledger.locks_made(), 1);
    }
}

#[test]
fn lock_intended_after_a_crash_that_followed_the_ledgers_lock_gets_the_first_lock_again() {
    // The ledger locked, the gateway died before hearing (sim: "after a
    // ledger command and before its result"). A1 makes the repeat safe.
    let LockIntended {
        mut net,
        id,
        outputs,
        ..
    } = lock_intended(Side::Seller);
    let first = net.ledger.execute(net.gw.now, &commands(&outputs)[0]);
    let out = net.gw.restart();
    let answered = net.gw.run_ledger(&mut net.ledger, &out);
    assert_eq!(net.ledger.locks_made(), 1, "one lock, not two (A1)");
    let receipt = sends_to(&answered, RELAY)
        .into_iter()
        .find_map(|o| match &o.body {
            Body::LockReceipt(r) => Some(r.clone()),
            _ => None,
        })
        .expect("a LockReceipt");
    let Ok(LedgerDone::Locked(locked)) = first else {
        panic!("the ledger locked: {first:?}")
    };
    // ISM-1 §12.10 item 1: the receipt names the lock the first order made.
    assert_eq!(receipt.lock_id, locked.lock_id.reference());
    assert_eq!(receipt.settlement_id, id);
}

#[test]
fn an_unanswered_lock_order_is_never_taken_as_refused_across_restarts() {
    for side in Side::BOTH {
        let LockIntended {
            mut net,
            id,
            outputs,
            request,
            ..
        } = lock_intended(side);
        let first = commands(&outputs);
        let expiry = expiry_of(&outputs);
        let mut all = Vec::new();
        // Two restarts, the ledger never answering, well past the expiry.
        all.extend(net.gw.restart());
        net.gw.now += 5 * R;
        all.extend(net.gw.restart());
        // The relay repeats its LockRequest meanwhile: no answer yet (no refusal).
        let repeat = net.gw.message(RELAY, Body::LockRequest(request.clone()));
        all.extend(net.gw.deliver(repeat));
        all.extend(net.gw.advance_to(expiry + K + 10 * R));
        // ISM-1 §12.10 item 1: "an unanswered ledger order is asked again, never taken as refused".
        assert!(error_codes(&all).is_empty(), "{side:?}: no Error: {all:#?}");
        assert_eq!(net.gw.phase(&id, side.leg()), Some(LegPhase::LockIntended));
        assert_eq!(
            net.gw.stored_phase(&id, side.leg()),
            Some(LegPhase::LockIntended)
        );
        let orders = commands(&all);
        assert!(!orders.is_empty());
        assert!(
            orders.iter().all(|c| *c == first[0]),
            "{side:?}: only the same lock order, with its key: {orders:#?}"
        );
        assert!(
            !orders.iter().any(|c| matches!(c, LedgerCommand::Refund(_))),
            "no refund of a lock never confirmed"
        );
    }
}

#[test]
fn after_a_restart_a_lock_answer_that_is_not_final_is_retried_with_the_same_key() {
    let LockIntended {
        mut net, outputs, ..
    } = lock_intended(Side::Buyer);
    let first = commands(&outputs);
    let out = net.gw.restart();
    let unknown = net.gw.answer(&out, outcome_unknown());
    assert!(error_codes(&unknown).is_empty(), "{unknown:#?}");
    // ISM-1 §12.6 rule 4: "a ledger's answer that is not final is retried with the same key".
    let now = net.gw.now;
    let again = net.gw.advance_to(now + R);
    assert_eq!(commands(&again), first, "{again:#?}");
}

#[test]

fn a_lock_answer_that_is_not_final_is_retried_with_the_same_key_without_a_restart() {
    let LockIntended {
        mut net, outputs, ..
    } = lock_intended(Side::Buyer);
    let first = commands(&outputs);
    let unknown = net.gw.answer(&outputs, outcome_unknown());
    assert!(error_codes(&unknown).is_empty(), "{unknown:#?}");
    // ISM-1 §12.6 rule 4: the same order again, with the same key — here
    // while the gateway keeps running (a restart would repeat it, above).
    let now = net.gw.now;
    let again = net.gw.advance_to(now + 20 * R);
    assert_eq!(commands(&again).first(), first.first(), "{again:#?}");
}

// ===== LOCKED (§12.3 rule 4, §12.6 rules 5 and 7) =====

#[test]
fn locked_rebuilds_the_watcher_timer_at_expiry_plus_k_after_a_restart() {
    for side in Side::BOTH {
        let LockedLeg {
            mut net,
            id,
            lock_order,
            ..
        } = locked(side, false);
        let watcher = lock_order.expiry_ms + K;
        net.gw.now += 1_000;
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1: a LOCKED leg has no ledger order to repeat.
        assert_no_ledger_order(&out, "nothing to order for a LOCKED leg");
        // Nor a receipt: only the instruction, which has no final word yet.
        assert!(
            sends(&out)
                .iter()
                .all(|o| matches!(o.body, Body::SettlementInstruction(_))),
            "{side:?}: {out:#?}"
        );
        let before = net.gw.advance_to(watcher - 1);
        assert_no_ledger_order(&before, "no refund before expiry + K (§12.6 rule 8)");
        // ISM-1 §12.3 rule 4: the restarted gateway's timer is at T + K exactly.
        assert!(
            timers_set(&before)
                .iter()
                .any(|(t, at)| *t == GatewayTimer::Settlement(id.clone()) && *at == watcher),
            "{side:?}: a watcher timer at expiry + K = {watcher}: {:#?}",
            timers_set(&before)
        );
        let at = net.gw.advance_to(watcher);
        // ISM-1 §12.6 rule 7: REFUND_INTENDED persisted, then the refund order.
        assert_eq!(
            net.gw.stored_phase(&id, side.leg()),
            Some(LegPhase::RefundIntended)
        );
        match &commands(&at)[..] {
            [LedgerCommand::Refund(order)] => {
                assert_eq!(order.key.as_str(), format!("{id}/{}/refund", side.leg()));
            }
            other => panic!("{side:?}: one refund order at the watcher, not {other:#?}"),
        }
        let refunded = net.gw.run_ledger(&mut net.ledger, &at);
        assert_eq!(net.ledger.settled(), (0, 1), "the honest ledger refunded");
        assert!(sends_to(&refunded, RELAY)
            .iter()
            .any(|o| matches!(o.body, Body::RefundReceipt(_))));
    }
}

#[test]
fn locked_with_its_watcher_due_while_down_refunds_at_once_on_restart() {
    for side in Side::BOTH {
        let LockedLeg {
            mut net,
            id,
            lock_order,
            ..
        } = locked(side, false);
        // Down from now until well after expiry + K.
        net.gw.now = lock_order.expiry_ms + K + 3_000;
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1: "a timer whose instant passed fires at once".
        assert!(
            matches!(&commands(&out)[..], [LedgerCommand::Refund(_)]),
            "{out:#?}"
        );
        assert_eq!(
            net.gw.stored_phase(&id, side.leg()),
            Some(LegPhase::RefundIntended)
        );
    }
}

#[test]
fn locked_claims_on_the_relays_claim_request_after_a_restart() {
    for side in Side::BOTH {
        let LockedLeg {
            mut net,
            id,
            secret,
            ..
        } = locked(side, true);
        let secret = secret.unwrap();
        net.gw.now += 20;
        let out = net.gw.restart();
        assert_no_ledger_order(&out, "no claim before p is known");
        let claim = net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
        let out = net.gw.deliver(claim);
        // ISM-1 §12.6 rule 5: p and CLAIM_INTENDED persisted, then the claim.
        assert!(
            matches!(out.first(), Some(Output::Persist(_))),
            "the intent first: {out:#?}"
        );
        let stored = net.gw.stored_settlement(&id).unwrap();
        assert_eq!(stored.secret.as_ref(), Some(&secret));
        assert_eq!(
            stored.leg(side.leg()).unwrap().phase,
            LegPhase::ClaimIntended
        );
        let lock_id = stored
            .leg(side.leg())
            .unwrap()
            .locked
            .as_ref()
            .unwrap()
            .lock_id;
        match &commands(&out)[..] {
            [LedgerCommand::Claim(order)] => {
                assert_eq!(order.preimage, secret);
                assert_eq!(order.lock_id, lock_id);
                assert_eq!(order.key.as_str(), format!("{id}/{}/claim", side.leg()));
            }
            other => panic!("{side:?}: one claim order, not {other:#?}"),
        }
    }
}

#[test]
fn locked_answers_a_repeated_lock_request_after_a_restart_with_its_first_receipt() {
    for side in Side::BOTH {
        let LockedLeg {
            mut net,
            request,
            outputs,
            ..
        } = locked(side, false);
        let first = sends_to(&outputs, RELAY)
            .into_iter()
            .find_map(|o| match &o.body {
                Body::LockReceipt(r) => Some(r.clone()),
                _ => None,
            })
            .unwrap();
        net.gw.restart();
        let repeat = net.gw.message(RELAY, Body::LockRequest(request));
        let out = net.gw.deliver(repeat);
        // ISM-1 §12.6 rule 4: "A repeated LockRequest gets the first answer again".
        let receipts: Vec<_> = sends_to(&out, RELAY)
            .into_iter()
            .filter_map(|o| match &o.body {
                Body::LockReceipt(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(receipts, vec![first], "{side:?}: {out:#?}");
        assert_no_ledger_order(&out, "no second lock");
    }
}

// ===== LOCK_REFUSED (§12.6 rule 4) =====

#[test]
fn lock_refused_repeats_nothing_at_the_ledger_and_answers_a_repeat_with_the_refusal() {
    for side in Side::BOTH {
        let LockIntended {
            mut net,
            id,
            outputs,
            ..
        } = lock_intended(side);
        net.ledger.refuse_locks = Some(LedgerReason::InsufficientFunds);
        let refused = net.gw.run_ledger(&mut net.ledger, &outputs);
        let errors = error_codes(&refused);
        assert_eq!(errors.len(), 1, "{refused:#?}");
        assert_eq!(errors[0].1, "INSUFFICIENT_FUNDS");
        assert_eq!(
            net.gw.stored_phase(&id, side.leg()),
            Some(LegPhase::LockRefused)
        );
        let ledger_commands = net.ledger.commands.len();
        // The Error is lost. The relay repeats its LockRequest after R
        // (§12.8, before its lock deadline), and the gateway restarts.
        net.advance_relay_to(net.gw.now + R);
        let repeats = net.take(|b| matches!(b, Body::LockRequest(_)));
        assert!(
            !repeats.is_empty(),
            "{side:?}: the relay repeats the LockRequest"
        );
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1: LOCK_REFUSED is final; nothing goes to the ledger again.
        assert_no_ledger_order(&out, "no ledger order on restart");
        // The refusal is the answer to the repeat (§12.6 rule 4), with the
        // ledger's code (§6.4 duty 3), naming the repeat.
        let repeat = repeats.into_iter().next().unwrap();
        let repeat_id = repeat.id.clone();
        let answer = net.gw.deliver(repeat);
        assert_no_ledger_order(&answer, "a refused lock is not asked again");
        assert_eq!(
            error_codes(&answer),
            vec![(
                support::node(RELAY),
                "INSUFFICIENT_FUNDS".to_string(),
                Some(repeat_id)
            )],
            "{side:?}: {answer:#?}"
        );
        // The relay aborts on it (§12.5 rule 3) and its CANCELLED reaches the participant.
        net.send_to_relay(&answer);
        let cancelled = net.take_one(|b| is_status(b, InstructionState::Cancelled));
        let told = net.gw.deliver(cancelled);
        let notice = notices(&told);
        assert_eq!(notice.len(), 1, "{told:#?}");
        let status = status_of(&notice[0].2).unwrap();
        assert_eq!(
            status.reason.as_ref().map(|r| r.code.as_str()),
            Some("INSUFFICIENT_FUNDS")
        );
        let now = net.gw.now;
        let later = net.gw.advance_to(now + 100 * R);
        assert_no_ledger_order(&later, "no ledger order later");
        assert!(
            sends(&later).is_empty(),
            "nothing after the final word: {later:#?}"
        );
        assert_eq!(net.ledger.commands.len(), ledger_commands);
    }
}

#[test]
fn a_lock_request_refused_by_the_gateways_check_stays_refused_after_a_restart() {
    // §12.6 rule 3: final for the settlement and leg; the LOCK_REFUSED leg has no order.
    let mut net = instructed(Side::Seller);
    net.deliver_all();
    net.other_sends_to_relay(Body::SettlementInstruction(buyer()));
    let proposal = net.take_one(|b| matches!(b, Body::SettlementProposal(_)));
    let mut lock = net.take_one(|b| matches!(b, Body::LockRequest(_)));
    net.deliver_all();
    net.gw.deliver(proposal);
    if let Body::LockRequest(r) = &mut lock.body {
        r.beneficiary.account = reference("SAFE-THIEF");
    }
    let tampered = lock.body.clone();
    let refused = net.gw.deliver(lock);
    assert_eq!(error_codes(&refused)[0].1, "PROPOSAL_MISMATCH");
    let out = net.gw.restart();
    assert_no_ledger_order(&out, "nothing to repeat for a refused request");
    let repeat = net.gw.message(RELAY, tampered);
    let answer = net.gw.deliver(repeat);
    assert_no_ledger_order(&answer, "still refused");
    assert_eq!(error_codes(&answer)[0].1, "PROPOSAL_MISMATCH");
}

// ===== CLAIM_INTENDED (§12.6 rules 5–7) =====

/// The leg CLAIM_INTENDED: the relay's ClaimRequest handled, the claim order
/// out (returned, not run).
fn claim_intended(side: Side) -> (LockedLeg, Vec<Output>) {
    let mut reached = locked(side, true);
    let claim = reached.net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
    reached.net.gw.now += 10;
    let out = reached.net.gw.deliver(claim);
    assert!(
        matches!(&commands(&out)[..], [LedgerCommand::Claim(_)]),
        "{out:#?}"
    );
    (reached, out)
}

#[test]
fn claim_intended_repeats_the_claim_order_with_its_persisted_key_and_preimage() {
    for side in Side::BOTH {
        let (reached, outputs) = claim_intended(side);
        let LockedLeg {
            mut net,
            id,
            secret,
            ..
        } = reached;
        let first = commands(&outputs);
        net.gw.now += 20;
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1: the same claim, with its key and p, from the store.
        assert_eq!(commands(&out), first, "{side:?}: {out:#?}");
        match &first[0] {
            LedgerCommand::Claim(order) => {
                assert_eq!(Some(&order.preimage), secret.as_ref());
                assert_eq!(order.key.as_str(), format!("{id}/{}/claim", side.leg()));
            }
            other => panic!("{other:?}"),
        }
        // Not yet claimed: no ClaimReceipt until the ledger says so (§12.9).
        assert!(claim_receipts_to(&out, RELAY).is_empty(), "{out:#?}");
        let answered = net.gw.run_ledger(&mut net.ledger, &out);
        assert_eq!(
            net.gw.stored_phase(&id, side.leg()),
            Some(LegPhase::Claimed)
        );
        assert_eq!(claim_receipts_to(&answered, RELAY).len(), 1);
        assert_eq!(claim_receipts_to(&answered, side.other_gateway()).len(), 1);
        assert_eq!(net.ledger.settled(), (1, 0));
    }
}

#[test]
fn claim_intended_with_its_claim_unanswered_is_never_refunded_after_a_restart() {
    for side in Side::BOTH {
        let (reached, outputs) = claim_intended(side);
        let LockedLeg {
            mut net,
            id,
            lock_order,
            ..
        } = reached;
        let first = commands(&outputs);
        // Down until past the watcher time; the claim was never answered.
        net.gw.now = lock_order.expiry_ms + K + 1_000;
        let out = net.gw.restart();
        // ISM-1 §12.6 rule 7: ask the claim again, never refund it unanswered.
        assert_eq!(commands(&out), first, "{side:?}: {out:#?}");
        // The honest ledger says LOCK_EXPIRED; only then the watcher refunds.
        let expired = net.gw.run_ledger(&mut net.ledger, &out);
        assert!(claim_receipts_to(&expired, RELAY).is_empty());
        assert!(
            claim_receipts_to(&expired, side.other_gateway()).is_empty(),
            "p goes to nobody for an expired claim (§12.6 rule 6)"
        );
        let now = net.gw.now;
        let later = net.gw.advance_to(now + R);
        match &commands(&later)[..] {
            [LedgerCommand::Refund(order)] => {
                assert_eq!(order.key.as_str(), format!("{id}/{}/refund", side.leg()))
            }
            other => panic!("{side:?}: the refund after LOCK_EXPIRED, not {other:#?}"),
        }
    }
}

#[test]
fn claim_intended_with_its_claim_refused_as_expired_is_refunded_not_claimed_after_a_restart() {
    let (reached, outputs) = claim_intended(Side::Buyer);
    let LockedLeg {
        mut net,
        id,
        lock_order,
        ..
    } = reached;
    // The ledger refused the claim as expired, and that answer is durable.
    net.gw.answer(
        &outputs,
        Err(LedgerFailure::refused(LedgerReason::LockExpired, "expired")),
    );
    assert!(
        net.gw
            .stored_settlement(&id)
            .unwrap()
            .leg(Leg::Cash)
            .unwrap()
            .claim_refused
    );
    net.gw.now += 10;
    let out = net.gw.restart();
    // §12.6 rules 6–7: no claim asked again; the refund waits for the watcher.
    assert_no_ledger_order(&out, "neither a claim again nor an early refund");
    let at = net.gw.advance_to(lock_order.expiry_ms + K);
    assert!(
        matches!(&commands(&at)[..], [LedgerCommand::Refund(_)]),
        "{at:#?}"
    );
}

// ===== CLAIMED (§12.6 rule 6, §12.7, §12.8) =====

/// The leg CLAIMED: the ledger's claim answered; the receipts it sent are returned.
fn claimed(side: Side) -> (LockedLeg, Vec<Output>) {
    let (mut reached, outputs) = claim_intended(side);
    reached.net.gw.now += 10;
    let answered = reached.net.gw.run_ledger(&mut reached.net.ledger, &outputs);
    assert_eq!(
        reached.net.gw.stored_phase(&reached.id, side.leg()),
        Some(LegPhase::Claimed)
    );
    (reached, answered)
}

#[test]
fn claimed_repeats_its_claim_receipt_to_the_relay_and_the_other_gateway_after_a_restart() {
    for side in Side::BOTH {
        let (reached, answered) = claimed(side);
        let LockedLeg { mut net, .. } = reached;
        let to_relay = claim_receipts_to(&answered, RELAY);
        let to_peer = claim_receipts_to(&answered, side.other_gateway());
        assert_eq!((to_relay.len(), to_peer.len()), (1, 1), "{answered:#?}");
        // Both lost; the gateway restarts.
        net.gw.now += 30;
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1, §12.8: the receipts it waits to have answered.
        assert_eq!(
            claim_receipts_to(&out, RELAY),
            to_relay,
            "{side:?}: {out:#?}"
        );
        // ISM-1 §12.7 rule 1: the hand-over, with p, to the other leg's gateway.
        assert_eq!(
            claim_receipts_to(&out, side.other_gateway()),
            to_peer,
            "{side:?}: {out:#?}"
        );
        assert_no_ledger_order(&out, "a CLAIMED leg is final at the ledger");
        // And again every R.
        let now = net.gw.now;
        let again = net.gw.advance_to(now + R);
        assert_eq!(claim_receipts_to(&again, RELAY), to_relay);
        assert_eq!(claim_receipts_to(&again, side.other_gateway()), to_peer);
    }
}

#[test]
fn claimed_stops_the_hand_over_on_the_other_gateways_receipt_and_everything_on_the_final_word() {
    for side in Side::BOTH {
        let (reached, answered) = claimed(side);
        let LockedLeg {
            mut net, secret, ..
        } = reached;
        let secret = secret.unwrap();
        // The other gateway's ClaimReceipt for its leg arrives (§12.7 rule 2).
        let hand_over = net.other_claim_receipt(&secret);
        let message = net
            .gw
            .message(side.other_gateway(), Body::ClaimReceipt(hand_over.clone()));
        net.gw.deliver(message);
        net.gw.now += 10;
        let out = net.gw.restart();
        // §12.7 rule 1: the hand-over is answered, so it is no longer repeated...
        assert!(
            claim_receipts_to(&out, side.other_gateway()).is_empty(),
            "{side:?}: {out:#?}"
        );
        // ...but the relay has not given its final word: its receipt still goes.
        assert_eq!(
            claim_receipts_to(&out, RELAY).len(),
            1,
            "{side:?}: {out:#?}"
        );
        // §12.7 rule 2: a hand-over recorded before (and persisted) gets no answer.
        let again = net
            .gw
            .message(side.other_gateway(), Body::ClaimReceipt(hand_over));
        let answer = net.gw.deliver(again);
        assert!(sends(&answer).is_empty(), "{side:?}: {answer:#?}");
        // The relay settles: our receipt, and the other leg's, reach it.
        net.send_to_relay(&answered);
        if side == Side::Buyer {
            // The relay asked the seller's gateway for the securities claim.
            let request = net
                .other_claim_request()
                .expect("the securities ClaimRequest");
            assert_eq!(request.preimage, secret);
            let receipt = net.other_claim_receipt(&secret);
            net.other_sends_to_relay(Body::ClaimReceipt(receipt));
        }
        let confirmation = net.take_one(|b| confirmation_of(b).is_some());
        net.gw.deliver(confirmation);
        net.gw.now += 10;
        let out = net.gw.restart();
        let now = net.gw.now;
        let later = net.gw.advance_to(now + 100 * R);
        // ISM-1 §12.8: receipts and instruction repeated only until the final word.
        for outputs in [&out, &later] {
            assert!(
                sends(outputs).is_empty(),
                "{side:?}: nothing after the final word: {outputs:#?}"
            );
            assert_no_ledger_order(outputs, "nothing at the ledger");
        }
    }
}

#[test]
fn claimed_stops_the_hand_over_after_the_other_legs_expiry_plus_k() {
    for side in Side::BOTH {
        let (reached, _) = claimed(side);
        let LockedLeg { mut net, id, .. } = reached;
        let settlement = net.gw.stored_settlement(&id).unwrap();
        let other_expiry = match side.other_leg() {
            Leg::Securities => &settlement.proposal.securities_leg.expires_at,
            Leg::Cash => &settlement.proposal.cash_leg.as_ref().unwrap().expires_at,
        };
        let other_expiry = u64::try_from(other_expiry.unix_millis()).unwrap();
        // Down until the other leg can no longer be claimed (§12.7 rule 1).
        net.gw.now = other_expiry + K;
        let out = net.gw.restart();
        assert!(
            claim_receipts_to(&out, side.other_gateway()).is_empty(),
            "{side:?}: {out:#?}"
        );
        assert_eq!(
            claim_receipts_to(&out, RELAY).len(),
            1,
            "{side:?}: {out:#?}"
        );
    }
}

#[test]
fn claimed_answers_the_relays_repeated_claim_request_with_its_receipt_after_a_restart() {
    let (reached, answered) = claimed(Side::Buyer);
    let LockedLeg {
        mut net,
        id,
        secret,
        ..
    } = reached;
    net.gw.restart();
    let hashlock = net.gw.stored_settlement(&id).unwrap().proposal.hashlock;
    let repeat = net.gw.message(
        RELAY,
        Body::ClaimRequest(isthmus_spec::body::ClaimRequest {
            settlement_id: id.clone(),
            hashlock,
            preimage: secret.unwrap(),
        }),
    );
    let out = net.gw.deliver(repeat);
    // §12.8 item 2: the gateway answers a repeated ClaimRequest with its first answer.
    assert_eq!(
        claim_receipts_to(&out, RELAY),
        claim_receipts_to(&answered, RELAY)
    );
    assert_no_ledger_order(&out, "no second claim");
}

// ===== REFUND_INTENDED and REFUNDED (§12.6 rule 7) =====

/// The leg REFUND_INTENDED at its watcher: the refund order out, not run.
/// The other gateway never locked; the relay aborted at the lock deadline and
/// its CANCELLED waits in the inbox.
fn refund_intended(side: Side) -> (LockedLeg, Vec<Output>) {
    let mut reached = locked(side, false);
    let watcher = reached.lock_order.expiry_ms + K;
    reached.net.advance_relay_to(watcher);
    assert!(
        reached
            .net
            .inbox
            .iter()
            .any(|m| is_status(&m.body, InstructionState::Cancelled)),
        "the relay aborted at the lock deadline"
    );
    let out = reached.net.gw.advance_to(watcher);
    assert!(
        matches!(&commands(&out)[..], [LedgerCommand::Refund(_)]),
        "{out:#?}"
    );
    assert_eq!(
        reached.net.gw.stored_phase(&reached.id, side.leg()),
        Some(LegPhase::RefundIntended)
    );
    (reached, out)
}

#[test]
fn refund_intended_repeats_the_refund_order_with_its_persisted_key() {
    for side in Side::BOTH {
        let (reached, outputs) = refund_intended(side);
        let LockedLeg { mut net, id, .. } = reached;
        let first = commands(&outputs);
        net.gw.now += 40;
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1: the refund again, with its key.
        assert_eq!(commands(&out), first, "{side:?}: {out:#?}");
        assert!(
            !sends(&out)
                .iter()
                .any(|o| matches!(o.body, Body::RefundReceipt(_))),
            "no RefundReceipt before the ledger refunded: {out:#?}"
        );
        let answered = net.gw.run_ledger(&mut net.ledger, &out);
        assert_eq!(
            net.gw.stored_phase(&id, side.leg()),
            Some(LegPhase::Refunded)
        );
        assert!(sends_to(&answered, RELAY)
            .iter()
            .any(|o| matches!(o.body, Body::RefundReceipt(_))));
        assert_eq!(net.ledger.settled(), (0, 1));
    }
}

#[test]
fn refunded_repeats_nothing_at_the_ledger_and_its_receipt_only_until_the_final_word() {
    for side in Side::BOTH {
        let (reached, outputs) = refund_intended(side);
        let LockedLeg { mut net, id, .. } = reached;
        let answered = net.gw.run_ledger(&mut net.ledger, &outputs);
        let receipt: Vec<_> = sends_to(&answered, RELAY)
            .into_iter()
            .map(|o| o.body.clone())
            .filter(|b| matches!(b, Body::RefundReceipt(_)))
            .collect();
        assert_eq!(receipt.len(), 1);
        let ledger_commands = net.ledger.commands.len();
        net.gw.now += 10;
        let out = net.gw.restart();
        // ISM-1 §12.10 item 1: REFUNDED is final at the ledger...
        assert_no_ledger_order(&out, "nothing at the ledger for a REFUNDED leg");
        // ...and §12.8: the RefundReceipt goes to the relay until its final word.
        let again: Vec<_> = sends_to(&out, RELAY)
            .into_iter()
            .map(|o| o.body.clone())
            .filter(|b| matches!(b, Body::RefundReceipt(_)))
            .collect();
        assert_eq!(again, receipt, "{side:?}: {out:#?}");
        // The relay's CANCELLED (it aborted at the lock deadline) is the final word.
        let cancelled = net.take_one(|b| is_status(b, InstructionState::Cancelled));
        net.gw.deliver(cancelled);
        assert!(net.gw.stored_settlement(&id).unwrap().final_word);
        let out = net.gw.restart();
        let now = net.gw.now;
        let later = net.gw.advance_to(now + 100 * R);
        for outputs in [&out, &later] {
            assert!(sends(outputs).is_empty(), "{side:?}: {outputs:#?}");
            assert_no_ledger_order(outputs, "REFUNDED is final");
        }
        assert_eq!(net.ledger.commands.len(), ledger_commands);
    }
}

// ===== persist before act, across a crash (§12.9) =====

#[test]
fn an_instruction_whose_write_was_not_durable_is_never_sent() {
    let mut gw = GwRig::new(Side::Seller);
    let out = gw.input_then_crash(Input::Submit {
        instruction: seller(),
        relay: support::node(RELAY),
    });
    // ISM-1 §12.9: persisted first, then sent; the write never became durable.
    assert_eq!(writes(&out).len(), 1, "{out:#?}");
    assert!(
        sends(&out).is_empty(),
        "nothing sent before the write: {out:#?}"
    );
    let out = gw.restart();
    assert!(gw.gateway.instruction(&seller().instruction_id).is_none());
    assert!(sends(&out).is_empty(), "{out:#?}");
    let later = gw.advance_by(100 * R);
    assert!(sends(&later).is_empty(), "{later:#?}");
}

#[test]
fn a_lock_intent_that_was_not_durable_orders_no_lock_after_a_restart() {
    for side in Side::BOTH {
        let mut net = instructed(side);
        net.deliver_all();
        net.other_sends_to_relay(Body::SettlementInstruction(side.other_instruction()));
        let proposal = net.take_one(|b| matches!(b, Body::SettlementProposal(_)));
        let lock = net.take_one(|b| matches!(b, Body::LockRequest(_)));
        let request = match &lock.body {
            Body::LockRequest(r) => r.clone(),
            _ => unreachable!(),
        };
        let id = request.settlement_id.clone();
        net.deliver_all();
        net.gw.deliver(proposal);
        let out = net.gw.input_then_crash(Input::Message(lock));
        // ISM-1 §12.9: LOCK_INTENDED first, then the order; the write was lost.
        assert_eq!(writes(&out).len(), 1, "{out:#?}");
        assert_no_ledger_order(&out, "no order before its intent is durable");
        let lost = net.gw.lost_writes[0].clone();
        let out = net.gw.restart();
        assert_no_ledger_order(&out, "the restarted gateway never heard of the lock");
        assert_eq!(net.gw.phase(&id, side.leg()), None);
        assert!(net.ledger.commands.is_empty());
        // The relay repeats its LockRequest (§12.8): only now the lock.
        let repeat = net.gw.message(RELAY, Body::LockRequest(request));
        let out = net.gw.deliver(repeat);
        let lost_order = match &lost.records[0] {
            isthmus_gateway::Record::Settlement(s) => s.leg(side.leg()).unwrap().order.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            commands(&out),
            vec![LedgerCommand::Lock(lost_order.unwrap())],
            "{side:?}: the same order and key as the lost intent's"
        );
    }
}

#[test]
fn a_claim_intent_that_was_not_durable_claims_nothing_after_a_restart() {
    for side in Side::BOTH {
        let LockedLeg {
            mut net,
            id,
            secret,
            ..
        } = locked(side, true);
        let claim = net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
        let out = net.gw.input_then_crash(Input::Message(claim.clone()));
        assert_no_ledger_order(&out, "no claim before p is durable");
        let out = net.gw.restart();
        // ISM-1 §12.9: p and CLAIM_INTENDED were never durable: no claim, no p.
        assert_no_ledger_order(&out, "the restarted gateway does not know p");
        let settlement = net.gw.gateway.settlement(&id).unwrap();
        assert!(settlement.secret.is_none());
        assert_eq!(settlement.leg(side.leg()).unwrap().phase, LegPhase::Locked);
        // The relay repeats the ClaimRequest (§12.8): then the claim.
        let repeat = net.gw.message(RELAY, claim.body);
        let out = net.gw.deliver(repeat);
        match &commands(&out)[..] {
            [LedgerCommand::Claim(order)] => assert_eq!(Some(&order.preimage), secret.as_ref()),
            other => panic!("{side:?}: {other:#?}"),
        }
    }
}

#[test]
fn a_claim_the_ledger_made_but_the_gateway_did_not_persist_is_asked_again_before_any_receipt() {
    for side in Side::BOTH {
        let (reached, outputs) = claim_intended(side);
        let LockedLeg { mut net, id, .. } = reached;
        let (settlement_id, leg, command) = ledger_orders(&outputs).remove(0);
        let result = net.ledger.execute(net.gw.now, &command);
        let out = net.gw.input_then_crash(Input::Ledger {
            settlement_id,
            leg,
            result,
        });
        // ISM-1 §12.9: CLAIMED first, then the ClaimReceipts; the write was lost.
        assert!(
            sends(&out).is_empty(),
            "{side:?}: no receipt before CLAIMED is durable: {out:#?}"
        );
        let out = net.gw.restart();
        assert_eq!(net.gw.phase(&id, side.leg()), Some(LegPhase::ClaimIntended));
        assert!(claim_receipts_to(&out, RELAY).is_empty());
        assert_eq!(commands(&out), vec![command], "the claim is asked again");
        let answered = net.gw.run_ledger(&mut net.ledger, &out);
        assert_eq!(net.ledger.settled(), (1, 0), "claimed once (A1)");
        assert_eq!(claim_receipts_to(&answered, RELAY).len(), 1);
        assert_eq!(claim_receipts_to(&answered, side.other_gateway()).len(), 1);
    }
}

#[test]
fn a_refund_intent_that_was_not_durable_is_decided_again_at_the_watcher_after_a_restart() {
    let LockedLeg {
        mut net,
        id,
        lock_order,
        ..
    } = locked(Side::Seller, false);
    let watcher = lock_order.expiry_ms + K;
    // Fire the timers up to just before the watcher, then the watcher with a crash.
    net.gw.advance_to(watcher - 1);
    net.gw.now = watcher;
    let timer = GatewayTimer::Settlement(id.clone());
    let out = net.gw.input_then_crash(Input::Timer(timer));
    assert_eq!(writes(&out).len(), 1, "{out:#?}");
    assert_no_ledger_order(&out, "no refund before REFUND_INTENDED is durable");
    assert_eq!(
        net.gw.stored_phase(&id, Leg::Securities),
        Some(LegPhase::Locked)
    );
    net.gw.now += 10;
    let out = net.gw.restart();
    match &commands(&out)[..] {
        [LedgerCommand::Refund(order)] => {
            assert_eq!(
                order.key.as_str(),
                format!("{id}/{}/refund", Leg::Securities)
            )
        }
        other => panic!("the watcher decides again at once: {other:#?}"),
    }
    assert_eq!(
        net.gw.stored_phase(&id, Leg::Securities),
        Some(LegPhase::RefundIntended)
    );
}

#[test]
fn a_refund_refused_as_not_expired_is_asked_again_under_a_new_key_and_then_refunds() {
    for side in Side::BOTH {
        let (reached, outputs) = refund_intended(side);
        let LockedLeg { mut net, id, .. } = reached;
        let [LedgerCommand::Refund(first)] = &commands(&outputs)[..] else {
            panic!("one refund order: {outputs:#?}");
        };
        // The ledger's clock is behind (beyond K, which A2 excludes): it says
        // the lock has not expired. The ledger keeps that answer for the key.
        let now = net.gw.now;
        let refusal = net.ledger.execute(0, &LedgerCommand::Refund(first.clone()));
        assert!(refusal.is_err(), "{refusal:?}");
        let out = net.gw.answer(&outputs, refusal);
        assert_no_ledger_order(&out, "no refund again before R");
        assert_eq!(net.gw.stored_phase(&id, side.leg()), Some(LegPhase::Locked));
        // ISM-1 §12.6 rule 7: after R, the refund again under a new key
        // (the ledger answers a repeated key with its first answer, A1).
        let again = net.gw.advance_to(now + R);
        let [LedgerCommand::Refund(second)] = &commands(&again)[..] else {
            panic!("{side:?}: the refund asked again: {again:#?}");
        };
        assert_eq!(second.lock_id, first.lock_id);
        assert_ne!(second.key, first.key, "a new idempotency key");
        assert_eq!(second.key.as_str(), format!("{}-2", first.key.as_str()));
        // Persisted with the leg: a restart asks with the same new key.
        let restarted = net.gw.restart();
        assert_eq!(
            commands(&restarted),
            vec![LedgerCommand::Refund(second.clone())]
        );
        net.gw.run_ledger(&mut net.ledger, &restarted);
        assert_eq!(
            net.gw.stored_phase(&id, side.leg()),
            Some(LegPhase::Refunded)
        );
        assert_eq!(net.ledger.settled(), (0, 1));
    }
}
