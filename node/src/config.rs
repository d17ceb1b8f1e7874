//! Node configuration files (TOML), checked at start with errors that name
//! the option (`deploy/relay.toml` has every option, commented). Paths are
//! relative to the configuration file's directory.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use isthmus_gateway::GatewayConfig;
use isthmus_relay::RelayConfig;
use isthmus_spec::ids::NodeId;
use isthmus_spec::membership::{Membership, Role};
use isthmus_spec::protocol::Timing;
use isthmus_spec::sign::SigningKey;
use isthmus_transport::{Limits, NodeContext, TlsIdentity};
use serde::Deserialize;

/// A configuration refused, naming the option.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {option}: {problem}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The option, as `section.name`.
    pub option: String,
    /// What is wrong.
    pub problem: String,
}

/// `[node]`: what every node has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// This node's id, as the membership file lists it.
    pub id: String,
    /// The UDP address to serve QUIC on.
    pub listen: String,
    /// The store's directory (sled).
    pub store: PathBuf,
    /// The membership file (ISM-1 §8.1 rule 4).
    pub membership: PathBuf,
    /// The network CA's certificate (PEM).
    pub ca: PathBuf,
    /// This node's certificate chain (PEM), its own first.
    pub certificate: PathBuf,
    /// This node's TLS key (PEM).
    pub tls_key: PathBuf,
    /// This node's signing key (PKCS#8 PEM).
    pub signing_key: PathBuf,
}

/// `[limits]`: the transport's limits (ISM-1 §8.6); each defaults to the
/// clause's minimum.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Connections one peer may have open at once.
    pub connections_per_peer: Option<usize>,
    /// Handshakes in progress at once.
    pub handshakes_in_progress: Option<usize>,
    /// Streams a peer may have open at once per connection.
    pub open_streams_per_connection: Option<u32>,
    /// From a stream's opening to the end of its request, milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// Idle time before a connection closes, milliseconds.
    pub idle_timeout_ms: Option<u64>,
}

/// A relay's configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayFile {
    /// `[node]`.
    pub node: NodeSection,
    /// `[relay]`.
    pub relay: RelaySection,
    /// `[timing]` (ISM-1 §12.1).
    pub timing: Timing,
    /// `[peers]`: node id = "host:port", for every gateway.
    pub peers: BTreeMap<String, String>,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitsSection,
    /// `[metrics]`: where `/metrics` and `/healthz` are served, if anywhere.
    #[serde(default)]
    pub metrics: Option<MetricsSection>,
}

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// The HTTP address (loopback by default).
    pub listen: String,
}

/// `[relay]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySection {
    /// Settlement ids are `<prefix>-<n>`.
    pub settlement_prefix: String,
}

/// Everything a relay node needs, checked.
pub struct RelaySetup {
    /// Where to serve.
    pub listen: SocketAddr,
    /// The store's directory.
    pub store: PathBuf,
    /// The transport's identity and limits.
    pub transport: NodeContext,
    /// The engine's configuration.
    pub relay: RelayConfig,
    /// Where each peer serves.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Where `/metrics` and `/healthz` are served.
    pub metrics: Option<SocketAddr>,
}

struct Checker<'a> {
    file: &'a Path,
    dir: PathBuf,
}

impl Checker<'_> {
    fn error(&self, option: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.display().to_string(),
            option: option.to_string(),
            problem: problem.into(),
        }
    }

    fn path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.dir.join(path)
        }
    }

    fn read(&self, option: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
        let full = self.path(path);
        std::fs::read(&full)
            .map_err(|e| self.error(option, format!("cannot read {}: {e}", full.display())))
    }

    fn addr(&self, option: &str, text: &str) -> Result<SocketAddr, ConfigError> {
        text.parse().map_err(|_| {
            self.error(
                option,
                format!("{text:?} is not an address such as 127.0.0.1:7401"),
            )
        })
    }

    fn node(
        &self,
        section: &NodeSection,
        limits: &LimitsSection,
        role: Role,
    ) -> Result<(SocketAddr, NodeContext), ConfigError> {
        let own = NodeId::parse(&section.id).map_err(|r| self.error("node.id", r.message))?;
        let listen = self.addr("node.listen", &section.listen)?;
        let membership_bytes = self.read("node.membership", &section.membership)?;
        let membership = Membership::parse_for(&membership_bytes, &own)
            .map_err(|r| self.error("node.membership", r.to_string()))?;
        let member = membership
            .member(&own)
            .ok_or_else(|| self.error("node.id", "not in the membership file"))?;
        if member.role != role {
            return Err(self.error(
                "node.id",
                format!(
                    "{own} is a {} in the membership file, not a {role}",
                    member.role
                ),
            ));
        }
        let tls = TlsIdentity::from_pem(
            &self.read("node.ca", &section.ca)?,
            &self.read("node.certificate", &section.certificate)?,
            &self.read("node.tls_key", &section.tls_key)?,
        )
        .map_err(|e| self.error("node.certificate", e.to_string()))?;
        if tls.certificate_sha256() != member.certificate_sha256 {
            return Err(self.error(
                "node.certificate",
                format!("this certificate is not the one the membership file pins for {own}"),
            ));
        }
        let key_text = String::from_utf8(self.read("node.signing_key", &section.signing_key)?)
            .map_err(|_| self.error("node.signing_key", "not a PEM text file"))?;
        let signing_key = SigningKey::from_pem(&key_text)
            .map_err(|e| self.error("node.signing_key", e.to_string()))?;
        let key_id = signing_key.public_key().key_id();
        if !member.signing_keys.iter().any(|k| k.key_id == key_id) {
            return Err(self.error(
                "node.signing_key",
                format!("key {key_id} is not one the membership file lists for {own}"),
            ));
        }
        let defaults = Limits::default();
        let limits = Limits {
            connections_per_peer: limits
                .connections_per_peer
                .unwrap_or(defaults.connections_per_peer),
            handshakes_in_progress: limits
                .handshakes_in_progress
                .unwrap_or(defaults.handshakes_in_progress),
            open_streams_per_connection: limits
                .open_streams_per_connection
                .unwrap_or(defaults.open_streams_per_connection),
            request_timeout_ms: limits
                .request_timeout_ms
                .unwrap_or(defaults.request_timeout_ms),
            idle_timeout_ms: limits.idle_timeout_ms.unwrap_or(defaults.idle_timeout_ms),
            ..defaults
        };
        for (option, value, least) in [
            (
                "limits.connections_per_peer",
                limits.connections_per_peer as u64,
                1,
            ),
            (
                "limits.handshakes_in_progress",
                limits.handshakes_in_progress as u64,
                1,
            ),
            (
                "limits.open_streams_per_connection",
                u64::from(limits.open_streams_per_connection),
                1,
            ),
            ("limits.request_timeout_ms", limits.request_timeout_ms, 100),
            ("limits.idle_timeout_ms", limits.idle_timeout_ms, 1_000),
        ] {
            if value < least {
                return Err(self.error(
                    option,
                    format!("{value} is below the least workable value, {least}"),
                ));
            }
        }
        Ok((
            listen,
            NodeContext {
                own,
                membership,
                tls,
                signing_key,
                limits,
            },
        ))
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        option: "(file)".into(),
        problem: format!("cannot read it: {e}"),
    })?;
    toml::from_str(&text).map_err(|e| ConfigError {
        file: path.display().to_string(),
        option: "(syntax)".into(),
        problem: e.to_string().trim().replace('\n', " "),
    })
}

/// Reads and checks a relay's configuration file.
pub fn load_relay(path: &Path) -> Result<RelaySetup, ConfigError> {
    let file: RelayFile = parse_toml(path)?;
    let checker = Checker {
        file: path,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let (listen, transport) = checker.node(&file.node, &file.limits, Role::Relay)?;
    let mut peers = BTreeMap::new();
    for (id, addr) in &file.peers {
        let option = format!("peers.{id}");
        let node = NodeId::parse(id).map_err(|r| checker.error(&option, r.message))?;
        if transport.membership.member(&node).is_none() {
            return Err(checker.error(&option, format!("{node} is not in the membership file")));
        }
        peers.insert(node, checker.addr(&option, addr)?);
    }
    let mut gateways = BTreeMap::new();
    for member in transport.membership.members() {
        if let (Role::Gateway, Some(market)) = (member.role, &member.market) {
            if !peers.contains_key(&member.node_id) {
                return Err(checker.error(
                    &format!("peers.{}", member.node_id),
                    format!("the gateway of {market} has no address"),
                ));
            }
            gateways.insert(market.clone(), member.node_id.clone());
        }
    }
    let relay = RelayConfig {
        node: transport.own.clone(),
        gateways,
        timing: file.timing,
        settlement_prefix: file.relay.settlement_prefix.clone(),
    };
    relay
        .check()
        .map_err(|e| checker.error("timing", e.to_string()))?;
    let metrics = match &file.metrics {
        Some(section) => Some(checker.addr("metrics.listen", &section.listen)?),
        None => None,
    };
    Ok(RelaySetup {
        listen,
        store: checker.path(&file.node.store),
        transport,
        relay,
        peers,
        metrics,
    })
}

/// A gateway's configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// `[node]`.
    pub node: NodeSection,
    /// `[gateway]`.
    pub gateway: GatewaySection,
    /// `[timing]` (ISM-1 §12.1): the network's, as the relay has it.
    pub timing: Timing,
    /// `[peers]`: node id = "host:port", for every relay and the other gateways.
    pub peers: BTreeMap<String, String>,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitsSection,
    /// `[api]`: the participant API.
    pub api: ApiSection,
}

/// `[gateway]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// The relays it instructs.
    pub relays: Vec<String>,
    /// The native ledger's directory (created if missing).
    pub ledger: PathBuf,
    /// `[gateway.custody]`: the market's ledger cannot lock; the gateway
    /// holds the locks in the custodian's escrow account.
    #[serde(default)]
    pub custody: Option<CustodySection>,
}

/// `[gateway.custody]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustodySection {
    /// The custodian's escrow account on the ledger (`OWNER/ACCOUNT`),
    /// opened at start if the ledger has none.
    pub escrow: String,
    /// The custodian's HTLC records (sled; created if missing).
    pub records: PathBuf,
}

/// A custody ledger's settings, checked.
#[derive(Debug, Clone)]
pub struct CustodySetup {
    /// The escrow account.
    pub escrow: isthmus_ledger::AccountRef,
    /// The records' directory.
    pub records: PathBuf,
}

/// `[api]`: the participant API (HTTP, loopback by default).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Where it listens.
    pub listen: String,
    /// SHA-256 (hex) of the operator's bearer token.
    pub operator_token_sha256: String,
    /// The participants.
    #[serde(default)]
    pub participants: Vec<ParticipantSection>,
}

/// One `[[api.participants]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantSection {
    /// A name for logs.
    pub name: String,
    /// SHA-256 (hex) of its bearer token (`isthmus keys token` makes one).
    pub token_sha256: String,
    /// The ledger accounts it owns: it instructs and reads only these.
    pub accounts: Vec<String>,
}

/// A participant of the API, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Its name.
    pub name: String,
    /// SHA-256 of its token.
    pub token_sha256: [u8; 32],
    /// Its accounts.
    pub accounts: Vec<String>,
}

/// The participant API's settings, checked.
#[derive(Debug, Clone)]
pub struct ApiSetup {
    /// Where it listens.
    pub listen: SocketAddr,
    /// SHA-256 of the operator's token.
    pub operator_token_sha256: [u8; 32],
    /// The participants.
    pub participants: Vec<Participant>,
}

/// Everything a gateway node needs, checked.
pub struct GatewaySetup {
    /// Where to serve QUIC.
    pub listen: SocketAddr,
    /// The store's directory.
    pub store: PathBuf,
    /// The ledger's directory.
    pub ledger: PathBuf,
    /// Set when the ledger cannot lock and the gateway holds the locks in escrow.
    pub custody: Option<CustodySetup>,
    /// The transport's identity and limits.
    pub transport: NodeContext,
    /// The engine's configuration.
    pub gateway: GatewayConfig,
    /// Where each peer serves.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// The participant API.
    pub api: ApiSetup,
}

fn sha256_hex(checker: &Checker<'_>, option: &str, text: &str) -> Result<[u8; 32], ConfigError> {
    isthmus_spec::ids::Hex32::parse(text)
        .map(|hex| *hex.bytes())
        .map_err(|_| {
            checker.error(
                option,
                "not 64 lower-case hex digits (the SHA-256 of the token)",
            )
        })
}

/// Reads and checks a gateway's configuration file.
pub fn load_gateway(path: &Path) -> Result<GatewaySetup, ConfigError> {
    let file: GatewayFile = parse_toml(path)?;
    let checker = Checker {
        file: path,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let (listen, transport) = checker.node(&file.node, &file.limits, Role::Gateway)?;
    let membership = &transport.membership;
    let market = membership
        .member(&transport.own)
        .and_then(|m| m.market.clone())
        .ok_or_else(|| {
            checker.error(
                "node.id",
                "the membership file gives this gateway no market",
            )
        })?;
    let mut peers = BTreeMap::new();
    for (id, addr) in &file.peers {
        let option = format!("peers.{id}");
        let node = NodeId::parse(id).map_err(|r| checker.error(&option, r.message))?;
        if membership.member(&node).is_none() {
            return Err(checker.error(&option, format!("{node} is not in the membership file")));
        }
        peers.insert(node, checker.addr(&option, addr)?);
    }
    let mut relays = Vec::new();
    for (index, relay) in file.gateway.relays.iter().enumerate() {
        let option = format!("gateway.relays[{index}]");
        let node = NodeId::parse(relay).map_err(|r| checker.error(&option, r.message))?;
        match membership.member(&node) {
            Some(member) if member.role == Role::Relay => {}
            Some(member) => {
                return Err(
                    checker.error(&option, format!("{node} is a {}, not a relay", member.role))
                )
            }
            None => {
                return Err(checker.error(&option, format!("{node} is not in the membership file")))
            }
        }
        if !peers.contains_key(&node) {
            return Err(checker.error(
                &format!("peers.{node}"),
                "a relay this gateway instructs has no address",
            ));
        }
        relays.push(node);
    }
    let mut gateways = BTreeMap::new();
    for member in membership.members() {
        if let (Role::Gateway, Some(other)) = (member.role, &member.market) {
            if member.node_id != transport.own && !peers.contains_key(&member.node_id) {
                return Err(checker.error(
                    &format!("peers.{}", member.node_id),
                    format!("the gateway of {other} has no address (secrets are handed to it, ISM-1 §12.7)"),
                ));
            }
            gateways.insert(other.clone(), member.node_id.clone());
        }
    }
    let gateway = GatewayConfig {
        node: transport.own.clone(),
        market,
        relays,
        gateways,
        timing: file.timing,
    };
    gateway
        .check()
        .map_err(|e| checker.error("timing", e.to_string()))?;
    let api_listen = checker.addr("api.listen", &file.api.listen)?;
    let operator_token_sha256 = sha256_hex(
        &checker,
        "api.operator_token_sha256",
        &file.api.operator_token_sha256,
    )?;
    let mut participants = Vec::new();
    for (index, participant) in file.api.participants.iter().enumerate() {
        let option = format!("api.participants[{index}]");
        let token_sha256 = sha256_hex(
            &checker,
            &format!("{option}.token_sha256"),
            &participant.token_sha256,
        )?;
        if token_sha256 == operator_token_sha256
            || participants
                .iter()
                .any(|p: &Participant| p.token_sha256 == token_sha256)
        {
            return Err(checker.error(
                &format!("{option}.token_sha256"),
                "another participant or the operator has this token",
            ));
        }
        for (n, account) in participant.accounts.iter().enumerate() {
            isthmus_ledger::parse_account(account)
                .map_err(|e| checker.error(&format!("{option}.accounts[{n}]"), e.to_string()))?;
            if file
                .gateway
                .custody
                .as_ref()
                .is_some_and(|custody| custody.escrow == *account)
            {
                return Err(checker.error(
                    &format!("{option}.accounts[{n}]"),
                    "this is the custodian's escrow account (gateway.custody.escrow); no participant may own it",
                ));
            }
        }
        participants.push(Participant {
            name: participant.name.clone(),
            token_sha256,
            accounts: participant.accounts.clone(),
        });
    }
    let custody = match &file.gateway.custody {
        None => None,
        Some(custody) => Some(CustodySetup {
            escrow: isthmus_ledger::parse_account(&custody.escrow)
                .map_err(|e| checker.error("gateway.custody.escrow", e.to_string()))?,
            records: checker.path(&custody.records),
        }),
    };
    Ok(GatewaySetup {
        listen,
        store: checker.path(&file.node.store),
        ledger: checker.path(&file.gateway.ledger),
        custody,
        transport,
        gateway,
        peers,
        api: ApiSetup {
            listen: api_listen,
            operator_token_sha256,
            participants,
        },
    })
}
