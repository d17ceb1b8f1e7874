//! What the node tests share: identities, a node's transport context, the
//! workload's trades, and a bounded wait.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use isthmus_sim::workload::{self, Trade, TradeKind};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::NodeId;
use isthmus_spec::membership::Role;
use isthmus_transport::{Limits, NetworkIdentity, NodeContext, NodeSpec};

/// The relay of every node test.
pub const RELAY: &str = "relay-0.custodian";

/// A node to create.
pub fn node_spec(id: &str, role: Role, market: Option<&str>) -> NodeSpec {
    NodeSpec {
        node_id: NodeId::parse(id).unwrap(),
        role,
        market: market.map(|m| Mic::parse(m).unwrap()),
    }
}

/// A node's transport context from the network's identities.
pub fn context(net: &NetworkIdentity, id: &str) -> NodeContext {
    net.context(id, Limits::default()).unwrap()
}

/// The first `count` trades of `kind` in the simulator's workload.
pub fn trades(kind: TradeKind, count: usize) -> Vec<Trade> {
    (0..100_000u64)
        .filter_map(|run| {
            let mut rng = isthmus_sim::rng::SimRng::new(run);
            workload::trades(run, 1, 1, &mut rng)
                .pop()
                .filter(|t| t.kind == kind)
        })
        .take(count)
        .collect()
}

/// Waits (bounded, to catch a hang) until `done` holds.
pub async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..1_500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("gave up waiting: {what}");
}

/// `GET path` without a token; the status and the body as text.
pub async fn get_text(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status = text[9..12].parse().unwrap();
    (
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}
