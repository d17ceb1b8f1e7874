//! The text block (block 4) of an MT54x: lines → fields → the tree of
//! sequences that `:16R:` and `:16S:` delimit.
//!
//! Followed: *Standards MT General Information* field structure — a field
//! starts on a new line with `:`, a 2-digit tag number and an optional
//! upper-case letter option, then `:`; a line that does not start with `:`
//! continues the field before it. ISO 15022 messages group their fields in
//! sequences opened by `:16R:<name>` and closed by `:16S:<name>` with the
//! same name (16c). Every field of an MT54x lies inside a sequence.

use crate::error::{TranslateCode, TranslateError};
use isthmus_spec::quote::quoted;

/// Deepest nesting of sequences read. MT548 nests deepest (C1a1B1a1, five
/// levels below its sequence C); anything deeper is not an MT54x.
pub const MAX_SEQUENCE_DEPTH: usize = 8;

/// Most lines of one field: the longest MT54x field formats are the
/// narratives `10*35x` (`:70E:`).
pub const MAX_FIELD_LINES: usize = 10;

/// Most characters in a sequence name (`16c`).
const MAX_SEQUENCE_NAME_CHARS: usize = 16;

/// One field: its tag and its content lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// Tag number and letter option, e.g. `98A`.
    pub tag: String,
    /// Content: the rest of the first line, then each continuation line.
    pub lines: Vec<String>,
    /// 1-based line number in the text block, for messages.
    pub line: usize,
    /// Position of the field in the message, unique per field.
    pub id: usize,
}

impl Field {
    /// The tag number without the letter option, e.g. `98`.
    pub fn number(&self) -> &str {
        self.tag.get(..2).unwrap_or("")
    }

    /// The letter option, e.g. `A` for `98A`, or empty.
    pub fn option(&self) -> &str {
        self.tag.get(2..).unwrap_or("")
    }

    /// The first content line.
    pub fn first(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }
}

/// A sequence `:16R:NAME` … `:16S:NAME`, or the root holding the top-level sequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sequence {
    /// The name in `:16R:`; empty for the root.
    pub name: String,
    /// The line of its `:16R:`.
    pub line: usize,
    /// Its fields and subsequences in message order.
    pub items: Vec<Item>,
}

/// An entry of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A field.
    Field(Field),
    /// A subsequence.
    Sequence(Sequence),
}

impl Sequence {
    /// Its own fields (not those of subsequences), in order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.items.iter().filter_map(|item| match item {
            Item::Field(field) => Some(field),
            Item::Sequence(_) => None,
        })
    }

    /// Its direct subsequences, in order.
    pub fn sequences(&self) -> impl Iterator<Item = &Sequence> {
        self.items.iter().filter_map(|item| match item {
            Item::Sequence(sequence) => Some(sequence),
            Item::Field(_) => None,
        })
    }

    /// Its direct subsequences called `name`.
    pub fn sequences_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Sequence> {
        self.sequences().filter(move |s| s.name == name)
    }
}

fn structure_error(line: usize, message: impl Into<String>) -> TranslateError {
    TranslateError::at(
        TranslateCode::MtBlockStructure,
        format!("{{4:}} line {line}"),
        message,
    )
}

/// Splits the text block into fields.
pub(crate) fn fields(text: &str) -> Result<Vec<Field>, TranslateError> {
    let mut fields: Vec<Field> = Vec::new();
    if text.is_empty() {
        return Ok(fields);
    }
    for (index, raw) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.contains('\r') {
            return Err(structure_error(
                line_number,
                "a carriage return appears inside the line; lines end with CR LF or LF",
            ));
        }
        if line.is_empty() {
            return Err(structure_error(
                line_number,
                "the line is empty; every line of the text block belongs to a field",
            ));
        }
        if line.starts_with(':') {
            let (tag, content) = split_tag(line).ok_or_else(|| {
                structure_error(
                    line_number,
                    format!("{} does not start with a field tag such as :20C: (colon, 2 digits, optional upper-case letter, colon)", quoted(&line.chars().take(12).collect::<String>())),
                )
            })?;
            let id = fields.len();
            fields.push(Field {
                tag: tag.to_string(),
                lines: vec![content.to_string()],
                line: line_number,
                id,
            });
        } else {
            let Some(field) = fields.last_mut() else {
                return Err(structure_error(
                    line_number,
                    "the text block must start with a field tag",
                ));
            };
            if field.lines.len() >= MAX_FIELD_LINES {
                return Err(TranslateError::at(
                    TranslateCode::MtFieldFormat,
                    format!(":{}: at line {}", field.tag, field.line),
                    format!(
                        "the field has more than {MAX_FIELD_LINES} lines; no MT54x field has more"
                    ),
                ));
            }
            field.lines.push(line.to_string());
        }
    }
    Ok(fields)
}

/// `:98A::SETT//…` → (`98A`, `:SETT//…`).
fn split_tag(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let (tag, content) = rest.split_at(end);
    let bytes = tag.as_bytes();
    let well_formed = matches!(bytes.len(), 2 | 3)
        && bytes.iter().take(2).all(u8::is_ascii_digit)
        && bytes.get(2).is_none_or(u8::is_ascii_uppercase);
    well_formed.then(|| (tag, content.get(1..).unwrap_or("")))
}

/// Groups fields into sequences by `:16R:`/`:16S:`.
pub(crate) fn tree(fields: Vec<Field>) -> Result<Sequence, TranslateError> {
    let mut stack: Vec<Sequence> = vec![Sequence {
        name: String::new(),
        line: 0,
        items: Vec::new(),
    }];
    for field in fields {
        match field.tag.as_str() {
            "16R" => {
                let name = sequence_name(&field)?;
                if stack.len() > MAX_SEQUENCE_DEPTH {
                    return Err(structure_error(
                        field.line,
                        format!("sequences nest more than {MAX_SEQUENCE_DEPTH} deep"),
                    ));
                }
                stack.push(Sequence {
                    name,
                    line: field.line,
                    items: Vec::new(),
                });
            }
            "16S" => {
                let name = sequence_name(&field)?;
                let open = match stack.pop() {
                    Some(open) if !open.name.is_empty() => open,
                    _ => {
                        return Err(TranslateError::at(
                            TranslateCode::MtSequenceMissing,
                            format!("{{4:}} line {}", field.line),
                            format!(
                            ":16S:{name} closes a sequence that was never opened with :16R:{name}"
                        ),
                        ))
                    }
                };
                if open.name != name {
                    return Err(TranslateError::at(
                        TranslateCode::MtSequenceMissing,
                        format!("{{4:}} line {}", field.line),
                        format!(
                            "sequence {} opened at line {} is not closed: :16S:{name} comes first; expected :16S:{}",
                            open.name, open.line, open.name
                        ),
                    ));
                }
                if let Some(parent) = stack.last_mut() {
                    parent.items.push(Item::Sequence(open));
                }
            }
            _ => {
                if stack.len() < 2 {
                    return Err(structure_error(
                        field.line,
                        format!(":{}: lies outside any :16R:/:16S: sequence; every field of an MT54x belongs to a sequence", field.tag),
                    ));
                }
                if let Some(open) = stack.last_mut() {
                    open.items.push(Item::Field(field));
                }
            }
        }
    }
    if let Some(open) = stack.last().filter(|open| !open.name.is_empty()) {
        return Err(TranslateError::at(
            TranslateCode::MtSequenceMissing,
            format!("{{4:}} line {}", open.line),
            format!(
                "sequence {} opened at line {} is never closed with :16S:{}",
                open.name, open.line, open.name
            ),
        ));
    }
    stack
        .pop()
        .ok_or_else(|| structure_error(0, "no root sequence"))
}

/// The name of a `:16R:`/`:16S:` field: 1 to 16 upper-case letters or digits on one line.
fn sequence_name(field: &Field) -> Result<String, TranslateError> {
    let name = field.first();
    let valid = field.lines.len() == 1
        && (1..=MAX_SEQUENCE_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !valid {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            format!(":{}: at line {}", field.tag, field.line),
            format!(
                "{name} is not a sequence name (1 to 16 upper-case letters or digits on one line)",
                name = quoted(name)
            ),
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Sequence, TranslateError> {
        fields(text).and_then(tree)
    }

    #[test]
    fn builds_the_sequence_tree() {
        let root = parse(":16R:GENL\r\n:20C::SEME//A\r\n:16R:LINK\r\n:20C::COMM//B\r\n:16S:LINK\r\n:16S:GENL\r\n:16R:TRADDET\r\n:35B:ISIN US0378331005\r\nAPPLE INC\r\n:16S:TRADDET")
            .ok();
        let names: Vec<String> = root
            .iter()
            .flat_map(|r| r.sequences())
            .map(|s| s.name.clone())
            .collect();
        assert_eq!(names, ["GENL", "TRADDET"]);
        let traddet = root
            .as_ref()
            .and_then(|r| r.sequences_named("TRADDET").next().cloned());
        let isin = traddet.as_ref().and_then(|t| t.fields().next().cloned());
        assert_eq!(
            isin.map(|f| (f.tag, f.lines.len(), f.line)),
            Some(("35B".to_string(), 2, 8))
        );
    }

    #[test]
    fn refuses_unbalanced_or_stray_fields() {
        let code = |text: &str| parse(text).err().map(|e| e.code);
        assert_eq!(code(":16R:GENL"), Some(TranslateCode::MtSequenceMissing));
        assert_eq!(
            code(":16R:GENL\n:16S:LINK"),
            Some(TranslateCode::MtSequenceMissing)
        );
        assert_eq!(code(":16S:GENL"), Some(TranslateCode::MtSequenceMissing));
        assert_eq!(code(":20C::SEME//A"), Some(TranslateCode::MtBlockStructure));
        assert_eq!(code("ABC"), Some(TranslateCode::MtBlockStructure));
        assert_eq!(
            code(":16R:GENL\n\n:16S:GENL"),
            Some(TranslateCode::MtBlockStructure)
        );
        assert_eq!(
            code(":16R:GENL\n:2C::SEME//A\n:16S:GENL"),
            Some(TranslateCode::MtBlockStructure)
        );
        assert_eq!(
            code(":16R:genl\n:16S:genl"),
            Some(TranslateCode::MtFieldFormat)
        );
        let deep = ":16R:A\n".repeat(MAX_SEQUENCE_DEPTH + 1);
        assert_eq!(code(&deep), Some(TranslateCode::MtBlockStructure));
        let long = format!(
            ":16R:A\n:70E::SPRO//X{}\n:16S:A",
            "\nY".repeat(MAX_FIELD_LINES)
        );
        assert_eq!(code(&long), Some(TranslateCode::MtFieldFormat));
    }
}
