#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The conformance suite against our own relay and gateway, each started as
//! a process of its own (issue 14): every scenario passes, strict included,
//! and the reports are well formed. With the `broken-nodes` feature, each
//! deliberately broken node makes the scenario that names its fault fail,
//! and only that one.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

fn isthmus() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_isthmus"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

fn udp() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The conformance profile of conformance/README.md: deadlines short
/// enough for the suite to watch them pass. Δ = 2000 + 500 ms.
const TIMING: &str = "[timing]
claim_window_ms = 2000
max_clock_skew_ms = 500
matching_window_ms = 20000
lock_window_ms = 8000
reveal_margin_ms = 2500
cash_expiry_ms = 30000
securities_expiry_ms = 60000
retransmit_ms = 300
";

/// A conformance network: the relay `relay.one`, the gateways `gw.xetr`
/// (the gateway under test) and `gw.xasx`, each with a fixed port.
struct Net {
    dir: tempfile::TempDir,
    relay: SocketAddr,
    xetr: SocketAddr,
    xasx: SocketAddr,
    /// The participant API of the gateway under test.
    api: SocketAddr,
}

/// The operator's and the seller's bearer tokens at the gateway under test.
const OPERATOR_TOKEN: &str = "conformance-operator";
const SELLER_TOKEN: &str = "conformance-seller";

fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tcp() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The suite's `--instruct-cmd` for our gateway: the hook of
/// conformance/hooks, with the API's address and the tokens.
fn instruct_cmd(net: &Net) -> String {
    format!(
        "python3 '{}/conformance/hooks/isthmus-gateway-instruct.py' --api {} --operator-token {OPERATOR_TOKEN} --participant-token {SELLER_TOKEN}",
        env!("CARGO_MANIFEST_DIR"),
        net.api
    )
}

fn path(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

fn node_section(dir: &Path, id: &str, listen: SocketAddr) -> String {
    let d = path(dir);
    format!(
        "[node]\nid = \"{id}\"\nlisten = \"{listen}\"\nstore = \"{d}/state/{id}/store\"\nmembership = \"{d}/net/membership.json\"\nca = \"{d}/net/ca/ca.pem\"\ncertificate = \"{d}/net/nodes/{id}/tls.pem\"\ntls_key = \"{d}/net/nodes/{id}/tls.key\"\nsigning_key = \"{d}/net/nodes/{id}/signing.key\"\n"
    )
}

fn network() -> Net {
    let dir = tempfile::tempdir().unwrap();
    let out = isthmus()
        .args(["keys", "init", "--conformance", "--network"])
        .arg(dir.path().join("net"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let net = Net {
        relay: udp(),
        xetr: udp(),
        xasx: udp(),
        api: tcp(),
        dir,
    };
    let d = net.dir.path();
    let relay = format!(
        "{}[relay]\nsettlement_prefix = \"C\"\n{TIMING}[peers]\n\"gw.xetr\" = \"{}\"\n\"gw.xasx\" = \"{}\"\n",
        node_section(d, "relay.one", net.relay),
        net.xetr,
        net.xasx
    );
    std::fs::write(d.join("relay.toml"), relay).unwrap();
    // The seller of the gateway scenarios (conformance/src/fixtures.rs) is
    // the participant the instruct hook speaks for.
    let gateway = format!(
        "{}[gateway]\nrelays = [\"relay.one\"]\nledger = \"{}/state/gw.xetr/ledger\"\n{TIMING}[peers]\n\"relay.one\" = \"{}\"\n\"gw.xasx\" = \"{}\"\n[api]\nlisten = \"{}\"\noperator_token_sha256 = \"{}\"\n[[api.participants]]\nname = \"seller\"\ntoken_sha256 = \"{}\"\naccounts = [\"SELAUS33/SAFE-S0\", \"SELAUS33/CASH-S0\"]\n",
        node_section(d, "gw.xetr", net.xetr),
        path(d),
        net.relay,
        net.xasx,
        net.api,
        sha256_hex(OPERATOR_TOKEN),
        sha256_hex(SELLER_TOKEN),
    );
    std::fs::write(d.join("gw.xetr.toml"), gateway).unwrap();
    net
}

/// A node started, and restarted, by `DIR/restart.sh` — the suite's
/// `--restart-cmd`: SIGKILL to the running one, then a new process on the
/// same address and store. Killed when dropped.
struct Restartable {
    pid_file: PathBuf,
}

impl Drop for Restartable {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        }
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

fn restart_script(net: &Net) -> PathBuf {
    net.dir.path().join("restart.sh")
}

fn start_restartable_relay(net: &Net, broken: Option<&str>) -> Restartable {
    start_restartable(net, "relay", "relay", broken)
}

/// Starts `isthmus KIND --config NAME.toml` through `DIR/restart.sh`.
fn start_restartable(net: &Net, kind: &str, name: &str, broken: Option<&str>) -> Restartable {
    let d = net.dir.path();
    let pid_file = d.join(format!("{name}.pid"));
    let log = d.join(format!("{name}.log"));
    let _ = std::fs::remove_file(&log);
    let script = format!(
        "pid=$(cat '{pid}' 2>/dev/null)\nif [ -n \"$pid\" ]; then\n  kill -9 \"$pid\" 2>/dev/null\n  while kill -0 \"$pid\" 2>/dev/null; do sleep 0.05; done\nfi\nRUST_LOG=info NO_COLOR=1 ISTHMUS_BROKEN='{broken}' '{bin}' {kind} --config '{config}' >> '{log}' 2>&1 &\necho $! > '{pid}'\n",
        pid = pid_file.display(),
        broken = broken.unwrap_or(""),
        bin = env!("CARGO_BIN_EXE_isthmus"),
        config = d.join(format!("{name}.toml")).display(),
        log = log.display(),
    );
    std::fs::write(restart_script(net), script).unwrap();
    let status = Command::new("sh")
        .arg(restart_script(net))
        .status()
        .unwrap();
    assert!(status.success());
    let node = Restartable { pid_file };
    let started = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("serving addr=")
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{name} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    node
}

/// Runs the suite against `target` in the role `role`; its exit status and
/// its JSON report, with the JUnit report checked to be well formed.
fn suite(net: &Net, role: &str, target: SocketAddr, extra: &[&str]) -> (Option<i32>, Value) {
    let d = net.dir.path();
    let report = d.join(format!("{role}-report.json"));
    let junit = d.join(format!("{role}-report.xml"));
    let mut command = isthmus();
    command
        .args(["conformance", "run", "--strict", "--role", role])
        .args([
            "--level",
            "core",
            "--level",
            "settlement",
            "--delta-ms",
            "2500",
            "--level",
            "recovery",
        ])
        .arg("--restart-cmd")
        .arg(format!("sh '{}'", restart_script(net).display()))
        .args(["--target", &target.to_string()])
        .arg("--network")
        .arg(d.join("net"))
        .arg("--json")
        .arg(&report)
        .arg("--junit")
        .arg(&junit)
        .args(extra);
    match role {
        "relay" => command
            .args(["--listen", &format!("gw.xetr={}", net.xetr)])
            .args(["--listen", &format!("gw.xasx={}", net.xasx)]),
        _ => command
            .args(["--target-id", "gw.xetr"])
            .arg("--instruct-cmd")
            .arg(instruct_cmd(net))
            .args(["--listen", &format!("relay.one={}", net.relay)])
            .args(["--listen", &format!("gw.xasx={}", net.xasx)]),
    };
    let out = command.output().unwrap();
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    let value: Value = serde_json::from_slice(&std::fs::read(&report).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {summary}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    }))
    .unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut testcases = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"testcase" => {
                testcases += 1
            }
            _ => {}
        }
    }
    assert_eq!(testcases, value["cases"].as_array().unwrap().len(), "{xml}");
    (out.status.code(), value)
}

fn ids_with(report: &Value, verdict: &str) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == verdict)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn listed(role: &str) -> usize {
    let out = isthmus()
        .args(["conformance", "list", "--json", "--role", role])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .filter(|s| s["roles"].as_array().unwrap().iter().any(|r| r == role))
        .count()
}

#[test]
fn our_relay_and_gateway_pass_every_scenario_strict_included() {
    let net = network();
    for (role, addr) in [("relay", net.relay), ("gateway", net.xetr)] {
        let (status, report) = if role == "relay" {
            let _relay = start_restartable_relay(&net, None);
            suite(&net, role, addr, &[])
        } else {
            let _gateway = start_restartable(&net, "gateway", "gw.xetr", None);
            suite(&net, role, addr, &[])
        };
        assert_eq!(
            ids_with(&report, "pass").len(),
            listed(role),
            "{role}: {report:#}"
        );
        assert_eq!(report["counts"]["failed"], 0, "{report:#}");
        assert_eq!(report["counts"]["skipped"], 0, "{report:#}");
        assert_eq!(status, Some(0), "{report:#}");
    }
}

/// A target may declare what it does not support: reported so, not failed.
#[test]
fn declared_unsupported_scenarios_are_reported_as_such_and_do_not_fail_the_run() {
    let net = network();
    let _node = start_restartable_relay(&net, None);
    let (status, report) = suite(
        &net,
        "relay",
        net.relay,
        &[
            "--unsupported",
            "batch",
            "--unsupported",
            "ism1/8.2/4-frame-truncated",
        ],
    );
    let unsupported = ids_with(&report, "unsupported");
    assert_eq!(
        unsupported,
        [
            "ism1/8.2/4-frame-truncated",
            "ism1/8.7/2-batch-refused-whole",
            "ism1/8.7/5-batch-accepted"
        ],
        "{report:#}"
    );
    assert_eq!(status, Some(0), "{report:#}");
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/vectors")
}

#[test]
fn conformance_vectors_reports_every_vector_in_json_and_junit() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("v.json");
    let junit = dir.path().join("v.xml");
    let out = isthmus()
        .args(["conformance", "vectors", "--dir"])
        .arg(vectors_dir())
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let valid = std::fs::read_dir(vectors_dir().join("valid"))
        .unwrap()
        .count();
    let invalid = std::fs::read_dir(vectors_dir().join("invalid"))
        .unwrap()
        .count();
    let cases = report["counts"]["cases"].as_u64().unwrap() as usize;
    assert!(
        cases > valid + invalid,
        "{cases} cases for {valid} + {invalid} message vectors"
    );
    assert_eq!(report["counts"]["passed"].as_u64().unwrap() as usize, cases);
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<testcase name=\"valid/01-instruction-deliver-against-payment-usd\""));
    // A vector this build gets wrong fails the run, named.
    let broken = dir.path().join("vectors");
    for sub in ["valid", "invalid"] {
        std::fs::create_dir_all(broken.join(sub)).unwrap();
    }
    std::fs::copy(vectors_dir().join("keys.json"), broken.join("keys.json")).unwrap();
    let mut vector: Value = serde_json::from_slice(
        &std::fs::read(vectors_dir().join("invalid/22-isin-check-digit.json")).unwrap(),
    )
    .unwrap();
    vector["expect"]["reason"] = "ISIN_FORMAT".into();
    std::fs::write(
        broken.join("invalid/22-isin-check-digit.json"),
        vector.to_string(),
    )
    .unwrap();
    let out = isthmus()
        .args(["conformance", "vectors", "--dir"])
        .arg(&broken)
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{summary}");
    assert!(
        summary.contains("FAIL        invalid/22-isin-check-digit"),
        "{summary}"
    );
}

/// Each broken node (`--features broken-nodes`, its fault chosen by
/// `ISTHMUS_BROKEN`) fails the scenario named for its fault, and only it:
/// the others pass, or are skipped because they build on it.
#[cfg(feature = "broken-nodes")]
#[test]
fn each_broken_node_fails_the_scenario_of_its_fault_and_only_it() {
    let net = network();
    let cases: [(&str, &str, &[&str], &[&str]); 8] = [
        (
            "accept-bad-signature",
            "relay",
            &["ism1/8.4/5-signature-invalid"],
            &["ism1/8.7/2-batch-refused-whole"],
        ),
        (
            "skip-alpn-check",
            "relay",
            &["ism1/8.1/7-alpn-refused"],
            &[],
        ),
        (
            "answer-replays",
            "gateway",
            &["ism1/8.4/6-replay-other-bytes"],
            &["ism1/8.7/5-batch-accepted"],
        ),
        (
            "reveal-before-both-locks",
            "relay",
            &["ism1/12.5/5-no-reveal-before-both-locks"],
            &[
                "ism1/12.5/7-settle-against-payment",
                "ism1/12.5/2-lock-receipt-mismatch",
                "ism1/12.10/3-restart-proposed",
                "ism1/12.10/3-restart-locking",
                "ism1/12.10/3-restart-revealing",
                "ism1/12.10/3-restart-settled",
            ],
        ),
        (
            "skip-timelock-margin",
            "relay",
            &["ism1/6.3/1-expiry-delta"],
            &[
                "ism1/12.5/5-no-reveal-before-both-locks",
                "ism1/12.5/7-settle-against-payment",
                "ism1/12.5/2-lock-receipt-mismatch",
                "ism1/12.10/3-restart-proposed",
                "ism1/12.10/3-restart-locking",
                "ism1/12.10/3-restart-revealing",
                "ism1/12.10/3-restart-settled",
            ],
        ),
        (
            "forget-on-restart",
            "relay",
            &["ism1/12.10/3-restart-proposed"],
            &[
                "ism1/12.10/3-restart-locking",
                "ism1/12.10/3-restart-revealing",
                "ism1/12.10/3-restart-settled",
            ],
        ),
        (
            "forget-on-restart",
            "gateway",
            &["ism1/12.10/3-gateway-restart-instructed"],
            &[
                "ism1/12.10/3-gateway-restart-locked",
                "ism1/12.10/3-gateway-restart-claimed",
            ],
        ),
        (
            "refund-before-expiry",
            "gateway",
            &["ism1/12.6/7-refund-after-expiry"],
            &["ism1/12.6/6-claim-after-expiry"],
        ),
    ];
    for (fault, role, failing, dependents) in cases {
        let (status, report) = if role == "relay" {
            let _relay = start_restartable_relay(&net, Some(fault));
            suite(&net, role, net.relay, &[])
        } else {
            let _gateway = start_restartable(&net, "gateway", "gw.xetr", Some(fault));
            suite(&net, role, net.xetr, &[])
        };
        // Each broken node starts from an empty store.
        let _ = std::fs::remove_dir_all(net.dir.path().join("state"));
        assert_eq!(ids_with(&report, "fail"), failing, "{fault}: {report:#}");
        assert_eq!(
            ids_with(&report, "skipped"),
            dependents,
            "{fault}: {report:#}"
        );
        assert_eq!(status, Some(1), "{fault}");
    }
}

/// A broken-nodes build refuses a fault name it does not know.
#[cfg(feature = "broken-nodes")]
#[test]
fn an_unknown_fault_name_is_refused_at_start() {
    let net = network();
    let out = isthmus()
        .args(["relay", "--config"])
        .arg(net.dir.path().join("relay.toml"))
        .env("ISTHMUS_BROKEN", "no-such-fault")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-fault"));
}
