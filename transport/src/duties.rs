//! The receiver duties of ISM-1 §8.4 on one request, as a pure function of
//! its bytes, its peer and the membership: framing (§8.2, §8.3 rules 4–5),
//! decoding, peer, addressee, signature, in that order. Exactly-once (step
//! 6) belongs to the node, whose record of handling a message is part of the
//! same durable write as what the message changed (ISM-1 §12.9).
//!
//! The I/O side reads a stream's receiving side into a [`RequestBytes`] with
//! [`StreamReader`], which refuses an oversized frame as soon as its prefix
//! arrives; [`check_message`] does the rest.

use isthmus_spec::body::{Body, Kind};
use isthmus_spec::ids::{MessageId, NodeId};
use isthmus_spec::limits::FRAME_PREFIX_BYTES;
use isthmus_spec::membership::{Member, Membership, Role};
use isthmus_spec::{Envelope, ReasonCode, Rejection};

/// A request refused, and how to answer it (ISM-1 §8.4 rule 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub rejection: Rejection,
    /// The refused message's id, if it could be read.
    pub related: Option<MessageId>,
    /// False when the payload decoded to an Error: no Error answers an Error.
    pub answer: bool,
}

impl Refusal {
    fn framing(rejection: Rejection) -> Refusal {
        Refusal {
            rejection,
            related: None,
            answer: true,
        }
    }
}

/// Collects one request's bytes as they arrive on a stream, within the
/// frame limit (ISM-1 §8.2, §8.3 rules 4 and 5).
#[derive(Debug)]
pub struct StreamReader {
    max_payload_bytes: usize,
    bytes: Vec<u8>,
    expected_total: Option<usize>,
}

/// What a stream's receiving side brought: one frame's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBytes {
    /// The frame's payload: one message.
    pub payload: Vec<u8>,
}

impl StreamReader {
    /// A reader refusing frames over `max_payload_bytes` (at most the 1 MiB of ISM-1 §8.2).
    pub fn new(max_payload_bytes: usize) -> StreamReader {
        StreamReader {
            max_payload_bytes: max_payload_bytes.min(isthmus_spec::limits::MAX_MESSAGE_BYTES),
            bytes: Vec::new(),
            expected_total: None,
        }
    }

    /// How many more bytes the reader can take before the frame is complete
    /// (one more past it shows a second frame): what to read next.
    pub fn wanted(&self) -> usize {
        match self.expected_total {
            None => FRAME_PREFIX_BYTES - self.bytes.len(),
            // One byte beyond the frame is enough to know there is another.
            Some(total) => total + 1 - self.bytes.len().min(total + 1),
        }
    }

    /// Takes bytes that arrived. Refuses at once a prefix announcing more
    /// than the limit (`FRAME_TOO_LARGE`) and bytes past the one frame
    /// (`FRAME_EXTRA`); after a refusal the stream is not read further.
    pub fn push(&mut self, data: &[u8]) -> Result<(), Refusal> {
        self.bytes.extend_from_slice(data);
        if self.expected_total.is_none() && self.bytes.len() >= FRAME_PREFIX_BYTES {
            let mut prefix = [0u8; FRAME_PREFIX_BYTES];
            prefix.copy_from_slice(&self.bytes[..FRAME_PREFIX_BYTES]);
            let length = u32::from_be_bytes(prefix) as usize;
            if length > self.max_payload_bytes {
                return Err(Refusal::framing(Rejection::new(
                    ReasonCode::FrameTooLarge,
                    format!(
                        "a frame of {length} bytes was announced; at most {} are read",
                        self.max_payload_bytes
                    ),
                )));
            }
            self.expected_total = Some(FRAME_PREFIX_BYTES + length);
        }
        if let Some(total) = self.expected_total {
            if self.bytes.len() > total {
                return Err(Refusal::framing(Rejection::new(
                    ReasonCode::FrameExtra,
                    "the stream carried bytes after its one frame; a request is one frame (ISM-1 §8.3 rule 4)",
                )));
            }
        }
        Ok(())
    }

    /// The stream's receiving side ended: its one frame, or why there is none.
    pub fn finish(self) -> Result<RequestBytes, Refusal> {
        if self.bytes.is_empty() {
            return Err(Refusal::framing(Rejection::new(
                ReasonCode::FrameMissing,
                "the stream ended without a frame",
            )));
        }
        match self.expected_total {
            Some(total) if self.bytes.len() == total => Ok(RequestBytes {
                payload: self.bytes[FRAME_PREFIX_BYTES..].to_vec(),
            }),
            _ => Err(Refusal::framing(Rejection::new(
                ReasonCode::FrameTruncated,
                format!(
                    "the stream ended with {} bytes of an incomplete frame",
                    self.bytes.len()
                ),
            ))),
        }
    }
}

/// A message that passed ISM-1 §8.4 steps 1–5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The message.
    pub message: Envelope,
    /// Its canonical bytes, signature included: what a replay is compared by
    /// (ISM-1 §8.4 rule 6).
    pub canonical: Vec<u8>,
}

/// Steps 2–5 of ISM-1 §8.4 on one frame's payload from `peer`, at the node `own`.
pub fn check_message(
    payload: &[u8],
    peer: &Member,
    own: &NodeId,
    membership: &Membership,
) -> Result<Checked, Refusal> {
    let message = match Envelope::decode(payload) {
        Ok(message) => message,
        Err(rejection) => {
            return Err(Refusal {
                rejection,
                related: readable_id(payload),
                answer: true,
            })
        }
    };
    let is_error = message.kind() == Kind::Error;
    let refuse = |rejection: Rejection| Refusal {
        rejection,
        related: Some(message.id.clone()),
        answer: !is_error,
    };
    if message.sender != peer.node_id {
        return Err(refuse(Rejection::at(
            ReasonCode::PeerUnknown,
            "sender",
            format!(
                "the message says it is from {}, but the connection is {}'s",
                message.sender, peer.node_id
            ),
        )));
    }
    if peer.role == Role::Observer && !is_error {
        return Err(refuse(Rejection::at(
            ReasonCode::RoleForbidden,
            "kind",
            format!(
                "{} is an observer, which may send only Errors, not a {}",
                peer.node_id,
                message.kind()
            ),
        )));
    }
    if &message.receiver != own {
        return Err(refuse(Rejection::at(
            ReasonCode::ReceiverMismatch,
            "receiver",
            format!(
                "the message is for {}, not for this node, {own}",
                message.receiver
            ),
        )));
    }
    match message.verify(membership) {
        Err(rejection)
            if rejection.code == isthmus_spec::ReasonCode::SignatureInvalid
                && crate::broken::active(crate::broken::Fault::AcceptBadSignature) => {}
        verified => verified.map_err(refuse)?,
    }
    let canonical = message.to_canonical_bytes();
    Ok(Checked { message, canonical })
}

impl Checked {
    /// The messages to handle: those a Batch carries, in order, each with
    /// the canonical bytes a repeat of it is compared by (ISM-1 §8.7 rule
    /// 3: its own, without a signature); any other message alone.
    pub fn unpack(self) -> Vec<Checked> {
        match self.message.body {
            Body::Batch(batch) => batch
                .messages
                .into_iter()
                .map(|message| {
                    let canonical = message.to_canonical_bytes();
                    Checked { message, canonical }
                })
                .collect(),
            _ => vec![self],
        }
    }

    /// Whether it is a Batch.
    pub fn is_batch(&self) -> bool {
        self.message.kind() == Kind::Batch
    }
}

/// The `id` of a payload that did not decode, if it has a valid one.
fn readable_id(payload: &[u8]) -> Option<MessageId> {
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    MessageId::parse(value.get("id")?.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        isthmus_spec::frame::encode_frame(payload).unwrap()
    }

    fn code(result: Result<RequestBytes, Refusal>) -> ReasonCode {
        result.err().map(|r| r.rejection.code).unwrap()
    }

    #[test]
    fn one_frame_in_any_pieces_is_its_payload() {
        let bytes = frame(b"{}");
        for split in 0..=bytes.len() {
            let mut reader = StreamReader::new(1024);
            reader.push(&bytes[..split]).unwrap();
            reader.push(&bytes[split..]).unwrap();
            assert_eq!(reader.finish().unwrap().payload, b"{}".to_vec());
        }
    }

    #[test]
    fn the_reader_asks_for_the_prefix_then_the_frame_then_one_byte_more() {
        let mut reader = StreamReader::new(1024);
        assert_eq!(reader.wanted(), 4);
        reader.push(&[0, 0]).unwrap();
        assert_eq!(reader.wanted(), 2);
        reader.push(&[0, 3]).unwrap();
        assert_eq!(reader.wanted(), 4);
        reader.push(b"abc").unwrap();
        assert_eq!(reader.wanted(), 1);
    }

    #[test]
    fn an_oversized_prefix_is_refused_before_any_payload() {
        let mut reader = StreamReader::new(10);
        let refusal = reader.push(&11u32.to_be_bytes()).unwrap_err();
        assert_eq!(refusal.rejection.code, ReasonCode::FrameTooLarge);
        let mut reader = StreamReader::new(10);
        reader.push(&10u32.to_be_bytes()).unwrap();
        // The limit never exceeds ISM/1's own.
        let mut reader_big = StreamReader::new(usize::MAX);
        let over = (isthmus_spec::limits::MAX_MESSAGE_BYTES as u32 + 1).to_be_bytes();
        assert_eq!(
            reader_big.push(&over).unwrap_err().rejection.code,
            ReasonCode::FrameTooLarge
        );
        let _ = reader;
    }

    #[test]
    fn bytes_after_the_frame_are_refused() {
        let mut bytes = frame(b"{}");
        bytes.push(0);
        let mut reader = StreamReader::new(1024);
        assert_eq!(
            reader.push(&bytes).unwrap_err().rejection.code,
            ReasonCode::FrameExtra
        );
    }

    #[test]
    fn an_empty_stream_and_a_partial_frame_are_refused_at_the_end() {
        assert_eq!(
            code(StreamReader::new(1024).finish()),
            ReasonCode::FrameMissing
        );
        for partial in [&[0u8][..], &[0, 0, 0], &[0, 0, 0, 2, b'{']] {
            let mut reader = StreamReader::new(1024);
            reader.push(partial).unwrap();
            assert_eq!(
                code(reader.finish()),
                ReasonCode::FrameTruncated,
                "{partial:?}"
            );
        }
        // An empty frame is a frame; its empty payload is the decoder's to refuse.
        let mut reader = StreamReader::new(1024);
        reader.push(&[0, 0, 0, 0]).unwrap();
        assert_eq!(reader.finish().unwrap().payload, Vec::<u8>::new());
    }

    #[test]
    fn refusals_answer_except_for_errors() {
        assert!(Refusal::framing(Rejection::new(ReasonCode::FrameExtra, "x")).answer);
    }
}
