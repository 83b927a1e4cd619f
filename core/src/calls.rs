//! The agent's calls as the extension sees them: one live call at a time, its
//! phases from the softphone's events, the wrap-up of calls that ended, and
//! the last dialing error in words the agent can act on.
//!
//! baresip answers `dial` with no call id, so an outgoing call is matched to
//! the first outgoing event that arrives while it is dialing.

use serde::{Deserialize, Serialize};

use crate::dial::CallEvent;
use crate::outbox::AgentKey;
use crate::protocol::{ErrorBody, ErrorCode};

/// How many ended calls may wait for their wrap-up.
pub const MAX_PENDING_WRAPUPS: usize = 20;
/// Limits on a wrap-up form.
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 32;
pub const MAX_NOTE_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Outgoing,
    Incoming,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Asked the softphone to dial; no event yet.
    Dialing,
    /// The other end rings.
    Ringing,
    /// Someone calls the agent.
    Incoming,
    /// Connected.
    Established,
}

/// The call in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveCall {
    pub call_id: Option<String>,
    /// E.164 number or SIP address.
    pub number: String,
    /// How the number appeared where it was clicked (or the caller's address).
    pub display: String,
    pub direction: Direction,
    pub phase: Phase,
    /// Milliseconds since the epoch.
    pub started_ms: f64,
    pub established_ms: Option<f64>,
    /// The agent signed in when the call started (its wrap-up is theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentKey>,
    /// On hold (by the agent, or by the softphone when a second call was answered).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// The agent's microphone is muted on this call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub muted: bool,
    /// An extension to send as DTMF once the call is established (taken then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// This call consults a third party about the held call with this id
    /// (an attended transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult_for: Option<String>,
}

impl LiveCall {
    fn new(
        call_id: Option<String>,
        number: &str,
        display: String,
        direction: Direction,
        phase: Phase,
        now_ms: f64,
        agent: Option<AgentKey>,
    ) -> LiveCall {
        LiveCall {
            call_id,
            number: number.to_owned(),
            display,
            direction,
            phase,
            started_ms: now_ms,
            established_ms: (phase == Phase::Established).then_some(now_ms),
            agent,
            held: false,
            muted: false,
            extension: None,
            consult_for: None,
        }
    }
}

/// A call that ended and awaits its wrap-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndedCall {
    /// Ringside's own id for the call (stable across softphone restarts).
    pub id: String,
    pub softphone_call_id: Option<String>,
    pub number: String,
    pub display: String,
    pub direction: Direction,
    pub started_ms: f64,
    pub ended_ms: f64,
    /// Seconds connected (0 when never answered).
    pub talk_seconds: u64,
    pub answered: bool,
    /// The softphone's reason, e.g. "Connection reset by user".
    pub reason: String,
    /// The agent the call belongs to (`outbox`): never sent to the platform,
    /// which knows the agent from the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentKey>,
}

/// A saved wrap-up: the call, tags and note. What goes to the platform or local storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrapUp {
    pub call: EndedCall,
    pub tags: Vec<String>,
    pub note: String,
    pub saved_ms: f64,
}

/// Why a call could not start, as a message key (in `_locales`) and the detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallNotice {
    /// `_locales` key of the headline.
    pub key: String,
    /// Technical detail (the host's message), shown small.
    pub detail: String,
    pub number: String,
}

/// Everything the popup shows about calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CallDesk {
    /// The call the agent is on (or the only one): the controls act on it.
    pub live: Option<LiveCall>,
    /// A second call: ringing while the agent is on `live`, or held after
    /// the agent answered another or swapped (`calls_control`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<LiveCall>,
    /// Do not disturb: incoming calls are declined.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dnd: bool,
    /// Calls declined by do not disturb since it was switched on.
    #[serde(skip_serializing_if = "is_zero")]
    pub declined: u32,
    pub wrapups: Vec<EndedCall>,
    pub notice: Option<CallNotice>,
    /// Where the last wrap-up went.
    pub last_saved: Option<SavedTo>,
    /// The agent signed in now (set by the worker before it feeds a dial or
    /// an event): calls that start are theirs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentKey>,
    next_seq: u64,
    /// A page's dial waiting for the agent's confirmation (`confirm.rs`).
    pub confirm: Option<crate::confirm::HeldDial>,
    /// The last call went to an app Ringside does not follow (a `tel:`
    /// handler, a url dialer's app): where, for the popup's status line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handed_off: Option<CallNotice>,
    pub(crate) confirm_seq: u64,
}

/// Where a wrap-up was saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SavedTo {
    /// The phone platform accepted it.
    Platform,
    /// No platform is configured: kept in the browser's local storage.
    Local,
    /// The platform was unreachable: kept locally and sent later.
    Outbox,
    /// Signed out: kept in the agent's outbox and sent after they sign in.
    AfterSignIn,
    /// Another agent is signed in: kept in the outbox of the agent who took
    /// the call, and sent when that agent signs in.
    OtherAgent,
    /// The platform refused the session (401): kept in the agent's outbox
    /// and sent after they sign in again.
    Unauthorized,
    /// Nobody was signed in during the call nor when it was written: kept
    /// in this browser only, never sent (there is no agent to send it as).
    Unowned,
}

impl SavedTo {
    pub fn message_key(self) -> &'static str {
        match self {
            SavedTo::Platform => "wrapupSavedPlatform",
            SavedTo::Local => "wrapupSavedLocal",
            SavedTo::Outbox => "wrapupSavedOutbox",
            SavedTo::AfterSignIn => "wrapupSavedAfterSignIn",
            SavedTo::OtherAgent => "wrapupSavedOtherAgent",
            SavedTo::Unauthorized => "wrapupSavedUnauthorized",
            SavedTo::Unowned => "wrapupSavedUnowned",
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What the service worker must do after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskEffect {
    /// Decline this incoming call (do not disturb is on).
    Decline { call_id: String },
    /// Send the dialled extension as DTMF after the pause the settings give.
    SendDtmf { call_id: String, digits: String },
    /// Put this call on hold again: the agent's other call ended, and
    /// baresip 1.0 resumes the previous call by itself; nothing resumes
    /// without the agent.
    KeepHeld { call_id: String },
    /// Show the incoming-call notification (with accept / decline).
    NotifyIncoming { call_id: String, caller: String },
    /// Take the incoming-call notification down.
    ClearIncoming { call_id: String },
}

/// A request the desk refuses before anything reaches the softphone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeskRefusal {
    #[error("a call is already in progress")]
    Busy,
    #[error("there is no call to act on")]
    NoCall,
    #[error("do not disturb is switched off by your administrator")]
    DndForbidden,
}

impl DeskRefusal {
    pub fn message_key(self) -> &'static str {
        match self {
            DeskRefusal::Busy => "errCallInProgress",
            DeskRefusal::NoCall => "errNoCall",
            DeskRefusal::DndForbidden => "errDndForbidden",
        }
    }
}

/// Every `_locales` key this module hands to the surfaces.
pub const MESSAGE_KEYS: &[&str] = &[
    "errSoftphoneDown",
    "errSoftphoneTimeout",
    "errSoftphoneRejected",
    "errInvalidNumber",
    "errNoTelHandler",
    "errTelHandlerFailed",
    "errDialerNotConfigured",
    "errHostFailed",
    "errCallInProgress",
    "errNoCall",
    "errDndForbidden",
    "errHostMissing",
    "errSiteBlocked",
    "errSiteSwitchedOff",
    "callOpened",
    "callOpenedPhoneApp",
    "wrapupSavedPlatform",
    "wrapupSavedLocal",
    "wrapupSavedOutbox",
    "wrapupSavedAfterSignIn",
    "wrapupSavedOtherAgent",
    "wrapupSavedUnauthorized",
    "wrapupSavedUnowned",
];

/// The `_locales` key that explains a host error to the agent.
pub fn error_key(error: &ErrorBody) -> &'static str {
    match error.kind() {
        Some(ErrorCode::SoftphoneUnreachable | ErrorCode::SoftphoneDisconnected) => {
            "errSoftphoneDown"
        }
        Some(ErrorCode::SoftphoneTimeout) => "errSoftphoneTimeout",
        Some(ErrorCode::SoftphoneRejected) => "errSoftphoneRejected",
        Some(ErrorCode::InvalidNumber) => "errInvalidNumber",
        Some(ErrorCode::NoTelHandler) => "errNoTelHandler",
        Some(ErrorCode::TelHandlerFailed) => "errTelHandlerFailed",
        Some(ErrorCode::DialerNotConfigured) => "errDialerNotConfigured",
        _ => "errHostFailed",
    }
}

impl CallDesk {
    /// The agent clicked a number: refused while another call is live.
    pub fn dial(&mut self, number: &str, display: &str, now_ms: f64) -> Result<(), DeskRefusal> {
        if self.live.is_some() {
            return Err(DeskRefusal::Busy);
        }
        self.notice = None;
        self.last_saved = None;
        self.handed_off = None;
        self.live = Some(LiveCall::new(
            None,
            number,
            display.to_owned(),
            Direction::Outgoing,
            Phase::Dialing,
            now_ms,
            self.agent.clone(),
        ));
        Ok(())
    }

    /// The host refused or failed the dial (or there is no host).
    pub fn dial_failed(&mut self, key: &str, detail: &str) {
        let number = match self.live.take() {
            Some(l) if l.phase == Phase::Dialing => {
                // A consultation that failed: the held call is the agent's again.
                self.live = self.other.take();
                l.display
            }
            other => {
                self.live = other;
                String::new()
            }
        };
        self.notice = Some(CallNotice {
            key: key.to_owned(),
            detail: detail.to_owned(),
            number,
        });
    }

    /// The dialing call was handed to an app Ringside cannot follow (`key`
    /// says where, with `sub`): the desk lets it go, with no wrap-up.
    pub fn handed_off(&mut self, key: &str, sub: &str) {
        if self
            .live
            .as_ref()
            .is_some_and(|l| l.phase == Phase::Dialing)
        {
            self.live = None;
        }
        self.handed_off = Some(CallNotice {
            key: key.to_owned(),
            detail: String::new(),
            number: sub.to_owned(),
        });
    }

    /// The phone platform took the dialing call under `call_id`: its events
    /// are matched to that id from now on (`worker::call_out`).
    pub fn placed(&mut self, call_id: &str) {
        self.adopt(call_id);
    }

    /// Shows a problem that did not involve a call (e.g. a blocked site).
    pub fn notify(&mut self, key: &str, detail: &str, number: &str) {
        self.notice = Some(CallNotice {
            key: key.to_owned(),
            detail: detail.to_owned(),
            number: number.to_owned(),
        });
    }

    pub fn dismiss_notice(&mut self) {
        self.notice = None;
    }

    fn is_ours(&self, call_id: &str) -> bool {
        self.live
            .as_ref()
            .is_some_and(|l| l.call_id.as_deref() == Some(call_id))
    }

    /// Adopts `call_id` for a dialing outgoing call that has none yet.
    fn adopt(&mut self, call_id: &str) -> bool {
        match self.live.as_mut() {
            Some(l) if l.call_id.is_none() && l.direction == Direction::Outgoing => {
                l.call_id = Some(call_id.to_owned());
                true
            }
            _ => self.is_ours(call_id),
        }
    }

    /// A softphone event.
    pub fn on_event(&mut self, ev: &CallEvent, now_ms: f64) -> Vec<DeskEffect> {
        let mut effects = vec![];
        match ev {
            CallEvent::Incoming { call_id, peer } => {
                let call = LiveCall::new(
                    Some(call_id.clone()),
                    peer,
                    caller_display(peer),
                    Direction::Incoming,
                    Phase::Incoming,
                    now_ms,
                    self.agent.clone(),
                );
                if self.is_ours(call_id) || self.is_other(call_id) {
                    // Already on the desk.
                } else if self.dnd {
                    self.declined += 1;
                    effects.push(DeskEffect::Decline {
                        call_id: call_id.clone(),
                    });
                } else if self.live.is_none() || self.other.is_none() {
                    let slot = if self.live.is_none() {
                        &mut self.live
                    } else {
                        &mut self.other
                    };
                    *slot = Some(call);
                    effects.push(DeskEffect::NotifyIncoming {
                        call_id: call_id.clone(),
                        caller: caller_display(peer),
                    });
                }
            }
            CallEvent::Ringing { call_id, .. } => {
                if self.adopt(call_id)
                    && let Some(l) = self.live.as_mut()
                {
                    l.phase = Phase::Ringing;
                }
            }
            CallEvent::Established {
                call_id,
                peer,
                outgoing,
            } => {
                let ours = if *outgoing {
                    self.adopt(call_id)
                } else {
                    self.is_ours(call_id)
                };
                if self.is_other(call_id) {
                    effects.extend(self.second_answered(call_id, now_ms));
                } else if ours {
                    if let Some(l) = self.live.as_mut() {
                        if l.phase == Phase::Incoming {
                            effects.push(DeskEffect::ClearIncoming {
                                call_id: call_id.clone(),
                            });
                        }
                        l.phase = Phase::Established;
                        l.established_ms = Some(now_ms);
                        if let Some(digits) = l.extension.take() {
                            effects.push(DeskEffect::SendDtmf {
                                call_id: call_id.clone(),
                                digits,
                            });
                        }
                    }
                } else if self.live.is_none() {
                    // Answered on the softphone itself, or Ringside restarted mid-call.
                    self.live = Some(LiveCall::new(
                        Some(call_id.clone()),
                        peer,
                        caller_display(peer),
                        if *outgoing {
                            Direction::Outgoing
                        } else {
                            Direction::Incoming
                        },
                        Phase::Established,
                        now_ms,
                        self.agent.clone(),
                    ));
                }
            }
            CallEvent::Closed {
                call_id, reason, ..
            } if self.is_other(call_id) => {
                effects.extend(self.second_closed(call_id, reason, now_ms));
            }
            CallEvent::Closed {
                call_id, reason, ..
            } => {
                let ours = self.is_ours(call_id)
                    || self
                        .live
                        .as_ref()
                        .is_some_and(|l| l.call_id.is_none() && l.direction == Direction::Outgoing);
                if ours && let Some(l) = self.live.take() {
                    if l.phase == Phase::Incoming {
                        effects.push(DeskEffect::ClearIncoming {
                            call_id: call_id.clone(),
                        });
                    }
                    self.finish(l, Some(call_id.clone()), reason, now_ms);
                    // The other call stays as it is (held): nothing resumes
                    // without the agent.
                    self.live = self.other.take();
                    if let Some(id) = self
                        .live
                        .as_ref()
                        .filter(|l| l.held)
                        .and_then(|l| l.call_id.clone())
                    {
                        effects.push(DeskEffect::KeepHeld { call_id: id });
                    }
                }
            }
        }
        effects
    }

    fn finish(&mut self, l: LiveCall, call_id: Option<String>, reason: &str, now_ms: f64) {
        self.next_seq += 1;
        let talk = l
            .established_ms
            .map_or(0.0, |t| ((now_ms - t) / 1000.0).max(0.0));
        self.wrapups.push(EndedCall {
            id: format!("{}-{}", l.started_ms as u64, self.next_seq),
            softphone_call_id: call_id.or(l.call_id),
            number: l.number,
            display: l.display,
            direction: l.direction,
            started_ms: l.started_ms,
            ended_ms: now_ms,
            talk_seconds: talk.round() as u64,
            answered: l.established_ms.is_some(),
            reason: reason.to_owned(),
            agent: l.agent.or_else(|| self.agent.clone()),
        });
        if self.wrapups.len() > MAX_PENDING_WRAPUPS {
            self.wrapups.remove(0);
        }
    }

    /// The softphone connection was lost: the live call's fate is unknown, so
    /// it is closed here and offered for wrap-up.
    pub fn softphone_lost(&mut self, now_ms: f64) {
        for l in [self.live.take(), self.other.take()].into_iter().flatten() {
            self.finish(l, None, "softphone connection lost", now_ms);
        }
    }

    /// The desk as saved before the service worker restarted. A call that was
    /// live then cannot be followed any more (the new softphone connection
    /// does not report calls already in progress), so it is moved to wrap-up;
    /// the softphone itself still controls the call.
    pub fn restored(mut saved: CallDesk, now_ms: f64) -> CallDesk {
        for l in [saved.live.take(), saved.other.take()]
            .into_iter()
            .flatten()
        {
            saved.finish(l, None, "Ringside restarted during the call", now_ms);
        }
        saved
    }

    /// Builds the wrap-up for a pending call from the form's fields. The call
    /// stays pending until [`CallDesk::wrapup_saved`].
    pub fn wrapup(&self, id: &str, tags: &str, note: &str, now_ms: f64) -> Option<WrapUp> {
        let mut call = self.wrapups.iter().find(|c| c.id == id)?.clone();
        // The platform knows the agent from the session, not from the body.
        call.agent = None;
        Some(WrapUp {
            call,
            tags: parse_tags(tags),
            note: note.trim().chars().take(MAX_NOTE_CHARS).collect(),
            saved_ms: now_ms,
        })
    }

    /// The agent a pending call's wrap-up belongs to (`outbox::route`).
    pub fn owner(&self, id: &str) -> Option<AgentKey> {
        self.wrapups.iter().find(|c| c.id == id)?.agent.clone()
    }

    /// The agent's outbox was refused (401) while being sent: they are told.
    pub fn outbox_refused(&mut self) {
        self.last_saved = Some(SavedTo::Unauthorized);
    }

    pub fn wrapup_saved(&mut self, id: &str, to: SavedTo) {
        self.wrapups.retain(|c| c.id != id);
        self.last_saved = Some(to);
    }
}

/// Tags from a comma-separated field: trimmed, deduplicated (case-insensitive),
/// bounded in count and length.
pub fn parse_tags(field: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for t in field.split([',', ';', '\n']) {
        let t: String = t.trim().chars().take(MAX_TAG_CHARS).collect();
        if !t.is_empty() && !out.iter().any(|o| o.to_lowercase() == t.to_lowercase()) {
            out.push(t);
        }
        if out.len() == MAX_TAGS {
            break;
        }
    }
    out
}

/// A caller's number or address from a SIP peer URI: `sip:+331…@host` → `+331…`.
pub fn caller_display(peer: &str) -> String {
    let trimmed = peer.trim().trim_start_matches('<');
    let rest = trimmed
        .strip_prefix("sip:")
        .or_else(|| peer.strip_prefix("sips:"))
        .unwrap_or(trimmed);
    let user = rest.split(['@', ';', '>']).next().unwrap_or(rest);
    if user.is_empty() {
        peer.to_owned()
    } else {
        user.to_owned()
    }
}

/// Call duration as the popup shows it: `m:ss`, or `h:mm:ss` past an hour.
pub fn format_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[path = "calls_control.rs"]
mod control;

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
