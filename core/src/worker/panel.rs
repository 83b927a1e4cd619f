//! The side panel's lookups, as conversations: who the contact is
//! ([`ContactLookup`]), one section of what the agent shares with them
//! ([`SectionLoad`]), and whether someone is in a meeting now
//! ([`PresenceCheck`]). Each says what to do next (ask the local contact
//! store, call Google's APIs, search the IMAP mailbox) and is told the
//! outcome; the panel's short cache and the integrations the agent turned
//! off are [`PanelState`], which the worker keeps.
//!
//! The rules:
//! - signed out: nothing is asked; a Microsoft agent gets the contact from
//!   their synced Outlook contacts and no Google section;
//! - a contact comes from the cache while fresh, else the local store, else
//!   People: the agent's contacts first (a missing scope there means
//!   Connect), then other contacts and the directory (a missing scope or a
//!   failure there is skipped);
//! - a section needs its scope granted and not disconnected; Gmail falls
//!   back to IMAP (app password) when its API is not connected, and says
//!   why when the IMAP source must be connected again;
//! - a section comes from the cache while fresh; when the network fails,
//!   from the cache however old, marked offline;
//! - a meeting status is cached a minute, except the agent's own.
//!
//! Every call here is made through [`Retry`]: 429 and 5xx wait (Retry-After
//! when given, else backoff) and try again, up to `api::MAX_ATTEMPTS`.

use std::collections::HashMap;

use serde_json::Value;

use super::http::{HttpAnswer, HttpRequest};
use crate::api::{ApiFailure, ApiRoots, Unanswered, classify, retry_delay_ms};
use crate::auth::provider::ProviderKind;
use crate::context::google;
use crate::context::section::{self, CACHE_TTL_MS, ContactAnswer, SectionAnswer, SectionData};
use crate::context::{Contact, ContactQuery, Integration, Presence, matches};
use crate::mail::{MailFailure, MailSearchResult};

/// Shared events: this far back and ahead.
pub const EVENTS_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// How many shared messages the panel lists (Gmail API and IMAP alike).
pub const SHARED_LIMIT: usize = 5;
/// Cache entries older than this many TTLs are dropped as new ones come.
const CACHE_KEEP_TTLS: f64 = 12.0;

/// Why a call gave no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    SignedOut,
    /// The network failed (the browser's words).
    Network(String),
    /// The API answered with an error it keeps giving.
    Api(ApiFailure),
}

impl Failure {
    /// The `_locales` key and detail of a failure the panel gives up on.
    pub fn message(&self) -> (String, String) {
        match self {
            Failure::SignedOut => ("sectionSignedOut".into(), String::new()),
            Failure::Network(e) => ("sectionOffline".into(), e.clone()),
            Failure::Api(f) => {
                let detail = match f {
                    ApiFailure::Refused { status, message } => format!("HTTP {status}: {message}"),
                    ApiFailure::Server { status, .. } => format!("HTTP {status}"),
                    other => format!("{other:?}"),
                };
                (section::failure_key(f).to_owned(), detail)
            }
        }
    }
}

/// One call with retries.
#[derive(Debug, Clone, Default)]
pub struct Retry {
    attempt: u32,
}

/// What to do after one answer of a [`Retry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retried {
    /// Wait this long, then send the same request again.
    Wait(u32),
    /// The call is over: the body of a 2xx, or why not.
    Done(Result<String, Failure>),
}

impl Retry {
    pub fn answer(&mut self, sent: Result<HttpAnswer, Unanswered>) -> Retried {
        let a = match sent {
            Ok(a) => a,
            Err(Unanswered::SignedOut) => return Retried::Done(Err(Failure::SignedOut)),
            Err(Unanswered::Network(e)) => return Retried::Done(Err(Failure::Network(e))),
        };
        if (200..300).contains(&a.status) {
            return Retried::Done(Ok(a.body));
        }
        let failure = classify(a.status, &a.body, a.retry_after.as_deref());
        match retry_delay_ms(&failure, self.attempt) {
            Some(ms) => {
                self.attempt += 1;
                Retried::Wait(ms)
            }
            None => Retried::Done(Err(Failure::Api(failure))),
        }
    }
}

/// What the cache keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum Cached {
    Contact(ContactAnswer),
    Section(SectionData),
    Presence(Presence),
}

/// An answer to keep in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    pub key: String,
    pub value: Cached,
}

/// The panel's state in the worker: the short cache and the integrations
/// the agent disconnected (saved in storage.local, no secrets).
#[derive(Debug, Clone, Default)]
pub struct PanelState {
    /// key → (fetched at, answer).
    cache: HashMap<String, (f64, Cached)>,
    pub disconnected: Vec<Integration>,
}

impl PanelState {
    fn cached(&self, key: &str) -> Option<&(f64, Cached)> {
        self.cache.get(key)
    }

    /// Keeps an answer; old entries go as new ones come.
    pub fn remember(&mut self, entry: CacheEntry, now_ms: f64) {
        self.cache
            .retain(|_, (at, _)| now_ms - *at < CACHE_TTL_MS * CACHE_KEEP_TTLS);
        self.cache.insert(entry.key, (now_ms, entry.value));
    }

    /// Whether the integration's scope is granted and the agent has not
    /// disconnected it.
    pub fn usable(&self, integration: Integration, granted: &str) -> bool {
        !self.disconnected.contains(&integration) && integration.granted_in(granted)
    }

    /// The integrations connected now (the panel's gear and badges).
    pub fn connected(&self, granted: &str) -> Vec<Integration> {
        Integration::ALL
            .into_iter()
            .filter(|i| self.usable(*i, granted))
            .collect()
    }

    /// "Connect": the integration is used again. The list to save.
    pub fn connect(&mut self, integration: Integration) -> Vec<Integration> {
        self.disconnected.retain(|i| *i != integration);
        self.disconnected.clone()
    }

    /// "Disconnect": Ringside stops using the scope and drops what it
    /// cached for it. The list to save.
    pub fn disconnect(&mut self, integration: Integration) -> Vec<Integration> {
        if !self.disconnected.contains(&integration) {
            self.disconnected.push(integration);
        }
        let tag = format!("{integration:?}");
        self.cache.retain(|k, _| !k.contains(&tag));
        self.disconnected.clone()
    }
}

/// Who asks: the signed-in agent's provider and email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelAgent {
    pub kind: ProviderKind,
    pub email: String,
}

impl PanelAgent {
    fn google(&self) -> bool {
        self.kind == ProviderKind::Google
    }
}

// ---------------------------------------------------------------- contact

/// What the worker does next for a contact lookup.
#[derive(Debug, Clone, PartialEq)]
pub enum LookupStep {
    /// Look the query up in the local contact store, then tell
    /// [`ContactLookup::local`].
    Local(ContactQuery),
    /// Call with [`Retry`], then tell [`ContactLookup::called`].
    Call(HttpRequest),
    /// The answer, and what to cache.
    Done(ContactAnswer, Option<Box<CacheEntry>>),
}

/// A contact lookup in progress.
#[derive(Debug, Clone)]
pub struct ContactLookup {
    query: ContactQuery,
    google: bool,
    key: String,
    urls: Vec<String>,
    /// The People lookup being asked (index in `urls`).
    at: usize,
}

impl ContactLookup {
    pub fn start(
        agent: Option<&PanelAgent>,
        query: ContactQuery,
        state: &PanelState,
        roots: &ApiRoots,
        now_ms: f64,
    ) -> (ContactLookup, LookupStep) {
        let key = agent.map_or_else(String::new, |a| {
            format!("{} contact {}", a.email, query.key())
        });
        let lookup = ContactLookup {
            google: agent.is_some_and(PanelAgent::google),
            urls: google::people_urls(roots, &query),
            query: query.clone(),
            key,
            at: 0,
        };
        let Some(agent) = agent else {
            return (lookup, LookupStep::Done(ContactAnswer::SignedOut, None));
        };
        if agent.google()
            && let Some((at, Cached::Contact(a))) = state.cached(&lookup.key)
            && section::fresh(*at, now_ms)
        {
            return (lookup, LookupStep::Done(a.clone(), None));
        }
        // The local contact store first (synced contacts and directory).
        (lookup, LookupStep::Local(query))
    }

    fn done(&self, answer: ContactAnswer) -> LookupStep {
        let entry = CacheEntry {
            key: self.key.clone(),
            value: Cached::Contact(answer.clone()),
        };
        LookupStep::Done(answer, Some(Box::new(entry)))
    }

    /// What the local store holds for the query.
    pub fn local(&mut self, contact: Option<Contact>) -> LookupStep {
        if !self.google {
            // A Microsoft agent's synced Outlook contacts still name the person.
            return LookupStep::Done(ContactAnswer::NotGoogle { contact }, None);
        }
        match contact {
            Some(contact) => self.done(ContactAnswer::Found { contact }),
            None => self.next(),
        }
    }

    fn next(&mut self) -> LookupStep {
        match self.urls.get(self.at) {
            Some(url) => LookupStep::Call(HttpRequest::get(url.clone())),
            None => self.done(ContactAnswer::Unknown),
        }
    }

    /// What the People lookup last asked gave.
    pub fn called(&mut self, got: Result<String, Failure>) -> LookupStep {
        let first = self.at == 0;
        self.at += 1;
        match got {
            Ok(body) => match google::parse_people(&body)
                .into_iter()
                .find(|c| matches(c, &self.query))
            {
                Some(contact) => self.done(ContactAnswer::Found { contact }),
                None => self.next(),
            },
            Err(Failure::SignedOut) => LookupStep::Done(ContactAnswer::SignedOut, None),
            Err(Failure::Network(detail)) => LookupStep::Done(
                ContactAnswer::Failed {
                    key: "sectionOffline".into(),
                    detail,
                },
                None,
            ),
            // The agent's contacts need the contacts scope: Connect.
            Err(Failure::Api(ApiFailure::InsufficientScope)) if first => {
                self.done(ContactAnswer::NeedsConnect)
            }
            Err(f @ Failure::Api(_)) if first => {
                let (key, detail) = f.message();
                LookupStep::Done(ContactAnswer::Failed { key, detail }, None)
            }
            // Other contacts and the directory are extras: the directory
            // needs a scope sign-in does not ask, and either may fail
            // without hiding what the agent's own contacts said.
            Err(Failure::Api(_)) => self.next(),
        }
    }
}

// ---------------------------------------------------------------- section

/// What the worker does next for a section.
#[derive(Debug, Clone, PartialEq)]
pub enum SectionStep {
    /// Search the IMAP mailbox through the host for these addresses, then
    /// tell [`SectionLoad::imap`].
    Imap(Vec<String>),
    /// Call each with [`Retry`] (at once), then tell
    /// [`SectionLoad::called`] the results in the same order.
    Call(Vec<HttpRequest>),
    /// The answer, and what to cache.
    Done(SectionAnswer, Option<Box<CacheEntry>>),
}

/// What a section load needs to know about the agent's sources.
#[derive(Debug, Clone, Default)]
pub struct SectionSources {
    /// The scopes the access token carries.
    pub granted: String,
    /// The IMAP address connected (Gmail over IMAP), if any.
    pub imap: Option<String>,
    /// Why the IMAP source must be connected again, if it must.
    pub imap_reconnect: Option<(MailFailure, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum SectionPhase {
    Start,
    GmailList,
    GmailMessages,
    Drive,
    Calendar,
}

/// One section load in progress.
#[derive(Debug, Clone)]
pub struct SectionLoad {
    integration: Integration,
    emails: Vec<String>,
    roots: ApiRoots,
    key: String,
    /// What the cache had, however old (shown offline when the network fails).
    stale: Option<(f64, SectionData)>,
    phase: SectionPhase,
    now_ms: f64,
    account: String,
}

impl SectionLoad {
    pub fn start(
        agent: Option<&PanelAgent>,
        integration: Integration,
        emails: Vec<String>,
        sources: &SectionSources,
        state: &PanelState,
        roots: &ApiRoots,
        now_ms: f64,
    ) -> (SectionLoad, SectionStep) {
        let key = agent.map_or_else(String::new, |a| {
            format!(
                "{} {integration:?} {}",
                a.email,
                emails.join(",").to_lowercase()
            )
        });
        let stale = match state.cached(&key) {
            Some((at, Cached::Section(data))) => Some((*at, data.clone())),
            _ => None,
        };
        let mut load = SectionLoad {
            integration,
            emails: emails.clone(),
            roots: roots.clone(),
            key,
            stale,
            phase: SectionPhase::Start,
            now_ms,
            account: sources.imap.clone().unwrap_or_default(),
        };
        let api =
            agent.is_some_and(PanelAgent::google) && state.usable(integration, &sources.granted);
        let step = load.first(agent, api, sources);
        (load, step)
    }

    fn first(
        &mut self,
        agent: Option<&PanelAgent>,
        api: bool,
        sources: &SectionSources,
    ) -> SectionStep {
        let done = |a| SectionStep::Done(a, None);
        if self.emails.is_empty() {
            return done(SectionAnswer::NoEmail);
        }
        if self.integration == Integration::Gmail && !api {
            // Gmail over IMAP (app password) when the Gmail API is not
            // connected; it does not depend on the sign-in (the host has
            // the password).
            if sources.imap.is_some() {
                return SectionStep::Imap(self.emails.clone());
            }
            // Disconnected because its password must be typed again (the
            // IMAP server changed, or the host has none for it): say so.
            if let Some((failure, detail)) = &sources.imap_reconnect {
                return done(SectionAnswer::Failed {
                    key: failure.message_key().to_owned(),
                    detail: detail.clone(),
                });
            }
        }
        let Some(agent) = agent else {
            return done(SectionAnswer::SignedOut);
        };
        if !agent.google() {
            return done(SectionAnswer::NotGoogle);
        }
        if !api {
            return done(SectionAnswer::NeedsConnect);
        }
        if let Some((at, data)) = &self.stale
            && section::fresh(*at, self.now_ms)
        {
            return done(SectionAnswer::Ready {
                data: data.clone(),
                fetched_ms: *at,
                offline: false,
            });
        }
        self.fetch()
    }

    fn fetch(&mut self) -> SectionStep {
        let r = &self.roots;
        let e = &self.emails;
        let (phase, url) = match self.integration {
            Integration::Gmail => (
                SectionPhase::GmailList,
                google::gmail_list_url(r, e, SHARED_LIMIT),
            ),
            Integration::Drive => (SectionPhase::Drive, google::drive_url(r, e, 3)),
            Integration::Calendar => (
                SectionPhase::Calendar,
                events_url(r, &e[0], self.now_ms as i64),
            ),
        };
        self.phase = phase;
        SectionStep::Call(vec![HttpRequest::get(url)])
    }

    /// The IMAP search's result.
    pub fn imap(&mut self, found: Result<MailSearchResult, (MailFailure, String)>) -> SectionStep {
        let answer = match found {
            Ok(found) => SectionAnswer::Ready {
                data: SectionData::ImapEmails {
                    items: found.messages,
                    see_all: found.see_all,
                    account: self.account.clone(),
                },
                fetched_ms: self.now_ms,
                offline: false,
            },
            Err((failure, detail)) => SectionAnswer::Failed {
                key: failure.message_key().to_owned(),
                detail,
            },
        };
        SectionStep::Done(answer, None)
    }

    /// The calls' results, in the order asked.
    pub fn called(&mut self, got: Vec<Result<String, Failure>>) -> SectionStep {
        let bodies: Result<Vec<String>, Failure> = got.into_iter().collect();
        let bodies = match bodies {
            Ok(b) => b,
            Err(f) => return self.failed(f),
        };
        let first = bodies.first().map(String::as_str).unwrap_or_default();
        let data = match self.phase {
            SectionPhase::GmailList => {
                let ids = google::parse_gmail_ids(first);
                self.phase = SectionPhase::GmailMessages;
                if !ids.is_empty() {
                    return SectionStep::Call(
                        ids.iter()
                            .map(|id| HttpRequest::get(google::gmail_message_url(&self.roots, id)))
                            .collect(),
                    );
                }
                self.emails_data(&[])
            }
            SectionPhase::GmailMessages => self.emails_data(&bodies),
            SectionPhase::Drive => SectionData::Docs {
                items: google::parse_drive(first),
                see_all: google::drive_search_url(&self.emails[0]),
            },
            SectionPhase::Calendar => SectionData::Events {
                items: google::pick_events(
                    google::parse_events(first, &self.emails[0]),
                    self.now_ms as i64,
                    2,
                    3,
                ),
                open: "https://calendar.google.com/calendar/r".into(),
            },
            SectionPhase::Start => return self.failed(Failure::Network(String::new())),
        };
        let entry = CacheEntry {
            key: self.key.clone(),
            value: Cached::Section(data.clone()),
        };
        SectionStep::Done(
            SectionAnswer::Ready {
                data,
                fetched_ms: self.now_ms,
                offline: false,
            },
            Some(Box::new(entry)),
        )
    }

    fn emails_data(&self, bodies: &[String]) -> SectionData {
        let mut items: Vec<_> = bodies
            .iter()
            .filter_map(|b| google::parse_gmail_message(b))
            .collect();
        items.sort_by_key(|m| std::cmp::Reverse(m.date_ms));
        SectionData::Emails {
            items,
            see_all: crate::mail::gmail_search_url(&self.emails),
        }
    }

    fn failed(&mut self, f: Failure) -> SectionStep {
        let answer = match f {
            // Offline: what the cache had, however old, with its age.
            Failure::Network(e) => match self.stale.take() {
                Some((at, data)) => SectionAnswer::Ready {
                    data,
                    fetched_ms: at,
                    offline: true,
                },
                None => SectionAnswer::Failed {
                    key: "sectionOffline".into(),
                    detail: e,
                },
            },
            Failure::SignedOut => SectionAnswer::SignedOut,
            Failure::Api(ApiFailure::InsufficientScope) => SectionAnswer::NeedsConnect,
            f @ Failure::Api(_) => {
                let (key, detail) = f.message();
                SectionAnswer::Failed { key, detail }
            }
        };
        SectionStep::Done(answer, None)
    }
}

/// The shared-events request around `now`.
fn events_url(roots: &ApiRoots, email: &str, now: i64) -> String {
    google::events_url(
        roots,
        email,
        &crate::api::ms_to_rfc3339(now - EVENTS_WINDOW_MS),
        &crate::api::ms_to_rfc3339(now + EVENTS_WINDOW_MS),
    )
}

// ---------------------------------------------------------------- presence

#[path = "panel_presence.rs"]
mod presence;
pub use presence::{PresenceCheck, PresenceStep, own_presence};

/// Parses the saved list of disconnected integrations (unreadable: none).
pub fn disconnected_of(v: &Value) -> Vec<Integration> {
    crate::json::from_value(v.clone()).unwrap_or_default()
}

#[cfg(test)]
#[path = "panel_presence_tests.rs"]
mod presence_tests;
#[cfg(test)]
#[path = "panel_tests.rs"]
mod tests;
