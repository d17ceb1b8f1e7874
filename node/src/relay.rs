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
#[cfg(feature = "broken-nodes")]
use isthmus_transport::broken::{self, Fault};
use isthmus_transport::NodeContext;
use tracing::info;

use crate::host::{
    AfterDurable, Command, HostOutput, Hosted, LocalCommands, RunningNode, StartError,
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
            },
            Output::Send(outbound) => HostOutput::Send(Box::new(outbound)),
            Output::SetTimer { timer, at_ms } => HostOutput::SetTimer { timer, at_ms },
        })
    }

    fn others(&mut self, _: u64, others: Vec<Self::Other>, _: &mut dyn Entropy) {
        if let Some(other) = others.into_iter().next() {
            match other {}
        }
    }

    fn timer_span(timer: &RelayTimer) -> tracing::Span {
        match timer {
            RelayTimer::Instruction(key) => crate::host::instruction_span(&key.instruction_id),
            RelayTimer::Settlement(id) => crate::host::settlement_span(id),
        }
    }
}

/// What a relay holds, counted (for `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayCounts {
    /// Settlements by phase (`PROPOSED`, …, `SETTLED`, `ABORTED`).
    pub settlements: BTreeMap<String, u64>,
    /// The engine's counts since it started.
    pub stats: isthmus_relay::RelayStats,
    /// From the match to the last claim, for every settled settlement the
    /// relay holds (its records, so a restart keeps it).
    pub latency: crate::metrics::LatencyHistogram,
}

/// Questions for the relay's thread.
pub enum RelayLocal {
    /// Its counts.
    Counts(tokio::sync::oneshot::Sender<RelayCounts>),
}

impl LocalCommands<Relay> for RelayLocal {
    fn run(self, engine: &mut Relay, _: u64, _: &mut dyn Entropy) -> Option<AfterDurable> {
        match self {
            RelayLocal::Counts(reply) => {
                let mut counts = RelayCounts {
                    stats: engine.stats(),
                    ..RelayCounts::default()
                };
                for settlement in engine.settlements() {
                    *counts
                        .settlements
                        .entry(settlement.phase.name().to_string())
                        .or_default() += 1;
                    if let Some(settled) = settlement.settled_at_ms {
                        counts
                            .latency
                            .observe(settled.saturating_sub(settlement.matched_at_ms));
                    }
                }
                let _ = reply.send(counts);
                None
            }
        }
    }
}

/// Asks the relay's thread (for `/metrics` and `/healthz`).
#[derive(Clone)]
pub struct RelayHandle {
    commands: std::sync::mpsc::Sender<Command<RelayLocal>>,
    counts: isthmus_transport::endpoint::CountsHandle,
}

impl RelayHandle {
    /// The relay's counts, or `None` once its engine has stopped.
    pub async fn counts(&self) -> Option<RelayCounts> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.commands
            .send(Command::Local(RelayLocal::Counts(reply)))
            .ok()?;
        answer.await.ok()
    }

    /// The transport's counts.
    pub fn transport_counts(&self) -> isthmus_transport::endpoint::TransportCounts {
        self.counts.get()
    }
}

/// A running relay node.
pub struct RelayNode {
    node: RunningNode<RelayLocal>,
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
        #[cfg(feature = "broken-nodes")]
        let records = if broken::active(Fault::ForgetOnRestart) {
            Vec::new()
        } else {
            records
        };
        #[cfg_attr(not(feature = "broken-nodes"), allow(unused_mut))]
        let mut engine = Relay::restore(relay, records);
        #[cfg(feature = "broken-nodes")]
        engine.set_broken(if broken::active(Fault::RevealBeforeBothLocks) {
            Some(isthmus_relay::RelayBroken::RevealBeforeBothLocks)
        } else if broken::active(Fault::SkipTimelockMargin) {
            Some(isthmus_relay::RelayBroken::IgnoreDelta)
        } else {
            None
        });
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

    /// A handle for `/metrics` and `/healthz`.
    pub fn handle(&self) -> RelayHandle {
        RelayHandle {
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
