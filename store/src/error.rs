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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_the_store_was_doing() {
        for (op, word) in [
            (StoreOp::Open, "opening"),
            (StoreOp::Read, "reading"),
            (StoreOp::Write, "writing"),
            (StoreOp::Flush, "flushing"),
        ] {
            assert_eq!(op.to_string(), word);
            let injected = StoreError::Injected { op }.to_string();
            assert_eq!(
                injected,
                format!("{word} the store failed: injected failure")
            );
            let corrupt = StoreError::Corrupt {
                op,
                detail: "bad page".into(),
            };
            assert_eq!(
                corrupt.to_string(),
                format!("{word} the store found damaged data: bad page")
            );
        }
        let busy = StoreError::Busy {
            path: PathBuf::from("/var/lib/isthmus"),
            waited_ms: 5_000,
        };
        assert_eq!(
            busy.to_string(),
            "the store at /var/lib/isthmus is in use by another process (waited 5000 ms for it)"
        );
    }

    #[test]
    fn only_failed_writes_and_flushes_may_have_written() {
        let failed = |op| StoreError::Io {
            op,
            source: std::io::Error::other("disk"),
        };
        assert!(!failed(StoreOp::Open).may_have_written());
        assert!(!failed(StoreOp::Read).may_have_written());
        assert!(failed(StoreOp::Write).may_have_written());
        assert!(failed(StoreOp::Flush).may_have_written());
        let busy = StoreError::Busy {
            path: PathBuf::from("db"),
            waited_ms: 0,
        };
        assert_eq!(busy.op(), StoreOp::Open);
        assert!(!busy.may_have_written());
        assert!(!StoreError::Backend {
            op: StoreOp::Read,
            detail: String::new()
        }
        .may_have_written());
    }
}
