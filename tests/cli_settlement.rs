#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A relay and two gateways as separate processes on loopback, configured
//! from files, funded through the operator API and instructed through the
//! participant API: trades settle atomically even when a gateway is killed
//! with SIGKILL mid-settlement and restarted, and both ledgers conserve
//! every asset (issue 12).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use isthmus_sim::workload::{self, Trade, TradeKind};
use isthmus_sim::world::{asset_of, initial_holdings};
use isthmus_spec::json::Json;

const OPERATOR: &str = "operator-secret";

fn sha(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    isthmus_spec::ids::hex_lower(digest.as_ref())
}

fn udp() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn tcp() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

const TIMING: &str = "[timing]
claim_window_ms = 10000
max_clock_skew_ms = 500
matching_window_ms = 120000
lock_window_ms = 120000
reveal_margin_ms = 10500
cash_expiry_ms = 240000
securities_expiry_ms = 360000
retransmit_ms = 300
";

fn node_section(id: &str, listen: SocketAddr) -> String {
    format!(
        "[node]\nid = \"{id}\"\nlisten = \"{listen}\"\nstore = \"state/{id}/store\"\nmembership = \"net/membership.json\"\nca = \"net/ca/ca.pem\"\ncertificate = \"net/nodes/{id}/tls.pem\"\ntls_key = \"net/nodes/{id}/tls.key\"\nsigning_key = \"net/nodes/{id}/signing.key\"\n"
    )
}

fn participants(market: usize) -> String {
    let mut text = String::new();
    for k in 0..workload::PARTICIPANTS {
        let (seller, buyer) = if market == 0 {
            (workload::seller_safe(Some(k)), workload::buyer_safe(k))
        } else {
            (workload::seller_cash(Some(k)), workload::buyer_cash(k))
        };
        text.push_str(&format!(
            "[[api.participants]]\nname = \"seller {k}\"\ntoken_sha256 = \"{}\"\naccounts = [\"{}\", \"{}\"]\n",
            sha(&format!("seller-{k}")),
            workload::seller_safe(Some(k)),
            workload::seller_cash(Some(k))
        ));
        text.push_str(&format!(
            "[[api.participants]]\nname = \"buyer {k}\"\ntoken_sha256 = \"{}\"\naccounts = [\"{}\", \"{}\"]\n",
            sha(&format!("buyer-{k}")),
            workload::buyer_safe(k),
            workload::buyer_cash(k)
        ));
        let _ = (seller, buyer);
    }
    text.push_str(&format!(
        "[[api.participants]]\nname = \"the seller who holds nothing\"\ntoken_sha256 = \"{}\"\naccounts = [\"{}\", \"{}\"]\n",
        sha("seller-99"),
        workload::seller_safe(None),
        workload::seller_cash(None)
    ));
    text
}

struct Net {
    dir: tempfile::TempDir,
    relay: SocketAddr,
    gateways: [SocketAddr; 2],
    apis: [SocketAddr; 2],
    /// Where the relay serves /metrics.
    relay_metrics: SocketAddr,
    /// Where the relay reaches each gateway (a proxy, or the gateway itself).
    relay_reaches: [SocketAddr; 2],
}

const IDS: [&str; 2] = ["gw.xnys", "gw.xasx"];

impl Net {
    fn config(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.toml"))
    }

    fn write(&self) {
        let relay = format!(
            "{}[relay]\nsettlement_prefix = \"S\"\n{TIMING}[peers]\n\"gw.xnys\" = \"{}\"\n\"gw.xasx\" = \"{}\"\n[metrics]\nlisten = \"{}\"\n",
            node_section("relay.one", self.relay),
            self.relay_reaches[0],
            self.relay_reaches[1],
            self.relay_metrics
        );
        std::fs::write(self.config("relay.one"), relay).unwrap();
        for (index, id) in IDS.iter().enumerate() {
            let other = 1 - index;
            let gateway = format!(
                "{}[gateway]\nrelays = [\"relay.one\"]\nledger = \"state/{id}/ledger\"\n{TIMING}[peers]\n\"relay.one\" = \"{}\"\n\"{}\" = \"{}\"\n[api]\nlisten = \"{}\"\noperator_token_sha256 = \"{}\"\n{}",
                node_section(id, self.gateways[index]),
                self.relay,
                IDS[other],
                self.gateways[other],
                self.apis[index],
                sha(OPERATOR),
                participants(index)
            );
            std::fs::write(self.config(id), gateway).unwrap();
        }
    }

    fn start(&self, kind: &str, name: &str) -> Child {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        Command::new(env!("CARGO_BIN_EXE_isthmus"))
            .args([kind, "--config", self.config(name).to_str().unwrap()])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }
}

/// One HTTP/1.1 request; the status and the body, or `None` if nothing answers.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> Option<(u16, serde_json::Value)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8(response).ok()?;
    let status: u16 = text.get(9..12)?.parse().ok()?;
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or_default();
    Some((status, json))
}

/// Repeats a request until the node answers (it may be starting).
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    for _ in 0..600 {
        if let Some(answer) = http(addr, method, path, token, body).await {
            if answer.0 != 503 {
                return answer;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{method} {path} at {addr}: no answer");
}

fn trades() -> Vec<Trade> {
    let mut chosen = Vec::new();
    for (kind, count) in [
        (TradeKind::AgainstPayment, 3),
        (TradeKind::FreeOfPayment, 1),
    ] {
        chosen.extend(
            (0..100_000u64)
                .filter_map(|run| {
                    let mut rng = isthmus_sim::rng::SimRng::new(run);
                    workload::trades(run, 1, 1, &mut rng)
                        .pop()
                        .filter(|t| t.kind == kind)
                })
                .take(count),
        );
    }
    chosen
}

async fn units(api: SocketAddr, token: &str, index: usize, account: &str) -> i128 {
    let path = format!("/v1/accounts/{}/holdings", account.replace('/', "%2F"));
    let (status, rows) = call(api, "GET", &path, token, "").await;
    assert_eq!(status, 200, "{path}: {rows}");
    let asset = asset_of(index).to_string();
    rows["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["asset"] == asset.as_str())
        .map(|r| {
            let units = |name: &str| r[name].as_str().unwrap().parse::<i128>().unwrap();
            units("available_units") + units("locked_units")
        })
        .sum()
}

fn token_of(account: &str) -> String {
    for k in 0..workload::PARTICIPANTS {
        if [
            workload::seller_safe(Some(k)),
            workload::seller_cash(Some(k)),
        ]
        .contains(&account.to_string())
        {
            return format!("seller-{k}");
        }
        if [workload::buyer_safe(k), workload::buyer_cash(k)].contains(&account.to_string()) {
            return format!("buyer-{k}");
        }
    }
    if [workload::seller_safe(None), workload::seller_cash(None)].contains(&account.to_string()) {
        return "seller-99".to_string();
    }
    panic!("no participant owns {account}")
}

fn kill(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn terminate(child: &mut Child) -> Option<i32> {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap().code()
}

/// A network of three processes with its keys and configuration files;
/// `relay_reaches` overrides where the relay sends to each gateway.
fn network(relay_reaches: [Option<SocketAddr>; 2]) -> Net {
    let dir = tempfile::tempdir().unwrap();
    let keys = Command::new(env!("CARGO_BIN_EXE_isthmus"))
        .args([
            "keys",
            "init",
            "--network",
            dir.path().join("net").to_str().unwrap(),
            "--gateway",
            "gw.xnys=XNYS",
            "--gateway",
            "gw.xasx=XASX",
        ])
        .output()
        .unwrap();
    assert!(
        keys.status.success(),
        "{}",
        String::from_utf8_lossy(&keys.stderr)
    );
    let gateways = [udp(), udp()];
    let net = Net {
        dir,
        relay: udp(),
        gateways,
        apis: [tcp(), tcp()],
        relay_metrics: tcp(),
        relay_reaches: [
            relay_reaches[0].unwrap_or(gateways[0]),
            relay_reaches[1].unwrap_or(gateways[1]),
        ],
    };
    net.write();
    net
}

type Holdings = BTreeMap<(usize, String), i128>;

/// Opens and funds every account through the operator API; the holdings.
async fn fund(net: &Net) -> Holdings {
    for (n, (index, account, units_wanted)) in initial_holdings().into_iter().enumerate() {
        let api = net.apis[index];
        let body = format!("{{\"key\": \"open-{n}\", \"account\": \"{account}\"}}");
        let (status, answer) = call(api, "POST", "/v1/operator/accounts", OPERATOR, &body).await;
        assert_eq!(status, 200, "{answer}");
        if units_wanted > 0 {
            let asset = if index == 0 {
                workload::ISIN
            } else {
                workload::CURRENCY
            };
            let amount = asset_of(index).format_units(units_wanted as u64);
            let body = format!("{{\"key\": \"issue-{n}\", \"account\": \"{account}\", \"asset\": \"{asset}\", \"amount\": \"{amount}\"}}");
            let (status, answer) = call(api, "POST", "/v1/operator/issue", OPERATOR, &body).await;
            assert_eq!(status, 200, "{answer}");
        }
    }
    let mut before = Holdings::new();
    for (index, account, _) in initial_holdings() {
        let held = units(net.apis[index], &token_of(&account), index, &account).await;
        before.insert((index, account), held);
    }
    before
}

/// Each participant instructs through its gateway's API.
async fn instruct(net: &Net, trades: &[Trade]) {
    for trade in trades {
        let seller = format!("seller-{}", trade.seller.unwrap());
        let (status, answer) = call(
            net.apis[0],
            "POST",
            "/v1/instructions",
            &seller,
            &trade.deliver.to_json().to_string(),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        let buyer = format!("buyer-{}", trade.buyer);
        let receive = trade.receive.as_ref().unwrap().to_json().to_string();
        let (status, answer) =
            call(net.apis[1], "POST", "/v1/instructions", &buyer, &receive).await;
        assert_eq!(status, 202, "{answer}");
    }
}

/// Every trade confirmed on both sides, each account where the trades put
/// it, and each ledger's total unchanged.
async fn settled(net: &Net, trades: &[Trade], before: &Holdings) {
    let mut expected = before.clone();
    for trade in trades {
        for (index, id, token) in [
            (
                0,
                &trade.deliver.instruction_id,
                format!("seller-{}", trade.seller.unwrap()),
            ),
            (
                1,
                &trade.receive.as_ref().unwrap().instruction_id,
                format!("buyer-{}", trade.buyer),
            ),
        ] {
            let path = format!("/v1/instructions/{id}");
            let mut confirmed = false;
            for _ in 0..1_200 {
                let (status, view) = call(net.apis[index], "GET", &path, &token, "").await;
                assert_eq!(status, 200, "{path}: {view}");
                if view["final"] == serde_json::Value::Bool(true) {
                    confirmed = view["notices"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|n| n["kind"] == "SettlementConfirmation");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(confirmed, "{path} was not confirmed");
        }
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
    let mut totals = [[0i128; 2]; 2];
    for ((index, account), wanted) in &expected {
        let held = units(net.apis[*index], &token_of(account), *index, account).await;
        assert_eq!(held, *wanted, "{account} on ledger {index}");
        totals[*index][0] += before[&(*index, account.clone())];
        totals[*index][1] += held;
    }
    for (index, [start, end]) in totals.iter().enumerate() {
        assert_eq!(start, end, "conservation on ledger {index}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn processes_settle_atomically_through_each_gateway_killed_mid_settlement() {
    let net = network([None, None]);
    let mut relay = net.start("relay", "relay.one");
    let mut gateways = [net.start("gateway", IDS[0]), net.start("gateway", IDS[1])];
    runtime().block_on(async {
        let before = fund(&net).await;
        // A participant's token does not open operator endpoints.
        let (status, answer) = call(
            net.apis[0],
            "POST",
            "/v1/operator/accounts",
            "seller-0",
            "{\"key\": \"x\", \"account\": \"SELAUS33/NEW\"}",
        )
        .await;
        assert_eq!(
            (status, answer["reason_code"].as_str()),
            (403, Some("OPERATOR_ONLY"))
        );
        let trades = trades();
        instruct(&net, &trades).await;
        // Mid-settlement: the cash gateway dies without warning and comes
        // back, then the securities gateway.
        kill(&mut gateways[1]);
        gateways[1] = net.start("gateway", IDS[1]);
        kill(&mut gateways[0]);
        gateways[0] = net.start("gateway", IDS[0]);
        settled(&net, &trades, &before).await;
    });
    for child in gateways.iter_mut().chain(std::iter::once(&mut relay)) {
        assert_eq!(terminate(child), Some(0), "a node exits 0 on SIGTERM");
    }
    // Every node's log line about a settlement's messages names the
    // settlement: in its span (`settlement{id=…}`) or as a field.
    for name in ["relay.one", IDS[0], IDS[1]] {
        let log = std::fs::read_to_string(net.dir.path().join(format!("{name}.log"))).unwrap();
        let about: Vec<&str> = log
            .lines()
            .filter(|line| {
                [
                    "LockRequest",
                    "LockReceipt",
                    "ClaimRequest",
                    "ClaimReceipt",
                    "SettlementProposal",
                ]
                .iter()
                .any(|kind| line.contains(&format!("kind={kind}")))
            })
            .collect();
        assert!(
            !about.is_empty(),
            "{name} logged no settlement message:\n{log}"
        );
        for line in about {
            assert!(
                line.contains("settlement{id=") || line.contains(" settlement="),
                "{name}: a line without its settlement: {line}"
            );
        }
        assert!(
            log.contains(" ledger done") || name == "relay.one",
            "{name}:\n{log}"
        );
    }
}

/// A UDP relay the test can cut: datagrams to `front` reach `target` and
/// back while `open`.
struct Proxy {
    front: SocketAddr,
    target: Arc<Mutex<Option<SocketAddr>>>,
    open: Arc<AtomicBool>,
}

fn proxy() -> Proxy {
    let front = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let back = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let target: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let client: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let open = Arc::new(AtomicBool::new(true));
    let (f, b, t, c, o) = (
        front.clone(),
        back.clone(),
        target.clone(),
        client.clone(),
        open.clone(),
    );
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 65_536];
        while let Ok((read, from)) = f.recv_from(&mut buffer) {
            *c.lock().unwrap() = Some(from);
            let to = *t.lock().unwrap();
            if let (true, Some(to)) = (o.load(Ordering::SeqCst), to) {
                let _ = b.send_to(&buffer[..read], to);
            }
        }
    });
    let (f, c, o) = (front.clone(), client, open.clone());
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 65_536];
        while let Ok((read, _)) = back.recv_from(&mut buffer) {
            let to = *c.lock().unwrap();
            if let (true, Some(to)) = (o.load(Ordering::SeqCst), to) {
                let _ = f.send_to(&buffer[..read], to);
            }
        }
    });
    Proxy {
        front: front.local_addr().unwrap(),
        target,
        open,
    }
}

/// The relay's count of settlements in `phase`, from its /metrics.
async fn relay_phase(net: &Net, phase: &str) -> u64 {
    relay_metric(net, &format!("isthmus_settlements{{phase=\"{phase}\"}} ")).await
}

/// The value of the relay's /metrics line that starts with `prefix` (0 if none).
async fn relay_metric(net: &Net, prefix: &str) -> u64 {
    let Some((status, _)) = http(net.relay_metrics, "GET", "/healthz", "", "").await else {
        return 0;
    };
    if status != 200 {
        return 0;
    }
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(net.relay_metrics).await else {
        return 0;
    };
    let _ = stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
        .await;
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text).await;
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// The relay killed with SIGKILL once it has recorded REVEALING and before
/// any claim went out (its way to the cash gateway, which is claimed first,
/// is cut), then restarted: it resumes revealing and every trade settles.
#[test]
fn a_relay_killed_after_recording_revealing_completes_after_restart() {
    let cut = proxy();
    // The relay's way to the securities gateway is held shut until the cash
    // leg is locked and its way to the cash gateway is cut: so the relay
    // reveals only once the cash gateway can no longer hear it.
    let hold = proxy();
    hold.open.store(false, Ordering::SeqCst);
    let net = network([Some(hold.front), Some(cut.front)]);
    *cut.target.lock().unwrap() = Some(net.gateways[1]);
    *hold.target.lock().unwrap() = Some(net.gateways[0]);
    let mut relay = net.start("relay", "relay.one");
    let mut gateways = [net.start("gateway", IDS[0]), net.start("gateway", IDS[1])];
    runtime().block_on(async {
        let before = fund(&net).await;
        let trades: Vec<Trade> = trades()
            .into_iter()
            .filter(|t| t.kind == TradeKind::AgainstPayment)
            .take(1)
            .collect();
        instruct(&net, &trades).await;
        // The cash gateway's LockRequest must have gone through before the
        // cut: wait for the cash lock, cut, let the securities leg lock,
        // then wait for the relay to reveal.
        let buyer_cash = workload::buyer_cash(trades[0].buyer);
        let token = format!("buyer-{}", trades[0].buyer);
        let path = format!("/v1/accounts/{}/holdings", buyer_cash.replace('/', "%2F"));
        for _ in 0..2_000 {
            let (_, rows) = call(net.apis[1], "GET", &path, &token, "").await;
            let locked = rows["holdings"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["locked_units"] != "0");
            if locked {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        cut.open.store(false, Ordering::SeqCst);
        hold.open.store(true, Ordering::SeqCst);
        let mut revealing = false;
        for _ in 0..4_000 {
            if relay_phase(&net, "REVEALING").await == 1 {
                revealing = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(revealing, "the relay never recorded REVEALING");
        // No leg is claimed yet: the kill comes between REVEALING and any claim.
        let trade = &trades[0];
        let buyer_safe = workload::buyer_safe(trade.buyer);
        let seller_cash = workload::seller_cash(trade.seller);
        assert_eq!(
            units(net.apis[0], &token, 0, &buyer_safe).await,
            before[&(0, buyer_safe.clone())]
        );
        let seller_token = format!("seller-{}", trade.seller.unwrap());
        assert_eq!(
            units(net.apis[1], &seller_token, 1, &seller_cash).await,
            before[&(1, seller_cash.clone())]
        );
        kill(&mut relay);
        cut.open.store(true, Ordering::SeqCst);
        relay = net.start("relay", "relay.one");
        settled(&net, &trades, &before).await;
        // The settled settlement is in the restarted relay's latency histogram
        // (rebuilt from its records): once in the count, once under +Inf.
        let settled_now = relay_phase(&net, "SETTLED").await;
        assert!(settled_now >= 1);
        assert_eq!(
            relay_metric(&net, "isthmus_settlement_seconds_count ").await,
            settled_now
        );
        assert_eq!(
            relay_metric(&net, "isthmus_settlement_seconds_bucket{le=\"+Inf\"} ").await,
            settled_now
        );
    });
    for child in gateways.iter_mut().chain(std::iter::once(&mut relay)) {
        assert_eq!(terminate(child), Some(0), "a node exits 0 on SIGTERM");
    }
}
