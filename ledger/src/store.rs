//! The key-value storage the ledger shell writes through.
//!
//! Like rust-lightning's `KVStore`, the trait is small so that the backend can
//! be swapped: [`SledStore`] is durable and the default; [`MemoryStore`] keeps
//! everything in memory for tests and simulations, and can be told to fail.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

/// A stored key and its value.
pub type KvPair = (Vec<u8>, Vec<u8>);

/// Writes applied together or not at all: `(key, Some(value))` puts, `(key, None)` deletes.
pub type WriteBatch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Ordered key-value storage with atomic batches and an explicit durability point.
pub trait KvStore {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The pair with the greatest key at or before `key` that starts with `prefix`.
    fn get_floor(&self, prefix: &[u8], key: &[u8]) -> Result<Option<KvPair>, StoreError>;
    /// Calls `visit` with every pair whose key starts with `prefix`, in key
    /// order, until it returns `false`. Nothing is collected, so a journal of
    /// any length can be replayed.
    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError>;
    /// Applies all writes atomically (not yet durably).
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError>;
    /// Returns once every applied write is durable.
    fn flush(&self) -> Result<(), StoreError>;
}

/// Longest wait for another holder of a sled store's lock to let go.
pub const SLED_LOCK_WAIT_MS: u64 = 5_000;

/// The durable default: one sled tree; `flush` is sled's fsync.
#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`.
    ///
    /// sled holds an exclusive file lock while a database is open, and its
    /// background threads release it shortly after the last handle is
    /// dropped; a process that restarts, or a tool opening a store another
    /// process just closed, waits up to [`SLED_LOCK_WAIT_MS`] for it.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let started = std::time::Instant::now();
        loop {
            let opened = sled::Config::new()
                .path(dir)
                // We flush explicitly at every acknowledgement; no background timer needed.
                .flush_every_ms(None)
                .open();
            match opened {
                Ok(db) => return Ok(SledStore { db }),
                Err(sled::Error::Io(error))
                    if error.kind() == std::io::ErrorKind::WouldBlock
                        && started.elapsed()
                            < std::time::Duration::from_millis(SLED_LOCK_WAIT_MS) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(error) => {
                    return Err(StoreError(format!("opening {}: {error}", dir.display())))
                }
            }
        }
    }

    /// The underlying tree, for tests that tamper with stored bytes.
    pub fn raw(&self) -> &sled::Db {
        &self.db
    }
}

impl KvStore for SledStore {
    fn get_floor(&self, prefix: &[u8], key: &[u8]) -> Result<Option<KvPair>, StoreError> {
        match self.db.range(prefix..=key).next_back() {
            Some(Ok((k, v))) => Ok(Some((k.to_vec(), v.to_vec()))),
            Some(Err(e)) => Err(StoreError(e.to_string())),
            None => Ok(None),
        }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| StoreError(e.to_string()))
    }

    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        for item in self.db.scan_prefix(prefix) {
            let (key, value) = item.map_err(|e| StoreError(e.to_string()))?;
            if !visit(&key, &value) {
                break;
            }
        }
        Ok(())
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch {
            match value {
                Some(value) => sled_batch.insert(key, value),
                None => sled_batch.remove(key),
            }
        }
        self.db
            .apply_batch(sled_batch)
            .map_err(|e| StoreError(e.to_string()))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| StoreError(e.to_string()))
    }
}

type Table = BTreeMap<Vec<u8>, Vec<u8>>;

/// An in-memory store; clones share the same data, so a test can keep a
/// handle, drop the ledger and reopen it on the same contents.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    data: Arc<Mutex<Table>>,
    fail_writes: Arc<AtomicBool>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Makes every later `apply` fail (or succeed again), to test failure handling.
    pub fn fail_writes(&self, fail: bool) {
        self.fail_writes.store(fail, Ordering::SeqCst);
    }

    /// Overwrites a value directly, bypassing the ledger, to test tamper detection.
    pub fn poke(&self, key: &[u8], value: Vec<u8>) {
        if let Ok(mut data) = self.data.lock() {
            data.insert(key.to_vec(), value);
        }
    }

    fn data(&self) -> Result<std::sync::MutexGuard<'_, Table>, StoreError> {
        self.data
            .lock()
            .map_err(|_| StoreError("memory store lock poisoned".into()))
    }
}

impl KvStore for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.data()?.get(key).cloned())
    }

    fn get_floor(&self, prefix: &[u8], key: &[u8]) -> Result<Option<KvPair>, StoreError> {
        Ok(self
            .data()?
            .range(prefix.to_vec()..=key.to_vec())
            .next_back()
            .map(|(k, v)| (k.clone(), v.clone())))
    }

    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let data = self.data()?;
        for (key, value) in data
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
        {
            if !visit(key, value) {
                break;
            }
        }
        Ok(())
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError("injected write failure".into()));
        }
        let mut data = self.data()?;
        for (key, value) in batch {
            match value {
                Some(value) => data.insert(key, value),
                None => data.remove(&key),
            };
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
