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
//!
//! Two leniencies of quick-xml are refused by name (ISM-1 Appendix A.2):
//!
//! - **At most one byte order mark, as the very first character.** XML 1.0
//!   (§4.3.3, Appendix F) lets UTF-8 entities begin with the encoding
//!   signature U+FEFF; it is not part of the document. quick-xml drops a BOM
//!   at the start of what it reads, so a document opening with two would be
//!   read as if it had one: the second is a character before the root
//!   element, where XML 1.0 allows only markup and whitespace.
//! - **No prefix undeclaration.** Namespaces in XML 1.0 (Third Edition) §3:
//!   "In a namespace declaration for a prefix (i.e., where the NSAttName is a
//!   PrefixedAttName), the attribute value MUST NOT be empty." `xmlns:p=""` is
//!   XML 1.1's undeclaration, which quick-xml implements; only the default
//!   namespace may be undeclared (`xmlns=""`). The reserved namespace names of
//!   `xml` and `xmlns` may not be the default namespace either (same section);
//!   quick-xml itself refuses them for a prefix.
//!
//! Sentences quote names and values only through [`isthmus_spec::quote`],
//! and quick-xml's own error texts, which quote input, through its `location`.

use isthmus_spec::quote::{excerpt, location, quoted};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{PrefixDeclaration, ResolveResult};
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

/// The UTF-8 byte order mark, U+FEFF as an encoding signature.
const BYTE_ORDER_MARK: char = '\u{FEFF}';

/// The namespace name the prefix `xml` is bound to (Namespaces in XML 1.0 §3).
const XML_NAMESPACE: &[u8] = b"http://www.w3.org/XML/1998/namespace";

/// The namespace name the prefix `xmlns` is bound to (Namespaces in XML 1.0 §3).
const XMLNS_NAMESPACE: &[u8] = b"http://www.w3.org/2000/xmlns/";

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
            "the prefix {} of <{}> is not declared",
            quoted(&String::from_utf8_lossy(&prefix)),
            excerpt(&String::from_utf8_lossy(qname))
        ))),
    }
}

/// Most attributes (namespace declarations included) on one element.
const MAX_ATTRIBUTES_PER_ELEMENT: usize = 32;

/// Refuses the namespace declarations Namespaces in XML 1.0 §3 forbids and
/// quick-xml accepts: a prefix declared with an empty namespace name (XML
/// 1.1's undeclaration), and the default namespace bound to the namespace
/// name of `xml` or `xmlns`.
fn check_declarations(start: &BytesStart<'_>) -> Result<(), TranslateError> {
    let tag = || excerpt(&String::from_utf8_lossy(start.name().as_ref())).to_string();
    for attribute in start.attributes().with_checks(false).flatten() {
        match attribute.key.as_namespace_binding() {
            Some(PrefixDeclaration::Named(prefix)) if attribute.value.is_empty() => {
                let prefix = String::from_utf8_lossy(prefix);
                return Err(malformed(format!(
                    "<{}> undeclares the prefix {} with xmlns:{}=\"\"; Namespaces in XML 1.0 §3 requires a prefix's namespace name to be non-empty (only the default namespace can be undeclared, with xmlns=\"\")",
                    tag(),
                    quoted(&prefix),
                    excerpt(&prefix)
                )));
            }
            Some(PrefixDeclaration::Default)
                if [XML_NAMESPACE, XMLNS_NAMESPACE].contains(&attribute.value.as_ref()) =>
            {
                return Err(malformed(format!(
                    "<{}> makes {} its default namespace; Namespaces in XML 1.0 §3 reserves it for the prefix {}",
                    tag(),
                    quoted(&String::from_utf8_lossy(&attribute.value)),
                    if attribute.value.as_ref() == XML_NAMESPACE { "xml" } else { "xmlns" }
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Builds an element (without children) from a start tag.
fn open(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, TranslateError> {
    check_declarations(start)?;
    let qname = start.name();
    let (resolved, local) = reader.resolve_element(qname);
    let name = std::str::from_utf8(local.as_ref())
        .map_err(|_| malformed("an element name is not UTF-8"))?
        .to_string();
    if !is_xml_name(&name) {
        return Err(malformed(format!(
            "{} is not an XML element name",
            quoted(&name)
        )));
    }
    let namespace = namespace_of(resolved, qname.as_ref())?;
    // quick-xml's duplicate check is quadratic in the number of attributes;
    // ISO 20022 elements carry one or two, so a bound keeps parsing linear.
    let count = start.attributes().with_checks(false).count();
    if count > MAX_ATTRIBUTES_PER_ELEMENT {
        return Err(TranslateError::at(
            crate::error::TranslateCode::InputTooLarge,
            name.as_str(),
            format!("<{}> has {count} attributes and namespace declarations; at most {MAX_ATTRIBUTES_PER_ELEMENT} are read", excerpt(&name)),
        ));
    }
    let mut attributes = Vec::new();
    let mut raw_attributes = start.attributes();
    raw_attributes.with_checks(true);
    for attribute in raw_attributes {
        let attribute = attribute.map_err(|error| {
            malformed(format!(
                "a malformed attribute in <{}>: {}",
                excerpt(&name),
                location(&error.to_string())
            ))
        })?;
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
                "{} is not an XML attribute name",
                quoted(&attribute_name)
            )));
        }
        let value = attribute
            .unescape_value()
            .map_err(|error| {
                malformed(format!(
                    "the attribute {} of <{}> is malformed: {}",
                    excerpt(&attribute_name),
                    excerpt(&name),
                    location(&error.to_string())
                ))
            })?
            .into_owned();
        check_chars(
            &value,
            &format!(
                "the attribute {} of <{}>",
                excerpt(&attribute_name),
                excerpt(&name)
            ),
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
                excerpt(&element.name)
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
            None if text.contains(BYTE_ORDER_MARK) => {
                return Err(malformed(
                    "a byte order mark (U+FEFF) appears after the start of the document; XML 1.0 allows one only as the very first character, and nothing but markup and whitespace outside the root element",
                ))
            }
            None => {
                return Err(malformed(format!(
                    "character data {} appears outside the root element",
                    quoted(text.trim_matches(is_xml_space))
                )))
            }
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
            "the document has {}; at most {MAX_NATIVE_MESSAGE_BYTES} bytes are accepted",
            isthmus_spec::jcs::size_beyond_limit(input.len(), MAX_NATIVE_MESSAGE_BYTES)
        )));
    }
    // XML 1.0 §4.3.3: a UTF-8 entity may begin with one byte order mark,
    // which is not part of the document. quick-xml would drop another one at
    // the start of what it reads, so a second is refused here.
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    if input.starts_with(b"\xEF\xBB\xBF") {
        return Err(malformed(
            "the document starts with two byte order marks (U+FEFF); XML 1.0 allows one, as the very first character, and the second would be text before the root element",
        ));
    }
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
            malformed(format!(
                "not well-formed XML near byte {position}: {}",
                location(&error.to_string())
            ))
        })?;
        let was_first = std::mem::replace(&mut first_event, false);
        match event {
            Event::Decl(declaration) => {
                if !was_first || position != 0 {
                    return Err(malformed(
                        "the XML declaration must be the very first thing in the document",
                    ));
                }
                let version = declaration.version().map_err(|error| {
                    malformed(format!(
                        "bad XML declaration: {}",
                        location(&error.to_string())
                    ))
                })?;
                if version.as_ref() != b"1.0" {
                    return Err(malformed(format!(
                        "XML version {} is not supported; ISO 20022 uses XML 1.0",
                        quoted(&String::from_utf8_lossy(&version))
                    )));
                }
                if let Some(encoding) = declaration.encoding() {
                    let encoding = encoding.map_err(|error| {
                        malformed(format!(
                            "bad XML declaration: {}",
                            location(&error.to_string())
                        ))
                    })?;
                    if !encoding.eq_ignore_ascii_case(b"UTF-8") {
                        return Err(malformed(format!(
                            "the document declares encoding {}; ISO 20022 messages are UTF-8",
                            quoted(&String::from_utf8_lossy(&encoding))
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
                    malformed(format!(
                        "bad character or entity reference: {}",
                        location(&error.to_string())
                    ))
                })?;
                builder.text(&text)?;
            }
            Event::CData(data) => {
                let data = data.decode().map_err(|error| {
                    malformed(format!(
                        "bad CDATA section: {}",
                        location(&error.to_string())
                    ))
                })?;
                builder.text(&data)?;
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(unclosed) = builder.open.last() {
        return Err(malformed(format!(
            "the document ends before <{}> is closed",
            excerpt(&unclosed.name)
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
            // Two byte order marks, or one after the start (XML 1.0 §4.3.3).
            "\u{FEFF}\u{FEFF}<a/>",
            "\u{FEFF} \u{FEFF}<a/>",
            "<?xml version=\"1.0\"?>\u{FEFF}<a/>",
            // A prefix undeclared, used or not (Namespaces in XML 1.0 §3).
            "<a xmlns:p=\"\"/>",
            "<a xmlns:p=\"urn:x\"><b xmlns:p=''/></a>",
            "<p:a xmlns:p=\"\"/>",
            // The reserved namespace names as the default namespace.
            "<a xmlns=\"http://www.w3.org/XML/1998/namespace\"/>",
            "<a xmlns=\"http://www.w3.org/2000/xmlns/\"/>",
            // quick-xml's own checks of the reserved prefixes hold.
            "<a xmlns:xml=\"urn:x\"/>",
            "<a xmlns:xmlns=\"urn:x\"/>",
        ] {
            assert_eq!(code(bad), Some(TranslateCode::XmlMalformed), "{bad:?}");
        }
        let said = |input: &str| parse(input.as_bytes()).err().map(|e| e.message);
        let twice = said("\u{FEFF}\u{FEFF}<a/>").unwrap_or_default();
        assert!(twice.contains("two byte order marks"), "{twice}");
        let undeclared = said("<a xmlns:p=\"urn:x\"><b xmlns:p=''/></a>").unwrap_or_default();
        assert!(
            undeclared.contains("<b> undeclares the prefix \"p\" with xmlns:p=\"\"")
                && undeclared.contains("Namespaces in XML 1.0 §3"),
            "{undeclared}"
        );
        assert_eq!(
            parse(b"<a>\xff</a>").err().map(|e| e.code),
            Some(TranslateCode::XmlMalformed)
        );
    }

    #[test]
    fn one_leading_bom_and_undeclaring_the_default_namespace_are_well_formed() {
        assert!(parse("\u{FEFF}<?xml version=\"1.0\"?><a/>".as_bytes()).is_ok());
        assert!(parse("\u{FEFF}<a/>".as_bytes()).is_ok());
        // U+FEFF inside content is a character like any other.
        assert!(parse("<a>\u{FEFF}x</a>".as_bytes()).is_ok());
        // Namespaces in XML 1.0 §6.2: xmlns="" undeclares the default namespace.
        let doc = parse(br#"<a xmlns="urn:x"><b xmlns=""/></a>"#).ok();
        let b = doc.as_ref().and_then(|a| a.children.first());
        assert_eq!(b.map(|b| b.namespace.is_none()), Some(true));
        let xml = parse(br#"<a xmlns:xml="http://www.w3.org/XML/1998/namespace"/>"#);
        assert!(xml.is_ok(), "xml may be declared with its own name");
    }

    #[test]
    fn names_and_values_are_quoted_short_and_escaped() {
        let long = "N".repeat(1_000_000);
        let error = parse(format!("<{long}>").as_bytes()).err();
        let message = error.map(|e| e.message).unwrap_or_default();
        assert!(message.len() < 200, "{} bytes", message.len());
        assert!(message.contains("NNN…"), "{message}");
        // A C1 control and a bidi override are XML characters and may be in names.
        let error = parse("<a\u{9b}\u{202e}b x='1' x='2'/>".as_bytes()).err();
        let message = error.map(|e| e.message).unwrap_or_default();
        assert!(
            !message.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{message:?}"
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
        // A reader that stopped at the limit + 1 knows only "more than".
        assert_eq!(
            parse(&big).err().map(|e| e.message),
            Some(
                "the document has more than 1048576 bytes; at most 1048576 bytes are accepted"
                    .into()
            )
        );
        let many = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert_eq!(code(&many), Some(TranslateCode::InputTooLarge));
    }
}
