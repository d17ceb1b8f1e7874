//! Replaying and verifying the journal.
//!
//! Opening a ledger and `isthmus ledger verify` run the same replay: every
//! record's hash, the chain of previous hashes, sequence numbers, time order,
//! idempotency keys, and — by re-applying each operation to the state — every
//! recorded outcome and the final balances. Opening starts from its newest
//! usable snapshot; `verify` always from the first entry, on a fresh
//! [`LedgerState`], checking each snapshot on the way.

use std::collections::HashMap;

use isthmus_spec::ids::Hex32;

use crate::account::AccountRef;
use crate::error::{log_unavailable, LedgerFailure};
use crate::hashing::KeyedMap;
use crate::journal::{decode_entry, GENESIS_HASH};
use crate::snapshot;
use crate::state::LedgerState;
use isthmus_store::log::{LogError, LogFiles, SegmentLog};

/// The state a journal replays to, and the first problem found, if any.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    pub state: LedgerState,
    /// Entries that verified.
    pub entries: u64,
    /// Hash of the last verified entry.
    pub head_hash: Option<Hex32>,
    /// Time of the last verified entry.
    pub head_time_ms: u64,
    pub idempotency: KeyedMap<String, u64>,
    pub history: HashMap<AccountRef, Vec<u64>>,
    /// `(entry, what is wrong)`.
    pub problem: Option<(u64, String)>,
}

/// Replays and verifies the journal's entries after those `start` holds
/// (all of them from [`Replay::default`], or those after a snapshot), then
/// checks the conservation laws. After each entry that brings the count of
/// entries to one of `checkpoints` (ascending), `at_checkpoint` sees the
/// replay as it stands.
pub(crate) fn replay_from<F: LogFiles>(
    log: &SegmentLog<F>,
    start: Replay,
    checkpoints: &[u64],
    at_checkpoint: &mut dyn FnMut(&Replay),
) -> Result<Replay, LedgerFailure> {
    let mut replay = start;
    let from = replay.entries;
    let mut prev_hash = replay
        .head_hash
        .clone()
        .unwrap_or_else(|| Hex32::from_bytes(GENESIS_HASH));
    let mut checkpoints = checkpoints.iter().copied().peekable();
    while checkpoints.next_if(|&at| at <= replay.entries).is_some() {}
    let mut visit = |seq: u64, bytes: &[u8]| -> bool {
        match check_entry(&mut replay, seq, &prev_hash, bytes) {
            Ok(hash) => {
                prev_hash = hash;
                if checkpoints.next_if_eq(&replay.entries).is_some() {
                    at_checkpoint(&replay);
                }
                true
            }
            Err(problem) => {
                replay.problem = Some((seq, problem));
                false
            }
        }
    };
    log.scan(from, &mut visit)
        .map_err(|e| log_unavailable(&e))?;
    if replay.problem.is_none() {
        // Damage the log found when it was opened read-only: every entry
        // before it has just been verified.
        if let Some(damage) = log.damage() {
            replay.problem = Some((damage.record, damage.to_string()));
        }
    }
    if replay.problem.is_none() {
        if let Err(problem) = replay.state.check_invariants() {
            replay.problem = Some((
                replay.entries.saturating_sub(1),
                format!("after replay: {problem}"),
            ));
        }
    }
    Ok(replay)
}

fn check_entry(
    replay: &mut Replay,
    expected: u64,
    prev_hash: &Hex32,
    bytes: &[u8],
) -> Result<Hex32, String> {
    let (hash, entry) = decode_entry(bytes)?;
    if entry.seq != expected {
        return Err(format!("it says it is entry {}", entry.seq));
    }
    if &entry.prev_hash != prev_hash {
        return Err(format!(
            "its previous hash {} is not the hash {prev_hash} of the entry before it",
            entry.prev_hash
        ));
    }
    if entry.time_ms < replay.head_time_ms {
        return Err(format!(
            "its time {} is before the previous entry's {}",
            entry.time_ms, replay.head_time_ms
        ));
    }
    if let Some(first) = replay
        .idempotency
        .insert(entry.idempotency_key.clone(), expected)
    {
        return Err(format!(
            "its idempotency key \"{}\" was already used by entry {first}",
            entry.idempotency_key
        ));
    }
    let touched = replay.state.accounts_touched(&entry.operation);
    let outcome = replay
        .state
        .apply(expected, &entry.operation, entry.time_ms);
    if outcome != entry.outcome {
        return Err(format!(
            "it records {:?} but replaying its {} gives {:?}",
            entry.outcome,
            entry.operation.name(),
            outcome
        ));
    }
    for account in touched {
        replay.history.entry(account).or_default().push(expected);
    }
    replay.entries += 1;
    replay.head_hash = Some(hash.clone());
    replay.head_time_ms = entry.time_ms;
    Ok(hash)
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries that verified, from 0.
    pub entries_verified: u64,
    /// Hash of the last verified entry.
    pub head_hash: Option<Hex32>,
    /// Accounts after replay.
    pub accounts: usize,
    /// Locks still open after replay.
    pub open_locks: usize,
    /// Snapshots found beside the journal and compared with the replay.
    pub snapshots_checked: u64,
    /// The first entry that failed and why; `None` if the journal verifies.
    pub first_problem: Option<(u64, String)>,
}

/// Verifies a journal without opening a ledger on it: open its log with
/// [`SegmentLog::open_read_only`] (and [`crate::journal::JOURNAL_FORMAT`])
/// so that verifying never writes a byte. Every entry is replayed — no
/// snapshot is used — and every snapshot beside the journal is checked
/// against the state the replay reaches at its entry: a snapshot that is
/// damaged, disagrees, or covers entries the journal does not have is a
/// problem ([`VerifyReport::first_problem`]).
pub fn verify_journal<F: LogFiles>(log: &SegmentLog<F>) -> Result<VerifyReport, LedgerFailure> {
    let mut snapshots: Vec<(u64, String)> = log
        .files()
        .list()
        .map_err(|e| log_unavailable(&LogError::from(e)))?
        .into_iter()
        .filter_map(|name| snapshot::entries_of(&name).map(|entries| (entries, name)))
        .collect();
    snapshots.sort();
    let checkpoints: Vec<u64> = snapshots.iter().map(|(entries, _)| *entries).collect();
    let mut snapshot_problem: Option<(u64, String)> = None;
    let mut checked = 0u64;
    // What each snapshot checked so far is, as the base of the next: the
    // digest found in its file, and the locks open at its entry.
    let mut bases: HashMap<u64, snapshot::Base> = HashMap::new();
    bases.insert(0, snapshot::Base::default());
    let mut check = |replay: &Replay| {
        for (_, name) in snapshots
            .iter()
            .filter(|(entries, _)| *entries == replay.entries)
        {
            let at = replay.entries - 1;
            let found = match log.files().read(name, snapshot::MAX_SNAPSHOT_BYTES) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => continue,
                Err(error) => {
                    snapshot_problem.get_or_insert((at, format!("{name} cannot be read: {error}")));
                    continue;
                }
            };
            checked += 1;
            let header = match snapshot::header(&found) {
                Ok(header) => header,
                Err(why) => {
                    snapshot_problem.get_or_insert((at, format!("{name}: {why}")));
                    continue;
                }
            };
            let base = match bases.get(&header.base_entries) {
                Some(base) if base.digest == header.base_digest => base,
                _ => {
                    snapshot_problem.get_or_insert((
                        at,
                        format!(
                            "{name} extends a snapshot of {} entries that is not beside it",
                            header.base_entries
                        ),
                    ));
                    continue;
                }
            };
            let expected = snapshot::encode(&snapshot::SnapshotOf {
                entries: replay.entries,
                head_hash: replay
                    .head_hash
                    .as_ref()
                    .unwrap_or(&Hex32::from_bytes(GENESIS_HASH)),
                head_time_ms: replay.head_time_ms,
                state: &replay.state,
                idempotency: &replay.idempotency,
                history: snapshot::history_of(&replay.history),
                base,
            });
            if found != expected {
                snapshot_problem.get_or_insert((
                    at,
                    format!("{name} is not the state the journal reaches at entry {at}"),
                ));
                continue;
            }
            // Only a snapshot found right is a base the next may extend.
            bases.insert(
                replay.entries,
                snapshot::Base {
                    entries: replay.entries,
                    digest: header.digest,
                    open_locks: replay.state.open_lock_ids(),
                },
            );
        }
    };
    let mut replay = replay_from(log, Replay::default(), &checkpoints, &mut check)?;
    if replay.problem.is_none() {
        if let Some((entries, name)) = snapshots
            .iter()
            .find(|(entries, _)| *entries > replay.entries)
        {
            replay.problem = Some((
                replay.entries,
                format!(
                    "{name} covers {entries} entries but the journal holds {}: entries are missing from the journal",
                    replay.entries
                ),
            ));
        }
    }
    if replay.problem.is_none() {
        replay.problem = snapshot_problem;
    }
    Ok(VerifyReport {
        entries_verified: replay.entries,
        head_hash: replay.head_hash,
        accounts: replay.state.account_count(),
        open_locks: replay
            .state
            .htlcs()
            .filter(|h| h.status == crate::state::HtlcStatus::Open)
            .count(),
        snapshots_checked: checked,
        first_problem: replay.problem,
    })
}

/// Verifies the journal on `files`, opened read-only: never writes a byte.
/// `Err` when the files hold no ledger journal at all (or cannot be read);
/// damage is reported in [`VerifyReport::first_problem`].
pub fn verify_files<F: LogFiles>(files: F) -> Result<VerifyReport, LedgerFailure> {
    let log = SegmentLog::open_read_only(files, crate::journal::JOURNAL_FORMAT)
        .map_err(|e| log_unavailable(&e))?;
    verify_journal(&log)
}
