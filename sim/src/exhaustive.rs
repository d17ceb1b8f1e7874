//! The exhaustive check of the small case (issue 11 step 7): one trade, one
//! relay, two gateways, and every interleaving of what the network and the
//! nodes may do to it, within stated budgets of faults.
//!
//! The real engines run on a model of each ledger (the ledger's own pure
//! state machine, [`LedgerState`], behind the idempotency rule of ISM-1 §9.3).
//! From each state the checker takes every action the world allows:
//!
//! - deliver the first message in flight of any link (sender to receiver;
//!   to a node that is down, it is lost), lose it, duplicate it, deliver it
//!   after the rest of its link, or hold it back past the next instant
//!   (within the loss, duplication, reordering and delay budgets): links
//!   interleave freely, and a link's messages arrive in order but for the
//!   reorderings budgeted;
//! - a participant submits an instruction not yet accepted (both are in
//!   before time first moves);
//! - a crashed node restarts from its store;
//! - time moves to the next instant at which something is due: a timer of a
//!   node that is up (a node takes its timers due at one instant together,
//!   and nodes with timers due together take them in every order), once
//!   every message still in flight is held back;
//! - and, within the crash budgets (per node and in all), a crash between
//!   any two outputs of a step (after a write and before the sends it
//!   releases, after a ledger command ran and before the gateway heard) or
//!   after its last, losing all it did not persist.
//!
//! A message is delivered, lost or held back before time moves on, so one
//! held back arrives after timers that were due later than its sending; a
//! crashed node is down at most `max_downtime_ms`. Clocks keep fixed offsets
//! within K of each other.
//! States are told apart by a 128-bit fingerprint of everything in them (the
//! engines' canonical `Debug` form, stores, timers, random generators,
//! ledgers, each link's messages in order, the budgets left), and each is
//! expanded once, depth first. Every state is checked for atomicity, claims
//! before both locks, beneficiaries, conservation and exactly-once handling;
//! every end state (nothing left to do before the time horizon, which the
//! liveness bound of ISM-1 §12.10 item 3 and the fault budgets fix) for
//! liveness: the settlement final at the relay, every lock claimed or
//! refunded, every instruction given the relay's final word.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::{self, Write as _};
use std::rc::Rc;

use isthmus_adapters::ledger_side::{
    journal_ref, Claimed, CommandResult, LedgerCommand, LedgerDone, LockId, Locked, Refunded,
};
use isthmus_gateway::{Gateway, GatewayConfig, GatewayTimer};
use isthmus_ledger::operation::Outcome;
use isthmus_ledger::state::{HtlcStatus, LedgerState};
use isthmus_ledger::{Effect, JournalPosition, LedgerFailure, LedgerReason, Operation};
use isthmus_relay::{Phase, Relay, RelayConfig, RelayTimer};
use isthmus_spec::body::Leg;
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Hex32, MessageId, NodeId};
use isthmus_spec::protocol::{Inbound, Outbound, Timing};

use crate::report::Invariant;
use crate::rng::SimRng;
use crate::workload::{self, Trade, TradeKind};

/// What the check explores.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// The trade: against payment, free of payment, insufficient securities,
    /// unmatched, or one-sided.
    pub kind: TradeKind,
    /// The network's timing (ISM-1 §12.1).
    pub timing: Timing,
    /// Messages the network may lose, in all.
    pub losses: u32,
    /// Messages the network may duplicate, in all.
    pub duplicates: u32,
    /// Crashes per node.
    pub crashes_per_node: u32,
    /// Crashes in all, of any nodes.
    pub crashes: u32,
    /// Messages the network may deliver after later ones of the same link, in all.
    pub reorders: u32,
    /// Messages the network may hold back past an instant at which time moves on, in all.
    pub delays: u32,
    /// Longest a crashed node stays down, milliseconds.
    pub max_downtime_ms: u64,
    /// Clock offsets of the relay, the securities gateway and the cash
    /// gateway (and each gateway's ledger), milliseconds.
    pub offsets_ms: [i64; 3],
    /// Stop (and say the check is incomplete) after this many states.
    pub max_states: u64,
    /// Tell states apart up to the renaming of random values, leaving out
    /// ids nothing can name again and counters nothing reads
    /// ([`crate::canonical`]); false compares everything.
    pub symmetry: bool,
    /// Stop at a state whose ledgers have decided (every leg locked and
    /// claimed or refunded), naming that decision as an end state: every
    /// state before is checked for every invariant of a state, liveness only
    /// at the ends reached before any decision.
    pub safety_only: bool,
    /// A broken variant, to show the check can fail.
    #[cfg(feature = "broken-variants")]
    pub broken: Option<crate::world::Broken>,
}

/// The timing of the check: R = 100 ms, C = 1.2 s (enough for the fault
/// budgets below to delay the second claim, assumption A3), K = 50 ms.
pub fn check_timing() -> Timing {
    Timing {
        claim_window_ms: 1_200,
        max_clock_skew_ms: 50,
        matching_window_ms: 600,
        lock_window_ms: 600,
        reveal_margin_ms: 1_250,
        cash_expiry_ms: 1_850,
        securities_expiry_ms: 3_100,
        retransmit_ms: 100,
    }
}

impl CheckConfig {
    /// The default check of `kind`: one loss, one duplication, one message
    /// reordered, one held back, one crash per node, down at most 100 ms, the securities
    /// gateway's clock K ahead of the others.
    pub fn new(kind: TradeKind) -> CheckConfig {
        CheckConfig {
            kind,
            timing: check_timing(),
            losses: 1,
            duplicates: 1,
            crashes_per_node: 1,
            crashes: 3,
            reorders: 1,
            delays: 1,
            max_downtime_ms: 100,
            offsets_ms: [0, 50, 0],
            max_states: 50_000_000,
            symmetry: true,
            safety_only: false,
            #[cfg(feature = "broken-variants")]
            broken: None,
        }
    }

    /// No fault at all: every interleaving of a fault-free network.
    pub fn no_faults(kind: TradeKind) -> CheckConfig {
        CheckConfig {
            losses: 0,
            duplicates: 0,
            reorders: 0,
            delays: 0,
            crashes_per_node: 0,
            crashes: 0,
            ..CheckConfig::new(kind)
        }
    }

    /// Step 7 of issue 11: one loss, one duplicate and one crash of each
    /// node, all in one space, every interleaving, for atomicity and the
    /// other invariants of every state (not liveness: [`CheckConfig::safety_only`]).
    pub fn step_seven(kind: TradeKind) -> CheckConfig {
        CheckConfig {
            losses: 1,
            duplicates: 1,
            crashes_per_node: 1,
            crashes: 3,
            safety_only: true,
            ..CheckConfig::no_faults(kind)
        }
    }

    /// The checks of two faults together, of the classes step 7 of issue 11
    /// names (loss, duplication, crash): a loss and a duplicate, a loss and
    /// a crash, a duplicate and a crash, and two crashes of two nodes, each
    /// with every interleaving.
    pub fn two_faults_each(kind: TradeKind) -> Vec<(&'static str, CheckConfig)> {
        let none = CheckConfig::no_faults(kind);
        let crash = CheckConfig {
            crashes_per_node: 1,
            crashes: 1,
            ..none.clone()
        };
        vec![
            (
                "a loss and a duplicate",
                CheckConfig {
                    losses: 1,
                    duplicates: 1,
                    ..none
                },
            ),
            (
                "a loss and a crash",
                CheckConfig {
                    losses: 1,
                    ..crash.clone()
                },
            ),
            (
                "a duplicate and a crash",
                CheckConfig {
                    duplicates: 1,
                    ..crash.clone()
                },
            ),
            (
                "crashes of two nodes",
                CheckConfig {
                    crashes: 2,
                    ..crash
                },
            ),
        ]
    }

    /// The checks of one fault each: one loss, one duplicate, one
    /// reordering, one message held back, one crash of any node at any step
    /// (and the fault-free space first), each with every interleaving.
    pub fn one_fault_each(kind: TradeKind) -> Vec<(&'static str, CheckConfig)> {
        let none = CheckConfig::no_faults(kind);
        vec![
            ("no fault", none.clone()),
            (
                "one loss",
                CheckConfig {
                    losses: 1,
                    ..none.clone()
                },
            ),
            (
                "one duplicate",
                CheckConfig {
                    duplicates: 1,
                    ..none.clone()
                },
            ),
            (
                "one reordering",
                CheckConfig {
                    reorders: 1,
                    ..none.clone()
                },
            ),
            (
                "one message held back",
                CheckConfig {
                    delays: 1,
                    ..none.clone()
                },
            ),
            (
                "one crash",
                CheckConfig {
                    crashes_per_node: 1,
                    crashes: 1,
                    ..none
                },
            ),
        ]
    }
}

/// What the check found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Distinct states expanded.
    pub states: u64,
    /// Transitions taken (successor states generated, repeats included).
    pub transitions: u64,
    /// End states: nothing left to do, or the time horizon reached.
    pub ends: u64,
    /// End states by the relay's word on the settlement (`SETTLED`,
    /// `ABORTED`, or `UNMATCHED` for none).
    pub outcomes: BTreeMap<String, u64>,
    /// The longest path explored, in actions.
    pub max_depth: usize,
    /// States by the time they are at, in repetition intervals from the start.
    pub states_by_time: BTreeMap<u64, u64>,
    /// Whether every reachable state was expanded (false if `max_states` stopped it).
    pub complete: bool,
    /// The first violation, with the actions that led to it.
    pub violation: Option<CheckViolation>,
}

/// An invariant broken in some reachable state.
#[derive(Debug, Clone)]
pub struct CheckViolation {
    /// Which.
    pub invariant: Invariant,
    /// What was seen.
    pub detail: String,
    /// The actions from the start to the state, in order.
    pub path: Vec<String>,
}

const RELAY: usize = 0;
const SECURITIES: usize = 1;
const CASH: usize = 2;
/// Global time at the start.
const START_MS: u64 = 10_000;

#[derive(Debug, Clone)]
enum Engine {
    Relay(Box<Relay>),
    Gateway(Box<Gateway>),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKey {
    Relay(RelayTimer),
    Gateway(GatewayTimer),
}

#[derive(Debug, Clone)]
enum StoreRecord {
    Relay(isthmus_relay::Record),
    Gateway(isthmus_gateway::Record),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum StoreKey {
    Relay(isthmus_relay::RecordKey),
    Gateway(isthmus_gateway::RecordKey),
}

#[derive(Debug, Clone)]
struct NodeState {
    engine: Option<Engine>,
    store: BTreeMap<StoreKey, StoreRecord>,
    /// Due times, local clock.
    timers: BTreeMap<TimerKey, u64>,
    rng: SimRng,
    crashes_left: u32,
    /// When it went down, global milliseconds.
    down_since: Option<u64>,
    /// The fingerprint of all the above, while it is known: cleared by
    /// every action that touches the node ([`label`]).
    fingerprint: Option<u128>,
    /// Its text for the canonical fingerprint, kept and cleared alike.
    text: Option<Rc<String>>,
}

#[derive(Debug, Clone)]
struct Flight {
    from: usize,
    to: usize,
    /// Held back: it may stay in flight while time moves on once.
    held: bool,
    /// Shared by the states it is in flight in (and by its duplicate).
    message: Rc<Inbound>,
    /// Of `to` and `message`, for the state's fingerprint.
    fingerprint: u128,
}

/// A ledger as the check models it: the ledger's own state machine, with
/// the idempotency rule of ISM-1 §9.3 (a key repeated with the same
/// operation gets the first answer, with another operation a refusal).
#[derive(Debug, Clone)]
struct ModelLedger {
    market: Mic,
    state: LedgerState,
    next_seq: u64,
    answers: BTreeMap<String, (Operation, JournalPosition, Outcome)>,
}

/// One state of the world.
#[derive(Debug, Clone)]
struct State {
    now_ms: u64,
    /// Shared between states until an action touches one (copy on write):
    /// an action touches one node and at most its ledger.
    nodes: Vec<Rc<NodeState>>,
    ledgers: Vec<Rc<ModelLedger>>,
    flights: Vec<Flight>,
    losses_left: u32,
    duplicates_left: u32,
    crashes_left: u32,
    reorders_left: u32,
    delays_left: u32,
    /// Instructions whose participant had the relay's final word.
    final_words: BTreeSet<String>,
    /// (node, sender, message) of every write's cause: each handled once.
    handled: BTreeSet<(usize, NodeId, MessageId)>,
    /// Each ledger's fingerprint, cleared when the ledger changes.
    ledger_fingerprints: Vec<Option<u128>>,
    /// The sum (xor) of the fingerprints of `final_words` and `handled`'s
    /// members: both only grow, so the sum follows them without formatting them.
    sets_fingerprint: u128,
    /// A violation seen while the last action ran.
    broken: Option<(Invariant, String)>,
}

/// The fixed parts of a check: the trade, the nodes' configurations.
struct Setup {
    config: CheckConfig,
    trade: Trade,
    ids: [NodeId; 3],
    relay_config: RelayConfig,
    gateway_configs: [GatewayConfig; 2],
    horizon_ms: u64,
}

fn parsed<T, E: fmt::Display>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|e| format!("the check's {what} is invalid: {e}"))
}

/// The first trade of the simulator's workload of the kind wanted: the
/// same instructions the simulator settles, so the check and the simulator
/// agree on what a trade is.
fn trade_of_kind(kind: TradeKind) -> Result<Trade, String> {
    for run in 0..10_000u64 {
        let mut rng = SimRng::new(run);
        if let Some(trade) = workload::trades(run, 1, 1, &mut rng).pop() {
            if trade.kind == kind {
                return Ok(trade);
            }
        }
    }
    Err(format!("no trade of kind {kind:?} in the workload"))
}

impl Setup {
    fn new(config: CheckConfig) -> Result<Setup, String> {
        let trade = trade_of_kind(config.kind)?;
        let ids = [
            parsed("node id", NodeId::parse("relay-0.custodian"))?,
            parsed("node id", NodeId::parse("gw.xnys"))?,
            parsed("node id", NodeId::parse("gw.xasx"))?,
        ];
        let markets = [
            parsed("MIC", Mic::parse(workload::SECURITIES_MARKET))?,
            parsed("MIC", Mic::parse(workload::CASH_MARKET))?,
        ];
        let gateways: BTreeMap<Mic, NodeId> = markets
            .iter()
            .cloned()
            .zip([ids[SECURITIES].clone(), ids[CASH].clone()])
            .collect();
        let relay_config = RelayConfig {
            node: ids[RELAY].clone(),
            gateways: gateways.clone(),
            timing: config.timing,
            settlement_prefix: "STL".to_string(),
        };
        relay_config.check().map_err(|e| e.to_string())?;
        let gateway_config = |node: usize, market: &Mic| GatewayConfig {
            node: ids[node].clone(),
            market: market.clone(),
            relays: vec![ids[RELAY].clone()],
            gateways: gateways.clone(),
            timing: config.timing,
        };
        let gateway_configs = [
            gateway_config(SECURITIES, &markets[0]),
            gateway_config(CASH, &markets[1]),
        ];
        for gateway in &gateway_configs {
            gateway.check().map_err(|e| e.to_string())?;
        }
        // Liveness (ISM-1 §12.10 item 3) once the faults are spent: the
        // instructions are in and matched within a few repetitions, the
        // last lock closes by E2 + K after the match, three exchanges follow;
        // every loss, duplicate and crash costs at most a repetition and a
        // delivery more, and a crash the downtime besides.
        let t = config.timing;
        let step = 2 * t.retransmit_ms;
        let crashes = config.crashes.min(3 * config.crashes_per_node);
        let faults = u64::from(
            config.losses + config.duplicates + config.reorders + config.delays + crashes,
        );
        let horizon_ms = START_MS
            + t.matching_window_ms
            + t.securities_expiry_ms
            + 2 * t.max_clock_skew_ms
            + (6 + 2 * faults) * step
            + u64::from(crashes) * config.max_downtime_ms;
        Ok(Setup {
            config,
            trade,
            ids,
            relay_config,
            gateway_configs,
            horizon_ms,
        })
    }

    fn new_engine(&self, node: usize, store: &BTreeMap<StoreKey, StoreRecord>) -> Engine {
        if node == RELAY {
            let records = store.values().filter_map(|record| match record {
                StoreRecord::Relay(record) => Some(record.clone()),
                StoreRecord::Gateway(_) => None,
            });
            #[cfg_attr(not(feature = "broken-variants"), allow(unused_mut))]
            let mut relay = Relay::restore(self.relay_config.clone(), records);
            #[cfg(feature = "broken-variants")]
            relay.set_broken(self.config.broken.and_then(crate::world::Broken::relay));
            Engine::Relay(Box::new(relay))
        } else {
            let records = store.values().filter_map(|record| match record {
                StoreRecord::Gateway(record) => Some(record.clone()),
                StoreRecord::Relay(_) => None,
            });
            #[cfg_attr(not(feature = "broken-variants"), allow(unused_mut))]
            let mut gateway = Gateway::restore(self.gateway_configs[node - 1].clone(), records);
            #[cfg(feature = "broken-variants")]
            gateway.set_broken(self.config.broken.and_then(crate::world::Broken::gateway));
            Engine::Gateway(Box::new(gateway))
        }
    }

    fn initial(&self) -> Result<State, String> {
        let mut nodes = Vec::new();
        for node in 0..3 {
            nodes.push(Rc::new(NodeState {
                engine: Some(self.new_engine(node, &BTreeMap::new())),
                store: BTreeMap::new(),
                timers: BTreeMap::new(),
                rng: SimRng::new(0x5EED + node as u64),
                crashes_left: self.config.crashes_per_node,
                down_since: None,
                fingerprint: None,
                text: None,
            }));
        }
        let mut ledgers = Vec::new();
        for (index, market) in [workload::SECURITIES_MARKET, workload::CASH_MARKET]
            .iter()
            .enumerate()
        {
            let mut ledger = ModelLedger {
                market: parsed("MIC", Mic::parse(market))?,
                state: LedgerState::new(),
                next_seq: 0,
                answers: BTreeMap::new(),
            };
            for (account, units) in self.holdings(index) {
                ledger.setup(parsed("account", Operation::open_account(&account))?)?;
                if units > 0 {
                    let asset = crate::world::asset_of(index);
                    let amount = asset.format_units(units);
                    let issue = Operation::issue(&account, &asset.to_string(), &amount);
                    ledger.setup(parsed("issue", issue)?)?;
                }
            }
            ledgers.push(Rc::new(ledger));
        }
        Ok(State {
            now_ms: START_MS,
            nodes,
            ledgers,
            flights: Vec::new(),
            losses_left: self.config.losses,
            duplicates_left: self.config.duplicates,
            crashes_left: self.config.crashes,
            reorders_left: self.config.reorders,
            delays_left: self.config.delays,
            final_words: BTreeSet::new(),
            handled: BTreeSet::new(),
            ledger_fingerprints: vec![None; 2],
            sets_fingerprint: 0,
            broken: None,
        })
    }

    /// The accounts of the trade on ledger `index` (0 securities, 1 cash) and their starting units.
    fn holdings(&self, index: usize) -> Vec<(String, u64)> {
        let trade = &self.trade;
        let shares = workload::SHARES_EACH * 1_000_000;
        let cash = workload::AUD_EACH * 100;
        if index == 0 {
            vec![
                (
                    workload::seller_safe(trade.seller),
                    if trade.seller.is_some() { shares } else { 0 },
                ),
                (workload::buyer_safe(trade.buyer), 0),
            ]
        } else {
            vec![
                (workload::buyer_cash(trade.buyer), cash),
                (workload::seller_cash(trade.seller), 0),
            ]
        }
    }

    fn local_now(&self, state: &State, node: usize) -> u64 {
        (state.now_ms as i64 + self.config.offsets_ms[node]).max(0) as u64
    }

    fn ledger_now(&self, state: &State, ledger: usize) -> u64 {
        self.local_now(state, ledger + 1)
    }

    fn node_of(&self, id: &NodeId) -> Option<usize> {
        self.ids.iter().position(|candidate| candidate == id)
    }
}

impl ModelLedger {
    fn setup(&mut self, operation: Operation) -> Result<(), String> {
        let seq = self.next_seq;
        self.next_seq += 1;
        match self.state.apply(seq, &operation, START_MS) {
            Outcome::Applied(_) => Ok(()),
            Outcome::Refused(error) => Err(format!("setting up the check's ledger: {error}")),
        }
    }

    fn execute(&mut self, command: &LedgerCommand, now_ms: u64) -> CommandResult {
        let operation = command.operation();
        let key = command.key().as_str().to_string();
        let (position, outcome) = match self.answers.get(&key) {
            Some((earlier, _, _)) if *earlier != operation => {
                return Err(LedgerFailure::refused(
                    LedgerReason::IdempotencyKeyReused,
                    format!("idempotency key \"{key}\" was used for a different operation"),
                ))
            }
            Some((_, position, outcome)) => (position.clone(), outcome.clone()),
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                let outcome = self.state.apply(seq, &operation, now_ms);
                let position = JournalPosition {
                    seq,
                    entry_hash: zero_hash(),
                    time_ms: now_ms,
                };
                self.answers
                    .insert(key, (operation, position.clone(), outcome.clone()));
                (position, outcome)
            }
        };
        let effect = match outcome {
            Outcome::Applied(effect) => effect,
            Outcome::Refused(error) => {
                return Err(LedgerFailure::Refused {
                    error,
                    journaled: Some(position),
                })
            }
        };
        let journal = journal_ref(&self.market, &position)?;
        match (command, effect) {
            (LedgerCommand::Lock(order), Effect::Locked { lock_id }) => {
                Ok(LedgerDone::Locked(Locked {
                    lock_id: LockId::of_entry(lock_id),
                    hashlock: order.hashlock.clone(),
                    expiry_ms: order.expiry_ms,
                    journal,
                }))
            }
            (LedgerCommand::Claim(order), _) => Ok(LedgerDone::Claimed(Claimed {
                lock_id: order.lock_id,
                hashlock: order.preimage.hashlock(),
                preimage: order.preimage.clone(),
                journal,
            })),
            (LedgerCommand::Refund(order), _) => Ok(LedgerDone::Refunded(Refunded {
                lock_id: order.lock_id,
                journal,
            })),
            (LedgerCommand::Lock(_), effect) => {
                unreachable!("an applied lock had the effect {effect:?}")
            }
        }
    }
}

fn zero_hash() -> Hex32 {
    match Hex32::parse(&"0".repeat(64)) {
        Ok(hash) => hash,
        Err(error) => unreachable!("64 zeros are a hash: {error}"),
    }
}

/// What a node asked for, engine by engine.
enum Output {
    Relay(isthmus_relay::Output),
    Gateway(isthmus_gateway::Output),
}

impl State {
    fn handle_relay(&mut self, setup: &Setup, input: isthmus_relay::Input) {
        let now = setup.local_now(self, RELAY);
        let node = Rc::make_mut(&mut self.nodes[RELAY]);
        if let Some(Engine::Relay(relay)) = &mut node.engine {
            relay.handle(now, input, &mut node.rng);
        }
    }

    fn handle_gateway(&mut self, setup: &Setup, index: usize, input: isthmus_gateway::Input) {
        let now = setup.local_now(self, index);
        let node = Rc::make_mut(&mut self.nodes[index]);
        if let Some(Engine::Gateway(gateway)) = &mut node.engine {
            gateway.handle(now, input, &mut node.rng);
        }
    }

    fn crash(&mut self, node: usize) {
        let n = Rc::make_mut(&mut self.nodes[node]);
        n.engine = None;
        n.timers.clear();
        n.crashes_left -= 1;
        n.down_since = Some(self.now_ms);
        self.crashes_left -= 1;
    }

    fn note_cause(&mut self, node: usize, cause: Option<&(NodeId, MessageId)>) {
        let Some((sender, id)) = cause else { return };
        let cause = (node, sender.clone(), id.clone());
        let member = fingerprint_of(&("handled", &cause));
        if self.handled.insert(cause) {
            self.sets_fingerprint ^= member;
        } else if self.broken.is_none() {
            self.broken = Some((
                Invariant::ExactlyOnce,
                format!("node {node} handled message {id} from {sender} a second time"),
            ));
        }
    }

    fn send(&mut self, setup: &Setup, from: usize, outbound: Outbound) {
        if let Some(to) = setup.node_of(&outbound.to) {
            let message = Inbound {
                sender: setup.ids[from].clone(),
                id: outbound.id,
                body: outbound.body,
            };
            self.flights.push(Flight {
                from,
                to,
                held: false,
                fingerprint: fingerprint_of(&(to, &message)),
                message: Rc::new(message),
            });
        }
    }

    fn may_crash(&self, node: usize) -> bool {
        self.crashes_left > 0 && self.nodes[node].crashes_left > 0
    }

    fn poll(&mut self, node: usize) -> Option<Output> {
        match &mut Rc::make_mut(&mut self.nodes[node]).engine {
            Some(Engine::Relay(relay)) => relay.poll().map(Output::Relay),
            Some(Engine::Gateway(gateway)) => gateway.poll().map(Output::Gateway),
            None => None,
        }
    }

    /// Carries out `node`'s outputs until it has none, and pushes the state
    /// that results onto `out`, together with one state for each point
    /// between two outputs at which the node could crash.
    fn drain(mut self, setup: &Setup, node: usize, out: &mut Vec<(String, State)>) {
        let mut step = 0;
        while let Some(output) = self.poll(node) {
            step += 1;
            if self.may_crash(node) {
                let mut crashed = self.clone();
                crashed.crash(node);
                out.push((
                    format!("{} crashes before output {step}", setup.ids[node]),
                    crashed,
                ));
            }
            match output {
                Output::Relay(isthmus_relay::Output::Persist(write)) => {
                    self.note_cause(node, write.cause.as_ref());
                    for record in write.records {
                        Rc::make_mut(&mut self.nodes[node])
                            .store
                            .insert(StoreKey::Relay(record.key()), StoreRecord::Relay(record));
                    }
                    self.handle_relay(setup, isthmus_relay::Input::Persisted(write.id));
                }
                Output::Gateway(isthmus_gateway::Output::Persist(write)) => {
                    self.note_cause(node, write.cause.as_ref());
                    for record in write.records {
                        Rc::make_mut(&mut self.nodes[node]).store.insert(
                            StoreKey::Gateway(record.key()),
                            StoreRecord::Gateway(record),
                        );
                    }
                    self.handle_gateway(setup, node, isthmus_gateway::Input::Persisted(write.id));
                }
                Output::Relay(isthmus_relay::Output::Send(outbound))
                | Output::Gateway(isthmus_gateway::Output::Send(outbound)) => {
                    self.send(setup, node, outbound)
                }
                Output::Relay(isthmus_relay::Output::SetTimer { timer, at_ms }) => {
                    Rc::make_mut(&mut self.nodes[node])
                        .timers
                        .insert(TimerKey::Relay(timer), at_ms);
                }
                Output::Gateway(isthmus_gateway::Output::SetTimer { timer, at_ms }) => {
                    Rc::make_mut(&mut self.nodes[node])
                        .timers
                        .insert(TimerKey::Gateway(timer), at_ms);
                }
                Output::Gateway(isthmus_gateway::Output::Ledger {
                    settlement_id,
                    leg,
                    command,
                }) => {
                    let ledger = node - 1;
                    let now = setup.ledger_now(&self, ledger);
                    let result = Rc::make_mut(&mut self.ledgers[ledger]).execute(&command, now);
                    self.ledger_fingerprints[ledger] = None;
                    if self.may_crash(node) {
                        // The ledger did it; the gateway never heard (ISM-1 §12.10 item 1).
                        let mut crashed = self.clone();
                        crashed.crash(node);
                        out.push((
                            format!(
                                "{} crashes after its ledger ran output {step}",
                                setup.ids[node]
                            ),
                            crashed,
                        ));
                    }
                    self.handle_gateway(
                        setup,
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
                    if is_final_word(&body) {
                        let word = instruction_id.as_str().to_string();
                        let member = fingerprint_of(&("final word", &word));
                        if self.final_words.insert(word) {
                            self.sets_fingerprint ^= member;
                        }
                    }
                    // The participant acknowledges at once.
                    self.handle_gateway(
                        setup,
                        node,
                        isthmus_gateway::Input::Acknowledged {
                            instruction_id,
                            index,
                        },
                    );
                }
            }
        }
        if step > 0 && self.may_crash(node) {
            let mut crashed = self.clone();
            crashed.crash(node);
            out.push((
                format!("{} crashes after its last output", setup.ids[node]),
                crashed,
            ));
        }
        out.push((String::new(), self));
    }

    /// Every action possible from this state, each with the state it leads to.
    fn successors(&self, setup: &Setup) -> Vec<(String, State)> {
        let mut out = Vec::new();
        let mut links = HashSet::new();
        for (index, flight) in self.flights.iter().enumerate() {
            if !links.insert((flight.from, flight.to)) {
                continue; // not the first in its link: it arrives after those before it
            }
            let what = format!(
                "{} {} from {} to {}",
                flight.message.body.kind(),
                flight.message.id,
                flight.message.sender,
                setup.ids[flight.to]
            );
            let mut next = self.clone();
            let flight = next.flights.remove(index);
            let to = flight.to;
            match next.nodes[to].engine {
                Some(Engine::Relay(_)) => {
                    next.handle_relay(
                        setup,
                        isthmus_relay::Input::Message(Rc::unwrap_or_clone(flight.message)),
                    );
                    label(&mut out, to, format!("deliver {what}"), |out| {
                        next.drain(setup, to, out)
                    });
                }
                Some(Engine::Gateway(_)) => {
                    next.handle_gateway(
                        setup,
                        to,
                        isthmus_gateway::Input::Message(Rc::unwrap_or_clone(flight.message)),
                    );
                    label(&mut out, to, format!("deliver {what}"), |out| {
                        next.drain(setup, to, out)
                    });
                }
                None => out.push((format!("deliver {what} (down: lost)"), next)),
            }
            if self.losses_left > 0 {
                let mut next = self.clone();
                next.flights.remove(index);
                next.losses_left -= 1;
                out.push((format!("lose {what}"), next));
            }
            if self.duplicates_left > 0 {
                let mut next = self.clone();
                let mut copy = self.flights[index].clone();
                copy.held = false;
                next.flights.push(copy);
                next.duplicates_left -= 1;
                out.push((format!("duplicate {what}"), next));
            }
            if self.reorders_left > 0
                && self.flights[index + 1..]
                    .iter()
                    .any(|later| (later.from, later.to) == (flight.from, flight.to))
            {
                let mut next = self.clone();
                let moved = next.flights.remove(index);
                next.flights.push(moved);
                next.reorders_left -= 1;
                out.push((format!("reorder {what} behind the rest of its link"), next));
            }
            if self.delays_left > 0 && !flight.held {
                let mut next = self.clone();
                next.flights[index].held = true;
                next.delays_left -= 1;
                out.push((format!("hold back {what}"), next));
            }
        }
        for (node, instruction) in [
            (SECURITIES, Some(&setup.trade.deliver)),
            (CASH, setup.trade.receive.as_ref()),
        ] {
            let Some(instruction) = instruction else {
                continue;
            };
            let key = StoreKey::Gateway(isthmus_gateway::RecordKey::Instruction(
                instruction.instruction_id.clone(),
            ));
            if self.nodes[node].engine.is_none() || self.nodes[node].store.contains_key(&key) {
                continue;
            }
            let mut next = self.clone();
            next.handle_gateway(
                setup,
                node,
                isthmus_gateway::Input::Submit {
                    instruction: instruction.clone(),
                    relay: setup.ids[RELAY].clone(),
                },
            );
            let what = format!(
                "submit {} at {}",
                instruction.instruction_id, setup.ids[node]
            );
            label(&mut out, node, what, |out| next.drain(setup, node, out));
        }
        for node in 0..3 {
            if self.nodes[node].engine.is_some() {
                continue;
            }
            let mut next = self.clone();
            Rc::make_mut(&mut next.nodes[node]).down_since = None;
            let mut engine = setup.new_engine(node, &next.nodes[node].store);
            let now = setup.local_now(&next, node);
            match &mut engine {
                Engine::Relay(relay) => relay.resume(now),
                Engine::Gateway(gateway) => gateway.resume(now),
            }
            Rc::make_mut(&mut next.nodes[node]).engine = Some(engine);
            let what = format!("{} restarts from its store", setup.ids[node]);
            label(&mut out, node, what, |out| next.drain(setup, node, out));
        }
        self.advance(setup, &mut out);
        out
    }

    /// Whether each participant's instruction is persisted at its gateway.
    fn submitted(&self, setup: &Setup) -> bool {
        [
            (SECURITIES, Some(&setup.trade.deliver)),
            (CASH, setup.trade.receive.as_ref()),
        ]
        .into_iter()
        .all(|(node, instruction)| {
            instruction.is_none_or(|instruction| {
                self.nodes[node].store.contains_key(&StoreKey::Gateway(
                    isthmus_gateway::RecordKey::Instruction(instruction.instruction_id.clone()),
                ))
            })
        })
    }

    /// Moves time to the next instant a timer is due, if every message in
    /// flight is held back and every node down may stay down that long.
    fn advance(&self, setup: &Setup, out: &mut Vec<(String, State)>) {
        // The participants instruct at the start, in either order and
        // interleaved with anything else, but before time moves on: an
        // instruction later than the matching cut-off is another trade.
        if self.flights.iter().any(|flight| !flight.held) || !self.submitted(setup) {
            return;
        }
        let mut latest = setup.horizon_ms;
        for node in &self.nodes {
            if let Some(since) = node.down_since {
                latest = latest.min(since + setup.config.max_downtime_ms);
            }
        }
        let mut due: Vec<(u64, usize, TimerKey)> = Vec::new();
        for (index, node) in self.nodes.iter().enumerate() {
            if node.engine.is_none() {
                continue;
            }
            for (key, at_local) in &node.timers {
                let at = (*at_local as i64 - setup.config.offsets_ms[index]).max(self.now_ms as i64)
                    as u64;
                due.push((at, index, key.clone()));
            }
        }
        let Some(at) = due.iter().map(|(at, _, _)| *at).min() else {
            return;
        };
        if at > latest {
            return;
        }
        // A node takes the timers due at one instant together, in key
        // order, before its outputs (as a store commits a group of writes);
        // the nodes whose timers are due take them in every order.
        let mut by_node: BTreeMap<usize, Vec<TimerKey>> = BTreeMap::new();
        for (_, node, key) in due.into_iter().filter(|(when, _, _)| *when == at) {
            by_node.entry(node).or_default().push(key);
        }
        for (node, keys) in by_node {
            let mut next = self.clone();
            next.now_ms = at;
            for flight in &mut next.flights {
                flight.held = false; // held back once: now it must arrive or be lost
            }
            let what = format!(
                "at {} ms, {} timers {keys:?}",
                at - START_MS,
                setup.ids[node]
            );
            for key in keys {
                Rc::make_mut(&mut next.nodes[node]).timers.remove(&key);
                match key {
                    TimerKey::Relay(timer) => {
                        next.handle_relay(setup, isthmus_relay::Input::Timer(timer))
                    }
                    TimerKey::Gateway(timer) => {
                        next.handle_gateway(setup, node, isthmus_gateway::Input::Timer(timer))
                    }
                }
            }
            label(out, node, what, |out| next.drain(setup, node, out));
        }
    }
}

/// Drains into a scratch list and names each resulting state after `what`.
/// The action touched `node` alone: its fingerprint is cleared.
fn label(
    out: &mut Vec<(String, State)>,
    node: usize,
    what: String,
    drain: impl FnOnce(&mut Vec<(String, State)>),
) {
    let mut scratch = Vec::new();
    drain(&mut scratch);
    for (how, mut state) in scratch {
        let touched = Rc::make_mut(&mut state.nodes[node]);
        touched.fingerprint = None;
        touched.text = None;
        let name = if how.is_empty() {
            what.clone()
        } else {
            format!("{what}; {how}")
        };
        out.push((name, state));
    }
}

fn is_final_word(body: &isthmus_spec::body::Body) -> bool {
    use isthmus_spec::body::{Body, InstructionState};
    match body {
        Body::SettlementConfirmation(_) => true,
        Body::InstructionStatus(status) => status.status == InstructionState::Cancelled,
        _ => false,
    }
}

// ----- fingerprints -----

/// Formats what it is given into one text and hashes that text with
/// XXH3-128 once: a 128-bit fingerprint. (Hashing as it formats costs more:
/// `Debug` writes many short pieces.)
struct Fingerprinter {
    text: String,
}

impl Fingerprinter {
    fn new() -> Fingerprinter {
        Fingerprinter {
            text: String::with_capacity(16 * 1024),
        }
    }

    fn add(&mut self, value: &impl fmt::Debug) {
        // Writing into a String cannot fail.
        let _ = write!(self.text, "{value:?}\u{1f}");
    }

    fn finish(&self) -> u128 {
        xxhash_rust::xxh3::xxh3_128(self.text.as_bytes())
    }
}

fn fingerprint_of(value: &impl fmt::Debug) -> u128 {
    let mut f = Fingerprinter::new();
    f.add(value);
    f.finish()
}

impl State {
    /// The time and the fault budgets left.
    fn budgets(&self) -> (u64, u32, u32, u32, u32, u32) {
        (
            self.now_ms,
            self.losses_left,
            self.duplicates_left,
            self.delays_left,
            self.reorders_left,
            self.crashes_left,
        )
    }

    /// The fingerprint of the state's canonical text ([`crate::canonical`]):
    /// states alike but for random values, dead ids and idle counters share it.
    fn canonical_fingerprint(&mut self) -> u128 {
        let mut text = String::with_capacity(32 * 1024);
        let _ = write!(text, "{:?}", (self.budgets(), &self.broken));
        for node in &mut self.nodes {
            let known = match &node.text {
                Some(known) => Rc::clone(known),
                None => {
                    let node = Rc::make_mut(node);
                    let known = Rc::new(format!(
                        "{:?}",
                        (
                            &node.engine,
                            &node.store,
                            &node.timers,
                            node.crashes_left,
                            node.down_since
                        )
                    ));
                    node.text = Some(Rc::clone(&known));
                    known
                }
            };
            text.push('\u{1f}');
            text.push_str(&known);
        }
        for ledger in &self.ledgers {
            let _ = write!(text, "\u{1f}{ledger:?}");
        }
        let _ = write!(
            text,
            "\u{1f}{:?}\u{1f}HANDLED{:?}",
            self.final_words, self.handled
        );
        let mut links: BTreeMap<(usize, usize), Vec<&Flight>> = BTreeMap::new();
        for flight in &self.flights {
            links
                .entry((flight.from, flight.to))
                .or_default()
                .push(flight);
        }
        for (link, flights) in links {
            let _ = write!(text, "\u{1f}{link:?}");
            for flight in flights {
                let _ = write!(text, "{:?}{}", flight.message, flight.held);
            }
        }
        xxhash_rust::xxh3::xxh3_128(crate::canonical::canonical(&text).as_bytes())
    }

    /// Everything in the state (up to renaming with `symmetry`); the
    /// messages in flight as a multiset.
    fn fingerprint(&mut self, symmetry: bool) -> u128 {
        if symmetry {
            return self.canonical_fingerprint();
        }
        let mut f = Fingerprinter::new();
        f.add(&self.budgets());
        for node in &mut self.nodes {
            let known = match node.fingerprint {
                Some(known) => known,
                None => {
                    let node = Rc::make_mut(node);
                    let known = fingerprint_of(&(
                        &node.engine,
                        &node.store,
                        &node.timers,
                        &node.rng,
                        node.crashes_left,
                        node.down_since,
                    ));
                    node.fingerprint = Some(known);
                    known
                }
            };
            f.add(&known);
        }
        for (ledger, known) in self.ledgers.iter().zip(&mut self.ledger_fingerprints) {
            let known = *known.get_or_insert_with(|| fingerprint_of(ledger));
            f.add(&known);
        }
        f.add(&self.sets_fingerprint);
        // Each link's messages in their order; the links in node order.
        let mut links: BTreeMap<(usize, usize), Vec<(u128, bool)>> = BTreeMap::new();
        for flight in &self.flights {
            links
                .entry((flight.from, flight.to))
                .or_default()
                .push((flight.fingerprint, flight.held));
        }
        f.add(&links);
        f.finish()
    }
}

// ----- invariants -----

fn leg_of(ledger: usize) -> Leg {
    if ledger == 0 {
        Leg::Securities
    } else {
        Leg::Cash
    }
}

impl Setup {
    fn relay<'a>(&self, state: &'a State) -> Option<&'a Relay> {
        match &state.nodes[RELAY].engine {
            Some(Engine::Relay(relay)) => Some(relay),
            _ => None,
        }
    }

    /// The invariants every state keeps (ISM-1 §12.10 item 2).
    fn check_state(&self, state: &State) -> Option<(Invariant, String)> {
        if let Some(broken) = &state.broken {
            return Some(broken.clone());
        }
        let mut claimed = Vec::new();
        let mut refunded = Vec::new();
        let mut locked = Vec::new();
        for (index, ledger) in state.ledgers.iter().enumerate() {
            let leg = leg_of(index);
            let htlcs: Vec<_> = ledger.state.htlcs().collect();
            if htlcs.len() > 1 {
                return Some((
                    Invariant::ExactlyOnce,
                    format!("the {leg} leg was locked {} times", htlcs.len()),
                ));
            }
            for htlc in htlcs {
                locked.push(leg);
                let (from, to, units) = crate::world::intended(&self.trade, leg);
                if htlc.from.to_string() != from
                    || htlc.beneficiary.to_string() != to
                    || Some(htlc.units) != units
                {
                    return Some((
                        Invariant::Beneficiary,
                        format!(
                            "the {leg} leg locked {} units from {} for {}, but the trade says {units:?} from {from} for {to}",
                            htlc.units, htlc.from, htlc.beneficiary
                        ),
                    ));
                }
                match htlc.status {
                    HtlcStatus::Open => {}
                    HtlcStatus::Claimed { .. } => claimed.push(leg),
                    HtlcStatus::Refunded { .. } => refunded.push(leg),
                }
            }
            if let Err(error) = ledger.state.check_invariants() {
                return Some((
                    Invariant::Conservation,
                    format!("the ledger of {}: {error}", ledger.market),
                ));
            }
        }
        if !claimed.is_empty() && !refunded.is_empty() {
            return Some((
                Invariant::Atomicity,
                format!("claimed {claimed:?} but refunded {refunded:?}"),
            ));
        }
        if self.trade.kind != TradeKind::FreeOfPayment {
            for leg in &claimed {
                let other = if *leg == Leg::Cash {
                    Leg::Securities
                } else {
                    Leg::Cash
                };
                if !locked.contains(&other) {
                    return Some((
                        Invariant::ClaimBeforeLocks,
                        format!("the {leg} leg was claimed while the {other} leg was not locked"),
                    ));
                }
            }
        }
        if let Some(relay) = self.relay(state) {
            for settlement in relay.settlements() {
                if settlement.phase == Phase::Settled && !refunded.is_empty() {
                    return Some((
                        Invariant::Atomicity,
                        format!(
                            "the relay settled {} but the ledgers refunded {refunded:?}",
                            settlement.id
                        ),
                    ));
                }
                if settlement.phase == Phase::Aborted && !claimed.is_empty() {
                    return Some((
                        Invariant::Atomicity,
                        format!(
                            "the relay aborted {} but the ledgers claimed {claimed:?}",
                            settlement.id
                        ),
                    ));
                }
            }
        }
        None
    }

    /// What an end state must show (ISM-1 §12.10 item 3): the relay's word
    /// final, every lock closed, every participant told.
    fn check_end(&self, state: &State) -> Option<(Invariant, String)> {
        let Some(relay) = self.relay(state) else {
            return Some((
                Invariant::Liveness,
                "the relay is down at the end".to_string(),
            ));
        };
        let settlements: Vec<_> = relay.settlements().collect();
        let matches = matches!(
            self.trade.kind,
            TradeKind::AgainstPayment | TradeKind::FreeOfPayment | TradeKind::Insufficient
        );
        if matches && settlements.len() != 1 {
            return Some((
                Invariant::Liveness,
                format!(
                    "the relay holds {} settlements of the trade at the end",
                    settlements.len()
                ),
            ));
        }
        if !matches && !settlements.is_empty() {
            return Some((
                Invariant::ExactlyOnce,
                format!(
                    "instructions that do not match made {} settlement(s)",
                    settlements.len()
                ),
            ));
        }
        for settlement in &settlements {
            if !settlement.phase.is_final() {
                return Some((
                    Invariant::Liveness,
                    format!(
                        "settlement {} is still {} at the end",
                        settlement.id,
                        settlement.phase.name()
                    ),
                ));
            }
        }
        for (index, ledger) in state.ledgers.iter().enumerate() {
            if ledger.state.open_locks().next().is_some() {
                return Some((
                    Invariant::Liveness,
                    format!("the {} leg is still locked at the end", leg_of(index)),
                ));
            }
        }
        if let Some(settlement) = settlements.first() {
            let claims = state
                .ledgers
                .iter()
                .flat_map(|ledger| ledger.state.htlcs())
                .filter(|htlc| matches!(htlc.status, HtlcStatus::Claimed { .. }))
                .count();
            if settlement.phase == Phase::Settled && claims != settlement.legs.len() {
                return Some((
                    Invariant::Atomicity,
                    format!(
                        "the relay settled {} but the ledgers claimed {claims} of its {} legs",
                        settlement.id,
                        settlement.legs.len()
                    ),
                ));
            }
        }
        for instruction in [Some(&self.trade.deliver), self.trade.receive.as_ref()]
            .into_iter()
            .flatten()
        {
            if !state
                .final_words
                .contains(instruction.instruction_id.as_str())
            {
                return Some((
                    Invariant::Liveness,
                    format!(
                        "instruction {} never had the relay's final word",
                        instruction.instruction_id
                    ),
                ));
            }
        }
        None
    }

    /// Whether the trade's atomicity is decided for good: every leg it
    /// locks is on its ledger and claimed or refunded, which no later action
    /// undoes (§9.3). The name of the decision: `CLAIMED` or `REFUNDED`.
    fn decided(&self, state: &State) -> Option<String> {
        let legs = match self.trade.kind {
            TradeKind::AgainstPayment => 2,
            TradeKind::FreeOfPayment => 1,
            _ => return None,
        };
        let htlcs: Vec<_> = state
            .ledgers
            .iter()
            .flat_map(|ledger| ledger.state.htlcs())
            .collect();
        if htlcs.len() != legs {
            return None;
        }
        let mut names = BTreeSet::new();
        for htlc in htlcs {
            names.insert(match htlc.status {
                HtlcStatus::Open => return None,
                HtlcStatus::Claimed { .. } => "CLAIMED",
                HtlcStatus::Refunded { .. } => "REFUNDED",
            });
        }
        Some(names.into_iter().collect::<Vec<_>>().join("+"))
    }

    fn outcome(&self, state: &State) -> String {
        self.relay(state)
            .and_then(|relay| relay.settlements().next())
            .map_or("UNMATCHED".to_string(), |s| s.phase.name().to_string())
    }
}

// ----- the search -----

/// Explores every state reachable under `config`, depth first, and checks
/// each. Stops at the first violation, or after `max_states` states.
pub fn check(config: CheckConfig) -> Result<CheckReport, String> {
    check_with_progress(config, &|_| {})
}

/// [`check`], calling `progress` with the states expanded every 100,000.
pub fn check_with_progress(
    config: CheckConfig,
    progress: &dyn Fn(u64),
) -> Result<CheckReport, String> {
    let setup = Setup::new(config)?;
    let mut initial = setup.initial()?;
    let mut report = CheckReport::default();
    let mut visited: HashSet<u128> = HashSet::new();
    visited.insert(initial.fingerprint(setup.config.symmetry));
    let mut stack: Vec<(usize, String, State)> = vec![(0, "start".to_string(), initial)];
    let mut path: Vec<String> = Vec::new();
    while let Some((depth, what, state)) = stack.pop() {
        // The path to this state: its ancestors are path[..depth] (depth first).
        path.truncate(depth);
        path.push(what);
        report.states += 1;
        report.max_depth = report.max_depth.max(depth);
        *report
            .states_by_time
            .entry((state.now_ms - START_MS) / setup.config.timing.retransmit_ms)
            .or_default() += 1;
        if report.states % 100_000 == 0 {
            progress(report.states);
        }
        if let Some((invariant, detail)) = setup.check_state(&state) {
            report.violation = Some(CheckViolation {
                invariant,
                detail,
                path: path.clone(),
            });
            return Ok(report);
        }
        if setup.config.safety_only {
            if let Some(decided) = setup.decided(&state) {
                report.ends += 1;
                *report.outcomes.entry(decided).or_default() += 1;
                continue;
            }
        }
        let successors = state.successors(&setup);
        report.transitions += successors.len() as u64;
        if successors.is_empty() {
            report.ends += 1;
            *report.outcomes.entry(setup.outcome(&state)).or_default() += 1;
            if let Some((invariant, detail)) = setup.check_end(&state) {
                report.violation = Some(CheckViolation {
                    invariant,
                    detail,
                    path: path.clone(),
                });
                return Ok(report);
            }
        }
        if report.states >= setup.config.max_states {
            return Ok(report);
        }
        for (what, mut next) in successors {
            if visited.insert(next.fingerprint(setup.config.symmetry)) {
                stack.push((depth + 1, what, next));
            }
        }
    }
    report.complete = true;
    Ok(report)
}
