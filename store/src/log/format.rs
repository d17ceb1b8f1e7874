//! The bytes of a log segment, as pure functions: no I/O, so every rule about
//! what is a record, a commit, a seal, a torn write or damage is tested on
//! byte slices.
//!
//! A segment file has a fixed length, chosen when the log is created:
//!
//! ```text
//! segment = header ‖ batch* ‖ [seal] ‖ zeros to the end of the file
//! header  = "ISTHMUS-LOG\0" ‖ version u32 ‖ segment u64 ‖ first record u64
//!           ‖ segment length u64 ‖ 20 zero bytes ‖ CRC-32 of the 60 bytes before it
//! batch   = record+ ‖ commit
//! record  = length u32 (1 ..= MAX_RECORD_BYTES) ‖ CRC-32 of the payload ‖ payload
//! commit  = 0xFFFF_FFFE ‖ records u32 ‖ batch bytes u32 ‖ CRC-32 of the batch's
//!           records ‖ CRC-32 of the 16 bytes before it
//! seal    = 0xFFFF_FFFF ‖ CRC-32 of the segment number (u64)
//! ```
//!
//! All integers are big-endian; CRC-32 is the IEEE polynomial. One append is
//! one batch, written with one write and made durable with one sync; a batch
//! counts only once its commit is read back whole, so a batch is all or
//! nothing. Because the file never grows, a truncation shows at once (its
//! length is wrong), and everything after the written part must be zero, so
//! a damaged byte there is found too.
//!
//! A write cut short by a crash leaves, after the last whole batch, bytes
//! that are no whole batch and no commit after them: a *torn tail*. Bytes
//! that are no whole batch with a commit after them are *damage*: that
//! commit was written, and a batch is written before its commit, so the
//! bytes were whole once. Of a damaged batch, the records before the bad
//! bytes are still read (each checks out on its own); of a torn one, none.

/// First bytes of every segment.
pub const MAGIC: &[u8; 12] = b"ISTHMUS-LOG\0";
/// The format version this code writes and reads.
pub const VERSION: u32 = 1;
/// Bytes of a segment header.
pub const HEADER_BYTES: usize = 64;
/// Bytes before each record's payload: its length and its checksum.
pub const RECORD_HEADER_BYTES: usize = 8;
/// Bytes of a commit.
pub const COMMIT_BYTES: usize = 20;
/// Bytes of a seal.
pub const SEAL_BYTES: usize = 8;
/// The largest payload one record may carry.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;
/// The tag of a commit, where a record has its length.
const COMMIT_TAG: u32 = 0xFFFF_FFFE;
/// The tag of a seal.
const SEAL_TAG: u32 = 0xFFFF_FFFF;

/// CRC-32 (IEEE) of some bytes.
pub fn checksum(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// What a segment's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The segment's number, from 0.
    pub segment: u64,
    /// The number of its first record.
    pub first_record: u64,
    /// The segment file's length in bytes.
    pub segment_bytes: u64,
}

impl SegmentHeader {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut bytes = [0u8; HEADER_BYTES];
        bytes[..12].copy_from_slice(MAGIC);
        bytes[12..16].copy_from_slice(&VERSION.to_be_bytes());
        bytes[16..24].copy_from_slice(&self.segment.to_be_bytes());
        bytes[24..32].copy_from_slice(&self.first_record.to_be_bytes());
        bytes[32..40].copy_from_slice(&self.segment_bytes.to_be_bytes());
        let crc = checksum(&bytes[..HEADER_BYTES - 4]);
        bytes[HEADER_BYTES - 4..].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    /// Reads a header, saying what is wrong with it if anything is.
    pub fn decode(bytes: &[u8]) -> Result<SegmentHeader, String> {
        let Some(header) = bytes.get(..HEADER_BYTES) else {
            return Err(format!(
                "it is {} bytes long, shorter than a segment header ({HEADER_BYTES} bytes)",
                bytes.len()
            ));
        };
        if &header[..12] != MAGIC {
            return Err("it does not start as an Isthmus log segment".into());
        }
        if checksum(&header[..HEADER_BYTES - 4]) != be32(header, HEADER_BYTES - 4) {
            return Err("its header does not match its checksum".into());
        }
        let version = be32(header, 12);
        if version != VERSION {
            return Err(format!(
                "it is format version {version}; this build reads version {VERSION}"
            ));
        }
        Ok(SegmentHeader {
            segment: be64(header, 16),
            first_record: be64(header, 24),
            segment_bytes: be64(header, 32),
        })
    }
}

/// The big-endian u32 at `at`; the caller has checked the bounds.
fn be32(bytes: &[u8], at: usize) -> u32 {
    let mut out = [0u8; 4];
    out.copy_from_slice(&bytes[at..at + 4]);
    u32::from_be_bytes(out)
}

fn be64(bytes: &[u8], at: usize) -> u64 {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[at..at + 8]);
    u64::from_be_bytes(out)
}

/// Bytes a batch of records with these payload lengths takes, commit included.
pub fn batch_bytes<'a>(payloads: impl IntoIterator<Item = &'a [u8]>) -> usize {
    payloads
        .into_iter()
        .map(|p| RECORD_HEADER_BYTES + p.len())
        .sum::<usize>()
        + COMMIT_BYTES
}

/// One batch's bytes: its records, then its commit. The caller has checked
/// that there is at least one payload, each of 1 to [`MAX_RECORD_BYTES`]
/// bytes, and that the batch fits a segment (so its length fits a u32).
pub fn encode_batch<'a>(payloads: impl IntoIterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(batch_bytes(payloads.clone()));
    let mut records = 0u32;
    for payload in payloads {
        assert!(
            !payload.is_empty() && payload.len() <= MAX_RECORD_BYTES,
            "a record's payload is 1 to {MAX_RECORD_BYTES} bytes; the caller checks"
        );
        buffer.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        buffer.extend_from_slice(&checksum(payload).to_be_bytes());
        buffer.extend_from_slice(payload);
        records += 1;
    }
    assert!(
        records > 0,
        "a batch has at least one record; the caller checks"
    );
    let commit = encode_commit(records, &buffer);
    buffer.extend_from_slice(&commit);
    buffer
}

fn encode_commit(records: u32, batch: &[u8]) -> [u8; COMMIT_BYTES] {
    let mut commit = [0u8; COMMIT_BYTES];
    commit[..4].copy_from_slice(&COMMIT_TAG.to_be_bytes());
    commit[4..8].copy_from_slice(&records.to_be_bytes());
    // A batch fits a segment, whose length the log keeps within a u32.
    commit[8..12].copy_from_slice(&(batch.len() as u32).to_be_bytes());
    commit[12..16].copy_from_slice(&checksum(batch).to_be_bytes());
    let crc = checksum(&commit[..16]);
    commit[16..].copy_from_slice(&crc.to_be_bytes());
    commit
}

/// The seal closing segment `segment`.
pub fn encode_seal(segment: u64) -> [u8; SEAL_BYTES] {
    let mut bytes = [0u8; SEAL_BYTES];
    bytes[..4].copy_from_slice(&SEAL_TAG.to_be_bytes());
    bytes[4..].copy_from_slice(&checksum(&segment.to_be_bytes()).to_be_bytes());
    bytes
}

/// How the written part of a segment ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentEnd {
    /// Whole batches, then zeros to the end of the file: the next batch goes at `offset`.
    Open {
        /// Where the next batch goes.
        offset: usize,
    },
    /// Whole batches, then a seal: the log continues in the next segment.
    Sealed {
        /// Where the seal starts.
        offset: usize,
    },
    /// From `offset` (the end of the last whole batch) to `end` the bytes
    /// are no whole batch, and no whole batch follows: what a write cut short
    /// by a crash leaves. Only zeros follow `end`.
    Torn {
        /// The end of the last whole batch.
        offset: usize,
        /// One past the last non-zero byte.
        end: usize,
        /// Where the first bad byte was seen, and what is wrong.
        seen_at: usize,
        /// What is wrong.
        problem: String,
    },
    /// Bytes that are no whole batch, with a whole batch after them: damage.
    Damaged {
        /// The end of the last whole batch before the damage.
        offset: usize,
        /// Where the first bad byte was seen.
        seen_at: usize,
        /// What is wrong.
        problem: String,
    },
}

/// One record found in a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundRecord<'a> {
    /// Where the record (its header) starts in the segment.
    pub offset: usize,
    /// The payload.
    pub payload: &'a [u8],
}

/// A segment's committed records, in order, and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSegment<'a> {
    /// The header.
    pub header: SegmentHeader,
    /// The records of its whole batches, in order.
    pub records: Vec<FoundRecord<'a>>,
    /// What comes after them.
    pub end: SegmentEnd,
}

/// Reads every whole batch of a segment's bytes (the whole file). `Err`
/// when the file is not a sound segment at all (its header, or its length
/// against the header's); trouble after a good header is reported in
/// [`ParsedSegment::end`], with the records before it.
pub fn parse_segment(bytes: &[u8]) -> Result<ParsedSegment<'_>, String> {
    let header = SegmentHeader::decode(bytes)?;
    if header.segment_bytes != bytes.len() as u64 {
        return Err(format!(
            "it is {} bytes long but was created {} bytes long (cut short or extended)",
            bytes.len(),
            header.segment_bytes
        ));
    }
    let mut records = Vec::new();
    let mut batch_start = HEADER_BYTES;
    let mut at = HEADER_BYTES;
    let mut pending: Vec<FoundRecord<'_>> = Vec::new();
    // Set when a commit's own checksum fails but everything it says of its
    // batch holds: the batch was written whole, so this is damage.
    let mut written_whole = false;
    let end = loop {
        let bad = |problem: String| (at, problem);
        let found = match bytes.get(at..at + 4).map(|_| be32(bytes, at)) {
            // Too little room left for even a tag: the end.
            None | Some(0) => {
                if pending.is_empty() {
                    break match first_nonzero(bytes, at) {
                        None => SegmentEnd::Open { offset: at },
                        Some(seen_at) => classify(
                            bytes,
                            batch_start,
                            seen_at,
                            "there are bytes after the end of the written batches".into(),
                        ),
                    };
                }
                Err(bad("its last records have no commit".into()))
            }
            Some(SEAL_TAG) => {
                if !pending.is_empty() {
                    Err(bad(
                        "a seal comes before the commit of the records before it".into(),
                    ))
                } else if bytes.get(at..at + SEAL_BYTES) != Some(&encode_seal(header.segment)[..]) {
                    Err(bad("its seal is damaged".into()))
                } else {
                    break match first_nonzero(bytes, at + SEAL_BYTES) {
                        None => SegmentEnd::Sealed { offset: at },
                        Some(seen_at) => classify(
                            bytes,
                            batch_start,
                            seen_at,
                            "there are bytes after the segment's seal".into(),
                        ),
                    };
                }
            }
            Some(COMMIT_TAG) => match commit_closes(bytes, at, batch_start, pending.len()) {
                Ok(()) => {
                    records.append(&mut pending);
                    at += COMMIT_BYTES;
                    batch_start = at;
                    Ok(())
                }
                Err(problem) => {
                    written_whole = commit_describes(bytes, at, batch_start, pending.len());
                    Err(bad(problem))
                }
            },
            Some(length) => match record_at(bytes, at, length as usize) {
                Ok(record) => {
                    at = record.offset + RECORD_HEADER_BYTES + record.payload.len();
                    pending.push(record);
                    Ok(())
                }
                Err(problem) => Err(bad(problem)),
            },
        };
        if let Err((seen_at, problem)) = found {
            if written_whole {
                break SegmentEnd::Damaged {
                    offset: batch_start,
                    seen_at,
                    problem,
                };
            }
            break classify(bytes, batch_start, seen_at, problem);
        }
    };
    if matches!(end, SegmentEnd::Damaged { .. }) {
        // Damage, not a torn write: the records of the broken batch before
        // the bad bytes each check out, and were written whole once.
        records.append(&mut pending);
    }
    Ok(ParsedSegment {
        header,
        records,
        end,
    })
}

/// The record at `at` whose length field says `length`, if it checks out.
fn record_at(bytes: &[u8], at: usize, length: usize) -> Result<FoundRecord<'_>, String> {
    if length > MAX_RECORD_BYTES {
        return Err(format!(
            "its length {length} is more than a record may be ({MAX_RECORD_BYTES} bytes)"
        ));
    }
    let start = at + RECORD_HEADER_BYTES;
    let Some(payload) = bytes.get(start..start + length) else {
        return Err(format!(
            "its length {length} runs past the end of the segment"
        ));
    };
    if checksum(payload) != be32(bytes, at + 4) {
        return Err("its bytes do not match its checksum".into());
    }
    Ok(FoundRecord {
        offset: at,
        payload,
    })
}

/// Whether the commit at `at` closes the batch of `records` records that
/// started at `batch_start`.
fn commit_closes(
    bytes: &[u8],
    at: usize,
    batch_start: usize,
    records: usize,
) -> Result<(), String> {
    let Some(commit) = bytes.get(at..at + COMMIT_BYTES) else {
        return Err("its commit runs past the end of the segment".into());
    };
    if checksum(&commit[..16]) != be32(commit, 16) {
        return Err("its commit does not match its checksum".into());
    }
    let batch = &bytes[batch_start..at];
    if be32(commit, 4) as usize != records || be32(commit, 8) as usize != batch.len() {
        return Err(format!(
            "its commit is for {} records in {} bytes, but {records} records in {} bytes precede it",
            be32(commit, 4),
            be32(commit, 8),
            batch.len()
        ));
    }
    if records == 0 {
        return Err("its commit closes a batch of no records".into());
    }
    if checksum(batch) != be32(commit, 12) {
        return Err("its batch does not match the checksum in its commit".into());
    }
    Ok(())
}

/// Whether the commit at `at`, whatever its own checksum, gives the count,
/// the length and the checksum of the `records` records since `batch_start`.
fn commit_describes(bytes: &[u8], at: usize, batch_start: usize, records: usize) -> bool {
    let Some(commit) = bytes.get(at..at + COMMIT_BYTES) else {
        return false;
    };
    let batch = &bytes[batch_start..at];
    records > 0
        && be32(commit, 4) as usize == records
        && be32(commit, 8) as usize == batch.len()
        && checksum(batch) == be32(commit, 12)
}

/// Trouble seen at `seen_at`, after the last whole batch ending at `offset`:
/// damage if a commit follows (the batch it closes was written whole once:
/// the bytes are damaged, not cut short), else a torn tail.
fn classify(bytes: &[u8], offset: usize, seen_at: usize, problem: String) -> SegmentEnd {
    if commit_after(bytes, offset) {
        return SegmentEnd::Damaged {
            offset,
            seen_at,
            problem,
        };
    }
    let end = bytes
        .iter()
        .rposition(|&b| b != 0)
        .map_or(seen_at, |last| last + 1)
        .max(seen_at);
    SegmentEnd::Torn {
        offset,
        end,
        seen_at,
        problem,
    }
}

/// Whether `payload` contains a commit's tag, which no record may (UTF-8
/// text never does: 0xFF is no UTF-8 byte).
pub fn holds_commit_tag(payload: &[u8]) -> bool {
    let tag = COMMIT_TAG.to_be_bytes();
    // Most payloads hold no 0xFF byte at all, which one fast scan shows.
    payload.contains(&0xFF) && payload.windows(4).any(|w| w == tag)
}

/// Whether a commit whose own checksum holds lies anywhere after `offset`.
/// Its tag never occurs in a record's length (a record is at most
/// [`MAX_RECORD_BYTES`] long), nor in a payload (appends refuse one that
/// holds it, [`holds_commit_tag`]).
fn commit_after(bytes: &[u8], offset: usize) -> bool {
    let tag = COMMIT_TAG.to_be_bytes();
    let mut at = offset;
    while let Some(found) = bytes
        .get(at..)
        .and_then(|rest| rest.windows(4).position(|w| w == tag))
    {
        let candidate = at + found;
        if let Some(commit) = bytes.get(candidate..candidate + COMMIT_BYTES) {
            if checksum(&commit[..16]) == be32(commit, 16) {
                return true;
            }
        }
        at = candidate + 1;
    }
    false
}

fn first_nonzero(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b != 0)
        .map(|i| from + i)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const SEGMENT: usize = 4096;

    /// A segment holding these batches, the rest zeros.
    fn segment(batches: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = SegmentHeader {
            segment: 0,
            first_record: 0,
            segment_bytes: SEGMENT as u64,
        }
        .encode()
        .to_vec();
        for batch in batches {
            bytes.extend_from_slice(batch);
        }
        bytes.resize(SEGMENT, 0);
        bytes
    }

    /// A commit for `batch` with its fields changed and its own checksum
    /// made right again (or left wrong).
    fn forged_commit(
        batch: &[u8],
        records: u32,
        length: u32,
        crc: u32,
        own_crc_right: bool,
    ) -> Vec<u8> {
        let mut commit = [0u8; COMMIT_BYTES];
        commit[..4].copy_from_slice(&COMMIT_TAG.to_be_bytes());
        commit[4..8].copy_from_slice(&records.to_be_bytes());
        commit[8..12].copy_from_slice(&length.to_be_bytes());
        commit[12..16].copy_from_slice(&crc.to_be_bytes());
        let own = checksum(&commit[..16]) ^ u32::from(!own_crc_right);
        commit[16..].copy_from_slice(&own.to_be_bytes());
        let mut bytes = batch.to_vec();
        bytes.extend_from_slice(&commit);
        bytes
    }

    fn records_of(payloads: &[&[u8]]) -> Vec<u8> {
        let batch = encode_batch(payloads.iter().copied());
        batch[..batch.len() - COMMIT_BYTES].to_vec()
    }

    #[test]
    fn a_commit_closes_its_batch_only_if_every_field_is_right() {
        let first = encode_batch([b"kept".as_slice()]);
        let records = records_of(&[b"one", b"two"]);
        let (count, length, crc) = (2u32, records.len() as u32, checksum(&records));
        let right = forged_commit(&records, count, length, crc, true);
        let bytes = segment(&[first.clone(), right]);
        let parsed = parse_segment(&bytes).unwrap();
        assert_eq!(parsed.records.len(), 3);
        for (name, wrong) in [
            (
                "count",
                forged_commit(&records, count + 1, length, crc, true),
            ),
            (
                "length",
                forged_commit(&records, count, length + 1, crc, true),
            ),
            (
                "batch checksum",
                forged_commit(&records, count, length, crc ^ 1, true),
            ),
        ] {
            let bytes = segment(&[first.clone(), wrong]);
            let parsed = parse_segment(&bytes).unwrap();
            // Damage: the records before it still read, each on its own.
            assert_eq!(parsed.records.len(), 3, "a wrong {name}");
            assert!(
                matches!(parsed.end, SegmentEnd::Damaged { .. }),
                "a self-consistent commit follows: damage ({name}): {:?}",
                parsed.end
            );
        }
    }

    #[test]
    fn a_last_commit_with_a_bad_checksum_is_damage_only_if_its_batch_is_whole() {
        let first = encode_batch([b"kept".as_slice()]);
        let records = records_of(&[b"one", b"two"]);
        let (count, length, crc) = (2u32, records.len() as u32, checksum(&records));
        let whole = forged_commit(&records, count, length, crc, false);
        let bytes = segment(&[first.clone(), whole]);
        let parsed = parse_segment(&bytes).unwrap();
        assert!(
            matches!(parsed.end, SegmentEnd::Damaged { .. }),
            "{:?}",
            parsed.end
        );
        assert_eq!(parsed.records.len(), 3, "its records each check out");
        for (name, broken) in [
            (
                "count",
                forged_commit(&records, count + 1, length, crc, false),
            ),
            (
                "length",
                forged_commit(&records, count, length - 1, crc, false),
            ),
            (
                "batch checksum",
                forged_commit(&records, count, length, crc ^ 1, false),
            ),
            ("no records", forged_commit(&[], 0, 0, checksum(&[]), false)),
        ] {
            let bytes = segment(&[first.clone(), broken]);
            let parsed = parse_segment(&bytes).unwrap();
            assert!(
                matches!(parsed.end, SegmentEnd::Torn { .. }),
                "nothing shows the batch was whole ({name}): {:?}",
                parsed.end
            );
            assert_eq!(parsed.records.len(), 1, "{name}");
        }
    }

    #[test]
    fn a_damaged_commit_far_into_a_segment_is_still_told_apart() {
        // Many batches, so the last commit sits past a twentieth of the segment.
        let batches: Vec<Vec<u8>> = (0..40)
            .map(|i| encode_batch([format!("record {i}").as_bytes()]))
            .collect();
        let mut bytes = segment(&batches);
        let parsed = parse_segment(&bytes).unwrap();
        let SegmentEnd::Open { offset } = parsed.end else {
            panic!("{:?}", parsed.end)
        };
        assert!(offset > SEGMENT / 20);
        bytes[offset - 1] ^= 1; // the last commit's own checksum
        let parsed = parse_segment(&bytes).unwrap();
        assert!(
            matches!(parsed.end, SegmentEnd::Damaged { .. }),
            "{:?}",
            parsed.end
        );
    }

    #[test]
    fn the_format_s_sizes_are_the_documented_ones() {
        // Written in the module's documentation and read by other implementations.
        assert_eq!(MAX_RECORD_BYTES, 16_777_216);
        assert_eq!(
            (HEADER_BYTES, RECORD_HEADER_BYTES, COMMIT_BYTES, SEAL_BYTES),
            (64, 8, 20, 8)
        );
    }

    #[test]
    fn a_record_of_the_largest_length_parses_and_one_byte_more_does_not() {
        let mut bytes = vec![0u8; HEADER_BYTES + RECORD_HEADER_BYTES + MAX_RECORD_BYTES + 64];
        let header = SegmentHeader {
            segment: 0,
            first_record: 0,
            segment_bytes: bytes.len() as u64,
        };
        bytes[..HEADER_BYTES].copy_from_slice(&header.encode());
        let payload = vec![b'x'; MAX_RECORD_BYTES];
        let batch = encode_batch([payload.as_slice()]);
        bytes[HEADER_BYTES..HEADER_BYTES + batch.len()].copy_from_slice(&batch);
        assert_eq!(parse_segment(&bytes).unwrap().records.len(), 1);
        let too_long = (MAX_RECORD_BYTES as u32 + 1).to_be_bytes();
        bytes[HEADER_BYTES..HEADER_BYTES + 4].copy_from_slice(&too_long);
        let parsed = parse_segment(&bytes).unwrap();
        assert!(parsed.records.is_empty());
        match parsed.end {
            SegmentEnd::Torn { problem, .. } | SegmentEnd::Damaged { problem, .. } => {
                assert!(problem.contains("more than a record may be"), "{problem}")
            }
            other => panic!("{other:?}"),
        }
    }
}
