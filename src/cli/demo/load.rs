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

/// Settles `n` trades and reports; the failed checks, if any.
pub async fn run(out: &mut Out, network: &Network, n: usize) -> anyhow::Result<Vec<String>> {
    let (before, _) = super::holdings(network).await?;
    let [alice, bob, carol, dave] = world::people();
    let mut trades = Vec::new();
    for k in 0..n {
        let (seller, buyer) = if k % 2 == 0 {
            (&alice, &bob)
        } else {
            (&carol, &dave)
        };
        trades.push(script::build(
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
        )?);
    }
    let trades: Vec<Arc<DemoTrade>> = trades.into_iter().map(Arc::new).collect();
    let bar = indicatif::ProgressBar::new(n as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} settled, {per_sec}, {elapsed}",
        )
        .map_err(|e| anyhow!("{e}"))?,
    );
    let started = Instant::now();
    let mut latencies_us = Vec::new();
    let mut failures = Vec::new();
    let mut pending = tokio::task::JoinSet::new();
    let network = Arc::new(network);
    let mut next = 0;
    // Scoped by the JoinSet: every task ends before `run` returns.
    let gateways: Vec<_> = network
        .gateways
        .iter()
        .map(|g| (g.market.clone(), g.handle(), g.api))
        .collect();
    let gateways = Arc::new(gateways);
    while next < trades.len() || !pending.is_empty() {
        while next < trades.len() && pending.len() < CONCURRENCY {
            let trade = trades[next].clone();
            let gateways = gateways.clone();
            pending.spawn(async move { settle_one(&gateways, &trade).await });
            next += 1;
        }
        match pending.join_next().await {
            Some(Ok(Ok(latency))) => {
                latencies_us.push(latency);
                bar.inc(1);
            }
            Some(Ok(Err(failure))) => failures.push(failure.to_string()),
            Some(Err(panic)) => failures.push(format!("a trade's task failed: {panic}")),
            None => break,
        }
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    // Microseconds, shown as milliseconds.
    let ms = |micros: u64| micros as f64 / 1000.0;
    let percentile = |p: usize| -> f64 {
        if latencies_us.is_empty() {
            return 0.0;
        }
        let at = (latencies_us.len() * p).div_ceil(100).saturating_sub(1);
        ms(latencies_us[at.min(latencies_us.len() - 1)])
    };
    out.line(format_args!(
        "{} trades settled in {:.2} s: {:.1} settlements/s, latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (concurrency {CONCURRENCY})",
        latencies_us.len(),
        elapsed.as_secs_f64(),
        latencies_us.len() as f64 / elapsed.as_secs_f64(),
        percentile(50),
        percentile(90),
        percentile(99),
        latencies_us.last().copied().map_or(0.0, ms),
    ))?;
    let (after, locked) = super::holdings(&network).await?;
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
    Ok(failures)
}

type Gateways = Vec<(
    world::Market,
    isthmus_node::GatewayHandle,
    std::net::SocketAddr,
)>;

/// Sends one trade's two instructions and waits for both confirmations;
/// the microseconds it took.
async fn settle_one(gateways: &Gateways, trade: &DemoTrade) -> anyhow::Result<u64> {
    let started = Instant::now();
    for (person, market, instruction) in trade.instructions() {
        let api = gateways
            .iter()
            .find(|(m, _, _)| m.mic == market.mic)
            .map(|(_, _, api)| *api)
            .ok_or_else(|| anyhow!("no gateway for {}", market.mic))?;
        super::post_instruction_to(api, &person, &market, instruction).await?;
    }
    let deadline = started + Duration::from_secs(60);
    for (_, market, instruction) in trade.instructions() {
        let handle = gateways
            .iter()
            .find(|(m, _, _)| m.mic == market.mic)
            .map(|(_, h, _)| h.clone())
            .ok_or_else(|| anyhow!("no gateway for {}", market.mic))?;
        loop {
            let view = handle
                .instruction(&instruction.instruction_id)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            if let Some(view) = view.filter(|v| v.final_word) {
                if !view
                    .notices
                    .iter()
                    .any(|b| matches!(b, Body::SettlementConfirmation(_)))
                {
                    return Err(anyhow!("{} ended without settling", trade.label));
                }
                break;
            }
            if Instant::now() > deadline {
                return Err(anyhow!("{} did not settle within 60 s", trade.label));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    Ok(started.elapsed().as_micros() as u64)
}
