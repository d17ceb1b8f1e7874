//! An in-memory store for tests and simulations, with failure injection and
//! crash simulation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{StoreError, StoreOp};
use crate::kv::{floor_range, KvPair, KvStore, WriteBatch};

type Table = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Debug, Default)]
struct Contents {
    /// What reads see: every applied write.
    data: Table,
    /// The value each key had before its first write since the last flush
    /// (`None`: the key was absent); undoing it in reverse restores the
    /// durable contents.
    undo: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// An in-memory store; clones share the same contents, so a test can keep a
/// handle, drop what runs on the store and reopen it on the same contents.
///
/// Writes are applied at once and become durable at the next successful
/// [`KvStore::flush`]; [`MemoryStore::crash`] throws away everything applied
/// since then, as a power loss would.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    contents: Arc<Mutex<Contents>>,
    fail_writes: Arc<AtomicBool>,
    fail_flushes: Arc<AtomicBool>,
    /// Flushes that still succeed before `fail_flushes` turns on (`u64::MAX`: no countdown).
    flushes_before_failing: Arc<AtomicU64>,
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore {
            contents: Arc::default(),
            fail_writes: Arc::default(),
            fail_flushes: Arc::default(),
            flushes_before_failing: Arc::new(AtomicU64::new(u64::MAX)),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Lets `successful` more flushes succeed, then fails every later one
    /// (as [`MemoryStore::fail_flushes`]), to fail a chosen step of a
    /// multi-step operation.
    pub fn fail_flushes_after(&self, successful: u64) {
        self.flushes_before_failing
            .store(successful, Ordering::SeqCst);
    }

    /// Makes every later `apply` fail (or succeed again) without writing anything.
    pub fn fail_writes(&self, fail: bool) {
        self.fail_writes.store(fail, Ordering::SeqCst);
    }

    /// Makes every later `flush` fail (or succeed again), as an fsync error
    /// would: writes applied before stay visible but are not durable.
    pub fn fail_flushes(&self, fail: bool) {
        self.fail_flushes.store(fail, Ordering::SeqCst);
        self.flushes_before_failing
            .store(u64::MAX, Ordering::SeqCst);
    }

    /// Simulates a crash: every write applied since the last successful flush
    /// is lost. Handles on the store see the durable contents afterwards.
    pub fn crash(&self) {
        let mut contents = self.contents();
        let undo = std::mem::take(&mut contents.undo);
        for (key, before) in undo.into_iter().rev() {
            match before {
                Some(value) => contents.data.insert(key, value),
                None => contents.data.remove(&key),
            };
        }
    }

    /// Writes applied but not yet flushed.
    pub fn unflushed_writes(&self) -> usize {
        self.contents().undo.len()
    }

    /// Overwrites a value directly and durably, bypassing whatever runs on
    /// the store, to test tamper detection.
    pub fn poke(&self, key: &[u8], value: Vec<u8>) {
        let mut contents = self.contents();
        // Durable at once: a later crash must not undo it to an older value.
        contents.undo.retain(|(undone, _)| undone != key);
        contents.data.insert(key.to_vec(), value);
    }

    /// Every stored pair, for tests that compare contents.
    pub fn snapshot(&self) -> Vec<KvPair> {
        self.contents()
            .data
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn contents(&self) -> MutexGuard<'_, Contents> {
        // A panic while the lock was held (a failing test) leaves the map
        // itself intact: every write below completes or changes nothing.
        self.contents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl KvStore for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.contents().data.get(key).cloned())
    }

    fn get_floor(&self, prefix: &[u8], key: &[u8]) -> Result<Option<KvPair>, StoreError> {
        let Some(range) = floor_range(prefix, key) else {
            return Ok(None);
        };
        Ok(self
            .contents()
            .data
            .range(range)
            .next_back()
            .map(|(k, v)| (k.clone(), v.clone())))
    }

    fn scan_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let start = from.max(prefix).to_vec();
        let contents = self.contents();
        for (key, value) in contents
            .data
            .range(start..)
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
            return Err(StoreError::Injected { op: StoreOp::Write });
        }
        let mut contents = self.contents();
        for (key, value) in batch {
            let before = match value {
                Some(value) => contents.data.insert(key.clone(), value),
                None => contents.data.remove(&key),
            };
            contents.undo.push((key, before));
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        let countdown = self.flushes_before_failing.load(Ordering::SeqCst);
        if countdown == 0 {
            self.fail_flushes.store(true, Ordering::SeqCst);
        } else if countdown != u64::MAX {
            self.flushes_before_failing
                .store(countdown - 1, Ordering::SeqCst);
        }
        if self.fail_flushes.load(Ordering::SeqCst) {
            return Err(StoreError::Injected { op: StoreOp::Flush });
        }
        self.contents().undo.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(key: &str, value: &str) -> (Vec<u8>, Option<Vec<u8>>) {
        (key.as_bytes().to_vec(), Some(value.as_bytes().to_vec()))
    }

    fn value(store: &MemoryStore, key: &str) -> Option<String> {
        store
            .get(key.as_bytes())
            .ok()
            .flatten()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    #[test]
    fn a_crash_loses_exactly_the_unflushed_writes() {
        let store = MemoryStore::new();
        assert!(store.commit(vec![put("a", "1"), put("b", "1")]).is_ok());
        assert!(store
            .apply(vec![put("a", "2"), (b"b".to_vec(), None), put("c", "2")])
            .is_ok());
        assert!(store.apply(vec![put("a", "3")]).is_ok());
        assert_eq!(store.unflushed_writes(), 4);
        assert_eq!(value(&store, "a").as_deref(), Some("3"));
        assert_eq!(value(&store, "b"), None);
        store.crash();
        assert_eq!(value(&store, "a").as_deref(), Some("1"));
        assert_eq!(value(&store, "b").as_deref(), Some("1"));
        assert_eq!(value(&store, "c"), None);
        assert_eq!(store.unflushed_writes(), 0);
    }

    #[test]
    fn a_failed_flush_keeps_writes_visible_but_not_durable() {
        let store = MemoryStore::new();
        store.fail_flushes(true);
        assert!(matches!(
            store.commit(vec![put("a", "1")]),
            Err(StoreError::Injected { op: StoreOp::Flush })
        ));
        assert_eq!(value(&store, "a").as_deref(), Some("1"));
        store.crash();
        assert_eq!(value(&store, "a"), None);
        store.fail_flushes(false);
        store.fail_flushes_after(1);
        assert!(store.commit(vec![put("c", "1")]).is_ok());
        assert!(store.commit(vec![put("d", "1")]).is_err());
        store.crash();
        assert_eq!(value(&store, "c").as_deref(), Some("1"));
        assert_eq!(value(&store, "d"), None);
        store.fail_flushes(false);
        store.fail_writes(true);
        let failed = store.apply(vec![put("b", "1")]);
        assert!(failed.as_ref().is_err_and(StoreError::may_have_written));
        assert_eq!(value(&store, "b"), None);
    }

    #[test]
    fn scans_start_where_asked_and_stay_in_the_prefix() {
        let store = MemoryStore::new();
        assert!(store
            .commit(vec![
                put("j/1", ""),
                put("j/2", ""),
                put("j/3", ""),
                put("k/1", "")
            ])
            .is_ok());
        let mut seen = Vec::new();
        let scanned = store.scan_from(b"j/", b"j/2", &mut |k, _| {
            seen.push(String::from_utf8_lossy(k).into_owned());
            true
        });
        assert!(scanned.is_ok());
        assert_eq!(seen, ["j/2", "j/3"]);
        let floor = store.get_floor(b"j/", b"j/25").ok().flatten();
        assert_eq!(floor.map(|(k, _)| k), Some(b"j/2".to_vec()));
        assert_eq!(store.get_floor(b"k/", b"j/9").ok().flatten(), None);
        // A key past the prefix's range finds the prefix's last key, not a
        // key of another prefix that sorts between them.
        assert!(store.commit(vec![put("jz", "")]).is_ok());
        let floor = store.get_floor(b"j/", b"k").ok().flatten();
        assert_eq!(floor.map(|(k, _)| k), Some(b"j/3".to_vec()));
    }

    #[test]
    fn a_poke_is_durable_at_once_and_leaves_other_keys_unflushed_writes_undoable() {
        let store = MemoryStore::new();
        assert!(store.commit(vec![put("a", "1"), put("b", "1")]).is_ok());
        // Unflushed writes to the key about to be poked, and to another key.
        assert!(store.apply(vec![put("a", "2"), put("b", "2")]).is_ok());
        assert!(store
            .apply(vec![(b"a".to_vec(), None), put("c", "2")])
            .is_ok());
        store.poke(b"a", b"tampered".to_vec());
        assert_eq!(value(&store, "a").as_deref(), Some("tampered"));
        assert_eq!(
            store.unflushed_writes(),
            2,
            "b's and c's writes stay unflushed"
        );
        store.crash();
        assert_eq!(value(&store, "a").as_deref(), Some("tampered"));
        assert_eq!(value(&store, "b").as_deref(), Some("1"));
        assert_eq!(value(&store, "c"), None);
        // A poke of a key that was never written creates it durably too.
        store.poke(b"d", b"new".to_vec());
        store.crash();
        assert_eq!(value(&store, "d").as_deref(), Some("new"));
    }

    #[test]
    fn a_snapshot_holds_every_visible_pair_in_key_order() {
        let store = MemoryStore::new();
        assert_eq!(store.snapshot(), Vec::<KvPair>::new());
        assert!(store
            .commit(vec![put("m", "3"), put("a", "1"), put("z", "4")])
            .is_ok());
        assert!(store
            .apply(vec![put("b", "2"), (b"z".to_vec(), None)])
            .is_ok());
        let pair = |k: &str, v: &str| (k.as_bytes().to_vec(), v.as_bytes().to_vec());
        assert_eq!(
            store.snapshot(),
            vec![pair("a", "1"), pair("b", "2"), pair("m", "3")],
            "unflushed writes included, deleted keys gone"
        );
    }
}
