//! What a refusal says, for inputs built to abuse it: a member name of a
//! megabyte, an ESC or BEL written as a `\u001b` escape, a right-to-left
//! override. The reason code and path stay exact (ISM-1 §3.3.6, §9); the
//! sentence quotes a short escaped excerpt, so printing it cannot flood or
//! drive a terminal (issue 10, finding 10).

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_spec::limits::{MAX_QUOTED_CHARS, MAX_SENTENCE_CHARS};
use isthmus_spec::{Envelope, ReasonCode, Rejection};
use serde_json::Value;

fn sample() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/settlement-instruction.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn refusal(message: &Value) -> Rejection {
    Envelope::decode(serde_json::to_string(message).unwrap().as_bytes()).unwrap_err()
}

/// Whether a printed sentence could act on a terminal: any control
/// character, C1 included, or a bidirectional override.
fn acts_on_a_terminal(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c))
}

#[test]
fn a_huge_unknown_member_name_is_quoted_short_and_its_path_kept_exact() {
    let name = format!("\u{1b}]0;owned\u{7}{}", "x".repeat(1_000_000));
    let mut message = sample();
    message["body"][name.as_str()] = Value::String("v".into());
    let refused = refusal(&message);
    assert_eq!(refused.code, ReasonCode::UnknownField);
    // The path is the member as written (ISM-1 §3.3.6): exact, for machines.
    assert_eq!(
        refused.field.as_deref(),
        Some(format!("body.{name}").as_str())
    );
    // The sentence and the displayed refusal are short and inert.
    assert!(refused.message.chars().count() <= MAX_SENTENCE_CHARS);
    assert!(
        refused.message.starts_with("\"\\u{1b}]0;owned\\u{7}xxx"),
        "{}",
        refused.message
    );
    assert!(!acts_on_a_terminal(&refused.message), "{}", refused.message);
    let shown = refused.to_string();
    assert!(shown.len() < 2_000, "{} bytes shown", shown.len());
    assert!(!acts_on_a_terminal(&shown));
}

#[test]
fn escaped_controls_in_values_are_shown_as_escapes() {
    // The JSON escapes \u001b and \u0007 give real ESC and BEL characters.
    let cases = [
        ("isin", "US\u{1b}[2J\u{7}0378331005"),
        ("trade_date", "2026-11-25\u{1b}[31m"),
        ("direction", "DELIVER\u{202e}REVIECER"),
        ("quantity", "\u{9b}6n1000"),
    ];
    for (member, value) in cases {
        let mut message = sample();
        message["body"][member] = Value::String(value.into());
        let refused = refusal(&message);
        assert_eq!(
            refused.field.as_deref(),
            Some(format!("body.{member}").as_str())
        );
        assert!(
            !acts_on_a_terminal(&refused.message),
            "{member}: {:?}",
            refused.message
        );
        assert!(
            refused.message.contains("\\u{"),
            "{member}: the escape is visible: {}",
            refused.message
        );
    }
}

#[test]
fn a_long_value_is_cut_after_a_short_excerpt() {
    let mut message = sample();
    message["body"]["isin"] = Value::String("U".repeat(500_000));
    let refused = refusal(&message);
    assert_eq!(refused.code, ReasonCode::IsinFormat);
    let quoted = refused
        .message
        .split('"')
        .nth(1)
        .expect("the sentence quotes the value");
    assert_eq!(quoted.chars().count(), MAX_QUOTED_CHARS + 1);
    assert!(quoted.ends_with('…'));
}
