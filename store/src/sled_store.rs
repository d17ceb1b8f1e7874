//! The durable default: one sled tree; `flush` is sled's fsync.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{StoreError, StoreOp};
use crate::kv::{floor_range, KvPair, KvStore, WriteBatch};

/// Longest wait for another holder of a sled store's lock to let go.
pub const SLED_LOCK_WAIT_MS: u64 = 5_000;

/// A sled database behind [`KvStore`].
#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
}

fn classify(op: StoreOp, error: sled::Error) -> StoreError {
    match error {
        sled::Error::Io(source) => StoreError::Io { op, source },
        sled::Error::Corruption { at, .. } => StoreError::Corrupt {
            op,
            detail: match at {
                Some(at) => format!("damaged data at {at:?}"),
                None => "damaged data".into(),
            },
        },
        other => StoreError::Backend {
            op,
            detail: other.to_string(),
        },
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`.
    ///
    /// sled holds an exclusive file lock while a database is open, and its
    /// background threads release it shortly after the last handle is
    /// dropped; a process that restarts, or a tool opening a store another
    /// process just closed, waits up to [`SLED_LOCK_WAIT_MS`] for it.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let started = Instant::now();
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
                        && started.elapsed() < Duration::from_millis(SLED_LOCK_WAIT_MS) =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(sled::Error::Io(error)) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    return Err(StoreError::Busy {
                        path: dir.to_path_buf(),
                        waited_ms: SLED_LOCK_WAIT_MS,
                    })
                }
                Err(error) => return Err(classify(StoreOp::Open, error)),
            }
        }
    }

    /// The underlying tree, for tests that tamper with stored bytes.
    pub fn raw(&self) -> &sled::Db {
        &self.db
    }
}

impl KvStore for SledStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| classify(StoreOp::Read, e))
    }

    fn get_floor(&self, prefix: &[u8], key: &[u8]) -> Result<Option<KvPair>, StoreError> {
        let Some(range) = floor_range(prefix, key) else {
            return Ok(None);
        };
        match self.db.range::<Vec<u8>, _>(range).next_back() {
            Some(Ok((k, v))) => Ok(Some((k.to_vec(), v.to_vec()))),
            Some(Err(e)) => Err(classify(StoreOp::Read, e)),
            None => Ok(None),
        }
    }

    fn scan_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        for item in self.db.range(from.max(prefix)..) {
            let (key, value) = item.map_err(|e| classify(StoreOp::Read, e))?;
            if !key.starts_with(prefix) || !visit(&key, &value) {
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
            .map_err(|e| classify(StoreOp::Write, e))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| classify(StoreOp::Flush, e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn writes_survive_a_reopen_and_scans_stay_in_their_prefix() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            store
                .commit(vec![
                    (b"a/1".to_vec(), Some(b"x".to_vec())),
                    (b"a/2".to_vec(), Some(b"y".to_vec())),
                    (b"b/1".to_vec(), Some(b"z".to_vec())),
                ])
                .unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        let mut seen = Vec::new();
        store
            .scan_from(b"a/", b"a/2", &mut |k, v| {
                seen.push((k.to_vec(), v.to_vec()));
                true
            })
            .unwrap();
        assert_eq!(seen, vec![(b"a/2".to_vec(), b"y".to_vec())]);
        assert_eq!(
            store.get_floor(b"a/", b"a/9").unwrap().map(|(k, _)| k),
            Some(b"a/2".to_vec())
        );
        assert_eq!(store.get_floor(b"b/", b"a/9").unwrap(), None);
        assert_eq!(
            store.get_floor(b"a/", b"c").unwrap().map(|(k, _)| k),
            Some(b"a/2".to_vec()),
            "past the prefix, the prefix's last key, not b/1"
        );
    }
}
