//! The append-only segment log: what it keeps, what a crash costs it, and
//! how it reports every kind of damage without ever writing when read.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use isthmus_store::log::format::{encode_batch, parse_segment, HEADER_BYTES};
use isthmus_store::log::{
    segment_name, DiskLogFiles, LogError, LogFiles, MemoryLogFiles, SegmentLog, FORMAT_FILE,
    MIN_SEGMENT_BYTES,
};
use isthmus_store::StoreError;
use proptest::prelude::*;

const FORMAT: &[u8] = b"test log, format 1\n";

fn payload(n: u64) -> Vec<u8> {
    // Records of varied lengths, none empty.
    format!("record {n} {}", "x".repeat(40 + (n % 23) as usize)).into_bytes()
}

/// A log of small segments holding `batches` batches of `per_batch` records.
fn filled(batches: u64, per_batch: u64) -> (MemoryLogFiles, Vec<Vec<u8>>) {
    let files = MemoryLogFiles::new();
    let (mut log, report) =
        SegmentLog::open_with(files.clone(), FORMAT, MIN_SEGMENT_BYTES).unwrap();
    assert_eq!(report, Default::default());
    let mut all = Vec::new();
    for b in 0..batches {
        let batch: Vec<Vec<u8>> = (0..per_batch).map(|i| payload(b * per_batch + i)).collect();
        log.append(batch.iter().map(Vec::as_slice)).unwrap();
        all.extend(batch);
    }
    (files, all)
}

/// New memory files holding the same bytes, to damage without touching the original.
fn copy_of(files: &MemoryLogFiles) -> MemoryLogFiles {
    let copy = MemoryLogFiles::new();
    for (name, bytes) in files.contents() {
        copy.put(&name, Some(bytes));
    }
    copy
}

/// How many segment files the log has.
fn segment_count(files: &MemoryLogFiles) -> u64 {
    files
        .contents()
        .keys()
        .filter(|n| n.starts_with("segment-"))
        .count() as u64
}

fn read_all(log: &SegmentLog<MemoryLogFiles>) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    log.scan(0, &mut |n, bytes| {
        assert_eq!(n, seen.len() as u64, "records come in order");
        seen.push(bytes.to_vec());
        true
    })
    .unwrap();
    seen
}

#[test]
fn records_come_back_in_order_across_segments_and_reopens() {
    let (files, written) = filled(40, 5);
    let contents = files.contents();
    let segments = contents
        .keys()
        .filter(|n| n.starts_with("segment-"))
        .count();
    assert!(segments > 3, "small segments roll over: {segments}");
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert_eq!(log.damage(), None);
    assert_eq!(log.len(), 200);
    assert_eq!(read_all(&log), written);
    for n in [0, 1, 57, 199] {
        assert_eq!(log.get(n).unwrap(), written[n as usize]);
    }
    assert!(matches!(log.get(200), Err(LogError::Refused(_))));
    // A scan from the middle starts there and stops when told.
    let mut seen = Vec::new();
    log.scan(120, &mut |n, _| {
        seen.push(n);
        seen.len() < 3
    })
    .unwrap();
    assert_eq!(seen, [120, 121, 122]);
    // The writer reopens on the same files and appends after the last record.
    let (mut log, report) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    assert_eq!(report, Default::default());
    log.append([b"after".as_slice()]).unwrap();
    assert_eq!(log.get(200).unwrap(), b"after");
    assert_eq!(
        files.unsynced_files(),
        0,
        "an append is durable when it returns"
    );
}

#[test]
fn a_batch_that_fails_to_sync_is_gone_after_a_crash_and_the_log_stops() {
    let (files, written) = filled(3, 4);
    let (mut log, _) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    files.fail_syncs(true);
    let failed = log.append([b"lost".as_slice()]).unwrap_err();
    assert!(failed.may_have_written(), "{failed}");
    files.fail_syncs(false);
    assert!(
        matches!(log.append([b"next".as_slice()]), Err(LogError::Refused(_))),
        "a log whose write failed refuses more until reopened"
    );
    files.crash();
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert_eq!((log.len(), log.damage()), (12, None));
    assert_eq!(read_all(&log), written);
}

#[test]
fn records_and_batches_are_checked_before_anything_is_written() {
    let (files, _) = filled(1, 1);
    let (mut log, _) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    let before = files.contents();
    assert!(matches!(
        log.append([b"".as_slice()]),
        Err(LogError::Refused(_))
    ));
    let too_big = vec![1u8; log.max_batch_bytes()];
    assert!(matches!(
        log.append([too_big.as_slice()]),
        Err(LogError::Refused(_))
    ));
    log.append(std::iter::empty::<&[u8]>()).unwrap();
    assert_eq!(files.contents(), before, "nothing written");
    // The largest batch that fits an empty segment is taken.
    let fits = vec![2u8; log.max_batch_bytes() - 8 - 20];
    log.append([fits.as_slice()]).unwrap();
    assert_eq!(log.get(1).unwrap(), fits);
}

/// The last segment's name and bytes.
fn last_segment(files: &MemoryLogFiles) -> (String, Vec<u8>) {
    let contents = files.contents();
    let (name, bytes) = contents
        .iter()
        .rfind(|(n, _)| n.starts_with("segment-"))
        .unwrap();
    (name.clone(), bytes.clone())
}

#[test]
fn a_torn_last_write_is_reported_read_only_and_set_aside_by_the_writer() {
    let (files, written) = filled(3, 4);
    let (name, mut bytes) = last_segment(&files);
    let end = match parse_segment(&bytes).unwrap().end {
        isthmus_store::log::format::SegmentEnd::Open { offset } => offset,
        other => panic!("{other:?}"),
    };
    // Half a batch reached the file before the crash: no commit after it.
    let batch = encode_batch([b"torn one".as_slice(), b"torn two".as_slice()]);
    let half = &batch[..batch.len() / 2];
    bytes[end..end + half.len()].copy_from_slice(half);
    files.put(&name, Some(bytes));
    let before = files.contents();

    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    let damage = log.damage().unwrap().clone();
    assert!(damage.torn, "{damage}");
    assert_eq!((damage.record, damage.file.as_str()), (12, name.as_str()));
    assert!(damage.to_string().contains("crash"), "{damage}");
    assert_eq!(read_all(&log), written, "every whole batch is read");
    assert_eq!(files.contents(), before, "reading writes nothing");

    let (mut log, report) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    let (torn, saved) = report.torn_tail_saved.unwrap();
    assert_eq!(torn, damage);
    assert_eq!(
        files.contents()[&saved],
        half,
        "the torn bytes are kept, exactly"
    );
    assert_eq!(log.len(), 12);
    log.append([b"after the crash".as_slice()]).unwrap();
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert_eq!(log.damage(), None);
    assert_eq!(log.get(12).unwrap(), b"after the crash");
}

#[test]
fn damage_before_a_commit_is_refused_by_the_writer_and_named_by_the_reader() {
    let (files, written) = filled(3, 4);
    let name = segment_name(0);
    let pristine = files.contents()[&name].clone();
    let records = parse_segment(&pristine).unwrap().records;
    // Record 6 (the third of the second batch), and the last record of the log.
    for (target, record) in [(6usize, records[6]), (11, records[11])] {
        let mut damaged = pristine.clone();
        damaged[record.offset + 8 + record.payload.len() / 2] ^= 0x40;
        files.put(&name, Some(damaged));
        let before = files.contents();
        let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
        let damage = log.damage().unwrap().clone();
        assert!(!damage.torn, "a commit follows: damage, {damage}");
        assert_eq!(damage.record, target as u64, "{damage}");
        assert_eq!(damage.offset, record.offset as u64);
        assert_eq!(
            read_all(&log),
            written[..target],
            "records before it are read"
        );
        match SegmentLog::open(files.clone(), FORMAT) {
            Err(LogError::Damaged(refused)) => assert_eq!(refused, damage),
            other => panic!("{other:?}"),
        }
        assert_eq!(files.contents(), before, "refusing writes nothing");
    }
}

#[test]
fn lost_segments_truncations_and_stray_bytes_are_damage() {
    let (files, _) = filled(40, 5);
    let count = segment_count(&files);
    let check = |change: &dyn Fn(&MemoryLogFiles), expect: &str| {
        let copy = copy_of(&files);
        change(&copy);
        let before = copy.contents();
        let log = SegmentLog::open_read_only(copy.read_only_view(), FORMAT).unwrap();
        let damage = log.damage().unwrap_or_else(|| panic!("{expect}: not seen"));
        assert!(damage.to_string().contains(expect), "{damage}");
        assert!(!damage.torn, "{damage}");
        assert!(SegmentLog::open(copy.clone(), FORMAT).is_err(), "{expect}");
        assert_eq!(copy.contents(), before);
    };
    let stray_byte = |name: String| {
        move |f: &MemoryLogFiles| {
            let mut bytes = f.contents()[&name].clone();
            let last = bytes.len() - 1;
            bytes[last] = 1;
            f.put(&name, Some(bytes));
        }
    };
    check(&|f| f.put(&segment_name(count - 1), None), "missing");
    {
        // The lost last segment is named, not the sealed one before it.
        let copy = copy_of(&files);
        copy.put(&segment_name(count - 1), None);
        let log = SegmentLog::open_read_only(copy.read_only_view(), FORMAT).unwrap();
        assert_eq!(log.damage().unwrap().file, segment_name(count - 1));
    }
    check(&|f| f.put(&segment_name(0), None), "missing");
    check(&|f| f.put(&segment_name(2), None), "missing");
    check(
        &|f| {
            let mut bytes = f.contents()[&segment_name(1)].clone();
            bytes.truncate(1000);
            f.put(&segment_name(1), Some(bytes));
        },
        "cut short",
    );
    // A stray byte after a sealed segment's seal: nothing a crash leaves
    // there, since a later segment exists.
    check(&stray_byte(segment_name(1)), "more segments follow");
    // In the last segment, no commit follows it: as a crash may leave it,
    // reported as torn, and set aside by the writer, never dropped.
    let torn = copy_of(&files);
    stray_byte(segment_name(count - 1))(&torn);
    let log = SegmentLog::open_read_only(torn.read_only_view(), FORMAT).unwrap();
    assert!(log
        .damage()
        .is_some_and(|d| d.torn && d.record == 200 && d.offset == MIN_SEGMENT_BYTES - 1));
    let (_, report) = SegmentLog::open(torn.clone(), FORMAT).unwrap();
    let (_, saved) = report.torn_tail_saved.unwrap();
    assert_eq!(torn.contents()[&saved].last(), Some(&1));
    check(
        &|f| {
            let mut bytes = f.contents()[&segment_name(1)].clone();
            bytes[20] ^= 1;
            f.put(&segment_name(1), Some(bytes));
        },
        "header",
    );
}

#[test]
fn a_directory_that_holds_no_log_is_refused_and_left_alone() {
    let empty = MemoryLogFiles::new();
    assert!(matches!(
        SegmentLog::open_read_only(empty.read_only_view(), FORMAT),
        Err(LogError::NotALog(_))
    ));
    assert!(empty.contents().is_empty());
    let (files, _) = filled(2, 2);
    assert!(matches!(
        SegmentLog::open_read_only(files.read_only_view(), b"another kind\n"),
        Err(LogError::NotALog(_))
    ));
    // Nor is a new log made among someone else's files.
    let unrelated = MemoryLogFiles::new();
    unrelated.put("notes.txt", Some(b"mine".to_vec()));
    assert!(matches!(
        SegmentLog::open(unrelated.clone(), FORMAT),
        Err(LogError::NotALog(_))
    ));
    assert_eq!(unrelated.contents().len(), 1);
    // Files named like a log's leftovers in part only are someone else's too.
    for name in ["data.bin", "torn-notes.txt"] {
        let other = MemoryLogFiles::new();
        other.put(name, Some(b"mine".to_vec()));
        assert!(
            matches!(
                SegmentLog::open(other.clone(), FORMAT),
                Err(LogError::NotALog(_))
            ),
            "{name}"
        );
    }
    // A log whose FORMAT file is gone is not silently recreated over its records.
    files.put(FORMAT_FILE, None);
    let before = files.contents();
    assert!(matches!(
        SegmentLog::open(files.clone(), FORMAT),
        Err(LogError::NotALog(_))
    ));
    assert_eq!(files.contents(), before);
}

#[test]
fn a_crash_while_creating_a_log_or_rolling_over_is_finished_on_open() {
    // Creation cut after the first segment: no FORMAT file, an empty segment.
    let files = MemoryLogFiles::new();
    let (log, _) = SegmentLog::open_with(files.clone(), FORMAT, MIN_SEGMENT_BYTES).unwrap();
    drop(log);
    files.put(FORMAT_FILE, None);
    let (mut log, _) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    log.append([b"first".as_slice()]).unwrap();
    assert_eq!(files.contents()[FORMAT_FILE], FORMAT);

    // Roll-over cut after the next segment was created, before this one was sealed.
    let (files, written) = filled(2, 2);
    let header = isthmus_store::log::format::SegmentHeader {
        segment: 1,
        first_record: 4,
        segment_bytes: MIN_SEGMENT_BYTES,
    };
    files
        .create(&segment_name(1), &header.encode(), MIN_SEGMENT_BYTES)
        .unwrap();
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert_eq!((log.damage(), log.len()), (None, 4));
    let (mut log, report) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    assert_eq!(report.sealed_on_open, Some(segment_name(0)));
    log.append([b"into segment 1".as_slice()]).unwrap();
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert_eq!(log.damage(), None);
    assert_eq!(read_all(&log)[..4], written[..]);
    assert_eq!(log.get(4).unwrap(), b"into segment 1");
}

#[test]
fn on_disk_a_reader_creates_nothing_and_a_second_writer_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let names = |dir: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let refused = SegmentLog::open_read_only(DiskLogFiles::read_only(dir.path()).unwrap(), FORMAT);
    assert!(matches!(refused, Err(LogError::NotALog(_))));
    assert!(names(dir.path()).is_empty(), "a reader creates nothing");
    assert!(DiskLogFiles::read_only(&dir.path().join("absent")).is_err());
    assert!(!dir.path().join("absent").exists());

    let writer = DiskLogFiles::writer(dir.path()).unwrap();
    let (mut log, _) = SegmentLog::open(writer, FORMAT).unwrap();
    log.append([b"one".as_slice(), b"two".as_slice()]).unwrap();
    assert!(matches!(
        DiskLogFiles::writer(dir.path()),
        Err(StoreError::Busy { .. })
    ));
    let listed = names(dir.path());
    assert_eq!(listed, ["FORMAT", "LOCK", &segment_name(0)]);
    let before: BTreeMap<String, Vec<u8>> = listed
        .iter()
        .map(|n| (n.clone(), std::fs::read(dir.path().join(n)).unwrap()))
        .collect();
    let reader =
        SegmentLog::open_read_only(DiskLogFiles::read_only(dir.path()).unwrap(), FORMAT).unwrap();
    assert_eq!((reader.len(), reader.get(1).unwrap()), (2, b"two".to_vec()));
    drop(log);
    let after: BTreeMap<String, Vec<u8>> = names(dir.path())
        .iter()
        .map(|n| (n.clone(), std::fs::read(dir.path().join(n)).unwrap()))
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        std::fs::metadata(dir.path().join(segment_name(0)))
            .unwrap()
            .len(),
        isthmus_store::log::DISK_SEGMENT_BYTES,
        "segments are preallocated"
    );
}

#[derive(Debug, Clone)]
enum Damage {
    Flip { file: usize, at: usize, mask: u8 },
    Truncate { file: usize, to: usize },
    Delete { file: usize },
}

fn damage_strategy() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0..8usize, any::<usize>(), 1..=255u8).prop_map(|(file, at, mask)| Damage::Flip {
            file,
            at,
            mask
        }),
        (0..8usize, any::<usize>()).prop_map(|(file, to)| Damage::Truncate { file, to }),
        (0..8usize).prop_map(|file| Damage::Delete { file }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever happens to the files, a read-only open never panics and
    /// never writes; either it reads every record as written, or it names
    /// the first record it cannot read, and every record before that one
    /// is exactly as written.
    #[test]
    fn any_damage_is_found_or_harmless_and_reading_never_writes(damage in damage_strategy()) {
        let (files, written) = filled(12, 4);
        let names: Vec<String> = files.contents().keys().cloned().collect();
        let apply = |file: usize| names[file % names.len()].clone();
        match damage {
            Damage::Flip { file, at, mask } => {
                let name = apply(file);
                let mut bytes = files.contents()[&name].clone();
                let len = bytes.len();
                bytes[at % len] ^= mask;
                files.put(&name, Some(bytes));
            }
            Damage::Truncate { file, to } => {
                let name = apply(file);
                let mut bytes = files.contents()[&name].clone();
                let len = bytes.len();
                bytes.truncate(to % len);
                files.put(&name, Some(bytes));
            }
            Damage::Delete { file } => files.put(&apply(file), None),
        }
        let before = files.contents();
        match SegmentLog::open_read_only(files.read_only_view(), FORMAT) {
            Err(LogError::NotALog(_)) => {
                prop_assert!(files.contents().get(FORMAT_FILE).is_none_or(|f| f != FORMAT));
            }
            Err(other) => prop_assert!(false, "{other}"),
            Ok(log) => {
                let read = read_all(&log);
                match log.damage() {
                    None => prop_assert_eq!(&read, &written),
                    Some(damage) => {
                        prop_assert_eq!(damage.record, read.len() as u64);
                        prop_assert!(read.len() < written.len() || damage.offset >= HEADER_BYTES as u64);
                        prop_assert_eq!(&read[..], &written[..read.len()]);
                    }
                }
            }
        }
        prop_assert_eq!(files.contents(), before);
    }
}

#[test]
fn only_failed_writes_and_syncs_may_have_written() {
    use isthmus_store::StoreOp;
    let store = |op| {
        LogError::Store(StoreError::Io {
            op,
            source: std::io::Error::other("disk"),
        })
    };
    assert!(store(StoreOp::Write).may_have_written());
    assert!(store(StoreOp::Flush).may_have_written());
    assert!(!store(StoreOp::Read).may_have_written());
    assert!(!LogError::Refused("no".into()).may_have_written());
    assert!(!LogError::NotALog("no".into()).may_have_written());
}

#[test]
fn files_that_are_not_segment_names_are_no_part_of_the_log() {
    let (files, written) = filled(3, 2);
    // Not 16 lower-case hex digits: not a segment, whatever they hold.
    for stray in [
        "segment-1.log",
        "segment-000000000000000A.log",
        "segment-00000000000000001.log",
    ] {
        files.put(stray, Some(b"garbage".to_vec()));
    }
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert_eq!((log.damage(), read_all(&log)), (None, written));
}

#[test]
fn an_empty_log_reopens_and_leftover_temporaries_do_not_stop_a_new_one() {
    let files = MemoryLogFiles::new();
    drop(SegmentLog::open(files.clone(), FORMAT).unwrap());
    // Reopened with no record yet: its FORMAT exists and is not made again.
    let (mut log, report) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    assert_eq!(report, Default::default());
    log.append([b"one".as_slice()]).unwrap();
    // A directory holding only what a log itself leaves behind becomes a log.
    let leftovers = MemoryLogFiles::new();
    leftovers.put("segment-0000000000000000.log.tmp", Some(vec![1, 2, 3]));
    leftovers.put("torn-segment-0000000000000000-64.bin", Some(vec![4]));
    leftovers.put(isthmus_store::log::LOCK_FILE, Some(Vec::new()));
    let (log, _) = SegmentLog::open(leftovers.clone(), FORMAT).unwrap();
    assert_eq!(log.len(), 0);
    assert_eq!(leftovers.contents()[FORMAT_FILE], FORMAT);
}

#[test]
fn a_format_file_too_long_to_be_one_is_not_a_log() {
    let (files, _) = filled(1, 1);
    for length in [4096usize, 4097, 1 << 20] {
        let mut long = FORMAT.to_vec();
        long.resize(length, b'x');
        files.put(FORMAT_FILE, Some(long));
        match SegmentLog::open_read_only(files.read_only_view(), FORMAT) {
            Err(LogError::NotALog(why)) => assert!(
                why.contains(if length > 4096 {
                    "longer"
                } else {
                    "does not say"
                }),
                "{length}: {why}"
            ),
            other => panic!("{length}: {:?}", other.map(|l| l.len())),
        }
    }
}

#[test]
fn a_segment_of_another_length_than_the_first_is_damage() {
    let (files, _) = filled(40, 5);
    let name = segment_name(1);
    let bytes = files.contents()[&name].clone();
    let mut header = isthmus_store::log::format::SegmentHeader::decode(&bytes).unwrap();
    header.segment_bytes *= 2;
    let mut longer = bytes.clone();
    longer.resize(header.segment_bytes as usize, 0);
    longer[..HEADER_BYTES].copy_from_slice(&header.encode());
    files.put(&name, Some(longer));
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    let damage = log.damage().unwrap();
    assert_eq!(damage.file, name);
    assert!(
        damage.problem.contains("the log's segments are"),
        "{damage}"
    );
    // A segment exactly as long as a header, or shorter, is cut short.
    for length in [HEADER_BYTES, HEADER_BYTES - 1] {
        files.put(&name, Some(bytes[..length].to_vec()));
        let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
        let problem = &log.damage().unwrap().problem;
        let expected = if length == HEADER_BYTES {
            "cut short"
        } else {
            "shorter than a segment header"
        };
        assert!(problem.contains(expected), "{length}: {problem}");
    }
}

#[test]
fn a_batch_rolls_over_exactly_when_it_and_a_seal_would_not_fit() {
    let files = MemoryLogFiles::new();
    let (mut log, _) = SegmentLog::open_with(files.clone(), FORMAT, MIN_SEGMENT_BYTES).unwrap();
    assert!(log.is_empty());
    assert_eq!(
        log.max_batch_bytes(),
        MIN_SEGMENT_BYTES as usize - HEADER_BYTES - 8
    );
    log.append([b"a".as_slice()]).unwrap();
    assert!(!log.is_empty());
    // After the first batch (64 + 29 bytes), a batch of 28 + 3967 bytes and
    // the seal end exactly at the end of the segment: it stays in segment 0.
    let (stays, rolls) = (vec![b's'; 3967], vec![b'r'; 3968]);
    let copy = copy_of(&files);
    log.append([stays.as_slice()]).unwrap();
    assert!(!files.contents().contains_key(&segment_name(1)));
    assert_eq!(
        parse_segment(&files.contents()[&segment_name(0)])
            .unwrap()
            .records
            .len(),
        2
    );
    // One byte more and it goes to a new segment, the first one sealed.
    let (mut log, _) = SegmentLog::open(copy.clone(), FORMAT).unwrap();
    log.append([rolls.as_slice()]).unwrap();
    let contents = copy.contents();
    assert_eq!(
        parse_segment(&contents[&segment_name(1)])
            .unwrap()
            .records
            .len(),
        1
    );
    assert!(matches!(
        parse_segment(&contents[&segment_name(0)]).unwrap().end,
        isthmus_store::log::format::SegmentEnd::Sealed { .. }
    ));
    assert_eq!(log.get(1).unwrap(), rolls);
}

#[test]
fn a_record_of_the_largest_size_is_taken_and_one_byte_more_is_not() {
    use isthmus_store::log::format::MAX_RECORD_BYTES;
    let files = MemoryLogFiles::with_segment_bytes(MAX_RECORD_BYTES as u64 + 4096);
    let (mut log, _) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    let largest = vec![7u8; MAX_RECORD_BYTES];
    log.append([largest.as_slice()]).unwrap();
    let too_large = vec![7u8; MAX_RECORD_BYTES + 1];
    assert!(matches!(
        log.append([too_large.as_slice()]),
        Err(LogError::Refused(_))
    ));
    assert_eq!(log.len(), 1);
}

#[test]
fn a_second_torn_tail_at_the_same_place_is_kept_beside_the_first() {
    let (files, _) = filled(2, 2);
    let tear = |files: &MemoryLogFiles| {
        let (name, mut bytes) = last_segment(files);
        let end = match parse_segment(&bytes).unwrap().end {
            isthmus_store::log::format::SegmentEnd::Open { offset } => offset,
            other => panic!("{other:?}"),
        };
        let batch = encode_batch([b"torn".as_slice()]);
        bytes[end..end + 10].copy_from_slice(&batch[..10]);
        files.put(&name, Some(bytes));
    };
    tear(&files);
    let (_, first) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    tear(&files);
    let (_, second) = SegmentLog::open(files.clone(), FORMAT).unwrap();
    let (first, second) = (
        first.torn_tail_saved.unwrap().1,
        second.torn_tail_saved.unwrap().1,
    );
    assert!(first.ends_with(".bin") && !first.contains(".2."), "{first}");
    assert_eq!(second, first.replace(".bin", ".2.bin"));
    let contents = files.contents();
    assert_eq!(contents[&first].len(), 10);
    assert_eq!(contents[&second].len(), 10);
}

#[test]
fn before_an_empty_last_segment_only_a_cut_short_seal_is_torn() {
    use isthmus_store::log::format::{SegmentEnd, SEAL_BYTES};
    let (files, _) = filled(40, 5);
    // Make the last segment empty: an append that rolled over and crashed.
    let count = segment_count(&files);
    let last = segment_name(count - 1);
    let before_last = segment_name(count - 2);
    let mut empty = files.contents()[&last].clone();
    empty[HEADER_BYTES..].fill(0);
    files.put(&last, Some(empty));
    let pristine = files.contents()[&before_last].clone();
    let SegmentEnd::Sealed { offset } = parse_segment(&pristine).unwrap().end else {
        panic!("sealed");
    };
    // The seal's last byte wrong: the seal was cut short, nothing else.
    let mut cut = pristine.clone();
    cut[offset + SEAL_BYTES - 1] ^= 0x01;
    files.put(&before_last, Some(cut));
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    assert!(log.damage().is_some_and(|d| d.torn), "{:?}", log.damage());
    // A byte just past the seal is more than a cut-short seal: damage.
    let mut past = pristine.clone();
    past[offset + SEAL_BYTES] = 1;
    files.put(&before_last, Some(past));
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    let damage = log.damage().unwrap();
    assert!(!damage.torn, "{damage}");
    assert_eq!(damage.file, before_last);
}

#[test]
fn every_record_of_a_batch_just_appended_reads_back_from_the_writer() {
    let files = MemoryLogFiles::new();
    let (mut log, _) = SegmentLog::open_with(files, FORMAT, MIN_SEGMENT_BYTES).unwrap();
    let batch = [
        b"first".as_slice(),
        b"second, longer".as_slice(),
        b"3".as_slice(),
    ];
    log.append(batch).unwrap();
    log.append([b"fourth".as_slice()]).unwrap();
    for (n, expected) in batch.iter().chain([&b"fourth".as_slice()]).enumerate() {
        assert_eq!(log.get(n as u64).unwrap(), *expected);
    }
}

#[test]
fn records_changed_or_gone_after_opening_are_damage_not_garbage() {
    use isthmus_store::log::format::MAX_RECORD_BYTES;
    let (files, _) = filled(40, 5);
    let log = SegmentLog::open_read_only(files.read_only_view(), FORMAT).unwrap();
    let name = segment_name(1);
    let pristine = files.contents()[&name].clone();
    let parsed = parse_segment(&pristine).unwrap();
    let first = parsed.header.first_record;
    let record = parsed.records[2];
    // A record's length made impossible after the log was opened.
    for length in [0u32, MAX_RECORD_BYTES as u32 + 1] {
        let mut changed = pristine.clone();
        changed[record.offset..record.offset + 4].copy_from_slice(&length.to_be_bytes());
        files.put(&name, Some(changed));
        match log.get(first + 2) {
            Err(LogError::Damaged(damage)) => {
                assert_eq!(damage.record, first + 2);
                assert!(damage.problem.contains("changed after"), "{damage}");
            }
            other => panic!("{length}: {other:?}"),
        }
    }
    // The largest length a record may have is no reason by itself.
    let mut changed = pristine.clone();
    changed[record.offset..record.offset + 4]
        .copy_from_slice(&(MAX_RECORD_BYTES as u32).to_be_bytes());
    files.put(&name, Some(changed));
    assert!(
        !matches!(log.get(first + 2), Err(LogError::Damaged(ref d)) if d.problem.contains("impossible"))
    );
    // Records of a segment cut away after opening, from its second batch on
    // (batches of five): the scan names the first one gone.
    let mut cut = pristine.clone();
    cut[parsed.records[5].offset..].fill(0);
    files.put(&name, Some(cut));
    let mut seen = 0;
    match log.scan(0, &mut |_, _| {
        seen += 1;
        true
    }) {
        Err(LogError::Damaged(damage)) => {
            assert_eq!(
                (damage.record, damage.file.as_str()),
                (first + 5, name.as_str())
            );
            assert!(damage.problem.contains("gone"), "{damage}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(seen, first, "the segments before it were read, none of it");
}
