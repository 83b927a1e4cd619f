//! The local contact store, worker side: loads it from IndexedDB, keeps it in
//! step with People (the agent's contacts, and the directory when policy
//! says so) page by page, answers the popup's search as you type, and names
//! the other party of a call. The rules are `ringside_core::contacts`; this
//! module fetches, writes and broadcasts progress.

use std::cell::RefCell;
use std::collections::HashMap;

use ringside_core::auth::provider::ProviderKind;
use ringside_core::contacts::merge::{self, Draft, SaveAnswer};
use ringside_core::contacts::search::Index;
use ringside_core::contacts::sync::{
    PERSON_FIELDS, Step, SyncFailure, SyncState, classify_failure, parse_page,
};
use ringside_core::contacts::{ContactHit, ContactsView, Source, StoredContact};
use ringside_core::context::google::ApiFailure;
use ringside_core::context::section;

use super::api::{ApiError, api_get, api_send};
use super::{broadcast, now_ms, with_worker};
use crate::error::log_warn;

use super::idb;

/// The alarm that keeps the store current.
pub(super) const ALARM: &str = "contacts-sync";
/// Minutes between timed incremental syncs.
const PERIOD_MINUTES: f64 = 15.0;
/// A popup opening syncs when the last run is older than this.
const STALE_MS: f64 = 2_000.0;
const OWNER: &str = "owner";

#[derive(Default)]
struct Store {
    loaded: Option<String>,
    contacts: HashMap<String, StoredContact>,
    index: Index,
    /// Per source, in `Source::ALL` order.
    states: [SyncState; 2],
    syncing: bool,
    error: Option<(String, Vec<String>)>,
}

thread_local! {
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut Store) -> R) -> R {
    STORE.with(|s| f(s.borrow_mut().get_or_insert_with(Store::default)))
}

fn slot(source: Source) -> usize {
    match source {
        Source::Google => 0,
        Source::Directory => 1,
    }
}

fn meta_key(source: Source) -> String {
    format!("sync:{}", source.key())
}

/// The Google agent's email, lower case; None otherwise.
fn google_agent() -> Option<String> {
    with_worker(|w| {
        w.session
            .view
            .profile
            .as_ref()
            .filter(|p| w.session.view.signed_in() && p.provider == ProviderKind::Google)
            .map(|p| p.email.to_lowercase())
    })
    .flatten()
}

/// Loads the store for `owner`; another agent's contacts are dropped first.
async fn load(owner: &str) -> Result<(), crate::error::JsError> {
    if with(|s| s.loaded.as_deref() == Some(owner)) {
        return Ok(());
    }
    let stored_owner: Option<String> = idb::meta(OWNER).await?;
    if stored_owner.as_deref() != Some(owner) {
        idb::clear().await?;
        idb::write(&[], &[], &[(OWNER, owner.to_owned())]).await?;
    }
    let all: Vec<StoredContact> = idb::all(idb::CONTACTS).await?;
    let mut states: [SyncState; 2] = Default::default();
    for source in Source::ALL {
        if let Some(st) = idb::meta::<SyncState>(&meta_key(source)).await? {
            states[slot(source)] = st;
        }
    }
    with(|s| {
        s.index = Index::new(&all);
        s.contacts = all.into_iter().map(|c| (c.id.clone(), c)).collect();
        s.states = states;
        s.loaded = Some(owner.to_owned());
    });
    Ok(())
}

/// What the popup shows.
pub(super) fn view() -> ContactsView {
    with(|s| {
        // The run in progress: what it received, and the source's total
        // when the source says (People gives it for the agent's contacts).
        let running = s
            .states
            .iter()
            .find(|st| st.running && s.syncing)
            .map(|st| (st.fetched, st.total.filter(|_| st.full)));
        ContactsView {
            count: s.contacts.len() as u64,
            syncing: running.or(s.syncing.then_some((0, None))),
            synced_ms: s.states.iter().filter_map(|st| st.completed_ms).max(),
            error: s.error.clone(),
        }
    })
}

/// Search as you type (only once the store is loaded).
pub(super) async fn search(query: &str) -> Vec<ContactHit> {
    if let Some(me) = google_agent()
        && let Err(e) = load(&me).await
    {
        log_warn(&format!("contacts: {e}"));
    }
    with(|s| {
        s.index
            .search(query, 8)
            .iter()
            .filter_map(|h| s.contacts.get(&h.id))
            .map(ContactHit::from)
            .collect()
    })
}

/// The contact with this number (a call's other party), from memory.
pub(super) fn caller(number: &str) -> Option<ContactHit> {
    let q = ringside_core::context::ContactQuery::from_call(number)?;
    let ringside_core::context::ContactQuery::Phone(p) = q else {
        return None;
    };
    with(|s| {
        let id = s.index.by_number(&p)?;
        s.contacts.get(id).map(ContactHit::from)
    })
}

/// Names of the known numbers in a `detect` answer (E.164 → name), so call
/// buttons in pages can say whom they call.
pub(super) fn names_for(found: &serde_json::Value) -> serde_json::Value {
    let numbers = found["texts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["e164"].as_str())
        .chain(
            found["links"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| h["target"]["e164"].as_str()),
        );
    let mut names = serde_json::Map::new();
    with(|s| {
        for n in numbers {
            if let Some(c) = s.index.by_number(n).and_then(|id| s.contacts.get(id)) {
                names.insert(n.to_owned(), serde_json::Value::String(c.name.clone()));
            }
        }
    });
    serde_json::Value::Object(names)
}

/// The stored contact for the side panel: by number or email.
pub(super) async fn lookup(
    q: &ringside_core::context::ContactQuery,
) -> Option<ringside_core::context::Contact> {
    let me = google_agent()?;
    load(&me).await.ok()?;
    with(|s| {
        let id = match q {
            ringside_core::context::ContactQuery::Phone(p) => s.index.by_number(p),
            ringside_core::context::ContactQuery::Email(e) => s.index.by_email(e),
            ringside_core::context::ContactQuery::Name(_) => None,
        }?;
        s.contacts.get(id).map(StoredContact::to_card)
    })
}

/// Forgets the store (sign-out).
pub(super) async fn forget() {
    STORE.with(|s| s.borrow_mut().take());
    if let Err(e) = idb::clear().await {
        log_warn(&format!("contacts: {e}"));
    }
}

/// Starts the timer (once per worker start; the alarm itself persists).
pub(super) async fn schedule() {
    if let Err(e) = crate::chrome::ensure_alarm(ALARM, PERIOD_MINUTES).await {
        log_warn(&format!(
            "contacts timer: {}",
            crate::error::JsError::from(e)
        ));
    }
}

/// Syncs when the last run is older than a few seconds (the popup opened).
pub(super) async fn sync_if_stale() {
    let last = with(|s| s.states.iter().filter_map(|st| st.completed_ms).max());
    if last.is_none_or(|t| now_ms() - t as f64 > STALE_MS) {
        sync().await;
    }
}

/// One sync of every source, unless one is running.
pub(super) async fn sync() {
    let Some(me) = google_agent() else {
        return;
    };
    if with(|s| std::mem::replace(&mut s.syncing, true)) {
        return;
    }
    if let Err(e) = load(&me).await {
        log_warn(&format!("contacts: {e}"));
        with(|s| s.syncing = false);
        return;
    }
    with(|s| s.error = None);
    broadcast();
    let directory = with_worker(|w| w.settings.contacts_directory).unwrap_or(false);
    for source in Source::ALL {
        if source == Source::Directory && !directory {
            continue;
        }
        if let Err(e) = run(source, &me).await {
            with(|s| s.error = Some(e));
            break;
        }
    }
    with(|s| s.syncing = false);
    broadcast();
}

/// One run of one source, page by page; Err is the message for the agent.
async fn run(source: Source, me: &str) -> Result<(), (String, Vec<String>)> {
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let mut state = with(|s| s.states[slot(source)].clone());
    state.begin();
    let mut attempt = 0;
    loop {
        // The agent may sign out (or another may sign in) meanwhile.
        if google_agent().as_deref() != Some(me) {
            return Ok(());
        }
        let answer = match api_get(&state.url(&roots, source)).await {
            Ok(a) => a,
            Err(ApiError::SignedOut) => return Ok(()),
            Err(ApiError::Failed(e)) => return Err(("contactsOffline".into(), vec![e])),
        };
        if answer.status != 200 {
            match classify_failure(answer.status, &answer.body, answer.retry_after.as_deref()) {
                SyncFailure::ExpiredToken => {
                    state.expired();
                    continue;
                }
                SyncFailure::NoAccess { message } => {
                    return Err(("contactsNoAccess".into(), vec![message]));
                }
                SyncFailure::Api(ApiFailure::InsufficientScope) => {
                    let key = match source {
                        Source::Google => "contactsNeedsAccess",
                        Source::Directory => "contactsDirectoryNeedsAccess",
                    };
                    return Err((key.into(), vec![]));
                }
                SyncFailure::Api(f) => match section::retry_delay_ms(&f, attempt) {
                    Some(ms) => {
                        super::signin::sleep(ms).await;
                        attempt += 1;
                        continue;
                    }
                    // Paused: the page token is kept, the next sync resumes here.
                    None => {
                        return Err((
                            "contactsSyncPaused".into(),
                            vec![format!("HTTP {}", answer.status)],
                        ));
                    }
                },
            }
        }
        attempt = 0;
        let Some(mut page) = parse_page(source, &answer.body) else {
            return Err((
                "contactsSyncPaused".into(),
                vec!["unreadable answer".into()],
            ));
        };
        let step = state.apply(&mut page, now_ms() as i64);
        // Memory first: after the page's contacts are in, a full run's sweep
        // is whatever of this source still has an older generation.
        let mut deletes = page.deletions.clone();
        with(|s| {
            for c in &page.upserts {
                s.index.upsert(c);
                s.contacts.insert(c.id.clone(), c.clone());
            }
            if let Step::Done {
                sweep_below: Some(g),
            } = step
            {
                deletes.extend(
                    s.contacts
                        .values()
                        .filter(|c| c.source == source && c.generation < g)
                        .map(|c| c.id.clone()),
                );
            }
            for id in &deletes {
                s.contacts.remove(id);
                s.index.remove(id);
            }
        });
        let key = meta_key(source);
        if let Err(e) = idb::write(&page.upserts, &deletes, &[(key.as_str(), &state)]).await {
            // The sync state was not saved: the next run fetches this page again.
            return Err(("contactsStoreFailed".into(), vec![e.to_string()]));
        }
        with(|s| s.states[slot(source)] = state.clone());
        broadcast();
        if matches!(step, Step::Done { .. }) {
            return Ok(());
        }
    }
}

/// The scope that lets Ringside write the agent's contacts (asked the first
/// time they save, by incremental authorization).
const WRITE_SCOPE: &str = "https://www.googleapis.com/auth/contacts";

/// Keeps a contact the source just returned, in IndexedDB and in memory.
async fn keep(c: &StoredContact) -> Result<(), crate::error::JsError> {
    let source = c.source;
    let mut c = c.clone();
    c.generation = with(|s| s.states[slot(source)].generation);
    idb::write::<String>(std::slice::from_ref(&c), &[], &[]).await?;
    with(|s| {
        s.index.upsert(&c);
        s.contacts.insert(c.id.clone(), c);
    });
    Ok(())
}

fn failed(status: u16, body: &str) -> SaveAnswer {
    let detail = match ringside_core::context::google::classify(status, body, None) {
        ApiFailure::Refused { status, message } => format!("HTTP {status}: {message}"),
        other => format!("{other:?}"),
    };
    SaveAnswer::Failed {
        key: "contactSaveFailed".into(),
        detail,
    }
}

/// Creates (no id) or edits one of the agent's contacts. An edit carries the
/// stored etag; a stale one is merged with the source's version
/// (`ringside_core::contacts::merge`) and sent once more.
pub(super) async fn save(id: Option<String>, draft: Draft) -> SaveAnswer {
    let Some(me) = google_agent() else {
        return SaveAnswer::SignedOut;
    };
    if load(&me).await.is_err() {
        return SaveAnswer::Failed {
            key: "contactsStoreFailed".into(),
            detail: String::new(),
        };
    }
    let mine = match draft.cleaned() {
        Ok(d) => d,
        Err(e) => {
            let (key, subs) = e.message();
            return SaveAnswer::Invalid { key, subs };
        }
    };
    let stored = match &id {
        Some(id) => match with(|s| s.contacts.get(id).cloned()) {
            Some(c) if !c.source.editable() => return SaveAnswer::ReadOnly,
            Some(c) => Some(c),
            None => return SaveAnswer::Gone,
        },
        None => None,
    };
    let granted = super::reauth::granted_scope().await.unwrap_or_default();
    if !granted.split_whitespace().any(|s| s == WRITE_SCOPE)
        && let Err(f) = super::reauth::add_scope(WRITE_SCOPE).await
    {
        let n = f.notice("");
        return SaveAnswer::Failed {
            key: n.key,
            detail: n.subs.join(" "),
        };
    }
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let send = |method: Option<&'static str>, url: String, body: serde_json::Value| async move {
        api_send(method, &url, Some(&body)).await
    };
    let parse = |body: &str| -> Option<StoredContact> {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        ringside_core::contacts::from_person(Source::Google, &v)
    };
    let Some(stored) = stored else {
        let url = format!(
            "{}/people:createContact?personFields={PERSON_FIELDS}",
            roots.people
        );
        return match send(None, url, merge::person_body(&mine, None)).await {
            Ok(a) if a.status == 200 => match parse(&a.body) {
                Some(c) => {
                    let _ = keep(&c).await;
                    SaveAnswer::Saved {
                        contact: ContactHit::from(&c),
                        lost: vec![],
                    }
                }
                None => failed(a.status, &a.body),
            },
            Ok(a) => failed(a.status, &a.body),
            Err(ApiError::SignedOut) => SaveAnswer::SignedOut,
            Err(ApiError::Failed(e)) => SaveAnswer::Failed {
                key: "contactSaveFailed".into(),
                detail: e,
            },
        };
    };
    let update = format!(
        "{}/{}:updateContact?updatePersonFields={}&personFields={PERSON_FIELDS}",
        roots.people,
        stored.resource,
        merge::UPDATE_FIELDS
    );
    let mut body = merge::person_body(&mine, Some(&stored.etag));
    let mut lost = vec![];
    for round in 0..2 {
        let a = match send(Some("PATCH"), update.clone(), body.clone()).await {
            Ok(a) => a,
            Err(ApiError::SignedOut) => return SaveAnswer::SignedOut,
            Err(ApiError::Failed(e)) => {
                return SaveAnswer::Failed {
                    key: "contactSaveFailed".into(),
                    detail: e,
                };
            }
        };
        if a.status == 200 {
            return match parse(&a.body) {
                Some(c) => {
                    let _ = keep(&c).await;
                    SaveAnswer::Saved {
                        contact: ContactHit::from(&c),
                        lost,
                    }
                }
                None => failed(a.status, &a.body),
            };
        }
        if a.status == 404 {
            forget_one(&stored.id).await;
            return SaveAnswer::Gone;
        }
        if round > 0 || !merge::is_stale_etag(a.status, &a.body) {
            return failed(a.status, &a.body);
        }
        // Someone changed it meanwhile: the current version, then the merge.
        let get = format!(
            "{}/{}?personFields={PERSON_FIELDS}",
            roots.people, stored.resource
        );
        let theirs = match api_get(&get).await {
            Ok(g) if g.status == 200 => match parse(&g.body) {
                Some(c) => c,
                None => return failed(g.status, &g.body),
            },
            Ok(g) if g.status == 404 => {
                forget_one(&stored.id).await;
                return SaveAnswer::Gone;
            }
            Ok(g) => return failed(g.status, &g.body),
            Err(ApiError::SignedOut) => return SaveAnswer::SignedOut,
            Err(ApiError::Failed(e)) => {
                return SaveAnswer::Failed {
                    key: "contactSaveFailed".into(),
                    detail: e,
                };
            }
        };
        let merged = merge::merge(&Draft::of(&stored), &mine, &Draft::of(&theirs));
        lost = merged.lost;
        body = merge::person_body(&merged.draft, Some(&theirs.etag));
    }
    SaveAnswer::Failed {
        key: "contactSaveFailed".into(),
        detail: "the contact kept changing".into(),
    }
}

/// Drops one contact (deleted at the source).
async fn forget_one(id: &str) {
    let _ = idb::write::<String>(&[], &[id.to_owned()], &[]).await;
    with(|s| {
        s.contacts.remove(id);
        s.index.remove(id);
    });
}
