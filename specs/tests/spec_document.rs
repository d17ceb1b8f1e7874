//! Keeps `specs/ISM-1.md` and the code in step: the reason-code table of §9.2
//! lists exactly the codes of [`ReasonCode::ALL`], in order, with the same
//! clause and meaning; and every `ISM-1 §x.y` cited anywhere in the
//! repository names a section that exists.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use isthmus_spec::ReasonCode;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("specs/ has a parent")
        .to_path_buf()
}

fn spec_text() -> String {
    fs::read_to_string(repository().join("specs/ISM-1.md")).expect("specs/ISM-1.md exists")
}

#[test]
fn reason_code_table_matches_the_code() {
    let text = spec_text();
    let start = text.find("\n## 9 ").expect("the spec has a §9");
    let end = text[start..]
        .find("\n## 10 ")
        .map_or(text.len(), |offset| start + offset);
    let rows: Vec<(String, String, String)> = text[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "a table row has three cells: {line}");
            (
                cells[0].trim_matches('`').to_string(),
                cells[1].to_string(),
                cells[2].to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = ReasonCode::ALL
        .iter()
        .map(|code| {
            (
                code.as_str().to_string(),
                code.clause().to_string(),
                code.summary().to_string(),
            )
        })
        .collect();
    for (row, code) in rows.iter().zip(&expected) {
        assert_eq!(row, code, "§9.2 and reason.rs disagree");
    }
    assert_eq!(
        rows.len(),
        expected.len(),
        "§9.2 lists every reason code once"
    );
}

fn section_numbers(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| line.starts_with('#'))
        .filter_map(|line| line.trim_start_matches('#').split_whitespace().next())
        .filter(|number| number.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.map(|e| e.expect("readable entry")) {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                files_under(&path, out);
            }
        } else if ["rs", "json", "md", "py"]
            .iter()
            .any(|ext| name.ends_with(&format!(".{ext}")))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_cited_clause_exists() {
    let sections = section_numbers(&spec_text());
    assert!(sections.len() > 60, "the spec has numbered sections");
    let mut files = Vec::new();
    for dir in [
        "specs",
        "src",
        "tests",
        "ledger",
        "adapters",
        "relay",
        "gateway",
        "conformance",
        "docs",
    ] {
        files_under(&repository().join(dir), &mut files);
    }
    files_under(&repository().join("README.md"), &mut files);
    let mut cited = 0;
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        for (index, _) in text.match_indices("ISM-1 §") {
            let number: String = text[index + "ISM-1 §".len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.');
            if number.is_empty() {
                continue; // the notation itself, e.g. "ISM-1 §N.M"
            }
            assert!(
                sections.contains(number),
                "{} cites ISM-1 §{number}, which the spec does not have",
                file.display()
            );
            cited += 1;
        }
    }
    assert!(cited > 100, "the code cites the spec ({cited} citations)");
}
