//! Property tests of ISM/1 invariants: decoding is stable under re-encoding
//! (ISM-1 §3.4), canonical bytes ignore member order and whitespace (ISM-1
//! §3.4), any changed byte breaks the signature (ISM-1 §7.3), and no input
//! makes the decoder panic (ISM-1 §3.1).

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_spec::ids::{Hex32, MessageId};
use isthmus_spec::jcs::{canonical_bytes, canonicalize};
use isthmus_spec::sign::{Keyring, SigningKey};
use isthmus_spec::{validate, Envelope};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

const ISINS: &[&str] = &[
    "US0378331005",
    "DE0007236101",
    "JP3633400001",
    "GB0002634946",
    "CH0038863350",
    "FR0000120271",
    "BH0006001034",
];
const LEIS: &[&str] = &[
    "506700GE1G29325QX363",
    "HWUPKR0MPOU8FGXBT394",
    "7LTWFZYICNSX8D621K86",
    "549300ISTHMUSSELL015",
];
const BICS: &[&str] = &[
    "DEUTDEFF",
    "CHASUS33",
    "MGTCBEBEECL",
    "DAKVDEFFXXX",
    "JJSDJPJT",
];
const CURRENCIES: &[(&str, u8)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("JPY", 0),
    ("BHD", 3),
    ("KWD", 3),
    ("CHF", 2),
    ("CLF", 4),
];
const MICS: &[&str] = &["XNYS", "XETR", "XTKS", "XBAH", "XLON"];
const NODES: &[&str] = &[
    "gw.xnys",
    "gw.xetr",
    "relay.custodian-a",
    "observer.regulator",
];

fn test_key() -> SigningKey {
    SigningKey::from_seed(Hex32::sha256_of(b"ISM/1 test vector key 1").bytes())
        .expect("a 32-byte seed is a key")
}

fn keyring() -> Keyring {
    let mut ring = Keyring::new();
    ring.insert(test_key().public_key());
    ring
}

/// A decimal text with `max_scale` decimals at most, never zero.
fn decimal(max_scale: u8) -> impl Strategy<Value = String> {
    (1u64..=999_999_999_999, 0..=max_scale).prop_map(|(mantissa, scale)| {
        isthmus_spec::decimal::Decimal::from_minor_units(mantissa, scale)
            .map(|d| d.to_string())
            .unwrap_or_else(|| "1".into())
    })
}

fn date() -> impl Strategy<Value = (i64, String)> {
    (2000i64..2100, 1i64..=12, 1i64..=28)
        .prop_map(|(y, m, d)| (y * 10_000 + m * 100 + d, format!("{y:04}-{m:02}-{d:02}")))
}

fn party() -> impl Strategy<Value = Value> {
    (
        select(BICS),
        proptest::option::of(select(LEIS)),
        proptest::option::of("[A-Z0-9]{1,12}"),
    )
        .prop_map(|(bic, lei, account)| {
            let mut members = Map::new();
            members.insert("bic".into(), json!(bic));
            if let Some(lei) = lei {
                members.insert("lei".into(), json!(lei));
            }
            if let Some(account) = account {
                members.insert("safekeeping_account".into(), json!(account));
            }
            Value::Object(members)
        })
}

/// Valid SettlementInstruction messages with every optional member sometimes absent.
fn instruction_message() -> impl Strategy<Value = Value> {
    let parties = (
        party(),
        party(),
        proptest::option::of(party()),
        proptest::option::of(party()),
    );
    let economics = (
        select(ISINS),
        decimal(6),
        select(CURRENCIES).prop_flat_map(|(code, units)| (Just(code), decimal(units))),
        any::<bool>(),
    );
    let dates = (date(), date());
    let meta = (
        "[A-Z0-9-]{1,35}",
        proptest::option::of("[A-Z0-9]{1,16}"),
        select(&["DELIVER", "RECEIVE"][..]),
        select(LEIS),
        select(MICS),
        any::<bool>(),
        (0u64..(1 << 47), any::<[u8; 10]>()),
        (select(NODES), select(NODES)),
    );
    (parties, economics, dates, meta).prop_filter_map(
        "sender differs from receiver",
        |(
            (deag, reag, seller, buyer),
            (isin, quantity, (currency, amount), against),
            (d1, d2),
            meta,
        )| {
            let (
                instruction_id,
                common,
                direction,
                owner,
                mic,
                with_mic,
                (millis, random),
                (sender, receiver),
            ) = meta;
            if sender == receiver {
                return None;
            }
            let (trade, settle) = if d1.0 <= d2.0 {
                (d1.1, d2.1)
            } else {
                (d2.1, d1.1)
            };
            let mut body = json!({
                "instruction_id": instruction_id,
                "direction": direction,
                "payment": if against { "AGAINST_PAYMENT" } else { "FREE_OF_PAYMENT" },
                "trade_date": trade,
                "settlement_date": settle,
                "isin": isin,
                "quantity": quantity,
                "account_owner": owner,
                "safekeeping_account": "SAFE-1",
                "delivering_agent": deag,
                "receiving_agent": reag,
                "place_of_settlement": "DTCYUS33",
            });
            let members = body.as_object_mut()?;
            if against {
                members.insert(
                    "settlement_amount".into(),
                    json!({"amount": amount, "currency": currency}),
                );
            }
            if let Some(common) = common {
                members.insert("common_reference".into(), json!(common));
            }
            if let Some(seller) = seller {
                members.insert("seller".into(), seller);
            }
            if let Some(buyer) = buyer {
                members.insert("buyer".into(), buyer);
            }
            if with_mic {
                members.insert("place_of_trade".into(), json!(mic));
            }
            let unsigned = Envelope::from_value(&json!({
                "version": "ISM/1",
                "id": MessageId::new_v7(millis, random).as_str(),
                "kind": "SettlementInstruction",
                "sender": sender,
                "receiver": receiver,
                "created_at": "2026-11-25T09:00:00.123Z",
                "body": body,
            }))
            .ok()?;
            Some(unsigned.sign(&test_key()).to_json())
        },
    )
}

/// Writes JSON with members in the order `order` picks and whitespace `gap` between tokens.
fn write_shuffled(
    value: &Value,
    order: &mut impl FnMut(usize) -> usize,
    gap: &str,
    out: &mut String,
) {
    match value {
        Value::Object(members) => {
            let mut entries: Vec<(&String, &Value)> = members.iter().collect();
            // A deterministic shuffle driven by the generated seed.
            for i in (1..entries.len()).rev() {
                entries.swap(i, order(i + 1));
            }
            out.push('{');
            out.push_str(gap);
            for (index, (name, member)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                    out.push_str(gap);
                }
                out.push_str(&serde_json::to_string(name).unwrap_or_default());
                out.push_str(gap);
                out.push(':');
                out.push_str(gap);
                write_shuffled(member, order, gap, out);
            }
            out.push_str(gap);
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(gap);
                write_shuffled(item, order, gap, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_serialise_parse_is_stable(message in instruction_message()) {
        let bytes = serde_json::to_vec(&message).expect("serialisable");
        let first = validate(&bytes, Some(&keyring())).map_err(|r| TestCaseError::fail(r.to_string()))?;
        let again = validate(&first.to_canonical_bytes(), Some(&keyring())).map_err(|r| TestCaseError::fail(r.to_string()))?;
        prop_assert_eq!(&first, &again);
        prop_assert_eq!(first.to_json(), message);
        prop_assert_eq!(first.to_canonical_bytes(), again.to_canonical_bytes());
    }

    #[test]
    fn canonical_bytes_ignore_member_order_and_whitespace(message in instruction_message(), seed in any::<u64>(), gap in select(&["", " ", "\n", "\t", " \r\n  "][..])) {
        let mut state = seed | 1;
        let mut order = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let mut text = String::new();
        write_shuffled(&message, &mut order, gap, &mut text);
        let canonical = canonicalize(text.as_bytes()).map_err(|r| TestCaseError::fail(r.to_string()))?;
        prop_assert_eq!(&canonical, &canonical_bytes(&message));
        let envelope = validate(text.as_bytes(), Some(&keyring())).map_err(|r| TestCaseError::fail(r.to_string()))?;
        prop_assert_eq!(envelope.to_canonical_bytes(), canonical);
    }

    #[test]
    fn any_changed_byte_breaks_the_signature(message in instruction_message(), position in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = canonical_bytes(&message);
        let at = position.index(bytes.len());
        bytes[at] ^= 1 << bit;
        prop_assert!(validate(&bytes, Some(&keyring())).is_err(), "flipping bit {} of byte {} was accepted", bit, at);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Err(rejection) = Envelope::decode(&bytes) {
            prop_assert!(!rejection.message.is_empty());
        }
        let _ = canonicalize(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic_and_always_explain(message in instruction_message(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = serde_json::to_vec(&message).expect("serialisable");
        for (position, byte) in edits {
            let at = position.index(bytes.len());
            bytes[at] = byte;
        }
        match validate(&bytes, Some(&keyring())) {
            Ok(envelope) => prop_assert!(envelope.verify(&keyring()).is_ok()),
            Err(rejection) => {
                prop_assert!(!rejection.message.is_empty());
                prop_assert!(rejection.to_string().starts_with(rejection.code.as_str()));
            }
        }
    }
}
