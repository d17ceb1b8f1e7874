//! `isthmus demo`: two markets in two dialects settling cross-border trades
//! atomically, on loopback, with nothing to set up.
//!
//! A relay and a gateway per market (XETR in ISO 20022 with SGD, XASX in
//! MT54x with AUD) run over QUIC with mutual TLS, keys made in memory and
//! ledgers and stores in a temporary directory (`--keep DIR` keeps them).
//! The operator opens and funds accounts through each gateway's API, the
//! participants instruct in their market's dialect, and the demo prints
//! each settlement's lifecycle, the holdings before and after, what each
//! participant received in its dialect, and then checks atomicity,
//! conservation and both journals; exit 1 with the reason if a check fails.
//! `--trades N` settles N trades instead and prints throughput and latency.

pub(crate) mod load;
pub mod script;
pub(crate) mod world;

pub(crate) use script::{minor_units, DemoTrade};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use isthmus_adapters::adapter::Dialect;
use isthmus_ledger::Asset;
use isthmus_spec::body::Body;

use super::output::Out;
use script::Expect;
use world::{Market, Network, Person, OPERATOR_TOKEN, XASX, XETR};

/// How long the demo waits for everything to end before it gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// `isthmus demo [--trades N] [--keep DIR]`.
pub fn run(trades: Option<usize>, keep: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let temporary;
    let dir = match &keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temporary = tempfile::tempdir().context("making a temporary directory")?;
            temporary.path().to_path_buf()
        }
    };
    let failures = runtime.block_on(async {
        let mut out = Out::new();
        let identity = world::identities()?;
        if keep.is_some() {
            world::write_public_files(&identity, &dir)?;
        }
        out.line(format_args!(
            "Isthmus demo: a relay and two gateways on loopback QUIC with mutual TLS (files in {})",
            dir.display()
        ))?;
        out.line(format_args!(
            "  {} ({}, {}): participants speak ISO 20022; {} ({}, {}): participants speak MT54x",
            XETR.mic, XETR.gateway, XETR.currency, XASX.mic, XASX.gateway, XASX.currency
        ))?;
        let timing = match trades {
            None => world::timing(),
            Some(_) => world::load_timing(),
        };
        let network = world::start(&identity, &dir, timing).await?;
        fund(&network).await?;
        let failures = match trades {
            None => story(&mut out, &network).await?,
            Some(n) => load::run(&mut out, &network, n).await?,
        };
        network.shutdown(Duration::from_secs(2)).await;
        out.finish()?;
        Ok::<_, anyhow::Error>(failures)
    })?;
    let mut failures = failures;
    let mut out = Out::new();
    for market in [XETR, XASX] {
        let path = dir.join("ledgers").join(market.mic);
        let files = isthmus_store::log::DiskLogFiles::read_only(&path)
            .with_context(|| format!("opening {} to verify it", path.display()))?;
        match isthmus_ledger::verify::verify_files(files) {
            Ok(report) if report.first_problem.is_none() => out.line(format_args!(
                "journal {}: OK, {} entries verified, {} open locks",
                market.mic, report.entries_verified, report.open_locks
            ))?,
            Ok(report) => failures.push(format!(
                "the {} journal does not verify: {:?}",
                market.mic, report.first_problem
            )),
            Err(failure) => failures.push(format!("the {} journal: {failure}", market.mic)),
        }
    }
    if failures.is_empty() {
        out.line("all checks passed: every settlement atomic, every asset conserved, both journals verified")?;
        out.finish()?;
        Ok(ExitCode::SUCCESS)
    } else {
        for failure in &failures {
            out.line(format_args!("CHECK FAILED: {failure}"))?;
        }
        out.finish()?;
        Ok(ExitCode::from(1))
    }
}

/// Opens every account and funds it, as the operator, through the API.
pub(crate) async fn fund(network: &Network) -> anyhow::Result<()> {
    for gateway in &network.gateways {
        for (n, (account, asset, amount)) in
            world::accounts(&gateway.market).into_iter().enumerate()
        {
            let open = serde_json::json!({ "key": format!("open-{n}"), "account": account });
            operator(gateway.api, "accounts", &open).await?;
            if !amount.is_empty() {
                let issue = serde_json::json!({
                    "key": format!("issue-{n}"), "account": account, "asset": asset, "amount": amount,
                });
                operator(gateway.api, "issue", &issue).await?;
            }
        }
    }
    Ok(())
}

async fn operator(
    api: std::net::SocketAddr,
    action: &str,
    body: &serde_json::Value,
) -> anyhow::Result<()> {
    let (status, answer) = world::http(
        api,
        "POST",
        &format!("/v1/operator/{action}"),
        OPERATOR_TOKEN,
        "application/json",
        body.to_string().as_bytes(),
    )
    .await?;
    if status != 200 && status != 201 {
        return Err(anyhow!(
            "the operator's {action} was refused ({status}): {answer}"
        ));
    }
    Ok(())
}

/// Every account's units of every asset, by market.
pub(super) type Holdings = BTreeMap<(String, String, String), u128>;

/// What every account holds (available plus locked), and what is locked.
pub(super) async fn holdings(network: &Network) -> anyhow::Result<(Holdings, u128)> {
    let mut all = Holdings::new();
    let mut locked = 0u128;
    for gateway in &network.gateways {
        for (account, _, _) in world::accounts(&gateway.market) {
            let parsed = isthmus_ledger::parse_account(&account).map_err(|e| anyhow!("{e}"))?;
            let rows = gateway
                .handle()
                .holdings(&parsed)
                .await
                .map_err(|e| anyhow!("{e}"))?
                .map_err(|e| anyhow!("holdings of {account}: {e}"))?;
            for (asset, holding) in rows {
                locked += u128::from(holding.locked);
                all.insert(
                    (
                        gateway.market.mic.to_string(),
                        account.clone(),
                        asset.to_string(),
                    ),
                    u128::from(holding.available) + u128::from(holding.locked),
                );
            }
        }
    }
    Ok((all, locked))
}

/// Per market and asset, the units held in all.
pub(super) fn totals(holdings: &Holdings) -> BTreeMap<(String, String), u128> {
    let mut totals = BTreeMap::new();
    for ((market, _, asset), units) in holdings {
        *totals.entry((market.clone(), asset.clone())).or_default() += units;
    }
    totals
}

fn units_text(asset: &str, units: u128) -> String {
    match Asset::parse(asset) {
        Ok(asset) => match u64::try_from(units) {
            Ok(units) => asset.format_units(units),
            Err(_) => units.to_string(),
        },
        Err(_) => units.to_string(),
    }
}

fn print_holdings(out: &mut Out, title: &str, holdings: &Holdings) -> anyhow::Result<()> {
    out.line(format_args!("{title}"))?;
    for ((market, account, asset), units) in holdings {
        out.line(format_args!(
            "  {market}  {account:<22} {:>14} {asset}",
            units_text(asset, *units)
        ))?;
    }
    Ok(())
}

/// The message type a body is written as in `dialect`.
fn native_name(dialect: Dialect, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match dialect {
        Dialect::Iso20022 => text
            .find("sese.0")
            .or_else(|| text.find("semt.0"))
            .and_then(|at| text.get(at..at + 8))
            .unwrap_or("ISO 20022")
            .to_string(),
        Dialect::Mt => text
            .find("{2:I")
            .and_then(|at| text.get(at + 4..at + 7))
            .map_or("MT".to_string(), |t| format!("MT{t}")),
        Dialect::Ism => "ISM/1".to_string(),
    }
}

/// A notice in a few words: the status (and reason) or the confirmation.
fn notice_words(body: &Body) -> String {
    match body {
        Body::InstructionStatus(status) => {
            let mut words = status.status.as_str().to_string();
            if let Some(id) = &status.settlement_id {
                words.push_str(&format!(" in {id}"));
            }
            if let Some(reason) = &status.reason {
                words.push_str(&format!(" ({}: {})", reason.code, reason.text));
            }
            words
        }
        Body::SettlementConfirmation(confirmation) => format!(
            "SETTLED in {} ({} {})",
            confirmation.settlement_id,
            confirmation.quantity,
            confirmation.settlement_amount.as_ref().map_or(
                "free of payment".to_string(),
                |m| format!("against {} {}", m.amount, m.currency)
            )
        ),
        other => other.kind().to_string(),
    }
}

/// The demo's story: the trades of [`script::trades`], told as they happen.
async fn story(out: &mut Out, network: &Network) -> anyhow::Result<Vec<String>> {
    let mut failures = Vec::new();
    let (before, _) = holdings(network).await?;
    print_holdings(out, "holdings before:", &before)?;
    let trades = script::trades()?;
    out.line("trades:")?;
    for trade in &trades {
        out.line(format_args!("  {}: {}", trade.label, trade.what))?;
    }
    let started = Instant::now();
    for trade in &trades {
        submit(network, trade).await?;
    }
    out.line("lifecycle (seconds since the first instruction):")?;
    // (instruction, notices seen) of every instruction.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut finals: BTreeMap<String, Vec<Body>> = BTreeMap::new();
    let expected_instructions: usize = trades.iter().map(|t| t.instructions().len()).sum();
    while finals.len() < expected_instructions && started.elapsed() < PATIENCE {
        for trade in &trades {
            for (person, market, instruction) in trade.instructions() {
                let id = instruction.instruction_id.to_string();
                if finals.contains_key(&id) {
                    continue;
                }
                let view = network
                    .gateway(&market)
                    .handle()
                    .instruction(&instruction.instruction_id)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                let Some(view) = view else { continue };
                let already = seen.entry(id.clone()).or_default();
                for body in view.notices.iter().skip(*already) {
                    let written = market
                        .dialect
                        .outbound(body)
                        .map(|t| native_name(market.dialect, &t.value))
                        .unwrap_or_else(|e| format!("(not writable: {e})"));
                    out.line(format_args!(
                        "  [{:5.2}] {:<3} {:<6}@{} {:<9} {}",
                        started.elapsed().as_secs_f64(),
                        trade.label,
                        person.name,
                        market.mic,
                        written,
                        notice_words(body)
                    ))?;
                }
                *already = view.notices.len();
                if view.final_word {
                    finals.insert(id, view.notices);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if finals.len() < expected_instructions {
        failures.push(format!(
            "{} of {expected_instructions} instructions had the relay's final word within {PATIENCE:?}",
            finals.len()
        ));
    }
    // The locks of failed settlements are refunded once they expire.
    let mut end = holdings(network).await?;
    while end.1 > 0 && started.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_millis(100)).await;
        end = holdings(network).await?;
    }
    let (after, locked) = end;
    out.line(format_args!(
        "  [{:5.2}] every lock claimed or refunded",
        started.elapsed().as_secs_f64()
    ))?;
    print_holdings(out, "holdings after:", &after)?;
    print_legs(out, network, &finals).await?;
    print_received(out, &trades, &finals)?;
    failures.extend(script::check(network, &trades, &finals, &before, &after, locked).await?);
    Ok(failures)
}

/// Sends a trade's instructions, each through its participant's gateway
/// in its market's dialect.
async fn submit(network: &Network, trade: &DemoTrade) -> anyhow::Result<()> {
    for (person, market, instruction) in trade.instructions() {
        post_instruction(network, &person, &market, instruction).await?;
    }
    Ok(())
}

/// POSTs one instruction in `market`'s dialect as `person`.
pub(super) async fn post_instruction(
    network: &Network,
    person: &Person,
    market: &Market,
    instruction: &isthmus_spec::body::SettlementInstruction,
) -> anyhow::Result<()> {
    post_instruction_to(network.gateway(market).api, person, market, instruction).await
}

/// POSTs one instruction in `market`'s dialect as `person` to the API at `api`.
pub(super) async fn post_instruction_to(
    api: std::net::SocketAddr,
    person: &Person,
    market: &Market,
    instruction: &isthmus_spec::body::SettlementInstruction,
) -> anyhow::Result<()> {
    let body = Body::SettlementInstruction(instruction.clone());
    let (content_type, bytes) = match market.dialect {
        Dialect::Iso20022 => ("application/xml", Dialect::Iso20022.outbound(&body)?.value),
        Dialect::Mt => ("text/plain", Dialect::Mt.outbound(&body)?.value),
        Dialect::Ism => ("application/json", body.to_json().to_string().into_bytes()),
    };
    let (status, answer) = world::http(
        api,
        "POST",
        "/v1/instructions",
        &person.token(),
        content_type,
        &bytes,
    )
    .await?;
    if status != 202 {
        return Err(anyhow!(
            "{}'s instruction {} was refused ({status}): {answer}",
            person.name,
            instruction.instruction_id
        ));
    }
    Ok(())
}

/// How each settlement's legs ended, at the gateway that holds each.
async fn print_legs(
    out: &mut Out,
    network: &Network,
    finals: &BTreeMap<String, Vec<Body>>,
) -> anyhow::Result<()> {
    out.line("settlements, leg by leg:")?;
    for id in script::settlement_ids(finals) {
        let mut legs = Vec::new();
        for gateway in &network.gateways {
            if let Some(view) = gateway
                .handle()
                .settlement(&id)
                .await
                .map_err(|e| anyhow!("{e}"))?
            {
                for (leg, phase) in view.legs {
                    legs.push(format!("{leg} leg on {} {phase}", gateway.market.mic));
                }
            }
        }
        out.line(format_args!("  {id}: {}", legs.join(", ")))?;
    }
    Ok(())
}

/// What each participant received, in its dialect: every message by type,
/// and the first confirmation of each dialect in full.
fn print_received(
    out: &mut Out,
    trades: &[DemoTrade],
    finals: &BTreeMap<String, Vec<Body>>,
) -> anyhow::Result<()> {
    out.line("what each participant received, in its own dialect:")?;
    let mut shown: Vec<Dialect> = Vec::new();
    let mut full = Vec::new();
    for person in world::people() {
        let dialect = person.home.dialect;
        let mut names = Vec::new();
        for trade in trades {
            for (who, _, instruction) in trade.instructions() {
                if who.name != person.name {
                    continue;
                }
                for body in finals
                    .get(instruction.instruction_id.as_str())
                    .into_iter()
                    .flatten()
                {
                    let Ok(written) = dialect.outbound(body) else {
                        continue;
                    };
                    names.push(format!(
                        "{} {}",
                        trade.label,
                        native_name(dialect, &written.value)
                    ));
                    if matches!(body, Body::SettlementConfirmation(_)) && !shown.contains(&dialect)
                    {
                        shown.push(dialect);
                        full.push((person.name, written.value));
                    }
                }
            }
        }
        out.line(format_args!("  {:<6} {}", person.name, names.join(", ")))?;
    }
    for (name, bytes) in full {
        out.line(format_args!("{name}'s first confirmation, as received:"))?;
        for line in String::from_utf8_lossy(&bytes).lines() {
            out.line(format_args!("    {line}"))?;
        }
    }
    Ok(())
}

/// Whether the trade's instructions all ended as `expect` says.
pub(super) fn ended_as(expect: Expect, notices: &[&Vec<Body>]) -> bool {
    let confirmed = |n: &Vec<Body>| {
        n.iter()
            .any(|b| matches!(b, Body::SettlementConfirmation(_)))
    };
    match expect {
        Expect::Settles => notices.iter().all(|n| confirmed(n)),
        Expect::Fails => notices.iter().all(|n| !confirmed(n)),
    }
}
