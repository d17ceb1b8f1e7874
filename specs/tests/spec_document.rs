//! Keeps `specs/ISM-1.md` and the code in step: the reason-code table of §9.2
//! lists exactly the codes of [`ReasonCode::ALL`], in order, with the same
//! clause and meaning; every `ISM-1 §x.y` cited anywhere in the repository
//! names a section that exists; and the text's account of the vectors holds:
//! the counts of §10.1 and §10.5 are those of the files, every vector it
//! cites exists, and §10.3 tables every key of keys.json.

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
    let start = text.find("\n### 9.2 ").expect("the spec has a §9.2");
    // §9.3 lists the ledger's reason codes; ledger/tests/spec_reason_table.rs checks it.
    let end = text[start..]
        .find("\n### 9.3 ")
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

/// The text of the spec between two headings (the second excluded).
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("the spec has {start:?}"));
    let to = text[from..]
        .find(end)
        .map_or(text.len(), |offset| from + offset);
    &text[from..to]
}

/// The first decimal number in `line`.
fn first_number(line: &str) -> usize {
    let digits: String = line
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number in {line:?}"))
}

fn vector_files(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(repository().join("specs/vectors").join(dir))
        .expect("vector directory exists")
        .map(|entry| entry.expect("readable entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_string))
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[test]
fn vector_counts_in_the_text_match_the_files() {
    // ISM-1 §10.1 counts the message vectors in one table, and §10.5 the
    // RFC 8785 cases; others add vectors, so the counts come from the files.
    let text = spec_text();
    let layout = section(&text, "\n### 10.1 ", "\n### 10.2 ");
    for dir in ["valid", "invalid"] {
        let row = layout
            .lines()
            .find(|line| line.starts_with(&format!("| `{dir}/NN-name.json` |")))
            .unwrap_or_else(|| panic!("§10.1 has a row for {dir}/"));
        let cell = row.split(" | ").nth(1).unwrap_or_default();
        let stated = first_number(cell);
        let actual = vector_files(dir).len();
        assert_eq!(
            stated, actual,
            "ISM-1 §10.1 says {stated} {dir} vectors but specs/vectors/{dir}/ holds {actual}: update the count in the §10.1 table"
        );
    }
    let jcs = section(&text, "\n### 10.5 ", "\n### 10.6 ");
    for (file, unit) in [("cases.json", "cases"), ("numbers.json", "rows")] {
        let intro = format!("`jcs/{file}` (schema");
        let sentence = &jcs[jcs.find(&intro).expect("§10.5 describes the file")..];
        let holds = &sentence[sentence.find("holds ").expect("it says what it holds")..];
        let stated = first_number(holds);
        assert!(
            holds.starts_with(&format!("holds {stated} {unit}")),
            "§10.5: {holds:.40}"
        );
        let content: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(repository().join("specs/vectors/jcs").join(file)).unwrap(),
        )
        .unwrap();
        let actual = content["cases"].as_array().map_or(0, Vec::len);
        assert_eq!(
            stated, actual,
            "ISM-1 §10.5 says jcs/{file} holds {stated} {unit} but it holds {actual}"
        );
    }
}

#[test]
fn every_vector_the_text_cites_exists() {
    // A citation such as `invalid/22` or `invalid/22-isin-check-digit` names
    // a vector by its number (ISM-1 §10.1); it must name exactly one file.
    let text = spec_text();
    let mut cited = 0;
    for dir in ["valid", "invalid"] {
        let files = vector_files(dir);
        let marker = format!("`{dir}/");
        for (index, _) in text.match_indices(&marker) {
            let rest = &text[index + marker.len()..];
            let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if number.is_empty() {
                continue; // the layout itself, `valid/NN-name.json`
            }
            let name: String = rest.chars().take_while(|c| *c != '`').collect();
            let matching: Vec<&String> = files
                .iter()
                .filter(|file| file.starts_with(&format!("{number}-")))
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "ISM-1 cites {dir}/{name}, which names {} vector files",
                matching.len()
            );
            if name.len() > number.len() {
                assert_eq!(
                    matching[0].trim_end_matches(".json"),
                    name,
                    "ISM-1 cites {dir}/{name} by a name the file does not have"
                );
            }
            cited += 1;
        }
    }
    assert!(cited > 80, "the text cites its vectors ({cited} citations)");
}

#[test]
fn every_test_key_is_in_the_text() {
    // ISM-1 §10.3 tables every key of keys.json with its key id.
    let text = spec_text();
    let keys = section(&text, "\n### 10.3 ", "\n### 10.4 ");
    let file: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(repository().join("specs/vectors/keys.json")).unwrap(),
    )
    .unwrap();
    for role in ["trusted", "untrusted"] {
        for key in file[role].as_array().expect("a list of keys") {
            let name = key["name"].as_str().unwrap();
            let row = keys
                .lines()
                .find(|line| line.starts_with(&format!("| {name} | {role} |")))
                .unwrap_or_else(|| panic!("§10.3 has no {role} row for {name}"));
            assert!(
                row.contains(key["key_id"].as_str().unwrap()),
                "§10.3 gives {name} another key id"
            );
            if let Some(seed) = key["seed"].as_str() {
                assert!(row.contains(seed), "§10.3 gives {name} another seed");
            } else {
                assert!(
                    row.contains(key["public_key"].as_str().unwrap()),
                    "§10.3 gives {name} another public key"
                );
            }
        }
    }
}

#[test]
fn settlement_reason_table_matches_the_code() {
    use isthmus_spec::protocol::SettlementReason;
    let text = spec_text();
    let start = text.find("\n### 9.4 ").expect("the spec has a §9.4");
    let end = start + text[start..].find("\n---").expect("§9.4 ends");
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
    let expected: Vec<(String, String, String)> = SettlementReason::ALL
        .iter()
        .map(|code| {
            (
                code.as_str().to_string(),
                code.clause().to_string(),
                code.summary().to_string(),
            )
        })
        .collect();
    assert_eq!(rows, expected, "§9.4 and isthmus_spec::protocol disagree");
}
