//! `isthmus keys init --network DIR`: a development network's CA, each
//! node's TLS certificate and key and signing key, and the membership file
//! (ISM-1 §8.1). Private keys are written mode 0600 and never overwritten
//! without `--force`.
//!
//! The layout, which node configurations point at:
//!
//! ```text
//! DIR/membership.json            the membership file (publish to every node)
//! DIR/ca/ca.pem                  the network CA's certificate (every node trusts it)
//! DIR/ca/ca.key                  the CA's key (0600; keep offline: it admits nodes)
//! DIR/nodes/ID/tls.pem           the node's TLS certificate, issued by the CA
//! DIR/nodes/ID/tls.key           its TLS key (0600)
//! DIR/nodes/ID/signing.key       its Ed25519 signing key (PKCS#8 PEM, 0600)
//! DIR/nodes/ID/signing.pub.json  its public key record
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{NodeId, Text};
use isthmus_spec::membership::{Membership, Role};
use isthmus_spec::sign::PublicKeyRecord;
use isthmus_transport::identity::{NetworkIdentity, NodeIdentity, NodeSpec};

use super::keys::{create_private_dir, install, name_taken, stage};
use super::output::Out;

/// The nodes `keys init` creates.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Where.
    pub dir: PathBuf,
    /// The network's name.
    pub name: String,
    /// Relay node ids.
    pub relays: Vec<String>,
    /// Gateways as `ID=MIC`.
    pub gateways: Vec<String>,
    /// Observer node ids.
    pub observers: Vec<String>,
    /// Replace existing files.
    pub force: bool,
    /// Also write what the conformance suite's identity scenarios need.
    pub conformance: bool,
}

/// The default relays, gateways (one ISO 20022 market, one MT market) and observer.
pub const DEFAULT_RELAYS: &[&str] = &["relay.one"];
/// See [`DEFAULT_RELAYS`].
pub const DEFAULT_GATEWAYS: &[&str] = &["gw.xetr=XETR", "gw.xasx=XASX"];
/// See [`DEFAULT_RELAYS`].
pub const DEFAULT_OBSERVERS: &[&str] = &["obs.regulator"];

fn node_id(text: &str, what: &str) -> anyhow::Result<NodeId> {
    NodeId::parse(text).map_err(|r| anyhow::anyhow!("{what} {text:?}: {}", r.message))
}

fn specs(options: &InitOptions) -> anyhow::Result<Vec<NodeSpec>> {
    let mut nodes = Vec::new();
    for relay in &options.relays {
        nodes.push(NodeSpec {
            node_id: node_id(relay, "--relay")?,
            role: Role::Relay,
            market: None,
        });
    }
    for gateway in &options.gateways {
        let Some((id, mic)) = gateway.split_once('=') else {
            bail!("--gateway {gateway:?}: write it as ID=MIC, for example gw.xetr=XETR");
        };
        let market = Mic::parse_known(mic)
            .map_err(|r| anyhow::anyhow!("--gateway {gateway:?}: {}", r.message))?;
        nodes.push(NodeSpec {
            node_id: node_id(id, "--gateway")?,
            role: Role::Gateway,
            market: Some(market),
        });
    }
    for observer in &options.observers {
        nodes.push(NodeSpec {
            node_id: node_id(observer, "--observer")?,
            role: Role::Observer,
            market: None,
        });
    }
    if !nodes.iter().any(|n| n.role == Role::Relay) {
        bail!("a network needs at least one relay (--relay ID)");
    }
    if nodes.iter().any(|n| n.node_id.as_str() == STRANGER) {
        bail!("{STRANGER} is the name --conformance gives its non-member: choose another node id");
    }
    if options.conformance {
        nodes.push(NodeSpec {
            node_id: node_id(STRANGER, "the stranger")?,
            role: Role::Observer,
            market: None,
        });
    }
    Ok(nodes)
}

/// `isthmus keys init`.
pub fn init(options: &InitOptions) -> anyhow::Result<ExitCode> {
    let nodes = specs(options)?;
    let name = Text::parse(&options.name)
        .map_err(|r| anyhow::anyhow!("--name {:?}: {}", options.name, r.message))?;
    let dir = &options.dir;
    let membership_path = dir.join("membership.json");
    let ca_dir = dir.join("ca");
    let mut taken: Vec<PathBuf> = vec![
        membership_path.clone(),
        ca_dir.join("ca.pem"),
        ca_dir.join("ca.key"),
    ];
    for node in &nodes {
        let node_dir = dir.join("nodes").join(node.node_id.as_str());
        for file in ["tls.pem", "tls.key", "signing.key", "signing.pub.json"] {
            taken.push(node_dir.join(file));
        }
    }
    taken.retain(|path| name_taken(path));
    if !options.force && !taken.is_empty() {
        bail!(
            "{} already holds a network ({} exists, and {} more of its files); refusing to overwrite it (pass --force to replace it)",
            dir.display(),
            taken[0].display(),
            taken.len() - 1
        );
    }
    let network = NetworkIdentity::generate(&name, &nodes).context("generating the network")?;
    create_private_dir(dir)?;
    create_private_dir(&ca_dir)?;
    write(
        &ca_dir,
        "ca.pem",
        network.ca_certificate_pem.as_bytes(),
        0o644,
        options.force,
    )?;
    write(
        &ca_dir,
        "ca.key",
        network.ca_key_pem.as_bytes(),
        0o600,
        options.force,
    )?;
    for node in &network.nodes {
        if node.spec.node_id.as_str() == STRANGER {
            continue;
        }
        let node_dir = dir.join("nodes").join(node.spec.node_id.as_str());
        write_node(&node_dir, node, options.force)?;
    }
    let membership_of_members = if options.conformance {
        conformance_extras(dir, &name, &network, &nodes, options.force)?
    } else {
        network.membership.clone()
    };
    let mut membership = serde_json::to_string_pretty(&membership_of_members.to_json())
        .context("encoding the membership file")?;
    membership.push('\n');
    // Written last: a membership file means the network is complete.
    write(
        dir,
        "membership.json",
        membership.as_bytes(),
        0o644,
        options.force,
    )?;
    let mut out = Out::new();
    out.line(format!("network {} in {}", name, dir.display()))?;
    for member in membership_of_members.members() {
        out.line(format!(
            "  {:<16} {:<8} {:<5} key {}  certificate sha256 {}",
            member.node_id.as_str(),
            member.role.as_str(),
            member.market.as_ref().map_or("", |m| m.as_str()),
            member.signing_keys[0].key_id,
            member.certificate_sha256
        ))?;
    }
    out.line(format!(
        "membership {}; CA {} (its key {} admits nodes: keep it offline)",
        membership_path.display(),
        ca_dir.join("ca.pem").display(),
        ca_dir.join("ca.key").display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes one node's certificate, TLS key, signing key and public key record into `node_dir`.
fn write_node(node_dir: &Path, node: &NodeIdentity, force: bool) -> anyhow::Result<()> {
    create_private_dir(node_dir)?;
    write(
        node_dir,
        "tls.pem",
        node.certificate_pem.as_bytes(),
        0o644,
        force,
    )?;
    write(
        node_dir,
        "tls.key",
        node.tls_key_pem.as_bytes(),
        0o600,
        force,
    )?;
    write(
        node_dir,
        "signing.key",
        node.signing_key.to_pem().as_bytes(),
        0o600,
        force,
    )?;
    let record = PublicKeyRecord::of(&node.signing_key.public_key());
    let mut text = serde_json::to_string_pretty(&record).context("encoding a public key record")?;
    text.push('\n');
    write(node_dir, "signing.pub.json", text.as_bytes(), 0o644, force)?;
    Ok(())
}

/// The node `--conformance` certifies with the network's CA but leaves out
/// of the membership (the conformance suite's `ism1/8.1/10-peer-unknown`).
pub const STRANGER: &str = "conf.stranger";

/// `--conformance`: DIR/conformance/stranger (a certificate of this CA for a
/// node that is no member) and DIR/conformance/foreign (a certificate of
/// another CA for the first gateway's id); returns the membership without
/// the stranger.
fn conformance_extras(
    dir: &Path,
    name: &Text,
    network: &NetworkIdentity,
    nodes: &[NodeSpec],
    force: bool,
) -> anyhow::Result<Membership> {
    let conformance = dir.join("conformance");
    create_private_dir(&conformance)?;
    let stranger_dir = conformance.join("stranger");
    let stranger = network
        .node(STRANGER)
        .ok_or_else(|| anyhow::anyhow!("the stranger was not generated"))?;
    write_node(&stranger_dir, stranger, force)?;
    write(
        &stranger_dir,
        "node_id",
        format!("{STRANGER}\n").as_bytes(),
        0o644,
        force,
    )?;
    let members: Vec<_> = network
        .membership
        .members()
        .iter()
        .filter(|m| m.node_id.as_str() != STRANGER)
        .cloned()
        .collect();
    let membership = Membership::new(name.clone(), members)
        .map_err(|r| anyhow::anyhow!("the membership without the stranger: {}", r.message))?;
    let impostor: Vec<NodeSpec> = nodes
        .iter()
        .filter(|n| n.role == Role::Gateway)
        .take(1)
        .cloned()
        .collect();
    let elsewhere = Text::parse("another network")
        .map_err(|r| anyhow::anyhow!("the foreign network's name: {}", r.message))?;
    let foreign = NetworkIdentity::generate(&elsewhere, &impostor)
        .context("generating the foreign CA's certificate")?;
    let foreign_dir = conformance.join("foreign");
    create_private_dir(&foreign_dir)?;
    if let Some(node) = foreign.nodes.first() {
        write(
            &foreign_dir,
            "tls.pem",
            node.certificate_pem.as_bytes(),
            0o644,
            force,
        )?;
        write(
            &foreign_dir,
            "tls.key",
            node.tls_key_pem.as_bytes(),
            0o600,
            force,
        )?;
    }
    write(
        &foreign_dir,
        "ca.pem",
        foreign.ca_certificate_pem.as_bytes(),
        0o644,
        force,
    )?;
    Ok(membership)
}

fn write(dir: &Path, name: &str, contents: &[u8], mode: u32, force: bool) -> anyhow::Result<()> {
    let staged = stage(dir, name, contents, mode)?;
    install(staged, &dir.join(name), force)?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("flushing the directory {}", dir.display()))
}
