//! A log's files in a directory on disk.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use fs2::FileExt as _;

use super::files::LogFiles;
use crate::error::{StoreError, StoreOp};

/// Length of each segment of a new log on disk: 64 MiB, preallocated
/// sparsely, so a segment holds ~150,000 ledger entries and its length never
/// changes as records are appended.
pub const DISK_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Whether `name` is a temporary file a log's `create` makes.
fn is_own_temporary(name: &str) -> bool {
    let Some(base) = name.strip_suffix(".tmp") else {
        return false;
    };
    base == super::FORMAT_FILE
        || (base.starts_with("segment-") && base.ends_with(".log"))
        || (base.starts_with("torn-") && base.ends_with(".bin"))
        || (base.starts_with("snapshot-") && base.ends_with(".bin"))
}

/// The files of a log in one directory. A writer holds an exclusive lock on
/// the directory's `LOCK` file for as long as it lives, so two writers never
/// share a log; a read-only handle opens every file `O_RDONLY`, takes
/// no lock and never creates, changes or removes anything.
#[derive(Debug)]
pub struct DiskLogFiles {
    dir: PathBuf,
    read_only: bool,
    /// Open handles of files written to, so an append costs one `pwrite`
    /// and one `fdatasync`, not an `open` too.
    handles: Mutex<HashMap<String, File>>,
    /// The writer's lock, released when this is dropped.
    _lock: Option<File>,
}

fn io(op: StoreOp) -> impl Fn(std::io::Error) -> StoreError {
    move |source| StoreError::Io { op, source }
}

/// The file a writer locks (empty; created by the first writer).
pub const LOCK_FILE: &str = "LOCK";

impl DiskLogFiles {
    /// The files of an existing directory, for reading only.
    pub fn read_only(dir: &Path) -> Result<DiskLogFiles, StoreError> {
        if !dir.is_dir() {
            return Err(StoreError::Io {
                op: StoreOp::Open,
                source: std::io::Error::new(
                    ErrorKind::NotFound,
                    format!("{} is not a directory", dir.display()),
                ),
            });
        }
        Ok(DiskLogFiles {
            dir: dir.to_path_buf(),
            read_only: true,
            handles: Mutex::default(),
            _lock: None,
        })
    }

    /// The files of a directory for writing, creating the directory if
    /// needed. Fails with [`StoreError::Busy`] if another writer has it: a
    /// writer holds an exclusive lock on the directory's `LOCK` file for as
    /// long as this lives.
    pub fn writer(dir: &Path) -> Result<DiskLogFiles, StoreError> {
        fs::create_dir_all(dir).map_err(io(StoreOp::Open))?;
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))
            .map_err(io(StoreOp::Open))?;
        if let Err(error) = lock.try_lock_exclusive() {
            if error.kind() == ErrorKind::WouldBlock
                || error.raw_os_error() == fs2::lock_contended_error().raw_os_error()
            {
                return Err(StoreError::Busy {
                    path: dir.to_path_buf(),
                    waited_ms: 0,
                });
            }
            return Err(io(StoreOp::Open)(error));
        }
        let files = DiskLogFiles {
            dir: dir.to_path_buf(),
            read_only: false,
            handles: Mutex::default(),
            _lock: Some(lock),
        };
        // What a crash during `create` left behind is no part of the log;
        // only the temporary names a log itself makes are removed.
        for name in files.names()? {
            if is_own_temporary(&name) {
                fs::remove_file(dir.join(&name)).map_err(io(StoreOp::Open))?;
            }
        }
        Ok(files)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn names(&self) -> Result<Vec<String>, StoreError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io(StoreOp::Read))? {
            let entry = entry.map_err(io(StoreOp::Read))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }

    fn handles(&self) -> MutexGuard<'_, HashMap<String, File>> {
        // A panic while the lock was held leaves the map of handles intact.
        self.handles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn refuse_if_read_only(&self, op: StoreOp) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::Backend {
                op,
                detail: format!("{} was opened for reading only", self.dir.display()),
            });
        }
        Ok(())
    }

    /// Runs `f` on the cached open handle of a file: for reading and
    /// writing, or for reading only (`O_RDONLY`) on a read-only handle.
    fn with_handle<T>(
        &self,
        name: &str,
        op: StoreOp,
        f: impl FnOnce(&File) -> std::io::Result<T>,
    ) -> Result<T, StoreError> {
        let mut handles = self.handles();
        if !handles.contains_key(name) {
            let file = OpenOptions::new()
                .read(true)
                .write(!self.read_only)
                .open(self.dir.join(name))
                .map_err(io(op))?;
            handles.insert(name.to_string(), file);
        }
        let file = handles.get(name).ok_or_else(|| StoreError::Backend {
            op,
            detail: format!("no handle of {name}"),
        })?;
        f(file).map_err(io(op))
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(StoreOp::Flush))
    }
}

impl DiskLogFiles {
    /// The path of a file of the log, if it is a regular file: a symbolic
    /// link, a FIFO or a device is never opened (a FIFO would block, a
    /// device could be endless).
    fn regular(&self, name: &str, op: StoreOp) -> Result<Option<PathBuf>, StoreError> {
        let path = self.dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_file() => Ok(Some(path)),
            Ok(_) => Err(StoreError::Corrupt {
                op,
                detail: format!("{name} is not a regular file"),
            }),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io(op)(error)),
        }
    }
}

impl LogFiles for DiskLogFiles {
    fn default_segment_bytes(&self) -> u64 {
        DISK_SEGMENT_BYTES
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        self.names()
    }

    fn len(&self, name: &str) -> Result<Option<u64>, StoreError> {
        match self.regular(name, StoreOp::Read)? {
            None => Ok(None),
            Some(path) => Ok(Some(
                fs::symlink_metadata(path).map_err(io(StoreOp::Read))?.len(),
            )),
        }
    }

    fn read(&self, name: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(path) = self.regular(name, StoreOp::Read)? else {
            return Ok(None);
        };
        let file = File::open(path).map_err(io(StoreOp::Read))?;
        let length = file.metadata().map_err(io(StoreOp::Read))?.len();
        if length > max_bytes {
            return Err(StoreError::Corrupt {
                op: StoreOp::Read,
                detail: format!("{name} is {length} bytes long, more than it may be ({max_bytes})"),
            });
        }
        // Read with a bound: the file may grow while it is read.
        let mut bytes = Vec::with_capacity(length as usize);
        std::io::Read::read_to_end(&mut std::io::Read::take(&file, max_bytes), &mut bytes)
            .map_err(io(StoreOp::Read))?;
        Ok(Some(bytes))
    }

    fn read_at(&self, name: &str, offset: u64, buffer: &mut [u8]) -> Result<(), StoreError> {
        if self.regular(name, StoreOp::Read)?.is_none() {
            return Err(io(StoreOp::Read)(std::io::Error::new(
                ErrorKind::NotFound,
                format!("no file {name}"),
            )));
        }
        self.with_handle(name, StoreOp::Read, |file| {
            file.read_exact_at(buffer, offset)
        })
    }

    fn create(&self, name: &str, contents: &[u8], total_bytes: u64) -> Result<(), StoreError> {
        self.refuse_if_read_only(StoreOp::Write)?;
        let path = self.dir.join(name);
        if fs::symlink_metadata(&path).is_ok() {
            return Err(StoreError::Backend {
                op: StoreOp::Write,
                detail: format!("{} exists already", path.display()),
            });
        }
        // Written whole under a temporary name and renamed: a crash part-way
        // leaves no file of the final name.
        let temporary = self.dir.join(format!("{name}.tmp"));
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)
            .map_err(io(StoreOp::Write))?;
        file.write_all(contents).map_err(io(StoreOp::Write))?;
        file.set_len(total_bytes.max(contents.len() as u64))
            .map_err(io(StoreOp::Write))?;
        file.sync_all().map_err(io(StoreOp::Flush))?;
        fs::rename(&temporary, &path).map_err(io(StoreOp::Write))?;
        self.sync_dir()
    }

    fn write_at(&self, name: &str, offset: u64, bytes: &[u8]) -> Result<(), StoreError> {
        self.refuse_if_read_only(StoreOp::Write)?;
        self.with_handle(name, StoreOp::Write, |file| {
            file.write_all_at(bytes, offset)
        })
    }

    fn sync(&self, name: &str) -> Result<(), StoreError> {
        self.refuse_if_read_only(StoreOp::Flush)?;
        // The file's length never changes after it is created, so its data
        // is all an append needs made durable.
        self.with_handle(name, StoreOp::Flush, File::sync_data)
    }

    fn remove(&self, name: &str) -> Result<(), StoreError> {
        self.refuse_if_read_only(StoreOp::Write)?;
        // Only a regular file of the log's directory: never what a link points to.
        let Some(path) = self.regular(name, StoreOp::Write)? else {
            return Err(io(StoreOp::Write)(std::io::Error::new(
                ErrorKind::NotFound,
                format!("no file {name}"),
            )));
        };
        self.handles().remove(name);
        fs::remove_file(path).map_err(io(StoreOp::Write))?;
        self.sync_dir()
    }
}
