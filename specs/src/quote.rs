//! Quoting input in sentences for people: the one helper every refusal uses,
//! here and in the adapters, so that an error message never carries more of
//! the input than a short excerpt, and never a character that would act on
//! the terminal it is printed to.
//!
//! An input can hold anything: a tag name of two megabytes, an ESC or BEL
//! written as `\u001b` in JSON, a right-to-left override that reorders what
//! follows it on screen, the first bytes of a file that was never meant to be
//! read. [`quoted`] and [`excerpt`] write at most [`MAX_QUOTED_CHARS`]
//! characters of it ([`location`], for paths, [`MAX_LOCATION_CHARS`]), then `…`, with every character that is not plain
//! printable text written as an escape (`\u{1b}`, `\n`), and `\` and `"`
//! escaped so that the quotation marks are unambiguous. [`sentence`] is the
//! last guard, applied by the constructors of [`crate::Rejection`] (and of the
//! adapters' errors) to the whole sentence: control characters escaped, at
//! most [`MAX_SENTENCE_CHARS`] characters.

use std::fmt::{self, Write};

use crate::limits::{MAX_LOCATION_CHARS, MAX_QUOTED_CHARS, MAX_SENTENCE_CHARS};

/// `text` as an excerpt for a sentence, between double quotes: `"US03…"`.
pub fn quoted(text: &str) -> Quoted<'_> {
    Quoted(excerpt(text))
}

/// `text` as an excerpt for a sentence, without quotation marks, for places
/// that have their own (`<{}>` around an element name).
pub fn excerpt(text: &str) -> Excerpt<'_> {
    Excerpt {
        text,
        limit: MAX_QUOTED_CHARS,
    }
}

/// A location made of input (a member path naming an unknown member, an XML
/// path through an unknown element), as [`excerpt`] writes it but cut only
/// after [`MAX_LOCATION_CHARS`] characters, so that every path ISM/1 or a
/// dialect defines is written whole.
pub fn location(text: &str) -> Excerpt<'_> {
    Excerpt {
        text,
        limit: MAX_LOCATION_CHARS,
    }
}

/// The [`fmt::Display`] of [`quoted`].
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(Excerpt<'a>);

/// The [`fmt::Display`] of [`excerpt`] and [`location`].
#[derive(Debug, Clone, Copy)]
pub struct Excerpt<'a> {
    text: &'a str,
    limit: usize,
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        self.0.fmt(f)?;
        f.write_char('"')
    }
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_excerpt(self.text, self.limit, f)
    }
}

/// Whether `c` is written as an escape: control characters (C0, DEL, C1),
/// and the format characters that change how a terminal lays text out —
/// bidirectional embeddings, overrides, isolates and marks, zero-width
/// characters, line and paragraph separators, the byte order mark, and the
/// interlinear annotation characters.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Writes `c` escaped into `out`: `\n`, `\t`, `\r`, or `\u{hex}`.
fn write_escape(c: char, out: &mut impl Write) -> fmt::Result {
    match c {
        '\n' => out.write_str("\\n"),
        '\t' => out.write_str("\\t"),
        '\r' => out.write_str("\\r"),
        other => write!(out, "\\u{{{:x}}}", u32::from(other)),
    }
}

/// Writes at most `limit` characters standing for the start of `text`, then
/// `…` if anything was left out. Reads only as much of `text` as it writes,
/// so quoting a huge input costs nothing.
fn write_excerpt(text: &str, limit: usize, f: &mut impl Write) -> fmt::Result {
    let mut written = 0usize;
    let mut piece = String::with_capacity(12);
    for c in text.chars() {
        piece.clear();
        match c {
            '\\' => piece.push_str("\\\\"),
            '"' => piece.push_str("\\\""),
            c if needs_escape(c) => write_escape(c, &mut piece)?,
            c => piece.push(c),
        }
        let width = piece.chars().count();
        if written + width > limit {
            return f.write_char('…');
        }
        f.write_str(&piece)?;
        written += width;
    }
    Ok(())
}

/// A sentence made safe to print: every character [`needs_escape`] names
/// written as an escape (a line break too: a sentence is one line), and at
/// most [`MAX_SENTENCE_CHARS`] characters, the last being `…` when it was
/// cut. Sentences whose quotations went through [`quoted`] or [`excerpt`]
/// are unchanged, unless they are longer than the limit.
pub fn sentence(text: &str) -> String {
    let clean = !text.chars().any(needs_escape);
    if clean && text.len() <= MAX_SENTENCE_CHARS {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len().min(MAX_SENTENCE_CHARS * 4));
    let mut written = 0usize;
    let mut piece = String::with_capacity(12);
    for c in text.chars() {
        piece.clear();
        if needs_escape(c) {
            // Writing into a String cannot fail.
            let _ = write_escape(c, &mut piece);
        } else {
            piece.push(c);
        }
        let width = piece.chars().count();
        if written + width > MAX_SENTENCE_CHARS - 1 {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        written += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_printable_text_is_quoted_as_it_is() {
        assert_eq!(quoted("US0378331005").to_string(), "\"US0378331005\"");
        assert_eq!(excerpt("Document").to_string(), "Document");
        assert_eq!(quoted("").to_string(), "\"\"");
        assert_eq!(quoted("Zürich – 東京").to_string(), "\"Zürich – 東京\"");
    }

    #[test]
    fn controls_quotes_and_backslashes_are_escaped() {
        assert_eq!(
            quoted("a\u{1b}[31mb\u{7}").to_string(),
            "\"a\\u{1b}[31mb\\u{7}\""
        );
        assert_eq!(quoted("x\ny\tz\r").to_string(), "\"x\\ny\\tz\\r\"");
        assert_eq!(quoted("say \"hi\"").to_string(), "\"say \\\"hi\\\"\"");
        assert_eq!(quoted("C:\\u{1b}").to_string(), "\"C:\\\\u{1b}\"");
        // C1 controls (CSI), bidi overrides and zero-width characters.
        assert_eq!(
            excerpt("\u{9b}2J\u{202e}abc\u{200b}\u{feff}").to_string(),
            "\\u{9b}2J\\u{202e}abc\\u{200b}\\u{feff}"
        );
    }

    #[test]
    fn long_text_is_cut_after_the_limit() {
        let long = "A".repeat(2_000_000);
        let text = quoted(&long).to_string();
        assert_eq!(text.chars().count(), MAX_QUOTED_CHARS + 3);
        assert!(text.ends_with("A…\""));
        let exact = "B".repeat(MAX_QUOTED_CHARS);
        assert_eq!(
            excerpt(&exact).to_string(),
            exact,
            "the limit itself is not cut"
        );
        let escapes = "\u{1b}".repeat(100);
        let text = excerpt(&escapes).to_string();
        assert!(text.chars().count() <= MAX_QUOTED_CHARS + 1);
        assert!(text.ends_with('…'));
        assert!(!text.contains('\u{1b}'));
        let path = "body.delivering_agent.proprietary_id.issuer";
        assert_eq!(location(path).to_string(), path);
        let long_path = format!("body.{}", "a".repeat(10_000));
        assert_eq!(
            location(&long_path).to_string().chars().count(),
            MAX_LOCATION_CHARS + 1
        );
    }

    #[test]
    fn sentences_are_escaped_and_bounded() {
        assert_eq!(sentence("a plain sentence"), "a plain sentence");
        assert_eq!(sentence("bell \u{7} here"), "bell \\u{7} here");
        let long = "x".repeat(MAX_SENTENCE_CHARS * 3);
        let cut = sentence(&long);
        assert_eq!(cut.chars().count(), MAX_SENTENCE_CHARS);
        assert!(cut.ends_with('…'));
        let exact = "y".repeat(MAX_SENTENCE_CHARS);
        assert_eq!(sentence(&exact), exact);
    }
}
