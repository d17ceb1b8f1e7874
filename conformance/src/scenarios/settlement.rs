//! Level `settlement`: the settlement protocol (ISM-1 §12) against a relay.
//! The suite plays both gateways and their ledgers: the first gateway of
//! the membership is the seller's (the securities market), the second the
//! buyer's (the cash market). Every check reads the messages as JSON, as an
//! implementation in any language sends them.

use serde_json::{json, Value};

use isthmus_spec::time::Timestamp;
use isthmus_spec::Envelope;

use super::{Check, Ran, Scenario};
use crate::catalogue::{Level, Role, Strength};
use crate::fixtures::{self, Pair};
use crate::harness::{Counterpart, Harness, Transcript};
use crate::report::Failure;

pub(super) const HANDSHAKE: &str = "ism1/8.1/1-handshake";
pub(super) const MATCH: &str = "ism1/12.4/4-match-and-propose";
const AFTER_HANDSHAKE: &[&str] = &[HANDSHAKE];
const AFTER_MATCH: &[&str] = &[HANDSHAKE, MATCH];
pub(super) const DELTA: &str = "ism1/6.3/1-expiry-delta";
/// Revealing and claiming presume expiries a claim can make in time.
const AFTER_DELTA: &[&str] = &[HANDSHAKE, MATCH, DELTA];
pub(super) const NO_REVEAL: &str = "ism1/12.5/5-no-reveal-before-both-locks";
/// Settling, and checking that a refused lock reveals nothing, presume
/// that nothing is revealed before both locks.
const AFTER_NO_REVEAL: &[&str] = &[HANDSHAKE, MATCH, DELTA, NO_REVEAL];

macro_rules! scenario {
    ($id:expr, $clause:expr, $strength:ident, $feature:expr, $after:expr, $title:expr, $body:ident) => {
        Scenario {
            id: $id,
            clause: $clause,
            strength: Strength::$strength,
            level: Level::Settlement,
            roles: &[Role::Relay],
            feature: $feature,
            title: $title,
            after: $after,
            run: |h, t| -> Check<'_> { Box::pin($body(h, t)) },
        }
    };
}

/// The settlement scenarios against a relay, in the order they run.
pub static SCENARIOS: [Scenario; 10] = [
    scenario!(MATCH, "ISM-1 §12.4 rule 4, §12.5 rule 1, §6.3, §6.4", Must, None, AFTER_HANDSHAKE,
        "a matching pair is MATCHED to both gateways, proposed to both, and each leg's LockRequest carries the proposal's hashlock, expiry and accounts", match_and_propose),
    scenario!("ism1/12.4/3-unmatched", "ISM-1 §12.4 rules 3–4", Must, None, AFTER_HANDSHAKE,
        "a pair whose quantities differ is UNMATCHED with UNMATCHED_QUANTITY to both gateways, and nothing is proposed", unmatched),
    scenario!(DELTA, "ISM-1 §6.3 duty 1, §12.3", Must, None, AFTER_MATCH,
        "against payment T2 ≥ T1 + Δ (Δ = claim window + maximum clock skew, as given with --delta-ms)", expiry_delta),
    scenario!(NO_REVEAL, "ISM-1 §12.5 rules 5–6", Must, None, AFTER_DELTA,
        "no ClaimRequest while one leg is unlocked; once both are, the cash leg's alone, with the preimage of the hashlock", no_reveal_before_both_locks),
    scenario!("ism1/12.5/7-settle-against-payment", "ISM-1 §12.5 rules 5–7, §6.8", Must, None, AFTER_NO_REVEAL,
        "locks, then the cash claim, then the securities claim, then a SettlementConfirmation to each instruction's gateway", settle_against_payment),
    scenario!("ism1/12.5/5-free-of-payment", "ISM-1 §12.5 rule 5, §6.3, §6.8", Must, None, AFTER_MATCH,
        "a free-of-payment pair has one leg, no cash leg nor amount, and settles with one lock and one claim", free_of_payment),
    scenario!("ism1/12.5/2-lock-receipt-mismatch", "ISM-1 §12.5 rule 2", Must, None, AFTER_NO_REVEAL,
        "a LockReceipt with another hashlock is refused with HASHLOCK_MISMATCH and reveals nothing", lock_receipt_mismatch),
    scenario!("ism1/12.5/3-lock-refused", "ISM-1 §12.5 rules 3–4", Must, None, AFTER_MATCH,
        "a final refusal of a lock (INSUFFICIENT_FUNDS) aborts: CANCELLED with that reason to both gateways, nothing revealed", lock_refused),
    scenario!("ism1/12.8/2-lock-request-repeated", "ISM-1 §12.8 rule 2", Must, None, AFTER_MATCH,
        "an unanswered LockRequest is repeated, for the same settlement and leg, under a new id", lock_request_repeated),
    scenario!("ism1/12.5/4-lock-deadline", "ISM-1 §12.5 rule 4, §12.3", Must, None, AFTER_MATCH,
        "legs not locked by the lock deadline: CANCELLED with LOCK_DEADLINE_PASSED to both gateways (the target's lock window must fit the settlement wait)", lock_deadline),
];

pub(super) fn body(message: &Envelope) -> Value {
    message.to_json()["body"].clone()
}

pub(super) fn kind_is(message: &Envelope, kind: &str) -> bool {
    message.kind().as_str() == kind
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

/// The seller's gateway (securities market), the buyer's (cash market).
pub(super) fn gateways(h: &Harness) -> (&Counterpart, &Counterpart) {
    (h.primary(), h.secondary())
}

pub(super) fn market(c: &Counterpart) -> String {
    c.member
        .market
        .as_ref()
        .map_or_else(String::new, |m| m.as_str().to_string())
}

pub(super) fn pair(h: &Harness, against_payment: bool, buyer_extra: u64) -> Pair {
    let (seller, buyer) = gateways(h);
    Pair {
        reference: h.reference(),
        securities_market: market(seller),
        cash_market: market(buyer),
        against_payment,
        quantity: 100,
        buyer_quantity: 100 + buyer_extra,
    }
}

async fn instruct(h: &Harness, pair: &Pair, t: &mut Transcript) -> Result<(), Failure> {
    let (seller, buyer) = gateways(h);
    h.send(seller, "SettlementInstruction", pair.deliver(), t)
        .await?;
    h.send(buyer, "SettlementInstruction", pair.receive(), t)
        .await?;
    Ok(())
}

/// A matched settlement as the gateways saw it.
pub(super) struct Proposed {
    pub(super) settlement_id: String,
    pub(super) proposal: Value,
    pub(super) securities: Envelope,
    pub(super) cash: Option<Envelope>,
}

fn status_of<'a>(instruction_id: &'a str, status: &'a str) -> impl Fn(&Envelope) -> bool + 'a {
    move |m: &Envelope| {
        let b = body(m);
        kind_is(m, "InstructionStatus")
            && b["instruction_id"] == instruction_id
            && b["status"] == status
    }
}

fn of_settlement<'a>(kind: &'a str, settlement_id: &'a str) -> impl Fn(&Envelope) -> bool + 'a {
    move |m: &Envelope| kind_is(m, kind) && body(m)["settlement_id"] == settlement_id
}

fn lock_request<'a>(settlement_id: &'a str, leg: &'a str) -> impl Fn(&Envelope) -> bool + 'a {
    move |m: &Envelope| {
        let b = body(m);
        kind_is(m, "LockRequest") && b["settlement_id"] == settlement_id && b["leg"] == leg
    }
}

impl Proposed {
    /// The cash leg's LockRequest, which a settlement against payment has.
    pub(super) fn cash_request(&self, t: &Transcript) -> Result<&Envelope, Failure> {
        self.cash
            .as_ref()
            .ok_or_else(|| t.fail("a cash LockRequest", "none"))
    }
}

/// Both legs locked: the cash leg's claim, then the securities leg's, then
/// both confirmations (ISM-1 §12.5 rules 5–7).
pub(super) async fn claim_both_and_confirm(
    h: &Harness,
    pair: &Pair,
    p: &Proposed,
    t: &mut Transcript,
) -> Result<(), Failure> {
    let (seller, buyer) = gateways(h);
    claim(h, buyer, p, "CASH", t).await?;
    claim(h, seller, p, "SECURITIES", t).await?;
    confirmed(h, pair, p, t).await
}

pub(super) async fn proposed(
    h: &Harness,
    pair: &Pair,
    t: &mut Transcript,
) -> Result<Proposed, Failure> {
    if let Err(why) = h.reachable() {
        return Err(Failure::new(
            "a target that reaches the suite's gateways",
            why,
        ));
    }
    instruct(h, pair, t).await?;
    let (seller, buyer) = gateways(h);
    let deliver_id = pair.deliver_id();
    let matched = h
        .wait_for(
            seller,
            "InstructionStatus MATCHED for the delivery",
            status_of(&deliver_id, "MATCHED"),
            t,
        )
        .await?;
    let settlement_id = text(&body(&matched)["settlement_id"]);
    if settlement_id == "null" {
        return Err(t.fail("MATCHED with the settlement_id (§6.2)", "no settlement_id"));
    }
    let proposal = h
        .wait_for(
            seller,
            "the SettlementProposal",
            of_settlement("SettlementProposal", &settlement_id),
            t,
        )
        .await?;
    let securities = h
        .wait_for(
            seller,
            "the securities leg's LockRequest",
            lock_request(&settlement_id, "SECURITIES"),
            t,
        )
        .await?;
    let cash = if pair.against_payment {
        Some(
            h.wait_for(
                buyer,
                "the cash leg's LockRequest",
                lock_request(&settlement_id, "CASH"),
                t,
            )
            .await?,
        )
    } else {
        None
    };
    Ok(Proposed {
        settlement_id,
        proposal: body(&proposal),
        securities,
        cash,
    })
}

pub(super) fn expect_equal(
    t: &Transcript,
    what: &str,
    seen: &Value,
    wanted: &Value,
) -> Result<(), Failure> {
    if seen == wanted {
        Ok(())
    } else {
        Err(t.fail(format!("{what} {wanted}"), format!("{seen}")))
    }
}

fn account(owner: &str, account: &str) -> Value {
    json!({"owner": owner, "account": account})
}

async fn match_and_propose(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(why) = h.reachable() {
        return Ok(Ran::CannotRun(why));
    }
    let pair = pair(h, true, 0);
    let p = proposed(h, &pair, t).await?;
    let (seller, buyer) = gateways(h);
    let matched = h
        .wait_for(
            buyer,
            "InstructionStatus MATCHED for the receipt",
            status_of(&pair.receive_id(), "MATCHED"),
            t,
        )
        .await?;
    expect_equal(
        t,
        "the receipt's settlement_id",
        &body(&matched)["settlement_id"],
        &json!(p.settlement_id),
    )?;
    h.wait_for(
        buyer,
        "the SettlementProposal",
        of_settlement("SettlementProposal", &p.settlement_id),
        t,
    )
    .await?;
    let proposal = &p.proposal;
    let sec = &proposal["securities_leg"];
    let cash = &proposal["cash_leg"];
    let terms = [
        (
            "the proposal's deliver_instruction_id",
            &proposal["deliver_instruction_id"],
            json!(pair.deliver_id()),
        ),
        (
            "the proposal's receive_instruction_id",
            &proposal["receive_instruction_id"],
            json!(pair.receive_id()),
        ),
        (
            "the proposal's quantity",
            &proposal["quantity"],
            json!("100"),
        ),
        (
            "the proposal's amount",
            &proposal["settlement_amount"],
            json!({"amount": fixtures::AMOUNT, "currency": fixtures::CURRENCY}),
        ),
        (
            "the securities leg's market",
            &sec["market"],
            json!(market(seller)),
        ),
        (
            "the securities leg's from (§6.3 duty 3)",
            &sec["from"],
            account(fixtures::SELLER, fixtures::SELLER_SAFE),
        ),
        (
            "the securities leg's to",
            &sec["to"],
            account(fixtures::BUYER, fixtures::BUYER_SAFE),
        ),
        (
            "the cash leg's market",
            &cash["market"],
            json!(market(buyer)),
        ),
        (
            "the cash leg's from",
            &cash["from"],
            account(fixtures::BUYER, fixtures::BUYER_CASH),
        ),
        (
            "the cash leg's to",
            &cash["to"],
            account(fixtures::SELLER, fixtures::SELLER_CASH),
        ),
    ];
    for (what, seen, wanted) in &terms {
        expect_equal(t, what, seen, wanted)?;
    }
    for (request, leg) in [(Some(&p.securities), sec), (p.cash.as_ref(), cash)] {
        let Some(request) = request else {
            return Err(t.fail("a LockRequest for each leg", "none for the cash leg"));
        };
        let r = body(request);
        expect_equal(
            t,
            "the LockRequest's hashlock (§6.4 duty 1)",
            &r["hashlock"],
            &proposal["hashlock"],
        )?;
        expect_equal(
            t,
            "the LockRequest's expires_at",
            &r["expires_at"],
            &leg["expires_at"],
        )?;
        expect_equal(t, "the LockRequest's from", &r["from"], &leg["from"])?;
        expect_equal(
            t,
            "the LockRequest's beneficiary",
            &r["beneficiary"],
            &leg["to"],
        )?;
        expect_equal(t, "the LockRequest's market", &r["market"], &leg["market"])?;
    }
    Ok(Ran::Passed)
}

async fn unmatched(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(why) = h.reachable() {
        return Ok(Ran::CannotRun(why));
    }
    let pair = pair(h, true, 1);
    instruct(h, &pair, t).await?;
    let (seller, buyer) = gateways(h);
    for (at, id) in [(seller, pair.deliver_id()), (buyer, pair.receive_id())] {
        let status = h
            .wait_for(
                at,
                "InstructionStatus UNMATCHED",
                status_of(&id, "UNMATCHED"),
                t,
            )
            .await?;
        expect_equal(
            t,
            "the UNMATCHED reason",
            &body(&status)["reason"]["code"],
            &json!("UNMATCHED_QUANTITY"),
        )?;
    }
    let deliver_id = pair.deliver_id();
    h.none_for(
        "SettlementProposal for the unmatched pair",
        |m| {
            kind_is(m, "SettlementProposal")
                && body(m)["deliver_instruction_id"] == deliver_id.as_str()
        },
        t,
    )
    .await?;
    Ok(Ran::Passed)
}

fn instant(value: &Value) -> Option<i128> {
    Timestamp::parse(value.as_str()?)
        .ok()
        .map(|t| t.unix_millis())
}

async fn expiry_delta(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let Some(delta) = h.options.delta_ms else {
        return Ok(Ran::CannotRun(
            "the network's Δ is not given: pass --delta-ms (claim window + maximum clock skew)"
                .into(),
        ));
    };
    if let Err(why) = h.reachable() {
        return Ok(Ran::CannotRun(why));
    }
    let p = proposed(h, &pair(h, true, 0), t).await?;
    let t1 = instant(&p.proposal["cash_leg"]["expires_at"]);
    let t2 = instant(&p.proposal["securities_leg"]["expires_at"]);
    match (t1, t2) {
        (Some(t1), Some(t2)) if t2 - t1 >= i128::from(delta) => Ok(Ran::Passed),
        (Some(t1), Some(t2)) => Err(t.fail(
            format!("T2 − T1 ≥ Δ = {delta} ms"),
            format!("T2 − T1 = {} ms", t2 - t1),
        )),
        _ => Err(t.fail("both legs' expiries", "a proposal without them")),
    }
}

pub(super) async fn lock(
    h: &Harness,
    at: &Counterpart,
    request: &Envelope,
    t: &mut Transcript,
) -> Result<(), Failure> {
    h.send(at, "LockReceipt", fixtures::lock_receipt(&body(request)), t)
        .await?;
    Ok(())
}

pub(super) fn claim_request<'a>(settlement_id: &'a str) -> impl Fn(&Envelope) -> bool + 'a {
    move |m: &Envelope| kind_is(m, "ClaimRequest") && body(m)["settlement_id"] == settlement_id
}

fn preimage_opens(preimage: &Value, hashlock: &Value) -> bool {
    let (Some(p), Some(h)) = (preimage.as_str(), hashlock.as_str()) else {
        return false;
    };
    let Some(bytes) = isthmus_spec::vectors::decode_hex(p) else {
        return false;
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    hex == h
}

async fn no_reveal_before_both_locks(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let p = proposed(h, &pair(h, true, 0), t).await?;
    let (seller, buyer) = gateways(h);
    lock(h, seller, &p.securities, t).await?;
    h.none_for(
        "ClaimRequest while the cash leg is unlocked",
        claim_request(&p.settlement_id),
        t,
    )
    .await?;
    let cash = p.cash_request(t)?;
    lock(h, buyer, cash, t).await?;
    let claim = h
        .wait_for(
            buyer,
            "the cash leg's ClaimRequest",
            claim_request(&p.settlement_id),
            t,
        )
        .await?;
    if !preimage_opens(&body(&claim)["preimage"], &p.proposal["hashlock"]) {
        return Err(t.fail(
            "a preimage p with SHA-256(p) = the hashlock",
            text(&body(&claim)["preimage"]),
        ));
    }
    h.none_for(
        "securities ClaimRequest before the cash leg's ClaimReceipt (§12.5 rule 6)",
        |m| m.receiver == *seller.id() && claim_request(&p.settlement_id)(m),
        t,
    )
    .await?;
    Ok(Ran::Passed)
}

pub(super) fn confirmation<'a>(instruction_id: &'a str) -> impl Fn(&Envelope) -> bool + 'a {
    move |m: &Envelope| {
        kind_is(m, "SettlementConfirmation") && body(m)["instruction_id"] == instruction_id
    }
}

pub(super) async fn claim(
    h: &Harness,
    at: &Counterpart,
    p: &Proposed,
    leg: &str,
    t: &mut Transcript,
) -> Result<(), Failure> {
    let request = h
        .wait_for(
            at,
            &format!("the {leg} leg's ClaimRequest"),
            claim_request(&p.settlement_id),
            t,
        )
        .await?;
    let preimage = body(&request)["preimage"].clone();
    let receipt = fixtures::claim_receipt(
        &p.settlement_id,
        leg,
        &market(at),
        &p.proposal["hashlock"],
        &preimage,
    );
    h.send(at, "ClaimReceipt", receipt, t).await?;
    Ok(())
}

pub(super) async fn confirmed(
    h: &Harness,
    pair: &Pair,
    p: &Proposed,
    t: &mut Transcript,
) -> Result<(), Failure> {
    let (seller, buyer) = gateways(h);
    for (at, id) in [(seller, pair.deliver_id()), (buyer, pair.receive_id())] {
        let confirmation = h
            .wait_for(at, "the SettlementConfirmation", confirmation(&id), t)
            .await?;
        let b = body(&confirmation);
        expect_equal(
            t,
            "the confirmation's settlement_id",
            &b["settlement_id"],
            &json!(p.settlement_id),
        )?;
        expect_equal(
            t,
            "the confirmation's quantity",
            &b["quantity"],
            &json!("100"),
        )?;
    }
    Ok(())
}

async fn settle_against_payment(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let pair = pair(h, true, 0);
    let p = proposed(h, &pair, t).await?;
    let (seller, buyer) = gateways(h);
    let cash = p.cash_request(t)?;
    lock(h, seller, &p.securities, t).await?;
    lock(h, buyer, cash, t).await?;
    claim_both_and_confirm(h, &pair, &p, t).await?;
    Ok(Ran::Passed)
}

async fn free_of_payment(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let pair = pair(h, false, 0);
    let p = proposed(h, &pair, t).await?;
    for member in ["cash_leg", "settlement_amount"] {
        if !p.proposal[member].is_null() {
            return Err(t.fail(
                format!("a free-of-payment proposal without {member}"),
                p.proposal[member].to_string(),
            ));
        }
    }
    let (seller, _) = gateways(h);
    lock(h, seller, &p.securities, t).await?;
    claim(h, seller, &p, "SECURITIES", t).await?;
    confirmed(h, &pair, &p, t).await?;
    Ok(Ran::Passed)
}

async fn lock_receipt_mismatch(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let p = proposed(h, &pair(h, true, 0), t).await?;
    let (seller, buyer) = gateways(h);
    let mut receipt = fixtures::lock_receipt(&body(&p.securities));
    let other: [u8; 32] = h.random();
    receipt["hashlock"] = json!(other.iter().map(|b| format!("{b:02x}")).collect::<String>());
    h.send_refused(seller, "LockReceipt", receipt, "HASHLOCK_MISMATCH", t)
        .await?;
    if let Some(cash) = &p.cash {
        lock(h, buyer, cash, t).await?;
    }
    h.none_for(
        "ClaimRequest with the securities leg not validly locked",
        claim_request(&p.settlement_id),
        t,
    )
    .await?;
    Ok(Ran::Passed)
}

fn cancelled<'a>(instruction_id: &'a str) -> impl Fn(&Envelope) -> bool + 'a {
    status_of(instruction_id, "CANCELLED")
}

async fn both_cancelled(
    h: &Harness,
    pair: &Pair,
    code: &str,
    t: &mut Transcript,
) -> Result<(), Failure> {
    let (seller, buyer) = gateways(h);
    for (at, id) in [(seller, pair.deliver_id()), (buyer, pair.receive_id())] {
        let status = h
            .wait_for(at, "InstructionStatus CANCELLED", cancelled(&id), t)
            .await?;
        expect_equal(
            t,
            "the CANCELLED reason",
            &body(&status)["reason"]["code"],
            &json!(code),
        )?;
    }
    Ok(())
}

async fn lock_refused(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let pair = pair(h, true, 0);
    let p = proposed(h, &pair, t).await?;
    let (seller, _) = gateways(h);
    let error = json!({
        "code": "INSUFFICIENT_FUNDS",
        "text": "The seller's safekeeping account holds fewer units than the lock needs.",
        "related_message_id": p.securities.id.to_string(),
    });
    h.send(seller, "Error", error, t).await?;
    both_cancelled(h, &pair, "INSUFFICIENT_FUNDS", t).await?;
    h.none_for(
        "ClaimRequest for the aborted settlement",
        claim_request(&p.settlement_id),
        t,
    )
    .await?;
    Ok(Ran::Passed)
}

async fn lock_request_repeated(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let p = proposed(h, &pair(h, true, 0), t).await?;
    let (seller, _) = gateways(h);
    let first = p.securities.id.clone();
    let again = h
        .wait_for(
            seller,
            "the securities LockRequest again, under a new id",
            |m| lock_request(&p.settlement_id, "SECURITIES")(m) && m.id != first,
            t,
        )
        .await?;
    expect_equal(
        t,
        "the repeated LockRequest's terms",
        &body(&again),
        &body(&p.securities),
    )?;
    Ok(Ran::Passed)
}

async fn lock_deadline(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    let pair = pair(h, true, 0);
    let p = proposed(h, &pair, t).await?;
    both_cancelled(h, &pair, "LOCK_DEADLINE_PASSED", t).await?;
    h.none_for(
        "ClaimRequest for the aborted settlement",
        claim_request(&p.settlement_id),
        t,
    )
    .await?;
    Ok(Ran::Passed)
}
