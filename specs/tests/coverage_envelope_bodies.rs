//! Rules of ISM-1 §5 (the envelope and its order of checks) and §6 (bodies)
//! that the published vectors pin only in part: each test states one rule of
//! the requirements registry (`specs/requirements/ch05-06-envelope-and-bodies.toml`)
//! at the boundary where a wrong order or a wrong comparison would change
//! the outcome.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_spec::sign::{Keyring, SigningKey};
use isthmus_spec::{validate, Body, Envelope, Kind, ReasonCode};
use serde_json::{json, Value};

/// The `input` of a valid vector.
fn vector_input(name: &str) -> Value {
    let path = format!("{}/vectors/valid/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).unwrap();
    file["input"].clone()
}

/// The code and path a message is refused with when decoded (steps 0–10).
fn decoding_refusal(message: &Value) -> (ReasonCode, Option<String>) {
    let refused = Envelope::from_value(message)
        .err()
        .unwrap_or_else(|| panic!("accepted: {message}"));
    (refused.code, refused.field)
}

/// The code and path a body of `kind` is refused with.
fn body_refusal(kind: Kind, body: &Value) -> (ReasonCode, Option<String>) {
    let refused = Body::from_json(kind, body, "body")
        .err()
        .unwrap_or_else(|| panic!("accepted: {body}"));
    (refused.code, refused.field)
}

fn at(path: &str) -> Option<String> {
    Some(path.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// Lower-case hex to bytes, written here rather than taken from the crate.
fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

// ------------------------------------------------ ISM-1 §5.3: order of checks

/// A message with a defect at one step of §5.3 and another at the next is
/// refused for the earlier one, with its path: version before unknown
/// members, unknown members before `id`, `id` before `kind`, `kind` before
/// `sender`, `sender` before `receiver`, `receiver` (then receiver ≠ sender)
/// before `created_at`, `created_at` before `body`, `body` before the
/// signature's form.
#[test]
fn of_two_defects_at_consecutive_steps_the_earlier_step_decides() {
    let base = vector_input("17-error-with-unicode-text");
    assert!(
        Envelope::from_value(&base).is_ok(),
        "the base message is valid"
    );
    type Change = fn(&mut Value);
    let cases: [(&str, Change, ReasonCode, &str); 12] = [
        (
            "step 2 (version) before step 3 (unknown member)",
            |m| {
                m["version"] = json!("ISM/2");
                m["extra"] = json!(1);
            },
            ReasonCode::VersionUnsupported,
            "version",
        ),
        (
            "step 2 (version absent) before step 3",
            |m| {
                m.as_object_mut().unwrap().remove("version");
                m["extra"] = json!(1);
            },
            ReasonCode::MissingField,
            "version",
        ),
        (
            "step 3 (unknown member) before step 4 (id)",
            |m| {
                m["extra"] = json!(1);
                m["id"] = json!("not-a-message-id");
            },
            ReasonCode::UnknownField,
            "extra",
        ),
        (
            "step 4 (id) before step 5 (kind)",
            |m| {
                m["id"] = json!("not-a-message-id");
                m["kind"] = json!("Nope");
            },
            ReasonCode::MessageIdInvalid,
            "id",
        ),
        (
            "step 5 (kind) before step 6 (sender)",
            |m| {
                m["kind"] = json!("Nope");
                m["sender"] = json!("GW.XNYS");
            },
            ReasonCode::KindUnknown,
            "kind",
        ),
        (
            "step 6 (sender) before step 7 (receiver)",
            |m| {
                m["sender"] = json!("GW.XNYS");
                m["receiver"] = json!("RELAY.A");
            },
            ReasonCode::NodeIdInvalid,
            "sender",
        ),
        (
            "step 7: the receiver's form before receiver ≠ sender",
            |m| {
                m["sender"] = json!("gw.xnys");
                m["receiver"] = json!("GW.XNYS");
            },
            ReasonCode::NodeIdInvalid,
            "receiver",
        ),
        (
            "step 7 (receiver = sender) before step 8 (created_at)",
            |m| {
                m["receiver"] = m["sender"].clone();
                m["created_at"] = json!("2026-11-25T10:00:17+01:00");
            },
            ReasonCode::SenderIsReceiver,
            "receiver",
        ),
        (
            "step 8 (created_at) before step 9 (body absent)",
            |m| {
                m["created_at"] = json!("2026-11-25T10:00:17+01:00");
                m.as_object_mut().unwrap().remove("body");
            },
            ReasonCode::TimestampInvalid,
            "created_at",
        ),
        (
            "step 9 (body absent) before step 10 (signature form)",
            |m| {
                m.as_object_mut().unwrap().remove("body");
                m["signature"]["alg"] = json!("RS256");
            },
            ReasonCode::MissingField,
            "body",
        ),
        (
            "step 9 (a body member) before step 10",
            |m| {
                m["body"]["code"] = json!("isin_check_digit");
                m["signature"]["alg"] = json!("RS256");
            },
            ReasonCode::ReasonCodeInvalid,
            "body.code",
        ),
        (
            "step 9 (the body's kind decides its members) before step 10",
            |m| {
                m["kind"] = json!("LockRequest");
                m["signature"]["value"] = json!("AAAA");
            },
            ReasonCode::UnknownField,
            "body.code",
        ),
    ];
    for (case, change, code, field) in cases {
        let mut message = base.clone();
        change(&mut message);
        assert_eq!(decoding_refusal(&message), (code, at(field)), "{case}");
    }
}

/// Verification (step 11) comes after decoding: a malformed signature is
/// refused for its form, not as unknown or invalid, and an unsigned message
/// with a defect in its body is refused for that defect, not as unsigned.
#[test]
fn verification_comes_after_every_decoding_step() {
    let key = SigningKey::from_seed(&[42; 32]).unwrap();
    let mut keys = Keyring::new();
    keys.insert(key.public_key());
    let base = vector_input("17-error-with-unicode-text");

    // Signed by our key: accepted whole.
    let mut unsigned = base.clone();
    unsigned.as_object_mut().unwrap().remove("signature");
    let signed = Envelope::from_value(&unsigned).unwrap().sign(&key);
    assert!(validate(&signed.to_canonical_bytes(), Some(&keys)).is_ok());

    // Step 10 before step 11.
    let mut malformed = signed.to_json();
    malformed["signature"]["alg"] = json!("RS256");
    let bytes = serde_json::to_vec(&malformed).unwrap();
    assert_eq!(
        validate(&bytes, Some(&keys)).err().map(|r| r.code),
        Some(ReasonCode::SignatureMalformed)
    );

    // Step 9 before step 11: no signature at all, and a body defect.
    let mut defective = unsigned.clone();
    defective["body"]["code"] = json!("isin_check_digit");
    let bytes = serde_json::to_vec(&defective).unwrap();
    let refused = validate(&bytes, Some(&keys)).unwrap_err();
    assert_eq!(
        (refused.code, refused.field),
        (ReasonCode::ReasonCodeInvalid, at("body.code"))
    );
    // The same without the defect is refused as unsigned.
    let bytes = serde_json::to_vec(&unsigned).unwrap();
    assert_eq!(
        validate(&bytes, Some(&keys)).err().map(|r| r.code),
        Some(ReasonCode::SignatureMissing)
    );
}

// ------------------------------------------------- ISM-1 §6.4: LockRequest

/// A `SECURITIES` lock carries `securities` and not `cash`, a `CASH` lock
/// `cash` and not `securities`: neither, both, or the wrong one is
/// `ASSET_CHOICE` at `body`.
#[test]
fn a_lock_request_with_neither_both_or_the_wrong_asset_is_asset_choice_at_body() {
    let securities = vector_input("08-lock-request-securities")["body"].clone();
    let cash = vector_input("09-lock-request-cash")["body"].clone();
    assert!(Body::from_json(Kind::LockRequest, &securities, "body").is_ok());
    assert!(Body::from_json(Kind::LockRequest, &cash, "body").is_ok());
    let choice = (ReasonCode::AssetChoice, at("body"));
    for (leg, own, other) in [
        (&securities, "securities", ("cash", cash["cash"].clone())),
        (
            &cash,
            "cash",
            ("securities", securities["securities"].clone()),
        ),
    ] {
        let mut neither = leg.clone();
        neither.as_object_mut().unwrap().remove(own);
        assert_eq!(
            body_refusal(Kind::LockRequest, &neither),
            choice,
            "{own}: neither"
        );

        let mut both = leg.clone();
        both[other.0] = other.1.clone();
        assert_eq!(
            body_refusal(Kind::LockRequest, &both),
            choice,
            "{own}: both"
        );

        let mut wrong = neither.clone();
        wrong[other.0] = other.1.clone();
        assert_eq!(
            body_refusal(Kind::LockRequest, &wrong),
            choice,
            "{own}: the other's asset"
        );
    }
}

// ------------------------------------- ISM-1 §6.6: ClaimRequest and ClaimReceipt

/// The hashlock is SHA-256 of the preimage's 32 bytes: a hashlock made from
/// the preimage's 64 characters of hex text is `PREIMAGE_MISMATCH` at
/// `body.preimage`, in both bodies.
#[test]
fn a_preimage_opens_the_hashlock_of_its_bytes_not_of_its_hex_text() {
    for (vector, kind) in [
        ("11-claim-request", Kind::ClaimRequest),
        ("12-claim-receipt", Kind::ClaimReceipt),
    ] {
        let body = vector_input(vector)["body"].clone();
        let preimage = body["preimage"].as_str().unwrap().to_string();
        let of_bytes = sha256_hex(&unhex(&preimage));
        assert_eq!(
            body["hashlock"],
            json!(of_bytes),
            "{vector}: the hash of the bytes"
        );
        assert!(Body::from_json(kind, &body, "body").is_ok(), "{vector}");

        let mut of_text = body.clone();
        of_text["hashlock"] = json!(sha256_hex(preimage.as_bytes()));
        assert_eq!(
            body_refusal(kind, &of_text),
            (ReasonCode::PreimageMismatch, at("body.preimage")),
            "{vector}"
        );
    }
}

// ---------------------------------------------- ISM-1 §6.9: HoldingsStatement

fn statement(balances: Value) -> Value {
    let mut body = vector_input("16-holdings-statement")["body"].clone();
    body["balances"] = balances;
    body
}

/// `locked` may equal `total` but not exceed it, compared by value; and
/// each balance is checked as it is decoded, so a balance locking too much
/// is reported before the ISIN order is looked at.
#[test]
fn a_balance_locking_more_than_it_holds_is_refused_as_it_is_decoded() {
    for (total, locked) in [("10", "10"), ("10", "10.000000"), ("10.25", "10.250")] {
        let body = statement(json!([{"isin": "US0378331005", "total": total, "locked": locked}]));
        assert!(
            Body::from_json(Kind::HoldingsStatement, &body, "body").is_ok(),
            "{locked} of {total}"
        );
    }
    for (total, locked) in [("10", "10.000001"), ("10.25", "10.3"), ("9.5", "10")] {
        let body = statement(json!([{"isin": "US0378331005", "total": total, "locked": locked}]));
        assert_eq!(
            body_refusal(Kind::HoldingsStatement, &body),
            (
                ReasonCode::BalanceInconsistent,
                at("body.balances[0].locked")
            ),
            "{locked} of {total}"
        );
    }
    // Out of order and the second entry locks too much: rule 1 decides.
    let body = statement(json!([
        {"isin": "US0378331005", "total": "12.5"},
        {"isin": "JP3633400001", "total": "10", "locked": "11"}
    ]));
    assert_eq!(
        body_refusal(Kind::HoldingsStatement, &body),
        (
            ReasonCode::BalanceInconsistent,
            at("body.balances[1].locked")
        )
    );
}

/// Balances are sorted strictly ascending by ISIN in ASCII order (digits
/// before letters); the first entry not greater than its predecessor is
/// refused at its `isin`, and a repeated ISIN is such an entry.
#[test]
fn balances_out_of_ascii_isin_order_are_refused_at_the_first_offending_isin() {
    let balance = |isin: &str| json!({"isin": isin, "total": "1"});
    // '5' (0x35) sorts before 'B' (0x42): DE0005140008 < DE000BAY0017.
    let sorted = statement(json!([
        balance("DE0005140008"),
        balance("DE000BAY0017"),
        balance("JP3633400001"),
        balance("US0378331005")
    ]));
    assert!(Body::from_json(Kind::HoldingsStatement, &sorted, "body").is_ok());
    let cases = [
        (
            json!([balance("DE000BAY0017"), balance("DE0005140008")]),
            "body.balances[1].isin",
        ),
        (
            json!([
                balance("DE0005140008"),
                balance("JP3633400001"),
                balance("DE000BAY0017"),
                balance("US0378331005")
            ]),
            "body.balances[2].isin",
        ),
        (
            json!([
                balance("JP3633400001"),
                balance("US0378331005"),
                balance("US0378331005")
            ]),
            "body.balances[2].isin",
        ),
    ];
    for (balances, field) in cases {
        let body = statement(balances.clone());
        assert_eq!(
            body_refusal(Kind::HoldingsStatement, &body),
            (ReasonCode::BalanceInconsistent, at(field)),
            "{balances}"
        );
    }
}

// ------------------------------------------------------ ISM-1 §6.10: Error

/// An Error whose code ISM/1 does not define, but which has the form of
/// §9.1, is accepted: decoded, and verified when signed.
#[test]
fn an_error_whose_code_is_not_in_the_table_is_accepted() {
    let key = SigningKey::from_seed(&[43; 32]).unwrap();
    let mut keys = Keyring::new();
    keys.insert(key.public_key());
    let mut message = vector_input("17-error-with-unicode-text");
    message.as_object_mut().unwrap().remove("signature");
    for code in ["ISTHMUS_FUTURE_REASON", "PRTRY_R012", "ZZZ"] {
        assert!(
            ReasonCode::ALL.iter().all(|known| known.as_str() != code),
            "{code} is not a code of §9.2"
        );
        message["body"]["code"] = json!(code);
        let decoded = Envelope::from_value(&message).unwrap_or_else(|r| panic!("{code}: {r}"));
        let signed = decoded.sign(&key);
        let checked = validate(&signed.to_canonical_bytes(), Some(&keys))
            .unwrap_or_else(|r| panic!("{code}: {r}"));
        match checked.body {
            Body::Error(error) => assert_eq!(error.code.as_str(), code),
            other => panic!("not an Error: {other:?}"),
        }
    }
}
