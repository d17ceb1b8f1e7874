//! Snapshots: the ledger's state after entry *N − 1*, kept beside the
//! journal so that opening replays only the entries after it.
//!
//! Snapshots form a chain. The first holds the whole state; each one after
//! *extends* the one before it (its *base*, named by entries and SHA-256)
//! and holds only what may have changed since: the accounts, holdings and
//! issued totals whole (they are few), the locks open in the base or made
//! since (a closed lock never changes), and the idempotency keys and the
//! account history of the entries since the base. So a snapshot costs what
//! the entries since the last one cost, not what the ledger's whole history
//! does, and opening folds the chain from its first snapshot to its newest.
//!
//! A snapshot is a cache of the journal's fold, never a record of its own:
//! a chain is used only if every SHA-256 holds, each snapshot extends the
//! one before it, and the journal's entry *N − 1* hashes to the head hash
//! the newest names; `verify` still replays the whole journal and checks
//! every snapshot, byte for byte, against the state it reaches at that
//! entry. A snapshot that fails a check is ignored (and said so), never
//! trusted and never removed by a reader.
//!
//! The encoding is a pure function of the ledger's logical state and the
//! base (maps are written sorted), so `verify` compares bytes. Layout, all
//! integers little-endian, strings as a `u32` length and UTF-8 bytes:
//!
//! ```text
//! MAGIC
//! u64 entries · [32] head hash · u64 head time (ms) · u64 base's entries · [32] base's SHA-256
//!           (0 and zeros: the first snapshot, which extends none)
//! assets:   u64 n, n × (u8 kind: 0 security, 1 cash · str ISIN or currency code)
//! accounts: u64 n, n × (str id · u8 frozen · u64 h, h × (u32 asset · u64 available · u64 locked))
//! issued:   u64 n, n × (u32 asset · u128 units)
//! locks:    u64 n, n × (u64 id · u64 locker's place · u64 beneficiary's place · u32 asset ·
//!                       u64 units · [32] hashlock · u64 expiry · u8 status (0 open, 1 claimed,
//!                       2 refunded) · claimed: u64 at · [32] preimage · refunded: u64 at),
//!           those open in the base and those made since, by id
//! keys:     u64 n, n × (str idempotency key · u64 entry), the entries since the base, in order
//! history:  u64 n, n × (str account id · u64 m, m × u64 entry), the entries since the base,
//!           sorted by id, accounts without any left out
//! [32] SHA-256 of everything before it
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use isthmus_spec::ident::{Currency, Isin};
use isthmus_spec::ids::{Hashlock, Hex32, Preimage};

use crate::account::{parse_account, AccountRef};
use crate::asset::Asset;
use crate::hashing::KeyedMap;
use crate::key;
use crate::state::{Holding, Htlc, HtlcStatus, LedgerState};
use crate::verify::Replay;

/// The first bytes of every snapshot file: what it is, and its layout's version.
pub const SNAPSHOT_MAGIC: &[u8] = b"isthmus ledger snapshot v2\n";

/// The largest snapshot file read (a bound, so a file that is not ours is
/// never read without one): 64 GiB.
pub const MAX_SNAPSHOT_BYTES: u64 = 64 << 30;

/// The most items a decoder reserves room for before it has read them: a
/// count is checked against the bytes left, but reserving for all of them
/// at once could still take several times the file's size.
const FIRST_CAPACITY: usize = 65_536;

/// The longest string a snapshot holds (account ids and idempotency keys are far shorter).
const MAX_STRING_BYTES: usize = 1024;

/// The name of the snapshot taken after `entries` entries.
pub fn file_name(entries: u64) -> String {
    format!("snapshot-{entries:016x}.bin")
}

/// The entries a snapshot file's name says it covers; `None` for any
/// other name.
pub fn entries_of(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("snapshot-")?.strip_suffix(".bin")?;
    if hex.len() != 16 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// What a snapshot is taken of: a ledger's books, or a replay's, and the
/// snapshot it extends.
pub(crate) struct SnapshotOf<'a> {
    pub entries: u64,
    pub head_hash: &'a Hex32,
    pub head_time_ms: u64,
    pub state: &'a LedgerState,
    pub idempotency: &'a KeyedMap<String, u64>,
    /// Each account's entries (those before its opening, then after), sorted by id.
    pub history: Vec<(&'a AccountRef, &'a [u64], &'a [u64])>,
    pub base: &'a Base,
}

/// The snapshot a new one extends: the entries it covers (0 and no digest
/// for none), its SHA-256, and the locks open in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Base {
    pub entries: u64,
    pub digest: [u8; 32],
    /// Increasing lock ids.
    pub open_locks: Vec<u64>,
}

/// A replay's history by id, as [`SnapshotOf::history`] takes it.
pub(crate) fn history_of(
    by_id: &HashMap<AccountRef, Vec<u64>>,
) -> Vec<(&AccountRef, &[u64], &[u64])> {
    let mut rows: Vec<(&AccountRef, &[u64], &[u64])> = by_id
        .iter()
        .map(|(id, seqs)| (id, seqs.as_slice(), &[][..]))
        .collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
    rows
}

struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }
    fn u32(&mut self, value: u32) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }
    fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }
    fn count(&mut self, value: usize) {
        self.u64(value as u64);
    }
    fn bytes32(&mut self, value: &[u8; 32]) {
        self.bytes.extend_from_slice(value);
    }
    fn str(&mut self, value: &str) {
        assert!(
            value.len() <= MAX_STRING_BYTES,
            "a snapshot string is at most {MAX_STRING_BYTES} bytes"
        );
        self.u32(value.len() as u32);
        self.bytes.extend_from_slice(value.as_bytes());
    }
}

/// The snapshot's bytes.
pub(crate) fn encode(of: &SnapshotOf<'_>) -> Vec<u8> {
    let base = of.base;
    assert!(
        base.entries <= of.entries,
        "a snapshot after {} entries extends one after {}",
        of.entries,
        base.entries
    );
    let locks = of.state.locks_changed_since(base.entries, &base.open_locks);
    let new_entries = (of.entries - base.entries) as usize;
    let mut w = Writer {
        bytes: Vec::with_capacity(SNAPSHOT_MAGIC.len() + 48 * new_entries + 160 * locks.len()),
    };
    w.bytes.extend_from_slice(SNAPSHOT_MAGIC);
    w.u64(of.entries);
    w.bytes32(of.head_hash.bytes());
    w.u64(of.head_time_ms);
    w.u64(base.entries);
    w.bytes32(&base.digest);

    let accounts = of.state.accounts_by_place();
    let mut assets: BTreeSet<&Asset> = of.state.issued().keys().collect();
    for (_, _, holdings) in &accounts {
        assets.extend(holdings.keys());
    }
    assets.extend(locks.iter().map(|(htlc, _, _)| &htlc.asset));
    let asset_index: BTreeMap<&Asset, u32> = assets
        .iter()
        .enumerate()
        .map(|(i, asset)| (*asset, i as u32))
        .collect();
    let index = |asset: &Asset| asset_index.get(asset).copied().unwrap_or(u32::MAX);
    w.count(assets.len());
    for asset in &assets {
        // Tagged as the journal tags them, so any asset a journal holds
        // (a currency without minor units among them) decodes again.
        match asset {
            Asset::Security(isin) => {
                w.u8(0);
                w.str(&isin.to_string());
            }
            Asset::Cash(currency) => {
                w.u8(1);
                w.str(&currency.to_string());
            }
        }
    }

    w.count(accounts.len());
    for (id, frozen, holdings) in &accounts {
        w.str(&id.to_string());
        w.u8(u8::from(*frozen));
        w.count(holdings.len());
        for (asset, holding) in holdings.iter() {
            w.u32(index(asset));
            w.u64(holding.available);
            w.u64(holding.locked);
        }
    }

    w.count(of.state.issued().len());
    for (asset, units) in of.state.issued() {
        w.u32(index(asset));
        w.bytes.extend_from_slice(&units.to_le_bytes());
    }

    w.count(locks.len());
    for (htlc, from_at, beneficiary_at) in locks {
        w.u64(htlc.lock_id);
        w.count(from_at);
        w.count(beneficiary_at);
        w.u32(index(&htlc.asset));
        w.u64(htlc.units);
        w.bytes32(htlc.hashlock.bytes());
        w.u64(htlc.expiry_ms);
        match &htlc.status {
            HtlcStatus::Open => w.u8(0),
            HtlcStatus::Claimed { at_ms, preimage } => {
                w.u8(1);
                w.u64(*at_ms);
                w.bytes32(preimage.bytes());
            }
            HtlcStatus::Refunded { at_ms } => {
                w.u8(2);
                w.u64(*at_ms);
            }
        }
    }

    // The keys of the entries since the base, in the order of the entries
    // they name (each names its own): a pass over a table by entry, where
    // sorting the keys as text costs seconds on millions of keys.
    let mut by_entry: Vec<Option<&str>> = vec![None; new_entries];
    for (key, &seq) in of.idempotency {
        assert!(
            seq < of.entries,
            "idempotency key {key} names entry {seq} of {}",
            of.entries
        );
        let Some(offset) = seq.checked_sub(base.entries) else {
            continue;
        };
        let slot = &mut by_entry[offset as usize];
        assert!(slot.is_none(), "two idempotency keys name entry {seq}");
        *slot = Some(key);
    }
    // Every journal entry has its own key (the decoder holds a snapshot to it).
    assert!(
        by_entry.iter().all(Option::is_some),
        "an entry after {} has no idempotency key",
        base.entries
    );
    w.count(by_entry.len());
    for (seq, key) in (base.entries..).zip(by_entry.iter().flatten()) {
        w.str(key);
        w.u64(seq);
    }

    // Each account's entries since the base.
    let since = |seqs: &'_ [u64]| -> usize { seqs.partition_point(|&seq| seq < base.entries) };
    let rows: Vec<(&AccountRef, &[u64], &[u64])> = of
        .history
        .iter()
        .map(|&(id, early, late)| (id, &early[since(early)..], &late[since(late)..]))
        .filter(|(_, early, late)| !early.is_empty() || !late.is_empty())
        .collect();
    w.count(rows.len());
    for (id, early, late) in rows {
        w.str(&id.to_string());
        w.count(early.len() + late.len());
        for seq in early.iter().chain(late.iter()) {
            w.u64(*seq);
        }
    }

    let digest = Hex32::sha256_of(&w.bytes);
    w.bytes32(digest.bytes());
    w.bytes
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "it ends at byte {} in the middle of a value",
                    self.bytes.len()
                )
            })?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn u128(&mut self) -> Result<u128, String> {
        Ok(u128::from_le_bytes(self.array()?))
    }
    fn place(&mut self) -> Result<usize, String> {
        usize::try_from(self.u64()?).map_err(|_| "a place does not fit this machine".to_string())
    }
    /// A count of items at least `item_bytes` long each: never more than
    /// the bytes left could hold, so no count makes a huge allocation.
    fn count(&mut self, item_bytes: usize) -> Result<usize, String> {
        let count = self.u64()?;
        let room = (self.bytes.len() - self.at) / item_bytes.max(1);
        usize::try_from(count)
            .ok()
            .filter(|&count| count <= room)
            .ok_or_else(|| format!("it counts {count} items where at most {room} fit"))
    }
    fn str(&mut self) -> Result<&'a str, String> {
        let length = self.u32()? as usize;
        if length > MAX_STRING_BYTES {
            return Err(format!(
                "a string of {length} bytes, more than {MAX_STRING_BYTES}"
            ));
        }
        std::str::from_utf8(self.take(length)?).map_err(|_| "a string is not UTF-8".to_string())
    }
}

/// What a snapshot's first bytes say, once its SHA-256 is found to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// The entries it covers.
    pub entries: u64,
    pub head_hash: Hex32,
    pub head_time_ms: u64,
    /// The entries the snapshot it extends covers (0: none).
    pub base_entries: u64,
    /// That snapshot's SHA-256.
    pub base_digest: [u8; 32],
    /// Its own SHA-256, the last 32 bytes of the file.
    pub digest: [u8; 32],
}

/// The header of a whole, undamaged snapshot; `Err` says why the bytes are not one.
pub(crate) fn header(bytes: &[u8]) -> Result<Header, String> {
    if !bytes.starts_with(SNAPSHOT_MAGIC) {
        return Err("it does not start as a ledger snapshot does".into());
    }
    let Some(body_end) = bytes.len().checked_sub(32) else {
        return Err("it is too short to be a snapshot".into());
    };
    if body_end < SNAPSHOT_MAGIC.len()
        || Hex32::sha256_of(&bytes[..body_end]).bytes()[..] != bytes[body_end..]
    {
        return Err("its SHA-256 does not match its contents".into());
    }
    let mut r = Reader {
        bytes: &bytes[..body_end],
        at: SNAPSHOT_MAGIC.len(),
    };
    let entries = r.u64()?;
    let head_hash = Hex32::from_bytes(r.array()?);
    let head_time_ms = r.u64()?;
    let base_entries = r.u64()?;
    let base_digest = r.array()?;
    if base_entries >= entries {
        return Err(format!(
            "it covers {entries} entries and extends a snapshot of {base_entries}"
        ));
    }
    if (base_entries == 0) != (base_digest == [0; 32]) {
        return Err("it names a base snapshot's digest without one, or one without it".into());
    }
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&bytes[body_end..]);
    Ok(Header {
        entries,
        head_hash,
        head_time_ms,
        base_entries,
        base_digest,
        digest,
    })
}

/// The state a chain of snapshots folds to, one snapshot at a time, from
/// the first (which extends none) to the newest.
#[derive(Debug, Default)]
pub(crate) struct Chain {
    entries: u64,
    digest: [u8; 32],
    head_hash: Option<Hex32>,
    head_time_ms: u64,
    accounts: Vec<(AccountRef, bool, BTreeMap<Asset, Holding>)>,
    issued: BTreeMap<Asset, u128>,
    /// By id.
    locks: Vec<(Htlc, usize, usize)>,
    /// How many of `locks` are open.
    open_locks: usize,
    idempotency: KeyedMap<String, u64>,
    history: HashMap<AccountRef, Vec<u64>>,
}

impl Chain {
    /// Adds the snapshot `bytes` (whose [`header`] is `header`) to the
    /// chain; `Err` says why it cannot follow what the chain holds, or why
    /// its contents could not be a journal's fold. The chain is not to be
    /// used after an `Err`.
    pub(crate) fn extend(&mut self, bytes: &[u8], header: &Header) -> Result<(), String> {
        if header.base_entries != self.entries || header.base_digest != self.digest {
            return Err(format!(
                "it extends a snapshot of {} entries that is not the one before it",
                header.base_entries
            ));
        }
        let (base, entries) = (header.base_entries, header.entries);
        let mut r = Reader {
            bytes: &bytes[..bytes.len() - 32],
            at: SNAPSHOT_MAGIC.len() + 8 + 32 + 8 + 8 + 32,
        };

        let asset_count = r.count(5)?;
        let mut assets = Vec::with_capacity(asset_count.min(FIRST_CAPACITY));
        for _ in 0..asset_count {
            let tag = r.u8()?;
            let text = r.str()?;
            let asset = match tag {
                0 => Isin::parse(text).map(Asset::Security),
                1 => Currency::parse(text).map(Asset::Cash),
                other => return Err(format!("asset \"{text}\" has kind {other}")),
            };
            assets.push(asset.map_err(|e| format!("asset \"{text}\": {}", e.message))?);
        }
        let asset = |index: u32| {
            assets
                .get(index as usize)
                .cloned()
                .ok_or_else(|| format!("asset {index} is not in its table"))
        };

        let account_count = r.count(13)?;
        if account_count < self.accounts.len() {
            return Err(format!(
                "it has {account_count} accounts, fewer than the {} before it",
                self.accounts.len()
            ));
        }
        let mut accounts = Vec::with_capacity(account_count.min(FIRST_CAPACITY));
        for at in 0..account_count {
            let text = r.str()?;
            let id = parse_account(text).map_err(|e| e.message)?;
            // An account keeps its place for the ledger's life.
            if self
                .accounts
                .get(at)
                .is_some_and(|(known, _, _)| *known != id)
            {
                return Err(format!("account {id} is at place {at}, another's"));
            }
            let frozen = match r.u8()? {
                0 => false,
                1 => true,
                other => return Err(format!("account {id}: frozen is {other}")),
            };
            let holding_count = r.count(20)?;
            let mut holdings = BTreeMap::new();
            for _ in 0..holding_count {
                let asset = asset(r.u32()?)?;
                let holding = Holding {
                    available: r.u64()?,
                    locked: r.u64()?,
                };
                if holdings.insert(asset, holding).is_some() {
                    return Err(format!("account {id} lists an asset twice"));
                }
            }
            accounts.push((id, frozen, holdings));
        }

        let issued_count = r.count(20)?;
        let mut issued = BTreeMap::new();
        for _ in 0..issued_count {
            let asset = asset(r.u32()?)?;
            if issued.insert(asset, r.u128()?).is_some() {
                return Err("an asset is issued twice".into());
            }
        }

        // Every lock open at the base, then every lock made since.
        let mut listed_open_at_base = 0;
        let mut open_now = 0;
        let lock_count = r.count(77)?;
        let mut last_id = None;
        for _ in 0..lock_count {
            let lock_id = r.u64()?;
            if lock_id >= entries || last_id.is_some_and(|last| last >= lock_id) {
                return Err(format!(
                    "lock {lock_id} is out of order or not among its {entries} entries"
                ));
            }
            last_id = Some(lock_id);
            // Where it goes: in place of itself if it was open at the base,
            // else after every lock before it (all made before the base).
            let place = if lock_id < base {
                match self
                    .locks
                    .binary_search_by_key(&lock_id, |(htlc, _, _)| htlc.lock_id)
                {
                    Ok(at) if self.locks[at].0.status == HtlcStatus::Open => {
                        listed_open_at_base += 1;
                        Some(at)
                    }
                    _ => {
                        return Err(format!(
                            "lock {lock_id} was not open in the snapshot it extends"
                        ))
                    }
                }
            } else {
                None
            };
            let (from_at, beneficiary_at) = (r.place()?, r.place()?);
            let account_at = |at: usize| {
                accounts
                    .get(at)
                    .map(|(id, _, _)| id.clone())
                    .ok_or_else(|| format!("lock {lock_id} names place {at}, which no account has"))
            };
            let htlc = Htlc {
                lock_id,
                from: account_at(from_at)?,
                beneficiary: account_at(beneficiary_at)?,
                asset: asset(r.u32()?)?,
                units: r.u64()?,
                hashlock: Hashlock::from_bytes(r.array()?),
                expiry_ms: r.u64()?,
                status: match r.u8()? {
                    0 => HtlcStatus::Open,
                    1 => HtlcStatus::Claimed {
                        at_ms: r.u64()?,
                        preimage: Preimage::from_bytes(r.array()?),
                    },
                    2 => HtlcStatus::Refunded { at_ms: r.u64()? },
                    other => return Err(format!("lock {lock_id}: status {other}")),
                },
            };
            if htlc.status == HtlcStatus::Open {
                open_now += 1;
            }
            match place {
                Some(at) => {
                    // Listed again, it may have closed; nothing else about it changes.
                    let (known, known_from, known_beneficiary) = &self.locks[at];
                    let as_it_was = Htlc {
                        status: HtlcStatus::Open,
                        ..htlc.clone()
                    };
                    if as_it_was != *known
                        || (*known_from, *known_beneficiary) != (from_at, beneficiary_at)
                    {
                        return Err(format!(
                            "lock {lock_id} is not the lock the snapshot it extends holds"
                        ));
                    }
                    self.locks[at] = (htlc, from_at, beneficiary_at);
                }
                None => self.locks.push((htlc, from_at, beneficiary_at)),
            }
        }
        if listed_open_at_base != self.open_locks {
            return Err(format!(
                "it lists {listed_open_at_base} of the {} locks open in the snapshot it extends",
                self.open_locks
            ));
        }
        // Every lock open now is one it lists.
        self.open_locks = open_now;

        // Every journaled entry has its own key, so there is one per entry.
        let key_count = r.count(12)?;
        if key_count as u64 != entries - base {
            return Err(format!(
                "{key_count} idempotency keys for the {} entries after {base}",
                entries - base
            ));
        }
        self.idempotency.reserve(key_count);
        let mut last_seq = None;
        for _ in 0..key_count {
            let text = r.str()?;
            key::check(text).map_err(|e| e.message)?;
            let seq = r.u64()?;
            // In the order of their entries, one each: increasing, from `base` to `entries`.
            if seq < base || seq >= entries || last_seq.is_some_and(|last| last >= seq) {
                return Err(format!(
                    "idempotency key \"{text}\" names entry {seq} out of order"
                ));
            }
            last_seq = Some(seq);
            if self.idempotency.insert(text.to_string(), seq).is_some() {
                return Err(format!("idempotency key \"{text}\" is repeated"));
            }
        }

        let history_count = r.count(12)?;
        let mut seen = BTreeSet::new();
        for _ in 0..history_count {
            let text = r.str()?;
            let id = parse_account(text).map_err(|e| e.message)?;
            if !seen.insert(id.clone()) {
                return Err(format!("account {text}'s history appears twice"));
            }
            let seqs = self.history.entry(id).or_default();
            let seq_count = r.count(8)?;
            seqs.reserve(seq_count.min(FIRST_CAPACITY));
            for _ in 0..seq_count {
                let seq = r.u64()?;
                // An entry may name an account twice (a transfer to itself).
                if seq < base || seq >= entries || seqs.last().is_some_and(|&last| last > seq) {
                    return Err(format!(
                        "account {text}'s history names entry {seq} out of order"
                    ));
                }
                seqs.push(seq);
            }
        }
        if r.at != r.bytes.len() {
            return Err(format!(
                "{} bytes follow its last part",
                r.bytes.len() - r.at
            ));
        }
        self.entries = entries;
        self.digest = header.digest;
        self.head_hash = Some(header.head_hash.clone());
        self.head_time_ms = header.head_time_ms;
        self.accounts = accounts;
        self.issued = issued;
        Ok(())
    }

    /// The replay state the chain folds to, and the base a snapshot taken
    /// next extends.
    pub(crate) fn finish(self) -> Result<(Replay, Base), String> {
        let locks = self.locks;
        let open_locks = locks
            .iter()
            .filter(|(htlc, _, _)| htlc.status == HtlcStatus::Open)
            .map(|(htlc, _, _)| htlc.lock_id)
            .collect();
        let state = LedgerState::from_parts(self.accounts, self.issued, locks)?;
        let base = Base {
            entries: self.entries,
            digest: self.digest,
            open_locks,
        };
        Ok((
            Replay {
                state,
                entries: self.entries,
                // Set with the entries by every snapshot folded: none for none.
                head_hash: self.head_hash,
                head_time_ms: self.head_time_ms,
                idempotency: self.idempotency,
                history: self.history,
                problem: None,
            },
            base,
        ))
    }
}

/// A lone snapshot that extends none, folded: its replay state; `Err` says
/// why the bytes are not one.
#[cfg(test)]
pub(crate) fn decode(bytes: &[u8]) -> Result<Replay, String> {
    let header = header(bytes)?;
    let mut chain = Chain::default();
    chain.extend(bytes, &header)?;
    Ok(chain.finish()?.0)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The body's first parts, after the magic: `entries`, a head hash and
    /// time, and no assets, accounts, issued units or locks.
    fn empty_state(entries: u64, head: [u8; 32], head_time_ms: u64) -> Vec<u8> {
        let mut w = Writer { bytes: Vec::new() };
        w.u64(entries);
        w.bytes32(&head);
        w.u64(head_time_ms);
        // The first snapshot: it extends none.
        w.u64(0);
        w.bytes32(&[0; 32]);
        for _ in 0..4 {
            w.count(0);
        }
        w.bytes
    }

    /// A snapshot's bytes from parts written by hand, its SHA-256 appended:
    /// `keys` as (key, entry), no accounts, assets or locks.
    fn handmade(entries: u64, keys: &[(&str, u64)], history: &[(&str, &[u64])]) -> Vec<u8> {
        let mut w = Writer {
            bytes: SNAPSHOT_MAGIC.to_vec(),
        };
        w.bytes.extend_from_slice(&empty_state(entries, [7; 32], 1));
        w.count(keys.len());
        for (key, seq) in keys {
            w.str(key);
            w.u64(*seq);
        }
        w.count(history.len());
        for (id, seqs) in history {
            w.str(id);
            w.count(seqs.len());
            for seq in *seqs {
                w.u64(*seq);
            }
        }
        let digest = Hex32::sha256_of(&w.bytes);
        w.bytes32(digest.bytes());
        w.bytes
    }

    #[test]
    fn a_handmade_snapshot_decodes_and_encodes_to_the_same_bytes() {
        let bytes = handmade(2, &[("a", 0), ("b", 1)], &[("DEUTDEFF/X", &[0, 1, 1])]);
        let replay = decode(&bytes).unwrap();
        assert_eq!((replay.entries, replay.head_time_ms), (2, 1));
        let again = encode(&SnapshotOf {
            entries: replay.entries,
            head_hash: replay.head_hash.as_ref().unwrap(),
            head_time_ms: replay.head_time_ms,
            state: &replay.state,
            idempotency: &replay.idempotency,
            history: history_of(&replay.history),
            base: &Base::default(),
        });
        assert_eq!(again, bytes);
    }

    /// Snapshots that hash right but cannot be a journal's fold: refused,
    /// so that nothing built on them breaks an invariant later.
    #[test]
    fn a_snapshot_that_no_journal_could_give_is_refused() {
        let cases: [(Vec<u8>, &str); 6] = [
            (handmade(2, &[("a", 0), ("b", 0)], &[]), "out of order"),
            (handmade(2, &[("a", 1), ("b", 0)], &[]), "out of order"),
            (handmade(2, &[("a", 0), ("b", 2)], &[]), "out of order"),
            (
                handmade(3, &[("a", 0), ("b", 1)], &[]),
                "2 idempotency keys for the 3 entries after 0",
            ),
            (
                handmade(2, &[("a", 0), ("b", 1)], &[("DEUTDEFF/X", &[1, 0])]),
                "out of order",
            ),
            (
                handmade(2, &[("a", 0), ("b", 1)], &[("DEUTDEFF/X", &[2])]),
                "out of order",
            ),
        ];
        for (bytes, why) in cases {
            let refused = decode(&bytes).err().unwrap_or_default();
            assert!(refused.contains(why), "{refused:?} should say {why:?}");
        }
        let mut damaged = handmade(2, &[("a", 0), ("b", 1)], &[]);
        let middle = damaged.len() / 2;
        damaged[middle] ^= 1;
        assert!(decode(&damaged).unwrap_err().contains("SHA-256"));
        assert!(decode(SNAPSHOT_MAGIC).is_err());
        assert!(decode(b"isthmus ledger snapshot v1\n").is_err());
        assert!(decode(b"").is_err());
    }

    /// Bytes whose digest holds but whose body is `body`, after the magic.
    fn with_digest(body: &[u8]) -> Vec<u8> {
        let mut bytes = SNAPSHOT_MAGIC.to_vec();
        bytes.extend_from_slice(body);
        let digest = Hex32::sha256_of(&bytes);
        bytes.extend_from_slice(digest.bytes());
        bytes
    }

    /// Where a snapshot ends early, and what it counts beyond its bytes,
    /// are said as such.
    #[test]
    fn a_snapshot_that_ends_early_or_counts_too_much_says_so() {
        // The magic and a digest, nothing between: it ends before its first value.
        let empty = decode(&with_digest(b"")).unwrap_err();
        assert!(empty.contains("ends at byte"), "{empty}");
        // 20 keys announced for 20 entries, with 100 bytes left: at most 8 fit.
        let mut w = Writer {
            bytes: empty_state(20, [0; 32], 0),
        };
        w.count(20);
        w.bytes.extend_from_slice(&[0; 100]);
        let counted = decode(&with_digest(&w.bytes)).unwrap_err();
        assert!(
            counted.contains("counts 20 items where at most 8 fit"),
            "{counted}"
        );
    }

    /// Strings up to 1,024 bytes are read (a key that long is then refused
    /// as a key); a longer one is refused as a string.
    #[test]
    fn strings_are_read_up_to_their_bound() {
        for (length, expected) in [
            (1024usize, "idempotency key"),
            (1025, "a string of 1025 bytes"),
        ] {
            let mut w = Writer {
                bytes: empty_state(1, [0; 32], 0),
            };
            w.count(1);
            w.u32(length as u32);
            w.bytes.extend(std::iter::repeat_n(b'k', length));
            w.u64(0);
            w.count(0);
            let refused = decode(&with_digest(&w.bytes)).unwrap_err();
            assert!(refused.contains(expected), "{length}: {refused}");
        }
    }

    /// A state of two funded accounts with one open lock of `units` cents (entry 4).
    fn with_open_lock(units: &str) -> (LedgerState, KeyedMap<String, u64>) {
        let hashlock = *Hex32::sha256_of(b"secret").bytes();
        let operations = [
            crate::Operation::open_account("DEUTDEFF/A").unwrap(),
            crate::Operation::open_account("CHASUS33/B").unwrap(),
            crate::Operation::issue("DEUTDEFF/A", "USD", "10.00").unwrap(),
            crate::Operation::transfer("DEUTDEFF/A", "CHASUS33/B", "USD", "1.00").unwrap(),
            crate::Operation::lock("DEUTDEFF/A", "CHASUS33/B", "USD", units, &hashlock, 50)
                .unwrap(),
        ];
        let mut state = LedgerState::default();
        let mut keys = KeyedMap::default();
        for (seq, operation) in (0u64..).zip(&operations) {
            assert!(state.apply(seq, operation, 1).is_applied());
            keys.insert(format!("k{seq}"), seq);
        }
        (state, keys)
    }

    fn snapshot_of(
        state: &LedgerState,
        keys: &KeyedMap<String, u64>,
        entries: u64,
        base: &Base,
    ) -> Vec<u8> {
        encode(&SnapshotOf {
            entries,
            head_hash: &Hex32::sha256_of(b"head"),
            head_time_ms: 1,
            state,
            idempotency: keys,
            history: Vec::new(),
            base,
        })
    }

    /// A chain folds to the state its newest snapshot was taken of; a later
    /// snapshot that lists a lock open in its base with anything but its
    /// status changed is refused, as is one that extends another base.
    #[test]
    fn a_chain_folds_and_a_lock_changed_in_place_is_refused() {
        let (state, mut keys) = with_open_lock("0.50");
        let first = snapshot_of(&state, &keys, 5, &Base::default());
        let first_header = header(&first).unwrap();
        let base = Base {
            entries: 5,
            digest: first_header.digest,
            open_locks: state.open_lock_ids(),
        };
        assert_eq!(base.open_locks, [4]);
        keys.insert("k5".into(), 5);
        // The same lock, re-listed as it is: fine; with other units: refused.
        let same = snapshot_of(&state, &keys, 6, &base);
        let (other_state, _) = with_open_lock("0.60");
        let other = snapshot_of(&other_state, &keys, 6, &base);
        let fold = |second: &[u8]| {
            let mut chain = Chain::default();
            chain.extend(&first, &first_header).unwrap();
            chain
                .extend(second, &header(second).unwrap())
                .map(|()| chain)
        };
        let (replay, next) = fold(&same).unwrap().finish().unwrap();
        assert_eq!(
            (replay.entries, next.entries, next.open_locks),
            (6, 6, vec![4])
        );
        assert_eq!(
            replay.state.htlcs().collect::<Vec<_>>(),
            state.htlcs().collect::<Vec<_>>()
        );
        let refused = fold(&other).err().unwrap_or_default();
        assert!(refused.contains("lock 4 is not the lock"), "{refused}");
        // The same lock closed since the base (refunded after its expiry): fine.
        let mut closed = state.clone();
        assert!(closed
            .apply(5, &crate::Operation::Refund { lock_id: 4 }, 60)
            .is_applied());
        let (replay, next) = fold(&snapshot_of(&closed, &keys, 6, &base))
            .unwrap()
            .finish()
            .unwrap();
        assert!(next.open_locks.is_empty());
        assert_eq!(
            replay.state.htlcs().collect::<Vec<_>>(),
            closed.htlcs().collect::<Vec<_>>()
        );
        // Extending a base that is not the chain's end.
        let stray = snapshot_of(
            &state,
            &keys,
            6,
            &Base {
                digest: [9; 32],
                ..base.clone()
            },
        );
        let refused = fold(&stray).err().unwrap_or_default();
        assert!(refused.contains("not the one before it"), "{refused}");
    }

    /// Locks a journal could not give: one beyond the entries the snapshot
    /// covers, and one re-listed though it was closed in the base.
    #[test]
    fn a_lock_beyond_the_entries_or_relisted_once_closed_is_refused() {
        // Lock 4 in a snapshot of 4 entries.
        let (state, mut keys) = with_open_lock("0.50");
        keys.remove("k4");
        let beyond = snapshot_of(&state, &keys, 4, &Base::default());
        let refused = decode(&beyond).err().unwrap_or_default();
        assert!(
            refused.contains("lock 4 is out of order or not among its 4 entries"),
            "{refused}"
        );

        // Lock 4 refunded in the base (after its expiry), listed again by the
        // next as if it were open there.
        let (mut closed, mut keys) = with_open_lock("0.50");
        keys.insert("k5".into(), 5);
        assert!(closed
            .apply(5, &crate::Operation::Refund { lock_id: 4 }, 60)
            .is_applied());
        let first = snapshot_of(&closed, &keys, 6, &Base::default());
        let first_header = header(&first).unwrap();
        keys.insert("k6".into(), 6);
        let forged_base = Base {
            entries: 6,
            digest: first_header.digest,
            open_locks: vec![4],
        };
        let second = snapshot_of(&closed, &keys, 7, &forged_base);
        let mut chain = Chain::default();
        chain.extend(&first, &first_header).unwrap();
        let refused = chain
            .extend(&second, &header(&second).unwrap())
            .err()
            .unwrap_or_default();
        assert!(
            refused.contains("lock 4 was not open in the snapshot it extends"),
            "{refused}"
        );
    }

    #[test]
    fn snapshot_names_say_the_entries_they_cover_and_nothing_else_is_one() {
        assert_eq!(file_name(26), "snapshot-000000000000001a.bin");
        assert_eq!(entries_of("snapshot-000000000000001a.bin"), Some(26));
        for other in [
            "snapshot-000000000000001A.bin",
            "snapshot-1a.bin",
            "snapshot-000000000000001a.tmp",
            "segment-000000000000001a.log",
            "snapshot-00000000000000-1.bin",
        ] {
            assert_eq!(entries_of(other), None, "{other}");
        }
    }

    proptest! {
        /// Any bytes, with a SHA-256 that holds: refused or decoded, never a
        /// panic, a hang or an allocation beyond a few times their length.
        #[test]
        fn hostile_bytes_with_a_valid_digest_never_panic(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in any::<usize>(),
        ) {
            let mut bytes = handmade(3, &[("a", 0), ("b", 1), ("c", 2)], &[("DEUTDEFF/X", &[0, 2])]);
            bytes.truncate(bytes.len() - 32);
            for (at, value) in flips {
                let at = SNAPSHOT_MAGIC.len() + at % (bytes.len() - SNAPSHOT_MAGIC.len());
                bytes[at] = value;
            }
            bytes.truncate(SNAPSHOT_MAGIC.len() + cut % (bytes.len() - SNAPSHOT_MAGIC.len() + 1));
            let digest = Hex32::sha256_of(&bytes);
            bytes.extend_from_slice(digest.bytes());
            let _ = decode(&bytes);
        }
    }
}
