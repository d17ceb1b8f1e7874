//! What a run found, case by case, and its three forms (issue 14 step 4): a
//! summary a person reads, JUnit XML for CI dashboards, and JSON for tools.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::catalogue::Strength;

/// The most message lines a failure keeps: enough to see the exchange that
/// went wrong, bounded whatever the target sent.
const MAX_EXCHANGED: usize = 40;
/// The longest line of a report: a target's text is quoted, never trusted.
const MAX_LINE: usize = 400;

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The target did what the clause requires.
    Pass,
    /// It did not: the first difference seen.
    Fail(Failure),
    /// The target declared the case, its level or its feature unsupported.
    Unsupported(String),
    /// Not run because a case it builds on did not pass.
    Skipped(String),
}

impl Verdict {
    /// `pass`, `fail`, `unsupported` or `skipped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "fail",
            Verdict::Unsupported(_) => "unsupported",
            Verdict::Skipped(_) => "skipped",
        }
    }
}

/// The first difference between what a clause requires and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What the clause requires here.
    pub expected: String,
    /// What the target did instead.
    pub observed: String,
    /// The messages exchanged up to the difference, one line each (`→`
    /// sent by the suite, `←` received from the target).
    pub exchanged: Vec<String>,
}

impl Failure {
    /// A difference without an exchange to show.
    pub fn new(expected: impl Into<String>, observed: impl Into<String>) -> Failure {
        Failure {
            expected: bounded(&expected.into()),
            observed: bounded(&observed.into()),
            exchanged: Vec::new(),
        }
    }

    /// The same failure with the exchange that led to it.
    pub fn exchanged(mut self, lines: &[String]) -> Failure {
        let skip = lines.len().saturating_sub(MAX_EXCHANGED);
        self.exchanged = lines[skip..].iter().map(|line| bounded(line)).collect();
        self
    }
}

/// One line of text a report can print safely: control characters replaced,
/// cut at [`MAX_LINE`] characters.
pub fn bounded(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX_LINE {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '\u{FFFD}' } else { c });
    }
    out
}

/// One case of a run: a scenario or a vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReport {
    /// Its stable id (`ism1/8.4/6-replay`, `valid/01-…`).
    pub id: String,
    /// The clause it checks (`ISM-1 §8.4 step 6`).
    pub clause: String,
    /// Its group: a level (`core`, `settlement`, `recovery`) or `vectors`.
    pub group: String,
    /// MUST or SHOULD.
    pub strength: Strength,
    /// What it checks, in a sentence.
    pub title: String,
    /// How it ended.
    pub verdict: Verdict,
    /// How long it took, in milliseconds (reported, never asserted).
    pub millis: u64,
}

/// Counts of a run's verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Declared unsupported.
    pub unsupported: usize,
    /// Not run.
    pub skipped: usize,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// What ran: `ISM/1 vectors` or `ISM/1 scenarios`.
    pub suite: String,
    /// What was checked: the vector directory, or the target.
    pub subject: String,
    /// Every case, in the order run.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// The verdicts counted.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for case in &self.cases {
            match case.verdict {
                Verdict::Pass => counts.passed += 1,
                Verdict::Fail(_) => counts.failed += 1,
                Verdict::Unsupported(_) => counts.unsupported += 1,
                Verdict::Skipped(_) => counts.skipped += 1,
            }
        }
        counts
    }

    /// Whether the run proves conformance for what was chosen: something
    /// passed, nothing failed, nothing was skipped (a skip follows a
    /// failure). Unsupported cases were declared, so they do not count.
    pub fn succeeded(&self) -> bool {
        let counts = self.counts();
        counts.passed > 0 && counts.failed == 0 && counts.skipped == 0
    }

    /// The readable summary: one line per case, the difference under each
    /// failure, the counts last.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} — {}", self.suite, bounded(&self.subject));
        let mut group = None;
        for case in &self.cases {
            if group != Some(&case.group) {
                let _ = writeln!(out, "  {}", case.group);
                group = Some(&case.group);
            }
            let mark = match case.verdict {
                Verdict::Pass => "pass",
                Verdict::Fail(_) => "FAIL",
                Verdict::Unsupported(_) => "unsupported",
                Verdict::Skipped(_) => "skipped",
            };
            let _ = writeln!(
                out,
                "    {mark:<11} {}  ({}, {})  {}",
                case.id, case.clause, case.strength, case.title
            );
            match &case.verdict {
                Verdict::Pass => {}
                Verdict::Fail(failure) => {
                    let _ = writeln!(out, "                expected: {}", failure.expected);
                    let _ = writeln!(out, "                observed: {}", failure.observed);
                    if !failure.exchanged.is_empty() {
                        let _ = writeln!(out, "                exchanged:");
                        for line in &failure.exchanged {
                            let _ = writeln!(out, "                  {line}");
                        }
                    }
                }
                Verdict::Unsupported(why) | Verdict::Skipped(why) => {
                    let _ = writeln!(out, "                {}", bounded(why));
                }
            }
        }
        let counts = self.counts();
        let _ = writeln!(
            out,
            "{} cases: {} passed, {} failed, {} unsupported, {} skipped — {}",
            self.cases.len(),
            counts.passed,
            counts.failed,
            counts.unsupported,
            counts.skipped,
            if self.succeeded() {
                "conformant for what was run"
            } else {
                "NOT conformant"
            }
        );
        out
    }

    /// The JSON report: the run, its counts and every case.
    pub fn to_json(&self) -> Value {
        let counts = self.counts();
        let cases: Vec<Value> = self
            .cases
            .iter()
            .map(|case| {
                let mut value = json!({
                    "id": case.id,
                    "clause": case.clause,
                    "group": case.group,
                    "strength": case.strength.as_str(),
                    "title": case.title,
                    "verdict": case.verdict.as_str(),
                    "millis": case.millis,
                });
                match &case.verdict {
                    Verdict::Pass => {}
                    Verdict::Fail(failure) => {
                        value["expected"] = json!(failure.expected);
                        value["observed"] = json!(failure.observed);
                        value["exchanged"] = json!(failure.exchanged);
                    }
                    Verdict::Unsupported(why) | Verdict::Skipped(why) => {
                        value["reason"] = json!(bounded(why));
                    }
                }
                value
            })
            .collect();
        json!({
            "suite": self.suite,
            "subject": bounded(&self.subject),
            "succeeded": self.succeeded(),
            "counts": {
                "cases": self.cases.len(),
                "passed": counts.passed,
                "failed": counts.failed,
                "unsupported": counts.unsupported,
                "skipped": counts.skipped,
            },
            "cases": cases,
        })
    }

    /// JUnit XML: one `testsuite` per group, one `testcase` per case; a
    /// failure carries the difference, an unsupported or skipped case is
    /// `skipped` with its reason.
    pub fn to_junit(&self) -> String {
        let mut groups: Vec<&str> = Vec::new();
        for case in &self.cases {
            if !groups.contains(&case.group.as_str()) {
                groups.push(&case.group);
            }
        }
        let counts = self.counts();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            xml(&format!("{} — {}", self.suite, self.subject)),
            self.cases.len(),
            counts.failed,
            counts.unsupported + counts.skipped
        );
        for group in groups {
            let cases: Vec<&CaseReport> = self.cases.iter().filter(|c| c.group == group).collect();
            let failed = cases
                .iter()
                .filter(|c| matches!(c.verdict, Verdict::Fail(_)))
                .count();
            let skipped = cases
                .iter()
                .filter(|c| matches!(c.verdict, Verdict::Unsupported(_) | Verdict::Skipped(_)))
                .count();
            let seconds: u64 = cases.iter().map(|c| c.millis).sum();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{}\">",
                xml(group),
                cases.len(),
                millis_as_seconds(seconds)
            );
            for case in cases {
                let _ = write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"ism1.{}\" time=\"{}\">",
                    xml(&case.id),
                    xml(group),
                    millis_as_seconds(case.millis)
                );
                let _ = write!(
                    out,
                    "<properties><property name=\"clause\" value=\"{}\"/><property name=\"strength\" value=\"{}\"/><property name=\"title\" value=\"{}\"/></properties>",
                    xml(&case.clause),
                    case.strength,
                    xml(&case.title)
                );
                match &case.verdict {
                    Verdict::Pass => {}
                    Verdict::Fail(failure) => {
                        let mut body = format!(
                            "expected: {}\nobserved: {}\n",
                            failure.expected, failure.observed
                        );
                        for line in &failure.exchanged {
                            let _ = writeln!(body, "  {line}");
                        }
                        let _ = write!(
                            out,
                            "<failure message=\"{}\" type=\"{}\">{}</failure>",
                            xml(&failure.observed),
                            xml(&case.clause),
                            xml(&body)
                        );
                    }
                    Verdict::Unsupported(why) => {
                        let _ = write!(out, "<skipped message=\"unsupported: {}\"/>", xml(why));
                    }
                    Verdict::Skipped(why) => {
                        let _ = write!(out, "<skipped message=\"{}\"/>", xml(why));
                    }
                }
                out.push_str("</testcase>\n");
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

fn millis_as_seconds(millis: u64) -> String {
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

/// Text as XML character data or attribute value: escaped, and the
/// characters XML 1.0 cannot carry at all replaced.
fn xml(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\t') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    quick_xml::escape::escape(clean.as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn case(id: &str, verdict: Verdict) -> CaseReport {
        CaseReport {
            id: id.to_string(),
            clause: "ISM-1 §8.4 step 6".to_string(),
            group: "core".to_string(),
            strength: Strength::Must,
            title: "a <replay> & more".to_string(),
            verdict,
            millis: 1234,
        }
    }

    fn report(cases: Vec<CaseReport>) -> Report {
        Report {
            suite: "ISM/1 scenarios".to_string(),
            subject: "relay".to_string(),
            cases,
        }
    }

    #[test]
    fn a_run_succeeds_only_when_something_passed_and_nothing_failed_or_was_skipped() {
        let fail = Verdict::Fail(Failure::new("MESSAGE_REPLAYED", "an acknowledgement"));
        assert!(report(vec![case("a", Verdict::Pass)]).succeeded());
        assert!(report(vec![
            case("a", Verdict::Pass),
            case("b", Verdict::Unsupported("declared".into()))
        ])
        .succeeded());
        assert!(!report(vec![]).succeeded());
        assert!(!report(vec![case("b", Verdict::Unsupported("declared".into()))]).succeeded());
        assert!(!report(vec![case("a", Verdict::Pass), case("b", fail)]).succeeded());
        assert!(!report(vec![
            case("a", Verdict::Pass),
            case("b", Verdict::Skipped("needs x".into()))
        ])
        .succeeded());
    }

    #[test]
    fn junit_is_well_formed_xml_with_the_failure_and_the_skips() {
        let failure = Failure::new("MESSAGE_REPLAYED at id", "an \u{1} acknowledgement")
            .exchanged(&["→ SettlementInstruction".to_string()]);
        let junit = report(vec![
            case("ism1/a", Verdict::Pass),
            case("ism1/b", Verdict::Fail(failure)),
            case("ism1/c", Verdict::Unsupported("no observer".into())),
        ])
        .to_junit();
        let mut reader = quick_xml::Reader::from_str(&junit);
        let (mut cases, mut failures, mut skipped) = (0, 0, 0);
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Eof => break,
                quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                    match e.name().as_ref() {
                        b"testcase" => cases += 1,
                        b"failure" => failures += 1,
                        b"skipped" => skipped += 1,
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        assert_eq!((cases, failures, skipped), (3, 1, 1));
        assert!(junit.contains("a &lt;replay&gt; &amp; more"));
        assert!(!junit.contains('\u{1}'));
    }

    #[test]
    fn json_and_summary_carry_the_difference() {
        let failure = Failure::new("MESSAGE_REPLAYED at id", "an acknowledgement");
        let report = report(vec![case("ism1/b", Verdict::Fail(failure))]);
        let value = report.to_json();
        assert_eq!(value["succeeded"], false);
        assert_eq!(value["counts"]["failed"], 1);
        assert_eq!(value["cases"][0]["observed"], "an acknowledgement");
        let summary = report.summary();
        assert!(summary.contains("FAIL"));
        assert!(summary.contains("expected: MESSAGE_REPLAYED at id"));
        assert!(summary.contains("NOT conformant"));
    }

    #[test]
    fn bounded_cuts_long_lines_and_replaces_controls() {
        let line = bounded(&format!("a\u{7}{}", "x".repeat(1000)));
        assert!(line.starts_with("a\u{FFFD}x"));
        assert_eq!(line.chars().count(), MAX_LINE + 1);
    }
}
