//! The exhaustive check's state abstraction: two states that differ only in
//! the values the nodes drew at random (message ids, the secret and its
//! hashlock), in identifiers nothing can name again, and in counters no
//! decision reads, behave alike, so the check expands one of them.
//!
//! Why it is sound (the argument of `docs/ARCH.md`, "The exhaustive check"):
//!
//! - *Renaming.* The engines use a random value only for equality (a
//!   message id as the key of a map or a member of a `handled` list, a
//!   preimage against its hashlock) and never read its digits: a state whose
//!   random values are consistently renamed has the same futures, renamed.
//!   Values are renamed by their first appearance in the state's text.
//! - *Dead identifiers.* A message id that appears only in the lists that
//!   remember what a node handled (`handled`, the check's own record of
//!   causes) or in the relay's map of LockRequests sent, and nowhere else (no
//!   message in flight, no record, no engine field), can never arrive again:
//!   a node sends only ids it holds or draws fresh. Its entries decide
//!   nothing in any future, so they are left out.
//! - *Counters.* The relay's statistics are never read by the engine, and a
//!   write counter with no write outstanding only numbers the next one.
//!
//! The text is the engines' `Debug` form, which is canonical (maps in key
//! order, fields in declaration order); the abstraction works on that text.

use std::collections::{HashMap, HashSet};

/// The canonical text of `text`, the `Debug` form of a state.
pub(crate) fn canonical(text: &str) -> String {
    let text = without_counters(text);
    let tokens = tokens(&text);
    let passive = passive_lists(&text);
    let is_passive = |at: usize| passive.iter().any(|list| at >= list.start && at < list.end);
    let live: HashSet<&str> = tokens
        .iter()
        .filter(|token| !is_passive(token.start))
        .map(|token| &text[token.start..token.end])
        .collect();
    // The text again, with the dead entries of passive lists left out and
    // every random value replaced by its number of first appearance.
    let mut names = HashMap::new();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for list in &passive {
        if list.start < at {
            continue; // inside the list before
        }
        renamed(&text, at, list.start, &tokens, &mut names, &mut out);
        let mut first = true;
        for &(element_start, element_end) in &list.elements {
            let dead = within(&tokens, element_start, element_end)
                .iter()
                .any(|token| !live.contains(&text[token.start..token.end]));
            if dead {
                continue;
            }
            if !first {
                out.push_str(", ");
            }
            first = false;
            renamed(
                &text,
                element_start,
                element_end,
                &tokens,
                &mut names,
                &mut out,
            );
        }
        at = list.end;
    }
    renamed(&text, at, text.len(), &tokens, &mut names, &mut out);
    out
}

/// The tokens inside `start..end` (`tokens` is in order).
fn within(tokens: &[Token], start: usize, end: usize) -> &[Token] {
    let first = tokens.partition_point(|token| token.start < start);
    let last = tokens.partition_point(|token| token.end <= end);
    &tokens[first..last.max(first)]
}

/// Copies `text[start..end]` with its random values renamed.
fn renamed<'a>(
    text: &'a str,
    start: usize,
    end: usize,
    tokens: &[Token],
    names: &mut HashMap<&'a str, usize>,
    out: &mut String,
) {
    let mut at = start;
    for token in within(tokens, start, end) {
        out.push_str(&text[at..token.start]);
        let value = &text[token.start..token.end];
        let count = names.len();
        let number = *names.entry(value).or_insert(count);
        out.push('#');
        out.push_str(&number.to_string());
        at = token.end;
    }
    out.push_str(&text[at..end]);
}

/// A random value's place in the text (its digits only).
struct Token {
    start: usize,
    end: usize,
}

/// Where message ids and 32-byte values (secrets, hashlocks) are.
fn tokens(text: &str) -> Vec<Token> {
    let mut found = Vec::new();
    for opening in ["MessageId { text: \"", "Hex32(\""] {
        for offset in memchr::memmem::find_iter(text.as_bytes(), opening.as_bytes()) {
            let start = offset + opening.len();
            let Some(length) = memchr::memchr(b'"', &text.as_bytes()[start..]) else {
                break;
            };
            found.push(Token {
                start,
                end: start + length,
            });
        }
    }
    found.sort_by_key(|token| token.start);
    found
}

/// The inside of a list in the text, and its elements.
struct List {
    start: usize,
    end: usize,
    elements: Vec<(usize, usize)>,
}

/// The lists that only remember ids: `handled: [...]`, the relay's
/// `lock_requests: {...}` and the check's `HANDLED{...}`, in text order.
fn passive_lists(text: &str) -> Vec<List> {
    let mut lists = Vec::new();
    for opening in ["handled: [", "lock_requests: {", "HANDLED{"] {
        for offset in memchr::memmem::find_iter(text.as_bytes(), opening.as_bytes()) {
            lists.push(list_at(text, offset + opening.len()));
        }
    }
    lists.sort_by_key(|list| list.start);
    lists
}

/// The list whose inside starts at `start`: up to the bracket that closes
/// it, split at its top-level commas. (The lists hold node ids, message ids,
/// references and legs: no quote or bracket inside a string.)
fn list_at(text: &str, start: usize) -> List {
    let bytes = text.as_bytes();
    let mut elements = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut element = start;
    let mut end = text.len();
    for (at, byte) in bytes.iter().enumerate().skip(start) {
        match byte {
            b'"' => in_string = !in_string,
            b'[' | b'{' | b'(' if !in_string => depth += 1,
            b']' | b'}' | b')' if !in_string => {
                if depth == 0 {
                    end = at;
                    break;
                }
                depth -= 1;
            }
            b',' if !in_string && depth == 0 => {
                elements.push((element, at));
                element = at + 1;
                while bytes.get(element) == Some(&b' ') {
                    element += 1;
                }
            }
            _ => {}
        }
    }
    if element < end {
        elements.push((element, end));
    }
    List {
        start,
        end,
        elements,
    }
}

/// `text` without the relay's statistics, and without the write counters
/// of an engine with no write outstanding.
fn without_counters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let writes =
            memchr::memmem::find(rest.as_bytes(), b"writes: [], actions: [], next_write: ");
        let stats = memchr::memmem::find(rest.as_bytes(), b", stats: RelayStats {")
            .filter(|at| writes.is_none_or(|w| *at < w));
        match (stats, writes) {
            (None, None) => break,
            (Some(at), _) => {
                out.push_str(&rest[..at]);
                let after = &rest[at..];
                let end = after.find('}').map_or(after.len(), |end| end + 1);
                rest = &after[end..];
            }
            (None, Some(at)) => {
                let prefix = "writes: [], actions: [], next_write: ";
                out.push_str(&rest[..at + prefix.len()]);
                let after = &rest[at + prefix.len()..];
                // next_write: N, durable: M
                let digits = after
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len());
                let after = &after[digits..];
                out.push('_');
                if let Some(durable) = after.strip_prefix(", durable: ") {
                    let digits = durable
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(durable.len());
                    out.push_str(", durable: _");
                    rest = &durable[digits..];
                } else {
                    rest = after;
                }
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn random_values_are_renamed_by_first_appearance() {
        let a = r#"X { m: MessageId { text: "aa" }, h: Hash(Hex32("11")), n: MessageId { text: "aa" } }"#;
        let b = r#"X { m: MessageId { text: "bb" }, h: Hash(Hex32("22")), n: MessageId { text: "bb" } }"#;
        let c = r#"X { m: MessageId { text: "bb" }, h: Hash(Hex32("22")), n: MessageId { text: "cc" } }"#;
        assert_eq!(canonical(a), canonical(b));
        assert_ne!(canonical(a), canonical(c), "the equality pattern is kept");
    }

    #[test]
    fn a_handled_id_nothing_else_names_is_left_out_and_a_named_one_kept() {
        let one = r#"S { handled: [(N, MessageId { text: "old" }), (N, MessageId { text: "x" })] }, F { id: MessageId { text: "x" } }"#;
        let two =
            r#"S { handled: [(N, MessageId { text: "y" })] }, F { id: MessageId { text: "y" } }"#;
        let other =
            r#"S { handled: [(N, MessageId { text: "y" })] }, F { id: MessageId { text: "z" } }"#;
        assert_eq!(canonical(one), canonical(two));
        assert_ne!(canonical(two), canonical(other));
    }

    #[test]
    fn dead_lock_requests_are_left_out() {
        let one = r#"R { lock_requests: {MessageId { text: "a" }: (Reference { text: "STL-1" }, Cash), MessageId { text: "b" }: (Reference { text: "STL-1" }, Cash)}, next_arrival: 2 } F(MessageId { text: "b" })"#;
        let two = r#"R { lock_requests: {MessageId { text: "c" }: (Reference { text: "STL-1" }, Cash)}, next_arrival: 2 } F(MessageId { text: "c" })"#;
        assert_eq!(canonical(one), canonical(two));
    }

    #[test]
    fn statistics_and_idle_write_counters_are_left_out_but_not_outstanding_ones() {
        let a = "R { writes: [], actions: [], next_write: 3, durable: 2, stats: RelayStats { settled: 0, aborted: 0, refused: 0 } }";
        let b = "R { writes: [], actions: [], next_write: 9, durable: 8, stats: RelayStats { settled: 1, aborted: 0, refused: 4 } }";
        assert_eq!(canonical(a), canonical(b));
        let c = "R { writes: [W], actions: [], next_write: 3, durable: 2 }";
        let d = "R { writes: [W], actions: [], next_write: 9, durable: 8 }";
        assert_ne!(canonical(c), canonical(d));
    }
}
