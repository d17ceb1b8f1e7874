//! `isthmus ledger …`: inspect a market ledger's data directory.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use isthmus_ledger::state::Holding;
use isthmus_ledger::{verify_files, Asset, Ledger, LedgerFailure, LedgerReason};
use isthmus_spec::ident::Isin;
use isthmus_store::log::DiskLogFiles;
use isthmus_store::SystemClock;
use serde_json::json;

use super::output::Out;
use super::EXIT_REJECTED;

/// The files of an existing ledger, opened read-only: no command here
/// creates, changes or removes a byte of them.
fn read_only_files(data: &Path) -> anyhow::Result<DiskLogFiles> {
    if !data.is_dir() {
        bail!(
            "no ledger at {}: the directory does not exist",
            data.display()
        );
    }
    DiskLogFiles::read_only(data)
        .with_context(|| format!("opening the ledger at {}", data.display()))
}

/// A refusal to read a ledger, printed with its reason code; exit status 1
/// (the ledger was checked and refused), as for `verify`.
fn refused(out: Out, data: &Path, failure: &LedgerFailure) -> anyhow::Result<ExitCode> {
    super::output::stderr_line(format!(
        "{}: the ledger at {} cannot be read: {}",
        failure.reason(),
        data.display(),
        failure.error().message
    ));
    out.finish()?;
    Ok(ExitCode::from(EXIT_REJECTED))
}

fn open_ledger(data: &Path) -> anyhow::Result<Result<Ledger<DiskLogFiles>, LedgerFailure>> {
    Ok(Ledger::open_read_only(
        read_only_files(data)?,
        Box::new(SystemClock),
    ))
}

/// `isthmus ledger verify`.
pub fn verify(data: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let mut out = Out::new();
    let report = match verify_files(read_only_files(data)?) {
        Ok(report) => report,
        Err(failure) => {
            // Not a ledger at all, or its files cannot be read.
            if as_json {
                out.line(json!({
                    "verified": false,
                    "entries_verified": 0,
                    "reason": failure.reason().as_str(),
                    "problem": failure.error().message,
                }))?;
            } else {
                out.line(format_args!(
                    "NOT VERIFIED {}: {}",
                    failure.reason(),
                    failure.error().message
                ))?;
            }
            out.finish()?;
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    let head = report.head_hash.as_ref().map(|h| h.to_string());
    if as_json {
        out.line(json!({
            "verified": report.first_problem.is_none(),
            "entries_verified": report.entries_verified,
            "head_hash": head,
            "accounts": report.accounts,
            "open_locks": report.open_locks,
            "snapshots_checked": report.snapshots_checked,
            "first_problem": report.first_problem.as_ref().map(|(seq, problem)| json!({"entry": seq, "problem": problem})),
        }))?;
    } else {
        match &report.first_problem {
            None => out.line(format_args!(
                "OK {} journal entries verified; head {}; {} accounts, {} open locks",
                report.entries_verified,
                head.as_deref().unwrap_or("(empty journal)"),
                report.accounts,
                report.open_locks
            ))?,
            Some((seq, problem)) => out.line(format_args!(
                "{} journal entry {seq}: {problem} ({} entries before it verified)",
                LedgerReason::JournalCorrupt,
                report.entries_verified
            ))?,
        }
    }
    out.finish()?;
    Ok(if report.first_problem.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED)
    })
}

fn balance_json(asset: &Asset, balance: &Holding) -> serde_json::Value {
    json!({
        "available": asset.format_units(balance.available),
        "locked": asset.format_units(balance.locked),
        "total": asset.format_units(balance.available.saturating_add(balance.locked)),
    })
}

/// `isthmus ledger holdings`.
pub fn holdings(data: &Path, account: &str, as_json: bool) -> anyhow::Result<ExitCode> {
    let account = isthmus_ledger::parse_account(account)?;
    let mut out = Out::new();
    let ledger = match open_ledger(data)? {
        Ok(ledger) => ledger,
        Err(failure) => return refused(out, data, &failure),
    };
    let holdings = ledger.holdings(&account)?;
    if as_json {
        let rows: Vec<_> = holdings
            .iter()
            .map(|(asset, balance)| {
                let mut row = balance_json(asset, balance);
                row["asset"] = json!(asset.to_string());
                row
            })
            .collect();
        out.line(json!({"account": account.to_string(), "holdings": rows}))?;
    } else {
        out.line(format_args!("holdings of {account}"))?;
        out.line(format_args!(
            "{:<14} {:>24} {:>24}",
            "asset", "available", "locked"
        ))?;
        for (asset, balance) in &holdings {
            out.line(format_args!(
                "{:<14} {:>24} {:>24}",
                asset.to_string(),
                asset.format_units(balance.available),
                asset.format_units(balance.locked)
            ))?;
        }
        if holdings.is_empty() {
            out.line("(nothing held)")?;
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// `isthmus ledger register`.
pub fn register(data: &Path, isin: &str, as_json: bool) -> anyhow::Result<ExitCode> {
    let isin = Isin::parse(isin).map_err(|r| anyhow::anyhow!("{r}"))?;
    let asset = Asset::Security(isin.clone());
    let mut out = Out::new();
    let ledger = match open_ledger(data)? {
        Ok(ledger) => ledger,
        Err(failure) => return refused(out, data, &failure),
    };
    let holders = ledger.register(&isin)?;
    if as_json {
        let rows: Vec<_> = holders
            .iter()
            .map(|(account, balance)| {
                let mut row = balance_json(&asset, balance);
                row["account"] = json!(account.to_string());
                row
            })
            .collect();
        out.line(json!({"isin": isin.as_str(), "holders": rows}))?;
    } else {
        out.line(format_args!("register of holders of {isin}"))?;
        out.line(format_args!(
            "{:<48} {:>24} {:>24}",
            "account", "available", "locked"
        ))?;
        for (account, balance) in &holders {
            out.line(format_args!(
                "{:<48} {:>24} {:>24}",
                account.to_string(),
                asset.format_units(balance.available),
                asset.format_units(balance.locked)
            ))?;
        }
        if holders.is_empty() {
            out.line("(no holders)")?;
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}
