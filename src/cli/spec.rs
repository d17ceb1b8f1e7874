//! `isthmus spec …`: validate and canonicalise ISM/1 messages, run vectors.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use isthmus_spec::jcs;
use isthmus_spec::sign::{KeyLookup, Keyring, PublicKeyRecord, SigningKey};
use isthmus_spec::vectors::{CaseResults, TestKeys, Vector};
use isthmus_spec::{Envelope, Rejection};
use serde_json::json;

use super::input::{read_bounded, read_text_limited, MAX_KEY_FILE_BYTES, MAX_VECTOR_FILE_BYTES};
use super::output::{self, stderr_line, Out};
use super::EXIT_REJECTED;

/// Loads public key records into a keyring (also for `translate --public-key`).
pub fn load_keyring(paths: &[PathBuf]) -> anyhow::Result<Keyring> {
    let mut keyring = Keyring::new();
    for path in paths {
        let text = read_text_limited(path, MAX_KEY_FILE_BYTES, "public key")?;
        let record: PublicKeyRecord = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a public key record (alg, key_id, public_key)",
                path.display()
            )
        })?;
        keyring.insert(record.public_key);
    }
    Ok(keyring)
}

fn rejection_json(rejection: &Rejection) -> serde_json::Value {
    json!({
        "valid": false,
        "code": rejection.code.as_str(),
        "field": rejection.field.as_deref().map(output::cap_message),
        "message": output::cap_message(&rejection.message),
        "clause": rejection.code.clause(),
    })
}

/// `isthmus spec validate`.
pub fn validate(file: &Path, public_keys: &[PathBuf], as_json: bool) -> anyhow::Result<ExitCode> {
    let bytes = read_bounded(file)?;
    let keyring = load_keyring(public_keys)?;
    let keys: Option<&dyn KeyLookup> = if public_keys.is_empty() {
        None
    } else {
        Some(&keyring)
    };
    let mut out = Out::new();
    let code = match isthmus_spec::validate(&bytes, keys) {
        Ok(envelope) => {
            let verified = keys.is_some();
            if as_json {
                out.line(
                    json!({"valid": true, "kind": envelope.kind().as_str(), "id": envelope.id.as_str(), "signature_verified": verified})
                )?;
            } else if verified {
                writeln!(
                    out,
                    "OK {} {} (signature verified)",
                    envelope.kind(),
                    envelope.id
                )?;
            } else {
                let signed = if envelope.signature.is_some() {
                    "signed"
                } else {
                    "unsigned"
                };
                writeln!(
                    out,
                    "OK {} {} ({signed}; signature not verified: pass --public-key to verify)",
                    envelope.kind(),
                    envelope.id
                )?;
            }
            ExitCode::SUCCESS
        }
        Err(rejection) => {
            if as_json {
                out.line(rejection_json(&rejection))?;
            } else {
                writeln!(
                    out,
                    "REJECTED {} ({})",
                    output::message(&rejection.to_string()),
                    rejection.code.clause()
                )?;
            }
            ExitCode::from(EXIT_REJECTED)
        }
    };
    out.finish()?;
    Ok(code)
}

/// `isthmus spec canonicalize`.
pub fn canonicalize(file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = read_bounded(file)?;
    match jcs::canonicalize(&bytes) {
        Ok(canonical) => {
            let mut out = Out::new();
            out.bytes(&canonical)?;
            out.finish()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(rejection) => {
            stderr_line(format_args!("REJECTED {rejection}"));
            Ok(ExitCode::from(EXIT_REJECTED))
        }
    }
}

/// `isthmus spec sign`.
pub fn sign(file: &Path, key_path: &Path) -> anyhow::Result<ExitCode> {
    let pem = read_text_limited(key_path, MAX_KEY_FILE_BYTES, "signing key")?;
    let key = SigningKey::from_pem(&pem)
        .with_context(|| format!("loading signing key {}", key_path.display()))?;
    let bytes = read_bounded(file)?;
    match Envelope::decode(&bytes) {
        Ok(envelope) => {
            let signed = envelope.sign(&key);
            let mut out = Out::new();
            out.bytes(&signed.to_canonical_bytes())?;
            out.finish()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(rejection) => {
            stderr_line(format_args!(
                "REJECTED {rejection} ({}); only a valid message can be signed",
                rejection.code.clause()
            ));
            Ok(ExitCode::from(EXIT_REJECTED))
        }
    }
}

fn vector_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for sub in ["valid", "invalid"] {
        let path = dir.join(sub);
        let entries = fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))?;
        for entry in entries {
            let file = entry
                .with_context(|| format!("listing {}", path.display()))?
                .path();
            if file.extension().is_some_and(|ext| ext == "json") {
                files.push(file);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `isthmus spec vectors`: checks this build against every vector.
pub fn vectors(dir: &Path) -> anyhow::Result<ExitCode> {
    if !dir.join("keys.json").is_file() {
        bail!("{} holds no keys.json; pass --dir pointing at an ISM/1 vector directory (specs/vectors in the Isthmus repository)", dir.display());
    }
    let keys_text = read_text_limited(&dir.join("keys.json"), MAX_VECTOR_FILE_BYTES, "key file")?;
    let keys = TestKeys::parse(&keys_text).map_err(anyhow::Error::msg)?;
    let keyring = keys.keyring().map_err(anyhow::Error::msg)?;
    let Some(trusted) = keys.trusted.first() else {
        bail!("keys.json lists no trusted key");
    };
    let signer = trusted.signing_key().map_err(anyhow::Error::msg)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut out = Out::new();
    for file in vector_files(dir)? {
        let text = read_text_limited(&file, MAX_VECTOR_FILE_BYTES, "vector file")?;
        let outcome = Vector::parse(&text)
            .and_then(|vector| vector.check(&keyring, &signer).map(|()| vector.id));
        match outcome {
            Ok(id) => {
                passed += 1;
                writeln!(out, "ok    {}", output::excerpt(&id))?;
            }
            Err(problem) => {
                failed += 1;
                writeln!(
                    out,
                    "FAIL  {}: {}",
                    output::message(&file.display().to_string()),
                    output::message(&problem)
                )?;
            }
        }
    }
    let jcs = dir.join("jcs");
    for (file, check) in [
        (
            "cases.json",
            isthmus_spec::vectors::check_jcs_cases as fn(&str) -> Result<CaseResults, String>,
        ),
        ("numbers.json", isthmus_spec::vectors::check_jcs_numbers),
    ] {
        let path = jcs.join(file);
        if !path.is_file() {
            continue;
        }
        let text = read_text_limited(&path, MAX_VECTOR_FILE_BYTES, "vector file")?;
        for (name, result) in check(&text).map_err(anyhow::Error::msg)? {
            match result {
                Ok(()) => {
                    passed += 1;
                    writeln!(out, "ok    jcs/{file} {}", output::excerpt(&name))?;
                }
                Err(problem) => {
                    failed += 1;
                    writeln!(
                        out,
                        "FAIL  jcs/{file} {}: {}",
                        output::excerpt(&name),
                        output::message(&problem)
                    )?;
                }
            }
        }
    }
    let membership = dir.join("membership").join("cases.json");
    if membership.is_file() {
        let text = read_text_limited(&membership, MAX_VECTOR_FILE_BYTES, "vector file")?;
        let results =
            isthmus_spec::vectors::check_membership_cases(&text).map_err(anyhow::Error::msg)?;
        for (name, result) in results {
            match result {
                Ok(()) => {
                    passed += 1;
                    writeln!(out, "ok    membership/{}", output::excerpt(&name))?;
                }
                Err(problem) => {
                    failed += 1;
                    writeln!(
                        out,
                        "FAIL  membership/{}: {}",
                        output::excerpt(&name),
                        output::message(&problem)
                    )?;
                }
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    out.finish()?;
    Ok(if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED)
    })
}
