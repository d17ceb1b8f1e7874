//! Requirements of ISM-1 §3 (JSON) and §4 (value types) that the vectors pin
//! only by one example each, checked at their boundaries and for every case
//! the sentence names: the whitespace and syntax of §3.1.3, the level-17
//! nesting limit of §3.1.4, UTF-8 first (§3.1.5), the overflow bound of
//! §3.1.6, duplicates after unescaping (§3.2), the rules of §3.3 member by
//! member, the code tables of §4 read from the spec itself, and the order of
//! the decimal checks (§4.7). Registered in
//! specs/requirements/ch01-04-json-and-values.toml.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use isthmus_spec::body::{Direction, InstructionState, Leg, Payment, SettlementInstruction};
use isthmus_spec::decimal::{Decimal, Money, Quantity};
use isthmus_spec::ident::{Bic, Currency, Mic, PartyId, MARKETS};
use isthmus_spec::ids::{MessageId, NodeId, Reference, Text};
use isthmus_spec::jcs::{canonicalize, parse_strict};
use isthmus_spec::json::Json;
use isthmus_spec::limits::{MAX_MESSAGE_BYTES, MAX_NESTING_DEPTH};
use isthmus_spec::vectors::Vector;
use isthmus_spec::{Envelope, ReasonCode};
use serde_json::{json, Value};

// ------------------------------------------------------------------ helpers

fn spec_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ISM-1.md")).unwrap()
}

/// The text of the spec from `heading` to the next heading.
fn section(text: &str, heading: &str) -> String {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("the spec has {heading}"));
    let rest = &text[start..];
    rest[..rest.find("\n#").unwrap_or(rest.len())].to_string()
}

fn vector(id: &str) -> Vector {
    let path = format!("{}/vectors/{id}.json", env!("CARGO_MANIFEST_DIR"));
    Vector::parse(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A valid vector's message as a JSON value.
fn message(id: &str) -> Value {
    vector(id).input.expect("the vector has an input value")
}

fn instruction_body() -> Value {
    message("valid/01-instruction-deliver-against-payment-usd")["body"].clone()
}

/// What the strict parser of messages says about `input`.
fn strict_code(input: &[u8]) -> Result<(), ReasonCode> {
    parse_strict(input, MAX_NESTING_DEPTH)
        .map(|_| ())
        .map_err(|r| r.code)
}

/// The refusal of a message: its code and path.
fn decoded(input: &[u8]) -> Result<(), (ReasonCode, Option<String>)> {
    Envelope::decode(input)
        .map(|_| ())
        .map_err(|r| (r.code, r.field))
}

fn refused_value(message: &Value) -> (ReasonCode, Option<String>) {
    let refused = Envelope::from_value(message).expect_err("refused");
    (refused.code, refused.field)
}

fn instruction_refusal(body: &Value) -> (ReasonCode, Option<String>) {
    let refused = SettlementInstruction::from_json(body, "body").expect_err("refused");
    (refused.code, refused.field)
}

fn at(code: ReasonCode, path: &str) -> (ReasonCode, Option<String>) {
    (code, Some(path.to_string()))
}

// ------------------------------------------------------------- §3.1 input

/// ISM-1 §3.1 item 2: more than 1 MiB is refused for its size before the
/// UTF-8 or the JSON is looked at; exactly 1 MiB is not refused for its size.
#[test]
fn oversize_input_is_refused_before_its_utf8_or_json_is_read() {
    let over = MAX_MESSAGE_BYTES + 1;
    for input in [
        vec![0xff; over],
        vec![b'['; over],
        [b"{\"a\":1,\"a\":".as_slice(), &vec![b'x'; over]].concat(),
    ] {
        assert!(input.len() >= over);
        assert_eq!(strict_code(&input), Err(ReasonCode::InputTooLarge));
        assert_eq!(decoded(&input), Err((ReasonCode::InputTooLarge, None)));
    }
    // Exactly the limit: refused for what it is, not for its size.
    assert_eq!(
        strict_code(&vec![0xff; MAX_MESSAGE_BYTES]),
        Err(ReasonCode::MalformedJson)
    );
    assert_eq!(
        strict_code(&vec![b'['; MAX_MESSAGE_BYTES]),
        Err(ReasonCode::NestingTooDeep)
    );
}

/// ISM-1 §3.1 item 3: one well-formed JSON value, optionally surrounded by
/// space, tab, line feed and carriage return; everything else is
/// MALFORMED_JSON, with no path.
#[test]
fn anything_but_one_json_value_in_json_whitespace_is_malformed() {
    for good in [
        "{}",
        " \t\r\n{\"a\":\"b\"} \t\r\n",
        "\n[1, 2]\r\n",
        "\"text\"",
    ] {
        assert_eq!(strict_code(good.as_bytes()), Ok(()), "{good:?}");
    }
    for bad in [
        "",
        " \t\r\n",
        // Text after the value, an incomplete value.
        "{} {}",
        "{}x",
        "{\"a\":",
        "[1, 2",
        // Comments, trailing commas, single quotes, NaN and infinities.
        "{\"a\":1 /* c */}",
        "// c\n{}",
        "# c\n{}",
        "[1,]",
        "{\"a\":1,}",
        "{'a':1}",
        "['a']",
        "NaN",
        "[NaN]",
        "Infinity",
        "-Infinity",
        "[+1]",
        "[01]",
        "[.5]",
        // Unescaped control characters inside strings.
        "\"a\u{0}b\"",
        "\"a\u{1}b\"",
        "\"a\tb\"",
        "\"a\nb\"",
        "\"a\u{1f}b\"",
        // Escapes that form an unpaired surrogate.
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\udbff x\"",
        // Whitespace that is not JSON whitespace, and the byte order mark.
        "\u{c}{}",
        "\u{b}{}",
        "\u{a0}{}",
        "{}\u{2028}",
        "\u{3000}{}",
        "\u{feff}{}",
        // Too large for a double.
        "1e400",
    ] {
        assert_eq!(
            strict_code(bad.as_bytes()),
            Err(ReasonCode::MalformedJson),
            "{bad:?}"
        );
    }
    // The same at the level of a message: a valid message surrounded by
    // JSON whitespace is accepted, with a trailing comma or a comment it is
    // refused as a whole, with no path.
    let text = serde_json::to_string(&message("valid/05-status-accepted")).unwrap();
    let spaced = format!(" \t\r\n{text}\n\r\t ");
    assert_eq!(decoded(spaced.as_bytes()), Ok(()));
    let with_comma = format!("{},}}", &text[..text.len() - 1]);
    assert_eq!(
        decoded(with_comma.as_bytes()),
        Err((ReasonCode::MalformedJson, None))
    );
    let with_comment = format!("{text}/* signed */");
    assert_eq!(
        decoded(with_comment.as_bytes()),
        Err((ReasonCode::MalformedJson, None))
    );
}

fn nested(depth: usize, innermost: &str) -> String {
    format!("{}{innermost}{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_objects(depth: usize, innermost: &str) -> String {
    format!(
        "{}{innermost}{}",
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    )
}

/// ISM-1 §3.1 item 4: an object or array at level 17 or deeper, empty or
/// not, is NESTING_TOO_DEEP; 16 may enclose one another and a string may sit
/// at level 17.
#[test]
fn an_object_or_array_at_level_17_is_too_deep_and_a_string_is_not() {
    assert_eq!(MAX_NESTING_DEPTH, 16);
    // Sixteen arrays: the innermost at level 16, its string at level 17.
    assert_eq!(strict_code(nested(16, "").as_bytes()), Ok(()));
    assert_eq!(strict_code(nested(16, "\"s\"").as_bytes()), Ok(()));
    assert_eq!(strict_code(nested_objects(16, "\"s\"").as_bytes()), Ok(()));
    assert_eq!(strict_code(nested(15, "{}").as_bytes()), Ok(()));
    // Seventeen: refused, whether the innermost is empty or not, an array or
    // an object.
    for deep in [
        nested(17, ""),
        nested(17, "1"),
        nested(16, "{}"),
        nested_objects(16, "{}"),
        nested_objects(16, "[]"),
        nested_objects(17, "\"s\""),
        nested(40, ""),
    ] {
        assert_eq!(
            strict_code(deep.as_bytes()),
            Err(ReasonCode::NestingTooDeep),
            "{deep}"
        );
    }
    // In a message the envelope is level 1 and the body level 2: an unknown
    // body member holding 14 nested arrays reaches level 16 and is reported
    // as unknown; 15 reach level 17 and the input is refused, with no path,
    // before any member is looked at.
    let text = serde_json::to_string(&message("valid/05-status-accepted")).unwrap();
    let with_member = |arrays: usize| {
        text.replacen(
            "\"body\":{",
            &format!("\"body\":{{\"deep\":{},", nested(arrays, "")),
            1,
        )
    };
    assert_eq!(
        decoded(with_member(14).as_bytes()),
        Err(at(ReasonCode::UnknownField, "body.deep"))
    );
    assert_eq!(
        decoded(with_member(15).as_bytes()),
        Err((ReasonCode::NestingTooDeep, None))
    );
}

/// ISM-1 §3.1 item 5.1: every kind of ill-formed UTF-8 the sentence names is
/// MALFORMED_JSON wherever it is, even after a duplicate name or a container
/// too deep, and inside a member a message defines.
#[test]
fn ill_formed_utf8_is_malformed_json_wherever_it_is() {
    let ill_formed: [(&str, &[u8]); 9] = [
        ("a stray continuation byte", b"\x80"),
        ("a continuation byte after ASCII", b"a\xbfb"),
        ("a truncated two-byte sequence", b"\xc3"),
        ("a truncated three-byte sequence", b"\xe2\x82"),
        ("a truncated four-byte sequence", b"\xf0\x9f\x98"),
        ("the overlong C1 81 for A", b"\xc1\x81"),
        ("an overlong three-byte NUL", b"\xe0\x80\x80"),
        ("an encoded surrogate", b"\xed\xa0\x80"),
        ("a value above U+10FFFF", b"\xf4\x90\x80\x80"),
    ];
    for (what, bytes) in ill_formed {
        let string = [b"\"".as_slice(), bytes, b"\""].concat();
        let after_duplicate = [b"{\"a\":1,\"a\":\"".as_slice(), bytes, b"\"}"].concat();
        let after_deep = [
            "[".repeat(17).as_bytes(),
            b"\"",
            bytes,
            b"\"",
            "]".repeat(17).as_bytes(),
        ]
        .concat();
        let at_the_end = [b"{\"a\":\"b\"}".as_slice(), bytes].concat();
        for input in [string, after_duplicate, after_deep, at_the_end] {
            assert_eq!(
                strict_code(&input),
                Err(ReasonCode::MalformedJson),
                "{what}: {input:?}"
            );
        }
        // In a message's free text: refused as JSON, with no path, not as
        // TEXT_INVALID at the member.
        let text = serde_json::to_string(&message("valid/17-error-with-unicode-text")).unwrap();
        let cut = text.find("Pr\u{fc}f").expect("the Error's text");
        let input = [&text.as_bytes()[..cut], bytes, &text.as_bytes()[cut..]].concat();
        assert_eq!(
            decoded(&input),
            Err((ReasonCode::MalformedJson, None)),
            "{what}"
        );
    }
    // Noncharacters are well-formed UTF-8.
    assert_eq!(
        strict_code("\"\u{fffe}\u{ffff}\u{10ffff}\"".as_bytes()),
        Ok(())
    );
}

/// ISM-1 §3.1 item 6: a number whose nearest double is an infinity (its
/// magnitude at least 2^1024 − 2^970) is MALFORMED_JSON; one just below
/// rounds to the largest double.
#[test]
fn numbers_rounding_to_infinity_are_malformed_and_the_largest_double_is_not() {
    // 2^1024 − 2^970, exactly halfway between the largest double and 2^1024:
    // the tie goes to the even significand, which is 2^1024, an infinity.
    const HALFWAY: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
    const JUST_BELOW: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791";
    let canon = |text: &str| {
        canonicalize(text.as_bytes())
            .map(|bytes| String::from_utf8(bytes).unwrap())
            .map_err(|r| r.code)
    };
    let largest = Ok("1.7976931348623157e+308".to_string());
    assert_eq!(canon("1.7976931348623158e308"), largest);
    assert_eq!(canon(JUST_BELOW), largest);
    assert_eq!(
        canon(&format!("-{JUST_BELOW}")),
        Ok(format!("-{}", largest.clone().unwrap()))
    );
    for refused in [
        "1e400",
        "-1e400",
        "1.7976931348623159e308",
        "-1.7976931348623159e308",
        HALFWAY,
        &format!("-{HALFWAY}"),
        &format!("{HALFWAY}.0"),
        "[1, 1e309]",
    ] {
        assert_eq!(canon(refused), Err(ReasonCode::MalformedJson), "{refused}");
        assert_eq!(
            strict_code(refused.as_bytes()),
            Err(ReasonCode::MalformedJson)
        );
    }
}

// ------------------------------------------------------ §3.2 duplicates

/// ISM-1 §3.2: two members of one object with the same name after
/// unescaping are DUPLICATE_KEY, at any level; names that differ as text
/// (case, Unicode normalisation) are not duplicates.
#[test]
fn duplicate_names_are_compared_after_unescaping_at_any_level() {
    for duplicate in [
        r#"{"a":1,"a":2}"#,
        r#"{"a":1,"\u0061":2}"#,
        r#"{"\u0061":1,"a":2}"#,
        r#"{"é":1,"\u00e9":2}"#,
        r#"{"😀":1,"\ud83d\ude00":2}"#,
        r#"{"a/b":1,"a\/b":2}"#,
        r#"{"x":{"b":1,"b":2}}"#,
        r#"[[{"y":[{"c":1,"\u0063":1}]}]]"#,
        r#"{"":1,"":2}"#,
    ] {
        assert_eq!(
            strict_code(duplicate.as_bytes()),
            Err(ReasonCode::DuplicateKey),
            "{duplicate}"
        );
    }
    for distinct in [
        r#"{"a":1,"A":2}"#,
        "{\"\u{e9}\":1,\"e\u{301}\":2}",
        r#"{"a":{"a":1}}"#,
        r#"[{"a":1},{"a":1}]"#,
    ] {
        assert_eq!(strict_code(distinct.as_bytes()), Ok(()), "{distinct}");
    }
    // In a message: the ISIN named twice, once escaped, in the body.
    let text = serde_json::to_string(&message("valid/01-instruction-deliver-against-payment-usd"))
        .unwrap();
    let twice = text.replacen(
        "\"isin\":\"US0378331005\"",
        "\"isin\":\"US0378331005\",\"\\u0069sin\":\"US0378331005\"",
        1,
    );
    assert_ne!(twice, text);
    assert_eq!(
        decoded(twice.as_bytes()),
        Err((ReasonCode::DuplicateKey, None))
    );
}

// ----------------------------------------------------- §3.3 members and types

/// ISM-1 §3.3.1: a member of another JSON type than its table gives is
/// WRONG_TYPE at its path, numbers, booleans and null included.
#[test]
fn a_member_of_another_json_type_is_wrong_type() {
    let body = instruction_body();
    let others = [
        json!(7),
        json!(1.5),
        json!(true),
        json!(false),
        json!(null),
        json!([]),
        json!(["US0378331005"]),
        json!({}),
    ];
    for member in [
        "instruction_id",
        "isin",
        "quantity",
        "trade_date",
        "direction",
    ] {
        for other in &others {
            let mut changed = body.clone();
            changed[member] = other.clone();
            assert_eq!(
                instruction_refusal(&changed),
                at(ReasonCode::WrongType, &format!("body.{member}")),
                "{member} = {other}"
            );
        }
    }
    for other in [
        json!("USD 10"),
        json!(10),
        json!([]),
        json!(true),
        json!(null),
    ] {
        let mut changed = body.clone();
        changed["settlement_amount"] = other.clone();
        assert_eq!(
            instruction_refusal(&changed),
            at(ReasonCode::WrongType, "body.settlement_amount"),
            "{other}"
        );
    }
    let mut envelope = message("valid/01-instruction-deliver-against-payment-usd");
    envelope["body"] = json!("a body");
    assert_eq!(refused_value(&envelope), at(ReasonCode::WrongType, "body"));
}

/// ISM-1 §3.3.2: every required member, absent, is MISSING_FIELD at its
/// path; every optional member set to null is WRONG_TYPE at its path.
#[test]
fn absent_required_members_are_missing_and_null_optionals_wrong_type() {
    let body = instruction_body();
    let required = [
        "instruction_id",
        "direction",
        "payment",
        "trade_date",
        "settlement_date",
        "isin",
        "quantity",
        "safekeeping_account",
        "place_of_settlement",
    ];
    for member in required {
        let mut changed = body.clone();
        changed.as_object_mut().unwrap().remove(member);
        assert_eq!(
            instruction_refusal(&changed),
            at(ReasonCode::MissingField, &format!("body.{member}")),
            "{member}"
        );
    }
    let optional = [
        "common_reference",
        "settlement_amount",
        "account_owner",
        "securities_market",
        "cash",
        "delivering_agent",
        "receiving_agent",
        "seller",
        "buyer",
        "place_of_trade",
    ];
    for member in optional {
        let mut changed = body.clone();
        changed[member] = Value::Null;
        assert_eq!(
            instruction_refusal(&changed),
            at(ReasonCode::WrongType, &format!("body.{member}")),
            "{member}"
        );
    }
    // Optional members of a nested object and of the envelope too.
    let mut changed = body.clone();
    changed["delivering_agent"]["lei"] = Value::Null;
    assert_eq!(
        instruction_refusal(&changed),
        at(ReasonCode::WrongType, "body.delivering_agent.lei")
    );
    let mut error = message("valid/17-error-with-unicode-text");
    error["body"]["field"] = Value::Null;
    assert_eq!(
        refused_value(&error),
        at(ReasonCode::WrongType, "body.field")
    );
}

/// Every value anywhere in a JSON tree.
fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(members) => members.values().any(has_null),
        _ => false,
    }
}

/// ISM-1 §3.3.2: what the implementation writes leaves an optional member
/// without a value out; it never writes null.
#[test]
fn senders_leave_absent_optional_members_out_and_never_write_null() {
    // A minimal instruction decoded and written again: nothing added.
    let minimal = message("valid/21-instruction-deliver-free-minimal");
    let decoded = Envelope::from_value(&minimal).unwrap();
    let written = decoded.to_json();
    assert_eq!(written, minimal);
    assert!(!has_null(&written));
    let canonical = String::from_utf8(decoded.to_canonical_bytes()).unwrap();
    assert!(!canonical.contains("null"), "{canonical}");
    // Every optional member of the instruction removed in turn.
    for member in [
        "common_reference",
        "account_owner",
        "delivering_agent",
        "seller",
        "buyer",
        "place_of_trade",
    ] {
        let mut value = message("valid/01-instruction-deliver-against-payment-usd");
        value["body"].as_object_mut().unwrap().remove(member);
        let written = Envelope::from_value(&value).unwrap().to_json();
        assert!(!has_null(&written), "{member}: {written}");
        assert!(written["body"].get(member).is_none(), "{member}");
        assert_eq!(written, value);
    }
    // An Error built by the implementation, without a field or related id.
    let body = isthmus_spec::protocol::error_body("MALFORMED_JSON", "Not JSON.", None);
    let envelope = Envelope::new(
        MessageId::new_v7(1_795_597_201_000, [7; 10]),
        NodeId::parse("relay.one").unwrap(),
        NodeId::parse("gw.xnys").unwrap(),
        isthmus_spec::time::Timestamp::from_unix_millis(1_795_597_201_000).unwrap(),
        isthmus_spec::Body::Error(body),
    );
    let written = envelope.to_json();
    assert!(!has_null(&written), "{written}");
    let members: BTreeSet<&str> = written["body"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(members, BTreeSet::from(["code", "text"]));
    assert!(written.get("signature").is_none());
}

/// ISM-1 §3.3.4: the closed code lists accept exactly their codes,
/// case-sensitively; any other string is UNKNOWN_CODE at the member's path
/// (the envelope's kind is KIND_UNKNOWN instead).
#[test]
fn closed_code_lists_refuse_every_other_string_with_unknown_code() {
    fn check<T: Json + std::fmt::Display>(all: &[T]) {
        let mut codes = Vec::new();
        for code in all {
            let text = code.to_string();
            assert!(T::from_json(&json!(text), "body.x").is_ok(), "{text}");
            codes.push(text);
        }
        for code in &codes {
            for other in [
                code.to_lowercase(),
                format!("{code} "),
                format!(" {code}"),
                code[..code.len() - 1].to_string(),
                format!("{code}S"),
            ] {
                let refused = T::from_json(&json!(other), "body.x").err().unwrap();
                assert_eq!(
                    (refused.code, refused.field.as_deref()),
                    (ReasonCode::UnknownCode, Some("body.x")),
                    "{other:?}"
                );
            }
        }
        for other in ["", "SELL", "OTHER", "NONE"] {
            assert_eq!(
                T::from_json(&json!(other), "body.x").err().map(|r| r.code),
                Some(ReasonCode::UnknownCode),
                "{other:?}"
            );
        }
    }
    check(Direction::ALL);
    check(Payment::ALL);
    check(Leg::ALL);
    check(InstructionState::ALL);
    // In a message, at the member's path.
    let mut body = instruction_body();
    body["payment"] = json!("against_payment");
    assert_eq!(
        instruction_refusal(&body),
        at(ReasonCode::UnknownCode, "body.payment")
    );
    let mut status = message("valid/05-status-accepted");
    status["body"]["status"] = json!("Accepted");
    assert_eq!(
        refused_value(&status),
        at(ReasonCode::UnknownCode, "body.status")
    );
    let mut kind = message("valid/05-status-accepted");
    kind["kind"] = json!("instructionstatus");
    assert_eq!(refused_value(&kind), at(ReasonCode::KindUnknown, "kind"));
}

/// ISM-1 §3.3.5: a list of more than 1000 entries is TOO_MANY_ITEMS at the
/// list's path before any entry is checked; at 1000 the entries are checked
/// in index order.
#[test]
fn a_list_over_1000_entries_is_refused_before_any_entry() {
    let statement = message("valid/16-holdings-statement");
    let with_balances = |count: usize| {
        let mut value = statement.clone();
        let mut balances = vec![json!({"isin": "US0378331006", "total": "1"}); count];
        balances[0] = json!({"isin": "not an isin", "total": "-1", "colour": "red"});
        value["body"]["balances"] = Value::Array(balances);
        value
    };
    assert_eq!(
        refused_value(&with_balances(1001)),
        at(ReasonCode::TooManyItems, "body.balances")
    );
    assert_eq!(
        refused_value(&with_balances(1000)),
        at(ReasonCode::UnknownField, "body.balances[0].colour")
    );
    let mut value = with_balances(1000);
    value["body"]["balances"][0] = json!({"isin": "JP3633400001", "total": "1"});
    assert_eq!(
        refused_value(&value),
        at(ReasonCode::IsinCheckDigit, "body.balances[1].isin")
    );
    // A Batch of 1001 entries that are not even messages.
    let mut batch = message("valid/42-batch-proposal-and-lock-request");
    batch["body"]["messages"] = Value::Array(vec![json!(7); 1001]);
    assert_eq!(
        refused_value(&batch),
        at(ReasonCode::TooManyItems, "body.messages")
    );
}

/// ISM-1 §3.3.7: within an object, its type first, then unknown members,
/// then each member in the order of the table, an object member completely
/// before the next, and the cross-member rules last.
#[test]
fn an_object_reports_the_first_failure_in_the_order_of_its_checks() {
    let body = instruction_body();
    let with = |changes: &[(&str, Value)]| {
        let mut changed = body.clone();
        for (member, value) in changes {
            changed[*member] = value.clone();
        }
        instruction_refusal(&changed)
    };
    // 1. Not an object.
    assert_eq!(
        instruction_refusal(&json!(["an", "array"])),
        at(ReasonCode::WrongType, "body")
    );
    // 2. An unknown member before a missing or malformed one.
    let mut unknown = body.clone();
    unknown.as_object_mut().unwrap().remove("instruction_id");
    unknown["isin"] = json!(7);
    unknown["zz_extra"] = json!("x");
    assert_eq!(
        instruction_refusal(&unknown),
        at(ReasonCode::UnknownField, "body.zz_extra")
    );
    // 3. Members in table order (direction #3 before isin #7 before quantity
    //    #8; the JSON text's order does not matter).
    assert_eq!(
        with(&[
            ("quantity", json!("-1")),
            ("isin", json!("US0378331006")),
            ("direction", json!("SELL"))
        ]),
        at(ReasonCode::UnknownCode, "body.direction")
    );
    assert_eq!(
        with(&[("quantity", json!("-1")), ("isin", json!("US0378331006"))]),
        at(ReasonCode::IsinCheckDigit, "body.isin")
    );
    // A missing required member (#1) before a wrong type (#7).
    let mut missing = body.clone();
    missing.as_object_mut().unwrap().remove("instruction_id");
    missing["isin"] = json!(7);
    assert_eq!(
        instruction_refusal(&missing),
        at(ReasonCode::MissingField, "body.instruction_id")
    );
    // An object member (#9, Money) checked completely, its own rules
    // included, before the next member (#10).
    assert_eq!(
        with(&[
            (
                "settlement_amount",
                json!({"amount": "1", "currency": "XAU"})
            ),
            ("account_owner", json!("NEITHER")),
        ]),
        at(
            ReasonCode::CurrencyNotSettleable,
            "body.settlement_amount.currency"
        )
    );
    assert_eq!(
        with(&[
            (
                "delivering_agent",
                json!({"bic": "CHASUS33", "colour": "red"})
            ),
            ("place_of_settlement", json!("bad")),
        ]),
        at(ReasonCode::UnknownField, "body.delivering_agent.colour")
    );
    // 4. Cross-member rules after every member: the settlement date before
    //    the trade date (rule 1) is reported only once the last member (#19)
    //    has been checked.
    let early = json!("2026-11-24");
    assert_eq!(
        with(&[
            ("settlement_date", early.clone()),
            ("place_of_trade", json!("XNY"))
        ]),
        at(ReasonCode::MicFormat, "body.place_of_trade")
    );
    assert_eq!(
        with(&[("settlement_date", early)]),
        at(ReasonCode::SettlementBeforeTrade, "body.settlement_date")
    );
}

// -------------------------------------------------------- §3.4 canonical form

/// ISM-1 §3.4 item 4: strings are kept as received, after unescaping,
/// without normalising decimals, timestamps or Unicode; the canonical bytes
/// (and so the signature) cover the text.
#[test]
fn strings_are_kept_exactly_as_received() {
    let mut value = message("valid/01-instruction-deliver-against-payment-usd");
    value["body"]["quantity"] = json!("1000.000000");
    value["body"]["settlement_amount"]["amount"] = json!("231450.0");
    value["created_at"] = json!("2026-11-25T09:00:01.000000000Z");
    let envelope = Envelope::from_value(&value).unwrap();
    assert_eq!(envelope.to_json(), value);
    let canonical = String::from_utf8(envelope.to_canonical_bytes()).unwrap();
    for text in [
        "\"1000.000000\"",
        "\"231450.0\"",
        "\"2026-11-25T09:00:01.000000000Z\"",
    ] {
        assert!(canonical.contains(text), "{text} in {canonical}");
    }
    let plain = message("valid/01-instruction-deliver-against-payment-usd");
    assert_ne!(
        Envelope::from_value(&plain).unwrap().signing_input(),
        envelope.signing_input(),
        "another text of one value is another signing input"
    );
    // Free text in decomposed form (e + U+0301) and an escape: kept as the
    // characters received, not normalised to U+00E9.
    let error = message("valid/17-error-with-unicode-text");
    let text = serde_json::to_string(&error).unwrap();
    let decomposed = text.replacen("Pr\u{fc}fziffer", "Pru\u{308}fziffer \\u00e9", 1);
    assert_ne!(decomposed, text);
    let envelope = Envelope::decode(decomposed.as_bytes()).unwrap();
    let written = envelope.to_json();
    let sentence = written["body"]["text"].as_str().unwrap();
    assert!(
        sentence.starts_with("Pru\u{308}fziffer \u{e9}"),
        "{sentence}"
    );
    let canonical = envelope.to_canonical_bytes();
    let needle = "Pru\u{308}fziffer \u{e9}".as_bytes();
    assert!(canonical.windows(needle.len()).any(|w| w == needle));
}

// ------------------------------------------------------------ §4 value types

/// The codes of a table row such as `| 2 (139 codes) | AED AFN … |`.
fn row_codes(row: &str) -> Vec<String> {
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    cells[2].split_whitespace().map(str::to_string).collect()
}

/// ISM-1 §4.6: the currencies are exactly the 178 codes of Table 6, case
/// sensitively, with its minor units; any other string is CURRENCY_UNKNOWN,
/// and a Money in a code with no minor units is CURRENCY_NOT_SETTLEABLE at
/// the currency's path.
#[test]
fn currencies_are_exactly_table_6_with_its_minor_units() {
    let table = section(&spec_text(), "**Table 6 — ISO 4217");
    let mut units: Vec<(String, Option<u8>)> = Vec::new();
    for row in table
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(" codes)"))
    {
        let first = row[2..].split_whitespace().next().unwrap();
        let minor = first.parse::<u8>().ok();
        assert!(minor.is_some() || first == "N.A.", "{row}");
        for code in row_codes(row) {
            units.push((code, minor));
        }
    }
    assert_eq!(units.len(), 178, "Table 6 has 178 codes");
    let listed: BTreeSet<&str> = units.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(listed.len(), 178);
    for (code, minor) in &units {
        let currency = Currency::parse(code).unwrap_or_else(|r| panic!("{code}: {r}"));
        assert_eq!(currency.minor_units(), *minor, "{code}");
        assert_eq!(
            Currency::parse(&code.to_lowercase()).err().map(|r| r.code),
            Some(ReasonCode::CurrencyUnknown)
        );
        let money = Money::parse("1", code);
        match minor {
            Some(_) => assert!(money.is_ok(), "{code}"),
            None => {
                let refused = money.err().unwrap();
                assert_eq!(
                    (refused.code, refused.field.as_deref()),
                    (ReasonCode::CurrencyNotSettleable, Some("currency")),
                    "{code}"
                );
            }
        }
    }
    // Every other three upper-case letters is refused.
    for a in 'A'..='Z' {
        for b in 'A'..='Z' {
            for c in 'A'..='Z' {
                let code = format!("{a}{b}{c}");
                let result = Currency::parse(&code).err().map(|r| r.code);
                if listed.contains(code.as_str()) {
                    assert_eq!(result, None, "{code}");
                } else {
                    assert_eq!(result, Some(ReasonCode::CurrencyUnknown), "{code}");
                }
            }
        }
    }
    // In a message: every N.A. code at the currency's path.
    for (code, minor) in &units {
        if minor.is_none() {
            let mut body = instruction_body();
            body["settlement_amount"] = json!({"amount": "1", "currency": code});
            assert_eq!(
                instruction_refusal(&body),
                at(
                    ReasonCode::CurrencyNotSettleable,
                    "body.settlement_amount.currency"
                )
            );
        }
    }
}

/// The country codes of Table 4 (ISM-1 §4.3).
fn table_4() -> BTreeSet<String> {
    let table = section(&spec_text(), "**Table 4 — Country codes");
    let line = table
        .lines()
        .find(|l| l.starts_with("> "))
        .expect("Table 4 lists its codes");
    let codes: BTreeSet<String> = line[2..].split_whitespace().map(str::to_string).collect();
    assert_eq!(codes.len(), 250);
    codes
}

/// ISM-1 §4.3 item 2: a well-formed BIC whose characters 5–6 are not a code
/// of Table 4 is BIC_COUNTRY; every code of the table is accepted.
#[test]
fn bic_countries_are_exactly_table_4() {
    let countries = table_4();
    for a in 'A'..='Z' {
        for b in 'A'..='Z' {
            for bic in [format!("ABCD{a}{b}2L"), format!("1234{a}{b}XX500")] {
                let result = Bic::parse(&bic).err().map(|r| r.code);
                if countries.contains(&format!("{a}{b}")) {
                    assert_eq!(result, None, "{bic}");
                } else {
                    assert_eq!(result, Some(ReasonCode::BicCountry), "{bic}");
                }
            }
        }
    }
    // The form is checked first: a lower-case country is BIC_FORMAT.
    assert_eq!(
        Bic::parse("DEUTdeFF").err().map(|r| r.code),
        Some(ReasonCode::BicFormat)
    );
}

/// ISM-1 §4.5: in a message any well-formed MIC is accepted; in
/// configuration only the MICs of Table 5, others being MIC_UNKNOWN.
#[test]
fn configured_mics_are_exactly_table_5_and_messages_take_any_well_formed_mic() {
    let table = section(&spec_text(), "**Table 5 — The ISM/1 market table");
    let listed: BTreeSet<String> = table
        .lines()
        .filter(|l| l.starts_with("| X"))
        .map(|l| l.split('|').nth(1).unwrap().trim().to_string())
        .collect();
    assert_eq!(listed.len(), 13, "{listed:?}");
    let shipped: BTreeSet<String> = MARKETS.iter().map(|m| m.mic.to_string()).collect();
    assert_eq!(shipped, listed);
    for mic in ["XNYS", "XQQQ", "1234", "ZZZZ", "XETA"] {
        assert!(Mic::parse(mic).is_ok(), "{mic}");
        let known = Mic::parse_known(mic).err().map(|r| r.code);
        if listed.contains(mic) {
            assert_eq!(known, None, "{mic}");
        } else {
            assert_eq!(known, Some(ReasonCode::MicUnknown), "{mic}");
        }
    }
    for mic in &listed {
        assert!(Mic::parse_known(mic).is_ok(), "{mic}");
    }
    for bad in ["XNY", "XNYSE", "xnys", "XNY ", "XN-S", ""] {
        assert_eq!(
            Mic::parse(bad).err().map(|r| r.code),
            Some(ReasonCode::MicFormat),
            "{bad:?}"
        );
        assert_eq!(
            Mic::parse_known(bad).err().map(|r| r.code),
            Some(ReasonCode::MicFormat),
            "{bad:?}"
        );
    }
    // A message naming a well-formed MIC of no listed market is accepted.
    let mut body = instruction_body();
    body["place_of_trade"] = json!("XQQQ");
    body["securities_market"] = json!("ZZZZ");
    assert!(SettlementInstruction::from_json(&body, "body").is_ok());
}

/// ISM-1 §4.4: the length in UTF-8 bytes decides: 20 bytes must be a valid
/// LEI, 8 or 11 a valid BIC, each refused with its own codes.
#[test]
fn a_party_identifier_is_an_lei_or_a_bic_by_its_length_in_bytes() {
    let code = |text: &str| PartyId::parse(text).err().map(|r| r.code);
    assert_eq!(code("506700GE1G29325QX363"), None);
    assert_eq!(
        code("506700GE1G29325QX364"),
        Some(ReasonCode::LeiCheckDigits)
    );
    assert_eq!(code("506700ge1g29325qx363"), Some(ReasonCode::LeiFormat));
    // 18 ASCII characters and a two-byte é: 20 bytes, so an LEI, malformed.
    assert_eq!("506700GE1G29325QX3é".len(), 20);
    assert_eq!(code("506700GE1G29325QX3é"), Some(ReasonCode::LeiFormat));
    assert_eq!(code("DEUTDEFF"), None);
    assert_eq!(code("DEUTDEFF500"), None);
    assert_eq!(code("DEUTZZFF"), Some(ReasonCode::BicCountry));
    assert_eq!(code("DEUTZZFF500"), Some(ReasonCode::BicCountry));
    assert_eq!(code("deutdeff"), Some(ReasonCode::BicFormat));
    assert_eq!(code("DEUTDEFF-00"), Some(ReasonCode::BicFormat));
    // Six ASCII characters and é: 8 bytes, so a BIC, malformed.
    assert_eq!(code("DEUTDEé"), Some(ReasonCode::BicFormat));
    for other in [
        "DEUTDEF",
        "DEUTDEFF5",
        "DEUTDEFF5000",
        "506700GE1G29325QX36",
        "",
    ] {
        assert_eq!(code(other), Some(ReasonCode::PartyIdInvalid), "{other:?}");
    }
    // In a message, at the member's path.
    let mut body = instruction_body();
    body["account_owner"] = json!("deutdeff");
    assert_eq!(
        instruction_refusal(&body),
        at(ReasonCode::BicFormat, "body.account_owner")
    );
    body["account_owner"] = json!("DEUTZZFF");
    assert_eq!(
        instruction_refusal(&body),
        at(ReasonCode::BicCountry, "body.account_owner")
    );
    body["account_owner"] = json!("549300ISTHMUSSELL01X");
    assert_eq!(
        instruction_refusal(&body),
        at(ReasonCode::LeiFormat, "body.account_owner")
    );
}

/// ISM-1 §4.7: the checks of a decimal in order: a negative decimal, the
/// form, the digits, zero, the scale; for Money the amount's steps 1–4, the
/// currency, whether it settles, then the amount's scale.
#[test]
fn a_decimal_is_checked_in_the_order_of_its_steps() {
    let quantity = |text: &str| Quantity::parse(text).err().map(|r| r.code);
    use ReasonCode::*;
    // Step 1 before the digit count (step 3) and the scale (step 5).
    assert_eq!(quantity("-1234567890123456789"), Some(DecimalNotPositive));
    assert_eq!(quantity("-1.1234567"), Some(DecimalNotPositive));
    assert_eq!(quantity("-0"), Some(DecimalNotPositive));
    // Step 2 before steps 3–5.
    assert_eq!(quantity("01.1234567"), Some(DecimalFormat));
    assert_eq!(quantity("00"), Some(DecimalFormat));
    assert_eq!(quantity("-01"), Some(DecimalFormat));
    // Step 3 before zero (step 4): 19 digits after the point, all zero.
    assert_eq!(
        quantity(&format!("0.{}", "0".repeat(19))),
        Some(DecimalTooManyDigits)
    );
    assert_eq!(
        quantity(&format!("0.{}1", "0".repeat(18))),
        Some(DecimalTooManyDigits)
    );
    // 18 digits is the most; an integer part of 0 counts as none.
    assert!(Decimal::parse(&format!("0.{}1", "0".repeat(17))).is_ok());
    assert!(Decimal::parse("123456789012345678").is_ok());
    assert!(Decimal::parse("123456789012.345678").is_ok());
    assert_eq!(
        Decimal::parse("1234567890123.456789").err().map(|r| r.code),
        Some(DecimalTooManyDigits)
    );
    // Step 4 before the scale (step 5): zero with 7 decimals.
    assert_eq!(quantity("0.0000000"), Some(DecimalNotPositive));
    assert_eq!(quantity("0.000000"), Some(DecimalNotPositive));
    // Step 5.
    assert_eq!(quantity("1.1234567"), Some(DecimalTooManyDecimals));
    assert_eq!(quantity("1.123456"), None);
    // Money: amount steps 1–4, then the currency, then whether it settles,
    // then the amount's scale.
    let money = |amount: &str, currency: &str| {
        Money::parse(amount, currency)
            .err()
            .map(|r| (r.code, r.field.unwrap_or_default()))
    };
    let is = |code: ReasonCode, field: &str| Some((code, field.to_string()));
    assert_eq!(money("0", "ABC"), is(DecimalNotPositive, "amount"));
    assert_eq!(money("1e3", "XAU"), is(DecimalFormat, "amount"));
    assert_eq!(
        money(&"9".repeat(19), "XAU"),
        is(DecimalTooManyDigits, "amount")
    );
    assert_eq!(money("10.555", "ABC"), is(CurrencyUnknown, "currency"));
    assert_eq!(money("10.555", "usd"), is(CurrencyUnknown, "currency"));
    assert_eq!(
        money("10.555", "XAU"),
        is(CurrencyNotSettleable, "currency")
    );
    assert_eq!(money("10.555", "USD"), is(DecimalTooManyDecimals, "amount"));
    assert_eq!(money("10.5", "JPY"), is(DecimalTooManyDecimals, "amount"));
    assert_eq!(money("10.50", "USD"), None);
    assert_eq!(money("15234.125", "BHD"), None);
    assert_eq!(money("1.1234", "CLF"), None);
    assert_eq!(
        money("1.12345", "CLF"),
        is(DecimalTooManyDecimals, "amount")
    );
    // The same order at the paths of a message.
    let mut body = instruction_body();
    body["settlement_amount"] = json!({"amount": "0", "currency": "ABC"});
    assert_eq!(
        instruction_refusal(&body),
        at(DecimalNotPositive, "body.settlement_amount.amount")
    );
    body["settlement_amount"] = json!({"amount": "1.005", "currency": "XXX"});
    assert_eq!(
        instruction_refusal(&body),
        at(CurrencyNotSettleable, "body.settlement_amount.currency")
    );
}

/// ISM-1 §4.9: a node id is 3 to 64 characters, a lower-case letter first,
/// then lower-case letters, digits, `.` and `-`; anything else is
/// NODE_ID_INVALID, at the member's path in a message.
#[test]
fn node_ids_outside_the_grammar_are_node_id_invalid() {
    for good in [
        "abc",
        "gw.xnys",
        "relay-1.custodian",
        "a00",
        &format!("a{}", "b".repeat(63)),
    ] {
        assert!(NodeId::parse(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "ab",
        "1gw",
        ".gw",
        "-gw",
        "Gw.xnys",
        "gw.XNYS",
        "gw_xnys",
        "gw xnys",
        "gw.xnys ",
        "gw/xnys",
        "gw.xnÿs",
        &format!("a{}", "b".repeat(64)),
    ] {
        assert_eq!(
            NodeId::parse(bad).err().map(|r| r.code),
            Some(ReasonCode::NodeIdInvalid),
            "{bad:?}"
        );
    }
    let mut value = message("valid/05-status-accepted");
    value["receiver"] = json!("gw_xnys");
    assert_eq!(
        refused_value(&value),
        at(ReasonCode::NodeIdInvalid, "receiver")
    );
}

/// ISM-1 §4.9 item 2: a generated id is a UUIDv7 of RFC 9562 §5.7: 48 bits
/// of Unix milliseconds, the version 7, 12 random bits, the variant `10`,
/// then 62 random bits, every random bit taken from the randomness given.
#[test]
fn generated_message_ids_lay_out_time_version_variant_and_random_bits() {
    let millis = 0x0123_4567_89ab_u64;
    let bits = |id: &MessageId| u128::from_str_radix(&id.as_str().replace('-', ""), 16).unwrap();
    let zeros = bits(&MessageId::new_v7(millis, [0; 10]));
    let ones = bits(&MessageId::new_v7(millis, [0xff; 10]));
    for id in [zeros, ones] {
        assert_eq!(
            id >> 80,
            u128::from(millis),
            "the first 48 bits are the time"
        );
        assert_eq!((id >> 76) & 0xf, 7, "the version nibble");
        assert_eq!((id >> 62) & 0b11, 0b10, "the variant bits");
    }
    // What differs between all-zero and all-one randomness is exactly the
    // 12 bits after the version and the 62 after the variant.
    let random_mask = (0xfff_u128 << 64) | ((1_u128 << 62) - 1);
    assert_eq!(zeros ^ ones, random_mask);
    assert_eq!(zeros & random_mask, 0);
    assert!(MessageId::parse(MessageId::new_v7(millis, [0x5a; 10]).as_str()).is_ok());
}

/// ISM-1 §4.10: a reference is 1 to 35 characters of the SWIFT x set, not
/// beginning or ending with `/` or a space and without `//`; free text is 1
/// to 512 Unicode scalar values without a control character of category Cc.
/// Anything else is TEXT_INVALID.
#[test]
fn references_and_free_text_outside_their_rules_are_text_invalid() {
    let reference = |text: &str| Reference::parse(text).err().map(|r| r.code);
    for good in [
        "A",
        &"A".repeat(35),
        "az AZ 09/-?:().,'+ x",
        "A/B",
        "A B",
        "SEME-2026/11/25-001",
    ] {
        assert_eq!(reference(good), None, "{good:?}");
    }
    for bad in [
        "",
        &"A".repeat(36),
        "/A",
        "A/",
        " A",
        "A ",
        "A//B",
        "A///B",
        "A_B",
        "A\tB",
        "A\nB",
        "A\"B",
        "A&B",
        "Ä",
        "A;B",
    ] {
        assert_eq!(reference(bad), Some(ReasonCode::TextInvalid), "{bad:?}");
    }
    let text = |text: &str| Text::parse(text).err().map(|r| r.code);
    for good in [
        "x".to_string(),
        "x".repeat(512),
        "😀".repeat(512),
        "\u{a0}\u{2028}\u{feff}\u{fffd} and \"quotes\" \\".to_string(),
    ] {
        assert_eq!(text(&good), None, "{} characters", good.chars().count());
    }
    for bad in [
        String::new(),
        "x".repeat(513),
        "😀".repeat(513),
        "a\u{0}b".to_string(),
        "a\tb".to_string(),
        "a\nb".to_string(),
        "a\rb".to_string(),
        "a\u{1f}b".to_string(),
        "a\u{7f}b".to_string(),
        "a\u{80}b".to_string(),
        "a\u{85}b".to_string(),
        "a\u{9f}b".to_string(),
    ] {
        assert_eq!(text(&bad), Some(ReasonCode::TextInvalid), "{bad:?}");
    }
    // In a message, at the member's path.
    let mut error = message("valid/17-error-with-unicode-text");
    error["body"]["text"] = json!("a\u{85}b");
    assert_eq!(
        refused_value(&error),
        at(ReasonCode::TextInvalid, "body.text")
    );
    let mut body = instruction_body();
    body["safekeeping_account"] = json!("SAFE ");
    assert_eq!(
        instruction_refusal(&body),
        at(ReasonCode::TextInvalid, "body.safekeeping_account")
    );
}
