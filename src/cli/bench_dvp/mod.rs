//! `isthmus bench dvp`: delivery versus payment through Isthmus — a relay
//! and two gateways over real QUIC, sled stores and disk ledgers, fsync on —
//! and, with `--baseline postgres`, the same trades (same accounts, same
//! funds, same concurrency) on PostgreSQL in the same run: one serializable
//! transaction per trade on one database, and two databases made atomic by
//! two-phase commit. Figures side by side with their ratios.

mod postgres;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use super::bench::{machine, quantile_ms};
use super::demo::load::{LoadFigures, Pace};
use super::demo::script::DemoTrade;
use super::demo::{self, load, world};
use super::output::Out;

/// `bench dvp`'s settings.
pub struct DvpBench {
    /// Trades.
    pub settlements: usize,
    /// In flight at once.
    pub concurrency: usize,
    /// Also on PostgreSQL.
    pub postgres: bool,
    /// The throwaway cluster's port.
    pub pg_port: u16,
    /// Also run Isthmus paced at half the peak it reached (open loop).
    pub half_load: bool,
    /// One JSON object on the last line.
    pub json: bool,
}

/// The note on Isthmus's rows.
const ISTHMUS_NOTE: &str = "relay + 2 gateways, QUIC mTLS, HTLC on both ledgers, sled stores and disk journals fsynced, instruction to both confirmations";

/// Isthmus on a network of its own: the demo's, with the deployed timeouts.
async fn isthmus(
    trades: Vec<DemoTrade>,
    pace: Pace,
    progress: bool,
) -> anyhow::Result<LoadFigures> {
    let dir = tempfile::tempdir().context("making a temporary directory")?;
    let identity = world::identities()?;
    let network = world::start(&identity, dir.path(), world::load_timing()).await?;
    demo::fund(&network).await?;
    let figures = load::settle(&network, trades, pace, progress).await?;
    network.shutdown(Duration::from_secs(2)).await;
    Ok(figures)
}

struct Row {
    name: &'static str,
    settled: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    note: String,
}

impl Row {
    fn rate(&self) -> f64 {
        self.settled as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "system": self.name,
            "settled": self.settled,
            "seconds": self.elapsed.as_secs_f64(),
            "settlements_per_second": self.rate(),
            "p50_ms": quantile_ms(&self.latencies, 0.5),
            "p99_ms": quantile_ms(&self.latencies, 0.99),
            "max_ms": quantile_ms(&self.latencies, 1.0),
            "note": self.note,
        })
    }
}

/// What issue 13 asks of the p99 at half the peak load, in milliseconds.
const HALF_LOAD_P99_TARGET_MS: u32 = 50;

/// Where `deploy/postgres.sh` is: next to the working directory, or in the
/// source tree this binary was built from.
fn postgres_script() -> PathBuf {
    let here = PathBuf::from("deploy/postgres.sh");
    if here.is_file() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/postgres.sh")
    }
}

/// Runs the benchmark and prints it; exit 1 if a check failed.
pub fn run(options: DvpBench) -> anyhow::Result<ExitCode> {
    // The nodes' logs only when asked for (RUST_LOG): they cost time.
    if std::env::var_os("RUST_LOG").is_some() {
        super::relay::init_logging();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut out = Out::new();
    let (rows, half, failures) = runtime.block_on(async {
        let mut rows = Vec::new();
        let mut failures = Vec::new();
        let trades = load::trades(options.settlements)?;
        let moves: Vec<_> = trades
            .iter()
            .map(postgres::moves)
            .collect::<anyhow::Result<_>>()?;
        let figures = isthmus(trades, Pace::closed(options.concurrency), !options.json).await?;
        failures.extend(figures.failures);
        rows.push(Row {
            name: "isthmus",
            settled: figures.settled,
            elapsed: figures.elapsed,
            latencies: figures.latencies,
            note: ISTHMUS_NOTE.into(),
        });
        if options.postgres {
            let cluster = postgres::Cluster {
                port: options.pg_port,
            };
            postgres::ensure_running(&cluster, &postgres_script()).await?;
            postgres::prepare(
                &cluster,
                &[
                    ("isthmus_dvp", None),
                    ("isthmus_xetr", Some(world::XETR.mic)),
                    ("isthmus_xasx", Some(world::XASX.mic)),
                    ("isthmus_coordinator", Some("NONE")),
                ],
            )
            .await?;
            let moves = Arc::new(moves);
            let before_single = postgres::totals(&cluster, &["isthmus_dvp"]).await?;
            let single = postgres::single(&cluster, moves.clone(), options.concurrency).await?;
            if postgres::totals(&cluster, &["isthmus_dvp"]).await? != before_single {
                failures.push("PostgreSQL (one database) did not conserve an asset".into());
            }
            rows.push(Row {
                name: "postgres-1db",
                settled: single.settled,
                elapsed: single.elapsed,
                latencies: single.latencies,
                note: format!(
                    "one SERIALIZABLE transaction per DvP, synchronous_commit on; {} retries",
                    single.retries
                ),
            });
            let pair = ["isthmus_xetr", "isthmus_xasx"];
            let before_pair = postgres::totals(&cluster, &pair).await?;
            let two = postgres::two_phase(&cluster, moves, options.concurrency).await?;
            if postgres::totals(&cluster, &pair).await? != before_pair {
                failures.push("PostgreSQL (two databases) did not conserve an asset".into());
            }
            rows.push(Row {
                name: "postgres-2pc",
                settled: two.settled,
                elapsed: two.elapsed,
                latencies: two.latencies,
                note: format!(
                    "a database per market, PREPARE TRANSACTION on both, decision logged, COMMIT PREPARED; {} retries",
                    two.retries
                ),
            });
        }
        for row in &rows {
            if row.settled != options.settlements {
                failures.push(format!(
                    "{} settled {} of {} trades",
                    row.name, row.settled, options.settlements
                ));
            }
        }
        // Latency at half the peak: paced trades, an open loop as order flow
        // is, for as long as the peak run took (half as many trades).
        let mut half = None;
        if options.half_load {
            let rate = rows[0].rate() / 2.0;
            let count = (options.settlements / 2).max(1);
            let pace = Pace {
                concurrency: (options.concurrency * 4).max(64),
                rate: Some(rate),
            };
            let figures = isthmus(load::trades(count)?, pace, !options.json).await?;
            failures.extend(figures.failures);
            if figures.settled != count {
                failures.push(format!(
                    "isthmus at half load settled {} of {count} trades",
                    figures.settled
                ));
            }
            half = Some((
                rate,
                Row {
                    name: "isthmus-half",
                    settled: figures.settled,
                    elapsed: figures.elapsed,
                    latencies: figures.latencies,
                    note: format!("paced at {rate:.1}/s, half the peak above (open loop)"),
                },
            ));
        }
        Ok::<_, anyhow::Error>((rows, half, failures))
    })?;
    let machine = machine();
    out.line(format_args!(
        "bench dvp: {} settlements, concurrency {}, on {} ({} cores, {} GiB, {}, {})",
        options.settlements,
        options.concurrency,
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cores"],
        machine["memory_gib"],
        machine["os"].as_str().unwrap_or("?"),
        machine["profile"].as_str().unwrap_or("?"),
    ))?;
    out.line(format_args!(
        "  {:<13} {:>14} {:>9} {:>9} {:>9}  {}",
        "system", "settlements/s", "p50 ms", "p99 ms", "max ms", "what"
    ))?;
    for row in rows.iter().chain(half.as_ref().map(|(_, row)| row)) {
        out.line(format_args!(
            "  {:<13} {:>14.1} {:>9.1} {:>9.1} {:>9.1}  {}",
            row.name,
            row.rate(),
            quantile_ms(&row.latencies, 0.5),
            quantile_ms(&row.latencies, 0.99),
            quantile_ms(&row.latencies, 1.0),
            row.note
        ))?;
    }
    let mut ratios = serde_json::Map::new();
    if let Some(isthmus) = rows.first() {
        for row in rows.iter().skip(1) {
            let ratio = isthmus.rate() / row.rate().max(1e-9);
            out.line(format_args!(
                "  isthmus / {}: {ratio:.2}× the throughput",
                row.name
            ))?;
            ratios.insert(format!("isthmus_over_{}", row.name), json!(ratio));
        }
    }
    if let Some((_, row)) = &half {
        out.line(format_args!(
            "  isthmus p99 at half its peak load: {:.1} ms (target: at most {HALF_LOAD_P99_TARGET_MS} ms)",
            quantile_ms(&row.latencies, 0.99)
        ))?;
    }
    for failure in &failures {
        out.line(format_args!("CHECK FAILED: {failure}"))?;
    }
    if options.json {
        out.line(json!({
            "bench": "dvp",
            "settlements": options.settlements,
            "concurrency": options.concurrency,
            "machine": machine,
            "results": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "half_load": half.as_ref().map(|(rate, row)| {
                let mut value = row.to_json();
                value["offered_per_second"] = json!(rate);
                value
            }),
            "ratios": ratios,
            "failures": failures,
        }))?;
    }
    out.finish()?;
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
