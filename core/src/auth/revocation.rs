//! Session revocation: every way a session ends, through one decision.
//!
//! A cause (a refused refresh, a 401 that survives a silent refresh, a claims
//! challenge that could not be met, a change of the company's sign-in method,
//! the platform revoking or removing the agent, the secret store losing the
//! token) meets the agent's call state (idle, in a call, in wrap-up) and
//! gives one [`Outcome`]. The rules that hold for every row:
//!
//! - a call in progress is never ended by Ringside;
//! - the wrap-up of the call that just ended stays open and is queued for
//!   delivery after the next sign-in;
//! - once the sign-out takes effect, tokens are purged and new calls refused;
//! - the agent is told why, with the cause's own message.

use serde::{Deserialize, Serialize};

use super::provider::ProviderKind;
use super::token::RevokeReason;
use crate::settings::SignInMethod;

/// Why the session ends (or may end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Cause {
    /// The refresh failed with `invalid_grant` (or an equivalent) at the provider.
    GrantRevoked { reason: RevokeReason },
    /// An API answered 401 again after one silent refresh.
    Unauthorized,
    /// A Microsoft claims challenge could not be met, even interactively.
    ClaimsChallengeFailed,
    /// The company's sign-in method changed; it takes effect at `effective_at_ms`
    /// (None: the change time plus the grace period).
    MethodChanged {
        method: SignInMethod,
        effective_at_ms: Option<u64>,
    },
    /// The platform revoked the agent's sessions.
    PlatformRevoked,
    /// The platform removed the agent.
    AgentRemoved,
    /// The refresh token is no longer in the OS secret store.
    SecretStoreEmpty,
    /// The OS secret store is locked or not running.
    SecretStoreLocked,
}

/// The agent's call state when the cause arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Idle,
    InCall,
    WrapUp,
}

impl CallState {
    pub const ALL: [CallState; 3] = [CallState::Idle, CallState::InCall, CallState::WrapUp];
}

/// What the session's owner knows when deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub now_ms: u64,
    pub grace_minutes: u32,
    /// The signed-in provider.
    pub provider: ProviderKind,
    /// Whether the agent is a privileged user.
    pub privileged: bool,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// When the sign-out takes effect; None: the session goes on.
    pub sign_out_at_ms: Option<u64>,
    /// Whether to revoke the grant at the provider when purging (pointless
    /// when the provider already revoked it).
    pub revoke_at_provider: bool,
    /// The message for the agent (`_locales` key).
    pub message_key: &'static str,
    /// What it means for the call, when there is one (`_locales` key).
    pub call_key: Option<&'static str>,
}

impl Outcome {
    /// Whether the sign-out has taken effect at `now_ms`.
    pub fn effective(&self, now_ms: u64) -> bool {
        self.sign_out_at_ms.is_some_and(|t| t <= now_ms)
    }
}

impl Cause {
    /// The message that says why.
    pub fn message_key(&self) -> &'static str {
        match self {
            Cause::GrantRevoked { reason } => match reason {
                RevokeReason::ExpiredOrRevoked => "revokedGrant",
                RevokeReason::ReauthRequired => "revokedReauth",
                RevokeReason::AdminPolicy => "revokedAdminPolicy",
                RevokeReason::PasswordChanged => "revokedPasswordChanged",
                RevokeReason::Expired => "revokedExpired",
                RevokeReason::AccountDisabled => "revokedAccountDisabled",
            },
            Cause::Unauthorized => "revokedUnauthorized",
            Cause::ClaimsChallengeFailed => "revokedClaims",
            Cause::MethodChanged { .. } => "revokedMethodChanged",
            Cause::PlatformRevoked => "revokedByPlatform",
            Cause::AgentRemoved => "revokedAgentRemoved",
            Cause::SecretStoreEmpty => "sessionStoreEmpty",
            Cause::SecretStoreLocked => "sessionStoreLocked",
        }
    }
}

fn method_allows(method: SignInMethod, provider: ProviderKind) -> bool {
    matches!(
        (method, provider),
        (SignInMethod::Google, ProviderKind::Google)
            | (SignInMethod::Microsoft, ProviderKind::Microsoft)
            | (SignInMethod::Password, ProviderKind::Password)
            | (SignInMethod::Sso, ProviderKind::Sso)
    )
}

/// What a sign-out means for the call in this state (`_locales` key).
pub fn call_note(call: CallState) -> Option<&'static str> {
    match call {
        CallState::Idle => None,
        CallState::InCall => Some("revokedCallContinues"),
        CallState::WrapUp => Some("revokedWrapupKept"),
    }
}

/// The one decision.
pub fn decide(cause: &Cause, call: CallState, cx: &Context) -> Outcome {
    let (sign_out_at_ms, revoke_at_provider) = match cause {
        // The provider already ended the grant, or it is gone from the store.
        Cause::GrantRevoked { .. }
        | Cause::Unauthorized
        | Cause::ClaimsChallengeFailed
        | Cause::SecretStoreEmpty
        | Cause::SecretStoreLocked => (Some(cx.now_ms), false),
        // The platform ended the agent's access: end the provider grant too.
        Cause::PlatformRevoked | Cause::AgentRemoved => (Some(cx.now_ms), true),
        Cause::MethodChanged {
            method,
            effective_at_ms,
        } => {
            if method_allows(*method, cx.provider) || cx.privileged {
                // The method still allows this sign-in (or the user may use any).
                (None, false)
            } else {
                let grace = u64::from(cx.grace_minutes) * 60_000;
                (Some(effective_at_ms.unwrap_or(cx.now_ms + grace)), true)
            }
        }
    };
    let call_key = sign_out_at_ms.and(call_note(call));
    Outcome {
        sign_out_at_ms,
        revoke_at_provider,
        message_key: if sign_out_at_ms.is_some() {
            cause.message_key()
        } else {
            "methodChangedKept"
        },
        call_key,
    }
}

/// A sign-out that waits for its time; persisted so a browser restart or a
/// host crash does not lose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignOut {
    pub at_ms: u64,
    pub message_key: String,
    pub revoke_at_provider: bool,
}

impl PendingSignOut {
    pub fn due(&self, now_ms: u64) -> bool {
        now_ms >= self.at_ms
    }

    /// Seconds left, rounded up (0 when due).
    pub fn seconds_left(&self, now_ms: u64) -> u64 {
        self.at_ms.saturating_sub(now_ms).div_ceil(1000)
    }
}

/// `m:ss` or `h:mm:ss` for a countdown.
pub fn format_countdown(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Every `_locales` key handed out here.
pub const MESSAGE_KEYS: &[&str] = &[
    "revokedGrant",
    "revokedReauth",
    "revokedAdminPolicy",
    "revokedPasswordChanged",
    "revokedExpired",
    "revokedAccountDisabled",
    "revokedUnauthorized",
    "revokedClaims",
    "revokedMethodChanged",
    "revokedByPlatform",
    "revokedAgentRemoved",
    "sessionStoreEmpty",
    "sessionStoreLocked",
    "revokedCallContinues",
    "revokedWrapupKept",
    "methodChangedKept",
    "signOutCountdown",
    "callNeedsSignIn",
];

/// What one event from the platform's `GET /v1/events` stream means, from
/// its JSON `data`; None for events that do not end or schedule anything.
pub fn platform_event(data: &str) -> Option<Cause> {
    let event: serde_json::Value = serde_json::from_str(data).ok()?;
    match event["type"].as_str()? {
        "session.revoked" => Some(Cause::PlatformRevoked),
        "agent.removed" => Some(Cause::AgentRemoved),
        "sign_in_method.changed" => Some(Cause::MethodChanged {
            method: crate::json::from_value(event["method"].clone()).ok()?,
            effective_at_ms: event["effective_at_ms"].as_u64(),
        }),
        _ => None,
    }
}

/// Server-sent events as they arrive in chunks: frames end with a blank
/// line (LF or CRLF); `data:` lines are joined; comments and other fields
/// are skipped. A frame split across chunks waits for its end.
#[derive(Debug, Default)]
pub struct EventStream {
    buf: Vec<u8>,
}

impl EventStream {
    /// Adds a chunk; returns the causes of the frames it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Cause> {
        self.push_frames(chunk)
            .iter()
            .filter_map(|data| platform_event(data))
            .collect()
    }

    /// Adds a chunk; returns the `data` of the frames it completed, in order
    /// (for the session's causes, [`platform_event`], and the platform's
    /// call events, `worker::call_out::call_event`).
    pub fn push_frames(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend(chunk.iter().filter(|b| **b != b'\r'));
        let mut frames = vec![];
        while let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = self.buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&frame);
            let data: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            frames.push(data.join("\n"));
        }
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn causes() -> Vec<Cause> {
        let mut all: Vec<Cause> = [
            RevokeReason::ExpiredOrRevoked,
            RevokeReason::ReauthRequired,
            RevokeReason::AdminPolicy,
            RevokeReason::PasswordChanged,
            RevokeReason::Expired,
            RevokeReason::AccountDisabled,
        ]
        .into_iter()
        .map(|reason| Cause::GrantRevoked { reason })
        .collect();
        all.extend([
            Cause::Unauthorized,
            Cause::ClaimsChallengeFailed,
            Cause::MethodChanged {
                method: SignInMethod::Microsoft,
                effective_at_ms: None,
            },
            Cause::MethodChanged {
                method: SignInMethod::Password,
                effective_at_ms: Some(NOW + 5_000),
            },
            Cause::MethodChanged {
                method: SignInMethod::Google,
                effective_at_ms: None,
            },
            Cause::PlatformRevoked,
            Cause::AgentRemoved,
            Cause::SecretStoreEmpty,
            Cause::SecretStoreLocked,
        ]);
        all
    }

    fn cx(privileged: bool) -> Context {
        Context {
            now_ms: NOW,
            grace_minutes: 60,
            provider: ProviderKind::Google,
            privileged,
        }
    }

    /// The whole table: every cause × call state × privilege, with the
    /// expected row written out, and the invariants checked on each.
    #[test]
    fn every_cause_in_every_call_state() {
        for cause in causes() {
            for call in CallState::ALL {
                for privileged in [false, true] {
                    let o = decide(&cause, call, &cx(privileged));
                    let expected_at = match &cause {
                        Cause::MethodChanged {
                            method: SignInMethod::Google,
                            ..
                        } => None,
                        Cause::MethodChanged { .. } if privileged => None,
                        Cause::MethodChanged {
                            effective_at_ms: Some(t),
                            ..
                        } => Some(*t),
                        Cause::MethodChanged { .. } => Some(NOW + 60 * 60_000),
                        _ => Some(NOW),
                    };
                    let row = format!("{cause:?} × {call:?} × privileged={privileged}");
                    assert_eq!(o.sign_out_at_ms, expected_at, "{row}");
                    // A sign-out that is pending or immediate says why; one that
                    // does not happen says the session is kept.
                    match o.sign_out_at_ms {
                        Some(_) => assert_eq!(o.message_key, cause.message_key(), "{row}"),
                        None => assert_eq!(o.message_key, "methodChangedKept", "{row}"),
                    }
                    // The call and the wrap-up are never dropped: the agent is
                    // told they go on whenever a sign-out is coming.
                    let expected_call = match (call, o.sign_out_at_ms) {
                        (_, None) | (CallState::Idle, _) => None,
                        (CallState::InCall, Some(_)) => Some("revokedCallContinues"),
                        (CallState::WrapUp, Some(_)) => Some("revokedWrapupKept"),
                    };
                    assert_eq!(o.call_key, expected_call, "{row}");
                    // Revoking at the provider only when the grant is still alive there.
                    let alive = matches!(
                        cause,
                        Cause::PlatformRevoked | Cause::AgentRemoved | Cause::MethodChanged { .. }
                    );
                    assert_eq!(
                        o.revoke_at_provider,
                        alive && o.sign_out_at_ms.is_some(),
                        "{row}"
                    );
                    for k in [Some(o.message_key), o.call_key].into_iter().flatten() {
                        assert!(MESSAGE_KEYS.contains(&k), "{row}: {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn immediate_causes_take_effect_now_and_a_method_change_at_its_time() {
        let o = decide(&Cause::PlatformRevoked, CallState::InCall, &cx(false));
        assert!(o.effective(NOW));
        let o = decide(
            &Cause::MethodChanged {
                method: SignInMethod::Microsoft,
                effective_at_ms: None,
            },
            CallState::Idle,
            &Context {
                grace_minutes: 1,
                ..cx(false)
            },
        );
        assert!(!o.effective(NOW + 59_999));
        assert!(o.effective(NOW + 60_000));
    }

    #[test]
    fn a_pending_sign_out_counts_down() {
        let p = PendingSignOut {
            at_ms: NOW + 61_500,
            message_key: "revokedMethodChanged".into(),
            revoke_at_provider: true,
        };
        assert_eq!(p.seconds_left(NOW), 62);
        assert_eq!(format_countdown(p.seconds_left(NOW)), "1:02");
        assert_eq!(format_countdown(3 * 3600 + 5), "3:00:05");
        assert!(!p.due(NOW + 61_499));
        assert!(p.due(NOW + 61_500));
        assert_eq!(p.seconds_left(NOW + 70_000), 0);
    }

    #[test]
    fn platform_events_are_read_across_chunks_and_line_endings() {
        let mut stream = EventStream::default();
        assert_eq!(stream.push(b": keep-alive\n\n"), vec![]);
        assert_eq!(stream.push(b"event: x\ndata: {\"type\":\"session."), vec![]);
        assert_eq!(
            stream.push(b"revoked\"}\n\ndata: {\"type\":\"hello\"}\n\n"),
            vec![Cause::PlatformRevoked]
        );
        let crlf = b"data: {\"type\":\"sign_in_method.changed\",\r\ndata: \"method\":\"microsoft\",\"effective_at_ms\":5}\r\n\r\ndata: {\"type\":\"agent.removed\"}\r\n\r\n";
        assert_eq!(
            stream.push(crlf),
            vec![
                Cause::MethodChanged {
                    method: SignInMethod::Microsoft,
                    effective_at_ms: Some(5)
                },
                Cause::AgentRemoved
            ]
        );
        // Garbage and unknown methods are skipped, not fatal.
        assert_eq!(
            stream.push(b"data: not json\n\ndata: {\"type\":\"sign_in_method.changed\",\"method\":\"fax\"}\n\n"),
            vec![]
        );
    }
}
