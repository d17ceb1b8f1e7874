//! What the transport's integration tests share: a handler that records
//! what it is handed, and a node's TLS identity from a generated network.

#![allow(dead_code)] // each test file uses its own part

use std::sync::Mutex;

use isthmus_transport::{Answer, Handler, NetworkIdentity, Request, TlsIdentity};

/// Acknowledges every request and keeps it.
#[derive(Default)]
pub struct Recorder {
    pub seen: Mutex<Vec<Request>>,
}

impl Recorder {
    /// How many requests it was handed.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl Handler for Recorder {
    async fn handle(&self, request: Request) -> Answer {
        self.seen.lock().unwrap().push(request);
        Answer::Acknowledge
    }
}

/// Node `id`'s TLS identity in `identity`, trusting the CA `ca_pem`.
pub fn tls_of(identity: &NetworkIdentity, ca_pem: &str, id: &str) -> TlsIdentity {
    let node = identity.node(id).unwrap();
    TlsIdentity::from_pem(
        ca_pem.as_bytes(),
        node.certificate_pem.as_bytes(),
        node.tls_key_pem.as_bytes(),
    )
    .unwrap()
}
