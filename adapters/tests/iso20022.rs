//! The ISO 20022 dialect against its corpus and properties: every corpus
//! document translates to exactly its expected ISM/1 body; every expected body
//! survives ISM/1 → XML → ISM/1; our own XML is reproduced byte for byte
//! through XML → ISM/1 → XML; every invalid document is refused with its
//! reason code; no input, arbitrary or a mutated corpus document, makes the
//! reader panic; generated ISM/1 bodies of the four kinds round-trip losslessly.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use isthmus_adapters::iso20022::{from_ism, to_ism};
use isthmus_adapters::{TranslateCode, TranslateError};
use isthmus_spec::decimal::Decimal;
use isthmus_spec::ids::MessageId;
use isthmus_spec::{Body, Kind};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{json, Map, Value};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/iso20022")
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    found
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The expected result beside `NN-name.xml`: `NN-name.ism.json`.
fn expected_for(xml: &Path) -> (Kind, Body) {
    let stem = name(xml);
    let json_path = xml.with_file_name(format!("{}.ism.json", stem.trim_end_matches(".xml")));
    expected(&json_path)
}

fn expected(json_path: &Path) -> (Kind, Body) {
    let value: Value = serde_json::from_slice(&std::fs::read(json_path).unwrap()).unwrap();
    let kind: Kind = serde_json::from_value(value["kind"].clone()).unwrap();
    let body = Body::from_json(kind, &value["body"], "body")
        .unwrap_or_else(|r| panic!("{}: expected body is not valid ISM/1: {r}", name(json_path)));
    (kind, body)
}

fn corpus_bodies() -> Vec<(String, Body)> {
    files(&corpus_dir(), ".ism.json")
        .iter()
        .map(|path| (name(path), expected(path).1))
        .collect()
}

/// ISM/1 → XML → ISM/1 gives the same body, and XML → ISM/1 → XML the same bytes.
fn assert_round_trip(label: &str, body: &Body) {
    let written = from_ism(body).unwrap_or_else(|e| panic!("{label}: from_ism: {e}"));
    assert!(
        written.unrepresented.is_empty(),
        "{label}: unexpected losses {:?}",
        written.unrepresented
    );
    let read = to_ism(&written.value).unwrap_or_else(|e| {
        panic!(
            "{label}: to_ism of our own output: {e}\n{}",
            String::from_utf8_lossy(&written.value)
        )
    });
    assert!(read.unrepresented.is_empty());
    assert_eq!(
        &read.value, body,
        "{label}: ISM/1 → XML → ISM/1 changed the body"
    );
    let rewritten = from_ism(&read.value).unwrap();
    assert_eq!(
        rewritten.value, written.value,
        "{label}: XML → ISM/1 → XML is not byte-identical"
    );
}

#[test]
fn corpus_documents_translate_to_exactly_their_ism() {
    let documents = files(&corpus_dir(), ".xml");
    assert!(
        documents.len() >= 20,
        "the corpus has {} documents",
        documents.len()
    );
    let mut kinds = std::collections::BTreeSet::new();
    for xml in &documents {
        let (kind, body) = expected_for(xml);
        let translated =
            to_ism(&std::fs::read(xml).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", name(xml)));
        // What the document holds that ISM/1 does not: `NN-name.unrepresented`, one path a line.
        let listed =
            std::fs::read_to_string(xml.with_extension("unrepresented")).unwrap_or_default();
        let left_out: Vec<&str> = translated
            .unrepresented
            .iter()
            .map(|u| u.field.as_str())
            .collect();
        assert_eq!(
            left_out,
            listed.lines().collect::<Vec<_>>(),
            "{}",
            name(xml)
        );
        assert_eq!(translated.value.kind(), kind, "{}", name(xml));
        assert_eq!(
            translated.value.to_json(),
            body.to_json(),
            "{}: translated body differs from the expected one",
            name(xml)
        );
        kinds.insert(kind.as_str());
    }
    assert_eq!(kinds.len(), 4, "the corpus covers {kinds:?}");
}

#[test]
fn corpus_bodies_round_trip_through_xml() {
    for (label, body) in corpus_bodies() {
        assert_round_trip(&label, &body);
    }
}

/// The MT dialect's expected bodies (`tests/data/mt/**/*.ism.json`, when that
/// corpus is present) of the four kinds travel through ISO 20022 as well.
#[test]
fn mt_corpus_bodies_round_trip_through_xml_when_present() {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.to_string_lossy().ends_with(".ism.json") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mt"),
        &mut found,
    );
    found.sort();
    for path in found {
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let Ok(kind) = serde_json::from_value::<Kind>(value["kind"].clone()) else {
            continue;
        };
        let Ok(body) = Body::from_json(kind, &value["body"], "body") else {
            continue;
        };
        if matches!(
            kind,
            Kind::SettlementInstruction
                | Kind::InstructionStatus
                | Kind::SettlementConfirmation
                | Kind::HoldingsStatement
        ) {
            assert_round_trip(&name(&path), &body);
        }
    }
}

#[test]
fn output_is_deterministic() {
    for (label, body) in corpus_bodies() {
        let first = from_ism(&body).unwrap().value;
        let second = from_ism(&body.clone()).unwrap().value;
        assert_eq!(first, second, "{label}");
        let text = String::from_utf8(first).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"));
        assert!(text.ends_with("</Document>\n"), "{label}");
    }
}

#[test]
fn spec_vectors_of_the_four_kinds_round_trip_and_others_are_unsupported() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors/valid");
    let mut translated = 0;
    for path in files(&dir, ".json") {
        let vector: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let input = &vector["input"];
        let Ok(kind) = serde_json::from_value::<Kind>(input["kind"].clone()) else {
            continue;
        };
        let Ok(body) = Body::from_json(kind, &input["body"], "body") else {
            continue;
        };
        match kind {
            Kind::SettlementInstruction
            | Kind::InstructionStatus
            | Kind::SettlementConfirmation
            | Kind::HoldingsStatement => {
                assert_round_trip(&name(&path), &body);
                translated += 1;
            }
            _ => {
                let refused = from_ism(&body).unwrap_err();
                assert_eq!(
                    refused.code,
                    TranslateCode::KindUnsupported,
                    "{}",
                    name(&path)
                );
                assert!(!refused.message.is_empty());
            }
        }
    }
    assert!(translated >= 8);
}

#[test]
fn invalid_documents_are_refused_with_their_code() {
    let dir = corpus_dir().join("invalid");
    let documents = files(&dir, ".xml");
    assert!(
        documents.len() >= 12,
        "only {} invalid documents",
        documents.len()
    );
    for xml in documents {
        let expect_path = xml.with_extension("expect");
        let expect = std::fs::read_to_string(&expect_path)
            .unwrap_or_else(|_| panic!("{} has no .expect", name(&xml)));
        let mut lines = expect.lines();
        let code = lines.next().unwrap().trim();
        let field = lines.next().map(str::trim).filter(|f| !f.is_empty());
        let error: TranslateError = match to_ism(&std::fs::read(&xml).unwrap()) {
            Ok(body) => panic!("{} was accepted: {:?}", name(&xml), body.value),
            Err(error) => error,
        };
        assert_eq!(error.code.as_str(), code, "{}: {error}", name(&xml));
        if let Some(field) = field {
            assert_eq!(
                error.field.as_deref(),
                Some(field),
                "{}: {error}",
                name(&xml)
            );
        }
        assert!(!error.message.is_empty(), "{}", name(&xml));
    }
}

#[test]
fn what_other_tools_add_is_read_past() {
    for (label, body) in corpus_bodies() {
        let ours = String::from_utf8(from_ism(&body).unwrap().value).unwrap();
        // A byte-order mark, CRLF line ends, tabs, schema-location attributes,
        // a comment and a processing instruction inside, a value in CDATA.
        let theirs = format!("\u{FEFF}{ours}")
            .replace(
                "<Document xmlns=",
                "<Document xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"urn:x doc.xsd\" xmlns=",
            )
            .replace("  ", "\t")
            .replace('\n', "\r\n")
            .replace("<FinInstrmId>", "<FinInstrmId><!-- the security --><?trace id=7?>")
            .replace("<ISIN>", "<ISIN><![CDATA[")
            .replace("</ISIN>", "]]></ISIN>");
        let read = to_ism(theirs.as_bytes()).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(read.value, body, "{label}");
    }
}

#[test]
fn the_same_document_under_any_prefix_reads_the_same() {
    for (label, body) in corpus_bodies() {
        let ours = String::from_utf8(from_ism(&body).unwrap().value).unwrap();
        // Every element of the message namespace under prefix p:, the Isthmus
        // supplementary data keeping its own default namespace.
        let mut prefixed = String::new();
        let mut in_supplementary = 0usize;
        for line in ours.lines() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("<IsmData") {
                in_supplementary += 1;
            }
            let rewritten = if in_supplementary > 0 || trimmed.starts_with("<?xml") {
                line.to_string()
            } else {
                line.replace("</", "\u{0}")
                    .replace('<', "<p:")
                    .replace('\u{0}', "</p:")
            };
            if trimmed.starts_with("</IsmData") {
                in_supplementary -= 1;
            }
            prefixed.push_str(&rewritten.replace("<p:Document xmlns=", "<p:Document xmlns:p="));
            prefixed.push('\n');
        }
        let read =
            to_ism(prefixed.as_bytes()).unwrap_or_else(|e| panic!("{label}: {e}\n{prefixed}"));
        assert_eq!(read.value, body, "{label}");
    }
}

#[test]
fn bodies_breaking_ism_rules_are_not_written() {
    let (_, body) =
        expected(&corpus_dir().join("01-sese023-us-dtc-deliver-against-payment-usd.ism.json"));
    let Body::SettlementInstruction(mut instruction) = body else {
        panic!("01 is an instruction")
    };
    instruction.settlement_amount = None;
    let refused = from_ism(&Body::SettlementInstruction(instruction)).unwrap_err();
    assert_eq!(refused.code.as_str(), "AMOUNT_REQUIRED");
    assert_eq!(refused.field.as_deref(), Some("body.settlement_amount"));
}

fn status_with_reason_text(status: &str, text: &str) -> Body {
    Body::from_json(
        Kind::InstructionStatus,
        &json!({
            "instruction_id": "SEME-1",
            "status": status,
            "reason": {"code": "SOME_REASON", "text": text},
        }),
        "body",
    )
    .unwrap()
}

#[test]
fn a_reason_xml_cannot_carry_is_reported_or_refused() {
    // U+FFFE is valid ISM/1 text but no XML 1.0 document can hold it.
    let body = status_with_reason_text("ACCEPTED", "odd \u{FFFE} text");
    let written = from_ism(&body).unwrap();
    assert_eq!(written.unrepresented.len(), 1);
    assert_eq!(written.unrepresented[0].field, "body.reason");
    assert!(!written.unrepresented[0].reason.is_empty());
    let read = to_ism(&written.value).unwrap().value;
    let Body::InstructionStatus(read) = read else {
        panic!("a status")
    };
    assert_eq!(read.reason, None);
    assert_eq!(read.instruction_id.as_str(), "SEME-1");

    for status in ["REJECTED", "UNMATCHED"] {
        let refused = from_ism(&status_with_reason_text(status, "odd \u{FFFF}")).unwrap_err();
        assert_eq!(refused.code, TranslateCode::NotRepresentable, "{status}");
        assert_eq!(refused.field.as_deref(), Some("body.reason.text"));
    }
}

#[test]
fn markup_characters_in_values_are_escaped() {
    let text = "Quantity <5000> & price \"1.5\" don't match ]]> \u{10348} é";
    let body = status_with_reason_text("UNMATCHED", text);
    assert_round_trip("escaping", &body);
    let xml = String::from_utf8(from_ism(&body).unwrap().value).unwrap();
    assert!(xml.contains("&lt;5000&gt; &amp; price"));
}

#[test]
fn a_long_reason_is_cut_in_addtlrsninf_but_kept_whole_in_supplementary_data() {
    let text = "x".repeat(512);
    let body = status_with_reason_text("REJECTED", &text);
    assert_round_trip("long reason", &body);
    let xml = String::from_utf8(from_ism(&body).unwrap().value).unwrap();
    let narrative = xml
        .split("<AddtlRsnInf>")
        .nth(1)
        .and_then(|rest| rest.split("</AddtlRsnInf>").next())
        .unwrap();
    assert_eq!(narrative.chars().count(), 210);
}

#[test]
fn other_kinds_are_unsupported() {
    let body = Body::from_json(
        Kind::Error,
        &json!({"code": "MALFORMED_JSON", "text": "no"}),
        "body",
    )
    .unwrap();
    assert_eq!(
        from_ism(&body).unwrap_err().code,
        TranslateCode::KindUnsupported
    );
}

// ---------------------------------------------------------------------------
// No input makes the reader panic.
// ---------------------------------------------------------------------------

fn corpus_documents() -> Vec<Vec<u8>> {
    files(&corpus_dir(), ".xml")
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

/// The lines `start..end` of the element opening at line `start` of a
/// pretty-printed document (one line for a leaf).
fn element_lines(lines: &[&str], start: usize) -> std::ops::Range<usize> {
    let line = lines[start];
    let indent = line.len() - line.trim_start().len();
    let trimmed = line.trim_start();
    let opens = trimmed.starts_with('<')
        && !trimmed.starts_with("</")
        && !trimmed.starts_with("<?")
        && !trimmed.starts_with("<!")
        && !trimmed.ends_with("/>")
        && !trimmed.contains("</");
    if opens {
        for (offset, later) in lines[start + 1..].iter().enumerate() {
            let later_indent = later.len() - later.trim_start().len();
            if later_indent == indent && later.trim_start().starts_with("</") {
                return start..start + offset + 2;
            }
        }
    }
    start..start + 1
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipByte(usize, u8),
    Truncate(usize),
    DeleteElement(usize),
    DuplicateElement(usize),
    Insert(usize, String),
}

fn mutate(document: &[u8], mutation: &Mutation) -> Vec<u8> {
    let text = String::from_utf8_lossy(document);
    let lines: Vec<&str> = text.lines().collect();
    match mutation {
        Mutation::FlipByte(at, mask) => {
            let mut bytes = document.to_vec();
            let at = at % bytes.len();
            bytes[at] ^= mask.max(&1);
            bytes
        }
        Mutation::Truncate(at) => document[..at % document.len()].to_vec(),
        Mutation::DeleteElement(at) => {
            let range = element_lines(&lines, at % lines.len());
            let mut kept = lines[..range.start].to_vec();
            kept.extend_from_slice(&lines[range.end..]);
            kept.join("\n").into_bytes()
        }
        Mutation::DuplicateElement(at) => {
            let range = element_lines(&lines, at % lines.len());
            let mut doubled = lines[..range.end].to_vec();
            doubled.extend_from_slice(&lines[range.clone()]);
            doubled.extend_from_slice(&lines[range.end..]);
            doubled.join("\n").into_bytes()
        }
        Mutation::Insert(at, junk) => {
            let mut bytes = document.to_vec();
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, junk.bytes());
            bytes
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, mask)| Mutation::FlipByte(at, mask)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DeleteElement),
        any::<usize>().prop_map(Mutation::DuplicateElement),
        (
            any::<usize>(),
            prop_oneof![
                Just("<Foo/>".to_string()),
                Just("</Document>".to_string()),
                Just("<!-- c -->".to_string()),
                Just("&amp;".to_string()),
                Just("&#0;".to_string()),
                Just("<![CDATA[x]]>".to_string()),
                "[<>/&;a-zA-Z0-9 \"'=:]{1,12}",
            ]
        )
            .prop_map(|(at, junk)| Mutation::Insert(at, junk)),
    ]
}

/// What any answer of `to_ism` must satisfy: an error explains itself; a body
/// is valid ISM/1 and writes back to XML that reads as the same body.
fn check_answer(input: &[u8]) {
    match to_ism(input) {
        Err(error) => {
            assert!(!error.message.trim().is_empty(), "{error:?}");
            assert!(!error.code.as_str().is_empty());
        }
        Ok(read) => {
            let body = read.value;
            assert!(Body::from_json(body.kind(), &body.to_json(), "body").is_ok());
            let written = from_ism(&body).unwrap();
            assert_eq!(to_ism(&written.value).unwrap().value, body);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_answer(&input);
    }

    #[test]
    fn arbitrary_xml_like_text_never_panics(input in "(<[A-Za-z:]{1,8}( [a-z:]{1,5}=\"[^\"]{0,5}\")?/?>|</[A-Za-z:]{1,8}>|[^<]{0,8}|&[a-z#0-9]{1,5};){0,40}") {
        check_answer(input.as_bytes());
    }

    #[test]
    fn mutated_corpus_documents_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let documents = corpus_documents();
        let mut document = index.get(&documents).clone();
        for mutation in &mutations {
            if document.is_empty() {
                break;
            }
            document = mutate(&document, mutation);
        }
        check_answer(&document);
    }
}

// ---------------------------------------------------------------------------
// Generated ISM/1 bodies round-trip losslessly.
// ---------------------------------------------------------------------------

const ISINS: &[&str] = &[
    "US0378331005",
    "DE0007236101",
    "JP3633400001",
    "GB0002634946",
    "CH0038863350",
    "FR0000120271",
    "BH0006001034",
    "KW0EQ0100085",
];
const LEIS: &[&str] = &[
    "549300ISTHMUSSELL015",
    "549300ISTHMUSBUYR064",
    "7LTWFZYICNSX8D621K86",
    "5493006W3QUS5LMH6R84",
];
const BICS: &[&str] = &[
    "DEUTDEFF",
    "CHASUS33",
    "DTCYUS33",
    "DAKVDEFF",
    "MGTCBEBE",
    "JJSDJPJT",
    "CRSTGB22",
    "INSECHZZ",
    "UBSWCHZH80A",
    "DEUTDEFF500",
];
const MICS: &[&str] = &[
    "XNYS", "XETR", "XTKS", "XLON", "XSWX", "XPAR", "XBAH", "XKUW",
];
/// Currencies with 0, 2, 3 and 4 minor units.
const CURRENCIES: &[(&str, u8)] = &[
    ("JPY", 0),
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("BHD", 3),
    ("KWD", 3),
    ("CLF", 4),
];

/// References of the SWIFT `x` set (ISM-1 §4.10), quotes and brackets included.
fn reference() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9/?:().,'+ -]{0,33}[A-Za-z0-9)]"
        .prop_filter("no //", |text| !text.contains("//"))
}

fn decimal(max_mantissa: u64, max_scale: u8) -> impl Strategy<Value = String> {
    (1..=max_mantissa, 0..=max_scale).prop_filter_map("non-zero", |(mantissa, scale)| {
        Decimal::from_minor_units(mantissa, scale).map(|d| d.as_str().to_string())
    })
}

fn date(days: i64) -> String {
    // Days after 2020-01-01 as YYYY-MM-DD, via the proleptic Gregorian calendar.
    let z = days + 18_262 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn money() -> impl Strategy<Value = Value> {
    select(CURRENCIES).prop_flat_map(|(currency, units)| {
        decimal(999_999_999_999_999, units)
            .prop_map(move |amount| json!({"amount": amount, "currency": currency}))
    })
}

fn party() -> impl Strategy<Value = Value> {
    (
        select(BICS),
        proptest::option::of(select(LEIS)),
        proptest::option::of(reference()),
    )
        .prop_map(|(bic, lei, account)| {
            let mut party = Map::new();
            party.insert("bic".into(), json!(bic));
            if let Some(lei) = lei {
                party.insert("lei".into(), json!(lei));
            }
            if let Some(account) = account {
                party.insert("safekeeping_account".into(), json!(account));
            }
            Value::Object(party)
        })
}

fn party_id() -> impl Strategy<Value = &'static str> {
    prop_oneof![select(LEIS), select(BICS)]
}

fn insert_some(object: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        object.insert(key.to_string(), value);
    }
}

fn instruction() -> impl Strategy<Value = Value> {
    (
        (
            reference(),
            proptest::option::of(reference()),
            select(&["DELIVER", "RECEIVE"][..]),
            any::<bool>(),
            0i64..4000,
            0i64..15,
            select(ISINS),
            decimal(999_999_999_999, 6),
            money(),
        ),
        (
            party_id(),
            reference(),
            party(),
            party(),
            proptest::option::of(party()),
            proptest::option::of(party()),
            select(BICS),
            proptest::option::of(select(MICS)),
        ),
    )
        .prop_map(
            |(
                (id, common, direction, against, trade, lag, isin, quantity, money),
                (owner, account, delivering, receiving, seller, buyer, place, market),
            )| {
                let mut body = Map::new();
                body.insert("instruction_id".into(), json!(id));
                insert_some(&mut body, "common_reference", common.map(Value::from));
                body.insert("direction".into(), json!(direction));
                let payment = if against {
                    "AGAINST_PAYMENT"
                } else {
                    "FREE_OF_PAYMENT"
                };
                body.insert("payment".into(), json!(payment));
                body.insert("trade_date".into(), json!(date(trade)));
                body.insert("settlement_date".into(), json!(date(trade + lag)));
                body.insert("isin".into(), json!(isin));
                body.insert("quantity".into(), json!(quantity));
                insert_some(&mut body, "settlement_amount", against.then_some(money));
                body.insert("account_owner".into(), json!(owner));
                body.insert("safekeeping_account".into(), json!(account));
                body.insert("delivering_agent".into(), delivering);
                body.insert("receiving_agent".into(), receiving);
                insert_some(&mut body, "seller", seller);
                insert_some(&mut body, "buyer", buyer);
                body.insert("place_of_settlement".into(), json!(place));
                insert_some(&mut body, "place_of_trade", market.map(Value::from));
                Value::Object(body)
            },
        )
}

fn reason_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{1,300}",
        "[<>&\"' a-zA-Zé€\u{10348}\u{2028}]{1,60}",
        Just("x".repeat(512)),
    ]
    .prop_filter("ISM/1 text", |text| {
        isthmus_spec::ids::Text::parse(text).is_ok()
    })
}

fn status() -> impl Strategy<Value = Value> {
    (
        reference(),
        proptest::option::of((any::<u64>(), any::<[u8; 10]>())),
        select(
            &[
                "ACCEPTED",
                "REJECTED",
                "MATCHED",
                "UNMATCHED",
                "PENDING",
                "CANCELLED",
            ][..],
        ),
        proptest::option::of(reference()),
        proptest::option::of(("[A-Z][A-Z0-9_]{2,47}", reason_text())),
    )
        .prop_map(|(id, message, state, settlement, reason)| {
            let mut body = Map::new();
            body.insert("instruction_id".into(), json!(id));
            if let Some((millis, random)) = message {
                let id = MessageId::new_v7(millis % (1 << 48), random);
                body.insert("related_message_id".into(), json!(id.as_str()));
            }
            body.insert("status".into(), json!(state));
            insert_some(&mut body, "settlement_id", settlement.map(Value::from));
            let needs = matches!(state, "REJECTED" | "UNMATCHED");
            let reason =
                reason.or_else(|| needs.then(|| ("NEEDED".to_string(), "why".to_string())));
            if let Some((code, text)) = reason {
                body.insert("reason".into(), json!({"code": code, "text": text}));
            }
            Value::Object(body)
        })
}

fn journal() -> impl Strategy<Value = Value> {
    (select(MICS), 0u64..=i64::MAX as u64, "[0-9a-f]{64}").prop_map(|(market, sequence, hash)| {
        json!({"market": market, "sequence": sequence.to_string(), "entry_hash": hash})
    })
}

fn timestamp() -> impl Strategy<Value = String> {
    (0i64..4000, 0u32..86_400, proptest::option::of("[0-9]{1,9}")).prop_map(
        |(day, second, fraction)| {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            format!(
                "{}T{:02}:{:02}:{:02}{fraction}Z",
                date(day),
                second / 3600,
                second / 60 % 60,
                second % 60
            )
        },
    )
}

fn confirmation() -> impl Strategy<Value = Value> {
    (
        (
            reference(),
            reference(),
            select(&["DELIVER", "RECEIVE"][..]),
            any::<bool>(),
        ),
        (
            select(ISINS),
            decimal(999_999_999_999, 6),
            money(),
            0i64..4000,
        ),
        (timestamp(), journal(), journal()),
    )
        .prop_map(
            |(
                (id, settlement, direction, against),
                (isin, quantity, money, day),
                (at, securities, cash),
            )| {
                let mut body = Map::new();
                body.insert("instruction_id".into(), json!(id));
                body.insert("settlement_id".into(), json!(settlement));
                body.insert("direction".into(), json!(direction));
                let payment = if against {
                    "AGAINST_PAYMENT"
                } else {
                    "FREE_OF_PAYMENT"
                };
                body.insert("payment".into(), json!(payment));
                body.insert("isin".into(), json!(isin));
                body.insert("quantity".into(), json!(quantity));
                insert_some(&mut body, "settlement_amount", against.then_some(money));
                body.insert("settlement_date".into(), json!(date(day)));
                body.insert("settled_at".into(), json!(at));
                body.insert("securities_journal".into(), securities);
                insert_some(&mut body, "cash_journal", against.then_some(cash));
                Value::Object(body)
            },
        )
}

fn holdings() -> impl Strategy<Value = Value> {
    let balance = |isin: &'static str| {
        (decimal(999_999_999_999, 6), proptest::option::of(0u8..=100)).prop_map(
            move |(total, share)| {
                let mut entry = json!({"isin": isin, "total": total});
                if let Some(share) = share {
                    // A locked part no larger than the total: the total itself, or a smaller whole number.
                    let total_value: f64 = total.parse().unwrap_or(1.0);
                    let locked = ((total_value * f64::from(share)) / 100.0).floor() as u64;
                    let locked = if locked == 0 || share == 100 {
                        total.clone()
                    } else {
                        locked.to_string()
                    };
                    entry["locked"] = json!(locked);
                }
                entry
            },
        )
    };
    (
        reference(),
        select(MICS),
        party_id(),
        reference(),
        timestamp(),
        subsequence(ISINS.to_vec(), 0..=ISINS.len()),
    )
        .prop_flat_map(move |(id, market, owner, account, at, mut isins)| {
            isins.sort_unstable();
            let balances: Vec<_> = isins.into_iter().map(balance).collect();
            (Just((id, market, owner, account, at)), balances)
        })
        .prop_map(|((id, market, owner, account, at), balances)| {
            json!({
                "statement_id": id,
                "market": market,
                "account": {"owner": owner, "account": account},
                "as_of": at,
                "balances": balances,
            })
        })
}

fn decode(kind: Kind, value: &Value) -> Option<Body> {
    Body::from_json(kind, value, "body").ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_instructions_round_trip(value in instruction()) {
        let body = decode(Kind::SettlementInstruction, &value);
        prop_assert!(body.is_some(), "generated an invalid instruction: {value}");
        assert_round_trip("generated instruction", &body.unwrap());
    }

    #[test]
    fn generated_statuses_round_trip(value in status()) {
        let body = decode(Kind::InstructionStatus, &value);
        prop_assert!(body.is_some(), "generated an invalid status: {value}");
        assert_round_trip("generated status", &body.unwrap());
    }

    #[test]
    fn generated_confirmations_round_trip(value in confirmation()) {
        let body = decode(Kind::SettlementConfirmation, &value);
        prop_assert!(body.is_some(), "generated an invalid confirmation: {value}");
        assert_round_trip("generated confirmation", &body.unwrap());
    }

    #[test]
    fn generated_statements_round_trip(value in holdings()) {
        let body = decode(Kind::HoldingsStatement, &value);
        prop_assert!(body.is_some(), "generated an invalid statement: {value}");
        assert_round_trip("generated statement", &body.unwrap());
    }
}
