//! The QUIC application error codes of ISM-1 §8.5.

use quinn::VarInt;

/// Why a node reset or stopped a stream or closed a connection (ISM-1 §8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppCode {
    /// Closing a connection no longer needed, or shutting down.
    NoError,
    /// The node cannot go on for a reason of its own.
    Internal,
    /// The peer's certificate verifies but matches no member (ISM-1 §8.1 rule 10).
    PeerUnknown,
    /// `ism/1` was not negotiated (ISM-1 §8.1 rule 7).
    Alpn,
    /// A stream stopped or reset unread or part-read (ISM-1 §8.3 rule 8).
    StreamRefused,
    /// The peer exceeds a limit or keeps sending refused input.
    ExcessiveLoad,
}

impl AppCode {
    /// Every code, in the order of the table.
    pub const ALL: [AppCode; 6] = [
        AppCode::NoError,
        AppCode::Internal,
        AppCode::PeerUnknown,
        AppCode::Alpn,
        AppCode::StreamRefused,
        AppCode::ExcessiveLoad,
    ];

    /// The code on the wire.
    pub fn value(self) -> u32 {
        match self {
            AppCode::NoError => 0x0,
            AppCode::Internal => 0x1,
            AppCode::PeerUnknown => 0x2,
            AppCode::Alpn => 0x3,
            AppCode::StreamRefused => 0x4,
            AppCode::ExcessiveLoad => 0x5,
        }
    }

    /// The name in the spec's table.
    pub fn name(self) -> &'static str {
        match self {
            AppCode::NoError => "ISM_NO_ERROR",
            AppCode::Internal => "ISM_INTERNAL",
            AppCode::PeerUnknown => "ISM_PEER_UNKNOWN",
            AppCode::Alpn => "ISM_ALPN",
            AppCode::StreamRefused => "ISM_STREAM_REFUSED",
            AppCode::ExcessiveLoad => "ISM_EXCESSIVE_LOAD",
        }
    }

    /// As quinn takes it.
    pub fn var_int(self) -> VarInt {
        VarInt::from_u32(self.value())
    }

    /// The code with this wire value, if ISM-1 defines it.
    pub fn from_value(value: u64) -> Option<AppCode> {
        AppCode::ALL
            .into_iter()
            .find(|c| u64::from(c.value()) == value)
    }
}

impl std::fmt::Display for AppCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (0x{:x})", self.name(), self.value())
    }
}
