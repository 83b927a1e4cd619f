//! The side panel's context, worker side: the contact from the local store
//! (sw/contacts.rs) or else the People API,
//! and each section (Gmail, Drive, Calendar) on its own, with retries that
//! honour Retry-After, a short per-contact cache, cached data when offline,
//! and per-integration connect (incremental authorization) and disconnect.
//! Requests and parsing are `ringside_core::context`; this module fetches.

use std::collections::HashMap;

use ringside_core::auth::provider::ProviderKind;
use ringside_core::context::google::{self, ApiFailure};
use ringside_core::context::section::{
    self, ContactAnswer, PresenceAnswer, SectionAnswer, SectionData,
};
use ringside_core::context::{ContactQuery, Integration, Presence, SharedEvent, matches};
use serde_json::{Value, json};

use super::api::{ApiError, api_request};
use super::kernel::{now_ms, with_worker};
use crate::chrome::{self, Area};
use crate::error::log_warn;

/// storage.local: the integrations the agent disconnected (no secrets).
const KEY_DISCONNECTED: &str = "contextDisconnected";
/// Shared events: this far back and ahead.
const EVENTS_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// What the cache keeps (typed: no JSON round trip, which would also weigh
/// on the wasm).
#[derive(Clone)]
enum Cached {
    Contact(ContactAnswer),
    Section(SectionData),
    Presence(Presence),
}

#[derive(Default)]
pub(super) struct ContextState {
    /// key → (fetched at, answer).
    cache: HashMap<String, (f64, Cached)>,
    disconnected: Vec<Integration>,
}

/// At startup: the integrations the agent turned off.
pub(super) async fn restore() {
    let local = chrome::storage_get(Area::Local, Some(&[KEY_DISCONNECTED]))
        .await
        .unwrap_or_default();
    let off: Vec<Integration> =
        serde_json::from_value(local[KEY_DISCONNECTED].clone()).unwrap_or_default();
    with_worker(|w| w.context.disconnected = off);
}

/// Who is asking: None when signed out; the provider and email otherwise.
fn agent() -> Option<(ProviderKind, String)> {
    with_worker(|w| {
        w.auth
            .profile()
            .filter(|_| w.auth.view().signed_in())
            .map(|p| (p.provider, p.email.clone()))
    })
    .flatten()
}

enum Fetch {
    SignedOut,
    Network(String),
    Api(ApiFailure),
}

/// One Google API call with retries: 429 and 5xx wait (Retry-After when
/// given, else backoff) and try again, up to [`section::MAX_ATTEMPTS`].
async fn google_call(url: &str, body: Option<&Value>) -> Result<String, Fetch> {
    let mut attempt = 0;
    loop {
        let answer = match api_request(url, body).await {
            Ok(a) => a,
            Err(ApiError::SignedOut) => return Err(Fetch::SignedOut),
            Err(ApiError::Failed(e)) => return Err(Fetch::Network(e)),
        };
        if (200..300).contains(&answer.status) {
            return Ok(answer.body);
        }
        let failure = google::classify(answer.status, &answer.body, answer.retry_after.as_deref());
        match section::retry_delay_ms(&failure, attempt) {
            Some(ms) => {
                super::kernel::sleep(ms).await;
                attempt += 1;
            }
            None => return Err(Fetch::Api(failure)),
        }
    }
}

fn cached(key: &str) -> Option<(f64, Cached)> {
    with_worker(|w| w.context.cache.get(key).cloned()).flatten()
}

fn remember(key: String, value: Cached) {
    let now = now_ms();
    with_worker(|w| {
        // A short cache: old entries go as new ones come.
        w.context
            .cache
            .retain(|_, (at, _)| now - *at < section::CACHE_TTL_MS * 12.0);
        w.context.cache.insert(key, (now, value));
    });
}

fn failed(f: &ApiFailure) -> (String, String) {
    let detail = match f {
        ApiFailure::Refused { status, message } => format!("HTTP {status}: {message}"),
        ApiFailure::Server { status, .. } => format!("HTTP {status}"),
        other => format!("{other:?}"),
    };
    (section::failure_key(f).to_owned(), detail)
}

/// The contact for a query: the agent's contacts, then the directory.
pub(super) async fn contact(query: ContactQuery) -> ContactAnswer {
    let Some((kind, me)) = agent() else {
        return ContactAnswer::SignedOut;
    };
    if kind != ProviderKind::Google {
        // A Microsoft agent's synced Outlook contacts still name the person.
        let contact = super::contacts::lookup(&query).await;
        return ContactAnswer::NotGoogle { contact };
    }
    let key = format!("{me} contact {}", query.key());
    if let Some((at, Cached::Contact(a))) = cached(&key)
        && section::fresh(at, now_ms())
    {
        return a;
    }
    // The local contact store first (synced contacts and directory), the API second.
    if let Some(contact) = super::contacts::lookup(&query).await {
        let answer = ContactAnswer::Found { contact };
        remember(key, Cached::Contact(answer.clone()));
        return answer;
    }
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let mut answer = ContactAnswer::Unknown;
    for (i, url) in google::people_urls(&roots, &query).iter().enumerate() {
        match google_call(url, None).await {
            Ok(body) => {
                if let Some(c) = google::parse_people(&body)
                    .into_iter()
                    .find(|c| matches(c, &query))
                {
                    answer = ContactAnswer::Found { contact: c };
                    break;
                }
            }
            // The directory needs a scope sign-in does not ask: skipped.
            Err(Fetch::Api(ApiFailure::InsufficientScope)) if i > 0 => {}
            Err(Fetch::Api(ApiFailure::InsufficientScope)) => {
                answer = ContactAnswer::NeedsConnect;
                break;
            }
            Err(Fetch::SignedOut) => return ContactAnswer::SignedOut,
            Err(Fetch::Network(e)) => {
                return ContactAnswer::Failed {
                    key: "sectionOffline".into(),
                    detail: e,
                };
            }
            Err(Fetch::Api(f)) if i == 0 => {
                let (key, detail) = failed(&f);
                return ContactAnswer::Failed { key, detail };
            }
            Err(Fetch::Api(f)) => log_warn(&format!("directory lookup: {f:?}")),
        }
    }
    remember(key, Cached::Contact(answer.clone()));
    answer
}

/// Whether the integration's scope is granted and the agent has not
/// disconnected it.
async fn usable(integration: Integration) -> bool {
    let off = with_worker(|w| w.context.disconnected.contains(&integration)).unwrap_or(true);
    let granted = super::session::granted_scope().await.unwrap_or_default();
    !off && integration.granted_in(&granted)
}

/// One section for a contact's addresses.
pub(super) async fn section(integration: Integration, emails: Vec<String>) -> SectionAnswer {
    if emails.is_empty() {
        return SectionAnswer::NoEmail;
    }
    let agent = agent();
    let google = agent
        .as_ref()
        .is_some_and(|(k, _)| *k == ProviderKind::Google);
    let api = google && usable(integration).await;
    // Gmail over IMAP (app password) when the Gmail API is not connected;
    // it does not depend on the sign-in (the host has the password).
    let imap = with_worker(|w| w.mail.connected.is_some()).unwrap_or(false);
    if integration == Integration::Gmail && !api && imap {
        return imap_emails(emails).await;
    }
    // The source was disconnected because its password must be typed again
    // (the IMAP server changed, or the host has none for it): say so.
    if integration == Integration::Gmail
        && !api
        && let Some((failure, detail)) = with_worker(|w| w.mail.reconnect_needed()).flatten()
    {
        return SectionAnswer::Failed {
            key: failure.message_key().to_owned(),
            detail,
        };
    }
    let Some((kind, me)) = agent else {
        return SectionAnswer::SignedOut;
    };
    if kind != ProviderKind::Google {
        return SectionAnswer::NotGoogle;
    }
    if !api {
        return SectionAnswer::NeedsConnect;
    }
    let key = format!("{me} {integration:?} {}", emails.join(",").to_lowercase());
    let cache = match cached(&key) {
        Some((at, Cached::Section(data))) => Some((at, data)),
        _ => None,
    };
    if let Some((at, data)) = &cache
        && section::fresh(*at, now_ms())
    {
        return SectionAnswer::Ready {
            data: data.clone(),
            fetched_ms: *at,
            offline: false,
        };
    }
    match fetch(integration, &emails).await {
        Ok(data) => {
            remember(key, Cached::Section(data.clone()));
            SectionAnswer::Ready {
                data,
                fetched_ms: now_ms(),
                offline: false,
            }
        }
        Err(Fetch::Network(e)) => match cache {
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
        Err(Fetch::SignedOut) => SectionAnswer::SignedOut,
        Err(Fetch::Api(ApiFailure::InsufficientScope)) => SectionAnswer::NeedsConnect,
        Err(Fetch::Api(f)) => {
            let (key, detail) = failed(&f);
            SectionAnswer::Failed { key, detail }
        }
    }
}

async fn imap_emails(emails: Vec<String>) -> SectionAnswer {
    match super::mail::search(emails).await {
        Ok(found) => SectionAnswer::Ready {
            data: SectionData::ImapEmails {
                items: found.messages,
                see_all: found.see_all,
                account: with_worker(|w| w.mail.connected.clone())
                    .flatten()
                    .unwrap_or_default(),
            },
            fetched_ms: now_ms(),
            offline: false,
        },
        Err((failure, detail)) => SectionAnswer::Failed {
            key: failure.message_key().to_owned(),
            detail,
        },
    }
}

async fn fetch(integration: Integration, emails: &[String]) -> Result<SectionData, Fetch> {
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    match integration {
        Integration::Gmail => {
            let list = google_call(&google::gmail_list_url(&roots, emails, 5), None).await?;
            let ids = google::parse_gmail_ids(&list);
            let gets = ids.iter().map(|id| {
                let url = google::gmail_message_url(&roots, id);
                async move { google_call(&url, None).await }
            });
            let mut items = vec![];
            for got in futures::future::join_all(gets).await {
                if let Some(m) = google::parse_gmail_message(&got?) {
                    items.push(m);
                }
            }
            items.sort_by_key(|m| std::cmp::Reverse(m.date_ms));
            Ok(SectionData::Emails {
                items,
                see_all: ringside_core::mail::gmail_search_url(emails),
            })
        }
        Integration::Drive => {
            let body = google_call(&google::drive_url(&roots, emails, 3), None).await?;
            Ok(SectionData::Docs {
                items: google::parse_drive(&body),
                see_all: google::drive_search_url(&emails[0]),
            })
        }
        Integration::Calendar => Ok(SectionData::Events {
            items: events(&roots, &emails[0]).await?,
            open: "https://calendar.google.com/calendar/r".into(),
        }),
    }
}

async fn all_events(
    roots: &ringside_core::context::ApiRoots,
    email: &str,
) -> Result<Vec<SharedEvent>, Fetch> {
    let now = now_ms() as i64;
    let url = google::events_url(
        roots,
        email,
        &google::ms_to_rfc3339(now - EVENTS_WINDOW_MS),
        &google::ms_to_rfc3339(now + EVENTS_WINDOW_MS),
    );
    let body = google_call(&url, None).await?;
    Ok(google::parse_events(&body, email))
}

async fn events(
    roots: &ringside_core::context::ApiRoots,
    email: &str,
) -> Result<Vec<SharedEvent>, Fetch> {
    let all = all_events(roots, email).await?;
    Ok(google::pick_events(all, now_ms() as i64, 2, 3))
}

/// Whether `email` is in a meeting now (Calendar connected only). For the
/// agent themself (`own`), the name comes from their own events.
pub(super) async fn presence(email: String) -> PresenceAnswer {
    let Some((kind, me)) = agent() else {
        return PresenceAnswer::Unknown;
    };
    if kind != ProviderKind::Google || !usable(Integration::Calendar).await {
        return PresenceAnswer::Unknown;
    }
    let key = format!("{me} presence {}", email.to_lowercase());
    let own = email.eq_ignore_ascii_case(&me);
    if !own
        && let Some((at, Cached::Presence(presence))) = cached(&key)
        && now_ms() - at < section::PRESENCE_TTL_MS
    {
        return PresenceAnswer::Known { presence };
    }
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let now = now_ms() as i64;
    let body = google::freebusy_body(std::slice::from_ref(&email), now, 1);
    let Ok(fb) = google_call(&google::freebusy_url(&roots), Some(&body)).await else {
        return PresenceAnswer::Unknown;
    };
    // The event's name only when the agent may see it: a shared event (or,
    // for the agent, one of their own).
    let visible = if own {
        own_events(&roots, now).await
    } else {
        all_events(&roots, &email).await.unwrap_or_default()
    };
    match google::presence(&fb, &email, now, &visible) {
        Some(presence) => {
            remember(key, Cached::Presence(presence.clone()));
            PresenceAnswer::Known { presence }
        }
        None => PresenceAnswer::Unknown,
    }
}

async fn own_events(roots: &ringside_core::context::ApiRoots, now: i64) -> Vec<SharedEvent> {
    let url = format!(
        "{}/calendars/primary/events?timeMin={}&timeMax={}&singleEvents=true&orderBy=startTime&maxResults=10",
        roots.calendar,
        form_urlencoded::byte_serialize(google::ms_to_rfc3339(now - 12 * 3_600_000).as_bytes())
            .collect::<String>(),
        form_urlencoded::byte_serialize(google::ms_to_rfc3339(now + 60_000).as_bytes())
            .collect::<String>(),
    );
    let me = agent().map(|(_, e)| e).unwrap_or_default();
    match google_call(&url, None).await {
        Ok(body) => google::parse_events(&body, &me),
        Err(_) => vec![],
    }
}

/// The agent's own meeting status for the popup.
pub(super) async fn refresh_own_presence() {
    let Some((_, me)) = agent() else {
        return;
    };
    let p = match presence(me).await {
        PresenceAnswer::Known { presence } => Some(presence),
        PresenceAnswer::Unknown => None,
    };
    let p = p.filter(|p| matches!(p, Presence::InMeeting { .. }));
    if let Some(Presence::InMeeting { until, .. }) = &p
        && let Some(end) = google::rfc3339_ms(until)
    {
        // "In a meeting" until it ends: look again then.
        let wait = (end as f64 - now_ms()).clamp(1_000.0, 3_600_000.0) as u32;
        chrome::set_timeout(wait, || {
            wasm_bindgen_futures::spawn_local(refresh_own_presence())
        });
    }
    let changed = with_worker(|w| {
        let changed = w.my_presence != p;
        w.my_presence = p;
        changed
    })
    .unwrap_or(false);
    if changed {
        super::kernel::broadcast();
    }
}

/// "Connect": asks for the scope alone when it is not granted yet.
pub(super) async fn connect(
    integration: Integration,
) -> Result<(), ringside_core::auth::session::Notice> {
    let granted = super::session::granted_scope().await.unwrap_or_default();
    if !integration.granted_in(&granted) {
        super::signin::add_scope(integration.scope())
            .await
            .map_err(|f| f.notice(""))?;
    }
    let off = with_worker(|w| {
        w.context.disconnected.retain(|i| *i != integration);
        w.context.disconnected.clone()
    })
    .unwrap_or_default();
    let _ = chrome::storage_set(Area::Local, &json!({ KEY_DISCONNECTED: off })).await;
    if integration == Integration::Calendar {
        wasm_bindgen_futures::spawn_local(refresh_own_presence());
    }
    Ok(())
}

/// The gear's "Disconnect": Ringside stops using the scope and drops what it
/// cached. Google keeps the grant (it is revoked as a whole, at sign-out).
pub(super) async fn disconnect(integration: Integration) {
    let tag = format!("{integration:?}");
    let off = with_worker(|w| {
        if !w.context.disconnected.contains(&integration) {
            w.context.disconnected.push(integration);
        }
        w.context.cache.retain(|k, _| !k.contains(&tag));
        w.context.disconnected.clone()
    })
    .unwrap_or_default();
    let _ = chrome::storage_set(Area::Local, &json!({ KEY_DISCONNECTED: off })).await;
}

/// Which integrations are connected now (for the panel's gear and badges).
pub(super) async fn connected() -> Vec<Integration> {
    let mut out = vec![];
    for i in Integration::ALL {
        if usable(i).await {
            out.push(i);
        }
    }
    out
}
