//! A tiny read-only DOM over quick-xml events, with the limits an adapter
//! needs against hostile input.
//!
//! quick-xml is a fast pull parser, not a full well-formedness checker, so
//! this module adds the checks it leaves to its users: one root element and no
//! text outside it, every tag closed, no undeclared prefix, only XML 1.0
//! characters, an XML declaration only at the very start, no DTD (ISO 20022
//! never uses one, and refusing it rules out entity expansion), UTF-8 only
//! (ISO 20022 mandates it). Comments and processing instructions are skipped;
//! whitespace between elements is kept but never significant to the readers.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::error::{TranslateCode, TranslateError, MAX_NATIVE_MESSAGE_BYTES};

/// Deepest element nesting accepted. The deepest path of the four messages,
/// inside an `AppHdr` wrapper and a supplementary-data envelope, is about 15.
pub(crate) const MAX_DEPTH: usize = 64;

/// Most elements accepted in one document.
pub(crate) const MAX_ELEMENTS: usize = 100_000;

/// One element: its expanded name, attributes, child elements and the
/// character data directly inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    /// The namespace URI the element's prefix (or the default namespace) binds to.
    pub(crate) namespace: Option<String>,
    /// The local name, without prefix.
    pub(crate) name: String,
    /// The attributes, namespace declarations excluded.
    pub(crate) attributes: Vec<Attribute>,
    /// The child elements, in document order.
    pub(crate) children: Vec<Element>,
    /// Character data directly inside the element (text and CDATA, unescaped,
    /// concatenated), including whitespace between child elements.
    pub(crate) text: String,
}

/// One attribute of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    /// The namespace of a prefixed attribute; unprefixed attributes have none.
    pub(crate) namespace: Option<String>,
    /// The local name.
    pub(crate) name: String,
    /// The unescaped value.
    pub(crate) value: String,
}

impl Element {
    /// The value of the unprefixed attribute `name`.
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|attribute| attribute.namespace.is_none() && attribute.name == name)
            .map(|attribute| attribute.value.as_str())
    }

    /// Whether the character data directly inside is only XML whitespace.
    pub(crate) fn text_is_blank(&self) -> bool {
        self.text.chars().all(is_xml_space)
    }
}

/// XML's whitespace characters (XML 1.0 production `S`).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Whether `c` may appear in an XML 1.0 document (production `Char`).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn malformed(message: impl Into<String>) -> TranslateError {
    TranslateError::new(TranslateCode::XmlMalformed, message)
}

fn too_large(message: impl Into<String>) -> TranslateError {
    TranslateError::new(TranslateCode::InputTooLarge, message)
}

/// A plausible XML name: no empty name, no leading digit, `-` or `.`, no
/// characters XML names cannot hold. (Full `NameStartChar` tables are not
/// needed: ISO 20022 names are ASCII, and any other name is refused later.)
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start_ok =
        first.is_alphabetic() || first == '_' || (!first.is_ascii() && is_xml_char(first));
    start_ok
        && chars.all(|c| {
            c.is_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '\u{B7}')
                || (!c.is_ascii() && is_xml_char(c) && !c.is_whitespace())
        })
}

fn check_chars(text: &str, what: &str) -> Result<(), TranslateError> {
    match text.chars().find(|c| !is_xml_char(*c)) {
        Some(bad) => Err(malformed(format!(
            "{what} contains U+{:04X}, which XML 1.0 does not allow",
            u32::from(bad)
        ))),
        None => Ok(()),
    }
}

fn namespace_of(
    resolved: ResolveResult<'_>,
    qname: &[u8],
) -> Result<Option<String>, TranslateError> {
    match resolved {
        ResolveResult::Bound(namespace) => std::str::from_utf8(namespace.as_ref())
            .map(|uri| Some(uri.to_string()))
            .map_err(|_| malformed("a namespace name is not UTF-8")),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => Err(malformed(format!(
            "the prefix \"{}\" of <{}> is not declared",
            String::from_utf8_lossy(&prefix),
            String::from_utf8_lossy(qname)
        ))),
    }
}

/// Most attributes (namespace declarations included) on one element.
const MAX_ATTRIBUTES_PER_ELEMENT: usize = 32;

/// Builds an element (without children) from a start tag.
fn open(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, TranslateError> {
    let qname = start.name();
    let (resolved, local) = reader.resolve_element(qname);
    let name = std::str::from_utf8(local.as_ref())
        .map_err(|_| malformed("an element name is not UTF-8"))?
        .to_string();
    if !is_xml_name(&name) {
        return Err(malformed(format!("\"{name}\" is not an XML element name")));
    }
    let namespace = namespace_of(resolved, qname.as_ref())?;
    // quick-xml's duplicate check is quadratic in the number of attributes;
    // ISO 20022 elements carry one or two, so a bound keeps parsing linear.
    let count = start.attributes().with_checks(false).count();
    if count > MAX_ATTRIBUTES_PER_ELEMENT {
        return Err(TranslateError::at(
            crate::error::TranslateCode::InputTooLarge,
            name.as_str(),
            format!("<{name}> has {count} attributes and namespace declarations; at most {MAX_ATTRIBUTES_PER_ELEMENT} are read"),
        ));
    }
    let mut attributes = Vec::new();
    let mut raw_attributes = start.attributes();
    raw_attributes.with_checks(true);
    for attribute in raw_attributes {
        let attribute = attribute
            .map_err(|error| malformed(format!("a malformed attribute in <{name}>: {error}")))?;
        // Namespace declarations are the reader's business, not data.
        if attribute.key.as_namespace_binding().is_some() {
            continue;
        }
        let (resolved, local) = reader.resolve_attribute(attribute.key);
        let attribute_name = std::str::from_utf8(local.as_ref())
            .map_err(|_| malformed("an attribute name is not UTF-8"))?
            .to_string();
        if !is_xml_name(&attribute_name) {
            return Err(malformed(format!(
                "\"{attribute_name}\" is not an XML attribute name"
            )));
        }
        let value = attribute
            .unescape_value()
            .map_err(|error| {
                malformed(format!(
                    "the attribute {attribute_name} of <{name}> is malformed: {error}"
                ))
            })?
            .into_owned();
        check_chars(
            &value,
            &format!("the attribute {attribute_name} of <{name}>"),
        )?;
        attributes.push(Attribute {
            namespace: namespace_of(resolved, attribute.key.as_ref())?,
            name: attribute_name,
            value,
        });
    }
    Ok(Element {
        namespace,
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

/// What the parser is building: the open elements, and the finished root.
struct Builder {
    open: Vec<Element>,
    root: Option<Element>,
    elements: usize,
}

impl Builder {
    fn start(&mut self, element: Element) -> Result<(), TranslateError> {
        if self.root.is_some() {
            return Err(malformed(format!(
                "<{}> follows the root element; a document has exactly one root",
                element.name
            )));
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(too_large(format!(
                "the document has more than {MAX_ELEMENTS} elements"
            )));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(too_large(format!(
                "elements are nested more than {MAX_DEPTH} levels deep"
            )));
        }
        self.open.push(element);
        Ok(())
    }

    fn end(&mut self) -> Result<(), TranslateError> {
        let element = self
            .open
            .pop()
            .ok_or_else(|| malformed("a closing tag has no opening tag"))?;
        match self.open.last_mut() {
            Some(parent) => parent.children.push(element),
            None => self.root = Some(element),
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), TranslateError> {
        check_chars(text, "the character data")?;
        match self.open.last_mut() {
            Some(element) => element.text.push_str(text),
            None if text.chars().all(is_xml_space) => {}
            None => return Err(malformed("character data appears outside the root element")),
        }
        Ok(())
    }
}

/// Parses a whole document into its root element.
///
/// Refuses input over [`MAX_NATIVE_MESSAGE_BYTES`], nested over [`MAX_DEPTH`]
/// or with over [`MAX_ELEMENTS`] elements (`INPUT_TOO_LARGE`), and anything
/// not well-formed (`XML_MALFORMED`).
pub(crate) fn parse(input: &[u8]) -> Result<Element, TranslateError> {
    if input.len() > MAX_NATIVE_MESSAGE_BYTES {
        return Err(too_large(format!(
            "the document has {} bytes; at most {MAX_NATIVE_MESSAGE_BYTES} are accepted",
            input.len()
        )));
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|error| {
        malformed(format!(
            "the document is not UTF-8 (ISO 20022 messages are): invalid byte at offset {}",
            error.valid_up_to()
        ))
    })?;
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_comments = true;
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut builder = Builder {
        open: Vec::new(),
        root: None,
        elements: 0,
    };
    let mut first_event = true;
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|error| {
            malformed(format!("not well-formed XML near byte {position}: {error}"))
        })?;
        let was_first = std::mem::replace(&mut first_event, false);
        match event {
            Event::Decl(declaration) => {
                if !was_first || position != 0 {
                    return Err(malformed(
                        "the XML declaration must be the very first thing in the document",
                    ));
                }
                let version = declaration
                    .version()
                    .map_err(|error| malformed(format!("bad XML declaration: {error}")))?;
                if version.as_ref() != b"1.0" {
                    return Err(malformed(format!(
                        "XML version \"{}\" is not supported; ISO 20022 uses XML 1.0",
                        String::from_utf8_lossy(&version)
                    )));
                }
                if let Some(encoding) = declaration.encoding() {
                    let encoding = encoding
                        .map_err(|error| malformed(format!("bad XML declaration: {error}")))?;
                    if !encoding.eq_ignore_ascii_case(b"UTF-8") {
                        return Err(malformed(format!(
                            "the document declares encoding \"{}\"; ISO 20022 messages are UTF-8",
                            String::from_utf8_lossy(&encoding)
                        )));
                    }
                }
            }
            Event::DocType(_) => {
                return Err(malformed(
                    "document type declarations (DTDs) are not accepted",
                ))
            }
            Event::Start(start) => {
                let element = open(&reader, &start)?;
                builder.start(element)?;
            }
            Event::Empty(start) => {
                let element = open(&reader, &start)?;
                builder.start(element)?;
                builder.end()?;
            }
            Event::End(_) => builder.end()?,
            Event::Text(text) => {
                let text = text.unescape().map_err(|error| {
                    malformed(format!("bad character or entity reference: {error}"))
                })?;
                builder.text(&text)?;
            }
            Event::CData(data) => {
                let data = data
                    .decode()
                    .map_err(|error| malformed(format!("bad CDATA section: {error}")))?;
                builder.text(&data)?;
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(unclosed) = builder.open.last() {
        return Err(malformed(format!(
            "the document ends before <{}> is closed",
            unclosed.name
        )));
    }
    builder
        .root
        .ok_or_else(|| malformed("the document has no root element"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(input: &str) -> Option<TranslateCode> {
        parse(input.as_bytes()).err().map(|error| error.code)
    }

    #[test]
    fn reads_names_namespaces_text_and_attributes() {
        let doc = parse(
            br#"<?xml version="1.0" encoding="utf-8"?>
<!-- a comment --><?pi data?>
<n:Document xmlns:n="urn:x" xmlns="urn:default"><A Ccy="USD">1 &amp; 2<![CDATA[<3]]></A><B/></n:Document>"#,
        );
        let doc = doc.ok();
        let root = doc.as_ref();
        assert_eq!(root.map(|r| r.name.as_str()), Some("Document"));
        assert_eq!(root.and_then(|r| r.namespace.as_deref()), Some("urn:x"));
        let a = root.and_then(|r| r.children.first());
        assert_eq!(a.map(|a| a.text.as_str()), Some("1 & 2<3"));
        assert_eq!(a.and_then(|a| a.attribute("Ccy")), Some("USD"));
        assert_eq!(a.and_then(|a| a.namespace.as_deref()), Some("urn:default"));
        assert_eq!(root.map(|r| r.children.len()), Some(2));
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        for bad in [
            "",
            "   ",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text<a/>",
            "<a/>text",
            "<p:a/>",
            "<a x='1' x='2'/>",
            "<a>&unknown;</a>",
            "<a>&#1;</a>",
            "<a>\u{1}</a>",
            "<!DOCTYPE a><a/>",
            "<a/><?xml version=\"1.0\"?>",
            " <?xml version=\"1.0\"?><a/>",
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>",
            "<a><!-- x -- y --></a>",
            "<1a/>",
        ] {
            assert_eq!(code(bad), Some(TranslateCode::XmlMalformed), "{bad:?}");
        }
        assert_eq!(
            parse(b"<a>\xff</a>").err().map(|e| e.code),
            Some(TranslateCode::XmlMalformed)
        );
    }

    #[test]
    fn limits_depth_size_and_count() {
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(code(&deep), Some(TranslateCode::InputTooLarge));
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let big = vec![b' '; MAX_NATIVE_MESSAGE_BYTES + 1];
        assert_eq!(
            parse(&big).err().map(|e| e.code),
            Some(TranslateCode::InputTooLarge)
        );
        let many = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert_eq!(code(&many), Some(TranslateCode::InputTooLarge));
    }
}
