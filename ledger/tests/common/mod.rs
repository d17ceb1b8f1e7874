//! Files for tests: memory files that count syncs and can refuse to create
//! files of one kind, to fail one step of a ledger's work and no other.

#![allow(dead_code)] // each test file uses what it needs

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use isthmus_ledger::Operation;
use isthmus_store::log::{LogFiles, MemoryLogFiles};
use isthmus_store::{StoreError, StoreOp};

/// [`MemoryLogFiles`] that count the syncs that succeeded and refuse to
/// create any file whose name starts with `refuse_create`.
#[derive(Clone)]
pub struct TestFiles {
    pub inner: MemoryLogFiles,
    pub synced: Arc<AtomicU64>,
    pub refuse_create: Option<&'static str>,
}

impl TestFiles {
    pub fn new(inner: MemoryLogFiles) -> TestFiles {
        TestFiles {
            inner,
            synced: Arc::default(),
            refuse_create: None,
        }
    }
}

impl LogFiles for TestFiles {
    fn default_segment_bytes(&self) -> u64 {
        self.inner.default_segment_bytes()
    }
    fn read_only(&self) -> bool {
        self.inner.read_only()
    }
    fn list(&self) -> Result<Vec<String>, StoreError> {
        self.inner.list()
    }
    fn len(&self, name: &str) -> Result<Option<u64>, StoreError> {
        self.inner.len(name)
    }
    fn read(&self, name: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read(name, max_bytes)
    }
    fn read_at(&self, name: &str, offset: u64, buffer: &mut [u8]) -> Result<(), StoreError> {
        self.inner.read_at(name, offset, buffer)
    }
    fn create(&self, name: &str, contents: &[u8], total_bytes: u64) -> Result<(), StoreError> {
        if self
            .refuse_create
            .is_some_and(|prefix| name.starts_with(prefix))
        {
            return Err(StoreError::Injected { op: StoreOp::Write });
        }
        self.inner.create(name, contents, total_bytes)
    }
    fn write_at(&self, name: &str, offset: u64, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner.write_at(name, offset, bytes)
    }
    fn sync(&self, name: &str) -> Result<(), StoreError> {
        self.inner.sync(name)?;
        self.synced.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn remove(&self, name: &str) -> Result<(), StoreError> {
        self.inner.remove(name)
    }
}

/// A lock of one cent of USD from `DEUTDEFF/A` to `CHASUS33/B`.
pub fn cent_lock(hashlock: &[u8; 32], expiry_ms: u64) -> Operation {
    Operation::lock(
        "DEUTDEFF/A",
        "CHASUS33/B",
        "USD",
        "0.01",
        hashlock,
        expiry_ms,
    )
    .unwrap()
}
