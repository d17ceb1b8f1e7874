//! A network's identities (ISM-1 §8.1): a development certificate authority,
//! each node's TLS certificate (its node id as a subjectAltName `dNSName`)
//! and key, and each node's Ed25519 signing key, from which the membership
//! file follows.
//!
//! This is what `isthmus keys init` writes and what tests use in memory. An
//! operator with a CA of their own skips it: the nodes need only the CA's
//! certificate, their own certificate chain and key in PEM, and a membership
//! file pinning every certificate ([`certificate_sha256`]).

use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Hex32, NodeId, Text};
use isthmus_spec::membership::{Member, Membership, Role};
use isthmus_spec::sign::{PublicKeyRecord, SigningKey};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use ring::rand::SystemRandom;

/// Why identities could not be made.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// rcgen refused a certificate.
    #[error("making the certificate of {what}: {source}")]
    Certificate {
        /// Whose.
        what: String,
        /// rcgen's reason.
        source: rcgen::Error,
    },
    /// The system's random generator failed.
    #[error("making the signing key of {0}: the system's random generator failed")]
    Random(String),
    /// The nodes asked for do not make a valid membership.
    #[error("the network is not a valid membership: {0}")]
    Membership(isthmus_spec::Rejection),
    /// The network has no node of that id.
    #[error("the network has no node {0}")]
    NodeUnknown(String),
    /// A node's own identity does not load (it was made here, so this is a bug).
    #[error("the identity of {what} does not load: {why}")]
    Unloadable {
        /// Whose.
        what: String,
        /// Why.
        why: String,
    },
}

/// A node to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    /// Its node id.
    pub node_id: NodeId,
    /// Its role.
    pub role: Role,
    /// A gateway's market.
    pub market: Option<Mic>,
}

/// One node's secrets and certificate, in PEM.
pub struct NodeIdentity {
    /// What the node is.
    pub spec: NodeSpec,
    /// Its TLS end-entity certificate (PEM), issued by the network's CA.
    pub certificate_pem: String,
    /// The certificate's DER.
    pub certificate_der: Vec<u8>,
    /// Its TLS private key (PKCS#8 PEM). Secret.
    pub tls_key_pem: String,
    /// Its message-signing key. Secret.
    pub signing_key: SigningKey,
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("spec", &self.spec)
            .field(
                "certificate_sha256",
                &certificate_sha256(&self.certificate_der),
            )
            .finish_non_exhaustive()
    }
}

/// A whole network's identities.
#[derive(Debug)]
pub struct NetworkIdentity {
    /// The CA's certificate (PEM): every node trusts this and nothing else.
    pub ca_certificate_pem: String,
    /// The CA's private key (PKCS#8 PEM). Secret: whoever holds it can add nodes.
    pub ca_key_pem: String,
    /// Every node.
    pub nodes: Vec<NodeIdentity>,
    /// The membership file that lists them.
    pub membership: Membership,
}

/// SHA-256 of a certificate's DER: the pin of ISM-1 §8.1 rule 4.
pub fn certificate_sha256(der: &[u8]) -> Hex32 {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    Hex32::from_bytes(bytes)
}

fn certificate_error(what: &str) -> impl Fn(rcgen::Error) -> IdentityError + '_ {
    move |source| IdentityError::Certificate {
        what: what.to_string(),
        source,
    }
}

impl NetworkIdentity {
    /// A fresh CA named after `network`, and for each node a certificate, a
    /// TLS key and a signing key; the membership lists them in order.
    pub fn generate(network: &Text, nodes: &[NodeSpec]) -> Result<NetworkIdentity, IdentityError> {
        let ca_what = format!("the {network} CA");
        let ca_key = KeyPair::generate().map_err(certificate_error(&ca_what))?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(certificate_error(&ca_what))?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{network} network CA"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = ca_params
            .self_signed(&ca_key)
            .map_err(certificate_error(&ca_what))?;
        let random = SystemRandom::new();
        let mut identities = Vec::with_capacity(nodes.len());
        let mut members = Vec::with_capacity(nodes.len());
        for spec in nodes {
            let what = spec.node_id.to_string();
            let key = KeyPair::generate().map_err(certificate_error(&what))?;
            let mut params = CertificateParams::new(vec![spec.node_id.to_string()])
                .map_err(certificate_error(&what))?;
            params
                .distinguished_name
                .push(DnType::CommonName, spec.node_id.to_string());
            params.is_ca = IsCa::ExplicitNoCa;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
            let certificate = params
                .signed_by(&key, &ca, &ca_key)
                .map_err(certificate_error(&what))?;
            let signing_key =
                SigningKey::generate(&random).map_err(|_| IdentityError::Random(what.clone()))?;
            let certificate_der = certificate.der().to_vec();
            members.push(Member {
                node_id: spec.node_id.clone(),
                role: spec.role,
                market: spec.market.clone(),
                signing_keys: vec![PublicKeyRecord::of(&signing_key.public_key())],
                certificate_sha256: certificate_sha256(&certificate_der),
            });
            identities.push(NodeIdentity {
                spec: spec.clone(),
                certificate_pem: certificate.pem(),
                certificate_der,
                tls_key_pem: key.serialize_pem(),
                signing_key,
            });
        }
        let membership =
            Membership::new(network.clone(), members).map_err(IdentityError::Membership)?;
        Ok(NetworkIdentity {
            ca_certificate_pem: ca.pem(),
            ca_key_pem: ca_key.serialize_pem(),
            nodes: identities,
            membership,
        })
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&NodeIdentity> {
        self.nodes.iter().find(|n| n.spec.node_id.as_str() == id)
    }

    /// What node `id` needs to run its transport, with `limits`: its id, the
    /// membership, its TLS identity under the network's CA and its signing key.
    pub fn context(
        &self,
        id: &str,
        limits: crate::Limits,
    ) -> Result<crate::NodeContext, IdentityError> {
        let node = self
            .node(id)
            .ok_or_else(|| IdentityError::NodeUnknown(id.to_string()))?;
        let unloadable = |why: String| IdentityError::Unloadable {
            what: id.to_string(),
            why,
        };
        Ok(crate::NodeContext {
            own: node.spec.node_id.clone(),
            membership: self.membership.clone(),
            tls: crate::TlsIdentity::from_pem(
                self.ca_certificate_pem.as_bytes(),
                node.certificate_pem.as_bytes(),
                node.tls_key_pem.as_bytes(),
            )
            .map_err(|e| unloadable(e.to_string()))?,
            signing_key: SigningKey::from_pem(&node.signing_key.to_pem())
                .map_err(|e| unloadable(e.to_string()))?,
            limits,
        })
    }
}
