//! `isthmus-conformance`: proves that an implementation, in any language,
//! speaks ISM/1 (issue 14).
//!
//! - [`vectors`]: the vector runner (ISM-1 §10) over a vector directory;
//! - [`scenarios`]: black-box scenarios run against a node over QUIC, each
//!   addressed by the clause it checks, selected by level, role and
//!   strength ([`catalogue`]);
//! - [`harness`] and [`network`]: the counterpart nodes the suite plays and
//!   the network directory they come from; [`fixtures`]: the bodies it sends;
//! - [`coverage`]: every MUST and SHOULD sentence of the spec with what
//!   checks it (`specs/requirements/`);
//! - [`report`]: verdicts and the summary, JUnit XML and JSON reports.
//!
//! It uses only the public API of other crates (DESIGN.md §1): the suite
//! sees the target as any other implementation would.

pub mod catalogue;
pub mod coverage;
pub mod fixtures;
pub mod harness;
pub mod network;
pub mod report;
pub mod scenarios;
pub mod vectors;

/// The ISM/1 standard conformance is checked against.
pub use isthmus_spec::ISM_VERSION;
