//! Runs every ISM/1 test vector under `specs/vectors/` through the library
//! (ISM-1 §10), and the RFC 8785 vectors through the canonicaliser (ISM-1 §3.4).

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use isthmus_spec::jcs::canonicalize;
use isthmus_spec::vectors::{Expectation, TestKeys, Vector};
use isthmus_spec::ReasonCode;
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn load(dir: &str) -> Vec<(PathBuf, Vector)> {
    let mut paths: Vec<PathBuf> = fs::read_dir(vectors_dir().join(dir))
        .expect("vector directory exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("readable vector");
            let vector = Vector::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, vector)
        })
        .collect()
}

fn keys() -> TestKeys {
    TestKeys::parse(&fs::read_to_string(vectors_dir().join("keys.json")).expect("keys.json"))
        .expect("valid key file")
}

#[test]
fn every_vector_passes() {
    let keys = keys();
    let keyring = keys.keyring().expect("keyring");
    let signer = keys.trusted[0]
        .signing_key()
        .expect("test key matches its published form");
    for key in &keys.untrusted {
        key.signing_key()
            .expect("untrusted key matches its published form");
    }
    let mut failures = Vec::new();
    for dir in ["valid", "invalid"] {
        for (path, vector) in load(dir) {
            let file_id = format!(
                "{dir}/{}",
                path.file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
            );
            assert_eq!(vector.id, file_id, "a vector's id is its path");
            assert_eq!(
                matches!(vector.expect, Expectation::Valid { .. }),
                dir == "valid",
                "{file_id} is in the right folder"
            );
            if let Err(problem) = vector.check(&keyring, &signer) {
                failures.push(format!("{}: {problem}", vector.id));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn vectors_cover_what_the_issue_demands() {
    let valid = load("valid");
    let invalid = load("invalid");
    assert!(valid.len() >= 15, "at least 15 valid vectors");
    assert!(invalid.len() >= 40, "at least 40 invalid vectors");
    let kinds: BTreeSet<String> = valid
        .iter()
        .filter_map(|(_, v)| {
            v.input
                .as_ref()
                .and_then(|m| m["kind"].as_str())
                .map(str::to_string)
        })
        .collect();
    for kind in isthmus_spec::Kind::ALL {
        assert!(
            kinds.contains(kind.as_str()),
            "no valid vector of kind {kind}"
        );
    }
    let reasons: BTreeSet<String> = invalid
        .iter()
        .filter_map(|(_, v)| match &v.expect {
            Expectation::Invalid { reason, .. } => Some(reason.clone()),
            Expectation::Valid { .. } => None,
        })
        .collect();
    // Every code the message decoder can return has a vector; the transport
    // codes (ISM-1 §8), MIC_UNKNOWN (configuration only) and the codes a relay
    // reports on a matched pair (ISM-1 §6.1 duty 7) are checked elsewhere.
    let not_message_level = [
        ReasonCode::InstructionIncomplete,
        ReasonCode::PairInvalid,
        ReasonCode::LegMarketConflict,
        ReasonCode::FrameTooLarge,
        ReasonCode::FrameTruncated,
        ReasonCode::MessageReplayed,
        ReasonCode::ReceiverMismatch,
        ReasonCode::PeerUnknown,
        ReasonCode::MicUnknown,
        ReasonCode::FrameExtra,
        ReasonCode::FrameMissing,
        ReasonCode::RoleForbidden,
        // The membership file's codes have vectors of their own (membership/).
        ReasonCode::RoleUnknown,
        ReasonCode::MarketUnexpected,
        ReasonCode::SigningKeysMissing,
        ReasonCode::MemberDuplicate,
        ReasonCode::KeyDuplicate,
        ReasonCode::CertificateDuplicate,
        ReasonCode::MemberMissing,
    ];
    for code in ReasonCode::ALL
        .iter()
        .filter(|c| !not_message_level.contains(c))
    {
        assert!(
            reasons.contains(code.as_str()),
            "no invalid vector for {code}"
        );
    }
}

#[test]
fn rfc8785_cases() {
    let text = fs::read_to_string(vectors_dir().join("jcs/cases.json")).expect("cases.json");
    let results = isthmus_spec::vectors::check_jcs_cases(&text).expect("cases.json is well formed");
    assert!(results.len() >= 8);
    for (name, result) in results {
        assert_eq!(result, Ok(()), "{name}");
    }
}

#[test]
fn rfc8785_appendix_b_numbers() {
    let text = fs::read_to_string(vectors_dir().join("jcs/numbers.json")).expect("numbers.json");
    let file: Value = serde_json::from_str(&text).expect("numbers.json is JSON");
    let results =
        isthmus_spec::vectors::check_jcs_numbers(&text).expect("numbers.json is well formed");
    assert!(results.len() >= 20);
    for (hex, result) in results {
        assert_eq!(result, Ok(()), "{hex}");
    }
    // And through the parser: each expected text parses back to itself.
    for case in file["cases"].as_array().expect("cases") {
        let expected = case["expected"].as_str().expect("expected");
        let again = canonicalize(expected.as_bytes()).expect("expected output is JSON");
        assert_eq!(String::from_utf8_lossy(&again), expected);
    }
}

#[test]
fn membership_cases() {
    let text = fs::read_to_string(vectors_dir().join("membership/cases.json"))
        .expect("membership/cases.json");
    let results =
        isthmus_spec::vectors::check_membership_cases(&text).expect("cases.json is well formed");
    assert!(
        results.len() >= 25,
        "only {} membership cases",
        results.len()
    );
    for (name, result) in &results {
        assert_eq!(result, &Ok(()), "{name}");
    }
    // Every membership code of ISM-1 §8.1 rule 4 has a case.
    for code in [
        ReasonCode::RoleUnknown,
        ReasonCode::MarketUnexpected,
        ReasonCode::SigningKeysMissing,
        ReasonCode::MemberDuplicate,
        ReasonCode::KeyDuplicate,
        ReasonCode::CertificateDuplicate,
        ReasonCode::MemberMissing,
        ReasonCode::MicUnknown,
    ] {
        assert!(
            text.contains(&format!("\"reason\": \"{code}\"")),
            "no membership case for {code}"
        );
    }
}
