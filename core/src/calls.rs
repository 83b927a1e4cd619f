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
    pub live: Option<LiveCall>,
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

/// What the service worker must do after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskEffect {
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
}

impl DeskRefusal {
    pub fn message_key(self) -> &'static str {
        match self {
            DeskRefusal::Busy => "errCallInProgress",
            DeskRefusal::NoCall => "errNoCall",
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
    "errHostMissing",
    "errSiteBlocked",
    "errSiteSwitchedOff",
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
        self.live = Some(LiveCall {
            call_id: None,
            number: number.to_owned(),
            display: display.to_owned(),
            direction: Direction::Outgoing,
            phase: Phase::Dialing,
            started_ms: now_ms,
            established_ms: None,
            agent: self.agent.clone(),
        });
        Ok(())
    }

    /// The host refused or failed the dial (or there is no host).
    pub fn dial_failed(&mut self, key: &str, detail: &str) {
        let number = match self.live.take() {
            Some(l) if l.phase == Phase::Dialing => l.display,
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
                if self.live.is_none() {
                    self.live = Some(LiveCall {
                        call_id: Some(call_id.clone()),
                        number: peer.clone(),
                        display: caller_display(peer),
                        direction: Direction::Incoming,
                        phase: Phase::Incoming,
                        started_ms: now_ms,
                        established_ms: None,
                        agent: self.agent.clone(),
                    });
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
                if ours {
                    if let Some(l) = self.live.as_mut() {
                        if l.phase == Phase::Incoming {
                            effects.push(DeskEffect::ClearIncoming {
                                call_id: call_id.clone(),
                            });
                        }
                        l.phase = Phase::Established;
                        l.established_ms = Some(now_ms);
                    }
                } else if self.live.is_none() {
                    // Answered on the softphone itself, or Ringside restarted mid-call.
                    self.live = Some(LiveCall {
                        call_id: Some(call_id.clone()),
                        number: peer.clone(),
                        display: caller_display(peer),
                        direction: if *outgoing {
                            Direction::Outgoing
                        } else {
                            Direction::Incoming
                        },
                        phase: Phase::Established,
                        started_ms: now_ms,
                        established_ms: Some(now_ms),
                        agent: self.agent.clone(),
                    });
                }
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
        if let Some(l) = self.live.take() {
            self.finish(l, None, "softphone connection lost", now_ms);
        }
    }

    /// The desk as saved before the service worker restarted. A call that was
    /// live then cannot be followed any more (the new softphone connection
    /// does not report calls already in progress), so it is moved to wrap-up;
    /// the softphone itself still controls the call.
    pub fn restored(mut saved: CallDesk, now_ms: f64) -> CallDesk {
        if let Some(l) = saved.live.take() {
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

#[cfg(test)]
mod tests {
    //! The desk driven by event sequences baresip actually produces.
    use super::*;

    fn ev_ringing(id: &str) -> CallEvent {
        CallEvent::Ringing {
            call_id: id.into(),
            peer: "sip:+33123456789@127.0.0.1".into(),
        }
    }
    fn ev_est(id: &str, outgoing: bool) -> CallEvent {
        CallEvent::Established {
            call_id: id.into(),
            peer: "sip:+33123456789@127.0.0.1".into(),
            outgoing,
        }
    }
    fn ev_closed(id: &str) -> CallEvent {
        CallEvent::Closed {
            call_id: id.into(),
            peer: String::new(),
            reason: "Connection reset by user".into(),
        }
    }

    #[test]
    fn outgoing_call_through_wrapup() {
        let mut d = CallDesk::default();
        d.dial("+33123456789", "01 23 45 67 89", 1000.0).unwrap();
        assert_eq!(d.dial("+1", "+1", 1001.0), Err(DeskRefusal::Busy));
        assert!(d.on_event(&ev_ringing("abc"), 1100.0).is_empty());
        assert_eq!(d.live.as_ref().unwrap().phase, Phase::Ringing);
        assert_eq!(d.live.as_ref().unwrap().call_id.as_deref(), Some("abc"));
        // Another call's events do not touch ours.
        d.on_event(&ev_closed("zzz"), 1200.0);
        assert!(d.live.is_some());
        d.on_event(&ev_est("abc", true), 2000.0);
        assert_eq!(d.live.as_ref().unwrap().phase, Phase::Established);
        d.on_event(&ev_closed("abc"), 63_600.0);
        assert!(d.live.is_none());
        let ended = &d.wrapups[0];
        assert_eq!(ended.talk_seconds, 62);
        assert!(ended.answered);
        assert_eq!(ended.display, "01 23 45 67 89");
        let id = ended.id.clone();
        let w = d
            .wrapup(
                &id,
                " sale, Follow-up ,sale,, ",
                "  called back  ",
                70_000.0,
            )
            .unwrap();
        assert_eq!(w.tags, vec!["sale", "Follow-up"]);
        assert_eq!(w.note, "called back");
        assert!(d.wrapup("nope", "", "", 0.0).is_none());
        d.wrapup_saved(&id, SavedTo::Local);
        assert_eq!(d.last_saved, Some(SavedTo::Local));
        assert!(d.wrapups.is_empty());
        d.dial("+1", "+1", 80_000.0).unwrap();
    }

    #[test]
    fn unanswered_call_closed_before_any_event_is_still_ours() {
        let mut d = CallDesk::default();
        d.dial("+33123456789", "x", 0.0).unwrap();
        d.on_event(&ev_closed("q1"), 500.0);
        assert!(d.live.is_none());
        assert!(!d.wrapups[0].answered);
        assert_eq!(d.wrapups[0].talk_seconds, 0);
    }

    #[test]
    fn failures_become_notices_with_keys() {
        let mut d = CallDesk::default();
        d.dial("+33123456789", "01 23 45 67 89", 0.0).unwrap();
        let err = ErrorBody::new(
            ErrorCode::SoftphoneUnreachable,
            "not reachable at 127.0.0.1:1",
        );
        d.dial_failed(error_key(&err), &err.message);
        assert!(d.live.is_none());
        let n = d.notice.clone().unwrap();
        assert_eq!(n.key, "errSoftphoneDown");
        assert_eq!(n.number, "01 23 45 67 89");
        assert_eq!(
            error_key(&ErrorBody::new(ErrorCode::NoTelHandler, "")),
            "errNoTelHandler"
        );
        assert_eq!(
            error_key(&ErrorBody::new(ErrorCode::Internal, "")),
            "errHostFailed"
        );
        // A failure while another call is live leaves that call alone.
        d.dial("+1", "+1", 0.0).unwrap();
        d.on_event(&ev_est("c", true), 1.0);
        d.dial_failed("errHostFailed", "x");
        assert!(d.live.is_some());
        d.dismiss_notice();
        assert!(d.notice.is_none());
    }

    #[test]
    fn incoming_call_notifies_and_clears() {
        let mut d = CallDesk::default();
        let fx = d.on_event(
            &CallEvent::Incoming {
                call_id: "in1".into(),
                peer: "sip:+4930123456@127.0.0.1:5070".into(),
            },
            0.0,
        );
        assert_eq!(
            fx,
            vec![DeskEffect::NotifyIncoming {
                call_id: "in1".into(),
                caller: "+4930123456".into()
            }]
        );
        let fx = d.on_event(&ev_est("in1", false), 10.0);
        assert_eq!(
            fx,
            vec![DeskEffect::ClearIncoming {
                call_id: "in1".into()
            }]
        );
        assert_eq!(d.live.as_ref().unwrap().direction, Direction::Incoming);
        d.on_event(&ev_closed("in1"), 5010.0);
        assert_eq!(d.wrapups[0].talk_seconds, 5);
        // Declined: closed while still ringing clears the notification.
        d.on_event(
            &CallEvent::Incoming {
                call_id: "in2".into(),
                peer: "sip:bob@x".into(),
            },
            0.0,
        );
        let fx = d.on_event(&ev_closed("in2"), 1.0);
        assert_eq!(
            fx,
            vec![DeskEffect::ClearIncoming {
                call_id: "in2".into()
            }]
        );
        assert_eq!(d.wrapups.len(), 2);
    }

    #[test]
    fn lost_softphone_ends_the_live_call_and_pending_is_bounded() {
        let mut d = CallDesk::default();
        for i in 0..(MAX_PENDING_WRAPUPS + 3) {
            d.dial("+1", "+1", i as f64).unwrap();
            d.softphone_lost(i as f64 + 1.0);
        }
        assert_eq!(d.wrapups.len(), MAX_PENDING_WRAPUPS);
        assert_eq!(d.wrapups[0].reason, "softphone connection lost");
    }

    #[test]
    fn every_key_handed_out_is_listed() {
        for code in ErrorCode::ALL {
            let key = error_key(&ErrorBody::new(*code, ""));
            assert!(MESSAGE_KEYS.contains(&key), "{key}");
        }
        for r in [DeskRefusal::Busy, DeskRefusal::NoCall] {
            assert!(MESSAGE_KEYS.contains(&r.message_key()));
        }
        for s in [
            SavedTo::Platform,
            SavedTo::Local,
            SavedTo::Outbox,
            SavedTo::AfterSignIn,
            SavedTo::OtherAgent,
            SavedTo::Unauthorized,
            SavedTo::Unowned,
        ] {
            assert!(MESSAGE_KEYS.contains(&s.message_key()));
        }
    }

    #[test]
    fn a_restored_desk_keeps_wrapups_and_ends_the_live_call() {
        let mut d = CallDesk::default();
        d.dial("+1", "+1", 0.0).unwrap();
        d.on_event(&ev_closed("x"), 1.0);
        d.dial("+33123456789", "01 23", 2.0).unwrap();
        d.on_event(&ev_est("y", true), 3.0);
        let json = serde_json::to_string(&d).unwrap();
        let back = CallDesk::restored(serde_json::from_str(&json).unwrap(), 10_003.0);
        assert!(back.live.is_none());
        assert_eq!(back.wrapups.len(), 2);
        assert_eq!(back.wrapups[1].talk_seconds, 10);
        assert_eq!(back.wrapups[1].reason, "Ringside restarted during the call");
        // Ids stay unique after a restore.
        assert_ne!(back.wrapups[0].id, back.wrapups[1].id);
    }

    #[test]
    fn helpers() {
        assert_eq!(caller_display("sip:+33123@127.0.0.1:5070"), "+33123");
        assert_eq!(caller_display("<sip:bob@x>"), "bob");
        assert_eq!(caller_display("sip:@x"), "sip:@x");
        assert_eq!(format_duration(0), "0:00");
        assert_eq!(format_duration(62), "1:02");
        assert_eq!(format_duration(3723), "1:02:03");
        let many: String = (0..30).map(|i| format!("t{i},")).collect();
        assert_eq!(parse_tags(&many).len(), MAX_TAGS);
        assert_eq!(parse_tags(&"x".repeat(100))[0].len(), MAX_TAG_CHARS);
    }

    #[test]
    fn a_call_belongs_to_the_agent_signed_in_when_it_started() {
        let ana = AgentKey::new("https://accounts.google.com", "111");
        let bo = AgentKey::new("https://accounts.google.com", "222");
        let mut d = CallDesk {
            agent: Some(ana.clone()),
            ..CallDesk::default()
        };
        d.dial("+33123456789", "x", 0.0).unwrap();
        // Ana is signed out mid-call, then Bo signs in before the call ends.
        d.agent = Some(bo.clone());
        d.on_event(&ev_closed("a1"), 10.0);
        let id = d.wrapups[0].id.clone();
        assert_eq!(d.owner(&id), Some(ana.clone()), "still Ana's call");
        // The body sent to the platform does not carry the owner.
        let w = d.wrapup(&id, "", "n", 11.0).unwrap();
        assert_eq!(w.call.agent, None);
        assert!(!serde_json::to_string(&w).unwrap().contains("111"));
        // It survives a worker restart (the desk is saved as JSON).
        let back: CallDesk = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back.owner(&id), Some(ana));

        // An incoming call while nobody is signed in belongs to nobody yet.
        d.agent = None;
        d.on_event(
            &CallEvent::Incoming {
                call_id: "in".into(),
                peer: "sip:+4930@x".into(),
            },
            20.0,
        );
        d.on_event(&ev_closed("in"), 30.0);
        let id2 = d.wrapups[1].id.clone();
        assert_eq!(d.owner(&id2), None);
        d.outbox_refused();
        assert_eq!(d.last_saved, Some(SavedTo::Unauthorized));
    }
}
