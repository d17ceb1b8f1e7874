//! The baselines of `bench dvp`: the same DvP workload on PostgreSQL (one
//! serializable transaction per trade on one database, and two databases,
//! one per market, made atomic by two-phase commit).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use tokio_postgres::{Client, NoTls};

use crate::cli::demo::{world, DemoTrade};

/// Where the throwaway cluster listens.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// 127.0.0.1 port.
    pub port: u16,
}

/// One leg of a trade in a ledger's units: `(market, from, to, asset, units)`.
type Move = (String, String, String, String, i64);

/// A trade as two moves: the securities' and, against payment, the cash's.
pub fn moves(trade: &DemoTrade) -> anyhow::Result<Vec<Move>> {
    let units = |asset: &str, decimal: &str| -> anyhow::Result<i64> {
        bigint(crate::cli::demo::minor_units(asset, decimal)?)
    };
    let mut all = vec![(
        trade.securities.mic.to_string(),
        trade.seller.safe(),
        trade.buyer.safe(),
        trade.securities.isin.to_string(),
        units(trade.securities.isin, &trade.shares.to_string())?,
    )];
    if let Some(amount) = &trade.amount {
        let currency = trade.cash.currency;
        all.push((
            trade.cash.mic.to_string(),
            trade.buyer.cash(currency),
            trade.seller.cash(currency),
            currency.to_string(),
            units(currency, amount.amount.as_str())?,
        ));
    }
    Ok(all)
}

fn bigint(units: u128) -> anyhow::Result<i64> {
    i64::try_from(units).map_err(|_| anyhow!("{units} units do not fit a bigint"))
}

async fn connect(cluster: &Cluster, database: &str) -> anyhow::Result<Client> {
    let config = format!(
        "host=127.0.0.1 port={} user=postgres dbname={database}",
        cluster.port
    );
    let (client, connection) =
        tokio_postgres::connect(&config, NoTls)
            .await
            .with_context(|| {
                format!(
                    "connecting to PostgreSQL database {database} on 127.0.0.1:{}",
                    cluster.port
                )
            })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Connects, starting the throwaway cluster with `deploy/postgres.sh` if
/// nothing answers.
pub async fn ensure_running(cluster: &Cluster, script: &std::path::Path) -> anyhow::Result<()> {
    if connect(cluster, "postgres").await.is_ok() {
        return Ok(());
    }
    let status = std::process::Command::new(script)
        .args(["start", "/tmp/isthmus-pg", &cluster.port.to_string()])
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        return Err(anyhow!("{} could not start PostgreSQL", script.display()));
    }
    connect(cluster, "postgres").await.map(drop)
}

/// Makes (again) the databases with every account funded as the demo's ledgers are.
pub async fn prepare(cluster: &Cluster, databases: &[(&str, Option<&str>)]) -> anyhow::Result<()> {
    let admin = connect(cluster, "postgres").await?;
    for (database, market) in databases {
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            .await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await?;
        let db = connect(cluster, database).await?;
        db.batch_execute(
            "CREATE TABLE accounts (market text, account text, asset text,
                 units bigint NOT NULL CHECK (units >= 0),
                 PRIMARY KEY (market, account, asset));
             CREATE TABLE decisions (gid text PRIMARY KEY);",
        )
        .await?;
        for m in [world::XETR, world::XASX] {
            if market.is_some_and(|only| only != m.mic) {
                continue;
            }
            for (account, asset, amount) in world::accounts(&m) {
                let units = if amount.is_empty() {
                    0
                } else {
                    bigint(crate::cli::demo::minor_units(asset, amount)?)?
                };
                db.execute(
                    "INSERT INTO accounts VALUES ($1, $2, $3, $4)",
                    &[&m.mic, &account, &asset, &units],
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Units per (market, asset) in all, for the conservation check.
pub async fn totals(
    cluster: &Cluster,
    databases: &[&str],
) -> anyhow::Result<Vec<(String, String, i64)>> {
    let mut all = Vec::new();
    for database in databases {
        let db = connect(cluster, database).await?;
        for row in db
            .query(
                "SELECT market, asset, sum(units)::bigint FROM accounts GROUP BY market, asset ORDER BY 1, 2",
                &[],
            )
            .await?
        {
            all.push((row.get(0), row.get(1), row.get(2)));
        }
    }
    all.sort();
    Ok(all)
}

const DEBIT: &str =
    "UPDATE accounts SET units = units - $4 WHERE market = $1 AND account = $2 AND asset = $3 AND units >= $4";
const CREDIT: &str =
    "UPDATE accounts SET units = units + $4 WHERE market = $1 AND account = $2 AND asset = $3";

/// Whether an error is a serialization failure or deadlock, which a client retries.
fn retryable(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        *code == tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
            || *code == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// Moves one leg; false (nothing moved) when the payer lacks it, and the
/// caller then rolls the whole trade back.
async fn apply(
    db: &impl tokio_postgres::GenericClient,
    one: &Move,
) -> Result<bool, tokio_postgres::Error> {
    let (market, from, to, asset, units) = one;
    if db.execute(DEBIT, &[market, from, asset, units]).await? != 1 {
        return Ok(false);
    }
    db.execute(CREDIT, &[market, to, asset, units]).await?;
    Ok(true)
}

/// What a baseline measured.
pub struct Figures {
    /// Trades committed.
    pub settled: usize,
    /// The whole run.
    pub elapsed: Duration,
    /// Each trade's commit latency, sorted.
    pub latencies: Vec<Duration>,
    /// Transactions retried after a serialization failure or deadlock.
    pub retries: usize,
}

/// Runs `work` for every trade, `concurrency` at a time, each worker with
/// its own connections.
async fn drive<F, Fut>(
    trades: Arc<Vec<Vec<Move>>>,
    concurrency: usize,
    worker: F,
) -> anyhow::Result<Figures>
where
    F: Fn(Arc<Vec<Vec<Move>>>, Arc<AtomicUsize>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(Vec<Duration>, usize)>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        workers.spawn(worker(trades.clone(), next.clone()));
    }
    let mut latencies = Vec::new();
    let mut retries = 0;
    while let Some(done) = workers.join_next().await {
        let (mine, retried) = done.map_err(|e| anyhow!("a worker failed: {e}"))??;
        latencies.extend(mine);
        retries += retried;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Figures {
        settled: latencies.len(),
        elapsed,
        latencies,
        retries,
    })
}

/// One serializable transaction per trade on one database: both legs,
/// debit and credit, committed together (`synchronous_commit = on`).
pub async fn single(
    cluster: &Cluster,
    trades: Arc<Vec<Vec<Move>>>,
    concurrency: usize,
) -> anyhow::Result<Figures> {
    let cluster = cluster.clone();
    drive(trades, concurrency, move |trades, next| {
        let cluster = cluster.clone();
        async move {
            let mut db = connect(&cluster, "isthmus_dvp").await?;
            let mut latencies = Vec::new();
            let mut retries = 0;
            loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(trade) = trades.get(k) else { break };
                let started = Instant::now();
                loop {
                    let attempt = async {
                        let tx = db
                            .build_transaction()
                            .isolation_level(tokio_postgres::IsolationLevel::Serializable)
                            .start()
                            .await?;
                        for one in trade {
                            if !apply(&tx, one).await? {
                                tx.rollback().await?;
                                return Ok(false);
                            }
                        }
                        tx.commit().await.map(|()| true)
                    }
                    .await;
                    match attempt {
                        Ok(true) => break,
                        Ok(false) => return Err(anyhow!("a DvP found a payer without the units")),
                        Err(e) if retryable(&e) => retries += 1,
                        Err(e) => return Err(anyhow!("a DvP transaction failed: {e}")),
                    }
                }
                latencies.push(started.elapsed());
            }
            Ok((latencies, retries))
        }
    })
    .await
}

/// Two databases, one per market; each trade's legs in a transaction on
/// each, made atomic by a coordinator: PREPARE TRANSACTION on both, the
/// decision recorded durably, COMMIT PREPARED on both.
pub async fn two_phase(
    cluster: &Cluster,
    trades: Arc<Vec<Vec<Move>>>,
    concurrency: usize,
) -> anyhow::Result<Figures> {
    let cluster = cluster.clone();
    let worker_ids = Arc::new(AtomicUsize::new(0));
    drive(trades, concurrency, move |trades, next| {
        let cluster = cluster.clone();
        let worker = worker_ids.fetch_add(1, Ordering::SeqCst);
        async move {
            let xetr = connect(&cluster, "isthmus_xetr").await?;
            let xasx = connect(&cluster, "isthmus_xasx").await?;
            let coordinator = connect(&cluster, "isthmus_coordinator").await?;
            let mut latencies = Vec::new();
            let mut retries = 0;
            let mut attempt_no = 0u64;
            loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(trade) = trades.get(k) else { break };
                let started = Instant::now();
                loop {
                    attempt_no += 1;
                    let gid = format!("dvp-{worker}-{k}-{attempt_no}");
                    let result: Result<bool, tokio_postgres::Error> = async {
                        // Phase 1 on each ledger: its leg, then PREPARE.
                        for (db, mic) in [(&xetr, "XETR"), (&xasx, "XASX")] {
                            db.batch_execute("BEGIN").await?;
                            for one in trade.iter().filter(|m| m.0 == mic) {
                                if !apply(db, one).await? {
                                    return Ok(false);
                                }
                            }
                            db.batch_execute(&format!("PREPARE TRANSACTION '{gid}-{mic}'"))
                                .await?;
                        }
                        // The decision, durable before it is acted on.
                        coordinator
                            .execute("INSERT INTO decisions VALUES ($1)", &[&gid])
                            .await?;
                        xetr.batch_execute(&format!("COMMIT PREPARED '{gid}-XETR'"))
                            .await?;
                        xasx.batch_execute(&format!("COMMIT PREPARED '{gid}-XASX'"))
                            .await?;
                        Ok(true)
                    }
                    .await;
                    let undo = || async {
                        for (db, mic) in [(&xetr, "XETR"), (&xasx, "XASX")] {
                            let _ = db.batch_execute("ROLLBACK").await;
                            let _ = db
                                .batch_execute(&format!("ROLLBACK PREPARED '{gid}-{mic}'"))
                                .await;
                        }
                    };
                    match result {
                        Ok(true) => break,
                        Ok(false) => {
                            undo().await;
                            return Err(anyhow!("a DvP found a payer without the units"));
                        }
                        Err(e) if retryable(&e) => {
                            retries += 1;
                            undo().await;
                        }
                        Err(e) => {
                            undo().await;
                            return Err(anyhow!("a two-phase DvP failed: {e}"));
                        }
                    }
                }
                latencies.push(started.elapsed());
            }
            Ok((latencies, retries))
        }
    })
    .await
}
