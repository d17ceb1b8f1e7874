//! `isthmus bench …`: performance figures, measured in-process on a real store.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use isthmus_ledger::journal::{JournalEntry, ENTRY_BYTES_HINT};
use isthmus_ledger::state::LedgerState;
use isthmus_ledger::{Ledger, Operation, Request, MAX_BATCH_OPERATIONS};
use isthmus_spec::ids::Hex32;
use isthmus_store::log::format::{encode_batch, holds_commit_tag, HEADER_BYTES, SEAL_BYTES};
use isthmus_store::log::{DiskLogFiles, LogFiles, DISK_SEGMENT_BYTES};
use isthmus_store::SystemClock;
use serde_json::json;

use super::output::{stderr_line, Out};

/// Options of `isthmus bench ledger`.
pub struct LedgerBench {
    /// Lock+claim pairs applied one durable operation at a time.
    pub single_pairs: u64,
    /// HTLC operations applied in durable batches.
    pub batched_ops: u64,
    /// Operations per batch.
    pub batch_size: u64,
    /// Where the ledger lives; a temporary directory if `None`.
    pub data: Option<PathBuf>,
    /// Print a JSON object last.
    pub json: bool,
}

/// The most lock+claim pairs `--single-pairs` takes: two fsyncs each, so ten
/// million pairs already run for hours.
pub const MAX_SINGLE_PAIRS: u64 = 10_000_000;

/// The most operations `--batched-ops` takes (about 2.5 minutes at 600k
/// operations a second, and a journal of some 20 GB).
pub const MAX_BATCHED_OPS: u64 = 100_000_000;

/// Exit status after Ctrl-C or SIGTERM, as shells report an interrupted command.
const EXIT_INTERRUPTED: i32 = 130;

const BENCH_ACCOUNTS: u64 = 1_000;

/// The batched phase is measured in this many rounds; the median round is reported.
const BATCHED_ROUNDS: u64 = 5;

/// The machine a figure was measured on.
pub(crate) fn machine() -> serde_json::Value {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|rest| rest.split(':').nth(1))
        })
        .map_or_else(|| "unknown CPU".to_string(), |s| s.trim().to_string());
    let memory_kib: u64 = fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:")
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "memory_gib": memory_kib / (1024 * 1024),
        "os": format!("{} {kernel}", std::env::consts::OS),
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}

/// Rates in order, whole numbers joined by commas, for a line of output.
fn joined_rates(rates: &[f64]) -> String {
    rates
        .iter()
        .map(|rate| format!("{rate:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sorts rates and gives their median (the upper one of an even count; 0 for none).
fn sorted_median(rates: &mut [f64]) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates.get(rates.len() / 2).copied().unwrap_or(0.0)
}

/// The `q`-quantile of sorted durations, in milliseconds.
pub(crate) fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest-rank quantile; a float is fine for a reported latency, never for money.
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

struct Accounts {
    state: u64,
}

impl Accounts {
    /// Two distinct bench accounts, chosen deterministically.
    fn pair(&mut self) -> (String, String) {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let from = self.state % BENCH_ACCOUNTS;
        let to = (from + 1 + (self.state >> 20) % (BENCH_ACCOUNTS - 1)) % BENCH_ACCOUNTS;
        (
            format!("DEUTDEFF/BENCH-{from}"),
            format!("DEUTDEFF/BENCH-{to}"),
        )
    }
}

/// The benchmark's load: lock+claim pairs between bench accounts, under one
/// hashlock, with fresh idempotency keys.
struct Load {
    accounts: Accounts,
    key: u64,
    secret: [u8; 32],
    hashlock: [u8; 32],
    expiry_ms: u64,
    batch_size: u64,
}

impl Load {
    fn next_key(&mut self) -> String {
        self.key += 1;
        format!("b-{}", self.key)
    }

    /// One batch whose first entry will be `first_seq`: its first half locks,
    /// its second half the claims of those locks.
    fn batch(&mut self, first_seq: u64) -> anyhow::Result<Vec<Request>> {
        let pairs = self.batch_size / 2;
        let mut requests = Vec::with_capacity(self.batch_size as usize);
        for _ in 0..pairs {
            let (from, to) = self.accounts.pair();
            requests.push(Request::new(
                self.next_key(),
                Operation::lock(&from, &to, "USD", "0.01", &self.hashlock, self.expiry_ms)?,
            ));
        }
        for index in 0..pairs {
            requests.push(Request::new(
                self.next_key(),
                Operation::claim(first_seq + index, &self.secret)?,
            ));
        }
        Ok(requests)
    }
}

fn check_all_applied(
    results: Vec<Result<isthmus_ledger::Receipt, isthmus_ledger::LedgerFailure>>,
) -> anyhow::Result<()> {
    for (index, result) in results.into_iter().enumerate() {
        if let Err(failure) = result {
            bail!("benchmark operation {index} of its batch did not apply: {failure}");
        }
    }
    Ok(())
}

/// `isthmus bench ledger`.
pub fn ledger(options: LedgerBench) -> anyhow::Result<ExitCode> {
    if options.batch_size < 2
        || options.batch_size % 2 != 0
        || options.batch_size as usize > MAX_BATCH_OPERATIONS
    {
        bail!("--batch-size must be even, between 2 and {MAX_BATCH_OPERATIONS}");
    }
    if options.single_pairs > MAX_SINGLE_PAIRS {
        bail!("--single-pairs must be at most {MAX_SINGLE_PAIRS}");
    }
    if options.batched_ops > MAX_BATCHED_OPS {
        bail!("--batched-ops must be at most {MAX_BATCHED_OPS}");
    }
    let temporary = tempfile::tempdir().context("creating a temporary directory")?;
    if options.data.is_none() {
        remove_on_signal(temporary.path())?;
    }
    let dir = options
        .data
        .clone()
        .unwrap_or_else(|| temporary.path().join("ledger"));
    if dir.exists()
        && fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} is not empty; the benchmark needs a fresh directory",
            dir.display()
        );
    }
    let machine = machine();
    let mut ledger = Ledger::open(DiskLogFiles::writer(&dir)?, Box::new(SystemClock))?;
    let secret = *Hex32::sha256_of(b"isthmus bench secret").bytes();
    let hashlock = *Hex32::sha256_of(&secret).bytes();
    let expiry_ms = SystemClock.now_ms_far_future();

    // Setup, not measured: accounts with ample cash.
    let setup: Vec<Request> = (0..BENCH_ACCOUNTS)
        .flat_map(|i| {
            let account = format!("DEUTDEFF/BENCH-{i}");
            [
                Operation::open_account(&account).map(|op| Request::new(format!("open-{i}"), op)),
                Operation::issue(&account, "USD", "100000000.00")
                    .map(|op| Request::new(format!("fund-{i}"), op)),
            ]
        })
        .collect::<Result<_, _>>()?;
    for chunk in setup.chunks(MAX_BATCH_OPERATIONS) {
        check_all_applied(ledger.execute_batch(chunk.to_vec())?)?;
    }
    let mut load = Load {
        accounts: Accounts {
            state: 0x2545_F491_4F6C_DD1D,
        },
        key: 0,
        secret,
        hashlock,
        expiry_ms,
        batch_size: options.batch_size,
    };

    // (a) one durable operation at a time: every lock and every claim is flushed before the next.
    // Grown as measured, never allocated up front from an argument.
    let mut single_latencies = Vec::new();
    let single_started = Instant::now();
    for _ in 0..options.single_pairs {
        let (from, to) = load.accounts.pair();
        let started = Instant::now();
        let lock = ledger.execute(Request::new(
            load.next_key(),
            Operation::lock(&from, &to, "USD", "1.00", &hashlock, expiry_ms)?,
        ))?;
        single_latencies.push(started.elapsed());
        let started = Instant::now();
        let claim = ledger.execute(Request::new(
            load.next_key(),
            Operation::claim(lock.seq, &secret)?,
        ))?;
        single_latencies.push(started.elapsed());
        check_all_applied(vec![Ok(lock), Ok(claim)])?;
    }
    let single_elapsed = single_started.elapsed();

    // (b) durable batches: half locks, then the claims of those locks, one flush per batch.
    // Only the ledger's work is timed (apply, journal, store, fsync): requests
    // are built, as a gateway would build them, before each batch's clock
    // starts. Split into rounds so the throughput figure is a median, not one sample.
    let batches = options.batched_ops / options.batch_size;
    let batches_per_round = batches.div_ceil(BATCHED_ROUNDS).max(1);
    // What the time split below replays phase (b) from.
    let batched_first_seq = ledger.journal_len();
    let state_before_batched = ledger.state().clone();
    let mut round_rates = Vec::new();
    let mut round_rates_in_order = Vec::new();
    let mut batch_latencies = Vec::new();
    let mut batched_elapsed = std::time::Duration::ZERO;
    // Of the batches' time, how long this thread ran, and how long it was
    // ready but waiting for a processor (a busy machine's share).
    let mut batched_on_cpu = Duration::ZERO;
    let mut batched_runnable = Duration::ZERO;
    let mut round_elapsed = std::time::Duration::ZERO;
    for batch_number in 0..batches {
        let requests = load.batch(ledger.journal_len())?;
        let sched_before = thread_schedstat();
        let started = Instant::now();
        let results = ledger.execute_batch(requests)?;
        let batch_elapsed = started.elapsed();
        if let (Some(before), Some(after)) = (sched_before, thread_schedstat()) {
            batched_on_cpu += after.on_cpu.saturating_sub(before.on_cpu);
            batched_runnable += after.runnable.saturating_sub(before.runnable);
        }
        batch_latencies.push(batch_elapsed);
        batched_elapsed += batch_elapsed;
        round_elapsed += batch_elapsed;
        check_all_applied(results)?;
        let round_batches = (batch_number % batches_per_round) + 1;
        if round_batches == batches_per_round || batch_number + 1 == batches {
            let ops = round_batches * options.batch_size;
            round_rates.push(ops as f64 / round_elapsed.as_secs_f64().max(f64::EPSILON));
            round_elapsed = std::time::Duration::ZERO;
            round_rates_in_order.push(round_rates[round_rates.len() - 1].round());
        }
    }
    let median_rate = sorted_median(&mut round_rates);
    ledger
        .state()
        .check_invariants()
        .map_err(anyhow::Error::msg)?;
    let split = time_split(
        &ledger,
        state_before_batched,
        batched_first_seq,
        options.batch_size as usize,
        &temporary.path().join("split"),
    )?;

    // (d) the same load pipelined: each batch applied while the one before it
    // is encoded and hashed, and the one before that written and synced, each
    // batch's results handed out only once it is durable. A round's requests
    // are built before its clock starts, as (b)'s are before each batch's.
    let mut pipelined_rates = Vec::new();
    let mut pipelined_rates_in_order = Vec::new();
    let mut pipelined_elapsed = Duration::ZERO;
    let mut pipelined_on_cpu = Duration::ZERO;
    let mut remaining = batches;
    while remaining > 0 {
        let round = remaining.min(batches_per_round);
        remaining -= round;
        let mut round_batches = Vec::with_capacity(round as usize);
        let mut first_seq = ledger.journal_len();
        for _ in 0..round {
            round_batches.push(load.batch(first_seq)?);
            first_seq += options.batch_size;
        }
        let mut failure: Option<anyhow::Error> = None;
        let sched_before = thread_schedstat();
        let started = Instant::now();
        ledger.execute_pipelined(round_batches, &mut |result| {
            let checked = result
                .map_err(anyhow::Error::from)
                .and_then(check_all_applied);
            if let Err(error) = checked {
                failure.get_or_insert(error);
            }
        })?;
        let elapsed = started.elapsed();
        if let (Some(before), Some(after)) = (sched_before, thread_schedstat()) {
            pipelined_on_cpu += after.on_cpu.saturating_sub(before.on_cpu);
        }
        if let Some(error) = failure {
            return Err(error);
        }
        pipelined_elapsed += elapsed;
        let rate = (round * options.batch_size) as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
        pipelined_rates.push(rate);
        pipelined_rates_in_order.push(rate.round());
    }
    let pipelined_median = sorted_median(&mut pipelined_rates);
    ledger
        .state()
        .check_invariants()
        .map_err(anyhow::Error::msg)?;
    let journal_entries = ledger.journal_len();
    let head = ledger.head_hash().clone();
    // Automatic snapshots (every DEFAULT_SNAPSHOT_INTERVAL_ENTRIES) were
    // taken inside the phases above, on their clocks; this one is timed alone.
    // The snapshot the next one extends: the last taken, else the one loaded.
    let automatic_snapshot = ledger
        .snapshot_report()
        .last_taken
        .or(ledger.snapshot_report().loaded);
    let snapshot_started = Instant::now();
    let covered = ledger.snapshot()?;
    let snapshot_elapsed = snapshot_started.elapsed();
    let snapshot_bytes = fs::metadata(dir.join(format!("snapshot-{covered:016x}.bin")))
        .map(|m| m.len())
        .unwrap_or(0);
    // A snapshot holds what changed since the one before it: its cost is
    // that of the entries since then, spread here over every entry to come.
    let snapshot_new_entries = covered
        .saturating_sub(automatic_snapshot.unwrap_or(0))
        .max(1);
    let snapshot_seconds_per_entry = snapshot_elapsed.as_secs_f64() / snapshot_new_entries as f64;
    let pipelined_ops = (batches * options.batch_size) as f64;
    let pipelined_with_snapshots = pipelined_ops
        / (pipelined_elapsed.as_secs_f64() + snapshot_seconds_per_entry * pipelined_ops)
            .max(f64::EPSILON);
    drop(ledger);

    // (c) restart: reopening loads the newest snapshot and replays the entries after it.
    let reopen_started = Instant::now();
    let reopened = Ledger::open(DiskLogFiles::writer(&dir)?, Box::new(SystemClock))?;
    let reopen_elapsed = reopen_started.elapsed();
    if reopened.head_hash() != &head || reopened.journal_len() != journal_entries {
        bail!("the reopened ledger differs from the one written");
    }
    if reopened.snapshot_report().loaded != Some(covered) {
        bail!(
            "the reopened ledger did not start from its snapshot: {:?}",
            reopened.snapshot_report()
        );
    }
    drop(reopened);

    // (e) verify: every entry replayed from the first, and the snapshots checked against it.
    let verify_started = Instant::now();
    let verified = isthmus_ledger::verify_files(DiskLogFiles::read_only(&dir)?)?;
    let verify_elapsed = verify_started.elapsed();
    if let Some((entry, problem)) = verified.first_problem {
        bail!("the benchmark's ledger does not verify: entry {entry}: {problem}");
    }

    single_latencies.sort();
    batch_latencies.sort();
    let single_ops = options.single_pairs * 2;
    let batched_ops = batches * options.batch_size;
    let single_rate = single_ops as f64 / single_elapsed.as_secs_f64().max(f64::EPSILON);
    let batched_rate = batched_ops as f64 / batched_elapsed.as_secs_f64().max(f64::EPSILON);
    // Processor times are zero where the scheduler's counts cannot be read.
    let cpu_measured = thread_schedstat().is_some();
    // What the stages timed alone do not account for, of (b)'s own time.
    let other = Stage {
        wall: batched_elapsed.saturating_sub(split.total().wall),
        on_cpu: batched_on_cpu.saturating_sub(split.total().on_cpu),
    };
    let share = |part: Duration, of: Duration| {
        (1000.0 * part.as_secs_f64() / of.as_secs_f64().max(f64::EPSILON)).round() / 10.0
    };
    let per_op_us = |part: Duration| {
        (100.0 * part.as_secs_f64() * 1e6 / (batched_ops.max(1) as f64)).round() / 100.0
    };
    let split_stages = [
        (
            "state",
            split.state,
            "LedgerState::apply (with the claim's SHA-256 of the preimage)",
        ),
        ("encode", split.encode, "the entries' RFC 8785 bytes"),
        ("hash", split.hash, "SHA-256 of each entry, as a Hex32"),
        (
            "log_checks",
            split.log_checks,
            "the log's check of each record for a commit's tag",
        ),
        (
            "framing",
            split.framing,
            "the log batch: record headers, CRC-32s, commit",
        ),
        ("write", split.write, "pwrite of the batch"),
        ("fsync", split.sync, "fdatasync"),
        (
            "other",
            other,
            "the rest: idempotency and history indexes, receipts, allocation",
        ),
    ];
    let split_json: serde_json::Map<String, serde_json::Value> = split_stages
        .iter()
        .map(|(name, part, what)| {
            (
                (*name).to_string(),
                json!({
                    "seconds": part.wall.as_secs_f64(),
                    "percent": share(part.wall, batched_elapsed),
                    "us_per_op": per_op_us(part.wall),
                    "on_cpu_seconds": part.on_cpu.as_secs_f64(),
                    "on_cpu_percent": share(part.on_cpu, batched_on_cpu),
                    "on_cpu_us_per_op": per_op_us(part.on_cpu),
                    "what": what,
                }),
            )
        })
        .collect();
    let report = json!({
        "benchmark": "ledger",
        "store": "isthmus-store segment log: one pwrite and one fdatasync per batch, before every acknowledgement",
        "machine": machine,
        "single": {
            "operations": single_ops,
            "seconds": single_elapsed.as_secs_f64(),
            "ops_per_second": single_rate.round(),
            "latency_p50_ms": quantile_ms(&single_latencies, 0.50),
            "latency_p99_ms": quantile_ms(&single_latencies, 0.99),
        },
        "batched": {
            "operations": batched_ops,
            "batch_size": options.batch_size,
            "seconds": batched_elapsed.as_secs_f64(),
            "ops_per_second": batched_rate.round(),
            "rounds": round_rates.len(),
            "round_ops_per_second_median": median_rate.round(),
            "round_ops_per_second_min": round_rates.first().copied().unwrap_or(0.0).round(),
            "round_ops_per_second_max": round_rates.last().copied().unwrap_or(0.0).round(),
            "round_ops_per_second_in_order": round_rates_in_order,
            "batch_latency_p50_ms": quantile_ms(&batch_latencies, 0.50),
            "batch_latency_p99_ms": quantile_ms(&batch_latencies, 0.99),
            "on_cpu_seconds": batched_on_cpu.as_secs_f64(),
            "runnable_waiting_seconds": batched_runnable.as_secs_f64(),
            // None where the scheduler's counts cannot be read.
            "ops_per_cpu_second": cpu_measured.then(|| (batched_ops as f64 / batched_on_cpu.as_secs_f64().max(f64::EPSILON)).round()),
            "split": split_json,
            "split_method": "each stage timed again, alone, on the same entries after the run: the state replayed from a copy taken before phase (b), the entries encoded and hashed again, and the batches checked, framed, written and synced to a log file of their own; other = phase (b)'s time minus the stages'. Each by the clock and on a processor (this thread's schedstat); by the clock includes waiting for a processor on a busy machine",
        },
        "pipelined": {
            "operations": batched_ops,
            "batch_size": options.batch_size,
            "pipeline_depth": "three stages on three threads: one batch applied, the one before it encoded and hashed, the one before that written and synced",
            "seconds": pipelined_elapsed.as_secs_f64(),
            "ops_per_second": (batched_ops as f64 / pipelined_elapsed.as_secs_f64().max(f64::EPSILON)).round(),
            "rounds": pipelined_rates.len(),
            "round_ops_per_second_median": pipelined_median.round(),
            "round_ops_per_second_min": pipelined_rates.first().copied().unwrap_or(0.0).round(),
            "round_ops_per_second_max": pipelined_rates.last().copied().unwrap_or(0.0).round(),
            "round_ops_per_second_in_order": pipelined_rates_in_order,
            "preparing_thread_on_cpu_seconds": pipelined_on_cpu.as_secs_f64(),
        },
        "snapshot": {
            "entries_covered": covered,
            "bytes": snapshot_bytes,
            "seconds": snapshot_elapsed.as_secs_f64(),
            "automatic_every_entries": isthmus_ledger::DEFAULT_SNAPSHOT_INTERVAL_ENTRIES,
            "last_automatic_covered": automatic_snapshot,
            "new_entries": snapshot_new_entries,
            "microseconds_per_new_entry": snapshot_seconds_per_entry * 1e6,
            "pipelined_ops_per_second_with_snapshot_cost": pipelined_with_snapshots.round(),
        },
        "reopen": {
            "journal_entries": journal_entries,
            "from_snapshot_of": covered,
            "seconds": reopen_elapsed.as_secs_f64(),
        },
        "verify": {
            "journal_entries": verified.entries_verified,
            "snapshots_checked": verified.snapshots_checked,
            "seconds": verify_elapsed.as_secs_f64(),
            "entries_per_second": (verified.entries_verified as f64 / verify_elapsed.as_secs_f64().max(f64::EPSILON)).round(),
        },
    });
    let mut out = Out::new();
    writeln!(out, "isthmus bench ledger: HTLC operations on a segment-log ledger, each acknowledged only after fdatasync")?;
    writeln!(
        out,
        "machine: {}, {} cores, {} GiB, {} ({} build)",
        report["machine"]["cpu"].as_str().unwrap_or(""),
        report["machine"]["cores"],
        report["machine"]["memory_gib"],
        report["machine"]["os"].as_str().unwrap_or(""),
        report["machine"]["profile"].as_str().unwrap_or("")
    )?;
    writeln!(
        out,
        "(a) single durable lock/claim: {single_ops} ops in {:.2} s = {:.0} ops/s; latency p50 {:.3} ms, p99 {:.3} ms",
        single_elapsed.as_secs_f64(),
        single_rate,
        quantile_ms(&single_latencies, 0.50),
        quantile_ms(&single_latencies, 0.99)
    )?;
    writeln!(
        out,
        "(b) batched durable lock/claim: {batched_ops} ops in batches of {} in {:.2} s = {:.0} ops/s (median of {} rounds {:.0}, range {:.0}-{:.0}); batch latency p50 {:.2} ms, p99 {:.2} ms",
        options.batch_size,
        batched_elapsed.as_secs_f64(),
        batched_rate,
        round_rates.len(),
        median_rate,
        round_rates.first().copied().unwrap_or(0.0),
        round_rates.last().copied().unwrap_or(0.0),
        quantile_ms(&batch_latencies, 0.50),
        quantile_ms(&batch_latencies, 0.99)
    )?;
    if cpu_measured {
        writeln!(
            out,
            "    of which this thread ran {:.2} s ({:.0} ops per second of its own processor time), waited for a processor {:.2} s, and was blocked (fsync) the rest",
            batched_on_cpu.as_secs_f64(),
            batched_ops as f64 / batched_on_cpu.as_secs_f64().max(f64::EPSILON),
            batched_runnable.as_secs_f64()
        )?;
    }
    writeln!(
        out,
        "    rounds in order: {}",
        joined_rates(&round_rates_in_order)
    )?;
    writeln!(
        out,
        "    time split of (b), each stage timed alone on the same entries, us per operation by the clock (on a processor):"
    )?;
    writeln!(
        out,
        "      {}",
        split_stages
            .iter()
            .map(|(name, part, _)| format!(
                "{name} {:.2} ({:.2})",
                per_op_us(part.wall),
                per_op_us(part.on_cpu)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        out,
        "(d) pipelined durable lock/claim (one batch applied while the last is encoded and hashed and the one before written and synced): {batched_ops} ops in batches of {} in {:.2} s = {:.0} ops/s (median of {} rounds {:.0}, range {:.0}-{:.0}); rounds in order: {}",
        options.batch_size,
        pipelined_elapsed.as_secs_f64(),
        batched_ops as f64 / pipelined_elapsed.as_secs_f64().max(f64::EPSILON),
        pipelined_rates.len(),
        pipelined_median,
        pipelined_rates.first().copied().unwrap_or(0.0),
        pipelined_rates.last().copied().unwrap_or(0.0),
        joined_rates(&pipelined_rates_in_order)
    )?;
    writeln!(
        out,
        "    snapshot after {covered} entries, extending the one after {}: {snapshot_bytes} bytes in {:.2} s = {:.2} us per entry since (automatic ones every {} entries came inside the phases above)",
        automatic_snapshot.unwrap_or(0),
        snapshot_elapsed.as_secs_f64(),
        snapshot_seconds_per_entry * 1e6,
        isthmus_ledger::DEFAULT_SNAPSHOT_INTERVAL_ENTRIES,
    )?;
    writeln!(
        out,
        "    (d) with the snapshots' cost counted in (that cost per entry, for every operation): {pipelined_with_snapshots:.0} ops/s"
    )?;
    writeln!(
        out,
        "(c) reopen from that snapshot ({journal_entries} journal entries): {:.2} s",
        reopen_elapsed.as_secs_f64()
    )?;
    writeln!(
        out,
        "(e) verify: replayed all {} entries from the first and checked {} snapshots in {:.2} s",
        verified.entries_verified,
        verified.snapshots_checked,
        verify_elapsed.as_secs_f64()
    )?;
    if options.json {
        out.line(&report)?;
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// What the scheduler counted for the calling thread so far.
#[derive(Debug, Clone, Copy)]
struct SchedStat {
    /// Time running on a processor.
    on_cpu: Duration,
    /// Time ready to run but waiting for a processor.
    runnable: Duration,
}

/// The calling thread's scheduler counts (Linux's
/// `/proc/thread-self/schedstat`); `None` where there is no such file.
fn thread_schedstat() -> Option<SchedStat> {
    let text = fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    Some(SchedStat {
        on_cpu: Duration::from_nanos(fields.next()?.ok()?),
        runnable: Duration::from_nanos(fields.next()?.ok()?),
    })
}

/// One stage's time: by the clock, and running on a processor.
#[derive(Debug, Default, Clone, Copy)]
struct Stage {
    wall: Duration,
    on_cpu: Duration,
}

impl Stage {
    /// Runs `work`, adding its time to this stage's.
    fn time<T>(&mut self, work: impl FnOnce() -> T) -> T {
        let sched_before = thread_schedstat();
        let started = Instant::now();
        let result = work();
        self.wall += started.elapsed();
        if let (Some(before), Some(after)) = (sched_before, thread_schedstat()) {
            self.on_cpu += after.on_cpu.saturating_sub(before.on_cpu);
        }
        result
    }
}

impl std::ops::Add for Stage {
    type Output = Stage;
    fn add(self, other: Stage) -> Stage {
        Stage {
            wall: self.wall + other.wall,
            on_cpu: self.on_cpu + other.on_cpu,
        }
    }
}

/// Phase (b)'s work, stage by stage, each stage timed on its own.
#[derive(Debug, Default)]
struct TimeSplit {
    state: Stage,
    encode: Stage,
    hash: Stage,
    log_checks: Stage,
    framing: Stage,
    write: Stage,
    sync: Stage,
}

impl TimeSplit {
    fn total(&self) -> Stage {
        self.state
            + self.encode
            + self.hash
            + self.log_checks
            + self.framing
            + self.write
            + self.sync
    }
}

/// Times each stage of phase (b) alone, batch by batch, on phase (b)'s own
/// journal entries: the state transitions (replayed from `state` as it was
/// before phase (b), each outcome checked against the journal's), encoding,
/// hashing, and what the log's append does — its check of each record, the
/// framing, the write and the sync — against a log file of
/// its own in `dir` (created as the journal's segments are: preallocated
/// sparsely, [`DISK_SEGMENT_BYTES`] long). Memory is bounded by one batch.
fn time_split(
    ledger: &Ledger<DiskLogFiles>,
    mut state: LedgerState,
    first_seq: u64,
    batch_size: usize,
    dir: &Path,
) -> anyhow::Result<TimeSplit> {
    let files = DiskLogFiles::writer(dir)?;
    let mut split = TimeSplit::default();
    let mut segment = 0u64;
    let mut offset = DISK_SEGMENT_BYTES; // no segment yet
    let mut entries: Vec<JournalEntry> = Vec::with_capacity(batch_size);
    let mut bytes: Vec<u8> = Vec::with_capacity(batch_size * ENTRY_BYTES_HINT);
    let mut ends: Vec<usize> = Vec::with_capacity(batch_size);
    let mut outcomes = Vec::with_capacity(batch_size);
    let mut failure: Option<anyhow::Error> = None;
    let mut run_batch = |entries: &mut Vec<JournalEntry>| -> anyhow::Result<()> {
        split.state.time(|| {
            for entry in entries.iter() {
                outcomes.push(state.apply(entry.seq, &entry.operation, entry.time_ms));
            }
        });
        for (entry, outcome) in entries.iter().zip(&outcomes) {
            if &entry.outcome != outcome {
                bail!("replaying journal entry {} gave another outcome", entry.seq);
            }
        }
        outcomes.clear();

        bytes.clear();
        ends.clear();
        split.encode.time(|| {
            for entry in entries.iter() {
                entry.write_to(&mut bytes);
                ends.push(bytes.len());
            }
        });

        let records = || {
            ends.iter().scan(0, |start, &end| {
                let record = &bytes[*start..end];
                *start = end;
                Some(record)
            })
        };
        let last = split.hash.time(|| records().map(Hex32::sha256_of).last());
        // Keeps the hashing from being optimised away.
        std::hint::black_box(last);
        if split.log_checks.time(|| records().any(holds_commit_tag)) {
            bail!("a journal entry holds a log commit's tag");
        }
        let batch = split.framing.time(|| encode_batch(records()));
        if offset + (batch.len() + SEAL_BYTES) as u64 > DISK_SEGMENT_BYTES {
            // A new segment, as the log starts one: not part of any stage.
            segment += 1;
            files.create(
                &format!("segment-{segment}.log"),
                &[0u8; HEADER_BYTES],
                DISK_SEGMENT_BYTES,
            )?;
            offset = HEADER_BYTES as u64;
        }
        let name = format!("segment-{segment}.log");
        split.write.time(|| files.write_at(&name, offset, &batch))?;
        split.sync.time(|| files.sync(&name))?;
        offset += batch.len() as u64;
        entries.clear();
        Ok(())
    };
    ledger
        .log()
        .scan(first_seq, &mut |seq, record| {
            match JournalEntry::from_bytes(record) {
                Ok(entry) => entries.push(entry),
                Err(problem) => {
                    failure = Some(anyhow::anyhow!("journal entry {seq}: {problem}"));
                    return false;
                }
            }
            if entries.len() == batch_size {
                if let Err(error) = run_batch(&mut entries) {
                    failure = Some(error);
                    return false;
                }
            }
            true
        })
        .context("reading phase (b)'s journal entries back")?;
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(split)
}

/// On Ctrl-C or SIGTERM, removes the benchmark's temporary directory (never a
/// `--data` directory, for which this is not called) and exits with status
/// 130: a benchmark ledger can reach hundreds of MB.
fn remove_on_signal(temporary: &Path) -> anyhow::Result<()> {
    let temporary = temporary.to_path_buf();
    ctrlc::set_handler(move || {
        // The store's own threads may still add a file while the tree is removed: retry.
        let mut removed = false;
        for _ in 0..10 {
            match fs::remove_dir_all(&temporary) {
                Ok(()) => removed = true,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => removed = true,
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
            if removed {
                break;
            }
        }
        if removed {
            stderr_line(format_args!(
                "interrupted; removed the benchmark's temporary ledger {}",
                temporary.display()
            ));
        } else {
            stderr_line(format_args!(
                "interrupted; could not remove the benchmark's temporary ledger {}",
                temporary.display()
            ));
        }
        std::process::exit(EXIT_INTERRUPTED);
    })
    .context("installing the Ctrl-C and SIGTERM handler")
}

/// A far-future expiry for benchmark locks, which are always claimed.
trait FarFuture {
    fn now_ms_far_future(&self) -> u64;
}

impl FarFuture for SystemClock {
    fn now_ms_far_future(&self) -> u64 {
        use isthmus_store::Clock;
        self.now_ms() + 365 * 24 * 3600 * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The time split replays phase (b)'s own entries: every stage runs, and
    /// the replayed outcomes agree with the journal's.
    #[test]
    fn the_time_split_times_every_stage_on_the_journaled_batches() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(
            DiskLogFiles::writer(&dir.path().join("ledger")).unwrap(),
            Box::new(SystemClock),
        )
        .unwrap();
        let (a, b) = ("DEUTDEFF/BENCH-A", "DEUTDEFF/BENCH-B");
        let setup = vec![
            Request::new("open-a", Operation::open_account(a).unwrap()),
            Request::new("open-b", Operation::open_account(b).unwrap()),
            Request::new("fund-a", Operation::issue(a, "USD", "100.00").unwrap()),
        ];
        check_all_applied(ledger.execute_batch(setup).unwrap()).unwrap();
        let before = ledger.state().clone();
        let first_seq = ledger.journal_len();
        let secret = [7u8; 32];
        let hashlock = *Hex32::sha256_of(&secret).bytes();
        let expiry_ms = SystemClock.now_ms_far_future();
        for batch in 0..3u64 {
            let seq = ledger.journal_len();
            let requests = vec![
                Request::new(
                    format!("lock-{batch}"),
                    Operation::lock(a, b, "USD", "0.01", &hashlock, expiry_ms).unwrap(),
                ),
                Request::new(
                    format!("claim-{batch}"),
                    Operation::claim(seq, &secret).unwrap(),
                ),
            ];
            check_all_applied(ledger.execute_batch(requests).unwrap()).unwrap();
        }
        let split = time_split(&ledger, before, first_seq, 2, &dir.path().join("split")).unwrap();
        assert!(split.encode.wall > Duration::ZERO && split.hash.wall > Duration::ZERO);
        assert!(split.write.wall > Duration::ZERO && split.sync.wall > Duration::ZERO);
        assert!(split.total().wall >= (split.state + split.sync).wall);
        assert!(split.total().on_cpu <= split.total().wall + Duration::from_millis(50));

        // A state that is not phase (b)'s starting point replays to other outcomes.
        let wrong = time_split(
            &ledger,
            LedgerState::new(),
            first_seq,
            2,
            &dir.path().join("split-2"),
        );
        assert!(wrong.is_err());
    }
}
