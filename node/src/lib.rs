//! `isthmus-node`: the processes exchanges and custodians run (DESIGN.md §4).
//!
//! - [`store`]: a node's durable store behind a trait of its own (sled by
//!   default): engine records and handled messages, committed together;
//! - [`relay`]: the relay node, the relay engine on its own thread behind
//!   the store, its timers and the QUIC endpoint;
//! - [`config`]: configuration files, checked at start with errors that
//!   name the option.

pub mod api;
pub mod config;
pub mod gateway;
pub mod host;
pub mod metrics;
pub mod relay;
pub mod store;

pub use gateway::{GatewayHandle, GatewayNode};
pub use host::StartError;
pub use relay::RelayNode;
pub use store::{KvNodeStore, NodeStore};
