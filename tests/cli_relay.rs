#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `isthmus relay` as a process: it serves over QUIC, an instruction it
//! acknowledged survives SIGKILL (the restarted relay still matches it), and
//! SIGTERM drains and exits 0.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use isthmus_spec::body::Kind;
use isthmus_spec::ids::{MessageId, NodeId};
use isthmus_spec::membership::Membership;
use isthmus_spec::time::Timestamp;
use isthmus_spec::{Body, Envelope};
use isthmus_transport::{
    Answer, Delivered, Endpoint, Handler, Limits, NodeContext, Request, TlsIdentity,
};

const CONFIG: &str = r#"
[node]
id = "relay.one"
listen = "127.0.0.1:0"
store = "state/relay"
membership = "net/membership.json"
ca = "net/ca/ca.pem"
certificate = "net/nodes/relay.one/tls.pem"
tls_key = "net/nodes/relay.one/tls.key"
signing_key = "net/nodes/relay.one/signing.key"

[relay]
settlement_prefix = "P"

[timing]
claim_window_ms = 10000
max_clock_skew_ms = 500
matching_window_ms = 120000
lock_window_ms = 120000
reveal_margin_ms = 10500
cash_expiry_ms = 200000
securities_expiry_ms = 300000
retransmit_ms = 300

[peers]
"gw.xnys" = "ADDR_XNYS"
"gw.xasx" = "ADDR_XASX"
"#;

fn isthmus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_isthmus"))
}

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Envelope>>,
}

#[async_trait::async_trait]
impl Handler for Recorder {
    async fn handle(&self, request: Request) -> Answer {
        self.seen.lock().unwrap().push(request.checked.message);
        Answer::Acknowledge
    }
}

impl Recorder {
    fn has(&self, kind: Kind) -> bool {
        self.seen.lock().unwrap().iter().any(|m| m.kind() == kind)
    }
}

fn gateway(net: &Path, id: &str, recorder: Arc<Recorder>) -> Endpoint {
    let node = net.join("nodes").join(id);
    let membership =
        Membership::parse(&std::fs::read(net.join("membership.json")).unwrap()).unwrap();
    let context = NodeContext {
        own: NodeId::parse(id).unwrap(),
        membership,
        tls: TlsIdentity::from_pem(
            &std::fs::read(net.join("ca/ca.pem")).unwrap(),
            &std::fs::read(node.join("tls.pem")).unwrap(),
            &std::fs::read(node.join("tls.key")).unwrap(),
        )
        .unwrap(),
        signing_key: isthmus_spec::sign::SigningKey::from_pem(
            &std::fs::read_to_string(node.join("signing.key")).unwrap(),
        )
        .unwrap(),
        limits: Limits::default(),
    };
    Endpoint::bind("127.0.0.1:0".parse().unwrap(), context, recorder).unwrap()
}

/// Starts the relay and reads the address it serves on from its log.
fn start_relay(config: &Path) -> (Child, SocketAddr) {
    let mut child = isthmus()
        .args(["relay", "--config", config.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent {
                if let Some(at) = line.find("addr=") {
                    let addr: String = line[at + 5..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    if let Ok(addr) = addr.parse::<SocketAddr>() {
                        let _ = found.send(addr);
                        sent = true;
                    }
                }
            }
        }
    });
    let addr = address
        .recv_timeout(Duration::from_secs(60))
        .expect("the relay logs the address it serves on");
    (child, addr)
}

fn signed(net: &Path, from: &str, body: Body) -> Envelope {
    use ring::rand::SecureRandom;
    let mut random = [0u8; 10];
    ring::rand::SystemRandom::new().fill(&mut random).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let key = isthmus_spec::sign::SigningKey::from_pem(
        &std::fs::read_to_string(net.join("nodes").join(from).join("signing.key")).unwrap(),
    )
    .unwrap();
    Envelope::new(
        MessageId::new_v7(now, random),
        NodeId::parse(from).unwrap(),
        NodeId::parse("relay.one").unwrap(),
        Timestamp::from_unix_millis(now).unwrap(),
        body,
    )
    .sign(&key)
}

async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..1_500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("gave up waiting: {what}");
}

#[test]
fn an_acknowledged_instruction_survives_sigkill_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let out = isthmus()
        .args([
            "keys",
            "init",
            "--network",
            net.to_str().unwrap(),
            "--gateway",
            "gw.xnys=XNYS",
            "--gateway",
            "gw.xasx=XASX",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let seller_seen = Arc::new(Recorder::default());
        let buyer_seen = Arc::new(Recorder::default());
        let seller = gateway(&net, "gw.xnys", seller_seen.clone());
        let buyer = gateway(&net, "gw.xasx", buyer_seen.clone());
        let config = dir.path().join("relay.toml");
        std::fs::write(
            &config,
            CONFIG
                .replace("ADDR_XNYS", &seller.local_addr().unwrap().to_string())
                .replace("ADDR_XASX", &buyer.local_addr().unwrap().to_string()),
        )
        .unwrap();
        let check = isthmus()
            .args(["relay", "--config", config.to_str().unwrap(), "--check"])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );

        let trade = (0..10_000u64)
            .find_map(|run| {
                let mut rng = isthmus_sim::rng::SimRng::new(run);
                isthmus_sim::workload::trades(run, 1, 1, &mut rng)
                    .pop()
                    .filter(|t| t.kind == isthmus_sim::workload::TradeKind::AgainstPayment)
            })
            .unwrap();
        let (mut relay, addr) = start_relay(&config);
        let deliver = signed(
            &net,
            "gw.xnys",
            Body::SettlementInstruction(trade.deliver.clone()),
        );
        let mut acknowledged = false;
        for _ in 0..50 {
            // The relay may still be binding: repeat until acknowledged.
            if let Ok(Delivered::Acknowledged) = seller.request(addr, &deliver).await {
                acknowledged = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(acknowledged, "the relay never acknowledged the instruction");
        // Hostile input to the process: a message signed with another
        // member's key, and one altered after signing, are refused with their
        // codes, and the relay goes on serving.
        let forged = {
            let mut m = signed(
                &net,
                "gw.xnys",
                Body::SettlementInstruction(trade.deliver.clone()),
            );
            m.signature = None;
            let other = isthmus_spec::sign::SigningKey::from_pem(
                &std::fs::read_to_string(net.join("nodes/gw.xasx/signing.key")).unwrap(),
            )
            .unwrap();
            m.sign(&other)
        };
        let mut altered = signed(
            &net,
            "gw.xnys",
            Body::SettlementInstruction(trade.deliver.clone()),
        );
        altered.created_at = Timestamp::from_unix_millis(1_800_000_000_000).unwrap();
        for (message, code) in [(forged, "KEY_UNKNOWN"), (altered, "SIGNATURE_INVALID")] {
            match seller.request(addr, &message).await.unwrap() {
                Delivered::Answer(checked) => match &checked.message.body {
                    Body::Error(error) => assert_eq!(error.code.as_str(), code),
                    other => panic!("expected {code}, got {:?}", other.kind()),
                },
                Delivered::Acknowledged => {
                    panic!("a message that should be refused with {code} was taken")
                }
            }
        }
        // Acknowledged means durable: SIGKILL now, restart, and the relay
        // still has the instruction to match.
        relay.kill().unwrap();
        relay.wait().unwrap();
        let (mut relay, addr) = start_relay(&config);
        let receive = signed(
            &net,
            "gw.xasx",
            Body::SettlementInstruction(trade.receive.clone().unwrap()),
        );
        let mut delivered = false;
        for _ in 0..50 {
            if let Ok(Delivered::Acknowledged) = buyer.request(addr, &receive).await {
                delivered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(delivered);
        until("proposals to both gateways after the restart", || {
            seller_seen.has(Kind::SettlementProposal) && buyer_seen.has(Kind::SettlementProposal)
        })
        .await;
        // SIGTERM: drain and exit 0.
        let status = Command::new("kill")
            .args(["-TERM", &relay.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = relay.wait().unwrap();
        assert_eq!(exit.code(), Some(0), "the relay exits 0 on SIGTERM");
    });
}
