//! `isthmus simulate`: the deterministic settlement simulator (issue 11).

use std::process::ExitCode;
use std::time::Instant;

use isthmus_sim::{explain, run_one, simulate, Faults, RunConfig, DEFAULT_TRADES_PER_RUN};
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
    /// Nodes crash at any step and restart from their stores.
    Crash,
    /// Both.
    All,
}

impl FaultsArg {
    fn faults(self) -> Faults {
        Faults {
            network: matches!(self, FaultsArg::Network | FaultsArg::All),
            crash: matches!(self, FaultsArg::Crash | FaultsArg::All),
        }
    }
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
    let faults = options.faults.faults();
    let started = Instant::now();
    let report = match options.replay {
        Some(run_seed) => run_one(RunConfig::new(run_seed, options.per_run, faults)),
        None => {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let runs = options.settlements.div_ceil(options.per_run.max(1) as u64);
            let step = (runs / 10).max(1);
            let progress = move |done: u64| {
                if done % step == 0 || done == runs {
                    stderr_line(format!("simulate: {done} of {runs} runs"));
                }
            };
            simulate(
                options.seed,
                options.settlements,
                options.per_run,
                faults,
                threads,
                &progress,
            )
        }
    };
    let elapsed = started.elapsed();
    out.line(format!(
        "simulated {} trades in {} runs (seed {}, faults {:?}, {} per run) in {:.1} s",
        report.trades,
        report.runs,
        options.seed,
        options.faults,
        options.per_run,
        elapsed.as_secs_f64()
    ))?;
    out.line(format!(
        "settlements: {} ({} settled, {} aborted); instructions cancelled unmatched: {}",
        report.settlements, report.settled, report.aborted, report.cancelled_unmatched
    ))?;
    out.line(format!(
        "messages: {}; faults injected: {} ({} lost, {} duplicated, {} crashes); ledger commands: {}",
        report.messages,
        report.faults(),
        report.lost,
        report.duplicated,
        report.crashes,
        report.ledger_commands
    ))?;
    out.line(format!("violations: {}", report.violations.len()))?;
    for violation in report.violations.iter().take(SHOWN_VIOLATIONS) {
        out.line(format!("  {violation}"))?;
        out.line(format!(
            "  replay: isthmus simulate --replay {} --per-run {} --faults {}",
            violation.seed,
            violation.run_trades,
            format!("{:?}", options.faults).to_lowercase()
        ))?;
        let trace = explain(
            RunConfig::new(violation.seed, violation.run_trades, faults),
            violation,
        );
        for line in trace {
            out.line(format!("    {line}"))?;
        }
    }
    if options.json {
        let mut object = report.to_json();
        object["seed"] = json!(options.seed);
        object["faults_mode"] = json!(format!("{:?}", options.faults).to_lowercase());
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

/// The default number of trades per run.
pub const DEFAULT_PER_RUN: usize = DEFAULT_TRADES_PER_RUN;
