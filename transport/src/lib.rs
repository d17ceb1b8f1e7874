//! `isthmus-transport`: ISM/1 over QUIC with mutual TLS (ISM-1 §8).
//!
//! - [`identity`]: a network's CA, node certificates and signing keys, and
//!   the membership file that pins them (what `isthmus keys init` writes);
//! - [`tls`]: rustls (ring provider) configurations for both sides: TLS 1.3,
//!   client certificates required, the network CA only, ALPN `ism/1`, the
//!   server pinned by its certificate's SHA-256;
//! - [`duties`]: the receiver duties of ISM-1 §8.4 steps 1–5 as a pure
//!   function of a stream's bytes, the peer and the membership;
//! - [`endpoint`]: the quinn endpoint that serves and sends requests, one
//!   stream each, answering refusals with signed Errors;
//! - [`codes`] and [`limits`]: the QUIC application error codes (§8.5) and
//!   the limits (§8.6);
//! - [`broken`]: the faults of the conformance suite's broken nodes (only
//!   with the `broken-nodes` feature);
//! - [`probe`]: a raw client for tests and conformance probes that plays a
//!   broken or hostile peer.
//!
//! Exactly-once (§8.4 step 6) is the node's: its record of handling a
//! message is part of the durable write of what the message changed.

pub mod broken;
pub mod codes;
pub mod duties;
pub mod endpoint;
pub mod identity;
pub mod limits;
pub mod probe;
pub mod tls;

pub use codes::AppCode;
pub use endpoint::{Answer, Delivered, Endpoint, Handler, NodeContext, Request, SendError};
pub use identity::{certificate_sha256, NetworkIdentity, NodeSpec};
pub use limits::Limits;
/// The QUIC implementation, for the connections a [`probe::Probe`] returns.
pub use quinn;
pub use tls::TlsIdentity;
