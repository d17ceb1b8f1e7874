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
use isthmus_spec::{Body, Envelope, ReasonCode};
use isthmus_transport::probe::{error_in, framed, Probe, ProbeError};
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
        tls: tls_identity(net, id),
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

/// The relay's configuration in `dir`, its gateways at `seller` and `buyer`.
fn relay_config(dir: &Path, seller: &Endpoint, buyer: &Endpoint) -> std::path::PathBuf {
    let config = dir.join("relay.toml");
    std::fs::write(
        &config,
        CONFIG
            .replace("ADDR_XNYS", &seller.local_addr().unwrap().to_string())
            .replace("ADDR_XASX", &buyer.local_addr().unwrap().to_string()),
    )
    .unwrap();
    config
}

/// The simulator's first trade against payment.
fn a_trade() -> isthmus_sim::workload::Trade {
    (0..10_000u64)
        .find_map(|run| {
            let mut rng = isthmus_sim::rng::SimRng::new(run);
            isthmus_sim::workload::trades(run, 1, 1, &mut rng)
                .pop()
                .filter(|t| t.kind == isthmus_sim::workload::TradeKind::AgainstPayment)
        })
        .unwrap()
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
        let config = relay_config(dir.path(), &seller, &buyer);
        let check = isthmus()
            .args(["relay", "--config", config.to_str().unwrap(), "--check"])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );

        let trade = a_trade();
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

/// A TLS identity of node `id` of the network in `net`.
fn tls_identity(net: &Path, id: &str) -> TlsIdentity {
    let node = net.join("nodes").join(id);
    TlsIdentity::from_pem(
        &std::fs::read(net.join("ca/ca.pem")).unwrap(),
        &std::fs::read(node.join("tls.pem")).unwrap(),
        &std::fs::read(node.join("tls.key")).unwrap(),
    )
    .unwrap()
}

/// Hostile and broken peers against the relay process, each refused with
/// its reason code or QUIC code, none of them reaching the engine (no
/// proposal ever goes out), and the relay serving a member after every one:
/// an oversize and a truncated frame, a replayed message id, a certificate
/// of another CA, a certificate of our CA whose node is not in the
/// membership, a client without ALPN `ism/1`, and a flood of connections.
#[test]
fn hostile_peers_are_refused_and_the_relay_process_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let other = dir.path().join("other");
    for (path, name) in [(&net, "ours"), (&other, "elsewhere")] {
        let out = isthmus()
            .args([
                "keys",
                "init",
                "--network",
                path.to_str().unwrap(),
                "--name",
                name,
            ])
            .args(["--gateway", "gw.xnys=XNYS", "--gateway", "gw.xasx=XASX"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The observer leaves the network: its certificate (from our CA) no
    // longer matches a member.
    let membership_path = net.join("membership.json");
    let mut membership: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&membership_path).unwrap()).unwrap();
    membership["members"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["node_id"] != "obs.regulator");
    std::fs::write(&membership_path, membership.to_string()).unwrap();
    let members = Membership::parse(&std::fs::read(&membership_path).unwrap()).unwrap();
    let relay_id = NodeId::parse("relay.one").unwrap();
    let pin = members
        .member(&relay_id)
        .unwrap()
        .certificate_sha256
        .clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let seller_seen = Arc::new(Recorder::default());
        let seller = gateway(&net, "gw.xnys", seller_seen.clone());
        let buyer = gateway(&net, "gw.xasx", Arc::new(Recorder::default()));
        let config = relay_config(dir.path(), &seller, &buyer);
        let (mut relay, addr) = start_relay(&config);
        let trade = a_trade();
        // The relay serves a member: an instruction is acknowledged.
        let instruction = trade.deliver.clone();
        let serves = |n: usize| {
            let mut instruction = instruction.clone();
            instruction.instruction_id =
                isthmus_spec::ids::Reference::parse(&format!("PROBE-{n}")).unwrap();
            let message = signed(&net, "gw.xnys", Body::SettlementInstruction(instruction));
            let seller = &seller;
            async move {
                for _ in 0..50 {
                    if let Ok(Delivered::Acknowledged) = seller.request(addr, &message).await {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                panic!("the relay stopped serving its members");
            }
        };
        serves(0).await;
        let probe = Probe::new(&tls_identity(&net, "gw.xnys"), &pin, None).unwrap();
        let seller_id = NodeId::parse("gw.xnys").unwrap();
        let wait = Duration::from_secs(20);
        let refused = |answer: Vec<u8>| {
            error_in(&answer, &relay_id, &seller_id, &members)
                .unwrap()
                .0
        };
        // Framing: 1 MiB + 1 announced; a frame cut short.
        let oversize = ((1024 * 1024 + 1) as u32).to_be_bytes();
        let answer = probe
            .raw_request(addr, &relay_id, &oversize, wait)
            .await
            .unwrap();
        assert_eq!(refused(answer), ReasonCode::FrameTooLarge);
        serves(1).await;
        let good = framed(&signed(
            &net,
            "gw.xnys",
            Body::SettlementInstruction(instruction.clone()),
        ))
        .unwrap();
        let answer = probe
            .raw_request(addr, &relay_id, &good[..good.len() - 3], wait)
            .await
            .unwrap();
        assert_eq!(refused(answer), ReasonCode::FrameTruncated);
        serves(2).await;
        // A message id used again with other content: MESSAGE_REPLAYED; the
        // same bytes again: the same answer (an acknowledgement).
        let first = signed(
            &net,
            "gw.xnys",
            Body::SettlementInstruction(instruction.clone()),
        );
        assert_eq!(
            seller.request(addr, &first).await.unwrap(),
            Delivered::Acknowledged
        );
        assert_eq!(
            seller.request(addr, &first).await.unwrap(),
            Delivered::Acknowledged
        );
        let mut changed = instruction.clone();
        changed.trade_date = changed.settlement_date.clone();
        assert_ne!(changed, instruction);
        let mut replay = first.clone();
        replay.body = Body::SettlementInstruction(changed);
        replay.signature = None;
        let replay = replay.sign(
            &isthmus_spec::sign::SigningKey::from_pem(
                &std::fs::read_to_string(net.join("nodes/gw.xnys/signing.key")).unwrap(),
            )
            .unwrap(),
        );
        match seller.request(addr, &replay).await.unwrap() {
            Delivered::Answer(checked) => match &checked.message.body {
                Body::Error(error) => assert_eq!(error.code.as_str(), "MESSAGE_REPLAYED"),
                other => panic!("expected MESSAGE_REPLAYED, got {:?}", other.kind()),
            },
            Delivered::Acknowledged => panic!("a replay was taken"),
        }
        // gw.xnys's certificate from another CA: the handshake fails.
        let foreign = Probe::new(&tls_identity(&other, "gw.xnys"), &pin, None).unwrap();
        assert!(
            foreign
                .raw_request(addr, &relay_id, &good, wait)
                .await
                .is_err(),
            "a certificate of another CA got through"
        );
        serves(3).await;
        // A certificate of our CA whose node is no member: closed unread.
        let stranger = Probe::new(&tls_identity(&net, "obs.regulator"), &pin, None).unwrap();
        match stranger.connect(addr, &relay_id).await {
            Ok(connection) => match connection.closed().await {
                isthmus_transport::quinn::ConnectionError::ApplicationClosed(close) => assert_eq!(
                    close.error_code,
                    isthmus_transport::AppCode::PeerUnknown.var_int()
                ),
                other => panic!("expected ISM_PEER_UNKNOWN, got {other:?}"),
            },
            Err(error) => panic!("expected the connection to open then close: {error}"),
        }
        serves(4).await;
        // No ALPN, or another: the handshake fails with no_application_protocol.
        for offered in [vec![], vec![b"h3".to_vec()]] {
            let wrong = Probe::new(&tls_identity(&net, "gw.xnys"), &pin, Some(offered)).unwrap();
            match wrong.connect(addr, &relay_id).await {
                Err(ProbeError::Closed(
                    isthmus_transport::quinn::ConnectionError::ConnectionClosed(close),
                )) => {
                    // no_application_protocol (120) as CRYPTO_ERROR 0x0100 + 120 (RFC 9001 §8.1).
                    assert_eq!(u64::from(close.error_code), 0x0178, "{close:?}")
                }
                other => panic!("expected the handshake to fail: {:?}", other.map(|_| ())),
            }
        }
        serves(5).await;
        // A flood of connections from one member: those over its limit are
        // closed with ISM_EXCESSIVE_LOAD; the others, and other members, are served.
        let flood = Probe::new(&tls_identity(&net, "gw.xasx"), &pin, None).unwrap();
        let mut kept = Vec::new();
        for _ in 0..12 {
            kept.push(flood.connect(addr, &relay_id).await.unwrap());
        }
        let limit = Limits::default().connections_per_peer;
        let mut closing = tokio::task::JoinSet::new();
        for connection in kept.clone() {
            closing.spawn(async move { connection.closed().await });
        }
        let mut closed = 0;
        for _ in 0..12 - limit {
            // The bound guards against a hang only.
            let reason = tokio::time::timeout(Duration::from_secs(30), closing.join_next())
                .await
                .expect("the relay closes the connections over its limit")
                .unwrap()
                .unwrap();
            match reason {
                isthmus_transport::quinn::ConnectionError::ApplicationClosed(close) => {
                    assert_eq!(
                        close.error_code,
                        isthmus_transport::AppCode::ExcessiveLoad.var_int()
                    );
                    closed += 1;
                }
                other => panic!("closed for another reason: {other:?}"),
            }
        }
        let open = kept.iter().filter(|c| c.close_reason().is_none()).count();
        assert_eq!(open, limit, "the connections within the limit stay open");
        assert_eq!(closed, 12 - limit, "connections over the limit closed");
        serves(6).await;
        // Nothing hostile reached the engine: no instruction matched, so no
        // proposal went out.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!seller_seen.has(Kind::SettlementProposal));
        let status = Command::new("kill")
            .args(["-TERM", &relay.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(relay.wait().unwrap().code(), Some(0));
    });
}
