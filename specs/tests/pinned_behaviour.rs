//! Behaviours of identifiers, decimals, strict JSON, dates and timestamps,
//! reason codes and the test-vector checker pinned at their exact
//! boundaries, with published real-world identifiers and known dates (ISM-1
//! §3.1, §4.1, §4.6, §4.7, §4.8, §9.1, §10). Each test states one rule; the
//! values sit where a wrong operator or an off-by-one would change the outcome.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_spec::decimal::Decimal;
use isthmus_spec::ident::{Currency, Isin};
use isthmus_spec::jcs::{canonicalize, parse_strict};
use isthmus_spec::limits::{MAX_MESSAGE_BYTES, MAX_NESTING_DEPTH};
use isthmus_spec::ReasonCode;
use serde_json::{json, Value};

// ---------------------------------------------------------------- ISIN (ISM-1 §4.1)

/// Published ISINs with their issuer. Several put a letter's second digit (or
/// a digit after a letter in the body) where the Luhn step doubles it, so
/// both the letter expansion and the doubling are exercised.
const PUBLISHED_ISINS: &[(&str, &str)] = &[
    ("AU000000BHP4", "BHP Group"),
    ("GB0002634946", "BAE Systems"),
    ("US0378331005", "Apple"),
    ("DE000BAY0017", "Bayer"),
    ("CH0012032048", "Roche"),
    ("JP3633400001", "Toyota"),
    ("NL0000235190", "Airbus"),
    ("KYG875721634", "Tencent"),
    ("US02079K3059", "Alphabet class A"),
    ("IE00B4L5Y983", "iShares Core MSCI World UCITS ETF"),
    ("GB00BH4HKS39", "Vodafone"),
    ("US0231351067", "Amazon"),
    ("FR0000120271", "TotalEnergies"),
];

/// An independent ISO 6166 check, written from the rule rather than from the
/// crate's code: expand every character of the *whole* twelve-character ISIN
/// (letters A=10 … Z=35), then the classic Luhn validation, which doubles
/// every second digit counting from the right *excluding* the check digit, and
/// accepts when the total is a multiple of ten.
fn luhn_valid_isin(isin: &str) -> bool {
    let mut expanded = String::new();
    for ch in isin.chars() {
        let value = ch.to_digit(36).expect("alphanumeric");
        expanded.push_str(&value.to_string());
    }
    let mut total = 0;
    for (index_from_right, ch) in expanded.chars().rev().enumerate() {
        let digit = ch.to_digit(10).expect("digit");
        total += if index_from_right % 2 == 1 {
            let twice = digit * 2;
            if twice > 9 {
                twice - 9
            } else {
                twice
            }
        } else {
            digit
        };
    }
    total % 10 == 0
}

/// Whether some letter of the payload has a digit in a position the Luhn step
/// doubles (counted from the right of the expanded payload, rightmost doubled).
fn has_letter_digit_in_doubled_position(isin: &str) -> bool {
    let mut digits_from_letters = Vec::new();
    for ch in isin[..11].chars() {
        let value = ch.to_digit(36).expect("alphanumeric");
        for _ in value.to_string().chars() {
            digits_from_letters.push(value >= 10);
        }
    }
    digits_from_letters
        .iter()
        .rev()
        .enumerate()
        .any(|(position, &from_letter)| from_letter && position % 2 == 0)
}

fn with_check_digit(isin: &str, digit: char) -> String {
    format!("{}{digit}", &isin[..11])
}

/// The prefixes ISM-1 §4.1 item 3 accepts, read from the spec itself: the
/// country codes of Table 4 and the ISIN prefixes of Table 3.
fn prefixes_of_the_spec() -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ISM-1.md")).unwrap();
    let table = |heading: &str| {
        let start = text
            .find(heading)
            .unwrap_or_else(|| panic!("the spec has {heading}"));
        let rest = &text[start..];
        &rest[..rest.find("\n#").unwrap_or(rest.len())]
    };
    let mut prefixes = std::collections::BTreeSet::new();
    let countries = table("**Table 4 — Country codes");
    let line = countries
        .lines()
        .find(|l| l.starts_with("> "))
        .expect("Table 4 lists its codes");
    prefixes.extend(line[2..].split_whitespace().map(str::to_string));
    for row in table("**Table 3 — ISIN prefixes")
        .lines()
        .filter(|l| l.starts_with("| `"))
    {
        prefixes.insert(row[3..5].to_string());
    }
    assert_eq!(
        prefixes.len(),
        250 + 8,
        "Table 4's 250 countries and Table 3's 8 prefixes"
    );
    prefixes
}

/// The check digit that makes `payload` (eleven characters) a Luhn-valid ISIN.
fn completed(payload: &str) -> String {
    let digit = ('0'..='9')
        .find(|d| luhn_valid_isin(&format!("{payload}{d}")))
        .expect("one digit completes every payload");
    format!("{payload}{digit}")
}

#[test]
fn published_isins_pass_an_independent_luhn_check_and_parse() {
    for &(isin, issuer) in PUBLISHED_ISINS {
        assert!(luhn_valid_isin(isin), "{isin} ({issuer}) fails ISO 6166");
        let parsed = Isin::parse(isin).unwrap_or_else(|r| panic!("{isin} ({issuer}): {r:?}"));
        assert_eq!(parsed.as_str(), isin);
    }
    // The set really does put letters where the doubling happens, and in
    // positions where it does not.
    assert!(
        PUBLISHED_ISINS
            .iter()
            .filter(|(isin, _)| has_letter_digit_in_doubled_position(isin))
            .count()
            >= 5
    );
}

#[test]
fn isin_with_any_other_check_digit_is_refused_for_its_check_digit() {
    for &(isin, issuer) in PUBLISHED_ISINS {
        let mut accepted = Vec::new();
        for digit in '0'..='9' {
            let candidate = with_check_digit(isin, digit);
            // The oracle and the parser agree on every one of the ten endings.
            assert_eq!(
                luhn_valid_isin(&candidate),
                Isin::parse(&candidate).is_ok(),
                "{candidate} ({issuer})"
            );
            match Isin::parse(&candidate) {
                Ok(_) => accepted.push(candidate),
                Err(rejection) => assert_eq!(
                    rejection.code,
                    ReasonCode::IsinCheckDigit,
                    "{candidate} ({issuer})"
                ),
            }
        }
        assert_eq!(accepted, vec![isin.to_string()], "{issuer}");
    }
}

#[test]
fn isin_check_digit_depends_on_every_letter_of_the_body() {
    // Replacing one body letter by another changes the check digit unless
    // the two letters expand to digits with the same Luhn contribution; the
    // oracle and the parser must agree on every such variant.
    let prefixes = prefixes_of_the_spec();
    for &(isin, issuer) in PUBLISHED_ISINS {
        for position in 0..11 {
            for replacement in ('A'..='Z').chain('0'..='9') {
                if position < 2 && !replacement.is_ascii_uppercase() {
                    continue;
                }
                let mut changed: Vec<char> = isin.chars().collect();
                changed[position] = replacement;
                let changed: String = changed.into_iter().collect();
                // The check digit first, then the prefix (ISM-1 §4.1 items 2, 3).
                let expected = if !luhn_valid_isin(&changed) {
                    Some(ReasonCode::IsinCheckDigit)
                } else if !prefixes.contains(&changed[..2]) {
                    Some(ReasonCode::IsinPrefix)
                } else {
                    None
                };
                let result = Isin::parse(&changed);
                assert_eq!(
                    result.err().map(|r| r.code),
                    expected,
                    "{changed} (from {issuer})"
                );
            }
        }
    }
}

#[test]
fn every_two_letter_prefix_is_accepted_exactly_when_the_spec_lists_it() {
    // ISM-1 §4.1 item 3, over all 676 prefixes, each on an ISIN whose check
    // digit is right, so that only the prefix decides.
    let prefixes = prefixes_of_the_spec();
    for first in 'A'..='Z' {
        for second in 'A'..='Z' {
            let isin = completed(&format!("{first}{second}037833100"));
            let result = Isin::parse(&isin).err().map(|r| r.code);
            if prefixes.contains(&isin[..2]) {
                assert_eq!(result, None, "{isin}");
            } else {
                assert_eq!(result, Some(ReasonCode::IsinPrefix), "{isin}");
            }
        }
    }
}

#[test]
fn isins_under_the_non_country_prefixes_are_accepted_and_internal_ones_refused() {
    // Published: a Eurobond (XS), EU ETS emission allowances (EU, listed by
    // the European Commission), Schlumberger (AN, the Netherlands Antilles'
    // withdrawn code, which its ISIN keeps).
    for isin in [
        "XS2075811781",
        "XS1050461034",
        "EU000A1RRN98",
        "AN8068571086",
    ] {
        assert!(Isin::parse(isin).is_ok(), "{isin}");
    }
    // A bank's internal number (XF, not unique between banks) and Euroclear
    // France's provisional ones (QS): check digits right, prefixes refused.
    for isin in ["XF0000C14922", "QS0000003564", "QQ0000000000"] {
        let refused = Isin::parse(isin).unwrap_err();
        assert_eq!(refused.code, ReasonCode::IsinPrefix, "{isin}");
        assert!(
            refused
                .message
                .contains(&format!("begins with \"{}\"", &isin[..2])),
            "{}",
            refused.message
        );
    }
}

#[test]
fn isin_prefix_is_its_first_two_letters() {
    let prefix = |isin: &str| Isin::parse(isin).map(|i| i.prefix().to_string()).unwrap();
    assert_eq!(prefix("AU000000BHP4"), "AU");
    assert_eq!(prefix("GB0002634946"), "GB");
    assert_eq!(prefix("US0378331005"), "US");
    assert_eq!(prefix("DE000BAY0017"), "DE");
    assert_eq!(prefix("CH0012032048"), "CH");
    assert_eq!(prefix("JP3633400001"), "JP");
    assert_eq!(prefix("NL0000235190"), "NL");
    assert_eq!(prefix("KYG875721634"), "KY");
}

// ------------------------------------------------------------- Decimal (ISM-1 §4.7)

fn decimal(text: &str) -> Decimal {
    Decimal::parse(text).unwrap_or_else(|r| panic!("{text}: {r:?}"))
}

fn decimal_code(text: &str) -> Option<ReasonCode> {
    Decimal::parse(text).err().map(|r| r.code)
}

#[test]
fn decimal_needs_integer_digits_before_the_point() {
    assert_eq!(decimal_code(".5"), Some(ReasonCode::DecimalFormat));
    assert_eq!(decimal_code(".05"), Some(ReasonCode::DecimalFormat));
    assert_eq!(decimal("0.5").mantissa(), 5);
}

#[test]
fn decimal_integer_part_must_be_all_digits_even_when_the_fraction_is() {
    // A non-digit integer part with a well-formed fraction, and a non-digit
    // integer part without any fraction, are both malformed.
    for bad in ["1x.5", "x.5", "1e3", "1x", "+1", "1-"] {
        assert_eq!(decimal_code(bad), Some(ReasonCode::DecimalFormat), "{bad}");
    }
    assert_eq!(decimal("12.5").mantissa(), 125);
}

#[test]
fn decimal_fraction_must_be_all_digits_even_when_the_integer_is() {
    for bad in ["1.x", "1.5x", "12.x5", "1.5e3", "1.-5", "0.+5"] {
        assert_eq!(decimal_code(bad), Some(ReasonCode::DecimalFormat), "{bad}");
    }
    assert_eq!(decimal("1.25").mantissa(), 125);
}

#[test]
fn decimal_leading_zero_is_allowed_only_as_the_whole_integer_part() {
    // One-character integer part "0": allowed (it is not a leading zero).
    let half = decimal("0.5");
    assert_eq!((half.mantissa(), half.scale()), (5, 1));
    // Several characters starting with '0': refused, with or without fraction.
    for bad in ["00", "01", "05.5", "00.5", "007"] {
        assert_eq!(decimal_code(bad), Some(ReasonCode::DecimalFormat), "{bad}");
    }
    // Several characters not starting with '0', and a single non-zero digit:
    // both fine, including zeros after the first digit.
    assert_eq!(decimal("10").mantissa(), 10);
    assert_eq!(decimal("100.05").mantissa(), 10005);
    assert_eq!(decimal("7").mantissa(), 7);
}

#[test]
fn decimal_negative_only_when_the_text_after_the_sign_is_a_decimal() {
    assert_eq!(decimal_code("-12.5"), Some(ReasonCode::DecimalNotPositive));
    assert_eq!(decimal_code("-0.5"), Some(ReasonCode::DecimalNotPositive));
    assert_eq!(decimal_code("-1x.5"), Some(ReasonCode::DecimalFormat));
    assert_eq!(decimal_code("-1.x"), Some(ReasonCode::DecimalFormat));
    assert_eq!(decimal_code("-05"), Some(ReasonCode::DecimalFormat));
}

#[test]
fn decimal_from_minor_units_when_digits_exactly_fill_the_fraction() {
    let text = |minor, scale| Decimal::from_minor_units(minor, scale).map(|d| d.to_string());
    // As many digits as the scale: "0." then all of them.
    assert_eq!(text(12, 2).as_deref(), Some("0.12"));
    assert_eq!(text(5, 1).as_deref(), Some("0.5"));
    assert_eq!(text(999_999, 6).as_deref(), Some("0.999999"));
    // One digit more than the scale: the first digit is the integer part.
    assert_eq!(text(123, 2).as_deref(), Some("1.23"));
    assert_eq!(text(10, 1).as_deref(), Some("1.0"));
    // One digit fewer: zeros are padded after the point.
    assert_eq!(text(5, 2).as_deref(), Some("0.05"));
    // The value is kept: 0.12 is 12 hundredths.
    let cents = Decimal::from_minor_units(12, 2).unwrap();
    assert_eq!(cents.to_minor_units(2), Some(12));
}

#[test]
fn decimals_of_different_value_are_not_the_same_value() {
    let pairs = [
        ("1.5", "1.05"),
        ("1", "2"),
        ("10", "1"),
        ("0.1", "0.01"),
        ("123456789012345678", "123456789012345677"),
    ];
    for (a, b) in pairs {
        assert!(!decimal(a).same_value(&decimal(b)), "{a} vs {b}");
        assert!(!decimal(b).same_value(&decimal(a)), "{b} vs {a}");
    }
}

#[test]
fn decimals_of_equal_value_are_the_same_value_at_any_scale() {
    let pairs = [
        ("1", "1.000"),
        ("1.50", "1.5"),
        ("0.10", "0.1000000"),
        ("100", "100.0"),
    ];
    for (a, b) in pairs {
        let (a, b) = (decimal(a), decimal(b));
        assert_ne!(a, b, "different texts are different decimals");
        assert!(a.same_value(&b) && b.same_value(&a), "{a} vs {b}");
    }
    assert!(decimal("2.5").same_value(&decimal("2.5")));
}

// ----------------------------------------------------------- Strict JSON (ISM-1 §3.1)

/// A JSON string literal of exactly `len` bytes (`len >= 2`).
fn string_document(len: usize) -> Vec<u8> {
    let mut document = vec![b'a'; len];
    document[0] = b'"';
    document[len - 1] = b'"';
    document
}

#[test]
fn input_of_exactly_the_maximum_size_is_accepted() {
    let document = string_document(MAX_MESSAGE_BYTES);
    assert_eq!(document.len(), MAX_MESSAGE_BYTES);
    let value = parse_strict(&document, MAX_NESTING_DEPTH).unwrap();
    assert_eq!(value.as_str().map(str::len), Some(MAX_MESSAGE_BYTES - 2));
    assert_eq!(canonicalize(&document).unwrap(), document);
}

#[test]
fn input_one_byte_over_the_maximum_size_is_refused_as_too_large() {
    // Otherwise well-formed, so only the size can be the reason.
    let document = string_document(MAX_MESSAGE_BYTES + 1);
    assert_eq!(
        parse_strict(&document, MAX_NESTING_DEPTH).map_err(|r| r.code),
        Err(ReasonCode::InputTooLarge)
    );
    assert_eq!(
        canonicalize(&document).map_err(|r| r.code),
        Err(ReasonCode::InputTooLarge)
    );
}

fn strict(text: &str) -> Value {
    parse_strict(text.as_bytes(), MAX_NESTING_DEPTH).unwrap_or_else(|r| panic!("{text}: {r:?}"))
}

#[test]
fn strict_parse_keeps_booleans() {
    assert_eq!(strict("true"), Value::Bool(true));
    assert_eq!(strict("false"), Value::Bool(false));
    assert_eq!(strict("[true,false]"), json!([true, false]));
}

#[test]
fn strict_parse_keeps_negative_integers_as_signed_integers() {
    let value = strict("-5");
    assert_eq!(value.as_i64(), Some(-5));
    assert!(value.is_i64() && !value.is_u64() && !value.is_f64());
    assert_eq!(strict("-9223372036854775808").as_i64(), Some(i64::MIN));
    assert_eq!(strict(r#"{"n":-1}"#), json!({"n": -1}));
}

#[test]
fn strict_parse_keeps_non_negative_integers_as_unsigned_integers() {
    let value = strict("42");
    assert_eq!(value.as_u64(), Some(42));
    assert!(value.is_u64() && !value.is_f64());
    assert_eq!(strict("0").as_u64(), Some(0));
    assert_eq!(strict("18446744073709551615").as_u64(), Some(u64::MAX));
    assert_eq!(strict("[7]"), json!([7]));
}

#[test]
fn strict_parse_keeps_fractional_and_exponent_numbers_as_doubles() {
    let value = strict("1.5");
    assert_eq!(value.as_f64(), Some(1.5));
    assert!(value.is_f64());
    assert_eq!(strict("-2.25").as_f64(), Some(-2.25));
    assert_eq!(strict("1e3").as_f64(), Some(1000.0));
    // Beyond u64 the integer becomes the nearest double.
    assert_eq!(
        strict("18446744073709551616").as_f64(),
        Some(18_446_744_073_709_551_616.0)
    );
}

#[test]
fn strict_parse_keeps_strings_with_and_without_escapes() {
    // Without escapes the text is borrowed from the input.
    assert_eq!(strict(r#""plain""#), Value::String("plain".into()));
    assert_eq!(strict(r#""""#), Value::String(String::new()));
    // With escapes it is decoded into a buffer first.
    assert_eq!(strict(r#""a\nb""#), Value::String("a\nb".into()));
    assert_eq!(strict(r#""\u00e9\"""#), Value::String("é\"".into()));
    assert_eq!(
        strict(r#"{"k":"v\t","w":"x"}"#),
        json!({"k": "v\t", "w": "x"})
    );
}

#[test]
fn strict_parse_keeps_null_arrays_and_objects() {
    assert_eq!(strict("null"), Value::Null);
    assert_eq!(strict("[]"), json!([]));
    assert_eq!(strict("{}"), json!({}));
    assert_eq!(
        strict(r#"{"a":[1,-1,1.5,"s",true,null,{}],"b":{"c":false}}"#),
        json!({"a": [1, -1, 1.5, "s", true, null, {}], "b": {"c": false}})
    );
}

// ------------------------------------------------------------ Currency (ISM-1 §4.6)

#[test]
fn currency_names_are_the_iso_4217_names() {
    let name = |code: &str| Currency::parse(code).unwrap().name();
    assert_eq!(name("USD"), "US Dollar");
    assert_eq!(name("EUR"), "Euro");
    assert_eq!(name("JPY"), "Yen");
    assert_eq!(name("GBP"), "Pound Sterling");
    assert_eq!(name("CHF"), "Swiss Franc");
    assert_eq!(name("AED"), "UAE Dirham");
    assert_eq!(name("XAU"), "Gold");
    assert_eq!(name("XCG"), "Caribbean Guilder");
    assert_eq!(name("ZWG"), "Zimbabwe Gold");
}

#[test]
fn all_codes_lists_every_active_code_once_in_sorted_order() {
    let codes: Vec<&str> = Currency::all_codes().collect();
    // 178 distinct alphabetic codes in ISO 4217 List One of 2026-01-01.
    assert_eq!(codes.len(), 178);
    assert_eq!(codes.first(), Some(&"AED"));
    assert_eq!(codes.last(), Some(&"ZWG"));
    for pair in codes.windows(2) {
        assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
    }
    for code in &codes {
        let currency = Currency::parse(code).unwrap();
        assert_eq!(currency.as_str(), *code);
        assert!(!currency.name().is_empty(), "{code}");
    }
    for expected in ["USD", "EUR", "JPY", "XAD", "XCG", "ZWG"] {
        assert!(codes.contains(&expected), "{expected}");
    }
    for withdrawn in ["ANG", "BGN", "CUC", "HRK", "ZWL"] {
        assert!(!codes.contains(&withdrawn), "{withdrawn}");
    }
}

/// A frame of exactly the largest message size decodes; a length prefix one
/// byte larger is refused before any payload is read (ISM-1 §8.2).
#[test]
fn a_frame_of_exactly_the_maximum_decodes_and_one_byte_more_is_refused() {
    use isthmus_spec::frame::{encode_frame, FrameDecoder};
    use isthmus_spec::limits::MAX_MESSAGE_BYTES;
    let payload = vec![b'x'; MAX_MESSAGE_BYTES];
    let frame = encode_frame(&payload).unwrap();
    let mut decoder = FrameDecoder::new();
    decoder.push(&frame);
    assert_eq!(decoder.next_frame().unwrap(), Some(payload));
    let mut decoder = FrameDecoder::new();
    decoder.push(&(MAX_MESSAGE_BYTES as u32 + 1).to_be_bytes());
    assert_eq!(
        decoder.next_frame().unwrap_err().code,
        isthmus_spec::ReasonCode::FrameTooLarge
    );
}

/// A member of the wrong JSON type is refused with a sentence naming what
/// was expected and what was found.
#[test]
fn a_wrong_type_names_what_was_found() {
    use isthmus_spec::json::Json;
    let cases = [
        (serde_json::json!(7), "a number"),
        (serde_json::json!(true), "a boolean"),
        (serde_json::json!(null), "null"),
        (serde_json::json!([]), "an array"),
        (serde_json::json!({}), "an object"),
    ];
    for (value, found) in cases {
        let refused = isthmus_spec::ids::Reference::from_json(&value, "settlement_id").unwrap_err();
        assert_eq!(refused.code, isthmus_spec::ReasonCode::WrongType);
        assert!(
            refused
                .message
                .contains(&format!("expected a string, found {found}")),
            "{}",
            refused.message
        );
    }
    let refused =
        isthmus_spec::body::AccountRef::from_json(&serde_json::json!("DEUTDEFF/A"), "from")
            .unwrap_err();
    assert!(
        refused
            .message
            .contains("expected an object, found a string"),
        "{}",
        refused.message
    );
}

/// A confirmation carries a settlement amount and a cash journal exactly
/// when it is against payment (ISM-1 §6.8).
#[test]
fn a_confirmation_carries_cash_exactly_when_against_payment() {
    use isthmus_spec::json::Json;
    let body_of = |vector: &str| {
        let path = format!("{}/vectors/valid/{vector}", env!("CARGO_MANIFEST_DIR"));
        let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        file["input"]["body"].clone()
    };
    let decode = |body: &Value| isthmus_spec::body::SettlementConfirmation::from_json(body, "body");
    let against = body_of("14-confirmation-against-payment.json");
    let free = body_of("15-confirmation-free-of-payment.json");
    assert!(decode(&against).is_ok() && decode(&free).is_ok());
    for missing in ["settlement_amount", "cash_journal"] {
        let mut body = against.clone();
        body.as_object_mut().unwrap().remove(missing);
        let refused = decode(&body).unwrap_err();
        assert_eq!(
            (refused.code, refused.field.as_deref()),
            (
                ReasonCode::AmountRequired,
                Some(format!("body.{missing}").as_str())
            )
        );
    }
    for extra in ["settlement_amount", "cash_journal"] {
        let mut body = free.clone();
        body[extra] = against[extra].clone();
        let refused = decode(&body).unwrap_err();
        assert_eq!(
            (refused.code, refused.field.as_deref()),
            (
                ReasonCode::AmountNotAllowed,
                Some(format!("body.{extra}").as_str())
            )
        );
    }
}

/// A public key record whose key id is not its key's is refused (ISM-1 §7.4).
#[test]
fn a_public_key_record_must_name_its_own_key_id() {
    use isthmus_spec::json::Json;
    use isthmus_spec::sign::PublicKeyRecord;
    let path = format!("{}/vectors/test-key.pub.json", env!("CARGO_MANIFEST_DIR"));
    let mut record: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(PublicKeyRecord::from_json(&record, "").is_ok());
    record["key_id"] = json!("00000000000000000000000000000000");
    let refused = PublicKeyRecord::from_json(&record, "").unwrap_err();
    assert_eq!(
        (refused.code, refused.field.as_deref()),
        (ReasonCode::SignatureMalformed, Some("key_id"))
    );
}

/// A list of exactly the maximum length decodes; one more entry is refused.
#[test]
fn a_list_of_exactly_the_maximum_length_decodes() {
    use isthmus_spec::ids::Reference;
    use isthmus_spec::json::Json;
    use isthmus_spec::limits::MAX_LIST_ITEMS;
    let list = |n: usize| Value::Array(vec![json!("REF-1"); n]);
    assert_eq!(
        Vec::<Reference>::from_json(&list(MAX_LIST_ITEMS), "refs")
            .unwrap()
            .len(),
        MAX_LIST_ITEMS
    );
    assert_eq!(
        Vec::<Reference>::from_json(&list(MAX_LIST_ITEMS + 1), "refs")
            .unwrap_err()
            .code,
        ReasonCode::TooManyItems
    );
}

/// An optional value writes as its inner value, or as nothing at all.
#[test]
fn an_optional_value_writes_as_its_inner_value_or_null() {
    use isthmus_spec::ids::Reference;
    use isthmus_spec::json::Json;
    let some = Some(Reference::parse("REF-1").unwrap());
    assert_eq!(some.to_json(), json!("REF-1"));
    assert_eq!(None::<Reference>.to_json(), Value::Null);
    let mut members = serde_json::Map::new();
    None::<Reference>.write_member("absent", &mut members);
    some.write_member("present", &mut members);
    assert_eq!(Value::Object(members), json!({"present": "REF-1"}));
}

/// A keyring counts its keys; a signing key's debug form shows its key id,
/// never the private key.
#[test]
fn keyrings_count_keys_and_signing_keys_never_print_their_secret() {
    use isthmus_spec::sign::{Keyring, SigningKey};
    let key = SigningKey::from_seed(&[5; 32]).unwrap();
    let mut keyring = Keyring::new();
    assert!(keyring.is_empty());
    assert_eq!(keyring.len(), 0);
    keyring.insert(key.public_key());
    keyring.insert(SigningKey::from_seed(&[6; 32]).unwrap().public_key());
    keyring.insert(key.public_key());
    assert!(!keyring.is_empty());
    assert_eq!(keyring.len(), 2, "one entry per key");
    let shown = format!("{key:?}");
    assert_eq!(shown, format!("SigningKey({})", key.public_key().key_id()));
}

/// An account reads and writes as OWNER/ACCOUNT.
#[test]
fn an_account_displays_as_owner_slash_account() {
    use isthmus_spec::body::AccountRef;
    let account = AccountRef::parse_text("549300ISTHMUSSELL015/SAFE/7").unwrap();
    assert_eq!(account.to_string(), "549300ISTHMUSSELL015/SAFE/7");
    assert_eq!(account.account.as_str(), "SAFE/7");
    assert_eq!(
        AccountRef::parse_text(&account.to_string()).unwrap(),
        account
    );
}

fn vector_body(vector: &str) -> Value {
    let path = format!("{}/vectors/valid/{vector}", env!("CARGO_MANIFEST_DIR"));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file["input"]["body"].clone()
}

/// A lock names exactly the asset of its leg: a securities lock that also
/// names cash, or a cash lock that also names securities, is refused (ISM-1 §6.4).
#[test]
fn a_lock_naming_both_assets_is_refused() {
    use isthmus_spec::body::LockRequest;
    use isthmus_spec::json::Json;
    let securities = vector_body("08-lock-request-securities.json");
    let cash = vector_body("09-lock-request-cash.json");
    for (mut body, other) in [
        (securities.clone(), ("cash", cash["cash"].clone())),
        (
            cash.clone(),
            ("securities", securities["securities"].clone()),
        ),
    ] {
        assert!(LockRequest::from_json(&body, "body").is_ok());
        body[other.0] = other.1;
        assert_eq!(
            LockRequest::from_json(&body, "body").unwrap_err().code,
            ReasonCode::AssetChoice
        );
    }
}

/// A proposal is free of payment exactly when it has no cash leg, and its
/// rules apply in the order of ISM-1 §6.3: a cash leg without an amount
/// (rule 1) is reported before the expiry order (rule 3), an amount without a
/// cash leg (rule 2) before anything about expiries, and a free-of-payment
/// proposal has no T1 for its securities leg to follow.
#[test]
fn a_proposal_carries_an_amount_exactly_with_a_cash_leg_checked_in_order() {
    use isthmus_spec::body::SettlementProposal;
    use isthmus_spec::json::Json;
    let refusal = |body: &Value| {
        let refused = SettlementProposal::from_json(body, "body").unwrap_err();
        (refused.code, refused.field)
    };
    let against = vector_body("07-settlement-proposal.json");
    let free = vector_body("41-settlement-proposal-free-of-payment.json");
    let decoded = SettlementProposal::from_json(&against, "body").unwrap();
    assert!(decoded.cash_leg.is_some() && decoded.settlement_amount.is_some());
    let decoded = SettlementProposal::from_json(&free, "body").unwrap();
    assert!(decoded.cash_leg.is_none() && decoded.settlement_amount.is_none());
    // 13:00 is before valid/07's T1 (14:00): the securities leg would expire first.
    let early = json!("2026-11-27T13:00:00Z");
    let amount_field = Some("body.settlement_amount".to_string());

    // Rule 1, even when the expiries are also out of order.
    let mut body = against.clone();
    body.as_object_mut().unwrap().remove("settlement_amount");
    assert_eq!(
        refusal(&body),
        (ReasonCode::AmountRequired, amount_field.clone())
    );
    body["securities_leg"]["expires_at"] = early.clone();
    assert_eq!(
        refusal(&body),
        (ReasonCode::AmountRequired, amount_field.clone())
    );

    // Rule 2, with or without an early securities leg.
    let mut body = free.clone();
    body["settlement_amount"] = against["settlement_amount"].clone();
    assert_eq!(
        refusal(&body),
        (ReasonCode::AmountNotAllowed, amount_field.clone())
    );
    body["securities_leg"]["expires_at"] = early.clone();
    assert_eq!(refusal(&body), (ReasonCode::AmountNotAllowed, amount_field));

    // Free of payment, the securities leg's expiry is before nothing: valid.
    let mut body = free.clone();
    body["securities_leg"]["expires_at"] = early.clone();
    assert!(SettlementProposal::from_json(&body, "body").is_ok());

    // Rule 3 still holds against payment.
    let mut body = against.clone();
    body["securities_leg"]["expires_at"] = early;
    assert_eq!(
        refusal(&body),
        (
            ReasonCode::ExpiryOrder,
            Some("body.securities_leg.expires_at".to_string())
        )
    );
}

/// A claim receipt's preimage must open its hashlock, as a claim request's
/// must (ISM-1 §6.6).
#[test]
fn a_claim_receipt_with_a_wrong_preimage_is_refused() {
    use isthmus_spec::body::ClaimReceipt;
    use isthmus_spec::json::Json;
    let mut body = vector_body("12-claim-receipt.json");
    assert!(ClaimReceipt::from_json(&body, "body").is_ok());
    body["preimage"] = json!("00".repeat(32));
    let refused = ClaimReceipt::from_json(&body, "body").unwrap_err();
    assert_eq!(
        (refused.code, refused.field.as_deref()),
        (ReasonCode::PreimageMismatch, Some("body.preimage"))
    );
}

/// A holdings statement lists each ISIN once, in ISIN order (ISM-1 §6.9).
#[test]
fn a_holdings_statement_lists_each_isin_once_in_order() {
    use isthmus_spec::body::HoldingsStatement;
    use isthmus_spec::json::Json;
    let body = vector_body("16-holdings-statement.json");
    assert!(HoldingsStatement::from_json(&body, "body").is_ok());
    let mut reversed = body.clone();
    reversed["balances"].as_array_mut().unwrap().reverse();
    let mut repeated = body.clone();
    let first = repeated["balances"][0].clone();
    repeated["balances"][1] = first;
    for bad in [reversed, repeated] {
        assert_eq!(
            HoldingsStatement::from_json(&bad, "body").unwrap_err().code,
            ReasonCode::BalanceInconsistent
        );
    }
}

// ------------------------------------------------- Dates and timestamps (ISM-1 §4.8)

/// Both separators of a date must be `-`: a date with either one wrong is
/// refused, alone or as the date part of a timestamp.
#[test]
fn a_date_needs_a_hyphen_at_both_separators() {
    use isthmus_spec::time::{Date, Timestamp};
    assert!(Date::parse("2026-11-25").is_ok());
    for bad in ["2026/11-25", "2026-11/25", "2026 11-25", "2026-11x25"] {
        assert_eq!(
            Date::parse(bad).unwrap_err().code,
            ReasonCode::DateInvalid,
            "{bad}"
        );
        let stamp = format!("{bad}T12:00:00Z");
        assert_eq!(
            Timestamp::parse(&stamp).unwrap_err().code,
            ReasonCode::TimestampInvalid,
            "{stamp}"
        );
    }
}

/// Days since 1970-01-01 of known dates (counted independently, e.g. with
/// Python's `datetime.date`): the epoch itself is day 0, dates before it are
/// negative, and leap days count.
#[test]
fn days_since_epoch_of_known_dates() {
    use isthmus_spec::time::Date;
    let days = |text: &str| Date::parse(text).unwrap().days_since_epoch();
    for (date, expected) in [
        ("1970-01-01", 0),
        ("1970-01-02", 1),
        ("1969-12-31", -1),
        ("1999-12-31", 10_956),
        ("2000-02-29", 11_016),
        ("2000-03-01", 11_017),
        ("2024-02-29", 19_782),
        ("1900-02-28", -25_509),
        ("1900-03-01", -25_508),
        ("2100-02-28", 47_540),
        ("2100-03-01", 47_541),
        ("0001-01-01", -719_162),
        ("9999-12-31", 2_932_896),
    ] {
        assert_eq!(days(date), expected, "{date}");
    }
    assert!(Date::parse("2000-02-29").unwrap() < Date::parse("2000-03-01").unwrap());
}

/// `civil_from_days` names the date of a day count: known dates around leap
/// days, century years and the 400-year era boundaries (an era begins on
/// 1 March of a year divisible by 400), then every day of years 0001 to 9999
/// against a calendar counted day by day.
#[test]
fn civil_from_days_names_every_date_of_years_1_to_9999() {
    use isthmus_spec::time::{civil_from_days, Date};
    for (days, expected) in [
        (0, (1970, 1, 1)),
        (-1, (1969, 12, 31)),
        (11_016, (2000, 2, 29)),
        (11_017, (2000, 3, 1)),
        (11_015, (2000, 2, 28)),
        (-135_081, (1600, 2, 29)),
        (-135_080, (1600, 3, 1)),
        (157_113, (2400, 2, 29)),
        (157_114, (2400, 3, 1)),
        (-25_509, (1900, 2, 28)),
        (-25_508, (1900, 3, 1)),
        (47_540, (2100, 2, 28)),
        (47_541, (2100, 3, 1)),
        (-719_162, (1, 1, 1)),
        (2_932_896, (9999, 12, 31)),
    ] {
        assert_eq!(civil_from_days(days), expected, "day {days}");
    }
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = Date::parse("0001-01-01").unwrap().days_since_epoch();
    for year in 1..=9999 {
        for month in 1..=12 {
            let length = match month {
                4 | 6 | 9 | 11 => 30,
                2 if leap(year) => 29,
                2 => 28,
                _ => 31,
            };
            for day in 1..=length {
                let got = civil_from_days(days);
                if got != (year, month, day) {
                    panic!("day {days} is {year:04}-{month:02}-{day:02}, got {got:?}");
                }
                days += 1;
            }
        }
    }
    assert_eq!(
        days - 1,
        Date::parse("9999-12-31").unwrap().days_since_epoch()
    );
}

/// `from_unix_millis` covers years 1970 to 9999: the first millisecond of
/// the epoch and the last of year 9999 are written out, the first of year
/// 10000 has no ISM/1 form.
#[test]
fn from_unix_millis_stops_after_the_last_millisecond_of_9999() {
    use isthmus_spec::time::Timestamp;
    let text = |millis: u64| Timestamp::from_unix_millis(millis).map(|t| t.as_str().to_string());
    assert_eq!(text(0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
    assert_eq!(
        text(951_782_400_000).as_deref(),
        Some("2000-02-29T00:00:00.000Z")
    );
    let last_of_9999 = 253_402_300_799_999;
    assert_eq!(
        text(last_of_9999).as_deref(),
        Some("9999-12-31T23:59:59.999Z")
    );
    assert_eq!(
        Timestamp::from_unix_millis(last_of_9999).map(|t| t.unix_millis()),
        Some(i128::from(last_of_9999))
    );
    assert_eq!(text(last_of_9999 + 1), None, "10000-01-01T00:00:00.000Z");
    assert_eq!(text(u64::MAX), None);
}

/// Timestamps order by instant, and the same instant written two ways
/// orders by its text, so the order is total; `<`, `>` and `partial_cmp`
/// agree with `cmp`.
#[test]
fn timestamps_order_by_instant_with_the_comparison_operators() {
    use isthmus_spec::time::Timestamp;
    use std::cmp::Ordering;
    let at = |text: &str| Timestamp::parse(text).unwrap();
    let earlier = at("2026-11-25T09:00:00Z");
    let later = at("2026-11-25T09:00:00.000000001Z");
    assert!(earlier < later);
    assert!(later > earlier);
    assert!(earlier <= earlier.clone());
    assert_eq!(earlier.partial_cmp(&later), Some(Ordering::Less));
    assert_eq!(later.partial_cmp(&earlier), Some(Ordering::Greater));
    assert_eq!(earlier.partial_cmp(&earlier.clone()), Some(Ordering::Equal));
    // 1999 before 2000, whatever the text says after the year.
    assert!(at("1999-12-31T23:59:59.999Z") < at("2000-01-01T00:00:00Z"));
    // One instant, two texts: not equal, ordered by text ('.' < 'Z').
    let short = at("2026-11-25T09:00:00Z");
    let long = at("2026-11-25T09:00:00.000Z");
    assert_eq!(short.unix_nanos(), long.unix_nanos());
    assert_ne!(short, long);
    assert!(long < short);
    assert_eq!(long.partial_cmp(&short), Some(long.cmp(&short)));
    let mut stamps = vec![later.clone(), short.clone(), earlier.clone(), long.clone()];
    stamps.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(stamps, vec![long, short, earlier.clone(), later]);
    assert_eq!(stamps.iter().max(), stamps.last());
    assert_eq!(stamps.iter().min(), stamps.first());
    assert!(stamps[1] == earlier);
}

// --------------------------------------------------------- Reason codes (ISM-1 §9.1)

/// A reason code is 3 to 48 characters of `A-Z`, `0-9` and `_` starting with
/// a letter: 3 and 48 characters are accepted, 2 and 49 refused, and so is a
/// code of allowed characters that starts with a digit or `_`.
#[test]
fn a_reason_code_is_3_to_48_characters_starting_with_a_letter() {
    use isthmus_spec::ids::ReasonCodeText;
    let of_length = |n: usize| format!("A{}", "_9".repeat(n).get(..n - 1).unwrap());
    for n in [3, 4, 47, 48] {
        let code = of_length(n);
        assert_eq!(code.len(), n);
        assert_eq!(ReasonCodeText::parse(&code).unwrap().as_str(), code);
    }
    for n in [1, 2, 49, 50] {
        let code = of_length(n);
        assert_eq!(code.len(), n);
        assert_eq!(
            ReasonCodeText::parse(&code).unwrap_err().code,
            ReasonCode::ReasonCodeInvalid,
            "{code}"
        );
    }
    for good in ["ABC", "A1_", "Z__", "FUTURE_CODE_2"] {
        assert!(ReasonCodeText::parse(good).is_ok(), "{good}");
    }
    for bad in ["", "1AB", "_AB", "9_ISIN", "aBC", "AbC", "AB-C", "ÄBC"] {
        assert_eq!(
            ReasonCodeText::parse(bad).unwrap_err().code,
            ReasonCode::ReasonCodeInvalid,
            "{bad}"
        );
    }
}

// ------------------------------------------------------------ Test vectors (ISM-1 §10)

fn vector_text(path: &str) -> String {
    std::fs::read_to_string(format!("{}/vectors/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn vector_keys() -> isthmus_spec::vectors::TestKeys {
    isthmus_spec::vectors::TestKeys::parse(&vector_text("keys.json")).unwrap()
}

/// A vector file with one change to its JSON.
fn edited_vector(path: &str, edit: impl FnOnce(&mut Value)) -> isthmus_spec::vectors::Vector {
    let mut file: Value = serde_json::from_str(&vector_text(path)).unwrap();
    edit(&mut file);
    isthmus_spec::vectors::Vector::parse(&file.to_string()).unwrap()
}

/// A test key's seed must give both its published public key and its key
/// id: a key record with either one of another key is refused.
#[test]
fn a_test_key_must_match_both_its_public_key_and_its_key_id() {
    let keys = vector_keys();
    let key = keys.trusted[0].clone();
    let other = keys.untrusted[0].clone();
    let signing = key.signing_key().unwrap();
    assert_eq!(signing.public_key().to_string(), key.public_key);
    assert_eq!(signing.public_key().key_id().to_string(), key.key_id);
    let mut wrong_id = key.clone();
    wrong_id.key_id = other.key_id.clone();
    let mut wrong_public = key.clone();
    wrong_public.public_key = other.public_key.clone();
    let mut wrong_seed = key.clone();
    wrong_seed.seed = other.seed.clone();
    for bad in [wrong_id, wrong_public, wrong_seed] {
        let refused = bad.signing_key().unwrap_err();
        assert!(
            refused.contains("does not give the published public key and key id"),
            "{refused}"
        );
    }
    let crafted = &keys.trusted[1];
    assert!(crafted.signing_key().unwrap_err().contains("no seed"));
}

/// The checker finds every way an implementation can disagree with a
/// vector: different canonical bytes, digest or signature for a valid one,
/// another reason or member at fault for an invalid one, or the other verdict.
#[test]
fn a_vector_the_implementation_disagrees_with_fails_its_check() {
    let keys = vector_keys();
    let keyring = keys.keyring().unwrap();
    let signer = keys.trusted[0].signing_key().unwrap();
    let valid = "valid/05-status-accepted.json";
    let invalid = "invalid/12-missing-isin.json";
    let check = |vector: isthmus_spec::vectors::Vector| vector.check(&keyring, &signer);
    assert_eq!(check(edited_vector(valid, |_| {})), Ok(()));
    assert_eq!(check(edited_vector(invalid, |_| {})), Ok(()));
    let failures = [
        (
            edited_vector(valid, |v| {
                let bytes = v["expect"]["canonical_unsigned"].as_str().unwrap();
                v["expect"]["canonical_unsigned"] = json!(bytes.replace("ACCEPTED", "REJECTED"));
            }),
            "canonical bytes differ",
        ),
        (
            edited_vector(valid, |v| {
                v["expect"]["canonical_unsigned_sha256"] = json!("00".repeat(32));
            }),
            "SHA-256 differs",
        ),
        (
            edited_vector(valid, |v| {
                let other = vector_text("valid/01-instruction-deliver-against-payment-usd.json");
                let other: Value = serde_json::from_str(&other).unwrap();
                v["expect"]["signature"] = other["expect"]["signature"].clone();
            }),
            "does not carry the expected signature",
        ),
        (
            edited_vector(valid, |v| {
                v["expect"] = json!({"result": "invalid", "reason": "MISSING_FIELD"});
            }),
            "but the message was accepted",
        ),
        (
            edited_vector(invalid, |v| v["expect"]["reason"] = json!("WRONG_TYPE")),
            "expected WRONG_TYPE, got",
        ),
        (
            edited_vector(invalid, |v| v["expect"]["reason"] = json!("NO_SUCH_CODE")),
            "which is not an ISM/1 reason code",
        ),
        (
            edited_vector(invalid, |v| v["expect"]["field"] = json!("body.quantity")),
            "expected field",
        ),
        (
            edited_vector(invalid, |v| {
                v["expect"].as_object_mut().unwrap().remove("field");
            }),
            "expected field None",
        ),
        (
            edited_vector(invalid, |v| {
                let other = vector_text(valid);
                let other: Value = serde_json::from_str(&other).unwrap();
                v["expect"] = other["expect"].clone();
            }),
            "expected valid, got",
        ),
    ];
    for (vector, problem) in failures {
        let found = check(vector).unwrap_err();
        assert!(found.contains(problem), "{problem}: {found}");
    }
}

/// The canonical unsigned bytes of a message are the RFC 8785 form of the
/// message without its `signature` member: members sorted, no whitespace;
/// for every valid vector they are the bytes the vector publishes.
#[test]
fn canonical_unsigned_bytes_drop_the_signature_and_sort_members() {
    use isthmus_spec::vectors::{canonical_unsigned_of, Expectation, Vector};
    let message =
        json!({"version": "ISM/1", "body": {"b": "2", "a": "1"}, "signature": {"value": "x"}});
    assert_eq!(
        canonical_unsigned_of(&message),
        br#"{"body":{"a":"1","b":"2"},"version":"ISM/1"}"#.to_vec()
    );
    assert_eq!(
        canonical_unsigned_of(&json!({"signature": 1})),
        b"{}".to_vec()
    );
    assert_eq!(
        canonical_unsigned_of(&json!(["z", 1])),
        br#"["z",1]"#.to_vec()
    );
    let dir = format!("{}/vectors/valid", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let vector =
            Vector::parse(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let (
            Some(input),
            Expectation::Valid {
                canonical_unsigned, ..
            },
        ) = (&vector.input, &vector.expect)
        else {
            continue;
        };
        assert_eq!(
            String::from_utf8(canonical_unsigned_of(input)).unwrap(),
            *canonical_unsigned,
            "{}",
            vector.id
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked} valid vectors with a JSON input");
}

/// `input_hex` is lower-case hex, two digits a byte, high digit first.
#[test]
fn hex_decodes_to_known_bytes() {
    use isthmus_spec::vectors::decode_hex;
    assert_eq!(decode_hex(""), Some(vec![]));
    assert_eq!(
        decode_hex("00017f80a5c3ff"),
        Some(vec![0x00, 0x01, 0x7f, 0x80, 0xa5, 0xc3, 0xff])
    );
    assert_eq!(decode_hex("7b7d"), Some(b"{}".to_vec()));
    assert_eq!(
        decode_hex("0123456789abcdef"),
        Some(vec![0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef])
    );
    for bad in ["0", "abc", "0G", "FF", "ff ", " f", "-1"] {
        assert_eq!(decode_hex(bad), None, "{bad}");
    }
}

/// `pad_to_bytes` appends spaces up to its length and never shortens an
/// input; a message padded to exactly the size limit is accepted, one byte
/// more is refused (ISM-1 §3.1, §10.2).
#[test]
fn a_vector_padded_to_exactly_the_size_limit_is_accepted() {
    let keys = vector_keys();
    let keyring = keys.keyring().unwrap();
    let signer = keys.trusted[0].signing_key().unwrap();
    let text = |pad: Option<usize>| {
        edited_vector("valid/05-status-accepted.json", |v| {
            let input = v["input"].to_string();
            v.as_object_mut().unwrap().remove("input");
            v["input_text"] = json!(input);
            v["pad_to_bytes"] = json!(pad);
        })
    };
    let unpadded = text(None).input_bytes();
    let length = unpadded.len();
    assert_eq!(text(Some(length)).input_bytes(), unpadded);
    assert_eq!(text(Some(length - 1)).input_bytes(), unpadded);
    assert_eq!(text(Some(0)).input_bytes(), unpadded);
    let mut two_more = unpadded.clone();
    two_more.extend_from_slice(b"  ");
    assert_eq!(text(Some(length + 2)).input_bytes(), two_more);
    let at_limit = text(Some(MAX_MESSAGE_BYTES));
    assert_eq!(at_limit.input_bytes().len(), MAX_MESSAGE_BYTES);
    assert_eq!(at_limit.check(&keyring, &signer), Ok(()));
    let over = text(Some(MAX_MESSAGE_BYTES + 1));
    assert_eq!(
        isthmus_spec::validate(&over.input_bytes(), Some(&keyring))
            .unwrap_err()
            .code,
        ReasonCode::InputTooLarge
    );
}

/// The RFC 8785 cases checker reports a case whose published bytes differ
/// from the canonical form, and a case without its strings.
#[test]
fn a_jcs_case_with_wrong_bytes_fails_its_check() {
    use isthmus_spec::vectors::check_jcs_cases;
    let cases = json!({"cases": [
        {"name": "right", "input": "{\"b\":1, \"a\":2}", "canonical_hex": "7b2261223a322c2262223a317d"},
        {"name": "wrong", "input": "{\"b\":1, \"a\":2}", "canonical_hex": "7b2262223a312c2261223a327d"},
        {"name": "refused", "input": "{\"a\":1,\"a\":2}", "canonical_hex": "7b7d"},
        {"name": "incomplete", "input": "{}"},
    ]});
    let results = check_jcs_cases(&cases.to_string()).unwrap();
    let names: Vec<&str> = results.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["right", "wrong", "refused", "incomplete"]);
    assert_eq!(results[0].1, Ok(()));
    assert_eq!(results[1].1, Err(r#"got {"a":2,"b":1}"#.to_string()));
    assert!(results[2].1.is_err());
    assert!(results[3].1.as_ref().unwrap_err().contains("needs"));
    assert!(check_jcs_cases("{}").is_err());
}
