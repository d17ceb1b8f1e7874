//! Reading a message from a file or standard input, with a size bound.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use anyhow::Context;
use isthmus_spec::limits::MAX_MESSAGE_BYTES;

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
