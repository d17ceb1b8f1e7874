//! TLS 1.3 for ISM/1 on rustls's ring provider (ISM-1 §8.1): both sides
//! present certificates, both verify the other's chain against the
//! network's CA only, the ALPN is `ism/1`, and a client pins the server it
//! means to reach by its certificate's SHA-256 (rule 9).

use std::sync::Arc;
use std::time::Duration;

use isthmus_spec::ids::Hex32;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::identity::certificate_sha256;
use crate::limits::Limits;

/// The ALPN identifier of this version (ISM-1 §8.1 rule 2).
pub const ALPN: &[u8] = b"ism/1";

/// Why a TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM input held no certificate or key, or a broken one.
    #[error("{what}: {detail}")]
    Pem {
        /// Which input.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("the TLS configuration is refused: {0}")]
    Rustls(#[from] rustls::Error),
    /// The CA certificate cannot be a trust anchor, or the verifier cannot be built.
    #[error("the network CA cannot verify peers: {0}")]
    Verifier(String),
    /// quinn refused the configuration.
    #[error("QUIC refuses the TLS configuration: {0}")]
    Quic(String),
}

/// The ring provider, the only one ISM/1 nodes use.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A node's TLS identity: the network's CA and its own chain and key.
#[derive(Debug)]
pub struct TlsIdentity {
    ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for TlsIdentity {
    fn clone(&self) -> TlsIdentity {
        TlsIdentity {
            ca: self.ca.clone(),
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl TlsIdentity {
    /// Reads the CA certificate, the node's certificate chain (its own
    /// first) and its private key, all PEM.
    pub fn from_pem(
        ca_pem: &[u8],
        chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<TlsIdentity, TlsError> {
        let ca = CertificateDer::from_pem_slice(ca_pem).map_err(|e| TlsError::Pem {
            what: "the CA certificate",
            detail: e.to_string(),
        })?;
        let chain = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem {
                what: "the node's certificate",
                detail: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::Pem {
                what: "the node's certificate",
                detail: "no CERTIFICATE block".into(),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem {
            what: "the node's TLS key",
            detail: e.to_string(),
        })?;
        Ok(TlsIdentity { ca, chain, key })
    }

    /// SHA-256 of this node's own certificate: its pin in the membership.
    pub fn certificate_sha256(&self) -> Hex32 {
        certificate_sha256(self.chain[0].as_ref())
    }

    fn roots(&self) -> Result<Arc<RootCertStore>, TlsError> {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.ca.clone())
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
        Ok(Arc::new(roots))
    }

    /// The server side: client certificates required and verified against
    /// the CA; TLS 1.3; ALPN `ism/1` (a client offering none or another
    /// fails the handshake with `no_application_protocol`, rule 7).
    pub fn server_config(&self, limits: &Limits) -> Result<quinn::ServerConfig, TlsError> {
        let verifier = WebPkiClientVerifier::builder_with_provider(self.roots()?, provider())
            .build()
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
        let mut tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        tls.alpn_protocols = vec![ALPN.to_vec()];
        if crate::broken::active(crate::broken::Fault::SkipAlpnCheck) {
            // Selects what a client offers, and completes a handshake
            // without ALPN: the fault of `ism1/8.1/7-alpn-refused`.
            tls.alpn_protocols
                .extend([b"h3".to_vec(), b"ism/2".to_vec()]);
        }
        let crypto = QuicServerConfig::try_from(tls).map_err(|e| TlsError::Quic(e.to_string()))?;
        let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        config.transport_config(transport_config(limits)?);
        config.max_incoming(limits.handshakes_in_progress);
        Ok(config)
    }

    /// The client side, for reaching the member whose certificate has the
    /// SHA-256 `pin`: our certificate presented, the server's chain verified
    /// against the CA and its certificate pinned (rule 9).
    pub fn client_config(
        &self,
        pin: &Hex32,
        limits: &Limits,
    ) -> Result<quinn::ClientConfig, TlsError> {
        self.client_config_offering(pin, limits, vec![ALPN.to_vec()])
    }

    /// [`TlsIdentity::client_config`] offering the ALPN identifiers `alpn`
    /// instead of `ism/1` alone: for conformance probes of a server's ALPN
    /// check (ISM-1 §8.1 rule 7). A node uses [`TlsIdentity::client_config`].
    pub fn client_config_offering(
        &self,
        pin: &Hex32,
        limits: &Limits,
        alpn: Vec<Vec<u8>>,
    ) -> Result<quinn::ClientConfig, TlsError> {
        let inner = WebPkiServerVerifier::builder_with_provider(self.roots()?, provider())
            .build()
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
        let verifier = Arc::new(PinnedServer {
            inner,
            pin: *pin.bytes(),
        });
        let mut tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())?;
        tls.alpn_protocols = alpn;
        let crypto = QuicClientConfig::try_from(tls).map_err(|e| TlsError::Quic(e.to_string()))?;
        let mut config = quinn::ClientConfig::new(Arc::new(crypto));
        config.transport_config(transport_config(limits)?);
        Ok(config)
    }
}

fn transport_config(limits: &Limits) -> Result<Arc<quinn::TransportConfig>, TlsError> {
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(quinn::VarInt::from_u32(limits.open_streams_per_connection));
    // ISM/1 has no unidirectional streams (ISM-1 §8.3 rule 8).
    transport.max_concurrent_uni_streams(quinn::VarInt::from_u32(0));
    let idle = quinn::IdleTimeout::try_from(Duration::from_millis(limits.idle_timeout_ms))
        .map_err(|e| TlsError::Quic(format!("idle timeout: {e}")))?;
    transport.max_idle_timeout(Some(idle));
    // Keep a connection that is in use alive well within the idle timeout.
    transport.keep_alive_interval(Some(Duration::from_millis(limits.idle_timeout_ms / 3)));
    Ok(Arc::new(transport))
}

/// The CA's chain check without the name check, then the pin (ISM-1 §8.1
/// rule 9: the pin identifies the server; its name need not match).
#[derive(Debug)]
struct PinnedServer {
    inner: Arc<WebPkiServerVerifier>,
    pin: [u8; 32],
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(_) => {}
            // webpki checks the name last, once the chain has verified.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => {}
            Err(other) => return Err(other),
        }
        if certificate_sha256(end_entity.as_ref()).bytes() != &self.pin {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
