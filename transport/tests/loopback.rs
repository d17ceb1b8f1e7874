#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The transport over real QUIC on loopback (ISM-1 §8): mutual TLS against
//! the network CA only, ALPN, peer identity by certificate pin, framing,
//! the receiver duties in order, signed Errors, and a node that keeps
//! serving after every refusal.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{tls_of, Recorder};

use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{NodeId, Text};
use isthmus_spec::membership::{Membership, Role};
use isthmus_spec::{Body, Envelope, ReasonCode};
use isthmus_transport::probe::{self, Probe};
use isthmus_transport::{
    Answer, Delivered, Endpoint, Handler, Limits, NetworkIdentity, NodeContext, NodeSpec, Request,
    SendError,
};

fn spec(id: &str, role: Role, market: Option<&str>) -> NodeSpec {
    NodeSpec {
        node_id: NodeId::parse(id).unwrap(),
        role,
        market: market.map(|m| Mic::parse(m).unwrap()),
    }
}

fn nodes() -> Vec<NodeSpec> {
    vec![
        spec("relay.one", Role::Relay, None),
        spec("gw.xnys", Role::Gateway, Some("XNYS")),
        spec("gw.xlon", Role::Gateway, Some("XLON")),
        spec("obs.one", Role::Observer, None),
        // Issued by the CA, but left out of the membership below.
        spec("stranger.one", Role::Relay, None),
    ]
}

struct Net {
    identity: NetworkIdentity,
    membership: Membership,
}

fn network() -> Net {
    let identity = NetworkIdentity::generate(&Text::parse("loopback").unwrap(), &nodes()).unwrap();
    let members = identity
        .membership
        .members()
        .iter()
        .filter(|m| m.node_id.as_str() != "stranger.one")
        .cloned()
        .collect();
    let membership = Membership::new(Text::parse("loopback").unwrap(), members).unwrap();
    Net {
        identity,
        membership,
    }
}

fn endpoint(net: &Net, id: &str, handler: Arc<dyn Handler>) -> Endpoint {
    let node = net.identity.node(id).unwrap();
    let context = NodeContext {
        own: node.spec.node_id.clone(),
        membership: net.membership.clone(),
        tls: tls_of(&net.identity, &net.identity.ca_certificate_pem, id),
        signing_key: isthmus_spec::sign::SigningKey::from_pem(&node.signing_key.to_pem()).unwrap(),
        limits: Limits::default(),
    };
    Endpoint::bind("127.0.0.1:0".parse().unwrap(), context, handler).unwrap()
}

/// A valid message of `kind` from `from` to `to`, signed by `from`.
fn message(net: &Net, kind: &str, from: &str, to: &str) -> Envelope {
    let file = match kind {
        "instruction" => "valid/01-instruction-deliver-against-payment-usd.json",
        _ => panic!("no vector for {kind}"),
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../specs/vectors")
        .join(file);
    let vector: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut envelope = Envelope::from_value(&vector["input"]).unwrap();
    envelope.sender = NodeId::parse(from).unwrap();
    envelope.receiver = NodeId::parse(to).unwrap();
    envelope.id = isthmus_spec::ids::MessageId::new_v7(1_800_000_000_000, rand_bytes());
    envelope.signature = None;
    envelope.sign(&net.identity.node(from).unwrap().signing_key)
}

fn rand_bytes() -> [u8; 10] {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 10];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    bytes
}

fn error_of(delivered: &Delivered) -> (ReasonCode, Option<String>) {
    match delivered {
        Delivered::Answer(checked) => match &checked.message.body {
            Body::Error(error) => (
                ReasonCode::from_wire(error.code.as_str()).unwrap(),
                error.field.as_ref().map(|f| f.to_string()),
            ),
            other => panic!("expected an Error, got {:?}", other.kind()),
        },
        Delivered::Acknowledged => panic!("expected an Error, got an acknowledgement"),
    }
}

struct Pair {
    net: Net,
    server: Endpoint,
    recorder: Arc<Recorder>,
    client: Endpoint,
    addr: SocketAddr,
}

fn pair(client_id: &str) -> Pair {
    let net = network();
    let recorder = Arc::new(Recorder::default());
    let server = endpoint(&net, "relay.one", recorder.clone());
    let client = endpoint(&net, client_id, Arc::new(Recorder::default()));
    let addr = server.local_addr().unwrap();
    Pair {
        net,
        server,
        recorder,
        client,
        addr,
    }
}

impl Pair {
    /// The server still serves: a valid message is acknowledged and handled.
    async fn still_serves(&self) {
        let before = self.recorder.seen.lock().unwrap().len();
        let fresh = endpoint(&self.net, "gw.xlon", Arc::new(Recorder::default()));
        let ok = message(&self.net, "instruction", "gw.xlon", "relay.one");
        let delivered = fresh.request(self.addr, &ok).await.unwrap();
        assert_eq!(delivered, Delivered::Acknowledged);
        assert_eq!(self.recorder.seen.lock().unwrap().len(), before + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_message_is_acknowledged_and_handed_to_the_node_once() {
    let p = pair("gw.xnys");
    let sent = message(&p.net, "instruction", "gw.xnys", "relay.one");
    let delivered = p.client.request(p.addr, &sent).await.unwrap();
    assert_eq!(delivered, Delivered::Acknowledged);
    let seen = p.recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].peer.node_id.as_str(), "gw.xnys");
    assert_eq!(seen[0].checked.message, sent);
    assert_eq!(seen[0].checked.canonical, sent.to_canonical_bytes());
    drop(p.server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_come_back_as_signed_errors_in_the_order_of_the_duties() {
    let p = pair("gw.xnys");
    // Sender is another member (step 3).
    let mut impostor = message(&p.net, "instruction", "gw.xlon", "relay.one");
    impostor = impostor.sign(&p.net.identity.node("gw.xlon").unwrap().signing_key);
    let delivered = p.client.request(p.addr, &impostor).await.unwrap();
    assert_eq!(
        error_of(&delivered),
        (ReasonCode::PeerUnknown, Some("sender".into()))
    );
    // Signed with another member's key (step 5).
    let mut forged = message(&p.net, "instruction", "gw.xnys", "relay.one");
    forged.signature = None;
    let forged = forged.sign(&p.net.identity.node("gw.xlon").unwrap().signing_key);
    let delivered = p.client.request(p.addr, &forged).await.unwrap();
    assert_eq!(error_of(&delivered).0, ReasonCode::KeyUnknown);
    // A bad signature (step 5).
    let mut tampered = message(&p.net, "instruction", "gw.xnys", "relay.one");
    tampered.created_at =
        isthmus_spec::time::Timestamp::from_unix_millis(1_800_000_000_001).unwrap();
    let delivered = p.client.request(p.addr, &tampered).await.unwrap();
    assert_eq!(error_of(&delivered).0, ReasonCode::SignatureInvalid);
    // Unsigned.
    let mut unsigned = message(&p.net, "instruction", "gw.xnys", "relay.one");
    unsigned.signature = None;
    let delivered = p.client.request(p.addr, &unsigned).await.unwrap();
    assert_eq!(error_of(&delivered).0, ReasonCode::SignatureMissing);
    // The Errors are from the relay, to the client, and verify.
    if let Delivered::Answer(checked) = &delivered {
        assert_eq!(checked.message.sender.as_str(), "relay.one");
        assert_eq!(checked.message.receiver.as_str(), "gw.xnys");
        assert_eq!(
            match &checked.message.body {
                Body::Error(e) => e.related_message_id.clone(),
                _ => None,
            },
            Some(unsigned.id.clone())
        );
    }
    assert!(
        p.recorder.seen.lock().unwrap().is_empty(),
        "nothing refused reached the node"
    );
    p.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_may_send_only_errors() {
    let p = pair("obs.one");
    let sent = message(&p.net, "instruction", "obs.one", "relay.one");
    let delivered = p.client.request(p.addr, &sent).await.unwrap();
    assert_eq!(
        error_of(&delivered),
        (ReasonCode::RoleForbidden, Some("kind".into()))
    );
    assert!(p.recorder.seen.lock().unwrap().is_empty());
    p.still_serves().await;
}

/// The relay's certificate pin.
fn relay_pin(p: &Pair) -> isthmus_spec::ids::Hex32 {
    p.net
        .membership
        .member(&NodeId::parse("relay.one").unwrap())
        .unwrap()
        .certificate_sha256
        .clone()
}

/// A raw client presenting `id`'s certificate, pinning the relay.
fn raw_client(p: &Pair, id: &str) -> Probe {
    let tls = tls_of(&p.net.identity, &p.net.identity.ca_certificate_pem, id);
    Probe::new(&tls, &relay_pin(p), None).unwrap()
}

fn relay_id() -> NodeId {
    NodeId::parse("relay.one").unwrap()
}

/// Raw streams: what a hostile or broken client can put on the wire.
async fn raw_request(p: &Pair, client_id: &str, bytes: &[u8]) -> Vec<u8> {
    raw_client(p, client_id)
        .raw_request(p.addr, &relay_id(), bytes, Duration::from_secs(20))
        .await
        .unwrap()
}

fn decode_answer(p: &Pair, answer: &[u8]) -> (ReasonCode, Option<String>) {
    let own = NodeId::parse("gw.xnys").unwrap();
    probe::error_in(answer, &relay_id(), &own, &p.net.membership).unwrap()
}

fn framed(message: &Envelope) -> Vec<u8> {
    probe::framed(message).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing_refusals_oversize_truncated_extra_and_missing() {
    let p = pair("gw.xnys");
    // Announces 1 MiB + 1 and sends nothing more: refused on the prefix alone.
    let oversize = ((1024 * 1024 + 1) as u32).to_be_bytes();
    assert_eq!(
        decode_answer(&p, &raw_request(&p, "gw.xnys", &oversize).await).0,
        ReasonCode::FrameTooLarge
    );
    let good = framed(&message(&p.net, "instruction", "gw.xnys", "relay.one"));
    let truncated = &good[..good.len() - 3];
    assert_eq!(
        decode_answer(&p, &raw_request(&p, "gw.xnys", truncated).await).0,
        ReasonCode::FrameTruncated
    );
    assert_eq!(
        decode_answer(&p, &raw_request(&p, "gw.xnys", &good[..2]).await).0,
        ReasonCode::FrameTruncated
    );
    let mut two = good.clone();
    two.extend_from_slice(&framed(&message(
        &p.net,
        "instruction",
        "gw.xnys",
        "relay.one",
    )));
    assert_eq!(
        decode_answer(&p, &raw_request(&p, "gw.xnys", &two).await).0,
        ReasonCode::FrameExtra
    );
    assert_eq!(
        decode_answer(&p, &raw_request(&p, "gw.xnys", &[]).await).0,
        ReasonCode::FrameMissing
    );
    let not_json = isthmus_spec::frame::encode_frame(b"{\"version\": ").unwrap();
    assert_eq!(
        decode_answer(&p, &raw_request(&p, "gw.xnys", &not_json).await).0,
        ReasonCode::MalformedJson
    );
    let misaddressed = framed(&message(&p.net, "instruction", "gw.xnys", "gw.xlon"));
    assert_eq!(
        decode_answer(&p, &raw_request(&p, "gw.xnys", &misaddressed).await),
        (ReasonCode::ReceiverMismatch, Some("receiver".into()))
    );
    assert!(
        p.recorder.seen.lock().unwrap().is_empty(),
        "no refused stream reached the node"
    );
    // The good frame alone is accepted on a raw stream too: no bytes back.
    assert!(raw_request(&p, "gw.xnys", &good).await.is_empty());
    assert_eq!(p.recorder.seen.lock().unwrap().len(), 1);
    p.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_that_fails_the_duties_gets_no_answer() {
    let p = pair("gw.xnys");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../specs/vectors/valid/01-instruction-deliver-against-payment-usd.json");
    let vector: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut error = Envelope::from_value(&vector["input"]).unwrap();
    error.body = Body::Error(isthmus_spec::protocol::error_body(
        "SETTLEMENT_UNKNOWN",
        "no such settlement",
        None,
    ));
    error.sender = NodeId::parse("gw.xnys").unwrap();
    error.receiver = NodeId::parse("relay.one").unwrap();
    error.signature = None;
    // Signed by another member's key: refused (KEY_UNKNOWN), logged, not answered.
    let badly_signed = error
        .clone()
        .sign(&p.net.identity.node("gw.xlon").unwrap().signing_key);
    assert!(raw_request(&p, "gw.xnys", &framed(&badly_signed))
        .await
        .is_empty());
    // For another receiver: not answered either.
    let mut misaddressed = error.clone();
    misaddressed.receiver = NodeId::parse("gw.xlon").unwrap();
    let misaddressed = misaddressed.sign(&p.net.identity.node("gw.xnys").unwrap().signing_key);
    assert!(raw_request(&p, "gw.xnys", &framed(&misaddressed))
        .await
        .is_empty());
    assert!(p.recorder.seen.lock().unwrap().is_empty());
    // A well-signed Error is handed to the node.
    let fine = error.sign(&p.net.identity.node("gw.xnys").unwrap().signing_key);
    assert!(raw_request(&p, "gw.xnys", &framed(&fine)).await.is_empty());
    assert_eq!(p.recorder.seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_of_another_ca_fails_the_handshake() {
    let p = pair("gw.xnys");
    let other = NetworkIdentity::generate(&Text::parse("elsewhere").unwrap(), &nodes()).unwrap();
    // gw.xnys's certificate from another CA, trusting our CA for the server.
    let tls = tls_of(&other, &p.net.identity.ca_certificate_pem, "gw.xnys");
    let pin = p
        .net
        .membership
        .member(&NodeId::parse("relay.one").unwrap())
        .unwrap()
        .certificate_sha256
        .clone();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(tls.client_config(&pin, &Limits::default()).unwrap());
    let outcome = async {
        let connection = endpoint.connect(p.addr, "relay.one").unwrap().await?;
        // TLS 1.3: the client may finish first; the server's refusal then
        // closes the connection before any stream is answered (ISM-1 §8.1 rule 8).
        let (mut send, mut recv) = connection.open_bi().await?;
        send.write_all(&framed(&message(
            &p.net,
            "instruction",
            "gw.xnys",
            "relay.one",
        )))
        .await?;
        send.finish()?;
        recv.read_to_end(1 << 20).await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    assert!(outcome.is_err(), "a foreign certificate got through");
    assert!(p.recorder.seen.lock().unwrap().is_empty());
    p.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_of_another_ca_or_pin_is_refused_by_the_client() {
    let p = pair("gw.xnys");
    // The client pins relay.one; gw.xlon's endpoint is not it.
    let impostor = endpoint(&p.net, "gw.xlon", Arc::new(Recorder::default()));
    let sent = message(&p.net, "instruction", "gw.xnys", "relay.one");
    let outcome = p
        .client
        .request(impostor.local_addr().unwrap(), &sent)
        .await;
    assert!(
        matches!(outcome, Err(SendError::Connect { .. })),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_of_no_member_is_closed_unread() {
    let p = pair("gw.xnys");
    let connection = raw_client(&p, "stranger.one")
        .connect(p.addr, &relay_id())
        .await
        .unwrap();
    let reason = connection.closed().await;
    match reason {
        quinn::ConnectionError::ApplicationClosed(close) => {
            assert_eq!(
                close.error_code,
                isthmus_transport::AppCode::PeerUnknown.var_int()
            );
        }
        other => panic!("expected ISM_PEER_UNKNOWN, got {other:?}"),
    }
    assert!(p.recorder.seen.lock().unwrap().is_empty());
    p.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_alpn_ism1_fails_the_handshake() {
    let p = pair("gw.xnys");
    let tls = tls_of(
        &p.net.identity,
        &p.net.identity.ca_certificate_pem,
        "gw.xnys",
    );
    let pin = p
        .net
        .membership
        .member(&NodeId::parse("relay.one").unwrap())
        .unwrap()
        .certificate_sha256
        .clone();
    for offered in [vec![], vec![b"h3".to_vec()]] {
        let config = tls
            .client_config_offering(&pin, &Limits::default(), offered)
            .unwrap();
        let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
        endpoint.set_default_client_config(config);
        let outcome = endpoint.connect(p.addr, "relay.one").unwrap().await;
        match outcome {
            Err(quinn::ConnectionError::ConnectionClosed(close)) => {
                // no_application_protocol (120) as CRYPTO_ERROR 0x0100 + 120 (RFC 9001 §8.1).
                assert_eq!(u64::from(close.error_code), 0x0178, "{close:?}");
            }
            other => panic!("expected the handshake to fail with 0x0178, got {other:?}"),
        }
    }
    p.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unidirectional_stream_is_stopped() {
    let p = pair("gw.xnys");
    let connection = raw_client(&p, "gw.xnys")
        .connect(p.addr, &relay_id())
        .await
        .unwrap();
    // The server allows no unidirectional stream at all (MAX_STREAMS 0):
    // opening one waits for credit that never comes.
    let opened = tokio::time::timeout(Duration::from_millis(500), connection.open_uni()).await;
    assert!(opened.is_err(), "a unidirectional stream was allowed");
    p.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_connections_does_not_stop_the_node() {
    let p = pair("gw.xnys");
    let probe = raw_client(&p, "gw.xnys");
    let mut kept = Vec::new();
    for _ in 0..12 {
        kept.push(probe.connect(p.addr, &relay_id()).await.unwrap());
    }
    // The node closes every connection beyond the limit per peer; wait for
    // that many closes (the bound only guards against a hang).
    let over = 12 - Limits::default().connections_per_peer;
    let mut closing = tokio::task::JoinSet::new();
    for connection in kept.clone() {
        closing.spawn(async move { connection.closed().await });
    }
    let mut closed_for_load = 0;
    for _ in 0..over {
        let reason = tokio::time::timeout(Duration::from_secs(30), closing.join_next())
            .await
            .expect("the node closes the connections over its limit")
            .unwrap()
            .unwrap();
        match reason {
            quinn::ConnectionError::ApplicationClosed(close) => {
                assert_eq!(
                    close.error_code,
                    isthmus_transport::AppCode::ExcessiveLoad.var_int()
                );
                closed_for_load += 1;
            }
            other => panic!("closed for another reason: {other:?}"),
        }
    }
    let open = kept.iter().filter(|c| c.close_reason().is_none()).count();
    assert_eq!(open, Limits::default().connections_per_peer);
    assert_eq!(closed_for_load, 12 - Limits::default().connections_per_peer);
    p.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_answers_holds_up_only_its_own_requests() {
    let p = pair("gw.xnys");
    // gw.xlon's address swallows every datagram: a handshake with it never completes.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let to_silent = message(&p.net, "instruction", "gw.xnys", "gw.xlon");
    let to_relay = message(&p.net, "instruction", "gw.xnys", "relay.one");
    let client = p.client.clone();
    let stuck = tokio::spawn(async move { client.request(silent_addr, &to_silent).await });
    // Let the stuck request start its handshake first (it never ends).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let delivered = p.client.request(p.addr, &to_relay).await.unwrap();
    assert_eq!(delivered, Delivered::Acknowledged);
    assert!(!stuck.is_finished(), "the silent peer answered?");
    stuck.abort();
    drop(silent);
}

/// A Batch (ISM-1 §6.11) from `from` to `to` carrying `messages`, which
/// lose their own signatures, signed once by `from`.
fn batch(net: &Net, from: &str, to: &str, messages: &[Envelope]) -> Envelope {
    let messages = messages
        .iter()
        .cloned()
        .map(|mut m| {
            m.signature = None;
            m
        })
        .collect();
    Envelope::new(
        isthmus_spec::ids::MessageId::new_v7(1_800_000_000_000, rand_bytes()),
        NodeId::parse(from).unwrap(),
        NodeId::parse(to).unwrap(),
        isthmus_spec::time::Timestamp::from_unix_millis(1_800_000_000_000).unwrap(),
        Body::Batch(isthmus_spec::body::Batch { messages }),
    )
    .sign(&net.identity.node(from).unwrap().signing_key)
}

/// Refuses the messages whose ids it lists (as a node refuses a replay),
/// takes the others.
struct Refuser {
    refuse: Vec<isthmus_spec::ids::MessageId>,
    seen: Mutex<Vec<Request>>,
}

#[async_trait::async_trait]
impl Handler for Refuser {
    async fn handle(&self, request: Request) -> Answer {
        let refused = self.refuse.contains(&request.checked.message.id);
        self.seen.lock().unwrap().push(request);
        if refused {
            Answer::Refuse(isthmus_spec::Rejection::at(
                ReasonCode::MessageReplayed,
                "id",
                "handled before, with other content",
            ))
        } else {
            Answer::Acknowledge
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_hands_over_each_message_in_order_by_its_own_bytes() {
    let p = pair("gw.xnys");
    let carried: Vec<Envelope> = (0..3)
        .map(|_| message(&p.net, "instruction", "gw.xnys", "relay.one"))
        .collect();
    let sent = batch(&p.net, "gw.xnys", "relay.one", &carried);
    let delivered = p.client.request(p.addr, &sent).await.unwrap();
    assert_eq!(delivered, Delivered::Acknowledged);
    let seen = p.recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "each carried message, not the Batch");
    for (request, original) in seen.iter().zip(&carried) {
        assert_eq!(request.peer.node_id.as_str(), "gw.xnys");
        assert_eq!(request.checked.message.id, original.id);
        assert_eq!(request.checked.message.signature, None);
        // ISM-1 §8.7 rule 3: a repeat is compared by the carried bytes.
        let mut unsigned = original.clone();
        unsigned.signature = None;
        assert_eq!(request.checked.canonical, unsigned.to_canonical_bytes());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_carried_messages_come_back_as_a_batch_of_errors() {
    let net = network();
    let carried: Vec<Envelope> = (0..4)
        .map(|_| message(&net, "instruction", "gw.xnys", "relay.one"))
        .collect();
    let refuser = Arc::new(Refuser {
        refuse: vec![carried[1].id.clone(), carried[3].id.clone()],
        seen: Mutex::new(Vec::new()),
    });
    let server = endpoint(&net, "relay.one", refuser.clone());
    let client = endpoint(&net, "gw.xnys", Arc::new(Recorder::default()));
    let addr = server.local_addr().unwrap();
    let sent = batch(&net, "gw.xnys", "relay.one", &carried);
    let delivered = client.request(addr, &sent).await.unwrap();
    let Delivered::Answer(answer) = delivered else {
        panic!("expected an answer, got an acknowledgement");
    };
    assert_eq!(answer.message.sender.as_str(), "relay.one");
    assert_eq!(answer.message.receiver.as_str(), "gw.xnys");
    let errors: Vec<(ReasonCode, Option<isthmus_spec::ids::MessageId>)> = answer
        .unpack()
        .into_iter()
        .map(|c| match c.message.body {
            Body::Error(e) => (
                ReasonCode::from_wire(e.code.as_str()).unwrap(),
                e.related_message_id,
            ),
            other => panic!("expected Errors, got {:?}", other.kind()),
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (ReasonCode::MessageReplayed, Some(carried[1].id.clone())),
            (ReasonCode::MessageReplayed, Some(carried[3].id.clone())),
        ]
    );
    assert_eq!(
        refuser.seen.lock().unwrap().len(),
        4,
        "every one was handled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_failing_the_duties_is_refused_whole() {
    let p = pair("gw.xnys");
    let carried = vec![
        message(&p.net, "instruction", "gw.xnys", "relay.one"),
        message(&p.net, "instruction", "gw.xnys", "relay.one"),
    ];
    // Signed by another member's key: step 5 refuses the Batch.
    let mut forged = batch(&p.net, "gw.xnys", "relay.one", &carried);
    forged.signature = None;
    let forged = forged.sign(&p.net.identity.node("gw.xlon").unwrap().signing_key);
    let delivered = p.client.request(p.addr, &forged).await.unwrap();
    assert_eq!(error_of(&delivered).0, ReasonCode::KeyUnknown);
    if let Delivered::Answer(checked) = &delivered {
        match &checked.message.body {
            Body::Error(e) => assert_eq!(e.related_message_id, Some(forged.id.clone())),
            _ => panic!("expected an Error"),
        }
    }
    // Carrying a message from another sender: decoding refuses it.
    let stranger = message(&p.net, "instruction", "gw.xlon", "relay.one");
    let mixed = batch(
        &p.net,
        "gw.xnys",
        "relay.one",
        &[carried[0].clone(), stranger],
    );
    let delivered = p.client.request(p.addr, &mixed).await.unwrap();
    assert_eq!(
        error_of(&delivered),
        (
            ReasonCode::BatchAddressMismatch,
            Some("body.messages[1].sender".into())
        )
    );
    assert!(
        p.recorder.seen.lock().unwrap().is_empty(),
        "nothing of a refused Batch reached the node"
    );
    p.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_may_not_send_a_batch() {
    let p = pair("obs.one");
    let inner = message(&p.net, "instruction", "obs.one", "relay.one");
    let sent = batch(&p.net, "obs.one", "relay.one", &[inner]);
    let delivered = p.client.request(p.addr, &sent).await.unwrap();
    assert_eq!(
        error_of(&delivered),
        (ReasonCode::RoleForbidden, Some("kind".into()))
    );
    assert!(p.recorder.seen.lock().unwrap().is_empty());
}
