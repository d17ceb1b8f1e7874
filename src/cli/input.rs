//! Reading the CLI's inputs, each with a size bound: nothing is read whole
//! without one (a `/dev/zero` given as a key must not fill the memory).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use anyhow::{bail, Context};
use isthmus_spec::limits::MAX_MESSAGE_BYTES;

/// The largest key file read: a signing key (PKCS#8 PEM, about 120 bytes) or
/// a public key record (about 150 bytes), with ample room for comments and
/// pretty-printing.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Reads at most one byte more than the largest message, so that an oversize
/// input is refused by the decoder with its reason code instead of being
/// read whole into memory.
pub fn read_bounded(path: &Path) -> anyhow::Result<Vec<u8>> {
    let limit = (MAX_MESSAGE_BYTES + 1) as u64;
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        file.take(limit)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(bytes)
}

/// Reads a whole UTF-8 text file of at most `limit` bytes; a larger one is
/// refused, naming the file (as `what`) and the limit, after reading one byte
/// past the limit at most.
pub fn read_text_limited(path: &Path, limit: u64, what: &str) -> anyhow::Result<String> {
    let file = File::open(path).with_context(|| format!("opening {what} {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!(
            "{what} {} is larger than {limit} bytes, the most this command reads; refusing it",
            path.display()
        );
    }
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{what} {} is not UTF-8 text", path.display()))
}
