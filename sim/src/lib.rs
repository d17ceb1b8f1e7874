//! `isthmus-sim`: the deterministic settlement simulator (issue 11, ISM-1 §12).
//!
//! Many settlements go through the real relay and gateway engines on
//! in-memory ledgers, over a simulated network that delays, loses,
//! duplicates and reorders messages, with nodes that crash at any step and
//! restart from what they persisted, and clocks that disagree within the
//! configured bound. Everything comes from one seed: a run that breaks an
//! invariant is replayed exactly from its seed.
//!
//! A large simulation is many independent runs (each its own network with a
//! seed derived from the simulation's), spread over the machine's cores.

mod canonical;
pub mod exhaustive;
pub mod report;
pub mod rng;
pub mod workload;
pub mod world;

pub use report::{Invariant, Report, Violation};
#[cfg(feature = "broken-variants")]
pub use world::Broken;
pub use world::{default_timing, Faults, RunConfig, World};

/// Trades per run by default: a run is one network's life.
pub const DEFAULT_TRADES_PER_RUN: usize = 200;

/// The seed of run `index` of a simulation seeded `seed`.
pub fn run_seed(seed: u64, index: u64) -> u64 {
    let mut rng = rng::SimRng::new(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.next_u64()
}

/// Runs one network to its end.
pub fn run_one(config: RunConfig) -> Report {
    match World::new(config.clone()) {
        Ok(world) => world.run(),
        Err(error) => Report {
            runs: 1,
            violations: vec![Violation {
                invariant: Invariant::Conservation,
                seed: config.seed,
                run_trades: config.trades,
                trade: None,
                detail: format!("the run could not be set up: {error}"),
            }],
            ..Report::default()
        },
    }
}

/// Runs `trades` trades as runs of `per_run`, on `threads` threads, and adds
/// up their reports. `progress` is called after each run with the runs done.
pub fn simulate(
    seed: u64,
    trades: u64,
    per_run: usize,
    faults: Faults,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Report {
    world::simulate_with(
        seed,
        trades,
        per_run,
        threads,
        progress,
        &|run_seed, count| RunConfig::new(run_seed, count, faults),
    )
}

/// Replays the run `config` describes with tracing on and returns the trace
/// of the trade `violation` names (its instructions, and the settlements
/// they matched into), or the whole trace if it names no trade.
pub fn explain(config: RunConfig, violation: &Violation) -> Vec<String> {
    let world = match World::new(config) {
        Ok(world) => world,
        Err(error) => return vec![error],
    };
    let (_, lines) = world.run_traced("");
    let Some(trade) = violation.trade else {
        return lines;
    };
    let instructions = [
        format!("D{}-{trade}]", violation.seed),
        format!("R{}-{trade}]", violation.seed),
        format!("D{}-{trade} ", violation.seed),
        format!("R{}-{trade} ", violation.seed),
    ];
    let mut settlements: Vec<String> = Vec::new();
    for line in lines
        .iter()
        .filter(|line| instructions.iter().any(|i| line.contains(i.as_str())))
    {
        for word in line.split([' ', '[', ']']) {
            if word.starts_with("STL") && !settlements.iter().any(|s| s == word) {
                settlements.push(word.to_string());
            }
        }
    }
    lines
        .into_iter()
        .filter(|line| {
            instructions.iter().any(|i| line.contains(i.as_str()))
                || settlements.iter().any(|s| {
                    line.contains(&format!("{s} "))
                        || line.contains(&format!("{s}]"))
                        || line.ends_with(s.as_str())
                })
                || line.ends_with("crashes")
                || line.ends_with("restarts from its store")
                || line.ends_with("(relay outage)")
        })
        .collect()
}
