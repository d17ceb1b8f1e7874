//! The scenarios, each addressed by the clause it checks (issue 14 step 2),
//! and the runner that selects them by role, level, strength and id, honours
//! what a target declared unsupported (step 3), and skips a scenario whose
//! prerequisite did not pass.

mod gateway;
mod recovery;
mod settlement;
mod transport;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::catalogue::{Level, Role, Strength};
use crate::harness::{Harness, Transcript};
use crate::report::{CaseReport, Failure, Report, Verdict};

/// How a scenario that did not fail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// The target did what the clause requires.
    Passed,
    /// The run lacks what the scenario needs (an observer's keys, the
    /// vectors): the scenario is skipped with this reason.
    CannotRun(String),
}

/// A scenario's future.
pub type Check<'a> = Pin<Box<dyn Future<Output = Result<Ran, Failure>> + 'a>>;

/// A scenario's body.
pub type RunFn = for<'a> fn(&'a Harness, &'a mut Transcript) -> Check<'a>;

/// One scenario.
pub struct Scenario {
    /// Its stable id: `ism1/`, the clause, and a name (`ism1/8.4/6-replay-other-bytes`).
    pub id: &'static str,
    /// The clause it checks.
    pub clause: &'static str,
    /// MUST scenarios always run; SHOULD ones with `--strict`.
    pub strength: Strength,
    /// Its level.
    pub level: Level,
    /// The roles of target it applies to.
    pub roles: &'static [Role],
    /// The optional feature it needs, which a target may declare unsupported.
    pub feature: Option<&'static str>,
    /// What it checks, in a sentence.
    pub title: &'static str,
    /// The scenarios it builds on: if one of them failed (or was skipped
    /// for a failure), this one is skipped.
    pub after: &'static [&'static str],
    /// Its body.
    pub run: RunFn,
}

/// Every scenario, in the order they run.
pub fn all() -> Vec<&'static Scenario> {
    transport::SCENARIOS
        .iter()
        .chain(settlement::SCENARIOS.iter())
        .chain(recovery::SCENARIOS.iter())
        .chain(gateway::SCENARIOS.iter())
        .collect()
}

/// The scenario with this id.
pub fn find(id: &str) -> Option<&'static Scenario> {
    all().into_iter().find(|s| s.id == id)
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The levels chosen.
    pub levels: Vec<Level>,
    /// Also the SHOULD scenarios.
    pub strict: bool,
    /// Only these scenario ids (all of the chosen levels when empty).
    pub only: Vec<String>,
    /// What the target declares unsupported: scenario ids, levels or features.
    pub unsupported: Vec<String>,
}

impl Selection {
    fn chosen(&self, scenario: &Scenario, role: Role) -> bool {
        scenario.roles.contains(&role)
            && self.levels.contains(&scenario.level)
            && (self.strict
                || scenario.strength == Strength::Must
                || self.only.iter().any(|id| id == scenario.id))
            && (self.only.is_empty() || self.only.iter().any(|id| id == scenario.id))
    }

    fn declared_unsupported(&self, scenario: &Scenario) -> Option<String> {
        self.unsupported.iter().find_map(|name| {
            if name == scenario.id {
                Some(format!("the target declares {name} unsupported"))
            } else if name == scenario.level.as_str() {
                Some(format!("the target declares the level {name} unsupported"))
            } else if scenario.feature == Some(name.as_str()) {
                Some(format!(
                    "the target declares the feature {name} unsupported"
                ))
            } else {
                None
            }
        })
    }
}

/// The longest one scenario may take before it fails: a target that hangs
/// fails the scenario, it does not hang the suite.
const SCENARIO_LIMIT: Duration = Duration::from_secs(180);

/// Runs the chosen scenarios against the harness's target, in catalogue order.
pub async fn run(harness: &Harness, selection: &Selection) -> Report {
    let mut cases: Vec<CaseReport> = Vec::new();
    // Failed, or skipped for a failure: what a dependent cannot build on. A
    // scenario that could not run (no observer, no Δ given) blocks nothing.
    let mut blocked: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for scenario in all() {
        if !selection.chosen(scenario, harness.target.role) {
            continue;
        }
        let started = Instant::now();
        let verdict = if let Some(why) = selection.declared_unsupported(scenario) {
            Verdict::Unsupported(why)
        } else if let Some(failed) = scenario.after.iter().find(|id| blocked.contains(**id)) {
            blocked.insert(scenario.id);
            Verdict::Skipped(format!("builds on {failed}, which did not pass"))
        } else {
            let mut transcript = Transcript::default();
            let outcome =
                tokio::time::timeout(SCENARIO_LIMIT, (scenario.run)(harness, &mut transcript))
                    .await;
            match outcome {
                Ok(Ok(Ran::Passed)) => Verdict::Pass,
                Ok(Ok(Ran::CannotRun(why))) => Verdict::Skipped(why),
                Ok(Err(failure)) => {
                    blocked.insert(scenario.id);
                    Verdict::Fail(failure)
                }
                Err(_) => {
                    blocked.insert(scenario.id);
                    Verdict::Fail(transcript.fail(
                        "the scenario to finish",
                        format!("it did not finish within {SCENARIO_LIMIT:?}"),
                    ))
                }
            }
        };
        cases.push(CaseReport {
            id: scenario.id.to_string(),
            clause: scenario.clause.to_string(),
            group: scenario.level.as_str().to_string(),
            strength: scenario.strength,
            title: scenario.title.to_string(),
            verdict,
            millis: started.elapsed().as_millis() as u64,
        });
    }
    Report {
        suite: "ISM/1 scenarios".to_string(),
        subject: format!(
            "{} {} at {}",
            harness.target.role, harness.target.id, harness.target.addr
        ),
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_clause_addressed_and_prerequisites_come_first() {
        let scenarios = all();
        for (n, scenario) in scenarios.iter().enumerate() {
            assert!(scenario.id.starts_with("ism1/"), "{}", scenario.id);
            let clause = scenario.id.split('/').nth(1).unwrap_or_default();
            assert!(
                scenario.clause.contains(&format!("§{clause}")),
                "{}: its id names §{clause}, its clause is {}",
                scenario.id,
                scenario.clause
            );
            assert!(
                !scenarios[n + 1..].iter().any(|s| s.id == scenario.id),
                "{} twice",
                scenario.id
            );
            for before in scenario.after {
                assert!(
                    scenarios[..n].iter().any(|s| s.id == *before),
                    "{} builds on {before}, which does not run before it",
                    scenario.id
                );
            }
        }
    }

    #[test]
    fn selection_honours_strict_only_and_unsupported() {
        let selection = |strict, only: &[&str], unsupported: &[&str]| Selection {
            levels: vec![Level::Core],
            strict,
            only: only.iter().map(|s| s.to_string()).collect(),
            unsupported: unsupported.iter().map(|s| s.to_string()).collect(),
        };
        let should = all()
            .into_iter()
            .find(|s| s.strength == Strength::Should)
            .map(|s| s.id);
        let must = all()[0];
        let plain = selection(false, &[], &[]);
        assert!(plain.chosen(must, Role::Relay));
        if let Some(should) = should.and_then(find) {
            assert!(!plain.chosen(should, Role::Relay));
            assert!(selection(true, &[], &[]).chosen(should, Role::Relay));
            assert!(selection(false, &[should.id], &[]).chosen(should, Role::Relay));
        }
        let other = all().into_iter().find(|s| s.id != must.id).map(|s| s.id);
        if let Some(other) = other {
            assert!(!selection(false, &[other], &[]).chosen(must, Role::Relay));
        }
        assert!(selection(false, &[], &[must.id])
            .declared_unsupported(must)
            .is_some());
        assert!(selection(false, &[], &["core"])
            .declared_unsupported(must)
            .is_some());
        assert!(plain.declared_unsupported(must).is_none());
        let mut settlement_only = selection(false, &[], &[]);
        settlement_only.levels = vec![Level::Settlement];
        assert!(!settlement_only.chosen(must, Role::Relay));
    }
}
