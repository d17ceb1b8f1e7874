//! `isthmus conformance …`: the ISM/1 conformance suite (issue 14) — the
//! vector runner, the scenarios against a node over QUIC, and the list of
//! scenarios — with its summary on standard output and its JUnit XML and
//! JSON reports where asked.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use isthmus_conformance::catalogue::{Level, Role};
use isthmus_conformance::harness::{Harness, Options, Target};
use isthmus_conformance::network::NetworkDir;
use isthmus_conformance::report::{Report, Verdict};
use isthmus_conformance::scenarios::{self, Selection};
use isthmus_spec::ids::NodeId;
use serde_json::json;

use super::output::{self, Out};
use super::EXIT_REJECTED;

/// Where the reports of a run go.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportFiles {
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

fn write_report(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing the report {}", path.display()))
}

fn finish(report: &Report, files: &ReportFiles) -> anyhow::Result<ExitCode> {
    if let Some(path) = &files.json {
        let mut text =
            serde_json::to_string_pretty(&report.to_json()).context("encoding the JSON report")?;
        text.push('\n');
        write_report(path, text.as_bytes())?;
    }
    if let Some(path) = &files.junit {
        write_report(path, report.to_junit().as_bytes())?;
    }
    let mut out = Out::new();
    out.line(report.summary().trim_end())?;
    out.finish()?;
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED)
    })
}

/// `isthmus conformance vectors`.
pub fn vectors(dir: &Path, files: &ReportFiles) -> anyhow::Result<ExitCode> {
    let report = isthmus_conformance::vectors::run(dir)?;
    finish(&report, files)
}

/// `isthmus spec vectors`: the same runner, one line per vector.
pub fn spec_vectors(dir: &Path) -> anyhow::Result<ExitCode> {
    let report = isthmus_conformance::vectors::run(dir)?;
    let mut out = Out::new();
    for case in &report.cases {
        match &case.verdict {
            Verdict::Pass => writeln!(out, "ok    {}", output::excerpt(&case.id))?,
            Verdict::Fail(failure) => writeln!(
                out,
                "FAIL  {}: {}",
                output::message(&case.id),
                output::message(&failure.observed)
            )?,
            Verdict::Unsupported(why) | Verdict::Skipped(why) => writeln!(
                out,
                "skip  {}: {}",
                output::message(&case.id),
                output::message(why)
            )?,
        }
    }
    let counts = report.counts();
    writeln!(out, "{} passed, {} failed", counts.passed, counts.failed)?;
    out.finish()?;
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED)
    })
}

/// `isthmus conformance coverage`: the requirements of the spec at `root`
/// with what checks them; exit 1 unless every MUST is checked or marked
/// untestable and the registry agrees with the spec and the checkout.
pub fn coverage(root: &Path, all: bool, skeleton: bool, as_json: bool) -> anyhow::Result<ExitCode> {
    let (spec, registry) = isthmus_conformance::coverage::load(root)?;
    let scenario_ids = scenarios::all()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let checkout = isthmus_conformance::coverage::Checkout(root.to_path_buf());
    let coverage = isthmus_conformance::coverage::assess(&spec, registry, &scenario_ids, &checkout);
    let mut out = Out::new();
    if skeleton {
        write!(out, "{}", coverage.skeleton())?;
    } else if as_json {
        out.line(coverage.to_json())?;
    } else {
        write!(out, "{}", coverage.summary(all))?;
    }
    out.finish()?;
    Ok(if coverage.passes() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED)
    })
}

/// `isthmus conformance list`: the scenarios, for people or as JSON.
pub fn list(role: Option<&str>, as_json: bool) -> anyhow::Result<ExitCode> {
    let role = role.map(parse_role).transpose()?;
    let mut out = Out::new();
    let chosen: Vec<_> = scenarios::all()
        .into_iter()
        .filter(|s| role.is_none_or(|r| s.roles.contains(&r)))
        .collect();
    if as_json {
        let list: Vec<_> = chosen
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "clause": s.clause,
                    "strength": s.strength.as_str(),
                    "level": s.level.as_str(),
                    "roles": s.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    "feature": s.feature,
                    "title": s.title,
                    "after": s.after,
                })
            })
            .collect();
        out.line(serde_json::Value::Array(list))?;
    } else {
        for s in &chosen {
            let roles: Vec<&str> = s.roles.iter().map(|r| r.as_str()).collect();
            writeln!(
                out,
                "{:<44} {:<10} {:<6} {:<13} {}  ({})",
                s.id,
                s.level.as_str(),
                s.strength.as_str(),
                roles.join(","),
                s.title,
                s.clause
            )?;
        }
        writeln!(out, "{} scenarios", chosen.len())?;
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn parse_role(text: &str) -> anyhow::Result<Role> {
    Role::parse(text).ok_or_else(|| anyhow!("--role {text:?}: write relay or gateway"))
}

/// What `isthmus conformance run` is given.
#[derive(Debug, Clone, clap::Args)]
pub struct RunOptions {
    /// The node under test, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub target: String,
    /// Its role: relay or gateway.
    #[arg(long, value_name = "ROLE")]
    pub role: String,
    /// Its node id (needed when the membership has several of its role).
    #[arg(long, value_name = "ID")]
    pub target_id: Option<String>,
    /// The network directory (`isthmus keys init --conformance` makes one):
    /// the membership the target loads, the CA, the counterparts' keys.
    #[arg(long, value_name = "DIR")]
    pub network: PathBuf,
    /// A level to run: core, settlement or recovery (repeat for more; default core).
    #[arg(long = "level", value_name = "LEVEL")]
    pub levels: Vec<String>,
    /// Also run the SHOULD scenarios.
    #[arg(long)]
    pub strict: bool,
    /// Run only this scenario (repeat for more), by id.
    #[arg(long = "scenario", value_name = "ID")]
    pub scenarios: Vec<String>,
    /// A scenario id, level or feature (observer, batch) the target does
    /// not support: reported as unsupported instead of run (repeat).
    #[arg(long = "unsupported", value_name = "NAME")]
    pub unsupported: Vec<String>,
    /// Where a counterpart listens, as the target's configuration names
    /// it: ID=HOST:PORT (repeat; others listen on ephemeral ports).
    #[arg(long = "listen", value_name = "ID=HOST:PORT")]
    pub listen: Vec<String>,
    /// The vector directory, for the scenario that sends the invalid vectors.
    #[arg(long, value_name = "DIR", default_value = "specs/vectors")]
    pub vectors: PathBuf,
    /// How long to wait for one answer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub answer_wait_ms: u64,
    /// How long to wait for a step of a settlement (a proposal, a claim, a
    /// deadline's abort), in milliseconds: longer than the target's lock window.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub settlement_wait_ms: u64,
    /// How long to watch for a message that must not come, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2_000)]
    pub quiet_ms: u64,
    /// The network's Δ (claim window + maximum clock skew) in
    /// milliseconds, as the target is configured: checks T2 ≥ T1 + Δ.
    #[arg(long, value_name = "MS")]
    pub delta_ms: Option<u64>,
    /// A shell command that kills the target with SIGKILL and starts it
    /// again on the same address and store (the recovery level needs it).
    #[arg(long, value_name = "COMMAND")]
    pub restart_cmd: Option<String>,
    /// Against a gateway: the command (run with `sh -c`) that makes one of
    /// its participants submit an instruction, funding the account first.
    /// It gets ISM_INSTRUCTION_FILE (the body as ISM/1 JSON),
    /// ISM_INSTRUCTION_ID, ISM_OWNER, ISM_ACCOUNT, ISM_ASSET, ISM_QUANTITY,
    /// ISM_BENEFICIARY_OWNER and ISM_BENEFICIARY_ACCOUNT, and exits 0 once
    /// the gateway has the instruction (the gateway's settlement and
    /// recovery levels need it; conformance/README.md).
    #[arg(long, value_name = "COMMAND")]
    pub instruct_cmd: Option<String>,
    /// Where the reports go.
    #[command(flatten)]
    pub files: ReportFiles,
}

fn address(text: &str, what: &str) -> anyhow::Result<SocketAddr> {
    text.to_socket_addrs()
        .with_context(|| format!("{what} {text:?}: write HOST:PORT"))?
        .next()
        .ok_or_else(|| anyhow!("{what} {text:?}: the name has no address"))
}

fn node_id(text: &str, what: &str) -> anyhow::Result<NodeId> {
    NodeId::parse(text).map_err(|r| anyhow!("{what} {text:?}: {}", r.message))
}

/// `isthmus conformance run`.
pub fn run(options: RunOptions) -> anyhow::Result<ExitCode> {
    let role = parse_role(&options.role)?;
    let addr = address(&options.target, "--target")?;
    let network = NetworkDir::load(&options.network).with_context(|| {
        format!(
            "loading the network directory {} (make one with `isthmus keys init --conformance`)",
            options.network.display()
        )
    })?;
    let id = match &options.target_id {
        Some(id) => node_id(id, "--target-id")?,
        None => {
            let candidates = network.members(role.member_role());
            match candidates.as_slice() {
                [one] => one.node_id.clone(),
                [] => bail!("the membership has no {role}"),
                several => bail!(
                    "the membership has {} nodes of role {role} ({}): name the target with --target-id",
                    several.len(),
                    several.iter().map(|m| m.node_id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }
        }
    };
    let mut levels = Vec::new();
    for name in if options.levels.is_empty() {
        vec!["core".to_string()]
    } else {
        options.levels.clone()
    } {
        let level = Level::parse(&name)
            .ok_or_else(|| anyhow!("--level {name:?}: write core, settlement or recovery"))?;
        if !scenarios::all().iter().any(|s| s.level == level) {
            bail!("--level {name}: this version of the suite has no {name} scenarios yet; see conformance/README.md");
        }
        levels.push(level);
    }
    for id in &options.scenarios {
        if scenarios::find(id).is_none() {
            bail!("--scenario {id:?}: no such scenario (`isthmus conformance list` lists them)");
        }
    }
    let mut listen = Vec::new();
    for entry in &options.listen {
        let Some((id, at)) = entry.split_once('=') else {
            bail!("--listen {entry:?}: write ID=HOST:PORT, for example gw.xetr=127.0.0.1:7101");
        };
        listen.push((node_id(id, "--listen")?, address(at, "--listen")?));
    }
    let selection = Selection {
        levels,
        strict: options.strict,
        only: options.scenarios.clone(),
        unsupported: options.unsupported.clone(),
    };
    let harness_options = Options {
        answer_wait: Duration::from_millis(options.answer_wait_ms.max(1)),
        listen,
        vectors: Some(options.vectors.clone()),
        settlement_wait: Duration::from_millis(options.settlement_wait_ms.max(1)),
        quiet: Duration::from_millis(options.quiet_ms),
        delta_ms: options.delta_ms,
        restart_cmd: options.restart_cmd.clone(),
        instruct_cmd: options.instruct_cmd.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let harness = Harness::start(Target { addr, id, role }, network, harness_options).await?;
        let report = scenarios::run(&harness, &selection).await;
        for counterpart in &harness.counterparts {
            counterpart
                .endpoint
                .shutdown(Duration::from_millis(200))
                .await;
        }
        anyhow::Ok(report)
    })?;
    finish(&report, &options.files)
}
