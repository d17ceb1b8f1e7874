//! The behaviour every [`KvStore`] promises, checked on both backends the
//! same way: reads, floors, scans and their stopping rules.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_store::{KvPair, KvStore, MemoryStore, SledStore};

fn pair(key: &str, value: &str) -> KvPair {
    (key.as_bytes().to_vec(), value.as_bytes().to_vec())
}

/// Keys on both sides of the prefix `j/`, and the prefix itself as a key.
fn fill(store: &dyn KvStore) {
    let keys = [
        ("i/9", "before"),
        ("j/", "the prefix itself"),
        ("j/1", "one"),
        ("j/2", "two"),
        ("j/3", "three"),
        ("j0", "just after the prefix"),
        ("k/1", "after"),
    ];
    store
        .commit(
            keys.iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), Some(v.as_bytes().to_vec())))
                .collect(),
        )
        .unwrap();
}

/// Every pair `scan` visits, letting it go on while `keep_going` says so.
fn visited(
    scan: impl FnOnce(&mut dyn FnMut(&[u8], &[u8]) -> bool),
    mut keep_going: impl FnMut(usize) -> bool,
) -> Vec<KvPair> {
    let mut seen = Vec::new();
    scan(&mut |k, v| {
        seen.push((k.to_vec(), v.to_vec()));
        keep_going(seen.len())
    });
    seen
}

fn reads_return_stored_values_and_none_for_absent_keys(store: &dyn KvStore) {
    fill(store);
    assert_eq!(store.get(b"j/2").unwrap(), Some(b"two".to_vec()));
    assert_eq!(store.get(b"k/1").unwrap(), Some(b"after".to_vec()));
    assert_eq!(store.get(b"j/4").unwrap(), None);
    assert_eq!(store.get(b"").unwrap(), None);
    store.commit(vec![(b"j/2".to_vec(), None)]).unwrap();
    assert_eq!(
        store.get(b"j/2").unwrap(),
        None,
        "a deleted key reads as absent"
    );
    store
        .commit(vec![(b"empty".to_vec(), Some(Vec::new()))])
        .unwrap();
    assert_eq!(store.get(b"empty").unwrap(), Some(Vec::new()));
}

fn a_prefix_scan_visits_exactly_the_prefixed_keys_in_order(store: &dyn KvStore) {
    fill(store);
    let all = visited(|v| store.scan_prefix(b"j/", v).unwrap(), |_| true);
    assert_eq!(
        all,
        [
            pair("j/", "the prefix itself"),
            pair("j/1", "one"),
            pair("j/2", "two"),
            pair("j/3", "three")
        ]
    );
    let first_two = visited(|v| store.scan_prefix(b"j/", v).unwrap(), |n| n < 2);
    assert_eq!(
        first_two,
        all[..2],
        "the scan stops when the visitor says so"
    );
    let none = visited(|v| store.scan_prefix(b"x/", v).unwrap(), |_| true);
    assert_eq!(none, []);
}

fn a_scan_from_a_key_stays_within_its_prefix(store: &dyn KvStore) {
    fill(store);
    let rest = visited(|v| store.scan_from(b"j/", b"j/2", v).unwrap(), |_| true);
    assert_eq!(
        rest,
        [pair("j/2", "two"), pair("j/3", "three")],
        "j0 and k/1 sort after the prefix and are not visited"
    );
    let one = visited(|v| store.scan_from(b"j/", b"j/1", v).unwrap(), |_| false);
    assert_eq!(one, [pair("j/1", "one")]);
    // A start before the prefix starts at the prefix.
    let from_before = visited(|v| store.scan_from(b"j/", b"a", v).unwrap(), |_| true);
    assert_eq!(from_before.len(), 4);
    assert_eq!(from_before[0], pair("j/", "the prefix itself"));
    let past = visited(|v| store.scan_from(b"j/", b"j/4", v).unwrap(), |_| true);
    assert_eq!(past, []);
}

fn the_floor_of_the_prefix_itself_is_the_key_equal_to_the_prefix(store: &dyn KvStore) {
    fill(store);
    assert_eq!(
        store.get_floor(b"j/", b"j/").unwrap(),
        Some(pair("j/", "the prefix itself"))
    );
    assert_eq!(
        store.get_floor(b"j/", b"j/0").unwrap(),
        Some(pair("j/", "the prefix itself"))
    );
    assert_eq!(
        store.get_floor(b"j/", b"j/3").unwrap(),
        Some(pair("j/3", "three"))
    );
    assert_eq!(
        store.get_floor(b"j/", b"j").unwrap(),
        None,
        "before the prefix"
    );
    store.commit(vec![(b"j/".to_vec(), None)]).unwrap();
    assert_eq!(store.get_floor(b"j/", b"j/").unwrap(), None);
}

/// Runs `check` on a fresh store of each backend.
fn on_both(check: fn(&dyn KvStore)) {
    check(&MemoryStore::new());
    let dir = tempfile::tempdir().unwrap();
    check(&SledStore::open(dir.path()).unwrap());
}

#[test]
fn reads_return_stored_values_and_none_for_absent_keys_on_both_backends() {
    on_both(reads_return_stored_values_and_none_for_absent_keys);
}

#[test]
fn a_prefix_scan_visits_exactly_the_prefixed_keys_in_order_on_both_backends() {
    on_both(a_prefix_scan_visits_exactly_the_prefixed_keys_in_order);
}

#[test]
fn a_scan_from_a_key_stays_within_its_prefix_on_both_backends() {
    on_both(a_scan_from_a_key_stays_within_its_prefix);
}

#[test]
fn the_floor_of_the_prefix_itself_is_the_key_equal_to_the_prefix_on_both_backends() {
    on_both(the_floor_of_the_prefix_itself_is_the_key_equal_to_the_prefix);
}
