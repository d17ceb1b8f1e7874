//! Level `core`: messages and transport (ISM-1 §5, §8). Every scenario
//! talks to the target as a member would, or as a broken or hostile peer,
//! and reads its answers with the receiver duties of §8.4.

use std::time::Duration;

use serde_json::{json, Value};

use isthmus_spec::frame::encode_frame;
use isthmus_spec::limits::MAX_MESSAGE_BYTES;
use isthmus_spec::membership::Role as MemberRole;
use isthmus_spec::sign::SigningKey;
use isthmus_spec::Envelope;
use isthmus_transport::probe::ProbeError;
use isthmus_transport::quinn::ConnectionError;
use isthmus_transport::AppCode;

use super::{Check, Ran, Scenario};
use crate::catalogue::{Level, Role, Strength};
use crate::harness::{describe, Answered, Harness, Transcript};
use crate::report::Failure;

const HANDSHAKE: &str = "ism1/8.1/1-handshake";
const AFTER_HANDSHAKE: &[&str] = &[HANDSHAKE];
const SIGNATURE_INVALID: &str = "ism1/8.4/5-signature-invalid";
const REPLAY_OTHER_BYTES: &str = "ism1/8.4/6-replay-other-bytes";
/// A Batch's refusal for its signature presumes the signature check.
const AFTER_SIGNATURE_CHECK: &[&str] = &[HANDSHAKE, SIGNATURE_INVALID];
/// That carried ids are used presumes that used ids are refused.
const AFTER_REPLAY_CHECK: &[&str] = &[HANDSHAKE, REPLAY_OTHER_BYTES];
/// `no_application_protocol` (120) as QUIC's CRYPTO_ERROR (RFC 9001 §8.1).
const CRYPTO_NO_APPLICATION_PROTOCOL: u64 = 0x0178;
/// A frame's largest payload (ISM-1 §8.2 rule 1).
const MAX_FRAME: usize = 1_048_576;

macro_rules! scenario {
    ($id:expr, $clause:expr, $strength:ident, $feature:expr, $after:expr, $title:expr, $body:ident) => {
        Scenario {
            id: $id,
            clause: $clause,
            strength: Strength::$strength,
            level: Level::Core,
            roles: Role::BOTH,
            feature: $feature,
            title: $title,
            after: $after,
            run: |h, t| -> Check<'_> { Box::pin($body(h, t)) },
        }
    };
}

/// The core scenarios, in the order they run.
pub static SCENARIOS: [Scenario; 27] = [
    scenario!(HANDSHAKE, "ISM-1 §8.1 rules 1–3, §8.3 rule 6", Must, None, &[],
        "a member with the network's certificate, offering ALPN ism/1, is served", handshake),
    scenario!("ism1/8.1/1-quic-version-1", "ISM-1 §8.1 rule 1", Must, None, AFTER_HANDSHAKE,
        "a client opening with QUIC draft 29 or draft 34 gets Version Negotiation, not a connection", quic_version_1),
    scenario!("ism1/8.1/7-alpn-refused", "ISM-1 §8.1 rules 2 and 7", Must, None, AFTER_HANDSHAKE,
        "a client offering no ALPN, h3 or ism/2 fails the handshake with no_application_protocol (0x0178)", alpn_refused),
    scenario!("ism1/8.1/8-certificate-refused", "ISM-1 §8.1 rules 3 and 8", Must, None, AFTER_HANDSHAKE,
        "a client certificate of another CA fails the handshake with a CRYPTO_ERROR; nothing it sends is answered", certificate_refused),
    scenario!("ism1/8.1/10-peer-unknown", "ISM-1 §8.1 rules 5 and 10", Must, None, AFTER_HANDSHAKE,
        "a certificate of the network's CA that matches no member is closed with ISM_PEER_UNKNOWN, unread", peer_unknown),
    scenario!("ism1/8.1/6-observer-sends-errors-only", "ISM-1 §8.1 rule 6, §8.4 step 3", Must, Some("observer"), AFTER_HANDSHAKE,
        "an observer's SettlementInstruction is refused with ROLE_FORBIDDEN at kind", observer_errors_only),
    scenario!("ism1/8.2/1-empty-frame", "ISM-1 §8.2 rule 1", Must, None, AFTER_HANDSHAKE,
        "a frame of length 0 is refused with MALFORMED_JSON", empty_frame),
    scenario!("ism1/8.2/3-frame-too-large", "ISM-1 §8.2 rule 3", Must, None, AFTER_HANDSHAKE,
        "a length prefix over 1 048 576 is refused with FRAME_TOO_LARGE", frame_too_large),
    scenario!("ism1/8.2/4-frame-truncated", "ISM-1 §8.2 rule 4", Must, None, AFTER_HANDSHAKE,
        "a stream ending inside the prefix or the payload is refused with FRAME_TRUNCATED", frame_truncated),
    scenario!("ism1/8.3/4-frame-extra", "ISM-1 §8.3 rule 4", Must, None, AFTER_HANDSHAKE,
        "bytes after the first frame are refused with FRAME_EXTRA and the first frame is not acted on", frame_extra),
    scenario!("ism1/8.3/5-frame-missing", "ISM-1 §8.3 rule 5", Must, None, AFTER_HANDSHAKE,
        "a stream ending with no byte is refused with FRAME_MISSING, without related_message_id", frame_missing),
    scenario!("ism1/8.3/8-unidirectional-refused", "ISM-1 §8.3 rule 8", Must, None, AFTER_HANDSHAKE,
        "a unidirectional stream is stopped with ISM_STREAM_REFUSED", unidirectional_refused),
    scenario!("ism1/8.4/2-decoding-vectors", "ISM-1 §8.4 step 2, §5.3, §10.4", Must, None, AFTER_HANDSHAKE,
        "every invalid vector refused while decoding is answered over QUIC with its code and path", decoding_vectors),
    scenario!("ism1/8.4/3-peer-sender", "ISM-1 §8.4 step 3", Must, None, AFTER_HANDSHAKE,
        "a message whose sender is another member than the connection's is refused with PEER_UNKNOWN at sender", peer_sender),
    scenario!("ism1/8.4/4-receiver-mismatch", "ISM-1 §8.4 step 4", Must, None, AFTER_HANDSHAKE,
        "a message addressed to another node is refused with RECEIVER_MISMATCH at receiver", receiver_mismatch),
    scenario!("ism1/8.4/5-signature-missing", "ISM-1 §8.4 step 5, §7.3", Must, None, AFTER_HANDSHAKE,
        "an unsigned message is refused with SIGNATURE_MISSING", signature_missing),
    scenario!("ism1/8.4/5-key-unknown", "ISM-1 §8.4 step 5, §7.3", Must, None, AFTER_HANDSHAKE,
        "a message signed with a key the sender's member entry does not list is refused with KEY_UNKNOWN", key_unknown),
    scenario!(SIGNATURE_INVALID, "ISM-1 §8.4 step 5, §7.3", Must, None, AFTER_HANDSHAKE,
        "a message altered after signing is refused with SIGNATURE_INVALID", signature_invalid),
    scenario!("ism1/8.4/1-order-of-duties", "ISM-1 §8.4 steps 1–5", Must, None, AFTER_HANDSHAKE,
        "with several defects the first duty in order decides: decoding before peer, peer before addressee, addressee before signature", order_of_duties),
    scenario!("ism1/8.4/6-replay-same-bytes", "ISM-1 §8.4 step 6", Must, None, AFTER_HANDSHAKE,
        "the same message twice gets the same answer again (or MESSAGE_REPLAYED), and is acted on once", replay_same_bytes),
    scenario!(REPLAY_OTHER_BYTES, "ISM-1 §8.4 step 6", Must, None, AFTER_HANDSHAKE,
        "another message under a used id is refused with MESSAGE_REPLAYED at id", replay_other_bytes),
    scenario!("ism1/8.4/7-no-error-for-error", "ISM-1 §8.4 rule 7", Must, None, AFTER_HANDSHAKE,
        "an Error that is refused (unsigned, or to another node) gets no Error: its stream ends without a frame", no_error_for_error),
    scenario!("ism1/8.4/9-keeps-serving", "ISM-1 §8.4 rule 9", Must, None, AFTER_HANDSHAKE,
        "after a burst of garbage, oversize, empty and unidirectional streams, a member is still served", keeps_serving),
    scenario!("ism1/8.7/2-batch-refused-whole", "ISM-1 §8.7 rule 2", Must, Some("batch"), AFTER_SIGNATURE_CHECK,
        "a Batch whose signature fails is refused whole with one Error related to its id, and nothing it carries is acted on", batch_refused_whole),
    scenario!("ism1/8.7/5-batch-accepted", "ISM-1 §8.7 rules 3 and 5", Must, Some("batch"), AFTER_REPLAY_CHECK,
        "a Batch of two acceptable messages is accepted, and each carried message is then a used id", batch_accepted),
    scenario!("ism1/8.2/2-canonical-answers", "ISM-1 §8.2 rule 2", Should, None, AFTER_HANDSHAKE,
        "the target writes its answers in canonical form (RFC 8785), signature included", canonical_answers),
    scenario!("ism1/8.6/1-connections-per-peer", "ISM-1 §8.6", Should, None, AFTER_HANDSHAKE,
        "a peer may hold at least 4 connections at once; beyond the target's limit the newest are closed with ISM_EXCESSIVE_LOAD", connections_per_peer),
];

fn framed(message: &Envelope) -> Result<Vec<u8>, Failure> {
    encode_frame(&message.to_canonical_bytes())
        .map_err(|r| Failure::new("a message the suite can frame", r.to_string()))
}

fn framed_value(value: &Value) -> Result<Vec<u8>, Failure> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| Failure::new("a message the suite can encode", e.to_string()))?;
    encode_frame(&bytes).map_err(|r| Failure::new("a message the suite can frame", r.to_string()))
}

/// `message`'s JSON with `body.quantity` changed: another message.
fn altered(message: &Envelope) -> Value {
    let mut value = message.to_json();
    value["body"]["quantity"] = json!("1001");
    value
}

fn accepted(answered: &Answered, transcript: &Transcript, what: &str) -> Result<(), Failure> {
    match answered {
        Answered::Acknowledged => Ok(()),
        Answered::Message(message, _) if !matches!(message.body, isthmus_spec::Body::Error(_)) => {
            Ok(())
        }
        Answered::Message(message, _) => Err(transcript.fail(
            format!("{what} accepted (ISM-1 §8.3 rule 6)"),
            describe(message),
        )),
        Answered::Unreadable(why) => Err(transcript.fail(format!("{what} accepted"), why.clone())),
    }
}

async fn handshake(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    h.serves(t).await?;
    Ok(Ran::Passed)
}

async fn quic_version_1(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    for (version, name) in [(0xff00_001d_u32, "draft 29"), (0xff00_0022, "draft 34")] {
        t.sent(format!("a handshake in QUIC {name} ({version:#010x})"));
        let probe = isthmus_transport::probe::Probe::with_quic_version(
            h.tls_of(h.primary()),
            h.target_pin(),
            version,
        )
        .map_err(|e| Failure::new("the suite's probe", e.to_string()))?;
        match probe.connect(h.target.addr, &h.target.id).await {
            Err(ProbeError::Closed(ConnectionError::VersionMismatch)) => {
                t.received("Version Negotiation: the version is not spoken");
            }
            Err(other) => {
                return Err(t.fail(format!("Version Negotiation for {name}"), other.to_string()))
            }
            Ok(connection) => {
                connection.close(AppCode::NoError.var_int(), b"");
                return Err(t.fail(
                    format!("Version Negotiation for {name}"),
                    format!("a connection in QUIC {name}"),
                ));
            }
        }
    }
    Ok(Ran::Passed)
}

async fn alpn_refused(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    for offered in [vec![], vec![b"h3".to_vec()], vec![b"ism/2".to_vec()]] {
        let names: Vec<String> = offered
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let label = if names.is_empty() {
            "no ALPN".to_string()
        } else {
            format!("ALPN {}", names.join(","))
        };
        t.sent(format!("a handshake offering {label}"));
        let probe = h.probe_with(None, Some(offered))?;
        match probe.connect(h.target.addr, &h.target.id).await {
            Err(ProbeError::Closed(ConnectionError::ConnectionClosed(close)))
                if u64::from(close.error_code) == CRYPTO_NO_APPLICATION_PROTOCOL =>
            {
                t.received("the handshake failed with no_application_protocol");
            }
            Err(other) => {
                return Err(t.fail(
                    "the handshake failed with CRYPTO_ERROR 0x0178 (no_application_protocol)",
                    other.to_string(),
                ))
            }
            Ok(connection) => {
                connection.close(AppCode::NoError.var_int(), b"");
                return Err(t.fail(
                    "the handshake failed with CRYPTO_ERROR 0x0178 (no_application_protocol)",
                    format!("the handshake offering {label} completed"),
                ));
            }
        }
    }
    Ok(Ran::Passed)
}

fn is_crypto_error(error: &ConnectionError) -> bool {
    match error {
        ConnectionError::ConnectionClosed(close) => {
            (0x0100..0x0200).contains(&u64::from(close.error_code))
        }
        _ => false,
    }
}

async fn certificate_refused(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let foreign = match h.network.foreign() {
        Ok(Some(foreign)) => foreign,
        Ok(None) => {
            return Ok(Ran::CannotRun(
                "the network directory has no conformance/foreign certificate: make the network with `isthmus keys init --conformance`".into(),
            ))
        }
        Err(error) => return Err(Failure::new("the network's foreign certificate", error.to_string())),
    };
    let probe = h.probe_with(Some(&foreign), None)?;
    let frame = framed(&h.acceptable(h.primary())?)?;
    t.sent("a handshake with a certificate of another CA, then a valid request");
    let expected = "the handshake failed with a CRYPTO_ERROR (0x0100 + the TLS alert)";
    let connection = match probe.connect(h.target.addr, &h.target.id).await {
        Err(ProbeError::Closed(error)) if is_crypto_error(&error) => {
            t.received(format!("the handshake failed: {error}"));
            return Ok(Ran::Passed);
        }
        Err(other) => return Err(t.fail(expected, other.to_string())),
        Ok(connection) => connection,
    };
    // TLS 1.3: the client's side of the handshake completes before the
    // server has checked its certificate (ISM-1 §8.1 rule 8).
    let wait = h.options.answer_wait;
    let served = tokio::time::timeout(wait, async {
        if let Ok((mut send, mut recv)) = connection.open_bi().await {
            if send.write_all(&frame).await.is_ok() && send.finish().is_ok() {
                if let Ok(bytes) = recv.read_to_end(4 + MAX_MESSAGE_BYTES).await {
                    return Some(bytes);
                }
            }
        }
        None
    })
    .await;
    if let Ok(Some(bytes)) = served {
        return Err(t.fail(
            expected,
            format!(
                "the target answered the request ({} bytes): it served a peer another CA certified",
                bytes.len()
            ),
        ));
    }
    match tokio::time::timeout(wait, connection.closed()).await {
        Ok(error) if is_crypto_error(&error) => {
            t.received(format!("the connection closed: {error}"));
            Ok(Ran::Passed)
        }
        Ok(error) => Err(t.fail(
            expected,
            format!("the connection closed otherwise: {error}"),
        )),
        Err(_) => Err(t.fail(expected, format!("the connection stayed open for {wait:?}"))),
    }
}

async fn peer_unknown(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let stranger = match h.network.stranger() {
        Ok(Some(stranger)) => stranger,
        Ok(None) => {
            return Ok(Ran::CannotRun(
                "the network directory has no conformance/stranger: make the network with `isthmus keys init --conformance`".into(),
            ))
        }
        Err(error) => return Err(Failure::new("the network's stranger", error.to_string())),
    };
    let probe = h.probe_with(Some(&stranger.tls), None)?;
    t.sent(format!(
        "a handshake as {}, certified by the network's CA but no member",
        stranger.id
    ));
    let expected = "the connection closed with ISM_PEER_UNKNOWN";
    let peer_unknown = |error: &ConnectionError| match error {
        ConnectionError::ApplicationClosed(close) => {
            close.error_code == AppCode::PeerUnknown.var_int()
        }
        _ => false,
    };
    let error = match probe.connect(h.target.addr, &h.target.id).await {
        Err(ProbeError::Closed(error)) => error,
        Err(other) => return Err(t.fail(expected, other.to_string())),
        Ok(connection) => {
            let wait = h.options.answer_wait;
            match tokio::time::timeout(wait, connection.closed()).await {
                Ok(error) => error,
                Err(_) => {
                    return Err(t.fail(expected, format!("the connection stayed open for {wait:?}")))
                }
            }
        }
    };
    t.received(format!("the connection closed: {error}"));
    if peer_unknown(&error) {
        Ok(Ran::Passed)
    } else {
        Err(t.fail(expected, error.to_string()))
    }
}

async fn observer_errors_only(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let Some(observer) = h
        .network
        .members(MemberRole::Observer)
        .into_iter()
        .next()
        .cloned()
    else {
        return Ok(Ran::CannotRun("the membership has no observer".into()));
    };
    let keys = match h.network.keys(&observer.node_id) {
        Ok(keys) => keys,
        Err(error) => {
            return Ok(Ran::CannotRun(format!(
                "the network directory has no keys for the observer {}: {error}",
                observer.node_id
            )))
        }
    };
    let value = h.envelope_json(
        &observer.node_id,
        &h.target.id,
        "SettlementInstruction",
        crate::fixtures::instruction(&h.reference(), None),
    );
    let message = h.sign_with(&keys.signing_key, &value)?;
    let probe = h.probe_with(Some(&keys.tls), None)?;
    let answer = h
        .raw_with(
            &probe,
            &observer.node_id,
            &framed(&message)?,
            &describe(&message),
            t,
        )
        .await?;
    h.expect_error(
        &answer,
        "ROLE_FORBIDDEN",
        Some("kind"),
        Some(&message.id),
        t,
    )?;
    Ok(Ran::Passed)
}

async fn empty_frame(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let answer = h
        .raw(h.primary(), &[0, 0, 0, 0], "a frame of length 0", t)
        .await?;
    h.expect_error(&answer, "MALFORMED_JSON", None, None, t)?;
    Ok(Ran::Passed)
}

async fn frame_too_large(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let prefix = ((MAX_FRAME + 1) as u32).to_be_bytes();
    let answer = h
        .raw(
            h.primary(),
            &prefix,
            "a length prefix of 1 048 577 and no payload",
            t,
        )
        .await?;
    h.expect_error(&answer, "FRAME_TOO_LARGE", None, None, t)?;
    Ok(Ran::Passed)
}

async fn frame_truncated(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let answer = h
        .raw(h.primary(), &[0, 0], "two bytes of a length prefix", t)
        .await?;
    h.expect_error(&answer, "FRAME_TRUNCATED", None, None, t)?;
    let frame = framed(&h.acceptable(h.primary())?)?;
    let answer = h
        .raw(
            h.primary(),
            &frame[..frame.len() - 3],
            "a frame without its last 3 bytes",
            t,
        )
        .await?;
    h.expect_error(&answer, "FRAME_TRUNCATED", None, None, t)?;
    Ok(Ran::Passed)
}

async fn frame_extra(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let first = h.acceptable(h.primary())?;
    let mut bytes = framed(&first)?;
    bytes.extend_from_slice(&framed(&h.acceptable(h.primary())?)?);
    let answer = h
        .raw(h.primary(), &bytes, "two frames on one stream", t)
        .await?;
    h.expect_error(&answer, "FRAME_EXTRA", None, None, t)?;
    let mut bytes = framed(&h.acceptable(h.primary())?)?;
    bytes.extend_from_slice(&[0, 0]);
    let answer = h
        .raw(h.primary(), &bytes, "a frame and two more bytes", t)
        .await?;
    h.expect_error(&answer, "FRAME_EXTRA", None, None, t)?;
    // Had the first frame been acted on, its id would be used: another
    // message under it would be a replay.
    let other = h.signed(h.primary(), &altered(&first))?;
    let answer = h.request(h.primary(), &other, t).await?;
    accepted(
        &answer,
        t,
        "a message under the id of the refused stream's first frame (never acted on)",
    )?;
    Ok(Ran::Passed)
}

async fn frame_missing(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let answer = h
        .raw(h.primary(), &[], "a stream ended with no byte", t)
        .await?;
    h.expect_error(&answer, "FRAME_MISSING", None, None, t)?;
    if let Answered::Message(message, _) = &answer {
        if let isthmus_spec::Body::Error(error) = &message.body {
            if let Some(related) = &error.related_message_id {
                return Err(t.fail(
                    "an Error without related_message_id",
                    format!("related_message_id {related}"),
                ));
            }
        }
    }
    Ok(Ran::Passed)
}

async fn unidirectional_refused(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let expected = "the stream stopped with ISM_STREAM_REFUSED";
    let connection = h
        .probe(h.primary())
        .connect(h.target.addr, &h.target.id)
        .await
        .map_err(|e| t.fail("a connection", e.to_string()))?;
    let frame = framed(&h.acceptable(h.primary())?)?;
    t.sent("a unidirectional stream carrying a valid frame");
    let wait = h.options.answer_wait;
    // A node that grants no unidirectional stream credit (MAX_STREAMS 0,
    // ISM-1 §8.6) lets none be opened at all: that refuses them too.
    let credit = Duration::from_millis(1_500);
    let mut send = match tokio::time::timeout(credit, connection.open_uni()).await {
        Err(_) => {
            t.received(format!(
                "no unidirectional stream credit within {credit:?} (MAX_STREAMS 0)"
            ));
            connection.close(AppCode::NoError.var_int(), b"");
            return Ok(Ran::Passed);
        }
        Ok(Err(error)) => return Err(t.fail(expected, error.to_string())),
        Ok(Ok(send)) => send,
    };
    let outcome = tokio::time::timeout(wait, async {
        if let Err(isthmus_transport::quinn::WriteError::Stopped(code)) =
            send.write_all(&frame).await
        {
            return Ok(Some(code));
        }
        let _ = send.finish();
        send.stopped().await.map_err(|e| e.to_string())
    })
    .await;
    connection.close(AppCode::NoError.var_int(), b"");
    match outcome {
        Ok(Ok(Some(code))) if code == AppCode::StreamRefused.var_int() => {
            t.received("STOP_SENDING ISM_STREAM_REFUSED");
            Ok(Ran::Passed)
        }
        Ok(Ok(Some(code))) => Err(t.fail(expected, format!("STOP_SENDING with code {code}"))),
        Ok(Ok(None)) => Err(t.fail(expected, "the target read the whole stream")),
        Ok(Err(error)) => Err(t.fail(expected, error)),
        Err(_) => Err(t.fail(expected, format!("nothing within {wait:?}"))),
    }
}

async fn decoding_vectors(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let Some(dir) = &h.options.vectors else {
        return Ok(Ran::CannotRun(
            "no vector directory: pass --vectors DIR (specs/vectors)".into(),
        ));
    };
    let vectors = crate::vectors::decoding_refusals(dir)
        .map_err(|e| Failure::new("the vector directory", e.to_string()))?;
    let mut sent = 0;
    for vector in vectors {
        let bytes = vector.input_bytes();
        if bytes.len() > MAX_FRAME {
            continue; // FRAME_TOO_LARGE, not the vector's code: §8.2.3 checks first
        }
        let isthmus_spec::vectors::Expectation::Invalid { reason, field } = &vector.expect else {
            continue;
        };
        let frame = encode_frame(&bytes).map_err(|r| Failure::new("a frame", r.to_string()))?;
        let answer = h.raw(h.primary(), &frame, &vector.id, t).await?;
        // An Error's `field` is text of at least one character (§6.10,
        // §4.10): the empty path of an empty member name is carried as none.
        let field = field.as_deref().filter(|f| !f.is_empty());
        h.expect_error(&answer, reason, field, None, t)?;
        sent += 1;
    }
    if sent == 0 {
        return Err(Failure::new(
            "invalid vectors to send",
            format!("{} holds none refused while decoding", dir.display()),
        ));
    }
    t.received(format!("{sent} vectors refused with their codes"));
    Ok(Ran::Passed)
}

async fn peer_sender(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    // Sent over the primary's connection, signed by the secondary: only the
    // connection's peer is wrong.
    let value = h.acceptable_json(h.secondary());
    let message = h.signed(h.secondary(), &value)?;
    let answer = h
        .raw(h.primary(), &framed(&message)?, &describe(&message), t)
        .await?;
    h.expect_error(
        &answer,
        "PEER_UNKNOWN",
        Some("sender"),
        Some(&message.id),
        t,
    )?;
    Ok(Ran::Passed)
}

async fn receiver_mismatch(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let mut value = h.acceptable_json(h.primary());
    value["receiver"] = json!(h.secondary().id().as_str());
    let message = h.signed(h.primary(), &value)?;
    let answer = h
        .raw(h.primary(), &framed(&message)?, &describe(&message), t)
        .await?;
    h.expect_error(
        &answer,
        "RECEIVER_MISMATCH",
        Some("receiver"),
        Some(&message.id),
        t,
    )?;
    Ok(Ran::Passed)
}

async fn signature_missing(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let message = h.decoded(&h.acceptable_json(h.primary()))?;
    let answer = h
        .raw(
            h.primary(),
            &framed(&message)?,
            &format!("{} (unsigned)", describe(&message)),
            t,
        )
        .await?;
    h.expect_error(&answer, "SIGNATURE_MISSING", None, Some(&message.id), t)?;
    Ok(Ran::Passed)
}

async fn key_unknown(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let random = ring::rand::SystemRandom::new();
    let key = SigningKey::generate(&random)
        .map_err(|e| Failure::new("a fresh signing key", e.to_string()))?;
    let message = h.sign_with(&key, &h.acceptable_json(h.primary()))?;
    let answer = h
        .raw(
            h.primary(),
            &framed(&message)?,
            &format!("{} (signed with a key no member has)", describe(&message)),
            t,
        )
        .await?;
    h.expect_error(&answer, "KEY_UNKNOWN", None, Some(&message.id), t)?;
    Ok(Ran::Passed)
}

async fn signature_invalid(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let message = h.acceptable(h.primary())?;
    let value = altered(&message);
    let answer = h
        .raw(
            h.primary(),
            &framed_value(&value)?,
            &format!("{} (altered after signing)", describe(&message)),
            t,
        )
        .await?;
    h.expect_error(&answer, "SIGNATURE_INVALID", None, Some(&message.id), t)?;
    Ok(Ran::Passed)
}

async fn order_of_duties(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let primary = h.primary();
    let secondary = h.secondary();
    // Decoding before peer: the secondary's message with an unknown body member.
    let mut value = h.acceptable_json(secondary);
    value["body"]["conformance_extra"] = json!(1);
    let answer = h
        .raw(
            primary,
            &framed_value(&value)?,
            "another member's message with an unknown body member",
            t,
        )
        .await?;
    h.expect_error(&answer, "UNKNOWN_FIELD", None, None, t)?;
    // Peer before addressee: the secondary's message to the primary.
    let mut value = h.acceptable_json(secondary);
    value["receiver"] = json!(primary.id().as_str());
    let message = h.signed(secondary, &value)?;
    let answer = h
        .raw(
            primary,
            &framed(&message)?,
            &format!("{} (wrong peer and receiver)", describe(&message)),
            t,
        )
        .await?;
    h.expect_error(&answer, "PEER_UNKNOWN", Some("sender"), None, t)?;
    // Addressee before signature: unsigned, to the secondary.
    let mut value = h.acceptable_json(primary);
    value["receiver"] = json!(secondary.id().as_str());
    let message = h.decoded(&value)?;
    let answer = h
        .raw(
            primary,
            &framed(&message)?,
            &format!("{} (wrong receiver, unsigned)", describe(&message)),
            t,
        )
        .await?;
    h.expect_error(&answer, "RECEIVER_MISMATCH", Some("receiver"), None, t)?;
    Ok(Ran::Passed)
}

async fn replay_same_bytes(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let message = h.acceptable(h.primary())?;
    let first = h.request(h.primary(), &message, t).await?;
    accepted(&first, t, "the first request")?;
    let again = h.request(h.primary(), &message, t).await?;
    let replayed = h
        .expect_error(&again, "MESSAGE_REPLAYED", Some("id"), Some(&message.id), t)
        .is_ok();
    let same = match (&first, &again) {
        (Answered::Acknowledged, Answered::Acknowledged) => true,
        (Answered::Message(_, a), Answered::Message(_, b)) => a == b,
        _ => false,
    };
    if same || replayed {
        Ok(Ran::Passed)
    } else {
        Err(t.fail(
            "the first answer again, byte for byte, or MESSAGE_REPLAYED at id",
            "another answer",
        ))
    }
}

async fn replay_other_bytes(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let message = h.acceptable(h.primary())?;
    let first = h.request(h.primary(), &message, t).await?;
    accepted(&first, t, "the first request")?;
    let other = h.signed(h.primary(), &altered(&message))?;
    let answer = h.request(h.primary(), &other, t).await?;
    h.expect_error(
        &answer,
        "MESSAGE_REPLAYED",
        Some("id"),
        Some(&message.id),
        t,
    )?;
    Ok(Ran::Passed)
}

async fn no_error_for_error(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let body = json!({"code": "MALFORMED_JSON", "text": "A conformance probe: an Error no node may answer."});
    let unsigned =
        h.decoded(&h.envelope_json(h.primary().id(), &h.target.id, "Error", body.clone()))?;
    let mut value = h.envelope_json(h.primary().id(), &h.target.id, "Error", body);
    value["receiver"] = json!(h.secondary().id().as_str());
    let elsewhere = h.signed(h.primary(), &value)?;
    for (message, what) in [(unsigned, "unsigned"), (elsewhere, "to another node")] {
        let answer = h
            .raw(
                h.primary(),
                &framed(&message)?,
                &format!("{} ({what})", describe(&message)),
                t,
            )
            .await?;
        if !matches!(answer, Answered::Acknowledged) {
            return Err(t.fail("the stream ended without a frame", "a frame"));
        }
    }
    Ok(Ran::Passed)
}

async fn keeps_serving(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let random: [u8; 64] = h.random();
    let mut garbage = ((random.len() as u32).to_be_bytes()).to_vec();
    garbage.extend_from_slice(&random);
    let oversize = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
    for round in 0..4 {
        for (bytes, what) in [
            (garbage.clone(), "64 random bytes in a frame"),
            (oversize.clone(), "an oversize prefix"),
            (Vec::new(), "an empty stream"),
            (random[..7].to_vec(), "7 random bytes"),
        ] {
            // Each answer may be an Error or nothing; a node MAY also close
            // a connection that keeps sending refused input (§8.4 rule 9).
            let _ = h
                .raw(h.primary(), &bytes, &format!("{what} (round {round})"), t)
                .await;
        }
    }
    h.serves(t).await?;
    Ok(Ran::Passed)
}

fn batch_of(h: &Harness, carried: &[Value]) -> Value {
    let messages: Vec<Value> = carried.to_vec();
    h.envelope_json(
        h.primary().id(),
        &h.target.id,
        "Batch",
        json!({"messages": messages}),
    )
}

async fn batch_refused_whole(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let carried = [
        h.acceptable_json(h.primary()),
        h.acceptable_json(h.primary()),
    ];
    let batch = h.signed(h.primary(), &batch_of(h, &carried))?;
    let mut value = batch.to_json();
    value["body"]["messages"][1]["body"]["quantity"] = json!("1001");
    let answer = h
        .raw(
            h.primary(),
            &framed_value(&value)?,
            &format!("{} (altered after signing)", describe(&batch)),
            t,
        )
        .await?;
    h.expect_error(&answer, "SIGNATURE_INVALID", None, Some(&batch.id), t)?;
    // Nothing carried was acted on: each id is still free.
    for message in &carried {
        let alone = h.signed(h.primary(), message)?;
        let answer = h.request(h.primary(), &alone, t).await?;
        accepted(
            &answer,
            t,
            "a message the refused Batch carried, sent alone (its id never used)",
        )?;
    }
    Ok(Ran::Passed)
}

async fn batch_accepted(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let carried = [
        h.acceptable_json(h.primary()),
        h.acceptable_json(h.primary()),
    ];
    let batch = h.signed(h.primary(), &batch_of(h, &carried))?;
    let answer = h.request(h.primary(), &batch, t).await?;
    match &answer {
        Answered::Message(message, _) if matches!(message.body, isthmus_spec::Body::Batch(_)) => {
            return Err(t.fail(
                "the Batch accepted whole",
                format!("a Batch of refusals: {}", describe(message)),
            ))
        }
        _ => accepted(&answer, t, "the Batch")?,
    }
    // Each carried message was handled under its own id (§8.7 rule 3):
    // the same message alone, signed, has other bytes under a used id.
    let alone = h.signed(h.primary(), &carried[0])?;
    let answer = h.request(h.primary(), &alone, t).await?;
    let first_id = h.decoded(&carried[0])?.id;
    h.expect_error(&answer, "MESSAGE_REPLAYED", Some("id"), Some(&first_id), t)?;
    Ok(Ran::Passed)
}

async fn canonical_answers(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let answer = h
        .probe(h.primary())
        .raw_request(h.target.addr, &h.target.id, &[], h.options.answer_wait)
        .await
        .map_err(|e| t.fail("an answer", e.to_string()))?;
    t.sent("a stream ended with no byte");
    match h.read_answer(&answer, h.primary().id()) {
        Answered::Message(message, canonical) => {
            t.received(describe(&message));
            if answer.get(4..) == Some(canonical.as_slice()) {
                Ok(Ran::Passed)
            } else {
                Err(t.fail(
                    "the answer's payload in RFC 8785 canonical form",
                    format!(
                        "{} bytes that differ from the {} canonical bytes",
                        answer.len().saturating_sub(4),
                        canonical.len()
                    ),
                ))
            }
        }
        other => Err(t.fail("an Error", format!("{other:?}"))),
    }
}

async fn connections_per_peer(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    const OPENED: usize = 12;
    const AT_LEAST: usize = 4;
    let probe = h.probe_with(Some(h.tls_of(h.secondary())), None)?;
    t.sent(format!(
        "{OPENED} connections at once as {}",
        h.secondary().id()
    ));
    let mut kept = Vec::new();
    for _ in 0..OPENED {
        match probe.connect(h.target.addr, &h.target.id).await {
            Ok(connection) => kept.push(connection),
            Err(error) => return Err(t.fail("each handshake completed", error.to_string())),
        }
    }
    // Let the target act on the newest before counting.
    let settle = Duration::from_millis(500);
    let mut wrong = None;
    let mut closed = 0;
    for connection in &kept {
        if let Ok(error) = tokio::time::timeout(settle, connection.closed()).await {
            closed += 1;
            let excessive = matches!(&error, ConnectionError::ApplicationClosed(close)
                if close.error_code == AppCode::ExcessiveLoad.var_int());
            if !excessive {
                wrong = Some(error.to_string());
            }
        }
    }
    for connection in &kept {
        connection.close(AppCode::NoError.var_int(), b"");
    }
    t.received(format!("{closed} of {OPENED} closed"));
    if let Some(wrong) = wrong {
        return Err(t.fail(
            "connections over the limit closed with ISM_EXCESSIVE_LOAD",
            wrong,
        ));
    }
    if OPENED - closed < AT_LEAST {
        return Err(t.fail(
            format!("at least {AT_LEAST} connections of one peer kept open"),
            format!("{} kept", OPENED - closed),
        ));
    }
    Ok(Ran::Passed)
}
