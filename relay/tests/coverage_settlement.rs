//! Requirements of ISM-1 §9, §10.5, §12.1 and Appendix B that no other test
//! checked on its own (specs/requirements/ch09-12-codes-vectors-settlement.toml):
//! a relay takes a well-formed reason code it does not know as a refusal
//! explained by its text (§9.1 rule 2); every timing value of zero is refused
//! by name (§12.1 item 2); the bit patterns of `jcs/numbers.json`'s
//! `invalid_hex` have no canonical form (§10.5); and no published reason code
//! was removed or renamed (Appendix B rule 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;

use isthmus_relay::Phase;
use isthmus_spec::body::{Body, InstructionState};
use isthmus_spec::protocol::{error_body, SettlementReason, Timing};
use isthmus_spec::ReasonCode;
use support::*;

fn repository_file(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ----- ISM-1 §9.1 rule 2: a well-formed code the relay does not know -----

/// A gateway refuses a lock with a code that is in none of ISM/1's tables
/// (a code added later, or a custodian's own). The relay accepts the Error —
/// it answers no Error of its own — and treats it as a refusal explained by
/// its text: the settlement aborts with that code, and both gateways hear
/// CANCELLED with that code and the gateway's sentence.
#[test]
fn a_lock_refusal_with_a_code_ism1_does_not_define_aborts_with_that_code_and_its_text() {
    const UNKNOWN: &str = "CUSTODIAN_HOLD_7";
    const TEXT: &str = "the custodian put the account on hold";
    assert!(ReasonCode::from_wire(UNKNOWN).is_none(), "not a §9.2 code");
    assert!(
        SettlementReason::from_wire(UNKNOWN).is_none(),
        "not a §9.4 code"
    );
    assert!(
        !repository_file("specs/ISM-1.md").contains(UNKNOWN),
        "not a code the standard names anywhere"
    );

    let mut rig = Rig::new();
    let m = rig.match_pair(seller(), buyer());
    rig.now += 100;
    let refusal = Body::Error(error_body(UNKNOWN, TEXT, Some(&m.cash.1)));
    let (_, sent) = rig.send(GW_XASX, refusal);
    assert!(errors(&sent).is_empty(), "the Error is taken: {sent:#?}");

    let stored = rig.stored_settlement(&m.id);
    assert_eq!(stored.phase, Phase::Aborted);
    assert_eq!(stored.secret, None, "p is erased");
    let reason = stored.reason.expect("an aborted settlement has its reason");
    assert_eq!(reason.code.as_str(), UNKNOWN);
    assert!(
        reason.text.as_str().contains(TEXT),
        "{}",
        reason.text.as_str()
    );

    let cancelled = statuses(&sent);
    assert_eq!(cancelled.len(), 2, "{sent:#?}");
    for (to, status) in &cancelled {
        assert_eq!(status.status, InstructionState::Cancelled, "to {to}");
        assert_eq!(status.settlement_id.as_ref(), Some(&m.id), "to {to}");
        let why = status
            .reason
            .as_ref()
            .expect("CANCELLED carries its reason");
        assert_eq!(why.code.as_str(), UNKNOWN, "to {to}");
        assert!(
            why.text.as_str().contains(TEXT),
            "to {to}: {}",
            why.text.as_str()
        );
    }
    rig.advance_by(timing().securities_expiry_ms);
    assert!(
        claim_requests(&rig.sent.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>()).is_empty(),
        "nothing is revealed after the refusal"
    );
    rig.assert_no_violations();
}

// ----- ISM-1 §12.1 item 2: every value is positive -----

/// Each of the eight timing values set to zero is refused, and the refusal
/// names the value.
#[test]
fn every_timing_value_of_zero_is_refused_naming_it() {
    type Zero = fn(&mut Timing);
    let values: [(&str, Zero); 8] = [
        ("claim_window_ms", |t| t.claim_window_ms = 0),
        ("max_clock_skew_ms", |t| t.max_clock_skew_ms = 0),
        ("matching_window_ms", |t| t.matching_window_ms = 0),
        ("lock_window_ms", |t| t.lock_window_ms = 0),
        ("reveal_margin_ms", |t| t.reveal_margin_ms = 0),
        ("cash_expiry_ms", |t| t.cash_expiry_ms = 0),
        ("securities_expiry_ms", |t| t.securities_expiry_ms = 0),
        ("retransmit_ms", |t| t.retransmit_ms = 0),
    ];
    assert_eq!(config().check(), Ok(()));
    for (name, zero) in values {
        let mut t = timing();
        zero(&mut t);
        let refused = config_with(t).check().expect_err(name).to_string();
        assert!(refused.contains(name), "{name}: {refused}");
        assert!(refused.contains("must be positive"), "{name}: {refused}");
    }
}

// ----- ISM-1 §10.5: `invalid_hex` has no JSON form -----

/// The bit patterns of `jcs/numbers.json`'s `invalid_hex` (NaN, +Infinity)
/// are no finite double, so no JSON value holds them; and no JSON text that
/// would stand for them (`NaN`, `Infinity`, a number that rounds to
/// infinity) is canonicalised: each is refused, with no output.
#[test]
fn the_invalid_hex_patterns_of_the_number_vectors_get_no_canonical_form() {
    let file: serde_json::Value =
        serde_json::from_str(&repository_file("specs/vectors/jcs/numbers.json")).unwrap();
    let patterns = file["invalid_hex"].as_array().expect("an invalid_hex list");
    assert_eq!(patterns.len(), 2, "NaN and +Infinity");
    for pattern in patterns {
        let hex = pattern.as_str().expect("hex digits");
        let double = f64::from_bits(u64::from_str_radix(hex, 16).expect("64 bits in hex"));
        assert!(!double.is_finite(), "{hex} is NaN or an infinity");
        assert!(
            serde_json::Number::from_f64(double).is_none(),
            "{hex}: a JSON value cannot hold it, so the canonicaliser never meets it"
        );
    }
    for text in [
        "NaN",
        "Infinity",
        "+Infinity",
        "1e400",
        "[1e400]",
        "{\"a\":1e309}",
    ] {
        let refused = isthmus_spec::jcs::canonicalize(text.as_bytes())
            .expect_err(text)
            .code;
        assert_eq!(refused, ReasonCode::MalformedJson, "{text}");
    }
}

// ----- Appendix B rule 3: codes are never removed or renamed -----

/// Every reason code ISM/1 published, by table.
#[rustfmt::skip]
const SECTION_9_2: &[&str] = &[
    "INPUT_TOO_LARGE", "MALFORMED_JSON", "DUPLICATE_KEY", "NESTING_TOO_DEEP", "MISSING_FIELD",
    "UNKNOWN_FIELD", "WRONG_TYPE", "TEXT_INVALID", "TOO_MANY_ITEMS", "UNKNOWN_CODE",
    "VERSION_UNSUPPORTED", "KIND_UNKNOWN", "MESSAGE_ID_INVALID", "NODE_ID_INVALID",
    "SENDER_IS_RECEIVER", "TIMESTAMP_INVALID", "DATE_INVALID", "SETTLEMENT_BEFORE_TRADE",
    "ISIN_FORMAT", "ISIN_CHECK_DIGIT", "ISIN_PREFIX", "LEI_FORMAT", "LEI_CHECK_DIGITS",
    "BIC_FORMAT", "BIC_COUNTRY", "PARTY_ID_INVALID", "MIC_FORMAT", "MIC_UNKNOWN",
    "CURRENCY_UNKNOWN", "CURRENCY_NOT_SETTLEABLE", "DECIMAL_FORMAT", "DECIMAL_NOT_POSITIVE",
    "DECIMAL_TOO_MANY_DIGITS", "DECIMAL_TOO_MANY_DECIMALS", "HEX_INVALID", "INTEGER_INVALID",
    "AMOUNT_REQUIRED", "AMOUNT_NOT_ALLOWED", "PARTY_ID_CHOICE", "COUNTERPARTY_REQUIRED",
    "INSTRUCTION_INCOMPLETE", "PAIR_INVALID", "LEG_MARKET_CONFLICT", "ASSET_CHOICE",
    "EXPIRY_ORDER", "PREIMAGE_MISMATCH", "REASON_REQUIRED", "BALANCE_INCONSISTENT",
    "REASON_CODE_INVALID", "SIGNATURE_MISSING", "SIGNATURE_MALFORMED", "KEY_UNKNOWN",
    "SIGNATURE_INVALID", "FRAME_TOO_LARGE", "FRAME_TRUNCATED", "MESSAGE_REPLAYED",
    "RECEIVER_MISMATCH", "PEER_UNKNOWN", "FRAME_EXTRA", "FRAME_MISSING", "ROLE_FORBIDDEN",
    "ROLE_UNKNOWN", "MARKET_UNEXPECTED", "SIGNING_KEYS_MISSING", "MEMBER_DUPLICATE",
    "KEY_DUPLICATE", "CERTIFICATE_DUPLICATE", "MEMBER_MISSING", "BATCH_NESTED",
    "BATCH_MESSAGE_SIGNED", "BATCH_ADDRESS_MISMATCH",
];
#[rustfmt::skip]
const SECTION_9_3: &[&str] = &[
    "ACCOUNT_ID_INVALID", "ASSET_INVALID", "AMOUNT_INVALID", "AMOUNT_OVERFLOW", "HASH_LENGTH",
    "IDEMPOTENCY_KEY_INVALID", "IDEMPOTENCY_KEY_REUSED", "ACCOUNT_UNKNOWN", "ACCOUNT_EXISTS",
    "ACCOUNT_FROZEN", "ACCOUNT_NOT_FROZEN", "INSUFFICIENT_FUNDS", "SAME_ACCOUNT", "LOCK_UNKNOWN",
    "ENTRY_UNKNOWN", "LOCK_SETTLED", "LOCK_EXPIRED", "LOCK_NOT_EXPIRED", "EXPIRY_IN_PAST",
    "PREIMAGE_MISMATCH", "BATCH_TOO_LARGE", "STORE_FAILED", "JOURNAL_CORRUPT", "JOURNAL_FULL",
    "EXPIRY_PRECISION", "MARKET_MISMATCH", "DELIVERY_PENDING",
];
#[rustfmt::skip]
const SECTION_9_4: &[&str] = &[
    "MATCHING_EXPIRED", "INSTRUCTION_ID_REUSED", "UNMATCHED_ISIN", "UNMATCHED_PAYMENT",
    "UNMATCHED_SETTLEMENT_DATE", "UNMATCHED_QUANTITY", "UNMATCHED_CURRENCY", "UNMATCHED_AMOUNT",
    "UNMATCHED_COUNTERPARTY", "MARKET_UNSERVED", "SETTLEMENT_UNKNOWN", "SENDER_NOT_PARTY",
    "STATE_CONFLICT", "LEG_UNKNOWN", "HASHLOCK_MISMATCH", "EXPIRY_MISMATCH", "LOCK_ID_MISMATCH",
    "PROPOSAL_MISMATCH", "LOCK_DEADLINE_PASSED", "REVEAL_TOO_LATE", "CLAIM_WINDOW_MISSED",
];

/// The codes in the first column of the table between `start` and `end`.
fn table_codes(spec: &str, start: &str, end: &str) -> Vec<String> {
    let from = spec
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} is in the spec"));
    let to = from + spec[from + 1..].find(end).expect("the section ends") + 1;
    spec[from..to]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cell = line
                .trim_matches('|')
                .split(" | ")
                .next()
                .unwrap_or_default();
            cell.trim().trim_matches('`').to_string()
        })
        .collect()
}

/// The codes published in §9.2, §9.3 and §9.4 are all still in their tables
/// (codes may be added, never removed or renamed), and the reference
/// implementation still knows each §9.2 and §9.4 code by the same name.
#[test]
fn no_published_reason_code_is_removed_or_renamed() {
    let spec = repository_file("specs/ISM-1.md");
    for (section, published, start, end) in [
        ("§9.2", SECTION_9_2, "\n### 9.2 ", "\n### 9.3 "),
        ("§9.3", SECTION_9_3, "\n### 9.3 ", "\n### 9.4 "),
        ("§9.4", SECTION_9_4, "\n### 9.4 ", "\n---"),
    ] {
        let now = table_codes(&spec, start, end);
        for code in published {
            assert!(
                now.iter().any(|c| c == code),
                "{code} was published in {section} and is no longer in its table"
            );
        }
    }
    for code in SECTION_9_2 {
        assert_eq!(
            ReasonCode::from_wire(code).map(ReasonCode::as_str),
            Some(*code),
            "§9.2 {code}"
        );
    }
    for code in SECTION_9_4 {
        assert_eq!(
            SettlementReason::from_wire(code).map(SettlementReason::as_str),
            Some(*code),
            "§9.4 {code}"
        );
    }
}
