//! ISM/1 → MT: writes one body in a fixed, canonical layout (sequence and
//! field order, CR LF line ends), so that reading our own output and
//! writing it again gives the same bytes.

mod confirmation;
mod holdings;
mod instruction;
mod status;

use isthmus_spec::decimal::Money;
use isthmus_spec::ids::{Hex32, Reference};
use isthmus_spec::Body;

use super::fields;
use crate::error::{TranslateCode, TranslateError, Translation};

/// Writes an ISM/1 body as an MT message.
pub(crate) fn write(body: &Body) -> Result<Translation<Vec<u8>>, TranslateError> {
    // A body built in code may break ISM/1 rules the decoder would refuse;
    // check it first so no MT message is written from an invalid body.
    let kind = body.kind();
    let checked = Body::from_json(kind, &body.to_json(), "body")?;
    match &checked {
        Body::SettlementInstruction(instruction) => instruction::write(instruction),
        Body::SettlementConfirmation(confirmation) => confirmation::write(confirmation),
        Body::InstructionStatus(status) => status::write(status),
        Body::HoldingsStatement(statement) => holdings::write(statement),
        _ => Err(TranslateError::at(
            TranslateCode::KindUnsupported,
            "kind",
            format!("ISM/1 {kind} has no MT54x counterpart; MT540–MT548 carry SettlementInstruction, SettlementConfirmation and InstructionStatus, MT535 a HoldingsStatement"),
        )),
    }
}

/// The lines of a text block under construction.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    lines: Vec<String>,
    own_reference_at: Option<usize>,
}

impl Lines {
    /// `:16R:<name>`.
    pub fn open(&mut self, name: &str) {
        self.lines.push(format!(":16R:{name}"));
    }

    /// `:16S:<name>`.
    pub fn close(&mut self, name: &str) {
        self.lines.push(format!(":16S:{name}"));
    }

    /// `:<tag>:<content>`.
    pub fn field(&mut self, tag: &str, content: &str) {
        self.lines.push(format!(":{tag}:{content}"));
    }

    /// A line already formatted, such as `:95R::DEAG/DTCYID/0901`.
    pub fn push(&mut self, line: String) {
        self.lines.push(line);
    }

    /// `:<tag>::<qualifier>//<value>`.
    pub fn qualified(&mut self, tag: &str, qualifier: &str, value: &str) {
        self.lines.push(format!(":{tag}::{qualifier}//{value}"));
    }

    /// A narrative `:<tag>::<qualifier>//` whose first line follows the
    /// qualifier and whose other lines continue the field.
    pub fn narrative(&mut self, tag: &str, qualifier: &str, narrative: &[String]) {
        let mut lines = narrative.iter();
        let first = lines.next().map(String::as_str).unwrap_or("");
        self.qualified(tag, qualifier, first);
        self.lines.extend(lines.cloned());
    }

    /// The linkages of an advice (MT544–MT548): the instruction it answers
    /// (`:20C::RELA//`) and, if known, the settlement (`:20C::MITI//`), each
    /// in its own A1 LINK sequence.
    pub fn advice_links(&mut self, rela: &str, miti: Option<&str>) {
        self.open("LINK");
        self.qualified("20C", "RELA", rela);
        self.close("LINK");
        if let Some(miti) = miti {
            self.open("LINK");
            self.qualified("20C", "MITI", miti);
            self.close("LINK");
        }
    }

    /// A placeholder for the advice's own `:20C::SEME//`, filled by [`Lines::finish`].
    pub fn own_reference(&mut self) {
        self.own_reference_at = Some(self.lines.len());
        self.lines.push(String::new());
    }

    /// The finished lines. An advice's own reference (ISM/1 bodies carry
    /// none) is derived from the rest of the message: `ISM` and the first 13
    /// hex digits of the SHA-256 of the message type and the other lines, so
    /// the same content always gets the same reference and different content
    /// almost surely a different one.
    pub fn finish(mut self, message_type: u16) -> Vec<String> {
        if let Some(at) = self.own_reference_at {
            let mut content = message_type.to_string();
            for (index, line) in self.lines.iter().enumerate() {
                if index != at {
                    content.push_str("\r\n");
                    content.push_str(line);
                }
            }
            let digest = Hex32::sha256_of(content.as_bytes());
            let reference: String = digest.as_str().chars().take(13).collect();
            if let Some(line) = self.lines.get_mut(at) {
                *line = format!(":20C::SEME//ISM{}", reference.to_uppercase());
            }
        }
        self.lines
    }
}

/// A reference that must fit `16x`; longer ones are refused, never truncated
/// (ISM-1 Appendix A).
pub(crate) fn reference_16<'r>(
    reference: &'r Reference,
    ism_path: &str,
    mt_field: &str,
) -> Result<&'r str, TranslateError> {
    let text = reference.as_str();
    let count = text.chars().count();
    if count > fields::REFERENCE_CHARS {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            ism_path,
            format!(
                "\"{text}\" has {count} characters; {mt_field} holds {} (16x), and MT cannot carry it whole, so it is refused rather than truncated",
                fields::REFERENCE_CHARS
            ),
        ));
    }
    Ok(text)
}

/// An ISM/1 decimal as `15d`, or `NOT_REPRESENTABLE` at `ism_path`.
pub(crate) fn decimal(
    text: &str,
    ism_path: &str,
    mt_field: &str,
) -> Result<String, TranslateError> {
    fields::decimal_to_mt(text).ok_or_else(|| {
        TranslateError::at(
            TranslateCode::NotRepresentable,
            ism_path,
            format!(
                "{text} needs more than the {} characters (decimal comma included) of {mt_field}",
                fields::DECIMAL_CHARS
            ),
        )
    })
}

/// The `:19A:` content (`3!a15d`, e.g. `USD231450,00`) of an optional
/// settlement amount, written under `qualifier`.
pub(crate) fn amount_19a(
    money: Option<&Money>,
    qualifier: &str,
) -> Result<Option<String>, TranslateError> {
    money
        .map(|money| {
            decimal(
                money.amount.as_str(),
                "body.settlement_amount.amount",
                &format!(":19A::{qualifier}//"),
            )
            .map(|amount| format!("{}{amount}", money.currency))
        })
        .transpose()
}
