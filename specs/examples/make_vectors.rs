//! Writes the ISM/1 test vectors under `specs/vectors/` (ISM-1 §10).
//!
//! Run from the workspace root: `cargo run -p isthmus-spec --example make_vectors`.
//!
//! Messages are written out here by hand as JSON. For a valid vector the
//! expected canonical bytes and signature are computed with RFC 8785 and
//! Ed25519 directly from that JSON, never through the decoder under test; for
//! an invalid vector the expected reason code is stated here by hand. The
//! vectors test then checks the decoder against these files, and
//! `specs/tests/independent_check.py` re-derives every canonical form, hash
//! and signature with Python's standard library and `cryptography`.

use std::fs;
use std::path::Path;

use isthmus_spec::ids::{hex_lower, Hex32, MessageId};
use isthmus_spec::sign::{PublicKeyRecord, SigningKey, SIGNATURE_DOMAIN};
use isthmus_spec::vectors::{canonical_unsigned_of, KEYS_SCHEMA, VECTOR_SCHEMA};
use serde_json::{json, Map, Value};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Seeds of the published test keys: SHA-256 of a fixed phrase, so anyone can
/// re-derive them. Never use these keys for anything but tests.
const TRUSTED_SEED_PHRASE: &str = "ISM/1 test vector key 1";
const UNTRUSTED_SEED_PHRASE: &str = "ISM/1 untrusted test vector key";

struct Keys {
    trusted: SigningKey,
    untrusted: SigningKey,
}

fn key_from_phrase(phrase: &str) -> Result<SigningKey> {
    Ok(SigningKey::from_seed(
        Hex32::sha256_of(phrase.as_bytes()).bytes(),
    )?)
}

fn key_record(name: &str, phrase: &str, key: &SigningKey) -> Value {
    json!({
        "name": name,
        "seed": Hex32::sha256_of(phrase.as_bytes()).as_str(),
        "alg": "Ed25519",
        "key_id": key.public_key().key_id().as_str(),
        "public_key": key.public_key().as_str(),
    })
}

fn preimage() -> Hex32 {
    Hex32::sha256_of(b"ISM/1 vector preimage")
}

fn hashlock() -> Hex32 {
    Hex32::sha256_of(preimage().bytes())
}

fn message_id(n: u8) -> String {
    // 2026-11-25T09:00:00Z plus n seconds, and n as randomness: stable ids.
    MessageId::new_v7(1_795_597_200_000 + u64::from(n) * 1000, [n; 10]).to_string()
}

fn envelope(n: u8, kind: &str, sender: &str, receiver: &str, body: Value) -> Value {
    json!({
        "version": "ISM/1",
        "id": message_id(n),
        "kind": kind,
        "sender": sender,
        "receiver": receiver,
        "created_at": format!("2026-11-25T09:00:{:02}.000Z", n % 60),
        "body": body,
    })
}

fn sign(mut message: Value, key: &SigningKey) -> Value {
    let mut input = SIGNATURE_DOMAIN.to_vec();
    input.extend_from_slice(&canonical_unsigned_of(&message));
    let signature = key.signature_for(&input);
    if let Value::Object(members) = &mut message {
        members.insert(
            "signature".into(),
            json!({"alg": "Ed25519", "key_id": signature.key_id.as_str(), "value": signature.value.as_str()}),
        );
    }
    message
}

fn party(bic: &str, lei: Option<&str>, account: Option<&str>) -> Value {
    let mut members = Map::new();
    members.insert("bic".into(), json!(bic));
    if let Some(lei) = lei {
        members.insert("lei".into(), json!(lei));
    }
    if let Some(account) = account {
        members.insert("safekeeping_account".into(), json!(account));
    }
    Value::Object(members)
}

fn instruction_apmt_usd() -> Value {
    json!({
        "instruction_id": "SEME-XNYS-000001",
        "common_reference": "TRADE-2026-11-25-7781",
        "direction": "DELIVER",
        "payment": "AGAINST_PAYMENT",
        "trade_date": "2026-11-25",
        "settlement_date": "2026-11-27",
        "isin": "US0378331005",
        "quantity": "1000",
        "settlement_amount": {"amount": "231450.00", "currency": "USD"},
        "account_owner": "549300ISTHMUSSELL015",
        "safekeeping_account": "SAFE-SELLER-01",
        "delivering_agent": party("CHASUS33", Some("7H6GLXDRUGQFU57RNE97"), Some("DTC-0902")),
        "receiving_agent": party("DEUTDEFF", Some("7LTWFZYICNSX8D621K86"), Some("CBF-7001")),
        "seller": party("CHASUS33", None, None),
        "buyer": party("DEUTDEFF", None, None),
        "place_of_settlement": "DTCYUS33",
        "place_of_trade": "XNYS"
    })
}

fn instruction_message() -> Value {
    envelope(
        1,
        "SettlementInstruction",
        "gw.xnys",
        "relay.custodian-a",
        instruction_apmt_usd(),
    )
}

fn account(owner: &str, id: &str) -> Value {
    json!({"owner": owner, "account": id})
}

fn journal(market: &str, sequence: &str, tag: &str) -> Value {
    json!({"market": market, "sequence": sequence, "entry_hash": Hex32::sha256_of(tag.as_bytes()).as_str()})
}

fn proposal_body() -> Value {
    json!({
        "settlement_id": "STL-20261125-0001",
        "deliver_instruction_id": "SEME-XNYS-000001",
        "receive_instruction_id": "SEME-XETR-000417",
        "isin": "US0378331005",
        "quantity": "1000",
        "settlement_amount": {"amount": "231450.00", "currency": "USD"},
        "settlement_date": "2026-11-27",
        "hashlock": hashlock().as_str(),
        "securities_leg": {
            "market": "XNYS",
            "from": account("549300ISTHMUSSELL015", "SAFE-SELLER-01"),
            "to": account("549300ISTHMUSBUYR064", "SAFE-BUYER-01"),
            "expires_at": "2026-11-27T16:00:00Z"
        },
        "cash_leg": {
            "market": "XETR",
            "from": account("549300ISTHMUSBUYR064", "CASH-BUYER-USD"),
            "to": account("549300ISTHMUSSELL015", "CASH-SELLER-USD"),
            "expires_at": "2026-11-27T14:00:00Z"
        }
    })
}

fn lock_request_securities() -> Value {
    json!({
        "settlement_id": "STL-20261125-0001",
        "leg": "SECURITIES",
        "market": "XNYS",
        "from": account("549300ISTHMUSSELL015", "SAFE-SELLER-01"),
        "beneficiary": account("549300ISTHMUSBUYR064", "SAFE-BUYER-01"),
        "securities": {"isin": "US0378331005", "quantity": "1000"},
        "hashlock": hashlock().as_str(),
        "expires_at": "2026-11-27T16:00:00Z"
    })
}

fn claim_request() -> Value {
    json!({
        "settlement_id": "STL-20261125-0001",
        "hashlock": hashlock().as_str(),
        "preimage": preimage().as_str()
    })
}

fn holdings() -> Value {
    json!({
        "statement_id": "STMT-XTKS-20261125",
        "market": "XTKS",
        "account": account("5493006W3QUS5LMH6R84", "SAFE-TOYOTA-TREASURY"),
        "as_of": "2026-11-25T09:00:00Z",
        "balances": [
            {"isin": "JP3633400001", "total": "250000", "locked": "10000"},
            {"isin": "US0378331005", "total": "12.5"}
        ]
    })
}

fn status(state: &str, reason: Option<(&str, &str)>) -> Value {
    let mut body = json!({
        "instruction_id": "SEME-XNYS-000001",
        "related_message_id": message_id(1),
        "status": state,
    });
    if let (Some((code, text)), Value::Object(members)) = (reason, &mut body) {
        members.insert("reason".into(), json!({"code": code, "text": text}));
    }
    body
}

/// `(id, description, clauses, message)` for every valid vector.
fn valid_vectors() -> Vec<(&'static str, &'static str, Vec<&'static str>, Value)> {
    let mut jpy = instruction_apmt_usd();
    jpy["instruction_id"] = json!("SEME-XTKS-000042");
    jpy["direction"] = json!("RECEIVE");
    jpy["isin"] = json!("JP3633400001");
    jpy["quantity"] = json!("5000");
    jpy["settlement_amount"] = json!({"amount": "14250000", "currency": "JPY"});
    jpy["place_of_settlement"] = json!("JJSDJPJT");
    jpy["place_of_trade"] = json!("XTKS");
    jpy["delivering_agent"] = party("MHCBJPJT", None, None);
    jpy["receiving_agent"] = party("BOTKJPJT", None, Some("JASDEC-3321"));
    if let Value::Object(m) = &mut jpy {
        m.remove("common_reference");
        m.remove("seller");
        m.remove("buyer");
    }

    let mut bhd = instruction_apmt_usd();
    bhd["instruction_id"] = json!("SEME-XBAH-000003");
    bhd["isin"] = json!("BH0006001034");
    bhd["quantity"] = json!("20000.5");
    bhd["settlement_amount"] = json!({"amount": "15234.125", "currency": "BHD"});
    bhd["place_of_settlement"] = json!("BHBBBHBM");
    bhd["place_of_trade"] = json!("XBAH");

    let mut fop = instruction_apmt_usd();
    fop["instruction_id"] = json!("SEME-XETR-000417");
    fop["direction"] = json!("RECEIVE");
    fop["payment"] = json!("FREE_OF_PAYMENT");
    fop["isin"] = json!("DE0007236101");
    fop["trade_date"] = json!("2026-11-25");
    fop["settlement_date"] = json!("2026-11-25");
    fop["place_of_settlement"] = json!("DAKVDEFF");
    if let Value::Object(m) = &mut fop {
        m.remove("settlement_amount");
        m.remove("place_of_trade");
    }

    let mut lock_cash = lock_request_securities();
    lock_cash["leg"] = json!("CASH");
    lock_cash["market"] = json!("XETR");
    lock_cash["from"] = account("549300ISTHMUSBUYR064", "CASH-BUYER-USD");
    lock_cash["beneficiary"] = account("549300ISTHMUSSELL015", "CASH-SELLER-USD");
    lock_cash["expires_at"] = json!("2026-11-27T14:00:00Z");
    if let Value::Object(m) = &mut lock_cash {
        m.remove("securities");
        m.insert(
            "cash".into(),
            json!({"amount": "231450.00", "currency": "USD"}),
        );
    }

    let confirmation_apmt = json!({
        "instruction_id": "SEME-XNYS-000001",
        "settlement_id": "STL-20261125-0001",
        "direction": "DELIVER",
        "payment": "AGAINST_PAYMENT",
        "isin": "US0378331005",
        "quantity": "1000",
        "settlement_amount": {"amount": "231450.00", "currency": "USD"},
        "settlement_date": "2026-11-27",
        "settled_at": "2026-11-27T13:02:11.417Z",
        "securities_journal": journal("XNYS", "9141", "securities claim"),
        "cash_journal": journal("XETR", "552", "cash claim")
    });
    let mut confirmation_fop = confirmation_apmt.clone();
    confirmation_fop["payment"] = json!("FREE_OF_PAYMENT");
    confirmation_fop["direction"] = json!("RECEIVE");
    if let Value::Object(m) = &mut confirmation_fop {
        m.remove("settlement_amount");
        m.remove("cash_journal");
    }

    let relay = "relay.custodian-a";
    vec![
        ("valid/01-instruction-deliver-against-payment-usd", "A seller's delivery against 231,450.00 USD of 1,000 Apple shares on NYSE, with every optional member.", vec!["ISM-1 §5.1", "ISM-1 §6.1", "ISM-1 §7.2"], instruction_message()),
        ("valid/02-instruction-receive-against-payment-jpy", "A receipt against payment in yen, a currency with 0 minor units; optional members left out.", vec!["ISM-1 §4.6", "ISM-1 §6.1"], envelope(2, "SettlementInstruction", "gw.xtks", relay, jpy)),
        ("valid/03-instruction-against-payment-bhd", "An amount in Bahraini dinar, a currency with 3 minor units, and a fractional quantity.", vec!["ISM-1 §4.6", "ISM-1 §4.7"], envelope(3, "SettlementInstruction", "gw.xbah", relay, bhd)),
        ("valid/04-instruction-receive-free-of-payment", "A free-of-payment receipt settling on its trade date: no settlement amount.", vec!["ISM-1 §6.1"], envelope(4, "SettlementInstruction", "gw.xetr", relay, fop)),
        ("valid/05-status-accepted", "A relay accepts an instruction.", vec!["ISM-1 §6.2"], envelope(5, "InstructionStatus", relay, "gw.xnys", status("ACCEPTED", None))),
        ("valid/06-status-unmatched-with-reason", "A relay reports that no counterpart matches, saying why.", vec!["ISM-1 §6.2", "ISM-1 §9.1"], envelope(6, "InstructionStatus", relay, "gw.xnys", status("UNMATCHED", Some(("UNMATCHED_QUANTITY", "The counterpart instructs 900 units, not 1000."))))),
        ("valid/07-settlement-proposal", "The relay's matched settlement with hashlock and expiries, cash leg first.", vec!["ISM-1 §6.3"], envelope(7, "SettlementProposal", relay, "gw.xnys", proposal_body())),
        ("valid/08-lock-request-securities", "Lock the securities leg on the seller's ledger.", vec!["ISM-1 §6.4"], envelope(8, "LockRequest", relay, "gw.xnys", lock_request_securities())),
        ("valid/09-lock-request-cash", "Lock the cash leg on the buyer's ledger.", vec!["ISM-1 §6.4"], envelope(9, "LockRequest", relay, "gw.xetr", lock_cash)),
        ("valid/10-lock-receipt", "A gateway's receipt for the securities lock, with its journal reference.", vec!["ISM-1 §6.5"], envelope(10, "LockReceipt", "gw.xnys", relay, json!({
            "settlement_id": "STL-20261125-0001", "leg": "SECURITIES", "lock_id": "HTLC-XNYS-000777",
            "hashlock": hashlock().as_str(), "expires_at": "2026-11-27T16:00:00Z", "journal": journal("XNYS", "9140", "securities lock")
        }))),
        ("valid/11-claim-request", "The relay reveals the preimage to claim.", vec!["ISM-1 §6.6"], envelope(11, "ClaimRequest", relay, "gw.xetr", claim_request())),
        ("valid/12-claim-receipt", "A gateway's receipt for the cash claim, repeating the preimage.", vec!["ISM-1 §6.6"], envelope(12, "ClaimReceipt", "gw.xetr", relay, json!({
            "settlement_id": "STL-20261125-0001", "leg": "CASH", "lock_id": "HTLC-XETR-000123",
            "hashlock": hashlock().as_str(), "preimage": preimage().as_str(), "journal": journal("XETR", "552", "cash claim")
        }))),
        ("valid/13-refund-receipt", "A gateway refunded an expired lock to its locker.", vec!["ISM-1 §6.7"], envelope(13, "RefundReceipt", "gw.xnys", relay, json!({
            "settlement_id": "STL-20261125-0002", "leg": "SECURITIES", "lock_id": "HTLC-XNYS-000778", "journal": journal("XNYS", "0", "refund")
        }))),
        ("valid/14-confirmation-against-payment", "The relay confirms a settled delivery against payment.", vec!["ISM-1 §6.8"], envelope(14, "SettlementConfirmation", relay, "gw.xnys", confirmation_apmt)),
        ("valid/15-confirmation-free-of-payment", "The relay confirms a free-of-payment receipt.", vec!["ISM-1 §6.8"], envelope(15, "SettlementConfirmation", relay, "gw.xetr", confirmation_fop)),
        ("valid/16-holdings-statement", "A statement of two holdings, one partly locked, sorted by ISIN.", vec!["ISM-1 §6.9"], envelope(16, "HoldingsStatement", "gw.xtks", "observer.regulator", holdings())),
        ("valid/17-error-with-unicode-text", "An Error whose sentence has non-ASCII characters, quotes and a backslash, which canonical bytes keep as UTF-8.", vec!["ISM-1 §3.4", "ISM-1 §6.10"], envelope(17, "Error", relay, "gw.xnys", json!({
            "code": "ISIN_CHECK_DIGIT", "text": "Prüfziffer falsch: „US0378331006“ ≠ \"US0378331005\" \\ 株式", "related_message_id": message_id(1), "field": "body.isin"
        }))),
    ]
}

/// Applies `change` to a copy of `message`.
fn changed(message: &Value, change: impl FnOnce(&mut Value)) -> Value {
    let mut copy = message.clone();
    change(&mut copy);
    copy
}

fn remove(path: &'static [&'static str]) -> impl FnOnce(&mut Value) {
    move |value| {
        let (last, parents) = match path.split_last() {
            Some(split) => split,
            None => return,
        };
        let mut target = value;
        for name in parents {
            target = &mut target[*name];
        }
        if let Value::Object(members) = target {
            members.remove(*last);
        }
    }
}

fn set(path: &'static [&'static str], new: Value) -> impl FnOnce(&mut Value) {
    move |value| {
        let mut target = value;
        for name in path {
            target = &mut target[*name];
        }
        *target = new;
    }
}

struct Invalid {
    id: &'static str,
    description: &'static str,
    clauses: Vec<&'static str>,
    reason: &'static str,
    field: Option<&'static str>,
    input: InvalidInput,
}

enum InvalidInput {
    /// A message value; it is signed with the trusted key unless `unsigned`.
    Message { value: Value, signer: Signer },
    Text {
        text: String,
        pad_to_bytes: Option<usize>,
    },
}

#[derive(Clone, Copy)]
enum Signer {
    Trusted,
    Untrusted,
    Unsigned,
    /// Signed by the trusted key, then the signature value is changed.
    Tampered,
    /// Signed, then the body is changed without re-signing.
    ChangedAfterSigning,
}

fn invalid(
    id: &'static str,
    description: &'static str,
    clause: &'static str,
    reason: &'static str,
    field: Option<&'static str>,
    value: Value,
) -> Invalid {
    Invalid {
        id,
        description,
        clauses: vec![clause],
        reason,
        field,
        input: InvalidInput::Message {
            value,
            signer: Signer::Trusted,
        },
    }
}

fn invalid_vectors(keys: &Keys) -> Vec<Invalid> {
    let base = instruction_message();
    let body = |path: &'static str| -> &'static [&'static str] {
        // Paths into the instruction body, leaked once per vector in this generator.
        Box::leak(vec!["body", path].into_boxed_slice())
    };
    let nested = |a: &'static str, b: &'static str| -> &'static [&'static str] {
        Box::leak(vec!["body", a, b].into_boxed_slice())
    };
    let proposal = envelope(
        7,
        "SettlementProposal",
        "relay.custodian-a",
        "gw.xnys",
        proposal_body(),
    );
    let lock = envelope(
        8,
        "LockRequest",
        "relay.custodian-a",
        "gw.xnys",
        lock_request_securities(),
    );
    let claim = envelope(
        11,
        "ClaimRequest",
        "relay.custodian-a",
        "gw.xetr",
        claim_request(),
    );
    let statement = envelope(
        16,
        "HoldingsStatement",
        "gw.xtks",
        "observer.regulator",
        holdings(),
    );
    let status_message = envelope(
        6,
        "InstructionStatus",
        "relay.custodian-a",
        "gw.xnys",
        status("UNMATCHED", None),
    );
    let compact = serde_json::to_string(&sign(base.clone(), &keys.trusted)).unwrap_or_default();
    let deep = format!(
        "{{\"version\":\"ISM/1\",\"x\":{}1{}}}",
        "[".repeat(20),
        "]".repeat(20)
    );
    let many_balances: Vec<Value> = (0..1001)
        .map(|_| json!({"isin": "JP3633400001", "total": "1"}))
        .collect();

    let mut list = vec![
        Invalid {
            id: "invalid/01-malformed-json",
            description: "The message is cut off in the middle.",
            clauses: vec!["ISM-1 §3.1"],
            reason: "MALFORMED_JSON",
            field: None,
            input: InvalidInput::Text {
                text: compact[..compact.len() / 2].to_string(),
                pad_to_bytes: None,
            },
        },
        Invalid {
            id: "invalid/02-trailing-garbage",
            description: "A valid message followed by more text.",
            clauses: vec!["ISM-1 §3.1"],
            reason: "MALFORMED_JSON",
            field: None,
            input: InvalidInput::Text {
                text: format!("{compact} {{}}"),
                pad_to_bytes: None,
            },
        },
        Invalid {
            id: "invalid/03-duplicate-member",
            description: "The envelope names \"kind\" twice; RFC 8785 forbids duplicate names.",
            clauses: vec!["ISM-1 §3.2"],
            reason: "DUPLICATE_KEY",
            field: None,
            input: InvalidInput::Text {
                text: compact.replacen(
                    "\"kind\":\"SettlementInstruction\"",
                    "\"kind\":\"SettlementInstruction\",\"kind\":\"Error\"",
                    1,
                ),
                pad_to_bytes: None,
            },
        },
        Invalid {
            id: "invalid/04-oversize",
            description: "A valid message padded with spaces to one byte over 1 MiB.",
            clauses: vec!["ISM-1 §3.1"],
            reason: "INPUT_TOO_LARGE",
            field: None,
            input: InvalidInput::Text {
                text: compact.clone(),
                pad_to_bytes: Some(1024 * 1024 + 1),
            },
        },
        Invalid {
            id: "invalid/05-nesting-too-deep",
            description: "Arrays nested 20 deep inside the message.",
            clauses: vec!["ISM-1 §3.1"],
            reason: "NESTING_TOO_DEEP",
            field: None,
            input: InvalidInput::Text {
                text: deep,
                pad_to_bytes: None,
            },
        },
        invalid(
            "invalid/06-not-an-object",
            "The message is a JSON array.",
            "ISM-1 §5.1",
            "WRONG_TYPE",
            Some("message"),
            json!([base.clone()]),
        ),
        invalid(
            "invalid/07-empty-object",
            "The message is an empty object.",
            "ISM-1 §5.3",
            "MISSING_FIELD",
            Some("version"),
            json!({}),
        ),
        invalid(
            "invalid/08-version-2",
            "A version this receiver does not speak.",
            "ISM-1 §5.3",
            "VERSION_UNSUPPORTED",
            Some("version"),
            changed(&base, set(&["version"], json!("ISM/2"))),
        ),
        invalid(
            "invalid/09-version-number",
            "The version as a JSON number.",
            "ISM-1 §3.3",
            "WRONG_TYPE",
            Some("version"),
            changed(&base, set(&["version"], json!(1))),
        ),
        invalid(
            "invalid/10-unknown-envelope-member",
            "An envelope member ISM/1 does not define.",
            "ISM-1 §3.3",
            "UNKNOWN_FIELD",
            Some("priority"),
            changed(&base, set(&["priority"], json!("HIGH"))),
        ),
        invalid(
            "invalid/11-unknown-body-member",
            "A body member ISM/1 does not define.",
            "ISM-1 §3.3",
            "UNKNOWN_FIELD",
            Some("body.trader"),
            changed(&base, set(&["body", "trader"], json!("J. Doe"))),
        ),
        invalid(
            "invalid/12-missing-isin",
            "The instruction has no ISIN.",
            "ISM-1 §3.3",
            "MISSING_FIELD",
            Some("body.isin"),
            changed(&base, remove(body("isin"))),
        ),
        invalid(
            "invalid/13-unknown-kind",
            "A kind ISM/1 does not define.",
            "ISM-1 §5.2",
            "KIND_UNKNOWN",
            Some("kind"),
            changed(&base, set(&["kind"], json!("TradeReport"))),
        ),
        invalid(
            "invalid/14-kind-body-mismatch",
            "kind says LockRequest but the body is an instruction.",
            "ISM-1 §5.2",
            "UNKNOWN_FIELD",
            Some("body.account_owner"),
            changed(&base, set(&["kind"], json!("LockRequest"))),
        ),
        invalid(
            "invalid/15-message-id-uuid-v4",
            "The id is a version 4 UUID.",
            "ISM-1 §4.9",
            "MESSAGE_ID_INVALID",
            Some("id"),
            changed(
                &base,
                set(&["id"], json!("3b241101-e2bb-4255-8caf-4136c566a962")),
            ),
        ),
        invalid(
            "invalid/16-node-id-upper-case",
            "The sender id has upper-case letters.",
            "ISM-1 §4.9",
            "NODE_ID_INVALID",
            Some("sender"),
            changed(&base, set(&["sender"], json!("GW.XNYS"))),
        ),
        invalid(
            "invalid/17-sender-is-receiver",
            "A node addresses itself.",
            "ISM-1 §5.1",
            "SENDER_IS_RECEIVER",
            Some("receiver"),
            changed(&base, set(&["receiver"], json!("gw.xnys"))),
        ),
        invalid(
            "invalid/18-timestamp-with-offset",
            "created_at uses +01:00 instead of Z.",
            "ISM-1 §4.8",
            "TIMESTAMP_INVALID",
            Some("created_at"),
            changed(
                &base,
                set(&["created_at"], json!("2026-11-25T10:00:00+01:00")),
            ),
        ),
        invalid(
            "invalid/19-timestamp-leap-second",
            "created_at names a leap second.",
            "ISM-1 §4.8",
            "TIMESTAMP_INVALID",
            Some("created_at"),
            changed(&base, set(&["created_at"], json!("2016-12-31T23:59:60Z"))),
        ),
        invalid(
            "invalid/20-impossible-date",
            "The trade date is 30 February.",
            "ISM-1 §4.8",
            "DATE_INVALID",
            Some("body.trade_date"),
            changed(&base, set(body("trade_date"), json!("2026-02-30"))),
        ),
        invalid(
            "invalid/21-settlement-before-trade",
            "The settlement date is before the trade date.",
            "ISM-1 §6.1",
            "SETTLEMENT_BEFORE_TRADE",
            Some("body.settlement_date"),
            changed(&base, set(body("settlement_date"), json!("2026-11-24"))),
        ),
        invalid(
            "invalid/22-isin-check-digit",
            "The ISIN's last digit is off by one.",
            "ISM-1 §4.1",
            "ISIN_CHECK_DIGIT",
            Some("body.isin"),
            changed(&base, set(body("isin"), json!("US0378331006"))),
        ),
        invalid(
            "invalid/23-isin-lower-case",
            "The ISIN is in lower case.",
            "ISM-1 §4.1",
            "ISIN_FORMAT",
            Some("body.isin"),
            changed(&base, set(body("isin"), json!("us0378331005"))),
        ),
        invalid(
            "invalid/24-lei-check-digits",
            "The account owner's LEI fails MOD 97-10.",
            "ISM-1 §4.2",
            "LEI_CHECK_DIGITS",
            Some("body.account_owner"),
            changed(
                &base,
                set(body("account_owner"), json!("549300ISTHMUSSELL016")),
            ),
        ),
        invalid(
            "invalid/25-lei-format",
            "The agent's LEI has 19 characters.",
            "ISM-1 §4.2",
            "LEI_FORMAT",
            Some("body.delivering_agent.lei"),
            changed(
                &base,
                set(
                    nested("delivering_agent", "lei"),
                    json!("7H6GLXDRUGQFU57RNE9"),
                ),
            ),
        ),
        invalid(
            "invalid/26-bic-format",
            "The agent's BIC has 9 characters.",
            "ISM-1 §4.3",
            "BIC_FORMAT",
            Some("body.receiving_agent.bic"),
            changed(
                &base,
                set(nested("receiving_agent", "bic"), json!("DEUTDEFF5")),
            ),
        ),
        invalid(
            "invalid/27-bic-country",
            "The BIC's country ZZ is not an ISO 3166 country.",
            "ISM-1 §4.3",
            "BIC_COUNTRY",
            Some("body.place_of_settlement"),
            changed(&base, set(body("place_of_settlement"), json!("DTCYZZ33"))),
        ),
        invalid(
            "invalid/28-party-id-neither",
            "The account owner is 12 characters: neither LEI nor BIC.",
            "ISM-1 §4.4",
            "PARTY_ID_INVALID",
            Some("body.account_owner"),
            changed(&base, set(body("account_owner"), json!("SELLER-12345"))),
        ),
        invalid(
            "invalid/29-mic-format",
            "The place of trade has 3 characters.",
            "ISM-1 §4.5",
            "MIC_FORMAT",
            Some("body.place_of_trade"),
            changed(&base, set(body("place_of_trade"), json!("XNY"))),
        ),
        invalid(
            "invalid/30-currency-unknown",
            "ABC is not an ISO 4217 code.",
            "ISM-1 §4.6",
            "CURRENCY_UNKNOWN",
            Some("body.settlement_amount.currency"),
            changed(
                &base,
                set(nested("settlement_amount", "currency"), json!("ABC")),
            ),
        ),
        invalid(
            "invalid/31-currency-withdrawn",
            "HRK was withdrawn in 2023.",
            "ISM-1 §4.6",
            "CURRENCY_UNKNOWN",
            Some("body.settlement_amount.currency"),
            changed(
                &base,
                set(nested("settlement_amount", "currency"), json!("HRK")),
            ),
        ),
        invalid(
            "invalid/32-currency-not-settleable",
            "Gold (XAU) has no minor units.",
            "ISM-1 §4.6",
            "CURRENCY_NOT_SETTLEABLE",
            Some("body.settlement_amount.currency"),
            changed(
                &base,
                set(nested("settlement_amount", "currency"), json!("XAU")),
            ),
        ),
        invalid(
            "invalid/33-usd-three-decimals",
            "231450.005 USD has more decimals than the dollar's 2.",
            "ISM-1 §4.7",
            "DECIMAL_TOO_MANY_DECIMALS",
            Some("body.settlement_amount.amount"),
            changed(
                &base,
                set(nested("settlement_amount", "amount"), json!("231450.005")),
            ),
        ),
        invalid(
            "invalid/34-jpy-decimals",
            "Yen have no minor units.",
            "ISM-1 §4.7",
            "DECIMAL_TOO_MANY_DECIMALS",
            Some("body.settlement_amount.amount"),
            changed(
                &base,
                set(
                    &["body", "settlement_amount"],
                    json!({"amount": "14250000.5", "currency": "JPY"}),
                ),
            ),
        ),
        invalid(
            "invalid/35-negative-quantity",
            "A negative quantity.",
            "ISM-1 §4.7",
            "DECIMAL_NOT_POSITIVE",
            Some("body.quantity"),
            changed(&base, set(body("quantity"), json!("-1000"))),
        ),
        invalid(
            "invalid/36-zero-amount",
            "A zero amount.",
            "ISM-1 §4.7",
            "DECIMAL_NOT_POSITIVE",
            Some("body.settlement_amount.amount"),
            changed(
                &base,
                set(nested("settlement_amount", "amount"), json!("0.00")),
            ),
        ),
        invalid(
            "invalid/37-quantity-as-number",
            "The quantity as a JSON number: floats never carry money or quantities.",
            "ISM-1 §3.3",
            "WRONG_TYPE",
            Some("body.quantity"),
            changed(&base, set(body("quantity"), json!(1000))),
        ),
        invalid(
            "invalid/38-amount-exponent",
            "The amount in exponent notation.",
            "ISM-1 §4.7",
            "DECIMAL_FORMAT",
            Some("body.settlement_amount.amount"),
            changed(
                &base,
                set(nested("settlement_amount", "amount"), json!("2.3145e5")),
            ),
        ),
        invalid(
            "invalid/39-amount-leading-zero",
            "The amount with a leading zero.",
            "ISM-1 §4.7",
            "DECIMAL_FORMAT",
            Some("body.settlement_amount.amount"),
            changed(
                &base,
                set(nested("settlement_amount", "amount"), json!("0231450.00")),
            ),
        ),
        invalid(
            "invalid/40-amount-thousands-separator",
            "The amount with a thousands separator.",
            "ISM-1 §4.7",
            "DECIMAL_FORMAT",
            Some("body.settlement_amount.amount"),
            changed(
                &base,
                set(nested("settlement_amount", "amount"), json!("231,450.00")),
            ),
        ),
        invalid(
            "invalid/41-quantity-too-many-digits",
            "A quantity of 19 digits.",
            "ISM-1 §4.7",
            "DECIMAL_TOO_MANY_DIGITS",
            Some("body.quantity"),
            changed(&base, set(body("quantity"), json!("1000000000000000000"))),
        ),
        invalid(
            "invalid/42-quantity-seven-decimals",
            "A quantity with 7 digits after the point.",
            "ISM-1 §4.7",
            "DECIMAL_TOO_MANY_DECIMALS",
            Some("body.quantity"),
            changed(&base, set(body("quantity"), json!("1000.0000001"))),
        ),
        invalid(
            "invalid/43-against-payment-without-amount",
            "AGAINST_PAYMENT with no settlement amount.",
            "ISM-1 §6.1",
            "AMOUNT_REQUIRED",
            Some("body.settlement_amount"),
            changed(&base, remove(body("settlement_amount"))),
        ),
        invalid(
            "invalid/44-free-of-payment-with-amount",
            "FREE_OF_PAYMENT carrying an amount.",
            "ISM-1 §6.1",
            "AMOUNT_NOT_ALLOWED",
            Some("body.settlement_amount"),
            changed(&base, set(body("payment"), json!("FREE_OF_PAYMENT"))),
        ),
        invalid(
            "invalid/45-unknown-direction",
            "SELL is not a direction.",
            "ISM-1 §3.3",
            "UNKNOWN_CODE",
            Some("body.direction"),
            changed(&base, set(body("direction"), json!("SELL"))),
        ),
        invalid(
            "invalid/46-null-optional",
            "An optional member set to null instead of left out.",
            "ISM-1 §3.3",
            "WRONG_TYPE",
            Some("body.place_of_trade"),
            changed(&base, set(body("place_of_trade"), Value::Null)),
        ),
        invalid(
            "invalid/47-reference-too-long",
            "An instruction id of 36 characters.",
            "ISM-1 §4.10",
            "TEXT_INVALID",
            Some("body.instruction_id"),
            changed(
                &base,
                set(
                    body("instruction_id"),
                    json!("SEME-XNYS-00000000000000000000000001"),
                ),
            ),
        ),
        invalid(
            "invalid/48-reference-double-slash",
            "An instruction id containing //, which MT54x forbids.",
            "ISM-1 §4.10",
            "TEXT_INVALID",
            Some("body.instruction_id"),
            changed(&base, set(body("instruction_id"), json!("SEME//000001"))),
        ),
        invalid(
            "invalid/49-unmatched-without-reason",
            "An UNMATCHED status that does not say why.",
            "ISM-1 §6.2",
            "REASON_REQUIRED",
            Some("body.reason"),
            status_message,
        ),
        invalid(
            "invalid/50-securities-leg-expires-first",
            "The securities leg expires before the cash leg.",
            "ISM-1 §6.3",
            "EXPIRY_ORDER",
            Some("body.securities_leg.expires_at"),
            changed(
                &proposal,
                set(
                    &["body", "securities_leg", "expires_at"],
                    json!("2026-11-27T13:00:00Z"),
                ),
            ),
        ),
        invalid(
            "invalid/51-lock-both-assets",
            "A securities lock that also names cash.",
            "ISM-1 §6.4",
            "ASSET_CHOICE",
            Some("body"),
            changed(
                &lock,
                set(
                    &["body", "cash"],
                    json!({"amount": "1.00", "currency": "USD"}),
                ),
            ),
        ),
        invalid(
            "invalid/52-hashlock-upper-case",
            "The hashlock in upper-case hex.",
            "ISM-1 §4.11",
            "HEX_INVALID",
            Some("body.hashlock"),
            changed(
                &lock,
                set(
                    &["body", "hashlock"],
                    json!(hashlock().as_str().to_uppercase()),
                ),
            ),
        ),
        invalid(
            "invalid/53-preimage-mismatch",
            "A preimage that does not hash to the hashlock.",
            "ISM-1 §6.6",
            "PREIMAGE_MISMATCH",
            Some("body.preimage"),
            changed(
                &claim,
                set(&["body", "preimage"], json!(hex_lower(&[0x11; 32]))),
            ),
        ),
        invalid(
            "invalid/54-sequence-leading-zeros",
            "A journal sequence with leading zeros.",
            "ISM-1 §4.12",
            "INTEGER_INVALID",
            Some("body.journal.sequence"),
            envelope(
                10,
                "LockReceipt",
                "gw.xnys",
                "relay.custodian-a",
                json!({
                    "settlement_id": "STL-20261125-0001", "leg": "SECURITIES", "lock_id": "HTLC-XNYS-000777",
                    "hashlock": hashlock().as_str(), "expires_at": "2026-11-27T16:00:00Z", "journal": journal("XNYS", "09140", "securities lock")
                }),
            ),
        ),
        invalid(
            "invalid/55-locked-exceeds-total",
            "A balance locking more than it holds.",
            "ISM-1 §6.9",
            "BALANCE_INCONSISTENT",
            Some("body.balances[0].locked"),
            changed(
                &statement,
                set(
                    &["body", "balances"],
                    json!([{"isin": "JP3633400001", "total": "100", "locked": "100.5"}]),
                ),
            ),
        ),
        invalid(
            "invalid/56-too-many-balances",
            "A statement of 1001 balances; the limit is 1000.",
            "ISM-1 §3.3",
            "TOO_MANY_ITEMS",
            Some("body.balances"),
            changed(
                &statement,
                set(&["body", "balances"], Value::Array(many_balances)),
            ),
        ),
        invalid(
            "invalid/57-reason-code-lower-case",
            "An Error whose code is not of the reason-code form.",
            "ISM-1 §9.1",
            "REASON_CODE_INVALID",
            Some("body.code"),
            envelope(
                17,
                "Error",
                "relay.custodian-a",
                "gw.xnys",
                json!({"code": "bad code", "text": "Something failed."}),
            ),
        ),
        invalid(
            "invalid/58-text-with-control-character",
            "An Error sentence containing a line feed.",
            "ISM-1 §4.10",
            "TEXT_INVALID",
            Some("body.text"),
            envelope(
                17,
                "Error",
                "relay.custodian-a",
                "gw.xnys",
                json!({"code": "MALFORMED_JSON", "text": "line one\nline two"}),
            ),
        ),
        invalid(
            "invalid/59-signature-algorithm",
            "A signature naming RS256.",
            "ISM-1 §7.1",
            "SIGNATURE_MALFORMED",
            Some("signature.alg"),
            changed(
                &sign(base.clone(), &keys.trusted),
                set(&["signature", "alg"], json!("RS256")),
            ),
        ),
    ];
    list.iter_mut()
        .filter(|v| v.id.contains("59-"))
        .for_each(|v| {
            if let InvalidInput::Message { signer, .. } = &mut v.input {
                *signer = Signer::Unsigned; // already carries its (altered) signature
            }
        });
    let signature_cases = [
        (
            "invalid/60-unsigned",
            "A message with no signature.",
            "ISM-1 §7.3",
            "SIGNATURE_MISSING",
            Some("signature"),
            Signer::Unsigned,
        ),
        (
            "invalid/61-signature-altered",
            "The first character of the signature value changed, so its first six bits differ.",
            "ISM-1 §7.3",
            "SIGNATURE_INVALID",
            Some("signature"),
            Signer::Tampered,
        ),
        (
            "invalid/62-changed-after-signing",
            "The quantity changed after the message was signed.",
            "ISM-1 §7.3",
            "SIGNATURE_INVALID",
            Some("signature"),
            Signer::ChangedAfterSigning,
        ),
        (
            "invalid/63-unknown-key",
            "Signed by a key the receiver does not know.",
            "ISM-1 §7.3",
            "KEY_UNKNOWN",
            Some("signature.key_id"),
            Signer::Untrusted,
        ),
    ];
    for (id, description, clause, reason, field, signer) in signature_cases {
        list.push(Invalid {
            id,
            description,
            clauses: vec![clause],
            reason,
            field,
            input: InvalidInput::Message {
                value: base.clone(),
                signer,
            },
        });
    }
    list.push(invalid(
        "invalid/64-signature-value-short",
        "A signature value of 32 bytes.",
        "ISM-1 §7.1",
        "SIGNATURE_MALFORMED",
        Some("signature.value"),
        {
            let mut short = sign(base.clone(), &keys.trusted);
            short["signature"]["value"] = json!(hashlock().as_str()[..43].to_string());
            short
        },
    ));
    if let Some(InvalidInput::Message { signer, .. }) = list.last_mut().map(|v| &mut v.input) {
        *signer = Signer::Unsigned;
    }
    list.push(invalid(
        "invalid/65-locked-huge-total-tiny",
        "A balance locking 123456789012345678 units of a holding of 0.005: compared as numbers, not after a scaling that overflows.",
        "ISM-1 §6.9",
        "BALANCE_INCONSISTENT",
        Some("body.balances[0].locked"),
        changed(&statement, set(&["body", "balances"], json!([{"isin": "JP3633400001", "total": "0.005", "locked": "123456789012345678"}]))),
    ));
    list.push(invalid(
        "invalid/66-expiries-equal-written-differently",
        "Both legs expire at the same instant, written 14:00:00.000Z and 14:00:00Z: instants are compared, not texts.",
        "ISM-1 §6.3",
        "EXPIRY_ORDER",
        Some("body.securities_leg.expires_at"),
        changed(&proposal, set(&["body", "securities_leg", "expires_at"], json!("2026-11-27T14:00:00.000Z"))),
    ));
    list
}

/// A seller's delivery against payment with the cash side it is paid into,
/// both leg markets, and a receiving agent known by its DTC participant number.
fn instruction_with_cash_side() -> Value {
    let mut body = instruction_apmt_usd();
    body["instruction_id"] = json!("SEME-XNYS-000019");
    body["securities_market"] = json!("XNYS");
    body["cash"] = json!({
        "market": "XASX",
        "account": "AUD-CASH-SELLER-7",
        "owner": "549300ISTHMUSCASH062",
        "servicer": {"bic": "ANZBAU3M", "safekeeping_account": "ANZ-CASH-01"}
    });
    body["settlement_amount"] = json!({"amount": "352140.50", "currency": "AUD"});
    body["receiving_agent"] = json!({
        "proprietary_id": {"id": "0901", "issuer": "DTCYID"},
        "lei": "7LTWFZYICNSX8D621K86",
        "safekeeping_account": "CBF-7001"
    });
    body
}

/// Vectors for the instruction's cash side, implied parties and proprietary
/// party identifications (ISM-1 §6.0.1, §6.0.8, §6.0.9, §6.1 rules 4–5).
fn instruction_side_valid_vectors() -> Vec<(&'static str, &'static str, Vec<&'static str>, Value)> {
    let relay = "relay.custodian-a";
    // A buyer's receipt as a real MT541 leaves it: no account owner, no own
    // receiving agent, the delivering agent by a proprietary code with a scheme.
    let mut implied = instruction_apmt_usd();
    implied["instruction_id"] = json!("SEME-XASX-000020");
    implied["direction"] = json!("RECEIVE");
    implied["settlement_amount"] = json!({"amount": "352140.50", "currency": "AUD"});
    implied["delivering_agent"] =
        json!({"proprietary_id": {"id": "0901", "issuer": "DTCYID", "scheme": "DTC PARTICIPANT"}});
    implied["cash"] = json!({"account": "AUD-CASH-BUYER-3"});
    if let Value::Object(m) = &mut implied {
        for member in [
            "account_owner",
            "receiving_agent",
            "seller",
            "buyer",
            "common_reference",
        ] {
            m.remove(member);
        }
    }
    // A free-of-payment delivery with only what ISM/1 requires.
    let mut minimal = instruction_apmt_usd();
    minimal["instruction_id"] = json!("SEME-XNYS-000021");
    minimal["payment"] = json!("FREE_OF_PAYMENT");
    minimal["securities_market"] = json!("XNYS");
    minimal["receiving_agent"] = json!({"bic": "DEUTDEFF"});
    if let Value::Object(m) = &mut minimal {
        for member in [
            "account_owner",
            "delivering_agent",
            "seller",
            "buyer",
            "common_reference",
            "place_of_trade",
            "settlement_amount",
        ] {
            m.remove(member);
        }
    }
    vec![
        ("valid/19-instruction-with-cash-side", "A delivery against payment naming the cash side it is paid into (market, account, owner, servicer), the securities market, and a receiving agent by DTC participant number with its LEI.", vec!["ISM-1 §6.0.1", "ISM-1 §6.0.8", "ISM-1 §6.0.9", "ISM-1 §6.1"], envelope(19, "SettlementInstruction", "gw.xnys", relay, instruction_with_cash_side())),
        ("valid/20-instruction-receive-with-implied-parties", "A receipt against payment that leaves its own side implied (no account owner, no receiving agent) and names the delivering agent by a proprietary code with a scheme.", vec!["ISM-1 §6.0.8", "ISM-1 §6.1"], envelope(20, "SettlementInstruction", "gw.xasx", relay, implied)),
        ("valid/21-instruction-deliver-free-minimal", "A free-of-payment delivery with only the members ISM/1 requires: no cash side, no settlement amount, no delivering agent.", vec!["ISM-1 §6.1"], envelope(21, "SettlementInstruction", "gw.xnys", relay, minimal)),
    ]
}

fn instruction_side_invalid_vectors() -> Vec<Invalid> {
    let with_cash = envelope(
        19,
        "SettlementInstruction",
        "gw.xnys",
        "relay.custodian-a",
        instruction_with_cash_side(),
    );
    vec![
        invalid(
            "invalid/67-deliver-without-receiving-agent",
            "A delivery that does not name the receiving agent it delivers to.",
            "ISM-1 §6.1",
            "COUNTERPARTY_REQUIRED",
            Some("body.receiving_agent"),
            changed(&with_cash, remove(&["body", "receiving_agent"])),
        ),
        invalid(
            "invalid/68-party-without-identification",
            "A delivering agent with an LEI and an account but neither a BIC nor a proprietary id.",
            "ISM-1 §6.0.1",
            "PARTY_ID_CHOICE",
            Some("body.delivering_agent"),
            changed(
                &with_cash,
                set(
                    &["body", "delivering_agent"],
                    json!({"lei": "7H6GLXDRUGQFU57RNE97", "safekeeping_account": "DTC-0902"}),
                ),
            ),
        ),
        invalid(
            "invalid/69-party-bic-and-proprietary-id",
            "A receiving agent identified both by BIC and by a proprietary id.",
            "ISM-1 §6.0.1",
            "PARTY_ID_CHOICE",
            Some("body.receiving_agent"),
            changed(
                &with_cash,
                set(
                    &["body", "receiving_agent"],
                    json!({"bic": "DEUTDEFF", "proprietary_id": {"id": "0901", "issuer": "DTCYID"}}),
                ),
            ),
        ),
        invalid(
            "invalid/70-free-of-payment-with-cash-side",
            "A free-of-payment instruction (no settlement amount) that names a cash side.",
            "ISM-1 §6.1",
            "AMOUNT_NOT_ALLOWED",
            Some("body.cash"),
            changed(&with_cash, |m| {
                m["body"]["payment"] = json!("FREE_OF_PAYMENT");
                if let Value::Object(body) = &mut m["body"] {
                    body.remove("settlement_amount");
                }
            }),
        ),
        invalid(
            "invalid/71-proprietary-issuer-not-a-reference",
            "A proprietary id whose issuer has a character outside the SWIFT x set.",
            "ISM-1 §6.0.8",
            "TEXT_INVALID",
            Some("body.receiving_agent.proprietary_id.issuer"),
            changed(
                &with_cash,
                set(
                    &["body", "receiving_agent", "proprietary_id", "issuer"],
                    json!("DTCY_ID"),
                ),
            ),
        ),
        invalid(
            "invalid/72-proprietary-id-without-issuer",
            "A proprietary id that does not say who issued it.",
            "ISM-1 §6.0.8",
            "MISSING_FIELD",
            Some("body.receiving_agent.proprietary_id.issuer"),
            changed(
                &with_cash,
                remove(&["body", "receiving_agent", "proprietary_id", "issuer"]),
            ),
        ),
        invalid(
            "invalid/73-empty-cash-side",
            "A cash side with no member.",
            "ISM-1 §6.0.9",
            "MISSING_FIELD",
            Some("body.cash.account"),
            changed(&with_cash, set(&["body", "cash"], json!({}))),
        ),
        invalid(
            "invalid/74-cash-market-malformed",
            "A cash side whose market is not a MIC.",
            "ISM-1 §6.0.9",
            "MIC_FORMAT",
            Some("body.cash.market"),
            changed(&with_cash, set(&["body", "cash", "market"], json!("xasx"))),
        ),
        invalid(
            "invalid/75-cash-owner-not-a-party-id",
            "A cash side whose owner is neither an LEI nor a BIC.",
            "ISM-1 §6.0.9",
            "PARTY_ID_INVALID",
            Some("body.cash.owner"),
            changed(&with_cash, set(&["body", "cash", "owner"], json!("SELLER"))),
        ),
        invalid(
            "invalid/76-securities-market-malformed",
            "A securities market that is not a MIC.",
            "ISM-1 §6.1",
            "MIC_FORMAT",
            Some("body.securities_market"),
            changed(
                &with_cash,
                set(&["body", "securities_market"], json!("XNYSE")),
            ),
        ),
    ]
}

/// A free-of-payment proposal (ISM-1 §6.3): the settlement of a free delivery
/// such as `valid/21`, with a secret of its own (§6.3 duty 2). It has no cash
/// leg and no settlement amount, only the securities leg expiring at T2.
fn proposal_free_of_payment_body() -> Value {
    let mut body = proposal_body();
    body["settlement_id"] = json!("STL-20261125-0003");
    body["deliver_instruction_id"] = json!("SEME-XNYS-000021");
    body["receive_instruction_id"] = json!("SEME-XETR-000421");
    body["hashlock"] = json!(Hex32::sha256_of(
        Hex32::sha256_of(b"ISM/1 free-of-payment vector preimage").bytes()
    )
    .as_str());
    if let Value::Object(m) = &mut body {
        m.remove("settlement_amount");
        m.remove("cash_leg");
    }
    body
}

fn proposal_free_of_payment_message() -> Value {
    envelope(
        41,
        "SettlementProposal",
        "relay.custodian-a",
        "gw.xnys",
        proposal_free_of_payment_body(),
    )
}

/// Vectors for the free-of-payment proposal (ISM-1 §6.3 rules 1–3).
fn free_of_payment_proposal_valid_vectors(
) -> Vec<(&'static str, &'static str, Vec<&'static str>, Value)> {
    vec![
        ("valid/41-settlement-proposal-free-of-payment", "The relay's matched settlement of a free-of-payment pair: no cash leg and no settlement amount, only the securities leg, expiring at T2.", vec!["ISM-1 §6.3", "ISM-1 §12.3"], proposal_free_of_payment_message()),
    ]
}

fn free_of_payment_proposal_invalid_vectors() -> Vec<Invalid> {
    let proposal = envelope(
        7,
        "SettlementProposal",
        "relay.custodian-a",
        "gw.xnys",
        proposal_body(),
    );
    vec![
        invalid(
            "invalid/116-proposal-cash-leg-without-amount",
            "A proposal with a cash leg but no settlement amount.",
            "ISM-1 §6.3",
            "AMOUNT_REQUIRED",
            Some("body.settlement_amount"),
            changed(&proposal, remove(&["body", "settlement_amount"])),
        ),
        invalid(
            "invalid/117-proposal-amount-without-cash-leg",
            "A proposal without a cash leg, so free of payment, that carries a settlement amount.",
            "ISM-1 §6.3",
            "AMOUNT_NOT_ALLOWED",
            Some("body.settlement_amount"),
            changed(
                &proposal_free_of_payment_message(),
                set(
                    &["body", "settlement_amount"],
                    json!({"amount": "231450.00", "currency": "USD"}),
                ),
            ),
        ),
    ]
}

/// Vectors for reasons with an issuer and the reason code forms of status
/// advices (ISM-1 §6.0.6, §6.2, Appendix A.1): written here, beside the
/// others, and counted into `count` (valid, invalid).
fn status_reason_vectors(
    root: &Path,
    keys: &Keys,
    count: (usize, usize),
) -> Result<(usize, usize)> {
    let relay = "relay.custodian-a";
    let with_reason = |n: u8, state: &str, reason: Value| {
        let mut body = status(state, None);
        body["reason"] = reason;
        envelope(n, "InstructionStatus", relay, "gw.xlon", body)
    };
    // A CSD's own rejection code (MT548 :24B::REJT/CRST/R012, sese.024 Rjctd/Rsn/Cd/Prtry).
    let proprietary = with_reason(
        30,
        "REJECTED",
        json!({
            "code": "PRTRY_R012", "text": "Member account suspended for settlement by the depository.", "issuer": "CRST"
        }),
    );
    let valid: Vec<(&str, &str, Vec<&str>, Value)> = vec![
        ("valid/30-status-rejected-proprietary-reason-with-issuer", "A rejection with a depository's own reason code and its issuer.", vec!["ISM-1 §6.0.6", "ISM-1 §6.2"], proprietary.clone()),
        ("valid/31-status-pending-standard-iso-reason", "A pending settlement with a standard ISO 15022/20022 reason code that has no ISM/1 name (LACK, lack of securities), written ISO_LACK.", vec!["ISM-1 §6.2"], with_reason(31, "PENDING", json!({
            "code": "ISO_LACK", "text": "Insufficient securities in the delivering account."
        }))),
        ("valid/32-status-matched-proprietary-reason-with-scheme", "A matched status with a proprietary reason naming its issuer and the issuer's code list.", vec!["ISM-1 §6.0.6", "ISM-1 §6.2"], with_reason(32, "MATCHED", json!({
            "code": "PRTRY_TOLR", "text": "Matched within the depository's amount tolerance.", "issuer": "ECLR", "scheme": "MATCHING TOLERANCE"
        }))),
    ];
    let invalid_vectors = vec![
        invalid(
            "invalid/80-reason-issuer-not-a-reference",
            "A reason whose issuer has a character outside the SWIFT x set.",
            "ISM-1 §6.0.6",
            "TEXT_INVALID",
            Some("body.reason.issuer"),
            changed(
                &proprietary,
                set(&["body", "reason", "issuer"], json!("CRST_UK")),
            ),
        ),
        invalid(
            "invalid/81-reason-scheme-without-issuer",
            "A reason that names a code list but not the issuer whose list it is.",
            "ISM-1 §6.0.6",
            "MISSING_FIELD",
            Some("body.reason.issuer"),
            changed(&proprietary, |m| {
                m["body"]["reason"]["scheme"] = json!("CREST REASONS");
                if let Value::Object(reason) = &mut m["body"]["reason"] {
                    reason.remove("issuer");
                }
            }),
        ),
    ];
    let (mut valid_count, mut invalid_count) = count;
    for (id, description, clauses, message) in valid {
        let signed = sign(message, &keys.trusted);
        let unsigned = canonical_unsigned_of(&signed);
        let vector = json!({
            "schema": VECTOR_SCHEMA,
            "id": id,
            "description": description,
            "clauses": clauses,
            "input": signed,
            "expect": {
                "result": "valid",
                "canonical_unsigned": String::from_utf8(unsigned.clone())?,
                "canonical_unsigned_sha256": Hex32::sha256_of(&unsigned).as_str(),
                "signature": signed["signature"]["value"],
            }
        });
        write_json(&root.join(format!("{id}.json")), &vector)?;
        valid_count += 1;
    }
    for vector in invalid_vectors {
        let InvalidInput::Message { value, signer } = vector.input else {
            return Err("the status reason vectors are messages".into());
        };
        let mut out = json!({
            "schema": VECTOR_SCHEMA,
            "id": vector.id,
            "description": vector.description,
            "clauses": vector.clauses,
            "expect": {"result": "invalid", "reason": vector.reason, "field": vector.field},
            "input": signed_by(&value, signer, keys),
        });
        if vector.field.is_none() {
            if let Value::Object(expect) = &mut out["expect"] {
                expect.remove("field");
            }
        }
        write_json(&root.join(format!("{}.json", vector.id)), &out)?;
        invalid_count += 1;
    }
    Ok((valid_count, invalid_count))
}

fn signed_by(value: &Value, signer: Signer, keys: &Keys) -> Value {
    match signer {
        Signer::Trusted => sign(value.clone(), &keys.trusted),
        Signer::Untrusted => sign(value.clone(), &keys.untrusted),
        Signer::Unsigned => value.clone(),
        Signer::Tampered => {
            let mut signed = sign(value.clone(), &keys.trusted);
            let text = signed["signature"]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            // Flip the lowest bit of the first character's value: 'A' <-> 'B' etc. stay in the alphabet.
            let mut chars: Vec<char> = text.chars().collect();
            chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
            signed["signature"]["value"] = json!(chars.into_iter().collect::<String>());
            signed
        }
        Signer::ChangedAfterSigning => {
            let mut signed = sign(value.clone(), &keys.trusted);
            signed["body"]["quantity"] = json!("100000");
            signed
        }
    }
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    fs::write(path, text)?;
    Ok(())
}

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let keys = Keys {
        trusted: key_from_phrase(TRUSTED_SEED_PHRASE)?,
        untrusted: key_from_phrase(UNTRUSTED_SEED_PHRASE)?,
    };
    write_json(
        &root.join("keys.json"),
        &json!({
            "schema": KEYS_SCHEMA,
            "trusted": [key_record("test-key-1", TRUSTED_SEED_PHRASE, &keys.trusted)],
            "untrusted": [key_record("untrusted-key", UNTRUSTED_SEED_PHRASE, &keys.untrusted)],
        }),
    )?;
    let record = serde_json::to_value(PublicKeyRecord::of(&keys.trusted.public_key()))?;
    write_json(&root.join("test-key.pub.json"), &record)?;
    let samples = root
        .parent()
        .map(|specs| specs.join("samples"))
        .ok_or("no parent")?;
    fs::create_dir_all(&samples)?;
    write_json(
        &samples.join("settlement-instruction.json"),
        &sign(instruction_message(), &keys.trusted),
    )?;
    write_json(
        &samples.join("settlement-instruction.unsigned.json"),
        &instruction_message(),
    )?;
    for dir in ["valid", "invalid"] {
        let path = root.join(dir);
        if path.exists() {
            fs::remove_dir_all(&path)?;
        }
        fs::create_dir_all(&path)?;
    }
    let mut count = (0, 0);
    for (id, description, clauses, message) in valid_vectors()
        .into_iter()
        .chain(instruction_side_valid_vectors())
        .chain(free_of_payment_proposal_valid_vectors())
    {
        let signed = sign(message, &keys.trusted);
        let unsigned = canonical_unsigned_of(&signed);
        let vector = json!({
            "schema": VECTOR_SCHEMA,
            "id": id,
            "description": description,
            "clauses": clauses,
            "input": signed,
            "expect": {
                "result": "valid",
                "canonical_unsigned": String::from_utf8(unsigned.clone())?,
                "canonical_unsigned_sha256": Hex32::sha256_of(&unsigned).as_str(),
                "signature": signed["signature"]["value"],
            }
        });
        write_json(&root.join(format!("{id}.json")), &vector)?;
        count.0 += 1;
    }
    // One valid vector given as exact text: members in reverse order and
    // whitespace everywhere, which must not change the canonical bytes.
    let signed = sign(instruction_message(), &keys.trusted);
    let unsigned = canonical_unsigned_of(&signed);
    let mut reordered = String::from("{\n");
    let members: Vec<(String, Value)> = signed
        .as_object()
        .map(|m| m.clone().into_iter().rev().collect())
        .unwrap_or_default();
    for (index, (name, value)) in members.iter().enumerate() {
        let separator = if index + 1 < members.len() { "," } else { "" };
        reordered.push_str(&format!(
            "  {:?} :\t{}{separator}\n",
            name,
            serde_json::to_string_pretty(value)?
        ));
    }
    reordered.push_str("}\n");
    write_json(
        &root.join("valid/18-reordered-with-whitespace.json"),
        &json!({
            "schema": VECTOR_SCHEMA,
            "id": "valid/18-reordered-with-whitespace",
            "description": "Vector 01 with its members in reverse order and whitespace between every token: the canonical bytes and signature are unchanged.",
            "clauses": ["ISM-1 §3.4", "ISM-1 §7.2"],
            "input_text": reordered,
            "expect": {
                "result": "valid",
                "canonical_unsigned": String::from_utf8(unsigned.clone())?,
                "canonical_unsigned_sha256": Hex32::sha256_of(&unsigned).as_str(),
                "signature": signed["signature"]["value"],
            }
        }),
    )?;
    count.0 += 1;
    for vector in invalid_vectors(&keys)
        .into_iter()
        .chain(instruction_side_invalid_vectors())
        .chain(free_of_payment_proposal_invalid_vectors())
    {
        let mut out = json!({
            "schema": VECTOR_SCHEMA,
            "id": vector.id,
            "description": vector.description,
            "clauses": vector.clauses,
            "expect": {"result": "invalid", "reason": vector.reason},
        });
        if let Some(field) = vector.field {
            out["expect"]["field"] = json!(field);
        }
        match vector.input {
            InvalidInput::Message { value, signer } => {
                out["input"] = signed_by(&value, signer, &keys)
            }
            InvalidInput::Text { text, pad_to_bytes } => {
                out["input_text"] = json!(text);
                if let Some(pad) = pad_to_bytes {
                    out["pad_to_bytes"] = json!(pad);
                }
            }
        }
        write_json(&root.join(format!("{}.json", vector.id)), &out)?;
        count.1 += 1;
    }
    precision_vectors(&root, &keys, &mut count)?;
    count = status_reason_vectors(&root, &keys, count)?;
    println!(
        "wrote {} valid and {} invalid vectors under {}",
        count.0,
        count.1,
        root.display()
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Precision vectors (issue 7 §5): where an outside implementer had to guess,
// ISM-1 now says exactly what happens, and these vectors pin each answer.
// They are numbered from invalid/90 and valid/40, apart from the others.
// ---------------------------------------------------------------------------

#[path = "../tests/support/curve25519.rs"]
mod curve25519;

use isthmus_spec::sign::{PublicKey, SignatureValue};

/// The input of a precision vector.
enum PreciseInput {
    Value(Value),
    Text(String),
    /// Exact bytes, for inputs that are not UTF-8 (`input_hex`, ISM-1 §10.2).
    Bytes(Vec<u8>),
}

struct Precise {
    id: &'static str,
    description: &'static str,
    clauses: &'static [&'static str],
    /// `None` for a valid vector; else the reason and, if any, the path.
    refusal: Option<(&'static str, Option<&'static str>)>,
    input: PreciseInput,
}

fn refused(
    id: &'static str,
    description: &'static str,
    clauses: &'static [&'static str],
    reason: &'static str,
    field: Option<&'static str>,
    input: PreciseInput,
) -> Precise {
    Precise {
        id,
        description,
        clauses,
        refusal: Some((reason, field)),
        input,
    }
}

/// A public key that no seed gives, published in keys.json as trusted so
/// that verification, not the key lookup, decides (ISM-1 §10.3).
struct CraftedKey {
    name: &'static str,
    bytes: [u8; 32],
}

impl CraftedKey {
    fn public(&self) -> PublicKey {
        PublicKey::from_bytes(self.bytes)
    }
}

/// The identity point, canonically encoded: a key of order 1.
const SMALL_ORDER_KEY: CraftedKey = CraftedKey {
    name: "small-order-key",
    bytes: le_bytes_with_low_byte(0x01, 0x00, 0x00),
};
/// y = p + 1: a non-canonical encoding of the identity, which lenient
/// decoders (ring's among them) read as y = 1.
const NON_CANONICAL_KEY: CraftedKey = CraftedKey {
    name: "non-canonical-key",
    bytes: le_bytes_with_low_byte(0xee, 0xff, 0x7f),
};
/// y = 2: no point of the curve has it.
const OFF_CURVE_KEY: CraftedKey = CraftedKey {
    name: "off-curve-key",
    bytes: le_bytes_with_low_byte(0x02, 0x00, 0x00),
};

/// 32 bytes: `low`, then 30 times `fill`, then `high`.
const fn le_bytes_with_low_byte(low: u8, fill: u8, high: u8) -> [u8; 32] {
    let mut out = [fill; 32];
    out[0] = low;
    out[31] = high;
    out
}

fn sha512(parts: &[&[u8]]) -> [u8; 64] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA512);
    for part in parts {
        context.update(part);
    }
    let mut out = [0u8; 64];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// The domain-prefixed signing input of a message value (ISM-1 §7.2).
fn signing_input_of(message: &Value) -> Vec<u8> {
    let mut input = SIGNATURE_DOMAIN.to_vec();
    input.extend_from_slice(&canonical_unsigned_of(message));
    input
}

/// `message` with a `signature` member holding exactly these bytes.
fn with_raw_signature(message: &Value, key: &PublicKey, bytes: [u8; 64]) -> Value {
    let mut signed = message.clone();
    signed["signature"] = json!({
        "alg": "Ed25519",
        "key_id": key.key_id().as_str(),
        "value": SignatureValue::from_bytes(bytes).as_str(),
    });
    signed
}

fn join_signature(r: &[u8; 32], s: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(r);
    out[32..].copy_from_slice(s);
    out
}

/// Whether ring, on its own, accepts the signature; the generator records
/// it so that every description below says what ring alone would do.
fn ring_accepts(key: &[u8; 32], input: &[u8], signature: &[u8; 64]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
        .verify(input, signature)
        .is_ok()
}

/// The signatures of ISM-1 §7.3 item 2, each breaking one rule in a way a
/// verifier lacking that rule would accept.
fn signature_rule_vectors(keys: &Keys) -> Result<Vec<Precise>> {
    use curve25519::{add_raw, from_le_bytes, to_le_bytes, Point, SCALARS};
    let message = instruction_message();
    let input = signing_input_of(&message);
    let trusted = keys.trusted.public_key();
    let a_bytes = *trusted.as_bytes();
    let seed = Hex32::sha256_of(TRUSTED_SEED_PHRASE.as_bytes());
    let (clamped, prefix) = curve25519::expand_seed(&sha512(&[seed.bytes()]));
    let a = SCALARS.reduce(&clamped);
    let honest = *keys.trusted.sign_bytes(&input).as_bytes();
    let mut honest_r = [0u8; 32];
    honest_r.copy_from_slice(&honest[..32]);
    let mut honest_s = [0u8; 32];
    honest_s.copy_from_slice(&honest[32..]);
    let k_for = |r: &[u8; 32], public: &[u8; 32]| {
        curve25519::scalar_from_digest(&sha512(&[r, public, &input]))
    };
    // The crafting arithmetic must agree with ring's signer before it is trusted.
    let r_scalar = curve25519::scalar_from_digest(&sha512(&[&prefix, &input]));
    if Point::base().times(&r_scalar).encode() != honest_r
        || Point::base().times(&a).encode() != a_bytes
    {
        return Err("the crafting arithmetic disagrees with ring's Ed25519 signer".into());
    }

    // S + L: the same point [S]B, but S is not reduced.
    let s_plus_l = to_le_bytes(&add_raw(&from_le_bytes(&honest_s), &curve25519::L).0);
    // R = the identity, canonically encoded, with S = k·a: [S]B − [k]A = R.
    let identity_r = Point::identity().encode();
    let s_identity = to_le_bytes(&SCALARS.mul(&k_for(&identity_r, &a_bytes), &a));
    // R = the identity as y = p + 1: the same equation for a verifier that
    // decodes R instead of comparing its bytes.
    let non_canonical_r = NON_CANONICAL_KEY.bytes;
    let s_non_canonical = to_le_bytes(&SCALARS.mul(&k_for(&non_canonical_r, &a_bytes), &a));
    // R′ = R + T with T of order 8, S′ = r + k′·a: only the cofactored
    // equation [8][S′]B = [8]R′ + [8][k′]A holds.
    let torsion = curve25519::torsion_points();
    let mixed_r = Point::decode(&honest_r)
        .ok_or("ring's R does not decode")?
        .add(&torsion[1])
        .encode();
    let s_mixed =
        to_le_bytes(&SCALARS.add(&r_scalar, &SCALARS.mul(&k_for(&mixed_r, &a_bytes), &a)));
    // Under a key of small order, R = A₁ (test-key-1's public key) and
    // S = a₁ mod L verify for every message, since [k]A is the identity.
    let forged_s = to_le_bytes(&a);

    let cases: [(&'static str, &'static str, PublicKey, [u8; 64], bool); 7] = [
        ("invalid/99-signature-s-not-reduced",
         "Test-key-1's signature with L added to S: the point [S]B is unchanged and the top three bits of S are still clear, but S ≥ L is refused. ring alone refuses it.",
         trusted.clone(), join_signature(&honest_r, &s_plus_l), false),
        ("invalid/100-signature-r-small-order",
         "R is the identity (0100…00) and S = k·a, so [S]B − [k]A = R holds byte for byte; R of small order is refused. ring alone accepts it.",
         trusted.clone(), join_signature(&identity_r, &s_identity), true),
        ("invalid/101-signature-r-non-canonical",
         "R is the identity encoded with y = p + 1 (eeff…ff7f) and S = k·a: a verifier that decodes R and compares points accepts it, one that compares R's bytes with the canonical encoding of [S]B − [k]A does not. ring alone refuses it.",
         trusted.clone(), join_signature(&non_canonical_r, &s_non_canonical), false),
        ("invalid/102-signature-cofactored-only",
         "R′ = R + T with T of order 8, and S′ = r + k′·a: the cofactored equation [8][S]B = [8]R + [8][k]A holds, the cofactorless one of ISM/1 does not. ring alone refuses it.",
         trusted.clone(), join_signature(&mixed_r, &s_mixed), false),
        ("invalid/103-key-small-order",
         "Signed under small-order-key, the identity: R = test-key-1's public key and S = its secret scalar verify for every message under this key, so anyone can make them; keys of small order are refused. ring alone accepts it.",
         SMALL_ORDER_KEY.public(), join_signature(&a_bytes, &forged_s), true),
        ("invalid/104-key-non-canonical",
         "Signed under non-canonical-key, the identity encoded with y = p + 1, with the forgery of invalid/103: refused because the encoding is not canonical and names a point of small order. ring alone accepts it.",
         NON_CANONICAL_KEY.public(), join_signature(&a_bytes, &forged_s), true),
        ("invalid/105-key-not-on-curve",
         "Test-key-1's signature, but the key id names off-curve-key (y = 2), which is no point of the curve: SIGNATURE_INVALID, not KEY_UNKNOWN or SIGNATURE_MALFORMED. ring alone refuses it.",
         OFF_CURVE_KEY.public(), honest, false),
    ];
    let mut vectors = Vec::new();
    for (id, description, key, signature, ring_expected) in cases {
        if ring_accepts(key.as_bytes(), &input, &signature) != ring_expected {
            return Err(
                format!("{id}: ring's verdict is not the one the description states").into(),
            );
        }
        vectors.push(refused(
            id,
            description,
            &["ISM-1 §7.3"],
            "SIGNATURE_INVALID",
            Some("signature"),
            PreciseInput::Value(with_raw_signature(&message, &key, signature)),
        ));
    }
    Ok(vectors)
}

/// The JSON vectors of ISM-1 §3.1 item 5 (order of the step-0 checks) and
/// item 6 (numbers).
fn step_zero_vectors(keys: &Keys) -> Vec<Precise> {
    let compact =
        serde_json::to_string(&sign(instruction_message(), &keys.trusted)).unwrap_or_default();
    let bytes = |parts: &[&[u8]]| PreciseInput::Bytes(parts.concat());
    let deep =
        |levels: usize, inner: &str| format!("{}{inner}{}", "[".repeat(levels), "]".repeat(levels));
    // A signed Error whose text has an 'A', then that 'A' written as the
    // overlong two-byte form C1 81: a lenient decoder reads the signed text.
    let error_message = sign(
        envelope(
            90,
            "Error",
            "relay.custodian-a",
            "gw.xnys",
            json!({"code": "MALFORMED_JSON", "text": "Member A is malformed."}),
        ),
        &keys.trusted,
    );
    let error_text = serde_json::to_string(&error_message).unwrap_or_default();
    let (before, after) = error_text
        .split_once("Member A")
        .unwrap_or((error_text.as_str(), ""));
    // A quantity written as a JSON number: the message is signed over its
    // canonical form, where 1e-400 is the number 0.
    let mut numeric = instruction_message();
    numeric["body"]["quantity"] = json!(0);
    let numeric = serde_json::to_string(&sign(numeric, &keys.trusted)).unwrap_or_default();
    let quantity_as =
        |number: &str| numeric.replacen("\"quantity\":0", &format!("\"quantity\":{number}"), 1);
    vec![
        refused("invalid/90-duplicate-then-invalid-utf8",
            "{\"a\":1,\"a\":\"\\xff\"}: the duplicate name comes first in the text, but UTF-8 is checked over the whole input before the text is read.",
            &["ISM-1 §3.1", "ISM-1 §3.2"], "MALFORMED_JSON", None,
            bytes(&[b"{\"a\":1,\"a\":\"", b"\xff", b"\"}"])),
        refused("invalid/91-invalid-utf8-after-deep-nesting",
            "Arrays nested 20 deep around a string holding ED A0 80, an encoded surrogate (CESU-8), which RFC 3629 forbids: MALFORMED_JSON, although the too-deep array comes first in the text.",
            &["ISM-1 §3.1"], "MALFORMED_JSON", None,
            bytes(&[
                format!("{{\"version\":\"ISM/1\",\"x\":{}\"", "[".repeat(20)).as_bytes(),
                b"\xed\xa0\x80",
                format!("\"{}}}", "]".repeat(20)).as_bytes(),
            ])),
        refused("invalid/92-overlong-utf8-in-signed-text",
            "A validly signed Error whose text \"Member A is malformed.\" has its 'A' written as the overlong sequence C1 81: refused, although a lenient decoder would read the signed text.",
            &["ISM-1 §3.1"], "MALFORMED_JSON", None,
            bytes(&[before.as_bytes(), b"Member \xc1\x81", after.as_bytes()])),
        refused("invalid/93-duplicate-name-at-end-of-input",
            "{\"version\":\"ISM/1\",\"version\" and nothing more: the duplicate is met at the repeated name, before the missing colon and value.",
            &["ISM-1 §3.1", "ISM-1 §3.2"], "DUPLICATE_KEY", None,
            PreciseInput::Text("{\"version\":\"ISM/1\",\"version\"".into())),
        refused("invalid/94-number-out-of-range-before-duplicate",
            "{\"a\":1e400,\"a\":2}: the number that rounds to infinity is met before the duplicate name.",
            &["ISM-1 §3.1", "ISM-1 §3.2"], "MALFORMED_JSON", None,
            PreciseInput::Text("{\"a\":1e400,\"a\":2}".into())),
        refused("invalid/95-deep-nesting-before-duplicate",
            "An object whose member \"a\" holds arrays 16 deep (the innermost at level 17), then \"a\" again: the too-deep array is met first.",
            &["ISM-1 §3.1", "ISM-1 §3.2"], "NESTING_TOO_DEEP", None,
            PreciseInput::Text(format!("{{\"a\":{},\"a\":1}}", deep(16, "")))),
        refused("invalid/96-byte-order-mark",
            "A validly signed message preceded by a byte order mark (EF BB BF), which is UTF-8 but not JSON whitespace.",
            &["ISM-1 §3.1"], "MALFORMED_JSON", None,
            PreciseInput::Text(format!("\u{feff}{compact}"))),
        refused("invalid/97-quantity-underflowing-number",
            "The quantity written as the JSON number 1e-400, which rounds to zero: the JSON is well formed, and the number is refused as a wrong type.",
            &["ISM-1 §3.1", "ISM-1 §3.3"], "WRONG_TYPE", Some("body.quantity"),
            PreciseInput::Text(quantity_as("1e-400"))),
        refused("invalid/98-quantity-overflowing-number",
            "The quantity written as the JSON number 1e400, which rounds to infinity: malformed JSON, before any member is looked at.",
            &["ISM-1 §3.1"], "MALFORMED_JSON", None,
            PreciseInput::Text(quantity_as("1e400"))),
    ]
}

/// Cross-member rules of a body are checked in step 9 of ISM-1 §5.3, before
/// the signature member's form (step 10).
fn check_order_vectors(keys: &Keys) -> Vec<Precise> {
    let proposal = envelope(
        7,
        "SettlementProposal",
        "relay.custodian-a",
        "gw.xnys",
        proposal_body(),
    );
    let mut late_securities = proposal;
    late_securities["body"]["securities_leg"]["expires_at"] = json!("2026-11-27T13:00:00Z");
    let mut expiry = sign(late_securities, &keys.trusted);
    expiry["signature"]["alg"] = json!("RS256");
    let lock = envelope(
        8,
        "LockRequest",
        "relay.custodian-a",
        "gw.xnys",
        lock_request_securities(),
    );
    let mut both_assets = lock;
    both_assets["body"]["cash"] = json!({"amount": "1.00", "currency": "USD"});
    let mut asset = sign(both_assets, &keys.trusted);
    asset["signature"]["value"] = json!("AAAA");
    vec![
        refused("invalid/106-expiry-order-before-signature-form",
            "A proposal whose securities leg expires first and whose signature names the algorithm RS256: the body's cross-member rule (step 9) is reported, not SIGNATURE_MALFORMED (step 10).",
            &["ISM-1 §5.3", "ISM-1 §6.3"], "EXPIRY_ORDER", Some("body.securities_leg.expires_at"),
            PreciseInput::Value(expiry)),
        refused("invalid/107-asset-choice-before-signature-form",
            "A securities lock that also names cash, whose signature value is four characters: ASSET_CHOICE (step 9), not SIGNATURE_MALFORMED (step 10).",
            &["ISM-1 §5.3", "ISM-1 §6.4"], "ASSET_CHOICE", Some("body"),
            PreciseInput::Value(asset)),
    ]
}

/// Member names go into paths verbatim, without escaping (ISM-1 §3.3.6).
fn path_vectors(keys: &Keys) -> Vec<Precise> {
    let with_member = |parent: Option<&str>, name: &str| {
        let mut message = instruction_message();
        let target = match parent {
            Some(member) => &mut message[member],
            None => &mut message,
        };
        if let Value::Object(members) = target {
            members.insert(name.to_string(), json!("x"));
        }
        PreciseInput::Value(sign(message, &keys.trusted))
    };
    vec![
        refused("invalid/108-unknown-member-with-dot",
            "The body has an unknown member named \"a.b\": its path is body.a.b, the same text as a member b of a member a.",
            &["ISM-1 §3.3"], "UNKNOWN_FIELD", Some("body.a.b"), with_member(Some("body"), "a.b")),
        refused("invalid/109-unknown-member-with-bracket",
            "The envelope has an unknown member named \"x[0]\": its path is x[0], written as the name is.",
            &["ISM-1 §3.3"], "UNKNOWN_FIELD", Some("x[0]"), with_member(None, "x[0]")),
        refused("invalid/110-unknown-body-member-empty-name",
            "The body has an unknown member whose name is the empty string: its path is \"body.\".",
            &["ISM-1 §3.3"], "UNKNOWN_FIELD", Some("body."), with_member(Some("body"), "")),
        refused("invalid/111-unknown-envelope-member-empty-name",
            "The envelope has an unknown member whose name is the empty string: its path is the empty string.",
            &["ISM-1 §3.3"], "UNKNOWN_FIELD", Some(""), with_member(None, "")),
    ]
}

/// §4.7 step 1 applies only to a well-formed decimal after the minus sign.
fn decimal_vectors(keys: &Keys) -> Vec<Precise> {
    let quantity = |text: &str| {
        let mut message = instruction_message();
        message["body"]["quantity"] = json!(text);
        PreciseInput::Value(sign(message, &keys.trusted))
    };
    vec![
        refused("invalid/112-decimal-minus-point",
            "The quantity \"-.\": what follows the minus sign is not a decimal, so the value is malformed, not negative.",
            &["ISM-1 §4.7"], "DECIMAL_FORMAT", Some("body.quantity"), quantity("-.")),
        refused("invalid/113-decimal-negative-two-points",
            "The quantity \"-1.2.3\": malformed, not negative.",
            &["ISM-1 §4.7"], "DECIMAL_FORMAT", Some("body.quantity"), quantity("-1.2.3")),
        refused("invalid/114-decimal-minus-non-ascii-digits",
            "The quantity \"-١٠٠٠\" (ARABIC-INDIC DIGIT ONE and ZERO): digits are ASCII only, so it is malformed, not negative.",
            &["ISM-1 §4.7"], "DECIMAL_FORMAT", Some("body.quantity"), quantity("-\u{661}\u{660}\u{660}\u{660}")),
    ]
}

/// ISM-1 §4.1 item 3: a prefix that is neither a country nor an ISIN prefix
/// of Table 3, on an ISIN whose check digit is right.
fn isin_prefix_vectors(keys: &Keys) -> Vec<Precise> {
    let mut message = instruction_message();
    message["body"]["isin"] = json!("QQ0000000000");
    vec![refused("invalid/115-isin-prefix-unknown",
        "The ISIN QQ0000000000 has a correct check digit, but QQ is neither an ISO 3166-1 country code nor an ISIN prefix of Table 3.",
        &["ISM-1 §4.1"], "ISIN_PREFIX", Some("body.isin"),
        PreciseInput::Value(sign(message, &keys.trusted)))]
}

/// A valid message given as exact bytes: a text with U+FEFF inside it,
/// noncharacters, and escapes that the canonical form writes as UTF-8.
fn valid_byte_vectors(keys: &Keys) -> Vec<Precise> {
    let text = "Zero\u{feff}width, U+FFFF \u{ffff}, U+10FFFF \u{10ffff}, \u{1f600} and \u{e9}/";
    let message = sign(
        envelope(
            40,
            "Error",
            "relay.custodian-a",
            "gw.xnys",
            json!({"code": "TEXT_INVALID", "text": text}),
        ),
        &keys.trusted,
    );
    let compact = serde_json::to_string(&message).unwrap_or_default();
    // The same text written with escapes where JSON allows them.
    let escaped = "\"Zero\u{feff}width, U+FFFF \u{ffff}, U+10FFFF \\udbff\\udfff, \\ud83d\\ude00 and \\u00e9\\/\"";
    let written = compact.replacen(&serde_json::to_string(text).unwrap_or_default(), escaped, 1);
    vec![Precise {
        id: "valid/40-text-with-unusual-characters-as-bytes",
        description: "An Error whose text holds U+FEFF inside it (a byte order mark only at the start of the input is refused), the noncharacters U+FFFF and U+10FFFF, and the escapes \\udbff\\udfff, \\ud83d\\ude00, \\u00e9 and \\/, given as exact bytes: accepted, and the canonical form writes every one of them as UTF-8.",
        clauses: &["ISM-1 §3.1", "ISM-1 §3.4", "ISM-1 §10.2"],
        refusal: None,
        input: PreciseInput::Bytes(written.into_bytes()),
    }]
}

/// Writes the precision vectors and adds their crafted keys to keys.json.
fn precision_vectors(root: &Path, keys: &Keys, count: &mut (usize, usize)) -> Result<()> {
    let keys_path = root.join("keys.json");
    let mut key_file: Value = serde_json::from_str(&fs::read_to_string(&keys_path)?)?;
    if let Some(trusted) = key_file["trusted"].as_array_mut() {
        for key in [&SMALL_ORDER_KEY, &NON_CANONICAL_KEY, &OFF_CURVE_KEY] {
            trusted.push(json!({
                "name": key.name,
                "alg": "Ed25519",
                "key_id": key.public().key_id().as_str(),
                "public_key": key.public().as_str(),
            }));
        }
    }
    write_json(&keys_path, &key_file)?;

    let mut vectors = step_zero_vectors(keys);
    vectors.extend(signature_rule_vectors(keys)?);
    vectors.extend(check_order_vectors(keys));
    vectors.extend(path_vectors(keys));
    vectors.extend(decimal_vectors(keys));
    vectors.extend(isin_prefix_vectors(keys));
    vectors.extend(valid_byte_vectors(keys));
    for vector in vectors {
        let mut out = json!({
            "schema": VECTOR_SCHEMA,
            "id": vector.id,
            "description": vector.description,
            "clauses": vector.clauses,
        });
        let bytes = match &vector.input {
            PreciseInput::Value(value) => {
                out["input"] = value.clone();
                serde_json::to_vec(value)?
            }
            PreciseInput::Text(text) => {
                out["input_text"] = json!(text);
                text.clone().into_bytes()
            }
            PreciseInput::Bytes(bytes) => {
                out["input_hex"] = json!(hex_lower(bytes));
                bytes.clone()
            }
        };
        match vector.refusal {
            Some((reason, field)) => {
                out["expect"] = json!({"result": "invalid", "reason": reason});
                if let Some(field) = field {
                    out["expect"]["field"] = json!(field);
                }
                count.1 += 1;
            }
            None => {
                // Expected bytes come from the JSON text itself, parsed by
                // serde_json, not from the decoder under test.
                let message: Value = serde_json::from_slice(&bytes)?;
                let unsigned = canonical_unsigned_of(&message);
                out["expect"] = json!({
                    "result": "valid",
                    "canonical_unsigned": String::from_utf8(unsigned.clone())?,
                    "canonical_unsigned_sha256": Hex32::sha256_of(&unsigned).as_str(),
                    "signature": message["signature"]["value"],
                });
                count.0 += 1;
            }
        }
        write_json(&root.join(format!("{}.json", vector.id)), &out)?;
    }
    Ok(())
}
