//! `isthmus relay --config FILE [--check]`: runs a relay node until SIGTERM
//! or Ctrl-C, then drains and exits (ISM-1 §8, §12).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use isthmus_node::config::load_relay;
use isthmus_node::{KvNodeStore, RelayNode};
use isthmus_relay::Record;
use isthmus_store::{SledStore, SystemClock};

use super::output::Out;

/// How long a stopping node waits for the streams in progress.
const DRAIN: Duration = Duration::from_secs(5);

/// Logs each fault of a broken conformance fixture (`broken-nodes` builds
/// only; `ISTHMUS_BROKEN`), and refuses to start on a name no fault has.
pub fn announce_faults() -> anyhow::Result<()> {
    for fault in isthmus_transport::broken::configured().map_err(anyhow::Error::msg)? {
        tracing::warn!(fault = fault.name(), "BROKEN NODE: a conformance fixture's fault is active; never run this build in production");
    }
    Ok(())
}

/// Logs go to standard error; `RUST_LOG` chooses what (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// `isthmus relay`.
pub fn run(config: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let setup = load_relay(config)?;
    let metrics = setup.metrics;
    if check {
        let mut out = Out::new();
        out.line(format!(
            "{}: relay {} on {}, {} peers, store {}: the configuration is valid",
            config.display(),
            setup.transport.own,
            setup.listen,
            setup.peers.len(),
            setup.store.display()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    init_logging();
    announce_faults()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        std::fs::create_dir_all(&setup.store)
            .with_context(|| format!("creating the store directory {}", setup.store.display()))?;
        let kv = SledStore::open(&setup.store)
            .with_context(|| format!("opening the store {}", setup.store.display()))?;
        let node = RelayNode::start(
            setup.listen,
            setup.transport,
            setup.relay,
            setup.peers,
            Box::new(KvNodeStore::<_, Record>::new(kv)),
            Arc::new(SystemClock),
        )
        .context("starting the relay")?;
        if let Some(addr) = metrics {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding /metrics on {addr}"))?;
            let router = isthmus_node::api::relay_router(node.handle());
            tokio::spawn(async move { axum::serve(listener, router).await });
        }
        tracing::info!(addr = %node.local_addr().map(|a| a.to_string()).unwrap_or_default(), "relay serving");
        wait_for_stop().await;
        tracing::info!("stopping: draining the streams in progress");
        node.shutdown(DRAIN).await;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// SIGTERM or Ctrl-C.
pub async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
