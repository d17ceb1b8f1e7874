//! `LogFiles::remove`, and which leftovers a writer clears: a log's own
//! temporary files (a crash during `create` leaves them), never anyone else's.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_store::log::{DiskLogFiles, LogFiles, MemoryLogFiles};

fn removes_durably_and_refuses_what_it_cannot(files: &dyn LogFiles, read_only: &dyn LogFiles) {
    files
        .create("snapshot-0000000000000001.bin", b"state", 5)
        .unwrap();
    assert!(
        read_only.remove("snapshot-0000000000000001.bin").is_err(),
        "a reader removes nothing"
    );
    assert_eq!(files.len("snapshot-0000000000000001.bin").unwrap(), Some(5));
    files.remove("snapshot-0000000000000001.bin").unwrap();
    assert_eq!(files.len("snapshot-0000000000000001.bin").unwrap(), None);
    assert!(!files
        .list()
        .unwrap()
        .contains(&"snapshot-0000000000000001.bin".to_string()));
    assert!(
        files.remove("snapshot-0000000000000001.bin").is_err(),
        "nothing to remove"
    );
}

#[test]
fn memory_files_remove_a_file_and_refuse_a_missing_one_or_a_reader() {
    let files = MemoryLogFiles::new();
    removes_durably_and_refuses_what_it_cannot(&files, &files.read_only_view());
    files.create("kept", b"x", 1).unwrap();
    files.crash();
    assert_eq!(
        files.list().unwrap(),
        ["kept"],
        "a removal survives a crash"
    );
}

#[test]
fn disk_files_remove_a_file_and_refuse_a_missing_one_or_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let files = DiskLogFiles::writer(dir.path()).unwrap();
    let reader = DiskLogFiles::read_only(dir.path()).unwrap();
    removes_durably_and_refuses_what_it_cannot(&files, &reader);
    assert!(!dir.path().join("snapshot-0000000000000001.bin").exists());
}

#[test]
fn a_writer_clears_a_logs_own_temporary_files_and_no_others() {
    let dir = tempfile::tempdir().unwrap();
    let own = [
        "FORMAT.tmp",
        "segment-0000000000000003.log.tmp",
        "torn-0000000000000000-64.bin.tmp",
        "snapshot-0000000000000009.bin.tmp",
    ];
    let others = [
        "notes.tmp",
        "snapshot-0000000000000009.txt.tmp",
        "segment-0000000000000003.bin.tmp",
        "mysnapshot-1.bin.tmp",
        "snapshot-0000000000000009.bin",
    ];
    for name in own.iter().chain(&others) {
        std::fs::write(dir.path().join(name), b"left over").unwrap();
    }
    drop(DiskLogFiles::writer(dir.path()).unwrap());
    for name in own {
        assert!(!dir.path().join(name).exists(), "{name} was not cleared");
    }
    for name in others {
        assert!(dir.path().join(name).exists(), "{name} was removed");
    }
}
