//! Command-line interface: one subcommand per job (Hermes-style).

mod bench;
mod bench_dvp;
mod conformance;
mod demo;
mod gateway;
mod input;
mod keys;
mod ledger;
mod network;
pub mod output;
mod relay;
mod simulate;
mod spec;
mod translate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status when the input was checked and refused.
pub const EXIT_REJECTED: u8 = 1;
/// Exit status when the tool itself could not do its job (bad arguments, I/O).
pub const EXIT_TOOL_ERROR: u8 = 2;

/// Isthmus links securities markets: gateways translate each market's dialect
/// into ISM/1, relays settle cross-border trades atomically with hashed timelocks.
#[derive(Debug, Parser)]
#[command(name = "isthmus", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the end-to-end demonstration: a relay and two gateways on loopback
    /// (XSES in ISO 20022, XASX in MT54x) settling trades atomically, with
    /// every check; exit 1 if one fails.
    Demo {
        /// Settle N trades against payment instead of the story, with a
        /// progress bar, and print throughput and latency percentiles.
        #[arg(long, value_name = "N")]
        trades: Option<usize>,
        /// Keep the network's files (ledgers, stores, public certificates) in DIR.
        #[arg(long, value_name = "DIR")]
        keep: Option<std::path::PathBuf>,
    },
    /// Work with ISM/1 messages: validate, canonicalise, run the test vectors.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// The ISM/1 conformance suite: run the vectors, or the scenarios
    /// against any relay or gateway over QUIC (see conformance/README.md).
    /// Exit status: 0 every case chosen passed (or was declared
    /// unsupported), 1 some failed or were skipped, 2 the suite could not run.
    #[command(subcommand)]
    Conformance(ConformanceCommand),
    /// Manage node keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Run a gateway node (ISM-1 §8, §12.6) from a TOML configuration (see
    /// deploy/gateway-xetr.toml): its market's native ledger, the gateway
    /// engine and watcher, QUIC with mutual TLS to its relays and the other
    /// gateways, and the participant API on HTTP. Runs until SIGTERM or
    /// Ctrl-C, then drains and exits 0. Exit status 2 if the configuration
    /// is refused (the message names the option).
    Gateway {
        /// The configuration file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Check the configuration and exit.
        #[arg(long)]
        check: bool,
    },
    /// Run a relay node (ISM-1 §8, §12) from a TOML configuration (see
    /// deploy/relay.toml): QUIC with mutual TLS, a durable store, timers
    /// rebuilt on start. Runs until SIGTERM or Ctrl-C, then drains and
    /// exits 0. Exit status 2 if the configuration is refused (the message
    /// names the option).
    Relay {
        /// The configuration file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Check the configuration and exit.
        #[arg(long)]
        check: bool,
    },
    /// Translate one message between dialects: ISO 20022 XML, SWIFT MT54x, ISM/1.
    ///
    /// Writes the translated message to standard output. Fields the target
    /// dialect cannot carry are listed on standard error (or refused with
    /// --strict). A signed ISM/1 envelope is translated only once its
    /// signature verifies (--public-key), or with --unverified. Exit status:
    /// 0 translated, 1 refused (reason code, field and sentence on standard
    /// error), 2 the input could not be read or the arguments do not fit it.
    Translate {
        /// Dialect of the input.
        #[arg(long, value_enum)]
        from: DialectArg,
        /// Dialect of the output.
        #[arg(long, value_enum)]
        to: DialectArg,
        /// The input file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// With --to ism: wrap the body in an unsigned envelope from this node id.
        #[arg(long, requires = "receiver")]
        sender: Option<String>,
        /// With --to ism: the envelope's receiver node id.
        #[arg(long, requires = "sender")]
        receiver: Option<String>,
        /// Refuse (exit 1) instead of warning when a field cannot be carried.
        #[arg(long)]
        strict: bool,
        /// With --from ism: a public key record (as `isthmus keys generate`
        /// writes) to verify the envelope's signature with; repeat for several.
        /// The input must then be a signed envelope whose signature verifies.
        #[arg(long = "public-key", value_name = "FILE")]
        public_keys: Vec<PathBuf>,
        /// With --from ism: translate a signed envelope without verifying its
        /// signature (a warning says so on standard error).
        #[arg(long, conflicts_with = "public_keys")]
        unverified: bool,
    },
    /// Inspect a market ledger's data directory.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Measure performance (build with --release).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Settle many trades through the real relay and gateway engines over a
    /// simulated network, with faults, and check every invariant (ISM-1 §12).
    ///
    /// Everything comes from the seed. Exit status: 0 no invariant broke, 1
    /// some did (each printed with the seed that replays it and its trace).
    Simulate {
        /// The simulation's seed; each run's seed is derived from it.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Trades to settle.
        #[arg(long, default_value_t = 10_000)]
        settlements: u64,
        /// Which faults to inject.
        #[arg(long, value_enum, default_value = "all")]
        faults: simulate::FaultsArg,
        /// Trades per run: each run is an independent network.
        #[arg(long, default_value_t = simulate::DEFAULT_PER_RUN)]
        per_run: usize,
        /// Replay the one run with this seed (as a violation prints it), tracing it.
        #[arg(long, value_name = "RUN_SEED")]
        replay: Option<u64>,
        /// Also print the report as one JSON object on the last line.
        #[arg(long)]
        json: bool,
        /// Instead of random runs, explore every interleaving of one
        /// settlement of each kind, within fault budgets (issue 11 step 7).
        #[arg(long, value_enum, value_name = "BUDGET", conflicts_with = "replay")]
        exhaustive: Option<simulate::ExhaustiveArg>,
    },
}

/// A message dialect on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DialectArg {
    /// ISO 20022 XML (sese.023, sese.024, sese.025, semt.002).
    Iso20022,
    /// SWIFT MT540–MT548.
    Mt,
    /// ISM/1 JSON: an envelope, or `{"kind": …, "body": …}`.
    Ism,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Re-hash the journal chain and replay every operation; names the first
    /// bad entry. Exit status: 0 verified, 1 a problem was found.
    Verify {
        /// The ledger's data directory.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Holdings statement of one account: every asset, available and locked.
    Holdings {
        /// The ledger's data directory.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The account, written OWNER/ACCOUNT (owner is an LEI or a BIC).
        #[arg(long, value_name = "ID")]
        account: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Register of holders of one security.
    Register {
        /// The ledger's data directory.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The security's ISIN.
        #[arg(long)]
        isin: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Delivery versus payment through a relay and two gateways over real
    /// QUIC (durable stores and ledgers, fsync on): settlements/s and
    /// latency from instruction to both confirmations; `--baseline postgres`
    /// runs the same trades on PostgreSQL in the same run, side by side.
    Dvp {
        /// Trades to settle.
        #[arg(long, default_value_t = 1_000)]
        settlements: usize,
        /// Trades in flight at once (also the baselines' connections).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Also run the baselines: `postgres` (one serializable transaction
        /// per DvP on one database; two databases with two-phase commit),
        /// starting a throwaway cluster with deploy/postgres.sh if none answers.
        #[arg(long, value_name = "postgres")]
        baseline: Option<Baseline>,
        /// The PostgreSQL cluster's loopback port.
        #[arg(long, default_value_t = 55432)]
        pg_port: u16,
        /// Then run Isthmus again with trades arriving at half the peak
        /// rate it reached (an open loop, half as many trades) and report
        /// its latency there.
        #[arg(long)]
        half_load: bool,
        /// Also print the figures as one JSON object on the last line.
        #[arg(long)]
        json: bool,
    },
    /// Durable HTLC throughput and latency of the ledger on its segment-log journal: one operation at a time, in batches, and in pipelined batches.
    Ledger {
        /// Lock+claim pairs applied one durable operation at a time (at most 10 million).
        #[arg(long, default_value_t = 1_000)]
        single_pairs: u64,
        /// HTLC operations applied in durable batches (at most 100 million).
        #[arg(long, default_value_t = 400_000)]
        batched_ops: u64,
        /// Operations per batch (at most 10000).
        #[arg(long, default_value_t = 2_000)]
        batch_size: u64,
        /// Directory for the benchmark's ledger (default: a fresh temporary
        /// directory, removed at the end and on Ctrl-C or SIGTERM, exit status 130).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Also print the figures as one JSON object on the last line.
        #[arg(long)]
        json: bool,
    },
}

/// A baseline of `bench dvp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Baseline {
    /// PostgreSQL, one database and two with two-phase commit.
    Postgres,
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Check one ISM/1 message; prints OK, or the reason code and a sentence.
    ///
    /// Exit status: 0 valid, 1 refused, 2 the file could not be read.
    Validate {
        /// The message file, or `-` for standard input.
        file: PathBuf,
        /// A public key record (as `isthmus keys generate` writes) to verify the
        /// signature with; repeat for several. Without one the signature's form
        /// is checked but it is not verified.
        #[arg(long = "public-key", value_name = "FILE")]
        public_keys: Vec<PathBuf>,
        /// Print one JSON object instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Write the RFC 8785 canonical bytes of any JSON document to standard output.
    Canonicalize {
        /// The JSON file, or `-` for standard input.
        file: PathBuf,
    },
    /// Sign an ISM/1 message with a signing key; writes the signed message's
    /// canonical bytes to standard output.
    Sign {
        /// The message file (any existing signature is replaced), or `-` for standard input.
        file: PathBuf,
        /// The PKCS#8 PEM signing key (as `isthmus keys generate` writes it).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Run every test vector in a directory (default: the vectors shipped with Isthmus).
    Vectors {
        /// The directory holding keys.json, valid/ and invalid/.
        #[arg(long, value_name = "DIR", default_value = "specs/vectors")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ConformanceCommand {
    /// Run every vector of a directory (ISM-1 §10): parsing, canonical
    /// form, signatures and reason codes, one case per vector.
    Vectors {
        /// The directory holding keys.json, valid/, invalid/, jcs/ and membership/.
        #[arg(long, value_name = "DIR", default_value = "specs/vectors")]
        dir: PathBuf,
        /// Where the reports go.
        #[command(flatten)]
        files: conformance::ReportFiles,
    },
    /// Run the scenarios against a node over QUIC with mutual TLS: the suite
    /// plays its counterparts (two gateways against a relay; the relay and
    /// the other gateway against a gateway) from the network directory.
    Run(Box<conformance::RunOptions>),
    /// Requirements coverage: every MUST and SHOULD sentence of
    /// specs/ISM-1.md with its stable id (specs/requirements/*.toml) and the
    /// vectors, scenarios and tests that check it; lists the uncovered ones
    /// and exits 1 if a MUST has no check and no reason it cannot have one.
    Coverage {
        /// The repository checkout to read (spec, registry, vectors, tests).
        #[arg(long, value_name = "DIR", default_value = ".")]
        root: PathBuf,
        /// Also list every requirement with its checks.
        #[arg(long)]
        all: bool,
        /// Print registry entries for the sentences not registered yet.
        #[arg(long, conflicts_with = "json")]
        skeleton: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List the scenarios: id, level, MUST or SHOULD, roles, what each checks, its clause.
    List {
        /// Only those for this role.
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate an Ed25519 message-signing key: DIR/signing.key (PKCS#8 PEM,
    /// mode 0600) and DIR/signing.pub.json (the public key record to publish).
    Generate {
        /// Directory to write into; created if missing.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Replace existing key files instead of refusing.
        #[arg(long)]
        force: bool,
    },
    /// Create a development network in DIR: a CA, each node's TLS
    /// certificate (its node id as subjectAltName) and key, each node's
    /// signing key, and the membership file (ISM-1 §8.1). Private keys are
    /// mode 0600; nothing is overwritten without --force. By default: one
    /// relay, two gateways (XETR and XASX) and one observer.
    Init {
        /// Directory to write the network into; created if missing.
        #[arg(long, value_name = "DIR")]
        network: PathBuf,
        /// The network's name, for people.
        #[arg(long, default_value = "isthmus-dev")]
        name: String,
        /// A relay's node id (repeat for more).
        #[arg(long = "relay", value_name = "ID", default_values_t = network::DEFAULT_RELAYS.iter().map(|s| s.to_string()))]
        relays: Vec<String>,
        /// A gateway as ID=MIC (repeat for more), e.g. gw.xetr=XETR.
        #[arg(long = "gateway", value_name = "ID=MIC", default_values_t = network::DEFAULT_GATEWAYS.iter().map(|s| s.to_string()))]
        gateways: Vec<String>,
        /// An observer's node id (repeat for more).
        #[arg(long = "observer", value_name = "ID", default_values_t = network::DEFAULT_OBSERVERS.iter().map(|s| s.to_string()))]
        observers: Vec<String>,
        /// Replace an existing network's files instead of refusing.
        #[arg(long)]
        force: bool,
        /// Also write what the conformance suite needs and no member has:
        /// DIR/conformance/stranger (a certificate of this CA for a node
        /// that is no member) and DIR/conformance/foreign (another CA's).
        #[arg(long)]
        conformance: bool,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo { trades, keep } => demo::run(trades, keep),
        Command::Spec(SpecCommand::Validate {
            file,
            public_keys,
            json,
        }) => spec::validate(&file, &public_keys, json),
        Command::Spec(SpecCommand::Canonicalize { file }) => spec::canonicalize(&file),
        Command::Spec(SpecCommand::Sign { file, key }) => spec::sign(&file, &key),
        Command::Spec(SpecCommand::Vectors { dir }) => conformance::spec_vectors(&dir),
        Command::Conformance(ConformanceCommand::Vectors { dir, files }) => {
            conformance::vectors(&dir, &files)
        }
        Command::Conformance(ConformanceCommand::List { role, json }) => {
            conformance::list(role.as_deref(), json)
        }
        Command::Conformance(ConformanceCommand::Run(options)) => conformance::run(*options),
        Command::Conformance(ConformanceCommand::Coverage {
            root,
            all,
            skeleton,
            json,
        }) => conformance::coverage(&root, all, skeleton, json),
        Command::Keys(KeysCommand::Generate { out, force }) => keys::generate(&out, force),
        Command::Relay { config, check } => relay::run(&config, check),
        Command::Gateway { config, check } => gateway::run(&config, check),
        Command::Keys(KeysCommand::Init {
            network,
            name,
            relays,
            gateways,
            observers,
            force,
            conformance,
        }) => network::init(&network::InitOptions {
            dir: network,
            name,
            relays,
            gateways,
            observers,
            force,
            conformance,
        }),
        Command::Translate {
            from,
            to,
            file,
            sender,
            receiver,
            strict,
            public_keys,
            unverified,
        } => translate::run(translate::Options {
            from,
            to,
            file,
            sender,
            receiver,
            strict,
            public_keys,
            unverified,
        }),
        Command::Ledger(LedgerCommand::Verify { data, json }) => ledger::verify(&data, json),
        Command::Ledger(LedgerCommand::Holdings {
            data,
            account,
            json,
        }) => ledger::holdings(&data, &account, json),
        Command::Ledger(LedgerCommand::Register { data, isin, json }) => {
            ledger::register(&data, &isin, json)
        }
        Command::Simulate {
            json,
            exhaustive: Some(budget),
            ..
        } => simulate::run_exhaustive(budget, json),
        Command::Simulate {
            seed,
            settlements,
            faults,
            per_run,
            replay,
            json,
            exhaustive: None,
        } => simulate::run(simulate::SimulateOptions {
            seed,
            settlements,
            per_run: per_run.max(1),
            faults,
            replay,
            json,
        }),
        Command::Bench(BenchCommand::Dvp {
            settlements,
            concurrency,
            baseline,
            pg_port,
            half_load,
            json,
        }) => bench_dvp::run(bench_dvp::DvpBench {
            settlements,
            concurrency,
            postgres: baseline == Some(Baseline::Postgres),
            pg_port,
            half_load,
            json,
        }),
        Command::Bench(BenchCommand::Ledger {
            single_pairs,
            batched_ops,
            batch_size,
            data,
            json,
        }) => bench::ledger(bench::LedgerBench {
            single_pairs,
            batched_ops,
            batch_size,
            data,
            json,
        }),
    }
}
