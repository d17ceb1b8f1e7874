//! The relay node: the relay engine on a thread of its own, its store, its
//! timers, and the QUIC endpoint (ISM-1 §8, §12.9, §12.10).
//!
//! Every message that passed the receiver duties 1–5 comes to the engine's
//! thread. There, exactly-once (step 6) is checked against the store; the
//! engine runs; each write it asks for is committed durably, with the record
//! of the message that caused it, before the engine is told it is durable
//! and so before any message it releases is sent; only then is the request
//! acknowledged. A restarted node loads its records, rebuilds the engine
//! and resumes every settlement in flight.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use isthmus_relay::{Input, Output, Record, Relay, RelayConfig, RelayTimer};
use isthmus_spec::ids::NodeId;
use isthmus_spec::protocol::{Entropy, Inbound, Outbound};
use isthmus_spec::sign::SigningKey;
use isthmus_spec::time::Timestamp;
use isthmus_spec::{Envelope, ReasonCode, Rejection};
use isthmus_store::Clock;
use isthmus_transport::duties::Checked;
use isthmus_transport::endpoint::EndpointError;
use isthmus_transport::{Answer, Delivered, Endpoint, Handler, NodeContext, Request};
use ring::rand::SecureRandom;
use tracing::{debug, error, info, warn};

use crate::store::{Handled, NodeStore, NodeStoreError};

/// Randomness for the engine: the system's CSPRNG.
struct SystemEntropy(ring::rand::SystemRandom);

impl Entropy for SystemEntropy {
    fn fill(&mut self, dest: &mut [u8]) {
        // The system generator does not fail where nodes run; a failure here
        // would make every secret guessable, so it is an invariant.
        assert!(
            self.0.fill(dest).is_ok(),
            "the system random generator failed"
        );
    }
}

enum Command {
    Message {
        checked: Box<Checked>,
        reply: Option<tokio::sync::oneshot::Sender<Answer>>,
    },
    Stop,
}

struct RelayHandler {
    commands: mpsc::Sender<Command>,
}

#[async_trait::async_trait]
impl Handler for RelayHandler {
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
}

/// Why the relay node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Its store.
    #[error("the relay's store: {0}")]
    Store(#[from] NodeStoreError),
    /// Its endpoint.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
}

/// A running relay node.
pub struct RelayNode {
    endpoint: Endpoint,
    commands: mpsc::Sender<Command>,
    engine: Option<JoinHandle<()>>,
}

impl RelayNode {
    /// Loads the store, rebuilds and resumes the engine, binds `listen` and serves.
    pub fn start(
        listen: SocketAddr,
        transport: NodeContext,
        relay: RelayConfig,
        peers: BTreeMap<NodeId, SocketAddr>,
        store: Box<dyn NodeStore<Record>>,
        clock: Arc<dyn Clock>,
    ) -> Result<RelayNode, StartError> {
        let records = store.load()?;
        info!(records = records.len(), "relay store loaded");
        let own = transport.own.clone();
        let signing_key = SigningKey::from_pem(&transport.signing_key.to_pem())
            .map_err(|e| StartError::Store(NodeStoreError::Encode(e.to_string())))?;
        let (commands, inbox) = mpsc::channel();
        let handler = Arc::new(RelayHandler {
            commands: commands.clone(),
        });
        let endpoint = Endpoint::bind(listen, transport, handler)?;
        let (outbox, outgoing) = tokio::sync::mpsc::unbounded_channel::<Outbound>();
        tokio::spawn(send_loop(
            endpoint.clone(),
            outgoing,
            own,
            signing_key,
            peers,
            clock.clone(),
            commands.clone(),
        ));
        let engine = Relay::restore(relay, records);
        let thread = std::thread::Builder::new()
            .name("relay-engine".into())
            .spawn(move || {
                let mut host = EngineHost {
                    relay: engine,
                    store,
                    clock,
                    timers: BTreeMap::new(),
                    entropy: SystemEntropy(ring::rand::SystemRandom::new()),
                    outbox,
                };
                if let Err(failure) = host.run(inbox) {
                    error!(%failure, "the relay's store failed; the engine stops (restart the node to resume)");
                }
            })
            .map_err(|e| StartError::Store(NodeStoreError::Encode(format!("starting the engine thread: {e}"))))?;
        Ok(RelayNode {
            endpoint,
            commands,
            engine: Some(thread),
        })
    }

    /// Where it serves.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// Stops taking requests, lets the engine finish what it holds, closes
    /// the connections and returns.
    pub async fn shutdown(mut self, drain: Duration) {
        self.endpoint.shutdown(drain).await;
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.engine.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

struct EngineHost {
    relay: Relay,
    store: Box<dyn NodeStore<Record>>,
    clock: Arc<dyn Clock>,
    timers: BTreeMap<RelayTimer, u64>,
    entropy: SystemEntropy,
    outbox: tokio::sync::mpsc::UnboundedSender<Outbound>,
}

impl EngineHost {
    fn run(&mut self, inbox: mpsc::Receiver<Command>) -> Result<(), NodeStoreError> {
        let now = self.clock.now_ms();
        self.relay.resume(now);
        self.drain(None)?;
        loop {
            let now = self.clock.now_ms();
            let wait_ms = self
                .timers
                .values()
                .min()
                .map_or(1_000, |at| at.saturating_sub(now).min(1_000));
            match inbox.recv_timeout(Duration::from_millis(wait_ms)) {
                Ok(Command::Message { checked, reply }) => {
                    let answer = self.on_message(*checked)?;
                    if let Some(reply) = reply {
                        let _ = reply.send(answer);
                    }
                }
                Ok(Command::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            self.fire_timers()?;
        }
    }

    fn on_message(&mut self, checked: Checked) -> Result<Answer, NodeStoreError> {
        let message = checked.message;
        let sha = ring::digest::digest(&ring::digest::SHA256, &checked.canonical);
        let mut canonical_sha256 = [0u8; 32];
        canonical_sha256.copy_from_slice(sha.as_ref());
        if let Some(first) = self.store.handled(&message.sender, &message.id)? {
            // ISM-1 §8.4 rule 6: the same bytes get the same answer (the
            // acknowledgement); anything else under a used id is a replay.
            return Ok(if first == canonical_sha256 {
                Answer::Acknowledge
            } else {
                warn!(sender = %message.sender, id = %message.id, code = "MESSAGE_REPLAYED", "a used message id with other content");
                Answer::Refuse(Rejection::at(
                    ReasonCode::MessageReplayed,
                    "id",
                    format!(
                        "message {} from {} was handled before, with other content",
                        message.id, message.sender
                    ),
                ))
            });
        }
        let handled = Handled {
            sender: message.sender.clone(),
            id: message.id.clone(),
            canonical_sha256,
        };
        let now = self.clock.now_ms();
        debug!(sender = %message.sender, id = %message.id, kind = %message.kind(), "message");
        self.relay.handle(
            now,
            Input::Message(Inbound {
                sender: message.sender,
                id: message.id,
                body: message.body,
            }),
            &mut self.entropy,
        );
        self.drain(Some(handled))?;
        Ok(Answer::Acknowledge)
    }

    fn fire_timers(&mut self) -> Result<(), NodeStoreError> {
        let now = self.clock.now_ms();
        let due: Vec<RelayTimer> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(timer, _)| timer.clone())
            .collect();
        for timer in due {
            self.timers.remove(&timer);
            self.relay
                .handle(now, Input::Timer(timer), &mut self.entropy);
            self.drain(None)?;
        }
        Ok(())
    }

    /// Runs the engine's outputs: writes durable first (with the record of
    /// the message being handled), then the sends they released, and timers.
    fn drain(&mut self, mut handled: Option<Handled>) -> Result<(), NodeStoreError> {
        while let Some(output) = self.relay.poll() {
            match output {
                Output::Persist(write) => {
                    let with = match (&handled, &write.cause) {
                        (Some(h), Some((sender, id))) if &h.sender == sender && &h.id == id => {
                            handled.take()
                        }
                        _ => None,
                    };
                    self.store.commit(&write.records, with.as_slice())?;
                    let now = self.clock.now_ms();
                    self.relay
                        .handle(now, Input::Persisted(write.id), &mut self.entropy);
                }
                Output::Send(outbound) => {
                    let _ = self.outbox.send(outbound);
                }
                Output::SetTimer { timer, at_ms } => {
                    self.timers.insert(timer, at_ms);
                }
            }
        }
        // A message that changed no record is still recorded as handled
        // before it is acknowledged (ISM-1 §8.4 rule 6).
        if let Some(handled) = handled {
            self.store.commit(&[], &[handled])?;
        }
        Ok(())
    }
}

/// Signs and sends what the engine releases, one stream each; an answer
/// that comes back on the stream goes to the engine like any message.
async fn send_loop(
    endpoint: Endpoint,
    mut outgoing: tokio::sync::mpsc::UnboundedReceiver<Outbound>,
    own: NodeId,
    key: SigningKey,
    peers: BTreeMap<NodeId, SocketAddr>,
    clock: Arc<dyn Clock>,
    commands: mpsc::Sender<Command>,
) {
    let mut unknown: HashMap<NodeId, ()> = HashMap::new();
    while let Some(outbound) = outgoing.recv().await {
        let Some(addr) = peers.get(&outbound.to).copied() else {
            if unknown.insert(outbound.to.clone(), ()).is_none() {
                warn!(peer = %outbound.to, "no address configured for this peer; its messages are not sent");
            }
            continue;
        };
        let now = clock.now_ms();
        let Some(created) = Timestamp::from_unix_millis(now) else {
            error!(now, "the clock is outside what ISM/1 can write");
            continue;
        };
        let envelope = Envelope::new(
            outbound.id,
            own.clone(),
            outbound.to,
            created,
            outbound.body,
        )
        .sign(&key);
        let endpoint = endpoint.clone();
        let commands = commands.clone();
        tokio::spawn(async move {
            match endpoint.request(addr, &envelope).await {
                Ok(Delivered::Acknowledged) => {}
                Ok(Delivered::Answer(checked)) => {
                    let _ = commands.send(Command::Message {
                        checked,
                        reply: None,
                    });
                }
                // The engine repeats what has not had its answer (ISM-1 §12.8).
                Err(failure) => debug!(peer = %envelope.receiver, %failure, "not delivered"),
            }
        });
    }
}
