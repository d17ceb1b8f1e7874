//! The relay node: the relay engine hosted ([`crate::host`]) behind its
//! store and the QUIC endpoint (ISM-1 §8, §12). A restarted node loads its
//! records, rebuilds the engine and resumes every settlement in flight.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use isthmus_relay::{Input, Output, Record, Relay, RelayConfig, RelayTimer};
use isthmus_spec::ids::NodeId;
use isthmus_spec::protocol::{Entropy, Inbound};
use isthmus_store::Clock;
use isthmus_transport::NodeContext;
use tracing::info;

use crate::host::{HostOutput, Hosted, NoLocal, RunningNode, StartError};
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
    node: RunningNode<NoLocal>,
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
        let engine = Relay::restore(relay, records);
        let node = RunningNode::start(
            "relay-engine",
            listen,
            transport,
            peers,
            engine,
            store,
            clock,
        )?;
        Ok(RelayNode { node })
    }

    /// Where it serves.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.node.local_addr()
    }

    /// Stops taking requests, lets the streams in progress finish (up to
    /// `drain`), stops the engine and closes the store.
    pub async fn shutdown(self, drain: Duration) {
        self.node.shutdown(drain).await;
    }
}
