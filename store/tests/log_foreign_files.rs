//! A writer or a reader pointed at a directory that is not (or no longer
//! quite) a log: nothing of anyone else's is touched, nothing blocks.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_store::log::{
    segment_name, DiskLogFiles, LogError, MemoryLogFiles, SegmentLog, FORMAT_FILE,
    MIN_SEGMENT_BYTES,
};
use isthmus_store::StoreError;

const FORMAT: &[u8] = b"test log, format 1\n";

/// A writer on a directory of someone else's files removes none of them
/// (only a log's own temporary names are cleared) and refuses it; its LOCK
/// file is the one thing it leaves.
#[test]
fn a_writer_on_a_foreign_directory_removes_nothing_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("thesis.tmp"), b"my work").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
    let files = DiskLogFiles::writer(dir.path()).unwrap();
    assert!(matches!(
        SegmentLog::open(files, FORMAT),
        Err(LogError::NotALog(_))
    ));
    assert!(
        dir.path().join("thesis.tmp").exists(),
        "a foreign .tmp file was deleted"
    );
    assert!(dir.path().join("notes.txt").exists());
}

/// A lost FORMAT file over a first segment whose first record is damaged is
/// not recreated: only a first segment with nothing written after its
/// header is a log whose creation a crash interrupted.
#[test]
fn a_lost_format_file_is_not_recreated_over_a_damaged_first_segment() {
    let files = MemoryLogFiles::new();
    let (mut log, _) = SegmentLog::open_with(files.clone(), FORMAT, MIN_SEGMENT_BYTES).unwrap();
    log.append([b"acknowledged record".as_slice()]).unwrap();
    drop(log);
    files.put(FORMAT_FILE, None);
    let name = segment_name(0);
    let mut bytes = files.contents()[&name].clone();
    bytes[64 + 8 + 3] ^= 1; // a flip in record 0's payload
    files.put(&name, Some(bytes));
    assert!(SegmentLog::open(files.clone(), FORMAT).is_err());
    assert!(
        !files.contents().contains_key(FORMAT_FILE),
        "FORMAT recreated over a log with records"
    );
}

/// A FIFO (or any file that is not a regular file) where a log's file should
/// be is refused at once, never opened: opening a FIFO blocks.
#[test]
fn a_fifo_in_place_of_a_log_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join(FORMAT_FILE))
        .status()
        .unwrap();
    assert!(status.success());
    let refused = SegmentLog::open_read_only(DiskLogFiles::read_only(dir.path()).unwrap(), FORMAT);
    match refused {
        Err(LogError::Store(StoreError::Corrupt { detail, .. })) => {
            assert!(detail.contains("not a regular file"), "{detail}")
        }
        other => panic!("{:?}", other.map(|l| l.len())),
    }
    // A symbolic link to a device, in place of a segment, is refused too.
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = SegmentLog::open(DiskLogFiles::writer(dir.path()).unwrap(), FORMAT).unwrap();
    drop(log);
    std::fs::remove_file(dir.path().join(segment_name(0))).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join(segment_name(0))).unwrap();
    let refused = SegmentLog::open_read_only(DiskLogFiles::read_only(dir.path()).unwrap(), FORMAT);
    assert!(matches!(
        refused,
        Err(LogError::Store(StoreError::Corrupt { .. }))
    ));
    let _ = MIN_SEGMENT_BYTES;
    let _ = MemoryLogFiles::new();
}
