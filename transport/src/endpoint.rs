//! A node's QUIC endpoint (ISM-1 §8): it serves requests from members,
//! applying the receiver duties in order and answering refusals with signed
//! Errors, and it sends requests to members, one stream each.
//!
//! The node behind it is a [`Handler`]: it gets each message that passed
//! steps 1–5, does exactly-once (step 6) durably, and says how to answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use isthmus_spec::body::{Body, Kind};
use isthmus_spec::ids::{MessageId, NodeId};
use isthmus_spec::membership::{Member, Membership};
use isthmus_spec::protocol::{code_text, sentence};
use isthmus_spec::sign::SigningKey;
use isthmus_spec::time::Timestamp;
use isthmus_spec::{Envelope, Rejection};
use quinn::{Connection, RecvStream, SendStream};
use ring::rand::SecureRandom;
use tracing::{debug, info, warn};

use crate::codes::AppCode;
use crate::duties::{check_message, Checked, Refusal, StreamReader};
use crate::limits::Limits;
use crate::tls::{TlsError, TlsIdentity, ALPN};

/// A request that passed ISM-1 §8.4 steps 1–5.
#[derive(Debug, Clone)]
pub struct Request {
    /// The member that sent it.
    pub peer: Member,
    /// The message and its canonical bytes.
    pub checked: Checked,
}

/// How the node answers a request (ISM-1 §8.3 rule 6, §8.4 rules 6–7).
#[derive(Debug, Clone)]
pub enum Answer {
    /// End the stream without a frame: accepted, and recorded durably.
    Acknowledge,
    /// Answer with this signed message.
    Reply(Box<Envelope>),
    /// Refuse with a signed Error (step 6 `MESSAGE_REPLAYED`, or the node's
    /// own refusal before it acted).
    Refuse(Rejection),
    /// The node could not take the request (its store failed, it is
    /// stopping): reset the stream with `ISM_INTERNAL`. Nothing was
    /// recorded; the requester repeats it later.
    Abandon,
}

/// The node behind an endpoint.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    /// A request from a member; the answer goes back on its stream.
    async fn handle(&self, request: Request) -> Answer;

    /// The messages a Batch carried, in order (ISM-1 §8.7 rule 3): one
    /// answer each, given once all are durable. By default each is handled
    /// alone, one after another; a node that can record them in one write
    /// does so.
    async fn handle_batch(&self, peer: Member, messages: Vec<Checked>) -> Vec<Answer> {
        let mut answers = Vec::with_capacity(messages.len());
        for checked in messages {
            answers.push(
                self.handle(Request {
                    peer: peer.clone(),
                    checked,
                })
                .await,
            );
        }
        answers
    }
}

/// Why a request could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The receiver is not in the membership.
    #[error("{0} is not a member of the network")]
    NotAMember(NodeId),
    /// No connection could be made (including a refused handshake).
    #[error("connecting to {peer} at {addr}: {detail}")]
    Connect {
        /// Whom.
        peer: NodeId,
        /// Where.
        addr: SocketAddr,
        /// What happened.
        detail: String,
    },
    /// The stream failed before the answer.
    #[error("the request to {peer} failed: {detail}")]
    Stream {
        /// Whom.
        peer: NodeId,
        /// What happened.
        detail: String,
    },
    /// The answer broke the receiver duties.
    #[error("{peer} answered with a message that is refused: {}", .refusal.rejection)]
    BadAnswer {
        /// Whom.
        peer: NodeId,
        /// Why it is refused.
        refusal: Box<Refusal>,
    },
    /// The message could not be framed.
    #[error("the message cannot be sent: {0}")]
    Frame(Rejection),
    /// TLS configuration.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// What came back on a request's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// The stream ended without a frame: the receiver accepted the request.
    Acknowledged,
    /// The receiver answered with this message (checked as any request is).
    Answer(Box<Checked>),
}

/// The fixed parts of a node on the transport.
pub struct NodeContext {
    /// This node.
    pub own: NodeId,
    /// The network.
    pub membership: Membership,
    /// Its TLS identity.
    pub tls: TlsIdentity,
    /// Its message-signing key.
    pub signing_key: SigningKey,
    /// Its limits.
    pub limits: Limits,
}

struct Shared {
    context: NodeContext,
    handler: Arc<dyn Handler>,
    random: ring::rand::SystemRandom,
    /// Open connections per peer, as server.
    connections: Mutex<HashMap<NodeId, usize>>,
    /// Requests refused, by reason code, and requests handed to the node.
    counts: Arc<Mutex<TransportCounts>>,
    /// Connections to peers, as client.
    /// One slot per peer, each behind its own lock: connecting to a peer
    /// that is down holds up only the requests to that peer.
    outgoing: Mutex<HashMap<NodeId, Arc<tokio::sync::Mutex<Option<Connection>>>>>,
}

/// A node's endpoint: serving and sending.
#[derive(Clone)]
pub struct Endpoint {
    endpoint: quinn::Endpoint,
    shared: Arc<Shared>,
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// QUIC version 1 (RFC 9000 §15), the only version ISM/1 runs on.
pub const QUIC_V1: u32 = 0x0000_0001;

impl Endpoint {
    /// Binds `addr` (UDP) and starts serving requests on it.
    pub fn bind(
        addr: SocketAddr,
        context: NodeContext,
        handler: Arc<dyn Handler>,
    ) -> Result<Endpoint, EndpointError> {
        let server = context.tls.server_config(&context.limits)?;
        // QUIC version 1 alone (ISM-1 §8.1 rule 1): quinn's default also
        // accepts the drafts 29–34, which ISM/1 does not speak.
        let mut config = quinn::EndpointConfig::default();
        config.supported_versions(vec![QUIC_V1]);
        let endpoint = std::net::UdpSocket::bind(addr)
            .and_then(|socket| {
                quinn::Endpoint::new(config, Some(server), socket, Arc::new(quinn::TokioRuntime))
            })
            .map_err(|source| EndpointError::Bind { addr, source })?;
        let shared = Arc::new(Shared {
            context,
            handler,
            random: ring::rand::SystemRandom::new(),
            connections: Mutex::new(HashMap::new()),
            counts: Arc::default(),
            outgoing: Mutex::new(HashMap::new()),
        });
        let serving = Endpoint { endpoint, shared };
        let accepting = serving.clone();
        tokio::spawn(async move { accepting.accept_loop().await });
        Ok(serving)
    }

    /// The address it serves on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// Closes every connection (`ISM_NO_ERROR`) and stops serving, after
    /// the streams in progress got their answers or `drain` passed.
    pub async fn shutdown(&self, drain: Duration) {
        self.endpoint.set_server_config(None);
        let _ = tokio::time::timeout(drain, async {
            while self.endpoint.open_connections() > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if self
                    .shared
                    .connections
                    .lock()
                    .map_or(0, |c| c.values().sum::<usize>())
                    == 0
                {
                    break;
                }
            }
        })
        .await;
        self.endpoint
            .close(AppCode::NoError.var_int(), b"shutting down");
        self.endpoint.wait_idle().await;
    }

    async fn accept_loop(self) {
        while let Some(incoming) = self.endpoint.accept().await {
            let serving = self.clone();
            tokio::spawn(async move {
                match incoming.await {
                    Ok(connection) => serving.serve_connection(connection).await,
                    Err(error) => info!(%error, "a handshake failed"),
                }
            });
        }
    }

    async fn serve_connection(&self, connection: Connection) {
        let context = &self.shared.context;
        let Some(peer) = peer_member(&connection, &context.membership).cloned() else {
            warn!(remote = %connection.remote_address(), code = %AppCode::PeerUnknown, "closing a connection whose certificate matches no member");
            connection.close(AppCode::PeerUnknown.var_int(), b"certificate of no member");
            return;
        };
        let admitted = {
            let mut open = match self.shared.connections.lock() {
                Ok(open) => open,
                Err(poisoned) => poisoned.into_inner(),
            };
            let count = open.entry(peer.node_id.clone()).or_insert(0);
            if *count >= context.limits.connections_per_peer {
                false
            } else {
                *count += 1;
                true
            }
        };
        if !admitted {
            warn!(peer = %peer.node_id, code = %AppCode::ExcessiveLoad, "closing a connection over the limit per peer");
            connection.close(AppCode::ExcessiveLoad.var_int(), b"too many connections");
            return;
        }
        debug!(peer = %peer.node_id, "connection open");
        self.count(|c| c.open_connections += 1);
        let refusals = Arc::new(std::sync::atomic::AtomicU32::new(0));
        loop {
            tokio::select! {
                stream = connection.accept_bi() => match stream {
                    Ok((send, recv)) => {
                        let serving = self.clone();
                        let peer = peer.clone();
                        let connection = connection.clone();
                        let refusals = refusals.clone();
                        tokio::spawn(async move {
                            let refused = serving.serve_stream(&peer, send, recv).await;
                            if refused {
                                let count = refusals.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                                if count >= serving.shared.context.limits.refusals_per_connection {
                                    warn!(peer = %peer.node_id, code = %AppCode::ExcessiveLoad, "closing a connection that keeps sending refused input");
                                    connection.close(AppCode::ExcessiveLoad.var_int(), b"too many refused requests");
                                }
                            }
                        });
                    }
                    Err(_) => break,
                },
                stream = connection.accept_uni() => match stream {
                    Ok(mut recv) => {
                        warn!(peer = %peer.node_id, code = %AppCode::StreamRefused, "stopping a unidirectional stream");
                        let _ = recv.stop(AppCode::StreamRefused.var_int());
                    }
                    Err(_) => break,
                },
            }
        }
        let mut open = match self.shared.connections.lock() {
            Ok(open) => open,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(count) = open.get_mut(&peer.node_id) {
            *count = count.saturating_sub(1);
        }
        drop(open);
        self.count(|c| c.open_connections = c.open_connections.saturating_sub(1));
    }

    /// Serves one request stream; true if it was refused.
    async fn serve_stream(
        &self,
        peer: &Member,
        mut send: SendStream,
        mut recv: RecvStream,
    ) -> bool {
        let context = &self.shared.context;
        let timeout = Duration::from_millis(context.limits.request_timeout_ms);
        let read = tokio::time::timeout(
            timeout,
            read_request(&mut recv, context.limits.frame_payload_bytes),
        )
        .await;
        let payload = match read {
            Err(_) => {
                warn!(peer = %peer.node_id, code = %AppCode::StreamRefused, "resetting a stream whose request did not end in time");
                let _ = send.reset(AppCode::StreamRefused.var_int());
                let _ = recv.stop(AppCode::StreamRefused.var_int());
                return true;
            }
            Ok(Err(ReadFailure::Stream)) => return true,
            Ok(Err(ReadFailure::Refused(refusal))) => {
                let _ = recv.stop(AppCode::StreamRefused.var_int());
                self.refuse(peer, &mut send, &refusal).await;
                return true;
            }
            Ok(Ok(payload)) => payload,
        };
        let checked = match check_message(&payload, peer, &context.own, &context.membership) {
            Ok(checked) => checked,
            Err(refusal) => {
                self.refuse(peer, &mut send, &refusal).await;
                return true;
            }
        };
        if checked.is_batch() {
            return self.serve_batch(peer, send, checked).await;
        }
        let related = checked.message.id.clone();
        self.count(|c| c.handed_over += 1);
        let answer = self
            .shared
            .handler
            .handle(Request {
                peer: peer.clone(),
                checked,
            })
            .await;
        match answer {
            Answer::Acknowledge => {
                let _ = send.finish();
                false
            }
            Answer::Reply(message) => {
                match isthmus_spec::frame::encode_frame(&message.to_canonical_bytes()) {
                    Ok(frame) => {
                        let _ = send.write_all(&frame).await;
                        let _ = send.finish();
                    }
                    Err(rejection) => {
                        warn!(peer = %peer.node_id, %rejection, "an answer too large to send");
                        let _ = send.reset(AppCode::Internal.var_int());
                    }
                }
                false
            }
            Answer::Abandon => {
                let _ = send.reset(AppCode::Internal.var_int());
                false
            }
            Answer::Refuse(rejection) => {
                let refusal = Refusal {
                    rejection,
                    related: Some(related),
                    answer: true,
                };
                self.refuse(peer, &mut send, &refusal).await;
                true
            }
        }
    }

    /// Hands a Batch's messages to the node and answers for them all (ISM-1
    /// §8.7 rule 5): no frame when every one was accepted, else one Batch
    /// carrying an Error for each refused one (none for a refused Error).
    async fn serve_batch(&self, peer: &Member, mut send: SendStream, batch: Checked) -> bool {
        let messages = batch.unpack();
        let carried: Vec<(MessageId, bool)> = messages
            .iter()
            .map(|c| (c.message.id.clone(), c.message.kind() == Kind::Error))
            .collect();
        self.count(|c| c.handed_over += carried.len() as u64);
        let answers = self
            .shared
            .handler
            .handle_batch(peer.clone(), messages)
            .await;
        if answers.len() != carried.len() || answers.iter().any(|a| matches!(a, Answer::Abandon)) {
            // Not all of it was taken: the requester repeats what it has no
            // answer for (what was taken is handled once whatever it does).
            let _ = send.reset(AppCode::Internal.var_int());
            return false;
        }
        let mut replies = Vec::new();
        let mut refused = false;
        for ((id, is_error), answer) in carried.into_iter().zip(answers) {
            match answer {
                Answer::Acknowledge | Answer::Abandon => {}
                Answer::Reply(message) => replies.push(Envelope {
                    signature: None,
                    ..*message
                }),
                Answer::Refuse(rejection) => {
                    refused = true;
                    let refusal = Refusal {
                        rejection,
                        related: Some(id),
                        answer: !is_error,
                    };
                    self.log_refusal(peer, &refusal);
                    if refusal.answer {
                        replies.push(self.unsigned_error_for(&peer.node_id, &refusal));
                    }
                }
            }
        }
        if !replies.is_empty() {
            let answer = self.batch_for(&peer.node_id, replies);
            match isthmus_spec::frame::encode_frame(&answer.to_canonical_bytes()) {
                Ok(frame) => {
                    let _ = send.write_all(&frame).await;
                }
                Err(rejection) => {
                    warn!(peer = %peer.node_id, %rejection, "an answer too large to send");
                    let _ = send.reset(AppCode::Internal.var_int());
                    return refused;
                }
            }
        }
        let _ = send.finish();
        refused
    }

    /// A signed Batch from this node to `to` carrying `messages` (unsigned,
    /// from this node to `to`; ISM-1 §6.11): how a node answers for a Batch
    /// and sends what waits for one peer.
    pub fn batch_for(&self, to: &NodeId, messages: Vec<Envelope>) -> Envelope {
        self.own_message(to, Body::Batch(isthmus_spec::body::Batch { messages }))
            .sign(&self.shared.context.signing_key)
    }

    /// An unsigned message of this node's own (an Error, a Batch of them)
    /// to `to`, with a fresh id and the time now.
    fn own_message(&self, to: &NodeId, body: Body) -> Envelope {
        let mut random = [0u8; 10];
        // The system generator does not fail on the platforms we run on; if it did, the
        // id would still be unique enough by its millisecond for an Error.
        let _ = self.shared.random.fill(&mut random);
        let now = unix_millis();
        let created = Timestamp::from_unix_millis(now).unwrap_or_else(|| {
            Timestamp::from_unix_millis(0).unwrap_or_else(|| unreachable!("0 is a time"))
        });
        Envelope::new(
            MessageId::new_v7(now, random),
            self.shared.context.own.clone(),
            to.clone(),
            created,
            body,
        )
    }

    /// What the endpoint has counted so far, and its open connections.
    pub fn counts(&self) -> TransportCounts {
        self.counts_handle().get()
    }

    /// A handle on the counts that does not keep the endpoint (and its
    /// socket) alive, for `/metrics`.
    pub fn counts_handle(&self) -> CountsHandle {
        CountsHandle(self.shared.counts.clone())
    }

    fn count(&self, update: impl FnOnce(&mut TransportCounts)) {
        let mut counts = match self.shared.counts.lock() {
            Ok(counts) => counts,
            Err(poisoned) => poisoned.into_inner(),
        };
        update(&mut counts);
    }

    /// Logs a refusal and answers it with a signed Error, unless it refused an Error.
    async fn refuse(&self, peer: &Member, send: &mut SendStream, refusal: &Refusal) {
        self.log_refusal(peer, refusal);
        if refusal.answer {
            let error = self.error_for(&peer.node_id, refusal);
            if let Ok(frame) = isthmus_spec::frame::encode_frame(&error.to_canonical_bytes()) {
                let _ = send.write_all(&frame).await;
            }
        }
        let _ = send.finish();
    }

    /// Counts and logs a refusal (ISM-1 §8.4 rule 8).
    fn log_refusal(&self, peer: &Member, refusal: &Refusal) {
        self.count(|c| {
            *c.refused
                .entry(refusal.rejection.code.as_str())
                .or_default() += 1
        });
        warn!(
            peer = %peer.node_id,
            code = %refusal.rejection.code,
            field = refusal.rejection.field.as_deref().unwrap_or(""),
            related = refusal.related.as_ref().map(|id| id.to_string()).unwrap_or_default(),
            "refused: {}",
            refusal.rejection.message
        );
    }

    fn error_for(&self, to: &NodeId, refusal: &Refusal) -> Envelope {
        self.unsigned_error_for(to, refusal)
            .sign(&self.shared.context.signing_key)
    }

    /// The Error answering a refusal, unsigned (to be carried in a Batch).
    fn unsigned_error_for(&self, to: &NodeId, refusal: &Refusal) -> Envelope {
        let body = isthmus_spec::body::ErrorBody {
            code: code_text(refusal.rejection.code.as_str()),
            text: sentence(&refusal.rejection.message),
            related_message_id: refusal.related.clone(),
            field: refusal
                .rejection
                .field
                .as_deref()
                .and_then(|f| isthmus_spec::ids::Text::parse(f).ok()),
        };
        self.own_message(to, Body::Error(body))
    }

    /// Sends `message` to its receiver at `addr` on a stream of its own
    /// and waits for the stream's end (ISM-1 §8.3): an acknowledgement or an
    /// answer, which is checked as any received message is.
    pub async fn request(
        &self,
        addr: SocketAddr,
        message: &Envelope,
    ) -> Result<Delivered, SendError> {
        let context = &self.shared.context;
        let peer = context
            .membership
            .member(&message.receiver)
            .cloned()
            .ok_or_else(|| SendError::NotAMember(message.receiver.clone()))?;
        let frame = isthmus_spec::frame::encode_frame(&message.to_canonical_bytes())
            .map_err(SendError::Frame)?;
        let connection = self.connection_to(&peer, addr).await?;
        let stream_error = |detail: String| SendError::Stream {
            peer: peer.node_id.clone(),
            detail,
        };
        let exchange = async {
            let (mut send, mut recv) = connection
                .open_bi()
                .await
                .map_err(|e| stream_error(e.to_string()))?;
            send.write_all(&frame)
                .await
                .map_err(|e| stream_error(e.to_string()))?;
            send.finish().map_err(|e| stream_error(e.to_string()))?;
            let mut reader = StreamReader::new(context.limits.frame_payload_bytes);
            let mut any = false;
            loop {
                match recv.read_chunk(reader.wanted().max(1), true).await {
                    Ok(Some(chunk)) => {
                        any = true;
                        reader
                            .push(&chunk.bytes)
                            .map_err(|refusal| SendError::BadAnswer {
                                peer: peer.node_id.clone(),
                                refusal: Box::new(refusal),
                            })?;
                    }
                    Ok(None) => break,
                    Err(e) => return Err(stream_error(e.to_string())),
                }
            }
            if !any {
                return Ok(Delivered::Acknowledged);
            }
            let bytes = reader.finish().map_err(|refusal| SendError::BadAnswer {
                peer: peer.node_id.clone(),
                refusal: Box::new(refusal),
            })?;
            let checked = check_message(&bytes.payload, &peer, &context.own, &context.membership)
                .map_err(|refusal| SendError::BadAnswer {
                peer: peer.node_id.clone(),
                refusal: Box::new(refusal),
            })?;
            Ok(Delivered::Answer(Box::new(checked)))
        };
        // A peer that restarted does not know the old connection and cannot
        // reset it: a request without its answer in time gives up on the
        // connection, so the next one connects afresh.
        let timeout = Duration::from_millis(context.limits.request_timeout_ms);
        let result = match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => {
                connection.close(AppCode::NoError.var_int(), b"request timed out");
                Err(stream_error(format!(
                    "no answer within {} ms",
                    timeout.as_millis()
                )))
            }
        };
        if result.is_err() && connection.close_reason().is_some() {
            // A broken connection is not reused.
            *self.slot(&peer.node_id).lock().await = None;
        }
        result
    }

    async fn connection_to(
        &self,
        peer: &Member,
        addr: SocketAddr,
    ) -> Result<Connection, SendError> {
        let slot = self.slot(&peer.node_id);
        let mut cached = slot.lock().await;
        if let Some(connection) = cached.as_ref() {
            if connection.close_reason().is_none() {
                return Ok(connection.clone());
            }
        }
        let context = &self.shared.context;
        let config = context
            .tls
            .client_config(&peer.certificate_sha256, &context.limits)?;
        let connect_error = |detail: String| SendError::Connect {
            peer: peer.node_id.clone(),
            addr,
            detail,
        };
        let connecting = self
            .endpoint
            .connect_with(config, addr, peer.node_id.as_str())
            .map_err(|e| connect_error(e.to_string()))?;
        let connection = connecting.await.map_err(|e| connect_error(e.to_string()))?;
        if negotiated_alpn(&connection).as_deref() != Some(ALPN) {
            connection.close(AppCode::Alpn.var_int(), b"ism/1 was not negotiated");
            return Err(connect_error("the server did not select ALPN ism/1".into()));
        }
        *cached = Some(connection.clone());
        Ok(connection)
    }

    /// The connection slot of `peer`.
    fn slot(&self, peer: &NodeId) -> Arc<tokio::sync::Mutex<Option<Connection>>> {
        let mut slots = match self.shared.outgoing.lock() {
            Ok(slots) => slots,
            Err(poisoned) => poisoned.into_inner(),
        };
        slots.entry(peer.clone()).or_default().clone()
    }
}

/// What an endpoint counted (for `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportCounts {
    /// Requests refused, by reason code.
    pub refused: std::collections::BTreeMap<&'static str, u64>,
    /// Requests that passed the receiver duties and went to the node.
    pub handed_over: u64,
    /// Connections from members open now (this node serving).
    pub open_connections: u64,
}

/// The counts of an endpoint, without keeping it alive.
#[derive(Debug, Clone)]
pub struct CountsHandle(Arc<Mutex<TransportCounts>>);

impl CountsHandle {
    /// The counts now.
    pub fn get(&self) -> TransportCounts {
        match self.0.lock() {
            Ok(counts) => counts.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Why an endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// TLS configuration.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The UDP socket.
    #[error("binding UDP {addr}: {source}")]
    Bind {
        /// Where.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
}

enum ReadFailure {
    /// The peer reset the stream or the connection went: nothing to answer.
    Stream,
    /// The bytes are refused (framing).
    Refused(Refusal),
}

async fn read_request(
    recv: &mut RecvStream,
    max_payload_bytes: usize,
) -> Result<Vec<u8>, ReadFailure> {
    let mut reader = StreamReader::new(max_payload_bytes);
    // Chunks as quinn holds them: no buffer to allocate and zero per stream.
    loop {
        match recv.read_chunk(reader.wanted().max(1), true).await {
            Ok(Some(chunk)) => reader.push(&chunk.bytes).map_err(ReadFailure::Refused)?,
            Ok(None) => break,
            Err(_) => return Err(ReadFailure::Stream),
        }
    }
    reader
        .finish()
        .map(|bytes| bytes.payload)
        .map_err(ReadFailure::Refused)
}

/// The member whose certificate the connection's peer presented.
fn peer_member<'a>(connection: &Connection, membership: &'a Membership) -> Option<&'a Member> {
    let identity = connection.peer_identity()?;
    let chain = identity
        .downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
        .ok()?;
    let first = chain.first()?;
    let pin = crate::identity::certificate_sha256(first.as_ref());
    membership.by_certificate(pin.bytes())
}

fn negotiated_alpn(connection: &Connection) -> Option<Vec<u8>> {
    let data = connection.handshake_data()?;
    let data = data
        .downcast::<quinn::crypto::rustls::HandshakeData>()
        .ok()?;
    data.protocol
}
