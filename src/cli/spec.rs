//! `isthmus spec …`: validate, canonicalise and sign ISM/1 messages (the
//! vectors run in `isthmus-conformance`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use isthmus_spec::jcs;
use isthmus_spec::sign::{KeyLookup, Keyring, PublicKeyRecord, SigningKey};
use isthmus_spec::{Envelope, Rejection};
use serde_json::json;

use super::input::{read_bounded, read_text_limited, MAX_KEY_FILE_BYTES};
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
