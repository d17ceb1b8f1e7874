//! Each account's journal entries: the index behind [`crate::Ledger::history`].

use std::collections::HashMap;

use crate::account::AccountRef;
use crate::state::{LedgerState, Place};

/// The sequence numbers of the entries touching each account, in order.
///
/// An account the state has is reached by its place ([`Place::At`]), which
/// the state has just found for the operation, so recording an entry looks
/// no id up. Entries touching an account while the state did not have it —
/// its own opening, refused operations naming an account that does not
/// exist — are kept by id; they all come before any entry recorded by
/// place, since an account once opened stays.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// By place among the state's accounts.
    at: Vec<Vec<u64>>,
    /// By id, for accounts the state did not have when they were touched.
    /// Looked up, never iterated; std's randomly keyed SipHash, since the
    /// ids come from requests.
    unknown: HashMap<AccountRef, Vec<u64>>,
}

impl History {
    /// The index a journal's replay built by id, arranged for `state`, the
    /// state that replay reached.
    pub fn from_replay(by_id: HashMap<AccountRef, Vec<u64>>, state: &LedgerState) -> History {
        let mut history = History::default();
        for (account, seqs) in by_id {
            match state.place_of(&account) {
                Some(at) => *history.slot(at) = seqs,
                None => {
                    history.unknown.insert(account, seqs);
                }
            }
        }
        history
    }

    fn slot(&mut self, at: usize) -> &mut Vec<u64> {
        if self.at.len() <= at {
            self.at.resize_with(at + 1, Vec::new);
        }
        &mut self.at[at]
    }

    /// Records that entry `seq`, the newest so far, touches the account at `place`.
    pub fn record(&mut self, place: Place<'_>, seq: u64) {
        match place {
            Place::At(at) => self.slot(at).push(seq),
            Place::Unknown(account) => match self.unknown.get_mut(account) {
                Some(seqs) => seqs.push(seq),
                None => {
                    self.unknown.insert(account.clone(), vec![seq]);
                }
            },
        }
    }

    /// The entries touching `account` from `from_seq` on, oldest first.
    pub fn of<'a>(
        &'a self,
        state: &LedgerState,
        account: &AccountRef,
        from_seq: u64,
    ) -> impl Iterator<Item = u64> + 'a {
        let early = self.unknown.get(account).map(Vec::as_slice);
        let late = state
            .place_of(account)
            .and_then(|at| self.at.get(at))
            .map(Vec::as_slice);
        // Sequence numbers are recorded in order, so each part starts at a binary search.
        let from = move |seqs: Option<&'a [u64]>| {
            let seqs = seqs.unwrap_or_default();
            seqs[seqs.partition_point(|&seq| seq < from_seq)..]
                .iter()
                .copied()
        };
        from(early).chain(from(late))
    }
}

impl History {
    /// Every account's entries, as a replay's index by id holds them (those
    /// from before its opening, then those after), sorted by account id:
    /// what a snapshot writes.
    pub fn by_id<'a>(
        &'a self,
        state: &'a LedgerState,
    ) -> Vec<(&'a AccountRef, &'a [u64], &'a [u64])> {
        let mut rows: Vec<(&AccountRef, &[u64], &[u64])> = state
            .accounts_by_place()
            .into_iter()
            .enumerate()
            .map(|(at, (id, _, _))| {
                let early = self.unknown.get(id).map_or(&[][..], Vec::as_slice);
                let late = self.at.get(at).map_or(&[][..], Vec::as_slice);
                (id, early, late)
            })
            .filter(|(_, early, late)| !early.is_empty() || !late.is_empty())
            .collect();
        rows.extend(
            self.unknown
                .iter()
                .filter(|(id, _)| !state.has_account(id))
                .map(|(id, seqs)| (id, seqs.as_slice(), &[][..])),
        );
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::Operation;

    fn account(text: &str) -> AccountRef {
        text.parse().expect("account")
    }

    /// Entries recorded while an account was unknown and after it opened
    /// read back as one list, in order, from any starting point.
    #[test]
    fn entries_from_before_and_after_an_opening_read_back_in_order() {
        let a = account("DEUTDEFF/A");
        let mut state = LedgerState::new();
        let mut history = History::default();
        history.record(Place::Unknown(&a), 1);
        history.record(Place::Unknown(&a), 4);
        assert!(state
            .apply(5, &Operation::OpenAccount { account: a.clone() }, 0)
            .is_applied());
        let at = state.place_of(&a).expect("opened");
        history.record(Place::At(at), 7);
        history.record(Place::At(at), 9);
        let read = |from| history.of(&state, &a, from).collect::<Vec<_>>();
        assert_eq!(read(0), [1, 4, 7, 9]);
        assert_eq!(read(4), [4, 7, 9]);
        assert_eq!(read(5), [7, 9]);
        assert_eq!(read(10), Vec::<u64>::new());
        assert_eq!(
            history
                .of(&state, &account("DEUTDEFF/B"), 0)
                .collect::<Vec<_>>(),
            Vec::<u64>::new()
        );

        // Rebuilt from a replay's index by id: the same answers.
        let by_id = HashMap::from([(a.clone(), vec![1, 4, 7, 9])]);
        let rebuilt = History::from_replay(by_id, &state);
        assert_eq!(rebuilt.of(&state, &a, 5).collect::<Vec<_>>(), [7, 9]);
        assert_eq!(rebuilt.of(&state, &a, 0).collect::<Vec<_>>(), [1, 4, 7, 9]);
    }

    /// Through the ledger: an account's history holds the refused entries
    /// that named it before it existed, its opening and what came after, the
    /// same before and after the ledger is reopened from its journal.
    #[test]
    fn a_ledger_reports_an_accounts_entries_from_before_it_was_opened() {
        use crate::{Ledger, Request};
        use isthmus_store::log::MemoryLogFiles;
        use isthmus_store::ManualClock;

        let files = MemoryLogFiles::new();
        let clock = || Box::new(ManualClock::new(1_700_000_000_000));
        let mut ledger = Ledger::open(files.clone(), clock()).expect("opens");
        let requests = [
            ("open-a", Operation::open_account("DEUTDEFF/A")),
            ("fund-a", Operation::issue("DEUTDEFF/A", "JPY", "10")),
            (
                "early",
                Operation::transfer("DEUTDEFF/A", "DEUTDEFF/B", "JPY", "1"),
            ),
            ("open-b", Operation::open_account("DEUTDEFF/B")),
            (
                "late",
                Operation::transfer("DEUTDEFF/A", "DEUTDEFF/B", "JPY", "1"),
            ),
            (
                "back",
                Operation::transfer("DEUTDEFF/B", "DEUTDEFF/A", "JPY", "1"),
            ),
        ];
        let results = ledger
            .execute_batch(
                requests
                    .into_iter()
                    .map(|(key, op)| Request::new(key, op.expect("valid")))
                    .collect(),
            )
            .expect("journaled");
        assert!(results[2].is_err(), "B does not exist yet");
        let seqs = |ledger: &Ledger<MemoryLogFiles>, from| {
            ledger
                .history(&account("DEUTDEFF/B"), from, 10)
                .expect("B exists")
                .iter()
                .map(|entry| entry.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(&ledger, 0), [2, 3, 4, 5]);
        assert_eq!(seqs(&ledger, 3), [3, 4, 5]);
        drop(ledger);
        let reopened = Ledger::open(files, clock()).expect("reopens");
        assert_eq!(seqs(&reopened, 0), [2, 3, 4, 5]);
        assert_eq!(seqs(&reopened, 4), [4, 5]);
    }
}
