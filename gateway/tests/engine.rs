//! The gateway engine's rules one by one (ISM-1 §12.1, §12.6–§12.10), each
//! through real inputs: the participant's instruction, the real relay
//! engine's messages (changed by hand only where a rule is about a message
//! an honest relay never sends), and an honest ledger's answers (A1).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use isthmus_adapters::ledger_side::LedgerCommand;
use isthmus_gateway::{GatewayConfig, GatewayTimer, Input, LegPhase, Output};
use isthmus_ledger::{LedgerFailure, LedgerReason};
use isthmus_spec::body::{
    Body, ClaimReceipt, ClaimRequest, InstructionState, InstructionStatus, Leg, LockRequest,
    SettlementConfirmation, SettlementProposal,
};
use isthmus_spec::decimal::{Money, Quantity};
use isthmus_spec::ident::Isin;
use isthmus_spec::ids::{Preimage, Reference};
use isthmus_spec::protocol::Inbound;
use isthmus_spec::time::{Date, Timestamp};
use serde_json::json;
use support::*;

/// R of `timing()`.
const R: u64 = 500;
/// Δ = C + K of `timing()`.
const DELTA: u64 = 1_100;
/// K of `timing()`.
const K: u64 = 100;

/// A node that is neither a relay nor a gateway of the network.
const STRANGER: &str = "node.stranger";

/// The relay's proposal and this side's LockRequest, not yet delivered; the
/// gateway's instruction has its MATCHED status.
fn proposed(side: Side) -> (Net, Inbound, Inbound) {
    let mut net = instructed(side);
    net.deliver_all(); // ACCEPTED
    net.gw.now += 10;
    net.other_sends_to_relay(Body::SettlementInstruction(side.other_instruction()));
    let proposal = net.take_one(|b| matches!(b, Body::SettlementProposal(_)));
    let lock = net.take_one(|b| matches!(b, Body::LockRequest(_)));
    net.deliver_all(); // MATCHED
    (net, proposal, lock)
}

fn proposal_of(message: &Inbound) -> SettlementProposal {
    match &message.body {
        Body::SettlementProposal(p) => p.clone(),
        other => panic!("a proposal, not {other:?}"),
    }
}

fn request_of(message: &Inbound) -> LockRequest {
    match &message.body {
        Body::LockRequest(r) => r.clone(),
        other => panic!("a lock request, not {other:?}"),
    }
}

/// The one Error in `outputs`: its code, and that it answers `message`;
/// and no ledger order, no write.
fn refused(outputs: &[Output], message: &Inbound) -> String {
    assert!(
        ledger_orders(outputs).is_empty(),
        "a refusal orders nothing from the ledger: {outputs:#?}"
    );
    let errors = error_codes(outputs);
    assert_eq!(errors.len(), 1, "one Error: {outputs:#?}");
    let (to, code, related) = errors.into_iter().next().unwrap();
    assert_eq!(to, message.sender, "the Error goes to the sender");
    assert_eq!(
        related.as_ref(),
        Some(&message.id),
        "it answers the message"
    );
    code
}

// ----- ISM-1 §12.1 item 2: configuration -----

#[test]
fn a_gateway_configuration_without_a_relay_or_with_r_not_below_c_is_refused() {
    let good = GatewayConfig {
        node: node(GW_XNYS),
        market: mic("XNYS"),
        relays: vec![node(RELAY)],
        gateways: gateways(),
        timing: timing(),
    };
    assert_eq!(good.check(), Ok(()));
    let mut no_relay = good.clone();
    no_relay.relays.clear();
    assert!(no_relay.check().is_err(), "a gateway needs a relay");
    let mut slow = good.clone();
    slow.timing.retransmit_ms = slow.timing.claim_window_ms;
    assert!(slow.check().is_err(), "R ≥ C is refused");
    let mut no_skew = good;
    no_skew.timing.max_clock_skew_ms = 0;
    assert!(no_skew.check().is_err(), "K must be positive");
}

// ----- who may send what (ISM-1 §12.6 rules 2–5, §12.7 rule 2) -----

#[test]
fn relay_messages_from_a_node_that_is_not_its_relay_are_sender_not_party_and_change_nothing() {
    let (mut net, proposal_message, lock) = proposed(Side::Seller);
    let proposal = proposal_of(&proposal_message);
    let request = request_of(&lock);
    let instruction = seller();
    let status = InstructionStatus {
        instruction_id: instruction.instruction_id.clone(),
        related_message_id: None,
        status: InstructionState::Cancelled,
        settlement_id: Some(proposal.settlement_id.clone()),
        reason: None,
    };
    let confirmation = SettlementConfirmation {
        instruction_id: instruction.instruction_id.clone(),
        settlement_id: proposal.settlement_id.clone(),
        direction: instruction.direction,
        payment: instruction.payment,
        isin: instruction.isin.clone(),
        quantity: instruction.quantity.clone(),
        settlement_amount: instruction.settlement_amount.clone(),
        settlement_date: instruction.settlement_date.clone(),
        settled_at: Timestamp::from_unix_millis(T0).unwrap(),
        securities_journal: journal(&mic("XNYS"), 1),
        cash_journal: Some(journal(&mic("XASX"), 2)),
    };
    let secret = Preimage::from_bytes([7; 32]);
    let claim = ClaimRequest {
        settlement_id: proposal.settlement_id.clone(),
        hashlock: proposal.hashlock.clone(),
        preimage: secret,
    };
    // The proposal first from the stranger: it must not be kept.
    let bodies = [
        Body::SettlementProposal(proposal.clone()),
        Body::InstructionStatus(status.clone()),
        Body::SettlementConfirmation(confirmation.clone()),
    ];
    for body in bodies {
        let message = net.gw.message(STRANGER, body);
        let out = net.gw.deliver(message.clone());
        assert_eq!(refused(&out, &message), "SENDER_NOT_PARTY", "{out:#?}");
        assert!(writes(&out).is_empty(), "nothing recorded: {out:#?}");
        assert!(notices(&out).is_empty(), "nothing told: {out:#?}");
    }
    assert!(net.gw.gateway.settlement(&proposal.settlement_id).is_none());
    let record = net
        .gw
        .gateway
        .instruction(&instruction.instruction_id)
        .unwrap();
    assert!(!record.final_word, "a stranger's word is not the relay's");
    // With the relay's proposal kept, a stranger still cannot ask a lock or a claim.
    net.gw.deliver(proposal_message);
    for body in [Body::LockRequest(request), Body::ClaimRequest(claim)] {
        let message = net.gw.message(STRANGER, body);
        let out = net.gw.deliver(message.clone());
        assert_eq!(refused(&out, &message), "SENDER_NOT_PARTY", "{out:#?}");
        assert!(writes(&out).is_empty(), "nothing recorded: {out:#?}");
    }
    assert!(net
        .gw
        .gateway
        .settlement(&proposal.settlement_id)
        .unwrap()
        .legs
        .is_empty());
}

#[test]
fn a_claim_receipt_from_a_node_that_is_no_other_gateway_is_sender_not_party() {
    let reached = locked(Side::Seller, true);
    let LockedLeg {
        mut net,
        id,
        secret,
        request,
        ..
    } = reached;
    let secret = secret.unwrap();
    // A receipt for this gateway's own leg, opening its lock, as if from itself
    // or from a stranger: only the other legs' gateways hand p over (§12.7).
    let receipt = ClaimReceipt {
        settlement_id: id.clone(),
        leg: request.leg,
        lock_id: reference("HTLC-1"),
        hashlock: request.hashlock.clone(),
        preimage: secret,
        journal: journal(&request.market, 1),
    };
    for sender in [GW_XNYS, STRANGER] {
        let message = net.gw.message(sender, Body::ClaimReceipt(receipt.clone()));
        let out = net.gw.deliver(message.clone());
        assert_eq!(
            refused(&out, &message),
            "SENDER_NOT_PARTY",
            "{sender}: {out:#?}"
        );
        assert!(writes(&out).is_empty(), "{sender}: {out:#?}");
    }
    assert_eq!(net.gw.phase(&id, request.leg), Some(LegPhase::Locked));
    // And for a settlement it does not know, a stranger is still no party.
    let mut unknown = receipt;
    unknown.settlement_id = reference("STL-UNKNOWN-1");
    let message = net.gw.message(STRANGER, Body::ClaimReceipt(unknown));
    let out = net.gw.deliver(message.clone());
    assert_eq!(refused(&out, &message), "SENDER_NOT_PARTY", "{out:#?}");
}

// ----- ISM-1 §12.6 rule 3: EXPIRY_ORDER -----

/// The relay's proposal and securities LockRequest with T2 moved to T1 + `gap_ms`.
fn with_gap(gap_ms: u64) -> (Net, Inbound, Inbound) {
    let (mut net, proposal_message, lock) = proposed(Side::Seller);
    let mut proposal = proposal_of(&proposal_message);
    let mut request = request_of(&lock);
    let t1 = proposal.cash_leg.as_ref().unwrap().expires_at.unix_millis();
    let t2 = Timestamp::from_unix_millis(u64::try_from(t1).unwrap() + gap_ms).unwrap();
    proposal.securities_leg.expires_at = t2.clone();
    request.expires_at = t2;
    let proposal_message = net.gw.message(RELAY, Body::SettlementProposal(proposal));
    let lock = net.gw.message(RELAY, Body::LockRequest(request));
    (net, proposal_message, lock)
}

#[test]
fn against_payment_a_lock_with_t2_less_than_delta_after_t1_is_expiry_order() {
    let (mut net, proposal, lock) = with_gap(DELTA - 1);
    net.gw.deliver(proposal);
    let out = net.gw.deliver(lock.clone());
    assert_eq!(refused(&out, &lock), "EXPIRY_ORDER", "{out:#?}");
}

#[test]
fn against_payment_a_lock_with_t2_exactly_delta_after_t1_is_ordered() {
    let (mut net, proposal, lock) = with_gap(DELTA);
    net.gw.deliver(proposal);
    let out = net.gw.deliver(lock);
    assert!(error_codes(&out).is_empty(), "{out:#?}");
    assert_eq!(
        ledger_orders(&out).len(),
        1,
        "T2 − T1 = Δ is allowed: {out:#?}"
    );
}

// ----- ISM-1 §12.6 rule 3: an instruction settles once, across restarts -----

#[test]
fn after_a_restart_an_instruction_locked_for_one_settlement_is_refused_for_another() {
    let LockIntended {
        mut net,
        proposal,
        request,
        outputs,
        ..
    } = lock_intended(Side::Seller);
    net.gw.run_ledger(&mut net.ledger, &outputs);
    net.gw.now += 10;
    net.gw.restart();
    let mut other = proposal;
    other.settlement_id = reference("STL-OTHER-1");
    let mut other_request = request;
    other_request.settlement_id = other.settlement_id.clone();
    net.gw.receive(RELAY, Body::SettlementProposal(other));
    let message = net.gw.message(RELAY, Body::LockRequest(other_request));
    let out = net.gw.deliver(message.clone());
    assert_eq!(refused(&out, &message), "PROPOSAL_MISMATCH", "{out:#?}");
}

// ----- ISM-1 §12.6 rule 1: statuses, final word, notices -----

#[test]
fn a_matched_status_is_not_the_final_word_and_the_instruction_is_repeated_every_ten_r() {
    let (mut net, _, _) = proposed(Side::Seller);
    let id = seller().instruction_id;
    let record = net.gw.gateway.instruction(&id).unwrap();
    assert_eq!(record.status, Some(InstructionState::Matched));
    assert!(!record.final_word, "MATCHED is not the relay's final word");
    let out = net.gw.fire(GatewayTimer::Instruction(id.clone()));
    assert_eq!(instructions_sent(&out).len(), 1, "{out:#?}");
    assert_eq!(
        timers_set(&out),
        vec![(GatewayTimer::Instruction(id), net.gw.now + 10 * R)],
        "every 10·R once it has a status (§12.8)"
    );
}

#[test]
fn an_older_or_repeated_status_changes_nothing() {
    let (mut net, _, _) = proposed(Side::Seller);
    let id = seller().instruction_id;
    for state in [
        InstructionState::Matched,
        InstructionState::Unmatched,
        InstructionState::Accepted,
    ] {
        let status = InstructionStatus {
            instruction_id: id.clone(),
            related_message_id: None,
            status: state,
            settlement_id: None,
            reason: None,
        };
        let out = net.gw.receive(RELAY, Body::InstructionStatus(status));
        assert!(writes(&out).is_empty(), "{state:?}: {out:#?}");
        assert!(notices(&out).is_empty(), "{state:?}: {out:#?}");
    }
    let record = net.gw.gateway.instruction(&id).unwrap();
    assert_eq!(record.status, Some(InstructionState::Matched));
}

#[test]
fn a_cancelled_status_of_a_settlement_is_recorded_as_cancelled_and_final() {
    let (mut net, proposal_message, _) = proposed(Side::Seller);
    let proposal = proposal_of(&proposal_message);
    net.gw.deliver(proposal_message);
    let id = seller().instruction_id;
    let status = InstructionStatus {
        instruction_id: id.clone(),
        related_message_id: None,
        status: InstructionState::Cancelled,
        settlement_id: Some(proposal.settlement_id.clone()),
        reason: None,
    };
    let out = net
        .gw
        .receive(RELAY, Body::InstructionStatus(status.clone()));
    assert_eq!(notices(&out).len(), 1, "{out:#?}");
    let record = net.gw.gateway.instruction(&id).unwrap();
    assert_eq!(record.status, Some(InstructionState::Cancelled));
    assert!(record.final_word);
    assert!(
        net.gw
            .gateway
            .settlement(&proposal.settlement_id)
            .unwrap()
            .final_word
    );
    // A repeat of the final word changes nothing (§12.8 rule 1).
    let again = net.gw.receive(RELAY, Body::InstructionStatus(status));
    assert!(writes(&again).is_empty(), "{again:#?}");
    assert!(notices(&again).is_empty(), "{again:#?}");
}

// ----- ISM-1 §12.6 rule 5: learning p -----

#[test]
fn a_claim_request_whose_preimage_does_not_open_its_hashlock_is_preimage_mismatch() {
    let LockedLeg {
        mut net,
        id,
        request,
        ..
    } = locked(Side::Seller, false);
    let claim = ClaimRequest {
        settlement_id: id.clone(),
        hashlock: request.hashlock.clone(),
        preimage: Preimage::from_bytes([9; 32]),
    };
    let message = net.gw.message(RELAY, Body::ClaimRequest(claim));
    let out = net.gw.deliver(message.clone());
    assert_eq!(refused(&out, &message), "PREIMAGE_MISMATCH", "{out:#?}");
    assert!(writes(&out).is_empty(), "{out:#?}");
    assert_eq!(net.gw.phase(&id, request.leg), Some(LegPhase::Locked));
    assert!(net.gw.gateway.settlement(&id).unwrap().secret.is_none());
}

// ----- what the gateway knows -----

#[test]
fn the_gateway_lists_every_settlement_it_keeps() {
    let LockIntended { net, id, .. } = lock_intended(Side::Seller);
    let ids: Vec<Reference> = net
        .gw
        .gateway
        .settlements()
        .map(|s| s.id().clone())
        .collect();
    assert_eq!(ids, vec![id]);
}

#[test]
fn a_submitted_instruction_is_persisted_sent_and_repeated_r_later_until_a_status() {
    let mut gw = GwRig::new(Side::Seller);
    let submitted_at = gw.now;
    let out = gw.input(Input::Submit {
        instruction: seller(),
        relay: node(RELAY),
    });
    // ISM-1 §12.6 rule 1: persisted, then sent; repeated every R (§12.8).
    assert!(matches!(out.first(), Some(Output::Persist(_))), "{out:#?}");
    assert_eq!(instructions_sent(&out), vec![seller()]);
    let timer = GatewayTimer::Instruction(seller().instruction_id);
    assert_eq!(timers_set(&out), vec![(timer.clone(), submitted_at + R)]);
    let early = gw.advance_to(submitted_at + R - 1);
    assert!(instructions_sent(&early).is_empty(), "{early:#?}");
    let due = gw.advance_to(submitted_at + R);
    assert_eq!(instructions_sent(&due), vec![seller()]);
    assert_eq!(gw.timers.get(&timer), Some(&(submitted_at + 2 * R)));
}

// ----- ISM-1 §12.6 rule 6: a claim answer that is not final -----

#[test]
fn a_claim_answer_that_is_not_final_is_asked_again_with_the_same_key_not_refunded() {
    let mut reached = locked(Side::Buyer, true);
    let claim = reached.net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
    let LockedLeg {
        mut net,
        id,
        lock_order,
        ..
    } = reached;
    net.gw.now += 10;
    let out = net.gw.deliver(claim);
    let first = ledger_orders(&out);
    assert_eq!(first.len(), 1, "{out:#?}");
    let answered = net.gw.answer(&out, outcome_unknown());
    assert!(sends(&answered).is_empty(), "no receipt yet: {answered:#?}");
    let leg = net
        .gw
        .gateway
        .settlement(&id)
        .unwrap()
        .leg(Leg::Cash)
        .unwrap();
    assert_eq!(leg.phase, LegPhase::ClaimIntended);
    assert!(!leg.claim_refused, "an unknown outcome is not a refusal");
    // Past the watcher time, still the claim with its key, never a refund.
    let later = net.gw.advance_to(lock_order.expiry_ms + 10 * K);
    let orders = ledger_orders(&later);
    assert!(!orders.is_empty(), "the claim is asked again: {later:#?}");
    assert!(orders.iter().all(|order| order == &first[0]), "{later:#?}");
}

// ----- ISM-1 §12.6 rule 3: the proposal against the participant's instruction -----

/// One change to the relay's proposal and this side's LockRequest together.
type Change = Box<dyn Fn(&mut SettlementProposal, &mut LockRequest)>;

#[test]
fn a_proposal_that_differs_from_the_instruction_in_any_term_is_proposal_mismatch() {
    // The cash leg: its request carries the amount, not the security.
    let changes: Vec<(&str, Change)> = vec![
        (
            "isin",
            Box::new(|p, _| p.isin = Isin::parse("US5949181045").unwrap()),
        ),
        (
            "quantity",
            Box::new(|p, _| p.quantity = Quantity::parse("999").unwrap()),
        ),
        (
            "settlement date",
            Box::new(|p, _| p.settlement_date = Date::parse("2026-11-30").unwrap()),
        ),
        (
            "amount",
            Box::new(|p, r| {
                let other = Money::parse("352140.51", "AUD").unwrap();
                p.settlement_amount = Some(other.clone());
                r.cash = Some(other);
            }),
        ),
        (
            "currency",
            Box::new(|p, r| {
                let other = Money::parse("352140.50", "NZD").unwrap();
                p.settlement_amount = Some(other.clone());
                r.cash = Some(other);
            }),
        ),
        (
            "from",
            Box::new(|p, r| {
                let from = &mut p.cash_leg.as_mut().unwrap().from;
                from.account = reference("AUD-CASH-OTHER-9");
                r.from = from.clone();
            }),
        ),
    ];
    for (what, change) in changes {
        let (mut net, proposal, lock) = proposed(Side::Buyer);
        let mut proposal = proposal_of(&proposal);
        let mut request = request_of(&lock);
        change(&mut proposal, &mut request);
        net.gw.receive(RELAY, Body::SettlementProposal(proposal));
        let message = net.gw.message(RELAY, Body::LockRequest(request));
        let out = net.gw.deliver(message.clone());
        assert_eq!(
            refused(&out, &message),
            "PROPOSAL_MISMATCH",
            "{what}: {out:#?}"
        );
    }
}

#[test]
fn a_cash_lock_request_in_another_currency_than_the_proposal_is_proposal_mismatch() {
    for amount in [("352140.50", "NZD"), ("352140.49", "AUD")] {
        let (mut net, proposal, lock) = proposed(Side::Buyer);
        let mut request = request_of(&lock);
        request.cash = Some(Money::parse(amount.0, amount.1).unwrap());
        net.gw.deliver(proposal);
        let message = net.gw.message(RELAY, Body::LockRequest(request));
        let out = net.gw.deliver(message.clone());
        assert_eq!(
            refused(&out, &message),
            "PROPOSAL_MISMATCH",
            "{amount:?}: {out:#?}"
        );
    }
}

#[test]
fn free_of_payment_a_lock_without_an_amount_is_ordered() {
    let seller_free = instruction(json!({
        "instruction_id": "SEME-XNYS-2",
        "direction": "DELIVER",
        "payment": "FREE_OF_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": "US0378331005",
        "quantity": "1000",
        "account_owner": "549300ISTHMUSSELL015",
        "safekeeping_account": "SAFE-SELLER-01",
        "securities_market": "XNYS",
        "receiving_agent": {"proprietary_id": {"id": "0901", "issuer": "DTCYID"}},
        "place_of_settlement": "DTCYUS33"
    }));
    let buyer_free = instruction(json!({
        "instruction_id": "SEME-XASX-2",
        "direction": "RECEIVE",
        "payment": "FREE_OF_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": "US0378331005",
        "quantity": "1000",
        "account_owner": "ANZBAU3M",
        "safekeeping_account": "SAFE-BUYER-US-3",
        "delivering_agent": {"bic": "CHASUS33"},
        "place_of_settlement": "DTCYUS33"
    }));
    let mut net = Net::new(Side::Seller);
    let out = net.gw.input(Input::Submit {
        instruction: seller_free,
        relay: node(RELAY),
    });
    net.send_to_relay(&out);
    net.deliver_all();
    net.gw.now += 10;
    net.other_sends_to_relay(Body::SettlementInstruction(buyer_free));
    let proposal = net.take_one(|b| matches!(b, Body::SettlementProposal(_)));
    assert!(proposal_of(&proposal).settlement_amount.is_none());
    let lock = net.take_one(|b| matches!(b, Body::LockRequest(_)));
    net.deliver_all();
    net.gw.deliver(proposal);
    let out = net.gw.deliver(lock);
    assert!(error_codes(&out).is_empty(), "{out:#?}");
    assert_eq!(ledger_orders(&out).len(), 1, "{out:#?}");
}

// ----- ISM-1 §12.7 rule 2: answering the first hand-over -----

#[test]
fn the_first_hand_over_after_our_claim_is_answered_with_our_claim_receipt() {
    for side in Side::BOTH {
        let mut reached = locked(side, true);
        let claim = reached.net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
        let LockedLeg {
            mut net,
            id,
            secret,
            ..
        } = reached;
        net.gw.now += 10;
        let out = net.gw.deliver(claim);
        let claimed = net.gw.run_ledger(&mut net.ledger, &out);
        let ours = claim_receipts_to(&claimed, RELAY);
        assert_eq!(ours.len(), 1, "{side:?}: {claimed:#?}");
        assert_eq!(ours[0].leg, side.leg());
        let hand_over = net.other_claim_receipt(&secret.unwrap());
        let message = net
            .gw
            .message(side.other_gateway(), Body::ClaimReceipt(hand_over));
        let answer = net.gw.deliver(message);
        assert_eq!(
            claim_receipts_to(&answer, side.other_gateway()),
            ours,
            "{side:?}: our receipt answers the first hand-over: {answer:#?}"
        );
        assert_eq!(
            net.gw.gateway.settlement(&id).unwrap().peer_claimed,
            vec![side.other_leg()]
        );
    }
}

// ----- ISM-1 §12.6 rule 7: the watcher's refund and the ledger's answers -----

/// The leg `REFUND_INTENDED` at its watcher time, the relay's ClaimRequest
/// for it still in the inbox; returns the refund order's outputs.
fn refund_ordered(side: Side) -> (LockedLeg, Vec<Output>) {
    let mut reached = locked(side, true);
    let watcher = reached.lock_order.expiry_ms + K;
    let out = reached.net.gw.advance_to(watcher);
    let orders = ledger_orders(&out);
    assert!(
        matches!(&orders[..], [(_, _, LedgerCommand::Refund(_))]),
        "{out:#?}"
    );
    (reached, out)
}

fn refund_key_of(outputs: &[Output]) -> String {
    match &ledger_orders(outputs)[..] {
        [(_, _, LedgerCommand::Refund(order))] => order.key.as_str().to_string(),
        other => panic!("one refund order, not {other:#?}"),
    }
}

#[test]
fn a_refund_refused_as_not_expired_is_retried_after_r_under_keys_dash_2_then_dash_3() {
    let (reached, out) = refund_ordered(Side::Seller);
    let LockedLeg { mut net, id, .. } = reached;
    assert_eq!(
        refund_key_of(&out),
        format!("{id}/{}/refund", Leg::Securities)
    );
    let not_expired = || {
        Err(LedgerFailure::refused(
            LedgerReason::LockNotExpired,
            "early",
        ))
    };
    let answered = net.gw.answer(&out, not_expired());
    assert!(sends(&answered).is_empty(), "{answered:#?}");
    assert_eq!(
        net.gw.stored_phase(&id, Leg::Securities),
        Some(LegPhase::Locked)
    );
    let now = net.gw.now;
    let again = net.gw.advance_to(now + R);
    assert_eq!(
        refund_key_of(&again),
        format!("{id}/{}/refund-2", Leg::Securities)
    );
    net.gw.answer(&again, not_expired());
    let now = net.gw.now;
    let third = net.gw.advance_to(now + R);
    assert_eq!(
        refund_key_of(&third),
        format!("{id}/{}/refund-3", Leg::Securities)
    );
}

#[test]
fn a_refund_answer_that_is_not_final_changes_no_record_and_is_repeated_with_its_key() {
    let (reached, out) = refund_ordered(Side::Seller);
    let LockedLeg { mut net, id, .. } = reached;
    let key = refund_key_of(&out);
    let answered = net.gw.answer(&out, outcome_unknown());
    assert!(
        writes(&answered).is_empty(),
        "nothing to record: {answered:#?}"
    );
    assert!(sends(&answered).is_empty(), "{answered:#?}");
    assert_eq!(
        net.gw.stored_phase(&id, Leg::Securities),
        Some(LegPhase::RefundIntended)
    );
    let now = net.gw.now;
    let again = net.gw.advance_to(now + R);
    assert_eq!(refund_key_of(&again), key, "the same key (A1): {again:#?}");
}

#[test]
fn a_refund_refused_as_settled_with_p_known_asks_the_claim_again() {
    let (mut reached, out) = refund_ordered(Side::Seller);
    // p arrives while the refund is out: the leg is not LOCKED, so no claim yet.
    let claim = reached.net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
    let LockedLeg {
        mut net,
        id,
        secret,
        ..
    } = reached;
    let refunded_lock = match &ledger_orders(&out)[..] {
        [(_, _, LedgerCommand::Refund(order))] => order.lock_id,
        other => panic!("{other:#?}"),
    };
    let learnt = net.gw.deliver(claim);
    assert!(ledger_orders(&learnt).is_empty(), "{learnt:#?}");
    // The ledger says the lock is settled: claimed after all.
    let answered = net.gw.answer(
        &out,
        Err(LedgerFailure::refused(LedgerReason::LockSettled, "settled")),
    );
    match &ledger_orders(&answered)[..] {
        [(_, Leg::Securities, LedgerCommand::Claim(order))] => {
            assert_eq!(
                order.key.as_str(),
                format!("{id}/{}/claim", Leg::Securities)
            );
            assert_eq!(Some(&order.preimage), secret.as_ref());
            assert_eq!(order.lock_id, refunded_lock);
        }
        other => panic!("the claim again, not {other:#?}"),
    }
    assert_eq!(
        net.gw.stored_phase(&id, Leg::Securities),
        Some(LegPhase::ClaimIntended)
    );
}

#[test]
fn a_stale_final_answer_for_a_locked_leg_changes_nothing() {
    let LockedLeg {
        mut net,
        id,
        outputs,
        ..
    } = locked(Side::Seller, false);
    let before = net.gw.gateway.settlement(&id).cloned();
    let stale = net.gw.input(Input::Ledger {
        settlement_id: id.clone(),
        leg: Leg::Securities,
        result: Err(LedgerFailure::refused(LedgerReason::ExpiryInPast, "late")),
    });
    assert!(stale.is_empty(), "{stale:#?}");
    assert_eq!(net.gw.gateway.settlement(&id).cloned(), before);
    assert!(!outputs.is_empty());
}

// ----- the settlement timer (ISM-1 §12.3 rule 4, §12.6 rule 7, §12.8, §12.10) -----

#[test]
fn the_hand_over_still_goes_one_ms_before_the_other_legs_expiry_plus_k() {
    for side in Side::BOTH {
        let mut reached = locked(side, true);
        let claim = reached.net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
        let LockedLeg { mut net, id, .. } = reached;
        let out = net.gw.deliver(claim);
        net.gw.run_ledger(&mut net.ledger, &out);
        let settlement = net.gw.stored_settlement(&id).unwrap();
        let other_expiry = match side.other_leg() {
            Leg::Securities => &settlement.proposal.securities_leg.expires_at,
            Leg::Cash => &settlement.proposal.cash_leg.as_ref().unwrap().expires_at,
        };
        let other_expiry = u64::try_from(other_expiry.unix_millis()).unwrap();
        net.gw.now = other_expiry + K - 1;
        let out = net.gw.fire(GatewayTimer::Settlement(id));
        assert_eq!(
            claim_receipts_to(&out, side.other_gateway()).len(),
            1,
            "{side:?}: still claimable until expiry + K (§12.7 rule 1): {out:#?}"
        );
    }
}

#[test]
fn with_its_claim_in_flight_at_the_watcher_time_the_timer_is_set_r_later_not_at_once() {
    let mut reached = locked(Side::Buyer, true);
    let claim = reached.net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
    let LockedLeg {
        mut net,
        id,
        lock_order,
        ..
    } = reached;
    let out = net.gw.deliver(claim);
    assert_eq!(ledger_orders(&out).len(), 1, "{out:#?}");
    // The claim is unanswered at the watcher time.
    net.gw.now = lock_order.expiry_ms + K;
    let fired = net.gw.fire(GatewayTimer::Settlement(id.clone()));
    assert!(ledger_orders(&fired).is_empty(), "{fired:#?}");
    assert_eq!(
        timers_set(&fired),
        vec![(GatewayTimer::Settlement(id), net.gw.now + R)],
        "{fired:#?}"
    );
}

#[test]
fn a_ledger_order_is_not_repeated_while_it_is_unanswered() {
    // LOCK_INTENDED, after a restart: the lock once, then nothing until answered.
    let LockIntended { mut net, .. } = lock_intended(Side::Seller);
    net.gw.now += 10;
    let out = net.gw.restart();
    assert_eq!(ledger_orders(&out).len(), 1, "{out:#?}");
    let later = net.gw.advance_by(5 * R);
    assert!(ledger_orders(&later).is_empty(), "lock: {later:#?}");
    // CLAIM_INTENDED: the claim once.
    let mut reached = locked(Side::Buyer, true);
    let claim = reached.net.take_one(|b| matches!(b, Body::ClaimRequest(_)));
    let mut net = reached.net;
    let out = net.gw.deliver(claim);
    assert_eq!(ledger_orders(&out).len(), 1, "{out:#?}");
    let later = net.gw.advance_by(5 * R);
    assert!(ledger_orders(&later).is_empty(), "claim: {later:#?}");
    // REFUND_INTENDED: the refund once.
    let (reached, _) = refund_ordered(Side::Seller);
    let mut net = reached.net;
    let later = net.gw.advance_by(5 * R);
    assert!(ledger_orders(&later).is_empty(), "refund: {later:#?}");
}

#[test]
fn the_relays_final_word_before_expiry_does_not_stop_the_watcher() {
    let LockedLeg {
        mut net,
        id,
        lock_order,
        ..
    } = locked(Side::Seller, false);
    // The other gateway never locks: the relay aborts at its lock deadline.
    net.advance_relay_to(T0 + timing().lock_window_ms + 1_000);
    let cancelled = net.take_one(|b| is_status(b, InstructionState::Cancelled));
    net.gw.deliver(cancelled);
    assert!(net.gw.gateway.settlement(&id).unwrap().final_word);
    assert!(net.gw.now < lock_order.expiry_ms + K);
    let out = net.gw.advance_to(lock_order.expiry_ms + K);
    assert!(
        matches!(&ledger_orders(&out)[..], [(_, _, LedgerCommand::Refund(_))]),
        "the lock is refunded at its watcher time (§12.6 rule 7): {out:#?}"
    );
}

#[test]
fn a_refunded_leg_sends_its_receipt_to_the_relay_only_and_its_timer_stops_at_the_final_word() {
    // The buyer's cash leg expires first: the securities leg is still
    // claimable when it is refunded, and still no RefundReceipt goes to its gateway.
    for side in Side::BOTH {
        let LockedLeg {
            mut net,
            id,
            lock_order,
            ..
        } = locked(side, false);
        net.advance_relay_to(lock_order.expiry_ms + K);
        let out = net.gw.advance_to(lock_order.expiry_ms + K);
        let refunded = net.gw.run_ledger(&mut net.ledger, &out);
        let later = net.gw.advance_by(3 * R);
        for outputs in [&refunded, &later] {
            assert!(
                sends(outputs).iter().all(|o| o.to == node(RELAY)),
                "{side:?}: a refund is reported to the relay alone (§12.8): {outputs:#?}"
            );
        }
        assert!(sends_to(&later, RELAY)
            .iter()
            .any(|o| matches!(o.body, Body::RefundReceipt(_))));
        let cancelled = net.take_one(|b| is_status(b, InstructionState::Cancelled));
        net.gw.deliver(cancelled);
        net.gw.advance_by(3 * R);
        assert!(
            !net.gw.timers.contains_key(&GatewayTimer::Settlement(id)),
            "{side:?}: every leg final and the final word: no timer (§12.10 item 1)"
        );
    }
}
