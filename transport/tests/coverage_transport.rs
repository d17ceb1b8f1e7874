#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Checks of ISM-1 §7 and §8 that no other test made (requirements coverage,
//! specs/requirements/ch07-08-signatures-and-transport.toml): the form of the
//! signature member at its path, signing with pure Ed25519 under a PKCS#8 v1
//! key file, the certificates' subjectAltName, mutual authentication with the
//! exact TLS alerts, the server name and pin, one frame each way, refusals
//! before the stream ends followed by STOP_SENDING, both forms of an answer,
//! a sender that will not send an oversize frame, and the code and limit
//! tables.
//!
//! Every wait is bounded only to turn a hang into a failure; nothing is
//! asserted about time.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{tls_of, Recorder};

use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Hex32, MessageId, NodeId, Text};
use isthmus_spec::limits::MAX_MESSAGE_BYTES;
use isthmus_spec::membership::{Member, Membership, Role};
use isthmus_spec::sign::SigningKey;
use isthmus_spec::{Body, Envelope, ReasonCode};
use isthmus_transport::probe::{self, Probe};
use isthmus_transport::{
    Answer, AppCode, Delivered, Endpoint, Handler, Limits, NetworkIdentity, NodeContext, NodeSpec,
    Request, SendError, TlsIdentity,
};
use quinn::ConnectionError;
use serde_json::Value;

/// Bounds every wait: a hang fails the test instead of stalling it.
const HANG: Duration = Duration::from_secs(30);

fn repository() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vector(file: &str) -> Value {
    let path = repository().join("specs/vectors").join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

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
    ]
}

fn identity(name: &str) -> NetworkIdentity {
    NetworkIdentity::generate(&Text::parse(name).unwrap(), &nodes()).unwrap()
}

fn copy(key: &SigningKey) -> SigningKey {
    SigningKey::from_pem(&key.to_pem()).unwrap()
}

/// Node `id` of `net` on loopback, with `membership` and `tls`.
fn endpoint_with(
    net: &NetworkIdentity,
    id: &str,
    membership: Membership,
    tls: TlsIdentity,
    handler: Arc<dyn Handler>,
) -> Endpoint {
    let node = net.node(id).unwrap();
    let context = NodeContext {
        own: node.spec.node_id.clone(),
        membership,
        tls,
        signing_key: copy(&node.signing_key),
        limits: Limits::default(),
    };
    Endpoint::bind("127.0.0.1:0".parse().unwrap(), context, handler).unwrap()
}

/// Node `id` of `net`, as the network made it.
fn endpoint(net: &NetworkIdentity, id: &str, handler: Arc<dyn Handler>) -> Endpoint {
    endpoint_with(
        net,
        id,
        net.membership.clone(),
        tls_of(net, &net.ca_certificate_pem, id),
        handler,
    )
}

fn fresh_id() -> MessageId {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 10];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    MessageId::new_v7(1_800_000_000_000, bytes)
}

/// The valid message of vector `file`, from `from` to `to` under a fresh id, unsigned.
fn unsigned_from(file: &str, from: &str, to: &str) -> Envelope {
    let mut envelope = Envelope::from_value(&vector(file)["input"]).unwrap();
    envelope.sender = NodeId::parse(from).unwrap();
    envelope.receiver = NodeId::parse(to).unwrap();
    envelope.id = fresh_id();
    envelope.signature = None;
    envelope
}

/// A SettlementInstruction from `from` to `to`, signed by `from`.
fn instruction(net: &NetworkIdentity, from: &str, to: &str) -> Envelope {
    unsigned_from(
        "valid/01-instruction-deliver-against-payment-usd.json",
        from,
        to,
    )
    .sign(&net.node(from).unwrap().signing_key)
}

fn relay_id() -> NodeId {
    NodeId::parse("relay.one").unwrap()
}

fn pin_of(membership: &Membership, id: &str) -> Hex32 {
    membership
        .member(&NodeId::parse(id).unwrap())
        .unwrap()
        .certificate_sha256
        .clone()
}

/// The code of a CONNECTION_CLOSE that ended a connection, if a transport
/// (not application) close: CRYPTO_ERROR 0x0100 + the TLS alert.
fn transport_close_code(error: &ConnectionError) -> Option<u64> {
    match error {
        ConnectionError::ConnectionClosed(close) => Some(u64::from(close.error_code)),
        ConnectionError::TransportError(error) => Some(u64::from(error.code)),
        _ => None,
    }
}

/// How a handshake of `endpoint` to `addr` as `server` ended: completed and
/// then closed, or failed. A TLS 1.3 client may finish its side first and
/// see the server's refusal only as the connection's close (ISM-1 §8.1 rule 8).
async fn handshake_outcome(
    endpoint: &quinn::Endpoint,
    addr: SocketAddr,
    server: &str,
) -> ConnectionError {
    let outcome = tokio::time::timeout(HANG, async {
        match endpoint.connect(addr, server).unwrap().await {
            Err(error) => error,
            Ok(connection) => connection.closed().await,
        }
    })
    .await;
    outcome.expect("the handshake neither failed nor was the connection closed")
}

// ---------------------------------------------------------------- §7

/// ISM-1 §7.1 rule 2: each defect of the signature member's form is refused
/// while decoding with `SIGNATURE_MALFORMED` at the member's own path, by
/// the receiver duties of a node (§8.4 step 2) as by the decoder.
#[test]
fn the_signature_members_form_is_refused_at_its_path() {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let net = identity("form");
    let peer = net
        .membership
        .member(&NodeId::parse("gw.xnys").unwrap())
        .unwrap()
        .clone();
    let signed = vector("valid/01-instruction-deliver-against-payment-usd.json")["input"].clone();
    let value = signed["signature"]["value"].as_str().unwrap().to_string();
    assert_eq!(value.len(), 86);
    // The same last character with its unused low bits set: the same 64
    // bytes in another text, which only the canonical text may carry.
    let last = value.chars().last().unwrap();
    let index = ALPHABET.find(last).unwrap();
    assert_eq!(
        index % 16,
        0,
        "the canonical text leaves the low bits clear"
    );
    let mut unused_bits = value[..85].to_string();
    unused_bits.push(ALPHABET.as_bytes()[index + 1] as char);
    let mut plus = value.clone();
    plus.replace_range(0..1, "+");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("alg", Value::from("ed25519"), "signature.alg"),
        ("alg", Value::from("EdDSA"), "signature.alg"),
        (
            "key_id",
            Value::from("63F5EB8A14F532B07D8F3570A50FD658"),
            "signature.key_id",
        ),
        (
            "key_id",
            Value::from("63f5eb8a14f532b07d8f3570a50fd65"),
            "signature.key_id",
        ),
        (
            "key_id",
            Value::from("63f5eb8a14f532b07d8f3570a50fd658a"),
            "signature.key_id",
        ),
        (
            "key_id",
            Value::from("63f5eb8a14f532b07d8f3570a50fd65g"),
            "signature.key_id",
        ),
        (
            "value",
            Value::from(format!("{value}==")),
            "signature.value",
        ),
        ("value", Value::from(plus), "signature.value"),
        (
            "value",
            Value::from(value[..85].to_string()),
            "signature.value",
        ),
        ("value", Value::from(format!("{value}A")), "signature.value"),
        ("value", Value::from(unused_bits), "signature.value"),
    ];
    for (member, bad, path) in cases {
        let mut message = signed.clone();
        message["signature"][member] = bad.clone();
        let bytes = serde_json::to_vec(&message).unwrap();
        let refused = Envelope::decode(&bytes).unwrap_err();
        assert_eq!(
            (refused.code, refused.field.as_deref()),
            (ReasonCode::SignatureMalformed, Some(path)),
            "{member} = {bad}"
        );
        let refusal =
            isthmus_transport::duties::check_message(&bytes, &peer, &relay_id(), &net.membership)
                .unwrap_err();
        assert_eq!(
            (refusal.rejection.code, refusal.rejection.field.as_deref()),
            (ReasonCode::SignatureMalformed, Some(path)),
            "{member} = {bad} at a node"
        );
    }
    // The untouched message decodes: each refusal above is the one defect's.
    assert!(Envelope::decode(&serde_json::to_vec(&signed).unwrap()).is_ok());
}

/// Standard base64 (RFC 4648 §4) in PEM lines of 64 characters.
fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in der.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The published test key (keys.json, test-key-1) as the PKCS#8 v1 document
/// ISM-1 §7.4 spells out: its 16-byte header, then the seed.
fn test_key_v1_der() -> Vec<u8> {
    let keys = vector("keys.json");
    let seed = keys["trusted"][0]["seed"].as_str().unwrap();
    let mut der = hex("302e020100300506032b657004220420");
    der.extend(hex(seed));
    assert_eq!(der.len(), 48);
    der
}

/// ISM-1 §7.4: a key file holding a PKCS#8 v1 document (no public key) is
/// read, and is the key the record publishes.
#[test]
fn a_pkcs8_v1_key_file_is_read() {
    let der = test_key_v1_der();
    let file = pem("PRIVATE KEY", &der);
    let key = SigningKey::from_pem(&file).expect("a PKCS#8 v1 key file is accepted");
    let record = vector("test-key.pub.json");
    assert_eq!(
        key.public_key().to_string(),
        record["public_key"].as_str().unwrap()
    );
    assert_eq!(
        key.public_key().key_id().to_string(),
        record["key_id"].as_str().unwrap()
    );
    assert!(SigningKey::from_pkcs8(&der).is_ok());
    // A generated key (v2) is read too.
    let generated = SigningKey::generate(&ring::rand::SystemRandom::new()).unwrap();
    assert_eq!(
        SigningKey::from_pem(&generated.to_pem())
            .unwrap()
            .public_key(),
        generated.public_key()
    );
}

/// ISM-1 §7.2: the signature is pure Ed25519 (RFC 8032 §5.1.6) over the
/// 25-byte prefix and the canonical bytes without `signature`; Ed25519 is
/// deterministic, so signing a valid vector's message with the test key
/// gives the value the vector publishes (which specs/tests/independent_check.py
/// verifies with OpenSSL), both over the bytes put together here and when
/// a node signs the message.
#[test]
fn a_sender_signs_the_prefixed_canonical_bytes_with_pure_ed25519() {
    let key = SigningKey::from_pkcs8(&test_key_v1_der()).unwrap();
    for file in [
        "valid/01-instruction-deliver-against-payment-usd.json",
        "valid/05-status-accepted.json",
        "valid/42-batch-proposal-and-lock-request.json",
    ] {
        let vector = vector(file);
        let expect = &vector["expect"];
        let published = expect["signature"].as_str().unwrap();
        let mut input = b"ISM/1 envelope signature\0".to_vec();
        assert_eq!(input.len(), 25);
        input.extend_from_slice(expect["canonical_unsigned"].as_str().unwrap().as_bytes());
        assert_eq!(key.sign_bytes(&input).as_str(), published, "{file}");
        // ring's Ed25519 verifier (pure Ed25519 only) accepts it over those bytes.
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ED25519,
            key.public_key().as_bytes().to_vec(),
        );
        assert!(public
            .verify(&input, key.sign_bytes(&input).as_bytes())
            .is_ok());
        let mut message = Envelope::from_value(&vector["input"]).unwrap();
        assert_eq!(message.signing_input(), input, "{file}");
        message.signature = None;
        let signed = message.sign(&key);
        let signature = signed.signature.as_ref().unwrap();
        assert_eq!(signature.value.as_str(), published, "{file}");
        assert_eq!(signature.key_id, key.public_key().key_id());
    }
}

// ---------------------------------------------------------------- §8.1

/// ISM-1 §8.1 rule 3: every node's certificate carries its node id as a
/// subjectAltName `dNSName` (webpki matches names against the SAN only),
/// and no other node's.
#[test]
fn each_certificate_names_its_node_as_a_dns_subject_alt_name() {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    let net = identity("names");
    let ca = CertificateDer::from_pem_slice(net.ca_certificate_pem.as_bytes()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        isthmus_transport::tls::provider(),
    )
    .build()
    .unwrap();
    for node in &net.nodes {
        let certificate = CertificateDer::from(node.certificate_der.clone());
        for other in &net.nodes {
            let name = ServerName::try_from(other.spec.node_id.as_str().to_string()).unwrap();
            let verdict =
                verifier.verify_server_cert(&certificate, &[], &name, &[], UnixTime::now());
            if other.spec.node_id == node.spec.node_id {
                assert!(verdict.is_ok(), "{}: {verdict:?}", node.spec.node_id);
            } else {
                assert!(
                    matches!(
                        verdict,
                        Err(rustls::Error::InvalidCertificate(
                            rustls::CertificateError::NotValidForName
                                | rustls::CertificateError::NotValidForNameContext { .. }
                        ))
                    ),
                    "{} is valid for {}: {verdict:?}",
                    node.spec.node_id,
                    other.spec.node_id
                );
            }
        }
    }
}

/// ISM-1 §8.1 rule 2: the server selects `ism/1`, and a node's own client
/// connection has it negotiated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_selects_alpn_ism1() {
    let net = identity("alpn");
    let server = endpoint(&net, "relay.one", Arc::new(Recorder::default()));
    let addr = server.local_addr().unwrap();
    let probe = Probe::new(
        &tls_of(&net, &net.ca_certificate_pem, "gw.xnys"),
        &pin_of(&net.membership, "relay.one"),
        None,
    )
    .unwrap();
    let connection = probe.connect(addr, &relay_id()).await.unwrap();
    let data = connection
        .handshake_data()
        .unwrap()
        .downcast::<quinn::crypto::rustls::HandshakeData>()
        .unwrap();
    assert_eq!(data.protocol.as_deref(), Some(&b"ism/1"[..]));
    connection.close(AppCode::NoError.var_int(), b"");
}

/// ISM-1 §8.1 rules 3 and 8: a client that presents no certificate fails
/// the handshake with the alert the server's verification produced
/// (`certificate_required`, 116: CRYPTO_ERROR 0x0174), and nothing it sends
/// reaches the node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_certificate_fails_the_handshake() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let net = identity("anonymous");
    let recorder = Arc::new(Recorder::default());
    let server = endpoint(&net, "relay.one", recorder.clone());
    let addr = server.local_addr().unwrap();
    let ca = CertificateDer::from_pem_slice(net.ca_certificate_pem.as_bytes()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let mut config =
        rustls::ClientConfig::builder_with_provider(isthmus_transport::tls::provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"ism/1".to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(config).unwrap();
    let mut client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    client.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
    let error = handshake_outcome(&client, addr, "relay.one").await;
    assert_eq!(
        transport_close_code(&error),
        Some(0x0100 + 116),
        "{error:?}"
    );
    assert_eq!(recorder.count(), 0);
}

/// ISM-1 §8.1 rules 3 and 8: a client certificate issued by another CA
/// fails the handshake with `unknown_ca` (48), CRYPTO_ERROR 0x0130.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_of_another_ca_fails_with_unknown_ca() {
    let net = identity("ours");
    let other = identity("elsewhere");
    let recorder = Arc::new(Recorder::default());
    let server = endpoint(&net, "relay.one", recorder.clone());
    let addr = server.local_addr().unwrap();
    // gw.xnys's certificate from the other CA; the server trusted and pinned as ours.
    let foreign = tls_of(&other, &net.ca_certificate_pem, "gw.xnys");
    let mut client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    client.set_default_client_config(
        foreign
            .client_config(&pin_of(&net.membership, "relay.one"), &Limits::default())
            .unwrap(),
    );
    let error = handshake_outcome(&client, addr, "relay.one").await;
    assert_eq!(transport_close_code(&error), Some(0x0100 + 48), "{error:?}");
    assert_eq!(recorder.count(), 0);
}

/// ISM-1 §8.1 rule 8: a node's request on a connection the server closes
/// with a CRYPTO_ERROR (its certificate refused) is not delivered: the
/// requester gets an error, never an acknowledgement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_on_a_connection_refused_for_its_certificate_is_not_delivered() {
    let net = identity("ours");
    let other = identity("elsewhere");
    let recorder = Arc::new(Recorder::default());
    let server = endpoint(&net, "relay.one", recorder.clone());
    let addr = server.local_addr().unwrap();
    let client = endpoint_with(
        &net,
        "gw.xnys",
        net.membership.clone(),
        tls_of(&other, &net.ca_certificate_pem, "gw.xnys"),
        Arc::new(Recorder::default()),
    );
    let sent = instruction(&net, "gw.xnys", "relay.one");
    let outcome = tokio::time::timeout(HANG, client.request(addr, &sent))
        .await
        .expect("the request ends");
    assert!(
        matches!(
            outcome,
            Err(SendError::Connect { .. } | SendError::Stream { .. })
        ),
        "{outcome:?}"
    );
    assert_eq!(recorder.count(), 0);
}

/// ISM-1 §8.1 rules 3 and 9: the client verifies the server's chain against
/// the network's CA, not only its pin: a server whose certificate the
/// membership pins but another CA issued is refused by the client itself
/// (`unknown_ca`), and the server is never reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_server_certificate_of_another_ca_is_refused_by_the_client() {
    let net = identity("ours");
    let other = identity("elsewhere");
    let recorder = Arc::new(Recorder::default());
    // relay.one as the other network made it, serving its own certificate.
    let server = endpoint(&other, "relay.one", recorder.clone());
    let addr = server.local_addr().unwrap();
    // Our membership, but pinning that certificate for relay.one.
    let foreign_pin = pin_of(&other.membership, "relay.one");
    let members: Vec<Member> = net
        .membership
        .members()
        .iter()
        .cloned()
        .map(|mut m| {
            if m.node_id == relay_id() {
                m.certificate_sha256 = foreign_pin.clone();
            }
            m
        })
        .collect();
    let pinned = Membership::new(Text::parse("ours").unwrap(), members).unwrap();
    // Raw: the failure is the client's own TLS error, unknown_ca.
    let ours = tls_of(&net, &net.ca_certificate_pem, "gw.xnys");
    let mut client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    client.set_default_client_config(
        ours.client_config(&foreign_pin, &Limits::default())
            .unwrap(),
    );
    let connecting = client.connect(addr, "relay.one").unwrap();
    let error = tokio::time::timeout(HANG, connecting)
        .await
        .expect("the handshake ends")
        .expect_err("a server certificate of another CA was accepted");
    match &error {
        ConnectionError::TransportError(e) => assert_eq!(u64::from(e.code), 0x0100 + 48),
        other => panic!("expected the client's own unknown_ca, got {other:?}"),
    }
    // A node's client, with that membership, does not deliver.
    let node = endpoint_with(&net, "gw.xnys", pinned, ours, Arc::new(Recorder::default()));
    let sent = instruction(&net, "gw.xnys", "relay.one");
    let outcome = tokio::time::timeout(HANG, node.request(addr, &sent))
        .await
        .expect("the request ends");
    assert!(
        matches!(outcome, Err(SendError::Connect { .. })),
        "{outcome:?}"
    );
    assert_eq!(recorder.count(), 0);
}

/// ISM-1 §8.1 rule 9 and §8.3 rules 1 and 3, the requester's side: a node
/// sends the node id of the member it means to reach as the TLS server
/// name, offers `ism/1`, and writes exactly one frame holding the message's
/// canonical bytes (§8.2 rule 2) before ending its side; an acknowledgement
/// (the stream ended without a frame) is taken as delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_names_the_member_it_reaches_and_writes_one_canonical_frame() {
    let net = identity("sni");
    let relay = tls_of(&net, &net.ca_certificate_pem, "relay.one");
    let server = quinn::Endpoint::server(
        relay.server_config(&Limits::default()).unwrap(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let client = endpoint(&net, "gw.xnys", Arc::new(Recorder::default()));
    let sent = instruction(&net, "gw.xnys", "relay.one");
    let request = {
        let client = client.clone();
        let sent = sent.clone();
        tokio::spawn(async move { client.request(addr, &sent).await })
    };
    let served = tokio::time::timeout(HANG, async {
        let connection = server.accept().await.unwrap().await.unwrap();
        let data = connection
            .handshake_data()
            .unwrap()
            .downcast::<quinn::crypto::rustls::HandshakeData>()
            .unwrap();
        let (mut send, mut recv) = connection.accept_bi().await.unwrap();
        let bytes = recv.read_to_end(4 + MAX_MESSAGE_BYTES + 1).await.unwrap();
        send.finish().unwrap();
        let _ = send.stopped().await;
        (
            connection,
            data.server_name.clone(),
            data.protocol.clone(),
            bytes,
        )
    })
    .await
    .expect("the node's request reaches the server");
    // The connection stays open until the requester has read the end.
    let (_connection, server_name, protocol, bytes) = served;
    assert_eq!(server_name.as_deref(), Some("relay.one"));
    assert_eq!(protocol.as_deref(), Some(&b"ism/1"[..]));
    let canonical = sent.to_canonical_bytes();
    let mut one_frame = (canonical.len() as u32).to_be_bytes().to_vec();
    one_frame.extend_from_slice(&canonical);
    assert_eq!(bytes, one_frame, "one frame, canonical, and nothing more");
    let delivered = tokio::time::timeout(HANG, request)
        .await
        .expect("the request ends")
        .unwrap();
    assert_eq!(delivered.unwrap(), Delivered::Acknowledged);
}

// ---------------------------------------------------------------- §8.2–§8.4

/// Answers every request with `reply`.
struct Replier {
    reply: Envelope,
    seen: Mutex<usize>,
}

#[async_trait::async_trait]
impl Handler for Replier {
    async fn handle(&self, _request: Request) -> Answer {
        *self.seen.lock().unwrap() += 1;
        Answer::Reply(Box::new(self.reply.clone()))
    }
}

/// ISM-1 §8.3 rule 6: a requester takes both forms of an accepted request's
/// answer: the stream ended without a frame, and one frame holding the
/// message that answers it (here an InstructionStatus), checked as any
/// received message is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_takes_an_answer_frame_as_well_as_an_acknowledgement() {
    let net = identity("forms");
    let status = unsigned_from("valid/05-status-accepted.json", "relay.one", "gw.xnys")
        .sign(&net.node("relay.one").unwrap().signing_key);
    let replier = Arc::new(Replier {
        reply: status.clone(),
        seen: Mutex::new(0),
    });
    let answering = endpoint(&net, "relay.one", replier.clone());
    let client = endpoint(&net, "gw.xnys", Arc::new(Recorder::default()));
    let sent = instruction(&net, "gw.xnys", "relay.one");
    match client
        .request(answering.local_addr().unwrap(), &sent)
        .await
        .unwrap()
    {
        Delivered::Answer(checked) => {
            assert_eq!(checked.message, status);
            assert!(matches!(checked.message.body, Body::InstructionStatus(_)));
        }
        Delivered::Acknowledged => panic!("the answer frame was lost"),
    }
    assert_eq!(*replier.seen.lock().unwrap(), 1);
    drop(answering);
    let acknowledging = endpoint(&net, "relay.one", Arc::new(Recorder::default()));
    let client = endpoint(&net, "gw.xnys", Arc::new(Recorder::default()));
    let sent = instruction(&net, "gw.xnys", "relay.one");
    assert_eq!(
        client
            .request(acknowledging.local_addr().unwrap(), &sent)
            .await
            .unwrap(),
        Delivered::Acknowledged
    );
}

/// ISM-1 §8.2 rule 2 and §8.7 rule 1: a node does not send a message whose
/// frame would exceed 1 048 576 bytes (here a Batch carrying too much):
/// the request fails with `FRAME_TOO_LARGE` before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_sends_no_frame_over_the_limit() {
    let net = identity("oversize");
    let recorder = Arc::new(Recorder::default());
    let server = endpoint(&net, "relay.one", recorder.clone());
    let client = endpoint(&net, "gw.xnys", Arc::new(Recorder::default()));
    let carried: Vec<Envelope> = (0..1300)
        .map(|_| {
            unsigned_from(
                "valid/01-instruction-deliver-against-payment-usd.json",
                "gw.xnys",
                "relay.one",
            )
        })
        .collect();
    let batch = Envelope::new(
        fresh_id(),
        NodeId::parse("gw.xnys").unwrap(),
        relay_id(),
        isthmus_spec::time::Timestamp::from_unix_millis(1_800_000_000_000).unwrap(),
        Body::Batch(isthmus_spec::body::Batch { messages: carried }),
    )
    .sign(&net.node("gw.xnys").unwrap().signing_key);
    assert!(batch.to_canonical_bytes().len() > MAX_MESSAGE_BYTES);
    match client.request(server.local_addr().unwrap(), &batch).await {
        Err(SendError::Frame(rejection)) => assert_eq!(rejection.code, ReasonCode::FrameTooLarge),
        other => panic!("expected the frame refused before sending, got {other:?}"),
    }
    assert_eq!(recorder.count(), 0);
    assert_eq!(server.counts().handed_over, 0);
    assert!(
        server.counts().refused.is_empty(),
        "nothing reached the server"
    );
}

struct Raw {
    net: NetworkIdentity,
    server: Endpoint,
    recorder: Arc<Recorder>,
    addr: SocketAddr,
    connection: quinn::Connection,
}

async fn raw() -> Raw {
    let net = identity("raw");
    let recorder = Arc::new(Recorder::default());
    let server = endpoint(&net, "relay.one", recorder.clone());
    let addr = server.local_addr().unwrap();
    let probe = Probe::new(
        &tls_of(&net, &net.ca_certificate_pem, "gw.xnys"),
        &pin_of(&net.membership, "relay.one"),
        None,
    )
    .unwrap();
    let connection = probe.connect(addr, &relay_id()).await.unwrap();
    // The probe's endpoint may go: the connection keeps its own.
    Raw {
        net,
        server,
        recorder,
        addr,
        connection,
    }
}

impl Raw {
    /// Writes `bytes` on a new stream *without ending it*, and returns what
    /// the node wrote back before ending its side, and the code it stopped
    /// our side with.
    async fn unfinished(&self, bytes: &[u8]) -> (Vec<u8>, Option<quinn::VarInt>) {
        tokio::time::timeout(HANG, async {
            let (mut send, mut recv) = self.connection.open_bi().await.unwrap();
            send.write_all(bytes).await.unwrap();
            let answer = recv.read_to_end(4 + MAX_MESSAGE_BYTES).await.unwrap();
            let stopped = send.stopped().await.unwrap();
            (answer, stopped)
        })
        .await
        .expect("the node answered a stream that had not ended")
    }

    fn error_in(&self, answer: &[u8]) -> (ReasonCode, Option<String>) {
        // Exactly one frame (ISM-1 §8.3 rule 3).
        let length = u32::from_be_bytes(answer[..4].try_into().unwrap()) as usize;
        assert_eq!(answer.len(), 4 + length, "one frame and nothing after it");
        probe::error_in(
            answer,
            &relay_id(),
            &NodeId::parse("gw.xnys").unwrap(),
            &self.net.membership,
        )
        .unwrap()
    }

    fn refused(&self, code: ReasonCode) -> u64 {
        self.server
            .counts()
            .refused
            .get(code.as_str())
            .copied()
            .unwrap_or(0)
    }

    /// A valid request on a stream of its own is acknowledged and handled.
    async fn still_serves(&self) {
        let before = self.recorder.count();
        let frame = probe::framed(&instruction(&self.net, "gw.xnys", "relay.one")).unwrap();
        let answer = tokio::time::timeout(HANG, async {
            let (mut send, mut recv) = self.connection.open_bi().await.unwrap();
            send.write_all(&frame).await.unwrap();
            send.finish().unwrap();
            recv.read_to_end(4 + MAX_MESSAGE_BYTES).await.unwrap()
        })
        .await
        .unwrap();
        assert!(answer.is_empty(), "acknowledged");
        assert_eq!(self.recorder.count(), before + 1);
    }
}

/// ISM-1 §8.2 rule 3, §8.5 and §8.4 rule 8: a prefix over 1 048 576 is
/// refused with `FRAME_TOO_LARGE` on the four bytes alone, before the
/// stream ends and with no payload sent; the node then stops reading it
/// (STOP_SENDING `ISM_STREAM_REFUSED`), counts the refusal by its code,
/// and acts on nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_prefix_is_refused_before_the_stream_ends_and_the_stream_stopped() {
    let r = raw().await;
    let prefix = ((MAX_MESSAGE_BYTES + 1) as u32).to_be_bytes();
    let (answer, stopped) = r.unfinished(&prefix).await;
    assert_eq!(r.error_in(&answer), (ReasonCode::FrameTooLarge, None));
    assert_eq!(stopped, Some(AppCode::StreamRefused.var_int()));
    assert_eq!(r.refused(ReasonCode::FrameTooLarge), 1);
    assert_eq!(r.recorder.count(), 0);
    r.still_serves().await;
    let _ = r.addr;
}

/// ISM-1 §8.3 rule 4 and §8.5: bytes after the first frame are refused with
/// `FRAME_EXTRA` as soon as one arrives, before the stream ends; the node
/// stops reading (STOP_SENDING `ISM_STREAM_REFUSED`) and does not act on
/// the first frame either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_after_the_frame_are_refused_before_the_stream_ends_and_the_stream_stopped() {
    let r = raw().await;
    let mut bytes = probe::framed(&instruction(&r.net, "gw.xnys", "relay.one")).unwrap();
    bytes.push(0);
    let (answer, stopped) = r.unfinished(&bytes).await;
    assert_eq!(r.error_in(&answer), (ReasonCode::FrameExtra, None));
    assert_eq!(stopped, Some(AppCode::StreamRefused.var_int()));
    assert_eq!(r.refused(ReasonCode::FrameExtra), 1);
    assert_eq!(r.recorder.count(), 0, "the first frame was not acted on");
    r.still_serves().await;
}

/// ISM-1 §8.3 rule 4: a complete frame is not acted on while its stream's
/// sending side is open, although a later request on another stream of the
/// same connection is served; once the side ends, it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_not_acted_on_before_its_stream_ends() {
    let r = raw().await;
    let held = instruction(&r.net, "gw.xnys", "relay.one");
    let (mut send, mut recv) = r.connection.open_bi().await.unwrap();
    send.write_all(&probe::framed(&held).unwrap())
        .await
        .unwrap();
    // Another request, sent after it, is served first.
    r.still_serves().await;
    {
        let seen = r.recorder.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_ne!(
            seen[0].checked.message.id, held.id,
            "acted on before its FIN"
        );
    }
    send.finish().unwrap();
    let answer = tokio::time::timeout(HANG, recv.read_to_end(4 + MAX_MESSAGE_BYTES))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.is_empty(), "acknowledged once ended");
    let seen = r.recorder.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].checked.message.id, held.id);
}

// ---------------------------------------------------------------- §8.5, §8.6

/// The rows of the table after `heading` in ISM-1.md, as cells.
fn table_after(heading: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(repository().join("specs/ISM-1.md")).unwrap();
    let start = text.find(heading).unwrap();
    text[start..]
        .lines()
        .skip(1)
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

/// ISM-1 §8.5: the transport's application error codes are exactly the
/// table's, with its values and names.
#[test]
fn the_application_error_codes_are_the_tables() {
    let rows = table_after("### 8.5 QUIC application error codes");
    let table: Vec<(u64, String)> = rows
        .iter()
        .map(|row| {
            let value = u64::from_str_radix(row[0].trim_start_matches("0x"), 16).unwrap();
            (value, row[1].clone())
        })
        .collect();
    let ours: Vec<(u64, String)> = AppCode::ALL
        .iter()
        .map(|code| (u64::from(code.value()), code.name().to_string()))
        .collect();
    assert_eq!(ours, table);
    for (value, _) in &table {
        assert_eq!(
            AppCode::from_value(*value).map(|c| u64::from(c.value())),
            Some(*value)
        );
    }
    assert_eq!(AppCode::from_value(0x6), None);
}

/// ISM-1 §8.6: a node's default limits are at least the table's (and the
/// frame limit exactly 1 048 576, which no node may exceed, §8.2 rule 1).
#[test]
fn the_default_limits_are_at_least_the_tables() {
    let rows = table_after("### 8.6 Limits");
    let at_least = |limit: &str| -> u64 {
        let row = rows
            .iter()
            .find(|row| row[0].starts_with(limit))
            .unwrap_or_else(|| panic!("no row {limit}"));
        row[1]
            .split_whitespace()
            .take_while(|word| word.chars().all(|c| c.is_ascii_digit()))
            .collect::<String>()
            .parse()
            .unwrap()
    };
    let limits = Limits::default();
    assert!(limits.connections_per_peer as u64 >= at_least("Connections per peer"));
    assert!(limits.handshakes_in_progress as u64 >= at_least("Handshakes in progress"));
    assert!(u64::from(limits.open_streams_per_connection) >= at_least("Bidirectional streams"));
    assert_eq!(at_least("Unidirectional streams"), 0);
    assert_eq!(limits.frame_payload_bytes as u64, at_least("Frame payload"));
    assert_eq!(limits.frame_payload_bytes, 1_048_576);
    assert!(limits.request_timeout_ms >= at_least("Time from a stream"));
    assert!(limits.idle_timeout_ms >= at_least("Idle time"));
}

// ---------------------------------------------------------------- §8.1 rules 1 and 7

/// ISM-1 §8.1 rule 1: a node speaks QUIC version 1 alone. A client that
/// opens with the draft-29 version gets Version Negotiation, and nothing it
/// sent is handled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_quic_versions_other_than_1() {
    let net = identity("versions");
    let recorder = Arc::new(Recorder::default());
    let server = endpoint(&net, "relay.one", recorder.clone());
    let addr = server.local_addr().unwrap();
    let membership = &net.membership;
    let gateway = tls_of(&net, &net.ca_certificate_pem, "gw.xnys");
    let mut client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    for (version, refused) in [
        (0xff00_001d_u32, true),
        (isthmus_transport::endpoint::QUIC_V1, false),
    ] {
        let mut config = gateway
            .client_config(&pin_of(membership, "relay.one"), &Limits::default())
            .unwrap();
        config.version(version);
        client.set_default_client_config(config);
        let outcome = tokio::time::timeout(HANG, client.connect(addr, "relay.one").unwrap())
            .await
            .expect("the handshake ends");
        if refused {
            assert!(
                matches!(outcome, Err(ConnectionError::VersionMismatch)),
                "version {version:#x}: {outcome:?}"
            );
        } else {
            assert!(outcome.is_ok(), "version 1: {outcome:?}");
        }
    }
    assert_eq!(recorder.count(), 0);
}

/// ISM-1 §8.1 rule 7, the client's side: against a server that completes
/// its side of the handshake without selecting any ALPN identifier, the
/// node's client ends the connection before opening a stream — with
/// `no_application_protocol` (CRYPTO_ERROR 0x0178) as RFC 9001 §8.1 has a
/// QUIC client do, or with `ISM_ALPN` — and does not count its request as
/// delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_server_selects_no_alpn_ends_the_connection_unused() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let net = identity("no-alpn");
    let relay = net.node("relay.one").unwrap();
    let chain = CertificateDer::pem_slice_iter(relay.certificate_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(relay.tls_key_pem.as_bytes()).unwrap();
    // No alpn_protocols: this server selects nothing, whatever is offered.
    let tls = rustls::ServerConfig::builder_with_provider(isthmus_transport::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls).unwrap();
    let server = quinn::Endpoint::server(
        quinn::ServerConfig::with_crypto(Arc::new(crypto)),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let client = endpoint(&net, "gw.xnys", Arc::new(Recorder::default()));
    let sent = instruction(&net, "gw.xnys", "relay.one");
    let request = {
        let client = client.clone();
        tokio::spawn(async move { client.request(addr, &sent).await })
    };
    let served = tokio::time::timeout(HANG, async {
        let incoming = server.accept().await.expect("the client connects");
        match incoming.await {
            Err(error) => error,
            Ok(connection) => match connection.accept_bi().await {
                Err(error) => error,
                Ok(_) => panic!("the client opened a stream without ism/1"),
            },
        }
    })
    .await
    .expect("the connection ends");
    let code = match &served {
        ConnectionError::ApplicationClosed(close) => Some(close.error_code.into_inner()),
        other => transport_close_code(other),
    };
    assert!(
        code == Some(0x0178) || code == Some(AppCode::Alpn.var_int().into_inner()),
        "{served:?}"
    );
    let outcome = tokio::time::timeout(HANG, request)
        .await
        .expect("the request ends")
        .unwrap();
    assert!(outcome.is_err(), "{outcome:?}");
}
