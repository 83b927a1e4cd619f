//! Dialer adapters: how a `dial` reaches the desktop softphone.
//!
//! * [`baresip::Baresip`]: baresip's `ctrl_tcp` (JSON in netstrings), one
//!   persistent connection, a timeout on every command, call events relayed.
//! * [`tel`]: hand the number to the OS's `tel:` handler (`xdg-open`, `open`,
//!   `start`) after checking that one exists.
//!
//! Numbers and URIs are validated in `ringside_core::dial` before they get here.

pub mod baresip;
pub mod tel;

use std::time::Duration;

use ringside_core::dial::DialError;

/// How long a softphone command may take before it is reported as timed out.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a dial (or another softphone command) failed, in terms a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum DialerError {
    #[error(
        "the softphone is not reachable at {addr} ({source}); start it, or check its host and port in Ringside's settings"
    )]
    Unreachable {
        addr: String,
        source: std::io::Error,
    },
    #[error("the softphone did not answer `{command}` within {} s", .after.as_secs())]
    Timeout { command: String, after: Duration },
    #[error("the softphone refused `{command}`: {message}")]
    Rejected { command: String, message: String },
    #[error("the connection to the softphone was lost; Ringside reconnects on the next call")]
    Closed,
    #[error(transparent)]
    InvalidTarget(#[from] DialError),
    #[error(
        "no application on this computer handles tel: links; install a softphone or choose the SIP dialer in Ringside's settings"
    )]
    NoTelHandler,
    #[error("the tel: handler failed: {0}")]
    Handler(String),
    #[error("`{0}` is not a call id")]
    BadCallId(String),
}

impl From<ringside_core::call_control::ControlError> for DialerError {
    fn from(e: ringside_core::call_control::ControlError) -> Self {
        match e {
            ringside_core::call_control::ControlError::BadCallId(id) => DialerError::BadCallId(id),
            ringside_core::call_control::ControlError::Target(t) => DialerError::InvalidTarget(t),
        }
    }
}
