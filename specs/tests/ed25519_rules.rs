//! The Ed25519 strictness rules of ISM-1 §7.3 item 2, tried against ring
//! itself. For each rule a vector holds a crafted key or signature; this test
//! checks what ring alone concludes about it (the spec says which of the
//! rules ring applies and which ISM/1 adds) and that ISM/1's verifier
//! refuses it. It also checks the arithmetic the vectors were crafted with,
//! and that the small-order test matches the torsion points exactly.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/curve25519.rs"]
mod curve25519;

use std::fs;
use std::path::{Path, PathBuf};

use curve25519::{from_le_bytes, from_u64, to_le_bytes, Point, FIELD, P, SCALARS};
use isthmus_spec::sign::{has_small_order, is_canonical_point_encoding, PublicKey, SignatureValue};
use isthmus_spec::vectors::{TestKeys, Vector};
use isthmus_spec::Envelope;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Each signature-rule vector and whether ring, on its own, accepts it.
const RING_VERDICTS: [(&str, bool); 7] = [
    ("invalid/99-signature-s-not-reduced", false),
    ("invalid/100-signature-r-small-order", true),
    ("invalid/101-signature-r-non-canonical", false),
    ("invalid/102-signature-cofactored-only", false),
    ("invalid/103-key-small-order", true),
    ("invalid/104-key-non-canonical", true),
    ("invalid/105-key-not-on-curve", false),
];

struct Case {
    key: PublicKey,
    signature: SignatureValue,
    input: Vec<u8>,
}

fn case(id: &str) -> Case {
    let text = fs::read_to_string(vectors_dir().join(format!("{id}.json"))).unwrap();
    let vector = Vector::parse(&text).unwrap();
    // The defect is in the signature only: the message decodes.
    let envelope = Envelope::decode(&vector.input_bytes()).unwrap();
    let signature = envelope.signature.clone().unwrap();
    let keys =
        TestKeys::parse(&fs::read_to_string(vectors_dir().join("keys.json")).unwrap()).unwrap();
    let record = keys
        .trusted
        .iter()
        .find(|key| key.key_id == signature.key_id.as_str())
        .unwrap_or_else(|| panic!("{id}: its key is a trusted test key"));
    Case {
        key: PublicKey::parse(&record.public_key).unwrap(),
        signature: signature.value,
        input: envelope.signing_input(),
    }
}

fn ring_accepts(case: &Case) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, case.key.as_bytes())
        .verify(&case.input, case.signature.as_bytes())
        .is_ok()
}

#[test]
fn ring_alone_and_ism1_on_each_signature_rule() {
    for (id, ring_expected) in RING_VERDICTS {
        let case = case(id);
        assert_eq!(
            ring_accepts(&case),
            ring_expected,
            "{id}: ring's own verdict"
        );
        assert!(
            !case.key.verify(&case.input, &case.signature),
            "{id}: ISM-1 §7.3 refuses it"
        );
    }
}

#[test]
fn s_plus_l_is_the_only_defect_of_its_vector() {
    // Reducing S mod L gives back a signature both ring and ISM/1 accept.
    let case = case("invalid/99-signature-s-not-reduced");
    let mut bytes = *case.signature.as_bytes();
    let mut s = [0u8; 32];
    s.copy_from_slice(&bytes[32..]);
    let reduced = SCALARS.reduce(&from_le_bytes(&s));
    assert_ne!(to_le_bytes(&reduced), s, "S was not reduced");
    bytes[32..].copy_from_slice(&to_le_bytes(&reduced));
    let repaired = SignatureValue::from_bytes(bytes);
    assert!(case.key.verify(&case.input, &repaired));
}

#[test]
fn crafting_arithmetic_is_sound() {
    // d·121666 = −121665 and (√−1)² = −1 (mod p).
    let minus = |n: u64| FIELD.sub(&[0; 4], &from_u64(n));
    assert_eq!(
        FIELD.mul(&curve25519::CURVE_D, &from_u64(121_666)),
        minus(121_665)
    );
    let i = curve25519::SQRT_MINUS_ONE;
    assert_eq!(FIELD.mul(&i, &i), minus(1));
    // The base point's encoding (RFC 8032 §5.1): 0x58 then 31 bytes 0x66.
    let mut expected = [0x66u8; 32];
    expected[0] = 0x58;
    assert_eq!(Point::base().encode(), expected);
    assert!(
        Point::base().times(&curve25519::L).is_identity(),
        "B has order L"
    );
    // The torsion subgroup: eight distinct points, [8]T the identity, and the
    // generator of order exactly 8.
    let torsion = curve25519::torsion_points();
    assert_eq!(torsion.len(), 8);
    for (i, t) in torsion.iter().enumerate() {
        assert!(t.times(&from_u64(8)).is_identity());
        for other in &torsion[..i] {
            assert!(!t.equals(other));
        }
    }
    assert!(!torsion[1].times(&from_u64(4)).is_identity());
}

#[test]
fn small_order_test_names_exactly_the_torsion_points() {
    // Every encoding of a torsion point — either sign bit, and y + p where
    // that still fits in 255 bits — is of small order.
    let mut flagged = 0;
    for t in curve25519::torsion_points() {
        let canonical = t.encode();
        let y = {
            let mut y = canonical;
            y[31] &= 0x7f;
            from_le_bytes(&y)
        };
        let mut encodings = vec![canonical, {
            let mut flipped = canonical;
            flipped[31] ^= 0x80;
            flipped
        }];
        let (y_plus_p, carried) = curve25519::add_raw(&y, &P);
        if !carried && y_plus_p[3] >> 63 == 0 {
            let mut non_canonical = to_le_bytes(&y_plus_p);
            assert!(!is_canonical_point_encoding(&non_canonical));
            encodings.push(non_canonical);
            non_canonical[31] |= 0x80;
            encodings.push(non_canonical);
        }
        for encoding in encodings {
            assert!(has_small_order(&encoding), "{encoding:02x?}");
            flagged += 1;
        }
    }
    // 8 points × 2 signs, plus y = p and y = p + 1 with either sign.
    assert_eq!(
        flagged,
        16 + 6,
        "y = 0 and y = 1 have non-canonical twins p, p + 1"
    );
    // Multiples of the base point and mixed points are not of small order.
    let mut point = Point::base();
    let torsion = curve25519::torsion_points();
    for step in 0..20 {
        let encoding = point.encode();
        assert!(is_canonical_point_encoding(&encoding));
        assert!(!has_small_order(&encoding), "[{}]B", step + 1);
        let mixed = point.add(&torsion[step % 8]).encode();
        assert!(!has_small_order(&mixed));
        point = point.add(&Point::base());
    }
}
