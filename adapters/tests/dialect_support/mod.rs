//! Shared by the dialect tests: listing corpus files, and comparing a body
//! with what came back after a writer reported members it could not carry.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use isthmus_adapters::Unrepresented;
use serde_json::Value;

/// Files of `dir` whose name ends in `suffix`, sorted.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    found
}

/// An MT message (CR LF lines) with each `(old line, new lines)` replaced;
/// `name` names the message in the failure when a line is not there.
pub fn with_lines_replaced(text: &str, name: &str, edits: &[(&str, &[&str])]) -> Vec<u8> {
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    for (old, new) in edits {
        let at = lines
            .iter()
            .position(|l| l == old)
            .unwrap_or_else(|| panic!("{old} not in {name}"));
        lines.splice(at..=at, new.iter().map(|l| l.to_string()));
    }
    lines.join("\r\n").into_bytes()
}

/// `body` (an ISM/1 body's JSON) without the members a writer reported as not
/// carried (`unrepresented`, ISM/1 paths such as `body.cash.owner`). Each
/// reported member must be in the body; an object the removal leaves empty
/// (a cash side whose only member was not carried) goes too, as a writer
/// leaves it out.
pub fn without_reported(body: &Value, unrepresented: &[Unrepresented]) -> Value {
    let mut body = body.clone();
    for note in unrepresented {
        let path: Vec<&str> = note
            .field
            .strip_prefix("body.")
            .unwrap_or_else(|| panic!("{} is not a body path", note.field))
            .split('.')
            .collect();
        remove(&mut body, &path, &note.field);
    }
    body
}

fn remove(at: &mut Value, path: &[&str], field: &str) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let members = at
        .as_object_mut()
        .unwrap_or_else(|| panic!("{field}: a parent is not an object"));
    if rest.is_empty() {
        assert!(
            members.remove(*first).is_some(),
            "{field} is not in the body"
        );
        return;
    }
    let child = members
        .get_mut(*first)
        .unwrap_or_else(|| panic!("{field} is not in the body"));
    remove(child, rest, field);
    if child.as_object().is_some_and(|m| m.is_empty()) {
        members.remove(*first);
    }
}
