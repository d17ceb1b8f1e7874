//! What a peer can make a node hold (ISM-1 §8.6), with the units in the names.

use isthmus_spec::limits::MAX_MESSAGE_BYTES;

/// The transport's limits. The defaults are the minimums of ISM-1 §8.6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections one member may have open to this node at once; the
    /// newest beyond it is closed with `ISM_EXCESSIVE_LOAD`.
    pub connections_per_peer: usize,
    /// Handshakes in progress at once (peers not yet identified); more are refused.
    pub handshakes_in_progress: usize,
    /// Bidirectional streams a peer may have open at once on one connection
    /// (QUIC MAX_STREAMS: beyond it the peer waits).
    pub open_streams_per_connection: u32,
    /// The largest frame payload read, in bytes (ISM-1 §8.2 rule 1).
    pub frame_payload_bytes: usize,
    /// From a stream's opening to the end of its request, milliseconds.
    pub request_timeout_ms: u64,
    /// A connection with no traffic for this long is closed, milliseconds.
    pub idle_timeout_ms: u64,
    /// Streams of one connection refused (any reason code) before the
    /// connection is closed with `ISM_EXCESSIVE_LOAD` (ISM-1 §8.4 rule 9).
    pub refusals_per_connection: u32,
    /// Requests this node has open to one peer at once, as a client.
    pub in_flight_requests_per_peer: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connections_per_peer: 4,
            handshakes_in_progress: 64,
            open_streams_per_connection: 64,
            frame_payload_bytes: MAX_MESSAGE_BYTES,
            request_timeout_ms: 10_000,
            idle_timeout_ms: 30_000,
            refusals_per_connection: 1_000,
            in_flight_requests_per_peer: 64,
        }
    }
}
