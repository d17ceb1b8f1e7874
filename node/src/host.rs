//! What runs an engine in a node: the engine on a thread of its own, its
//! store, its timers, and the way out to the transport (ISM-1 §12.9).
//!
//! Every message that passed the receiver duties 1–5 comes to the engine's
//! thread. There exactly-once (step 6) is checked against the store; the
//! engine runs; each write it asks for is committed durably, with the
//! record of the message that caused it, before the engine hears it is
//! durable — so before any message it releases is sent — and only then is
//! the request acknowledged. The relay and the gateway differ only in what
//! else their engines ask for ([`Hosted::others`]).
//!
//! **Group commit.** The thread takes every command waiting (up to
//! [`MAX_ROUND_COMMANDS`]) as one *round*: the engine handles them all, then
//! everything they asked to persist — records and the messages handled — is
//! committed in one atomic write with one sync, the ledger commands that
//! released go to the ledger as one batch, and so on until the engine asks
//! for nothing more. The round's requests are acknowledged as soon as its
//! first commit is durable — every message recorded as handled, with what
//! it changed (ISM-1 §8.3.6) — not after the ledger work it released, which
//! a restart resumes from those records. Under load a sync serves many
//! messages instead of one; alone, a message costs what it did. Nothing is
//! acknowledged or sent before the write that explains it is durable: the
//! engine releases messages only once told their writes are durable.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use isthmus_spec::body::Body;
use isthmus_spec::ids::{MessageId, NodeId, Reference};
use isthmus_spec::protocol::{Entropy, Inbound, Outbound};
use isthmus_spec::sign::SigningKey;
use isthmus_spec::time::Timestamp;
use isthmus_spec::{Envelope, ReasonCode, Rejection};
use isthmus_store::Clock;
use isthmus_transport::duties::Checked;
use isthmus_transport::{Answer, Delivered, Endpoint, Handler, NodeContext, Request};
use ring::rand::SecureRandom;
use tracing::{debug, error, info, warn, Span};

use isthmus_transport::endpoint::{EndpointError, SendError};

use crate::store::{EngineRecord, Handled, NodeStore, NodeStoreError};

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Its store.
    #[error("the store: {0}")]
    Store(#[from] NodeStoreError),
    /// Its endpoint.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// Its signing key could not be copied for the sender.
    #[error("the signing key: {0}")]
    Key(String),
    /// Its engine's thread.
    #[error("starting the engine's thread: {0}")]
    Thread(std::io::Error),
}

/// Randomness for engines: the system's CSPRNG.
pub struct SystemEntropy(ring::rand::SystemRandom);

impl SystemEntropy {
    /// The system's generator.
    pub fn new() -> SystemEntropy {
        SystemEntropy(ring::rand::SystemRandom::new())
    }
}

impl Default for SystemEntropy {
    fn default() -> SystemEntropy {
        SystemEntropy::new()
    }
}

impl Entropy for SystemEntropy {
    fn fill(&mut self, dest: &mut [u8]) {
        // Secrets come from here: a failing generator is not worked around.
        assert!(
            self.0.fill(dest).is_ok(),
            "the system random generator failed"
        );
    }
}

/// A second handle on a signing key (ring's keys are not `Clone`): the
/// engine's thread and the sender each hold one.
pub fn copy_key(key: &SigningKey) -> Result<SigningKey, String> {
    SigningKey::from_pem(&key.to_pem()).map_err(|e| e.to_string())
}

/// An output of a hosted engine.
pub enum HostOutput<R, T, X> {
    /// Commit these records (durably), then report [`Hosted::persisted`].
    /// Writes are committed in the order given; several may go in one commit.
    Persist {
        /// The write's id.
        id: u64,
        /// The records (the host commits the messages its round handled
        /// with them).
        records: Vec<R>,
    },
    /// Send a message.
    Send(Box<Outbound>),
    /// Call [`Hosted::timer`] at or after `at_ms`.
    SetTimer {
        /// Which.
        timer: T,
        /// When.
        at_ms: u64,
    },
    /// Something only this engine asks for (the gateway's ledger commands
    /// and participant notices), for [`Hosted::other`].
    Other(X),
}

/// An engine a node can host.
pub trait Hosted: Send + 'static {
    /// What it persists.
    type Record: EngineRecord;
    /// Its timers.
    type Timer: Ord + Clone + Debug + Send;
    /// Its other outputs.
    type Other: Send;
    /// Rebuilt after a restart: resume every settlement in flight.
    fn resume(&mut self, now_ms: u64);
    /// A message that passed the receiver duties.
    fn message(&mut self, now_ms: u64, message: Inbound, entropy: &mut dyn Entropy);
    /// A timer is due.
    fn timer(&mut self, now_ms: u64, timer: Self::Timer, entropy: &mut dyn Entropy);
    /// Every write up to `id` is durable.
    fn persisted(&mut self, now_ms: u64, id: u64, entropy: &mut dyn Entropy);
    /// The next output, if any.
    fn poll(&mut self) -> Option<HostOutput<Self::Record, Self::Timer, Self::Other>>;
    /// Handles the [`HostOutput::Other`]s released since the last call, in
    /// order (they may feed the engine at once). Given together so that an
    /// engine can batch them: the gateway's ledger commands go to its
    /// ledger as one batch, made durable with one sync.
    fn others(&mut self, now_ms: u64, others: Vec<Self::Other>, entropy: &mut dyn Entropy);
    /// The span a timer's work is logged in: its settlement's or instruction's.
    fn timer_span(timer: &Self::Timer) -> Span;
}

/// The span of a settlement's work: every line logged in it names the
/// settlement.
pub fn settlement_span(id: &Reference) -> Span {
    tracing::info_span!("settlement", id = %id)
}

/// The span of an instruction's work before it has a settlement.
pub fn instruction_span(id: &Reference) -> Span {
    tracing::info_span!("instruction", id = %id)
}

/// The span a message's handling is logged in: the settlement it names, else
/// the instruction it carries, else none.
fn message_span(body: &Body) -> Span {
    match (body.settlement_id(), body) {
        (Some(id), _) => settlement_span(id),
        (None, Body::SettlementInstruction(instruction)) => {
            instruction_span(&instruction.instruction_id)
        }
        _ => Span::none(),
    }
}

/// A command for the engine's thread.
pub enum Command<L> {
    /// A message; the answer goes back on `reply` once it is durable.
    Message {
        /// It.
        checked: Box<Checked>,
        /// Where the answer goes (none for answers that came back on a stream).
        reply: Option<tokio::sync::oneshot::Sender<Answer>>,
    },
    /// The messages a Batch carried, in order (ISM-1 §8.7): taken in one
    /// round, their answers back on `reply` once they are durable.
    Batch {
        /// They.
        messages: Vec<Checked>,
        /// Where the answers go, one per message.
        reply: tokio::sync::oneshot::Sender<Vec<Answer>>,
    },
    /// Something local: from the participant API, say.
    Local(L),
    /// Stop.
    Stop,
}

/// What to do once the writes a local command caused are durable (answer
/// its caller, say).
pub type AfterDurable = Box<dyn FnOnce() + Send>;

/// Local commands an engine takes from its node (beyond messages).
pub trait LocalCommands<H: Hosted>: Send + 'static {
    /// Runs one; what it returns runs once the engine's writes are durable.
    fn run(self, engine: &mut H, now_ms: u64, entropy: &mut dyn Entropy) -> Option<AfterDurable>;
    /// The span its work is logged in (an instruction's, for a submission).
    fn span(&self) -> Span {
        Span::none()
    }
}

/// No local commands.
pub enum NoLocal {}

impl<H: Hosted> LocalCommands<H> for NoLocal {
    fn run(self, _: &mut H, _: u64, _: &mut dyn Entropy) -> Option<AfterDurable> {
        match self {}
    }
}

/// The transport's side: hands each request to the engine's thread and
/// waits for its answer.
pub struct ToEngine<L> {
    commands: mpsc::Sender<Command<L>>,
}

impl<L> ToEngine<L> {
    /// Through `commands`.
    pub fn new(commands: mpsc::Sender<Command<L>>) -> ToEngine<L> {
        ToEngine { commands }
    }
}

#[async_trait::async_trait]
impl<L: Send + 'static> Handler for ToEngine<L> {
    async fn handle(&self, request: Request) -> Answer {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let command = Command::Message {
            checked: Box::new(request.checked),
            reply: Some(reply),
        };
        if self.commands.send(command).is_err() {
            return Answer::Abandon;
        }
        answer.await.unwrap_or(Answer::Abandon)
    }

    async fn handle_batch(
        &self,
        _peer: isthmus_spec::membership::Member,
        messages: Vec<Checked>,
    ) -> Vec<Answer> {
        let count = messages.len();
        let (reply, answers) = tokio::sync::oneshot::channel();
        if self
            .commands
            .send(Command::Batch { messages, reply })
            .is_err()
        {
            return vec![Answer::Abandon; count];
        }
        answers
            .await
            .unwrap_or_else(|_| vec![Answer::Abandon; count])
    }
}

/// The engine's thread.
pub struct EngineHost<H: Hosted> {
    /// The engine.
    pub engine: H,
    store: Box<dyn NodeStore<H::Record>>,
    clock: Arc<dyn Clock>,
    timers: BTreeMap<H::Timer, u64>,
    entropy: SystemEntropy,
    outbox: tokio::sync::mpsc::UnboundedSender<Outbound>,
}

impl<H: Hosted> EngineHost<H> {
    /// A host for `engine`, rebuilt from `store`.
    pub fn new(
        engine: H,
        store: Box<dyn NodeStore<H::Record>>,
        clock: Arc<dyn Clock>,
        outbox: tokio::sync::mpsc::UnboundedSender<Outbound>,
    ) -> EngineHost<H> {
        EngineHost {
            engine,
            store,
            clock,
            timers: BTreeMap::new(),
            entropy: SystemEntropy::new(),
            outbox,
        }
    }

    /// Resumes, then serves commands and timers until told to stop. Returns
    /// on a store failure, which stops the engine (a restart resumes).
    pub fn run<L: LocalCommands<H>>(
        &mut self,
        inbox: mpsc::Receiver<Command<L>>,
    ) -> Result<(), NodeStoreError> {
        let now = self.clock.now_ms();
        self.engine.resume(now);
        self.settle(&mut Round::default())?;
        loop {
            let now = self.clock.now_ms();
            let wait_ms = self
                .timers
                .values()
                .min()
                .map_or(1_000, |at| at.saturating_sub(now).min(1_000));
            let first = match inbox.recv_timeout(Duration::from_millis(wait_ms)) {
                Ok(command) => Some(command),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            };
            let mut round = Round::default();
            let mut stop = false;
            let mut next = first;
            while let Some(command) = next.take() {
                match command {
                    Command::Message { checked, reply } => {
                        let answer = self.on_message(*checked, &mut round)?;
                        round.answers.push((reply, answer));
                    }
                    Command::Batch { messages, reply } => {
                        let mut answers = Vec::with_capacity(messages.len());
                        for checked in messages {
                            answers.push(self.on_message(checked, &mut round)?);
                        }
                        round.batches.push((reply, answers));
                    }
                    Command::Local(command) => {
                        let span = command.span();
                        let _in_span = span.enter();
                        let now = self.clock.now_ms();
                        if let Some(after) = command.run(&mut self.engine, now, &mut self.entropy) {
                            round.after.push(after);
                        }
                    }
                    Command::Stop => {
                        stop = true;
                        break;
                    }
                }
                if round.commands() < MAX_ROUND_COMMANDS {
                    next = inbox.try_recv().ok();
                }
            }
            self.fire_timers();
            self.settle(&mut round)?;
            round.finish();
            if stop {
                return Ok(());
            }
        }
    }

    /// Runs a message through exactly-once and the engine; its answer is
    /// given once the round is durable.
    fn on_message(
        &mut self,
        checked: Checked,
        round: &mut Round,
    ) -> Result<Answer, NodeStoreError> {
        let message = checked.message;
        let digest = ring::digest::digest(&ring::digest::SHA256, &checked.canonical);
        let mut canonical_sha256 = [0u8; 32];
        canonical_sha256.copy_from_slice(digest.as_ref());
        // Handled before, or earlier in this round (a repeat that arrived
        // before the first copy's write was durable).
        let first = match round.handled_hash(&message.sender, &message.id) {
            Some(hash) => Some(hash),
            None => self.store.handled(&message.sender, &message.id)?,
        };
        let first = first.filter(|_| {
            !isthmus_transport::broken::active(isthmus_transport::broken::Fault::AnswerReplays)
        });
        if let Some(first) = first {
            // ISM-1 §8.4 rule 6: the same bytes get the same answer (the
            // acknowledgement); other content under a used id is a replay.
            if first == canonical_sha256 {
                return Ok(Answer::Acknowledge);
            }
            warn!(sender = %message.sender, id = %message.id, code = "MESSAGE_REPLAYED", "a used message id with other content");
            return Ok(Answer::Refuse(Rejection::at(
                ReasonCode::MessageReplayed,
                "id",
                format!(
                    "message {} from {} was handled before, with other content",
                    message.id, message.sender
                ),
            )));
        }
        round.handled.push(Handled {
            sender: message.sender.clone(),
            id: message.id.clone(),
            canonical_sha256,
        });
        let now = self.clock.now_ms();
        let span = message_span(&message.body);
        let _in_span = span.enter();
        info!(from = %message.sender, kind = %message.kind(), message = %message.id, "received");
        self.engine.message(
            now,
            Inbound {
                sender: message.sender,
                id: message.id,
                body: message.body,
            },
            &mut self.entropy,
        );
        Ok(Answer::Acknowledge)
    }

    fn fire_timers(&mut self) {
        let now = self.clock.now_ms();
        let due: Vec<H::Timer> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(timer, _)| timer.clone())
            .collect();
        for timer in due {
            self.timers.remove(&timer);
            let span = H::timer_span(&timer);
            let _in_span = span.enter();
            debug!(?timer, "timer due");
            self.engine.timer(now, timer, &mut self.entropy);
        }
    }

    /// Runs the engine's outputs until it asks for nothing more: the writes
    /// released so far (with the messages handled) committed as one,
    /// durable before the engine hears it and so before anything they
    /// explain is sent; the other outputs handed over together.
    fn settle(&mut self, round: &mut Round) -> Result<(), NodeStoreError> {
        loop {
            let mut records = Vec::new();
            let mut last_write = None;
            let mut others = Vec::new();
            while let Some(output) = self.engine.poll() {
                match output {
                    HostOutput::Persist { id, records: r } => {
                        records.extend(r);
                        last_write = Some(id);
                    }
                    HostOutput::Send(outbound) => self.send(*outbound),
                    HostOutput::SetTimer { timer, at_ms } => {
                        self.timers.insert(timer, at_ms);
                    }
                    HostOutput::Other(other) => others.push(other),
                }
            }
            // A message that changed no record is still recorded as handled
            // before it is acknowledged (ISM-1 §8.4 rule 6).
            if last_write.is_some() || !round.handled.is_empty() {
                let handled = std::mem::take(&mut round.handled);
                self.store.commit(&records, &handled)?;
                // Every message of the round is now recorded as handled,
                // with what it changed: it is accepted (ISM-1 §8.3.6) and
                // is answered now, not after the ledger work it released.
                round.answer();
                if let Some(id) = last_write {
                    let now = self.clock.now_ms();
                    self.engine.persisted(now, id, &mut self.entropy);
                }
            }
            if !others.is_empty() {
                let now = self.clock.now_ms();
                self.engine.others(now, others, &mut self.entropy);
            } else if last_write.is_none() {
                return Ok(());
            }
        }
    }

    fn send(&self, outbound: Outbound) {
        // Named by settlement too: a message can start one (a match sends
        // the first proposals).
        match outbound.body.settlement_id() {
            Some(settlement) => {
                info!(to = %outbound.to, kind = %outbound.body.kind(), message = %outbound.id, %settlement, "sending")
            }
            None => {
                info!(to = %outbound.to, kind = %outbound.body.kind(), message = %outbound.id, "sending")
            }
        }
        let _ = self.outbox.send(outbound);
    }
}

/// The most commands one round takes (see the module's doc): enough to
/// share a sync widely, few enough that the first waits little.
pub const MAX_ROUND_COMMANDS: usize = 512;

/// One round of the engine's thread: what it took and owes.
#[derive(Default)]
struct Round {
    /// Messages handled whose record is not yet committed.
    handled: Vec<Handled>,
    /// The answers to give once the round is durable.
    answers: Vec<(Option<tokio::sync::oneshot::Sender<Answer>>, Answer)>,
    /// The answers to Batches, likewise.
    batches: Vec<(tokio::sync::oneshot::Sender<Vec<Answer>>, Vec<Answer>)>,
    /// What to run once the round is durable.
    after: Vec<AfterDurable>,
}

impl Round {
    /// The commands taken so far.
    fn commands(&self) -> usize {
        self.answers.len()
            + self.batches.iter().map(|(_, a)| a.len()).sum::<usize>()
            + self.after.len()
    }

    /// The hash of a message handled in this round and not yet committed.
    fn handled_hash(&self, sender: &NodeId, id: &MessageId) -> Option<[u8; 32]> {
        self.handled
            .iter()
            .find(|h| &h.sender == sender && &h.id == id)
            .map(|h| h.canonical_sha256)
    }

    /// What the round took is durable: answers and callbacks go out.
    fn answer(&mut self) {
        for (reply, answer) in self.answers.drain(..) {
            if let Some(reply) = reply {
                let _ = reply.send(answer);
            }
        }
        for (reply, answers) in self.batches.drain(..) {
            let _ = reply.send(answers);
        }
        for after in self.after.drain(..) {
            after();
        }
    }

    /// The round is over (it may have had nothing to commit).
    fn finish(mut self) {
        self.answer();
    }
}

/// Signs and sends what the engine releases; an answer that comes back on
/// the stream goes to the engine like any message.
///
/// Messages to one peer go in the order the engine released them, each
/// request after the one before was answered ([`peer_sender`]): sent all at
/// once on parallel streams, a LockRequest could overtake the proposal it
/// depends on and be refused, costing a repetition interval.
pub async fn send_loop<L: Send + 'static>(
    endpoint: Endpoint,
    mut outgoing: tokio::sync::mpsc::UnboundedReceiver<Outbound>,
    key: SigningKey,
    own: NodeId,
    peers: BTreeMap<NodeId, SocketAddr>,
    clock: Arc<dyn Clock>,
    commands: mpsc::Sender<Command<L>>,
) {
    let key = Arc::new(key);
    let mut warned = std::collections::BTreeSet::new();
    let mut queues: BTreeMap<NodeId, tokio::sync::mpsc::UnboundedSender<Envelope>> =
        BTreeMap::new();
    while let Some(outbound) = outgoing.recv().await {
        let Some(addr) = peers.get(&outbound.to).copied() else {
            if warned.insert(outbound.to.clone()) {
                warn!(peer = %outbound.to, "no address configured for this peer; its messages are not sent");
            }
            continue;
        };
        let now = clock.now_ms();
        let Some(created) = Timestamp::from_unix_millis(now) else {
            error!(now, "the clock is outside what ISM/1 can write");
            continue;
        };
        let to = outbound.to.clone();
        let envelope = Envelope::new(
            outbound.id,
            own.clone(),
            outbound.to,
            created,
            outbound.body,
        );
        let queue = queues
            .entry(to)
            .or_insert_with(|| peer_sender(endpoint.clone(), addr, key.clone(), commands.clone()));
        let _ = queue.send(envelope);
    }
}

/// The most messages one Batch carries (ISM-1 §8.7): well under the 1 000
/// allowed and, at our messages' few kilobytes, under the frame limit.
pub const MAX_BATCH_MESSAGES: usize = 128;

/// One peer's sender: its messages in order, one request at a time. A
/// message waiting alone goes alone; several waiting go as one Batch under
/// one signature (ISM-1 §8.7), so a busy link batches by itself and a quiet
/// one waits for nothing. When a request cannot be delivered, what queued
/// behind it meanwhile is dropped: the engine repeats every message that has
/// not had its answer (ISM-1 §12.8), so a peer that was away gets the current
/// state, not a backlog.
fn peer_sender<L: Send + 'static>(
    endpoint: Endpoint,
    addr: SocketAddr,
    key: Arc<SigningKey>,
    commands: mpsc::Sender<Command<L>>,
) -> tokio::sync::mpsc::UnboundedSender<Envelope> {
    let (queue, mut queued) = tokio::sync::mpsc::unbounded_channel::<Envelope>();
    tokio::spawn(async move {
        while let Some(first) = queued.recv().await {
            let mut waiting = vec![first];
            while waiting.len() < MAX_BATCH_MESSAGES {
                match queued.try_recv() {
                    Ok(next) => waiting.push(next),
                    Err(_) => break,
                }
            }
            let delivered = if waiting.len() == 1 {
                let alone = waiting.remove(0).sign(&key);
                deliver(&endpoint, addr, &alone, &commands).await
            } else {
                let to = waiting[0].receiver.clone();
                let batch = endpoint.batch_for(&to, waiting);
                match deliver(&endpoint, addr, &batch, &commands).await {
                    // Too large for one frame: each alone, in order.
                    Err(SendError::Frame(_)) => {
                        let Body::Batch(carried) = batch.body else {
                            unreachable!("batch_for makes a Batch")
                        };
                        let mut result = Ok(());
                        for message in carried.messages {
                            result = deliver(&endpoint, addr, &message.sign(&key), &commands).await;
                            if result.is_err() {
                                break;
                            }
                        }
                        result
                    }
                    other => other,
                }
            };
            if delivered.is_err() {
                let mut dropped = 0usize;
                while queued.try_recv().is_ok() {
                    dropped += 1;
                }
                if dropped > 0 {
                    debug!(
                        dropped,
                        "dropped the messages queued behind it; the engine repeats them"
                    );
                }
            }
        }
    });
    queue
}

/// Sends one request; an answer it brings goes to the engine (every message
/// of a Batch of answers, in order).
async fn deliver<L: Send + 'static>(
    endpoint: &Endpoint,
    addr: SocketAddr,
    request: &Envelope,
    commands: &mpsc::Sender<Command<L>>,
) -> Result<(), SendError> {
    match endpoint.request(addr, request).await {
        Ok(Delivered::Acknowledged) => Ok(()),
        Ok(Delivered::Answer(checked)) => {
            for checked in checked.unpack() {
                let _ = commands.send(Command::Message {
                    checked: Box::new(checked),
                    reply: None,
                });
            }
            Ok(())
        }
        Err(failure) => {
            debug!(peer = %request.receiver, kind = %request.body.kind(), message = %request.id, settlement = ?request.body.settlement_id(), %failure, "not delivered");
            Err(failure)
        }
    }
}

/// A node running: its endpoint serving, its engine on its own thread, and
/// the sender. What the relay and gateway nodes share.
pub struct RunningNode<L> {
    endpoint: Endpoint,
    commands: mpsc::Sender<Command<L>>,
    engine: Option<JoinHandle<()>>,
}

impl<L: Send + 'static> RunningNode<L> {
    /// Binds `listen`, starts the sender and runs `engine` (rebuilt from
    /// `store` by the caller) on a thread named `name`.
    pub fn start<H: Hosted>(
        name: &str,
        listen: SocketAddr,
        transport: NodeContext,
        peers: BTreeMap<NodeId, SocketAddr>,
        engine: H,
        store: Box<dyn NodeStore<H::Record>>,
        clock: Arc<dyn Clock>,
    ) -> Result<RunningNode<L>, StartError>
    where
        L: LocalCommands<H>,
    {
        let own = transport.own.clone();
        let key = copy_key(&transport.signing_key).map_err(StartError::Key)?;
        let (commands, inbox) = mpsc::channel();
        let endpoint =
            Endpoint::bind(listen, transport, Arc::new(ToEngine::new(commands.clone())))?;
        let (outbox, outgoing) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(send_loop(
            endpoint.clone(),
            outgoing,
            key,
            own,
            peers,
            clock.clone(),
            commands.clone(),
        ));
        let mut host = EngineHost::new(engine, store, clock, outbox);
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                if let Err(failure) = host.run::<L>(inbox) {
                    error!(%failure, "the store failed; the engine stops (restart the node to resume)");
                }
            })
            .map_err(StartError::Thread)?;
        Ok(RunningNode {
            endpoint,
            commands,
            engine: Some(thread),
        })
    }

    /// Where it serves QUIC.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// Its endpoint (for its counts).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends a local command to the engine's thread.
    pub fn commands(&self) -> mpsc::Sender<Command<L>> {
        self.commands.clone()
    }

    /// Stops taking requests, lets the streams in progress finish (up to
    /// `drain`), stops the engine and closes the store.
    pub async fn shutdown(mut self, drain: Duration) {
        self.endpoint.shutdown(drain).await;
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.engine.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}
