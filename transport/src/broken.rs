//! Deliberately broken nodes, for the conformance suite to prove it catches
//! each fault (issue 14): compiled in only with the `broken-nodes` feature,
//! chosen at run time by the environment variable `ISTHMUS_BROKEN` (a
//! comma-separated list of [`Fault`] names). Without the feature no fault
//! exists and [`active`] is `false`, so a production build cannot be made to
//! misbehave by its environment.

/// A fault a broken node can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Acts on a message whose signature does not verify (ISM-1 §8.4 step 5).
    AcceptBadSignature,
    /// Completes handshakes that did not negotiate `ism/1` (ISM-1 §8.1 rule 7).
    SkipAlpnCheck,
    /// Acts again on a used message id with other content instead of
    /// refusing it (ISM-1 §8.4 step 6).
    AnswerReplays,
    /// The relay reveals p once one leg is locked (ISM-1 §12.5 rule 5).
    RevealBeforeBothLocks,
    /// The relay ignores the reveal margin M and Δ (ISM-1 §12.3, §12.5 rule 5).
    SkipTimelockMargin,
    /// The node keeps its settlements in memory only: a restart forgets them
    /// (ISM-1 §12.9, §12.10).
    ForgetOnRestart,
    /// The gateway's clock, and its ledger's, run ahead of the network's by
    /// more than the skew bound K (A2 broken), so its watcher refunds a lock
    /// before the expiry by everyone else's clock (ISM-1 §12.6 rules 7–8).
    RefundBeforeExpiry,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 7] = [
        Fault::AcceptBadSignature,
        Fault::SkipAlpnCheck,
        Fault::AnswerReplays,
        Fault::RevealBeforeBothLocks,
        Fault::SkipTimelockMargin,
        Fault::ForgetOnRestart,
        Fault::RefundBeforeExpiry,
    ];

    /// Its name in `ISTHMUS_BROKEN`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::AcceptBadSignature => "accept-bad-signature",
            Fault::SkipAlpnCheck => "skip-alpn-check",
            Fault::AnswerReplays => "answer-replays",
            Fault::RevealBeforeBothLocks => "reveal-before-both-locks",
            Fault::SkipTimelockMargin => "skip-timelock-margin",
            Fault::ForgetOnRestart => "forget-on-restart",
            Fault::RefundBeforeExpiry => "refund-before-expiry",
        }
    }
}

/// The faults `ISTHMUS_BROKEN` names; an unknown name is an error naming it.
#[cfg(feature = "broken-nodes")]
pub fn configured() -> Result<Vec<Fault>, String> {
    let Ok(text) = std::env::var("ISTHMUS_BROKEN") else {
        return Ok(Vec::new());
    };
    let mut faults = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let fault = Fault::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "ISTHMUS_BROKEN names {name:?}, no fault of this build ({})",
                    known.join(", ")
                )
            })?;
        faults.push(fault);
    }
    Ok(faults)
}

/// Without the `broken-nodes` feature there is no fault to configure.
#[cfg(not(feature = "broken-nodes"))]
pub fn configured() -> Result<Vec<Fault>, String> {
    Ok(Vec::new())
}

/// Whether this node has `fault`: never without the `broken-nodes` feature.
pub fn active(fault: Fault) -> bool {
    #[cfg(feature = "broken-nodes")]
    {
        static FAULTS: std::sync::OnceLock<Vec<Fault>> = std::sync::OnceLock::new();
        FAULTS
            .get_or_init(|| configured().unwrap_or_default())
            .contains(&fault)
    }
    #[cfg(not(feature = "broken-nodes"))]
    {
        let _ = fault;
        false
    }
}
