//! The `isthmus` binary against what an attacker or an unlucky operator gives
//! it (issue 10); each test names the finding it guards.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_isthmus"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// Waits for `child`, killing it after `limit`: a regression must fail the
/// test, not hang it or fill the memory.
fn finish_within(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the command did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn isthmus(args: &[&str]) -> Output {
    let child = bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish_within(child, Duration::from_secs(120))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("isthmus-hostile-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Runs with standard output on `/dev/full`: every write fails with ENOSPC.
fn isthmus_to_full(args: &[&str]) -> Output {
    let child = bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::options().write(true).open("/dev/full").unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish_within(child, Duration::from_secs(120))
}

/// Runs with standard output on a pipe whose only reader has already exited
/// (`| head -0`, made certain): every write fails with EPIPE.
fn isthmus_to_closed_pipe(args: &[&str]) -> Output {
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let write_end = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    let child = bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish_within(child, Duration::from_secs(120))
}

/// Commands that write to standard output, each cheap to run.
fn printing_commands(keys_out: &Path) -> Vec<Vec<String>> {
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        owned(&["demo"]),
        owned(&[
            "spec",
            "validate",
            "specs/samples/settlement-instruction.json",
        ]),
        owned(&[
            "spec",
            "validate",
            "--json",
            "specs/samples/settlement-instruction.json",
        ]),
        owned(&["spec", "vectors"]),
        owned(&[
            "spec",
            "canonicalize",
            "specs/samples/settlement-instruction.json",
        ]),
        owned(&[
            "translate",
            "--from",
            "mt",
            "--to",
            "iso20022",
            "adapters/tests/data/mt/01-mt543-us-dtc-deliver-against-usd.fin",
        ]),
        owned(&[
            "bench",
            "ledger",
            "--single-pairs",
            "1",
            "--batched-ops",
            "4",
            "--batch-size",
            "2",
        ]),
        owned(&["keys", "generate", "--out", path_str(keys_out), "--force"]),
    ]
}

// Finding 6: a full disk is reported, not a panic.
#[test]
fn a_full_standard_output_is_an_error_not_a_panic() {
    let root = fresh_dir("full");
    for args in printing_commands(&root.join("keys")) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = isthmus_to_full(&args);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
        assert!(!text.contains("panicked"), "{args:?}: {text}");
        assert!(
            text.contains("writing standard output: No space left on device"),
            "{args:?}: {text}"
        );
        if args[0] == "keys" {
            // The files were written before anything was printed, and it says so.
            assert!(text.contains("was written to"), "{text}");
            assert!(root.join("keys/signing.key").is_file());
            assert!(root.join("keys/signing.pub.json").is_file());
        } else {
            assert!(
                text.starts_with("error: writing standard output"),
                "{args:?}: {text}"
            );
        }
    }
    fs::remove_dir_all(&root).unwrap();
}

// Finding 6: a reader that went away (`| head -1`) ends the command quietly,
// with status 2 (the output is incomplete), never a panic.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let root = fresh_dir("pipe");
    for args in printing_commands(&root.join("keys")) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = isthmus_to_closed_pipe(&args);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
        assert!(!text.contains("panicked"), "{args:?}: {text}");
        if args[0] == "keys" {
            assert!(text.contains("was written to"), "{text}");
            assert!(text.contains("Broken pipe"), "{text}");
        } else {
            assert_eq!(text, "", "{args:?}");
        }
    }
    fs::remove_dir_all(&root).unwrap();
}

// Finding 6: a full standard error must not turn an error into a panic.
#[test]
fn a_full_standard_error_is_not_a_panic() {
    let child = bin()
        .args(["spec", "validate", "/definitely/not/here.json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::options().write(true).open("/dev/full").unwrap())
        .spawn()
        .unwrap();
    let output = finish_within(child, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(2));
    let child = bin()
        .args(["translate", "--from", "mt", "--to", "ism", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(File::options().write(true).open("/dev/full").unwrap())
        .spawn()
        .unwrap();
    let mut child = child;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"not a message")
        .unwrap();
    let output = finish_within(child, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(1), "refused, whatever stderr is");
}

fn assert_no_raw_controls(text: &[u8], context: &str) {
    let shown = String::from_utf8_lossy(text);
    assert!(
        !shown
            .chars()
            .any(|c| c.is_control() && c != '\n' || ('\u{202a}'..='\u{202e}').contains(&c)),
        "{context}: {shown:?}"
    );
}

// Finding 10: errors quoting an argument or an input escape its control
// characters and are capped in length.
#[test]
fn error_messages_escape_control_characters_and_are_bounded() {
    let hostile = "\u{1b}]0;owned\u{7}\u{1b}[31mred\u{202e}";
    let output = isthmus(&["spec", "validate", hostile]);
    assert_eq!(output.status.code(), Some(2));
    assert_no_raw_controls(&output.stderr, "a path argument");
    assert!(
        stderr(&output).contains("\\u{1b}]0;owned\\u{7}"),
        "{}",
        stderr(&output)
    );

    // clap's own usage errors quote the argument too, even when colouring is forced.
    let child = bin()
        .args(["spec", "validate", &format!("--{hostile}")])
        .env("CLICOLOR_FORCE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = finish_within(child, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(2));
    assert_no_raw_controls(&output.stderr, "a usage error");
    assert!(
        stderr(&output).contains("unexpected argument"),
        "{}",
        stderr(&output)
    );

    // A very long argument: the message is capped.
    let long = "x/".repeat(30_000);
    let output = isthmus(&["spec", "validate", &long]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        output.stderr.len() < 4096 * 4 + 200,
        "{} bytes of error",
        output.stderr.len()
    );
    assert!(stderr(&output).contains("x/x/…: "), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .trim_end()
            .ends_with("File name too long (os error 36)"),
        "the cause is still shown: {}",
        stderr(&output)
    );

    // Input bytes quoted back in a refusal.
    let root = fresh_dir("controls");
    let file = root.join("not-a-message.fin");
    fs::write(&file, format!("{hostile}{{1:F01}}").as_bytes()).unwrap();
    for from in ["mt", "iso20022", "ism"] {
        let output = isthmus(&["translate", "--from", from, "--to", "ism", path_str(&file)]);
        assert_eq!(output.status.code(), Some(1), "{from}: {}", stderr(&output));
        assert_no_raw_controls(&output.stderr, from);
    }
    let output = isthmus(&["spec", "validate", path_str(&file)]);
    assert_eq!(output.status.code(), Some(1));
    assert_no_raw_controls(&output.stdout, "spec validate");
    fs::remove_dir_all(&root).unwrap();
}

// Finding 5: key files and vector files are read with a bound.
#[test]
fn oversize_key_and_vector_files_are_refused_naming_the_file_and_limit() {
    let root = fresh_dir("bounded");
    let big = root.join("big.key");
    fs::write(&big, vec![b'A'; 100 * 1024]).unwrap();
    let sample = "specs/samples/settlement-instruction.json";
    for args in [
        vec!["spec", "sign", "--key", path_str(&big), sample],
        vec!["spec", "validate", "--public-key", path_str(&big), sample],
        vec!["spec", "sign", "--key", "/dev/zero", sample],
        vec!["spec", "validate", "--public-key", "/dev/zero", sample],
    ] {
        let output = isthmus(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let text = stderr(&output);
        assert!(
            text.contains(args[3]) && text.contains("65536 bytes"),
            "{args:?}: {text}"
        );
    }
    // A vector directory whose vector is endless.
    let vectors = root.join("vectors");
    fs::create_dir_all(vectors.join("valid")).unwrap();
    fs::create_dir_all(vectors.join("invalid")).unwrap();
    fs::copy("specs/vectors/keys.json", vectors.join("keys.json"))
        .or_else(|_| {
            fs::copy(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/vectors/keys.json"),
                vectors.join("keys.json"),
            )
        })
        .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/dev/zero", vectors.join("valid/endless.json")).unwrap();
    let output = isthmus(&["spec", "vectors", "--dir", path_str(&vectors)]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("endless.json") && stderr(&output).contains("bytes"),
        "{}",
        stderr(&output)
    );
    fs::remove_dir_all(&root).unwrap();
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

// Finding 4: --force replaces the key files' names, never what they point at.
#[cfg(unix)]
#[test]
fn keys_generate_force_replaces_the_names_never_their_targets() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root = fresh_dir("keys-force");
    let out = root.join("keys");
    let generate = |force: bool| {
        let mut args = vec!["keys", "generate", "--out", path_str(&out)];
        if force {
            args.push("--force");
        }
        isthmus(&args)
    };
    assert_eq!(generate(false).status.code(), Some(0));
    let private = out.join("signing.key");
    let public = out.join("signing.pub.json");

    // A private key left world-readable is replaced by one readable by its owner only.
    fs::set_permissions(&private, fs::Permissions::from_mode(0o644)).unwrap();
    let forced = generate(true);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(mode(&private), 0o600);

    // A symlink and a hard link: their targets keep their contents.
    let symlink_target = root.join("victim-symlinked");
    let hardlink_target = root.join("victim-hardlinked");
    fs::write(&symlink_target, "precious\n").unwrap();
    fs::write(&hardlink_target, "precious too\n").unwrap();
    fs::set_permissions(&symlink_target, fs::Permissions::from_mode(0o644)).unwrap();
    fs::remove_file(&private).unwrap();
    fs::remove_file(&public).unwrap();
    std::os::unix::fs::symlink(&symlink_target, &private).unwrap();
    fs::hard_link(&hardlink_target, &public).unwrap();
    let forced = generate(true);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(fs::read_to_string(&symlink_target).unwrap(), "precious\n");
    assert_eq!(mode(&symlink_target), 0o644);
    assert_eq!(
        fs::read_to_string(&hardlink_target).unwrap(),
        "precious too\n"
    );
    let private_meta = fs::symlink_metadata(&private).unwrap();
    assert!(private_meta.file_type().is_file(), "no longer a symlink");
    assert_eq!(mode(&private), 0o600);
    assert!(fs::read_to_string(&private)
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_ne!(
        fs::metadata(&public).unwrap().ino(),
        fs::metadata(&hardlink_target).unwrap().ino()
    );
    // The new pair works: the public record names the private key's id.
    let key_id = String::from_utf8_lossy(&forced.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("key id").map(|id| id.trim().to_string()))
        .unwrap();
    assert!(fs::read_to_string(&public).unwrap().contains(&key_id));
    // Nothing but the two key files is left behind.
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["signing.key", "signing.pub.json"]);
    fs::remove_dir_all(&root).unwrap();
}

// Finding 4, without --force: a dangling symlink is an existing name too, and
// is neither followed nor replaced.
#[cfg(unix)]
#[test]
fn keys_generate_without_force_refuses_even_a_dangling_symlink() {
    let root = fresh_dir("keys-dangling");
    let out = root.join("keys");
    fs::create_dir_all(&out).unwrap();
    let target = root.join("created-through-the-link");
    std::os::unix::fs::symlink(&target, out.join("signing.pub.json")).unwrap();
    let refused = isthmus(&["keys", "generate", "--out", path_str(&out)]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert!(!target.exists(), "nothing is written through the symlink");
    assert!(!out.join("signing.key").exists());
    fs::remove_dir_all(&root).unwrap();
}

// Finding 8: absurd benchmark sizes are refused before anything is allocated.
#[test]
fn bench_refuses_sizes_beyond_its_maximums() {
    for (flag, value, limit) in [
        ("--single-pairs", "18446744073709551615", "10000000"),
        ("--single-pairs", "10000001", "10000000"),
        ("--batched-ops", "18446744073709551615", "100000000"),
        ("--batched-ops", "100000001", "100000000"),
    ] {
        let output = isthmus(&["bench", "ledger", flag, value]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{flag} {value}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&format!("{flag} must be at most {limit}")),
            "{}",
            stderr(&output)
        );
    }
}

/// Starts a long benchmark with its temporary directory under `tmp`, and
/// waits until its ledger exists.
fn start_long_bench(tmp: &Path, data: Option<&Path>) -> Child {
    let mut command = bin();
    command
        .args(["bench", "ledger", "--single-pairs", "10000000"])
        .env("TMPDIR", tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(data) = data {
        command.arg("--data").arg(data);
    }
    let child = command.spawn().unwrap();
    let started = Instant::now();
    let ledger_written = || {
        let dir = match data {
            Some(data) => data.to_path_buf(),
            None => match fs::read_dir(tmp).unwrap().next() {
                Some(entry) => entry.unwrap().path().join("ledger"),
                None => return false,
            },
        };
        fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
    };
    while !ledger_written() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the benchmark never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let it get into its measured loop.
    std::thread::sleep(Duration::from_millis(500));
    child
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

// Finding 8: Ctrl-C or SIGTERM removes the benchmark's temporary ledger.
#[cfg(unix)]
#[test]
fn an_interrupted_bench_removes_its_temporary_ledger_only() {
    for name in ["INT", "TERM"] {
        let tmp = fresh_dir(&format!("bench-{name}"));
        let child = start_long_bench(&tmp, None);
        signal(&child, name);
        let output = finish_within(child, Duration::from_secs(60));
        assert_eq!(
            output.status.code(),
            Some(130),
            "SIG{name}: {}",
            stderr(&output)
        );
        let left: Vec<_> = fs::read_dir(&tmp).unwrap().collect();
        assert!(left.is_empty(), "SIG{name} left {left:?}");
        assert!(stderr(&output).contains("removed"), "{}", stderr(&output));
        fs::remove_dir_all(&tmp).unwrap();
    }
    // A --data directory is the user's: never removed.
    let tmp = fresh_dir("bench-data");
    let data = tmp.join("mine");
    let child = start_long_bench(&tmp, Some(&data));
    signal(&child, "TERM");
    let _ = finish_within(child, Duration::from_secs(60));
    assert!(fs::read_dir(&data).unwrap().next().is_some());
    fs::remove_dir_all(&tmp).unwrap();
}

/// A freshly generated key in `dir`, and the sample instruction signed with it.
fn signed_sample(dir: &Path) -> (PathBuf, serde_json::Value) {
    let out = dir.join("keys");
    let generated = isthmus(&["keys", "generate", "--out", path_str(&out)]);
    assert_eq!(generated.status.code(), Some(0), "{}", stderr(&generated));
    let signed = isthmus(&[
        "spec",
        "sign",
        "--key",
        path_str(&out.join("signing.key")),
        "specs/samples/settlement-instruction.unsigned.json",
    ]);
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    (
        out.join("signing.pub.json"),
        serde_json::from_slice(&signed.stdout).unwrap(),
    )
}

// Finding 7: a signed envelope is translated only once its signature
// verifies, or when --unverified says so, and never re-wrapped silently.
#[test]
fn a_tampered_signed_message_is_never_translated_silently() {
    let root = fresh_dir("tampered");
    let (public, signed) = signed_sample(&root);
    let public = path_str(&public).to_string();
    let mut tampered = signed.clone();
    tampered["body"]["common_reference"] = "TRADE-2026-11-25-9999".into();
    let signed_path = root.join("signed.json");
    let tampered_path = root.join("tampered.json");
    fs::write(&signed_path, signed.to_string()).unwrap();
    fs::write(&tampered_path, tampered.to_string()).unwrap();
    let (signed_path, tampered_path) = (path_str(&signed_path), path_str(&tampered_path));
    let translate = |extra: &[&str], file: &str| {
        let mut args = vec!["translate", "--from", "ism", "--to", "ism"];
        args.extend_from_slice(extra);
        args.push(file);
        isthmus(&args)
    };
    let rewrap = ["--sender", "gw.relay", "--receiver", "gw.xetr"];

    // No key, no --unverified: refused before anything is written.
    for extra in [&[][..], &rewrap[..]] {
        for file in [signed_path, tampered_path] {
            let output = translate(extra, file);
            assert_eq!(output.status.code(), Some(2), "{extra:?} {file}");
            assert!(output.stdout.is_empty());
            assert!(
                stderr(&output).contains("--public-key")
                    && stderr(&output).contains("--unverified"),
                "{}",
                stderr(&output)
            );
        }
    }
    // With the signer's key: the tampered body is refused with its reason code.
    for extra in [vec!["--public-key", &public], {
        let mut both = vec!["--public-key", public.as_str()];
        both.extend_from_slice(&rewrap);
        both
    }] {
        let output = translate(&extra, tampered_path);
        assert_eq!(output.status.code(), Some(1), "{extra:?}");
        assert!(output.stdout.is_empty());
        assert!(
            stderr(&output).starts_with("REJECTED SIGNATURE_INVALID at signature"),
            "{}",
            stderr(&output)
        );
    }
    // ...and the untampered one translates, saying the signature is not carried.
    let output = translate(&["--public-key", &public], signed_path);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["body"], signed["body"]);
    assert!(
        stderr(&output).contains("signature verified"),
        "{}",
        stderr(&output)
    );
    let mut args = vec!["--public-key", public.as_str()];
    args.extend_from_slice(&rewrap);
    let output = translate(&args, signed_path);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("re-wrapped"),
        "{}",
        stderr(&output)
    );
    // An unknown key is refused too.
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/vectors/test-key.pub.json");
    let output = translate(&["--public-key", path_str(&other)], signed_path);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("REJECTED KEY_UNKNOWN"),
        "{}",
        stderr(&output)
    );

    // --unverified goes on, warning that the signature was not checked.
    let output = translate(&["--unverified"], tampered_path);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("NOT checked"),
        "{}",
        stderr(&output)
    );
    let mut args = vec!["--unverified"];
    args.extend_from_slice(&rewrap);
    let output = translate(&args, tampered_path);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("NOT checked") && stderr(&output).contains("re-wrapped"),
        "{}",
        stderr(&output)
    );

    // A key demands a signature: a bare body has none.
    let bare = root.join("bare.json");
    fs::write(
        &bare,
        serde_json::json!({"kind": signed["kind"], "body": signed["body"]}).to_string(),
    )
    .unwrap();
    let output = translate(&["--public-key", &public], path_str(&bare));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("REJECTED SIGNATURE_MISSING"),
        "{}",
        stderr(&output)
    );
    // An unsigned message still translates with no flag.
    let output = translate(&[], path_str(&bare));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The flags mean nothing for a dialect without ISM/1 signatures.
    let output = isthmus(&[
        "translate",
        "--from",
        "mt",
        "--to",
        "ism",
        "--unverified",
        "adapters/tests/data/mt/01-mt543-us-dtc-deliver-against-usd.fin",
    ]);
    assert_eq!(output.status.code(), Some(2));
    fs::remove_dir_all(&root).unwrap();
}
