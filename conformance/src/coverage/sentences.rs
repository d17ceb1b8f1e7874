//! The normative sentences of the standard: every sentence of
//! `specs/ISM-1.md` that carries a requirement key word (ISM-1 §2.1), with
//! the clause it sits in (issue 14 step 5).
//!
//! Pure: text in, sentences out. The rules are simple enough that a reader
//! can predict them, because the registry quotes their output verbatim:
//! - a numbered heading (`### 8.1 …`, `### A.1 …`) opens a section;
//! - a line starting `N. ` at column 0 opens item N of that section; text
//!   before the first item, or after a paragraph at column 0, is item 0;
//! - paragraphs end at blank lines, bullets (`- `, `N. ` indented) and table
//!   rows; fenced code blocks are skipped;
//! - whitespace inside a paragraph collapses to one space, and the paragraph
//!   splits into sentences after `.`, `!` or `?` followed by a space and an
//!   upper-case letter, a backtick, `*` or `(` (so a bold title such as
//!   `**ALPN.**` stays with its first sentence);
//! - a sentence is normative when it holds `MUST`, `SHALL`, `REQUIRED`
//!   (strength MUST) or `SHOULD`, `RECOMMENDED` (strength SHOULD) as a whole
//!   upper-case word outside code spans; §2.1, which defines the key
//!   words, and the sections under a heading marked `(informative)` have
//!   none.

use crate::catalogue::Strength;

/// One normative sentence and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// The section number, as its heading writes it (`8.1`, `3.3.1`, `A.2`).
    pub section: String,
    /// The numbered item of the section the sentence is in; 0 for prose
    /// outside the numbered items.
    pub item: u32,
    /// MUST or SHOULD: the strongest key word in the sentence.
    pub strength: Strength,
    /// The sentence, whitespace collapsed, markdown kept.
    pub text: String,
}

impl Sentence {
    /// How a person cites the place: `§8.1 item 2`, or `§3.1` for prose.
    pub fn clause(&self) -> String {
        if self.item == 0 {
            format!("§{}", self.section)
        } else {
            format!("§{} item {}", self.section, self.item)
        }
    }
}

/// The key words that make a sentence a requirement, with their strength.
const KEY_WORDS: [(&str, Strength); 5] = [
    ("MUST", Strength::Must),
    ("SHALL", Strength::Must),
    ("REQUIRED", Strength::Must),
    ("SHOULD", Strength::Should),
    ("RECOMMENDED", Strength::Should),
];

/// The section whose sentences define the key words rather than use them.
const KEY_WORD_SECTION: &str = "2.1";

/// Every normative sentence of `spec`, in document order.
pub fn normative_sentences(spec: &str) -> Vec<Sentence> {
    let mut reader = Reader::default();
    for line in spec.lines() {
        reader.line(line);
    }
    reader.flush();
    reader.sentences
}

#[derive(Default)]
struct Reader {
    section: Option<String>,
    item: u32,
    in_code: bool,
    /// The depth of the informative heading we are under, if any.
    informative_below: Option<usize>,
    paragraph: String,
    sentences: Vec<Sentence>,
}

impl Reader {
    fn line(&mut self, line: &str) {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            self.flush();
            self.in_code = !self.in_code;
            return;
        }
        if self.in_code {
            return;
        }
        if let Some(heading) = line.strip_prefix('#') {
            self.flush();
            let depth = 1 + heading.len() - heading.trim_start_matches('#').len();
            let title = heading.trim_start_matches('#');
            if self.informative_below.is_some_and(|d| depth <= d) {
                self.informative_below = None;
            }
            if self.informative_below.is_none() && title.contains("(informative)") {
                self.informative_below = Some(depth);
            }
            self.section = section_number(title);
            self.item = 0;
            return;
        }
        if trimmed.is_empty() {
            self.flush();
            return;
        }
        let indented = line.len() != trimmed.len();
        if !indented {
            if let Some(number) = item_number(line) {
                self.flush();
                self.item = number;
            } else if line.starts_with("- ") {
                // A bullet at column 0 ends the numbered list above it.
                self.flush();
                self.item = 0;
            } else if self.paragraph.is_empty() && !line.starts_with('|') {
                // A paragraph at column 0 after a blank line is prose again.
                self.item = 0;
            }
        } else if trimmed.starts_with("- ") || item_number(trimmed).is_some() {
            self.flush();
        }
        if trimmed.starts_with('|') {
            // Each table row is a paragraph of its own.
            self.flush();
            self.push(trimmed);
            self.flush();
            return;
        }
        self.push(trimmed);
    }

    fn push(&mut self, text: &str) {
        if !self.paragraph.is_empty() {
            self.paragraph.push(' ');
        }
        self.paragraph.push_str(text);
    }

    fn flush(&mut self) {
        let paragraph = std::mem::take(&mut self.paragraph);
        let Some(section) = &self.section else {
            return;
        };
        if section == KEY_WORD_SECTION || self.informative_below.is_some() {
            return;
        }
        let collapsed = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        for text in split_sentences(&collapsed) {
            if let Some(strength) = strength_of(text) {
                self.sentences.push(Sentence {
                    section: section.clone(),
                    item: self.item,
                    strength,
                    text: text.to_string(),
                });
            }
        }
    }
}

/// `8.1` from ` 8.1 QUIC, TLS and membership`, `A.1` from ` A.1 Status …`,
/// `A` from ` Appendix A. Mapping …`; `None` for an unnumbered heading.
fn section_number(heading: &str) -> Option<String> {
    let heading = heading.trim();
    let heading = heading.strip_prefix("Appendix ").unwrap_or(heading);
    let first = heading.split_whitespace().next()?;
    let number = first.trim_end_matches('.');
    let starts_well = number
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
    let well_formed = number
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c.is_ascii_uppercase());
    (starts_well && well_formed && !number.is_empty()).then(|| number.to_string())
}

/// N for a line starting `N. `.
fn item_number(line: &str) -> Option<u32> {
    let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !line[digits.len()..].starts_with(". ") {
        return None;
    }
    digits.parse().ok()
}

/// The sentences of one collapsed paragraph.
fn split_sentences(paragraph: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let bytes = paragraph.as_bytes();
    let mut start = 0;
    for index in 0..bytes.len() {
        let ends = matches!(bytes[index], b'.' | b'!' | b'?')
            && bytes.get(index + 1) == Some(&b' ')
            && bytes
                .get(index + 2)
                .is_some_and(|next| next.is_ascii_uppercase() || b"`*(".contains(next));
        if ends {
            sentences.push(paragraph[start..=index].trim());
            start = index + 2;
        }
    }
    let rest = paragraph[start..].trim();
    if !rest.is_empty() {
        sentences.push(rest);
    }
    sentences
}

/// The strongest key word of `text`, as a whole upper-case word outside
/// code spans (so `AMOUNT_REQUIRED` is a reason code, not a key word).
fn strength_of(text: &str) -> Option<Strength> {
    let prose: String = text.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let words: Vec<&str> = prose
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .collect();
    let mut strongest = None;
    for (key, strength) in KEY_WORDS {
        if words.contains(&key) {
            strongest = match strongest {
                Some(Strength::Must) => Some(Strength::Must),
                _ => Some(strength),
            };
        }
    }
    strongest
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "\
# Title

### 2.1 Requirement key words

The key words \"MUST\" and \"SHOULD\" are defined here.

### 8.1 QUIC

Prose MUST count as item 0. Not this one.

1. Nodes MUST use QUIC. They MAY use more.
   A node SHOULD log it. (Parenthesised MUST too.)
2. **ALPN.** The client MUST offer `ism/1`; the server MUST
   select it.
   - a bullet that SHOULD stand alone

   A second paragraph of item 2 MUST stay in item 2.

Back at column 0, prose SHOULD be item 0.

```json
{\"MUST\": \"not in code\"}
```

| a | b MUST c |

#### 8.1.1 Sub

e.g. lower case after a period MUST not split. Must in lower case is no key word.

| `AMOUNT_REQUIRED` | a code, not a key word |

- A bullet MUST stand alone.
- So MUST the next.

## Appendix A. Mapping (informative)

Readers MUST be lenient here, being informative.

### A.1 Status

1. Still informative: it MUST NOT count.

## Appendix B. Changes

1. A code MUST NOT be removed.
";

    fn texts(spec: &str) -> Vec<(String, u32, Strength, String)> {
        normative_sentences(spec)
            .into_iter()
            .map(|s| (s.section, s.item, s.strength, s.text))
            .collect()
    }

    #[test]
    fn reads_sections_items_and_sentences() {
        let got = texts(SPEC);
        let want: Vec<(String, u32, Strength, String)> = [
            ("8.1", 0, Strength::Must, "Prose MUST count as item 0."),
            ("8.1", 1, Strength::Must, "Nodes MUST use QUIC."),
            ("8.1", 1, Strength::Should, "A node SHOULD log it."),
            ("8.1", 1, Strength::Must, "(Parenthesised MUST too.)"),
            (
                "8.1",
                2,
                Strength::Must,
                "**ALPN.** The client MUST offer `ism/1`; the server MUST select it.",
            ),
            (
                "8.1",
                2,
                Strength::Should,
                "- a bullet that SHOULD stand alone",
            ),
            (
                "8.1",
                2,
                Strength::Must,
                "A second paragraph of item 2 MUST stay in item 2.",
            ),
            (
                "8.1",
                0,
                Strength::Should,
                "Back at column 0, prose SHOULD be item 0.",
            ),
            ("8.1", 0, Strength::Must, "| a | b MUST c |"),
            (
                "8.1.1",
                0,
                Strength::Must,
                "e.g. lower case after a period MUST not split.",
            ),
            ("8.1.1", 0, Strength::Must, "- A bullet MUST stand alone."),
            ("8.1.1", 0, Strength::Must, "- So MUST the next."),
            ("B", 1, Strength::Must, "A code MUST NOT be removed."),
        ]
        .into_iter()
        .map(|(a, b, c, d)| (a.to_string(), b, c, d.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_strongest_key_word_wins() {
        assert_eq!(strength_of("x SHOULD y MUST z"), Some(Strength::Must));
        assert_eq!(strength_of("x RECOMMENDED"), Some(Strength::Should));
        assert_eq!(strength_of("x REQUIRED"), Some(Strength::Must));
        assert_eq!(strength_of("MUSTER and Should"), None);
    }

    #[test]
    fn clauses_read_as_people_cite_them() {
        let sentence = |item| Sentence {
            section: "8.1".into(),
            item,
            strength: Strength::Must,
            text: String::new(),
        };
        assert_eq!(sentence(2).clause(), "§8.1 item 2");
        assert_eq!(sentence(0).clause(), "§8.1");
    }
}
