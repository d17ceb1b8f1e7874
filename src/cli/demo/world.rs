//! The demo's network: two markets in two dialects, four participants, a
//! relay and a gateway per market on loopback QUIC with mutual TLS, each
//! gateway's participant API on a loopback port.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use isthmus_adapters::adapter::Dialect;
use isthmus_adapters::native_ledger::NativeLedger;
use isthmus_gateway::GatewayConfig;
use isthmus_ledger::Ledger;
use isthmus_node::config::{ApiSetup, Participant};
use isthmus_node::{GatewayHandle, GatewayNode, KvNodeStore, RelayNode};
use isthmus_relay::RelayConfig;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{NodeId, Text};
use isthmus_spec::membership::Role;
use isthmus_spec::protocol::Timing;
use isthmus_store::log::DiskLogFiles;
use isthmus_store::{SledStore, SystemClock};
use isthmus_transport::{Limits, NetworkIdentity, NodeContext, NodeSpec};

/// The relay's node id.
pub const RELAY: &str = "relay.demo";
/// The operator's bearer token on both gateways (the demo's own, in memory).
pub const OPERATOR_TOKEN: &str = "demo-operator";

/// Short timeouts, so the demo's cut-offs and refunds happen within
/// seconds: matching cut-off 3 s, locks within 1.5 s, the cash leg's expiry
/// 4 s after the match and the securities leg's 6 s (ISM-1 §12.1).
pub fn timing() -> Timing {
    Timing {
        claim_window_ms: 1_500,
        max_clock_skew_ms: 100,
        matching_window_ms: 3_000,
        lock_window_ms: 1_500,
        reveal_margin_ms: 1_700,
        cash_expiry_ms: 4_000,
        securities_expiry_ms: 6_000,
        retransmit_ms: 200,
    }
}

/// The timing of `--trades N`: the deployed configurations' (lock window
/// 30 s, expiries 60 s and 90 s), so that load delays nothing into an abort.
pub fn load_timing() -> Timing {
    Timing {
        claim_window_ms: 10_000,
        max_clock_skew_ms: 500,
        matching_window_ms: 60_000,
        lock_window_ms: 30_000,
        reveal_margin_ms: 10_500,
        cash_expiry_ms: 60_000,
        securities_expiry_ms: 90_000,
        retransmit_ms: 500,
    }
}

/// One market: its ledger, its gateway, its participants' dialect.
#[derive(Debug, Clone)]
pub struct Market {
    /// Its MIC.
    pub mic: &'static str,
    /// Its gateway's node id.
    pub gateway: &'static str,
    /// What its participants speak.
    pub dialect: Dialect,
    /// The currency paid on it.
    pub currency: &'static str,
    /// The security listed on it.
    pub isin: &'static str,
    /// Its place of settlement (the CSD's BIC).
    pub place: &'static str,
}

/// The German market (Xetra, settling in T2S), in ISO 20022.
pub const XETR: Market = Market {
    mic: "XETR",
    gateway: "gw.xetr",
    dialect: Dialect::Iso20022,
    currency: "EUR",
    isin: "DE0007164600",
    place: "DAKVDEFF",
};

/// The Australian market, in MT54x.
pub const XASX: Market = Market {
    mic: "XASX",
    gateway: "gw.xasx",
    dialect: Dialect::Mt,
    currency: "AUD",
    isin: "AU000000BHP4",
    place: "CHESAU2S",
};

/// One participant: its BIC, where it is a member, its accounts.
#[derive(Debug, Clone)]
pub struct Person {
    /// For people.
    pub name: &'static str,
    /// Its BIC: the owner of its accounts.
    pub bic: &'static str,
    /// The market whose gateway it instructs (where it gives its leg).
    pub home: Market,
}

impl Person {
    /// `OWNER/SAFE-1` on the market of `isin`.
    pub fn safe(&self) -> String {
        format!("{}/SAFE-1", self.bic)
    }

    /// `OWNER/CASH-<currency>`.
    pub fn cash(&self, currency: &str) -> String {
        format!("{}/CASH-{currency}", self.bic)
    }

    /// Its bearer token (the demo's own).
    pub fn token(&self) -> String {
        format!("{}-token", self.name)
    }
}

/// Alice sells SAP shares on XETR for AUD; Bob buys them; Carol sells BHP
/// shares on XASX for EUR; Dave buys them.
pub fn people() -> [Person; 4] {
    [
        Person {
            name: "alice",
            bic: "ALICDEFF",
            home: XETR,
        },
        Person {
            name: "bob",
            bic: "BOBBAU2S",
            home: XASX,
        },
        Person {
            name: "carol",
            bic: "CAROAU2S",
            home: XASX,
        },
        Person {
            name: "dave",
            bic: "DAVEDEFF",
            home: XETR,
        },
    ]
}

/// Every account on `market`'s ledger, with what it is funded with:
/// `(account, asset, amount)`; an empty amount opens it unfunded.
pub fn accounts(market: &Market) -> Vec<(String, &'static str, &'static str)> {
    let [alice, bob, carol, dave] = people();
    if market.mic == XETR.mic {
        vec![
            (alice.safe(), XETR.isin, "10000"),
            (bob.safe(), XETR.isin, ""),
            (dave.cash(XETR.currency), XETR.currency, "5000000.00"),
            (carol.cash(XETR.currency), XETR.currency, ""),
        ]
    } else {
        vec![
            (carol.safe(), XASX.isin, "10000"),
            (dave.safe(), XASX.isin, ""),
            (bob.cash(XASX.currency), XASX.currency, "5000000.00"),
            (alice.cash(XASX.currency), XASX.currency, ""),
        ]
    }
}

/// Each participant of a gateway with the accounts it may name: its own
/// on both markets.
fn api_setup(market: &Market) -> ApiSetup {
    let participants = people()
        .into_iter()
        .filter(|p| p.home.mic == market.mic)
        .map(|p| Participant {
            name: p.name.to_string(),
            token_sha256: sha256(&p.token()),
            accounts: vec![p.safe(), p.cash(XETR.currency), p.cash(XASX.currency)],
        })
        .collect();
    ApiSetup {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        operator_token_sha256: sha256(OPERATOR_TOKEN),
        participants,
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    bytes
}

/// A free loopback UDP port (taken back at once; a node binds it next).
fn free_udp() -> anyhow::Result<SocketAddr> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").context("finding a free UDP port")?;
    socket.local_addr().context("finding a free UDP port")
}

fn context(identity: &NetworkIdentity, id: &str) -> anyhow::Result<NodeContext> {
    Ok(identity.context(id, Limits::default())?)
}

/// A running gateway with its API.
pub struct RunningGateway {
    /// The market.
    pub market: Market,
    /// The node.
    pub node: GatewayNode,
    /// Its API.
    pub api: SocketAddr,
}

impl RunningGateway {
    /// The engine's handle.
    pub fn handle(&self) -> GatewayHandle {
        self.node.handle()
    }
}

/// The running network.
pub struct Network {
    /// The relay.
    pub relay: RelayNode,
    /// XETR's gateway, then XASX's.
    pub gateways: [RunningGateway; 2],
}

impl Network {
    /// The gateway of `market`.
    pub fn gateway(&self, market: &Market) -> &RunningGateway {
        if market.mic == XETR.mic {
            &self.gateways[0]
        } else {
            &self.gateways[1]
        }
    }

    /// Stops every node, draining for at most `drain` each.
    pub async fn shutdown(self, drain: Duration) {
        let [first, second] = self.gateways;
        first.node.shutdown(drain).await;
        second.node.shutdown(drain).await;
        self.relay.shutdown(drain).await;
    }
}

fn node_id(id: &str) -> anyhow::Result<NodeId> {
    NodeId::parse(id).map_err(|e| anyhow!("node id {id}: {e}"))
}

fn mic(text: &str) -> anyhow::Result<Mic> {
    Mic::parse(text).map_err(|e| anyhow!("MIC {text}: {e}"))
}

/// The network's identities: a CA, the relay and the two gateways.
pub fn identities() -> anyhow::Result<NetworkIdentity> {
    let spec = |id: &str, role: Role, market: Option<&str>| -> anyhow::Result<NodeSpec> {
        Ok(NodeSpec {
            node_id: node_id(id)?,
            role,
            market: market.map(mic).transpose()?,
        })
    };
    let nodes = [
        spec(RELAY, Role::Relay, None)?,
        spec(XETR.gateway, Role::Gateway, Some(XETR.mic))?,
        spec(XASX.gateway, Role::Gateway, Some(XASX.mic))?,
    ];
    let name = Text::parse("isthmus-demo").map_err(|e| anyhow!("{e}"))?;
    Ok(NetworkIdentity::generate(&name, &nodes)?)
}

/// Writes the network's public files into `dir/network` (membership, CA and
/// node certificates; the private keys stay in memory).
pub fn write_public_files(identity: &NetworkIdentity, dir: &Path) -> anyhow::Result<()> {
    let network = dir.join("network");
    std::fs::create_dir_all(&network).with_context(|| format!("creating {}", network.display()))?;
    let write = |name: String, bytes: &[u8]| {
        std::fs::write(network.join(&name), bytes)
            .with_context(|| format!("writing {}", network.join(&name).display()))
    };
    write(
        "membership.json".into(),
        identity.membership.to_json().to_string().as_bytes(),
    )?;
    write("ca.pem".into(), identity.ca_certificate_pem.as_bytes())?;
    for node in &identity.nodes {
        write(
            format!("{}.pem", node.spec.node_id),
            node.certificate_pem.as_bytes(),
        )?;
    }
    Ok(())
}

/// Starts the relay and both gateways in `dir` with `timing`, and each gateway's API.
pub async fn start(
    identity: &NetworkIdentity,
    dir: &Path,
    timing: Timing,
) -> anyhow::Result<Network> {
    let ids = [RELAY, XETR.gateway, XASX.gateway];
    let mut addrs = BTreeMap::new();
    for id in ids {
        addrs.insert(node_id(id)?, free_udp()?);
    }
    let peers_of = |own: &str| -> BTreeMap<NodeId, SocketAddr> {
        addrs
            .iter()
            .filter(|(id, _)| id.as_str() != own)
            .map(|(id, addr)| (id.clone(), *addr))
            .collect()
    };
    let mut gateways = BTreeMap::new();
    for market in [&XETR, &XASX] {
        gateways.insert(mic(market.mic)?, node_id(market.gateway)?);
    }
    let store = |name: &str| -> anyhow::Result<SledStore> {
        let path = dir.join("stores").join(name);
        SledStore::open(&path).with_context(|| format!("opening the store {}", path.display()))
    };
    let relay_id = node_id(RELAY)?;
    let relay = RelayNode::start(
        addrs[&relay_id],
        context(identity, RELAY)?,
        RelayConfig {
            node: relay_id.clone(),
            gateways: gateways.clone(),
            timing,
            settlement_prefix: "S".into(),
        },
        peers_of(RELAY),
        Box::new(KvNodeStore::<_, isthmus_relay::Record>::new(store(RELAY)?)),
        Arc::new(SystemClock),
    )
    .context("starting the relay")?;
    let mut running = Vec::new();
    for market in [XETR, XASX] {
        let path = dir.join("ledgers").join(market.mic);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        let files = DiskLogFiles::writer(&path)
            .with_context(|| format!("opening the ledger {}", path.display()))?;
        let ledger = Ledger::open(files, Box::new(SystemClock))
            .map_err(|f| anyhow!("opening the ledger {}: {f}", path.display()))?;
        let own = node_id(market.gateway)?;
        let node = GatewayNode::start(
            addrs[&own],
            context(identity, market.gateway)?,
            GatewayConfig {
                node: own,
                market: mic(market.mic)?,
                relays: vec![relay_id.clone()],
                gateways: gateways.clone(),
                timing,
            },
            Box::new(NativeLedger::new(mic(market.mic)?, ledger)),
            peers_of(market.gateway),
            Box::new(KvNodeStore::<_, isthmus_gateway::Record>::new(store(
                market.gateway,
            )?)),
            Arc::new(SystemClock),
        )
        .with_context(|| format!("starting {}", market.gateway))?;
        let router = isthmus_node::api::router(
            node.handle(),
            api_setup(&market),
            relay_id.clone(),
            mic(market.mic)?,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a gateway's API")?;
        let api = listener.local_addr().context("the API's address")?;
        tokio::spawn(async move { axum::serve(listener, router).await });
        running.push(RunningGateway { market, node, api });
    }
    let [xses, xasx]: [RunningGateway; 2] = running
        .try_into()
        .map_err(|_| anyhow!("two gateways were started"))?;
    Ok(Network {
        relay,
        gateways: [xses, xasx],
    })
}

/// One HTTP/1.1 request to a gateway's API: the status and the body.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to the API on {addr}"))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("the API on {addr} answered no HTTP status"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
