//! Where a log's segment files live: the only I/O a log does, behind a trait
//! so that tests fail writes and syncs, crash, or damage bytes on demand.

use crate::error::StoreError;

/// The files of one log, by name. Names are plain file names (no paths).
pub trait LogFiles {
    /// The length of each segment of a log created on these files: large
    /// on disk, where a segment is preallocated sparsely, small in memory.
    fn default_segment_bytes(&self) -> u64;
    /// Whether this handle may only read.
    fn read_only(&self) -> bool;
    /// The names of every file, in no particular order.
    fn list(&self) -> Result<Vec<String>, StoreError>;
    /// A file's length, `None` if it does not exist.
    fn len(&self, name: &str) -> Result<Option<u64>, StoreError>;
    /// A whole file, `None` if it does not exist; a file longer than
    /// `max_bytes` is refused, never read.
    fn read(&self, name: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Exactly `buffer.len()` bytes of a file from `offset`.
    fn read_at(&self, name: &str, offset: u64, buffer: &mut [u8]) -> Result<(), StoreError>;
    /// Creates a file durably (it and its name survive a crash once this
    /// returns): `contents`, then zeros up to `total_bytes`. Fails if the
    /// name exists. A crash part-way leaves no file of that name.
    fn create(&self, name: &str, contents: &[u8], total_bytes: u64) -> Result<(), StoreError>;
    /// Writes bytes into an existing file at `offset` (not yet durably).
    fn write_at(&self, name: &str, offset: u64, bytes: &[u8]) -> Result<(), StoreError>;
    /// Returns once every write to the file is durable.
    fn sync(&self, name: &str) -> Result<(), StoreError>;
    /// Removes a file durably (its name is gone after a crash once this
    /// returns). A log never removes its segments; its user removes the
    /// files of its own it keeps beside them (a ledger's snapshots).
    fn remove(&self, name: &str) -> Result<(), StoreError>;
}
