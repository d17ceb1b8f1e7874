//! The line format in which ISM/1 values without an MT field travel in a
//! narrative field (`:70E::SPRO//`, `:70D::REAS//`).
//!
//! Each value is an item `/KEY/value` starting a line; a value longer than
//! the line continues on lines starting with `//`, as in the structured
//! narratives of SWIFT field 72 (`/CODE/` then `//` continuation). Lines have
//! at most 35 characters (`35x`) and never end with a space (the split moves
//! one character earlier), so that systems trimming lines lose nothing.
//! Keys are 4 upper-case letters; a reader takes the lines as ours only if the
//! first line starts with one of the keys it expects.
//!
//! Free text (a reason's sentence) may hold characters outside the SWIFT `x`
//! set. It is escaped: every UTF-8 byte of such a character, and of `?` and
//! `/` themselves, is written `?HH` (upper-case hex), as is a space that
//! ends the text or is followed by another space. Decoding joins the lines
//! of an item first, so an escape may straddle a line break.

use super::fields::{is_x_char, LINE_CHARS};
use isthmus_spec::quote::quoted;

/// Keys of `:70E::SPRO//` in a confirmation: settlement id, securities
/// journal, cash journal, digits after the second of `settled_at`.
pub(crate) const SPRO_KEYS: &[&str] = &["SEID", "SJNL", "CJNL", "FRAC"];

/// Keys of `:70E::SPRO//` in an instruction: the securities market and the
/// cash market (ISM-1 §6.1 `securities_market`, §6.0.9 `market`), which no
/// MT field carries.
pub(crate) const INSTRUCTION_SPRO_KEYS: &[&str] = &["SMKT", "CMKT"];

/// Lines of `:70E:` (`10*35x`).
pub(crate) const SPRO_LINES: usize = 10;

/// Keys of `:70D::REAS//` in a status: the ISM/1 reason code and sentence,
/// and the reason's issuer and scheme (ISM-1 Appendix A.1).
pub(crate) const REAS_KEYS: &[&str] = &["ISMC", "TEXT", "ISSR", "SCHM"];

/// Lines of `:70D:` (`6*35x`).
pub(crate) const REAS_LINES: usize = 6;

/// Writes `/KEY/value` items as narrative lines.
pub(crate) fn write_items(items: &[(&str, &str)]) -> Vec<String> {
    let mut lines = Vec::new();
    for (key, value) in items {
        let chars: Vec<char> = value.chars().collect();
        let mut line = format!("/{key}/");
        let mut start = 0;
        loop {
            let room = LINE_CHARS.saturating_sub(line.chars().count()).max(1);
            let mut end = (start + room).min(chars.len());
            let more_follows = end < chars.len();
            // A line never ends with a space (networks strip them): move every
            // trailing space of a split onto the continuation line.
            while more_follows && end > start + 1 && chars.get(end - 1) == Some(&' ') {
                end -= 1;
            }
            line.extend(chars.iter().skip(start).take(end - start));
            lines.push(line);
            start = end;
            if start >= chars.len() {
                break;
            }
            line = "//".to_string();
        }
    }
    lines
}

/// Whether `lines` are in our format: the first starts with `/KEY/` for one of `keys`.
pub(crate) fn is_ours(lines: &[String], keys: &[&str]) -> bool {
    lines
        .first()
        .and_then(|line| line.strip_prefix('/'))
        .and_then(|rest| rest.split_at_checked(4))
        .is_some_and(|(key, rest)| keys.contains(&key) && rest.starts_with('/'))
}

/// Reads items written by [`write_items`]; every key must be among `keys`
/// and appear once. The error is a sentence.
pub(crate) fn read_items(lines: &[String], keys: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut items: Vec<(String, String)> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if let Some(continuation) = line.strip_prefix("//") {
            match items.last_mut() {
                Some((_, value)) => value.push_str(continuation),
                None => return Err("the first line continues nothing (it starts with //)".into()),
            }
            continue;
        }
        let parsed = line
            .strip_prefix('/')
            .and_then(|rest| rest.split_at_checked(4))
            .and_then(|(key, rest)| rest.strip_prefix('/').map(|value| (key, value)));
        let Some((key, value)) = parsed else {
            return Err(format!(
                "line {} {line} is neither /KEY/value nor a // continuation",
                index + 1,
                line = quoted(line)
            ));
        };
        if !keys.contains(&key) {
            return Err(format!(
                "/{key}/ is not a key of this narrative; expected {}",
                keys.iter()
                    .map(|k| format!("/{k}/"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if items.iter().any(|(seen, _)| seen == key) {
            return Err(format!("/{key}/ appears twice"));
        }
        items.push((key.to_string(), value.to_string()));
    }
    Ok(items)
}

/// Escapes free text into the `x` set (see the module docs).
pub(crate) fn escape_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (index, c) in chars.iter().copied().enumerate() {
        let next = chars.get(index + 1).copied();
        let literal =
            is_x_char(c) && c != '?' && c != '/' && !(c == ' ' && next.is_none_or(|n| n == ' '));
        if literal {
            out.push(c);
        } else {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("?{byte:02X}"));
            }
        }
    }
    out
}

/// Undoes [`escape_text`]. The error is a sentence.
pub(crate) fn unescape_text(escaped: &str) -> Result<String, String> {
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'?' {
            let hex = bytes
                .get(index + 1..index + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .filter(|pair| {
                    pair.bytes()
                        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
                })
                .and_then(|pair| u8::from_str_radix(pair, 16).ok());
            let Some(value) = hex else {
                return Err(format!(
                    "'?' at character {} is not followed by two upper-case hex digits",
                    index + 1
                ));
            };
            out.push(value);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the escapes do not spell UTF-8 text".to_string())
}

/// An ISM/1 reason code in the `x` set: `_` becomes `-` (codes never hold `-`).
pub(crate) fn code_to_x(code: &str) -> String {
    code.replace('_', "-")
}

/// Undoes [`code_to_x`].
pub(crate) fn code_from_x(text: &str) -> String {
    text.replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn items_wrap_at_35_characters() {
        let hash = "7c7151b562abb5e456aadea4549cf8e39590c710df99dbade4c48dc58fa27964";
        let value = format!("XNYS/9141/{hash}");
        let lines = write_items(&[("SEID", "STL-20261125-0001"), ("SJNL", &value)]);
        assert_eq!(
            lines.first().map(String::as_str),
            Some("/SEID/STL-20261125-0001")
        );
        assert!(lines.iter().all(|l| l.len() <= LINE_CHARS));
        assert_eq!(lines.len(), 4);
        let read = read_items(&lines, &["SEID", "SJNL"]);
        assert_eq!(
            read,
            Ok(vec![
                ("SEID".into(), "STL-20261125-0001".into()),
                ("SJNL".into(), value)
            ])
        );
        assert!(is_ours(&lines, &["SEID"]));
        assert!(read_items(&lines, &["SEID"]).is_err());
        assert!(read_items(&["//X".to_string()], &["SEID"]).is_err());
        assert!(read_items(&["/SEID/A".to_string(), "/SEID/B".to_string()], &["SEID"]).is_err());
    }

    #[test]
    fn lines_never_end_with_a_space() {
        let text = "The counterpart instructs 900 units, not 1000 and so on";
        let lines = write_items(&[("TEXT", &escape_text(text))]);
        assert!(lines.iter().all(|l| !l.ends_with(' ')), "{lines:?}");
    }

    #[test]
    fn split_lines_never_end_with_a_space() {
        let lines = write_items(&[("SEID", "ABCDEFGHIJKLMNOPQRSTUVWXYZ1  23456")]);
        assert!(lines.iter().all(|line| !line.ends_with(' ')), "{lines:?}");
        let back = read_items(&lines, &["SEID"]).expect("reads back");
        assert_eq!(
            back,
            vec![(
                "SEID".to_string(),
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ1  23456".to_string()
            )]
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            escape_text("Quantité 5% / ok?"),
            "Quantit?C3?A9 5?25 ?2F ok?3F"
        );
        assert_eq!(escape_text("a  b "), "a?20 b?20");
        assert_eq!(unescape_text("Quantit?C3?A9"), Ok("Quantité".to_string()));
        assert!(unescape_text("?4").is_err());
        assert!(unescape_text("?zz").is_err());
        assert!(unescape_text("?FF").is_err());
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in "\\PC{1,200}") {
            let escaped = escape_text(&text);
            prop_assert!(escaped.chars().all(is_x_char));
            let lines = write_items(&[("ISMC", "CODE"), ("TEXT", &escaped)]);
            prop_assert!(lines.iter().all(|l| l.chars().count() <= LINE_CHARS && !l.ends_with(' ')));
            let items = read_items(&lines, &["ISMC", "TEXT"]).map_err(TestCaseError::fail)?;
            let value = items.get(1).map(|(_, v)| v.clone()).unwrap_or_default();
            prop_assert_eq!(unescape_text(&value), Ok(text));
        }
    }
}
