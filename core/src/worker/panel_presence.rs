//! The side panel's meeting status ([`PresenceCheck`]) and the agent's own
//! status for the popup ([`own_presence`]): part of [`super`], in a file of
//! its own.

use super::{CacheEntry, Cached, Failure, PanelAgent, PanelState, events_url};
use crate::api::ApiRoots;
use crate::context::google;
use crate::context::section::{PRESENCE_TTL_MS, PresenceAnswer};
use crate::context::{Integration, Presence, SharedEvent};
use crate::worker::http::HttpRequest;

/// What the worker does next for a meeting status.
#[derive(Debug, Clone, PartialEq)]
pub enum PresenceStep {
    /// Call with [`super::Retry`], then tell [`PresenceCheck::called`].
    Call(HttpRequest),
    Done(PresenceAnswer, Option<Box<CacheEntry>>),
}

#[derive(Debug, Clone, PartialEq)]
enum PresencePhase {
    FreeBusy,
    Events { freebusy: String },
}

/// One meeting-status check in progress.
#[derive(Debug, Clone)]
pub struct PresenceCheck {
    email: String,
    agent_email: String,
    own: bool,
    key: String,
    roots: ApiRoots,
    now: i64,
    phase: PresencePhase,
}

impl PresenceCheck {
    /// Whether `email` is in a meeting now (Calendar connected only). For
    /// the agent themself, the name comes from their own events.
    pub fn start(
        agent: Option<&PanelAgent>,
        email: String,
        granted: &str,
        state: &PanelState,
        roots: &ApiRoots,
        now_ms: f64,
    ) -> (PresenceCheck, PresenceStep) {
        let agent_email = agent.map(|a| a.email.clone()).unwrap_or_default();
        let check = PresenceCheck {
            key: format!("{agent_email} presence {}", email.to_lowercase()),
            own: email.eq_ignore_ascii_case(&agent_email),
            email,
            agent_email,
            roots: roots.clone(),
            now: now_ms as i64,
            phase: PresencePhase::FreeBusy,
        };
        let unknown = PresenceStep::Done(PresenceAnswer::Unknown, None);
        let Some(agent) = agent else {
            return (check, unknown);
        };
        if !agent.google() || !state.usable(Integration::Calendar, granted) {
            return (check, unknown);
        }
        if !check.own
            && let Some((at, Cached::Presence(presence))) = state.cached(&check.key)
            && now_ms - at < PRESENCE_TTL_MS
        {
            let known = PresenceAnswer::Known {
                presence: presence.clone(),
            };
            return (check, PresenceStep::Done(known, None));
        }
        let body = google::freebusy_body(std::slice::from_ref(&check.email), check.now, 1);
        let step = PresenceStep::Call(HttpRequest::post_json(
            google::freebusy_url(&check.roots),
            body,
        ));
        (check, step)
    }

    /// What the call last asked gave.
    pub fn called(&mut self, got: Result<String, Failure>) -> PresenceStep {
        match std::mem::replace(&mut self.phase, PresencePhase::FreeBusy) {
            PresencePhase::FreeBusy => {
                let Ok(freebusy) = got else {
                    return PresenceStep::Done(PresenceAnswer::Unknown, None);
                };
                self.phase = PresencePhase::Events { freebusy };
                // The event's name only when the agent may see it: a shared
                // event (or, for the agent, one of their own).
                let url = if self.own {
                    own_events_url(&self.roots, self.now)
                } else {
                    events_url(&self.roots, &self.email, self.now)
                };
                PresenceStep::Call(HttpRequest::get(url))
            }
            PresencePhase::Events { freebusy } => {
                let whose = if self.own {
                    &self.agent_email
                } else {
                    &self.email
                };
                let visible: Vec<SharedEvent> = got
                    .map(|b| google::parse_events(&b, whose))
                    .unwrap_or_default();
                match google::presence(&freebusy, &self.email, self.now, &visible) {
                    Some(presence) => PresenceStep::Done(
                        PresenceAnswer::Known {
                            presence: presence.clone(),
                        },
                        Some(Box::new(CacheEntry {
                            key: self.key.clone(),
                            value: Cached::Presence(presence),
                        })),
                    ),
                    None => PresenceStep::Done(PresenceAnswer::Unknown, None),
                }
            }
        }
    }
}

/// The agent's own events of the last twelve hours and the next minute.
fn own_events_url(roots: &ApiRoots, now: i64) -> String {
    let enc = |ms: i64| -> String {
        form_urlencoded::byte_serialize(crate::api::ms_to_rfc3339(ms).as_bytes()).collect()
    };
    format!(
        "{}/calendars/primary/events?timeMin={}&timeMax={}&singleEvents=true&orderBy=startTime&maxResults=10",
        roots.calendar,
        enc(now - 12 * 3_600_000),
        enc(now + 60_000),
    )
}

/// The agent's own status for the popup: only "in a meeting" is shown, and
/// it is looked at again when the meeting ends (between a second and an
/// hour from now). The status to show and when to look again.
pub fn own_presence(answer: PresenceAnswer, now_ms: f64) -> (Option<Presence>, Option<u32>) {
    let PresenceAnswer::Known {
        presence: p @ Presence::InMeeting { .. },
    } = answer
    else {
        return (None, None);
    };
    let again = match &p {
        Presence::InMeeting { until, .. } => crate::api::rfc3339_ms(until)
            .map(|end| (end as f64 - now_ms).clamp(1_000.0, 3_600_000.0) as u32),
        Presence::Free => None,
    };
    (Some(p), again)
}
