//! Where a saved wrap-up goes, and what the phone platform's answer means.
//!
//! The platform takes a wrap-up only with the agent's platform session as a
//! bearer credential (`Authorization: Bearer <session>`, the session id
//! `POST /v1/sessions` returned at sign-in; docs/platform-api.md), and files
//! it under that session's agent. So every wrap-up belongs to one agent: the
//! one signed in when the call happened (for a call that started while nobody
//! was, the one signed in when it is written). Until it is sent it waits in
//! *that agent's own* outbox, keyed by the agent's stable identity (the ID
//! token's issuer and subject), and only that agent's session ever sends it:
//! another agent signing in on the same browser never sends or empties it,
//! and it goes when its agent signs in again.
//!
//! A `401` means the session is no longer valid: the wrap-up stays queued,
//! nothing else is tried with that session, and the agent is told. Any other
//! failure keeps the wrap-up queued and the next one is still tried.
//!
//! The worker carries this out: it stores each outbox under
//! [`AgentKey::outbox_storage_key`] and sends [`Flush`]'s requests.

use serde::{Deserialize, Serialize};

use crate::auth::session::Profile;
use crate::calls::{SavedTo, WrapUp};

/// The single outbox of versions before wrap-ups had an owner. Its wrap-ups
/// cannot be attributed to anyone, so they are never sent: the worker moves
/// them to the browser's local list ([`Route::Unowned`]).
pub const LEGACY_OUTBOX_KEY: &str = "wrapupOutbox";

/// An agent's stable identity: the ID token's issuer and subject (OIDC's
/// stable, never reassigned pair; the email can change hands).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentKey(String);

impl AgentKey {
    pub fn new(issuer: &str, subject: &str) -> AgentKey {
        AgentKey(format!("{} {}", issuer.trim_end_matches('/'), subject))
    }

    /// The signed-in agent's identity.
    pub fn of(profile: &Profile) -> AgentKey {
        AgentKey::new(&profile.issuer, &profile.subject)
    }

    /// The `chrome.storage.local` key of this agent's outbox.
    pub fn outbox_storage_key(&self) -> String {
        format!("{LEGACY_OUTBOX_KEY} {}", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What to do with a wrap-up the agent just saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// No platform is configured: kept in the browser's local list.
    Local,
    /// Nobody was signed in during the call nor is now: there is no agent to
    /// send it as, so it is kept in the browser's local list, never sent
    /// (never handed to whoever signs in next).
    Unowned,
    /// Its agent is signed in with a platform session: send it now with this
    /// bearer (after that agent's outbox); if that fails, into their outbox.
    Send { agent: AgentKey, bearer: String },
    /// Into its agent's outbox, sent when that agent has a session again;
    /// `saved` tells the agent why.
    Queue { agent: AgentKey, saved: SavedTo },
}

/// Decides where a saved wrap-up goes. `owner`: the agent the call belongs
/// to (`CallDesk::owner`); `signed_in`: the agent signed in now; `session`:
/// the platform session of this browser session, if any (it is always the
/// signed-in agent's: it is dropped at sign-out).
pub fn route(
    platform: bool,
    owner: Option<&AgentKey>,
    signed_in: Option<&AgentKey>,
    session: Option<&str>,
) -> Route {
    if !platform {
        return Route::Local;
    }
    let Some(agent) = owner.or(signed_in).cloned() else {
        return Route::Unowned;
    };
    match (signed_in, session) {
        (Some(me), Some(bearer)) if *me == agent && !bearer.is_empty() => Route::Send {
            agent,
            bearer: bearer.to_owned(),
        },
        // Signed in, but the platform session is not back yet (a restart):
        // it goes once it is.
        (Some(me), _) if *me == agent => Route::Queue {
            agent,
            saved: SavedTo::Outbox,
        },
        // Someone else is signed in: it waits for its own agent.
        (Some(_), _) => Route::Queue {
            agent,
            saved: SavedTo::OtherAgent,
        },
        // Signed out: it goes after the agent signs in again.
        (None, _) => Route::Queue {
            agent,
            saved: SavedTo::AfterSignIn,
        },
    }
}

/// Which outbox may be sent now, with which bearer: only the signed-in
/// agent's own, with that agent's platform session; nothing without both.
pub fn flush_plan(
    signed_in: Option<&AgentKey>,
    session: Option<&str>,
) -> Option<(AgentKey, String)> {
    match (signed_in, session) {
        (Some(agent), Some(s)) if !s.is_empty() => Some((agent.clone(), s.to_owned())),
        _ => None,
    }
}

/// What the platform's answer to `POST /v1/wrapups` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Any 2xx: it has it.
    Delivered,
    /// 401: the session is not (or no longer) valid. Kept; the agent is told.
    Unauthorized,
    /// Anything else, or no answer: kept, and tried again later.
    Failed,
}

/// `status`: the HTTP status, or None when the platform could not be reached.
pub fn delivery(status: Option<u16>) -> Delivery {
    match status {
        Some(s) if (200..300).contains(&s) => Delivery::Delivered,
        Some(401) => Delivery::Unauthorized,
        _ => Delivery::Failed,
    }
}

/// Where a wrap-up that was to be sent now ended up, for the agent.
pub fn saved_to(d: Delivery) -> SavedTo {
    match d {
        Delivery::Delivered => SavedTo::Platform,
        Delivery::Unauthorized => SavedTo::Unauthorized,
        Delivery::Failed => SavedTo::Outbox,
    }
}

/// Sending one agent's outbox, one wrap-up at a time: [`Flush::request`] is
/// the next to send, [`Flush::answer`] what the platform said. After a 401
/// nothing more is sent with that session; everything not delivered is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Flush {
    queued: Vec<WrapUp>,
    next: usize,
    kept: Vec<WrapUp>,
    unauthorized: bool,
}

impl Flush {
    pub fn new(queued: Vec<WrapUp>) -> Flush {
        Flush {
            queued,
            next: 0,
            kept: vec![],
            unauthorized: false,
        }
    }

    /// The next wrap-up to send, or None when done.
    pub fn request(&self) -> Option<&WrapUp> {
        if self.unauthorized {
            return None;
        }
        self.queued.get(self.next)
    }

    pub fn answer(&mut self, d: Delivery) {
        let Some(w) = self.queued.get(self.next).cloned() else {
            return;
        };
        self.next += 1;
        match d {
            Delivery::Delivered => {}
            Delivery::Failed => self.kept.push(w),
            Delivery::Unauthorized => {
                self.kept.push(w);
                self.unauthorized = true;
            }
        }
    }

    /// What stays in the outbox (in order), and whether the platform refused
    /// the session (the agent is told: `SavedTo::Unauthorized`).
    pub fn finish(mut self) -> (Vec<WrapUp>, bool) {
        let rest = self.queued.split_off(self.next.min(self.queued.len()));
        self.kept.extend(rest);
        (self.kept, self.unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::{Direction, EndedCall};

    fn ana() -> AgentKey {
        AgentKey::new("https://accounts.google.com", "111")
    }
    fn bo() -> AgentKey {
        AgentKey::new("https://accounts.google.com", "222")
    }

    fn wrapup(n: u32) -> WrapUp {
        WrapUp {
            call: EndedCall {
                id: format!("c{n}"),
                softphone_call_id: None,
                number: "+33123456789".into(),
                display: "01 23 45 67 89".into(),
                direction: Direction::Outgoing,
                started_ms: 0.0,
                ended_ms: 1.0,
                talk_seconds: 0,
                answered: false,
                reason: String::new(),
                agent: None,
            },
            tags: vec![],
            note: format!("note {n}"),
            saved_ms: 2.0,
        }
    }

    #[test]
    fn each_agent_has_their_own_outbox_keyed_by_issuer_and_subject() {
        assert_eq!(ana().as_str(), "https://accounts.google.com 111");
        assert_eq!(
            ana().outbox_storage_key(),
            "wrapupOutbox https://accounts.google.com 111"
        );
        assert_ne!(ana().outbox_storage_key(), bo().outbox_storage_key());
        assert_ne!(ana().outbox_storage_key(), LEGACY_OUTBOX_KEY);
        // The same subject at another issuer is another agent.
        assert_ne!(
            AgentKey::new("https://login.microsoftonline.com/t/v2.0", "111"),
            ana()
        );
        // A trailing slash on the issuer does not make another agent.
        assert_eq!(AgentKey::new("https://accounts.google.com/", "111"), ana());
    }

    #[test]
    fn a_wrapup_is_sent_only_as_its_own_agent() {
        let (a, b) = (ana(), bo());
        assert_eq!(route(false, Some(&a), Some(&a), Some("s")), Route::Local);
        // Ana's call, Ana signed in with a session: sent with her session.
        assert_eq!(
            route(true, Some(&a), Some(&a), Some("sess-a")),
            Route::Send {
                agent: a.clone(),
                bearer: "sess-a".into()
            }
        );
        // Ana's call, Bo signed in (with Bo's session): never sent as Bo.
        assert_eq!(
            route(true, Some(&a), Some(&b), Some("sess-b")),
            Route::Queue {
                agent: a.clone(),
                saved: SavedTo::OtherAgent
            }
        );
        // Ana's call, nobody signed in (revoked mid-call): Ana's outbox.
        assert_eq!(
            route(true, Some(&a), None, None),
            Route::Queue {
                agent: a.clone(),
                saved: SavedTo::AfterSignIn
            }
        );
        // Signed in but no platform session yet: queued, sent once it is back.
        assert_eq!(
            route(true, Some(&a), Some(&a), None),
            Route::Queue {
                agent: a.clone(),
                saved: SavedTo::Outbox
            }
        );
        assert_eq!(
            route(true, Some(&a), Some(&a), Some("")),
            Route::Queue {
                agent: a.clone(),
                saved: SavedTo::Outbox
            }
        );
        // A call that started with nobody signed in is the writer's.
        assert_eq!(
            route(true, None, Some(&b), Some("sess-b")),
            Route::Send {
                agent: b.clone(),
                bearer: "sess-b".into()
            }
        );
        // Nobody at all: kept, sent to nobody.
        assert_eq!(route(true, None, None, Some("stale")), Route::Unowned);
    }

    #[test]
    fn only_the_signed_in_agents_outbox_is_flushed_with_their_session() {
        assert_eq!(
            flush_plan(Some(&bo()), Some("sess-b")),
            Some((bo(), "sess-b".into()))
        );
        assert_eq!(flush_plan(Some(&bo()), None), None);
        assert_eq!(flush_plan(Some(&bo()), Some("")), None);
        assert_eq!(flush_plan(None, Some("sess")), None);
    }

    #[test]
    fn what_the_platform_answer_means() {
        assert_eq!(delivery(Some(201)), Delivery::Delivered);
        assert_eq!(delivery(Some(200)), Delivery::Delivered);
        assert_eq!(delivery(Some(401)), Delivery::Unauthorized);
        assert_eq!(delivery(Some(403)), Delivery::Failed);
        assert_eq!(delivery(Some(400)), Delivery::Failed);
        assert_eq!(delivery(Some(503)), Delivery::Failed);
        assert_eq!(delivery(None), Delivery::Failed);
        assert_eq!(saved_to(Delivery::Delivered), SavedTo::Platform);
        assert_eq!(saved_to(Delivery::Unauthorized), SavedTo::Unauthorized);
        assert_eq!(saved_to(Delivery::Failed), SavedTo::Outbox);
        assert_eq!(
            SavedTo::Unauthorized.message_key(),
            "wrapupSavedUnauthorized"
        );
    }

    #[test]
    fn a_flush_keeps_failures_and_stops_at_a_401() {
        let mut f = Flush::new(vec![wrapup(1), wrapup(2), wrapup(3), wrapup(4)]);
        assert_eq!(f.request().unwrap().call.id, "c1");
        f.answer(Delivery::Delivered);
        assert_eq!(f.request().unwrap().call.id, "c2");
        f.answer(Delivery::Failed);
        assert_eq!(f.request().unwrap().call.id, "c3", "a failure goes on");
        f.answer(Delivery::Unauthorized);
        assert_eq!(f.request(), None, "nothing more with a refused session");
        let (kept, unauthorized) = f.finish();
        assert!(unauthorized);
        let ids: Vec<_> = kept.iter().map(|w| w.call.id.as_str()).collect();
        assert_eq!(ids, ["c2", "c3", "c4"]);

        let mut ok = Flush::new(vec![wrapup(1)]);
        ok.answer(Delivery::Delivered);
        ok.answer(Delivery::Delivered); // past the end: ignored
        assert_eq!(ok.finish(), (vec![], false));
        assert_eq!(Flush::new(vec![]).request(), None);
    }
}
