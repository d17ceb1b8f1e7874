//! A node's durable store, behind a trait of our own so that a replicated
//! database can back it later: the engine's records (latest per key) and the
//! messages handled (ISM-1 §8.4 step 6), written together in one atomic,
//! durable commit before anything they cause is acted on (ISM-1 §12.9).
//!
//! [`KvNodeStore`] puts it on any [`KvStore`]: sled by default
//! ([`isthmus_store::SledStore`]), memory in tests. Records and keys are
//! JSON: a store an operator can read.

use std::marker::PhantomData;

use isthmus_spec::ids::{MessageId, NodeId};
use isthmus_store::{KvStore, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A record an engine persists, replacing the one with the same key.
pub trait EngineRecord: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// Which record this one replaces.
    type Key: Serialize;
    /// Its key.
    fn key(&self) -> Self::Key;
}

impl EngineRecord for isthmus_relay::Record {
    type Key = isthmus_relay::RecordKey;
    fn key(&self) -> Self::Key {
        isthmus_relay::Record::key(self)
    }
}

/// A message handled, by its sender and id, with the SHA-256 of its
/// canonical bytes: what a repeat is compared with (ISM-1 §8.4 rule 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// Its sender.
    pub sender: NodeId,
    /// Its id.
    pub id: MessageId,
    /// SHA-256 of its canonical bytes, signature included.
    pub canonical_sha256: [u8; 32],
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeStoreError {
    /// The store underneath.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record does not read back: the store was damaged or written
    /// by an incompatible version.
    #[error("a stored record under {key} does not read back: {detail}")]
    Corrupt {
        /// Its key, as stored.
        key: String,
        /// What was wrong.
        detail: String,
    },
    /// A record could not be encoded (a programmer error).
    #[error("a record could not be encoded: {0}")]
    Encode(String),
}

/// What a node keeps.
pub trait NodeStore<R: EngineRecord>: Send {
    /// Every record, in key order.
    fn load(&self) -> Result<Vec<R>, NodeStoreError>;
    /// Writes `records` and `handled` atomically and durably.
    fn commit(&self, records: &[R], handled: &[Handled]) -> Result<(), NodeStoreError>;
    /// The SHA-256 of the canonical bytes of the message `(sender, id)`, if
    /// it was handled.
    fn handled(&self, sender: &NodeId, id: &MessageId) -> Result<Option<[u8; 32]>, NodeStoreError>;
}

const RECORDS: &[u8] = b"record/";
const HANDLED: &[u8] = b"handled/";

/// A [`NodeStore`] on a key-value store.
pub struct KvNodeStore<S, R> {
    kv: S,
    _records: PhantomData<fn() -> R>,
}

impl<S: KvStore, R: EngineRecord> KvNodeStore<S, R> {
    /// On `kv`.
    pub fn new(kv: S) -> KvNodeStore<S, R> {
        KvNodeStore {
            kv,
            _records: PhantomData,
        }
    }

    fn record_key(record: &R) -> Result<Vec<u8>, NodeStoreError> {
        let key =
            serde_json::to_vec(&record.key()).map_err(|e| NodeStoreError::Encode(e.to_string()))?;
        Ok([RECORDS, &key].concat())
    }

    fn handled_key(sender: &NodeId, id: &MessageId) -> Vec<u8> {
        [
            HANDLED,
            sender.as_str().as_bytes(),
            b"/",
            id.as_str().as_bytes(),
        ]
        .concat()
    }
}

impl<S: KvStore + Send, R: EngineRecord> NodeStore<R> for KvNodeStore<S, R> {
    fn load(&self) -> Result<Vec<R>, NodeStoreError> {
        let mut records = Vec::new();
        let mut broken = None;
        self.kv.scan_prefix(
            RECORDS,
            &mut |key, value| match serde_json::from_slice::<R>(value) {
                Ok(record) => {
                    records.push(record);
                    true
                }
                Err(error) => {
                    broken = Some(NodeStoreError::Corrupt {
                        key: String::from_utf8_lossy(key).into_owned(),
                        detail: error.to_string(),
                    });
                    false
                }
            },
        )?;
        match broken {
            Some(error) => Err(error),
            None => Ok(records),
        }
    }

    fn commit(&self, records: &[R], handled: &[Handled]) -> Result<(), NodeStoreError> {
        let mut batch = Vec::with_capacity(records.len() + handled.len());
        for record in records {
            let value =
                serde_json::to_vec(record).map_err(|e| NodeStoreError::Encode(e.to_string()))?;
            batch.push((Self::record_key(record)?, Some(value)));
        }
        for message in handled {
            batch.push((
                Self::handled_key(&message.sender, &message.id),
                Some(message.canonical_sha256.to_vec()),
            ));
        }
        self.kv.commit(batch)?;
        Ok(())
    }

    fn handled(&self, sender: &NodeId, id: &MessageId) -> Result<Option<[u8; 32]>, NodeStoreError> {
        let Some(value) = self.kv.get(&Self::handled_key(sender, id))? else {
            return Ok(None);
        };
        let hash: [u8; 32] = value
            .as_slice()
            .try_into()
            .map_err(|_| NodeStoreError::Corrupt {
                key: format!("handled/{sender}/{id}"),
                detail: format!("{} bytes where a SHA-256 is kept", value.len()),
            })?;
        Ok(Some(hash))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use isthmus_store::MemoryStore;

    #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    struct Counter {
        name: String,
        value: u32,
    }

    impl EngineRecord for Counter {
        type Key = String;
        fn key(&self) -> String {
            self.name.clone()
        }
    }

    fn counter(name: &str, value: u32) -> Counter {
        Counter {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn a_record_written_twice_in_one_commit_is_kept_as_it_ends_a_group_commit_relies_on_it() {
        let store = KvNodeStore::<_, Counter>::new(MemoryStore::new());
        store
            .commit(
                &[
                    counter("a", 1),
                    counter("b", 1),
                    counter("a", 2),
                    counter("a", 3),
                ],
                &[],
            )
            .unwrap();
        assert_eq!(
            store.load().unwrap(),
            vec![counter("a", 3), counter("b", 1)]
        );
        store.commit(&[counter("b", 2)], &[]).unwrap();
        assert_eq!(
            store.load().unwrap(),
            vec![counter("a", 3), counter("b", 2)]
        );
    }

    #[test]
    fn handled_messages_are_kept_with_their_hash() {
        let store = KvNodeStore::<_, Counter>::new(MemoryStore::new());
        let sender = NodeId::parse("gw.xnys").unwrap();
        let id = MessageId::new_v7(1_800_000_000_000, [1; 10]);
        assert_eq!(store.handled(&sender, &id).unwrap(), None);
        let handled = Handled {
            sender: sender.clone(),
            id: id.clone(),
            canonical_sha256: [7; 32],
        };
        store.commit(&[counter("a", 1)], &[handled]).unwrap();
        assert_eq!(store.handled(&sender, &id).unwrap(), Some([7; 32]));
    }
}
