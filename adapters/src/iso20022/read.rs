//! Reading a parsed document against the content models of
//! [`super::schema_tables`], and turning XML values into ISM/1 values.
//!
//! Error codes follow one rule. Structure: an element the schema does not
//! allow where it is, too often or out of sequence order is
//! `XML_ELEMENT_UNEXPECTED`; a mandatory element (of the schema, or one ISM/1
//! needs) that is absent is `XML_ELEMENT_MISSING`. Values: a value that ISM/1
//! carries goes through the ISM/1 parser, so it is refused with the ISM/1
//! reason code (`ISIN_CHECK_DIGIT`, `CURRENCY_UNKNOWN`, `DATE_INVALID`…); any
//! other value breaking its XSD type (a code outside its list, a boolean or
//! decimal that is not one) is `XML_VALUE_INVALID`. Valid ISO 20022 that
//! ISM/1 cannot express (a party known only by name, a short position, a
//! "failing" status…) is `NOT_REPRESENTABLE`. Every error names the element by
//! its path from `/Document` (or `/AppHdr`), with `[n]` (1-based) on
//! repeatable elements.

use isthmus_spec::quote::{excerpt, quoted};
use isthmus_spec::Rejection;

use super::schema::{ComplexType, Kind};
use super::xml::{is_xml_space, Element};
use crate::error::{TranslateCode, TranslateError};

/// `XML_ELEMENT_MISSING` at `path`.
pub(crate) fn missing(path: &str, message: impl Into<String>) -> TranslateError {
    TranslateError::at(TranslateCode::XmlElementMissing, path, message)
}

/// `XML_ELEMENT_UNEXPECTED` at `path`.
pub(crate) fn unexpected(path: &str, message: impl Into<String>) -> TranslateError {
    TranslateError::at(TranslateCode::XmlElementUnexpected, path, message)
}

/// `XML_VALUE_INVALID` at `path`.
pub(crate) fn invalid(path: &str, message: impl Into<String>) -> TranslateError {
    TranslateError::at(TranslateCode::XmlValueInvalid, path, message)
}

/// `NOT_REPRESENTABLE` at `path`.
pub(crate) fn not_representable(path: &str, message: impl Into<String>) -> TranslateError {
    TranslateError::at(TranslateCode::NotRepresentable, path, message)
}

/// An element whose content was checked against its complex type: every
/// child is in the message namespace, allowed by the type, in sequence order,
/// not more often than allowed, and every mandatory child is present; code
/// and boolean children hold valid values.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    element: &'a Element,
    path: String,
    namespace: &'a str,
}

impl<'a> Node<'a> {
    /// Checks `element`, found at `path`, as an instance of `ty` whose child
    /// elements belong to `namespace`.
    pub(crate) fn check(
        element: &'a Element,
        path: String,
        namespace: &'a str,
        ty: &'static ComplexType,
    ) -> Result<Node<'a>, TranslateError> {
        if !element.text_is_blank() {
            return Err(invalid(
                &path,
                format!(
                    "{} holds only elements, but text {} appears in it",
                    ty.name,
                    quoted(element.text.trim_matches(is_xml_space))
                ),
            ));
        }
        let mut counts = vec![0u32; ty.children.len()];
        let mut last_position = 0usize;
        let mut last_name = "";
        for child in &element.children {
            let child_path = format!("{path}/{}", child.name);
            if child.namespace.as_deref() != Some(namespace) {
                return Err(unexpected(
                    &child_path,
                    format!(
                        "<{}> is in namespace {}, but {} only holds elements of {namespace}",
                        excerpt(&child.name),
                        child
                            .namespace
                            .as_deref()
                            .map_or_else(|| "(none)".to_string(), |n| quoted(n).to_string()),
                        ty.name
                    ),
                ));
            }
            let Some((position, particle)) = ty.particle(&child.name) else {
                return Err(unexpected(
                    &child_path,
                    format!("{} has no element <{}>", ty.name, excerpt(&child.name)),
                ));
            };
            if !ty.choice && position < last_position {
                return Err(unexpected(
                    &child_path,
                    format!(
                        "<{}> must come before <{last_name}> in {}",
                        child.name, ty.name
                    ),
                ));
            }
            last_position = position;
            last_name = particle.name;
            let count = counts.get_mut(position).map(|count| {
                *count += 1;
                *count
            });
            if let (Some(count), Some(max)) = (count, particle.max) {
                if count > max {
                    let allowed = if max == 1 {
                        "once".to_string()
                    } else {
                        format!("{max} times")
                    };
                    return Err(unexpected(
                        &child_path,
                        format!(
                            "<{}> appears more than {allowed} in {}",
                            child.name, ty.name
                        ),
                    ));
                }
            }
            check_leaf(child, &child_path, &particle.kind)?;
        }
        if ty.choice {
            let chosen = counts.iter().filter(|count| **count > 0).count();
            let names = || {
                ty.children
                    .iter()
                    .map(|particle| particle.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if chosen == 0 {
                return Err(missing(
                    &path,
                    format!("{} needs one of {}", ty.name, names()),
                ));
            }
            if chosen > 1 {
                return Err(unexpected(
                    &path,
                    format!("{} takes only one of {}", ty.name, names()),
                ));
            }
        } else {
            for (particle, count) in ty.children.iter().zip(&counts) {
                if *count < particle.min {
                    return Err(missing(
                        &format!("{path}/{}", particle.name),
                        format!("{} requires <{}>", ty.name, particle.name),
                    ));
                }
            }
        }
        Ok(Node {
            element,
            path,
            namespace,
        })
    }

    /// Where this element is.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The namespace its child elements belong to.
    pub(crate) fn namespace(&self) -> &'a str {
        self.namespace
    }

    fn path_of(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }

    fn first(&self, name: &str) -> Option<&'a Element> {
        self.element
            .children
            .iter()
            .find(|child| child.name == name)
    }

    /// Child `name` checked as `ty`, if present.
    pub(crate) fn node(
        &self,
        name: &str,
        ty: &'static ComplexType,
    ) -> Result<Option<Node<'a>>, TranslateError> {
        self.first(name)
            .map(|child| Node::check(child, self.path_of(name), self.namespace, ty))
            .transpose()
    }

    /// Child `name` checked as `ty`; `XML_ELEMENT_MISSING` if absent, with
    /// `why` saying what needs it.
    pub(crate) fn required_node(
        &self,
        name: &str,
        ty: &'static ComplexType,
        why: &str,
    ) -> Result<Node<'a>, TranslateError> {
        self.node(name, ty)?
            .ok_or_else(|| missing(&self.path_of(name), missing_message(name, why)))
    }

    /// Every occurrence of the repeatable child `name`, checked as `ty`, with
    /// 1-based indexes in their paths.
    pub(crate) fn nodes(
        &self,
        name: &str,
        ty: &'static ComplexType,
    ) -> Result<Vec<Node<'a>>, TranslateError> {
        self.element
            .children
            .iter()
            .filter(|child| child.name == name)
            .enumerate()
            .map(|(index, child)| {
                let path = format!("{}/{name}[{}]", self.path, index + 1);
                Node::check(child, path, self.namespace, ty)
            })
            .collect()
    }

    /// Whether child `name` is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.first(name).is_some()
    }

    /// The element name of the alternative present in this choice.
    pub(crate) fn chosen(&self) -> &'a str {
        // `check` made sure a choice holds exactly one alternative.
        self.element
            .children
            .first()
            .map_or("", |child| child.name.as_str())
    }

    /// The alternative present in this choice, checked as `ty`.
    pub(crate) fn chosen_node(&self, ty: &'static ComplexType) -> Result<Node<'a>, TranslateError> {
        let name = self.chosen();
        self.required_node(name, ty, "a choice holds one alternative")
    }

    /// Simple-content child `name`, if present.
    pub(crate) fn leaf(&self, name: &str) -> Option<Leaf<'a>> {
        self.first(name).map(|element| Leaf {
            element,
            path: self.path_of(name),
        })
    }

    /// Simple-content child `name`; `XML_ELEMENT_MISSING` if absent.
    pub(crate) fn required_leaf(&self, name: &str, why: &str) -> Result<Leaf<'a>, TranslateError> {
        self.leaf(name)
            .ok_or_else(|| missing(&self.path_of(name), missing_message(name, why)))
    }

    /// The underlying element (for supplementary-data envelopes).
    pub(crate) fn element(&self) -> &'a Element {
        self.element
    }
}

/// "`<name>` is missing", and why it is needed (the schema, unless `why` says more).
fn missing_message(name: &str, why: &str) -> String {
    if why.is_empty() {
        format!("<{name}> is missing; the schema requires it")
    } else {
        format!("<{name}> is missing: {why}")
    }
}

/// Checks the content of a child whose particle says it has simple content.
fn check_leaf(child: &Element, path: &str, kind: &Kind) -> Result<(), TranslateError> {
    if matches!(kind, Kind::Complex) {
        return Ok(());
    }
    if let Some(grandchild) = child.children.first() {
        return Err(unexpected(
            &format!("{path}/{}", grandchild.name),
            format!("<{}> holds a value, not elements", excerpt(&child.name)),
        ));
    }
    match kind {
        Kind::Code(codes) => {
            if !codes.contains(&child.text.as_str()) {
                return Err(invalid(
                    path,
                    format!(
                        "{} is not a code of <{}>; expected one of {}",
                        quoted(&child.text),
                        child.name,
                        codes.join(", ")
                    ),
                ));
            }
        }
        Kind::Bool => {
            if boolean(&child.text).is_none() {
                return Err(invalid(
                    path,
                    format!(
                        "{} is not an xs:boolean (true, false, 1, 0)",
                        quoted(&child.text)
                    ),
                ));
            }
        }
        Kind::Complex | Kind::Simple => {}
    }
    Ok(())
}

/// An `xs:boolean`, after the whitespace collapsing its type prescribes.
fn boolean(text: &str) -> Option<bool> {
    match text.trim_matches(is_xml_space) {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// An element with simple content, and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Leaf<'a> {
    element: &'a Element,
    path: String,
}

impl<'a> Leaf<'a> {
    /// Where this element is.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The text exactly as written (string types preserve whitespace).
    pub(crate) fn text(&self) -> &'a str {
        &self.element.text
    }

    /// The value through an ISM/1 parser; a refusal carries the ISM/1 reason
    /// code and this element's path.
    pub(crate) fn ism<T>(
        &self,
        parse: impl FnOnce(&str) -> Result<T, Rejection>,
    ) -> Result<T, TranslateError> {
        parse(self.text())
            .map_err(|rejection| TranslateError::from_rejection(rejection, &self.path))
    }

    /// An `xs:boolean`.
    pub(crate) fn boolean(&self) -> Result<bool, TranslateError> {
        boolean(self.text()).ok_or_else(|| {
            invalid(
                &self.path,
                format!("{} is not an xs:boolean", quoted(self.text())),
            )
        })
    }

    /// An `xs:decimal`, rewritten in ISM/1's plain form (no sign `+`, no
    /// leading zeros, no bare point) and then read by an ISM/1 parser.
    /// Fraction digits are kept as written, trailing zeros included, because
    /// ISM/1 checks the scale of what is written.
    pub(crate) fn decimal<T>(
        &self,
        parse: impl FnOnce(&str) -> Result<T, Rejection>,
    ) -> Result<T, TranslateError> {
        let plain = plain_decimal(self.text()).ok_or_else(|| {
            invalid(
                &self.path,
                format!("{} is not an xs:decimal", quoted(self.text())),
            )
        })?;
        parse(&plain).map_err(|rejection| TranslateError::from_rejection(rejection, &self.path))
    }

    /// An `xs:date` as an ISM/1 date (ISM/1 dates carry no time zone).
    pub(crate) fn date(&self) -> Result<isthmus_spec::time::Date, TranslateError> {
        let text = self.text().trim_matches(is_xml_space);
        isthmus_spec::time::Date::parse(text)
            .map_err(|rejection| TranslateError::from_rejection(rejection, &self.path))
    }

    /// The calendar date of an `xs:dateTime`, as written (its local date).
    /// ISM/1 dates are calendar dates of the market, so an offset does not
    /// move the date. The whole value is validated as a date-time first
    /// ([`Leaf::instant`]), so a time out of range or a malformed zone is
    /// refused even though only the date is kept.
    pub(crate) fn date_of_date_time(&self) -> Result<isthmus_spec::time::Date, TranslateError> {
        let text = self.text().trim_matches(is_xml_space);
        let date_part = text.get(..10).unwrap_or(text);
        // The whole value must still be a date-time, not just start like one.
        self.instant()?;
        isthmus_spec::time::Date::parse(date_part)
            .map_err(|rejection| TranslateError::from_rejection(rejection, &self.path))
    }

    /// An `xs:dateTime` as an ISM/1 UTC timestamp, and the zone it was
    /// written in: `Z` is kept, an offset is converted to UTC exactly
    /// (keeping the fraction digits), and a time without a zone — a local
    /// time, whose offset the message does not say — is read as if it were
    /// UTC ([`Zone::Local`]; the caller reports the member as derived).
    pub(crate) fn instant(&self) -> Result<(isthmus_spec::time::Timestamp, Zone), TranslateError> {
        let text = self.text().trim_matches(is_xml_space);
        utc_timestamp(text)
            .map_err(|rejection| TranslateError::from_rejection(rejection, &self.path))
    }

    /// The value of the unprefixed attribute `name`, if present.
    pub(crate) fn attribute(&self, name: &str) -> Option<&'a str> {
        self.element.attribute(name)
    }
}

/// Rewrites an `xs:decimal` lexical value into ISM/1's plain decimal form;
/// `None` if it is not an `xs:decimal`. A minus sign is kept so that the ISM/1
/// parser reports the value as not positive.
pub(crate) fn plain_decimal(raw: &str) -> Option<String> {
    let text = raw.trim_matches(is_xml_space);
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !digits(integer) || !digits(fraction) || (integer.is_empty() && fraction.is_empty()) {
        return None;
    }
    let integer = integer.trim_start_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    let mut plain = String::with_capacity(text.len() + 1);
    if negative {
        plain.push('-');
    }
    plain.push_str(integer);
    if !fraction.is_empty() {
        plain.push('.');
        plain.push_str(fraction);
    }
    Some(plain)
}

/// How an `xs:dateTime` named its time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// `Z`, or an offset converted exactly.
    Utc,
    /// No zone at all: a local time, read as UTC.
    Local,
}

/// Reads an `xs:dateTime` as a UTC instant in ISM/1's timestamp form: `Z`
/// as it is, an offset converted exactly, no zone read as UTC.
fn utc_timestamp(text: &str) -> Result<(isthmus_spec::time::Timestamp, Zone), Rejection> {
    use isthmus_spec::time::Timestamp;
    use isthmus_spec::ReasonCode;

    let refuse = |why: &str| {
        Rejection::new(
            ReasonCode::TimestampInvalid,
            format!("{} {why}", quoted(text)),
        )
    };
    if text.ends_with('Z') {
        return Timestamp::parse(text).map(|instant| (instant, Zone::Utc));
    }
    let bytes = text.as_bytes();
    let zone_at = bytes.len().checked_sub(6);
    let offset = zone_at.and_then(|at| {
        let sign = match bytes.get(at)? {
            b'+' => 1i64,
            b'-' => -1i64,
            _ => return None,
        };
        let zone = text.get(at + 1..)?;
        let (hours, minutes) = zone.split_once(':')?;
        if hours.len() != 2 || minutes.len() != 2 {
            return None;
        }
        let hours: i64 = hours.parse().ok()?;
        let minutes: i64 = minutes.parse().ok()?;
        (hours <= 14 && minutes < 60 && (hours < 14 || minutes == 0))
            .then_some((at, sign * (hours * 60 + minutes)))
    });
    let Some((at, offset_minutes)) = offset else {
        if has_zone_designator(text) {
            return Err(refuse(
                "ends in a time zone that is neither Z nor an offset ±hh:mm of at most 14 hours",
            ));
        }
        // A local time without an offset: its clock value, read as UTC.
        let instant = Timestamp::parse(&format!("{text}Z")).map_err(|_| {
            refuse("is not a date-time of the form YYYY-MM-DDThh:mm:ss[.f][Z|±hh:mm]")
        })?;
        return Ok((instant, Zone::Local));
    };
    let local = text.get(..at).ok_or_else(|| refuse("is not a date-time"))?;
    // Validate the local part with ISM/1's own rules by reading it as if it were UTC.
    let as_if_utc = Timestamp::parse(&format!("{local}Z"))
        .map_err(|_| refuse("is not a date-time of the form YYYY-MM-DDThh:mm:ss[.f]±hh:mm"))?;
    let fraction = local.split_once('.').map_or("", |(_, fraction)| fraction);
    let seconds =
        as_if_utc.unix_nanos().div_euclid(1_000_000_000) - i128::from(offset_minutes) * 60;
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let days = i64::try_from(days)
        .map_err(|_| refuse("falls outside the years 0001 to 9999 once converted to UTC"))?;
    let (year, month, day) = isthmus_spec::time::civil_from_days(days);
    if !(1..=9999).contains(&year) {
        return Err(refuse(
            "falls outside the years 0001 to 9999 once converted to UTC",
        ));
    }
    let mut utc = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    if !fraction.is_empty() {
        utc.push('.');
        utc.push_str(fraction);
    }
    utc.push('Z');
    Timestamp::parse(&utc).map(|instant| (instant, Zone::Utc))
}

/// Whether the text after the seconds (and any fraction) of a date-time is
/// something other than nothing: a sign or letters that try to name a zone.
fn has_zone_designator(text: &str) -> bool {
    // "YYYY-MM-DDThh:mm:ss" is 19 bytes; what follows is a fraction, then the zone.
    let Some(rest) = text.get(19..) else {
        return false;
    };
    let rest = rest.strip_prefix('.').map_or(rest, |fraction| {
        fraction.trim_start_matches(|c: char| c.is_ascii_digit())
    });
    !rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_plain() {
        let plain = |t: &str| plain_decimal(t);
        assert_eq!(plain("1250.50").as_deref(), Some("1250.50"));
        assert_eq!(plain(" +001250.5\n").as_deref(), Some("1250.5"));
        assert_eq!(plain(".5").as_deref(), Some("0.5"));
        assert_eq!(plain("5.").as_deref(), Some("5"));
        assert_eq!(plain("000").as_deref(), Some("0"));
        assert_eq!(plain("-3").as_deref(), Some("-3"));
        for bad in ["", ".", "+", "1e3", "1,5", "1.2.3", "- 1", "0x10", "١"] {
            assert_eq!(plain(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn date_times_become_utc() {
        let utc = |t: &str| {
            utc_timestamp(t)
                .map(|(s, zone)| {
                    assert_eq!(zone, Zone::Utc, "{t}");
                    s.to_string()
                })
                .map_err(|r| r.code)
        };
        assert_eq!(
            utc("2026-11-25T12:00:00Z").as_deref(),
            Ok("2026-11-25T12:00:00Z")
        );
        assert_eq!(
            utc("2026-11-25T09:30:00.250+09:00").as_deref(),
            Ok("2026-11-25T00:30:00.250Z")
        );
        assert_eq!(
            utc("2026-12-31T23:00:00-02:00").as_deref(),
            Ok("2027-01-01T01:00:00Z")
        );
        assert_eq!(
            utc("2026-11-25T12:00:00+00:00").as_deref(),
            Ok("2026-11-25T12:00:00Z")
        );
        // A local time without an offset: its clock value read as UTC, and said so.
        let local = |t: &str| utc_timestamp(t).map(|(s, zone)| (s.to_string(), zone));
        assert_eq!(
            local("2026-11-25T12:00:00"),
            Ok(("2026-11-25T12:00:00Z".to_string(), Zone::Local))
        );
        assert_eq!(
            local("2026-11-25T09:30:00.250"),
            Ok(("2026-11-25T09:30:00.250Z".to_string(), Zone::Local))
        );
        for bad in [
            "2026-11-25T12:00:00+15:00",
            "2026-11-25T12:00:00Q",
            "2026-11-25T12:00:00.5+01",
            "2026-11-25T25:00:00",
            "2026-11-25T12:00:00+1:00",
            "2026-02-30T12:00:00+01:00",
            "0001-01-01T00:30:00+01:00",
            "nonsense+01:00",
        ] {
            assert_eq!(
                utc(bad).err(),
                Some(isthmus_spec::ReasonCode::TimestampInvalid),
                "{bad}"
            );
        }
    }
}
