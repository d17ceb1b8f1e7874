//! A gateway's configuration: its market, its relays, the other gateways it
//! hands secrets to, and the network's timing (ISM-1 §12.1, §12.7).

use std::collections::BTreeMap;

use isthmus_spec::ident::Mic;
use isthmus_spec::ids::NodeId;
use isthmus_spec::protocol::{Timing, TimingError};

/// What a gateway needs to know to take part in settlements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// The gateway's node id.
    pub node: NodeId,
    /// The market whose ledger it serves.
    pub market: Mic,
    /// The relays it instructs and takes lock and claim requests from.
    pub relays: Vec<NodeId>,
    /// The gateway of each market, from the membership file: where secrets
    /// are handed over to (ISM-1 §12.7).
    pub gateways: BTreeMap<Mic, NodeId>,
    /// The network's timing.
    pub timing: Timing,
}

impl GatewayConfig {
    /// Checks ISM-1 §12.1 item 2 for a gateway.
    pub fn check(&self) -> Result<(), TimingError> {
        self.timing.check_for_gateway()?;
        if self.relays.is_empty() {
            return Err(TimingError(
                "a gateway needs at least one relay".to_string(),
            ));
        }
        Ok(())
    }

    /// Whether `node` is one of its relays.
    pub fn is_relay(&self, node: &NodeId) -> bool {
        self.relays.contains(node)
    }

    /// The gateway of `market`.
    pub fn gateway_of(&self, market: &Mic) -> Option<&NodeId> {
        self.gateways.get(market)
    }
}
