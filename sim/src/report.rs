//! What a run found: counts, and every invariant it saw broken.

use std::fmt;

/// An invariant of the simulator (ISSUE 11 step 5, ISM-1 §12.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invariant {
    /// Both legs claimed or both refunded, never one of each (§12.10 item 2).
    Atomicity,
    /// Every asset's total on every ledger is what was issued.
    Conservation,
    /// Nothing credited to anyone but the agreed beneficiary; locks only from the instructed account.
    Beneficiary,
    /// No claim before both legs are locked.
    ClaimBeforeLocks,
    /// No message handled twice by one node (ISM-1 §8.4 duty 6).
    ExactlyOnce,
    /// Once faults stop, every settlement ends within the bound of §12.10 item 3.
    Liveness,
}

impl Invariant {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::Atomicity => "atomicity",
            Invariant::Conservation => "conservation",
            Invariant::Beneficiary => "beneficiary",
            Invariant::ClaimBeforeLocks => "claim-before-locks",
            Invariant::ExactlyOnce => "exactly-once",
            Invariant::Liveness => "liveness",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which.
    pub invariant: Invariant,
    /// The run's seed, to replay it.
    pub seed: u64,
    /// The run's trade count, to replay it.
    pub run_trades: usize,
    /// The trade it concerns, if one.
    pub trade: Option<usize>,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} broken (run seed {}", self.invariant, self.seed)?;
        if let Some(trade) = self.trade {
            write!(f, ", trade {trade}")?;
        }
        write!(f, "): {}", self.detail)
    }
}

/// Counts of one run or of many added up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Runs (independent networks).
    pub runs: u64,
    /// Trades submitted.
    pub trades: u64,
    /// Settlements the relays created.
    pub settlements: u64,
    /// Of which settled.
    pub settled: u64,
    /// Of which aborted.
    pub aborted: u64,
    /// Instructions cancelled without a settlement (no counterpart matched).
    pub cancelled_unmatched: u64,
    /// Messages sent.
    pub messages: u64,
    /// Messages lost by the network.
    pub lost: u64,
    /// Messages duplicated by the network.
    pub duplicated: u64,
    /// Node crashes.
    pub crashes: u64,
    /// Ledger commands run.
    pub ledger_commands: u64,
    /// Simulated time, summed over runs, milliseconds.
    pub simulated_ms: u64,
    /// Every violation seen.
    pub violations: Vec<Violation>,
}

impl Report {
    /// Adds another run's counts.
    pub fn add(&mut self, other: Report) {
        self.runs += other.runs;
        self.trades += other.trades;
        self.settlements += other.settlements;
        self.settled += other.settled;
        self.aborted += other.aborted;
        self.cancelled_unmatched += other.cancelled_unmatched;
        self.messages += other.messages;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.crashes += other.crashes;
        self.ledger_commands += other.ledger_commands;
        self.simulated_ms += other.simulated_ms;
        self.violations.extend(other.violations);
    }

    /// Faults injected: losses, duplicates and crashes.
    pub fn faults(&self) -> u64 {
        self.lost + self.duplicated + self.crashes
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "runs": self.runs,
            "trades": self.trades,
            "settlements": self.settlements,
            "settled": self.settled,
            "aborted": self.aborted,
            "cancelled_unmatched": self.cancelled_unmatched,
            "messages": self.messages,
            "faults": {
                "lost": self.lost,
                "duplicated": self.duplicated,
                "crashes": self.crashes,
            },
            "ledger_commands": self.ledger_commands,
            "simulated_ms": self.simulated_ms,
            "violations": self.violations.iter().map(|v| serde_json::json!({
                "invariant": v.invariant.name(),
                "seed": v.seed,
                "run_trades": v.run_trades,
                "trade": v.trade,
                "detail": v.detail,
            })).collect::<Vec<_>>(),
        })
    }
}
