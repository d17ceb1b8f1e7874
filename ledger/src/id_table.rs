//! A map from increasing ids to values, kept as two sorted vectors.
//!
//! The ledger's locks are keyed by the journal sequence number of the lock
//! operation, so every new lock has a greater id than all before it: an
//! insert is a push, a look-up a binary search over a vector of ids only
//! (eight bytes each, dense in cache), and no value is ever moved, as the
//! nodes of a `BTreeMap` move theirs when they split. An id out of order
//! (a caller of the pure state may apply any sequence number) is still
//! placed correctly, at the cost of shifting the entries after it.

/// Values by `u64` id, in the order of their ids.
#[derive(Debug, Clone)]
pub(crate) struct IdTable<T> {
    ids: Vec<u64>,
    values: Vec<T>,
}

impl<T> Default for IdTable<T> {
    fn default() -> Self {
        IdTable {
            ids: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<T> IdTable<T> {
    fn position(&self, id: u64) -> Result<usize, usize> {
        // The common look-up is of a recent id: the last one is checked first.
        match self.ids.last() {
            Some(&last) if last == id => Ok(self.ids.len() - 1),
            Some(&last) if last < id => Err(self.ids.len()),
            _ => self.ids.binary_search(&id),
        }
    }

    /// The value of `id`.
    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        self.position(id).ok().map(|at| &self.values[at])
    }

    /// The value of `id`, to change it.
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        self.position(id).ok().map(|at| &mut self.values[at])
    }

    /// The values of ids `id` and after, in order.
    pub(crate) fn values_from(&self, id: u64) -> std::slice::Iter<'_, T> {
        self.values[self.ids.partition_point(|&other| other < id)..].iter()
    }

    /// Whether `id` has a value.
    pub(crate) fn contains(&self, id: u64) -> bool {
        self.position(id).is_ok()
    }

    /// Sets the value of `id`, replacing any it had.
    pub(crate) fn insert(&mut self, id: u64, value: T) {
        match self.position(id) {
            Ok(at) => self.values[at] = value,
            Err(at) => {
                self.ids.insert(at, id);
                self.values.insert(at, value);
            }
        }
    }

    /// Every value, in the order of the ids.
    pub(crate) fn values(&self) -> std::slice::Iter<'_, T> {
        self.values.iter()
    }

    /// How many ids have a value.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::IdTable;

    proptest! {
        /// Against a `BTreeMap`: the same answers to every look-up and the
        /// same values in the same order, whatever order the ids come in.
        #[test]
        fn behaves_as_an_ordered_map(
            inserts in proptest::collection::vec((0u64..64, any::<u32>()), 0..80),
            probes in proptest::collection::vec(0u64..70, 0..40),
        ) {
            let mut table = IdTable::default();
            let mut model = BTreeMap::new();
            for (id, value) in inserts {
                table.insert(id, value);
                model.insert(id, value);
                prop_assert_eq!(table.len(), model.len());
            }
            for id in probes {
                prop_assert_eq!(table.get(id), model.get(&id));
                prop_assert_eq!(table.contains(id), model.contains_key(&id));
                if let (Some(value), Some(expected)) = (table.get_mut(id), model.get_mut(&id)) {
                    *value = value.wrapping_add(1);
                    *expected = expected.wrapping_add(1);
                }
            }
            prop_assert_eq!(
                table.values().copied().collect::<Vec<_>>(),
                model.values().copied().collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn values_from_an_id_are_those_of_it_and_every_greater_one() {
        let mut table = IdTable::default();
        for id in [2u64, 5, 9] {
            table.insert(id, id * 10);
        }
        let from = |id| table.values_from(id).copied().collect::<Vec<u64>>();
        assert_eq!(from(0), [20, 50, 90]);
        assert_eq!(from(5), [50, 90]);
        assert_eq!(from(6), [90]);
        assert_eq!(from(10), Vec::<u64>::new());
    }

    #[test]
    fn increasing_ids_are_found_and_a_repeated_id_replaces_its_value() {
        let mut table = IdTable::default();
        for id in [3u64, 5, 9] {
            table.insert(id, id * 10);
        }
        assert_eq!(
            (table.get(3), table.get(5), table.get(9)),
            (Some(&30), Some(&50), Some(&90))
        );
        assert_eq!(
            (table.get(4), table.get(10), table.get(0)),
            (None, None, None)
        );
        table.insert(9, 91);
        table.insert(5, 51);
        assert_eq!(table.values().copied().collect::<Vec<_>>(), [30, 51, 91]);
        assert_eq!(table.len(), 3);
    }
}
