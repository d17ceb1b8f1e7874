//! The requirements registry: `specs/requirements/*.toml`, which gives every
//! normative sentence of ISM-1 a stable id and lists what checks it
//! (issue 14 step 5).
//!
//! An entry quotes its sentence verbatim, as [`super::sentences`] reads it,
//! so an edited sentence shows up as stale rather than silently keeping
//! checks that were written for other words. Ids never change once given:
//! a sentence that moves keeps its id, and the report cites where it now is.

use serde::Deserialize;

use crate::catalogue::Strength;

/// One file of the registry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    requirement: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    level: String,
    text: String,
    #[serde(default)]
    checks: Vec<String>,
    untestable: Option<String>,
}

/// One registered requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Its stable id, `REQ-<section>-<item><letter>` as first given.
    pub id: String,
    /// The strength the registry records; it must agree with the sentence.
    pub strength: Strength,
    /// The sentence, verbatim.
    pub text: String,
    /// What checks it.
    pub checks: Vec<Check>,
    /// Why nothing can check it, where that is so.
    pub untestable: Option<String>,
    /// The registry file it came from, for messages.
    pub file: String,
}

/// A reference to something that checks a requirement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    /// A conformance scenario, by id: `scenario ism1/8.4/6-replay`.
    Scenario(String),
    /// A vector file under `specs/vectors/`, optionally one named case of a
    /// cases file: `vector invalid/22-isin-check-digit`,
    /// `vector membership/cases.json#member-duplicate`.
    Vector {
        /// The path under `specs/vectors/`, `.json` optional.
        path: String,
        /// The case's `name` in a cases file.
        case: Option<String>,
    },
    /// A test function in the repository: `test transport/tests/tls.rs::alpn_is_required`.
    Test {
        /// The file, from the repository root.
        file: String,
        /// The test function's name.
        function: String,
    },
}

impl Check {
    /// Reads `scenario …`, `vector …` or `test FILE::FUNCTION`.
    pub fn parse(text: &str) -> Result<Check, String> {
        let (kind, target) = text
            .split_once(' ')
            .ok_or_else(|| format!("\"{text}\" is not \"scenario|vector|test TARGET\""))?;
        let target = target.trim();
        if target.is_empty() || target.contains(char::is_whitespace) {
            return Err(format!("\"{text}\" names no single target"));
        }
        match kind {
            "scenario" => Ok(Check::Scenario(target.to_string())),
            "vector" | "test" if !is_relative_inside(target.split('#').next().unwrap_or("")) => {
                Err(format!(
                    "\"{text}\": a path is relative to its directory, without `..`, `.` or empty parts"
                ))
            }
            "vector" => {
                let (path, case) = match target.split_once('#') {
                    Some((path, case)) => (path, Some(case.to_string())),
                    None => (target, None),
                };
                Ok(Check::Vector {
                    path: path.to_string(),
                    case,
                })
            }
            "test" => {
                let (file, function) = target
                    .rsplit_once("::")
                    .ok_or_else(|| format!("\"{text}\": a test is written FILE::FUNCTION"))?;
                let function = function.to_string();
                if function.is_empty() || !function.chars().all(|c| c.is_alphanumeric() || c == '_')
                {
                    return Err(format!("\"{text}\": \"{function}\" is not a function name"));
                }
                Ok(Check::Test {
                    file: file.to_string(),
                    function,
                })
            }
            other => Err(format!(
                "\"{text}\": the kind \"{other}\" is not scenario, vector or test"
            )),
        }
    }
}

/// A relative path that stays inside the directory it is read from.
fn is_relative_inside(path: &str) -> bool {
    let path = path.split("::").next().unwrap_or(path);
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != ".")
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Scenario(id) => write!(f, "scenario {id}"),
            Check::Vector { path, case: None } => write!(f, "vector {path}"),
            Check::Vector {
                path,
                case: Some(case),
            } => write!(f, "vector {path}#{case}"),
            Check::Test { file, function } => write!(f, "test {file}::{function}"),
        }
    }
}

/// Why a registry file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct RegistryError {
    /// The file.
    pub file: String,
    /// What is wrong, in a sentence.
    pub reason: String,
}

/// Reads one registry file's text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<Requirement>, RegistryError> {
    let error = |reason: String| RegistryError {
        file: file.to_string(),
        reason,
    };
    let parsed: File = toml::from_str(text).map_err(|e| error(e.to_string()))?;
    parsed
        .requirement
        .into_iter()
        .map(|entry| {
            let strength = match entry.level.as_str() {
                "MUST" => Strength::Must,
                "SHOULD" => Strength::Should,
                other => {
                    return Err(error(format!(
                        "{}: level \"{other}\" is not MUST or SHOULD",
                        entry.id
                    )))
                }
            };
            if !is_well_formed_id(&entry.id) {
                return Err(error(format!(
                    "\"{}\" is not an id of the form REQ-<section>-<item><letter>, e.g. REQ-8.1-2a",
                    entry.id
                )));
            }
            let checks = entry
                .checks
                .iter()
                .map(|c| Check::parse(c).map_err(|e| error(format!("{}: {e}", entry.id))))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(reason) = &entry.untestable {
                if reason.trim().len() < 20 {
                    return Err(error(format!(
                        "{}: \"untestable\" needs a reason a reader can weigh, not \"{reason}\"",
                        entry.id
                    )));
                }
            }
            Ok(Requirement {
                id: entry.id,
                strength,
                text: entry.text,
                checks,
                untestable: entry.untestable,
                file: file.to_string(),
            })
        })
        .collect()
}

/// `REQ-8.1-2a`, `REQ-3.3.1-0b`, `REQ-A.2-1c`, `REQ-12.5-5aa`.
pub fn is_well_formed_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("REQ-") else {
        return false;
    };
    let Some((section, item)) = rest.rsplit_once('-') else {
        return false;
    };
    let section_ok = !section.is_empty()
        && section
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
    let digits = item.chars().take_while(char::is_ascii_digit).count();
    let letters = &item[digits..];
    section_ok
        && digits > 0
        && !letters.is_empty()
        && letters.chars().all(|c| c.is_ascii_lowercase())
}

/// The id the registry would give the `ordinal`-th (from 0) new sentence of
/// item `item` of `section`: letters a, b, …, z, aa, ab, ….
pub fn suggested_id(section: &str, item: u32, ordinal: usize) -> String {
    let mut letters = String::new();
    let mut n = ordinal;
    loop {
        letters.insert(0, char::from(b'a' + (n % 26) as u8));
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    format!("REQ-{section}-{item}{letters}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_entry_with_each_kind_of_check() {
        let text = r#"
[[requirement]]
id = "REQ-8.1-2a"
level = "MUST"
text = "The client MUST offer `ism/1`."
checks = [
  "scenario ism1/8.1/2-alpn",
  "vector membership/cases.json#member-duplicate",
  "vector invalid/22-isin-check-digit",
  "test transport/tests/tls.rs::alpn_is_required",
]
"#;
        let got = parse("x.toml", text).expect("valid");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].strength, Strength::Must);
        assert_eq!(
            got[0].checks,
            vec![
                Check::Scenario("ism1/8.1/2-alpn".into()),
                Check::Vector {
                    path: "membership/cases.json".into(),
                    case: Some("member-duplicate".into())
                },
                Check::Vector {
                    path: "invalid/22-isin-check-digit".into(),
                    case: None
                },
                Check::Test {
                    file: "transport/tests/tls.rs".into(),
                    function: "alpn_is_required".into()
                },
            ]
        );
        for check in &got[0].checks {
            assert_eq!(Check::parse(&check.to_string()).as_ref(), Ok(check));
        }
    }

    #[test]
    fn refuses_what_a_reader_could_not_trust() {
        let entry = |id: &str, level: &str, extra: &str| {
            format!("[[requirement]]\nid = \"{id}\"\nlevel = \"{level}\"\ntext = \"t\"\n{extra}\n")
        };
        for (text, needle) in [
            (entry("R-8.1-2a", "MUST", ""), "is not an id"),
            (entry("REQ-8.1-2", "MUST", ""), "is not an id"),
            (entry("REQ-8.1-2a", "MAY", ""), "is not MUST or SHOULD"),
            (
                entry("REQ-8.1-2a", "MUST", "untestable = \"no\""),
                "needs a reason",
            ),
            (
                entry("REQ-8.1-2a", "MUST", "checks = [\"unit foo\"]"),
                "is not scenario",
            ),
            (
                entry("REQ-8.1-2a", "MUST", "checks = [\"test foo.rs\"]"),
                "FILE::FUNCTION",
            ),
            (
                entry("REQ-8.1-2a", "MUST", "checks = [\"scenario\"]"),
                "is not",
            ),
            (entry("REQ-8.1-2a", "MUST", "colour = 1"), "unknown field"),
            (
                entry("REQ-8.1-2a", "MUST", "checks = [\"vector ../x.json\"]"),
                "without `..`",
            ),
            (
                entry("REQ-8.1-2a", "MUST", "checks = [\"vector /etc/x.json\"]"),
                "without `..`",
            ),
            (
                entry("REQ-8.1-2a", "MUST", "checks = [\"test a//b.rs::f\"]"),
                "without `..`",
            ),
            (
                entry("REQ-8.1-2a", "MUST", "checks = [\"test ../b.rs::f\"]"),
                "without `..`",
            ),
        ] {
            let error = parse("x.toml", &text).expect_err(&text);
            assert!(error.reason.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn ids_are_checked_and_suggested() {
        for id in ["REQ-8.1-2a", "REQ-3.3.1-0b", "REQ-A.2-1c", "REQ-12.5-5aa"] {
            assert!(is_well_formed_id(id), "{id}");
        }
        for id in [
            "REQ-8.1-a",
            "REQ-8.1-2",
            "REQ--2a",
            "REQ-8..1-2a",
            "REQ-8.1-2A",
            "8.1-2a",
        ] {
            assert!(!is_well_formed_id(id), "{id}");
        }
        assert_eq!(suggested_id("8.1", 2, 0), "REQ-8.1-2a");
        assert_eq!(suggested_id("8.1", 2, 25), "REQ-8.1-2z");
        assert_eq!(suggested_id("8.1", 2, 26), "REQ-8.1-2aa");
        assert_eq!(suggested_id("8.1", 2, 27), "REQ-8.1-2ab");
        assert!(is_well_formed_id(&suggested_id("A", 0, 700)));
    }
}
