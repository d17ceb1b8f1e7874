#![allow(clippy::expect_used)]
//! Every MUST of ISM-1 is checked by a vector, a scenario or a test, or is
//! marked untestable with a reason; the registry agrees with the spec word
//! for word, and every check it names exists (issue 14 step 5).

use std::collections::BTreeSet;
use std::path::PathBuf;

use isthmus_conformance::coverage::{self, Checkout};
use isthmus_conformance::scenarios;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf()
}

fn assessed() -> coverage::Coverage {
    let root = repository();
    let (spec, registry) = coverage::load(&root).expect("the spec and the registry load");
    let ids: BTreeSet<String> = scenarios::all().iter().map(|s| s.id.to_string()).collect();
    coverage::assess(&spec, registry, &ids, &Checkout(root))
}

#[test]
fn no_must_of_the_spec_is_left_unchecked() {
    let coverage = assessed();
    assert!(coverage.passes(), "{}", coverage.summary(false));
}

#[test]
fn the_registry_covers_the_whole_spec() {
    let coverage = assessed();
    let figures = coverage.figures();
    // The spec has well over a hundred MUST sentences; a reader that found
    // few would be reading the wrong file or splitting it wrongly.
    assert!(figures.must > 150, "{figures:?}");
    assert!(figures.should > 5, "{figures:?}");
    let chapters = coverage.by_chapter();
    for chapter in ["3", "4", "5", "6", "7", "8", "9", "10", "12"] {
        assert!(
            chapters.get(chapter).is_some_and(|f| f.must > 0),
            "chapter {chapter} has MUST sentences"
        );
    }
    let ids: BTreeSet<&str> = coverage
        .requirements
        .iter()
        .map(|a| a.requirement.id.as_str())
        .collect();
    assert_eq!(ids.len(), coverage.requirements.len(), "ids are unique");
}
