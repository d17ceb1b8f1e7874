//! Writing ISO 20022 documents through quick-xml's event writer: an XML
//! declaration, `Document` in its message's default namespace, elements
//! indented by two spaces. Text is escaped by quick-xml (`<`, `>`, `&`);
//! values are checked to hold only XML 1.0 characters, since no escape can
//! carry the others. The output is a function of the input alone, so writing
//! the same body twice gives the same bytes.

use std::borrow::Cow;

use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::xml::is_xml_char;
use crate::error::{TranslateCode, TranslateError};

/// A document being written.
pub(crate) struct XmlWriter {
    writer: Writer<Vec<u8>>,
}

fn write_error(error: std::io::Error) -> TranslateError {
    // Writing into a Vec does not fail; this keeps the signature honest.
    TranslateError::new(
        TranslateCode::NotRepresentable,
        format!("the XML could not be written: {error}"),
    )
}

/// Whether every character of `text` may appear in an XML 1.0 document.
pub(crate) fn is_xml_text(text: &str) -> bool {
    text.chars().all(is_xml_char)
}

impl XmlWriter {
    /// Starts a document: the XML declaration and `<Document xmlns="namespace">`.
    pub(crate) fn document(namespace: &str) -> Result<XmlWriter, TranslateError> {
        let mut writer = XmlWriter {
            writer: Writer::new_with_indent(Vec::new(), b' ', 2),
        };
        writer.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        writer.start_in("Document", namespace)?;
        Ok(writer)
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), TranslateError> {
        self.writer.write_event(event).map_err(write_error)
    }

    /// Opens element `name`.
    pub(crate) fn start(&mut self, name: &str) -> Result<(), TranslateError> {
        self.event(Event::Start(BytesStart::new(name)))
    }

    /// Opens element `name` declaring `namespace` as the default namespace.
    pub(crate) fn start_in(&mut self, name: &str, namespace: &str) -> Result<(), TranslateError> {
        let start = BytesStart::new(name).with_attributes([("xmlns", namespace)]);
        self.event(Event::Start(start))
    }

    /// Closes element `name`.
    pub(crate) fn end(&mut self, name: &str) -> Result<(), TranslateError> {
        self.event(Event::End(BytesEnd::new(name)))
    }

    /// Writes element `name` around whatever `content` writes.
    pub(crate) fn element(
        &mut self,
        name: &str,
        content: impl FnOnce(&mut XmlWriter) -> Result<(), TranslateError>,
    ) -> Result<(), TranslateError> {
        self.start(name)?;
        content(self)?;
        self.end(name)
    }

    /// Writes an empty element `<name/>`.
    pub(crate) fn empty(&mut self, name: &str) -> Result<(), TranslateError> {
        self.event(Event::Empty(BytesStart::new(name)))
    }

    fn text(&mut self, name: &str, text: &str) -> Result<(), TranslateError> {
        if !is_xml_text(text) {
            return Err(TranslateError::new(
                TranslateCode::NotRepresentable,
                format!("the value of <{name}> holds a character XML 1.0 cannot carry"),
            ));
        }
        let escaped: Cow<'_, str> = partial_escape(text);
        self.event(Event::Text(BytesText::from_escaped(escaped)))
    }

    /// Writes `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> Result<(), TranslateError> {
        self.start(name)?;
        self.text(name, text)?;
        self.end(name)
    }

    /// Writes `<name attribute="value">text</name>`.
    pub(crate) fn leaf_with_attribute(
        &mut self,
        name: &str,
        attribute: (&str, &str),
        text: &str,
    ) -> Result<(), TranslateError> {
        self.event(Event::Start(
            BytesStart::new(name).with_attributes([attribute]),
        ))?;
        self.text(name, text)?;
        self.end(name)
    }

    /// Closes `Document` and returns the bytes, ending in a newline.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, TranslateError> {
        self.end("Document")?;
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_indents() {
        let mut writer = XmlWriter::document("urn:x").ok();
        let written = writer.as_mut().map(|w| {
            w.element("A", |w| {
                w.leaf("B", "x < y & 'z'")?;
                w.leaf_with_attribute("C", ("Ccy", "USD"), "1.5")?;
                w.empty("D")
            })
        });
        assert!(matches!(written, Some(Ok(()))));
        let bytes = writer.map(XmlWriter::finish).and_then(Result::ok);
        let text = bytes.map(String::from_utf8).and_then(Result::ok);
        assert_eq!(
            text.as_deref(),
            Some(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:x\">\n  <A>\n    <B>x &lt; y &amp; 'z'</B>\n    <C Ccy=\"USD\">1.5</C>\n    <D/>\n  </A>\n</Document>\n"
            )
        );
    }

    #[test]
    fn refuses_characters_xml_cannot_carry() {
        let mut writer = XmlWriter::document("urn:x").ok();
        let result = writer.as_mut().map(|w| w.leaf("B", "bad \u{FFFE}"));
        assert_eq!(
            result.and_then(Result::err).map(|e| e.code),
            Some(TranslateCode::NotRepresentable)
        );
    }
}
