//! The ISO 20022 XML dialect: four messages to and from ISM/1.
//!
//! | ISO 20022 message | Building block | ISM/1 kind | Mapping |
//! | --- | --- | --- | --- |
//! | sese.023.001.11 SecuritiesSettlementTransactionInstructionV11 | `SctiesSttlmTxInstr` | `SettlementInstruction` | `sese023.rs` |
//! | sese.024.001.12 SecuritiesSettlementTransactionStatusAdviceV12 | `SctiesSttlmTxStsAdvc` | `InstructionStatus` | `sese024.rs` |
//! | sese.025.001.11 SecuritiesSettlementTransactionConfirmationV11 | `SctiesSttlmTxConf` | `SettlementConfirmation` | `sese025.rs` |
//! | semt.002.001.11 SecuritiesBalanceCustodyReportV11 | `SctiesBalCtdyRpt` | `HoldingsStatement` | `semt002.rs` |
//!
//! Other ISM/1 kinds have no ISO 20022 counterpart (`KIND_UNSUPPORTED`);
//! other documents are `XML_MESSAGE_UNSUPPORTED`.
//!
//! **Outbound** ([`from_ism`]): the body is first checked as ISM/1, then
//! written with quick-xml's event writer as a bare `Document` in the
//! message's namespace (no prefix, no `AppHdr`: headers belong to the
//! transport), elements in XSD sequence order, every mandatory element
//! present. ISM/1 data without a proper ISO 20022 element travels in the
//! message's `SplmtryData` (`supplementary.rs`), so every ISM/1 member of the
//! four bodies is carried; the only loss is a reason text with a character
//! XML cannot hold (see `sese024.rs`), reported in
//! [`Translation::unrepresented`]. Output is deterministic.
//!
//! **Inbound** ([`to_ism`]): a `Document` with any prefix or a default
//! namespace, bare or in a wrapper after an `AppHdr` (head.001.001.02 or .04;
//! see `document.rs`), with comments, processing instructions and whitespace
//! anywhere. Every element on the paths the adapter reads is checked against
//! the content model generated from the official schemas
//! (`schema_tables.rs`): names, order, occurrences, choices, mandatory
//! children, code lists. Optional elements ISM/1 has no member for are
//! skipped. Values ISM/1 carries go through the ISM/1 parsers, and the body
//! through ISM/1 decoding, so ISM/1 reason codes apply; the error codes are
//! described in `read.rs`. Input is bounded in size, depth and element count
//! (`xml.rs`).

mod common;
mod document;
mod read;
mod schema;
#[rustfmt::skip]
mod schema_tables;
mod semt002;
mod sese023;
mod sese024;
mod sese025;
mod supplementary;
mod write;
mod xml;

use isthmus_spec::Body;

use crate::error::{TranslateCode, TranslateError, Translation};
use read::Node;
use schema::Message;

/// Reads one ISO 20022 document (sese.023, sese.024, sese.025 or semt.002,
/// optionally after a business application header) into an ISM/1 body.
///
/// ISO 20022 elements ISM/1 has no member for are ignored, except in a
/// status advice, whose left-out statuses and reasons are listed in the
/// result's `unrepresented` (`sese024.rs`, ISM-1 §6.2 duty 1).
pub fn to_ism(native: &[u8]) -> Result<Translation<Body>, TranslateError> {
    let root = xml::parse(native)?;
    let located = document::locate(&root)?;
    let namespace = located.message.namespace();
    let document = Node::check(
        located.document,
        "/Document".to_string(),
        namespace,
        located.message.document(),
    )?;
    let body = match located.message {
        Message::Sese023 => sese023::read(&document)?,
        Message::Sese024 => return sese024::read(&document),
        Message::Sese025 => sese025::read(&document)?,
        Message::Semt002 => semt002::read(&document)?,
    };
    Ok(Translation::lossless(body))
}

/// Writes an ISM/1 body as an ISO 20022 document: a `SettlementInstruction`
/// as sese.023, an `InstructionStatus` as sese.024, a `SettlementConfirmation`
/// as sese.025, a `HoldingsStatement` as semt.002.
///
/// Refuses other kinds (`KIND_UNSUPPORTED`) and bodies that break ISM/1
/// rules (their ISM/1 reason code).
pub fn from_ism(body: &Body) -> Result<Translation<Vec<u8>>, TranslateError> {
    let supported = matches!(
        body,
        Body::SettlementInstruction(_)
            | Body::InstructionStatus(_)
            | Body::SettlementConfirmation(_)
            | Body::HoldingsStatement(_)
    );
    if !supported {
        return Err(TranslateError::new(
            TranslateCode::KindUnsupported,
            format!(
                "{} has no ISO 20022 counterpart; the ISO 20022 dialect writes SettlementInstruction (sese.023), InstructionStatus (sese.024), SettlementConfirmation (sese.025) and HoldingsStatement (semt.002)",
                body.kind()
            ),
        ));
    }
    match common::valid(body)? {
        Body::SettlementInstruction(instruction) => sese023::write(&instruction),
        Body::InstructionStatus(status) => sese024::write(&status),
        Body::SettlementConfirmation(confirmation) => sese025::write(&confirmation),
        Body::HoldingsStatement(statement) => semt002::write(&statement),
        other => Err(TranslateError::new(
            TranslateCode::KindUnsupported,
            format!("{} has no ISO 20022 counterpart", other.kind()),
        )),
    }
}
