//! Finding the message in what arrived: a bare `Document`, or a wrapper
//! element (`<BizMsg>`, `<Envelope>`, `<RequestPayload>`… — the name is the
//! transport's business) holding a business application header `AppHdr`
//! (head.001.001.02 or head.001.001.04) and then the `Document`.
//!
//! The header is checked: its mandatory elements must be there, in order,
//! and its `MsgDefIdr` must name the message the `Document` is, because a
//! header that says one thing while the document is another is a message
//! nobody should act on. Its routing (`Fr`, `To`) is what an instruction
//! leaves implied, so it is handed on (`routing.rs`).

use isthmus_spec::quote::{excerpt, quoted};

use super::read::{invalid, missing, unexpected, Node};
use super::schema::{app_header, Message};
use super::xml::Element;
use crate::error::{TranslateCode, TranslateError};

/// The message found, and its `Document` element.
#[derive(Debug)]
pub(crate) struct Located<'a> {
    /// Which message the document is.
    pub(crate) message: Message,
    /// The `Document` element.
    pub(crate) document: &'a Element,
    /// The business application header, checked, if one came with the document.
    pub(crate) header: Option<Node<'a>>,
}

fn unsupported(message: impl Into<String>) -> TranslateError {
    TranslateError::new(TranslateCode::XmlMessageUnsupported, message)
}

fn describe(element: &Element) -> String {
    match &element.namespace {
        Some(namespace) => format!(
            "<{}> in namespace {}",
            excerpt(&element.name),
            quoted(namespace)
        ),
        None => format!("<{}> without a namespace", excerpt(&element.name)),
    }
}

/// Identifies a `Document` by its namespace.
fn identify(document: &Element) -> Result<Message, TranslateError> {
    document
        .namespace
        .as_deref()
        .and_then(Message::from_namespace)
        .ok_or_else(|| {
            let supported = Message::ALL.map(Message::id).join(", ");
            unsupported(format!(
                "{} is not a supported ISO 20022 message; supported are {supported}",
                describe(document)
            ))
        })
}

/// Locates and identifies the message in a parsed document.
pub(crate) fn locate(root: &Element) -> Result<Located<'_>, TranslateError> {
    if root.name == "Document" {
        let message = identify(root)?;
        return Ok(Located {
            message,
            document: root,
            header: None,
        });
    }
    let Some(document) = root.children.iter().find(|child| child.name == "Document") else {
        return Err(unsupported(format!(
            "{} is neither an ISO 20022 Document nor a wrapper holding an AppHdr and a Document",
            describe(root)
        )));
    };
    let message = identify(document)?;
    let wrapper = format!("/{}", root.name);
    if !root.text_is_blank() {
        return Err(invalid(
            &wrapper,
            "a message wrapper holds only AppHdr and Document, but text appears in it",
        ));
    }
    let mut children = root.children.iter();
    let mut next = children.next();
    let mut checked_header = None;
    if let Some(header) = next.filter(|child| child.name == "AppHdr") {
        checked_header = Some(check_header(header, message)?);
        next = children.next();
    }
    match next {
        Some(child) if std::ptr::eq(child, document) => {}
        Some(child) => {
            return Err(unexpected(
                &format!("{wrapper}/{}", child.name),
                format!(
                    "a message wrapper holds an AppHdr and then the Document, not <{}>",
                    excerpt(&child.name)
                ),
            ))
        }
        None => {
            return Err(missing(
                &format!("{wrapper}/Document"),
                "the Document is missing",
            ))
        }
    }
    if let Some(extra) = children.next() {
        return Err(unexpected(
            &format!("{wrapper}/{}", extra.name),
            format!(
                "<{}> follows the Document in the message wrapper",
                excerpt(&extra.name)
            ),
        ));
    }
    Ok(Located {
        message,
        document,
        header: checked_header,
    })
}

/// Checks a business application header against head.001.001.02 or .04 and
/// against the message it announces.
fn check_header(header: &Element, message: Message) -> Result<Node<'_>, TranslateError> {
    let namespace = header.namespace.as_deref().unwrap_or("");
    let Some(ty) = app_header(namespace) else {
        return Err(unsupported(format!(
            "{} is not a supported business application header (head.001.001.02 or head.001.001.04)",
            describe(header)
        )));
    };
    let node = Node::check(header, "/AppHdr".to_string(), namespace, ty)?;
    let declared = node.required_leaf("MsgDefIdr", "the header must name its message")?;
    // Max35Text: compared as written, the way SWIFT and T2S write it.
    if declared.text() != message.id() {
        return Err(invalid(
            declared.path(),
            format!(
                "the header announces {} but the Document is {}",
                quoted(declared.text()),
                message.id()
            ),
        ));
    }
    Ok(node)
}
