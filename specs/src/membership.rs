//! The network membership file (ISM-1 §8.1 rule 4): every node of the network
//! with its role, its market for a gateway, its signing keys and the
//! SHA-256 pin of its TLS certificate.
//!
//! Parsing checks the file in the order the clause fixes and stops at the
//! first failure, so that every implementation refuses a bad file with the
//! same reason and path (vectors: `specs/vectors/membership/`). A parsed
//! [`Membership`] answers the questions the transport asks (ISM-1 §8.1 rule 5,
//! §8.4 steps 3 and 5): which member presented this certificate, and may
//! this sender sign with this key.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::ident::Mic;
use crate::ids::{Hex32, NodeId, Text};
use crate::jcs::parse_strict;
use crate::json::{child_path, expect_str, Json, ObjectReader};
use crate::limits::{MAX_MESSAGE_BYTES, MAX_NESTING_DEPTH};
use crate::reason::{ReasonCode, Rejection};
use crate::sign::{KeyId, KeyLookup, PublicKey, PublicKeyRecord};

/// The most members a membership file may list (ISM-1 §8.1 rule 4).
pub const MAX_MEMBERS: usize = 1_000;

/// The largest membership file read: ample for [`MAX_MEMBERS`] members of a
/// few keys each.
pub const MAX_FILE_BYTES: usize = 8 * MAX_MESSAGE_BYTES;

/// What a node is in the network (ISM-1 §8.1 rule 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Runs one market's ledger side.
    Gateway,
    /// Matches instructions and runs settlements.
    Relay,
    /// Watches; sends only Errors (ISM-1 §8.1 rule 6).
    Observer,
}

impl Role {
    /// The wire form: `gateway`, `relay` or `observer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Gateway => "gateway",
            Role::Relay => "relay",
            Role::Observer => "observer",
        }
    }

    fn parse(text: &str, path: &str) -> Result<Role, Rejection> {
        match text {
            "gateway" => Ok(Role::Gateway),
            "relay" => Ok(Role::Relay),
            "observer" => Ok(Role::Observer),
            other => Err(Rejection::at(
                ReasonCode::RoleUnknown,
                path,
                format!(
                    "{} is not a role; a member is a gateway, a relay or an observer",
                    crate::quote::quoted(other)
                ),
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One node of the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Unique in the file.
    pub node_id: NodeId,
    /// What it does.
    pub role: Role,
    /// A gateway's market (in the market table); `None` for other roles.
    pub market: Option<Mic>,
    /// The keys it signs with; never empty, each key id under one member only.
    pub signing_keys: Vec<PublicKeyRecord>,
    /// SHA-256 of the DER of its TLS end-entity certificate; unique in the file.
    pub certificate_sha256: Hex32,
}

impl Member {
    fn to_json(&self) -> Value {
        let mut members = Map::new();
        members.insert("node_id".into(), self.node_id.to_json());
        members.insert("role".into(), Value::String(self.role.as_str().into()));
        if let Some(market) = &self.market {
            members.insert("market".into(), market.to_json());
        }
        members.insert("signing_keys".into(), self.signing_keys.to_json());
        members.insert(
            "certificate_sha256".into(),
            self.certificate_sha256.to_json(),
        );
        Value::Object(members)
    }
}

/// A checked membership file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The network's name, for people.
    pub network: Text,
    members: Vec<Member>,
    by_id: BTreeMap<NodeId, usize>,
    by_certificate: BTreeMap<[u8; 32], usize>,
    by_key: BTreeMap<KeyId, usize>,
}

impl Membership {
    /// Builds a membership from members, with the checks of [`Membership::parse`].
    pub fn new(network: Text, members: Vec<Member>) -> Result<Membership, Rejection> {
        let value = Membership::json_of(&network, &members);
        Membership::from_value(&value)
    }

    /// Parses and checks a membership file's bytes (ISM-1 §8.1 rule 4), all but
    /// the node's own presence: see [`Membership::parse_for`].
    pub fn parse(bytes: &[u8]) -> Result<Membership, Rejection> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(Rejection::new(
                ReasonCode::InputTooLarge,
                format!(
                    "the membership file has {} bytes; at most {MAX_FILE_BYTES} are read",
                    bytes.len()
                ),
            ));
        }
        let value = parse_strict(bytes, MAX_NESTING_DEPTH)?;
        Membership::from_value(&value)
    }

    /// [`Membership::parse`], and refuses a file that does not list `own`
    /// with `MEMBER_MISSING`: what a node does at start.
    pub fn parse_for(bytes: &[u8], own: &NodeId) -> Result<Membership, Rejection> {
        let membership = Membership::parse(bytes)?;
        if membership.member(own).is_none() {
            return Err(Rejection::new(
                ReasonCode::MemberMissing,
                format!(
                    "this node, {own}, is not in the membership file of network {}",
                    membership.network
                ),
            ));
        }
        Ok(membership)
    }

    /// Checks a parsed JSON value as a membership file.
    pub fn from_value(value: &Value) -> Result<Membership, Rejection> {
        let reader = ObjectReader::new(value, "", &["network", "members"])?;
        let network: Text = reader.field("network")?;
        let Some(entries) = value.get("members") else {
            return Err(Rejection::at(
                ReasonCode::MissingField,
                "members",
                "the required member \"members\" is absent",
            ));
        };
        let Value::Array(entries) = entries else {
            return Err(Rejection::at(
                ReasonCode::WrongType,
                "members",
                "expected an array of members",
            ));
        };
        if entries.is_empty() {
            return Err(Rejection::at(
                ReasonCode::MemberMissing,
                "members",
                "the membership file lists no member",
            ));
        }
        if entries.len() > MAX_MEMBERS {
            return Err(Rejection::at(
                ReasonCode::TooManyItems,
                "members",
                format!(
                    "a membership lists at most {MAX_MEMBERS} members; this one lists {}",
                    entries.len()
                ),
            ));
        }
        let mut membership = Membership {
            network,
            members: Vec::with_capacity(entries.len()),
            by_id: BTreeMap::new(),
            by_certificate: BTreeMap::new(),
            by_key: BTreeMap::new(),
        };
        for (index, entry) in entries.iter().enumerate() {
            let member = membership.check_entry(index, entry)?;
            membership.members.push(member);
        }
        Ok(membership)
    }

    /// One entry, in the order of ISM-1 §8.1 rule 4, against the entries before it.
    fn check_entry(&mut self, index: usize, entry: &Value) -> Result<Member, Rejection> {
        const DECLARED: &[&str] = &[
            "node_id",
            "role",
            "market",
            "signing_keys",
            "certificate_sha256",
        ];
        let path = format!("members[{index}]");
        let reader = ObjectReader::new(entry, &path, DECLARED)?;
        let node_id: NodeId = reader.field("node_id")?;
        if self.by_id.contains_key(&node_id) {
            return Err(Rejection::at(
                ReasonCode::MemberDuplicate,
                child_path(&path, "node_id"),
                format!("{node_id} is listed twice; a node id names one member"),
            ));
        }
        let role_path = child_path(&path, "role");
        let role = match entry.get("role") {
            Some(value) => Role::parse(expect_str(value, &role_path)?, &role_path)?,
            None => {
                return Err(Rejection::at(
                    ReasonCode::MissingField,
                    role_path,
                    "the required member \"role\" is absent",
                ))
            }
        };
        let market_path = child_path(&path, "market");
        let market = match (role, entry.get("market")) {
            (Role::Gateway, None) => {
                return Err(Rejection::at(
                    ReasonCode::MissingField,
                    market_path,
                    format!("{node_id} is a gateway, so it names its market"),
                ))
            }
            (Role::Gateway, Some(value)) => {
                let mic = Mic::from_json(value, &market_path)?;
                if mic.market().is_none() {
                    return Err(Rejection::at(
                        ReasonCode::MicUnknown,
                        market_path,
                        format!(
                            "{mic} is a well-formed MIC but not a market of the ISM/1 market table"
                        ),
                    ));
                }
                Some(mic)
            }
            (_, Some(_)) => {
                return Err(Rejection::at(
                    ReasonCode::MarketUnexpected,
                    market_path,
                    format!("{node_id} is a {role}; only a gateway has a market"),
                ))
            }
            (_, None) => None,
        };
        let keys_path = child_path(&path, "signing_keys");
        let signing_keys: Vec<PublicKeyRecord> = reader.field("signing_keys")?;
        if signing_keys.is_empty() {
            return Err(Rejection::at(
                ReasonCode::SigningKeysMissing,
                keys_path,
                format!("{node_id} lists no signing key, so nothing it sends could be verified"),
            ));
        }
        for (key_index, record) in signing_keys.iter().enumerate() {
            if let Some(&earlier) = self.by_key.get(&record.key_id) {
                let owner = self.members.get(earlier).map_or(&node_id, |m| &m.node_id);
                return Err(Rejection::at(
                    ReasonCode::KeyDuplicate,
                    format!("{keys_path}[{key_index}].key_id"),
                    format!(
                        "key {} is listed already, under {owner}; a key signs for one member only",
                        record.key_id
                    ),
                ));
            }
            self.by_key.insert(record.key_id.clone(), index);
        }
        let certificate_sha256: Hex32 = reader.field("certificate_sha256")?;
        if let Some(&earlier) = self.by_certificate.get(certificate_sha256.bytes()) {
            let owner = self.members.get(earlier).map(|m| m.node_id.to_string());
            return Err(Rejection::at(
                ReasonCode::CertificateDuplicate,
                child_path(&path, "certificate_sha256"),
                format!(
                    "this certificate is {}'s already; a certificate identifies one member",
                    owner.unwrap_or_default()
                ),
            ));
        }
        self.by_certificate
            .insert(*certificate_sha256.bytes(), index);
        self.by_id.insert(node_id.clone(), index);
        Ok(Member {
            node_id,
            role,
            market,
            signing_keys,
            certificate_sha256,
        })
    }

    /// Every member, in file order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The member with this node id.
    pub fn member(&self, id: &NodeId) -> Option<&Member> {
        self.by_id.get(id).and_then(|&i| self.members.get(i))
    }

    /// The member whose certificate has this SHA-256 (ISM-1 §8.1 rule 5).
    pub fn by_certificate(&self, sha256: &[u8; 32]) -> Option<&Member> {
        self.by_certificate
            .get(sha256)
            .and_then(|&i| self.members.get(i))
    }

    /// The gateway of a market, if the network has one.
    pub fn gateway_of(&self, market: &Mic) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.role == Role::Gateway && m.market.as_ref() == Some(market))
    }

    /// The file's JSON form, as [`Membership::parse`] reads it.
    pub fn to_json(&self) -> Value {
        Membership::json_of(&self.network, &self.members)
    }

    fn json_of(network: &Text, members: &[Member]) -> Value {
        let mut object = Map::new();
        object.insert("network".into(), network.to_json());
        object.insert(
            "members".into(),
            Value::Array(members.iter().map(Member::to_json).collect()),
        );
        Value::Object(object)
    }
}

/// Keys bound to their member: a sender may sign only with its own keys
/// (ISM-1 §8.4 step 5).
impl KeyLookup for Membership {
    fn public_key(&self, sender: &NodeId, key_id: &KeyId) -> Option<&PublicKey> {
        let owner = self.by_key.get(key_id)?;
        let member = self.members.get(*owner)?;
        if &member.node_id != sender {
            return None;
        }
        member
            .signing_keys
            .iter()
            .find(|record| &record.key_id == key_id)
            .map(|record| &record.public_key)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::sign::SigningKey;

    fn member(id: &str, role: Role, market: Option<&str>, seed: u8, cert: u8) -> Member {
        let key = SigningKey::from_seed(&[seed; 32]).unwrap();
        Member {
            node_id: NodeId::parse(id).unwrap(),
            role,
            market: market.map(|m| Mic::parse(m).unwrap()),
            signing_keys: vec![PublicKeyRecord::of(&key.public_key())],
            certificate_sha256: Hex32::parse(&crate::ids::hex_lower(&[cert; 32])).unwrap(),
        }
    }

    fn network() -> Membership {
        Membership::new(
            Text::parse("test").unwrap(),
            vec![
                member("relay.one", Role::Relay, None, 1, 1),
                member("gw.xnys", Role::Gateway, Some("XNYS"), 2, 2),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_key_signs_only_for_its_own_member() {
        let membership = network();
        let relay = NodeId::parse("relay.one").unwrap();
        let gateway = NodeId::parse("gw.xnys").unwrap();
        let relay_key = SigningKey::from_seed(&[1; 32]).unwrap().public_key();
        let key_id = relay_key.key_id();
        assert_eq!(membership.public_key(&relay, &key_id), Some(&relay_key));
        assert_eq!(membership.public_key(&gateway, &key_id), None);
        let unknown = SigningKey::from_seed(&[9; 32])
            .unwrap()
            .public_key()
            .key_id();
        assert_eq!(membership.public_key(&relay, &unknown), None);
    }

    #[test]
    fn members_are_found_by_id_certificate_and_market() {
        let membership = network();
        assert_eq!(
            membership
                .by_certificate(&[2; 32])
                .map(|m| m.node_id.as_str()),
            Some("gw.xnys")
        );
        assert!(membership.by_certificate(&[3; 32]).is_none());
        assert_eq!(
            membership
                .gateway_of(&Mic::parse("XNYS").unwrap())
                .map(|m| m.node_id.as_str()),
            Some("gw.xnys")
        );
        assert!(membership
            .gateway_of(&Mic::parse("XLON").unwrap())
            .is_none());
        assert_eq!(membership.members().len(), 2);
    }

    #[test]
    fn the_written_form_reads_back_the_same() {
        let membership = network();
        let text = serde_json::to_vec(&membership.to_json()).unwrap();
        assert_eq!(Membership::parse(&text).unwrap(), membership);
        let own = NodeId::parse("gw.xnys").unwrap();
        assert!(Membership::parse_for(&text, &own).is_ok());
        let stranger = NodeId::parse("gw.xlon").unwrap();
        assert_eq!(
            Membership::parse_for(&text, &stranger)
                .err()
                .map(|r| r.code),
            Some(ReasonCode::MemberMissing)
        );
    }

    #[test]
    fn an_oversized_file_is_refused_before_parsing() {
        let big = vec![b' '; MAX_FILE_BYTES + 1];
        assert_eq!(
            Membership::parse(&big).err().map(|r| r.code),
            Some(ReasonCode::InputTooLarge)
        );
    }
}
