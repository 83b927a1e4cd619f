//! Native messaging framing as a pure tokio-util codec: a 32-bit length in native
//! byte order, then that many bytes of UTF-8 JSON. Frames are capped at
//! [`MAX_FRAME_BYTES`] both ways.
//!
//! The length prefix is parsed by tokio-util's `LengthDelimitedCodec`; this type
//! only checks the declared length first (so an oversized header is reported with
//! its value and never allocated for) and maps the codec's I/O errors to
//! [`FrameError`], whose variants are the frame-level outcomes the host logs.

use bytes::{Bytes, BytesMut};
use ringside_core::protocol::MAX_FRAME_BYTES;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// A frame-level failure. Each one ends the stream; none is a panic.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame declares {declared} bytes, more than the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge { declared: u64 },
    #[error("the stream ended inside a frame ({buffered} bytes of it received)")]
    Truncated { buffered: usize },
    #[error("reply of {len} bytes exceeds the {MAX_FRAME_BYTES}-byte limit")]
    ReplyTooLarge { len: usize },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The native messaging codec.
#[derive(Debug)]
pub struct NativeMessagingCodec {
    inner: LengthDelimitedCodec,
    /// The inner codec has consumed a length prefix and waits for the body.
    in_body: bool,
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
        }
    }
}

impl Decoder for NativeMessagingCodec {
    type Item = BytesMut;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if !self.in_body
            && let Some(head) = src.get(..4)
        {
            let declared = u64::from(u32::from_ne_bytes([head[0], head[1], head[2], head[3]]));
            if declared > MAX_FRAME_BYTES as u64 {
                return Err(FrameError::TooLarge { declared });
            }
        }
        let before = src.len();
        let frame = self.inner.decode(src)?;
        self.in_body = frame.is_none() && (self.in_body || src.len() < before);
        Ok(frame)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
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

    fn decode_all(bytes: &[u8]) -> (Vec<Vec<u8>>, Option<FrameError>) {
        let mut codec = NativeMessagingCodec::default();
        let mut buf = BytesMut::from(bytes);
        let mut frames = vec![];
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f.to_vec()),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
        match codec.decode_eof(&mut buf) {
            Ok(Some(f)) => frames.push(f.to_vec()),
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
        assert_eq!(&codec.decode(&mut buf).unwrap().unwrap()[..], b"{\"id\":1}");
        // And the next frame's header is checked again.
        buf.extend_from_slice(&u32::MAX.to_ne_bytes());
        assert!(matches!(
            codec.decode(&mut buf),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let body = vec![b' '; MAX_FRAME_BYTES];
        let (frames, err) = decode_all(&frame(&body));
        assert!(err.is_none());
        assert_eq!(frames[0].len(), MAX_FRAME_BYTES);
    }

    #[test]
    fn one_byte_over_is_refused_before_reading_the_body() {
        let declared = (MAX_FRAME_BYTES + 1) as u32;
        let (_, err) = decode_all(&declared.to_ne_bytes());
        assert!(
            matches!(err, Some(FrameError::TooLarge { declared: d }) if d == MAX_FRAME_BYTES as u64 + 1)
        );
    }

    #[test]
    fn max_u32_is_refused_without_allocating() {
        let mut codec = NativeMessagingCodec::default();
        let mut buf = BytesMut::from(&u32::MAX.to_ne_bytes()[..]);
        let cap = buf.capacity();
        assert!(matches!(
            codec.decode(&mut buf),
            Err(FrameError::TooLarge {
                declared: 0xFFFF_FFFF
            })
        ));
        assert_eq!(buf.capacity(), cap);
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
