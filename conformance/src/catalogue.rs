//! What a scenario is checked as: its level, its requirement level and the
//! roles it applies to (issue 14 steps 2–3). The scenarios themselves, with
//! these attributes, are listed in [`crate::scenarios::ALL`].

use std::fmt;

/// A group of scenarios a target may support or declare unsupported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Messages and transport: ISM-1 §3–§8.
    Core,
    /// The settlement protocol: ISM-1 §12.
    Settlement,
    /// Restarts of the target during each settlement state: ISM-1 §12.10.
    Recovery,
}

impl Level {
    /// Every level, in the order they build on each other.
    pub const ALL: [Level; 3] = [Level::Core, Level::Settlement, Level::Recovery];

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Core => "core",
            Level::Settlement => "settlement",
            Level::Recovery => "recovery",
        }
    }

    /// The level named `text`.
    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|level| level.as_str() == text)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The requirement key word (ISM-1 §2.1) of the clause a check proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strength {
    /// An absolute requirement: run always.
    Must,
    /// A recommendation: run with `--strict` only.
    Should,
}

impl Strength {
    /// `MUST` or `SHOULD`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Must => "MUST",
            Strength::Should => "SHOULD",
        }
    }
}

impl fmt::Display for Strength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of the node under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A relay: the suite plays two gateways.
    Relay,
    /// A gateway: the suite plays the relay and the other gateway.
    Gateway,
}

impl Role {
    /// Both roles.
    pub const BOTH: &'static [Role] = &[Role::Relay, Role::Gateway];

    /// `relay` or `gateway`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Relay => "relay",
            Role::Gateway => "gateway",
        }
    }

    /// The role named `text`.
    pub fn parse(text: &str) -> Option<Role> {
        [Role::Relay, Role::Gateway]
            .into_iter()
            .find(|role| role.as_str() == text)
    }

    /// The membership role of a node that plays this role.
    pub fn member_role(self) -> isthmus_spec::membership::Role {
        match self {
            Role::Relay => isthmus_spec::membership::Role::Relay,
            Role::Gateway => isthmus_spec::membership::Role::Gateway,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
