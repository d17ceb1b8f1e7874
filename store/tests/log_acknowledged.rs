//! Acknowledged batches are never set aside as torn: a damaged commit whose
//! batch is whole is damage; a write whose sync failed is written again.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_store::log::format::parse_segment;
use isthmus_store::log::{segment_name, MemoryLogFiles, SegmentLog, MIN_SEGMENT_BYTES};

const FORMAT: &[u8] = b"test log, format 1\n";

/// One flipped bit in the CRC of the last commit of an acknowledged batch
/// whose records (and whose batch CRC in the commit) all check out: the
/// batch was written whole, so it is damage; the writer refuses, and never
/// sets the acknowledged batch aside to reuse its record numbers.
#[test]
fn a_flip_in_the_last_commit_crc_drops_an_acknowledged_batch() {
    let files = MemoryLogFiles::new();
    let (mut log, _) = SegmentLog::open_with(files.clone(), FORMAT, MIN_SEGMENT_BYTES).unwrap();
    log.append([b"first".as_slice()]).unwrap();
    log.append([b"acknowledged A".as_slice(), b"acknowledged B".as_slice()])
        .unwrap();
    drop(log);
    let name = segment_name(0);
    let mut bytes = files.contents()[&name].clone();
    let records = parse_segment(&bytes).unwrap().records;
    let last = records[2];
    let commit = last.offset + 8 + last.payload.len();
    bytes[commit + 19] ^= 1; // the commit's own CRC
    files.put(&name, Some(bytes));
    let before = files.contents();
    match SegmentLog::open(files.clone(), FORMAT) {
        Err(isthmus_store::log::LogError::Damaged(damage)) => {
            assert!(!damage.torn, "{damage}");
            assert_eq!(damage.record, 3, "{damage}");
        }
        other => panic!("an acknowledged batch must not be set aside: {other:?}"),
    }
    assert_eq!(files.contents(), before);
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert_eq!(log.get(1).unwrap(), b"acknowledged A");
}

/// A write whose sync failed is readable but not durable, and a later sync
/// alone would not make it durable (as on Linux, the memory files drop its
/// dirty pages): the writer's open writes the journal's written bytes again
/// before it syncs, so what it then builds on survives a crash.
#[test]
fn a_write_whose_sync_failed_is_written_again_by_the_next_open() {
    let files = MemoryLogFiles::new();
    let (mut log, _) = SegmentLog::open_with(files.clone(), FORMAT, MIN_SEGMENT_BYTES).unwrap();
    files.fail_syncs(true);
    assert!(log.append([b"not durable".as_slice()]).is_err());
    files.fail_syncs(false);
    drop(log);
    let (log, _) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    assert_eq!(log.len(), 1);
    drop(log);
    files.crash();
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert_eq!(
        log.len(),
        1,
        "the reopened log acknowledged it, so it survives a crash"
    );
}
