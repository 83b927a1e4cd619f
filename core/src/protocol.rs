//! Wire protocol between the extension's service worker and `ringside-host`.
//!
//! Every native messaging frame carries one JSON object (docs/protocol.md):
//!
//! * request (extension → host): `{"id": 7, "type": "hello", "params": {...}}`
//! * response (host → extension): `{"id": 7, "result": {...}}` or
//!   `{"id": 7, "error": {"code": 1005, "name": "unknown_type", "message": "..."}}`
//! * event (host → extension, unsolicited): `{"event": "host.closing", "data": {...}}`
//!
//! The protocol is versioned (`hello` negotiates) and append-only: fields and
//! message types are added, never renamed or removed, and error codes are never
//! reused.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Versions this build speaks, oldest first.
pub const SUPPORTED_VERSIONS: &[u32] = &[1];
/// The version this build prefers.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest message body in either direction (Chrome's own cap for host → browser).
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// The native messaging host name registered with browsers.
pub const HOST_NAME: &str = "com.ringside.host";

/// Stable numeric error codes. Append-only: a code, once shipped, keeps its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A frame with a zero-length body.
    EmptyMessage,
    /// The body is not UTF-8.
    InvalidUtf8,
    /// The body is not JSON.
    MalformedJson,
    /// JSON, but not a request: not an object, or `id`/`type`/`params` missing or mistyped.
    InvalidMessage,
    /// A request `type` this host does not know.
    UnknownType,
    /// No protocol version in common.
    UnsupportedVersion,
    /// The reply would exceed [`MAX_FRAME_BYTES`]; the request is answered with this instead.
    ReplyTooLarge,
    /// The caller origin is not in the host's allow-list; the host exits after saying so.
    OriginNotAllowed,
    /// An incoming frame declared more than [`MAX_FRAME_BYTES`]; the host ends the stream.
    FrameTooLarge,
    /// A request was sent before `hello` agreed on a version.
    HelloRequired,
    /// No dialer is configured yet (`dialer.configure` first).
    DialerNotConfigured,
    /// The softphone's control port does not answer (softphone not running, wrong address).
    SoftphoneUnreachable,
    /// The softphone did not answer a command in time.
    SoftphoneTimeout,
    /// The softphone refused the command; the message is its own.
    SoftphoneRejected,
    /// The number or SIP address is not dialable (not E.164, unsafe characters).
    InvalidNumber,
    /// The tel: adapter found no application for tel: links.
    NoTelHandler,
    /// The softphone connection dropped during the command.
    SoftphoneDisconnected,
    /// The OS tel: handler failed to start.
    TelHandlerFailed,
    /// `auth.refresh`/`auth.forget`: the secret store has no refresh token for this account.
    NoRefreshToken,
    /// The OS secret store is not running, is locked, or failed.
    SecretStoreUnavailable,
    /// The provider's token or revocation endpoint refused; `detail` has its
    /// HTTP status and error body (`{status, body}`) for the extension to classify.
    ProviderRefused,
    /// The provider could not be reached (network, TLS, timeout).
    ProviderUnreachable,
    /// The provider's discovery document is missing or wrong, or the issuer is not https.
    ProviderMisconfigured,
    /// The mail server refused or failed; `detail` is `{failure, detail}`
    /// (`ringside_core::mail::MailFailure` in snake case, the server's words).
    MailFailed,
    /// A bug in the host. The message says what failed; the host keeps serving.
    Internal,
    /// A `dial` without `confirmed` whose target costs money or reaches the
    /// phone system's functions; `detail` is `{"risk": "premium_rate" | ...}`
    /// (`ringside_core::dial::DialRisk`). Nothing was dialled.
    NeedsConfirmation,
}

impl ErrorCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::EmptyMessage,
        ErrorCode::InvalidUtf8,
        ErrorCode::MalformedJson,
        ErrorCode::InvalidMessage,
        ErrorCode::UnknownType,
        ErrorCode::UnsupportedVersion,
        ErrorCode::ReplyTooLarge,
        ErrorCode::OriginNotAllowed,
        ErrorCode::FrameTooLarge,
        ErrorCode::HelloRequired,
        ErrorCode::DialerNotConfigured,
        ErrorCode::SoftphoneUnreachable,
        ErrorCode::SoftphoneTimeout,
        ErrorCode::SoftphoneRejected,
        ErrorCode::InvalidNumber,
        ErrorCode::NoTelHandler,
        ErrorCode::SoftphoneDisconnected,
        ErrorCode::TelHandlerFailed,
        ErrorCode::NoRefreshToken,
        ErrorCode::SecretStoreUnavailable,
        ErrorCode::ProviderRefused,
        ErrorCode::ProviderUnreachable,
        ErrorCode::ProviderMisconfigured,
        ErrorCode::MailFailed,
        ErrorCode::Internal,
        ErrorCode::NeedsConfirmation,
    ];

    pub const fn code(self) -> u16 {
        match self {
            ErrorCode::EmptyMessage => 1001,
            ErrorCode::InvalidUtf8 => 1002,
            ErrorCode::MalformedJson => 1003,
            ErrorCode::InvalidMessage => 1004,
            ErrorCode::UnknownType => 1005,
            ErrorCode::UnsupportedVersion => 1006,
            ErrorCode::ReplyTooLarge => 1007,
            ErrorCode::OriginNotAllowed => 1008,
            ErrorCode::FrameTooLarge => 1009,
            ErrorCode::HelloRequired => 1010,
            ErrorCode::DialerNotConfigured => 2001,
            ErrorCode::SoftphoneUnreachable => 2002,
            ErrorCode::SoftphoneTimeout => 2003,
            ErrorCode::SoftphoneRejected => 2004,
            ErrorCode::InvalidNumber => 2005,
            ErrorCode::NoTelHandler => 2006,
            ErrorCode::SoftphoneDisconnected => 2007,
            ErrorCode::TelHandlerFailed => 2008,
            ErrorCode::NoRefreshToken => 3001,
            ErrorCode::SecretStoreUnavailable => 3002,
            ErrorCode::ProviderRefused => 3003,
            ErrorCode::ProviderUnreachable => 3004,
            ErrorCode::ProviderMisconfigured => 3005,
            ErrorCode::MailFailed => 3101,
            ErrorCode::Internal => 1500,
            ErrorCode::NeedsConfirmation => 2009,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::EmptyMessage => "empty_message",
            ErrorCode::InvalidUtf8 => "invalid_utf8",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::ReplyTooLarge => "reply_too_large",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::HelloRequired => "hello_required",
            ErrorCode::DialerNotConfigured => "dialer_not_configured",
            ErrorCode::SoftphoneUnreachable => "softphone_unreachable",
            ErrorCode::SoftphoneTimeout => "softphone_timeout",
            ErrorCode::SoftphoneRejected => "softphone_rejected",
            ErrorCode::InvalidNumber => "invalid_number",
            ErrorCode::NoTelHandler => "no_tel_handler",
            ErrorCode::SoftphoneDisconnected => "softphone_disconnected",
            ErrorCode::TelHandlerFailed => "tel_handler_failed",
            ErrorCode::NoRefreshToken => "no_refresh_token",
            ErrorCode::SecretStoreUnavailable => "secret_store_unavailable",
            ErrorCode::ProviderRefused => "provider_refused",
            ErrorCode::ProviderUnreachable => "provider_unreachable",
            ErrorCode::ProviderMisconfigured => "provider_misconfigured",
            ErrorCode::MailFailed => "mail_failed",
            ErrorCode::Internal => "internal",
            ErrorCode::NeedsConfirmation => "needs_confirmation",
        }
    }

    pub fn from_code(code: u16) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.code() == code)
    }
}

/// The `error` member of a response or of a `host.error` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: u16,
    pub name: String,
    pub message: String,
    /// Machine-readable specifics for some codes (see [`ErrorCode::ProviderRefused`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<Value>>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            code: code.code(),
            name: code.name().to_owned(),
            message: message.into(),
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = Some(Box::new(detail));
        self
    }

    pub fn kind(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.code)
    }
}

/// `hello` parameters: the versions the extension speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloParams {
    pub versions: Vec<u32>,
    /// Free-form client identification, e.g. `ringside-extension/0.1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// `hello` result: the agreed version and what the host is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloResult {
    pub version: u32,
    pub host_version: String,
    pub capabilities: Vec<String>,
    pub pid: u32,
    pub os: String,
}

/// `ping` parameters; the payload comes back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingParams {
    #[serde(default)]
    pub payload: Value,
}

/// `ping` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingResult {
    pub payload: Value,
}

/// Which dialer adapter the host uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialerKind {
    /// A SIP softphone controlled through baresip's ctrl_tcp.
    #[default]
    Baresip,
    /// The operating system's tel: handler.
    Tel,
    /// An administrator's URL template (`dialpad://call?phone={e164}`) the
    /// extension opens itself; never sent to the host (`dialers`).
    Url,
    /// The phone platform places the call (`POST {platformUrl}/v1/calls`);
    /// never sent to the host (`worker::call_out`).
    Platform,
}

impl DialerKind {
    /// Whether the native host carries out this dialer (`dialer.configure`).
    pub fn in_host(self) -> bool {
        matches!(self, DialerKind::Baresip | DialerKind::Tel)
    }
}

/// `dialer.configure` parameters (from policy or the options page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialerConfig {
    pub adapter: DialerKind,
    /// ctrl_tcp address of the softphone, e.g. `127.0.0.1:4444` (baresip only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// SIP domain and dial prefix (baresip only).
    #[serde(default)]
    pub sip: crate::dial::SipSettings,
    /// The URL template (url only), checked by `dialers::check_template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The name of the app calls open in, as the popup says it (url only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
}

/// `dial` parameters: an E.164 number or a SIP address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// The agent chose this target in Ringside's own UI (the dial pad, or a
    /// confirmation of a page's click). Without it, a costly or PBX target is
    /// refused with `needs_confirmation` (`ringside_core::dial::dial_risk`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirmed: bool,
}

// `call.control`'s parameters live with its rules.
pub use crate::call_control::{CallAction, CallControlParams};

// The detect request's types live with the detection code (ringside-detect,
// shared with the extension's detection module).
pub use ringside_detect::{DetectParams, DetectResult, LinkHit, TextHit};

// The auth requests' parameter and result types live with the sign-in code.
pub use crate::auth::wire::{
    AuthAccount, AuthExchangeParams, AuthForgetParams, AuthRefreshParams, ForgetResult, TokenGrant,
};

/// Parameters of requests that take none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoParams {}

/// The one table of request types: each line gives the variant, its typed
/// parameters and its wire name, in the order they were added (append-only).
/// The enum, [`Request::TYPES`], [`Request::type_name`], the parameters'
/// encoding and [`parse_request`]'s decoding all come from it.
macro_rules! requests {
    ($($variant:ident($params:ty) = $name:literal,)*) => {
        /// A request the host understands, with its typed parameters.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Request {
            $($variant($params),)*
        }

        impl Request {
            /// The request types of protocol v1, in the order they were added.
            pub const TYPES: &'static [&'static str] = &[$($name),*];

            pub fn type_name(&self) -> &'static str {
                match self {
                    $(Request::$variant(_) => $name,)*
                }
            }

            fn params_value(&self) -> Value {
                // Serializing these plain structs cannot fail; Null is never reached.
                match self {
                    $(Request::$variant(p) => serde_json::to_value(p).unwrap_or(Value::Null),)*
                }
            }

            /// The request of type `kind` with these parameters; `None` for
            /// a type this build does not know.
            fn from_params(kind: &str, params: Value) -> Option<Result<Request, serde_json::Error>> {
                Some(match kind {
                    $($name => serde_json::from_value(params).map(Request::$variant),)*
                    _ => return None,
                })
            }
        }
    };
}

requests! {
    Hello(HelloParams) = "hello",
    Ping(PingParams) = "ping",
    ConfigureDialer(DialerConfig) = "dialer.configure",
    Dial(DialParams) = "dial",
    Hangup(NoParams) = "hangup",
    Answer(NoParams) = "answer",
    Detect(DetectParams) = "detect",
    AuthExchange(AuthExchangeParams) = "auth.exchange",
    AuthRefresh(AuthRefreshParams) = "auth.refresh",
    AuthForget(AuthForgetParams) = "auth.forget",
    MailConnect(crate::mail::MailConnectParams) = "mail.connect",
    MailSearch(crate::mail::MailSearchParams) = "mail.search",
    MailForget(crate::mail::MailForgetParams) = "mail.forget",
    CallControl(CallControlParams) = "call.control",
}

/// A request with its id, as parsed from a frame body.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub id: u64,
    pub request: Request,
}

/// Why a frame body is not a valid request. `id` is set when it could be read, so
/// the error response can be correlated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .error.name, .error.message)]
pub struct ParseFailure {
    pub id: Option<u64>,
    pub error: ErrorBody,
}

impl ParseFailure {
    fn new(id: Option<u64>, code: ErrorCode, message: impl Into<String>) -> Self {
        ParseFailure {
            id,
            error: ErrorBody::new(code, message),
        }
    }
}

/// Parses one frame body into a request. Never panics; every failure has a code.
pub fn parse_request(body: &[u8]) -> Result<Envelope, ParseFailure> {
    if body.is_empty() {
        return Err(ParseFailure::new(
            None,
            ErrorCode::EmptyMessage,
            "the frame has no body",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        ParseFailure::new(
            None,
            ErrorCode::InvalidUtf8,
            format!("the body is not UTF-8 (byte {})", e.valid_up_to()),
        )
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        ParseFailure::new(
            None,
            ErrorCode::MalformedJson,
            format!("the body is not JSON: {e}"),
        )
    })?;
    let Value::Object(mut obj) = value else {
        return Err(ParseFailure::new(
            None,
            ErrorCode::InvalidMessage,
            "a request must be a JSON object",
        ));
    };
    let id = match obj.get("id") {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
            ParseFailure::new(
                None,
                ErrorCode::InvalidMessage,
                "`id` must be a non-negative integer",
            )
        })?,
        Some(_) => {
            return Err(ParseFailure::new(
                None,
                ErrorCode::InvalidMessage,
                "`id` must be a non-negative integer",
            ));
        }
        None => {
            return Err(ParseFailure::new(
                None,
                ErrorCode::InvalidMessage,
                "missing field `id`",
            ));
        }
    };
    let kind = match obj.get("type") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ParseFailure::new(
                Some(id),
                ErrorCode::InvalidMessage,
                "`type` must be a string",
            ));
        }
        None => {
            return Err(ParseFailure::new(
                Some(id),
                ErrorCode::InvalidMessage,
                "missing field `type`",
            ));
        }
    };
    let params = obj.remove("params").unwrap_or(Value::Null);
    let params = if params.is_null() {
        Value::Object(Default::default())
    } else {
        params
    };
    let invalid = |e: serde_json::Error| {
        ParseFailure::new(
            Some(id),
            ErrorCode::InvalidMessage,
            format!("invalid `params` for `{kind}`: {e}"),
        )
    };
    let Some(request) = Request::from_params(&kind, params) else {
        let mut shown: String = kind.chars().take(64).collect();
        if kind.chars().count() > 64 {
            shown.push('…');
        }
        return Err(ParseFailure::new(
            Some(id),
            ErrorCode::UnknownType,
            format!("unknown request type `{shown}`"),
        ));
    };
    let request = request.map_err(invalid)?;
    Ok(Envelope { id, request })
}

/// Serializes a request (extension side and tests).
pub fn request_json(id: u64, request: &Request) -> Value {
    serde_json::json!({
        "id": id,
        "type": request.type_name(),
        "params": request.params_value(),
    })
}

/// What the host sends: a response to a request, or an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Incoming {
    Response(Response),
    Event(Event),
}

impl Incoming {
    /// What the host sent, from its JSON text: what the derived (untagged)
    /// decoder reads, without its buffering, which compiles every field's
    /// decoder again (`crate::json`). An `event` key makes it an event.
    pub fn from_json(text: &str) -> Result<Incoming, String> {
        let Value::Object(mut m) = serde_json::from_str(text).map_err(|e| e.to_string())? else {
            return Err("a host message is a JSON object".into());
        };
        let allowed: &[&str] = if m.contains_key("event") {
            &["event", "data"]
        } else {
            &["id", "result", "error"]
        };
        if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("unknown field `{k}` in a host message"));
        }
        if let Some(event) = m.remove("event") {
            let Value::String(event) = event else {
                return Err("`event` is not a string".into());
            };
            let data = m.remove("data").unwrap_or(Value::Null);
            return Ok(Incoming::Event(Event { event, data }));
        }
        // As serde reads an `Option`: absent and null are both None.
        let mut take = |k: &str| m.remove(k).filter(|v| !v.is_null());
        let id = match take("id") {
            Some(v) => Some(v.as_u64().ok_or("`id` is not a request id")?),
            None => None,
        };
        let result = take("result");
        let error = match take("error") {
            Some(v) => Some(crate::json::from_value(v).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(Incoming::Response(Response { id, result, error }))
    }
}

/// A response. Exactly one of `result` and `error` is present; `id` is null only
/// when the request's id could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Response {
    pub fn ok(id: u64, result: impl Serialize) -> Self {
        match serde_json::to_value(result) {
            Ok(v) => Response {
                id: Some(id),
                result: Some(v),
                error: None,
            },
            Err(e) => Response::err(
                Some(id),
                ErrorBody::new(ErrorCode::Internal, format!("could not encode result: {e}")),
            ),
        }
    }

    pub fn err(id: Option<u64>, error: ErrorBody) -> Self {
        Response {
            id,
            result: None,
            error: Some(error),
        }
    }

    /// The typed result, or the error body (also for a result of the wrong shape).
    pub fn into_result<T: for<'de> Deserialize<'de>>(self) -> Result<T, ErrorBody> {
        match (self.result, self.error) {
            (_, Some(e)) => Err(e),
            (Some(v), None) => crate::json::from_value(v).map_err(|e| {
                ErrorBody::new(ErrorCode::InvalidMessage, format!("unexpected result: {e}"))
            }),
            (None, None) => Err(ErrorBody::new(
                ErrorCode::InvalidMessage,
                "response has neither result nor error",
            )),
        }
    }

    /// The body bytes of this response's frame.
    pub fn to_bytes(&self) -> Vec<u8> {
        // A Response holds only JSON values and strings; encoding cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// An unsolicited message from the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub event: String,
    #[serde(default)]
    pub data: Value,
}

impl Event {
    /// `host.error`: the host is about to close the stream, and says why.
    pub const HOST_ERROR: &'static str = "host.error";

    pub fn host_error(error: ErrorBody) -> Self {
        Event {
            event: Event::HOST_ERROR.to_owned(),
            data: serde_json::to_value(error).unwrap_or(Value::Null),
        }
    }

    /// `frame.skipped`: an incoming frame was over the cap; the host read it
    /// away unanswered and goes on (the session and the softphone stay up).
    pub const FRAME_SKIPPED: &'static str = "frame.skipped";

    pub fn frame_skipped(error: ErrorBody) -> Self {
        Event {
            event: Event::FRAME_SKIPPED.to_owned(),
            data: serde_json::to_value(error).unwrap_or(Value::Null),
        }
    }

    /// `call`: a call's state changed at the softphone.
    pub const CALL: &'static str = "call";

    pub fn call(ev: &crate::dial::CallEvent) -> Self {
        Event {
            event: Event::CALL.to_owned(),
            data: serde_json::to_value(ev).unwrap_or(Value::Null),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The error carried by a `host.error` event.
    pub fn error(&self) -> Option<ErrorBody> {
        if self.event == Event::HOST_ERROR {
            crate::json::from_value(self.data.clone()).ok()
        } else {
            None
        }
    }
}

/// Picks the newest version both sides speak.
pub fn negotiate(offered: &[u32]) -> Option<u32> {
    SUPPORTED_VERSIONS
        .iter()
        .rev()
        .copied()
        .find(|v| offered.contains(v))
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
