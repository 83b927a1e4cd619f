//! The native messaging session: read frames, answer each request, keep serving
//! through message-level errors, end cleanly on frame-level ones.
//!
//! I/O is injected (any `AsyncRead`/`AsyncWrite`), so tests drive it with
//! in-memory pipes and the binary with stdin/stdout.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use ringside_core::dial::{self, CallEvent};
use ringside_core::protocol::{
    self, DialParams, DialerConfig, DialerKind, ErrorBody, ErrorCode, Event, HelloResult,
    MAX_FRAME_BYTES, PingResult, Request, Response,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::dialer::baresip::Baresip;
use crate::dialer::{DialerError, tel};
use crate::framing::{FrameError, Inbound, NativeMessagingCodec, oversized_message};
use crate::mail::Mail;
use crate::secrets::OsStore;
use crate::tokens::Auth;

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

/// How often a configured softphone that is down (or went away) is retried,
/// so incoming calls are heard once it runs.
pub const SOFTPHONE_RECONNECT: std::time::Duration = std::time::Duration::from_secs(5);

/// Capabilities announced in `hello`; grows as features land.
pub const CAPABILITIES: &[&str] = &["ping", "dial", "detect", "auth", "mail"];

/// Per-connection state.
#[derive(Debug)]
pub struct Session {
    identity: HostIdentity,
    version: Option<u32>,
    dialer: Option<DialerConfig>,
    /// The softphone connection, opened on first use and reopened after a
    /// drop; `None` whenever it is not known to be up.
    softphone: Option<Softphone>,
    /// Where to record the dialer configuration for `doctor`.
    dialer_store: Option<std::path::PathBuf>,
    /// Token exchange, refresh and revocation, with the secret store.
    auth: std::sync::Arc<Auth>,
    /// Gmail over IMAP with an app password.
    mail: std::sync::Arc<Mail>,
}

/// An open softphone connection: the control client and the call events it
/// relays, which live and end together.
#[derive(Debug)]
struct Softphone {
    client: Baresip,
    /// Call events from the softphone, relayed to the extension.
    events: mpsc::Receiver<CallEvent>,
}

/// What a request needs: an answer now, softphone work, or provider work.
enum Step {
    Reply(Response),
    Dialer(u64, Request),
    Auth(u64, Request),
}

/// A request's answer: ready, or provider work that runs beside the session
/// (a slow token endpoint must not hold dialing or call events).
pub enum Handled {
    Now(Response),
    Later(std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>),
}

fn dialer_error(id: u64, e: &DialerError) -> Response {
    let code = match e {
        DialerError::Unreachable { .. } => ErrorCode::SoftphoneUnreachable,
        DialerError::Timeout { .. } => ErrorCode::SoftphoneTimeout,
        DialerError::Rejected { .. } => ErrorCode::SoftphoneRejected,
        DialerError::Closed => ErrorCode::SoftphoneDisconnected,
        DialerError::InvalidTarget(_) => ErrorCode::InvalidNumber,
        DialerError::NoTelHandler => ErrorCode::NoTelHandler,
        DialerError::Handler(_) => ErrorCode::TelHandlerFailed,
        DialerError::BadCallId(_) => ErrorCode::InvalidMessage,
    };
    Response::err(Some(id), ErrorBody::new(code, e.to_string()))
}

impl Session {
    pub fn new(identity: HostIdentity) -> Self {
        Session {
            identity,
            version: None,
            dialer: None,
            softphone: None,
            dialer_store: None,
            auth: std::sync::Arc::new(Auth::new(std::sync::Arc::new(OsStore), vec![])),
            mail: std::sync::Arc::new(Mail::new(std::sync::Arc::new(OsStore), vec![])),
        }
    }

    /// Uses this mail service (its secret store and trusted CAs).
    pub fn with_mail(mut self, mail: Mail) -> Self {
        self.mail = std::sync::Arc::new(mail);
        self
    }

    /// Uses this token service (its secret store and configured clients).
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = std::sync::Arc::new(auth);
        self
    }

    /// Records each `dialer.configure` in this host config file.
    pub fn with_dialer_store(mut self, config_file: std::path::PathBuf) -> Self {
        self.dialer_store = Some(config_file);
        self
    }

    /// Answers one frame body without touching the softphone: every request
    /// except the dialer ones is answered here; dialer requests get
    /// `dialer_not_configured` or are left to [`Session::handle`].
    pub fn handle_body(&mut self, body: &[u8]) -> Response {
        match self.step(body) {
            Step::Reply(r) => r,
            Step::Dialer(id, Request::ConfigureDialer(cfg)) => self.configure(id, cfg),
            Step::Dialer(id, _) => self.dialer_not_configured(id),
            Step::Auth(id, _) => Response::err(
                Some(id),
                ErrorBody::new(ErrorCode::Internal, "auth requests need the async session"),
            ),
        }
    }

    /// Answers one frame body, doing softphone and provider work when asked.
    /// Every input gets a response.
    pub async fn handle(&mut self, body: &[u8]) -> Response {
        match self.dispatch(body).await {
            Handled::Now(r) => r,
            Handled::Later(work) => work.await,
        }
    }

    /// Like [`Session::handle`], but provider work is handed back to run
    /// concurrently.
    pub async fn dispatch(&mut self, body: &[u8]) -> Handled {
        Handled::Now(match self.step(body) {
            Step::Reply(r) => r,
            Step::Dialer(id, Request::ConfigureDialer(cfg)) => {
                let reply = self.configure(id, cfg);
                // Connect now, not on the first dial: incoming calls arrive as
                // events on this connection.
                self.connect_softphone().await;
                reply
            }
            Step::Dialer(id, req) => self.dialer_request(id, req).await,
            Step::Auth(id, req) => {
                return Handled::Later(Box::pin(auth_work(
                    self.auth.clone(),
                    self.mail.clone(),
                    id,
                    req,
                )));
            }
        })
    }

    /// Whether a softphone is configured but not connected (so incoming
    /// calls would go unnoticed).
    pub fn wants_softphone(&self) -> bool {
        self.softphone.is_none()
            && self
                .dialer
                .as_ref()
                .is_some_and(|d| d.adapter == DialerKind::Baresip)
    }

    /// Connects to the configured softphone if it is not connected; a
    /// softphone that is down is logged and retried later.
    pub async fn connect_softphone(&mut self) {
        if !self.wants_softphone() {
            return;
        }
        let address = self
            .dialer
            .as_ref()
            .and_then(|d| d.address.clone())
            .unwrap_or_default();
        if let Err(e) = self.softphone(&address).await {
            tracing::info!("softphone not connected yet: {e}");
        }
    }

    fn configure(&mut self, id: u64, cfg: DialerConfig) -> Response {
        if cfg.adapter == DialerKind::Baresip && cfg.address.as_deref().is_none_or(str::is_empty) {
            return Response::err(
                Some(id),
                ErrorBody::new(
                    ErrorCode::InvalidMessage,
                    "the baresip dialer needs `address` (its ctrl_tcp host:port)",
                ),
            );
        }
        tracing::info!(adapter = ?cfg.adapter, address = ?cfg.address, "dialer configured");
        if let Some(path) = &self.dialer_store
            && let Err(e) = crate::install::remember_dialer(path, &cfg)
        {
            tracing::warn!("cannot record the dialer for doctor: {e}");
        }
        self.dialer = Some(cfg);
        // A new configuration means a new connection on next use.
        self.softphone = None;
        Response::ok(id, serde_json::json!({}))
    }

    async fn softphone(&mut self, address: &str) -> Result<&mut Baresip, DialerError> {
        if self.softphone.is_none() {
            let (client, events) = Baresip::connect(address).await?;
            self.softphone = Some(Softphone { client, events });
        }
        self.softphone
            .as_mut()
            .map(|s| &mut s.client)
            .ok_or(DialerError::Closed)
    }

    async fn dialer_request(&mut self, id: u64, req: Request) -> Response {
        let Some(cfg) = self.dialer.clone() else {
            return self.dialer_not_configured(id);
        };
        // A page's click (not confirmed by the agent in Ringside's own UI)
        // never reaches a costly number, a foreign SIP host or a PBX code.
        if let Request::Dial(p) = &req
            && !p.confirmed
            && let Some(risk) = dial::dial_risk(
                p.number.as_deref(),
                p.uri.as_deref(),
                p.extension.as_deref(),
                &cfg.sip,
            )
        {
            tracing::info!(?risk, "dial held for the agent's confirmation");
            return Response::err(
                Some(id),
                ErrorBody::new(
                    ErrorCode::NeedsConfirmation,
                    "this number needs the agent's confirmation in Ringside before it is dialled",
                )
                .with_detail(serde_json::json!({ "risk": risk })),
            );
        }
        let result = match (&cfg.adapter, req) {
            (DialerKind::Tel, Request::Dial(p)) => match p.number.as_deref() {
                Some(n) => tel::dial(n),
                None => Err(DialerError::InvalidTarget(dial::DialError::BadNumber(
                    p.uri.unwrap_or_default(),
                ))),
            },
            // The extension carries these out itself; it never configures them here.
            (DialerKind::Url | DialerKind::Platform, _) => {
                return self.dialer_not_configured(id);
            }
            (DialerKind::Tel, _) => Err(DialerError::Rejected {
                command: "hangup/answer/call.control".into(),
                message: "the tel: handler controls the call itself".into(),
            }),
            (DialerKind::Baresip, req) => {
                let address = cfg.address.clone().unwrap_or_default();
                // One retry after a dropped connection: baresip may have restarted.
                let mut outcome = self.baresip_once(&address, &cfg, &req).await;
                if matches!(outcome, Err(DialerError::Closed)) {
                    self.softphone = None;
                    outcome = self.baresip_once(&address, &cfg, &req).await;
                }
                outcome
            }
        };
        match result {
            Ok(()) => Response::ok(id, serde_json::json!({"accepted": true})),
            Err(e) => {
                tracing::warn!("dialer: {e}");
                if matches!(e, DialerError::Closed | DialerError::Unreachable { .. }) {
                    self.softphone = None;
                }
                dialer_error(id, &e)
            }
        }
    }

    fn dialer_not_configured(&self, id: u64) -> Response {
        Response::err(
            Some(id),
            ErrorBody::new(
                ErrorCode::DialerNotConfigured,
                "no dialer is configured; choose one in Ringside's settings",
            ),
        )
    }

    async fn baresip_once(
        &mut self,
        address: &str,
        cfg: &DialerConfig,
        req: &Request,
    ) -> Result<(), DialerError> {
        match req {
            Request::Dial(DialParams { number, uri, .. }) => {
                let target = match (number, uri) {
                    (Some(n), None) => dial::sip_uri_for(n, &cfg.sip)?,
                    (None, Some(u)) => dial::validate_sip_uri(u)?.to_owned(),
                    _ => {
                        return Err(dial::DialError::BadNumber(
                            "give exactly one of `number` and `uri`".into(),
                        )
                        .into());
                    }
                };
                self.softphone(address).await?.dial(&target).await
            }
            Request::Hangup(_) => self.softphone(address).await?.hangup().await,
            Request::Answer(_) => self.softphone(address).await?.accept().await,
            Request::CallControl(p) => {
                let steps = ringside_core::call_control::baresip_steps(p, &cfg.sip)?;
                self.softphone(address).await?.control(&steps).await
            }
            _ => Ok(()),
        }
    }

    /// The next call event from the softphone; pending while there is none.
    pub async fn next_event(&mut self) -> Option<CallEvent> {
        match self.softphone.as_mut() {
            Some(s) => match s.events.recv().await {
                Some(ev) => Some(ev),
                None => {
                    // The softphone connection ended.
                    self.softphone = None;
                    None
                }
            },
            None => std::future::pending().await,
        }
    }

    fn step(&mut self, body: &[u8]) -> Step {
        let envelope = match protocol::parse_request(body) {
            Ok(e) => e,
            Err(failure) => {
                tracing::warn!(
                    code = failure.error.code,
                    id = ?failure.id,
                    "rejected message: {}",
                    failure.error.message
                );
                return Step::Reply(Response::err(failure.id, failure.error));
            }
        };
        let id = envelope.id;
        Step::Reply(match envelope.request {
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
            Request::Detect(params) => match ringside_core::phone::detect(&params) {
                Ok(found) => Response::ok(id, found),
                Err(e) => Response::err(
                    Some(id),
                    ErrorBody::new(ErrorCode::InvalidMessage, e.to_string()),
                ),
            },
            req @ (Request::AuthExchange(_)
            | Request::AuthRefresh(_)
            | Request::AuthForget(_)
            | Request::MailConnect(_)
            | Request::MailSearch(_)
            | Request::MailForget(_)) => {
                return Step::Auth(id, req);
            }
            other => return Step::Dialer(id, other),
        })
    }
}

async fn auth_work(
    auth: std::sync::Arc<Auth>,
    mail: std::sync::Arc<Mail>,
    id: u64,
    req: Request,
) -> Response {
    fn reply<T: serde::Serialize>(id: u64, r: Result<T, ErrorBody>) -> Response {
        match r {
            Ok(v) => Response::ok(id, v),
            Err(e) => {
                tracing::warn!(code = e.code, "auth: {}", e.message);
                Response::err(Some(id), e)
            }
        }
    }
    match req {
        Request::AuthExchange(p) => reply(id, auth.exchange(p).await),
        Request::AuthRefresh(p) => reply(id, auth.refresh(p).await),
        Request::AuthForget(p) => reply(id, auth.forget(p).await),
        Request::MailConnect(p) => {
            let server = p.server.unwrap_or_default();
            let r = mail
                .connect(&server, &p.email, &p.password)
                .await
                .map(|()| serde_json::json!({ "connected": true }));
            reply(id, r.map_err(|e| e.to_body()))
        }
        Request::MailSearch(p) => {
            let server = p.server.unwrap_or_default();
            let r = mail
                .search(&server, &p.email, &p.addresses, p.limit)
                .await
                .map(|messages| {
                    serde_json::json!({
                        "messages": messages,
                        "see_all": ringside_core::mail::gmail_search_url(&p.addresses),
                    })
                });
            reply(id, r.map_err(|e| e.to_body()))
        }
        Request::MailForget(p) => {
            let server = p.server.unwrap_or_default();
            let r = mail
                .forget(&server, &p.email)
                .await
                .map(|deleted| serde_json::json!({ "deleted": deleted }))
                .map_err(|e| ErrorBody::new(ErrorCode::SecretStoreUnavailable, e.to_string()));
            reply(id, r)
        }
        other => Response::err(
            Some(id),
            ErrorBody::new(
                ErrorCode::Internal,
                format!("`{}` is not an auth request", other.type_name()),
            ),
        ),
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
    serve_session(reader, writer, Session::new(identity)).await
}

/// [`serve`] with a prepared session.
pub async fn serve_session<R, W>(reader: R, writer: W, mut session: Session) -> ServeEnd
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = FramedRead::new(reader, NativeMessagingCodec::default());
    let mut sink = FramedWrite::new(writer, NativeMessagingCodec::default());
    let mut reconnect = tokio::time::interval(SOFTPHONE_RECONNECT);
    reconnect.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut later = futures::stream::FuturesUnordered::new();
    loop {
        let next = tokio::select! {
            frame = frames.next() => frame,
            Some(reply) = later.next(), if !later.is_empty() => {
                if let Err(e) = sink.send(encode_reply(&reply)).await {
                    tracing::error!("cannot write reply: {e}");
                    return ServeEnd::Write(e);
                }
                continue;
            }
            _ = reconnect.tick(), if session.wants_softphone() => {
                session.connect_softphone().await;
                continue;
            }
            Some(ev) = session.next_event() => {
                if let Err(e) = sink.send(Bytes::from(Event::call(&ev).to_bytes())).await {
                    tracing::error!("cannot write event: {e}");
                    return ServeEnd::Write(e);
                }
                continue;
            }
        };
        match next {
            None => {
                // Finish provider work already started (its replies may still be read).
                while let Some(reply) = later.next().await {
                    if sink.send(encode_reply(&reply)).await.is_err() {
                        break;
                    }
                }
                return ServeEnd::Closed;
            }
            Some(Ok(Inbound::Oversized { declared })) => {
                // Said, then read away: the session (and the softphone
                // connection) goes on.
                tracing::warn!(declared, "skipping an oversized frame");
                let event = Event::frame_skipped(ErrorBody::new(
                    ErrorCode::FrameTooLarge,
                    oversized_message(declared),
                ));
                if let Err(e) = sink.send(Bytes::from(event.to_bytes())).await {
                    tracing::error!("cannot write event: {e}");
                    return ServeEnd::Write(e);
                }
            }
            Some(Ok(Inbound::Message(body))) => {
                let reply = match session.dispatch(&body).await {
                    Handled::Now(r) => r,
                    Handled::Later(work) => {
                        later.push(work);
                        continue;
                    }
                };
                let reply = encode_reply(&reply);
                if let Err(e) = sink.send(reply).await {
                    tracing::error!("cannot write reply: {e}");
                    return ServeEnd::Write(e);
                }
            }
            Some(Err(e)) => {
                tracing::error!("ending the session: {e}");
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
