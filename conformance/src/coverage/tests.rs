use std::collections::{BTreeMap, BTreeSet};

use super::registry::{self, Check};
use super::*;

const SPEC: &str = "\
### 8.1 QUIC

1. Nodes MUST use QUIC. A node SHOULD log it.
2. The server MUST select `ism/1`.
";

struct Files(BTreeMap<&'static str, &'static str>);

impl Sources for Files {
    fn read(&self, path: &str) -> Option<String> {
        self.0.get(path).map(|text| text.to_string())
    }
}

fn files() -> Files {
    Files(BTreeMap::from([
        (
            "transport/tests/tls.rs",
            "use x;\n\n#[test]\nfn quic_only() {}\n\nfn helper() {}\n\n#[tokio::test(flavor = \"multi_thread\")]\nasync fn alpn() {}\n",
        ),
        ("specs/tests/props.rs", "proptest! {\n    #[test]\n    fn holds(x in 0..1u8) {}\n\n    fn also(y in 0..1u8) {}\n}\n\nfn after() {}\n\n#[test]\n// fn commented() {}\n\n#[test]\n#[ignore]\nfn ignored() {}\n"),
        ("specs/vectors/invalid/22-isin.json", "{}"),
        ("specs/vectors/membership/cases.json", "{\"cases\": [{\"name\": \"dup\"}]}"),
    ]))
}

fn scenarios() -> BTreeSet<String> {
    BTreeSet::from(["ism1/8.1/2-alpn".to_string()])
}

fn entry(id: &str, level: &str, text: &str, extra: &str) -> String {
    format!("[[requirement]]\nid = \"{id}\"\nlevel = \"{level}\"\ntext = \"{text}\"\n{extra}\n")
}

fn run(toml: &str) -> Coverage {
    let registry = registry::parse("t.toml", toml).expect("registry parses");
    assess(SPEC, registry, &scenarios(), &files())
}

fn complete() -> String {
    [
        entry(
            "REQ-8.1-1a",
            "MUST",
            "Nodes MUST use QUIC.",
            "checks = [\"test transport/tests/tls.rs::quic_only\", \"vector invalid/22-isin\"]",
        ),
        entry("REQ-8.1-1b", "SHOULD", "A node SHOULD log it.", ""),
        entry(
            "REQ-8.1-2a",
            "MUST",
            "The server MUST select `ism/1`.",
            "checks = [\"scenario ism1/8.1/2-alpn\"]",
        ),
    ]
    .concat()
}

#[test]
fn a_complete_registry_passes_and_counts() {
    let coverage = run(&complete());
    assert_eq!(coverage.problems, vec![]);
    assert!(coverage.passes());
    let f = coverage.figures();
    assert_eq!((f.must, f.must_covered, f.must_uncovered()), (2, 2, 0));
    assert_eq!(
        (f.should, f.should_covered, f.should_uncovered()),
        (1, 0, 1)
    );
    assert_eq!(coverage.by_chapter().get("8"), Some(&f));
    let ids: Vec<&str> = coverage
        .uncovered()
        .map(|a| a.requirement.id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["REQ-8.1-1b"],
        "an unchecked SHOULD is listed but does not fail"
    );
    let summary = coverage.summary(true);
    assert!(summary.contains("PASS"), "{summary}");
    assert!(summary.contains("- scenario ism1/8.1/2-alpn"), "{summary}");
    assert_eq!(coverage.to_json()["figures"]["must_covered"], 2);
}

#[test]
fn an_unchecked_must_fails_unless_marked_untestable() {
    let unchecked = complete().replace("checks = [\"scenario ism1/8.1/2-alpn\"]", "");
    let coverage = run(&unchecked);
    assert!(coverage.problems.is_empty());
    assert!(!coverage.passes());
    assert_eq!(coverage.figures().must_uncovered(), 1);
    assert!(coverage.summary(false).contains("FAIL"));

    let marked = complete().replace(
        "checks = [\"scenario ism1/8.1/2-alpn\"]",
        "untestable = \"the server's choice is invisible to a black-box client\"",
    );
    let coverage = run(&marked);
    assert!(coverage.passes());
    assert_eq!(coverage.figures().must_untestable, 1);
}

#[test]
fn every_problem_is_found_and_named() {
    let cases: Vec<(String, &str)> = vec![
        (
            complete().replace("The server MUST select `ism/1`.", "The server MUST pick."),
            "REQ-8.1-2a (t.toml) quotes a sentence the spec no longer has",
        ),
        (
            complete().replace("REQ-8.1-1b", "REQ-8.1-1a"),
            "REQ-8.1-1a is given to two entries",
        ),
        (
            complete().replace("\"SHOULD\"", "\"MUST\""),
            "REQ-8.1-1b is registered as MUST but its sentence is a SHOULD requirement",
        ),
        (
            complete().replace("ism1/8.1/2-alpn", "ism1/8.1/2-nope"),
            "names no scenario of the catalogue",
        ),
        (
            complete().replace("invalid/22-isin", "invalid/23-isin"),
            "names no file under specs/vectors/",
        ),
        (
            complete().replace("invalid/22-isin", "membership/cases.json#nope"),
            "names no case \"nope\" in membership/cases.json",
        ),
        (
            complete().replace("tls.rs::quic_only", "tls.rs::helper"),
            "names no test function helper",
        ),
        (
            complete().replace("tests/tls.rs", "tests/none.rs"),
            "names a file the repository does not have",
        ),
        (
            complete().replace(
                "checks = [\"scenario ism1/8.1/2-alpn\"]",
                "checks = [\"scenario ism1/8.1/2-alpn\"]\nuntestable = \"no black box can see the choice\"",
            ),
            "has checks and is marked untestable",
        ),
    ];
    for (toml, needle) in cases {
        let coverage = run(&toml);
        assert!(!coverage.passes(), "{needle}");
        let problems: Vec<String> = coverage.problems.iter().map(ToString::to_string).collect();
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{needle} not in {problems:?}"
        );
    }
}

#[test]
fn checks_that_exist_are_accepted() {
    for check in [
        "test transport/tests/tls.rs::alpn",
        "test specs/tests/props.rs::holds",
        "vector membership/cases.json#dup",
        "vector invalid/22-isin.json",
    ] {
        let check = Check::parse(check).expect("parses");
        assert_eq!(confirm(&check, &scenarios(), &files()), Ok(()), "{check}");
    }
    for not_a_test in [
        "specs/tests/props.rs::after",
        "specs/tests/props.rs::also",
        "specs/tests/props.rs::commented",
        "specs/tests/props.rs::ignored",
    ] {
        let check = Check::parse(&format!("test {not_a_test}")).expect("parses");
        assert!(
            confirm(&check, &scenarios(), &files()).is_err(),
            "{not_a_test}"
        );
    }
}

#[test]
fn the_skeleton_registers_what_is_missing() {
    let partial = entry(
        "REQ-8.1-1a",
        "MUST",
        "Nodes MUST use QUIC.",
        "checks = [\"scenario ism1/8.1/2-alpn\"]",
    );
    let coverage = run(&partial);
    let missing: Vec<String> = coverage
        .problems
        .iter()
        .map(|p| match p {
            Problem::Unregistered { suggested_id, .. } => suggested_id.clone(),
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(
        missing,
        vec!["REQ-8.1-1b", "REQ-8.1-2a"],
        "ids skip the taken ones"
    );
    assert_eq!(
        coverage.by_chapter()["8"].must_uncovered(),
        1,
        "counted as uncovered"
    );
    let completed = format!("{partial}{}", coverage.skeleton());
    let coverage = run(&completed);
    assert!(coverage.problems.is_empty(), "{:?}", coverage.problems);
    assert!(!coverage.passes(), "the new MUST has no check yet");
}

#[test]
fn a_repeated_sentence_is_registered_once_per_place() {
    let spec = "### 8.1 X\n\n1. A node MUST close it.\n2. A node MUST close it.\n";
    let one = entry(
        "REQ-8.1-1a",
        "MUST",
        "A node MUST close it.",
        "untestable = \"a reason long enough here\"",
    );
    let registry = registry::parse("t.toml", &one).expect("parses");
    let coverage = assess(spec, registry, &scenarios(), &files());
    assert_eq!(coverage.problems.len(), 1, "{:?}", coverage.problems);
    let two = format!("{one}{}", one.replace("REQ-8.1-1a", "REQ-8.1-2a"));
    let registry = registry::parse("t.toml", &two).expect("parses");
    let coverage = assess(spec, registry, &scenarios(), &files());
    assert!(coverage.passes(), "{:?}", coverage.problems);
    assert_eq!(coverage.requirements[1].sentence.item, 2);
}

#[test]
fn skeleton_strings_survive_toml() {
    let text = "a \"quoted\" \\ back`slash` §8.1 — dash";
    let toml = format!(
        "[[requirement]]\nid = \"REQ-1-0a\"\nlevel = \"MUST\"\ntext = {}\n",
        toml_string(text)
    );
    let parsed = registry::parse("t.toml", &toml).expect("parses");
    assert_eq!(parsed[0].text, text);
}
