//! What a run found: counts, and every invariant it saw broken.

use std::collections::BTreeMap;
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
    /// The aborted ones by the reason code their relay recorded
    /// (`INSUFFICIENT_SECURITIES`, `LOCK_DEADLINE_PASSED`, `REVEAL_TOO_LATE`,
    /// `CLAIM_WINDOW_MISSED`…).
    pub aborted_by_reason: BTreeMap<String, u64>,
    /// Settled settlements with a leg claimed by a gateway that no
    /// ClaimRequest of the relay had reached: p came from the other
    /// gateway's ClaimReceipt (ISM-1 §12.7). Includes a hand-over that only
    /// outran the relay's ClaimRequest.
    pub handed_over: u64,
    /// Of which the relay was out (dead or frozen) when that leg was claimed.
    pub handed_over_relay_out: u64,
    /// Instructions cancelled without a settlement (no counterpart matched).
    pub cancelled_unmatched: u64,
    /// Messages sent.
    pub messages: u64,
    /// Messages lost by the network.
    pub lost: u64,
    /// Messages duplicated by the network.
    pub duplicated: u64,
    /// Node crashes (short ones; not the relays' long outages).
    pub crashes: u64,
    /// Long relay outages (see `RelayOutages`).
    pub relay_outages: u64,
    /// Of which the relay froze (the others: it died).
    pub relay_freezes: u64,
    /// Of which the relay died just after persisting a reveal.
    pub relay_outages_after_reveal: u64,
    /// Of which the relay died just after a settlement's first claim.
    pub relay_outages_after_claim: u64,
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
        for (code, count) in other.aborted_by_reason {
            *self.aborted_by_reason.entry(code).or_default() += count;
        }
        self.handed_over += other.handed_over;
        self.handed_over_relay_out += other.handed_over_relay_out;
        self.cancelled_unmatched += other.cancelled_unmatched;
        self.messages += other.messages;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.crashes += other.crashes;
        self.relay_outages += other.relay_outages;
        self.relay_freezes += other.relay_freezes;
        self.relay_outages_after_reveal += other.relay_outages_after_reveal;
        self.relay_outages_after_claim += other.relay_outages_after_claim;
        self.ledger_commands += other.ledger_commands;
        self.simulated_ms += other.simulated_ms;
        self.violations.extend(other.violations);
    }

    /// Faults injected: losses, duplicates, crashes and long relay outages.
    pub fn faults(&self) -> u64 {
        self.lost + self.duplicated + self.crashes + self.relay_outages
    }

    /// Aborts for one reason code.
    pub fn aborted_for(&self, code: &str) -> u64 {
        self.aborted_by_reason.get(code).copied().unwrap_or(0)
    }

    /// The aborts by reason as `CODE n, CODE n`, most first, or `none`.
    pub fn aborted_by_reason_text(&self) -> String {
        let mut reasons: Vec<(&String, &u64)> = self.aborted_by_reason.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if reasons.is_empty() {
            return "none".to_string();
        }
        reasons
            .iter()
            .map(|(code, count)| format!("{code} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "runs": self.runs,
            "trades": self.trades,
            "settlements": self.settlements,
            "settled": self.settled,
            "aborted": self.aborted,
            "aborted_by_reason": self.aborted_by_reason,
            "handed_over": self.handed_over,
            "handed_over_relay_out": self.handed_over_relay_out,
            "cancelled_unmatched": self.cancelled_unmatched,
            "messages": self.messages,
            "faults": {
                "lost": self.lost,
                "duplicated": self.duplicated,
                "crashes": self.crashes,
                "relay_outages": self.relay_outages,
                "relay_freezes": self.relay_freezes,
                "relay_outages_after_reveal": self.relay_outages_after_reveal,
                "relay_outages_after_claim": self.relay_outages_after_claim,
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
