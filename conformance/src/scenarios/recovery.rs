//! Level `recovery`: the target restarted — SIGKILL, then started again on
//! its address and store by the `--restart-cmd` hook — in each settlement
//! state (ISM-1 §12.9, §12.10): it resumes what it had acknowledged, repeats
//! what it waits on, and the settlement ends as it would have.

use super::settlement::{
    body, claim_both_and_confirm, claim_request, confirmation, gateways, lock, pair, proposed,
    DELTA, HANDSHAKE, MATCH, NO_REVEAL,
};
use super::{Check, Ran, Scenario};
use crate::catalogue::{Level, Role, Strength};
use crate::fixtures;
use crate::harness::{Harness, Transcript};
use crate::report::Failure;

const PROPOSED: &str = "ism1/12.10/3-restart-proposed";
const AFTER_SETTLEMENT: &[&str] = &[HANDSHAKE, MATCH, DELTA, NO_REVEAL];
/// A restart in a later state presumes the target survives the first.
const AFTER_PROPOSED: &[&str] = &[HANDSHAKE, MATCH, DELTA, NO_REVEAL, PROPOSED];

macro_rules! scenario {
    ($id:expr, $after:expr, $title:expr, $body:ident) => {
        Scenario {
            id: $id,
            clause: "ISM-1 §12.10 item 3, §12.9",
            strength: Strength::Must,
            level: Level::Recovery,
            roles: &[Role::Relay],
            feature: None,
            title: $title,
            after: $after,
            run: |h, t| -> Check<'_> { Box::pin($body(h, t)) },
        }
    };
}

/// The recovery scenarios against a relay, in the order they run.
pub static SCENARIOS: [Scenario; 4] = [
    scenario!(PROPOSED, AFTER_SETTLEMENT,
        "restarted with a settlement PROPOSED: it takes both locks and settles", restart_proposed),
    scenario!("ism1/12.10/3-restart-locking", AFTER_PROPOSED,
        "restarted with one leg locked (LOCKING): it takes the other lock, reveals and settles", restart_locking),
    scenario!("ism1/12.10/3-restart-revealing", AFTER_PROPOSED,
        "restarted while REVEALING: it repeats the cash leg's ClaimRequest, with the same preimage, and settles", restart_revealing),
    scenario!("ism1/12.10/3-restart-settled", AFTER_PROPOSED,
        "restarted after SETTLED: a repeated ClaimReceipt gets the SettlementConfirmation again (§12.5 rule 9)", restart_settled),
];

fn hook(h: &Harness) -> Result<(), Ran> {
    if h.options.restart_cmd.is_none() {
        return Err(Ran::CannotRun(
            "no restart hook: pass --restart-cmd COMMAND (kill the target with SIGKILL and start it again)".into(),
        ));
    }
    h.reachable().map_err(Ran::CannotRun)
}

/// Where in a settlement against payment the target is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RestartPoint {
    /// Proposed, neither leg locked.
    Proposed,
    /// One leg locked.
    Locking,
    /// Both locked, the cash leg's ClaimRequest sent.
    Revealing,
    /// Both legs claimed and confirmed.
    Settled,
}

/// One settlement through to its confirmations, the target restarted at
/// `point`, with what the restart there must not change checked after it.
async fn restart_at(h: &Harness, point: RestartPoint, t: &mut Transcript) -> Result<Ran, Failure> {
    if let Err(cannot) = hook(h) {
        return Ok(cannot);
    }
    let pair = pair(h, true, 0);
    let p = proposed(h, &pair, t).await?;
    let (seller, buyer) = gateways(h);
    let cash = p.cash_request(t)?;
    if point == RestartPoint::Proposed {
        h.restart(t).await?;
    }
    lock(h, seller, &p.securities, t).await?;
    if point == RestartPoint::Locking {
        h.restart(t).await?;
    }
    lock(h, buyer, cash, t).await?;
    if point == RestartPoint::Revealing {
        let first = h
            .wait_for(
                buyer,
                "the cash leg's ClaimRequest",
                claim_request(&p.settlement_id),
                t,
            )
            .await?;
        let seen: Vec<_> = buyer.inbox.all().into_iter().map(|m| m.id).collect();
        h.restart(t).await?;
        let again = h
            .wait_for(
                buyer,
                "the cash leg's ClaimRequest repeated after the restart",
                |m| claim_request(&p.settlement_id)(m) && !seen.contains(&m.id),
                t,
            )
            .await?;
        if body(&again)["preimage"] != body(&first)["preimage"] {
            return Err(t.fail(
                "the same preimage after the restart (p persisted before it was revealed, §12.9)",
                "another preimage",
            ));
        }
    }
    claim_both_and_confirm(h, &pair, &p, t).await?;
    if point == RestartPoint::Settled {
        repeated_receipt_confirmed(h, &pair, &p, t).await?;
    }
    Ok(Ran::Passed)
}

/// After SETTLED, restarted: a repeated ClaimReceipt gets the
/// SettlementConfirmation again (§12.5 rule 9).
async fn repeated_receipt_confirmed(
    h: &Harness,
    pair: &fixtures::Pair,
    p: &super::settlement::Proposed,
    t: &mut Transcript,
) -> Result<(), Failure> {
    let (seller, _) = gateways(h);
    let seen: Vec<_> = seller.inbox.all().into_iter().map(|m| m.id).collect();
    h.restart(t).await?;
    let preimage = h
        .wait_for(
            seller,
            "the securities ClaimRequest",
            claim_request(&p.settlement_id),
            t,
        )
        .await
        .map(|m| body(&m)["preimage"].clone())?;
    let receipt = fixtures::claim_receipt(
        &p.settlement_id,
        "SECURITIES",
        &super::settlement::market(seller),
        &p.proposal["hashlock"],
        &preimage,
    );
    h.send(seller, "ClaimReceipt", receipt, t).await?;
    let deliver_id = pair.deliver_id();
    h.wait_for(
        seller,
        "the SettlementConfirmation again, in answer to the repeated receipt",
        |m| confirmation(&deliver_id)(m) && !seen.contains(&m.id),
        t,
    )
    .await?;
    Ok(())
}

async fn restart_proposed(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    restart_at(h, RestartPoint::Proposed, t).await
}

async fn restart_locking(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    restart_at(h, RestartPoint::Locking, t).await
}

async fn restart_revealing(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    restart_at(h, RestartPoint::Revealing, t).await
}

async fn restart_settled(h: &Harness, t: &mut Transcript) -> Result<Ran, Failure> {
    restart_at(h, RestartPoint::Settled, t).await
}
