//! ISM/1 data that no ISO 20022 element of the message can hold, carried in
//! the message's own extension point: `SplmtryData` (SupplementaryData1),
//! whose `Envlp` takes one element of any namespace.
//!
//! Isthmus writes one `SplmtryData` with `PlcAndNm` naming the building block
//! and, in `Envlp`, an `IsmData` element in namespace [`NAMESPACE`]:
//!
//! ```xml
//! <SplmtryData>
//!   <PlcAndNm>/Document/SctiesSttlmTxConf</PlcAndNm>
//!   <Envlp>
//!     <IsmData xmlns="urn:isthmus:ism:1:splmtry">
//!       <SctiesJrnl><Mkt>XNYS</Mkt><Seq>1042</Seq><NtryHash>…64 hex…</NtryHash></SctiesJrnl>
//!       <CshJrnl>…</CshJrnl>
//!     </IsmData>
//!   </Envlp>
//! </SplmtryData>
//! ```
//!
//! `IsmData` holds, in this order, `RltdMsgId` (sese.024: the instruction's
//! ISM/1 message id, a 36-character UUID that `Max35Text` cannot hold), `Rsn`
//! with `Cd`, `Txt` and, when the reason has them, `Issr` and `SchmeNm`
//! (sese.024: the exact ISM/1 reason, written only when the status element's
//! own reason code and 210-character `AddtlRsnInf` would not read back as it;
//! ISM-1 Appendix A.1), `SctiesJrnl` and `CshJrnl` with `Mkt`, `Seq`, `NtryHash`
//! (sese.025: the ledger journal entries of the claims), `SctiesMkt` and
//! `CshMkt` (sese.023: the MICs of the markets whose ledgers hold the
//! securities and the cash, which no sese.023 element names; real
//! participants' messages do not carry them, and a gateway fills them in).
//! Readers of other
//! supplementary data ignore it, as ISO 20022 intends; this adapter ignores
//! theirs.

use isthmus_spec::body::{JournalRef, Reason};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{Counter, Hex32, ReasonCodeText, Reference, Text};

use super::read::{missing, unexpected, Node};
use super::schema::{ComplexType, Kind, Particle};
use super::schema_tables as t;
use super::write::XmlWriter;
use crate::error::TranslateError;

/// The namespace of Isthmus supplementary data.
pub(crate) const NAMESPACE: &str = "urn:isthmus:ism:1:splmtry";

/// The element Isthmus puts in `SplmtryData/Envlp`.
pub(crate) const ROOT: &str = "IsmData";

const fn one(name: &'static str, kind: Kind) -> Particle {
    Particle {
        name,
        min: 1,
        max: Some(1),
        kind,
    }
}

const fn optional(name: &'static str, kind: Kind) -> Particle {
    Particle {
        name,
        min: 0,
        max: Some(1),
        kind,
    }
}

/// `IsmData` in a status advice (sese.024).
pub(crate) static STATUS_DATA: ComplexType = ComplexType {
    name: "IsmData",
    choice: false,
    children: &[
        optional("RltdMsgId", Kind::Simple),
        optional("Rsn", Kind::Complex),
    ],
};

/// `IsmData` in a confirmation (sese.025).
pub(crate) static CONFIRMATION_DATA: ComplexType = ComplexType {
    name: "IsmData",
    choice: false,
    children: &[
        one("SctiesJrnl", Kind::Complex),
        optional("CshJrnl", Kind::Complex),
    ],
};

/// `IsmData` in an instruction (sese.023): the securities and cash markets.
pub(crate) static INSTRUCTION_DATA: ComplexType = ComplexType {
    name: "IsmData",
    choice: false,
    children: &[
        optional("SctiesMkt", Kind::Simple),
        optional("CshMkt", Kind::Simple),
    ],
};

/// An ISM/1 reason: `Cd`, `Txt`, and the issuer and scheme of its code.
pub(crate) static REASON: ComplexType = ComplexType {
    name: "IsmReason",
    choice: false,
    children: &[
        one("Cd", Kind::Simple),
        one("Txt", Kind::Simple),
        optional("Issr", Kind::Simple),
        optional("SchmeNm", Kind::Simple),
    ],
};

/// An ISM/1 journal reference: `Mkt`, `Seq`, `NtryHash`.
pub(crate) static JOURNAL: ComplexType = ComplexType {
    name: "IsmJournalRef",
    choice: false,
    children: &[
        one("Mkt", Kind::Simple),
        one("Seq", Kind::Simple),
        one("NtryHash", Kind::Simple),
    ],
};

/// Finds Isthmus's `IsmData` among the building block's `SplmtryData` and
/// checks it as `ty`; other supplementary data is left alone.
pub(crate) fn find<'a>(
    block: &Node<'a>,
    ty: &'static ComplexType,
) -> Result<Option<Node<'a>>, TranslateError> {
    let mut found = None;
    for data in block.nodes("SplmtryData", &t::SUPPLEMENTARY_DATA_1)? {
        let envelope_path = format!("{}/Envlp", data.path());
        let Some(envelope) = data.element().children.iter().find(|c| c.name == "Envlp") else {
            return Err(missing(&envelope_path, "SupplementaryData1 requires Envlp"));
        };
        if !envelope.text_is_blank() {
            return Err(super::read::invalid(
                &envelope_path,
                "an envelope holds one element, not text",
            ));
        }
        let mut children = envelope.children.iter();
        let Some(content) = children.next() else {
            return Err(missing(&envelope_path, "an envelope holds one element"));
        };
        if let Some(extra) = children.next() {
            return Err(unexpected(
                &format!("{envelope_path}/{}", extra.name),
                "an envelope holds exactly one element",
            ));
        }
        if content.namespace.as_deref() != Some(NAMESPACE) || content.name != ROOT {
            continue;
        }
        let path = format!("{envelope_path}/{ROOT}");
        if found.is_some() {
            return Err(unexpected(
                &path,
                "Isthmus supplementary data appears twice",
            ));
        }
        found = Some(Node::check(content, path, NAMESPACE, ty)?);
    }
    Ok(found)
}

/// Writes one `SplmtryData` for building block `block` whose `IsmData` holds
/// what `content` writes.
pub(crate) fn write(
    w: &mut XmlWriter,
    block: &str,
    content: impl FnOnce(&mut XmlWriter) -> Result<(), TranslateError>,
) -> Result<(), TranslateError> {
    w.element("SplmtryData", |w| {
        w.leaf("PlcAndNm", &format!("/Document/{block}"))?;
        w.element("Envlp", |w| {
            w.start_in(ROOT, NAMESPACE)?;
            content(w)?;
            w.end(ROOT)
        })
    })
}

/// Reads a journal reference (`Mkt`, `Seq`, `NtryHash`).
pub(crate) fn journal(node: &Node<'_>) -> Result<JournalRef, TranslateError> {
    Ok(JournalRef {
        market: node
            .required_leaf("Mkt", "a journal reference names its market")?
            .ism(Mic::parse)?,
        sequence: node
            .required_leaf(
                "Seq",
                "a journal reference gives the entry's sequence number",
            )?
            .ism(Counter::parse)?,
        entry_hash: node
            .required_leaf("NtryHash", "a journal reference gives the entry's hash")?
            .ism(Hex32::parse)?,
    })
}

/// Writes a journal reference as element `name`.
pub(crate) fn write_journal(
    w: &mut XmlWriter,
    name: &str,
    journal: &JournalRef,
) -> Result<(), TranslateError> {
    w.element(name, |w| {
        w.leaf("Mkt", journal.market.as_str())?;
        w.leaf("Seq", journal.sequence.as_str())?;
        w.leaf("NtryHash", journal.entry_hash.as_str())
    })
}

/// Reads an exact ISM/1 reason (`Cd`, `Txt`, `Issr`, `SchmeNm`).
pub(crate) fn reason(node: &Node<'_>) -> Result<Reason, TranslateError> {
    let issuer = node.leaf("Issr");
    let scheme = node.leaf("SchmeNm");
    if issuer.is_none() {
        if let Some(scheme) = &scheme {
            return Err(missing(
                &format!("{}/Issr", node.path()),
                format!(
                    "the reason names the code list {} but not its issuer (ISM-1 §6.0.6 rule 1)",
                    isthmus_spec::quote::quoted(scheme.text())
                ),
            ));
        }
    }
    Ok(Reason {
        code: node.required_leaf("Cd", "")?.ism(ReasonCodeText::parse)?,
        text: node.required_leaf("Txt", "")?.ism(Text::parse)?,
        issuer: issuer.map(|leaf| leaf.ism(Reference::parse)).transpose()?,
        scheme: scheme.map(|leaf| leaf.ism(Reference::parse)).transpose()?,
    })
}

/// Writes an exact ISM/1 reason as `Rsn`.
pub(crate) fn write_reason(w: &mut XmlWriter, reason: &Reason) -> Result<(), TranslateError> {
    w.element("Rsn", |w| {
        w.leaf("Cd", reason.code.as_str())?;
        w.leaf("Txt", reason.text.as_str())?;
        if let Some(issuer) = &reason.issuer {
            w.leaf("Issr", issuer.as_str())?;
        }
        if let Some(scheme) = &reason.scheme {
            w.leaf("SchmeNm", scheme.as_str())?;
        }
        Ok(())
    })
}
