//! `isthmus demo --trades N`: N trades against payment, in both directions
//! at once, with a progress bar; throughput and latency from the first
//! instruction sent to the second confirmation received.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use isthmus_spec::body::Body;

use super::script::{self, DemoTrade, Expect, Terms};
use super::world::{self, Network};
use crate::cli::output::Out;

/// Trades in flight at once.
const CONCURRENCY: usize = 32;

/// What a load run measured.
pub struct LoadFigures {
    /// Trades confirmed on both sides.
    pub settled: usize,
    /// From the first instruction sent to the last confirmation.
    pub elapsed: Duration,
    /// Each settled trade's time from its first instruction to its second confirmation, sorted.
    pub latencies: Vec<Duration>,
    /// The checks that failed (trades that did not settle, holdings, conservation, locks).
    pub failures: Vec<String>,
}

/// `n` trades of one share against 10.00, alternately XETR→XASX and XASX→XETR.
pub fn trades(n: usize) -> anyhow::Result<Vec<DemoTrade>> {
    let [alice, bob, carol, dave] = world::people();
    (0..n)
        .map(|k| {
            let (seller, buyer) = if k % 2 == 0 {
                (&alice, &bob)
            } else {
                (&carol, &dave)
            };
            script::build(
                Terms {
                    label: format!("L{k}"),
                    seller: seller.clone(),
                    buyer: buyer.clone(),
                    shares: 1,
                    buyer_shares: 1,
                    amount: Some("10.00"),
                    buyer_instructs: true,
                },
                "load",
                Expect::Settles,
            )
        })
        .collect()
}

/// How trades are started: at most `concurrency` in flight, and, with a
/// `rate`, one every 1/rate seconds (an open loop, as a market's order flow
/// arrives) instead of each as soon as another ends.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Most trades in flight at once.
    pub concurrency: usize,
    /// Trades started per second, if paced.
    pub rate: Option<f64>,
}

impl Pace {
    /// A closed loop: `concurrency` in flight, a new one as each ends.
    pub fn closed(concurrency: usize) -> Pace {
        Pace {
            concurrency,
            rate: None,
        }
    }

    /// When trade `index` is due, counted from `started`; now if unpaced.
    fn due(&self, started: Instant, index: usize) -> Option<Instant> {
        let rate = self.rate.filter(|r| *r > 0.0)?;
        Some(started + Duration::from_secs_f64(index as f64 / rate))
    }
}

/// Settles `trades` through the participant APIs at `pace` (a progress bar
/// if `progress`), and checks the holdings after.
pub async fn settle(
    network: &Network,
    trades: Vec<DemoTrade>,
    pace: Pace,
    progress: bool,
) -> anyhow::Result<LoadFigures> {
    let (before, _) = super::holdings(network).await?;
    let trades: Vec<Arc<DemoTrade>> = trades.into_iter().map(Arc::new).collect();
    let bar = if progress {
        indicatif::ProgressBar::new(trades.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} settled, {per_sec}, {elapsed}",
        )
        .map_err(|e| anyhow!("{e}"))?,
    );
    let gateways: Arc<Gateways> = Arc::new(
        network
            .gateways
            .iter()
            .map(|g| (g.market.clone(), g.handle(), g.api))
            .collect(),
    );
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    let mut pending = tokio::task::JoinSet::new();
    let mut next = 0;
    let cap = pace.concurrency.max(1);
    while next < trades.len() || !pending.is_empty() {
        while next < trades.len() && pending.len() < cap {
            if pace
                .due(started, next)
                .is_some_and(|due| Instant::now() < due)
            {
                break;
            }
            let trade = trades[next].clone();
            let gateways = gateways.clone();
            pending.spawn(async move { settle_one(&gateways, &trade).await });
            next += 1;
        }
        // Paced, the next start may come before the next end.
        let next_due = pace
            .due(started, next)
            .filter(|_| next < trades.len() && pending.len() < cap);
        let joined = match next_due {
            Some(due) if pending.is_empty() => {
                tokio::time::sleep_until(due.into()).await;
                continue;
            }
            Some(due) => tokio::select! {
                joined = pending.join_next() => joined,
                _ = tokio::time::sleep_until(due.into()) => continue,
            },
            None => pending.join_next().await,
        };
        match joined {
            Some(Ok(Ok(latency))) => {
                latencies.push(latency);
                bar.inc(1);
            }
            Some(Ok(Err(failure))) => failures.push(failure.to_string()),
            Some(Err(panic)) => failures.push(format!("a trade's task failed: {panic}")),
            None => break,
        }
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    latencies.sort_unstable();
    let (after, locked) = super::holdings(network).await?;
    let all: Vec<&DemoTrade> = trades.iter().map(|t| t.as_ref()).collect();
    let expected = script::expected_after(&all, &before)?;
    if after != expected {
        failures.push("the holdings are not where the settled trades put them".to_string());
    }
    if super::totals(&before) != super::totals(&after) {
        failures.push("an asset was not conserved".to_string());
    }
    if locked != 0 {
        failures.push(format!("{locked} units are still locked at the end"));
    }
    Ok(LoadFigures {
        settled: latencies.len(),
        elapsed,
        latencies,
        failures,
    })
}

/// Settles `n` trades and reports; the failed checks, if any.
pub async fn run(out: &mut Out, network: &Network, n: usize) -> anyhow::Result<Vec<String>> {
    let figures = settle(network, trades(n)?, Pace::closed(CONCURRENCY), true).await?;
    let ms = |q: f64| crate::cli::bench::quantile_ms(&figures.latencies, q);
    out.line(format_args!(
        "{} trades settled in {:.2} s: {:.1} settlements/s, latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (concurrency {CONCURRENCY})",
        figures.settled,
        figures.elapsed.as_secs_f64(),
        figures.settled as f64 / figures.elapsed.as_secs_f64(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(1.0),
    ))?;
    Ok(figures.failures)
}

type Gateways = Vec<(
    world::Market,
    isthmus_node::GatewayHandle,
    std::net::SocketAddr,
)>;

/// Sends one trade's two instructions and waits for both confirmations;
/// how long it took.
async fn settle_one(gateways: &Gateways, trade: &DemoTrade) -> anyhow::Result<Duration> {
    let started = Instant::now();
    // The seller and the buyer instruct on their own markets, each without
    // waiting for the other.
    let mut posts = Vec::new();
    for (person, market, instruction) in trade.instructions() {
        let api = gateways
            .iter()
            .find(|(m, _, _)| m.mic == market.mic)
            .map(|(_, _, api)| *api)
            .ok_or_else(|| anyhow!("no gateway for {}", market.mic))?;
        let instruction = instruction.clone();
        posts.push(tokio::spawn(async move {
            super::post_instruction_to(api, &person, &market, &instruction).await
        }));
    }
    for post in posts {
        post.await
            .map_err(|e| anyhow!("an instruction's task failed: {e}"))??;
    }
    let deadline = started + Duration::from_secs(60);
    for (_, market, instruction) in trade.instructions() {
        let handle = gateways
            .iter()
            .find(|(m, _, _)| m.mic == market.mic)
            .map(|(_, h, _)| h.clone())
            .ok_or_else(|| anyhow!("no gateway for {}", market.mic))?;
        let wait = deadline.saturating_duration_since(Instant::now());
        let view = tokio::time::timeout(wait, handle.final_word(&instruction.instruction_id))
            .await
            .map_err(|_| anyhow!("{} did not settle within 60 s", trade.label))?
            .map_err(|e| anyhow!("{e}"))?
            .ok_or_else(|| anyhow!("{} is unknown to its gateway", trade.label))?;
        if !view
            .notices
            .iter()
            .any(|b| matches!(b, Body::SettlementConfirmation(_)))
        {
            return Err(anyhow!("{} ended without settling", trade.label));
        }
    }
    Ok(started.elapsed())
}
