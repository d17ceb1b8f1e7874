//! `isthmus keys …`: node signing keys.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use isthmus_spec::sign::{PublicKeyRecord, SigningKey};
use ring::rand::SystemRandom;
use tempfile::NamedTempFile;

use super::output::Out;

const PRIVATE_FILE: &str = "signing.key";
const PUBLIC_FILE: &str = "signing.pub.json";

/// Writes `contents` in full, and flushed to disk, to a fresh file in `dir`
/// (created with `O_CREAT|O_EXCL` and `mode`, so that no existing file, link
/// or symlink is ever written through), to be moved to its name by [`install`].
pub(super) fn stage(
    dir: &Path,
    name: &str,
    contents: &[u8],
    mode: u32,
) -> anyhow::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{name}.");
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file for {name} in {}", dir.display()))?;
    file.write_all(contents)
        .with_context(|| format!("writing {}", file.path().display()))?;
    // The key must be on disk before its name points at it.
    file.as_file()
        .sync_all()
        .with_context(|| format!("flushing {}", file.path().display()))?;
    Ok(file)
}

/// Gives a staged file its final name in one step: `rename` replaces whatever
/// the name was (a file, a hard link, a symlink: the name, never its target);
/// without `force` an existing name is refused instead. The temporary file is
/// removed if this fails.
pub(super) fn install(staged: NamedTempFile, path: &Path, force: bool) -> anyhow::Result<()> {
    let installed = if force {
        staged.persist(path)
    } else {
        staged.persist_noclobber(path)
    };
    installed
        .map(drop)
        .map_err(|failure| anyhow!("{}: {}", path.display(), failure.error))
}

/// Creates the key directory, readable only by its owner when we create it.
pub(super) fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
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

/// Whether anything, even a dangling symlink, has this name.
pub(super) fn name_taken(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// `isthmus keys generate --out DIR`.
pub fn generate(out: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let private_path = out.join(PRIVATE_FILE);
    let public_path = out.join(PUBLIC_FILE);
    if !force && (name_taken(&private_path) || name_taken(&public_path)) {
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
    let private_staged = stage(out, PRIVATE_FILE, key.to_pem().as_bytes(), 0o600)?;
    let public_staged = stage(out, PUBLIC_FILE, public_text.as_bytes(), 0o644)?;
    install(private_staged, &private_path, force).context("installing the signing key")?;
    if let Err(error) = install(public_staged, &public_path, force) {
        if !force {
            // Someone created the public file meanwhile: leave the directory as it was.
            let _ = fs::remove_file(&private_path);
        }
        return Err(error.context(if force {
            "installing the public key record (the signing key was already replaced: run again)"
        } else {
            "installing the public key record"
        }));
    }
    // The new names must be on disk too before we report the key exists.
    File::open(out)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("flushing the directory {}", out.display()))?;
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
