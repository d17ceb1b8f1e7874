//! Matching at the relay (ISM-1 §12.4, §12.5 rule 1, §12.3 rule 1).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use isthmus_relay::{InstructionKey, Phase, Record, RecordKey, RelayTimer};
use isthmus_spec::body::{InstructionState, Leg, SecuritiesAmount};
use isthmus_spec::protocol::SettlementReason;
use serde_json::{json, Value};
use support::*;

fn key(gateway: &str, id: &str) -> InstructionKey {
    InstructionKey {
        gateway: node(gateway),
        instruction_id: reference(id),
    }
}

fn account(owner: &str, account: &str) -> isthmus_spec::body::AccountRef {
    isthmus_spec::body::AccountRef::from_parts(owner, account).unwrap()
}

#[test]
fn a_matching_pair_becomes_a_proposed_settlement_with_the_proposals_terms_secret_and_expiries() {
    let mut rig = Rig::new();
    let (seller_message, sent) = rig.send(GW_XNYS, instruct(seller()));
    let accepted = statuses(&sent);
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].0, node(GW_XNYS));
    assert_eq!(accepted[0].1.status, InstructionState::Accepted);
    assert_eq!(accepted[0].1.related_message_id, Some(seller_message));

    rig.now += 250;
    let matched_at = rig.now;
    let writes_before = rig.writes.len();
    let (buyer_message, sent) = rig.send(GW_XASX, instruct(buyer()));

    // One write holds the settlement and both instructions MATCHED (§12.5 rule 1).
    assert_eq!(rig.writes.len(), writes_before + 1, "one atomic write");
    let write = rig.writes.last().unwrap();
    assert_eq!(write.records.len(), 3, "{write:#?}");
    let settlement = write
        .records
        .iter()
        .find_map(|r| match r {
            Record::Settlement(s) => Some((**s).clone()),
            Record::Instruction(_) => None,
        })
        .expect("the settlement is in the match's write");
    assert_eq!(settlement.phase, Phase::Proposed);
    assert_eq!(settlement.matched_at_ms, matched_at);
    assert_eq!(
        settlement.lock_deadline_ms,
        matched_at + timing().lock_window_ms
    );
    let id = settlement.id.clone();
    assert_eq!(id.as_str(), "STL-1");
    for (gateway, instruction_id) in [(GW_XNYS, "SEME-XNYS-1"), (GW_XASX, "SEME-XASX-1")] {
        assert_eq!(
            rig.stored_instruction_state(gateway, instruction_id),
            Some(InstructionState::Matched)
        );
    }

    // MATCHED to each instruction's gateway, with the settlement id.
    let mut matched = statuses(&sent);
    matched.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(matched.len(), 2, "{sent:#?}");
    for ((to, status), (gateway, instruction_id)) in matched
        .iter()
        .zip([(GW_XASX, "SEME-XASX-1"), (GW_XNYS, "SEME-XNYS-1")])
    {
        assert_eq!(to, &node(gateway));
        assert_eq!(status.instruction_id.as_str(), instruction_id);
        assert_eq!(status.status, InstructionState::Matched);
        assert_eq!(status.settlement_id.as_ref(), Some(&id));
    }
    assert_eq!(
        matched[0].1.related_message_id,
        Some(buyer_message),
        "each status names its own instruction's message"
    );

    // The proposal, once to each gateway.
    let sent_proposals = proposals(&sent);
    let mut receivers: Vec<_> = sent_proposals.iter().map(|(to, _)| to.clone()).collect();
    receivers.sort();
    assert_eq!(receivers, vec![node(GW_XASX), node(GW_XNYS)]);
    let proposal = sent_proposals[0].1.clone();
    assert_eq!(sent_proposals[1].1, proposal);
    assert_eq!(
        proposal, settlement.proposal,
        "what was sent is what was persisted"
    );
    assert_eq!(proposal.settlement_id, id);
    assert_eq!(proposal.deliver_instruction_id.as_str(), "SEME-XNYS-1");
    assert_eq!(proposal.receive_instruction_id.as_str(), "SEME-XASX-1");
    assert_eq!(proposal.isin.as_str(), "US0378331005");
    let amount = proposal.settlement_amount.clone().expect("against payment");
    assert_eq!(
        (amount.amount.as_str(), amount.currency.as_str()),
        ("352140.5", "AUD")
    );
    assert_eq!(proposal.settlement_date.as_str(), "2026-11-27");

    // Legs: from the two instructions alone (§6.1 duty 7).
    let securities = &proposal.securities_leg;
    assert_eq!(securities.market, mic("XNYS"));
    assert_eq!(
        securities.from,
        account("549300ISTHMUSSELL015", "SAFE-SELLER-01")
    );
    assert_eq!(securities.to, account("ANZBAU3M", "SAFE-BUYER-US-3"));
    let cash = proposal.cash_leg.clone().expect("against payment");
    assert_eq!(cash.market, mic("XASX"));
    assert_eq!(
        cash.from,
        account("5493001KJTIIGC8Y1R12", "AUD-CASH-BUYER-3")
    );
    assert_eq!(
        cash.to,
        account("549300ISTHMUSSELL015", "AUD-CASH-SELLER-7")
    );

    // T1 and T2 (§12.3 rule 2).
    let t = timing();
    assert_eq!(
        cash.expires_at.unix_millis(),
        i128::from(matched_at + t.cash_expiry_ms)
    );
    assert_eq!(
        securities.expires_at.unix_millis(),
        i128::from(matched_at + t.securities_expiry_ms)
    );

    // The hashlock is SHA-256 of the persisted secret's 32 bytes.
    let secret = rig.secret(&id);
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.bytes());
    assert_eq!(digest.as_ref(), proposal.hashlock.bytes());

    // Each leg's LockRequest to its market's gateway, with the proposal's terms (§6.4 duty 1).
    assert_eq!(lock_requests(&sent).len(), 2);
    let (to, _, request) = lock_request(&sent, Leg::Cash);
    assert_eq!(to, node(GW_XASX));
    assert_eq!(request.settlement_id, id);
    assert_eq!(request.market, cash.market);
    assert_eq!(request.from, cash.from);
    assert_eq!(request.beneficiary, cash.to);
    assert_eq!(request.expires_at, cash.expires_at);
    assert_eq!(request.hashlock, proposal.hashlock);
    assert_eq!(request.cash, proposal.settlement_amount);
    assert_eq!(request.securities, None);
    let (to, _, request) = lock_request(&sent, Leg::Securities);
    assert_eq!(to, node(GW_XNYS));
    assert_eq!(request.settlement_id, id);
    assert_eq!(request.market, securities.market);
    assert_eq!(request.from, securities.from);
    assert_eq!(request.beneficiary, securities.to);
    assert_eq!(request.expires_at, securities.expires_at);
    assert_eq!(request.hashlock, proposal.hashlock);
    assert_eq!(
        request.securities,
        Some(SecuritiesAmount {
            isin: proposal.isin.clone(),
            quantity: proposal.quantity.clone()
        })
    );
    assert_eq!(request.cash, None);

    // Its timer is armed no later than the next retransmission.
    let at = rig.timers.get(&RelayTimer::Settlement(id.clone())).copied();
    assert!(
        at.is_some_and(|at| at > matched_at && at <= matched_at + t.retransmit_ms),
        "{at:?}"
    );
    assert_eq!(rig.relay.settlement(&id), Some(&settlement));
    rig.assert_no_violations();
}

/// Seller then buyer, each changed by its closure; both end UNMATCHED with `code`.
fn assert_unmatched(
    case: &str,
    change: impl Fn(&mut Value, &mut Value),
    code: SettlementReason,
) -> Rig {
    let (mut deliver, mut receive) = (seller(), buyer());
    change(&mut deliver, &mut receive);
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(deliver));
    let (_, sent) = rig.send(GW_XASX, instruct(receive));
    let mut reported = statuses(&sent);
    reported.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(reported.len(), 2, "{case}: both gateways hear: {sent:#?}");
    for ((to, status), gateway) in reported.iter().zip([GW_XASX, GW_XNYS]) {
        assert_eq!(to, &node(gateway), "{case}");
        assert_eq!(status.status, InstructionState::Unmatched, "{case}");
        assert_eq!(reason_code(status), Some(code.as_str()), "{case}");
        assert_eq!(status.settlement_id, None, "{case}");
    }
    assert!(proposals(&sent).is_empty(), "{case}");
    assert!(lock_requests(&sent).is_empty(), "{case}");
    assert_eq!(rig.relay.settlements().count(), 0, "{case}: no settlement");
    assert!(rig.stored_settlements().is_empty(), "{case}");
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Unmatched),
        "{case}"
    );
    assert_eq!(
        rig.stored_instruction_state(GW_XASX, "SEME-XASX-1"),
        Some(InstructionState::Unmatched),
        "{case}"
    );
    rig.assert_no_violations();
    rig
}

fn common_reference(deliver: &mut Value, receive: &mut Value) {
    deliver["common_reference"] = json!("TRADE-42");
    receive["common_reference"] = json!("TRADE-42");
}

#[test]
fn an_isin_difference_under_one_common_reference_is_unmatched_isin() {
    assert_unmatched(
        "isin",
        |d, r| {
            common_reference(d, r);
            r["isin"] = json!("US5949181045");
        },
        SettlementReason::UnmatchedIsin,
    );
}

#[test]
fn a_payment_type_difference_is_unmatched_payment() {
    assert_unmatched(
        "payment",
        |_, r| *r = free_of_payment(r.clone()),
        SettlementReason::UnmatchedPayment,
    );
}

#[test]
fn a_settlement_date_difference_is_unmatched_settlement_date() {
    assert_unmatched(
        "settlement date",
        |_, r| r["settlement_date"] = json!("2026-11-30"),
        SettlementReason::UnmatchedSettlementDate,
    );
}

#[test]
fn a_quantity_difference_is_unmatched_quantity_even_when_the_amount_differs_too() {
    assert_unmatched(
        "quantity",
        |_, r| r["quantity"] = json!("1001"),
        SettlementReason::UnmatchedQuantity,
    );
    assert_unmatched(
        "quantity before amount",
        |_, r| {
            r["quantity"] = json!("1000.0001");
            r["settlement_amount"]["amount"] = json!("1.00");
        },
        SettlementReason::UnmatchedQuantity,
    );
}

#[test]
fn a_currency_difference_is_unmatched_currency() {
    assert_unmatched(
        "currency",
        |_, r| r["settlement_amount"]["currency"] = json!("USD"),
        SettlementReason::UnmatchedCurrency,
    );
}

#[test]
fn an_amount_difference_is_unmatched_amount() {
    assert_unmatched(
        "amount",
        |_, r| r["settlement_amount"]["amount"] = json!("352140.51"),
        SettlementReason::UnmatchedAmount,
    );
}

#[test]
fn a_counterparty_difference_under_one_common_reference_is_unmatched_counterparty() {
    assert_unmatched(
        "counterparty",
        |d, r| {
            common_reference(d, r);
            r["receiving_agent"] = json!({"bic": "DEUTDEFF"});
        },
        SettlementReason::UnmatchedCounterparty,
    );
}

#[test]
fn without_a_common_reference_another_isin_or_counterparty_is_no_candidate_and_both_wait_accepted()
{
    type Change = fn(&mut Value);
    let changes: [(&str, Change); 2] = [
        ("isin", |r| r["isin"] = json!("US5949181045")),
        ("counterparty", |r| {
            r["receiving_agent"] = json!({"bic": "DEUTDEFF"})
        }),
    ];
    for (case, change) in changes {
        let mut receive = buyer();
        change(&mut receive);
        let mut rig = Rig::new();
        rig.send(GW_XNYS, instruct(seller()));
        let (_, sent) = rig.send(GW_XASX, instruct(receive));
        let reported = statuses(&sent);
        assert_eq!(reported.len(), 1, "{case}: only the new one hears");
        assert_eq!(reported[0].0, node(GW_XASX), "{case}");
        assert_eq!(reported[0].1.status, InstructionState::Accepted, "{case}");
        assert_eq!(
            rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
            Some(InstructionState::Accepted),
            "{case}"
        );
        assert_eq!(rig.relay.settlements().count(), 0, "{case}");
    }
}

#[test]
fn two_different_common_references_are_no_candidates_even_with_equal_terms() {
    let (mut deliver, mut receive) = (seller(), buyer());
    deliver["common_reference"] = json!("TRADE-1");
    receive["common_reference"] = json!("TRADE-2");
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(deliver));
    let (_, sent) = rig.send(GW_XASX, instruct(receive));
    assert_eq!(statuses(&sent).len(), 1);
    assert_eq!(statuses(&sent)[0].1.status, InstructionState::Accepted);
    assert_eq!(rig.relay.settlements().count(), 0);
}

#[test]
fn a_later_matching_instruction_still_matches_an_unmatched_one() {
    let mut rig = assert_unmatched(
        "quantity",
        |_, r| r["quantity"] = json!("1001"),
        SettlementReason::UnmatchedQuantity,
    );
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-2")));
    let found = proposals(&sent);
    assert!(
        !found.is_empty(),
        "the seller's instruction still matches: {sent:#?}"
    );
    let proposal = &found[0].1;
    assert_eq!(proposal.deliver_instruction_id.as_str(), "SEME-XNYS-1");
    assert_eq!(proposal.receive_instruction_id.as_str(), "SEME-XASX-2");
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Matched)
    );
    assert_eq!(
        rig.stored_instruction_state(GW_XASX, "SEME-XASX-1"),
        Some(InstructionState::Unmatched),
        "the differing one keeps waiting"
    );
    rig.assert_no_violations();
}

#[test]
fn the_first_received_of_two_matching_candidates_wins() {
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(seller()));
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-2")));
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    let proposal = proposals(&sent)[0].1.clone();
    assert_eq!(proposal.deliver_instruction_id.as_str(), "SEME-XNYS-1");
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-2"),
        Some(InstructionState::Accepted)
    );
    // The second buyer takes the one left.
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-2")));
    let proposal = proposals(&sent)[0].1.clone();
    assert_eq!(proposal.deliver_instruction_id.as_str(), "SEME-XNYS-2");
    assert_eq!(proposal.settlement_id.as_str(), "STL-2");
    rig.assert_no_violations();
}

#[test]
fn a_matching_candidate_is_taken_over_an_earlier_one_that_differs() {
    let mut rig = Rig::new();
    let mut differing = seller();
    differing["quantity"] = json!("999");
    rig.send(GW_XNYS, instruct(differing));
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-2")));
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    let proposal = proposals(&sent)[0].1.clone();
    assert_eq!(proposal.deliver_instruction_id.as_str(), "SEME-XNYS-2");
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Accepted),
        "the differing candidate is not reported UNMATCHED when another matches"
    );
    assert_eq!(statuses(&sent).len(), 2, "only the two MATCHED: {sent:#?}");
}

#[test]
fn a_repeated_instruction_gets_its_status_again_and_changes_nothing() {
    let mut rig = Rig::new();
    let (first, _) = rig.send(GW_XNYS, instruct(seller()));
    let store = rig.store.clone();
    let writes = rig.writes.len();
    let (_, sent) = rig.send(GW_XNYS, instruct(seller()));
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let (to, status) = statuses(&sent)[0].clone();
    assert_eq!(to, node(GW_XNYS));
    assert_eq!(status.status, InstructionState::Accepted);
    assert_eq!(status.related_message_id, Some(first.clone()));
    assert_eq!(rig.writes.len(), writes, "nothing persisted");
    assert_eq!(rig.store, store);

    // Matched, the repeat gets MATCHED with the settlement, and nothing else.
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    let matched = proposals(&sent)[0].1.settlement_id.clone();
    let store = rig.store.clone();
    let writes = rig.writes.len();
    let (_, sent) = rig.send(GW_XNYS, instruct(seller()));
    assert_eq!(
        sent.len(),
        1,
        "no proposal or lock request again: {sent:#?}"
    );
    let (_, status) = statuses(&sent)[0].clone();
    assert_eq!(status.status, InstructionState::Matched);
    assert_eq!(status.settlement_id, Some(matched));
    assert_eq!(status.related_message_id, Some(first));
    assert_eq!(rig.writes.len(), writes);
    assert_eq!(rig.store, store);
    assert_eq!(rig.relay.settlements().count(), 1);
    rig.assert_no_violations();
}

#[test]
fn the_same_instruction_id_with_another_body_is_refused_as_reused_and_changes_nothing() {
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(seller()));
    let store = rig.store.clone();
    let writes = rig.writes.len();
    let record = rig.relay.instruction(&key(GW_XNYS, "SEME-XNYS-1")).cloned();
    let mut other = seller();
    other["quantity"] = json!("2000");
    let (message, sent) = rig.send(GW_XNYS, instruct(other));
    assert_eq!(
        the_error(&sent, GW_XNYS, &message),
        SettlementReason::InstructionIdReused.as_str()
    );
    assert_eq!(rig.writes.len(), writes);
    assert_eq!(rig.store, store);
    assert_eq!(
        rig.relay.instruction(&key(GW_XNYS, "SEME-XNYS-1")).cloned(),
        record
    );
    // The original still matches.
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    assert_eq!(
        proposals(&sent)[0].1.deliver_instruction_id.as_str(),
        "SEME-XNYS-1"
    );
}

#[test]
fn an_instruction_id_is_the_senders_own_so_another_gateway_may_use_it() {
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(seller()));
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XNYS-1")));
    assert!(errors(&sent).is_empty(), "{sent:#?}");
    assert_eq!(proposals(&sent).len(), 2);
}

#[test]
fn an_instruction_with_no_counterpart_is_cancelled_at_its_cut_off_and_not_before() {
    let mut rig = Rig::new();
    let received = rig.now;
    rig.send(GW_XNYS, instruct(seller()));
    let timer = RelayTimer::Instruction(key(GW_XNYS, "SEME-XNYS-1"));
    let cut_off = received + timing().matching_window_ms;
    assert_eq!(rig.timers.get(&timer), Some(&cut_off));

    // Fired early (a shell may be early), it does nothing.
    rig.now = cut_off - 1;
    let writes = rig.writes.len();
    let sent = rig.fire(timer.clone());
    assert!(sent.is_empty(), "{sent:#?}");
    assert_eq!(rig.writes.len(), writes);
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Accepted)
    );

    rig.now = cut_off;
    let sent = rig.fire(timer);
    let reported = statuses(&sent);
    assert_eq!(reported.len(), 1, "{sent:#?}");
    assert_eq!(reported[0].0, node(GW_XNYS));
    assert_eq!(reported[0].1.status, InstructionState::Cancelled);
    assert_eq!(
        reason_code(&reported[0].1),
        Some(SettlementReason::MatchingExpired.as_str())
    );
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Cancelled)
    );

    // Ended: a repeat gets CANCELLED again, and a counterpart no longer matches it.
    let (_, sent) = rig.send(GW_XNYS, instruct(seller()));
    assert_eq!(statuses(&sent)[0].1.status, InstructionState::Cancelled);
    assert_eq!(
        reason_code(&statuses(&sent)[0].1),
        Some(SettlementReason::MatchingExpired.as_str())
    );
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    assert!(proposals(&sent).is_empty());
    assert_eq!(statuses(&sent)[0].1.status, InstructionState::Accepted);
    rig.assert_no_violations();
}

#[test]
fn an_unmatched_instruction_is_cancelled_at_its_cut_off_and_a_matched_one_is_not() {
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(seller()));
    let mut differing = buyer();
    differing["quantity"] = json!("1001");
    rig.send(GW_XASX, instruct(differing));
    rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-2")));
    let sent = rig.advance_by(timing().matching_window_ms);
    let cancelled: Vec<_> = statuses(&sent)
        .into_iter()
        .filter(|(_, s)| s.status == InstructionState::Cancelled && s.settlement_id.is_none())
        .collect();
    assert_eq!(cancelled.len(), 1, "{cancelled:#?}");
    assert_eq!(cancelled[0].1.instruction_id.as_str(), "SEME-XASX-1");
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Matched)
    );
}

#[test]
fn a_leg_market_no_gateway_serves_rejects_the_new_instruction_and_leaves_its_counterpart_waiting() {
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(seller()));
    let mut unserved = buyer();
    unserved["cash"]["market"] = json!("XTKS");
    let (_, sent) = rig.send(GW_XASX, instruct(unserved));
    let reported = statuses(&sent);
    assert_eq!(reported.len(), 1, "only the rejected one hears: {sent:#?}");
    assert_eq!(reported[0].0, node(GW_XASX));
    assert_eq!(reported[0].1.status, InstructionState::Rejected);
    assert_eq!(
        reason_code(&reported[0].1),
        Some(SettlementReason::MarketUnserved.as_str())
    );
    assert_eq!(rig.relay.settlements().count(), 0);
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Accepted)
    );
    assert_eq!(
        rig.stored_instruction_state(GW_XASX, "SEME-XASX-1"),
        Some(InstructionState::Rejected)
    );
    // The seller's instruction still matches a served buyer.
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-2")));
    assert_eq!(proposals(&sent).len(), 2);
    rig.assert_no_violations();
}

#[test]
fn an_incomplete_pair_rejects_the_new_instruction_and_a_market_conflict_leaves_both_unmatched() {
    let mut rig = Rig::new();
    rig.send(GW_XNYS, instruct(seller()));
    let mut incomplete = buyer();
    incomplete.as_object_mut().unwrap().remove("account_owner");
    let (_, sent) = rig.send(GW_XASX, instruct(incomplete));
    let reported = statuses(&sent);
    assert_eq!(reported.len(), 1, "{sent:#?}");
    assert_eq!(reported[0].1.status, InstructionState::Rejected);
    assert_eq!(reason_code(&reported[0].1), Some("INSTRUCTION_INCOMPLETE"));
    assert_eq!(
        rig.stored_instruction_state(GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Accepted)
    );

    let mut conflicting = with_id(buyer(), "SEME-XASX-2");
    conflicting["securities_market"] = json!("XNAS");
    let (_, sent) = rig.send(GW_XASX, instruct(conflicting));
    let mut reported = statuses(&sent);
    reported.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(reported.len(), 2, "{sent:#?}");
    for (_, status) in &reported {
        assert_eq!(status.status, InstructionState::Unmatched);
        assert_eq!(reason_code(status), Some("LEG_MARKET_CONFLICT"));
    }
    assert_eq!(rig.relay.settlements().count(), 0);
    // Both still wait: a correct buyer matches the seller.
    let (_, sent) = rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-3")));
    assert_eq!(proposals(&sent).len(), 2);
    rig.assert_no_violations();
}

#[test]
fn an_instruction_from_a_node_that_is_not_a_gateway_is_refused_and_not_kept() {
    let mut rig = Rig::new();
    let (message, sent) = rig.send(STRANGER, instruct(seller()));
    assert_eq!(
        the_error(&sent, STRANGER, &message),
        SettlementReason::SenderNotParty.as_str()
    );
    assert!(rig.writes.is_empty());
    assert!(rig.store.is_empty());
    assert!(rig.timers.is_empty());
    // Nothing waits that a buyer could match.
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    assert!(proposals(&sent).is_empty());
}

#[test]
fn an_instruction_gateway_of_no_leg_gets_the_proposal_once_and_no_lock_request() {
    let mut rig = Rig::new();
    // The seller instructs through gw.xnas; its securities are on XNYS.
    rig.send(GW_XNAS, instruct(seller()));
    let (_, sent) = rig.send(GW_XASX, instruct(buyer()));
    let mut receivers: Vec<_> = proposals(&sent).into_iter().map(|(to, _)| to).collect();
    receivers.sort();
    assert_eq!(receivers, vec![node(GW_XASX), node(GW_XNAS), node(GW_XNYS)]);
    let mut lockers: Vec<_> = lock_requests(&sent)
        .into_iter()
        .map(|(to, _, r)| (to, r.leg))
        .collect();
    lockers.sort();
    assert_eq!(
        lockers,
        vec![(node(GW_XASX), Leg::Cash), (node(GW_XNYS), Leg::Securities)]
    );
    let mut matched: Vec<_> = statuses(&sent).into_iter().map(|(to, _)| to).collect();
    matched.sort();
    assert_eq!(matched, vec![node(GW_XASX), node(GW_XNAS)]);
    assert!(rig
        .store
        .contains_key(&RecordKey::Instruction(key(GW_XNAS, "SEME-XNYS-1"))));
    rig.assert_no_violations();
}

#[test]
fn matching_is_deterministic_the_same_instructions_in_the_same_order_give_the_same_settlements() {
    let run = || {
        let mut rig = Rig::new();
        rig.send(GW_XNYS, instruct(seller()));
        rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-2")));
        rig.send(GW_XASX, instruct(with_id(buyer(), "B-2")));
        rig.send(GW_XASX, instruct(with_id(buyer(), "B-1")));
        let mut pairs: Vec<_> = rig
            .stored_settlements()
            .into_iter()
            .map(|s| {
                (
                    s.id.to_string(),
                    s.proposal.deliver_instruction_id.to_string(),
                    s.proposal.receive_instruction_id.to_string(),
                )
            })
            .collect();
        pairs.sort();
        pairs
    };
    let first = run();
    assert_eq!(
        first,
        vec![
            (
                "STL-1".to_string(),
                "SEME-XNYS-1".to_string(),
                "B-2".to_string()
            ),
            (
                "STL-2".to_string(),
                "SEME-XNYS-2".to_string(),
                "B-1".to_string()
            ),
        ]
    );
    assert_eq!(run(), first);
}

#[test]
fn the_settlement_record_names_the_sellers_instruction_as_deliver_whichever_arrived_first() {
    // ISM-1 §12.5 rule 1 and §12.2 item 2: the settlement the relay persists
    // keeps the seller's (DELIVER) and the buyer's (RECEIVE) instruction in
    // their places, as its proposal does, in either order of arrival.
    for seller_first in [true, false] {
        let mut rig = Rig::new();
        let order = if seller_first {
            [(GW_XNYS, seller()), (GW_XASX, buyer())]
        } else {
            [(GW_XASX, buyer()), (GW_XNYS, seller())]
        };
        for (gateway, body) in order {
            rig.send(gateway, instruct(body));
        }
        let settlements = rig.stored_settlements();
        assert_eq!(settlements.len(), 1, "seller first: {seller_first}");
        let settlement = &settlements[0];
        assert_eq!(
            settlement.deliver,
            key(GW_XNYS, "SEME-XNYS-1"),
            "seller first: {seller_first}"
        );
        assert_eq!(
            settlement.receive,
            key(GW_XASX, "SEME-XASX-1"),
            "seller first: {seller_first}"
        );
        assert_eq!(
            settlement.proposal.deliver_instruction_id,
            settlement.deliver.instruction_id
        );
        assert_eq!(
            settlement.proposal.receive_instruction_id,
            settlement.receive.instruction_id
        );
        assert_eq!(rig.relay.settlement(&settlement.id), Some(settlement));
    }
}

#[test]
fn the_relay_shows_each_instruction_as_it_last_persisted_it() {
    // ISM-1 §12.4 rule 5, §12.9: what the relay holds for an instruction is
    // the record it persisted, through ACCEPTED, UNMATCHED, MATCHED,
    // REJECTED and CANCELLED; an instruction it never kept it does not show.
    let mut rig = Rig::new();
    let shown_as_stored = |rig: &Rig, gateway: &str, id: &str| {
        let shown = rig.relay.instruction(&key(gateway, id)).cloned();
        let stored = match rig.store.get(&RecordKey::Instruction(key(gateway, id))) {
            Some(Record::Instruction(record)) => Some((**record).clone()),
            _ => None,
        };
        assert!(shown.is_some(), "{gateway} {id} is shown");
        assert_eq!(shown, stored, "{gateway} {id}");
        shown.map(|record| record.status)
    };

    rig.send(GW_XNYS, instruct(seller()));
    assert_eq!(
        shown_as_stored(&rig, GW_XNYS, "SEME-XNYS-1"),
        Some(InstructionState::Accepted)
    );
    let mut differing = buyer();
    differing["quantity"] = json!("1001");
    rig.send(GW_XASX, instruct(differing));
    for (gateway, id) in [(GW_XNYS, "SEME-XNYS-1"), (GW_XASX, "SEME-XASX-1")] {
        assert_eq!(
            shown_as_stored(&rig, gateway, id),
            Some(InstructionState::Unmatched)
        );
    }
    rig.send(GW_XASX, instruct(with_id(buyer(), "SEME-XASX-2")));
    let matched = rig
        .relay
        .instruction(&key(GW_XASX, "SEME-XASX-2"))
        .and_then(|record| record.settlement_id.clone());
    assert_eq!(matched.as_ref().map(|id| id.as_str()), Some("STL-1"));
    for (gateway, id) in [(GW_XNYS, "SEME-XNYS-1"), (GW_XASX, "SEME-XASX-2")] {
        assert_eq!(
            shown_as_stored(&rig, gateway, id),
            Some(InstructionState::Matched)
        );
    }
    let mut unserved = with_id(buyer(), "SEME-XASX-3");
    unserved["cash"]["market"] = json!("XTKS");
    rig.send(GW_XNYS, instruct(with_id(seller(), "SEME-XNYS-3")));
    rig.send(GW_XASX, instruct(unserved));
    assert_eq!(
        shown_as_stored(&rig, GW_XASX, "SEME-XASX-3"),
        Some(InstructionState::Rejected)
    );
    rig.advance_by(timing().matching_window_ms);
    assert_eq!(
        shown_as_stored(&rig, GW_XASX, "SEME-XASX-1"),
        Some(InstructionState::Cancelled)
    );

    // Neither a refused instruction nor one never sent is kept.
    rig.send(STRANGER, instruct(with_id(seller(), "SEME-X-9")));
    assert_eq!(rig.relay.instruction(&key(STRANGER, "SEME-X-9")), None);
    assert_eq!(rig.relay.instruction(&key(GW_XNYS, "SEME-XNYS-9")), None);
    rig.assert_no_violations();
}

#[test]
fn an_unmatched_reason_names_the_field_that_differs() {
    // ISM-1 §12.4 rules 3 and 4: each gateway hears UNMATCHED with the reason
    // of the first row that differs; its text says which field that is, so
    // the participant knows what to correct.
    type Change = fn(&mut Value, &mut Value);
    let cases: [(&str, Change, SettlementReason); 7] = [
        (
            "isin",
            |d, r| {
                common_reference(d, r);
                r["isin"] = json!("US5949181045");
            },
            SettlementReason::UnmatchedIsin,
        ),
        (
            "payment",
            |_, r| *r = free_of_payment(r.clone()),
            SettlementReason::UnmatchedPayment,
        ),
        (
            "settlement date",
            |_, r| r["settlement_date"] = json!("2026-11-30"),
            SettlementReason::UnmatchedSettlementDate,
        ),
        (
            "quantity",
            |_, r| r["quantity"] = json!("1001"),
            SettlementReason::UnmatchedQuantity,
        ),
        (
            "currency",
            |_, r| r["settlement_amount"]["currency"] = json!("USD"),
            SettlementReason::UnmatchedCurrency,
        ),
        (
            "amount",
            |_, r| r["settlement_amount"]["amount"] = json!("352140.51"),
            SettlementReason::UnmatchedAmount,
        ),
        (
            "counterparties",
            |d, r| {
                common_reference(d, r);
                r["receiving_agent"] = json!({"bic": "DEUTDEFF"});
            },
            SettlementReason::UnmatchedCounterparty,
        ),
    ];
    for (field, change, code) in cases {
        let (mut deliver, mut receive) = (seller(), buyer());
        change(&mut deliver, &mut receive);
        let mut rig = Rig::new();
        rig.send(GW_XNYS, instruct(deliver));
        let (_, sent) = rig.send(GW_XASX, instruct(receive));
        let reported = statuses(&sent);
        assert_eq!(reported.len(), 2, "{field}: {sent:#?}");
        for (to, status) in &reported {
            assert_eq!(reason_code(status), Some(code.as_str()), "{field} to {to}");
            let text = status
                .reason
                .as_ref()
                .map(|r| r.text.as_str().to_lowercase())
                .unwrap_or_default();
            assert!(text.contains(field), "{field} to {to}: {text:?}");
            for (other, _, _) in cases.iter().filter(|(other, _, _)| *other != field) {
                assert!(
                    !text.contains(other),
                    "{field} to {to}: names {other} too: {text:?}"
                );
            }
        }
    }
}
