//! The suite's side of a run: the counterpart nodes it plays against the
//! target (two gateways against a relay; the relay and the other gateway
//! against a gateway), the raw probes hostile scenarios use, the messages it
//! builds and signs, and how it reads what the target answers. Everything
//! the target sends is checked as any node checks it (ISM-1 §8.4), with the
//! transport's own receiver duties.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Value};

use isthmus_spec::body::Body;
use isthmus_spec::ids::{Hex32, MessageId, NodeId};
use isthmus_spec::membership::{Member, Role as MemberRole};
use isthmus_spec::sign::SigningKey;
use isthmus_spec::time::Timestamp;
use isthmus_spec::Envelope;
use isthmus_transport::duties::check_message;
use isthmus_transport::probe::{Probe, ProbeError};
use isthmus_transport::{
    Answer, Delivered, Endpoint, Handler, Limits, NodeContext, Request, TlsIdentity,
};

use crate::catalogue::Role;
use crate::network::{NetworkDir, NetworkError, NodeKeys};
use crate::report::Failure;

/// What the instruct hook must make true on the gateway's ledger before the
/// gateway's participant instructs (see [`Harness::instruct`]).
#[derive(Debug, Clone)]
pub struct Funding {
    /// The owner of the account the instruction settles from.
    pub owner: String,
    /// That account.
    pub account: String,
    /// The asset it must hold: an ISIN.
    pub asset: String,
    /// How much, as a decimal.
    pub quantity: String,
    /// The owner of the counterparty's account on the same ledger.
    pub beneficiary_owner: String,
    /// That account, which must exist.
    pub beneficiary_account: String,
}

/// The node under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where it serves QUIC.
    pub addr: SocketAddr,
    /// Its node id (a member of the network).
    pub id: NodeId,
    /// Its role.
    pub role: Role,
}

/// How the suite runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the suite waits for one answer from the target.
    pub answer_wait: Duration,
    /// Where counterpart nodes listen (the addresses the target's
    /// configuration gives for them); a counterpart not listed listens on
    /// an ephemeral loopback port, which only the suite's own requests use.
    pub listen: Vec<(NodeId, SocketAddr)>,
    /// The ISM/1 vector directory, for the scenarios that send vectors.
    pub vectors: Option<std::path::PathBuf>,
    /// How long the suite waits for a step of the settlement protocol (a
    /// proposal, a claim, a deadline's abort).
    pub settlement_wait: Duration,
    /// How long the suite watches for a message that must not come (a
    /// ClaimRequest before both locks).
    pub quiet: Duration,
    /// The network's Δ = claim window + maximum clock skew (ISM-1 §12.1),
    /// in milliseconds, as the target is configured; the Δ rule is checked
    /// only when it is given.
    pub delta_ms: Option<u64>,
    /// The command that restarts the target (kills it, SIGKILL, and starts
    /// it again on the same address and store); recovery scenarios need it.
    pub restart_cmd: Option<String>,
    /// The command that makes a participant of the gateway under test
    /// instruct (funding its account first); the gateway's settlement and
    /// recovery scenarios need it. See [`Harness::instruct`].
    pub instruct_cmd: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            answer_wait: Duration::from_secs(10),
            listen: Vec::new(),
            vectors: None,
            settlement_wait: Duration::from_secs(30),
            quiet: Duration::from_secs(2),
            delta_ms: None,
            restart_cmd: None,
            instruct_cmd: None,
        }
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The network directory.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The target is not what the membership says.
    #[error("{0}")]
    Target(String),
    /// A counterpart's endpoint could not be bound.
    #[error("starting the counterpart {node} on {addr}: {why}")]
    Bind {
        /// Which.
        node: NodeId,
        /// Where.
        addr: SocketAddr,
        /// Why.
        why: String,
    },
}

/// What the counterparts received from the target, in order.
#[derive(Default)]
pub struct Inbox {
    received: Mutex<Vec<Envelope>>,
    arrived: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl Handler for Inbox {
    async fn handle(&self, request: Request) -> Answer {
        if let Ok(mut received) = self.received.lock() {
            received.push(request.checked.message);
        }
        self.arrived.notify_waiters();
        Answer::Acknowledge
    }
}

impl Inbox {
    /// Everything received so far.
    pub fn all(&self) -> Vec<Envelope> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Records a message that came as an answer on the suite's own stream.
    pub fn push(&self, message: Envelope) {
        if let Ok(mut received) = self.received.lock() {
            received.push(message);
        }
        self.arrived.notify_waiters();
    }
}

/// A node the suite plays.
pub struct Counterpart {
    /// Its member entry.
    pub member: Member,
    keys: NodeKeys,
    /// Its endpoint: sends well-formed requests, receives the target's.
    pub endpoint: Endpoint,
    /// What it received.
    pub inbox: Arc<Inbox>,
    probe: Probe,
}

impl Counterpart {
    /// Its node id.
    pub fn id(&self) -> &NodeId {
        &self.member.node_id
    }
}

/// What came back on a stream.
#[derive(Debug, Clone)]
pub enum Answered {
    /// The stream ended without a frame (ISM-1 §8.3 rule 6).
    Acknowledged,
    /// One frame holding a message that passed the receiver duties.
    Message(Box<Envelope>, Vec<u8>),
    /// Bytes that are no acceptable answer (why).
    Unreadable(String),
}

/// A line of the transcript of what was exchanged.
pub fn describe(message: &Envelope) -> String {
    let detail = match &message.body {
        Body::Error(error) => format!(
            " {}{}{}",
            error.code,
            error
                .field
                .as_ref()
                .map_or(String::new(), |f| format!(" at {f}")),
            error
                .related_message_id
                .as_ref()
                .map_or(String::new(), |id| format!(" (related {id})"))
        ),
        _ => String::new(),
    };
    format!(
        "{} {} {} → {}{detail}",
        message.kind(),
        message.id,
        message.sender,
        message.receiver
    )
}

/// The transcript of one scenario.
#[derive(Debug, Default)]
pub struct Transcript {
    lines: Vec<String>,
}

impl Transcript {
    /// Something the suite sent.
    pub fn sent(&mut self, what: impl std::fmt::Display) {
        self.lines.push(format!("→ {what}"));
    }

    /// Something the target did.
    pub fn received(&mut self, what: impl std::fmt::Display) {
        self.lines.push(format!("← {what}"));
    }

    /// The lines so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// A failure carrying this transcript.
    pub fn fail(&self, expected: impl Into<String>, observed: impl Into<String>) -> Failure {
        Failure::new(expected, observed).exchanged(&self.lines)
    }
}

/// The suite against one target.
pub struct Harness {
    /// The node under test.
    pub target: Target,
    /// Its member entry.
    pub target_member: Member,
    /// The network.
    pub network: NetworkDir,
    /// The counterparts: against a relay, its gateways; against a gateway,
    /// the relay first, then the other gateways.
    pub counterparts: Vec<Counterpart>,
    /// How the run goes.
    pub options: Options,
    random: SystemRandom,
}

/// The wall clock in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn copy(keys: &NodeKeys, network: &NetworkDir) -> Result<NodeKeys, NetworkError> {
    network.keys(&keys.id)
}

impl Harness {
    /// Starts the counterparts of `target` in `network`.
    pub async fn start(
        target: Target,
        network: NetworkDir,
        options: Options,
    ) -> Result<Harness, HarnessError> {
        let target_member = network
            .membership
            .member(&target.id)
            .cloned()
            .ok_or_else(|| {
                HarnessError::Target(format!(
                    "the target {} is not a member of {}",
                    target.id,
                    network.dir.join("membership.json").display()
                ))
            })?;
        if target_member.role != target.role.member_role() {
            return Err(HarnessError::Target(format!(
                "the target {} is a {} in the membership, not a {}",
                target.id,
                target_member.role.as_str(),
                target.role
            )));
        }
        let mut plays: Vec<Member> = Vec::new();
        if target.role == Role::Gateway {
            plays.extend(network.members(MemberRole::Relay).into_iter().cloned());
        }
        plays.extend(
            network
                .members(MemberRole::Gateway)
                .into_iter()
                .filter(|m| m.node_id != target.id)
                .cloned(),
        );
        let needed = match target.role {
            Role::Relay => "two gateways",
            Role::Gateway => "a relay and another gateway",
        };
        let enough = match target.role {
            Role::Relay => plays.len() >= 2,
            Role::Gateway => {
                plays.first().is_some_and(|m| m.role == MemberRole::Relay)
                    && plays.iter().any(|m| m.role == MemberRole::Gateway)
            }
        };
        if !enough {
            return Err(HarnessError::Target(format!(
                "against a {} the suite plays {needed}; the membership has too few",
                target.role
            )));
        }
        let mut counterparts = Vec::new();
        for member in plays {
            let keys = network.keys(&member.node_id)?;
            let endpoint_keys = copy(&keys, &network)?;
            let addr = options
                .listen
                .iter()
                .find(|(id, _)| *id == member.node_id)
                .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |(_, addr)| *addr);
            let inbox = Arc::new(Inbox::default());
            let context = NodeContext {
                own: member.node_id.clone(),
                membership: network.membership.clone(),
                tls: endpoint_keys.tls,
                signing_key: endpoint_keys.signing_key,
                limits: Limits {
                    // A request to a target that was restarted gives up on
                    // the dead connection after this long (ISM-1 §8.1 rule 8).
                    request_timeout_ms: 2_000,
                    // Each restart of the target leaves its old connections
                    // to the suite open until their idle timeout: room for
                    // the new ones.
                    connections_per_peer: 64,
                    ..Limits::default()
                },
            };
            let endpoint =
                Endpoint::bind(addr, context, inbox.clone()).map_err(|e| HarnessError::Bind {
                    node: member.node_id.clone(),
                    addr,
                    why: e.to_string(),
                })?;
            let probe =
                Probe::new(&keys.tls, &target_member.certificate_sha256, None).map_err(|e| {
                    HarnessError::Bind {
                        node: member.node_id.clone(),
                        addr,
                        why: e.to_string(),
                    }
                })?;
            counterparts.push(Counterpart {
                member,
                keys,
                endpoint,
                inbox,
                probe,
            });
        }
        Ok(Harness {
            target,
            target_member,
            network,
            counterparts,
            options,
            random: SystemRandom::new(),
        })
    }

    /// The counterpart the suite speaks as by default: against a relay the
    /// first gateway, against a gateway the relay.
    pub fn primary(&self) -> &Counterpart {
        &self.counterparts[0]
    }

    /// Another member than the primary: the second counterpart.
    pub fn secondary(&self) -> &Counterpart {
        &self.counterparts[1]
    }

    /// The pin of the target's certificate.
    pub fn target_pin(&self) -> &Hex32 {
        &self.target_member.certificate_sha256
    }

    /// Fresh random bytes.
    pub fn random<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        // A failing system generator leaves zeros: ids then repeat, and the
        // target's duplicate checks say so; nothing here is secret.
        let _ = self.random.fill(&mut bytes);
        bytes
    }

    /// A fresh reference for an instruction or settlement: `CONF-` and 16 hex digits.
    pub fn reference(&self) -> String {
        let bytes: [u8; 8] = self.random();
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        format!("CONF-{hex}")
    }

    /// The unsigned envelope, as JSON, of a message of `kind` with `body`
    /// from `from` to `to`, with a fresh id and the current time.
    pub fn envelope_json(&self, from: &NodeId, to: &NodeId, kind: &str, body: Value) -> Value {
        let now = now_ms();
        let id = MessageId::new_v7(now, self.random());
        let created = Timestamp::from_unix_millis(now)
            .map_or_else(|| "2026-01-01T00:00:00Z".to_string(), |t| t.to_string());
        json!({
            "version": "ISM/1",
            "id": id.to_string(),
            "kind": kind,
            "sender": from.as_str(),
            "receiver": to.as_str(),
            "created_at": created,
            "body": body,
        })
    }

    /// `value` decoded as a message and signed by `from`'s key. A value the
    /// suite built that does not decode is a bug in the suite: the failure
    /// says so.
    pub fn signed(&self, from: &Counterpart, value: &Value) -> Result<Envelope, Failure> {
        self.sign_with(&from.keys.signing_key, value)
    }

    /// `value` decoded as a message and signed with `key`.
    pub fn sign_with(&self, key: &SigningKey, value: &Value) -> Result<Envelope, Failure> {
        Ok(self.decoded(value)?.sign(key))
    }

    /// `value` decoded as a message, unsigned.
    pub fn decoded(&self, value: &Value) -> Result<Envelope, Failure> {
        Envelope::from_value(value).map_err(|rejection| {
            Failure::new(
                "a valid message built by the suite",
                format!("the suite built an invalid message (a bug in the suite, please report it): {rejection}"),
            )
        })
    }

    /// A message from `from` to the target that a node of the target's
    /// role accepts at the transport (ISM-1 §8.4): a SettlementInstruction
    /// from a gateway to a relay, a SettlementProposal from the relay to a
    /// gateway. Each call makes a new one, about a new instruction or
    /// settlement.
    pub fn acceptable(&self, from: &Counterpart) -> Result<Envelope, Failure> {
        let value = self.acceptable_json(from);
        self.signed(from, &value)
    }

    /// The unsigned envelope of a new [`Harness::acceptable`] message, as JSON.
    pub fn acceptable_json(&self, from: &Counterpart) -> Value {
        let (kind, body) = match self.target.role {
            Role::Relay => (
                "SettlementInstruction",
                crate::fixtures::instruction(&self.reference(), from.member.market.as_ref()),
            ),
            Role::Gateway => (
                "SettlementProposal",
                crate::fixtures::proposal(
                    &self.reference(),
                    &self.target_member,
                    &self.counterparts,
                    self.random(),
                    now_ms(),
                ),
            ),
        };
        self.envelope_json(from.id(), &self.target.id, kind, body)
    }

    /// Sends `message` from `from` as a well-formed request and returns
    /// what came back, noting both in `transcript`.
    pub async fn request(
        &self,
        from: &Counterpart,
        message: &Envelope,
        transcript: &mut Transcript,
    ) -> Result<Answered, Failure> {
        transcript.sent(describe(message));
        let sent = tokio::time::timeout(
            self.options.answer_wait,
            from.endpoint.request(self.target.addr, message),
        )
        .await;
        let answered = match sent {
            Err(_) => {
                return Err(transcript.fail(
                    "an answer or an acknowledgement (ISM-1 §8.3 rule 6)",
                    format!("nothing within {:?}", self.options.answer_wait),
                ))
            }
            Ok(Err(isthmus_transport::SendError::BadAnswer { refusal, .. })) => {
                Answered::Unreadable(format!("an answer that is refused: {}", refusal.rejection))
            }
            Ok(Err(error)) => {
                return Err(transcript.fail("the request delivered", error.to_string()))
            }
            Ok(Ok(Delivered::Acknowledged)) => Answered::Acknowledged,
            Ok(Ok(Delivered::Answer(checked))) => {
                Answered::Message(Box::new(checked.message), checked.canonical)
            }
        };
        note(transcript, &answered);
        Ok(answered)
    }

    /// Writes `bytes` on a fresh stream as `from` (raw: any bytes at all)
    /// and reads what came back, noting both in `transcript`.
    pub async fn raw(
        &self,
        from: &Counterpart,
        bytes: &[u8],
        what: &str,
        transcript: &mut Transcript,
    ) -> Result<Answered, Failure> {
        self.raw_with(&from.probe, from.id(), bytes, what, transcript)
            .await
    }

    /// [`Harness::raw`] through `probe`, whose node is `own`.
    pub async fn raw_with(
        &self,
        probe: &Probe,
        own: &NodeId,
        bytes: &[u8],
        what: &str,
        transcript: &mut Transcript,
    ) -> Result<Answered, Failure> {
        transcript.sent(format!("{what} ({} bytes)", bytes.len()));
        let answer = probe
            .raw_request(
                self.target.addr,
                &self.target.id,
                bytes,
                self.options.answer_wait,
            )
            .await;
        let answered = match answer {
            Ok(answer) => self.read_answer(&answer, own),
            Err(ProbeError::Timeout(wait)) => {
                return Err(transcript.fail(
                    "an answer or an acknowledgement (ISM-1 §8.3)",
                    format!("nothing within {wait:?}"),
                ))
            }
            Err(error) => return Err(transcript.fail("an answer on the stream", error.to_string())),
        };
        note(transcript, &answered);
        Ok(answered)
    }

    /// The probe of counterpart `from`, for scenarios that drive QUIC themselves.
    pub fn probe<'a>(&self, from: &'a Counterpart) -> &'a Probe {
        &from.probe
    }

    /// A probe presenting `tls` (the counterpart's own when `None`),
    /// offering the ALPN ids `alpn` (`ism/1` when `None`).
    pub fn probe_with(
        &self,
        tls: Option<&TlsIdentity>,
        alpn: Option<Vec<Vec<u8>>>,
    ) -> Result<Probe, Failure> {
        let tls = tls.unwrap_or(&self.primary().keys.tls);
        Probe::new(tls, self.target_pin(), alpn)
            .map_err(|e| Failure::new("the suite's probe", e.to_string()))
    }

    /// The TLS identity of counterpart `from`.
    pub fn tls_of<'a>(&self, from: &'a Counterpart) -> &'a TlsIdentity {
        &from.keys.tls
    }

    /// What the bytes of a stream's answer to `own` are (ISM-1 §8.3): none,
    /// or exactly one frame holding a message that passes §8.4 steps 2–5
    /// (signed by the target, addressed to `own`).
    pub fn read_answer(&self, answer: &[u8], own: &NodeId) -> Answered {
        if answer.is_empty() {
            return Answered::Acknowledged;
        }
        let Some(prefix) = answer.get(..4) else {
            return Answered::Unreadable(format!(
                "{} bytes: not even a frame's length",
                answer.len()
            ));
        };
        let length = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
        let payload = &answer[4..];
        if payload.len() != length {
            return Answered::Unreadable(format!(
                "a frame announcing {length} bytes followed by {} (ISM-1 §8.3 rule 3: one frame)",
                payload.len()
            ));
        }
        match check_message(payload, &self.target_member, own, &self.network.membership) {
            Ok(checked) => Answered::Message(Box::new(checked.message), checked.canonical),
            Err(refusal) => {
                Answered::Unreadable(format!("an answer that is refused: {}", refusal.rejection))
            }
        }
    }

    /// Checks that `answered` is the target's signed Error with `code` (and
    /// `field`, and `related` as its related message id, where given).
    pub fn expect_error(
        &self,
        answered: &Answered,
        code: &str,
        field: Option<&str>,
        related: Option<&MessageId>,
        transcript: &Transcript,
    ) -> Result<(), Failure> {
        let mut expected = format!("a signed Error {code}");
        if let Some(field) = field {
            expected.push_str(&format!(" at {field}"));
        }
        if let Some(related) = related {
            expected.push_str(&format!(" related to {related}"));
        }
        let error = match answered {
            Answered::Message(message, _) => match &message.body {
                Body::Error(error) => error,
                _ => return Err(transcript.fail(expected, format!("a {}", message.kind()))),
            },
            Answered::Acknowledged => {
                return Err(transcript.fail(expected, "no frame: the request was accepted"))
            }
            Answered::Unreadable(why) => return Err(transcript.fail(expected, why.clone())),
        };
        if error.code.as_str() != code {
            return Err(transcript.fail(expected, format!("the code {}", error.code)));
        }
        let seen_field = error.field.as_ref().map(|f| f.to_string());
        if let Some(field) = field {
            if seen_field.as_deref() != Some(field) {
                return Err(transcript.fail(
                    expected,
                    format!("the field {}", seen_field.as_deref().unwrap_or("(none)")),
                ));
            }
        }
        if let Some(related) = related {
            if error.related_message_id.as_ref() != Some(related) {
                return Err(transcript.fail(
                    expected,
                    format!(
                        "related_message_id {}",
                        error
                            .related_message_id
                            .as_ref()
                            .map_or("(none)".to_string(), |id| id.to_string())
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether the target can reach every counterpart: settlement scenarios
    /// need the addresses its configuration names (`--listen`).
    pub fn reachable(&self) -> Result<(), String> {
        for counterpart in &self.counterparts {
            if !self
                .options
                .listen
                .iter()
                .any(|(id, _)| id == counterpart.id())
            {
                return Err(format!(
                    "the target must reach {} to settle: pass --listen {}=HOST:PORT as its configuration names it",
                    counterpart.id(),
                    counterpart.id()
                ));
            }
        }
        Ok(())
    }

    /// Sends `kind` with `body` from `from` to the target and requires it
    /// accepted (ISM-1 §8.3 rule 6); an answer on the stream is kept in
    /// `from`'s inbox like any later message. Returns what was sent.
    pub async fn send(
        &self,
        from: &Counterpart,
        kind: &str,
        body: Value,
        transcript: &mut Transcript,
    ) -> Result<Envelope, Failure> {
        let value = self.envelope_json(from.id(), &self.target.id, kind, body);
        let message = self.signed(from, &value)?;
        match self.request(from, &message, transcript).await? {
            Answered::Acknowledged => Ok(message),
            Answered::Message(answer, _) => match answer.body {
                Body::Error(_) => {
                    Err(transcript.fail(format!("the {kind} accepted"), describe(&answer)))
                }
                _ => {
                    from.inbox.push(*answer);
                    Ok(message)
                }
            },
            Answered::Unreadable(why) => Err(transcript.fail(format!("the {kind} accepted"), why)),
        }
    }

    /// Sends `kind` with `body` from `from` and requires it refused with
    /// `code`: on its stream, or later by an Error related to it.
    pub async fn send_refused(
        &self,
        from: &Counterpart,
        kind: &str,
        body: Value,
        code: &str,
        transcript: &mut Transcript,
    ) -> Result<(), Failure> {
        let value = self.envelope_json(from.id(), &self.target.id, kind, body);
        let message = self.signed(from, &value)?;
        let answered = self.request(from, &message, transcript).await?;
        if let Answered::Message(..) = answered {
            return self.expect_error(&answered, code, None, Some(&message.id), transcript);
        }
        let error = self
            .wait_for(
                from,
                &format!("an Error {code} related to {}", message.id),
                |m| matches!(&m.body, Body::Error(e) if e.related_message_id.as_ref() == Some(&message.id)),
                transcript,
            )
            .await?;
        let later = Answered::Message(Box::new(error), Vec::new());
        self.expect_error(&later, code, None, Some(&message.id), transcript)
    }

    /// The first message `at` received that `wanted` accepts, waiting up to
    /// the settlement wait for it.
    pub async fn wait_for(
        &self,
        at: &Counterpart,
        what: &str,
        wanted: impl Fn(&Envelope) -> bool,
        transcript: &mut Transcript,
    ) -> Result<Envelope, Failure> {
        self.wait_for_after(at, 0, what, wanted, transcript).await
    }

    /// [`Harness::wait_for`] among the messages `at` received after its
    /// first `after` (`at.inbox.all().len()` taken earlier): a repeat of an
    /// earlier message counts, being received again.
    pub async fn wait_for_after(
        &self,
        at: &Counterpart,
        after: usize,
        what: &str,
        wanted: impl Fn(&Envelope) -> bool,
        transcript: &mut Transcript,
    ) -> Result<Envelope, Failure> {
        let wait = self.options.settlement_wait;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = at.inbox.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(found) = at.inbox.all().into_iter().skip(after).find(|m| wanted(m)) {
                transcript.received(describe(&found));
                return Ok(found);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(transcript.fail(
                    format!("{what} at {}", at.id()),
                    format!("nothing of the kind within {wait:?}"),
                ));
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    /// Fails if any message `unwanted` accepts reaches any counterpart
    /// within the quiet period.
    pub async fn none_for(
        &self,
        what: &str,
        unwanted: impl Fn(&Envelope) -> bool,
        transcript: &mut Transcript,
    ) -> Result<(), Failure> {
        tokio::time::sleep(self.options.quiet).await;
        for counterpart in &self.counterparts {
            if let Some(found) = counterpart.inbox.all().into_iter().find(|m| unwanted(m)) {
                transcript.received(describe(&found));
                return Err(transcript.fail(
                    format!("no {what}"),
                    format!("{} received {}", counterpart.id(), describe(&found)),
                ));
            }
        }
        transcript.received(format!("no {what} within {:?}", self.options.quiet));
        Ok(())
    }

    /// Runs a hook `command` through `sh -c` with `env`, waiting up to the
    /// settlement wait; `name` says which hook in failures, with what it
    /// wrote on standard error.
    async fn run_hook(
        &self,
        name: &str,
        command: String,
        env: Vec<(String, String)>,
        transcript: &mut Transcript,
    ) -> Result<(), Failure> {
        transcript.sent(format!("the {name} hook: {command}"));
        let shown = command.clone();
        // Standard error goes to a file, not a pipe: a hook that starts a
        // daemon would hand it the pipe, and reading it would wait for the
        // daemon to exit.
        let nonce: [u8; 8] = self.random();
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let err_path = std::env::temp_dir().join(format!("ism-conformance-hook-{nonce}.err"));
        let err_file = std::fs::File::create(&err_path).map_err(|e| {
            transcript.fail(
                format!("the {name} hook to run"),
                format!("{}: {e}", err_path.display()),
            )
        })?;
        // Its own process group, so that a hook that overruns is killed
        // with everything it started, and the suite neither waits for it
        // nor leaves it behind.
        let spawned = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&command)
            .envs(env)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(err_file)
            .process_group(0)
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                let _ = std::fs::remove_file(&err_path);
                return Err(transcript.fail(
                    format!("the {name} hook to run"),
                    format!("{shown}: {error}"),
                ));
            }
        };
        let ran = tokio::time::timeout(self.options.settlement_wait, child.wait()).await;
        if ran.is_err() {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status();
            }
            let _ = child.kill().await;
        }
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let _ = std::fs::remove_file(&err_path);
        match ran {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(transcript.fail(
                format!("the {name} hook to succeed"),
                format!(
                    "{shown}: {status}: {}",
                    crate::report::bounded(stderr.trim())
                ),
            )),
            Ok(Err(error)) => Err(transcript.fail(
                format!("the {name} hook to run"),
                format!("{shown}: {error}"),
            )),
            Err(_) => Err(transcript.fail(
                format!("the {name} hook to finish"),
                format!(
                    "{shown} ran longer than {:?} and was killed, with its process group",
                    self.options.settlement_wait
                ),
            )),
        }
    }

    /// Has a participant of the gateway under test submit `instruction`
    /// (a SettlementInstruction body) through the `--instruct-cmd` hook.
    /// The hook runs through `sh -c` with these variables, and exits 0 once
    /// the gateway has taken the instruction:
    /// - `ISM_INSTRUCTION_FILE`: a file holding the body as ISM/1 JSON;
    /// - `ISM_INSTRUCTION_ID`: its `instruction_id`;
    /// - `ISM_OWNER`, `ISM_ACCOUNT`: the account it settles from, which must
    ///   hold `ISM_QUANTITY` units of `ISM_ASSET` (an ISIN) when the hook
    ///   returns: the hook funds it on the gateway's ledger;
    /// - `ISM_BENEFICIARY_OWNER`, `ISM_BENEFICIARY_ACCOUNT`: the
    ///   counterparty's account on the same ledger, which must exist.
    pub async fn instruct(
        &self,
        instruction: &Value,
        funding: &Funding,
        transcript: &mut Transcript,
    ) -> Result<(), Failure> {
        let Some(command) = self.options.instruct_cmd.clone() else {
            return Err(transcript.fail("an instruct hook", "none given (--instruct-cmd)"));
        };
        let id = instruction["instruction_id"]
            .as_str()
            .unwrap_or("instruction");
        let file = std::env::temp_dir().join(format!("ism-conformance-{id}.json"));
        std::fs::write(&file, instruction.to_string()).map_err(|e| {
            transcript.fail(
                "the instruction written for the hook",
                format!("{}: {e}", file.display()),
            )
        })?;
        let env = vec![
            (
                "ISM_INSTRUCTION_FILE".to_string(),
                file.display().to_string(),
            ),
            ("ISM_INSTRUCTION_ID".to_string(), id.to_string()),
            ("ISM_OWNER".to_string(), funding.owner.clone()),
            ("ISM_ACCOUNT".to_string(), funding.account.clone()),
            ("ISM_ASSET".to_string(), funding.asset.clone()),
            ("ISM_QUANTITY".to_string(), funding.quantity.clone()),
            (
                "ISM_BENEFICIARY_OWNER".to_string(),
                funding.beneficiary_owner.clone(),
            ),
            (
                "ISM_BENEFICIARY_ACCOUNT".to_string(),
                funding.beneficiary_account.clone(),
            ),
        ];
        let ran = self.run_hook("instruct", command, env, transcript).await;
        let _ = std::fs::remove_file(&file);
        ran
    }

    /// Restarts the target with the `--restart-cmd` hook (through `sh -c`)
    /// and waits until it serves again.
    pub async fn restart(&self, transcript: &mut Transcript) -> Result<(), Failure> {
        let Some(command) = self.options.restart_cmd.clone() else {
            return Err(transcript.fail("a restart hook", "none given (--restart-cmd)"));
        };
        self.run_hook("restart", command, Vec::new(), transcript)
            .await?;
        // Every counterpart's connection to the killed process is dead and
        // cannot be reset by the new one: each gets through once before the
        // scenario goes on.
        let deadline = tokio::time::Instant::now() + self.options.settlement_wait;
        for counterpart in &self.counterparts {
            loop {
                let message = self.acceptable(counterpart)?;
                // Bounded by the endpoint's own request timeout, which also
                // drops the dead connection, so that the next attempt
                // connects afresh.
                if counterpart
                    .endpoint
                    .request(self.target.addr, &message)
                    .await
                    .is_ok()
                {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(transcript.fail(
                        "the target serving again after the restart",
                        format!(
                            "no answer to {} within {:?}",
                            counterpart.id(),
                            self.options.settlement_wait
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        transcript.received("serving again after the restart");
        Ok(())
    }

    /// Checks that the target still serves: a fresh acceptable message from
    /// the primary counterpart is acknowledged or answered (ISM-1 §8.4 rule 9).
    pub async fn serves(&self, transcript: &mut Transcript) -> Result<(), Failure> {
        let message = self.acceptable(self.primary())?;
        match self.request(self.primary(), &message, transcript).await? {
            Answered::Acknowledged | Answered::Message(..) => Ok(()),
            Answered::Unreadable(why) => {
                Err(transcript.fail("a member's valid request served (ISM-1 §8.4 rule 9)", why))
            }
        }
    }
}

fn note(transcript: &mut Transcript, answered: &Answered) {
    match answered {
        Answered::Acknowledged => transcript.received("no frame (acknowledged)"),
        Answered::Message(message, _) => transcript.received(describe(message)),
        Answered::Unreadable(why) => transcript.received(why),
    }
}
