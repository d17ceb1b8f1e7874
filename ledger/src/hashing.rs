//! The hash maps the ledger looks things up in by what requests name
//! (idempotency keys, account ids).
//!
//! aHash keyed with per-process random keys: as resistant to chosen
//! collisions as std's SipHash for keys an attacker picks without seeing the
//! keys, at a fraction of its cost on the hot path of every operation (one
//! look-up of the idempotency key and one or two of accounts; SipHash alone
//! was a tenth of a batch's time in memory). Never iterated where the order
//! could reach an output.

use std::collections::HashMap;

/// A hash map keyed with [`ahash::RandomState`].
pub type KeyedMap<K, V> = HashMap<K, V, ahash::RandomState>;
