//! Keeps ISM-1 §9.3 (ledger reason codes) and the ledger's `LedgerReason` in
//! step: the same codes in the same order, the same "final" column, and each
//! row's meaning equal to the variant's doc comment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use isthmus_ledger::LedgerReason;

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(code, final, meaning)` of every row of §9.3's table.
fn table_rows() -> Vec<(String, bool, String)> {
    let spec = read("../specs/ISM-1.md");
    let start = spec
        .find("### 9.3 Ledger reason codes")
        .expect("§9.3 exists");
    // §9.3 ends where §9.4 (the settlement codes) begins, or at the rule.
    let end = start
        + [spec[start..].find("\n### 9.4"), spec[start..].find("\n---")]
            .into_iter()
            .flatten()
            .min()
            .expect("§9.3 ends");
    spec[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 3, "{line}");
            let finality = match cells[1] {
                "yes" => true,
                "no" => false,
                other => panic!("final column says {other:?}: {line}"),
            };
            (
                cells[0].trim_matches('`').to_string(),
                finality,
                cells[2].to_string(),
            )
        })
        .collect()
}

/// The doc comment above each `Variant = "CODE"` line of error.rs, by code.
fn doc_comment_of(code: &str) -> String {
    let source = read("src/error.rs");
    let line = source
        .lines()
        .position(|l| l.contains(&format!("= \"{code}\"")))
        .unwrap_or_else(|| panic!("{code} is not in error.rs"));
    let lines: Vec<&str> = source.lines().collect();
    let mut doc = Vec::new();
    for previous in lines[..line].iter().rev() {
        match previous.trim().strip_prefix("/// ") {
            Some(text) => doc.push(text),
            None => break,
        }
    }
    doc.reverse();
    doc.join(" ")
}

#[test]
fn section_9_3_lists_every_ledger_reason_in_order() {
    let rows = table_rows();
    let codes: Vec<(String, bool)> = LedgerReason::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), r.is_final()))
        .collect();
    let listed: Vec<(String, bool)> = rows.iter().map(|(c, f, _)| (c.clone(), *f)).collect();
    assert_eq!(listed, codes, "§9.3 and LedgerReason disagree");
    for (code, _, meaning) in &rows {
        assert_eq!(&doc_comment_of(code), meaning, "the meaning of {code}");
    }
}

#[test]
fn only_the_could_not_answer_reasons_are_not_final() {
    let not_final: Vec<&str> = LedgerReason::ALL
        .iter()
        .filter(|r| !r.is_final())
        .map(|r| r.as_str())
        .collect();
    assert_eq!(
        not_final,
        [
            "STORE_FAILED",
            "JOURNAL_CORRUPT",
            "JOURNAL_FULL",
            "DELIVERY_PENDING"
        ]
    );
}
