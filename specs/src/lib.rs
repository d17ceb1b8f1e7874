//! `isthmus-spec`: ISM/1, the Isthmus common message standard.
//!
//! Owns the message types (an [`Envelope`] around one [`Body`]), strict JSON
//! parsing and RFC 8785 canonical bytes ([`jcs`]), Ed25519 signatures over a
//! domain-separated canonical form ([`sign`]), validation of identifiers
//! (ISIN, LEI, BIC, MIC, ISO 4217 currency), amounts, dates and ids, framing
//! on QUIC streams ([`frame`]), and the reason codes every refusal carries
//! ([`ReasonCode`]). The normative text is `specs/ISM-1.md`; test vectors are
//! under `specs/vectors/`.
//!
//! This crate does no I/O and has no async runtime: time and randomness are
//! passed in by callers (DESIGN.md §1).
//!
//! ```
//! use isthmus_spec::{Envelope, ReasonCode};
//! let refused = Envelope::decode(br#"{"version":"ISM/2"}"#);
//! assert_eq!(refused.err().map(|r| r.code), Some(ReasonCode::VersionUnsupported));
//! ```

pub mod body;
pub mod decimal;
pub mod envelope;
pub mod frame;
pub mod ident;
pub mod ids;
pub mod jcs;
pub mod json;
pub mod legs;
pub mod limits;
pub mod membership;
pub mod protocol;
pub mod quote;
pub mod reason;
pub mod sign;
pub mod time;
pub mod vectors;

pub use body::{Body, Kind};
pub use envelope::{validate, Envelope, ISM_VERSION};
pub use reason::{ReasonCode, Rejection};
