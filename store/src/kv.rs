//! The key-value trait every shell writes through.

use crate::error::StoreError;

/// A stored key and its value.
pub type KvPair = (Vec<u8>, Vec<u8>);

/// Writes applied together or not at all: `(key, Some(value))` puts, `(key, None)` deletes.
pub type WriteBatch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Ordered key-value storage with atomic batches and an explicit durability point.
///
/// The trait is synchronous: a write and its flush are short, blocking calls
/// (an fsync). A node on an async runtime runs the state machine that owns a
/// store on a thread of its own, never on the runtime's workers.
pub trait KvStore {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The pair with the greatest key at or before `key` that starts with `prefix`.
    fn get_floor(&self, prefix: &[u8], key: &[u8]) -> Result<Option<KvPair>, StoreError>;
    /// Calls `visit` with every pair whose key starts with `prefix` and is at
    /// or after `from` (pass `prefix` itself for all), in key order, until it
    /// returns `false`. Nothing is collected, so a journal of any length can
    /// be replayed.
    fn scan_from(
        &self,
        prefix: &[u8],
        from: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError>;
    /// Every pair under `prefix`, in key order, until `visit` returns `false`.
    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        self.scan_from(prefix, prefix, visit)
    }
    /// Applies all writes atomically (not yet durably).
    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError>;
    /// Returns once every applied write is durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Applies a batch and makes it durable: the write-ahead step before
    /// anything is acknowledged or acted on.
    fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.apply(batch)?;
        self.flush()
    }
}

/// The first key after every key that starts with `prefix`, or `None` when
/// no key is (a prefix of only `0xFF` bytes, or none).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A range of keys, as its two bounds.
pub(crate) type KeyRange = (std::ops::Bound<Vec<u8>>, std::ops::Bound<Vec<u8>>);

/// The key range `get_floor(prefix, key)` searches backwards from: up to and
/// including `key` when it starts with `prefix`, else every key with the
/// prefix (a key past the prefix's range has all of them before it). `None`
/// when `key` sorts before the prefix.
pub(crate) fn floor_range(prefix: &[u8], key: &[u8]) -> Option<KeyRange> {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    if key < prefix {
        return None;
    }
    let end = if key.starts_with(prefix) {
        Included(key.to_vec())
    } else {
        prefix_end(prefix).map_or(Unbounded, Excluded)
    };
    Some((Included(prefix.to_vec()), end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_step_the_last_byte_that_can_step() {
        assert_eq!(prefix_end(b"j/"), Some(b"j0".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
