//! Strict JSON parsing and RFC 8785 canonical bytes (ISM-1 §3).
//!
//! [`parse_strict`] refuses what plain JSON parsers quietly accept and RFC 8785
//! forbids: duplicate member names, inputs over the size limit and excessive
//! nesting. [`canonical_bytes`] writes the JSON Canonicalization Scheme form:
//! members sorted by their UTF-16 code units, no whitespace, strings escaped
//! exactly as ECMAScript's `JSON.stringify` does, and numbers in ECMAScript's
//! shortest round-trip form.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::limits::MAX_MESSAGE_BYTES;
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

/// Parses UTF-8 JSON text into a value, refusing duplicate member names,
/// inputs larger than [`MAX_MESSAGE_BYTES`] and nesting deeper than `max_depth`
/// (ISM-1 §3.1, §3.2).
///
/// The checks come in the order ISM-1 §3.1 item 5 fixes: the size; then the
/// UTF-8 of the whole input, wherever a bad sequence is; then one reading of
/// the text from its start, which reports the first syntax error, duplicate
/// name or too-deep container it meets.
///
/// `input` is the whole input, or its first `MAX_MESSAGE_BYTES + 1` bytes when
/// the caller stopped reading there (ISM-1 §3.1 item 2); the refusal then
/// says "more than" rather than give a length that is only where reading
/// stopped.
pub fn parse_strict(input: &[u8], max_depth: usize) -> Result<Value, Rejection> {
    if input.len() > MAX_MESSAGE_BYTES {
        return Err(Rejection::new(
            ReasonCode::InputTooLarge,
            format!(
                "the input is {}; ISM/1 accepts at most {MAX_MESSAGE_BYTES} bytes",
                size_beyond_limit(input.len(), MAX_MESSAGE_BYTES)
            ),
        ));
    }
    // ISM-1 §3.1 item 5: the whole input is decoded as UTF-8 before any of it
    // is parsed, so invalid UTF-8 is reported even after a duplicate name.
    let text = std::str::from_utf8(input).map_err(|error| {
        Rejection::new(
            ReasonCode::MalformedJson,
            format!(
                "the input is not UTF-8: the bytes from offset {} are not a well-formed UTF-8 sequence",
                error.valid_up_to()
            ),
        )
    })?;
    let problem = RefCell::new(None);
    let seed = StrictSeed {
        depth: 1,
        max_depth,
        problem: &problem,
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    // serde_json's own recursion guard (128) stays on; ours is tighter for messages.
    let parsed = seed
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, problem.into_inner()) {
        (_, Some(rejection)) => Err(rejection),
        (Ok(value), None) => Ok(value),
        (Err(error), None) => Err(Rejection::new(
            ReasonCode::MalformedJson,
            format!(
                "the input is not well-formed JSON: {}",
                describe_surrogate(text, &error).unwrap_or_else(|| error.to_string())
            ),
        )),
    }
}

/// The size of an input longer than `limit` bytes, for a sentence: a reader
/// that stops after `limit + 1` bytes (ISM-1 §3.1 item 2) knows only that
/// the input is longer, so exactly `limit + 1` bytes is "more than `limit`
/// bytes"; any other length is the input's own.
pub fn size_beyond_limit(read_bytes: usize, limit: usize) -> String {
    if read_bytes == limit.saturating_add(1) {
        format!("more than {limit} bytes")
    } else {
        format!("{read_bytes} bytes")
    }
}

/// serde_json says "lone leading surrogate in hex escape" both for a
/// trailing (low) surrogate escape that nothing precedes (`\udc00`) and for a
/// leading one followed by another escape, and "unexpected end of hex escape"
/// for a leading one followed by no escape. It reports the line and the byte
/// column where it stopped: the last digit of the offending escape, or the
/// character after the leading one. This names the escape and what it is.
fn describe_surrogate(text: &str, error: &serde_json::Error) -> Option<String> {
    let message = error.to_string();
    let paired_wrongly = message.starts_with("lone leading surrogate in hex escape");
    let unended = message.starts_with("unexpected end of hex escape");
    if !paired_wrongly && !unended {
        return None;
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(error.line().checked_sub(1)?)
        .map(str::len)
        .sum();
    let stopped = line_start + error.column().checked_sub(1)?;
    // The escape `\uXXXX` whose last digit is at byte `end`, with its value.
    let escape_ending_at = |end: usize| -> Option<(usize, &str, u32)> {
        let start = end.checked_sub(5)?;
        let escape = text.get(start..=end)?;
        let digits = escape.strip_prefix("\\u")?;
        let value = u32::from_str_radix(digits, 16).ok()?;
        Some((start, escape, value))
    };
    let column = |start: usize| start - line_start + 1;
    let line = error.line();
    let leading_without_trailing = |start: usize, escape: &str| {
        format!("the escape {escape} at line {line} column {} is a leading (high) surrogate that no trailing (low) surrogate escape (\\udc00 to \\udfff) follows, so it names no character", column(start))
    };
    if paired_wrongly {
        let (start, escape, value) = escape_ending_at(stopped)?;
        if (0xDC00..=0xDFFF).contains(&value) {
            return Some(format!("the escape {escape} at line {line} column {} is a lone trailing (low) surrogate: no leading (high) surrogate escape (\\ud800 to \\udbff) comes before it, so it names no character", column(start)));
        }
        let (start, escape, _) = escape_ending_at(start.checked_sub(1)?)?;
        return Some(leading_without_trailing(start, escape));
    }
    // The leading escape ends one or two bytes before where reading stopped
    // (after `\ud800"` or `\ud800\n`).
    (1..=2)
        .filter_map(|back| escape_ending_at(stopped.checked_sub(back)?))
        .find(|(_, _, value)| (0xD800..=0xDBFF).contains(value))
        .map(|(start, escape, _)| leading_without_trailing(start, escape))
}

/// Builds a [`Value`] while checking the rules serde_json does not.
#[derive(Clone, Copy)]
struct StrictSeed<'a> {
    depth: usize,
    max_depth: usize,
    /// Typed reason for a refusal; serde's error type can only carry text.
    problem: &'a RefCell<Option<Rejection>>,
}

impl StrictSeed<'_> {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        // `depth` counts the container being entered: the top-level value is
        // at depth 1, so `max_depth` containers may enclose one another.
        if self.depth > self.max_depth {
            let rejection = Rejection::new(
                ReasonCode::NestingTooDeep,
                format!(
                    "objects and arrays are nested more than {} levels deep",
                    self.max_depth
                ),
            );
            self.problem.replace(Some(rejection));
            return Err(E::custom("nesting too deep"));
        }
        Ok(StrictSeed {
            depth: self.depth + 1,
            ..self
        })
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }
    // serde_json hands strings over borrowed or copied, never as an owned
    // String, so serde's default visit_string (which calls this) suffices.
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) {
                let rejection = Rejection::new(
                    ReasonCode::DuplicateKey,
                    format!(
                        "the member name {key} appears twice in one object",
                        key = quoted(&key)
                    ),
                );
                self.problem.replace(Some(rejection));
                return Err(de::Error::custom("duplicate member name"));
            }
            let value = map.next_value_seed(inner)?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

/// The RFC 8785 canonical UTF-8 bytes of a JSON value (ISM-1 §3.4).
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_value(value, &mut out);
    out.into_bytes()
}

/// Parses any JSON text strictly and returns its canonical bytes.
pub fn canonicalize(input: &[u8]) -> Result<Vec<u8>, Rejection> {
    let value = parse_strict(input, crate::limits::MAX_GENERIC_NESTING_DEPTH)?;
    Ok(canonical_bytes(&value))
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            // RFC 8785 §3.2.3: sort by UTF-16 code units, not by UTF-8 bytes or
            // code points; they differ for characters above U+FFFF.
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (index, (name, member)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_value(member, out);
            }
            out.push('}');
        }
    }
}

/// RFC 8785 §3.2.2.3: every number is an IEEE-754 double written as
/// ECMAScript's `Number.prototype.toString` would.
fn write_number(number: &Number, out: &mut String) {
    // as_f64 is None only for arbitrary-precision numbers, a feature we do not
    // enable; u64 and i64 convert with round-to-nearest-even as ECMAScript's parser does.
    let double = number.as_f64().unwrap_or(f64::NAN);
    out.push_str(&format_es6_number(double));
}

/// Formats a finite double as ECMAScript does; `-0` becomes `0`.
pub fn format_es6_number(double: f64) -> String {
    if double == 0.0 {
        return "0".to_string();
    }
    ryu_js::Buffer::new().format(double).to_string()
}

/// RFC 8785 §3.2.2.2: escape `"` and `\`, the two-letter escapes for
/// backspace, form feed, newline, carriage return and tab, `\u00xx` (lower
/// case) for the other controls, and nothing else.
fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        match canonicalize(text.as_bytes()) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(rejection) => format!("ERR {}", rejection.code),
        }
    }

    #[test]
    fn sorts_members_by_utf16_code_units() {
        // U+10000 encodes as the surrogate 0xD800, which sorts before U+FB33.
        assert_eq!(
            canon("{\"\u{fb33}\":1,\"\u{10000}\":2,\"a\":3}"),
            "{\"a\":3,\"\u{10000}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn escapes_only_what_json_stringify_escapes() {
        assert_eq!(
            canon(r#""\u0007\u001f\/\u2028é\"\\""#),
            "\"\\u0007\\u001f/\u{2028}é\\\"\\\\\""
        );
    }

    #[test]
    fn unpaired_surrogate_escapes_are_named_for_what_they_are() {
        let said = |input: &str| parse_strict(input.as_bytes(), 16).err().map(|r| r.message);
        let trailing = said(r#"{"a":"x\udc00"}"#).unwrap_or_default();
        assert!(
            trailing.contains(
                r"the escape \udc00 at line 1 column 8 is a lone trailing (low) surrogate"
            ),
            "{trailing}"
        );
        assert!(!trailing.contains("leading surrogate in"), "{trailing}");
        // Columns are bytes, as serde_json counts them, on the escape's line.
        let later = said("{\n \"é\":\"\\uDFFF\"}").unwrap_or_default();
        assert!(
            later.contains(r"the escape \uDFFF at line 2 column 8 is a lone trailing"),
            "{later}"
        );
        for (input, column) in [
            (r#""\ud800\u0041""#, 2),
            (r#""\ud800\ud800""#, 2),
            (r#""\ud800""#, 2),
            (r#"["\ud800\n"]"#, 3),
            (r#""ab\udbffx""#, 4),
        ] {
            let leading = said(input).unwrap_or_default();
            assert!(leading.contains(&format!("at line 1 column {column} is a leading (high) surrogate that no trailing (low) surrogate escape")), "{input}: {leading}");
        }
        // A well-formed pair is a character.
        assert!(parse_strict(r#""\ud83d\ude00""#.as_bytes(), 16).is_ok());
    }

    #[test]
    fn numbers_follow_ecmascript() {
        assert_eq!(
            canon("[1E30, 4.50, 2e-3, 0.000001, 1e-7, -0, 100, 9007199254740993]"),
            "[1e+30,4.5,0.002,0.000001,1e-7,0,100,9007199254740992]"
        );
    }

    #[test]
    fn utf8_first_then_the_first_problem_in_text_order() {
        // ISM-1 §3.1 item 5: the UTF-8 of the whole input is checked before
        // the text is read, so bad UTF-8 wins over an earlier duplicate name.
        let code = |input: &[u8]| parse_strict(input, 16).map_err(|r| r.code);
        let bad_utf8 = Err(ReasonCode::MalformedJson);
        assert_eq!(code(b"{\"a\":1,\"a\":\"\xff\"}"), bad_utf8);
        assert_eq!(code(b"\"\xed\xa0\x80\""), bad_utf8, "an encoded surrogate");
        assert_eq!(code(b"\"\xc1\x81\""), bad_utf8, "an overlong 'A'");
        assert_eq!(code(b"\"\xf4\x90\x80\x80\""), bad_utf8, "above U+10FFFF");
        assert!(
            code("\"\u{ffff}\u{10ffff}\"".as_bytes()).is_ok(),
            "noncharacters are UTF-8"
        );
        // Then the text is read once: a duplicate is met at its name, before
        // what follows it; a number out of range and a container too deep
        // are met where they are.
        assert_eq!(code(b"{\"a\":1,\"a\""), Err(ReasonCode::DuplicateKey));
        assert_eq!(code(b"{\"a\":1,\"a\" 2}"), Err(ReasonCode::DuplicateKey));
        assert_eq!(
            code(b"{\"a\":1e400,\"a\":2}"),
            Err(ReasonCode::MalformedJson)
        );
        assert_eq!(
            code(b"{\"a\":1,\"a\":1e400}"),
            Err(ReasonCode::DuplicateKey)
        );
        let deep_then_duplicate = format!("{{\"a\":{}{},\"a\":1}}", "[".repeat(16), "]".repeat(16));
        assert_eq!(
            code(deep_then_duplicate.as_bytes()),
            Err(ReasonCode::NestingTooDeep)
        );
        let deep_then_cut = format!("{{\"a\":{}", "[".repeat(16));
        assert_eq!(
            code(deep_then_cut.as_bytes()),
            Err(ReasonCode::NestingTooDeep)
        );
        assert_eq!(
            code("\u{feff}{}".as_bytes()),
            Err(ReasonCode::MalformedJson)
        );
    }

    #[test]
    fn numbers_round_to_nearest_even_and_refuse_only_overflow() {
        // ISM-1 §3.1 item 3: the nearest double, ties to even; only a result
        // that rounds to an infinity is refused.
        assert_eq!(canon("[1e-400,-1e-400,5e-324]"), "[0,0,5e-324]");
        assert_eq!(canon("1.7976931348623158e308"), "1.7976931348623157e+308");
        assert_eq!(canon("1.7976931348623159e308"), "ERR MALFORMED_JSON");
        assert_eq!(canon("-1.7976931348623159e308"), "ERR MALFORMED_JSON");
    }

    #[test]
    fn refuses_duplicates_depth_size_and_garbage() {
        assert_eq!(canon(r#"{"a":1,"a":2}"#), "ERR DUPLICATE_KEY");
        assert_eq!(canon(r#"{"a":{"b":1,"b":1}}"#), "ERR DUPLICATE_KEY");
        assert_eq!(canon("{\"a\":1} x"), "ERR MALFORMED_JSON");
        assert_eq!(canon("1e400"), "ERR MALFORMED_JSON");
        assert_eq!(canon("\"\\ud800\""), "ERR MALFORMED_JSON");
        assert_eq!(
            canon("1e-400"),
            "0",
            "underflow rounds to zero (ISM-1 §3.1)"
        );
        let deep = "[".repeat(120) + &"]".repeat(120);
        assert_eq!(canon(&deep), "ERR NESTING_TOO_DEEP");
        let big = vec![b' '; MAX_MESSAGE_BYTES + 1];
        let said = parse_strict(&big, 16).err().map(|r| r.message);
        assert_eq!(
            said.as_deref(),
            Some("the input is more than 1048576 bytes; ISM/1 accepts at most 1048576 bytes")
        );
        let bigger = vec![b' '; MAX_MESSAGE_BYTES + 7];
        let said = parse_strict(&bigger, 16).err().map(|r| r.message);
        assert_eq!(
            said.as_deref(),
            Some("the input is 1048583 bytes; ISM/1 accepts at most 1048576 bytes")
        );
        assert_eq!(
            canonicalize(&big).map_err(|r| r.code),
            Err(ReasonCode::InputTooLarge)
        );
        assert_eq!(
            parse_strict(b"[[[[1]]]]", 3).map_err(|r| r.code),
            Err(ReasonCode::NestingTooDeep)
        );
        assert!(parse_strict(b"[[[1]]]", 3).is_ok());
        assert!(parse_strict(b"[{\"a\":[1]}]", 3).is_ok());
    }
}
