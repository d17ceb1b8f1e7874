//! The gateway node: the gateway engine hosted ([`crate::host`]) with its
//! market's ledger side, behind its store and the QUIC endpoint (ISM-1 §8,
//! §12.6). Ledger commands run on the engine's thread, where their answers
//! go straight back to the engine; notices for participants are kept in the
//! engine's records until the participant API has them. Participants and
//! operators reach it through [`GatewayHandle`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use isthmus_adapters::custody::CustodyLedger;
use isthmus_adapters::ledger_side::{LedgerCommand, LedgerSide};
use isthmus_adapters::native_ledger::NativeLedger;
use isthmus_gateway::{Gateway, GatewayConfig, GatewayTimer, Input, Output, Record};
use isthmus_ledger::operation::Operation;
use isthmus_ledger::state::Holding;
use isthmus_ledger::{AccountRef, Asset, LedgerFailure};
use isthmus_spec::body::{Body, Leg, SettlementInstruction};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{NodeId, Reference};
use isthmus_spec::protocol::{Entropy, Inbound};
use isthmus_store::log::LogFiles;
use isthmus_store::{Clock, KvStore};
use isthmus_transport::NodeContext;
use tracing::{info, warn};

use crate::host::{
    AfterDurable, Command, HostOutput, Hosted, LocalCommands, RunningNode, StartError,
};
use crate::metrics::LatencyHistogram;
use crate::store::{EngineRecord, NodeStore};

impl EngineRecord for Record {
    type Key = isthmus_gateway::RecordKey;
    fn key(&self) -> Self::Key {
        Record::key(self)
    }
}

/// A gateway's ledger: the ledger side the engine drives, and the
/// operator's own operations (open an account, issue, freeze), which only a
/// ledger the gateway runs itself offers.
pub trait GatewayLedger: LedgerSide {
    /// Runs an operator's operation under `key` (idempotent per key).
    fn operate(&mut self, key: &str, operation: Operation) -> Result<(), LedgerFailure>;
}

impl<S: LogFiles + Send> GatewayLedger for NativeLedger<S> {
    fn operate(&mut self, key: &str, operation: Operation) -> Result<(), LedgerFailure> {
        self.execute(key, operation).map(drop)
    }
}

impl<S: LogFiles + Send, R: KvStore + Send> GatewayLedger for CustodyLedger<NativeLedger<S>, R> {
    /// The operator's operations go to the ledger underneath, which the
    /// custodian's escrow sits on.
    fn operate(&mut self, key: &str, operation: Operation) -> Result<(), LedgerFailure> {
        self.underlying_mut().execute(key, operation).map(drop)
    }
}

/// The idempotency key under which a custody gateway opens its escrow account.
pub const ESCROW_OPEN_KEY: &str = "isthmus/custody/open-escrow";

/// A market whose ledger cannot lock, behind a gateway: hashed timelocks
/// through the custodian's `escrow` account on `native`, which the custody
/// adapter uses for plain transfers only (DESIGN.md §4), with its HTLC records
/// in `records`. Opens the escrow account first if the ledger has none, and
/// finishes any step a crash interrupted.
pub fn custody_ledger<S: LogFiles + Send, R: KvStore + Send>(
    market: Mic,
    mut native: NativeLedger<S>,
    escrow: &AccountRef,
    records: R,
    clock: Box<dyn Clock>,
) -> Result<CustodyLedger<NativeLedger<S>, R>, LedgerFailure> {
    if native.ledger().account_frozen(escrow)?.is_none() {
        let open = Operation::open_account(&escrow.to_string()).map_err(LedgerFailure::from)?;
        native.execute(ESCROW_OPEN_KEY, open)?;
        info!(%escrow, "escrow account opened");
    }
    CustodyLedger::open(market, escrow.clone(), native, records, clock)
}

/// A gateway engine with its ledger.
pub struct HostedGateway {
    gateway: Gateway,
    ledger: Box<dyn GatewayLedger>,
    /// When each instruction taken since start was taken, gateway
    /// milliseconds, until its final word: for the latency histogram.
    taken_at_ms: std::collections::HashMap<Reference, u64>,
    /// From an instruction taken to its final word, since start.
    latency: LatencyHistogram,
    /// Who waits for an instruction's final word ([`GatewayHandle::final_word`]).
    final_waiters: std::collections::HashMap<
        Reference,
        Vec<tokio::sync::oneshot::Sender<Option<InstructionView>>>,
    >,
}

/// What the gateway engine asks for beyond the host's outputs.
pub enum GatewayOther {
    /// A ledger command.
    Ledger {
        /// The settlement.
        settlement_id: Reference,
        /// The leg.
        leg: Leg,
        /// The command.
        command: Box<LedgerCommand>,
    },
    /// A notice for the participant, already kept in the engine's records.
    Notify {
        /// The instruction.
        instruction_id: Reference,
        /// Its place.
        index: usize,
    },
}

impl Hosted for HostedGateway {
    type Record = Record;
    type Timer = GatewayTimer;
    type Other = GatewayOther;

    fn timer_span(timer: &GatewayTimer) -> tracing::Span {
        match timer {
            GatewayTimer::Instruction(id) => crate::host::instruction_span(id),
            GatewayTimer::Settlement(id) => crate::host::settlement_span(id),
        }
    }

    fn resume(&mut self, now_ms: u64) {
        self.gateway.resume(now_ms);
    }

    fn message(&mut self, now_ms: u64, message: Inbound, entropy: &mut dyn Entropy) {
        self.gateway
            .handle(now_ms, Input::Message(message), entropy);
    }

    fn timer(&mut self, now_ms: u64, timer: GatewayTimer, entropy: &mut dyn Entropy) {
        self.gateway.handle(now_ms, Input::Timer(timer), entropy);
    }

    fn persisted(&mut self, now_ms: u64, id: u64, entropy: &mut dyn Entropy) {
        self.gateway.handle(now_ms, Input::Persisted(id), entropy);
    }

    fn poll(&mut self) -> Option<HostOutput<Record, GatewayTimer, GatewayOther>> {
        self.gateway.poll().map(|output| match output {
            Output::Persist(write) => HostOutput::Persist {
                id: write.id,
                records: write.records,
            },
            Output::Send(outbound) => HostOutput::Send(Box::new(outbound)),
            Output::SetTimer { timer, at_ms } => HostOutput::SetTimer { timer, at_ms },
            Output::Ledger {
                settlement_id,
                leg,
                command,
            } => HostOutput::Other(GatewayOther::Ledger {
                settlement_id,
                leg,
                command: Box::new(command),
            }),
            Output::Notify {
                instruction_id,
                index,
                body: _,
            } => HostOutput::Other(GatewayOther::Notify {
                instruction_id,
                index,
            }),
        })
    }

    fn others(&mut self, now_ms: u64, others: Vec<GatewayOther>, entropy: &mut dyn Entropy) {
        let mut commands = Vec::new();
        let mut notices = Vec::new();
        for other in others {
            match other {
                GatewayOther::Ledger {
                    settlement_id,
                    leg,
                    command,
                } => commands.push((settlement_id, leg, *command)),
                GatewayOther::Notify {
                    instruction_id,
                    index,
                } => notices.push((instruction_id, index)),
            }
        }
        if !commands.is_empty() {
            self.run_ledger_commands(now_ms, commands, entropy);
        }
        for (instruction_id, index) in notices {
            self.notice_taken(now_ms, instruction_id, index, entropy);
        }
    }
}

impl HostedGateway {
    /// The ledger commands released together, as one batch on the ledger
    /// (one sync for all); each result goes to the engine.
    fn run_ledger_commands(
        &mut self,
        now_ms: u64,
        commands: Vec<(Reference, Leg, LedgerCommand)>,
        entropy: &mut dyn Entropy,
    ) {
        let (legs, orders): (Vec<(Reference, Leg)>, Vec<LedgerCommand>) = commands
            .into_iter()
            .map(|(settlement_id, leg, command)| ((settlement_id, leg), command))
            .unzip();
        let results = self.ledger.execute_batch(&orders);
        assert_eq!(
            results.len(),
            orders.len(),
            "a ledger answers every command"
        );
        for (((settlement_id, leg), command), result) in legs.into_iter().zip(&orders).zip(results)
        {
            match &result {
                Ok(_) => {
                    info!(%settlement_id, ?leg, command = command.name(), key = %command.key(), "ledger done")
                }
                Err(failure) => {
                    warn!(%settlement_id, ?leg, command = command.name(), %failure, "ledger refused or failed")
                }
            }
            self.gateway.handle(
                now_ms,
                Input::Ledger {
                    settlement_id,
                    leg,
                    result,
                },
                entropy,
            );
        }
    }

    /// What the participant sees of an instruction.
    fn view(&self, id: &Reference) -> Option<InstructionView> {
        self.gateway.instruction(id).map(|record| InstructionView {
            instruction: record.instruction.clone(),
            status: record.status.map(|s| s.as_str().to_string()),
            final_word: record.final_word,
            notices: record.notices.clone(),
        })
    }

    /// A notice is in the instruction's record, where the API reads it: the
    /// participant has it as soon as it asks.
    fn notice_taken(
        &mut self,
        now_ms: u64,
        instruction_id: Reference,
        index: usize,
        entropy: &mut dyn Entropy,
    ) {
        let final_word = self
            .gateway
            .instruction(&instruction_id)
            .is_some_and(|record| record.final_word);
        if final_word {
            if let Some(taken) = self.taken_at_ms.remove(&instruction_id) {
                self.latency.observe(now_ms.saturating_sub(taken));
            }
            // The notice is durable (it was released after its write).
            if let Some(waiters) = self.final_waiters.remove(&instruction_id) {
                let view = self.view(&instruction_id);
                for waiter in waiters {
                    let _ = waiter.send(view.clone());
                }
            }
        }
        self.gateway.handle(
            now_ms,
            Input::Acknowledged {
                instruction_id,
                index,
            },
            entropy,
        )
    }
}

/// Where an instruction stands, for its participant.
#[derive(Debug, Clone)]
pub struct InstructionView {
    /// The instruction.
    pub instruction: SettlementInstruction,
    /// The relay's last status, if any (`ACCEPTED`, `MATCHED`, …).
    pub status: Option<String>,
    /// Whether the relay's final word came.
    pub final_word: bool,
    /// Every status advice and confirmation, in order.
    pub notices: Vec<Body>,
}

/// A settlement as its gateway follows it, for a participant.
#[derive(Debug, Clone)]
pub struct SettlementView {
    /// The relay's proposal (as a body).
    pub proposal: Body,
    /// The legs this gateway holds: (leg, phase).
    pub legs: Vec<(String, String)>,
    /// Whether the relay's final word came.
    pub final_word: bool,
    /// The instructions of the settlement that this gateway holds.
    pub instructions: Vec<SettlementInstruction>,
}

/// What became of a submitted instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// New, and durable.
    Accepted,
    /// The same instruction was accepted before: nothing new.
    Repeated,
    /// Another instruction has this id: refused.
    IdReused,
}

/// A question or order for the gateway's thread.
pub enum Local {
    /// A participant's instruction, to go to `relay`; answered once durable.
    Submit {
        /// The instruction (its gateway-completed form).
        instruction: Box<SettlementInstruction>,
        /// The relay.
        relay: NodeId,
        /// What became of it.
        reply: tokio::sync::oneshot::Sender<Submitted>,
    },
    /// An instruction's state.
    Instruction {
        /// Which.
        id: Reference,
        /// It, if known.
        reply: tokio::sync::oneshot::Sender<Option<InstructionView>>,
    },
    /// An instruction's state once the relay's final word on it came (at
    /// once if it has), or `None` if the gateway has no such instruction.
    FinalWord {
        /// Which.
        id: Reference,
        /// It, once final.
        reply: tokio::sync::oneshot::Sender<Option<InstructionView>>,
    },
    /// An operator's ledger operation.
    Operate {
        /// Its idempotency key.
        key: String,
        /// It.
        operation: Box<Operation>,
        /// Done, or why not.
        reply: tokio::sync::oneshot::Sender<Result<(), LedgerFailure>>,
    },
    /// A settlement as this gateway follows it.
    Settlement {
        /// Which.
        id: Reference,
        /// It, with the instructions of it this gateway holds.
        reply: tokio::sync::oneshot::Sender<Option<SettlementView>>,
    },
    /// Every instruction with its notices so far.
    Notices {
        /// Them.
        reply: tokio::sync::oneshot::Sender<Vec<(SettlementInstruction, Vec<Body>)>>,
    },
    /// Counts for `/metrics`.
    Stats {
        /// Them.
        reply: tokio::sync::oneshot::Sender<GatewayStats>,
    },
    /// An account's holdings.
    Holdings {
        /// Whose.
        account: AccountRef,
        /// Them.
        reply: tokio::sync::oneshot::Sender<Result<Vec<(Asset, Holding)>, LedgerFailure>>,
    },
}

impl LocalCommands<HostedGateway> for Local {
    fn span(&self) -> tracing::Span {
        match self {
            Local::Submit { instruction, .. } => {
                crate::host::instruction_span(&instruction.instruction_id)
            }
            _ => tracing::Span::none(),
        }
    }

    fn run(
        self,
        engine: &mut HostedGateway,
        now_ms: u64,
        entropy: &mut dyn Entropy,
    ) -> Option<AfterDurable> {
        match self {
            Local::Submit {
                instruction,
                relay,
                reply,
            } => {
                // Decided on the engine's thread, so two submissions of one id
                // cannot both be taken for new (ISM-1 §12.4: an id is used once).
                if let Some(known) = engine.gateway.instruction(&instruction.instruction_id) {
                    let repeat = if known.instruction == *instruction {
                        Submitted::Repeated
                    } else {
                        Submitted::IdReused
                    };
                    let _ = reply.send(repeat);
                    return None;
                }
                engine
                    .taken_at_ms
                    .insert(instruction.instruction_id.clone(), now_ms);
                engine.gateway.handle(
                    now_ms,
                    Input::Submit {
                        instruction: *instruction,
                        relay,
                    },
                    entropy,
                );
                // Answered once the instruction is durable.
                Some(Box::new(move || {
                    let _ = reply.send(Submitted::Accepted);
                }))
            }
            Local::Instruction { id, reply } => {
                let _ = reply.send(engine.view(&id));
                None
            }
            Local::FinalWord { id, reply } => {
                match engine.view(&id) {
                    Some(view) if !view.final_word => {
                        engine.final_waiters.entry(id).or_default().push(reply)
                    }
                    view => {
                        let _ = reply.send(view);
                    }
                }
                None
            }
            Local::Holdings { account, reply } => {
                let _ = reply.send(engine.ledger.holdings(&account));
                None
            }
            Local::Settlement { id, reply } => {
                let view = engine.gateway.settlement(&id).map(|record| {
                    let proposal = &record.proposal;
                    let instructions = [
                        &proposal.deliver_instruction_id,
                        &proposal.receive_instruction_id,
                    ]
                    .into_iter()
                    .filter_map(|i| engine.gateway.instruction(i).map(|r| r.instruction.clone()))
                    .collect();
                    SettlementView {
                        proposal: Body::SettlementProposal(proposal.clone()),
                        legs: record
                            .legs
                            .iter()
                            .map(|leg| (leg.leg.as_str().to_string(), format!("{:?}", leg.phase)))
                            .collect(),
                        final_word: record.final_word,
                        instructions,
                    }
                });
                let _ = reply.send(view);
                None
            }
            Local::Notices { reply } => {
                let all = engine
                    .gateway
                    .instructions()
                    .map(|(_, record)| (record.instruction.clone(), record.notices.clone()))
                    .collect();
                let _ = reply.send(all);
                None
            }
            Local::Stats { reply } => {
                let mut stats = GatewayStats {
                    latency: engine.latency.clone(),
                    ..GatewayStats::default()
                };
                for (_, record) in engine.gateway.instructions() {
                    let status = record.status.map_or("SUBMITTED", |s| s.as_str());
                    *stats.instructions.entry(status.to_string()).or_default() += 1;
                }
                for settlement in engine.gateway.settlements() {
                    for leg in &settlement.legs {
                        *stats.legs.entry(format!("{:?}", leg.phase)).or_default() += 1;
                    }
                }
                let _ = reply.send(stats);
                None
            }
            Local::Operate {
                key,
                operation,
                reply,
            } => {
                let _ = reply.send(engine.ledger.operate(&key, *operation));
                None
            }
        }
    }
}

/// What a gateway holds, counted (for `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Participants' instructions by the relay's last status (`SUBMITTED`
    /// before the first).
    pub instructions: BTreeMap<String, u64>,
    /// Legs this gateway holds, by phase.
    pub legs: BTreeMap<String, u64>,
    /// From an instruction taken to the relay's final word on it, for the
    /// instructions taken since start.
    pub latency: LatencyHistogram,
}

/// Asks the gateway's thread.
#[derive(Clone)]
pub struct GatewayHandle {
    commands: mpsc::Sender<Command<Local>>,
    counts: isthmus_transport::endpoint::CountsHandle,
}

/// The gateway's thread is gone.
#[derive(Debug, thiserror::Error)]
#[error("the gateway's engine has stopped")]
pub struct Stopped;

impl GatewayHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Local,
    ) -> Result<T, Stopped> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.commands
            .send(Command::Local(make(reply)))
            .map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }

    /// Submits an instruction; returns once the gateway has it durably.
    pub async fn submit(
        &self,
        instruction: SettlementInstruction,
        relay: NodeId,
    ) -> Result<Submitted, Stopped> {
        self.ask(|reply| Local::Submit {
            instruction: Box::new(instruction),
            relay,
            reply,
        })
        .await
    }

    /// An instruction's state.
    pub async fn instruction(&self, id: &Reference) -> Result<Option<InstructionView>, Stopped> {
        self.ask(|reply| Local::Instruction {
            id: id.clone(),
            reply,
        })
        .await
    }

    /// An instruction once the relay's final word on it has come (its
    /// confirmation, or the status that ends it), waiting for it without
    /// polling; `None` if the gateway has no such instruction.
    pub async fn final_word(&self, id: &Reference) -> Result<Option<InstructionView>, Stopped> {
        self.ask(|reply| Local::FinalWord {
            id: id.clone(),
            reply,
        })
        .await
    }

    /// Runs an operator's ledger operation.
    pub async fn operate(
        &self,
        key: String,
        operation: Operation,
    ) -> Result<Result<(), LedgerFailure>, Stopped> {
        self.ask(|reply| Local::Operate {
            key,
            operation: Box::new(operation),
            reply,
        })
        .await
    }

    /// A settlement as this gateway follows it.
    pub async fn settlement(&self, id: &Reference) -> Result<Option<SettlementView>, Stopped> {
        self.ask(|reply| Local::Settlement {
            id: id.clone(),
            reply,
        })
        .await
    }

    /// Every instruction with its notices so far.
    pub async fn notices(&self) -> Result<Vec<(SettlementInstruction, Vec<Body>)>, Stopped> {
        self.ask(|reply| Local::Notices { reply }).await
    }

    /// Counts of instructions and legs.
    pub async fn stats(&self) -> Result<GatewayStats, Stopped> {
        self.ask(|reply| Local::Stats { reply }).await
    }

    /// The transport's counts.
    pub fn transport_counts(&self) -> isthmus_transport::endpoint::TransportCounts {
        self.counts.get()
    }

    /// An account's holdings on this market's ledger.
    pub async fn holdings(
        &self,
        account: &AccountRef,
    ) -> Result<Result<Vec<(Asset, Holding)>, LedgerFailure>, Stopped> {
        self.ask(|reply| Local::Holdings {
            account: account.clone(),
            reply,
        })
        .await
    }
}

/// A running gateway node.
pub struct GatewayNode {
    node: RunningNode<Local>,
}

impl GatewayNode {
    /// Loads the store, rebuilds and resumes the engine, binds `listen` and serves.
    pub fn start(
        listen: SocketAddr,
        transport: NodeContext,
        config: GatewayConfig,
        ledger: Box<dyn GatewayLedger>,
        peers: BTreeMap<NodeId, SocketAddr>,
        store: Box<dyn NodeStore<Record>>,
        clock: Arc<dyn Clock>,
    ) -> Result<GatewayNode, StartError> {
        let records = store.load()?;
        info!(records = records.len(), market = %config.market, "gateway store loaded");
        #[cfg(feature = "broken-nodes")]
        let records =
            if isthmus_transport::broken::active(isthmus_transport::broken::Fault::ForgetOnRestart)
            {
                Vec::new()
            } else {
                records
            };
        let engine = HostedGateway {
            gateway: Gateway::restore(config, records),
            ledger,
            taken_at_ms: std::collections::HashMap::new(),
            final_waiters: std::collections::HashMap::new(),
            latency: LatencyHistogram::default(),
        };
        let node = RunningNode::start(
            "gateway-engine",
            listen,
            transport,
            peers,
            engine,
            store,
            clock,
        )?;
        Ok(GatewayNode { node })
    }

    /// Where it serves QUIC.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.node.local_addr()
    }

    /// A handle for the participant API.
    pub fn handle(&self) -> GatewayHandle {
        GatewayHandle {
            commands: self.node.commands(),
            counts: self.node.endpoint().counts_handle(),
        }
    }

    /// Stops taking requests, lets the streams in progress finish (up to
    /// `drain`), stops the engine and closes the store.
    pub async fn shutdown(self, drain: Duration) {
        self.node.shutdown(drain).await;
    }
}
