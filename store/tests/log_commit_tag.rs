//! A payload that holds a commit's tag could make a torn write of it look
//! like damage (a commit after the bad bytes): appends refuse such payloads.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_store::log::format::encode_batch;
use isthmus_store::log::{LogError, MemoryLogFiles, SegmentLog, MIN_SEGMENT_BYTES};

const FORMAT: &[u8] = b"test log, format 1\n";

#[test]
fn a_payload_holding_a_commit_tag_is_refused_before_anything_is_written() {
    let files = MemoryLogFiles::new();
    let (mut log, _) = SegmentLog::open_with(files.clone(), FORMAT, MIN_SEGMENT_BYTES).unwrap();
    log.append([b"first".as_slice()]).unwrap();
    let before = files.contents();
    let inner = encode_batch([b"inner".as_slice()]);
    assert!(matches!(
        log.append([b"fine".as_slice(), inner.as_slice()]),
        Err(LogError::Refused(_))
    ));
    assert!(matches!(
        log.append([[0xFF, 0xFF, 0xFF, 0xFE].as_slice()]),
        Err(LogError::Refused(_))
    ));
    assert_eq!(files.contents(), before);
    // Three of its bytes, or 0xFF bytes elsewhere, are fine.
    log.append([
        [0xFF, 0xFF, 0xFF, 0x00, 0xFE].as_slice(),
        [0xFF, 0xFE].as_slice(),
    ])
    .unwrap();
    assert_eq!(log.len(), 3);
}
