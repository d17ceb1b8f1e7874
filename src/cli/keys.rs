//! `isthmus keys …`: node signing keys.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use isthmus_spec::sign::{PublicKeyRecord, SigningKey};
use ring::rand::SystemRandom;

use super::output::Out;

const PRIVATE_FILE: &str = "signing.key";
const PUBLIC_FILE: &str = "signing.pub.json";

/// Writes `contents` to a new file readable only by its owner.
fn write_private(path: &Path, contents: &[u8], force: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)
        .with_context(|| format!("writing {}", path.display()))?;
    // The key must be on disk before we report it exists.
    file.sync_all()
        .with_context(|| format!("flushing {}", path.display()))?;
    Ok(())
}

/// Creates the key directory, readable only by its owner when we create it.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// `isthmus keys generate --out DIR`.
pub fn generate(out: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let private_path = out.join(PRIVATE_FILE);
    let public_path = out.join(PUBLIC_FILE);
    if !force && (private_path.exists() || public_path.exists()) {
        bail!(
            "{} already holds a key; refusing to overwrite it (pass --force to replace it)",
            out.display()
        );
    }
    create_private_dir(out)?;
    let key = SigningKey::generate(&SystemRandom::new()).context("generating an Ed25519 key")?;
    let record = PublicKeyRecord::of(&key.public_key());
    let mut public_text =
        serde_json::to_string_pretty(&record).context("encoding the public key record")?;
    public_text.push('\n');
    write_private(&private_path, key.to_pem().as_bytes(), force)?;
    fs::write(&public_path, public_text)
        .with_context(|| format!("writing {}", public_path.display()))?;
    report(&record.key_id.to_string(), &private_path, &public_path).map_err(|error| {
        anyhow!(
            "the key {} was written to {} and {}, but {error}",
            record.key_id,
            private_path.display(),
            public_path.display()
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

fn report(key_id: &str, private_path: &Path, public_path: &Path) -> anyhow::Result<()> {
    let mut out = Out::new();
    writeln!(out, "key id      {key_id}")?;
    writeln!(
        out,
        "private key {} (keep secret; mode 0600)",
        private_path.display()
    )?;
    writeln!(
        out,
        "public key  {} (publish in the network membership file)",
        public_path.display()
    )?;
    out.finish()?;
    Ok(())
}
