//! The network the suite runs in (`--network DIR`): the membership file the
//! target loads too, the network CA, and the keys of the nodes the suite
//! plays, in the layout `isthmus keys init` writes. `isthmus keys init
//! --conformance` adds what the identity scenarios need and no member has: a
//! certificate of the network's CA for a node that is not a member
//! (`conformance/stranger/`), and a certificate of another CA
//! (`conformance/foreign/`).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use isthmus_spec::ids::NodeId;
use isthmus_spec::membership::{Member, Membership, Role};
use isthmus_spec::sign::SigningKey;
use isthmus_transport::TlsIdentity;

/// The largest key, certificate or membership file read.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why the network directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file holds something else.
    #[error("{path}: {why}")]
    Invalid {
        /// Which.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The membership has no node for a role the suite must play.
    #[error("{0}")]
    Missing(String),
}

/// A node's secrets: what the suite needs to play it.
pub struct NodeKeys {
    /// Its node id.
    pub id: NodeId,
    /// Its TLS identity (trusting the network CA).
    pub tls: TlsIdentity,
    /// Its signing key.
    pub signing_key: SigningKey,
}

/// The network directory, loaded.
pub struct NetworkDir {
    /// Where it is.
    pub dir: PathBuf,
    /// The membership file.
    pub membership: Membership,
    ca_pem: Vec<u8>,
}

fn read(path: &Path) -> Result<Vec<u8>, NetworkError> {
    let failed = |source| NetworkError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    fs::File::open(path)
        .map_err(failed)?
        .take(MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    Ok(bytes)
}

fn invalid(path: &Path, why: impl std::fmt::Display) -> NetworkError {
    NetworkError::Invalid {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

impl NetworkDir {
    /// Loads `dir/membership.json` and `dir/ca/ca.pem`.
    pub fn load(dir: &Path) -> Result<NetworkDir, NetworkError> {
        let path = dir.join("membership.json");
        let membership = Membership::parse(&read(&path)?).map_err(|r| invalid(&path, r))?;
        let ca_pem = read(&dir.join("ca").join("ca.pem"))?;
        Ok(NetworkDir {
            dir: dir.to_path_buf(),
            membership,
            ca_pem,
        })
    }

    fn keys_in(
        &self,
        node_dir: &Path,
        id: NodeId,
        ca_pem: &[u8],
    ) -> Result<NodeKeys, NetworkError> {
        let certificate = node_dir.join("tls.pem");
        let key = node_dir.join("tls.key");
        let tls = TlsIdentity::from_pem(ca_pem, &read(&certificate)?, &read(&key)?)
            .map_err(|e| invalid(&certificate, e))?;
        let signing = node_dir.join("signing.key");
        let pem = String::from_utf8(read(&signing)?).map_err(|e| invalid(&signing, e))?;
        let signing_key = SigningKey::from_pem(&pem).map_err(|e| invalid(&signing, e))?;
        Ok(NodeKeys {
            id,
            tls,
            signing_key,
        })
    }

    /// The keys of member `id` (`dir/nodes/ID/`).
    pub fn keys(&self, id: &NodeId) -> Result<NodeKeys, NetworkError> {
        let node_dir = self.dir.join("nodes").join(id.as_str());
        self.keys_in(&node_dir, id.clone(), &self.ca_pem)
    }

    /// The members with `role`, in file order.
    pub fn members(&self, role: Role) -> Vec<&Member> {
        self.membership
            .members()
            .iter()
            .filter(|m| m.role == role)
            .collect()
    }

    /// A node the network's CA certified that is not a member
    /// (`dir/conformance/stranger/`, its id in `node_id`), if the directory has one.
    pub fn stranger(&self) -> Result<Option<NodeKeys>, NetworkError> {
        let node_dir = self.dir.join("conformance").join("stranger");
        if !node_dir.is_dir() {
            return Ok(None);
        }
        let path = node_dir.join("node_id");
        let text = String::from_utf8(read(&path)?).map_err(|e| invalid(&path, e))?;
        let id = NodeId::parse(text.trim()).map_err(|r| invalid(&path, r))?;
        if self.membership.member(&id).is_some() {
            return Err(invalid(
                &path,
                format!("{id} is a member: a stranger must not be"),
            ));
        }
        self.keys_in(&node_dir, id, &self.ca_pem).map(Some)
    }

    /// A certificate of another CA (`dir/conformance/foreign/`), trusting
    /// the network's CA so that only the target's check of it can fail.
    pub fn foreign(&self) -> Result<Option<TlsIdentity>, NetworkError> {
        let node_dir = self.dir.join("conformance").join("foreign");
        if !node_dir.is_dir() {
            return Ok(None);
        }
        let certificate = node_dir.join("tls.pem");
        TlsIdentity::from_pem(
            &self.ca_pem,
            &read(&certificate)?,
            &read(&node_dir.join("tls.key"))?,
        )
        .map(Some)
        .map_err(|e| invalid(&certificate, e))
    }
}
