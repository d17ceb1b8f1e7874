//! `isthmus translate --from mt` on instructions as participants write them
//! (issue 7): an instruction that leaves its own side implied translates with
//! no extra flags, and every member derived from the message's routing is
//! printed as a `note: derived:` line (ISM-1 §6.1 duty 8).

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn corpus(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("adapters/tests/data/mt")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn isthmus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isthmus"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

#[test]
fn an_instruction_with_implied_parties_translates_without_flags_and_notes_what_was_derived() {
    let name = "30-mt543-us-dtc-deliver-against-usd-implied-own-side";
    let output = isthmus(&[
        "translate",
        "--from",
        "mt",
        "--to",
        "ism",
        &corpus(&format!("{name}.fin")),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let translated: Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(corpus(&format!("{name}.ism.json"))).unwrap())
            .unwrap();
    assert_eq!(translated, expected);
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("note: derived: "))
        .collect();
    assert_eq!(notes.len(), 2, "{stderr}");
    assert!(notes
        .iter()
        .any(|n| n.starts_with("note: derived: body.account_owner from {1:} sender: ")));
    assert!(notes
        .iter()
        .any(|n| n.starts_with("note: derived: body.delivering_agent from {2:} receiver: ")));
    // What ISM/1 has no member for is still listed as not carried.
    assert!(
        stderr.contains("warning: not carried: B/TRADDET/:90B::DEAL//"),
        "{stderr}"
    );
}

#[test]
fn an_instruction_without_the_counterpartys_agent_is_refused_with_its_reason() {
    let output = isthmus(&[
        "translate",
        "--from",
        "mt",
        "--to",
        "ism",
        &corpus("invalid/26-counterparty-agent-missing-prowide-mt542.fin"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "REJECTED COUNTERPARTY_REQUIRED at E/SETDET/E1/SETPRTY/:95a::REAG//: this MT542 delivers securities"
        ),
        "{stderr}"
    );
}

#[test]
fn mt_to_mt_keeps_what_was_derived_and_says_so() {
    // MT → ISM/1 → MT: the implied members are written explicitly, and the
    // derivation notes are printed once, on the way in.
    let output = isthmus(&[
        "translate",
        "--from",
        "mt",
        "--to",
        "mt",
        &corpus("31-mt541-us-dtc-receive-against-usd-implied-own-side.fin"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(":95P::ACOW//IMBYUS33\r\n"), "{text}");
    assert!(text.contains(":95P::REAG//IRVTUS3N\r\n"), "{text}");
    assert_eq!(stderr.matches("note: derived: ").count(), 2, "{stderr}");
}
