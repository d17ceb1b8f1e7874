#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `isthmus keys init --network DIR` (issue 12 step 1): a CA, each node's
//! certificate and keys, and a membership file the nodes accept; private
//! keys 0600; nothing overwritten without --force.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use isthmus_spec::ids::NodeId;
use isthmus_spec::membership::{Membership, Role};
use isthmus_transport::TlsIdentity;

fn isthmus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isthmus"))
        .args(args)
        .output()
        .unwrap()
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn the_default_network_has_a_relay_two_gateways_and_an_observer() {
    let dir = temp();
    let net = dir.path().join("net");
    let out = isthmus(&["keys", "init", "--network", net.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let membership = Membership::parse(&fs::read(net.join("membership.json")).unwrap()).unwrap();
    let roles: Vec<(String, Role, Option<String>)> = membership
        .members()
        .iter()
        .map(|m| {
            (
                m.node_id.to_string(),
                m.role,
                m.market.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            ("relay.one".into(), Role::Relay, None),
            ("gw.xetr".into(), Role::Gateway, Some("XETR".into())),
            ("gw.xasx".into(), Role::Gateway, Some("XASX".into())),
            ("obs.regulator".into(), Role::Observer, None),
        ]
    );
    let ca = fs::read(net.join("ca/ca.pem")).unwrap();
    for member in membership.members() {
        let node = net.join("nodes").join(member.node_id.as_str());
        let tls = TlsIdentity::from_pem(
            &ca,
            &fs::read(node.join("tls.pem")).unwrap(),
            &fs::read(node.join("tls.key")).unwrap(),
        )
        .unwrap();
        // The membership pins each node's own certificate.
        assert_eq!(tls.certificate_sha256(), member.certificate_sha256);
        // Its signing key is the one the membership lists.
        let key = isthmus_spec::sign::SigningKey::from_pem(
            &fs::read_to_string(node.join("signing.key")).unwrap(),
        )
        .unwrap();
        assert_eq!(member.signing_keys[0].key_id, key.public_key().key_id());
        for secret in ["tls.key", "signing.key"] {
            assert_mode(&node.join(secret), 0o600);
        }
    }
    assert_mode(&net.join("ca/ca.key"), 0o600);
    let own = NodeId::parse("gw.xasx").unwrap();
    assert!(Membership::parse_for(&fs::read(net.join("membership.json")).unwrap(), &own).is_ok());
}

#[cfg(unix)]
fn assert_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let actual = fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(actual, mode, "{}", path.display());
}

#[cfg(not(unix))]
fn assert_mode(_: &Path, _: u32) {}

#[test]
fn an_existing_network_is_kept_unless_forced() {
    let dir = temp();
    let net = dir.path().join("net");
    let net_arg = net.to_str().unwrap();
    assert!(isthmus(&["keys", "init", "--network", net_arg])
        .status
        .success());
    let before = fs::read(net.join("membership.json")).unwrap();
    let key_before = fs::read(net.join("nodes/relay.one/signing.key")).unwrap();
    let again = isthmus(&["keys", "init", "--network", net_arg]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(fs::read(net.join("membership.json")).unwrap(), before);
    assert_eq!(
        fs::read(net.join("nodes/relay.one/signing.key")).unwrap(),
        key_before
    );
    let forced = isthmus(&["keys", "init", "--network", net_arg, "--force"]);
    assert!(forced.status.success());
    assert_ne!(
        fs::read(net.join("nodes/relay.one/signing.key")).unwrap(),
        key_before
    );
}

#[test]
fn chosen_nodes_and_bad_choices() {
    let dir = temp();
    let net = dir.path().join("net");
    let net_arg = net.to_str().unwrap();
    let out = isthmus(&[
        "keys",
        "init",
        "--network",
        net_arg,
        "--relay",
        "relay.a",
        "--relay",
        "relay.b",
        "--gateway",
        "gw.xlon=XLON",
        "--observer",
        "obs.x",
        "--name",
        "two relays",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let membership = Membership::parse(&fs::read(net.join("membership.json")).unwrap()).unwrap();
    assert_eq!(membership.members().len(), 4);
    assert_eq!(membership.network.as_str(), "two relays");
    for (args, says) in [
        (vec!["--gateway", "gw.xqqq=XQQQ"], "not a market"),
        (vec!["--gateway", "gw.xlon"], "ID=MIC"),
        (vec!["--relay", "Relay"], "--relay"),
        (
            vec!["--gateway", "gw.a=XLON", "--gateway", "gw.a=XNYS"],
            "MEMBER_DUPLICATE",
        ),
    ] {
        let other = dir.path().join(format!("bad-{}", args.len() + says.len()));
        let mut all = vec!["keys", "init", "--network", other.to_str().unwrap()];
        all.extend(args.iter().copied());
        let out = isthmus(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(
            !other.join("membership.json").exists(),
            "{args:?} wrote a membership"
        );
    }
}

#[test]
fn node_configurations_are_checked_option_by_option() {
    let dir = temp();
    let deploy = dir.path();
    let net = deploy.join("network");
    assert!(
        isthmus(&["keys", "init", "--network", net.to_str().unwrap()])
            .status
            .success()
    );
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    for file in ["relay.toml", "gateway-xetr.toml", "gateway-xasx.toml"] {
        fs::copy(source.join(file), deploy.join(file)).unwrap();
    }
    for (kind, file) in [
        ("relay", "relay.toml"),
        ("gateway", "gateway-xetr.toml"),
        ("gateway", "gateway-xasx.toml"),
    ] {
        let out = isthmus(&[
            kind,
            "--config",
            deploy.join(file).to_str().unwrap(),
            "--check",
        ]);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The cash market's ledger behind a custodian's escrow: the commented
    // section of the shipped configuration, uncommented, is valid.
    let xasx = fs::read_to_string(deploy.join("gateway-xasx.toml")).unwrap();
    let custody = xasx
        .replace("# [gateway.custody]", "[gateway.custody]")
        .replace("# escrow = ", "escrow = ")
        .replace("# records = ", "records = ");
    assert_ne!(custody, xasx, "gateway-xasx.toml shows a custody section");
    let custody_file = deploy.join("custody.toml");
    fs::write(&custody_file, custody).unwrap();
    let out = isthmus(&[
        "gateway",
        "--config",
        custody_file.to_str().unwrap(),
        "--check",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("custody: escrow CUSTAU2S/ESCROW-1"),
        "{stdout}"
    );
    let gateway = fs::read_to_string(deploy.join("gateway-xetr.toml")).unwrap();
    for (from, to, option) in [
        (
            "relays = [\"relay.one\"]",
            "relays = [\"gw.xasx\"]",
            "gateway.relays[0]",
        ),
        (
            "listen = \"127.0.0.1:8402\"",
            "listen = \"nowhere\"",
            "api.listen",
        ),
        ("id = \"gw.xetr\"", "id = \"relay.one\"", "node.id"),
        ("\"gw.xasx\" = \"127.0.0.1:7403\"", "", "peers.gw.xasx"),
        (
            "certificate = \"network/nodes/gw.xetr/tls.pem\"",
            "certificate = \"network/nodes/gw.xasx/tls.pem\"",
            "node.certificate",
        ),
        (
            "signing_key = \"network/nodes/gw.xetr/signing.key\"",
            "signing_key = \"network/nodes/gw.xasx/signing.key\"",
            "node.signing_key",
        ),
        ("retransmit_ms = 500", "retransmit_ms = 0", "timing"),
        (
            "ledger = \"state/gw.xetr/ledger\"",
            "ledger = \"state/gw.xetr/ledger\"\n[gateway.custody]\nescrow = \"no account\"\nrecords = \"c\"",
            "gateway.custody.escrow",
        ),
        (
            "ledger = \"state/gw.xetr/ledger\"",
            "ledger = \"state/gw.xetr/ledger\"\n[gateway.custody]\nescrow = \"ALICDEFF/SAFE-1\"\nrecords = \"c\"",
            "api.participants[0].accounts[0]",
        ),
    ] {
        assert!(gateway.contains(from), "{from}");
        let bad = deploy.join("bad.toml");
        fs::write(&bad, gateway.replace(from, to)).unwrap();
        let out = isthmus(&["gateway", "--config", bad.to_str().unwrap(), "--check"]);
        assert_eq!(out.status.code(), Some(2), "{option}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(option), "{option}: {stderr}");
    } // ISM-1 §12.1 item 2: a relay refuses to start — checked or started —
      // with a timing that breaks a rule, naming the option.
    let relay = fs::read_to_string(deploy.join("relay.toml")).unwrap();
    for (from, to, rule) in [
        (
            "reveal_margin_ms = 10500",
            "reveal_margin_ms = 10000",
            "reveal_margin_ms",
        ),
        (
            "securities_expiry_ms = 90000",
            "securities_expiry_ms = 65000",
            "securities_expiry_ms",
        ),
        (
            "cash_expiry_ms = 60000",
            "cash_expiry_ms = 30000",
            "cash_expiry_ms",
        ),
        (
            "retransmit_ms = 500",
            "retransmit_ms = 10000",
            "retransmit_ms",
        ),
        (
            "lock_window_ms = 30000",
            "lock_window_ms = 0",
            "lock_window_ms",
        ),
    ] {
        assert!(relay.contains(from), "{from}");
        let bad = deploy.join("bad-relay.toml");
        fs::write(&bad, relay.replace(from, to)).unwrap();
        for check in [true, false] {
            let mut args = vec!["relay", "--config", bad.to_str().unwrap()];
            if check {
                args.push("--check");
            }
            let out = isthmus(&args);
            assert_eq!(out.status.code(), Some(2), "{to} (check: {check})");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("timing") && stderr.contains(rule),
                "{to}: {stderr}"
            );
        }
    }
}
