//! `isthmus-conformance`: proves that an implementation speaks ISM/1.
//!
//! Owns the test-vector runner and black-box scenarios run against any node
//! over QUIC, and their reports. It uses only the public API of other crates
//! (DESIGN.md §1).
//!
//! Status: the vector runner lives in `isthmus-spec` tests and `isthmus spec
//! validate` for now; black-box scenarios come with the relay.

/// The ISM/1 standard conformance is checked against.
pub use isthmus_spec::ISM_VERSION;
