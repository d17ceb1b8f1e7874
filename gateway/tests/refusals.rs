//! The gateway engine's refusals (ISM-1 §12.6 rule 3, rule 5, §12.7): each
//! is answered with its reason code and orders nothing from the ledger. The
//! proposal and lock requests are the real relay engine's, then tampered with.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_adapters::ledger_side::LedgerCommand;
use isthmus_gateway::{Gateway, GatewayConfig, Input, Output};
use isthmus_relay::{Relay, RelayConfig};
use isthmus_spec::body::{
    Body, ClaimReceipt, ClaimRequest, JournalRef, Leg, LockRequest, SettlementProposal,
};
use isthmus_spec::ids::{Counter, Hex32, MessageId, Preimage, Reference};
use isthmus_spec::protocol::{Entropy, Inbound, Outbound, Timing};

mod support;

use support::{buyer, gateways, mic, node, seller};

struct Counting(u64);

impl Entropy for Counting {
    fn fill(&mut self, dest: &mut [u8]) {
        for byte in dest.iter_mut() {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *byte = (self.0 >> 56) as u8;
        }
    }
}

fn timing() -> Timing {
    Timing {
        claim_window_ms: 2_000,
        max_clock_skew_ms: 100,
        matching_window_ms: 4_000,
        lock_window_ms: 3_000,
        reveal_margin_ms: 2_100,
        cash_expiry_ms: 5_200,
        securities_expiry_ms: 7_400,
        retransmit_ms: 150,
    }
}

/// Runs an engine's outputs, acknowledging every write at once.
fn drain_gateway(gateway: &mut Gateway, entropy: &mut Counting) -> Vec<Output> {
    let mut out = Vec::new();
    while let Some(output) = gateway.poll() {
        if let Output::Persist(write) = &output {
            gateway.handle(0, Input::Persisted(write.id), entropy);
        }
        out.push(output);
    }
    out
}

/// The real relay's proposal and securities LockRequest for the seller and buyer.
fn from_the_relay() -> (SettlementProposal, LockRequest) {
    let config = RelayConfig {
        node: node("relay-1.custodian"),
        gateways: gateways(),
        timing: timing(),
        settlement_prefix: "STL".to_string(),
    };
    config.check().unwrap();
    let mut relay = Relay::new(config);
    let mut entropy = Counting(7);
    let mut sent: Vec<Outbound> = Vec::new();
    for (sender, body) in [("gw.xnys", seller()), ("gw.xasx", buyer())] {
        let id = MessageId::new_v7(1_000, [sender.len() as u8; 10]);
        let message = Inbound {
            sender: node(sender),
            id,
            body: Body::SettlementInstruction(body),
        };
        relay.handle(1_000, isthmus_relay::Input::Message(message), &mut entropy);
        while let Some(output) = relay.poll() {
            match output {
                isthmus_relay::Output::Persist(write) => relay.handle(
                    1_000,
                    isthmus_relay::Input::Persisted(write.id),
                    &mut entropy,
                ),
                isthmus_relay::Output::Send(outbound) => sent.push(outbound),
                isthmus_relay::Output::SetTimer { .. } => {}
            }
        }
    }
    let proposal = sent.iter().find_map(|o| match &o.body {
        Body::SettlementProposal(p) if o.to == node("gw.xnys") => Some(p.clone()),
        _ => None,
    });
    let request = sent.iter().find_map(|o| match &o.body {
        Body::LockRequest(r) if r.leg == Leg::Securities => Some(r.clone()),
        _ => None,
    });
    (
        proposal.expect("a proposal to gw.xnys"),
        request.expect("a securities LockRequest"),
    )
}

struct Rig {
    gateway: Gateway,
    entropy: Counting,
    next: u8,
}

impl Rig {
    /// gw.xnys with the seller's instruction submitted and acknowledged.
    fn new() -> Rig {
        let config = GatewayConfig {
            node: node("gw.xnys"),
            market: mic("XNYS"),
            relays: vec![node("relay-1.custodian")],
            gateways: gateways(),
            timing: timing(),
        };
        config.check().unwrap();
        let mut rig = Rig {
            gateway: Gateway::new(config),
            entropy: Counting(3),
            next: 0,
        };
        rig.gateway.handle(
            1_000,
            Input::Submit {
                instruction: seller(),
                relay: node("relay-1.custodian"),
            },
            &mut rig.entropy,
        );
        drain_gateway(&mut rig.gateway, &mut rig.entropy);
        rig
    }

    fn receive(&mut self, sender: &str, body: Body) -> (MessageId, Vec<Output>) {
        self.next += 1;
        let id = MessageId::new_v7(2_000, [self.next; 10]);
        let message = Inbound {
            sender: node(sender),
            id: id.clone(),
            body,
        };
        self.gateway
            .handle(2_000, Input::Message(message), &mut self.entropy);
        (id, drain_gateway(&mut self.gateway, &mut self.entropy))
    }
}

/// The code of the one Error in `outputs`, which answers `related`; and no ledger order.
fn refused_with(outputs: &[Output], related: &MessageId) -> String {
    assert!(
        !outputs.iter().any(|o| matches!(o, Output::Ledger { .. })),
        "a refused message must order nothing from the ledger: {outputs:?}"
    );
    let errors: Vec<_> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send(Outbound {
                body: Body::Error(e),
                ..
            }) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "one Error: {outputs:?}");
    assert_eq!(errors[0].related_message_id.as_ref(), Some(related));
    errors[0].code.as_str().to_string()
}

const RELAY: &str = "relay-1.custodian";

/// One change to a LockRequest.
type Tamper = Box<dyn Fn(&mut LockRequest)>;

#[test]
fn a_valid_lock_request_orders_the_lock_only_after_its_intent_is_persisted() {
    let (proposal, request) = from_the_relay();
    let mut rig = Rig::new();
    rig.receive(RELAY, Body::SettlementProposal(proposal));
    rig.next += 1;
    let message = Inbound {
        sender: node(RELAY),
        id: MessageId::new_v7(2_000, [99; 10]),
        body: Body::LockRequest(request.clone()),
    };
    rig.gateway
        .handle(2_000, Input::Message(message), &mut rig.entropy);
    let first = rig.gateway.poll();
    assert!(
        matches!(first, Some(Output::Persist(_))),
        "the intent is persisted first: {first:?}"
    );
    assert_eq!(
        rig.gateway.poll(),
        None,
        "nothing goes to the ledger before the write is durable"
    );
    let Some(Output::Persist(write)) = first else {
        unreachable!()
    };
    rig.gateway
        .handle(2_000, Input::Persisted(write.id), &mut rig.entropy);
    match rig.gateway.poll() {
        Some(Output::Ledger {
            command: LedgerCommand::Lock(order),
            ..
        }) => {
            assert_eq!(order.from, request.from);
            assert_eq!(order.beneficiary, request.beneficiary);
            assert_eq!(order.units, 1_000 * 1_000_000);
            assert_eq!(order.hashlock, request.hashlock);
        }
        other => panic!("expected the lock order, got {other:?}"),
    }
}

#[test]
fn a_lock_request_without_its_proposal_is_settlement_unknown() {
    let (_, request) = from_the_relay();
    let mut rig = Rig::new();
    let (id, outputs) = rig.receive(RELAY, Body::LockRequest(request));
    assert_eq!(refused_with(&outputs, &id), "SETTLEMENT_UNKNOWN");
}

#[test]
fn a_lock_request_for_another_market_is_market_mismatch() {
    let (proposal, mut request) = from_the_relay();
    let mut rig = Rig::new();
    rig.receive(RELAY, Body::SettlementProposal(proposal));
    request.market = mic("XASX");
    let (id, outputs) = rig.receive(RELAY, Body::LockRequest(request));
    assert_eq!(refused_with(&outputs, &id), "MARKET_MISMATCH");
}

#[test]
fn a_lock_request_that_differs_from_the_proposal_is_proposal_mismatch_on_each_term() {
    let (proposal, request) = from_the_relay();
    let changes: Vec<(&str, Tamper)> = vec![
        (
            "beneficiary",
            Box::new(|r| r.beneficiary.account = Reference::parse("SAFE-THIEF").unwrap()),
        ),
        (
            "from",
            Box::new(|r| r.from.account = Reference::parse("SAFE-OTHER").unwrap()),
        ),
        (
            "expiry",
            Box::new(|r| {
                r.expires_at = isthmus_spec::time::Timestamp::from_unix_millis(9_999_999).unwrap()
            }),
        ),
        (
            "hashlock",
            Box::new(|r| r.hashlock = Preimage::from_bytes([9; 32]).hashlock()),
        ),
        (
            "quantity",
            Box::new(|r| {
                if let Some(s) = &mut r.securities {
                    s.quantity = isthmus_spec::decimal::Quantity::parse("999").unwrap();
                }
            }),
        ),
    ];
    for (what, change) in changes {
        let mut rig = Rig::new();
        rig.receive(RELAY, Body::SettlementProposal(proposal.clone()));
        let mut tampered = request.clone();
        change(&mut tampered);
        let (id, outputs) = rig.receive(RELAY, Body::LockRequest(tampered));
        assert_eq!(
            refused_with(&outputs, &id),
            "PROPOSAL_MISMATCH",
            "changed {what}"
        );
    }
}

#[test]
fn a_proposal_for_an_instruction_this_gateway_did_not_send_is_proposal_mismatch() {
    let (mut proposal, request) = from_the_relay();
    let mut rig = Rig::new();
    proposal.deliver_instruction_id = Reference::parse("SEME-XNYS-404").unwrap();
    rig.receive(RELAY, Body::SettlementProposal(proposal));
    let (id, outputs) = rig.receive(RELAY, Body::LockRequest(request));
    assert_eq!(refused_with(&outputs, &id), "PROPOSAL_MISMATCH");
}

#[test]
fn a_claim_request_with_another_hashlock_is_hashlock_mismatch() {
    let (proposal, _) = from_the_relay();
    let mut rig = Rig::new();
    rig.receive(RELAY, Body::SettlementProposal(proposal.clone()));
    let other = Preimage::from_bytes([5; 32]);
    let request = ClaimRequest {
        settlement_id: proposal.settlement_id.clone(),
        hashlock: other.hashlock(),
        preimage: other,
    };
    let (id, outputs) = rig.receive(RELAY, Body::ClaimRequest(request));
    assert_eq!(refused_with(&outputs, &id), "HASHLOCK_MISMATCH");
}

#[test]
fn a_hand_over_from_a_gateway_that_holds_no_leg_is_refused() {
    let (proposal, _) = from_the_relay();
    let mut rig = Rig::new();
    rig.receive(RELAY, Body::SettlementProposal(proposal.clone()));
    let secret = Preimage::from_bytes([5; 32]);
    let receipt = ClaimReceipt {
        settlement_id: proposal.settlement_id.clone(),
        leg: Leg::Securities,
        lock_id: Reference::parse("HTLC-1").unwrap(),
        hashlock: secret.hashlock(),
        preimage: secret,
        journal: JournalRef {
            market: mic("XNYS"),
            sequence: Counter::new(1).unwrap(),
            entry_hash: Hex32::from_bytes([1; 32]),
        },
    };
    // gw.xasx is the cash leg's gateway; it cannot report the securities leg's claim.
    let (id, outputs) = rig.receive("gw.xasx", Body::ClaimReceipt(receipt));
    assert_eq!(refused_with(&outputs, &id), "SENDER_NOT_PARTY");
}
