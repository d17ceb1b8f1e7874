//! Crash states around a roll-over: the successor segment created, the seal
//! of the segment before it cut short or followed by a stray byte. The
//! acknowledged records of that segment are never set aside.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use isthmus_store::log::format::{parse_segment, SegmentEnd};
use isthmus_store::log::{segment_name, LogError, MemoryLogFiles, SegmentLog, MIN_SEGMENT_BYTES};

const FORMAT: &[u8] = b"test log, format 1\n";

fn payload(n: u64) -> Vec<u8> {
    format!("record {n} {}", "x".repeat(40 + (n % 23) as usize)).into_bytes()
}

fn segments(files: &MemoryLogFiles) -> Vec<String> {
    files
        .contents()
        .keys()
        .filter(|n| n.starts_with("segment-"))
        .cloned()
        .collect()
}

fn count_all(files: &MemoryLogFiles) -> (u64, Option<String>) {
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    let mut n = 0;
    log.scan(0, &mut |_, _| {
        n += 1;
        true
    })
    .unwrap();
    (n, log.damage().map(|d| d.to_string()))
}

/// A log whose last append rolled over to segment 1, created and sealed
/// segment 0 durably, then crashed before the batch in segment 1 was synced:
/// segment 0 sealed, segment 1 empty and last (a legitimate crash state).
fn rolled_over_then_crashed() -> (MemoryLogFiles, u64) {
    let files = MemoryLogFiles::new();
    let (mut log, _) = SegmentLog::open_with(files.clone(), FORMAT, MIN_SEGMENT_BYTES).unwrap();
    let mut n = 0;
    loop {
        let p = payload(n);
        let seg0 = &files.contents()[&segment_name(0)];
        let SegmentEnd::Open { offset } = parse_segment(seg0).unwrap().end else {
            panic!()
        };
        if offset + 8 + p.len() + 20 + 8 > MIN_SEGMENT_BYTES as usize {
            // The next append rolls over: its roll-over sync succeeds, the batch's fails.
            files.fail_syncs_after(1);
            assert!(log.append([p.as_slice()]).is_err());
            break;
        }
        log.append([p.as_slice()]).unwrap();
        n += 1;
    }
    drop(log);
    files.crash();
    files.fail_syncs(false);
    assert_eq!(segments(&files).len(), 2);
    assert!(matches!(
        parse_segment(&files.contents()[&segment_name(0)])
            .unwrap()
            .end,
        SegmentEnd::Sealed { .. }
    ));
    (files, n)
}

#[test]
fn sanity_the_crash_state_reopens() {
    let (files, n) = rolled_over_then_crashed();
    assert_eq!(count_all(&files), (n, None));
    let (log, report) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    assert_eq!(report, Default::default());
    assert_eq!(log.len(), n);
}

/// One stray byte after segment 0's seal (damage: a later segment exists).
/// Expected: the writer refuses, or at worst sets aside that one byte.
/// Actual: set_aside uses `self.end` (segment 1's offset, 64) as the start in
/// segment 0, copies every acknowledged record of segment 0 to a torn file and
/// zeroes them in the segment.
#[test]
fn stray_byte_after_seal_before_empty_last_segment_wipes_acknowledged_records() {
    let (files, n) = rolled_over_then_crashed();
    let name = segment_name(0);
    let mut bytes = files.contents()[&name].clone();
    let last = bytes.len() - 1;
    bytes[last] = 1;
    files.put(&name, Some(bytes));
    eprintln!("read-only before: {:?}", count_all(&files));
    let opened = SegmentLog::open(files.clone(), FORMAT);
    eprintln!(
        "writer open: {:?}",
        opened.as_ref().map(|(l, r)| (l.len(), r.clone()))
    );
    let (records, damage) = count_all_lenient(&files);
    eprintln!("read-only after: {records} records, {damage:?}");
    assert_eq!(
        records, n,
        "acknowledged records of segment 0 must survive the writer's open"
    );
}

/// A power-loss crash state: roll-over created segment 1 durably, and of the
/// seal of segment 0 only its tag reached the disk (the 8-byte seal
/// straddles a sector boundary). No damage at all.
#[test]
fn partial_seal_before_empty_last_segment_wipes_acknowledged_records() {
    let (files, n) = rolled_over_then_crashed();
    let name = segment_name(0);
    let mut bytes = files.contents()[&name].clone();
    let SegmentEnd::Sealed { offset } = parse_segment(&bytes).unwrap().end else {
        panic!()
    };
    bytes[offset + 4..offset + 8].fill(0); // the seal's CRC did not persist
    files.put(&name, Some(bytes));
    eprintln!("read-only before: {:?}", count_all(&files));
    let opened = SegmentLog::open(files.clone(), FORMAT);
    match &opened {
        Ok((l, r)) => eprintln!("writer open: len {} {:?}", l.len(), r),
        Err(e) => eprintln!("writer open: {e}"),
    }
    let saved = files
        .contents()
        .into_iter()
        .filter(|(k, _)| k.starts_with("torn-"))
        .map(|(k, v)| (k, v.len()))
        .collect::<Vec<_>>();
    eprintln!("torn files: {saved:?}");
    let (records, damage) = count_all_lenient(&files);
    eprintln!("read-only after: {records} records, {damage:?}");
    assert_eq!(
        records, n,
        "acknowledged records of segment 0 must survive the writer's open"
    );
}

fn count_all_lenient(files: &MemoryLogFiles) -> (u64, Option<String>) {
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    let mut n = 0;
    let r = log.scan(0, &mut |_, _| {
        n += 1;
        true
    });
    (
        n,
        log.damage()
            .map(|d| d.to_string())
            .or(r.err().map(|e: LogError| e.to_string())),
    )
}
