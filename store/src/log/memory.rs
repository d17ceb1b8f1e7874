//! A log's files in memory, for tests and simulations: writes and syncs fail
//! on request, a crash drops every write not yet synced, and bytes can be
//! damaged as a disk would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::files::LogFiles;
use crate::error::{StoreError, StoreOp};

/// Length of each segment of a new log in memory: small, so tests cross
/// segment boundaries and allocate little.
pub const MEMORY_SEGMENT_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, Default)]
struct MemoryFile {
    /// What reads see (the page cache).
    bytes: Vec<u8>,
    /// What survives a crash (the disk).
    durable: Vec<u8>,
    /// Ranges written since the last sync (dirty pages).
    dirty: Vec<(usize, usize)>,
}

impl MemoryFile {
    fn durable(bytes: Vec<u8>) -> MemoryFile {
        MemoryFile {
            durable: bytes.clone(),
            bytes,
            dirty: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
struct Faults {
    fail_writes: AtomicBool,
    fail_syncs: AtomicBool,
    /// Syncs that still succeed before `fail_syncs` turns on (`u64::MAX`: no countdown).
    syncs_before_failing: AtomicU64,
}

/// A log's files in memory; clones share the same files, so a test keeps a
/// handle, drops the log and reopens it on what is left.
#[derive(Debug, Clone)]
pub struct MemoryLogFiles {
    files: Arc<Mutex<BTreeMap<String, MemoryFile>>>,
    segment_bytes: u64,
    faults: Arc<Faults>,
    read_only: bool,
}

impl Default for MemoryLogFiles {
    fn default() -> MemoryLogFiles {
        let faults = Faults::default();
        faults
            .syncs_before_failing
            .store(u64::MAX, Ordering::SeqCst);
        MemoryLogFiles {
            files: Arc::default(),
            faults: Arc::new(faults),
            read_only: false,
            segment_bytes: MEMORY_SEGMENT_BYTES,
        }
    }
}

impl MemoryLogFiles {
    /// No files.
    pub fn new() -> MemoryLogFiles {
        MemoryLogFiles::default()
    }

    /// No files; a log created on them gets segments of `segment_bytes`.
    pub fn with_segment_bytes(segment_bytes: u64) -> MemoryLogFiles {
        MemoryLogFiles {
            segment_bytes,
            ..MemoryLogFiles::default()
        }
    }

    /// A handle on the same files that may only read.
    pub fn read_only_view(&self) -> MemoryLogFiles {
        MemoryLogFiles {
            read_only: true,
            ..self.clone()
        }
    }

    /// Makes every later write fail (or succeed again) without writing anything.
    pub fn fail_writes(&self, fail: bool) {
        self.faults.fail_writes.store(fail, Ordering::SeqCst);
    }

    /// Makes every later sync fail (or succeed again), as an fsync error
    /// does on Linux: what was written stays readable but is not durable, and
    /// a later successful sync does not make it durable either (only writing
    /// it again does).
    pub fn fail_syncs(&self, fail: bool) {
        self.faults.fail_syncs.store(fail, Ordering::SeqCst);
        self.faults
            .syncs_before_failing
            .store(u64::MAX, Ordering::SeqCst);
    }

    /// Lets `successful` more syncs succeed, then fails every later one.
    pub fn fail_syncs_after(&self, successful: u64) {
        self.faults
            .syncs_before_failing
            .store(successful, Ordering::SeqCst);
    }

    /// A crash: every write not yet synced is lost.
    pub fn crash(&self) {
        for file in self.files().values_mut() {
            file.bytes = file.durable.clone();
            file.dirty.clear();
        }
    }

    /// Files with writes not yet synced.
    pub fn unsynced_files(&self) -> usize {
        self.files()
            .values()
            .filter(|f| f.bytes != f.durable)
            .count()
    }

    /// Every file's name and its bytes as reads see them.
    pub fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.files()
            .iter()
            .map(|(name, file)| (name.clone(), file.bytes.clone()))
            .collect()
    }

    /// Replaces a file's bytes durably, bypassing the log (damage, or a
    /// file put back); `None` removes the file.
    pub fn put(&self, name: &str, bytes: Option<Vec<u8>>) {
        let mut files = self.files();
        match bytes {
            Some(bytes) => {
                files.insert(name.to_string(), MemoryFile::durable(bytes));
            }
            None => {
                files.remove(name);
            }
        }
    }

    fn files(&self) -> MutexGuard<'_, BTreeMap<String, MemoryFile>> {
        // A panic while the lock was held (a failing test) leaves the files intact.
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn refuse_if_read_only(&self, op: StoreOp) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::Backend {
                op,
                detail: "the files were opened for reading only".into(),
            });
        }
        Ok(())
    }
}

fn missing(op: StoreOp, name: &str) -> StoreError {
    StoreError::Io {
        op,
        source: std::io::Error::new(std::io::ErrorKind::NotFound, format!("no file {name}")),
    }
}

impl LogFiles for MemoryLogFiles {
    fn default_segment_bytes(&self) -> u64 {
        self.segment_bytes
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.files().keys().cloned().collect())
    }

    fn len(&self, name: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.files().get(name).map(|f| f.bytes.len() as u64))
    }

    fn read(&self, name: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match self.files().get(name) {
            Some(file) if file.bytes.len() as u64 > max_bytes => Err(StoreError::Corrupt {
                op: StoreOp::Read,
                detail: format!(
                    "{name} is {} bytes long, more than it may be ({max_bytes})",
                    file.bytes.len()
                ),
            }),
            found => Ok(found.map(|f| f.bytes.clone())),
        }
    }

    fn read_at(&self, name: &str, offset: u64, buffer: &mut [u8]) -> Result<(), StoreError> {
        let files = self.files();
        let file = files
            .get(name)
            .ok_or_else(|| missing(StoreOp::Read, name))?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let bytes = start
            .checked_add(buffer.len())
            .and_then(|end| file.bytes.get(start..end))
            .ok_or_else(|| StoreError::Io {
                op: StoreOp::Read,
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("{name} ends before byte {}", offset + buffer.len() as u64),
                ),
            })?;
        buffer.copy_from_slice(bytes);
        Ok(())
    }

    fn create(&self, name: &str, contents: &[u8], total_bytes: u64) -> Result<(), StoreError> {
        self.refuse_if_read_only(StoreOp::Write)?;
        if self.faults.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::Injected { op: StoreOp::Write });
        }
        let mut files = self.files();
        if files.contains_key(name) {
            return Err(StoreError::Backend {
                op: StoreOp::Write,
                detail: format!("{name} exists already"),
            });
        }
        let mut bytes = contents.to_vec();
        bytes.resize(
            usize::try_from(total_bytes)
                .unwrap_or(usize::MAX)
                .max(contents.len()),
            0,
        );
        files.insert(name.to_string(), MemoryFile::durable(bytes));
        Ok(())
    }

    fn write_at(&self, name: &str, offset: u64, bytes: &[u8]) -> Result<(), StoreError> {
        self.refuse_if_read_only(StoreOp::Write)?;
        if self.faults.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::Injected { op: StoreOp::Write });
        }
        let mut files = self.files();
        let file = files
            .get_mut(name)
            .ok_or_else(|| missing(StoreOp::Write, name))?;
        // Files never grow after they are created, as on disk for a log.
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let Some(target) = start
            .checked_add(bytes.len())
            .and_then(|end| file.bytes.get_mut(start..end))
        else {
            return Err(StoreError::Backend {
                op: StoreOp::Write,
                detail: format!("a write past the end of {name}"),
            });
        };
        target.copy_from_slice(bytes);
        file.dirty.push((start, start + bytes.len()));
        Ok(())
    }

    fn sync(&self, name: &str) -> Result<(), StoreError> {
        self.refuse_if_read_only(StoreOp::Flush)?;
        let countdown = self.faults.syncs_before_failing.load(Ordering::SeqCst);
        if countdown == 0 {
            self.faults.fail_syncs.store(true, Ordering::SeqCst);
        } else if countdown != u64::MAX {
            self.faults
                .syncs_before_failing
                .store(countdown - 1, Ordering::SeqCst);
        }
        let mut files = self.files();
        let file = files
            .get_mut(name)
            .ok_or_else(|| missing(StoreOp::Flush, name))?;
        let dirty = std::mem::take(&mut file.dirty);
        if self.faults.fail_syncs.load(Ordering::SeqCst) {
            // As Linux does after a failed fsync: the pages are marked clean
            // without reaching the disk, so a later sync does not write them
            // (they stay readable until a crash).
            return Err(StoreError::Injected { op: StoreOp::Flush });
        }
        for (start, end) in dirty {
            let written = file.bytes[start..end].to_vec();
            file.durable[start..end].copy_from_slice(&written);
        }
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<(), StoreError> {
        self.refuse_if_read_only(StoreOp::Write)?;
        if self.faults.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::Injected { op: StoreOp::Write });
        }
        self.files()
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| missing(StoreOp::Write, name))
    }
}
