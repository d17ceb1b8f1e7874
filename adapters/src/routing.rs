//! The one derivation rule both dialects apply to a message's routing
//! (ISM-1 Appendix A, "Derived members"), so that MT54x and ISO 20022 read
//! the same business message alike.

use isthmus_spec::ident::Bic;

/// Which end of a message's routing stands for the instructing party's own
/// agent when the message names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnAgentFrom {
    /// The receiver: the account servicer, which acts for the instructing
    /// party at the place of settlement.
    Receiver,
    /// The sender: the message goes straight to the place of settlement, so
    /// the sender is a direct participant and its own agent.
    Sender,
}

/// The receiver stands for the own agent unless it is the place of
/// settlement itself (the same first eight characters).
pub(crate) fn own_agent_from(receiver: &Bic, place_of_settlement: &Bic) -> OwnAgentFrom {
    if receiver.institution() == place_of_settlement.institution() {
        OwnAgentFrom::Sender
    } else {
        OwnAgentFrom::Receiver
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receiver_unless_it_is_the_depository() {
        let bic = |text: &str| Bic::parse(text).unwrap_or_else(|r| panic!("{r}"));
        let dtc = bic("DTCYUS33");
        assert_eq!(
            own_agent_from(&bic("CHASUS33"), &dtc),
            OwnAgentFrom::Receiver
        );
        assert_eq!(
            own_agent_from(&bic("DTCYUS33XXX"), &dtc),
            OwnAgentFrom::Sender
        );
        assert_eq!(own_agent_from(&bic("DTCYUS33"), &dtc), OwnAgentFrom::Sender);
    }
}
