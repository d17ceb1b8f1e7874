//! What the CLI writes, written once: standard output through [`Out`], whose
//! errors are returned (never a panic, unlike `println!`), and standard error
//! through [`stderr_line`], which never fails the command.
//!
//! Text that quotes an argument or an input is escaped ([`escape`], with the
//! rule of `isthmus_spec::quote`) and capped ([`excerpt`], [`message`]), so
//! that a hostile file or argument can neither drive the terminal (ESC, BEL,
//! bidirectional overrides) nor flood it.
//!
//! Exit statuses, decided in `main.rs` from an [`OutputError`] in the error
//! chain: a closed pipe (`| head -1`) ends the command quietly with
//! [`super::EXIT_TOOL_ERROR`], since not everything was delivered; any other
//! write error (`>/dev/full`) prints `error: writing standard output: …` with
//! the same status.

use std::borrow::Cow;
use std::fmt::{self, Display, Write as _};
use std::io::{self, Write};

use isthmus_spec::quote::needs_escape;

/// The most characters of input one quoted excerpt shows (then "…").
pub const EXCERPT_CHARS: usize = 80;
/// The most characters one message (one error, one refusal) prints (then "…").
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// Standard output, locked for the whole command.
pub struct Out {
    stdout: io::StdoutLock<'static>,
}

/// Standard output could not be written.
#[derive(Debug)]
pub struct OutputError(io::Error);

impl OutputError {
    /// The reader went away (`| head -1`): nothing is wrong with the command.
    pub fn is_broken_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

impl Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "writing standard output: {}", self.0)
    }
}

impl std::error::Error for OutputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        None
    }
}

impl Out {
    /// Locks standard output.
    pub fn new() -> Out {
        Out {
            stdout: io::stdout().lock(),
        }
    }

    /// Writes `text` and a newline. Control characters other than a newline
    /// are escaped (see [`escape_keeping_newlines`]).
    pub fn line(&mut self, text: impl Display) -> Result<(), OutputError> {
        let mut text = text.to_string();
        text.push('\n');
        self.text(&text)
    }

    /// `write!`/`writeln!` target: `writeln!(out, "…")?`. Escapes like [`Out::line`].
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), OutputError> {
        self.text(&fmt::format(args))
    }

    /// Writes bytes exactly as given: a translated or canonical message.
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.stdout.write_all(bytes).map_err(OutputError)
    }

    /// Flushes; a command's output is complete only when this succeeded.
    pub fn finish(mut self) -> Result<(), OutputError> {
        self.stdout.flush().map_err(OutputError)
    }

    fn text(&mut self, text: &str) -> Result<(), OutputError> {
        self.bytes(escape_keeping_newlines(text).as_bytes())
    }
}

/// Writes one line to standard error: escaped, capped at
/// [`MAX_MESSAGE_CHARS`], and never failing (a full or closed standard error
/// must not turn a result into a panic; there is nowhere left to report it).
pub fn stderr_line(text: impl Display) {
    let mut line = message(&text.to_string()).into_owned();
    line.push('\n');
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_all(line.as_bytes());
    let _ = stderr.flush();
}

fn escape_with(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    // The library's rule (controls, bidirectional and zero-width characters),
    // so that the CLI and the refusals it prints escape the same characters.
    let keep = |c: char| !needs_escape(c) || (keep_newlines && c == '\n');
    if text.chars().all(keep) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if keep(c) => escaped.push(c),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            // `\u{1b}`, as `char::escape_debug` writes it.
            c => {
                let _ = write!(escaped, "{}", c.escape_unicode());
            }
        }
    }
    Cow::Owned(escaped)
}

/// `text` with every control character escaped, newlines included: safe to
/// print as (part of) one line.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// `text` with every control character but the newline escaped: for the
/// CLI's own multi-line text.
pub fn escape_keeping_newlines(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

/// At most `max_chars` characters of `text`, then "…" if any were cut.
pub fn cap(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// A quoted piece of input or argument: escaped and at most [`EXCERPT_CHARS`].
pub fn excerpt(text: &str) -> String {
    cap(&escape(text), EXCERPT_CHARS).into_owned()
}

/// One message for a person (an error, a refusal): escaped and at most
/// [`MAX_MESSAGE_CHARS`].
pub fn message(text: &str) -> Cow<'_, str> {
    match escape(text) {
        Cow::Borrowed(text) => cap(text, MAX_MESSAGE_CHARS),
        Cow::Owned(text) => Cow::Owned(cap(&text, MAX_MESSAGE_CHARS).into_owned()),
    }
}

/// At most [`MAX_MESSAGE_CHARS`] of `text`, unescaped: for a JSON string,
/// whose encoder escapes control characters itself.
pub fn cap_message(text: &str) -> String {
    cap(text, MAX_MESSAGE_CHARS).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_text_is_kept() {
        assert_eq!(escape("plain \"é\" text"), "plain \"é\" text");
        assert_eq!(escape("a\u{1b}[31mb\u{7}"), "a\\u{1b}[31mb\\u{7}");
        assert_eq!(escape("x\ny\tz\r"), "x\\ny\\tz\\r");
        assert_eq!(escape_keeping_newlines("x\ny\u{9b}"), "x\ny\\u{9b}");
        assert_eq!(escape("\u{202e}abc\u{200b}"), "\\u{202e}abc\\u{200b}");
        assert_eq!(escape("\u{7f}"), "\\u{7f}");
    }

    #[test]
    fn long_text_is_capped() {
        assert_eq!(cap("abcdef", 3), "abc…");
        assert_eq!(cap("abc", 3), "abc");
        assert_eq!(cap("ééééé", 2), "éé…");
        let long = "x".repeat(10 * MAX_MESSAGE_CHARS);
        assert_eq!(message(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
    }
}
