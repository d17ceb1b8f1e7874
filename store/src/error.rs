//! Typed storage failures.

use std::path::PathBuf;

/// What the store was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    /// Opening the store.
    Open,
    /// Reading a value or scanning keys.
    Read,
    /// Applying a batch of writes.
    Write,
    /// Making applied writes durable.
    Flush,
}

impl std::fmt::Display for StoreOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreOp::Open => "opening",
            StoreOp::Read => "reading",
            StoreOp::Write => "writing",
            StoreOp::Flush => "flushing",
        })
    }
}

/// A storage failure. Every variant says what the store was doing; callers
/// decide from the variant whether anything may have been written (see
/// [`StoreError::may_have_written`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the store open.
    #[error("the store at {} is in use by another process (waited {waited_ms} ms for it)", path.display())]
    Busy {
        /// The store's directory.
        path: PathBuf,
        /// How long the open waited.
        waited_ms: u64,
    },
    /// The operating system refused an operation.
    #[error("{op} the store failed: {source}")]
    Io {
        /// What was being done.
        op: StoreOp,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The stored bytes are damaged.
    #[error("{op} the store found damaged data: {detail}")]
    Corrupt {
        /// What was being done.
        op: StoreOp,
        /// The backend's description of the damage.
        detail: String,
    },
    /// The backend failed in a way it does not classify (a backend bug, an
    /// unsupported configuration).
    #[error("{op} the store failed: {detail}")]
    Backend {
        /// What was being done.
        op: StoreOp,
        /// The backend's description.
        detail: String,
    },
    /// A failure a test asked a [`crate::MemoryStore`] for.
    #[error("{op} the store failed: injected failure")]
    Injected {
        /// What was being done.
        op: StoreOp,
    },
}

impl StoreError {
    /// What the store was doing.
    pub fn op(&self) -> StoreOp {
        match self {
            StoreError::Busy { .. } => StoreOp::Open,
            StoreError::Io { op, .. }
            | StoreError::Corrupt { op, .. }
            | StoreError::Backend { op, .. }
            | StoreError::Injected { op } => *op,
        }
    }

    /// Whether writes of the failed call may have reached the store: a failed
    /// flush leaves applied writes in place, perhaps durable, perhaps not; a
    /// failed write may be partly applied by a backend without atomic batches.
    /// Reads and opens write nothing.
    pub fn may_have_written(&self) -> bool {
        matches!(self.op(), StoreOp::Write | StoreOp::Flush)
    }
}
