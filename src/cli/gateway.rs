//! `isthmus gateway --config FILE [--check]`: runs a gateway node (one
//! market's native ledger, the gateway engine and watcher, QUIC to its
//! relays and the other gateways, and the participant API) until SIGTERM
//! or Ctrl-C, then drains and exits.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use isthmus_adapters::native_ledger::NativeLedger;
use isthmus_gateway::Record;
use isthmus_ledger::Ledger;
use isthmus_node::config::load_gateway;
use isthmus_node::gateway::{custody_ledger, GatewayLedger};
use isthmus_node::{GatewayNode, KvNodeStore};
use isthmus_store::log::DiskLogFiles;
use isthmus_store::{SledStore, SystemClock};

use super::output::Out;
use super::relay::{announce_faults, init_logging, wait_for_stop};

const DRAIN: Duration = Duration::from_secs(5);

/// `isthmus gateway`.
pub fn run(config: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let setup = load_gateway(config)?;
    if check {
        let mut out = Out::new();
        out.line(format!(
            "{}: gateway {} of {} on {}, API on {}, {} participants, store {}, ledger {}{}: the configuration is valid",
            config.display(),
            setup.transport.own,
            setup.gateway.market,
            setup.listen,
            setup.api.listen,
            setup.api.participants.len(),
            setup.store.display(),
            setup.ledger.display(),
            setup.custody.as_ref().map_or(String::new(), |c| format!(
                " (custody: escrow {}, records {})",
                c.escrow,
                c.records.display()
            ))
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    init_logging();
    announce_faults()?;
    let relay = setup
        .gateway
        .relays
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("{}: gateway.relays: no relay", config.display()))?;
    let market = setup.gateway.market.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let custody_records = setup.custody.as_ref().map(|c| &c.records);
        for dir in [&setup.store, &setup.ledger]
            .into_iter()
            .chain(custody_records)
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let files = DiskLogFiles::writer(&setup.ledger)
            .with_context(|| format!("opening the ledger {}", setup.ledger.display()))?;
        let ledger = Ledger::open(files, clock())
            .map_err(|f| anyhow!("opening the ledger {}: {f}", setup.ledger.display()))?;
        let side = NativeLedger::new(setup.gateway.market.clone(), ledger);
        let side: Box<dyn GatewayLedger> = match &setup.custody {
            None => Box::new(side),
            Some(custody) => {
                let records = SledStore::open(&custody.records).with_context(|| {
                    format!(
                        "opening the custodian's records {}",
                        custody.records.display()
                    )
                })?;
                Box::new(
                    custody_ledger(
                        setup.gateway.market.clone(),
                        side,
                        &custody.escrow,
                        records,
                        clock(),
                    )
                    .map_err(|f| {
                        anyhow!(
                            "opening the custody ledger over {}: {f}",
                            setup.ledger.display()
                        )
                    })?,
                )
            }
        };
        let kv = SledStore::open(&setup.store)
            .with_context(|| format!("opening the store {}", setup.store.display()))?;
        let api = setup.api.clone();
        let node = GatewayNode::start(
            setup.listen,
            setup.transport,
            setup.gateway,
            side,
            setup.peers,
            Box::new(KvNodeStore::<_, Record>::new(kv)),
            Arc::from(clock()),
        )
        .context("starting the gateway")?;
        let router = isthmus_node::api::router(node.handle(), api.clone(), relay, market);
        let listener = tokio::net::TcpListener::bind(api.listen)
            .await
            .with_context(|| format!("binding the API on {}", api.listen))?;
        let api_addr = listener.local_addr().context("the API's address")?;
        let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = api_stopped.await;
                })
                .await
        });
        tracing::info!(
            addr = %node.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            api = %api_addr,
            "gateway serving"
        );
        wait_for_stop().await;
        tracing::info!("stopping: draining the streams in progress");
        let _ = stop_api.send(());
        let _ = server.await;
        node.shutdown(DRAIN).await;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// How far ahead of the network the clock of a gateway with the fault
/// `refund-before-expiry` runs: beyond any skew bound a network would set.
const FAST_CLOCK_MS: u64 = 6_000;

/// A clock `FAST_CLOCK_MS` ahead of the system's: the broken node's.
struct FastClock;

impl isthmus_store::Clock for FastClock {
    fn now_ms(&self) -> u64 {
        SystemClock.now_ms() + FAST_CLOCK_MS
    }
}

/// The gateway's clock, for its engine and its ledger: the system's, or
/// with the fault `refund-before-expiry` (broken-nodes builds only) one
/// that runs ahead.
fn clock() -> Box<dyn isthmus_store::Clock> {
    if isthmus_transport::broken::active(isthmus_transport::broken::Fault::RefundBeforeExpiry) {
        Box::new(FastClock)
    } else {
        Box::new(SystemClock)
    }
}
