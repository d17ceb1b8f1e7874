//! A relay's configuration: who it is, which gateway serves which market,
//! and the network's settlement timing (ISM-1 §12.1).

use std::collections::BTreeMap;

use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{NodeId, Reference};
use isthmus_spec::protocol::{Timing, TimingError};

/// Longest settlement-id prefix: the id is `<prefix>-<n>` and must fit a
/// reference of 35 characters with 20 digits.
pub const MAX_SETTLEMENT_PREFIX_CHARS: usize = 14;

/// What a relay needs to know to settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// The relay's node id.
    pub node: NodeId,
    /// The gateway of each market, from the membership file (ISM-1 §8.1).
    pub gateways: BTreeMap<Mic, NodeId>,
    /// The network's timing.
    pub timing: Timing,
    /// Settlement ids are `<prefix>-<n>`, unique at this relay; relays of one
    /// network use different prefixes.
    pub settlement_prefix: String,
}

impl RelayConfig {
    /// Checks the rules of ISM-1 §12.1 item 2 and the settlement-id prefix.
    pub fn check(&self) -> Result<(), TimingError> {
        self.timing.check_for_relay()?;
        let prefix_ok = !self.settlement_prefix.is_empty()
            && self.settlement_prefix.chars().count() <= MAX_SETTLEMENT_PREFIX_CHARS
            && Reference::parse(&self.settlement_prefix).is_ok();
        if !prefix_ok {
            return Err(TimingError(format!(
                "settlement_prefix \"{}\" must be 1 to {MAX_SETTLEMENT_PREFIX_CHARS} characters of an ISM/1 reference",
                self.settlement_prefix
            )));
        }
        Ok(())
    }

    /// Whether `node` is one of the network's gateways.
    pub fn is_gateway(&self, node: &NodeId) -> bool {
        self.gateways.values().any(|gateway| gateway == node)
    }

    /// The gateway that serves `market`.
    pub fn gateway_of(&self, market: &Mic) -> Option<&NodeId> {
        self.gateways.get(market)
    }

    /// The id of the relay's `n`-th settlement.
    pub fn settlement_id(&self, n: u64) -> Reference {
        let text = format!("{}-{n}", self.settlement_prefix);
        match Reference::parse(&text) {
            Ok(id) => id,
            Err(rejection) => {
                unreachable!("{text} is not a reference though the prefix was checked: {rejection}")
            }
        }
    }
}
