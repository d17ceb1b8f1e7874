//! Idempotency keys: a caller's name for one intended operation.

use std::fmt;

use crate::error::{LedgerError, LedgerReason};

/// Longest idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 128;

/// A caller's name for one intended operation: 1 to
/// [`MAX_IDEMPOTENCY_KEY_BYTES`] printable ASCII characters without spaces.
/// Repeating a request with the same key returns the first result and
/// changes nothing; the same key for a different request is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a key.
    pub fn new(key: impl Into<String>) -> Result<IdempotencyKey, LedgerError> {
        let key = key.into();
        check(&key)?;
        Ok(IdempotencyKey(key))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a key's text (the ledger's one rule for keys).
pub(crate) fn check(key: &str) -> Result<(), LedgerError> {
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_BYTES
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(LedgerError::new(
            LedgerReason::IdempotencyKeyInvalid,
            format!("an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_BYTES} printable ASCII characters without spaces; got {key:?}"),
        ));
    }
    Ok(())
}

/// Written as its text; read back through [`IdempotencyKey::new`]'s checks.
impl serde::Serialize for IdempotencyKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        IdempotencyKey::new(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        let longest = "k".repeat(MAX_IDEMPOTENCY_KEY_BYTES);
        assert!(IdempotencyKey::new(longest.clone()).is_ok());
        for bad in [
            String::new(),
            format!("{longest}k"),
            "two words".into(),
            "tab\tkey".into(),
            "clé".into(),
        ] {
            assert_eq!(
                IdempotencyKey::new(bad.clone()).err().map(|e| e.reason),
                Some(LedgerReason::IdempotencyKeyInvalid),
                "{bad:?}"
            );
        }
        assert_eq!(
            IdempotencyKey::new("lock:S-1:SECURITIES")
                .map(|k| k.to_string())
                .ok()
                .as_deref(),
            Some("lock:S-1:SECURITIES")
        );
    }
}
