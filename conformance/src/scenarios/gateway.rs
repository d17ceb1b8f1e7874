//! Levels `settlement` and `recovery` against a gateway (ISM-1 §12.6,
//! §12.7, §12.10): the suite plays the relay and the other gateway. The
//! gateway's participant instructs through the `--instruct-cmd` hook, which
//! funds its account on the gateway's ledger; the suite, as the relay,
//! matches the instruction with a receipt of its own other gateway's,
//! proposes, asks for the lock and then claims, hands the secret over, or
//! lets the lock expire.

use serde_json::{json, Value};

use isthmus_spec::time::Timestamp;
use isthmus_spec::Envelope;

use super::settlement::{body, expect_equal, kind_is, market, HANDSHAKE};
use super::{Check, Ran, Scenario};
use crate::catalogue::{Level, Role, Strength};
use crate::fixtures::{self, Pair};
use crate::harness::{now_ms, Funding, Harness, Transcript};
use crate::report::Failure;

const LOCKS: &str = "ism1/12.6/4-lock-on-request";
const REFUND: &str = "ism1/12.6/7-refund-after-expiry";
const RESTART_INSTRUCTED: &str = "ism1/12.10/3-gateway-restart-instructed";
const AFTER_HANDSHAKE: &[&str] = &[HANDSHAKE];
const AFTER_LOCKS: &[&str] = &[HANDSHAKE, LOCKS];
const AFTER_REFUND: &[&str] = &[HANDSHAKE, LOCKS, REFUND];
const AFTER_RESTART_INSTRUCTED: &[&str] = &[HANDSHAKE, LOCKS, RESTART_INSTRUCTED];

macro_rules! scenario {
    ($id:expr, $clause:expr, $level:ident, $after:expr, $title:expr, $body:ident) => {
        Scenario {
            id: $id,
            clause: $clause,
            strength: Strength::Must,
            level: Level::$level,
            roles: &[Role::Gateway],
            feature: None,
            title: $title,
            after: $after,
            run: |h, t| -> Check<'_> { Box::pin($body(h, t)) },
        }
    };
}

/// The settlement and recovery scenarios against a gateway, in the order they run.
pub static SCENARIOS: [Scenario; 12] = [
    scenario!("ism1/12.6/3-lock-unknown-settlement", "ISM-1 §12.6 rule 3", Settlement, AFTER_HANDSHAKE,
        "a LockRequest for a settlement it has no proposal of is refused with SETTLEMENT_UNKNOWN", lock_unknown_settlement),
    scenario!("ism1/12.6/3-lock-not-instructed", "ISM-1 §12.6 rule 3", Settlement, AFTER_HANDSHAKE,
        "a LockRequest for a leg no instruction of its participants names is refused with PROPOSAL_MISMATCH", lock_not_instructed),
    scenario!(LOCKS, "ISM-1 §12.6 rules 3–4, §6.4, §6.5", Settlement, AFTER_HANDSHAKE,
        "its participant's instruction goes to the relay; the LockRequest of the proposal's leg is answered with a LockReceipt of its hashlock and expiry", lock_on_request),
    scenario!("ism1/12.6/3-lock-terms-differ", "ISM-1 §12.6 rule 3, §6.4 duty 1", Settlement, AFTER_LOCKS,
        "a LockRequest whose quantity is not the proposal's is refused with PROPOSAL_MISMATCH, and nothing is locked", lock_terms_differ),
    scenario!("ism1/12.6/5-claim-on-request", "ISM-1 §12.6 rules 5–6, §12.7 rule 1", Settlement, AFTER_LOCKS,
        "the relay's ClaimRequest is claimed: a ClaimReceipt with the preimage to the relay and to the other leg's gateway", claim_on_request),
    scenario!("ism1/12.6/5-wrong-secret", "ISM-1 §12.6 rule 5", Settlement, AFTER_LOCKS,
        "a ClaimRequest with another secret (and its own hashlock) is refused with HASHLOCK_MISMATCH and claims nothing; the right one then claims", wrong_secret),
    scenario!("ism1/12.7/2-secret-from-other-gateway", "ISM-1 §12.7 rules 1–3, §12.6 rule 5", Settlement, AFTER_LOCKS,
        "with the relay silent, the other gateway's ClaimReceipt hands p over: the gateway claims and sends its ClaimReceipt to both", secret_from_other_gateway),
    scenario!(REFUND, "ISM-1 §12.6 rule 7, §6.7", Settlement, AFTER_LOCKS,
        "an unclaimed lock is refunded after its expiry, not before (within Δ, as given with --delta-ms): a RefundReceipt to the relay", refund_after_expiry),
    scenario!("ism1/12.6/6-claim-after-expiry", "ISM-1 §12.6 rules 5–7", Settlement, AFTER_REFUND,
        "a ClaimRequest after the lock's expiry claims nothing and sends p to no one; the lock is refunded", claim_after_expiry),
    scenario!(RESTART_INSTRUCTED, "ISM-1 §12.10 item 3, §12.9, §12.6 rule 1", Recovery, AFTER_LOCKS,
        "restarted after its participant instructed: it still knows the instruction and locks the proposal's leg", restart_instructed),
    scenario!("ism1/12.10/3-gateway-restart-locked", "ISM-1 §12.10 item 3, §12.9", Recovery, AFTER_RESTART_INSTRUCTED,
        "restarted with a leg LOCKED: the relay's ClaimRequest is claimed as before", restart_locked),
    scenario!("ism1/12.10/3-gateway-restart-claimed", "ISM-1 §12.10 item 3, §12.8, §12.9", Recovery, AFTER_RESTART_INSTRUCTED,
        "restarted after its claim: a repeated ClaimRequest gets the ClaimReceipt again, same lock and preimage", restart_claimed),
];

/// Why a scenario cannot run against this gateway, if it cannot.
fn needs(h: &Harness, restart: bool, delta: bool) -> Result<(), Ran> {
    h.reachable().map_err(Ran::CannotRun)?;
    if h.options.instruct_cmd.is_none() {
        return Err(Ran::CannotRun(
            "no instruct hook: pass --instruct-cmd COMMAND (fund the participant's account and submit the instruction; conformance/README.md)".into(),
        ));
    }
    if restart && h.options.restart_cmd.is_none() {
        return Err(Ran::CannotRun(
            "no restart hook: pass --restart-cmd COMMAND (kill the target with SIGKILL and start it again)".into(),
        ));
    }
    if delta && h.options.delta_ms.is_none() {
        return Err(Ran::CannotRun(
            "the expiries of a lock the suite watches expire are chosen from Δ: pass --delta-ms"
                .into(),
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn timestamp(unix_ms: u64) -> String {
    Timestamp::from_unix_millis(unix_ms)
        .map_or_else(|| "2026-01-01T00:00:00Z".to_string(), |t| t.to_string())
}

fn account(owner: &str, account: &str) -> Value {
    json!({"owner": owner, "account": account})
}

/// When a lock expires: far off, or soon enough for the suite to watch.
#[derive(Debug, Clone, Copy)]
enum Expiry {
    /// T1 and T2 in ten and twenty minutes: nothing expires during a run.
    Distant,
    /// T1 in 3Δ and T2 one second more than Δ after it.
    Soon,
}

/// A settlement of the suite's, with the target's participant as the
/// seller: the securities leg on the target's market, the cash leg on the
/// other gateway's.
struct Trade {
    pair: Pair,
    settlement_id: String,
    preimage: [u8; 32],
    hashlock: String,
    t1_ms: u64,
    t2_ms: u64,
}

impl Trade {
    fn new(h: &Harness, expiry: Expiry) -> Trade {
        let preimage: [u8; 32] = h.random();
        let now = now_ms();
        let (t1_ms, t2_ms) = match expiry {
            Expiry::Distant => (now + 600_000, now + 1_200_000),
            Expiry::Soon => {
                let delta = h.options.delta_ms.unwrap_or(2_500);
                (now + 3 * delta, now + 4 * delta + 1_000)
            }
        };
        Trade {
            pair: Pair {
                reference: h.reference(),
                securities_market: h
                    .target_member
                    .market
                    .as_ref()
                    .map_or_else(String::new, |m| m.as_str().to_string()),
                cash_market: market(h.secondary()),
                against_payment: true,
                quantity: 100,
                buyer_quantity: 100,
            },
            settlement_id: h.reference(),
            hashlock: sha256_hex(&preimage),
            preimage,
            t1_ms,
            t2_ms,
        }
    }

    fn funding(&self) -> Funding {
        Funding {
            owner: fixtures::SELLER.into(),
            account: fixtures::SELLER_SAFE.into(),
            asset: fixtures::ISIN.into(),
            quantity: self.pair.quantity.to_string(),
            beneficiary_owner: fixtures::BUYER.into(),
            beneficiary_account: fixtures::BUYER_SAFE.into(),
        }
    }

    fn proposal(&self) -> Value {
        json!({
            "settlement_id": self.settlement_id,
            "deliver_instruction_id": self.pair.deliver_id(),
            "receive_instruction_id": self.pair.receive_id(),
            "isin": fixtures::ISIN,
            "quantity": self.pair.quantity.to_string(),
            "settlement_amount": {"amount": fixtures::AMOUNT, "currency": fixtures::CURRENCY},
            "settlement_date": self.pair.deliver()["settlement_date"],
            "hashlock": self.hashlock,
            "securities_leg": {
                "market": self.pair.securities_market,
                "from": account(fixtures::SELLER, fixtures::SELLER_SAFE),
                "to": account(fixtures::BUYER, fixtures::BUYER_SAFE),
                "expires_at": timestamp(self.t2_ms),
            },
            "cash_leg": {
                "market": self.pair.cash_market,
                "from": account(fixtures::BUYER, fixtures::BUYER_CASH),
                "to": account(fixtures::SELLER, fixtures::SELLER_CASH),
                "expires_at": timestamp(self.t1_ms),
            },
        })
    }

    fn lock_request(&self, quantity: u64) -> Value {
        json!({
            "settlement_id": self.settlement_id,
            "leg": "SECURITIES",
            "market": self.pair.securities_market,
            "from": account(fixtures::SELLER, fixtures::SELLER_SAFE),
            "beneficiary": account(fixtures::BUYER, fixtures::BUYER_SAFE),
            "securities": {"isin": fixtures::ISIN, "quantity": quantity.to_string()},
            "hashlock": self.hashlock,
            "expires_at": timestamp(self.t2_ms),
        })
    }

    fn claim_request(&self) -> Value {
        json!({
            "settlement_id": self.settlement_id,
            "hashlock": self.hashlock,
            "preimage": hex(&self.preimage),
        })
    }

    /// The other gateway's ClaimReceipt for the cash leg: the hand-over of p.
    fn cash_claim_receipt(&self) -> Value {
        fixtures::claim_receipt(
            &self.settlement_id,
            "CASH",
            &self.pair.cash_market,
            &json!(self.hashlock),
            &json!(hex(&self.preimage)),
        )
    }
}

fn of_settlement<'a>(kind: &'a str, trade: &'a Trade) -> impl Fn(&Envelope) -> bool + 'a {
    move |m: &Envelope| kind_is(m, kind) && body(m)["settlement_id"] == trade.settlement_id.as_str()
}

/// The target's participant instructs; the instruction reaches the relay.
async fn instructed(h: &Harness, trade: &Trade, t: &mut Transcript) -> Result<Envelope, Failure> {
    h.instruct(&trade.pair.deliver(), &trade.funding(), t)
        .await?;
    let id = trade.pair.deliver_id();
    h.wait_for(
        h.primary(),
        "the participant's SettlementInstruction (§12.6 rule 1)",
        |m| kind_is(m, "SettlementInstruction") && body(m)["instruction_id"] == id.as_str(),
        t,
    )
    .await
}

/// As the relay: MATCHED to the instruction, then the proposal.
async fn propose(
    h: &Harness,
    trade: &Trade,
    instruction: &Envelope,
    t: &mut Transcript,
) -> Result<(), Failure> {
    let status = json!({
        "instruction_id": trade.pair.deliver_id(),
        "related_message_id": instruction.id.to_string(),
        "status": "MATCHED",
        "settlement_id": trade.settlement_id,
    });
    h.send(h.primary(), "InstructionStatus", status, t).await?;
    h.send(h.primary(), "SettlementProposal", trade.proposal(), t)
        .await?;
    Ok(())
}

/// The LockReceipt of the trade's securities leg, checked against the request.
async fn lock_receipt(h: &Harness, trade: &Trade, t: &mut Transcript) -> Result<Value, Failure> {
    let receipt = h
        .wait_for(
            h.primary(),
            "the securities leg's LockReceipt",
            of_settlement("LockReceipt", trade),
            t,
        )
        .await?;
    let b = body(&receipt);
    expect_equal(t, "the LockReceipt's leg", &b["leg"], &json!("SECURITIES"))?;
    expect_equal(
        t,
        "the LockReceipt's hashlock (§6.5)",
        &b["hashlock"],
        &json!(trade.hashlock),
    )?;
    let expiry = Timestamp::parse(b["expires_at"].as_str().unwrap_or_default())
        .ok()
        .map(|e| e.unix_millis());
    if expiry != Some(i128::from(trade.t2_ms)) {
        return Err(t.fail(
            format!(
                "the LockReceipt's expires_at the request's, {}",
                timestamp(trade.t2_ms)
            ),
            b["expires_at"].to_string(),
        ));
    }
    Ok(b)
}

/// Instructed, proposed, locked.
async fn locked(
    h: &Harness,
    expiry: Expiry,
    t: &mut Transcript,
) -> Result<(Trade, Value), Failure> {
    let trade = Trade::new(h, expiry);
    let instruction = instructed(h, &trade, t).await?;
    propose(h, &trade, &instruction, t).await?;
    h.send(
        h.primary(),
        "LockRequest",
        trade.lock_request(trade.pair.quantity),
        t,
    )
    .await?;
    let receipt = lock_receipt(h, &trade, t).await?;
    Ok((trade, receipt))
}

/// The target's ClaimReceipt for its leg at `at`, with p and the lock's id.
async fn claimed_at(
    h: &Harness,
    at: &crate::harness::Counterpart,
    trade: &Trade,
    lock: &Value,
    t: &mut Transcript,
) -> Result<(), Failure> {
    claimed_again_at(h, at, trade, lock, 0, t).await
}

/// [`claimed_at`], among the messages `at` received after its first `after`.
async fn claimed_again_at(
    h: &Harness,
    at: &crate::harness::Counterpart,
    trade: &Trade,
    lock: &Value,
    after: usize,
    t: &mut Transcript,
) -> Result<(), Failure> {
    let receipt = h
        .wait_for_after(
            at,
            after,
            "the securities leg's ClaimReceipt",
            of_settlement("ClaimReceipt", trade),
            t,
        )
        .await?;
    let b = body(&receipt);
    expect_equal(t, "the ClaimReceipt's leg", &b["leg"], &json!("SECURITIES"))?;
    expect_equal(
        t,
        "the ClaimReceipt's preimage",
        &b["preimage"],
        &json!(hex(&trade.preimage)),
    )?;
    expect_equal(
        t,
        "the ClaimReceipt's lock_id (the LockReceipt's)",
        &b["lock_id"],
        &lock["lock_id"],
    )
}

/// As the relay: the ClaimRequest with p, and the target's ClaimReceipt to it.
async fn claim(
    h: &Harness,
    trade: &Trade,
    lock: &Value,
    t: &mut Transcript,
) -> Result<(), Failure> {
    h.send(h.primary(), "ClaimRequest", trade.claim_request(), t)
        .await?;
    claimed_at(h, h.primary(), trade, lock, t).await
}

async fn lock_unknown_settlement(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let trade = Trade::new(h, Expiry::Distant);
    h.send_refused(
        h.primary(),
        "LockRequest",
        trade.lock_request(100),
        "SETTLEMENT_UNKNOWN",
        t,
    )
    .await?;
    Ok(Ran::Passed)
}

async fn lock_not_instructed(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    // A proposal whose instruction ids no participant of the target used.
    let trade = Trade::new(h, Expiry::Distant);
    h.send(h.primary(), "SettlementProposal", trade.proposal(), t)
        .await?;
    h.send_refused(
        h.primary(),
        "LockRequest",
        trade.lock_request(100),
        "PROPOSAL_MISMATCH",
        t,
    )
    .await?;
    Ok(Ran::Passed)
}

async fn lock_on_request(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, false, false) {
        return Ok(cannot);
    }
    locked(h, Expiry::Distant, t).await?;
    Ok(Ran::Passed)
}

async fn lock_terms_differ(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, false, false) {
        return Ok(cannot);
    }
    let trade = Trade::new(h, Expiry::Distant);
    let instruction = instructed(h, &trade, t).await?;
    propose(h, &trade, &instruction, t).await?;
    let fewer = trade.pair.quantity - 1;
    h.send_refused(
        h.primary(),
        "LockRequest",
        trade.lock_request(fewer),
        "PROPOSAL_MISMATCH",
        t,
    )
    .await?;
    h.none_for(
        "LockReceipt for a request the proposal does not back",
        of_settlement("LockReceipt", &trade),
        t,
    )
    .await?;
    Ok(Ran::Passed)
}

async fn claim_on_request(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, false, false) {
        return Ok(cannot);
    }
    let (trade, lock) = locked(h, Expiry::Distant, t).await?;
    claim(h, &trade, &lock, t).await?;
    claimed_at(h, h.secondary(), &trade, &lock, t).await?;
    Ok(Ran::Passed)
}

async fn wrong_secret(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, false, false) {
        return Ok(cannot);
    }
    let (trade, lock) = locked(h, Expiry::Distant, t).await?;
    // Consistent in itself (its preimage hashes to its hashlock), so only
    // the lock's hashlock can tell it is the wrong secret.
    let other: [u8; 32] = h.random();
    let wrong = json!({
        "settlement_id": trade.settlement_id,
        "hashlock": sha256_hex(&other),
        "preimage": hex(&other),
    });
    h.send_refused(h.primary(), "ClaimRequest", wrong, "HASHLOCK_MISMATCH", t)
        .await?;
    h.none_for(
        "ClaimReceipt for a wrong secret",
        of_settlement("ClaimReceipt", &trade),
        t,
    )
    .await?;
    claim(h, &trade, &lock, t).await?;
    Ok(Ran::Passed)
}

async fn secret_from_other_gateway(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, false, false) {
        return Ok(cannot);
    }
    let (trade, lock) = locked(h, Expiry::Distant, t).await?;
    // The relay says nothing more: the buyer's gateway claimed the cash leg
    // and hands p over itself.
    h.send(h.secondary(), "ClaimReceipt", trade.cash_claim_receipt(), t)
        .await?;
    claimed_at(h, h.secondary(), &trade, &lock, t).await?;
    claimed_at(h, h.primary(), &trade, &lock, t).await?;
    Ok(Ran::Passed)
}

/// The RefundReceipt of an expiring lock, which must not come before the
/// expiry less Δ (a clock may be up to K ≤ Δ ahead of the suite's).
async fn refunded(
    h: &Harness,
    trade: &Trade,
    lock: &Value,
    t: &mut Transcript,
) -> Result<(), Failure> {
    let receipt = h
        .wait_for(
            h.primary(),
            "the securities leg's RefundReceipt",
            of_settlement("RefundReceipt", trade),
            t,
        )
        .await?;
    let arrived = now_ms();
    let delta = h.options.delta_ms.unwrap_or(0);
    if arrived + delta < trade.t2_ms {
        return Err(t.fail(
            format!(
                "no refund before the expiry {} (less Δ = {delta} ms)",
                timestamp(trade.t2_ms)
            ),
            format!(
                "a RefundReceipt at {}, {} ms early",
                timestamp(arrived),
                trade.t2_ms - arrived
            ),
        ));
    }
    let b = body(&receipt);
    expect_equal(
        t,
        "the RefundReceipt's leg",
        &b["leg"],
        &json!("SECURITIES"),
    )?;
    expect_equal(
        t,
        "the RefundReceipt's lock_id (the LockReceipt's)",
        &b["lock_id"],
        &lock["lock_id"],
    )
}

async fn refund_after_expiry(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, false, true) {
        return Ok(cannot);
    }
    let (trade, lock) = locked(h, Expiry::Soon, t).await?;
    refunded(h, &trade, &lock, t).await?;
    Ok(Ran::Passed)
}

async fn claim_after_expiry(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, false, true) {
        return Ok(cannot);
    }
    let (trade, lock) = locked(h, Expiry::Soon, t).await?;
    // Past the expiry by every clock of the network (each within K ≤ Δ).
    let past = trade.t2_ms + h.options.delta_ms.unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_millis(
        past.saturating_sub(now_ms()),
    ))
    .await;
    let value = h.envelope_json(
        h.primary().id(),
        &h.target.id,
        "ClaimRequest",
        trade.claim_request(),
    );
    let message = h.signed(h.primary(), &value)?;
    // Refused or acknowledged, either is right; what matters is what follows.
    h.request(h.primary(), &message, t).await?;
    refunded(h, &trade, &lock, t).await?;
    h.none_for(
        "ClaimReceipt for an expired lock (§12.6 rule 6)",
        of_settlement("ClaimReceipt", &trade),
        t,
    )
    .await?;
    Ok(Ran::Passed)
}

async fn restart_instructed(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, true, false) {
        return Ok(cannot);
    }
    let trade = Trade::new(h, Expiry::Distant);
    let instruction = instructed(h, &trade, t).await?;
    h.restart(t).await?;
    propose(h, &trade, &instruction, t).await?;
    h.send(
        h.primary(),
        "LockRequest",
        trade.lock_request(trade.pair.quantity),
        t,
    )
    .await?;
    lock_receipt(h, &trade, t).await?;
    Ok(Ran::Passed)
}

async fn restart_locked(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, true, false) {
        return Ok(cannot);
    }
    let (trade, lock) = locked(h, Expiry::Distant, t).await?;
    h.restart(t).await?;
    claim(h, &trade, &lock, t).await?;
    Ok(Ran::Passed)
}

async fn restart_claimed(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = needs(h, true, false) {
        return Ok(cannot);
    }
    let (trade, lock) = locked(h, Expiry::Distant, t).await?;
    claim(h, &trade, &lock, t).await?;
    h.restart(t).await?;
    // The relay, not sure its claim was heard, asks again under a new id:
    // the answer is the receipt again (a repeat of the first counts, §12.8),
    // not an Error.
    let before = h.primary().inbox.all().len();
    h.send(h.primary(), "ClaimRequest", trade.claim_request(), t)
        .await?;
    claimed_again_at(h, h.primary(), &trade, &lock, before, t).await?;
    Ok(Ran::Passed)
}
