//! The envelope every ISM/1 message travels in (ISM-1 §5), and the checks a
//! receiver applies to it in order (ISM-1 §5.3).

use serde_json::{Map, Value};

use crate::body::{Body, Kind};
use crate::ids::{MessageId, NodeId};
use crate::jcs::{canonical_bytes, parse_strict};
use crate::json::{child_path, expect_str, Json, ObjectReader};
use crate::limits::MAX_NESTING_DEPTH;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};
use crate::sign::{KeyLookup, Signature, SigningKey, SIGNATURE_DOMAIN};
use crate::time::Timestamp;

/// The version string of this standard, the envelope's first check (ISM-1 §5.1).
pub const ISM_VERSION: &str = "ISM/1";

const MEMBERS: &[&str] = &[
    "version",
    "id",
    "kind",
    "sender",
    "receiver",
    "created_at",
    "body",
    "signature",
];

/// Where a message is read: alone (the payload of a frame, a vector), or
/// carried in a Batch (ISM-1 §6.11), which forbids it a signature and a
/// Batch of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried {
    /// The message itself.
    Alone,
    /// An entry of a Batch.
    InBatch,
}

/// ISM-1 §6.11 rule 3: every carried message is from the Batch's sender to
/// its receiver.
fn check_batch_addresses(
    batch: &crate::body::Batch,
    sender: &NodeId,
    receiver: &NodeId,
    body_path: &str,
) -> Result<(), Rejection> {
    for (index, message) in batch.messages.iter().enumerate() {
        let entry = format!("{}[{index}]", child_path(body_path, "messages"));
        if &message.sender != sender {
            return Err(Rejection::at(
                ReasonCode::BatchAddressMismatch,
                child_path(&entry, "sender"),
                format!(
                    "a message from {} is carried in a Batch from {sender}",
                    message.sender
                ),
            ));
        }
        if &message.receiver != receiver {
            return Err(Rejection::at(
                ReasonCode::BatchAddressMismatch,
                child_path(&entry, "receiver"),
                format!(
                    "a message for {} is carried in a Batch for {receiver}",
                    message.receiver
                ),
            ));
        }
    }
    Ok(())
}

/// One ISM/1 message: who sent it to whom, when, what it says, and the
/// sender's signature (ISM-1 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Unique per sender and message; receivers handle each id once.
    pub id: MessageId,
    /// The sending node.
    pub sender: NodeId,
    /// The node it is addressed to.
    pub receiver: NodeId,
    /// When the sender created it.
    pub created_at: Timestamp,
    /// What it says; its kind goes in the envelope's `kind`.
    pub body: Body,
    /// The sender's signature; required on the wire (ISM-1 §7.3).
    pub signature: Option<Signature>,
}

impl Envelope {
    /// An unsigned envelope.
    pub fn new(
        id: MessageId,
        sender: NodeId,
        receiver: NodeId,
        created_at: Timestamp,
        body: Body,
    ) -> Envelope {
        Envelope {
            id,
            sender,
            receiver,
            created_at,
            body,
            signature: None,
        }
    }

    /// The message kind.
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// Parses and checks a message from its bytes: size, JSON well-formedness,
    /// duplicate names, nesting, then every member (ISM-1 §5.3). The
    /// signature's form is checked but not verified; see [`Envelope::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Envelope, Rejection> {
        let value = parse_strict(bytes, MAX_NESTING_DEPTH)?;
        Envelope::from_value(&value)
    }

    /// Checks and decodes an already parsed message.
    pub fn from_value(value: &Value) -> Result<Envelope, Rejection> {
        Envelope::from_value_at(value, "", Carried::Alone)
    }

    /// Checks and decodes a message found at `path`: the top of the input
    /// (empty), or an entry of a Batch, whose paths carry its place
    /// (`body.messages[2].…`) and which has two more rules (ISM-1 §6.11
    /// rule 2).
    pub fn from_value_at(
        value: &Value,
        path: &str,
        carried: Carried,
    ) -> Result<Envelope, Rejection> {
        let at = |name: &str| child_path(path, name);
        // ISM-1 §5.3 step 2: the version decides how to read everything else,
        // so it is checked before unknown members.
        let Value::Object(members) = value else {
            return Err(Rejection::at(
                ReasonCode::WrongType,
                if path.is_empty() { "message" } else { path },
                format!(
                    "a message is a JSON object, found {}",
                    crate::json::type_name(value)
                ),
            ));
        };
        let Some(version) = members.get("version") else {
            return Err(Rejection::at(
                ReasonCode::MissingField,
                at("version"),
                "the required member \"version\" is absent",
            ));
        };
        let version = expect_str(version, &at("version"))?;
        if version != ISM_VERSION {
            return Err(Rejection::at(
                ReasonCode::VersionUnsupported,
                at("version"),
                format!(
                    "version {version} is not supported; this node speaks {ISM_VERSION}",
                    version = quoted(version)
                ),
            ));
        }
        let reader = ObjectReader::new(value, path, MEMBERS)?;
        let id: MessageId = reader.field("id")?;
        let kind: Kind = reader
            .field("kind")
            .map_err(|rejection| match rejection.code {
                ReasonCode::UnknownCode => Rejection {
                    code: ReasonCode::KindUnknown,
                    ..rejection
                },
                _ => rejection,
            })?;
        if carried == Carried::InBatch && kind == Kind::Batch {
            return Err(Rejection::at(
                ReasonCode::BatchNested,
                at("kind"),
                "a Batch does not carry Batches",
            ));
        }
        let sender: NodeId = reader.field("sender")?;
        let receiver: NodeId = reader.field("receiver")?;
        if sender == receiver {
            return Err(Rejection::at(
                ReasonCode::SenderIsReceiver,
                at("receiver"),
                format!(
                    "the message is addressed to its own sender {sender}",
                    sender = quoted(sender.as_str())
                ),
            ));
        }
        let created_at: Timestamp = reader.field("created_at")?;
        let body_value = members.get("body").ok_or_else(|| {
            Rejection::at(
                ReasonCode::MissingField,
                at("body"),
                "the required member \"body\" is absent",
            )
        })?;
        let body = Body::from_json(kind, body_value, &at("body"))?;
        if let Body::Batch(batch) = &body {
            check_batch_addresses(batch, &sender, &receiver, &at("body"))?;
        }
        let signature: Option<Signature> = reader.field("signature")?;
        if carried == Carried::InBatch && signature.is_some() {
            return Err(Rejection::at(
                ReasonCode::BatchMessageSigned,
                at("signature"),
                "a message carried in a Batch is not signed itself; the Batch's signature covers it",
            ));
        }
        Ok(Envelope {
            id,
            sender,
            receiver,
            created_at,
            body,
            signature,
        })
    }

    /// The JSON form, with the signature if there is one.
    pub fn to_json(&self) -> Value {
        let mut members = self.unsigned_members();
        self.signature.write_member("signature", &mut members);
        Value::Object(members)
    }

    fn unsigned_members(&self) -> Map<String, Value> {
        let mut members = Map::new();
        members.insert("version".into(), Value::String(ISM_VERSION.into()));
        self.id.write_member("id", &mut members);
        self.kind().write_member("kind", &mut members);
        self.sender.write_member("sender", &mut members);
        self.receiver.write_member("receiver", &mut members);
        self.created_at.write_member("created_at", &mut members);
        members.insert("body".into(), self.body.to_json());
        members
    }

    /// The canonical bytes of the whole message, signature included; what goes in a frame.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        canonical_bytes(&self.to_json())
    }

    /// The canonical bytes of the envelope without its signature (ISM-1 §7.2).
    pub fn canonical_unsigned_bytes(&self) -> Vec<u8> {
        canonical_bytes(&Value::Object(self.unsigned_members()))
    }

    /// The exact bytes an Ed25519 signature covers: the domain prefix, then
    /// the canonical unsigned bytes (ISM-1 §7.2).
    pub fn signing_input(&self) -> Vec<u8> {
        let mut input = SIGNATURE_DOMAIN.to_vec();
        input.extend_from_slice(&self.canonical_unsigned_bytes());
        input
    }

    /// Signs the envelope, replacing any signature it had.
    pub fn sign(mut self, key: &SigningKey) -> Envelope {
        self.signature = Some(key.signature_for(&self.signing_input()));
        self
    }

    /// Verifies the signature with a key found by its id (ISM-1 §7.3).
    pub fn verify(&self, keys: &dyn KeyLookup) -> Result<(), Rejection> {
        let Some(signature) = &self.signature else {
            return Err(Rejection::at(
                ReasonCode::SignatureMissing,
                "signature",
                "the message is not signed",
            ));
        };
        let Some(key) = keys.public_key(&self.sender, &signature.key_id) else {
            return Err(Rejection::at(
                ReasonCode::KeyUnknown,
                child_path("signature", "key_id"),
                format!(
                    "no key with id {} is known for sender {}",
                    signature.key_id, self.sender
                ),
            ));
        };
        if !key.verify(&self.signing_input(), &signature.value) {
            return Err(Rejection::at(
                ReasonCode::SignatureInvalid,
                "signature",
                format!(
                    "the signature by key {} does not match the message's canonical bytes",
                    signature.key_id
                ),
            ));
        }
        Ok(())
    }
}

impl serde::Serialize for Envelope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Envelope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Envelope::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// Decodes a message and, when `keys` is given, requires and verifies its
/// signature: everything a receiver checks before acting (ISM-1 §5.3, §7.3).
pub fn validate(bytes: &[u8], keys: Option<&dyn KeyLookup>) -> Result<Envelope, Rejection> {
    let envelope = Envelope::decode(bytes)?;
    if let Some(keys) = keys {
        envelope.verify(keys)?;
    }
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::ErrorBody;
    use crate::ids::{ReasonCodeText, Text};
    use crate::sign::{KeyId, PublicKey};

    /// A membership-like lookup: each key belongs to one sender.
    struct BoundKeys(Vec<(NodeId, PublicKey)>);

    impl KeyLookup for BoundKeys {
        fn public_key(&self, sender: &NodeId, key_id: &KeyId) -> Option<&PublicKey> {
            self.0
                .iter()
                .find(|(owner, key)| owner == sender && &key.key_id() == key_id)
                .map(|(_, key)| key)
        }
    }

    fn message(sender: &str) -> Envelope {
        let body = Body::Error(ErrorBody {
            code: ReasonCodeText::from(ReasonCode::MalformedJson),
            text: Text::parse("Bad input.").expect("text"),
            related_message_id: None,
            field: None,
        });
        Envelope::new(
            MessageId::new_v7(1_795_597_200_000, [1; 10]),
            NodeId::parse(sender).expect("node id"),
            NodeId::parse("relay.a").expect("node id"),
            Timestamp::parse("2026-11-25T09:00:00Z").expect("timestamp"),
            body,
        )
    }

    #[test]
    fn a_key_verifies_only_for_its_own_sender() {
        let key = SigningKey::from_seed(&[3; 32]).expect("key");
        let keys = BoundKeys(vec![(
            NodeId::parse("gw.xnys").expect("id"),
            key.public_key(),
        )]);
        assert_eq!(message("gw.xnys").sign(&key).verify(&keys), Ok(()));
        let impostor = message("gw.xetr").sign(&key);
        assert_eq!(
            impostor.verify(&keys).err().map(|r| r.code),
            Some(ReasonCode::KeyUnknown)
        );
    }
}
