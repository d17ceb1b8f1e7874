//! Ed25519 message signatures over canonical bytes (ISM-1 §7).
//!
//! The signed bytes are a fixed domain-separation prefix followed by the RFC
//! 8785 canonical bytes of the envelope without its `signature` member, so a
//! signature over an ISM/1 message can never be replayed as a signature over
//! anything else the same key signs (TLS handshakes, files).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SecureRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use std::collections::BTreeMap;

use crate::ids::{hex_lower, Hex32, NodeId};
use crate::json::{child_path, ism_object, ism_string, Rules};
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// Prepended to the canonical bytes before signing (ISM-1 §7.2): the 24 ASCII
/// bytes `ISM/1 envelope signature` and one zero byte, 25 bytes in all.
pub const SIGNATURE_DOMAIN: &[u8] = b"ISM/1 envelope signature\0";

const _: () = assert!(SIGNATURE_DOMAIN.len() == 25);

/// The only signature algorithm of ISM/1.
pub const ALGORITHM: &str = "Ed25519";

fn malformed(message: String) -> Rejection {
    Rejection::new(ReasonCode::SignatureMalformed, message)
}

/// Names the signature algorithm; only `Ed25519` exists in ISM/1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlgorithmName {
    text: String,
}

impl AlgorithmName {
    /// Accepts exactly `Ed25519`.
    pub fn parse(text: &str) -> Result<AlgorithmName, Rejection> {
        if text != ALGORITHM {
            return Err(malformed(format!(
                "the signature algorithm {text} is not supported; ISM/1 signs with Ed25519 only",
                text = quoted(text)
            )));
        }
        Ok(AlgorithmName {
            text: text.to_string(),
        })
    }

    /// `Ed25519`.
    pub fn ed25519() -> AlgorithmName {
        AlgorithmName {
            text: ALGORITHM.to_string(),
        }
    }
}

/// Identifies a signing key: the first 16 bytes of the SHA-256 of its raw
/// 32-byte public key, as 32 lower-case hex digits (ISM-1 §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId {
    text: String,
}

impl KeyId {
    /// Parses 32 lower-case hex digits.
    pub fn parse(text: &str) -> Result<KeyId, Rejection> {
        let valid = text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(malformed(format!(
                "{text} is not a key id: expected 32 lower-case hexadecimal digits",
                text = quoted(text)
            )));
        }
        Ok(KeyId {
            text: text.to_string(),
        })
    }

    /// The key id of a raw Ed25519 public key.
    pub fn of(public_key: &[u8; 32]) -> KeyId {
        let digest = Hex32::sha256_of(public_key);
        KeyId {
            text: hex_lower(&digest.bytes()[..16]),
        }
    }
}

/// Fixed-size bytes carried as unpadded base64url (RFC 4648 §5); only the
/// one canonical encoding of each value is accepted.
fn decode_base64url<const N: usize>(text: &str, what: &str) -> Result<[u8; N], Rejection> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|error| malformed(format!("the {what} is not unpadded base64url: {error}")))?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| {
        malformed(format!(
            "the {what} has {} bytes; expected {N}",
            bytes.len()
        ))
    })
}

/// A 64-byte Ed25519 signature as unpadded base64url.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignatureValue {
    text: String,
    bytes: [u8; 64],
}

impl SignatureValue {
    /// Parses 86 characters of base64url encoding 64 bytes.
    pub fn parse(text: &str) -> Result<SignatureValue, Rejection> {
        let bytes = decode_base64url::<64>(text, "signature value")?;
        Ok(SignatureValue {
            text: text.to_string(),
            bytes,
        })
    }

    /// Wraps the 64 bytes R ‖ S of a signature.
    pub fn from_bytes(bytes: [u8; 64]) -> SignatureValue {
        SignatureValue {
            text: URL_SAFE_NO_PAD.encode(bytes),
            bytes,
        }
    }

    /// The 64 bytes R ‖ S.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.bytes
    }
}

/// A raw 32-byte Ed25519 public key as unpadded base64url.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey {
    text: String,
    bytes: [u8; 32],
}

impl PublicKey {
    /// Parses 43 characters of base64url encoding 32 bytes.
    pub fn parse(text: &str) -> Result<PublicKey, Rejection> {
        let bytes = decode_base64url::<32>(text, "public key")?;
        Ok(PublicKey {
            text: text.to_string(),
            bytes,
        })
    }

    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> PublicKey {
        PublicKey {
            text: URL_SAFE_NO_PAD.encode(bytes),
            bytes,
        }
    }

    /// The raw 32-byte key (RFC 8032 encoding of the point A).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// This key's id.
    pub fn key_id(&self) -> KeyId {
        KeyId::of(&self.bytes)
    }

    /// Checks an Ed25519 signature over `message` by the rules of ISM-1 §7.3
    /// item 2. ring checks S < L, decodes A (leniently) and compares R with
    /// the canonical encoding of [S]B − [k]A byte for byte, without a
    /// cofactor; ISM/1 adds that A is a canonical encoding and that neither
    /// A nor R is a point of small order, which ring does not check.
    pub fn verify(&self, message: &[u8], signature: &SignatureValue) -> bool {
        let mut r = [0u8; 32];
        r.copy_from_slice(&signature.bytes[..32]);
        if !is_canonical_point_encoding(&self.bytes)
            || has_small_order(&self.bytes)
            || has_small_order(&r)
        {
            return false;
        }
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.bytes)
            .verify(message, &signature.bytes)
            .is_ok()
    }
}

/// p = 2^255 − 19, little-endian: the field prime of Ed25519.
const FIELD_PRIME: [u8; 32] = [
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
];

/// The y coordinates, as 32 little-endian bytes, of every encoding of a
/// point of small order (ISM-1 §7.3 item 2): 0, 1, the two of order 8,
/// p − 1, and the non-canonical p and p + 1. The sign bit is not part of it.
const SMALL_ORDER_Y: [[u8; 32]; 7] = [
    [0; 32],
    [
        0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    field_prime_plus(-1),
    field_prime_plus(0),
    field_prime_plus(1),
];

/// p + delta for a small delta, little-endian (only the lowest byte changes).
const fn field_prime_plus(delta: i8) -> [u8; 32] {
    let mut out = FIELD_PRIME;
    out[0] = (FIELD_PRIME[0] as i16 + delta as i16) as u8;
    out
}

/// The encoding without its sign bit: y alone.
fn y_of(encoding: &[u8; 32]) -> [u8; 32] {
    let mut y = *encoding;
    y[31] &= 0x7f;
    y
}

/// Whether the point encoding's y is below p (RFC 8032 §5.1.3 step 1).
/// x = 0 with the sign bit set, the other non-canonical form, occurs only
/// for y = 1 and y = p − 1, which [`has_small_order`] refuses.
pub fn is_canonical_point_encoding(encoding: &[u8; 32]) -> bool {
    let y = y_of(encoding);
    // Compare little-endian numbers from the most significant byte down.
    y.iter().rev().lt(FIELD_PRIME.iter().rev())
}

/// Whether the encoding, with any sign bit, names a point of order 1, 2, 4
/// or 8 (ISM-1 §7.3 item 2); decoding is not needed, its y alone decides.
pub fn has_small_order(encoding: &[u8; 32]) -> bool {
    SMALL_ORDER_Y.contains(&y_of(encoding))
}

ism_string!(AlgorithmName);
ism_string!(KeyId);
ism_string!(SignatureValue);
ism_string!(PublicKey);

ism_object! {
    /// The `signature` member of an envelope (ISM-1 §7.1).
    pub struct Signature {
        /// Always `Ed25519`.
        pub alg: AlgorithmName,
        /// Which key signed.
        pub key_id: KeyId,
        /// The 64-byte signature, unpadded base64url.
        pub value: SignatureValue,
    }
}
impl Rules for Signature {}

ism_object! {
    /// A published public key, as `isthmus keys generate` writes it and
    /// membership files and keyrings list it (ISM-1 §7.4).
    pub struct PublicKeyRecord {
        /// Always `Ed25519`.
        pub alg: AlgorithmName,
        /// Must be the id of `public_key`.
        pub key_id: KeyId,
        /// The raw public key, unpadded base64url.
        pub public_key: PublicKey,
    }
}

impl Rules for PublicKeyRecord {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        if self.public_key.key_id() != self.key_id {
            return Err(Rejection::at(
                ReasonCode::SignatureMalformed,
                child_path(path, "key_id"),
                format!(
                    "the key id {} does not belong to this public key, whose id is {}",
                    self.key_id,
                    self.public_key.key_id()
                ),
            ));
        }
        Ok(())
    }
}

impl PublicKeyRecord {
    /// The record of a key.
    pub fn of(public_key: &PublicKey) -> PublicKeyRecord {
        PublicKeyRecord {
            alg: AlgorithmName::ed25519(),
            key_id: public_key.key_id(),
            public_key: public_key.clone(),
        }
    }
}

/// Errors handling signing keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The bytes are not an Ed25519 PKCS#8 document ring accepts.
    #[error("not an Ed25519 PKCS#8 private key: {0}")]
    InvalidPkcs8(String),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Randomness,
    /// The PEM armour is missing or broken.
    #[error("not a PEM \"PRIVATE KEY\" block: {0}")]
    Pem(String),
}

/// An Ed25519 signing key, kept with its PKCS#8 form so it can be written out.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private key material.
        write!(f, "SigningKey({})", self.public_key().key_id())
    }
}

const PEM_LABEL: &str = "PRIVATE KEY";

impl SigningKey {
    /// Generates a fresh key with the given random source (ring's
    /// `SystemRandom` in production; a fixed source only in tests).
    pub fn generate(random: &dyn SecureRandom) -> Result<SigningKey, KeyError> {
        let document = Ed25519KeyPair::generate_pkcs8(random).map_err(|_| KeyError::Randomness)?;
        SigningKey::from_pkcs8(document.as_ref())
    }

    /// Loads a PKCS#8 v1 or v2 DER document.
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| KeyError::InvalidPkcs8(e.to_string()))?;
        Ok(SigningKey {
            pair,
            pkcs8: der.to_vec(),
        })
    }

    /// Builds the key for a 32-byte seed. Only for published test keys such
    /// as the one the test vectors use; real keys come from [`SigningKey::generate`].
    pub fn from_seed(seed: &[u8; 32]) -> Result<SigningKey, KeyError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|e| KeyError::InvalidPkcs8(e.to_string()))?;
        // RFC 8410 PKCS#8 v1 wrapping of a raw Ed25519 seed.
        let mut pkcs8 = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        pkcs8.extend_from_slice(seed);
        Ok(SigningKey { pair, pkcs8 })
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey::from_bytes(bytes)
    }

    /// Signs `message` (already domain-prefixed by the caller).
    pub fn sign_bytes(&self, message: &[u8]) -> SignatureValue {
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(self.pair.sign(message).as_ref());
        SignatureValue::from_bytes(bytes)
    }

    /// The `signature` member for `message`.
    pub fn signature_for(&self, message: &[u8]) -> Signature {
        Signature {
            alg: AlgorithmName::ed25519(),
            key_id: self.public_key().key_id(),
            value: self.sign_bytes(message),
        }
    }

    /// The PKCS#8 document in PEM armour (RFC 7468 `PRIVATE KEY`).
    pub fn to_pem(&self) -> String {
        let body = base64::engine::general_purpose::STANDARD.encode(&self.pkcs8);
        let mut pem = format!("-----BEGIN {PEM_LABEL}-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
        pem
    }

    /// Reads a key written by [`SigningKey::to_pem`].
    pub fn from_pem(pem: &str) -> Result<SigningKey, KeyError> {
        let begin = format!("-----BEGIN {PEM_LABEL}-----");
        let end = format!("-----END {PEM_LABEL}-----");
        let start = pem
            .find(&begin)
            .ok_or_else(|| KeyError::Pem("no BEGIN line".into()))?
            + begin.len();
        let stop = pem[start..]
            .find(&end)
            .ok_or_else(|| KeyError::Pem("no END line".into()))?
            + start;
        let body: String = pem[start..stop]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| KeyError::Pem(e.to_string()))?;
        SigningKey::from_pkcs8(&der)
    }
}

/// Finds the key a sender signs with (ISM-1 §7.3, §8.4). A network
/// membership implements it by returning only keys listed for that sender,
/// so no member can sign as another.
pub trait KeyLookup {
    /// The key with this id, if `sender` may sign with it.
    fn public_key(&self, sender: &NodeId, key_id: &KeyId) -> Option<&PublicKey>;
}

/// A set of public keys indexed by key id, not bound to senders: any key in
/// it is accepted for any sender. Fit for tools and test vectors (`isthmus
/// spec validate --public-key`); nodes use the network membership instead.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: BTreeMap<KeyId, PublicKey>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Adds a key.
    pub fn insert(&mut self, key: PublicKey) {
        self.keys.insert(key.key_id(), key);
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl KeyLookup for Keyring {
    fn public_key(&self, _sender: &NodeId, key_id: &KeyId) -> Option<&PublicKey> {
        self.keys.get(key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_key() -> SigningKey {
        SigningKey::from_seed(&[7u8; 32]).expect("any 32-byte seed is a key")
    }

    #[test]
    fn sign_verify_and_tamper() {
        let key = test_key();
        let value = key.sign_bytes(b"hello");
        assert!(key.public_key().verify(b"hello", &value));
        assert!(!key.public_key().verify(b"hellp", &value));
        let mut bad = value.bytes;
        bad[0] ^= 1;
        assert!(!key
            .public_key()
            .verify(b"hello", &SignatureValue::from_bytes(bad)));
    }

    #[test]
    fn small_order_and_non_canonical_encodings() {
        // ISM-1 §7.3 item 2; tests/ed25519_rules.rs tries each rule on ring.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(has_small_order(&identity));
        identity[31] |= 0x80;
        assert!(has_small_order(&identity), "the sign bit does not matter");
        assert!(has_small_order(&field_prime_plus(1)), "y = p + 1 is y = 1");
        assert!(!is_canonical_point_encoding(&field_prime_plus(0)));
        assert!(is_canonical_point_encoding(&field_prime_plus(-1)));
        let key = test_key().public_key();
        assert!(is_canonical_point_encoding(key.as_bytes()));
        assert!(!has_small_order(key.as_bytes()));
    }

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let key = test_key();
        let again = SigningKey::from_pem(&key.to_pem());
        assert_eq!(again.map(|k| k.public_key()).ok(), Some(key.public_key()));
        assert!(SigningKey::from_pem("garbage").is_err());
        let generated = SigningKey::generate(&ring::rand::SystemRandom::new());
        assert!(generated.is_ok_and(|k| SigningKey::from_pem(&k.to_pem()).is_ok()));
    }

    #[test]
    fn encodings_are_strict() {
        let key = test_key();
        let text = key.public_key().to_string();
        assert_eq!(text.len(), 43);
        assert!(PublicKey::parse(&format!("{text}=")).is_err());
        assert!(PublicKey::parse(&text[..42]).is_err());
        assert!(KeyId::parse("ABCDEF0123456789abcdef0123456789").is_err());
        assert!(AlgorithmName::parse("RS256").is_err());
        let record = PublicKeyRecord::of(&key.public_key());
        assert!(crate::json::Rules::check(&record, "").is_ok());
    }
}
