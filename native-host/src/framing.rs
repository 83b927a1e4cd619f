//! Native messaging framing as a pure tokio-util codec: a 32-bit length in native
//! byte order, then that many bytes of UTF-8 JSON. Frames are capped at
//! [`MAX_FRAME_BYTES`] both ways.
//!
//! The length prefix is parsed by tokio-util's `LengthDelimitedCodec`; this type
//! only checks the declared length first and maps the codec's I/O errors to
//! [`FrameError`], whose variants are the frame-level outcomes the host logs.
//!
//! A frame over the cap is not an end: a page can make the browser send one (a
//! text node of a few megabytes), and ending the session would drop the
//! softphone connection. The decoder yields [`Inbound::Oversized`] with the
//! declared length, then reads the body away in the chunks the reader hands it,
//! never holding more than one chunk, and goes on with the next frame.

use bytes::{Bytes, BytesMut};
use ringside_core::protocol::MAX_FRAME_BYTES;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// A frame-level failure. Each one ends the stream; none is a panic.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the stream ended inside a frame ({buffered} bytes of it received)")]
    Truncated { buffered: usize },
    #[error("the stream ended inside an oversized frame ({missing} bytes of it never came)")]
    EndedInSkippedFrame { missing: u64 },
    #[error("reply of {len} bytes exceeds the {MAX_FRAME_BYTES}-byte limit")]
    ReplyTooLarge { len: usize },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// What the decoder yields: a message body, or the news that one was too
/// large and is being skipped.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    Message(BytesMut),
    /// A frame declared more than [`MAX_FRAME_BYTES`]; its body is discarded
    /// as it arrives and the next frame is read after it.
    Oversized {
        declared: u64,
    },
}

impl Inbound {
    /// The message body (tests and the fuzzer).
    pub fn message(self) -> Option<BytesMut> {
        match self {
            Inbound::Message(m) => Some(m),
            Inbound::Oversized { .. } => None,
        }
    }
}

/// The message the host sends about a skipped frame.
pub fn oversized_message(declared: u64) -> String {
    format!(
        "a message of {declared} bytes is over the {MAX_FRAME_BYTES}-byte limit; it was skipped"
    )
}

/// The native messaging codec.
#[derive(Debug)]
pub struct NativeMessagingCodec {
    inner: LengthDelimitedCodec,
    /// The inner codec has consumed a length prefix and waits for the body.
    in_body: bool,
    /// Bytes of an oversized frame still to read away.
    skipping: u64,
}

impl Default for NativeMessagingCodec {
    fn default() -> Self {
        NativeMessagingCodec {
            inner: LengthDelimitedCodec::builder()
                .length_field_length(4)
                .native_endian()
                .max_frame_length(MAX_FRAME_BYTES)
                .new_codec(),
            in_body: false,
            skipping: 0,
        }
    }
}

impl Decoder for NativeMessagingCodec {
    type Item = Inbound;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, FrameError> {
        if self.skipping > 0 {
            let n = usize::try_from(self.skipping)
                .unwrap_or(usize::MAX)
                .min(src.len());
            let _ = src.split_to(n);
            self.skipping -= n as u64;
            if self.skipping > 0 {
                return Ok(None);
            }
        }
        if !self.in_body
            && let Some(head) = src.get(..4)
        {
            let declared = u64::from(u32::from_ne_bytes([head[0], head[1], head[2], head[3]]));
            if declared > MAX_FRAME_BYTES as u64 {
                let _ = src.split_to(4);
                self.skipping = declared;
                return Ok(Some(Inbound::Oversized { declared }));
            }
        }
        let before = src.len();
        let frame = self.inner.decode(src)?;
        self.in_body = frame.is_none() && (self.in_body || src.len() < before);
        Ok(frame.map(Inbound::Message))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Inbound>, FrameError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if self.skipping > 0 => Err(FrameError::EndedInSkippedFrame {
                missing: self.skipping,
            }),
            None if buf.is_empty() => Ok(None),
            None => Err(FrameError::Truncated {
                buffered: buf.len(),
            }),
        }
    }
}

impl Encoder<Bytes> for NativeMessagingCodec {
    type Error = FrameError;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        if item.len() > MAX_FRAME_BYTES {
            return Err(FrameError::ReplyTooLarge { len: item.len() });
        }
        Ok(self.inner.encode(item, dst)?)
    }
}

/// Frames `body` the way the browser does (tests, benches, fuzzing).
pub fn frame(body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    //! Every frame-level input the issue lists, through the decoder alone.
    use super::*;

    /// A message as its bytes; a skipped frame as `SKIPPED`.
    const SKIPPED: &[u8] = b"<skipped>";
    fn as_vec(f: Inbound) -> Vec<u8> {
        match f {
            Inbound::Message(m) => m.to_vec(),
            Inbound::Oversized { .. } => SKIPPED.to_vec(),
        }
    }

    fn decode_all(bytes: &[u8]) -> (Vec<Vec<u8>>, Option<FrameError>) {
        let mut codec = NativeMessagingCodec::default();
        let mut buf = BytesMut::from(bytes);
        let mut frames = vec![];
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => frames.push(as_vec(f)),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
        match codec.decode_eof(&mut buf) {
            Ok(Some(f)) => frames.push(as_vec(f)),
            Ok(None) => {}
            Err(e) => return (frames, Some(e)),
        }
        (frames, None)
    }

    #[test]
    fn decodes_consecutive_frames() {
        let mut bytes = frame(b"{\"a\":1}");
        bytes.extend(frame(b"[]"));
        let (frames, err) = decode_all(&bytes);
        assert!(err.is_none());
        assert_eq!(frames, vec![b"{\"a\":1}".to_vec(), b"[]".to_vec()]);
    }

    #[test]
    fn zero_length_frame_is_a_frame() {
        let (frames, err) = decode_all(&frame(b""));
        assert!(err.is_none());
        assert_eq!(frames, vec![Vec::<u8>::new()]);
    }

    #[test]
    fn truncated_header_is_reported() {
        let (frames, err) = decode_all(&[5, 0]);
        assert!(frames.is_empty());
        assert!(matches!(err, Some(FrameError::Truncated { buffered: 2 })));
    }

    #[test]
    fn eof_mid_body_is_reported() {
        let mut bytes = frame(b"{\"id\":1}");
        bytes.truncate(7);
        let (_, err) = decode_all(&bytes);
        assert!(matches!(err, Some(FrameError::Truncated { buffered: 3 })));
    }

    #[test]
    fn body_bytes_are_never_read_as_a_header() {
        // The body arrives in pieces; its first bytes look like a huge length.
        let mut codec = NativeMessagingCodec::default();
        let mut buf = BytesMut::from(&frame(b"{\"id\":1}")[..6]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"id\":1}");
        let body = codec.decode(&mut buf).unwrap().unwrap().message().unwrap();
        assert_eq!(&body[..], b"{\"id\":1}");
        // And the next frame's header is checked again.
        buf.extend_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Inbound::Oversized {
                declared: 0xFFFF_FFFF
            })
        );
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let body = vec![b' '; MAX_FRAME_BYTES];
        let (frames, err) = decode_all(&frame(&body));
        assert!(err.is_none());
        assert_eq!(frames[0].len(), MAX_FRAME_BYTES);
        assert_ne!(frames[0], SKIPPED);
    }

    #[test]
    fn one_byte_over_is_reported_before_reading_the_body() {
        let declared = (MAX_FRAME_BYTES + 1) as u32;
        let mut codec = NativeMessagingCodec::default();
        let mut buf = BytesMut::from(&declared.to_ne_bytes()[..]);
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Inbound::Oversized {
                declared: MAX_FRAME_BYTES as u64 + 1
            })
        );
        // The stream ending before the body came is reported, not a panic.
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(FrameError::EndedInSkippedFrame { missing }) if missing == MAX_FRAME_BYTES as u64 + 1
        ));
    }

    #[test]
    fn an_oversized_frame_is_read_away_in_chunks_and_the_next_one_is_served() {
        // 2 MiB of digits (what a hostile page's text node makes), then a ping.
        let big = vec![b'7'; 2 * MAX_FRAME_BYTES];
        let mut bytes = frame(&big);
        bytes.extend(frame(b"{\"id\":2}"));
        let mut codec = NativeMessagingCodec::default();
        let mut buf = BytesMut::new();
        let mut out = vec![];
        let mut most_held = 0;
        for chunk in bytes.chunks(64 * 1024) {
            buf.extend_from_slice(chunk);
            most_held = most_held.max(buf.len());
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                out.push(as_vec(f));
            }
        }
        assert_eq!(out, vec![SKIPPED.to_vec(), b"{\"id\":2}".to_vec()]);
        // Never more than one chunk held: the body is not buffered.
        assert!(most_held <= 64 * 1024, "held {most_held} bytes");
        assert!(codec.decode_eof(&mut buf).unwrap().is_none());
    }

    #[test]
    fn max_u32_is_skipped_without_allocating() {
        let mut codec = NativeMessagingCodec::default();
        let mut buf = BytesMut::from(&u32::MAX.to_ne_bytes()[..]);
        let cap = buf.capacity();
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Inbound::Oversized {
                declared: 0xFFFF_FFFF
            })
        );
        // Nothing was allocated for the declared 4 GiB.
        assert!(buf.capacity() <= cap, "{} > {cap}", buf.capacity());
    }

    #[test]
    fn encoder_writes_native_endian_length_and_caps_replies() {
        let mut codec = NativeMessagingCodec::default();
        let mut out = BytesMut::new();
        codec.encode(Bytes::from_static(b"{}"), &mut out).unwrap();
        assert_eq!(&out[..], &frame(b"{}")[..]);
        let big = Bytes::from(vec![b'x'; MAX_FRAME_BYTES + 1]);
        assert!(matches!(
            codec.encode(big, &mut out),
            Err(FrameError::ReplyTooLarge { .. })
        ));
    }
}
