//! The relay engine: a sans-IO state machine (ISM-1 §12.4–§12.5, §12.8–§12.10).
//!
//! The shell feeds it [`Input`]s with the relay's clock and a source of
//! randomness, and drains [`Output`]s with [`Relay::poll`]. A transition's
//! records come out first as one [`Write`]; the messages it causes come out
//! only after the shell has reported that write durable
//! ([`Input::Persisted`]), so nothing is sent that a crash could take back
//! (ISM-1 §12.9).

use std::collections::{BTreeMap, VecDeque};

use isthmus_spec::body::{
    Body, ClaimReceipt, ClaimRequest, ErrorBody, InstructionState, InstructionStatus, Leg,
    LegTerms, LockReceipt, LockRequest, Payment, Reason, RefundReceipt, SecuritiesAmount,
    SettlementConfirmation, SettlementInstruction, SettlementProposal,
};
use isthmus_spec::ids::{MessageId, NodeId, Preimage, Reference};
use isthmus_spec::legs::settlement_legs;
use isthmus_spec::protocol::{error_body, reason, Entropy, Inbound, Outbound, SettlementReason};
use isthmus_spec::time::Timestamp;

use crate::config::RelayConfig;
use crate::matching::{as_pair, first_difference, is_candidate};
use crate::records::{
    expiry_ms, InstructionKey, InstructionRecord, LegRecord, Phase, Record, SettlementRecord, Write,
};

/// Something that happened to the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // built once per step and moved, never stored in bulk
pub enum Input {
    /// A message, decoded and authenticated (ISM-1 §8.4 steps 1–5).
    Message(Inbound),
    /// A timer the relay set is due.
    Timer(RelayTimer),
    /// Every write up to and including this id is durable.
    Persisted(u64),
}

/// A timer of the relay; setting one again moves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelayTimer {
    /// An instruction's matching cut-off (ISM-1 §12.3 rule 1).
    Instruction(InstructionKey),
    /// A settlement's next deadline or repetition (ISM-1 §12.3, §12.8).
    Settlement(Reference),
}

/// What the relay asks of its shell.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // built once per step and moved, never stored in bulk
pub enum Output {
    /// Persist these records atomically, then report [`Input::Persisted`].
    Persist(Write),
    /// Send a message.
    Send(Outbound),
    /// Deliver [`Input::Timer`] at or after `at_ms` (relay clock).
    SetTimer {
        /// Which timer.
        timer: RelayTimer,
        /// When.
        at_ms: u64,
    },
}

/// Counts of what the relay did, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Settlements that reached `SETTLED`.
    pub settled: u64,
    /// Settlements that reached `ABORTED`.
    pub aborted: u64,
    /// Messages refused with an Error.
    pub refused: u64,
}

/// The relay engine. Cloneable, and its `Debug` form is canonical
/// (ordered maps only), so that a model checker can copy a state and tell
/// two states apart by it; iteration in key order also keeps a restart's
/// outputs in one order from run to run.
#[derive(Debug, Clone)]
pub struct Relay {
    config: RelayConfig,
    instructions: BTreeMap<InstructionKey, InstructionRecord>,
    /// Waiting instructions by arrival (ISM-1 §12.4 rule 4: the first received wins).
    waiting: BTreeMap<u64, InstructionKey>,
    settlements: BTreeMap<Reference, SettlementRecord>,
    /// The LockRequests sent since start, to recognise the Errors answering them.
    lock_requests: BTreeMap<MessageId, (Reference, Leg)>,
    next_arrival: u64,
    next_settlement: u64,
    writes: VecDeque<Write>,
    actions: VecDeque<(u64, Output)>,
    next_write: u64,
    durable: u64,
    stats: RelayStats,
    #[cfg(feature = "broken-variants")]
    broken: Option<RelayBroken>,
}

/// Deliberately broken relays, so that the simulator shows it catches each
/// (issue 11 step 6). Only with the `broken-variants` feature, for tests.
#[cfg(feature = "broken-variants")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelayBroken {
    /// Reveals p as soon as one leg is locked.
    RevealBeforeBothLocks,
    /// Ignores Δ: T1 soon after matching, T2 one millisecond later, no reveal margin.
    IgnoreDelta,
    /// Sends before the write that explains the message is durable.
    SendsBeforePersisting,
}

/// What one transition collects before it is queued.
#[derive(Default)]
struct Step {
    records: Vec<Record>,
    actions: Vec<Output>,
    cause: Option<(NodeId, MessageId)>,
}

impl Relay {
    /// A relay with nothing persisted yet. The configuration must have
    /// passed [`RelayConfig::check`].
    pub fn new(config: RelayConfig) -> Relay {
        Relay {
            config,
            instructions: BTreeMap::new(),
            waiting: BTreeMap::new(),
            settlements: BTreeMap::new(),
            lock_requests: BTreeMap::new(),
            next_arrival: 0,
            next_settlement: 1,
            writes: VecDeque::new(),
            actions: VecDeque::new(),
            next_write: 1,
            durable: 0,
            stats: RelayStats::default(),
            #[cfg(feature = "broken-variants")]
            broken: None,
        }
    }

    /// A relay rebuilt from its store alone (ISM-1 §12.10 item 1); call
    /// [`Relay::resume`] next to set its timers and repeat what it waits on.
    pub fn restore(config: RelayConfig, records: impl IntoIterator<Item = Record>) -> Relay {
        let mut relay = Relay::new(config);
        for record in records {
            match record {
                Record::Instruction(record) => {
                    relay.next_arrival = relay.next_arrival.max(record.arrival + 1);
                    if record.is_waiting() {
                        relay.waiting.insert(record.arrival, record.key.clone());
                    }
                    relay.instructions.insert(record.key.clone(), *record);
                }
                Record::Settlement(record) => {
                    if let Some(seq) = settlement_seq(&relay.config, &record.id) {
                        relay.next_settlement = relay.next_settlement.max(seq + 1);
                    }
                    relay.settlements.insert(record.id.clone(), *record);
                }
            }
        }
        relay
    }

    /// Sets every timer of what is not final, due now or later (ISM-1 §12.10 item 1).
    pub fn resume(&mut self, now_ms: u64) {
        let mut step = Step::default();
        let waiting: Vec<InstructionKey> = self.waiting.values().cloned().collect();
        for key in waiting {
            if let Some(record) = self.instructions.get(&key) {
                step.actions.push(Output::SetTimer {
                    timer: RelayTimer::Instruction(key),
                    at_ms: record.received_at_ms + self.config.timing.matching_window_ms,
                });
            }
        }
        let mut open: Vec<&SettlementRecord> = self
            .settlements
            .values()
            .filter(|s| !s.phase.is_final())
            .collect();
        open.sort_by(|a, b| a.id.cmp(&b.id));
        for settlement in open {
            step.actions.push(Output::SetTimer {
                timer: RelayTimer::Settlement(settlement.id.clone()),
                at_ms: now_ms,
            });
        }
        self.queue(step);
    }

    /// The next output, if any: writes first, then the actions they release.
    pub fn poll(&mut self) -> Option<Output> {
        if self.is_broken(RelayBroken::SendsBeforePersisting) {
            if let Some((_, action)) = self.actions.pop_front() {
                return Some(action);
            }
        }
        if let Some(write) = self.writes.pop_front() {
            return Some(Output::Persist(write));
        }
        match self.actions.front() {
            Some((gate, _)) if *gate <= self.durable => self.actions.pop_front().map(|(_, a)| a),
            _ => None,
        }
    }

    /// Makes this relay one of the broken variants (tests only).
    #[cfg(feature = "broken-variants")]
    pub fn set_broken(&mut self, broken: Option<RelayBroken>) {
        self.broken = broken;
    }

    /// Whether this relay is the broken variant `variant`: never, without
    /// the `broken-variants` feature. One function for both builds, so that
    /// a mutation test tells its mutants apart by name.
    fn is_broken(&self, variant: RelayBroken) -> bool {
        #[cfg(feature = "broken-variants")]
        return self.broken == Some(variant);
        #[cfg(not(feature = "broken-variants"))]
        {
            let _ = variant;
            false
        }
    }

    /// The expiries of the broken variant that ignores Δ: T1 soon after
    /// matching, T2 one millisecond later; `None` for every other relay.
    fn ignore_delta_expiries(&self, now_ms: u64) -> Option<(u64, u64)> {
        if !self.is_broken(RelayBroken::IgnoreDelta) {
            return None;
        }
        let t1 = now_ms + self.config.timing.lock_window_ms / 10;
        Some((t1, t1 + 1))
    }

    /// What the relay has done so far.
    pub fn stats(&self) -> RelayStats {
        self.stats
    }

    /// A settlement's record, for reports and tests.
    pub fn settlement(&self, id: &Reference) -> Option<&SettlementRecord> {
        self.settlements.get(id)
    }

    /// Every settlement's record, in no particular order.
    pub fn settlements(&self) -> impl Iterator<Item = &SettlementRecord> {
        self.settlements.values()
    }

    /// An instruction's record.
    pub fn instruction(&self, key: &InstructionKey) -> Option<&InstructionRecord> {
        self.instructions.get(key)
    }

    /// Handles one input at relay time `now_ms`.
    pub fn handle(&mut self, now_ms: u64, input: Input, entropy: &mut dyn Entropy) {
        let mut step = Step::default();
        match input {
            Input::Persisted(id) => {
                self.durable = self.durable.max(id);
                return;
            }
            Input::Timer(RelayTimer::Instruction(key)) => {
                self.on_cut_off(now_ms, &key, &mut step, entropy)
            }
            Input::Timer(RelayTimer::Settlement(id)) => {
                self.on_settlement_timer(now_ms, &id, &mut step, entropy)
            }
            Input::Message(message) => self.on_message(now_ms, message, &mut step, entropy),
        }
        self.queue(step);
    }

    fn queue(&mut self, step: Step) {
        if !step.records.is_empty() {
            let id = self.next_write;
            self.next_write += 1;
            self.writes.push_back(Write {
                id,
                records: step.records,
                cause: step.cause,
            });
        }
        // An action waits for every write issued before it, so that nothing
        // goes out ahead of the state that explains it.
        let gate = self.next_write - 1;
        for action in step.actions {
            self.actions.push_back((gate, action));
        }
    }

    fn send(
        &self,
        step: &mut Step,
        to: &NodeId,
        body: Body,
        now_ms: u64,
        entropy: &mut dyn Entropy,
    ) -> MessageId {
        let outbound = Outbound::new(to.clone(), body, now_ms, entropy);
        let id = outbound.id.clone();
        step.actions.push(Output::Send(outbound));
        id
    }

    fn refuse(
        &mut self,
        step: &mut Step,
        message: &Inbound,
        code: SettlementReason,
        text: &str,
        now_ms: u64,
        entropy: &mut dyn Entropy,
    ) {
        self.stats.refused += 1;
        // No Error answers an Error (ISM-1 §6.10).
        if matches!(message.body, Body::Error(_)) {
            return;
        }
        let body = Body::Error(error_body(code.as_str(), text, Some(&message.id)));
        self.send(step, &message.sender, body, now_ms, entropy);
    }

    fn on_message(
        &mut self,
        now_ms: u64,
        message: Inbound,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        match &message.body {
            Body::SettlementInstruction(instruction) => {
                let instruction = instruction.clone();
                self.on_instruction(now_ms, &message, instruction, step, entropy)
            }
            Body::LockReceipt(receipt) => {
                let receipt = receipt.clone();
                self.on_lock_receipt(now_ms, &message, receipt, step, entropy)
            }
            Body::ClaimReceipt(receipt) => {
                let receipt = receipt.clone();
                self.on_claim_receipt(now_ms, &message, receipt, step, entropy)
            }
            Body::RefundReceipt(receipt) => {
                let receipt = receipt.clone();
                self.on_refund_receipt(now_ms, &message, receipt, step, entropy)
            }
            Body::Error(error) => {
                let error = error.clone();
                self.on_error(now_ms, &message, &error, step, entropy)
            }
            other => {
                let text = format!("a relay takes no {} message", other.kind());
                self.refuse(
                    step,
                    &message,
                    SettlementReason::StateConflict,
                    &text,
                    now_ms,
                    entropy,
                )
            }
        }
    }

    // ----- instructions and matching (ISM-1 §12.4) -----

    fn on_instruction(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        instruction: SettlementInstruction,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        if !self.config.is_gateway(&message.sender) {
            let text = format!(
                "{} is not a gateway of this network; only gateways instruct",
                message.sender
            );
            return self.refuse(
                step,
                message,
                SettlementReason::SenderNotParty,
                &text,
                now_ms,
                entropy,
            );
        }
        let key = InstructionKey {
            gateway: message.sender.clone(),
            instruction_id: instruction.instruction_id.clone(),
        };
        if let Some(known) = self.instructions.get(&key) {
            if known.instruction == instruction {
                // A repeat: its current status again, or the settlement's
                // final word once there is one; nothing else (rule 1, §12.8).
                let status = status_of(known);
                let settlement = known
                    .settlement_id
                    .as_ref()
                    .and_then(|id| self.settlements.get(id))
                    .filter(|settlement| settlement.phase.is_final())
                    .cloned();
                match settlement {
                    Some(settlement) => {
                        self.send_final_word(now_ms, &settlement, Some(&key.gateway), step, entropy)
                    }
                    None => {
                        self.send(step, &key.gateway, status, now_ms, entropy);
                    }
                }
            } else {
                let text = format!(
                    "instruction id {} was used before by {} for another instruction; a new instruction needs a new id",
                    key.instruction_id, key.gateway
                );
                self.refuse(
                    step,
                    message,
                    SettlementReason::InstructionIdReused,
                    &text,
                    now_ms,
                    entropy,
                );
            }
            return;
        }
        step.cause = Some((message.sender.clone(), message.id.clone()));
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        let mut record = InstructionRecord {
            key: key.clone(),
            message_id: message.id.clone(),
            instruction,
            arrival,
            received_at_ms: now_ms,
            status: InstructionState::Accepted,
            reason: None,
            settlement_id: None,
        };

        // Candidates in order of arrival (rule 4: the first received wins).
        let mut first_candidate: Option<(InstructionKey, SettlementReason)> = None;
        let mut matched: Option<InstructionKey> = None;
        for other_key in self.waiting.values() {
            let Some(other) = self.instructions.get(other_key) else {
                continue;
            };
            if !is_candidate(&record.instruction, &other.instruction) {
                continue;
            }
            match first_difference(&record.instruction, &other.instruction) {
                None => {
                    matched = Some(other_key.clone());
                    break;
                }
                Some(difference) => {
                    if first_candidate.is_none() {
                        first_candidate = Some((other_key.clone(), difference));
                    }
                }
            }
        }

        if let Some(other_key) = matched {
            let other = self.instructions.get(&other_key).cloned();
            if let Some(other) = other {
                self.try_match(now_ms, record, other, step, entropy);
                return;
            }
        }
        if let Some((other_key, difference)) = first_candidate {
            let text = unmatched_sentence(difference);
            let why = reason(difference, &text);
            record.status = InstructionState::Unmatched;
            record.reason = Some(why.clone());
            if let Some(other) = self.instructions.get_mut(&other_key) {
                other.status = InstructionState::Unmatched;
                other.reason = Some(why);
                let other = other.clone();
                step.records
                    .push(Record::Instruction(Box::new(other.clone())));
                let status = status_of(&other);
                self.send(step, &other.key.gateway, status, now_ms, entropy);
            }
        }
        self.accept_waiting(now_ms, record, step, entropy);
    }

    /// Persists a waiting instruction, reports its status, and arms its cut-off.
    fn accept_waiting(
        &mut self,
        now_ms: u64,
        record: InstructionRecord,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        step.records
            .push(Record::Instruction(Box::new(record.clone())));
        let status = status_of(&record);
        self.send(step, &record.key.gateway, status, now_ms, entropy);
        step.actions.push(Output::SetTimer {
            timer: RelayTimer::Instruction(record.key.clone()),
            at_ms: record.received_at_ms + self.config.timing.matching_window_ms,
        });
        self.waiting.insert(record.arrival, record.key.clone());
        self.instructions.insert(record.key.clone(), record);
    }

    fn try_match(
        &mut self,
        now_ms: u64,
        mut record: InstructionRecord,
        mut other: InstructionRecord,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let (deliver, receive) = as_pair(&record.instruction, &other.instruction);
        let legs = match settlement_legs(deliver, receive) {
            Ok(legs) => legs,
            Err(rejection) => {
                if rejection.code == isthmus_spec::ReasonCode::LegMarketConflict {
                    let why = Reason::new(
                        isthmus_spec::protocol::code_text(rejection.code.as_str()),
                        isthmus_spec::protocol::sentence(&rejection.message),
                    );
                    record.status = InstructionState::Unmatched;
                    record.reason = Some(why.clone());
                    other.status = InstructionState::Unmatched;
                    other.reason = Some(why);
                    step.records
                        .push(Record::Instruction(Box::new(other.clone())));
                    let status = status_of(&other);
                    self.send(step, &other.key.gateway, status, now_ms, entropy);
                    self.instructions.insert(other.key.clone(), other);
                    return self.accept_waiting(now_ms, record, step, entropy);
                }
                let why = Reason::new(
                    isthmus_spec::protocol::code_text(rejection.code.as_str()),
                    isthmus_spec::protocol::sentence(&rejection.message),
                );
                return self.reject(now_ms, record, why, step, entropy);
            }
        };
        let mut markets = vec![(Leg::Securities, legs.securities.market.clone())];
        if let Some((cash, _)) = &legs.cash {
            markets.push((Leg::Cash, cash.market.clone()));
        }
        let mut gateways = BTreeMap::new();
        for (leg, market) in markets {
            match self.config.gateway_of(&market) {
                Some(gateway) => {
                    gateways.insert(leg, gateway.clone());
                }
                None => {
                    let why = reason(
                        SettlementReason::MarketUnserved,
                        &format!("no gateway of this network serves {market}, the market of the {leg} leg"),
                    );
                    return self.reject(now_ms, record, why, step, entropy);
                }
            }
        }

        // Rule 1 of §12.5: draw p, fix T1, T2 and D, and persist before anything goes out.
        let mut secret = [0u8; 32];
        entropy.fill(&mut secret);
        let secret = Preimage::from_bytes(secret);
        let hashlock = secret.hashlock();
        let timing = self.config.timing;
        let (t1, t2) = self.ignore_delta_expiries(now_ms).unwrap_or((
            now_ms + timing.cash_expiry_ms,
            now_ms + timing.securities_expiry_ms,
        ));
        let id = self.config.settlement_id(self.next_settlement);
        self.next_settlement += 1;
        let (deliver, receive) = as_pair(&record.instruction, &other.instruction);
        let (deliver_key, receive_key) =
            if record.instruction.direction == isthmus_spec::body::Direction::Deliver {
                (record.key.clone(), other.key.clone())
            } else {
                (other.key.clone(), record.key.clone())
            };
        let Some(t2_stamp) = Timestamp::from_unix_millis(t2) else {
            let why = reason(
                SettlementReason::StateConflict,
                "the relay's clock is beyond what ISM/1 can write",
            );
            return self.reject(now_ms, record, why, step, entropy);
        };
        let t1_stamp = Timestamp::from_unix_millis(t1).unwrap_or_else(|| t2_stamp.clone());
        let securities_leg = LegTerms {
            market: legs.securities.market.clone(),
            from: legs.securities.from.clone(),
            to: legs.securities.to.clone(),
            expires_at: t2_stamp.clone(),
        };
        let cash_leg = legs.cash.as_ref().map(|(cash, _)| LegTerms {
            market: cash.market.clone(),
            from: cash.from.clone(),
            to: cash.to.clone(),
            expires_at: t1_stamp.clone(),
        });
        let proposal = SettlementProposal {
            settlement_id: id.clone(),
            deliver_instruction_id: deliver.instruction_id.clone(),
            receive_instruction_id: receive.instruction_id.clone(),
            isin: deliver.isin.clone(),
            quantity: deliver.quantity.clone(),
            settlement_amount: legs.cash.as_ref().map(|(_, money)| money.clone()),
            settlement_date: deliver.settlement_date.clone(),
            hashlock: hashlock.clone(),
            securities_leg: securities_leg.clone(),
            cash_leg: cash_leg.clone(),
        };
        let mut leg_records = Vec::new();
        if let (Some(terms), Some((_, money)), Some(gateway)) =
            (&cash_leg, &legs.cash, gateways.get(&Leg::Cash))
        {
            leg_records.push(LegRecord {
                leg: Leg::Cash,
                gateway: gateway.clone(),
                request: LockRequest {
                    settlement_id: id.clone(),
                    leg: Leg::Cash,
                    market: terms.market.clone(),
                    from: terms.from.clone(),
                    beneficiary: terms.to.clone(),
                    securities: None,
                    cash: Some(money.clone()),
                    hashlock: hashlock.clone(),
                    expires_at: terms.expires_at.clone(),
                },
                locked: None,
                claimed: None,
                refunded: None,
            });
        }
        if let Some(gateway) = gateways.get(&Leg::Securities) {
            leg_records.push(LegRecord {
                leg: Leg::Securities,
                gateway: gateway.clone(),
                request: LockRequest {
                    settlement_id: id.clone(),
                    leg: Leg::Securities,
                    market: securities_leg.market.clone(),
                    from: securities_leg.from.clone(),
                    beneficiary: securities_leg.to.clone(),
                    securities: Some(SecuritiesAmount {
                        isin: deliver.isin.clone(),
                        quantity: deliver.quantity.clone(),
                    }),
                    cash: None,
                    hashlock: hashlock.clone(),
                    expires_at: securities_leg.expires_at.clone(),
                },
                locked: None,
                claimed: None,
                refunded: None,
            });
        }
        let settlement = SettlementRecord {
            id: id.clone(),
            deliver: deliver_key,
            receive: receive_key,
            proposal,
            secret: Some(secret),
            matched_at_ms: now_ms,
            lock_deadline_ms: now_ms + timing.lock_window_ms,
            phase: Phase::Proposed,
            reason: None,
            legs: leg_records,
            settled_at_ms: None,
            handled: step.cause.iter().cloned().collect(),
        };

        for instruction in [&mut record, &mut other] {
            instruction.status = InstructionState::Matched;
            instruction.reason = None;
            instruction.settlement_id = Some(id.clone());
            self.waiting.remove(&instruction.arrival);
        }
        step.records
            .push(Record::Instruction(Box::new(other.clone())));
        step.records
            .push(Record::Instruction(Box::new(record.clone())));
        step.records
            .push(Record::Settlement(Box::new(settlement.clone())));
        for instruction in [&other, &record] {
            let status = status_of(instruction);
            self.send(step, &instruction.key.gateway, status, now_ms, entropy);
        }
        self.instructions.insert(other.key.clone(), other);
        self.instructions.insert(record.key.clone(), record);
        self.send_lock_requests(now_ms, &settlement, step, entropy);
        step.actions.push(Output::SetTimer {
            timer: RelayTimer::Settlement(id.clone()),
            at_ms: self.next_due(now_ms, &settlement),
        });
        self.settlements.insert(id, settlement);
    }

    fn reject(
        &mut self,
        now_ms: u64,
        mut record: InstructionRecord,
        why: Reason,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        record.status = InstructionState::Rejected;
        record.reason = Some(why);
        step.records
            .push(Record::Instruction(Box::new(record.clone())));
        let status = status_of(&record);
        self.send(step, &record.key.gateway, status, now_ms, entropy);
        self.instructions.insert(record.key.clone(), record);
    }

    fn on_cut_off(
        &mut self,
        now_ms: u64,
        key: &InstructionKey,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(record) = self.instructions.get(key) else {
            return;
        };
        if !record.is_waiting()
            || now_ms < record.received_at_ms + self.config.timing.matching_window_ms
        {
            return;
        }
        let mut record = record.clone();
        record.status = InstructionState::Cancelled;
        record.reason = Some(reason(
            SettlementReason::MatchingExpired,
            "no counterpart instruction matched this one before its matching cut-off",
        ));
        self.waiting.remove(&record.arrival);
        step.records
            .push(Record::Instruction(Box::new(record.clone())));
        let status = status_of(&record);
        self.send(step, &record.key.gateway, status, now_ms, entropy);
        self.instructions.insert(key.clone(), record);
    }

    // ----- the settlement (ISM-1 §12.5) -----

    /// The gateways a settlement's proposal goes to: every leg's and every instruction's, once each.
    fn proposal_receivers(settlement: &SettlementRecord) -> Vec<NodeId> {
        let mut receivers: Vec<NodeId> = settlement
            .legs
            .iter()
            .map(|leg| leg.gateway.clone())
            .collect();
        receivers.push(settlement.deliver.gateway.clone());
        receivers.push(settlement.receive.gateway.clone());
        receivers.sort();
        receivers.dedup();
        receivers
    }

    fn send_lock_requests(
        &mut self,
        now_ms: u64,
        settlement: &SettlementRecord,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let unlocked: Vec<&LegRecord> = settlement
            .legs
            .iter()
            .filter(|leg| leg.locked.is_none())
            .collect();
        if unlocked.is_empty() {
            return;
        }
        for gateway in Self::proposal_receivers(settlement) {
            let body = Body::SettlementProposal(settlement.proposal.clone());
            self.send(step, &gateway, body, now_ms, entropy);
        }
        for leg in unlocked {
            let id = self.send(
                step,
                &leg.gateway,
                Body::LockRequest(leg.request.clone()),
                now_ms,
                entropy,
            );
            self.lock_requests
                .insert(id, (settlement.id.clone(), leg.leg));
        }
    }

    /// When the settlement's timer should next fire.
    fn next_due(&self, now_ms: u64, settlement: &SettlementRecord) -> u64 {
        let repeat = now_ms + self.config.timing.retransmit_ms;
        match settlement.phase {
            Phase::Proposed | Phase::Locking => repeat.min(settlement.lock_deadline_ms.max(now_ms)),
            _ => repeat,
        }
    }

    fn on_settlement_timer(
        &mut self,
        now_ms: u64,
        id: &Reference,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(settlement) = self.settlements.get(id).cloned() else {
            return;
        };
        match settlement.phase {
            Phase::Proposed | Phase::Locking => {
                if now_ms >= settlement.lock_deadline_ms {
                    let why = reason(
                        SettlementReason::LockDeadlinePassed,
                        "not every leg was locked by the lock deadline; the settlement is aborted and every lock made is refunded after its expiry",
                    );
                    return self.abort(now_ms, settlement, why, step, entropy);
                }
                self.send_lock_requests(now_ms, &settlement, step, entropy);
            }
            Phase::Revealing => self.send_claim_request(now_ms, &settlement, step, entropy),
            Phase::Settled | Phase::Aborted => return,
        }
        step.actions.push(Output::SetTimer {
            timer: RelayTimer::Settlement(id.clone()),
            at_ms: self.next_due(now_ms, &settlement),
        });
    }

    /// The ClaimRequest the relay waits on in `REVEALING` (§12.5 rules 5–6),
    /// while that leg may still be claimed by the relay's clock.
    fn send_claim_request(
        &mut self,
        now_ms: u64,
        settlement: &SettlementRecord,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(secret) = &settlement.secret else {
            return;
        };
        let Some(first) = settlement.legs.first() else {
            return;
        };
        if self.is_broken(RelayBroken::RevealBeforeBothLocks) {
            // Reveals to every gateway at once, locked or not.
            for leg in settlement.legs.iter().filter(|leg| leg.claimed.is_none()) {
                let body = Body::ClaimRequest(ClaimRequest {
                    settlement_id: settlement.id.clone(),
                    hashlock: settlement.proposal.hashlock.clone(),
                    preimage: secret.clone(),
                });
                self.send(step, &leg.gateway, body, now_ms, entropy);
            }
            return;
        }
        let waiting_on = if first.claimed.is_none() {
            // The first leg; once the second is claimed (by hand-over) nothing more is needed from us
            // but the first leg's claim, which its gateway may still make.
            Some(first)
        } else {
            settlement.legs.get(1).filter(|leg| leg.claimed.is_none())
        };
        let Some(leg) = waiting_on else { return };
        if now_ms >= expiry_ms(&leg.request) + self.config.timing.max_clock_skew_ms {
            return;
        }
        let body = Body::ClaimRequest(ClaimRequest {
            settlement_id: settlement.id.clone(),
            hashlock: settlement.proposal.hashlock.clone(),
            preimage: secret.clone(),
        });
        self.send(step, &leg.gateway, body, now_ms, entropy);
    }

    fn abort(
        &mut self,
        now_ms: u64,
        mut settlement: SettlementRecord,
        why: Reason,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        settlement.phase = Phase::Aborted;
        settlement.secret = None;
        settlement.reason = Some(why);
        self.stats.aborted += 1;
        step.records
            .push(Record::Settlement(Box::new(settlement.clone())));
        self.lock_requests.retain(|_, (id, _)| *id != settlement.id);
        self.send_final_word(now_ms, &settlement, None, step, entropy);
        self.settlements.insert(settlement.id.clone(), settlement);
    }

    /// The relay's final word (a SettlementConfirmation or a CANCELLED
    /// status) to each instruction's gateway, or to `only` that one.
    fn send_final_word(
        &mut self,
        now_ms: u64,
        settlement: &SettlementRecord,
        only: Option<&NodeId>,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        for key in [&settlement.deliver, &settlement.receive] {
            if only.is_some_and(|gateway| *gateway != key.gateway) {
                continue;
            }
            let Some(instruction) = self.instructions.get(key) else {
                continue;
            };
            let body = match settlement.phase {
                Phase::Settled => match confirmation(settlement, &instruction.instruction) {
                    Some(body) => body,
                    None => continue,
                },
                Phase::Aborted => Body::InstructionStatus(InstructionStatus {
                    instruction_id: key.instruction_id.clone(),
                    related_message_id: Some(instruction.message_id.clone()),
                    status: InstructionState::Cancelled,
                    settlement_id: Some(settlement.id.clone()),
                    reason: settlement.reason.clone(),
                }),
                _ => continue,
            };
            self.send(step, &key.gateway, body, now_ms, entropy);
        }
    }

    /// Finds the settlement a receipt names and checks its sender (the checks
    /// of §12.5 rules 2 and 7 that come before the state).
    fn receipt_settlement(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        settlement_id: &Reference,
        leg: Leg,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) -> Option<SettlementRecord> {
        let Some(settlement) = self.settlements.get(settlement_id).cloned() else {
            let text = format!("the relay has no settlement {settlement_id}");
            self.refuse(
                step,
                message,
                SettlementReason::SettlementUnknown,
                &text,
                now_ms,
                entropy,
            );
            return None;
        };
        let party = settlement.legs.iter().any(|l| l.gateway == message.sender)
            || settlement.deliver.gateway == message.sender
            || settlement.receive.gateway == message.sender;
        let leg_gateway = settlement.leg(leg).map(|l| &l.gateway);
        if !party || leg_gateway.is_some_and(|g| *g != message.sender) {
            let text = format!(
                "{} is not the gateway of the {leg} leg of settlement {settlement_id}",
                message.sender
            );
            self.refuse(
                step,
                message,
                SettlementReason::SenderNotParty,
                &text,
                now_ms,
                entropy,
            );
            return None;
        }
        if settlement
            .handled
            .contains(&(message.sender.clone(), message.id.clone()))
        {
            // Handled once already (ISM-1 §8.4 duty 6): the final word again if there is one.
            if settlement.phase.is_final() {
                self.send_final_word(now_ms, &settlement, Some(&message.sender), step, entropy);
            }
            return None;
        }
        if settlement.phase.is_final() {
            // §12.5 rule 9: a repeat; answer with the final word.
            self.send_final_word(now_ms, &settlement, Some(&message.sender), step, entropy);
            return None;
        }
        Some(settlement)
    }

    fn on_lock_receipt(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        receipt: LockReceipt,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(mut settlement) = self.receipt_settlement(
            now_ms,
            message,
            &receipt.settlement_id,
            receipt.leg,
            step,
            entropy,
        ) else {
            return;
        };
        // A repeat for a leg already done changes nothing (rules 2 and 7).
        if settlement
            .leg(receipt.leg)
            .is_some_and(|leg| leg.locked.is_some())
        {
            return;
        }
        if !matches!(settlement.phase, Phase::Proposed | Phase::Locking) {
            let text = format!(
                "settlement {} is {}; it takes no lock receipt now",
                settlement.id,
                settlement.phase.name()
            );
            return self.refuse(
                step,
                message,
                SettlementReason::StateConflict,
                &text,
                now_ms,
                entropy,
            );
        }
        let Some(index) = settlement.legs.iter().position(|l| l.leg == receipt.leg) else {
            let text = format!("settlement {} has no {} leg", settlement.id, receipt.leg);
            return self.refuse(
                step,
                message,
                SettlementReason::LegUnknown,
                &text,
                now_ms,
                entropy,
            );
        };
        let request = &settlement.legs[index].request;
        if receipt.hashlock != request.hashlock {
            let text = format!(
                "the lock receipt records hashlock {}, not the settlement's {}",
                receipt.hashlock, request.hashlock
            );
            return self.refuse(
                step,
                message,
                SettlementReason::HashlockMismatch,
                &text,
                now_ms,
                entropy,
            );
        }
        if receipt.expires_at.unix_nanos() != request.expires_at.unix_nanos() {
            let text = format!(
                "the lock receipt records expiry {}, not the requested {}",
                receipt.expires_at, request.expires_at
            );
            return self.refuse(
                step,
                message,
                SettlementReason::ExpiryMismatch,
                &text,
                now_ms,
                entropy,
            );
        }
        step.cause = Some((message.sender.clone(), message.id.clone()));
        settlement
            .handled
            .push((message.sender.clone(), message.id.clone()));
        settlement.legs[index].locked = Some(receipt);
        let all_locked = settlement.legs.iter().all(|l| l.locked.is_some())
            || self.is_broken(RelayBroken::RevealBeforeBothLocks);
        if !all_locked {
            settlement.phase = Phase::Locking;
            step.records
                .push(Record::Settlement(Box::new(settlement.clone())));
            self.settlements.insert(settlement.id.clone(), settlement);
            return;
        }
        // Rule 5: reveal only with the margin left before the earliest expiry.
        let margin_left = settlement.earliest_expiry_ms().saturating_sub(now_ms);
        if margin_left < self.config.timing.reveal_margin_ms
            && !self.is_broken(RelayBroken::IgnoreDelta)
        {
            let why = reason(
                SettlementReason::RevealTooLate,
                &format!(
                    "every leg is locked, but only {margin_left} ms remain before the first expiry, less than the reveal margin of {} ms; the settlement is aborted",
                    self.config.timing.reveal_margin_ms
                ),
            );
            return self.abort(now_ms, settlement, why, step, entropy);
        }
        settlement.phase = Phase::Revealing;
        self.lock_requests.retain(|_, (id, _)| *id != settlement.id);
        step.records
            .push(Record::Settlement(Box::new(settlement.clone())));
        self.send_claim_request(now_ms, &settlement, step, entropy);
        step.actions.push(Output::SetTimer {
            timer: RelayTimer::Settlement(settlement.id.clone()),
            at_ms: self.next_due(now_ms, &settlement),
        });
        self.settlements.insert(settlement.id.clone(), settlement);
    }

    fn on_claim_receipt(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        receipt: ClaimReceipt,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(mut settlement) = self.receipt_settlement(
            now_ms,
            message,
            &receipt.settlement_id,
            receipt.leg,
            step,
            entropy,
        ) else {
            return;
        };
        // A repeat for a leg already done changes nothing (rules 2 and 7).
        if settlement
            .leg(receipt.leg)
            .is_some_and(|leg| leg.claimed.is_some())
        {
            return;
        }
        if settlement.phase != Phase::Revealing {
            let text = format!(
                "settlement {} is {}; no leg can be claimed before the reveal",
                settlement.id,
                settlement.phase.name()
            );
            return self.refuse(
                step,
                message,
                SettlementReason::StateConflict,
                &text,
                now_ms,
                entropy,
            );
        }
        let Some(index) = settlement.legs.iter().position(|l| l.leg == receipt.leg) else {
            let text = format!("settlement {} has no {} leg", settlement.id, receipt.leg);
            return self.refuse(
                step,
                message,
                SettlementReason::LegUnknown,
                &text,
                now_ms,
                entropy,
            );
        };
        if receipt.hashlock != settlement.proposal.hashlock {
            let text = format!(
                "the claim receipt opens hashlock {}, not the settlement's {}",
                receipt.hashlock, settlement.proposal.hashlock
            );
            return self.refuse(
                step,
                message,
                SettlementReason::HashlockMismatch,
                &text,
                now_ms,
                entropy,
            );
        }
        let locked_id = settlement.legs[index].locked.as_ref().map(|l| &l.lock_id);
        if locked_id != Some(&receipt.lock_id) {
            let text = format!(
                "the claim receipt names lock {}, not the lock the {} leg's receipt named",
                receipt.lock_id, receipt.leg
            );
            return self.refuse(
                step,
                message,
                SettlementReason::LockIdMismatch,
                &text,
                now_ms,
                entropy,
            );
        }
        step.cause = Some((message.sender.clone(), message.id.clone()));
        settlement
            .handled
            .push((message.sender.clone(), message.id.clone()));
        settlement.legs[index].claimed = Some(receipt);
        if settlement.legs.iter().all(|l| l.claimed.is_some()) {
            settlement.phase = Phase::Settled;
            settlement.secret = None;
            settlement.settled_at_ms = Some(now_ms);
            self.stats.settled += 1;
            step.records
                .push(Record::Settlement(Box::new(settlement.clone())));
            self.send_final_word(now_ms, &settlement, None, step, entropy);
        } else {
            step.records
                .push(Record::Settlement(Box::new(settlement.clone())));
            // Rule 6: the first leg is claimed, so the second leg's request may go.
            self.send_claim_request(now_ms, &settlement, step, entropy);
        }
        self.settlements.insert(settlement.id.clone(), settlement);
    }

    fn on_refund_receipt(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        receipt: RefundReceipt,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(mut settlement) = self.receipt_settlement(
            now_ms,
            message,
            &receipt.settlement_id,
            receipt.leg,
            step,
            entropy,
        ) else {
            return;
        };
        let Some(index) = settlement.legs.iter().position(|l| l.leg == receipt.leg) else {
            let text = format!("settlement {} has no {} leg", settlement.id, receipt.leg);
            return self.refuse(
                step,
                message,
                SettlementReason::LegUnknown,
                &text,
                now_ms,
                entropy,
            );
        };
        if settlement.legs[index].refunded.is_some() {
            return;
        }
        step.cause = Some((message.sender.clone(), message.id.clone()));
        settlement
            .handled
            .push((message.sender.clone(), message.id.clone()));
        settlement.legs[index].refunded = Some(receipt);
        let first_refunded_unclaimed = settlement.phase == Phase::Revealing
            && index == 0
            && settlement.legs[0].claimed.is_none();
        if first_refunded_unclaimed {
            let why = reason(
                SettlementReason::ClaimWindowMissed,
                "the first leg was refunded unclaimed after the reveal; the settlement is aborted and the other leg is refunded after its expiry",
            );
            return self.abort(now_ms, settlement, why, step, entropy);
        }
        // Rule 8: recorded, no outcome changes.
        step.records
            .push(Record::Settlement(Box::new(settlement.clone())));
        self.settlements.insert(settlement.id.clone(), settlement);
    }

    fn on_error(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        error: &ErrorBody,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(related) = &error.related_message_id else {
            return;
        };
        let Some((id, leg)) = self.lock_requests.get(related).cloned() else {
            return;
        };
        let Some(settlement) = self.settlements.get(&id).cloned() else {
            return;
        };
        let from_leg_gateway = settlement
            .leg(leg)
            .is_some_and(|l| l.gateway == message.sender);
        if !from_leg_gateway || !matches!(settlement.phase, Phase::Proposed | Phase::Locking) {
            return;
        }
        if !is_final_code(error.code.as_str()) {
            return; // the relay repeats the request (§12.5 rule 3)
        }
        step.cause = Some((message.sender.clone(), message.id.clone()));
        let mut settlement = settlement;
        settlement
            .handled
            .push((message.sender.clone(), message.id.clone()));
        let why = Reason::new(
            error.code.clone(),
            isthmus_spec::protocol::sentence(&format!(
                "the {leg} leg could not be locked: {}",
                error.text.as_str()
            )),
        );
        self.abort(now_ms, settlement, why, step, entropy);
    }
}

/// Whether a refusal's code is final (ISM-1 §9.3 column "final"; every §9.2
/// and §9.4 code is).
pub fn is_final_code(code: &str) -> bool {
    !matches!(
        code,
        "STORE_FAILED"
            | "JOURNAL_CORRUPT"
            | "JOURNAL_FULL"
            | "DELIVERY_PENDING"
            | "SETTLEMENT_UNKNOWN"
    )
}

fn settlement_seq(config: &RelayConfig, id: &Reference) -> Option<u64> {
    id.as_str()
        .strip_prefix(config.settlement_prefix.as_str())
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|digits| digits.parse().ok())
}

fn status_of(record: &InstructionRecord) -> Body {
    Body::InstructionStatus(InstructionStatus {
        instruction_id: record.key.instruction_id.clone(),
        related_message_id: Some(record.message_id.clone()),
        status: record.status,
        settlement_id: record.settlement_id.clone(),
        reason: record.reason.clone(),
    })
}

fn unmatched_sentence(difference: SettlementReason) -> String {
    let field = match difference {
        SettlementReason::UnmatchedIsin => "ISIN",
        SettlementReason::UnmatchedPayment => "payment type",
        SettlementReason::UnmatchedSettlementDate => "settlement date",
        SettlementReason::UnmatchedQuantity => "quantity",
        SettlementReason::UnmatchedCurrency => "settlement currency",
        SettlementReason::UnmatchedAmount => "settlement amount",
        _ => "counterparties",
    };
    format!(
        "the counterpart instruction differs in its {field}; both stay open and may still match"
    )
}

/// The SettlementConfirmation of a settled settlement for one of its instructions.
fn confirmation(
    settlement: &SettlementRecord,
    instruction: &SettlementInstruction,
) -> Option<Body> {
    let securities = settlement.leg(Leg::Securities)?.claimed.as_ref()?;
    let cash_journal = match settlement.leg(Leg::Cash) {
        Some(leg) => Some(leg.claimed.as_ref()?.journal.clone()),
        None => None,
    };
    let settled_at = Timestamp::from_unix_millis(settlement.settled_at_ms?)?;
    let against = instruction.payment == Payment::AgainstPayment;
    Some(Body::SettlementConfirmation(SettlementConfirmation {
        instruction_id: instruction.instruction_id.clone(),
        settlement_id: settlement.id.clone(),
        direction: instruction.direction,
        payment: instruction.payment,
        isin: settlement.proposal.isin.clone(),
        quantity: settlement.proposal.quantity.clone(),
        settlement_amount: if against {
            settlement.proposal.settlement_amount.clone()
        } else {
            None
        },
        settlement_date: settlement.proposal.settlement_date.clone(),
        settled_at,
        securities_journal: securities.journal.clone(),
        cash_journal: if against { cash_journal } else { None },
    }))
}

/// Stands in for [`RelayBroken`] when the broken variants are not built, so
/// that the checks compile away.
#[cfg(not(feature = "broken-variants"))]
#[derive(Debug, Clone, Copy)]
enum BrokenNever {
    RevealBeforeBothLocks,
    IgnoreDelta,
    SendsBeforePersisting,
}

#[cfg(not(feature = "broken-variants"))]
use BrokenNever as RelayBroken;
