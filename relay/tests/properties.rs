//! Random interleavings, duplications, delays and crashes of the gateways'
//! answers for a few settlements never make the relay reveal, ask for the
//! second claim, or confirm ahead of the persisted state (ISM-1 §12.5 rules
//! 5–7, §12.9), and every settlement still ends (§12.10 item 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;

use isthmus_relay::{Input, Output};
use isthmus_spec::body::{Body, Leg, LockRequest};
use isthmus_spec::ids::{MessageId, NodeId, Preimage, Reference};
use isthmus_spec::protocol::Inbound;
use proptest::prelude::*;
use serde_json::json;
use support::*;

#[derive(Debug, Clone)]
enum Op {
    /// A gateway sends one of the receipts it could send now.
    Answer(u8),
    /// A gateway answers a LockRequest with an Error, final or not.
    Refuse(u8),
    /// A message delivered before is delivered again, same id.
    Duplicate(u8),
    /// Time passes; due timers fire.
    Wait(u16),
    /// The relay restarts from its store.
    Restart,
    /// The relay handles an answer, crashes before its write is durable, restarts.
    Crash(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u8>().prop_map(Op::Answer),
        1 => any::<u8>().prop_map(Op::Refuse),
        2 => any::<u8>().prop_map(Op::Duplicate),
        3 => (0u16..2_500).prop_map(Op::Wait),
        1 => Just(Op::Restart),
        1 => any::<u8>().prop_map(Op::Crash),
    ]
}

/// One leg on its ledger, as honest gateways and ledgers make it (A1).
#[derive(Debug, Clone, Default)]
struct LedgerLeg {
    locked: bool,
    refused: bool,
    claimed: bool,
    refunded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Lock,
    Refuse(&'static str),
    Claim,
    Refund,
}

struct World {
    rig: Rig,
    ledger: BTreeMap<(Reference, Leg), LedgerLeg>,
    /// The latest LockRequest per leg, its id and gateway.
    requests: BTreeMap<(Reference, Leg), (MessageId, LockRequest, NodeId)>,
    /// What each gateway learned of p, per settlement.
    preimages: BTreeMap<(Reference, NodeId), Preimage>,
    delivered: Vec<Inbound>,
    /// How much of the rig's log the gateways have read.
    read: usize,
    sequence: u64,
}

impl World {
    fn new() -> World {
        let mut world = World {
            rig: Rig::new(),
            ledger: BTreeMap::new(),
            requests: BTreeMap::new(),
            preimages: BTreeMap::new(),
            delivered: Vec::new(),
            read: 0,
            sequence: 0,
        };
        // Two pairs against payment and one free of payment, each under its
        // own common reference, arriving interleaved.
        let pair = |n: usize| {
            let mut deliver = with_id(seller(), &format!("S-{n}"));
            let mut receive = with_id(buyer(), &format!("B-{n}"));
            if n == 3 {
                deliver = free_of_payment(deliver);
                receive = free_of_payment(receive);
            }
            deliver["common_reference"] = json!(format!("TRADE-{n}"));
            receive["common_reference"] = json!(format!("TRADE-{n}"));
            (deliver, receive)
        };
        let (s1, b1) = pair(1);
        let (s2, b2) = pair(2);
        let (s3, b3) = pair(3);
        for (gateway, body) in [
            (GW_XNYS, s1),
            (GW_XNYS, s2),
            (GW_XASX, b1),
            (GW_XNYS, s3),
            (GW_XASX, b3),
            (GW_XASX, b2),
        ] {
            world.rig.now += 7;
            world.rig.send(gateway, instruct(body));
        }
        world.learn();
        world
    }

    /// The gateways read what the relay sent: LockRequests to answer, and p,
    /// which a gateway claims with at once (§12.6 rule 5) and hands over to
    /// the other leg's gateway (§12.7).
    fn learn(&mut self) {
        let news: Vec<_> = self.rig.sent[self.read..].to_vec();
        self.read = self.rig.sent.len();
        for (at, message) in news {
            match &message.body {
                Body::LockRequest(request) => {
                    self.requests.insert(
                        (request.settlement_id.clone(), request.leg),
                        (message.id.clone(), request.clone(), message.to.clone()),
                    );
                }
                Body::ClaimRequest(claim) => {
                    self.preimages.insert(
                        (claim.settlement_id.clone(), message.to.clone()),
                        claim.preimage.clone(),
                    );
                    self.claim_at_once(&claim.settlement_id, &message.to, at);
                }
                _ => {}
            }
        }
    }

    fn claim_at_once(&mut self, id: &Reference, gateway: &NodeId, at: u64) {
        let legs: Vec<Leg> = self
            .requests
            .iter()
            .filter(|((s, _), (_, _, g))| s == id && g == gateway)
            .map(|((_, leg), _)| *leg)
            .collect();
        for leg in legs {
            let claimed = self.claim(id, leg, at);
            if claimed && leg == Leg::Cash {
                // The hand-over: the securities gateway learns p from the cash claim.
                if let Some((_, _, other)) = self.requests.get(&(id.clone(), Leg::Securities)) {
                    let other = other.clone();
                    let p = self.preimages[&(id.clone(), gateway.clone())].clone();
                    self.preimages.insert((id.clone(), other), p);
                    self.claim(id, Leg::Securities, at);
                }
            }
        }
    }

    /// The ledger records a claim before the lock's expiry only.
    fn claim(&mut self, id: &Reference, leg: Leg, at: u64) -> bool {
        let expiry = self.expiry(id, leg);
        let state = self.ledger.entry((id.clone(), leg)).or_default();
        if state.locked && !state.refunded && !state.claimed && at < expiry {
            state.claimed = true;
        }
        state.claimed
    }

    fn expiry(&self, id: &Reference, leg: Leg) -> u64 {
        let (_, request, _) = &self.requests[&(id.clone(), leg)];
        u64::try_from(request.expires_at.unix_millis()).unwrap()
    }

    /// Every answer some gateway could send now: receipts, or Errors.
    fn answers(&self, errors: bool) -> Vec<(Reference, Leg, Answer)> {
        let now = self.rig.now;
        let skew = timing().max_clock_skew_ms;
        let mut answers = Vec::new();
        for (id, leg) in self.requests.keys() {
            let state = self
                .ledger
                .get(&(id.clone(), *leg))
                .cloned()
                .unwrap_or_default();
            let expiry = self.expiry(id, *leg);
            let key = (id.clone(), *leg);
            if !state.refused && !state.claimed && !state.refunded && (state.locked || now < expiry)
            {
                answers.push((key.0.clone(), key.1, Answer::Lock));
            }
            if errors && !state.locked && !state.refused {
                answers.push((key.0.clone(), key.1, Answer::Refuse("INSUFFICIENT_FUNDS")));
            }
            if errors && !state.locked {
                answers.push((key.0.clone(), key.1, Answer::Refuse("STORE_FAILED")));
            }
            if state.claimed {
                answers.push((key.0.clone(), key.1, Answer::Claim));
            }
            if state.locked && !state.claimed && now >= expiry + skew {
                answers.push((key.0, key.1, Answer::Refund));
            }
        }
        answers
    }

    /// The message for `answer`, and what it does on the ledger.
    fn make(&mut self, id: &Reference, leg: Leg, answer: Answer) -> Inbound {
        let (request_id, request, gateway) = self.requests[&(id.clone(), leg)].clone();
        self.sequence += 1;
        let lock = lock_receipt(&request, &format!("L-{id}-{leg}"), leg_sequence(leg));
        let state = self.ledger.entry((id.clone(), leg)).or_default();
        let body = match answer {
            Answer::Lock => {
                state.locked = true;
                Body::LockReceipt(lock)
            }
            Answer::Refuse(code) => {
                if code == "INSUFFICIENT_FUNDS" {
                    state.refused = true;
                }
                gateway_error(code, &request_id)
            }
            Answer::Claim => {
                let p = self.preimages[&(id.clone(), gateway.clone())].clone();
                Body::ClaimReceipt(claim_receipt(&lock, &p, leg_sequence(leg) + 1))
            }
            Answer::Refund => {
                state.refunded = true;
                Body::RefundReceipt(refund_receipt(&lock, leg_sequence(leg) + 2))
            }
        };
        self.rig.message(gateway.as_str(), body)
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Answer(pick) | Op::Refuse(pick) => {
                let answers: Vec<_> = self
                    .answers(matches!(op, Op::Refuse(_)))
                    .into_iter()
                    .filter(|(_, _, a)| {
                        matches!(a, Answer::Refuse(_)) == matches!(op, Op::Refuse(_))
                    })
                    .collect();
                if answers.is_empty() {
                    return;
                }
                let (id, leg, answer) = answers[usize::from(*pick) % answers.len()].clone();
                let message = self.make(&id, leg, answer);
                self.delivered.push(message.clone());
                self.rig.deliver(message);
            }
            Op::Duplicate(pick) => {
                if self.delivered.is_empty() {
                    return;
                }
                let message = self.delivered[usize::from(*pick) % self.delivered.len()].clone();
                self.rig.deliver(message);
            }
            Op::Wait(ms) => {
                self.rig.advance_by(u64::from(*ms));
            }
            Op::Restart => {
                self.rig.restart();
            }
            Op::Crash(pick) => {
                let answers = self.answers(true);
                if answers.is_empty() {
                    return;
                }
                let (id, leg, answer) = answers[usize::from(*pick) % answers.len()].clone();
                let message = self.make(&id, leg, answer);
                self.delivered.push(message.clone());
                let now = self.rig.now;
                self.rig
                    .relay
                    .handle(now, Input::Message(message), &mut self.rig.entropy);
                // Whatever is released before the write is durable may go;
                // the write itself is lost.
                while let Some(output) = self.rig.relay.poll() {
                    if let Output::Send(outbound) = output {
                        self.rig.released(&outbound);
                    }
                }
                self.rig.restart();
            }
        }
        self.learn();
    }

    /// Every gateway sends its claim and refund receipts while time runs out
    /// past every expiry: faults stop, so every settlement ends.
    fn finish(&mut self) {
        let t = timing();
        let horizon = self
            .requests
            .values()
            .map(|(_, r, _)| u64::try_from(r.expires_at.unix_millis()).unwrap())
            .max()
            .unwrap_or(self.rig.now)
            + t.max_clock_skew_ms
            + 4 * t.retransmit_ms;
        let mut rounds = 0;
        while self.rig.now <= horizon || !self.all_final() {
            rounds += 1;
            assert!(
                rounds < 1_000,
                "no end: {:#?}",
                self.rig.stored_settlements()
            );
            for (id, leg, answer) in self.answers(false) {
                if matches!(answer, Answer::Claim | Answer::Refund) {
                    let message = self.make(&id, leg, answer);
                    self.rig.deliver(message);
                }
            }
            self.rig.advance_by(t.retransmit_ms);
            self.learn();
        }
    }

    fn all_final(&self) -> bool {
        self.rig.relay.settlements().all(|s| s.phase.is_final())
    }
}

fn leg_sequence(leg: Leg) -> u64 {
    match leg {
        Leg::Cash => 100,
        Leg::Securities => 200,
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn no_interleaving_of_answers_makes_the_relay_claim_or_confirm_ahead_of_its_persisted_state(
        ops in proptest::collection::vec(op(), 0..60)
    ) {
        let mut world = World::new();
        prop_assert_eq!(world.rig.stored_settlements().len(), 3);
        for op in &ops {
            world.apply(op);
            prop_assert!(
                world.rig.violations.is_empty(),
                "after {:?}: {:#?}", op, world.rig.violations
            );
        }
        world.finish();
        prop_assert!(world.rig.violations.is_empty(), "{:#?}", world.rig.violations);

        // Only with p from the relay after the cash claim, or from the cash
        // claim itself, was a securities leg claimed.
        for ((id, leg), state) in &world.ledger {
            if *leg == Leg::Securities && state.claimed {
                if let Some(cash) = world.ledger.get(&(id.clone(), Leg::Cash)) {
                    prop_assert!(cash.claimed, "{id}: securities claimed, cash not");
                }
            }
        }
        // Every settlement ended, and a settled one had every leg claimed.
        for settlement in world.rig.stored_settlements() {
            prop_assert!(settlement.phase.is_final(), "{}: {}", settlement.id, settlement.phase.name());
            if settlement.phase == isthmus_relay::Phase::Settled {
                prop_assert!(settlement.legs.iter().all(|l| l.claimed.is_some()));
            } else {
                prop_assert!(settlement.secret.is_none());
            }
        }
        let confirmations = confirmations(&world.rig.sent.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>());
        for (_, c) in confirmations {
            let stored = world.rig.stored_settlement(&c.settlement_id);
            prop_assert_eq!(stored.phase, isthmus_relay::Phase::Settled);
        }
    }
}
