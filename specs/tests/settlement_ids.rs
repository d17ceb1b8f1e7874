//! `Body::settlement_id`, by which the nodes name a message's settlement in
//! their logs: over every valid vector, a body with a `settlement_id` member
//! reports exactly it, and every other body — a Batch included, whatever it
//! carries — reports none.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_spec::{Envelope, Kind};

#[test]
fn a_body_names_the_settlement_its_member_names() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/valid");
    let mut named = 0;
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let vector: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(input) = vector.get("input") else {
            continue; // given as text or bytes
        };
        let message = Envelope::from_value(input).unwrap();
        let expected = match message.kind() {
            Kind::Batch => None,
            _ => input["body"]["settlement_id"].as_str(),
        };
        assert_eq!(
            message.body.settlement_id().map(|id| id.as_str()),
            expected,
            "{}",
            path.display()
        );
        named += usize::from(expected.is_some());
        checked += 1;
    }
    assert!(named >= 8 && checked > named, "{named} of {checked}");
}
