//! `isthmus simulate`: the deterministic settlement simulator (issue 11).

use std::process::ExitCode;
use std::time::Instant;

use isthmus_sim::world::{simulate_with, SeedFaults};
use isthmus_sim::{explain, run_one, Faults, RunConfig, DEFAULT_TRADES_PER_RUN};
use serde_json::json;

use super::output::{stderr_line, Out};
use super::EXIT_REJECTED;

/// Which faults `--faults` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultsArg {
    /// A perfect network, no crashes.
    None,
    /// Delay, loss, duplication and reordering.
    Network,
    /// Nodes crash at any step and restart from their stores; relays also
    /// have long outages (dead or frozen from the lock window to past the
    /// last expiry, dead from a reveal write, or dead from a first claim to
    /// past the second expiry).
    Crash,
    /// Both.
    All,
    /// Each run draws its faults from its own seed's low 16 bits: network
    /// faults, crashes, relay outages, one relay or two, loss and
    /// duplication 0–15 % (what the property test draws); replayed from
    /// the run seed alone.
    Random,
}

impl FaultsArg {
    /// The run `seed` of `trades` trades under these faults.
    fn config(self, seed: u64, trades: usize) -> RunConfig {
        let faults = Faults {
            network: matches!(self, FaultsArg::Network | FaultsArg::All),
            crash: matches!(self, FaultsArg::Crash | FaultsArg::All),
        };
        match self {
            FaultsArg::Random => RunConfig::from_seed(seed, trades),
            _ => RunConfig::new(seed, trades, faults),
        }
    }

    /// Its name on the command line.
    fn name(self) -> String {
        format!("{self:?}").to_lowercase()
    }
}

/// The command that replays run `seed` of `trades` trades under `faults`.
pub fn replay_command(seed: u64, trades: usize, faults: FaultsArg) -> String {
    format!(
        "isthmus simulate --replay {seed} --per-run {trades} --faults {}",
        faults.name()
    )
}

/// Options of `isthmus simulate`.
pub struct SimulateOptions {
    /// The simulation's seed.
    pub seed: u64,
    /// Trades to settle.
    pub settlements: u64,
    /// Trades per independent run.
    pub per_run: usize,
    /// The faults.
    pub faults: FaultsArg,
    /// Replay one run of this seed with its trace.
    pub replay: Option<u64>,
    /// Print a JSON object last.
    pub json: bool,
}

/// Most violations printed in full, with their traces.
const SHOWN_VIOLATIONS: usize = 3;

/// Runs the simulation and prints what it found; exit 1 if any invariant broke.
pub fn run(options: SimulateOptions) -> anyhow::Result<ExitCode> {
    let mut out = Out::new();
    let faults = options.faults;
    let started = Instant::now();
    let report = match options.replay {
        Some(run_seed) => {
            if faults == FaultsArg::Random {
                stderr_line(format!(
                    "simulate: run seed {run_seed} carries {:?}",
                    SeedFaults::of_seed(run_seed)
                ));
            }
            run_one(faults.config(run_seed, options.per_run))
        }
        None => {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let runs = options.settlements.div_ceil(options.per_run.max(1) as u64);
            let step = (runs / 10).max(1);
            let progress = move |done: u64| {
                if done % step == 0 || done == runs {
                    stderr_line(format!("simulate: {done} of {runs} runs"));
                }
            };
            simulate_with(
                options.seed,
                options.settlements,
                options.per_run,
                threads,
                &progress,
                &|run_seed, trades| faults.config(run_seed, trades),
            )
        }
    };
    let elapsed = started.elapsed();
    out.line(format!(
        "simulated {} trades in {} runs ({}, faults {}, {} per run) in {:.1} s",
        report.trades,
        report.runs,
        match options.replay {
            Some(run_seed) => format!("run seed {run_seed} replayed"),
            None => format!("seed {}", options.seed),
        },
        options.faults.name(),
        options.per_run,
        elapsed.as_secs_f64()
    ))?;
    out.line(format!(
        "settlements: {} ({} settled, {} aborted); instructions cancelled unmatched: {}",
        report.settlements, report.settled, report.aborted, report.cancelled_unmatched
    ))?;
    out.line(format!(
        "aborted by reason: {}",
        report.aborted_by_reason_text()
    ))?;
    out.line(format!(
        "secret handed over gateway to gateway (ISM-1 §12.7) in {} settled settlements, {} of them with the relay out",
        report.handed_over, report.handed_over_relay_out
    ))?;
    out.line(format!(
        "messages: {}; faults injected: {} ({} lost, {} duplicated, {} crashes, {} relay outages: {} frozen, {} dead of which {} after a reveal write and {} after a first claim); ledger commands: {}",
        report.messages,
        report.faults(),
        report.lost,
        report.duplicated,
        report.crashes,
        report.relay_outages,
        report.relay_freezes,
        report.relay_outages - report.relay_freezes,
        report.relay_outages_after_reveal,
        report.relay_outages_after_claim,
        report.ledger_commands
    ))?;
    out.line(format!("violations: {}", report.violations.len()))?;
    for violation in report.violations.iter().take(SHOWN_VIOLATIONS) {
        out.line(format!("  {violation}"))?;
        out.line(format!(
            "  replay: {}",
            replay_command(violation.seed, violation.run_trades, faults)
        ))?;
        let trace = explain(
            faults.config(violation.seed, violation.run_trades),
            violation,
        );
        for line in trace {
            out.line(format!("    {line}"))?;
        }
    }
    if options.json {
        let mut object = report.to_json();
        object["seed"] = json!(options.seed);
        object["faults_mode"] = json!(options.faults.name());
        object["per_run"] = json!(options.per_run);
        object["elapsed_ms"] = json!(elapsed.as_millis() as u64);
        out.line(object)?;
    }
    Ok(if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED)
    })
}

/// The fault budgets of `isthmus simulate --exhaustive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExhaustiveArg {
    /// One fault at a time: one loss, one duplicate, one reordering, one
    /// message held back, one crash (and none): what CI runs.
    Quick,
    /// Two faults together: a loss and a duplicate, a loss and a crash, a
    /// duplicate and a crash, crashes of two nodes.
    Pairs,
    /// Step 7 of issue 11: one loss, one duplicate and one crash of each
    /// node, all in one space, checked for atomicity and every invariant of
    /// a state (not liveness); far larger.
    Full,
}

/// Explores one settlement of each kind exhaustively and prints the size of
/// each space; exit 1 if any state breaks an invariant.
pub fn run_exhaustive(budget: ExhaustiveArg, json: bool) -> anyhow::Result<ExitCode> {
    use isthmus_sim::exhaustive::{check_with_progress, CheckConfig};
    use isthmus_sim::workload::TradeKind;
    let mut out = Out::new();
    let mut results = Vec::new();
    let mut broken = false;
    let kinds = [
        TradeKind::AgainstPayment,
        TradeKind::FreeOfPayment,
        TradeKind::Insufficient,
        TradeKind::Unmatched,
        TradeKind::OneSided,
    ];
    let configs: Vec<(String, CheckConfig)> = kinds
        .iter()
        .flat_map(|kind| match budget {
            ExhaustiveArg::Full => vec![(
                "a loss, a duplicate and a crash of each node, safety only",
                CheckConfig::step_seven(*kind),
            )],
            ExhaustiveArg::Quick => CheckConfig::one_fault_each(*kind),
            ExhaustiveArg::Pairs => CheckConfig::two_faults_each(*kind),
        })
        .map(|(what, config)| (format!("{:?}, {what}", config.kind), config))
        .collect();
    for (name, config) in configs {
        let started = Instant::now();
        let label = name.clone();
        let report = check_with_progress(config.clone(), &|states| {
            stderr_line(format!("simulate: {label}: {states} states"))
        })
        .map_err(anyhow::Error::msg)?;
        let elapsed = started.elapsed();
        out.line(format!(
            "{name}: {} states, {} transitions, {} end states {:?}, longest path {} actions, {}, {:.1} s",
            report.states,
            report.transitions,
            report.ends,
            report.outcomes,
            report.max_depth,
            if report.complete { "complete" } else { "INCOMPLETE (state limit)" },
            elapsed.as_secs_f64()
        ))?;
        if let Some(violation) = &report.violation {
            broken = true;
            out.line(format!(
                "  violation: {}: {}",
                violation.invariant, violation.detail
            ))?;
            for step in &violation.path {
                out.line(format!("    {step}"))?;
            }
        }
        broken |= !report.complete;
        results.push(json!({
            "check": name,
            "losses": config.losses,
            "duplicates": config.duplicates,
            "reorders": config.reorders,
            "delays": config.delays,
            "crashes_per_node": config.crashes_per_node,
            "crashes": config.crashes,
            "safety_only": config.safety_only,
            "states": report.states,
            "transitions": report.transitions,
            "end_states": report.ends,
            "outcomes": report.outcomes,
            "max_depth": report.max_depth,
            "complete": report.complete,
            "violation": report.violation.as_ref().map(|v| format!("{}: {}", v.invariant, v.detail)),
            "elapsed_ms": elapsed.as_millis() as u64,
        }));
    }
    if json {
        out.line(json!({ "exhaustive": format!("{budget:?}").to_lowercase(), "checks": results }))?;
    }
    Ok(if broken {
        ExitCode::from(EXIT_REJECTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The default number of trades per run.
pub const DEFAULT_PER_RUN: usize = DEFAULT_TRADES_PER_RUN;
