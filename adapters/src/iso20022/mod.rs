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
//! message's `SplmtryData` (`supplementary.rs`: journal references, the exact
//! reason, an instruction's securities and cash markets), so every ISM/1
//! member of the four bodies is carried. The only losses, reported in
//! [`Translation::unrepresented`] by ISM/1 path, are a reason text with a
//! character XML cannot hold (see `sese024.rs`) and a cash account of 35
//! characters, one more than ISO 20022's `Max34Text` (see `cash.rs`).
//! Output is deterministic.
//!
//! **Inbound** ([`to_ism`]): a `Document` with any prefix or a default
//! namespace, bare or in a wrapper after an `AppHdr` (head.001.001.02 or .04;
//! see `document.rs`), with comments, processing instructions and whitespace
//! anywhere. Every element on the paths the adapter reads is checked against
//! the content model generated from the official schemas
//! (`schema_tables.rs`): names, order, occurrences, choices, mandatory
//! children, code lists. Values ISM/1 carries go through the ISM/1 parsers,
//! and the body through ISM/1 decoding, so ISM/1 reason codes apply; the
//! error codes are described in `read.rs`. Input is bounded in size, depth
//! and element count (`xml.rs`). What the reader does with what it finds:
//!
//! - Optional elements ISM/1 has no member for are skipped, and content
//!   ISM/1 cannot express (another transaction type, a held instruction, a
//!   counterparty known only by name, two different places of settlement…)
//!   is refused (`NOT_REPRESENTABLE`). An instruction's cross-member rules
//!   (ISM-1 §6.1 rules 1–5) are those of ISM/1 decoding, reported in their
//!   order (`sese023.rs`).
//! - Cash-related elements ISM/1 cannot hold (the counterparty's cash
//!   parties, `Intrmy`, a free instruction's cash account or cash market…),
//!   an optional party known only by name with all it carries, the
//!   intermediaries of a settlement chain, the children of a settlement
//!   party or depository ISM/1 has no member for (`AltrnId`, `PrcgId`,
//!   `AddtlInf`…), a BIC given beside an LEI, and the time of day of a trade
//!   or settlement date are read, left out and listed in
//!   [`Translation::unrepresented`] by XML path (`cash.rs`, `sese023.rs`),
//!   so nothing of the settlement chain or the cash side is dropped silently.
//! - A member the message states in a form ISM/1 cannot carry (an own agent,
//!   seller, buyer or cash servicer by name, an account owner by
//!   proprietary code, a cash owner by name or code) is listed by its ISM/1
//!   path in [`Translation::withheld`], so that a gateway never fills it in
//!   ([`crate::context::complete`]).
//! - Members the message implies rather than states are derived and listed in
//!   [`Translation::derived`] with the element they came from: an
//!   instruction's account owner and own settlement agent from the business
//!   application header (`implied.rs`, read by `routing.rs`; a header BIC or
//!   LEI that breaks ISM/1's rules gives nothing and, where it would have
//!   given a member, is listed as left out — the message is not refused),
//!   and a confirmation's `settled_at` or a statement's `as_of` read from an
//!   `ISODateTime` without a time zone — a local time, whose clock value is
//!   read as UTC ("a local time without a UTC offset is read as UTC"; an
//!   offset is converted exactly; `read.rs`). A gateway completes the rest
//!   from what it knows ([`crate::Dialect::inbound_with`]).

mod cash;
mod common;
mod document;
mod implied;
mod read;
mod report;
mod routing;
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
/// The result's `unrepresented` lists, by XML path, what was read and left
/// out because ISM/1 cannot hold it (the cash side's leftovers, an optional
/// party given by name, a chain's intermediaries, a date's time of day; see
/// `cash.rs`, `sese023.rs`; a status advice's left-out statuses and reasons,
/// `sese024.rs`, ISM-1 §6.2 duty 1); its `derived` lists the members the
/// message implies rather than states (the own side of an instruction from
/// the header, `implied.rs`; a settlement or statement time without a time
/// zone, read as UTC); its `withheld` lists the members it states in a form
/// ISM/1 cannot carry. Other ISO 20022 elements ISM/1 has no
/// member for are ignored, and content ISM/1 cannot express is refused.
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
    let routing = located.header.as_ref().map(routing::read).transpose()?;
    let mut report = report::Report::default();
    let body = match located.message {
        Message::Sese023 => sese023::read(&document, routing.as_ref(), &mut report)?,
        Message::Sese024 => {
            let status = sese024::read(&document)?;
            report.unrepresented.extend(status.unrepresented);
            status.value
        }
        Message::Sese025 => sese025::read(&document, &mut report)?,
        Message::Semt002 => semt002::read(&document, &mut report)?,
    };
    Ok(Translation {
        value: body,
        unrepresented: report.unrepresented,
        derived: report.derived,
        withheld: report.withheld,
    })
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
