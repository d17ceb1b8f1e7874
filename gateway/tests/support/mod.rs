//! A test harness around the sans-IO gateway engine: the gateway under test
//! with a store that keeps only the writes it made durable (each record by
//! `Record::key()`, acknowledged with `Input::Persisted`), its timers, an
//! honest ledger of its market (ISM-1 §12.1 A1), and the real relay engine
//! (`isthmus-relay`) with its own store. The other leg's gateway is played by
//! the test: its messages are built by hand from what the relay sent it.
//!
//! Nothing is delivered behind a test's back: the relay's messages for the
//! gateway under test wait in `Net::inbox`, the gateway's ledger orders come
//! back as outputs for the test to run on the ledger (or not), and what the
//! gateway sends reaches the relay only through `Net::send_to_relay`.

// Each test binary uses a part of the harness.
#![allow(dead_code)]

use std::collections::BTreeMap;

use isthmus_adapters::ledger_side::{
    Claimed, CommandResult, LedgerCommand, LedgerDone, LockId, LockOrder, Locked, Refunded,
};
use isthmus_gateway::{
    Gateway, GatewayConfig, GatewayTimer, Input, LegPhase, Output, Record, RecordKey,
    SettlementRecord, Write,
};
use isthmus_ledger::{IdempotencyKey, LedgerFailure, LedgerReason};
use isthmus_relay::{Relay, RelayConfig, RelayTimer};
use isthmus_spec::body::{
    Body, ClaimReceipt, ClaimRequest, InstructionState, InstructionStatus, JournalRef, Leg,
    LockReceipt, LockRequest, SettlementConfirmation, SettlementInstruction, SettlementProposal,
};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Counter, Hex32, MessageId, NodeId, Preimage, Reference};
use isthmus_spec::json::Json;
use isthmus_spec::protocol::{Entropy, Inbound, Outbound, Timing};
use serde_json::{json, Value};

/// The relay of every test.
pub const RELAY: &str = "relay-1.custodian";
/// The seller's gateway, and the gateway of the securities market XNYS.
pub const GW_XNYS: &str = "gw.xnys";
/// The buyer's gateway, and the gateway of the cash market XASX.
pub const GW_XASX: &str = "gw.xasx";
/// The time of the first input.
pub const T0: u64 = 1_800_000_000_000;

pub fn node(text: &str) -> NodeId {
    NodeId::parse(text).unwrap_or_else(|r| panic!("{text}: {r}"))
}

pub fn mic(text: &str) -> Mic {
    Mic::parse(text).unwrap_or_else(|r| panic!("{text}: {r}"))
}

pub fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap_or_else(|r| panic!("{text}: {r}"))
}

/// Δ = 1_100 ms, R = 500 ms; every rule of ISM-1 §12.1 item 2 holds.
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

pub fn gateways() -> BTreeMap<Mic, NodeId> {
    [(mic("XNYS"), node(GW_XNYS)), (mic("XASX"), node(GW_XASX))]
        .into_iter()
        .collect()
}

/// Randomness that is a counter: every fill differs from every other.
#[derive(Debug, Clone)]
pub struct CountingEntropy(u64);

impl Entropy for CountingEntropy {
    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            self.0 += 1;
            let bytes = self.0.to_be_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

// ----- instructions -----

pub fn instruction(body: Value) -> SettlementInstruction {
    SettlementInstruction::from_json(&body, "body").unwrap_or_else(|r| panic!("{r}"))
}

/// The seller's delivery of 1000 shares on XNYS against AUD paid on XASX.
pub fn seller() -> SettlementInstruction {
    instruction(json!({
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
    }))
}

/// The buyer's receipt of the same trade, paying from its AUD account on XASX.
pub fn buyer() -> SettlementInstruction {
    instruction(json!({
        "instruction_id": "SEME-XASX-1",
        "direction": "RECEIVE",
        "payment": "AGAINST_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": "US0378331005",
        "quantity": "1000",
        "settlement_amount": {"amount": "352140.50", "currency": "AUD"},
        "account_owner": "ANZBAU3M",
        "safekeeping_account": "SAFE-BUYER-US-3",
        "cash": {"market": "XASX", "account": "AUD-CASH-BUYER-3", "owner": "5493001KJTIIGC8Y1R12"},
        "delivering_agent": {"bic": "CHASUS33"},
        "place_of_settlement": "DTCYUS33"
    }))
}

/// Which party's gateway is under test; the test plays the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// gw.xnys, the seller's gateway, holding the securities leg.
    Seller,
    /// gw.xasx, the buyer's gateway, holding the cash leg.
    Buyer,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Seller, Side::Buyer];

    pub fn gateway(self) -> &'static str {
        match self {
            Side::Seller => GW_XNYS,
            Side::Buyer => GW_XASX,
        }
    }

    pub fn other_gateway(self) -> &'static str {
        match self {
            Side::Seller => GW_XASX,
            Side::Buyer => GW_XNYS,
        }
    }

    pub fn market(self) -> Mic {
        match self {
            Side::Seller => mic("XNYS"),
            Side::Buyer => mic("XASX"),
        }
    }

    /// The leg the gateway under test holds.
    pub fn leg(self) -> Leg {
        match self {
            Side::Seller => Leg::Securities,
            Side::Buyer => Leg::Cash,
        }
    }

    pub fn other_leg(self) -> Leg {
        match self {
            Side::Seller => Leg::Cash,
            Side::Buyer => Leg::Securities,
        }
    }

    pub fn instruction(self) -> SettlementInstruction {
        match self {
            Side::Seller => seller(),
            Side::Buyer => buyer(),
        }
    }

    pub fn other_instruction(self) -> SettlementInstruction {
        match self {
            Side::Seller => buyer(),
            Side::Buyer => seller(),
        }
    }
}

// ----- an honest ledger (ISM-1 §12.1 A1) -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockState {
    Open,
    Claimed,
    Refunded,
}

/// A ledger that keeps A1: it claims only strictly before a lock's expiry and
/// refunds only at or after it (by its clock, the harness's), settles a lock
/// at most once, and answers a repeated command with the same idempotency key
/// with its first answer, refusals included (as `isthmus-ledger` does).
#[derive(Debug, Clone)]
pub struct TestLedger {
    pub market: Mic,
    answers: BTreeMap<IdempotencyKey, (LedgerCommand, CommandResult)>,
    locks: BTreeMap<LockId, (LockOrder, LockState)>,
    next_seq: u64,
    /// Every command it was given, in order, repeats included.
    pub commands: Vec<LedgerCommand>,
    /// Refuse every new lock with this reason (a final refusal, §12.6 rule 4).
    pub refuse_locks: Option<LedgerReason>,
}

impl TestLedger {
    pub fn new(market: Mic) -> TestLedger {
        TestLedger {
            market,
            answers: BTreeMap::new(),
            locks: BTreeMap::new(),
            next_seq: 100,
            commands: Vec::new(),
            refuse_locks: None,
        }
    }

    fn journal(&mut self) -> JournalRef {
        self.next_seq += 1;
        journal(&self.market, self.next_seq)
    }

    /// Runs `command` at ledger time `now_ms`.
    pub fn execute(&mut self, now_ms: u64, command: &LedgerCommand) -> CommandResult {
        self.commands.push(command.clone());
        if let Some((first, answer)) = self.answers.get(command.key()) {
            if first == command {
                return answer.clone();
            }
            return Err(LedgerFailure::refused(
                LedgerReason::IdempotencyKeyReused,
                "the key names another command",
            ));
        }
        let refused = |reason: LedgerReason| Err(LedgerFailure::refused(reason, reason.as_str()));
        let answer = match command {
            LedgerCommand::Lock(order) => match self.refuse_locks {
                Some(reason) => refused(reason),
                None if order.expiry_ms <= now_ms => refused(LedgerReason::ExpiryInPast),
                None => {
                    let journal = self.journal();
                    let lock_id = LockId::of_entry(journal.sequence.value());
                    self.locks.insert(lock_id, (order.clone(), LockState::Open));
                    Ok(LedgerDone::Locked(Locked {
                        lock_id,
                        hashlock: order.hashlock.clone(),
                        expiry_ms: order.expiry_ms,
                        journal,
                    }))
                }
            },
            LedgerCommand::Claim(order) => match self.locks.get(&order.lock_id).cloned() {
                None => refused(LedgerReason::LockUnknown),
                Some((_, state)) if state != LockState::Open => refused(LedgerReason::LockSettled),
                Some((lock, _)) if now_ms >= lock.expiry_ms => refused(LedgerReason::LockExpired),
                Some((lock, _)) if !order.preimage.opens(&lock.hashlock) => {
                    refused(LedgerReason::PreimageMismatch)
                }
                Some((lock, _)) => {
                    self.locks
                        .insert(order.lock_id, (lock.clone(), LockState::Claimed));
                    Ok(LedgerDone::Claimed(Claimed {
                        lock_id: order.lock_id,
                        hashlock: lock.hashlock.clone(),
                        preimage: order.preimage.clone(),
                        journal: self.journal(),
                    }))
                }
            },
            LedgerCommand::Refund(order) => match self.locks.get(&order.lock_id).cloned() {
                None => refused(LedgerReason::LockUnknown),
                Some((_, state)) if state != LockState::Open => refused(LedgerReason::LockSettled),
                Some((lock, _)) if now_ms < lock.expiry_ms => refused(LedgerReason::LockNotExpired),
                Some((lock, _)) => {
                    self.locks
                        .insert(order.lock_id, (lock.clone(), LockState::Refunded));
                    Ok(LedgerDone::Refunded(Refunded {
                        lock_id: order.lock_id,
                        journal: self.journal(),
                    }))
                }
            },
        };
        self.answers
            .insert(command.key().clone(), (command.clone(), answer.clone()));
        answer
    }

    /// How many locks it made.
    pub fn locks_made(&self) -> usize {
        self.locks.len()
    }

    /// How many locks it claimed, and how many it refunded.
    pub fn settled(&self) -> (usize, usize) {
        let count = |wanted| self.locks.values().filter(|(_, s)| *s == wanted).count();
        (count(LockState::Claimed), count(LockState::Refunded))
    }
}

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

/// A ledger answer that is not final (the ledger could not tell).
pub fn outcome_unknown() -> CommandResult {
    Err(LedgerFailure::unknown(
        LedgerReason::StoreFailed,
        "the store failed under the write; repeat with the same key",
    ))
}

// ----- the gateway under test, with its store and timers -----

/// The gateway with what a store and a timer wheel around it would hold.
pub struct GwRig {
    pub gateway: Gateway,
    pub config: GatewayConfig,
    pub entropy: CountingEntropy,
    /// The gateway's clock.
    pub now: u64,
    /// The latest record per key, from durable writes only.
    pub store: BTreeMap<RecordKey, Record>,
    /// The timers it set, by when they are due.
    pub timers: BTreeMap<GatewayTimer, u64>,
    /// Writes that came out and were never made durable (lost in a crash).
    pub lost_writes: Vec<Write>,
    messages: u64,
}

impl GwRig {
    pub fn new(side: Side) -> GwRig {
        let config = GatewayConfig {
            node: node(side.gateway()),
            market: side.market(),
            relays: vec![node(RELAY)],
            gateways: gateways(),
            timing: timing(),
        };
        assert_eq!(config.check(), Ok(()), "the test configuration is valid");
        GwRig {
            gateway: Gateway::new(config.clone()),
            config,
            entropy: CountingEntropy(1 << 40),
            now: T0,
            store: BTreeMap::new(),
            timers: BTreeMap::new(),
            lost_writes: Vec::new(),
            messages: 0,
        }
    }

    /// Hands `input` to the gateway now; every write is persisted and
    /// acknowledged as it comes out. Returns every output, writes included.
    pub fn input(&mut self, input: Input) -> Vec<Output> {
        let now = self.now;
        self.gateway.handle(now, input, &mut self.entropy);
        self.drain()
    }

    /// Polls until the gateway has nothing more, as a shell would.
    pub fn drain(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        while let Some(output) = self.gateway.poll() {
            match &output {
                Output::Persist(write) => {
                    for record in &write.records {
                        self.store.insert(record.key(), stored(record));
                    }
                    let now = self.now;
                    self.gateway
                        .handle(now, Input::Persisted(write.id), &mut self.entropy);
                }
                Output::SetTimer { timer, at_ms } => {
                    self.timers.insert(timer.clone(), *at_ms);
                }
                _ => {}
            }
            out.push(output);
        }
        out
    }

    /// Hands `input` to the gateway, and the node crashes before the store
    /// has made its write durable: the write never reaches the store and
    /// `Input::Persisted` never comes. Returns what the gateway put out
    /// meanwhile (its writes, and nothing they would have released).
    pub fn input_then_crash(&mut self, input: Input) -> Vec<Output> {
        let now = self.now;
        self.gateway.handle(now, input, &mut self.entropy);
        let mut out = Vec::new();
        while let Some(output) = self.gateway.poll() {
            if let Output::Persist(write) = &output {
                self.lost_writes.push(write.clone());
            }
            out.push(output);
        }
        out
    }

    /// A message from `sender` with a fresh id.
    pub fn message(&mut self, sender: &str, body: Body) -> Inbound {
        self.messages += 1;
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.messages.to_be_bytes());
        random[8] = 0x99;
        Inbound {
            sender: node(sender),
            id: MessageId::new_v7(self.now, random),
            body,
        }
    }

    pub fn deliver(&mut self, message: Inbound) -> Vec<Output> {
        self.input(Input::Message(message))
    }

    /// Sends `body` from `sender` in a new message.
    pub fn receive(&mut self, sender: &str, body: Body) -> Vec<Output> {
        let message = self.message(sender, body);
        self.deliver(message)
    }

    /// Runs the one ledger order in `outputs` on `ledger` now and hands the
    /// gateway its answer. Panics unless there is exactly one order.
    pub fn run_ledger(&mut self, ledger: &mut TestLedger, outputs: &[Output]) -> Vec<Output> {
        let orders = ledger_orders(outputs);
        assert_eq!(orders.len(), 1, "one ledger order in {outputs:#?}");
        let (settlement_id, leg, command) = orders.into_iter().next().unwrap_or_else(|| {
            unreachable!();
        });
        let result = ledger.execute(self.now, &command);
        self.input(Input::Ledger {
            settlement_id,
            leg,
            result,
        })
    }

    /// Hands the gateway the ledger's `result` for the one order in `outputs`.
    pub fn answer(&mut self, outputs: &[Output], result: CommandResult) -> Vec<Output> {
        let orders = ledger_orders(outputs);
        assert_eq!(orders.len(), 1, "one ledger order in {outputs:#?}");
        let (settlement_id, leg, _) = orders.into_iter().next().unwrap_or_else(|| {
            unreachable!();
        });
        self.input(Input::Ledger {
            settlement_id,
            leg,
            result,
        })
    }

    /// Fires `timer` now, whether or not it is due.
    pub fn fire(&mut self, timer: GatewayTimer) -> Vec<Output> {
        self.timers.remove(&timer);
        self.input(Input::Timer(timer))
    }

    /// Moves the clock to `until`, firing every timer due by then, in order.
    pub fn advance_to(&mut self, until: u64) -> Vec<Output> {
        let mut out = Vec::new();
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
            out.extend(self.fire(timer));
        }
        self.now = self.now.max(until);
        out
    }

    pub fn advance_by(&mut self, ms: u64) -> Vec<Output> {
        self.advance_to(self.now + ms)
    }

    /// The node crashed and comes back now: a fresh gateway rebuilt from the
    /// store alone (ISM-1 §12.10 item 1), every timer of the dead one gone.
    /// Returns `resume`'s outputs only.
    pub fn restore_and_resume(&mut self) -> Vec<Output> {
        self.gateway = Gateway::restore(self.config.clone(), self.store.values().cloned());
        self.timers.clear();
        let now = self.now;
        self.gateway.resume(now);
        self.drain()
    }

    /// [`GwRig::restore_and_resume`], then every timer due now fires ("a
    /// timer whose instant passed fires at once"). Returns all the outputs.
    pub fn restart(&mut self) -> Vec<Output> {
        let mut out = self.restore_and_resume();
        let now = self.now;
        out.extend(self.advance_to(now));
        out
    }

    /// The persisted record of settlement `id`.
    pub fn stored_settlement(&self, id: &Reference) -> Option<SettlementRecord> {
        self.store.values().find_map(|record| match record {
            Record::Settlement(s) if s.id() == id => Some((**s).clone()),
            _ => None,
        })
    }

    /// The persisted phase of `leg` of settlement `id`.
    pub fn stored_phase(&self, id: &Reference, leg: Leg) -> Option<LegPhase> {
        self.stored_settlement(id)
            .and_then(|s| s.leg(leg).map(|l| l.phase))
    }

    /// The phase of `leg` of settlement `id` in the running gateway.
    pub fn phase(&self, id: &Reference, leg: Leg) -> Option<LegPhase> {
        self.gateway
            .settlement(id)
            .and_then(|s| s.leg(leg).map(|l| l.phase))
    }
}

// ----- the relay, with its store and timers -----

/// The real relay engine with what a store and a timer wheel would hold.
pub struct RelayRig {
    pub relay: Relay,
    pub entropy: CountingEntropy,
    pub now: u64,
    pub store: BTreeMap<isthmus_relay::RecordKey, isthmus_relay::Record>,
    pub timers: BTreeMap<RelayTimer, u64>,
}

impl RelayRig {
    pub fn new() -> RelayRig {
        let config = RelayConfig {
            node: node(RELAY),
            gateways: gateways(),
            timing: timing(),
            settlement_prefix: "STL".to_string(),
        };
        assert_eq!(config.check(), Ok(()), "the test configuration is valid");
        RelayRig {
            relay: Relay::new(config),
            entropy: CountingEntropy(1 << 50),
            now: T0,
            store: BTreeMap::new(),
            timers: BTreeMap::new(),
        }
    }

    pub fn input(&mut self, input: isthmus_relay::Input) -> Vec<Outbound> {
        let now = self.now;
        self.relay.handle(now, input, &mut self.entropy);
        let mut sent = Vec::new();
        while let Some(output) = self.relay.poll() {
            match output {
                isthmus_relay::Output::Persist(write) => {
                    for record in &write.records {
                        self.store.insert(record.key(), record.clone());
                    }
                    let now = self.now;
                    self.relay.handle(
                        now,
                        isthmus_relay::Input::Persisted(write.id),
                        &mut self.entropy,
                    );
                }
                isthmus_relay::Output::Send(outbound) => sent.push(outbound),
                isthmus_relay::Output::SetTimer { timer, at_ms } => {
                    self.timers.insert(timer, at_ms);
                }
            }
        }
        sent
    }

    pub fn advance_to(&mut self, until: u64) -> Vec<Outbound> {
        let mut sent = Vec::new();
        loop {
            let due = self
                .timers
                .iter()
                .filter(|(_, at)| **at <= until)
                .min_by_key(|(timer, at)| (**at, (*timer).clone()))
                .map(|(timer, at)| (timer.clone(), *at));
            let Some((timer, at)) = due else { break };
            self.now = self.now.max(at);
            self.timers.remove(&timer);
            sent.extend(self.input(isthmus_relay::Input::Timer(timer)));
        }
        self.now = self.now.max(until);
        sent
    }

    /// The secret the relay persisted for settlement `id`, if it has it.
    pub fn secret(&self, id: &Reference) -> Option<Preimage> {
        self.relay.settlement(id).and_then(|s| s.secret.clone())
    }
}

impl Default for RelayRig {
    fn default() -> Self {
        RelayRig::new()
    }
}

// ----- the network: the gateway under test, its ledger, the relay -----

/// The gateway under test, its ledger, the real relay, and the messages in
/// flight. The other leg's gateway is the test.
pub struct Net {
    pub side: Side,
    pub gw: GwRig,
    pub ledger: TestLedger,
    pub relay: RelayRig,
    /// Messages for the gateway under test, not yet delivered.
    pub inbox: Vec<Inbound>,
    /// Messages the relay sent the other gateway (which the test plays).
    pub other_inbox: Vec<Outbound>,
    /// The other gateway's LockReceipt, once it has "locked".
    pub other_lock: Option<LockReceipt>,
}

impl Net {
    pub fn new(side: Side) -> Net {
        Net {
            side,
            gw: GwRig::new(side),
            ledger: TestLedger::new(side.market()),
            relay: RelayRig::new(),
            inbox: Vec::new(),
            other_inbox: Vec::new(),
            other_lock: None,
        }
    }

    /// One clock for everyone: the relay catches up with the gateway.
    fn sync(&mut self) {
        self.relay.now = self.relay.now.max(self.gw.now);
        self.gw.now = self.relay.now;
    }

    fn route(&mut self, sent: Vec<Outbound>) {
        for outbound in sent {
            if outbound.to == node(self.side.gateway()) {
                self.inbox.push(Inbound {
                    sender: node(RELAY),
                    id: outbound.id,
                    body: outbound.body,
                });
            } else {
                self.other_inbox.push(outbound);
            }
        }
    }

    /// Delivers every message in `outputs` that the gateway under test sent
    /// the relay, and routes the relay's answers.
    pub fn send_to_relay(&mut self, outputs: &[Output]) {
        self.sync();
        let sender = node(self.side.gateway());
        for outbound in sends_to(outputs, RELAY) {
            let message = Inbound {
                sender: sender.clone(),
                id: outbound.id.clone(),
                body: outbound.body.clone(),
            };
            let sent = self.relay.input(isthmus_relay::Input::Message(message));
            self.route(sent);
        }
    }

    /// The other gateway sends `body` to the relay.
    pub fn other_sends_to_relay(&mut self, body: Body) {
        self.sync();
        let mut random = [0u8; 10];
        self.relay.entropy.fill(&mut random);
        let message = Inbound {
            sender: node(self.side.other_gateway()),
            id: MessageId::new_v7(self.relay.now, random),
            body,
        };
        let sent = self.relay.input(isthmus_relay::Input::Message(message));
        self.route(sent);
    }

    /// Takes the messages for the gateway under test that `pick` chooses.
    pub fn take(&mut self, pick: impl Fn(&Body) -> bool) -> Vec<Inbound> {
        let (taken, kept) = std::mem::take(&mut self.inbox)
            .into_iter()
            .partition(|message| pick(&message.body));
        self.inbox = kept;
        taken
    }

    /// Takes the one message `pick` chooses.
    pub fn take_one(&mut self, pick: impl Fn(&Body) -> bool) -> Inbound {
        let taken = self.take(pick);
        assert_eq!(
            taken.len(),
            1,
            "one such message for the gateway: {taken:#?}"
        );
        taken.into_iter().next().unwrap_or_else(|| unreachable!())
    }

    /// Delivers every waiting message to the gateway, in order.
    pub fn deliver_all(&mut self) -> Vec<Output> {
        self.sync();
        let mut out = Vec::new();
        for message in std::mem::take(&mut self.inbox) {
            out.extend(self.gw.deliver(message));
        }
        out
    }

    /// Moves everyone's clock to `until`, firing the relay's timers (their
    /// messages are routed, not delivered) and then the gateway's.
    pub fn advance_relay_to(&mut self, until: u64) {
        self.sync();
        let sent = self.relay.advance_to(until);
        self.route(sent);
    }

    /// The LockRequest the relay sent for the other leg.
    fn other_lock_request(&self) -> LockRequest {
        let leg = self.side.other_leg();
        let found: Vec<&LockRequest> = self
            .other_inbox
            .iter()
            .filter_map(|o| match &o.body {
                Body::LockRequest(r) if r.leg == leg => Some(r),
                _ => None,
            })
            .collect();
        assert!(
            !found.is_empty(),
            "a {leg} LockRequest to the other gateway"
        );
        found[0].clone()
    }

    /// The other gateway locks its leg and tells the relay.
    pub fn other_locks(&mut self) -> LockReceipt {
        let request = self.other_lock_request();
        let receipt = LockReceipt {
            settlement_id: request.settlement_id.clone(),
            leg: request.leg,
            lock_id: reference("HTLC-9001"),
            hashlock: request.hashlock.clone(),
            expires_at: request.expires_at.clone(),
            journal: journal(&request.market, 9_001),
        };
        self.other_lock = Some(receipt.clone());
        self.other_sends_to_relay(Body::LockReceipt(receipt.clone()));
        receipt
    }

    /// The other gateway's ClaimReceipt for its leg, opened with `preimage`.
    pub fn other_claim_receipt(&self, preimage: &Preimage) -> ClaimReceipt {
        let lock = self
            .other_lock
            .clone()
            .unwrap_or_else(|| panic!("the other gateway has not locked"));
        ClaimReceipt {
            settlement_id: lock.settlement_id.clone(),
            leg: lock.leg,
            lock_id: lock.lock_id.clone(),
            hashlock: lock.hashlock.clone(),
            preimage: preimage.clone(),
            journal: journal(&lock.journal.market, 9_002),
        }
    }

    /// The ClaimRequest the relay sent the other gateway, if any.
    pub fn other_claim_request(&self) -> Option<ClaimRequest> {
        self.other_inbox.iter().find_map(|o| match &o.body {
            Body::ClaimRequest(r) => Some(r.clone()),
            _ => None,
        })
    }
}

// ----- stages: each reached through real inputs only -----

/// The gateway under test, instructed and its instruction at the relay: the
/// relay's ACCEPTED status waits in the inbox.
pub fn instructed(side: Side) -> Net {
    let mut net = Net::new(side);
    let out = net.gw.input(Input::Submit {
        instruction: side.instruction(),
        relay: node(RELAY),
    });
    net.send_to_relay(&out);
    net
}

/// A settlement matched and the gateway's LockRequest handled: the leg is
/// `LOCK_INTENDED`, the lock order is out (returned, not run).
pub struct LockIntended {
    pub net: Net,
    pub id: Reference,
    pub proposal: SettlementProposal,
    pub request: LockRequest,
    /// The outputs of the LockRequest, with the lock order.
    pub outputs: Vec<Output>,
}

pub fn lock_intended(side: Side) -> LockIntended {
    let mut net = instructed(side);
    net.deliver_all(); // ACCEPTED
    net.gw.now += 10;
    net.other_sends_to_relay(Body::SettlementInstruction(side.other_instruction()));
    let proposal_message = net.take_one(|b| matches!(b, Body::SettlementProposal(_)));
    let proposal = match &proposal_message.body {
        Body::SettlementProposal(p) => p.clone(),
        _ => unreachable!(),
    };
    let lock = net.take_one(|b| matches!(b, Body::LockRequest(_)));
    let request = match &lock.body {
        Body::LockRequest(r) => r.clone(),
        _ => unreachable!(),
    };
    assert_eq!(request.leg, side.leg());
    net.deliver_all(); // MATCHED
    net.gw.deliver(proposal_message);
    let outputs = net.gw.deliver(lock);
    assert_eq!(
        ledger_orders(&outputs).len(),
        1,
        "the LockRequest orders the lock: {outputs:#?}"
    );
    LockIntended {
        id: proposal.settlement_id.clone(),
        net,
        proposal,
        request,
        outputs,
    }
}

/// The leg `LOCKED`, its LockReceipt at the relay. With `reveal`, the other
/// leg is locked too and the relay's ClaimRequest for this leg waits in the
/// inbox (for the seller, after the buyer's cash claim); without, the other
/// gateway never locks.
pub struct LockedLeg {
    pub net: Net,
    pub id: Reference,
    pub request: LockRequest,
    pub lock_order: LockOrder,
    /// The outputs of the ledger's lock answer.
    pub outputs: Vec<Output>,
    /// p, when revealed.
    pub secret: Option<Preimage>,
}

pub fn locked(side: Side, reveal: bool) -> LockedLeg {
    let LockIntended {
        mut net,
        id,
        request,
        outputs,
        ..
    } = lock_intended(side);
    let lock_order = match &ledger_orders(&outputs)[0].2 {
        LedgerCommand::Lock(order) => order.clone(),
        other => panic!("a lock order, not {other:?}"),
    };
    net.gw.now += 10;
    let outputs = net.gw.run_ledger(&mut net.ledger, &outputs);
    assert_eq!(net.gw.phase(&id, side.leg()), Some(LegPhase::Locked));
    net.send_to_relay(&outputs);
    let mut secret = None;
    if reveal {
        net.gw.now += 10;
        net.other_locks();
        if side == Side::Seller {
            // The cash leg's ClaimRequest went to the buyer's gateway; it claims.
            let request = net
                .other_claim_request()
                .unwrap_or_else(|| panic!("the relay reveals to the cash leg's gateway"));
            let receipt = net.other_claim_receipt(&request.preimage);
            net.other_sends_to_relay(Body::ClaimReceipt(receipt));
        }
        let claim = net
            .inbox
            .iter()
            .find_map(|m| match &m.body {
                Body::ClaimRequest(r) => Some(r.preimage.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("the relay's ClaimRequest for the {} leg", side.leg()));
        secret = Some(claim);
    }
    LockedLeg {
        net,
        id,
        request,
        lock_order,
        outputs,
        secret,
    }
}

// ----- reading outputs -----

pub fn writes(outputs: &[Output]) -> Vec<&Write> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Persist(w) => Some(w),
            _ => None,
        })
        .collect()
}

pub fn sends(outputs: &[Output]) -> Vec<&Outbound> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send(outbound) => Some(outbound),
            _ => None,
        })
        .collect()
}

pub fn sends_to<'a>(outputs: &'a [Output], to: &str) -> Vec<&'a Outbound> {
    let to = node(to);
    sends(outputs).into_iter().filter(|o| o.to == to).collect()
}

pub fn ledger_orders(outputs: &[Output]) -> Vec<(Reference, Leg, LedgerCommand)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Ledger {
                settlement_id,
                leg,
                command,
            } => Some((settlement_id.clone(), *leg, command.clone())),
            _ => None,
        })
        .collect()
}

pub fn notices(outputs: &[Output]) -> Vec<(Reference, usize, Body)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Notify {
                instruction_id,
                index,
                body,
            } => Some((instruction_id.clone(), *index, body.clone())),
            _ => None,
        })
        .collect()
}

pub fn timers_set(outputs: &[Output]) -> Vec<(GatewayTimer, u64)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::SetTimer { timer, at_ms } => Some((timer.clone(), *at_ms)),
            _ => None,
        })
        .collect()
}

pub fn instructions_sent(outputs: &[Output]) -> Vec<SettlementInstruction> {
    sends_to(outputs, RELAY)
        .into_iter()
        .filter_map(|o| match &o.body {
            Body::SettlementInstruction(i) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

pub fn claim_receipts_to(outputs: &[Output], to: &str) -> Vec<ClaimReceipt> {
    sends_to(outputs, to)
        .into_iter()
        .filter_map(|o| match &o.body {
            Body::ClaimReceipt(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub fn error_codes(outputs: &[Output]) -> Vec<(NodeId, String, Option<MessageId>)> {
    sends(outputs)
        .into_iter()
        .filter_map(|o| match &o.body {
            Body::Error(e) => Some((
                o.to.clone(),
                e.code.as_str().to_string(),
                e.related_message_id.clone(),
            )),
            _ => None,
        })
        .collect()
}

pub fn status_of(body: &Body) -> Option<&InstructionStatus> {
    match body {
        Body::InstructionStatus(s) => Some(s),
        _ => None,
    }
}

pub fn confirmation_of(body: &Body) -> Option<&SettlementConfirmation> {
    match body {
        Body::SettlementConfirmation(c) => Some(c),
        _ => None,
    }
}

pub fn is_status(body: &Body, state: InstructionState) -> bool {
    status_of(body).is_some_and(|s| s.status == state)
}

/// A record as a node's store gives it back: written as JSON and read again
/// (the node stores do this), which must change nothing.
pub fn stored(record: &isthmus_gateway::Record) -> isthmus_gateway::Record {
    let text = serde_json::to_vec(record).expect("a record serialises");
    let back: isthmus_gateway::Record =
        serde_json::from_slice(&text).expect("a stored record reads back");
    assert_eq!(&back, record, "a record changed through its stored form");
    back
}
