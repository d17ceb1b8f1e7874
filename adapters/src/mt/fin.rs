//! The FIN envelope of an MT message: basic header `{1:…}`, application
//! header `{2:…}`, optional user header `{3:…}`, text block `{4:…-}` and
//! optional trailer `{5:…}`.
//!
//! Followed: SWIFT *FIN Operations Guide* / *Standards MT General Information*
//! block layout as used by every published MT54x sample (e.g. the MT542 of
//! prowide-core's `MessageCreation2Example`, `{1:F01FOOSEDR0AXXX0000000000}
//! {2:I542FOORECV0XXXXN}{4:` … `-}`):
//!
//! - block 1 `F01` + the sender's 12-character logical terminal (LT)
//!   address + 4-digit session + 6-digit sequence number;
//! - block 2 input `I` + 3-digit message type + 12-character receiver
//!   address + optional priority `S|U|N`, delivery monitoring `1|2|3` and
//!   3-digit obsolescence period; block 2 output `O` + message type + input
//!   time `HHMM` + message input reference (date `YYMMDD`, the sender's LT
//!   address, session, sequence) + output date and time + optional priority;
//! - block 4 opens with `{4:` and a line break and closes with a line break,
//!   `-` and `}`.
//!
//! Lines end with CR LF on the network; LF alone is accepted on input.
//!
//! Refusals of the envelope never quote what stands where a block should
//! begin: an input that is not a FIN message at all (a file given by
//! mistake, say `/etc/shadow`) is answered with what was expected and the
//! byte offset, not with its content. The contents of blocks 1 and 2, once
//! found, are quoted as a short escaped excerpt ([`isthmus_spec::quote`]).

use crate::error::{TranslateCode, TranslateError, MAX_NATIVE_MESSAGE_BYTES};
use isthmus_spec::quote::quoted;

/// Most bytes of the text block (block 4) of an MT54x: SWIFT gives 10 000
/// characters as the maximum input length of MT540–MT548.
pub const MAX_TEXT_BLOCK_BYTES: usize = 10_000;

/// Most items `{tag:value}` read from the user header or the trailer.
const MAX_HEADER_ITEMS: usize = 32;

/// Characters of an LT address: an 8-character BIC, the LT code, a 3-character branch.
const LT_ADDRESS_CHARS: usize = 12;

/// One FIN message, split into what the translation needs.
#[derive(Debug)]
pub(crate) struct FinMessage<'a> {
    /// The MT number, e.g. 543.
    pub message_type: u16,
    /// The sender's LT address: block 1 for an input message, the message
    /// input reference of block 2 for an output message.
    pub sender: &'a str,
    /// Where the sender's address was read, for error messages.
    pub sender_location: &'static str,
    /// The receiver's LT address: block 2 for an input message, block 1
    /// (the terminal the network delivered it to) for an output message.
    pub receiver: &'a str,
    /// Where the receiver's address was read.
    pub receiver_location: &'static str,
    /// The text block between `{4:` + line break and line break + `-}`.
    pub text: &'a str,
}

fn block_error(field: &str, message: impl Into<String>) -> TranslateError {
    TranslateError::at(TranslateCode::MtBlockStructure, field, message)
}

/// Splits raw bytes into the FIN blocks, checking their layout.
pub(crate) fn parse(native: &[u8]) -> Result<FinMessage<'_>, TranslateError> {
    if native.len() > MAX_NATIVE_MESSAGE_BYTES {
        return Err(TranslateError::at(
            TranslateCode::InputTooLarge,
            "message",
            format!(
                "the message has {}; at most {MAX_NATIVE_MESSAGE_BYTES} bytes are read",
                isthmus_spec::jcs::size_beyond_limit(native.len(), MAX_NATIVE_MESSAGE_BYTES)
            ),
        ));
    }
    let text = std::str::from_utf8(native).map_err(|error| {
        TranslateError::at(
            TranslateCode::MtBlockStructure,
            format!("byte {}", error.valid_up_to()),
            format!(
                "byte {} is not text: a FIN message is ASCII in the SWIFT character sets",
                error.valid_up_to()
            ),
        )
    })?;
    if !text.starts_with("{1:") {
        return Err(block_error(
            "{1:}",
            "the input is not a FIN message: it does not begin, at byte 0, with the basic header block \"{1:\"",
        ));
    }
    let mut rest = text;
    let block1 = take_flat_block(text, &mut rest, '1')?;
    let block2 = take_flat_block(text, &mut rest, '2')?;
    if rest.starts_with("{3:") {
        skip_nested_block(text, &mut rest, '3')?;
    }
    let block4 = take_text_block(text, &mut rest)?;
    if rest.starts_with("{5:") {
        skip_nested_block(text, &mut rest, '5')?;
    }
    // A file may end with a line break; nothing else may follow the blocks.
    let trailing = rest.trim_end_matches(['\r', '\n']);
    if !trailing.is_empty() {
        return Err(TranslateError::at(
            TranslateCode::MtBlockStructure,
            "after the last block",
            format!(
                "{} bytes follow the last block, from byte {}; after block 4 (or 5) only a line break may end the input",
                trailing.len(),
                offset(text, rest)
            ),
        ));
    }
    let address_block1 = parse_block1(block1)?;
    let (message_type, block2_address) = parse_block2(block2)?;
    if block4.len() > MAX_TEXT_BLOCK_BYTES {
        return Err(TranslateError::at(
            TranslateCode::InputTooLarge,
            "{4:}",
            format!(
                "the text block has {} characters; an MT54x has at most {MAX_TEXT_BLOCK_BYTES}",
                block4.len()
            ),
        ));
    }
    // Block 1 names the sender of an input message and the receiver of an
    // output one; block 2 the other party.
    let (sender, sender_location, receiver, receiver_location) = match block2_address {
        Block2Address::Sender(sender) => (sender, "{2:}", address_block1, "{1:}"),
        Block2Address::Receiver(receiver) => (address_block1, "{1:}", receiver, "{2:}"),
    };
    Ok(FinMessage {
        message_type,
        sender,
        sender_location,
        receiver,
        receiver_location,
        text: block4,
    })
}

/// The byte offset of `rest`, a tail of `text`.
fn offset(text: &str, rest: &str) -> usize {
    text.len() - rest.len()
}

/// Takes `{n:content}` where the content holds no braces (blocks 1 and 2).
fn take_flat_block<'a>(
    text: &str,
    rest: &mut &'a str,
    number: char,
) -> Result<&'a str, TranslateError> {
    let field = format!("{{{number}:}}");
    let opening = format!("{{{number}:");
    let Some(after) = rest.strip_prefix(opening.as_str()) else {
        return Err(block_error(
            &field,
            format!(
                "expected block {number} (\"{opening}\") at byte {}",
                offset(text, rest)
            ),
        ));
    };
    let Some(end) = after.find(['}', '{']) else {
        return Err(block_error(
            &field,
            format!("block {number} is never closed with '}}'"),
        ));
    };
    let (content, tail) = after.split_at(end);
    let Some(tail) = tail.strip_prefix('}') else {
        return Err(block_error(
            &field,
            format!("block {number} contains '{{'; it holds no nested blocks"),
        ));
    };
    *rest = tail;
    Ok(content)
}

/// Skips `{n:{tag:value}{tag:value}…}` (blocks 3 and 5); their contents are
/// transport data (user reference, checksums) that ISM/1 does not carry.
fn skip_nested_block(text: &str, rest: &mut &str, number: char) -> Result<(), TranslateError> {
    let field = format!("{{{number}:}}");
    let opening = format!("{{{number}:");
    let mut tail = rest.get(opening.len()..).unwrap_or("");
    for _ in 0..=MAX_HEADER_ITEMS {
        if let Some(after) = tail.strip_prefix('}') {
            *rest = after;
            return Ok(());
        }
        let Some(item) = tail.strip_prefix('{') else {
            return Err(block_error(
                &field,
                format!(
                    "block {number} holds items of the form {{tag:value}}; byte {} does not open one",
                    offset(text, tail)
                ),
            ));
        };
        let Some(end) = item.find(['}', '{']) else {
            return Err(block_error(
                &field,
                format!("an item of block {number} is never closed"),
            ));
        };
        let (content, after) = item.split_at(end);
        let tag_ok = content.split_once(':').is_some_and(|(tag, _)| {
            !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !tag_ok || !after.starts_with('}') {
            return Err(block_error(
                &field,
                format!(
                    "{} is not an item of the form {{tag:value}}",
                    quoted(&format!("{{{content}"))
                ),
            ));
        }
        tail = after.get(1..).unwrap_or("");
    }
    Err(block_error(
        &field,
        format!("block {number} has more than {MAX_HEADER_ITEMS} items"),
    ))
}

/// Takes the text block: `{4:` + line break … line break + `-}`.
fn take_text_block<'a>(text: &str, rest: &mut &'a str) -> Result<&'a str, TranslateError> {
    let Some(after) = rest.strip_prefix("{4:") else {
        return Err(block_error(
            "{4:}",
            format!(
                "expected the text block \"{{4:\" at byte {}",
                offset(text, rest)
            ),
        ));
    };
    let body = if let Some(body) = after.strip_prefix("\r\n") {
        body
    } else if let Some(body) = after.strip_prefix('\n') {
        body
    } else {
        return Err(block_error(
            "{4:}",
            "the text block must start with a line break after \"{4:\"",
        ));
    };
    // An empty text block is "{4:\r\n-}".
    if let Some(tail) = body.strip_prefix("-}") {
        *rest = tail;
        return Ok("");
    }
    let Some(end) = body.find("\n-}") else {
        return Err(block_error(
            "{4:}",
            "the text block is never closed: it must end with a line break, '-' and '}'",
        ));
    };
    let (content, tail) = body.split_at(end);
    let content = content.strip_suffix('\r').unwrap_or(content);
    *rest = tail.get(3..).unwrap_or("");
    Ok(content)
}

fn is_upper_alnum(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit()
}

/// Checks a 12-character LT address: BIC party prefix (4), country (2
/// letters), location (2), LT code (1), branch (3).
fn check_lt_address(address: &str, field: &str, role: &str) -> Result<(), TranslateError> {
    let bytes = address.as_bytes();
    let well_formed = bytes.len() == LT_ADDRESS_CHARS
        && bytes.iter().copied().all(is_upper_alnum)
        && bytes
            .get(4..6)
            .is_some_and(|c| c.iter().all(u8::is_ascii_uppercase));
    if well_formed {
        Ok(())
    } else {
        Err(block_error(
            field,
            format!(
                "{address} is not the {role}'s 12-character address (BIC, LT code, branch)",
                address = quoted(address)
            ),
        ))
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Block 1: `F01` + LT address + session (4 digits) + sequence (6 digits).
fn parse_block1(content: &str) -> Result<&str, TranslateError> {
    let Some(rest) = content.strip_prefix("F01") else {
        return Err(block_error(
            "{1:}",
            format!(
                "the basic header {content} must start with F01 (FIN, user-to-user)",
                content = quoted(content)
            ),
        ));
    };
    let parts = rest
        .split_at_checked(LT_ADDRESS_CHARS)
        .filter(|(_, numbers)| numbers.len() == 10);
    let Some((address, numbers)) = parts else {
        return Err(block_error(
            "{1:}",
            format!("the basic header {content} must be F01, a 12-character address, a 4-digit session and a 6-digit sequence number", content = quoted(content)),
        ));
    };
    check_lt_address(address, "{1:}", "sender")?;
    if !all_digits(numbers) {
        return Err(block_error(
            "{1:}",
            format!(
                "{numbers} is not a 4-digit session and 6-digit sequence number",
                numbers = quoted(numbers)
            ),
        ));
    }
    Ok(address)
}

/// The address block 2 names: the receiver of an input message, the sender
/// (in the message input reference) of an output message.
enum Block2Address<'a> {
    Receiver(&'a str),
    Sender(&'a str),
}

/// Block 2, input or output; returns the message type and the address it names.
fn parse_block2(content: &str) -> Result<(u16, Block2Address<'_>), TranslateError> {
    if !content.is_ascii() {
        return Err(block_error("{2:}", "the application header is not ASCII"));
    }
    let (io, rest) = content.split_at_checked(1).unwrap_or(("", ""));
    let (type_text, rest) = rest.split_at_checked(3).unwrap_or(("", ""));
    if !all_digits(type_text) || type_text.len() != 3 {
        return Err(block_error(
            "{2:}",
            format!("the application header {content} does not start with I or O and a 3-digit message type", content = quoted(content)),
        ));
    }
    let message_type: u16 = type_text
        .parse()
        .map_err(|_| block_error("{2:}", "bad message type"))?;
    match io {
        "I" => {
            let (receiver, options) = rest
                .split_at_checked(LT_ADDRESS_CHARS)
                .unwrap_or((rest, ""));
            check_lt_address(receiver, "{2:}", "receiver")?;
            let options = options.as_bytes();
            let priority_ok = options
                .first()
                .is_none_or(|p| matches!(p, b'S' | b'U' | b'N'));
            let monitoring_ok = options
                .get(1)
                .is_none_or(|m| matches!(m, b'1' | b'2' | b'3'));
            let obsolescence_ok = match options.get(2..) {
                None | Some([]) => true,
                Some(digits) => digits.len() == 3 && digits.iter().all(u8::is_ascii_digit),
            };
            if !(priority_ok && monitoring_ok && obsolescence_ok) {
                return Err(block_error(
                    "{2:}",
                    format!("{content} is not an input application header: after the receiver come an optional priority S, U or N, delivery monitoring 1–3 and a 3-digit obsolescence period", content = quoted(content)),
                ));
            }
            Ok((message_type, Block2Address::Receiver(receiver)))
        }
        "O" => {
            // HHMM, then the message input reference: YYMMDD, LT address, session, sequence.
            let bytes = rest.as_bytes();
            let digits_at = |range: std::ops::Range<usize>| {
                bytes
                    .get(range)
                    .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
            };
            let shape = (rest.len() == 42 || rest.len() == 43)
                && digits_at(0..10)
                && digits_at(22..42)
                && bytes
                    .get(42)
                    .is_none_or(|p| matches!(p, b'S' | b'U' | b'N'));
            let sender = rest.get(10..22).unwrap_or("");
            if !shape {
                return Err(block_error(
                    "{2:}",
                    format!("{content} is not an output application header: O, type, input time, message input reference, output date and time, priority", content = quoted(content)),
                ));
            }
            check_lt_address(sender, "{2:}", "sender")?;
            Ok((message_type, Block2Address::Sender(sender)))
        }
        _ => Err(block_error(
            "{2:}",
            format!(
                "the application header {content} must start with I (input) or O (output)",
                content = quoted(content)
            ),
        )),
    }
}

/// The LT address a BIC sends from: the 8-character institution, LT code
/// `A`, and the branch (`XXX` for the head office).
pub(crate) fn sender_address(bic: &str) -> String {
    lt_address(bic, 'A')
}

/// The address a BIC receives at in an input block 2: LT code `X`.
pub(crate) fn receiver_address(bic: &str) -> String {
    lt_address(bic, 'X')
}

fn lt_address(bic: &str, lt_code: char) -> String {
    let institution = bic.get(..8).unwrap_or(bic);
    let branch = bic.get(8..11).unwrap_or("XXX");
    format!("{institution}{lt_code}{branch}")
}

/// The BIC an LT address belongs to: the institution, and the branch unless
/// it is the head office `XXX`.
pub(crate) fn bic_of_address(address: &str) -> String {
    let institution = address.get(..8).unwrap_or(address);
    match address.get(9..12) {
        Some("XXX") | None => institution.to_string(),
        Some(branch) => format!("{institution}{branch}"),
    }
}

/// Whether an LT address is an Isthmus placeholder (country code `XX`, which
/// ISO 3166 never assigns, so no real BIC has it): a gateway replaces it
/// before the message goes on the network, and nothing is derived from it.
pub(crate) fn is_placeholder(address: &str) -> bool {
    address.get(4..6) == Some("XX")
}

/// Writes a whole input message: blocks 1, 2 and 4, CR LF line ends, no
/// block 3 or 5, session and sequence numbers zero (the FIN interface
/// assigns them), normal priority.
pub(crate) fn write(message_type: u16, sender: &str, receiver: &str, lines: &[String]) -> Vec<u8> {
    let mut out = format!("{{1:F01{sender}0000000000}}{{2:I{message_type:03}{receiver}N}}{{4:\r\n");
    for line in lines {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("-}");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "{1:F01CHASUS33AXXX0000000000}{2:I543DTCYUS33XXXXN}";

    fn code(input: &str) -> Option<TranslateCode> {
        parse(input.as_bytes()).err().map(|e| e.code)
    }

    #[test]
    fn reads_input_and_output_messages_with_optional_blocks() {
        let input =
            format!("{HEAD}{{3:{{108:MUR123}}}}{{4:\r\n:16R:GENL\r\n-}}{{5:{{CHK:ABC}}}}\r\n");
        let fin = parse(input.as_bytes()).ok();
        assert_eq!(
            fin.as_ref().map(|f| (f.message_type, f.sender, f.text)),
            Some((543, "CHASUS33AXXX", ":16R:GENL"))
        );
        assert_eq!(
            fin.as_ref().map(|f| (f.receiver, f.receiver_location)),
            Some(("DTCYUS33XXXX", "{2:}"))
        );
        let output = "{1:F01DEUTDEFFAXXX0000000000}{2:O5451030261127CHASUS33AXXX12345678902611271031N}{4:\n:16R:GENL\n-}";
        let fin = parse(output.as_bytes()).ok();
        assert_eq!(
            fin.as_ref()
                .map(|f| (f.message_type, f.sender, f.sender_location)),
            Some((545, "CHASUS33AXXX", "{2:}"))
        );
        assert_eq!(
            fin.as_ref().map(|f| (f.receiver, f.receiver_location)),
            Some(("DEUTDEFFAXXX", "{1:}"))
        );
        assert_eq!(
            parse(format!("{HEAD}{{4:\r\n-}}").as_bytes())
                .ok()
                .map(|f| f.text),
            Some("")
        );
    }

    #[test]
    fn refuses_broken_blocks() {
        use TranslateCode::*;
        assert_eq!(code(""), Some(MtBlockStructure));
        assert_eq!(code("{4:\r\n-}"), Some(MtBlockStructure));
        assert_eq!(
            code("{1:F01CHASUS33AXXX0000000000}{4:\r\n-}"),
            Some(MtBlockStructure)
        );
        assert_eq!(
            code(&format!("{HEAD}{{4:\r\n:16R:GENL\r\n")),
            Some(MtBlockStructure)
        );
        assert_eq!(
            code(&format!("{HEAD}{{4::16R:GENL\r\n-}}")),
            Some(MtBlockStructure)
        );
        assert_eq!(
            code(&format!("{HEAD}{{4:\r\n-}}junk")),
            Some(MtBlockStructure)
        );
        assert_eq!(
            code("{1:F01chasus33AXXX0000000000}{2:I543DTCYUS33XXXXN}{4:\r\n-}"),
            Some(MtBlockStructure)
        );
        assert_eq!(
            code("{1:F01CHASUS33AXXX0000000000}{2:I54XDTCYUS33XXXXN}{4:\r\n-}"),
            Some(MtBlockStructure)
        );
        assert_eq!(
            code("{1:F01CHASUS33AXXX0000000000}{2:I543DTCYUS33XXXXQ}{4:\r\n-}"),
            Some(MtBlockStructure)
        );
        assert_eq!(
            code(&format!("{HEAD}{{3:{{108:A}}{{4:\r\n-}}")),
            Some(MtBlockStructure)
        );
        let big = vec![b'x'; MAX_NATIVE_MESSAGE_BYTES + 1];
        assert_eq!(parse(&big).err().map(|e| e.code), Some(InputTooLarge));
        let long_text = format!("{HEAD}{{4:\r\n{}\r\n-}}", ":16R:GENL\r\n".repeat(1000));
        assert_eq!(code(&long_text), Some(InputTooLarge));
    }

    #[test]
    fn addresses() {
        assert_eq!(sender_address("CHASUS33"), "CHASUS33AXXX");
        assert_eq!(receiver_address("DEUTDEFF500"), "DEUTDEFFX500");
        assert_eq!(bic_of_address("CHASUS33AXXX"), "CHASUS33");
        assert_eq!(bic_of_address("DEUTDEFFA500"), "DEUTDEFF500");
        assert!(is_placeholder("ISMGXXXXAXXX"));
        assert!(!is_placeholder("CHASUS33AXXX"));
        let bytes = write(540, "CHASUS33AXXX", "DTCYUS33XXXX", &[":16R:GENL".into()]);
        assert_eq!(
            String::from_utf8(bytes).ok().as_deref(),
            Some("{1:F01CHASUS33AXXX0000000000}{2:I540DTCYUS33XXXXN}{4:\r\n:16R:GENL\r\n-}")
        );
    }
}
