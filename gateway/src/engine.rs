//! The gateway engine: a sans-IO state machine (ISM-1 §12.6–§12.10).
//!
//! The shell feeds it [`Input`]s with the gateway's clock and randomness, and
//! drains [`Output`]s with [`Gateway::poll`]. Records come out first as one
//! [`Write`] per transition; the messages and ledger commands the transition
//! causes come out only once the shell has reported the write durable, so a
//! ledger is never asked to lock, claim or refund what a crash could make the
//! gateway forget (ISM-1 §12.9).
//!
//! The gateway decides no outcome (§12.6 rule 8): it locks what its own
//! participants instructed, claims when it learns the secret, refunds only
//! after expiry, and reports what its relay tells it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use isthmus_adapters::ledger_side::{
    ClaimOrder, CommandResult, LedgerCommand, LedgerDone, LockOrder, RefundOrder,
};
use isthmus_ledger::{IdempotencyKey, LedgerFailure, LedgerReason};
use isthmus_spec::body::{
    Body, ClaimReceipt, ClaimRequest, InstructionState, Leg, LockRequest, Payment,
    SettlementInstruction, SettlementProposal,
};
use isthmus_spec::ids::{Hashlock, MessageId, NodeId, Preimage, Reference};
use isthmus_spec::protocol::{error_body, Entropy, Inbound, Outbound, SettlementReason};

use crate::config::GatewayConfig;
use crate::records::{InstructionRecord, LegPhase, LegRecord, Record, SettlementRecord, Write};

/// Deliberately broken gateways, so that the simulator shows it catches
/// each (issue 11 step 6). Only with the `broken-variants` feature.
#[cfg(feature = "broken-variants")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayBroken {
    /// Sends messages and ledger orders before the write that explains them is durable.
    SendsBeforePersisting,
    /// Keeps its legs (locks, claims, the secret) in memory only, so a restart forgets them.
    LegsInMemoryOnly,
    /// Its watcher never refunds an expired lock.
    WatcherNeverRefunds,
    /// Locks with another participant's account as the beneficiary.
    CreditsWrongAccount,
    /// Does not check a proposal's expiries against Δ (with a relay that ignores Δ).
    IgnoreDelta,
}

/// Stands in for [`GatewayBroken`] when the broken variants are not built.
#[cfg(not(feature = "broken-variants"))]
#[derive(Debug, Clone, Copy)]
enum GatewayBroken {
    SendsBeforePersisting,
    LegsInMemoryOnly,
    WatcherNeverRefunds,
    IgnoreDelta,
}

/// How many repetition intervals a gateway waits between repeats of an
/// instruction that has a status but not yet the relay's final word (ISM-1 §12.8).
pub const STATUS_REPEAT_FACTOR: u64 = 10;

/// Something that happened to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // built once per step and moved, never stored in bulk
pub enum Input {
    /// A participant submits an instruction, to go to `relay`.
    Submit {
        /// The instruction, completed by the gateway (ISM-1 §6.1 duty 8).
        instruction: SettlementInstruction,
        /// The relay to instruct.
        relay: NodeId,
    },
    /// A message, decoded and authenticated (ISM-1 §8.4 steps 1–5).
    Message(Inbound),
    /// The ledger's answer to a command the gateway gave for a leg.
    Ledger {
        /// The settlement.
        settlement_id: Reference,
        /// The leg.
        leg: Leg,
        /// What the ledger did.
        result: CommandResult,
    },
    /// A timer the gateway set is due.
    Timer(GatewayTimer),
    /// Every write up to and including this id is durable.
    Persisted(u64),
    /// The participant has every notice of an instruction up to and including `index`.
    Acknowledged {
        /// The instruction.
        instruction_id: Reference,
        /// The last notice it has.
        index: usize,
    },
}

/// A gateway timer; setting one again moves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GatewayTimer {
    /// Repeat an instruction that has no status yet.
    Instruction(Reference),
    /// A settlement's watcher and repetitions (ISM-1 §12.3 rules 4–5).
    Settlement(Reference),
}

/// What the gateway asks of its shell.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // built once per step and moved, never stored in bulk
pub enum Output {
    /// Persist these records atomically, then report [`Input::Persisted`].
    Persist(Write),
    /// Send a message.
    Send(Outbound),
    /// Run a command on the gateway's ledger and report [`Input::Ledger`].
    Ledger {
        /// The settlement.
        settlement_id: Reference,
        /// The leg.
        leg: Leg,
        /// The command.
        command: LedgerCommand,
    },
    /// Deliver [`Input::Timer`] at or after `at_ms` (gateway clock).
    SetTimer {
        /// Which timer.
        timer: GatewayTimer,
        /// When.
        at_ms: u64,
    },
    /// Tell the participant: an InstructionStatus or SettlementConfirmation
    /// for one of its instructions, as the relay sent it. Repeated after a
    /// restart until the participant acknowledges it ([`Input::Acknowledged`]).
    Notify {
        /// The instruction.
        instruction_id: Reference,
        /// The notice's place in the instruction's notices, from 0.
        index: usize,
        /// The notice.
        body: Body,
    },
}

/// The gateway engine. Cloneable, and its `Debug` form is canonical
/// (ordered maps only), so that a model checker can copy a state and tell
/// two states apart by it; iteration in key order also keeps a restart's
/// outputs in one order from run to run.
#[derive(Debug, Clone)]
pub struct Gateway {
    config: GatewayConfig,
    instructions: BTreeMap<Reference, InstructionRecord>,
    settlements: BTreeMap<Reference, SettlementRecord>,
    /// Legs with a ledger command outstanding since start; a repetition waits for its answer.
    in_flight: BTreeSet<(Reference, Leg)>,
    /// The settlement each instruction's leg was locked for: one only (§12.6 rule 3).
    locked_for: BTreeMap<Reference, Reference>,
    #[cfg(feature = "broken-variants")]
    broken: Option<GatewayBroken>,
    writes: VecDeque<Write>,
    actions: VecDeque<(u64, Output)>,
    next_write: u64,
    durable: u64,
}

#[derive(Default)]
struct Step {
    records: Vec<Record>,
    actions: Vec<Output>,
    cause: Option<(NodeId, MessageId)>,
}

impl Gateway {
    /// A gateway with nothing persisted. The configuration must have passed
    /// [`GatewayConfig::check`].
    pub fn new(config: GatewayConfig) -> Gateway {
        Gateway {
            config,
            instructions: BTreeMap::new(),
            settlements: BTreeMap::new(),
            in_flight: BTreeSet::new(),
            locked_for: BTreeMap::new(),
            #[cfg(feature = "broken-variants")]
            broken: None,
            writes: VecDeque::new(),
            actions: VecDeque::new(),
            next_write: 1,
            durable: 0,
        }
    }

    /// A gateway rebuilt from its store alone; call [`Gateway::resume`] next.
    pub fn restore(config: GatewayConfig, records: impl IntoIterator<Item = Record>) -> Gateway {
        let mut gateway = Gateway::new(config);
        for record in records {
            match record {
                Record::Instruction(record) => {
                    gateway
                        .instructions
                        .insert(record.instruction.instruction_id.clone(), *record);
                }
                Record::Settlement(record) => {
                    for leg in record
                        .legs
                        .iter()
                        .filter(|leg| leg.phase != LegPhase::LockRefused)
                    {
                        let instruction = instruction_of(&record.proposal, leg.leg).clone();
                        gateway.locked_for.insert(instruction, record.id().clone());
                    }
                    gateway.settlements.insert(record.id().clone(), *record);
                }
            }
        }
        gateway
    }

    /// Sets every timer due, so that each unanswered instruction, ledger
    /// order and receipt is repeated (ISM-1 §12.10 item 1).
    pub fn resume(&mut self, now_ms: u64) {
        let mut step = Step::default();
        let mut ids: Vec<&Reference> = self
            .instructions
            .values()
            .filter(|record| !record.final_word)
            .map(|record| &record.instruction.instruction_id)
            .collect();
        ids.sort();
        for id in ids {
            step.actions.push(Output::SetTimer {
                timer: GatewayTimer::Instruction(id.clone()),
                at_ms: now_ms,
            });
        }
        let mut pending: Vec<&InstructionRecord> = self
            .instructions
            .values()
            .filter(|record| record.acknowledged < record.notices.len())
            .collect();
        pending.sort_by(|a, b| {
            a.instruction
                .instruction_id
                .cmp(&b.instruction.instruction_id)
        });
        for record in pending {
            for (index, body) in record.notices.iter().enumerate().skip(record.acknowledged) {
                step.actions.push(Output::Notify {
                    instruction_id: record.instruction.instruction_id.clone(),
                    index,
                    body: body.clone(),
                });
            }
        }
        let mut ids: Vec<&Reference> = self.settlements.keys().collect();
        ids.sort();
        for id in ids {
            step.actions.push(Output::SetTimer {
                timer: GatewayTimer::Settlement(id.clone()),
                at_ms: now_ms,
            });
        }
        self.queue(step);
    }

    /// The next output, if any: writes first, then what they release.
    pub fn poll(&mut self) -> Option<Output> {
        if self.is_broken(GatewayBroken::SendsBeforePersisting) {
            // Acts first and persists after: a crash between the two loses what it did.
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

    /// Makes this gateway one of the broken variants (tests only).
    #[cfg(feature = "broken-variants")]
    pub fn set_broken(&mut self, broken: Option<GatewayBroken>) {
        self.broken = broken;
    }

    /// Whether this gateway is the broken variant `variant`: never, without
    /// the `broken-variants` feature. One function for both builds, so that
    /// a mutation test tells its mutants apart by name.
    fn is_broken(&self, variant: GatewayBroken) -> bool {
        #[cfg(feature = "broken-variants")]
        return self.broken == Some(variant);
        #[cfg(not(feature = "broken-variants"))]
        {
            let _ = variant;
            false
        }
    }

    /// Another participant's account for the same leg (the wrong-account variant).
    #[cfg(feature = "broken-variants")]
    fn other_participant_account(
        &self,
        from: &isthmus_spec::body::AccountRef,
        leg: Leg,
    ) -> Option<isthmus_spec::body::AccountRef> {
        let mut accounts: Vec<isthmus_spec::body::AccountRef> = self
            .instructions
            .values()
            .filter_map(|record| {
                let own = &record.instruction;
                let owner = own.account_owner.clone()?;
                match leg {
                    Leg::Securities => Some(isthmus_spec::body::AccountRef {
                        owner,
                        account: own.safekeeping_account.clone(),
                    }),
                    Leg::Cash => Some(isthmus_spec::body::AccountRef {
                        owner,
                        account: own.cash.as_ref()?.account.clone()?,
                    }),
                }
            })
            .filter(|account| account != from)
            .collect();
        accounts.sort();
        accounts.into_iter().next()
    }

    /// A settlement as this gateway knows it.
    pub fn settlement(&self, id: &Reference) -> Option<&SettlementRecord> {
        self.settlements.get(id)
    }

    /// Every settlement this gateway knows, in no particular order.
    pub fn settlements(&self) -> impl Iterator<Item = &SettlementRecord> {
        self.settlements.values()
    }

    /// A participant's instruction.
    pub fn instruction(&self, id: &Reference) -> Option<&InstructionRecord> {
        self.instructions.get(id)
    }

    /// Every participant's instruction, by id.
    pub fn instructions(&self) -> impl Iterator<Item = (&Reference, &InstructionRecord)> {
        self.instructions.iter()
    }

    /// Handles one input at gateway time `now_ms`.
    pub fn handle(&mut self, now_ms: u64, input: Input, entropy: &mut dyn Entropy) {
        let mut step = Step::default();
        match input {
            Input::Persisted(id) => {
                self.durable = self.durable.max(id);
                return;
            }
            Input::Acknowledged {
                instruction_id,
                index,
            } => self.on_acknowledged(&instruction_id, index, &mut step),
            Input::Submit { instruction, relay } => {
                self.on_submit(now_ms, instruction, relay, &mut step, entropy)
            }
            Input::Message(message) => self.on_message(now_ms, message, &mut step, entropy),
            Input::Ledger {
                settlement_id,
                leg,
                result,
            } => self.on_ledger(now_ms, &settlement_id, leg, result, &mut step, entropy),
            Input::Timer(GatewayTimer::Instruction(id)) => {
                self.on_instruction_timer(now_ms, &id, &mut step, entropy)
            }
            Input::Timer(GatewayTimer::Settlement(id)) => {
                self.on_settlement_timer(now_ms, &id, &mut step, entropy)
            }
        }
        self.queue(step);
    }

    fn queue(&mut self, mut step: Step) {
        if self.is_broken(GatewayBroken::LegsInMemoryOnly) {
            // Persists proposals but not its legs or the secret: a restart forgets them.
            for record in &mut step.records {
                if let Record::Settlement(settlement) = record {
                    settlement.legs.clear();
                    settlement.secret = None;
                }
            }
        }
        if !step.records.is_empty() {
            let id = self.next_write;
            self.next_write += 1;
            self.writes.push_back(Write {
                id,
                records: step.records,
                cause: step.cause,
            });
        }
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
    ) {
        step.actions.push(Output::Send(Outbound::new(
            to.clone(),
            body,
            now_ms,
            entropy,
        )));
    }

    fn refuse(
        &self,
        step: &mut Step,
        message: &Inbound,
        code: &str,
        text: &str,
        now_ms: u64,
        entropy: &mut dyn Entropy,
    ) {
        if matches!(message.body, Body::Error(_)) {
            return;
        }
        let body = Body::Error(error_body(code, text, Some(&message.id)));
        self.send(step, &message.sender, body, now_ms, entropy);
    }

    // ----- instructions (ISM-1 §12.6 rule 1) -----

    fn on_submit(
        &mut self,
        now_ms: u64,
        instruction: SettlementInstruction,
        relay: NodeId,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let id = instruction.instruction_id.clone();
        if self.instructions.contains_key(&id) {
            return; // the participant API refuses a reused id before this; a repeat does nothing
        }
        let record = InstructionRecord {
            instruction: instruction.clone(),
            relay: relay.clone(),
            status: None,
            final_word: false,
            notices: Vec::new(),
            acknowledged: 0,
        };
        step.records
            .push(Record::Instruction(Box::new(record.clone())));
        self.instructions.insert(id.clone(), record);
        self.send(
            step,
            &relay,
            Body::SettlementInstruction(instruction),
            now_ms,
            entropy,
        );
        step.actions.push(Output::SetTimer {
            timer: GatewayTimer::Instruction(id),
            at_ms: now_ms + self.config.timing.retransmit_ms,
        });
    }

    fn on_instruction_timer(
        &mut self,
        now_ms: u64,
        id: &Reference,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(record) = self.instructions.get(id) else {
            return;
        };
        if record.final_word {
            return;
        }
        // Every R until a status comes, then every STATUS_REPEAT_FACTOR·R until
        // the final word: the relay answers a repeat with the instruction's
        // status, or with the settlement's final word once there is one (§12.8).
        let interval = if record.status.is_some() {
            self.config.timing.retransmit_ms * STATUS_REPEAT_FACTOR
        } else {
            self.config.timing.retransmit_ms
        };
        let (relay, body) = (
            record.relay.clone(),
            Body::SettlementInstruction(record.instruction.clone()),
        );
        self.send(step, &relay, body, now_ms, entropy);
        step.actions.push(Output::SetTimer {
            timer: GatewayTimer::Instruction(id.clone()),
            at_ms: now_ms + interval,
        });
    }

    fn on_message(
        &mut self,
        now_ms: u64,
        message: Inbound,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let from_relay = self.config.is_relay(&message.sender);
        match &message.body {
            Body::InstructionStatus(status) if from_relay => {
                let status = status.clone();
                self.on_status(&message, status, step)
            }
            Body::SettlementConfirmation(confirmation) if from_relay => {
                let (instruction_id, settlement_id) = (
                    confirmation.instruction_id.clone(),
                    confirmation.settlement_id.clone(),
                );
                self.on_final_word(
                    &message,
                    &instruction_id,
                    Some(&settlement_id),
                    message.body.clone(),
                    step,
                )
            }
            Body::SettlementProposal(proposal) if from_relay => {
                let proposal = proposal.clone();
                self.on_proposal(&message, proposal, step)
            }
            Body::LockRequest(request) if from_relay => {
                let request = request.clone();
                self.on_lock_request(now_ms, &message, request, step, entropy)
            }
            Body::ClaimRequest(request) if from_relay => {
                let request = request.clone();
                self.on_claim_request(now_ms, &message, request, step, entropy)
            }
            Body::ClaimReceipt(receipt) if self.is_peer_gateway(&message.sender) => {
                let receipt = receipt.clone();
                self.on_hand_over(now_ms, &message, receipt, step, entropy)
            }
            Body::Error(_) => {} // logged by the shell; the repetition of §12.8 carries on
            other => {
                let text = format!(
                    "{} does not take a {} message from {}",
                    self.config.node,
                    other.kind(),
                    message.sender
                );
                self.refuse(
                    step,
                    &message,
                    SettlementReason::SenderNotParty.as_str(),
                    &text,
                    now_ms,
                    entropy,
                )
            }
        }
    }

    fn is_peer_gateway(&self, node: &NodeId) -> bool {
        *node != self.config.node && self.config.gateways.values().any(|g| g == node)
    }

    fn on_status(
        &mut self,
        message: &Inbound,
        status: isthmus_spec::body::InstructionStatus,
        step: &mut Step,
    ) {
        let Some(record) = self.instructions.get(&status.instruction_id) else {
            return;
        };
        if record.relay != message.sender {
            return;
        }
        if status.status == InstructionState::Cancelled && status.settlement_id.is_some() {
            let id = status.instruction_id.clone();
            let settlement_id = status.settlement_id.clone();
            return self.on_final_word(
                message,
                &id,
                settlement_id.as_ref(),
                Body::InstructionStatus(status),
                step,
            );
        }
        // A status only moves forward: a repeat, or an older status the
        // network delivered late, changes nothing.
        if record.final_word || record.status.map(status_rank) >= Some(status_rank(status.status)) {
            return;
        }
        let mut record = record.clone();
        record.status = Some(status.status);
        record.final_word = matches!(
            status.status,
            InstructionState::Rejected | InstructionState::Cancelled
        );
        step.cause = Some((message.sender.clone(), message.id.clone()));
        notify(&mut record, Body::InstructionStatus(status), step);
        step.records
            .push(Record::Instruction(Box::new(record.clone())));
        self.instructions
            .insert(record.instruction.instruction_id.clone(), record);
    }

    /// The relay's final word for one of our instructions: a confirmation or
    /// a CANCELLED status of a settlement.
    fn on_final_word(
        &mut self,
        message: &Inbound,
        instruction_id: &Reference,
        settlement_id: Option<&Reference>,
        body: Body,
        step: &mut Step,
    ) {
        let Some(record) = self.instructions.get(instruction_id) else {
            return;
        };
        if record.relay != message.sender {
            return;
        }
        if record.final_word {
            if let Some(settlement) = settlement_id.and_then(|id| self.settlements.get(id)) {
                if !settlement.final_word {
                    let mut settlement = settlement.clone();
                    settlement.final_word = true;
                    step.records
                        .push(Record::Settlement(Box::new(settlement.clone())));
                    self.settlements.insert(settlement.id().clone(), settlement);
                }
            }
            return;
        }
        let mut record = record.clone();
        record.final_word = true;
        record.status = Some(match &body {
            Body::InstructionStatus(status) => status.status,
            _ => InstructionState::Matched,
        });
        step.cause = Some((message.sender.clone(), message.id.clone()));
        notify(&mut record, body, step);
        step.records
            .push(Record::Instruction(Box::new(record.clone())));
        self.instructions.insert(instruction_id.clone(), record);
        if let Some(settlement) = settlement_id.and_then(|id| self.settlements.get(id)) {
            let mut settlement = settlement.clone();
            settlement.final_word = true;
            step.records
                .push(Record::Settlement(Box::new(settlement.clone())));
            self.settlements.insert(settlement.id().clone(), settlement);
        }
    }

    fn on_acknowledged(&mut self, instruction_id: &Reference, index: usize, step: &mut Step) {
        let Some(record) = self.instructions.get(instruction_id) else {
            return;
        };
        let acknowledged = (index + 1).min(record.notices.len());
        if acknowledged <= record.acknowledged {
            return;
        }
        let mut record = record.clone();
        record.acknowledged = acknowledged;
        step.records
            .push(Record::Instruction(Box::new(record.clone())));
        self.instructions.insert(instruction_id.clone(), record);
    }

    // ----- proposal and lock (ISM-1 §12.6 rules 2–4) -----

    fn on_proposal(&mut self, message: &Inbound, proposal: SettlementProposal, step: &mut Step) {
        if self.settlements.contains_key(&proposal.settlement_id) {
            return; // kept already; the relay repeats it with its LockRequests
        }
        let record = SettlementRecord {
            relay: message.sender.clone(),
            proposal,
            secret: None,
            legs: Vec::new(),
            peer_claimed: Vec::new(),
            final_word: false,
            handled: vec![(message.sender.clone(), message.id.clone())],
        };
        step.cause = Some((message.sender.clone(), message.id.clone()));
        step.records
            .push(Record::Settlement(Box::new(record.clone())));
        self.settlements.insert(record.id().clone(), record);
    }

    fn on_lock_request(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        request: LockRequest,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(settlement) = self
            .settlements
            .get(&request.settlement_id)
            .filter(|s| s.relay == message.sender)
        else {
            let text = format!(
                "{} has no proposal {} from {}; send the proposal first",
                self.config.node, request.settlement_id, message.sender
            );
            return self.refuse(
                step,
                message,
                SettlementReason::SettlementUnknown.as_str(),
                &text,
                now_ms,
                entropy,
            );
        };
        if let Some(leg) = settlement.leg(request.leg) {
            // A repeated request gets the first answer (ISM-1 §6.4 duty 7).
            let answer = match leg.phase {
                LegPhase::LockIntended => None,
                LegPhase::LockRefused => leg
                    .refusal
                    .as_ref()
                    .map(|(code, text)| Body::Error(error_body(code, text, Some(&message.id)))),
                _ => leg
                    .locked
                    .as_ref()
                    .and_then(|locked| {
                        locked
                            .receipt(request.settlement_id.clone(), request.leg)
                            .ok()
                    })
                    .map(Body::LockReceipt),
            };
            if let Some(body) = answer {
                self.send(step, &message.sender, body, now_ms, entropy);
            }
            return;
        }
        let order = match self.check_lock_request(settlement, &request) {
            Ok(order) => order,
            Err((code, text)) => {
                // Final for this settlement and leg: persisted, so a repeat gets it again.
                let mut settlement = settlement.clone();
                settlement.legs.push(LegRecord {
                    leg: request.leg,
                    request: request.clone(),
                    request_id: message.id.clone(),
                    order: None,
                    phase: LegPhase::LockRefused,
                    locked: None,
                    refusal: Some((code.clone(), text.clone())),
                    claim_refused: false,
                    claimed: None,
                    refunded: None,
                    refund_attempts: 0,
                });
                step.cause = Some((message.sender.clone(), message.id.clone()));
                step.records
                    .push(Record::Settlement(Box::new(settlement.clone())));
                self.settlements.insert(settlement.id().clone(), settlement);
                return self.refuse(step, message, &code, &text, now_ms, entropy);
            }
        };
        let mut settlement = settlement.clone();
        settlement.legs.push(LegRecord {
            leg: request.leg,
            request: request.clone(),
            request_id: message.id.clone(),
            order: Some(order.clone()),
            phase: LegPhase::LockIntended,
            locked: None,
            refusal: None,
            claim_refused: false,
            claimed: None,
            refunded: None,
            refund_attempts: 0,
        });
        settlement
            .handled
            .push((message.sender.clone(), message.id.clone()));
        step.cause = Some((message.sender.clone(), message.id.clone()));
        step.records
            .push(Record::Settlement(Box::new(settlement.clone())));
        self.locked_for.insert(
            instruction_of(&settlement.proposal, request.leg).clone(),
            request.settlement_id.clone(),
        );
        self.in_flight
            .insert((request.settlement_id.clone(), request.leg));
        step.actions.push(Output::Ledger {
            settlement_id: request.settlement_id.clone(),
            leg: request.leg,
            command: LedgerCommand::Lock(order),
        });
        self.settlements.insert(settlement.id().clone(), settlement);
    }

    /// ISM-1 §12.6 rule 3: the gateway locks only its own participant's
    /// account, for the terms it instructed, as the proposal says.
    fn check_lock_request(
        &self,
        settlement: &SettlementRecord,
        request: &LockRequest,
    ) -> Result<LockOrder, (String, String)> {
        let mismatch = |text: String| {
            (
                SettlementReason::ProposalMismatch.as_str().to_string(),
                text,
            )
        };
        if request.market != self.config.market {
            return Err((
                LedgerReason::MarketMismatch.as_str().to_string(),
                format!(
                    "the lock request is for the ledger of {}; this gateway serves {}",
                    request.market, self.config.market
                ),
            ));
        }
        let proposal = &settlement.proposal;
        let terms = match request.leg {
            Leg::Securities => Some(&proposal.securities_leg),
            Leg::Cash => proposal.cash_leg.as_ref(),
        };
        let Some(terms) = terms else {
            return Err(mismatch(format!(
                "the proposal of {} has no {} leg",
                proposal.settlement_id, request.leg
            )));
        };
        let asset_agrees = match request.leg {
            Leg::Securities => request.securities.as_ref().is_some_and(|s| {
                s.isin == proposal.isin && s.quantity.value().same_value(proposal.quantity.value())
            }),
            Leg::Cash => request
                .cash
                .as_ref()
                .zip(proposal.settlement_amount.as_ref())
                .is_some_and(|(a, b)| a.currency == b.currency && a.amount.same_value(&b.amount)),
        };
        let terms_agree = terms.market == request.market
            && terms.from == request.from
            && terms.to == request.beneficiary
            && terms.expires_at.unix_nanos() == request.expires_at.unix_nanos()
            && request.hashlock == proposal.hashlock
            && asset_agrees;
        if !terms_agree {
            return Err(mismatch(format!(
                "the lock request for the {} leg of {} does not carry the proposal's terms",
                request.leg, proposal.settlement_id
            )));
        }
        let instruction_id = match request.leg {
            Leg::Securities => &proposal.deliver_instruction_id,
            Leg::Cash => &proposal.receive_instruction_id,
        };
        let Some(own) = self
            .instructions
            .get(instruction_id)
            .filter(|record| record.relay == settlement.relay)
        else {
            return Err(mismatch(format!(
                "no participant of {} sent instruction {instruction_id} to {}",
                self.config.node, settlement.relay
            )));
        };
        if let Some(other) = self.locked_for.get(instruction_id) {
            if other != &proposal.settlement_id {
                return Err(mismatch(format!(
                    "instruction {instruction_id} is locked for settlement {other} already; an instruction settles once"
                )));
            }
        }
        let own = &own.instruction;
        let expected_from = match request.leg {
            Leg::Securities => {
                own.account_owner
                    .clone()
                    .map(|owner| isthmus_spec::body::AccountRef {
                        owner,
                        account: own.safekeeping_account.clone(),
                    })
            }
            Leg::Cash => own.cash.as_ref().and_then(|cash| {
                let owner = cash.owner.clone().or_else(|| own.account_owner.clone())?;
                Some(isthmus_spec::body::AccountRef {
                    owner,
                    account: cash.account.clone()?,
                })
            }),
        };
        let instructed = expected_from.as_ref() == Some(&request.from)
            && own.isin == proposal.isin
            && own.quantity.value().same_value(proposal.quantity.value())
            && own.settlement_date == proposal.settlement_date
            && match (&own.settlement_amount, &proposal.settlement_amount) {
                (Some(a), Some(b)) => a.currency == b.currency && a.amount.same_value(&b.amount),
                (None, None) => true,
                _ => false,
            };
        if !instructed {
            return Err(mismatch(format!("the {} leg of {} is not what instruction {instruction_id} instructed: account, security, quantity, amount or date differ", request.leg, proposal.settlement_id)));
        }
        if let Some(cash) = &proposal.cash_leg {
            let gap_ms = (proposal.securities_leg.expires_at.unix_millis()
                - cash.expires_at.unix_millis())
            .max(0);
            let delta = i128::from(self.config.timing.delta_ms());
            if own.payment == Payment::AgainstPayment
                && gap_ms < delta
                && !self.is_broken(GatewayBroken::IgnoreDelta)
            {
                return Err((
                    isthmus_spec::ReasonCode::ExpiryOrder.as_str().to_string(),
                    format!("the securities leg expires {gap_ms} ms after the cash leg, less than this network's Δ of {delta} ms"),
                ));
            }
        }
        let key = leg_key(&proposal.settlement_id, request.leg, "lock");
        #[allow(unused_mut)]
        let mut order = LockOrder::from_request(request, &self.config.market, key)
            .map_err(|failure| ledger_code(&failure))?;
        #[cfg(feature = "broken-variants")]
        if self.is_broken(GatewayBroken::CreditsWrongAccount) {
            if let Some(other) = self.other_participant_account(&request.from, request.leg) {
                order.beneficiary = other;
            }
        }
        Ok(order)
    }

    // ----- learning p and claiming (ISM-1 §12.6 rules 5–6, §12.7) -----

    fn on_claim_request(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        request: ClaimRequest,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(settlement) = self
            .settlements
            .get(&request.settlement_id)
            .filter(|s| s.relay == message.sender)
        else {
            let text = format!(
                "{} has no settlement {} from {}",
                self.config.node, request.settlement_id, message.sender
            );
            return self.refuse(
                step,
                message,
                SettlementReason::SettlementUnknown.as_str(),
                &text,
                now_ms,
                entropy,
            );
        };
        if request.hashlock != settlement.proposal.hashlock {
            let text = format!(
                "the claim request opens {}, not the hashlock {} of settlement {}",
                request.hashlock, settlement.proposal.hashlock, request.settlement_id
            );
            return self.refuse(
                step,
                message,
                SettlementReason::HashlockMismatch.as_str(),
                &text,
                now_ms,
                entropy,
            );
        }
        let id = request.settlement_id.clone();
        self.learn(
            now_ms,
            message,
            &id,
            &request.preimage,
            &request.hashlock,
            step,
            entropy,
        );
    }

    fn on_hand_over(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        receipt: ClaimReceipt,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let Some(settlement) = self.settlements.get(&receipt.settlement_id) else {
            let text = format!(
                "{} has no settlement {}",
                self.config.node, receipt.settlement_id
            );
            return self.refuse(
                step,
                message,
                SettlementReason::SettlementUnknown.as_str(),
                &text,
                now_ms,
                entropy,
            );
        };
        let leg_market = match receipt.leg {
            Leg::Securities => Some(&settlement.proposal.securities_leg.market),
            Leg::Cash => settlement.proposal.cash_leg.as_ref().map(|leg| &leg.market),
        };
        if leg_market.and_then(|market| self.config.gateway_of(market)) != Some(&message.sender) {
            let text = format!(
                "{} is not the gateway of the {} leg of {}",
                message.sender, receipt.leg, receipt.settlement_id
            );
            return self.refuse(
                step,
                message,
                SettlementReason::SenderNotParty.as_str(),
                &text,
                now_ms,
                entropy,
            );
        }
        if receipt.hashlock != settlement.proposal.hashlock {
            let text = format!(
                "the claim receipt opens {}, not the hashlock of settlement {}",
                receipt.hashlock, receipt.settlement_id
            );
            return self.refuse(
                step,
                message,
                SettlementReason::HashlockMismatch.as_str(),
                &text,
                now_ms,
                entropy,
            );
        }
        let news = !settlement.peer_claimed.contains(&receipt.leg);
        if news {
            let mut settlement = settlement.clone();
            settlement.peer_claimed.push(receipt.leg);
            step.records
                .push(Record::Settlement(Box::new(settlement.clone())));
            self.settlements.insert(settlement.id().clone(), settlement);
        }
        let id = receipt.settlement_id.clone();
        self.learn(
            now_ms,
            message,
            &id,
            &receipt.preimage,
            &receipt.hashlock,
            step,
            entropy,
        );
        // §12.7 rule 2: the first hand-over for a leg is answered with our own
        // ClaimReceipts if we have them (else they go when our claim is
        // recorded); a hand-over recorded before gets no answer, so that two
        // gateways never answer each other's answers.
        if !news {
            return;
        }
        if let Some(settlement) = self.settlements.get(&id) {
            for leg in settlement.legs.iter().filter(|leg| leg.leg != receipt.leg) {
                if let Some(claimed) = &leg.claimed {
                    let body = Body::ClaimReceipt(claimed.receipt(id.clone(), leg.leg));
                    self.send(step, &message.sender, body, now_ms, entropy);
                }
            }
        }
    }

    /// Persists p and claims every leg locked under its hashlock (§12.6 rule 5).
    #[allow(clippy::too_many_arguments)]
    fn learn(
        &mut self,
        now_ms: u64,
        message: &Inbound,
        id: &Reference,
        preimage: &Preimage,
        hashlock: &Hashlock,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        if !preimage.opens(hashlock) {
            // Decoding refuses this already (PREIMAGE_MISMATCH); a message built in code might not.
            return self.refuse(
                step,
                message,
                isthmus_spec::ReasonCode::PreimageMismatch.as_str(),
                "the preimage does not open the hashlock",
                now_ms,
                entropy,
            );
        }
        let Some(settlement) = self.settlements.get(id) else {
            return;
        };
        let mut settlement = settlement.clone();
        let mut changed = settlement.secret.is_none();
        settlement.secret = Some(preimage.clone());
        let mut claims = Vec::new();
        for leg in settlement
            .legs
            .iter_mut()
            .filter(|leg| leg.phase == LegPhase::Locked)
        {
            let Some(locked) = &leg.locked else { continue };
            leg.phase = LegPhase::ClaimIntended;
            changed = true;
            claims.push((
                leg.leg,
                ClaimOrder {
                    key: leg_key(id, leg.leg, "claim"),
                    lock_id: locked.lock_id,
                    preimage: preimage.clone(),
                },
            ));
        }
        if !changed {
            // Known already: a repeated ClaimRequest gets our receipts again (§12.8).
            if self.config.is_relay(&message.sender) {
                for leg in &settlement.legs {
                    if let Some(claimed) = &leg.claimed {
                        let body = Body::ClaimReceipt(claimed.receipt(id.clone(), leg.leg));
                        self.send(step, &message.sender, body, now_ms, entropy);
                    }
                }
            }
            return;
        }
        settlement
            .handled
            .push((message.sender.clone(), message.id.clone()));
        step.cause = Some((message.sender.clone(), message.id.clone()));
        step.records
            .push(Record::Settlement(Box::new(settlement.clone())));
        for (leg, order) in claims {
            self.in_flight.insert((id.clone(), leg));
            step.actions.push(Output::Ledger {
                settlement_id: id.clone(),
                leg,
                command: LedgerCommand::Claim(order),
            });
        }
        self.settlements.insert(id.clone(), settlement);
    }

    // ----- the ledger's answers -----

    fn on_ledger(
        &mut self,
        now_ms: u64,
        id: &Reference,
        leg_name: Leg,
        result: CommandResult,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        self.in_flight.remove(&(id.clone(), leg_name));
        let Some(settlement) = self.settlements.get(id) else {
            return;
        };
        let mut settlement = settlement.clone();
        let relay = settlement.relay.clone();
        let secret = settlement.secret.clone();
        let Some(index) = settlement.legs.iter().position(|leg| leg.leg == leg_name) else {
            return;
        };
        let leg = &mut settlement.legs[index];
        let mut sends: Vec<(NodeId, Body)> = Vec::new();
        let mut commands: Vec<LedgerCommand> = Vec::new();
        match (leg.phase, result) {
            (LegPhase::LockIntended, Ok(LedgerDone::Locked(locked))) => {
                leg.phase = LegPhase::Locked;
                if let Ok(receipt) = locked.receipt(id.clone(), leg_name) {
                    sends.push((relay.clone(), Body::LockReceipt(receipt)));
                }
                leg.locked = Some(locked.clone());
                if let Some(preimage) = secret {
                    // p came before our lock was confirmed: claim at once.
                    leg.phase = LegPhase::ClaimIntended;
                    commands.push(LedgerCommand::Claim(ClaimOrder {
                        key: leg_key(id, leg_name, "claim"),
                        lock_id: locked.lock_id,
                        preimage,
                    }));
                }
            }
            (LegPhase::LockIntended, Err(failure)) if failure.is_final() => {
                let (code, text) = ledger_code(&failure);
                leg.phase = LegPhase::LockRefused;
                leg.refusal = Some((code.clone(), text.clone()));
                sends.push((
                    relay.clone(),
                    Body::Error(error_body(&code, &text, Some(&leg.request_id))),
                ));
            }
            (LegPhase::ClaimIntended, Ok(LedgerDone::Claimed(claimed))) => {
                leg.phase = LegPhase::Claimed;
                leg.claimed = Some(claimed.clone());
                let receipt = Body::ClaimReceipt(claimed.receipt(id.clone(), leg_name));
                sends.push((relay.clone(), receipt.clone()));
                for peer in self.peer_gateways(&settlement.proposal, leg_name) {
                    sends.push((peer, receipt.clone()));
                }
            }
            (LegPhase::ClaimIntended, Err(failure)) if failure.is_final() => {
                // Expired (or otherwise refused): only the watcher's refund remains,
                // and p goes to nobody for this leg (§12.6 rule 6).
                leg.claim_refused = true;
            }
            (LegPhase::RefundIntended, Ok(LedgerDone::Refunded(refunded))) => {
                leg.phase = LegPhase::Refunded;
                leg.refunded = Some(refunded.clone());
                sends.push((
                    relay.clone(),
                    Body::RefundReceipt(refunded.receipt(id.clone(), leg_name)),
                ));
            }
            (LegPhase::RefundIntended, Err(failure))
                if failure.reason() == LedgerReason::LockNotExpired =>
            {
                // The ledger's clock is behind ours: back to waiting, retried
                // at the next timer under a new key, since the ledger answers
                // a repeated key with its first answer (A1, §12.6 rule 7).
                leg.refund_attempts += 1;
                leg.phase = if leg.claim_refused {
                    LegPhase::ClaimIntended
                } else {
                    LegPhase::Locked
                };
            }
            (LegPhase::RefundIntended, Err(failure)) if failure.is_final() => {
                // LOCK_SETTLED: claimed after all (by this gateway before a crash). Ask the claim again.
                if failure.reason() == LedgerReason::LockSettled {
                    if let (Some(preimage), Some(locked)) = (secret, &leg.locked) {
                        leg.phase = LegPhase::ClaimIntended;
                        leg.claim_refused = false;
                        commands.push(LedgerCommand::Claim(ClaimOrder {
                            key: leg_key(id, leg_name, "claim"),
                            lock_id: locked.lock_id,
                            preimage,
                        }));
                    }
                }
            }
            // Not final: the timer repeats the command with the same key
            // (§12.6 rules 4 and 6). A lock's first answer comes before any
            // timer of the settlement is set, so set it here. Stale answers
            // change nothing.
            (phase, Err(failure)) if !failure.is_final() && !phase.is_final() => {
                step.actions.push(Output::SetTimer {
                    timer: GatewayTimer::Settlement(id.clone()),
                    at_ms: self.next_due(now_ms, &settlement),
                });
                return;
            }
            _ => return,
        }
        step.records
            .push(Record::Settlement(Box::new(settlement.clone())));
        for (to, body) in sends {
            self.send(step, &to, body, now_ms, entropy);
        }
        for command in commands {
            self.in_flight.insert((id.clone(), leg_name));
            step.actions.push(Output::Ledger {
                settlement_id: id.clone(),
                leg: leg_name,
                command,
            });
        }
        step.actions.push(Output::SetTimer {
            timer: GatewayTimer::Settlement(id.clone()),
            at_ms: self.next_due(now_ms, &settlement),
        });
        self.settlements.insert(id.clone(), settlement);
    }

    /// The gateways of the settlement's other legs (§12.7 rule 1).
    fn peer_gateways(&self, proposal: &SettlementProposal, leg: Leg) -> Vec<NodeId> {
        let other_market = match leg {
            Leg::Securities => proposal.cash_leg.as_ref().map(|terms| &terms.market),
            Leg::Cash => Some(&proposal.securities_leg.market),
        };
        other_market
            .and_then(|market| self.config.gateway_of(market))
            .filter(|gateway| **gateway != self.config.node)
            .cloned()
            .into_iter()
            .collect()
    }

    // ----- the watcher and repetitions (ISM-1 §12.3 rules 4–5, §12.8) -----

    fn next_due(&self, now_ms: u64, settlement: &SettlementRecord) -> u64 {
        let repeat = now_ms + self.config.timing.retransmit_ms;
        let watcher = settlement
            .legs
            .iter()
            .filter(|leg| matches!(leg.phase, LegPhase::Locked | LegPhase::ClaimIntended))
            .map(|leg| leg_expiry_ms(leg) + self.config.timing.max_clock_skew_ms)
            .min();
        match watcher {
            // A watcher time already past was acted on at this firing, or
            // could not be (its ledger order is in flight): retry at the
            // repetition interval, never at once, so the timer cannot spin.
            Some(at) if at > now_ms => repeat.min(at),
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
        let Some(settlement) = self.settlements.get(id) else {
            return;
        };
        let mut settlement = settlement.clone();
        let skew = self.config.timing.max_clock_skew_ms;
        let watcher_broken = self.is_broken(GatewayBroken::WatcherNeverRefunds);
        let mut changed = false;
        let mut commands: Vec<(Leg, LedgerCommand)> = Vec::new();
        for leg in settlement.legs.iter_mut() {
            let in_flight = self.in_flight.contains(&(id.clone(), leg.leg));
            let expired = now_ms >= leg_expiry_ms(leg) + skew;
            match leg.phase {
                LegPhase::LockIntended if !in_flight => {
                    if let Some(order) = &leg.order {
                        commands.push((leg.leg, LedgerCommand::Lock(order.clone())));
                    }
                }
                LegPhase::ClaimIntended if !in_flight && !leg.claim_refused => {
                    if let (Some(preimage), Some(locked)) = (&settlement.secret, &leg.locked) {
                        commands.push((
                            leg.leg,
                            LedgerCommand::Claim(ClaimOrder {
                                key: leg_key(id, leg.leg, "claim"),
                                lock_id: locked.lock_id,
                                preimage: preimage.clone(),
                            }),
                        ));
                    }
                }
                // The watcher (§12.6 rule 7): unclaimed at expiry, or its claim refused.
                LegPhase::Locked | LegPhase::ClaimIntended
                    if expired
                        && !in_flight
                        && (leg.phase == LegPhase::Locked || leg.claim_refused)
                        && !watcher_broken =>
                {
                    leg.phase = LegPhase::RefundIntended;
                    changed = true;
                    if let Some(locked) = &leg.locked {
                        commands.push((
                            leg.leg,
                            LedgerCommand::Refund(RefundOrder {
                                key: refund_key(id, leg),
                                lock_id: locked.lock_id,
                            }),
                        ));
                    }
                }
                LegPhase::RefundIntended if !in_flight => {
                    if let Some(locked) = &leg.locked {
                        commands.push((
                            leg.leg,
                            LedgerCommand::Refund(RefundOrder {
                                key: refund_key(id, leg),
                                lock_id: locked.lock_id,
                            }),
                        ));
                    }
                }
                _ => {}
            }
        }
        if changed {
            step.records
                .push(Record::Settlement(Box::new(settlement.clone())));
        }
        for (leg, command) in commands {
            self.in_flight.insert((id.clone(), leg));
            step.actions.push(Output::Ledger {
                settlement_id: id.clone(),
                leg,
                command,
            });
        }
        self.repeat_receipts(now_ms, &settlement, step, entropy);
        let open = settlement.legs.iter().any(|leg| !leg.phase.is_final())
            || !settlement.final_word
                && settlement
                    .legs
                    .iter()
                    .any(|leg| leg.phase != LegPhase::LockRefused);
        if open {
            step.actions.push(Output::SetTimer {
                timer: GatewayTimer::Settlement(id.clone()),
                at_ms: self.next_due(now_ms, &settlement),
            });
        }
        self.settlements.insert(id.clone(), settlement);
    }

    /// §12.8: receipts to the relay until its final word; the hand-over to
    /// the other leg's gateway until it answers or its leg expired.
    fn repeat_receipts(
        &self,
        now_ms: u64,
        settlement: &SettlementRecord,
        step: &mut Step,
        entropy: &mut dyn Entropy,
    ) {
        let id = settlement.id();
        for leg in &settlement.legs {
            let receipt = match (&leg.claimed, &leg.refunded) {
                (Some(claimed), _) => {
                    Some(Body::ClaimReceipt(claimed.receipt(id.clone(), leg.leg)))
                }
                (None, Some(refunded)) => {
                    Some(Body::RefundReceipt(refunded.receipt(id.clone(), leg.leg)))
                }
                _ => None,
            };
            let Some(receipt) = receipt else { continue };
            if !settlement.final_word {
                self.send(step, &settlement.relay, receipt.clone(), now_ms, entropy);
            }
            if leg.claimed.is_none() || settlement.final_word {
                continue;
            }
            let other_leg = match leg.leg {
                Leg::Securities => Leg::Cash,
                Leg::Cash => Leg::Securities,
            };
            let other_expiry = match other_leg {
                Leg::Securities => Some(&settlement.proposal.securities_leg.expires_at),
                Leg::Cash => settlement
                    .proposal
                    .cash_leg
                    .as_ref()
                    .map(|terms| &terms.expires_at),
            };
            let still_claimable = other_expiry.is_some_and(|at| {
                i128::from(now_ms)
                    < at.unix_millis() + i128::from(self.config.timing.max_clock_skew_ms)
            });
            if still_claimable && !settlement.peer_claimed.contains(&other_leg) {
                for peer in self.peer_gateways(&settlement.proposal, leg.leg) {
                    self.send(step, &peer, receipt.clone(), now_ms, entropy);
                }
            }
        }
    }
}

/// Adds a notice for the participant to `record` (persisted with it) and
/// tells the participant once the write is durable.
fn notify(record: &mut InstructionRecord, body: Body, step: &mut Step) {
    step.actions.push(Output::Notify {
        instruction_id: record.instruction.instruction_id.clone(),
        index: record.notices.len(),
        body: body.clone(),
    });
    record.notices.push(body);
}

/// How far an instruction has come, by the relay's statuses (ISM-1 §12.2 item 1).
fn status_rank(state: InstructionState) -> u8 {
    match state {
        InstructionState::Accepted => 0,
        InstructionState::Unmatched => 1,
        InstructionState::Matched | InstructionState::Pending => 2,
        InstructionState::Rejected | InstructionState::Cancelled => 3,
    }
}

/// The instruction of this gateway's participant that a leg locks for (§12.6 rule 3).
fn instruction_of(proposal: &SettlementProposal, leg: Leg) -> &Reference {
    match leg {
        Leg::Securities => &proposal.deliver_instruction_id,
        Leg::Cash => &proposal.receive_instruction_id,
    }
}

/// The ledger idempotency key of one action on one leg (ISM-1 §6.4 duty 7).
/// The key of a leg's refund: `…/refund`, then `…/refund-2`, `…/refund-3`, …
/// after each `LOCK_NOT_EXPIRED` (ISM-1 §12.6 rule 7).
fn refund_key(settlement_id: &Reference, leg: &LegRecord) -> IdempotencyKey {
    match leg.refund_attempts {
        0 => leg_key(settlement_id, leg.leg, "refund"),
        n => leg_key(settlement_id, leg.leg, &format!("refund-{}", n + 1)),
    }
}

fn leg_key(settlement_id: &Reference, leg: Leg, action: &str) -> IdempotencyKey {
    let text = format!("{settlement_id}/{leg}/{action}");
    match IdempotencyKey::new(text.clone()) {
        Ok(key) => key,
        Err(error) => unreachable!("{text} is not an idempotency key: {error}"),
    }
}

/// A leg's expiry in ledger milliseconds (the request's, taken exactly, ISM-1 §6.4 duty 5).
fn leg_expiry_ms(leg: &LegRecord) -> u64 {
    leg.order
        .as_ref()
        .map(|order| order.expiry_ms)
        .unwrap_or_else(|| u64::try_from(leg.request.expires_at.unix_millis()).unwrap_or(0))
}

fn ledger_code(failure: &LedgerFailure) -> (String, String) {
    (failure.reason().as_str().to_string(), failure.to_string())
}
