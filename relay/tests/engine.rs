//! The relay's settlement: write-ahead (ISM-1 §12.9), the happy paths (§12.5
//! rules 2, 5–7), refusals (§12.5 rules 2, 7, §12.8), and deadlines and aborts
//! (§12.5 rules 3–6).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;

use isthmus_relay::{Input, Output, Phase, Record, RecordKey, Relay, RelayTimer, Write};
use isthmus_spec::body::{
    Body, Direction, InstructionState, Leg, LockReceipt, Payment, SettlementProposal,
};
use isthmus_spec::ids::{Preimage, Reference};
use isthmus_spec::protocol::{Inbound, Outbound, SettlementReason};
use isthmus_spec::time::Timestamp;
use serde_json::json;
use support::*;

// ----- write-ahead (§12.9) -----

/// Drains `relay` without acknowledging anything.
fn poll_all(relay: &mut Relay) -> Vec<Output> {
    std::iter::from_fn(|| relay.poll()).collect()
}

fn persisted(outputs: &[Output]) -> Vec<Write> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist(w) => Some(w.clone()),
            _ => None,
        })
        .collect()
}

fn sends(outputs: &[Output]) -> Vec<Outbound> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn inbound(sender: &str, n: u64, now: u64, body: Body) -> Inbound {
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&n.to_be_bytes());
    Inbound {
        sender: node(sender),
        id: isthmus_spec::ids::MessageId::new_v7(now, random),
        body,
    }
}

#[test]
fn no_message_or_timer_comes_out_of_any_step_of_a_settlement_before_its_write_is_acknowledged() {
    let mut relay = Relay::new(config());
    let mut entropy = CountingEntropy::default();
    let mut now = T0;
    let mut store: BTreeMap<RecordKey, Record> = BTreeMap::new();
    let mut released: Vec<Outbound> = Vec::new();
    let mut n = 0;

    // Each step: the sender and body, built from what the relay released so far.
    type Next = fn(&[Outbound], &BTreeMap<RecordKey, Record>) -> (&'static str, Body);
    let steps: [(&str, Next); 6] = [
        ("seller's instruction", |_, _| (GW_XNYS, instruct(seller()))),
        ("buyer's instruction, the match", |_, _| {
            (GW_XASX, instruct(buyer()))
        }),
        ("cash LockReceipt", |sent, _| {
            let (_, _, request) = lock_request(sent, Leg::Cash);
            (
                GW_XASX,
                Body::LockReceipt(lock_receipt(&request, "LOCK-C", 1)),
            )
        }),
        ("securities LockReceipt, the reveal", |sent, _| {
            let (_, _, request) = lock_request(sent, Leg::Securities);
            (
                GW_XNYS,
                Body::LockReceipt(lock_receipt(&request, "LOCK-S", 2)),
            )
        }),
        ("cash ClaimReceipt", |sent, _| {
            let (_, _, request) = lock_request(sent, Leg::Cash);
            let (_, claim) = claim_requests(sent)[0].clone();
            let lock = lock_receipt(&request, "LOCK-C", 1);
            (
                GW_XASX,
                Body::ClaimReceipt(claim_receipt(&lock, &claim.preimage, 3)),
            )
        }),
        ("securities ClaimReceipt, the settlement", |sent, _| {
            let (_, _, request) = lock_request(sent, Leg::Securities);
            let (_, claim) = claim_requests(sent)[0].clone();
            let lock = lock_receipt(&request, "LOCK-S", 2);
            (
                GW_XNYS,
                Body::ClaimReceipt(claim_receipt(&lock, &claim.preimage, 4)),
            )
        }),
    ];

    for (name, next) in steps {
        let (sender, body) = next(&released, &store);
        n += 1;
        now += 100;
        let message = inbound(sender, n, now, body);
        let message_id = message.id.clone();
        relay.handle(now, Input::Message(message), &mut entropy);
        let held = poll_all(&mut relay);
        let writes = persisted(&held);
        assert_eq!(writes.len(), 1, "{name}: one write: {held:#?}");
        assert_eq!(
            held.len(),
            1,
            "{name}: nothing but the write before it is durable: {held:#?}"
        );
        assert!(relay.poll().is_none(), "{name}: still held");
        let write = writes[0].clone();
        assert_eq!(
            write.cause.as_ref().map(|(sender, _)| sender.clone()),
            Some(node(sender)),
            "{name}: the write records the message that caused it"
        );
        assert_eq!(write.cause.map(|(_, id)| id), Some(message_id), "{name}");
        if name.contains("the match") {
            let settlement = write.records.iter().find_map(|r| match r {
                Record::Settlement(s) => Some(s.clone()),
                Record::Instruction(_) => None,
            });
            let settlement = settlement.expect("the match's write holds the settlement");
            let secret = settlement.secret.clone().expect("with its secret");
            assert_eq!(secret.hashlock(), settlement.proposal.hashlock);
        }
        // A write acknowledged with an older id releases nothing.
        relay.handle(now, Input::Persisted(write.id - 1), &mut entropy);
        assert!(relay.poll().is_none(), "{name}: an older write's ack");
        for record in write.records {
            store.insert(record.key(), record);
        }
        relay.handle(now, Input::Persisted(write.id), &mut entropy);
        let out = poll_all(&mut relay);
        assert!(
            persisted(&out).is_empty(),
            "{name}: no write after the ack: {out:#?}"
        );
        for message in sends(&out) {
            if let Some(violation) = check_against_store(&store, &message) {
                panic!("{name}: {violation}");
            }
            released.push(message);
        }
        assert!(
            !sends(&out).is_empty() || name.contains("cash LockReceipt"),
            "{name}: released its messages: {out:#?}"
        );
    }
    assert_eq!(confirmations(&released).len(), 2);
}

#[test]
fn an_acknowledgement_releases_only_the_messages_of_the_writes_it_covers() {
    let mut relay = Relay::new(config());
    let mut entropy = CountingEntropy::default();
    let now = T0;
    relay.handle(
        now,
        Input::Message(inbound(GW_XNYS, 1, now, instruct(seller()))),
        &mut entropy,
    );
    relay.handle(
        now,
        Input::Message(inbound(GW_XASX, 2, now, instruct(buyer()))),
        &mut entropy,
    );
    relay.handle(
        now,
        Input::Message(inbound(
            GW_XNYS,
            3,
            now,
            instruct(with_id(seller(), "SEME-XNYS-2")),
        )),
        &mut entropy,
    );
    let held = poll_all(&mut relay);
    let writes = persisted(&held);
    assert_eq!(writes.len(), 3);
    assert_eq!(held.len(), 3, "only writes: {held:#?}");

    relay.handle(now, Input::Persisted(writes[1].id), &mut entropy);
    let out = poll_all(&mut relay);
    let sent = sends(&out);
    assert!(
        !proposals(&sent).is_empty(),
        "the match's messages: {out:#?}"
    );
    assert!(
        statuses(&sent)
            .iter()
            .all(|(_, s)| s.instruction_id.as_str() != "SEME-XNYS-2"),
        "not the third instruction's status, whose write is not durable: {sent:#?}"
    );
    relay.handle(now, Input::Persisted(writes[2].id), &mut entropy);
    let sent = sends(&poll_all(&mut relay));
    assert_eq!(sent.len(), 1);
    assert_eq!(statuses(&sent)[0].1.instruction_id.as_str(), "SEME-XNYS-2");
}

#[test]
fn a_refusal_waits_behind_a_write_not_yet_durable() {
    let mut relay = Relay::new(config());
    let mut entropy = CountingEntropy::default();
    relay.handle(
        T0,
        Input::Message(inbound(GW_XNYS, 1, T0, instruct(seller()))),
        &mut entropy,
    );
    let mut other = seller();
    other["quantity"] = json!("5");
    relay.handle(
        T0,
        Input::Message(inbound(GW_XNYS, 2, T0, instruct(other))),
        &mut entropy,
    );
    let held = poll_all(&mut relay);
    assert_eq!(held.len(), 1, "the first write, nothing else: {held:#?}");
}

// ----- the happy paths -----

#[test]
fn against_payment_the_cash_leg_is_claimed_first_and_both_claims_settle_with_a_confirmation_each() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let t = timing();

    rig.now += 1_000;
    let cash_lock = lock_receipt(&m.cash.2, "LOCK-C-1", 11);
    let (_, sent) = rig.send(GW_XASX, Body::LockReceipt(cash_lock.clone()));
    assert!(sent.is_empty(), "one leg locked: nothing to say: {sent:#?}");
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Locking);
    assert_eq!(
        rig.stored_settlement(&m.id).leg(Leg::Cash).unwrap().locked,
        Some(cash_lock.clone())
    );

    // Repeating, only the unlocked leg's LockRequest goes again (§12.8).
    let sent = rig.advance_by(t.retransmit_ms);
    assert!(!proposals(&sent).is_empty(), "{sent:#?}");
    let again = lock_requests(&sent);
    assert!(!again.is_empty());
    assert!(again.iter().all(|(to, _, r)| r.leg == Leg::Securities
        && *to == node(GW_XNYS)
        && *r == m.securities.2));
    assert!(
        claim_requests(&rig.sent.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>()).is_empty()
    );

    rig.now += 1_000;
    let securities_lock = lock_receipt(&m.securities.2, "LOCK-S-1", 21);
    let (_, sent) = rig.send(GW_XNYS, Body::LockReceipt(securities_lock.clone()));
    let secret = rig.secret(&m.id);
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Revealing);
    let claims = claim_requests(&sent);
    assert_eq!(claims.len(), 1, "{sent:#?}");
    assert_eq!(sent.len(), 1, "only the ClaimRequest: {sent:#?}");
    assert_eq!(claims[0].0, node(GW_XASX), "to the cash gateway only");
    assert_eq!(claims[0].1.settlement_id, m.id);
    assert_eq!(claims[0].1.hashlock, m.proposal.hashlock);
    assert_eq!(claims[0].1.preimage, secret);

    // Repeating, still only the cash leg's: the securities request waits for the cash claim.
    let sent = rig.advance_by(3 * t.retransmit_ms);
    let claims = claim_requests(&sent);
    assert!(claims.len() >= 3, "{sent:#?}");
    assert!(claims.iter().all(|(to, _)| *to == node(GW_XASX)));
    assert!(lock_requests(&sent).is_empty() && proposals(&sent).is_empty());

    rig.now += 500;
    let cash_claim = claim_receipt(&cash_lock, &secret, 12);
    let (_, sent) = rig.send(GW_XASX, Body::ClaimReceipt(cash_claim.clone()));
    let claims = claim_requests(&sent);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(claims[0].0, node(GW_XNYS), "now the securities gateway");
    assert_eq!(claims[0].1.preimage, secret);
    assert_eq!(
        rig.stored_settlement(&m.id).leg(Leg::Cash).unwrap().claimed,
        Some(cash_claim.clone())
    );
    let sent = rig.advance_by(t.retransmit_ms);
    assert!(claim_requests(&sent)
        .iter()
        .all(|(to, _)| *to == node(GW_XNYS)));

    rig.now += 500;
    let settled_at = rig.now;
    let securities_claim = claim_receipt(&securities_lock, &secret, 22);
    let (_, sent) = rig.send(GW_XNYS, Body::ClaimReceipt(securities_claim.clone()));
    let stored = rig.stored_settlement(&m.id);
    assert_eq!(stored.phase, Phase::Settled);
    assert_eq!(stored.settled_at_ms, Some(settled_at));
    let mut confirmed = confirmations(&sent);
    confirmed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(confirmed.len(), 2, "{sent:#?}");
    assert_eq!(sent.len(), 2, "{sent:#?}");
    for ((to, c), (gateway, instruction_id, direction)) in confirmed.iter().zip([
        (GW_XASX, "SEME-XASX-1", Direction::Receive),
        (GW_XNYS, "SEME-XNYS-1", Direction::Deliver),
    ]) {
        assert_eq!(to, &node(gateway));
        assert_eq!(c.instruction_id.as_str(), instruction_id);
        assert_eq!(c.direction, direction);
        assert_eq!(c.settlement_id, m.id);
        assert_eq!(c.payment, Payment::AgainstPayment);
        assert_eq!(c.isin, m.proposal.isin);
        assert_eq!(c.quantity, m.proposal.quantity);
        assert_eq!(c.settlement_amount, m.proposal.settlement_amount);
        assert_eq!(c.settlement_date, m.proposal.settlement_date);
        assert_eq!(c.securities_journal, securities_claim.journal);
        assert_eq!(c.cash_journal, Some(cash_claim.journal.clone()));
        assert_eq!(
            c.settled_at,
            Timestamp::from_unix_millis(settled_at).unwrap()
        );
    }
    assert_eq!(rig.relay.stats().settled, 1);

    // Settled: the timers say nothing more.
    let sent = rig.advance_by(10 * t.retransmit_ms);
    assert!(sent.is_empty(), "{sent:#?}");
    // A repeated ClaimReceipt gets the confirmation again, to its sender only (§12.5 rule 9).
    let writes = rig.writes.len();
    let (_, sent) = rig.send(GW_XNYS, Body::ClaimReceipt(securities_claim));
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(confirmations(&sent)[0].0, node(GW_XNYS));
    assert_eq!(rig.writes.len(), writes);
    rig.assert_no_violations();
}

fn fop_seller() -> serde_json::Value {
    free_of_payment(seller())
}

fn fop_buyer() -> serde_json::Value {
    free_of_payment(buyer())
}

/// A free-of-payment pair matched: its proposal and its one LockRequest.
fn match_fop(rig: &mut Rig) -> (SettlementProposal, isthmus_spec::body::LockRequest) {
    rig.send(GW_XNYS, instruct(fop_seller()));
    let (_, sent) = rig.send(GW_XASX, instruct(fop_buyer()));
    let found = proposals(&sent);
    assert_eq!(found.len(), 2, "{sent:#?}");
    let requests = lock_requests(&sent);
    assert_eq!(requests.len(), 1, "one leg: {sent:#?}");
    let (to, _, request) = requests[0].clone();
    assert_eq!(to, node(GW_XNYS));
    assert_eq!(request.leg, Leg::Securities);
    (found[0].1.clone(), request)
}

#[test]
fn free_of_payment_one_securities_leg_is_locked_claimed_and_confirmed_without_cash() {
    let mut rig = Rig::new();
    let matched_at = rig.now;
    let (proposal, request) = match_fop(&mut rig);
    assert_eq!(proposal.cash_leg, None);
    assert_eq!(proposal.settlement_amount, None);
    assert_eq!(request.cash, None);
    assert_eq!(
        request.expires_at.unix_millis(),
        i128::from(matched_at + timing().securities_expiry_ms)
    );
    let id = proposal.settlement_id.clone();
    assert_eq!(rig.stored_settlement(&id).legs.len(), 1);

    rig.now += 1_000;
    let lock = lock_receipt(&request, "LOCK-S-1", 5);
    let (_, sent) = rig.send(GW_XNYS, Body::LockReceipt(lock.clone()));
    let claims = claim_requests(&sent);
    assert_eq!(claims.len(), 1, "{sent:#?}");
    assert_eq!(claims[0].0, node(GW_XNYS));
    let secret = rig.secret(&id);
    assert_eq!(claims[0].1.preimage, secret);

    rig.now += 1_000;
    let claim = claim_receipt(&lock, &secret, 6);
    let (_, sent) = rig.send(GW_XNYS, Body::ClaimReceipt(claim.clone()));
    assert_eq!(rig.stored_settlement(&id).phase, Phase::Settled);
    let confirmed = confirmations(&sent);
    assert_eq!(confirmed.len(), 2, "{sent:#?}");
    for (_, c) in &confirmed {
        assert_eq!(c.payment, Payment::FreeOfPayment);
        assert_eq!(c.cash_journal, None);
        assert_eq!(c.settlement_amount, None);
        assert_eq!(c.securities_journal, claim.journal);
    }
    rig.assert_no_violations();
}

#[test]
fn a_securities_claim_receipt_from_the_hand_over_arriving_first_stops_the_relay_sending_its_request(
) {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let cash_lock = lock_receipt(&m.cash.2, "LOCK-C-1", 11);
    let securities_lock = lock_receipt(&m.securities.2, "LOCK-S-1", 21);
    rig.send(GW_XASX, Body::LockReceipt(cash_lock.clone()));
    rig.send(GW_XNYS, Body::LockReceipt(securities_lock.clone()));
    let secret = rig.secret(&m.id);
    // The securities gateway learned p from the cash gateway (§12.7) and claimed.
    let (_, sent) = rig.send(
        GW_XNYS,
        Body::ClaimReceipt(claim_receipt(&securities_lock, &secret, 22)),
    );
    assert!(
        claim_requests(&sent)
            .iter()
            .all(|(to, _)| *to == node(GW_XASX)),
        "{sent:#?}"
    );
    let (_, sent) = rig.send(
        GW_XASX,
        Body::ClaimReceipt(claim_receipt(&cash_lock, &secret, 12)),
    );
    assert!(claim_requests(&sent).is_empty(), "{sent:#?}");
    assert_eq!(confirmations(&sent).len(), 2);
    let all: Vec<Outbound> = rig.sent.iter().map(|(_, o)| o.clone()).collect();
    assert!(claim_requests(&all)
        .iter()
        .all(|(to, _)| *to == node(GW_XASX)));
    rig.assert_no_violations();
}

// ----- refusals that change nothing -----

/// Sends `body` from `sender`; the relay answers with one Error of `code`
/// and changes nothing it holds or persisted.
fn assert_refused(rig: &mut Rig, id: &Reference, sender: &str, body: Body, code: SettlementReason) {
    let store = rig.store.clone();
    let writes = rig.writes.len();
    let record = rig.relay.settlement(id).cloned();
    let (message, sent) = rig.send(sender, body);
    assert_eq!(the_error(&sent, sender, &message), code.as_str());
    assert_eq!(rig.writes.len(), writes, "{code}: nothing persisted");
    assert_eq!(rig.store, store, "{code}");
    assert_eq!(rig.relay.settlement(id).cloned(), record, "{code}");
}

#[test]
fn a_lock_receipt_with_another_hashlock_is_refused_with_hashlock_mismatch() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let mut receipt = lock_receipt(&m.cash.2, "LOCK-C-1", 1);
    receipt.hashlock = Preimage::from_bytes([7; 32]).hashlock();
    assert_refused(
        &mut rig,
        &m.id,
        GW_XASX,
        Body::LockReceipt(receipt),
        SettlementReason::HashlockMismatch,
    );
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Proposed);
}

#[test]
fn a_lock_receipt_with_another_expiry_is_refused_with_expiry_mismatch() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let mut receipt = lock_receipt(&m.securities.2, "LOCK-S-1", 1);
    let later = receipt.expires_at.unix_millis() + 1;
    receipt.expires_at = Timestamp::from_unix_millis(u64::try_from(later).unwrap()).unwrap();
    assert_refused(
        &mut rig,
        &m.id,
        GW_XNYS,
        Body::LockReceipt(receipt),
        SettlementReason::ExpiryMismatch,
    );
}

#[test]
fn a_lock_receipt_for_an_unknown_settlement_is_refused_with_settlement_unknown() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let mut receipt = lock_receipt(&m.cash.2, "LOCK-C-1", 1);
    receipt.settlement_id = reference("STL-99");
    assert_refused(
        &mut rig,
        &m.id,
        GW_XASX,
        Body::LockReceipt(receipt),
        SettlementReason::SettlementUnknown,
    );
}

#[test]
fn a_lock_receipt_from_a_gateway_not_of_its_leg_is_refused_with_sender_not_party() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let receipt = lock_receipt(&m.cash.2, "LOCK-C-1", 1);
    // The other leg's gateway, and a gateway of nothing in this settlement.
    for sender in [GW_XNYS, GW_XNAS] {
        assert_refused(
            &mut rig,
            &m.id,
            sender,
            Body::LockReceipt(receipt.clone()),
            SettlementReason::SenderNotParty,
        );
    }
}

#[test]
fn a_cash_lock_receipt_for_a_free_of_payment_settlement_is_refused_with_leg_unknown() {
    let mut rig = Rig::new();
    let (proposal, request) = match_fop(&mut rig);
    let mut receipt = lock_receipt(&request, "LOCK-C-1", 1);
    receipt.leg = Leg::Cash;
    assert_refused(
        &mut rig,
        &proposal.settlement_id,
        GW_XASX,
        Body::LockReceipt(receipt),
        SettlementReason::LegUnknown,
    );
}

#[test]
fn the_state_is_checked_before_the_leg_as_the_order_of_checks_says() {
    let mut rig = Rig::new();
    let (proposal, request) = match_fop(&mut rig);
    let id = proposal.settlement_id.clone();
    rig.send(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&request, "LOCK-S-1", 1)),
    );
    assert_eq!(rig.stored_settlement(&id).phase, Phase::Revealing);
    let mut receipt = lock_receipt(&request, "LOCK-C-1", 2);
    receipt.leg = Leg::Cash;
    assert_refused(
        &mut rig,
        &id,
        GW_XASX,
        Body::LockReceipt(receipt),
        SettlementReason::StateConflict,
    );
}

#[test]
fn a_claim_receipt_is_checked_for_state_before_leg() {
    let mut rig = Rig::new();
    let (proposal, request) = match_fop(&mut rig);
    let mut lock = lock_receipt(&request, "LOCK-C-1", 2);
    lock.leg = Leg::Cash;
    let claim = claim_receipt(&lock, &Preimage::from_bytes([3; 32]), 3);
    assert_refused(
        &mut rig,
        &proposal.settlement_id,
        GW_XASX,
        Body::ClaimReceipt(claim),
        SettlementReason::StateConflict,
    );
}

#[test]
fn a_claim_receipt_before_the_reveal_is_refused_with_state_conflict() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let cash_lock = lock_receipt(&m.cash.2, "LOCK-C-1", 1);
    let secret = rig.secret(&m.id);
    // PROPOSED.
    assert_refused(
        &mut rig,
        &m.id,
        GW_XASX,
        Body::ClaimReceipt(claim_receipt(&cash_lock, &secret, 2)),
        SettlementReason::StateConflict,
    );
    // LOCKING, the leg locked.
    rig.send(GW_XASX, Body::LockReceipt(cash_lock.clone()));
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Locking);
    assert_refused(
        &mut rig,
        &m.id,
        GW_XASX,
        Body::ClaimReceipt(claim_receipt(&cash_lock, &secret, 2)),
        SettlementReason::StateConflict,
    );
}

/// A settlement against payment in REVEALING, with both lock receipts.
fn revealing(rig: &mut Rig) -> (Matched, LockReceipt, LockReceipt, Preimage) {
    let m = rig.match_pair(seller(), buyer());
    let cash_lock = lock_receipt(&m.cash.2, "LOCK-C-1", 11);
    let securities_lock = lock_receipt(&m.securities.2, "LOCK-S-1", 21);
    rig.now += 100;
    rig.send(GW_XASX, Body::LockReceipt(cash_lock.clone()));
    rig.now += 100;
    rig.send(GW_XNYS, Body::LockReceipt(securities_lock.clone()));
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Revealing);
    let secret = rig.secret(&m.id);
    (m, cash_lock, securities_lock, secret)
}

#[test]
fn a_claim_receipt_naming_another_lock_or_hashlock_is_refused() {
    let mut rig = Rig::new();
    let (m, cash_lock, _, secret) = revealing(&mut rig);
    let mut receipt = claim_receipt(&cash_lock, &secret, 12);
    receipt.lock_id = reference("LOCK-OTHER");
    assert_refused(
        &mut rig,
        &m.id,
        GW_XASX,
        Body::ClaimReceipt(receipt),
        SettlementReason::LockIdMismatch,
    );
    let other = Preimage::from_bytes([9; 32]);
    let mut receipt = claim_receipt(&cash_lock, &other, 12);
    receipt.hashlock = other.hashlock();
    assert_refused(
        &mut rig,
        &m.id,
        GW_XASX,
        Body::ClaimReceipt(receipt),
        SettlementReason::HashlockMismatch,
    );
    // The cash claim from the securities gateway.
    assert_refused(
        &mut rig,
        &m.id,
        GW_XNYS,
        Body::ClaimReceipt(claim_receipt(&cash_lock, &secret, 12)),
        SettlementReason::SenderNotParty,
    );
    assert!(rig
        .stored_settlement(&m.id)
        .legs
        .iter()
        .all(|l| l.claimed.is_none()));
}

#[test]
fn a_duplicated_lock_receipt_message_is_handled_once() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let cash = rig.message(
        GW_XASX,
        Body::LockReceipt(lock_receipt(&m.cash.2, "LOCK-C-1", 1)),
    );
    rig.deliver(cash.clone());
    let writes = rig.writes.len();
    let record = rig.relay.settlement(&m.id).cloned();
    let sent = rig.deliver(cash);
    assert!(sent.is_empty(), "{sent:#?}");
    assert_eq!(rig.writes.len(), writes);
    assert_eq!(rig.relay.settlement(&m.id).cloned(), record);
    assert_eq!(
        record.unwrap().handled.len(),
        2,
        "the buyer's instruction and the receipt"
    );

    // The receipt that completes the locks, twice: one reveal.
    let securities = rig.message(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&m.securities.2, "LOCK-S-1", 2)),
    );
    let first = rig.deliver(securities.clone());
    assert_eq!(claim_requests(&first).len(), 1);
    let writes = rig.writes.len();
    let second = rig.deliver(securities);
    assert!(second.is_empty(), "{second:#?}");
    assert_eq!(rig.writes.len(), writes);

    // The same receipt in a new message changes nothing either.
    let (_, sent) = rig.send(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&m.securities.2, "LOCK-S-1", 2)),
    );
    assert!(sent.is_empty(), "{sent:#?}");
    assert_eq!(rig.writes.len(), writes);
    rig.assert_no_violations();
}

#[test]
fn a_relay_takes_no_message_kind_it_does_not_handle() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    assert_refused(
        &mut rig,
        &m.id,
        GW_XNYS,
        Body::SettlementProposal(m.proposal.clone()),
        SettlementReason::StateConflict,
    );
}

// ----- deadlines and aborts -----

fn all_sent(rig: &Rig, since: u64) -> Vec<Outbound> {
    rig.sent
        .iter()
        .filter(|(at, _)| *at >= since)
        .map(|(_, o)| o.clone())
        .collect()
}

/// The CANCELLED statuses in `sent`: to both instruction gateways, with `code`.
fn assert_cancelled_to_both(sent: &[Outbound], id: &Reference, code: &str) {
    let mut cancelled = statuses(sent);
    cancelled.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(cancelled.len(), 2, "{sent:#?}");
    for ((to, status), (gateway, instruction_id)) in cancelled
        .iter()
        .zip([(GW_XASX, "SEME-XASX-1"), (GW_XNYS, "SEME-XNYS-1")])
    {
        assert_eq!(to, &node(gateway));
        assert_eq!(status.instruction_id.as_str(), instruction_id);
        assert_eq!(status.status, InstructionState::Cancelled);
        assert_eq!(status.settlement_id.as_ref(), Some(id));
        assert_eq!(reason_code(status), Some(code));
    }
}

fn assert_aborted(rig: &Rig, id: &Reference, code: &str) {
    let stored = rig.stored_settlement(id);
    assert_eq!(stored.phase, Phase::Aborted);
    assert_eq!(stored.secret, None, "p is erased");
    assert_eq!(stored.reason.as_ref().map(|r| r.code.as_str()), Some(code));
}

#[test]
fn at_the_lock_deadline_with_one_leg_locked_the_settlement_aborts_and_never_reveals() {
    let mut rig = Rig::new();
    let matched_at = rig.now;
    let m = rig.match_pair(seller(), buyer());
    let deadline = matched_at + timing().lock_window_ms;
    rig.now += 1_000;
    rig.send(
        GW_XASX,
        Body::LockReceipt(lock_receipt(&m.cash.2, "LOCK-C-1", 1)),
    );

    let sent = rig.advance_to(deadline - 1);
    assert!(statuses(&sent).is_empty(), "not before the deadline");
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Locking);
    let sent = rig.advance_to(deadline);
    assert_aborted(&rig, &m.id, SettlementReason::LockDeadlinePassed.as_str());
    assert_cancelled_to_both(&sent, &m.id, SettlementReason::LockDeadlinePassed.as_str());
    assert!(rig.relay.settlement(&m.id).unwrap().secret.is_none());
    assert_eq!(rig.relay.stats().aborted, 1);

    // The late securities lock: the final word to its gateway, no reveal.
    rig.now += 10;
    let (_, sent) = rig.send(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&m.securities.2, "LOCK-S-1", 2)),
    );
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(statuses(&sent)[0].0, node(GW_XNYS));
    assert_eq!(statuses(&sent)[0].1.status, InstructionState::Cancelled);
    rig.advance_by(timing().securities_expiry_ms);
    let after = all_sent(&rig, deadline);
    assert!(claim_requests(&after).is_empty(), "{after:#?}");
    assert!(
        lock_requests(&after).is_empty(),
        "no LockRequest after the abort"
    );
    assert!(proposals(&after).is_empty());
    let ever = all_sent(&rig, 0);
    assert!(claim_requests(&ever).is_empty());
    rig.assert_no_violations();
}

#[test]
fn a_final_error_answering_a_lock_request_aborts_with_its_code() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    rig.now += 100;
    let (_, sent) = rig.send(GW_XASX, gateway_error("INSUFFICIENT_FUNDS", &m.cash.1));
    assert_aborted(&rig, &m.id, "INSUFFICIENT_FUNDS");
    assert_cancelled_to_both(&sent, &m.id, "INSUFFICIENT_FUNDS");
    assert!(
        errors(&sent).is_empty(),
        "no Error answers an Error: {sent:#?}"
    );
    let since = rig.now;
    rig.advance_by(timing().lock_window_ms);
    assert!(lock_requests(&all_sent(&rig, since)).is_empty());
    rig.assert_no_violations();
}

#[test]
fn a_final_error_answering_a_repeated_lock_request_aborts_too() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let sent = rig.advance_by(timing().retransmit_ms);
    let (_, repeat_id, _) = lock_request(&sent, Leg::Securities);
    assert_ne!(repeat_id, m.securities.1);
    rig.send(GW_XNYS, gateway_error("PROPOSAL_MISMATCH", &repeat_id));
    assert_aborted(&rig, &m.id, "PROPOSAL_MISMATCH");
}

#[test]
fn an_error_that_is_not_final_or_not_from_the_legs_gateway_changes_nothing_and_the_request_is_repeated(
) {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let writes = rig.writes.len();
    let record = rig.relay.settlement(&m.id).cloned();
    for (sender, code, related) in [
        (GW_XASX, "STORE_FAILED", m.cash.1.clone()),
        (GW_XASX, "JOURNAL_FULL", m.cash.1.clone()),
        // §12.6 rule 3: a gateway's SETTLEMENT_UNKNOWN is not final; the relay repeats both.
        (GW_XASX, "SETTLEMENT_UNKNOWN", m.cash.1.clone()),
        (GW_XASX, "DELIVERY_PENDING", m.cash.1.clone()),
        (GW_XNYS, "INSUFFICIENT_FUNDS", m.cash.1.clone()),
        (GW_XNAS, "INSUFFICIENT_FUNDS", m.cash.1.clone()),
        (GW_XASX, "INSUFFICIENT_FUNDS", m.securities.1.clone()),
    ] {
        let (_, sent) = rig.send(sender, gateway_error(code, &related));
        assert!(sent.is_empty(), "{sender} {code}: {sent:#?}");
        assert_eq!(rig.writes.len(), writes, "{sender} {code}");
        assert_eq!(rig.relay.settlement(&m.id).cloned(), record);
    }
    let sent = rig.advance_by(timing().retransmit_ms);
    let (to, _, request) = lock_request(&sent, Leg::Cash);
    assert_eq!(to, node(GW_XASX));
    assert_eq!(request, m.cash.2, "the same request again");
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Proposed);
}

#[test]
fn an_error_after_the_reveal_changes_nothing() {
    let mut rig = Rig::new();
    let (m, _, _, _) = revealing(&mut rig);
    let writes = rig.writes.len();
    let (_, sent) = rig.send(GW_XASX, gateway_error("INSUFFICIENT_FUNDS", &m.cash.1));
    assert!(sent.is_empty());
    assert_eq!(rig.writes.len(), writes);
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Revealing);
}

/// L = 10 s, M = 2 s, E1 = L + M exactly: a LockReceipt handled after D, before
/// the deadline timer fired, meets the reveal rule.
fn tight_rig() -> Rig {
    let mut t = timing();
    t.cash_expiry_ms = t.lock_window_ms + t.reveal_margin_ms;
    t.securities_expiry_ms = t.cash_expiry_ms + t.delta_ms();
    Rig::with_config(config_with(t))
}

#[test]
fn locks_completed_with_less_than_the_reveal_margin_left_abort_with_reveal_too_late() {
    let mut rig = tight_rig();
    let matched_at = rig.now;
    let m = rig.match_pair(seller(), buyer());
    let t = rig.config.timing;
    rig.now += 100;
    rig.send(
        GW_XASX,
        Body::LockReceipt(lock_receipt(&m.cash.2, "LOCK-C-1", 1)),
    );
    // T1 − now = M − 1: the timer has not fired yet.
    rig.now = matched_at + t.cash_expiry_ms - t.reveal_margin_ms + 1;
    let (_, sent) = rig.send(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&m.securities.2, "LOCK-S-1", 2)),
    );
    assert!(claim_requests(&sent).is_empty(), "{sent:#?}");
    assert_aborted(&rig, &m.id, SettlementReason::RevealTooLate.as_str());
    assert_cancelled_to_both(&sent, &m.id, SettlementReason::RevealTooLate.as_str());
    rig.advance_by(t.securities_expiry_ms);
    assert!(claim_requests(&all_sent(&rig, 0)).is_empty());
    rig.assert_no_violations();
}

#[test]
fn locks_completed_with_exactly_the_reveal_margin_left_reveal() {
    let mut rig = tight_rig();
    let matched_at = rig.now;
    let m = rig.match_pair(seller(), buyer());
    let t = rig.config.timing;
    rig.send(
        GW_XASX,
        Body::LockReceipt(lock_receipt(&m.cash.2, "LOCK-C-1", 1)),
    );
    rig.now = matched_at + t.cash_expiry_ms - t.reveal_margin_ms;
    let (_, sent) = rig.send(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&m.securities.2, "LOCK-S-1", 2)),
    );
    assert_eq!(claim_requests(&sent).len(), 1, "{sent:#?}");
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Revealing);
}

#[test]
fn a_free_of_payment_reveal_is_timed_against_the_securities_expiry() {
    let mut rig = tight_rig();
    let matched_at = rig.now;
    let (proposal, request) = match_fop(&mut rig);
    let t = rig.config.timing;
    // Past T1 − M, where against payment aborts, but T2 − now ≥ M: free of
    // payment the earliest expiry is T2.
    rig.now = matched_at + t.cash_expiry_ms - t.reveal_margin_ms + 1;
    assert!(matched_at + t.securities_expiry_ms - rig.now >= t.reveal_margin_ms);
    let (_, sent) = rig.send(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&request, "LOCK-S-1", 1)),
    );
    assert_eq!(claim_requests(&sent).len(), 1, "{sent:#?}");
    assert_eq!(
        rig.stored_settlement(&proposal.settlement_id).phase,
        Phase::Revealing
    );
}

#[test]
fn after_the_reveal_an_unclaimed_cash_leg_refunded_aborts_with_claim_window_missed() {
    let mut rig = Rig::new();
    let matched_at = rig.now;
    let (m, cash_lock, securities_lock, secret) = revealing(&mut rig);
    let t = timing();
    rig.advance_to(matched_at + t.cash_expiry_ms + t.max_clock_skew_ms);
    let (_, sent) = rig.send(GW_XASX, Body::RefundReceipt(refund_receipt(&cash_lock, 13)));
    assert_aborted(&rig, &m.id, SettlementReason::ClaimWindowMissed.as_str());
    assert_cancelled_to_both(&sent, &m.id, SettlementReason::ClaimWindowMissed.as_str());
    assert!(rig
        .stored_settlement(&m.id)
        .leg(Leg::Cash)
        .unwrap()
        .refunded
        .is_some());

    // Whatever comes later, the securities ClaimRequest never goes.
    rig.send(
        GW_XASX,
        Body::ClaimReceipt(claim_receipt(&cash_lock, &secret, 14)),
    );
    rig.advance_by(t.securities_expiry_ms);
    rig.send(
        GW_XNYS,
        Body::RefundReceipt(refund_receipt(&securities_lock, 23)),
    );
    let ever = all_sent(&rig, 0);
    assert!(
        claim_requests(&ever)
            .iter()
            .all(|(to, _)| *to == node(GW_XASX)),
        "{ever:#?}"
    );
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Aborted);
    rig.assert_no_violations();
}

#[test]
fn free_of_payment_the_securities_leg_refunded_unclaimed_after_the_reveal_aborts_with_claim_window_missed(
) {
    let mut rig = Rig::new();
    let (proposal, request) = match_fop(&mut rig);
    let id = proposal.settlement_id.clone();
    let lock = lock_receipt(&request, "LOCK-S-1", 1);
    rig.send(GW_XNYS, Body::LockReceipt(lock.clone()));
    assert_eq!(rig.stored_settlement(&id).phase, Phase::Revealing);
    rig.advance_by(timing().securities_expiry_ms + timing().max_clock_skew_ms);
    let (_, sent) = rig.send(GW_XNYS, Body::RefundReceipt(refund_receipt(&lock, 2)));
    assert_aborted(&rig, &id, SettlementReason::ClaimWindowMissed.as_str());
    assert_eq!(statuses(&sent).len(), 2, "{sent:#?}");
    rig.assert_no_violations();
}

#[test]
fn the_cash_claim_request_is_repeated_until_t1_plus_skew_and_then_no_more() {
    let mut rig = Rig::new();
    let matched_at = rig.now;
    revealing(&mut rig);
    let t = timing();
    let stop = matched_at + t.cash_expiry_ms + t.max_clock_skew_ms;
    let since = rig.now;
    rig.advance_to(stop + 10 * t.retransmit_ms);
    let repeats: Vec<u64> = rig
        .sent
        .iter()
        .filter(|(at, o)| *at >= since && matches!(o.body, Body::ClaimRequest(_)))
        .map(|(at, _)| *at)
        .collect();
    assert!(repeats.len() > 10, "{repeats:?}");
    assert!(repeats.iter().all(|at| *at < stop), "{repeats:?}");
    assert!(repeats.iter().any(|at| *at + t.retransmit_ms >= stop));
}

#[test]
fn a_refund_receipt_outside_revealing_is_persisted_with_its_leg_and_changes_no_outcome() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let cash_lock = lock_receipt(&m.cash.2, "LOCK-C-1", 1);
    rig.send(GW_XASX, Body::LockReceipt(cash_lock.clone()));
    let writes = rig.writes.len();
    let (_, sent) = rig.send(GW_XASX, Body::RefundReceipt(refund_receipt(&cash_lock, 2)));
    assert!(sent.is_empty(), "{sent:#?}");
    assert_eq!(rig.writes.len(), writes + 1);
    let stored = rig.stored_settlement(&m.id);
    assert_eq!(stored.phase, Phase::Locking);
    assert!(stored.leg(Leg::Cash).unwrap().refunded.is_some());
}

#[test]
fn a_repeated_instruction_after_its_settlement_aborted_is_answered_cancelled() {
    // §12.3 rule 1 / §12.8: the gateway's last word from the relay was
    // CANCELLED; a repeat of its instruction should not hear MATCHED again.
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    rig.send(GW_XASX, gateway_error("INSUFFICIENT_FUNDS", &m.cash.1));
    assert_aborted(&rig, &m.id, "INSUFFICIENT_FUNDS");
    let (_, sent) = rig.send(GW_XNYS, instruct(seller()));
    let answered = statuses(&sent);
    assert_eq!(answered.len(), 1, "{sent:#?}");
    assert_eq!(answered[0].1.settlement_id.as_ref(), Some(&m.id));
    assert_eq!(answered[0].1.status, InstructionState::Cancelled);
    assert_eq!(reason_code(&answered[0].1), Some("INSUFFICIENT_FUNDS"));
}

#[test]
fn a_timer_for_a_settlement_the_relay_does_not_know_does_nothing() {
    let mut rig = Rig::new();
    let sent = rig.fire(RelayTimer::Settlement(reference("STL-7")));
    assert!(sent.is_empty());
    assert!(rig.writes.is_empty());
}

// ----- more deadlines, repeats and refusals -----

#[test]
fn the_lock_deadline_aborts_at_d_itself_when_it_falls_between_two_repetitions() {
    // ISM-1 §12.5 rule 4: "at the lock deadline D", not at the next
    // retransmission after it. L = 10 250 ms is no multiple of R = 500 ms.
    let mut t = timing();
    t.lock_window_ms = 10_250;
    let mut rig = Rig::with_config(config_with(t));
    let matched_at = rig.now;
    let m = rig.match_pair(seller(), buyer());
    let deadline = matched_at + t.lock_window_ms;
    assert_ne!(t.lock_window_ms % t.retransmit_ms, 0);

    let sent = rig.advance_to(deadline - 1);
    assert!(statuses(&sent).is_empty(), "not before D: {sent:#?}");
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Proposed);
    let sent = rig.advance_to(deadline);
    assert_aborted(&rig, &m.id, SettlementReason::LockDeadlinePassed.as_str());
    assert_cancelled_to_both(&sent, &m.id, SettlementReason::LockDeadlinePassed.as_str());
    let cancelled_at: Vec<u64> = rig
        .sent
        .iter()
        .filter(|(_, o)| matches!(&o.body, Body::InstructionStatus(s) if s.status == InstructionState::Cancelled))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(cancelled_at, vec![deadline, deadline]);
    rig.assert_no_violations();
}

#[test]
fn the_cash_claim_request_still_goes_between_t1_and_t1_plus_skew() {
    // ISM-1 §12.5 rule 6, §12.8: the relay repeats the cash leg's
    // ClaimRequest until T1 + K by its clock; at T1 itself, and up to the
    // last millisecond before T1 + K, the cash ledger's clock may still be
    // before T1.
    let mut rig = Rig::new();
    let matched_at = rig.now;
    revealing(&mut rig);
    let t = timing();
    let t1 = matched_at + t.cash_expiry_ms;
    let timer = rig
        .timers
        .keys()
        .find(|timer| matches!(timer, RelayTimer::Settlement(_)))
        .cloned()
        .unwrap();
    for at in [t1, t1 + t.max_clock_skew_ms - 1] {
        rig.now = at;
        let sent = rig.fire(timer.clone());
        let claims = claim_requests(&sent);
        assert_eq!(claims.len(), 1, "at T1 + {}: {sent:#?}", at - t1);
        assert_eq!(claims[0].0, node(GW_XASX));
    }
    rig.now = t1 + t.max_clock_skew_ms;
    let sent = rig.fire(timer);
    assert!(claim_requests(&sent).is_empty(), "at T1 + K: {sent:#?}");
    rig.assert_no_violations();
}

#[test]
fn a_final_error_still_aborts_a_settlement_after_another_settlement_aborted_or_revealed() {
    // ISM-1 §12.5 rule 3: an Error answering one of a settlement's
    // LockRequests aborts it, whatever became of the relay's other settlements.
    for other_ends_by in ["abort", "reveal"] {
        let mut rig = Rig::new();
        let first = rig.match_pair(seller(), buyer());
        let second = rig.match_pair(
            with_id(seller(), "SEME-XNYS-2"),
            with_id(buyer(), "SEME-XASX-2"),
        );
        assert_ne!(first.id, second.id);
        if other_ends_by == "abort" {
            rig.send(GW_XASX, gateway_error("INSUFFICIENT_FUNDS", &first.cash.1));
            assert_aborted(&rig, &first.id, "INSUFFICIENT_FUNDS");
        } else {
            rig.send(
                GW_XASX,
                Body::LockReceipt(lock_receipt(&first.cash.2, "LOCK-C-1", 1)),
            );
            rig.send(
                GW_XNYS,
                Body::LockReceipt(lock_receipt(&first.securities.2, "LOCK-S-1", 2)),
            );
            assert_eq!(rig.stored_settlement(&first.id).phase, Phase::Revealing);
        }
        let (_, sent) = rig.send(
            GW_XNYS,
            gateway_error("ACCOUNT_FROZEN", &second.securities.1),
        );
        assert_aborted(&rig, &second.id, "ACCOUNT_FROZEN");
        let cancelled: Vec<_> = statuses(&sent)
            .into_iter()
            .filter(|(_, s)| s.settlement_id.as_ref() == Some(&second.id))
            .collect();
        assert_eq!(cancelled.len(), 2, "{other_ends_by}: {sent:#?}");
        rig.assert_no_violations();
    }
}

#[test]
fn a_receipt_for_a_leg_the_settlement_lacks_is_refused_as_not_party_unless_its_sender_is_a_party() {
    // ISM-1 §12.5 rule 2, the order of checks: the sender check comes before
    // the leg check. For a leg the settlement does not have, a sender that is
    // no gateway of the settlement (of a leg or of an instruction) is refused
    // SENDER_NOT_PARTY; a gateway of the settlement gets to the leg check.
    let cash_receipt = |request: &isthmus_spec::body::LockRequest| {
        let mut receipt = lock_receipt(request, "LOCK-C-1", 1);
        receipt.leg = Leg::Cash;
        Body::LockReceipt(receipt)
    };

    // The seller instructs through gw.xnas; the securities leg is gw.xnys's.
    let mut rig = Rig::new();
    rig.send(GW_XNAS, instruct(fop_seller()));
    let (_, sent) = rig.send(GW_XASX, instruct(fop_buyer()));
    let (_, _, request) = lock_request(&sent, Leg::Securities);
    let id = request.settlement_id.clone();
    for (sender, role) in [
        (GW_XNYS, "the leg's gateway, of no instruction"),
        (GW_XNAS, "the seller's gateway, of no leg"),
        (GW_XASX, "the buyer's gateway, of no leg"),
    ] {
        let (message, sent) = rig.send(sender, cash_receipt(&request));
        assert_eq!(
            the_error(&sent, sender, &message),
            SettlementReason::LegUnknown.as_str(),
            "{role}"
        );
    }
    assert_refused(
        &mut rig,
        &id,
        STRANGER,
        cash_receipt(&request),
        SettlementReason::SenderNotParty,
    );

    // The ordinary pair: gw.xnas is a gateway of nothing in it.
    let mut rig = Rig::new();
    let (proposal, request) = match_fop(&mut rig);
    for sender in [GW_XNAS, STRANGER] {
        assert_refused(
            &mut rig,
            &proposal.settlement_id,
            sender,
            cash_receipt(&request),
            SettlementReason::SenderNotParty,
        );
    }
    assert_eq!(
        rig.stored_settlement(&proposal.settlement_id).phase,
        Phase::Proposed
    );
}

#[test]
fn the_relays_stats_count_every_refusal_and_nothing_else_as_refused() {
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    assert_eq!(rig.relay.stats().refused, 0, "a match refuses nothing");
    let mut reused = seller();
    reused["quantity"] = json!("5");
    let mut unknown = lock_receipt(&m.cash.2, "LOCK-C-1", 1);
    unknown.settlement_id = reference("STL-99");
    let refusals = [
        (STRANGER, instruct(with_id(seller(), "SEME-X-1"))),
        (GW_XNYS, instruct(reused)),
        (GW_XASX, Body::LockReceipt(unknown)),
        (GW_XNYS, Body::SettlementProposal(m.proposal.clone())),
    ];
    let count = refusals.len();
    for (sender, body) in refusals {
        let (_, sent) = rig.send(sender, body);
        assert_eq!(errors(&sent).len(), 1, "{sent:#?}");
    }
    assert_eq!(rig.relay.stats().refused, u64::try_from(count).unwrap());
    // An Error the relay ignores, and a valid receipt, are no refusals.
    rig.send(GW_XNAS, gateway_error("INSUFFICIENT_FUNDS", &m.cash.1));
    rig.send(
        GW_XASX,
        Body::LockReceipt(lock_receipt(&m.cash.2, "LOCK-C-1", 1)),
    );
    assert_eq!(rig.relay.stats().refused, u64::try_from(count).unwrap());
    let errors_sent = rig
        .sent
        .iter()
        .filter(|(_, o)| matches!(o.body, Body::Error(_)))
        .count();
    assert_eq!(errors_sent, count);
    assert_eq!(rig.relay.stats().settled, 0);
    assert_eq!(rig.relay.stats().aborted, 0);
}

#[test]
fn a_state_conflict_names_the_settlements_state_as_section_12_2_writes_it() {
    // ISM-1 §12.2 item 2 names the states; a STATE_CONFLICT refusal (§12.5
    // rules 2 and 7) says which one the settlement is in.
    let names = [
        (Phase::Proposed, "PROPOSED"),
        (Phase::Locking, "LOCKING"),
        (Phase::Revealing, "REVEALING"),
        (Phase::Settled, "SETTLED"),
        (Phase::Aborted, "ABORTED"),
    ];
    for (phase, name) in names {
        assert_eq!(phase.name(), name);
    }

    let error_text = |rig: &mut Rig, sender: &str, body: Body| {
        let (message, sent) = rig.send(sender, body);
        assert_eq!(
            the_error(&sent, sender, &message),
            SettlementReason::StateConflict.as_str()
        );
        errors(&sent)[0].1.text.as_str().to_string()
    };
    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    let cash_lock = lock_receipt(&m.cash.2, "LOCK-C-1", 1);
    let secret = rig.secret(&m.id);
    let early_claim = Body::ClaimReceipt(claim_receipt(&cash_lock, &secret, 2));
    let text = error_text(&mut rig, GW_XASX, early_claim.clone());
    assert!(text.contains("PROPOSED"), "{text}");
    rig.send(GW_XASX, Body::LockReceipt(cash_lock));
    let text = error_text(&mut rig, GW_XASX, early_claim);
    assert!(text.contains("LOCKING"), "{text}");

    let mut rig = Rig::new();
    let (proposal, request) = match_fop(&mut rig);
    rig.send(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&request, "LOCK-S-1", 1)),
    );
    let mut cash = lock_receipt(&request, "LOCK-C-1", 2);
    cash.leg = Leg::Cash;
    let text = error_text(&mut rig, GW_XASX, Body::LockReceipt(cash));
    assert!(text.contains("REVEALING"), "{text}");
    assert!(text.contains(proposal.settlement_id.as_str()), "{text}");
}

#[test]
fn a_stalled_relay_takes_a_receipt_that_waited_past_the_deadline_and_the_margin_decides() {
    // ISM-1 §12.5 rule 2: receipts that waited for a relay stalled past D
    // are taken before it acts on D; rule 5's margin check alone decides.
    let t = timing();
    let mut rig = Rig::new();
    let matched_at = rig.now;
    let m = rig.match_pair(seller(), buyer());
    rig.send(
        GW_XASX,
        Body::LockReceipt(lock_receipt(&m.cash.2, "XASX-LOCK-1", 1)),
    );
    let t1 = matched_at + t.cash_expiry_ms;
    let deadline = matched_at + t.lock_window_ms;
    assert!(t1 - t.reveal_margin_ms >= deadline, "E1 >= L + M");
    rig.now = t1 - t.reveal_margin_ms;
    let (_, sent) = rig.send(
        GW_XNYS,
        Body::LockReceipt(lock_receipt(&m.securities.2, "XNYS-LOCK-1", 1)),
    );
    assert_eq!(
        claim_requests(&sent).len(),
        1,
        "exactly M left: reveal: {sent:#?}"
    );
    assert_eq!(rig.stored_settlement(&m.id).phase, Phase::Revealing);
    rig.assert_no_violations();
}
