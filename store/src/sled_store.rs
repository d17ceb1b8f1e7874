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

/// Whether sled could not open a store because another handle holds its
/// file lock. sled 0.34 reports that as an `ErrorKind::Other` error whose
/// message quotes the lock's `WouldBlock` error; a plain `WouldBlock` (should
/// a later sled pass the lock's error on as it is) counts too.
fn is_lock_contention(error: &std::io::Error) -> bool {
    if error.kind() == std::io::ErrorKind::WouldBlock {
        return true;
    }
    let message = error.to_string();
    message.starts_with("could not acquire lock on") && message.contains("WouldBlock")
}

impl SledStore {
    /// Opens (or creates) the store in `dir`.
    ///
    /// sled holds an exclusive file lock while a database is open, and its
    /// background threads release it shortly after the last handle is
    /// dropped; a process that restarts, or a tool opening a store another
    /// process just closed, waits up to [`SLED_LOCK_WAIT_MS`] for it.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        SledStore::open_waiting(dir, Duration::from_millis(SLED_LOCK_WAIT_MS))
    }

    /// Opens (or creates) the store in `dir`, waiting up to `wait` for
    /// another holder of its lock to let go, then failing with
    /// [`StoreError::Busy`].
    pub fn open_waiting(dir: &Path, wait: Duration) -> Result<SledStore, StoreError> {
        let started = Instant::now();
        loop {
            let opened = sled::Config::new()
                .path(dir)
                // We flush explicitly at every acknowledgement; no background timer needed.
                .flush_every_ms(None)
                .open();
            match opened {
                Ok(db) => return Ok(SledStore { db }),
                Err(sled::Error::Io(error)) if is_lock_contention(&error) => {
                    let left = wait.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        return Err(StoreError::Busy {
                            path: dir.to_path_buf(),
                            waited_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        });
                    }
                    std::thread::sleep(left.min(Duration::from_millis(10)));
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
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
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

    #[test]
    fn an_open_waits_for_another_handle_to_let_go_of_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let holder = SledStore::open(dir.path()).unwrap();
        holder
            .commit(vec![(b"k".to_vec(), Some(b"v".to_vec()))])
            .unwrap();
        // Another thread lets go while this one is waiting; sled's background
        // threads release the file lock shortly after.
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(holder);
        });
        let reopened = SledStore::open_waiting(dir.path(), Duration::from_secs(60));
        releaser.join().unwrap();
        let reopened = reopened.unwrap();
        assert_eq!(reopened.get(b"k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn an_open_gives_up_as_busy_once_its_wait_is_over() {
        let dir = tempfile::tempdir().unwrap();
        let holder = SledStore::open(dir.path()).unwrap();
        let path = dir.path().to_path_buf();
        let (outcome_tx, outcome_rx) = std::sync::mpsc::channel();
        let opener = std::thread::spawn(move || {
            let outcome = SledStore::open_waiting(&path, Duration::from_millis(50));
            outcome_tx.send(outcome.map(drop)).unwrap();
        });
        // The holder stays open until the opener answers (or, should it wait
        // on and on, until long after its wait, so the test ends either way).
        let outcome = outcome_rx.recv_timeout(Duration::from_secs(30));
        drop(holder);
        opener.join().unwrap();
        match outcome {
            Ok(Err(StoreError::Busy { path, waited_ms })) => {
                assert_eq!(path, dir.path());
                assert_eq!(waited_ms, 50);
            }
            Ok(other) => {
                panic!("expected Busy while another handle holds the store, got {other:?}")
            }
            Err(_) => panic!("the open went on waiting past its wait"),
        }
    }

    #[test]
    fn only_the_locks_would_block_error_counts_as_contention() {
        use std::io::{Error, ErrorKind};
        // What sled 0.34 returns when the lock is held.
        let held = Error::other(
            "could not acquire lock on \"/tmp/x/db\": Os { code: 11, kind: WouldBlock, \
             message: \"Resource temporarily unavailable\" }",
        );
        assert!(is_lock_contention(&held));
        assert!(is_lock_contention(&Error::from(ErrorKind::WouldBlock)));
        let lock_failed = Error::other(
            "could not acquire lock on \"/tmp/x/db\": Os { code: 37, kind: Uncategorized, \
             message: \"No locks available\" }",
        );
        assert!(
            !is_lock_contention(&lock_failed),
            "the lock failed, nobody holds it"
        );
        assert!(!is_lock_contention(&Error::other("read WouldBlock")));
        assert!(!is_lock_contention(&Error::from(ErrorKind::NotADirectory)));
    }

    #[test]
    fn an_open_the_system_refuses_is_an_io_error_not_busy() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"not a directory").unwrap();
        // Not retried: an error other than the lock's comes back at once.
        let refused = SledStore::open_waiting(&file.join("db"), Duration::from_secs(2));
        assert!(
            matches!(
                refused,
                Err(StoreError::Io {
                    op: StoreOp::Open,
                    ..
                })
            ),
            "{refused:?}"
        );
    }
}
