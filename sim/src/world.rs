//! One simulated network: a relay or two, a gateway per market with its
//! in-memory ledger, a network that delays, loses, duplicates and reorders,
//! nodes that crash and restart from what they persisted, and clocks that
//! disagree within the bound. Everything comes from one seed.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use isthmus_adapters::ledger_side::{LedgerCommand, LedgerDone, LedgerSide};
use isthmus_adapters::NativeLedger;
use isthmus_gateway::{Gateway, GatewayConfig, GatewayTimer};
use isthmus_ledger::{Asset, Ledger, Operation};
use isthmus_relay::{Phase, Relay, RelayConfig, RelayTimer};
use isthmus_spec::body::{Body, Leg};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{NodeId, Reference};
use isthmus_spec::protocol::{Inbound, Outbound, Timing};
use isthmus_store::clock::ManualClock;
use isthmus_store::log::MemoryLogFiles;

use crate::report::{Invariant, Report, Violation};
use crate::rng::SimRng;
use crate::workload::{self, Trade, TradeKind};

/// Which faults a run injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Faults {
    /// Delay, loss, duplication and (through delay) reordering.
    pub network: bool,
    /// Node crashes and restarts.
    pub crash: bool,
}

/// A deliberately broken engine, to show the simulator catches it (issue 11
/// step 6). Only with the `broken-variants` feature.
#[cfg(feature = "broken-variants")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Broken {
    /// The relay reveals p once one leg is locked.
    RevealBeforeBothLocks,
    /// The relay ignores Δ (T2 just after T1, no reveal margin) and the gateways do not check it.
    IgnoreDelta,
    /// The gateways keep their legs (locks, claims, the secret) in memory only and forget them on restart.
    ForgetsUnpersisted,
    /// The relay and the gateways send (and order their ledgers) before persisting.
    SendsBeforePersisting,
    /// The gateways' watchers never refund.
    WatcherNeverRefunds,
    /// The gateways lock with another participant's account as beneficiary.
    CreditsWrongAccount,
}

#[cfg(feature = "broken-variants")]
impl Broken {
    /// Every variant.
    pub const ALL: [Broken; 6] = [
        Broken::RevealBeforeBothLocks,
        Broken::IgnoreDelta,
        Broken::ForgetsUnpersisted,
        Broken::SendsBeforePersisting,
        Broken::WatcherNeverRefunds,
        Broken::CreditsWrongAccount,
    ];

    pub(crate) fn relay(self) -> Option<isthmus_relay::RelayBroken> {
        match self {
            Broken::RevealBeforeBothLocks => {
                Some(isthmus_relay::RelayBroken::RevealBeforeBothLocks)
            }
            Broken::IgnoreDelta => Some(isthmus_relay::RelayBroken::IgnoreDelta),
            Broken::SendsBeforePersisting => {
                Some(isthmus_relay::RelayBroken::SendsBeforePersisting)
            }
            _ => None,
        }
    }

    pub(crate) fn gateway(self) -> Option<isthmus_gateway::GatewayBroken> {
        use isthmus_gateway::GatewayBroken as G;
        match self {
            Broken::IgnoreDelta => Some(G::IgnoreDelta),
            Broken::ForgetsUnpersisted => Some(G::LegsInMemoryOnly),
            Broken::SendsBeforePersisting => Some(G::SendsBeforePersisting),
            Broken::WatcherNeverRefunds => Some(G::WatcherNeverRefunds),
            Broken::CreditsWrongAccount => Some(G::CreditsWrongAccount),
            Broken::RevealBeforeBothLocks => None,
        }
    }
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The seed everything comes from.
    pub seed: u64,
    /// Trades to submit.
    pub trades: usize,
    /// Relays (each trade goes to one).
    pub relays: usize,
    /// The faults.
    pub faults: Faults,
    /// The network's timing.
    pub timing: Timing,
    /// Longest one-way network delay, milliseconds.
    pub max_delay_ms: u64,
    /// Percent of messages lost while faults are on.
    pub loss_percent: u64,
    /// Percent of messages duplicated while faults are on.
    pub duplicate_percent: u64,
    /// Longest a crashed node stays down, milliseconds.
    pub max_downtime_ms: u64,
    /// Mean time between a node's crashes while faults are on, milliseconds.
    pub mean_crash_interval_ms: u64,
    /// Milliseconds between submitted trades.
    pub submit_interval_ms: u64,
    /// Chance, per thousand, that a node crashes between two of its outputs
    /// (after a write and before the sends it releases, say) while faults are on.
    pub step_crash_per_mille: u64,
    /// Long relay outages while faults are on (ISM-1 §12.10 with a relay
    /// gone longer than the lock window): see [`RelayOutages`].
    pub relay_outages: RelayOutages,
    /// A broken variant, for the simulator's own tests.
    #[cfg(feature = "broken-variants")]
    pub broken: Option<Broken>,
}

/// Long outages of a relay, never of a gateway: a gateway out for long
/// after a claim breaks assumption A3 of ISM-1 §12.1, which is the
/// network's promise, not the protocol's, while the relay may be gone for
/// any time (§12.7 rule 3). In an outage the relay **dies** (messages to
/// it are lost; it restarts from its store) or **freezes** (a stalled
/// process: it handles nothing, messages to it and its timers wait, and on
/// waking it takes them in the order they came, so the messages it was sent
/// before a timer fell due come before that timer). Outages come three ways:
///
/// - scheduled, at random times through the faults, dead or frozen, for
///   between `min_ms` and `max_ms`;
/// - just after the relay persists a settlement's `REVEALING` and before
///   the ClaimRequest that write releases goes out: dead, for between
///   `min_ms` and `max_ms` (so the first leg's claim window may pass);
/// - just after a settlement's first claim (against payment): dead until
///   after the second leg's expiry, so that only the hand-over of §12.7
///   can carry p to the other gateway.
///
/// No outage lasts past the end of the faults: the relay is back by then,
/// as §12.10 item 3 supposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayOutages {
    /// Whether there are any.
    pub on: bool,
    /// Mean time between a relay's scheduled outages, milliseconds.
    pub mean_interval_ms: u64,
    /// Shortest scheduled outage, milliseconds.
    pub min_ms: u64,
    /// Longest scheduled outage, milliseconds.
    pub max_ms: u64,
    /// Percent of scheduled outages in which the relay freezes rather than dies.
    pub freeze_percent: u64,
    /// Chance, per thousand, that the relay dies just after persisting a
    /// settlement's `REVEALING`, before the ClaimRequest goes out.
    pub after_reveal_write_per_mille: u64,
    /// Chance, per thousand, that a settlement's first claim (against
    /// payment) makes its relay die until after the second leg's expiry.
    pub after_first_claim_per_mille: u64,
}

impl RelayOutages {
    /// For `timing`: scheduled ones every 30 s per relay on average, half
    /// of them frozen, from the lock window L to L past the securities
    /// expiry E2; and one reveal write and one first claim in a thousand
    /// followed by the relay's death. Off unless `on`.
    pub fn for_timing(timing: &Timing, on: bool) -> RelayOutages {
        RelayOutages {
            on,
            mean_interval_ms: 30_000,
            min_ms: timing.lock_window_ms,
            max_ms: timing.securities_expiry_ms + timing.lock_window_ms,
            freeze_percent: 50,
            after_reveal_write_per_mille: 1,
            after_first_claim_per_mille: 1,
        }
    }
}

/// Fault settings carried by a run seed's low 16 bits, so that a run with
/// drawn faults (`isthmus simulate --faults random`, the property test) is
/// replayed from its seed alone: bit 0 network faults, bit 1 crashes, bit 2
/// relay outages, bit 3 two relays instead of one, bits 4–7 the loss
/// percentage and bits 8–11 the duplication percentage (0–15 each); bits
/// 12–15 are not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedFaults {
    /// Delay, loss, duplication and reordering.
    pub network: bool,
    /// Node crashes.
    pub crash: bool,
    /// Long relay outages.
    pub relay_outages: bool,
    /// Two relays, trades split between them.
    pub two_relays: bool,
    /// Percent of messages lost, at most 15.
    pub loss_percent: u64,
    /// Percent of messages duplicated, at most 15.
    pub duplicate_percent: u64,
}

impl SeedFaults {
    /// The bits of a seed that carry the settings.
    pub const BITS: u32 = 16;

    /// The settings `seed` carries.
    pub fn of_seed(seed: u64) -> SeedFaults {
        SeedFaults {
            network: seed & 1 != 0,
            crash: seed & 2 != 0,
            relay_outages: seed & 4 != 0,
            two_relays: seed & 8 != 0,
            loss_percent: (seed >> 4) & 0xF,
            duplicate_percent: (seed >> 8) & 0xF,
        }
    }

    /// A seed that carries these settings, its other bits from `high`.
    pub fn seed(self, high: u64) -> u64 {
        (high << Self::BITS)
            | u64::from(self.network)
            | u64::from(self.crash) << 1
            | u64::from(self.relay_outages) << 2
            | u64::from(self.two_relays) << 3
            | self.loss_percent.min(15) << 4
            | self.duplicate_percent.min(15) << 8
    }
}

impl RunConfig {
    /// The default network for `seed`: Δ = 2.1 s, locks within 3 s, 5% loss
    /// and duplication, crashes every 4 s per node on average, down at most
    /// 0.4 s, and with crashes the relays' long outages of [`RelayOutages`].
    pub fn new(seed: u64, trades: usize, faults: Faults) -> RunConfig {
        RunConfig {
            seed,
            trades,
            relays: 1,
            faults,
            timing: default_timing(),
            max_delay_ms: 40,
            loss_percent: 5,
            duplicate_percent: 5,
            max_downtime_ms: 400,
            mean_crash_interval_ms: 4_000,
            submit_interval_ms: 20,
            step_crash_per_mille: 1,
            relay_outages: RelayOutages::for_timing(&default_timing(), faults.crash),
            #[cfg(feature = "broken-variants")]
            broken: None,
        }
    }

    /// The run `seed` describes with the faults its low bits carry
    /// ([`SeedFaults`]): what `--faults random` runs and replays.
    pub fn from_seed(seed: u64, trades: usize) -> RunConfig {
        let drawn = SeedFaults::of_seed(seed);
        let mut config = RunConfig::new(
            seed,
            trades,
            Faults {
                network: drawn.network,
                crash: drawn.crash,
            },
        );
        config.relays = if drawn.two_relays { 2 } else { 1 };
        config.loss_percent = drawn.loss_percent;
        config.duplicate_percent = drawn.duplicate_percent;
        config.relay_outages.on = drawn.relay_outages;
        config
    }
}

/// The shortest time a node stays up after a restart before it may crash
/// between two outputs again.
pub const MIN_UPTIME_MS: u64 = 1_000;

/// The simulator's network timing (ISM-1 §12.1): C = 2 s, K = 100 ms.
pub fn default_timing() -> Timing {
    Timing {
        claim_window_ms: 2_000,
        max_clock_skew_ms: 100,
        matching_window_ms: 4_000,
        lock_window_ms: 3_000,
        reveal_margin_ms: 2_100,
        cash_expiry_ms: 5_200,
        securities_expiry_ms: 7_400,
        retransmit_ms: 150,
    }
}

/// Runs `trades` trades as runs of `per_run` on `threads` threads, each run
/// as `config(run_seed, trades_in_run)` describes it, and adds up their
/// reports ([`crate::simulate`] with the same [`Faults`] for every run is
/// this with [`RunConfig::new`]). `progress` is called after each run with
/// the runs done.
pub fn simulate_with(
    seed: u64,
    trades: u64,
    per_run: usize,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    config: &(dyn Fn(u64, usize) -> RunConfig + Sync),
) -> Report {
    let per_run = per_run.max(1) as u64;
    let runs = trades.div_ceil(per_run);
    let next = std::sync::atomic::AtomicU64::new(0);
    let done = std::sync::atomic::AtomicU64::new(0);
    let total = std::sync::Mutex::new(Report::default());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if index >= runs {
                    return;
                }
                let count = per_run.min(trades - index * per_run) as usize;
                let report = crate::run_one(config(crate::run_seed(seed, index), count));
                if let Ok(mut total) = total.lock() {
                    total.add(report);
                }
                progress(done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1);
            });
        }
    });
    total
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

enum Engine {
    Relay(Box<Relay>),
    Gateway(Box<Gateway>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TimerKey {
    Relay(RelayTimer),
    Gateway(GatewayTimer),
}

enum StoreRecord {
    Relay(isthmus_relay::Record),
    Gateway(isthmus_gateway::Record),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum StoreKey {
    Relay(isthmus_relay::RecordKey),
    Gateway(isthmus_gateway::RecordKey),
}

struct Node {
    id: NodeId,
    /// Local clock = global + offset.
    offset_ms: i64,
    engine: Option<Engine>,
    store: BTreeMap<StoreKey, StoreRecord>,
    timers: HashMap<TimerKey, u64>,
    next_timer_generation: u64,
    rng: SimRng,
    /// The market and ledger of a gateway.
    ledger: Option<usize>,
    crashes: u64,
    /// When it last restarted, global milliseconds.
    restarted_at_ms: u64,
    /// A relay frozen by a long outage: until when, global milliseconds.
    frozen_until_ms: Option<u64>,
}

struct MarketLedger {
    market: Mic,
    side: NativeLedger<MemoryLogFiles>,
    clock: ManualClock,
    offset_ms: i64,
}

#[allow(clippy::large_enum_variant)] // events are moved in and out of the queue, never copied
enum Event {
    Deliver {
        to: usize,
        message: Inbound,
    },
    Timer {
        node: usize,
        key: TimerKey,
        generation: u64,
    },
    Submit {
        node: usize,
        trade: usize,
        deliver: bool,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
    /// A relay's scheduled long outage begins.
    Outage {
        node: usize,
    },
    /// A frozen relay wakes.
    Thaw {
        node: usize,
    },
}

/// What the simulator knows of a settlement's legs on the ledgers.
#[derive(Debug, Default, Clone)]
struct LegsSeen {
    trade: Option<usize>,
    locked: Vec<Leg>,
    claimed: Vec<Leg>,
    refunded: Vec<Leg>,
    last_change_ms: u64,
    /// A leg was claimed by a gateway no ClaimRequest had reached: it had p
    /// from the other gateway's ClaimReceipt (ISM-1 §12.7).
    handed_over: bool,
    /// ... and the settlement's relay was out (dead or frozen) then.
    handed_over_relay_out: bool,
}

/// One network, run to the end.
pub struct World {
    config: RunConfig,
    now_ms: u64,
    sequence: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: HashMap<u64, Event>,
    nodes: Vec<Node>,
    ledgers: Vec<MarketLedger>,
    trades: Vec<Trade>,
    rng: SimRng,
    /// Faults stop at this global time.
    faults_until_ms: u64,
    handled: HashSet<u64>,
    legs: HashMap<Reference, LegsSeen>,
    /// Final words each instruction's participant got, by instruction id.
    final_words: HashMap<Reference, u64>,
    relay_nodes: Vec<usize>,
    gateway_of_market: BTreeMap<Mic, usize>,
    report: Report,
    /// Every event, when tracing (a replay of a failing seed).
    trace: Option<Vec<String>>,
    /// What each proposal sent named, by relay and settlement id: one settlement per id.
    proposed: HashMap<(usize, Reference), (Reference, Reference, isthmus_spec::ids::Hashlock)>,
    /// The long relay outages' own randomness, so that they shift nothing
    /// else a run draws until one happens.
    outage_rng: SimRng,
    /// The (gateway, settlement) pairs a relay's ClaimRequest reached.
    claim_requests_delivered: HashSet<(usize, Reference)>,
}

fn node_id(text: &str) -> NodeId {
    match NodeId::parse(text) {
        Ok(id) => id,
        Err(error) => unreachable!("{text} is a node id: {error}"),
    }
}

fn mic(text: &str) -> Mic {
    match Mic::parse(text) {
        Ok(mic) => mic,
        Err(error) => unreachable!("{text} is a MIC: {error}"),
    }
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

impl World {
    /// Builds the network, its ledgers (accounts opened and funded) and its trades.
    pub fn new(config: RunConfig) -> Result<World, String> {
        let mut rng = SimRng::new(config.seed);
        let skew = config.timing.max_clock_skew_ms as i64;
        let offset = |rng: &mut SimRng| rng.below(skew as u64 + 1) as i64 - skew / 2;
        let markets = [mic(workload::SECURITIES_MARKET), mic(workload::CASH_MARKET)];
        let mut ledgers = Vec::new();
        for market in &markets {
            let clock = ManualClock::new(0);
            let ledger = Ledger::open(MemoryLogFiles::default(), Box::new(clock.clone()))
                .map_err(|e| format!("the simulator's ledger of {market} would not open: {e}"))?;
            ledgers.push(MarketLedger {
                market: market.clone(),
                side: NativeLedger::new(market.clone(), ledger),
                clock,
                offset_ms: offset(&mut rng),
            });
        }
        fund(&mut ledgers)?;
        let gateway_ids = [node_id("gw.xnys"), node_id("gw.xasx")];
        let relay_ids: Vec<NodeId> = (0..config.relays.max(1))
            .map(|r| node_id(&format!("relay-{r}.custodian")))
            .collect();
        let gateways: BTreeMap<Mic, NodeId> = markets
            .iter()
            .cloned()
            .zip(gateway_ids.iter().cloned())
            .collect();
        let mut nodes = Vec::new();
        let mut relay_nodes = Vec::new();
        for (r, id) in relay_ids.iter().enumerate() {
            let relay_config = RelayConfig {
                node: id.clone(),
                gateways: gateways.clone(),
                timing: config.timing,
                settlement_prefix: format!("STL{r}"),
            };
            relay_config.check().map_err(|e| e.to_string())?;
            relay_nodes.push(nodes.len());
            nodes.push(Node {
                id: id.clone(),
                offset_ms: offset(&mut rng),
                engine: Some(Engine::Relay(Box::new(new_relay(
                    &config,
                    Relay::new(relay_config),
                )))),
                store: BTreeMap::new(),
                timers: HashMap::new(),
                next_timer_generation: 0,
                rng: rng.fork(),
                ledger: None,
                crashes: 0,
                restarted_at_ms: 0,
                frozen_until_ms: None,
            });
        }
        let mut gateway_of_market = BTreeMap::new();
        for (market, id) in &gateways {
            let index = ledgers
                .iter()
                .position(|l| &l.market == market)
                .unwrap_or(0);
            let gateway_config = gateway_config(&config, id, market, &relay_ids, &gateways);
            gateway_config.check().map_err(|e| e.to_string())?;
            gateway_of_market.insert(market.clone(), nodes.len());
            nodes.push(Node {
                id: id.clone(),
                offset_ms: offset(&mut rng),
                engine: Some(Engine::Gateway(Box::new(new_gateway(
                    &config,
                    Gateway::new(gateway_config),
                )))),
                store: BTreeMap::new(),
                timers: HashMap::new(),
                next_timer_generation: 0,
                rng: rng.fork(),
                ledger: Some(index),
                crashes: 0,
                restarted_at_ms: 0,
                frozen_until_ms: None,
            });
        }
        let mut trade_rng = rng.fork();
        let trades = workload::trades(
            config.seed,
            config.trades,
            config.relays.max(1),
            &mut trade_rng,
        );
        // Faults last from the start through the last submission and the
        // lives of its settlements; then the network heals (liveness, §12.10).
        let faults_until_ms = 1_000
            + config.trades as u64 * config.submit_interval_ms
            + config.timing.securities_expiry_ms;
        let config_seed = config.seed;
        let mut world = World {
            config,
            now_ms: 1_000,
            sequence: 0,
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            nodes,
            ledgers,
            trades,
            rng,
            faults_until_ms,
            handled: HashSet::new(),
            legs: HashMap::new(),
            final_words: HashMap::new(),
            relay_nodes,
            gateway_of_market,
            report: Report {
                runs: 1,
                ..Report::default()
            },
            trace: None,
            proposed: HashMap::new(),
            outage_rng: SimRng::new(config_seed ^ 0x6F75_7461_6765_7321),
            claim_requests_delivered: HashSet::new(),
        };
        world.schedule_work();
        Ok(world)
    }

    fn schedule_work(&mut self) {
        let seller_gateway = self.gateway_of_market[&mic(workload::SECURITIES_MARKET)];
        let buyer_gateway = self.gateway_of_market[&mic(workload::CASH_MARKET)];
        for index in 0..self.trades.len() {
            let at = 1_000 + index as u64 * self.config.submit_interval_ms;
            self.push(
                at,
                Event::Submit {
                    node: seller_gateway,
                    trade: index,
                    deliver: true,
                },
            );
            if self.trades[index].receive.is_some() {
                let later = at + self.rng.below(self.config.submit_interval_ms * 5 + 1);
                self.push(
                    later,
                    Event::Submit {
                        node: buyer_gateway,
                        trade: index,
                        deliver: false,
                    },
                );
            }
        }
        if self.config.faults.crash {
            for node in 0..self.nodes.len() {
                let at = 1_000 + self.rng.below(self.config.mean_crash_interval_ms * 2);
                if at < self.faults_until_ms {
                    self.push(at, Event::Crash { node });
                }
            }
        }
        if self.config.relay_outages.on {
            for node in self.relay_nodes.clone() {
                self.schedule_outage(node, 1_000);
            }
        }
        self.report.trades = self.trades.len() as u64;
    }

    /// Records every send, delivery, ledger command and crash, for [`World::trace_of`].
    pub fn with_trace(mut self) -> World {
        self.trace = Some(Vec::new());
        self
    }

    fn note(&mut self, line: String) {
        let now = self.now_ms;
        if let Some(trace) = &mut self.trace {
            trace.push(format!("{now:>8} ms  {line}"));
        }
    }

    /// Runs to the end and returns the report and the trace lines that name
    /// `needle` (a settlement id or an instruction id), or every line if it is empty.
    pub fn run_traced(self, needle: &str) -> (Report, Vec<String>) {
        let mut world = self.with_trace();
        world.run_inner();
        let lines = world
            .trace
            .take()
            .unwrap_or_default()
            .into_iter()
            .filter(|line| needle.is_empty() || line.contains(needle))
            .collect();
        (world.finish(), lines)
    }

    fn push(&mut self, at_ms: u64, event: Event) {
        let sequence = self.sequence;
        self.sequence += 1;
        self.events.insert(sequence, event);
        self.queue.push(Reverse((at_ms, sequence)));
    }

    fn faults_on(&self) -> bool {
        self.now_ms < self.faults_until_ms
    }

    fn local_now(&self, node: usize) -> u64 {
        (self.now_ms as i64 + self.nodes[node].offset_ms).max(0) as u64
    }

    /// Runs until nothing is left to happen (or a generous time limit), then
    /// checks the end state. Returns the run's report.
    pub fn run(mut self) -> Report {
        self.run_inner();
        self.finish()
    }

    fn run_inner(&mut self) {
        let limit_ms = self.faults_until_ms + 60_000 + self.config.timing.securities_expiry_ms * 4;
        while let Some(Reverse((at_ms, sequence))) = self.queue.pop() {
            if at_ms > limit_ms {
                break;
            }
            self.now_ms = self.now_ms.max(at_ms);
            let Some(event) = self.events.remove(&sequence) else {
                continue;
            };
            self.step(event);
        }
    }

    fn finish(mut self) -> Report {
        self.check_end();
        self.report.simulated_ms = self.now_ms;
        self.report
    }

    fn step(&mut self, event: Event) {
        match event {
            Event::Submit {
                node,
                trade,
                deliver,
            } => {
                let trade_index = trade;
                let trade = &self.trades[trade];
                let instruction = if deliver {
                    Some(trade.deliver.clone())
                } else {
                    trade.receive.clone()
                };
                let relay = self.nodes[self.relay_nodes[trade.relay % self.relay_nodes.len()]]
                    .id
                    .clone();
                if let Some(instruction) = instruction {
                    // A participant retries until its gateway is up: the API is not the subject here.
                    if self.nodes[node].engine.is_none() {
                        let at = self.now_ms + self.config.timing.retransmit_ms;
                        return self.push(
                            at,
                            Event::Submit {
                                node,
                                trade: trade.index,
                                deliver,
                            },
                        );
                    }
                    let key = StoreKey::Gateway(isthmus_gateway::RecordKey::Instruction(
                        instruction.instruction_id.clone(),
                    ));
                    self.input_gateway(node, isthmus_gateway::Input::Submit { instruction, relay });
                    // The participant API acknowledges a submission once it is
                    // persisted; a crash before that makes the participant retry.
                    if !self.nodes[node].store.contains_key(&key) {
                        let at = self.now_ms + self.config.timing.retransmit_ms;
                        self.push(
                            at,
                            Event::Submit {
                                node,
                                trade: trade_index,
                                deliver,
                            },
                        );
                    }
                }
            }
            Event::Deliver { to, message } => {
                if let Some(until) = self.nodes[to].frozen_until_ms {
                    if self.trace.is_some() {
                        let line = format!(
                            "{} holds {} {} from {}{} (frozen: relay outage)",
                            self.nodes[to].id,
                            message.body.kind(),
                            message.id,
                            message.sender,
                            describe(&message.body),
                        );
                        self.note(line);
                    }
                    return self.push(until, Event::Deliver { to, message });
                }
                if self.trace.is_some() {
                    let line = format!(
                        "{} gets {} {} from {}{}{}",
                        self.nodes[to].id,
                        message.body.kind(),
                        message.id,
                        message.sender,
                        describe(&message.body),
                        if self.nodes[to].engine.is_none() {
                            " (down: lost)"
                        } else {
                            ""
                        }
                    );
                    self.note(line);
                }
                if self.nodes[to].engine.is_none() {
                    return; // down: lost
                }
                if let Body::ClaimRequest(request) = &message.body {
                    self.claim_requests_delivered
                        .insert((to, request.settlement_id.clone()));
                }
                match self.nodes[to].engine {
                    Some(Engine::Relay(_)) => {
                        self.input_relay(to, isthmus_relay::Input::Message(message))
                    }
                    Some(Engine::Gateway(_)) => {
                        self.input_gateway(to, isthmus_gateway::Input::Message(message))
                    }
                    None => {}
                }
            }
            Event::Timer {
                node,
                key,
                generation,
            } => {
                if let Some(until) = self.nodes[node].frozen_until_ms {
                    return self.push(
                        until,
                        Event::Timer {
                            node,
                            key,
                            generation,
                        },
                    );
                }
                if self.nodes[node].timers.get(&key) != Some(&generation)
                    || self.nodes[node].engine.is_none()
                {
                    return;
                }
                self.nodes[node].timers.remove(&key);
                match key {
                    TimerKey::Relay(timer) => {
                        self.input_relay(node, isthmus_relay::Input::Timer(timer))
                    }
                    TimerKey::Gateway(timer) => {
                        self.input_gateway(node, isthmus_gateway::Input::Timer(timer))
                    }
                }
            }
            Event::Crash { node } => {
                if let Some(until) = self.nodes[node].frozen_until_ms {
                    // A frozen relay crashes once it is up again, not while it takes its backlog.
                    return self.push(until + MIN_UPTIME_MS, Event::Crash { node });
                }
                if self.nodes[node].engine.is_some() && self.faults_on() {
                    self.crash(node);
                }
            }
            Event::Restart { node } => self.restart(node),
            Event::Outage { node } => {
                let outages = self.config.relay_outages;
                let until = self.now_ms + self.outage_rng.between(outages.min_ms, outages.max_ms);
                let until = if self.outage_rng.percent(outages.freeze_percent) {
                    self.freeze(node, until)
                } else {
                    self.die(node, until, "")
                };
                self.schedule_outage(node, until.unwrap_or(self.now_ms));
            }
            Event::Thaw { node } => {
                if self.trace.is_some() {
                    let line = format!(
                        "{} wakes and takes what it held (relay outage)",
                        self.nodes[node].id
                    );
                    self.note(line);
                }
                self.nodes[node].frozen_until_ms = None;
                // As after a restart, no crash between outputs for a while:
                // the relay takes the backlog it held first.
                self.nodes[node].restarted_at_ms = self.now_ms;
            }
        }
    }

    /// The next scheduled long outage of relay `node`, some time after `after_ms`.
    fn schedule_outage(&mut self, node: usize, after_ms: u64) {
        let mean = self.config.relay_outages.mean_interval_ms.max(1);
        let at = after_ms + self.outage_rng.below(mean * 2);
        if at < self.faults_until_ms {
            self.push(at, Event::Outage { node });
        }
    }

    /// Whether `node` is up and neither crashed nor frozen, while faults are on:
    /// only then does a long outage begin.
    fn may_go_out(&self, node: usize) -> bool {
        self.faults_on()
            && self.nodes[node].engine.is_some()
            && self.nodes[node].frozen_until_ms.is_none()
    }

    /// The outage's end: `until_ms`, but never past the end of the faults.
    fn outage_end(&self, until_ms: u64) -> u64 {
        until_ms.min(self.faults_until_ms)
    }

    /// Relay `node` freezes until `until_ms` (at most the end of the faults).
    /// Returns when it wakes, or `None` if it was not running.
    fn freeze(&mut self, node: usize, until_ms: u64) -> Option<u64> {
        if !self.may_go_out(node) {
            return None;
        }
        let until = self.outage_end(until_ms);
        if self.trace.is_some() {
            let line = format!(
                "{} freezes until {until} ms, holding what it is sent (relay outage)",
                self.nodes[node].id
            );
            self.note(line);
        }
        self.nodes[node].frozen_until_ms = Some(until);
        self.report.relay_outages += 1;
        self.report.relay_freezes += 1;
        self.push(until, Event::Thaw { node });
        Some(until)
    }

    /// Relay `node` dies and restarts from its store at `until_ms` (at most
    /// the end of the faults). Returns when it restarts, or `None` if it
    /// was not running.
    fn die(&mut self, node: usize, until_ms: u64, why: &str) -> Option<u64> {
        if !self.may_go_out(node) {
            return None;
        }
        let until = self.outage_end(until_ms);
        if self.trace.is_some() {
            let line = format!(
                "{} dies until {until} ms{why} (relay outage)",
                self.nodes[node].id
            );
            self.note(line);
        }
        let n = &mut self.nodes[node];
        n.engine = None;
        n.timers.clear();
        self.report.relay_outages += 1;
        self.push(until, Event::Restart { node });
        Some(until)
    }

    fn crash(&mut self, node: usize) {
        if self.trace.is_some() {
            let line = format!("{} crashes", self.nodes[node].id);
            self.note(line);
        }
        let n = &mut self.nodes[node];
        n.engine = None;
        n.timers.clear();
        n.crashes += 1;
        self.report.crashes += 1;
        let down = self.rng.between(1, self.config.max_downtime_ms);
        // Back by the end of the faults at the latest (ISM-1 §12.10 item 3).
        let at = (self.now_ms + down).min(self.faults_until_ms.max(self.now_ms + 1));
        self.push(at, Event::Restart { node });
    }

    fn restart(&mut self, node: usize) {
        if self.nodes[node].engine.is_some() {
            return;
        }
        if self.trace.is_some() {
            let line = format!("{} restarts from its store", self.nodes[node].id);
            self.note(line);
        }
        let now = self.local_now(node);
        let relay_index = self.relay_nodes.iter().position(|r| *r == node);
        let n = &self.nodes[node];
        let engine = match (relay_index, n.ledger) {
            (Some(r), _) => {
                let gateways: BTreeMap<Mic, NodeId> = self
                    .gateway_of_market
                    .iter()
                    .map(|(m, g)| (m.clone(), self.nodes[*g].id.clone()))
                    .collect();
                let relay_config = RelayConfig {
                    node: n.id.clone(),
                    gateways,
                    timing: self.config.timing,
                    settlement_prefix: format!("STL{r}"),
                };
                let records = n.store.values().filter_map(|record| match record {
                    StoreRecord::Relay(record) => Some(record.clone()),
                    StoreRecord::Gateway(_) => None,
                });
                let mut relay = new_relay(&self.config, Relay::restore(relay_config, records));
                relay.resume(now);
                Engine::Relay(Box::new(relay))
            }
            (None, Some(ledger)) => {
                let relays: Vec<NodeId> = self
                    .relay_nodes
                    .iter()
                    .map(|r| self.nodes[*r].id.clone())
                    .collect();
                let gateways: BTreeMap<Mic, NodeId> = self
                    .gateway_of_market
                    .iter()
                    .map(|(m, g)| (m.clone(), self.nodes[*g].id.clone()))
                    .collect();
                let config = gateway_config(
                    &self.config,
                    &n.id,
                    &self.ledgers[ledger].market,
                    &relays,
                    &gateways,
                );
                let records = n.store.values().filter_map(|record| match record {
                    StoreRecord::Gateway(record) => Some(record.clone()),
                    StoreRecord::Relay(_) => None,
                });
                let mut gateway = new_gateway(&self.config, Gateway::restore(config, records));
                gateway.resume(now);
                Engine::Gateway(Box::new(gateway))
            }
            (None, None) => return,
        };
        self.nodes[node].engine = Some(engine);
        self.nodes[node].restarted_at_ms = self.now_ms;
        if self.config.faults.crash {
            let next = self.now_ms
                + self.rng.between(
                    self.config.max_downtime_ms * 2,
                    self.config.mean_crash_interval_ms * 2,
                );
            if next < self.faults_until_ms {
                self.push(next, Event::Crash { node });
            }
        }
        self.drain(node);
    }

    fn input_relay(&mut self, node: usize, input: isthmus_relay::Input) {
        let now = self.local_now(node);
        let n = &mut self.nodes[node];
        if let Some(Engine::Relay(relay)) = &mut n.engine {
            relay.handle(now, input, &mut n.rng);
        }
        self.drain(node);
    }

    fn input_gateway(&mut self, node: usize, input: isthmus_gateway::Input) {
        let now = self.local_now(node);
        let n = &mut self.nodes[node];
        if let Some(Engine::Gateway(gateway)) = &mut n.engine {
            gateway.handle(now, input, &mut n.rng);
        }
        self.drain(node);
    }

    /// Carries out a node's outputs until it has none; a crash may strike
    /// between any two of them.
    fn drain(&mut self, node: usize) {
        loop {
            let output = match &mut self.nodes[node].engine {
                Some(Engine::Relay(relay)) => relay.poll().map(Output::Relay),
                Some(Engine::Gateway(gateway)) => gateway.poll().map(Output::Gateway),
                None => return,
            };
            let Some(output) = output else { return };
            if self.crash_now(node) {
                self.crash(node);
                return;
            }
            match output {
                Output::Relay(isthmus_relay::Output::Persist(write)) => {
                    self.check_cause(node, write.cause.as_ref());
                    let revealed = write.records.iter().find_map(|record| match record {
                        isthmus_relay::Record::Settlement(settlement)
                            if settlement.phase == Phase::Revealing
                                && settlement.legs.iter().all(|leg| leg.claimed.is_none()) =>
                        {
                            Some(settlement.id.clone())
                        }
                        _ => None,
                    });
                    for record in write.records {
                        self.nodes[node]
                            .store
                            .insert(StoreKey::Relay(record.key()), StoreRecord::Relay(record));
                    }
                    if let Some(settlement_id) = revealed {
                        // May kill the relay: then nothing the write released goes out.
                        self.maybe_die_after_reveal_write(node, &settlement_id);
                    }
                    self.input_relay_quiet(node, isthmus_relay::Input::Persisted(write.id));
                }
                Output::Gateway(isthmus_gateway::Output::Persist(write)) => {
                    self.check_cause(node, write.cause.as_ref());
                    for record in write.records {
                        self.nodes[node].store.insert(
                            StoreKey::Gateway(record.key()),
                            StoreRecord::Gateway(record),
                        );
                    }
                    self.input_gateway_quiet(node, isthmus_gateway::Input::Persisted(write.id));
                }
                Output::Relay(isthmus_relay::Output::Send(outbound))
                | Output::Gateway(isthmus_gateway::Output::Send(outbound)) => {
                    self.send(node, outbound)
                }
                Output::Relay(isthmus_relay::Output::SetTimer { timer, at_ms }) => {
                    self.set_timer(node, TimerKey::Relay(timer), at_ms)
                }
                Output::Gateway(isthmus_gateway::Output::SetTimer { timer, at_ms }) => {
                    self.set_timer(node, TimerKey::Gateway(timer), at_ms)
                }
                Output::Gateway(isthmus_gateway::Output::Ledger {
                    settlement_id,
                    leg,
                    command,
                }) => {
                    let result = self.run_ledger(node, &settlement_id, leg, &command);
                    if self.crash_now(node) {
                        // The ledger did it; the gateway never heard (ISM-1 §12.10 item 1).
                        self.crash(node);
                        return;
                    }
                    self.input_gateway_quiet(
                        node,
                        isthmus_gateway::Input::Ledger {
                            settlement_id,
                            leg,
                            result,
                        },
                    );
                }
                Output::Gateway(isthmus_gateway::Output::Notify {
                    instruction_id,
                    index,
                    body,
                }) => {
                    self.notified(body);
                    // The participant acknowledges at once.
                    self.input_gateway_quiet(
                        node,
                        isthmus_gateway::Input::Acknowledged {
                            instruction_id,
                            index,
                        },
                    );
                }
            }
        }
    }

    fn input_relay_quiet(&mut self, node: usize, input: isthmus_relay::Input) {
        let now = self.local_now(node);
        let n = &mut self.nodes[node];
        if let Some(Engine::Relay(relay)) = &mut n.engine {
            relay.handle(now, input, &mut n.rng);
        }
    }

    fn input_gateway_quiet(&mut self, node: usize, input: isthmus_gateway::Input) {
        let now = self.local_now(node);
        let n = &mut self.nodes[node];
        if let Some(Engine::Gateway(gateway)) = &mut n.engine {
            gateway.handle(now, input, &mut n.rng);
        }
    }

    /// A crash between two of `node`'s outputs, while faults are on; never
    /// within a second of its last restart, so that a node is up at least
    /// that long between crashes (assumption A3 of ISM-1 §12.1 needs the
    /// gateways able to claim within the claim window).
    fn crash_now(&mut self, node: usize) -> bool {
        self.config.faults.crash
            && self.faults_on()
            && self.now_ms >= self.nodes[node].restarted_at_ms + MIN_UPTIME_MS
            && self.rng.below(1_000) < self.config.step_crash_per_mille
    }

    fn check_cause(&mut self, node: usize, cause: Option<&(NodeId, isthmus_spec::ids::MessageId)>) {
        let Some(cause) = cause else { return };
        if !self.handled.insert(hash_of(&(node, cause))) {
            let detail = format!(
                "{} handled message {} from {} a second time",
                self.nodes[node].id, cause.1, cause.0
            );
            self.violation(Invariant::ExactlyOnce, None, detail);
        }
    }

    /// A settlement id names one settlement for ever: the same instructions
    /// and hashlock in every proposal that carries it. A relay that sends a
    /// proposal before the settlement is durable may, after a crash, reuse
    /// the id or draw another secret for it.
    fn check_proposal(&mut self, from: usize, body: &Body) {
        let Body::SettlementProposal(proposal) = body else {
            return;
        };
        let named = (
            proposal.deliver_instruction_id.clone(),
            proposal.receive_instruction_id.clone(),
            proposal.hashlock.clone(),
        );
        let key = (from, proposal.settlement_id.clone());
        match self.proposed.get(&key) {
            Some(before) if *before != named => {
                let trade = proposal
                    .deliver_instruction_id
                    .as_str()
                    .rsplit_once('-')
                    .and_then(|(_, i)| i.parse().ok());
                let detail = format!(
                    "{} proposed settlement {} as {:?} and later as {:?}",
                    self.nodes[from].id, proposal.settlement_id, before, named
                );
                self.violation(Invariant::ExactlyOnce, trade, detail);
            }
            Some(_) => {}
            None => {
                self.proposed.insert(key, named);
            }
        }
    }

    fn send(&mut self, from: usize, outbound: Outbound) {
        self.check_proposal(from, &outbound.body);
        self.report.messages += 1;
        if self.trace.is_some() {
            let line = format!(
                "{} sends {} {} to {}{}",
                self.nodes[from].id,
                outbound.body.kind(),
                outbound.id,
                outbound.to,
                describe(&outbound.body)
            );
            self.note(line);
        }
        let Some(to) = self.nodes.iter().position(|n| n.id == outbound.to) else {
            return;
        };
        let faults = self.config.faults.network && self.faults_on();
        if faults && self.rng.percent(self.config.loss_percent) {
            self.report.lost += 1;
            return;
        }
        let copies = if faults && self.rng.percent(self.config.duplicate_percent) {
            self.report.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = if self.config.faults.network {
                self.rng.between(1, self.config.max_delay_ms)
            } else {
                1
            };
            let message = Inbound {
                sender: self.nodes[from].id.clone(),
                id: outbound.id.clone(),
                body: outbound.body.clone(),
            };
            self.push(self.now_ms + delay, Event::Deliver { to, message });
        }
    }

    fn set_timer(&mut self, node: usize, key: TimerKey, at_local_ms: u64) {
        let n = &mut self.nodes[node];
        n.next_timer_generation += 1;
        let generation = n.next_timer_generation;
        n.timers.insert(key.clone(), generation);
        let at_global = (at_local_ms as i64 - n.offset_ms).max(self.now_ms as i64) as u64;
        self.push(
            at_global,
            Event::Timer {
                node,
                key,
                generation,
            },
        );
    }

    fn notified(&mut self, body: Body) {
        let instruction_id = match &body {
            Body::SettlementConfirmation(confirmation) => Some(confirmation.instruction_id.clone()),
            Body::InstructionStatus(status)
                if status.status == isthmus_spec::body::InstructionState::Cancelled =>
            {
                if status.settlement_id.is_none() {
                    self.report.cancelled_unmatched += 1;
                }
                Some(status.instruction_id.clone())
            }
            _ => None,
        };
        if let Some(id) = instruction_id {
            self.final_words.entry(id).or_insert(self.now_ms);
        }
    }

    fn violation(&mut self, invariant: Invariant, trade: Option<usize>, detail: String) {
        self.report.violations.push(Violation {
            invariant,
            seed: self.config.seed,
            run_trades: self.config.trades,
            trade,
            detail,
        });
    }

    // ----- the ledgers and what the simulator checks on them -----

    fn run_ledger(
        &mut self,
        node: usize,
        settlement_id: &Reference,
        leg: Leg,
        command: &LedgerCommand,
    ) -> isthmus_adapters::ledger_side::CommandResult {
        self.report.ledger_commands += 1;
        let Some(ledger_index) = self.nodes[node].ledger else {
            unreachable!("only gateways run ledger commands")
        };
        let ledger = &mut self.ledgers[ledger_index];
        ledger
            .clock
            .set((self.now_ms as i64 + ledger.offset_ms).max(0) as u64);
        let result = LedgerSide::execute(&mut ledger.side, command);
        if self.trace.is_some() {
            let line = format!(
                "{} ledger {:?} for {settlement_id} {leg}: {}",
                self.nodes[node].id,
                command_name(command),
                match &result {
                    Ok(_) => "done".to_string(),
                    Err(e) => e.to_string(),
                }
            );
            self.note(line);
        }
        let trade = self.trade_of(node, settlement_id);
        let now = self.now_ms;
        let relay = trade.map(|t| self.relay_nodes[self.trades[t].relay % self.relay_nodes.len()]);
        let relay_out = relay.is_some_and(|r| {
            self.nodes[r].engine.is_none() || self.nodes[r].frozen_until_ms.is_some()
        });
        let requested = self
            .claim_requests_delivered
            .contains(&(node, settlement_id.clone()));
        let mut first_claim_against_payment = false;
        let seen = self.legs.entry(settlement_id.clone()).or_default();
        seen.trade = seen.trade.or(trade);
        seen.last_change_ms = now;
        let mut problems = Vec::new();
        match (&result, command) {
            (Ok(LedgerDone::Locked(_)), LedgerCommand::Lock(order)) => {
                if !seen.locked.contains(&leg) {
                    seen.locked.push(leg);
                }
                if let Some(trade) = trade.map(|t| &self.trades[t]) {
                    let (from, to, units) = intended(trade, leg);
                    let ok = order.from.to_string() == from
                        && order.beneficiary.to_string() == to
                        && Some(order.units) == units;
                    if !ok {
                        problems.push((Invariant::Beneficiary, format!("the {leg} leg locked {} units from {} for {}, but the trade says {units:?} from {from} for {to}", order.units, order.from, order.beneficiary)));
                    }
                }
            }
            (Ok(LedgerDone::Claimed(_)), _) => {
                let payment = trade
                    .map(|t| self.trades[t].kind != TradeKind::FreeOfPayment)
                    .unwrap_or(true);
                if !seen.claimed.contains(&leg) {
                    first_claim_against_payment = payment && seen.claimed.is_empty();
                    seen.claimed.push(leg);
                    if !requested {
                        seen.handed_over = true;
                        seen.handed_over_relay_out |= relay_out;
                    }
                }
                let other = other_leg(leg);
                if payment && !seen.locked.contains(&other) {
                    problems.push((
                        Invariant::ClaimBeforeLocks,
                        format!("the {leg} leg was claimed while the {other} leg was not locked"),
                    ));
                }
            }
            (Ok(LedgerDone::Refunded(_)), _) if !seen.refunded.contains(&leg) => {
                seen.refunded.push(leg);
            }
            _ => {}
        }
        let seen = seen.clone();
        if !seen.claimed.is_empty() && !seen.refunded.is_empty() {
            problems.push((
                Invariant::Atomicity,
                format!(
                    "settlement {settlement_id}: claimed {:?} but refunded {:?}",
                    seen.claimed, seen.refunded
                ),
            ));
        }
        for (invariant, detail) in problems {
            self.violation(invariant, trade, detail);
        }
        if let (true, Some(relay)) = (first_claim_against_payment, relay) {
            self.maybe_die_after_first_claim(relay, settlement_id);
        }
        result
    }

    /// With the chance [`RelayOutages::after_reveal_write_per_mille`], relay
    /// `node`, which has just persisted `REVEALING` for `settlement_id`,
    /// dies before the ClaimRequest goes out, for a scheduled outage's
    /// length: it may come back before the first leg's expiry and reveal
    /// late, or after it, when the first leg is refunded unclaimed
    /// (`CLAIM_WINDOW_MISSED`, ISM-1 §12.5 rule 6).
    fn maybe_die_after_reveal_write(&mut self, node: usize, settlement_id: &Reference) {
        let outages = self.config.relay_outages;
        if !outages.on || !self.may_go_out(node) {
            return;
        }
        if self.outage_rng.below(1_000) >= outages.after_reveal_write_per_mille {
            return;
        }
        let until = self.now_ms + self.outage_rng.between(outages.min_ms, outages.max_ms);
        let why = format!(" after persisting the reveal of {settlement_id}");
        if self.die(node, until, &why).is_some() {
            self.report.relay_outages_after_reveal += 1;
        }
    }

    /// With the chance [`RelayOutages::after_first_claim_per_mille`], the
    /// relay of a settlement whose first leg was just claimed dies until
    /// after the second leg's expiry by every clock (or the end of the
    /// faults): the ClaimReceipt it was about to get is lost, it never asks
    /// for the second claim in time, and only the hand-over of ISM-1 §12.7
    /// gets p to the other gateway.
    fn maybe_die_after_first_claim(&mut self, relay: usize, settlement_id: &Reference) {
        let outages = self.config.relay_outages;
        if !outages.on || !self.may_go_out(relay) {
            return;
        }
        if self.outage_rng.below(1_000) >= outages.after_first_claim_per_mille {
            return;
        }
        let timing = self.config.timing;
        let until = self.now_ms
            + timing.securities_expiry_ms
            + timing.max_clock_skew_ms
            + self.outage_rng.below(1_000);
        let why = format!(" after the first claim of {settlement_id}");
        if self.die(relay, until, &why).is_some() {
            self.report.relay_outages_after_claim += 1;
        }
    }

    fn trade_of(&self, node: usize, settlement_id: &Reference) -> Option<usize> {
        let Some(Engine::Gateway(gateway)) = &self.nodes[node].engine else {
            return None;
        };
        let proposal = &gateway.settlement(settlement_id)?.proposal;
        let text = proposal.deliver_instruction_id.as_str();
        text.rsplit_once('-')
            .and_then(|(_, index)| index.parse().ok())
    }

    /// Checks at the end: every settlement final and every lock closed
    /// (liveness), the holdings equal what the settled trades moved
    /// (beneficiaries and conservation), every participant told.
    fn check_end(&mut self) {
        let mut relay_outcomes: HashMap<Reference, (Phase, Option<usize>, u64)> = HashMap::new();
        let mut aborted_by_reason: BTreeMap<String, u64> = BTreeMap::new();
        for r in self.relay_nodes.clone() {
            if self.nodes[r].engine.is_none() {
                self.restart(r);
            }
            if let Some(Engine::Relay(relay)) = &self.nodes[r].engine {
                for settlement in relay.settlements() {
                    if settlement.phase == Phase::Aborted {
                        let code = settlement
                            .reason
                            .as_ref()
                            .map_or("(none)", |reason| reason.code.as_str());
                        *aborted_by_reason.entry(code.to_string()).or_default() += 1;
                    }
                    let trade = settlement
                        .proposal
                        .deliver_instruction_id
                        .as_str()
                        .rsplit_once('-')
                        .and_then(|(_, i)| i.parse().ok());
                    relay_outcomes.insert(
                        settlement.id.clone(),
                        (settlement.phase, trade, settlement.matched_at_ms),
                    );
                }
            }
        }
        self.report.settlements = relay_outcomes.len() as u64;
        // Counted from the settlements' states: a relay's counters restart with it.
        self.report.settled = relay_outcomes
            .values()
            .filter(|(phase, _, _)| *phase == Phase::Settled)
            .count() as u64;
        self.report.aborted = relay_outcomes
            .values()
            .filter(|(phase, _, _)| *phase == Phase::Aborted)
            .count() as u64;
        self.report.aborted_by_reason = aborted_by_reason;
        for (id, (phase, _, _)) in &relay_outcomes {
            let seen = self.legs.get(id);
            if *phase == Phase::Settled && seen.is_some_and(|s| s.handed_over) {
                self.report.handed_over += 1;
            }
            if *phase == Phase::Settled && seen.is_some_and(|s| s.handed_over_relay_out) {
                self.report.handed_over_relay_out += 1;
            }
        }
        let timing = self.config.timing;
        let bound_ms =
            timing.max_clock_skew_ms + 4 * (timing.retransmit_ms + self.config.max_delay_ms);
        let mut problems = Vec::new();
        for (id, (phase, trade, matched_at)) in &relay_outcomes {
            if !phase.is_final() {
                problems.push((
                    Invariant::Liveness,
                    *trade,
                    format!("settlement {id} is still {} at the end", phase.name()),
                ));
                continue;
            }
            let seen = self.legs.get(id).cloned().unwrap_or_default();
            let open = seen
                .locked
                .iter()
                .filter(|leg| !seen.claimed.contains(leg) && !seen.refunded.contains(leg))
                .count();
            if open > 0 {
                problems.push((
                    Invariant::Liveness,
                    *trade,
                    format!(
                        "settlement {id} ended {} with {open} lock(s) never claimed or refunded",
                        phase.name()
                    ),
                ));
            }
            let due = (*matched_at + timing.securities_expiry_ms).max(self.faults_until_ms)
                + bound_ms
                + 1_000;
            if seen.last_change_ms > due + 1_000 {
                problems.push((
                    Invariant::Liveness,
                    *trade,
                    format!(
                        "settlement {id}'s last lock closed at {} ms, after the bound {due} ms",
                        seen.last_change_ms
                    ),
                ));
            }
            if *phase == Phase::Aborted && !seen.claimed.is_empty() {
                problems.push((
                    Invariant::Atomicity,
                    *trade,
                    format!("the relay aborted {id}, telling both sides it was cancelled, but the ledgers claimed {:?}", seen.claimed),
                ));
            }
            if *phase == Phase::Settled && seen.claimed.len() != seen.locked.len() {
                problems.push((
                    Invariant::Atomicity,
                    *trade,
                    format!(
                        "the relay says {id} settled, but the ledgers claimed {:?} of {:?}",
                        seen.claimed, seen.locked
                    ),
                ));
            }
        }
        for (trade_index, trade) in self.trades.iter().enumerate() {
            for instruction in [Some(&trade.deliver), trade.receive.as_ref()]
                .into_iter()
                .flatten()
            {
                if !self.final_words.contains_key(&instruction.instruction_id)
                    && trade.kind != TradeKind::Unmatched
                    && trade.kind != TradeKind::OneSided
                {
                    problems.push((
                        Invariant::Liveness,
                        Some(trade_index),
                        format!(
                            "instruction {} never had the relay's final word",
                            instruction.instruction_id
                        ),
                    ));
                }
            }
        }
        for (invariant, trade, detail) in problems {
            self.violation(invariant, trade, detail);
        }
        let mut settled_by_trade: HashMap<usize, Vec<&Reference>> = HashMap::new();
        for (id, seen) in &self.legs {
            if let (Some(trade), false) = (seen.trade, seen.claimed.is_empty()) {
                settled_by_trade.entry(trade).or_default().push(id);
            }
        }
        let twice: Vec<(usize, String)> = settled_by_trade
            .into_iter()
            .filter(|(_, ids)| ids.len() > 1)
            .map(|(trade, ids)| {
                (
                    trade,
                    format!(
                        "trade {trade} had legs claimed in {} settlements: {ids:?}",
                        ids.len()
                    ),
                )
            })
            .collect();
        for (trade, detail) in twice {
            self.violation(Invariant::ExactlyOnce, Some(trade), detail);
        }
        self.check_holdings();
    }

    fn check_holdings(&mut self) {
        let mut expected: BTreeMap<(usize, String), i128> = BTreeMap::new();
        for (ledger, account, units) in initial_holdings() {
            *expected.entry((ledger, account)).or_default() += units;
        }
        for seen in self.legs.values() {
            let Some(trade) = seen.trade.map(|t| &self.trades[t]) else {
                continue;
            };
            for leg in &seen.claimed {
                let (from, to, units) = intended(trade, *leg);
                let units = i128::from(units.unwrap_or(0));
                let ledger = if *leg == Leg::Securities { 0 } else { 1 };
                *expected.entry((ledger, from)).or_default() -= units;
                *expected.entry((ledger, to)).or_default() += units;
            }
        }
        let mut problems = Vec::new();
        for ((ledger, account), units) in &expected {
            let asset = asset_of(*ledger);
            let Ok(account_ref) = isthmus_ledger::parse_account(account) else {
                continue;
            };
            let held = self.ledgers[*ledger]
                .side
                .ledger()
                .balance(&account_ref, &asset)
                .map(|h| h.total() as i128)
                .unwrap_or(-1);
            if held != *units {
                problems.push((Invariant::Beneficiary, format!("{account} on {} holds {held} units of {asset:?}; the settled trades leave it {units}", self.ledgers[*ledger].market)));
            }
        }
        for ledger in &self.ledgers {
            if let Err(error) = ledger.side.ledger().state().check_invariants() {
                problems.push((
                    Invariant::Conservation,
                    format!("the ledger of {}: {error}", ledger.market),
                ));
            }
        }
        for (invariant, detail) in problems {
            self.violation(invariant, None, detail);
        }
    }
}

enum Output {
    Relay(isthmus_relay::Output),
    Gateway(isthmus_gateway::Output),
}

fn gateway_config(
    config: &RunConfig,
    id: &NodeId,
    market: &Mic,
    relays: &[NodeId],
    gateways: &BTreeMap<Mic, NodeId>,
) -> GatewayConfig {
    GatewayConfig {
        node: id.clone(),
        market: market.clone(),
        relays: relays.to_vec(),
        gateways: gateways.clone(),
        timing: config.timing,
    }
}

/// The relay as the run's variant wants it.
#[cfg_attr(not(feature = "broken-variants"), allow(unused_mut))]
fn new_relay(config: &RunConfig, mut relay: Relay) -> Relay {
    #[cfg(feature = "broken-variants")]
    relay.set_broken(config.broken.and_then(Broken::relay));
    #[cfg(not(feature = "broken-variants"))]
    let _ = config;
    relay
}

/// The gateway as the run's variant wants it.
#[cfg_attr(not(feature = "broken-variants"), allow(unused_mut))]
fn new_gateway(config: &RunConfig, mut gateway: Gateway) -> Gateway {
    #[cfg(feature = "broken-variants")]
    gateway.set_broken(config.broken.and_then(Broken::gateway));
    #[cfg(not(feature = "broken-variants"))]
    let _ = config;
    gateway
}

fn other_leg(leg: Leg) -> Leg {
    match leg {
        Leg::Securities => Leg::Cash,
        Leg::Cash => Leg::Securities,
    }
}

/// The asset of ledger 0 (the workload's ISIN) or 1 (its currency).
pub fn asset_of(ledger: usize) -> Asset {
    let text = if ledger == 0 {
        workload::ISIN
    } else {
        workload::CURRENCY
    };
    match Asset::parse(text) {
        Ok(asset) => asset,
        Err(error) => unreachable!("{text} is an asset: {error}"),
    }
}

/// The accounts, units and direction the trade agreed for one leg.
pub(crate) fn intended(trade: &Trade, leg: Leg) -> (String, String, Option<u64>) {
    match leg {
        Leg::Securities => (
            workload::seller_safe(trade.seller),
            workload::buyer_safe(trade.buyer),
            Some(trade.shares * 1_000_000),
        ),
        Leg::Cash => (
            workload::buyer_cash(trade.buyer),
            workload::seller_cash(trade.seller),
            Some(trade.cents),
        ),
    }
}

/// Every account's starting units: (ledger 0 securities | 1 cash, account, units).
pub fn initial_holdings() -> Vec<(usize, String, i128)> {
    let mut holdings = Vec::new();
    for k in 0..workload::PARTICIPANTS {
        holdings.push((
            0,
            workload::seller_safe(Some(k)),
            i128::from(workload::SHARES_EACH) * 1_000_000,
        ));
        holdings.push((0, workload::buyer_safe(k), 0));
        holdings.push((
            1,
            workload::buyer_cash(k),
            i128::from(workload::AUD_EACH) * 100,
        ));
        holdings.push((1, workload::seller_cash(Some(k)), 0));
    }
    holdings.push((0, workload::seller_safe(None), 0));
    holdings.push((1, workload::seller_cash(None), 0));
    holdings
}

fn fund(ledgers: &mut [MarketLedger]) -> Result<(), String> {
    let mut key = 0u64;
    for (ledger, account, units) in initial_holdings() {
        let side = &mut ledgers[ledger].side;
        key += 1;
        let open = Operation::open_account(&account).map_err(|e| e.to_string())?;
        side.execute(&format!("setup-{key}"), open)
            .map_err(|e| e.to_string())?;
        if units > 0 {
            key += 1;
            let asset = if ledger == 0 {
                workload::ISIN
            } else {
                workload::CURRENCY
            };
            let amount = asset_of(ledger).format_units(units as u64);
            let issue = Operation::issue(&account, asset, &amount).map_err(|e| e.to_string())?;
            side.execute(&format!("setup-{key}"), issue)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn command_name(command: &LedgerCommand) -> &'static str {
    match command {
        LedgerCommand::Lock(_) => "lock",
        LedgerCommand::Claim(_) => "claim",
        LedgerCommand::Refund(_) => "refund",
    }
}

/// The settlement and instruction a body names, for the trace.
fn describe(body: &Body) -> String {
    match body {
        Body::SettlementInstruction(b) => format!(" [{}]", b.instruction_id),
        Body::InstructionStatus(b) => format!(
            " [{} {} {}]",
            b.instruction_id,
            b.status,
            b.settlement_id.as_ref().map_or("", |s| s.as_str())
        ),
        Body::SettlementProposal(b) => format!(
            " [{} {} {}]",
            b.settlement_id, b.deliver_instruction_id, b.receive_instruction_id
        ),
        Body::LockRequest(b) => format!(" [{} {}]", b.settlement_id, b.leg),
        Body::LockReceipt(b) => format!(" [{} {}]", b.settlement_id, b.leg),
        Body::ClaimRequest(b) => format!(" [{}]", b.settlement_id),
        Body::ClaimReceipt(b) => format!(" [{} {}]", b.settlement_id, b.leg),
        Body::RefundReceipt(b) => format!(" [{} {}]", b.settlement_id, b.leg),
        Body::SettlementConfirmation(b) => format!(" [{} {}]", b.instruction_id, b.settlement_id),
        Body::Error(b) => format!(" [{} {}]", b.code.as_str(), b.text.as_str()),
        Body::HoldingsStatement(_) => String::new(),
        Body::Batch(b) => format!(" [{} messages]", b.messages.len()),
    }
}
