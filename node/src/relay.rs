//! The relay node: the relay engine hosted ([`crate::host`]) behind its
//! store and the QUIC endpoint (ISM-1 §8, §12). A restarted node loads its
//! records, rebuilds the engine and resumes every settlement in flight.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use isthmus_relay::{Input, Output, Record, Relay, RelayConfig, RelayTimer};
use isthmus_spec::ids::NodeId;
use isthmus_spec::protocol::{Entropy, Inbound};
use isthmus_store::Clock;
use isthmus_transport::{Endpoint, NodeContext};
use tracing::{error, info};

use crate::host::{
    send_loop, Command, EngineHost, HostOutput, Hosted, NoLocal, StartError, ToEngine,
};
use crate::store::NodeStore;

impl Hosted for Relay {
    type Record = Record;
    type Timer = RelayTimer;
    type Other = std::convert::Infallible;

    fn resume(&mut self, now_ms: u64) {
        Relay::resume(self, now_ms);
    }

    fn message(&mut self, now_ms: u64, message: Inbound, entropy: &mut dyn Entropy) {
        self.handle(now_ms, Input::Message(message), entropy);
    }

    fn timer(&mut self, now_ms: u64, timer: RelayTimer, entropy: &mut dyn Entropy) {
        self.handle(now_ms, Input::Timer(timer), entropy);
    }

    fn persisted(&mut self, now_ms: u64, id: u64, entropy: &mut dyn Entropy) {
        self.handle(now_ms, Input::Persisted(id), entropy);
    }

    fn poll(&mut self) -> Option<HostOutput<Record, RelayTimer, Self::Other>> {
        Relay::poll(self).map(|output| match output {
            Output::Persist(write) => HostOutput::Persist {
                id: write.id,
                records: write.records,
                cause: write.cause,
            },
            Output::Send(outbound) => HostOutput::Send(Box::new(outbound)),
            Output::SetTimer { timer, at_ms } => HostOutput::SetTimer { timer, at_ms },
        })
    }

    fn other(&mut self, _: u64, other: Self::Other, _: &mut dyn Entropy) {
        match other {}
    }
}

/// A running relay node.
pub struct RelayNode {
    endpoint: Endpoint,
    commands: mpsc::Sender<Command<NoLocal>>,
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
        let key = crate::host::copy_key(&transport.signing_key).map_err(StartError::Key)?;
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
        let mut host = EngineHost::new(Relay::restore(relay, records), store, clock, outbox);
        let thread = std::thread::Builder::new()
            .name("relay-engine".into())
            .spawn(move || {
                if let Err(failure) = host.run(inbox) {
                    error!(%failure, "the store failed; the engine stops (restart the node to resume)");
                }
            })
            .map_err(StartError::Thread)?;
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
