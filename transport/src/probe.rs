//! A client that puts raw bytes on an ISM/1 stream and reports what came
//! back: how tests (and a conformance suite) play a broken or hostile peer
//! against a node — oversize, truncated, extra or missing frames, another
//! ALPN, a flood of connections — which [`crate::Endpoint`], a correct peer,
//! never sends. A node uses [`crate::Endpoint`].

use std::net::SocketAddr;
use std::time::Duration;

use isthmus_spec::body::Body;
use isthmus_spec::ids::{Hex32, NodeId};
use isthmus_spec::membership::Membership;
use isthmus_spec::{Envelope, ReasonCode};

use crate::duties::check_message;
use isthmus_spec::limits::MAX_MESSAGE_BYTES;

use crate::limits::Limits;
use crate::tls::{TlsError, TlsIdentity, ALPN};

/// What went wrong with a probe itself (not what the node answered).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The TLS configuration could not be built.
    #[error("the probe's TLS configuration: {0}")]
    Tls(#[from] TlsError),
    /// The local socket.
    #[error("the probe's socket: {0}")]
    Io(#[from] std::io::Error),
    /// The connection could not start.
    #[error("connecting: {0}")]
    Connect(String),
    /// The handshake failed, or the node closed the connection.
    #[error("the connection: {0}")]
    Closed(#[from] quinn::ConnectionError),
    /// The stream failed.
    #[error("the stream: {0}")]
    Stream(String),
    /// No answer came in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The answer is not a signed Error from the node.
    #[error("the answer is not a valid Error: {0}")]
    NotAnError(String),
}

/// A raw QUIC client with a member's certificate, pinning one server.
pub struct Probe {
    endpoint: quinn::Endpoint,
}

impl Probe {
    /// A client presenting `tls`, pinning the server whose certificate has
    /// the SHA-256 `server_pin`, offering `ism/1` (or the ALPN ids `alpn`).
    pub fn new(
        tls: &TlsIdentity,
        server_pin: &Hex32,
        alpn: Option<Vec<Vec<u8>>>,
    ) -> Result<Probe, ProbeError> {
        let config = tls.client_config_offering(
            server_pin,
            &Limits::default(),
            alpn.unwrap_or_else(|| vec![ALPN.to_vec()]),
        )?;
        let mut endpoint = quinn::Endpoint::client(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        endpoint.set_default_client_config(config);
        Ok(Probe { endpoint })
    }

    /// [`Probe::new`] offering ALPN `ism/1` in a QUIC `version` other than
    /// 1 (one quinn speaks, such as the draft 0xff00001d): for conformance
    /// probes of a server's version check (ISM-1 §8.1 rule 1).
    pub fn with_quic_version(
        tls: &TlsIdentity,
        server_pin: &Hex32,
        version: u32,
    ) -> Result<Probe, ProbeError> {
        let mut config = tls.client_config(server_pin, &Limits::default())?;
        config.version(version);
        let mut endpoint = quinn::Endpoint::client(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        endpoint.set_default_client_config(config);
        Ok(Probe { endpoint })
    }

    /// A connection to the node at `addr` (server name `server`).
    pub async fn connect(
        &self,
        addr: SocketAddr,
        server: &NodeId,
    ) -> Result<quinn::Connection, ProbeError> {
        self.endpoint
            .connect(addr, server.as_str())
            .map_err(|e| ProbeError::Connect(e.to_string()))?
            .await
            .map_err(ProbeError::Closed)
    }

    /// Opens one bidirectional stream, writes `bytes`, ends it, and returns
    /// every byte the node sent back before it ended the stream (none for
    /// an acknowledgement, ISM-1 §8.3).
    pub async fn raw_request(
        &self,
        addr: SocketAddr,
        server: &NodeId,
        bytes: &[u8],
        wait: Duration,
    ) -> Result<Vec<u8>, ProbeError> {
        let connection = self.connect(addr, server).await?;
        let stream = |e: &dyn std::fmt::Display| ProbeError::Stream(e.to_string());
        let (mut send, mut recv) = connection.open_bi().await.map_err(|e| stream(&e))?;
        send.write_all(bytes).await.map_err(|e| stream(&e))?;
        send.finish().map_err(|e| stream(&e))?;
        let answer = tokio::time::timeout(wait, recv.read_to_end(4 + MAX_MESSAGE_BYTES))
            .await
            .map_err(|_| ProbeError::Timeout(wait))?
            .map_err(|e| stream(&e))?;
        connection.close(crate::AppCode::NoError.var_int(), b"");
        Ok(answer)
    }
}

/// One message as a frame (ISM-1 §8.3): its length, then its canonical bytes.
pub fn framed(message: &Envelope) -> Result<Vec<u8>, isthmus_spec::Rejection> {
    isthmus_spec::frame::encode_frame(&message.to_canonical_bytes())
}

/// The reason code and field of the signed Error `answer` (one frame) that
/// `from` sent to `own`, its duties checked as a node checks them.
pub fn error_in(
    answer: &[u8],
    from: &NodeId,
    own: &NodeId,
    membership: &Membership,
) -> Result<(ReasonCode, Option<String>), ProbeError> {
    let payload = answer
        .get(4..)
        .ok_or_else(|| ProbeError::NotAnError(format!("{} bytes, no frame", answer.len())))?;
    let member = membership
        .member(from)
        .ok_or_else(|| ProbeError::NotAnError(format!("{from} is no member")))?;
    let checked = check_message(payload, member, own, membership)
        .map_err(|refusal| ProbeError::NotAnError(refusal.rejection.to_string()))?;
    match &checked.message.body {
        Body::Error(error) => {
            let code = ReasonCode::from_wire(error.code.as_str()).ok_or_else(|| {
                ProbeError::NotAnError(format!("{} is no ISM/1 reason code", error.code))
            })?;
            Ok((code, error.field.as_ref().map(|f| f.to_string())))
        }
        other => Err(ProbeError::NotAnError(format!(
            "a {} instead",
            other.kind()
        ))),
    }
}
