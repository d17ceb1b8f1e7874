//! Requirements coverage (issue 14 step 5): every MUST and SHOULD sentence
//! of `specs/ISM-1.md` with the vectors, scenarios and tests that check it,
//! after the way s2n-quic tracks RFC 9000.
//!
//! - [`sentences`] reads the normative sentences out of the spec;
//! - [`registry`] reads `specs/requirements/*.toml`, which gives each a
//!   stable id and lists its checks, or says why it cannot be checked;
//! - [`assess`] joins the two and confirms that every check it names
//!   exists: a scenario in the catalogue, a vector file (or a named case of
//!   one), a test function in the repository.
//!
//! The joining is pure over a [`Sources`]; [`load`] is the thin part that
//! reads a checkout.

pub mod registry;
pub mod sentences;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::catalogue::Strength;
use registry::{Check, Requirement};
use sentences::Sentence;

/// Where the spec is, from the repository root.
pub const SPEC_PATH: &str = "specs/ISM-1.md";
/// Where the registry is, from the repository root.
pub const REGISTRY_DIR: &str = "specs/requirements";
/// Where the vectors are, from the repository root.
pub const VECTORS_DIR: &str = "specs/vectors";

/// Read access to a checkout, by path from its root.
pub trait Sources {
    /// The text of the file at `path`, if it exists and is text.
    fn read(&self, path: &str) -> Option<String>;
}

/// A checkout on disk.
#[derive(Debug, Clone)]
pub struct Checkout(pub PathBuf);

impl Sources for Checkout {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(path)).ok()
    }
}

/// Why a checkout could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory is missing or unreadable.
    #[error("reading {path}: {source} (run from the repository root, or pass --root)")]
    Io {
        /// What was being read.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A registry file is not a registry.
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
}

/// The spec's text and every registered requirement of the checkout at `root`.
pub fn load(root: &Path) -> Result<(String, Vec<Requirement>), LoadError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| LoadError::Io { path, source }
    };
    let spec_path = root.join(SPEC_PATH);
    let spec = std::fs::read_to_string(&spec_path).map_err(io(&spec_path))?;
    let dir = root.join(REGISTRY_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(io(&dir))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut requirements = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(io(&file))?;
        let name = format!(
            "{REGISTRY_DIR}/{}",
            file.file_name().and_then(|n| n.to_str()).unwrap_or("?")
        );
        requirements.extend(registry::parse(&name, &text)?);
    }
    Ok((spec, requirements))
}

/// Where a registered requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// At least one check names it.
    Covered,
    /// Marked untestable, with a reason.
    Untestable,
    /// Nothing checks it.
    Uncovered,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Covered => "covered",
            Status::Untestable => "untestable",
            Status::Uncovered => "uncovered",
        }
    }
}

/// One requirement, found in the spec and assessed.
#[derive(Debug, Clone)]
pub struct Assessed {
    /// Its registry entry.
    pub requirement: Requirement,
    /// Its sentence where the spec has it now.
    pub sentence: Sentence,
    /// Where it stands.
    pub status: Status,
}

/// Something wrong with the registry against the spec and the checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A normative sentence no entry registers.
    Unregistered {
        /// The sentence.
        sentence: Sentence,
        /// The id to give it.
        suggested_id: String,
    },
    /// An entry whose text the spec no longer has.
    Stale {
        /// The entry's id.
        id: String,
        /// Its file.
        file: String,
    },
    /// Two entries with one id.
    DuplicateId {
        /// The id.
        id: String,
    },
    /// An entry whose strength is not its sentence's.
    StrengthDiffers {
        /// The entry's id.
        id: String,
        /// What the registry says.
        registry: Strength,
        /// What the sentence says.
        spec: Strength,
    },
    /// A check that names nothing that exists.
    Dangling {
        /// The entry's id.
        id: String,
        /// The check.
        check: Check,
        /// Why it names nothing.
        why: String,
    },
    /// An entry with checks that also says it cannot be checked.
    CheckedAndUntestable {
        /// The entry's id.
        id: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unregistered {
                sentence,
                suggested_id,
            } => write!(
                f,
                "{} ({} {}) is not in the registry: \"{}\" (run `isthmus conformance coverage --skeleton` for its entry)",
                suggested_id,
                sentence.clause(),
                sentence.strength.as_str(),
                sentence.text
            ),
            Problem::Stale { id, file } => write!(
                f,
                "{id} ({file}) quotes a sentence the spec no longer has; quote the sentence as it now reads, keeping the id, and review its checks"
            ),
            Problem::DuplicateId { id } => write!(f, "{id} is given to two entries"),
            Problem::StrengthDiffers { id, registry, spec } => write!(
                f,
                "{id} is registered as {} but its sentence is a {} requirement",
                registry.as_str(),
                spec.as_str()
            ),
            Problem::Dangling { id, check, why } => write!(f, "{id}: \"{check}\" {why}"),
            Problem::CheckedAndUntestable { id } => write!(
                f,
                "{id} has checks and is marked untestable; it is one or the other"
            ),
        }
    }
}

/// Counts of requirements by strength and status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// MUST sentences.
    pub must: usize,
    /// MUST sentences with a check.
    pub must_covered: usize,
    /// MUST sentences marked untestable.
    pub must_untestable: usize,
    /// SHOULD sentences.
    pub should: usize,
    /// SHOULD sentences with a check.
    pub should_covered: usize,
    /// SHOULD sentences marked untestable.
    pub should_untestable: usize,
}

impl Figures {
    fn add(&mut self, strength: Strength, status: Status) {
        let (total, covered, untestable) = match strength {
            Strength::Must => (
                &mut self.must,
                &mut self.must_covered,
                &mut self.must_untestable,
            ),
            Strength::Should => (
                &mut self.should,
                &mut self.should_covered,
                &mut self.should_untestable,
            ),
        };
        *total += 1;
        match status {
            Status::Covered => *covered += 1,
            Status::Untestable => *untestable += 1,
            Status::Uncovered => {}
        }
    }

    /// MUST sentences neither checked nor marked untestable.
    pub fn must_uncovered(&self) -> usize {
        self.must - self.must_covered - self.must_untestable
    }

    /// SHOULD sentences neither checked nor marked untestable.
    pub fn should_uncovered(&self) -> usize {
        self.should - self.should_covered - self.should_untestable
    }

    fn json(&self) -> Value {
        json!({
            "must": self.must,
            "must_covered": self.must_covered,
            "must_untestable": self.must_untestable,
            "must_uncovered": self.must_uncovered(),
            "should": self.should,
            "should_covered": self.should_covered,
            "should_untestable": self.should_untestable,
            "should_uncovered": self.should_uncovered(),
        })
    }
}

/// The registry joined with the spec and the checkout.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// Every registered requirement the spec has, in document order.
    pub requirements: Vec<Assessed>,
    /// Everything wrong, in the order found.
    pub problems: Vec<Problem>,
}

/// Joins `registry` with the sentences of `spec` and confirms each check
/// against `scenario_ids` and `sources`.
pub fn assess(
    spec: &str,
    registry: Vec<Requirement>,
    scenario_ids: &BTreeSet<String>,
    sources: &dyn Sources,
) -> Coverage {
    let sentences = sentences::normative_sentences(spec);
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for requirement in &registry {
        if !ids.insert(requirement.id.clone()) {
            problems.push(Problem::DuplicateId {
                id: requirement.id.clone(),
            });
        }
    }
    // Each entry claims the first unclaimed sentence with its text, so a
    // sentence the spec repeats word for word is registered once per place.
    let mut claimed: Vec<Option<Requirement>> = vec![None; sentences.len()];
    for requirement in registry {
        let place = sentences
            .iter()
            .enumerate()
            .position(|(index, s)| s.text == requirement.text && claimed[index].is_none());
        match place {
            Some(index) => claimed[index] = Some(requirement),
            None => problems.push(Problem::Stale {
                id: requirement.id,
                file: requirement.file,
            }),
        }
    }
    let mut requirements = Vec::new();
    let mut suggested: BTreeSet<String> = BTreeSet::new();
    for (sentence, entry) in sentences.into_iter().zip(claimed) {
        let Some(requirement) = entry else {
            let suggested_id = (0..)
                .map(|n| registry::suggested_id(&sentence.section, sentence.item, n))
                .find(|id| !ids.contains(id) && !suggested.contains(id))
                .unwrap_or_default();
            suggested.insert(suggested_id.clone());
            problems.push(Problem::Unregistered {
                sentence,
                suggested_id,
            });
            continue;
        };
        if requirement.strength != sentence.strength {
            problems.push(Problem::StrengthDiffers {
                id: requirement.id.clone(),
                registry: requirement.strength,
                spec: sentence.strength,
            });
        }
        for check in &requirement.checks {
            if let Err(why) = confirm(check, scenario_ids, sources) {
                problems.push(Problem::Dangling {
                    id: requirement.id.clone(),
                    check: check.clone(),
                    why,
                });
            }
        }
        let status = match (requirement.checks.is_empty(), &requirement.untestable) {
            (false, Some(_)) => {
                problems.push(Problem::CheckedAndUntestable {
                    id: requirement.id.clone(),
                });
                Status::Covered
            }
            (false, None) => Status::Covered,
            (true, Some(_)) => Status::Untestable,
            (true, None) => Status::Uncovered,
        };
        requirements.push(Assessed {
            requirement,
            sentence,
            status,
        });
    }
    Coverage {
        requirements,
        problems,
    }
}

/// That `check` names something that exists.
fn confirm(
    check: &Check,
    scenario_ids: &BTreeSet<String>,
    sources: &dyn Sources,
) -> Result<(), String> {
    match check {
        Check::Scenario(id) => {
            if scenario_ids.contains(id) {
                Ok(())
            } else {
                Err("names no scenario of the catalogue (`isthmus conformance list`)".into())
            }
        }
        Check::Vector { path, case } => {
            let text = [
                format!("{VECTORS_DIR}/{path}"),
                format!("{VECTORS_DIR}/{path}.json"),
            ]
            .iter()
            .find_map(|candidate| sources.read(candidate))
            .ok_or_else(|| format!("names no file under {VECTORS_DIR}/"))?;
            match case {
                Some(case)
                    if !text.contains(&format!("\"name\": \"{case}\""))
                        && !text.contains(&format!("\"name\":\"{case}\"")) =>
                {
                    Err(format!("names no case \"{case}\" in {path}"))
                }
                _ => Ok(()),
            }
        }
        Check::Test { file, function } => {
            let text = sources
                .read(file)
                .ok_or_else(|| "names a file the repository does not have".to_string())?;
            if is_test_function(&text, function) {
                Ok(())
            } else {
                Err(format!(
                    "names no test function {function} in {file} (a #[test], #[tokio::test] or proptest! fn)"
                ))
            }
        }
    }
}

/// That `text` defines `function` as a test: a line starting with `fn`
/// (or `pub`/`async fn`) and the name, with `#[test]` or `#[tokio::test…]`
/// and no `#[ignore]` among the attribute and comment lines right above it
/// (which is also how a `proptest!` block marks its tests).
fn is_test_function(text: &str, function: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().enumerate().any(|(index, line)| {
        let line = line.trim_start();
        let item = ["pub async fn ", "pub fn ", "async fn ", "fn "]
            .iter()
            .find_map(|head| line.strip_prefix(head));
        let defines = item.is_some_and(|rest| {
            rest.strip_prefix(function)
                .is_some_and(|after| after.starts_with('(') || after.starts_with('<'))
        });
        let attributes: Vec<&str> = lines[..index]
            .iter()
            .rev()
            .map(|above| above.trim())
            .take_while(|above| above.starts_with("#[") || above.starts_with("//"))
            .filter(|above| above.starts_with("#["))
            .collect();
        defines
            && !attributes.iter().any(|a| a.starts_with("#[ignore"))
            && attributes
                .iter()
                .any(|a| a.starts_with("#[test]") || a.starts_with("#[tokio::test"))
    })
}

impl Coverage {
    /// No problem and no MUST without a check or a reason: what the CI test
    /// and the command's exit status demand.
    pub fn passes(&self) -> bool {
        self.problems.is_empty() && self.figures().must_uncovered() == 0
    }

    /// The counts over the whole spec.
    pub fn figures(&self) -> Figures {
        let mut figures = Figures::default();
        for assessed in &self.requirements {
            figures.add(assessed.sentence.strength, assessed.status);
        }
        figures
    }

    /// The counts per chapter (`3`, `8`, `A`), including sentences that are
    /// not registered yet (as uncovered).
    pub fn by_chapter(&self) -> BTreeMap<String, Figures> {
        let mut chapters: BTreeMap<String, Figures> = BTreeMap::new();
        let chapter = |section: &str| section.split('.').next().unwrap_or(section).to_string();
        for assessed in &self.requirements {
            chapters
                .entry(chapter(&assessed.sentence.section))
                .or_default()
                .add(assessed.sentence.strength, assessed.status);
        }
        for problem in &self.problems {
            if let Problem::Unregistered { sentence, .. } = problem {
                chapters
                    .entry(chapter(&sentence.section))
                    .or_default()
                    .add(sentence.strength, Status::Uncovered);
            }
        }
        chapters
    }

    /// The requirements nothing checks and nobody marked untestable.
    pub fn uncovered(&self) -> impl Iterator<Item = &Assessed> {
        self.requirements
            .iter()
            .filter(|a| a.status == Status::Uncovered)
    }

    /// Registry entries, in TOML, for the sentences not registered yet.
    pub fn skeleton(&self) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            if let Problem::Unregistered {
                sentence,
                suggested_id,
            } = problem
            {
                out.push_str(&format!(
                    "[[requirement]]\nid = \"{suggested_id}\"\nlevel = \"{}\"\ntext = {}\nchecks = []\n\n",
                    sentence.strength.as_str(),
                    toml_string(&sentence.text)
                ));
            }
        }
        out
    }

    /// A readable report: figures by chapter, then what is uncovered and
    /// what is wrong; with `all`, every requirement and its checks first.
    pub fn summary(&self, all: bool) -> String {
        let mut out = String::new();
        if all {
            for assessed in &self.requirements {
                let r = &assessed.requirement;
                out.push_str(&format!(
                    "{} {} {} [{}]\n  {}\n",
                    r.id,
                    assessed.sentence.clause(),
                    r.strength.as_str(),
                    assessed.status.as_str(),
                    r.text
                ));
                for check in &r.checks {
                    out.push_str(&format!("  - {check}\n"));
                }
                if let Some(reason) = &r.untestable {
                    out.push_str(&format!("  untestable: {reason}\n"));
                }
            }
            out.push('\n');
        }
        out.push_str("chapter   MUST covered untestable uncovered   SHOULD covered uncovered\n");
        let mut rows: Vec<(String, Figures)> = self.by_chapter().into_iter().collect();
        rows.sort_by_key(|(chapter, _)| {
            (chapter.parse::<u32>().unwrap_or(u32::MAX), chapter.clone())
        });
        let mut total = Figures::default();
        for (chapter, f) in &rows {
            out.push_str(&figures_row(&format!("§{chapter}"), f));
            total.must += f.must;
            total.must_covered += f.must_covered;
            total.must_untestable += f.must_untestable;
            total.should += f.should;
            total.should_covered += f.should_covered;
            total.should_untestable += f.should_untestable;
        }
        out.push_str(&figures_row("all", &total));
        let uncovered: Vec<&Assessed> = self.uncovered().collect();
        if !uncovered.is_empty() {
            out.push_str("\nuncovered:\n");
            for assessed in uncovered {
                out.push_str(&format!(
                    "  {} {} {}: {}\n",
                    assessed.requirement.id,
                    assessed.sentence.clause(),
                    assessed.sentence.strength.as_str(),
                    assessed.sentence.text
                ));
            }
        }
        if !self.problems.is_empty() {
            out.push_str("\nproblems:\n");
            for problem in &self.problems {
                out.push_str(&format!("  {problem}\n"));
            }
        }
        out.push_str(&format!(
            "\n{}: {} MUST uncovered, {} problem(s)\n",
            if self.passes() { "PASS" } else { "FAIL" },
            total.must_uncovered(),
            self.problems.len()
        ));
        out
    }

    /// The same as one JSON object.
    pub fn to_json(&self) -> Value {
        let requirements: Vec<Value> = self
            .requirements
            .iter()
            .map(|a| {
                json!({
                    "id": a.requirement.id,
                    "clause": a.sentence.clause(),
                    "section": a.sentence.section,
                    "item": a.sentence.item,
                    "level": a.sentence.strength.as_str(),
                    "status": a.status.as_str(),
                    "text": a.sentence.text,
                    "checks": a.requirement.checks.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "untestable": a.requirement.untestable,
                })
            })
            .collect();
        let chapters: serde_json::Map<String, Value> = self
            .by_chapter()
            .into_iter()
            .map(|(chapter, f)| (chapter, f.json()))
            .collect();
        json!({
            "passes": self.passes(),
            "figures": self.figures().json(),
            "chapters": chapters,
            "requirements": requirements,
            "problems": self.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }
}

fn figures_row(label: &str, f: &Figures) -> String {
    format!(
        "{label:<8} {:>5} {:>7} {:>10} {:>9}   {:>6} {:>7} {:>9}\n",
        f.must,
        f.must_covered,
        f.must_untestable,
        f.must_uncovered(),
        f.should,
        f.should_covered,
        f.should_uncovered()
    )
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
