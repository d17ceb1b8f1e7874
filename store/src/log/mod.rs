//! An append-only, checksummed log of numbered records in fixed-length
//! segment files: the storage of a record that must never be rewritten, such
//! as the ledger's journal (ADR 0007).
//!
//! - One [`SegmentLog::append`] is one batch: one write and one sync (group
//!   commit), all or nothing when read back ([`format`]).
//! - [`SegmentLog::open_read_only`] reads files opened `O_RDONLY` and never
//!   writes a byte; whatever is wrong is reported in [`SegmentLog::damage`]
//!   with the file, the offset and the first record it affects, after the
//!   records before it.
//! - [`SegmentLog::open`] (the writer) refuses damage, and sets a torn tail —
//!   the incomplete last batch a crash leaves — aside in a file of its own
//!   before clearing it, reporting it in [`OpenReport`]: never silently
//!   dropped, never "repaired" in place.

mod disk;
mod files;
pub mod format;
mod memory;

use std::fmt;

pub use disk::{DiskLogFiles, DISK_SEGMENT_BYTES, LOCK_FILE};
pub use files::LogFiles;
pub use memory::{MemoryLogFiles, MEMORY_SEGMENT_BYTES};

use crate::error::StoreError;
use format::{
    encode_batch, encode_seal, parse_segment, SegmentEnd, SegmentHeader, HEADER_BYTES,
    MAX_RECORD_BYTES, RECORD_HEADER_BYTES, SEAL_BYTES,
};

/// The file whose contents name the kind of log; written last when a log
/// is created, so a directory without it holds no complete log.
pub const FORMAT_FILE: &str = "FORMAT";

/// The smallest segment a log may have: room for a header, a seal and some records.
pub const MIN_SEGMENT_BYTES: u64 = 4096;
/// The largest: a segment is read whole, so this bounds what opening a
/// log (a hostile one included) may allocate.
pub const MAX_SEGMENT_BYTES: u64 = 256 * 1024 * 1024;
/// The longest `FORMAT` file read.
const MAX_FORMAT_BYTES: u64 = 4096;

/// Where a problem in a log's files is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDamage {
    /// The file.
    pub file: String,
    /// The byte offset in it where the trouble starts.
    pub offset: u64,
    /// The number of the first record that cannot be read (every record
    /// before it was read and checks out).
    pub record: u64,
    /// Whether it is the incomplete last batch a crash leaves (a torn tail)
    /// rather than damage to bytes once written whole.
    pub torn: bool,
    /// What is wrong, as a sentence.
    pub problem: String,
}

impl fmt::Display for LogDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte {}: {}{}",
            self.file,
            self.offset,
            self.problem,
            if self.torn {
                " (an incomplete last write, as a crash leaves it)"
            } else {
                ""
            }
        )
    }
}

/// A log's failures.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The files failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The directory holds no log, or a log of another kind.
    #[error("not an Isthmus log: {0}")]
    NotALog(String),
    /// The files are damaged.
    #[error("the log is damaged: {0}")]
    Damaged(LogDamage),
    /// A batch that cannot be appended as asked.
    #[error("{0}")]
    Refused(String),
}

impl LogError {
    /// Whether bytes of the failed call may have reached the files.
    pub fn may_have_written(&self) -> bool {
        matches!(self, LogError::Store(e) if e.may_have_written())
    }
}

/// What opening a log for writing found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// A torn tail set aside: where it was, and the file now holding its bytes.
    pub torn_tail_saved: Option<(LogDamage, String)>,
    /// A segment sealed on open (a crash came between creating the next
    /// segment and sealing this one).
    pub sealed_on_open: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Position {
    /// Index into `segments`.
    segment: u32,
    /// Offset of the record's header in the segment.
    offset: u32,
}

/// An append-only log of records numbered from 0.
#[derive(Debug)]
pub struct SegmentLog<F: LogFiles> {
    files: F,
    segment_bytes: u64,
    segments: Vec<SegmentHeader>,
    positions: Vec<Position>,
    /// Where the next batch goes in the last segment.
    end: u64,
    damage: Option<LogDamage>,
    /// Where a torn tail starts (its segment and offset), when there is one.
    torn_at: Option<(String, u64)>,
    /// Set when a write or sync failed: what the files hold is unknown, so
    /// the log refuses to append until reopened.
    broken: bool,
}

/// A segment's bytes, read whole only once its header and its length agree
/// with each other and with `expected_bytes` (the log's segment length,
/// when known): `Ok(Err(problem))` for a segment that is not sound.
fn read_segment<F: LogFiles>(
    files: &F,
    name: &str,
    expected_bytes: Option<u64>,
) -> Result<Result<Vec<u8>, String>, LogError> {
    let Some(length) = files.len(name)? else {
        return Ok(Err("the segment is missing".into()));
    };
    let mut header = [0u8; HEADER_BYTES];
    if length < HEADER_BYTES as u64 {
        return Ok(Err(format!(
            "it is {length} bytes long, shorter than a segment header ({HEADER_BYTES} bytes)"
        )));
    }
    files.read_at(name, 0, &mut header)?;
    let declared = match SegmentHeader::decode(&header) {
        Ok(header) => header.segment_bytes,
        Err(problem) => return Ok(Err(problem)),
    };
    if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&declared) {
        return Ok(Err(format!(
            "its header says it is {declared} bytes long; a segment is {MIN_SEGMENT_BYTES} to {MAX_SEGMENT_BYTES}"
        )));
    }
    if length != declared {
        return Ok(Err(format!(
            "it is {length} bytes long but was created {declared} bytes long (cut short or extended)"
        )));
    }
    if let Some(expected) = expected_bytes.filter(|&e| e != declared) {
        return Ok(Err(format!(
            "it is {declared} bytes long; the log's segments are {expected}"
        )));
    }
    Ok(files
        .read(name, declared)?
        .ok_or_else(|| "the segment is missing".to_string()))
}

/// A segment's file name.
pub fn segment_name(segment: u64) -> String {
    format!("segment-{segment:016x}.log")
}

fn segment_number(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("segment-")?.strip_suffix(".log")?;
    // Exactly as `segment_name` writes it: 16 lower-case hex digits.
    if hex.len() != 16
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

impl<F: LogFiles> SegmentLog<F> {
    /// Opens the log on `files` for appending, creating it if the files are
    /// empty (with segments of [`LogFiles::default_segment_bytes`]). `format`
    /// names the kind of log (the whole of its `FORMAT` file). Damage is
    /// refused; a torn tail is set aside and reported.
    pub fn open(files: F, format: &[u8]) -> Result<(SegmentLog<F>, OpenReport), LogError> {
        let segment_bytes = files.default_segment_bytes();
        SegmentLog::open_with(files, format, segment_bytes)
    }

    /// As [`SegmentLog::open`], creating a new log with segments of `segment_bytes`.
    pub fn open_with(
        files: F,
        format: &[u8],
        segment_bytes: u64,
    ) -> Result<(SegmentLog<F>, OpenReport), LogError> {
        if files.read_only() {
            return Err(LogError::Refused(
                "a log opened for appending needs files it may write".into(),
            ));
        }
        if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&segment_bytes) {
            return Err(LogError::Refused(format!(
                "a segment is {MIN_SEGMENT_BYTES} to {MAX_SEGMENT_BYTES} bytes, not {segment_bytes}"
            )));
        }
        let names = files.list()?;
        let has_format = names.iter().any(|n| n == FORMAT_FILE);
        let segments = segment_numbers(&names);
        let foreign = names.iter().find(|n| {
            *n != LOCK_FILE
                && !n.ends_with(".tmp")
                && !(n.starts_with("torn-") && n.ends_with(".bin"))
        });
        if let (false, true, Some(foreign)) = (has_format, segments.is_empty(), foreign) {
            return Err(LogError::NotALog(format!(
                "there is no {FORMAT_FILE} file, and {foreign} is there: a new log is only made where nothing is"
            )));
        }
        if !has_format && segments.is_empty() {
            // A new log: its first segment, then its FORMAT file, which
            // marks the log as complete.
            let header = SegmentHeader {
                segment: 0,
                first_record: 0,
                segment_bytes,
            };
            files.create(&segment_name(0), &header.encode(), segment_bytes)?;
            files.create(FORMAT_FILE, format, format.len() as u64)?;
        } else if !has_format && segments == [0] {
            // A crash between the two steps above leaves an empty first
            // segment and no FORMAT file: finish creating the log. A first
            // segment with records is a log whose FORMAT file is gone,
            // which `read` refuses.
            // Nothing at all written after the header: not a record, not a
            // torn batch, not damage.
            if let Ok(bytes) = read_segment(&files, &segment_name(0), None)? {
                let untouched = parse_segment(&bytes).is_ok_and(|p| {
                    p.end
                        == SegmentEnd::Open {
                            offset: HEADER_BYTES,
                        }
                });
                if untouched {
                    files.create(FORMAT_FILE, format, format.len() as u64)?;
                }
            }
        }
        let mut log = SegmentLog::read(files, format)?;
        let mut report = OpenReport::default();
        if let Some(damage) = log.damage.take() {
            if !damage.torn {
                return Err(LogError::Damaged(damage));
            }
            report.torn_tail_saved = Some(log.set_aside(damage)?);
        }
        report.sealed_on_open = log.seal_unsealed()?;
        // Whatever a crashed writer left readable but perhaps not durable is
        // made durable before anything is built on it. The written bytes are
        // written again first: after a failed fsync, Linux may have marked
        // them clean without their reaching the disk, and a sync alone would
        // then succeed without writing them.
        let last = segment_name(log.last_segment());
        // Only the written part: `read` has just checked the whole segment.
        let mut written = vec![0u8; (log.end as usize).saturating_sub(HEADER_BYTES)];
        if !written.is_empty() {
            log.files
                .read_at(&last, HEADER_BYTES as u64, &mut written)?;
            log.files.write_at(&last, HEADER_BYTES as u64, &written)?;
        }
        log.files.sync(&last)?;
        Ok((log, report))
    }

    /// Opens the log read-only: nothing is created, changed or removed. The
    /// records up to the first problem are readable; the problem is in
    /// [`SegmentLog::damage`].
    pub fn open_read_only(files: F, format: &[u8]) -> Result<SegmentLog<F>, LogError> {
        SegmentLog::read(files, format)
    }

    fn read(files: F, format: &[u8]) -> Result<SegmentLog<F>, LogError> {
        if files
            .len(FORMAT_FILE)?
            .is_some_and(|l| l > MAX_FORMAT_BYTES)
        {
            return Err(LogError::NotALog(format!(
                "its {FORMAT_FILE} file is longer than a FORMAT file is"
            )));
        }
        match files.read(FORMAT_FILE, MAX_FORMAT_BYTES)? {
            None => return Err(LogError::NotALog(format!("there is no {FORMAT_FILE} file"))),
            Some(found) if found != format => {
                return Err(LogError::NotALog(format!(
                    "its {FORMAT_FILE} file does not say {:?}",
                    String::from_utf8_lossy(format).trim_end()
                )))
            }
            Some(_) => {}
        }
        let numbers = segment_numbers(&files.list()?);
        let mut log = SegmentLog {
            files,
            segment_bytes: 0,
            segments: Vec::new(),
            positions: Vec::new(),
            end: 0,
            damage: None,
            torn_at: None,
            broken: false,
        };
        let damaged = |log: &SegmentLog<F>, file: String, offset: u64, problem: String| LogDamage {
            file,
            offset,
            record: log.positions.len() as u64,
            torn: false,
            problem,
        };
        for (expected, &number) in numbers.iter().enumerate() {
            let name = segment_name(number);
            if number != expected as u64 {
                log.damage = Some(damaged(
                    &log,
                    segment_name(expected as u64),
                    0,
                    format!("the segment is missing; the next one is {name}"),
                ));
                break;
            }
            let expected_length = (number > 0).then_some(log.segment_bytes);
            let bytes = match read_segment(&log.files, &name, expected_length)? {
                Ok(bytes) => bytes,
                Err(problem) => {
                    log.damage = Some(damaged(&log, name, 0, problem));
                    break;
                }
            };
            let parsed = match parse_segment(&bytes) {
                Ok(parsed) => parsed,
                Err(problem) => {
                    log.damage = Some(damaged(&log, name, 0, problem));
                    break;
                }
            };
            // `read_segment` has checked its length: in range, agreeing with
            // the file's and with the first segment's.
            let header = parsed.header;
            let header_problem = if header.segment != number {
                Some(format!("its header says it is segment {}", header.segment))
            } else if header.first_record != log.positions.len() as u64 {
                Some(format!(
                    "its header says it starts at record {}, but the segments before it hold {}",
                    header.first_record,
                    log.positions.len()
                ))
            } else {
                None
            };
            if let Some(problem) = header_problem {
                log.damage = Some(damaged(&log, name, 0, problem));
                break;
            }
            log.segment_bytes = header.segment_bytes;
            let index = log.segments.len() as u32;
            log.segments.push(header);
            log.positions
                .extend(parsed.records.iter().map(|r| Position {
                    segment: index,
                    offset: r.offset as u32,
                }));
            let is_last = expected + 1 == numbers.len();
            let next_is_empty_last = expected + 2 == numbers.len();
            let sealed = matches!(parsed.end, SegmentEnd::Sealed { .. });
            match parsed.end {
                SegmentEnd::Open { offset } => {
                    log.end = offset as u64;
                    // Only the last segment is open, or the one before an
                    // empty last one (a crash between creating a segment
                    // and sealing the one before it); the next segment's
                    // own reading checks that it is empty.
                    if !is_last && !next_is_empty_last {
                        log.damage = Some(damaged(
                            &log,
                            name,
                            offset as u64,
                            "the segment is not sealed, but more segments follow it".into(),
                        ));
                        break;
                    }
                }
                SegmentEnd::Sealed { offset } => {
                    log.end = offset as u64;
                    if is_last {
                        log.damage = Some(damaged(
                            &log,
                            segment_name(number + 1),
                            0,
                            format!("the segment is missing ({name} is sealed, so it was created)"),
                        ));
                        break;
                    }
                }
                SegmentEnd::Torn {
                    offset,
                    end,
                    seen_at,
                    problem,
                } => {
                    log.end = offset as u64;
                    // Before an empty last segment, only the seal can be cut
                    // short: the segment's last batch was synced before its
                    // successor was created.
                    let torn = is_last || (next_is_empty_last && end <= offset + SEAL_BYTES);
                    log.damage = Some(LogDamage {
                        torn,
                        ..damaged(
                            &log,
                            name.clone(),
                            seen_at as u64,
                            if torn {
                                problem
                            } else {
                                format!("{problem}, and more segments follow")
                            },
                        )
                    });
                    if !torn {
                        break;
                    }
                    log.torn_at = Some((name, offset as u64));
                }
                SegmentEnd::Damaged {
                    seen_at, problem, ..
                } => {
                    log.damage = Some(damaged(&log, name, seen_at as u64, problem));
                    break;
                }
            }
            // A segment after an open or torn one must hold nothing.
            if !is_last && !sealed {
                let next = segment_name(number + 1);
                let next_bytes =
                    read_segment(&log.files, &next, Some(log.segment_bytes))?.unwrap_or_default();
                let next_is_empty = parse_segment(&next_bytes).is_ok_and(|p| {
                    p.end
                        == SegmentEnd::Open {
                            offset: HEADER_BYTES,
                        }
                });
                if !next_is_empty {
                    let problem = "the segment before it is not sealed".to_string();
                    log.damage = Some(damaged(&log, next, 0, problem));
                    break;
                }
            }
        }
        if numbers.is_empty() {
            log.damage = Some(damaged(
                &log,
                segment_name(0),
                0,
                "the log's first segment is missing".into(),
            ));
        }
        Ok(log)
    }

    /// Moves a torn tail's bytes into a file of their own, then clears them
    /// from the segment (durably, in that order).
    fn set_aside(&mut self, torn: LogDamage) -> Result<(LogDamage, String), LogError> {
        let Some((file, start)) = self.torn_at.take() else {
            return Err(LogError::Damaged(torn));
        };
        // The open just read and checked this segment under its lock.
        let bytes = read_segment(&self.files, &file, Some(self.segment_bytes))?
            .map_err(|_| LogError::Damaged(torn.clone()))?;
        let start = start as usize;
        let end = bytes
            .iter()
            .rposition(|&b| b != 0)
            .map_or(start, |last| last + 1)
            .max(start);
        let stem = file.trim_end_matches(".log");
        let names = self.files.list()?;
        let mut saved = format!("torn-{stem}-{start}.bin");
        let mut attempt = 1;
        while names.contains(&saved) {
            attempt += 1;
            saved = format!("torn-{stem}-{start}.{attempt}.bin");
        }
        let tail = bytes.get(start..end).unwrap_or_default();
        self.files.create(&saved, tail, tail.len() as u64)?;
        self.files
            .write_at(&file, start as u64, &vec![0u8; tail.len()])?;
        self.files.sync(&file)?;
        Ok((torn, saved))
    }

    /// Seals the segment before an empty last one if a crash left it open.
    fn seal_unsealed(&mut self) -> Result<Option<String>, LogError> {
        let count = self.segments.len();
        if count < 2 {
            return Ok(None);
        }
        let before = self.segments[count - 2].segment;
        let name = segment_name(before);
        let bytes = read_segment(&self.files, &name, Some(self.segment_bytes))?.unwrap_or_default();
        let sealed =
            parse_segment(&bytes).is_ok_and(|p| matches!(p.end, SegmentEnd::Sealed { .. }));
        if sealed {
            return Ok(None);
        }
        let open_at = parse_segment(&bytes).map_err(|problem| {
            LogError::Damaged(LogDamage {
                file: name.clone(),
                offset: 0,
                record: self.positions.len() as u64,
                torn: false,
                problem,
            })
        })?;
        let SegmentEnd::Open { offset } = open_at.end else {
            return Ok(None);
        };
        self.files
            .write_at(&name, offset as u64, &encode_seal(before))?;
        self.files.sync(&name)?;
        Ok(Some(name))
    }

    /// The number of records.
    pub fn len(&self) -> u64 {
        self.positions.len() as u64
    }

    /// Whether the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The first problem found when the log was opened read-only, if any;
    /// every record before [`LogDamage::record`] is readable.
    pub fn damage(&self) -> Option<&LogDamage> {
        self.damage.as_ref()
    }

    /// The files, e.g. for a test to damage them.
    pub fn files(&self) -> &F {
        &self.files
    }

    /// The most payload bytes one batch may carry: what fits an empty segment.
    pub fn max_batch_bytes(&self) -> usize {
        (self.segment_bytes as usize).saturating_sub(HEADER_BYTES + SEAL_BYTES)
    }

    fn last_segment(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.segment)
    }

    /// Appends a batch of records durably: one write, one sync. On `Err` no
    /// record of the batch counts as appended; if the error may have
    /// written, the log refuses further appends until reopened.
    pub fn append<'a>(
        &mut self,
        payloads: impl IntoIterator<Item = &'a [u8]> + Clone,
    ) -> Result<(), LogError> {
        if self.broken {
            return Err(LogError::Refused(
                "an earlier write to the log failed; reopen it".into(),
            ));
        }
        if self.files.read_only() {
            return Err(LogError::Refused("the log was opened read-only".into()));
        }
        let mut count = 0usize;
        for payload in payloads.clone() {
            if payload.is_empty() || payload.len() > MAX_RECORD_BYTES {
                return Err(LogError::Refused(format!(
                    "a record is 1 to {MAX_RECORD_BYTES} bytes, not {}",
                    payload.len()
                )));
            }
            if format::holds_commit_tag(payload) {
                // A torn write is told from damage by the commits after it
                // (see `format`), so no record may carry a commit's tag.
                return Err(LogError::Refused(
                    "a record may not contain the bytes FF FF FF FE (a commit's tag)".into(),
                ));
            }
            count += 1;
        }
        if count == 0 {
            return Ok(());
        }
        let bytes = format::batch_bytes(payloads.clone());
        if bytes > self.max_batch_bytes() {
            return Err(LogError::Refused(format!(
                "a batch of {bytes} bytes does not fit a segment ({} bytes at most)",
                self.max_batch_bytes()
            )));
        }
        if self.end + (bytes + SEAL_BYTES) as u64 > self.segment_bytes {
            self.roll_over()?;
        }
        let batch = encode_batch(payloads.clone());
        let name = segment_name(self.last_segment());
        let written = self
            .files
            .write_at(&name, self.end, &batch)
            .and_then(|()| self.files.sync(&name));
        if let Err(error) = written {
            self.broken = true;
            return Err(error.into());
        }
        let segment = (self.segments.len() - 1) as u32;
        let mut at = self.end as usize;
        for payload in payloads {
            self.positions.push(Position {
                segment,
                offset: at as u32,
            });
            at += RECORD_HEADER_BYTES + payload.len();
        }
        self.end += batch.len() as u64;
        Ok(())
    }

    /// Starts a new segment: created durably first, then the current one is
    /// sealed, so a sealed segment always has a successor.
    fn roll_over(&mut self) -> Result<(), LogError> {
        let current = self.last_segment();
        let header = SegmentHeader {
            segment: current + 1,
            first_record: self.len(),
            segment_bytes: self.segment_bytes,
        };
        let result = self
            .files
            .create(
                &segment_name(current + 1),
                &header.encode(),
                self.segment_bytes,
            )
            .and_then(|()| {
                self.files
                    .write_at(&segment_name(current), self.end, &encode_seal(current))
            })
            .and_then(|()| self.files.sync(&segment_name(current)));
        if let Err(error) = result {
            self.broken = true;
            return Err(error.into());
        }
        self.segments.push(header);
        self.end = HEADER_BYTES as u64;
        Ok(())
    }

    /// One record's payload.
    pub fn get(&self, record: u64) -> Result<Vec<u8>, LogError> {
        let position = usize::try_from(record)
            .ok()
            .and_then(|i| self.positions.get(i))
            .ok_or_else(|| {
                LogError::Refused(format!(
                    "the log holds {} records; there is no record {record}",
                    self.len()
                ))
            })?;
        let name = segment_name(self.segments[position.segment as usize].segment);
        let mut header = [0u8; RECORD_HEADER_BYTES];
        self.files
            .read_at(&name, u64::from(position.offset), &mut header)?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let changed = |problem: &str| {
            LogError::Damaged(LogDamage {
                file: name.clone(),
                offset: u64::from(position.offset),
                record,
                torn: false,
                problem: format!("{problem} (it changed after the log was opened)"),
            })
        };
        if length == 0 || length > MAX_RECORD_BYTES {
            return Err(changed("the record's length is impossible"));
        }
        let mut payload = vec![0u8; length];
        self.files.read_at(
            &name,
            u64::from(position.offset) + RECORD_HEADER_BYTES as u64,
            &mut payload,
        )?;
        let stored = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        if format::checksum(&payload) != stored {
            return Err(changed("the record's bytes do not match its checksum"));
        }
        Ok(payload)
    }

    /// Calls `visit` with every record from `from` on, in order, until it
    /// returns `false`. Reads each segment whole, once.
    pub fn scan(
        &self,
        from: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> bool,
    ) -> Result<(), LogError> {
        for (index, header) in self.segments.iter().enumerate() {
            let count = self.segment_records(index);
            if header.first_record + count <= from {
                continue;
            }
            let name = segment_name(header.segment);
            let bytes =
                read_segment(&self.files, &name, Some(self.segment_bytes))?.unwrap_or_default();
            let parsed = parse_segment(&bytes).map_err(|problem| {
                LogError::Damaged(LogDamage {
                    file: name.clone(),
                    offset: 0,
                    record: header.first_record,
                    torn: false,
                    problem: format!("{problem} (it changed after the log was opened)"),
                })
            })?;
            if (parsed.records.len() as u64) < count {
                return Err(LogError::Damaged(LogDamage {
                    file: name,
                    offset: 0,
                    record: header.first_record + parsed.records.len() as u64,
                    torn: false,
                    problem: "records are gone since the log was opened".into(),
                }));
            }
            for (index, record) in parsed.records.iter().take(count as usize).enumerate() {
                let number = header.first_record + index as u64;
                if number >= from && !visit(number, record.payload) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Records in the segment at `index` (segments are consecutive).
    fn segment_records(&self, index: usize) -> u64 {
        let next = self
            .segments
            .get(index + 1)
            .map_or(self.len(), |s| s.first_record);
        next - self.segments[index].first_record
    }
}

fn segment_numbers(names: &[String]) -> Vec<u64> {
    let mut numbers: Vec<u64> = names.iter().filter_map(|n| segment_number(n)).collect();
    numbers.sort_unstable();
    numbers
}

impl From<LogDamage> for LogError {
    fn from(damage: LogDamage) -> LogError {
        LogError::Damaged(damage)
    }
}
