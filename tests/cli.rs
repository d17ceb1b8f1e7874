//! The `isthmus` binary end to end: every vector through `spec validate`
//! (ISM-1 §10), canonicalisation, key generation and signing (ISM-1 §7).

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use isthmus_spec::vectors::{Expectation, TestKeys, Vector};
use serde_json::Value;

fn isthmus(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_isthmus"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // The binary stops reading past the 1 MiB limit, so a larger input may
    // meet a closed pipe; that is the behaviour under test, not a failure.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("the binary finishes")
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/vectors")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A public key record (ISM-1 §7.4) for every trusted key of keys.json, in
/// a fresh directory: the crafted keys of the signature-rule vectors have no
/// file of their own, and must be known for their signatures to be verified.
fn trusted_key_files(tag: &str) -> (PathBuf, Vec<String>) {
    let keys =
        TestKeys::parse(&fs::read_to_string(vectors_dir().join("keys.json")).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("isthmus-cli-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut args = Vec::new();
    for key in &keys.trusted {
        let path = dir.join(format!("{}.pub.json", key.name));
        let record =
            serde_json::json!({"alg": key.alg, "key_id": key.key_id, "public_key": key.public_key});
        fs::write(&path, record.to_string()).unwrap();
        args.push("--public-key".to_string());
        args.push(path.to_str().expect("utf-8 path").to_string());
    }
    (dir, args)
}

#[test]
fn every_vector_through_spec_validate() {
    let (key_dir, key_args) = trusted_key_files("vectors");
    let with_keys = |json: bool| {
        let mut args: Vec<&str> = vec!["spec", "validate"];
        if json {
            args.push("--json");
        }
        args.extend(key_args.iter().map(String::as_str));
        args.push("-");
        args
    };
    let mut checked = 0;
    for dir in ["valid", "invalid"] {
        let mut paths: Vec<PathBuf> = fs::read_dir(vectors_dir().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let vector = Vector::parse(&fs::read_to_string(&path).unwrap()).unwrap();
            let input = vector.input_bytes();
            let plain = isthmus(&with_keys(false), &input);
            let json = isthmus(&with_keys(true), &input);
            let report: Value = serde_json::from_slice(&json.stdout)
                .unwrap_or_else(|e| panic!("{}: --json output: {e}", vector.id));
            match &vector.expect {
                Expectation::Valid { .. } => {
                    assert_eq!(
                        plain.status.code(),
                        Some(0),
                        "{}: {}",
                        vector.id,
                        stdout(&plain)
                    );
                    assert!(stdout(&plain).starts_with("OK "), "{}", vector.id);
                    assert!(
                        stdout(&plain).contains("signature verified"),
                        "{}",
                        vector.id
                    );
                    assert_eq!(report["valid"], Value::Bool(true), "{}", vector.id);
                }
                Expectation::Invalid { reason, field } => {
                    assert_eq!(
                        plain.status.code(),
                        Some(1),
                        "{}: {}",
                        vector.id,
                        stdout(&plain)
                    );
                    let text = stdout(&plain);
                    assert!(
                        text.starts_with(&format!("REJECTED {reason}")),
                        "{}: {text}",
                        vector.id
                    );
                    assert!(
                        text.len() > reason.len() + 20,
                        "{}: a sentence follows the code",
                        vector.id
                    );
                    assert_eq!(
                        report["code"].as_str(),
                        Some(reason.as_str()),
                        "{}",
                        vector.id
                    );
                    if let Some(field) = field {
                        assert_eq!(
                            report["field"].as_str(),
                            Some(field.as_str()),
                            "{}",
                            vector.id
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 55);
    fs::remove_dir_all(&key_dir).unwrap();
}

#[test]
fn spec_vectors_command_reports_all_passed() {
    let output = isthmus(&["spec", "vectors"], b"");
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output)
        .lines()
        .last()
        .is_some_and(|l| l.ends_with(" passed, 0 failed")));
}

#[test]
fn canonicalize_matches_rfc8785_cases() {
    let cases: Value =
        serde_json::from_str(&fs::read_to_string(vectors_dir().join("jcs/cases.json")).unwrap())
            .unwrap();
    for case in cases["cases"].as_array().unwrap() {
        let output = isthmus(
            &["spec", "canonicalize", "-"],
            case["input"].as_str().unwrap().as_bytes(),
        );
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(
            isthmus_spec::ids::hex_lower(&output.stdout),
            case["canonical_hex"].as_str().unwrap(),
            "{}",
            case["name"]
        );
    }
    let bad = isthmus(&["spec", "canonicalize", "-"], b"{\"a\":1,\"a\":2}");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("DUPLICATE_KEY"));
}

#[test]
fn generated_key_signs_and_verifies() {
    let dir = std::env::temp_dir().join(format!("isthmus-cli-keys-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let out = dir.to_str().unwrap();
    let generated = isthmus(&["keys", "generate", "--out", out], b"");
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.join("signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the private key is readable by its owner only"
        );
    }
    let again = isthmus(&["keys", "generate", "--out", out], b"");
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing key is never overwritten silently"
    );

    let unsigned = fs::read("specs/samples/settlement-instruction.unsigned.json")
        .or_else(|_| {
            fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("specs/samples/settlement-instruction.unsigned.json"),
            )
        })
        .unwrap();
    let key = dir.join("signing.key");
    let signed = isthmus(
        &["spec", "sign", "--key", key.to_str().unwrap(), "-"],
        &unsigned,
    );
    assert_eq!(
        signed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let public = dir.join("signing.pub.json");
    let public = public.to_str().unwrap();
    let verified = isthmus(
        &["spec", "validate", "--public-key", public, "-"],
        &signed.stdout,
    );
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
    let other_key = vectors_dir().join("test-key.pub.json");
    let unknown = isthmus(
        &[
            "spec",
            "validate",
            "--public-key",
            other_key.to_str().unwrap(),
            "-",
        ],
        &signed.stdout,
    );
    assert!(
        stdout(&unknown).starts_with("REJECTED KEY_UNKNOWN"),
        "{}",
        stdout(&unknown)
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_explained_never_a_panic() {
    for input in [
        &b""[..],
        b"\xff\xfe",
        b"[",
        b"null",
        b"{\"version\":\"ISM/1\"}",
        &[b'{'; 5000][..],
    ] {
        let output = isthmus(&["spec", "validate", "-"], input);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert!(stdout(&output).starts_with("REJECTED "));
        assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
    }
    let oversize = vec![b' '; 2 * 1024 * 1024];
    let output = isthmus(&["spec", "validate", "-"], &oversize);
    assert!(
        stdout(&output).starts_with("REJECTED INPUT_TOO_LARGE"),
        "{}",
        stdout(&output)
    );
    let missing = isthmus(&["spec", "validate", "/definitely/not/here.json"], b"");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/definitely/not/here.json"));
}

// `isthmus demo` is tested in tests/cli_demo.rs.

/// ISM-1 §3.1 rule 2: a receiver reading from a file or stream reads at most
/// one byte past the limit. `/dev/zero` never ends, so a reader without the
/// bound would never answer; this one refuses it as too large.
#[test]
fn an_endless_input_is_refused_after_reading_one_byte_past_the_limit() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_isthmus"))
        .args(["spec", "validate", "/dev/zero"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Not a timing assertion: a reader without the bound never ends, and
    // the test must fail rather than hang.
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("isthmus spec validate /dev/zero reads without bound");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .starts_with("REJECTED INPUT_TOO_LARGE: the input is more than 1048576 bytes"),
        "{output:?}"
    );
}
