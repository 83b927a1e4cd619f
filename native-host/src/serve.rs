//! The native messaging session: read frames, answer each request, keep serving
//! through message-level errors, end cleanly on frame-level ones.
//!
//! I/O is injected (any `AsyncRead`/`AsyncWrite`), so tests drive it with
//! in-memory pipes and the binary with stdin/stdout.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use ringside_core::protocol::{
    self, ErrorBody, ErrorCode, Event, HelloResult, MAX_FRAME_BYTES, PingResult, Request, Response,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::framing::{FrameError, NativeMessagingCodec};

/// What the host says about itself in `hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostIdentity {
    pub host_version: String,
    pub pid: u32,
    pub os: String,
}

impl HostIdentity {
    /// This process.
    pub fn current() -> Self {
        HostIdentity {
            host_version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            os: std::env::consts::OS.to_owned(),
        }
    }
}

/// Capabilities announced in `hello`; grows as features land.
pub const CAPABILITIES: &[&str] = &["ping"];

/// Per-connection state.
#[derive(Debug)]
pub struct Session {
    identity: HostIdentity,
    version: Option<u32>,
}

impl Session {
    pub fn new(identity: HostIdentity) -> Self {
        Session {
            identity,
            version: None,
        }
    }

    /// Answers one frame body. Pure and total: every input gets a response.
    pub fn handle_body(&mut self, body: &[u8]) -> Response {
        let envelope = match protocol::parse_request(body) {
            Ok(e) => e,
            Err(failure) => {
                tracing::warn!(
                    code = failure.error.code,
                    id = ?failure.id,
                    "rejected message: {}",
                    failure.error.message
                );
                return Response::err(failure.id, failure.error);
            }
        };
        let id = envelope.id;
        match envelope.request {
            Request::Hello(params) => match protocol::negotiate(&params.versions) {
                Some(version) => {
                    self.version = Some(version);
                    tracing::info!(version, client = ?params.client, "hello");
                    Response::ok(
                        id,
                        HelloResult {
                            version,
                            host_version: self.identity.host_version.clone(),
                            capabilities: CAPABILITIES.iter().map(|c| (*c).to_owned()).collect(),
                            pid: self.identity.pid,
                            os: self.identity.os.clone(),
                        },
                    )
                }
                None => Response::err(
                    Some(id),
                    ErrorBody::new(
                        ErrorCode::UnsupportedVersion,
                        format!(
                            "this host speaks protocol versions {:?}; the extension offered {:?}",
                            protocol::SUPPORTED_VERSIONS,
                            params.versions
                        ),
                    ),
                ),
            },
            _ if self.version.is_none() => Response::err(
                Some(id),
                ErrorBody::new(ErrorCode::HelloRequired, "send hello first"),
            ),
            Request::Ping(params) => Response::ok(
                id,
                PingResult {
                    payload: params.payload,
                },
            ),
        }
    }
}

/// The encoded reply for a response, replaced by a `reply_too_large` error when
/// it would not fit in one frame.
pub fn encode_reply(response: &Response) -> Bytes {
    let bytes = response.to_bytes();
    if bytes.len() <= MAX_FRAME_BYTES {
        return Bytes::from(bytes);
    }
    tracing::warn!(
        len = bytes.len(),
        "reply too large, sending an error instead"
    );
    let err = Response::err(
        response.id,
        ErrorBody::new(
            ErrorCode::ReplyTooLarge,
            format!(
                "the reply ({} bytes) exceeds the {MAX_FRAME_BYTES}-byte frame limit",
                bytes.len()
            ),
        ),
    );
    Bytes::from(err.to_bytes())
}

/// How a session ended.
#[derive(Debug)]
pub enum ServeEnd {
    /// The browser closed stdin between frames: the normal end.
    Closed,
    /// Garbage at the frame level; the stream was ended.
    Frame(FrameError),
    /// Writing a reply failed (the browser is gone).
    Write(FrameError),
}

/// Serves one native messaging session until the input ends. Every reply is
/// flushed before the next frame is read, so nothing is lost when stdin closes.
pub async fn serve<R, W>(reader: R, writer: W, identity: HostIdentity) -> ServeEnd
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = FramedRead::new(reader, NativeMessagingCodec::default());
    let mut sink = FramedWrite::new(writer, NativeMessagingCodec::default());
    let mut session = Session::new(identity);
    loop {
        match frames.next().await {
            None => return ServeEnd::Closed,
            Some(Ok(body)) => {
                let reply = encode_reply(&session.handle_body(&body));
                if let Err(e) = sink.send(reply).await {
                    tracing::error!("cannot write reply: {e}");
                    return ServeEnd::Write(e);
                }
            }
            Some(Err(e)) => {
                tracing::error!("ending the session: {e}");
                if let FrameError::TooLarge { .. } = e {
                    let event =
                        Event::host_error(ErrorBody::new(ErrorCode::FrameTooLarge, e.to_string()));
                    // Best effort: the stream is ending either way.
                    let _ = sink.send(Bytes::from(event.to_bytes())).await;
                }
                return ServeEnd::Frame(e);
            }
        }
    }
}

/// Tells the caller it is not allowed, in one frame, before the host exits.
pub async fn refuse<W: AsyncWrite + Unpin>(writer: W, origin: &str) {
    let mut sink = FramedWrite::new(writer, NativeMessagingCodec::default());
    let event = Event::host_error(ErrorBody::new(
        ErrorCode::OriginNotAllowed,
        format!("{origin} is not in this host's allow-list"),
    ));
    let _ = sink.send(Bytes::from(event.to_bytes())).await;
}

#[cfg(test)]
mod tests {
    //! Reply-size enforcement (no v1 request can provoke it through the wire:
    //! a ping's echo is always shorter than the ping).
    use super::*;

    #[test]
    fn oversized_reply_becomes_reply_too_large_with_the_same_id() {
        let big = Response::ok(
            7,
            PingResult {
                payload: serde_json::Value::String("z".repeat(MAX_FRAME_BYTES)),
            },
        );
        let bytes = encode_reply(&big);
        let r: Response = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(r.id, Some(7));
        assert_eq!(r.error.unwrap().code, ErrorCode::ReplyTooLarge.code());
    }

    #[test]
    fn ping_before_hello_is_refused() {
        let mut s = Session::new(HostIdentity::current());
        let r = s.handle_body(br#"{"id":1,"type":"ping"}"#);
        assert_eq!(r.error.unwrap().code, ErrorCode::HelloRequired.code());
    }
}
