#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The relay node over real QUIC on loopback, with its sled store: it
//! acknowledges instructions only once they are durable, answers with
//! status, matches and proposes to both gateways, tells a repeated message
//! from a replay (ISM-1 §8.4 rule 6), and a restarted node resumes from its
//! store alone (ISM-1 §12.10 item 1).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use isthmus_node::{KvNodeStore, RelayNode};
use isthmus_relay::{Record, RelayConfig};
use isthmus_spec::body::Kind;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{MessageId, NodeId, Text};
use isthmus_spec::membership::Role;
use isthmus_spec::time::Timestamp;
use isthmus_spec::{Body, Envelope, ReasonCode};
use isthmus_store::{SledStore, SystemClock};
use isthmus_transport::{Answer, Delivered, Endpoint, Handler, NetworkIdentity, Request};

mod support;

use support::{context, get_text, node_spec as spec, trades, until, RELAY};

fn network() -> NetworkIdentity {
    NetworkIdentity::generate(
        &Text::parse("relay-node-test").unwrap(),
        &[
            spec(RELAY, Role::Relay, None),
            spec("gw.xnys", Role::Gateway, Some("XNYS")),
            spec("gw.xasx", Role::Gateway, Some("XASX")),
        ],
    )
    .unwrap()
}

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Envelope>>,
}

impl Recorder {
    fn kinds(&self) -> Vec<Kind> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(Envelope::kind)
            .collect()
    }
}

#[async_trait::async_trait]
impl Handler for Recorder {
    async fn handle(&self, request: Request) -> Answer {
        self.seen.lock().unwrap().push(request.checked.message);
        Answer::Acknowledge
    }
}

fn relay_config() -> RelayConfig {
    let mut gateways = BTreeMap::new();
    gateways.insert(
        Mic::parse("XNYS").unwrap(),
        NodeId::parse("gw.xnys").unwrap(),
    );
    gateways.insert(
        Mic::parse("XASX").unwrap(),
        NodeId::parse("gw.xasx").unwrap(),
    );
    RelayConfig {
        node: NodeId::parse(RELAY).unwrap(),
        gateways,
        // Long enough that nothing expires while the test runs.
        timing: isthmus_spec::protocol::Timing {
            claim_window_ms: 10_000,
            max_clock_skew_ms: 500,
            matching_window_ms: 60_000,
            lock_window_ms: 60_000,
            reveal_margin_ms: 10_500,
            cash_expiry_ms: 120_000,
            securities_expiry_ms: 240_000,
            retransmit_ms: 300,
        },
        settlement_prefix: "T".into(),
    }
}

fn start(
    net: &NetworkIdentity,
    store: &std::path::Path,
    peers: &BTreeMap<NodeId, SocketAddr>,
) -> RelayNode {
    let kv = SledStore::open(store).unwrap();
    RelayNode::start(
        "127.0.0.1:0".parse().unwrap(),
        context(net, RELAY),
        relay_config(),
        peers.clone(),
        Box::new(KvNodeStore::<_, Record>::new(kv)),
        Arc::new(SystemClock),
    )
    .unwrap()
}

fn instruction(
    net: &NetworkIdentity,
    from: &str,
    body: isthmus_spec::body::SettlementInstruction,
) -> Envelope {
    use ring::rand::SecureRandom;
    let mut random = [0u8; 10];
    ring::rand::SystemRandom::new().fill(&mut random).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    Envelope::new(
        MessageId::new_v7(now, random),
        NodeId::parse(from).unwrap(),
        NodeId::parse(RELAY).unwrap(),
        Timestamp::from_unix_millis(now).unwrap(),
        Body::SettlementInstruction(body),
    )
    .sign(&net.node(from).unwrap().signing_key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instructions_match_and_a_restarted_relay_resumes_from_its_store() {
    let net = network();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("relay");
    let seller_seen = Arc::new(Recorder::default());
    let buyer_seen = Arc::new(Recorder::default());
    let seller = Endpoint::bind(
        "127.0.0.1:0".parse().unwrap(),
        context(&net, "gw.xnys"),
        seller_seen.clone(),
    )
    .unwrap();
    let buyer = Endpoint::bind(
        "127.0.0.1:0".parse().unwrap(),
        context(&net, "gw.xasx"),
        buyer_seen.clone(),
    )
    .unwrap();
    let mut peers = BTreeMap::new();
    peers.insert(
        NodeId::parse("gw.xnys").unwrap(),
        seller.local_addr().unwrap(),
    );
    peers.insert(
        NodeId::parse("gw.xasx").unwrap(),
        buyer.local_addr().unwrap(),
    );
    let relay = start(&net, &store, &peers);
    let relay_addr = relay.local_addr().unwrap();

    let trade = trades(isthmus_sim::workload::TradeKind::AgainstPayment, 1).remove(0);
    let deliver = instruction(&net, "gw.xnys", trade.deliver.clone());
    assert_eq!(
        seller.request(relay_addr, &deliver).await.unwrap(),
        Delivered::Acknowledged
    );
    until("the seller's status", || {
        seller_seen.kinds().contains(&Kind::InstructionStatus)
    })
    .await;

    // The same bytes again: the same answer, and nothing handled twice.
    assert_eq!(
        seller.request(relay_addr, &deliver).await.unwrap(),
        Delivered::Acknowledged
    );
    // Other content under the used id: a replay.
    let mut altered = deliver.clone();
    altered.created_at = Timestamp::from_unix_millis(1_800_000_000_000).unwrap();
    altered.signature = None;
    let altered = altered.sign(&net.node("gw.xnys").unwrap().signing_key);
    match seller.request(relay_addr, &altered).await.unwrap() {
        Delivered::Answer(checked) => match &checked.message.body {
            Body::Error(error) => {
                assert_eq!(error.code.as_str(), ReasonCode::MessageReplayed.as_str())
            }
            other => panic!("expected MESSAGE_REPLAYED, got {:?}", other.kind()),
        },
        Delivered::Acknowledged => panic!("a replay was acknowledged"),
    }

    let receive = instruction(&net, "gw.xasx", trade.receive.clone().unwrap());
    assert_eq!(
        buyer.request(relay_addr, &receive).await.unwrap(),
        Delivered::Acknowledged
    );
    for (who, seen) in [("seller", &seller_seen), ("buyer", &buyer_seen)] {
        until(&format!("the {who}'s proposal and lock request"), || {
            let kinds = seen.kinds();
            kinds.contains(&Kind::SettlementProposal) && kinds.contains(&Kind::LockRequest)
        })
        .await;
    }

    // Its /metrics counts the settlement and the transport's work.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    let router = isthmus_node::api::relay_router(relay.handle());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let (status, metrics) = get_text(metrics_addr, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "isthmus_settlements{phase=",
        "isthmus_requests_total ",
        "isthmus_refusals_total{code=\"MESSAGE_REPLAYED\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in {metrics}");
    }
    let (status, _) = get_text(metrics_addr, "/healthz").await;
    assert_eq!(status, 200);
    server.abort();
    // Stop the relay (its store closes with it) and start it again from the
    // store alone: the settlement is still there, and the unlocked legs'
    // LockRequests come again.
    relay.shutdown(Duration::from_secs(2)).await;
    let before = seller_seen.seen.lock().unwrap().len();
    let relay = start(&net, &store, &peers);
    until("a LockRequest from the restarted relay", || {
        seller_seen.seen.lock().unwrap()[before..]
            .iter()
            .any(|m| m.kind() == Kind::LockRequest)
    })
    .await;
    relay.shutdown(Duration::from_secs(2)).await;
}

/// ISM-1 §8.7 with §8.4 rule 6 in one round of the engine's thread: a Batch
/// carrying a message, the same bytes again and other content under its id
/// is handled once, the repeat acknowledged and the replay refused, in a
/// Batch of one Error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_a_repeat_and_a_replay_is_handled_once() {
    let net = network();
    let dir = tempfile::tempdir().unwrap();
    let seller_seen = Arc::new(Recorder::default());
    let seller = Endpoint::bind(
        "127.0.0.1:0".parse().unwrap(),
        context(&net, "gw.xnys"),
        seller_seen.clone(),
    )
    .unwrap();
    let mut peers = BTreeMap::new();
    peers.insert(
        NodeId::parse("gw.xnys").unwrap(),
        seller.local_addr().unwrap(),
    );
    let relay = start(&net, &dir.path().join("relay"), &peers);
    let relay_addr = relay.local_addr().unwrap();

    let trade = trades(isthmus_sim::workload::TradeKind::AgainstPayment, 1).remove(0);
    let mut deliver = instruction(&net, "gw.xnys", trade.deliver.clone());
    deliver.signature = None;
    let mut altered = deliver.clone();
    altered.created_at = Timestamp::from_unix_millis(1_800_000_000_000).unwrap();
    let batch = Envelope::new(
        MessageId::new_v7(1_800_000_000_000, [7; 10]),
        deliver.sender.clone(),
        deliver.receiver.clone(),
        deliver.created_at.clone(),
        Body::Batch(isthmus_spec::body::Batch {
            messages: vec![deliver.clone(), deliver.clone(), altered],
        }),
    )
    .sign(&net.node("gw.xnys").unwrap().signing_key);
    let Delivered::Answer(answer) = seller.request(relay_addr, &batch).await.unwrap() else {
        panic!("the replay was not refused");
    };
    let errors: Vec<(String, Option<MessageId>)> = answer
        .unpack()
        .into_iter()
        .map(|c| match c.message.body {
            Body::Error(e) => (e.code.as_str().to_string(), e.related_message_id),
            other => panic!("expected an Error, got {:?}", other.kind()),
        })
        .collect();
    assert_eq!(
        errors,
        vec![(
            ReasonCode::MessageReplayed.as_str().to_string(),
            Some(deliver.id.clone())
        )]
    );
    until("the seller's status", || {
        seller_seen.kinds().contains(&Kind::InstructionStatus)
    })
    .await;
    // The same Batch again (a lost acknowledgement): every carried message
    // was handled before; nothing is handled twice.
    let again = seller.request(relay_addr, &batch).await.unwrap();
    assert!(matches!(again, Delivered::Answer(_)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let statuses = seller_seen
        .kinds()
        .into_iter()
        .filter(|k| *k == Kind::InstructionStatus)
        .count();
    assert_eq!(statuses, 1, "the instruction was handled once");
    relay.shutdown(Duration::from_secs(1)).await;
}
