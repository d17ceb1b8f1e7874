//! The test-vector format (ISM-1 §10) and a checker any runner can call.
//!
//! A vector is one JSON file: a message (as a JSON value in `input`, as
//! exact text in `input_text`, or as exact bytes in `input_hex`), and what a
//! conforming receiver must conclude.
//! This module parses vectors and checks one against this implementation; it
//! reads no files itself.

use serde::Deserialize;
use serde_json::Value;

use crate::envelope::validate;
use crate::ids::Hex32;
use crate::jcs::canonical_bytes;
use crate::reason::ReasonCode;
use crate::sign::{KeyLookup, Keyring, PublicKey, SigningKey};

/// The `schema` value of a vector file.
pub const VECTOR_SCHEMA: &str = "ism-vector/1";

/// The `schema` value of the vector key file.
pub const KEYS_SCHEMA: &str = "ism-vector-keys/1";

/// One test vector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// Always [`VECTOR_SCHEMA`].
    pub schema: String,
    /// A stable name, e.g. `invalid/isin-check-digit`.
    pub id: String,
    /// What the vector shows.
    pub description: String,
    /// The clauses it checks, e.g. `ISM-1 §4.1`.
    pub clauses: Vec<String>,
    /// The message as a JSON value; serialise it compactly to get the bytes.
    #[serde(default)]
    pub input: Option<Value>,
    /// The message as exact text, for inputs a JSON value cannot hold
    /// (malformed JSON, duplicate names, chosen whitespace).
    #[serde(default)]
    pub input_text: Option<String>,
    /// The message as exact bytes in lower-case hex, for inputs that are not
    /// UTF-8 text and so cannot be held in a JSON string (ISM-1 §10.2).
    #[serde(default)]
    pub input_hex: Option<String>,
    /// Append ASCII spaces to the input until it has this many bytes.
    #[serde(default)]
    pub pad_to_bytes: Option<usize>,
    /// The expected outcome.
    pub expect: Expectation,
}

/// What a receiver must conclude about a vector's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "result", rename_all = "lowercase", deny_unknown_fields)]
pub enum Expectation {
    /// The message is accepted and its signature verifies.
    Valid {
        /// RFC 8785 bytes of the envelope without `signature`, as text.
        canonical_unsigned: String,
        /// Lower-case hex SHA-256 of those bytes.
        canonical_unsigned_sha256: String,
        /// The Ed25519 signature (unpadded base64url) the test key gives.
        signature: String,
    },
    /// The message is refused with this reason.
    Invalid {
        /// The reason code.
        reason: String,
        /// The member at fault, if the rule concerns one member.
        #[serde(default)]
        field: Option<String>,
    },
}

/// A published test key: its seed is public, so never use it for anything real.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestKey {
    /// The key's name.
    pub name: String,
    /// The 32-byte Ed25519 seed, hex; absent for a crafted public key that
    /// no private key belongs to (ISM-1 §10.3).
    #[serde(default)]
    pub seed: Option<String>,
    /// Always `Ed25519`.
    pub alg: String,
    /// The key id (ISM-1 §7.1).
    pub key_id: String,
    /// The public key, unpadded base64url.
    pub public_key: String,
}

/// The vector key file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestKeys {
    /// Always [`KEYS_SCHEMA`].
    pub schema: String,
    /// Keys the receiver trusts when checking vectors.
    pub trusted: Vec<TestKey>,
    /// Keys that sign some invalid vectors but that the receiver does not trust.
    pub untrusted: Vec<TestKey>,
}

impl TestKey {
    /// The signing key for the seed, checked against the published public key and id.
    pub fn signing_key(&self) -> Result<SigningKey, String> {
        let Some(seed) = &self.seed else {
            return Err(format!(
                "key {} has no seed: it is a crafted public key",
                self.name
            ));
        };
        let seed = Hex32::parse(seed).map_err(|r| format!("key {}: seed: {r}", self.name))?;
        let key =
            SigningKey::from_seed(seed.bytes()).map_err(|e| format!("key {}: {e}", self.name))?;
        if key.public_key().to_string() != self.public_key
            || key.public_key().key_id().to_string() != self.key_id
        {
            return Err(format!(
                "key {}: the seed does not give the published public key and key id",
                self.name
            ));
        }
        Ok(key)
    }
}

impl TestKeys {
    /// Parses the key file.
    pub fn parse(text: &str) -> Result<TestKeys, String> {
        let keys: TestKeys = serde_json::from_str(text).map_err(|e| format!("vector keys: {e}"))?;
        if keys.schema != KEYS_SCHEMA {
            return Err(format!(
                "vector keys: schema is \"{}\", expected \"{KEYS_SCHEMA}\"",
                keys.schema
            ));
        }
        Ok(keys)
    }

    /// The keyring of trusted keys. Every key's id must be that of its
    /// public key; a key with a seed must also be the key of that seed.
    pub fn keyring(&self) -> Result<Keyring, String> {
        let mut ring = Keyring::new();
        for key in &self.trusted {
            let public =
                PublicKey::parse(&key.public_key).map_err(|r| format!("key {}: {r}", key.name))?;
            if public.key_id().as_str() != key.key_id {
                return Err(format!(
                    "key {}: key_id {} is not the id of its public key, {}",
                    key.name,
                    key.key_id,
                    public.key_id()
                ));
            }
            if key.seed.is_some() {
                key.signing_key()?;
            }
            ring.insert(public);
        }
        Ok(ring)
    }
}

impl Vector {
    /// Parses a vector file.
    pub fn parse(text: &str) -> Result<Vector, String> {
        let vector: Vector =
            serde_json::from_str(text).map_err(|e| format!("not a vector: {e}"))?;
        if vector.schema != VECTOR_SCHEMA {
            return Err(format!(
                "schema is \"{}\", expected \"{VECTOR_SCHEMA}\"",
                vector.schema
            ));
        }
        let inputs = [
            vector.input.is_some(),
            vector.input_text.is_some(),
            vector.input_hex.is_some(),
        ];
        if inputs.iter().filter(|&&given| given).count() != 1 {
            return Err(
                "a vector has exactly one of \"input\", \"input_text\" and \"input_hex\"".into(),
            );
        }
        if let Some(hex) = &vector.input_hex {
            decode_hex(hex).ok_or_else(|| {
                "\"input_hex\" is not an even number of lower-case hex digits".to_string()
            })?;
        }
        Ok(vector)
    }

    /// The exact bytes a receiver is given (ISM-1 §10.4 item 1).
    pub fn input_bytes(&self) -> Vec<u8> {
        let mut bytes = match (&self.input, &self.input_text, &self.input_hex) {
            (Some(value), _, _) => serde_json::to_vec(value).unwrap_or_default(),
            (None, Some(text), _) => text.clone().into_bytes(),
            // `parse` has checked the digits, so this never falls back.
            (None, None, Some(hex)) => decode_hex(hex).unwrap_or_default(),
            (None, None, None) => Vec::new(),
        };
        if let Some(target) = self.pad_to_bytes {
            if target > bytes.len() {
                bytes.resize(target, b' ');
            }
        }
        bytes
    }

    /// Checks this implementation against the vector; `Err` says how it differs.
    pub fn check(&self, keys: &dyn KeyLookup, signer: &SigningKey) -> Result<(), String> {
        let input = self.input_bytes();
        let outcome = validate(&input, Some(keys));
        match (&self.expect, outcome) {
            (
                Expectation::Valid {
                    canonical_unsigned,
                    canonical_unsigned_sha256,
                    signature,
                },
                Ok(envelope),
            ) => {
                let unsigned = envelope.canonical_unsigned_bytes();
                if unsigned != canonical_unsigned.as_bytes() {
                    return Err(format!(
                        "canonical bytes differ:\n  got      {}\n  expected {canonical_unsigned}",
                        String::from_utf8_lossy(&unsigned)
                    ));
                }
                let digest = Hex32::sha256_of(&unsigned);
                if digest.as_str() != canonical_unsigned_sha256 {
                    return Err(format!(
                        "SHA-256 differs: got {digest}, expected {canonical_unsigned_sha256}"
                    ));
                }
                let carried = envelope.signature.as_ref().map(|s| s.value.to_string());
                if carried.as_deref() != Some(signature.as_str()) {
                    return Err("the message does not carry the expected signature".into());
                }
                let recomputed = signer.sign_bytes(&envelope.signing_input());
                if recomputed.as_str() != signature {
                    return Err(format!(
                        "signing with the test key gives {recomputed}, expected {signature}"
                    ));
                }
                // ISM-1 §10.4 item 3: the re-encoding is the canonical form
                // of the whole message as received, signature included; it is
                // accepted again and is its own canonical form.
                let encoded = envelope.to_canonical_bytes();
                if crate::jcs::canonicalize(&input).ok().as_deref() != Some(encoded.as_slice()) {
                    return Err(
                        "the decoded message does not re-encode to the canonical form of the input"
                            .into(),
                    );
                }
                let again = validate(&encoded, Some(keys))
                    .map_err(|r| format!("re-encoded message refused: {r}"))?;
                if again != envelope || again.to_canonical_bytes() != encoded {
                    return Err("re-encoding changed the message".into());
                }
                Ok(())
            }
            (Expectation::Valid { .. }, Err(rejection)) => {
                Err(format!("expected valid, got {rejection}"))
            }
            (Expectation::Invalid { reason, .. }, Ok(_)) => {
                Err(format!("expected {reason}, but the message was accepted"))
            }
            (Expectation::Invalid { reason, field }, Err(rejection)) => {
                if ReasonCode::from_wire(reason).is_none() {
                    return Err(format!(
                        "the vector expects \"{reason}\", which is not an ISM/1 reason code"
                    ));
                }
                if rejection.code.as_str() != reason {
                    return Err(format!("expected {reason}, got {rejection}"));
                }
                // A vector without a field expects a refusal without a path (ISM-1 §10.4).
                if field != &rejection.field {
                    return Err(format!(
                        "expected field {field:?}, got {:?} ({rejection})",
                        rejection.field
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Decodes lower-case hex digits, two per byte; `None` for anything else.
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    if text.len() % 2 != 0 {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some(digit(*high)? << 4 | digit(*low)?),
            _ => None,
        })
        .collect()
}

/// The canonical unsigned bytes of any message value, for producing vectors of
/// invalid messages that a typed [`crate::Envelope`] cannot hold.
pub fn canonical_unsigned_of(message: &Value) -> Vec<u8> {
    let mut unsigned = message.clone();
    if let Value::Object(members) = &mut unsigned {
        members.remove("signature");
    }
    canonical_bytes(&unsigned)
}

/// Per-case results of a vector file: `(case name, Ok or what differs)`.
pub type CaseResults = Vec<(String, Result<(), String>)>;

/// Checks the RFC 8785 cases file (`vectors/jcs/cases.json`): every input's
/// canonical bytes must equal its `canonical_hex`. Returns `(name, result)` per case.
pub fn check_jcs_cases(text: &str) -> Result<CaseResults, String> {
    let file: Value = serde_json::from_str(text).map_err(|e| format!("cases.json: {e}"))?;
    let cases = file["cases"]
        .as_array()
        .ok_or("cases.json has no \"cases\" array")?;
    Ok(cases
        .iter()
        .map(|case| {
            let name = case["name"].as_str().unwrap_or("(unnamed)").to_string();
            let result = match (case["input"].as_str(), case["canonical_hex"].as_str()) {
                (Some(input), Some(expected)) => match crate::jcs::canonicalize(input.as_bytes()) {
                    Ok(bytes) if crate::ids::hex_lower(&bytes) == expected => Ok(()),
                    Ok(bytes) => Err(format!("got {}", String::from_utf8_lossy(&bytes))),
                    Err(rejection) => Err(rejection.to_string()),
                },
                _ => Err("a case needs \"input\" and \"canonical_hex\" strings".into()),
            };
            (name, result)
        })
        .collect())
}

/// Checks the membership vectors (`vectors/membership/cases.json`, ISM-1
/// §10.7): each file must be accepted, or refused with the reason and path
/// given, by the node named in the case (or by the file's own checks alone).
pub fn check_membership_cases(text: &str) -> Result<CaseResults, String> {
    let file: Value = serde_json::from_str(text).map_err(|e| format!("membership cases: {e}"))?;
    let cases = file["cases"]
        .as_array()
        .ok_or("the membership cases have no \"cases\" array")?;
    Ok(cases
        .iter()
        .map(|case| {
            let name = case["name"].as_str().unwrap_or("(unnamed)").to_string();
            (name, check_membership_case(case))
        })
        .collect())
}

fn check_membership_case(case: &Value) -> Result<(), String> {
    use crate::membership::Membership;
    let Some(file) = case["file"].as_str() else {
        return Err("a case needs a \"file\" string".into());
    };
    let got = match case.get("own_node_id").and_then(Value::as_str) {
        Some(own) => {
            let own = crate::ids::NodeId::parse(own).map_err(|r| format!("own_node_id: {r}"))?;
            Membership::parse_for(file.as_bytes(), &own)
        }
        None => Membership::parse(file.as_bytes()),
    };
    match (&case["expect"], got) {
        (Value::String(valid), Ok(_)) if valid == "valid" => Ok(()),
        (Value::String(valid), Err(rejection)) if valid == "valid" => {
            Err(format!("expected valid, got {rejection}"))
        }
        (Value::Object(expected), got) => {
            let reason = expected.get("reason").and_then(Value::as_str).unwrap_or("");
            let field = expected.get("field").and_then(Value::as_str);
            match got {
                Ok(_) => Err(format!("expected {reason}, but the file was accepted")),
                Err(rejection) => {
                    let got_field = rejection.field.as_ref().map(|f| f.to_string());
                    if rejection.code.as_str() == reason
                        && (field.is_none() || got_field.as_deref() == field)
                    {
                        Ok(())
                    } else {
                        Err(format!(
                            "expected {reason} at {}, got {rejection}",
                            field.unwrap_or("(any)")
                        ))
                    }
                }
            }
        }
        _ => Err("\"expect\" is \"valid\" or an object with \"reason\"".into()),
    }
}

/// Checks the RFC 8785 Appendix B number table (`vectors/jcs/numbers.json`):
/// each IEEE-754 double must serialise to its expected text.
pub fn check_jcs_numbers(text: &str) -> Result<CaseResults, String> {
    let file: Value = serde_json::from_str(text).map_err(|e| format!("numbers.json: {e}"))?;
    let cases = file["cases"]
        .as_array()
        .ok_or("numbers.json has no \"cases\" array")?;
    Ok(cases
        .iter()
        .map(|case| {
            let hex = case["ieee754_hex"].as_str().unwrap_or("").to_string();
            let expected = case["expected"].as_str().unwrap_or("");
            let result = match u64::from_str_radix(&hex, 16) {
                Ok(bits) => {
                    let got = crate::jcs::format_es6_number(f64::from_bits(bits));
                    if got == expected {
                        Ok(())
                    } else {
                        Err(format!("got {got}, expected {expected}"))
                    }
                }
                Err(_) => Err(format!("\"{hex}\" is not 16 hex digits")),
            };
            (hex, result)
        })
        .collect())
}
