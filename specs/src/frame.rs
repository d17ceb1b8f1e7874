//! Length-prefixed frames on QUIC streams (ISM-1 §8.2).
//!
//! A frame is a 4-byte big-endian payload length followed by that many bytes
//! of one message. The decoder refuses a length over [`MAX_MESSAGE_BYTES`] as
//! soon as the prefix arrives, before buffering any of the payload.

use crate::limits::{FRAME_PREFIX_BYTES, MAX_MESSAGE_BYTES};
use crate::reason::{ReasonCode, Rejection};

fn too_large(length: usize) -> Rejection {
    Rejection::new(
        ReasonCode::FrameTooLarge,
        format!("a frame of {length} bytes was announced; at most {MAX_MESSAGE_BYTES} are allowed"),
    )
}

/// Wraps one message in a frame.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, Rejection> {
    if payload.len() > MAX_MESSAGE_BYTES {
        return Err(too_large(payload.len()));
    }
    // MAX_MESSAGE_BYTES fits a u32 (asserted in limits), so this cannot fail.
    let length = u32::try_from(payload.len()).map_err(|_| too_large(payload.len()))?;
    let mut frame = Vec::with_capacity(FRAME_PREFIX_BYTES + payload.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Splits a byte stream into frames; feed it bytes as they arrive.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
}

impl FrameDecoder {
    /// A decoder with nothing buffered.
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame's payload, `None` if more bytes are needed, or
    /// a rejection if the announced length is over the limit. After a
    /// rejection the stream is unusable and should be closed.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, Rejection> {
        let Some(prefix) = self.buffer.get(..FRAME_PREFIX_BYTES) else {
            return Ok(None);
        };
        let mut length_bytes = [0u8; FRAME_PREFIX_BYTES];
        length_bytes.copy_from_slice(prefix);
        let length = u32::from_be_bytes(length_bytes) as usize;
        if length > MAX_MESSAGE_BYTES {
            return Err(too_large(length));
        }
        if self.buffer.len() < FRAME_PREFIX_BYTES + length {
            return Ok(None);
        }
        let payload = self.buffer[FRAME_PREFIX_BYTES..FRAME_PREFIX_BYTES + length].to_vec();
        self.buffer.drain(..FRAME_PREFIX_BYTES + length);
        Ok(Some(payload))
    }

    /// Call when the stream ends: refuses a partial frame left behind.
    pub fn finish(&self) -> Result<(), Rejection> {
        if !self.buffer.is_empty() {
            return Err(Rejection::new(
                ReasonCode::FrameTruncated,
                format!(
                    "the stream ended with {} bytes of an incomplete frame",
                    self.buffer.len()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_oversize_prefix_before_payload() {
        let mut decoder = FrameDecoder::new();
        decoder.push(&((MAX_MESSAGE_BYTES as u32) + 1).to_be_bytes());
        assert_eq!(
            decoder.next_frame().err().map(|r| r.code),
            Some(ReasonCode::FrameTooLarge)
        );
        assert!(encode_frame(&vec![0; MAX_MESSAGE_BYTES + 1]).is_err());
        assert!(encode_frame(&vec![0; MAX_MESSAGE_BYTES]).is_ok());
    }

    #[test]
    fn truncated_stream_is_reported() {
        let mut decoder = FrameDecoder::new();
        decoder.push(&[0, 0, 0, 5, b'a']);
        assert_eq!(decoder.next_frame(), Ok(None));
        assert_eq!(
            decoder.finish().err().map(|r| r.code),
            Some(ReasonCode::FrameTruncated)
        );
    }

    proptest! {
        #[test]
        fn frames_survive_any_split(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8), cut in 1usize..64) {
            let mut stream = Vec::new();
            for payload in &payloads {
                stream.extend(encode_frame(payload).map_err(|r| TestCaseError::fail(r.to_string()))?);
            }
            let mut decoder = FrameDecoder::new();
            let mut out = Vec::new();
            for chunk in stream.chunks(cut) {
                decoder.push(chunk);
                while let Some(frame) = decoder.next_frame().map_err(|r| TestCaseError::fail(r.to_string()))? {
                    out.push(frame);
                }
            }
            prop_assert_eq!(out, payloads);
            prop_assert!(decoder.finish().is_ok());
        }
    }
}
