//! `isthmus ledger …`: inspect a market ledger's data directory.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use isthmus_ledger::state::Holding;
use isthmus_ledger::{verify_journal, Asset, Ledger};
use isthmus_spec::ident::Isin;
use isthmus_store::SledStore;
use isthmus_store::SystemClock;
use serde_json::json;

use super::EXIT_REJECTED;

/// Opens the store of an existing ledger; never creates one by mistake.
fn open_store(data: &Path) -> anyhow::Result<SledStore> {
    if !data.is_dir() {
        bail!(
            "no ledger at {}: the directory does not exist",
            data.display()
        );
    }
    SledStore::open(data).with_context(|| format!("opening the ledger at {}", data.display()))
}

fn open_ledger(data: &Path) -> anyhow::Result<Ledger<SledStore>> {
    Ledger::open(open_store(data)?, Box::new(SystemClock))
        .with_context(|| format!("replaying the journal at {}", data.display()))
}

/// `isthmus ledger verify`.
pub fn verify(data: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let report = verify_journal(&open_store(data)?)?;
    let head = report.head_hash.as_ref().map(|h| h.to_string());
    if as_json {
        println!(
            "{}",
            json!({
                "verified": report.first_problem.is_none(),
                "entries_verified": report.entries_verified,
                "head_hash": head,
                "accounts": report.accounts,
                "open_locks": report.open_locks,
                "first_problem": report.first_problem.as_ref().map(|(seq, problem)| json!({"entry": seq, "problem": problem})),
            })
        );
    } else {
        match &report.first_problem {
            None => println!(
                "OK {} journal entries verified; head {}; {} accounts, {} open locks",
                report.entries_verified,
                head.as_deref().unwrap_or("(empty journal)"),
                report.accounts,
                report.open_locks
            ),
            Some((seq, problem)) => println!(
                "CORRUPT journal entry {seq}: {problem} ({} entries before it verified)",
                report.entries_verified
            ),
        }
    }
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
    let ledger = open_ledger(data)?;
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
        println!(
            "{}",
            json!({"account": account.to_string(), "holdings": rows})
        );
    } else {
        println!("holdings of {account}");
        println!("{:<14} {:>24} {:>24}", "asset", "available", "locked");
        for (asset, balance) in &holdings {
            println!(
                "{:<14} {:>24} {:>24}",
                asset.to_string(),
                asset.format_units(balance.available),
                asset.format_units(balance.locked)
            );
        }
        if holdings.is_empty() {
            println!("(nothing held)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `isthmus ledger register`.
pub fn register(data: &Path, isin: &str, as_json: bool) -> anyhow::Result<ExitCode> {
    let isin = Isin::parse(isin).map_err(|r| anyhow::anyhow!("{r}"))?;
    let asset = Asset::Security(isin.clone());
    let ledger = open_ledger(data)?;
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
        println!("{}", json!({"isin": isin.as_str(), "holders": rows}));
    } else {
        println!("register of holders of {isin}");
        println!("{:<48} {:>24} {:>24}", "account", "available", "locked");
        for (account, balance) in &holders {
            println!(
                "{:<48} {:>24} {:>24}",
                account.to_string(),
                asset.format_units(balance.available),
                asset.format_units(balance.locked)
            );
        }
        if holders.is_empty() {
            println!("(no holders)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
