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
const ALARM: &str = "contacts-sync";
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
    /// Bumped when the store is forgotten (sign-out): a sync or save that
    /// started before must not write into the next agent's store.
    static EPOCH: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// A load from IndexedDB in progress (one at a time).
    static LOADING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether work started at `epoch` for `me` may still touch the store.
fn current(epoch: u64, me: &str) -> bool {
    EPOCH.with(|e| e.get()) == epoch
        && google_agent().as_deref() == Some(me)
        && with(|s| s.loaded.as_deref() == Some(me))
}

fn epoch() -> u64 {
    EPOCH.with(|e| e.get())
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
    while LOADING.with(|l| l.get()) {
        super::signin::sleep(20).await;
    }
    if with(|s| s.loaded.as_deref() == Some(owner)) {
        return Ok(());
    }
    LOADING.with(|l| l.set(true));
    let loaded = load_now(owner).await;
    LOADING.with(|l| l.set(false));
    loaded
}

async fn load_now(owner: &str) -> Result<(), crate::error::JsError> {
    let started = epoch();
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
    if epoch() != started {
        return Err(crate::error::JsError("signed out while loading".into()));
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
    EPOCH.with(|e| e.set(e.get() + 1));
    STORE.with(|s| s.borrow_mut().take());
    if let Err(e) = idb::clear().await {
        log_warn(&format!("contacts: {e}"));
    }
}

/// `chrome.alarms.onAlarm`: the contact sync's timer.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn sw_on_alarm(name: String) {
    if name == ALARM {
        wasm_bindgen_futures::spawn_local(sync());
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
    let started = epoch();
    let directory = with_worker(|w| w.settings.contacts_directory).unwrap_or(false);
    if !directory {
        drop_directory(started, &me).await;
    }
    for source in Source::ALL {
        if source == Source::Directory && !directory {
            continue;
        }
        if let Err(e) = run(source, &me, started).await {
            if current(started, &me) {
                with(|s| s.error = Some(e));
            }
            break;
        }
    }
    if epoch() == started {
        with(|s| s.syncing = false);
    }
    broadcast();
}

/// The administrator turned the directory off: its copy goes.
async fn drop_directory(started: u64, me: &str) {
    let ids: Vec<String> = with(|s| {
        s.contacts
            .values()
            .filter(|c| c.source == Source::Directory)
            .map(|c| c.id.clone())
            .collect()
    });
    let fresh = SyncState::default();
    let has_state = with(|s| s.states[slot(Source::Directory)] != fresh);
    if ids.is_empty() && !has_state {
        return;
    }
    let key = meta_key(Source::Directory);
    if idb::write(&[], &ids, &[(key.as_str(), &fresh)])
        .await
        .is_ok()
        && current(started, me)
    {
        with(|s| {
            for id in &ids {
                s.contacts.remove(id);
                s.index.remove(id);
            }
            s.states[slot(Source::Directory)] = fresh;
        });
    }
}

/// One run of one source, page by page; Err is the message for the agent.
async fn run(source: Source, me: &str, started: u64) -> Result<(), (String, Vec<String>)> {
    let roots = with_worker(|w| w.settings.api_roots()).unwrap_or_default();
    let mut state = with(|s| s.states[slot(source)].clone());
    state.begin();
    let mut attempt = 0;
    let mut restarted = false;
    loop {
        let answer = match api_get(&state.url(&roots, source)).await {
            Ok(a) => a,
            Err(ApiError::SignedOut) => return Ok(()),
            Err(ApiError::Failed(e)) => return Err(("contactsOffline".into(), vec![e])),
        };
        // The agent may have signed out (or another signed in) meanwhile.
        if !current(started, me) {
            return Ok(());
        }
        if answer.status == 400
            && state.page_token.is_some()
            && !restarted
            && classify_failure(400, &answer.body, None) != SyncFailure::ExpiredToken
        {
            // A page token the source no longer takes: this run starts over.
            restarted = true;
            state.running = false;
            state.begin();
            continue;
        }
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
                    None if f.retryable() => {
                        return Err((
                            "contactsSyncPaused".into(),
                            vec![format!("HTTP {}", answer.status)],
                        ));
                    }
                    None => {
                        return Err((
                            "contactsSyncFailed".into(),
                            vec![format!("HTTP {}", answer.status)],
                        ));
                    }
                },
            }
        }
        attempt = 0;
        let Some(mut page) = parse_page(source, &answer.body) else {
            return Err(("contactsUnreadable".into(), vec![]));
        };
        let step = state.apply(&mut page, now_ms() as i64);
        // A full run's sweep: this source's entries it did not see.
        let mut deletes = page.deletions.clone();
        if let Step::Done {
            sweep_below: Some(g),
        } = step
        {
            let seen: std::collections::HashSet<&str> =
                page.upserts.iter().map(|c| c.id.as_str()).collect();
            deletes.extend(with(|s| {
                s.contacts
                    .values()
                    .filter(|c| {
                        c.source == source && c.generation < g && !seen.contains(c.id.as_str())
                    })
                    .map(|c| c.id.clone())
                    .collect::<Vec<_>>()
            }));
        }
        // IndexedDB first: memory only follows what was written.
        let key = meta_key(source);
        if let Err(e) = idb::write(&page.upserts, &deletes, &[(key.as_str(), &state)]).await {
            // The sync state was not saved: the next run fetches this page again.
            return Err(("contactsStoreFailed".into(), vec![e.to_string()]));
        }
        if !current(started, me) {
            return Ok(());
        }
        with(|s| {
            for id in &deletes {
                s.contacts.remove(id);
                s.index.remove(id);
            }
            for c in page.upserts {
                s.index.upsert(&c);
                s.contacts.insert(c.id.clone(), c);
            }
            s.states[slot(source)] = state.clone();
        });
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
async fn keep(c: &StoredContact, started: u64, me: &str) {
    let source = c.source;
    let mut c = c.clone();
    c.generation = with(|s| s.states[slot(source)].generation);
    if idb::write::<String>(std::slice::from_ref(&c), &[], &[])
        .await
        .is_ok()
        && current(started, me)
    {
        with(|s| {
            s.index.upsert(&c);
            s.contacts.insert(c.id.clone(), c);
        });
    }
}

/// Drops one contact (deleted at the source).
async fn forget_one(id: &str, started: u64, me: &str) {
    if idb::write::<String>(&[], &[id.to_owned()], &[])
        .await
        .is_ok()
        && current(started, me)
    {
        with(|s| {
            s.contacts.remove(id);
            s.index.remove(id);
        });
    }
}

fn failed(detail: String) -> SaveAnswer {
    SaveAnswer::Failed {
        key: "contactSaveFailed".into(),
        detail,
    }
}

fn api_failed(e: ApiError) -> SaveAnswer {
    match e {
        ApiError::SignedOut => SaveAnswer::SignedOut,
        ApiError::Failed(e) => failed(e),
    }
}

fn http_failed(status: u16) -> SaveAnswer {
    failed(format!("HTTP {status}"))
}

/// What a save sends: the edited fields, keeping each number's label.
fn body(stored: Option<&StoredContact>, d: &Draft, etag: Option<&str>) -> serde_json::Value {
    let kind_of = |raw: &str| -> Option<String> {
        stored?.phones.iter().find(|p| p.raw == raw)?.kind.clone()
    };
    merge::person_body(d, etag, &kind_of)
}

/// Creates (no id) or edits one of the agent's contacts. An edit sends the
/// fields that changed from what the editor started with (`base`), with
/// that version's etag; when the source changed meanwhile it refuses, and
/// Ringside fetches the current version, merges
/// (`ringside_core::contacts::merge`) and sends once more.
pub(super) async fn save(
    id: Option<String>,
    draft: Draft,
    base: Option<Draft>,
    etag: Option<String>,
) -> SaveAnswer {
    let Some(me) = google_agent() else {
        return SaveAnswer::SignedOut;
    };
    if load(&me).await.is_err() {
        return SaveAnswer::Failed {
            key: "contactsStoreFailed".into(),
            detail: String::new(),
        };
    }
    let started = epoch();
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
    let parse = |body: &str| -> Option<StoredContact> {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        ringside_core::contacts::from_person(Source::Google, &v)
    };
    let Some(stored) = stored else {
        let url = format!(
            "{}/people:createContact?personFields={PERSON_FIELDS}",
            roots.people
        );
        let a = match api_send(None, &url, Some(&body(None, &mine, None))).await {
            Ok(a) => a,
            Err(e) => return api_failed(e),
        };
        return match (a.status, parse(&a.body)) {
            (200, Some(c)) => {
                keep(&c, started, &me).await;
                SaveAnswer::Saved {
                    contact: ContactHit::from(&c),
                    lost: vec![],
                }
            }
            (status, _) => http_failed(status),
        };
    };
    // The editor's starting point; without one, the stored version.
    let base = base.unwrap_or_else(|| Draft::of(&stored));
    let mut etag = etag.unwrap_or_else(|| stored.etag.clone());
    let mut from = base.clone();
    let mut target = mine.clone();
    let mut lost = vec![];
    for round in 0..2 {
        let fields = merge::changed_fields(&from, &target);
        if fields.is_empty() {
            // Nothing to send (or the merge left nothing of the agent's).
            let mut hit = ContactHit::from(&stored);
            hit.name = target.name.clone();
            return SaveAnswer::Saved { contact: hit, lost };
        }
        let url = format!(
            "{}/{}:updateContact?updatePersonFields={fields}&personFields={PERSON_FIELDS}",
            roots.people, stored.resource
        );
        let sent = body(Some(&stored), &target, Some(&etag));
        let a = match api_send(Some("PATCH"), &url, Some(&sent)).await {
            Ok(a) => a,
            Err(e) => return api_failed(e),
        };
        if a.status == 200 {
            return match parse(&a.body) {
                Some(c) => {
                    keep(&c, started, &me).await;
                    SaveAnswer::Saved {
                        contact: ContactHit::from(&c),
                        lost,
                    }
                }
                None => http_failed(a.status),
            };
        }
        if a.status == 404 {
            forget_one(&stored.id, started, &me).await;
            return SaveAnswer::Gone;
        }
        if round > 0 || !merge::is_stale_etag(a.status, &a.body) {
            return http_failed(a.status);
        }
        // Someone changed it meanwhile: the current version, then the merge.
        let get = format!(
            "{}/{}?personFields={PERSON_FIELDS}",
            roots.people, stored.resource
        );
        let g = match api_get(&get).await {
            Ok(g) => g,
            Err(e) => return api_failed(e),
        };
        let theirs = match (g.status, parse(&g.body)) {
            (200, Some(c)) => c,
            (404, _) => {
                forget_one(&stored.id, started, &me).await;
                return SaveAnswer::Gone;
            }
            (status, _) => return http_failed(status),
        };
        let current = Draft::of(&theirs);
        let merged = merge::merge(&base, &mine, &current);
        lost = merged.lost;
        etag = theirs.etag.clone();
        from = current;
        target = merged.draft;
    }
    SaveAnswer::Failed {
        key: "contactChangedAgain".into(),
        detail: String::new(),
    }
}
