//! The MT54x dialect against its corpus (`tests/data/mt/`): every message
//! translates to its expected ISM/1 body with exactly its expected derived and
//! unrepresented lists, every expected body survives ISM/1 → MT → ISM/1
//! (modulo the fields reported as unrepresented, and deriving nothing), our own
//! MT output is re-written byte for byte, every invalid message is refused
//! with its expected reason code and field, and nothing panics.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dialect_support;

use std::fs;
use std::path::{Path, PathBuf};

use isthmus_adapters::{mt, TranslateCode, TranslateError};
use isthmus_spec::body::InstructionState;
use isthmus_spec::{Body, Kind, ReasonCode};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mt")
}

/// `(name, .fin bytes)` of every message in `dir`, sorted by name.
fn messages(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "fin"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    found.sort();
    found
}

/// The expected `{"kind", "body"}` of a valid corpus message.
fn expected(name: &str) -> Value {
    let text = fs::read_to_string(corpus_dir().join(format!("{name}.ism.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn expected_body(name: &str) -> Body {
    let value = expected(name);
    let kind: Kind = serde_json::from_value(value["kind"].clone()).unwrap();
    Body::from_json(kind, &value["body"], "body").unwrap()
}

/// The members a corpus message is expected to report as derived, as
/// `field<TAB>source` lines, sorted; no file means none.
fn expected_derived(name: &str) -> Vec<String> {
    match fs::read_to_string(corpus_dir().join(format!("{name}.derived"))) {
        Ok(text) => text.lines().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    }
}

/// The derived members of a translation as `field<TAB>source` lines, sorted.
fn derived_lines(translation: &isthmus_adapters::Translation<Body>) -> Vec<String> {
    let mut lines: Vec<String> = translation
        .derived
        .iter()
        .map(|d| format!("{}\t{}", d.field, d.source))
        .collect();
    lines.sort();
    lines
}

/// The MT locations a corpus message is expected to report as left out.
fn expected_unrepresented(name: &str) -> Vec<String> {
    match fs::read_to_string(corpus_dir().join(format!("{name}.unrepresented"))) {
        Ok(text) => text.lines().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    }
}

/// The ISM/1 members a corpus message states in a form ISM/1 cannot carry
/// (`Translation::withheld`), one per line, sorted; no file means none.
fn expected_withheld(name: &str) -> Vec<String> {
    match fs::read_to_string(corpus_dir().join(format!("{name}.withheld"))) {
        Ok(text) => text.lines().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    }
}

fn kind_and_body(body: &Body) -> Value {
    json!({"kind": body.kind().as_str(), "body": body.to_json()})
}

/// Messages written exactly as `from_ism` writes them: MT → ISM/1 → MT gives them back.
const CANONICAL: &[&str] = &[
    "01-mt543-us-dtc-deliver-against-usd",
    "03-mt540-de-clearstream-receive-free-minimal",
    "04-mt542-de-clearstream-deliver-free-lei-owner",
    "06-mt541-jp-jasdec-receive-against-jpy",
    "07-mt543-gb-crest-deliver-against-gbp",
    "09-mt543-bh-bahrain-deliver-against-bhd",
    "10-mt541-kw-kuwait-receive-against-kwd-same-day",
    "12-mt542-gb-crest-deliver-free-all-parties",
    "13-mt544-de-receive-free-confirmation",
    "14-mt545-us-receive-against-confirmation-usd",
    "16-mt547-bh-deliver-against-confirmation-bhd",
    "17-mt548-accepted",
    "18-mt548-rejected-isin-check-digit",
    "19-mt548-unmatched-quantity",
    "23-mt548-rejected-escaped-reason-text",
];

#[test]
fn corpus_is_large_and_covers_every_message_type() {
    let valid = messages(&corpus_dir());
    let invalid = messages(&corpus_dir().join("invalid"));
    assert!(valid.len() >= 20, "{} valid messages", valid.len());
    assert!(invalid.len() >= 12, "{} invalid messages", invalid.len());
    for mt in 540..=548 {
        assert!(
            valid
                .iter()
                .any(|(name, _)| name.contains(&format!("-mt{mt}-"))),
            "no MT{mt} in the corpus"
        );
    }
}

#[test]
fn corpus_messages_translate_to_their_ism_bodies() {
    for (name, bytes) in messages(&corpus_dir()) {
        let translation = mt::to_ism(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kind_and_body(&translation.value), expected(&name), "{name}");
        let left_out: Vec<String> = translation
            .unrepresented
            .iter()
            .map(|u| u.field.clone())
            .collect();
        assert_eq!(left_out, expected_unrepresented(&name), "{name}");
        for note in &translation.unrepresented {
            assert!(!note.reason.is_empty(), "{name}: {note:?}");
        }
        assert_eq!(
            derived_lines(&translation),
            expected_derived(&name),
            "{name}"
        );
        for derived in &translation.derived {
            assert!(!derived.reason.is_empty(), "{name}: {derived:?}");
        }
        assert_eq!(
            translation.withheld,
            expected_withheld(&name),
            "{name}: members stated in a form ISM/1 cannot carry"
        );
    }
}

#[test]
fn expected_bodies_survive_ism_to_mt_to_ism() {
    for (name, _) in messages(&corpus_dir()) {
        let body = expected_body(&name);
        let written = mt::from_ism(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let read = mt::to_ism(&written.value).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            read.value.to_json(),
            dialect_support::without_reported(&body.to_json(), &written.unrepresented),
            "{name}"
        );
        assert!(
            read.unrepresented.is_empty(),
            "{name}: our own output loses nothing more: {:?}",
            read.unrepresented
        );
        assert!(
            read.derived.is_empty(),
            "{name}: our own output implies nothing the body does not say: {:?}",
            read.derived
        );
    }
}

#[test]
fn our_output_is_rewritten_byte_for_byte() {
    for (name, _) in messages(&corpus_dir()) {
        let first = mt::from_ism(&expected_body(&name)).unwrap().value;
        let again = mt::from_ism(&mt::to_ism(&first).unwrap().value)
            .unwrap()
            .value;
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&first),
            "{name}"
        );
    }
}

#[test]
fn canonical_corpus_messages_come_back_byte_for_byte() {
    for name in CANONICAL {
        let bytes = fs::read(corpus_dir().join(format!("{name}.fin"))).unwrap();
        let body = mt::to_ism(&bytes).unwrap().value;
        let written = mt::from_ism(&body).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&written.value),
            String::from_utf8_lossy(&bytes),
            "{name}"
        );
    }
}

#[test]
fn invalid_corpus_messages_give_their_reason_codes() {
    for (name, bytes) in messages(&corpus_dir().join("invalid")) {
        let expect =
            fs::read_to_string(corpus_dir().join(format!("invalid/{name}.expect"))).unwrap();
        let mut lines = expect.lines();
        let code = lines.next().unwrap();
        let error = mt::to_ism(&bytes)
            .err()
            .unwrap_or_else(|| panic!("{name} was accepted"));
        assert_eq!(error.code.as_str(), code, "{name}: {error}");
        if let Some(field) = lines.next() {
            assert_eq!(error.field.as_deref(), Some(field), "{name}: {error}");
        }
        assert!(!error.message.is_empty(), "{name}");
    }
}

fn body(kind: Kind, value: Value) -> Body {
    Body::from_json(kind, &value, "body").unwrap()
}

fn instruction(changes: Value) -> Body {
    let mut base = expected("01-mt543-us-dtc-deliver-against-usd")["body"].clone();
    for (key, value) in changes.as_object().unwrap() {
        base[key] = value.clone();
    }
    body(Kind::SettlementInstruction, base)
}

fn refusal(body: &Body) -> TranslateError {
    mt::from_ism(body).err().unwrap()
}

#[test]
fn values_mt_cannot_carry_whole_are_refused_not_truncated() {
    let long_id = instruction(json!({"instruction_id": "SEME-XNYS-0000001"}));
    let error = refusal(&long_id);
    assert_eq!(
        (error.code, error.field.as_deref()),
        (TranslateCode::NotRepresentable, Some("body.instruction_id"))
    );
    let long_common = instruction(json!({"common_reference": "TRADE-2026-11-25-7781"}));
    assert_eq!(
        refusal(&long_common).field.as_deref(),
        Some("body.common_reference")
    );
    let big = instruction(json!({"quantity": "123456789012345"}));
    assert_eq!(refusal(&big).code, TranslateCode::NotRepresentable);
    let rejected = body(
        Kind::InstructionStatus,
        json!({"instruction_id": "A1", "status": "REJECTED", "reason": {"code": "X_Y", "text": "é".repeat(40)}}),
    );
    let error = refusal(&rejected);
    assert_eq!(
        (error.code, error.field.as_deref()),
        (TranslateCode::NotRepresentable, Some("body.reason.text"))
    );
}

#[test]
fn status_members_mt548_cannot_carry_are_listed() {
    let matched = body(
        Kind::InstructionStatus,
        json!({
            "instruction_id": "SEME-XNYS-000001",
            "related_message_id": "01a211ee-ee68-7101-8101-010101010101",
            "status": "MATCHED",
            "settlement_id": "STL-20261125-0001",
            "reason": {"code": "MATCHED_ON_TOLERANCE", "text": "Amounts differ within tolerance."}
        }),
    );
    let written = mt::from_ism(&matched).unwrap();
    let fields: Vec<&str> = written
        .unrepresented
        .iter()
        .map(|u| u.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "body.related_message_id",
            "body.settlement_id",
            "body.reason"
        ]
    );
    let read = mt::to_ism(&written.value).unwrap().value;
    assert_eq!(
        read.to_json(),
        json!({"instruction_id": "SEME-XNYS-000001", "status": "MATCHED"})
    );
    let accepted = body(
        Kind::InstructionStatus,
        json!({"instruction_id": "A1", "status": "ACCEPTED", "reason": {"code": "NOTE", "text": "é".repeat(40)}}),
    );
    let fields: Vec<String> = mt::from_ism(&accepted)
        .unwrap()
        .unrepresented
        .into_iter()
        .map(|u| u.field)
        .collect();
    assert_eq!(fields, ["body.reason"]);
}

#[test]
fn other_kinds_are_unsupported() {
    let refund = body(
        Kind::RefundReceipt,
        json!({
            "settlement_id": "STL-1", "leg": "CASH", "lock_id": "L-1",
            "journal": {"market": "XNYS", "sequence": "7", "entry_hash": "7c7151b562abb5e456aadea4549cf8e39590c710df99dbade4c48dc58fa27964"}
        }),
    );
    let error = refusal(&refund);
    assert_eq!(error.code, TranslateCode::KindUnsupported);
    assert!(error.message.contains("RefundReceipt"));
}

#[test]
fn input_size_is_bounded() {
    let huge = vec![b'{'; isthmus_adapters::error::MAX_NATIVE_MESSAGE_BYTES + 1];
    assert_eq!(
        mt::to_ism(&huge).err().map(|e| e.code),
        Some(TranslateCode::InputTooLarge)
    );
}

/// Issue 10, findings 10 and 11: an input that is not a FIN message at all is
/// refused without quoting any of it; a FIN message's values are quoted as a
/// short escaped excerpt; a reader stopped at the limit + 1 says "more than".
#[test]
fn what_is_not_mt_is_not_quoted_and_what_is_mt_is_quoted_short() {
    let shown = |error: &TranslateError| {
        format!(
            "{} {} {}",
            error.code,
            error.field.as_deref().unwrap_or(""),
            error.message
        )
    };
    // The first bytes of /etc/shadow, a JSON document, a PEM key: none of it
    // may reach the refusal.
    for secret in [
        "root:$6$Qx9s1pZ$hashhashhash:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n",
        "{\"version\":\"ISM/1\",\"secret\":\"hunter2\"}",
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHunter2Hunter2\n-----END PRIVATE KEY-----\n",
        " {1:F01CHASUS33AXXX0000000000}",
    ] {
        let error = mt::to_ism(secret.as_bytes()).unwrap_err();
        assert_eq!(error.code, TranslateCode::MtBlockStructure);
        let text = shown(&error);
        assert!(text.contains("byte 0"), "{text}");
        for part in ["root", "$6$", "hunter2", "Hunter2", "version", "PRIVATE", "CHASUS33"] {
            assert!(!text.contains(part), "{part} quoted: {text}");
        }
    }
    // Blocks found but a later one missing: the offset, not what stands there.
    let error = mt::to_ism(b"{1:F01CHASUS33AXXX0000000000}password=hunter2").unwrap_err();
    assert!(error.message.contains("at byte 29"), "{error}");
    assert!(!shown(&error).contains("hunter2"), "{error}");
    let after = "{1:F01CHASUS33AXXX0000000000}{2:I543DTCYUS33XXXXN}{4:\r\n-}password=hunter2";
    let error = mt::to_ism(after.as_bytes()).unwrap_err();
    assert!(error.message.contains("from byte 57"), "{error}");
    assert!(!shown(&error).contains("hunter2"), "{error}");
    // A FIN message: its values are quoted, short and escaped.
    let long_header = format!(
        "{{1:F01{}}}{{2:I543DTCYUS33XXXXN}}{{4:\r\n-}}",
        "C".repeat(1_000_000)
    );
    let error = mt::to_ism(long_header.as_bytes()).unwrap_err();
    assert!(shown(&error).len() < 600, "{} bytes", shown(&error).len());
    assert!(error.message.contains("CCC…"), "{error}");
    let base = String::from_utf8(
        fs::read(corpus_dir().join("01-mt543-us-dtc-deliver-against-usd.fin")).unwrap(),
    )
    .unwrap();
    let escaped = base.replacen(":20C::SEME//", ":20C::SEME//\u{1b}]0;x\u{7}", 1);
    let error = mt::to_ism(escaped.as_bytes()).unwrap_err();
    assert!(
        !shown(&error).chars().any(char::is_control),
        "{:?}",
        shown(&error)
    );
    assert!(error.message.contains("\\u{1b}"), "{error}");
}

#[test]
fn an_input_cut_at_the_limit_is_more_than_the_limit() {
    let limit = isthmus_adapters::error::MAX_NATIVE_MESSAGE_BYTES;
    let cut = vec![b'{'; limit + 1];
    assert_eq!(
        mt::to_ism(&cut).err().map(|e| e.message),
        Some(format!(
            "the message has more than {limit} bytes; at most {limit} bytes are read"
        ))
    );
    let whole = vec![b'{'; limit + 10];
    assert_eq!(
        mt::to_ism(&whole).err().map(|e| e.message),
        Some(format!(
            "the message has {} bytes; at most {limit} bytes are read",
            limit + 10
        ))
    );
}

#[test]
fn reason_codes_of_invalid_corpus_include_ism_codes() {
    // The invalid corpus exercises both ISM/1 value rules and MT structure.
    let codes: Vec<String> = messages(&corpus_dir().join("invalid"))
        .into_iter()
        .map(|(_, bytes)| mt::to_ism(&bytes).err().unwrap().code.as_str().to_string())
        .collect();
    for code in [
        ReasonCode::IsinCheckDigit,
        ReasonCode::CurrencyUnknown,
        ReasonCode::DateInvalid,
        ReasonCode::SettlementBeforeTrade,
    ] {
        assert!(codes.iter().any(|c| c == code.as_str()), "{code}");
    }
}

/// A line of a corpus message and the lines that replace it.
type Edit<'a> = (&'a str, &'a [&'a str]);

/// A corpus message, edits, and the expected code and field.
type Case<'a> = (&'a str, &'a [Edit<'a>], &'a str, &'a str);

/// Corpus message `name` with each `(old line, new lines)` replaced.
fn edited(name: &str, edits: &[Edit<'_>]) -> Vec<u8> {
    let text = fs::read_to_string(corpus_dir().join(format!("{name}.fin"))).unwrap();
    dialect_support::with_lines_replaced(&text, name, edits)
}

#[test]
fn targeted_refusals_name_code_and_field() {
    const DVP: &str = "01-mt543-us-dtc-deliver-against-usd";
    let cases: &[Case<'_>] = &[
        (
            DVP,
            &[(":98A::SETT//20261127", &[":98A::SETT/20261127"])],
            "MT_FIELD_FORMAT",
            "B/TRADDET/:98A:",
        ),
        (
            // A date with a time is checked whole (review finding): :98C:
            // has no UTC indicator, and hours stop at 23.
            DVP,
            &[(":98A::SETT//20261127", &[":98C::SETT//20261127130211/0100"])],
            "MT_FIELD_FORMAT",
            "B/TRADDET/:98C::SETT//",
        ),
        (
            DVP,
            &[(":98A::SETT//20261127", &[":98C::SETT//20261127250211"])],
            "TIMESTAMP_INVALID",
            "B/TRADDET/:98C::SETT//",
        ),
        (
            DVP,
            &[(":22F::SETR//TRAD", &[":22F::SETR//SECL"])],
            "NOT_REPRESENTABLE",
            "E/SETDET/:22F::SETR//",
        ),
        (
            DVP,
            &[(":36B::SETT//UNIT/1000,", &[":36B::SETT//FAMT/1000,"])],
            "NOT_REPRESENTABLE",
            "C/FIAC/:36B::SETT//",
        ),
        (
            DVP,
            &[(":19A::SETT//USD231450,00", &[":19A::SETT//NUSD231450,00"])],
            "DECIMAL_NOT_POSITIVE",
            "E/SETDET/E3/AMT/:19A::SETT//",
        ),
        (
            DVP,
            &[(":19A::SETT//USD231450,00", &[":19A::SETT//USD231450,001"])],
            "DECIMAL_TOO_MANY_DECIMALS",
            "E/SETDET/E3/AMT/:19A::SETT//",
        ),
        (
            DVP,
            &[(
                ":20C::COMM//TRADE-7781",
                &[
                    ":20C::COMM//TRADE-7781",
                    ":16S:LINK",
                    ":16R:LINK",
                    ":20C::COMM//TRADE-7782",
                ],
            )],
            "MT_QUALIFIER_INVALID",
            "A/GENL/A1/LINK/:20C::COMM//",
        ),
        (
            DVP,
            &[(":95P::BUYR//DEUTDEFF", &[":95P::DEAG//DEUTDEFF"])],
            "MT_QUALIFIER_INVALID",
            "E/SETDET/E1/SETPRTY/:95P::DEAG//",
        ),
        (
            DVP,
            &[(
                ":16S:FIAC",
                &[
                    ":16S:FIAC",
                    ":16R:FIAC",
                    ":36B::SETT//UNIT/5,",
                    ":97A::SAFE//B",
                    ":16S:FIAC",
                ],
            )],
            "NOT_REPRESENTABLE",
            "C/FIAC",
        ),
        (
            DVP,
            &[(":95P::PSET//DTCYUS33", &[":95C::PSET//US"])],
            "NOT_REPRESENTABLE",
            "E/SETDET/E1/SETPRTY/:95C::PSET//",
        ),
        (
            DVP,
            &[(":35B:ISIN US0378331005", &[":35B:/US/037833100"])],
            "MT_FIELD_MISSING",
            "B/TRADDET/:35B:",
        ),
        (
            DVP,
            &[(":23G:NEWM", &[":23G:NEWM/DUPL"])],
            "NOT_REPRESENTABLE",
            "A/GENL/:23G:",
        ),
        (
            DVP,
            &[(":16R:TRADDET", &[":16R:FIAC", ":16S:FIAC", ":16R:TRADDET"])],
            "MT_BLOCK_STRUCTURE",
            "B/TRADDET",
        ),
        (
            "17-mt548-accepted",
            &[(":23G:INST", &[":23G:CAST"])],
            "NOT_REPRESENTABLE",
            "A/GENL/:23G:",
        ),
        (
            "17-mt548-accepted",
            &[(":25D::IPRC//PACK", &[":25D::IPRC//PPRC"])],
            "NOT_REPRESENTABLE",
            "A/GENL/A2/STAT/:25D::IPRC//",
        ),
        (
            "17-mt548-accepted",
            &[(
                ":25D::IPRC//PACK",
                &[
                    ":25D::IPRC//PACK",
                    ":16R:REAS",
                    ":24B::REJT//NARR",
                    ":16S:REAS",
                ],
            )],
            "MT_QUALIFIER_INVALID",
            "A/GENL/A2/STAT/A2a/REAS/:24B::REJT//",
        ),
        (
            "17-mt548-accepted",
            &[(":20C::RELA//SEME-XNYS-000001", &[":20C::RELA//NONREF"])],
            "NOT_REPRESENTABLE",
            "A/GENL/A1/LINK/:20C::RELA//",
        ),
        (
            "23-mt548-rejected-escaped-reason-text",
            &[(
                "//quant: 100?25 requis ?2F DVP",
                &["//quant: 100?ZZ requis ?2F DVP"],
            )],
            "MT_FIELD_FORMAT",
            "A/GENL/A2/STAT/A2a/REAS/:70D::REAS// /TEXT/",
        ),
        (
            "14-mt545-us-receive-against-confirmation-usd",
            &[
                (
                    ":98E::ESET//20261127130211,417/0000",
                    &[":98E::ESET//20261127130211/0000"],
                ),
                ("//9dac1da9e16f", &["//9dac1da9e16f", "/FRAC/41a"]),
            ],
            "MT_FIELD_FORMAT",
            "B/TRADDET/:70E::SPRO// /FRAC/",
        ),
        (
            "14-mt545-us-receive-against-confirmation-usd",
            &[("//9dac1da9e16f", &["//9dac1da9e16f", "/XXXX/417"])],
            "MT_FIELD_FORMAT",
            "B/TRADDET/:70E::SPRO//",
        ),
        (
            // The decimals of the second given both in :98E: and as /FRAC/.
            "14-mt545-us-receive-against-confirmation-usd",
            &[("//9dac1da9e16f", &["//9dac1da9e16f", "/FRAC/417"])],
            "MT_FIELD_FORMAT",
            "B/TRADDET/:98E::ESET//",
        ),
        (
            "14-mt545-us-receive-against-confirmation-usd",
            &[(
                ":98E::ESET//20261127130211,417/0000",
                &[":98E::ESET//20261127130211,417/N2500"],
            )],
            "MT_FIELD_FORMAT",
            "B/TRADDET/:98E::ESET//",
        ),
    ];
    for (name, edits, code, field) in cases {
        let error = mt::to_ism(&edited(name, edits))
            .err()
            .unwrap_or_else(|| panic!("{edits:?} was accepted"));
        assert_eq!(
            (error.code.as_str(), error.field.as_deref()),
            (*code, Some(*field)),
            "{edits:?}: {error}"
        );
    }
}

#[test]
fn a_missing_account_owner_is_the_sender() {
    let bytes = edited(
        "03-mt540-de-clearstream-receive-free-minimal",
        &[(":95P::ACOW//COBADEFF", &[])],
    );
    let body = mt::to_ism(&bytes).unwrap().value.to_json();
    assert_eq!(body["account_owner"], "COBADEFF");
}

/// Applies one mutation to a message: replace a byte, delete or duplicate a
/// line, or truncate.
fn mutate(bytes: &mut Vec<u8>, (op, at, byte): (u8, usize, u8)) {
    if bytes.is_empty() {
        return;
    }
    match op % 4 {
        0 => {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        1 | 2 => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let mut lines: Vec<&str> = text.split('\n').collect();
            let at = at % lines.len();
            if op % 4 == 1 {
                lines.remove(at);
            } else {
                lines.insert(at, lines[at]);
            }
            *bytes = lines.join("\n").into_bytes();
        }
        _ => bytes.truncate(at % bytes.len()),
    }
}

fn check_refusal(
    result: Result<isthmus_adapters::Translation<Body>, TranslateError>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(translation) => {
            // Whatever is accepted is a valid ISM/1 body that MT can write.
            let again = Body::from_json(
                translation.value.kind(),
                &translation.value.to_json(),
                "body",
            );
            prop_assert!(again.is_ok());
        }
        Err(error) => {
            prop_assert!(!error.message.trim().is_empty(), "{error:?}");
            prop_assert!(
                error.field.as_deref().is_some_and(|f| !f.is_empty()),
                "every refusal names where: {error:?}"
            );
            prop_assert!(!error.to_string().is_empty());
        }
    }
    Ok(())
}

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
const BICS: &[&str] = &[
    "DEUTDEFF",
    "CHASUS33",
    "MGTCBEBEECL",
    "DAKVDEFFXXX",
    "JJSDJPJT",
    "CRSTGB22",
    "INSECHZZ",
    "DTCYUS33",
];
const LEIS: &[&str] = &[
    "549300ISTHMUSSELL015",
    "549300ISTHMUSBUYR064",
    "7LTWFZYICNSX8D621K86",
    "5493006W3QUS5LMH6R84",
];
const CURRENCIES: &[(&str, u8)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("JPY", 0),
    ("BHD", 3),
    ("KWD", 3),
];
const MICS: &[&str] = &[
    "XNYS", "XETR", "XTKS", "XBAH", "XLON", "XSWX", "XPAR", "XKUW",
];
const HASHES: &[&str] = &[
    "7c7151b562abb5e456aadea4549cf8e39590c710df99dbade4c48dc58fa27964",
    "7fc98cd98ee290a1662b340833549dc05e568a79e4ebdc7a05679dac1da9e16f",
];

/// A decimal text with at most 12 significant digits and `max_scale` decimals, never zero.
fn decimal(max_scale: u8) -> impl Strategy<Value = String> {
    (1u64..=999_999_999_999, 0..=max_scale).prop_map(|(mantissa, scale)| {
        isthmus_spec::decimal::Decimal::from_minor_units(mantissa, scale)
            .map(|d| d.to_string())
            .unwrap_or_else(|| "1".into())
    })
}

/// A reference of 1 to `max` characters of the SWIFT x set, without `/`.
fn reference(max: usize) -> impl Strategy<Value = String> {
    let middle = max.saturating_sub(2);
    proptest::string::string_regex(&format!(
        "[A-Za-z0-9]([A-Za-z0-9?:().,'+ -]{{0,{middle}}}[A-Za-z0-9])?"
    ))
    .unwrap()
}

fn party() -> impl Strategy<Value = Value> {
    (
        select(BICS),
        proptest::option::of(select(LEIS)),
        proptest::option::of(reference(35)),
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

fn instruction_body() -> impl Strategy<Value = Value> {
    let ids = (
        reference(16),
        proptest::option::of(reference(16)),
        reference(35),
    );
    let economics = (
        select(ISINS),
        decimal(6),
        select(CURRENCIES).prop_flat_map(|(code, units)| (Just(code), decimal(units))),
        select(&["DELIVER", "RECEIVE"][..]),
        any::<bool>(),
    );
    let dates = (2000u32..2100, 1u32..=12, 1u32..=20, 0u32..=8);
    let parties = (
        party(),
        party(),
        proptest::option::of(party()),
        proptest::option::of(party()),
        select(BICS),
        prop_oneof![select(LEIS), select(BICS)],
        proptest::option::of(select(MICS)),
    );
    (ids, economics, dates, parties).prop_map(
        |((id, common, account), (isin, quantity, (currency, amount), direction, against), (y, m, d, extra), (deag, reag, seller, buyer, pset, owner, mic))| {
            let mut b = json!({
                "instruction_id": id, "direction": direction,
                "payment": if against { "AGAINST_PAYMENT" } else { "FREE_OF_PAYMENT" },
                "trade_date": format!("{y:04}-{m:02}-{d:02}"), "settlement_date": format!("{y:04}-{m:02}-{:02}", d + extra),
                "isin": isin, "quantity": quantity, "account_owner": owner, "safekeeping_account": account,
                "delivering_agent": deag, "receiving_agent": reag, "place_of_settlement": pset,
            });
            if against {
                b["settlement_amount"] = json!({"amount": amount, "currency": currency});
            }
            if let Some(common) = common {
                b["common_reference"] = json!(common);
            }
            if let Some(seller) = seller {
                b["seller"] = seller;
            }
            if let Some(buyer) = buyer {
                b["buyer"] = buyer;
            }
            if let Some(mic) = mic {
                b["place_of_trade"] = json!(mic);
            }
            b
        },
    )
}

fn confirmation_body() -> impl Strategy<Value = Value> {
    (
        (reference(16), reference(35), select(&["DELIVER", "RECEIVE"][..]), any::<bool>()),
        (select(ISINS), decimal(6), select(CURRENCIES).prop_flat_map(|(code, units)| (Just(code), decimal(units)))),
        (2000u32..2100, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, proptest::option::of("[0-9]{1,9}")),
        (select(MICS), 0u64..(1 << 40), select(HASHES), select(MICS), 0u64..1000, select(HASHES)),
    )
        .prop_map(|((id, settlement, direction, against), (isin, quantity, (currency, amount)), (y, m, d, h, min, fraction), journals)| {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            let mut b = json!({
                "instruction_id": id, "settlement_id": settlement, "direction": direction,
                "payment": if against { "AGAINST_PAYMENT" } else { "FREE_OF_PAYMENT" },
                "isin": isin, "quantity": quantity, "settlement_date": format!("{y:04}-{m:02}-{d:02}"),
                "settled_at": format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{:02}{fraction}Z", min % 60),
                "securities_journal": {"market": journals.0, "sequence": journals.1.to_string(), "entry_hash": journals.2},
            });
            if against {
                b["settlement_amount"] = json!({"amount": amount, "currency": currency});
                b["cash_journal"] = json!({"market": journals.3, "sequence": journals.4.to_string(), "entry_hash": journals.5});
            }
            b
        })
}

fn status_body() -> impl Strategy<Value = Value> {
    (
        reference(16),
        select(InstructionState::ALL),
        proptest::option::of(reference(35)),
        proptest::option::of((
            select(
                &[
                    "UNMATCHED_QUANTITY",
                    "ISIN_CHECK_DIGIT",
                    "ISO_DSEC",
                    "ISO_LACK",
                    "PRTRY_0042",
                    "LATE_INSTRUCTION",
                ][..],
            ),
            "[ -~éü€]{1,80}",
        )),
    )
        .prop_filter_map(
            "reasons have visible text",
            |(id, state, settlement, reason)| {
                let mut b = json!({"instruction_id": id, "status": state.as_str()});
                if let Some(settlement) = settlement {
                    b["settlement_id"] = json!(settlement);
                }
                let needs_reason = matches!(
                    state,
                    InstructionState::Rejected | InstructionState::Unmatched
                );
                match reason {
                    Some((code, text)) => b["reason"] = json!({"code": code, "text": text}),
                    None if needs_reason => return None,
                    None => {}
                }
                Some(b)
            },
        )
}

proptest! {
    // 512 cases unless PROPTEST_CASES asks for more (or fewer).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_refusal(mt::to_ism(&bytes))?;
    }

    #[test]
    fn arbitrary_block_4_text_never_panics(text in "(:[0-9]{2}[A-Z]?:[ -~]{0,20}\r?\n){0,30}") {
        let message = format!("{{1:F01CHASUS33AXXX0000000000}}{{2:I543DTCYUS33XXXXN}}{{4:\r\n{text}-}}");
        check_refusal(mt::to_ism(message.as_bytes()))?;
    }

    #[test]
    fn mutated_corpus_messages_never_panic(
        pick in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6),
    ) {
        let mut corpus = messages(&corpus_dir());
        corpus.extend(messages(&corpus_dir().join("invalid")));
        let (_, mut bytes) = corpus.swap_remove(pick.index(corpus.len()));
        for mutation in mutations {
            mutate(&mut bytes, mutation);
        }
        check_refusal(mt::to_ism(&bytes))?;
    }

    #[test]
    fn instructions_survive_ism_to_mt_to_ism(value in instruction_body()) {
        let body = Body::from_json(Kind::SettlementInstruction, &value, "body").unwrap();
        let written = mt::from_ism(&body).unwrap();
        prop_assert!(written.unrepresented.is_empty());
        let read = mt::to_ism(&written.value).unwrap();
        prop_assert_eq!(&read.value, &body);
        prop_assert!(read.unrepresented.is_empty());
        prop_assert_eq!(mt::from_ism(&read.value).unwrap().value, written.value);
    }

    #[test]
    fn confirmations_survive_ism_to_mt_to_ism(value in confirmation_body()) {
        let body = Body::from_json(Kind::SettlementConfirmation, &value, "body").unwrap();
        let written = mt::from_ism(&body).unwrap();
        prop_assert!(written.unrepresented.is_empty());
        let read = mt::to_ism(&written.value).unwrap();
        prop_assert_eq!(&read.value, &body);
        prop_assert_eq!(mt::from_ism(&read.value).unwrap().value, written.value);
    }

    #[test]
    fn statuses_survive_ism_to_mt_to_ism_or_report_what_is_lost(value in status_body()) {
        let body = Body::from_json(Kind::InstructionStatus, &value, "body").unwrap();
        match mt::from_ism(&body) {
            Ok(written) => {
                let read = mt::to_ism(&written.value).unwrap();
                prop_assert_eq!(read.value.to_json(), dialect_support::without_reported(&body.to_json(), &written.unrepresented));
                prop_assert_eq!(mt::from_ism(&read.value).unwrap().value, written.value);
            }
            Err(error) => {
                // Only a required reason too long for :70D: is refused.
                prop_assert_eq!(error.code, TranslateCode::NotRepresentable);
                prop_assert_eq!(error.field.as_deref(), Some("body.reason.text"));
            }
        }
    }
}

/// An account owner given by both BIC and LEI reads as the LEI in MT, as in
/// ISO 20022, and the BIC is reported, so a trade matches whatever dialect
/// each side used.
#[test]
fn account_owner_by_bic_and_lei_reads_as_the_lei_and_reports_the_bic() {
    let (_, text) = messages(&corpus_dir())
        .into_iter()
        .find(|(name, _)| name.starts_with("01-"))
        .expect("corpus message 01");
    let text = String::from_utf8(text).expect("utf-8");
    let both = text.replacen(
        ":95L::ALTE//549300ISTHMUSSELL015",
        ":95P::ACOW//CHASUS33\r\n:95L::ALTE//549300ISTHMUSSELL015",
        1,
    );
    assert_ne!(both, text);
    let translation = mt::to_ism(both.as_bytes()).expect("reads");
    assert_eq!(
        translation.value.to_json()["account_owner"],
        "549300ISTHMUSSELL015"
    );
    assert!(
        translation
            .unrepresented
            .iter()
            .any(|u| u.field.ends_with(":95P::ACOW//")),
        "{:?}",
        translation.unrepresented
    );
}
