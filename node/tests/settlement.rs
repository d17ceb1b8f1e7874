#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A relay and two gateway nodes over real QUIC on loopback, each with its
//! durable store and the gateways with durable native ledgers: trades
//! against payment and free of payment settle with both legs claimed, a
//! trade the seller cannot deliver ends with nothing moved, and every asset
//! is conserved on both ledgers (issue 12).

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use isthmus_adapters::adapter::Dialect;
use isthmus_adapters::native_ledger::NativeLedger;
use isthmus_gateway::GatewayConfig;
use isthmus_ledger::operation::Operation;
use isthmus_ledger::{parse_account, Ledger};
use isthmus_node::config::{ApiSetup, Participant};
use isthmus_node::gateway::{custody_ledger, GatewayLedger};
use isthmus_node::{GatewayHandle, GatewayNode, KvNodeStore, RelayNode};
use isthmus_relay::RelayConfig;
use isthmus_sim::workload::{self, Trade, TradeKind};
use isthmus_sim::world::{asset_of, initial_holdings};
use isthmus_spec::body::Body;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{NodeId, Text};
use isthmus_spec::json::Json;
use isthmus_spec::membership::Role;
use isthmus_spec::protocol::{Outbound, Timing};
use isthmus_store::log::DiskLogFiles;
use isthmus_store::{SledStore, SystemClock};
use isthmus_transport::NetworkIdentity;

mod support;

use support::{context, get_text, node_spec, trades, until, RELAY};
const SELLER_GW: &str = "gw.xnys";
const BUYER_GW: &str = "gw.xasx";

fn timing() -> Timing {
    Timing {
        claim_window_ms: 10_000,
        max_clock_skew_ms: 500,
        matching_window_ms: 60_000,
        lock_window_ms: 60_000,
        reveal_margin_ms: 10_500,
        cash_expiry_ms: 120_000,
        securities_expiry_ms: 240_000,
        retransmit_ms: 300,
    }
}

fn free_port() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn id(text: &str) -> NodeId {
    NodeId::parse(text).unwrap()
}

struct Network {
    _dir: tempfile::TempDir,
    /// What it takes to start a gateway again.
    setup: Setup,
    relay: RelayNode,
    seller: GatewayNode,
    buyer: GatewayNode,
    /// The participant APIs of the seller's and the buyer's gateway.
    seller_api: SocketAddr,
    buyer_api: SocketAddr,
}

/// Participant k's token at either gateway.
fn token(side: &str, k: usize) -> String {
    format!("{side}-token-{k}")
}

const OPERATOR_TOKEN: &str = "operator-token";

fn sha(text: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref().try_into().unwrap()
}

fn api_setup() -> ApiSetup {
    let mut participants = Vec::new();
    for k in 0..workload::PARTICIPANTS {
        participants.push(Participant {
            name: format!("seller {k}"),
            token_sha256: sha(&token("seller", k)),
            accounts: vec![
                workload::seller_safe(Some(k)),
                workload::seller_cash(Some(k)),
            ],
        });
        participants.push(Participant {
            name: format!("buyer {k}"),
            token_sha256: sha(&token("buyer", k)),
            accounts: vec![workload::buyer_safe(k), workload::buyer_cash(k)],
        });
    }
    participants.push(Participant {
        name: "the seller who holds nothing".into(),
        token_sha256: sha(&token("seller", 99)),
        accounts: vec![workload::seller_safe(None), workload::seller_cash(None)],
    });
    ApiSetup {
        listen: "127.0.0.1:0".parse().unwrap(),
        operator_token_sha256: sha(OPERATOR_TOKEN),
        participants,
    }
}

async fn serve_api(node: &GatewayNode, market: Mic) -> SocketAddr {
    let router = isthmus_node::api::router(node.handle(), api_setup(), id(RELAY), market);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// Reads an event stream until `wanted` appears (bounded, to catch a hang).
async fn read_events(addr: SocketAddr, path: &str, token: &str, wanted: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    for _ in 0..1_000 {
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buffer))
            .await
            .expect("the event stream went silent")
            .unwrap();
        assert!(
            read > 0,
            "the event stream ended: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&seen);
        if text.contains(wanted) {
            return text.into_owned();
        }
    }
    panic!("no {wanted:?} in {}", String::from_utf8_lossy(&seen));
}

/// One HTTP/1.1 request of ISM/1 JSON; the status and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    http_as(addr, method, path, token, "application/json", body).await
}

/// One HTTP/1.1 request; the status and the body.
async fn http_as(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let (status, _, text) = http_raw(addr, method, path, token, content_type, "*/*", body).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// One HTTP/1.1 request with an `Accept`; the status, the response's
/// `Content-Type` and its body as text.
async fn http_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    accept: &str,
    body: Option<&str>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nAccept: {accept}\r\n"
    );
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    request.push_str(&format!(
        "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status: u16 = text[9..12].parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

/// The initial units of every account of ledger `index`.
fn initial(index: usize) -> Vec<(String, i128)> {
    initial_holdings()
        .into_iter()
        .filter(|(ledger, _, _)| *ledger == index)
        .map(|(_, account, units)| (account, units))
        .collect()
}

fn ledger(dir: &std::path::Path, index: usize, market: &str) -> NativeLedger<DiskLogFiles> {
    let files = DiskLogFiles::writer(dir).unwrap();
    let mut side = NativeLedger::new(
        Mic::parse(market).unwrap(),
        Ledger::open(files, Box::new(SystemClock)).unwrap(),
    );
    for (n, (account, units)) in initial(index).into_iter().enumerate() {
        side.execute(
            &format!("open-{n}"),
            Operation::open_account(&account).unwrap(),
        )
        .unwrap();
        if units > 0 {
            let amount = asset_of(index).format_units(units as u64);
            let asset = if index == 0 {
                workload::ISIN
            } else {
                workload::CURRENCY
            };
            side.execute(
                &format!("issue-{n}"),
                Operation::issue(&account, asset, &amount).unwrap(),
            )
            .unwrap();
        }
    }
    side
}

async fn start() -> Network {
    start_with(&BTreeMap::new()).await
}

/// A network whose cut-off and expiries come within seconds: matching
/// 1.5 s, locks 1 s, expiries 2.1 s and 3.2 s.
async fn start_short() -> Network {
    let short = Timing {
        claim_window_ms: 1_000,
        max_clock_skew_ms: 100,
        matching_window_ms: 1_500,
        lock_window_ms: 1_000,
        reveal_margin_ms: 1_100,
        cash_expiry_ms: 2_100,
        securities_expiry_ms: 3_200,
        retransmit_ms: 100,
    };
    let addrs: BTreeMap<NodeId, SocketAddr> = [RELAY, SELLER_GW, BUYER_GW]
        .into_iter()
        .map(|n| (id(n), free_port()))
        .collect();
    start_full(addrs, &BTreeMap::new(), &BTreeMap::new(), short).await
}

/// The fixed parts of a test network.
struct Setup {
    dir: std::path::PathBuf,
    net: NetworkIdentity,
    addrs: BTreeMap<NodeId, SocketAddr>,
    gateways: BTreeMap<Mic, NodeId>,
    timing: Timing,
    /// Where each gateway reaches the relay (a proxy, or the relay itself).
    gateway_reaches_relay: BTreeMap<NodeId, SocketAddr>,
    /// Whether the cash market's ledger cannot lock: its gateway locks
    /// through a custodian's escrow account (the custody adapter).
    custody: bool,
}

impl Setup {
    /// Starts (or starts again, from its store and ledger) the gateway `own`.
    fn gateway(&self, own: &str, market: &str, index: usize) -> GatewayNode {
        let peers = self
            .addrs
            .iter()
            .filter(|(n, _)| n.as_str() != own)
            .map(|(n, a)| {
                let a = match n.as_str() {
                    RELAY => self
                        .gateway_reaches_relay
                        .get(&id(own))
                        .copied()
                        .unwrap_or(*a),
                    _ => *a,
                };
                (n.clone(), a)
            })
            .collect();
        // Funding again is a no-op: the same idempotency keys (ISM-1 §9.3).
        let native = ledger(&self.dir.join(format!("ledger-{own}")), index, market);
        let ledger: Box<dyn GatewayLedger> = if self.custody && index == 1 {
            Box::new(
                custody_ledger(
                    Mic::parse(market).unwrap(),
                    native,
                    &parse_account(ESCROW).unwrap(),
                    SledStore::open(&self.dir.join(format!("custody-{own}"))).unwrap(),
                    Box::new(SystemClock),
                )
                .unwrap(),
            )
        } else {
            Box::new(native)
        };
        GatewayNode::start(
            self.addrs[&id(own)],
            context(&self.net, own),
            GatewayConfig {
                node: id(own),
                market: Mic::parse(market).unwrap(),
                relays: vec![id(RELAY)],
                gateways: self.gateways.clone(),
                timing: self.timing,
            },
            ledger,
            peers,
            Box::new(KvNodeStore::<_, isthmus_gateway::Record>::new(
                SledStore::open(&self.dir.join(own)).unwrap(),
            )),
            Arc::new(SystemClock),
        )
        .unwrap()
    }
}

/// A UDP relay between a node and a peer that the test can cut: what
/// goes to `front` reaches the target while `open`, and its answers come back.
struct Proxy {
    front: SocketAddr,
    target: Arc<std::sync::Mutex<Option<SocketAddr>>>,
    open: Arc<std::sync::atomic::AtomicBool>,
}

async fn proxy() -> Proxy {
    use std::sync::atomic::{AtomicBool, Ordering};
    let front = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let back = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let target: Arc<std::sync::Mutex<Option<SocketAddr>>> = Arc::default();
    let client: Arc<std::sync::Mutex<Option<SocketAddr>>> = Arc::default();
    let open = Arc::new(AtomicBool::new(true));
    let (f, b, t, c, o) = (
        front.clone(),
        back.clone(),
        target.clone(),
        client.clone(),
        open.clone(),
    );
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 65_536];
        while let Ok((read, from)) = f.recv_from(&mut buffer).await {
            *c.lock().unwrap() = Some(from);
            let to = *t.lock().unwrap();
            if let (true, Some(to)) = (o.load(Ordering::SeqCst), to) {
                let _ = b.send_to(&buffer[..read], to).await;
            }
        }
    });
    let (f, b, c, o) = (front.clone(), back, client, open.clone());
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 65_536];
        while let Ok((read, _)) = b.recv_from(&mut buffer).await {
            let to = *c.lock().unwrap();
            if let (true, Some(to)) = (o.load(Ordering::SeqCst), to) {
                let _ = f.send_to(&buffer[..read], to).await;
            }
        }
    });
    Proxy {
        front: front.local_addr().unwrap(),
        target,
        open,
    }
}

/// [`start`], the relay reaching some peers at other addresses.
async fn start_with(relay_reaches: &BTreeMap<NodeId, SocketAddr>) -> Network {
    let addrs: BTreeMap<NodeId, SocketAddr> = [RELAY, SELLER_GW, BUYER_GW]
        .into_iter()
        .map(|n| (id(n), free_port()))
        .collect();
    start_full(addrs, relay_reaches, &BTreeMap::new(), timing()).await
}

/// [`start_with`] with chosen addresses, gateways reaching the relay at
/// other addresses, and a timing.
async fn start_full(
    addrs: BTreeMap<NodeId, SocketAddr>,
    relay_reaches: &BTreeMap<NodeId, SocketAddr>,
    gateway_reaches_relay: &BTreeMap<NodeId, SocketAddr>,
    timing: Timing,
) -> Network {
    start_network(addrs, relay_reaches, gateway_reaches_relay, timing, false).await
}

/// [`start_full`], the cash market's ledger behind a custodian's escrow if `custody`.
async fn start_network(
    addrs: BTreeMap<NodeId, SocketAddr>,
    relay_reaches: &BTreeMap<NodeId, SocketAddr>,
    gateway_reaches_relay: &BTreeMap<NodeId, SocketAddr>,
    timing: Timing,
    custody: bool,
) -> Network {
    let dir = tempfile::tempdir().unwrap();
    let net = NetworkIdentity::generate(
        &Text::parse("settlement-test").unwrap(),
        &[
            node_spec(RELAY, Role::Relay, None),
            node_spec(SELLER_GW, Role::Gateway, Some(workload::SECURITIES_MARKET)),
            node_spec(BUYER_GW, Role::Gateway, Some(workload::CASH_MARKET)),
        ],
    )
    .unwrap();
    let mut gateways = BTreeMap::new();
    gateways.insert(
        Mic::parse(workload::SECURITIES_MARKET).unwrap(),
        id(SELLER_GW),
    );
    gateways.insert(Mic::parse(workload::CASH_MARKET).unwrap(), id(BUYER_GW));
    let kv = |name: &str| SledStore::open(&dir.path().join(name)).unwrap();
    let peers_of = |own: &str| -> BTreeMap<NodeId, SocketAddr> {
        addrs
            .iter()
            .filter(|(n, _)| n.as_str() != own)
            .map(|(n, a)| (n.clone(), *a))
            .collect()
    };
    let relay = RelayNode::start(
        addrs[&id(RELAY)],
        context(&net, RELAY),
        RelayConfig {
            node: id(RELAY),
            gateways: gateways.clone(),
            timing,
            settlement_prefix: "S".into(),
        },
        peers_of(RELAY)
            .into_iter()
            .map(|(n, a)| (n.clone(), relay_reaches.get(&n).copied().unwrap_or(a)))
            .collect(),
        Box::new(KvNodeStore::<_, isthmus_relay::Record>::new(kv("relay"))),
        Arc::new(SystemClock),
    )
    .unwrap();
    let setup = Setup {
        dir: dir.path().to_path_buf(),
        net,
        addrs,
        gateways,
        timing,
        gateway_reaches_relay: gateway_reaches_relay.clone(),
        custody,
    };
    let gateway = |own: &str, market: &str, index: usize| setup.gateway(own, market, index);
    let seller = gateway(SELLER_GW, workload::SECURITIES_MARKET, 0);
    let buyer = gateway(BUYER_GW, workload::CASH_MARKET, 1);
    let seller_api = serve_api(&seller, Mic::parse(workload::SECURITIES_MARKET).unwrap()).await;
    let buyer_api = serve_api(&buyer, Mic::parse(workload::CASH_MARKET).unwrap()).await;
    Network {
        _dir: dir,
        setup,
        relay,
        seller,
        buyer,
        seller_api,
        buyer_api,
    }
}

async fn final_word(
    handle: &GatewayHandle,
    instruction: &isthmus_spec::ids::Reference,
) -> Vec<Body> {
    for _ in 0..3_000 {
        if let Some(view) = handle.instruction(instruction).await.unwrap() {
            if view.final_word {
                return view.notices;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("instruction {instruction} never had the relay's final word");
}

async fn units(handle: &GatewayHandle, index: usize, account: &str) -> i128 {
    let account = parse_account(account).unwrap();
    let asset = asset_of(index);
    handle
        .holdings(&account)
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .filter(|(a, _)| a == &asset)
        .map(|(_, h)| i128::from(h.available) + i128::from(h.locked))
        .sum()
}

/// The units of `account` under open locks on ledger `index`.
async fn locked(handle: &GatewayHandle, index: usize, account: &str) -> u64 {
    let asset = asset_of(index);
    handle
        .holdings(&parse_account(account).unwrap())
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .filter(|(a, _)| a == &asset)
        .map(|(_, h)| h.locked)
        .sum()
}

async fn totals(seller: &GatewayHandle, buyer: &GatewayHandle) -> [i128; 2] {
    let mut totals = [0i128; 2];
    for (index, handle) in [(0, seller), (1, buyer)] {
        for (account, _) in initial(index) {
            totals[index] += units(handle, index, &account).await;
        }
    }
    totals
}

fn confirmed(notices: &[Body]) -> bool {
    notices
        .iter()
        .any(|n| matches!(n, Body::SettlementConfirmation(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_settle_atomically_over_quic_and_every_asset_is_conserved() {
    let network = start().await;
    let seller = network.seller.handle();
    let buyer = network.buyer.handle();
    let before = totals(&network.seller.handle(), &network.buyer.handle()).await;
    let against = trades(TradeKind::AgainstPayment, 3);
    let free = trades(TradeKind::FreeOfPayment, 1);
    let short = trades(TradeKind::Insufficient, 1);
    let all: Vec<&Trade> = against.iter().chain(&free).chain(&short).collect();
    // Starting holdings of the accounts the trades touch.
    let mut expected: BTreeMap<(usize, String), i128> = BTreeMap::new();
    for (index, handle) in [(0, &seller), (1, &buyer)] {
        for (account, _) in initial(index) {
            expected.insert(
                (index, account.clone()),
                units(handle, index, &account).await,
            );
        }
    }
    // Each participant instructs through its gateway's API in its market's
    // dialect: the seller in ISO 20022 (sese.023), the buyer in MT (MT541),
    // read by the adapters; the rest of the tests use ISM/1 JSON.
    for trade in &all {
        let seller_token = token("seller", trade.seller.unwrap_or(99));
        let native = |dialect: Dialect, instruction: &isthmus_spec::body::SettlementInstruction| {
            let bytes = dialect
                .outbound(&Body::SettlementInstruction(instruction.clone()))
                .unwrap()
                .value;
            String::from_utf8(bytes).unwrap()
        };
        let xml = native(Dialect::Iso20022, &trade.deliver);
        let (status, answer) = http_as(
            network.seller_api,
            "POST",
            "/v1/instructions",
            Some(&seller_token),
            "application/xml",
            Some(&xml),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        let mt = native(Dialect::Mt, trade.receive.as_ref().unwrap());
        let (status, answer) = http_as(
            network.buyer_api,
            "POST",
            "/v1/instructions",
            Some(&token("buyer", trade.buyer)),
            "text/plain",
            Some(&mt),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
    }
    // An instruction again: the same content is answered as before, other
    // content under a used id refused; neither is taken twice.
    for trade in &all {
        let seller_token = token("seller", trade.seller.unwrap_or(99));
        let xml = String::from_utf8(
            Dialect::Iso20022
                .outbound(&Body::SettlementInstruction(trade.deliver.clone()))
                .unwrap()
                .value,
        )
        .unwrap();
        let (status, answer) = http_as(
            network.seller_api,
            "POST",
            "/v1/instructions",
            Some(&seller_token),
            "application/xml",
            Some(&xml),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let mut changed = trade.deliver.clone();
        changed.trade_date = changed.settlement_date.clone();
        if changed == trade.deliver {
            continue;
        }
        let (status, answer) = http(
            network.seller_api,
            "POST",
            "/v1/instructions",
            Some(&seller_token),
            Some(&changed.to_json().to_string()),
        )
        .await;
        assert_eq!(
            (status, answer["reason_code"].as_str()),
            (409, Some("INSTRUCTION_ID_REUSED")),
            "{answer}"
        );
    }
    for trade in &all {
        let delivered = final_word(&seller, &trade.deliver.instruction_id).await;
        let received = final_word(&buyer, &trade.receive.as_ref().unwrap().instruction_id).await;
        let settles = trade.kind != TradeKind::Insufficient;
        assert_eq!(
            confirmed(&delivered),
            settles,
            "{:?} seller side: {delivered:?}",
            trade.kind
        );
        assert_eq!(confirmed(&received), settles, "{:?} buyer side", trade.kind);
        if settles {
            let shares = i128::from(trade.shares) * 1_000_000;
            *expected
                .get_mut(&(0, workload::seller_safe(trade.seller)))
                .unwrap() -= shares;
            *expected
                .get_mut(&(0, workload::buyer_safe(trade.buyer)))
                .unwrap() += shares;
            if trade.kind == TradeKind::AgainstPayment {
                let cents = i128::from(trade.cents);
                *expected
                    .get_mut(&(1, workload::buyer_cash(trade.buyer)))
                    .unwrap() -= cents;
                *expected
                    .get_mut(&(1, workload::seller_cash(trade.seller)))
                    .unwrap() += cents;
            }
        }
    }
    // Both legs claimed for each settled trade, nothing for the failed one:
    // every account ends exactly where the settled trades put it.
    for ((index, account), units_expected) in &expected {
        let handle = if *index == 0 { &seller } else { &buyer };
        assert_eq!(
            units(handle, *index, account).await,
            *units_expected,
            "{account} on ledger {index}"
        );
    }
    assert_eq!(
        totals(&network.seller.handle(), &network.buyer.handle()).await,
        before,
        "conservation on both ledgers"
    );
    // Participants read their own instructions and holdings through the API.
    let trade = &against[0];
    let seller_token = token("seller", trade.seller.unwrap());
    let path = format!("/v1/instructions/{}", trade.deliver.instruction_id);
    let (status, view) = http(network.seller_api, "GET", &path, Some(&seller_token), None).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["final"], serde_json::Value::Bool(true));
    assert!(
        view["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "SettlementConfirmation"),
        "{view}"
    );
    let holdings = format!(
        "/v1/accounts/{}/holdings",
        workload::seller_safe(trade.seller).replace('/', "%2F")
    );
    let (status, rows) = http(
        network.seller_api,
        "GET",
        &holdings,
        Some(&seller_token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    // The same holdings as a statement of holdings: semt.002 by Accept
    // application/xml, MT535 by text/plain, each naming every security the
    // JSON lists with its total (available + locked).
    let (status, media, xml) = http_raw(
        network.seller_api,
        "GET",
        &holdings,
        Some(&seller_token),
        "application/json",
        "application/xml",
        None,
    )
    .await;
    assert_eq!((status, media.as_str()), (200, "application/xml"), "{xml}");
    let Body::HoldingsStatement(statement) = isthmus_adapters::iso20022::to_ism(xml.as_bytes())
        .unwrap()
        .value
    else {
        panic!("not a statement of holdings: {xml}");
    };
    assert_eq!(
        statement.account.to_string(),
        workload::seller_safe(trade.seller)
    );
    let securities: Vec<(String, u64)> = rows["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["asset"].as_str().unwrap().len() == 12)
        .map(|row| {
            let units = |member: &str| row[member].as_str().unwrap().parse::<u64>().unwrap();
            (
                row["asset"].as_str().unwrap().to_string(),
                units("available_units") + units("locked_units"),
            )
        })
        .filter(|(_, units)| *units > 0)
        .collect();
    let listed: Vec<(String, u64)> = statement
        .balances
        .iter()
        .map(|b| {
            let units = b.total.value().to_minor_units(6).unwrap();
            (b.isin.to_string(), units)
        })
        .collect();
    assert_eq!(listed, securities, "semt.002 against the JSON holdings");
    let (status, media, mt535) = http_raw(
        network.seller_api,
        "GET",
        &holdings,
        Some(&seller_token),
        "application/json",
        "text/plain",
        None,
    )
    .await;
    assert_eq!((status, media.as_str()), (200, "text/plain"), "{mt535}");
    assert!(mt535.contains("{2:I535"), "{mt535}");
    for (isin, _) in &securities {
        assert!(mt535.contains(&format!(":35B:ISIN {isin}")), "{mt535}");
    }
    // A cash account has no statement of (securities) holdings.
    let buyer_token = token("buyer", trade.buyer);
    let cash = format!(
        "/v1/accounts/{}/holdings",
        workload::buyer_cash(trade.buyer).replace('/', "%2F")
    );
    let (status, media, problem) = http_raw(
        network.buyer_api,
        "GET",
        &cash,
        Some(&buyer_token),
        "application/json",
        "application/xml",
        None,
    )
    .await;
    assert_eq!((status, media.as_str()), (406, "application/problem+json"));
    assert!(problem.contains("STATEMENT_NOT_REPRESENTABLE"), "{problem}");
    // The buyer's advices and confirmations as an event stream, in MT, and
    // the seller's in ISO 20022.
    let stream = read_events(
        network.buyer_api,
        "/v1/events?dialect=mt",
        &buyer_token,
        "event: SettlementConfirmation",
    )
    .await;
    assert!(stream.contains(":16R:GENL"), "{stream}");
    assert!(
        stream.contains(&format!(
            "id: {}/",
            trade.receive.as_ref().unwrap().instruction_id
        )),
        "{stream}"
    );
    let stream = read_events(
        network.seller_api,
        "/v1/events?dialect=iso20022",
        &seller_token,
        "event: SettlementConfirmation",
    )
    .await;
    assert!(stream.contains("sese.025"), "{stream}");
    assert!(
        !stream.contains(&format!("id: {}/", against[1].deliver.instruction_id))
            || against[1].seller == trade.seller,
        "another participant's notice: {stream}"
    );
    // The settlement of the seller's instruction, by the id its status named.
    let settlement_id = view["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n["body"]["settlement_id"].as_str())
        .unwrap()
        .to_string();
    let path = format!("/v1/settlements/{settlement_id}");
    let (status, settled) = http(network.seller_api, "GET", &path, Some(&seller_token), None).await;
    assert_eq!(status, 200, "{settled}");
    assert_eq!(settled["final"], serde_json::Value::Bool(true));
    assert_eq!(settled["legs"][0]["phase"], "Claimed", "{settled}");
    let stranger = token(
        "seller",
        (trade.seller.unwrap() + 1) % workload::PARTICIPANTS,
    );
    let (status, hidden) = http(network.seller_api, "GET", &path, Some(&stranger), None).await;
    assert_eq!(
        (status, hidden["reason_code"].as_str()),
        (404, Some("SETTLEMENT_UNKNOWN"))
    );
    // Health and metrics, without a token.
    let (status, health) = get_text(network.seller_api, "/healthz").await;
    assert_eq!((status, health.contains("ok")), (200, true), "{health}");
    let (status, metrics) = get_text(network.seller_api, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "isthmus_legs{phase=\"Claimed\"} 4",
        "isthmus_requests_total ",
        "isthmus_connections ",
    ] {
        assert!(metrics.contains(line), "{line} not in {metrics}");
    }
    // Every instruction had its final word: the latency histogram counts each once.
    let value = |prefix: &str| -> u64 {
        metrics
            .lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .map(|rest| rest.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    let instructions = value("isthmus_instructions{");
    assert!(instructions > 0, "{metrics}");
    assert_eq!(
        value("isthmus_instruction_final_seconds_count "),
        instructions,
        "{metrics}"
    );
    assert_eq!(
        value("isthmus_instruction_final_seconds_bucket{le=\"+Inf\"} "),
        instructions,
        "{metrics}"
    );
    network.relay.shutdown(Duration::from_secs(1)).await;
    network.seller.shutdown(Duration::from_secs(1)).await;
    network.buyer.shutdown(Duration::from_secs(1)).await;
}

/// The custodian's escrow account on the cash ledger of the custody test.
const ESCROW: &str = "CUSTAU2S/ESCROW-1";

/// The cash market's ledger cannot lock: its gateway holds the cash leg in
/// the custodian's escrow account (the custody adapter, DESIGN.md §4). Trades
/// settle as over a native ledger, a buyer without cash moves nothing, every
/// account ends where the trades put it, both ledgers are conserved and
/// the escrow account is empty at the end (every lock claimed or refunded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custody_ledger_behind_the_cash_gateway_settles_like_a_native_one() {
    let addrs: BTreeMap<NodeId, SocketAddr> = [RELAY, SELLER_GW, BUYER_GW]
        .into_iter()
        .map(|n| (id(n), free_port()))
        .collect();
    // Short expiries: a cash lock made for the failed trade before its abort
    // reached the cash gateway is refunded within seconds.
    let short = Timing {
        claim_window_ms: 1_000,
        max_clock_skew_ms: 100,
        matching_window_ms: 5_000,
        lock_window_ms: 2_000,
        reveal_margin_ms: 1_100,
        cash_expiry_ms: 3_200,
        securities_expiry_ms: 4_400,
        retransmit_ms: 100,
    };
    let network = start_network(addrs, &BTreeMap::new(), &BTreeMap::new(), short, true).await;
    let seller = network.seller.handle();
    let buyer = network.buyer.handle();
    let before = totals(&seller, &buyer).await;
    let against = trades(TradeKind::AgainstPayment, 2);
    let short = trades(TradeKind::Insufficient, 1);
    let all: Vec<&Trade> = against.iter().chain(&short).collect();
    let mut expected: BTreeMap<(usize, String), i128> = BTreeMap::new();
    for (index, handle) in [(0, &seller), (1, &buyer)] {
        for (account, _) in initial(index) {
            expected.insert(
                (index, account.clone()),
                units(handle, index, &account).await,
            );
        }
    }
    for trade in &all {
        let (status, answer) = http(
            network.seller_api,
            "POST",
            "/v1/instructions",
            Some(&token("seller", trade.seller.unwrap_or(99))),
            Some(&trade.deliver.to_json().to_string()),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        let (status, answer) = http(
            network.buyer_api,
            "POST",
            "/v1/instructions",
            Some(&token("buyer", trade.buyer)),
            Some(&trade.receive.as_ref().unwrap().to_json().to_string()),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
    }
    for trade in &all {
        let notices = final_word(&seller, &trade.deliver.instruction_id).await;
        let receive = &trade.receive.as_ref().unwrap().instruction_id;
        let buyer_notices = final_word(&buyer, receive).await;
        assert_eq!(
            confirmed(&notices),
            trade.kind == TradeKind::AgainstPayment,
            "{notices:?}"
        );
        assert_eq!(confirmed(&buyer_notices), confirmed(&notices));
        if trade.kind == TradeKind::AgainstPayment {
            let cents = i128::from(trade.cents);
            let shares = i128::from(trade.shares) * 1_000_000;
            *expected
                .get_mut(&(0, workload::seller_safe(trade.seller)))
                .unwrap() -= shares;
            *expected
                .get_mut(&(0, workload::buyer_safe(trade.buyer)))
                .unwrap() += shares;
            *expected
                .get_mut(&(1, workload::buyer_cash(trade.buyer)))
                .unwrap() -= cents;
            *expected
                .get_mut(&(1, workload::seller_cash(trade.seller)))
                .unwrap() += cents;
        }
    }
    // The legs end claimed or refunded at the custodian too.
    for _ in 0..1_500 {
        if locked(&buyer, 1, ESCROW).await == 0 && units(&buyer, 1, ESCROW).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        units(&buyer, 1, ESCROW).await,
        0,
        "the escrow account is empty"
    );
    for ((index, account), units_expected) in &expected {
        let handle = if *index == 0 { &seller } else { &buyer };
        assert_eq!(
            units(handle, *index, account).await,
            *units_expected,
            "{account} on ledger {index}"
        );
        assert_eq!(locked(handle, *index, account).await, 0, "{account}");
    }
    assert_eq!(totals(&seller, &buyer).await, before, "conservation");
    network.relay.shutdown(Duration::from_secs(1)).await;
    network.seller.shutdown(Duration::from_secs(1)).await;
    network.buyer.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_see_and_move_only_their_own_accounts() {
    let network = start().await;
    let trade = &trades(TradeKind::AgainstPayment, 1)[0];
    let seller = trade.seller.unwrap();
    let other = (seller + 1) % workload::PARTICIPANTS;
    let body = trade.deliver.to_json().to_string();
    let api = network.seller_api;
    let refused = |answer: &serde_json::Value, status: u16, code: &str| {
        assert_eq!(answer["reason_code"], code, "{answer}");
        assert_eq!(answer["status"], status, "{answer}");
    };
    // No token, an unknown token.
    let (status, answer) = http(api, "POST", "/v1/instructions", None, Some(&body)).await;
    assert_eq!(status, 401);
    refused(&answer, 401, "UNAUTHENTICATED");
    let (status, answer) = http(api, "POST", "/v1/instructions", Some("guess"), Some(&body)).await;
    assert_eq!(status, 401);
    refused(&answer, 401, "UNAUTHENTICATED");
    // Another participant instructing for this seller's accounts.
    let (status, answer) = http(
        api,
        "POST",
        "/v1/instructions",
        Some(&token("seller", other)),
        Some(&body),
    )
    .await;
    assert_eq!(status, 403);
    refused(&answer, 403, "ACCOUNT_FORBIDDEN");
    // The operator's token is not a participant's.
    let (status, answer) = http(
        api,
        "POST",
        "/v1/instructions",
        Some(OPERATOR_TOKEN),
        Some(&body),
    )
    .await;
    assert_eq!(status, 403);
    refused(&answer, 403, "PARTICIPANT_ONLY");
    // Reading another's holdings.
    let holdings = format!(
        "/v1/accounts/{}/holdings",
        workload::seller_safe(Some(seller)).replace('/', "%2F")
    );
    let (status, answer) = http(api, "GET", &holdings, Some(&token("seller", other)), None).await;
    assert_eq!(status, 403);
    refused(&answer, 403, "ACCOUNT_FORBIDDEN");
    // A malformed instruction: its ISM/1 reason code.
    let (status, answer) = http(
        api,
        "POST",
        "/v1/instructions",
        Some(&token("seller", seller)),
        Some("{\"instruction_id\": 5}"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(answer["reason_code"].as_str().is_some(), "{answer}");
    // The owner's instruction goes through; another participant cannot read it.
    let (status, _) = http(
        api,
        "POST",
        "/v1/instructions",
        Some(&token("seller", seller)),
        Some(&body),
    )
    .await;
    assert_eq!(status, 202);
    let path = format!("/v1/instructions/{}", trade.deliver.instruction_id);
    let (status, answer) = http(api, "GET", &path, Some(&token("seller", other)), None).await;
    assert_eq!(status, 404);
    refused(&answer, 404, "INSTRUCTION_UNKNOWN");
    let (status, _) = http(api, "GET", &path, Some(&token("seller", seller)), None).await;
    assert_eq!(status, 200);
    network.relay.shutdown(Duration::from_secs(1)).await;
    network.seller.shutdown(Duration::from_secs(1)).await;
    network.buyer.shutdown(Duration::from_secs(1)).await;
}

/// Issue 11 step 2 and ISM-1 §12.7 over QUIC: the relay reveals p for the
/// cash leg, then can no longer reach the securities gateway and is gone for
/// good; the cash gateway hands p to the securities gateway itself, which
/// claims its leg: both legs claimed without the relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_reaches_the_other_leg_when_the_relay_is_gone_for_good() {
    use std::sync::atomic::Ordering;
    let cut = proxy().await;
    let mut reaches = BTreeMap::new();
    reaches.insert(id(SELLER_GW), cut.front);
    let network = start_with(&reaches).await;
    *cut.target.lock().unwrap() = Some(network.seller.local_addr().unwrap());
    let seller = network.seller.handle();
    let buyer = network.buyer.handle();
    let before = totals(&network.seller.handle(), &network.buyer.handle()).await;
    let trade = &trades(TradeKind::AgainstPayment, 1)[0];
    let seller_cash = workload::seller_cash(trade.seller);
    let buyer_safe = workload::buyer_safe(trade.buyer);
    let cash_before = units(&buyer, 1, &seller_cash).await;
    let safe_before = units(&seller, 0, &buyer_safe).await;
    seller
        .submit(trade.deliver.clone(), id(RELAY))
        .await
        .unwrap();
    buyer
        .submit(trade.receive.clone().unwrap(), id(RELAY))
        .await
        .unwrap();
    // The securities leg locked (its receipt goes to the relay directly):
    // from now on the relay cannot reach the securities gateway. The relay
    // still needs the cash leg's lock and receipt, and the cash claim and its
    // receipt, before it would send the securities gateway its ClaimRequest,
    // so the cut comes first (were it late, the test would pass by the
    // relay's path and prove less; it cannot pass wrongly).
    let seller_safe = workload::seller_safe(trade.seller);
    for _ in 0..10_000 {
        if locked(&seller, 0, &seller_safe).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    cut.open.store(false, Ordering::SeqCst);
    // The cash leg is claimed (the relay revealed p to its gateway) ...
    for _ in 0..1_500 {
        if units(&buyer, 1, &seller_cash).await > cash_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        units(&buyer, 1, &seller_cash).await > cash_before,
        "the cash leg was never claimed"
    );
    // ... and the relay is gone for good.
    network.relay.shutdown(Duration::from_millis(100)).await;
    let shares = i128::from(trade.shares) * 1_000_000;
    for _ in 0..1_500 {
        if units(&seller, 0, &buyer_safe).await == safe_before + shares {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        units(&seller, 0, &buyer_safe).await,
        safe_before + shares,
        "the securities leg was not claimed without the relay"
    );
    assert_eq!(
        totals(&network.seller.handle(), &network.buyer.handle()).await,
        before,
        "conservation on both ledgers"
    );
    network.seller.shutdown(Duration::from_secs(1)).await;
    network.buyer.shutdown(Duration::from_secs(1)).await;
}

/// A gateway that locks and then stops (its LockReceipt never reaches the
/// relay): the relay aborts at the lock deadline, the other leg is refunded
/// after its expiry, and the stopped gateway, once back, refunds its own:
/// both refunded, nothing moved (issue 12).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_stopped_after_locking_leaves_both_legs_refunded() {
    use std::sync::atomic::Ordering;
    // Short deadlines (ISM-1 §12.1 item 2 still holds): L 1 s, T1 2.1 s, T2 3.2 s.
    let short = Timing {
        claim_window_ms: 1_000,
        max_clock_skew_ms: 100,
        matching_window_ms: 5_000,
        lock_window_ms: 1_000,
        reveal_margin_ms: 1_100,
        cash_expiry_ms: 2_100,
        securities_expiry_ms: 3_200,
        retransmit_ms: 100,
    };
    let addrs: BTreeMap<NodeId, SocketAddr> = [RELAY, SELLER_GW, BUYER_GW]
        .into_iter()
        .map(|n| (id(n), free_port()))
        .collect();
    let cut = proxy().await;
    *cut.target.lock().unwrap() = Some(addrs[&id(RELAY)]);
    let mut reaches = BTreeMap::new();
    reaches.insert(id(SELLER_GW), cut.front);
    let mut network = start_full(addrs, &BTreeMap::new(), &reaches, short).await;
    let seller = network.seller.handle();
    let buyer = network.buyer.handle();
    let before = totals(&seller, &buyer).await;
    let trade = &trades(TradeKind::AgainstPayment, 1)[0];
    seller
        .submit(trade.deliver.clone(), id(RELAY))
        .await
        .unwrap();
    // The relay has the seller's instruction (its status came back): from
    // now on nothing the seller's gateway sends reaches the relay.
    for _ in 0..2_000 {
        let status = seller
            .instruction(&trade.deliver.instruction_id)
            .await
            .unwrap()
            .and_then(|v| v.status);
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    cut.open.store(false, Ordering::SeqCst);
    buyer
        .submit(trade.receive.clone().unwrap(), id(RELAY))
        .await
        .unwrap();
    // The seller's gateway locks (the relay's LockRequest reaches it), then stops.
    let seller_safe = workload::seller_safe(trade.seller);
    for _ in 0..2_000 {
        if locked(&seller, 0, &seller_safe).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        locked(&seller, 0, &seller_safe).await > 0,
        "the seller's leg never locked"
    );
    network.seller.shutdown(Duration::from_millis(100)).await;
    // The buyer's instruction ends ABORTED-confirmed and its cash is refunded.
    let buyer_cash = workload::buyer_cash(trade.buyer);
    let received = final_word(&buyer, &trade.receive.as_ref().unwrap().instruction_id).await;
    assert!(
        !confirmed_settled(&received),
        "a settlement with a leg never reported locked settled"
    );
    for _ in 0..1_500 {
        if locked(&buyer, 1, &buyer_cash).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        locked(&buyer, 1, &buyer_cash).await,
        0,
        "the cash leg was not refunded"
    );
    // The seller's gateway comes back and refunds its own leg after its expiry.
    cut.open.store(true, Ordering::SeqCst);
    network.seller = network
        .setup
        .gateway(SELLER_GW, workload::SECURITIES_MARKET, 0);
    let seller = network.seller.handle();
    for _ in 0..1_500 {
        if locked(&seller, 0, &seller_safe).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        locked(&seller, 0, &seller_safe).await,
        0,
        "the securities leg was not refunded"
    );
    // Nothing moved: every account as it was.
    for (index, handle, account) in [
        (0, &seller, workload::seller_safe(trade.seller)),
        (0, &seller, workload::buyer_safe(trade.buyer)),
        (1, &buyer, workload::buyer_cash(trade.buyer)),
        (1, &buyer, workload::seller_cash(trade.seller)),
    ] {
        let held = units(handle, index, &account).await;
        let start = initial(index)
            .into_iter()
            .find(|(a, _)| a == &account)
            .map(|(_, u)| u)
            .unwrap();
        assert_eq!(held, start, "{account} moved");
    }
    assert_eq!(
        totals(&seller, &buyer).await,
        before,
        "conservation on both ledgers"
    );
    network.relay.shutdown(Duration::from_secs(1)).await;
    network.seller.shutdown(Duration::from_secs(1)).await;
    network.buyer.shutdown(Duration::from_secs(1)).await;
}

/// Whether a settlement confirmation among the notices says SETTLED.
fn confirmed_settled(notices: &[Body]) -> bool {
    notices.iter().any(|n| match n {
        Body::SettlementConfirmation(c) => c.to_json().to_string().contains("SETTLED"),
        _ => false,
    })
}

/// Instructions that do not match, and one whose counterparty never
/// instructs, over the API: each participant hears UNMATCHED with the
/// relay's reason code, then the final CANCELLED at the matching cut-off;
/// nothing is locked or moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmatched_and_one_sided_instructions_end_cancelled_and_move_nothing() {
    let network = start_short().await;
    let seller = network.seller.handle();
    let buyer = network.buyer.handle();
    let before = totals(&seller, &buyer).await;
    let unmatched = &trades(TradeKind::Unmatched, 1)[0];
    let one_sided = &trades(TradeKind::OneSided, 1)[0];
    for trade in [unmatched, one_sided] {
        let body = trade.deliver.to_json().to_string();
        let seller_token = token("seller", trade.seller.unwrap_or(99));
        let (status, answer) = http(
            network.seller_api,
            "POST",
            "/v1/instructions",
            Some(&seller_token),
            Some(&body),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        if let Some(receive) = &trade.receive {
            let body = receive.to_json().to_string();
            let (status, answer) = http(
                network.buyer_api,
                "POST",
                "/v1/instructions",
                Some(&token("buyer", trade.buyer)),
                Some(&body),
            )
            .await;
            assert_eq!(status, 202, "{answer}");
        }
    }
    let statuses = |notices: &[Body]| -> Vec<String> {
        notices
            .iter()
            .filter_map(|n| match n {
                Body::InstructionStatus(status) => Some(status.status.as_str().to_string()),
                _ => None,
            })
            .collect()
    };
    for (handle, instruction) in [
        (&seller, &unmatched.deliver.instruction_id),
        (&buyer, &unmatched.receive.as_ref().unwrap().instruction_id),
        (&seller, &one_sided.deliver.instruction_id),
    ] {
        let notices = final_word(handle, instruction).await;
        let seen = statuses(&notices);
        assert_eq!(
            seen.last().map(String::as_str),
            Some("CANCELLED"),
            "{instruction}: {seen:?}"
        );
        assert!(
            !confirmed(&notices),
            "{instruction} was confirmed: {notices:?}"
        );
    }
    // The mismatched pair was told why, with a reason code of its own.
    let notices = final_word(&seller, &unmatched.deliver.instruction_id).await;
    let reasons: Vec<String> = notices
        .iter()
        .filter_map(|n| match n {
            Body::InstructionStatus(status) => {
                status.reason.as_ref().map(|r| r.code.as_str().to_string())
            }
            _ => None,
        })
        .collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("UNMATCHED_")),
        "{reasons:?}"
    );
    assert_eq!(totals(&seller, &buyer).await, before, "nothing moved");
    network.relay.shutdown(Duration::from_secs(1)).await;
    network.seller.shutdown(Duration::from_secs(1)).await;
    network.buyer.shutdown(Duration::from_secs(1)).await;
}

/// Two submissions of one new instruction id at once, with other content:
/// one is taken, the other refused (the engine's thread decides).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_id_submitted_twice_at_once_is_taken_once() {
    let network = start().await;
    let trade = &trades(TradeKind::AgainstPayment, 1)[0];
    let seller_token = token("seller", trade.seller.unwrap());
    let mut changed = trade.deliver.clone();
    changed.trade_date = changed.settlement_date.clone();
    assert_ne!(changed, trade.deliver);
    let (a, b) = (
        trade.deliver.to_json().to_string(),
        changed.to_json().to_string(),
    );
    let api = network.seller_api;
    let (first, second) = tokio::join!(
        http(
            api,
            "POST",
            "/v1/instructions",
            Some(&seller_token),
            Some(&a)
        ),
        http(
            api,
            "POST",
            "/v1/instructions",
            Some(&seller_token),
            Some(&b)
        ),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409], "{first:?} {second:?}");
    network.relay.shutdown(Duration::from_secs(1)).await;
    network.seller.shutdown(Duration::from_secs(1)).await;
    network.buyer.shutdown(Duration::from_secs(1)).await;
}

/// What the played relay hears from the gateway.
#[derive(Default)]
struct Heard {
    seen: std::sync::Mutex<Vec<isthmus_spec::Envelope>>,
}

#[async_trait::async_trait]
impl isthmus_transport::Handler for Heard {
    async fn handle(&self, request: isthmus_transport::Request) -> isthmus_transport::Answer {
        self.seen.lock().unwrap().push(request.checked.message);
        isthmus_transport::Answer::Acknowledge
    }
}

impl Heard {
    fn kinds(&self) -> Vec<isthmus_spec::body::Kind> {
        self.seen.lock().unwrap().iter().map(|m| m.kind()).collect()
    }

    fn error_codes(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| match &m.body {
                Body::Error(error) => Some(error.code.as_str().to_string()),
                _ => None,
            })
            .collect()
    }
}

struct SystemEntropy;

impl isthmus_spec::protocol::Entropy for SystemEntropy {
    fn fill(&mut self, dest: &mut [u8]) {
        use ring::rand::SecureRandom;
        ring::rand::SystemRandom::new().fill(dest).unwrap();
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Runs the relay engine on `input` and returns what it sends (its writes
/// taken as durable at once, its timers ignored).
fn relay_step(relay: &mut isthmus_relay::Relay, input: isthmus_relay::Input) -> Vec<Outbound> {
    relay.handle(now_ms(), input, &mut SystemEntropy);
    let mut sent = Vec::new();
    while let Some(output) = relay.poll() {
        match output {
            isthmus_relay::Output::Persist(write) => relay.handle(
                now_ms(),
                isthmus_relay::Input::Persisted(write.id),
                &mut SystemEntropy,
            ),
            isthmus_relay::Output::Send(outbound) => sent.push(outbound),
            isthmus_relay::Output::SetTimer { .. } => {}
        }
    }
    sent
}

/// The test plays the relay (the real relay engine's messages, signed with
/// the relay's key) against the cash gateway, which locks the buyer's cash.
/// Then: a ClaimRequest whose preimage does not open its hashlock is refused
/// at decoding (`PREIMAGE_MISMATCH`, answered on the stream); one with a
/// preimage of another hashlock is refused by the gateway
/// (`HASHLOCK_MISMATCH`, an Error to the relay); the true secret once the
/// lock has expired claims nothing. The leg is refunded, no ClaimReceipt goes
/// out, and the buyer and the seller end with what they had.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_and_a_claim_after_expiry_are_refused_and_move_nothing() {
    let short = Timing {
        claim_window_ms: 1_000,
        max_clock_skew_ms: 100,
        matching_window_ms: 5_000,
        lock_window_ms: 1_000,
        reveal_margin_ms: 1_100,
        cash_expiry_ms: 2_500,
        securities_expiry_ms: 3_600,
        retransmit_ms: 200,
    };
    let dir = tempfile::tempdir().unwrap();
    let net = NetworkIdentity::generate(
        &Text::parse("played-relay").unwrap(),
        &[
            node_spec(RELAY, Role::Relay, None),
            node_spec(SELLER_GW, Role::Gateway, Some(workload::SECURITIES_MARKET)),
            node_spec(BUYER_GW, Role::Gateway, Some(workload::CASH_MARKET)),
        ],
    )
    .unwrap();
    let addrs: BTreeMap<NodeId, SocketAddr> = [RELAY, SELLER_GW, BUYER_GW]
        .into_iter()
        .map(|n| (id(n), free_port()))
        .collect();
    let mut gateways = BTreeMap::new();
    gateways.insert(
        Mic::parse(workload::SECURITIES_MARKET).unwrap(),
        id(SELLER_GW),
    );
    gateways.insert(Mic::parse(workload::CASH_MARKET).unwrap(), id(BUYER_GW));
    let heard = Arc::new(Heard::default());
    let played =
        isthmus_transport::Endpoint::bind(addrs[&id(RELAY)], context(&net, RELAY), heard.clone())
            .unwrap();
    let relay_key =
        isthmus_spec::sign::SigningKey::from_pem(&net.node(RELAY).unwrap().signing_key.to_pem())
            .unwrap();
    let setup = Setup {
        dir: dir.path().to_path_buf(),
        net,
        addrs: addrs.clone(),
        gateways: gateways.clone(),
        timing: short,
        gateway_reaches_relay: BTreeMap::new(),
        custody: false,
    };
    let node = setup.gateway(BUYER_GW, workload::CASH_MARKET, 1);
    let buyer = node.handle();
    let api = serve_api(&node, Mic::parse(workload::CASH_MARKET).unwrap()).await;
    let trade = &trades(TradeKind::AgainstPayment, 1)[0];
    let buyer_cash = workload::buyer_cash(trade.buyer);
    let seller_cash = workload::seller_cash(trade.seller);
    let before = (
        units(&buyer, 1, &buyer_cash).await,
        units(&buyer, 1, &seller_cash).await,
    );
    let (status, answer) = http(
        api,
        "POST",
        "/v1/instructions",
        Some(&token("buyer", trade.buyer)),
        Some(&trade.receive.as_ref().unwrap().to_json().to_string()),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    until("the buyer's instruction reaches the relay", || {
        heard
            .kinds()
            .contains(&isthmus_spec::body::Kind::SettlementInstruction)
    })
    .await;
    // The relay engine matches it with the seller's instruction.
    let mut relay = isthmus_relay::Relay::new(RelayConfig {
        node: id(RELAY),
        gateways,
        timing: short,
        settlement_prefix: "S".into(),
    });
    let from_buyer = heard.seen.lock().unwrap()[0].clone();
    let mut outbound = relay_step(
        &mut relay,
        isthmus_relay::Input::Message(isthmus_spec::protocol::Inbound {
            sender: from_buyer.sender.clone(),
            id: from_buyer.id.clone(),
            body: from_buyer.body.clone(),
        }),
    );
    outbound.extend(relay_step(
        &mut relay,
        isthmus_relay::Input::Message(isthmus_spec::protocol::Inbound {
            sender: id(SELLER_GW),
            id: isthmus_spec::ids::MessageId::new_v7(now_ms(), [7; 10]),
            body: Body::SettlementInstruction(trade.deliver.clone()),
        }),
    ));
    let as_relay = |to: NodeId, body: Body| {
        isthmus_spec::Envelope::new(
            isthmus_spec::ids::MessageId::new_v7(now_ms(), rand10()),
            id(RELAY),
            to,
            isthmus_spec::time::Timestamp::from_unix_millis(now_ms()).unwrap(),
            body,
        )
        .sign(&relay_key)
    };
    let mut lock_request = None;
    for message in outbound.into_iter().filter(|o| o.to == id(BUYER_GW)) {
        if let Body::LockRequest(request) = &message.body {
            lock_request = Some(request.clone());
        }
        let envelope = isthmus_spec::Envelope::new(
            message.id,
            id(RELAY),
            message.to,
            isthmus_spec::time::Timestamp::from_unix_millis(now_ms()).unwrap(),
            message.body,
        )
        .sign(&relay_key);
        assert_eq!(
            played
                .request(addrs[&id(BUYER_GW)], &envelope)
                .await
                .unwrap(),
            isthmus_transport::Delivered::Acknowledged
        );
    }
    let lock_request = lock_request.expect("the relay asks the cash gateway to lock");
    for _ in 0..500 {
        if locked(&buyer, 1, &buyer_cash).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        locked(&buyer, 1, &buyer_cash).await > 0,
        "the cash is locked"
    );
    // A preimage that does not open the hashlock it comes with: refused at decoding.
    let wrong = isthmus_spec::ids::Preimage::parse(&"ab".repeat(32)).unwrap();
    let not_opening = as_relay(
        id(BUYER_GW),
        Body::ClaimRequest(isthmus_spec::body::ClaimRequest {
            settlement_id: lock_request.settlement_id.clone(),
            hashlock: lock_request.hashlock.clone(),
            preimage: wrong.clone(),
        }),
    );
    match played
        .request(addrs[&id(BUYER_GW)], &not_opening)
        .await
        .unwrap()
    {
        isthmus_transport::Delivered::Answer(checked) => match &checked.message.body {
            Body::Error(error) => assert_eq!(error.code.as_str(), "PREIMAGE_MISMATCH"),
            other => panic!("expected PREIMAGE_MISMATCH, got {:?}", other.kind()),
        },
        other => panic!("a preimage that opens nothing was taken: {other:?}"),
    }
    // A secret of another hashlock: refused by the gateway, in an Error to the relay.
    let other_lock = as_relay(
        id(BUYER_GW),
        Body::ClaimRequest(isthmus_spec::body::ClaimRequest {
            settlement_id: lock_request.settlement_id.clone(),
            hashlock: wrong.hashlock(),
            preimage: wrong,
        }),
    );
    assert_eq!(
        played
            .request(addrs[&id(BUYER_GW)], &other_lock)
            .await
            .unwrap(),
        isthmus_transport::Delivered::Acknowledged
    );
    until("the gateway refuses the other hashlock", || {
        heard.error_codes().iter().any(|c| c == "HASHLOCK_MISMATCH")
    })
    .await;
    assert!(
        locked(&buyer, 1, &buyer_cash).await > 0,
        "still locked, nothing claimed"
    );
    // The true secret, once the lock has expired: nothing is claimed.
    let expires_at = lock_request.expires_at.unix_nanos() / 1_000_000;
    while (now_ms() as i128) <= expires_at {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secret = relay
        .settlements()
        .next()
        .and_then(|s| s.secret.clone())
        .expect("the relay holds p");
    let late = as_relay(
        id(BUYER_GW),
        Body::ClaimRequest(isthmus_spec::body::ClaimRequest {
            settlement_id: lock_request.settlement_id.clone(),
            hashlock: lock_request.hashlock.clone(),
            preimage: secret,
        }),
    );
    let _ = played.request(addrs[&id(BUYER_GW)], &late).await.unwrap();
    until("the watcher refunds the expired lock", || {
        heard
            .kinds()
            .contains(&isthmus_spec::body::Kind::RefundReceipt)
    })
    .await;
    assert!(
        !heard
            .kinds()
            .contains(&isthmus_spec::body::Kind::ClaimReceipt),
        "a claim went through"
    );
    assert_eq!(locked(&buyer, 1, &buyer_cash).await, 0);
    assert_eq!(
        (
            units(&buyer, 1, &buyer_cash).await,
            units(&buyer, 1, &seller_cash).await
        ),
        before,
        "nothing moved"
    );
    node.shutdown(Duration::from_secs(1)).await;
}

fn rand10() -> [u8; 10] {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 10];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    bytes
}

/// The buyer lacks the cash: both instructions agree on an amount larger
/// than everything the buyer holds. The seller's securities are locked, the
/// cash lock is refused by the ledger, the relay aborts, the securities are
/// refunded after their expiry, and every account ends where it began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_without_the_cash_moves_nothing() {
    let network = start_short().await;
    let seller = network.seller.handle();
    let buyer = network.buyer.handle();
    let before = totals(&seller, &buyer).await;
    let mut trade = trades(TradeKind::AgainstPayment, 1).remove(0);
    // More than the buyer's whole cash (AUD_EACH dollars), the same on both sides.
    let too_much = isthmus_spec::decimal::Money::parse(
        &format!("{}.00", workload::AUD_EACH + 1),
        workload::CURRENCY,
    )
    .unwrap();
    trade.deliver.settlement_amount = Some(too_much.clone());
    let mut receive = trade.receive.clone().unwrap();
    receive.settlement_amount = Some(too_much);
    let accounts = [
        (0, workload::seller_safe(trade.seller)),
        (0, workload::buyer_safe(trade.buyer)),
        (1, workload::buyer_cash(trade.buyer)),
        (1, workload::seller_cash(trade.seller)),
    ];
    let mut start = Vec::new();
    for (index, account) in &accounts {
        let handle = if *index == 0 { &seller } else { &buyer };
        start.push(units(handle, *index, account).await);
    }
    for (api, who, body) in [
        (
            network.seller_api,
            token("seller", trade.seller.unwrap()),
            trade.deliver.to_json().to_string(),
        ),
        (
            network.buyer_api,
            token("buyer", trade.buyer),
            receive.to_json().to_string(),
        ),
    ] {
        let (status, answer) = http(api, "POST", "/v1/instructions", Some(&who), Some(&body)).await;
        assert_eq!(status, 202, "{answer}");
    }
    let delivered = final_word(&seller, &trade.deliver.instruction_id).await;
    let received = final_word(&buyer, &receive.instruction_id).await;
    assert!(
        !confirmed(&delivered) && !confirmed(&received),
        "{delivered:?}"
    );
    // The securities lock is refunded once it expires.
    for _ in 0..500 {
        if locked(&seller, 0, &accounts[0].1).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut end = Vec::new();
    for (index, account) in &accounts {
        let handle = if *index == 0 { &seller } else { &buyer };
        assert_eq!(locked(handle, *index, account).await, 0, "{account}");
        end.push(units(handle, *index, account).await);
    }
    assert_eq!(end, start, "every account where it began");
    assert_eq!(totals(&seller, &buyer).await, before, "conservation");
    // The securities leg was locked, and refunded.
    let settlement_id = delivered
        .iter()
        .find_map(|n| match n {
            Body::InstructionStatus(status) => status.settlement_id.clone(),
            _ => None,
        })
        .expect("the instruction was matched into a settlement");
    let path = format!("/v1/settlements/{settlement_id}");
    let seller_token = token("seller", trade.seller.unwrap());
    let (status, view) = http(network.seller_api, "GET", &path, Some(&seller_token), None).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["legs"][0]["phase"], "Refunded", "{view}");
    network.relay.shutdown(Duration::from_secs(1)).await;
    network.seller.shutdown(Duration::from_secs(1)).await;
    network.buyer.shutdown(Duration::from_secs(1)).await;
}
