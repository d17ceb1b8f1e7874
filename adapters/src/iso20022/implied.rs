//! The instructing party's own side of a sese.023, where the message leaves
//! it implied by its routing (ISM-1 §6.1 duty 8), derived from the business
//! application header and reported in [`crate::Translation::derived`].
//!
//! Market practice (SMPG settlement common elements; the account servicers'
//! sese.023 specifications, such as Clearstream's per-market tables) has the
//! instructing party state the counterparty's side of the settlement chain
//! and the place of settlement, and leave its own side to what the account
//! servicer knows from the safekeeping account and the message's routing:
//!
//! 1. **`account_owner`**, when `QtyAndAcctDtls/AcctOwnr` is absent: the
//!    sender, `AppHdr/Fr` — its BIC (`FIId/FinInstnId/BICFI` or
//!    `OrgId/Id/OrgId/AnyBIC`), else its LEI (`…/LEI`). The account owner
//!    sends its instructions itself or through an agent that `Fr` then names;
//!    either way `Fr` is who the account servicer holds responsible.
//! 2. **The own settlement agent** (`delivering_agent` of a DELIVER,
//!    `receiving_agent` of a RECEIVE), when the own chain has no `Pty1`: the
//!    receiver, `AppHdr/To` — the account servicer, which holds the account at
//!    the place of settlement and settles for it — except when `To` is the
//!    place of settlement itself (the same first eight characters as the
//!    depository's BIC): then the message goes straight to the CSD, the
//!    instructing party is a direct participant and its own agent is the
//!    sender, `AppHdr/Fr`. Only a BIC of `To`/`Fr` serves (a settlement party
//!    is a BIC or a proprietary code, never an LEI alone).
//! 3. Nothing else: the seller or buyer on the own side is never derived,
//!    the counterparty's agent must be stated (`COUNTERPARTY_REQUIRED`), and
//!    a document without a header derives nothing (the members stay absent,
//!    as ISM/1 allows; a gateway completes them from what it knows,
//!    [`crate::context::complete`]).
//!
//! A header BIC or LEI that breaks ISM/1's rules (`routing.rs`) gives
//! nothing: where rule 1 or 2 would have used it, the member stays absent
//! and the header element is listed as left out; the message is not
//! refused, since its routing is the transport's, not ours, to judge.
//!
//! A member the message states is never replaced, even when the header says
//! otherwise, and an own `Pty1` the message states but ISM/1 cannot hold (a
//! name and address) is reported as left out, not replaced by a guess.
//!
//! Caveat, from the same market practice: `Pty1` is the party that holds the
//! account at the depository. When `To` is a global custodian rather than a
//! local agent, the true `Pty1` is the custodian's sub-custodian; the header
//! cannot say so, which is why the value is reported as derived and why a
//! gateway's static data replaces it.

use crate::routing::{own_agent_from, OwnAgentFrom};
use isthmus_spec::body::{Direction, Party};
use isthmus_spec::ident::{Bic, PartyId};

use super::report::Report;
use super::routing::{Located, Routing};

/// The ISM/1 member of the instructing party's own agent.
pub(crate) fn own_agent_member(direction: Direction) -> &'static str {
    match direction {
        Direction::Deliver => "body.delivering_agent",
        Direction::Receive => "body.receiving_agent",
    }
}

/// Lists a header identification that breaks ISM/1's rules, where a member
/// would have been derived from it (once, though two members may need it).
fn not_used(invalid: Option<&Located<String>>, member: &str, report: &mut Report) {
    if let Some(invalid) = invalid {
        report.left_out_once(
            &invalid.path,
            format!(
                "{}; the message is read, but {member} is not derived from this header element",
                invalid.value
            ),
        );
    }
}

/// Rule 1: the account owner a message without `AcctOwnr` implies.
pub(crate) fn account_owner(routing: &Routing, report: &mut Report) -> Option<PartyId> {
    let from = &routing.from;
    if from.bic.is_none() {
        not_used(from.invalid_bic.as_ref(), "body.account_owner", report);
    }
    let (owner, path) = if let Some(bic) = &from.bic {
        (PartyId::parse(bic.value.as_str()).ok()?, &bic.path)
    } else if let Some(lei) = &from.lei {
        (PartyId::parse(lei.value.as_str()).ok()?, &lei.path)
    } else {
        not_used(from.invalid_lei.as_ref(), "body.account_owner", report);
        return None;
    };
    report.derived(
        "body.account_owner",
        path.as_str(),
        "the instruction names no account owner (QtyAndAcctDtls/AcctOwnr); its sender (AppHdr/Fr) instructs for the account",
    );
    Some(owner)
}

/// Rule 2: the own settlement agent a message without an own `Pty1` implies.
pub(crate) fn own_agent(
    routing: &Routing,
    direction: Direction,
    place_of_settlement: &Bic,
    report: &mut Report,
) -> Option<Party> {
    let member = own_agent_member(direction);
    let Some(to) = routing.to.bic.as_ref() else {
        not_used(routing.to.invalid_bic.as_ref(), member, report);
        return None;
    };
    if own_agent_from(&to.value, place_of_settlement) == OwnAgentFrom::Sender {
        let Some(from) = routing.from.bic.as_ref() else {
            not_used(routing.from.invalid_bic.as_ref(), member, report);
            return None;
        };
        report.derived(
            member,
            from.path.as_str(),
            "the instruction names no own settlement agent (Pty1) and goes straight to the place of settlement (AppHdr/To is the depository), so its sender is a direct participant and its own agent",
        );
        return Some(Party::by_bic(from.value.clone()));
    }
    report.derived(
        member,
        to.path.as_str(),
        "the instruction names no own settlement agent (Pty1); its receiver (AppHdr/To), the account servicer, settles for the account at the place of settlement",
    );
    Some(Party::by_bic(to.value.clone()))
}
