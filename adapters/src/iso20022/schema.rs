//! What the adapter knows of the ISO 20022 schemas: the four messages it
//! translates (namespace, root building block, content model), the business
//! application headers it accepts around them, and the shape of the content
//! models in [`super::schema_tables`].

use super::schema_tables as tables;

/// How many times an element may occur, and what its content is.
#[derive(Debug)]
pub(crate) struct Particle {
    /// The element's name (ISO 20022 XML tag).
    pub(crate) name: &'static str,
    /// Least occurrences (`minOccurs`).
    pub(crate) min: u32,
    /// Most occurrences (`maxOccurs`); `None` is unbounded.
    pub(crate) max: Option<u32>,
    /// What the element holds.
    pub(crate) kind: Kind,
}

/// The content of a child element, as far as the generic check needs it.
#[derive(Debug)]
pub(crate) enum Kind {
    /// Element-only content: checked when the adapter walks into it.
    Complex,
    /// A code from a closed ISO 20022 code list.
    Code(&'static [&'static str]),
    /// An `xs:boolean`.
    Bool,
    /// Any other simple content (text, identifiers, numbers, dates, amounts).
    Simple,
}

/// An ISO 20022 complex type: its children in `xs:sequence` order, or the
/// alternatives of an `xs:choice` (exactly one of which must appear).
#[derive(Debug)]
pub(crate) struct ComplexType {
    /// The ISO 20022 type name, e.g. `SettlementParties100`.
    pub(crate) name: &'static str,
    /// Whether the children are alternatives of an `xs:choice`.
    pub(crate) choice: bool,
    /// The children, in schema order.
    pub(crate) children: &'static [Particle],
}

impl ComplexType {
    /// The position of child `name` in the sequence, and its particle.
    pub(crate) fn particle(&self, name: &str) -> Option<(usize, &'static Particle)> {
        self.children
            .iter()
            .enumerate()
            .find(|(_, particle)| particle.name == name)
    }
}

/// The ISO 20022 messages the adapter translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    /// sese.023.001.11 SecuritiesSettlementTransactionInstructionV11.
    Sese023,
    /// sese.024.001.12 SecuritiesSettlementTransactionStatusAdviceV12.
    Sese024,
    /// sese.025.001.11 SecuritiesSettlementTransactionConfirmationV11.
    Sese025,
    /// semt.002.001.11 SecuritiesBalanceCustodyReportV11.
    Semt002,
}

impl Message {
    /// Every supported message.
    pub(crate) const ALL: [Message; 4] = [
        Message::Sese023,
        Message::Sese024,
        Message::Sese025,
        Message::Semt002,
    ];

    /// The message definition identifier, as `AppHdr/MsgDefIdr` writes it.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Message::Sese023 => "sese.023.001.11",
            Message::Sese024 => "sese.024.001.12",
            Message::Sese025 => "sese.025.001.11",
            Message::Semt002 => "semt.002.001.11",
        }
    }

    /// The XML namespace of the message's `Document`.
    pub(crate) fn namespace(self) -> &'static str {
        match self {
            Message::Sese023 => "urn:iso:std:iso:20022:tech:xsd:sese.023.001.11",
            Message::Sese024 => "urn:iso:std:iso:20022:tech:xsd:sese.024.001.12",
            Message::Sese025 => "urn:iso:std:iso:20022:tech:xsd:sese.025.001.11",
            Message::Semt002 => "urn:iso:std:iso:20022:tech:xsd:semt.002.001.11",
        }
    }

    /// The content model of `Document`.
    pub(crate) fn document(self) -> &'static ComplexType {
        match self {
            Message::Sese023 => &tables::SESE_023_001_11_DOCUMENT,
            Message::Sese024 => &tables::SESE_024_001_12_DOCUMENT,
            Message::Sese025 => &tables::SESE_025_001_11_DOCUMENT,
            Message::Semt002 => &tables::SEMT_002_001_11_DOCUMENT,
        }
    }

    /// The message whose `Document` is in `namespace`.
    pub(crate) fn from_namespace(namespace: &str) -> Option<Message> {
        Message::ALL
            .into_iter()
            .find(|message| message.namespace() == namespace)
    }
}

/// The business application headers accepted around a `Document`
/// (head.001.001.02 and head.001.001.04), by namespace.
pub(crate) fn app_header(namespace: &str) -> Option<&'static ComplexType> {
    match namespace {
        "urn:iso:std:iso:20022:tech:xsd:head.001.001.02" => {
            Some(&tables::BUSINESS_APPLICATION_HEADER_V02)
        }
        "urn:iso:std:iso:20022:tech:xsd:head.001.001.04" => {
            Some(&tables::BUSINESS_APPLICATION_HEADER_V04)
        }
        _ => None,
    }
}
