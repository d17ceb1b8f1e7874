//! A test rig around the sans-IO relay: a store that keeps what the relay
//! persisted (only writes it acknowledged), a timer wheel, a log of what was
//! sent, deterministic entropy, and builders for instructions and for the
//! gateways' answers.
//!
//! Every message the rig releases is checked against the store at the moment
//! it comes out (ISM-1 §12.9): a violation is kept in `Rig::violations`, which
//! the tests assert empty.

// Each test binary uses a part of the rig.
#![allow(dead_code)]

use std::collections::BTreeMap;

use isthmus_relay::{
    Input, Output, Phase, Record, RecordKey, Relay, RelayConfig, RelayTimer, SettlementRecord,
    Write,
};
use isthmus_spec::body::{
    Body, ClaimReceipt, ErrorBody, InstructionState, InstructionStatus, JournalRef, Leg,
    LockReceipt, LockRequest, RefundReceipt, SettlementConfirmation, SettlementInstruction,
    SettlementProposal,
};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Counter, Hex32, MessageId, NodeId, Preimage, Reference};
use isthmus_spec::json::Json;
use isthmus_spec::protocol::{Entropy, Inbound, Outbound, Timing};
use serde_json::{json, Value};

/// The relay under test.
pub const RELAY: &str = "relay.one";
/// The seller's gateway, and the gateway of the securities market XNYS.
pub const GW_XNYS: &str = "gw.xnys";
/// The buyer's gateway, and the gateway of the cash market XASX.
pub const GW_XASX: &str = "gw.xasx";
/// A gateway of the network that is party to nothing in these tests.
pub const GW_XNAS: &str = "gw.xnas";
/// A node that is no gateway.
pub const STRANGER: &str = "node.stranger";

/// The time of the first input of most tests.
pub const T0: u64 = 1_800_000_000_000;

pub fn node(text: &str) -> NodeId {
    NodeId::parse(text).unwrap_or_else(|r| panic!("{text}: {r}"))
}

pub fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap_or_else(|r| panic!("{text}: {r}"))
}

pub fn mic(text: &str) -> Mic {
    Mic::parse(text).unwrap_or_else(|r| panic!("{text}: {r}"))
}

/// Δ = 1_100 ms; every rule of ISM-1 §12.1 item 2 holds with room to spare.
pub fn timing() -> Timing {
    Timing {
        claim_window_ms: 1_000,
        max_clock_skew_ms: 100,
        matching_window_ms: 60_000,
        lock_window_ms: 10_000,
        reveal_margin_ms: 2_000,
        cash_expiry_ms: 20_000,
        securities_expiry_ms: 30_000,
        retransmit_ms: 500,
    }
}

pub fn config_with(timing: Timing) -> RelayConfig {
    let gateways = [("XNYS", GW_XNYS), ("XASX", GW_XASX), ("XNAS", GW_XNAS)]
        .into_iter()
        .map(|(market, gateway)| (mic(market), node(gateway)))
        .collect();
    RelayConfig {
        node: node(RELAY),
        gateways,
        timing,
        settlement_prefix: "STL".to_string(),
    }
}

pub fn config() -> RelayConfig {
    config_with(timing())
}

/// Randomness that is a counter: every fill differs from every other.
#[derive(Debug, Clone, Default)]
pub struct CountingEntropy {
    next: u64,
}

impl Entropy for CountingEntropy {
    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            self.next += 1;
            let bytes = self.next.to_be_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

// ----- instructions (after specs/tests/legs.rs) -----

/// The seller's delivery of 1000 Apple shares on XNYS against AUD paid on
/// XASX, as its gateway gw.xnys sends it.
pub fn seller() -> Value {
    json!({
        "instruction_id": "SEME-XNYS-1",
        "direction": "DELIVER",
        "payment": "AGAINST_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": "US0378331005",
        "quantity": "1000",
        "settlement_amount": {"amount": "352140.50", "currency": "AUD"},
        "account_owner": "549300ISTHMUSSELL015",
        "safekeeping_account": "SAFE-SELLER-01",
        "securities_market": "XNYS",
        "cash": {"account": "AUD-CASH-SELLER-7"},
        "receiving_agent": {"proprietary_id": {"id": "0901", "issuer": "DTCYID"}},
        "place_of_settlement": "DTCYUS33"
    })
}

/// The buyer's receipt, as its gateway gw.xasx sends it; the same terms
/// written differently ("1000.0", "352140.5").
pub fn buyer() -> Value {
    json!({
        "instruction_id": "SEME-XASX-1",
        "direction": "RECEIVE",
        "payment": "AGAINST_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": "US0378331005",
        "quantity": "1000.0",
        "settlement_amount": {"amount": "352140.5", "currency": "AUD"},
        "account_owner": "ANZBAU3M",
        "safekeeping_account": "SAFE-BUYER-US-3",
        "cash": {"market": "XASX", "account": "AUD-CASH-BUYER-3", "owner": "5493001KJTIIGC8Y1R12"},
        "delivering_agent": {"bic": "CHASUS33"},
        "place_of_settlement": "DTCYUS33"
    })
}

/// The same instruction free of payment: no amount and no cash side.
pub fn free_of_payment(mut body: Value) -> Value {
    body["payment"] = json!("FREE_OF_PAYMENT");
    if let Value::Object(members) = &mut body {
        members.remove("settlement_amount");
        members.remove("cash");
    }
    body
}

pub fn with_id(mut body: Value, id: &str) -> Value {
    body["instruction_id"] = json!(id);
    body
}

pub fn instruction(body: Value) -> SettlementInstruction {
    SettlementInstruction::from_json(&body, "body")
        .unwrap_or_else(|r| panic!("test instruction refused: {r}"))
}

pub fn instruct(body: Value) -> Body {
    Body::SettlementInstruction(instruction(body))
}

// ----- the gateways' answers -----

pub fn journal(market: &Mic, sequence: u64) -> JournalRef {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&sequence.to_be_bytes());
    hash[31] = 0x5a;
    JournalRef {
        market: market.clone(),
        sequence: Counter::new(sequence).unwrap_or_else(|| panic!("counter {sequence}")),
        entry_hash: Hex32::from_bytes(hash),
    }
}

/// The receipt an honest gateway sends for `request`.
pub fn lock_receipt(request: &LockRequest, lock_id: &str, sequence: u64) -> LockReceipt {
    LockReceipt {
        settlement_id: request.settlement_id.clone(),
        leg: request.leg,
        lock_id: reference(lock_id),
        hashlock: request.hashlock.clone(),
        expires_at: request.expires_at.clone(),
        journal: journal(&request.market, sequence),
    }
}

pub fn claim_receipt(lock: &LockReceipt, preimage: &Preimage, sequence: u64) -> ClaimReceipt {
    ClaimReceipt {
        settlement_id: lock.settlement_id.clone(),
        leg: lock.leg,
        lock_id: lock.lock_id.clone(),
        hashlock: lock.hashlock.clone(),
        preimage: preimage.clone(),
        journal: journal(&lock.journal.market, sequence),
    }
}

pub fn refund_receipt(lock: &LockReceipt, sequence: u64) -> RefundReceipt {
    RefundReceipt {
        settlement_id: lock.settlement_id.clone(),
        leg: lock.leg,
        lock_id: lock.lock_id.clone(),
        journal: journal(&lock.journal.market, sequence),
    }
}

pub fn gateway_error(code: &str, related: &MessageId) -> Body {
    Body::Error(isthmus_spec::protocol::error_body(
        code,
        "the ledger refused the lock",
        Some(related),
    ))
}

// ----- what was sent -----

pub fn statuses(sent: &[Outbound]) -> Vec<(NodeId, InstructionStatus)> {
    sent.iter()
        .filter_map(|o| match &o.body {
            Body::InstructionStatus(s) => Some((o.to.clone(), s.clone())),
            _ => None,
        })
        .collect()
}

pub fn proposals(sent: &[Outbound]) -> Vec<(NodeId, SettlementProposal)> {
    sent.iter()
        .filter_map(|o| match &o.body {
            Body::SettlementProposal(p) => Some((o.to.clone(), p.clone())),
            _ => None,
        })
        .collect()
}

pub fn lock_requests(sent: &[Outbound]) -> Vec<(NodeId, MessageId, LockRequest)> {
    sent.iter()
        .filter_map(|o| match &o.body {
            Body::LockRequest(r) => Some((o.to.clone(), o.id.clone(), r.clone())),
            _ => None,
        })
        .collect()
}

/// The LockRequest of `leg` among `sent`; exactly one.
pub fn lock_request(sent: &[Outbound], leg: Leg) -> (NodeId, MessageId, LockRequest) {
    let found: Vec<_> = lock_requests(sent)
        .into_iter()
        .filter(|(_, _, r)| r.leg == leg)
        .collect();
    assert_eq!(found.len(), 1, "one {leg} LockRequest in {sent:#?}");
    found.into_iter().next().unwrap_or_else(|| unreachable!())
}

pub fn claim_requests(sent: &[Outbound]) -> Vec<(NodeId, isthmus_spec::body::ClaimRequest)> {
    sent.iter()
        .filter_map(|o| match &o.body {
            Body::ClaimRequest(r) => Some((o.to.clone(), r.clone())),
            _ => None,
        })
        .collect()
}

pub fn confirmations(sent: &[Outbound]) -> Vec<(NodeId, SettlementConfirmation)> {
    sent.iter()
        .filter_map(|o| match &o.body {
            Body::SettlementConfirmation(c) => Some((o.to.clone(), c.clone())),
            _ => None,
        })
        .collect()
}

pub fn errors(sent: &[Outbound]) -> Vec<(NodeId, ErrorBody)> {
    sent.iter()
        .filter_map(|o| match &o.body {
            Body::Error(e) => Some((o.to.clone(), e.clone())),
            _ => None,
        })
        .collect()
}

/// The one Error in `sent`, to `to`, answering `related`, with its code.
pub fn the_error(sent: &[Outbound], to: &str, related: &MessageId) -> String {
    assert_eq!(sent.len(), 1, "exactly one message, an Error: {sent:#?}");
    let errors = errors(sent);
    let (receiver, error) = errors
        .first()
        .unwrap_or_else(|| panic!("no Error in {sent:#?}"));
    assert_eq!(receiver, &node(to), "the Error goes to the sender");
    assert_eq!(
        error.related_message_id.as_ref(),
        Some(related),
        "the Error names the message it refuses"
    );
    error.code.as_str().to_string()
}

pub fn reason_code(status: &InstructionStatus) -> Option<&str> {
    status.reason.as_ref().map(|r| r.code.as_str())
}

// ----- the rig -----

/// The relay with its store, timers and network log.
pub struct Rig {
    pub relay: Relay,
    pub config: RelayConfig,
    pub entropy: CountingEntropy,
    /// The relay's clock.
    pub now: u64,
    /// The latest record per key, from acknowledged writes only.
    pub store: BTreeMap<RecordKey, Record>,
    /// The timers the relay set, by when they are due.
    pub timers: BTreeMap<RelayTimer, u64>,
    /// Every message sent, with the time it was released.
    pub sent: Vec<(u64, Outbound)>,
    /// Every write acknowledged.
    pub writes: Vec<Write>,
    /// Messages that came out ahead of the state that explains them.
    pub violations: Vec<String>,
    messages: u64,
}

impl Rig {
    pub fn new() -> Rig {
        Rig::with_config(config())
    }

    pub fn with_config(config: RelayConfig) -> Rig {
        assert_eq!(config.check(), Ok(()), "the test configuration is valid");
        Rig {
            relay: Relay::new(config.clone()),
            config,
            entropy: CountingEntropy::default(),
            now: T0,
            store: BTreeMap::new(),
            timers: BTreeMap::new(),
            sent: Vec::new(),
            writes: Vec::new(),
            violations: Vec::new(),
            messages: 0,
        }
    }

    /// A message from `sender` with a fresh id.
    pub fn message(&mut self, sender: &str, body: Body) -> Inbound {
        self.messages += 1;
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.messages.to_be_bytes());
        random[8] = 0xee;
        Inbound {
            sender: node(sender),
            id: MessageId::new_v7(self.now, random),
            body,
        }
    }

    /// Hands `input` to the relay now, persists and acknowledges every write,
    /// and returns what it sent.
    pub fn input(&mut self, input: Input) -> Vec<Outbound> {
        let now = self.now;
        self.relay.handle(now, input, &mut self.entropy);
        self.drain()
    }

    /// Delivers `message` (which may be a repeat of an earlier one).
    pub fn deliver(&mut self, message: Inbound) -> Vec<Outbound> {
        self.input(Input::Message(message))
    }

    /// Sends `body` from `sender` in a new message; returns its id and what the relay sent.
    pub fn send(&mut self, sender: &str, body: Body) -> (MessageId, Vec<Outbound>) {
        let message = self.message(sender, body);
        let id = message.id.clone();
        (id, self.deliver(message))
    }

    /// Fires `timer` now, whether or not it is due.
    pub fn fire(&mut self, timer: RelayTimer) -> Vec<Outbound> {
        self.timers.remove(&timer);
        self.input(Input::Timer(timer))
    }

    /// Moves the clock to `until`, firing every timer due by then, in order.
    pub fn advance_to(&mut self, until: u64) -> Vec<Outbound> {
        let mut sent = Vec::new();
        let mut fired = 0u32;
        loop {
            fired += 1;
            assert!(
                fired < 100_000,
                "timers keep firing before {until}: a timer re-armed at the instant it fired?"
            );
            let due = self
                .timers
                .iter()
                .filter(|(_, at)| **at <= until)
                .min_by_key(|(timer, at)| (**at, (*timer).clone()))
                .map(|(timer, at)| (timer.clone(), *at));
            let Some((timer, at)) = due else { break };
            self.now = self.now.max(at);
            sent.extend(self.fire(timer));
        }
        self.now = self.now.max(until);
        sent
    }

    pub fn advance_by(&mut self, ms: u64) -> Vec<Outbound> {
        self.advance_to(self.now + ms)
    }

    /// Drains the relay: every write is persisted and acknowledged at once.
    pub fn drain(&mut self) -> Vec<Outbound> {
        let mut sent = Vec::new();
        while let Some(output) = self.relay.poll() {
            match output {
                Output::Persist(write) => {
                    self.acknowledge(write);
                }
                Output::Send(outbound) => {
                    self.released(&outbound);
                    sent.push(outbound);
                }
                Output::SetTimer { timer, at_ms } => {
                    self.timers.insert(timer, at_ms);
                }
            }
        }
        sent
    }

    /// Applies `write` to the store and tells the relay it is durable.
    pub fn acknowledge(&mut self, write: Write) {
        for record in &write.records {
            self.store.insert(record.key(), stored(record));
        }
        let id = write.id;
        self.writes.push(write);
        let now = self.now;
        self.relay
            .handle(now, Input::Persisted(id), &mut self.entropy);
    }

    pub fn released(&mut self, outbound: &Outbound) {
        if let Some(violation) = check_against_store(&self.store, outbound) {
            self.violations.push(violation);
        }
        self.sent.push((self.now, outbound.clone()));
    }

    /// A relay restarted from the store alone (ISM-1 §12.10 item 1), resumed
    /// now: its resume timers fired, what it sent returned.
    pub fn restart(&mut self) -> Vec<Outbound> {
        self.relay = Relay::restore(self.config.clone(), self.store.values().cloned());
        self.timers.clear();
        let now = self.now;
        self.relay.resume(now);
        let mut sent = self.drain();
        sent.extend(self.advance_to(now));
        sent
    }

    /// The persisted record of settlement `id`.
    pub fn stored_settlement(&self, id: &Reference) -> SettlementRecord {
        match self.store.get(&RecordKey::Settlement(id.clone())) {
            Some(Record::Settlement(record)) => (**record).clone(),
            other => panic!("no settlement {id} in the store: {other:?}"),
        }
    }

    pub fn stored_settlements(&self) -> Vec<SettlementRecord> {
        self.store
            .values()
            .filter_map(|record| match record {
                Record::Settlement(s) => Some((**s).clone()),
                Record::Instruction(_) => None,
            })
            .collect()
    }

    pub fn stored_instruction_state(&self, gateway: &str, id: &str) -> Option<InstructionState> {
        let key = RecordKey::Instruction(isthmus_relay::InstructionKey {
            gateway: node(gateway),
            instruction_id: reference(id),
        });
        match self.store.get(&key) {
            Some(Record::Instruction(record)) => Some(record.status),
            _ => None,
        }
    }

    pub fn assert_no_violations(&self) {
        assert!(
            self.violations.is_empty(),
            "messages released ahead of their state: {:#?}",
            self.violations
        );
    }
}

impl Default for Rig {
    fn default() -> Self {
        Rig::new()
    }
}

/// Whether `outbound` may go out given what is durable (ISM-1 §12.5, §12.9):
/// `Some(why)` when it may not.
pub fn check_against_store(
    store: &BTreeMap<RecordKey, Record>,
    outbound: &Outbound,
) -> Option<String> {
    let settlement = |id: &Reference| match store.get(&RecordKey::Settlement(id.clone())) {
        Some(Record::Settlement(record)) => Some((**record).clone()),
        _ => None,
    };
    let to = &outbound.to;
    match &outbound.body {
        Body::SettlementProposal(p) => match settlement(&p.settlement_id) {
            Some(s) if s.secret.is_some() && !s.phase.is_final() => None,
            other => Some(format!(
                "proposal {} to {to} with the settlement not persisted open with its secret: {other:?}",
                p.settlement_id
            )),
        },
        Body::LockRequest(r) => match settlement(&r.settlement_id) {
            Some(s) if matches!(s.phase, Phase::Proposed | Phase::Locking) && s.secret.is_some() => {
                match s.leg(r.leg) {
                    Some(leg) if leg.request == *r && leg.gateway == *to => None,
                    other => Some(format!("LockRequest {r:?} to {to} is not the persisted leg's: {other:?}")),
                }
            }
            other => Some(format!(
                "LockRequest for {} to {to} while the settlement is persisted as {:?}",
                r.settlement_id,
                other.map(|s| s.phase)
            )),
        },
        Body::ClaimRequest(c) => {
            let Some(s) = settlement(&c.settlement_id) else {
                return Some(format!("ClaimRequest for unpersisted {}", c.settlement_id));
            };
            if s.phase != Phase::Revealing {
                return Some(format!(
                    "ClaimRequest for {} while it is persisted {}",
                    s.id,
                    s.phase.name()
                ));
            }
            if !s.legs.iter().all(|leg| leg.locked.is_some()) {
                return Some(format!(
                    "ClaimRequest for {} before every LockReceipt is persisted",
                    s.id
                ));
            }
            let Some(leg) = s.legs.iter().find(|leg| leg.gateway == *to) else {
                return Some(format!("ClaimRequest for {} to {to}, no leg's gateway", s.id));
            };
            if leg.leg == Leg::Securities {
                if let Some(cash) = s.leg(Leg::Cash) {
                    if cash.claimed.is_none() {
                        return Some(format!(
                            "securities ClaimRequest for {} before the cash ClaimReceipt is persisted",
                            s.id
                        ));
                    }
                }
            }
            if s.secret.as_ref() != Some(&c.preimage) {
                return Some(format!("ClaimRequest for {} with another preimage", s.id));
            }
            None
        }
        Body::SettlementConfirmation(c) => match settlement(&c.settlement_id) {
            Some(s)
                if s.phase == Phase::Settled && s.legs.iter().all(|leg| leg.claimed.is_some()) =>
            {
                None
            }
            other => Some(format!(
                "confirmation for {} before SETTLED is persisted: {:?}",
                c.settlement_id,
                other.map(|s| s.phase)
            )),
        },
        Body::InstructionStatus(status) => {
            if status.status == InstructionState::Cancelled {
                if let Some(id) = &status.settlement_id {
                    return match settlement(id) {
                        Some(s) if s.phase == Phase::Aborted && s.secret.is_none() => None,
                        other => Some(format!(
                            "CANCELLED for settlement {id} before ABORTED (p erased) is persisted: {:?}",
                            other.map(|s| s.phase)
                        )),
                    };
                }
            }
            let key = RecordKey::Instruction(isthmus_relay::InstructionKey {
                gateway: to.clone(),
                instruction_id: status.instruction_id.clone(),
            });
            match store.get(&key) {
                Some(Record::Instruction(record)) if record.status == status.status => {
                    if let Some(id) = &status.settlement_id {
                        if settlement(id).is_none() {
                            return Some(format!("MATCHED {id} before the settlement is persisted"));
                        }
                    }
                    None
                }
                other => Some(format!(
                    "status {} of {} to {to} while the store has {:?}",
                    status.status,
                    status.instruction_id,
                    other.map(|r| match r {
                        Record::Instruction(i) => format!("{}", i.status),
                        Record::Settlement(_) => "a settlement".to_string(),
                    })
                )),
            }
        }
        _ => None,
    }
}

/// A matched against-payment settlement, as the gateways saw it.
pub struct Matched {
    pub id: Reference,
    pub proposal: SettlementProposal,
    pub cash: (NodeId, MessageId, LockRequest),
    pub securities: (NodeId, MessageId, LockRequest),
    /// What the match sent.
    pub sent: Vec<Outbound>,
}

impl Rig {
    /// Seller then buyer, at the rig's time; the pair matches.
    pub fn match_pair(&mut self, seller: Value, buyer: Value) -> Matched {
        let (_, first) = self.send(GW_XNYS, instruct(seller));
        assert_eq!(statuses(&first).len(), 1);
        let (_, sent) = self.send(GW_XASX, instruct(buyer));
        let found = proposals(&sent);
        let (_, proposal) = found
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("no proposal in {sent:#?}"));
        Matched {
            id: proposal.settlement_id.clone(),
            proposal,
            cash: lock_request(&sent, Leg::Cash),
            securities: lock_request(&sent, Leg::Securities),
            sent,
        }
    }

    /// The secret the relay persisted for `id`.
    pub fn secret(&self, id: &Reference) -> Preimage {
        self.stored_settlement(id)
            .secret
            .unwrap_or_else(|| panic!("settlement {id} has no persisted secret"))
    }
}

/// A record as a node's store gives it back: written as JSON and read again
/// (the node stores do this), which must change nothing.
pub fn stored(record: &isthmus_relay::Record) -> isthmus_relay::Record {
    let text = serde_json::to_vec(record).expect("a record serialises");
    let back: isthmus_relay::Record =
        serde_json::from_slice(&text).expect("a stored record reads back");
    assert_eq!(&back, record, "a record changed through its stored form");
    back
}
