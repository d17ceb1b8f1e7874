//! The vector runner (issue 14 step 1; ISM-1 §10.4): every file of a vector
//! directory checked against this build's parser, canonical form, signer and
//! verifier, one case per vector. An implementation in another language runs
//! the same files with its own code, as ISM-1 §10.4 and `conformance/README.md`
//! describe.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use isthmus_spec::limits::MAX_MESSAGE_BYTES;
use isthmus_spec::vectors::{CaseResults, TestKeys, Vector};

use crate::catalogue::Strength;
use crate::report::{CaseReport, Failure, Report, Verdict};

/// The largest test vector file read (`valid/*.json`, `invalid/*.json`,
/// `keys.json`, `jcs/*.json`): a vector holds one message of at most
/// [`MAX_MESSAGE_BYTES`], escaped as a JSON string (up to six bytes for one),
/// plus its expectation.
pub const MAX_VECTOR_FILE_BYTES: u64 = 6 * MAX_MESSAGE_BYTES as u64 + 64 * 1024;

/// Why a vector directory could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum VectorDirError {
    /// A file or directory could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is larger than any vector file.
    #[error("{path} is larger than {MAX_VECTOR_FILE_BYTES} bytes: not a vector file")]
    TooLarge {
        /// Which.
        path: PathBuf,
    },
    /// The directory is not a vector directory.
    #[error("{0}")]
    NotVectors(String),
}

fn read_text(path: &Path) -> Result<String, VectorDirError> {
    let read = |source| VectorDirError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut text = String::new();
    fs::File::open(path)
        .map_err(read)?
        .take(MAX_VECTOR_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read)?;
    if text.len() as u64 > MAX_VECTOR_FILE_BYTES {
        return Err(VectorDirError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// The message vector files of `dir` (`valid/*.json`, `invalid/*.json`), sorted.
pub fn message_vector_files(dir: &Path) -> Result<Vec<PathBuf>, VectorDirError> {
    let mut files = Vec::new();
    for sub in ["valid", "invalid"] {
        let path = dir.join(sub);
        let read = |source| VectorDirError::Read {
            path: path.clone(),
            source,
        };
        for entry in fs::read_dir(&path).map_err(read)? {
            let file = entry.map_err(read)?.path();
            if file.extension().is_some_and(|ext| ext == "json") {
                files.push(file);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The vectors of `dir` whose input a receiver refuses while decoding
/// (ISM-1 §5.3 steps 0–10), with the code and path it expects: what a node
/// on the transport must answer with, whoever sent them (§8.4 step 2).
pub fn decoding_refusals(dir: &Path) -> Result<Vec<Vector>, VectorDirError> {
    let mut found = Vec::new();
    for file in message_vector_files(dir)? {
        let text = read_text(&file)?;
        let vector = Vector::parse(&text).map_err(|problem| {
            VectorDirError::NotVectors(format!("{}: {problem}", file.display()))
        })?;
        if let isthmus_spec::vectors::Expectation::Invalid { reason, .. } = &vector.expect {
            let verification = ["SIGNATURE_MISSING", "KEY_UNKNOWN", "SIGNATURE_INVALID"];
            if !verification.contains(&reason.as_str()) {
                found.push(vector);
            }
        }
    }
    Ok(found)
}

fn timed(
    id: String,
    clause: String,
    title: String,
    check: impl FnOnce() -> Result<(), String>,
) -> CaseReport {
    let started = Instant::now();
    let verdict = match check() {
        Ok(()) => Verdict::Pass,
        Err(problem) => Verdict::Fail(Failure::new("what the vector expects", problem)),
    };
    CaseReport {
        id,
        clause,
        group: "vectors".to_string(),
        strength: Strength::Must,
        title,
        verdict,
        millis: started.elapsed().as_millis() as u64,
    }
}

fn cases_file(
    cases: &mut Vec<CaseReport>,
    path: &Path,
    prefix: &str,
    clause: &str,
    check: fn(&str) -> Result<CaseResults, String>,
) -> Result<(), VectorDirError> {
    if !path.is_file() {
        return Ok(());
    }
    let text = read_text(path)?;
    let results = check(&text)
        .map_err(|problem| VectorDirError::NotVectors(format!("{}: {problem}", path.display())))?;
    for (name, result) in results {
        cases.push(timed(
            format!("{prefix}/{name}"),
            clause.to_string(),
            name.clone(),
            || result,
        ));
    }
    Ok(())
}

/// Runs every vector of `dir` (ISM-1 §10): the message vectors, the RFC 8785
/// cases and numbers, and the membership cases.
pub fn run(dir: &Path) -> Result<Report, VectorDirError> {
    let keys_path = dir.join("keys.json");
    if !keys_path.is_file() {
        return Err(VectorDirError::NotVectors(format!(
            "{} holds no keys.json; pass --dir pointing at an ISM/1 vector directory (specs/vectors in the Isthmus repository)",
            dir.display()
        )));
    }
    let keys = TestKeys::parse(&read_text(&keys_path)?).map_err(VectorDirError::NotVectors)?;
    let keyring = keys.keyring().map_err(VectorDirError::NotVectors)?;
    let signer = keys
        .trusted
        .first()
        .ok_or_else(|| VectorDirError::NotVectors("keys.json lists no trusted key".to_string()))?
        .signing_key()
        .map_err(VectorDirError::NotVectors)?;
    let mut cases = Vec::new();
    for file in message_vector_files(dir)? {
        let text = read_text(&file)?;
        let name = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .with_extension("")
            .display()
            .to_string();
        match Vector::parse(&text) {
            Ok(vector) => {
                let clause = if vector.clauses.is_empty() {
                    "ISM-1 §10".to_string()
                } else {
                    vector.clauses.join(", ")
                };
                let title = vector.description.clone();
                cases.push(timed(vector.id.clone(), clause, title, || {
                    vector.check(&keyring, &signer)
                }));
            }
            Err(problem) => cases.push(timed(
                name,
                "ISM-1 §10.2".to_string(),
                "the vector file itself".to_string(),
                || Err(problem),
            )),
        }
    }
    let jcs = dir.join("jcs");
    cases_file(
        &mut cases,
        &jcs.join("cases.json"),
        "jcs/cases",
        "ISM-1 §3.4, §10.5 (RFC 8785)",
        isthmus_spec::vectors::check_jcs_cases,
    )?;
    cases_file(
        &mut cases,
        &jcs.join("numbers.json"),
        "jcs/numbers",
        "ISM-1 §3.4, §10.5 (RFC 8785 §3.2.2.3)",
        isthmus_spec::vectors::check_jcs_numbers,
    )?;
    cases_file(
        &mut cases,
        &dir.join("membership").join("cases.json"),
        "membership",
        "ISM-1 §8.1 rule 4, §10.7",
        isthmus_spec::vectors::check_membership_cases,
    )?;
    Ok(Report {
        suite: "ISM/1 vectors".to_string(),
        subject: dir.display().to_string(),
        cases,
    })
}
